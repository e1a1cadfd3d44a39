/* Configuration internals shared by the config-*.c modules. */
#ifndef HELLOD_CONFIG_IMPL_H
#define HELLOD_CONFIG_IMPL_H

#include <sys/stat.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "util.h"
#include "config-key.h"

/*
 * Bounds on what a configuration may make hellod read: the bytes of one
 * file and of all of them, the files an include may name, and how far
 * its glob may walk.  A reload runs in the serving parent, so each is
 * reached in bounded time and memory.
 */
#define CONFIG_FILE_MAX		(4 * 1024 * 1024)
#define CONFIG_TOTAL_MAX	(16 * 1024 * 1024)
#define CONFIG_FILES		1024
#define CONFIG_GLOB_DEPTH	4
#define CONFIG_GLOB_ENTRIES	100000

/*
 * The schema table of config-schema.c.  Its length is a constant so that
 * struct sect can keep a line per key; config-schema.c checks it at
 * compile time.
 */
#define NKEYS	32
extern const struct key config_keys[];

/* A value for a key of a handler, kept as read until the section's handler is known. */
struct hval {
	char		*name;
	char		*value;
	int		 line;
};

/* One [section] as read, until the configuration is assembled. */
struct sect {
	char		*name;
	unsigned	 fileidx;
	int		 line;
	bool		 global;
	bool		 discard;	/* duplicate or misplaced: checked, then dropped */
	int		 keyline[NKEYS];	/* line of each key, 0: not set */
	char		*port_text;	/* parsed once the protocols are known */
	struct hval	*hvals;		/* keys of a handler, parsed once it is known */
	size_t		 nhvals;
	struct global	 gscratch;	/* values of a discarded [global] */
	struct service	 svc;
};

struct cerr;		/* config-report.c: one error, kept for sorting */

/* The state of one config_load(), from the first line to the last check. */
struct parse {
	struct config	*conf;
	struct cerr	*errs;
	size_t		 nerrs;
	unsigned	 nerrors;	/* may exceed nerrs when out of memory */
	struct sect    **sects;
	size_t		 nsects;
	struct util_slab sect_slab;	/* where the sects are (config.c: start) */
	struct sect	*gsect;		/* the [global] in force */
	size_t		 bytes;		/* read from every file so far */
	struct sect   **names;		/* services by name: open addressing */
	size_t		 names_mask;	/* size - 1, or 0 before the first */
};

/*
 * The modules call one way: config.c (the loader) uses config-check.c,
 * which uses config-schema.c; all of them use config-file.c and
 * config-report.c, which use nothing of the others.
 */

/* config-report.c: errors as "FILE:LINE: message", kept, sorted, counted. */
void	 config_report(struct parse *, unsigned, int, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	 config_sect_error(struct parse *, const struct sect *, int, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	 config_bad_value(struct parse *, const struct sect *, int, const char *,
	    const char *, const char *);
void	 config_report_flush(struct parse *, config_error_fn, void *);
char	*config_vis(const char *);
char	*config_strfmt(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*config_vformat(const char *, va_list);
char	*config_strdup(struct parse *, unsigned, const char *);
char	*config_sect_where(const struct config *, const struct sect *);
uint64_t config_pair_digest(const char *, const char *);

/* config-file.c: opening the files of a configuration, the include glob. */
FILE	*config_fopen(const char *, struct stat *, const char **);
int	 config_glob(const char *, glob_t *, char *, size_t);
char	*config_relative(const char *, const char *);

/* config-schema.c: the keys, their values and their defaults. */
const struct key *config_key_find(const char *, int, const struct key **);
int	 config_key_line(const struct sect *, const char *, int);
int	 config_set_value(struct parse *, struct sect *, const struct key *,
	    const char *, int, void *);
void	 config_defaults(struct parse *, struct sect *, const struct key *, size_t,
	    int, void *);
void	 config_free_values(const struct key *, size_t, int, void *);

/* config-check.c: the checks that need a whole section or the whole file. */
void	 config_check(struct parse *);

#endif
