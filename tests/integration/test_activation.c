/* Integration tests: what systemd gives and takes: passed sockets, and sd_notify. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define T_MS	harness_ms(3000)

/* A socket bound (and for TCP listening) by the test, as systemd would bind it. */
static int
bound(int type, const char *host, uint16_t port, int v6only)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int	 fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, host, &sin6->sin6_addr), 1);
		len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, host, &sin->sin_addr), 1);
		len = sizeof(*sin);
	}
	fd = socket(ss.ss_family, type, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)), 0);
	if (ss.ss_family == AF_INET6)
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    &v6only, sizeof(v6only)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static void
hello_dialogue(const char *host, uint16_t port)
{
	char	 line[128];
	int	 fd = tcp_connect(host, port, T_MS);

	assert_true(fd >= 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Welcome!\r\n");
	assert_int_equal(send_str(fd, "Michael\n"), 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Hello, Michael!\r\n");
	close(fd);
}

/*
 * Passed TCP and UDP sockets matching a service are used (the daemon could
 * not have bound them itself: they are listening already), a service
 * without a passed socket gets its own, and the log says which is which.
 */
static void
test_adopt(void **state)
{
	struct daemon d;
	uint16_t hp = harness_free_port(), ep = harness_free_port();
	char	 conf[512], want[128], buf[64];
	int	 fds[2];
	ssize_t	 n;

	(void)state;
	fds[0] = bound(SOCK_STREAM, "127.0.0.1", hp, 1);
	fds[1] = bound(SOCK_DGRAM, "127.0.0.1", hp, 1);
	snprintf(conf, sizeof(conf),
	    "[hello]\nprotocol = tcp udp\nport = %u\nbind = 127.0.0.1\n"
	    "handler = hello\n"
	    "[echo]\nprotocol = tcp\nport = %u\nbind = 127.0.0.1\n"
	    "handler = echo\n", hp, ep);
	harness_pass_fds(fds, 2);
	assert_int_equal(daemon_start_with(&d, conf, HD_PROBE_LOG, NULL), 0);
	harness_pass_fds(NULL, 0);

	snprintf(want, sizeof(want),
	    "hello: listen proto=tcp addr=127.0.0.1:%u activated=yes", hp);
	assert_true(log_contains(&d, want));
	snprintf(want, sizeof(want),
	    "hello: listen proto=udp addr=127.0.0.1:%u activated=yes", hp);
	assert_true(log_contains(&d, want));
	snprintf(want, sizeof(want), "echo: listen proto=tcp addr=127.0.0.1:%u\n", ep);
	assert_true(log_contains(&d, want));

	hello_dialogue("127.0.0.1", hp);
	n = udp_ask("127.0.0.1", hp, "Tracy", 5, buf, sizeof(buf), T_MS);
	assert_int_equal(n, 13);
	assert_memory_equal(buf, "Hello, Tracy!", 13);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	close(fds[0]);
	close(fds[1]);
}

/*
 * A passed socket no service asks for is kept, unused, and adopted by the
 * reload that adds its service (the daemon could not bind it otherwise).
 */
static void
test_adopt_on_reload(void **state)
{
	struct daemon d;
	uint16_t hp = harness_free_port(), xp = harness_free_port();
	char	 conf[512], want[128];
	int	 fd;

	(void)state;
	fd = bound(SOCK_STREAM, "127.0.0.1", xp, 1);
	snprintf(conf, sizeof(conf), "[hello]\nprotocol = tcp\nport = %u\n"
	    "bind = 127.0.0.1\nhandler = hello\n", hp);
	harness_pass_fds(&fd, 1);
	assert_int_equal(daemon_start_with(&d, conf, HD_PROBE_LOG, NULL), 0);
	harness_pass_fds(NULL, 0);
	snprintf(want, sizeof(want), "hellod: activation_unused proto=tcp "
	    "addr=127.0.0.1:%u\n", xp);
	assert_true(log_contains(&d, want));

	snprintf(conf, sizeof(conf), "[hello]\nprotocol = tcp\nport = %u\n"
	    "bind = 127.0.0.1\nhandler = hello\n"
	    "[late]\nprotocol = tcp\nport = %u\nbind = 127.0.0.1\n"
	    "handler = hello\ngreeting = Late!\n", hp, xp);
	daemon_rewrite(&d, conf);
	daemon_signal(&d, SIGHUP);
	assert_true(log_wait(&d, "hellod: reloaded ", T_MS));
	snprintf(want, sizeof(want),
	    "late: listen proto=tcp addr=127.0.0.1:%u activated=yes", xp);
	assert_true(log_contains(&d, want));
	{
		char line[64];
		int c = tcp_connect("127.0.0.1", xp, T_MS);

		assert_true(c >= 0);
		assert_true(read_line(c, line, sizeof(line), T_MS) > 0);
		assert_string_equal(line, "Late!\r\n");
		close(c);
	}
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	close(fd);
}

/*
 * systemd's ListenStream=PORT passes one dual-stack [::] socket.  A service
 * without bind adopts it for IPv6 and IPv4 both, and does not try to bind
 * 0.0.0.0 on top of it (which would fail: the port is taken).
 */
static void
test_dualstack(void **state)
{
	struct daemon d;
	uint16_t port = harness_free_port();
	char	 conf[256], want[128];
	int	 fd;

	(void)state;
	if (!harness_have_ipv6())
		skip();
	fd = bound(SOCK_STREAM, "::", port, 0);
	snprintf(conf, sizeof(conf), "[hello]\nprotocol = tcp\nport = %u\n"
	    "handler = hello\n", port);
	harness_pass_fds(&fd, 1);
	assert_int_equal(daemon_start_with(&d, conf, HD_PROBE_LOG, NULL), 0);
	harness_pass_fds(NULL, 0);
	snprintf(want, sizeof(want),
	    "hello: listen proto=tcp addr=[::]:%u activated=yes", port);
	assert_true(log_contains(&d, want));
	snprintf(want, sizeof(want), "hello: listen proto=tcp addr=0.0.0.0:%u", port);
	assert_false(log_contains(&d, want));
	hello_dialogue("127.0.0.1", port);
	hello_dialogue("::1", port);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	close(fd);
}

/* A datagram socket standing for systemd's notification socket. */
static int
notify_socket(const char *path)
{
	return unix_socket(path, SOCK_DGRAM, false);
}

/* The next notification, NUL-terminated in buf; fails after timeout_ms. */
static void
notify_next(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t	 n;

	assert_int_equal(poll(&pfd, 1, timeout_ms), 1);
	n = recv(fd, buf, len - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
}

/*
 * Type=notify: READY=1 once serving, with a STATUS= line; RELOADING=1
 * then READY=1 around a reload, a failed one too; STOPPING=1 on SIGTERM.
 */
static void
test_notify(void **state)
{
	struct daemon d;
	const char *path = harness_path("notify");
	char	 msg[512];
	int	 fd, c;

	(void)state;
	fd = notify_socket(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(daemon_start_with(&d, "[hello]\nprotocol = tcp\n"
	    "port = @P0@\nbind = 127.0.0.1\nhandler = hello\n",
	    HD_PROBE_LOG, NULL), 0);
	unsetenv("NOTIFY_SOCKET");
	notify_next(fd, msg, sizeof(msg), T_MS);
	assert_non_null(strstr(msg, "READY=1"));
	assert_non_null(strstr(msg, "STATUS=1 service enabled, 0 connections, 0 "
	    "refused in the last minute"));

	daemon_signal(&d, SIGHUP);
	notify_next(fd, msg, sizeof(msg), T_MS);
	assert_non_null(strstr(msg, "RELOADING=1"));
	notify_next(fd, msg, sizeof(msg), T_MS);
	assert_non_null(strstr(msg, "READY=1"));

	daemon_rewrite(&d, "[hello]\nprotocol = tcp\nport = nonsense\n");
	daemon_signal(&d, SIGHUP);
	notify_next(fd, msg, sizeof(msg), T_MS);
	assert_non_null(strstr(msg, "RELOADING=1"));
	notify_next(fd, msg, sizeof(msg), T_MS);
	assert_non_null(strstr(msg, "READY=1"));
	assert_true(log_wait(&d, "hellod: reload_failed ", T_MS));

	/* STATUS= follows each connection at once, not a second later. */
	c = tcp_connect("127.0.0.1", d.port[0], T_MS);
	assert_true(c >= 0);
	notify_next(fd, msg, sizeof(msg), T_MS);
	assert_string_equal(msg, "STATUS=1 service enabled, 1 connection, 0 "
	    "refused in the last minute");
	close(c);
	notify_next(fd, msg, sizeof(msg), T_MS);
	assert_string_equal(msg, "STATUS=1 service enabled, 0 connections, 0 "
	    "refused in the last minute");

	kill(d.pid, SIGTERM);
	notify_next(fd, msg, sizeof(msg), T_MS);
	assert_non_null(strstr(msg, "STOPPING=1"));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_adopt, harness_teardown),
		cmocka_unit_test_teardown(test_adopt_on_reload, harness_teardown),
		cmocka_unit_test_teardown(test_dualstack, harness_teardown),
		cmocka_unit_test_teardown(test_notify, harness_teardown),
	};

	harness_init();
#ifndef HAVE_SYSTEMD
	fprintf(stderr, "built without libsystemd: no socket activation\n");
	return 77;
#endif
	return cmocka_run_group_tests(tests, NULL, NULL);
}
