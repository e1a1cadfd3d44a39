/* Unit tests: log_vis (network bytes made safe for a log line) and the name tables. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "log.h"

static void
test_vis_plain(void **state)
{
	char	 buf[64];

	(void)state;
	assert_string_equal(log_vis(buf, sizeof(buf), "Michael", 7), "Michael");
}

static void
test_vis_controls(void **state)
{
	char	 buf[64];

	(void)state;
	/* A forged log line: newline, carriage return, escape, NUL, tab. */
	assert_string_equal(log_vis(buf, sizeof(buf), "a\nb\rc\033d\0e\tf", 11),
	    "a\\nb\\rc\\033d\\0e\\tf");
	assert_string_equal(log_vis(buf, sizeof(buf), "back\\slash", 10),
	    "back\\\\slash");
	/* A quote cannot end a quoted field of a debug line early. */
	assert_string_equal(log_vis(buf, sizeof(buf), "a\" x=\"1", 7),
	    "a\\\" x=\\\"1");
}

static void
test_vis_high_bytes(void **state)
{
	char	 buf[64];

	(void)state;
	assert_string_equal(log_vis(buf, sizeof(buf), "\xe4\xbd\xa0", 3),
	    "\\344\\275\\240");
	assert_null(memchr(buf, '\n', strlen(buf)));
}

static void
test_vis_cut_by_input(void **state)
{
	char	 in[LOG_VIS_MAX + 50], buf[LOG_VIS_MAX * 4 + 4];

	(void)state;
	memset(in, 'x', sizeof(in));
	log_vis(buf, sizeof(buf), in, sizeof(in));
	assert_int_equal(strlen(buf), LOG_VIS_MAX + 3);
	assert_string_equal(buf + LOG_VIS_MAX, "...");
}

static void
test_vis_cut_by_output(void **state)
{
	char	 buf[12];

	(void)state;
	/* Every byte needs four characters: the output cannot hold them all. */
	log_vis(buf, sizeof(buf), "\001\002\003\004\005", 5);
	assert_string_equal(buf, "\\001\\002...");
	log_vis(buf, sizeof(buf), "abcdefghijklmnop", 16);
	assert_string_equal(buf, "abcdefgh...");
}

static void
test_vis_empty(void **state)
{
	char	 buf[8] = "junk";

	(void)state;
	assert_string_equal(log_vis(buf, sizeof(buf), "", 0), "");
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(log_facility_from_name("daemon"), LOG_DAEMON);
	assert_int_equal(log_facility_from_name("local7"), LOG_LOCAL7);
	assert_int_equal(log_facility_from_name("nosuch"), -1);
	assert_int_equal(log_level_from_name("debug"), LOG_DEBUG);
	assert_int_equal(log_level_from_name("warning"), LOG_WARNING);
	assert_int_equal(log_level_from_name("err"), LOG_ERR);
	assert_int_equal(log_level_from_name("loud"), -1);
}

static void
test_enabled(void **state)
{
	(void)state;
	log_init(LOG_USER, LOG_NOTICE, false);
	assert_true(log_enabled(LOG_ERR));
	assert_true(log_enabled(LOG_NOTICE));
	assert_false(log_enabled(LOG_INFO));
	assert_false(log_enabled(LOG_DEBUG));
	log_setup(LOG_USER, LOG_DEBUG, false);
	assert_true(log_enabled(LOG_DEBUG));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vis_plain),
		cmocka_unit_test(test_vis_controls),
		cmocka_unit_test(test_vis_high_bytes),
		cmocka_unit_test(test_vis_cut_by_input),
		cmocka_unit_test(test_vis_cut_by_output),
		cmocka_unit_test(test_vis_empty),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_enabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
