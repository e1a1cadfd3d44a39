/* helloc's relay mode: stdin to the server and the server to stdout, like netcat. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helloc.h"

#define RELAY_BUFSIZE	65536
#define DATAGRAM_MAX	65507	/* the largest UDP payload over IPv4 */

/* Bytes on their way from one descriptor to another. */
struct pipebuf {
	size_t	 off;
	size_t	 len;
	char	 data[RELAY_BUFSIZE];
};

static size_t
pipebuf_room(struct pipebuf *b)
{
	if (b->len == 0)
		b->off = 0;
	else if (b->off > 0 && b->off + b->len == sizeof(b->data)) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	return sizeof(b->data) - b->off - b->len;
}

/* Fill b from fd (read or recv); the count, 0 at EOF, -1 with errno (EAGAIN too). */
static ssize_t
pipebuf_fill(struct pipebuf *b, int fd, bool sock)
{
	size_t room = pipebuf_room(b);
	char *p = b->data + b->off + b->len;
	ssize_t n;

	do
		n = sock ? recv(fd, p, room, 0) : read(fd, p, room);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		b->len += (size_t)n;
	return n;
}

/* Drain b into fd; 0, or -1 with errno (EAGAIN when the socket is full). */
static int
pipebuf_drain(struct pipebuf *b, int fd, bool sock)
{
	ssize_t n;

	do
		n = sock ? send(fd, b->data + b->off, b->len, MSG_NOSIGNAL) :
		    write(fd, b->data + b->off, b->len);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	b->off += (size_t)n;
	b->len -= (size_t)n;
	return 0;
}

struct tcp_relay {
	int		 fd;
	bool		 in_eof;	/* stdin ended */
	bool		 net_eof;	/* the server ended its side */
	bool		 gone;		/* a send found the server gone */
	bool		 shut;		/* our write side is shut down */
	struct pipebuf	 up;		/* stdin to the server */
	struct pipebuf	 down;		/* the server to stdout */
};

enum { P_STDIN, P_NET, P_STDOUT };

static void
tcp_events(struct tcp_relay *r, struct pollfd pfd[3])
{
	pfd[P_STDIN].fd = r->in_eof || pipebuf_room(&r->up) == 0 ? -1 : 0;
	pfd[P_STDIN].events = POLLIN;
	pfd[P_NET].fd = r->fd;
	pfd[P_NET].events = 0;
	if (!r->net_eof && pipebuf_room(&r->down) > 0)
		pfd[P_NET].events |= POLLIN;
	if (r->up.len > 0)
		pfd[P_NET].events |= POLLOUT;
	/* Else a hung-up socket would wake poll at once, again and again. */
	if (pfd[P_NET].events == 0)
		pfd[P_NET].fd = -1;
	pfd[P_STDOUT].fd = r->down.len > 0 ? 1 : -1;
	pfd[P_STDOUT].events = POLLOUT;
}

/* One round of the relay after poll; 0, or -1 after reporting an error. */
static int
tcp_step(const struct hc_opts *o, struct tcp_relay *r, struct pollfd pfd[3])
{
	ssize_t n;

	/* The server first: what it sent is not lost if our next send fails. */
	/* With no room a recv of 0 bytes would return 0, taken for an EOF. */
	if (pfd[P_NET].revents & (POLLIN | POLLERR | POLLHUP) && !r->net_eof &&
	    pipebuf_room(&r->down) > 0) {
		if ((n = pipebuf_fill(&r->down, r->fd, true)) == 0)
			r->net_eof = true;
		else if (n == -1 && errno == ECONNRESET && r->gone)
			r->net_eof = true;	/* the close that failed our send */
		else if (n == -1 && errno != EAGAIN) {
			hc_error(o->host, o->port, "%s", strerror(errno));
			return -1;
		}
	}
	if (pfd[P_STDIN].revents != 0) {
		/* A closed or invalid stdin (POLLNVAL) is an empty one. */
		if ((pfd[P_STDIN].revents & POLLNVAL) ||
		    (n = pipebuf_fill(&r->up, 0, false)) == 0)
			r->in_eof = true;
		else if (n == -1 && errno != EAGAIN) {
			hc_error(o->host, o->port, "stdin: %s", strerror(errno));
			return -1;
		}
	}
	if (pfd[P_NET].revents & (POLLOUT | POLLERR | POLLHUP) && r->up.len > 0 &&
	    pipebuf_drain(&r->up, r->fd, true) == -1 && errno != EAGAIN) {
		/*
		 * A server that has left takes no more input: what is left of
		 * ours has nowhere to go.  Its FIN may not have been read yet
		 * (its reset, for the input it did not read, can overtake our
		 * recv), so what it sent is still read and written out; a
		 * reset on that side is then the end, not an error.
		 */
		if (errno != EPIPE && errno != ECONNRESET) {
			hc_error(o->host, o->port, "%s", strerror(errno));
			return -1;
		}
		r->gone = true;
		r->up.len = 0;
		r->in_eof = true;
	}
	/* Half-close: the server sees our end and still sends its reply. */
	if (r->in_eof && r->up.len == 0 && !r->shut) {
		shutdown(r->fd, SHUT_WR);
		r->shut = true;
	}
	if (pfd[P_STDOUT].revents != 0 && pipebuf_drain(&r->down, 1, false) == -1 &&
	    errno != EAGAIN) {
		hc_out_error();
		return -1;
	}
	return 0;
}

static bool
tcp_done(const struct tcp_relay *r)
{
	return r->net_eof && r->down.len == 0 && r->in_eof && r->up.len == 0;
}

/*
 * A write to stdout must not stall the relay: a slow reader would hold
 * stdin back from the server too.  Stdout is made non-blocking for the
 * relay's time, except on a terminal, whose open file is the shell's as
 * well.  Returns the flags to restore, or -1 when there is nothing to.
 */
static int
stdout_nonblock(void)
{
	int fl;

	if (isatty(1) || (fl = fcntl(1, F_GETFL)) == -1 || (fl & O_NONBLOCK) ||
	    fcntl(1, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return fl;
}

/*
 * The relay goes on until both sides are done: the server has ended its
 * side and all it sent is written out, and stdin has ended and all of it
 * has been sent.  A server may end its side and still read (a half-close);
 * one that has closed altogether refuses the next bytes with a reset,
 * which ends the relay as well.
 */
static int
relay_tcp(const struct hc_opts *o)
{
	struct tcp_relay *r;
	struct pollfd pfd[3];
	char err[HC_ERRLEN];
	int fd, fl = -1, rc = HC_FAIL;

	fd = hc_connect(o->host, o->port, o->family, SOCK_STREAM, o->timeout_ms,
	    NULL, NULL, err, sizeof(err));
	if (fd == -1) {
		hc_error(o->host, o->port, "%s", err);
		return HC_FAIL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		hc_error(o->host, o->port, "%s", strerror(errno));
		goto out;
	}
	r->fd = fd;
	fl = stdout_nonblock();
	while (!tcp_done(r)) {
		tcp_events(r, pfd);
		if (poll(pfd, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			hc_error(o->host, o->port, "poll: %s", strerror(errno));
			goto out;
		}
		if (tcp_step(o, r, pfd) == -1)
			goto out;
	}
	rc = HC_OK;
out:
	if (fl != -1)
		(void)fcntl(1, F_SETFL, fl);
	free(r);
	close(fd);
	return rc;
}

/* While no reply has come, what was sent is kept to send again to the next address. */
#define HOLD_MAX	(256 * 1024)

struct udp_relay {
	struct hc_udp	 peer;
	bool		 in_eof;
	uint64_t	 sent;		/* datagrams sent */
	uint64_t	 received;	/* datagrams received */
	uint64_t	 last_ns;	/* when the last one went or came */
	size_t		 len;		/* bytes of stdin held */
	char		 line[DATAGRAM_MAX + 1];
	char		 reply[DATAGRAM_MAX + 1];
	size_t		 held;		/* bytes in hold: length-prefixed datagrams */
	bool		 overflow;	/* too much to hold: no next address then */
	char		 hold[HOLD_MAX];
};

/* Keep a datagram for the next address, while one may still be needed. */
static void
udp_hold(struct udp_relay *r, const char *p, size_t len)
{
	uint32_t l = (uint32_t)len;

	if (r->peer.answered || r->overflow)
		return;
	if (r->held + sizeof(l) + len > sizeof(r->hold)) {
		r->overflow = true;
		return;
	}
	memcpy(r->hold + r->held, &l, sizeof(l));
	memcpy(r->hold + r->held + sizeof(l), p, len);
	r->held += sizeof(l) + len;
}

/*
 * The address in use refused before replying once: send all that was
 * sent so far to the next one.  0, or -1 after reporting the refusal.
 */
static int
udp_next(const struct hc_opts *o, struct udp_relay *r)
{
	char err[HC_ERRLEN];
	size_t off;
	uint32_t l;

	if (r->overflow) {
		hc_error(o->host, o->port, "%s", strerror(ECONNREFUSED));
		return -1;
	}
	for (;;) {
		if (hc_udp_next(&r->peer, err, sizeof(err)) == -1) {
			hc_error(o->host, o->port, "%s", err);
			return -1;
		}
		for (off = 0; off < r->held; off += sizeof(l) + l) {
			memcpy(&l, r->hold + off, sizeof(l));
			if (send(r->peer.fd, r->hold + off + sizeof(l), l, 0) == -1)
				break;
		}
		if (off == r->held)
			break;
		if (errno != ECONNREFUSED) {
			hc_error(o->host, o->port, "%s", strerror(errno));
			return -1;
		}
	}
	r->last_ns = hc_now_ns();
	return 0;
}

/* Send one line as a datagram, without its LF or CRLF; 0 or -1 after reporting. */
static int
udp_send_line(const struct hc_opts *o, struct udp_relay *r, size_t n)
{
	size_t l = n;

	if (l > 0 && r->line[l - 1] == '\n')
		l--;
	if (l > 0 && r->line[l - 1] == '\r')
		l--;
	udp_hold(r, r->line, l);
	if (send(r->peer.fd, r->line, l, 0) == -1) {
		if (errno != ECONNREFUSED) {
			hc_error(o->host, o->port, "%s", strerror(errno));
			return -1;
		}
		/* The hold has this line too: the next address gets it. */
		if (udp_next(o, r) == -1)
			return -1;
	}
	r->sent++;
	r->last_ns = hc_now_ns();
	memmove(r->line, r->line + n, r->len - n);
	r->len -= n;
	return 0;
}

/* Read stdin and send every complete line; at EOF the unterminated rest too. */
static int
udp_read_stdin(const struct hc_opts *o, struct udp_relay *r)
{
	char *nl;
	ssize_t n;

	n = read(0, r->line + r->len, DATAGRAM_MAX + 1 - r->len);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n == -1) {
		hc_error(o->host, o->port, "stdin: %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		r->in_eof = true;
	r->len += (size_t)n;
	while ((nl = memchr(r->line, '\n', r->len)) != NULL)
		if (udp_send_line(o, r, (size_t)(nl - r->line) + 1) == -1)
			return -1;
	if (r->len > DATAGRAM_MAX) {
		hc_error(o->host, o->port, "a line of stdin is longer than a datagram "
		    "(%d bytes)", DATAGRAM_MAX);
		return -1;
	}
	if (r->in_eof && r->len > 0)
		return udp_send_line(o, r, r->len);
	return 0;
}

static int
udp_read_reply(const struct hc_opts *o, struct udp_relay *r)
{
	ssize_t n;

	if ((n = recv(r->peer.fd, r->reply, sizeof(r->reply) - 1, 0)) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		if (errno == ECONNREFUSED)
			return udp_next(o, r);
		hc_error(o->host, o->port, "%s", strerror(errno));
		return -1;
	}
	r->peer.answered = true;
	if (hc_out_line(r->reply, (size_t)n) == -1)
		return -1;
	r->received++;
	r->last_ns = hc_now_ns();
	return 0;
}

/*
 * One datagram per line of stdin, each reply printed as it comes.  After
 * the end of stdin we wait for missing replies until -w has passed with
 * none arriving; a service that never replies (discard) costs that wait.
 */
static int
relay_udp(const struct hc_opts *o)
{
	struct udp_relay *r;
	struct pollfd pfd[2];
	char err[HC_ERRLEN];
	uint64_t now, end;
	int rc = HC_FAIL;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		hc_error(o->host, o->port, "%s", strerror(errno));
		return HC_FAIL;
	}
	if (hc_udp_open(&r->peer, o->host, o->port, o->family, err, sizeof(err)) == -1) {
		hc_error(o->host, o->port, "%s", err);
		goto out;
	}
	for (;;) {
		int timeout = -1;

		if (r->in_eof) {
			now = hc_now_ns();
			end = r->last_ns + (uint64_t)o->timeout_ms * 1000000;
			if (r->received >= r->sent || now >= end)
				break;
			timeout = (int)((end - now + 999999) / 1000000);
		}
		pfd[0].fd = r->in_eof ? -1 : 0;
		pfd[0].events = POLLIN;
		pfd[1].fd = r->peer.fd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, timeout) == -1) {
			if (errno == EINTR)
				continue;
			hc_error(o->host, o->port, "poll: %s", strerror(errno));
			goto out;
		}
		if (pfd[1].revents != 0 && udp_read_reply(o, r) == -1)
			goto out;
		if ((pfd[0].revents & POLLNVAL))
			r->in_eof = true;
		else if (pfd[0].revents != 0 && udp_read_stdin(o, r) == -1)
			goto out;
	}
	rc = HC_OK;
out:
	hc_udp_close(&r->peer);
	free(r);
	return rc;
}

/*
 * Relay mode, without messages on the command line: TCP is a byte-exact
 * two-way pipe with half-close; UDP sends one datagram per line.
 */
int
relay_run(const struct hc_opts *o)
{
	return o->udp ? relay_udp(o) : relay_tcp(o);
}
