/* The time handler (RFC 868): four bytes, the seconds since 1900 in network order. */
#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "config.h"
#include "conn.h"
#include "handler.h"

/* Seconds from 1900-01-01T00:00Z to the Unix epoch. */
#define RFC868_EPOCH_OFFSET	INT64_C(2208988800)

/*
 * Seconds since 1900-01-01T00:00Z for Unix time t, modulo 2^32.  The sum
 * is done in 64 bits, so the value wraps to 0 at 2036-02-07T06:28:16Z as
 * the RFC's 32-bit field does, rather than overflowing.
 */
uint32_t
time_rfc868(time_t t)
{
	return (uint32_t)((uint64_t)((int64_t)t + RFC868_EPOCH_OFFSET) &
	    UINT32_C(0xffffffff));
}

static void
time_encode(unsigned char out[4])
{
	uint32_t v = time_rfc868(time(NULL));

	out[0] = (unsigned char)(v >> 24);
	out[1] = (unsigned char)(v >> 16);
	out[2] = (unsigned char)(v >> 8);
	out[3] = (unsigned char)v;
}

static void
time_tcp(struct conn *c)
{
	unsigned char buf[4];

	time_encode(buf);
	if (conn_write(c, buf, sizeof(buf)) == 0)
		c->end = END_done;
}

static ssize_t
time_udp(const struct service *svc, const unsigned char *req, size_t reqlen,
    unsigned char *out, size_t outmax)
{
	(void)svc;
	(void)req;
	(void)reqlen;
	if (outmax < 4)
		return -1;
	time_encode(out);
	return 4;
}

const struct handler handler_time = {
	.name = "time",
	.protocols = PROTO_TCP | PROTO_UDP,
	.tcp = time_tcp,
	.udp = time_udp,
};
