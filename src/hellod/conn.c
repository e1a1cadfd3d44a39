/* One TCP connection as a child process sees it: reads and writes with the idle timeout. */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "conn.h"
#include "net.h"
#include "proxy.h"
#include "util.h"
#include "config.h"

/*
 * What conn_wait() saw.  Either timeout may run out first; the idle
 * timeout is the service's, the deadline the caller's own.
 */
enum conn_ready {
	CONN_READY,
	CONN_DEADLINE,
	CONN_FAILED,		/* c->end says why */
};

/*
 * Fill c for a new connection on fd: the socket becomes non-blocking, the
 * peer and local addresses are recorded and the peer is formatted as the
 * service's log_peer asks.  A socket that is not IPv4 or IPv6 (a
 * socketpair in tests) has the peer name "-".
 */
static const char *const end_names[] = {
	[END_none] = "done",
#define END_NAME(n)	[END_##n] = #n,
	CONN_ENDS(END_NAME)
#undef END_NAME
};

const char *
conn_end_name(enum conn_end end)
{
	return end_names[end];
}

/* The peer's name for the log lines, as log_peer asks. */
static void
conn_name_peer(struct conn *c)
{
	if (c->peer.len > 0 && (c->peer.ss.ss_family == AF_INET ||
	    c->peer.ss.ss_family == AF_INET6))
		addr_format_peer((struct sockaddr *)&c->peer.ss,
		    c->svc != NULL ? c->svc->log_peer : LOG_PEER_FULL,
		    c->peername, sizeof(c->peername));
	else
		strlcpy(c->peername, "-", sizeof(c->peername));
}

/*
 * Everything but the descriptor: the parent fills it before fork, so that
 * the child neither formats an address (inet_ntop, which runs sprintf)
 * nor reads the clock before it serves.
 */
void
conn_prepare(struct conn *c, const struct service *svc,
    const struct sockaddr *peer, socklen_t peerlen, uint64_t now)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->svc = svc;
	if (peer != NULL && peerlen <= sizeof(c->peer.ss)) {
		memcpy(&c->peer.ss, peer, peerlen);
		c->peer.len = peerlen;
	}
	c->local.len = 0;	/* conn_local() asks when someone needs it */
	conn_name_peer(c);
	c->last_io_ms = now;
	if (svc != NULL && svc->max_duration_ms != 0)
		c->end_ms = c->last_io_ms + svc->max_duration_ms;
}

void
conn_attach(struct conn *c, int fd)
{
	c->fd = fd;
	if (c->peer.len == 0) {
		c->peer.len = sizeof(c->peer.ss);
		if (getpeername(fd, (struct sockaddr *)&c->peer.ss,
		    &c->peer.len) == -1)
			c->peer.len = 0;
		conn_name_peer(c);
	}
}

void
conn_init(struct conn *c, int fd, const struct service *svc,
    const struct sockaddr *peer, socklen_t peerlen)
{
	conn_prepare(c, svc, peer, peerlen, util_now_ms());
	(void)net_set_nonblock(fd, 1);
	conn_attach(c, fd);
}

void
conn_proxied(struct conn *c, const struct proxy_hdr *h, const struct sockaddr *via)
{
	addr_format_host(via, c->via, sizeof(c->via));
	/* The peer is the header's client already, and named (conn_prepare). */
	if (!h->local) {
		memcpy(&c->local.ss, &h->dst, h->dstlen);
		c->local.len = h->dstlen;
	}
}

const struct sockaddr *
conn_local(struct conn *c)
{
	if (c->local.len == 0) {
		c->local.len = sizeof(c->local.ss);
		if (getsockname(c->fd, (struct sockaddr *)&c->local.ss,
		    &c->local.len) == -1)
			c->local.len = 0;
	}
	return c->local.len > 0 ? (const struct sockaddr *)&c->local.ss : NULL;
}

volatile sig_atomic_t conn_stopping;

/* True, with end set, when the connection has lived its max_duration. */
static bool
conn_expired(struct conn *c, uint64_t now)
{
	if (c->end_ms == 0 || now < c->end_ms)
		return false;
	c->end = END_max_duration;
	return true;
}

/* poll(), with SIGTERM let through for the time of the wait only. */
static int
conn_poll(struct pollfd *pfd, int wait_ms)
{
	struct timespec	 ts, *tsp = NULL;
	sigset_t	 mask;

	if (wait_ms >= 0) {
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
		tsp = &ts;
	}
	sigprocmask(SIG_SETMASK, NULL, &mask);
	sigdelset(&mask, SIGTERM);
	return ppoll(pfd, 1, tsp, &mask);
}

/*
 * Wait until fd is ready for events, the caller's deadline passes
 * (0: none) or the idle timeout, counted from the last byte moved either
 * way, runs out.
 */
static enum conn_ready
conn_wait(struct conn *c, short events, uint64_t deadline)
{
	struct pollfd	pfd;
	uint64_t	now, idle, until;
	int		wait;

	idle = c->svc != NULL ? c->svc->idle_timeout_ms : 0;
	for (;;) {
		now = util_now_ms();
		if (conn_expired(c, now))
			return CONN_FAILED;
		until = c->end_ms;
		if (idle > 0) {
			if (now >= c->last_io_ms + idle) {
				c->end = END_idle_timeout;
				return CONN_FAILED;
			}
			if (until == 0 || c->last_io_ms + idle < until)
				until = c->last_io_ms + idle;
		}
		if (deadline > 0) {
			if (now >= deadline)
				return CONN_DEADLINE;
			if (until == 0 || deadline < until)
				until = deadline;
		}
		wait = -1;
		if (until > 0)
			wait = until - now > INT_MAX ? INT_MAX : (int)(until - now);

		pfd.fd = c->fd;
		pfd.events = events;
		pfd.revents = 0;
		if (conn_stopping) {
			c->end = END_shutdown;
			return CONN_FAILED;
		}
		switch (conn_poll(&pfd, wait)) {
		case -1:
			if (errno == EINTR)
				continue;	/* the loop head sees conn_stopping */
			c->end = END_error;
			return CONN_FAILED;
		case 0:
			continue;	/* the loop head says which timeout */
		default:
			/* POLLHUP and POLLERR too: the next call tells what. */
			return CONN_READY;
		}
	}
}

/*
 * Read at most len bytes, waiting at most timeout_ms (-1: no limit of its
 * own) and never past the idle timeout.  Returns the byte count, 0 at
 * EOF, CONN_TIMEOUT when timeout_ms ran out, or -1 with c->end set.
 * MSG_DONTWAIT keeps it from blocking even on a blocking socket.
 */
ssize_t
conn_read(struct conn *c, void *buf, size_t len, int timeout_ms)
{
	uint64_t	deadline = 0;
	ssize_t		n;

	if (timeout_ms >= 0)
		deadline = util_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		/* A client that always has a byte to send never waits: look here too. */
		if (c->end_ms != 0 && conn_expired(c, util_now_ms()))
			return -1;
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
		if (n > 0) {
			c->bytes_in += (uint64_t)n;
			c->last_io_ms = util_now_ms();
			return n;
		}
		if (n == 0) {
			c->end = END_client_close;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			switch (conn_wait(c, POLLIN, deadline)) {
			case CONN_READY:
				continue;
			case CONN_DEADLINE:
				return CONN_TIMEOUT;
			case CONN_FAILED:
				return -1;
			}
		}
		c->end = errno == ECONNRESET ? END_client_close : END_error;
		return -1;
	}
}

/*
 * Write all len bytes, waiting while the socket is full but never past the
 * idle timeout.  MSG_NOSIGNAL turns a write to a closed connection into
 * EPIPE instead of a SIGPIPE.  Returns 0, or -1 with c->end set.
 */
int
conn_write(struct conn *c, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 n;

	while (len > 0) {
		if (c->end_ms != 0 && conn_expired(c, util_now_ms()))
			return -1;
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			c->bytes_out += (uint64_t)n;
			c->last_io_ms = util_now_ms();
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (conn_wait(c, POLLOUT, 0) != CONN_READY)
				return -1;
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			c->end = END_client_close;
		else
			c->end = END_error;
		return -1;
	}
	return 0;
}

/*
 * Write s and CRLF, in one send when the line is short so that the line
 * leaves in one segment.
 */
int
conn_writeline(struct conn *c, const char *s)
{
	char	line[1024];
	size_t	len;

	len = strlen(s);
	if (len + 2 <= sizeof(line)) {
		memcpy(line, s, len);
		memcpy(line + len, "\r\n", 2);
		return conn_write(c, line, len + 2);
	}
	if (conn_write(c, s, len) == -1)
		return -1;
	return conn_write(c, "\r\n", 2);
}
