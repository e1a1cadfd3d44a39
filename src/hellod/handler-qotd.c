/* The qotd handler (RFC 865): quotes loaded from a file, one picked at random, CRLF ends. */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "config-key.h"
#include "conn.h"
#include "handler.h"
#include "util.h"

/* RFC 865 asks that a quote be no longer than 512 characters, its CRLF included. */
#define QOTD_MAX	512
#define QUOTE_MAX	(QOTD_MAX - 2)
/* The file is read whole into memory, so it has a size limit too. */
#define QOTD_FILE_MAX	(1024 * 1024)

/* qotd's own settings, its key, and the quotes prepare loads. */
struct qotd_conf {
	char		*file;
	char	       **quotes;
	size_t		 nquotes;
};

static const struct key qotd_keys[] = {
	{ .name = "file", .type = KEY_STRING,
	    .flags = KEY_NONEMPTY | KEY_REQUIRED | KEY_PATH,
	    KEY_FIELD(struct qotd_conf, file) },
	{ .name = NULL },
};

/*
 * Quotes are separated by blank lines; a quote's lines are joined with
 * "\n", each without its trailing blanks.  Returns 0, or -1 after
 * reporting why.
 */
static int
qotd_parse(struct qotd_conf *qc, const char *data, size_t len, struct hctx *ctx)
{
	char		 quote[QUOTE_MAX + 1];
	const char	*line, *nl, *end = data + len;
	size_t		 qlen = 0, n;
	int		 lineno = 0, qline = 0;

	for (line = data; line <= end; line = nl + 1) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		n = strnlen(line, (size_t)(nl - line));
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			n--;
		if (n > 0 && qlen == 0)
			qline = lineno;
		if (n > 0 && qlen + (qlen > 0) + n > QUOTE_MAX) {
			handler_error(ctx, "file", "quote at line %d of \"%s\" is "
			    "longer than %d bytes", qline, qc->file, QUOTE_MAX);
			return -1;
		}
		if (n > 0) {
			if (qlen > 0)
				quote[qlen++] = '\n';
			memcpy(quote + qlen, line, n);
			qlen += n;
			quote[qlen] = '\0';
		}
		if ((n == 0 || nl == end) && qlen > 0) {
			if (util_strv_add(&qc->quotes, &qc->nquotes, quote) == -1) {
				handler_error(ctx, "file", "out of memory");
				return -1;
			}
			qlen = 0;
		}
	}
	if (qc->nquotes == 0) {
		handler_error(ctx, "file", "no quote in \"%s\"", qc->file);
		return -1;
	}
	return 0;
}

/*
 * The whole of the file on fd into *data: at most QOTD_FILE_MAX bytes,
 * whatever its size said when it was opened (it may grow).  Returns an
 * error text, or NULL.
 */
static const char *
qotd_read(int fd, char **data, size_t *len)
{
	char	*buf;
	ssize_t	 n;
	size_t	 used = 0;

	/* One byte more than allowed tells a file that is too large. */
	if ((buf = malloc(QOTD_FILE_MAX + 1)) == NULL)
		return "out of memory";
	while (used <= QOTD_FILE_MAX) {
		n = read(fd, buf + used, QOTD_FILE_MAX + 1 - used);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			return strerror(errno);
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > QOTD_FILE_MAX) {
		free(buf);
		return NULL;
	}
	*data = buf;
	*len = used;
	return NULL;
}

/* At load time: read the quotes of the file. */
static void
qotd_prepare(struct service *svc, struct hctx *ctx)
{
	struct qotd_conf *qc = svc->hconf;
	struct stat	 st;
	const char	*err = NULL;
	char		*data = NULL;
	size_t		 len = 0;
	int		 fd;

	if ((fd = config_open(qc->file, &st, &err)) == -1) {
		handler_error(ctx, "file", "cannot read \"%s\": %s", qc->file, err);
		return;
	}
	if (st.st_size <= QOTD_FILE_MAX)
		err = qotd_read(fd, &data, &len);
	close(fd);
	if (err != NULL)
		handler_error(ctx, "file", "cannot read \"%s\": %s", qc->file, err);
	else if (data == NULL)
		handler_error(ctx, "file", "\"%s\" is larger than 1 MiB", qc->file);
	else
		qotd_parse(qc, data, len, ctx);
	free(data);
}

static void
qotd_release(void *hconf)
{
	struct qotd_conf *qc = hconf;
	size_t	 i;

	for (i = 0; i < qc->nquotes; i++)
		free(qc->quotes[i]);
	free(qc->quotes);
}

/*
 * Render quote into out (outmax bytes) with CRLF for each "\n" and a
 * final CRLF.  A quote too long is cut, and still ends with CRLF when
 * the room allows.  Stray CRs are dropped, so a file with CRLF endings
 * does not give CRCRLF.  Returns the length.
 */
static size_t
qotd_render(const char *quote, unsigned char *out, size_t outmax)
{
	const char	*p;
	size_t		 n = 0;

	if (outmax < 2)
		return 0;
	for (p = quote; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n') {
			if (n + 2 > outmax - 2)
				break;
			out[n++] = '\r';
			out[n++] = '\n';
		} else {
			if (n + 1 > outmax - 2)
				break;
			out[n++] = (unsigned char)*p;
		}
	}
	/* Trailing newlines already gave their CRLF: do not double it. */
	if (n < 2 || out[n - 2] != '\r' || out[n - 1] != '\n') {
		out[n++] = '\r';
		out[n++] = '\n';
	}
	return n;
}

/* A random quote rendered into out, or -1 when the service has none. */
static ssize_t
qotd_pick(const struct service *svc, unsigned char *out, size_t outmax)
{
	const struct qotd_conf *qc = svc->hconf;
	uint32_t i;

	if (qc == NULL || qc->nquotes == 0)
		return -1;
	i = arc4random_uniform((uint32_t)qc->nquotes);
	if (outmax > QOTD_MAX)
		outmax = QOTD_MAX;
	return (ssize_t)qotd_render(qc->quotes[i], out, outmax);
}

static void
qotd_tcp(struct conn *c)
{
	unsigned char	buf[QOTD_MAX];
	ssize_t		n;

	if ((n = qotd_pick(c->svc, buf, sizeof(buf))) == -1) {
		c->end = END_done;
		return;
	}
	if (conn_write(c, buf, (size_t)n) == 0)
		c->end = END_done;
}

static ssize_t
qotd_udp(const struct service *svc, const unsigned char *req, size_t reqlen,
    unsigned char *out, size_t outmax)
{
	(void)req;
	(void)reqlen;
	return qotd_pick(svc, out, outmax);
}

const struct handler handler_qotd = {
	.name = "qotd",
	.protocols = PROTO_TCP | PROTO_UDP,
	.tcp = qotd_tcp,
	.udp = qotd_udp,
	.keys = qotd_keys,
	.conf_size = sizeof(struct qotd_conf),
	.prepare = qotd_prepare,
	.release = qotd_release,
};
