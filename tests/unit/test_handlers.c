/* Unit tests of the handlers: hello framing, pure helpers, UDP replies, TCP over socketpairs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "conn.h"
#include "handler.h"
#include "util.h"

/* Every wait of the client side gives up after this long. */
#define WAIT_MS		3000

static char s_name[] = "test";

/*
 * A service as config_load would make it, with a short idle timeout; its
 * handler's settings are the handler's defaults (no hconf) until
 * settings() gives it some.
 */
static void
fake_service(struct service *svc)
{
	memset(svc, 0, sizeof(*svc));
	strlcpy(svc->name, s_name, sizeof(svc->name));
	svc->protocols = PROTO_TCP | PROTO_UDP;
	svc->enabled = true;
	svc->idle_timeout_ms = 2000;
	svc->log_peer = LOG_PEER_NONE;
}

/* Configurations loaded by settings(), freed after each test. */
static struct config *loaded[32];
static size_t nloaded;

static void
print_load_error(void *arg, const char *msg)
{
	(void)arg;
	print_error("%s\n", msg);
}

/* Give svc the settings a configuration with these lines gives handler. */
static void
settings(struct service *svc, const char *handler, const char *lines)
{
	char	 text[2048];
	unsigned nerr = 0;
	struct config *conf;

	snprintf(text, sizeof(text), "[s]\nprotocol = tcp udp\nport = 7\n"
	    "handler = %s\n%s", handler, lines);
	conf = config_load_string("t.ini", text, print_load_error, NULL, &nerr);
	assert_non_null(conf);
	assert_true(nloaded < sizeof(loaded) / sizeof(loaded[0]));
	loaded[nloaded++] = conf;
	svc->hconf = conf->services[0].hconf;
}

static int
settings_free(void **state)
{
	(void)state;
	while (nloaded > 0)
		config_free(loaded[--nloaded]);
	return 0;
}

/* Give svc, a qotd service, the quotes of a file holding text. */
static void
quotes(struct service *svc, const char *text)
{
	char	 line[PATH_MAX + 16];
	char	 path[] = "/tmp/hellod-test-quotes.XXXXXX";
	int	 fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(line, sizeof(line), "file = %s\n", path);
	settings(svc, "qotd", line);
	unlink(path);
}

/* Feed a whole string. */
static void
feed(struct hello_frame *f, const char *s)
{
	assert_int_equal(hello_frame_feed(f, s, strlen(s)), 0);
}

/* Expect the next message to be want. */
static void
expect_msg(struct hello_frame *f, const char *want)
{
	const char	*msg;
	size_t		 len;

	assert_int_equal(hello_frame_next(f, &msg, &len), HELLO_MESSAGE);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(msg, want, len);
}

static void
expect_none(struct hello_frame *f)
{
	const char	*msg;
	size_t		 len;

	assert_int_equal(hello_frame_next(f, &msg, &len), HELLO_NONE);
}

/* hello framing */

static void
test_frame_bare_word(void **state)
{
	struct hello_frame	 f;
	const char		*msg;
	size_t			 len;

	(void)state;
	hello_frame_init(&f, 1024);
	feed(&f, "Michael");
	expect_none(&f);
	assert_int_equal(hello_frame_pending(&f), 7);
	assert_int_equal(hello_frame_flush(&f, &msg, &len), HELLO_MESSAGE);
	assert_int_equal(len, 7);
	assert_memory_equal(msg, "Michael", 7);
	assert_int_equal(hello_frame_pending(&f), 0);
	assert_int_equal(hello_frame_flush(&f, &msg, &len), HELLO_NONE);
	hello_frame_free(&f);
}

/*
 * Started in the caller's store: lines that fit stay there; one that does
 * not moves, whole, to memory of the frame's own; the store is untouched
 * after that.
 */
static void
test_frame_store(void **state)
{
	struct hello_frame	 f;
	char			 store[8], big[40];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hello_frame_init_store(&f, 1024, store, sizeof(store));
	feed(&f, "Ann\nBo");
	assert_ptr_equal(f.buf, store);
	expect_msg(&f, "Ann");
	expect_none(&f);
	feed(&f, "b\n");
	assert_ptr_equal(f.buf, store);
	expect_msg(&f, "Bob");
	feed(&f, "Sarah ");
	feed(&f, big);
	assert_true(f.buf != store);
	assert_true(f.owned);
	memset(store, 0, sizeof(store));
	feed(&f, "\n");
	expect_msg(&f, "Sarah xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	expect_none(&f);
	hello_frame_free(&f);
}

static void
test_frame_crlf(void **state)
{
	struct hello_frame f;

	(void)state;
	hello_frame_init(&f, 1024);
	feed(&f, "Tracy\r\n");
	expect_msg(&f, "Tracy");
	expect_none(&f);
	assert_int_equal(hello_frame_pending(&f), 0);
	hello_frame_free(&f);
}

static void
test_frame_several_lines(void **state)
{
	struct hello_frame f;

	(void)state;
	hello_frame_init(&f, 1024);
	feed(&f, "a\nbb\r\nccc\nfrag");
	expect_msg(&f, "a");
	expect_msg(&f, "bb");
	expect_msg(&f, "ccc");
	expect_none(&f);
	assert_int_equal(hello_frame_pending(&f), 4);
	/* A CR in the middle of a line is data. */
	feed(&f, "ment\r\nx\ry\n");
	expect_msg(&f, "fragment");
	expect_msg(&f, "x\ry");
	expect_none(&f);
	hello_frame_free(&f);
}

static void
test_frame_empty_lines(void **state)
{
	struct hello_frame	 f;
	const char		*msg;
	size_t			 len;

	(void)state;
	hello_frame_init(&f, 1024);
	feed(&f, "\n\r\n\n");
	expect_none(&f);
	assert_int_equal(hello_frame_pending(&f), 0);
	feed(&f, "\r");
	expect_none(&f);
	assert_int_equal(hello_frame_flush(&f, &msg, &len), HELLO_NONE);
	assert_int_equal(hello_frame_pending(&f), 0);
	feed(&f, "\n\nSarah\n");
	expect_msg(&f, "Sarah");
	hello_frame_free(&f);
}

/*
 * Every CR at the end of a line goes, as on UDP, so that no reply carries
 * one (found by fuzzing: "a\r\r\n" was the message "a\r"); max_line
 * still counts them.
 */
static void
test_frame_trailing_crs(void **state)
{
	struct hello_frame	 f;
	const char		*msg;
	size_t			 len;

	(void)state;
	hello_frame_init(&f, 6);
	feed(&f, "Sarah\r\r\n\r\r\nab\r\r");
	expect_msg(&f, "Sarah");
	/* A line of CRs is an empty line. */
	expect_none(&f);
	assert_int_equal(hello_frame_pending(&f), 4);
	assert_int_equal(hello_frame_flush(&f, &msg, &len), HELLO_MESSAGE);
	assert_int_equal(len, 2);
	assert_memory_equal(msg, "ab", 2);
	/* A CR inside stays. */
	feed(&f, "\rx\ry\r\n");
	expect_msg(&f, "\rx\ry");
	/* Six bytes and a CR LF fit; a seventh, a CR, is too long. */
	feed(&f, "abcdef\r\n");
	expect_msg(&f, "abcdef");
	feed(&f, "abcdef\r\r\n");
	assert_int_equal(hello_frame_next(&f, &msg, &len), HELLO_TOO_LONG);
	hello_frame_free(&f);
}

/* Every message of input, fed in the pieces cut at the given offsets. */
static size_t
frame_collect(const char *input, const size_t *cuts, size_t ncuts,
    char out[][16], size_t max)
{
	struct hello_frame	 f;
	const char		*msg;
	size_t			 len, from = 0, to, i, n = 0;

	hello_frame_init(&f, 1024);
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : strlen(input);
		assert_int_equal(hello_frame_feed(&f, input + from, to - from), 0);
		from = to;
		while (hello_frame_next(&f, &msg, &len) == HELLO_MESSAGE) {
			assert_true(n < max && len < 16);
			memcpy(out[n], msg, len);
			out[n++][len] = '\0';
		}
	}
	while (hello_frame_flush(&f, &msg, &len) == HELLO_MESSAGE) {
		assert_true(n < max && len < 16);
		memcpy(out[n], msg, len);
		out[n++][len] = '\0';
	}
	hello_frame_free(&f);
	return n;
}

static void
test_frame_split_everywhere(void **state)
{
	static const char input[] = "Michael\r\nTracy\n\nSarah\r\n\r\nexit\nlast";
	static const char *want[] = { "Michael", "Tracy", "Sarah", "exit", "last" };
	char	got[8][16];
	size_t	cuts[sizeof(input)], i, j, n;

	(void)state;
	/* Cut in two at every offset. */
	for (i = 0; i <= strlen(input); i++) {
		cuts[0] = i;
		n = frame_collect(input, cuts, 1, got, 8);
		assert_int_equal(n, 5);
		for (j = 0; j < n; j++)
			assert_string_equal(got[j], want[j]);
	}
	/* One byte at a time. */
	for (i = 0; i < strlen(input); i++)
		cuts[i] = i + 1;
	n = frame_collect(input, cuts, strlen(input), got, 8);
	assert_int_equal(n, 5);
	for (j = 0; j < n; j++)
		assert_string_equal(got[j], want[j]);
}

static void
test_frame_too_long(void **state)
{
	struct hello_frame	 f;
	const char		*msg;
	size_t			 len;

	(void)state;
	/* A whole line too long. */
	hello_frame_init(&f, 5);
	feed(&f, "abcdef\n");
	assert_int_equal(hello_frame_next(&f, &msg, &len), HELLO_TOO_LONG);
	hello_frame_free(&f);

	/* Too long without a newline: known before the line ends. */
	hello_frame_init(&f, 5);
	feed(&f, "abcdef");
	assert_int_equal(hello_frame_next(&f, &msg, &len), HELLO_TOO_LONG);
	hello_frame_free(&f);

	/* A pending fragment that grows past the limit. */
	hello_frame_init(&f, 5);
	feed(&f, "ok\nabc");
	expect_msg(&f, "ok");
	expect_none(&f);
	feed(&f, "def");
	assert_int_equal(hello_frame_next(&f, &msg, &len), HELLO_TOO_LONG);
	hello_frame_free(&f);

	/* The same fragment flushed at EOF. */
	hello_frame_init(&f, 5);
	assert_int_equal(hello_frame_feed(&f, "abcdef", 6), 0);
	assert_int_equal(hello_frame_flush(&f, &msg, &len), HELLO_TOO_LONG);
	hello_frame_free(&f);
}

static void
test_frame_exactly_max(void **state)
{
	struct hello_frame	 f;
	const char		*msg;
	size_t			 len;

	(void)state;
	hello_frame_init(&f, 5);
	feed(&f, "abcde\r\n");
	expect_msg(&f, "abcde");
	/* Its CR may be half of a CRLF still to come: not too long yet. */
	feed(&f, "vwxyz\r");
	expect_none(&f);
	feed(&f, "\n");
	expect_msg(&f, "vwxyz");
	feed(&f, "12345");
	expect_none(&f);
	assert_int_equal(hello_frame_flush(&f, &msg, &len), HELLO_MESSAGE);
	assert_int_equal(len, 5);
	assert_memory_equal(msg, "12345", 5);
	hello_frame_free(&f);
}

/* hello_format and the other pure helpers */

static void
test_hello_format(void **state)
{
	char		out[64];

	(void)state;
	assert_int_equal(hello_format("Hello, %s!", "Bob", 3, out, sizeof(out)), 11);
	assert_string_equal(out, "Hello, Bob!");
	assert_int_equal(hello_format("%s", "Bob", 3, out, sizeof(out)), 3);
	assert_string_equal(out, "Bob");
	assert_int_equal(hello_format("%% %s", "Bob", 3, out, sizeof(out)), 5);
	assert_string_equal(out, "% Bob");
	assert_int_equal(hello_format("100% %s", "x", 1, out, sizeof(out)), 6);
	assert_string_equal(out, "100% x");

	/* Truncation: the full length is still returned. */
	assert_int_equal(hello_format("Hello, %s!", "Bob", 3, out, 6), 11);
	assert_string_equal(out, "Hello");
	assert_int_equal(hello_format("Hello, %s!", "Bob", 3, out, 9), 11);
	assert_string_equal(out, "Hello, B");
	assert_int_equal(hello_format("Hello, %s!", "Bob", 3, NULL, 0), 11);
}

static void
test_chargen_line(void **state)
{
	char line[CHARGEN_LINE];

	(void)state;
	chargen_line(0, line);
	assert_memory_equal(line, " !\"#$%&'()*+,-./0123456789:;<=>?@"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg", CHARGEN_LINE);
	chargen_line(1, line);
	assert_memory_equal(line, "!\"#$%&'()*+,-./0123456789:;<=>?@"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh", CHARGEN_LINE);
	chargen_line(94, line);
	assert_memory_equal(line, "~ !\"#$%&'()*+,-./0123456789:;<=>?@"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdef", CHARGEN_LINE);
	chargen_line(95, line);
	assert_memory_equal(line, " !\"#$%&'()*+,-./0123456789:;<=>?@"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg", CHARGEN_LINE);
}

static void
test_time_rfc868(void **state)
{
	(void)state;
	assert_int_equal(time_rfc868(0), UINT32_C(2208988800));
	assert_int_equal(time_rfc868(2085978495), UINT32_C(4294967295));
	assert_int_equal(time_rfc868(2085978496), 0);
	assert_int_equal(time_rfc868(2085978497), 1);
	/* 2040-01-01T00:00:00Z: 2208988800 after 1970, as 1970 is after 1900. */
	assert_int_equal(time_rfc868(2208988800), UINT32_C(123010304));
	/* 1982-02-22T17:37:43Z. */
	assert_int_equal(time_rfc868(383247463), UINT32_C(2592236263));
}

static void
test_daytime_format(void **state)
{
	char	buf[128];
	char	small[8];

	(void)state;
	assert_int_equal(setenv("TZ", "UTC", 1), 0);
	tzset();
	assert_int_equal(daytime_format(0, buf, sizeof(buf)),
	    strlen("Thursday, January 01, 1970 00:00:00-UTC"));
	assert_string_equal(buf, "Thursday, January 01, 1970 00:00:00-UTC");
	daytime_format(1234567890, buf, sizeof(buf));
	assert_string_equal(buf, "Friday, February 13, 2009 23:31:30-UTC");
	assert_int_equal(daytime_format(0, small, sizeof(small)), 0);
	assert_string_equal(small, "");
}

static void
test_handler_find(void **state)
{
	static const char *names[] = { "hello", "banner", "echo", "discard",
	    "chargen", "daytime", "time", "qotd", "exec" };
	size_t i;

	(void)state;
	assert_ptr_equal(handler_find("hello"), handler_find("hello"));
	assert_ptr_equal(handler_find("qotd"), handler_find("qotd"));
	assert_non_null(handler_find("exec"));
	assert_null(handler_find("cgi"));
	assert_null(handler_find("Hello"));
	assert_null(handler_find(""));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_non_null(handlers[i]);
		assert_string_equal(handlers[i]->name, names[i]);
		assert_ptr_equal(handler_find(names[i]), handlers[i]);
		assert_int_equal(handlers[i]->protocols, PROTO_TCP | PROTO_UDP);
		assert_non_null(handlers[i]->tcp);
		/* A datagram answered inline, or the socket handed to a child. */
		assert_true((handlers[i]->udp != NULL) !=
		    (handlers[i]->udp_spawn != NULL));
	}
	assert_null(handlers[i]);
}

/* UDP replies, called directly */

static ssize_t
udp_call(const struct handler *h, const struct service *svc, const char *req,
    size_t reqlen, unsigned char *out, size_t outmax)
{
	return h->udp(svc, (const unsigned char *)req, reqlen, out, outmax);
}

static void
test_udp_hello(void **state)
{
	struct service	svc;
	unsigned char	out[1024];
	char		big[600];

	(void)state;
	fake_service(&svc);
	assert_int_equal(udp_call(handler_find("hello"), &svc, "Bob\r\n", 5, out, 512), 11);
	assert_memory_equal(out, "Hello, Bob!", 11);
	assert_int_equal(udp_call(handler_find("hello"), &svc, "Bob", 3, out, 512), 11);
	assert_int_equal(udp_call(handler_find("hello"), &svc, "", 0, out, 512), -1);
	assert_int_equal(udp_call(handler_find("hello"), &svc, "\r\n\n", 3, out, 512), -1);

	/* The reply is cut to outmax. */
	memset(big, 'x', sizeof(big));
	memset(out, 0, sizeof(out));
	assert_int_equal(udp_call(handler_find("hello"), &svc, big, sizeof(big), out,
	    sizeof(big)), sizeof(big));
	assert_memory_equal(out, "Hello, xxx", 10);
	assert_int_equal(out[sizeof(big) - 1], 'x');
	assert_int_equal(out[sizeof(big)], 0);
}

static void
test_udp_echo_discard_banner(void **state)
{
	struct service	svc;
	unsigned char	out[1000];
	char		req[1000];
	size_t		i;

	(void)state;
	fake_service(&svc);
	for (i = 0; i < sizeof(req); i++)
		req[i] = (char)(i * 7);
	assert_int_equal(udp_call(handler_find("echo"), &svc, req, 512, out, 512), 512);
	assert_memory_equal(out, req, 512);
	memset(out, 0, sizeof(out));
	assert_int_equal(udp_call(handler_find("echo"), &svc, req, 1000, out, 1000), 1000);
	assert_memory_equal(out, req, 1000);
	assert_int_equal(udp_call(handler_find("echo"), &svc, req, 1000, out, 512), 512);
	assert_int_equal(udp_call(handler_find("echo"), &svc, req, 0, out, 512), 0);

	assert_int_equal(udp_call(handler_find("discard"), &svc, req, 100, out, 512), -1);

	assert_int_equal(udp_call(handler_find("banner"), &svc, "x", 1, out, 512), 18);
	assert_memory_equal(out, "Welcome to hellod!", 18);
	assert_int_equal(udp_call(handler_find("banner"), &svc, "x", 1, out, 7), 7);
	assert_memory_equal(out, "Welcome", 7);
}

static void
test_udp_chargen(void **state)
{
	struct service	svc;
	unsigned char	out[600], want[600];
	char		line[CHARGEN_LINE];
	size_t		i, pos = 0;
	ssize_t		n;
	int		seen_long = 0;

	(void)state;
	fake_service(&svc);
	for (i = 0; pos < sizeof(want); i++) {
		chargen_line(i, line);
		memcpy(want + pos, line, sizeof(want) - pos < CHARGEN_LINE ?
		    sizeof(want) - pos : CHARGEN_LINE);
		pos += CHARGEN_LINE;
		if (pos < sizeof(want))
			want[pos++] = '\r';
		if (pos < sizeof(want))
			want[pos++] = '\n';
	}
	for (i = 0; i < 200; i++) {
		n = udp_call(handler_find("chargen"), &svc, "", 0, out, sizeof(out));
		assert_true(n >= 0 && n <= 512);
		assert_memory_equal(out, want, (size_t)n);
		if (n > 100)
			seen_long = 1;
		n = udp_call(handler_find("chargen"), &svc, "", 0, out, 100);
		assert_true(n >= 0 && n <= 100);
	}
	assert_true(seen_long);
}

static void
test_udp_daytime_time(void **state)
{
	struct service	svc;
	unsigned char	out[512];
	uint32_t	v, now;
	ssize_t		n;

	(void)state;
	fake_service(&svc);
	n = udp_call(handler_find("daytime"), &svc, "", 0, out, sizeof(out));
	assert_true(n > 20);
	assert_memory_equal(out + n - 2, "\r\n", 2);
	assert_null(memchr(out, '\n', (size_t)n - 1));
	assert_int_equal(udp_call(handler_find("daytime"), &svc, "", 0, out, 10), 10);

	now = time_rfc868(time(NULL));
	assert_int_equal(udp_call(handler_find("time"), &svc, "", 0, out, sizeof(out)), 4);
	v = (uint32_t)out[0] << 24 | (uint32_t)out[1] << 16 |
	    (uint32_t)out[2] << 8 | out[3];
	assert_true(v - now <= 2);
}

static void
test_udp_qotd(void **state)
{
	struct service	 svc;
	unsigned char	 out[1000];
	char		 longq[700];
	ssize_t		 n;
	int		 seen1 = 0, seen2 = 0, i;

	(void)state;
	fake_service(&svc);
	quotes(&svc, "one\ntwo\n\nthree\n");
	for (i = 0; i < 100; i++) {
		n = udp_call(handler_find("qotd"), &svc, "", 0, out, sizeof(out));
		if (n == 10 && memcmp(out, "one\r\ntwo\r\n", 10) == 0)
			seen1 = 1;
		else if (n == 7 && memcmp(out, "three\r\n", 7) == 0)
			seen2 = 1;
		else
			fail_msg("unexpected quote of %zd bytes", n);
	}
	assert_true(seen1 && seen2);

	/* The longest quote a file may hold: 510 bytes and CRLF. */
	memset(longq, 'q', 510);
	strlcpy(longq + 510, "\n", sizeof(longq) - 510);
	quotes(&svc, longq);
	n = udp_call(handler_find("qotd"), &svc, "", 0, out, sizeof(out));
	assert_int_equal(n, 512);
	assert_memory_equal(out + 510, "\r\n", 2);
	assert_int_equal(out[509], 'q');

	/*
	 * One that its CRLFs make longer than 512 bytes is cut to fit, and
	 * still ends with CRLF: 255 lines of "q" are 509 bytes in the file.
	 */
	for (i = 0; i < 255; i++)
		memcpy(longq + 2 * i, "q\n", 2);
	longq[509] = '\0';
	quotes(&svc, longq);
	n = udp_call(handler_find("qotd"), &svc, "", 0, out, sizeof(out));
	assert_true(n <= 512 && n >= 500);
	assert_memory_equal(out + n - 2, "\r\n", 2);
	assert_memory_equal(out, "q\r\nq\r\n", 6);

	/* No quotes (none loaded): no reply. */
	fake_service(&svc);
	assert_int_equal(udp_call(handler_find("qotd"), &svc, "", 0, out, sizeof(out)), -1);
}

/* TCP handlers: the handler runs in a thread on one end of a socketpair. */

struct tcp_run {
	const struct handler	*h;
	const struct service	*svc;
	int			 fd;	/* the handler's end */
	int			 client;
	struct conn		 c;
	pthread_t		 thread;
};

static void *
tcp_thread(void *arg)
{
	struct tcp_run *r = arg;

	conn_init(&r->c, r->fd, r->svc, NULL, 0);
	r->h->tcp(&r->c);
	close(r->fd);	/* as the child's exit would */
	return NULL;
}

static void
tcp_start(struct tcp_run *r, const struct handler *h, const struct service *svc)
{
	int sv[2];

	memset(r, 0, sizeof(*r));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r->h = h;
	r->svc = svc;
	r->fd = sv[0];
	r->client = sv[1];
	assert_int_equal(pthread_create(&r->thread, NULL, tcp_thread, r), 0);
}

static void
tcp_finish(struct tcp_run *r)
{
	assert_int_equal(pthread_join(r->thread, NULL), 0);
	close(r->client);
}

static uint64_t
now_ms(void)
{
	return util_now_ms();
}

/*
 * Read from fd until want bytes arrived, EOF, or WAIT_MS.  Returns the
 * count read (buf is NUL-terminated).
 */
static size_t
recv_upto(int fd, char *buf, size_t cap, size_t want)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	uint64_t	end = now_ms() + WAIT_MS;
	size_t		got = 0;
	ssize_t		n;

	if (want > cap - 1)
		want = cap - 1;
	while (got < want && now_ms() < end) {
		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			continue;
		n = read(fd, buf + got, want - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return got;
}

/* Everything until EOF (or WAIT_MS). */
static size_t
recv_all(int fd, char *buf, size_t cap)
{
	return recv_upto(fd, buf, cap, cap);
}

static void
send_str(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void
test_tcp_hello_tutorial(void **state)
{
	struct service	svc;
	struct tcp_run	r;
	char		buf[256];
	uint64_t	t0;

	(void)state;
	fake_service(&svc);
	tcp_start(&r, handler_find("hello"), &svc);
	assert_int_equal(recv_upto(r.client, buf, sizeof(buf), 10), 10);
	assert_string_equal(buf, "Welcome!\r\n");

	/* A bare word, no newline: answered after the 50 ms pause. */
	t0 = now_ms();
	send_str(r.client, "Michael");
	assert_int_equal(recv_upto(r.client, buf, sizeof(buf), 17), 17);
	assert_string_equal(buf, "Hello, Michael!\r\n");
	assert_true(now_ms() - t0 >= 45);

	send_str(r.client, "Tracy");
	recv_upto(r.client, buf, sizeof(buf), 15);
	assert_string_equal(buf, "Hello, Tracy!\r\n");
	send_str(r.client, "Sarah\r\n");
	recv_upto(r.client, buf, sizeof(buf), 15);
	assert_string_equal(buf, "Hello, Sarah!\r\n");

	/* The quit word: no reply, the connection closes. */
	send_str(r.client, "exit");
	assert_int_equal(recv_all(r.client, buf, sizeof(buf)), 0);
	tcp_finish(&r);
	assert_string_equal(conn_end_name(r.c.end), "quit");
	assert_int_equal(r.c.bytes_in, 7 + 5 + 7 + 4);
	assert_int_equal(r.c.bytes_out, 10 + 17 + 15 + 15);
}

static void
test_tcp_hello_lines_and_eof(void **state)
{
	struct service	svc;
	struct tcp_run	r;
	char		buf[256];

	(void)state;
	fake_service(&svc);
	settings(&svc, "hello", "greeting =\n");
	tcp_start(&r, handler_find("hello"), &svc);
	/* No greeting; two lines in one write, then a fragment and EOF. */
	send_str(r.client, "A\r\n\nB\nC");
	shutdown(r.client, SHUT_WR);
	recv_all(r.client, buf, sizeof(buf));
	assert_string_equal(buf, "Hello, A!\r\nHello, B!\r\nHello, C!\r\n");
	tcp_finish(&r);
	assert_string_equal(conn_end_name(r.c.end), "client_close");
}

static void
test_tcp_hello_too_long(void **state)
{
	struct service	svc;
	struct tcp_run	r;
	char		buf[256];

	(void)state;
	fake_service(&svc);
	settings(&svc, "hello", "max_line = 8\n");
	tcp_start(&r, handler_find("hello"), &svc);
	recv_upto(r.client, buf, sizeof(buf), 10);
	/* No newline: the error comes without waiting for the line's end. */
	send_str(r.client, "123456789");
	recv_all(r.client, buf, sizeof(buf));
	assert_string_equal(buf, "Error: message too long (max 8 bytes)\r\n");
	tcp_finish(&r);
	assert_string_equal(conn_end_name(r.c.end), "too_long");
}

static void
test_tcp_banner(void **state)
{
	struct service	svc;
	struct tcp_run	r;
	char		buf[256];

	(void)state;
	fake_service(&svc);
	tcp_start(&r, handler_find("banner"), &svc);
	recv_all(r.client, buf, sizeof(buf));
	assert_string_equal(buf, "Welcome to hellod!\r\n");
	tcp_finish(&r);
	assert_string_equal(conn_end_name(r.c.end), "done");
}

static void
test_tcp_echo(void **state)
{
	struct service	svc;
	struct tcp_run	r;
	static char	data[100000], back[100001];
	size_t		i, sent = 0;
	ssize_t		n;
	struct pollfd	pfd;
	size_t		got = 0;
	uint64_t	end;

	(void)state;
	fake_service(&svc);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i % 251);
	tcp_start(&r, handler_find("echo"), &svc);
	/* More than a socket buffer: send and receive together. */
	end = now_ms() + WAIT_MS;
	pfd.fd = r.client;
	while (got < sizeof(data) && now_ms() < end) {
		pfd.events = POLLIN | (sent < sizeof(data) ? POLLOUT : 0);
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((pfd.revents & POLLOUT) && sent < sizeof(data)) {
			n = send(r.client, data + sent, sizeof(data) - sent,
			    MSG_DONTWAIT);
			if (n > 0)
				sent += (size_t)n;
			if (sent == sizeof(data))
				shutdown(r.client, SHUT_WR);
		}
		if (pfd.revents & POLLIN) {
			n = recv(r.client, back + got, sizeof(back) - got,
			    MSG_DONTWAIT);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
	}
	assert_int_equal(got, sizeof(data));
	assert_memory_equal(back, data, sizeof(data));
	assert_int_equal(recv_all(r.client, back, sizeof(back)), 0);
	tcp_finish(&r);
	assert_string_equal(conn_end_name(r.c.end), "client_close");
	assert_int_equal(r.c.bytes_in, sizeof(data));
	assert_int_equal(r.c.bytes_out, sizeof(data));
}

static void
test_tcp_time_daytime(void **state)
{
	struct service	svc;
	struct tcp_run	r;
	char		buf[256];
	uint32_t	v, now;
	size_t		n;

	(void)state;
	fake_service(&svc);
	now = time_rfc868(time(NULL));
	tcp_start(&r, handler_find("time"), &svc);
	assert_int_equal(recv_all(r.client, buf, sizeof(buf)), 4);
	tcp_finish(&r);
	assert_string_equal(conn_end_name(r.c.end), "done");
	v = (uint32_t)(unsigned char)buf[0] << 24 |
	    (uint32_t)(unsigned char)buf[1] << 16 |
	    (uint32_t)(unsigned char)buf[2] << 8 | (unsigned char)buf[3];
	assert_true(v - now <= 2);

	tcp_start(&r, handler_find("daytime"), &svc);
	n = recv_all(r.client, buf, sizeof(buf));
	tcp_finish(&r);
	assert_true(n > 20);
	assert_memory_equal(buf + n - 2, "\r\n", 2);
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
	assert_string_equal(conn_end_name(r.c.end), "done");
}

static void
test_tcp_chargen(void **state)
{
	struct service	svc;
	struct tcp_run	r;
	char		buf[256], line[CHARGEN_LINE];

	(void)state;
	fake_service(&svc);
	tcp_start(&r, handler_find("chargen"), &svc);
	assert_int_equal(recv_upto(r.client, buf, sizeof(buf), 2 * 74), 2 * 74);
	chargen_line(0, line);
	assert_memory_equal(buf, line, CHARGEN_LINE);
	assert_memory_equal(buf + 72, "\r\n", 2);
	chargen_line(1, line);
	assert_memory_equal(buf + 74, line, CHARGEN_LINE);
	/* The client leaves: the next write fails and the handler ends. */
	close(r.client);
	assert_int_equal(pthread_join(r.thread, NULL), 0);
	assert_string_equal(conn_end_name(r.c.end), "client_close");
}

static void
test_tcp_qotd(void **state)
{
	struct service	svc;
	struct tcp_run	r;
	char		buf[1024];
	size_t		n;

	(void)state;
	fake_service(&svc);
	quotes(&svc, "one\ntwo\n\nthree\n");
	tcp_start(&r, handler_find("qotd"), &svc);
	n = recv_all(r.client, buf, sizeof(buf));
	tcp_finish(&r);
	assert_true((n == 10 && strcmp(buf, "one\r\ntwo\r\n") == 0) ||
	    (n == 7 && strcmp(buf, "three\r\n") == 0));
	assert_string_equal(conn_end_name(r.c.end), "done");
}

static void
test_tcp_idle_timeout(void **state)
{
	struct service	svc;
	struct tcp_run	r;
	char		buf[256];
	uint64_t	t0;

	(void)state;
	fake_service(&svc);
	svc.idle_timeout_ms = 150;

	/* A silent client of discard. */
	t0 = now_ms();
	tcp_start(&r, handler_find("discard"), &svc);
	assert_int_equal(recv_all(r.client, buf, sizeof(buf)), 0);
	tcp_finish(&r);
	assert_string_equal(conn_end_name(r.c.end), "idle_timeout");
	assert_true(now_ms() - t0 >= 140);

	/* A hello client that stops after its first message. */
	t0 = now_ms();
	tcp_start(&r, handler_find("hello"), &svc);
	send_str(r.client, "Bob\n");
	recv_all(r.client, buf, sizeof(buf));
	assert_string_equal(buf, "Welcome!\r\nHello, Bob!\r\n");
	tcp_finish(&r);
	assert_string_equal(conn_end_name(r.c.end), "idle_timeout");
	assert_true(now_ms() - t0 >= 140);
}

static void
test_tcp_chargen_stalled_reader(void **state)
{
	struct service	svc;
	struct tcp_run	r;

	(void)state;
	fake_service(&svc);
	svc.idle_timeout_ms = 150;
	/* The client never reads: once the buffers are full, nothing moves. */
	tcp_start(&r, handler_find("chargen"), &svc);
	assert_int_equal(pthread_join(r.thread, NULL), 0);
	close(r.client);
	assert_string_equal(conn_end_name(r.c.end), "idle_timeout");
	assert_true(r.c.bytes_out > 0);
}

static void
test_conn_read_timeout(void **state)
{
	struct service	svc;
	struct conn	c;
	char		buf[16];
	int		sv[2];
	uint64_t	t0;

	(void)state;
	fake_service(&svc);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	conn_init(&c, sv[0], &svc, NULL, 0);
	assert_string_equal(c.peername, "-");
	t0 = now_ms();
	assert_int_equal(conn_read(&c, buf, sizeof(buf), 30), CONN_TIMEOUT);
	assert_true(now_ms() - t0 >= 30);
	assert_int_equal(c.end, END_none);
	assert_int_equal(write(sv[1], "hi", 2), 2);
	assert_int_equal(conn_read(&c, buf, sizeof(buf), 30), 2);
	assert_int_equal(c.bytes_in, 2);
	assert_int_equal(conn_writeline(&c, "ok"), 0);
	assert_int_equal(c.bytes_out, 4);
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ok\r\n", 4);
	close(sv[1]);
	assert_int_equal(conn_read(&c, buf, sizeof(buf), -1), 0);
	assert_string_equal(conn_end_name(c.end), "client_close");
	c.end = END_none;
	assert_int_equal(conn_write(&c, "x", 1), -1);
	assert_string_equal(conn_end_name(c.end), "client_close");
	close(sv[0]);
}

static void
test_conn_init_tcp(void **state)
{
	struct service		svc;
	struct conn		c;
	struct sockaddr_in	sin, lsin;
	socklen_t		len = sizeof(sin);
	char			want[64];
	int			ls, cs, as;

	(void)state;
	fake_service(&svc);
	svc.log_peer = LOG_PEER_FULL;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((ls = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sin, &len), 0);
	lsin = sin;
	assert_true((cs = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(connect(cs, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_true((as = accept(ls, NULL, NULL)) != -1);

	conn_init(&c, as, &svc, NULL, 0);
	len = sizeof(sin);
	assert_int_equal(getsockname(cs, (struct sockaddr *)&sin, &len), 0);
	snprintf(want, sizeof(want), "127.0.0.1:%u", ntohs(sin.sin_port));
	assert_string_equal(c.peername, want);
	assert_int_equal(c.peer.ss.ss_family, AF_INET);
	/* The local address is asked for when needed only. */
	assert_int_equal(c.local.len, 0);
	assert_non_null(conn_local(&c));
	assert_int_equal(c.local.ss.ss_family, AF_INET);
	assert_int_equal(((struct sockaddr_in *)&c.local.ss)->sin_port,
	    lsin.sin_port);
	assert_true(c.last_io_ms > 0);
	assert_int_equal(c.end, END_none);
	/* The peer accept() gave is taken as it is: no question to the kernel. */
	sin.sin_addr.s_addr = htonl(0xc0000201);	/* 192.0.2.1 */
	sin.sin_port = htons(7);
	conn_init(&c, as, &svc, (struct sockaddr *)&sin, sizeof(sin));
	assert_string_equal(c.peername, "192.0.2.1:7");
	close(as);
	close(cs);
	close(ls);
}

/* exec's argument splitting: a shell's quoting, no expansion. */
static void
expect_split(const char *text, const char *const *want)
{
	char	**argv;
	size_t	 argc, i;
	const char *err;

	if (exec_split(text, &argv, &argc, &err) != 0)
		fail_msg("%s: %s", text, err);
	for (i = 0; want[i] != NULL; i++) {
		assert_true(i < argc);
		assert_string_equal(argv[i], want[i]);
	}
	assert_int_equal(argc, i);
	assert_null(argv[argc]);
	exec_strv_free(argv);
}

static void
test_exec_split(void **state)
{
	char	**argv;
	size_t	 argc;
	const char *err;

	(void)state;
	expect_split("/bin/cat", (const char *const[]){ "/bin/cat", NULL });
	expect_split("  /bin/echo  a\tb  ", (const char *const[]){ "/bin/echo", "a",
	    "b", NULL });
	expect_split("x 'a b' \"c d\" e\\ f", (const char *const[]){ "x", "a b",
	    "c d", "e f", NULL });
	expect_split("x 'it''s' \"say \\\"hi\\\"\" \"back\\\\slash\" 'no\\n'",
	    (const char *const[]){ "x", "its", "say \"hi\"", "back\\slash",
	    "no\\n", NULL });
	expect_split("x a'b'\"c\"d ''", (const char *const[]){ "x", "abcd", "",
	    NULL });
	expect_split("x $HOME * ;", (const char *const[]){ "x", "$HOME", "*", ";",
	    NULL });
	expect_split("", (const char *const[]){ NULL });
	assert_int_equal(exec_split("x 'open", &argv, &argc, &err), -1);
	assert_string_equal(err, "a ' is not closed");
	/*
	 * The words before an error are freed by count: the vector has no
	 * NULL yet (found by fuzzing; the sanitizer build sees the overrun).
	 */
	assert_int_equal(exec_split("a b c 'open", &argv, &argc, &err), -1);
	assert_null(argv);
	assert_int_equal(argc, 0);
	assert_int_equal(exec_split("x \"open\\\"", &argv, &argc, &err), -1);
	assert_string_equal(err, "a \" is not closed");
	assert_int_equal(exec_split("x \\", &argv, &argc, &err), -1);
	assert_string_equal(err, "a \\ ends the value");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_bare_word),
		cmocka_unit_test(test_frame_crlf),
		cmocka_unit_test(test_frame_store),
		cmocka_unit_test(test_frame_several_lines),
		cmocka_unit_test(test_frame_empty_lines),
		cmocka_unit_test(test_frame_split_everywhere),
		cmocka_unit_test(test_frame_trailing_crs),
		cmocka_unit_test(test_frame_too_long),
		cmocka_unit_test(test_frame_exactly_max),
		cmocka_unit_test(test_hello_format),
		cmocka_unit_test(test_chargen_line),
		cmocka_unit_test(test_time_rfc868),
		cmocka_unit_test(test_daytime_format),
		cmocka_unit_test(test_handler_find),
		cmocka_unit_test(test_exec_split),
		cmocka_unit_test(test_udp_hello),
		cmocka_unit_test(test_udp_echo_discard_banner),
		cmocka_unit_test(test_udp_chargen),
		cmocka_unit_test(test_udp_daytime_time),
		cmocka_unit_test(test_udp_qotd),
		cmocka_unit_test(test_tcp_hello_tutorial),
		cmocka_unit_test(test_tcp_hello_lines_and_eof),
		cmocka_unit_test(test_tcp_hello_too_long),
		cmocka_unit_test(test_tcp_banner),
		cmocka_unit_test(test_tcp_echo),
		cmocka_unit_test(test_tcp_time_daytime),
		cmocka_unit_test(test_tcp_chargen),
		cmocka_unit_test(test_tcp_qotd),
		cmocka_unit_test(test_tcp_idle_timeout),
		cmocka_unit_test(test_tcp_chargen_stalled_reader),
		cmocka_unit_test(test_conn_read_timeout),
		cmocka_unit_test(test_conn_init_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, settings_free);
}
