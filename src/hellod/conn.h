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

/* conn_read() result when its own timeout (not the idle timeout) ran out. */
#define CONN_TIMEOUT	(-2)

struct conn {
	int		 fd;		/* the connected socket, blocking or not */
	const struct service *svc;
	struct bind_addr peer;
	struct bind_addr local;
	char		 peername[ADDR_STRLEN];	/* as log_peer asks, for log lines */
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	uint64_t	 last_io_ms;	/* monotonic time of the last byte either way */
	uint64_t	 end_ms;	/* max_duration runs out then; 0: never */
	unsigned long	 connnum;	/* the client's connections now, this one too */
	bool		 exited;	/* a program ran: status says how it ended */
	int		 status;
	const char	*end;		/* how it ended, for the end line; NULL: going on */
};

/*
 * Set by the child's SIGTERM handler.  SIGTERM is blocked in the child
 * except while conn_read or conn_write wait, so that a wait it interrupts
 * ends the connection with end = "shutdown" and no signal slips in
 * between the check and the wait.
 */
extern volatile sig_atomic_t conn_stopping;

/* Fill c for a new connection on fd (peer, local, peername, last_io_ms). */
void conn_init(struct conn *c, int fd, const struct service *svc);

/*
 * Read at most len bytes.  Waits at most timeout_ms (-1: no limit of its
 * own) and never past the service's idle timeout, nor its max_duration
 * (end = "max duration").  Returns the byte count;
 * 0 at EOF (end = "client close"); CONN_TIMEOUT when timeout_ms ran out
 * first; -1 on the idle timeout (end = "idle timeout") or an error
 * (end = "error", or "client reset" for ECONNRESET).
 */
ssize_t conn_read(struct conn *c, void *buf, size_t len, int timeout_ms);

/*
 * Write all len bytes, waiting while the socket is full but never past the
 * idle timeout.  Returns 0, or -1 with end set ("idle timeout",
 * "client close" for EPIPE/ECONNRESET, "error").
 */
int conn_write(struct conn *c, const void *buf, size_t len);

/* Write s and CRLF. */
int conn_writeline(struct conn *c, const char *s);

#endif
