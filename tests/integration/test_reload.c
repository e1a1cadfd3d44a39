/* Integration: SIGHUP adds, changes, removes services; a bad file changes nothing. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "harness.h"
#include "snippets.h"

#define T_MS	harness_ms(5000)

static const char *const conf_hello =
    SN_HELLO_TCP;

static const char *const conf_hello_echo =
    SN_HELLO_TCP
    SN_ECHO_P1;

static const char *const conf_bonjour =
    SN_HELLO_TCP
    "greeting = Bonjour!\n";

/* Line 7 holds an unknown key and line 9 a bad port. */
static const char *const conf_broken =
    "[hello]\n"				/* 1 */
    "protocol = tcp\n"			/* 2 */
    "port = @P0@\n"			/* 3 */
    "bind = 127.0.0.1\n"		/* 4 */
    "handler = hello\n"			/* 5 */
    "greeting = Broken!\n"		/* 6 */
    "no_such_key = 1\n"			/* 7 */
    "[echo]\n"				/* 8 */
    "port = 0\n"			/* 9 */
    "protocol = tcp\n"			/* 10 */
    "handler = echo\n";			/* 11 */

static void
greeting_is(uint16_t port, const char *want)
{
	char line[256];
	int fd = tcp_connect("127.0.0.1", port, T_MS);

	assert_true(fd >= 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, want);
	close(fd);
}

/* Rewrite the config, SIGHUP, and wait for the n-th outcome line. */
static void
reload(struct daemon *d, const char *tmpl, const char *outcome, unsigned n)
{
	daemon_rewrite(d, tmpl);
	daemon_signal(d, SIGHUP);
	if (!log_wait_n(d, outcome, n, T_MS)) {
		log_dump(d);
		fail_msg("no \"%s\" in the log after SIGHUP", outcome);
	}
}

/* Poll: connect to port until it is refused; true when it was. */
static bool
wait_refused(uint16_t port, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	int fd;

	while (now_ms() < end) {
		if ((fd = tcp_connect("127.0.0.1", port, 500)) == -1 &&
		    errno == ECONNREFUSED)
			return true;
		if (fd != -1)
			close(fd);
		usleep(20000);
	}
	return false;
}

/* The inode of the TCP socket listening on 127.0.0.1:port, from /proc/net/tcp. */
static unsigned long
listener_inode(uint16_t port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512];
	unsigned long inode = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned addr, lport, st;
		unsigned long ino;

		if (sscanf(line, " %*d: %x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
		    &addr, &lport, &st, &ino) != 4)
			continue;
		if (lport == port && st == 0x0A && addr == htonl(INADDR_LOOPBACK)) {
			inode = ino;
			break;
		}
	}
	fclose(f);
	return inode;
}

static void
test_add_service(void **state)
{
	struct daemon d;
	char buf[64];
	int fd;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_hello), 0);
	assert_int_equal(tcp_connect("127.0.0.1", d.port[1], 500), -1);
	reload(&d, conf_hello_echo, "hellod: reloaded ", 1);
	assert_true(log_contains(&d, "hellod: reloading config="));
	assert_true(log_contains(&d, d.conf));
	/* What changed: echo added, its two sockets opened, hello's kept. */
	assert_true(log_contains(&d, "hellod: reloaded services=2 added=1 "
	    "removed=0 changed=0 listeners_kept=1 listeners_opened=2 "
	    "listeners_closed=0\n"));
	assert_true(log_contains(&d, "echo: listen proto=udp addr=127.0.0.1:"));
	fd = tcp_connect("127.0.0.1", d.port[1], T_MS);
	assert_true(fd >= 0);
	assert_int_equal(send_str(fd, "ping\r\n"), 0);
	assert_int_equal(read_n(fd, buf, 6, T_MS), 6);
	assert_memory_equal(buf, "ping\r\n", 6);
	close(fd);
	assert_int_equal(udp_ask("127.0.0.1", d.port[1], "pong", 4, buf,
	    sizeof(buf), T_MS), 4);
	assert_memory_equal(buf, "pong", 4);
	greeting_is(d.port[0], "Welcome!\r\n");
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

static void
test_change_greeting(void **state)
{
	struct daemon d;
	unsigned long before;
	char line[256];
	int old;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_hello), 0);
	old = tcp_connect("127.0.0.1", d.port[0], T_MS);
	assert_true(old >= 0);
	assert_true(read_line(old, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Welcome!\r\n");
	before = listener_inode(d.port[0]);
	assert_true(before != 0);

	reload(&d, conf_bonjour, "hellod: reloaded ", 1);
	assert_true(log_contains(&d, "hellod: reloaded services=1 added=0 "
	    "removed=0 changed=1 listeners_kept=1 listeners_opened=0 "
	    "listeners_closed=0\n"));
	greeting_is(d.port[0], "Bonjour!\r\n");
	/* The listener was kept, not closed and bound again. */
	assert_true(listener_inode(d.port[0]) == before);

	/* The connection from before the reload continues its dialogue. */
	assert_int_equal(send_str(old, "Michael\n"), 0);
	assert_true(read_line(old, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Hello, Michael!\r\n");
	assert_int_equal(send_str(old, "exit\n"), 0);
	assert_int_equal(read_all(old, line, sizeof(line), T_MS), 0);
	close(old);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

static void
test_invalid_reload(void **state)
{
	struct daemon d;
	char where[4200];

	(void)state;
	assert_int_equal(daemon_start(&d, conf_hello), 0);
	reload(&d, conf_broken, "hellod: reload_failed ", 1);
	assert_true(log_contains(&d, "hellod: reload_failed cause=config "
	    "errors=2\n"));
	snprintf(where, sizeof(where), "%s:7:", d.conf);
	assert_true(log_contains(&d, where));
	snprintf(where, sizeof(where), "%s:9:", d.conf);
	assert_true(log_contains(&d, where));
	assert_false(log_contains(&d, "hellod: reloaded "));
	/* The old service answers, as before. */
	greeting_is(d.port[0], "Welcome!\r\n");
	/* And a good file afterwards is taken. */
	reload(&d, conf_bonjour, "hellod: reloaded ", 1);
	greeting_is(d.port[0], "Bonjour!\r\n");
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

static void
test_remove_service(void **state)
{
	struct daemon d;
	uint64_t end;
	int fd;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_hello_echo), 0);
	fd = tcp_connect("127.0.0.1", d.port[1], T_MS);
	assert_true(fd >= 0);
	close(fd);
	reload(&d, conf_hello, "hellod: reloaded ", 1);
	assert_true(log_contains(&d, "hellod: reloaded services=1 added=0 "
	    "removed=1 changed=0 listeners_kept=1 listeners_opened=0 "
	    "listeners_closed=2\n"));
	assert_true(log_contains(&d, "echo: close proto=tcp addr=127.0.0.1:"));
	assert_true(log_contains(&d, " cause=removed\n"));
	assert_true(wait_refused(d.port[1], T_MS));
	/* Its UDP socket is closed too: the port can be bound again. */
	end = now_ms() + T_MS;
	while ((fd = udp_socket("127.0.0.1", d.port[1])) == -1 && now_ms() < end)
		usleep(20000);
	assert_true(fd >= 0);
	close(fd);
	greeting_is(d.port[0], "Welcome!\r\n");
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* hello on @P0@ on every address: overlaps conf_hello's 127.0.0.1. */
static const char *const conf_hello_any =
    "[hello]\n"
    "protocol = tcp udp\n"
    "port = @P0@\n"
    "handler = hello\n"
    "greeting = Everywhere!\n";

/*
 * A service moves from 127.0.0.1 to every address on the same port, and
 * back: the old socket is closed so the new one can be bound, and both
 * reloads succeed.  With IPv6, the wildcard serves ::1 too.
 */
static void
test_move_to_wildcard(void **state)
{
	struct daemon d;
	char	 buf[64];
	int	 fd;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_hello), 0);
	reload(&d, conf_hello_any, "hellod: reloaded ", 1);
	assert_true(log_contains(&d, "hello: close proto=tcp addr=127.0.0.1:"));
	assert_true(log_contains(&d, " cause=overlap\n"));
	greeting_is(d.port[0], "Everywhere!\r\n");
	assert_int_equal(udp_ask("127.0.0.1", d.port[0], "Ann", 3, buf,
	    sizeof(buf), T_MS), 11);
	if (harness_have_ipv6()) {
		fd = tcp_connect("::1", d.port[0], T_MS);
		assert_true(fd >= 0);
		assert_true(read_line(fd, buf, sizeof(buf), T_MS) > 0);
		assert_string_equal(buf, "Everywhere!\r\n");
		close(fd);
	}
	reload(&d, conf_hello, "hellod: reloaded ", 2);
	greeting_is(d.port[0], "Welcome!\r\n");
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * The same move in a reload that fails for another reason (a port the
 * test holds): the closed socket is opened again and the old
 * configuration serves on, on its old address.
 */
static void
test_move_fails_restores(void **state)
{
	struct daemon d;
	char	 tmpl[512];
	int	 busy;
	uint16_t held = harness_free_port();

	(void)state;
	assert_int_equal(daemon_start(&d, conf_hello), 0);
	busy = hold_port(SOCK_STREAM, held);
	snprintf(tmpl, sizeof(tmpl), "%s[taken]\nprotocol = tcp\nport = %u\n"
	    "bind = 127.0.0.1\nhandler = echo\n", conf_hello_any, held);
	reload(&d, tmpl, "hellod: reload_failed ", 1);
	assert_false(log_contains(&d, "hellod: reloaded "));
	greeting_is(d.port[0], "Welcome!\r\n");
	close(busy);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/*
 * Reloads that move a service to an overlapping address but fail for
 * another reason (a port the test holds) change nothing: no connection
 * to the old address is refused while they run, however many there are.
 */
static void
test_failed_move_is_hitless(void **state)
{
	struct daemon d;
	char	 tmpl[512], line[64];
	unsigned i, tries = 0, refused = 0;
	int	 busy, fd;
	uint16_t held = harness_free_port();

	(void)state;
	assert_int_equal(daemon_start(&d, conf_hello), 0);
	busy = hold_port(SOCK_STREAM, held);
	snprintf(tmpl, sizeof(tmpl), "%s[taken]\nprotocol = tcp\nport = %u\n"
	    "bind = 127.0.0.1\nhandler = echo\n", conf_hello_any, held);
	daemon_rewrite(&d, tmpl);
	for (i = 1; i <= 5; i++) {
		daemon_signal(&d, SIGHUP);
		/* Connect without pause until this reload has failed. */
		while (log_count(&d, "hellod: reload_failed ") < i) {
			assert_true(tries < 100000);
			tries++;
			if ((fd = tcp_connect("127.0.0.1", d.port[0], T_MS)) == -1) {
				refused++;
				continue;
			}
			if (read_line(fd, line, sizeof(line), T_MS) <= 0)
				refused++;
			close(fd);
		}
	}
	print_message("%u connections during 5 failed reloads, %u refused\n",
	    tries, refused);
	assert_int_equal(refused, 0);
	assert_false(log_contains(&d, "close proto=tcp"));
	greeting_is(d.port[0], "Welcome!\r\n");
	close(busy);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* A local user's loop taking 127.0.0.1:port (listening) as soon as it is free. */
struct racer {
	uint16_t	 port;
	volatile int	 stop;
	int		 fd;		/* what it holds, or -1 */
};

static void *
racer_run(void *arg)
{
	struct racer *r = arg;
	struct sockaddr_in sin;
	int	 fd, one = 1;
	uint64_t end = now_ms() + 10000;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(r->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while (!r->stop && r->fd == -1 && now_ms() < end) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		    listen(fd, 1) == 0)
			r->fd = fd;
		else
			close(fd);
	}
	return NULL;
}

/*
 * The worst case of a move: the old socket is closed for it, the new
 * address cannot be had (another program listens on 127.0.0.2 on the
 * same port), and meanwhile a local user's loop takes the old address
 * too.  The reload fails, the address is lost (logged), and the daemon
 * carries on safely: it serves its other sockets, pauses at max_children
 * and stops cleanly, and a later reload opens the address again.
 */
static void
test_move_lost_to_racer(void **state)
{
	static const char conf[] =
	    "[global]\nmax_children = 1\n"
	    "[hello]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\n"
	    "[other]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = hello\ngreeting = Other!\n";
	static const char moved[] =
	    "[global]\nmax_children = 1\n"
	    "[hello]\nprotocol = tcp\nport = @P0@\nhandler = hello\n"
	    "[other]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = hello\ngreeting = Other!\n";
	struct racer r = { .fd = -1 };
	struct sockaddr_in other;
	struct daemon d;
	pthread_t th;
	int	 fd, blocker;

	(void)state;
	assert_int_equal(daemon_start(&d, conf), 0);
	memset(&other, 0, sizeof(other));
	other.sin_family = AF_INET;
	other.sin_port = htons(d.port[0]);
	other.sin_addr.s_addr = htonl(0x7f000002);
	blocker = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(blocker >= 0);
	if (bind(blocker, (struct sockaddr *)&other, sizeof(other)) == -1 ||
	    listen(blocker, 1) == -1)
		skip();		/* no 127.0.0.2 here */
	r.port = d.port[0];
	assert_int_equal(pthread_create(&th, NULL, racer_run, &r), 0);
	reload(&d, moved, "hellod: reload_failed ", 1);
	r.stop = 1;
	pthread_join(th, NULL);
	close(blocker);
	assert_true(log_contains(&d, "proto=tcp addr=0.0.0.0:"));
	print_message("the racer %s the address\n", r.fd == -1 ? "did not take" :
	    "took");
	if (r.fd == -1) {
		/* The daemon got its address back first: nothing was lost. */
		greeting_is(d.port[0], "Welcome!\r\n");
	} else {
		assert_true(log_contains(&d, ": lost proto="));
		/* One child held open: at max_children, accepting pauses. */
		fd = tcp_connect("127.0.0.1", d.port[1], T_MS);
		assert_true(fd >= 0);
		assert_true(proc_wait_children(d.pid, 1, T_MS));
		daemon_signal(&d, SIGUSR1);
		assert_true(log_wait(&d, "hellod: status ", T_MS));
		close(fd);
		assert_true(proc_wait_children(d.pid, 0, T_MS));
		greeting_is(d.port[1], "Other!\r\n");
		close(r.fd);
		/* The next reload opens the lost address again. */
		reload(&d, conf, "hellod: reloaded ", 1);
		greeting_is(d.port[0], "Welcome!\r\n");
	}
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_add_service, harness_teardown),
		cmocka_unit_test_teardown(test_change_greeting, harness_teardown),
		cmocka_unit_test_teardown(test_invalid_reload, harness_teardown),
		cmocka_unit_test_teardown(test_remove_service, harness_teardown),
		cmocka_unit_test_teardown(test_move_to_wildcard, harness_teardown),
		cmocka_unit_test_teardown(test_move_fails_restores, harness_teardown),
		cmocka_unit_test_teardown(test_failed_move_is_hitless, harness_teardown),
		cmocka_unit_test_teardown(test_move_lost_to_racer, harness_teardown),
	};

	harness_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
