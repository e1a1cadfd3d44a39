/* Unit tests: libsystemd loaded at its first use, the parent's alone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "objects.h"
#include "sdlib.h"
#include "util.h"

#if defined(HAVE_SYSTEMD) && defined(HAVE__FORK)
/*
 * Not mapped until first needed; then the daemon's that is to come (a
 * fork before util_parent_ready(), as when it detaches) has it, and no
 * child made after has a page of it, nor of what it brought.
 */
static void
test_loaded_parent_only(void **state)
{
	const struct sdlib *sd;

	(void)state;
	assert_false(maps_name("libsystemd.so"));
	util_parent_defer();
	sd = sdlib_get();
	assert_non_null(sd);
	assert_ptr_equal(sdlib_get(), sd);
	assert_true(maps_name("libsystemd.so"));
	assert_true(maps_name("libgcrypt.so"));
	assert_true(child_says(fork, maps_code, "libsystemd.so"));
	util_parent_ready();
	assert_false(child_says(util_fork, maps_name, "libsystemd.so"));
	assert_false(child_says(util_fork, maps_name, "libgcrypt.so"));
	assert_false(child_says(util_fork, maps_name, "libcap.so"));
	assert_true(child_says(util_fork, maps_code, "libc.so"));
	/* The parent still calls it: without NOTIFY_SOCKET, sd_notify says 0. */
	assert_true(maps_code("libsystemd.so"));
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sd->notify(0, "STATUS=test"), 0);
	assert_int_equal(sd->listen_fds(0), 0);
}
#elif !defined(HAVE_SYSTEMD)
/* A build without libsystemd has none to load. */
static void
test_loaded_parent_only(void **state)
{
	(void)state;
	assert_null(sdlib_get());
	assert_false(maps_name("libsystemd.so"));
	assert_false(child_says(util_fork, maps_code, "libsystemd.so"));
}
#else
/* Without _Fork(), libsystemd stays in children (its fork handler would not). */
static void
test_loaded_parent_only(void **state)
{
	(void)state;
	assert_non_null(sdlib_get());
	assert_true(maps_name("libsystemd.so"));
	util_parent_ready();
	assert_true(child_says(util_fork, maps_code, "libsystemd.so"));
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loaded_parent_only),
	};

	objects_start();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
