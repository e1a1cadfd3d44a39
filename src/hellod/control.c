/* The control socket: a UNIX stream socket that answers commands with the status. */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vis.h>

#include "config.h"
#include "control.h"
#include "log.h"
#include "service.h"
#include "status.h"
#include "util.h"

/*
 * Whether a server answers on the UNIX socket at sun: true when a
 * connect succeeds (or its backlog is full), false when nothing listens
 * there any more.  The connect does not block, so a busy or hung peer
 * cannot hold the daemon up.  Returns -1 with errno set when it cannot
 * tell.
 */
static int
control_live(const struct sockaddr_un *sun)
{
	int	 fd, rv = 1;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == -1) {
		if (errno == ECONNREFUSED)
			rv = 0;
		else if (errno != EAGAIN && errno != EINPROGRESS)
			rv = -1;
	}
	close(fd);
	return rv;
}

/*
 * Make room for the socket at sun's path: nothing there is fine, and a
 * socket nobody listens on is what a previous run left behind, so it is
 * removed.  Anything else stays, and the caller runs without a control
 * socket: a mistyped path must not delete a file, and a second hellod
 * must not take over the control socket of a running one.  Returns 0, or
 * -1 after logging why.
 */
static int
control_clear(const struct sockaddr_un *sun)
{
	const char	*path = sun->sun_path;
	struct stat	 st;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_err("control %s: running without a control socket", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_errx("control %s: not a socket, left alone: running without "
		    "a control socket", path);
		return -1;
	}
	switch (control_live(sun)) {
	case 0:
		break;
	case 1:
		log_errx("control %s: another process listens there: running "
		    "without a control socket", path);
		return -1;
	default:
		log_err("control %s: connect: running without a control socket",
		    path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_err("control %s: unlink: running without a control socket",
		    path);
		return -1;
	}
	return 0;
}

/*
 * Listen on path (removing a stale socket there first, never anything
 * else).  Returns 0, or -1 after logging why.
 */
int
control_open(struct control *ctl, const char *path, uid_t owner, gid_t group)
{
	struct sockaddr_un sun;
	mode_t	 mask;
	int	 fd, rc;

	ctl->kind = SRC_CONTROL;
	ctl->fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_errx("control %s: path too long", path);
		return -1;
	}
	if (control_clear(&sun) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_err("control %s: socket", path);
		return -1;
	}
	/*
	 * The socket is made with its mode, 0660, under a umask: a chmod by
	 * path afterwards would follow whatever link another user put there
	 * meanwhile.
	 */
	mask = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(mask);
	if (rc == -1) {
		log_err("control %s: running without a control socket", path);
		close(fd);
		return -1;
	}
	/* The daemon's user and group, should it drop to them: never a link's. */
	if (owner != (uid_t)-1 &&
	    fchownat(AT_FDCWD, path, owner, group, AT_SYMLINK_NOFOLLOW) == -1) {
		log_err("control %s: running without a control socket", path);
		close(fd);
		unlink(path);
		return -1;
	}
	if (listen(fd, 16) == -1) {
		log_err("control %s: running without a control socket", path);
		close(fd);
		unlink(path);
		return -1;
	}
	ctl->fd = fd;
	free(ctl->path);
	ctl->path = strdup(path);
	return 0;
}

static void client_close(struct control_client *);

void
control_close(struct control *ctl)
{
	size_t	 i;

	for (i = 0; i < CONTROL_CLIENTS; i++)
		if (ctl->clients[i] != NULL)
			client_close(ctl->clients[i]);
	if (ctl->fd != -1) {
		close(ctl->fd);
		if (ctl->path != NULL)
			unlink(ctl->path);
	}
	ctl->fd = -1;
	free(ctl->path);
	ctl->path = NULL;
}

/* The commands, for help and for errors. */
static const char help_text[] =
    "commands, one a line; every answer ends with an empty line, or is one\n"
    "line of JSON:\n"
    "  status          the daemon and every service, with its counters\n"
    "  status json     the same as JSON\n"
    "  sources [N]     the N (20) busiest clients, per service\n"
    "  sources json [N]\n"
    "  help            this\n"
    "\n";

/* Stop watching cc's descriptor for writing, or start. */
static void
client_poll(struct control_client *cc, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0),
	    .data.ptr = cc };

	if (cc->polled_out != out &&
	    epoll_ctl(cc->ctl->epfd, EPOLL_CTL_MOD, cc->fd, &ev) == 0)
		cc->polled_out = out;
}

static void
client_close(struct control_client *cc)
{
	struct control *ctl = cc->ctl;
	size_t	 i;

	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, cc->fd, NULL);
	close(cc->fd);
	buf_free(&cc->out);
	for (i = 0; i < CONTROL_CLIENTS; i++)
		if (ctl->clients[i] == cc)
			ctl->clients[i] = NULL;
	free(cc);
}

/* "sources [json] [N]": the words after the command. */
static void
command_sources(struct control_client *cc, const struct status_info *si,
    char *args)
{
	const char *e = NULL;
	char	*w;
	bool	 json = false;
	long long n = 20;

	while ((w = strsep(&args, " \t")) != NULL) {
		if (*w == '\0')
			continue;
		if (strcmp(w, "json") == 0)
			json = true;
		else if ((n = strtonum(w, 1, 100000, &e)), e != NULL) {
			buf_printf(&cc->out, "error: \"sources\" takes json and a "
			    "count, 1-100000\n\n");
			return;
		}
	}
	status_sources(&cc->out, si->conf, (size_t)n, json);
}

/* Answer one command line into cc's output. */
static void
command(struct control_client *cc, char *line)
{
	struct status_info si;
	char	*cmd, *args = line, vis[CONTROL_LINE_MAX * 4 + 1];

	cc->ctl->info(cc->ctl->arg, &si);
	while ((cmd = strsep(&args, " \t")) != NULL && *cmd == '\0')
		;
	if (cmd == NULL || strcmp(cmd, "status") == 0) {
		while (args != NULL && (*args == ' ' || *args == '\t'))
			args++;
		if (args != NULL && strcmp(args, "json") == 0)
			status_json(&cc->out, &si);
		else if (args == NULL || *args == '\0')
			status_text(&cc->out, &si);
		else
			buf_printf(&cc->out, "error: \"status\" takes json or "
			    "nothing\n\n");
	} else if (strcmp(cmd, "sources") == 0)
		command_sources(cc, &si, args);
	else if (strcmp(cmd, "help") == 0)
		buf_printf(&cc->out, "%s", help_text);
	else {
		strvis(vis, cmd, VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_OCTAL | VIS_DQ);
		buf_printf(&cc->out, "error: unknown command \"%s\"; try help\n\n",
		    vis);
	}
	cc->answered = true;
}

/* Send what cc has to send, without waiting; -1 on an error, 1 when all is sent. */
static int
client_flush(struct control_client *cc)
{
	ssize_t	 n;

	while (cc->outoff < cc->out.len) {
		n = send(cc->fd, cc->out.p + cc->outoff, cc->out.len - cc->outoff,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			client_poll(cc, true);
			return 0;
		}
		cc->outoff += (size_t)n;
		cc->deadline = util_now_ms() + CONTROL_TIMEOUT_MS;
	}
	buf_free(&cc->out);
	cc->outoff = 0;
	client_poll(cc, false);
	return 1;
}

/* Take what cc sent, as long as there is room; -1 on an error. */
static int
client_read(struct control_client *cc)
{
	ssize_t	 n;

	while (!cc->eof && cc->inlen < sizeof(cc->in) - 1) {
		n = recv(cc->fd, cc->in + cc->inlen, sizeof(cc->in) - 1 - cc->inlen,
		    MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == -1)
			return -1;
		if (n == 0)
			cc->eof = true;
		cc->inlen += (size_t)n;
		cc->in[cc->inlen] = '\0';
		cc->deadline = util_now_ms() + CONTROL_TIMEOUT_MS;
	}
	return 0;
}

/*
 * Answer the next command cc has sent, if any; false when there is none
 * to answer now.  A client that sent nothing and closed its side gets
 * the status, as clients of older versions expect.
 */
static bool
client_next(struct control_client *cc)
{
	char	*nl;

	if ((nl = strchr(cc->in, '\n')) != NULL) {
		*nl = '\0';
		if (nl > cc->in && nl[-1] == '\r')
			nl[-1] = '\0';
		command(cc, cc->in);
		cc->inlen -= (size_t)(nl + 1 - cc->in);
		memmove(cc->in, nl + 1, cc->inlen + 1);
		return true;
	}
	if (cc->inlen == sizeof(cc->in) - 1) {
		buf_printf(&cc->out, "error: a command is at most %d bytes\n\n",
		    CONTROL_LINE_MAX);
		cc->inlen = 0;
		cc->in[0] = '\0';
		cc->eof = true;
		cc->answered = true;
		return true;
	}
	if (cc->eof && (cc->inlen > 0 || !cc->answered)) {
		command(cc, cc->in);
		cc->inlen = 0;
		cc->in[0] = '\0';
		return true;
	}
	return false;
}

/*
 * One command at a time: the next is read only once the answer to the
 * one before has gone, so a client that never reads holds at most one
 * answer here; its later commands wait in its own socket.
 */
void
control_client_event(struct control_client *cc, uint32_t events)
{
	int	 sent;

	(void)events;
	for (;;) {
		if ((sent = client_flush(cc)) == -1)
			break;
		if (sent == 0)
			return;
		if (client_read(cc) == -1)
			break;
		if (!client_next(cc)) {
			if (!cc->eof)
				return;
			break;		/* said all, and all answered */
		}
	}
	client_close(cc);
}

void
control_accept(struct control *ctl)
{
	struct control_client *cc;
	struct epoll_event ev = { .events = EPOLLIN };
	size_t	 i;
	int	 fd, k;

	for (k = 0; k < CONTROL_CLIENTS; k++) {
		fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1)
			return;
		for (i = 0; i < CONTROL_CLIENTS && ctl->clients[i] != NULL; i++)
			;
		/* Too many at once: this one is closed, the others go on. */
		if (i == CONTROL_CLIENTS || (cc = calloc(1, sizeof(*cc))) == NULL) {
			close(fd);
			continue;
		}
		cc->kind = SRC_CONTROL_CLIENT;
		cc->fd = fd;
		cc->ctl = ctl;
		cc->deadline = util_now_ms() + CONTROL_TIMEOUT_MS;
		ev.data.ptr = cc;
		if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			close(fd);
			free(cc);
			continue;
		}
		ctl->clients[i] = cc;
	}
}

int
control_timeout(const struct control *ctl, uint64_t now)
{
	uint64_t until = 0;
	size_t	 i;

	for (i = 0; i < CONTROL_CLIENTS; i++)
		if (ctl->clients[i] != NULL &&
		    (until == 0 || ctl->clients[i]->deadline < until))
			until = ctl->clients[i]->deadline;
	if (until == 0)
		return -1;
	return until <= now ? 0 : (int)(until - now);
}

void
control_tick(struct control *ctl, uint64_t now)
{
	size_t	 i;

	/* A client that neither asks nor reads for so long is dropped. */
	for (i = 0; i < CONTROL_CLIENTS; i++)
		if (ctl->clients[i] != NULL && now >= ctl->clients[i]->deadline)
			client_close(ctl->clients[i]);
}
