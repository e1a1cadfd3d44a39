/* Integration: allow, deny, max_connections, per_source, rate, max_duration, refuse_message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define T_MS	harness_ms(3000)

/* A connection that is greeted: its descriptor, or -1 (a refusal: EOF first). */
static int
greeted_from(const char *src, const char *host, uint16_t port, char *line,
    size_t len)
{
	int	 fd = tcp_connect_from(src, host, port, T_MS);

	assert_true(fd >= 0);
	if (read_line(fd, line, len, T_MS) <= 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connect from src and expect a refusal: closed before any greeting. */
static void
refused_from(const char *src, const char *host, uint16_t port)
{
	char	 line[128];

	assert_int_equal(greeted_from(src, host, port, line, sizeof(line)), -1);
}

static const char *
ctl(void)
{
	return harness_path("access.ctl");
}

/*
 * deny wins over allow; no allow means all; a refused client gets no
 * greeting and costs no process (accepted stays), over IPv4 and IPv6,
 * and the log says why.
 */
static void
test_allow_deny_tcp(void **state)
{
	struct daemon d;
	char	 line[128];
	int	 fd;

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/access.ctl\n"
	    "[open]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1 ::1\n"
	    "handler = hello\ndeny = 127.0.0.2\n"
	    "[closed]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1 ::1\n"
	    "handler = hello\nallow = 127.0.0.0/30 2001:db8::/32\n"
	    "deny = 127.0.0.3\n",
	    HD_PROBE_LOG, NULL), 0);
	fd = greeted_from("127.0.0.1", "127.0.0.1", d.port[0], line, sizeof(line));
	assert_true(fd >= 0);
	close(fd);
	refused_from("127.0.0.2", "127.0.0.1", d.port[0]);
	fd = greeted_from("127.0.0.2", "127.0.0.1", d.port[1], line, sizeof(line));
	assert_true(fd >= 0);
	close(fd);
	refused_from("127.0.0.3", "127.0.0.1", d.port[1]);	/* deny wins */
	refused_from("127.0.0.9", "127.0.0.1", d.port[1]);	/* not allowed */
	assert_true(log_wait(&d, "closed: refused peer=127.0.0.3:", T_MS));
	assert_true(log_contains(&d, "reason=deny"));
	assert_true(log_wait(&d, "closed: refused peer=127.0.0.9:", T_MS));
	assert_true(log_contains(&d, "reason=allow"));
	if (harness_have_ipv6()) {
		fd = greeted_from(NULL, "::1", d.port[0], line, sizeof(line));
		assert_true(fd >= 0);
		close(fd);
		refused_from(NULL, "::1", d.port[1]);	/* ::1 is not allowed */
		assert_true(log_wait(&d, "closed: refused peer=[::1]:", T_MS));
	}
	assert_int_equal(control_value(ctl(), "open", "refused_deny"), 1);
	assert_int_equal(control_value(ctl(), "open", "accepted"),
	    harness_have_ipv6() ? 2 : 1);
	assert_int_equal(control_value(ctl(), "closed", "refused_deny"), 1);
	assert_int_equal(control_value(ctl(), "closed", "refused_allow"),
	    harness_have_ipv6() ? 2 : 1);
	assert_int_equal(control_value(ctl(), "closed", "accepted"), 1);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* The same before any reply over UDP: a denied datagram gets none. */
static void
test_allow_deny_udp(void **state)
{
	struct daemon d;
	char	 out[64];
	int	 fd;

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/access.ctl\n"
	    "[echo]\nprotocol = udp\nport = @P0@\nbind = 127.0.0.1 ::1\n"
	    "handler = echo\nallow = 127.0.0.0/8\ndeny = 127.0.0.2\n",
	    HD_PROBE_LOG, NULL), 0);
	fd = udp_socket("127.0.0.1", 0);
	assert_int_equal(udp_exchange(fd, "127.0.0.1", d.port[0], "ok", 2, out,
	    sizeof(out), T_MS), 2);
	close(fd);
	fd = udp_socket("127.0.0.2", 0);
	assert_int_equal(udp_exchange(fd, "127.0.0.1", d.port[0], "no", 2, out,
	    sizeof(out), 300), -1);
	close(fd);
	if (harness_have_ipv6()) {
		fd = udp_socket("::1", 0);
		assert_int_equal(udp_exchange(fd, "::1", d.port[0], "no", 2, out,
		    sizeof(out), 300), -1);
		close(fd);
		assert_true(log_wait(&d, "reason=allow", T_MS));
	}
	assert_true(log_wait(&d, "echo: refused peer=127.0.0.2:", T_MS));
	assert_int_equal(control_value(ctl(), "echo", "refused_deny"), 1);
	assert_int_equal(control_value(ctl(), "echo", "datagrams_out"), 1);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * max_connections: two alive at once, the third refused with the
 * refuse_message; once one ends, a new one is served.  per_source: two
 * per client (127.0.0.1, then ::1), another client still served.
 */
static void
test_max_connections_per_source(void **state)
{
	struct daemon d;
	char	 line[128];
	int	 a, b, c, e, i;

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/access.ctl\n"
	    "[few]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\nmax_connections = 2\n"
	    "refuse_message = Busy, try later.\n"
	    "[each]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1 ::1\n"
	    "handler = hello\nper_source = 2\n",
	    HD_PROBE_LOG, NULL), 0);
	a = greeted_from(NULL, "127.0.0.1", d.port[0], line, sizeof(line));
	b = greeted_from("127.0.0.2", "127.0.0.1", d.port[0], line, sizeof(line));
	assert_true(a >= 0 && b >= 0);
	c = tcp_connect("127.0.0.1", d.port[0], T_MS);
	assert_true(c >= 0);
	assert_true(read_line(c, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Busy, try later.\r\n");
	assert_int_equal(wait_eof(c, T_MS), 1);
	close(c);
	close(a);
	assert_true(proc_wait_children(d.pid, 1, T_MS));
	a = greeted_from(NULL, "127.0.0.1", d.port[0], line, sizeof(line));
	assert_true(a >= 0);
	close(a);
	close(b);
	assert_true(log_contains(&d, "reason=max_connections"));
	assert_int_equal(control_value(ctl(), "few", "refused_max_connections"), 1);
	assert_true(proc_wait_children(d.pid, 0, T_MS));

	a = greeted_from("127.0.0.1", "127.0.0.1", d.port[1], line, sizeof(line));
	b = greeted_from("127.0.0.1", "127.0.0.1", d.port[1], line, sizeof(line));
	assert_true(a >= 0 && b >= 0);
	refused_from("127.0.0.1", "127.0.0.1", d.port[1]);
	c = greeted_from("127.0.0.2", "127.0.0.1", d.port[1], line, sizeof(line));
	assert_true(c >= 0);
	if (harness_have_ipv6()) {
		int	 v[2];

		for (i = 0; i < 2; i++) {
			v[i] = greeted_from(NULL, "::1", d.port[1], line, sizeof(line));
			assert_true(v[i] >= 0);
		}
		refused_from(NULL, "::1", d.port[1]);
		for (i = 0; i < 2; i++)
			close(v[i]);
	}
	/* The count follows the children's exits exactly: b and c are left. */
	close(a);
	assert_true(proc_wait_children(d.pid, 2, T_MS));
	e = greeted_from("127.0.0.1", "127.0.0.1", d.port[1], line, sizeof(line));
	assert_true(e >= 0);
	close(e);
	close(b);
	close(c);
	assert_true(log_contains(&d, "reason=per_source"));
	assert_int_equal(control_value(ctl(), "each", "refused_per_source"),
	    harness_have_ipv6() ? 2 : 1);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * rate: a service's connections a second; the excess is refused, the
 * service never disabled: a second later it serves again.
 */
static void
test_rate_tcp(void **state)
{
	struct daemon d;
	char	 line[128];
	unsigned i, served = 0;
	int	 fd;

	(void)state;
	harness_skip_valgrind("5 connections a second, and each child takes a good "
	    "part of a second to greet under valgrind");
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/access.ctl\n"
	    "[slow]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1 ::1\n"
	    "handler = hello\nrate = 5\n",
	    HD_PROBE_LOG, NULL), 0);
	for (i = 0; i < 10; i++) {
		fd = greeted_from(NULL, i % 2 && harness_have_ipv6() ? "::1" :
		    "127.0.0.1", d.port[0], line, sizeof(line));
		if (fd >= 0) {
			served++;
			close(fd);
		}
	}
	assert_true(served >= 5 && served <= 6);
	assert_true(log_contains(&d, "reason=rate"));
	assert_int_equal(control_value(ctl(), "slow", "refused_rate"), 10 - served);
	usleep(1100 * 1000);
	fd = greeted_from(NULL, "127.0.0.1", d.port[0], line, sizeof(line));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* Datagrams waiting on fd, read until quiet_ms pass without one. */
static unsigned
replies(int fd, int quiet_ms)
{
	struct timeval tv = { quiet_ms / 1000, (quiet_ms % 1000) * 1000 };
	char	 buf[64];
	unsigned n = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (recv(fd, buf, sizeof(buf), 0) >= 0)
		n++;
	return n;
}

/*
 * rate over UDP, with source_rate: a client flooding the service is held
 * to its own share, and a client within its share keeps being served,
 * every datagram of it, while the flood goes on.
 */
static void
test_rate_udp_flood(void **state)
{
	struct daemon d;
	struct sockaddr_in to;
	char	 out[64];
	unsigned i, j, answered = 0, flood_replies;
	int	 flood, good;

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/access.ctl\n"
	    "[echo]\nprotocol = udp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = echo\nrate = 50\nsource_rate = 10\n",
	    HD_PROBE_LOG, NULL), 0);
	flood = udp_socket("127.0.0.2", 0);
	good = udp_socket("127.0.0.1", 0);
	assert_true(flood >= 0 && good >= 0);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(d.port[0]);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 10; i++) {
		for (j = 0; j < 100; j++)
			(void)sendto(flood, "x", 1, MSG_DONTWAIT,
			    (struct sockaddr *)&to, sizeof(to));
		if (udp_exchange(good, "127.0.0.1", d.port[0], "ok", 2, out,
		    sizeof(out), T_MS) == 2)
			answered++;
		usleep(150 * 1000);
	}
	flood_replies = replies(flood, 200);
	assert_int_equal(answered, 10);
	/* 1.5 s at 10 a second, plus a burst of 10: far from 1000. */
	assert_true(flood_replies <= 40);
	assert_true(control_value(ctl(), "echo", "refused_source_rate") >= 900);
	close(flood);
	close(good);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * max_duration: a client that sends a byte every 200 ms (so the idle
 * timeout never fires, and each byte is answered) is cut off after the
 * duration, and the end line says so; a client reading chargen's
 * endless stream too.
 */
static void
test_max_duration(void **state)
{
	struct daemon d;
	char	 line[256];
	uint64_t t0;
	int	 fd, eof = 0, i;

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[trickle]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1 ::1\n"
	    "handler = hello\nmax_duration = 1s\nidle_timeout = 10s\n"
	    "[stream]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = chargen\nmax_duration = 500ms\n",
	    HD_PROBE_LOG, NULL), 0);
	fd = greeted_from(NULL, harness_have_ipv6() ? "::1" : "127.0.0.1",
	    d.port[0], line, sizeof(line));
	assert_true(fd >= 0);
	t0 = now_ms();
	for (i = 0; i < 40 && !eof; i++) {
		if (send_str(fd, "x\n") == -1)
			break;
		while (!eof && read_line(fd, line, sizeof(line), 200) > 0)
			;
		eof = wait_eof(fd, 200) == 1;
	}
	assert_true(eof);
	assert_true(now_ms() - t0 >= 900);
	assert_true(now_ms() - t0 < 5000);
	close(fd);
	assert_true(log_wait(&d, "trickle: end ", T_MS));
	assert_true(log_contains(&d, "reason=max_duration"));

	fd = tcp_connect("127.0.0.1", d.port[1], T_MS);
	assert_true(fd >= 0);
	t0 = now_ms();
	while (read(fd, line, sizeof(line)) > 0 && now_ms() - t0 < 5000)
		;
	assert_true(now_ms() - t0 < 5000);
	close(fd);
	assert_true(log_wait(&d, "stream: end ", T_MS));
	assert_int_equal(log_count(&d, "reason=max_duration"), 2);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_allow_deny_tcp, harness_teardown),
		cmocka_unit_test_teardown(test_allow_deny_udp, harness_teardown),
		cmocka_unit_test_teardown(test_max_connections_per_source,
		    harness_teardown),
		cmocka_unit_test_teardown(test_rate_tcp, harness_teardown),
		cmocka_unit_test_teardown(test_rate_udp_flood, harness_teardown),
		cmocka_unit_test_teardown(test_max_duration, harness_teardown),
	};

	harness_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
