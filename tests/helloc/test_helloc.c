/* Unit tests of helloc's pure parts: URLs, response heads, chunked bodies, percentiles, reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "helloc.h"

/* URLs. */

static void
check_url(const char *s, const char *host, const char *port, const char *path,
    bool ipv6, const char *hostport)
{
	struct http_url u;
	char err[HC_ERRLEN], hp[HTTP_HOSTMAX + 16];

	if (http_url_parse(s, &u, err, sizeof(err)) != 0)
		fail_msg("%s: %s", s, err);
	assert_string_equal(u.host, host);
	assert_string_equal(u.port, port);
	assert_string_equal(u.path, path);
	assert_int_equal(u.ipv6, ipv6);
	http_url_hostport(&u, hp, sizeof(hp));
	assert_string_equal(hp, hostport);
}

static void
test_url_good(void **state)
{
	(void)state;
	check_url("http://example.org", "example.org", "80", "/", false, "example.org");
	check_url("http://example.org/", "example.org", "80", "/", false, "example.org");
	check_url("HTTP://Example.ORG/a/b.txt", "Example.ORG", "80", "/a/b.txt",
	    false, "Example.ORG");
	check_url("http://127.0.0.1:8080/x?y=1&z", "127.0.0.1", "8080", "/x?y=1&z",
	    false, "127.0.0.1:8080");
	check_url("http://[::1]:9999/", "::1", "9999", "/", true, "[::1]:9999");
	check_url("http://[2001:db8::2]/p", "2001:db8::2", "80", "/p", true, "[2001:db8::2]");
	check_url("http://host:80/p", "host", "80", "/p", false, "host");
	check_url("http://host:/p", "host", "80", "/p", false, "host");
	check_url("http://host?q=1", "host", "80", "/?q=1", false, "host");
	check_url("http://host/p#frag", "host", "80", "/p", false, "host");
	check_url("http://host#frag", "host", "80", "/", false, "host");
	check_url("http://my_host-1.local:65535", "my_host-1.local", "65535", "/",
	    false, "my_host-1.local:65535");
}

static void
check_url_bad(const char *s, const char *want)
{
	struct http_url u;
	char err[HC_ERRLEN] = "";

	assert_int_equal(http_url_parse(s, &u, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", s, err, want);
}

static void
test_url_bad(void **state)
{
	char longhost[400];

	(void)state;
	check_url_bad("https://example.org/", "https is not supported");
	check_url_bad("HTTPS://example.org/", "https is not supported");
	check_url_bad("ftp://example.org/", "not an http:// URL");
	check_url_bad("example.org", "not an http:// URL");
	check_url_bad("http://", "no host");
	check_url_bad("http:///path", "no host");
	check_url_bad("http://:80/", "no host");
	check_url_bad("http://host:0/", "bad port");
	check_url_bad("http://host:65536/", "bad port");
	check_url_bad("http://host:8x/", "bad port");
	check_url_bad("http://host:-1/", "bad port");
	check_url_bad("http://[::1/", "unterminated [");
	check_url_bad("http://[not:v6:zz]/", "not an IPv6 address");
	check_url_bad("http://[::1]x/", "unexpected text");
	check_url_bad("http://user:pw@host/", "user names");
	check_url_bad("http://ho st/", "bad character");
	check_url_bad("http://host/a b", "spaces or control characters");
	check_url_bad("http://host/a\r\nX: y", "spaces or control characters");
	memset(longhost, 'a', sizeof(longhost));
	memcpy(longhost, "http://", 7);
	longhost[sizeof(longhost) - 1] = '\0';
	check_url_bad(longhost, "too long");
}

/* Response heads. */

static void
test_head_good(void **state)
{
	static const char head[] =
	    "HTTP/1.1 200 OK\r\n"
	    "Server: test\r\n"
	    "content-length:  1234 \r\n"
	    "\r\n";
	static const char chunked[] =
	    "HTTP/1.1 404 Not Found\n"
	    "Content-Length: 10\n"
	    "Transfer-Encoding: gzip, Chunked\n"
	    "\n";
	struct http_head h;
	char err[HC_ERRLEN];

	(void)state;
	assert_int_equal(http_head_parse(head, strlen(head), &h, err, sizeof(err)), 0);
	assert_int_equal(h.status, 200);
	assert_string_equal(h.reason, "OK");
	assert_int_equal(h.length, 1234);
	assert_false(h.chunked);

	/* Chunked wins over Content-Length; bare LF ends lines too. */
	assert_int_equal(http_head_parse(chunked, strlen(chunked), &h, err, sizeof(err)), 0);
	assert_int_equal(h.status, 404);
	assert_string_equal(h.reason, "Not Found");
	assert_int_equal(h.length, -1);
	assert_true(h.chunked);

	assert_int_equal(http_head_parse("HTTP/1.0 204\r\n\r\n", 16, &h, err, sizeof(err)), 0);
	assert_int_equal(h.status, 204);
	assert_string_equal(h.reason, "");
	assert_int_equal(h.length, -1);
}

static void
check_head_bad(const char *s, const char *want)
{
	struct http_head h;
	char err[HC_ERRLEN] = "";

	assert_int_equal(http_head_parse(s, strlen(s), &h, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void
test_head_bad(void **state)
{
	(void)state;
	check_head_bad("SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP response");
	check_head_bad("HTTP/1.1 2000 OK\r\n\r\n", "not an HTTP response");
	check_head_bad("HTTP/1.1 20 OK\r\n\r\n", "not an HTTP response");
	check_head_bad("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "malformed header");
	check_head_bad("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", "bad Content-Length");
	check_head_bad("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n", "bad Content-Length");
	check_head_bad("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	    "bad Content-Length");
	check_head_bad("", "empty response head");
}

/* Chunked transfer coding. */

struct collect {
	char	 buf[1024];
	size_t	 len;
	int	 calls;
	int	 fail_after;	/* a sink failure after this many calls, or -1 */
};

static int
collect(void *arg, const char *buf, size_t len)
{
	struct collect *c = arg;

	if (c->fail_after >= 0 && c->calls >= c->fail_after)
		return -1;
	c->calls++;
	assert_true(c->len + len <= sizeof(c->buf));
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	return 0;
}

static const char chunked_body[] =
    "5\r\nHello\r\n"
    "7;name=value\r\n, world\r\n"
    "0000A \t;x\r\n from the \r\n"
    "1\n!\n"
    "0\r\n"
    "X-Trailer: one\r\n"
    "X-Other: two\r\n"
    "\r\n"
    "AFTER";
static const char chunked_text[] = "Hello, world from the !";

/* Feed pieces split at the offsets in cut (ascending, ending with len). */
static void
feed_pieces(const char *in, const size_t *cut, size_t ncut, struct collect *c,
    size_t *consumed)
{
	struct http_chunked ch;
	const char *err;
	size_t from = 0, used, i;
	int rv = 0;

	http_chunked_init(&ch);
	memset(c, 0, sizeof(*c));
	c->fail_after = -1;
	for (i = 0; i < ncut && rv == 0; i++) {
		rv = http_chunked_feed(&ch, in + from, cut[i] - from, &used, collect, c, &err);
		if (rv == -1)
			fail_msg("decoder error at %zu: %s", from, err ? err : "sink");
		if (rv == 0)
			assert_int_equal(used, cut[i] - from);
		*consumed = from + used;
		from = cut[i];
	}
	assert_int_equal(rv, 1);
}

static void
test_chunked_every_split(void **state)
{
	size_t len = strlen(chunked_body), end = len - strlen("AFTER"), i, j;
	size_t cut[3], consumed;
	struct collect c;

	(void)state;
	/* Whole, then split in two at every byte boundary. */
	for (i = 0; i <= len; i++) {
		cut[0] = i;
		cut[1] = len;
		feed_pieces(chunked_body, cut, 2, &c, &consumed);
		assert_int_equal(c.len, strlen(chunked_text));
		assert_memory_equal(c.buf, chunked_text, c.len);
		/* It stops right after the last line: "AFTER" is not the body's. */
		assert_int_equal(consumed, end);
	}
	/* Split in three at every pair of boundaries. */
	for (i = 0; i <= len; i++)
		for (j = i; j <= len; j++) {
			cut[0] = i;
			cut[1] = j;
			cut[2] = len;
			feed_pieces(chunked_body, cut, 3, &c, &consumed);
			assert_memory_equal(c.buf, chunked_text, strlen(chunked_text));
			assert_int_equal(consumed, end);
		}
}

static void
test_chunked_byte_at_a_time(void **state)
{
	size_t len = strlen(chunked_body), cut[sizeof(chunked_body)], i, consumed;
	struct collect c;

	(void)state;
	for (i = 0; i < len; i++)
		cut[i] = i + 1;
	feed_pieces(chunked_body, cut, len, &c, &consumed);
	assert_int_equal(c.len, strlen(chunked_text));
	assert_memory_equal(c.buf, chunked_text, c.len);
}

static void
check_chunked_bad(const char *in, const char *want)
{
	struct http_chunked ch;
	struct collect c = { .fail_after = -1 };
	const char *err = NULL;
	size_t used;

	http_chunked_init(&ch);
	assert_int_equal(http_chunked_feed(&ch, in, strlen(in), &used, collect, &c,
	    &err), -1);
	assert_non_null(err);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", in, err, want);
}

static void
test_chunked_bad(void **state)
{
	(void)state;
	check_chunked_bad("x\r\n", "bad chunk size");
	check_chunked_bad("\r\n", "bad chunk size");
	check_chunked_bad("5x\r\nhello\r\n", "bad chunk size");
	check_chunked_bad("5\rX", "bad chunk size line");
	check_chunked_bad("5\r\nhelloXX", "no CRLF after chunk data");
	check_chunked_bad("5\r\nhello\rX", "no CRLF after chunk data");
	check_chunked_bad("1000000000000000\r\n", "chunk size too large");
	check_chunked_bad("0001000000000000000\r\n", "chunk size too large");
	check_chunked_bad("0\r\n\rX", "bad end of a chunked body");
}

/* Leading zeros say nothing of the size: only the digits after them count. */
static void
test_chunked_leading_zeros(void **state)
{
	static const char in[] = "00000000000000000005\r\nHello\r\n"
	    "000000000000000000000\r\n\r\n";
	struct http_chunked ch;
	struct collect c = { .fail_after = -1 };
	const char *err = NULL;
	size_t used;

	(void)state;
	http_chunked_init(&ch);
	assert_int_equal(http_chunked_feed(&ch, in, strlen(in), &used, collect, &c,
	    &err), 1);
	assert_int_equal(used, strlen(in));
	assert_int_equal(c.len, 5);
	assert_memory_equal(c.buf, "Hello", 5);
}

static void
test_chunked_sink_failure(void **state)
{
	struct http_chunked ch;
	struct collect c = { .fail_after = 1 };
	const char *err = "unset";
	size_t used;

	(void)state;
	http_chunked_init(&ch);
	/* The second chunk's data fails to be written: the decoder stops. */
	assert_int_equal(http_chunked_feed(&ch, chunked_body, strlen(chunked_body),
	    &used, collect, &c, &err), -1);
	assert_null(err);
	assert_int_equal(c.len, 5);
}

/* Latency percentiles. */

static struct bench_hist *
hist_of(const uint64_t *v, size_t n)
{
	struct bench_hist *h = calloc(1, sizeof(*h));
	size_t i;

	assert_non_null(h);
	for (i = 0; i < n; i++)
		bench_hist_add(h, v[i]);
	return h;
}

static void
test_percentile(void **state)
{
	uint64_t v[100], one = 7, ten[10] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
	struct bench_hist *h;
	size_t i;

	(void)state;
	h = hist_of(NULL, 0);
	assert_int_equal(bench_hist_percentile(h, 500), 0);
	assert_int_equal(bench_hist_percentile(NULL, 500), 0);
	free(h);
	h = hist_of(&one, 1);
	assert_int_equal(bench_hist_percentile(h, 500), 7);
	assert_int_equal(bench_hist_percentile(h, 1000), 7);
	free(h);

	/* 100..1 in any order: the p-th percentile is p (small values are exact). */
	for (i = 0; i < 100; i++)
		v[i] = 100 - i;
	h = hist_of(v, 100);
	assert_int_equal(bench_hist_percentile(h, 500), 50);
	assert_int_equal(bench_hist_percentile(h, 900), 90);
	assert_int_equal(bench_hist_percentile(h, 990), 99);
	assert_int_equal(bench_hist_percentile(h, 999), 100);
	assert_int_equal(bench_hist_percentile(h, 1000), 100);
	assert_int_equal(bench_hist_percentile(h, 0), 1);
	free(h);

	/* Nearest rank on ten values: p50 is the 5th, p90 the 9th, p99 the 10th. */
	h = hist_of(ten, 10);
	assert_int_equal(bench_hist_percentile(h, 500), 5);
	assert_int_equal(bench_hist_percentile(h, 510), 6);
	assert_int_equal(bench_hist_percentile(h, 900), 9);
	assert_int_equal(bench_hist_percentile(h, 990), 10);
	free(h);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The k-th smallest (1-based) of v, by sorting it. */
static uint64_t
nth_smallest(uint32_t *v, size_t n, size_t k)
{
	qsort(v, n, sizeof(*v), cmp_u32);
	return v[k - 1];
}

/* Within 1/256 of the true value: |got - want| * 256 <= want. */
static void
assert_near(uint64_t got, uint64_t want)
{
	uint64_t d = got > want ? got - want : want - got;

	if (d > want / 256)
		fail_msg("%llu is not within 1/256 of %llu", (unsigned long long)got,
		    (unsigned long long)want);
}

static void
test_percentile_precision(void **state)
{
	struct bench_hist *h = calloc(1, sizeof(*h));
	uint64_t v, x = 88172645463325252ull;
	unsigned i;

	(void)state;
	assert_non_null(h);
	/* The size is fixed, whatever the number of values: about 58 KiB. */
	assert_true(sizeof(*h) < 64 * 1024);

	/* One value at a time, from 1 ns to 2^63: each comes back within 1/256. */
	for (i = 0; i < 64 * 16; i++) {
		v = (1ull << (i / 16)) + (1ull << (i / 16)) / 16 * (i % 16);
		memset(h, 0, sizeof(*h));
		bench_hist_add(h, v);
		bench_hist_add(h, v + 1 > v ? v + 1 : v);
		bench_hist_add(h, UINT64_MAX);
		/* p33 is the first of three: v, within the precision. */
		assert_near(bench_hist_percentile(h, 333), v);
	}
	assert_int_equal(bench_hist_percentile(h, 1000), UINT64_MAX);

	/*
	 * A million random latencies between 1 us and 1 s, with an exact
	 * reference by counting: the nearest-rank percentiles within 1/256.
	 */
	memset(h, 0, sizeof(*h));
	{
		static uint32_t ref[1000000];
		uint64_t sorted_p50, sorted_p99, max = 0;

		for (i = 0; i < 1000000; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			ref[i] = (uint32_t)(1000 + x % 999999000);
			bench_hist_add(h, ref[i]);
			if (ref[i] > max)
				max = ref[i];
		}
		sorted_p50 = nth_smallest(ref, 1000000, 500000);
		sorted_p99 = nth_smallest(ref, 1000000, 990000);
		assert_near(bench_hist_percentile(h, 500), sorted_p50);
		assert_near(bench_hist_percentile(h, 990), sorted_p99);
		assert_int_equal(bench_hist_percentile(h, 1000), max);
		assert_int_equal(h->n, 1000000);
	}
	free(h);
}

/* Reports. */

static char *
report(const struct bench_result *r, bool json, const struct hc_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	if (json)
		bench_report_json(fp, r);
	else
		bench_report_table(fp, r, o, true);
	fclose(fp);
	return buf;
}

static void
test_report(void **state)
{
	uint64_t lat[4] = { 1000000, 2000000, 3000000, 40000000 };
	struct bench_hist *h = hist_of(lat, 4);
	struct bench_result r = {
		.transactions = 4, .errors = 1, .timeouts = 2, .wrong = 3,
		.seconds = 2.0, .latency = h,
	};
	struct hc_opts o = {
		.host = "127.0.0.1", .port = "9999", .concurrency = 8,
		.expect = "x",
	};
	char *s;

	(void)state;
	/*
	 * Percentiles are the middles of their buckets, within 1/256: p50
	 * is 2 ms as 2.003, p90 and p99 are 40 ms as 39.977; the maximum
	 * is exact.
	 */
	s = report(&r, true, &o);
	assert_string_equal(s, "{\"transactions\":4,\"errors\":1,\"timeouts\":2,"
	    "\"wrong\":3,\"seconds\":2.000000,\"rate\":2.0,\"latency_ms\":{\"p50\":2.003,"
	    "\"p90\":39.977,\"p99\":39.977,\"max\":40.000}}\n");
	free(s);

	s = report(&r, false, &o);
	assert_non_null(strstr(s, "target        tcp 127.0.0.1 port 9999, greeting read first\n"));
	assert_non_null(strstr(s, "concurrency   8\n"));
	assert_non_null(strstr(s, "transactions  4\n"));
	assert_non_null(strstr(s, "errors        1\n"));
	assert_non_null(strstr(s, "timeouts      2\n"));
	assert_non_null(strstr(s, "wrong         3\n"));
	assert_non_null(strstr(s, "rate          2.0 per second\n"));
	assert_non_null(strstr(s, "latency ms    p50 2.003  p90 39.977  p99 39.977  max 40.000\n"));
	free(s);

	/* Nothing happened: zeros, not a division by zero. */
	free(h);
	memset(&r, 0, sizeof(r));
	s = report(&r, true, &o);
	assert_string_equal(s, "{\"transactions\":0,\"errors\":0,\"timeouts\":0,"
	    "\"wrong\":0,\"seconds\":0.000000,\"rate\":0.0,\"latency_ms\":{\"p50\":0.000,"
	    "\"p90\":0.000,\"p99\":0.000,\"max\":0.000}}\n");
	free(s);
}

static void
test_progress(void **state)
{
	char buf[128];

	(void)state;
	http_progress_format(buf, sizeof(buf), 1024 * 1024, 2 * 1024 * 1024, 1.0);
	assert_string_equal(buf, "[###############               ]  50%  1.0 MiB of 2.0 MiB");
	http_progress_format(buf, sizeof(buf), 0, 3 * 1024 * 1024, 0);
	assert_string_equal(buf, "[                              ]   0%  0 B of 3.0 MiB");
	http_progress_format(buf, sizeof(buf), 5000, 5000, 1.0);
	assert_string_equal(buf, "[##############################] 100%  4.9 KiB of 4.9 KiB");
	/* Unknown length: bytes and rate. */
	http_progress_format(buf, sizeof(buf), 3 * 1024 * 1024, 0, 2.0);
	assert_string_equal(buf, "3.0 MiB  1.5 MiB/s");
}

/* --status: values of the daemon's status lines, quoted or not. */
static void
test_status_value(void **state)
{
	const char *line = "hellod: status version=0.1.0 pid=812 "
	    "config=\"/etc/my \\\"odd\\\" dir/h.ini\" loaded=-";
	char	 v[64];

	(void)state;
	assert_string_equal(status_value(line, "pid", v, sizeof(v)), "812");
	assert_string_equal(status_value(line, "config", v, sizeof(v)),
	    "/etc/my \"odd\" dir/h.ini");
	assert_string_equal(status_value(line, "loaded", v, sizeof(v)), "-");
	assert_string_equal(status_value(line, "version", v, 4), "0.1");
	assert_string_equal(status_value(line, "status", v, sizeof(v)), "");
	assert_string_equal(status_value(line, "id", v, sizeof(v)), "");
}

static void
test_status_not_a_status(void **state)
{
	char	 text[] = "error: unknown command \"status\"; try help\n\n";
	char	 none[] = "";

	(void)state;
	assert_int_equal(status_print(text), -1);
	assert_int_equal(status_print(none), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_good),
		cmocka_unit_test(test_url_bad),
		cmocka_unit_test(test_head_good),
		cmocka_unit_test(test_head_bad),
		cmocka_unit_test(test_chunked_every_split),
		cmocka_unit_test(test_chunked_byte_at_a_time),
		cmocka_unit_test(test_chunked_bad),
		cmocka_unit_test(test_chunked_leading_zeros),
		cmocka_unit_test(test_chunked_sink_failure),
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_percentile_precision),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_status_value),
		cmocka_unit_test(test_status_not_a_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
