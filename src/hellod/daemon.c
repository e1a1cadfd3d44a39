/* Becoming a daemon: the classic detach, and a pidfile path nobody else can aim. */
#include <sys/stat.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

/* The classic detach: fork, setsid, fork, chdir /, umask 022, stdio to /dev/null. */
int
daemon_detach(void)
{
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid != 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid != 0)
		_exit(0);
	if (chdir("/") == -1)
		return -1;
	umask(022);
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

/*
 * libbsd's pidfile_open() follows a symbolic link at the pidfile's path,
 * and truncates what it finds: a user who may write in the pidfile's
 * directory could make a daemon started as root overwrite any file.  So
 * the path must not be a link (nor anything but a regular file), and the
 * directory must be writable by nobody but root or this process's user,
 * as OpenSSH asks of its files; with that, nobody else can put a link
 * there between this check and the open.  Returns 0, or -1 after logging
 * why.
 */
int
daemon_pidfile_safe(const char *path)
{
	struct stat	 st;
	char		*copy, *dir;
	int		 rc = -1;

	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		log_errx("hellod: pidfile_error path=%s detail=%s", log_q(path),
		    S_ISLNK(st.st_mode) ? "symbolic_link" : "not_regular_file");
		return -1;
	}
	if ((copy = strdup(path)) == NULL) {
		log_err("hellod: pidfile_error path=%s", log_q(path));
		return -1;
	}
	dir = dirname(copy);
	if (stat(dir, &st) == -1)
		log_err("hellod: pidfile_error path=%s dir=%s", log_q(path),
		    log_q(dir));
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		log_errx("hellod: pidfile_error path=%s dir=%s detail=dir_owner "
		    "uid=%ld", log_q(path), log_q(dir), (long)st.st_uid);
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		log_errx("hellod: pidfile_error path=%s dir=%s detail=%s",
		    log_q(path), log_q(dir), st.st_mode & S_IWOTH ?
		    "dir_writable_by_others" : "dir_writable_by_group");
	else
		rc = 0;
	free(copy);
	return rc;
}
