/* One TCP connection as a child process sees it: reads and writes with the idle timeout. */
#ifndef HELLOD_CONN_H
#define HELLOD_CONN_H

#include <sys/types.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct service;

/*
 * Why a connection ended, the reason= of its end line: the client closed
 * (or reset) it, asked to quit, went idle too long or past max_duration,
 * sent a line too long; an error; the daemon stopping; or the service
 * said all it had to (done).
 */
#define CONN_ENDS(X)	X(client_close) X(quit) X(idle_timeout) \
			X(max_duration) X(too_long) X(error) X(shutdown) X(done)

enum conn_end {
	END_none,		/* going on */
#define CONN_END_ENUM(n)	END_##n,
	CONN_ENDS(CONN_END_ENUM)
#undef CONN_END_ENUM
};

/* The name of an end reason: "client_close", ...; "done" for END_none. */
const char *conn_end_name(enum conn_end end);

/* conn_read() result when its own timeout (not the idle timeout) ran out. */
#define CONN_TIMEOUT	(-2)

struct conn {
	int		 fd;		/* the connected socket, blocking or not */
	const struct service *svc;
	struct bind_addr peer;
	struct bind_addr local;		/* len 0: not asked yet (conn_local) */
	char		 peername[ADDR_STRLEN];	/* as log_peer asks, for log lines */
	char		 via[ADDR_STRLEN];	/* the balancer of a PROXY header, or "" */
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	uint64_t	 last_io_ms;	/* monotonic time of the last byte either way */
	uint64_t	 end_ms;	/* max_duration runs out then; 0: never */
	unsigned long	 connnum;	/* the client's connections now, this one too */
	bool		 files_shared;	/* the child starts on the parent's table */
	bool		 exited;	/* a program ran: status says how it ended */
	int		 status;
	enum conn_end	 end;		/* how it ended, for the end line */
};

/*
 * Set by the child's SIGTERM handler.  SIGTERM is blocked in the child
 * except while conn_read or conn_write wait, so that a wait it interrupts
 * ends the connection with end = END_shutdown and no signal slips in
 * between the check and the wait.
 */
extern volatile sig_atomic_t conn_stopping;

/*
 * Fill c for a new connection on fd (peer, peername, last_io_ms): peer
 * is the address accept() gave (peerlen bytes), or NULL to ask the kernel.
 * conn_prepare() does it all but the descriptor (fd -1), with now (the
 * monotonic clock, read once by the accept path) as the last I/O;
 * conn_attach() the rest: the peer asked of the kernel when not known.
 * conn_init() makes fd non-blocking; conn_attach() takes it so already
 * (accept4() with SOCK_NONBLOCK): a system call less in every child.
 */
void conn_init(struct conn *c, int fd, const struct service *svc,
    const struct sockaddr *peer, socklen_t peerlen);
void conn_prepare(struct conn *c, const struct service *svc,
    const struct sockaddr *peer, socklen_t peerlen, uint64_t now);
void conn_attach(struct conn *c, int fd);

/* The address the client connected to: asked of the kernel once, when needed; or NULL. */
const struct sockaddr *conn_local(struct conn *c);

/*
 * The connection came through a balancer at via (as accept() saw it),
 * whose PROXY header h named the client.  c was conn_prepare()d with that
 * client as its peer (the balancer itself when the header named none: a
 * health check, v1 UNKNOWN); the local address becomes the header's, and
 * via is kept for the log lines.
 */
struct proxy_hdr;
void conn_proxied(struct conn *c, const struct proxy_hdr *h,
    const struct sockaddr *via);

/*
 * Read at most len bytes.  Waits at most timeout_ms (-1: no limit of its
 * own) and never past the service's idle timeout, nor its max_duration
 * (END_max_duration).  Returns the byte count;
 * 0 at EOF (END_client_close); CONN_TIMEOUT when timeout_ms ran out
 * first; -1 on the idle timeout (END_idle_timeout) or an error
 * (END_error, or END_client_close for ECONNRESET).
 */
ssize_t conn_read(struct conn *c, void *buf, size_t len, int timeout_ms);

/*
 * Write all len bytes, waiting while the socket is full but never past the
 * idle timeout.  Returns 0, or -1 with end set (END_idle_timeout,
 * END_client_close for EPIPE/ECONNRESET, END_error).
 */
int conn_write(struct conn *c, const void *buf, size_t len);

/* Write s and CRLF. */
int conn_writeline(struct conn *c, const char *s);

#endif
