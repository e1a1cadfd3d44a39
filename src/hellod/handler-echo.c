/* The echo handler (RFC 862): every byte goes back where it came from. */
#include <sys/types.h>

#include <string.h>

#include "addr.h"
#include "config.h"
#include "conn.h"
#include "handler.h"

/* Until EOF, an error or the idle timeout; conn_read and conn_write set c->end. */
static void
echo_tcp(struct conn *c)
{
	char	buf[8192];
	ssize_t	n;

	while ((n = conn_read(c, buf, sizeof(buf), -1)) > 0) {
		if (conn_write(c, buf, (size_t)n) == -1)
			return;
	}
}

/* The payload itself, cut to the reply's room. */
static ssize_t
echo_udp(const struct service *svc, const unsigned char *req, size_t reqlen,
    unsigned char *out, size_t outmax)
{
	(void)svc;
	if (reqlen > outmax)
		reqlen = outmax;
	if (reqlen > 0)
		memcpy(out, req, reqlen);
	return (ssize_t)reqlen;
}

const struct handler handler_echo = {
	.name = "echo",
	.protocols = PROTO_TCP | PROTO_UDP,
	.tcp = echo_tcp,
	.udp = echo_udp,
};
