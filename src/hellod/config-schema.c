/* The configuration schema: one table of every key, and the parsers of its values. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "proxy.h"
#include "addr.h"
#include "config.h"
#include "config-impl.h"
#include "handler.h"
#include "log.h"
#include "util.h"

#define SECOND_MS	1000U
#define MINUTE_MS	(60 * SECOND_MS)
#define HOUR_MS		(60 * MINUTE_MS)
#define DAY_MS		(24 * HOUR_MS)

#define GLOBAL(f)	.scope = IN_GLOBAL, .offset = offsetof(struct global, f), \
			.size = sizeof(((struct global *)0)->f)
#define SERVICE(f)	.scope = IN_SERVICE, .offset = offsetof(struct service, f), \
			.size = sizeof(((struct service *)0)->f)

/*
 * The schema: every key of hellod.ini but the handlers' own (each
 * handler-NAME.c has a table of those), its type, bounds and default.  A
 * service's user, group and log_peer have no default of their own: they
 * are taken from [global] once the whole configuration is read.
 */
const struct key config_keys[] = {
	{ .name = "user", .type = KEY_STRING, .flags = KEY_NONEMPTY, GLOBAL(user) },
	{ .name = "group", .type = KEY_STRING, .flags = KEY_NONEMPTY, GLOBAL(group) },
	{ .name = "pidfile", .type = KEY_STRING, .flags = KEY_NONEMPTY, GLOBAL(pidfile) },
	{ .name = "facility", .type = KEY_FACILITY, .def = "daemon", GLOBAL(facility) },
	{ .name = "log_level", .type = KEY_LEVEL, .def = "info", GLOBAL(log_level) },
	{ .name = "max_children", .type = KEY_UINT, .min = 1, .max = 65535,
	    .def = "512", GLOBAL(max_children) },
	{ .name = "shutdown_grace", .type = KEY_DURATION, .min = 0, .max = HOUR_MS,
	    .def = "5s", GLOBAL(shutdown_grace_ms) },
	{ .name = "include", .type = KEY_STRING, .flags = KEY_NONEMPTY, GLOBAL(include) },
	{ .name = "control", .type = KEY_STRING, .flags = KEY_NONEMPTY | KEY_SOCKPATH,
	    GLOBAL(control) },
	{ .name = "log_peer", .type = KEY_LOG_PEER, .def = "full", GLOBAL(log_peer) },
	{ .name = "log", .type = KEY_LOG, .def = "syslog", GLOBAL(journal) },

	{ .name = "protocol", .type = KEY_PROTOCOLS, .flags = KEY_REQUIRED, SERVICE(protocols) },
	{ .name = "port", .type = KEY_PORT, .flags = KEY_REQUIRED, SERVICE(port) },
	{ .name = "bind", .type = KEY_BINDS, SERVICE(binds) },
	{ .name = "handler", .type = KEY_HANDLER, .flags = KEY_REQUIRED, SERVICE(handler) },
	{ .name = "enabled", .type = KEY_BOOL, .def = "yes", SERVICE(enabled) },
	{ .name = "user", .type = KEY_STRING, .flags = KEY_NONEMPTY, SERVICE(user) },
	{ .name = "group", .type = KEY_STRING, .flags = KEY_NONEMPTY, SERVICE(group) },
	{ .name = "idle_timeout", .type = KEY_DURATION, .min = 0, .max = DAY_MS,
	    .def = "60s", SERVICE(idle_timeout_ms) },
	{ .name = "log_connections", .type = KEY_BOOL, .def = "yes", SERVICE(log_connections) },
	{ .name = "log_peer", .type = KEY_LOG_PEER, SERVICE(log_peer) },
	/* Stored for TCP; check_service() copies it for UDP, or sets UDP's default. */
	{ .name = "source_rate", .type = KEY_RATE, .min = 1, .max = 1000000,
	    SERVICE(source_rate_tcp) },
	{ .name = "source_prefix", .type = KEY_PREFIXES, .def = "32 64",
	    SERVICE(source_prefix4) },
	{ .name = "allow", .type = KEY_ACL, SERVICE(allow) },
	{ .name = "deny", .type = KEY_ACL, SERVICE(deny) },
	{ .name = "max_connections", .type = KEY_RATE, .flags = KEY_COUNT | KEY_TCP,
	    .min = 1, .max = 65535, SERVICE(max_connections) },
	{ .name = "per_source", .type = KEY_RATE, .flags = KEY_COUNT | KEY_TCP,
	    .min = 1, .max = 65535, SERVICE(per_source) },
	{ .name = "rate", .type = KEY_RATE, .min = 1, .max = 1000000, SERVICE(rate) },
	{ .name = "max_duration", .type = KEY_DURATION, .flags = KEY_UNLIMITED | KEY_TCP,
	    .min = 100, .max = 30 * DAY_MS, SERVICE(max_duration_ms) },
	{ .name = "refuse_message", .type = KEY_STRING, .flags = KEY_NONEMPTY | KEY_TCP,
	    SERVICE(refuse_message) },

	{ .name = "proxy_protocol", .type = KEY_PROXY, .flags = KEY_TCP,
	    SERVICE(proxy_versions) },
	{ .name = "proxy_from", .type = KEY_ACL, .flags = KEY_TCP, SERVICE(proxy_from) },
};
_Static_assert(sizeof(config_keys) / sizeof(config_keys[0]) == NKEYS,
    "NKEYS in config-impl.h must count the keys of the schema");

static const char *const log_peer_names[] = {
	[LOG_PEER_FULL] = "full", [LOG_PEER_PREFIX] = "prefix",
	[LOG_PEER_HASH] = "hash", [LOG_PEER_NONE] = "none",
};

/*
 * source_prefix: the IPv4 prefix length (0-32), then the IPv6 one (0-128),
 * into the service at base.  Returns 0, or -1 with a static message.
 */
static int
parse_prefixes(const char *v, void *base, const char **err)
{
	struct service *svc = base;
	long long	 p4, p6;
	char		 a[8], b[8], extra;
	const char	*e4 = NULL, *e6 = NULL;

	*err = "must be an IPv4 then an IPv6 prefix length, such as \"32 64\" "
	    "(0-32 and 0-128)";
	if (sscanf(v, "%7s %7s %c", a, b, &extra) != 2 ||
	    strspn(a, "0123456789") != strlen(a) ||
	    strspn(b, "0123456789") != strlen(b))
		return -1;
	p4 = strtonum(a, 0, 32, &e4);
	p6 = strtonum(b, 0, 128, &e6);
	if (e4 != NULL || e6 != NULL)
		return -1;
	svc->source_prefix4 = (unsigned)p4;
	svc->source_prefix6 = (unsigned)p6;
	*err = NULL;
	return 0;
}

/*
 * Booleans: yes/no, true/false, on/off, 1/0, in any case.  Returns 0, or
 * -1 with a static message in *err.
 */
int
config_parse_bool(const char *s, bool *out, const char **err)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	*err = "must be yes/no, true/false, on/off or 1/0";
	return -1;
}

/*
 * Durations: a whole number of seconds with an optional unit, ms, s, m
 * or h ("30", "30s", "500ms", "5m", "1h"), into milliseconds.  Returns 0,
 * or -1 with a static message in *err.
 */
int
config_parse_duration(const char *s, unsigned *ms, const char **err)
{
	unsigned long long n = 0, unit;
	const char *p = s;

	*err = "must be a duration such as 30, 30s, 500ms, 5m or 1h";
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (unsigned)(*p - '0');
		if (n > UINT_MAX) {
			*err = "too large";
			return -1;
		}
	}
	if (*p == '\0' || strcmp(p, "s") == 0)
		unit = SECOND_MS;
	else if (strcmp(p, "ms") == 0)
		unit = 1;
	else if (strcmp(p, "m") == 0)
		unit = MINUTE_MS;
	else if (strcmp(p, "h") == 0)
		unit = HOUR_MS;
	else
		return -1;
	if (n * unit > UINT_MAX) {
		*err = "too large";
		return -1;
	}
	*ms = (unsigned)(n * unit);
	*err = NULL;
	return 0;
}

/* A duration in the largest unit that keeps it whole ("24h", "1500ms"). */
static void
format_duration(unsigned ms, char *buf, size_t len)
{
	if (ms != 0 && ms % HOUR_MS == 0)
		snprintf(buf, len, "%uh", ms / HOUR_MS);
	else if (ms != 0 && ms % MINUTE_MS == 0)
		snprintf(buf, len, "%um", ms / MINUTE_MS);
	else if (ms % SECOND_MS == 0)
		snprintf(buf, len, "%us", ms / SECOND_MS);
	else
		snprintf(buf, len, "%ums", ms);
}

/* "tcp", "udp", "tcp udp" or "udp tcp" into PROTO_ bits. */
static int
parse_protocols(const char *s, int *out, const char **err)
{
	char buf[256], *tok, *rest;
	int bit, protos = 0;

	*err = "must be tcp, udp or \"tcp udp\"";
	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -1;
	rest = buf;
	while ((tok = strsep(&rest, " \t")) != NULL) {
		if (*tok == '\0')
			continue;
		if (strcmp(tok, "tcp") == 0)
			bit = PROTO_TCP;
		else if (strcmp(tok, "udp") == 0)
			bit = PROTO_UDP;
		else
			return -1;
		if (protos & bit) {
			*err = bit == PROTO_TCP ? "tcp listed twice" : "udp listed twice";
			return -1;
		}
		protos |= bit;
	}
	if (protos == 0)
		return -1;
	*out = protos;
	return 0;
}

/* A reply template: exactly one %s, and no conversion but %s and %%. */
static const char *
check_template(const char *s)
{
	int nconv = 0;

	for (; *s != '\0'; s++) {
		if (*s != '%')
			continue;
		if (s[1] == '%')
			s++;
		else if (s[1] == 's')
			nconv++, s++;
		else
			return "only %s and %% may follow a %";
	}
	return nconv == 1 ? NULL : "must contain exactly one %s";
}

static void
handler_names(char *buf, size_t len)
{
	size_t i, n;

	for (n = 0; handlers[n] != NULL; n++)
		;
	strlcpy(buf, "must be ", len);
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(buf, i + 1 == n ? " or " : ", ", len);
		strlcat(buf, handlers[i]->name, len);
	}
}

/* bind: space-separated addresses, none of them twice or overlapping. */
static int
parse_binds(struct parse *p, struct sect *s, const struct key *k, const char *v,
    int line)
{
	struct service *svc = &s->svc;
	struct bind_addr ba, *nb;
	char *buf, host[ADDR_STRLEN], host2[ADDR_STRLEN], *tok, *rest, *vt;
	const char *err;
	size_t i;

	if (strspn(v, " \t") == strlen(v)) {
		config_bad_value(p, s, line, k->name, v, "must be one or more addresses");
		return -1;
	}
	if ((buf = config_strdup(p, s->fileidx, v)) == NULL)
		return -1;
	rest = buf;
	while ((tok = strsep(&rest, " \t")) != NULL) {
		if (*tok == '\0')
			continue;
		if (addr_parse(tok, 0, &ba, &err) == -1) {
			vt = config_vis(tok);
			config_sect_error(p, s, line, "bind: invalid address \"%s\" (%s)",
			    vt != NULL ? vt : "?", err);
			free(vt);
			continue;
		}
		for (i = 0; i < svc->nbinds; i++) {
			if (!addr_conflict((struct sockaddr *)&ba.ss,
			    (struct sockaddr *)&svc->binds[i].ss))
				continue;
			addr_format_host((struct sockaddr *)&svc->binds[i].ss,
			    host, sizeof(host));
			if (addr_equal((struct sockaddr *)&ba.ss,
			    (struct sockaddr *)&svc->binds[i].ss))
				config_sect_error(p, s, line, "bind: \"%s\" listed twice",
				    host);
			else
				config_sect_error(p, s, line,
				    "bind: \"%s\" conflicts with \"%s\"",
				    addr_format_host((struct sockaddr *)&ba.ss, host2,
				    sizeof(host2)), host);
			break;
		}
		if (i < svc->nbinds)
			continue;
		nb = util_grow(svc->binds, svc->nbinds, sizeof(*nb));
		if (nb == NULL) {
			config_report(p, s->fileidx, line, "out of memory");
			free(buf);
			return -1;
		}
		svc->binds = nb;
		svc->binds[svc->nbinds++] = ba;
	}
	free(buf);
	return 0;
}

/*
 * allow, deny: addresses and prefixes, IPv4 and IPv6, separated by
 * white space; every bad one is reported.  The list is sorted once
 * whole, for lookups in O(log n).
 */
static int
parse_acl(struct parse *p, struct sect *s, const struct key *k, const char *v,
    int line, struct acl *acl)
{
	struct acl_range r;
	const char *err;
	char	*buf, *tok, *rest, *vt;
	int	 rc = 0;

	if (strspn(v, " \t") == strlen(v)) {
		config_bad_value(p, s, line, k->name, v,
		    "must be one or more addresses or prefixes");
		return -1;
	}
	if ((buf = config_strdup(p, s->fileidx, v)) == NULL)
		return -1;
	for (rest = buf; (tok = strsep(&rest, " \t")) != NULL;) {
		if (*tok == '\0')
			continue;
		if (acl_parse_prefix(tok, &r, &err) == -1) {
			vt = config_vis(tok);
			config_sect_error(p, s, line, "%s: invalid address \"%s\" (%s)",
			    k->name, vt != NULL ? vt : "?", err);
			free(vt);
			rc = -1;
		} else if (acl_add(acl, &r) == -1) {
			config_report(p, s->fileidx, line, "out of memory");
			rc = -1;
			break;
		}
	}
	free(buf);
	acl_finish(acl);
	return rc;
}

static int
set_string(struct parse *p, struct sect *s, const struct key *k, const char *v,
    int line, char **dst)
{
	const char *why = NULL;

	/* "none", the documented default of a path, means none (./none is a file). */
	if ((k->flags & KEY_SOCKPATH) && strcmp(v, "none") == 0) {
		free(*dst);
		*dst = NULL;
		return 0;
	}
	if ((k->flags & KEY_NONEMPTY) && *v == '\0')
		why = "must not be empty";
	else if (k->flags & KEY_TEMPLATE)
		why = check_template(v);
	else if ((k->flags & KEY_SOCKPATH) &&
	    strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		why = "too long for a UNIX socket path";
	if (why != NULL) {
		config_bad_value(p, s, line, k->name, v, why);
		return -1;
	}
	free(*dst);
	if (k->flags & KEY_PATH) {
		if ((*dst = config_relative(p->conf->files[s->fileidx], v)) == NULL)
			config_report(p, s->fileidx, line, "out of memory");
	} else
		*dst = config_strdup(p, s->fileidx, v);
	return 0;
}

static void
store_uint(void *dst, size_t size, unsigned long long n)
{
	if (size == sizeof(size_t)) {
		size_t z = (size_t)n;
		memcpy(dst, &z, size);
	} else {
		unsigned u = (unsigned)n;
		memcpy(dst, &u, sizeof(u));
	}
}

/*
 * Parse v, set at line, as key k into base (a struct global or service,
 * or a handler's settings).  Errors are reported.
 */
int
config_set_value(struct parse *p, struct sect *s, const struct key *k, const char *v,
    int line, void *base)
{
	char *dst = (char *)base + k->offset;
	char why[256], lo[16], hi[16];
	const char *err = NULL;
	const struct handler *h;
	unsigned ms;
	long long n;
	bool b;
	int i;

	switch (k->type) {
	case KEY_STRING:
		return set_string(p, s, k, v, line, (char **)(void *)dst);
	case KEY_BOOL:
		if (config_parse_bool(v, &b, &err) == -1)
			break;
		memcpy(dst, &b, sizeof(b));
		return 0;
	case KEY_DURATION:
		if ((k->flags & KEY_UNLIMITED) && strcmp(v, "unlimited") == 0) {
			store_uint(dst, k->size, 0);
			return 0;
		}
		if (config_parse_duration(v, &ms, &err) == 0 &&
		    (ms < k->min || ms > k->max)) {
			format_duration(k->min, lo, sizeof(lo));
			format_duration(k->max, hi, sizeof(hi));
			snprintf(why, sizeof(why), "must be %s-%s", lo, hi);
			err = why;
		}
		if (err != NULL)
			break;
		store_uint(dst, k->size, ms);
		return 0;
	case KEY_UINT:
		n = strtonum(v, k->min, k->max, &err);
		if (err != NULL || strspn(v, "0123456789") != strlen(v)) {
			snprintf(why, sizeof(why), "must be %u-%u", k->min, k->max);
			err = why;
			break;
		}
		store_uint(dst, k->size, (unsigned long long)n);
		return 0;
	case KEY_PROTOCOLS:
		if (parse_protocols(v, &i, &err) == -1)
			break;
		memcpy(dst, &i, sizeof(i));
		return 0;
	case KEY_PORT:
		/* The protocols may come later: see check_service(). */
		free(s->port_text);
		s->port_text = config_strdup(p, s->fileidx, v);
		return 0;
	case KEY_BINDS:
		return parse_binds(p, s, k, v, line);
	case KEY_HANDLER:
		if ((h = handler_find(v)) != NULL) {
			memcpy(dst, &h, sizeof(h));
			return 0;
		}
		handler_names(why, sizeof(why));
		err = why;
		break;
	case KEY_FACILITY:
		if ((i = log_facility_from_name(v)) != -1) {
			memcpy(dst, &i, sizeof(i));
			return 0;
		}
		err = "must be auth, authpriv, cron, daemon, ftp, kern, lpr, "
		    "mail, news, syslog, user, uucp or local0-local7";
		break;
	case KEY_LEVEL:
		if ((i = log_level_from_name(v)) != -1) {
			memcpy(dst, &i, sizeof(i));
			return 0;
		}
		err = "must be debug, info, notice, warning or err";
		break;
	case KEY_RATE:
		if (strcmp(v, "unlimited") == 0) {
			store_uint(dst, k->size, 0);
			return 0;
		}
		n = strtonum(v, k->min, k->max, &err);
		if (err != NULL || strspn(v, "0123456789") != strlen(v)) {
			snprintf(why, sizeof(why), "must be %u-%u%s, or unlimited",
			    k->min, k->max, (k->flags & KEY_COUNT) ? "" : " a second");
			err = why;
			break;
		}
		store_uint(dst, k->size, (unsigned long long)n);
		return 0;
	case KEY_PREFIXES:
		if (parse_prefixes(v, base, &err) == 0)
			return 0;
		break;
	case KEY_ACL:
		return parse_acl(p, s, k, v, line, (struct acl *)(void *)dst);
	case KEY_LOG:
		if (strcmp(v, "syslog") == 0 || strcmp(v, "journal") == 0) {
			b = strcmp(v, "journal") == 0;
#ifndef HAVE_SYSTEMD
			if (b) {
				err = "needs a hellod built with libsystemd "
				    "(configure without --without-systemd)";
				break;
			}
#endif
			memcpy(dst, &b, sizeof(b));
			return 0;
		}
		err = "must be syslog or journal";
		break;
	case KEY_PROXY:
		if (proxy_parse_versions(v, (unsigned *)(void *)dst, &err) == 0)
			return 0;
		break;
	case KEY_LOG_PEER:
		for (i = 0; i <= LOG_PEER_NONE; i++) {
			if (strcmp(v, log_peer_names[i]) == 0) {
				enum log_peer lp = (enum log_peer)i;
				memcpy(dst, &lp, sizeof(lp));
				return 0;
			}
		}
		err = "must be full, prefix, hash or none";
		break;
	}
	config_bad_value(p, s, line, k->name, v, err);
	return -1;
}

/*
 * Apply the defaults of keys (n of them, or up to a NULL name) to a fresh
 * [global], service or handler's settings at base.
 */
void
config_defaults(struct parse *p, struct sect *s, const struct key *keys,
    size_t n, int scope, void *base)
{
	const struct key *k;
	size_t	 i;

	for (i = 0; keys != NULL && i < n && keys[i].name != NULL; i++) {
		k = &keys[i];
		if (k->def == NULL || !(k->scope & scope))
			continue;
		if (config_set_value(p, s, k, k->def, 0, base) == -1)
			abort();	/* A default that does not parse is a bug. */
	}
}

/* Free what the values of keys (n of them, or up to a NULL name) hold at base. */
void
config_free_values(const struct key *keys, size_t n, int scope, void *base)
{
	const struct key *k;
	void	*v;
	size_t	 i;

	for (i = 0; keys != NULL && i < n && keys[i].name != NULL; i++) {
		k = &keys[i];
		if (!(k->scope & scope))
			continue;
		if (k->type == KEY_ACL)
			acl_free((struct acl *)(void *)((char *)base + k->offset));
		if (k->type != KEY_STRING && k->type != KEY_BINDS)
			continue;
		memcpy(&v, (char *)base + k->offset, sizeof(v));
		free(v);
		memset((char *)base + k->offset, 0, sizeof(v));
	}
}

/*
 * The key called name in scope (IN_GLOBAL or IN_SERVICE), or NULL; then
 * *elsewhere is the key of that name valid in the other scope, if any.
 */
const struct key *
config_key_find(const char *name, int scope, const struct key **elsewhere)
{
	const struct key *k;

	*elsewhere = NULL;
	for (k = config_keys; k < config_keys + NKEYS; k++) {
		if (strcmp(k->name, name) != 0)
			continue;
		if (k->scope & scope)
			return k;
		*elsewhere = k;
	}
	return NULL;
}


/* The key called name in scope, or NULL. */
static const struct key *
config_key(const char *name, int scope)
{
	const struct key *other;

	return config_key_find(name, scope, &other);
}

/* The line at which section s sets the key called name in scope, or 0. */
int
config_key_line(const struct sect *s, const char *name, int scope)
{
	return s->keyline[config_key(name, scope) - config_keys];
}

/* The unsigned value of size bytes at p. */
static unsigned long long
load_uint(const void *p, size_t size)
{
	size_t	 z;
	unsigned u;

	if (size == sizeof(size_t)) {
		memcpy(&z, p, sizeof(z));
		return z;
	}
	memcpy(&u, p, sizeof(u));
	return u;
}

int
config_value(const struct service *svc, const char *name, char *buf,
    size_t len)
{
	const struct key *k = config_key(name, IN_SERVICE);
	const char *base = (const char *)svc, *str;
	bool	 b;

	if (k == NULL && svc->handler != NULL && svc->hconf != NULL &&
	    (k = handler_key(svc->handler, name)) != NULL)
		base = svc->hconf;
	if (k == NULL)
		return -1;
	switch (k->type) {
	case KEY_STRING:
		memcpy(&str, base + k->offset, sizeof(str));
		strlcpy(buf, str != NULL ? str : "", len);
		return 0;
	case KEY_UINT:
	case KEY_RATE:
		snprintf(buf, len, "%llu", load_uint(base + k->offset, k->size));
		return 0;
	case KEY_DURATION:
		format_duration((unsigned)load_uint(base + k->offset, k->size),
		    buf, len);
		return 0;
	case KEY_BOOL:
		memcpy(&b, base + k->offset, sizeof(b));
		strlcpy(buf, b ? "yes" : "no", len);
		return 0;
	default:
		return -1;
	}
}
