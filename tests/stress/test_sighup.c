/* Stress: 50 SIGHUPs, a valid and an invalid config in turn, under steady load. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "stress.h"

#define RELOADS		50
#define GAP_MS		100		/* between one reload's end and the next SIGHUP */
#define RELOAD_MS	10000		/* a reload's log line, at most this late */
#define TCP_THREADS	4		/* per address */
#define UDP_THREADS	2

/*
 * The service under load, the same in every configuration: TCP and UDP,
 * IPv4 and IPv6, with no rate on UDP so that a busy client is answered.
 */
#define STEADY \
	"[global]\ncontrol = @DIR@/hup.ctl\n" \
	"[steady]\nprotocol = tcp udp\nport = @P0@\nbind = 127.0.0.1 ::1\n" \
	"handler = hello\nsource_rate = unlimited\n"

/* Valid: another service, whose greeting names the generation. */
static void
write_valid(struct daemon *d, unsigned gen)
{
	char	 tmpl[1024];

	snprintf(tmpl, sizeof(tmpl), STEADY
	    "[changing]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = hello\ngreeting = Generation %u\n", gen);
	daemon_rewrite(d, tmpl);
}

/*
 * Invalid, each in a way the checks refuse after the file was parsed: a
 * TCP-only key in a UDP service, a port that conflicts with steady's, keys
 * of another handler and an allow prefix with bits set past its length.
 */
static const char *const invalid[] = {
	STEADY "[changing]\nprotocol = udp\nport = @P1@\nbind = 127.0.0.1\n"
	"handler = hello\nper_source = 4\n",
	STEADY "[changing]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	"handler = hello\n",
	STEADY "[changing]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	"handler = echo\ngreeting = Generation 0\nallow = 10.1.2.3/8\n",
};

/* The greeting of the changing service: "Generation N". */
static void
greets(struct daemon *d, unsigned gen)
{
	char	 line[64], want[64];
	int	 fd = tcp_connect("127.0.0.1", d->port[1], STRESS_STEP_MS);

	assert_true(fd >= 0);
	assert_true(read_line(fd, line, sizeof(line), STRESS_STEP_MS) > 0);
	snprintf(want, sizeof(want), "Generation %u\r\n", gen);
	assert_string_equal(line, want);
	close(fd);
}

static void
test_sighup(void **state)
{
	struct daemon	 d;
	struct load	*l[3];
	struct load_counts lc[3];
	struct load_opts lo[3] = {
		{ .host = "127.0.0.1", .threads = TCP_THREADS },
		{ .host = "::1", .threads = TCP_THREADS },
		{ .udp = true, .host = "127.0.0.1", .threads = UDP_THREADS,
		    .pause_ms = 2 },
	};
	const char	*ctl = harness_path("hup.ctl");
	unsigned	 nl = harness_have_ipv6() ? 3 : 2, i, gen = 0, bad = 0;
	unsigned long	 tcp_done = 0, udp_done = 0, failed = 0, reloaded, refused;
	struct parent_mem m0, m1;
	uint64_t	 t0, start = now_ms();
	double		 secs;

	(void)state;
	if (nl == 2)
		lo[1] = lo[2];
	assert_int_equal(daemon_start_with(&d, STEADY
	    "[changing]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = hello\ngreeting = Generation 0\n",
	    HD_PROBE_LOG, NULL), 0);
	greets(&d, 0);
	assert_true(proc_wait_children(d.pid, 0, STRESS_STEP_MS));
	parent_measure(d.pid, &m0);

	for (i = 0; i < nl; i++) {
		lo[i].port = d.port[0];
		lo[i].max_ms = RELOADS * (RELOAD_MS + GAP_MS);
		l[i] = load_start(&lo[i]);
	}
	t0 = now_ms();
	for (i = 0; i < RELOADS; i++) {
		if (i % 2 == 0) {
			write_valid(&d, ++gen);
			daemon_signal(&d, SIGHUP);
			assert_true(log_wait_n(&d, "hellod: reloaded ", gen,
			    RELOAD_MS));
		} else {
			daemon_rewrite(&d, invalid[bad % 3]);
			daemon_signal(&d, SIGHUP);
			assert_true(log_wait_n(&d, "hellod: reload_failed ", ++bad,
			    RELOAD_MS));
		}
		greets(&d, gen);
		usleep(GAP_MS * 1000);
	}
	secs = stress_secs(t0);
	for (i = 0; i < nl; i++) {
		load_stop(l[i]);
		load_counts(l[i], &lc[i]);
		load_free(l[i]);
		if (lo[i].udp)
			udp_done += lc[i].done;
		else
			tcp_done += lc[i].done;
		failed += lc[i].failed;
	}
	assert_true(proc_wait_children(d.pid, 0, STRESS_STEP_MS));
	parent_measure(d.pid, &m1);
	reloaded = log_count(&d, "hellod: reloaded ");
	refused = log_count(&d, "hellod: reload_failed ");

	stress_say("sighup", "%d SIGHUPs in %.1fs: reloaded=%lu refused=%lu "
	    "(log lines; \"hellod: reloading\" %u)",
	    RELOADS, secs, reloaded, refused,
	    log_count(&d, "hellod: reloading "));
	for (i = 0; i < nl; i++) {
		stress_say("sighup", "steady %s %s: %u threads, transactions=%lu "
		    "failed=%lu slowest=%ums", lo[i].udp ? "udp" : "tcp",
		    lo[i].host, lo[i].threads, lc[i].done, lc[i].failed,
		    lc[i].worst_ms);
		if (lc[i].failed > 0)
			print_error("first failure: %s\n", lc[i].first_failure);
	}
	stress_say_parent("sighup", &m0, &m1);
	stress_say_status("sighup", ctl);
	stress_say_time("sighup", start);

	assert_int_equal(failed, 0);
	for (i = 0; i < nl; i++)
		assert_true(lc[i].done >= 10);
	assert_int_equal(reloaded, RELOADS / 2);
	assert_int_equal(refused, RELOADS / 2);
	/* The counters of a service whose name is kept survive every reload. */
	assert_int_equal(control_value(ctl, "steady", "accepted"), tcp_done);
	assert_int_equal(control_value(ctl, "steady", "datagrams_in"), udp_done);
	assert_int_equal(control_value(ctl, "steady", "datagrams_out"), udp_done);
	assert_int_equal(control_value(ctl, "steady", "refused"), 0);
	assert_int_equal(control_value(ctl, "steady", "active"), 0);
	assert_int_equal(m1.fds, m0.fds);
	assert_int_equal(proc_zombies(d.pid), 0);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_sighup, harness_teardown),
	};

	harness_init();
	harness_watchdog(240);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
