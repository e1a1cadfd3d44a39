/* Small helpers every part of the daemon uses: the monotonic clock, growing arrays. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

uint64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void *
util_grow(void *v, size_t n, size_t size)
{
	/* Capacity is the power of two at or above n: full when n is one. */
	if (v != NULL && n != 0 && (n & (n - 1)) != 0)
		return v;
	return reallocarray(v, n == 0 ? 1 : n * 2, size);
}

/* Append a copy of s to the *np strings of *vp: 0, or -1 when out of memory. */
int
util_strv_add(char ***vp, size_t *np, const char *s)
{
	char **nv, *d;

	if ((d = strdup(s)) == NULL)
		return -1;
	if ((nv = util_grow(*vp, *np, sizeof(*nv))) == NULL) {
		free(d);
		return -1;
	}
	*vp = nv;
	nv[(*np)++] = d;
	return 0;
}
