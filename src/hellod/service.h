/* A service's runtime state: counters, limiters, log throttle; one table; what a reload keeps. */
#ifndef HELLOD_SERVICE_H
#define HELLOD_SERVICE_H

#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

/*
 * The counters of a service, in the order every formatter shows them
 * (the control socket, SIGUSR1, sd_notify's STATUS=).  A new counter is
 * one line here; service_format shows it as NAME=N.
 */
#define SERVICE_COUNTERS(X)						\
	X(accepted)		/* TCP connections (UDP sockets) handed to a child */ \
	X(datagrams_in)		/* UDP datagrams received */		\
	X(datagrams_out)	/* UDP datagrams sent in reply */	\
	X(bytes_in)		/* bytes received, TCP (as children report) and UDP */ \
	X(bytes_out)		/* bytes sent */			\
	X(refused)		/* connections closed or datagrams dropped unserved */

/*
 * Why a connection or a datagram was refused: each is counted as
 * refused_NAME (and in refused), and logged.  A new reason is one line.
 */
#define SERVICE_REFUSALS(X)						\
	X(deny)			/* the client is in deny */		\
	X(allow)		/* allow is set, and the client not in it */ \
	X(max_connections)	/* TCP: the service's connections at once */ \
	X(per_source)		/* TCP: the client's connections at once */ \
	X(rate)			/* the service's rate */		\
	X(source_rate)		/* the client's rate */			\
	X(max_children)		/* TCP: no process for a child (fork failed) */ \
	X(guard)		/* UDP: a source that must not be answered */ \
	X(proxy_untrusted)	/* TCP: proxy_protocol, from outside proxy_from */ \
	X(proxy_header)		/* TCP: no valid PROXY header in time */

#define SERVICE_ENUM(name)	SC_##name,
enum service_counter { SERVICE_COUNTERS(SERVICE_ENUM) SC_COUNT };
#undef SERVICE_ENUM
#define SERVICE_ENUM(name)	SR_##name,
enum service_refusal { SERVICE_REFUSALS(SERVICE_ENUM) SR_COUNT };
#undef SERVICE_ENUM

#include "limit.h"
#include "sources.h"

/*
 * The state of one service, kept across a reload that keeps the
 * service's name (see service_attach), and alive while a child of it is.
 */
struct svc_state {
	char		 name[SERVICE_NAME_MAX + 1];
	unsigned	 refs;		/* the service and each of its live children */
	unsigned	 active;	/* TCP children alive */
	uint64_t	 count[SC_COUNT];
	uint64_t	 refused[SR_COUNT];
	struct ratelimit *rl_tcp;	/* source_rate buckets, made at first use */
	struct ratelimit *rl_udp;
	struct bucket	 rate;		/* the service's rate */
	struct conctab	*conc;		/* per_source: live connections per client */
	struct bucket	 refuse_lines;	/* refuse_message lines sent */
	struct sources	*sources;	/* the busiest clients, for the control socket */
	time_t		 log_second;	/* the throttle of refusal log lines */
	unsigned	 log_budget;
	unsigned long	 log_suppressed;
};

/*
 * Give every service of conf its state: the state of the service of the
 * same name in old (NULL at start), or a new one.  What a reload keeps is
 * decided here, in service_keep().  Returns 0, or -1 when out of memory
 * (conf then holds states to be released all the same).
 */
int	service_attach(struct config *conf, const struct config *old);

/* Drop conf's references to its services' states (before config_free). */
void	service_release(struct config *conf);

/* A reference more for a live child; service_unref drops one, freeing with the last. */
void	service_ref(struct svc_state *st);
void	service_unref(struct svc_state *st);

/* Refusals of all services in the minute up to now. */
unsigned long service_refused_minute(time_t now);

/* Count one of svc's counters (n of it). */
static inline void
service_count(const struct service *svc, enum service_counter c)
{
	svc->state->count[c]++;
}

static inline void
service_add(const struct service *svc, enum service_counter c, uint64_t n)
{
	svc->state->count[c] += n;
}

/*
 * A refusal of a client at sa for reason: counted, and logged as
 * "SERVICE: refused peer=PEER reason=WHY", but no more than a few lines a
 * second per service (a flood cannot fill the log): the rest are counted
 * and reported with the next line that gets through.  why, when not
 * NULL, is a detail logged after the reason (detail="..."); sa may be
 * NULL (peer unknown).
 */
void	service_refuse(const struct service *svc, enum service_refusal reason,
	    const struct sockaddr *sa, const char *why);

/* The same for a client whose balancer at via sent a PROXY header: "via=ADDR" too. */
void	service_refuse_via(const struct service *svc, enum service_refusal reason,
	    const struct sockaddr *sa, const struct sockaddr *via, const char *why);

/*
 * The counters of svc as "active=N accepted=N ... refused_REASON=N",
 * every counter of the tables above, into buf.  Returns buf.
 */
char	*service_format(const struct service *svc, char *buf, size_t len);

/* The same as the members of a JSON object: "\"active\":N,...". */
struct buf;
void	service_json(const struct service *svc, struct buf *b);

#endif
