/* The chargen handler (RFC 864): the rotating 72-character lines of printable ASCII. */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "conn.h"
#include "handler.h"

/* The 95 printable characters, space to tilde, are the ring the lines rotate on. */
#define CHARGEN_FIRST	' '
#define CHARGEN_RING	95
#define CHARGEN_RECORD	(CHARGEN_LINE + 2)	/* a line and its CRLF */
#define CHARGEN_UDP_MAX	512

/*
 * Line n holds characters n to n + 71 of the ring, modulo 95, so the
 * pattern repeats every 95 lines.
 */
void
chargen_line(unsigned long n, char out[CHARGEN_LINE])
{
	size_t i;

	for (i = 0; i < CHARGEN_LINE; i++)
		out[i] = (char)(CHARGEN_FIRST + (n + i) % CHARGEN_RING);
}

/* The pattern with CRLFs from its first byte, len bytes of it. */
static void
chargen_fill(unsigned char *out, size_t len)
{
	char	line[CHARGEN_LINE];
	size_t	n, done = 0;
	unsigned long i;

	for (i = 0; done < len; i++) {
		chargen_line(i, line);
		n = len - done < CHARGEN_LINE ? len - done : CHARGEN_LINE;
		memcpy(out + done, line, n);
		done += n;
		if (done < len)
			out[done++] = '\r';
		if (done < len)
			out[done++] = '\n';
	}
}

/*
 * Lines until the client leaves.  One whole period is built once and
 * sent over and over; a client that stops reading is cut by the idle
 * timeout inside conn_write, as no byte moves any more.
 */
static void
chargen_tcp(struct conn *c)
{
	unsigned char block[CHARGEN_RING * CHARGEN_RECORD];

	chargen_fill(block, sizeof(block));
	while (conn_write(c, block, sizeof(block)) == 0)
		;
}

/* One datagram of a random length from 0 to 512 bytes of the pattern. */
static ssize_t
chargen_udp(const struct service *svc, const unsigned char *req, size_t reqlen,
    unsigned char *out, size_t outmax)
{
	size_t len;

	(void)svc;
	(void)req;
	(void)reqlen;
	len = arc4random_uniform(CHARGEN_UDP_MAX + 1);
	if (len > outmax)
		len = outmax;
	chargen_fill(out, len);
	return (ssize_t)len;
}

const struct handler handler_chargen = {
	.name = "chargen",
	.protocols = PROTO_TCP | PROTO_UDP,
	.tcp = chargen_tcp,
	.udp = chargen_udp,
};
