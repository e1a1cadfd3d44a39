/* The parent's listening sockets: one per service, protocol and address; kept across reloads. */
#include <sys/socket.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "listener.h"
#include "log.h"
#include "net.h"

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

/* Take the listener of old with this protocol and address, if any. */
static struct listener *
set_take(struct listener_set *old, int proto, const struct bind_addr *a)
{
	size_t	 i;

	for (i = 0; old != NULL && i < old->n; i++) {
		struct listener *l = old->v[i];

		if (l != NULL && l->proto == proto &&
		    addr_equal((const struct sockaddr *)&l->addr.ss,
		    (const struct sockaddr *)&a->ss)) {
			old->v[i] = NULL;
			return l;
		}
	}
	return NULL;
}

static struct listener *
listener_open(struct service *svc, int proto, const struct bind_addr *a,
    bool wildcard)
{
	struct listener	*l;
	char		 err[NET_ERRLEN], where[ADDR_STRLEN];
	int		 fd;

	fd = net_listen(proto, (const struct sockaddr *)&a->ss, a->len,
	    err, sizeof(err));
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
set_give_back(struct listener_set *old, struct listener *l)
{
	size_t	 j;

	for (j = 0; j < old->n; j++)
		if (old->v[j] == NULL) {
			old->v[j] = l;
			return;
		}
}

/* Give back to old what a failed build took from it, close what it opened. */
static void
build_undo(struct listener_set *old, struct listener_set *out)
{
	size_t	 i;

	for (i = 0; i < out->n; i++) {
		struct listener *l = out->v[i];

		if (l->reused)
			set_give_back(old, l);
		else {
			close(l->fd);
			free(l);
		}
	}
	listener_set_free(out);
}

/* One address of one service: reuse the socket old has, or open one. */
static int
build_one(struct service *svc, int proto, const struct bind_addr *a,
    bool wildcard, struct listener_set *old, struct listener_set *out)
{
	struct listener	*l;
	bool		 reused = true;

	if ((l = set_take(old, proto, a)) == NULL) {
		reused = false;
		if ((l = listener_open(svc, proto, a, wildcard)) == NULL)
			return errno == EAFNOSUPPORT ? 0 : -1;
	}
	l->reused = reused;
	l->next_svc = svc;
	if (set_push(out, l) == -1) {
		log_errx("%s: out of memory", svc->name);
		if (reused)
			set_give_back(old, l);
		else {
			close(l->fd);
			free(l);
		}
		return -1;
	}
	return 0;
}

static int
build_service(struct service *svc, struct listener_set *old,
    struct listener_set *out)
{
	static const int protos[] = { PROTO_TCP, PROTO_UDP };
	struct bind_addr wild[2];
	const struct bind_addr *addrs = svc->binds;
	size_t	 i, n = svc->nbinds, p;
	bool	 wildcard = n == 0;
	int	 rc = 0;

	if (wildcard) {
		addr_wildcard(AF_INET, svc->port, &wild[0]);
		addr_wildcard(AF_INET6, svc->port, &wild[1]);
		addrs = wild;
		n = 2;
	}
	for (p = 0; p < 2; p++) {
		if (!(svc->protocols & protos[p]))
			continue;
		for (i = 0; i < n; i++)
			if (build_one(svc, protos[p], &addrs[i], wildcard,
			    old, out) == -1)
				rc = -1;
	}
	return rc;
}

int
listener_build(struct config *conf, struct listener_set *old,
    struct listener_set *out)
{
	struct listener_set none = { NULL, 0 };
	size_t	 i;
	int	 rc = 0;

	if (old == NULL)
		old = &none;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < conf->nservices; i++) {
		struct service *svc = &conf->services[i];

		if (svc->enabled && build_service(svc, old, out) == -1)
			rc = -1;
	}
	if (rc == -1) {
		build_undo(old, out);
		return -1;
	}
	/* Only now, with every socket in place, point the listeners at conf. */
	for (i = 0; i < out->n; i++)
		out->v[i]->svc = out->v[i]->next_svc;
	return 0;
}

void
listener_close_all(struct listener_set *set)
{
	size_t	 i;

	for (i = 0; i < set->n; i++) {
		if (set->v[i] == NULL)
			continue;
		close(set->v[i]->fd);
		free(set->v[i]);
		set->v[i] = NULL;
	}
}

void
listener_set_free(struct listener_set *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
}
