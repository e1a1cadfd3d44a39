/* Configuration: the typed form of hellod.ini, parsed with inih and validated. */
#ifndef HELLOD_CONFIG_H
#define HELLOD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "acl.h"
#include "addr.h"

#define SERVICE_NAME_MAX 32

struct handler;		/* handler.h */
struct identity;	/* identity.h: user and group, resolved */
struct svc_state;	/* service.h: runtime state, kept across reloads */

struct service {
	char		 name[SERVICE_NAME_MAX + 1];
	const char	*file;		/* file of the [section] header (owned by config) */
	int		 line;		/* line of the [section] header */
	int		 protocols;	/* PROTO_TCP | PROTO_UDP */
	uint16_t	 port;
	struct bind_addr *binds;	/* with port set; nbinds == 0: every address */
	size_t		 nbinds;
	const struct handler *handler;
	bool		 enabled;
	char		*user;		/* NULL: from [global] (already copied in) */
	char		*group;
	struct identity	*ident;		/* resolved (identity_check); NULL: not yet */
	void		*hconf;		/* the handler's own settings (handler.h) */
	unsigned	 idle_timeout_ms; /* 0: no idle timeout */
	unsigned	 source_rate_tcp; /* connections a second per client; 0: unlimited */
	unsigned	 source_rate_udp; /* datagrams a second per client; 0: unlimited */
	unsigned	 source_prefix4; /* leading bits of an IPv4 address that make one client */
	unsigned	 source_prefix6; /* likewise for IPv6 */
	struct acl	 allow;		/* none: everyone */
	struct acl	 deny;		/* wins over allow */
	unsigned	 max_connections; /* TCP children alive at once; 0: unlimited */
	unsigned	 per_source;	/* TCP children per client at once; 0: unlimited */
	unsigned	 rate;		/* connections or datagrams a second; 0: unlimited */
	unsigned	 max_duration_ms; /* TCP: a connection's longest life; 0: none */
	char		*refuse_message; /* TCP: a line to a refused client, or NULL */
	unsigned	 proxy_versions; /* PROXY_V1 | PROXY_V2 a header must be; 0: none */
	struct acl	 proxy_from;	/* the balancers that may send one */
	bool		 limited;	/* TCP: a check between accept and fork */
	bool		 limited_udp;	/* UDP: a check before the handler */
	bool		 log_connections;
	enum log_peer	 log_peer;
	struct svc_state *state;	/* runtime; NULL in a freshly loaded config */
	uint64_t	 digest;	/* of its settings as written, for reload's "changed" */
};

struct global {
	char		*user;
	char		*group;
	char		*pidfile;	/* NULL: default (see main.c) */
	int		 facility;	/* LOG_DAEMON ... */
	int		 log_level;	/* LOG_DEBUG ... LOG_ERR */
	unsigned	 max_children;
	unsigned	 shutdown_grace_ms;
	char		*include;	/* glob */
	char		*control;	/* UNIX socket path or NULL */
	enum log_peer	 log_peer;
	bool		 journal;	/* log = journal: structured fields */
};

struct config {
	struct global	 global;
	struct service	*services;	/* in file order, disabled ones too */
	size_t		 nservices;
	char	       **files;		/* every file read, owned here */
	size_t		 nfiles;
	struct service **byname;	/* services by name: open addressing */
	size_t		 byname_mask;	/* its size - 1 */
};

/*
 * Whether a service of a reloaded configuration differs from the one of
 * the same name before: any key of its section, or a setting it takes
 * from [global] (user, group, log_peer), written differently.
 */
bool	config_service_changed(const struct service *a, const struct service *b);

/* Receives each error, already formatted as "FILE:LINE: message". */
typedef void (*config_error_fn)(void *arg, const char *msg);

/*
 * Read and validate the configuration in path, then every file its
 * include glob names.  Every error goes to errfn, all of them, not the
 * first only.  Returns the config, or NULL when there was at least one
 * error (*nerrors says how many; nerrors may be NULL).
 */
struct config *config_load(const char *path, config_error_fn errfn, void *arg,
    unsigned *nerrors);

/* The same from a string in memory; name stands for the file in messages. */
struct config *config_load_string(const char *name, const char *text,
    config_error_fn errfn, void *arg, unsigned *nerrors);

void config_free(struct config *conf);

/* Print the -t summary: one line per service (name, protocols, addresses, handler, state). */
void config_summary(const struct config *conf, FILE *out);

/* Find a service by name, or NULL. */
struct service *config_find(const struct config *conf, const char *name);

/*
 * Open path, a file the configuration names, for reading: only a regular
 * file on a real file system, and never a device (config-file.c).
 * Returns the descriptor and fills *st, or -1 with a static text in *err.
 */
struct stat;
int config_open(const char *path, struct stat *st, const char **err);

/*
 * The value in force of a key of svc (of the schema or of its handler),
 * as text into buf: strings, numbers, durations ("5s") and booleans.
 * Returns 0, or -1 for a key svc has not, or of another type.
 */
int config_value(const struct service *svc, const char *name, char *buf,
    size_t len);

/* Value parsers, exported for tests.  Each returns 0, or -1 with a static message in *err. */
int config_parse_bool(const char *s, bool *out, const char **err);
int config_parse_duration(const char *s, unsigned *ms, const char **err);

#endif
