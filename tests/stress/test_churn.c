/* Stress: 10 000 short dialogues at concurrency 64; no zombie, the parent's memory flat. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>

#include "harness.h"
#include "stress.h"

#define DIALOGUES	10000
#define FIRST		100
#define CONCURRENCY	64
/* The whole scenario's bound; it takes well under a minute on 2 cores. */
#define RUN_MS		(240 * 1000)

/*
 * What the parent's resident set may grow between the first 100
 * dialogues and the last, in KiB.  A leak of even malloc's smallest chunk
 * (32 bytes) per connection would add some 300 KiB over the 9 900, and
 * grow malloc's heap (checked apart: its size must not change).  But RSS
 * counts pages touched, not bytes in use.  The parent mallocs and frees
 * per connection (libsystemd formats each new STATUS= into a fresh
 * buffer, even outside systemd), and glibc carves such short-lived
 * buffers from the heap's untouched top, keeping the freed pieces aside,
 * until the top runs out: only then does it merge them and start over.
 * So RSS creeps up a page at a time until the whole heap (132 KiB at
 * start) has been touched, some 40 KiB over about 15 000 connections,
 * then stays flat.  A page of code first run late (the accept back-off,
 * say) adds 4 KiB more.  64 KiB covers both; a leak does not fit.
 */
#define RSS_SLACK_KIB	64

static void
test_churn(void **state)
{
	struct daemon	 d;
	struct load_opts lo = {
		.host = "127.0.0.1", .threads = CONCURRENCY, .max_ms = RUN_MS,
	};
	struct load	*l;
	struct load_counts first, rest;
	struct zwatch	*zw;
	struct zwatch_counts zc;
	const char	*ctl = harness_path("churn.ctl");
	unsigned long	 total = stress_scale(DIALOGUES);
	struct parent_mem m0, m1;
	unsigned	 zombies_after;
	uint64_t	 t0, start = now_ms();
	double		 secs;

	(void)state;
	if (total < 2 * FIRST)
		total = 2 * FIRST;
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/churn.ctl\n"
	    "[hello]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1\n"
	    "handler = hello\n",
	    HD_PROBE_LOG, NULL), 0);
	lo.port = d.port[0];
	zw = zwatch_start(d.pid);

	/* The first 100, then a measure of the parent at rest. */
	lo.max = FIRST;
	l = load_start(&lo);
	load_wait(l);
	load_counts(l, &first);
	load_free(l);
	assert_true(proc_wait_children(d.pid, 0, STRESS_STEP_MS));
	parent_measure(d.pid, &m0);

	/* The rest, and the same measure. */
	lo.max = total - FIRST;
	t0 = now_ms();
	l = load_start(&lo);
	load_wait(l);
	secs = stress_secs(t0);
	load_counts(l, &rest);
	load_free(l);
	assert_true(proc_wait_children(d.pid, 0, STRESS_STEP_MS));
	zwatch_stop(zw, &zc);
	zombies_after = proc_zombies(d.pid);
	parent_measure(d.pid, &m1);

	stress_say("churn", "dialogues=%lu failed=%lu concurrency=%d "
	    "time=%.1fs rate=%.0f/s slowest=%ums",
	    first.done + rest.done, first.failed + rest.failed, CONCURRENCY,
	    secs, (double)rest.done / (secs > 0 ? secs : 1), rest.worst_ms);
	stress_say("churn", "zombies: at most %u at once in %u samples, the "
	    "oldest seen %u ms; stale (unreaped %d ms)=%u, after=%u",
	    zc.most, zc.samples, zc.oldest_ms, ZWATCH_STALE_MS, zc.stale,
	    zombies_after);
	stress_say("churn", "parent: rss %ld KiB after %d, %ld KiB after %lu "
	    "(%+ld KiB, tolerance %d); heap %ld KiB, then %ld KiB; fds %d "
	    "after %d, %d after %lu; cpu %.1fs for the %lu", m0.rss_kib, FIRST,
	    m1.rss_kib, total, m1.rss_kib - m0.rss_kib, RSS_SLACK_KIB,
	    m0.heap_kib, m1.heap_kib, m0.fds, FIRST, m1.fds, total,
	    (double)(m1.cpu_ms - m0.cpu_ms) / 1000, total - FIRST);
	stress_say_status("churn", ctl);
	stress_say_time("churn", start);
	if (first.failed + rest.failed > 0)
		print_error("first failure: %s%s\n", first.first_failure,
		    rest.first_failure);

	assert_int_equal(first.failed + rest.failed, 0);
	assert_int_equal(first.done + rest.done, total);
	assert_int_equal(zc.stale, 0);
	assert_int_equal(zombies_after, 0);
	assert_true(m0.rss_kib > 0 && m1.rss_kib > 0);
	assert_true(m1.rss_kib <= m0.rss_kib + RSS_SLACK_KIB);
	assert_int_equal(m1.heap_kib, m0.heap_kib);
	assert_true(m0.fds > 0);
	assert_int_equal(m1.fds, m0.fds);
	assert_int_equal(control_value(ctl, "hello", "accepted"), total);
	assert_int_equal(control_value(ctl, "hello", "active"), 0);
	assert_int_equal(control_value(ctl, "hello", "refused"), 0);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_churn, harness_teardown),
	};

	harness_init();
	harness_watchdog(RUN_MS / 1000 + 60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
