/* The PROXY protocol header of a load balancer, versions 1 and 2: a parser of bytes, no I/O. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>

#include "proxy.h"

/* v1: a line of text after this. */
static const char v1_magic[] = "PROXY ";
#define V1_MAGIC_LEN	(sizeof(v1_magic) - 1)

/* v2: twelve bytes no text protocol begins with, then four of header. */
static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
#define V2_HEAD		16
#define V2_LOCAL	0x0
#define V2_PROXY	0x1
#define V2_UNSPEC	0x0
#define V2_INET		0x1
#define V2_INET6	0x2
#define V2_UNIX		0x3
#define V2_STREAM	0x1
/* The address block of each family: two addresses, then two ports. */
#define V2_INET_LEN	(4 + 4 + 2 + 2)
#define V2_INET6_LEN	(16 + 16 + 2 + 2)
#define V2_UNIX_LEN	(108 + 108)

/* Whether b (len bytes) begins like magic (mlen bytes), as far as it goes. */
static bool
begins_like(const unsigned char *b, size_t len, const void *magic, size_t mlen)
{
	return memcmp(b, magic, len < mlen ? len : mlen) == 0;
}

static enum proxy_result
bad(const char **why, const char *token)
{
	*why = token;
	return PROXY_BAD;
}

/* A port in decimal: 0-65535, no sign, no leading zero. */
static int
v1_port(const char *s, in_port_t *out)
{
	unsigned long n = 0;
	size_t	 i, len = strlen(s);

	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (unsigned long)(s[i] - '0');
	}
	if (n > 65535)
		return -1;
	*out = htons((in_port_t)n);
	return 0;
}

/* One address and its port of a TCP4 or TCP6 line into ss. */
static int
v1_endpoint(int family, const char *host, const char *port,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		*sslen = sizeof(*sin);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		return v1_port(port, &sin->sin_port) == -1 ? -2 : 0;
	}
	*sslen = sizeof(*sin6);
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return -1;
	return v1_port(port, &sin6->sin6_port) == -1 ? -2 : 0;
}

/*
 * The words of a v1 line after "PROXY ": "TCP4 SRC DST SPORT DPORT",
 * the same with TCP6, or "UNKNOWN" and anything.  Exactly one space
 * between words, as the specification asks.
 */
static enum proxy_result
v1_words(char *line, struct proxy_hdr *h, const char **why)
{
	char	*w[6], *rest = line;
	int	 n = 0, family, rc;

	if (strncmp(line, "UNKNOWN", 7) == 0 && (line[7] == '\0' || line[7] == ' ')) {
		h->local = true;
		return PROXY_OK;
	}
	while (n < 6 && rest != NULL)
		w[n++] = strsep(&rest, " ");
	if (strcmp(w[0], "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(w[0], "TCP6") == 0)
		family = AF_INET6;
	else
		return bad(why, "protocol");
	if (n != 5 || rest != NULL)
		return bad(why, "format");
	if ((rc = v1_endpoint(family, w[1], w[3], &h->src, &h->srclen)) != 0 ||
	    (rc = v1_endpoint(family, w[2], w[4], &h->dst, &h->dstlen)) != 0)
		return bad(why, rc == -1 ? "address" : "port");
	return PROXY_OK;
}

/* v1: "PROXY ...\r\n", 107 bytes at most; the caller checked the magic's start. */
static enum proxy_result
parse_v1(const unsigned char *b, size_t len, struct proxy_hdr *h, const char **why)
{
	char	 line[PROXY_V1_MAX + 1];
	size_t	 i, end = 0;

	if (len <= V1_MAGIC_LEN)
		return PROXY_MORE;
	/* The CR at PROXY_V1_MAX - 2 at most: its LF is the last byte allowed. */
	for (i = V1_MAGIC_LEN; i < len && i < PROXY_V1_MAX - 1 && end == 0; i++) {
		if (b[i] == '\n' || b[i] == '\0')
			return bad(why, "no_crlf");
		if (b[i] != '\r')
			continue;
		if (i + 1 == len)
			return PROXY_MORE;
		if (b[i + 1] != '\n')
			return bad(why, "no_crlf");
		end = i;
	}
	if (end == 0)
		return i >= PROXY_V1_MAX - 1 ? bad(why, "too_long") : PROXY_MORE;
	memcpy(line, b + V1_MAGIC_LEN, end - V1_MAGIC_LEN);
	line[end - V1_MAGIC_LEN] = '\0';
	h->len = end + 2;
	h->version = 1;
	return v1_words(line, h, why);
}

/* One end of a v2 address block: an address of alen bytes, a port, into ss. */
static void
v2_endpoint(int family, const unsigned char *addr, size_t alen,
    const unsigned char *port, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		memcpy(&sin->sin_addr, addr, alen);
		memcpy(&sin->sin_port, port, 2);
		*sslen = sizeof(*sin);
	} else {
		memcpy(&sin6->sin6_addr, addr, alen);
		memcpy(&sin6->sin6_port, port, 2);
		*sslen = sizeof(*sin6);
	}
}

/*
 * The addresses of a v2 PROXY command of family INET or INET6 (a, len
 * bytes): the source address, the destination's, then their ports.
 */
static enum proxy_result
v2_addresses(int fam, const unsigned char *a, size_t len, struct proxy_hdr *h,
    const char **why)
{
	int	 family = fam == V2_INET ? AF_INET : AF_INET6;
	size_t	 alen = fam == V2_INET ? 4 : 16;

	if (len < (fam == V2_INET ? V2_INET_LEN : V2_INET6_LEN))
		return bad(why, "length");
	v2_endpoint(family, a, alen, a + 2 * alen, &h->src, &h->srclen);
	v2_endpoint(family, a + alen, alen, a + 2 * alen + 2, &h->dst, &h->dstlen);
	return PROXY_OK;
}

/*
 * v2: the signature, version and command, family and transport, the
 * length of what follows (addresses, then TLVs, which are skipped).
 */
static enum proxy_result
parse_v2(const unsigned char *b, size_t len, struct proxy_hdr *h, const char **why)
{
	unsigned ver, cmd, fam, proto;
	size_t	 alen, total;

	if (len < V2_HEAD)
		return PROXY_MORE;
	ver = b[12] >> 4;
	cmd = b[12] & 0xf;
	fam = b[13] >> 4;
	proto = b[13] & 0xf;
	alen = (size_t)b[14] << 8 | b[15];
	if (ver != 2)
		return bad(why, "version");
	if (cmd != V2_LOCAL && cmd != V2_PROXY)
		return bad(why, "command");
	if ((total = V2_HEAD + alen) > PROXY_V2_MAX)
		return bad(why, "too_long");
	if (len < total)
		return PROXY_MORE;
	h->len = total;
	h->version = 2;
	/* LOCAL: the balancer speaks for itself, whatever the addresses say. */
	if (cmd == V2_LOCAL || fam == V2_UNSPEC) {
		h->local = true;
		return PROXY_OK;
	}
	if (fam != V2_INET && fam != V2_INET6 && fam != V2_UNIX)
		return bad(why, "family");
	if (proto != V2_STREAM)
		return bad(why, "protocol");
	if (fam == V2_UNIX) {
		if (alen < V2_UNIX_LEN)
			return bad(why, "length");
		h->local = true;	/* no IP client to speak of */
		return PROXY_OK;
	}
	return v2_addresses((int)fam, b + V2_HEAD, alen, h, why);
}

enum proxy_result
proxy_parse(const void *buf, size_t len, unsigned accept, struct proxy_hdr *h,
    const char **why)
{
	const unsigned char *b = buf;
	bool	 v1, v2;

	memset(h, 0, sizeof(*h));
	*why = NULL;
	if (len == 0)
		return PROXY_MORE;
	if (len > PROXY_HDR_MAX)
		len = PROXY_HDR_MAX;
	v1 = begins_like(b, len, v1_magic, V1_MAGIC_LEN);
	v2 = begins_like(b, len, v2_sig, sizeof(v2_sig));
	if (v2 && !(accept & PROXY_V2))
		return bad(why, "v2_not_accepted");
	if (v1 && !(accept & PROXY_V1))
		return bad(why, "v1_not_accepted");
	if (v2)
		return parse_v2(b, len, h, why);
	if (v1)
		return parse_v1(b, len, h, why);
	return bad(why, "signature");
}

int
proxy_parse_versions(const char *text, unsigned *out, const char **err)
{
	const char *p = text;
	size_t	 n;

	*out = 0;
	*err = "must be v1, v2 or both (\"v1 v2\")";
	if (strcmp(text, "no") == 0) {
		*err = NULL;
		return 0;
	}
	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		n = strcspn(p, " \t");
		if (n == 2 && strncmp(p, "v1", 2) == 0)
			*out |= PROXY_V1;
		else if (n == 2 && strncmp(p, "v2", 2) == 0)
			*out |= PROXY_V2;
		else
			return -1;
		p += n;
	}
	if (*out == 0)
		return -1;
	*err = NULL;
	return 0;
}

const char *
proxy_versions_name(unsigned versions)
{
	switch (versions & (PROXY_V1 | PROXY_V2)) {
	case PROXY_V1:
		return "v1";
	case PROXY_V2:
		return "v2";
	case PROXY_V1 | PROXY_V2:
		return "v1 v2";
	}
	return "none";
}
