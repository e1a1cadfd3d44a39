/* Running a program: the supervising step that logs its stderr, bounds its time, reaps it. */
#ifndef HELLOD_EXEC_H
#define HELLOD_EXEC_H

#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>

struct service;

/* How long a program has to end after SIGTERM before SIGKILL. */
#define EXEC_GRACE_MS		2000
/* The longest stderr line logged; the rest of a longer one is cut. */
#define EXEC_LINE_MAX		512
/* stderr lines logged a second, at most; the rest are counted. */
#define EXEC_LINES_RATE		20

/* One program to run, and how it ended. */
struct exec_run {
	const struct service *svc;
	char *const	*argv;		/* argv[0] is the absolute path */
	char *const	*envp;
	int		 stdio;		/* becomes its stdin and stdout */
	unsigned	 max_ms;	/* max_duration; 0: none */
	/* Set by exec_run(). */
	pid_t		 pid;
	int		 status;	/* as waitpid() gives it */
	bool		 expired;	/* max_duration ended it */
	bool		 stopped;	/* hellod was stopping: SIGTERM passed on */
	unsigned long	 lines_dropped;	/* stderr lines over the rate */
};

/*
 * Run r's program and supervise it to its end.  The program gets
 * r->stdio as stdin and stdout (blocking), a pipe as stderr, the default
 * signal dispositions and an empty mask, no other descriptor, and
 * r->envp; this process logs each stderr line as "SERVICE: stderr pid=N
 * line=\"...\"" (escaped, at most EXEC_LINE_MAX bytes, EXEC_LINES_RATE
 * a second), ends the program at max_duration (SIGTERM, then SIGKILL
 * after EXEC_GRACE_MS) or when it gets SIGTERM itself (hellod stopping),
 * and waits for it.  The caller has switched to the service's user.
 * Returns 0 (r->status and the flags say how it ended), or -1 after
 * logging why it could not start.
 */
int	exec_run(struct exec_run *r);

/* How r ended, for an end line: "exit=N" or "signal=NAME". */
const char *exec_outcome(const struct exec_run *r, char *buf, size_t len);

#endif
