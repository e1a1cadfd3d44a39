/*
 * Integration: the exchanges of the socket tutorial hellod grows out of,
 * as its clients wrote them, and the shipped configuration.
 */
#include <sys/types.h>

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

#define T_MS	harness_ms(5000)

static const char *const names[] = { "Michael", "Tracy", "Sarah" };

/* The tutorial's service: hello on TCP and UDP, loopback. */
static const char *const conf =
    SN_HELLO_TCP_UDP
    "greeting = Welcome!\n";

static struct daemon d;

static int
setup(void **state)
{
	(void)state;
	return daemon_start(&d, conf) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	int rc = daemon_stop(&d, SIGTERM);

	harness_teardown(state);
	return rc == 0 ? 0 : -1;
}

static int
greeted(void)
{
	char line[256];
	int fd = tcp_connect("127.0.0.1", d.port[0], T_MS);

	assert_true(fd >= 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Welcome!\r\n");
	return fd;
}

/* Send each name followed by suffix, read each reply, then "exit" and close. */
static void
dialogue(const char *suffix)
{
	char msg[64], want[64], line[256];
	size_t i;
	int fd = greeted();

	for (i = 0; i < 3; i++) {
		snprintf(msg, sizeof(msg), "%s%s", names[i], suffix);
		snprintf(want, sizeof(want), "Hello, %s!\r\n", names[i]);
		assert_int_equal(send_str(fd, msg), 0);
		assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
		assert_string_equal(line, want);
	}
	assert_int_equal(send_str(fd, "exit"), 0);
	close(fd);
}

static void
test_bare_names(void **state)
{
	(void)state;
	/* No newline: the server answers after its fragment timer. */
	dialogue("");
}

static void
test_newline_names(void **state)
{
	(void)state;
	dialogue("\n");
}

static void
test_crlf_names(void **state)
{
	(void)state;
	dialogue("\r\n");
}

static void
test_names_in_one_send(void **state)
{
	char line[256], want[64];
	size_t i;
	int fd = greeted();

	(void)state;
	assert_int_equal(send_str(fd, "Michael\nTracy\nSarah\n"), 0);
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "Hello, %s!\r\n", names[i]);
		assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
		assert_string_equal(line, want);
	}
	/* "exit" alone, unterminated, ends the conversation without reply. */
	assert_int_equal(send_str(fd, "exit"), 0);
	assert_int_equal(read_all(fd, line, sizeof(line), T_MS), 0);
	close(fd);
}

static void
test_udp_names(void **state)
{
	char buf[600], want[64];
	size_t i;
	ssize_t n;
	int fd;

	(void)state;
	fd = udp_socket("127.0.0.1", 0);
	assert_true(fd >= 0);
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "Hello, %s!", names[i]);
		n = udp_exchange(fd, "127.0.0.1", d.port[0], names[i],
		    strlen(names[i]), buf, sizeof(buf) - 1, T_MS);
		assert_int_equal(n, strlen(want));
		buf[n] = '\0';
		assert_string_equal(buf, want);
	}
	close(fd);
}

static void
test_shipped_config(void **state)
{
	const char *src = getenv("HELLOD_SRCDIR");
	char path[4096], *out = NULL, *err = NULL, want[4200];
	int rc;

	(void)state;
	if (src == NULL)
		skip();
	snprintf(path, sizeof(path), "%s/etc/hellod.ini", src);
	if (access(path, R_OK) != 0)
		skip();
	rc = harness_run(&out, &err, (const char *const[]){ "-t", "-c", path, NULL });
#ifndef HAVE_SYSTEMD
	/* It logs to the journal: a build without libsystemd says what it lacks. */
	assert_int_equal(rc, 78);
	assert_non_null(strstr(err, "log: "));
	assert_non_null(strstr(err, "--without-systemd"));
	free(out);
	free(err);
	return;
#endif
	if (rc != 0)
		fail_msg("hellod -t %s exited %d:\n%s%s", path, rc, out, err);
	snprintf(want, sizeof(want), "configuration OK: %s", path);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "hello"));
	free(out);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_names),
		cmocka_unit_test(test_newline_names),
		cmocka_unit_test(test_crlf_names),
		cmocka_unit_test(test_names_in_one_send),
		cmocka_unit_test(test_udp_names),
		cmocka_unit_test(test_shipped_config),
	};

	harness_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
