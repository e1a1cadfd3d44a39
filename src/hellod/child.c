/* Everything after fork() in a child: set-up, the handler, the end line. */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "conn.h"
#include "exec.h"
#include "handler.h"
#include "identity.h"
#include "log.h"
#include "net.h"
#include "util.h"

/* The connection lives on this descriptor in the child, the report socket on the next. */
#define CHILD_FD	3
#define REPORT_FD	4

int child_report_fd = -1;
/* This child's pid, asked once (getpid() is a system call); 0 in the parent. */
static pid_t child_pid;

/*
 * The bytes of the connection, held to go to the parent with the end line
 * in one write (one wake-up of the parent, not two): child_finish().
 */
static const struct report_head *child_held;

static void
child_sigterm(int sig)
{
	(void)sig;
	conn_stopping = 1;
}

/* Made ready in the parent: a child only reads them (a write would be a copy-on-write fault). */
static struct sigaction child_sa;	/* SIGTERM's */
static sigset_t child_mask;		/* SIGTERM alone */
static bool	child_prepared;

void
child_prepare(void)
{
	memset(&child_sa, 0, sizeof(child_sa));
	child_sa.sa_handler = child_sigterm;
	sigemptyset(&child_sa.sa_mask);
	sigemptyset(&child_mask);
	sigaddset(&child_mask, SIGTERM);
	sigaction(SIGTERM, &child_sa, NULL);
	child_prepared = true;
}

/*
 * The parent's mask is not the child's.  Its dispositions are (the
 * parent set them at start, see signal_setup() in server.c: the default,
 * and SIGPIPE ignored, so that writes to a closed socket or pipe fail
 * with EPIPE; SIGTERM's is the children's already, child_prepare(), which
 * here ends the conversation at its next wait, see conn_stopping, so
 * that the end line is still logged).  One system call per connection.
 */
static void
child_signals(void)
{
	if (!child_prepared)
		child_prepare();
	sigprocmask(SIG_SETMASK, &child_mask, NULL);
}

/*
 * Close gracefully: a close with unread input would send a reset, and the
 * client could lose the last reply (the "message too long" line, say).  So
 * send a FIN, then read and drop what the client still sends, briefly.
 */
static void
child_linger(int fd)
{
	char	 buf[4096];
	size_t	 total = 0;
	uint64_t deadline = util_now_ms() + 500;

	shutdown(fd, SHUT_WR);
	while (total < 65536) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = util_now_ms();
		ssize_t	 n;

		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
			break;
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			break;
		total += (size_t)n;
	}
	close(fd);
}

/* " via=BALANCER" for the log lines of a connection that came through one, or "". */
static const char *
child_via(const struct conn *c)
{
	static char via[ADDR_STRLEN + 8];

	if (c->via[0] == '\0')
		return "";
	snprintf(via, sizeof(via), " via=%s", c->via);
	return via;
}

static void
child_log_end(const struct conn *c, uint64_t start)
{
	uint64_t ms = util_now_ms() - start;
	char	 status[32] = "";

	if (c->exited) {
		struct exec_run r = { .status = c->status };

		status[0] = ' ';
		exec_outcome(&r, status + 1, sizeof(status) - 1);
	}
	log_info("%s: end peer=%s%s reason=%s duration=%llu.%03llu in=%llu "
	    "out=%llu%s", c->svc->name, c->peername, child_via(c),
	    conn_end_name(c->end),
	    (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000),
	    (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out,
	    status);
}

/*
 * A record for the parent, after the held one if any: one write, whole
 * (the two together are less than PIPE_BUF).
 */
static void
child_send(const void *rec, size_t len)
{
	struct iovec	 iov[2];
	int		 n = 0;

	if (child_held != NULL) {
		iov[n].iov_base = (void *)(uintptr_t)child_held;
		iov[n++].iov_len = sizeof(*child_held);
		child_held = NULL;
	}
	iov[n].iov_base = (void *)(uintptr_t)rec;
	iov[n++].iov_len = len;
	if (child_report_fd != -1)
		(void)writev(child_report_fd, iov, n);
}

/* With the journal, a child's line goes to the parent, which sends it on. */
static void
child_log_relay(int priority, const char *line)
{
	char	 rec[sizeof(struct report_head) + LOG_LINE_MAX];
	struct report_head *r = (struct report_head *)(void *)rec;
	size_t	 n = strnlen(line, LOG_LINE_MAX - 1);

	memset(r, 0, sizeof(*r));
	r->len = (uint16_t)(sizeof(*r) + n + 1);
	r->type = REPORT_LOG;
	r->priority = (uint8_t)priority;
	r->pid = child_pid;
	memcpy(rec + sizeof(*r), line, n);
	rec[sizeof(*r) + n] = '\0';
	child_send(rec, r->len);
}

void
child_reset(int fd)
{
	if (child_pid == 0)
		child_pid = getpid();
	child_signals();
	/*
	 * Forget the parent's syslog socket first: it may well be descriptor
	 * CHILD_FD, and closelog() after the dup2 would close fd.  The next
	 * log line opens a socket of the child's own.
	 */
	log_reopen();
	/* Out of the way first, should either sit where the other goes. */
	if ((fd == REPORT_FD || child_report_fd == CHILD_FD) &&
	    ((fd = fcntl(fd, F_DUPFD, REPORT_FD + 1)) == -1 ||
	    (child_report_fd != -1 && (child_report_fd = fcntl(child_report_fd,
	    F_DUPFD, REPORT_FD + 1)) == -1)))
		_exit(EX_OSERR);
	if (fd != CHILD_FD && dup2(fd, CHILD_FD) == -1)
		_exit(EX_OSERR);
	if (child_report_fd != -1 && child_report_fd != REPORT_FD &&
	    dup2(child_report_fd, REPORT_FD) == -1)
		_exit(EX_OSERR);
	child_report_fd = child_report_fd != -1 ? REPORT_FD : -1;
	/*
	 * Listeners, epoll, signalfd, pidfile, control socket: none is ours.
	 * close_range() itself: libbsd's closefrom() calls it, from two more
	 * pages of code that every child would fault in.
	 */
	if (close_range(REPORT_FD + 1, ~0U, 0) == -1)
		closefrom(REPORT_FD + 1);
	log_divert_to(child_log_relay);
}

/*
 * A child of util_fork_files(), before anything that opens or closes a
 * descriptor: a table of its own, with what lies below the listeners; then
 * the parent may close the connection's descriptor.
 */
static void
child_unshare(void)
{
	struct report_head r = { .len = sizeof(r), .type = REPORT_FILES,
	    .pid = child_pid };

	/* Should close_range() say no, a copy of the whole table will do. */
	if (util_files_unshare(NET_FD_HIGH) == -1 && unshare(CLONE_FILES) == -1)
		_exit(EX_OSERR);
	if (child_report_fd != -1)
		(void)write(child_report_fd, &r, sizeof(r));
}

/*
 * The end line, and the connection's bytes for the parent's counters:
 * with the journal, the end line takes the bytes along (child_send);
 * otherwise they go alone.
 */
static void
child_finish(const struct conn *c, uint64_t start)
{
	struct report_head r = { .len = sizeof(r), .type = REPORT_BYTES,
	    .pid = child_pid, .bytes_in = c->bytes_in,
	    .bytes_out = c->bytes_out };

	child_held = &r;
	if (c->svc->log_connections)
		child_log_end(c, start);
	if (child_held != NULL) {
		child_held = NULL;
		child_send(&r, sizeof(r));
	}
}

void
child_run(struct conn *c)
{
	const struct service *svc = c->svc;
	uint64_t	 start = c->last_io_ms;

	child_pid = getpid();
	if (c->files_shared)
		child_unshare();
	child_reset(c->fd);
	conn_attach(c, CHILD_FD);
	setproctitle("%s %s", svc->name, c->peername);
	if (identity_service(svc) == -1 ||
	    identity_drop_caps(svc->name) == -1)
		_exit(EX_OSERR);
	if (svc->log_connections)
		log_info("%s: connect peer=%s%s", svc->name, c->peername,
		    child_via(c));
	svc->handler->tcp(c);
	child_finish(c, start);
	/*
	 * A handler that read the client's end of file (or a reset) left
	 * nothing unread; a program may have, whatever it saw.
	 */
	if (c->end == END_client_close && !c->exited)
		close(c->fd);
	else
		child_linger(c->fd);
	_exit(0);
}
