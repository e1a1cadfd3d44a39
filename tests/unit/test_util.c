/* Unit tests: the parent's own pages (zeroed, deferred, not in a child), forks, util_grow. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/mman.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

#define mapped(p)	page_mapped(p)

/* 0 when neither end of 3000 * 7 bytes at p is mapped. */
static int
gone_21000(const void *p)
{
	return !mapped(p) && !mapped((const char *)p + 3000 * 7 - 1) ? 0 : 1;
}

/* Zeroed, writable, released; and a child forked after does not have it. */
static void
test_parent_calloc(void **state)
{
	unsigned char *p;
	size_t	 i;

	(void)state;
	p = util_parent_calloc(3000, 7);
	assert_non_null(p);
	for (i = 0; i < 3000 * 7; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0xa5, 3000 * 7);
	assert_true(mapped(p));
	assert_true(mapped(p + 3000 * 7 - 1));
	assert_int_equal(child_status(fork, gone_21000, p), 0);
	/* The parent's copy is untouched by the fork. */
	assert_int_equal(p[0], 0xa5);
	util_parent_free(p);
	assert_false(mapped(p));
	util_parent_free(NULL);
	/* More than memory can hold is refused, not wrapped around. */
	assert_null(util_parent_calloc(SIZE_MAX / 2, 4));
}

/* 0 when the page holding p is mapped. */
static int
mapped_status(const void *p)
{
	return mapped(p) ? 0 : 1;
}

/* Whether a child forked now has the page holding p. */
static bool
child_has(const void *p)
{
	return child_status(fork, mapped_status, p) == 0;
}

/*
 * Between util_parent_defer() and util_parent_ready() a block goes with
 * a fork (a daemon detaching keeps it), and is the parent's own after;
 * one freed meanwhile is forgotten, and one made after is at once.
 */
static void
test_parent_defer(void **state)
{
	char	*kept, *freed, *later;

	(void)state;
	util_parent_defer();
	kept = util_parent_calloc(1, 100);
	freed = util_parent_calloc(2, 5000);
	assert_non_null(kept);
	assert_non_null(freed);
	kept[0] = 'k';
	assert_true(child_has(kept));
	util_parent_free(freed);
	util_parent_ready();
	assert_false(child_has(kept));
	assert_int_equal(kept[0], 'k');
	later = util_parent_calloc(1, 100);
	assert_non_null(later);
	assert_false(child_has(later));
	util_parent_free(kept);
	util_parent_free(later);
}

#ifdef HAVE__FORK
static int	 forked_handler_ran;

static void
forked_handler(void)
{
	forked_handler_ran = 1;
}

/* 1 when this process ran forked_handler. */
static int
handler_ran(const void *arg)
{
	(void)arg;
	return forked_handler_ran;
}

/* A child of util_fork() runs no pthread_atfork() handler; one of fork() does. */
static void
test_fork_no_handlers(void **state)
{
	(void)state;
	assert_int_equal(pthread_atfork(NULL, NULL, forked_handler), 0);
	assert_int_equal(child_status(util_fork, handler_ran, NULL), 0);
	assert_int_equal(child_status(fork, handler_ran, NULL), 1);
	assert_int_equal(forked_handler_ran, 0);
}
#endif

/* Whether fd is open in this process. */
static bool
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/*
 * A child of util_fork_files() shares our table until util_files_unshare:
 * then it has the descriptors below the bound and none above, and what it
 * closes after is closed for it alone.
 */
static void
test_fork_files(void **state)
{
	int	 p[2], high, status;
	pid_t	 pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	high = fcntl(p[1], F_DUPFD, 200);
	assert_true(high >= 200);
	pid = util_fork_files();
	if (pid == -1 && errno == ENOSYS) {
		close(p[0]);
		close(p[1]);
		close(high);
		skip();
	}
	assert_true(pid >= 0);
	if (pid == 0) {
		if (util_files_unshare(200) == -1)
			_exit(2);
		if (!fd_open(p[0]) || !fd_open(p[1]) || fd_open(high))
			_exit(3);
		close(p[0]);
		_exit(write(p[1], "k", 1) == 1 ? 0 : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Ours are all still here, the one the child closed too. */
	assert_true(fd_open(p[0]));
	assert_true(fd_open(high));
	assert_int_equal(read(p[0], &status, 1), 1);
	close(p[0]);
	close(p[1]);
	close(high);
}

/* util_grow doubles at powers of two and keeps what was there. */
static void
test_grow(void **state)
{
	int	*v = NULL;
	size_t	 n;

	(void)state;
	for (n = 0; n < 1000; n++) {
		v = util_grow(v, n, sizeof(*v));
		assert_non_null(v);
		v[n] = (int)n;
	}
	for (n = 0; n < 1000; n++)
		assert_int_equal(v[n], (int)n);
	free(v);
}

/*
 * Records of a slab: zeroed, distinct, in pages no child has; one given
 * back is the next made, zeroed again; past the first slab, more come;
 * released, none is mapped any more.
 */
static void
test_slab(void **state)
{
	static struct util_slab s = UTIL_SLAB(uint64_t[5]);
	static struct util_slab tiny = UTIL_SLAB(char);
	uint64_t *r[200], *again;
	size_t	 i, j;

	(void)state;
	for (i = 0; i < 200; i++) {
		assert_non_null(r[i] = util_slab_alloc(&s));
		for (j = 0; j < 5; j++)
			assert_int_equal(r[i][j], 0);
		memset(r[i], 0xa5, 5 * sizeof(uint64_t));
		for (j = 0; j < i; j++)
			assert_true(r[j] + 5 <= r[i] || r[i] + 5 <= r[j]);
	}
	assert_false(child_has(r[0]));
	assert_false(child_has(r[199]));
	util_slab_free(&s, r[17]);
	util_slab_free(&s, NULL);
	assert_ptr_equal(again = util_slab_alloc(&s), r[17]);
	for (j = 0; j < 5; j++)
		assert_int_equal(again[j], 0);
	assert_int_equal(r[16][4], 0xa5a5a5a5a5a5a5a5ULL);
	/* A record is at least a pointer, to be linked when given back. */
	assert_int_equal(tiny.size, sizeof(void *));
	util_slab_free(&tiny, util_slab_alloc(&tiny));
	/* Released: every slab unmapped, and the slab as new. */
	util_slab_release(&s);
	assert_false(mapped(r[0]));
	assert_false(mapped(r[199]));
	assert_int_equal(s.size, 5 * sizeof(uint64_t));
	assert_non_null(again = util_slab_alloc(&s));
	assert_int_equal(again[0], 0);
	util_slab_release(&s);
	util_slab_release(&tiny);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parent_calloc),
		cmocka_unit_test(test_parent_defer),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_slab),
		cmocka_unit_test(test_fork_files),
#ifdef HAVE__FORK
		cmocka_unit_test(test_fork_no_handlers),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
