/* Unit tests: the PROXY header parser on the specification's examples, in pieces, and malformed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

#define BOTH	(PROXY_V1 | PROXY_V2)

static const unsigned char sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* "ADDR:PORT" of an address the parser filled, for comparisons. */
static const char *
endpoint(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];
	unsigned port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		assert_int_equal(ss->ss_family, AF_INET6);
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
	}
	snprintf(buf, len, "%s:%u", host, port);
	return buf;
}

/* A whole header must parse, with these addresses; and every prefix of it asks for more. */
static void
expect_ok(const void *b, size_t len, size_t hlen, const char *src, const char *dst)
{
	struct proxy_hdr h;
	const char *why;
	char	 s[80], d[80];
	size_t	 i;

	for (i = 0; i < hlen; i++)
		if (proxy_parse(b, i, BOTH, &h, &why) != PROXY_MORE)
			fail_msg("prefix of %zu bytes: not MORE (%s)", i, why);
	if (proxy_parse(b, len, BOTH, &h, &why) != PROXY_OK)
		fail_msg("not OK: %s", why);
	assert_int_equal(h.len, hlen);
	if (src == NULL) {
		assert_true(h.local);
		return;
	}
	assert_false(h.local);
	assert_string_equal(endpoint(&h.src, s, sizeof(s)), src);
	assert_string_equal(endpoint(&h.dst, d, sizeof(d)), dst);
	assert_int_equal(h.srclen, h.src.ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
}

static void
expect_bad_as(const void *b, size_t len, unsigned accept, const char *token)
{
	struct proxy_hdr h;
	const char *why = NULL;

	if (proxy_parse(b, len, accept, &h, &why) != PROXY_BAD)
		fail_msg("not BAD (wanted %s)", token);
	assert_non_null(why);
	assert_string_equal(why, token);
}

static void
expect_bad(const char *text, const char *token)
{
	expect_bad_as(text, strlen(text), BOTH, token);
}

static void
test_v1_examples(void **state)
{
	(void)state;
	static const char *const tcp6max = "PROXY TCP6 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	static const char *const unknownmax = "PROXY UNKNOWN "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	const char *t;

	t = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
	expect_ok(t, strlen(t), strlen(t), "255.255.255.255:65535",
	    "255.255.255.255:65535");
	assert_int_equal(strlen(tcp6max), 104);
	expect_ok(tcp6max, strlen(tcp6max), 104,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:65535",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:65535");
	assert_int_equal(strlen(unknownmax), PROXY_V1_MAX);
	expect_ok(unknownmax, strlen(unknownmax), PROXY_V1_MAX, NULL, NULL);
	t = "PROXY UNKNOWN\r\n";
	expect_ok(t, strlen(t), 15, NULL, NULL);
	/* The payload after the header is not the header's. */
	t = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n";
	expect_ok(t, strlen(t), 47, "192.168.0.1:56324", "192.168.0.11:443");
	t = "PROXY TCP6 2001:db8::1 2001:db8::2 1234 0\r\nMichael\n";
	expect_ok(t, strlen(t), 43, "2001:db8::1:1234", "2001:db8::2:0");
	t = "PROXY TCP6 ::ffff:127.0.0.2 ::1 40000 9999\r\n";
	expect_ok(t, strlen(t), strlen(t), "::ffff:127.0.0.2:40000", "::1:9999");
}

static void
test_v1_malformed(void **state)
{
	static const char nul[] = "PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n";
	char	 longline[200];

	(void)state;

	expect_bad("GET / HTTP/1.0\r\n", "signature");
	expect_bad("Michael\n", "signature");
	expect_bad("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "signature");
	expect_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "no_crlf");
	expect_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "no_crlf");
	expect_bad_as(nul, sizeof(nul) - 1, BOTH, "no_crlf");
	expect_bad("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "protocol");
	expect_bad("PROXY \r\n", "protocol");
	expect_bad("PROXY UNKNOWNX\r\n", "protocol");
	expect_bad("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "format");
	expect_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "format");
	expect_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "format");
	expect_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n", "port");
	expect_bad("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "address");
	expect_bad("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", "address");
	expect_bad("PROXY TCP4 ::1 ::1 1 2\r\n", "address");
	expect_bad("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", "address");
	expect_bad("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "port");
	expect_bad("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n", "port");
	expect_bad("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "port");
	expect_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2x\r\n", "port");
	expect_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 999999\r\n", "port");

	/*
	 * 106 bytes without a CR are too many (its LF would be the 108th);
	 * 105 may still end with one.
	 */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "PROXY UNKNOWN ", 14);
	expect_bad_as(longline, PROXY_V1_MAX - 1, BOTH, "too_long");
	expect_bad_as(longline, PROXY_V1_MAX, BOTH, "too_long");
	expect_bad_as(longline, sizeof(longline), BOTH, "too_long");
	{
		struct proxy_hdr h;
		const char *why;

		assert_int_equal(proxy_parse(longline, PROXY_V1_MAX - 2, BOTH, &h,
		    &why), PROXY_MORE);
		/* A CR as byte 107: its LF would be the 108th. */
		longline[PROXY_V1_MAX - 1] = '\r';
		longline[PROXY_V1_MAX] = '\n';
		assert_int_equal(proxy_parse(longline, PROXY_V1_MAX + 1, BOTH, &h,
		    &why), PROXY_BAD);
		assert_string_equal(why, "too_long");
		longline[PROXY_V1_MAX - 2] = '\r';
		longline[PROXY_V1_MAX - 1] = '\n';
		assert_int_equal(proxy_parse(longline, PROXY_V1_MAX, BOTH, &h,
		    &why), PROXY_OK);
		assert_int_equal(h.len, PROXY_V1_MAX);
	}
}

/* A v2 header: signature, version/command, family/transport, length, then body. */
static size_t
v2(unsigned char *b, unsigned vc, unsigned fp, const void *body, size_t blen,
    size_t declared)
{
	memcpy(b, sig, 12);
	b[12] = (unsigned char)vc;
	b[13] = (unsigned char)fp;
	b[14] = (unsigned char)(declared >> 8);
	b[15] = (unsigned char)declared;
	memcpy(b + 16, body, blen);
	return 16 + blen;
}

static const unsigned char inet_body[12] = {
	127, 0, 0, 2, 127, 0, 0, 1, 0x9c, 0x40, 0x27, 0x0f	/* 40000, 9999 */
};

static void
test_v2_examples(void **state)
{
	unsigned char b[2048], body[64], six[36];
	size_t	 n;

	(void)state;

	n = v2(b, 0x21, 0x11, inet_body, 12, 12);
	expect_ok(b, n, 28, "127.0.0.2:40000", "127.0.0.1:9999");
	/* TLVs after the addresses are skipped, and the payload is not ours. */
	memcpy(body, inet_body, 12);
	memcpy(body + 12, "\x04\x00\x04" "abcd", 7);	/* PP2_TYPE_NOOP */
	n = v2(b, 0x21, 0x11, body, 19, 19);
	memcpy(b + n, "Michael\n", 8);
	expect_ok(b, n + 8, 35, "127.0.0.2:40000", "127.0.0.1:9999");

	memset(six, 0, sizeof(six));
	six[15] = 1;				/* ::1 */
	six[16] = 0x20, six[17] = 0x01, six[18] = 0x0d, six[19] = 0xb8;
	six[31] = 2;				/* 2001:db8::2 */
	six[32] = 0x04, six[33] = 0xd2;		/* 1234 */
	six[34] = 0x00, six[35] = 0x50;		/* 80 */
	n = v2(b, 0x21, 0x21, six, 36, 36);
	expect_ok(b, n, 52, "::1:1234", "2001:db8::2:80");

	/* LOCAL: a health check, with or without addresses. */
	n = v2(b, 0x20, 0x00, "", 0, 0);
	expect_ok(b, n, 16, NULL, NULL);
	n = v2(b, 0x20, 0x11, inet_body, 12, 12);
	expect_ok(b, n, 28, NULL, NULL);
	/* PROXY over UNSPEC, and over UNIX sockets: the connection's own ends. */
	n = v2(b, 0x21, 0x00, "", 0, 0);
	expect_ok(b, n, 16, NULL, NULL);
	memset(body, 0, sizeof(body));
	{
		unsigned char unixb[216] = { 0 };

		n = v2(b, 0x21, 0x31, unixb, sizeof(unixb), sizeof(unixb));
		expect_ok(b, n, 16 + 216, NULL, NULL);
	}
}

static void
test_v2_malformed(void **state)
{
	unsigned char b[2048] = { 0 };
	size_t	 n;

	(void)state;

	memcpy(b, sig, 12);
	b[5] = 'X';
	expect_bad_as(b, 16, BOTH, "signature");
	n = v2(b, 0x11, 0x11, inet_body, 12, 12);
	expect_bad_as(b, n, BOTH, "version");
	n = v2(b, 0x22, 0x11, inet_body, 12, 12);
	expect_bad_as(b, n, BOTH, "command");
	n = v2(b, 0x21, 0x41, inet_body, 12, 12);
	expect_bad_as(b, n, BOTH, "family");
	n = v2(b, 0x21, 0x12, inet_body, 12, 12);
	expect_bad_as(b, n, BOTH, "protocol");
	n = v2(b, 0x21, 0x10, inet_body, 12, 12);
	expect_bad_as(b, n, BOTH, "protocol");
	n = v2(b, 0x21, 0x11, inet_body, 8, 8);
	expect_bad_as(b, n, BOTH, "length");
	n = v2(b, 0x21, 0x21, inet_body, 12, 12);
	expect_bad_as(b, n, BOTH, "length");
	n = v2(b, 0x21, 0x31, inet_body, 12, 12);
	expect_bad_as(b, n, BOTH, "length");
	/* A length beyond what any balancer sends is refused at once. */
	n = v2(b, 0x21, 0x11, inet_body, 12, 0xffff);
	expect_bad_as(b, n, BOTH, "too_long");
	n = v2(b, 0x21, 0x11, inet_body, 12, PROXY_V2_MAX - 16 + 1);
	expect_bad_as(b, n, BOTH, "too_long");
	/* One up to the limit is waited for, then taken. */
	n = v2(b, 0x21, 0x11, inet_body, 12, PROXY_V2_MAX - 16);
	{
		struct proxy_hdr h;
		const char *why;

		assert_int_equal(proxy_parse(b, n, BOTH, &h, &why), PROXY_MORE);
		assert_int_equal(proxy_parse(b, PROXY_V2_MAX, BOTH, &h, &why),
		    PROXY_OK);
		assert_int_equal(h.len, PROXY_V2_MAX);
		/* More bytes than a header may hold are looked at no further. */
		assert_int_equal(proxy_parse(b, sizeof(b), BOTH, &h, &why),
		    PROXY_OK);
	}
}

/* A service takes the versions it is set to, and says which it was sent. */
static void
test_versions(void **state)
{
	unsigned char b[64];
	const char *t = "PROXY UNKNOWN\r\n", *err;
	size_t	 n = v2(b, 0x20, 0x00, "", 0, 0);
	struct proxy_hdr h;
	unsigned v;

	(void)state;

	expect_bad_as(t, strlen(t), PROXY_V2, "v1_not_accepted");
	expect_bad_as("P", 1, PROXY_V2, "v1_not_accepted");
	expect_bad_as(b, n, PROXY_V1, "v2_not_accepted");
	expect_bad_as("\r", 1, PROXY_V1, "v2_not_accepted");
	assert_int_equal(proxy_parse(t, strlen(t), PROXY_V1, &h, &err), PROXY_OK);
	assert_int_equal(h.version, 1);
	assert_int_equal(proxy_parse(b, n, PROXY_V2, &h, &err), PROXY_OK);
	assert_int_equal(h.version, 2);
	/* "\r\n" begins both a v2 signature and nothing else. */
	assert_int_equal(proxy_parse("\r\n", 2, BOTH, &h, &err), PROXY_MORE);
	expect_bad_as("\r\n\r\nX", 5, BOTH, "signature");

	assert_int_equal(proxy_parse_versions("v1", &v, &err), 0);
	assert_int_equal(v, PROXY_V1);
	assert_int_equal(proxy_parse_versions(" v2 v1 ", &v, &err), 0);
	assert_int_equal(v, PROXY_V1 | PROXY_V2);
	assert_string_equal(proxy_versions_name(v), "v1 v2");
	assert_int_equal(proxy_parse_versions("no", &v, &err), 0);
	assert_int_equal(v, 0);
	assert_int_equal(proxy_parse_versions("v3", &v, &err), -1);
	assert_string_equal(err, "must be v1, v2 or both (\"v1 v2\")");
	assert_int_equal(proxy_parse_versions("", &v, &err), -1);
	assert_int_equal(proxy_parse_versions("v1v2", &v, &err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_examples),
		cmocka_unit_test(test_v1_malformed),
		cmocka_unit_test(test_v2_examples),
		cmocka_unit_test(test_v2_malformed),
		cmocka_unit_test(test_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
