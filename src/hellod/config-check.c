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
#include "config.h"
#include "config-impl.h"
#include "handler.h"

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

/* The line at which s sets the key called name, or 0. */
static int
line_of(const struct sect *s, const char *name, int scope)
{
	return s->keyline[config_key(name, scope) - config_keys];
}

/* user and group, when set in s, must exist. */
static void
check_identity(struct parse *p, const struct sect *s, const char *user,
    const char *group, int scope)
{
	char *v;

	if (user != NULL && line_of(s, "user", scope) != 0 && getpwnam(user) == NULL) {
		v = config_vis(user);
		config_sect_error(p, s, line_of(s, "user", scope),
		    "user: unknown user \"%s\"", v != NULL ? v : "?");
		free(v);
	}
	if (group != NULL && line_of(s, "group", scope) != 0 && getgrnam(group) == NULL) {
		v = config_vis(group);
		config_sect_error(p, s, line_of(s, "group", scope),
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
	int uline = line_of(s, "user", IN_SERVICE);
	int gline = line_of(s, "group", IN_SERVICE);
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
			    config_strv_add(&svc->quotes, &svc->nquotes, quote) == -1)
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
	if (qlen > 0 && config_strv_add(&svc->quotes, &svc->nquotes, quote) == -1)
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
	int line = line_of(s, "file", IN_SERVICE), qline = 0, fd;

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
		config_sect_error(p, s, line_of(s, "handler", IN_SERVICE),
		    "handler: %s does not serve %s", svc->handler->name,
		    (svc->protocols & ~svc->handler->protocols & PROTO_TCP) ? "tcp" : "udp");
	if (s->port_text != NULL) {
		if (addr_parse_port(s->port_text, svc->protocols, &svc->port, &err) == -1)
			config_bad_value(p, s, config_key("port", IN_SERVICE),
			    s->port_text, err);
		for (i = 0; i < svc->nbinds; i++)
			set_port(&svc->binds[i], svc->port);
	}
	if (line_of(s, "user", IN_SERVICE) == 0)
		svc->user = inherit(p, s, g->user);
	if (line_of(s, "group", IN_SERVICE) == 0)
		svc->group = inherit(p, s, g->group);
	if (line_of(s, "log_peer", IN_SERVICE) == 0)
		svc->log_peer = g->log_peer;
	/*
	 * source_rate: the value set applies to both protocols; unset, TCP
	 * is unlimited and UDP answers 100 datagrams a second per client, so
	 * that two datagram services cannot answer each other for ever.
	 */
	if (line_of(s, "source_rate", IN_SERVICE) != 0)
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

/* Report the first address on which b's proto sockets collide with a's. */
static void
check_pair(struct parse *p, const struct sect *a, const struct sect *b, int proto)
{
	struct bind_addr wa[2], wb[2];
	const struct bind_addr *la, *lb;
	size_t na, nb, i, j;
	char buf[ADDR_STRLEN], *where;

	na = listen_addrs(&a->svc, wa, &la);
	nb = listen_addrs(&b->svc, wb, &lb);
	for (j = 0; j < nb; j++) {
		for (i = 0; i < na; i++) {
			if (!addr_conflict((const struct sockaddr *)&lb[j].ss,
			    (const struct sockaddr *)&la[i].ss))
				continue;
			where = config_sect_where(p->conf, a);
			config_sect_error(p, b, b->line, "%s %s conflicts with [%s] (%s)",
			    proto == PROTO_TCP ? "tcp" : "udp",
			    addr_format((const struct sockaddr *)&lb[j].ss, buf, sizeof(buf)),
			    a->name, where != NULL ? where : "?");
			free(where);
			return;
		}
	}
}

static bool
listens(const struct sect *s)
{
	return !s->global && !s->discard && s->svc.enabled && s->svc.port != 0 &&
	    s->svc.protocols != 0;
}

/* Two enabled services may not share a protocol, address and port. */
static void
check_conflicts(struct parse *p)
{
	const struct sect *a, *b;
	size_t i, j;

	for (j = 0; j < p->nsects; j++) {
		b = p->sects[j];
		if (!listens(b))
			continue;
		for (i = 0; i < j; i++) {
			a = p->sects[i];
			if (!listens(a))
				continue;
			if (a->svc.protocols & b->svc.protocols & PROTO_TCP)
				check_pair(p, a, b, PROTO_TCP);
			if (a->svc.protocols & b->svc.protocols & PROTO_UDP)
				check_pair(p, a, b, PROTO_UDP);
		}
	}
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
			config_bad_value(p, s, config_key("port", IN_SERVICE),
			    s->port_text, err);
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
