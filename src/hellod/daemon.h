/* Becoming a daemon: the classic detach, and a pidfile path nobody else can aim. */
#ifndef HELLOD_DAEMON_H
#define HELLOD_DAEMON_H

/* fork, setsid, fork, chdir /, umask 022, stdio to /dev/null; 0 or -1. */
int	daemon_detach(void);

/*
 * Whether path is safe for libbsd's pidfile_open(): not a link nor
 * anything but a regular file, in a directory only root or this
 * process's user may write.  Returns 0, or -1 after logging why.
 */
int	daemon_pidfile_safe(const char *path);

#endif
