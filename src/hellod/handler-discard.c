/* The discard handler (RFC 863): every byte is read and dropped, nothing is sent. */
#include <sys/types.h>

#include "addr.h"
#include "config.h"
#include "conn.h"
#include "handler.h"

/* Until EOF, an error or the idle timeout; conn_read sets c->end. */
static void
discard_tcp(struct conn *c)
{
	char	buf[8192];

	while (conn_read(c, buf, sizeof(buf), -1) > 0)
		;
}

static ssize_t
discard_udp(const struct service *svc, const unsigned char *req, size_t reqlen,
    unsigned char *out, size_t outmax)
{
	(void)svc;
	(void)req;
	(void)reqlen;
	(void)out;
	(void)outmax;
	return -1;
}

const struct handler handler_discard = {
	.name = "discard",
	.protocols = PROTO_TCP | PROTO_UDP,
	.tcp = discard_tcp,
	.udp = discard_udp,
};
