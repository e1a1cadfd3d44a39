/* helloc's dialogue mode: each message sent as a line (TCP) or a datagram (UDP), each reply printed. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helloc.h"

#define DIALOGUE_QUIT		"exit\n"
#define DIALOGUE_DRAIN_MS	1000
#define DATAGRAM_MAX		65536

/* One reply, one line of output, whatever the server ended it with. */
static void
print_reply(const char *p, size_t len)
{
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	fwrite(p, 1, len, stdout);
	putchar('\n');
	fflush(stdout);
}

/* Report why a reply did not come: rv and errno as hc_lines_read() left them. */
static void
reply_failed(const struct hc_opts *o, int rv, const char *msg)
{
	char sec[32];

	if (rv == 0)
		hc_error(o->host, o->port, "connection closed by the server%s%s%s",
		    msg != NULL ? " before replying to \"" : "",
		    msg != NULL ? msg : "", msg != NULL ? "\"" : "");
	else if (errno == ETIMEDOUT)
		hc_error(o->host, o->port, "no reply to \"%s\" within %s", msg,
		    hc_seconds(o->timeout_ms, sec, sizeof(sec)));
	else
		hc_error(o->host, o->port, "%s", strerror(errno));
}

/*
 * A server may greet (hello, banner) or stay silent until spoken to (echo).
 * We cannot know which, so a greeting is whatever arrives within a short
 * wait after the connect; a server that says nothing costs that wait once.
 */
static int
tcp_greeting(const struct hc_opts *o, struct hc_lines *lb)
{
	char *line;
	size_t len;
	int rv;

	if ((rv = hc_wait(lb->fd, POLLIN, HC_GREETING_MS)) == 0)
		return 0;
	if (rv == 1 && (rv = hc_lines_read(lb, o->timeout_ms, &line, &len)) == 1) {
		print_reply(line, len);
		return 0;
	}
	reply_failed(o, rv, NULL);
	return -1;
}

static int
send_line(int fd, const char *msg)
{
	size_t len = strlen(msg);
	char *buf;
	int rv;

	/* One write, so that the server never sees the message without its end. */
	if ((buf = malloc(len + 2)) == NULL)
		return -1;
	memcpy(buf, msg, len);
	buf[len] = '\n';
	rv = hc_send_all(fd, buf, len + 1);
	free(buf);
	return rv;
}

/*
 * Say goodbye the way hello expects, then let the server close first, so
 * that the TIME_WAIT state stays on its side.  A server that answers the
 * quit word instead (echo) sees our end of file after its answer.
 */
static void
tcp_quit(struct hc_lines *lb)
{
	uint64_t end = hc_now_ns() + (uint64_t)DIALOGUE_DRAIN_MS * 1000000, now;
	bool shut = false;
	char *line;
	size_t len;

	if (hc_send_all(lb->fd, DIALOGUE_QUIT, strlen(DIALOGUE_QUIT)) == -1)
		return;
	while ((now = hc_now_ns()) < end &&
	    hc_lines_read(lb, (int)((end - now) / 1000000), &line, &len) == 1) {
		if (!shut)
			shutdown(lb->fd, SHUT_WR);
		shut = true;
	}
}

static int
dialogue_tcp(const struct hc_opts *o)
{
	struct hc_lines *lb;
	char err[HC_ERRLEN], *line;
	size_t len;
	int fd, i, rv, rc = HC_FAIL;

	fd = hc_connect(o->host, o->port, o->family, SOCK_STREAM, o->timeout_ms,
	    NULL, NULL, err, sizeof(err));
	if (fd == -1) {
		hc_error(o->host, o->port, "%s", err);
		return HC_FAIL;
	}
	if ((lb = malloc(sizeof(*lb))) == NULL) {
		hc_error(o->host, o->port, "%s", strerror(errno));
		close(fd);
		return HC_FAIL;
	}
	hc_lines_init(lb, fd);
	if (tcp_greeting(o, lb) == -1)
		goto out;
	for (i = 0; i < o->nmsgs; i++) {
		if (send_line(fd, o->msgs[i]) == -1) {
			hc_error(o->host, o->port, "%s", strerror(errno));
			goto out;
		}
		if ((rv = hc_lines_read(lb, o->timeout_ms, &line, &len)) != 1) {
			reply_failed(o, rv, o->msgs[i]);
			goto out;
		}
		print_reply(line, len);
	}
	tcp_quit(lb);
	rc = HC_OK;
out:
	free(lb);
	close(fd);
	return rc;
}

/* A connected UDP socket, so that only the server's datagrams arrive and ICMP errors are reported. */
static int
udp_open(const struct addrinfo *ai, char *err, size_t errlen)
{
	return hc_connect_one(ai, 0, err, errlen);
}

struct udp_peer {
	struct addrinfo	*res;
	struct addrinfo	*ai;		/* the address in use */
	int		 fd;
	bool		 answered;	/* it replied once: stay with it */
};

/*
 * A refusal (an ICMP port unreachable) from an address that never answered
 * moves on to the next address, as a TCP connect would.  Returns 0 when
 * there is one, -1 when there is none left.
 */
static int
udp_next(const struct hc_opts *o, struct udp_peer *up)
{
	char err[HC_ERRLEN];

	if (up->answered || up->ai->ai_next == NULL) {
		hc_error(o->host, o->port, "%s", strerror(ECONNREFUSED));
		return -1;
	}
	close(up->fd);
	up->ai = up->ai->ai_next;
	if ((up->fd = udp_open(up->ai, err, sizeof(err))) == -1) {
		hc_error(o->host, o->port, "%s", err);
		return -1;
	}
	return 0;
}

/* Send msg and wait for its reply, retrying after each timeout; the reply length or -1. */
static ssize_t
udp_ask(const struct hc_opts *o, struct udp_peer *up, const char *msg, char *buf)
{
	char sec[32];
	size_t len = strlen(msg);
	ssize_t n;
	int tries, rv;

	for (tries = 0; tries < HC_TRIES; ) {
		if (send(up->fd, msg, len, 0) == -1)
			goto failed;
		if ((rv = hc_wait(up->fd, POLLIN, o->timeout_ms)) == 0) {
			tries++;
			continue;
		}
		if (rv == -1 || (n = recv(up->fd, buf, DATAGRAM_MAX, 0)) == -1)
			goto failed;
		up->answered = true;
		return n;
failed:
		if (errno != ECONNREFUSED) {
			hc_error(o->host, o->port, "%s", strerror(errno));
			return -1;
		}
		if (udp_next(o, up) == -1)
			return -1;
		tries = 0;
	}
	hc_error(o->host, o->port, "no reply to \"%s\" after %d tries of %s each",
	    msg, HC_TRIES, hc_seconds(o->timeout_ms, sec, sizeof(sec)));
	return -1;
}

static int
dialogue_udp(const struct hc_opts *o)
{
	struct udp_peer up = { .fd = -1 };
	char err[HC_ERRLEN], *buf = NULL;
	ssize_t n;
	int i, rc = HC_FAIL;

	up.res = hc_resolve(o->host, o->port, o->family, SOCK_DGRAM, err, sizeof(err));
	if (up.res == NULL) {
		hc_error(o->host, o->port, "%s", err);
		return HC_FAIL;
	}
	up.ai = up.res;
	if ((up.fd = udp_open(up.ai, err, sizeof(err))) == -1) {
		hc_error(o->host, o->port, "%s", err);
		goto out;
	}
	if ((buf = malloc(DATAGRAM_MAX)) == NULL) {
		hc_error(o->host, o->port, "%s", strerror(errno));
		goto out;
	}
	for (i = 0; i < o->nmsgs; i++) {
		if ((n = udp_ask(o, &up, o->msgs[i], buf)) == -1)
			goto out;
		print_reply(buf, (size_t)n);
	}
	rc = HC_OK;
out:
	free(buf);
	if (up.fd != -1)
		close(up.fd);
	freeaddrinfo(up.res);
	return rc;
}

/*
 * Dialogue mode: the greeting, then one reply line printed per message,
 * then the quit word; over UDP one datagram per message.
 */
int
dialogue_run(const struct hc_opts *o)
{
	return o->udp ? dialogue_udp(o) : dialogue_tcp(o);
}
