/* Unit tests: log_vis (network bytes made safe), the name tables, stderr while starting,
 * the journal's fields. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Point stderr at a fresh temporary file; returns the saved stderr. */
static int
stderr_to(char *path)
{
	int	 fd, saved;

	assert_true((fd = mkstemp(path)) != -1);
	assert_true((saved = dup(STDERR_FILENO)) != -1);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	return saved;
}

/* Put stderr back; returns what was written to the file, which is removed. */
static char *
stderr_back(int saved, const char *path)
{
	char	*text;
	FILE	*fp;
	long	 n;

	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	assert_non_null(fp = fopen(path, "r"));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	assert_non_null(text = calloc(1, (size_t)n + 1));
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	unlink(path);
	return text;
}

/*
 * Until start-up is over, warnings and errors go to stderr too (without
 * -e), unless stderr is the journal; afterwards only -e copies lines.
 * One test, in this order: log_started() cannot be undone.
 */
static void
test_stderr_while_starting(void **state)
{
	char	 path[] = "/tmp/test_log.XXXXXX", env[64], *text;
	struct stat st;
	int	 saved;

	(void)state;
	log_init(LOG_USER, LOG_DEBUG, false);
	unsetenv("JOURNAL_STREAM");
	saved = stderr_to(path);
	log_info("test_log: an info line");
	log_warnx("test_log: a warning");
	log_errx("test_log: an error");
	text = stderr_back(saved, path);
	assert_null(strstr(text, "an info line"));
	assert_non_null(strstr(text, "]: test_log: a warning\n"));
	assert_non_null(strstr(text, "]: test_log: an error\n"));
	free(text);

	/* stderr is the journal stream: the syslog line is enough there. */
	strcpy(path, "/tmp/test_log.XXXXXX");
	saved = stderr_to(path);
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	assert_true(log_stderr_is_journal());
	log_errx("test_log: an error for the journal");
	unsetenv("JOURNAL_STREAM");
	assert_false(log_stderr_is_journal());
	text = stderr_back(saved, path);
	assert_string_equal(text, "");
	free(text);

	strcpy(path, "/tmp/test_log.XXXXXX");
	saved = stderr_to(path);
	log_started();
	log_errx("test_log: an error after the start");
	text = stderr_back(saved, path);
	assert_string_equal(text, "");
	free(text);

	/* -e copies every line, started or not. */
	strcpy(path, "/tmp/test_log.XXXXXX");
	saved = stderr_to(path);
	log_init(LOG_USER, LOG_DEBUG, true);
	log_info("test_log: an info line with -e");
	text = stderr_back(saved, path);
	assert_non_null(strstr(text, "]: test_log: an info line with -e\n"));
	free(text);
}

/* Field i of f as a string. */
static const char *
field(const struct log_fields *f, size_t i)
{
	static char	 buf[sizeof(f->buf)];

	assert_true(i < f->n);
	memcpy(buf, f->iov[i].iov_base, f->iov[i].iov_len);
	buf[f->iov[i].iov_len] = '\0';
	return buf;
}

/* An end line: the syslog fields, then the service, the event and a field per pair. */
static void
test_fields_end_line(void **state)
{
	static struct log_fields f;
	const char	*line = "echo: end peer=127.0.0.1:4242 reason=client_close "
	    "duration=0.250 in=5 out=7 detail=\"two words\"";

	(void)state;
	log_init(LOG_DAEMON, LOG_INFO, false);
	log_fields(&f, LOG_DAEMON | LOG_INFO, 4321, line);
	assert_int_equal(f.n, 13);
	assert_string_equal(field(&f, 0), "MESSAGE=echo: end peer=127.0.0.1:4242 "
	    "reason=client_close duration=0.250 in=5 out=7 detail=\"two words\"");
	assert_string_equal(field(&f, 1), "PRIORITY=6");
	assert_string_equal(field(&f, 2), "SYSLOG_FACILITY=3");
	assert_string_equal(field(&f, 3), "SYSLOG_IDENTIFIER=hellod");
	assert_string_equal(field(&f, 4), "SYSLOG_PID=4321");
	assert_string_equal(field(&f, 5), "HELLOD_SERVICE=echo");
	assert_string_equal(field(&f, 6), "HELLOD_EVENT=end");
	assert_string_equal(field(&f, 7), "HELLOD_PEER=127.0.0.1:4242");
	assert_string_equal(field(&f, 8), "HELLOD_REASON=client_close");
	assert_string_equal(field(&f, 9), "HELLOD_DURATION_USEC=250000");
	assert_string_equal(field(&f, 10), "HELLOD_BYTES_IN=5");
	assert_string_equal(field(&f, 11), "HELLOD_BYTES_OUT=7");
	assert_string_equal(field(&f, 12), "HELLOD_DETAIL=two words");
	/* Used again, it starts afresh. */
	log_fields(&f, LOG_DAEMON | LOG_ERR, 1, "hellod: started services=1");
	assert_int_equal(f.n, 7);
	assert_string_equal(field(&f, 1), "PRIORITY=3");
	assert_string_equal(field(&f, 5), "HELLOD_EVENT=started");
	assert_string_equal(field(&f, 6), "HELLOD_SERVICES=1");
}

/* A configuration error is a MESSAGE alone, with the syslog fields. */
static void
test_fields_other_form(void **state)
{
	static struct log_fields f;

	(void)state;
	log_fields(&f, LOG_ERR, 1, "/etc/hellod/hellod.ini:3: port: not a number");
	assert_int_equal(f.n, 5);
	assert_string_equal(field(&f, 0),
	    "MESSAGE=/etc/hellod/hellod.ini:3: port: not a number");
}

/* The longest line with the most pairs: LOG_FIELDS fields, each whole, none beyond. */
static void
test_fields_longest(void **state)
{
	static struct log_fields f;
	char		 line[LOG_LINE_MAX], want[LOG_LINE_MAX];
	size_t		 used, i;

	(void)state;
	used = (size_t)snprintf(line, sizeof(line), "svc: event");
	for (i = 0; used + 12 < sizeof(line); i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used,
		    " k%03zu=%s", i % 1000, "vvv");
	memset(line + used, 'x', sizeof(line) - used - 1);
	line[sizeof(line) - 1] = '\0';
	log_fields(&f, LOG_INFO, 1, line);
	assert_int_equal(f.n, LOG_FIELDS);
	assert_int_equal(f.iov[0].iov_len, strlen("MESSAGE=") + strlen(line));
	for (i = 7; i < LOG_FIELDS; i++) {
		snprintf(want, sizeof(want), "HELLOD_K%03zu=vvv", i - 7);
		assert_string_equal(field(&f, i), want);
	}
	assert_true(f.used <= sizeof(f.buf));
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
		cmocka_unit_test(test_stderr_while_starting),
		cmocka_unit_test(test_fields_end_line),
		cmocka_unit_test(test_fields_other_form),
		cmocka_unit_test(test_fields_longest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
