/* Integration: the control socket's commands, its counts, its guards against rude clients. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "helloc-run.h"

#define T_MS	harness_ms(5000)

static const char conf[] =
    "[global]\ncontrol = @DIR@/ctl\n"
    "[hello]\nprotocol = tcp udp\nport = @P0@\nbind = 127.0.0.1 ::1\n"
    "handler = hello\ndeny = 127.0.0.2\n"
    "[off]\nprotocol = tcp\nport = @P1@\nhandler = echo\nenabled = no\n";

static const char *
ctl(void)
{
	return harness_path("ctl");
}

/* The port of the hello service of the daemon the test runs. */
static uint16_t hello_port;

/* The tutorial's exchange from src: greeting, "Ann", quit; the bytes are known. */
static void
dialogue(const char *src)
{
	char	 line[64];
	int	 fd;

	fd = tcp_connect_from(src, "127.0.0.1", hello_port, T_MS);
	assert_true(fd >= 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_int_equal(send_str(fd, "Ann\nexit\n"), 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Hello, Ann!\r\n");
	assert_int_equal(wait_eof(fd, T_MS), 1);
	close(fd);
}

#ifdef HAVE_SYSTEMD
/*
 * With log = journal, a child's lines go to the daemon, and the end line
 * takes the connection's bytes along in the same write: they are counted
 * all the same (here the journal is not to be had, so the daemon hands the
 * lines to syslog).  A service that logs no connections sends them alone.
 */
static void
test_counts_journal(void **state)
{
	struct daemon d;
	int	 i;

	(void)state;
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/ctl\nlog = journal\n"
	    "[hello]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\n"
	    "[quiet]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = hello\nlog_connections = no\n", HD_PROBE_LOG, NULL), 0);
	for (i = 0; i < 3; i++) {
		hello_port = d.port[i % 2];
		dialogue("127.0.0.1");
	}
	assert_true(proc_wait_children(d.pid, 0, T_MS));
	assert_true(log_wait_n(&d, "hello: end peer=", 2, T_MS));
	assert_int_equal(control_value(ctl(), "hello", "bytes_in"), 2 * 9);
	assert_int_equal(control_value(ctl(), "hello", "bytes_out"), 2 * 23);
	assert_int_equal(control_value(ctl(), "quiet", "bytes_in"), 9);
	assert_int_equal(control_value(ctl(), "quiet", "bytes_out"), 23);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}
#endif

/*
 * After a known sequence, the counts are exact, in the text and in the
 * JSON: 3 dialogues (9 bytes in, 23 out each, reported by the children),
 * 2 refused from 127.0.0.2, 2 datagrams answered.
 */
static void
test_counts_exact(void **state)
{
	struct daemon d;
	char	 buf[8192], out[64];
	int	 i, fd;

	(void)state;
	assert_int_equal(daemon_start_with(&d, conf, HD_PROBE_LOG, NULL), 0);
	hello_port = d.port[0];
	for (i = 0; i < 3; i++)
		dialogue("127.0.0.1");
	for (i = 0; i < 2; i++) {
		fd = tcp_connect_from("127.0.0.2", "127.0.0.1", d.port[0], T_MS);
		assert_true(fd >= 0);
		assert_int_equal(wait_eof(fd, T_MS), 1);
		close(fd);
		assert_int_equal(udp_ask("127.0.0.1", d.port[0], "Bob", 3, out,
		    sizeof(out), T_MS), 11);
	}
	assert_true(proc_wait_children(d.pid, 0, T_MS));
	assert_int_equal(control_value(ctl(), "hello", "accepted"), 3);
	assert_int_equal(control_value(ctl(), "hello", "refused"), 2);
	assert_int_equal(control_value(ctl(), "hello", "refused_deny"), 2);
	assert_int_equal(control_value(ctl(), "hello", "datagrams_in"), 2);
	assert_int_equal(control_value(ctl(), "hello", "datagrams_out"), 2);
	assert_int_equal(control_value(ctl(), "hello", "bytes_in"), 3 * 9 + 2 * 3);
	assert_int_equal(control_value(ctl(), "hello", "bytes_out"),
	    3 * 23 + 2 * 11);
	control_ask(ctl(), "status json", buf, sizeof(buf));
	assert_true(buf[0] == '{' && strchr(buf, '\n') == buf + strlen(buf) - 1);
	assert_int_equal(json_number(buf, "pid"), d.pid);
	assert_int_equal(json_number(buf, "accepted"), 3);
	assert_int_equal(json_number(buf, "refused_deny"), 2);
	assert_int_equal(json_number(buf, "bytes_out"), 3 * 23 + 2 * 11);
	assert_non_null(strstr(buf, "\"name\":\"off\",\"protocols\":\"tcp\","
	    "\"enabled\":false"));
	assert_non_null(strstr(buf, "\"addresses\":[\"127.0.0.1:"));
	assert_non_null(strstr(buf, "\"reload\":\"none\""));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* sources: the busiest clients first, their counts; help; errors. */
static void
test_sources_and_errors(void **state)
{
	struct daemon d;
	char	 buf[8192], line[64];
	int	 fd, i;

	(void)state;
	assert_int_equal(daemon_start_with(&d, conf, HD_PROBE_LOG, NULL), 0);
	hello_port = d.port[0];
	dialogue("127.0.0.1");
	for (i = 0; i < 3; i++) {
		fd = tcp_connect_from("127.0.0.2", "127.0.0.1", d.port[0], T_MS);
		assert_true(fd >= 0);
		assert_int_equal(wait_eof(fd, T_MS), 1);
		close(fd);
	}
	/* A live connection makes 127.0.0.3 the busiest. */
	fd = tcp_connect_from("127.0.0.3", "127.0.0.1", d.port[0], T_MS);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	/* Once the dialogue's child is reaped (slow under valgrind), it alone is live. */
	assert_true(proc_wait_children(d.pid, 1, T_MS));
	control_ask(ctl(), "sources", buf, sizeof(buf));
	assert_true(strncmp(buf, "hello: source client=127.0.0.3/32 live=1 "
	    "accepted=1 ", strlen("hello: source client=127.0.0.3/32 live=1 "
	    "accepted=1 ")) == 0);
	assert_non_null(strstr(buf, "\nhello: source client=127.0.0.2/32 live=0 accepted=0 "
	    "datagrams=0 refused=3 "));
	assert_non_null(strstr(buf, "\nhello: source client=127.0.0.1/32 live=0 accepted=1 "));
	control_ask(ctl(), "sources json 1", buf, sizeof(buf));
	assert_non_null(strstr(buf, "{\"sources\":[{\"service\":\"hello\","
	    "\"client\":\"127.0.0.3/32\",\"live\":1,"));
	assert_null(strstr(buf, "127.0.0.2"));
	close(fd);
	control_ask(ctl(), "help", buf, sizeof(buf));
	assert_non_null(strstr(buf, "  sources json [N]\n"));
	control_ask(ctl(), "frobnicate now", buf, sizeof(buf));
	assert_string_equal(buf, "error: unknown command \"frobnicate\"; try help\n\n");
	control_ask(ctl(), "sources 0", buf, sizeof(buf));
	assert_true(strncmp(buf, "error: ", 7) == 0);
	/* Several commands on one connection, each answer ending with an empty line. */
	control_ask(ctl(), "help\nstatus json\nsources", buf, sizeof(buf));
	assert_non_null(strstr(buf, "  help            this\n\n{\"version\":"));
	assert_non_null(strstr(buf, "]}\nhello: source client=127.0.0."));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* The socket is 0660: another user is refused by the kernel itself. */
static void
test_permission(void **state)
{
	struct daemon d;
	struct sockaddr_un sun;
	struct passwd *pw;
	pid_t	 pid;
	int	 status;

	(void)state;
	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		skip();
	assert_int_equal(daemon_start_with(&d, conf, HD_PROBE_LOG, NULL), 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, ctl(), sizeof(sun.sun_path));
	if ((pid = fork()) == 0) {
		int	 fd;

		if (setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
			_exit(2);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		_exit(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
		    errno == EACCES ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* Read and drop what fd brings until its end: 1, or 0 when timeout_ms passed first. */
static int
drain_to_eof(int fd, int timeout_ms)
{
	char	 buf[4096];
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	struct timeval tv = { 0, 100 * 1000 };
	ssize_t	 n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (now_ms() < end) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK))
			return 1;
	}
	return 0;
}

/*
 * A client that asks and never reads, and more clients than the socket
 * takes at once: the services go on answering without a pause, the
 * status still answers a polite client, and the rude one is dropped.
 */
static void
test_rude_clients(void **state)
{
	struct daemon d;
	char	 buf[8192];
	int	 rude, many[20], i, n, flags;
	ssize_t	 sent = 0, w;

	(void)state;
	assert_int_equal(daemon_start_with(&d, conf, HD_PROBE_LOG, NULL), 0);
	hello_port = d.port[0];
	rude = unix_socket(ctl(), SOCK_STREAM, true);
	flags = MSG_DONTWAIT;
	/* Ask again and again, never read: until its socket is full. */
	for (i = 0; i < 100000; i++) {
		if ((w = send(rude, "status\n", 7, flags)) <= 0)
			break;
		sent += w;
	}
	assert_true(sent > 0);
	for (i = 0; i < 20; i++)
		many[i] = unix_socket(ctl(), SOCK_STREAM, true);
	for (i = 0; i < 5; i++)
		dialogue("127.0.0.1");
	for (i = 0; i < 20; i++)
		close(many[i]);
	/* Slots come free as the extra clients go: a polite one is answered. */
	for (i = 0; i < 50; i++) {
		int	 fd = unix_socket(ctl(), SOCK_STREAM, true);

		send_str(fd, "status\n");
		shutdown(fd, SHUT_WR);
		n = (int)read_all(fd, buf, sizeof(buf), T_MS);
		close(fd);
		if (n > 0)
			break;
		usleep(50 * 1000);
	}
	assert_true(n > 0 && strncmp(buf, "hellod: status version=", 23) == 0);
	/* The rude client is dropped within the 10 s it has. */
	assert_int_equal(drain_to_eof(rude, 15000), 1);
	close(rude);
	dialogue("127.0.0.1");
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_counts_exact, harness_teardown),
#ifdef HAVE_SYSTEMD
		cmocka_unit_test_teardown(test_counts_journal, harness_teardown),
#endif
		cmocka_unit_test_teardown(test_sources_and_errors, harness_teardown),
		cmocka_unit_test_teardown(test_permission, harness_teardown),
		cmocka_unit_test_teardown(test_rude_clients, harness_teardown),
	};

	harness_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
