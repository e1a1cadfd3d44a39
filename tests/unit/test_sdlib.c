/* Unit tests: libsystemd loaded at its first use, the parent's alone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <dlfcn.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sdlib.h"
#include "util.h"

/* Whether a line of /proc/self/maps holds what, and perms ("r-xp") unless NULL. */
static bool
maps_line(const char *perms, const char *what)
{
	char	 line[512];
	FILE	*f = fopen("/proc/self/maps", "r");
	bool	 found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, what) != NULL &&
		    (perms == NULL || strstr(line, perms) != NULL);
	fclose(f);
	return found;
}

/* Whether /proc/self/maps names a file whose name holds what. */
static bool
maps_name(const char *what)
{
	return maps_line(NULL, what);
}

/* Whether /proc/self/maps has code (r-xp) from a file whose name holds what. */
static bool
maps_code(const char *what)
{
	return maps_line(" r-xp ", what);
}

/*
 * What a child does with names: NSS looks a user and its groups up, and
 * loads its modules (libnss_systemd needs libcap, which came with
 * libsystemd).  0 when it lived through it.
 */
static bool
names_looked_up(const char *what)
{
	gid_t	 groups[64];
	int	 n = 64;
	void	*h;

	(void)what;
	if (getpwnam("root") == NULL || getgrouplist("root", 0, groups, &n) == -1)
		return false;
	if ((h = dlopen("libnss_systemd.so.2", RTLD_NOW)) != NULL)
		dlclose(h);
	return true;
}

struct says {
	bool		(*check)(const char *);
	const char	*what;
};

static int
says_status(const void *arg)
{
	const struct says *s = arg;

	return s->check(s->what) ? 0 : 1;
}

/* Whether a child made by fn says yes to check(what). */
static bool
child_says(pid_t (*fn)(void), bool (*check)(const char *), const char *what)
{
	struct says	 s = { check, what };

	return child_status(fn, says_status, &s) == 0;
}

#if defined(HAVE_SYSTEMD) && defined(HAVE__FORK)
/*
 * Not mapped until first needed; then the daemon's that is to come (a
 * fork before util_parent_ready(), as when it detaches) has it, and no
 * child made after does, neither libsystemd nor what it brought.
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
	assert_false(child_says(util_fork, maps_code, "libsystemd.so"));
	assert_false(child_says(util_fork, maps_code, "libgcrypt.so"));
	assert_false(child_says(util_fork, maps_code, "libcap.so"));
	assert_true(child_says(util_fork, maps_code, "libc.so"));
	assert_true(child_says(util_fork, names_looked_up, NULL));
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
	assert_true(child_says(util_fork, names_looked_up, NULL));
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
	assert_true(child_says(util_fork, names_looked_up, NULL));
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loaded_parent_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
