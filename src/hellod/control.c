/* The control socket: a UNIX stream socket that answers each connection with the status. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "log.h"
#include "service.h"

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
control_open(struct control *ctl, const char *path)
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

void
control_close(struct control *ctl)
{
	if (ctl->fd != -1) {
		close(ctl->fd);
		if (ctl->path != NULL)
			unlink(ctl->path);
	}
	ctl->fd = -1;
	free(ctl->path);
	ctl->path = NULL;
}

/*
 * The status text: a first line "hellod VERSION pid N children N", then a
 * line per service: "NAME PROTOCOLS active=N accepted=N datagrams=N
 * refused=N refused_guard=N refused_fork=N refused_rate=N".  Returns its length (it may
 * have been cut to len).
 */
static size_t
control_status(const struct config *conf, unsigned children, char *buf,
    size_t len)
{
	char	 counters[512];
	size_t	 i, used;
	int	 n;

	n = snprintf(buf, len, "hellod %s pid %ld children %u\n",
	    PACKAGE_VERSION, (long)getpid(), children);
	used = n > 0 ? (size_t)n : 0;
	for (i = 0; i < conf->nservices && used < len; i++) {
		const struct service *svc = &conf->services[i];

		if (!svc->enabled || svc->state == NULL)
			continue;
		n = snprintf(buf + used, len - used, "%s %s %s\n", svc->name,
		    addr_proto_name(svc->protocols),
		    service_format(svc, counters, sizeof(counters)));
		if (n > 0)
			used += (size_t)n;
	}
	return used < len ? used : len - 1;
}

void
control_serve(struct control *ctl, const struct config *conf,
    unsigned children)
{
	size_t	 size = 256 + conf->nservices * 256, len;
	char	*buf;
	int	 fd, i;

	for (i = 0; i < 16; i++) {
		fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1)
			return;
		if ((buf = malloc(size)) == NULL) {
			close(fd);
			return;
		}
		len = control_status(conf, children, buf, size);
		/* A reader too slow for one small write gets what fitted. */
		(void)send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		free(buf);
		close(fd);
	}
}
