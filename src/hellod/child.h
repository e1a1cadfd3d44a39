/* Everything after fork() in a TCP child: set-up, the handler, the end line. */
#ifndef HELLOD_CHILD_H
#define HELLOD_CHILD_H

struct service;

/*
 * In the child of a new connection cfd for svc: reset signals, close every
 * other descriptor, set the process title, switch to the service's user,
 * log, run the handler, log the end, and _exit.  Never returns.
 */
__attribute__((noreturn))
void	child_run(struct service *svc, int cfd);

#endif
