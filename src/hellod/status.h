/* What the daemon says of itself: the status and the busiest clients, as text or JSON. */
#ifndef HELLOD_STATUS_H
#define HELLOD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct buf;
struct config;

/* The daemon as a whole, for the status. */
struct status_info {
	const struct config *conf;
	const char	*config_path;
	time_t		 started;	/* wall clock */
	uint64_t	 started_ms;	/* monotonic */
	time_t		 loaded;	/* the configuration in force was read then */
	const char	*reload;	/* the last reload: "none", "ok" or "failed" */
	unsigned	 children;
};

/*
 * The status as text: a line for the daemon, "hellod version=V pid=N
 * uptime=S children=N services=N enabled=N config=\"PATH\"
 * loaded=TIME reload=RESULT", then a line per service, "NAME PROTOCOLS
 * enabled=yes|no addresses=A,B active=N accepted=N ... refused_REASON=N"
 * (every counter of service.h), then an empty line.
 */
void	status_text(struct buf *b, const struct status_info *si);

/* The same as one JSON object on one line, and a newline. */
void	status_json(struct buf *b, const struct status_info *si);

/*
 * The n busiest clients of all services, "SERVICE CLIENT live=N
 * accepted=N datagrams=N refused=N rate=R" a line, then an empty line; or
 * as JSON, {"sources":[...]} on one line.
 */
void	status_sources(struct buf *b, const struct config *conf, size_t n,
	    bool json);

/* A number of seconds, to the millisecond: "12.345". */
void	status_seconds(char *buf, size_t len, uint64_t ms);

#endif
