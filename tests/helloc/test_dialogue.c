/*
 * Integration: helloc against the real hellod, as an administrator runs
 * it: dialogue over TCP and UDP, the relay, the load generator, errors.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
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

#define T_MS		harness_ms(10000)
#define BIG		(1024 * 1024)

/*
 * hello on P0 (TCP and UDP), echo on P1 (TCP and UDP), echo on P2 over
 * TCP bound to IPv4 only (for names whose first address is IPv6), five
 * connections a second; P3 is left closed.  hello also listens on ::1
 * when the kernel has IPv6.  The benchmarks send hundreds of datagrams a
 * second from one client: the UDP services lift the default source_rate,
 * but for hello on P2 over UDP, which answers five a second.
 */
#define CONF_TMPL \
    "[hello]\n" \
    "protocol = tcp udp\n" \
    "port = @P0@\n" \
    "bind = 127.0.0.1%s\n" \
    "handler = hello\n" \
    "source_rate = unlimited\n" \
    "\n" \
    "[echo]\n" \
    "protocol = tcp udp\n" \
    "port = @P1@\n" \
    "bind = 127.0.0.1\n" \
    "handler = echo\n" \
    "source_rate = unlimited\n" \
    "\n" \
    "[echo4]\n" \
    "protocol = tcp\n" \
    "port = @P2@\n" \
    "bind = 127.0.0.1\n" \
    "handler = echo\n" \
    "source_rate = 5\n" \
    "\n" \
    "[slow]\n" \
    "protocol = udp\n" \
    "port = @P2@\n" \
    "bind = 127.0.0.1\n" \
    "handler = hello\n" \
    "source_rate = 5\n"

static struct daemon d;
static char conf[1024];
static char port[HD_NPORTS][8];

static int
setup(void **state)
{
	int i;

	(void)state;
	snprintf(conf, sizeof(conf), CONF_TMPL, harness_have_ipv6() ? " ::1" : "");
	if (daemon_start(&d, conf) != 0)
		return -1;
	for (i = 0; i < HD_NPORTS; i++)
		snprintf(port[i], sizeof(port[i]), "%u", d.port[i]);
	return 0;
}

static int
teardown(void **state)
{
	int rc = daemon_stop(&d, SIGTERM);

	harness_teardown(state);
	return rc == 0 ? 0 : -1;
}

/*
 * helloc takes a greeting that comes later than 300 ms for the first
 * reply, and a child of a daemon under valgrind may well be that slow to
 * greet: the dialogues with hello over TCP are skipped then.
 */
static void
skip_slow_greeting(void)
{
	harness_skip_valgrind("a greeting may come later than helloc's 300 ms");
}

/* Run helloc, print what it said when the exit code is not the one expected. */
static void
run(struct hc_run *r, const char *in, int want, const char *const args[])
{
	helloc_run(r, in, T_MS, args);
	if (r->status != want)
		fail_msg("helloc exited %d, not %d; stdout:\n%s\nstderr:\n%s",
		    r->status, want, r->out, r->err);
}

static void
test_dialogue_tcp(void **state)
{
	struct hc_run r;

	(void)state;
	skip_slow_greeting();
	run(&r, NULL, 0, (const char *const[]){ "127.0.0.1", port[0], "Michael",
	    "Tracy", "Sarah", NULL });
	assert_string_equal(r.out, "Welcome!\nHello, Michael!\nHello, Tracy!\nHello, Sarah!\n");
	assert_string_equal(r.err, "");
	helloc_run_free(&r);
	/* The conversation ended with the quit word, not a reset or a timeout. */
	assert_true(log_wait(&d, "reason=quit", T_MS));
}

/* echo sends no greeting: the client must not hang waiting for one. */
static void
test_dialogue_no_greeting(void **state)
{
	struct hc_run r;

	(void)state;
	run(&r, NULL, 0, (const char *const[]){ "127.0.0.1", port[1], "one",
	    "two words", NULL });
	assert_string_equal(r.out, "one\ntwo words\n");
	assert_true(r.ms < 3000);
	helloc_run_free(&r);
}

static void
test_dialogue_names(void **state)
{
	struct hc_run r;

	(void)state;
	skip_slow_greeting();
	/* Every address of the name is tried: echo4 listens on IPv4 only. */
	run(&r, NULL, 0, (const char *const[]){ "localhost", port[2], "hi", NULL });
	assert_string_equal(r.out, "hi\n");
	helloc_run_free(&r);
	run(&r, NULL, 0, (const char *const[]){ "-4", "localhost", port[0], "Tracy", NULL });
	assert_string_equal(r.out, "Welcome!\nHello, Tracy!\n");
	helloc_run_free(&r);
	if (!harness_have_ipv6())
		return;
	run(&r, NULL, 0, (const char *const[]){ "::1", port[0], "Sarah", NULL });
	assert_string_equal(r.out, "Welcome!\nHello, Sarah!\n");
	helloc_run_free(&r);
	run(&r, NULL, 0, (const char *const[]){ "-u", "-6", "::1", port[0], "Sarah", NULL });
	assert_string_equal(r.out, "Hello, Sarah!\n");
	helloc_run_free(&r);
}

static void
test_dialogue_udp(void **state)
{
	struct hc_run r;

	(void)state;
	run(&r, NULL, 0, (const char *const[]){ "-u", "127.0.0.1", port[0], "Michael",
	    "Tracy", NULL });
	assert_string_equal(r.out, "Hello, Michael!\nHello, Tracy!\n");
	assert_string_equal(r.err, "");
	helloc_run_free(&r);
	run(&r, NULL, 0, (const char *const[]){ "--udp", "127.0.0.1", port[1], "echo me", NULL });
	assert_string_equal(r.out, "echo me\n");
	helloc_run_free(&r);
}

/* A UDP port where a socket is bound but nobody answers: three tries, then exit 1. */
static void
test_udp_timeout(void **state)
{
	char buf[64], pstr[8], want[64];
	uint16_t p = harness_free_port();
	struct hc_run r;
	int fd, n = 0;

	(void)state;
	assert_true((fd = udp_socket("127.0.0.1", p)) >= 0);
	snprintf(pstr, sizeof(pstr), "%u", p);
	run(&r, NULL, 1, (const char *const[]){ "-u", "-w", "0.2", "127.0.0.1", pstr,
	    "Michael", NULL });
	assert_string_equal(r.out, "");
	snprintf(want, sizeof(want), "helloc: 127.0.0.1 port %u: no reply", p);
	assert_non_null(strstr(r.err, want));
	assert_non_null(strstr(r.err, "after 3 tries"));
	assert_true(r.ms >= 550);
	helloc_run_free(&r);
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == 7) {
		assert_memory_equal(buf, "Michael", 7);
		n++;
	}
	assert_int_equal(n, 3);
	close(fd);
}

static void
test_refused(void **state)
{
	char want[64];
	struct hc_run r;

	(void)state;
	snprintf(want, sizeof(want), "helloc: 127.0.0.1 port %s: Connection refused\n", port[3]);
	run(&r, NULL, 1, (const char *const[]){ "127.0.0.1", port[3], "Michael", NULL });
	assert_string_equal(r.err, want);
	assert_string_equal(r.out, "");
	helloc_run_free(&r);
	/* Over UDP the refusal is an ICMP error, reported the same way. */
	run(&r, NULL, 1, (const char *const[]){ "-u", "127.0.0.1", port[3], "Michael", NULL });
	assert_string_equal(r.err, want);
	helloc_run_free(&r);
	/*
	 * Names that cannot resolve, without asking a name server (a test
	 * host may have none, and a query could take its full timeout): an
	 * IPv6 literal asked for as IPv4, and a port name /etc/services lacks.
	 */
	run(&r, NULL, 1, (const char *const[]){ "-4", "::1", "9999", "x", NULL });
	assert_non_null(strstr(r.err, "helloc: ::1 port 9999: "));
	assert_true(r.ms < 3000);
	helloc_run_free(&r);
	run(&r, NULL, 1, (const char *const[]){ "127.0.0.1", "no-such-service-name", "x",
	    NULL });
	assert_non_null(strstr(r.err, "helloc: 127.0.0.1 port no-such-service-name: "));
	helloc_run_free(&r);
}

/*
 * A name whose first address (::1) has no such service and whose second
 * (127.0.0.1) has: every mode must move on to the second, UDP included,
 * where the refusal is an ICMP error that comes after the first datagram.
 */
static void
test_every_address(void **state)
{
	struct hc_run_opts ro = { .hosts = harness_path("hosts") };
	const char *in = harness_path("every-address.in");
	struct hc_run r;

	(void)state;
	if (!harness_have_ipv6() || !helloc_can_fake_hosts()) {
		fprintf(stderr, "no IPv6 or no private mount namespace: skipped\n");
		skip();
	}
	harness_write_file(ro.hosts, "::1 dual\n127.0.0.1 dual\n");
	harness_write_file(in, "Michael\nTracy\n");
	/* echo listens on 127.0.0.1 only, over TCP and UDP. */
	helloc_run_with(&r, &ro, T_MS, (const char *const[]){ "dual", port[1], "one", NULL });
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "one\n");
	helloc_run_free(&r);
	helloc_run_with(&r, &ro, T_MS, (const char *const[]){ "-u", "dual", port[1],
	    "one", "two", NULL });
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "one\ntwo\n");
	helloc_run_free(&r);
	ro.in = in;
	helloc_run_with(&r, &ro, T_MS, (const char *const[]){ "-u", "dual", port[1], NULL });
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	assert_string_equal(r.out, "Michael\nTracy\n");
	assert_string_equal(r.err, "");
	helloc_run_free(&r);
	/* Nobody on either address: the refusal is reported, exit 1. */
	helloc_run_with(&r, &ro, T_MS, (const char *const[]){ "-u", "dual", port[3], NULL });
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "Connection refused"));
	helloc_run_free(&r);
}

static void
test_relay_tcp_hello(void **state)
{
	const char *in = harness_path("relay-hello.in");
	struct hc_run r;

	(void)state;
	/* stdin ends: our write side is shut, and the replies still arrive. */
	harness_write_file(in, "Michael\nTracy\n");
	run(&r, in, 0, (const char *const[]){ "127.0.0.1", port[0], NULL });
	assert_string_equal(r.out, "Welcome!\r\nHello, Michael!\r\nHello, Tracy!\r\n");
	helloc_run_free(&r);
}

static void
test_relay_tcp_binary(void **state)
{
	const char *in = harness_path("relay-binary.in");
	unsigned char *buf = malloc(BIG);
	uint32_t x = 2463534242u;
	struct hc_run r;
	FILE *fp;
	size_t i;

	(void)state;
	assert_non_null(buf);
	/* Every byte value, NULs and CR LF included, in a xorshift sequence. */
	for (i = 0; i < BIG; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	assert_non_null(fp = fopen(in, "wb"));
	assert_int_equal(fwrite(buf, 1, BIG, fp), BIG);
	fclose(fp);
	run(&r, in, 0, (const char *const[]){ "127.0.0.1", port[1], NULL });
	assert_int_equal(r.outlen, BIG);
	assert_memory_equal(r.out, buf, BIG);
	helloc_run_free(&r);
	free(buf);
}

/*
 * The server closes after the quit word while stdin has more: the rest
 * has nowhere to go, and the relay ends without an error (after the
 * server's end of file, a reset is the end, not a failure).
 */
static void
test_relay_tcp_after_quit(void **state)
{
	const char *in = harness_path("relay-quit.in");
	struct hc_run r;
	FILE *fp;
	int i;

	(void)state;
	assert_non_null(fp = fopen(in, "w"));
	fputs("Michael\nexit\n", fp);
	for (i = 0; i < 100000; i++)
		fputs("Tracy\n", fp);
	fclose(fp);
	run(&r, in, 0, (const char *const[]){ "127.0.0.1", port[0], NULL });
	assert_string_equal(r.out, "Welcome!\r\nHello, Michael!\r\n");
	assert_string_equal(r.err, "");
	helloc_run_free(&r);
}

static void
test_relay_udp(void **state)
{
	const char *in = harness_path("relay-udp.in");
	struct hc_run r;

	(void)state;
	/* One datagram per line; CRLF and the unterminated last line too. */
	harness_write_file(in, "Michael\nTracy\r\nSarah");
	run(&r, in, 0, (const char *const[]){ "-u", "127.0.0.1", port[0], NULL });
	assert_string_equal(r.out, "Hello, Michael!\nHello, Tracy!\nHello, Sarah!\n");
	helloc_run_free(&r);
}

/*
 * The load generator's cases make hundreds of connections, each a child
 * of the daemon that valgrind would run slowly, and check timings: they
 * test the client, so they are skipped when the daemon runs under
 * valgrind.
 */
static void
skip_bench(void)
{
	harness_skip_valgrind("hundreds of connections, each a child under valgrind");
}

/* The counts of a --bench --json report add up to its requests. */
static void
check_sum(const char *json)
{
	double sum = json_number(json, "answered") + json_number(json, "timeouts") +
	    json_number(json, "lost") + json_number(json, "refused") +
	    json_number(json, "errors");

	if (sum != json_number(json, "requests"))
		fail_msg("the counts do not add up to the requests: %s", json);
}

/*
 * --bench --json: parse it and check the counts; with expect_wrong every
 * reply is wrong, and the exit status 1.
 */
static void
check_bench(const char *const args[], double want, bool expect_wrong)
{
	struct hc_run r;
	double n;

	run(&r, NULL, expect_wrong ? 1 : 0, args);
	n = json_number(r.out, "answered");
	if (want > 0)
		assert_true(n == want);
	else
		assert_true(n > 0);
	assert_true(json_number(r.out, "requests") == n);
	assert_true(json_number(r.out, "errors") == 0);
	assert_true(json_number(r.out, "timeouts") == 0);
	assert_true(json_number(r.out, "lost") == 0);
	assert_true(json_number(r.out, "refused") == 0);
	if (expect_wrong) {
		assert_true(json_number(r.out, "wrong") == n);
		assert_non_null(strstr(r.err, "replies were not the one expected"));
	} else
		assert_true(json_number(r.out, "wrong") == 0);
	assert_true(json_number(r.out, "rate") > 0);
	assert_true(json_number(r.out, "seconds") > 0);
	assert_true(json_number(r.out, "max") > 0);
	assert_true(json_number(r.out, "mean") > 0);
	assert_true(json_number(r.out, "mean") <= json_number(r.out, "max"));
	assert_true(json_number(r.out, "stddev") >= 0);
	assert_true(json_number(r.out, "p50") <= json_number(r.out, "p90"));
	assert_true(json_number(r.out, "p90") <= json_number(r.out, "p99"));
	assert_true(json_number(r.out, "p99") <= json_number(r.out, "max"));
	/* One line of JSON and nothing else. */
	assert_true(r.out[0] == '{' && strchr(r.out, '\n') == r.out + r.outlen - 1);
	helloc_run_free(&r);
}

/*
 * --bench -d 0.5 --json: it ran half a second (and the time the last
 * replies took after it), the rate is the count over that, and the
 * requests under way at the end got their replies.
 */
static void
check_duration(const char *const args[])
{
	struct hc_run r;
	double n, sec, off;

	run(&r, NULL, 0, args);
	n = json_number(r.out, "answered");
	sec = json_number(r.out, "seconds");
	assert_true(n > 10);
	assert_true(json_number(r.out, "requests") == n);
	assert_true(json_number(r.out, "errors") == 0);
	assert_true(json_number(r.out, "timeouts") == 0);
	assert_true(json_number(r.out, "lost") == 0);
	/* The run ends with the time, or with the last reply that came after it. */
	if (sec < 0.5 || sec > 0.5 + json_number(r.out, "max") / 1000 + 0.05)
		fail_msg("seconds %f for -d 0.5: %s", sec, r.out);
	off = json_number(r.out, "rate") - n / sec;
	if (off < -0.1 - n / sec / 1000 || off > 0.1 + n / sec / 1000)
		fail_msg("rate is not answered / seconds: %s", r.out);
	assert_true(json_number(r.out, "p50") > 0);
	assert_true(json_number(r.out, "p50") <= json_number(r.out, "max"));
	assert_true(r.ms < 3000);
	helloc_run_free(&r);
}

static void
test_bench_echo(void **state)
{
	(void)state;
	skip_bench();
	check_bench((const char *const[]){ "--bench", "-c", "4", "-n", "300", "-m", "ping",
	    "--expect", "ping", "--json", "127.0.0.1", port[1], NULL }, 300, false);
	check_bench((const char *const[]){ "--bench", "-u", "-c", "4", "-n", "300", "-m",
	    "ping", "--expect", "ping", "--json", "127.0.0.1", port[1], NULL }, 300, false);
}

static void
test_bench_hello(void **state)
{
	(void)state;
	skip_bench();
	check_bench((const char *const[]){ "--bench", "-c", "8", "-n", "400",
	    "--expect", "Hello, Michael!", "--json", "127.0.0.1", port[0], NULL }, 400, false);
	check_bench((const char *const[]){ "--bench", "-u", "-c", "8", "-n", "400",
	    "--expect", "Hello, Michael!", "--json", "127.0.0.1", port[0], NULL }, 400, false);
	/* A duration instead of a count: the rate is over that time. */
	check_duration((const char *const[]){ "--bench", "-c", "4", "-d", "0.5", "-m",
	    "Tracy", "--expect", "Hello, Tracy!", "--json", "127.0.0.1", port[0], NULL });
	check_duration((const char *const[]){ "--bench", "-u", "-c", "4", "-d", "0.5",
	    "--json", "127.0.0.1", port[0], NULL });
	/* Replies that are not the expected one are counted, and fail the run. */
	check_bench((const char *const[]){ "--bench", "-c", "2", "-n", "20",
	    "--expect", "Goodbye", "--json", "127.0.0.1", port[0], NULL }, 20, true);
	check_bench((const char *const[]){ "--bench", "-u", "-n", "20",
	    "--expect", "Goodbye", "--json", "127.0.0.1", port[0], NULL }, 20, true);
}

/*
 * hello over UDP answering five datagrams a second: those it drops are
 * counted, lost when the run ends first, timed out when -w does, and
 * said on the first line of the report.  Neither fails the run.
 */
static void
test_bench_losses(void **state)
{
	struct hc_run r;
	double lost;
	char want[64];

	(void)state;
	skip_bench();
	run(&r, NULL, 0, (const char *const[]){ "--bench", "-u", "-c", "8", "-d", "1",
	    "--json", "127.0.0.1", port[2], NULL });
	lost = json_number(r.out, "lost");
	if (lost == 0 || json_number(r.out, "answered") == 0)
		fail_msg("no loss counted: %s", r.out);
	assert_true(json_number(r.out, "timeouts") == 0);
	check_sum(r.out);
	/* The grace for the last replies is a second, not -w. */
	assert_true(r.ms < 3500);
	helloc_run_free(&r);

	run(&r, NULL, 0, (const char *const[]){ "--bench", "-u", "-c", "8", "-d", "1",
	    "127.0.0.1", port[2], NULL });
	snprintf(want, sizeof(want), "udp 127.0.0.1 port %s: ", port[2]);
	assert_true(strncmp(r.out, want, strlen(want)) == 0);
	assert_non_null(strstr(strchr(r.out, ':'), " lost, 0 timed out\n"));
	assert_null(strstr(r.out, " 0 lost,"));
	assert_non_null(strstr(r.out, "\n  lost          "));
	helloc_run_free(&r);

	run(&r, NULL, 0, (const char *const[]){ "--bench", "-u", "-n", "10", "-w", "0.5",
	    "--json", "127.0.0.1", port[2], NULL });
	if (json_number(r.out, "timeouts") == 0)
		fail_msg("no timeout counted: %s", r.out);
	assert_true(json_number(r.out, "lost") == 0);
	assert_true(json_number(r.out, "requests") == 10);
	check_sum(r.out);
	helloc_run_free(&r);
}

/* Connections that fail during the run: counted, and the exit status is 1. */
static void
test_bench_failures(void **state)
{
	struct hc_run r;

	(void)state;
	skip_bench();
	/* echo4 takes five connections a second and closes the others at once. */
	run(&r, NULL, 1, (const char *const[]){ "--bench", "-c", "8", "-n", "50",
	    "-m", "ping", "--json", "127.0.0.1", port[2], NULL });
	if (json_number(r.out, "errors") == 0)
		fail_msg("no failure counted: %s", r.out);
	check_sum(r.out);
	assert_non_null(strstr(r.err, " failed otherwise"));
	helloc_run_free(&r);
}

static void
test_bench_table(void **state)
{
	const char *want_json;
	char want[96];
	struct hc_run r;

	(void)state;
	skip_bench();
	run(&r, NULL, 0, (const char *const[]){ "--bench", "-n", "50", "127.0.0.1",
	    port[0], NULL });
	snprintf(want, sizeof(want), "tcp 127.0.0.1 port %s: 50 requests in ", port[0]);
	assert_true(strncmp(r.out, want, strlen(want)) == 0);
	assert_non_null(strstr(r.out, " s, 50 answered, 0 lost, 0 timed out\n"));
	assert_non_null(strstr(r.out, "  concurrency   1, greeting read first\n"));
	assert_non_null(strstr(r.out, "  answered      50\n"));
	assert_non_null(strstr(r.out, "  errors        0\n"));
	assert_non_null(strstr(r.out, "  timed out     0 (no reply within 5 s)\n"));
	assert_non_null(strstr(r.out, "  latency ms    mean "));
	assert_non_null(strstr(r.out, "                p50 "));
	assert_string_equal(r.err, "");
	helloc_run_free(&r);
	/* A target that refuses: exit 1, naming it; JSON all the same. */
	run(&r, NULL, 1, (const char *const[]){ "--bench", "-n", "5", "127.0.0.1",
	    port[3], NULL });
	assert_non_null(strstr(r.err, "Connection refused"));
	assert_string_equal(r.out, "");
	helloc_run_free(&r);
	run(&r, NULL, 1, (const char *const[]){ "--bench", "--json", "127.0.0.1",
	    port[3], NULL });
	want_json = "{\"error\":\"Connection refused\",\"requests\":0,";
	assert_true(strncmp(r.out, want_json, strlen(want_json)) == 0);
	assert_true(json_number(r.out, "answered") == 0);
	assert_true(strchr(r.out, '\n') == r.out + r.outlen - 1);
	helloc_run_free(&r);
	run(&r, NULL, 1, (const char *const[]){ "--bench", "-u", "--json", "127.0.0.1",
	    port[3], NULL });
	assert_true(strncmp(r.out, want_json, strlen(want_json)) == 0);
	helloc_run_free(&r);
}

/* A live progress line on a terminal, none otherwise. */
static void
test_bench_progress(void **state)
{
	struct hc_run_opts tty = { .tty_err = true };
	struct hc_run r;
	char *last;

	(void)state;
	skip_bench();
	helloc_run_with(&r, &tty, T_MS, (const char *const[]){ "--bench", "-d", "1",
	    "127.0.0.1", port[0], NULL });
	assert_int_equal(r.status, 0);
	/* "\r0.3 s  1234 answered  4936.0/s  0 timed out  0 errors  0 wrong" */
	assert_true(strncmp(r.err, "\r0.", 3) == 0);
	assert_non_null(strstr(r.err, " s  "));
	assert_non_null(strstr(r.err, " answered  "));
	assert_non_null(strstr(r.err, "/s  0 timed out  0 errors  0 wrong\033[K"));
	/* Erased at the end, before the report on stdout. */
	assert_non_null(last = strrchr(r.err, '\r'));
	assert_string_equal(last, "\r\033[K");
	assert_non_null(strstr(r.out, " answered, 0 lost, 0 timed out\n"));
	helloc_run_free(&r);
	run(&r, NULL, 0, (const char *const[]){ "--bench", "-d", "0.5", "127.0.0.1",
	    port[0], NULL });
	assert_string_equal(r.err, "");
	helloc_run_free(&r);
}

/* A full disk (or a closed pipe) on stdout is an error in every mode. */
static void
check_full(const char *in, const char *const args[])
{
	struct hc_run_opts ro = { .in = in, .out = "/dev/full" };
	struct hc_run r;

	helloc_run_with(&r, &ro, T_MS, args);
	if (r.status != 1 || strstr(r.err, "helloc: stdout: No space left on device\n") == NULL)
		fail_msg("%s ... > /dev/full: exit %d, stderr:\n%s", args[0], r.status, r.err);
	helloc_run_free(&r);
}

static void
test_stdout_full(void **state)
{
	const char *in = harness_path("full.in");

	(void)state;
	harness_write_file(in, "Michael\n");
	check_full(NULL, (const char *const[]){ "127.0.0.1", port[0], "Michael", NULL });
	check_full(NULL, (const char *const[]){ "-u", "127.0.0.1", port[0], "Michael", NULL });
	check_full(in, (const char *const[]){ "127.0.0.1", port[0], NULL });
	check_full(in, (const char *const[]){ "-u", "127.0.0.1", port[0], NULL });
	check_full(NULL, (const char *const[]){ "--bench", "-n", "5", "127.0.0.1", port[0], NULL });
	check_full(NULL, (const char *const[]){ "--bench", "-n", "5", "--json", "127.0.0.1",
	    port[0], NULL });
}

/*
 * What the server sent is escaped on a terminal, so that it cannot drive
 * it, and passed as it is into a file.  hello puts the message in its reply.
 */
static void
test_terminal(void **state)
{
	struct hc_run_opts tty = { .tty = true }, file = { .in = harness_path("tty.in") };
	struct hc_run r;

	(void)state;
	skip_slow_greeting();
	harness_write_file(file.in, "\033]0;owned\007\n");
	helloc_run_with(&r, &tty, T_MS, (const char *const[]){ "127.0.0.1", port[0],
	    "\033[2J", NULL });
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "Welcome!\nHello, \\033[2J!\n");
	helloc_run_free(&r);
	run(&r, NULL, 0, (const char *const[]){ "127.0.0.1", port[0], "\033[2J", NULL });
	assert_string_equal(r.out, "Welcome!\nHello, \033[2J!\n");
	helloc_run_free(&r);
	tty.in = file.in;
	helloc_run_with(&r, &tty, T_MS, (const char *const[]){ "-u", "127.0.0.1", port[0], NULL });
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "Hello, \\033]0;owned\\a!\n");
	helloc_run_free(&r);
	helloc_run_with(&r, &file, T_MS, (const char *const[]){ "-u", "127.0.0.1", port[0], NULL });
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "Hello, \033]0;owned\007!\n");
	helloc_run_free(&r);
}

static void
test_usage(void **state)
{
	struct hc_run r;

	(void)state;
	run(&r, NULL, 64, (const char *const[]){ NULL });
	assert_non_null(strstr(r.err, "usage: helloc"));
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "127.0.0.1", NULL });
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "--status", "--get", NULL });
	assert_non_null(strstr(r.err, "exclude each other"));
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "--bench", "-n", "5", "-d", "1", "h", "p", NULL });
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "-c", "4", "h", "p", NULL });
	assert_non_null(strstr(r.err, "helloc: -c belongs to --bench\n"));
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "-L", "h", "p", NULL });
	assert_non_null(strstr(r.err, "helloc: -L belongs to --get\n"));
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "--get", "-u", "http://h/", NULL });
	assert_non_null(strstr(r.err, "helloc: -u belongs to the dialogue, the relay "
	    "and --bench\n"));
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "--bench", "--cacert", "f", "h", "p", NULL });
	assert_non_null(strstr(r.err, "helloc: --cacert belongs to --get\n"));
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "--json", "h", "p", NULL });
	assert_non_null(strstr(r.err, "helloc: --json belongs to --bench and --status\n"));
	assert_non_null(strstr(r.err, "Run helloc --help for every option.\n"));
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "-w", "soon", "h", "p", NULL });
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "--get", "--bench", "http://h/", NULL });
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "--frobnicate", NULL });
	helloc_run_free(&r);
	/* A dialogue message is one line, not empty: else replies would slip. */
	run(&r, NULL, 64, (const char *const[]){ "127.0.0.1", port[0], "a\nb", "c", NULL });
	assert_non_null(strstr(r.err, "no CR or LF"));
	assert_string_equal(r.out, "");
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "127.0.0.1", port[0], "a\r", NULL });
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "127.0.0.1", port[0], "Michael", "", NULL });
	assert_non_null(strstr(r.err, "may not be empty"));
	assert_string_equal(r.out, "");
	helloc_run_free(&r);
	run(&r, NULL, 64, (const char *const[]){ "-u", "127.0.0.1", port[0], "", NULL });
	helloc_run_free(&r);
	run(&r, NULL, 0, (const char *const[]){ "-h", NULL });
	assert_non_null(strstr(r.out, "usage: helloc"));
	assert_string_equal(r.err, "");
	helloc_run_free(&r);
	run(&r, NULL, 0, (const char *const[]){ "-V", NULL });
	assert_string_equal(r.out, "helloc " PACKAGE_VERSION "\n");
	helloc_run_free(&r);
}

/* --help: every option on a line of its own, under its mode. */
static void
test_help(void **state)
{
	static const char *const lines[] = {
		"\nDialogue and relay: helloc HOST PORT [MESSAGE...]\n",
		"\n  -u, --udp  ", "\n  -4, --ipv4  ", "\n  -6, --ipv6  ",
		"\n  -w, --timeout SECONDS  ",
		"\nHTTP: helloc --get URL\n",
		"\n      --get  ", "\n  -L, --location  ", "\n  -s, --silent  ",
		"\n  -k, --insecure  ", "\n      --cacert FILE  ",
		"\n  -o, --output FILE  ",
		"\nLoad generator: helloc --bench HOST PORT\n",
		"\n      --bench  ", "\n  -c, --concurrency N  ", "\n  -n, --count N  ",
		"\n  -d, --duration SECONDS  ", "\n  -m, --message TEXT  ",
		"\n      --expect REPLY  ", "\n      --json  ",
		"\nStatus: helloc --status\n",
		"\n      --status  ", "\n      --control PATH  ",
		"\n  -h, --help  ", "\n  -V, --version  ",
	};
	struct hc_run r;
	size_t i;

	(void)state;
	run(&r, NULL, 0, (const char *const[]){ "--help", NULL });
	assert_true(strncmp(r.out, "usage: helloc [-u] [-4|-6] [-w SECONDS] HOST PORT "
	    "[MESSAGE...]\n       helloc --get [-L] [-s] [-k] [--cacert FILE] "
	    "[-o FILE] URL\n", 125) == 0);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (strstr(r.out, lines[i]) == NULL)
			fail_msg("--help lacks \"%s\":\n%s", lines[i], r.out);
	/* Options in order, each once: 21 of them, each with a description. */
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (lines[i][1] == ' ' && strstr(strstr(r.out, lines[i]) + 1, lines[i]) != NULL)
			fail_msg("--help has \"%s\" twice", lines[i]);
	assert_string_equal(r.err, "");
	helloc_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dialogue_tcp),
		cmocka_unit_test(test_dialogue_no_greeting),
		cmocka_unit_test(test_dialogue_names),
		cmocka_unit_test(test_dialogue_udp),
		cmocka_unit_test(test_udp_timeout),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_every_address),
		cmocka_unit_test(test_relay_tcp_hello),
		cmocka_unit_test(test_relay_tcp_binary),
		cmocka_unit_test(test_relay_tcp_after_quit),
		cmocka_unit_test(test_relay_udp),
		cmocka_unit_test(test_bench_echo),
		cmocka_unit_test(test_bench_hello),
		cmocka_unit_test(test_bench_losses),
		cmocka_unit_test(test_bench_failures),
		cmocka_unit_test(test_bench_table),
		cmocka_unit_test(test_bench_progress),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_stdout_full),
		cmocka_unit_test(test_terminal),
		cmocka_unit_test(test_usage),
	};

	harness_init();
	helloc_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
