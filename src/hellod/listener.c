/* The parent's listening sockets: one per service, protocol and address; kept across reloads. */
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addrset.h"
#include "config.h"
#include "handler.h"
#include "listener.h"
#include "log.h"
#include "net.h"
#include "util.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#include "sdlib.h"
#endif

static int
set_push(struct listener_set *set, struct listener *l)
{
	struct listener **v;

	v = util_grow(set->v, set->n, sizeof(*v));
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

/* Take the listener at position i of set out of it, remembering where it was. */
static struct listener *
set_take_at(struct listener_set *set, size_t i)
{
	struct listener *l = set->v[i];

	set->v[i] = NULL;
	l->from = set;
	l->from_pos = i;
	return l;
}

/* Put l back where set_take_at() took it from. */
static void
set_give_back(struct listener *l)
{
	l->from->v[l->from_pos] = l;
}

/* An index of the listeners of set by protocol and address; -1 when out of memory. */
static int
set_index(const struct listener_set *set, struct addrset *idx)
{
	size_t	 i;

	memset(idx, 0, sizeof(*idx));
	for (i = 0; set != NULL && i < set->n; i++)
		if (set->v[i] != NULL &&
		    addrset_add(idx, set->v[i]->proto, &set->v[i]->addr, i) == -1) {
			addrset_free(idx);
			return -1;
		}
	addrset_sort(idx);
	return 0;
}

/* Take the listener of set with this protocol and address, if any, through its index. */
static struct listener *
set_take(struct listener_set *set, const struct addrset *idx, int proto,
    const struct bind_addr *a)
{
	ssize_t	 i;

	if (set == NULL ||
	    (i = addrset_find(idx, proto, (const struct sockaddr *)&a->ss)) == -1 ||
	    set->v[idx->v[i].tag] == NULL)
		return NULL;
	return set_take_at(set, idx->v[i].tag);
}

/* No child needs a listener: in the daemon's own pages (util_slab). */
static struct util_slab listener_slab = UTIL_SLAB(struct listener);

static struct listener *
listener_alloc(void)
{
	return util_slab_alloc(&listener_slab);
}

void
listener_free(struct listener *l)
{
	util_slab_free(&listener_slab, l);
}

/* The step of listener_open's patience. */
#define PATIENCE_STEP_MS	10

/*
 * Whether the last listener_build() opens its sockets high (net.h): its
 * configuration has NET_HIGH_LISTENERS sockets or more.
 */
static bool build_high;

/* The sockets conf asks for: a wildcard counts twice (:: and 0.0.0.0). */
static size_t
sockets_wanted(const struct config *conf)
{
	const struct service *svc;
	size_t	 i, n = 0;

	for (i = 0; i < conf->nservices; i++) {
		svc = &conf->services[i];
		if (svc->enabled)
			n += (size_t)(((svc->protocols & PROTO_TCP) != 0) +
			    ((svc->protocols & PROTO_UDP) != 0)) *
			    (svc->nbinds > 0 ? svc->nbinds : 2);
	}
	return n;
}

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
		    build_high, err, errlen);
		if (fd != -1 || errno != EADDRINUSE || waited >= patience_ms)
			return fd;
		nanosleep(&step, NULL);
		waited += PATIENCE_STEP_MS;
	}
}

/* The id of the next listener made. */
static unsigned long next_id = 1;

static struct listener *
listener_new(int proto, const struct bind_addr *a)
{
	struct listener	*l;

	if ((l = listener_alloc()) == NULL)
		return NULL;
	l->id = next_id++;
	l->kind = proto == PROTO_TCP ? SRC_TCP : SRC_UDP;
	l->fd = -1;
	l->proto = proto;
	l->addr = *a;
	return l;
}

/*
 * Open l's socket.  Returns 0, or -1 after logging why (errno
 * EAFNOSUPPORT, unlogged, for an IPv6 wildcard this kernel cannot have).
 */
static int
listener_bind(struct listener *l, struct service *svc, bool wildcard,
    unsigned patience_ms)
{
	char	 err[NET_ERRLEN], where[ADDR_STRLEN];

	l->fd = listen_patiently(l->proto, &l->addr, patience_ms, err,
	    sizeof(err));
	if (l->fd != -1)
		return 0;
	/* A kernel without IPv6 still serves the IPv4 wildcard. */
	if (wildcard && l->addr.ss.ss_family == AF_INET6 &&
	    errno == EAFNOSUPPORT)
		return -1;
	log_errx("%s: listen_failed proto=%s addr=%s error=%s", svc->name,
	    addr_proto_name(l->proto), addr_format((const struct sockaddr *)
	    &l->addr.ss, where, sizeof(where)), log_q(err));
	errno = EADDRNOTAVAIL;
	return -1;
}

/* Forget a listener a build took or made: give it back, or close and free it. */
static void
build_drop(struct listener *l)
{
	if (l->from != NULL)
		set_give_back(l);
	else {
		if (l->fd != -1)
			close(l->fd);
		listener_free(l);
	}
}

void
listener_build_undo(struct listener_set *out)
{
	size_t	 i;

	for (i = 0; i < out->n; i++)
		build_drop(out->v[i]);
	listener_set_free(out);
}

/* What one build works from: the sets it takes sockets from, and their indexes. */
struct build {
	struct listener_set *old, *pool;
	struct addrset	 old_idx, pool_idx;
	struct addrset	 retired_idx;	/* addresses to leave pending */
	struct listener_set *out;
};

/*
 * One address of one service: take the socket old or pool has, or open
 * one, or leave it pending when it overlaps a retired socket.  Returns
 * the listener, or NULL: *failed then says whether that is an error or
 * an IPv6 wildcard this kernel cannot have.
 */
static struct listener *
build_one(struct build *b, struct service *svc, int proto,
    const struct bind_addr *a, bool wildcard, bool *failed)
{
	struct listener	*l;

	*failed = false;
	if ((l = set_take(b->old, &b->old_idx, proto, a)) == NULL &&
	    (l = set_take(b->pool, &b->pool_idx, proto, a)) == NULL) {
		if ((l = listener_new(proto, a)) == NULL) {
			log_errx("%s: error op=listen detail=out_of_memory",
			    svc->name);
			*failed = true;
			return NULL;
		}
		l->pending = addrset_overlaps(&b->retired_idx, proto,
		    (const struct sockaddr *)&a->ss);
		if (!l->pending && listener_bind(l, svc, wildcard, 0) == -1) {
			*failed = errno != EAFNOSUPPORT;
			listener_free(l);
			return NULL;
		}
	}
	l->next_svc = svc;
	l->wildcard = wildcard;
	if (set_push(b->out, l) == -1) {
		log_errx("%s: error op=listen detail=out_of_memory", svc->name);
		build_drop(l);
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
build_wildcard(struct build *b, struct service *svc, int proto)
{
	struct bind_addr wild;
	struct listener	*l;
	bool		 failed;

	addr_wildcard(AF_INET6, svc->port, &wild);
	l = build_one(b, svc, proto, &wild, true, &failed);
	if (failed)
		return -1;
	if (l != NULL && l->dualstack)
		return 0;
	addr_wildcard(AF_INET, svc->port, &wild);
	build_one(b, svc, proto, &wild, true, &failed);
	return failed ? -1 : 0;
}

static int
build_service(struct build *b, struct service *svc)
{
	static const int protos[] = { PROTO_TCP, PROTO_UDP };
	size_t	 i, p;
	bool	 failed;
	int	 rc = 0;

	for (p = 0; p < 2; p++) {
		if (!(svc->protocols & protos[p]))
			continue;
		if (svc->nbinds == 0) {
			if (build_wildcard(b, svc, protos[p]) == -1)
				rc = -1;
			continue;
		}
		for (i = 0; i < svc->nbinds; i++) {
			build_one(b, svc, protos[p], &svc->binds[i], false,
			    &failed);
			if (failed)
				rc = -1;
		}
	}
	return rc;
}

int
listener_build(struct config *conf, struct listener_set *old,
    struct listener_set *pool, const struct listener_set *retired,
    struct listener_set *out)
{
	struct build b = { .old = old, .pool = pool, .out = out };
	size_t	 i;
	int	 rc = 0;

	memset(out, 0, sizeof(*out));
	build_high = sockets_wanted(conf) >= NET_HIGH_LISTENERS;
	if (set_index(old, &b.old_idx) == -1 ||
	    set_index(pool, &b.pool_idx) == -1 ||
	    set_index(retired, &b.retired_idx) == -1) {
		log_errx("hellod: error op=listen detail=out_of_memory");
		rc = -1;
	}
	for (i = 0; rc == 0 && i < conf->nservices; i++) {
		struct service *svc = &conf->services[i];

		if (svc->enabled && build_service(&b, svc) == -1)
			rc = -1;
	}
	addrset_free(&b.old_idx);
	addrset_free(&b.pool_idx);
	addrset_free(&b.retired_idx);
	if (rc == -1)
		listener_build_undo(out);
	return rc;
}

int
listener_build_finish(struct listener_set *out, unsigned patience_ms)
{
	size_t	 i;

	for (i = 0; i < out->n; i++) {
		struct listener *l = out->v[i];

		if (!l->pending)
			continue;
		if (listener_bind(l, l->next_svc, l->wildcard, patience_ms) == -1)
			return -1;
		l->pending = false;
	}
	/* Only now, with every socket in place, point the listeners at conf. */
	for (i = 0; i < out->n; i++)
		out->v[i]->svc = out->v[i]->next_svc;
	return 0;
}

/* One address of listener_probe: 1 when it cannot be bound now (said on out), else 0. */
static unsigned
probe_one(const struct service *svc, int proto, const struct bind_addr *a,
    bool wildcard, FILE *out)
{
	char	 err[NET_ERRLEN], where[ADDR_STRLEN];

	if (net_probe(proto, (const struct sockaddr *)&a->ss, a->len, err,
	    sizeof(err)) == 0 || (wildcard && errno == EAFNOSUPPORT))
		return 0;
	fprintf(out, "hellod: warning: %s: %s %s: %s%s\n", svc->name,
	    proto == PROTO_TCP ? "tcp" : "udp",
	    addr_format((const struct sockaddr *)&a->ss, where, sizeof(where)),
	    err, errno == EADDRINUSE ? " (held by another program, or by a "
	    "running hellod)" : "");
	return 1;
}

unsigned
listener_probe(const struct config *conf, FILE *out)
{
	static const int protos[] = { PROTO_TCP, PROTO_UDP };
	struct bind_addr wild;
	unsigned	 busy = 0;
	size_t		 i, j, p;

	for (i = 0; i < conf->nservices; i++) {
		const struct service *svc = &conf->services[i];

		for (p = 0; svc->enabled && p < 2; p++) {
			if (!(svc->protocols & protos[p]))
				continue;
			for (j = 0; j < svc->nbinds; j++)
				busy += probe_one(svc, protos[p],
				    &svc->binds[j], false, out);
			if (svc->nbinds > 0)
				continue;
			addr_wildcard(AF_INET6, svc->port, &wild);
			busy += probe_one(svc, protos[p], &wild, true, out);
			addr_wildcard(AF_INET, svc->port, &wild);
			busy += probe_one(svc, protos[p], &wild, true, out);
		}
	}
	return busy;
}

/* The sockets conf asks for, indexed; -1 when out of memory. */
static int
conf_index(const struct config *conf, struct addrset *idx)
{
	static const int protos[] = { PROTO_TCP, PROTO_UDP };
	struct bind_addr wild[2];
	const struct bind_addr *addrs;
	size_t	 i, j, p, n;

	memset(idx, 0, sizeof(*idx));
	for (i = 0; i < conf->nservices; i++) {
		const struct service *svc = &conf->services[i];

		if (!svc->enabled)
			continue;
		addrs = svc->binds;
		n = svc->nbinds;
		if (n == 0) {
			addr_wildcard(AF_INET6, svc->port, &wild[0]);
			addr_wildcard(AF_INET, svc->port, &wild[1]);
			addrs = wild;
			n = 2;
		}
		for (p = 0; p < 2; p++)
			for (j = 0; j < n && (svc->protocols & protos[p]); j++)
				if (addrset_add(idx, protos[p], &addrs[j], i) == -1) {
					addrset_free(idx);
					return -1;
				}
	}
	addrset_sort(idx);
	return 0;
}

int
listener_retire(const struct config *conf, struct listener_set *old,
    struct listener_set *retired)
{
	struct addrset idx;
	size_t	 i;

	memset(retired, 0, sizeof(*retired));
	if (conf_index(conf, &idx) == -1)
		return -1;
	for (i = 0; i < old->n; i++) {
		struct listener *l = old->v[i];
		const struct sockaddr *sa;

		if (l == NULL || l->activated)
			continue;
		sa = (const struct sockaddr *)&l->addr.ss;
		if (addrset_find(&idx, l->proto, sa) != -1 ||
		    !addrset_overlaps(&idx, l->proto, sa))
			continue;
		if (set_push(retired, set_take_at(old, i)) == -1) {
			set_give_back(l);
			listener_unretire(retired);
			addrset_free(&idx);
			return -1;
		}
	}
	addrset_free(&idx);
	return 0;
}

void
listener_unretire(struct listener_set *retired)
{
	size_t	 i;

	for (i = 0; i < retired->n; i++)
		set_give_back(retired->v[i]);
	listener_set_free(retired);
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
			log_errx("%s: lost proto=%s addr=%s error=%s",
			    l->svc->name, addr_proto_name(l->proto),
			    addr_format((const struct sockaddr *)&l->addr.ss,
			    where, sizeof(where)), log_q(err));
			listener_free(l);
			failed++;
			continue;
		}
		set_give_back(l);
	}
	listener_set_free(retired);
	return failed;
}

void
listener_compact(struct listener_set *set)
{
	size_t	 i, n = 0;

	for (i = 0; i < set->n; i++)
		if (set->v[i] != NULL)
			set->v[n++] = set->v[i];
	set->n = n;
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
		if (l->fd != -1)
			close(l->fd);
		listener_free(l);
	}
}

void
listener_set_free(struct listener_set *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

struct listener *
listener_by_id(const struct listener_set *set, unsigned long id)
{
	size_t	 i;

	for (i = 0; i < set->n; i++)
		if (set->v[i] != NULL && set->v[i]->id == id)
			return set->v[i];
	return NULL;
}

bool
listener_forks(const struct listener *l)
{
	return l->proto == PROTO_TCP ||
	    (l->svc != NULL && l->svc->handler->udp_spawn != NULL);
}

#ifdef HAVE_SYSTEMD
/* What a passed descriptor is: an IPv4 or IPv6 TCP listener or UDP socket, or -1. */
static int
passed_proto(const struct sdlib *sd, int fd)
{
	if (sd->is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) > 0)
		return PROTO_TCP;
	if (sd->is_socket_inet(fd, AF_UNSPEC, SOCK_DGRAM, -1, 0) > 0)
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
passed_adopt(const struct sdlib *sd, int fd)
{
	struct listener	*l;
	char		 err[NET_ERRLEN];
	int		 proto = passed_proto(sd, fd);

	if (proto == -1) {
		log_warnx("hellod: activation_error fd=%d detail=\"not an IPv4 "
		    "or IPv6 TCP listener or UDP socket: closed\"", fd);
		return NULL;
	}
	if ((l = listener_alloc()) == NULL)
		return NULL;
	l->id = next_id++;
	l->fd = -1;
	l->addr.len = sizeof(l->addr.ss);
	if (getsockname(fd, (struct sockaddr *)&l->addr.ss, &l->addr.len) == -1 ||
	    net_adopt(fd, proto, (const struct sockaddr *)&l->addr.ss,
	    err, sizeof(err)) == -1) {
		log_warnx("hellod: activation_error fd=%d detail=%s", fd,
		    log_q(err));
		listener_free(l);
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
	const struct sdlib *sd;
	struct listener	*l;
	int		 i, n;
	size_t		 adopted = 0;

	/* Only then is libsystemd loaded. */
	if (getenv("LISTEN_FDS") == NULL || (sd = sdlib_get()) == NULL)
		return 0;
	n = sd->listen_fds(1);

	if (n < 0)
		log_warnx("hellod: activation_error error=%s",
		    log_q(strerror(-n)));
	for (i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;

		if ((l = passed_adopt(sd, fd)) == NULL || set_push(pool, l) == -1) {
			close(fd);
			listener_free(l);
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
