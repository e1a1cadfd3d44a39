/* Unit tests: access lists: prefixes parsed, nested and mapped addresses matched, vs a scan. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

static struct sockaddr_storage
sa_of(const char *a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, a, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, a, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
	return ss;
}

static void
add(struct acl *acl, const char *prefix)
{
	struct acl_range r;
	const char *err;

	if (acl_parse_prefix(prefix, &r, &err) != 0)
		fail_msg("%s: %s", prefix, err);
	assert_int_equal(acl_add(acl, &r), 0);
}

static bool
match(const struct acl *acl, const char *a)
{
	struct sockaddr_storage ss = sa_of(a);

	return acl_match(acl, (struct sockaddr *)&ss);
}

static void
test_parse(void **state)
{
	struct acl_range r;
	const char *err;

	(void)state;
	assert_int_equal(acl_parse_prefix("10.0.0.0/8", &r, &err), 0);
	assert_int_equal(acl_parse_prefix("192.0.2.7", &r, &err), 0);
	assert_int_equal(acl_parse_prefix("0.0.0.0/0", &r, &err), 0);
	assert_int_equal(acl_parse_prefix("2001:db8::/32", &r, &err), 0);
	assert_int_equal(acl_parse_prefix("::/0", &r, &err), 0);
	assert_int_equal(acl_parse_prefix("::1", &r, &err), 0);
	assert_int_equal(acl_parse_prefix("10.1.2.3/8", &r, &err), -1);
	assert_string_equal(err, "bits are set after the prefix length (write the "
	    "network's first address)");
	assert_int_equal(acl_parse_prefix("10.0.0.0/33", &r, &err), -1);
	assert_string_equal(err, "the prefix length must be 0-32");
	assert_int_equal(acl_parse_prefix("::/129", &r, &err), -1);
	assert_string_equal(err, "the prefix length must be 0-128");
	assert_int_equal(acl_parse_prefix("10.0.0.0/", &r, &err), -1);
	assert_int_equal(acl_parse_prefix("10.0.0.0/x", &r, &err), -1);
	assert_int_equal(acl_parse_prefix("10.0.0.0/-1", &r, &err), -1);
	assert_int_equal(acl_parse_prefix("localhost", &r, &err), -1);
	assert_int_equal(acl_parse_prefix("127.1", &r, &err), -1);
	assert_int_equal(acl_parse_prefix("", &r, &err), -1);
	assert_int_equal(acl_parse_prefix("/8", &r, &err), -1);
}

/*
 * Nested prefixes, adjacent ones, host addresses, the IPv4 rules
 * matching IPv4-mapped IPv6 clients, and the edges of each range.
 */
static void
test_match(void **state)
{
	struct acl acl = { NULL, 0 };

	(void)state;
	assert_false(match(&acl, "10.0.0.1"));
	add(&acl, "10.0.0.0/8");
	add(&acl, "10.1.0.0/16");		/* inside the one before */
	add(&acl, "192.0.2.7");
	add(&acl, "192.0.2.8/31");		/* adjacent: 8 and 9 */
	add(&acl, "2001:db8::/32");
	add(&acl, "fe80::1");
	acl_finish(&acl);
	assert_true(match(&acl, "10.0.0.0"));
	assert_true(match(&acl, "10.255.255.255"));
	assert_true(match(&acl, "10.1.2.3"));
	assert_false(match(&acl, "11.0.0.0"));
	assert_false(match(&acl, "9.255.255.255"));
	assert_true(match(&acl, "192.0.2.7"));
	assert_true(match(&acl, "192.0.2.8"));
	assert_true(match(&acl, "192.0.2.9"));
	assert_false(match(&acl, "192.0.2.6"));
	assert_false(match(&acl, "192.0.2.10"));
	assert_true(match(&acl, "::ffff:10.9.8.7"));	/* mapped */
	assert_false(match(&acl, "::ffff:11.9.8.7"));
	assert_true(match(&acl, "2001:db8:ffff::1"));
	assert_false(match(&acl, "2001:db9::"));
	assert_true(match(&acl, "fe80::1"));
	assert_false(match(&acl, "fe80::2"));
	assert_false(match(&acl, "::"));
	acl_free(&acl);
	add(&acl, "0.0.0.0/0");
	acl_finish(&acl);
	assert_true(match(&acl, "255.255.255.255"));
	assert_true(match(&acl, "::ffff:1.2.3.4"));
	assert_false(match(&acl, "2001:db8::1"));
	acl_free(&acl);
}

/* A linear scan of the prefixes, the reference the table must agree with. */
static bool
scan(const struct acl_range *v, size_t n, const struct sockaddr *sa)
{
	struct acl one = { NULL, 0 };
	size_t	 i;
	bool	 hit = false;

	for (i = 0; i < n && !hit; i++) {
		one.v = (struct acl_range *)&v[i];
		one.n = 1;
		hit = acl_match(&one, sa);
	}
	return hit;
}

/* 5000 random prefixes, IPv4 and IPv6: the sorted table agrees with a scan. */
static void
test_many_random(void **state)
{
	struct acl acl = { NULL, 0 };
	struct acl_range *all = calloc(5000, sizeof(*all));
	char	 text[64];
	size_t	 i;
	const char *err;
	struct sockaddr_storage ss;
	unsigned hits = 0;

	(void)state;
	srandom(42);
	for (i = 0; i < 5000; i++) {
		unsigned bits = 8 + (unsigned)random() % 25;
		uint32_t a = (uint32_t)random() & (bits == 32 ? 0xffffffffu :
		    ~(0xffffffffu >> bits));

		snprintf(text, sizeof(text), "%u.%u.%u.%u/%u", a >> 24,
		    (a >> 16) & 255, (a >> 8) & 255, a & 255, bits);
		assert_int_equal(acl_parse_prefix(text, &all[i], &err), 0);
		assert_int_equal(acl_add(&acl, &all[i]), 0);
	}
	acl_finish(&acl);
	for (i = 0; i < 20000; i++) {
		uint32_t a = (uint32_t)random();

		snprintf(text, sizeof(text), "%u.%u.%u.%u", a >> 24,
		    (a >> 16) & 255, (a >> 8) & 255, a & 255);
		ss = sa_of(text);
		assert_int_equal(acl_match(&acl, (struct sockaddr *)&ss),
		    scan(all, 5000, (struct sockaddr *)&ss));
		hits += acl_match(&acl, (struct sockaddr *)&ss);
	}
	assert_true(hits > 0 && hits < 20000);
	acl_free(&acl);
	free(all);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_many_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
