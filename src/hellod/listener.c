/* The parent's listening sockets: one per service, protocol and address; kept across reloads. */
#include <sys/socket.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "listener.h"
#include "log.h"
#include "net.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static int
set_push(struct listener_set *set, struct listener *l)
{
	struct listener **v;

	v = reallocarray(set->v, set->n + 1, sizeof(*v));
	if (v == NULL)
		return -1;
	set->v = v;
	set->v[set->n++] = l;
	return 0;
}

/* Store l in a hole of set, or at its end. */
static int
set_put(struct listener_set *set, struct listener *l)
{
	size_t	 i;

	for (i = 0; i < set->n; i++)
		if (set->v[i] == NULL) {
			set->v[i] = l;
			return 0;
		}
	return set_push(set, l);
}

/* Take the listener of set with this protocol and address, if any. */
static struct listener *
set_take(struct listener_set *set, int proto, const struct bind_addr *a)
{
	size_t	 i;

	for (i = 0; set != NULL && i < set->n; i++) {
		struct listener *l = set->v[i];

		if (l != NULL && l->proto == proto &&
		    addr_equal((const struct sockaddr *)&l->addr.ss,
		    (const struct sockaddr *)&a->ss)) {
			set->v[i] = NULL;
			l->from = set;
			return l;
		}
	}
	return NULL;
}

/* The step of listener_open's patience. */
#define PATIENCE_STEP_MS	10

/* net_listen, tried again while the address is in use, for up to patience_ms. */
static int
listen_patiently(int proto, const struct bind_addr *a, unsigned patience_ms,
    char *err, size_t errlen)
{
	struct timespec	 step = { 0, PATIENCE_STEP_MS * 1000000L };
	unsigned	 waited = 0;
	int		 fd;

	for (;;) {
		fd = net_listen(proto, (const struct sockaddr *)&a->ss, a->len,
		    err, errlen);
		if (fd != -1 || errno != EADDRINUSE || waited >= patience_ms)
			return fd;
		nanosleep(&step, NULL);
		waited += PATIENCE_STEP_MS;
	}
}

static struct listener *
listener_open(struct service *svc, int proto, const struct bind_addr *a,
    bool wildcard, unsigned patience_ms)
{
	struct listener	*l;
	char		 err[NET_ERRLEN], where[ADDR_STRLEN];
	int		 fd;

	fd = listen_patiently(proto, a, patience_ms, err, sizeof(err));
	if (fd == -1) {
		/* A kernel without IPv6 still serves the IPv4 wildcard. */
		if (wildcard && a->ss.ss_family == AF_INET6 &&
		    errno == EAFNOSUPPORT)
			return NULL;
		log_errx("%s: %s %s: %s", svc->name,
		    proto == PROTO_TCP ? "tcp" : "udp",
		    addr_format((const struct sockaddr *)&a->ss, where,
		    sizeof(where)), err);
		errno = EADDRNOTAVAIL;
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		close(fd);
		return NULL;
	}
	l->kind = proto == PROTO_TCP ? SRC_TCP : SRC_UDP;
	l->fd = fd;
	l->proto = proto;
	l->addr = *a;
	return l;
}

/* Put l back where set_take() took it from: every taken listener left a hole. */
static void
set_give_back(struct listener *l)
{
	struct listener_set *set = l->from;
	size_t	 j;

	for (j = 0; j < set->n; j++)
		if (set->v[j] == NULL) {
			set->v[j] = l;
			return;
		}
}

/* Give back what a failed build took, close what it opened. */
static void
build_undo(struct listener_set *out)
{
	size_t	 i;

	for (i = 0; i < out->n; i++) {
		struct listener *l = out->v[i];

		if (l->from != NULL)
			set_give_back(l);
		else {
			close(l->fd);
			free(l);
		}
	}
	listener_set_free(out);
}

/*
 * One address of one service: take the socket old or pool has, or open
 * one.  Returns the listener, or NULL: *failed then says whether that is
 * an error or an IPv6 wildcard this kernel cannot have.
 */
static struct listener *
build_one(struct service *svc, int proto, const struct bind_addr *a,
    bool wildcard, struct listener_set *old, struct listener_set *pool,
    struct listener_set *out, unsigned patience_ms, bool *failed)
{
	struct listener	*l;

	*failed = false;
	if ((l = set_take(old, proto, a)) == NULL &&
	    (l = set_take(pool, proto, a)) == NULL) {
		if ((l = listener_open(svc, proto, a, wildcard,
		    patience_ms)) == NULL) {
			*failed = errno != EAFNOSUPPORT;
			return NULL;
		}
		l->from = NULL;
	}
	l->next_svc = svc;
	if (set_push(out, l) == -1) {
		log_errx("%s: out of memory", svc->name);
		if (l->from != NULL)
			set_give_back(l);
		else {
			close(l->fd);
			free(l);
		}
		*failed = true;
		return NULL;
	}
	return l;
}

/*
 * Without bind, a service listens on :: and 0.0.0.0, IPv6 first: a
 * passed dual-stack :: socket (systemd's default for ListenStream=PORT)
 * takes the IPv4 connections too, and 0.0.0.0 must then not be bound.
 */
static int
build_wildcard(struct service *svc, int proto, struct listener_set *old,
    struct listener_set *pool, struct listener_set *out, unsigned patience_ms)
{
	struct bind_addr wild;
	struct listener	*l;
	bool		 failed;

	addr_wildcard(AF_INET6, svc->port, &wild);
	l = build_one(svc, proto, &wild, true, old, pool, out, patience_ms,
	    &failed);
	if (failed)
		return -1;
	if (l != NULL && l->dualstack)
		return 0;
	addr_wildcard(AF_INET, svc->port, &wild);
	build_one(svc, proto, &wild, true, old, pool, out, patience_ms, &failed);
	return failed ? -1 : 0;
}

static int
build_service(struct service *svc, struct listener_set *old,
    struct listener_set *pool, struct listener_set *out, unsigned patience_ms)
{
	static const int protos[] = { PROTO_TCP, PROTO_UDP };
	size_t	 i, p;
	bool	 failed;
	int	 rc = 0;

	for (p = 0; p < 2; p++) {
		if (!(svc->protocols & protos[p]))
			continue;
		if (svc->nbinds == 0) {
			if (build_wildcard(svc, protos[p], old, pool, out,
			    patience_ms) == -1)
				rc = -1;
			continue;
		}
		for (i = 0; i < svc->nbinds; i++) {
			build_one(svc, protos[p], &svc->binds[i], false, old,
			    pool, out, patience_ms, &failed);
			if (failed)
				rc = -1;
		}
	}
	return rc;
}

int
listener_build(struct config *conf, struct listener_set *old,
    struct listener_set *pool, struct listener_set *out, unsigned patience_ms)
{
	size_t	 i;
	int	 rc = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < conf->nservices; i++) {
		struct service *svc = &conf->services[i];

		if (svc->enabled &&
		    build_service(svc, old, pool, out, patience_ms) == -1)
			rc = -1;
	}
	if (rc == -1) {
		build_undo(out);
		return -1;
	}
	/* Only now, with every socket in place, point the listeners at conf. */
	for (i = 0; i < out->n; i++)
		out->v[i]->svc = out->v[i]->next_svc;
	return 0;
}

/* True when fn holds for l and some protocol and address that conf asks for. */
static bool
conf_addrs_any(const struct config *conf, const struct listener *l,
    bool (*fn)(const struct listener *, int, const struct sockaddr *))
{
	static const int protos[] = { PROTO_TCP, PROTO_UDP };
	struct bind_addr wild[2];
	size_t	 i, j, p, n;

	for (i = 0; i < conf->nservices; i++) {
		const struct service *svc = &conf->services[i];
		const struct bind_addr *addrs = svc->binds;

		if (!svc->enabled)
			continue;
		n = svc->nbinds;
		if (n == 0) {
			addr_wildcard(AF_INET6, svc->port, &wild[0]);
			addr_wildcard(AF_INET, svc->port, &wild[1]);
			addrs = wild;
			n = 2;
		}
		for (p = 0; p < 2; p++) {
			if (!(svc->protocols & protos[p]))
				continue;
			for (j = 0; j < n; j++)
				if (fn(l, protos[p],
				    (const struct sockaddr *)&addrs[j].ss))
					return true;
		}
	}
	return false;
}

static bool
same_socket(const struct listener *l, int proto, const struct sockaddr *sa)
{
	return l->proto == proto &&
	    addr_equal((const struct sockaddr *)&l->addr.ss, sa);
}

static bool
overlapping_socket(const struct listener *l, int proto,
    const struct sockaddr *sa)
{
	return l->proto == proto &&
	    addr_conflict((const struct sockaddr *)&l->addr.ss, sa);
}

void
listener_retire(const struct config *conf, struct listener_set *old,
    struct listener_set *retired)
{
	size_t	 i;

	memset(retired, 0, sizeof(*retired));
	for (i = 0; i < old->n; i++) {
		struct listener *l = old->v[i];

		if (l == NULL || l->activated ||
		    conf_addrs_any(conf, l, same_socket) ||
		    !conf_addrs_any(conf, l, overlapping_socket))
			continue;
		if (set_push(retired, l) == -1)
			continue;	/* then the build reports the conflict */
		old->v[i] = NULL;
		l->from = old;
	}
}

unsigned
listener_restore(struct listener_set *retired, unsigned patience_ms)
{
	char	 err[NET_ERRLEN], where[ADDR_STRLEN];
	unsigned failed = 0;
	size_t	 i;

	for (i = 0; i < retired->n; i++) {
		struct listener *l = retired->v[i];

		l->fd = listen_patiently(l->proto, &l->addr, patience_ms, err,
		    sizeof(err));
		l->polled = false;
		if (l->fd == -1) {
			log_errx("%s: %s %s: cannot open again: %s", l->svc->name,
			    l->proto == PROTO_TCP ? "tcp" : "udp",
			    addr_format((const struct sockaddr *)&l->addr.ss,
			    where, sizeof(where)), err);
			free(l);
			failed++;
			continue;
		}
		set_give_back(l);
	}
	listener_set_free(retired);
	return failed;
}

void
listener_close_all(struct listener_set *set, struct listener_set *pool)
{
	size_t	 i;

	for (i = 0; i < set->n; i++) {
		struct listener *l = set->v[i];

		if (l == NULL)
			continue;
		set->v[i] = NULL;
		if (l->activated && pool != NULL && set_put(pool, l) == 0) {
			l->svc = NULL;
			l->polled = false;
			continue;
		}
		close(l->fd);
		free(l);
	}
}

void
listener_set_free(struct listener_set *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

#ifdef HAVE_SYSTEMD
/* What a passed descriptor is: an IPv4 or IPv6 TCP listener or UDP socket, or -1. */
static int
passed_proto(int fd)
{
	if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) > 0)
		return PROTO_TCP;
	if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_DGRAM, -1, 0) > 0)
		return PROTO_UDP;
	return -1;
}

static bool
passed_dualstack(int fd, const struct bind_addr *a)
{
	int	 v6only = 1;
	socklen_t len = sizeof(v6only);

	if (a->ss.ss_family != AF_INET6 ||
	    !addr_is_wildcard((const struct sockaddr *)&a->ss))
		return false;
	if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) == -1)
		return false;
	return v6only == 0;
}

static struct listener *
passed_adopt(int fd)
{
	struct listener	*l;
	char		 err[NET_ERRLEN];
	int		 proto = passed_proto(fd);

	if (proto == -1) {
		log_warnx("socket activation: descriptor %d is not an IPv4 or "
		    "IPv6 TCP listener or UDP socket: closing it", fd);
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->addr.len = sizeof(l->addr.ss);
	if (getsockname(fd, (struct sockaddr *)&l->addr.ss, &l->addr.len) == -1 ||
	    net_adopt(fd, proto, (const struct sockaddr *)&l->addr.ss,
	    err, sizeof(err)) == -1) {
		log_warnx("socket activation: descriptor %d: %s", fd, err);
		free(l);
		return NULL;
	}
	l->kind = proto == PROTO_TCP ? SRC_TCP : SRC_UDP;
	l->fd = fd;
	l->proto = proto;
	l->activated = true;
	l->dualstack = passed_dualstack(fd, &l->addr);
	return l;
}

size_t
listener_passed(struct listener_set *pool)
{
	struct listener	*l;
	int		 i, n = sd_listen_fds(1);
	size_t		 adopted = 0;

	if (n < 0)
		log_warnx("socket activation: %s", strerror(-n));
	for (i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;

		if ((l = passed_adopt(fd)) == NULL || set_push(pool, l) == -1) {
			close(fd);
			free(l);
			continue;
		}
		adopted++;
	}
	return adopted;
}
#else
size_t
listener_passed(struct listener_set *pool)
{
	(void)pool;
	return 0;
}
#endif
