/* helloc's dialogue mode: each message as a line (TCP) or a datagram (UDP), each reply shown. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vis.h>

#include "helloc.h"

#define DIALOGUE_QUIT		"exit"
#define DIALOGUE_DRAIN_MS	1000
#define DIALOGUE_DUP_MS		250	/* how long late copies of a reply are awaited */
#define DATAGRAM_MAX		65536

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

static void
send_failed(const struct hc_opts *o)
{
	char sec[32];

	if (errno == ETIMEDOUT)
		hc_error(o->host, o->port, "the server took nothing for %s: it "
		    "does not read", hc_seconds(o->timeout_ms, sec, sizeof(sec)));
	else
		hc_error(o->host, o->port, "%s", strerror(errno));
}

/*
 * A server may greet (hello, banner) or stay silent until spoken to (echo).
 * We cannot know which, so a greeting is whatever arrives within a short
 * wait after the connect; a server that says nothing costs that wait once.
 * Returns 1 when a greeting came, 0 when none did, -1 after reporting.
 */
static int
tcp_greeting(const struct hc_opts *o, struct hc_lines *lb)
{
	char *line;
	size_t len;
	int rv;

	if ((rv = hc_wait(lb->fd, POLLIN, HC_GREETING_MS)) == 0)
		return 0;
	if (rv == 1 && (rv = hc_lines_read(lb, o->timeout_ms, &line, &len)) == 1)
		return hc_out_line(line, len) == -1 ? -1 : 1;
	reply_failed(o, rv, NULL);
	return -1;
}

/* Send msg and its LF within the timeout; 0, or -1 after reporting. */
static int
send_line(const struct hc_opts *o, int fd, const char *msg)
{
	size_t len = strlen(msg);
	char *buf;
	int rv;

	/* One write, so that the server never sees the message without its end. */
	if ((buf = malloc(len + 2)) == NULL) {
		hc_error(o->host, o->port, "%s", strerror(errno));
		return -1;
	}
	memcpy(buf, msg, len);
	buf[len] = '\n';
	if ((rv = hc_send_within(fd, buf, len + 1, o->timeout_ms)) == -1)
		send_failed(o);
	free(buf);
	return rv;
}

/*
 * Say goodbye the way hello expects, then let the server close first, so
 * that the TIME_WAIT state stays on its side.  A server that answers the
 * quit word instead (echo) sees our end of file after its answer.
 *
 * When no greeting came within our wait, one more line may come here: a
 * greeting later than the wait (a server started by socket activation
 * on this very connection, say) was read where the first reply was
 * expected, and every reply where the one before was.  The lines printed
 * are the same, in the same order; only the reply to the last message is
 * still to come, and it is printed.  Any other line means that the
 * replies were not the ones we took them for: that is an error.
 */
static int
tcp_quit(const struct hc_opts *o, struct hc_lines *lb, bool greeted)
{
	uint64_t end = hc_now_ns() + (uint64_t)DIALOGUE_DRAIN_MS * 1000000, now;
	char *line, vis[4 * 64 + 1];
	size_t len;
	bool shut = false, late = !greeted;

	if (hc_send_within(lb->fd, DIALOGUE_QUIT "\n", strlen(DIALOGUE_QUIT) + 1,
	    o->timeout_ms) == -1) {
		/* A server that already left has closed first, as we wished. */
		if (errno == EPIPE || errno == ECONNRESET)
			return 0;
		send_failed(o);
		return -1;
	}
	while ((now = hc_now_ns()) < end &&
	    hc_lines_read(lb, (int)((end - now) / 1000000), &line, &len) == 1) {
		if (len == strlen(DIALOGUE_QUIT) && !shut &&
		    memcmp(line, DIALOGUE_QUIT, len) == 0) {
			shutdown(lb->fd, SHUT_WR);
			shut = true;
			continue;
		}
		if (late && !shut) {
			late = false;
			if (hc_out_line(line, len) == -1)
				return -1;
			continue;
		}
		strvisx(vis, line, len < 64 ? len : 64, VIS_CSTYLE | VIS_OCTAL);
		hc_error(o->host, o->port, "one line more than the replies: \"%s%s\"; "
		    "the replies printed may not match the messages", vis,
		    len > 64 ? "..." : "");
		return -1;
	}
	return 0;
}

static int
dialogue_tcp(const struct hc_opts *o)
{
	struct hc_lines *lb;
	char err[HC_ERRLEN], *line;
	size_t len;
	int fd, i, rv, greeted, rc = HC_FAIL;

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
	if ((greeted = tcp_greeting(o, lb)) == -1)
		goto out;
	for (i = 0; i < o->nmsgs; i++) {
		if (send_line(o, fd, o->msgs[i]) == -1)
			goto out;
		if ((rv = hc_lines_read(lb, o->timeout_ms, &line, &len)) != 1) {
			reply_failed(o, rv, o->msgs[i]);
			goto out;
		}
		if (hc_out_line(line, len) == -1)
			goto out;
	}
	if (tcp_quit(o, lb, greeted == 1) == 0)
		rc = HC_OK;
out:
	free(lb);
	close(fd);
	return rc;
}

/*
 * After a message that had to be sent more than once, its copies may each
 * get a reply: wait a little for them, so that none is taken for the next
 * message's reply.  A reply later than that is caught by the drain before
 * the next send.
 */
static void
udp_late_copies(int fd, int copies)
{
	char buf[512];

	while (copies-- > 0 && hc_wait(fd, POLLIN, DIALOGUE_DUP_MS) == 1)
		(void)recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
}

/* Send msg and wait for its reply, retrying after each timeout; the reply length or -1. */
static ssize_t
udp_ask(const struct hc_opts *o, struct hc_udp *up, const char *msg, char *buf)
{
	char err[HC_ERRLEN], sec[32];
	size_t len = strlen(msg);
	ssize_t n;
	int tries, rv;

	/* What came after the last reply (a late copy) is no reply to this. */
	hc_udp_drain(up->fd);
	for (tries = 0; tries < HC_TRIES; ) {
		if (send(up->fd, msg, len, 0) == -1)
			goto failed;
		tries++;
		if ((rv = hc_wait(up->fd, POLLIN, o->timeout_ms)) == 0)
			continue;
		if (rv == -1 || (n = recv(up->fd, buf, DATAGRAM_MAX, 0)) == -1)
			goto failed;
		up->answered = true;
		udp_late_copies(up->fd, tries - 1);
		return n;
failed:
		if (errno != ECONNREFUSED) {
			hc_error(o->host, o->port, "%s", strerror(errno));
			return -1;
		}
		if (hc_udp_next(up, err, sizeof(err)) == -1) {
			hc_error(o->host, o->port, "%s", err);
			return -1;
		}
		tries = 0;
	}
	hc_error(o->host, o->port, "no reply to \"%s\" after %d tries of %s each",
	    msg, HC_TRIES, hc_seconds(o->timeout_ms, sec, sizeof(sec)));
	return -1;
}

static int
dialogue_udp(const struct hc_opts *o)
{
	struct hc_udp up;
	char err[HC_ERRLEN], *buf = NULL;
	ssize_t n;
	int i, rc = HC_FAIL;

	if (hc_udp_open(&up, o->host, o->port, o->family, err, sizeof(err)) == -1) {
		hc_error(o->host, o->port, "%s", err);
		goto out;
	}
	if ((buf = malloc(DATAGRAM_MAX)) == NULL) {
		hc_error(o->host, o->port, "%s", strerror(errno));
		goto out;
	}
	for (i = 0; i < o->nmsgs; i++) {
		if ((n = udp_ask(o, &up, o->msgs[i], buf)) == -1 ||
		    hc_out_line(buf, (size_t)n) == -1)
			goto out;
	}
	rc = HC_OK;
out:
	free(buf);
	hc_udp_close(&up);
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
