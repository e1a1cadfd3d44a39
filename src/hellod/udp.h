/* UDP, answered inline by the parent: the source guard, and one listener's datagrams. */
#ifndef HELLOD_UDP_H
#define HELLOD_UDP_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stdbool.h>

struct listener;

/* Largest datagram read; a longer one is truncated (and so answered at most this long). */
#define UDP_MAX		65536

/*
 * True when a datagram from sa must not be answered: source port 0, below
 * 1024 or 2049 (another UDP service could be answering us: echo and
 * chargen would loop), or a broadcast, multicast or unspecified source.
 * *reason then says which, for the log.
 */
bool	udp_badinput(const struct sockaddr *sa, const char **reason);

/*
 * Learn the daemon's own UDP endpoints from the listeners in force
 * (after the start and every reload).
 */
struct listener_set;
void	udp_endpoints(const struct listener_set *ls);

/*
 * True when a datagram from sa comes from one of the daemon's own UDP
 * endpoints: answering it would have a service talk to itself, or two
 * services to each other, for ever.  Its port is looked up first, so
 * other datagrams cost one bit test.
 */
bool	udp_from_self(const struct sockaddr *sa);

/*
 * A UDP "wait" service (exec): peek at the datagrams waiting on l, drop
 * (and count) those the guard, allow and deny or the rates refuse, and
 * hand the socket to a child of the service's handler at the first that
 * may be served, unread.  Returns the child's pid, 0 when no datagram
 * was to be served, or -1 when the fork failed.
 */
pid_t	udp_wake(struct listener *l);

/*
 * After the child of a UDP "wait" service has exited: when the datagram
 * that woke it is still at the head of the queue (same source, length
 * and first bytes), drop it and return true: a program that failed
 * before reading it would otherwise be woken by it again, for ever.
 */
bool	udp_unwoken(struct listener *l);

/* Answer the datagrams waiting on l, at most a batch, then return. */
void	udp_serve(struct listener *l);

#endif
