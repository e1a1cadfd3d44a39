/* Integration: exec services run real programs, over TCP (one a connection) and UDP (in.tftpd). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "helloc-run.h"

#define T_MS	harness_ms(5000)

/* Everything a connection to host:port sends until EOF, after sending in. */
static char *
talk(const char *host, uint16_t port, const char *in)
{
	static char buf[16384];
	int	 fd = tcp_connect(host, port, T_MS);

	assert_true(fd >= 0);
	if (in != NULL)
		assert_int_equal(send_str(fd, in), 0);
	shutdown(fd, SHUT_WR);
	assert_true(read_all(fd, buf, sizeof(buf), T_MS) >= 0);
	close(fd);
	return buf;
}

/* /bin/cat as an echo service: bytes back, and the end line says how it went. */
static void
test_cat(void **state)
{
	struct daemon d;

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[cat]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = exec\nexec = /bin/cat\n", HD_PROBE_LOG, NULL), 0);
	assert_string_equal(talk("127.0.0.1", d.port[0], "hello\nworld\n"),
	    "hello\nworld\n");
	assert_true(log_wait(&d, "cat: end peer=127.0.0.1:", T_MS));
	assert_true(log_contains(&d, "reason=done duration="));
	assert_true(log_contains(&d, " in=12 out=12 exit=0\n"));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* The value of NAME in env's output, or NULL. */
static const char *
env_value(const char *out, const char *name, char *buf, size_t len)
{
	char	 key[64];
	const char *p, *e;

	snprintf(key, sizeof(key), "\n%s=", name);
	if ((p = strstr(out, key)) == NULL)
		return NULL;
	p += strlen(key);
	e = strchr(p, '\n');
	snprintf(buf, len, "%.*s", (int)(e != NULL ? e - p : (ptrdiff_t)strlen(p)), p);
	return buf;
}

/* A program's environment: UCSPI and systemd's variables, env and passenv, nothing else. */
static void
check_env(const char *out, const char *ip, const char *lip, uint16_t lport)
{
	char	 buf[256], num[8];

	snprintf(num, sizeof(num), "%u", lport);
	assert_string_equal(env_value(out, "PROTO", buf, sizeof(buf)), "TCP");
	assert_string_equal(env_value(out, "TCPREMOTEIP", buf, sizeof(buf)), ip);
	assert_string_equal(env_value(out, "REMOTE_ADDR", buf, sizeof(buf)), ip);
	assert_string_equal(env_value(out, "TCPLOCALIP", buf, sizeof(buf)), lip);
	assert_string_equal(env_value(out, "TCPLOCALPORT", buf, sizeof(buf)), num);
	assert_string_equal(env_value(out, "TCPCONNNUM", buf, sizeof(buf)), "1");
	assert_non_null(env_value(out, "TCPREMOTEPORT", buf, sizeof(buf)));
	assert_string_equal(env_value(out, "REMOTE_PORT", buf, sizeof(buf)),
	    env_value(out, "TCPREMOTEPORT", num, sizeof(num)));
	assert_string_equal(env_value(out, "PATH", buf, sizeof(buf)),
	    "/usr/local/bin:/usr/bin:/bin");
	assert_string_equal(env_value(out, "GREETING", buf, sizeof(buf)),
	    "hello world");
	assert_string_equal(env_value(out, "HELLOD_TEST_PASSED", buf, sizeof(buf)),
	    "passed");
	assert_null(env_value(out, "HELLOD_TEST_SECRET", buf, sizeof(buf)));
	assert_null(env_value(out, "HOME", buf, sizeof(buf)));
	assert_null(env_value(out, "HELLOD", buf, sizeof(buf)));
}

/*
 * The environment over IPv4 and IPv6, and the descriptors: 0, 1 and 2
 * only, as the program's /proc says.
 */
static void
test_environment(void **state)
{
	struct daemon d;
	char	*out;

	(void)state;
	setenv("HELLOD_TEST_PASSED", "passed", 1);
	setenv("HELLOD_TEST_SECRET", "leaked", 1);
	assert_int_equal(daemon_start_with(&d,
	    "[env]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1 ::1\n"
	    "handler = exec\nexec = /usr/bin/env\n"
	    "env = GREETING=\"hello world\"\npassenv = HELLOD_TEST_PASSED\n"
	    "[fds]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = exec\nexec = /bin/sh -c 'ls /proc/$$/fd; pwd'\n",
	    HD_PROBE_LOG, NULL), 0);
	unsetenv("HELLOD_TEST_PASSED");
	unsetenv("HELLOD_TEST_SECRET");
	out = talk("127.0.0.1", d.port[0], NULL);
	/* A leading newline, so that the first variable is found too. */
	memmove(out + 1, out, strlen(out) + 1);
	out[0] = '\n';
	check_env(out, "127.0.0.1", "127.0.0.1", d.port[0]);
	if (harness_have_ipv6()) {
		out = talk("::1", d.port[0], NULL);
		memmove(out + 1, out, strlen(out) + 1);
		out[0] = '\n';
		check_env(out, "::1", "::1", d.port[0]);
	}
	assert_string_equal(talk("127.0.0.1", d.port[1], NULL), "0\n1\n2\n/\n");
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* Arguments: quotes and backslashes undone at load time, no shell. */
static void
test_arguments(void **state)
{
	struct daemon d;

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[args]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = exec\n"
	    "exec = /usr/bin/printf '[%s]' \"a b\" 'c\"d' e\\ f \"g\\\"h\" '$HOME' *\n",
	    HD_PROBE_LOG, NULL), 0);
	assert_string_equal(talk("127.0.0.1", d.port[0], NULL),
	    "[a b][c\"d][e f][g\"h][$HOME][*]");
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * How a program ends is in its end line: an exit status, a signal, and
 * its stderr lines in the log, escaped.
 */
static void
test_exit_signal_stderr(void **state)
{
	struct daemon d;

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[three]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = exec\nexec = /bin/sh -c 'echo one >&2; "
	    "printf \"two\\\\033\\\\n\" >&2; exit 3'\n"
	    "[killed]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = exec\nexec = /bin/sh -c 'kill -KILL $$'\n",
	    HD_PROBE_LOG, NULL), 0);
	talk("127.0.0.1", d.port[0], NULL);
	assert_true(log_wait(&d, "three: end ", T_MS));
	assert_true(log_contains(&d, "reason=done "));
	assert_true(log_contains(&d, " exit=3\n"));
	assert_true(log_contains(&d, "three: stderr pid="));
	assert_true(log_contains(&d, " line=\"one\""));
	assert_true(log_contains(&d, " line=\"two\\033\""));
	talk("127.0.0.1", d.port[1], NULL);
	assert_true(log_wait(&d, "killed: end ", T_MS));
	assert_true(log_contains(&d, " signal=SIGKILL\n"));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * max_duration ends a program that ignores SIGTERM: SIGTERM, then
 * SIGKILL after the grace; and a stopping hellod ends a running one.
 */
static void
test_max_duration_and_stop(void **state)
{
	struct daemon d;
	uint64_t t0;
	int	 fd;

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[stubborn]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = exec\nexec = /bin/sh -c 'trap \"\" TERM; sleep 30'\n"
	    "max_duration = 1s\n"
	    "[sleeper]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = exec\nexec = /bin/sleep 30\n",
	    HD_PROBE_LOG, NULL), 0);
	t0 = now_ms();
	fd = tcp_connect("127.0.0.1", d.port[0], T_MS);
	assert_true(fd >= 0);
	assert_int_equal(wait_eof(fd, 10000), 1);
	close(fd);
	assert_true(now_ms() - t0 >= 2900);	/* 1 s, then the 2 s grace */
	assert_true(log_wait(&d, "stubborn: end ", T_MS));
	assert_true(log_contains(&d, "reason=max_duration "));
	assert_true(log_contains(&d, " signal=SIGKILL\n"));
	fd = tcp_connect("127.0.0.1", d.port[1], T_MS);
	assert_true(fd >= 0);
	assert_true(proc_wait_children(d.pid, 1, T_MS));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	assert_true(log_contains(&d, "sleeper: end peer=127.0.0.1:"));
	assert_true(log_contains(&d, "reason=shutdown "));
	assert_true(log_contains(&d, " signal=SIGTERM\n"));
	close(fd);
}

/* A program that is missing, not absolute, or not executable is an error at -t. */
static void
test_check_paths(void **state)
{
	const char *conf = harness_path("paths.ini");
	const char *noexec = harness_path("noexec.sh");
	char	*out, *err, want[PATH_MAX + 128];

	(void)state;
	harness_write_file(noexec, "#!/bin/sh\n");
	chmod(noexec, 0644);
	harness_write_file(conf,
	    "[a]\nprotocol = tcp\nport = 7001\nhandler = exec\n"
	    "exec = /no/such/program\n"
	    "[b]\nprotocol = tcp\nport = 7002\nhandler = exec\nexec = cat\n"
	    "[c]\nprotocol = tcp\nport = 7003\nhandler = exec\nexec = %s\n"
	    "[d]\nprotocol = udp\nport = 7004\nhandler = exec\nexec = \"/bin/cat\n"
	    "[e]\nprotocol = tcp\nport = 7005\nhandler = exec\nexec = /bin/env\n"
	    "env = 1X=2 GOOD=1\npassenv = BAD-NAME\n", noexec);
	assert_int_equal(harness_run(&out, &err, (const char *const[]){ "-t", "-c",
	    conf, NULL }), 78);
	snprintf(want, sizeof(want), "%s:5: [a] exec: \"/no/such/program\": No such "
	    "file or directory", conf);
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want), "%s:10: [b] exec: \"cat\" is not an absolute "
	    "path", conf);
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want), "%s:15: [c] exec: \"%s\" is not executable by "
	    "the user hellod runs as", conf, noexec);
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want), "%s:20: [d] exec: a \" is not closed", conf);
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want), "%s:26: [e] env: \"1X=2\" is not NAME=VALUE",
	    conf);
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want), "%s:27: [e] passenv: \"BAD-NAME\" is not a "
	    "variable's name", conf);
	assert_non_null(strstr(err, want));
	free(out);
	free(err);
}

/* A classic program nobody here wrote, behind hellod, talked to with helloc. */
static void
test_tr_with_helloc(void **state)
{
	struct daemon d;
	struct hc_run r;
	const char *in = harness_path("in.txt");
	char	 port[8];

	(void)state;
	helloc_init();
	harness_write_file(in, "hello, world\n");
	assert_int_equal(daemon_start_with(&d,
	    "[upper]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = exec\nexec = /usr/bin/tr a-z A-Z\n", HD_PROBE_LOG, NULL), 0);
	snprintf(port, sizeof(port), "%u", d.port[0]);
	helloc_run(&r, in, T_MS, (const char *const[]){ "127.0.0.1", port, NULL });
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "HELLO, WORLD\n");
	helloc_run_free(&r);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * UDP, inetd's wait: a program that fails before reading the datagram
 * that woke it is not woken by it again and again: hellod drops it.
 */
static void
test_udp_unread_dropped(void **state)
{
	struct daemon d;
	char	 out[16];

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[bad]\nprotocol = udp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = exec\nexec = /bin/false\n", HD_PROBE_LOG, NULL), 0);
	assert_int_equal(udp_ask("127.0.0.1", d.port[0], "x", 1, out, sizeof(out),
	    500), -1);
	assert_true(log_wait(&d, "bad: dropped cause=unread_by_program", T_MS));
	usleep(300 * 1000);
	assert_int_equal(log_count(&d, "bad: wake peer="), 1);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * in.tftpd from tftpd-hpa behind a UDP exec service, the classic use of
 * inetd's wait: a 1 MiB file fetched with tftp-hpa's client arrives
 * intact, twice (the socket is watched again after the first program).
 * In CI (HELLOD_REQUIRE_TFTP set) a missing program fails the test.
 */
static void
test_tftp(void **state)
{
	const char *tftpd = harness_program("HELLOD_TFTPD", "/usr/sbin/in.tftpd");
	const char *root = harness_path("tftproot");
	char	 conf[1024], cmd[4 * PATH_MAX], file[PATH_MAX], got[PATH_MAX];
	struct daemon d;
	int	 i;

	(void)state;
	if (tftpd == NULL || access("/usr/bin/tftp", X_OK) != 0 || geteuid() != 0) {
		if (getenv("HELLOD_REQUIRE_TFTP") != NULL)
			fail_msg("in.tftpd or tftp missing, or not root");
		skip();
	}
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(chmod(harness_dir(), 0755), 0);
	snprintf(file, sizeof(file), "%s/big.bin", root);
	snprintf(cmd, sizeof(cmd), "head -c 1048576 /dev/urandom > %s && "
	    "chmod 644 %s", file, file);
	assert_int_equal(system(cmd), 0);
	snprintf(conf, sizeof(conf), "[tftp]\nprotocol = udp\nport = @P0@\n"
	    "bind = 127.0.0.1\nhandler = exec\n"
	    "exec = %s -t 1 -u nobody -s %s\n", tftpd, root);
	assert_int_equal(daemon_start_with(&d, conf, HD_PROBE_LOG, NULL), 0);
	for (i = 0; i < 2; i++) {
		snprintf(got, sizeof(got), "%s/got%d.bin", harness_dir(), i);
		snprintf(cmd, sizeof(cmd), "cd %s && timeout 30 tftp -m binary "
		    "127.0.0.1 %u -c get big.bin %s && cmp -s %s %s", harness_dir(),
		    d.port[0], got, file, got);
		assert_int_equal(system(cmd), 0);
		/* in.tftpd stays a second (-t 1) for another request, then goes. */
		assert_true(log_wait_n(&d, "tftp: wake_end ", (unsigned)i + 1, T_MS));
	}
	assert_int_equal(log_count(&d, "tftp: wake peer=127.0.0.1:"), 2);
	assert_int_equal(log_count(&d, "reason=done duration="), 2);
	assert_int_equal(log_count(&d, " exit=0\n"), 2);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* The soft and hard limits on open files of pid, from /proc/PID/limits. */
static bool
nofile_of(pid_t pid, unsigned long *soft, unsigned long *hard)
{
	char	 path[64], line[256];
	bool	 found = false;
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%ld/limits", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = sscanf(line, "Max open files %lu %lu", soft, hard) == 2;
	fclose(f);
	return found;
}

/*
 * The daemon raises its soft limit on open files to the hard one; a
 * program it runs gets the limit the daemon was started with.
 */
static void
test_nofile_limit(void **state)
{
	struct rlimit	 was, low;
	struct daemon	 d;
	unsigned long	 soft, hard;

	(void)state;
	harness_skip_valgrind("valgrind keeps the limit on open files to itself");
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
	if (was.rlim_max != RLIM_INFINITY && was.rlim_max <= 256)
		skip();
	low = was;
	low.rlim_cur = 256;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(daemon_start_with(&d,
	    "[n]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = exec\nexec = /bin/sh -c 'ulimit -Sn'\n",
	    HD_PROBE_LOG, NULL), 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
	assert_true(nofile_of(d.pid, &soft, &hard));
	assert_true(soft == hard);
	assert_true(soft > 256);
	assert_string_equal(talk("127.0.0.1", d.port[0], NULL), "256\n");
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_cat, harness_teardown),
		cmocka_unit_test_teardown(test_environment, harness_teardown),
		cmocka_unit_test_teardown(test_arguments, harness_teardown),
		cmocka_unit_test_teardown(test_exit_signal_stderr, harness_teardown),
		cmocka_unit_test_teardown(test_max_duration_and_stop,
		    harness_teardown),
		cmocka_unit_test_teardown(test_check_paths, harness_teardown),
		cmocka_unit_test_teardown(test_tr_with_helloc, harness_teardown),
		cmocka_unit_test_teardown(test_udp_unread_dropped, harness_teardown),
		cmocka_unit_test_teardown(test_tftp, harness_teardown),
		cmocka_unit_test_teardown(test_nofile_limit, harness_teardown),
	};

	harness_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
