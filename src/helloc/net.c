/* helloc's connections: resolving, connecting to every address in turn, waiting, reading lines. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helloc.h"

uint64_t
hc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/*
 * Every error of helloc names what it talked to, so that a script running
 * many of them can tell which one failed.
 */
void
hc_error(const char *host, const char *port, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "helloc: %s port %s: ", host, port);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *
hc_seconds(int ms, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%d s", ms / 1000);
	else
		snprintf(buf, len, "%.3g s", ms / 1000.0);
	return buf;
}

struct addrinfo *
hc_resolve(const char *host, const char *port, int family, int socktype,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res;
	int rv;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = socktype;
	/*
	 * No AI_ADDRCONFIG: it hides "::1" on a host whose only IPv6 address
	 * is loopback, and an address that cannot be reached fails fast
	 * before the next one is tried anyway.
	 */
	rv = getaddrinfo(host, port, &hints, &res);
	if (rv != 0) {
		if (rv == EAI_SYSTEM)
			snprintf(err, errlen, "%s", strerror(errno));
		else
			snprintf(err, errlen, "%s", gai_strerror(rv));
		return NULL;
	}
	return res;
}

int
hc_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t end = hc_now_ns() + (uint64_t)timeout_ms * 1000000;
	int rv, left = timeout_ms;

	for (;;) {
		if ((rv = poll(&pfd, 1, left)) > 0)
			return 1;
		if (rv == 0)
			return 0;
		if (errno != EINTR)
			return -1;
		if (timeout_ms >= 0) {
			uint64_t now = hc_now_ns();

			if (now >= end)
				return 0;
			left = (int)((end - now + 999999) / 1000000);
		}
	}
}

int
hc_connect_one(const struct addrinfo *ai, int timeout_ms, char *err, size_t errlen)
{
	char sec[32];
	socklen_t len = sizeof(int);
	int fd, rv, soerr = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    ai->ai_protocol);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto connected;
	if (errno != EINPROGRESS) {
		soerr = errno;
		goto fail;
	}
	if ((rv = hc_wait(fd, POLLOUT, timeout_ms)) == 0) {
		snprintf(err, errlen, "connection timed out after %s",
		    hc_seconds(timeout_ms, sec, sizeof(sec)));
		close(fd);
		errno = ETIMEDOUT;
		return -1;
	}
	if (rv == -1)
		soerr = errno;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr != 0)
		goto fail;
connected:
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1) {
		soerr = errno;
		goto fail;
	}
	return fd;
fail:
	snprintf(err, errlen, "%s", strerror(soerr));
	close(fd);
	errno = soerr;
	return -1;
}

int
hc_connect(const char *host, const char *port, int family, int socktype,
    int timeout_ms, struct sockaddr_storage *ss, socklen_t *sslen,
    char *err, size_t errlen)
{
	struct addrinfo *res, *ai;
	char last[HC_ERRLEN];
	int fd = -1, tried = 0, saved = 0;

	if ((res = hc_resolve(host, port, family, socktype, err, errlen)) == NULL)
		return -1;
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		tried++;
		if ((fd = hc_connect_one(ai, timeout_ms, last, sizeof(last))) != -1) {
			if (ss != NULL) {
				memcpy(ss, ai->ai_addr, ai->ai_addrlen);
				*sslen = ai->ai_addrlen;
			}
		} else
			saved = errno;
	}
	freeaddrinfo(res);
	if (fd != -1)
		return fd;
	if (tried > 1)
		snprintf(err, errlen, "%s (%d addresses tried)", last, tried);
	else
		snprintf(err, errlen, "%s", last);
	errno = saved;
	return -1;
}

int
hc_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
hc_send_within(int fd, const void *buf, size_t len, int timeout_ms)
{
	uint64_t end = hc_now_ns() + (uint64_t)timeout_ms * 1000000, now;
	const char *p = buf;
	ssize_t n;
	int rv;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT)) >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		if ((now = hc_now_ns()) >= end) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((rv = hc_wait(fd, POLLOUT, (int)((end - now + 999999) / 1000000))) == -1)
			return -1;
	}
	return 0;
}

int
hc_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
hc_udp_open(struct hc_udp *u, const char *host, const char *port, int family,
    char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	u->fd = -1;
	if ((u->res = hc_resolve(host, port, family, SOCK_DGRAM, err, errlen)) == NULL)
		return -1;
	/*
	 * Connected, so that only the server's datagrams arrive and ICMP
	 * errors are reported.  Only a local reason (no IPv6 route) makes a
	 * connect fail here: then the next address is tried.
	 */
	for (u->ai = u->res; u->ai != NULL; u->ai = u->ai->ai_next)
		if ((u->fd = hc_connect_one(u->ai, 0, err, errlen)) != -1)
			return 0;
	return -1;
}

int
hc_udp_next(struct hc_udp *u, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", strerror(ECONNREFUSED));
	if (u->answered)
		return -1;
	close(u->fd);
	u->fd = -1;
	while ((u->ai = u->ai->ai_next) != NULL)
		if ((u->fd = hc_connect_one(u->ai, 0, err, errlen)) != -1)
			return 0;
	return -1;
}

void
hc_udp_close(struct hc_udp *u)
{
	if (u->fd != -1)
		close(u->fd);
	u->fd = -1;
	if (u->res != NULL)
		freeaddrinfo(u->res);
	u->res = u->ai = NULL;
}

void
hc_udp_drain(int fd)
{
	char buf[512];
	ssize_t n;

	/* A pending ICMP error is read as one recv error: go on past it. */
	do
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	while (n >= 0 || errno == EINTR || errno == ECONNREFUSED);
}

void
hc_lines_init(struct hc_lines *lb, int fd)
{
	lb->fd = fd;
	lb->eof = false;
	lb->len = 0;
	lb->used = 0;
}

/* Hand out the first n bytes of the buffer as a line, CR LF removed. */
static int
lines_take(struct hc_lines *lb, size_t n, char **line, size_t *linelen)
{
	size_t l = n;

	lb->used = n;
	if (l > 0 && lb->buf[l - 1] == '\n') {
		l--;
		if (l > 0 && lb->buf[l - 1] == '\r')
			l--;
	}
	*line = lb->buf;
	*linelen = l;
	return 1;
}

int
hc_lines_read(struct hc_lines *lb, int timeout_ms, char **line, size_t *linelen)
{
	uint64_t end = hc_now_ns() + (uint64_t)timeout_ms * 1000000, now;
	char *nl;
	ssize_t n;
	int rv;

	if (lb->used > 0) {
		memmove(lb->buf, lb->buf + lb->used, lb->len - lb->used);
		lb->len -= lb->used;
		lb->used = 0;
	}
	for (;;) {
		if ((nl = memchr(lb->buf, '\n', lb->len)) != NULL)
			return lines_take(lb, (size_t)(nl - lb->buf) + 1, line, linelen);
		if (lb->len == sizeof(lb->buf) || (lb->eof && lb->len > 0))
			return lines_take(lb, lb->len, line, linelen);
		if (lb->eof)
			return 0;
		if ((now = hc_now_ns()) >= end) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((rv = hc_wait(lb->fd, POLLIN, (int)((end - now + 999999) / 1000000))) == -1)
			return -1;
		if (rv == 0)
			continue;
		n = read(lb->fd, lb->buf + lb->len, sizeof(lb->buf) - lb->len);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (n == 0)
			lb->eof = true;
		lb->len += (size_t)n;
	}
}
