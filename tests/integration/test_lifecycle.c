/* Integration: stop with children alive, reaping, max_children, SIGUSR1. */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "harness.h"
#include "snippets.h"

#define T_MS		harness_ms(5000)
#define FLOOD		500
#define FLOOD_BATCH	50

static const char *const conf_hello =
    "[global]\n"
    "shutdown_grace = 3s\n"
    SN_HELLO_TCP;

static const char *const conf_two =
    "[global]\n"
    "max_children = 2\n"
    SN_HELLO_TCP;

static const char *const conf_status =
    SN_HELLO_TCP
    SN_ECHO_P1;

static int
greeted(uint16_t port)
{
	char line[256];
	int fd = tcp_connect("127.0.0.1", port, T_MS);

	assert_true(fd >= 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Welcome!\r\n");
	return fd;
}

/* Poll until pid is gone (or a zombie someone else must reap). */
static bool
wait_gone(pid_t pid, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	while (proc_alive(pid)) {
		if (now_ms() >= end)
			return false;
		usleep(20000);
	}
	return true;
}

static void
stop_with_children(int sig)
{
	struct daemon d;
	pid_t kids[8];
	int fds[3];
	size_t i, n;

	assert_int_equal(daemon_start(&d, conf_hello), 0);
	for (i = 0; i < 3; i++)
		fds[i] = greeted(d.port[0]);
	assert_true(proc_wait_children(d.pid, 3, T_MS));
	n = proc_children(d.pid, kids, 8);
	assert_int_equal(n, 3);
	assert_int_equal(daemon_stop(&d, sig), 0);
	for (i = 0; i < n; i++)
		if (!wait_gone(kids[i], harness_ms(2000)))
			fail_msg("child %d outlived the daemon", (int)kids[i]);
	/* Each client sees its connection end. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(wait_eof(fds[i], T_MS), 1);
		close(fds[i]);
	}
}

static void
test_sigterm(void **state)
{
	(void)state;
	stop_with_children(SIGTERM);
}

static void
test_sigint(void **state)
{
	(void)state;
	stop_with_children(SIGINT);
}

/*
 * Started with SIGHUP and SIGUSR1 ignored (as under nohup(1)): the daemon
 * reloads and reports all the same, and its children, which inherit its
 * dispositions, end on SIGTERM at shutdown as ever.
 */
static void
test_signals_inherited_ignored(void **state)
{
	struct daemon d;
	int	 fd;

	(void)state;
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	assert_int_equal(daemon_start(&d, conf_hello), 0);
	signal(SIGHUP, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	fd = greeted(d.port[0]);
	daemon_signal(&d, SIGHUP);
	assert_true(log_wait(&d, "hellod: reloaded ", T_MS));
	daemon_signal(&d, SIGUSR1);
	assert_true(log_wait(&d, "hello: status ", T_MS));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	assert_true(log_contains(&d, "hello: end peer=127.0.0.1:"));
	assert_true(log_contains(&d, " reason=shutdown "));
	close(fd);
}

/*
 * Poll until pid has had no child at all, zombie or not, for hold_ms in a
 * row.  One look is not enough: connections still queued in the listen
 * backlog may be accepted right after the count first reaches zero.
 */
static bool
wait_quiet(pid_t pid, int hold_ms, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms, quiet = 0;

	while (now_ms() < end) {
		if (proc_children(pid, NULL, 0) != 0)
			quiet = 0;
		else if (quiet == 0)
			quiet = now_ms();
		else if (now_ms() - quiet >= (uint64_t)hold_ms)
			return true;
		usleep(10000);
	}
	return false;
}

/* Close fd with a reset instead of a FIN. */
static void
reset_close(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static void
test_reset_flood(void **state)
{
	struct daemon d;
	int fds[FLOOD_BATCH];
	size_t i, b, opened = 0, flood = FLOOD;
	char want[64];
	int fd;

	(void)state;
	/*
	 * Under valgrind every child is slow to start and to end: one batch
	 * still has the daemon reap children that end in a reset, in a
	 * bounded time.
	 */
	if (harness_valgrind())
		flood = FLOOD_BATCH;
	assert_int_equal(daemon_start(&d, conf_hello), 0);
	for (b = 0; b < flood / FLOOD_BATCH; b++) {
		for (i = 0; i < FLOOD_BATCH; i++) {
			fds[i] = tcp_connect("127.0.0.1", d.port[0], T_MS);
			if (fds[i] >= 0)
				opened++;
		}
		for (i = 0; i < FLOOD_BATCH; i++)
			if (fds[i] >= 0)
				reset_close(fds[i]);
	}
	assert_int_equal(opened, flood);
	if (!wait_quiet(d.pid, 500, harness_ms(20000)))
		fail_msg("%zu children (%u zombies) still there after the flood",
		    proc_children(d.pid, NULL, 0), proc_zombies(d.pid));
	assert_true(proc_alive(d.pid));

	/* The daemon still answers, and its own count is back to zero. */
	fd = greeted(d.port[0]);
	close(fd);
	assert_true(proc_wait_children(d.pid, 0, T_MS));
	daemon_signal(&d, SIGUSR1);
	snprintf(want, sizeof(want), " handler=hello active=0 ");
	assert_true(log_wait(&d, want, T_MS));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

static void
test_max_children(void **state)
{
	struct daemon d;
	char line[256];
	int a, b, c;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_two), 0);
	a = greeted(d.port[0]);
	b = greeted(d.port[0]);
	/* The third connection waits in the backlog: no greeting, no close. */
	c = tcp_connect("127.0.0.1", d.port[0], T_MS);
	assert_true(c >= 0);
	assert_int_equal(wait_eof(c, 1000), 0);
	assert_int_equal(proc_children(d.pid, NULL, 0), 2);
	/* When one of the two leaves, the third is served. */
	close(a);
	assert_true(read_line(c, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Welcome!\r\n");
	assert_int_equal(send_str(c, "Tracy\n"), 0);
	assert_true(read_line(c, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Hello, Tracy!\r\n");
	close(b);
	close(c);
	assert_false(log_contains(&d, "refused"));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* Find "NAME: status " in the log and parse its counters; false when absent. */
static bool
status_of(struct daemon *d, const char *name, unsigned *active,
    unsigned *accepted, unsigned *datagrams, unsigned *refused)
{
	char *log = harness_read_file(d->log), key[64], *p;
	bool ok = false;

	snprintf(key, sizeof(key), "%s: status ", name);
	if ((p = strstr(log, key)) != NULL && (p = strstr(p, " active=")) != NULL)
		ok = sscanf(p + 1, "active=%u accepted=%u "
		    "datagrams_in=%u datagrams_out=%*u bytes_in=%*u bytes_out=%*u "
		    "refused=%u", active, accepted, datagrams, refused) == 4;
	free(log);
	return ok;
}

static void
test_sigusr1_status(void **state)
{
	struct daemon d;
	unsigned active, accepted, datagrams, refused;
	char buf[16];
	int fd;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_status), 0);
	assert_int_equal(udp_ask("127.0.0.1", d.port[1], "x", 1, buf,
	    sizeof(buf), T_MS), 1);
	fd = greeted(d.port[0]);
	assert_true(proc_wait_children(d.pid, 1, T_MS));
	daemon_signal(&d, SIGUSR1);
	assert_true(log_wait(&d, "hello: status ", T_MS));
	assert_true(log_wait(&d, "echo: status ", T_MS));

	assert_true(status_of(&d, "hello", &active, &accepted, &datagrams,
	    &refused));
	assert_int_equal(active, 1);
	assert_true(accepted >= 1);
	assert_int_equal(datagrams, 0);
	assert_int_equal(refused, 0);
	assert_true(status_of(&d, "echo", &active, &accepted, &datagrams,
	    &refused));
	assert_int_equal(active, 0);
	assert_int_equal(datagrams, 1);
	assert_int_equal(refused, 0);
	close(fd);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* The uid a process runs as, from /proc/PID/status, or -1. */
static long
proc_uid(pid_t pid)
{
	char	 path[64], line[256];
	long	 uid = -1;
	FILE	*fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "Uid:\t%ld", &uid) == 1)
			break;
	fclose(fp);
	return uid;
}

/*
 * A service's user: its children switch to it after fork (the parent
 * stays root), and a service without one keeps the parent's identity.
 */
static void
test_service_user(void **state)
{
	struct daemon d;
	struct passwd *pw = getpwnam("nobody");
	pid_t	 kids[4];
	int	 a, b;

	(void)state;
	if (geteuid() != 0 || pw == NULL)
		skip();
	assert_int_equal(daemon_start(&d,
	    "[low]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\nuser = nobody\n"
	    "[root]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = hello\n"), 0);
	a = greeted(d.port[0]);
	assert_true(proc_wait_children(d.pid, 1, T_MS));
	assert_int_equal(proc_children(d.pid, kids, 4), 1);
	assert_int_equal(proc_uid(kids[0]), (long)pw->pw_uid);
	close(a);
	assert_true(proc_wait_children(d.pid, 0, T_MS));
	b = greeted(d.port[1]);
	assert_true(proc_wait_children(d.pid, 1, T_MS));
	assert_int_equal(proc_children(d.pid, kids, 4), 1);
	assert_int_equal(proc_uid(kids[0]), 0);
	assert_int_equal(proc_uid(d.pid), 0);
	close(b);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * The control socket answers each connection with the status: a line for
 * the daemon, one per enabled service with its counters; a reload that
 * moves it removes the old socket.
 */
static void
test_control_socket(void **state)
{
	struct daemon d;
	const char *tmpl =
	    "[global]\ncontrol = @DIR@/ctl\n"
	    "[hello]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\n"
	    "[echo]\nprotocol = udp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = echo\n"
	    "[off]\nprotocol = tcp\nport = @P2@\nhandler = echo\n"
	    "enabled = no\n";
	char	 buf[4096], want[128], reply[16];
	int	 fd;

	(void)state;
	/* Ready when the log says so: a probe connection would be counted. */
	assert_int_equal(daemon_start_with(&d, tmpl, HD_PROBE_LOG, NULL), 0);
	fd = greeted(d.port[0]);
	assert_int_equal(udp_ask("127.0.0.1", d.port[1], "ping", 4, reply,
	    sizeof(reply), T_MS), 4);
	control_read(harness_path("ctl"), buf, sizeof(buf));
	snprintf(want, sizeof(want), " pid=%ld ", (long)d.pid);
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, " children=1 services=3 enabled=2 "));
	assert_true(strncmp(buf, "hellod: status version=", 23) == 0);
	assert_non_null(strstr(buf, "\nhello: status protocols=tcp enabled=yes "
	    "addresses=127.0.0.1:"));
	assert_non_null(strstr(buf, " handler=hello active=1 accepted=1 "
	    "datagrams_in=0 datagrams_out=0 "));
	assert_non_null(strstr(buf, " handler=echo active=0 accepted=0 "
	    "datagrams_in=1 datagrams_out=1 bytes_in=4 bytes_out=4 refused=0"));
	/* A disabled service is listed, with what it would do. */
	assert_non_null(strstr(buf, "\noff: status protocols=tcp enabled=no addresses=*:"));
	close(fd);
	assert_true(proc_wait_children(d.pid, 0, T_MS));

	daemon_rewrite(&d, "[global]\ncontrol = @DIR@/ctl2\n"
	    "[hello]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\n");
	daemon_signal(&d, SIGHUP);
	assert_true(log_wait(&d, "hellod: reloaded ", T_MS));
	control_read(harness_path("ctl2"), buf, sizeof(buf));
	/* The counters of a service that stays carry over the reload. */
	assert_non_null(strstr(buf, " handler=hello active=0 accepted=1 "));
	assert_non_null(strstr(buf, " reload=ok\n"));
	assert_int_equal(access(harness_path("ctl"), F_OK), -1);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	assert_int_equal(access(harness_path("ctl2"), F_OK), -1);
}

/*
 * The control socket is made 0660 whatever the daemon's umask (it is
 * bound under a umask of its own, never chmod'ed by path), and "control =
 * none", the documented default written out, makes no socket at all.
 */
static void
test_control_mode_and_none(void **state)
{
	struct daemon d;
	struct stat st;
	char	 path[64];
	mode_t	 old = umask(0);
	int	 rc;

	(void)state;
	rc = daemon_start_with(&d, "[global]\ncontrol = @DIR@/ctl\n"
	    "[hello]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\n", HD_PROBE_LOG, NULL);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(lstat(harness_path("ctl"), &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);

	assert_int_equal(daemon_start_with(&d, "[global]\ncontrol = none\n"
	    "[hello]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\n", HD_PROBE_LOG, NULL), 0);
	snprintf(path, sizeof(path), "/proc/%ld/cwd/none", (long)d.pid);
	assert_int_equal(lstat(path, &st), -1);
	assert_false(log_contains(&d, "control_off"));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* A hello service on @P0@ with its control socket at @DIR@/name. */
static void
control_daemon(struct daemon *d, const char *name)
{
	char	 tmpl[512];

	snprintf(tmpl, sizeof(tmpl), "[global]\ncontrol = @DIR@/%s\n"
	    "[hello]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\n", name);
	assert_int_equal(daemon_start_with(d, tmpl, HD_PROBE_LOG, NULL), 0);
}

/* The pid in the first line of what the control socket at path says. */
static long
control_pid(const char *path)
{
	char	 buf[4096];
	long	 pid = -1;

	control_read(path, buf, sizeof(buf));
	assert_int_equal(sscanf(buf, "hellod: status version=%*s pid=%ld ", &pid), 1);
	return pid;
}

/*
 * A control path that names something else than a socket (a mistyped
 * "control = /etc/hellod/hellod.ini") is left alone: the daemon says why
 * and serves on without a control socket.
 */
static void
test_control_not_a_socket(void **state)
{
	const char *path = harness_path("precious.ini");
	struct daemon d;
	char	 want[PATH_MAX + 128], *text;
	int	 fd;

	(void)state;
	harness_write_file(path, "[hello]\nport = 9999\n");
	control_daemon(&d, "precious.ini");
	snprintf(want, sizeof(want), "hellod: control_off path=%s "
	    "detail=not_a_socket\n", path);
	assert_true(log_wait(&d, want, T_MS));
	fd = greeted(d.port[0]);
	close(fd);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	/* Neither the start nor the stop removed it. */
	text = harness_read_file(path);
	assert_string_equal(text, "[hello]\nport = 9999\n");
	free(text);
}

/*
 * A second daemon with the same control path (with -f there is no
 * pidfile to stop it) does not take the socket over: the first one keeps
 * answering on it, before and after the second one stops.
 */
static void
test_control_in_use(void **state)
{
	const char *path = harness_path("shared-ctl");
	struct daemon first, second;
	char	 want[PATH_MAX + 128];

	(void)state;
	control_daemon(&first, "shared-ctl");
	assert_int_equal(control_pid(path), (long)first.pid);
	control_daemon(&second, "shared-ctl");
	snprintf(want, sizeof(want), "hellod: control_off path=%s "
	    "detail=in_use\n", path);
	assert_true(log_wait(&second, want, T_MS));
	assert_int_equal(control_pid(path), (long)first.pid);
	/* The second one still serves its own port. */
	close(greeted(second.port[0]));
	assert_int_equal(daemon_stop(&second, SIGTERM), 0);
	assert_int_equal(control_pid(path), (long)first.pid);
	assert_false(log_contains(&first, "control_off"));
	assert_int_equal(daemon_stop(&first, SIGTERM), 0);
	assert_int_equal(access(path, F_OK), -1);
}

/* A socket left by a daemon that died (nobody listens) is replaced. */
static void
test_control_stale(void **state)
{
	const char *path = harness_path("stale-ctl");
	struct daemon d;
	int	 fd;

	(void)state;
	fd = unix_socket(path, SOCK_STREAM, false);
	close(fd);
	assert_int_equal(access(path, F_OK), 0);
	control_daemon(&d, "stale-ctl");
	assert_int_equal(control_pid(path), (long)d.pid);
	assert_false(log_contains(&d, "control_off"));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_sigterm, harness_teardown),
		cmocka_unit_test_teardown(test_sigint, harness_teardown),
		cmocka_unit_test_teardown(test_signals_inherited_ignored,
		    harness_teardown),
		cmocka_unit_test_teardown(test_reset_flood, harness_teardown),
		cmocka_unit_test_teardown(test_max_children, harness_teardown),
		cmocka_unit_test_teardown(test_sigusr1_status, harness_teardown),
		cmocka_unit_test_teardown(test_service_user, harness_teardown),
		cmocka_unit_test_teardown(test_control_socket, harness_teardown),
		cmocka_unit_test_teardown(test_control_not_a_socket, harness_teardown),
		cmocka_unit_test_teardown(test_control_mode_and_none, harness_teardown),
		cmocka_unit_test_teardown(test_control_in_use, harness_teardown),
		cmocka_unit_test_teardown(test_control_stale, harness_teardown),
	};

	harness_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
