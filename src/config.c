/* Configuration: hellod.ini read through inih, checked against one schema table. */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
/* Choose libbsd's OpenBSD strnvis() prototype, which also silences its warning. */
#ifndef LIBBSD_OPENBSD_VIS
#define LIBBSD_OPENBSD_VIS 1
#endif
#include <vis.h>

#include <ini.h>

#include "addr.h"
#include "config.h"
#include "handler.h"
#include "log.h"

#define SECOND_MS	1000U
#define MINUTE_MS	(60 * SECOND_MS)
#define HOUR_MS		(60 * MINUTE_MS)
#define DAY_MS		(24 * HOUR_MS)

/* A qotd quote and its CRLF fit the 512 bytes RFC 865 allows. */
#define QUOTE_MAX	510

#define NAME_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

enum key_type {
	KEY_STRING, KEY_BOOL, KEY_DURATION, KEY_UINT, KEY_PROTOCOLS, KEY_PORT,
	KEY_BINDS, KEY_HANDLER, KEY_FACILITY, KEY_LEVEL, KEY_LOG_PEER,
};

/* Where a key may appear. */
#define IN_GLOBAL	0x1
#define IN_SERVICE	0x2

#define KEY_REQUIRED	0x01	/* every service must set it */
#define KEY_NEEDED	0x02	/* required when the handler is .only */
#define KEY_UNSUPPORTED	0x04	/* documented, not in this version: always an error */
#define KEY_NONEMPTY	0x08
#define KEY_TEMPLATE	0x10	/* exactly one %s */
#define KEY_SOCKPATH	0x20	/* fits sun_path */

struct key {
	const char	*name;
	int		 scope;
	enum key_type	 type;
	unsigned	 flags;
	unsigned	 min, max;	/* KEY_UINT, KEY_DURATION (ms) */
	const char	*def;		/* default, parsed like a value from the file */
	const char	*only;		/* the one handler that uses the key */
	size_t		 offset;	/* in struct global or struct service */
	size_t		 size;
};

#define GLOBAL(f)	.scope = IN_GLOBAL, .offset = offsetof(struct global, f), \
			.size = sizeof(((struct global *)0)->f)
#define SERVICE(f)	.scope = IN_SERVICE, .offset = offsetof(struct service, f), \
			.size = sizeof(((struct service *)0)->f)
#define UNSUPPORTED(n)	{ .name = (n), .scope = IN_GLOBAL | IN_SERVICE, \
			.flags = KEY_UNSUPPORTED }

/*
 * The schema: every key of hellod.ini, its type, bounds and default.  A
 * service's user, group and log_peer have no default of their own: they
 * are taken from [global] once the whole configuration is read.  An
 * empty greeting is allowed and means that no greeting line is sent.
 */
static const struct key keys[] = {
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

	{ .name = "protocol", .type = KEY_PROTOCOLS, .flags = KEY_REQUIRED, SERVICE(protocols) },
	{ .name = "port", .type = KEY_PORT, .flags = KEY_REQUIRED, SERVICE(port) },
	{ .name = "bind", .type = KEY_BINDS, SERVICE(binds) },
	{ .name = "handler", .type = KEY_HANDLER, .flags = KEY_REQUIRED, SERVICE(handler) },
	{ .name = "enabled", .type = KEY_BOOL, .def = "yes", SERVICE(enabled) },
	{ .name = "user", .type = KEY_STRING, .flags = KEY_NONEMPTY, SERVICE(user) },
	{ .name = "group", .type = KEY_STRING, .flags = KEY_NONEMPTY, SERVICE(group) },
	{ .name = "greeting", .type = KEY_STRING, .def = "Welcome!", .only = "hello",
	    SERVICE(greeting) },
	{ .name = "reply", .type = KEY_STRING, .flags = KEY_TEMPLATE, .def = "Hello, %s!",
	    .only = "hello", SERVICE(reply) },
	{ .name = "quit", .type = KEY_STRING, .flags = KEY_NONEMPTY, .def = "exit",
	    .only = "hello", SERVICE(quit) },
	{ .name = "message", .type = KEY_STRING, .flags = KEY_NONEMPTY,
	    .def = "Welcome to hellod!", .only = "banner", SERVICE(message) },
	{ .name = "file", .type = KEY_STRING, .flags = KEY_NONEMPTY | KEY_NEEDED,
	    .only = "qotd", SERVICE(file_path) },
	{ .name = "max_line", .type = KEY_UINT, .min = 1, .max = 65536, .def = "1024",
	    .only = "hello", SERVICE(max_line) },
	{ .name = "idle_timeout", .type = KEY_DURATION, .min = 0, .max = DAY_MS,
	    .def = "60s", SERVICE(idle_timeout_ms) },
	{ .name = "log_connections", .type = KEY_BOOL, .def = "yes", SERVICE(log_connections) },
	{ .name = "log_peer", .type = KEY_LOG_PEER, SERVICE(log_peer) },

	UNSUPPORTED("max_connections"),
	UNSUPPORTED("per_source"),
	UNSUPPORTED("rate"),
	UNSUPPORTED("source_rate"),
	UNSUPPORTED("source_prefix"),
	UNSUPPORTED("max_duration"),
	UNSUPPORTED("allow"),
	UNSUPPORTED("deny"),
	UNSUPPORTED("refuse_message"),
	UNSUPPORTED("exec"),
	UNSUPPORTED("env"),
	UNSUPPORTED("passenv"),
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

/* One [section] as read, until the configuration is assembled. */
struct sect {
	char		*name;
	unsigned	 fileidx;
	int		 line;
	bool		 global;
	bool		 discard;	/* duplicate or misplaced: values checked, then dropped */
	int		 keyline[NKEYS];	/* line of each key, 0: not set */
	char		*port_text;	/* parsed once the protocols are known */
	struct global	 gscratch;	/* values of a discarded [global] */
	struct service	 svc;
};

/* One error, kept so that all of them come out in file and line order. */
struct cerr {
	unsigned	 fileidx;
	int		 line;
	unsigned	 seq;
	char		*msg;
};

struct parse {
	struct config	*conf;
	struct cerr	*errs;
	size_t		 nerrs;
	unsigned	 nerrors;	/* may exceed nerrs when out of memory */
	struct sect    **sects;
	size_t		 nsects;
	struct sect	*gsect;		/* the [global] in force */
};

/* One file (or string) being read; the stream of inih's reader. */
struct source {
	struct parse	*p;
	unsigned	 fileidx;
	bool		 included;
	FILE		*fp;
	const char	*text;		/* when reading from memory */
	char		*buf;
	size_t		 bufcap;
	int		 lineno;
	struct sect	*cur;
};

static const char *const log_peer_names[] = {
	[LOG_PEER_FULL] = "full", [LOG_PEER_PREFIX] = "prefix",
	[LOG_PEER_HASH] = "hash", [LOG_PEER_NONE] = "none",
};

static char	*strfmt(const char *, ...) __attribute__((format(printf, 1, 2)));
static void	report(struct parse *, unsigned, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static void	sect_error(struct parse *, const struct sect *, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* A malloc'd copy of s safe to print (strvis), or NULL when out of memory. */
static char *
vis_dup(const char *s)
{
	char *v;

	if (stravis(&v, s, VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_OCTAL | VIS_DQ) == -1)
		return NULL;
	return v;
}

static char *
vformat(const char *fmt, va_list ap)
{
	va_list aq;
	char *s;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static char *
strfmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	return s;
}

static void
add_error(struct parse *p, unsigned fileidx, int line, char *msg)
{
	struct cerr *e;

	p->nerrors++;
	if (msg == NULL)
		return;
	e = reallocarray(p->errs, p->nerrs + 1, sizeof(*p->errs));
	if (e == NULL) {
		free(msg);
		return;
	}
	p->errs = e;
	e[p->nerrs].fileidx = fileidx;
	e[p->nerrs].line = line;
	e[p->nerrs].seq = (unsigned)p->nerrs;
	e[p->nerrs].msg = msg;
	p->nerrs++;
}

/* "FILE:LINE" of a section's header, safe to print; NULL when out of memory. */
static char *
sect_where(const struct config *conf, const struct sect *s)
{
	char *file, *w;

	if ((file = vis_dup(conf->files[s->fileidx])) == NULL)
		return NULL;
	w = strfmt("%s:%d", file, s->line);
	free(file);
	return w;
}

/* Record "FILE:LINE: message" (or "FILE: message" for line 0). */
static void
report(struct parse *p, unsigned fileidx, int line, const char *fmt, ...)
{
	char *body, *file, *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	body = vformat(fmt, ap);
	va_end(ap);
	/* A file name found by the include glob may hold any byte. */
	file = vis_dup(p->conf->files[fileidx]);
	if (body != NULL && file != NULL) {
		if (line > 0)
			msg = strfmt("%s:%d: %s", file, line, body);
		else
			msg = strfmt("%s: %s", file, body);
	}
	free(body);
	free(file);
	add_error(p, fileidx, line, msg);
}

/* Record an error about section s, prefixed with "[name] ". */
static void
sect_error(struct parse *p, const struct sect *s, int line, const char *fmt, ...)
{
	char *body, *name;
	va_list ap;

	va_start(ap, fmt);
	body = vformat(fmt, ap);
	va_end(ap);
	name = vis_dup(s->name);
	if (body == NULL || name == NULL)
		add_error(p, s->fileidx, line, NULL);
	else
		report(p, s->fileidx, line, "[%s] %s", name, body);
	free(body);
	free(name);
}

/* `[s] key: invalid value "v" (why)` at the key's line. */
static void
bad_value(struct parse *p, const struct sect *s, const struct key *k,
    const char *v, const char *why)
{
	char *vv = vis_dup(v);

	sect_error(p, s, s->keyline[k - keys], "%s: invalid value \"%s\" (%s)",
	    k->name, vv != NULL ? vv : "?", why);
	free(vv);
}

static char *
xstrdup(struct parse *p, unsigned fileidx, const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL)
		report(p, fileidx, 0, "out of memory");
	return d;
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

static void
set_port(struct bind_addr *ba, uint16_t port)
{
	if (ba->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ba->ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&ba->ss)->sin_port = htons(port);
}

/* bind: space-separated addresses, none of them twice or overlapping. */
static int
parse_binds(struct parse *p, struct sect *s, const struct key *k, const char *v)
{
	struct service *svc = &s->svc;
	struct bind_addr ba, *nb;
	char buf[256], host[ADDR_STRLEN], host2[ADDR_STRLEN], *tok, *rest, *vt;
	const char *err;
	size_t i;
	int line = s->keyline[k - keys];

	if (strlcpy(buf, v, sizeof(buf)) >= sizeof(buf) || strspn(v, " \t") == strlen(v)) {
		bad_value(p, s, k, v, "must be one or more addresses");
		return -1;
	}
	rest = buf;
	while ((tok = strsep(&rest, " \t")) != NULL) {
		if (*tok == '\0')
			continue;
		if (addr_parse(tok, 0, &ba, &err) == -1) {
			vt = vis_dup(tok);
			sect_error(p, s, line, "bind: invalid address \"%s\" (%s)",
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
				sect_error(p, s, line, "bind: \"%s\" listed twice", host);
			else
				sect_error(p, s, line, "bind: \"%s\" conflicts with \"%s\"",
				    addr_format_host((struct sockaddr *)&ba.ss, host2,
				    sizeof(host2)), host);
			break;
		}
		if (i < svc->nbinds)
			continue;
		nb = reallocarray(svc->binds, svc->nbinds + 1, sizeof(*nb));
		if (nb == NULL) {
			report(p, s->fileidx, line, "out of memory");
			return -1;
		}
		svc->binds = nb;
		svc->binds[svc->nbinds++] = ba;
	}
	return 0;
}

static int
set_string(struct parse *p, struct sect *s, const struct key *k, const char *v,
    char **dst)
{
	const char *why = NULL;

	if ((k->flags & KEY_NONEMPTY) && *v == '\0')
		why = "must not be empty";
	else if (k->flags & KEY_TEMPLATE)
		why = check_template(v);
	else if ((k->flags & KEY_SOCKPATH) &&
	    strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		why = "too long for a UNIX socket path";
	if (why != NULL) {
		bad_value(p, s, k, v, why);
		return -1;
	}
	free(*dst);
	*dst = xstrdup(p, s->fileidx, v);
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

/* Parse v as key k into base (a struct global or service).  Errors are reported. */
static int
set_value(struct parse *p, struct sect *s, const struct key *k, const char *v, void *base)
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
		return set_string(p, s, k, v, (char **)(void *)dst);
	case KEY_BOOL:
		if (config_parse_bool(v, &b, &err) == -1)
			break;
		memcpy(dst, &b, sizeof(b));
		return 0;
	case KEY_DURATION:
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
		s->port_text = xstrdup(p, s->fileidx, v);
		return 0;
	case KEY_BINDS:
		return parse_binds(p, s, k, v);
	case KEY_HANDLER:
		if ((h = handler_find(v)) != NULL) {
			memcpy(dst, &h, sizeof(h));
			return 0;
		}
		if (strcmp(v, "exec") == 0) {
			sect_error(p, s, s->keyline[k - keys],
			    "handler: \"exec\" is not supported by this version of hellod");
			return -1;
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
	bad_value(p, s, k, v, err);
	return -1;
}

/* Apply the defaults of the schema to a fresh [global] or service. */
static void
apply_defaults(struct parse *p, struct sect *s, int scope, void *base)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].def == NULL || !(keys[i].scope & scope))
			continue;
		if (set_value(p, s, &keys[i], keys[i].def, base) == -1)
			abort();	/* A default that does not parse is a bug. */
	}
}

static const struct key *
key_find(const char *name, int scope, const struct key **elsewhere)
{
	size_t i;

	*elsewhere = NULL;
	for (i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, name) != 0)
			continue;
		if (keys[i].scope & scope)
			return &keys[i];
		*elsewhere = &keys[i];
	}
	return NULL;
}

/* inih's callback: one "key = value" of the section the reader is in. */
static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct source *src = user;
	struct parse *p = src->p;
	struct sect *s = src->cur;
	const struct key *k, *other;
	char *vn;
	void *base;
	size_t idx;

	(void)section;	/* The reader keeps track of sections itself. */
	if (s == NULL) {
		vn = vis_dup(name);
		report(p, src->fileidx, src->lineno, "key \"%s\" before any [section]",
		    vn != NULL ? vn : "?");
		free(vn);
		return 1;
	}
	k = key_find(name, s->global ? IN_GLOBAL : IN_SERVICE, &other);
	if (k == NULL) {
		if (other != NULL)
			sect_error(p, s, src->lineno, "%s: only valid in %s", name,
			    s->global ? "a service section" : "[global]");
		else {
			vn = vis_dup(name);
			sect_error(p, s, src->lineno, "unknown key \"%s\"",
			    vn != NULL ? vn : "?");
			free(vn);
		}
		return 1;
	}
	idx = (size_t)(k - keys);
	if (s->keyline[idx] != 0) {
		sect_error(p, s, src->lineno, "duplicate key \"%s\" (first at line %d)",
		    name, s->keyline[idx]);
		return 1;
	}
	s->keyline[idx] = src->lineno;
	if (k->flags & KEY_UNSUPPORTED) {
		sect_error(p, s, src->lineno, "%s: not supported by this version of hellod",
		    name);
		return 1;
	}
	if (s->global)
		base = s->discard ? (void *)&s->gscratch : (void *)&p->conf->global;
	else
		base = &s->svc;
	set_value(p, s, k, value, base);
	return 1;
}

static struct sect *
find_service(struct parse *p, const char *name, const struct sect *self)
{
	size_t i;

	for (i = 0; i < p->nsects; i++) {
		if (p->sects[i] != self && !p->sects[i]->global && !p->sects[i]->discard &&
		    strcmp(p->sects[i]->name, name) == 0)
			return p->sects[i];
	}
	return NULL;
}

static bool
valid_name(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= SERVICE_NAME_MAX && strspn(name, NAME_CHARS) == n;
}

/* A "[name]" header at the reader's line: later keys belong to it. */
static void
sect_begin(struct source *src, const char *name, bool broken)
{
	struct parse *p = src->p;
	struct sect *s, *first, **ns;
	char *vn, *where;

	src->cur = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->name = strdup(name)) == NULL ||
	    (ns = reallocarray(p->sects, p->nsects + 1, sizeof(*ns))) == NULL) {
		if (s != NULL)
			free(s->name);
		free(s);
		report(p, src->fileidx, src->lineno, "out of memory");
		return;
	}
	p->sects = ns;
	p->sects[p->nsects++] = s;
	s->fileidx = src->fileidx;
	s->line = src->lineno;
	s->discard = broken;
	src->cur = s;
	if (strcmp(name, "global") == 0) {
		s->global = true;
		if (src->included) {
			report(p, src->fileidx, src->lineno,
			    "[global] not allowed in an included file");
			s->discard = true;
		} else if (p->gsect != NULL && !broken) {
			where = sect_where(p->conf, p->gsect);
			report(p, src->fileidx, src->lineno,
			    "duplicate section [global] (first at %s)",
			    where != NULL ? where : "?");
			free(where);
			s->discard = true;
		} else if (!broken)
			p->gsect = s;
		if (s->discard)
			apply_defaults(p, s, IN_GLOBAL, &s->gscratch);
		return;
	}
	vn = vis_dup(name);
	if (!valid_name(name)) {
		if (!broken)
			report(p, src->fileidx, src->lineno, "invalid section name [%s] "
			    "(1-32 letters, digits, \"_\", \".\" or \"-\")",
			    vn != NULL ? vn : "?");
		s->discard = true;
	} else if (!broken && (first = find_service(p, name, s)) != NULL) {
		where = sect_where(p->conf, first);
		report(p, src->fileidx, src->lineno,
		    "duplicate section [%s] (first at %s)", name,
		    where != NULL ? where : "?");
		free(where);
		s->discard = true;
	}
	free(vn);
	strlcpy(s->svc.name, name, sizeof(s->svc.name));
	apply_defaults(p, s, IN_SERVICE, &s->svc);
}

/* A line starting with "[": a section header, or a syntax error. */
static void
section_line(struct source *src, char *start)
{
	char *end, *rest;

	if ((end = strchr(start, ']')) == NULL) {
		report(src->p, src->fileidx, src->lineno,
		    "syntax error: section header without \"]\"");
		/*
		 * The keys that follow belong to no section the user meant:
		 * check their values, then drop them.
		 */
		end = start + strlen(start);
		while (end > start + 1 && isspace((unsigned char)end[-1]))
			end--;
		*end = '\0';
		sect_begin(src, start + 1, true);
		return;
	}
	*end = '\0';
	for (rest = end + 1; isspace((unsigned char)*rest); rest++)
		;
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		report(src->p, src->fileidx, src->lineno,
		    "syntax error: unexpected text after \"]\"");
	}
	sect_begin(src, start + 1, false);
}

/*
 * True when inih will take the line as "key = value": the first "=", ":"
 * or inline comment (";" after a space) is an "=", with a key before it.
 * inih also takes "key: value", which hellod documents no more than it
 * tests, so that is a syntax error here.
 */
static bool
key_line_ok(struct source *src, const char *start)
{
	const char *s;
	bool was_space = false;

	for (s = start; *s != '\0' && *s != '=' && *s != ':' &&
	    !(was_space && *s == ';'); s++)
		was_space = isspace((unsigned char)*s);
	if (*s != '=') {
		report(src->p, src->fileidx, src->lineno,
		    "syntax error: expected \"key = value\" or \"[section]\"");
		return false;
	}
	if (s == start) {
		report(src->p, src->fileidx, src->lineno,
		    "syntax error: missing key name before \"=\"");
		return false;
	}
	return true;
}

/* The next raw line of the source into src->buf; its length, or -1 at the end. */
static ssize_t
next_line(struct source *src)
{
	const char *nl;
	size_t n;
	char *b;

	if (src->fp != NULL)
		return getline(&src->buf, &src->bufcap, src->fp);
	if (src->text == NULL || *src->text == '\0')
		return -1;
	nl = strchr(src->text, '\n');
	n = nl != NULL ? (size_t)(nl - src->text) + 1 : strlen(src->text);
	if (n + 1 > src->bufcap) {
		if ((b = realloc(src->buf, n + 1)) == NULL)
			return -1;
		src->buf = b;
		src->bufcap = n + 1;
	}
	memcpy(src->buf, src->text, n);
	src->buf[n] = '\0';
	src->text += n;
	return (ssize_t)n;
}

/*
 * inih's reader.  It counts lines (so on_key() knows its line), finds
 * every syntax error itself and hands inih an empty line in its place,
 * and strips leading blanks so that inih never glues an indented line
 * onto the previous value as a continuation.
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct source *src = stream;
	size_t len, max = (size_t)num - 3;	/* room for "\r\n\0" */
	ssize_t n;
	char *line, *start;

	if ((n = next_line(src)) == -1)
		return NULL;
	src->lineno++;
	line = src->buf;
	len = (size_t)n;
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (src->lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	strlcpy(str, "\n", (size_t)num);
	if (len > max) {
		report(src->p, src->fileidx, src->lineno,
		    "line too long (more than %zu bytes)", max);
		return str;
	}
	if (memchr(line, '\0', len) != NULL) {
		report(src->p, src->fileidx, src->lineno, "syntax error: NUL byte");
		return str;
	}
	for (start = line; isspace((unsigned char)*start); start++)
		;
	if (*start == '\0' || *start == ';' || *start == '#')
		return str;
	if (*start == '[') {
		section_line(src, start);
		return str;
	}
	if (key_line_ok(src, start))
		snprintf(str, (size_t)num, "%s\n", start);
	return str;
}

/* Read one file or string through inih into the parse. */
static void
parse_source(struct source *src)
{
	int rc;

	rc = ini_parse_stream(read_line, src, on_key, src);
	if (rc == -2)
		report(src->p, src->fileidx, 0, "out of memory");
	if (src->fp != NULL && ferror(src->fp))
		report(src->p, src->fileidx, 0, "read error: %s", strerror(errno));
	free(src->buf);
	src->buf = NULL;
}

/* Add name to conf->files; its index, or -1 when out of memory. */
static int
add_file(struct parse *p, const char *name)
{
	struct config *conf = p->conf;
	char **nf, *s;

	if ((s = strdup(name)) == NULL)
		return -1;
	if ((nf = reallocarray(conf->files, conf->nfiles + 1, sizeof(*nf))) == NULL) {
		free(s);
		return -1;
	}
	conf->files = nf;
	conf->files[conf->nfiles] = s;
	return (int)conf->nfiles++;
}

/* path made relative to the directory of file, as a new string. */
static char *
relative_to(const char *file, const char *path)
{
	const char *slash;

	if (path[0] == '/' || file == NULL || (slash = strrchr(file, '/')) == NULL)
		return strdup(path);
	return strfmt("%.*s/%s", (int)(slash - file), file, path);
}

static void
read_included(struct parse *p, const char *path, int incline, const struct stat *mainst)
{
	struct source src;
	struct stat st;
	char *vp;
	int idx;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL || fstat(fileno(fp), &st) == -1 ||
	    !S_ISREG(st.st_mode)) {
		vp = vis_dup(path);
		sect_error(p, p->gsect, incline, "include: cannot read \"%s\": %s",
		    vp != NULL ? vp : "?", fp == NULL ? strerror(errno) :
		    "not a regular file");
		free(vp);
		if (fp != NULL)
			fclose(fp);
		return;
	}
	/* A glob such as "*.ini" next to the main file would match it too. */
	if (mainst != NULL && st.st_dev == mainst->st_dev && st.st_ino == mainst->st_ino) {
		fclose(fp);
		return;
	}
	if ((idx = add_file(p, path)) == -1) {
		report(p, 0, 0, "out of memory");
		fclose(fp);
		return;
	}
	memset(&src, 0, sizeof(src));
	src.p = p;
	src.fileidx = (unsigned)idx;
	src.included = true;
	src.fp = fp;
	parse_source(&src);
	fclose(fp);
}

/*
 * The include glob of [global]: relative to the main file's directory
 * (the current directory for a string), matches read in sorted order.
 */
static void
read_includes(struct parse *p, const char *mainfile, const struct stat *mainst)
{
	const char *pattern = p->conf->global.include;
	const struct key *k, *other;
	char *full, *vp;
	glob_t g;
	size_t i;
	int rc, line;

	if (pattern == NULL || p->gsect == NULL)
		return;
	k = key_find("include", IN_GLOBAL, &other);
	line = p->gsect->keyline[k - keys];
	if ((full = relative_to(mainfile, pattern)) == NULL) {
		report(p, 0, 0, "out of memory");
		return;
	}
	rc = glob(full, 0, NULL, &g);
	if (rc != 0 && rc != GLOB_NOMATCH) {
		vp = vis_dup(full);
		sect_error(p, p->gsect, line, "include: cannot expand \"%s\"",
		    vp != NULL ? vp : "?");
		free(vp);
	} else if (rc == 0) {
		for (i = 0; i < g.gl_pathc; i++)
			read_included(p, g.gl_pathv[i], line, mainst);
	}
	if (rc != GLOB_NOMATCH)
		globfree(&g);
	free(full);
}

static const struct key *
key_named(const char *name, int scope)
{
	const struct key *other;

	return key_find(name, scope, &other);
}

static int
line_of(const struct sect *s, const char *name, int scope)
{
	return s->keyline[key_named(name, scope) - keys];
}

/* user and group, when set in s, must exist. */
static void
check_identity(struct parse *p, const struct sect *s, const char *user,
    const char *group, int scope)
{
	char *v;

	if (user != NULL && line_of(s, "user", scope) != 0 && getpwnam(user) == NULL) {
		v = vis_dup(user);
		sect_error(p, s, line_of(s, "user", scope), "user: unknown user \"%s\"",
		    v != NULL ? v : "?");
		free(v);
	}
	if (group != NULL && line_of(s, "group", scope) != 0 && getgrnam(group) == NULL) {
		v = vis_dup(group);
		sect_error(p, s, line_of(s, "group", scope), "group: unknown group \"%s\"",
		    v != NULL ? v : "?");
		free(v);
	}
}

static int
add_quote(struct service *svc, const char *q)
{
	char **nq, *d;

	if ((d = strdup(q)) == NULL)
		return -1;
	if ((nq = reallocarray(svc->quotes, svc->nquotes + 1, sizeof(*nq))) == NULL) {
		free(d);
		return -1;
	}
	svc->quotes = nq;
	svc->quotes[svc->nquotes++] = d;
	return 0;
}

/*
 * qotd: quotes are separated by blank lines; a quote's lines are joined
 * with "\n", each without its trailing blanks.  Returns an error text, or
 * NULL; *qline is the first line of a quote that is too long.
 */
static const char *
read_quotes(FILE *fp, struct service *svc, int *qline)
{
	char quote[QUOTE_MAX + 1], *line = NULL;
	size_t cap = 0, qlen = 0, n;
	ssize_t r;
	int lineno = 0;

	while ((r = getline(&line, &cap, fp)) != -1) {
		lineno++;
		n = strnlen(line, (size_t)r);
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			n--;
		if (n == 0) {
			if (qlen > 0 && add_quote(svc, quote) == -1)
				break;
			qlen = 0;
			continue;
		}
		if (qlen == 0)
			*qline = lineno;
		if (qlen + (qlen > 0) + n > QUOTE_MAX) {
			free(line);
			return "too long";
		}
		if (qlen > 0)
			quote[qlen++] = '\n';
		memcpy(quote + qlen, line, n);
		qlen += n;
		quote[qlen] = '\0';
	}
	free(line);
	if (ferror(fp))
		return strerror(errno);
	if (qlen > 0 && add_quote(svc, quote) == -1)
		return "out of memory";
	if (r != -1)
		return "out of memory";
	return svc->nquotes == 0 ? "empty" : NULL;
}

static void
load_quotes(struct parse *p, struct sect *s)
{
	struct service *svc = &s->svc;
	const char *err;
	char *vp;
	int line = line_of(s, "file", IN_SERVICE), qline = 0;
	FILE *fp;

	if ((fp = fopen(svc->file_path, "r")) == NULL)
		err = strerror(errno);
	else {
		err = read_quotes(fp, svc, &qline);
		fclose(fp);
	}
	if (err == NULL)
		return;
	vp = vis_dup(svc->file_path);
	if (vp == NULL)
		report(p, s->fileidx, line, "out of memory");
	else if (strcmp(err, "too long") == 0)
		sect_error(p, s, line, "file: quote at line %d of \"%s\" is longer "
		    "than %d bytes", qline, vp, QUOTE_MAX);
	else if (strcmp(err, "empty") == 0)
		sect_error(p, s, line, "file: no quote in \"%s\"", vp);
	else
		sect_error(p, s, line, "file: cannot read \"%s\": %s", vp, err);
	free(vp);
}

static char *
inherit(struct parse *p, const struct sect *s, const char *from)
{
	return from != NULL ? xstrdup(p, s->fileidx, from) : NULL;
}

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

	for (k = keys; k < keys + NKEYS; k++) {
		if (!(k->scope & IN_SERVICE))
			continue;
		line = s->keyline[k - keys];
		if (line == 0 && ((k->flags & KEY_REQUIRED) || ((k->flags & KEY_NEEDED) &&
		    svc->handler != NULL && strcmp(svc->handler->name, k->only) == 0)))
			sect_error(p, s, s->line, "missing required key \"%s\"", k->name);
		if (line != 0 && k->only != NULL && svc->handler != NULL &&
		    strcmp(svc->handler->name, k->only) != 0)
			sect_error(p, s, line, "%s: only valid with handler %s",
			    k->name, k->only);
	}
	if (svc->handler != NULL && (svc->protocols & ~svc->handler->protocols))
		sect_error(p, s, line_of(s, "handler", IN_SERVICE),
		    "handler: %s does not serve %s", svc->handler->name,
		    (svc->protocols & ~svc->handler->protocols & PROTO_TCP) ? "tcp" : "udp");
	if (s->port_text != NULL) {
		if (addr_parse_port(s->port_text, svc->protocols, &svc->port, &err) == -1)
			bad_value(p, s, key_named("port", IN_SERVICE), s->port_text, err);
		for (i = 0; i < svc->nbinds; i++)
			set_port(&svc->binds[i], svc->port);
	}
	if (line_of(s, "user", IN_SERVICE) == 0)
		svc->user = inherit(p, s, g->user);
	if (line_of(s, "group", IN_SERVICE) == 0)
		svc->group = inherit(p, s, g->group);
	if (line_of(s, "log_peer", IN_SERVICE) == 0)
		svc->log_peer = g->log_peer;
	if (svc->file_path != NULL) {
		resolved = relative_to(p->conf->files[s->fileidx], svc->file_path);
		if (resolved == NULL) {
			report(p, s->fileidx, s->line, "out of memory");
			return;
		}
		free(svc->file_path);
		svc->file_path = resolved;
	}
	if (!svc->enabled)
		return;
	check_identity(p, s, svc->user, svc->group, IN_SERVICE);
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
			where = sect_where(p->conf, a);
			sect_error(p, b, b->line, "%s %s conflicts with [%s] (%s)",
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

static void
free_service(struct service *svc)
{
	size_t i;

	free(svc->user);
	free(svc->group);
	free(svc->greeting);
	free(svc->reply);
	free(svc->quit);
	free(svc->message);
	free(svc->file_path);
	for (i = 0; i < svc->nquotes; i++)
		free(svc->quotes[i]);
	free(svc->quotes);
	free(svc->binds);
}

static void
free_global(struct global *g)
{
	free(g->user);
	free(g->group);
	free(g->pidfile);
	free(g->include);
	free(g->control);
}

static int
cerr_cmp(const void *a, const void *b)
{
	const struct cerr *x = a, *y = b;

	if (x->fileidx != y->fileidx)
		return x->fileidx < y->fileidx ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Move the surviving services into conf and free the parse state. */
static void
assemble(struct parse *p)
{
	struct config *conf = p->conf;
	struct sect *s;
	size_t i, n = 0;

	for (i = 0; i < p->nsects; i++)
		n += !p->sects[i]->global && !p->sects[i]->discard;
	if (n > 0 && (conf->services = calloc(n, sizeof(*conf->services))) == NULL) {
		report(p, 0, 0, "out of memory");
		n = 0;
	}
	for (i = 0; i < p->nsects; i++) {
		s = p->sects[i];
		if (!s->global && !s->discard && conf->nservices < n) {
			s->svc.file = conf->files[s->fileidx];
			s->svc.line = s->line;
			conf->services[conf->nservices++] = s->svc;
		} else if (s->global)
			free_global(&s->gscratch);
		else
			free_service(&s->svc);
		free(s->port_text);
		free(s->name);
		free(s);
	}
	free(p->sects);
	p->sects = NULL;
}

static struct config *
finish(struct parse *p, config_error_fn errfn, void *arg, unsigned *nerrors)
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
			bad_value(p, s, key_named("port", IN_SERVICE), s->port_text, err);
	}
	check_conflicts(p);
	assemble(p);
	if (p->nerrs > 0)
		qsort(p->errs, p->nerrs, sizeof(*p->errs), cerr_cmp);
	for (i = 0; i < p->nerrs; i++) {
		if (errfn != NULL)
			errfn(arg, p->errs[i].msg);
		free(p->errs[i].msg);
	}
	free(p->errs);
	if (nerrors != NULL)
		*nerrors = p->nerrors;
	if (p->nerrors > 0) {
		config_free(p->conf);
		return NULL;
	}
	return p->conf;
}

static int
start(struct parse *p, const char *name, config_error_fn errfn, void *arg,
    unsigned *nerrors)
{
	struct sect dummy;

	memset(p, 0, sizeof(*p));
	if ((p->conf = calloc(1, sizeof(*p->conf))) == NULL ||
	    add_file(p, name) == -1) {
		free(p->conf);
		if (errfn != NULL)
			errfn(arg, "out of memory");
		if (nerrors != NULL)
			*nerrors = 1;
		return -1;
	}
	memset(&dummy, 0, sizeof(dummy));
	apply_defaults(p, &dummy, IN_GLOBAL, &p->conf->global);
	return 0;
}

/*
 * Read and validate the configuration in path and the files its include
 * glob names.  Every error goes to errfn, in file and line order.
 * Returns the config, or NULL when there was at least one error.
 */
struct config *
config_load(const char *path, config_error_fn errfn, void *arg, unsigned *nerrors)
{
	struct parse p;
	struct source src;
	struct stat st;
	FILE *fp;

	if (start(&p, path, errfn, arg, nerrors) == -1)
		return NULL;
	if ((fp = fopen(path, "r")) == NULL || fstat(fileno(fp), &st) == -1) {
		report(&p, 0, 0, "cannot read: %s", strerror(errno));
		if (fp != NULL)
			fclose(fp);
		return finish(&p, errfn, arg, nerrors);
	}
	memset(&src, 0, sizeof(src));
	src.p = &p;
	src.fp = fp;
	parse_source(&src);
	fclose(fp);
	read_includes(&p, path, &st);
	return finish(&p, errfn, arg, nerrors);
}

/*
 * The same from text in memory; name stands for the file in messages.
 * Relative include globs and qotd files are taken from the current
 * directory.
 */
struct config *
config_load_string(const char *name, const char *text, config_error_fn errfn,
    void *arg, unsigned *nerrors)
{
	struct parse p;
	struct source src;

	if (start(&p, name, errfn, arg, nerrors) == -1)
		return NULL;
	memset(&src, 0, sizeof(src));
	src.p = &p;
	src.text = text;
	parse_source(&src);
	read_includes(&p, NULL, NULL);
	return finish(&p, errfn, arg, nerrors);
}

/* Free conf and all it owns; the runtime counters (cnt) belong to the server. */
void
config_free(struct config *conf)
{
	size_t i;

	if (conf == NULL)
		return;
	free_global(&conf->global);
	for (i = 0; i < conf->nservices; i++)
		free_service(&conf->services[i]);
	free(conf->services);
	for (i = 0; i < conf->nfiles; i++)
		free(conf->files[i]);
	free(conf->files);
	free(conf);
}

/* Find a service by name, or NULL. */
struct service *
config_find(const struct config *conf, const char *name)
{
	size_t i;

	for (i = 0; i < conf->nservices; i++) {
		if (strcmp(conf->services[i].name, name) == 0)
			return &conf->services[i];
	}
	return NULL;
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

static const char *
protocols_text(int protocols)
{
	if (protocols == (PROTO_TCP | PROTO_UDP))
		return "tcp,udp";
	return protocols == PROTO_TCP ? "tcp" : "udp";
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
		    conf->services[i].name, protocols_text(conf->services[i].protocols),
		    (int)addrw, addrs[i] != NULL ? addrs[i] : "?",
		    conf->services[i].handler->name,
		    conf->services[i].enabled ? "" : " (disabled)");
		free(addrs[i]);
	}
	free(addrs);
}
