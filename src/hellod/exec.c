/* Running a program: the supervising step that logs its stderr, bounds its time, reaps it. */
#include <sys/types.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "exec.h"
#include "limit.h"
#include "log.h"
#include "util.h"

/* After the program's exit, how long its stderr may still bring lines (a child of its own). */
#define EXEC_DRAIN_MS	100

/* In the program's process: its descriptors and signals, then the program. */
__attribute__((noreturn))
static void
exec_child(const struct exec_run *r, int errfd)
{
	struct sigaction sa;
	sigset_t empty;
	int	 sig, flags;

	/* Programs written for inetd expect a blocking socket. */
	if ((flags = fcntl(r->stdio, F_GETFL)) != -1)
		(void)fcntl(r->stdio, F_SETFL, flags & ~O_NONBLOCK);
	if (dup2(r->stdio, STDIN_FILENO) == -1 ||
	    dup2(r->stdio, STDOUT_FILENO) == -1 ||
	    dup2(errfd, STDERR_FILENO) == -1)
		_exit(127);
	/* The connection's copy, the pipe's, the log socket: only 0, 1, 2 stay. */
	closefrom(STDERR_FILENO + 1);
	/* As inetd does: the daemon's working directory is none of its business. */
	if (chdir("/") == -1)
		_exit(127);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);	/* KILL, STOP: EINVAL */
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	/* The limit on open files that hellod was started with, not its own. */
	util_nofile_restore();
	execve(r->argv[0], r->argv, r->envp);
	dprintf(STDERR_FILENO, "cannot run %s: %s\n", r->argv[0], strerror(errno));
	_exit(127);
}

/* The supervisor's state: the stderr line being read, and its throttle. */
struct relay {
	struct exec_run	*r;
	char		 line[EXEC_LINE_MAX + 1];
	size_t		 len;
	bool		 cut;		/* the line went past EXEC_LINE_MAX */
	struct bucket	 rate;
};

static void
relay_flush(struct relay *rl)
{
	char	 vis[EXEC_LINE_MAX * 4 + 8];

	if (rl->len == 0 && !rl->cut)
		return;
	if (bucket_take(&rl->rate, EXEC_LINES_RATE, util_now_ms()))
		log_info("%s: stderr pid=%ld line=\"%s%s\"", rl->r->svc->name,
		    (long)rl->r->pid, log_vis(vis, sizeof(vis), rl->line, rl->len),
		    rl->cut ? "..." : "");
	else
		rl->r->lines_dropped++;
	rl->len = 0;
	rl->cut = false;
}

/* Bytes of the program's stderr: every complete line to the log. */
static void
relay_bytes(struct relay *rl, const char *buf, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			relay_flush(rl);
			continue;
		}
		if (rl->len < EXEC_LINE_MAX)
			rl->line[rl->len++] = buf[i];
		else
			rl->cut = true;
	}
}

/* Signals to the supervisor: the program's end, or hellod stopping. */
static void
supervise_signal(struct exec_run *r, int sfd, bool *exited, uint64_t *kill_at)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM && !*exited && !r->stopped) {
			r->stopped = true;
			kill(r->pid, SIGTERM);
			*kill_at = util_now_ms() + EXEC_GRACE_MS;
		}
	}
	if (!*exited && waitpid(r->pid, &r->status, WNOHANG) == r->pid)
		*exited = true;
}

/* The milliseconds poll may wait: until the first of the deadlines; -1 for none. */
static int
supervise_wait(uint64_t now, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t until = 0, d[3] = { a, b, c };
	int	 i;

	for (i = 0; i < 3; i++)
		if (d[i] != 0 && (until == 0 || d[i] < until))
			until = d[i];
	if (until == 0)
		return -1;
	return until <= now ? 0 : (int)(until - now > 60000 ? 60000 : until - now);
}

/* Read the program's stderr, watch its time, until it has ended and said all. */
static void
supervise(struct exec_run *r, int errfd, int sfd)
{
	struct relay	 rl = { .r = r };
	struct pollfd	 pfd[2];
	char		 buf[4096];
	uint64_t	 now, end = r->max_ms ? util_now_ms() + r->max_ms : 0;
	uint64_t	 kill_at = 0, drain_until = 0;
	bool		 exited = false, eof = false;
	ssize_t		 n;

	while (!exited || (!eof && util_now_ms() < drain_until)) {
		now = util_now_ms();
		if (end != 0 && now >= end && !exited) {
			r->expired = true;
			kill(r->pid, SIGTERM);
			kill_at = now + EXEC_GRACE_MS;
			end = 0;
		}
		if (kill_at != 0 && now >= kill_at && !exited) {
			kill(r->pid, SIGKILL);
			kill_at = 0;
		}
		pfd[0].fd = eof ? -1 : errfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, supervise_wait(now, end, kill_at,
		    exited ? drain_until : 0)) == -1 && errno != EINTR)
			break;
		if (!eof && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if ((n = read(errfd, buf, sizeof(buf))) > 0)
				relay_bytes(&rl, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				eof = true;
		}
		if (!exited) {
			supervise_signal(r, sfd, &exited, &kill_at);
			if (exited)
				drain_until = util_now_ms() + EXEC_DRAIN_MS;
		}
	}
	relay_flush(&rl);
}

int
exec_run(struct exec_run *r)
{
	sigset_t set;
	int	 errp[2], sfd;

	r->pid = -1;
	r->status = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_warn("%s: error op=signalfd", r->svc->name);
		return -1;
	}
	if (pipe2(errp, O_CLOEXEC) == -1) {
		log_warn("%s: error op=pipe", r->svc->name);
		close(sfd);
		return -1;
	}
	if ((r->pid = util_fork()) == 0) {
		close(errp[0]);
		exec_child(r, errp[1]);
	}
	close(errp[1]);
	if (r->pid == -1) {
		log_warn("%s: error op=fork", r->svc->name);
		close(errp[0]);
		close(sfd);
		return -1;
	}
	supervise(r, errp[0], sfd);
	close(errp[0]);
	close(sfd);
	if (r->lines_dropped > 0)
		log_info("%s: stderr pid=%ld dropped=%lu", r->svc->name,
		    (long)r->pid, r->lines_dropped);
	return 0;
}

enum conn_end
exec_end(const struct exec_run *r)
{
	return r->expired ? END_max_duration : r->stopped ? END_shutdown :
	    END_done;
}

const char *
exec_outcome(const struct exec_run *r, char *buf, size_t len)
{
	if (WIFSIGNALED(r->status))
		snprintf(buf, len, "signal=%s", util_signame(WTERMSIG(r->status)));
	else
		snprintf(buf, len, "exit=%d", WEXITSTATUS(r->status));
	return buf;
}
