/* Integration tests: source_rate and source_prefix, and the UDP loop they break. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define T_MS	harness_ms(3000)

/*
 * One datagram to 127.0.0.1:dport that claims to come from 127.0.0.1:sport,
 * through a raw socket (root only): the kernel writes the IP header, we
 * write the UDP one, without a checksum (allowed over IPv4).
 */
static void
spoof(uint16_t sport, uint16_t dport, const char *payload)
{
	struct sockaddr_in to;
	unsigned char pkt[512];
	struct udphdr *uh = (struct udphdr *)pkt;
	size_t	 n = strlen(payload);
	int	 fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);

	assert_true(fd >= 0);
	memset(pkt, 0, sizeof(pkt));
	uh->source = htons(sport);
	uh->dest = htons(dport);
	uh->len = htons((uint16_t)(sizeof(*uh) + n));
	uh->check = 0;
	memcpy(pkt + sizeof(*uh), payload, n);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sendto(fd, pkt, sizeof(*uh) + n, 0,
	    (struct sockaddr *)&to, sizeof(to)), (ssize_t)(sizeof(*uh) + n));
	close(fd);
}

/*
 * One forged datagram whose source is the daemon's own UDP endpoint:
 * echo would answer itself for ever with source_rate = unlimited (as
 * hellod(8) suggests for load tests), and two services would answer each
 * other.  The guard drops it at once, counted and logged, and the
 * services go on answering other clients.
 */
static void
test_udp_self_loop(void **state)
{
	struct daemon d;
	const char *ctl = harness_path("loop.ctl");
	char	 buf[64];

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/loop.ctl\n"
	    "[echo]\nprotocol = udp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = echo\nsource_rate = unlimited\n"
	    "[hello]\nprotocol = udp\nport = @P1@\n"
	    "handler = hello\nsource_rate = unlimited\n",
	    HD_PROBE_LOG, NULL), 0);
	/* Itself, then the other: its port on the wildcard. */
	spoof(d.port[0], d.port[0], "loop");
	spoof(d.port[0], d.port[1], "loop");
	spoof(d.port[1], d.port[0], "loop");
	usleep((useconds_t)harness_ms(300) * 1000);
	assert_int_equal(control_value(ctl, "echo", "datagrams_out"), 0);
	assert_int_equal(control_value(ctl, "hello", "datagrams_out"), 0);
	assert_int_equal(control_value(ctl, "echo", "refused_guard"), 2);
	assert_int_equal(control_value(ctl, "hello", "refused_guard"), 1);
	assert_true(log_contains(&d, "reason=guard detail=\"own address\""));
	assert_int_equal(udp_ask("127.0.0.1", d.port[0], "Ann", 3, buf,
	    sizeof(buf), T_MS), 3);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* Send n datagrams at once from fd to the service on port. */
static void
udp_send_n(int fd, uint16_t port, unsigned n)
{
	struct sockaddr_in to;

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while (n-- > 0)
		assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&to,
		    sizeof(to)), 1);
}

/* The replies waiting on fd, read until quiet_ms pass without one. */
static unsigned
udp_replies(int fd, int quiet_ms)
{
	char	 buf[64];
	unsigned got = 0;

	while (read_n(fd, buf, 1, quiet_ms) == 1)
		got++;
	return got;
}

/*
 * source_rate over UDP: a client gets its rate's worth at once and no
 * more; another client (another address) keeps its own share; with
 * source_prefix 24 the two addresses of one /24 are one client.
 */
static void
test_udp_source_rate(void **state)
{
	struct daemon d;
	const char *ctl = harness_path("rate.ctl");
	int	 a1, a2, b1, b2;

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/rate.ctl\n"
	    "[each]\nprotocol = udp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = echo\nsource_rate = 3\n"
	    "[grouped]\nprotocol = udp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = echo\nsource_rate = 3\nsource_prefix = 24 64\n",
	    HD_PROBE_LOG, NULL), 0);
	/*
	 * Every datagram is sent before any reply is read, so that no bucket
	 * refills in between: the counts are exact whatever the machine's load.
	 */
	a1 = udp_socket("127.0.0.1", 0);
	a2 = udp_socket("127.0.0.2", 0);
	b1 = udp_socket("127.0.0.1", 0);
	b2 = udp_socket("127.0.0.2", 0);
	assert_true(a1 >= 0 && a2 >= 0 && b1 >= 0 && b2 >= 0);
	udp_send_n(a1, d.port[0], 6);
	udp_send_n(a2, d.port[0], 6);
	udp_send_n(b1, d.port[1], 2);
	udp_send_n(b2, d.port[1], 6);
	assert_int_equal(udp_replies(a1, harness_ms(300)), 3);
	assert_int_equal(udp_replies(a2, harness_ms(100)), 3);
	assert_int_equal(udp_replies(b1, harness_ms(100)), 2);
	assert_int_equal(udp_replies(b2, harness_ms(100)), 1);
	assert_int_equal(control_value(ctl, "each", "refused_source_rate"), 6);
	assert_int_equal(control_value(ctl, "grouped", "refused_source_rate"), 5);
	close(a1);
	close(a2);
	close(b1);
	close(b2);
	assert_true(log_contains(&d, "each: refused peer=127.0.0.1:"));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * source_rate over TCP: connections over the rate are closed at once,
 * before any fork (no greeting, not counted as accepted); TCP has no
 * default rate, so an unlimited service beside it serves every one.
 */
static void
test_tcp_source_rate(void **state)
{
	struct daemon d;
	const char *ctl = harness_path("tcp.ctl");
	char	 line[64];
	unsigned i, greeted = 0, closed = 0;

	(void)state;
	harness_skip_valgrind("2 connections a second, and each child takes a good "
	    "part of a second to greet under valgrind");
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/tcp.ctl\n"
	    "[slow]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\nsource_rate = 2\n"
	    "[free]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = hello\n", HD_PROBE_LOG, NULL), 0);
	for (i = 0; i < 6; i++) {
		int fd = tcp_connect("127.0.0.1", d.port[0], T_MS);
		ssize_t n;

		assert_true(fd >= 0);
		n = read_line(fd, line, sizeof(line), T_MS);
		if (n > 0 && strcmp(line, "Welcome!\r\n") == 0)
			greeted++;
		else if (n <= 0)
			closed++;
		close(fd);
	}
	assert_int_equal(greeted, 2);
	assert_int_equal(closed, 4);
	assert_int_equal(control_value(ctl, "slow", "accepted"), 2);
	assert_int_equal(control_value(ctl, "slow", "refused_source_rate"), 4);
	for (i = 0; i < 6; i++) {
		int fd = tcp_connect("127.0.0.1", d.port[1], T_MS);

		assert_true(fd >= 0);
		assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
		assert_string_equal(line, "Welcome!\r\n");
		close(fd);
	}
	assert_true(log_contains(&d, "slow: refused peer=127.0.0.1:"));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_udp_self_loop, harness_teardown),
		cmocka_unit_test_teardown(test_udp_source_rate, harness_teardown),
		cmocka_unit_test_teardown(test_tcp_source_rate, harness_teardown),
	};

	harness_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
