/* Loading hellod.ini: inih's reader, sections, includes, the assembled configuration. */
#include <sys/types.h>
#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ini.h>

#include "config.h"
#include "config-impl.h"
#include "handler.h"
#include "siphash.h"
#include "util.h"

#define NAME_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

/* Bytes of a line that are kept: enough to tell a line inih cannot take. */
#define LINE_KEEP	512

/* One file (or string) being read; the stream of inih's reader. */
struct source {
	struct parse	*p;
	unsigned	 fileidx;
	bool		 included;
	FILE		*fp;
	const char	*text;		/* when reading from memory */
	char		 buf[LINE_KEEP];
	size_t		 bytes;		/* read from this source so far */
	bool		 toolong;	/* the line did not fit buf */
	bool		 capped;	/* over a size limit: read no further */
	int		 lineno;
	struct sect	*cur;
	/* The key being read: it may go on over indented lines. */
	struct {
		char	*name;
		char	*value;
		size_t	 len;
		int	 line;
		bool	 lines;		/* its continuations are lines of text */
		bool	 closed;	/* takes no more continuations */
		bool	 broken;	/* too long: reported, then dropped */
	}		 pend;
};

/* The longest value a key may have, its continuation lines joined. */
#define VALUE_MAX	65536

/*
 * A value for a key of some handler: kept as read until check time, when
 * the section's handler is known (handler may come after it), unless the
 * section has it already.
 */
static void
handler_value(struct parse *p, struct sect *s, const char *name,
    const char *value, int line)
{
	struct hval *v;
	size_t	 i;

	for (i = 0; i < s->nhvals; i++)
		if (strcmp(s->hvals[i].name, name) == 0) {
			config_sect_error(p, s, line, "duplicate key \"%s\" "
			    "(first at line %d)", name, s->hvals[i].line);
			return;
		}
	if ((v = util_grow(s->hvals, s->nhvals, sizeof(*v))) == NULL) {
		config_report(p, s->fileidx, line, "out of memory");
		return;
	}
	s->hvals = v;
	v = &s->hvals[s->nhvals];
	v->name = strdup(name);
	v->value = strdup(value);
	v->line = line;
	if (v->name == NULL || v->value == NULL) {
		free(v->name);
		free(v->value);
		config_report(p, s->fileidx, line, "out of memory");
		return;
	}
	s->nhvals++;
}

/*
 * A key and its value as one number, summed over a section: the order of
 * the keys makes no difference, any change to a name or a value does.
 */
uint64_t
config_pair_digest(const char *name, const char *value)
{
	static const uint8_t key[16] = "hellod-settings";
	size_t	 nlen = strlen(name), vlen = strlen(value);
	uint8_t	*pair = malloc(nlen + vlen + 1);
	uint64_t h;

	if (pair == NULL)
		return 0;
	memcpy(pair, name, nlen + 1);
	memcpy(pair + nlen + 1, value, vlen);
	h = siphash24(key, pair, nlen + 1 + vlen);
	free(pair);
	return h;
}

bool
config_service_changed(const struct service *a, const struct service *b)
{
	return a->digest != b->digest;
}

/* One "key = value", its value whole, set at line of section s. */
static void
key_apply(struct parse *p, struct sect *s, const char *name, const char *value,
    int line)
{
	const struct key *k, *other;
	char *vn;
	void *base;
	size_t idx;

	if (!s->global)
		s->svc.digest += config_pair_digest(name, value);
	k = config_key_find(name, s->global ? IN_GLOBAL : IN_SERVICE, &other);
	if (k == NULL && !s->global && handler_key_owner(name) != NULL) {
		handler_value(p, s, name, value, line);
		return;
	}
	if (k == NULL) {
		if (other != NULL || handler_key_owner(name) != NULL)
			config_sect_error(p, s, line, "%s: only valid in %s", name,
			    s->global ? "a service section" : "[global]");
		else {
			vn = config_vis(name);
			config_sect_error(p, s, line, "unknown key \"%s\"",
			    vn != NULL ? vn : "?");
			free(vn);
		}
		return;
	}
	idx = (size_t)(k - config_keys);
	if (s->keyline[idx] != 0) {
		config_sect_error(p, s, line,
		    "duplicate key \"%s\" (first at line %d)", name, s->keyline[idx]);
		return;
	}
	s->keyline[idx] = line;
	if (s->global)
		base = s->discard ? (void *)&s->gscratch : (void *)&p->conf->global;
	else
		base = &s->svc;
	config_set_value(p, s, k, value, line, base);
}

/* True when the key called name takes lines of text (message): continuations join with "\n". */
static bool
key_takes_lines(const char *name)
{
	const struct handler *h = handler_key_owner(name);
	const struct key *k = h != NULL ? handler_key(h, name) : NULL;

	return k != NULL && (k->flags & KEY_LINES);
}

/* The key being read is whole: apply it. */
static void
pending_flush(struct source *src)
{
	if (src->pend.name != NULL && src->cur != NULL && !src->pend.broken)
		key_apply(src->p, src->cur, src->pend.name, src->pend.value,
		    src->pend.line);
	free(src->pend.name);
	free(src->pend.value);
	memset(&src->pend, 0, sizeof(src->pend));
}

/*
 * inih's callback: one "key = value" of the section the reader is in.
 * It is applied once its value is whole: when a line that does not
 * continue it comes, or the file ends.
 */
static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct source *src = user;
	char *vn;

	(void)section;	/* The reader keeps track of sections itself. */
	pending_flush(src);
	if (src->cur == NULL) {
		vn = config_vis(name);
		config_report(src->p, src->fileidx, src->lineno,
		    "key \"%s\" before any [section]", vn != NULL ? vn : "?");
		free(vn);
		return 1;
	}
	src->pend.name = strdup(name);
	src->pend.value = strdup(value);
	if (src->pend.name == NULL || src->pend.value == NULL) {
		config_report(src->p, src->fileidx, src->lineno, "out of memory");
		src->pend.broken = true;
		return 1;
	}
	src->pend.len = strlen(value);
	src->pend.line = src->lineno;
	src->pend.lines = key_takes_lines(name);
	return 1;
}

/* True when text, an indented line, reads "KEY = ..." with KEY a key hellod knows. */
static bool
looks_like_key(const char *text)
{
	const struct key *other;
	char	 name[64];
	size_t	 n = strcspn(text, " \t=");

	if (n == 0 || n >= sizeof(name) || text[n + strspn(text + n, " \t")] != '=')
		return false;
	memcpy(name, text, n);
	name[n] = '\0';
	return config_key_find(name, IN_GLOBAL | IN_SERVICE, &other) != NULL ||
	    other != NULL || handler_key_owner(name) != NULL;
}

/*
 * An indented line after a key: more of its value (inih's multi-line
 * values).  A list takes it as more items, message as another line of
 * text, any other key joined with a space.  Inline comments go, as inih
 * drops them from the first line.
 */
static void
pending_continue(struct source *src, char *text)
{
	char	*v, *c, *vn;
	size_t	 n;

	for (c = text; (c = strchr(c, ';')) != NULL; c++)
		if (c > text && isspace((unsigned char)c[-1])) {
			*c = '\0';
			break;
		}
	n = strlen(text);
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		text[--n] = '\0';
	if (src->pend.broken || src->pend.closed || n == 0)
		return;
	/* The key may be one hellod does not know: escape its name. */
	if (!src->pend.lines && looks_like_key(text)) {
		vn = config_vis(src->pend.name);
		config_report(src->p, src->fileidx, src->lineno, "indented line "
		    "continues the value of \"%s\" (line %d): a key starts at the "
		    "beginning of its line", vn != NULL ? vn : "?", src->pend.line);
		free(vn);
		src->pend.closed = true;
		return;
	}
	if (src->pend.len + 1 + n > VALUE_MAX) {
		vn = config_vis(src->pend.name);
		config_report(src->p, src->fileidx, src->pend.line, "%s: value "
		    "longer than %d bytes", vn != NULL ? vn : "?", VALUE_MAX);
		free(vn);
		src->pend.broken = true;
		return;
	}
	if ((v = realloc(src->pend.value, src->pend.len + n + 2)) == NULL) {
		config_report(src->p, src->fileidx, src->lineno, "out of memory");
		src->pend.broken = true;
		return;
	}
	v[src->pend.len++] = src->pend.lines ? '\n' : ' ';
	memcpy(v + src->pend.len, text, n + 1);
	src->pend.len += n;
	src->pend.value = v;
}

/* FNV-1a of a section name, for the table of services by name. */
static size_t
name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

/* The slot of name in p->names: its service, or the empty slot it would take. */
static struct sect **
names_slot(struct parse *p, const char *name)
{
	size_t	 i = name_hash(name) & p->names_mask;

	while (p->names[i] != NULL && strcmp(p->names[i]->name, name) != 0)
		i = (i + 1) & p->names_mask;
	return &p->names[i];
}

/* The service section called name read so far, or NULL: O(1), so -t stays fast. */
static struct sect *
find_service(struct parse *p, const char *name)
{
	return p->names_mask == 0 ? NULL : *names_slot(p, name);
}

/* Remember s by its name, the table kept at most half full; 0, or -1 when out of memory. */
static int
names_add(struct parse *p, struct sect *s)
{
	struct sect **old = p->names;
	size_t	 i, oldsize = p->names_mask + 1, size;

	if (p->names_mask == 0 || p->nsects * 2 > oldsize) {
		size = p->names_mask == 0 ? 64 : oldsize * 2;
		if ((p->names = calloc(size, sizeof(*p->names))) == NULL) {
			p->names = old;
			return -1;
		}
		p->names_mask = size - 1;
		for (i = 0; old != NULL && i < oldsize; i++)
			if (old[i] != NULL)
				*names_slot(p, old[i]->name) = old[i];
		free(old);
	}
	*names_slot(p, s->name) = s;
	return 0;
}

/* The slot of name in conf's table of services: its service, or an empty slot. */
static size_t
byname_slot(const struct config *conf, const char *name)
{
	size_t	 i = name_hash(name) & conf->byname_mask;

	while (conf->byname[i] != NULL && strcmp(conf->byname[i]->name, name) != 0)
		i = (i + 1) & conf->byname_mask;
	return i;
}

/* Index conf's services by name, the table at most half full; -1 when out of memory. */
static int
byname_build(struct config *conf)
{
	size_t	 i, size = 16;

	while (size < conf->nservices * 2)
		size *= 2;
	if ((conf->byname = calloc(size, sizeof(*conf->byname))) == NULL)
		return -1;
	conf->byname_mask = size - 1;
	for (i = 0; i < conf->nservices; i++)
		conf->byname[byname_slot(conf, conf->services[i].name)] =
		    &conf->services[i];
	return 0;
}

static bool
valid_name(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= SERVICE_NAME_MAX && strspn(name, NAME_CHARS) == n;
}

/* The error of a section name that is not one, escaped only then (stravis is not cheap). */
static void
sect_bad_name(struct source *src, const char *name)
{
	char *vn = config_vis(name);

	config_report(src->p, src->fileidx, src->lineno, "invalid section name [%s] "
	    "(1-32 letters, digits, \"_\", \".\" or \"-\")", vn != NULL ? vn : "?");
	free(vn);
}

/* A "[name]" header at the reader's line: later keys belong to it. */
static void
sect_begin(struct source *src, const char *name, bool broken)
{
	struct parse *p = src->p;
	struct sect *s, *first, **ns;
	char *where;

	src->cur = NULL;
	if ((s = util_slab_alloc(&p->sect_slab)) == NULL ||
	    (s->name = strdup(name)) == NULL ||
	    (ns = util_grow(p->sects, p->nsects, sizeof(*ns))) == NULL) {
		if (s != NULL)
			free(s->name);
		config_report(p, src->fileidx, src->lineno, "out of memory");
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
			config_report(p, src->fileidx, src->lineno,
			    "[global] not allowed in an included file");
			s->discard = true;
		} else if (p->gsect != NULL && !broken) {
			where = config_sect_where(p->conf, p->gsect);
			config_report(p, src->fileidx, src->lineno,
			    "duplicate section [global] (first at %s)",
			    where != NULL ? where : "?");
			free(where);
			s->discard = true;
		} else if (!broken)
			p->gsect = s;
		if (s->discard)
			config_defaults(p, s, config_keys, NKEYS, IN_GLOBAL, &s->gscratch);
		return;
	}
	if (!valid_name(name)) {
		if (!broken)
			sect_bad_name(src, name);
		s->discard = true;
	} else if (!broken && (first = find_service(p, name)) != NULL) {
		where = config_sect_where(p->conf, first);
		config_report(p, src->fileidx, src->lineno,
		    "duplicate section [%s] (first at %s)", name,
		    where != NULL ? where : "?");
		free(where);
		s->discard = true;
	} else if (!broken && names_add(p, s) == -1) {
		config_report(p, src->fileidx, src->lineno, "out of memory");
		s->discard = true;
	}
	strlcpy(s->svc.name, name, sizeof(s->svc.name));
	config_defaults(p, s, config_keys, NKEYS, IN_SERVICE, &s->svc);
}

/* A line starting with "[": a section header, or a syntax error. */
static void
section_line(struct source *src, char *start)
{
	char *end, *rest;

	if ((end = strchr(start, ']')) == NULL) {
		config_report(src->p, src->fileidx, src->lineno,
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
		config_report(src->p, src->fileidx, src->lineno,
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
		config_report(src->p, src->fileidx, src->lineno,
		    "syntax error: expected \"key = value\" or \"[section]\"");
		return false;
	}
	if (s == start) {
		config_report(src->p, src->fileidx, src->lineno,
		    "syntax error: missing key name before \"=\"");
		return false;
	}
	return true;
}

static int
source_getc(struct source *src)
{
	int	 c;

	if (src->fp != NULL)
		c = getc_unlocked(src->fp);
	else
		c = *src->text != '\0' ? (unsigned char)*src->text++ : EOF;
	if (c != EOF) {
		src->bytes++;
		src->p->bytes++;
	}
	return c;
}

/* Whether the source is over a size limit: then it is reported, once. */
static bool
source_capped(struct source *src)
{
	if (src->bytes > CONFIG_FILE_MAX)
		config_report(src->p, src->fileidx, src->lineno + 1,
		    "file larger than %d bytes: not read further",
		    CONFIG_FILE_MAX);
	else if (src->p->bytes > CONFIG_TOTAL_MAX)
		config_report(src->p, src->fileidx, src->lineno + 1,
		    "configuration larger than %d bytes in all: not read "
		    "further", CONFIG_TOTAL_MAX);
	else
		return false;
	src->capped = true;
	return true;
}

/*
 * The next raw line of the source into src->buf, its newline included;
 * its length, or -1 at the end.  The line is cut to fit buf (toolong
 * tells), so that no line, however long, costs memory; a source stops
 * at its size limit.
 */
static ssize_t
next_line(struct source *src)
{
	size_t	 n = 0;
	int	 c = EOF;

	src->toolong = false;
	if (src->capped || (src->fp == NULL && src->text == NULL))
		return -1;
	while ((c = source_getc(src)) != EOF) {
		if (source_capped(src))
			return -1;
		if (n + 1 < sizeof(src->buf))
			src->buf[n++] = (char)c;
		else
			src->toolong = true;
		if (c == '\n')
			break;
	}
	if (c == EOF && n == 0)
		return -1;
	src->buf[n] = '\0';
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
	if (len > max || src->toolong) {
		config_report(src->p, src->fileidx, src->lineno,
		    "line too long (more than %zu bytes): continue a long value "
		    "on the next lines, each indented", max);
		/* A value missing a piece is no value; a key line is dropped. */
		if (isspace((unsigned char)line[0]) && src->pend.name != NULL)
			src->pend.broken = true;
		else
			pending_flush(src);
		return str;
	}
	if (memchr(line, '\0', len) != NULL) {
		config_report(src->p, src->fileidx, src->lineno, "syntax error: NUL byte");
		return str;
	}
	for (start = line; isspace((unsigned char)*start); start++)
		;
	if (*start == '\0' || *start == ';' || *start == '#')
		return str;
	if (*start == '[') {
		pending_flush(src);
		section_line(src, start);
		return str;
	}
	/* Indented, after a key: more of its value. */
	if (start > line && src->pend.name != NULL) {
		pending_continue(src, start);
		return str;
	}
	pending_flush(src);
	/* The key line for inih, with the newline it expects (fits: len <= max). */
	if (key_line_ok(src, start)) {
		len = strlen(start);
		memcpy(str, start, len);
		memcpy(str + len, "\n", 2);
	}
	return str;
}

/* Read one file or string through inih into the parse. */
static void
parse_source(struct source *src)
{
	int rc;

	rc = ini_parse_stream(read_line, src, on_key, src);
	pending_flush(src);
	if (rc == -2)
		config_report(src->p, src->fileidx, 0, "out of memory");
	if (src->fp != NULL && ferror(src->fp))
		config_report(src->p, src->fileidx, 0, "read error: %s", strerror(errno));
}

/* Add name to conf->files; its index, or -1 when out of memory. */
static int
add_file(struct parse *p, const char *name)
{
	struct config *conf = p->conf;

	if (util_strv_add(&conf->files, &conf->nfiles, name) == -1)
		return -1;
	return (int)conf->nfiles - 1;
}

static void
read_included(struct parse *p, const char *path, int incline, const struct stat *mainst)
{
	struct source src;
	struct stat st;
	const char *err;
	char *vp;
	int idx;
	FILE *fp;

	if ((fp = config_fopen(path, &st, &err)) == NULL) {
		vp = config_vis(path);
		config_sect_error(p, p->gsect, incline, "include: cannot read \"%s\": %s",
		    vp != NULL ? vp : "?", err);
		free(vp);
		return;
	}
	/* A glob such as "*.ini" next to the main file would match it too. */
	if (mainst != NULL && st.st_dev == mainst->st_dev && st.st_ino == mainst->st_ino) {
		fclose(fp);
		return;
	}
	if ((idx = add_file(p, path)) == -1) {
		config_report(p, 0, 0, "out of memory");
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
 * (the current directory for a string), matches read in sorted order,
 * within the bounds of config_glob().
 */
static void
read_includes(struct parse *p, const char *mainfile, const struct stat *mainst)
{
	const char *pattern = p->conf->global.include;
	char	*full, *vp, *ve, err[512];
	glob_t	 g;
	size_t	 i;
	int	 rc, line;

	if (pattern == NULL || p->gsect == NULL)
		return;
	line = config_key_line(p->gsect, "include", IN_GLOBAL);
	if ((full = config_relative(mainfile, pattern)) == NULL) {
		config_report(p, 0, 0, "out of memory");
		return;
	}
	if ((rc = config_glob(full, &g, err, sizeof(err))) == -1) {
		vp = config_vis(full);
		ve = config_vis(err);
		config_sect_error(p, p->gsect, line, "include: cannot expand "
		    "\"%s\": %s", vp != NULL ? vp : "?", ve != NULL ? ve : "?");
		free(vp);
		free(ve);
	} else if (rc == 0) {
		for (i = 0; i < g.gl_pathc; i++)
			read_included(p, g.gl_pathv[i], line, mainst);
		globfree(&g);
	}
	free(full);
}

/* Free what a service holds: its values, and its handler's settings and resources. */
static void
free_service(struct service *svc)
{
	const struct handler *h = svc->handler;

	config_free_values(config_keys, NKEYS, IN_SERVICE, svc);
	if (h != NULL && svc->hconf != NULL) {
		if (h->release != NULL)
			h->release(svc->hconf);
		config_free_values(h->keys, SIZE_MAX, IN_SERVICE, svc->hconf);
	}
	free(svc->hconf);
	svc->hconf = NULL;
	free(svc->ident);
	svc->ident = NULL;
}

static void
free_global(struct global *g)
{
	config_free_values(config_keys, NKEYS, IN_GLOBAL, g);
}

static void
free_hvals(struct sect *s)
{
	size_t	 i;

	for (i = 0; i < s->nhvals; i++) {
		free(s->hvals[i].name);
		free(s->hvals[i].value);
	}
	free(s->hvals);
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
		config_report(p, 0, 0, "out of memory");
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
		free_hvals(s);
		free(s->port_text);
		free(s->name);
	}
	util_slab_release(&p->sect_slab);
	free(p->sects);
	p->sects = NULL;
	free(p->names);
	p->names = NULL;
	p->names_mask = 0;
}

static struct config *
finish(struct parse *p, config_error_fn errfn, void *arg, unsigned *nerrors)
{
	config_check(p);
	assemble(p);
	if (byname_build(p->conf) == -1)
		config_report(p, 0, 0, "out of memory");
	config_report_flush(p, errfn, arg);
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
	/*
	 * The sections' records (some 550 bytes each) in slabs of their own,
	 * which the end of the load frees whole.  On the heap, a thousand of
	 * them freed after assembly left holes between the configuration's
	 * live allocations that no trim gives back, and every fork copies the
	 * page tables of the heap's every resident page.
	 */
	p->sect_slab = (struct util_slab)UTIL_SLAB(struct sect);
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
	config_defaults(p, &dummy, config_keys, NKEYS, IN_GLOBAL, &p->conf->global);
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
	const char *err;
	FILE *fp;

	if (start(&p, path, errfn, arg, nerrors) == -1)
		return NULL;
	if ((fp = config_fopen(path, &st, &err)) == NULL) {
		config_report(&p, 0, 0, "cannot read: %s", err);
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

/* Free conf and all it owns; the runtime state (service.h) is released apart. */
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
	free(conf->byname);
	free(conf);
}

/* Find a service by name in O(1), or NULL. */
struct service *
config_find(const struct config *conf, const char *name)
{
	if (conf->byname == NULL)
		return NULL;
	return conf->byname[byname_slot(conf, name)];
}

