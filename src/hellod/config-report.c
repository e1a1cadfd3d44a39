/* Configuration errors: FILE:LINE reports, kept, sorted by file and line, counted, handed out. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Choose libbsd's OpenBSD strnvis() prototype, which also silences its warning. */
#ifndef LIBBSD_OPENBSD_VIS
#define LIBBSD_OPENBSD_VIS 1
#endif
#include <vis.h>

#include "config.h"
#include "config-impl.h"
#include "util.h"

/* One error, kept so that all of them come out in file and line order. */
struct cerr {
	unsigned	 fileidx;
	int		 line;
	unsigned	 seq;
	char		*msg;
};

/* A malloc'd copy of s safe to print (strvis), or NULL when out of memory. */
char *
config_vis(const char *s)
{
	char *v;

	if (stravis(&v, s, VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_OCTAL | VIS_DQ) == -1)
		return NULL;
	return v;
}

char *
config_vformat(const char *fmt, va_list ap)
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

char *
config_strfmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = config_vformat(fmt, ap);
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
	e = util_grow(p->errs, p->nerrs, sizeof(*p->errs));
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
char *
config_sect_where(const struct config *conf, const struct sect *s)
{
	char *file, *w;

	if ((file = config_vis(conf->files[s->fileidx])) == NULL)
		return NULL;
	w = config_strfmt("%s:%d", file, s->line);
	free(file);
	return w;
}

/* Record "FILE:LINE: message" (or "FILE: message" for line 0). */
void
config_report(struct parse *p, unsigned fileidx, int line, const char *fmt, ...)
{
	char *body, *file, *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	body = config_vformat(fmt, ap);
	va_end(ap);
	/* A file name found by the include glob may hold any byte. */
	file = config_vis(p->conf->files[fileidx]);
	if (body != NULL && file != NULL) {
		if (line > 0)
			msg = config_strfmt("%s:%d: %s", file, line, body);
		else
			msg = config_strfmt("%s: %s", file, body);
	}
	free(body);
	free(file);
	add_error(p, fileidx, line, msg);
}

/* Record an error about section s, prefixed with "[name] ". */
void
config_sect_error(struct parse *p, const struct sect *s, int line,
    const char *fmt, ...)
{
	char *body, *name;
	va_list ap;

	va_start(ap, fmt);
	body = config_vformat(fmt, ap);
	va_end(ap);
	name = config_vis(s->name);
	if (body == NULL || name == NULL)
		add_error(p, s->fileidx, line, NULL);
	else
		config_report(p, s->fileidx, line, "[%s] %s", name, body);
	free(body);
	free(name);
}

/* `[s] key: invalid value "v" (why)` at line. */
void
config_bad_value(struct parse *p, const struct sect *s, int line,
    const char *key, const char *v, const char *why)
{
	char *vv = config_vis(v);

	config_sect_error(p, s, line, "%s: invalid value \"%s\" (%s)", key,
	    vv != NULL ? vv : "?", why);
	free(vv);
}

/* A copy of s, or NULL after reporting that memory ran out. */
char *
config_strdup(struct parse *p, unsigned fileidx, const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL)
		config_report(p, fileidx, 0, "out of memory");
	return d;
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


/* Hand every error to errfn, in file and line order, and forget them. */
void
config_report_flush(struct parse *p, config_error_fn errfn, void *arg)
{
	size_t	 i;

	if (p->nerrs > 0)
		qsort(p->errs, p->nerrs, sizeof(*p->errs), cerr_cmp);
	for (i = 0; i < p->nerrs; i++) {
		if (errfn != NULL)
			errfn(arg, p->errs[i].msg);
		free(p->errs[i].msg);
	}
	free(p->errs);
	p->errs = NULL;
	p->nerrs = 0;
}
