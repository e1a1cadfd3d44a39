/* Configuration checks that need a whole section or file, and the -t summary. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* Choose libbsd's OpenBSD strnvis() prototype, which also silences its warning. */
#ifndef LIBBSD_OPENBSD_VIS
#define LIBBSD_OPENBSD_VIS 1
#endif
#include <vis.h>

#include "addr.h"
#include "addrset.h"
#include "config.h"
#include "config-impl.h"
#include "handler.h"
#include "util.h"

/* Give a bind address its service's port, known once the protocols are. */
static void
set_port(struct bind_addr *ba, uint16_t port)
{
	if (ba->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ba->ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&ba->ss)->sin_port = htons(port);
}

/* user and group, when set in s, must exist. */
static void
check_identity(struct parse *p, const struct sect *s, const char *user,
    const char *group, int scope)
{
	char *v;

	if (user != NULL && config_key_line(s, "user", scope) != 0 && getpwnam(user) == NULL) {
		v = config_vis(user);
		config_sect_error(p, s, config_key_line(s, "user", scope),
		    "user: unknown user \"%s\"", v != NULL ? v : "?");
		free(v);
	}
	if (group != NULL && config_key_line(s, "group", scope) != 0 && getgrnam(group) == NULL) {
		v = config_vis(group);
		config_sect_error(p, s, config_key_line(s, "group", scope),
		    "group: unknown group \"%s\"", v != NULL ? v : "?");
		free(v);
	}
}

/* The uid and gid that user and group (either may be NULL) stand for; false if unknown. */
static bool
resolve_ids(const char *user, const char *group, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	struct group *gr;

	if (user == NULL || (pw = getpwnam(user)) == NULL)
		return false;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL)
			return false;
		*gid = gr->gr_gid;
	}
	return true;
}

/*
 * With a [global] user other than root, the parent gives up root once
 * its sockets are bound, so a TCP child can no longer switch to anybody
 * else: a service's own user and group must be those the parent drops
 * to.  Without this check the service would pass -t and start, and then
 * each child would exit right after accept.
 */
static void
check_dropped_identity(struct parse *p, const struct sect *s)
{
	const struct global *g = &p->conf->global;
	const struct service *svc = &s->svc;
	int uline = config_key_line(s, "user", IN_SERVICE);
	int gline = config_key_line(s, "group", IN_SERVICE);
	uid_t puid, cuid;
	gid_t pgid, cgid;

	if (g->user == NULL || (uline == 0 && gline == 0) ||
	    !(svc->protocols & PROTO_TCP))
		return;
	/* An unknown name has its own error already; root stays root. */
	if (!resolve_ids(g->user, g->group, &puid, &pgid) || puid == 0 ||
	    !resolve_ids(svc->user, svc->group, &cuid, &cgid))
		return;
	/* Two names for one uid with other primary groups: the user is at fault. */
	if (uline != 0 && (cuid != puid || (gline == 0 && cgid != pgid)))
		config_sect_error(p, s, uline, "user: cannot differ from [global] "
		    "user (hellod drops to it before serving)");
	if (gline != 0 && cgid != pgid)
		config_sect_error(p, s, gline, "group: cannot differ from %s "
		    "(hellod drops to it before serving)", g->group != NULL ?
		    "[global] group" : "the group of [global] user");
}

static char *
inherit(struct parse *p, const struct sect *s, const char *from)
{
	return from != NULL ? config_strdup(p, s->fileidx, from) : NULL;
}

/* The default source_rate of UDP services, datagrams a second per client. */
#define UDP_SOURCE_RATE	100

/* What a handler's prepare hook reports its errors through. */
struct hctx {
	struct parse	*p;
	struct sect	*s;
};

void
handler_error(struct hctx *ctx, const char *key, const char *fmt, ...)
{
	const struct sect *s = ctx->s;
	char	*body, *safe = NULL;
	va_list	 ap;
	size_t	 i;
	int	 line = s->line;

	for (i = 0; i < s->nhvals; i++)
		if (strcmp(s->hvals[i].name, key) == 0)
			line = s->hvals[i].line;
	va_start(ap, fmt);
	body = config_vformat(fmt, ap);
	va_end(ap);
	/* Names of files may hold any byte; the quotes around them are the handler's. */
	if (body == NULL ||
	    stravis(&safe, body, VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_OCTAL) == -1)
		config_report(ctx->p, s->fileidx, line, "out of memory");
	else
		config_sect_error(ctx->p, s, line, "%s: %s", key, safe);
	free(body);
	free(safe);
}

/*
 * The keys of the service's handler: its defaults, then the values the
 * section set (kept as read until now), into the handler's settings; a
 * key of another handler is an error, and so is a required one missing.
 */
static void
handler_settings(struct parse *p, struct sect *s)
{
	struct service *svc = &s->svc;
	const struct handler *h = svc->handler, *owner;
	const struct key *k;
	size_t	 i;

	if (h->conf_size > 0 && (svc->hconf = calloc(1, h->conf_size)) == NULL) {
		config_report(p, s->fileidx, s->line, "out of memory");
		return;
	}
	config_defaults(p, s, h->keys, SIZE_MAX, IN_SERVICE, svc->hconf);
	for (i = 0; i < s->nhvals; i++) {
		const struct hval *v = &s->hvals[i];

		if ((k = handler_key(h, v->name)) != NULL)
			config_set_value(p, s, k, v->value, v->line, svc->hconf);
		else if ((owner = handler_key_owner(v->name)) != NULL)
			config_sect_error(p, s, v->line, "%s: only valid with "
			    "handler %s", v->name, owner->name);
	}
	for (k = h->keys; k != NULL && k->name != NULL; k++) {
		for (i = 0; i < s->nhvals; i++)
			if (strcmp(s->hvals[i].name, k->name) == 0)
				break;
		if ((k->flags & KEY_REQUIRED) && i == s->nhvals)
			config_sect_error(p, s, s->line, "missing required key "
			    "\"%s\"", k->name);
	}
}

/* Keys that mean something for TCP only, in a service without TCP. */
static void
check_tcp_only(struct parse *p, const struct sect *s)
{
	const struct key *k;
	int	 line;

	if (s->svc.protocols == 0 || (s->svc.protocols & PROTO_TCP))
		return;
	for (k = config_keys; k < config_keys + NKEYS; k++)
		if ((k->flags & KEY_TCP) && (k->scope & IN_SERVICE) &&
		    (line = s->keyline[k - config_keys]) != 0)
			config_sect_error(p, s, line, "%s: only for tcp, and the "
			    "service has no tcp", k->name);
}

/*
 * proxy_protocol and proxy_from go together, and a PROXY header starts a
 * TCP connection: a service that has UDP too cannot ask for one.
 * "proxy_protocol = no" (the default, written out) asks for nothing, and
 * leaves a proxy_from beside it unused.
 */
static void
check_proxy(struct parse *p, const struct sect *s)
{
	int	 pline = config_key_line(s, "proxy_protocol", IN_SERVICE);
	int	 fline = config_key_line(s, "proxy_from", IN_SERVICE);

	bool	 wanted = s->svc.proxy_versions != 0;

	if (wanted && fline == 0)
		config_sect_error(p, s, pline, "proxy_protocol: needs proxy_from, "
		    "the addresses of the balancers that may send a header");
	if (fline != 0 && pline == 0)
		config_sect_error(p, s, fline, "proxy_from: without proxy_protocol");
	if (wanted && (s->svc.protocols & PROTO_UDP) &&
	    (s->svc.protocols & PROTO_TCP))
		config_sect_error(p, s, pline, "proxy_protocol: only for tcp, and "
		    "the service has udp too");
}

/*
 * What a service leaves unset of user, group and log_peer comes from
 * [global], and counts as its own for a reload's "changed".
 */
static void
from_global(struct parse *p, struct sect *s)
{
	struct service *svc = &s->svc;
	const struct global *g = &p->conf->global;
	char	 lp[16];

	if (config_key_line(s, "user", IN_SERVICE) == 0)
		svc->user = inherit(p, s, g->user);
	if (config_key_line(s, "group", IN_SERVICE) == 0)
		svc->group = inherit(p, s, g->group);
	if (config_key_line(s, "log_peer", IN_SERVICE) == 0)
		svc->log_peer = g->log_peer;
	snprintf(lp, sizeof(lp), "%d", (int)svc->log_peer);
	svc->digest += config_pair_digest("user", svc->user ? svc->user : "") +
	    config_pair_digest("group", svc->group ? svc->group : "") +
	    config_pair_digest("log_peer", lp);
}

/* Checks of one service that need the whole section, or [global]. */
static void
check_service(struct parse *p, struct sect *s)
{
	struct service *svc = &s->svc;
	const struct key *k;
	const char *err;
	struct hctx ctx = { .p = p, .s = s };
	size_t i;
	unsigned nerrors;

	for (k = config_keys; k < config_keys + NKEYS; k++)
		if ((k->scope & IN_SERVICE) && (k->flags & KEY_REQUIRED) &&
		    s->keyline[k - config_keys] == 0)
			config_sect_error(p, s, s->line, "missing required key \"%s\"",
			    k->name);
	if (svc->handler != NULL && (svc->protocols & ~svc->handler->protocols))
		config_sect_error(p, s, config_key_line(s, "handler", IN_SERVICE),
		    "handler: %s does not serve %s", svc->handler->name,
		    addr_proto_name(svc->protocols & ~svc->handler->protocols));
	if (s->port_text != NULL) {
		if (addr_parse_port(s->port_text, svc->protocols, &svc->port, &err) == -1)
			config_bad_value(p, s, config_key_line(s, "port", IN_SERVICE),
			    "port", s->port_text, err);
		for (i = 0; i < svc->nbinds; i++)
			set_port(&svc->binds[i], svc->port);
	}
	from_global(p, s);
	/*
	 * source_rate: the value set applies to both protocols; unset, TCP
	 * is unlimited and UDP answers 100 datagrams a second per client, so
	 * that two datagram services cannot answer each other for ever.
	 */
	if (config_key_line(s, "source_rate", IN_SERVICE) != 0)
		svc->source_rate_udp = svc->source_rate_tcp;
	else {
		svc->source_rate_tcp = 0;
		svc->source_rate_udp = UDP_SOURCE_RATE;
	}
	check_tcp_only(p, s);
	check_proxy(p, s);
	svc->limited = svc->allow.n > 0 || svc->deny.n > 0 ||
	    svc->per_source != 0 || svc->source_rate_tcp != 0 ||
	    svc->max_connections != 0 || svc->rate != 0;
	svc->limited_udp = svc->allow.n > 0 || svc->deny.n > 0 ||
	    svc->source_rate_udp != 0 || svc->rate != 0;
	nerrors = p->nerrors;
	if (svc->handler != NULL)
		handler_settings(p, s);
	if (!svc->enabled)
		return;
	/* A handler prepares (loads its files, say) settings without errors only. */
	if (svc->handler != NULL && svc->handler->prepare != NULL &&
	    p->nerrors == nerrors)
		svc->handler->prepare(svc, &ctx);
	check_identity(p, s, svc->user, svc->group, IN_SERVICE);
	check_dropped_identity(p, s);
}

/* The addresses a service listens on: its binds, or both wildcards. */
static size_t
listen_addrs(const struct service *svc, struct bind_addr wild[2],
    const struct bind_addr **out)
{
	if (svc->nbinds > 0) {
		*out = svc->binds;
		return svc->nbinds;
	}
	addr_wildcard(AF_INET, svc->port, &wild[0]);
	addr_wildcard(AF_INET6, svc->port, &wild[1]);
	*out = wild;
	return 2;
}

static bool
listens(const struct sect *s)
{
	return !s->global && !s->discard && s->svc.enabled && s->svc.port != 0 &&
	    s->svc.protocols != 0;
}

/*
 * One socket a service asks for: its section, its place in the service's
 * list, the earliest section it collides with.
 */
struct csock {
	size_t		 sect;
	size_t		 ai;
	int		 proto;
	size_t		 with;		/* NONE, or a section index */
};
#define NONE	((size_t)-1)

/* The sockets of every listening service, in file order; -1 when out of memory. */
static int
csocks_list(struct parse *p, struct addrset *set, struct csock **vp)
{
	static const int protos[] = { PROTO_TCP, PROTO_UDP };
	struct bind_addr wild[2];
	const struct bind_addr *addrs;
	struct csock *v = NULL, *nv;
	size_t	 i, j, k, na, cap = 0;

	for (i = 0; i < p->nsects; i++) {
		const struct service *svc = &p->sects[i]->svc;

		if (!listens(p->sects[i]))
			continue;
		na = listen_addrs(svc, wild, &addrs);
		for (k = 0; k < 2; k++) {
			for (j = 0; j < na && (svc->protocols & protos[k]); j++) {
				if (set->n == cap) {
					cap = cap == 0 ? 64 : cap * 2;
					if ((nv = reallocarray(v, cap,
					    sizeof(*v))) == NULL)
						goto oom;
					v = nv;
				}
				v[set->n] = (struct csock){ .sect = i, .ai = j,
				    .proto = protos[k], .with = NONE };
				if (addrset_add(set, protos[k], &addrs[j],
				    set->n) == -1)
					goto oom;
			}
		}
	}
	*vp = v;
	return 0;
oom:
	free(v);
	return -1;
}

/*
 * The earliest section each socket collides with, from the sorted set:
 * in its group (protocol, family, port), a wildcard collides with
 * everything, an address with the wildcards and itself.
 */
static void
csocks_walk(const struct addrset *set, struct csock *v)
{
	const struct addrset_entry *e = set->v;
	size_t	 g, lo, hi, r, i, gmin, wmin, rmin, m;

	for (g = 0; g < set->n; g = hi) {
		addrset_group(set, e[g].proto, (const struct sockaddr *)&e[g].addr.ss,
		    &lo, &hi);
		gmin = wmin = NONE;
		for (i = g; i < hi; i++) {
			if (v[e[i].tag].sect < gmin)
				gmin = v[e[i].tag].sect;
			if (addr_is_wildcard((const struct sockaddr *)&e[i].addr.ss) &&
			    v[e[i].tag].sect < wmin)
				wmin = v[e[i].tag].sect;
		}
		for (r = g; r < hi; r = i) {
			/* Sorted by tag, so by section, within a run of one address. */
			rmin = v[e[r].tag].sect;
			for (i = r; i < hi && addr_equal((const struct sockaddr *)&e[r].addr.ss,
			    (const struct sockaddr *)&e[i].addr.ss); i++) {
				struct csock *c = &v[e[i].tag];

				m = addr_is_wildcard((const struct sockaddr *)&e[i].addr.ss) ?
				    gmin : (wmin < rmin ? wmin : rmin);
				c->with = m < c->sect ? m : NONE;
			}
		}
	}
}

/*
 * Two enabled services may not share a protocol, address and port.  A
 * sorted set finds every collision in O(n log n), so that a file with
 * tens of thousands of services is checked in moments.  Each service is
 * told, per protocol, its first address that collides with each earlier
 * service.
 */
static void
check_conflicts(struct parse *p)
{
	struct addrset set;
	struct csock *v = NULL;
	struct bind_addr wild[2];
	const struct bind_addr *addrs;
	char	 buf[ADDR_STRLEN], *where;
	size_t	 i, j;

	memset(&set, 0, sizeof(set));
	if (csocks_list(p, &set, &v) == -1) {
		config_report(p, 0, 0, "out of memory");
		addrset_free(&set);
		return;
	}
	addrset_sort(&set);
	csocks_walk(&set, v);
	/* v is in file order: service, protocol, address. */
	for (i = 0; i < set.n; i++) {
		const struct sect *a, *b = p->sects[v[i].sect];

		if (v[i].with == NONE)
			continue;
		for (j = i; j > 0 && v[j - 1].sect == v[i].sect &&
		    v[j - 1].proto == v[i].proto && v[j - 1].with != v[i].with; j--)
			;
		if (j > 0 && v[j - 1].sect == v[i].sect &&
		    v[j - 1].proto == v[i].proto)
			continue;	/* told already about that service */
		a = p->sects[v[i].with];
		listen_addrs(&b->svc, wild, &addrs);
		where = config_sect_where(p->conf, a);
		config_sect_error(p, b, b->line, "%s %s conflicts with [%s] (%s)",
		    addr_proto_name(v[i].proto),
		    addr_format((const struct sockaddr *)&addrs[v[i].ai].ss,
		    buf, sizeof(buf)), a->name, where != NULL ? where : "?");
		free(where);
	}
	addrset_free(&set);
	free(v);
}

/*
 * The checks that wait for the whole configuration: identities, the
 * keys each service needs, ports (their protocols may come after them),
 * qotd quotes and conflicts between services.  Errors are reported.
 */
void
config_check(struct parse *p)
{
	struct sect *s;
	const char *err;
	uint16_t port;
	size_t i;

	if (p->gsect != NULL)
		check_identity(p, p->gsect, p->conf->global.user,
		    p->conf->global.group, IN_GLOBAL);
	for (i = 0; i < p->nsects; i++) {
		s = p->sects[i];
		if (!s->global && !s->discard)
			check_service(p, s);
		else if (!s->global && s->port_text != NULL &&
		    addr_parse_port(s->port_text, s->svc.protocols, &port, &err) == -1)
			config_bad_value(p, s, config_key_line(s, "port", IN_SERVICE),
			    "port", s->port_text, err);
	}
	check_conflicts(p);
}

/* The addresses column of the summary: "*:7" for every address. */
static char *
summary_addrs(const struct service *svc)
{
	char buf[ADDR_STRLEN], *s;
	size_t i, len = svc->nbinds * (ADDR_STRLEN + 1) + 16;

	if ((s = malloc(len)) == NULL)
		return NULL;
	if (svc->nbinds == 0)
		snprintf(s, len, "*:%u", svc->port);
	else
		s[0] = '\0';
	for (i = 0; i < svc->nbinds; i++) {
		if (i > 0)
			strlcat(s, " ", len);
		strlcat(s, addr_format((const struct sockaddr *)&svc->binds[i].ss,
		    buf, sizeof(buf)), len);
	}
	return s;
}

/*
 * Print the -t summary, one aligned line per service:
 * "hello    tcp,udp  127.0.0.1:9999 [::1]:9999  handler=hello".
 */
void
config_summary(const struct config *conf, FILE *out)
{
	size_t i, namew = 7, addrw = 0, n;
	char **addrs;

	if ((addrs = calloc(conf->nservices + 1, sizeof(*addrs))) == NULL)
		return;
	for (i = 0; i < conf->nservices; i++) {
		if ((n = strlen(conf->services[i].name)) > namew)
			namew = n;
		addrs[i] = summary_addrs(&conf->services[i]);
		if (addrs[i] != NULL && (n = strlen(addrs[i])) > addrw)
			addrw = n;
	}
	for (i = 0; i < conf->nservices; i++) {
		fprintf(out, "%-*s  %-7s  %-*s  handler=%s%s\n", (int)namew,
		    conf->services[i].name, addr_proto_name(conf->services[i].protocols),
		    (int)addrw, addrs[i] != NULL ? addrs[i] : "?",
		    conf->services[i].handler->name,
		    conf->services[i].enabled ? "" : " (disabled)");
		free(addrs[i]);
	}
	free(addrs);
}
