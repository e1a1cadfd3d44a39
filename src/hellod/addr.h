/* Addresses and ports: parsing config values, formatting for logs, comparing. */
#ifndef HELLOD_ADDR_H
#define HELLOD_ADDR_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_TCP 0x1
#define PROTO_UDP 0x2

/* Longest text addr_format() writes: "[v6%scope]:65535" and its NUL. */
#define ADDR_STRLEN 80

/* How a peer address appears in logs and status (log_peer). */
enum log_peer { LOG_PEER_FULL, LOG_PEER_PREFIX, LOG_PEER_HASH, LOG_PEER_NONE };

/* One socket address of a service: family, address and port. */
struct bind_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/*
 * Parse a numeric IPv4 or IPv6 address ("127.0.0.1", "::1", "[::1]",
 * "fe80::1%lo") into out, with the given port.  Returns 0, or -1 with a
 * static message in *err ("not a numeric IPv4 or IPv6 address").
 */
int addr_parse(const char *s, uint16_t port, struct bind_addr *out, const char **err);

/*
 * Parse a port: a number 1-65535 or a name from /etc/services known for
 * every protocol in protocols (PROTO_TCP|PROTO_UDP).  Returns 0, or -1
 * with a static message in *err.
 */
int addr_parse_port(const char *s, int protocols, uint16_t *port, const char **err);

/* Prepare the module (the log_peer hash key); call before the first fork. */
void	addr_init(void);

/*
 * SipHash-2-4 of len bytes under the process's random key: for tables
 * indexed by client addresses, which a flood must not be able to aim at
 * one bucket.
 */
uint64_t addr_keyed_hash(const void *in, size_t len);

/* "tcp", "udp" or "tcp,udp" for PROTO_TCP and PROTO_UDP flags. */
const char *addr_proto_name(int protocols);

/* The wildcard address of family AF_INET or AF_INET6 with the given port. */
void addr_wildcard(int family, uint16_t port, struct bind_addr *out);

/* True when sa is 0.0.0.0 or ::. */
bool addr_is_wildcard(const struct sockaddr *sa);

/* Port of sa in host order. */
uint16_t addr_port(const struct sockaddr *sa);

/* True when a and b are the same family, address and port. */
bool addr_equal(const struct sockaddr *a, const struct sockaddr *b);

/*
 * True when two listening sockets on a and b could not both be bound:
 * same family and port, and the same address or one of them the wildcard.
 */
bool addr_conflict(const struct sockaddr *a, const struct sockaddr *b);

/*
 * A total order: family, port, address (the wildcard first), scope; 0
 * exactly when addr_equal().  For sorted tables of addresses.
 */
int addr_cmp(const struct sockaddr *a, const struct sockaddr *b);

/* "127.0.0.1:9999" or "[::1]:9999" into buf (ADDR_STRLEN); returns buf. */
char *addr_format(const struct sockaddr *sa, char *buf, size_t len);

/* The address alone, without the port ("127.0.0.1", "::1"); returns buf. */
char *addr_format_host(const struct sockaddr *sa, char *buf, size_t len);

/*
 * A peer address as log_peer asks: full "1.2.3.4:5678", prefix "1.2.3.0/24"
 * or "2001:db8:1:2::/64" (no port), hash "h:1a2b3c4d" (a keyed hash of the
 * address, stable for the life of the process, no port), none "-".
 * Returns buf.
 */
char *addr_format_peer(const struct sockaddr *sa, enum log_peer mode, char *buf, size_t len);

#endif
