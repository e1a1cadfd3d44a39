/* Integration: every handler over UDP, TCP with UDP on one port, the guard, bursts. */
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/time.h>
#include <sys/socket.h>

#include <ctype.h>
#include <poll.h>
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

#define T_MS		harness_ms(3000)
/* How long we wait to conclude that no reply is coming. */
#define SILENCE_MS	700

static const char *const conf_a =
    "[hello]\n"
    "protocol = tcp udp\n"
    "port = @P0@\n"
    "bind = 127.0.0.1 ::1\n"
    "handler = hello\n"
    "[banner]\n"
    "protocol = udp\n"
    "port = @P1@\n"
    "bind = 127.0.0.1\n"
    "handler = banner\n"
    "message = Hi there, this is a banner\n"
    "[echo]\n"
    "protocol = udp\n"
    "port = @P2@\n"
    "bind = 127.0.0.1 ::1\n"
    "handler = echo\n"
    "[discard]\n"
    "protocol = udp\n"
    "port = @P3@\n"
    "bind = 127.0.0.1\n"
    "handler = discard\n";

static const char *const conf_b =
    "[chargen]\n"
    "protocol = udp\n"
    "port = @P0@\n"
    "bind = 127.0.0.1\n"
    "handler = chargen\n"
    "[daytime]\n"
    "protocol = udp\n"
    "port = @P1@\n"
    "bind = 127.0.0.1\n"
    "handler = daytime\n"
    "[time]\n"
    "protocol = udp\n"
    "port = @P2@\n"
    "bind = 127.0.0.1\n"
    "handler = time\n"
    "[qotd]\n"
    "protocol = udp\n"
    "port = @P3@\n"
    "bind = 127.0.0.1\n"
    "handler = qotd\n"
    "file = @DIR@/quotes\n";

static struct daemon da, db;

static int
setup(void **state)
{
	(void)state;
	harness_write_file(harness_path("quotes"),
	    "The quick brown fox\njumps over the lazy dog.\n");
	if (daemon_start(&da, conf_a) != 0)
		return -1;
	if (daemon_start_with(&db, conf_b, HD_PROBE_LOG, NULL) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	int a = daemon_stop(&da, SIGTERM), b = daemon_stop(&db, SIGTERM);

	harness_teardown(state);
	return a == 0 && b == 0 ? 0 : -1;
}

/* Ask and expect exactly want back. */
static void
ask_expect(const char *host, uint16_t port, const char *req, const char *want)
{
	char buf[2048];
	ssize_t n;

	n = udp_ask(host, port, req, strlen(req), buf, sizeof(buf) - 1, T_MS);
	if (n < 0)
		fail_msg("no reply to \"%s\" from %s port %u", req, host, port);
	assert_true((size_t)n < sizeof(buf));
	buf[n] = '\0';
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
}

static void
test_hello(void **state)
{
	(void)state;
	ask_expect("127.0.0.1", da.port[0], "Michael", "Hello, Michael!");
	ask_expect("127.0.0.1", da.port[0], "Tracy\n", "Hello, Tracy!");
	ask_expect("127.0.0.1", da.port[0], "Sarah\r\n", "Hello, Sarah!");
	if (harness_have_ipv6())
		ask_expect("::1", da.port[0], "Michael", "Hello, Michael!");
}

static void
test_hello_empty(void **state)
{
	char buf[600];
	int fd;

	(void)state;
	fd = udp_socket("127.0.0.1", 0);
	assert_true(fd >= 0);
	/* An empty message, after its line ending goes, gets no reply. */
	assert_int_equal(udp_exchange(fd, "127.0.0.1", da.port[0], "\r\n", 2,
	    buf, sizeof(buf), SILENCE_MS), -1);
	/* The same socket is answered otherwise. */
	assert_int_equal(udp_exchange(fd, "127.0.0.1", da.port[0], "Sarah", 5,
	    buf, sizeof(buf), T_MS), 13);
	assert_memory_equal(buf, "Hello, Sarah!", 13);
	close(fd);
}

static void
test_banner(void **state)
{
	(void)state;
	ask_expect("127.0.0.1", da.port[1], "x", "Hi there, this is a banner");
}

static void
test_echo(void **state)
{
	char req[1000], buf[2048];
	size_t i;
	ssize_t n;

	(void)state;
	ask_expect("127.0.0.1", da.port[2], "abc\r\nxyz", "abc\r\nxyz");
	if (harness_have_ipv6())
		ask_expect("::1", da.port[2], "over six", "over six");
	for (i = 0; i < sizeof(req); i++)
		req[i] = (char)('a' + i % 26);
	n = udp_ask("127.0.0.1", da.port[2], req, sizeof(req), buf,
	    sizeof(buf), T_MS);
	assert_int_equal(n, 1000);
	assert_memory_equal(buf, req, sizeof(req));
}

static void
test_discard(void **state)
{
	char buf[600];

	(void)state;
	assert_int_equal(udp_ask("127.0.0.1", da.port[3], "hello?", 6, buf,
	    sizeof(buf), SILENCE_MS), -1);
	/* The daemon is still there: echo answers. */
	ask_expect("127.0.0.1", da.port[2], "ping", "ping");
}

static void
test_chargen(void **state)
{
	char buf[2048];
	ssize_t n, i;

	(void)state;
	n = udp_ask("127.0.0.1", db.port[0], "x", 1, buf, sizeof(buf), T_MS);
	assert_true(n >= 0);
	assert_true(n <= 512);
	for (i = 0; i < n; i++)
		assert_true(isprint((unsigned char)buf[i]) || buf[i] == '\r' ||
		    buf[i] == '\n');
}

static void
test_daytime(void **state)
{
	static const char shape[] =
	    "^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), "
	    "(January|February|March|April|May|June|July|August|September|"
	    "October|November|December) [0-9 ]?[0-9], [0-9]{4} "
	    "[0-2][0-9]:[0-5][0-9]:[0-6][0-9]-[A-Za-z0-9+:-]+(\r\n)?$";
	regex_t re;
	char buf[600];
	ssize_t n;

	(void)state;
	assert_int_equal(regcomp(&re, shape, REG_EXTENDED | REG_NOSUB), 0);
	n = udp_ask("127.0.0.1", db.port[1], "x", 1, buf, sizeof(buf) - 1, T_MS);
	assert_true(n > 0 && n < (ssize_t)sizeof(buf));
	buf[n] = '\0';
	if (regexec(&re, buf, 0, NULL, 0) != 0)
		fail_msg("daytime reply has the wrong shape: \"%s\"", buf);
	regfree(&re);
}

static void
test_time(void **state)
{
	unsigned char b[64];
	uint32_t got, want;

	(void)state;
	assert_int_equal(udp_ask("127.0.0.1", db.port[2], "", 0, b, sizeof(b),
	    T_MS), 4);
	got = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	want = (uint32_t)((uint64_t)time(NULL) + 2208988800ULL);
	assert_true(got - want + 5 <= 10);
}

static void
test_qotd(void **state)
{
	char buf[1024], norm[1024];
	ssize_t n, i;
	size_t j = 0;

	(void)state;
	n = udp_ask("127.0.0.1", db.port[3], "x", 1, buf, sizeof(buf), T_MS);
	assert_true(n > 0 && n <= 512);
	/* Line endings may be CRLF or LF; the text is the quote. */
	for (i = 0; i < n; i++)
		if (buf[i] != '\r')
			norm[j++] = buf[i];
	while (j > 0 && norm[j - 1] == '\n')
		j--;
	norm[j] = '\0';
	assert_string_equal(norm, "The quick brown fox\njumps over the lazy dog.");
}

static void
test_tcp_and_udp_same_port(void **state)
{
	char line[256];
	int fd;

	(void)state;
	fd = tcp_connect("127.0.0.1", da.port[0], T_MS);
	assert_true(fd >= 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Welcome!\r\n");
	/* While the TCP conversation is open, UDP on the same port answers. */
	ask_expect("127.0.0.1", da.port[0], "Tracy", "Hello, Tracy!");
	assert_int_equal(send_str(fd, "Michael\n"), 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Hello, Michael!\r\n");
	ask_expect("127.0.0.1", da.port[0], "Sarah", "Hello, Sarah!");
	close(fd);
}

/*
 * A service on the wildcard replies from the address the datagram was
 * sent to (IP_PKTINFO): a client that connected its socket to 127.0.0.2
 * takes no reply from 127.0.0.1.  One bound to an address replies from it.
 */
static void
test_reply_source(void **state)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct pollfd pfd = { .events = POLLIN };
	struct daemon d;
	char	 buf[64];
	int	 i;

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[any]\nprotocol = udp\nport = @P0@\nhandler = echo\n"
	    "source_rate = unlimited\n"
	    "[one]\nprotocol = udp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = echo\nsource_rate = unlimited\n", HD_PROBE_LOG, NULL), 0);
	for (i = 0; i < 2; i++) {
		to.sin_port = htons(d.port[i]);
		to.sin_addr.s_addr = htonl(i == 0 ? 0x7f000002 : INADDR_LOOPBACK);
		pfd.fd = socket(AF_INET, SOCK_DGRAM, 0);
		assert_true(pfd.fd >= 0);
		assert_int_equal(connect(pfd.fd, (struct sockaddr *)&to,
		    sizeof(to)), 0);
		assert_int_equal(send(pfd.fd, "Ann", 3, 0), 3);
		assert_int_equal(poll(&pfd, 1, T_MS), 1);
		assert_int_equal(recv(pfd.fd, buf, sizeof(buf), 0), 3);
		assert_memory_equal(buf, "Ann", 3);
		close(pfd.fd);
	}
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* A datagram from sport gets no reply (skipped when we cannot bind sport). */
static bool
guard_drops(uint16_t sport)
{
	char buf[600];
	int fd = udp_socket("127.0.0.1", sport);
	ssize_t n;

	if (fd == -1)
		return false;
	n = udp_exchange(fd, "127.0.0.1", da.port[0], "Michael", 7, buf,
	    sizeof(buf), SILENCE_MS);
	close(fd);
	assert_int_equal(n, -1);
	return true;
}

#define BURST_SOCKS	5
#define BURST_EACH	12	/* datagrams per socket: 60 in all, several batches */
#define BURST_BIG	20000	/* one datagram this long among them */

/* A UDP socket on 127.0.0.1, any port, with a receive timeout. */
static int
burst_socket(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 3 };
	int	 fd;

	assert_true((fd = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return fd;
}

/* The payload of datagram j of socket k (the big one long, the others short). */
static size_t
burst_payload(char *buf, size_t len, int k, int j)
{
	size_t	 n = (size_t)snprintf(buf, len, "socket %d datagram %d", k, j);

	if (k == 0 && j == BURST_EACH / 2) {
		memset(buf + n, 'b', BURST_BIG - n);
		n = BURST_BIG;
	}
	return n;
}

/*
 * Sixty datagrams from five sockets wait in the queue of the echo service
 * (the daemon stopped meanwhile), a long one among them, and one from a
 * source the guard refuses when we may bind one: read in batches, each
 * answered to its own sender, in order, the refused one alone unanswered.
 */
static void
test_burst(void **state)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	static char buf[BURST_BIG + 1], want[BURST_BIG + 1];
	int	 fd[BURST_SOCKS], low = -1, k, j;
	size_t	 len;
	ssize_t	 n;

	(void)state;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons(da.port[2]);
	for (k = 0; k < BURST_SOCKS; k++)
		fd[k] = burst_socket();
	if (geteuid() == 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_true((low = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
		for (j = 1000; j > 900; j--) {
			sin.sin_port = htons((uint16_t)j);
			if (bind(low, (struct sockaddr *)&sin, sizeof(sin)) == 0)
				break;
		}
		if (j == 900) {
			close(low);
			low = -1;
		}
	}
	assert_int_equal(kill(da.pid, SIGSTOP), 0);
	for (j = 0; j < BURST_EACH; j++)
		for (k = 0; k < BURST_SOCKS; k++) {
			len = burst_payload(buf, sizeof(buf), k, j);
			assert_int_equal(sendto(fd[k], buf, len, 0,
			    (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
			if (low != -1 && j == 3 && k == 2)
				assert_int_equal(sendto(low, "from a low port", 15, 0,
				    (struct sockaddr *)&to, sizeof(to)), 15);
		}
	assert_int_equal(kill(da.pid, SIGCONT), 0);
	for (k = 0; k < BURST_SOCKS; k++) {
		for (j = 0; j < BURST_EACH; j++) {
			len = burst_payload(want, sizeof(want), k, j);
			n = recv(fd[k], buf, sizeof(buf), 0);
			if (n < 0)
				fail_msg("socket %d: no reply to datagram %d", k, j);
			assert_int_equal(n, (ssize_t)len);
			assert_memory_equal(buf, want, len);
		}
		close(fd[k]);
	}
	if (low != -1) {
		struct timeval tv = { .tv_usec = SILENCE_MS * 1000 };

		assert_int_equal(setsockopt(low, SOL_SOCKET, SO_RCVTIMEO, &tv,
		    sizeof(tv)), 0);
		assert_true(recv(low, buf, sizeof(buf), 0) < 0);
		close(low);
	}
}

static void
test_guard_low_port(void **state)
{
	uint16_t p;
	bool tried = false;

	(void)state;
	if (geteuid() != 0)
		skip();
	for (p = 1023; p > 900 && !tried; p--)
		tried = guard_drops(p);
	assert_true(tried);
	/* From an ordinary port the same datagram is answered. */
	ask_expect("127.0.0.1", da.port[0], "Michael", "Hello, Michael!");
}

static void
test_guard_nfs_port(void **state)
{
	(void)state;
	/* 2049 might be another UDP service; a loop must not start. */
	if (!guard_drops(2049))
		skip();
	ask_expect("127.0.0.1", da.port[0], "Michael", "Hello, Michael!");
}

/*
 * A hello reply never exceeds max(512, request size): a request whose
 * reply would be longer gets the reply cut to exactly that size, the
 * template's expansion up to there ("Hello, " and the message, the "!"
 * and maybe some of the message cut off).
 */
static void
hello_cap(size_t reqlen)
{
	char req[700], buf[2048], want[2048];
	size_t cap = reqlen > 512 ? reqlen : 512;
	ssize_t n;

	assert_true(reqlen <= sizeof(req));
	memset(req, 'x', reqlen);
	snprintf(want, sizeof(want), "Hello, %.*s!", (int)reqlen, req);
	assert_true(strlen(want) > cap);
	n = udp_ask("127.0.0.1", da.port[0], req, reqlen, buf, sizeof(buf), T_MS);
	assert_int_equal(n, (ssize_t)cap);
	assert_memory_equal(buf, want, cap);
}

static void
test_hello_reply_cap(void **state)
{
	char req[100], buf[600];

	(void)state;
	hello_cap(505);		/* the full reply would be 513 bytes */
	hello_cap(600);		/* the full reply would be 608 bytes */
	/* Below the cap the reply is whole. */
	memset(req, 'y', sizeof(req));
	assert_int_equal(udp_ask("127.0.0.1", da.port[0], req, sizeof(req), buf,
	    sizeof(buf), T_MS), 108);
	assert_memory_equal(buf + 7, req, sizeof(req));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_hello_empty),
		cmocka_unit_test(test_banner),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_discard),
		cmocka_unit_test(test_chargen),
		cmocka_unit_test(test_daytime),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_qotd),
		cmocka_unit_test(test_tcp_and_udp_same_port),
		cmocka_unit_test(test_reply_source),
		cmocka_unit_test(test_guard_low_port),
		cmocka_unit_test(test_guard_nfs_port),
		cmocka_unit_test(test_hello_reply_cap),
	};

	harness_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
