/* Sockets: create, bind and listen; they return -1 and an error text, and never log. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "net.h"

static int
net_fail(int fd, const char *what, char *err, size_t errlen)
{
	int	 saved = errno;

	snprintf(err, errlen, "%s: %s", what, strerror(saved));
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

/*
 * Ask the kernel to say where each datagram was sent, so the reply leaves
 * from there.  Only a socket bound to a wildcard needs it: one bound to an
 * address replies from that address, without the kernel writing the
 * message on each datagram, nor reading it back on each reply.
 */
static int
net_pktinfo(int fd, const struct sockaddr *sa)
{
	int	 on = 1;

	if (!addr_is_wildcard(sa))
		return 0;
	if (sa->sa_family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
	return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
}

int
net_set_nonblock(int fd, int on)
{
	int	 fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

/* A socket bound to sa with every option net_listen sets; -1 with err filled. */
static int
net_bind(int proto, const struct sockaddr *sa, socklen_t salen,
    char *err, size_t errlen)
{
	int	 type = proto == PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int	 fd, on = 1;

	fd = socket(sa->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return net_fail(-1, "socket", err, errlen);
	/*
	 * TCP only: a listener must rebind while old connections linger in
	 * TIME_WAIT.  On UDP, SO_REUSEADDR would let any local user bind the
	 * same address and port and receive the service's datagrams.
	 */
	if (proto == PROTO_TCP &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		return net_fail(fd, "setsockopt SO_REUSEADDR", err, errlen);
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		return net_fail(fd, "setsockopt IPV6_V6ONLY", err, errlen);
	if (proto == PROTO_UDP && net_pktinfo(fd, sa) == -1)
		return net_fail(fd, "setsockopt PKTINFO", err, errlen);
	if (bind(fd, sa, salen) == -1)
		return net_fail(fd, "bind", err, errlen);
	return fd;
}

/* fd moved to NET_FD_HIGH or above; where it was when the limit says no. */
static int
net_move_high(int fd)
{
	int	 high;

	if (fd >= NET_FD_HIGH ||
	    (high = fcntl(fd, F_DUPFD_CLOEXEC, NET_FD_HIGH)) == -1)
		return fd;
	close(fd);
	return high;
}

int
net_listen(int proto, const struct sockaddr *sa, socklen_t salen,
    bool high, char *err, size_t errlen)
{
	int	 fd;

	if ((fd = net_bind(proto, sa, salen, err, errlen)) == -1)
		return -1;
	if (proto == PROTO_TCP && listen(fd, SOMAXCONN) == -1)
		return net_fail(fd, "listen", err, errlen);
	return high ? net_move_high(fd) : fd;
}

/*
 * Bind and close at once, never listen: with SO_REUSEADDR the bind fails
 * only where another socket listens (or holds the address otherwise),
 * and no client can be accepted meanwhile.
 */
int
net_probe(int proto, const struct sockaddr *sa, socklen_t salen,
    char *err, size_t errlen)
{
	int	 fd;

	if ((fd = net_bind(proto, sa, salen, err, errlen)) == -1)
		return -1;
	close(fd);
	return 0;
}

int
net_adopt(int fd, int proto, const struct sockaddr *sa, char *err,
    size_t errlen)
{
	if (net_set_nonblock(fd, 1) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		return -1;
	}
	if (proto == PROTO_UDP && net_pktinfo(fd, sa) == -1) {
		snprintf(err, errlen, "setsockopt PKTINFO: %s", strerror(errno));
		return -1;
	}
	return 0;
}


/*
 * Whether sa's address belongs to this host: loopback, or an address a
 * socket can be bound to (the kernel knows its interfaces better than a
 * list read at start would).  Costs a socket and a bind; for the rare
 * datagram that needs it.
 */
bool
net_is_local(const struct sockaddr *sa)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int	 fd;
	bool	 local;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
			return true;
		len = sizeof(struct sockaddr_in);
	} else if (sa->sa_family == AF_INET6) {
		if (IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr))
			return true;
		len = sizeof(struct sockaddr_in6);
	} else
		return false;
	memcpy(&ss, sa, len);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	if ((fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	local = bind(fd, (struct sockaddr *)&ss, len) == 0;
	close(fd);
	return local;
}
