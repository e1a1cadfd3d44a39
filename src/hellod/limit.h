/* Limits between accept and fork: per-source token buckets. */
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

struct service;

/*
 * The service's source_rate for one protocol: true when the client sa may
 * go on; false when it is over its rate (counted and logged here).
 */
bool	limits_source_ok(const struct service *svc, int proto,
	    const struct sockaddr *sa, uint64_t now_ms);

#endif
