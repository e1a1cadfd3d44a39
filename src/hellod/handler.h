/* The handler table: built-in services, each in its own handler-NAME.c. */
#ifndef HELLOD_HANDLER_H
#define HELLOD_HANDLER_H

#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct conn;
struct hctx;
struct sockaddr;
struct key;
struct service;

/*
 * A built-in service.  It owns everything of its own: its keys (valid
 * only in a service with this handler), the settings they fill (a struct
 * of the handler's, svc->hconf), what it loads at load time and frees
 * again.  A new handler is its file handler-NAME.c and one line in
 * handler.c's table.
 */
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
	/*
	 * UDP instead of udp (inetd's "wait"): in the parent, when a
	 * datagram from from arrives on the socket fd (not read yet), fork a
	 * child that serves the socket until it is done.  Returns the
	 * child's pid, or -1 when it could not fork.  The parent does not
	 * watch the socket until that child has exited.
	 */
	pid_t		(*udp_spawn)(const struct service *svc, int fd,
			    const struct sockaddr *from);
	/*
	 * Its keys (config-key.h), up to one with a NULL name, or NULL:
	 * their values go to svc->hconf, conf_size bytes it is given for
	 * them, once the section's handler is known.
	 */
	const struct key *keys;
	size_t		 conf_size;
	/*
	 * At load time (-t, start, reload), for an enabled service whose
	 * keys are all valid: check and load what they name (qotd reads its
	 * quotes), reporting errors with handler_error().  Optional.
	 */
	void		(*prepare)(struct service *svc, struct hctx *ctx);
	/* Free what prepare loaded into hconf (not hconf, nor key values). */
	void		(*release)(void *hconf);
};

/* The handler called name, or NULL. */
const struct handler *handler_find(const char *name);

/* Every handler, NULL-terminated (for messages listing the valid names). */
extern const struct handler *const handlers[];

/* The key of h called name, or NULL. */
const struct key *handler_key(const struct handler *h, const char *name);
/* The first handler with a key called name, or NULL. */
const struct handler *handler_key_owner(const char *name);

/*
 * In a prepare hook: report an error about the service's key (at its
 * line, or the section's when it was not set), as "[NAME] key: message".
 * Control characters in the message are escaped.
 */
void	handler_error(struct hctx *ctx, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Pure helpers the handlers are built from, exported for tests. */

/*
 * exec: split text into words as a shell would, with no expansion: white
 * space separates words, '...' quotes anything, "..." anything but \"
 * and \\, which stand for " and \, and \ outside quotes escapes the next
 * character.  *argv gets them NULL-terminated, *argc their count.
 * Returns 0, or -1 with a static message in *err.
 */
int	exec_split(const char *text, char ***argv, size_t *argc, const char **err);
/* Free a NULL-terminated vector of strings. */
void	exec_strv_free(char **v);

/* RFC 868: seconds since 1900-01-01T00:00Z, modulo 2^32, for Unix time t. */
uint32_t time_rfc868(time_t t);

/* RFC 867 line for t in local time, "Weekday, Month DD, YYYY HH:MM:SS-ZONE", no CRLF. */
size_t daytime_format(time_t t, char *buf, size_t len);

/* RFC 864: the 72 characters of line n (0, 1, ...) of the rotating pattern, no CRLF. */
#define CHARGEN_LINE	72
void chargen_line(unsigned long n, char out[CHARGEN_LINE]);

/*
 * hello: the reply for message msg (len bytes, no line ending) from the
 * template tmpl (its %s stands for msg, %% for %), into out (at most
 * outlen bytes, NUL-terminated when room allows).  Returns the length it
 * would have had untruncated.
 */
size_t hello_format(const char *tmpl, const char *msg, size_t len, char *out,
    size_t outlen);

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
	bool		 owned;		/* buf is ours to free, not the caller's store */
};

enum hello_event {
	HELLO_NONE,		/* need more bytes */
	HELLO_MESSAGE,		/* *msg, *len: one message (CR/LF removed, never empty) */
	HELLO_TOO_LONG,		/* a message longer than max_line: send the error, close */
};

void	hello_frame_init(struct hello_frame *f, size_t max_line);
/*
 * The same, starting in the caller's store of cap bytes (it must outlive
 * f): a child then needs no malloc for lines that fit, nor the pages it
 * would write.  A longer one moves the bytes to memory of f's own.
 */
void	hello_frame_init_store(struct hello_frame *f, size_t max_line,
	    char *store, size_t cap);
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
