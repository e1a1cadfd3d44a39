/* helloc --get: an HTTP or HTTPS GET on libcurl; head to stderr, body to stdout or a file. */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <vis.h>

#include <curl/curl.h>

#include "helloc.h"

#define GET_MAXREDIRS		10
#define PROGRESS_AFTER_NS	1000000000	/* a bar for bodies slower than this */
#define PROGRESS_EVERY_NS	100000000	/* redrawn at most ten times a second */
#define PROGRESS_WIDTH		20

/* One fetch in progress. */
struct fetch {
	const struct hc_opts	*o;
	CURL			*curl;
	int			 out;		/* where the body goes */
	const char		*outname;	/* for messages: FILE or "stdout" */
	char			*tmpname;	/* -o FILE's temporary, or NULL */
	int			 werr;		/* errno of a failed write of the body */
	bool			 vis;		/* stderr is a terminal: escape the head */
	bool			 bar;		/* a progress bar may be drawn */
	bool			 drawn;		/* it is on the screen */
	bool			 in_body;	/* the last head has ended */
	unsigned		 heads;		/* response heads seen (1xx, redirects) */
	char			 reason[128];	/* of the last status line */
	uint64_t		 got;		/* body bytes of the last response */
	uint64_t		 total;		/* its length, 0 when unknown */
	uint64_t		 t_body, t_drawn;
	char			 errbuf[CURL_ERROR_SIZE];
};

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
	snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", n, unit[u]);
}

/* "0:07", "12:34", "1:02:03". */
static void
eta(char *buf, size_t len, double seconds)
{
	uint64_t s = (uint64_t)(seconds + 0.5);

	if (s >= 3600)
		snprintf(buf, len, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600,
		    s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
}

char *
http_progress_format(char *buf, size_t len, uint64_t got, uint64_t total,
    double seconds)
{
	char bar[PROGRESS_WIDTH + 1], a[32], b[32], r[32], left[32];
	double rate = seconds > 0 ? (double)got / seconds : 0;
	uint64_t pct, fill;

	human(a, sizeof(a), (double)got);
	human(r, sizeof(r), rate);
	if (total == 0) {
		snprintf(buf, len, "%s  %s/s", a, r);
		return buf;
	}
	pct = got >= total ? 100 : got * 100 / total;
	fill = got >= total ? PROGRESS_WIDTH : got * PROGRESS_WIDTH / total;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(PROGRESS_WIDTH - fill));
	bar[PROGRESS_WIDTH] = '\0';
	human(b, sizeof(b), (double)total);
	if (got >= total)
		snprintf(left, sizeof(left), "done");
	else if (rate > 0) {
		eta(left + 4, sizeof(left) - 4, (double)(total - got) / rate);
		memcpy(left, "ETA ", 4);
	} else
		snprintf(left, sizeof(left), "ETA -:--");
	snprintf(buf, len, "[%s] %3" PRIu64 "%%  %s of %s  %s/s  %s", bar, pct, a, b,
	    r, left);
	return buf;
}

/*
 * The bar, on a terminal, for a body that takes more than a second: so
 * that a quick fetch leaves no trace of it.
 */
static void
progress(struct fetch *f, bool last)
{
	char line[160];
	uint64_t now = hc_now_ns();

	if (!f->bar || !f->in_body || (!f->drawn && now - f->t_body < PROGRESS_AFTER_NS) ||
	    (!last && f->drawn && now - f->t_drawn < PROGRESS_EVERY_NS))
		return;
	http_progress_format(line, sizeof(line), f->got, f->total,
	    (double)(now - f->t_body) / 1e9);
	fprintf(stderr, "\r%s\033[K%s", line, last ? "\n" : "");
	f->drawn = true;
	f->t_drawn = now;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct fetch *f = arg;

	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (dltotal > 0)
		f->total = (uint64_t)dltotal;
	progress(f, false);
	return 0;
}

static size_t
on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;

	(void)size;
	if (hc_write_all(f->out, buf, n) == -1) {
		f->werr = errno;
		return 0;
	}
	f->got += n;
	progress(f, false);
	return n;
}

/* "HTTP/1.1 404 Not Found": keep "Not Found" for the message of exit 2. */
static void
keep_reason(struct fetch *f, const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len), *sp2;

	f->reason[0] = '\0';
	if (sp == NULL || (sp2 = memchr(sp + 1, ' ', len - (size_t)(sp + 1 - line))) == NULL)
		return;
	len -= (size_t)(sp2 + 1 - line);
	if (len >= sizeof(f->reason) / 4)
		len = sizeof(f->reason) / 4 - 1;
	strvisx(f->reason, sp2 + 1, len, VIS_CSTYLE | VIS_OCTAL);
}

/*
 * Each line of each response head, the status line first, goes to
 * stderr without its CR LF; a blank line parts two heads (an interim
 * response, a redirect followed).  On a terminal the server's bytes are
 * escaped with strvis(3), so that a header cannot drive it.
 */
static size_t
on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = n;
	char *vis;

	(void)size;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == 0) {
		f->in_body = true;
		f->t_body = hc_now_ns();
		return n;
	}
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		keep_reason(f, buf, len);
		f->in_body = false;
		f->got = f->total = 0;
		if (f->heads++ > 0 && !f->o->silent)
			fputc('\n', stderr);
	}
	if (f->o->silent)
		return n;
	if (!f->vis) {
		fwrite(buf, 1, len, stderr);
		fputc('\n', stderr);
	} else if ((vis = reallocarray(NULL, len + 1, 4)) != NULL) {
		strvisx(vis, buf, len, VIS_CSTYLE | VIS_OCTAL);
		fprintf(stderr, "%s\n", vis);
		free(vis);
	}
	return n;
}

/* Set an option that cannot fail but for want of memory; 0 or -1. */
#define SETOPT(f, opt, val)	(curl_easy_setopt((f)->curl, (opt), (val)) != CURLE_OK)

static int
fetch_setup(struct fetch *f)
{
	const struct hc_opts *o = f->o;
	long ipresolve = o->family == AF_INET ? CURL_IPRESOLVE_V4 :
	    o->family == AF_INET6 ? CURL_IPRESOLVE_V6 : CURL_IPRESOLVE_WHATEVER;

	/*
	 * No proxy is set here: libcurl reads http_proxy, https_proxy,
	 * all_proxy and no_proxy from the environment as curl(1) does.
	 */
	if (SETOPT(f, CURLOPT_URL, o->url) ||
	    SETOPT(f, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    SETOPT(f, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") ||
	    SETOPT(f, CURLOPT_FOLLOWLOCATION, o->location ? 1L : 0L) ||
	    SETOPT(f, CURLOPT_MAXREDIRS, (long)GET_MAXREDIRS) ||
	    SETOPT(f, CURLOPT_USERAGENT, "helloc/" PACKAGE_VERSION) ||
	    SETOPT(f, CURLOPT_IPRESOLVE, ipresolve) ||
	    SETOPT(f, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms) ||
	    /* -w also bounds a transfer that stalls: under a byte a second. */
	    SETOPT(f, CURLOPT_LOW_SPEED_LIMIT, 1L) ||
	    SETOPT(f, CURLOPT_LOW_SPEED_TIME, (long)(o->timeout_ms + 999) / 1000) ||
	    SETOPT(f, CURLOPT_NOSIGNAL, 1L) ||
	    SETOPT(f, CURLOPT_ERRORBUFFER, f->errbuf) ||
	    SETOPT(f, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L) ||
	    SETOPT(f, CURLOPT_HEADERFUNCTION, on_header) ||
	    SETOPT(f, CURLOPT_HEADERDATA, f) ||
	    SETOPT(f, CURLOPT_WRITEFUNCTION, on_body) ||
	    SETOPT(f, CURLOPT_WRITEDATA, f) ||
	    SETOPT(f, CURLOPT_NOPROGRESS, 0L) ||
	    SETOPT(f, CURLOPT_XFERINFOFUNCTION, on_progress) ||
	    SETOPT(f, CURLOPT_XFERINFODATA, f))
		return -1;
	if (o->cacert != NULL && SETOPT(f, CURLOPT_CAINFO, o->cacert))
		return -1;
	if (o->insecure && (SETOPT(f, CURLOPT_SSL_VERIFYPEER, 0L) ||
	    SETOPT(f, CURLOPT_SSL_VERIFYHOST, 0L)))
		return -1;
	return 0;
}

/*
 * Report a failure as "helloc: HOST port PORT: REASON", naming the last
 * URL asked for (after redirects) and libcurl's own words for it.
 */
static void
fetch_error(struct fetch *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fetch_error(struct fetch *f, const char *fmt, ...)
{
	char *url = NULL, *host = NULL, *port = NULL, msg[CURL_ERROR_SIZE + 64];
	CURLU *u;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (curl_easy_getinfo(f->curl, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK ||
	    url == NULL)
		url = (char *)f->o->url;
	if ((u = curl_url()) != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		hc_error(host, port, "%s", msg);
	else
		fprintf(stderr, "helloc: %s: %s\n", url, msg);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

/* Fetch, and tell how it went: 0 on 2xx, 2 on another status, 1 on an error. */
static int
fetch_run(struct fetch *f)
{
	CURLcode res;
	long status = 0, oserr = 0;

	if (fetch_setup(f) == -1) {
		fprintf(stderr, "helloc: %s\n", strerror(ENOMEM));
		return HC_FAIL;
	}
	res = curl_easy_perform(f->curl);
	if (f->drawn)
		progress(f, true);
	if (res == CURLE_WRITE_ERROR && f->werr != 0) {
		fprintf(stderr, "helloc: %s: %s\n", f->outname, strerror(f->werr));
		return HC_FAIL;
	}
	/* A refused connect in the words of the other modes. */
	if (res == CURLE_COULDNT_CONNECT &&
	    curl_easy_getinfo(f->curl, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK &&
	    oserr != 0)
		snprintf(f->errbuf, sizeof(f->errbuf), "%s", strerror((int)oserr));
	if (res != CURLE_OK) {
		fetch_error(f, "%s", f->errbuf[0] != '\0' ? f->errbuf :
		    curl_easy_strerror(res));
		return HC_FAIL;
	}
	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status <= 299)
		return HC_OK;
	fetch_error(f, "HTTP %ld%s%s", status, f->reason[0] != '\0' ? " " : "",
	    f->reason);
	return HC_STATUS;
}

/*
 * Where the body goes with -o: a regular file (or a new one) is written
 * under a temporary name in the same directory and renamed over FILE only
 * when a whole response has arrived, so that a failed fetch leaves FILE
 * as it was.  Anything else (/dev/null, a FIFO) is written to directly.
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

/* Close the -o file; keep it under its name unless the fetch failed. */
static int
output_close(struct fetch *f, const char *path, int rc)
{
	if (close(f->out) == -1 && rc != HC_FAIL) {
		fprintf(stderr, "helloc: %s: %s\n", path, strerror(errno));
		rc = HC_FAIL;
	}
	if (f->tmpname == NULL)
		return rc;
	if (rc != HC_FAIL && rename(f->tmpname, path) == -1) {
		fprintf(stderr, "helloc: %s: %s\n", path, strerror(errno));
		rc = HC_FAIL;
	}
	if (rc == HC_FAIL)
		(void)unlink(f->tmpname);
	free(f->tmpname);
	return rc;
}

/* Only http:// and https:// URLs are fetched; 0, or -1 after saying why. */
static int
check_url(const char *url)
{
	CURLU *u;
	CURLUcode uc;
	char *scheme = NULL;
	int rv = -1;

	if ((u = curl_url()) == NULL)
		uc = CURLUE_OUT_OF_MEMORY;
	else if ((uc = curl_url_set(u, CURLUPART_URL, url, 0)) == CURLUE_OK &&
	    (uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) == CURLUE_OK) {
		if (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0)
			rv = 0;
		else
			fprintf(stderr, "helloc: %s: not an http:// or https:// URL\n", url);
	}
	if (uc == CURLUE_BAD_SCHEME || uc == CURLUE_NO_SCHEME)
		fprintf(stderr, "helloc: %s: not an http:// or https:// URL\n", url);
	else if (uc != CURLUE_OK)
		fprintf(stderr, "helloc: %s: not a URL: %s\n", url, curl_url_strerror(uc));
	curl_free(scheme);
	curl_url_cleanup(u);
	return rv;
}

/*
 * --get: fetch an http or https URL, the heads to stderr, the body to
 * stdout or -o FILE.  Exit 0 on a 2xx status, 2 on another status, 1 on
 * a network, TLS or protocol error, 64 on a URL helloc does not fetch.
 */
int
http_get(const struct hc_opts *o)
{
	struct fetch f = { .o = o, .out = -1 };
	int rc;

	if (check_url(o->url) == -1)
		return HC_USAGE;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (f.curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "helloc: libcurl could not be initialised\n");
		return HC_FAIL;
	}
	f.outname = o->output != NULL ? o->output : "stdout";
	if (o->output == NULL)
		f.out = 1;
	else if (output_open(&f, o->output) == -1)
		fprintf(stderr, "helloc: %s: %s\n", o->output, strerror(errno));
	if (f.out == -1)
		rc = HC_FAIL;
	else {
		f.vis = isatty(2);
		f.bar = f.vis && !o->silent;
		rc = fetch_run(&f);
	}
	if (o->output != NULL && f.out != -1)
		rc = output_close(&f, o->output, rc);
	curl_easy_cleanup(f.curl);
	curl_global_cleanup();
	return rc;
}
