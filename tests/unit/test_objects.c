/* Unit tests: shared objects whose pages are the parent's alone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <unistd.h>

#include "harness.h"
#include "objects.h"
#include "util.h"

/* Loaded with libbsd, at the start of every test program. */
#define START_OBJECT	"libmd.so"
/*
 * Part of libc6, and loaded by none of them (libresolv is, with the
 * sanitizers): an NSS module, as the daemon's own lookups load.
 */
#define LATER_OBJECT	"libnss_compat.so.2"
#define LATER_NAME	"libnss_compat.so"

/*
 * What the dynamic linker does in a child when it binds a symbol, and
 * when it loads a module (NSS, to look a user up): it reads the tables
 * of every object of the start.  True when the child lived through it.
 */
static bool
names_looked_up(const char *what)
{
	gid_t	 groups[64];
	int	 n = 64;

	(void)what;
	return getpwnam("root") != NULL &&
	    getgrouplist("root", 0, groups, &n) != -1 && getgrnam("root") != NULL;
}

#ifdef HAVE__FORK
/*
 * An object of the start, named: its code and data are the parent's, its
 * symbol tables stay in children, which can still look names up.
 */
static void
test_named_keeps_tables(void **state)
{
	static const char *const names[] = { "libnosuch.so", START_OBJECT, NULL };

	(void)state;
	assert_true(maps_code(START_OBJECT));
	assert_true(child_says(util_fork, maps_code, START_OBJECT));
	objects_parent_named(names);
	assert_true(maps_code(START_OBJECT));
	assert_true(child_says(util_fork, maps_name, START_OBJECT));
	assert_true(child_says(util_fork, maps_code, "libc.so"));
	assert_true(child_says(util_fork, names_looked_up, NULL));
}

/* An object loaded since the start: no page of it in a child. */
static void
test_new_wholly_parent(void **state)
{
	void	*h;

	(void)state;
	assert_false(maps_name(LATER_NAME));
	assert_non_null(h = dlopen(LATER_OBJECT, RTLD_NOW | RTLD_LOCAL));
	assert_true(child_says(util_fork, maps_name, LATER_NAME));
	objects_parent_new();
	/* Again, as after each reload: nothing changes. */
	objects_parent_new();
	/* The parent still has it. */
	assert_true(maps_code(LATER_NAME));
	assert_non_null(dlsym(h, "_nss_compat_getpwnam_r"));
	assert_false(child_says(util_fork, maps_name, LATER_NAME));
	assert_true(child_says(util_fork, maps_code, "libc.so"));
}
#else
/* Without _Fork(), fork() runs the objects' handlers: nothing is marked. */
static void
test_named_keeps_tables(void **state)
{
	static const char *const names[] = { START_OBJECT, NULL };

	(void)state;
	objects_parent_named(names);
	assert_true(child_says(util_fork, maps_code, START_OBJECT));
}

static void
test_new_wholly_parent(void **state)
{
	(void)state;
	assert_non_null(dlopen(LATER_OBJECT, RTLD_NOW | RTLD_LOCAL));
	objects_parent_new();
	assert_true(child_says(util_fork, maps_code, LATER_NAME));
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_keeps_tables),
		cmocka_unit_test(test_new_wholly_parent),
	};

	objects_start();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
