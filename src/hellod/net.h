/* Sockets: create, bind and listen; they return -1 and an error text, and never log. */
#ifndef HELLOD_NET_H
#define HELLOD_NET_H

#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>

#define NET_ERRLEN	256

/*
 * A non-blocking, close-on-exec socket of protocol proto (PROTO_TCP or
 * PROTO_UDP) bound to sa, listening for TCP, with SO_REUSEADDR, IPv6 only
 * for IPv6 addresses, and for UDP the options that tell on which address a
 * datagram arrived.  Returns the descriptor, or -1 with err filled and
 * errno kept.
 */
int	net_listen(int proto, const struct sockaddr *sa, socklen_t salen,
	    bool high, char *err, size_t errlen);

/*
 * Where net_listen() puts its sockets when asked (high) and the limit on
 * descriptors allows: at NET_FD_HIGH or above, out of the way of
 * connections and pipes, so that a child can keep what lies below and no
 * listener (util_fork_files).  Asked for a configuration of
 * NET_HIGH_LISTENERS sockets or more: below that, a table of descriptors
 * that large would cost every fork more (copying it) and every child more
 * (closing what it inherits walks all of it) than it saves.
 */
#define NET_FD_HIGH		1024
#define NET_HIGH_LISTENERS	64

/*
 * Could net_listen bind sa now?  A socket is bound the same way and closed
 * again.  Returns 0, or -1 with err filled and errno kept (EADDRINUSE:
 * another socket has it, perhaps a running hellod's own).
 */
int	net_probe(int proto, const struct sockaddr *sa, socklen_t salen,
	    char *err, size_t errlen);

/*
 * Prepare a socket someone else bound (socket activation) as net_listen
 * would have: non-blocking, close-on-exec, and for UDP the options that
 * tell where a datagram arrived.  Returns 0, or -1 with err filled.
 */
int	net_adopt(int fd, int proto, const struct sockaddr *sa, char *err,
	    size_t errlen);

/* Set or clear O_NONBLOCK; returns 0 or -1. */
int	net_set_nonblock(int fd, int on);

/* True when sa's address is one of this host's (loopback, or bindable). */
bool	net_is_local(const struct sockaddr *sa);


#endif
