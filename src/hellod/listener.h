/* The parent's listening sockets: one per service, protocol and address; kept across reloads. */
#ifndef HELLOD_LISTENER_H
#define HELLOD_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct config;
struct service;
struct listener;

struct listener_set {
	struct listener	**v;
	size_t		 n;
};

/* What an epoll event points at: every source starts with its kind. */
enum source_kind { SRC_SIGNAL, SRC_CONTROL, SRC_TCP, SRC_UDP };

struct listener {
	enum source_kind kind;		/* SRC_TCP or SRC_UDP: keep first */
	int		 fd;
	int		 proto;		/* PROTO_TCP or PROTO_UDP */
	struct bind_addr addr;
	struct service	*svc;		/* in the config now in force */
	bool		 polled;	/* registered with epoll */
	bool		 activated;	/* passed by the service manager (LISTEN_FDS) */
	bool		 dualstack;	/* an IPv6 wildcard that takes IPv4 too */
	/* Scratch of listener_build(), meaningless outside it. */
	struct service	*next_svc;
	struct listener_set *from;	/* the set it was taken from, or NULL */
};


/*
 * Build the listeners conf needs: sockets of old, or of pool (passed by
 * the service manager), whose protocol and address are what a service
 * asks for are moved over (same struct, same descriptor); the others are
 * opened.  Nothing in old or pool changes unless it all succeeds.
 * Returns 0, or -1 after logging each socket that could not be opened;
 * then *out is empty and old and pool are as they were.  old and pool
 * may be NULL.  A bind that finds its address in use is tried again for
 * up to patience_ms: after listener_retire, a child forked a moment ago
 * may still hold a copy of the closed socket, until its closefrom().
 */
int	listener_build(struct config *conf, struct listener_set *old,
	    struct listener_set *pool, struct listener_set *out,
	    unsigned patience_ms);

/*
 * Before building the listeners of conf: move out of old, into retired,
 * the listeners that no service of conf keeps but that overlap an address
 * conf asks for (a service going from 127.0.0.1 to every address on the
 * same port, say), so that the build can bind it.  Passed sockets are
 * never retired.  The caller takes them out of the poll set and closes
 * them; their structs stay, for listener_restore.
 */
void	listener_retire(const struct config *conf, struct listener_set *old,
	    struct listener_set *retired);

/*
 * After a failed build: open the retired listeners again and put them back
 * where listener_retire took them from.  Returns how many could not be opened (each logged); those
 * are freed.
 */
unsigned listener_restore(struct listener_set *retired, unsigned patience_ms);

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

#endif
