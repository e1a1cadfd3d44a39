/* Sorted sets of (protocol, socket address): exact and overlap lookups in O(log n). */
#ifndef HELLOD_ADDRSET_H
#define HELLOD_ADDRSET_H

#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct addrset_entry {
	int		 proto;		/* PROTO_TCP or PROTO_UDP */
	struct bind_addr addr;
	size_t		 tag;		/* the caller's: an index of its own */
};

/*
 * Entries are added in any order, then sorted once: by protocol, then
 * address (addr_cmp: family, port, the wildcard first), then tag.
 */
struct addrset {
	struct addrset_entry *v;
	size_t		 n;
	size_t		 cap;
};

/* Add an entry; 0, or -1 when out of memory. */
int	addrset_add(struct addrset *set, int proto, const struct bind_addr *a,
	    size_t tag);
void	addrset_sort(struct addrset *set);
void	addrset_free(struct addrset *set);

/* The first entry of proto and address sa (port included), or -1. */
ssize_t	addrset_find(const struct addrset *set, int proto,
	    const struct sockaddr *sa);

/*
 * The entries [*lo, *hi) of proto with sa's family and port: those whose
 * sockets could collide with one on sa.  A wildcard among them comes
 * first.
 */
void	addrset_group(const struct addrset *set, int proto,
	    const struct sockaddr *sa, size_t *lo, size_t *hi);

/* True when some entry's socket could not be bound beside one on sa (addr_conflict). */
bool	addrset_overlaps(const struct addrset *set, int proto,
	    const struct sockaddr *sa);

#endif
