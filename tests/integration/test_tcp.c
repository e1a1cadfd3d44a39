/* Integration: every handler over TCP, byte for byte, and the connection log. */
#include <sys/types.h>
#include <arpa/inet.h>

#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "harness.h"
#include "snippets.h"

#define T_MS	harness_ms(5000)

/* One daemon serves every handler test: each handler on its own port. */
static const char *const conf_all =
    "[global]\n"
    "shutdown_grace = 2s\n"
    "[hello]\n"
    "protocol = tcp\n"
    "port = @P0@\n"
    "bind = 127.0.0.1 ::1\n"
    "handler = hello\n"
    "greeting = Welcome!\n"
    "max_line = 16\n"
    "[banner]\n"
    "protocol = tcp\n"
    "port = @P1@\n"
    "bind = 127.0.0.1\n"
    "handler = banner\n"
    "message = Hi there, this is a banner\n"
    "[echo]\n"
    "protocol = tcp\n"
    "port = @P2@\n"
    "bind = 127.0.0.1 ::1\n"
    "handler = echo\n"
    "[discard]\n"
    "protocol = tcp\n"
    "port = @P3@\n"
    "bind = 127.0.0.1\n"
    "handler = discard\n";

/* The second daemon: chargen, daytime, time and qotd. */
static const char *const conf_rfc =
    "[chargen]\n"
    "protocol = tcp\n"
    "port = @P0@\n"
    "bind = 127.0.0.1\n"
    "handler = chargen\n"
    "[daytime]\n"
    "protocol = tcp\n"
    "port = @P1@\n"
    "bind = 127.0.0.1\n"
    "handler = daytime\n"
    "[time]\n"
    "protocol = tcp\n"
    "port = @P2@\n"
    "bind = 127.0.0.1\n"
    "handler = time\n"
    "[qotd]\n"
    "protocol = tcp\n"
    "port = @P3@\n"
    "bind = 127.0.0.1\n"
    "handler = qotd\n"
    "file = @DIR@/quotes\n";

static const char *const quote1 = "The quick brown fox\njumps over the lazy dog.";
static const char *const quote2 = "Simplicity is prerequisite for reliability.";

static struct daemon d_all, d_rfc;

static int
setup(void **state)
{
	(void)state;
	harness_write_file(harness_path("quotes"), "%s\n\n%s\n", quote1, quote2);
	if (daemon_start(&d_all, conf_all) != 0)
		return -1;
	if (daemon_start(&d_rfc, conf_rfc) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	int a = daemon_stop(&d_all, SIGTERM), b = daemon_stop(&d_rfc, SIGTERM);

	harness_teardown(state);
	/* An exit other than 0 also catches a sanitizer report at exit. */
	return a == 0 && b == 0 ? 0 : -1;
}

static int
connect_greeted(const char *host, uint16_t port)
{
	char line[256];
	int fd = tcp_connect(host, port, T_MS);

	assert_true(fd >= 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Welcome!\r\n");
	return fd;
}

static void
test_hello_dialogue(void **state)
{
	char line[256];
	int fd;

	(void)state;
	fd = connect_greeted("127.0.0.1", d_all.port[0]);
	assert_int_equal(send_str(fd, "Michael\r\n"), 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Hello, Michael!\r\n");
	assert_int_equal(send_str(fd, "Tracy\n"), 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Hello, Tracy!\r\n");
	/* An empty line gets no reply; the next message does. */
	assert_int_equal(send_str(fd, "\r\n\nSarah\n"), 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Hello, Sarah!\r\n");
	/* The quit word closes the connection without a reply. */
	assert_int_equal(send_str(fd, "exit\n"), 0);
	assert_int_equal(read_all(fd, line, sizeof(line), T_MS), 0);
	close(fd);
}

static void
test_hello_logged(void **state)
{
	char line[256];
	int fd;

	(void)state;
	fd = connect_greeted("127.0.0.1", d_all.port[0]);
	assert_true(log_wait(&d_all, "hello: connect peer=127.0.0.1:", T_MS));
	assert_int_equal(send_str(fd, "exit\n"), 0);
	assert_int_equal(read_all(fd, line, sizeof(line), T_MS), 0);
	close(fd);
	assert_true(log_wait(&d_all, "reason=quit", T_MS));
	assert_true(log_contains(&d_all, "hello: end peer=127.0.0.1:"));
	assert_true(log_contains(&d_all, " duration="));
	assert_true(log_contains(&d_all, " in="));
	assert_true(log_contains(&d_all, " out="));
}

static void
test_hello_too_long(void **state)
{
	char buf[256];
	int fd;

	(void)state;
	fd = connect_greeted("127.0.0.1", d_all.port[0]);
	assert_int_equal(send_str(fd, "abcdefghijklmnopqrstuvwxyz0123456789\n"), 0);
	assert_true(read_all(fd, buf, sizeof(buf), T_MS) >= 0);
	assert_string_equal(buf, "Error: message too long (max 16 bytes)\r\n");
	close(fd);
	assert_true(log_wait(&d_all, "reason=too_long", T_MS));
}

static void
test_hello_ipv6(void **state)
{
	char line[256];
	int fd;

	(void)state;
	if (!harness_have_ipv6())
		skip();
	fd = connect_greeted("::1", d_all.port[0]);
	assert_int_equal(send_str(fd, "Michael\n"), 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Hello, Michael!\r\n");
	close(fd);
	assert_true(log_wait(&d_all, "hello: connect peer=[::1]:", T_MS));
}

static void
test_banner(void **state)
{
	char buf[256];
	int fd;

	(void)state;
	fd = tcp_connect("127.0.0.1", d_all.port[1], T_MS);
	assert_true(fd >= 0);
	assert_int_equal(read_all(fd, buf, sizeof(buf), T_MS), 28);
	assert_string_equal(buf, "Hi there, this is a banner\r\n");
	close(fd);
}

static void
test_echo(const char *host)
{
	char big[4096], back[4096];
	char buf[64];
	size_t i;
	int fd;

	fd = tcp_connect(host, d_all.port[2], T_MS);
	assert_true(fd >= 0);
	assert_int_equal(send_str(fd, "abc\r\nxyz"), 0);
	assert_int_equal(read_n(fd, buf, 8, T_MS), 8);
	assert_memory_equal(buf, "abc\r\nxyz", 8);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	assert_int_equal(send_all(fd, big, sizeof(big)), 0);
	assert_int_equal(read_n(fd, back, sizeof(back), T_MS), sizeof(back));
	assert_memory_equal(big, back, sizeof(big));
	/* Nothing more comes back than was sent. */
	assert_int_equal(wait_eof(fd, 200), 0);
	close(fd);
}

static void
test_echo_v4(void **state)
{
	(void)state;
	test_echo("127.0.0.1");
}

static void
test_echo_v6(void **state)
{
	(void)state;
	if (!harness_have_ipv6())
		skip();
	test_echo("::1");
}

static void
test_discard(void **state)
{
	int fd;

	(void)state;
	fd = tcp_connect("127.0.0.1", d_all.port[3], T_MS);
	assert_true(fd >= 0);
	assert_int_equal(send_str(fd, "nothing comes back\r\n"), 0);
	assert_int_equal(send_str(fd, "not even this\n"), 0);
	/* No bytes back, and the connection stays open until we close it. */
	assert_int_equal(wait_eof(fd, 500), 0);
	assert_int_equal(send_str(fd, "still here\n"), 0);
	assert_int_equal(wait_eof(fd, 200), 0);
	close(fd);
}

static void
test_chargen(void **state)
{
	/*
	 * The ring of the 95 printable characters starts at the space, as in
	 * BSD inetd; RFC 864's sample output begins one line later.
	 */
	static const char first[] =
	    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n";
	static const char second[] =
	    "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n";
	char line[256];
	int fd;

	(void)state;
	assert_int_equal(strlen(first), 74);
	fd = tcp_connect("127.0.0.1", d_rfc.port[0], T_MS);
	assert_true(fd >= 0);
	assert_int_equal(read_line(fd, line, sizeof(line), T_MS), 74);
	assert_string_equal(line, first);
	assert_int_equal(read_line(fd, line, sizeof(line), T_MS), 74);
	assert_string_equal(line, second);
	/* It keeps sending until we leave. */
	assert_int_equal(wait_eof(fd, T_MS), -2);
	close(fd);
}

static void
test_daytime(void **state)
{
	static const char shape[] =
	    "^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), "
	    "(January|February|March|April|May|June|July|August|September|"
	    "October|November|December) [0-9 ]?[0-9], [0-9]{4} "
	    "[0-2][0-9]:[0-5][0-9]:[0-6][0-9]-[A-Za-z0-9+:-]+\r\n$";
	regex_t re;
	char buf[256];
	int fd;

	(void)state;
	assert_int_equal(regcomp(&re, shape, REG_EXTENDED | REG_NOSUB), 0);
	fd = tcp_connect("127.0.0.1", d_rfc.port[1], T_MS);
	assert_true(fd >= 0);
	assert_true(read_all(fd, buf, sizeof(buf), T_MS) > 0);
	close(fd);
	if (regexec(&re, buf, 0, NULL, 0) != 0)
		fail_msg("daytime line has the wrong shape: \"%s\"", buf);
	regfree(&re);
}

static void
test_time(void **state)
{
	unsigned char b[8];
	uint32_t got, want;
	int fd;

	(void)state;
	fd = tcp_connect("127.0.0.1", d_rfc.port[2], T_MS);
	assert_true(fd >= 0);
	/* Exactly 4 bytes, then the server closes. */
	assert_int_equal(read_all(fd, (char *)b, sizeof(b), T_MS), 4);
	close(fd);
	got = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	want = (uint32_t)((uint64_t)time(NULL) + 2208988800ULL);
	assert_true(got - want + 5 <= 10);	/* within 5 s, modulo 2^32 */
}

static void
test_qotd(void **state)
{
	char buf[1024];
	int fd;

	(void)state;
	fd = tcp_connect("127.0.0.1", d_rfc.port[3], T_MS);
	assert_true(fd >= 0);
	assert_true(read_all(fd, buf, sizeof(buf), T_MS) > 0);
	close(fd);
	if (strcmp(buf, "The quick brown fox\r\njumps over the lazy dog.\r\n") != 0 &&
	    strcmp(buf, "Simplicity is prerequisite for reliability.\r\n") != 0)
		fail_msg("qotd sent \"%s\"", buf);
}

static const char *const conf_idle =
    SN_HELLO_TCP
    "idle_timeout = 1s\n";

static void
test_idle_timeout(void **state)
{
	struct daemon d;
	uint64_t t0, waited;
	char buf[64];
	int fd;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_idle), 0);
	fd = connect_greeted("127.0.0.1", d.port[0]);
	t0 = now_ms();
	assert_int_equal(wait_eof(fd, T_MS), 1);
	waited = now_ms() - t0;
	assert_true(waited >= 800);
	assert_true(read_all(fd, buf, sizeof(buf), T_MS) == 0);
	close(fd);
	assert_true(log_wait(&d, "reason=idle_timeout", T_MS));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* Open and quit one hello connection on port, so that its lines are logged. */
static void
hello_quit(uint16_t port)
{
	char	 buf[64];
	int	 fd = connect_greeted("127.0.0.1", port);

	assert_int_equal(send_str(fd, "exit\n"), 0);
	assert_int_equal(read_all(fd, buf, sizeof(buf), T_MS), 0);
	close(fd);
}

/* The peer of the n-th (0, 1, ...) "NAME: connect peer=" line of the log, into out. */
static void
logged_peer(struct daemon *d, const char *name, unsigned n, char *out,
    size_t len)
{
	char	 needle[64], *log = harness_read_file(d->log), *p = log;
	size_t	 i;

	snprintf(needle, sizeof(needle), "%s: connect peer=", name);
	for (i = 0; (p = strstr(p, needle)) != NULL; i++, p++)
		if (i == n)
			break;
	assert_non_null(p);
	p += strlen(needle);
	for (i = 0; i + 1 < len && p[i] != '\n' && p[i] != '\0'; i++)
		out[i] = p[i];
	out[i] = '\0';
	free(log);
}

/*
 * log_peer: the same client hashes the same across connections (each is
 * logged by its own child, so the key must be drawn before the fork),
 * prefix shows the network, none hides the peer.
 */
static void
test_log_peer(void **state)
{
	struct daemon d;
	char	 a[64], b[64];

	(void)state;
	assert_int_equal(daemon_start(&d,
	    "[hashed]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\nlog_peer = hash\n"
	    "[netted]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = hello\nlog_peer = prefix\n"
	    "[hidden]\nprotocol = tcp\nport = @P2@\nbind = 127.0.0.1\n"
	    "handler = hello\nlog_peer = none\n"), 0);
	hello_quit(d.port[0]);
	hello_quit(d.port[0]);
	hello_quit(d.port[1]);
	hello_quit(d.port[2]);
	assert_true(log_wait_n(&d, "reason=quit", 4, T_MS));
	/* The probe's connection was the first on port 0: compare the next two. */
	logged_peer(&d, "hashed", 1, a, sizeof(a));
	logged_peer(&d, "hashed", 2, b, sizeof(b));
	assert_int_equal(strlen(a), 10);
	assert_true(strncmp(a, "h:", 2) == 0);
	assert_string_equal(a, b);
	logged_peer(&d, "netted", 0, a, sizeof(a));
	assert_string_equal(a, "127.0.0.0/24");
	logged_peer(&d, "hidden", 0, a, sizeof(a));
	assert_string_equal(a, "-");
	assert_false(log_contains(&d, "hashed: connect peer=127.0.0.1"));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * SIGTERM with connections open: each child ends its conversation,
 * logs its end line (reason=shutdown) and closes, within shutdown_grace.
 */
static void
test_shutdown_end_line(void **state)
{
	struct daemon d;
	char	 buf[64];
	int	 a, b;

	(void)state;
	assert_int_equal(daemon_start_with(&d, "[global]\nshutdown_grace = 5s\n"
	    "[hello]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\n"
	    "[echo]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = echo\n", HD_PROBE_LOG, NULL), 0);
	a = connect_greeted("127.0.0.1", d.port[0]);
	b = tcp_connect("127.0.0.1", d.port[1], T_MS);
	assert_true(b >= 0);
	assert_true(log_wait_n(&d, ": connect peer=127.0.0.1:", 2, T_MS));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	assert_true(log_contains(&d, "hello: end peer=127.0.0.1:"));
	assert_true(log_contains(&d, "echo: end peer=127.0.0.1:"));
	assert_int_equal(log_count(&d, "reason=shutdown"), 2);
	/* And the clients saw an orderly close. */
	assert_int_equal(read_all(a, buf, sizeof(buf), T_MS), 0);
	assert_int_equal(read_all(b, buf, sizeof(buf), T_MS), 0);
	close(a);
	close(b);
}

/* Whether pid has descriptor n open. */
static bool
has_fd(pid_t pid, int n)
{
	char	 path[64];

	snprintf(path, sizeof(path), "/proc/%ld/fd/%d", (long)pid, n);
	return access(path, F_OK) == 0;
}

/*
 * An echo conversation with d's service on port 0 from host, left open:
 * its child, in *kid, holds the connection on 3 and the report pipe on 4,
 * and nothing on 5.  Returns the client's socket.
 */
static int
echo_child(const struct daemon *d, const char *host, pid_t *kid)
{
	char	 buf[256];
	int	 fd;

	fd = tcp_connect(host, d->port[0], T_MS);
	assert_true(fd >= 0);
	assert_int_equal(send_str(fd, "Ann\n"), 0);
	assert_int_equal(read_line(fd, buf, sizeof(buf), T_MS), 4);
	assert_true(proc_wait_children(d->pid, 1, T_MS));
	assert_int_equal(proc_children(d->pid, kid, 1), 1);
	assert_true(has_fd(*kid, 3));
	assert_true(has_fd(*kid, 4));
	assert_false(has_fd(*kid, 5));
	return fd;
}

/*
 * Beside many listeners (40 addresses, TCP and UDP: 80 sockets, at
 * descriptor 1024 and above), a child starts on the daemon's table of
 * descriptors and takes one of its own: it holds its connection and the
 * report pipe only; the daemon lets go of each connection's descriptor
 * (its count does not grow); a service that closes first (daytime) is seen
 * to close at once, twenty times over.
 */
static void
test_many_listeners(void **state)
{
	struct daemon d;
	char	 tmpl[1024], buf[256];
	size_t	 off;
	pid_t	 kid;
	int	 fd, fds, i;

	(void)state;
	if (harness_nofile(4096) == -1)
		skip();
	off = (size_t)snprintf(tmpl, sizeof(tmpl),
	    "[echo]\nprotocol = tcp udp\nport = @P0@\nhandler = echo\nbind =");
	for (i = 1; i <= 40; i++)	/* ten a line, the others indented */
		off += (size_t)snprintf(tmpl + off, sizeof(tmpl) - off,
		    "%s 127.0.0.%d", i % 10 == 1 && i > 1 ? "\n " : "", i);
	snprintf(tmpl + off, sizeof(tmpl) - off, "\n[daytime]\nprotocol = tcp\n"
	    "port = @P1@\nbind = 127.0.0.1\nhandler = daytime\n");
	assert_int_equal(daemon_start(&d, tmpl), 0);
	assert_true(has_fd(d.pid, 1024));
	/* The count once the start-up's probe has gone. */
	assert_true(proc_wait_children(d.pid, 0, T_MS));
	fds = proc_fds(d.pid);
	fd = echo_child(&d, "127.0.0.7", &kid);
	assert_false(has_fd(kid, 1024));
	close(fd);
	for (i = 0; i < 20; i++) {
		fd = tcp_connect("127.0.0.1", d.port[1], T_MS);
		assert_true(fd >= 0);
		assert_true(read_all(fd, buf, sizeof(buf), T_MS) > 0);
		close(fd);
	}
	assert_true(proc_wait_children(d.pid, 0, T_MS));
	/* None held for long: no more than at the start (fewer under valgrind). */
	for (i = 0; i < 100 && proc_fds(d.pid) > fds; i++)
		usleep(10000);
	assert_true(proc_fds(d.pid) <= fds);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * Beside a few listeners, they stay low: a table of descriptors past
 * 1024 would cost every fork a copy of it, and every child a walk of it.
 */
static void
test_few_listeners_low(void **state)
{
	struct daemon d;
	pid_t	 kid;

	(void)state;
	assert_int_equal(daemon_start(&d, "[echo]\nprotocol = tcp udp\n"
	    "port = @P0@\nbind = 127.0.0.1\nhandler = echo\n"), 0);
	assert_false(has_fd(d.pid, 1024));
	assert_true(proc_wait_children(d.pid, 0, T_MS));
	close(echo_child(&d, "127.0.0.1", &kid));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_dialogue),
		cmocka_unit_test(test_hello_logged),
		cmocka_unit_test(test_hello_too_long),
		cmocka_unit_test(test_hello_ipv6),
		cmocka_unit_test(test_banner),
		cmocka_unit_test(test_echo_v4),
		cmocka_unit_test(test_echo_v6),
		cmocka_unit_test(test_discard),
		cmocka_unit_test(test_chargen),
		cmocka_unit_test(test_daytime),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_qotd),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_log_peer),
		cmocka_unit_test(test_shutdown_end_line),
		cmocka_unit_test(test_many_listeners),
		cmocka_unit_test(test_few_listeners_low),
	};

	harness_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
