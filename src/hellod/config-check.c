/* Configuration checks that need a whole section or file, and the -t summary. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "addrset.h"
#include "config.h"
#include "config-impl.h"
#include "handler.h"
#include "util.h"

/* A qotd quote and its CRLF fit the 512 bytes RFC 865 allows. */
#define QUOTE_MAX	510
/* A qotd file is read whole into memory, so it has a size limit too. */
#define QOTD_FILE_MAX	(1024 * 1024)

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

/*
 * qotd: quotes are separated by blank lines; a quote's lines are joined
 * with "\n", each without its trailing blanks.  Returns an error text, or
 * NULL; *qline is the first line of a quote that is too long.
 */
static const char *
parse_quotes(const char *data, size_t len, struct service *svc, int *qline)
{
	char quote[QUOTE_MAX + 1];
	const char *line, *nl, *end = data + len;
	size_t qlen = 0, n;
	int lineno = 0;

	for (line = data; line < end; line = nl != NULL ? nl + 1 : end) {
		lineno++;
		nl = memchr(line, '\n', (size_t)(end - line));
		n = strnlen(line, (size_t)((nl != NULL ? nl : end) - line));
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			n--;
		if (n == 0) {
			if (qlen > 0 &&
			    util_strv_add(&svc->quotes, &svc->nquotes, quote) == -1)
				return "out of memory";
			qlen = 0;
			continue;
		}
		if (qlen == 0)
			*qline = lineno;
		if (qlen + (qlen > 0) + n > QUOTE_MAX)
			return "too long";
		if (qlen > 0)
			quote[qlen++] = '\n';
		memcpy(quote + qlen, line, n);
		qlen += n;
		quote[qlen] = '\0';
	}
	if (qlen > 0 && util_strv_add(&svc->quotes, &svc->nquotes, quote) == -1)
		return "out of memory";
	return svc->nquotes == 0 ? "empty" : NULL;
}

/*
 * The whole of the qotd file into *data: at most QOTD_FILE_MAX bytes,
 * whatever its size said when it was opened (it may grow, and a file of
 * /proc says 0).  Returns an error text, or NULL.
 */
static const char *
read_capped(int fd, char **data, size_t *len)
{
	char *buf;
	ssize_t n;
	size_t used = 0;

	/* One byte more than allowed tells a file that is too large. */
	if ((buf = malloc(QOTD_FILE_MAX + 1)) == NULL)
		return "out of memory";
	while (used <= QOTD_FILE_MAX) {
		n = read(fd, buf + used, QOTD_FILE_MAX + 1 - used);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			return strerror(errno);
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > QOTD_FILE_MAX) {
		free(buf);
		return "too large";
	}
	*data = buf;
	*len = used;
	return NULL;
}

/* Read the quotes of a qotd service from its file; errors are reported. */
static void
load_quotes(struct parse *p, struct sect *s)
{
	struct service *svc = &s->svc;
	struct stat st;
	const char *err;
	char *vp, *data = NULL;
	size_t len = 0;
	int line = config_key_line(s, "file", IN_SERVICE), qline = 0, fd;

	if ((fd = config_open(svc->file_path, &st, &err)) != -1) {
		if (st.st_size > QOTD_FILE_MAX)
			err = "too large";
		else if ((err = read_capped(fd, &data, &len)) == NULL) {
			err = parse_quotes(data, len, svc, &qline);
			free(data);
		}
		close(fd);
	}
	if (err == NULL)
		return;
	vp = config_vis(svc->file_path);
	if (vp == NULL)
		config_report(p, s->fileidx, line, "out of memory");
	else if (strcmp(err, "too long") == 0)
		config_sect_error(p, s, line, "file: quote at line %d of \"%s\" is longer "
		    "than %d bytes", qline, vp, QUOTE_MAX);
	else if (strcmp(err, "too large") == 0)
		config_sect_error(p, s, line, "file: \"%s\" is larger than 1 MiB", vp);
	else if (strcmp(err, "empty") == 0)
		config_sect_error(p, s, line, "file: no quote in \"%s\"", vp);
	else
		config_sect_error(p, s, line, "file: cannot read \"%s\": %s", vp, err);
	free(vp);
}

static char *
inherit(struct parse *p, const struct sect *s, const char *from)
{
	return from != NULL ? config_strdup(p, s->fileidx, from) : NULL;
}

/* The default source_rate of UDP services, datagrams a second per client. */
#define UDP_SOURCE_RATE	100

/* Checks of one service that need the whole section, or [global]. */
static void
check_service(struct parse *p, struct sect *s)
{
	struct service *svc = &s->svc;
	const struct global *g = &p->conf->global;
	const struct key *k;
	const char *err;
	char *resolved;
	size_t i;
	int line;

	for (k = config_keys; k < config_keys + NKEYS; k++) {
		if (!(k->scope & IN_SERVICE))
			continue;
		line = s->keyline[k - config_keys];
		if (line == 0 && ((k->flags & KEY_REQUIRED) || ((k->flags & KEY_NEEDED) &&
		    svc->handler != NULL && strcmp(svc->handler->name, k->only) == 0)))
			config_sect_error(p, s, s->line, "missing required key \"%s\"",
			    k->name);
		if (line != 0 && k->only != NULL && svc->handler != NULL &&
		    strcmp(svc->handler->name, k->only) != 0)
			config_sect_error(p, s, line, "%s: only valid with handler %s",
			    k->name, k->only);
	}
	if (svc->handler != NULL && (svc->protocols & ~svc->handler->protocols))
		config_sect_error(p, s, config_key_line(s, "handler", IN_SERVICE),
		    "handler: %s does not serve %s", svc->handler->name,
		    (svc->protocols & ~svc->handler->protocols & PROTO_TCP) ? "tcp" : "udp");
	if (s->port_text != NULL) {
		if (addr_parse_port(s->port_text, svc->protocols, &svc->port, &err) == -1)
			config_bad_value(p, s, config_key_line(s, "port", IN_SERVICE),
			    "port", s->port_text, err);
		for (i = 0; i < svc->nbinds; i++)
			set_port(&svc->binds[i], svc->port);
	}
	if (config_key_line(s, "user", IN_SERVICE) == 0)
		svc->user = inherit(p, s, g->user);
	if (config_key_line(s, "group", IN_SERVICE) == 0)
		svc->group = inherit(p, s, g->group);
	if (config_key_line(s, "log_peer", IN_SERVICE) == 0)
		svc->log_peer = g->log_peer;
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
	if (svc->file_path != NULL) {
		resolved = config_relative(p->conf->files[s->fileidx], svc->file_path);
		if (resolved == NULL) {
			config_report(p, s->fileidx, s->line, "out of memory");
			return;
		}
		free(svc->file_path);
		svc->file_path = resolved;
	}
	if (!svc->enabled)
		return;
	check_identity(p, s, svc->user, svc->group, IN_SERVICE);
	check_dropped_identity(p, s);
	if (svc->handler == &handler_qotd && svc->file_path != NULL)
		load_quotes(p, s);
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

/* One socket a service asks for: its section, its place in the service's list, the earliest section it collides with. */
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
		    v[i].proto == PROTO_TCP ? "tcp" : "udp",
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
