/* Integration tests of helloc: run the client as a user would, capturing what it prints. */
#ifndef HELLOD_TEST_HELLOC_RUN_H
#define HELLOD_TEST_HELLOC_RUN_H

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

void	helloc_run_free(struct hc_run *r);

/* A number field of a flat or nested JSON object ("\"key\":"), or fail the test. */
double	json_number(const char *json, const char *key);

#endif
