/* Unit tests: per-source token buckets (source_rate, source_prefix). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "limit.h"

static struct sockaddr_storage
sa_of(const char *a)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(a, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, a, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, a, &s4->sin_addr), 1);
	}
	return ss;
}

static bool
take(struct ratelimit *rl, const char *a, uint64_t now)
{
	struct sockaddr_storage ss = sa_of(a);

	return ratelimit_take(rl, (struct sockaddr *)&ss, now);
}

/* How many of n back-to-back events at time now get through. */
static unsigned
burst(struct ratelimit *rl, const char *a, unsigned n, uint64_t now)
{
	unsigned ok = 0;

	while (n-- > 0)
		ok += take(rl, a, now);
	return ok;
}

static void
test_burst_then_refill(void **state)
{
	struct ratelimit *rl = ratelimit_new(100, 32, 64);

	(void)state;
	/* A second's worth at once, then nothing. */
	assert_int_equal(burst(rl, "192.0.2.1", 150, 1000), 100);
	/* 10 ms bring one token back, 500 ms fifty. */
	assert_int_equal(burst(rl, "192.0.2.1", 5, 1010), 1);
	assert_int_equal(burst(rl, "192.0.2.1", 80, 1510), 50);
	/* A long silence refills to the burst, not beyond. */
	assert_int_equal(burst(rl, "192.0.2.1", 500, 60000), 100);
	ratelimit_free(rl);
}

static void
test_clients_independent(void **state)
{
	struct ratelimit *rl = ratelimit_new(10, 32, 64);

	(void)state;
	assert_int_equal(burst(rl, "192.0.2.1", 50, 5000), 10);
	/* The flooder's neighbour, and an IPv6 client, keep their share. */
	assert_int_equal(burst(rl, "192.0.2.2", 10, 5000), 10);
	assert_int_equal(burst(rl, "2001:db8::1", 10, 5000), 10);
	ratelimit_free(rl);
}

static void
test_prefixes(void **state)
{
	struct ratelimit *rl = ratelimit_new(10, 24, 64);
	uint8_t	 k[17];
	struct sockaddr_storage ss = sa_of("::ffff:192.0.2.77");

	(void)state;
	/* One IPv6 /64 is one client, and with prefix 24 one IPv4 /24. */
	assert_int_equal(burst(rl, "2001:db8:1:2::1", 6, 100), 6);
	assert_int_equal(burst(rl, "2001:db8:1:2:ffff::9", 6, 100), 4);
	assert_int_equal(burst(rl, "2001:db8:1:3::1", 6, 100), 6);
	assert_int_equal(burst(rl, "198.51.100.1", 6, 100), 6);
	assert_int_equal(burst(rl, "198.51.100.200", 6, 100), 4);
	/* An IPv4-mapped client is keyed as the IPv4 client it is. */
	assert_int_equal(ratelimit_key((struct sockaddr *)&ss, 24, 64, k), 5);
	assert_int_equal(k[0], AF_INET);
	assert_memory_equal(k + 1, "\xc0\x00\x02\x00", 4);
	ratelimit_free(rl);
}

static void
test_odd_prefix(void **state)
{
	struct sockaddr_storage ss = sa_of("2001:db8:ffff::1");
	uint8_t	 k[17];

	(void)state;
	assert_int_equal(ratelimit_key((struct sockaddr *)&ss, 32, 28, k), 17);
	assert_memory_equal(k + 1, "\x20\x01\x0d\xb0\x00\x00\x00\x00", 8);
}

/*
 * A flood from forged sources fills the table (its size is fixed), and a
 * real client that keeps talking is never starved by it: either it keeps
 * its bucket (a second's burst, then its rate), or it was the stalest in
 * its neighbourhood and starts over with a full one.
 */
static void
test_flood_bounded(void **state)
{
	struct ratelimit *rl = ratelimit_new(5, 32, 64);
	char	 a[32];
	unsigned i, ok = 0;

	(void)state;
	for (i = 0; i < 100000; i++) {
		snprintf(a, sizeof(a), "10.%u.%u.%u", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		assert_true(take(rl, a, 1000 + i / 100));
		if (i % 1000 == 0)
			ok += take(rl, "192.0.2.1", 1000 + i / 100);
	}
	/* Over the simulated second: at least its burst and its refill. */
	assert_true(ok >= 10);
	ratelimit_free(rl);
}

static void
test_unlimited(void **state)
{
	struct ratelimit *rl = ratelimit_new(0, 32, 64);

	(void)state;
	assert_int_equal(burst(rl, "192.0.2.1", 10000, 1), 10000);
	assert_true(take(NULL, "192.0.2.1", 1));
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refill),
		cmocka_unit_test(test_clients_independent),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_odd_prefix),
		cmocka_unit_test(test_flood_bounded),
		cmocka_unit_test(test_unlimited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
