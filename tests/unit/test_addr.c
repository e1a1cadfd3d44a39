/* Unit tests of addr.c: parsing, formatting, comparing and peer formats. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <net/if.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "addr.h"

static struct bind_addr
parse_ok(const char *s, uint16_t port)
{
	struct bind_addr ba;
	const char *err = "unset";

	assert_int_equal(addr_parse(s, port, &ba, &err), 0);
	assert_null(err);
	return ba;
}

static const char *
fmt(const struct bind_addr *ba, char *buf)
{
	return addr_format((const struct sockaddr *)&ba->ss, buf, ADDR_STRLEN);
}

static void
test_parse_v4(void **state)
{
	struct bind_addr ba = parse_ok("127.0.0.1", 9999);
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ba.ss;
	char buf[ADDR_STRLEN];

	(void)state;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ba.len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(addr_port((const struct sockaddr *)&ba.ss), 9999);
	assert_string_equal(fmt(&ba, buf), "127.0.0.1:9999");
	addr_format_host((const struct sockaddr *)&ba.ss, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1");
}

static void
test_parse_v6(void **state)
{
	struct bind_addr ba = parse_ok("::1", 7);
	struct bind_addr bb = parse_ok("[::1]", 7);
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ba.ss;
	char buf[ADDR_STRLEN];

	(void)state;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ba.len, sizeof(struct sockaddr_in6));
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	assert_string_equal(fmt(&ba, buf), "[::1]:7");
	assert_true(addr_equal((struct sockaddr *)&ba.ss, (struct sockaddr *)&bb.ss));
	ba = parse_ok("2001:db8::5", 65535);
	assert_string_equal(fmt(&ba, buf), "[2001:db8::5]:65535");
	addr_format_host((const struct sockaddr *)&ba.ss, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::5");
}

static void
test_parse_scope(void **state)
{
	struct bind_addr ba;
	const struct sockaddr_in6 *sin6;
	char buf[ADDR_STRLEN];

	(void)state;
	ba = parse_ok("fe80::1%lo", 80);
	sin6 = (const struct sockaddr_in6 *)&ba.ss;
	assert_int_equal(sin6->sin6_scope_id, if_nametoindex("lo"));
	assert_string_equal(fmt(&ba, buf), "[fe80::1%lo]:80");
	ba = parse_ok("[fe80::1%lo]", 80);
	assert_string_equal(fmt(&ba, buf), "[fe80::1%lo]:80");
}

static void
test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"localhost", "1.2.3", "::g", "", "127.1", "0x7f.0.0.1",
		"1.2.3.4.5", "[127.0.0.1]", "[::1", "::1]", "[]", " 1.2.3.4",
		"256.1.1.1", "fe80::1%nosuchif0",
	};
	struct bind_addr ba;
	const char *err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(addr_parse(bad[i], 1, &ba, &err), -1);
		assert_string_equal(err, "not a numeric IPv4 or IPv6 address");
	}
}

static void
test_port_numbers(void **state)
{
	uint16_t port = 0;
	const char *err;

	(void)state;
	assert_int_equal(addr_parse_port("1", PROTO_TCP, &port, &err), 0);
	assert_int_equal(port, 1);
	assert_int_equal(addr_parse_port("65535", PROTO_UDP, &port, &err), 0);
	assert_int_equal(port, 65535);
	assert_int_equal(addr_parse_port("9999", PROTO_TCP | PROTO_UDP, &port, &err), 0);
	assert_int_equal(port, 9999);
	assert_int_equal(addr_parse_port("0", PROTO_TCP, &port, &err), -1);
	assert_string_equal(err, "must be 1-65535 or a service name");
	assert_int_equal(addr_parse_port("65536", PROTO_TCP, &port, &err), -1);
	assert_string_equal(err, "must be 1-65535 or a service name");
	assert_int_equal(addr_parse_port("abc", PROTO_TCP, &port, &err), -1);
	assert_string_equal(err, "must be 1-65535 or a service name");
	assert_int_equal(addr_parse_port("", PROTO_TCP, &port, &err), -1);
	assert_int_equal(addr_parse_port("-1", PROTO_TCP, &port, &err), -1);
	assert_int_equal(addr_parse_port("99999999999999999999", PROTO_TCP, &port, &err), -1);
	assert_int_equal(port, 9999);
}

static void
test_port_names(void **state)
{
	struct servent *tcp, *udp;
	uint16_t port = 0;
	const char *err;

	(void)state;
	tcp = getservbyname("echo", "tcp");
	udp = getservbyname("echo", "udp");
	if (tcp == NULL || udp == NULL || ntohs((uint16_t)tcp->s_port) != 7 ||
	    ntohs((uint16_t)udp->s_port) != 7)
		skip();
	assert_int_equal(addr_parse_port("echo", PROTO_TCP, &port, &err), 0);
	assert_int_equal(port, 7);
	port = 0;
	assert_int_equal(addr_parse_port("echo", PROTO_TCP | PROTO_UDP, &port, &err), 0);
	assert_int_equal(port, 7);
	port = 0;
	assert_int_equal(addr_parse_port("echo", 0, &port, &err), 0);
	assert_int_equal(port, 7);
	assert_int_equal(addr_parse_port("no-such-service-here", PROTO_TCP, &port, &err), -1);
	assert_string_equal(err, "must be 1-65535 or a service name");
	/* Debian's /etc/services knows qotd for tcp only. */
	if (getservbyname("qotd", "tcp") != NULL && getservbyname("qotd", "udp") == NULL) {
		assert_int_equal(addr_parse_port("qotd", PROTO_TCP | PROTO_UDP, &port, &err), -1);
		assert_string_equal(err, "not a service name for udp in /etc/services");
	}
}

static void
test_wildcard(void **state)
{
	struct bind_addr w4, w6, a;
	char buf[ADDR_STRLEN];

	(void)state;
	addr_wildcard(AF_INET, 13, &w4);
	addr_wildcard(AF_INET6, 13, &w6);
	assert_string_equal(fmt(&w4, buf), "0.0.0.0:13");
	assert_string_equal(fmt(&w6, buf), "[::]:13");
	assert_true(addr_is_wildcard((struct sockaddr *)&w4.ss));
	assert_true(addr_is_wildcard((struct sockaddr *)&w6.ss));
	a = parse_ok("0.0.0.0", 13);
	assert_true(addr_is_wildcard((struct sockaddr *)&a.ss));
	assert_true(addr_equal((struct sockaddr *)&a.ss, (struct sockaddr *)&w4.ss));
	a = parse_ok("127.0.0.1", 13);
	assert_false(addr_is_wildcard((struct sockaddr *)&a.ss));
	a = parse_ok("::1", 13);
	assert_false(addr_is_wildcard((struct sockaddr *)&a.ss));
}

static bool
conflict(const char *a, uint16_t pa, const char *b, uint16_t pb)
{
	struct bind_addr x = parse_ok(a, pa), y = parse_ok(b, pb);
	bool c = addr_conflict((struct sockaddr *)&x.ss, (struct sockaddr *)&y.ss);

	/* The relation is symmetric. */
	assert_int_equal(c, addr_conflict((struct sockaddr *)&y.ss,
	    (struct sockaddr *)&x.ss));
	return c;
}

static void
test_conflict(void **state)
{
	(void)state;
	assert_true(conflict("127.0.0.1", 9999, "127.0.0.1", 9999));
	assert_true(conflict("0.0.0.0", 9999, "127.0.0.1", 9999));
	assert_true(conflict("::", 9999, "::1", 9999));
	assert_true(conflict("::", 9999, "::", 9999));
	assert_false(conflict("127.0.0.1", 9999, "127.0.0.2", 9999));
	assert_false(conflict("0.0.0.0", 9999, "::", 9999));
	assert_false(conflict("0.0.0.0", 9999, "::1", 9999));
	assert_false(conflict("127.0.0.1", 9999, "::ffff:127.0.0.1", 9999));
	assert_false(conflict("0.0.0.0", 9999, "0.0.0.0", 9998));
	assert_false(conflict("127.0.0.1", 1, "127.0.0.1", 2));
	assert_false(conflict("fe80::1%lo", 5, "fe80::1", 5));
	assert_true(conflict("fe80::1%lo", 5, "[fe80::1%lo]", 5));
}

static void
test_equal(void **state)
{
	struct bind_addr a = parse_ok("10.0.0.1", 5), b = parse_ok("10.0.0.1", 6);

	(void)state;
	assert_false(addr_equal((struct sockaddr *)&a.ss, (struct sockaddr *)&b.ss));
	b = parse_ok("10.0.0.1", 5);
	assert_true(addr_equal((struct sockaddr *)&a.ss, (struct sockaddr *)&b.ss));
}

static const char *
peer(const char *s, uint16_t port, enum log_peer mode, char *buf)
{
	struct bind_addr ba = parse_ok(s, port);

	return addr_format_peer((struct sockaddr *)&ba.ss, mode, buf, ADDR_STRLEN);
}

static void
test_peer_formats(void **state)
{
	char buf[ADDR_STRLEN];

	(void)state;
	assert_string_equal(peer("192.0.2.77", 54321, LOG_PEER_FULL, buf), "192.0.2.77:54321");
	assert_string_equal(peer("::1", 54321, LOG_PEER_FULL, buf), "[::1]:54321");
	assert_string_equal(peer("192.0.2.77", 54321, LOG_PEER_PREFIX, buf), "192.0.2.0/24");
	assert_string_equal(peer("2001:db8:1:2:3:4:5:6", 1, LOG_PEER_PREFIX, buf),
	    "2001:db8:1:2::/64");
	assert_string_equal(peer("::ffff:192.0.2.77", 1, LOG_PEER_PREFIX, buf), "192.0.2.0/24");
	assert_string_equal(peer("192.0.2.77", 54321, LOG_PEER_NONE, buf), "-");
	assert_string_equal(peer("::1", 54321, LOG_PEER_NONE, buf), "-");
}

static void
test_peer_hash(void **state)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN], c[ADDR_STRLEN], d[ADDR_STRLEN];
	size_t i;

	(void)state;
	peer("192.0.2.77", 1000, LOG_PEER_HASH, a);
	peer("192.0.2.77", 2000, LOG_PEER_HASH, b);
	peer("192.0.2.78", 1000, LOG_PEER_HASH, c);
	peer("2001:db8::1", 1000, LOG_PEER_HASH, d);
	assert_int_equal(strlen(a), 10);
	assert_memory_equal(a, "h:", 2);
	for (i = 2; i < 10; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	/* Stable within the process, port aside; different addresses differ. */
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	assert_int_equal(strlen(d), 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_scope),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_port_numbers),
		cmocka_unit_test(test_port_names),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_conflict),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_peer_formats),
		cmocka_unit_test(test_peer_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
