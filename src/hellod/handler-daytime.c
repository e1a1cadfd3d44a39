/* The daytime handler (RFC 867): the local date and time as one line of text. */
#include <sys/types.h>

#include <string.h>
#include <time.h>

#include "addr.h"
#include "config.h"
#include "conn.h"
#include "handler.h"

/*
 * The RFC 867 line for t in local time, "Tuesday, February 22, 1982
 * 17:37:43-PST", without a line ending.  Returns its length, 0 when it
 * does not fit len or t cannot be converted (buf is then "").
 */
size_t
daytime_format(time_t t, char *buf, size_t len)
{
	struct tm	tm;
	size_t		n = 0;

	if (len == 0)
		return 0;
	if (localtime_r(&t, &tm) != NULL)
		n = strftime(buf, len, "%A, %B %d, %Y %H:%M:%S-%Z", &tm);
	if (n == 0)
		buf[0] = '\0';
	return n;
}

static void
daytime_tcp(struct conn *c)
{
	char line[128];

	daytime_format(time(NULL), line, sizeof(line));
	if (conn_writeline(c, line) == 0)
		c->end = END_done;
}

/* The same line with CRLF, as a datagram. */
static ssize_t
daytime_udp(const struct service *svc, const unsigned char *req, size_t reqlen,
    unsigned char *out, size_t outmax)
{
	char	line[128];
	size_t	n;

	(void)svc;
	(void)req;
	(void)reqlen;
	n = daytime_format(time(NULL), line, sizeof(line) - 2);
	memcpy(line + n, "\r\n", 2);
	n += 2;
	if (n > outmax)
		n = outmax;
	memcpy(out, line, n);
	return (ssize_t)n;
}

const struct handler handler_daytime = {
	.name = "daytime",
	.protocols = PROTO_TCP | PROTO_UDP,
	.tcp = daytime_tcp,
	.udp = daytime_udp,
};
