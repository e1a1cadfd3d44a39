/* Integration tests of helloc: run the client as a user would, capturing what it prints. */
#ifndef HELLOD_TEST_HELLOC_RUN_H
#define HELLOD_TEST_HELLOC_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one run of helloc did. */
struct hc_run {
	int	 status;	/* exit code, 128+N when killed by signal N */
	char	*out;		/* stdout, NUL-terminated (binary-safe with outlen) */
	size_t	 outlen;
	char	*err;		/* stderr, NUL-terminated */
	uint64_t ms;		/* how long it ran */
};

/* Find the client in $HELLOC; exit 77 (skip) when it is unset or not executable. */
void	helloc_init(void);

/*
 * Run "$HELLOC args..." (NULL-terminated) with stdin from the file in_path
 * (/dev/null when NULL), killed after timeout_ms (the test fails then).
 */
void	helloc_run(struct hc_run *r, const char *in_path, int timeout_ms,
	    const char *const args[]);

/* Where a run's standard streams go, and what it sees of the system. */
struct hc_run_opts {
	const char	*in;		/* stdin from this file; /dev/null when NULL */
	const char	*out;		/* stdout to this file (not captured) */
	bool		 tty;		/* stdout to a terminal (captured) */
	bool		 tty_err;	/* stderr to a terminal (captured), not with tty */
	const char	*hosts;		/* this file as /etc/hosts (see below) */
};

/* The same as helloc_run(), with the streams and hosts file of ro. */
void	helloc_run_with(struct hc_run *r, const struct hc_run_opts *ro,
	    int timeout_ms, const char *const args[]);

/*
 * True when a run can be given a hosts file of its own: this needs a
 * private mount namespace (root).  Tests that need it skip otherwise.
 */
bool	helloc_can_fake_hosts(void);

void	helloc_run_free(struct hc_run *r);

/* A number field of a flat or nested JSON object ("\"key\":"), or fail the test. */
double	json_number(const char *json, const char *key);

#endif
