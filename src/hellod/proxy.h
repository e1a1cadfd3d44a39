/* The PROXY protocol header of a load balancer, versions 1 and 2: a parser of bytes, no I/O. */
#ifndef HELLOD_PROXY_H
#define HELLOD_PROXY_H

#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>

/* The versions a service accepts (proxy_protocol): a set of these. */
#define PROXY_V1	0x1
#define PROXY_V2	0x2

/* The longest v1 line, "PROXY ... \r\n" included. */
#define PROXY_V1_MAX	107
/*
 * The longest v2 header taken, TLVs included.  The protocol allows 16 +
 * 65535 bytes; balancers send 16 + 12 or 36 and a few small TLVs.
 */
#define PROXY_V2_MAX	1024
/* Enough to hold any header proxy_parse() can accept. */
#define PROXY_HDR_MAX	PROXY_V2_MAX

enum proxy_result {
	PROXY_BAD = -1,		/* not a header this service takes: *why says how */
	PROXY_MORE = 0,		/* a valid beginning: wait for more bytes */
	PROXY_OK = 1,		/* a whole header, described in *h */
};

struct proxy_hdr {
	size_t		 len;	/* the header's bytes, to consume before the payload */
	int		 version; /* 1 or 2 */
	/*
	 * v1 UNKNOWN, v2 LOCAL (a balancer's health check) or v2 UNSPEC:
	 * no client addresses, the connection's own endpoints stand.
	 */
	bool		 local;
	struct sockaddr_storage src;	/* the client */
	struct sockaddr_storage dst;	/* the address it connected to */
	socklen_t	 srclen, dstlen;
};

/*
 * Parse the first len bytes received on a connection as a PROXY header
 * of one of the versions in accept (PROXY_V1 | PROXY_V2).  PROXY_MORE
 * when they are a valid beginning of one but not all of it; PROXY_OK with
 * *h filled; PROXY_BAD with *why set to a static token (one word, for a
 * log line: "signature", "version", "too_long", "no_crlf", ...).  Reads
 * nothing past buf + len, and never more than PROXY_HDR_MAX bytes.
 */
enum proxy_result proxy_parse(const void *buf, size_t len, unsigned accept,
    struct proxy_hdr *h, const char **why);

/*
 * Parse a proxy_protocol value: "v1", "v2" or both, separated by blanks,
 * into a set of PROXY_V1 and PROXY_V2; "no" (the default) is the empty
 * set.  Returns 0, or -1 with a static message in *err.
 */
int	proxy_parse_versions(const char *text, unsigned *out, const char **err);

/* "v1", "v2" or "v1 v2" for a set of versions. */
const char *proxy_versions_name(unsigned versions);

#endif
