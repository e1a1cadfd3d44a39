/* Stress: a UDP flood from many source ports held to source_rate; TCP served meanwhile. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "stress.h"

#define SOCKETS		512
#define FLOOD_MS	5000
#define FLOOD_RATE	40000		/* datagrams a second, all sockets */
#define SOURCE_RATE	100
#define GOOD_THREADS	4		/* TCP clients per address */

struct flood {
	int		 fd[SOCKETS];
	unsigned long	 sent, blocked, answered;
	double		 secs;
};

/*
 * FLOOD_RATE datagrams a second for FLOOD_MS, one socket after the other,
 * each from a port of its own; what the kernel cannot take at once
 * (EAGAIN) is counted, not waited for.
 */
static void
flood_run(struct flood *f, uint16_t port)
{
	struct sockaddr_in to;
	uint64_t t0 = now_ms(), now;
	unsigned long max = stress_scale((unsigned long)FLOOD_RATE * FLOOD_MS / 1000);
	unsigned long due;
	size_t	 i = 0;

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while ((now = now_ms()) < t0 + FLOOD_MS && f->sent + f->blocked < max) {
		due = (unsigned long)(now - t0) * FLOOD_RATE / 1000 + 1;
		if (due > max)
			due = max;
		if (f->sent + f->blocked >= due) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		while (f->sent + f->blocked < due && now_ms() < t0 + FLOOD_MS) {
			if (sendto(f->fd[i], "flood", 5, MSG_DONTWAIT,
			    (struct sockaddr *)&to, sizeof(to)) == 5)
				f->sent++;
			else
				f->blocked++;
			i = (i + 1) % SOCKETS;
		}
	}
	f->secs = stress_secs(t0);
}

/* The replies waiting on every socket. */
static void
flood_replies(struct flood *f)
{
	char	 buf[64];
	size_t	 i;

	for (i = 0; i < SOCKETS; i++)
		while (recv(f->fd[i], buf, sizeof(buf), MSG_DONTWAIT) > 0)
			f->answered++;
}

static void
test_udp_flood(void **state)
{
	struct daemon	 d;
	struct flood	 f;
	struct load	*good[2] = { NULL, NULL };
	struct load_counts gc[2];
	struct load_opts lo = { .threads = GOOD_THREADS, .max_ms = FLOOD_MS + 30000 };
	const char	*ctl = harness_path("flood.ctl");
	const char	*hosts[2] = { "127.0.0.1", "::1" };
	unsigned	 ngood = harness_have_ipv6() ? 2 : 1, i;
	unsigned long	 received, answered, by_rate, refused, most;
	long		 dropped;
	struct parent_mem m0, m1;
	uint64_t	 start = now_ms();

	(void)state;
	assert_int_equal(harness_nofile(SOCKETS + 1024), 0);
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/flood.ctl\n"
	    "[flooded]\nprotocol = udp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = echo\nsource_rate = 100\nsource_prefix = 32 64\n"
	    "[hello]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1 ::1\n"
	    "handler = hello\n",
	    HD_PROBE_LOG, NULL), 0);
	parent_measure(d.pid, &m0);
	memset(&f, 0, sizeof(f));
	for (i = 0; i < SOCKETS; i++)
		assert_true((f.fd[i] = udp_socket("127.0.0.1", 0)) >= 0);

	lo.port = d.port[1];
	for (i = 0; i < ngood; i++) {
		lo.host = hosts[i];
		good[i] = load_start(&lo);
	}
	flood_run(&f, d.port[0]);
	for (i = 0; i < ngood; i++) {
		load_stop(good[i]);
		load_counts(good[i], &gc[i]);
		load_free(good[i]);
	}
	usleep(300 * 1000);
	flood_replies(&f);
	for (i = 0; i < SOCKETS; i++)
		close(f.fd[i]);
	assert_true(proc_wait_children(d.pid, 0, STRESS_STEP_MS));
	parent_measure(d.pid, &m1);

	received = control_value(ctl, "flooded", "datagrams_in");
	answered = control_value(ctl, "flooded", "datagrams_out");
	by_rate = control_value(ctl, "flooded", "refused_source_rate");
	refused = control_value(ctl, "flooded", "refused");
	dropped = (long)f.sent - (long)received;
	/* A bucket of one second's worth, refilled for the flood's length. */
	most = SOURCE_RATE + (unsigned long)(SOURCE_RATE * (f.secs + 1));
	stress_say("udp_flood", "%d sockets of 127.0.0.1 (source_prefix 32: one "
	    "client) for %.1fs: sent=%lu (and %lu the kernel would not take), "
	    "read by the daemon=%lu, dropped by the kernel before that=%ld",
	    SOCKETS, f.secs, f.sent, f.blocked, received, dropped);
	stress_say("udp_flood", "answered=%lu (source_rate=%d: at most %lu), "
	    "replies received=%lu; refused: source_rate=%lu, all reasons %lu",
	    answered, SOURCE_RATE, most, f.answered, by_rate, refused);
	for (i = 0; i < ngood; i++) {
		stress_say("udp_flood", "TCP dialogues during the flood from %s: "
		    "%d threads, dialogues=%lu failed=%lu slowest=%ums",
		    hosts[i], GOOD_THREADS, gc[i].done, gc[i].failed,
		    gc[i].worst_ms);
		if (gc[i].failed > 0)
			print_error("first failure: %s\n", gc[i].first_failure);
	}
	stress_say_parent("udp_flood", &m0, &m1);
	stress_say_status("udp_flood", ctl);
	stress_say_time("udp_flood", start);

	for (i = 0; i < ngood; i++) {
		assert_int_equal(gc[i].failed, 0);
		assert_true(gc[i].done >= 10);
	}
	assert_true(answered >= SOURCE_RATE);
	assert_true(answered <= most);
	assert_int_equal(f.answered, answered);
	/* Every datagram read was answered or refused for its rate. */
	assert_int_equal(received, answered + refused);
	assert_int_equal(refused, by_rate);
	assert_true(by_rate > 0);
	assert_true(dropped >= 0);
	assert_int_equal(proc_zombies(d.pid), 0);
	assert_int_equal(m1.fds, m0.fds);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_udp_flood, harness_teardown),
	};

	harness_init();
	harness_watchdog(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
