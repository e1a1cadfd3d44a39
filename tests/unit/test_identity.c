/* Unit tests of identity_reachable() and identity_check(): who hellod can become. */
#include <sys/types.h>
#include <sys/wait.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config.h"
#include "identity.h"
#include "log.h"

#define NOT_ROOT	"hellod is not running as root, nor with CAP_SETUID and CAP_SETGID"

/* One question to identity_reachable() and the answer it must give. */
struct reach_case {
	const char	*user;
	const char	*group;
	bool		 ok;
	const char	*why;		/* when !ok */
};

/*
 * Ask every case; returns 0 when all answers are right, else the number
 * (from 1) of the first wrong one, printed on stderr.  Usable in a forked
 * child, where a cmocka assertion could not report.
 */
static int
reach_cases(const struct reach_case *c, size_t n)
{
	const char *why;
	bool ok;
	size_t i;

	for (i = 0; i < n; i++) {
		why = NULL;
		ok = identity_reachable(c[i].user, c[i].group, &why);
		if (ok != c[i].ok || (!ok && (why == NULL ||
		    strcmp(why, c[i].why) != 0))) {
			fprintf(stderr, "case %zu: user %s group %s: got %s (%s)\n",
			    i + 1, c[i].user ? c[i].user : "-",
			    c[i].group ? c[i].group : "-", ok ? "yes" : "no",
			    why != NULL ? why : "-");
			return (int)i + 1;
		}
	}
	return 0;
}

/* Run fn in a child switched to nobody; its exit code (skips when not root). */
static int
as_nobody(int (*fn)(void))
{
	pid_t pid;
	int status;

	if (geteuid() != 0 || getpwnam("nobody") == NULL || getgrnam("nogroup") == NULL)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (identity_switch("nobody", "nogroup", "hellod", true) == -1)
			_exit(100);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_nothing_to_do(void **state)
{
	const char *why = "untouched";

	(void)state;
	assert_true(identity_reachable(NULL, NULL, &why));
	assert_string_equal(why, "untouched");
	assert_true(identity_reachable(NULL, NULL, NULL));
}

static void
test_unknown_names(void **state)
{
	static const struct reach_case c[] = {
		{ "no-such-user-hellod", NULL, false, "unknown user" },
		{ NULL, "no-such-group-hellod", false, "unknown group" },
		{ "nobody", "no-such-group-hellod", false, "unknown group" },
	};

	(void)state;
	assert_int_equal(reach_cases(c, sizeof(c) / sizeof(c[0])), 0);
	assert_false(identity_reachable("no-such-user-hellod", NULL, NULL));
}

/* Root can become any user and group that exist. */
static void
test_root_reaches_anyone(void **state)
{
	static const struct reach_case c[] = {
		{ "nobody", NULL, true, NULL },
		{ "nobody", "nogroup", true, NULL },
		{ "daemon", "nogroup", true, NULL },
		{ NULL, "daemon", true, NULL },
		{ "root", "root", true, NULL },
	};

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(reach_cases(c, sizeof(c) / sizeof(c[0])), 0);
}

static int
nobody_cases(void)
{
	static const struct reach_case c[] = {
		/* Itself, by name, with its own group or none named. */
		{ "nobody", NULL, true, NULL },
		{ "nobody", "nogroup", true, NULL },
		{ NULL, "nogroup", true, NULL },
		/* Anyone or anything else. */
		{ "daemon", NULL, false, NOT_ROOT },
		{ "root", NULL, false, NOT_ROOT },
		{ "nobody", "daemon", false, NOT_ROOT },
		{ NULL, "daemon", false, NOT_ROOT },
		{ "daemon", "nogroup", false, NOT_ROOT },
		{ "no-such-user-hellod", NULL, false, "unknown user" },
	};

	return reach_cases(c, sizeof(c) / sizeof(c[0]));
}

/* Not root (under User=_hellod, or after a [global] user): only itself. */
static void
test_non_root_reaches_itself(void **state)
{
	(void)state;
	assert_int_equal(as_nobody(nobody_cases), 0);
}

static int check_log = -1;

/*
 * identity_check() as nobody, its log on stderr into the file open on
 * check_log; exits with the number of services it refused.
 */
static int
nobody_check(void)
{
	struct config *conf;
	unsigned n = 0;

	if (dup2(check_log, STDERR_FILENO) == -1)
		return 101;
	log_init(LOG_USER, LOG_ERR, true);
	conf = config_load_string("t.ini",
	    "[same]\nprotocol = tcp\nport = 7001\nhandler = echo\n"
	    "user = nobody\ngroup = nogroup\n"
	    "[other]\nprotocol = tcp udp\nport = 7002\nhandler = echo\n"
	    "user = daemon\n"
	    "[otherg]\nprotocol = tcp\nport = 7003\nhandler = echo\n"
	    "group = daemon\n"
	    "[udp]\nprotocol = udp\nport = 7004\nhandler = echo\nuser = daemon\n"
	    "[off]\nprotocol = tcp\nport = 7005\nhandler = echo\nuser = daemon\n"
	    "enabled = no\n"
	    "[plain]\nprotocol = tcp\nport = 7006\nhandler = echo\n",
	    NULL, NULL, &n);
	if (conf == NULL)
		return 102;
	n = identity_check(conf);
	config_free(conf);
	return (int)n;
}

/* Only enabled TCP services with an identity out of reach are refused, each logged. */
static void
test_check_config(void **state)
{
	char path[PATH_MAX], buf[4096];
	const char *base = getenv("TMPDIR");
	ssize_t len;

	(void)state;
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(path, sizeof(path), "%s/hellod-test-identity.XXXXXX", base);
	/* Opened here: the child, once nobody, inherits the descriptor. */
	assert_true((check_log = mkstemp(path)) >= 0);
	unlink(path);
	assert_int_equal(as_nobody(nobody_check), 2);
	len = pread(check_log, buf, sizeof(buf) - 1, 0);
	close(check_log);
	assert_true(len > 0);
	buf[len] = '\0';
	assert_non_null(strstr(buf, "other: identity_error user=daemon group=- "
	    "detail=\"" NOT_ROOT "\"\n"));
	assert_non_null(strstr(buf, "otherg: identity_error user=- group=daemon "
	    "detail=\"" NOT_ROOT "\"\n"));
	assert_null(strstr(buf, "same:"));
	assert_null(strstr(buf, "udp:"));
	assert_null(strstr(buf, "off:"));
	assert_null(strstr(buf, "plain:"));
}

/* As root, every service is reachable: nothing logged, nothing refused. */
static void
test_check_config_root(void **state)
{
	struct config *conf;

	(void)state;
	if (geteuid() != 0)
		skip();
	conf = config_load_string("t.ini",
	    "[a]\nprotocol = tcp\nport = 7001\nhandler = echo\nuser = daemon\n"
	    "[b]\nprotocol = tcp\nport = 7002\nhandler = echo\ngroup = nogroup\n",
	    NULL, NULL, NULL);
	assert_non_null(conf);
	assert_int_equal(identity_check(conf), 0);
	config_free(conf);
}

/* Whether this process runs as id: uids, gids, and the groups it holds. */
static bool
running_as(const struct identity *id)
{
	gid_t	 groups[256];
	int	 n, i, j;

	if (getuid() != id->uid || geteuid() != id->uid ||
	    getgid() != id->gid || getegid() != id->gid ||
	    (n = getgroups(256, groups)) != id->ngroups)
		return false;
	for (i = 0; i < id->ngroups; i++) {
		for (j = 0; j < n && groups[j] != id->groups[i]; j++)
			;
		if (j == n)
			return false;
	}
	return true;
}

static const struct service *become_svc;
static char become_root[] = "/tmp/hellod-test-root.XXXXXX";

/*
 * In a child: become become_svc's user without a name to look up (in a
 * chroot where there is no /etc/passwd, nor any NSS module); 0 when it is
 * then that user, with its groups.
 */
static int
become_in_empty_root(void)
{
	if (chroot(become_root) == -1 || chdir("/") == -1)
		return 101;
	if (getpwnam("daemon") != NULL)
		return 102;
	if (identity_service(become_svc) == -1)
		return 103;
	return running_as(become_svc->ident) ? 0 : 104;
}

/*
 * identity_check() resolves each switching service's identity once, with
 * the user's groups: a child then becomes it without looking a name up.
 */
static void
test_resolved_at_check(void **state)
{
	struct config *conf;
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	const struct identity *a, *b;
	gid_t	 groups[256];
	int	 n = 256, status;
	pid_t	 pid;

	(void)state;
	if (geteuid() != 0 || (pw = getpwnam("daemon")) == NULL ||
	    (gr = getgrnam("nogroup")) == NULL)
		skip();
	assert_true(getgrouplist("daemon", pw->pw_gid, groups, &n) != -1);
	conf = config_load_string("t.ini",
	    "[a]\nprotocol = tcp\nport = 7001\nhandler = echo\nuser = daemon\n"
	    "[b]\nprotocol = tcp\nport = 7002\nhandler = echo\ngroup = nogroup\n"
	    "[u]\nprotocol = udp\nport = 7003\nhandler = echo\nuser = daemon\n"
	    "[plain]\nprotocol = tcp\nport = 7004\nhandler = echo\n",
	    NULL, NULL, NULL);
	assert_non_null(conf);
	assert_int_equal(identity_check(conf), 0);
	/* Again: the identities are made anew, the old ones freed. */
	assert_int_equal(identity_check(conf), 0);
	assert_non_null(a = config_find(conf, "a")->ident);
	assert_true(a->has_user);
	assert_int_equal(a->uid, pw->pw_uid);
	assert_int_equal(a->gid, pw->pw_gid);
	assert_int_equal(a->ngroups, n);
	assert_non_null(b = config_find(conf, "b")->ident);
	assert_false(b->has_user);
	assert_int_equal(b->gid, gr->gr_gid);
	assert_int_equal(b->ngroups, 1);
	assert_int_equal(b->groups[0], gr->gr_gid);
	assert_null(config_find(conf, "u")->ident);
	assert_null(config_find(conf, "plain")->ident);
	become_svc = config_find(conf, "a");
	assert_non_null(mkdtemp(become_root));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(become_in_empty_root());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	rmdir(become_root);
	assert_int_equal(WEXITSTATUS(status), 0);
	config_free(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_to_do),
		cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_root_reaches_anyone),
		cmocka_unit_test(test_non_root_reaches_itself),
		cmocka_unit_test(test_check_config),
		cmocka_unit_test(test_check_config_root),
		cmocka_unit_test(test_resolved_at_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
