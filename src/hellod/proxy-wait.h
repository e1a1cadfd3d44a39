/* Connections from a trusted balancer waiting for their PROXY header: bounded in count and time. */
#ifndef HELLOD_PROXY_WAIT_H
#define HELLOD_PROXY_WAIT_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <stdint.h>

#include "config.h"
#include "listener.h"
#include "proxy.h"

/* Connections waiting for a header at once, all services together. */
#define PROXY_WAIT_MAX	256
/* How long a connection has to send its whole header. */
#define PROXY_WAIT_MS	5000

struct proxy_waiter {
	enum source_kind kind;		/* SRC_PROXY: keep first */
	int		 fd;
	char		 service[SERVICE_NAME_MAX + 1];
	const struct service *svc;	/* of the config in force (proxy_wait_rebind) */
	struct sockaddr_storage via;	/* the balancer */
	uint64_t	 deadline;	/* monotonic ms */
	TAILQ_ENTRY(proxy_waiter) entry;
};

struct proxy_waiting {
	TAILQ_HEAD(, proxy_waiter) q;	/* oldest first: deadlines in order */
	unsigned	 n;
	int		 epfd;
};

void	proxy_wait_init(struct proxy_waiting *pw, int epfd);

/*
 * Peek at what fd has received and, when it begins with a whole header
 * of a version in accept, consume exactly the header: the payload stays
 * for the child.  PROXY_MORE when the header is not all there yet;
 * PROXY_BAD with *why ("closed", "error" or the parser's token).
 */
enum proxy_result proxy_recv(int fd, unsigned accept, struct proxy_hdr *h,
    const char **why);

/*
 * Wait for fd's header (a connection to svc from the balancer at via):
 * the fd joins the event loop (edge-triggered: a peek leaves the bytes
 * readable).  Returns 0, or -1 when PROXY_WAIT_MAX are waiting already
 * or epoll failed (the caller refuses the connection).
 */
int	proxy_wait_add(struct proxy_waiting *pw, const struct service *svc, int fd,
	    const struct sockaddr *via, socklen_t vialen, uint64_t now);

/* Stop waiting for w: out of the event loop and freed; returns its fd, still open. */
int	proxy_wait_done(struct proxy_waiting *pw, struct proxy_waiter *w);

/* The oldest waiter whose time is up at now, or NULL. */
struct proxy_waiter *proxy_wait_expired(struct proxy_waiting *pw, uint64_t now);

/* Milliseconds until the next waiter's time is up; -1 when none waits. */
int	proxy_wait_timeout(const struct proxy_waiting *pw, uint64_t now);

/*
 * After a reload: each waiter follows its service into conf.  Those whose
 * service is gone, disabled or no longer reads a header are closed.
 */
void	proxy_wait_rebind(struct proxy_waiting *pw, const struct config *conf);

/* Close every waiting connection (shutdown). */
void	proxy_wait_close_all(struct proxy_waiting *pw);

#endif
