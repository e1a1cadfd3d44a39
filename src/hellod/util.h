/* Small helpers every part of the daemon uses: the monotonic clock, growing arrays. */
#ifndef HELLOD_UTIL_H
#define HELLOD_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic milliseconds. */
uint64_t util_now_ms(void);

/*
 * Make room for element n (0-based) of an array of elements of size
 * bytes that holds n now: the array doubles whenever n is a power of two,
 * so that n appends cost O(n) however realloc behaves.  Returns the array
 * (perhaps moved), or NULL when out of memory (v is then unchanged).
 */
void	*util_grow(void *v, size_t n, size_t size);

/* Append a copy of s to the *np strings of *vp: 0, or -1 when out of memory. */
int	 util_strv_add(char ***vp, size_t *np, const char *s);

#endif
