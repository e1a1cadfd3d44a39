/* Limits between accept and fork: who may connect, how many at once, and how fast. */
#ifndef HELLOD_LIMIT_H
#define HELLOD_LIMIT_H

#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A rate per client: a token bucket for each source address, the
 * addresses grouped by prefix (so that one IPv6 /64 is one client).
 * The table has a fixed number of slots; when it is full, the client
 * seen longest ago gives up its slot, so memory stays bounded however
 * many sources a flood forges.  A forgotten client starts again with a
 * full bucket: the limit is exact for the busiest clients, which is where
 * it matters.
 */
struct ratelimit;

/*
 * A limiter of rate events per second per client (burst: one second's
 * worth), grouping IPv4 addresses by prefix4 bits and IPv6 ones by
 * prefix6.  Returns NULL when out of memory.
 */
struct ratelimit *ratelimit_new(unsigned rate, unsigned prefix4,
	    unsigned prefix6);
void	ratelimit_free(struct ratelimit *rl);

/* Take one token for the client sa at monotonic time now_ms; false when it has none. */
bool	ratelimit_take(struct ratelimit *rl, const struct sockaddr *sa,
	    uint64_t now_ms);

/* The client key of sa: family and address cut to its prefix, in out (17 bytes). */
size_t	ratelimit_key(const struct sockaddr *sa, unsigned prefix4,
	    unsigned prefix6, uint8_t out[17]);

/*
 * A token bucket of rate events a second (burst: one second's worth),
 * in thousandths of a token so that each millisecond refills a whole
 * number.  A zeroed bucket is full at its first use.
 */
struct bucket {
	uint64_t	 tokens;
	uint64_t	 last_ms;
};

/* Take a token at now_ms; false when there is none.  A rate of 0 is unlimited. */
bool	bucket_take(struct bucket *b, unsigned rate, uint64_t now_ms);

/* A client: its address cut to the service's source_prefix (ratelimit_key). */
#define CLIENT_KEYLEN	17
struct client {
	uint8_t		 key[CLIENT_KEYLEN];
	uint8_t		 keylen;
};

/*
 * The live TCP connections of each client of a service (per_source).
 * The table grows as needed and holds only clients with a live
 * connection, so it is bounded by max_children.
 */
struct conctab;
unsigned conctab_get(const struct conctab *t, const struct client *cl);
/* One more for cl, making *tp at first use; 0, or -1 when out of memory. */
int	conctab_add(struct conctab **tp, const struct client *cl);
/* One less for cl (its entry goes with its last). */
void	conctab_del(struct conctab *t, const struct client *cl);
/* Clients with a live connection. */
size_t	conctab_clients(const struct conctab *t);
void	conctab_free(struct conctab *t);

struct service;

/* The client sa is, for svc (its source_prefix). */
void	client_of(const struct service *svc, const struct sockaddr *sa,
	    struct client *cl);

/*
 * The checks of a connection (TCP, between accept and fork) or a
 * datagram (UDP, before the handler) from client sa (cl for TCP), in
 * order: deny, allow, per_source and max_connections (TCP), then the
 * rates, source_rate and rate, so that a refused client spends no
 * token.  Returns -1 to serve, or the reason to refuse (an enum
 * service_refusal), which the caller counts and logs.
 */
int	limits_admit(const struct service *svc, int proto,
	    const struct sockaddr *sa, const struct client *cl, uint64_t now_ms);

#endif
