/* UDP, answered inline by the parent: the source guard, and one listener's datagrams. */
#ifndef HELLOD_UDP_H
#define HELLOD_UDP_H

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

/* Answer the datagrams waiting on l, at most a batch, then return. */
void	udp_serve(struct listener *l);

#endif
