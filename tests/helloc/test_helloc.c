/* Unit tests of helloc's pure parts: percentiles, reports, the progress bar of --get. */
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

/* Reports. */

static char *
report(const struct bench_result *r, bool json, const struct hc_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	if (json)
		bench_report_json(fp, r);
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
		.transactions = 4, .errors = 1, .timeouts = 2, .wrong = 3,
		.seconds = 2.0, .latency = h,
	};
	struct hc_opts o = {
		.host = "127.0.0.1", .port = "9999", .concurrency = 8,
		.expect = "x",
	};
	char *s;

	(void)state;
	/*
	 * Percentiles are the middles of their buckets, within 1/256: p50
	 * is 2 ms as 2.003, p90 and p99 are 40 ms as 39.977; the maximum
	 * is exact.
	 */
	s = report(&r, true, &o);
	assert_string_equal(s, "{\"transactions\":4,\"errors\":1,\"timeouts\":2,"
	    "\"wrong\":3,\"seconds\":2.000000,\"rate\":2.0,\"latency_ms\":{\"p50\":2.003,"
	    "\"p90\":39.977,\"p99\":39.977,\"max\":40.000}}\n");
	free(s);

	s = report(&r, false, &o);
	assert_non_null(strstr(s, "target        tcp 127.0.0.1 port 9999, greeting read first\n"));
	assert_non_null(strstr(s, "concurrency   8\n"));
	assert_non_null(strstr(s, "transactions  4\n"));
	assert_non_null(strstr(s, "errors        1\n"));
	assert_non_null(strstr(s, "timeouts      2\n"));
	assert_non_null(strstr(s, "wrong         3\n"));
	assert_non_null(strstr(s, "rate          2.0 per second\n"));
	assert_non_null(strstr(s, "latency ms    p50 2.003  p90 39.977  p99 39.977  max 40.000\n"));
	free(s);

	/* Nothing happened: zeros, not a division by zero. */
	free(h);
	memset(&r, 0, sizeof(r));
	s = report(&r, true, &o);
	assert_string_equal(s, "{\"transactions\":0,\"errors\":0,\"timeouts\":0,"
	    "\"wrong\":0,\"seconds\":0.000000,\"rate\":0.0,\"latency_ms\":{\"p50\":0.000,"
	    "\"p90\":0.000,\"p99\":0.000,\"max\":0.000}}\n");
	free(s);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_percentile_precision),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_progress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
