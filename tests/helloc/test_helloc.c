/* Unit tests of helloc's pure parts: percentiles, mean and deviation, reports, progress, status. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "helloc.h"

/* Latency percentiles. */

static struct bench_hist *
hist_of(const uint64_t *v, size_t n)
{
	struct bench_hist *h = calloc(1, sizeof(*h));
	size_t i;

	assert_non_null(h);
	for (i = 0; i < n; i++)
		bench_hist_add(h, v[i]);
	return h;
}

static void
test_percentile(void **state)
{
	uint64_t v[100], one = 7, ten[10] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
	struct bench_hist *h;
	size_t i;

	(void)state;
	h = hist_of(NULL, 0);
	assert_int_equal(bench_hist_percentile(h, 500), 0);
	assert_int_equal(bench_hist_percentile(NULL, 500), 0);
	free(h);
	h = hist_of(&one, 1);
	assert_int_equal(bench_hist_percentile(h, 500), 7);
	assert_int_equal(bench_hist_percentile(h, 1000), 7);
	free(h);

	/* 100..1 in any order: the p-th percentile is p (small values are exact). */
	for (i = 0; i < 100; i++)
		v[i] = 100 - i;
	h = hist_of(v, 100);
	assert_int_equal(bench_hist_percentile(h, 500), 50);
	assert_int_equal(bench_hist_percentile(h, 900), 90);
	assert_int_equal(bench_hist_percentile(h, 990), 99);
	assert_int_equal(bench_hist_percentile(h, 999), 100);
	assert_int_equal(bench_hist_percentile(h, 1000), 100);
	assert_int_equal(bench_hist_percentile(h, 0), 1);
	free(h);

	/* Nearest rank on ten values: p50 is the 5th, p90 the 9th, p99 the 10th. */
	h = hist_of(ten, 10);
	assert_int_equal(bench_hist_percentile(h, 500), 5);
	assert_int_equal(bench_hist_percentile(h, 510), 6);
	assert_int_equal(bench_hist_percentile(h, 900), 9);
	assert_int_equal(bench_hist_percentile(h, 990), 10);
	free(h);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The k-th smallest (1-based) of v, by sorting it. */
static uint64_t
nth_smallest(uint32_t *v, size_t n, size_t k)
{
	qsort(v, n, sizeof(*v), cmp_u32);
	return v[k - 1];
}

/* Within 1/256 of the true value: |got - want| * 256 <= want. */
static void
assert_near(uint64_t got, uint64_t want)
{
	uint64_t d = got > want ? got - want : want - got;

	if (d > want / 256)
		fail_msg("%llu is not within 1/256 of %llu", (unsigned long long)got,
		    (unsigned long long)want);
}

static void
test_percentile_precision(void **state)
{
	struct bench_hist *h = calloc(1, sizeof(*h));
	uint64_t v, x = 88172645463325252ull;
	unsigned i;

	(void)state;
	assert_non_null(h);
	/* The size is fixed, whatever the number of values: about 58 KiB. */
	assert_true(sizeof(*h) < 64 * 1024);

	/* One value at a time, from 1 ns to 2^63: each comes back within 1/256. */
	for (i = 0; i < 64 * 16; i++) {
		v = (1ull << (i / 16)) + (1ull << (i / 16)) / 16 * (i % 16);
		memset(h, 0, sizeof(*h));
		bench_hist_add(h, v);
		bench_hist_add(h, v + 1 > v ? v + 1 : v);
		bench_hist_add(h, UINT64_MAX);
		/* p33 is the first of three: v, within the precision. */
		assert_near(bench_hist_percentile(h, 333), v);
	}
	assert_int_equal(bench_hist_percentile(h, 1000), UINT64_MAX);

	/*
	 * A million random latencies between 1 us and 1 s, with an exact
	 * reference by counting: the nearest-rank percentiles within 1/256.
	 */
	memset(h, 0, sizeof(*h));
	{
		static uint32_t ref[1000000];
		uint64_t sorted_p50, sorted_p99, max = 0;

		for (i = 0; i < 1000000; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			ref[i] = (uint32_t)(1000 + x % 999999000);
			bench_hist_add(h, ref[i]);
			if (ref[i] > max)
				max = ref[i];
		}
		sorted_p50 = nth_smallest(ref, 1000000, 500000);
		sorted_p99 = nth_smallest(ref, 1000000, 990000);
		assert_near(bench_hist_percentile(h, 500), sorted_p50);
		assert_near(bench_hist_percentile(h, 990), sorted_p99);
		assert_int_equal(bench_hist_percentile(h, 1000), max);
		assert_int_equal(h->n, 1000000);
	}
	free(h);
}

/* Mean and standard deviation, exact whatever the order and size of the values. */
static void
test_mean_stddev(void **state)
{
	uint64_t v[8] = { 2, 4, 4, 4, 5, 5, 7, 9 }, big[3];
	struct bench_hist *h;

	(void)state;
	h = hist_of(NULL, 0);
	assert_true(bench_hist_mean(h) == 0 && bench_hist_stddev(h) == 0);
	assert_true(bench_hist_mean(NULL) == 0 && bench_hist_stddev(NULL) == 0);
	free(h);
	h = hist_of(v, 1);
	assert_true(bench_hist_mean(h) == 2 && bench_hist_stddev(h) == 0);
	free(h);
	/* Mean 5; squares of the differences add up to 32, over n - 1 = 7. */
	h = hist_of(v, 8);
	assert_true(bench_hist_mean(h) == 5);
	assert_true(fabs(bench_hist_stddev(h) - sqrt(32.0 / 7)) < 1e-12);
	free(h);
	/* Seconds in nanoseconds, close together: no precision lost to squares. */
	big[0] = 1000000000000ull;
	big[1] = 1000000000001ull;
	big[2] = 1000000000002ull;
	h = hist_of(big, 3);
	assert_true(bench_hist_mean(h) == 1000000000001.0);
	assert_true(fabs(bench_hist_stddev(h) - 1) < 1e-6);
	free(h);
}

/* Reports. */

static char *
report(const struct bench_result *r, bool json, const struct hc_opts *o,
    const char *error)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	if (json)
		bench_report_json(fp, r, error);
	else
		bench_report_table(fp, r, o, true);
	fclose(fp);
	return buf;
}

static void
test_report(void **state)
{
	uint64_t lat[4] = { 1000000, 2000000, 3000000, 40000000 };
	struct bench_hist *h = hist_of(lat, 4);
	struct bench_result r = {
		.requests = 12, .answered = 4, .wrong = 3, .timeouts = 2, .lost = 3,
		.refused = 2, .errors = 1, .seconds = 2.0, .latency = h,
	};
	struct hc_opts o = {
		.host = "127.0.0.1", .port = "9999", .concurrency = 8,
		.expect = "x", .timeout_ms = 5000,
	};
	char *s;

	(void)state;
	/*
	 * Percentiles are the middles of their buckets, within 1/256: p50
	 * is 2 ms as 2.003, p90 and p99 are 40 ms as 39.977; the maximum,
	 * the mean (11.5 ms) and the deviation (19.018 ms) are exact.
	 */
	s = report(&r, true, &o, NULL);
	assert_string_equal(s, "{\"requests\":12,\"answered\":4,\"wrong\":3,"
	    "\"timeouts\":2,\"lost\":3,\"refused\":2,\"errors\":1,\"seconds\":2.000000,"
	    "\"rate\":2.0,\"latency_ms\":{\"mean\":11.500,\"stddev\":19.018,"
	    "\"p50\":2.003,\"p90\":39.977,\"p99\":39.977,\"max\":40.000}}\n");
	free(s);

	s = report(&r, false, &o, NULL);
	assert_string_equal(s,
	    "tcp 127.0.0.1 port 9999: 12 requests in 2.000 s, 4 answered, 3 lost, "
	    "2 timed out, 2 refused, 1 errors, 3 wrong\n"
	    "  answered      4\n"
	    "  wrong         3 (replies other than --expect)\n"
	    "  timed out     2 (no reply within 5 s)\n"
	    "  lost          3 (no reply when the run ended)\n"
	    "  refused       2\n"
	    "  errors        1\n"
	    "  rate          2.0 answers/s\n"
	    "  concurrency   8, greeting read first\n"
	    "  latency ms    mean 11.500  stddev 19.018\n"
	    "                p50 2.003  p90 39.977  p99 39.977  max 40.000\n");
	free(s);

	/* Nothing happened: zeros, not a division by zero; and why, in JSON. */
	free(h);
	memset(&r, 0, sizeof(r));
	s = report(&r, true, &o, "Connection \"refused\"\n");
	assert_string_equal(s, "{\"error\":\"Connection \\\"refused\\\"\\u000a\","
	    "\"requests\":0,\"answered\":0,\"wrong\":0,\"timeouts\":0,\"lost\":0,"
	    "\"refused\":0,\"errors\":0,\"seconds\":0.000000,\"rate\":0.0,"
	    "\"latency_ms\":{\"mean\":0.000,\"stddev\":0.000,\"p50\":0.000,"
	    "\"p90\":0.000,\"p99\":0.000,\"max\":0.000}}\n");
	free(s);
	o.udp = true;
	o.expect = NULL;
	s = report(&r, false, &o, NULL);
	assert_non_null(strstr(s, "udp 127.0.0.1 port 9999: 0 requests in 0.000 s, "
	    "0 answered, 0 lost, 0 timed out\n"));
	assert_non_null(strstr(s, "  wrong         0 (no --expect)\n"));
	free(s);
}

static void
test_bench_progress(void **state)
{
	struct bench_result r = {
		.requests = 1006, .answered = 1000, .wrong = 1, .timeouts = 2,
		.refused = 3, .errors = 1,
	};
	char buf[128];

	(void)state;
	bench_progress_format(buf, sizeof(buf), &r, 2.0);
	assert_string_equal(buf, "2.0 s  1000 answered  500.0/s  2 timed out  "
	    "4 errors  1 wrong");
	memset(&r, 0, sizeof(r));
	bench_progress_format(buf, sizeof(buf), &r, 0);
	assert_string_equal(buf, "0.0 s  0 answered  0.0/s  0 timed out  0 errors  0 wrong");
}

static void
test_progress(void **state)
{
	char buf[160];

	(void)state;
	/* Half of 2 MiB in a second: 1 MiB/s, a second left. */
	http_progress_format(buf, sizeof(buf), 1024 * 1024, 2 * 1024 * 1024, 1.0);
	assert_string_equal(buf, "[##########          ]  50%  1.0 MiB of 2.0 MiB  "
	    "1.0 MiB/s  ETA 0:01");
	http_progress_format(buf, sizeof(buf), 0, 3 * 1024 * 1024, 0);
	assert_string_equal(buf, "[                    ]   0%  0 B of 3.0 MiB  0 B/s  "
	    "ETA -:--");
	http_progress_format(buf, sizeof(buf), 5000, 5000, 1.0);
	assert_string_equal(buf, "[####################] 100%  4.9 KiB of 4.9 KiB  "
	    "4.9 KiB/s  done");
	/* 1 KiB/s with 4 GiB to go: hours. */
	http_progress_format(buf, sizeof(buf), 1024, 4096ull * 1024 * 1024 + 1024, 1.0);
	assert_string_equal(buf, "[                    ]   0%  1.0 KiB of 4.0 GiB  "
	    "1.0 KiB/s  ETA 1165:05:04");
	/* Unknown length: bytes and rate. */
	http_progress_format(buf, sizeof(buf), 3 * 1024 * 1024, 0, 2.0);
	assert_string_equal(buf, "3.0 MiB  1.5 MiB/s");
}

/* --status: values of the daemon's status lines, quoted or not. */
static void
test_status_value(void **state)
{
	const char *line = "hellod: status version=0.1.0 pid=812 "
	    "config=\"/etc/my \\\"odd\\\" dir/h.ini\" loaded=-";
	char	 v[64];

	(void)state;
	assert_string_equal(status_value(line, "pid", v, sizeof(v)), "812");
	assert_string_equal(status_value(line, "config", v, sizeof(v)),
	    "/etc/my \"odd\" dir/h.ini");
	assert_string_equal(status_value(line, "loaded", v, sizeof(v)), "-");
	assert_string_equal(status_value(line, "version", v, 4), "0.1");
	assert_string_equal(status_value(line, "status", v, sizeof(v)), "");
	assert_string_equal(status_value(line, "id", v, sizeof(v)), "");
}

static void
test_status_not_a_status(void **state)
{
	char	 text[] = "error: unknown command \"status\"; try help\n\n";
	char	 none[] = "";

	(void)state;
	assert_int_equal(status_print(text), -1);
	assert_int_equal(status_print(none), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_percentile_precision),
		cmocka_unit_test(test_mean_stddev),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_bench_progress),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_status_value),
		cmocka_unit_test(test_status_not_a_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
