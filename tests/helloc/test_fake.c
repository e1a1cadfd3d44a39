/*
 * Integration: helloc against small servers that this test runs in child
 * processes, each misbehaving in one way hellod never does: a late
 * greeting, a late UDP reply, a half-close, lost datagrams, no reading.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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
#include "helloc-run.h"

#define T_MS		10000
#define HALF_BULK	100000

static int greeting_delay_ms;
static bool farewell;		/* serve_tcp_hello answers the quit word */
static pid_t fake_pid;		/* the server running, for the teardown */
static int netns_back = -1;	/* the network namespace to return to */

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * A socket on 127.0.0.1 and a free port, and a child process serving it
 * with serve() until it returns or is killed.  Returns the child's pid.
 */
static pid_t
fake_start(int type, void (*serve)(int), char port[8])
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, one = 1;
	pid_t pid;

	assert_true((fd = socket(AF_INET, type, 0)) >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(port, 8, "%u", ntohs(sin.sin_port));
	fflush(stdout);
	fflush(stderr);
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		serve(fd);
		_exit(0);
	}
	close(fd);
	return fake_pid = pid;
}

static void
fake_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fake_pid = 0;
}

/* After each test, failed or not: no server left running, our own network again. */
static int
teardown(void **state)
{
	(void)state;
	if (fake_pid > 0)
		fake_stop(fake_pid);
	if (netns_back != -1) {
		if (setns(netns_back, CLONE_NEWNET) == -1)
			return -1;
		close(netns_back);
		netns_back = -1;
	}
	return 0;
}

/* Wait at most timeout_ms for the server to finish by itself; false if it did not. */
static bool
fake_wait(pid_t pid, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	while (now_ms() < end) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			fake_pid = 0;
			return true;
		}
		sleep_ms(5);
	}
	fake_stop(pid);
	return false;
}

/* hello's UDP answer to a datagram. */
static void
udp_hello(int fd, const char *buf, ssize_t n, struct sockaddr_storage *ss, socklen_t sslen)
{
	char reply[600];
	int len;

	len = snprintf(reply, sizeof(reply), "Hello, %.*s!", (int)n, buf);
	(void)sendto(fd, reply, (size_t)len, 0, (struct sockaddr *)ss, sslen);
}

/* The first datagram is answered late (after the client's first retry), the rest at once. */
static void
serve_udp_late(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char buf[512];
	ssize_t n;
	bool first = true;

	for (;;) {
		sslen = sizeof(ss);
		if ((n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sslen)) < 0)
			continue;
		if (first)
			sleep_ms(400);
		first = false;
		udp_hello(fd, buf, n, &ss, sslen);
	}
}

/* Every fourth datagram is lost. */
static void
serve_udp_lossy(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char buf[512];
	unsigned long seen = 0;
	ssize_t n;

	for (;;) {
		sslen = sizeof(ss);
		if ((n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sslen)) < 0)
			continue;
		if (++seen % 4 != 0)
			udp_hello(fd, buf, n, &ss, sslen);
	}
}

/*
 * hello over TCP, one connection at a time, greeting after
 * greeting_delay_ms, and a line of farewell after the quit word when
 * farewell is set.
 */
static void
serve_tcp_hello(int lfd)
{
	char line[512], reply[600];
	ssize_t n;
	int fd;

	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			continue;
		sleep_ms(greeting_delay_ms);
		send_str(fd, "Welcome!\r\n");
		while ((n = read_line(fd, line, sizeof(line), 5000)) > 0) {
			line[strcspn(line, "\r\n")] = '\0';
			if (strcmp(line, "exit") == 0) {
				if (farewell)
					send_str(fd, "Bye!\r\n");
				break;
			}
			snprintf(reply, sizeof(reply), "Hello, %s!\r\n", line);
			send_str(fd, reply);
		}
		close(fd);
	}
}

/* A line, the end of our side, and then count what the client still sends. */
static void
serve_tcp_half(int lfd)
{
	char buf[65536];
	size_t total = 0;
	ssize_t n;
	int fd;

	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(1);
	send_str(fd, "line\r\n");
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	harness_write_file(harness_path("half.count"), "%zu", total);
	close(fd);
}

/* Accept, never read: the client's sends must not wait forever. */
static void
serve_tcp_deaf(int lfd)
{
	if (accept(lfd, NULL, NULL) == -1)
		_exit(1);
	for (;;)
		pause();
}

/*
 * A reply late enough to cross the client's retry: the reply to the retry
 * comes right after, and must not be printed as the next message's reply.
 */
static void
test_udp_late_reply(void **state)
{
	struct hc_run r;
	char port[8];
	pid_t pid;

	(void)state;
	pid = fake_start(SOCK_DGRAM, serve_udp_late, port);
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "-u", "-w", "0.3", "127.0.0.1",
	    port, "Michael", "Tracy", "Sarah", NULL });
	fake_stop(pid);
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	assert_string_equal(r.out, "Hello, Michael!\nHello, Tracy!\nHello, Sarah!\n");
	assert_string_equal(r.err, "");
	helloc_run_free(&r);
}

/*
 * A greeting later than the client's wait for it (a server that socket
 * activation starts on this connection) is read where the first reply was
 * expected, and every reply where the one before was: the lines printed are
 * the same, and the reply to the last message, which comes after the quit
 * word, is printed too.  One line more than that is still an error.
 */
static void
test_tcp_late_greeting(void **state)
{
	const char *want = "Welcome!\nHello, Michael!\nHello, Tracy!\nHello, Sarah!\n";
	struct hc_run r;
	char port[8];
	pid_t pid;

	(void)state;
	greeting_delay_ms = 0;
	farewell = false;
	pid = fake_start(SOCK_STREAM, serve_tcp_hello, port);
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "127.0.0.1", port, "Michael",
	    "Tracy", "Sarah", NULL });
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, want);
	helloc_run_free(&r);
	fake_stop(pid);

	greeting_delay_ms = 500;
	pid = fake_start(SOCK_STREAM, serve_tcp_hello, port);
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "127.0.0.1", port, "Michael",
	    "Tracy", "Sarah", NULL });
	fake_stop(pid);
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	assert_string_equal(r.out, want);
	assert_string_equal(r.err, "");
	helloc_run_free(&r);

	/* A line after the last reply: on time or late, the greeting does not excuse it. */
	farewell = true;
	pid = fake_start(SOCK_STREAM, serve_tcp_hello, port);
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "127.0.0.1", port, "Michael",
	    "Tracy", "Sarah", NULL });
	fake_stop(pid);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, want);
	assert_non_null(strstr(r.err, "one line more than the replies: \"Bye!\""));
	helloc_run_free(&r);

	greeting_delay_ms = 0;
	pid = fake_start(SOCK_STREAM, serve_tcp_hello, port);
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "127.0.0.1", port, "Michael",
	    NULL });
	fake_stop(pid);
	farewell = false;
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "Welcome!\nHello, Michael!\n");
	assert_non_null(strstr(r.err, "one line more than the replies: \"Bye!\""));
	helloc_run_free(&r);
}

/* The server ends its side first and still reads: all of stdin must reach it. */
static void
test_relay_half_close(void **state)
{
	const char *in = harness_path("half.in");
	struct hc_run r;
	char port[8], *count;
	FILE *fp;
	pid_t pid;
	int i;

	(void)state;
	assert_non_null(fp = fopen(in, "wb"));
	fputs("line1\n", fp);
	for (i = 0; i < HALF_BULK; i++)
		fputc('\0', fp);
	fclose(fp);
	pid = fake_start(SOCK_STREAM, serve_tcp_half, port);
	helloc_run(&r, in, T_MS, (const char *const[]){ "127.0.0.1", port, NULL });
	assert_true(fake_wait(pid, T_MS));
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	assert_string_equal(r.out, "line\r\n");
	count = harness_read_file(harness_path("half.count"));
	assert_int_equal(strtoul(count, NULL, 10), strlen("line1\n") + HALF_BULK);
	free(count);
	helloc_run_free(&r);
}

/*
 * --bench -d with datagrams lost: the requests under way when the time is
 * up get a second for their replies, not -w, and are then counted as
 * lost; the run lasts its time and the rate is over that time.
 */
static void
test_bench_duration_losses(void **state)
{
	struct hc_run r;
	char port[8];
	double n, sec;
	pid_t pid;

	(void)state;
	pid = fake_start(SOCK_DGRAM, serve_udp_lossy, port);
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "--bench", "-u", "-c", "8",
	    "-d", "0.5", "-w", "5", "--json", "127.0.0.1", port, NULL });
	fake_stop(pid);
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	/* Each slot loses one of its first few datagrams, then waits 5 s. */
	n = json_number(r.out, "answered");
	sec = json_number(r.out, "seconds");
	assert_true(n > 0);
	if (sec < 0.5 || sec > 0.5 + json_number(r.out, "max") / 1000 + 0.05)
		fail_msg("seconds %f for -d 0.5: %s", sec, r.out);
	assert_true(json_number(r.out, "lost") == 8);
	assert_true(json_number(r.out, "requests") == n + 8);
	assert_true(json_number(r.out, "timeouts") == 0);
	assert_true(json_number(r.out, "errors") == 0);
	assert_true(r.ms >= 1500 && r.ms < 3000);
	helloc_run_free(&r);
}

/*
 * Enter a network namespace of our own whose TCP buffers are small, so
 * that a message of a few hundred KiB cannot fit in them; false when it
 * cannot be made (not root).  *back is the namespace to return to.
 */
static bool
small_buffers_netns(int *back)
{
	struct ifreq ifr;
	int s;

	if ((*back = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	if (unshare(CLONE_NEWNET) == -1) {
		close(*back);
		return false;
	}
	/* A new namespace's loopback is down. */
	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	assert_true((s = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
	harness_write_file("/proc/sys/net/ipv4/tcp_wmem", "4096 4096 4096\n");
	harness_write_file("/proc/sys/net/ipv4/tcp_rmem", "4096 4096 4096\n");
	return true;
}

/* A server that takes nothing: the send is bounded by -w too. */
static void
test_send_bounded(void **state)
{
	static char big[120001];
	struct hc_run r;
	char port[8];
	pid_t pid;
	(void)state;
	if (!small_buffers_netns(&netns_back)) {
		netns_back = -1;
		fprintf(stderr, "no network namespace of our own: skipped\n");
		skip();
	}
	memset(big, 'x', sizeof(big) - 1);
	pid = fake_start(SOCK_STREAM, serve_tcp_deaf, port);
	helloc_run(&r, NULL, T_MS, (const char *const[]){ "-w", "0.5", "127.0.0.1", port,
	    big, NULL });
	fake_stop(pid);
	assert_int_equal(r.status, 1);
	if (strstr(r.err, "took nothing for 0.5 s: it does not read") == NULL)
		fail_msg("stderr: %.200s", r.err);
	assert_true(r.ms < 3000);
	helloc_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_udp_late_reply, teardown),
		cmocka_unit_test_teardown(test_tcp_late_greeting, teardown),
		cmocka_unit_test_teardown(test_relay_half_close, teardown),
		cmocka_unit_test_teardown(test_bench_duration_losses, teardown),
		cmocka_unit_test_teardown(test_send_bounded, teardown),
	};

	harness_init();
	helloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
