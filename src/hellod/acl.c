/* Access lists: IPv4 and IPv6 prefixes as sorted disjoint ranges, looked up in O(log n). */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "util.h"

static int
u128_cmp(const struct u128 *a, const struct u128 *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static struct u128
u128_from(const uint8_t b[16])
{
	struct u128 x = { 0, 0 };
	int	 i;

	for (i = 0; i < 8; i++)
		x.hi = x.hi << 8 | b[i];
	for (i = 8; i < 16; i++)
		x.lo = x.lo << 8 | b[i];
	return x;
}

/* The host bits of a /bits prefix: the low 128 - bits bits set. */
static struct u128
host_mask(unsigned bits)
{
	struct u128 m;

	if (bits >= 128)
		return (struct u128){ 0, 0 };
	if (bits >= 64) {
		m.hi = 0;
		m.lo = bits == 64 ? UINT64_MAX : (UINT64_MAX >> (bits - 64));
		return m;
	}
	m.hi = bits == 0 ? UINT64_MAX : (UINT64_MAX >> bits);
	m.lo = UINT64_MAX;
	return m;
}

/* The 16 bytes of an address of sa (IPv4 mapped); false for another family. */
static bool
sa_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	if (sa->sa_family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	return false;
}

int
acl_parse_prefix(const char *text, struct acl_range *out, const char **err)
{
	char	 host[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/'), *e = NULL;
	uint8_t	 b[16];
	unsigned max, bits;
	size_t	 n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	struct u128 m;

	*err = "not an IPv4 or IPv6 address or prefix (such as 10.0.0.0/8)";
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	memset(b, 0, 10);
	b[10] = b[11] = 0xff;
	if (inet_pton(AF_INET, host, b + 12) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, host, b) == 1)
		max = 128;
	else
		return -1;
	bits = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9' ||
		    strspn(slash + 1, "0123456789") != strlen(slash + 1)) {
			*err = "the prefix length must be a number";
			return -1;
		}
		bits = (unsigned)strtonum(slash + 1, 0, max, &e);
		if (e != NULL) {
			*err = max == 32 ? "the prefix length must be 0-32" :
			    "the prefix length must be 0-128";
			return -1;
		}
	}
	/* An IPv4 /bits is a /(96 + bits) of the mapped form. */
	m = host_mask(bits + 128 - max);
	out->first = u128_from(b);
	if ((out->first.hi & m.hi) != 0 || (out->first.lo & m.lo) != 0) {
		*err = "bits are set after the prefix length (write the network's "
		    "first address)";
		return -1;
	}
	out->last.hi = out->first.hi | m.hi;
	out->last.lo = out->first.lo | m.lo;
	*err = NULL;
	return 0;
}

int
acl_add(struct acl *acl, const struct acl_range *r)
{
	struct acl_range *v;

	if ((v = util_grow(acl->v, acl->n, sizeof(*v))) == NULL)
		return -1;
	acl->v = v;
	acl->v[acl->n++] = *r;
	return 0;
}

static int
range_cmp(const void *x, const void *y)
{
	const struct acl_range *a = x, *b = y;
	int	 c;

	if ((c = u128_cmp(&a->first, &b->first)) != 0)
		return c;
	/* The wider of two prefixes starting alike first. */
	return -u128_cmp(&a->last, &b->last);
}

/*
 * Two prefixes are either disjoint or one holds the other: once sorted
 * by first address (the wider first), dropping every range inside the
 * one before leaves disjoint ranges in order, for a binary search.
 */
void
acl_finish(struct acl *acl)
{
	size_t	 i, n = 0;

	if (acl->n == 0)
		return;
	qsort(acl->v, acl->n, sizeof(*acl->v), range_cmp);
	for (i = 1; i < acl->n; i++)
		if (u128_cmp(&acl->v[i].first, &acl->v[n].last) > 0)
			acl->v[++n] = acl->v[i];
	acl->n = n + 1;
}

bool
acl_match(const struct acl *acl, const struct sockaddr *sa)
{
	uint8_t	 b[16];
	struct u128 x;
	size_t	 lo = 0, hi = acl->n, mid;

	if (acl->n == 0 || !sa_bytes(sa, b))
		return false;
	x = u128_from(b);
	/* The last range that starts at or before x. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (u128_cmp(&acl->v[mid].first, &x) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && u128_cmp(&x, &acl->v[lo - 1].last) <= 0;
}

void
acl_free(struct acl *acl)
{
	free(acl->v);
	acl->v = NULL;
	acl->n = 0;
}
