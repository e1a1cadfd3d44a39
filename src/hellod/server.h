/* The parent: one epoll loop over listeners and signals, accept and fork, UDP inline, reload. */
#ifndef HELLOD_SERVER_H
#define HELLOD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct config;

/* Per-service counters; they survive a reload that keeps the service's name. */
struct svc_counters {
	char		 name[33];
	unsigned	 refs;		/* the service and each of its live children */
	unsigned	 active;	/* TCP children alive */
	uint64_t	 accepted;	/* TCP connections handed to a child */
	uint64_t	 datagrams;	/* UDP datagrams answered */
	uint64_t	 refused;	/* connections closed / datagrams dropped unserved */
	uint64_t	 refused_guard;	/* of which: UDP guard (bad source) */
	uint64_t	 refused_fork;	/* of which: fork failed */
	uint64_t	 refused_rate;	/* of which: over the client's source_rate */
	struct ratelimit *rl_tcp;	/* source_rate buckets, made at first use */
	struct ratelimit *rl_udp;
	time_t		 log_second;	/* rate limit of refusal log lines */
	unsigned	 log_budget;
	unsigned long	 log_suppressed;
};

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
