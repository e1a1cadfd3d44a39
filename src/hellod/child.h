/* Everything after fork() in a child: set-up, the handler, the end line. */
#ifndef HELLOD_CHILD_H
#define HELLOD_CHILD_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stdint.h>

struct service;

/*
 * In the child of a new connection c (conn_prepare()d by the parent, on
 * the descriptor c->fd): reset signals, close every other descriptor, set
 * the process title, switch to the service's user and drop every
 * capability, log, run the handler, log the end, and _exit.  c->connnum
 * is the client's connections to the service now, this one too; a
 * connection from a balancer was conn_proxied().  Never returns.
 */
struct conn;
__attribute__((noreturn))
void	child_run(struct conn *c);

/*
 * In the parent, before its first fork and with SIGTERM blocked (it reads
 * it from a signalfd): what child_reset() sets up, made ready, so that a
 * child only reads it; and SIGTERM's handler, the children's, installed
 * here once (it never runs in the parent) for every child to inherit.
 */
void	child_prepare(void);

/*
 * The first steps of any child: the signals back to the child's (SIGTERM
 * caught, and blocked but while waiting), the parent's log socket
 * forgotten, fd moved to descriptor 3, the report socket to 4, and every
 * other one above closed.
 */
void	child_reset(int fd);

/*
 * The pipe children report to the parent on (its writing end), set by
 * the parent before its first fork; -1 for none.  A report is a record
 * small enough to be written at once (PIPE_BUF): the bytes of a child's
 * connection before it exits, or, with the journal, a line it logged.
 */
extern int child_report_fd;

/* REPORT_FILES: a child of util_fork_files() has descriptors of its own. */
enum report_type { REPORT_BYTES = 1, REPORT_LOG = 2, REPORT_FILES = 3 };

struct report_head {
	uint16_t	 len;		/* of the whole record, the line included */
	uint8_t		 type;
	uint8_t		 priority;	/* REPORT_LOG */
	int32_t		 pid;
	uint64_t	 bytes_in;	/* REPORT_BYTES */
	uint64_t	 bytes_out;
};

#endif
