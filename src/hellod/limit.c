/* Limits between accept and fork: who may connect, how many at once, and how fast. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>


#include "acl.h"
#include "addr.h"
#include "config.h"
#include "limit.h"
#include "service.h"
#include "util.h"

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
	util_parent_free(rl->slots);
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
	    (rl->slots = util_parent_calloc(RL_SLOTS, sizeof(*rl->slots))) == NULL)
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
bucket_take(struct bucket *b, unsigned rate, uint64_t now_ms)
{
	uint64_t full = (uint64_t)rate * RL_UNIT;

	if (rate == 0)
		return true;
	if (b->last_ms == 0)
		b->tokens = full;	/* a new bucket is full */
	else if (now_ms > b->last_ms)
		b->tokens += (now_ms - b->last_ms) * rate;
	if (b->tokens > full)
		b->tokens = full;
	b->last_ms = now_ms;
	if (b->tokens < RL_UNIT)
		return false;
	b->tokens -= RL_UNIT;
	return true;
}

/*
 * The live connections of each client: open addressing on the client's
 * key, linear probing, at most half full, an entry gone when its count
 * is.  Only clients with a live connection have one, so the table never
 * holds more than max_children entries and needs no eviction.
 */
struct conc_slot {
	uint8_t		 key[CLIENT_KEYLEN];
	uint8_t		 keylen;	/* 0: empty */
	unsigned	 count;
};

struct conctab {
	struct conc_slot *slots;
	size_t		 mask;
	size_t		 used;
};

static size_t
conc_home(const struct conctab *t, const struct client *cl)
{
	return (size_t)addr_keyed_hash(cl->key, cl->keylen) & t->mask;
}

/* The slot of cl: its own, or the empty one it would take. */
static struct conc_slot *
conc_find(const struct conctab *t, const struct client *cl)
{
	size_t	 i = conc_home(t, cl);

	while (t->slots[i].keylen != 0 && (t->slots[i].keylen != cl->keylen ||
	    memcmp(t->slots[i].key, cl->key, cl->keylen) != 0))
		i = (i + 1) & t->mask;
	return &t->slots[i];
}

unsigned
conctab_get(const struct conctab *t, const struct client *cl)
{
	const struct conc_slot *s;

	if (t == NULL || t->slots == NULL)
		return 0;
	s = conc_find(t, cl);
	return s->keylen != 0 ? s->count : 0;
}

static int
conc_grow(struct conctab *t)
{
	struct conc_slot *old = t->slots;
	size_t	 i, oldsize = old != NULL ? t->mask + 1 : 0;
	size_t	 size = oldsize == 0 ? 16 : oldsize * 2;

	if ((t->slots = util_parent_calloc(size, sizeof(*t->slots))) == NULL) {
		t->slots = old;
		return -1;
	}
	t->mask = size - 1;
	for (i = 0; i < oldsize; i++)
		if (old[i].keylen != 0) {
			struct client cl;

			memcpy(cl.key, old[i].key, old[i].keylen);
			cl.keylen = old[i].keylen;
			*conc_find(t, &cl) = old[i];
		}
	util_parent_free(old);
	return 0;
}

int
conctab_add(struct conctab **tp, const struct client *cl)
{
	struct conctab *t = *tp;
	struct conc_slot *s;

	if (t == NULL && (t = *tp = calloc(1, sizeof(*t))) == NULL)
		return -1;
	if ((t->used + 1) * 2 > (t->slots != NULL ? t->mask + 1 : 0) &&
	    conc_grow(t) == -1)
		return -1;
	s = conc_find(t, cl);
	if (s->keylen == 0) {
		memcpy(s->key, cl->key, cl->keylen);
		s->keylen = cl->keylen;
		s->count = 0;
		t->used++;
	}
	s->count++;
	return 0;
}

void
conctab_del(struct conctab *t, const struct client *cl)
{
	struct conc_slot *s;
	size_t	 i, j, home;

	if (t == NULL || t->slots == NULL)
		return;
	s = conc_find(t, cl);
	if (s->keylen == 0 || --s->count > 0)
		return;
	/* Backward-shift deletion: no probe chain breaks. */
	i = (size_t)(s - t->slots);
	s->keylen = 0;
	t->used--;
	for (j = i;;) {
		struct client moved;

		j = (j + 1) & t->mask;
		if (t->slots[j].keylen == 0)
			return;
		memcpy(moved.key, t->slots[j].key, t->slots[j].keylen);
		moved.keylen = t->slots[j].keylen;
		home = conc_home(t, &moved);
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j].keylen = 0;
		i = j;
	}
}

size_t
conctab_clients(const struct conctab *t)
{
	return t == NULL ? 0 : t->used;
}

void
conctab_free(struct conctab *t)
{
	if (t != NULL)
		util_parent_free(t->slots);
	free(t);
}

void
client_of(const struct service *svc, const struct sockaddr *sa,
    struct client *cl)
{
	cl->keylen = (uint8_t)ratelimit_key(sa, svc->source_prefix4,
	    svc->source_prefix6, cl->key);
}

/* source_rate: true when the client sa may go on for proto. */
static bool
source_rate_ok(const struct service *svc, int proto, const struct sockaddr *sa,
    uint64_t now_ms)
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
		return true;	/* out of memory: serve rather than refuse all */
	return ratelimit_take(*rl, sa, now_ms);
}

int
limits_admit(const struct service *svc, int proto, const struct sockaddr *sa,
    const struct client *cl, uint64_t now_ms)
{
	struct svc_state *st = svc->state;

	if (acl_match(&svc->deny, sa))
		return SR_deny;
	if (svc->allow.n > 0 && !acl_match(&svc->allow, sa))
		return SR_allow;
	if (proto == PROTO_TCP) {
		if (svc->per_source != 0 &&
		    conctab_get(st->conc, cl) >= svc->per_source)
			return SR_per_source;
		if (svc->max_connections != 0 &&
		    st->active >= svc->max_connections)
			return SR_max_connections;
	}
	/* The rates last: a client refused for another reason spends no token. */
	if (!source_rate_ok(svc, proto, sa, now_ms))
		return SR_source_rate;
	if (!bucket_take(&st->rate, svc->rate, now_ms))
		return SR_rate;
	return -1;
}
