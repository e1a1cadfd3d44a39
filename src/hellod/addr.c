/* Addresses and ports: parsing config values, formatting for logs, comparing. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "siphash.h"

/* The longest text addr_parse() looks at: an IPv6 address, a scope, brackets. */
#define ADDR_INPUT_MAX	(INET6_ADDRSTRLEN + 64)

static int
parse_v6(const char *s, struct bind_addr *out)
{
	struct addrinfo hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET6;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(s, NULL, &hints, &res) != 0)
		return -1;
	if (res->ai_addrlen > sizeof(out->ss)) {
		freeaddrinfo(res);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/*
 * IPv4 goes through inet_pton() rather than getaddrinfo(), because the
 * latter uses inet_aton() and so takes "1.2.3", "127.1" and "0x7f.1" as
 * addresses, which in a config file are far more likely typos.  IPv6 goes
 * through getaddrinfo() because it knows scope ids ("fe80::1%eth0").
 */
int
addr_parse(const char *s, uint16_t port, struct bind_addr *out, const char **err)
{
	char buf[ADDR_INPUT_MAX];
	struct sockaddr_in *sin;
	size_t n;

	*err = "not a numeric IPv4 or IPv6 address";
	n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return -1;
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		if (strchr(buf, ':') == NULL || parse_v6(buf, out) == -1)
			return -1;
	} else if (strchr(s, ':') != NULL) {
		if (parse_v6(s, out) == -1)
			return -1;
	} else {
		memset(out, 0, sizeof(*out));
		sin = (struct sockaddr_in *)&out->ss;
		if (inet_pton(AF_INET, s, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		out->len = sizeof(*sin);
	}
	if (out->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&out->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&out->ss)->sin6_port = htons(port);
	*err = NULL;
	return 0;
}

/* The port of a /etc/services name for proto, or -1. */
static int
service_port(const char *name, const char *proto)
{
	struct servent *se;

	if ((se = getservbyname(name, proto)) == NULL)
		return -1;
	return ntohs((uint16_t)se->s_port);
}

/*
 * A protocols of 0 accepts a name known for any protocol; the caller uses
 * that when the service's protocol is not known (yet).
 */
int
addr_parse_port(const char *s, int protocols, uint16_t *port, const char **err)
{
	const char *errstr;
	long long n;
	int any, tcp = -1, udp = -1;

	*err = "must be 1-65535 or a service name";
	if (*s == '\0')
		return -1;
	if (strspn(s, "0123456789") == strlen(s)) {
		n = strtonum(s, 1, 65535, &errstr);
		if (errstr != NULL)
			return -1;
		*port = (uint16_t)n;
		*err = NULL;
		return 0;
	}
	if ((any = service_port(s, NULL)) == -1)
		return -1;
	if ((protocols & PROTO_TCP) && (tcp = service_port(s, "tcp")) == -1) {
		*err = "not a service name for tcp in /etc/services";
		return -1;
	}
	if ((protocols & PROTO_UDP) && (udp = service_port(s, "udp")) == -1) {
		*err = "not a service name for udp in /etc/services";
		return -1;
	}
	if (tcp != -1 && udp != -1 && tcp != udp) {
		*err = "names different ports for tcp and udp in /etc/services";
		return -1;
	}
	*port = (uint16_t)(tcp != -1 ? tcp : udp != -1 ? udp : any);
	*err = NULL;
	return 0;
}

/* The wildcard address of family with the given port. */
void
addr_wildcard(int family, uint16_t port, struct bind_addr *out)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;

	memset(out, 0, sizeof(*out));
	if (family == AF_INET6) {
		sin6 = (struct sockaddr_in6 *)&out->ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(port);
		out->len = sizeof(*sin6);
	} else {
		sin = (struct sockaddr_in *)&out->ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons(port);
		out->len = sizeof(*sin);
	}
}

/* True when sa is 0.0.0.0 or ::. */
bool
addr_is_wildcard(const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
	return false;
}

/* Port of sa in host order (0 for a family without ports). */
uint16_t
addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

/* Same family and address (with the scope id for IPv6), ports aside. */
static bool
same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in6 *a6, *b6;

	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)a;
		b6 = (const struct sockaddr_in6 *)b;
		return IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr) &&
		    a6->sin6_scope_id == b6->sin6_scope_id;
	}
	return false;
}

/* True when a and b are the same family, address and port. */
bool
addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	return same_host(a, b) && addr_port(a) == addr_port(b);
}

/*
 * IPv4-mapped IPv6 addresses need no special care: every IPv6 socket is
 * IPV6_V6ONLY, so "::ffff:127.0.0.1" and "127.0.0.1" can both be bound.
 */
bool
addr_conflict(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family || addr_port(a) != addr_port(b))
		return false;
	return addr_is_wildcard(a) || addr_is_wildcard(b) || same_host(a, b);
}

/*
 * A total order of socket addresses: family, port, then the address (a
 * wildcard first, its bytes being all zero) and the IPv6 scope.  Two
 * addresses compare equal exactly when addr_equal() says so.
 */
int
addr_cmp(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in6 *a6, *b6;
	uint16_t pa, pb;
	int	 c;

	if (a->sa_family != b->sa_family)
		return a->sa_family < b->sa_family ? -1 : 1;
	if ((pa = addr_port(a)) != (pb = addr_port(b)))
		return pa < pb ? -1 : 1;
	if (a->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr, 4);
	if (a->sa_family != AF_INET6)
		return 0;
	a6 = (const struct sockaddr_in6 *)a;
	b6 = (const struct sockaddr_in6 *)b;
	if ((c = memcmp(&a6->sin6_addr, &b6->sin6_addr, 16)) != 0)
		return c;
	if (a6->sin6_scope_id != b6->sin6_scope_id)
		return a6->sin6_scope_id < b6->sin6_scope_id ? -1 : 1;
	return 0;
}

/*
 * The address alone ("127.0.0.1", "fe80::1%lo"), or "?" for what is not
 * IP.  inet_ntop(), not getnameinfo(): each child formats its peer, and
 * the smaller the code it runs, the fewer pages it faults in.
 */
char *
addr_format_host(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	char	 ifname[IF_NAMESIZE];
	size_t	 n;

	if (sa->sa_family == AF_INET) {
		if (inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, (socklen_t)len) == NULL)
			strlcpy(buf, "?", len);
		return buf;
	}
	if (sa->sa_family != AF_INET6 ||
	    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)len) == NULL) {
		strlcpy(buf, "?", len);
		return buf;
	}
	if (sin6->sin6_scope_id != 0 && (n = strlen(buf)) < len) {
		if (if_indextoname(sin6->sin6_scope_id, ifname) != NULL)
			snprintf(buf + n, len - n, "%%%s", ifname);
		else
			snprintf(buf + n, len - n, "%%%u", sin6->sin6_scope_id);
	}
	return buf;
}

/* "127.0.0.1:9999" or "[::1]:9999" into buf; returns buf. */
char *
addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[ADDR_STRLEN];

	addr_format_host(sa, host, sizeof(host));
	if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, addr_port(sa));
	else
		snprintf(buf, len, "%s:%u", host, addr_port(sa));
	return buf;
}

/*
 * The key of the peer hash, drawn once per process.  Children are forked
 * from the parent after it was drawn (the parent formats peers too), so
 * one client hashes to the same value in every log line of a run.
 */
static uint8_t	 peer_key[16];
static bool	 peer_keyed;

/*
 * Draw the key of log_peer = hash.  The parent calls this before its
 * first fork: a key drawn in a child would die with it, and every
 * connection would hash the same peer differently.
 */
void
addr_init(void)
{
	if (!peer_keyed) {
		/*
		 * The kernel's randomness, not libbsd's arc4random: that one
		 * registers a fork handler, a page of code and one of data
		 * for every child to fault in.
		 */
		if (getentropy(peer_key, sizeof(peer_key)) == -1)
			arc4random_buf(peer_key, sizeof(peer_key));
		peer_keyed = true;
	}
}

/* A keyed hash of len bytes, with the process's key (addr_init). */
uint64_t
addr_keyed_hash(const void *in, size_t len)
{
	addr_init();
	return siphash24(peer_key, in, len);
}

static void
format_hash(const struct sockaddr *sa, char *buf, size_t len)
{
	uint8_t in[1 + sizeof(struct in6_addr)];
	size_t n;

	addr_init();
	in[0] = (uint8_t)sa->sa_family;
	if (sa->sa_family == AF_INET6) {
		memcpy(in + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		n = 17;
	} else {
		memcpy(in + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		n = 5;
	}
	snprintf(buf, len, "h:%08x", (unsigned)(siphash24(peer_key, in, n) & 0xffffffffU));
}

/*
 * IPv4 addresses are cut to their /24, IPv6 addresses to their /64: the
 * network one site or one customer usually has.
 */
static void
format_prefix(const struct sockaddr *sa, char *buf, size_t len)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;
	const struct in6_addr *a6;
	char host[ADDR_STRLEN];

	if (sa->sa_family == AF_INET6) {
		a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (!IN6_IS_ADDR_V4MAPPED(a6)) {
			memset(&sin6, 0, sizeof(sin6));
			sin6.sin6_family = AF_INET6;
			memcpy(&sin6.sin6_addr, a6, 8);
			addr_format_host((struct sockaddr *)&sin6, host, sizeof(host));
			snprintf(buf, len, "%s/64", host);
			return;
		}
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, &a6->s6_addr[12], 4);
	} else
		memcpy(&sin, sa, sizeof(sin));
	sin.sin_addr.s_addr &= htonl(0xffffff00U);
	sin.sin_port = 0;
	addr_format_host((struct sockaddr *)&sin, host, sizeof(host));
	snprintf(buf, len, "%s/24", host);
}

/*
 * A peer as log_peer asks: full "1.2.3.4:5678"; prefix "1.2.3.0/24" or
 * "2001:db8:1:2::/64" (IPv4 /24, IPv6 /64, no port; an IPv4-mapped IPv6
 * peer counts as IPv4); hash "h:1a2b3c4d", the low 32 bits of SipHash-2-4
 * of the address under a per-process random key (no port); none "-".
 */
char *
addr_format_peer(const struct sockaddr *sa, enum log_peer mode, char *buf, size_t len)
{
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6 &&
	    mode != LOG_PEER_NONE) {
		strlcpy(buf, "?", len);
		return buf;
	}
	switch (mode) {
	case LOG_PEER_FULL:
		addr_format(sa, buf, len);
		break;
	case LOG_PEER_PREFIX:
		format_prefix(sa, buf, len);
		break;
	case LOG_PEER_HASH:
		format_hash(sa, buf, len);
		break;
	case LOG_PEER_NONE:
	default:
		strlcpy(buf, "-", len);
		break;
	}
	return buf;
}

const char *
addr_proto_name(int protocols)
{
	if (protocols == (PROTO_TCP | PROTO_UDP))
		return "tcp,udp";
	return protocols == PROTO_TCP ? "tcp" : "udp";
}
