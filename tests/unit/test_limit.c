/* Unit tests: the limits between accept and fork: rates, per-client counts, their order. */
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

#include "config.h"
#include "limit.h"
#include "service.h"

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

/* A service's rate: one second's worth at once, then rate a second. */
static void
test_bucket(void **state)
{
	struct bucket b = { 0, 0 };
	unsigned ok = 0, i;

	(void)state;
	for (i = 0; i < 20; i++)
		ok += bucket_take(&b, 10, 1000);
	assert_int_equal(ok, 10);
	assert_false(bucket_take(&b, 10, 1050));
	assert_true(bucket_take(&b, 10, 1100));	/* 100 ms: one token */
	assert_false(bucket_take(&b, 10, 1100));
	for (ok = 0, i = 0; i < 20; i++)
		ok += bucket_take(&b, 10, 60000);	/* a long pause: full, no more */
	assert_int_equal(ok, 10);
	assert_true(bucket_take(&b, 0, 60000));		/* unlimited */
}

static struct client
client(const char *a, unsigned p4, unsigned p6)
{
	struct sockaddr_storage ss = sa_of(a);
	struct client cl;

	cl.keylen = (uint8_t)ratelimit_key((struct sockaddr *)&ss, p4, p6, cl.key);
	return cl;
}

/*
 * Per-client counts of live connections: up, down, an entry gone with
 * its last connection, and many clients through growth and deletion.
 */
static void
test_conctab(void **state)
{
	struct conctab *t = NULL;
	struct client a = client("192.0.2.1", 32, 64), b = client("2001:db8::1", 32, 64);
	struct client c = client("2001:db8::2", 32, 64);	/* the same /64 as b */
	char	 text[32];
	int	 i;

	(void)state;
	assert_int_equal(conctab_get(t, &a), 0);
	assert_int_equal(conctab_add(&t, &a), 0);
	assert_int_equal(conctab_add(&t, &a), 0);
	assert_int_equal(conctab_add(&t, &b), 0);
	assert_int_equal(conctab_get(t, &a), 2);
	assert_int_equal(conctab_get(t, &c), 1);
	assert_int_equal(conctab_clients(t), 2);
	conctab_del(t, &a);
	conctab_del(t, &b);
	assert_int_equal(conctab_get(t, &a), 1);
	assert_int_equal(conctab_get(t, &b), 0);
	assert_int_equal(conctab_clients(t), 1);
	for (i = 0; i < 1000; i++) {
		struct client x;

		snprintf(text, sizeof(text), "10.0.%d.%d", i / 250, i % 250);
		x = client(text, 32, 64);
		assert_int_equal(conctab_add(&t, &x), 0);
		if (i % 3 == 0)
			conctab_del(t, &x);
	}
	assert_int_equal(conctab_clients(t), 1 + 1000 - 334);
	for (i = 0; i < 1000; i++) {
		struct client x;

		snprintf(text, sizeof(text), "10.0.%d.%d", i / 250, i % 250);
		x = client(text, 32, 64);
		assert_int_equal(conctab_get(t, &x), i % 3 == 0 ? 0 : 1);
		conctab_del(t, &x);
	}
	assert_int_equal(conctab_clients(t), 1);
	assert_int_equal(conctab_get(t, &a), 1);
	conctab_free(t);
}

static struct config *
load(const char *text)
{
	unsigned nerr = 0;
	struct config *conf = config_load_string("t.ini", text, NULL, NULL, &nerr);

	assert_non_null(conf);
	assert_int_equal(service_attach(conf, NULL), 0);
	return conf;
}

static int
admit(const struct service *svc, const char *a, uint64_t now)
{
	struct sockaddr_storage ss = sa_of(a);
	struct client cl;

	client_of(svc, (struct sockaddr *)&ss, &cl);
	return limits_admit(svc, PROTO_TCP, (struct sockaddr *)&ss, &cl, now);
}

/*
 * The checks in their order: deny wins over allow; no allow means all;
 * per_source and max_connections count live children; the rates come
 * last, so a client refused for another reason spends no token.
 */
static void
test_admit_order(void **state)
{
	struct config *conf = load("[s]\nprotocol = tcp\nport = 7\nhandler = echo\n"
	    "allow = 192.0.2.0/24 2001:db8::/32\ndeny = 192.0.2.66\n"
	    "per_source = 2\nmax_connections = 3\nrate = 4\n");
	struct service *svc = &conf->services[0];
	struct client cl;
	struct sockaddr_storage ss = sa_of("192.0.2.1");

	(void)state;
	assert_int_equal(admit(svc, "192.0.2.66", 1000), SR_deny);
	assert_int_equal(admit(svc, "::ffff:192.0.2.66", 1000), SR_deny);
	assert_int_equal(admit(svc, "198.51.100.1", 1000), SR_allow);
	assert_int_equal(admit(svc, "2001:db9::1", 1000), SR_allow);
	/* Two live connections of 192.0.2.1: its third is refused. */
	client_of(svc, (struct sockaddr *)&ss, &cl);
	assert_int_equal(conctab_add(&svc->state->conc, &cl), 0);
	assert_int_equal(conctab_add(&svc->state->conc, &cl), 0);
	svc->state->active = 2;
	assert_int_equal(admit(svc, "192.0.2.1", 1000), SR_per_source);
	assert_int_equal(admit(svc, "192.0.2.2", 1000), -1);
	svc->state->active = 3;
	assert_int_equal(admit(svc, "192.0.2.3", 1000), SR_max_connections);
	svc->state->active = 0;
	/* The refusals above spent none of the 4 tokens of the second: 1 is gone. */
	assert_int_equal(admit(svc, "2001:db8::1", 1000), -1);
	assert_int_equal(admit(svc, "2001:db8::2", 1000), -1);
	assert_int_equal(admit(svc, "2001:db8::3", 1000), -1);
	assert_int_equal(admit(svc, "2001:db8::4", 1000), SR_rate);
	assert_int_equal(admit(svc, "2001:db8::4", 1250), -1);
	service_release(conf);
	config_free(conf);

	/* No allow: everyone but deny. */
	conf = load("[s]\nprotocol = udp\nport = 7\nhandler = echo\n"
	    "deny = 2001:db8::/32\nsource_rate = unlimited\n");
	svc = &conf->services[0];
	assert_int_equal(admit(svc, "198.51.100.1", 1000), -1);
	assert_int_equal(admit(svc, "2001:db8::9", 1000), SR_deny);
	service_release(conf);
	config_free(conf);
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
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_conctab),
		cmocka_unit_test(test_admit_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
