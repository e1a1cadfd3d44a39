/* The stress tests' shared parts: dialogue load, a zombie watch, scaling, figures. */
#ifndef HELLOD_TEST_STRESS_H
#define HELLOD_TEST_STRESS_H

#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>

/* How long one step of a dialogue may take before it counts as failed. */
#define STRESS_STEP_MS	10000

/*
 * n scaled by $HELLOD_STRESS_SCALE (a factor such as 0.2; 1 when unset),
 * and at least 1: a slow build (sanitizers) runs fewer of the same.
 */
unsigned long stress_scale(unsigned long n);

/* The factor itself, for the figures. */
double	stress_factor(void);

/* One line of figures on stdout: "stress: SCENARIO: ...", flushed at once. */
void	stress_say(const char *scenario, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The tutorial's dialogue with a hello service, once: connect (from src
 * unless NULL), read the greeting "Welcome!", send a name, read "Hello,
 * NAME!", send the quit word, and see the server close.  Each step within
 * STRESS_STEP_MS.  Returns 0, or -1 with what went wrong in why.
 */
int	stress_dialogue(const char *src, const char *host, uint16_t port,
	    const char *name, char *why, size_t whylen);

/*
 * The same over UDP: a datagram with the name from a fresh socket, and
 * "Hello, NAME!" back within STRESS_STEP_MS.
 */
int	stress_udp_hello(const char *host, uint16_t port, const char *name,
	    char *why, size_t whylen);

/* What a load is asked to do. */
struct load_opts {
	bool		 udp;		/* stress_udp_hello, not stress_dialogue */
	const char	*src;		/* source address (TCP), or NULL: any */
	const char	*host;		/* "127.0.0.1", "::1" */
	uint16_t	 port;
	unsigned	 threads;	/* clients at once */
	unsigned long	 max;		/* dialogues in all; 0: until stopped */
	unsigned	 max_ms;	/* and at most this long */
	unsigned	 pause_ms;	/* each client's pause between dialogues */
};

/* What it did. */
struct load_counts {
	unsigned long	 done;		/* dialogues that went through */
	unsigned long	 failed;
	unsigned	 worst_ms;	/* the slowest dialogue that went through */
	char		 first_failure[256];	/* "" when none */
};

struct load;

/* Start opts->threads clients, each doing dialogues until told or done. */
struct load *load_start(const struct load_opts *opts);
/* The counts so far; safe while it runs. */
void	load_counts(struct load *l, struct load_counts *out);
/* Wait for the clients to finish by themselves (max, max_ms). */
void	load_wait(struct load *l);
/* Tell the clients to stop after their current dialogue, and wait. */
void	load_stop(struct load *l);
void	load_free(struct load *l);

/*
 * A watch on the zombies among pid's children, in a thread of its own,
 * every 100 ms.  A zombie is normal for the moment between a child's exit
 * and the parent's waitpid(), which comes after the batch of events the
 * parent is handling: up to 32 accepts and forks per listener, which take
 * a second or two in a sanitizer build on two busy cores.  One seen still
 * a zombie ZWATCH_STALE_MS after it was first seen means the parent does
 * not reap.
 */
#define ZWATCH_STALE_MS	5000

struct zwatch_counts {
	unsigned	 samples;
	unsigned	 most;		/* zombies seen at once, at most */
	unsigned	 oldest_ms;	/* the longest a zombie was seen unreaped */
	unsigned	 stale;		/* zombies left unreaped ZWATCH_STALE_MS */
};

struct zwatch;

struct zwatch *zwatch_start(pid_t pid);
void	zwatch_stop(struct zwatch *z, struct zwatch_counts *out);

/* Seconds since t0_ms (now_ms()), for the figures. */
double	stress_secs(uint64_t t0_ms);
/* "scenario time N.Ns", and the scale when it is not 1. */
void	stress_say_time(const char *scenario, uint64_t t0_ms);

/*
 * The daemon's status from its control socket at ctl: its line, and a
 * line of figures per service, every counter, the refusals by reason
 * among them.
 */
void	stress_say_status(const char *scenario, const char *ctl);

/* The parent's resident set, descriptors and CPU time used, at a moment. */
struct parent_mem {
	long		 rss_kib;
	long		 heap_kib;	/* the size of malloc's [heap]; 0: none */
	int		 fds;
	long		 cpu_ms;
};

/* Measure pid, which must be at rest (no connection being accepted). */
void	parent_measure(pid_t pid, struct parent_mem *out);
/* "parent: rss A -> B KiB (+N), heap ..., fds A -> B, cpu N.Ns" from two measures. */
void	stress_say_parent(const char *scenario, const struct parent_mem *before,
	    const struct parent_mem *after);

#endif
