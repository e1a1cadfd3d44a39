/* The hello handler: a greeting, then one templated reply per message (TCP and UDP). */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "config-key.h"
#include "conn.h"
#include "handler.h"

/* A fragment left this long with no new byte is a message of its own. */
#define HELLO_FRAGMENT_MS	50

/* hello's own settings, and its keys. */
struct hello_conf {
	char		*greeting;	/* empty: no greeting line */
	char		*reply;		/* exactly one %s */
	char		*quit;
	size_t		 max_line;
};

static const struct key hello_keys[] = {
	{ .name = "greeting", .type = KEY_STRING, .def = "Welcome!",
	    KEY_FIELD(struct hello_conf, greeting) },
	{ .name = "reply", .type = KEY_STRING, .flags = KEY_TEMPLATE,
	    .def = "Hello, %s!", KEY_FIELD(struct hello_conf, reply) },
	{ .name = "quit", .type = KEY_STRING, .flags = KEY_NONEMPTY,
	    .def = "exit", KEY_FIELD(struct hello_conf, quit) },
	{ .name = "max_line", .type = KEY_UINT, .min = 1, .max = 65536,
	    .def = "1024", KEY_FIELD(struct hello_conf, max_line) },
	{ .name = NULL },
};

/* The settings of svc; the defaults for a service not made by the configuration. */
static const struct hello_conf *
hello_conf(const struct service *svc)
{
	static const struct hello_conf defaults = {
		.greeting = "Welcome!", .reply = "Hello, %s!", .quit = "exit",
		.max_line = 1024,
	};

	return svc->hconf != NULL ? svc->hconf : &defaults;
}

/*
 * An empty framing state for messages of at most max_line bytes; no
 * memory is taken until the first byte arrives.
 */
void
hello_frame_init(struct hello_frame *f, size_t max_line)
{
	memset(f, 0, sizeof(*f));
	f->max_line = max_line;
}

void
hello_frame_init_store(struct hello_frame *f, size_t max_line, char *store,
    size_t cap)
{
	hello_frame_init(f, max_line);
	f->buf = store;
	f->cap = cap;
}

/* Release the buffer; f may be initialised again afterwards. */
void
hello_frame_free(struct hello_frame *f)
{
	if (f->owned)
		free(f->buf);
	memset(f, 0, sizeof(*f));
}

/*
 * Append n bytes.  The bytes already handed out are dropped first, which
 * invalidates the last message returned.  Returns 0, or -1 when out of
 * memory.
 */
int
hello_frame_feed(struct hello_frame *f, const char *data, size_t n)
{
	size_t	 cap;
	char	*p;

	if (f->off > 0) {
		memmove(f->buf, f->buf + f->off, f->len - f->off);
		f->len -= f->off;
		f->off = 0;
	}
	if (n == 0)
		return 0;
	if (n > SIZE_MAX - f->len)
		return -1;
	if (f->len + n > f->cap) {
		cap = f->cap > 0 ? f->cap : 256;
		while (cap < f->len + n)
			cap = cap > SIZE_MAX / 2 ? f->len + n : cap * 2;
		if ((p = f->owned ? realloc(f->buf, cap) : malloc(cap)) == NULL)
			return -1;
		if (!f->owned && f->len > 0)
			memcpy(p, f->buf, f->len);
		f->buf = p;
		f->cap = cap;
		f->owned = true;
	}
	memcpy(f->buf + f->len, data, n);
	f->len += n;
	return 0;
}

/* Bytes received but not yet handed out as a message. */
size_t
hello_frame_pending(const struct hello_frame *f)
{
	return f->len - f->off;
}

/*
 * Judge the line at f->buf + f->off of len bytes, its line ending (LF,
 * CR LF, or a CR at the end of a fragment) already removed, then consume
 * used bytes.  The message is the line without any CR left at its end,
 * as on UDP, so that no reply carries one; max_line counts the line.
 */
static enum hello_event
hello_frame_take(struct hello_frame *f, size_t len, size_t used,
    const char **msg, size_t *msglen)
{
	if (len > f->max_line)
		return HELLO_TOO_LONG;
	*msg = f->buf + f->off;
	while (len > 0 && (*msg)[len - 1] == '\r')
		len--;
	*msglen = len;
	f->off += used;
	return len > 0 ? HELLO_MESSAGE : HELLO_NONE;
}

/*
 * The next complete line, if any.  A fragment that is already longer than
 * max_line is reported at once rather than buffered until its end: a CR at
 * its end may still be the first half of a CRLF, so it does not count.
 */
enum hello_event
hello_frame_next(struct hello_frame *f, const char **msg, size_t *len)
{
	enum hello_event	 ev;
	const char		*start, *lf;
	size_t			 n, line;

	for (;;) {
		if ((n = f->len - f->off) == 0)
			return HELLO_NONE;
		start = f->buf + f->off;
		if ((lf = memchr(start, '\n', n)) == NULL) {
			if (start[n - 1] == '\r')
				n--;
			return n > f->max_line ? HELLO_TOO_LONG : HELLO_NONE;
		}
		line = (size_t)(lf - start);
		if (line > 0 && start[line - 1] == '\r')
			line--;
		ev = hello_frame_take(f, line, (size_t)(lf - start) + 1, msg, len);
		if (ev != HELLO_NONE)
			return ev;
		/* An empty line: skip it and look further. */
	}
}

/*
 * Complete lines first, then the unterminated fragment as one message.
 */
enum hello_event
hello_frame_flush(struct hello_frame *f, const char **msg, size_t *len)
{
	enum hello_event	ev;
	size_t			n, line;

	if ((ev = hello_frame_next(f, msg, len)) != HELLO_NONE)
		return ev;
	n = line = f->len - f->off;
	if (n == 0)
		return HELLO_NONE;
	if (f->buf[f->off + n - 1] == '\r')
		line--;
	return hello_frame_take(f, line, n, msg, len);
}

/*
 * Expand tmpl into out without a NUL: "%s" becomes msg, "%%" a single
 * "%", and any other "%" stays as it is.  Returns the full length, which
 * may exceed outlen.
 */
static size_t
hello_expand(const char *tmpl, const char *msg, size_t len, char *out,
    size_t outlen)
{
	size_t	 total = 0, n;
	const char *p, *src;

	for (p = tmpl; *p != '\0'; p++) {
		src = p;
		n = 1;
		if (p[0] == '%' && p[1] == 's') {
			src = msg;
			n = len;
			p++;
		} else if (p[0] == '%' && p[1] == '%')
			p++;
		if (total < outlen && n > 0)
			memcpy(out + total, src, n < outlen - total ?
			    n : outlen - total);
		total += n;
	}
	return total;
}

/*
 * The reply for msg from the template tmpl into out, NUL-terminated
 * when outlen > 0 and cut to fit.  Returns the untruncated length.
 */
size_t
hello_format(const char *tmpl, const char *msg, size_t len, char *out,
    size_t outlen)
{
	size_t		 n;

	n = hello_expand(tmpl, msg, len, out, outlen > 0 ? outlen - 1 : 0);
	if (outlen > 0)
		out[n < outlen - 1 ? n : outlen - 1] = '\0';
	return n;
}

/*
 * Answer one event of the framing.  Returns 0 to go on, -1 when the
 * conversation is over (c->end says why).
 */
static int
hello_answer(struct conn *c, enum hello_event ev, const char *msg, size_t len)
{
	const struct service	*svc = c->svc;
	const struct hello_conf	*hc = hello_conf(svc);
	char			 err[64], small[512];
	char			*out;
	size_t			 n;
	int			 rv;

	switch (ev) {
	case HELLO_NONE:
		return 0;
	case HELLO_TOO_LONG:
		snprintf(err, sizeof(err), "Error: message too long (max %zu bytes)",
		    hc->max_line);
		if (conn_writeline(c, err) == 0)
			c->end = END_too_long;
		return -1;
	case HELLO_MESSAGE:
		break;
	}
	if (strlen(hc->quit) == len && memcmp(hc->quit, msg, len) == 0) {
		c->end = END_quit;
		return -1;
	}
	/* On the stack when it fits: no malloc, no heap page written, in a child. */
	n = hello_format(hc->reply, msg, len, NULL, 0);
	if (n > SIZE_MAX / 2 ||
	    (out = n < sizeof(small) - 2 ? small : malloc(n + 3)) == NULL) {
		c->end = END_error;
		return -1;
	}
	hello_format(hc->reply, msg, len, out, n + 1);
	memcpy(out + n, "\r\n", 2);
	rv = conn_write(c, out, n + 2);
	if (out != small)
		free(out);
	return rv;
}

/*
 * Answer every message f holds; with flush, the unterminated fragment
 * too.  Returns 0 to go on, -1 when the conversation is over.
 */
static int
hello_drain(struct conn *c, struct hello_frame *f, int flush)
{
	enum hello_event	 ev;
	const char		*msg;
	size_t			 len;

	for (;;) {
		ev = flush ? hello_frame_flush(f, &msg, &len) :
		    hello_frame_next(f, &msg, &len);
		if (ev == HELLO_NONE)
			return 0;
		if (hello_answer(c, ev, msg, len) == -1)
			return -1;
	}
}

/*
 * The conversation: the greeting, then messages until the quit word, EOF,
 * a message too long, or the idle timeout.  While a fragment is pending,
 * reads wait only HELLO_FRAGMENT_MS, so that a client which sends a bare
 * word and waits for the answer gets it.
 */
static void
hello_tcp(struct conn *c)
{
	const struct hello_conf	*hc = hello_conf(c->svc);
	struct hello_frame	 f;
	char			 buf[4096], store[1024];
	ssize_t			 n;

	if (hc->greeting[0] != '\0' && conn_writeline(c, hc->greeting) == -1)
		return;

	hello_frame_init_store(&f, hc->max_line, store, sizeof(store));
	for (;;) {
		n = conn_read(c, buf, sizeof(buf), hello_frame_pending(&f) > 0 ?
		    HELLO_FRAGMENT_MS : -1);
		if (n == CONN_TIMEOUT) {
			if (hello_drain(c, &f, 1) == -1)
				break;
			continue;
		}
		if (n == 0) {
			/* EOF: the last fragment still gets its answer. */
			if (hello_drain(c, &f, 1) == 0)
				c->end = END_client_close;
			break;
		}
		if (n < 0)
			break;
		if (hello_frame_feed(&f, buf, (size_t)n) == -1) {
			c->end = END_error;
			break;
		}
		if (hello_drain(c, &f, 0) == -1)
			break;
	}
	hello_frame_free(&f);
}

/*
 * One datagram is one message, its trailing CR and LF removed; the reply
 * has no line ending.  An empty message gets no reply, as on TCP.
 */
static ssize_t
hello_udp(const struct service *svc, const unsigned char *req, size_t reqlen,
    unsigned char *out, size_t outmax)
{
	size_t		 n;

	while (reqlen > 0 && (req[reqlen - 1] == '\n' || req[reqlen - 1] == '\r'))
		reqlen--;
	if (reqlen == 0)
		return -1;
	n = hello_expand(hello_conf(svc)->reply, (const char *)req, reqlen,
	    (char *)out, outmax);
	return (ssize_t)(n < outmax ? n : outmax);
}

const struct handler handler_hello = {
	.name = "hello",
	.protocols = PROTO_TCP | PROTO_UDP,
	.tcp = hello_tcp,
	.udp = hello_udp,
	.keys = hello_keys,
	.conf_size = sizeof(struct hello_conf),
};
