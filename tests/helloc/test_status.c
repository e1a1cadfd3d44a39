/* Integration: helloc --status against the real daemon's control socket: table, JSON, errors. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
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
#include "helloc-run.h"

#define T_MS	harness_ms(10000)

/* hello takes one connection per client; echo refuses every loopback client. */
static const char conf[] =
    "[global]\ncontrol = @DIR@/ctl\n"
    "[hello]\nprotocol = tcp udp\nport = @P0@\nbind = 127.0.0.1\n"
    "handler = hello\nper_source = 1\n"
    "[echo]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\nhandler = echo\n"
    "deny = 127.0.0.0/8\n"
    "[off]\nprotocol = tcp\nport = @P2@\nhandler = daytime\nenabled = no\n";

static struct daemon d;
static int held = -1;

static const char *
ctl(void)
{
	return harness_path("ctl");
}

/*
 * A known sequence: 3 hello dialogues, 2 datagrams, 2 echo connections
 * refused (deny), then one hello connection held open and a second from
 * the same client refused (per_source).
 */
static int
setup(void **state)
{
	char	 line[128];
	int	 fd, i;

	(void)state;
	assert_int_equal(daemon_start_with(&d, conf, HD_PROBE_LOG, NULL), 0);
	for (i = 0; i < 3; i++) {
		fd = tcp_connect("127.0.0.1", d.port[0], T_MS);
		assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
		assert_int_equal(send_str(fd, "Ann\nexit\n"), 0);
		assert_true(read_all(fd, line, sizeof(line), T_MS) >= 0);
		close(fd);
		assert_true(proc_wait_children(d.pid, 0, T_MS));
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(udp_ask("127.0.0.1", d.port[0], "Bo", 2, line,
		    sizeof(line), T_MS), 10);
		fd = tcp_connect("127.0.0.1", d.port[1], T_MS);
		assert_int_equal(wait_eof(fd, T_MS), 1);
		close(fd);
	}
	held = tcp_connect("127.0.0.1", d.port[0], T_MS);
	assert_true(read_line(held, line, sizeof(line), T_MS) > 0);
	fd = tcp_connect("127.0.0.1", d.port[0], T_MS);
	assert_int_equal(wait_eof(fd, T_MS), 1);
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	close(held);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	return harness_teardown(state);
}

/* The line of the table that starts with name and a space, or fail. */
static const char *
row(const char *out, const char *name)
{
	char	 needle[64];
	const char *p;

	snprintf(needle, sizeof(needle), "\n%s ", name);
	if ((p = strstr(out, needle)) == NULL)
		fail_msg("no row for %s in:\n%s", name, out);
	return p + 1;
}

/* The words of a row, at most n, into w (each at most 63 bytes). */
static size_t
words(const char *line, char w[][64], size_t n)
{
	size_t	 i = 0, len;

	while (i < n && *line != '\n' && *line != '\0') {
		line += strspn(line, " ");
		len = strcspn(line, " \n");
		snprintf(w[i++], 64, "%.*s", (int)len, line);
		line += len;
	}
	return i;
}

/* Where the column whose heading is col ends, on each line: the same for all. */
static void
right_aligned(const char *out, const char *col)
{
	const char *head = strstr(out, "SERVICE "), *h, *line;
	size_t	 end;

	assert_non_null(head);
	assert_non_null(h = strstr(head, col));
	end = (size_t)(h - head) + strlen(col);
	for (line = head; (line = strchr(line, '\n')) != NULL && line[1] != '\0';) {
		line++;
		assert_true(strlen(line) > end);
		assert_true(line[end] == ' ' && line[end - 1] != ' ');
	}
}

static void
test_table(void **state)
{
	const char *const args[] = { "--status", "--control", ctl(), NULL };
	struct hc_run r;
	char	 w[16][64], want[64];

	(void)state;
	helloc_run(&r, NULL, T_MS, args);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	snprintf(want, sizeof(want), "hellod %s, pid %ld, ", PACKAGE_VERSION,
	    (long)d.pid);
	assert_true(strncmp(r.out, want, strlen(want)) == 0);
	assert_non_null(strstr(r.out, "last reload: none\n"));
	assert_non_null(strstr(r.out, "\nSERVICE  PROTO    ENABLED  ACTIVE  "
	    "ACCEPTED  DGRAMS_IN  DGRAMS_OUT  BYTES_IN  BYTES_OUT  REFUSED  "
	    "REFUSED_BY\n"));
	/* SERVICE PROTO ENABLED ACTIVE ACCEPTED IN OUT BIN BOUT REFUSED BY */
	assert_int_equal(words(row(r.out, "hello"), w, 16), 11);
	assert_string_equal(w[1], "tcp,udp");
	assert_string_equal(w[2], "yes");
	assert_string_equal(w[3], "1");
	assert_string_equal(w[4], "4");
	assert_string_equal(w[5], "2");
	assert_string_equal(w[6], "2");
	assert_string_equal(w[7], "31");	/* 3 x "Ann\nexit\n", 2 x "Bo" */
	assert_string_equal(w[9], "1");
	assert_string_equal(w[10], "per_source=1");
	assert_int_equal(words(row(r.out, "echo"), w, 16), 11);
	assert_string_equal(w[4], "0");
	assert_string_equal(w[9], "2");
	assert_string_equal(w[10], "deny=2");
	assert_int_equal(words(row(r.out, "off"), w, 16), 11);
	assert_string_equal(w[2], "no");
	assert_string_equal(w[10], "-");
	right_aligned(r.out, "ACCEPTED");
	right_aligned(r.out, "BYTES_OUT");
	helloc_run_free(&r);
}

static void
test_json(void **state)
{
	const char *const args[] = { "--status", "--json", "--control", ctl(),
	    NULL };
	struct hc_run r;

	(void)state;
	helloc_run(&r, NULL, T_MS, args);
	assert_int_equal(r.status, 0);
	assert_true(r.out[0] == '{' && strchr(r.out, '\n') == r.out + r.outlen - 1);
	assert_int_equal((long)json_number(r.out, "pid"), (long)d.pid);
	/* hello is the first service: its counters come first. */
	assert_int_equal((int)json_number(r.out, "active"), 1);
	assert_int_equal((int)json_number(r.out, "accepted"), 4);
	assert_int_equal((int)json_number(r.out, "datagrams_out"), 2);
	assert_int_equal((int)json_number(r.out, "refused_per_source"), 1);
	assert_non_null(strstr(r.out, "\"name\":\"echo\""));
	assert_non_null(strstr(r.out, "\"refused_deny\":2,"));
	helloc_run_free(&r);
}

static void
test_missing_socket(void **state)
{
	const char *path = harness_path("no-such-ctl");
	const char *const args[] = { "--status", "--control", path, NULL };
	struct hc_run r;

	(void)state;
	helloc_run(&r, NULL, T_MS, args);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, path));
	assert_non_null(strstr(r.err, "no control socket there"));
	helloc_run_free(&r);
}

/* helloc as nobody: the 0660 socket refuses it, and it says so, naming the path. */
static void
test_permission_denied(void **state)
{
	struct passwd *pw;
	char	 err[1024] = "";
	int	 p[2], status, exe;
	ssize_t	 n;
	pid_t	 pid;

	(void)state;
	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		skip();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	/* Opened as root: nobody may not search the build's directories. */
	assert_true((exe = open(getenv("HELLOC"), O_RDONLY | O_CLOEXEC)) >= 0);
	if ((pid = fork()) == 0) {
		static char *const argv[] = { "helloc", "--status", "--control",
		    NULL, NULL };
		static char *const envp[] = { NULL };
		char	*args[5];
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(p[1], 2);
		if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
		    setuid(pw->pw_uid) == -1)
			_exit(99);
		memcpy(args, argv, sizeof(args));
		args[3] = (char *)ctl();
		fexecve(exe, args, envp);
		_exit(98);
	}
	close(exe);
	close(p[1]);
	n = read_all(p[0], err, sizeof(err), T_MS);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!(n > 0 && WIFEXITED(status)))
		fail_msg("helloc as nobody: status %#x, %zd bytes: %s", status, n, err);
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(err, ctl()));
	assert_non_null(strstr(err, "permission denied"));
}

static void
test_usage(void **state)
{
	const char *const extra[] = { "--status", "now", NULL };
	const char *const stray[] = { "--control", ctl(), "127.0.0.1", "7", NULL };
	struct hc_run r;

	(void)state;
	helloc_run(&r, NULL, T_MS, extra);
	assert_int_equal(r.status, 64);
	helloc_run_free(&r);
	helloc_run(&r, NULL, T_MS, stray);
	assert_int_equal(r.status, 64);
	assert_non_null(strstr(r.err, "--control"));
	helloc_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_missing_socket),
		cmocka_unit_test(test_permission_denied),
		cmocka_unit_test(test_usage),
	};

	harness_init();
	helloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
