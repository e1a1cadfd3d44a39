/* The parent's table of live TCP children: who they serve, and reaping them. */
#ifndef HELLOD_CHILDREN_H
#define HELLOD_CHILDREN_H

#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>

struct svc_state;

/* Size the table for at most max live children; returns 0 or -1 (ENOMEM). */
int	children_init(unsigned max);
/* Grow the table when max_children rises on a reload; returns 0 or -1. */
int	children_resize(unsigned max);
void	children_free(void);

struct client;

/*
 * Record a new child of the service whose state is st (takes a
 * reference), and of the client cl (NULL for none).  A child that serves a UDP
 * socket on its own names the listener by its id (else 0): when it has
 * exited, children_reap hands the id to its callback.
 */
void	children_add(pid_t pid, struct svc_state *st, const struct client *cl,
	    unsigned long listener);

/*
 * Reap every child that has exited, without blocking; returns how many.
 * Once some are reaped, before they are forgotten, first(arg) is called
 * (when not NULL): what they wrote before they exited can still reach
 * them (children_report).  For a child that served a UDP socket,
 * done(arg, id) is called (done may be NULL).
 */
unsigned children_reap(void (*first)(void *arg),
	    void (*done)(void *arg, unsigned long listener), void *arg);

/* The bytes a child reports of its connection, added to its service's counters. */
void	children_report(pid_t pid, uint64_t bytes_in, uint64_t bytes_out);

/*
 * A child that shares the parent's descriptors until it has its own
 * (util_fork_files): the parent holds its connection's fd until
 * children_release(pid), when the child says it has its own, or until it
 * is reaped; then closes it.  A child not in the table: fd is closed now.
 */
void	children_hold(pid_t pid, int fd);
void	children_release(pid_t pid);

/* Children alive now. */
unsigned children_count(void);

/* Send sig to every live child. */
void	children_signal(int sig);

#endif
