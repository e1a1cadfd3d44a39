/* Small helpers every part of the daemon uses: the monotonic clock, growing arrays. */
#ifndef HELLOD_UTIL_H
#define HELLOD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Monotonic milliseconds. */
uint64_t util_now_ms(void);

/* A signal's name for a log line: "SIGTERM"; "SIG34" for one without. */
const char *util_signame(int sig);

/*
 * Make room for element n (0-based) of an array of elements of size
 * bytes that holds n now: the array doubles whenever n is a power of two,
 * so that n appends cost O(n) however realloc behaves.  Returns the array
 * (perhaps moved), or NULL when out of memory (v is then unchanged).
 */
void	*util_grow(void *v, size_t n, size_t size);

/*
 * Zeroed memory for n elements of size bytes that only the parent uses
 * (its tables of children, of connections per client, of sources, of
 * rates): pages of their own marked MADV_DONTFORK, so that fork() neither
 * copies their page tables nor makes the parent's next write to them a
 * copy-on-write fault.  A child must never touch them.  NULL when out of
 * memory.  util_parent_free() releases them (NULL is nothing).
 */
void	*util_parent_calloc(size_t n, size_t size);
void	 util_parent_free(void *p);

/*
 * Small records of one size in the parent's own pages (listeners, the
 * state of services, a configuration's sections while it loads): a
 * thousand services' would be hundreds of KiB of heap whose page tables
 * every fork copies.  Slabs of util_parent_calloc() that double in size
 * (a handful of mappings, which merge), used from their start so that
 * pages not reached are never touched.  A record given back waits on a
 * free list; util_slab_release() returns every slab at once.  size is at
 * least a pointer's.  util_slab_alloc() gives a zeroed record, or NULL.
 */
struct util_slab {
	size_t		 size;		/* of a record: set it, the rest zero */
	void		*free;		/* records given back, linked */
	void		*slabs;		/* the newest; its first record links the last */
	char		*cur;		/* the newest slab's records */
	size_t		 cur_n, cur_used;
};
#define UTIL_SLAB(type)	{ .size = sizeof(type) < sizeof(void *) ? \
	    sizeof(void *) : sizeof(type) }

void	*util_slab_alloc(struct util_slab *s);
void	 util_slab_free(struct util_slab *s, void *p);
void	 util_slab_release(struct util_slab *s);

/*
 * A daemon that will detach (fork, the parent exiting) allocates some of
 * these first: from util_parent_defer() on, blocks are not marked yet, so
 * that the daemon that stays has them; util_parent_ready(), in that
 * daemon, marks them and any later one at once.
 */
void	 util_parent_defer(void);
void	 util_parent_ready(void);

/*
 * Pages mapped already that no child uses (the libraries only the parent
 * calls: see sdlib.h), marked as util_parent_calloc()'s are: at once, or
 * at util_parent_ready().  0, or -1 when they could not be.
 */
int	 util_parent_map(void *p, size_t len);

/*
 * fork() for every child made after the start: _Fork() where the C
 * library has it, which runs no pthread_atfork() handler.  A library only
 * the parent maps may have left one (libsystemd does), whose code a child
 * does not have.  The daemon has one thread, so no lock can be held across
 * the fork; fork()'s own handlers only reset such locks.
 */
pid_t	 util_fork(void);

/*
 * Beside many listeners, a child made by fork() copies the parent's whole
 * table of descriptors, then closes them one by one: two thousand with a
 * thousand services, most of the cost of a connection.
 * util_fork_files() makes a child that shares the table instead (clone3
 * with CLONE_FILES; no fork handler runs, as with util_fork), and
 * util_files_unshare(low) must be that child's very first step: it takes
 * a table of its own with only the descriptors below low, and lets go of
 * the others without closing them.  Until it has, the parent must neither
 * close nor reuse a descriptor the child needs.  -1 with errno ENOSYS
 * where either cannot be had (a kernel before 5.9, valgrind, a seccomp
 * filter's ENOSYS or EPERM), from then on: util_fork() then.  EAGAIN and
 * ENOMEM are fork()'s.  The child's C library still holds the parent's
 * thread id (_Fork would set it): raise() and abort() ask the kernel, but
 * pthread functions on pthread_self() must not be called there.
 */
pid_t	 util_fork_files(void);
int	 util_files_unshare(unsigned low);

/*
 * The soft limit on open files raised to the hard one (under systemd,
 * 1024 and 524288): the daemon polls with epoll, never select(), and a
 * thousand services take two thousand sockets, at NET_FD_HIGH and above.
 * util_nofile_restore() puts back the limit it started with, for a
 * program it runs (one may use select()).
 */
void	 util_nofile_raise(void);
void	 util_nofile_restore(void);

/* Append a copy of s to the *np strings of *vp: 0, or -1 when out of memory. */
int	 util_strv_add(char ***vp, size_t *np, const char *s);

/*
 * A growing text buffer: appends never fail outright; once memory runs
 * out, oom is set and later appends do nothing.
 */
struct buf {
	char		*p;		/* NUL-terminated when not NULL */
	size_t		 len;
	size_t		 cap;
	bool		 oom;
};

void	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes and escapes included. */
void	 buf_json_str(struct buf *b, const char *s);
void	 buf_free(struct buf *b);

#endif
