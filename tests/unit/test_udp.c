/* Unit tests: the UDP source guard, and the parent's table of children. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "children.h"
#include "server.h"
#include "udp.h"

static struct sockaddr_storage
v4(const char *a, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, a, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage
v6(const char *a, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, a, &sin6->sin6_addr), 1);
	return ss;
}

static void
expect_bad(struct sockaddr_storage ss, const char *reason)
{
	const char *why = NULL;

	assert_true(udp_badinput((struct sockaddr *)&ss, &why));
	assert_non_null(why);
	assert_string_equal(why, reason);
}

static void
expect_good(struct sockaddr_storage ss)
{
	const char *why = NULL;

	assert_false(udp_badinput((struct sockaddr *)&ss, &why));
}

static void
test_guard_ports(void **state)
{
	(void)state;
	expect_bad(v4("127.0.0.1", 0), "source port 0");
	expect_bad(v4("127.0.0.1", 7), "source port below 1024");
	expect_bad(v4("127.0.0.1", 1023), "source port below 1024");
	expect_bad(v4("127.0.0.1", 2049), "source port 2049");
	expect_bad(v6("::1", 19), "source port below 1024");
	expect_good(v4("127.0.0.1", 1024));
	expect_good(v4("127.0.0.1", 2048));
	expect_good(v4("127.0.0.1", 2050));
	expect_good(v4("192.0.2.1", 65535));
	expect_good(v6("::1", 40000));
}

static void
test_guard_addresses(void **state)
{
	(void)state;
	expect_bad(v4("0.0.0.0", 5000), "unspecified source address");
	expect_bad(v4("255.255.255.255", 5000), "broadcast source address");
	expect_bad(v4("224.0.0.1", 5000), "multicast source address");
	expect_bad(v4("239.255.255.250", 5000), "multicast source address");
	expect_bad(v6("::", 5000), "unspecified source address");
	expect_bad(v6("ff02::1", 5000), "multicast source address");
	expect_bad(v6("::ffff:224.0.0.1", 5000), "multicast source address");
	expect_bad(v6("::ffff:255.255.255.255", 5000), "broadcast source address");
	expect_good(v6("::ffff:127.0.0.1", 5000));
	expect_good(v6("2001:db8::1", 5000));
	expect_good(v4("10.1.2.3", 5000));
}

static void
test_children_table(void **state)
{
	struct svc_counters *a = counters_new("a"), *b = counters_new("b");
	unsigned reaped = 0;
	int	 i, tries;

	(void)state;
	/* A small table, so that slots collide and removal must keep chains. */
	assert_int_equal(children_init(2), 0);
	for (i = 0; i < 12; i++) {
		pid_t pid = fork();

		assert_true(pid != -1);
		if (pid == 0)
			_exit(0);
		if (i == 6)
			assert_int_equal(children_resize(40), 0);
		children_add(pid, i % 2 ? a : b);
	}
	assert_int_equal(children_count(), 12);
	assert_int_equal(a->active, 6);
	assert_int_equal(a->refs, 7);
	for (tries = 0; tries < 500 && children_count() > 0; tries++) {
		reaped += children_reap();
		usleep(10000);
	}
	assert_int_equal(reaped, 12);
	assert_int_equal(children_count(), 0);
	assert_int_equal(a->active, 0);
	assert_int_equal(b->active, 0);
	assert_int_equal(a->refs, 1);
	assert_int_equal(b->refs, 1);
	children_free();
	counters_unref(a);
	counters_unref(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guard_ports),
		cmocka_unit_test(test_guard_addresses),
		cmocka_unit_test(test_children_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
