/* Unit tests: the UDP source guard: bad sources, and the daemon's own endpoints. */
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

#include "addr.h"
#include "listener.h"
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

/* A listener for the table of own endpoints: proto, address, port. */
static struct listener *
own(int proto, const char *host, uint16_t port)
{
	static struct listener ls[8];
	static size_t n;
	const char *err;

	assert_true(n < 8);
	memset(&ls[n], 0, sizeof(ls[n]));
	ls[n].proto = proto;
	assert_int_equal(addr_parse(host, port, &ls[n].addr, &err), 0);
	return &ls[n++];
}

/*
 * A datagram from one of the daemon's own UDP endpoints is its own: an
 * exact address and port, or any local address on a wildcard's port.
 */
static void
test_from_self(void **state)
{
	struct listener *v[4];
	struct listener_set set = { .v = v, .n = 4 };
	struct sockaddr_storage ss;

	(void)state;
	v[0] = own(PROTO_UDP, "127.0.0.1", 5000);
	v[1] = own(PROTO_UDP, "::", 6000);
	v[2] = own(PROTO_UDP, "0.0.0.0", 6000);
	v[3] = own(PROTO_TCP, "127.0.0.1", 7000);	/* TCP: not a datagram source */
	udp_endpoints(&set);
	ss = v4("127.0.0.1", 5000);
	assert_true(udp_from_self((struct sockaddr *)&ss));
	ss = v6("::ffff:127.0.0.1", 5000);
	assert_true(udp_from_self((struct sockaddr *)&ss));
	ss = v4("127.0.0.2", 5000);	/* not the address bound */
	assert_false(udp_from_self((struct sockaddr *)&ss));
	ss = v4("127.0.0.1", 5001);
	assert_false(udp_from_self((struct sockaddr *)&ss));
	ss = v4("127.0.0.9", 6000);	/* a wildcard: every local address */
	assert_true(udp_from_self((struct sockaddr *)&ss));
	ss = v6("::1", 6000);
	assert_true(udp_from_self((struct sockaddr *)&ss));
	ss = v4("192.0.2.1", 6000);	/* TEST-NET-1: not this host's */
	assert_false(udp_from_self((struct sockaddr *)&ss));
	ss = v4("127.0.0.1", 7000);
	assert_false(udp_from_self((struct sockaddr *)&ss));
	udp_endpoints(NULL);
	ss = v4("127.0.0.1", 5000);
	assert_false(udp_from_self((struct sockaddr *)&ss));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guard_ports),
		cmocka_unit_test(test_guard_addresses),
		cmocka_unit_test(test_from_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
