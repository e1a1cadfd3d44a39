/* What a configuration key is: its name, type, bounds, default, and where its value is kept. */
#ifndef HELLOD_CONFIG_KEY_H
#define HELLOD_CONFIG_KEY_H

#include <stddef.h>

enum key_type {
	KEY_STRING, KEY_BOOL, KEY_DURATION, KEY_UINT, KEY_PROTOCOLS, KEY_PORT,
	KEY_BINDS, KEY_HANDLER, KEY_FACILITY, KEY_LEVEL, KEY_LOG_PEER,
	KEY_RATE, KEY_PREFIXES, KEY_ACL, KEY_LOG, KEY_PROXY,
};

/* Where a key may appear. */
#define IN_GLOBAL	0x1
#define IN_SERVICE	0x2

#define KEY_REQUIRED	0x01	/* every service (of its handler) must set it */
#define KEY_NONEMPTY	0x08
#define KEY_TEMPLATE	0x10	/* exactly one %s */
#define KEY_SOCKPATH	0x20	/* fits sun_path; "none" is none */
#define KEY_PATH	0x40	/* relative to the directory of its file */
#define KEY_LINES	0x80	/* text whose continuation lines are lines (message) */
#define KEY_COUNT	0x100	/* KEY_RATE: a number of things, not a rate */
#define KEY_UNLIMITED	0x200	/* KEY_DURATION: "unlimited" is 0 */
#define KEY_TCP		0x400	/* means something for TCP only */

/*
 * One key.  The keys of the schema (config-schema.c) are kept in struct
 * global or struct service; a handler's own keys (its .keys) in the
 * settings it keeps per service (struct service's hconf), so that a
 * handler owns its keys: they are one table in its own file.
 */
struct key {
	const char	*name;		/* NULL ends a handler's table */
	int		 scope;
	enum key_type	 type;
	unsigned	 flags;
	unsigned	 min, max;	/* KEY_UINT, KEY_DURATION (ms), KEY_RATE */
	const char	*def;		/* default, parsed like a value from the file */
	size_t		 offset;	/* in the struct the key's values go to */
	size_t		 size;
};

/* .offset and .size of a field f of a struct type, and IN_SERVICE: for a handler's keys. */
#define KEY_FIELD(type, f)	.scope = IN_SERVICE, .offset = offsetof(type, f), \
				.size = sizeof(((type *)0)->f)

#endif
