/* Sockets: create, bind and listen; they return -1 and an error text, and never log. */
#include <sys/socket.h>
#include <netinet/in.h>
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

/* Ask the kernel to say where each datagram was sent, so the reply leaves from there. */
static int
net_pktinfo(int fd, int family)
{
	int	 on = 1;

	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
	return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
}

int
net_listen(int proto, const struct sockaddr *sa, socklen_t salen,
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
	if (proto == PROTO_UDP && net_pktinfo(fd, sa->sa_family) == -1)
		return net_fail(fd, "setsockopt PKTINFO", err, errlen);
	if (bind(fd, sa, salen) == -1)
		return net_fail(fd, "bind", err, errlen);
	if (proto == PROTO_TCP && listen(fd, SOMAXCONN) == -1)
		return net_fail(fd, "listen", err, errlen);
	return fd;
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
	if (proto == PROTO_UDP && net_pktinfo(fd, sa->sa_family) == -1) {
		snprintf(err, errlen, "setsockopt PKTINFO: %s", strerror(errno));
		return -1;
	}
	return 0;
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
