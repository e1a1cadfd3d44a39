/* The banner handler: one fixed message, then the end (TCP and UDP). */
#include <sys/types.h>

#include <string.h>

#include "addr.h"
#include "config.h"
#include "config-key.h"
#include "conn.h"
#include "handler.h"

/* banner's own settings, and its key. */
struct banner_conf {
	char		*message;
};

static const struct key banner_keys[] = {
	{ .name = "message", .type = KEY_STRING, .flags = KEY_NONEMPTY,
	    .def = "Welcome to hellod!", KEY_FIELD(struct banner_conf, message) },
	{ .name = NULL },
};

static const char *
banner_message(const struct service *svc)
{
	const struct banner_conf *bc = svc->hconf;

	return bc != NULL ? bc->message : "Welcome to hellod!";
}

static void
banner_tcp(struct conn *c)
{
	if (conn_writeline(c, banner_message(c->svc)) == 0)
		c->end = "done";
}

/* The message without a line ending, cut to the reply's room. */
static ssize_t
banner_udp(const struct service *svc, const unsigned char *req, size_t reqlen,
    unsigned char *out, size_t outmax)
{
	const char	*msg = banner_message(svc);
	size_t		 n;

	(void)req;
	(void)reqlen;
	n = strlen(msg);
	if (n > outmax)
		n = outmax;
	memcpy(out, msg, n);
	return (ssize_t)n;
}

const struct handler handler_banner = {
	.name = "banner",
	.protocols = PROTO_TCP | PROTO_UDP,
	.tcp = banner_tcp,
	.udp = banner_udp,
	.keys = banner_keys,
	.conf_size = sizeof(struct banner_conf),
};
