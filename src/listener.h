/* The parent's listening sockets: one per service, protocol and address; kept across reloads. */
#ifndef HELLOD_LISTENER_H
#define HELLOD_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct config;
struct service;

/* What an epoll event points at: every source starts with its kind. */
enum source_kind { SRC_SIGNAL, SRC_CONTROL, SRC_TCP, SRC_UDP };

struct listener {
	enum source_kind kind;		/* SRC_TCP or SRC_UDP: keep first */
	int		 fd;
	int		 proto;		/* PROTO_TCP or PROTO_UDP */
	struct bind_addr addr;
	struct service	*svc;		/* in the config now in force */
	bool		 polled;	/* registered with epoll */
	/* Scratch of listener_build(), meaningless outside it. */
	struct service	*next_svc;
	bool		 reused;
};

struct listener_set {
	struct listener	**v;
	size_t		 n;
};

/*
 * Build the listeners conf needs: sockets of old whose protocol and address
 * are unchanged are moved over (same struct, same descriptor), the others
 * are opened.  Nothing in old changes unless it all succeeds.  Returns 0,
 * or -1 after logging each socket that could not be opened; then *out is
 * empty and old is as it was.
 */
int	listener_build(struct config *conf, struct listener_set *old,
	    struct listener_set *out);

/* Close and free every listener left in set (the ones a reload did not keep). */
void	listener_close_all(struct listener_set *set);

void	listener_set_free(struct listener_set *set);

#endif
