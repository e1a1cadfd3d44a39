/* Integration: the command line, -t, exit codes, the pidfile, a busy port, errors on stderr. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <fcntl.h>
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

#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })

static const char *const good_conf =
    "[global]\n"
    "max_children = 10\n"
    SN_HELLO_TCP_UDP
    "[echo]\n"
    "protocol = tcp\n"
    "port = @P1@\n"
    "bind = 127.0.0.1\n"
    "handler = echo\n";

/* True when text holds a usage message ("usage:", "Usage:"). */
static bool
has_usage(const char *text)
{
	return strstr(text, "usage") != NULL || strstr(text, "Usage") != NULL ||
	    strstr(text, "USAGE") != NULL;
}

static void
test_version(void **state)
{
	char *out, *err;
	const char *v;

	(void)state;
	assert_int_equal(harness_run(&out, &err, ARGS("-V")), 0);
	assert_memory_equal(out, "hellod ", 7);
	v = out + 7;
	assert_true(isdigit((unsigned char)*v));
	/* One line: "hellod VERSION\n". */
	assert_non_null(strchr(v, '\n'));
	assert_string_equal(strchr(v, '\n'), "\n");
	free(out);
	free(err);
	assert_int_equal(harness_run(&out, &err, ARGS("--version")), 0);
	assert_memory_equal(out, "hellod ", 7);
	free(out);
	free(err);
}

static void
test_help(void **state)
{
	char *out, *err;

	(void)state;
	assert_int_equal(harness_run(&out, &err, ARGS("-h")), 0);
	assert_true(has_usage(out));
	assert_non_null(strstr(out, "-c"));
	free(out);
	free(err);
	assert_int_equal(harness_run(&out, &err, ARGS("--help")), 0);
	assert_true(has_usage(out));
	free(out);
	free(err);
}

static void
test_bad_option(void **state)
{
	char *out, *err;

	(void)state;
	assert_int_equal(harness_run(&out, &err, ARGS("-Z")), 64);
	assert_true(has_usage(err));
	free(out);
	free(err);
	assert_int_equal(harness_run(&out, &err, ARGS("--no-such-option")), 64);
	free(out);
	free(err);
}

static void
test_missing_argument(void **state)
{
	char *out, *err;

	(void)state;
	assert_int_equal(harness_run(&out, &err, ARGS("-c")), 64);
	assert_true(strlen(err) > 0);
	free(out);
	free(err);
	assert_int_equal(harness_run(&out, &err, ARGS("-f", "-p")), 64);
	free(out);
	free(err);
}

static void
test_check_good(void **state)
{
	const char *path = harness_path("good.ini");
	char *out, *err, want[4200], *p;
	bool hello = false, echo = false;

	(void)state;
	harness_write_file(path,
	    "[hello]\nprotocol = tcp udp\nport = 40001\nbind = 127.0.0.1 ::1\n"
	    "handler = hello\ngreeting = Welcome!\nidle_timeout = 60s\n"
	    "[echo]\nprotocol = tcp udp\nport = 40002\nbind = 127.0.0.1\n"
	    "handler = echo\n");
	assert_int_equal(harness_run(&out, &err, ARGS("-t", "-c", path)), 0);
	snprintf(want, sizeof(want), "configuration OK: %s\n", path);
	assert_memory_equal(out, want, strlen(want));
	/* Then one line per service, naming it. */
	for (p = out + strlen(want); *p != '\0'; p = strchr(p, '\n') + 1) {
		char *nl = strchr(p, '\n');

		assert_non_null(nl);
		*nl = '\0';
		if (strstr(p, "hello") != NULL)
			hello = true;
		if (strstr(p, "echo") != NULL)
			echo = true;
		*nl = '\n';
	}
	assert_true(hello);
	assert_true(echo);
	free(out);
	free(err);
}

/* The line numbers of the "PATH:N:" lines in text, in order. */
static size_t
error_lines(const char *text, const char *path, int *lines, size_t max)
{
	size_t n = 0, plen = strlen(path);
	const char *p;

	for (p = text; p != NULL && *p != '\0'; ) {
		if (strncmp(p, path, plen) == 0 && p[plen] == ':' &&
		    isdigit((unsigned char)p[plen + 1])) {
			if (n < max)
				lines[n] = atoi(p + plen + 1);
			n++;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return n;
}

static void
test_check_three_errors(void **state)
{
	const char *path = harness_path("bad.ini");
	char *out, *err;
	int lines[8];
	size_t n;

	(void)state;
	harness_write_file(path,
	    "[global]\n"			/* 1 */
	    "max_children = 10\n"		/* 2 */
	    "[hello]\n"				/* 3 */
	    "protocol = tcp\n"			/* 4 */
	    "port = 99999\n"			/* 5: bad port */
	    "handler = hello\n"			/* 6 */
	    "colour = blue\n"			/* 7: unknown key */
	    "[echo]\n"				/* 8: no handler */
	    "protocol = tcp\n"			/* 9 */
	    "port = 40003\n");			/* 10 */
	assert_int_equal(harness_run(&out, &err, ARGS("-t", "-c", path)), 78);
	n = error_lines(err, path, lines, 8);
	if (n != 3)
		fail_msg("want 3 errors, got %zu:\n%s", n, err);
	assert_int_equal(lines[0], 5);
	assert_int_equal(lines[1], 7);
	/* A missing key is the section's fault: its header, or its last line. */
	assert_true(lines[2] == 8 || lines[2] == 10);
	assert_non_null(strstr(err, "port"));
	assert_non_null(strstr(err, "colour"));
	assert_non_null(strstr(err, "handler"));
	free(out);
	free(err);
}

static void
test_missing_config(void **state)
{
	const char *path = harness_path("no-such.ini");
	char *out, *err;

	(void)state;
	assert_int_equal(harness_run(&out, &err, ARGS("-t", "-c", path)), 78);
	assert_non_null(strstr(err, path));
	free(out);
	free(err);
	assert_int_equal(harness_run(&out, &err, ARGS("-f", "-c", path)), 78);
	assert_non_null(strstr(err, path));
	free(out);
	free(err);
}

static void
test_pidfile(void **state)
{
	const char *pidfile = harness_path("hellod.pid");
	struct daemon d1, d2;
	char *text;

	(void)state;
	assert_int_equal(daemon_start_with(&d1, good_conf, HD_PROBE_TCP,
	    ARGS("-p", pidfile)), 0);
	text = harness_read_file(pidfile);
	assert_int_equal(atoi(text), d1.pid);
	free(text);
	/* A second instance with other ports but the same pidfile refuses. */
	assert_int_equal(daemon_start_with(&d2, good_conf, HD_PROBE_TCP,
	    ARGS("-p", pidfile)), 73);
	assert_true(proc_alive(d1.pid));
	text = harness_read_file(pidfile);
	assert_int_equal(atoi(text), d1.pid);
	free(text);
	assert_int_equal(daemon_stop(&d1, SIGTERM), 0);
	assert_int_equal(access(pidfile, F_OK), -1);
}

/*
 * A pidfile path that is a symbolic link is refused, and the file it
 * points at is left alone; so is a pidfile directory others may write.
 */
static void
test_pidfile_unsafe(void **state)
{
	const char *victim = harness_path("precious");
	const char *link = harness_path("link.pid");
	const char *open_dir = harness_path("open");
	char	 pidfile[PATH_MAX], *text;
	struct daemon d;

	(void)state;
	harness_write_file(victim, "precious\n");
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(daemon_start_with(&d, good_conf, HD_PROBE_TCP,
	    ARGS("-p", link)), 73);
	assert_true(log_contains(&d, "detail=symbolic_link"));
	text = harness_read_file(victim);
	assert_string_equal(text, "precious\n");
	free(text);

	assert_int_equal(mkdir(open_dir, 0755), 0);
	assert_int_equal(chmod(open_dir, 01777), 0);
	snprintf(pidfile, sizeof(pidfile), "%s/hellod.pid", open_dir);
	assert_int_equal(daemon_start_with(&d, good_conf, HD_PROBE_TCP,
	    ARGS("-p", pidfile)), 73);
	assert_true(log_contains(&d, "detail=dir_writable_by_others"));
	assert_int_equal(access(pidfile, F_OK), -1);
}

static void
test_port_in_use(void **state)
{
	struct daemon d;
	uint16_t port = harness_free_port();
	char conf[512], want[64], *log;
	int fd;

	(void)state;
	fd = hold_port(SOCK_STREAM, port);

	snprintf(conf, sizeof(conf),
	    "[busy]\nprotocol = tcp\nport = %u\nbind = 127.0.0.1\n"
	    "handler = hello\n", port);
	assert_int_equal(daemon_start_with(&d, conf, HD_PROBE_LOG, NULL), 71);
	close(fd);
	log = harness_read_file(d.log);
	snprintf(want, sizeof(want), "127.0.0.1:%u", port);
	assert_non_null(strstr(log, "busy"));
	assert_non_null(strstr(log, want));
	free(log);
}

/*
 * A UDP port someone else holds is in use for the daemon too, even when
 * that someone set SO_REUSEADDR: with it on both sides, Linux would let
 * both bind, and the newer socket would take the service's datagrams.
 */
static void
test_udp_port_in_use(void **state)
{
	struct daemon d;
	uint16_t port = harness_free_port();
	char conf[512];
	int fd;

	(void)state;
	fd = hold_port(SOCK_DGRAM, port);
	snprintf(conf, sizeof(conf),
	    "[busy]\nprotocol = udp\nport = %u\nbind = 127.0.0.1\n"
	    "handler = hello\n", port);
	assert_int_equal(daemon_start_with(&d, conf, HD_PROBE_LOG, NULL), 71);
	close(fd);
	assert_true(log_contains(&d, "busy: listen_failed proto=udp addr=127.0.0.1:"));
}

/*
 * Without -e, a start that fails says why on stderr all the same, and not
 * in syslog only: a port in use (71) in the foreground and when detaching,
 * and a pidfile held by a running instance (73).
 */
static void
test_start_errors_on_stderr(void **state)
{
	const char *path = harness_path("busy.ini");
	const char *pidfile = harness_path("busy.pid");
	uint16_t port = harness_free_port();
	struct daemon d;
	char want[512], *err;
	int fd;

	(void)state;
	fd = hold_port(SOCK_STREAM, port);
	harness_write_file(path, "[busy]\nprotocol = tcp\nport = %u\n"
	    "bind = 127.0.0.1\nhandler = hello\n", port);
	snprintf(want, sizeof(want), "busy: listen_failed proto=tcp "
	    "addr=127.0.0.1:%u error=\"bind: Address already in use\"\n", port);
	assert_int_equal(harness_run(NULL, &err, ARGS("-f", "-c", path)), 71);
	assert_non_null(strstr(err, want));
	free(err);
	assert_int_equal(harness_run(NULL, &err, ARGS("-p", pidfile, "-c", path)),
	    71);
	assert_non_null(strstr(err, want));
	free(err);
	close(fd);

	assert_int_equal(daemon_start_with(&d, good_conf, HD_PROBE_TCP,
	    ARGS("-p", pidfile)), 0);
	assert_int_equal(harness_run(NULL, &err, ARGS("-f", "-p", pidfile, "-c",
	    path)), 73);
	snprintf(want, sizeof(want), "hellod: pidfile_error path=%s "
	    "detail=running pid=%ld\n", pidfile, (long)d.pid);
	assert_non_null(strstr(err, want));
	free(err);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * Detached (no -f), the daemon that stays serves: TCP dialogues (a child
 * each, the per-client limits counted), UDP datagrams, a reload, and a
 * clean stop.  What the parent made before detaching it still has.
 */
static long detached_pid;

/* The detached daemon killed, should a check have failed before it stopped. */
static int
detached_teardown(void **state)
{
	if (detached_pid > 1 && proc_alive((pid_t)detached_pid))
		kill((pid_t)detached_pid, SIGKILL);
	detached_pid = 0;
	return harness_teardown(state);
}

static void
test_detached_serves(void **state)
{
	const char *path = harness_path("detached.ini");
	const char *pidfile = harness_path("detached.pid");
	uint16_t port = harness_free_port();
	char	 buf[256], *text;
	long	 pid;
	int	 fd, i;
	ssize_t	 n;

	(void)state;
	harness_write_file(path, "[hello]\nprotocol = tcp udp\nport = %u\n"
	    "bind = 127.0.0.1\nhandler = hello\nper_source = 5\nrate = 1000\n"
	    "source_rate = 1000\n", port);
	assert_int_equal(harness_run(NULL, NULL, ARGS("-p", pidfile, "-c", path)), 0);
	/* The daemon that stays writes its pid, maybe after the first one left. */
	for (i = 0, pid = 0; i < 100 && pid <= 1; i++) {
		if ((text = harness_read_file(pidfile)) != NULL)
			pid = strtol(text, NULL, 10);
		free(text);
		if (pid <= 1)
			usleep((useconds_t)harness_ms(50) * 1000);
	}
	assert_true(pid > 1 && proc_alive((pid_t)pid));
	detached_pid = pid;
	for (i = 0; i < 3; i++) {
		fd = tcp_connect("127.0.0.1", port, harness_ms(3000));
		assert_true(fd >= 0);
		/* The greeting, then the dialogue. */
		assert_true(read_line(fd, buf, sizeof(buf), harness_ms(3000)) > 0);
		assert_int_equal(send_str(fd, "Michael\n"), 0);
		assert_true(read_line(fd, buf, sizeof(buf), harness_ms(3000)) > 0);
		assert_non_null(strstr(buf, "Hello, Michael!"));
		close(fd);
		n = udp_ask("127.0.0.1", port, "Michael", 7, buf, sizeof(buf) - 1,
		    harness_ms(3000));
		assert_int_equal(n, strlen("Hello, Michael!"));
	}
	assert_int_equal(kill((pid_t)pid, SIGHUP), 0);
	n = udp_ask("127.0.0.1", port, "again", 5, buf, sizeof(buf) - 1,
	    harness_ms(3000));
	assert_int_equal(n, strlen("Hello, again!"));
	assert_true(proc_alive((pid_t)pid));
	assert_int_equal(kill((pid_t)pid, SIGTERM), 0);
	for (i = 0; i < 100 && proc_alive((pid_t)pid); i++)
		usleep((useconds_t)harness_ms(50) * 1000);
	assert_false(proc_alive((pid_t)pid));
}

/*
 * Run "$HELLOD -f -c conf" with stderr into path, and JOURNAL_STREAM naming
 * that file, as systemd names its stream into the journal.  Returns the
 * exit code.
 */
static int
run_on_journal_stream(const char *conf, const char *path)
{
	char	 env[64];
	struct stat st;
	pid_t	 pid;
	int	 fd, status;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	fflush(stderr);
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		dup2(fd, STDERR_FILENO);
		setenv("JOURNAL_STREAM", env, 1);
		execl(getenv("HELLOD"), "hellod", "-f", "-c", conf, (char *)NULL);
		_exit(127);
	}
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Under systemd, stderr is the journal, which receives the syslog lines
 * already: configuration errors and start-up errors are not written twice.
 */
static void
test_no_copy_on_journal(void **state)
{
	const char *bad = harness_path("bad.ini"), *busy = harness_path("busy.ini");
	const char *path = harness_path("stream.err");
	uint16_t port = harness_free_port();
	char *err;
	int fd;

	(void)state;
	harness_write_file(bad, "[hello]\nprotocol = tcp\nport = 0\n"
	    "handler = hello\n");
	assert_int_equal(run_on_journal_stream(bad, path), 78);
	err = harness_read_file(path);
	assert_string_equal(err, "");
	free(err);

	fd = hold_port(SOCK_STREAM, port);
	harness_write_file(busy, "[busy]\nprotocol = tcp\nport = %u\n"
	    "bind = 127.0.0.1\nhandler = hello\n", port);
	assert_int_equal(run_on_journal_stream(busy, path), 71);
	close(fd);
	err = harness_read_file(path);
	assert_string_equal(err, "");
	free(err);

	/* Without JOURNAL_STREAM, the same file gets the lines. */
	assert_int_equal(harness_run(NULL, &err, ARGS("-f", "-c", bad)), 78);
	assert_non_null(strstr(err, "bad.ini:3:"));
	assert_non_null(strstr(err, "1 error, configuration not loaded\n"));
	free(err);
}

/*
 * -t warns about a port another program holds, and still exits 0: the
 * holder may be the running daemon itself.  Run by the unit's ExecReload=
 * (MAINPID set) it is, and -t says nothing.
 */
static void
test_check_port_in_use(void **state)
{
	const char *path = harness_path("probe.ini");
	uint16_t port = harness_free_port();
	char want[160], *out, *err;
	int fd;

	(void)state;
	harness_write_file(path, "[busy]\nprotocol = tcp udp\nport = %u\n"
	    "bind = 127.0.0.1\nhandler = hello\n", port);
	assert_int_equal(harness_run(&out, &err, ARGS("-t", "-c", path)), 0);
	assert_string_equal(err, "");
	free(out);
	free(err);

	fd = hold_port(SOCK_STREAM, port);
	assert_int_equal(harness_run(&out, &err, ARGS("-t", "-c", path)), 0);
	snprintf(want, sizeof(want), "hellod: warning: busy: tcp 127.0.0.1:%u: "
	    "bind: Address already in use (held by another program, or by a "
	    "running hellod)\n", port);
	assert_string_equal(err, want);
	assert_non_null(strstr(out, "configuration OK"));
	free(out);
	free(err);

	setenv("MAINPID", "1", 1);
	assert_int_equal(harness_run(&out, &err, ARGS("-t", "-c", path)), 0);
	unsetenv("MAINPID");
	assert_string_equal(err, "");
	free(out);
	free(err);
	close(fd);

	fd = hold_port(SOCK_DGRAM, port);
	assert_int_equal(harness_run(&out, &err, ARGS("-t", "-c", path)), 0);
	assert_non_null(strstr(err, "warning: busy: udp 127.0.0.1:"));
	assert_null(strstr(err, "busy: tcp"));
	free(out);
	free(err);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_bad_option),
		cmocka_unit_test(test_missing_argument),
		cmocka_unit_test(test_check_good),
		cmocka_unit_test(test_check_three_errors),
		cmocka_unit_test(test_missing_config),
		cmocka_unit_test_teardown(test_pidfile, harness_teardown),
		cmocka_unit_test_teardown(test_pidfile_unsafe, harness_teardown),
		cmocka_unit_test_teardown(test_port_in_use, harness_teardown),
		cmocka_unit_test_teardown(test_udp_port_in_use, harness_teardown),
		cmocka_unit_test_teardown(test_start_errors_on_stderr,
		    harness_teardown),
		cmocka_unit_test_teardown(test_detached_serves,
		    detached_teardown),
		cmocka_unit_test(test_no_copy_on_journal),
		cmocka_unit_test(test_check_port_in_use),
	};

	harness_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
