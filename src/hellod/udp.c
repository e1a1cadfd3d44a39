/* UDP, answered inline by the parent: the source guard, and one listener's datagrams. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "handler.h"
#include "limit.h"
#include "listener.h"
#include "log.h"
#include "server.h"
#include "udp.h"

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
	log_debug("%s: datagram from %s len=%zu \"%s\"", svc->name,
	    addr_format_peer(sa, svc->log_peer, peer, sizeof(peer)), len,
	    log_vis(vis, sizeof(vis), req, len));
}

/* Monotonic milliseconds, read once per batch of datagrams. */
static uint64_t
udp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One datagram: guard, source rate, handler, reply from where it was sent to. */
static void
udp_answer(struct listener *l, struct msghdr *msg, const unsigned char *req,
    size_t len, unsigned char *out, uint64_t now_ms)
{
	struct service	*svc = l->svc;
	const struct sockaddr *sa = msg->msg_name;
	const char	*reason;
	char		 cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct iovec	 iov;
	struct msghdr	 reply;
	ssize_t		 n;
	size_t		 outmax = len > 512 ? len : 512;

	if (udp_badinput(sa, &reason)) {
		svc->cnt->refused++;
		svc->cnt->refused_guard++;
		limits_log_refused(svc, sa, reason);
		return;
	}
	if (!limits_source_ok(svc, PROTO_UDP, sa, now_ms))
		return;
	udp_debug(svc, sa, req, len);
	n = svc->handler->udp(svc, req, len, out, outmax);
	svc->cnt->datagrams++;
	if (n < 0)
		return;
	if ((size_t)n > outmax)
		n = (ssize_t)outmax;	/* a handler bug must not amplify */
	memset(&reply, 0, sizeof(reply));
	iov.iov_base = out;
	iov.iov_len = (size_t)n;
	reply.msg_name = msg->msg_name;
	reply.msg_namelen = msg->msg_namelen;
	reply.msg_iov = &iov;
	reply.msg_iovlen = 1;
	udp_copy_pktinfo(msg, &reply, cbuf, sizeof(cbuf));
	if (sendmsg(l->fd, &reply, MSG_DONTWAIT) == -1 && errno != EAGAIN)
		log_debug("%s: sendmsg: %s", svc->name, strerror(errno));
}

void
udp_serve(struct listener *l)
{
	static unsigned char	 req[UDP_MAX], out[UDP_MAX];
	struct sockaddr_storage	 ss;
	char			 cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
				    CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct iovec		 iov;
	struct msghdr		 msg;
	ssize_t			 n;
	uint64_t		 now_ms = udp_now_ms();
	int			 i;

	for (i = 0; i < UDP_BATCH; i++) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = req;
		iov.iov_len = sizeof(req);
		msg.msg_name = &ss;
		msg.msg_namelen = sizeof(ss);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		n = recvmsg(l->fd, &msg, MSG_DONTWAIT);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_debug("%s: recvmsg: %s", l->svc->name,
				    strerror(errno));
			return;
		}
		udp_answer(l, &msg, req, (size_t)n, out, now_ms);
	}
}
