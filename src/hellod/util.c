/* Small helpers every part of the daemon uses: the monotonic clock, growing arrays. */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

uint64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *
util_signame(int sig)
{
	static char	 buf[16];
	const char	*abbrev = sigabbrev_np(sig);

	snprintf(buf, sizeof(buf), "SIG%s", abbrev);
	if (abbrev == NULL)
		snprintf(buf, sizeof(buf), "SIG%d", sig);
	return buf;
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

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 cap;
	char	*p;
	int	 n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p != NULL ? b->p + b->len : NULL,
	    b->p != NULL ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (b->p == NULL || b->len + (size_t)n >= b->cap) {
		for (cap = b->cap > 0 ? b->cap : 256; cap <= b->len + (size_t)n;)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void
buf_json_str(struct buf *b, const char *s)
{
	const unsigned char *p;

	buf_printf(b, "\"");
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			buf_printf(b, "\\u%04x", *p);
		else
			buf_printf(b, "%c", *p);
	}
	buf_printf(b, "\"");
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

/*
 * Each block is a mapping of its own, a page-aligned header first (its
 * length, and the next deferred block): mmap gives zeroed pages, and
 * munmap needs the length back.
 */
#define PARENT_HEAD	64

struct parent_head {
	size_t		 len;
	struct parent_head *next;	/* deferred: not MADV_DONTFORK yet */
};

/* Between util_parent_defer() and util_parent_ready(): blocks not marked yet. */
static bool		 parent_deferring;
static struct parent_head *parent_deferred;

/* Pages mapped already (a library), to mark at util_parent_ready(). */
#define PARENT_MAPS	128
static struct {
	void		*p;
	size_t		 len;
} parent_maps[PARENT_MAPS];
static size_t		 parent_nmaps;

void
util_parent_defer(void)
{
	parent_deferring = true;
}

void
util_parent_ready(void)
{
	struct parent_head *h;

	while ((h = parent_deferred) != NULL) {
		parent_deferred = h->next;
		h->next = NULL;
		(void)madvise(h, h->len, MADV_DONTFORK);
	}
	while (parent_nmaps > 0) {
		parent_nmaps--;
		(void)madvise(parent_maps[parent_nmaps].p,
		    parent_maps[parent_nmaps].len, MADV_DONTFORK);
	}
	parent_deferring = false;
}

int
util_parent_map(void *p, size_t len)
{
	if (!parent_deferring)
		return madvise(p, len, MADV_DONTFORK);
	if (parent_nmaps == PARENT_MAPS)
		return -1;
	parent_maps[parent_nmaps].p = p;
	parent_maps[parent_nmaps].len = len;
	parent_nmaps++;
	return 0;
}

/* Records in the newest slab of the first. */
#define SLAB_FIRST	64

void *
util_slab_alloc(struct util_slab *s)
{
	void	*p;
	size_t	 n;

	if ((p = s->free) != NULL) {
		s->free = *(void **)p;
		memset(p, 0, s->size);
		return p;
	}
	if (s->cur_used == s->cur_n) {
		n = s->cur_n == 0 ? SLAB_FIRST : s->cur_n * 2;
		/* One record more: the first holds the link. */
		if ((p = util_parent_calloc(n + 1, s->size)) == NULL)
			return NULL;
		*(void **)p = s->slabs;
		s->slabs = p;
		s->cur = (char *)p + s->size;
		s->cur_n = n;
		s->cur_used = 0;
	}
	return s->cur + s->size * s->cur_used++;
}

void
util_slab_release(struct util_slab *s)
{
	void	*p, *next;

	for (p = s->slabs; p != NULL; p = next) {
		next = *(void **)p;
		util_parent_free(p);
	}
	*s = (struct util_slab){ .size = s->size };
}

void
util_slab_free(struct util_slab *s, void *p)
{
	if (p == NULL)
		return;
	*(void **)p = s->free;
	s->free = p;
}

/* The limit on open files the daemon started with; rlim_max 0: not read. */
static struct rlimit nofile_start;

void
util_nofile_raise(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &nofile_start) == -1) {
		nofile_start.rlim_max = 0;
		return;
	}
	rl = nofile_start;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

void
util_nofile_restore(void)
{
	if (nofile_start.rlim_max != 0)
		(void)setrlimit(RLIMIT_NOFILE, &nofile_start);
}

pid_t
util_fork_files(void)
{
#ifdef SYS_clone3
	static bool	 tried, unavailable;
	struct clone_args args = { .flags = CLONE_FILES,
	    .exit_signal = SIGCHLD };
	long		 pid;

	/*
	 * Once: close_range() must unshare too (Linux 5.9; clone3 is 5.3).
	 * Closing nothing, it tells whether it can.
	 */
	if (!tried) {
		tried = true;
		unavailable = close_range(~0U, ~0U, CLOSE_RANGE_UNSHARE) == -1;
	}
	if (!unavailable) {
		if ((pid = syscall(SYS_clone3, &args, sizeof(args))) != -1 ||
		    errno == EAGAIN || errno == ENOMEM)
			return (pid_t)pid;
		/* ENOSYS, or EPERM from a seccomp filter: never again. */
		unavailable = true;
	}
#endif
	errno = ENOSYS;
	return -1;
}

int
util_files_unshare(unsigned low)
{
	return close_range(low, ~0U, CLOSE_RANGE_UNSHARE);
}

pid_t
util_fork(void)
{
#ifdef HAVE__FORK
	return _Fork();
#else
	return fork();
#endif
}

void *
util_parent_calloc(size_t n, size_t size)
{
	struct parent_head *h;
	size_t	 len;
	void	*p;

	if (size != 0 && n > (SIZE_MAX - PARENT_HEAD) / size)
		return NULL;
	len = n * size + PARENT_HEAD;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/*
	 * Marked before its first write: untouched, it can merge with a
	 * marked neighbour (one mapping less for every fork to drop).
	 */
	if (!parent_deferring)
		(void)madvise(p, len, MADV_DONTFORK);
	h = p;
	h->len = len;
	if (parent_deferring) {
		h->next = parent_deferred;
		parent_deferred = h;
	}
	return (char *)p + PARENT_HEAD;
}

void
util_parent_free(void *v)
{
	struct parent_head *h, **hp;

	if (v == NULL)
		return;
	h = (struct parent_head *)(void *)((char *)v - PARENT_HEAD);
	for (hp = &parent_deferred; *hp != NULL; hp = &(*hp)->next)
		if (*hp == h) {
			*hp = h->next;
			break;
		}
	munmap(h, h->len);
}
