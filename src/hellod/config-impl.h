/* Configuration internals shared by config.c, config-schema.c and config-check.c. */
#ifndef HELLOD_CONFIG_IMPL_H
#define HELLOD_CONFIG_IMPL_H

#include <sys/stat.h>
#include <glob.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

enum key_type {
	KEY_STRING, KEY_BOOL, KEY_DURATION, KEY_UINT, KEY_PROTOCOLS, KEY_PORT,
	KEY_BINDS, KEY_HANDLER, KEY_FACILITY, KEY_LEVEL, KEY_LOG_PEER,
	KEY_RATE, KEY_PREFIXES,
};

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

/*
 * The schema table of config-schema.c.  Its length is a constant so that
 * struct sect can keep a line per key; config-schema.c checks it at
 * compile time.
 */
#define NKEYS	38
extern const struct key config_keys[];

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

struct cerr;		/* config-report.c: one error, kept for sorting */

/* The state of one config_load(), from the first line to the last check. */
struct parse {
	struct config	*conf;
	struct cerr	*errs;
	size_t		 nerrs;
	unsigned	 nerrors;	/* may exceed nerrs when out of memory */
	struct sect    **sects;
	size_t		 nsects;
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
char	*config_strdup(struct parse *, unsigned, const char *);
char	*config_sect_where(const struct config *, const struct sect *);

/* config-file.c: opening the files of a configuration, the include glob. */
int	 config_open(const char *, struct stat *, const char **);
FILE	*config_fopen(const char *, struct stat *, const char **);
int	 config_glob(const char *, glob_t *, char *, size_t);
char	*config_relative(const char *, const char *);

/* config-schema.c: the keys, their values and their defaults. */
const struct key *config_key_find(const char *, int, const struct key **);
const struct key *config_key(const char *, int);
int	 config_key_line(const struct sect *, const char *, int);
int	 config_set_value(struct parse *, struct sect *, const struct key *,
	    const char *, int, void *);
void	 config_defaults(struct parse *, struct sect *, int, void *);

/* config-check.c: the checks that need a whole section or the whole file. */
void	 config_check(struct parse *);

#endif
