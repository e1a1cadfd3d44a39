/* The banner handler: one fixed message, then the end (TCP and UDP). */
#include <sys/types.h>

#include <stdbool.h>
#include <stdlib.h>
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
	{ .name = "message", .type = KEY_STRING, .flags = KEY_NONEMPTY | KEY_LINES,
	    .def = "Welcome to hellod!", KEY_FIELD(struct banner_conf, message) },
	{ .name = NULL },
};

static const char *
banner_message(const struct service *svc)
{
	const struct banner_conf *bc = svc->hconf;

	return bc != NULL ? bc->message : "Welcome to hellod!";
}

/*
 * The message's lines (a message continued over several lines of the
 * configuration has several) into out, each ending with CRLF but the
 * last when last_crlf is false, cut to outmax.  Returns the length.
 */
static size_t
banner_render(const char *msg, bool last_crlf, char *out, size_t outmax)
{
	size_t	 n = 0;

	for (; *msg != '\0' && n < outmax; msg++) {
		if (*msg == '\n') {
			out[n++] = '\r';
			if (n == outmax)
				break;
		}
		out[n++] = *msg;
	}
	if (last_crlf && n + 2 <= outmax) {
		out[n++] = '\r';
		out[n++] = '\n';
	}
	return n;
}

static void
banner_tcp(struct conn *c)
{
	const char *msg = banner_message(c->svc);
	size_t	 max = strlen(msg) * 2 + 2, n;
	char	*out;

	if ((out = malloc(max)) == NULL) {
		c->end = "error";
		return;
	}
	n = banner_render(msg, true, out, max);
	if (conn_write(c, out, n) == 0)
		c->end = "done";
	free(out);
}

/* The message without a final line ending, cut to the reply's room. */
static ssize_t
banner_udp(const struct service *svc, const unsigned char *req, size_t reqlen,
    unsigned char *out, size_t outmax)
{
	(void)req;
	(void)reqlen;
	return (ssize_t)banner_render(banner_message(svc), false, (char *)out,
	    outmax);
}

const struct handler handler_banner = {
	.name = "banner",
	.protocols = PROTO_TCP | PROTO_UDP,
	.tcp = banner_tcp,
	.udp = banner_udp,
	.keys = banner_keys,
	.conf_size = sizeof(struct banner_conf),
};
