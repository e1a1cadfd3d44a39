/* Limits between accept and fork: per-source token buckets. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>


#include "addr.h"
#include "config.h"
#include "limit.h"
#include "service.h"

/* Slots per limiter, a power of two, and how far a client is looked for. */
#define RL_SLOTS	1024
#define RL_PROBE	8
/* Tokens are counted in thousandths, so that refills per millisecond are whole. */
#define RL_UNIT		1000

struct rl_slot {
	uint8_t		 key[17];
	uint8_t		 keylen;	/* 0: empty */
	uint32_t	 tokens;	/* in RL_UNITs */
	uint64_t	 last_ms;	/* when tokens was last brought up to date */
};

struct ratelimit {
	unsigned	 rate;
	unsigned	 prefix4;
	unsigned	 prefix6;
	struct rl_slot	*slots;		/* allocated at the first datagram */
};

struct ratelimit *
ratelimit_new(unsigned rate, unsigned prefix4, unsigned prefix6)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (rl == NULL)
		return NULL;
	rl->rate = rate;
	rl->prefix4 = prefix4 > 32 ? 32 : prefix4;
	rl->prefix6 = prefix6 > 128 ? 128 : prefix6;
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->slots);
	free(rl);
}

static void
mask_bits(uint8_t *a, size_t len, unsigned bits)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			a[i] &= (uint8_t)(0xff << (8 - bits));
			bits = 0;
		}
	}
}

size_t
ratelimit_key(const struct sockaddr *sa, unsigned prefix4, unsigned prefix6,
    uint8_t out[17])
{
	const struct in6_addr *a6;

	if (sa->sa_family == AF_INET6) {
		a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (!IN6_IS_ADDR_V4MAPPED(a6)) {
			out[0] = AF_INET6;
			memcpy(out + 1, a6, 16);
			mask_bits(out + 1, 16, prefix6);
			return 17;
		}
		/* An IPv4 client on a dual-stack socket is an IPv4 client. */
		out[0] = AF_INET;
		memcpy(out + 1, &a6->s6_addr[12], 4);
	} else {
		out[0] = AF_INET;
		memcpy(out + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
	mask_bits(out + 1, 4, prefix4);
	return 5;
}

/* Bring a slot's bucket up to now: rate tokens a second, at most one second's worth. */
static void
rl_refill(const struct ratelimit *rl, struct rl_slot *s, uint64_t now_ms)
{
	uint64_t full = (uint64_t)rl->rate * RL_UNIT, t;

	if (now_ms <= s->last_ms)
		return;
	t = s->tokens + (now_ms - s->last_ms) * rl->rate;
	s->tokens = (uint32_t)(t > full ? full : t);
	s->last_ms = now_ms;
}

/*
 * The slot of key: found within RL_PROBE slots of its home, or else the
 * stalest of them, handed over to this client with a full bucket.
 */
static struct rl_slot *
rl_slot(struct ratelimit *rl, const uint8_t *key, size_t keylen,
    uint64_t now_ms)
{
	size_t	 home = (size_t)addr_keyed_hash(key, keylen), i;
	struct rl_slot *s, *victim = NULL;

	for (i = 0; i < RL_PROBE; i++) {
		s = &rl->slots[(home + i) & (RL_SLOTS - 1)];
		if (s->keylen == keylen && memcmp(s->key, key, keylen) == 0)
			return s;
		if (victim == NULL || s->keylen == 0 ||
		    (victim->keylen != 0 && s->last_ms < victim->last_ms))
			victim = s;
	}
	memcpy(victim->key, key, keylen);
	victim->keylen = (uint8_t)keylen;
	victim->tokens = (uint32_t)((uint64_t)rl->rate * RL_UNIT);
	victim->last_ms = now_ms;
	return victim;
}

bool
ratelimit_take(struct ratelimit *rl, const struct sockaddr *sa,
    uint64_t now_ms)
{
	uint8_t		 key[17];
	size_t		 keylen;
	struct rl_slot	*s;

	if (rl == NULL || rl->rate == 0)
		return true;
	if (rl->slots == NULL &&
	    (rl->slots = calloc(RL_SLOTS, sizeof(*rl->slots))) == NULL)
		return true;	/* out of memory: serve rather than refuse all */
	keylen = ratelimit_key(sa, rl->prefix4, rl->prefix6, key);
	s = rl_slot(rl, key, keylen, now_ms);
	rl_refill(rl, s, now_ms);
	if (s->tokens < RL_UNIT)
		return false;
	s->tokens -= RL_UNIT;
	return true;
}

bool
limits_source_ok(const struct service *svc, int proto,
    const struct sockaddr *sa, uint64_t now_ms)
{
	struct svc_state *st = svc->state;
	struct ratelimit **rl = proto == PROTO_TCP ? &st->rl_tcp : &st->rl_udp;
	unsigned rate = proto == PROTO_TCP ? svc->source_rate_tcp :
	    svc->source_rate_udp;

	if (rate == 0)
		return true;
	if (*rl == NULL &&
	    (*rl = ratelimit_new(rate, svc->source_prefix4,
	    svc->source_prefix6)) == NULL)
		return true;
	if (ratelimit_take(*rl, sa, now_ms))
		return true;
	service_refuse(svc, SR_rate, sa, "source rate");
	return false;
}
