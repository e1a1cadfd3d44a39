/* Everything after fork() in a child: set-up, the handler, the end line. */
#ifndef HELLOD_CHILD_H
#define HELLOD_CHILD_H

#include <sys/types.h>
#include <stdint.h>

struct service;

/*
 * In the child of a new connection cfd for svc: reset signals, close every
 * other descriptor, set the process title, switch to the service's user
 * and drop every capability, log, run the handler, log the end, and
 * _exit.  connnum is the client's connections to the service now, this
 * one too.  Never returns.
 */
__attribute__((noreturn))
void	child_run(struct service *svc, int cfd, unsigned long connnum);

/*
 * The first steps of any child: the signals back to the child's (SIGTERM
 * caught, and blocked but while waiting), the parent's log socket
 * forgotten, fd moved to descriptor 3, the report socket to 4, and every
 * other one above closed.
 */
void	child_reset(int fd);

/*
 * The socket children report their connection's bytes on (a datagram
 * socket the parent reads), set by the parent before its first fork; -1
 * for none.
 */
extern int child_report_fd;

/* What a child reports before it exits. */
struct child_report {
	pid_t		 pid;
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
};

#endif
