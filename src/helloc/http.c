/* helloc --get: an HTTP/1.1 GET; URL parsing, the response head, chunked decoding, progress. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <vis.h>

#include "helloc.h"

#define HTTP_HEADMAX		65536
#define HTTP_BUFSIZE		65536
#define PROGRESS_MIN		(1024 * 1024)	/* smaller bodies get no bar */
#define PROGRESS_EVERY_NS	100000000	/* redraw at most ten times a second */
#define PROGRESS_WIDTH		30
#define HTTP_INTERIM_MAX	10	/* 1xx responses skipped before giving up */

#define STR(x)			STR2(x)
#define STR2(x)			#x

static void
seterr(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
}

/* Host name characters (RFC 3986 reg-name, without percent-encoding). */
static bool
host_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static int
url_host(const char *p, const char *end, struct http_url *u, const char **rest,
    char *err, size_t errlen)
{
	const char *h = p, *hend;
	struct in6_addr in6;

	if (*p == '[') {
		if ((hend = memchr(p, ']', (size_t)(end - p))) == NULL) {
			seterr(err, errlen, "unterminated [ in the URL's host");
			return -1;
		}
		h = p + 1;
		*rest = hend + 1;
		u->ipv6 = true;
	} else {
		for (hend = p; hend < end && *hend != ':'; hend++)
			if (!host_char(*hend)) {
				seterr(err, errlen, "bad character in the URL's host");
				return -1;
			}
		*rest = hend;
	}
	if (hend == h) {
		seterr(err, errlen, "the URL has no host");
		return -1;
	}
	if ((size_t)(hend - h) >= sizeof(u->host)) {
		seterr(err, errlen, "the URL's host is too long");
		return -1;
	}
	memcpy(u->host, h, (size_t)(hend - h));
	u->host[hend - h] = '\0';
	if (u->ipv6 && inet_pton(AF_INET6, u->host, &in6) != 1) {
		seterr(err, errlen, "not an IPv6 address between [ and ] in the URL");
		return -1;
	}
	return 0;
}

static int
url_port(const char *p, const char *end, struct http_url *u, char *err, size_t errlen)
{
	const char *errstr;
	char num[8];
	size_t n = (size_t)(end - p);

	if (n == 0) {
		strlcpy(u->port, "80", sizeof(u->port));
		return 0;
	}
	if (n >= sizeof(num) || strspn(p, "0123456789") < n) {
		seterr(err, errlen, "bad port in the URL");
		return -1;
	}
	memcpy(num, p, n);
	num[n] = '\0';
	snprintf(u->port, sizeof(u->port), "%lld", strtonum(num, 1, 65535, &errstr));
	if (errstr != NULL) {
		seterr(err, errlen, "bad port in the URL");
		return -1;
	}
	return 0;
}

static int
url_path(const char *p, struct http_url *u, char *err, size_t errlen)
{
	size_t n = strcspn(p, "#"), i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f) {
			seterr(err, errlen, "spaces or control characters in the URL's path");
			return -1;
		}
	/* "http://host?q" asks for "/?q". */
	if (snprintf(u->path, sizeof(u->path), "%s%.*s", *p == '/' ? "" : "/",
	    (int)n, p) >= (int)sizeof(u->path)) {
		seterr(err, errlen, "the URL's path is too long");
		return -1;
	}
	return 0;
}

int
http_url_parse(const char *s, struct http_url *u, char *err, size_t errlen)
{
	const char *p, *end, *rest;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(s, "https://", 8) == 0) {
		seterr(err, errlen, "https is not supported: helloc --get speaks plain http only");
		return -1;
	}
	if (strncasecmp(s, "http://", 7) != 0) {
		seterr(err, errlen, "not an http:// URL");
		return -1;
	}
	p = s + 7;
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)) != NULL) {
		seterr(err, errlen, "user names in URLs are not supported");
		return -1;
	}
	if (url_host(p, end, u, &rest, err, errlen) == -1)
		return -1;
	if (rest < end && *rest != ':') {
		seterr(err, errlen, "unexpected text after the URL's host");
		return -1;
	}
	if (url_port(rest < end ? rest + 1 : end, end, u, err, errlen) == -1)
		return -1;
	return url_path(end, u, err, errlen);
}

void
http_url_hostport(const struct http_url *u, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", u->ipv6 ? "[" : "", u->host,
	    u->ipv6 ? "]" : "", strcmp(u->port, "80") == 0 ? "" : ":",
	    strcmp(u->port, "80") == 0 ? "" : u->port);
}

/* "HTTP/1.1 200 OK": status and reason. */
static int
head_status(const char *line, size_t len, struct http_head *h, char *err, size_t errlen)
{
	size_t rlen;

	if (len < 12 || strncmp(line, "HTTP/", 5) != 0 ||
	    !isdigit((unsigned char)line[5]) || line[6] != '.' ||
	    !isdigit((unsigned char)line[7]) || line[8] != ' ' ||
	    !isdigit((unsigned char)line[9]) || !isdigit((unsigned char)line[10]) ||
	    !isdigit((unsigned char)line[11]) || (len > 12 && line[12] != ' ')) {
		seterr(err, errlen, "not an HTTP response");
		return -1;
	}
	h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	rlen = len > 13 ? len - 13 : 0;
	if (rlen >= sizeof(h->reason))
		rlen = sizeof(h->reason) - 1;
	memcpy(h->reason, line + 13, rlen);
	h->reason[rlen] = '\0';
	return 0;
}

static int
head_length(const char *v, size_t vlen, struct http_head *h, char *err, size_t errlen)
{
	const char *errstr;
	char num[24];
	long long n;

	if (vlen == 0 || vlen >= sizeof(num) || strspn(v, "0123456789") < vlen) {
		seterr(err, errlen, "bad Content-Length");
		return -1;
	}
	memcpy(num, v, vlen);
	num[vlen] = '\0';
	n = strtonum(num, 0, LLONG_MAX, &errstr);
	if (errstr != NULL || (h->length != -1 && h->length != n)) {
		seterr(err, errlen, "bad Content-Length");
		return -1;
	}
	h->length = n;
	return 0;
}

/* One "Name: value" line. */
static int
head_field(const char *line, size_t len, struct http_head *h, char *err, size_t errlen)
{
	const char *colon = memchr(line, ':', len), *v, *vend = line + len;
	size_t nlen;

	if (len > 0 && (line[0] == ' ' || line[0] == '\t'))
		return 0;	/* an obsolete folded continuation: nothing we use */
	if (colon == NULL || colon == line) {
		seterr(err, errlen, "malformed header line in the response");
		return -1;
	}
	nlen = (size_t)(colon - line);
	for (v = colon + 1; v < vend && (*v == ' ' || *v == '\t'); v++)
		;
	while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
		vend--;
	if (nlen == 14 && strncasecmp(line, "Content-Length", nlen) == 0)
		return head_length(v, (size_t)(vend - v), h, err, errlen);
	if (nlen == 17 && strncasecmp(line, "Transfer-Encoding", nlen) == 0) {
		/* chunked is always the last coding when it is there. */
		if (vend - v >= 7 && strncasecmp(vend - 7, "chunked", 7) == 0)
			h->chunked = true;
	}
	return 0;
}

int
http_head_parse(const char *buf, size_t len, struct http_head *h, char *err,
    size_t errlen)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t l;
	bool first = true;

	memset(h, 0, sizeof(*h));
	h->length = -1;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		l = (size_t)((nl != NULL ? nl : end) - p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l == 0 && !first)
			break;
		if (first && head_status(p, l, h, err, errlen) == -1)
			return -1;
		if (!first && head_field(p, l, h, err, errlen) == -1)
			return -1;
		first = false;
		p = nl != NULL ? nl + 1 : end;
	}
	if (first) {
		seterr(err, errlen, "empty response head");
		return -1;
	}
	/* A chunked body's length is the chunks', whatever else was said. */
	if (h->chunked)
		h->length = -1;
	return 0;
}

enum {
	CH_SIZE,		/* hex digits of a chunk size */
	CH_SIZE_WS,		/* blanks after them */
	CH_EXT,			/* a chunk extension, up to the line end */
	CH_SIZE_LF,		/* the LF after the size line's CR */
	CH_DATA,
	CH_DATA_CR,		/* the CRLF after the data */
	CH_DATA_LF,
	CH_TRAILER,		/* at the start of a trailer line, or the last line */
	CH_TRAILER_LINE,	/* inside a trailer field */
	CH_END_LF,		/* the LF of the last line */
	CH_DONE,
};

void
http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = CH_SIZE;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The size line ended: on to the data, or to the trailers after the last chunk. */
static void
chunk_sized(struct http_chunked *c)
{
	c->state = c->remain == 0 ? CH_TRAILER : CH_DATA;
	c->digits = 0;
	c->sized = false;
}

/* One byte of the size line; 0, or -1 with *err. */
static int
chunk_size_byte(struct http_chunked *c, char ch, const char **err)
{
	int v;

	switch (c->state) {
	case CH_SIZE:
		if ((v = hexval(ch)) != -1) {
			/* Fifteen digits are a petabyte; more is an attack. */
			if (c->digits == 15) {
				*err = "chunk size too large";
				return -1;
			}
			c->remain = c->remain * 16 + (uint64_t)v;
			if (c->remain > 0)
				c->digits++;
			c->sized = true;
			return 0;
		}
		if (!c->sized) {
			*err = "bad chunk size";
			return -1;
		}
		c->state = CH_SIZE_WS;
		/* FALLTHROUGH */
	case CH_SIZE_WS:
	case CH_EXT:
		if (ch == '\r')
			c->state = CH_SIZE_LF;
		else if (ch == '\n')
			chunk_sized(c);
		else if (ch == ';')
			c->state = CH_EXT;
		else if (c->state == CH_SIZE_WS && ch != ' ' && ch != '\t') {
			*err = "bad chunk size";
			return -1;
		}
		return 0;
	case CH_SIZE_LF:
		if (ch != '\n') {
			*err = "bad chunk size line";
			return -1;
		}
		chunk_sized(c);
		return 0;
	}
	return 0;
}

/* One byte after the data: its CRLF, trailer lines, the last line. */
static int
chunk_tail_byte(struct http_chunked *c, char ch, const char **err)
{
	switch (c->state) {
	case CH_DATA_CR:
		if (ch == '\r')
			c->state = CH_DATA_LF;
		else if (ch == '\n')
			c->state = CH_SIZE;
		else {
			*err = "no CRLF after chunk data";
			return -1;
		}
		break;
	case CH_DATA_LF:
		if (ch != '\n') {
			*err = "no CRLF after chunk data";
			return -1;
		}
		c->state = CH_SIZE;
		break;
	case CH_TRAILER:
		if (ch == '\r')
			c->state = CH_END_LF;
		else if (ch == '\n')
			c->state = CH_DONE;
		else
			c->state = CH_TRAILER_LINE;
		break;
	case CH_TRAILER_LINE:
		if (ch == '\n')
			c->state = CH_TRAILER;
		break;
	case CH_END_LF:
		if (ch != '\n') {
			*err = "bad end of a chunked body";
			return -1;
		}
		c->state = CH_DONE;
		break;
	}
	return 0;
}

int
http_chunked_feed(struct http_chunked *c, const char *buf, size_t len,
    size_t *used, http_sink sink, void *arg, const char **err)
{
	size_t i = 0, n;
	int rv;

	*err = NULL;
	while (i < len && c->state != CH_DONE) {
		if (c->state == CH_DATA) {
			n = len - i;
			if (n > c->remain)
				n = (size_t)c->remain;
			if (sink(arg, buf + i, n) != 0)
				return -1;
			i += n;
			if ((c->remain -= n) == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		if (c->state <= CH_SIZE_LF)
			rv = chunk_size_byte(c, buf[i], err);
		else
			rv = chunk_tail_byte(c, buf[i], err);
		if (rv == -1)
			return -1;
		i++;
	}
	*used = i;
	return c->state == CH_DONE;
}

/* "512 B", "1.5 KiB", "3.2 MiB", "1.1 GiB". */
static void
human(char *buf, size_t len, double n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (n >= 1024 && u < 4) {
		n /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f %s", n, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", n, unit[u]);
}

char *
http_progress_format(char *buf, size_t len, uint64_t got, uint64_t total,
    double seconds)
{
	char bar[PROGRESS_WIDTH + 1], a[32], b[32];
	uint64_t pct, fill;

	human(a, sizeof(a), (double)got);
	if (total == 0) {
		human(b, sizeof(b), seconds > 0 ? (double)got / seconds : 0);
		snprintf(buf, len, "%s  %s/s", a, b);
		return buf;
	}
	pct = got >= total ? 100 : got * 100 / total;
	fill = got >= total ? PROGRESS_WIDTH : got * PROGRESS_WIDTH / total;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(PROGRESS_WIDTH - fill));
	bar[PROGRESS_WIDTH] = '\0';
	human(b, sizeof(b), (double)total);
	snprintf(buf, len, "[%s] %3" PRIu64 "%%  %s of %s", bar, pct, a, b);
	return buf;
}

/* One fetch in progress. */
struct fetch {
	const struct hc_opts	*o;
	struct http_url		 url;
	int			 fd;
	int			 out;
	const char		*outname;
	char			*tmpname;	/* -o FILE's temporary, or NULL */
	uint64_t		 got;		/* body bytes written */
	uint64_t		 total;		/* Content-Length, 0 when unknown */
	bool			 tty;		/* stderr is a terminal */
	bool			 drawn;		/* the bar is on the screen */
	uint64_t		 t0, drawn_at;
	size_t			 len;		/* bytes held in buf */
	size_t			 scan;		/* head_end() looked this far */
	char			 buf[HTTP_BUFSIZE];
};

static void
fetch_error(struct fetch *f, const char *msg)
{
	hc_error(f->url.host, f->url.port, "%s", msg);
}

static void
progress(struct fetch *f, bool last)
{
	char line[128];
	uint64_t now = hc_now_ns();

	if (!f->tty || (f->total < PROGRESS_MIN && f->got < PROGRESS_MIN) ||
	    (!last && f->drawn && now - f->drawn_at < PROGRESS_EVERY_NS))
		return;
	http_progress_format(line, sizeof(line), f->got, f->total,
	    (double)(now - f->t0) / 1e9);
	fprintf(stderr, "\r%s\033[K%s", line, last ? "\n" : "");
	f->drawn = true;
	f->drawn_at = now;
}

static int
body_sink(void *arg, const char *buf, size_t len)
{
	struct fetch *f = arg;

	if (hc_write_all(f->out, buf, len) == -1) {
		fprintf(stderr, "helloc: %s: %s\n", f->outname, strerror(errno));
		return -1;
	}
	f->got += len;
	progress(f, false);
	return 0;
}

/* Read more into f->buf within -w; the count, 0 at EOF, -1 after reporting. */
static ssize_t
fetch_read(struct fetch *f)
{
	char sec[32];
	ssize_t n;
	int rv;

	for (;;) {
		if ((rv = hc_wait(f->fd, POLLIN, f->o->timeout_ms)) == 0) {
			hc_error(f->url.host, f->url.port, "no data for %s",
			    hc_seconds(f->o->timeout_ms, sec, sizeof(sec)));
			return -1;
		}
		if (rv == 1 && (n = recv(f->fd, f->buf + f->len,
		    sizeof(f->buf) - f->len, 0)) >= 0) {
			f->len += (size_t)n;
			return n;
		}
		if (errno != EINTR) {
			fetch_error(f, strerror(errno));
			return -1;
		}
	}
}

/*
 * The end of the head in f->buf: the offset after its blank line, or 0.
 * The search resumes where the last one stopped, two bytes back for a
 * blank line cut between reads, so that a head coming in many small
 * pieces is not scanned again and again from its start.
 */
static size_t
head_end(struct fetch *f)
{
	size_t i;

	i = f->scan > 2 ? f->scan - 2 : 0;
	f->scan = f->len;
	for (; i + 1 < f->len; i++) {
		if (f->buf[i] != '\n')
			continue;
		if (f->buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < f->len && f->buf[i + 1] == '\r' && f->buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* The head goes to stderr line by line, made safe for a terminal. */
static void
head_print(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	char vis[4 * 1024 + 1];
	size_t l;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		l = (size_t)((nl != NULL ? nl : end) - p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l == 0)
			break;
		if (l > 1024)
			l = 1024;
		strvisx(vis, p, l, VIS_CSTYLE | VIS_OCTAL);
		fprintf(stderr, "%s\n", vis);
		p = nl != NULL ? nl + 1 : end;
	}
}

/*
 * Read and print the final response head, skipping interim 1xx ones, and
 * leave the body bytes already read at the start of f->buf.
 */
static int
fetch_head(struct fetch *f, struct http_head *h)
{
	char err[HC_ERRLEN];
	size_t end;
	ssize_t n;
	int interim;

	for (interim = 0; interim <= HTTP_INTERIM_MAX; interim++) {
		while ((end = head_end(f)) == 0) {
			if (f->len == sizeof(f->buf)) {
				fetch_error(f, "response head larger than 64 KiB");
				return -1;
			}
			if ((n = fetch_read(f)) == -1)
				return -1;
			if (n == 0) {
				fetch_error(f, f->len == 0 ? "connection closed "
				    "without a response" : "connection closed in the "
				    "response head");
				return -1;
			}
		}
		head_print(f->buf, end);
		if (http_head_parse(f->buf, end, h, err, sizeof(err)) == -1) {
			fetch_error(f, err);
			return -1;
		}
		memmove(f->buf, f->buf + end, f->len - end);
		f->len -= end;
		f->scan = 0;
		if (h->status >= 200 || h->status == 101)
			return 0;
	}
	fetch_error(f, "more than " STR(HTTP_INTERIM_MAX) " interim (1xx) responses");
	return -1;
}

static int
body_chunked(struct fetch *f)
{
	struct http_chunked c;
	const char *err;
	size_t used;
	ssize_t n;
	int rv;

	http_chunked_init(&c);
	for (;;) {
		rv = http_chunked_feed(&c, f->buf, f->len, &used, body_sink, f, &err);
		if (rv == 1)
			return 0;
		if (rv == -1) {
			if (err != NULL)
				fetch_error(f, err);
			return -1;
		}
		f->len = 0;
		if ((n = fetch_read(f)) == -1)
			return -1;
		if (n == 0) {
			fetch_error(f, "connection closed in the middle of a chunked body");
			return -1;
		}
	}
}

/* A body of known length (length >= 0), or one that ends at EOF (-1). */
static int
body_plain(struct fetch *f, int64_t length)
{
	char msg[128];
	uint64_t want = length >= 0 ? (uint64_t)length : UINT64_MAX;
	size_t n;
	ssize_t r;

	for (;;) {
		n = f->len;
		if (n > want - f->got)
			n = (size_t)(want - f->got);
		if (n > 0 && body_sink(f, f->buf, n) == -1)
			return -1;
		f->len = 0;
		if (f->got == want)
			return 0;
		if ((r = fetch_read(f)) == -1)
			return -1;
		if (r == 0 && length < 0)
			return 0;
		if (r == 0) {
			snprintf(msg, sizeof(msg), "connection closed after %" PRIu64
			    " of %" PRId64 " bytes of the body", f->got, length);
			fetch_error(f, msg);
			return -1;
		}
	}
}

static int
fetch_request(struct fetch *f)
{
	char hostport[HTTP_HOSTMAX + 16], *req;
	int len, rv;

	http_url_hostport(&f->url, hostport, sizeof(hostport));
	len = asprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: helloc/%s\r\n"
	    "Accept: */*\r\nConnection: close\r\n\r\n", f->url.path, hostport,
	    PACKAGE_VERSION);
	if (len == -1)
		return -1;
	rv = hc_send_within(f->fd, req, (size_t)len, f->o->timeout_ms);
	free(req);
	return rv;
}

/* Connect, ask, and take the whole response; the exit code. */
static int
fetch_run(struct fetch *f)
{
	struct http_head h;
	char err[HC_ERRLEN], reason[sizeof(h.reason) * 4];
	int rv;

	f->fd = hc_connect(f->url.host, f->url.port, f->o->family, SOCK_STREAM,
	    f->o->timeout_ms, NULL, NULL, err, sizeof(err));
	if (f->fd == -1) {
		fetch_error(f, err);
		return HC_FAIL;
	}
	if (fetch_request(f) == -1) {
		fetch_error(f, strerror(errno));
		return HC_FAIL;
	}
	if (fetch_head(f, &h) == -1)
		return HC_FAIL;
	f->total = h.length > 0 ? (uint64_t)h.length : 0;
	f->t0 = hc_now_ns();
	/* RFC 9112 6.3: these responses have no body, whatever they say. */
	if (h.status == 204 || h.status == 304 || h.status == 101)
		rv = 0;
	else if (h.chunked)
		rv = body_chunked(f);
	else
		rv = body_plain(f, h.length);
	if (f->drawn)
		progress(f, true);
	if (rv == -1)
		return HC_FAIL;
	if (h.status < 200 || h.status > 299) {
		strvis(reason, h.reason, VIS_CSTYLE | VIS_OCTAL);
		hc_error(f->url.host, f->url.port, "HTTP %d%s%s", h.status,
		    reason[0] != '\0' ? " " : "", reason);
		return HC_FAIL;
	}
	return HC_OK;
}

/*
 * Where the body goes with -o: a regular file (or a new one) is written
 * under a temporary name in the same directory and renamed over FILE only
 * on success, so that a failed fetch or an error page leaves FILE as it
 * was.  Anything else (/dev/null, a FIFO) is written to directly.
 */
static int
output_open(struct fetch *f, const char *path)
{
	struct stat st;
	mode_t mask;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return f->out = open(path, O_WRONLY | O_CLOEXEC);
	if (asprintf(&f->tmpname, "%s.XXXXXX", path) == -1) {
		f->tmpname = NULL;
		return -1;
	}
	if ((f->out = mkostemp(f->tmpname, O_CLOEXEC)) == -1) {
		free(f->tmpname);
		f->tmpname = NULL;
		return -1;
	}
	/* mkostemp(3) makes it 0600: give it the mode a new file would get. */
	mask = umask(0);
	umask(mask);
	(void)fchmod(f->out, 0666 & ~mask);
	return f->out;
}

/* Close the -o file; keep it under its name on success, else remove it. */
static int
output_close(struct fetch *f, const char *path, int rc)
{
	if (close(f->out) == -1 && rc == HC_OK) {
		fprintf(stderr, "helloc: %s: %s\n", path, strerror(errno));
		rc = HC_FAIL;
	}
	if (f->tmpname == NULL)
		return rc;
	if (rc == HC_OK && rename(f->tmpname, path) == -1) {
		fprintf(stderr, "helloc: %s: %s\n", path, strerror(errno));
		rc = HC_FAIL;
	}
	if (rc != HC_OK)
		(void)unlink(f->tmpname);
	free(f->tmpname);
	return rc;
}

/*
 * --get: fetch an http URL with HTTP/1.1, the head to stderr, the body to
 * stdout or -o FILE.  Exit 0 on a 2xx status, 1 on any other status or
 * error, 64 on a URL helloc cannot fetch.
 */
int
http_get(const struct hc_opts *o)
{
	struct fetch *f;
	char err[HC_ERRLEN];
	int rc;

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		fprintf(stderr, "helloc: %s\n", strerror(errno));
		return HC_FAIL;
	}
	f->o = o;
	f->fd = f->out = -1;
	if (http_url_parse(o->url, &f->url, err, sizeof(err)) == -1) {
		fprintf(stderr, "helloc: %s: %s\n", o->url, err);
		free(f);
		return HC_USAGE;
	}
	f->outname = o->output != NULL ? o->output : "stdout";
	if (o->output == NULL)
		f->out = 1;
	else if (output_open(f, o->output) == -1)
		fprintf(stderr, "helloc: %s: %s\n", o->output, strerror(errno));
	if (f->out == -1)
		rc = HC_FAIL;
	else {
		f->tty = isatty(2);
		rc = fetch_run(f);
	}
	if (f->fd != -1)
		close(f->fd);
	if (o->output != NULL && f->out != -1)
		rc = output_close(f, o->output, rc);
	free(f);
	return rc;
}
