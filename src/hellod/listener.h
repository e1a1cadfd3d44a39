/* The parent's listening sockets: one per service, protocol and address; kept across reloads. */
#ifndef HELLOD_LISTENER_H
#define HELLOD_LISTENER_H

#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

struct config;
struct service;
struct listener;

struct listener_set {
	struct listener	**v;
	size_t		 n;
};

/* What an epoll event points at: every source starts with its kind. */
enum source_kind {
	SRC_SIGNAL, SRC_CONTROL, SRC_CONTROL_CLIENT, SRC_REPORT, SRC_TCP, SRC_UDP,
	SRC_PROXY
};

struct listener {
	enum source_kind kind;		/* SRC_TCP or SRC_UDP: keep first */
	int		 fd;		/* -1 while pending */
	int		 proto;		/* PROTO_TCP or PROTO_UDP */
	struct bind_addr addr;
	struct service	*svc;		/* in the config now in force */
	bool		 polled;	/* registered with epoll */
	bool		 activated;	/* passed by the service manager (LISTEN_FDS) */
	bool		 dualstack;	/* an IPv6 wildcard that takes IPv4 too */
	unsigned long	 id;		/* unique in the process's life */
	pid_t		 busy;		/* UDP "wait": the child serving it, or 0 */
	struct {			/* and the datagram that woke it */
		struct sockaddr_storage from;
		size_t	 len;
		uint64_t sum;
	}		 woke;
	/* Scratch of a build, meaningless outside it. */
	bool		 pending;	/* to be opened once the retired are closed */
	bool		 wildcard;	/* a service's wildcard, not a bind address */
	struct service	*next_svc;
	struct listener_set *from;	/* the set it was taken from, or NULL */
	size_t		 from_pos;	/* and its place there */
};

/*
 * A listener is made by a build, or adopted (LISTEN_FDS), in the daemon's
 * own pages: never in a child, which has no need of one (nor must it read
 * one: copy what it needs before the fork).  listener_free() gives one
 * back, its socket closed already.
 */
void	listener_free(struct listener *l);

/*
 * A reload builds the new listeners in two steps, so that a reload that
 * fails leaves every socket as it was:
 *
 *   listener_retire     old sockets no service keeps that overlap a new
 *                       address (127.0.0.1:7 when a service moves to
 *                       every address on port 7) are set aside, still open;
 *   listener_build      every other socket is taken over or opened; the
 *                       overlapping addresses are left pending.  On
 *                       failure, nothing has changed: listener_unretire.
 *   listener_build_finish  only now are the set-aside sockets closed (by
 *                       the caller) and the pending ones opened; then the
 *                       listeners point at the new config.  On failure:
 *                       listener_build_undo, then listener_restore opens
 *                       the set-aside sockets again.
 *
 * Between the close and the open of an overlapping address, a connection
 * to it is refused: such a move is not hitless, and hellod(8) says so.
 */

/*
 * Build the listeners conf needs into *out: sockets of old, or of pool
 * (passed by the service manager), whose protocol and address are what a
 * service asks for are moved over (same struct, same descriptor); the
 * others are opened, except those overlapping a socket of retired (may
 * be NULL), which are left pending; listener_build_finish completes it.
 * Returns 0, or -1 after logging each
 * socket that could not be opened; then *out is empty and old and pool
 * are as they were.  old and pool may be NULL.  Lookups are indexed, so
 * a reload costs O(n log n) in the number of sockets.
 */
int	listener_build(struct config *conf, struct listener_set *old,
	    struct listener_set *pool, const struct listener_set *retired,
	    struct listener_set *out);

/*
 * Open the pending listeners of out, trying an address in use again for
 * up to patience_ms: a child forked a moment ago may still hold a copy of
 * a retired socket, until its closefrom().  Then point every listener of
 * out at its service in the new config.  Returns 0, or -1 after logging
 * the address that could not be opened (nothing pointed anywhere new).
 */
int	listener_build_finish(struct listener_set *out, unsigned patience_ms);

/* Undo a build: give back what it took, close what it opened, empty out. */
void	listener_build_undo(struct listener_set *out);

/*
 * Move out of old, into retired, the listeners that no service of conf
 * keeps but that overlap an address conf asks for, so that the build can
 * bind it later.  Passed sockets are never retired.  They stay open and
 * polled.  Returns 0, or -1 when out of memory (nothing retired).
 */
int	listener_retire(const struct config *conf, struct listener_set *old,
	    struct listener_set *retired);

/* Put the retired listeners, still open, back where they were taken from. */
void	listener_unretire(struct listener_set *retired);

/*
 * After the retired listeners were closed and the pending ones could not
 * be opened: open the retired ones again and put them back.  Returns how
 * many could not be opened (each logged, freed, its place in the old set
 * left empty: call listener_compact on it).
 */
unsigned listener_restore(struct listener_set *retired, unsigned patience_ms);

/* Close the holes of set. */
void	listener_compact(struct listener_set *set);

/*
 * For hellod -t: try to bind, without listening, every address the enabled
 * services of conf would listen on, and write a warning line to out for
 * each that cannot be had now (in use by another program, or by this
 * daemon running already).  Returns how many.
 */
unsigned listener_probe(const struct config *conf, FILE *out);

/*
 * Put the sockets the service manager passed (sd_listen_fds) into pool,
 * unused until listener_build adopts them.  Returns how many; 0 without
 * socket activation or without libsystemd.
 */
size_t	listener_passed(struct listener_set *pool);

/*
 * Close and free every listener left in set (the ones a reload did not
 * keep), except that passed sockets go back to pool when it is not NULL:
 * only the service manager may close those for good.
 */
void	listener_close_all(struct listener_set *set, struct listener_set *pool);

void	listener_set_free(struct listener_set *set);

/* The listener of set with this id, or NULL (a reload closed it). */
struct listener *listener_by_id(const struct listener_set *set, unsigned long id);

/*
 * True when l's events fork a child: a TCP listener, or a UDP one whose
 * handler serves the socket in a child of its own (inetd's "wait").
 */
bool	listener_forks(const struct listener *l);

#endif
