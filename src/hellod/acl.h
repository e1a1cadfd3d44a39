/* Access lists: IPv4 and IPv6 prefixes as sorted disjoint ranges, looked up in O(log n). */
#ifndef HELLOD_ACL_H
#define HELLOD_ACL_H

#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every address is kept as 128 bits, an IPv4 one as its IPv4-mapped IPv6
 * form (::ffff:a.b.c.d), so that a client reaching a dual-stack socket
 * as ::ffff:10.1.2.3 matches the rule 10.0.0.0/8.
 */
struct u128 {
	uint64_t	 hi, lo;
};

/* The addresses of one prefix: first to last, inclusive. */
struct acl_range {
	struct u128	 first, last;
};

/* A list of prefixes: add them, finish it once, then look addresses up. */
struct acl {
	struct acl_range *v;
	size_t		 n;
};

/*
 * Parse "10.0.0.0/8", "192.0.2.1", "2001:db8::/32" or "::1" into *out.
 * Bits set past the prefix length are an error (10.1.2.3/8 is a typo
 * for 10.0.0.0/8 as often as not).  Returns 0, or -1 with a static
 * message in *err.
 */
int	acl_parse_prefix(const char *text, struct acl_range *out, const char **err);

/* Add a range; 0, or -1 when out of memory. */
int	acl_add(struct acl *acl, const struct acl_range *r);

/* Sort the ranges and drop those inside others: O(n log n), once, before lookups. */
void	acl_finish(struct acl *acl);

/* True when sa's address (IPv4, IPv6, IPv4-mapped) is in one of the prefixes. */
bool	acl_match(const struct acl *acl, const struct sockaddr *sa);

void	acl_free(struct acl *acl);

#endif
