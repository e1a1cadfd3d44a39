/* The handler table: built-in services, each in its own handler-NAME.c. */
#ifndef HELLOD_HANDLER_H
#define HELLOD_HANDLER_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct conn;
struct service;

struct handler {
	const char	*name;
	int		 protocols;	/* PROTO_TCP | PROTO_UDP it can serve */
	/*
	 * TCP, in the child: hold the conversation on c, set c->end if it
	 * ends for a reason of the handler's ("quit", "limit", "done"), and
	 * return.  conn_read/conn_write set c->end for the others.
	 */
	void		(*tcp)(struct conn *c);
	/*
	 * UDP, in the parent, inline: write the reply to one datagram of
	 * reqlen bytes into out (outmax bytes: max(512, reqlen), already
	 * capped).  Returns the reply length, or -1 to send no reply.
	 * Must not block, sleep or allocate without bound.
	 */
	ssize_t		(*udp)(const struct service *svc, const unsigned char *req,
			    size_t reqlen, unsigned char *out, size_t outmax);
};

/* The handler called name, or NULL. */
const struct handler *handler_find(const char *name);

/* Every handler, NULL-terminated (for messages listing the valid names). */
extern const struct handler *const handlers[];

extern const struct handler handler_hello;
extern const struct handler handler_banner;
extern const struct handler handler_echo;
extern const struct handler handler_discard;
extern const struct handler handler_chargen;
extern const struct handler handler_daytime;
extern const struct handler handler_time;
extern const struct handler handler_qotd;

/* Pure helpers the handlers are built from, exported for tests. */

/* RFC 868: seconds since 1900-01-01T00:00Z, modulo 2^32, for Unix time t. */
uint32_t time_rfc868(time_t t);

/* RFC 867 line for t in local time, "Weekday, Month DD, YYYY HH:MM:SS-ZONE", no CRLF. */
size_t daytime_format(time_t t, char *buf, size_t len);

/* RFC 864: the 72 characters of line n (0, 1, ...) of the rotating pattern, no CRLF. */
#define CHARGEN_LINE	72
void chargen_line(unsigned long n, char out[CHARGEN_LINE]);

/*
 * hello: the reply for message msg (len bytes, no line ending) from the
 * service's template, into out (at most outlen bytes, NUL-terminated when
 * room allows).  Returns the length it would have had untruncated.
 */
size_t hello_format(const struct service *svc, const char *msg, size_t len,
    char *out, size_t outlen);

/*
 * hello framing, independent of sockets: bytes go in with hello_frame_feed,
 * messages come out of hello_frame_next.
 */
struct hello_frame {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 off;		/* bytes of buf already handed out */
	size_t		 max_line;
};

enum hello_event {
	HELLO_NONE,		/* need more bytes */
	HELLO_MESSAGE,		/* *msg, *len: one message (CR/LF removed, never empty) */
	HELLO_TOO_LONG,		/* a message longer than max_line: send the error, close */
};

void	hello_frame_init(struct hello_frame *f, size_t max_line);
void	hello_frame_free(struct hello_frame *f);
/* Append n bytes; returns 0, or -1 when out of memory. */
int	hello_frame_feed(struct hello_frame *f, const char *data, size_t n);
/* The next complete line, if any; empty lines are skipped. */
enum hello_event hello_frame_next(struct hello_frame *f, const char **msg, size_t *len);
/* The unterminated fragment left (after 50 ms of silence, or at EOF) as a message. */
enum hello_event hello_frame_flush(struct hello_frame *f, const char **msg, size_t *len);
/* Bytes waiting in an unterminated fragment. */
size_t	hello_frame_pending(const struct hello_frame *f);

#endif
