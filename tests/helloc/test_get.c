/*
 * Integration: helloc --get against small servers that this test runs in
 * child processes: an HTTP responder with one canned response per path,
 * the same over TLS with a certificate made here, and an HTTP proxy.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
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

#ifdef HAVE_OPENSSL
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#endif

#include "harness.h"
#include "helloc-run.h"

#define T_MS		10000
#define BIG		(1024 * 1024 + 17)
#define SLOW		300000		/* /slow: this many bytes in 1.5 s */

static pid_t servers;		/* the process group of the servers */
static uint16_t http_port, tls_port, proxy_port;
static char base[64], tls_base[64];
static bool have_tls;

/* A connection the responder answers, in the clear or over TLS. */
struct peer {
	int	 fd;
#ifdef HAVE_OPENSSL
	SSL	*ssl;
#endif
};

/* The big body: a byte pattern both sides can compute. */
static unsigned char
big_byte(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

/*
 * A client that has gone makes the rest of this response fail: that ends
 * this response only, never the responder, which later cases still need.
 */
static void
say(struct peer *p, const void *buf, size_t len)
{
#ifdef HAVE_OPENSSL
	if (p->ssl != NULL) {
		(void)SSL_write(p->ssl, buf, (int)len);
		return;
	}
#endif
	(void)send_all(p->fd, buf, len);
}

static void
says(struct peer *p, const char *s)
{
	say(p, s, strlen(s));
}

static ssize_t
hear(struct peer *p, char *buf, size_t len)
{
#ifdef HAVE_OPENSSL
	if (p->ssl != NULL)
		return SSL_read(p->ssl, buf, (int)len);
#endif
	return recv(p->fd, buf, len, 0);
}

/* Let the client read what was sent so far, so that pieces arrive apart. */
static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void
respond_big(struct peer *p, bool chunked)
{
	unsigned char buf[70000];
	char line[64];
	size_t i, off, n, step = 1;

	if (!chunked) {
		snprintf(line, sizeof(line), "Content-Length: %d\r\n\r\n", BIG);
		says(p, "HTTP/1.1 200 OK\r\n");
		says(p, line);
	} else
		says(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (off = 0; off < BIG; off += n) {
		/* Chunks of growing, uneven sizes. */
		n = BIG - off < step ? BIG - off : step;
		step = step * 3 + 1 > sizeof(buf) ? 7 : step * 3 + 1;
		for (i = 0; i < n; i++)
			buf[i] = big_byte(off + i);
		if (chunked) {
			snprintf(line, sizeof(line), "%zx\r\n", n);
			says(p, line);
		}
		say(p, buf, n);
		if (chunked)
			says(p, "\r\n");
	}
	if (chunked)
		says(p, "0\r\n\r\n");
}

/* /slow: a body that takes 1.5 s, in ten pieces. */
static void
respond_slow(struct peer *p)
{
	char buf[SLOW / 10];
	int i;

	memset(buf, 's', sizeof(buf));
	says(p, "HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n");
	for (i = 0; i < 10; i++) {
		pause_ms(150);
		say(p, buf, sizeof(buf));
	}
}

/*
 * "/301-3" redirects to "/301-2", and so on to "/length".  A redirection
 * says that the connection closes, as this server closes each one: else
 * the client could send its next request on it as it closes, and retry.
 */
static void
respond_redirect(struct peer *p, const char *path)
{
	char head[256];
	int n = atoi(path + 5);

	if (n > 1)
		snprintf(head, sizeof(head), "HTTP/1.1 301 Moved Permanently\r\n"
		    "Location: /301-%d\r\nContent-Length: 6\r\nConnection: close\r\n\r\n"
		    "moved\n", n - 1);
	else
		snprintf(head, sizeof(head), "HTTP/1.1 301 Moved Permanently\r\n"
		    "Location: /length\r\nContent-Length: 6\r\nConnection: close\r\n"
		    "\r\nmoved\n");
	says(p, head);
}

/* The canned responses: each path misbehaves, or not, in its own way. */
static bool
respond_path(struct peer *p, const char *path)
{
	static const struct {
		const char	*path;
		const char	*response;
	} canned[] = {
		{ "/length", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		    "Content-Length: 13\r\n\r\nHello, world\n" },
		{ "/missing", "HTTP/1.1 404 Not Found\r\nContent-Length: 13\r\n\r\n"
		    "no such page\n" },
		{ "/early", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nshort" },
		{ "/early-chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "\r\n10\r\nshort" },
		{ "/nothing", "" },
		{ "/continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
		    "Content-Length: 3\r\n\r\nok\n" },
		{ "/loop", "HTTP/1.1 302 Found\r\nLocation: /loop\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n" },
		{ "/hostile", "HTTP/1.1 200 OK\r\nX-Title: \033]0;owned\007\r\n"
		    "Content-Length: 3\r\n\r\nok\n" },
	};
	char head[256];
	size_t i;

	for (i = 0; i < sizeof(canned) / sizeof(canned[0]); i++)
		if (strcmp(path, canned[i].path) == 0) {
			says(p, canned[i].response);
			return true;
		}
	if (strncmp(path, "/301-", 5) == 0)
		respond_redirect(p, path);
	else if (strcmp(path, "/to-https") == 0) {
		snprintf(head, sizeof(head), "HTTP/1.1 302 Found\r\nLocation: "
		    "%s/length\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", tls_base);
		says(p, head);
	} else
		return false;
	return true;
}

/* One connection: read the request, keep it for the test, answer by path. */
static void
respond(struct peer *p)
{
	char req[8192], *sp;
	size_t len = 0;
	ssize_t n;

	req[0] = '\0';
	while (len + 1 < sizeof(req) && strstr(req, "\r\n\r\n") == NULL) {
		if ((n = hear(p, req + len, sizeof(req) - 1 - len)) <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
	}
	harness_write_file(harness_path("request"), "%s", req);
	if ((sp = strchr(req + 4, ' ')) != NULL)
		*sp = '\0';
	if (strncmp(req, "GET ", 4) == 0 && respond_path(p, req + 4))
		return;
	if (strcmp(req, "GET /chunked") == 0) {
		says(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHel");
		pause_ms(50);
		says(p, "lo\r\n7;ext=1\r\n, world\r");
		pause_ms(50);
		says(p, "\n1\r\n\n\r\n0\r\nX-Trailer: yes\r\n\r\n");
	} else if (strcmp(req, "GET /eof") == 0) {
		says(p, "HTTP/1.0 200 OK\r\nServer: test\r\n\r\nuntil the ");
		pause_ms(50);
		says(p, "end\n");
	} else if (strcmp(req, "GET /hang") == 0)
		pause_ms(5000);
	else if (strcmp(req, "GET /slow") == 0)
		respond_slow(p);
	else if (strcmp(req, "GET /big") == 0)
		respond_big(p, false);
	else if (strcmp(req, "GET /big-chunked") == 0)
		respond_big(p, true);
	else
		says(p, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
}

/* The proxy: whatever it is asked for, it answers itself, and keeps the request line. */
static void
proxy_respond(struct peer *p)
{
	char req[4096];
	ssize_t n;

	if ((n = hear(p, req, sizeof(req) - 1)) <= 0)
		return;
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	harness_write_file(harness_path("proxy.request"), "%s\n", req);
	says(p, "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\nfrom the proxy\n");
}

#ifdef HAVE_OPENSSL
/*
 * A self-signed certificate for 127.0.0.1 and localhost, valid for an
 * hour, and its key: what "openssl req -x509" would make.
 */
static bool
make_cert(const char *certpath, const char *keypath)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	X509_NAME *name;
	EVP_PKEY *key;
	X509 *x;
	FILE *fp;
	bool ok;

	if ((key = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL)
		return false;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"helloc test", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
	    "IP:127.0.0.1,DNS:localhost");
	ok = ext != NULL && X509_add_ext(x, ext, -1) == 1 &&
	    X509_sign(x, key, EVP_sha256()) > 0;
	X509_EXTENSION_free(ext);
	if (ok && (fp = fopen(certpath, "w")) != NULL) {
		ok = PEM_write_X509(fp, x) == 1;
		fclose(fp);
	}
	if (ok && (fp = fopen(keypath, "w")) != NULL) {
		ok = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) == 1;
		fclose(fp);
	}
	X509_free(x);
	EVP_PKEY_free(key);
	return ok;
}

static SSL_CTX *
tls_context(void)
{
	SSL_CTX *ctx;

	/* Another authority, whose certificate must not vouch for the server's. */
	if (!make_cert(harness_path("other.pem"), harness_path("other-key.pem")) ||
	    !make_cert(harness_path("cert.pem"), harness_path("key.pem")) ||
	    (ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	if (SSL_CTX_use_certificate_file(ctx, harness_path("cert.pem"),
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_use_PrivateKey_file(ctx,
	    harness_path("key.pem"), SSL_FILETYPE_PEM) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
#endif

/* Serve one accepted connection, in a process of its own; never returns. */
static void
serve_one(int fd, int which, void *tls)
{
	struct peer p = { .fd = fd };

#ifdef HAVE_OPENSSL
	if (which == 1) {
		if ((p.ssl = SSL_new(tls)) == NULL || SSL_set_fd(p.ssl, fd) != 1 ||
		    SSL_accept(p.ssl) != 1)
			_exit(0);
	}
#else
	(void)tls;
#endif
	if (which == 2)
		proxy_respond(&p);
	else
		respond(&p);
#ifdef HAVE_OPENSSL
	if (p.ssl != NULL)
		SSL_shutdown(p.ssl);
#endif
	shutdown(fd, SHUT_WR);
	close(fd);
	_exit(0);
}

/* The servers' process: plain HTTP, TLS and the proxy, a child per connection. */
static void
serve(int lfd[3], void *tls)
{
	struct pollfd pfd[3];
	int i, fd;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);
	for (i = 0; i < 3; i++)
		pfd[i] = (struct pollfd){ .fd = lfd[i], .events = POLLIN };
	for (;;) {
		if (poll(pfd, 3, -1) == -1)
			continue;
		for (i = 0; i < 3; i++) {
			if (!(pfd[i].revents & POLLIN) ||
			    (fd = accept(lfd[i], NULL, NULL)) == -1)
				continue;
			if (fork() == 0)
				serve_one(fd, i, tls);
			close(fd);
		}
	}
}

/* A listening socket on 127.0.0.1 and a free port. */
static int
listen_any(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int one = 1, fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 || listen(fd, 16) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

static int
setup(void **state)
{
	void *tls = NULL;
	int lfd[3], i;

	(void)state;
	if ((lfd[0] = listen_any(&http_port)) == -1 || (lfd[1] = listen_any(&tls_port)) == -1 ||
	    (lfd[2] = listen_any(&proxy_port)) == -1)
		return -1;
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", http_port);
	snprintf(tls_base, sizeof(tls_base), "https://127.0.0.1:%u", tls_port);
#ifdef HAVE_OPENSSL
	if ((tls = tls_context()) == NULL)
		return -1;
	have_tls = true;
#endif
	fflush(stdout);
	fflush(stderr);
	if ((servers = fork()) == -1)
		return -1;
	if (servers == 0) {
		/* A group of their own, so that the teardown ends every one. */
		setpgid(0, 0);
		serve(lfd, tls);
	}
	setpgid(servers, servers);
	for (i = 0; i < 3; i++)
		close(lfd[i]);
#ifdef HAVE_OPENSSL
	/* The servers have their copy. */
	SSL_CTX_free(tls);
#endif
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (servers > 0) {
		kill(-servers, SIGKILL);
		waitpid(servers, NULL, 0);
	}
	return 0;
}

/* Run helloc --get [args...] URL; fail unless it exits with want. */
static void
get_with(struct hc_run *r, const struct hc_run_opts *ro, int want,
    const char *const args[])
{
	helloc_run_with(r, ro, T_MS, args);
	if (r->status != want)
		fail_msg("helloc --get ... exited %d, not %d; stderr:\n%s", r->status,
		    want, r->err);
}

static void
get(struct hc_run *r, const char *path, int want, const char *out)
{
	struct hc_run_opts ro = { 0 };
	char url[128];

	snprintf(url, sizeof(url), "%s%s", base, path);
	if (out != NULL)
		get_with(r, &ro, want, (const char *const[]){ "--get", "-o", out, url, NULL });
	else
		get_with(r, &ro, want, (const char *const[]){ "--get", url, NULL });
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
	/* The request: HTTP/1.1 with Host and the port, helloc as the agent. */
	req = harness_read_file(harness_path("request"));
	assert_true(strncmp(req, "GET /length HTTP/1.1\r\n", 22) == 0);
	snprintf(want, sizeof(want), "\r\nHost: 127.0.0.1:%u\r\n", http_port);
	assert_non_null(strstr(req, want));
	assert_non_null(strstr(req, "\r\nUser-Agent: helloc/" PACKAGE_VERSION "\r\n"));
	free(req);
}

/* Chunked, close-delimited, interim 1xx: the body whole, the heads all shown. */
static void
test_bodies(void **state)
{
	struct hc_run r;

	(void)state;
	get(&r, "/chunked", 0, NULL);
	assert_string_equal(r.out, "Hello, world\n");
	assert_non_null(strstr(r.err, "Transfer-Encoding: chunked\n"));
	helloc_run_free(&r);
	get(&r, "/eof", 0, NULL);
	assert_string_equal(r.out, "until the end\n");
	helloc_run_free(&r);
	get(&r, "/continue", 0, NULL);
	assert_string_equal(r.out, "ok\n");
	assert_string_equal(r.err, "HTTP/1.1 100 Continue\n\nHTTP/1.1 201 Created\n"
	    "Content-Length: 3\n");
	helloc_run_free(&r);
}

/* -s: no status line, no headers; an error is still said. */
static void
test_silent(void **state)
{
	struct hc_run_opts ro = { 0 };
	char url[128], want[128];
	struct hc_run r;

	(void)state;
	snprintf(url, sizeof(url), "%s/length", base);
	get_with(&r, &ro, 0, (const char *const[]){ "--get", "-s", url, NULL });
	assert_string_equal(r.out, "Hello, world\n");
	assert_string_equal(r.err, "");
	helloc_run_free(&r);
	snprintf(url, sizeof(url), "%s/missing", base);
	get_with(&r, &ro, 2, (const char *const[]){ "--get", "--silent", url, NULL });
	snprintf(want, sizeof(want), "helloc: 127.0.0.1 port %u: HTTP 404 Not Found\n",
	    http_port);
	assert_string_equal(r.err, want);
	helloc_run_free(&r);
}

/* Another status than 2xx: exit 2, the body still written where asked. */
static void
test_not_found(void **state)
{
	const char *out = harness_path("missing.txt");
	char want[128], *got;
	struct hc_run r;

	(void)state;
	get(&r, "/missing", 2, NULL);
	assert_string_equal(r.out, "no such page\n");
	snprintf(want, sizeof(want), "helloc: 127.0.0.1 port %u: HTTP 404 Not Found\n",
	    http_port);
	assert_non_null(strstr(r.err, want));
	helloc_run_free(&r);
	harness_write_file(out, "old\n");
	get(&r, "/missing", 2, out);
	assert_int_equal(r.outlen, 0);
	helloc_run_free(&r);
	got = harness_read_file(out);
	assert_string_equal(got, "no such page\n");
	free(got);
}

/* A 301 chain: reported as it is without -L, followed with it, but not forever. */
static void
test_redirects(void **state)
{
	struct hc_run_opts ro = { 0 };
	char url[128], want[128];
	struct hc_run r;

	(void)state;
	get(&r, "/301-3", 2, NULL);
	assert_string_equal(r.out, "moved\n");
	snprintf(want, sizeof(want), "helloc: 127.0.0.1 port %u: HTTP 301 Moved "
	    "Permanently\n", http_port);
	assert_non_null(strstr(r.err, want));
	assert_non_null(strstr(r.err, "Location: /301-2\n"));
	helloc_run_free(&r);

	snprintf(url, sizeof(url), "%s/301-3", base);
	get_with(&r, &ro, 0, (const char *const[]){ "--get", "-L", url, NULL });
	/* The bodies of the redirects are not the body fetched. */
	assert_string_equal(r.out, "Hello, world\n");
	assert_string_equal(r.err,
	    "HTTP/1.1 301 Moved Permanently\nLocation: /301-2\nContent-Length: 6\n"
	    "Connection: close\n\n"
	    "HTTP/1.1 301 Moved Permanently\nLocation: /301-1\nContent-Length: 6\n"
	    "Connection: close\n\n"
	    "HTTP/1.1 301 Moved Permanently\nLocation: /length\nContent-Length: 6\n"
	    "Connection: close\n\n"
	    "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 13\n");
	helloc_run_free(&r);

	snprintf(url, sizeof(url), "%s/loop", base);
	get_with(&r, &ro, 1, (const char *const[]){ "--get", "--location", url, NULL });
	if (strstr(r.err, "Maximum (10) redirects followed") == NULL)
		fail_msg("stderr:\n%s", r.err);
	helloc_run_free(&r);
}

/* A body cut short is an error, chunked or not, and so is no response at all. */
static void
test_truncated(void **state)
{
	struct hc_run r;

	(void)state;
	get(&r, "/early", 1, NULL);
	assert_string_equal(r.out, "short");
	assert_non_null(strstr(r.err, "transfer closed with 995 bytes remaining"));
	helloc_run_free(&r);
	get(&r, "/early-chunked", 1, NULL);
	assert_non_null(strstr(r.err, "transfer closed"));
	helloc_run_free(&r);
	get(&r, "/nothing", 1, NULL);
	assert_non_null(strstr(r.err, "Empty reply from server"));
	helloc_run_free(&r);
}

/* -w bounds a server that never answers. */
static void
test_stalled(void **state)
{
	struct hc_run_opts ro = { 0 };
	char url[128];
	struct hc_run r;

	(void)state;
	snprintf(url, sizeof(url), "%s/hang", base);
	get_with(&r, &ro, 1, (const char *const[]){ "--get", "-w", "1", url, NULL });
	assert_non_null(strstr(r.err, "Operation too slow"));
	assert_true(r.ms < 4000);
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

/* -o FILE is replaced only by a whole response: a failure leaves it as it was. */
static void
test_output_kept(void **state)
{
	const char *out = harness_path("kept.txt");
	char url[64], *got;
	struct hc_run r;

	(void)state;
	harness_write_file(out, "precious\n");
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

/*
 * On a terminal the server's bytes in the head are escaped; into a file
 * they go as they came.
 */
static void
test_hostile_head(void **state)
{
	struct hc_run_opts tty = { .tty_err = true }, file = { 0 };
	char url[128];
	struct hc_run r;

	(void)state;
	snprintf(url, sizeof(url), "%s/hostile", base);
	get_with(&r, &tty, 0, (const char *const[]){ "--get", url, NULL });
	assert_non_null(strstr(r.err, "X-Title: \\033]0;owned\\a\n"));
	assert_null(strchr(r.err, '\033'));
	helloc_run_free(&r);
	get_with(&r, &file, 0, (const char *const[]){ "--get", url, NULL });
	assert_non_null(strstr(r.err, "X-Title: \033]0;owned\007\n"));
	helloc_run_free(&r);
}

/* A bar on a terminal for a body slower than a second; none otherwise. */
static void
test_progress(void **state)
{
	struct hc_run_opts tty = { .tty_err = true }, file = { 0 };
	char url[128];
	struct hc_run r;

	(void)state;
	snprintf(url, sizeof(url), "%s/slow", base);
	get_with(&r, &tty, 0, (const char *const[]){ "--get", "-o", "/dev/null", url, NULL });
	assert_non_null(strstr(r.err, "\r[####################] 100%  293.0 KiB of "
	    "293.0 KiB"));
	assert_non_null(strstr(r.err, "done\033[K\n"));
	assert_non_null(strstr(r.err, "ETA "));
	helloc_run_free(&r);
	/* Silenced with -s, absent off a terminal and for a quick body. */
	get_with(&r, &tty, 0, (const char *const[]){ "--get", "-s", "-o", "/dev/null",
	    url, NULL });
	assert_string_equal(r.err, "");
	helloc_run_free(&r);
	get_with(&r, &file, 0, (const char *const[]){ "--get", "-o", "/dev/null", url, NULL });
	assert_null(strchr(r.err, '\r'));
	assert_null(strstr(r.err, "KiB"));
	helloc_run_free(&r);
	snprintf(url, sizeof(url), "%s/length", base);
	get_with(&r, &tty, 0, (const char *const[]){ "--get", "-o", "/dev/null", url, NULL });
	assert_null(strchr(r.err, '\r'));
	helloc_run_free(&r);
}

/* http_proxy is honoured, and no_proxy too, as curl(1) reads them. */
static void
test_proxy(void **state)
{
	struct hc_run_opts ro = { 0 };
	char proxy[64], url[128], *req;
	struct hc_run r;

	(void)state;
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%u", proxy_port);
	setenv("http_proxy", proxy, 1);
	/* A name that resolves nowhere: only the proxy can answer for it. */
	get_with(&r, &ro, 0, (const char *const[]){ "--get", "http://helloc.invalid/page",
	    NULL });
	assert_string_equal(r.out, "from the proxy\n");
	helloc_run_free(&r);
	req = harness_read_file(harness_path("proxy.request"));
	assert_string_equal(req, "GET http://helloc.invalid/page HTTP/1.1\n");
	free(req);
	setenv("no_proxy", "127.0.0.1", 1);
	snprintf(url, sizeof(url), "%s/length", base);
	get_with(&r, &ro, 0, (const char *const[]){ "--get", url, NULL });
	assert_string_equal(r.out, "Hello, world\n");
	helloc_run_free(&r);
	unsetenv("http_proxy");
	unsetenv("no_proxy");
}

/*
 * https with the certificate made by setup(): trusted with --cacert,
 * refused with curl's reason without it, taken as it is with -k; and a
 * redirect from http to https followed with -L.
 */
static void
test_https(void **state)
{
	const char *cacert = harness_path("cert.pem");
	struct hc_run_opts ro = { 0 };
	char url[128];
	struct hc_run r;

	(void)state;
	if (!have_tls) {
		fprintf(stderr, "no OpenSSL to serve TLS with: skipped\n");
		skip();
	}
	snprintf(url, sizeof(url), "%s/length", tls_base);
	get_with(&r, &ro, 0, (const char *const[]){ "--get", "--cacert", cacert, url, NULL });
	assert_string_equal(r.out, "Hello, world\n");
	assert_non_null(strstr(r.err, "HTTP/1.1 200 OK\n"));
	helloc_run_free(&r);
	/* Not signed by the system's authorities, nor by another. */
	get_with(&r, &ro, 1, (const char *const[]){ "--get", url, NULL });
	assert_string_equal(r.out, "");
	if (strstr(r.err, "SSL certificate problem: self-signed certificate") == NULL)
		fail_msg("stderr:\n%s", r.err);
	helloc_run_free(&r);
	get_with(&r, &ro, 1, (const char *const[]){ "--get", "--cacert",
	    harness_path("other.pem"), url, NULL });
	if (strstr(r.err, "SSL certificate problem: self-signed certificate") == NULL)
		fail_msg("stderr:\n%s", r.err);
	helloc_run_free(&r);
	get_with(&r, &ro, 0, (const char *const[]){ "--get", "-k", url, NULL });
	assert_string_equal(r.out, "Hello, world\n");
	helloc_run_free(&r);
	get_with(&r, &ro, 0, (const char *const[]){ "--get", "--insecure", url, NULL });
	helloc_run_free(&r);
	snprintf(url, sizeof(url), "%s/to-https", base);
	get_with(&r, &ro, 0, (const char *const[]){ "--get", "-L", "--cacert", cacert,
	    url, NULL });
	assert_string_equal(r.out, "Hello, world\n");
	assert_non_null(strstr(r.err, "HTTP/1.1 302 Found\n"));
	helloc_run_free(&r);
}

static void
test_bad_urls(void **state)
{
	struct hc_run_opts ro = { .out = "/dev/full" };
	struct hc_run r;
	char url[128], want[96];
	uint16_t port = harness_free_port();

	(void)state;
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "--get", "gopher://h/", NULL });
	assert_int_equal(r.status, 64);
	assert_non_null(strstr(r.err, "not an http:// or https:// URL"));
	helloc_run_free(&r);
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "--get", "example.org", NULL });
	assert_int_equal(r.status, 64);
	helloc_run_free(&r);
	/* Nobody listens: exit 1, naming host and port. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "--get", url, NULL });
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want), "helloc: 127.0.0.1 port %u: Connection refused\n",
	    port);
	assert_string_equal(r.err, want);
	helloc_run_free(&r);
	/* A full disk on stdout. */
	snprintf(url, sizeof(url), "%s/length", base);
	get_with(&r, &ro, 1, (const char *const[]){ "--get", url, NULL });
	assert_non_null(strstr(r.err, "helloc: stdout: No space left on device\n"));
	helloc_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_stalled),
		cmocka_unit_test(test_big_to_file),
		cmocka_unit_test(test_output_kept),
		cmocka_unit_test(test_hostile_head),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_proxy),
		cmocka_unit_test(test_https),
		cmocka_unit_test(test_bad_urls),
	};
	static const char *const proxy_vars[] = {
		"http_proxy", "https_proxy", "all_proxy", "no_proxy",
		"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
	};
	size_t i;

	/* Loopback servers only: no proxy of the environment in the way. */
	for (i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
		unsetenv(proxy_vars[i]);
	harness_init();
	helloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
