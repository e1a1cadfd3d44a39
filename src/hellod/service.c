/* A service's runtime state: counters, limiters, log throttle; one table; what a reload keeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "limit.h"
#include "log.h"
#include "service.h"
#include "util.h"

#define SERVICE_NAME(name)	#name,
static const char *const counter_names[] = { SERVICE_COUNTERS(SERVICE_NAME) };
static const char *const refusal_names[] = { SERVICE_REFUSALS(SERVICE_NAME) };
#undef SERVICE_NAME

/* Refusals of every service, a slot per second of the last minute. */
static struct {
	time_t		 second[60];
	unsigned long	 count[60];
} minute;

static void
minute_note(time_t now)
{
	size_t	 i = (size_t)now % 60;

	if (minute.second[i] != now) {
		minute.second[i] = now;
		minute.count[i] = 0;
	}
	minute.count[i]++;
}

unsigned long
service_refused_minute(time_t now)
{
	unsigned long n = 0;
	size_t	 i;

	for (i = 0; i < 60; i++)
		if (minute.second[i] > now - 60 && minute.second[i] <= now)
			n += minute.count[i];
	return n;
}

/* Refusal lines logged per service and second, at most. */
#define REFUSE_LOG_BUDGET	5

/*
 * Written at every connection, read by no child: in the daemon's own
 * pages (util_slab), where its writes after a fork are no copy-on-write
 * faults, and a thousand services' states are no heap for fork to copy.
 */
static struct util_slab state_slab = UTIL_SLAB(struct svc_state);

static struct svc_state *
state_new(const char *name)
{
	struct svc_state *st = util_slab_alloc(&state_slab);

	if (st == NULL)
		return NULL;
	strlcpy(st->name, name, sizeof(st->name));
	st->refs = 1;
	return st;
}

/* Forget the limiters of st: they measure what the old settings asked. */
static void
state_reset_limits(struct svc_state *st)
{
	ratelimit_free(st->rl_tcp);
	ratelimit_free(st->rl_udp);
	st->rl_tcp = st->rl_udp = NULL;
	memset(&st->rate, 0, sizeof(st->rate));
}

void
service_ref(struct svc_state *st)
{
	st->refs++;
}

void
service_unref(struct svc_state *st)
{
	if (st != NULL && --st->refs == 0) {
		state_reset_limits(st);
		conctab_free(st->conc);
		sources_free(st->sources);
		util_slab_free(&state_slab, st);
	}
}

/*
 * What a reload keeps of a service whose name it keeps: the counters and
 * the count of live children, of the service and per client, always (a
 * status must not jump back to zero, and max_connections and per_source
 * must count the children still running); the rates' buckets only while
 * they measure the same thing.
 */
static void
service_keep(struct svc_state *st, const struct service *prev,
    const struct service *svc)
{
	if (prev->source_rate_tcp != svc->source_rate_tcp ||
	    prev->source_rate_udp != svc->source_rate_udp ||
	    prev->rate != svc->rate ||
	    prev->source_prefix4 != svc->source_prefix4 ||
	    prev->source_prefix6 != svc->source_prefix6)
		state_reset_limits(st);
}

int
service_attach(struct config *conf, const struct config *old)
{
	size_t	 i;

	for (i = 0; i < conf->nservices; i++) {
		struct service *svc = &conf->services[i];
		struct service *prev = old != NULL ? config_find(old, svc->name) : NULL;

		if (prev != NULL && prev->state != NULL) {
			svc->state = prev->state;
			service_ref(svc->state);
			service_keep(svc->state, prev, svc);
		} else if ((svc->state = state_new(svc->name)) == NULL)
			return -1;
	}
	return 0;
}

void
service_release(struct config *conf)
{
	size_t	 i;

	for (i = 0; i < conf->nservices; i++) {
		service_unref(conf->services[i].state);
		conf->services[i].state = NULL;
	}
}

void
service_refuse(const struct service *svc, enum service_refusal reason,
    const struct sockaddr *sa, const char *why)
{
	service_refuse_via(svc, reason, sa, NULL, why);
}

void
service_refuse_via(const struct service *svc, enum service_refusal reason,
    const struct sockaddr *sa, const struct sockaddr *via, const char *why)
{
	struct svc_state *st = svc->state;
	char	 peer[ADDR_STRLEN], detail[LOG_Q_MAX + 48], vias[ADDR_STRLEN + 8];
	time_t	 now = time(NULL);

	st->count[SC_refused]++;
	st->refused[reason]++;
	minute_note(now);
	sources_note(svc, sa, SOURCE_REFUSED);
	if (now != st->log_second) {
		st->log_second = now;
		st->log_budget = REFUSE_LOG_BUDGET;
	}
	if (st->log_budget == 0) {
		st->log_suppressed++;
		return;
	}
	st->log_budget--;
	if (sa != NULL)
		addr_format_peer(sa, svc->log_peer, peer, sizeof(peer));
	else
		strlcpy(peer, "-", sizeof(peer));
	vias[0] = detail[0] = '\0';
	if (via != NULL) {
		strlcpy(vias, " via=", sizeof(vias));
		addr_format_host(via, vias + 5, sizeof(vias) - 5);
	}
	if (why != NULL)
		snprintf(detail, sizeof(detail), " detail=%s", log_q(why));
	if (st->log_suppressed > 0)
		snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
		    " suppressed=%lu", st->log_suppressed);
	st->log_suppressed = 0;
	log_notice("%s: refused peer=%s%s reason=%s%s", svc->name, peer, vias,
	    refusal_names[reason], detail);
}

char *
service_format(const struct service *svc, char *buf, size_t len)
{
	const struct svc_state *st = svc->state;
	size_t	 i, used;
	int	 n;

	n = snprintf(buf, len, "active=%u", st != NULL ? st->active : 0);
	used = n > 0 ? (size_t)n : 0;
	for (i = 0; i < SC_COUNT && used < len; i++) {
		n = snprintf(buf + used, len - used, " %s=%llu", counter_names[i],
		    st != NULL ? (unsigned long long)st->count[i] : 0ULL);
		used += n > 0 ? (size_t)n : 0;
	}
	for (i = 0; i < SR_COUNT && used < len; i++) {
		n = snprintf(buf + used, len - used, " refused_%s=%llu",
		    refusal_names[i],
		    st != NULL ? (unsigned long long)st->refused[i] : 0ULL);
		used += n > 0 ? (size_t)n : 0;
	}
	return buf;
}

void
service_json(const struct service *svc, struct buf *b)
{
	const struct svc_state *st = svc->state;
	size_t	 i;

	buf_printf(b, "\"active\":%u", st != NULL ? st->active : 0);
	for (i = 0; i < SC_COUNT; i++)
		buf_printf(b, ",\"%s\":%llu", counter_names[i],
		    st != NULL ? (unsigned long long)st->count[i] : 0ULL);
	for (i = 0; i < SR_COUNT; i++)
		buf_printf(b, ",\"refused_%s\":%llu", refusal_names[i],
		    st != NULL ? (unsigned long long)st->refused[i] : 0ULL);
}
