/* Integration: the PROXY protocol, from headers written here and from a real HAProxy in front. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define T_MS	harness_ms(3000)

static const char *
ctl(void)
{
	return harness_path("proxy.ctl");
}

/* A connection from src (NULL: any) to 127.0.0.1:port that sends len bytes of hdr first. */
static int
sends_from(const char *src, uint16_t port, const void *hdr, size_t len)
{
	int	 fd = tcp_connect_from(src, "127.0.0.1", port, T_MS);

	assert_true(fd >= 0);
	if (len > 0)
		assert_int_equal(send_all(fd, hdr, len), 0);
	return fd;
}

/* The same with a text header. */
static int
says_from(const char *src, uint16_t port, const char *text)
{
	return sends_from(src, port, text, strlen(text));
}

/* Expect the greeting then the reply to name: the conversation went to hello. */
static void
greeted(int fd, const char *name)
{
	char	 line[128], want[128];

	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Welcome!\r\n");
	snprintf(want, sizeof(want), "%s\n", name);
	assert_int_equal(send_str(fd, want), 0);
	snprintf(want, sizeof(want), "Hello, %s!\r\n", name);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, want);
}

/* Refused: closed (or reset: what it sent is unread) before any byte. */
static void
refused(int fd)
{
	assert_int_equal(wait_eof(fd, T_MS), 1);
	close(fd);
}

/* A v2 header for TCP over IPv4 into b: 28 bytes; cmd 1 PROXY, 0 LOCAL. */
static size_t
v2_header(unsigned char *b, int cmd, const char *src, uint16_t sport,
    const char *dst, uint16_t dport)
{
	static const unsigned char sig[12] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
	};
	uint16_t sp = htons(sport), dp = htons(dport);

	memcpy(b, sig, 12);
	b[12] = (unsigned char)(0x20 | cmd);
	b[13] = 0x11;
	b[14] = 0;
	b[15] = 12;
	assert_int_equal(inet_pton(AF_INET, src, b + 16), 1);
	assert_int_equal(inet_pton(AF_INET, dst, b + 20), 1);
	memcpy(b + 24, &sp, 2);
	memcpy(b + 26, &dp, 2);
	return 28;
}

static const char conf_headers[] =
    "[global]\ncontrol = @DIR@/proxy.ctl\n"
    "[p]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1 ::1\nhandler = hello\n"
    "proxy_protocol = v1 v2\nproxy_from = 127.0.0.1 ::1\n"
    "deny = 192.0.2.66\nper_source = 1\n"
    "[v1only]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\nhandler = hello\n"
    "proxy_protocol = v1\nproxy_from = 127.0.0.0/8\n"
    "[env]\nprotocol = tcp\nport = @P2@\nbind = 127.0.0.1\nhandler = exec\n"
    "exec = /bin/sh -c 'echo \"$TCPREMOTEIP $TCPREMOTEPORT $TCPLOCALIP "
    "$TCPLOCALPORT $REMOTE_ADDR $REMOTE_PORT\"'\n"
    "proxy_protocol = v2\nproxy_from = 127.0.0.1\n";

/*
 * The client a header names is the client: logged with via=, checked by
 * deny and counted by per_source as itself, in v1 and v2, from a
 * balancer on IPv4 and on IPv6; the payload after the header is intact.
 */
static void
test_client_from_header(void **state)
{
	struct daemon d;
	unsigned char b[64];
	int	 fd1, fd2, fd;

	(void)state;
	assert_int_equal(daemon_start_with(&d, conf_headers, HD_PROBE_LOG, NULL), 0);
	/* Header and first line in one segment. */
	fd1 = says_from(NULL, d.port[0],
	    "PROXY TCP4 192.0.2.7 198.51.100.1 40000 9999\r\n");
	greeted(fd1, "Michael");
	assert_true(log_wait(&d, "p: connect peer=192.0.2.7:40000 via=127.0.0.1\n",
	    T_MS));
	/* per_source: 192.0.2.7 has its one connection; 192.0.2.8 is another client. */
	fd = says_from(NULL, d.port[0],
	    "PROXY TCP4 192.0.2.7 198.51.100.1 40001 9999\r\n");
	refused(fd);
	assert_true(log_wait(&d, "p: refused peer=192.0.2.7:40001 via=127.0.0.1 "
	    "reason=per_source", T_MS));
	fd2 = sends_from(NULL, d.port[0], b, v2_header(b, 1, "192.0.2.8", 40002,
	    "198.51.100.1", 9999));
	greeted(fd2, "Tracy");
	assert_true(log_wait(&d, "p: connect peer=192.0.2.8:40002 via=127.0.0.1\n",
	    T_MS));
	/* deny sees the client, not the balancer. */
	fd = sends_from(NULL, d.port[0], b, v2_header(b, 1, "192.0.2.66", 40003,
	    "198.51.100.1", 9999));
	refused(fd);
	assert_true(log_wait(&d, "p: refused peer=192.0.2.66:40003 via=127.0.0.1 "
	    "reason=deny", T_MS));
	/* A balancer on IPv6. */
	if (harness_have_ipv6()) {
		fd = tcp_connect_from("::1", "::1", d.port[0], T_MS);
		assert_true(fd >= 0);
		assert_int_equal(send_str(fd, "PROXY TCP6 2001:db8::5 2001:db8::1 "
		    "1234 9999\r\n"), 0);
		greeted(fd, "Sarah");
		assert_true(log_wait(&d, "p: connect peer=[2001:db8::5]:1234 via=::1\n",
		    T_MS));
		close(fd);
	}
	close(fd1);
	close(fd2);
	assert_true(log_wait(&d, "p: end peer=192.0.2.7:40000 via=127.0.0.1 "
	    "reason=client_close", T_MS));
	/* The control socket counts the clients, not the balancer. */
	{
		char	 buf[8192];

		control_ask(ctl(), "sources", buf, sizeof(buf));
		assert_non_null(strstr(buf, "p: source client=192.0.2.7/32 "));
		assert_non_null(strstr(buf, "p: source client=192.0.2.66/32 "));
		assert_null(strstr(buf, "client=127.0.0.1/32"));
	}
	assert_int_equal(control_value(ctl(), "p", "refused_per_source"), 1);
	assert_int_equal(control_value(ctl(), "p", "refused_deny"), 1);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * A header that comes in pieces is waited for, without holding up anyone
 * else; health checks (v2 LOCAL, v1 UNKNOWN) are the balancer's own
 * connections.
 */
static void
test_pieces_and_local(void **state)
{
	struct daemon d;
	unsigned char b[64];
	size_t	 n;
	int	 fd, other;

	(void)state;
	assert_int_equal(daemon_start_with(&d, conf_headers, HD_PROBE_LOG, NULL), 0);
	fd = says_from(NULL, d.port[0], "PROX");
	usleep(100 * 1000);
	/* Meanwhile another connection is served at once. */
	other = says_from(NULL, d.port[0], "PROXY UNKNOWN\r\n");
	greeted(other, "Other");
	close(other);
	assert_int_equal(send_str(fd, "Y TCP4 192.0.2.9 198.51.100.1 5 6\r"), 0);
	usleep(100 * 1000);
	assert_int_equal(send_str(fd, "\n"), 0);
	greeted(fd, "Pieces");
	close(fd);
	assert_true(log_wait(&d, "p: connect peer=192.0.2.9:5 via=127.0.0.1\n", T_MS));
	/* v2 in two writes, the second with the payload. */
	n = v2_header(b, 1, "192.0.2.10", 7, "198.51.100.1", 9999);
	fd = sends_from(NULL, d.port[0], b, 10);
	usleep(100 * 1000);
	assert_int_equal(send_all(fd, b + 10, n - 10), 0);
	greeted(fd, "Split");
	close(fd);
	assert_true(log_wait(&d, "p: connect peer=192.0.2.10:7 via=127.0.0.1\n", T_MS));
	/* LOCAL: served as the balancer itself. */
	fd = sends_from(NULL, d.port[0], b, v2_header(b, 0, "192.0.2.11", 8,
	    "198.51.100.1", 9999));
	greeted(fd, "Check");
	close(fd);
	assert_true(log_wait_n(&d, "p: connect peer=127.0.0.1:", 2, T_MS));
	assert_int_equal(log_count(&d, "192.0.2.11"), 0);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * Refused: a connection from outside proxy_from before anything is read;
 * a bad header, a version not taken, a header cut short, and one that
 * never comes (after 5 s) from a trusted balancer.  None costs a process.
 */
static void
test_bad_headers(void **state)
{
	struct daemon d;
	unsigned char b[64];
	uint64_t t0;
	int	 fd, slow, left;

	(void)state;
	assert_int_equal(daemon_start_with(&d, conf_headers, HD_PROBE_LOG, NULL), 0);
	slow = says_from(NULL, d.port[0], "");
	t0 = now_ms();
	fd = says_from("127.0.0.2", d.port[0],
	    "PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\n");
	refused(fd);
	assert_true(log_wait(&d, "p: refused peer=127.0.0.2:", T_MS));
	assert_true(log_contains(&d, "reason=proxy_untrusted\n"));
	fd = says_from(NULL, d.port[0], "GET / HTTP/1.0\r\n\r\n");
	refused(fd);
	assert_true(log_wait(&d, "reason=proxy_header detail=signature\n", T_MS));
	fd = sends_from(NULL, d.port[1], b, v2_header(b, 1, "192.0.2.7", 1,
	    "198.51.100.1", 2));
	refused(fd);
	assert_true(log_wait(&d, "v1only: refused peer=127.0.0.1:", T_MS));
	assert_true(log_contains(&d, "reason=proxy_header detail=v2_not_accepted\n"));
	fd = says_from(NULL, d.port[0], "PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\r\n");
	refused(fd);
	assert_true(log_wait(&d, "reason=proxy_header detail=no_crlf\n", T_MS));
	fd = says_from(NULL, d.port[0], "PROXY TCP4 192.0.2.7 198.51.1");
	shutdown(fd, SHUT_WR);
	refused(fd);
	assert_true(log_wait(&d, "reason=proxy_header detail=incomplete\n", T_MS));
	/* The silent one is still waiting: refused at 5 s, not before. */
	if ((left = 4000 - (int)(now_ms() - t0)) > 0)
		assert_int_equal(wait_eof(slow, left), 0);
	assert_int_equal(wait_eof(slow, harness_ms(3000)), 1);
	close(slow);
	assert_true(log_wait(&d, "reason=proxy_header detail=timeout\n", T_MS));
	assert_int_equal(control_value(ctl(), "p", "refused_proxy_untrusted"), 1);
	assert_int_equal(control_value(ctl(), "p", "refused_proxy_header"), 4);
	assert_int_equal(control_value(ctl(), "p", "accepted"), 0);
	assert_int_equal(log_count(&d, ": connect "), 0);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * At most 256 connections wait for their header: one more that has to
 * wait is refused at once (detail=busy) while they do; once they are gone
 * (closed before a byte: detail=closed), headers are taken again.
 */
static void
test_waiting_bounded(void **state)
{
	struct daemon d;
	int	 fds[256], fd;
	size_t	 i;

	(void)state;
	assert_int_equal(daemon_start_with(&d, conf_headers, HD_PROBE_LOG, NULL), 0);
	/*
	 * On one listener, accepted in order: the 257th, silent too, finds
	 * the table full.  (One whose header came with it would be served:
	 * it does not wait.)
	 */
	for (i = 0; i < 256; i++)
		fds[i] = says_from(NULL, d.port[1], "");
	fd = says_from(NULL, d.port[1], "");
	refused(fd);
	assert_true(log_wait(&d, "v1only: refused peer=127.0.0.1:", T_MS));
	assert_true(log_contains(&d, "reason=proxy_header detail=busy\n"));
	for (i = 0; i < 256; i++)
		close(fds[i]);
	assert_true(log_wait(&d, "reason=proxy_header detail=closed", T_MS));
	fd = says_from(NULL, d.port[1], "PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\n");
	greeted(fd, "Again");
	close(fd);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* A program sees the client and the address it connected to, from the header. */
static void
test_exec_environment(void **state)
{
	struct daemon d;
	unsigned char b[64];
	char	 out[256];
	int	 fd;

	(void)state;
	assert_int_equal(daemon_start_with(&d, conf_headers, HD_PROBE_LOG, NULL), 0);
	fd = sends_from(NULL, d.port[2], b, v2_header(b, 1, "192.0.2.9", 4242,
	    "198.51.100.3", 8080));
	assert_true(read_all(fd, out, sizeof(out), T_MS) > 0);
	close(fd);
	assert_string_equal(out, "192.0.2.9 4242 198.51.100.3 8080 192.0.2.9 4242\n");
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* HAProxy: $HELLOD_HAPROXY or the system's; required in CI ($HELLOD_REQUIRE_HAPROXY). */
static const char *
haproxy_path(void)
{
	const char *p = harness_program("HELLOD_HAPROXY", "/usr/sbin/haproxy");

	if (p != NULL)
		return p;
	if (getenv("HELLOD_REQUIRE_HAPROXY") != NULL)
		fail_msg("haproxy not found ($HELLOD_HAPROXY, /usr/sbin/haproxy)");
	return NULL;
}

static pid_t haproxy_pid;

static int
haproxy_teardown(void **state)
{
	if (haproxy_pid > 0) {
		kill(haproxy_pid, SIGKILL);
		waitpid(haproxy_pid, NULL, 0);
		haproxy_pid = 0;
	}
	return harness_teardown(state);
}

/* Replace every from in text (malloc'ed, freed) by to; returns the new text. */
static char *
replace(char *text, const char *from, const char *to)
{
	size_t	 n = 0, flen = strlen(from), tlen = strlen(to);
	char	*p, *out, *o, *hit;

	for (p = text; (p = strstr(p, from)) != NULL; p += flen)
		n++;
	if (n == 0)
		fail_msg("no \"%s\" in the example", from);
	out = malloc(strlen(text) + n * tlen + 1);
	assert_non_null(out);
	for (p = text, o = out; (hit = strstr(p, from)) != NULL; p = hit + flen) {
		memcpy(o, p, (size_t)(hit - p));
		o += hit - p;
		memcpy(o, to, tlen);
		o += tlen;
	}
	strcpy(o, p);
	free(text);
	return out;
}

static char *
example(const char *name)
{
	const char *src = getenv("HELLOD_SRCDIR");
	char	 path[PATH_MAX], *text;

	snprintf(path, sizeof(path), "%s/etc/examples/%s", src != NULL ? src : ".",
	    name);
	text = harness_read_file(path);
	if (text == NULL)
		fail_msg("cannot read %s", path);
	return text;
}

/* Start HAProxy on cfg, in the foreground; ready when port takes a connection. */
static void
haproxy_start(const char *haproxy, const char *cfg, uint16_t port)
{
	const char *path = harness_path("haproxy.cfg");
	int	 fd, i;

	harness_write_file(path, "%s", cfg);
	haproxy_pid = fork();
	assert_true(haproxy_pid >= 0);
	if (haproxy_pid == 0) {
		fd = open(harness_path("haproxy.log"), O_WRONLY | O_CREAT | O_TRUNC,
		    0644);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(haproxy, haproxy, "-db", "-f", path, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		if ((fd = tcp_connect("127.0.0.1", port, 200)) >= 0) {
			close(fd);
			return;
		}
		usleep(50 * 1000);
	}
	fail_msg("haproxy did not listen on %u:\n%s", port,
	    harness_read_file(harness_path("haproxy.log")));
}

/* The dialogue through the balancer from src; false when refused or cut. */
static bool
dialogue_through(const char *src, uint16_t port, const char *name)
{
	char	 line[128], want[128];
	int	 fd = tcp_connect_from(src, "127.0.0.1", port, T_MS);
	bool	 ok;

	if (fd < 0)
		return false;
	snprintf(want, sizeof(want), "Hello, %s!\r\n", name);
	ok = read_line(fd, line, sizeof(line), T_MS) > 0 &&
	    strcmp(line, "Welcome!\r\n") == 0 &&
	    dprintf(fd, "%s\n", name) > 0 &&
	    read_line(fd, line, sizeof(line), T_MS) > 0 && strcmp(line, want) == 0;
	close(fd);
	return ok;
}

/*
 * etc/examples: HAProxy spreads one port over two hellods with
 * send-proxy-v2 and health checks (LOCAL headers), run as shipped but for
 * the addresses.  Beside it, a send-proxy (v1) and a send-proxy-v2
 * frontend before two more services of the first hellod: the client
 * from 127.0.0.2 is logged as itself via=127.0.0.1, deny refuses it,
 * per_source counts it apart from 127.0.0.3; a direct connection from
 * outside proxy_from is refused.
 */
static void
test_haproxy(void **state)
{
	const char *haproxy = haproxy_path();
	struct daemon a, b;
	char	 port[16], *ini, *cfg, extra[2048], *both;
	uint16_t hp[3] = { harness_free_port(), harness_free_port(),
	    harness_free_port() };
	uint64_t deadline;
	int	 fd, i, ok;

	(void)state;
	if (haproxy == NULL)
		skip();
	/* The hellods: the example, on ports of our own, trusting 127.0.0.1. */
	ini = example("hellod-behind-haproxy.ini");
	ini = replace(ini, "port = 9999", "port = @P0@\nbind = 127.0.0.1");
	ini = replace(ini, "proxy_from = 192.0.2.10", "proxy_from = 127.0.0.1");
	assert_int_equal(daemon_start_with(&b, ini, HD_PROBE_LOG, NULL), 0);
	snprintf(extra, sizeof(extra), "%s"
	    "[v1svc]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = hello\nproxy_protocol = v1\nproxy_from = 127.0.0.1\n"
	    "per_source = 1\n"
	    "[v2svc]\nprotocol = tcp\nport = @P2@\nbind = 127.0.0.1\n"
	    "handler = hello\nproxy_protocol = v2\nproxy_from = 127.0.0.1\n"
	    "deny = 127.0.0.2\n", ini);
	free(ini);
	assert_int_equal(daemon_start_with(&a, extra, HD_PROBE_LOG, NULL), 0);

	/* The balancer: the example, and two frontends more. */
	cfg = example("haproxy-scale-out.cfg");
	snprintf(port, sizeof(port), "127.0.0.1:%u", hp[0]);
	cfg = replace(cfg, "203.0.113.10:9999", port);
	snprintf(port, sizeof(port), "127.0.0.1:%u", a.port[0]);
	cfg = replace(cfg, "192.0.2.11:9999", port);
	snprintf(port, sizeof(port), "127.0.0.1:%u", b.port[0]);
	cfg = replace(cfg, "192.0.2.12:9999", port);
	/*
	 * The checks run as shipped (every 2 s, out after two failures): a
	 * daemon slowed down by valgrind must still answer them in time.
	 */
	snprintf(extra, sizeof(extra),
	    "frontend v1\n    bind 127.0.0.1:%u\n    default_backend v1\n"
	    "backend v1\n    server a 127.0.0.1:%u send-proxy\n"
	    "frontend v2\n    bind 127.0.0.1:%u\n    default_backend v2\n"
	    "backend v2\n    server a 127.0.0.1:%u send-proxy-v2\n",
	    hp[1], a.port[1], hp[2], a.port[2]);
	both = malloc(strlen(cfg) + strlen(extra) + 2);
	assert_non_null(both);
	sprintf(both, "%s\n%s", cfg, extra);
	free(cfg);
	haproxy_start(haproxy, both, hp[1]);
	free(both);

	/* send-proxy (v1): the client is itself; per_source counts it alone. */
	fd = tcp_connect_from("127.0.0.2", "127.0.0.1", hp[1], T_MS);
	assert_true(fd >= 0);
	greeted(fd, "Michael");
	assert_true(log_wait(&a, "v1svc: connect peer=127.0.0.2:", T_MS));
	assert_true(log_contains(&a, " via=127.0.0.1\n"));
	assert_false(dialogue_through("127.0.0.2", hp[1], "Again"));
	assert_true(log_wait(&a, "v1svc: refused peer=127.0.0.2:", T_MS));
	assert_true(log_contains(&a, "via=127.0.0.1 reason=per_source\n"));
	assert_true(dialogue_through("127.0.0.3", hp[1], "Tracy"));
	close(fd);
	/* send-proxy-v2: deny refuses 127.0.0.2 and no other. */
	assert_false(dialogue_through("127.0.0.2", hp[2], "Denied"));
	assert_true(log_wait(&a, "v2svc: refused peer=127.0.0.2:", T_MS));
	assert_true(dialogue_through("127.0.0.3", hp[2], "Sarah"));
	assert_true(log_wait(&a, "v2svc: connect peer=127.0.0.3:", T_MS));
	/* Straight to the service, from outside proxy_from. */
	fd = tcp_connect_from("127.0.0.2", "127.0.0.1", a.port[2], T_MS);
	assert_true(fd >= 0);
	refused(fd);
	assert_true(log_wait(&a, "reason=proxy_untrusted\n", T_MS));

	/* Scale-out: both hellods answer the health checks, and the clients. */
	assert_true(log_wait(&a, "hello: connect peer=127.0.0.1:", harness_ms(6000)));
	assert_true(log_wait(&b, "hello: connect peer=127.0.0.1:", harness_ms(6000)));
	for (i = 0; i < 20; i++)
		assert_true(dialogue_through("127.0.0.4", hp[0], "Spread"));
	assert_true(log_contains(&a, "hello: connect peer=127.0.0.4:"));
	assert_true(log_contains(&b, "hello: connect peer=127.0.0.4:"));
	/*
	 * One stops: the checks take it out, the other answers everyone.
	 * Not under valgrind, where a daemon this slow misses checks too:
	 * the point of this part is timing.
	 */
	assert_int_equal(daemon_stop(&b, SIGTERM), 0);
	if (harness_valgrind()) {
		fprintf(stderr, "test_haproxy: the failover part skipped under "
		    "valgrind\n");
		assert_int_equal(daemon_stop(&a, SIGTERM), 0);
		return;
	}
	deadline = now_ms() + (uint64_t)harness_ms(20000);
	for (ok = 0; ok < 10 && now_ms() < deadline;) {
		ok = dialogue_through("127.0.0.5", hp[0], "Alone") ? ok + 1 : 0;
		if (ok == 0)
			usleep(100 * 1000);
	}
	assert_int_equal(ok, 10);
	assert_int_equal(daemon_stop(&a, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_client_from_header, harness_teardown),
		cmocka_unit_test_teardown(test_pieces_and_local, harness_teardown),
		cmocka_unit_test_teardown(test_bad_headers, harness_teardown),
		cmocka_unit_test_teardown(test_waiting_bounded, harness_teardown),
		cmocka_unit_test_teardown(test_exec_environment, harness_teardown),
		cmocka_unit_test_teardown(test_haproxy, haproxy_teardown),
	};

	harness_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
