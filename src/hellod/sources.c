/* A service's clients as the control socket shows them: the busiest, in a table of bounded size. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "limit.h"
#include "service.h"
#include "sources.h"
#include "util.h"

/* Clients kept per service (a power of two), and how far one is looked for. */
#define SRC_SLOTS	256
#define SRC_PROBE	8
/* The rate is over two windows of this many milliseconds. */
#define SRC_WINDOW_MS	10000

struct src_slot {
	struct client	 cl;		/* keylen 0: empty */
	uint64_t	 accepted;
	uint64_t	 datagrams;
	uint64_t	 refused;
	uint64_t	 last_ms;
	uint64_t	 win_start;	/* the current window began then */
	uint32_t	 win_now;	/* events in it */
	uint32_t	 win_before;	/* events in the window before */
};

struct sources {
	struct src_slot	 slots[SRC_SLOTS];
};

/* The slot of cl, or the stalest of its neighbourhood, handed over to it. */
static struct src_slot *
src_slot(struct sources *t, const struct client *cl)
{
	size_t	 home = (size_t)addr_keyed_hash(cl->key, cl->keylen), i;
	struct src_slot *s, *victim = NULL;

	for (i = 0; i < SRC_PROBE; i++) {
		s = &t->slots[(home + i) & (SRC_SLOTS - 1)];
		if (s->cl.keylen == cl->keylen &&
		    memcmp(s->cl.key, cl->key, cl->keylen) == 0)
			return s;
		if (victim == NULL || s->cl.keylen == 0 ||
		    (victim->cl.keylen != 0 && s->last_ms < victim->last_ms))
			victim = s;
	}
	memset(victim, 0, sizeof(*victim));
	victim->cl = *cl;
	return victim;
}

/* Bring s's windows up to now. */
static void
src_windows(struct src_slot *s, uint64_t now)
{
	if (now < s->win_start + SRC_WINDOW_MS)
		return;
	s->win_before = now < s->win_start + 2 * SRC_WINDOW_MS ? s->win_now : 0;
	s->win_now = 0;
	s->win_start = now - (now % SRC_WINDOW_MS);
}

void
sources_note(const struct service *svc, const struct sockaddr *sa,
    enum source_event ev)
{
	struct svc_state *st = svc->state;
	struct src_slot *s;
	struct client cl;
	uint64_t now;

	if (sa == NULL || (st->sources == NULL &&
	    (st->sources = util_parent_calloc(1, sizeof(*st->sources))) == NULL))
		return;
	client_of(svc, sa, &cl);
	now = util_now_ms();
	s = src_slot(st->sources, &cl);
	src_windows(s, now);
	s->last_ms = now;
	s->win_now++;
	switch (ev) {
	case SOURCE_ACCEPTED:
		s->accepted++;
		break;
	case SOURCE_DATAGRAM:
		s->datagrams++;
		break;
	case SOURCE_REFUSED:
		s->refused++;
		break;
	}
}

void
sources_free(struct sources *t)
{
	util_parent_free(t);
}

/* Events a second over the last window and the one before, weighted by time. */
static double
src_rate(const struct src_slot *s, uint64_t now)
{
	double	 frac;
	uint32_t before = s->win_before, cur = s->win_now;

	if (now >= s->win_start + 2 * SRC_WINDOW_MS)
		return 0;
	if (now >= s->win_start + SRC_WINDOW_MS) {
		before = cur;
		cur = 0;
		frac = (double)(now - s->win_start - SRC_WINDOW_MS) / SRC_WINDOW_MS;
	} else
		frac = (double)(now - s->win_start) / SRC_WINDOW_MS;
	return (before * (1 - frac) + cur) / (SRC_WINDOW_MS / 1000.0);
}

/* The client as the service's log_peer lets it be shown: its prefix, a hash, or "-". */
static void
src_name(const struct service *svc, const struct client *cl, char *buf,
    size_t len)
{
	char	 host[INET6_ADDRSTRLEN];
	uint8_t	 b[16];
	int	 family = cl->key[0] == AF_INET ? AF_INET : AF_INET6;

	if (svc->log_peer == LOG_PEER_NONE) {
		strlcpy(buf, "-", len);
		return;
	}
	if (svc->log_peer == LOG_PEER_HASH) {
		snprintf(buf, len, "h:%08x", (unsigned)(addr_keyed_hash(cl->key,
		    cl->keylen) & 0xffffffffu));
		return;
	}
	memset(b, 0, sizeof(b));
	memcpy(b, cl->key + 1, (size_t)cl->keylen - 1);
	inet_ntop(family, b, host, sizeof(host));
	snprintf(buf, len, "%s/%u", host, family == AF_INET ?
	    svc->source_prefix4 : svc->source_prefix6);
}

static int
row_cmp(const void *x, const void *y)
{
	const struct source_row *a = x, *b = y;

	if (a->live != b->live)
		return a->live > b->live ? -1 : 1;
	if (a->rate != b->rate)
		return a->rate > b->rate ? -1 : 1;
	if (a->accepted + a->datagrams != b->accepted + b->datagrams)
		return a->accepted + a->datagrams > b->accepted + b->datagrams ?
		    -1 : 1;
	return strcmp(a->client, b->client);
}

size_t
sources_rows(const struct config *conf, struct source_row **rowsp)
{
	struct source_row *rows = NULL, *nr;
	uint64_t now = util_now_ms();
	size_t	 i, j, n = 0;

	for (i = 0; i < conf->nservices; i++) {
		const struct service *svc = &conf->services[i];
		const struct sources *t = svc->state != NULL ?
		    svc->state->sources : NULL;

		for (j = 0; t != NULL && j < SRC_SLOTS; j++) {
			const struct src_slot *s = &t->slots[j];

			if (s->cl.keylen == 0)
				continue;
			if ((nr = util_grow(rows, n, sizeof(*rows))) == NULL)
				break;
			rows = nr;
			rows[n].service = svc->name;
			src_name(svc, &s->cl, rows[n].client, sizeof(rows[n].client));
			rows[n].live = conctab_get(svc->state->conc, &s->cl);
			rows[n].accepted = s->accepted;
			rows[n].datagrams = s->datagrams;
			rows[n].refused = s->refused;
			rows[n].rate = src_rate(s, now);
			n++;
		}
	}
	if (n > 1)
		qsort(rows, n, sizeof(*rows), row_cmp);
	*rowsp = rows;
	return n;
}
