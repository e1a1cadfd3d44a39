/* Sorted sets of (protocol, socket address): exact and overlap lookups in O(log n). */
#include <sys/types.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "addrset.h"

int
addrset_add(struct addrset *set, int proto, const struct bind_addr *a,
    size_t tag)
{
	struct addrset_entry *v;
	size_t	 cap;

	if (set->n == set->cap) {
		cap = set->cap == 0 ? 16 : set->cap * 2;
		if ((v = reallocarray(set->v, cap, sizeof(*v))) == NULL)
			return -1;
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n].proto = proto;
	set->v[set->n].addr = *a;
	set->v[set->n].tag = tag;
	set->n++;
	return 0;
}

static int
key_cmp(int proto, const struct sockaddr *sa, const struct addrset_entry *e)
{
	if (proto != e->proto)
		return proto < e->proto ? -1 : 1;
	return addr_cmp(sa, (const struct sockaddr *)&e->addr.ss);
}

static int
entry_cmp(const void *x, const void *y)
{
	const struct addrset_entry *a = x, *b = y;
	int	 c;

	if ((c = key_cmp(a->proto, (const struct sockaddr *)&a->addr.ss, b)) != 0)
		return c;
	return a->tag < b->tag ? -1 : a->tag > b->tag;
}

void
addrset_sort(struct addrset *set)
{
	if (set->n > 1)
		qsort(set->v, set->n, sizeof(*set->v), entry_cmp);
}

void
addrset_free(struct addrset *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* The first entry not below (proto, sa). */
static size_t
lower_bound(const struct addrset *set, int proto, const struct sockaddr *sa)
{
	size_t	 lo = 0, hi = set->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (key_cmp(proto, sa, &set->v[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

ssize_t
addrset_find(const struct addrset *set, int proto, const struct sockaddr *sa)
{
	size_t	 i = lower_bound(set, proto, sa);

	if (i < set->n && key_cmp(proto, sa, &set->v[i]) == 0)
		return (ssize_t)i;
	return -1;
}

static bool
same_group(const struct addrset_entry *e, int proto, const struct sockaddr *sa)
{
	const struct sockaddr *x = (const struct sockaddr *)&e->addr.ss;

	return e->proto == proto && x->sa_family == sa->sa_family &&
	    addr_port(x) == addr_port(sa);
}

void
addrset_group(const struct addrset *set, int proto, const struct sockaddr *sa,
    size_t *lo, size_t *hi)
{
	struct bind_addr wild;
	size_t	 l, h, mid;

	/* The wildcard is the least address of a family and port. */
	addr_wildcard(sa->sa_family, addr_port(sa), &wild);
	*lo = l = lower_bound(set, proto, (const struct sockaddr *)&wild.ss);
	/* The group is a run from lo: find its end the same way. */
	h = set->n;
	while (l < h) {
		mid = l + (h - l) / 2;
		if (same_group(&set->v[mid], proto, sa))
			l = mid + 1;
		else
			h = mid;
	}
	*hi = l;
}

bool
addrset_overlaps(const struct addrset *set, int proto, const struct sockaddr *sa)
{
	size_t	 lo, hi;

	addrset_group(set, proto, sa, &lo, &hi);
	if (lo == hi)
		return false;
	if (addr_is_wildcard(sa) ||
	    addr_is_wildcard((const struct sockaddr *)&set->v[lo].addr.ss))
		return true;
	return addrset_find(set, proto, sa) != -1;
}
