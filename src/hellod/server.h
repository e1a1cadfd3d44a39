/* The parent: one epoll loop over listeners and signals, accept and fork, UDP inline, reload. */
#ifndef HELLOD_SERVER_H
#define HELLOD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct config;

struct server_opts {
	const char	*config_path;
	bool		 foreground;
	bool		 to_stderr;
	bool		 debug;
	const char	*pidfile;	/* -p, or NULL */
};

/*
 * Run the daemon on an already loaded and validated conf (ownership
 * passes to the server): bind, detach unless foreground, write the
 * pidfile, drop privileges, and serve until SIGTERM/SIGINT.  Returns an
 * exit code (sysexits.h).
 */
int server_run(struct config *conf, const struct server_opts *opts);

#endif
