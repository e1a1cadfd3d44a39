/* The benchmark's floor: the least a forking TCP echo and a UDP echo can do, for make bench. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLOOR_BUF	4096
#define FLOOR_BATCH	64	/* datagrams per recvmmsg and sendmmsg */

/*
 * usage: floor tcp|udp ADDRESS PORT
 *
 * tcp: accept, fork, echo what comes until the client's end of file,
 * _exit; the parent reaps its children on SIGCHLD, so that their CPU time
 * shows in its cutime and cstime.  udp: one blocking socket, datagrams
 * read in batches with recvmmsg and sent back with sendmmsg.  Nothing is
 * logged and nothing is limited: it is what the real servers are measured
 * against.
 */

static void
die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
reap(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

/* A socket bound to ADDRESS (IPv4 or IPv6) and PORT. */
static int
bound(int type, const char *addr, const char *port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(port));
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)atoi(port));
		len = sizeof(*sin6);
	} else {
		fprintf(stderr, "floor: %s: not an address\n", addr);
		exit(2);
	}
	if ((fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0)) == -1)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		die("SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		die("bind");
	return fd;
}

/* One connection, in the child: echo until end of file or an error. */
static void
echo_stream(int fd)
{
	char buf[FLOOR_BUF];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			break;
	_exit(0);
}

static void __attribute__((noreturn))
serve_tcp(int lfd)
{
	struct sigaction sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = reap;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, NULL) == -1 || listen(lfd, SOMAXCONN) == -1)
		die("listen");
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			die("accept");
		}
		switch (fork()) {
		case -1:
			break;
		case 0:
			close(lfd);
			echo_stream(fd);
			break;
		default:
			break;
		}
		close(fd);
	}
}

static void __attribute__((noreturn))
serve_udp(int fd)
{
	static char bufs[FLOOR_BATCH][FLOOR_BUF];
	static struct sockaddr_storage from[FLOOR_BATCH];
	struct mmsghdr msgs[FLOOR_BATCH];
	struct iovec iov[FLOOR_BATCH];
	int i, n;

	for (;;) {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < FLOOR_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = FLOOR_BUF;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		if ((n = recvmmsg(fd, msgs, FLOOR_BATCH, MSG_WAITFORONE, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			die("recvmmsg");
		}
		for (i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		/* A datagram the kernel will not send is dropped, as UDP may. */
		(void)sendmmsg(fd, msgs, (unsigned)n, 0);
	}
}

int
main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "tcp") != 0 && strcmp(argv[1], "udp") != 0)) {
		fprintf(stderr, "usage: floor tcp|udp ADDRESS PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "tcp") == 0)
		serve_tcp(bound(SOCK_STREAM, argv[2], argv[3]));
	serve_udp(bound(SOCK_DGRAM, argv[2], argv[3]));
}
