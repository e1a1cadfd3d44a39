/* Everything after fork() in a TCP child: set-up, the handler, the end line. */
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>
#include <poll.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "conn.h"
#include "handler.h"
#include "log.h"

/* The connection lives on this descriptor in the child. */
#define CHILD_FD	3

static void
child_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGUSR1,
	    SIGCHLD, SIGPIPE };
	sigset_t set;
	size_t	 i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

/* Switch to the service's user and group; only root can, and only root needs to. */
static int
child_identity(const struct service *svc)
{
	struct passwd	*pw;
	struct group	*gr;
	gid_t		 gid;

	if (svc->user == NULL && svc->group == NULL)
		return 0;
	pw = svc->user != NULL ? getpwnam(svc->user) : NULL;
	if (svc->user != NULL && pw == NULL) {
		log_errx("%s: unknown user %s", svc->name, svc->user);
		return -1;
	}
	if (geteuid() != 0) {
		/* Fine when the parent already runs as that user ([global] user). */
		if (pw != NULL && pw->pw_uid != geteuid()) {
			log_errx("%s: cannot switch to user %s: hellod is not "
			    "running as root", svc->name, svc->user);
			return -1;
		}
		return 0;
	}
	gid = pw != NULL ? pw->pw_gid : getgid();
	if (svc->group != NULL) {
		if ((gr = getgrnam(svc->group)) == NULL) {
			log_errx("%s: unknown group %s", svc->name, svc->group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if ((pw != NULL ? initgroups(pw->pw_name, gid) : setgroups(1, &gid)) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    (pw != NULL && setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)) {
		log_err("%s: cannot switch to user %s group %s", svc->name,
		    svc->user ? svc->user : "-", svc->group ? svc->group : "-");
		return -1;
	}
	return 0;
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
	uint64_t deadline = conn_now_ms() + 500;

	shutdown(fd, SHUT_WR);
	while (total < 65536) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = conn_now_ms();
		ssize_t	 n;

		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
			break;
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			break;
		total += (size_t)n;
	}
	close(fd);
}

static void
child_log_end(const struct conn *c, uint64_t start)
{
	uint64_t ms = conn_now_ms() - start;

	log_info("%s: end %s reason=%s duration=%llu.%03llus in=%llu out=%llu",
	    c->svc->name, c->peername, c->end != NULL ? c->end : "done",
	    (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000),
	    (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out);
}

void
child_run(struct service *svc, int cfd)
{
	struct conn	 c;
	uint64_t	 start = conn_now_ms();

	child_signals();
	if (cfd != CHILD_FD) {
		if (dup2(cfd, CHILD_FD) == -1)
			_exit(EX_OSERR);
		cfd = CHILD_FD;
	}
	/* Listeners, epoll, signalfd, pidfile, control socket, syslog: none is ours. */
	closefrom(CHILD_FD + 1);
	log_reopen();
	conn_init(&c, cfd, svc);
	setproctitle("%s %s", svc->name, c.peername);
	if (child_identity(svc) == -1)
		_exit(EX_OSERR);
	if (svc->log_connections)
		log_info("%s: connect %s", svc->name, c.peername);
	svc->handler->tcp(&c);
	if (svc->log_connections)
		child_log_end(&c, start);
	child_linger(cfd);
	_exit(0);
}
