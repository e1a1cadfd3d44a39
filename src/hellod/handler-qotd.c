/* The qotd handler (RFC 865): one quote picked at random, CRLF line endings. */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "conn.h"
#include "handler.h"

/* RFC 865 asks that a quote be no longer than 512 characters. */
#define QOTD_MAX	512

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
	uint32_t i;

	if (svc->nquotes == 0 || svc->quotes == NULL)
		return -1;
	i = arc4random_uniform((uint32_t)svc->nquotes);
	if (outmax > QOTD_MAX)
		outmax = QOTD_MAX;
	return (ssize_t)qotd_render(svc->quotes[i], out, outmax);
}

static void
qotd_tcp(struct conn *c)
{
	unsigned char	buf[QOTD_MAX];
	ssize_t		n;

	if ((n = qotd_pick(c->svc, buf, sizeof(buf))) == -1) {
		c->end = "done";
		return;
	}
	if (conn_write(c, buf, (size_t)n) == 0)
		c->end = "done";
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
};
