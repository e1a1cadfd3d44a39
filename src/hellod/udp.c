/* UDP, answered inline by the parent: the source guard, and one listener's datagrams. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "addrset.h"
#include "config.h"
#include "handler.h"
#include "limit.h"
#include "listener.h"
#include "log.h"
#include "net.h"
#include "service.h"
#include "udp.h"
#include "util.h"

/* Datagrams read per wake-up: enough to drain a burst, few enough to be fair. */
#define UDP_BATCH	64

static bool
v4_bad(in_addr_t a, const char **reason)
{
	a = ntohl(a);
	if (a == INADDR_ANY) {
		*reason = "unspecified source address";
		return true;
	}
	if (a == INADDR_BROADCAST) {
		/*
		 * A subnet's directed broadcast address cannot be told from a
		 * host address without the interface list, so only the
		 * limited broadcast address is refused here.
		 */
		*reason = "broadcast source address";
		return true;
	}
	if (IN_MULTICAST(a)) {
		*reason = "multicast source address";
		return true;
	}
	return false;
}

bool
udp_badinput(const struct sockaddr *sa, const char **reason)
{
	uint16_t port = addr_port(sa);

	if (port == 0) {
		*reason = "source port 0";
		return true;
	}
	if (port < 1024) {
		*reason = "source port below 1024";
		return true;
	}
	if (port == 2049) {
		*reason = "source port 2049";
		return true;
	}
	if (sa->sa_family == AF_INET)
		return v4_bad(((const struct sockaddr_in *)sa)->sin_addr.s_addr,
		    reason);
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			in_addr_t v4;

			memcpy(&v4, &a->s6_addr[12], sizeof(v4));
			return v4_bad(v4, reason);
		}
		if (IN6_IS_ADDR_UNSPECIFIED(a)) {
			*reason = "unspecified source address";
			return true;
		}
		if (IN6_IS_ADDR_MULTICAST(a)) {
			*reason = "multicast source address";
			return true;
		}
	}
	return false;
}

/*
 * The daemon's own UDP endpoints: the ports it listens on, which of them
 * on a wildcard address, and its specific addresses.  A datagram whose
 * source is one of them would set a service answering itself, or two
 * services answering each other, for ever (one forged datagram is enough).
 */
static struct {
	uint8_t		 ports[65536 / 8];
	uint8_t		 wild[65536 / 8];
	struct addrset	 addrs;
} own;

static bool
bit(const uint8_t *map, uint16_t port)
{
	return map[port / 8] & (1u << (port % 8));
}

void
udp_endpoints(const struct listener_set *ls)
{
	size_t	 i;

	memset(own.ports, 0, sizeof(own.ports));
	memset(own.wild, 0, sizeof(own.wild));
	addrset_free(&own.addrs);
	for (i = 0; ls != NULL && i < ls->n; i++) {
		const struct listener *l = ls->v[i];
		const struct sockaddr *sa = (const struct sockaddr *)&l->addr.ss;
		uint16_t port = addr_port(sa);

		if (l->proto != PROTO_UDP)
			continue;
		own.ports[port / 8] |= (uint8_t)(1u << (port % 8));
		if (addr_is_wildcard(sa))
			own.wild[port / 8] |= (uint8_t)(1u << (port % 8));
		else if (addrset_add(&own.addrs, PROTO_UDP, &l->addr, 0) == -1)
			own.wild[port / 8] |= (uint8_t)(1u << (port % 8));
	}
	addrset_sort(&own.addrs);
}

/* sa, an IPv4-mapped IPv6 address turned into IPv4, into *out. */
static const struct sockaddr *
unmapped(const struct sockaddr *sa, struct sockaddr_in *out)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return sa;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = sin6->sin6_port;
	memcpy(&out->sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
	return (const struct sockaddr *)out;
}

bool
udp_from_self(const struct sockaddr *sa)
{
	struct sockaddr_in v4;
	uint16_t port = addr_port(sa);

	if (!bit(own.ports, port))
		return false;
	sa = unmapped(sa, &v4);
	if (addrset_find(&own.addrs, PROTO_UDP, sa) != -1)
		return true;
	/* On a wildcard, every address of this host is ours. */
	return bit(own.wild, port) && net_is_local(sa);
}

/* Where the datagram was sent to, from the IP_PKTINFO/IPV6_PKTINFO message. */
static void
udp_copy_pktinfo(struct msghdr *in, struct msghdr *out, char *cbuf, size_t clen)
{
	struct cmsghdr	*c, *o;

	out->msg_control = NULL;
	out->msg_controllen = 0;
	for (c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
		size_t len;

		if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)))
			continue;
		len = c->cmsg_len;
		if (CMSG_SPACE(len - CMSG_LEN(0)) > clen)
			return;
		memset(cbuf, 0, clen);
		out->msg_control = cbuf;
		out->msg_controllen = CMSG_SPACE(len - CMSG_LEN(0));
		o = CMSG_FIRSTHDR(out);
		memcpy(o, c, len);
		if (c->cmsg_level == IPPROTO_IP) {
			/* Reply from the destination address; let routing pick the interface. */
			struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(o);

			pi->ipi_ifindex = 0;
			pi->ipi_spec_dst = pi->ipi_addr;
		}
		return;
	}
}

static void
udp_debug(const struct service *svc, const struct sockaddr *sa,
    const unsigned char *req, size_t len)
{
	char	 peer[ADDR_STRLEN], vis[LOG_VIS_MAX * 4 + 4];

	if (!log_enabled(LOG_DEBUG))
		return;
	log_debug("%s: datagram peer=%s len=%zu data=\"%s\"", svc->name,
	    addr_format_peer(sa, svc->log_peer, peer, sizeof(peer)), len,
	    log_vis(vis, sizeof(vis), req, len));
}

/* Datagrams read with one recvmmsg(), their replies sent with one sendmmsg(). */
#define UDP_MMSG	8

#define UDP_CIN		(CMSG_SPACE(sizeof(struct in6_pktinfo)) + \
			    CMSG_SPACE(sizeof(struct in_pktinfo)))
#define UDP_COUT	CMSG_SPACE(sizeof(struct in6_pktinfo))

/*
 * A batch: the datagrams read and the replies to them.  In the parent's
 * own pages (util_parent_calloc): a child never has them, and the
 * parent's writes to them after a fork are not copy-on-write faults.
 * Only the pages a datagram or a reply reaches are ever touched.
 */
struct udp_batch {
	unsigned char	 req[UDP_MMSG][UDP_MAX];
	unsigned char	 out[UDP_MMSG][UDP_MAX];
	struct sockaddr_storage from[UDP_MMSG];
	char		 cin[UDP_MMSG][UDP_CIN];
	char		 cout[UDP_MMSG][UDP_COUT];
	struct iovec	 iin[UDP_MMSG], iout[UDP_MMSG];
	struct mmsghdr	 in[UDP_MMSG], reply[UDP_MMSG];
};

/*
 * One datagram: guard, source rate, handler.  Returns the length of the
 * reply it wrote to out (at most outmax), or -1 for none.
 */
static ssize_t
udp_answer(struct listener *l, const struct msghdr *msg, const unsigned char *req,
    size_t len, unsigned char *out, uint64_t now_ms)
{
	struct service	*svc = l->svc;
	const struct sockaddr *sa = msg->msg_name;
	const char	*reason;
	ssize_t		 n;
	size_t		 outmax = len > 512 ? len : 512;
	int		 why;

	service_count(svc, SC_datagrams_in);
	service_add(svc, SC_bytes_in, len);
	if (udp_badinput(sa, &reason) ||
	    (udp_from_self(sa) && (reason = "own address") != NULL)) {
		service_refuse(svc, SR_guard, sa, reason);
		return -1;
	}
	if (svc->limited_udp && (why = limits_admit(svc, PROTO_UDP, sa, NULL,
	    now_ms)) != -1) {
		service_refuse(svc, (enum service_refusal)why, sa, NULL);
		return -1;
	}
	udp_debug(svc, sa, req, len);
	sources_note(svc, sa, SOURCE_DATAGRAM);
	n = svc->handler->udp(svc, req, len, out, outmax);
	if (n > (ssize_t)outmax)
		n = (ssize_t)outmax;	/* a handler bug must not amplify */
	return n;
}

/* The reply of length n in slot i, to where its datagram came from, sent from where it went. */
static void
udp_reply(struct udp_batch *b, size_t i, size_t slot, size_t n)
{
	struct msghdr	*in = &b->in[i].msg_hdr, *r = &b->reply[slot].msg_hdr;

	memset(r, 0, sizeof(*r));
	b->iout[slot].iov_base = b->out[i];
	b->iout[slot].iov_len = n;
	r->msg_name = in->msg_name;
	r->msg_namelen = in->msg_namelen;
	r->msg_iov = &b->iout[slot];
	r->msg_iovlen = 1;
	udp_copy_pktinfo(in, r, b->cout[slot], sizeof(b->cout[slot]));
}

/* Send the batch's nreply replies, counting those that left. */
static void
udp_send(struct listener *l, struct udp_batch *b, size_t nreply)
{
	struct service	*svc = l->svc;
	size_t		 sent = 0, j;
	int		 n;

	while (sent < nreply) {
		n = sendmmsg(l->fd, b->reply + sent, (unsigned)(nreply - sent),
		    MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The reply that failed is dropped, as if lost; the rest still go. */
			if (n == -1 && errno != EAGAIN)
				log_debug("%s: error op=sendmsg error=%s", svc->name,
				    log_q(strerror(errno)));
			sent++;
			continue;
		}
		for (j = sent; j < sent + (size_t)n; j++) {
			service_count(svc, SC_datagrams_out);
			service_add(svc, SC_bytes_out, b->iout[j].iov_len);
		}
		sent += (size_t)n;
	}
}

/* The parent's batch, made at the first datagram, its headers pointing at its buffers. */
static struct udp_batch *
udp_batch(void)
{
	static struct udp_batch *b;
	size_t		 i;

	if (b != NULL || (b = util_parent_calloc(1, sizeof(*b))) == NULL)
		return b;
	for (i = 0; i < UDP_MMSG; i++) {
		b->iin[i].iov_base = b->req[i];
		b->iin[i].iov_len = sizeof(b->req[i]);
		b->in[i].msg_hdr.msg_name = &b->from[i];
		b->in[i].msg_hdr.msg_iov = &b->iin[i];
		b->in[i].msg_hdr.msg_iovlen = 1;
		b->in[i].msg_hdr.msg_control = b->cin[i];
	}
	return b;
}

/* Read up to want datagrams into b: how many came, or -1 when none. */
static int
udp_recv(struct listener *l, struct udp_batch *b, unsigned want)
{
	unsigned	 i;
	int		 n;

	/* What the last recvmmsg() changed: the lengths it filled in. */
	for (i = 0; i < want; i++) {
		b->in[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
		b->in[i].msg_hdr.msg_controllen = sizeof(b->cin[i]);
		b->in[i].msg_hdr.msg_flags = 0;
	}
	if ((n = recvmmsg(l->fd, b->in, want, MSG_DONTWAIT, NULL)) == -1 &&
	    errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		log_debug("%s: error op=recvmsg error=%s", l->svc->name,
		    log_q(strerror(errno)));
	return n > 0 ? n : -1;
}

void
udp_serve(struct listener *l)
{
	struct udp_batch *b;
	uint64_t	 now_ms = util_now_ms();
	unsigned	 done = 0, want;
	size_t		 i, nreply;
	ssize_t		 r;
	int		 n;

	if ((b = udp_batch()) == NULL)
		return;
	while (done < UDP_BATCH) {
		want = UDP_BATCH - done < UDP_MMSG ? UDP_BATCH - done : UDP_MMSG;
		if ((n = udp_recv(l, b, want)) == -1)
			return;
		nreply = 0;
		for (i = 0; i < (size_t)n; i++) {
			r = udp_answer(l, &b->in[i].msg_hdr, b->req[i],
			    b->in[i].msg_len, b->out[i], now_ms);
			if (r >= 0)
				udp_reply(b, i, nreply++, (size_t)r);
		}
		udp_send(l, b, nreply);
		done += (unsigned)n;
		if ((unsigned)n < want)
			return;	/* the queue is empty */
	}
}

/* Drop the datagram at the head of fd's queue. */
static void
udp_drop(int fd)
{
	char	 byte;

	(void)recv(fd, &byte, 1, MSG_DONTWAIT);
}

/*
 * Peek at the datagram at the head of fd's queue: its source into *from,
 * its length and a keyed hash of its first bytes.  Returns 0, or -1 when
 * there is none.
 */
static int
udp_peek(int fd, struct sockaddr_storage *from, size_t *len, uint64_t *sum)
{
	unsigned char	 buf[512];
	struct iovec	 iov = { buf, sizeof(buf) };
	struct msghdr	 msg;
	ssize_t		 n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_name = from;
	msg.msg_namelen = sizeof(*from);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if ((n = recvmsg(fd, &msg, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC)) == -1)
		return -1;
	*len = (size_t)n;
	*sum = addr_keyed_hash(buf, (size_t)n < sizeof(buf) ? (size_t)n :
	    sizeof(buf));
	return 0;
}

bool
udp_unwoken(struct listener *l)
{
	struct sockaddr_storage from;
	size_t	 len;
	uint64_t sum;

	if (udp_peek(l->fd, &from, &len, &sum) == -1 || len != l->woke.len ||
	    sum != l->woke.sum || !addr_equal((struct sockaddr *)&from,
	    (struct sockaddr *)&l->woke.from))
		return false;
	udp_drop(l->fd);
	return true;
}

pid_t
udp_wake(struct listener *l)
{
	struct service	*svc = l->svc;
	const struct sockaddr *sa = (const struct sockaddr *)&l->woke.from;
	struct sockaddr_storage from;
	const char	*reason;
	int		 i, why;

	for (i = 0; i < UDP_BATCH; i++) {
		if (udp_peek(l->fd, &l->woke.from, &l->woke.len, &l->woke.sum) == -1)
			return 0;
		if (udp_badinput(sa, &reason) ||
		    (udp_from_self(sa) && (reason = "own address") != NULL)) {
			service_refuse(svc, SR_guard, sa, reason);
			udp_drop(l->fd);
			continue;
		}
		if (svc->limited_udp && (why = limits_admit(svc, PROTO_UDP, sa,
		    NULL, util_now_ms())) != -1) {
			service_refuse(svc, (enum service_refusal)why, sa, NULL);
			udp_drop(l->fd);
			continue;
		}
		/* A copy: the listener is in the daemon's pages alone (listener.c). */
		from = l->woke.from;
		return svc->handler->udp_spawn(svc, l->fd,
		    (const struct sockaddr *)&from);
	}
	return 0;
}
