/* Connections from a trusted balancer waiting for their PROXY header: bounded in count and time. */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy-wait.h"

void
proxy_wait_init(struct proxy_waiting *pw, int epfd)
{
	TAILQ_INIT(&pw->q);
	pw->n = 0;
	pw->epfd = epfd;
}

enum proxy_result
proxy_recv(int fd, unsigned accept, struct proxy_hdr *h, const char **why)
{
	static unsigned char buf[PROXY_HDR_MAX];
	enum proxy_result r;
	ssize_t	 n;

	do
		n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		memset(h, 0, sizeof(*h));
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return PROXY_MORE;
		*why = errno == ECONNRESET ? "closed" : "error";
		return PROXY_BAD;
	}
	if (n == 0) {
		memset(h, 0, sizeof(*h));
		*why = "closed";
		return PROXY_BAD;
	}
	if ((r = proxy_parse(buf, (size_t)n, accept, h, why)) != PROXY_OK)
		return r;
	/* The bytes peeked are there: this takes the header and not one more. */
	do
		n = recv(fd, buf, h->len, MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)h->len) {
		*why = "error";
		return PROXY_BAD;
	}
	return PROXY_OK;
}

int
proxy_wait_add(struct proxy_waiting *pw, const struct service *svc, int fd,
    const struct sockaddr *via, socklen_t vialen, uint64_t now)
{
	struct proxy_waiter *w;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET };

	if (pw->n >= PROXY_WAIT_MAX || (w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->kind = SRC_PROXY;
	w->fd = fd;
	w->svc = svc;
	strlcpy(w->service, svc->name, sizeof(w->service));
	memcpy(&w->via, via, vialen < sizeof(w->via) ? vialen : sizeof(w->via));
	w->deadline = now + PROXY_WAIT_MS;
	ev.data.ptr = w;
	if (epoll_ctl(pw->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		free(w);
		return -1;
	}
	TAILQ_INSERT_TAIL(&pw->q, w, entry);
	pw->n++;
	return 0;
}

int
proxy_wait_done(struct proxy_waiting *pw, struct proxy_waiter *w)
{
	int	 fd = w->fd;

	(void)epoll_ctl(pw->epfd, EPOLL_CTL_DEL, fd, NULL);
	TAILQ_REMOVE(&pw->q, w, entry);
	pw->n--;
	free(w);
	return fd;
}

struct proxy_waiter *
proxy_wait_expired(struct proxy_waiting *pw, uint64_t now)
{
	struct proxy_waiter *w = TAILQ_FIRST(&pw->q);

	return w != NULL && w->deadline <= now ? w : NULL;
}

int
proxy_wait_timeout(const struct proxy_waiting *pw, uint64_t now)
{
	const struct proxy_waiter *w = TAILQ_FIRST(&pw->q);

	if (w == NULL)
		return -1;
	return w->deadline <= now ? 0 : (int)(w->deadline - now);
}

void
proxy_wait_rebind(struct proxy_waiting *pw, const struct config *conf)
{
	struct proxy_waiter *w, *next;
	const struct service *svc;

	for (w = TAILQ_FIRST(&pw->q); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		svc = config_find(conf, w->service);
		if (svc != NULL && svc->enabled && svc->proxy_versions != 0)
			w->svc = svc;
		else
			close(proxy_wait_done(pw, w));
	}
}

void
proxy_wait_close_all(struct proxy_waiting *pw)
{
	while (!TAILQ_EMPTY(&pw->q))
		close(proxy_wait_done(pw, TAILQ_FIRST(&pw->q)));
}
