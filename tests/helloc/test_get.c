/*
 * Integration: helloc --get against a small HTTP responder that this test
 * runs in a child process, one canned response per path.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
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
#include "helloc-run.h"

#define T_MS		10000
#define BIG		(1024 * 1024 + 17)

static pid_t responder;
static uint16_t http_port;
static char base[64];

/* The big body: a byte pattern both sides can compute. */
static unsigned char
big_byte(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

/*
 * A client that has gone (helloc gives up on endless 1xx responses, say)
 * makes the rest of this response fail: that ends this response only,
 * never the responder, which later cases still need.
 */
static void
say(int fd, const void *buf, size_t len)
{
	(void)send_all(fd, buf, len);
}

static void
says(int fd, const char *s)
{
	say(fd, s, strlen(s));
}

/* Let the client read what was sent so far, so that pieces arrive apart. */
static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void
respond_big(int fd, bool chunked)
{
	unsigned char buf[70000];
	char line[64];
	size_t i, off, n, step = 1;

	if (!chunked) {
		snprintf(line, sizeof(line), "Content-Length: %d\r\n\r\n", BIG);
		says(fd, "HTTP/1.1 200 OK\r\n");
		says(fd, line);
	} else
		says(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (off = 0; off < BIG; off += n) {
		/* Chunks of growing, uneven sizes. */
		n = BIG - off < step ? BIG - off : step;
		step = step * 3 + 1 > sizeof(buf) ? 7 : step * 3 + 1;
		for (i = 0; i < n; i++)
			buf[i] = big_byte(off + i);
		if (chunked) {
			snprintf(line, sizeof(line), "%zx\r\n", n);
			says(fd, line);
		}
		say(fd, buf, n);
		if (chunked)
			says(fd, "\r\n");
	}
	if (chunked)
		says(fd, "0\r\n\r\n");
}

/* One connection: read the request, keep it for the test, answer by path. */
static void
respond(int fd)
{
	char req[8192], *sp;
	size_t len = 0;
	ssize_t n;
	int i;

	req[0] = '\0';
	while (len + 1 < sizeof(req) && strstr(req, "\r\n\r\n") == NULL) {
		if ((n = recv(fd, req + len, sizeof(req) - 1 - len, 0)) <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
	}
	harness_write_file(harness_path("request"), "%s", req);
	if ((sp = strchr(req + 4, ' ')) != NULL)
		*sp = '\0';
	if (strcmp(req, "GET /length") == 0)
		says(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		    "Content-Length: 13\r\n\r\nHello, world\n");
	else if (strcmp(req, "GET /chunked") == 0) {
		says(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHel");
		pause_ms(50);
		says(fd, "lo\r\n7;ext=1\r\n, world\r");
		pause_ms(50);
		says(fd, "\n1\r\n\n\r\n0\r\nX-Trailer: yes\r\n\r\n");
	} else if (strcmp(req, "GET /eof") == 0) {
		says(fd, "HTTP/1.0 200 OK\r\nServer: test\r\n\r\nuntil the ");
		pause_ms(50);
		says(fd, "end\n");
	} else if (strcmp(req, "GET /missing") == 0)
		says(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 13\r\n\r\nno such page\n");
	else if (strcmp(req, "GET /early") == 0)
		says(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nshort");
	else if (strcmp(req, "GET /early-chunked") == 0)
		says(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort");
	else if (strcmp(req, "GET /nothing") == 0)
		;
	else if (strcmp(req, "GET /continue") == 0)
		says(fd, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
		    "Content-Length: 3\r\n\r\nok\n");
	else if (strcmp(req, "GET /interim-forever") == 0) {
		for (i = 0; i < 50; i++)
			says(fd, "HTTP/1.1 100 Continue\r\n\r\n");
		pause_ms(1000);
	} else if (strcmp(req, "GET /split-head") == 0) {
		/* The blank line that ends the head comes in pieces. */
		says(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r");
		pause_ms(50);
		says(fd, "\nok\n");
	} else if (strcmp(req, "GET /split-head2") == 0) {
		says(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n");
		pause_ms(50);
		says(fd, "\r");
		pause_ms(50);
		says(fd, "\nok\n");
	} else if (strcmp(req, "GET /leading-zeros") == 0)
		says(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "000000000000000000003\r\nok\n\r\n00000000000000000000\r\n\r\n");
	else if (strcmp(req, "GET /big") == 0)
		respond_big(fd, false);
	else if (strcmp(req, "GET /big-chunked") == 0)
		respond_big(fd, true);
	else
		says(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
}

static void
serve(int lfd)
{
	int fd;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			continue;
		respond(fd);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
}

static int
setup(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int one = 1, lfd;

	(void)state;
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 || listen(lfd, 16) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1)
		return -1;
	http_port = ntohs(sin.sin_port);
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", http_port);
	fflush(stdout);
	fflush(stderr);
	if ((responder = fork()) == -1)
		return -1;
	if (responder == 0)
		serve(lfd);
	close(lfd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (responder > 0) {
		kill(responder, SIGKILL);
		waitpid(responder, NULL, 0);
	}
	return 0;
}

static void
get(struct hc_run *r, const char *path, int want, const char *out)
{
	char url[128];

	snprintf(url, sizeof(url), "%s%s", base, path);
	if (out != NULL)
		helloc_run(r, NULL, T_MS, (const char *const[]){ "--get", "-o", out,
		    url, NULL });
	else
		helloc_run(r, NULL, T_MS, (const char *const[]){ "--get", url, NULL });
	if (r->status != want)
		fail_msg("helloc --get %s exited %d, not %d; stderr:\n%s", url,
		    r->status, want, r->err);
}

static void
test_content_length(void **state)
{
	char want[128], *req;
	struct hc_run r;

	(void)state;
	get(&r, "/length", 0, NULL);
	assert_string_equal(r.out, "Hello, world\n");
	assert_string_equal(r.err, "HTTP/1.1 200 OK\nContent-Type: text/plain\n"
	    "Content-Length: 13\n");
	helloc_run_free(&r);
	/* The request: HTTP/1.1, Host with the port, Connection: close. */
	req = harness_read_file(harness_path("request"));
	assert_true(strncmp(req, "GET /length HTTP/1.1\r\n", 22) == 0);
	snprintf(want, sizeof(want), "\r\nHost: 127.0.0.1:%u\r\n", http_port);
	assert_non_null(strstr(req, want));
	assert_non_null(strstr(req, "\r\nConnection: close\r\n"));
	free(req);
}

static void
test_chunked(void **state)
{
	struct hc_run r;

	(void)state;
	get(&r, "/chunked", 0, NULL);
	assert_string_equal(r.out, "Hello, world\n");
	assert_non_null(strstr(r.err, "Transfer-Encoding: chunked\n"));
	helloc_run_free(&r);
}

static void
test_eof(void **state)
{
	struct hc_run r;

	(void)state;
	get(&r, "/eof", 0, NULL);
	assert_string_equal(r.out, "until the end\n");
	helloc_run_free(&r);
}

static void
test_interim(void **state)
{
	struct hc_run r;

	(void)state;
	get(&r, "/continue", 0, NULL);
	assert_string_equal(r.out, "ok\n");
	assert_non_null(strstr(r.err, "HTTP/1.1 201 Created\n"));
	helloc_run_free(&r);
}

static void
test_not_found(void **state)
{
	char want[128];
	struct hc_run r;

	(void)state;
	get(&r, "/missing", 1, NULL);
	assert_string_equal(r.out, "no such page\n");
	snprintf(want, sizeof(want), "helloc: 127.0.0.1 port %u: HTTP 404 Not Found\n",
	    http_port);
	assert_non_null(strstr(r.err, want));
	helloc_run_free(&r);
}

static void
test_early_close(void **state)
{
	struct hc_run r;

	(void)state;
	get(&r, "/early", 1, NULL);
	assert_string_equal(r.out, "short");
	assert_non_null(strstr(r.err, "connection closed after 5 of 1000 bytes"));
	helloc_run_free(&r);
	get(&r, "/early-chunked", 1, NULL);
	assert_non_null(strstr(r.err, "connection closed in the middle of a chunked body"));
	helloc_run_free(&r);
	get(&r, "/nothing", 1, NULL);
	assert_non_null(strstr(r.err, "connection closed without a response"));
	helloc_run_free(&r);
}

static void
check_big(const char *path)
{
	const char *out = harness_path("big.out");
	struct hc_run r;
	FILE *fp;
	size_t i, n;
	unsigned char *buf = malloc(BIG + 1);

	assert_non_null(buf);
	get(&r, path, 0, out);
	assert_int_equal(r.outlen, 0);
	helloc_run_free(&r);
	assert_non_null(fp = fopen(out, "rb"));
	n = fread(buf, 1, BIG + 1, fp);
	fclose(fp);
	assert_int_equal(n, BIG);
	for (i = 0; i < BIG; i++)
		if (buf[i] != big_byte(i))
			fail_msg("%s: byte %zu differs", path, i);
	free(buf);
}

static void
test_big_to_file(void **state)
{
	(void)state;
	check_big("/big");
	check_big("/big-chunked");
}

static void
test_head_pieces(void **state)
{
	struct hc_run r;

	(void)state;
	get(&r, "/split-head", 0, NULL);
	assert_string_equal(r.out, "ok\n");
	helloc_run_free(&r);
	get(&r, "/split-head2", 0, NULL);
	assert_string_equal(r.out, "ok\n");
	helloc_run_free(&r);
	/* Leading zeros of a chunk size are no digits of a huge size. */
	get(&r, "/leading-zeros", 0, NULL);
	assert_string_equal(r.out, "ok\n");
	helloc_run_free(&r);
}

/* Interim responses are skipped, but not forever. */
static void
test_interim_forever(void **state)
{
	struct hc_run r;

	(void)state;
	get(&r, "/interim-forever", 1, NULL);
	assert_non_null(strstr(r.err, "more than 10 interim (1xx) responses"));
	assert_string_equal(r.out, "");
	helloc_run_free(&r);
}

/* No file in the test directory but those named. */
static void
assert_no_temporary(const char *name)
{
	char prefix[64];
	struct dirent *de;
	DIR *dir;

	snprintf(prefix, sizeof(prefix), "%s.", name);
	assert_non_null(dir = opendir(harness_dir()));
	while ((de = readdir(dir)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			fail_msg("a temporary file is left: %s", de->d_name);
	closedir(dir);
}

/* -o FILE is replaced only by a whole 2xx body: a failure leaves it as it was. */
static void
test_output_kept(void **state)
{
	const char *out = harness_path("kept.txt");
	char url[64], *got;
	struct hc_run r;

	(void)state;
	harness_write_file(out, "precious\n");
	get(&r, "/missing", 1, out);
	helloc_run_free(&r);
	get(&r, "/early", 1, out);
	helloc_run_free(&r);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", harness_free_port());
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "--get", "-o", out, url, NULL });
	assert_int_equal(r.status, 1);
	helloc_run_free(&r);
	got = harness_read_file(out);
	assert_string_equal(got, "precious\n");
	free(got);
	assert_no_temporary("kept.txt");

	get(&r, "/length", 0, out);
	helloc_run_free(&r);
	got = harness_read_file(out);
	assert_string_equal(got, "Hello, world\n");
	free(got);
	assert_no_temporary("kept.txt");
	/* A file that is not a regular one is written to as it is. */
	get(&r, "/length", 0, "/dev/null");
	helloc_run_free(&r);
}

static void
test_bad_urls(void **state)
{
	struct hc_run r;
	char url[64];

	(void)state;
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "--get",
	    "https://127.0.0.1/", NULL });
	assert_int_equal(r.status, 64);
	assert_non_null(strstr(r.err, "https is not supported"));
	helloc_run_free(&r);
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "--get", "gopher://h/", NULL });
	assert_int_equal(r.status, 64);
	helloc_run_free(&r);
	/* Nobody listens: exit 1, naming host and port. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", harness_free_port());
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "--get", url, NULL });
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "Connection refused"));
	helloc_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_eof),
		cmocka_unit_test(test_interim),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_early_close),
		cmocka_unit_test(test_big_to_file),
		cmocka_unit_test(test_head_pieces),
		cmocka_unit_test(test_interim_forever),
		cmocka_unit_test(test_output_kept),
		cmocka_unit_test(test_bad_urls),
	};

	harness_init();
	helloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
