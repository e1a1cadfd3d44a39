/* Unit tests of the configuration: parsing, validation and every error message. */
#include <sys/inotify.h>
#include <malloc.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "addr.h"
#include "config.h"
#include "proxy.h"
#include "handler.h"

#define MAX_ERRORS	64

struct errors {
	char		*msg[MAX_ERRORS];
	size_t		 n;
};

static void
collect(void *arg, const char *msg)
{
	struct errors *e = arg;

	assert_true(e->n < MAX_ERRORS);
	e->msg[e->n] = strdup(msg);
	assert_non_null(e->msg[e->n]);
	e->n++;
}

static void
errors_free(struct errors *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->msg[i]);
	e->n = 0;
}

/* Load text that must be valid. */
static struct config *
load_ok(const char *text)
{
	struct errors e = { .n = 0 };
	struct config *conf;
	unsigned n = 99;

	conf = config_load_string("t.ini", text, collect, &e, &n);
	if (e.n > 0)
		print_error("unexpected error: %s\n", e.msg[0]);
	assert_int_equal(e.n, 0);
	assert_int_equal(n, 0);
	assert_non_null(conf);
	return conf;
}

/* The value in force of svc's key is want. */
static void
value_is(const struct service *svc, const char *key, const char *want)
{
	char	 buf[1024];

	assert_int_equal(config_value(svc, key, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

/*
 * The quotes a qotd service serves, as loaded: asked until each has come
 * (the pick is random; 400 asks miss one of a few quotes with a
 * probability below 1e-60), their CRLFs made "\n" again.  Returns how
 * many distinct ones came.
 */
#define QUOTES_MAX	8
static size_t
served_quotes(const struct service *svc, char quotes[QUOTES_MAX][600])
{
	const struct handler *h = handler_find("qotd");
	unsigned char out[600];
	char	 q[600];
	size_t	 n = 0, i, j, k;
	ssize_t	 len;

	for (i = 0; i < 400; i++) {
		len = h->udp(svc, (const unsigned char *)"", 0, out, 512);
		assert_true(len >= 2 && out[len - 2] == '\r' && out[len - 1] == '\n');
		for (j = k = 0; j < (size_t)len - 2; j++)
			if (out[j] != '\r')
				q[k++] = (char)out[j];
		q[k] = '\0';
		for (j = 0; j < n && strcmp(quotes[j], q) != 0; j++)
			;
		if (j == n) {
			assert_true(n < QUOTES_MAX);
			strlcpy(quotes[n++], q, 600);
		}
	}
	return n;
}

/* True when quote is one of the n in quotes. */
static bool
has_quote(char quotes[QUOTES_MAX][600], size_t n, const char *quote)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(quotes[i], quote) == 0)
			return true;
	return false;
}

/* Compare the errors of a failed load with want, in order. */
/* Load a file that must be valid. */
static struct config *
load_file_ok(const char *path)
{
	struct errors e = { .n = 0 };
	struct config *conf;

	conf = config_load(path, collect, &e, NULL);
	if (e.n > 0)
		print_error("unexpected error: %s\n", e.msg[0]);
	assert_int_equal(e.n, 0);
	assert_non_null(conf);
	return conf;
}

static void
check_errors(struct config *conf, unsigned n, struct errors *e, const char *const *want)
{
	size_t i, nwant;
	bool ok;

	for (nwant = 0; want[nwant] != NULL; nwant++)
		;
	ok = e->n == nwant;
	for (i = 0; ok && i < nwant; i++)
		ok = strcmp(e->msg[i], want[i]) == 0;
	for (i = 0; !ok && i < e->n; i++)
		print_message("got: %s\n", e->msg[i]);
	assert_null(conf);
	assert_int_equal(n, e->n);
	assert_int_equal(e->n, nwant);
	for (i = 0; i < nwant; i++)
		assert_string_equal(e->msg[i], want[i]);
	errors_free(e);
}

static void
expect_errors(const char *text, const char *const *want)
{
	struct errors e = { .n = 0 };
	struct config *conf;
	unsigned n = 0;

	conf = config_load_string("t.ini", text, collect, &e, &n);
	check_errors(conf, n, &e, want);
}

static void
expect_file_errors(const char *path, const char *const *want)
{
	struct errors e = { .n = 0 };
	struct config *conf;
	unsigned n = 0;

	conf = config_load(path, collect, &e, &n);
	check_errors(conf, n, &e, want);
}

#define EXPECT(text, ...) do {						\
	const char *const want_[] = { __VA_ARGS__, NULL };		\
	expect_errors((text), want_);					\
} while (0)

/* A valid service body to build test configs on. */
#define ECHO_SVC	"protocol = tcp\nport = 7007\nhandler = echo\n"

/* Temporary directories and files. */

static char *
tmpdir_make(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[PATH_MAX], *d;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpl, sizeof(tmpl), "%s/hellod-test-config.XXXXXX", base);
	d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
}

static void
tmpdir_remove(char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

/* Good configurations. */

static void
test_every_key(void **state)
{
	struct config *conf;
	struct service *svc;
	char buf[ADDR_STRLEN];

	(void)state;
	conf = load_ok(
	    "; every key of hellod.ini\n"
	    "# with both comment styles\n"
	    "[global]\n"
	    "user = root\n"
	    "group = root\n"
	    "pidfile = /run/test.pid\n"
	    "facility = local0\n"
	    "log_level = debug\n"
	    "max_children = 42\n"
	    "shutdown_grace = 1500ms\n"
	    "control = /run/hellod/control\n"
	    "log_peer = hash\n"
	    "\n"
	    "[hello]\n"
	    "protocol = udp tcp\n"
	    "port = 9999\n"
	    "bind = 127.0.0.1 [::1]\n"
	    "handler = hello\n"
	    "enabled = yes\n"
	    "user = nobody\n"
	    "group = nogroup\n"
	    "greeting = Hi there\n"
	    "reply = 100%% %s!\n"
	    "quit = bye\n"
	    "max_line = 80\n"
	    "idle_timeout = 5m\n"
	    "log_connections = off\n"
	    "log_peer = prefix\n"
	    "[banner]\n"
	    "protocol = tcp\n"
	    "port = 9998\n"
	    "handler = banner\n"
	    "message = Go away ; an inline comment\n"
	    "enabled = false\n");
	assert_string_equal(conf->global.user, "root");
	assert_string_equal(conf->global.group, "root");
	assert_string_equal(conf->global.pidfile, "/run/test.pid");
	assert_int_equal(conf->global.facility, LOG_LOCAL0);
	assert_int_equal(conf->global.log_level, LOG_DEBUG);
	assert_int_equal(conf->global.max_children, 42);
	assert_int_equal(conf->global.shutdown_grace_ms, 1500);
	assert_null(conf->global.include);
	assert_string_equal(conf->global.control, "/run/hellod/control");
	assert_int_equal(conf->global.log_peer, LOG_PEER_HASH);
	assert_int_equal(conf->nservices, 2);
	assert_int_equal(conf->nfiles, 1);
	assert_string_equal(conf->files[0], "t.ini");

	svc = config_find(conf, "hello");
	assert_ptr_equal(svc, &conf->services[0]);
	assert_string_equal(svc->name, "hello");
	assert_string_equal(svc->file, "t.ini");
	assert_int_equal(svc->line, 14);
	assert_int_equal(svc->protocols, PROTO_TCP | PROTO_UDP);
	assert_int_equal(svc->port, 9999);
	assert_int_equal(svc->nbinds, 2);
	assert_string_equal(addr_format((struct sockaddr *)&svc->binds[0].ss, buf,
	    sizeof(buf)), "127.0.0.1:9999");
	assert_string_equal(addr_format((struct sockaddr *)&svc->binds[1].ss, buf,
	    sizeof(buf)), "[::1]:9999");
	assert_ptr_equal(svc->handler, handler_find("hello"));
	assert_true(svc->enabled);
	assert_string_equal(svc->user, "nobody");
	assert_string_equal(svc->group, "nogroup");
	value_is(svc, "greeting", "Hi there");
	value_is(svc, "reply", "100%% %s!");
	value_is(svc, "quit", "bye");
	value_is(svc, "max_line", "80");
	assert_int_equal(svc->idle_timeout_ms, 300000);
	assert_false(svc->log_connections);
	assert_int_equal(svc->log_peer, LOG_PEER_PREFIX);
	assert_null(svc->state);

	svc = config_find(conf, "banner");
	assert_non_null(svc);
	assert_int_equal(svc->line, 29);
	assert_ptr_equal(svc->handler, handler_find("banner"));
	value_is(svc, "message", "Go away");
	assert_false(svc->enabled);
	/* Inherited from [global]. */
	assert_string_equal(svc->user, "root");
	assert_string_equal(svc->group, "root");
	assert_int_equal(svc->log_peer, LOG_PEER_HASH);
	assert_null(config_find(conf, "nope"));
	config_free(conf);
}

static void
test_defaults(void **state)
{
	struct config *conf;
	struct service *svc;
	char	 buf[64];

	(void)state;
	conf = load_ok("[svc]\nprotocol = tcp\nport = 9999\nhandler = hello\n");
	assert_null(conf->global.user);
	assert_null(conf->global.group);
	assert_null(conf->global.pidfile);
	assert_null(conf->global.control);
	assert_null(conf->global.include);
	config_free(conf);
	/* "none", the documented default, written out: no control socket. */
	conf = load_ok("[global]\ncontrol = none\n"
	    "[svc]\nprotocol = tcp\nport = 9999\nhandler = hello\n");
	assert_null(conf->global.control);
	config_free(conf);
	conf = load_ok("[svc]\nprotocol = tcp\nport = 9999\nhandler = hello\n");
	assert_int_equal(conf->global.facility, LOG_DAEMON);
	assert_int_equal(conf->global.log_level, LOG_INFO);
	assert_int_equal(conf->global.max_children, 512);
	assert_int_equal(conf->global.shutdown_grace_ms, 5000);
	assert_int_equal(conf->global.log_peer, LOG_PEER_FULL);
	svc = &conf->services[0];
	assert_int_equal(svc->nbinds, 0);
	assert_null(svc->binds);
	assert_true(svc->enabled);
	assert_null(svc->user);
	assert_null(svc->group);
	value_is(svc, "greeting", "Welcome!");
	value_is(svc, "reply", "Hello, %s!");
	value_is(svc, "quit", "exit");
	/* A hello service has no banner message, nor a qotd file. */
	assert_int_equal(config_value(svc, "message", buf, sizeof(buf)), -1);
	assert_int_equal(config_value(svc, "file", buf, sizeof(buf)), -1);
	value_is(svc, "max_line", "1024");
	assert_int_equal(svc->idle_timeout_ms, 60000);
	assert_true(svc->log_connections);
	assert_int_equal(svc->log_peer, LOG_PEER_FULL);
	config_free(conf);
	conf = load_ok("[svc]\nprotocol = tcp\nport = 9999\nhandler = banner\n");
	value_is(&conf->services[0], "message", "Welcome to hellod!");
	config_free(conf);
}

static void
test_indented_and_crlf(void **state)
{
	struct config *conf;
	struct service *svc;

	(void)state;
	conf = load_ok(
	    "\xef\xbb\xbf[global]\r\n"
	    "\tmax_children = 7\r\n"
	    "  [svc]  ; a comment after the header\r\n"
	    "    protocol = tcp\r\n"
	    "port = 9999\r\n"
	    "handler = hello\r\n"
	    "greeting =\r\n"
	    "reply = <%s>\r\n"
	    "   ; an indented comment\n"
	    "   # and another\n"
	    "quit = q");
	assert_int_equal(conf->global.max_children, 7);
	svc = &conf->services[0];
	assert_int_equal(svc->line, 3);
	assert_int_equal(svc->port, 9999);
	/* An empty greeting means no greeting line. */
	value_is(svc, "greeting", "");
	value_is(svc, "reply", "<%s>");
	value_is(svc, "quit", "q");
	config_free(conf);
}

/*
 * inih's multi-line values: an indented line after a key continues its
 * value.  A list takes the lines as more items, message as more lines of
 * text, other keys join them with a space; comments in between are
 * skipped, and inline comments dropped.  An indented line that reads as
 * another key is an error that says what happened.
 */
static void
test_continuation(void **state)
{
	struct config *conf;
	struct service *svc;
	char	 buf[ADDR_STRLEN];

	(void)state;
	conf = load_ok(
	    "[b]\nprotocol = tcp udp\nport = 9999\nhandler = banner\n"
	    "bind = 127.0.0.1\n"
	    "  ::1   ; loopback six\n"
	    "; a comment between\n"
	    "\t127.0.0.2 127.0.0.3\n"
	    "message = Welcome,\n"
	    "  friend.\n"
	    "    Be nice.\n"
	    "[h]\nprotocol = tcp\nport = 9998\nhandler = hello\n"
	    "greeting = Hello\n"
	    "   there\n");
	svc = &conf->services[0];
	assert_int_equal(svc->nbinds, 4);
	assert_string_equal(addr_format_host((struct sockaddr *)&svc->binds[1].ss,
	    buf, sizeof(buf)), "::1");
	assert_string_equal(addr_format_host((struct sockaddr *)&svc->binds[3].ss,
	    buf, sizeof(buf)), "127.0.0.3");
	value_is(svc, "message", "Welcome,\nfriend.\nBe nice.");
	value_is(&conf->services[1], "greeting", "Hello there");
	config_free(conf);

	EXPECT("[h]\nprotocol = tcp\n  port = 9999\nhandler = hello\n",
	    "t.ini:1: [h] missing required key \"port\"",
	    "t.ini:3: indented line continues the value of \"protocol\" (line 2): "
	    "a key starts at the beginning of its line");
	/* The key above may be unknown: its name is escaped there too (fuzzing). */
	EXPECT("[global]\nmax_\bx = 1\n  port = 9999\n",
	    "t.ini:2: [global] unknown key \"max_\\bx\"",
	    "t.ini:3: indented line continues the value of \"max_\\bx\" (line 2): "
	    "a key starts at the beginning of its line");
}

static void
test_empty_config(void **state)
{
	struct config *conf;

	(void)state;
	conf = load_ok("");
	assert_int_equal(conf->nservices, 0);
	config_free(conf);
	conf = load_ok("; nothing\n[global]\n");
	assert_int_equal(conf->nservices, 0);
	config_free(conf);
}

static void
test_port_name(void **state)
{
	struct config *conf;

	(void)state;
	conf = load_ok("[e]\nprotocol = tcp udp\nport = echo\nhandler = echo\n");
	assert_int_equal(conf->services[0].port, 7);
	config_free(conf);
}

static void
test_summary(void **state)
{
	struct config *conf;
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	(void)state;
	conf = load_ok(
	    "[hello]\nprotocol = tcp udp\nport = 9999\nbind = 127.0.0.1 ::1\nhandler = hello\n"
	    "[echo]\nprotocol = tcp\nport = 7\nhandler = echo\nenabled = no\n"
	    "[time]\nprotocol = udp\nport = 37\nhandler = time\n");
	fp = open_memstream(&text, &len);
	assert_non_null(fp);
	config_summary(conf, fp);
	assert_int_equal(fclose(fp), 0);
	assert_string_equal(text,
	    "hello    tcp,udp  127.0.0.1:9999 [::1]:9999  handler=hello\n"
	    "echo     tcp      *:7                        handler=echo (disabled)\n"
	    "time     udp      *:37                       handler=time\n");
	free(text);
	config_free(conf);
}

/* Value parsers. */

static void
test_bools(void **state)
{
	static const struct { const char *s; bool v; } good[] = {
		{ "yes", true }, { "no", false }, { "true", true }, { "false", false },
		{ "on", true }, { "off", false }, { "1", true }, { "0", false },
		{ "YES", true }, { "Off", false },
	};
	static const char *const bad[] = { "", "y", "2", "yess", "nope", " yes", "on " };
	const char *err;
	size_t i;
	bool b;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		b = !good[i].v;
		assert_int_equal(config_parse_bool(good[i].s, &b, &err), 0);
		assert_int_equal(b, good[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(config_parse_bool(bad[i], &b, &err), -1);
		assert_string_equal(err, "must be yes/no, true/false, on/off or 1/0");
	}
}

static void
test_durations(void **state)
{
	static const struct { const char *s; unsigned ms; } good[] = {
		{ "0", 0 }, { "30", 30000 }, { "30s", 30000 }, { "500ms", 500 },
		{ "5m", 300000 }, { "1h", 3600000 }, { "0ms", 0 }, { "24h", 86400000 },
		{ "4294967295ms", 4294967295U },
	};
	static const char *const bad[] = {
		"", "s", "-1", "1.5s", "30 s", "30S", "5d", "1hh", " 30", "30x", "ms",
	};
	const char *err;
	unsigned ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 1;
		assert_int_equal(config_parse_duration(good[i].s, &ms, &err), 0);
		assert_int_equal(ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(config_parse_duration(bad[i], &ms, &err), -1);
		assert_string_equal(err, "must be a duration such as 30, 30s, 500ms, 5m or 1h");
	}
	assert_int_equal(config_parse_duration("4294967296ms", &ms, &err), -1);
	assert_string_equal(err, "too large");
	assert_int_equal(config_parse_duration("2000h", &ms, &err), -1);
	assert_string_equal(err, "too large");
	assert_int_equal(config_parse_duration("99999999999999999999", &ms, &err), -1);
	assert_string_equal(err, "too large");
}

/* Syntax errors. */

static void
test_too_long_line(void **state)
{
	char text[1024], longval[400];

	(void)state;
	/* 197 bytes fit: "greeting = " and 186 more. */
	memset(longval, 'x', 186);
	longval[186] = '\0';
	snprintf(text, sizeof(text), "[h]\nprotocol = tcp\nport = 9\nhandler = hello\n"
	    "greeting = %s\n", longval);
	config_free(load_ok(text));
	memset(longval, 'x', 187);
	longval[187] = '\0';
	snprintf(text, sizeof(text), "[h]\nprotocol = tcp\ngreeting = %s\nport = 9\n"
	    "handler = hello\n", longval);
	EXPECT(text, "t.ini:3: line too long (more than 197 bytes): continue a long "
	    "value on the next lines, each indented");
	/* The rest of a long line is not read as a line of its own. */
	memset(longval, 'y', 399);
	longval[399] = '\0';
	snprintf(text, sizeof(text), "[h]\n; %s=\nprotocol = tcp\nport = 9\nhandler = hello\n"
	    "bogus = 1\n", longval);
	EXPECT(text, "t.ini:2: line too long (more than 197 bytes): continue a long "
	    "value on the next lines, each indented",
	    "t.ini:6: [h] unknown key \"bogus\"");
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	EXPECT("[h]\n" ECHO_SVC "junk\n",
	    "t.ini:5: syntax error: expected \"key = value\" or \"[section]\"");
	EXPECT("[h]\n" ECHO_SVC "enabled: no\n",
	    "t.ini:5: syntax error: expected \"key = value\" or \"[section]\"");
	EXPECT("[h]\n" ECHO_SVC "note ; = 1\n",
	    "t.ini:5: syntax error: expected \"key = value\" or \"[section]\"");
	EXPECT("[h]\n" ECHO_SVC "= 1\n",
	    "t.ini:5: syntax error: missing key name before \"=\"");
	/* Indented, it continues the value above (inih's multi-line values). */
	EXPECT("[h]\n" ECHO_SVC " = 1\n",
	    "t.ini:4: [h] handler: invalid value \"echo = 1\" (must be hello, banner, "
	    "echo, discard, chargen, daytime, time, qotd or exec)");
	EXPECT("[h\n" ECHO_SVC,
	    "t.ini:1: syntax error: section header without \"]\"");
	EXPECT("[h] x\n" ECHO_SVC,
	    "t.ini:1: syntax error: unexpected text after \"]\"");
	EXPECT("port = 1\n[h]\n" ECHO_SVC,
	    "t.ini:1: key \"port\" before any [section]");
	/* Every syntax error is reported, not the first only. */
	EXPECT("[h]\nfoo\n" ECHO_SVC "bar\n[i\nbaz\n",
	    "t.ini:2: syntax error: expected \"key = value\" or \"[section]\"",
	    "t.ini:6: syntax error: expected \"key = value\" or \"[section]\"",
	    "t.ini:7: syntax error: section header without \"]\"",
	    "t.ini:8: syntax error: expected \"key = value\" or \"[section]\"");
}

static void
test_nul_byte(void **state)
{
	char *dir = tmpdir_make(), path[PATH_MAX], want[2][PATH_MAX + 64];
	const char *wants[] = { want[0], want[1], NULL };
	static const char text[] = "[h]\nprotocol = tcp\0x\nport = 9\nhandler = echo\n";
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/nul.ini", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, sizeof(text) - 1, fp), sizeof(text) - 1);
	assert_int_equal(fclose(fp), 0);
	/* The line is dropped whole, so its key is missing too. */
	snprintf(want[0], sizeof(want[0]), "%s:1: [h] missing required key \"protocol\"", path);
	snprintf(want[1], sizeof(want[1]), "%s:2: syntax error: NUL byte", path);
	expect_file_errors(path, wants);
	tmpdir_remove(dir);
}

static void
test_missing_file(void **state)
{
	const char *wants[] = { "no/such/dir/x.ini: cannot read: No such file or directory", NULL };

	(void)state;
	expect_file_errors("no/such/dir/x.ini", wants);
}

/* The main file too must be a regular file: -t on a FIFO must not hang. */
static void
test_main_not_regular(void **state)
{
	char *dir = tmpdir_make(), path[PATH_MAX], want[PATH_MAX + 64];
	const char *wants[] = { want, NULL };
	const char *devs[] = { "/dev/null: cannot read: not a regular file", NULL };

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo.ini", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(want, sizeof(want), "%s: cannot read: not a regular file", path);
	alarm(10);
	expect_file_errors(path, wants);
	alarm(0);
	expect_file_errors("/dev/null", devs);
	snprintf(want, sizeof(want), "%s: cannot read: not a regular file", dir);
	expect_file_errors(dir, wants);
	tmpdir_remove(dir);
}

/* Sections and keys. */

static void
test_sections(void **state)
{
	(void)state;
	EXPECT("[h]\n" ECHO_SVC "[h]\nport = 8\n",
	    "t.ini:5: duplicate section [h] (first at t.ini:1)");
	EXPECT("[global]\n[global]\nmax_children = 1\n",
	    "t.ini:2: duplicate section [global] (first at t.ini:1)");
	/* Values of a duplicate section are still checked. */
	EXPECT("[h]\n" ECHO_SVC "[h]\nport = 99999\n",
	    "t.ini:5: duplicate section [h] (first at t.ini:1)",
	    "t.ini:6: [h] port: invalid value \"99999\" (must be 1-65535 or a service name)");
	EXPECT("[my svc]\n" ECHO_SVC,
	    "t.ini:1: invalid section name [my svc] (1-32 letters, digits, \"_\", \".\" or \"-\")");
	EXPECT("[abcdefghijklmnopqrstuvwxyz1234567]\n" ECHO_SVC,
	    "t.ini:1: invalid section name [abcdefghijklmnopqrstuvwxyz1234567] "
	    "(1-32 letters, digits, \"_\", \".\" or \"-\")");
	EXPECT("[]\n" ECHO_SVC,
	    "t.ini:1: invalid section name [] (1-32 letters, digits, \"_\", \".\" or \"-\")");
	EXPECT("[a\"b]\n" ECHO_SVC,
	    "t.ini:1: invalid section name [a\\\"b] (1-32 letters, digits, \"_\", \".\" or \"-\")");
	/* 32 characters and every allowed one are fine. */
	config_free(load_ok("[abcdefghijklmnopqrstuvwxyz_.-09A]\n" ECHO_SVC));
	/* A section without keys still exists: its required keys are missing. */
	EXPECT("[h]\n" ECHO_SVC "\n[web]\n\n",
	    "t.ini:6: [web] missing required key \"protocol\"",
	    "t.ini:6: [web] missing required key \"port\"",
	    "t.ini:6: [web] missing required key \"handler\"");
}

static void
test_keys(void **state)
{
	(void)state;
	EXPECT("[global]\nmax_chldren = 3\n",
	    "t.ini:2: [global] unknown key \"max_chldren\"");
	EXPECT("[h]\n" ECHO_SVC "Port = 7\n",
	    "t.ini:5: [h] unknown key \"Port\"");
	EXPECT("[global]\nport = 7\n",
	    "t.ini:2: [global] port: only valid in a service section");
	EXPECT("[h]\n" ECHO_SVC "max_children = 3\n",
	    "t.ini:5: [h] max_children: only valid in [global]");
	EXPECT("[hello]\nprotocol = tcp\nport = 9999\nhandler = echo\n\nport = 9998\n",
	    "t.ini:6: [hello] duplicate key \"port\" (first at line 3)");
	EXPECT("[global]\nlog_peer = none\nlog_peer = hash\n",
	    "t.ini:3: [global] duplicate key \"log_peer\" (first at line 2)");
}

/* Values only this build or only one handler takes. */
static void
test_build_and_handler_keys(void **state)
{
	struct config *conf;

	(void)state;
	EXPECT("[global]\nlog = stdout\n[h]\n" ECHO_SVC,
	    "t.ini:2: [global] log: invalid value \"stdout\" (must be syslog or "
	    "journal)");
#ifdef HAVE_SYSTEMD
	conf = load_ok("[global]\nlog = journal\n[h]\n" ECHO_SVC);
	assert_true(conf->global.journal);
	config_free(conf);
#else
	(void)conf;
	EXPECT("[global]\nlog = journal\n[h]\n" ECHO_SVC,
	    "t.ini:2: [global] log: invalid value \"journal\" (needs a hellod "
	    "built with libsystemd (configure without --without-systemd))");
#endif
	/* exec's own keys, under another handler. */
	EXPECT("[web]\n" ECHO_SVC "exec = /bin/cat\n",
	    "t.ini:5: [web] exec: only valid with handler exec");
}

/* The keys of access control and limits: their values, bounds and errors. */
static void
test_limit_keys(void **state)
{
	struct config *conf;
	struct service *svc;

	(void)state;
	conf = load_ok("[h]\n" ECHO_SVC "allow = 10.0.0.0/8 ::1\ndeny = 10.9.0.0/16\n"
	    "max_connections = 100\nper_source = 4\nrate = 50\nmax_duration = 1h\n"
	    "refuse_message = Busy, try later.\n");
	svc = &conf->services[0];
	assert_int_equal(svc->allow.n, 2);
	assert_int_equal(svc->deny.n, 1);
	assert_int_equal(svc->max_connections, 100);
	assert_int_equal(svc->per_source, 4);
	assert_int_equal(svc->rate, 50);
	assert_int_equal(svc->max_duration_ms, 3600000);
	value_is(svc, "refuse_message", "Busy, try later.");
	assert_true(svc->limited);
	config_free(conf);
	/* Defaults: unlimited, no list; a TCP service without limits checks nothing. */
	conf = load_ok("[h]\n" ECHO_SVC "max_duration = unlimited\nrate = unlimited\n");
	svc = &conf->services[0];
	assert_int_equal(svc->allow.n + svc->deny.n, 0);
	assert_int_equal(svc->max_connections + svc->per_source + svc->rate, 0);
	assert_int_equal(svc->max_duration_ms, 0);
	assert_null(svc->refuse_message);
	assert_false(svc->limited);
	config_free(conf);

	EXPECT("[h]\n" ECHO_SVC "allow = 10.1.2.3/8 nope ::/200\n",
	    "t.ini:5: [h] allow: invalid address \"10.1.2.3/8\" (bits are set after "
	    "the prefix length (write the network's first address))",
	    "t.ini:5: [h] allow: invalid address \"nope\" (not an IPv4 or IPv6 "
	    "address or prefix (such as 10.0.0.0/8))",
	    "t.ini:5: [h] allow: invalid address \"::/200\" (the prefix length must "
	    "be 0-128)");
	EXPECT("[h]\n" ECHO_SVC "deny =\n",
	    "t.ini:5: [h] deny: invalid value \"\" (must be one or more addresses "
	    "or prefixes)");
	EXPECT("[h]\n" ECHO_SVC "per_source = 0\n",
	    "t.ini:5: [h] per_source: invalid value \"0\" (must be 1-65535, or "
	    "unlimited)");
	EXPECT("[h]\n" ECHO_SVC "rate = fast\n",
	    "t.ini:5: [h] rate: invalid value \"fast\" (must be 1-1000000 a second, "
	    "or unlimited)");
	EXPECT("[h]\n" ECHO_SVC "max_duration = 50ms\n",
	    "t.ini:5: [h] max_duration: invalid value \"50ms\" (must be 100ms-720h)");
	/* TCP's alone: an error on a datagram service. */
	EXPECT("[u]\nprotocol = udp\nport = 7\nhandler = echo\nper_source = 2\n"
	    "max_connections = 2\nmax_duration = 5s\nrefuse_message = no\n",
	    "t.ini:5: [u] per_source: only for tcp, and the service has no tcp",
	    "t.ini:6: [u] max_connections: only for tcp, and the service has no tcp",
	    "t.ini:7: [u] max_duration: only for tcp, and the service has no tcp",
	    "t.ini:8: [u] refuse_message: only for tcp, and the service has no tcp");
	/* A long list over continuation lines: 2000 bytes of prefixes. */
	{
		char	 text[4096];
		size_t	 used, i;

		used = (size_t)snprintf(text, sizeof(text), "[h]\n" ECHO_SVC "allow =");
		for (i = 0; i < 170; i++)
			used += (size_t)snprintf(text + used, sizeof(text) - used,
			    "%s10.%zu.0.0/16", i % 8 == 0 ? "\n    " : " ", i);
		strlcat(text, "\n", sizeof(text));
		assert_true(used > 2000);
		conf = load_ok(text);
		assert_int_equal(conf->services[0].allow.n, 170);
		config_free(conf);
	}
}

/* proxy_protocol and proxy_from: versions, balancers, and what goes with what. */
static void
test_proxy_keys(void **state)
{
	struct config *conf;
	struct service *svc;

	(void)state;
	conf = load_ok("[h]\n" ECHO_SVC "proxy_protocol = v2 v1\n"
	    "proxy_from = 127.0.0.1 10.0.0.0/8 ::1\n");
	svc = &conf->services[0];
	assert_int_equal(svc->proxy_versions, PROXY_V1 | PROXY_V2);
	assert_int_equal(svc->proxy_from.n, 3);
	config_free(conf);
	conf = load_ok("[h]\n" ECHO_SVC);
	assert_int_equal(conf->services[0].proxy_versions, 0);
	config_free(conf);
	/* The default written out: no header, no proxy_from needed. */
	conf = load_ok("[h]\n" ECHO_SVC "proxy_protocol = no\n");
	assert_int_equal(conf->services[0].proxy_versions, 0);
	config_free(conf);

	EXPECT("[h]\n" ECHO_SVC "proxy_protocol = v3\nproxy_from = 127.0.0.1\n",
	    "t.ini:5: [h] proxy_protocol: invalid value \"v3\" (must be v1, v2 or "
	    "both (\"v1 v2\"))");
	EXPECT("[h]\n" ECHO_SVC "proxy_protocol = v1\n",
	    "t.ini:5: [h] proxy_protocol: needs proxy_from, the addresses of the "
	    "balancers that may send a header");
	EXPECT("[h]\n" ECHO_SVC "proxy_from = 127.0.0.1\n",
	    "t.ini:5: [h] proxy_from: without proxy_protocol");
	EXPECT("[h]\n" ECHO_SVC "proxy_protocol = v1\nproxy_from = 10.1.0.0/8\n",
	    "t.ini:6: [h] proxy_from: invalid address \"10.1.0.0/8\" (bits are set "
	    "after the prefix length (write the network's first address))");
	EXPECT("[h]\nprotocol = tcp udp\nport = 7\nhandler = echo\n"
	    "proxy_protocol = v2\nproxy_from = ::1\n",
	    "t.ini:5: [h] proxy_protocol: only for tcp, and the service has udp too");
	EXPECT("[u]\nprotocol = udp\nport = 7\nhandler = echo\n"
	    "proxy_protocol = v2\nproxy_from = ::1\n",
	    "t.ini:5: [u] proxy_protocol: only for tcp, and the service has no tcp",
	    "t.ini:6: [u] proxy_from: only for tcp, and the service has no tcp");
}

/* source_rate: one value for both protocols; unset, TCP unlimited and UDP 100. */
static void
test_source_rate(void **state)
{
	struct config *conf;

	(void)state;
	conf = load_ok("[d]\nprotocol = tcp udp\nport = 7\nhandler = echo\n"
	    "[s]\nprotocol = tcp udp\nport = 9\nhandler = discard\n"
	    "source_rate = 5\nsource_prefix = 24 48\n"
	    "[u]\nprotocol = udp\nport = 13\nhandler = daytime\n"
	    "source_rate = unlimited\n");
	assert_int_equal(conf->services[0].source_rate_tcp, 0);
	assert_int_equal(conf->services[0].source_rate_udp, 100);
	assert_int_equal(conf->services[0].source_prefix4, 32);
	assert_int_equal(conf->services[0].source_prefix6, 64);
	assert_int_equal(conf->services[1].source_rate_tcp, 5);
	assert_int_equal(conf->services[1].source_rate_udp, 5);
	assert_int_equal(conf->services[1].source_prefix4, 24);
	assert_int_equal(conf->services[1].source_prefix6, 48);
	assert_int_equal(conf->services[2].source_rate_tcp, 0);
	assert_int_equal(conf->services[2].source_rate_udp, 0);
	config_free(conf);

	EXPECT("[web]\n" ECHO_SVC "source_rate = 0\n",
	    "t.ini:5: [web] source_rate: invalid value \"0\" (must be "
	    "1-1000000 a second, or unlimited)");
	EXPECT("[web]\n" ECHO_SVC "source_rate = fast\n",
	    "t.ini:5: [web] source_rate: invalid value \"fast\" (must be "
	    "1-1000000 a second, or unlimited)");
	EXPECT("[web]\n" ECHO_SVC "source_prefix = 33 64\n",
	    "t.ini:5: [web] source_prefix: invalid value \"33 64\" (must be an "
	    "IPv4 then an IPv6 prefix length, such as \"32 64\" (0-32 and 0-128))");
	EXPECT("[web]\n" ECHO_SVC "source_prefix = 24\n",
	    "t.ini:5: [web] source_prefix: invalid value \"24\" (must be an "
	    "IPv4 then an IPv6 prefix length, such as \"32 64\" (0-32 and 0-128))");
	EXPECT("[web]\n" ECHO_SVC "source_prefix = 24 64 8\n",
	    "t.ini:5: [web] source_prefix: invalid value \"24 64 8\" (must be an "
	    "IPv4 then an IPv6 prefix length, such as \"32 64\" (0-32 and 0-128))");
	EXPECT("[global]\nsource_rate = 5\n",
	    "t.ini:2: [global] source_rate: only valid in a service section");
}

static void
test_required(void **state)
{
	(void)state;
	EXPECT("\n[svc]\nprotocol = tcp\nport = 1\n",
	    "t.ini:2: [svc] missing required key \"handler\"");
	EXPECT("[svc]\nhandler = echo\nenabled = no\n",
	    "t.ini:1: [svc] missing required key \"protocol\"",
	    "t.ini:1: [svc] missing required key \"port\"");
	EXPECT("[q]\nprotocol = tcp\nport = 17\nhandler = qotd\nenabled = no\n",
	    "t.ini:1: [q] missing required key \"file\"");
}

static void
test_handler_keys(void **state)
{
	(void)state;
	EXPECT("[e]\n" ECHO_SVC "greeting = hi\nreply = %s\nquit = q\nmax_line = 5\n"
	    "message = m\nfile = /dev/null\n",
	    "t.ini:5: [e] greeting: only valid with handler hello",
	    "t.ini:6: [e] reply: only valid with handler hello",
	    "t.ini:7: [e] quit: only valid with handler hello",
	    "t.ini:8: [e] max_line: only valid with handler hello",
	    "t.ini:9: [e] message: only valid with handler banner",
	    "t.ini:10: [e] file: only valid with handler qotd");
}

static void
test_bad_values(void **state)
{
	char want[512], handlerlist[256], text[256], longpath[109];
	size_t i, n;

	(void)state;
	EXPECT("[global]\nmax_children = 0\nshutdown_grace = 2h\nfacility = kernel\n"
	    "log_level = warn\nlog_peer = partial\nuser =\ngroup =\npidfile =\n"
	    "include =\ncontrol =\n",
	    "t.ini:2: [global] max_children: invalid value \"0\" (must be 1-65535)",
	    "t.ini:3: [global] shutdown_grace: invalid value \"2h\" (must be 0s-1h)",
	    "t.ini:4: [global] facility: invalid value \"kernel\" (must be auth, authpriv, "
	    "cron, daemon, ftp, kern, lpr, mail, news, syslog, user, uucp or local0-local7)",
	    "t.ini:5: [global] log_level: invalid value \"warn\" "
	    "(must be debug, info, notice, warning or err)",
	    "t.ini:6: [global] log_peer: invalid value \"partial\" "
	    "(must be full, prefix, hash or none)",
	    "t.ini:7: [global] user: invalid value \"\" (must not be empty)",
	    "t.ini:8: [global] group: invalid value \"\" (must not be empty)",
	    "t.ini:9: [global] pidfile: invalid value \"\" (must not be empty)",
	    "t.ini:10: [global] include: invalid value \"\" (must not be empty)",
	    "t.ini:11: [global] control: invalid value \"\" (must not be empty)");
	EXPECT("[global]\nmax_children = 65536\nmax_children = 1\n",
	    "t.ini:2: [global] max_children: invalid value \"65536\" (must be 1-65535)",
	    "t.ini:3: [global] duplicate key \"max_children\" (first at line 2)");
	EXPECT("[global]\nmax_children = +5\nshutdown_grace = soon\n",
	    "t.ini:2: [global] max_children: invalid value \"+5\" (must be 1-65535)",
	    "t.ini:3: [global] shutdown_grace: invalid value \"soon\" "
	    "(must be a duration such as 30, 30s, 500ms, 5m or 1h)");
	/* sun_path holds 107 bytes and the NUL. */
	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "/run/", 5);
	longpath[107] = '\0';
	snprintf(text, sizeof(text), "[global]\ncontrol = %s\n", longpath);
	config_free(load_ok(text));
	longpath[107] = 'a';
	longpath[108] = '\0';
	snprintf(text, sizeof(text), "[global]\ncontrol = %s\n", longpath);
	snprintf(want, sizeof(want), "t.ini:2: [global] control: invalid value \"%s\" "
	    "(too long for a UNIX socket path)", longpath);
	EXPECT(text, want);
	EXPECT("[hello]\nprotocol = tcp tcp\nport = 99999\nhandler = hello\nenabled = maybe\n"
	    "idle_timeout = 25h\nmax_line = 65537\nreply = Hello\nquit =\nlog_connections = 2\n"
	    "log_peer = all\nuser =\n",
	    "t.ini:2: [hello] protocol: invalid value \"tcp tcp\" (tcp listed twice)",
	    "t.ini:3: [hello] port: invalid value \"99999\" (must be 1-65535 or a service name)",
	    "t.ini:5: [hello] enabled: invalid value \"maybe\" "
	    "(must be yes/no, true/false, on/off or 1/0)",
	    "t.ini:6: [hello] idle_timeout: invalid value \"25h\" (must be 0s-24h)",
	    "t.ini:7: [hello] max_line: invalid value \"65537\" (must be 1-65536)",
	    "t.ini:8: [hello] reply: invalid value \"Hello\" (must contain exactly one %s)",
	    "t.ini:9: [hello] quit: invalid value \"\" (must not be empty)",
	    "t.ini:10: [hello] log_connections: invalid value \"2\" "
	    "(must be yes/no, true/false, on/off or 1/0)",
	    "t.ini:11: [hello] log_peer: invalid value \"all\" "
	    "(must be full, prefix, hash or none)",
	    "t.ini:12: [hello] user: invalid value \"\" (must not be empty)");
	EXPECT("[h]\nprotocol = sctp\nport = 0\nhandler = hello\nreply = %s and %s\n",
	    "t.ini:2: [h] protocol: invalid value \"sctp\" (must be tcp, udp or \"tcp udp\")",
	    "t.ini:3: [h] port: invalid value \"0\" (must be 1-65535 or a service name)",
	    "t.ini:5: [h] reply: invalid value \"%s and %s\" (must contain exactly one %s)");
	EXPECT("[h]\nprotocol = udp udp\nport = x y\nhandler = hello\nreply = %d %s\n",
	    "t.ini:2: [h] protocol: invalid value \"udp udp\" (udp listed twice)",
	    "t.ini:3: [h] port: invalid value \"x y\" (must be 1-65535 or a service name)",
	    "t.ini:5: [h] reply: invalid value \"%d %s\" (only %s and %% may follow a %)");
	EXPECT("[h]\nprotocol =\nport = 5\nhandler = hello\nreply = %s %\n",
	    "t.ini:2: [h] protocol: invalid value \"\" (must be tcp, udp or \"tcp udp\")",
	    "t.ini:5: [h] reply: invalid value \"%s %\" (only %s and %% may follow a %)");
	EXPECT("[b]\nprotocol = tcp\nport = 5\nhandler = banner\nmessage =\n",
	    "t.ini:5: [b] message: invalid value \"\" (must not be empty)");
	EXPECT("[q]\nprotocol = tcp\nport = 17\nhandler = qotd\nfile =\nenabled = no\n",
	    "t.ini:5: [q] file: invalid value \"\" (must not be empty)");
	/* Values from the file are made safe before they are printed. */
	EXPECT("[h]\n" ECHO_SVC "enabled = \"\tx\"\n",
	    "t.ini:5: [h] enabled: invalid value \"\\\"\\tx\\\"\" "
	    "(must be yes/no, true/false, on/off or 1/0)");

	/* The list of handlers comes from the handler table. */
	for (n = 0; handlers[n] != NULL; n++)
		;
	strlcpy(handlerlist, "must be ", sizeof(handlerlist));
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(handlerlist, i + 1 == n ? " or " : ", ", sizeof(handlerlist));
		strlcat(handlerlist, handlers[i]->name, sizeof(handlerlist));
	}
	assert_non_null(strstr(handlerlist, "hello"));
	assert_non_null(strstr(handlerlist, " or "));
	snprintf(want, sizeof(want), "t.ini:4: [h] handler: invalid value \"helo\" (%s)",
	    handlerlist);
	EXPECT("[h]\nprotocol = tcp\nport = 5\nhandler = helo\n", want);
}

static void
test_port_name_protocols(void **state)
{
	(void)state;
	EXPECT("[q]\nprotocol = udp\nport = no-such-service\nhandler = echo\n",
	    "t.ini:3: [q] port: invalid value \"no-such-service\" "
	    "(must be 1-65535 or a service name)");
	/* Debian's /etc/services knows qotd for tcp only. */
	if (getservbyname("qotd", "tcp") == NULL || getservbyname("qotd", "udp") != NULL)
		skip();
	EXPECT("[q]\nprotocol = tcp udp\nport = qotd\nhandler = echo\n",
	    "t.ini:3: [q] port: invalid value \"qotd\" "
	    "(not a service name for udp in /etc/services)");
	/* The protocol may come after the port. */
	EXPECT("[q]\nport = qotd\nhandler = echo\nprotocol = udp\n",
	    "t.ini:2: [q] port: invalid value \"qotd\" "
	    "(not a service name for udp in /etc/services)");
}

static void
test_bind(void **state)
{
	struct config *conf;

	(void)state;
	EXPECT("[h]\n" ECHO_SVC "bind = localhost 1.2.3 ::g 127.0.0.1\n",
	    "t.ini:5: [h] bind: invalid address \"localhost\" "
	    "(not a numeric IPv4 or IPv6 address)",
	    "t.ini:5: [h] bind: invalid address \"1.2.3\" (not a numeric IPv4 or IPv6 address)",
	    "t.ini:5: [h] bind: invalid address \"::g\" (not a numeric IPv4 or IPv6 address)");
	EXPECT("[h]\n" ECHO_SVC "bind = 127.0.0.1 ::1 127.0.0.1\n",
	    "t.ini:5: [h] bind: \"127.0.0.1\" listed twice");
	EXPECT("[h]\n" ECHO_SVC "bind = 127.0.0.1  0.0.0.0\n",
	    "t.ini:5: [h] bind: \"0.0.0.0\" conflicts with \"127.0.0.1\"");
	EXPECT("[h]\n" ECHO_SVC "bind =\n",
	    "t.ini:5: [h] bind: invalid value \"\" (must be one or more addresses)");
	conf = load_ok("[h]\n" ECHO_SVC
	    "bind = 127.0.0.1\t::1 ::ffff:127.0.0.1 127.0.0.2 fe80::1%lo\n");
	assert_int_equal(conf->services[0].nbinds, 5);
	assert_int_equal(addr_port((struct sockaddr *)&conf->services[0].binds[4].ss), 7007);
	config_free(conf);
}

/* Users and groups exist, for [global] and enabled services only. */
static void
test_identity(void **state)
{
	(void)state;
	EXPECT("[global]\nuser = no-such-user-hellod\ngroup = no-such-group-hellod\n",
	    "t.ini:2: [global] user: unknown user \"no-such-user-hellod\"",
	    "t.ini:3: [global] group: unknown group \"no-such-group-hellod\"");
	EXPECT("[h]\n" ECHO_SVC "user = no-such-user-hellod\ngroup = no-such-group-hellod\n",
	    "t.ini:5: [h] user: unknown user \"no-such-user-hellod\"",
	    "t.ini:6: [h] group: unknown group \"no-such-group-hellod\"");
	config_free(load_ok("[h]\n" ECHO_SVC "user = no-such-user-hellod\n"
	    "group = no-such-group-hellod\nenabled = no\n"));
}

/*
 * A [global] user other than root is dropped to before serving, so a TCP
 * service cannot have another user or group of its own: its children
 * could not switch, and every connection would be dropped.
 */
static void
test_identity_after_drop(void **state)
{
	(void)state;
	EXPECT("[global]\nuser = nobody\n[h]\n" ECHO_SVC "user = daemon\n",
	    "t.ini:7: [h] user: cannot differ from [global] user "
	    "(hellod drops to it before serving)");
	EXPECT("[global]\nuser = nobody\ngroup = nogroup\n[h]\n" ECHO_SVC
	    "group = daemon\nuser = daemon\n",
	    "t.ini:8: [h] group: cannot differ from [global] group "
	    "(hellod drops to it before serving)",
	    "t.ini:9: [h] user: cannot differ from [global] user "
	    "(hellod drops to it before serving)");
	/* Without [global] group, the parent keeps the user's own group. */
	EXPECT("[global]\nuser = nobody\n[h]\n" ECHO_SVC "group = daemon\n",
	    "t.ini:7: [h] group: cannot differ from the group of [global] user "
	    "(hellod drops to it before serving)");
	/* The same user and group, spelt out again, are fine. */
	config_free(load_ok("[global]\nuser = nobody\ngroup = nogroup\n[h]\n" ECHO_SVC
	    "user = nobody\ngroup = nogroup\n"));
	config_free(load_ok("[global]\nuser = nobody\n[h]\n" ECHO_SVC
	    "group = nogroup\n"));
	/* Inherited, nothing differs. */
	config_free(load_ok("[global]\nuser = nobody\ngroup = daemon\n[h]\n" ECHO_SVC));
	/* [global] root stays root; [global] group alone keeps uid 0. */
	config_free(load_ok("[global]\nuser = root\n[h]\n" ECHO_SVC "user = nobody\n"));
	config_free(load_ok("[global]\ngroup = nogroup\n[h]\n" ECHO_SVC
	    "user = daemon\ngroup = daemon\n"));
	/* Disabled services, and UDP ones (served by the parent), have no children. */
	config_free(load_ok("[global]\nuser = nobody\n[h]\n" ECHO_SVC
	    "user = daemon\nenabled = no\n"));
	config_free(load_ok("[global]\nuser = nobody\n[u]\nprotocol = udp\nport = 7\n"
	    "handler = echo\nuser = daemon\n"));
	EXPECT("[global]\nuser = nobody\n[u]\nprotocol = udp tcp\nport = 7\n"
	    "handler = echo\nuser = daemon\n",
	    "t.ini:7: [u] user: cannot differ from [global] user "
	    "(hellod drops to it before serving)");
}

/* Conflicts between enabled services. */

static void
test_conflicts(void **state)
{
	struct config *conf;

	(void)state;
	EXPECT("[a]\nprotocol = tcp\nport = 9999\nbind = 127.0.0.1\nhandler = echo\n"
	    "[b]\nprotocol = tcp udp\nport = 9999\nbind = 127.0.0.1\nhandler = hello\n",
	    "t.ini:6: [b] tcp 127.0.0.1:9999 conflicts with [a] (t.ini:1)");
	/* Wildcard against specific, both ways, and each protocol. */
	EXPECT("[a]\nprotocol = tcp udp\nport = 9999\nhandler = echo\n"
	    "[b]\nprotocol = udp tcp\nport = 9999\nbind = ::1\nhandler = hello\n"
	    "[c]\nprotocol = udp\nport = 9999\nbind = 10.1.2.3\nhandler = time\n",
	    "t.ini:5: [b] tcp [::1]:9999 conflicts with [a] (t.ini:1)",
	    "t.ini:5: [b] udp [::1]:9999 conflicts with [a] (t.ini:1)",
	    "t.ini:10: [c] udp 10.1.2.3:9999 conflicts with [a] (t.ini:1)");
	EXPECT("[a]\nprotocol = tcp\nport = 9999\nbind = 127.0.0.1\nhandler = echo\n"
	    "[b]\nprotocol = tcp\nport = 9999\nhandler = hello\n",
	    "t.ini:6: [b] tcp 0.0.0.0:9999 conflicts with [a] (t.ini:1)");
	/* No conflict: other protocol, other port, other family, disabled. */
	conf = load_ok(
	    "[a]\nprotocol = tcp\nport = 9999\nhandler = echo\n"
	    "[b]\nprotocol = udp\nport = 9999\nhandler = echo\n"
	    "[c]\nprotocol = tcp\nport = 9998\nhandler = echo\n"
	    "[d]\nprotocol = tcp\nport = 9999\nhandler = echo\nenabled = no\n"
	    "[e]\nprotocol = udp\nport = 9998\nbind = 127.0.0.1\nhandler = echo\n"
	    "[f]\nprotocol = udp\nport = 9998\nbind = ::1\nhandler = echo\n"
	    "[g]\nprotocol = udp\nport = 9998\nbind = 127.0.0.2\nhandler = echo\n");
	assert_int_equal(conf->nservices, 7);
	assert_false(config_find(conf, "d")->enabled);
	config_free(conf);
}

/* A file with several mistakes reports all of them, in line order. */
static void
test_many_errors(void **state)
{
	(void)state;
	EXPECT(
	    "[global]\n"			/* 1 */
	    "max_chldren = 3\n"			/* 2 */
	    "log_level = loud\n"		/* 3 */
	    "\n"				/* 4 */
	    "[hello]\n"				/* 5 */
	    "protocol = tcp\n"			/* 6 */
	    "port = 99999\n"			/* 7 */
	    "what is this\n"			/* 8 */
	    "handler = hello\n"			/* 9 */
	    "port = 9999\n"			/* 10 */
	    "  allow = 127.0.0.1\n"		/* 11 */
	    "[svc]\n"				/* 12 */
	    "enabled = no\n"			/* 13 */
	    "[a]\n"				/* 14 */
	    "protocol = tcp\nport = 80\nhandler = echo\n"	/* 15-17 */
	    "[b]\n"				/* 18 */
	    "protocol = tcp\nport = 80\nhandler = discard\n",	/* 19-21 */
	    "t.ini:2: [global] unknown key \"max_chldren\"",
	    "t.ini:3: [global] log_level: invalid value \"loud\" "
	    "(must be debug, info, notice, warning or err)",
	    "t.ini:7: [hello] port: invalid value \"99999\" (must be 1-65535 or a service name)",
	    "t.ini:8: syntax error: expected \"key = value\" or \"[section]\"",
	    "t.ini:10: [hello] duplicate key \"port\" (first at line 7)",
	    "t.ini:11: indented line continues the value of \"port\" (line 10): "
	    "a key starts at the beginning of its line",
	    "t.ini:12: [svc] missing required key \"protocol\"",
	    "t.ini:12: [svc] missing required key \"port\"",
	    "t.ini:12: [svc] missing required key \"handler\"",
	    "t.ini:18: [b] tcp 0.0.0.0:80 conflicts with [a] (t.ini:14)");
}

/* qotd quotes are read at load time. */

static void
test_qotd(void **state)
{
	char *dir = tmpdir_make(), text[PATH_MAX * 2], want[PATH_MAX * 2], longq[600];
	char quotes[QUOTES_MAX][600];
	struct config *conf;
	struct service *svc;

	(void)state;
	write_file(dir, "quotes",
	    "\n\nThe first quote.   \n  Second line of it.\r\n\n \t\n\n"
	    "Another\n\nLast, with no newline  ");
	snprintf(text, sizeof(text), "[q]\nprotocol = tcp udp\nport = 1717\nhandler = qotd\n"
	    "file = %s/quotes\n", dir);
	conf = load_ok(text);
	svc = &conf->services[0];
	assert_int_equal(served_quotes(svc, quotes), 3);
	assert_true(has_quote(quotes, 3, "The first quote.\n  Second line of it."));
	assert_true(has_quote(quotes, 3, "Another"));
	assert_true(has_quote(quotes, 3, "Last, with no newline"));
	snprintf(want, sizeof(want), "%s/quotes", dir);
	value_is(svc, "file", want);
	config_free(conf);

	/* Missing file; a disabled service does not read it. */
	snprintf(text, sizeof(text), "[q]\nprotocol = tcp\nport = 1717\nhandler = qotd\n"
	    "file = %s/nothing\n", dir);
	snprintf(want, sizeof(want), "t.ini:5: [q] file: cannot read \"%s/nothing\": "
	    "No such file or directory", dir);
	EXPECT(text, want);
	strlcat(text, "enabled = no\n", sizeof(text));
	conf = load_ok(text);
	/* Nothing loaded: nothing served. */
	assert_int_equal(handler_find("qotd")->udp(&conf->services[0],
	    (const unsigned char *)"", 0, (unsigned char *)want, 512), -1);
	config_free(conf);

	/* No quote at all. */
	write_file(dir, "empty", "\n  \n\t\n");
	snprintf(text, sizeof(text), "[q]\nprotocol = tcp\nport = 1717\nhandler = qotd\n"
	    "file = %s/empty\n", dir);
	snprintf(want, sizeof(want), "t.ini:5: [q] file: no quote in \"%s/empty\"", dir);
	EXPECT(text, want);

	/* 510 bytes fit, 511 do not; lines count with their "\n". */
	memset(longq, 'a', 510);
	longq[510] = '\0';
	write_file(dir, "fits", longq);
	snprintf(text, sizeof(text), "[q]\nprotocol = tcp\nport = 1717\nhandler = qotd\n"
	    "file = %s/fits\n", dir);
	conf = load_ok(text);
	assert_int_equal(served_quotes(&conf->services[0], quotes), 1);
	assert_int_equal(strlen(quotes[0]), 510);
	config_free(conf);
	memset(longq, 'a', sizeof(longq));
	memcpy(longq, "short\n\nab\n", 10);
	longq[10 + 509] = '\0';
	write_file(dir, "long", longq);
	snprintf(text, sizeof(text), "[q]\nprotocol = tcp\nport = 1717\nhandler = qotd\n"
	    "file = %s/long\n", dir);
	snprintf(want, sizeof(want), "t.ini:5: [q] file: quote at line 3 of \"%s/long\" "
	    "is longer than 510 bytes", dir);
	EXPECT(text, want);
	/* A directory cannot be read as a file. */
	snprintf(text, sizeof(text), "[q]\nprotocol = tcp\nport = 1717\nhandler = qotd\n"
	    "file = %s\n", dir);
	snprintf(want, sizeof(want), "t.ini:5: [q] file: cannot read \"%s\": "
	    "not a regular file", dir);
	EXPECT(text, want);
	tmpdir_remove(dir);
}

/* A qotd service whose file is path fails with "[q] file: BEFORE"PATH"AFTER". */
static void
expect_qotd_error(const char *path, const char *before, const char *after)
{
	char text[PATH_MAX * 2], want[PATH_MAX * 2];

	snprintf(text, sizeof(text), "[q]\nprotocol = tcp\nport = 1717\nhandler = qotd\n"
	    "file = %s\n", path);
	snprintf(want, sizeof(want), "t.ini:5: [q] file: %s\"%s\"%s", before, path, after);
	EXPECT(text, want);
}

/* A file of size bytes: "Q" on the first line, then blank lines. */
static void
write_sized(const char *path, size_t size)
{
	FILE *fp = fopen(path, "w");
	size_t i;

	assert_non_null(fp);
	assert_int_equal(fputs("Q\n", fp), 1);
	for (i = 2; i < size; i++)
		assert_int_equal(fputc('\n', fp), '\n');
	assert_int_equal(fclose(fp), 0);
	assert_true(size >= 2);
}

/*
 * Only a regular file of at most 1 MiB is read: a FIFO would block the
 * daemon (on SIGHUP, too) and /dev/zero would never end.  An alarm turns
 * a regression into a failure rather than a hang.
 */
static void
test_qotd_file_kinds(void **state)
{
	char *dir = tmpdir_make(), path[PATH_MAX], link[PATH_MAX];
	char quotes[QUOTES_MAX][600];
	struct config *conf;
	char text[PATH_MAX * 2];

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	expect_qotd_error(path, "cannot read ", ": not a regular file");
	expect_qotd_error("/dev/zero", "cannot read ", ": not a regular file");
	alarm(0);

	/* 1 MiB is allowed, one byte more is not, whatever the quotes. */
	snprintf(path, sizeof(path), "%s/big", dir);
	write_sized(path, 1024 * 1024);
	snprintf(text, sizeof(text), "[q]\nprotocol = tcp\nport = 1717\nhandler = qotd\n"
	    "file = %s\n", path);
	conf = load_ok(text);
	assert_int_equal(served_quotes(&conf->services[0], quotes), 1);
	assert_string_equal(quotes[0], "Q");
	config_free(conf);
	write_sized(path, 1024 * 1024 + 1);
	expect_qotd_error(path, "", " is larger than 1 MiB");

	/* A symbolic link to a regular file is followed. */
	write_file(dir, "quotes", "Linked.\n");
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(path, sizeof(path), "%s/quotes", dir);
	assert_int_equal(symlink(path, link), 0);
	snprintf(text, sizeof(text), "[q]\nprotocol = tcp\nport = 1717\nhandler = qotd\n"
	    "file = %s\n", link);
	conf = load_ok(text);
	assert_int_equal(served_quotes(&conf->services[0], quotes), 1);
	assert_string_equal(quotes[0], "Linked.");
	config_free(conf);
	tmpdir_remove(dir);
}

/* include: a glob, sorted, service sections only, relative to the main file. */

static void
count_error(void *arg, const char *msg)
{
	(void)msg;
	(*(unsigned *)arg)++;
}

/*
 * The checks of a file with many services take O(n log n): 20 000
 * services on their own addresses and 20 000 on one port (each of those
 * but the first an error), well within the alarm where every pair of
 * services compared once would not be (40 000 took half a minute so).
 */
static void
test_many_services(void **state)
{
	size_t	 n = 40000, len = n * 80, used = 0, i;
	char	*text = malloc(len);
	unsigned nerr = 0, counted = 0;
	struct config *conf;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < n / 2; i++)
		used += (size_t)snprintf(text + used, len - used,
		    "[a%zu]\nprotocol = tcp udp\nport = 7000\n"
		    "bind = 127.%zu.%zu.1\nhandler = echo\n", i, i / 250, i % 250);
	for (i = 0; i < n / 2; i++)
		used += (size_t)snprintf(text + used, len - used,
		    "[b%zu]\nprotocol = tcp\nport = 8000\nhandler = echo\n", i);
	alarm(60);
	conf = config_load_string("t.ini", text, count_error, &counted, &nerr);
	alarm(0);
	assert_null(conf);
	assert_int_equal(nerr, n / 2 - 1);
	assert_int_equal(counted, n / 2 - 1);
	free(text);
}

/*
 * Reads are bounded: a 1 GiB file with no newline (sparse here) costs
 * 4 MiB of reading and one line's worth of memory, as the main file and
 * as an include, and gives a FILE:LINE error at once.
 */
static void
test_huge_file(void **state)
{
	char	*dir = tmpdir_make(), path[PATH_MAX], big[PATH_MAX];
	char	 want[3][PATH_MAX + 128];
	const char *wants[4];
	int	 fd;

	(void)state;
	snprintf(big, sizeof(big), "%s/big.ini", dir);
	assert_true((fd = open(big, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(ftruncate(fd, (off_t)1 << 30), 0);
	close(fd);
	snprintf(want[0], sizeof(want[0]), "%s:1: file larger than 4194304 bytes: "
	    "not read further", big);
	wants[0] = want[0];
	wants[1] = NULL;
	alarm(20);
	expect_file_errors(big, wants);
	write_file(dir, "main.ini", "[global]\ninclude = big.ini\n[main]\n" ECHO_SVC);
	snprintf(path, sizeof(path), "%s/main.ini", dir);
	expect_file_errors(path, wants);
	alarm(0);
	tmpdir_remove(dir);
}

/* An include that would walk /proc, /sys or the whole tree is refused in bounded time. */
static void
test_include_bounded(void **state)
{
	char	 want[2 * PATH_MAX + 128];
	const char *wants[] = { want, NULL };
	char	*dir = tmpdir_make(), path[PATH_MAX], sub[PATH_MAX];
	int	 i;

	(void)state;
	alarm(20);
	EXPECT("[global]\ninclude = /proc/self/*\n[main]\n" ECHO_SVC,
	    "t.ini:2: [global] include: cannot expand \"/proc/self/*\": "
	    "/proc/self: not on a regular file system");
	EXPECT("[global]\ninclude = /sys/*\n[main]\n" ECHO_SVC,
	    "t.ini:2: [global] include: cannot expand \"/sys/*\": "
	    "/sys: not on a regular file system");
	EXPECT("[global]\ninclude = /proc/self/pagemap\n[main]\n" ECHO_SVC,
	    "t.ini:2: [global] include: cannot read \"/proc/self/pagemap\": "
	    "not on a regular file system");
	EXPECT("[global]\ninclude = /*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*"
	    "/*/*/*/*/*/*/*/*\n[main]\n" ECHO_SVC,
	    "t.ini:2: [global] include: cannot expand \"/*/*/*/*/*/*/*/*/*/*/*/*"
	    "/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*\": more than 4 path components "
	    "with wildcards");
	alarm(0);
	/* At most 1024 files. */
	snprintf(sub, sizeof(sub), "%s/many", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	for (i = 0; i < 1025; i++) {
		snprintf(path, sizeof(path), "many/%04d.ini", i);
		write_file(dir, path, "\n");
	}
	write_file(dir, "main.ini", "[global]\ninclude = many/*.ini\n[main]\n" ECHO_SVC);
	snprintf(path, sizeof(path), "%s/main.ini", dir);
	snprintf(want, sizeof(want), "%s:2: [global] include: cannot expand "
	    "\"%s/many/*.ini\": it matches more than 1024 files", path, dir);
	expect_file_errors(path, wants);
	tmpdir_remove(dir);
}

/*
 * An include that matches a device never opens it (opening one can have
 * effects): a private node of /dev/null's kind, watched for opens.
 */
static void
test_include_device_not_opened(void **state)
{
	char	*dir = tmpdir_make(), path[PATH_MAX], node[PATH_MAX];
	char	 want[2 * PATH_MAX + 128], ev[sizeof(struct inotify_event) + 256];
	const char *wants[] = { want, NULL };
	struct stat st;
	int	 in;

	(void)state;
	if (stat("/dev/null", &st) == -1)
		skip();
	snprintf(node, sizeof(node), "%s/dev.ini", dir);
	if (mknod(node, S_IFCHR | 0600, st.st_rdev) == -1) {
		tmpdir_remove(dir);
		skip();		/* not root */
	}
	assert_true((in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0);
	assert_true(inotify_add_watch(in, node, IN_OPEN) >= 0);
	write_file(dir, "main.ini", "[global]\ninclude = *dev*.ini\n[main]\n" ECHO_SVC);
	snprintf(path, sizeof(path), "%s/main.ini", dir);
	snprintf(want, sizeof(want), "%s:2: [global] include: cannot read \"%s\": "
	    "not a regular file", path, node);
	expect_file_errors(path, wants);
	assert_int_equal(read(in, ev, sizeof(ev)), -1);
	assert_int_equal(errno, EAGAIN);
	close(in);
	tmpdir_remove(dir);
}

static void
test_include(void **state)
{
	char quotes[QUOTES_MAX][600];
	char *dir = tmpdir_make(), path[PATH_MAX], sub[PATH_MAX], want[4][PATH_MAX + 128];
	const char *wants[5];
	struct config *conf;
	struct service *svc;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(dir, "hellod.ini",
	    "[global]\ninclude = conf.d/*.ini\n[main]\n" ECHO_SVC);
	write_file(dir, "conf.d/20-b.ini", "\n[b]\nprotocol = udp\nport = 2\nhandler = time\n");
	write_file(dir, "conf.d/10-a.ini", "[a]\nprotocol = tcp\nport = 1\nhandler = qotd\n"
	    "file = ../quotes\n");
	write_file(dir, "conf.d/30-c.conf", "this is not read\n");
	write_file(dir, "quotes", "Q\n");
	snprintf(path, sizeof(path), "%s/hellod.ini", dir);

	conf = load_file_ok(path);
	assert_non_null(conf);
	assert_int_equal(conf->nfiles, 3);
	assert_string_equal(conf->files[0], path);
	snprintf(want[0], sizeof(want[0]), "%s/conf.d/10-a.ini", dir);
	snprintf(want[1], sizeof(want[1]), "%s/conf.d/20-b.ini", dir);
	assert_string_equal(conf->files[1], want[0]);
	assert_string_equal(conf->files[2], want[1]);
	assert_int_equal(conf->nservices, 3);
	assert_string_equal(conf->services[0].name, "main");
	assert_string_equal(conf->services[1].name, "a");
	assert_string_equal(conf->services[2].name, "b");
	svc = config_find(conf, "a");
	assert_ptr_equal(svc->file, conf->files[1]);
	assert_int_equal(svc->line, 1);
	/* Relative to the directory of the file holding the section. */
	snprintf(want[2], sizeof(want[2]), "%s/conf.d/../quotes", dir);
	value_is(svc, "file", want[2]);
	assert_int_equal(served_quotes(svc, quotes), 1);
	assert_string_equal(quotes[0], "Q");
	assert_ptr_equal(config_find(conf, "b")->file, conf->files[2]);
	assert_int_equal(config_find(conf, "b")->line, 2);
	config_free(conf);

	/* Errors name the included file; [global] there is an error. */
	write_file(dir, "conf.d/20-b.ini", "[b]\nprotocol = udp\nport = 2\nhandler = time\n"
	    "[global]\nmax_children = 5\n[main]\n" ECHO_SVC "[b2]\nprotocol = udp\nport = 2\n"
	    "handler = echo\n");
	snprintf(want[0], sizeof(want[0]),
	    "%s/conf.d/20-b.ini:5: [global] not allowed in an included file", dir);
	snprintf(want[1], sizeof(want[1]),
	    "%s/conf.d/20-b.ini:7: duplicate section [main] (first at %s:3)", dir, path);
	snprintf(want[2], sizeof(want[2]),
	    "%s/conf.d/20-b.ini:11: [b2] udp 0.0.0.0:2 conflicts with [b] (%s/conf.d/20-b.ini:1)",
	    dir, dir);
	wants[0] = want[0];
	wants[1] = want[1];
	wants[2] = want[2];
	wants[3] = NULL;
	expect_file_errors(path, wants);

	/* An included directory is an error at the include line; no match is not. */
	snprintf(sub, sizeof(sub), "%s/conf.d/40-dir.ini", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(dir, "conf.d/20-b.ini", "[b]\nprotocol = udp\nport = 2\nhandler = time\n");
	snprintf(want[0], sizeof(want[0]), "%s:2: [global] include: cannot read "
	    "\"%s/conf.d/40-dir.ini\": not a regular file", path, dir);
	wants[0] = want[0];
	wants[1] = NULL;
	expect_file_errors(path, wants);
	write_file(dir, "hellod.ini", "[global]\ninclude = nowhere/*.ini\n[main]\n" ECHO_SVC);
	conf = load_file_ok(path);
	assert_non_null(conf);
	assert_int_equal(conf->nfiles, 1);
	config_free(conf);

	/*
	 * A FIFO matched by the glob is an error, not a hang: open() would
	 * wait for a writer.  A link to a regular file is read.
	 */
	snprintf(sub, sizeof(sub), "%s/conf.d/40-dir.ini", dir);
	assert_int_equal(rmdir(sub), 0);
	snprintf(sub, sizeof(sub), "%s/conf.d/50-fifo.ini", dir);
	assert_int_equal(mkfifo(sub, 0600), 0);
	write_file(dir, "hellod.ini", "[global]\ninclude = conf.d/*.ini\n[main]\n" ECHO_SVC);
	write_file(dir, "linked.conf", "[linked]\nprotocol = tcp\nport = 4\nhandler = time\n");
	snprintf(want[1], sizeof(want[1]), "%s/linked.conf", dir);
	snprintf(sub, sizeof(sub), "%s/conf.d/60-link.ini", dir);
	assert_int_equal(symlink(want[1], sub), 0);
	snprintf(want[0], sizeof(want[0]), "%s:2: [global] include: cannot read "
	    "\"%s/conf.d/50-fifo.ini\": not a regular file", path, dir);
	wants[0] = want[0];
	wants[1] = NULL;
	alarm(10);
	expect_file_errors(path, wants);
	alarm(0);
	snprintf(sub, sizeof(sub), "%s/conf.d/50-fifo.ini", dir);
	assert_int_equal(unlink(sub), 0);
	conf = load_file_ok(path);
	assert_non_null(config_find(conf, "linked"));
	config_free(conf);
	snprintf(sub, sizeof(sub), "%s/conf.d/60-link.ini", dir);
	assert_int_equal(unlink(sub), 0);

	/* A glob that matches the main file does not read it twice. */
	write_file(dir, "hellod.ini", "[global]\ninclude = *.ini\n[main]\n" ECHO_SVC);
	conf = load_file_ok(path);
	assert_non_null(conf);
	assert_int_equal(conf->nservices, 1);
	config_free(conf);
	tmpdir_remove(dir);
}

/* config_load_string() globs relative to the current directory. */
static void
test_include_from_string(void **state)
{
	char *dir = tmpdir_make(), cwd[PATH_MAX];
	struct config *conf;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	write_file(dir, "x.ini", "[x]\nprotocol = tcp\nport = 3\nhandler = daytime\n");
	assert_int_equal(chdir(dir), 0);
	conf = load_ok("[global]\ninclude = *.ini\n");
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(conf->nfiles, 2);
	assert_string_equal(conf->files[1], "x.ini");
	assert_int_equal(conf->nservices, 1);
	assert_string_equal(conf->services[0].file, "x.ini");
	config_free(conf);
	tmpdir_remove(dir);
}

/* Whether service name differs between configurations a and b (reload's "changed"). */
static bool
changed(const char *a, const char *b, const char *name)
{
	struct config *ca = load_ok(a), *cb = load_ok(b);
	bool	 r = config_service_changed(config_find(ca, name),
	    config_find(cb, name));

	config_free(ca);
	config_free(cb);
	return r;
}

static void
test_service_changed(void **state)
{
	static const char base[] =
	    "[h]\nprotocol = tcp\nport = 7\nhandler = hello\ngreeting = Hi\n"
	    "[e]\nprotocol = tcp\nport = 8\nhandler = echo\n";

	(void)state;
	assert_false(changed(base, base, "h"));
	/* The order of the keys, and of the sections, makes no difference. */
	assert_false(changed(base, "[e]\nprotocol = tcp\nport = 8\n"
	    "handler = echo\n[h]\ngreeting = Hi\nhandler = hello\n"
	    "port = 7\nprotocol = tcp\n", "h"));
	/* A value, a key added, a key moved to another value: changed. */
	assert_true(changed(base, "[h]\nprotocol = tcp\nport = 7\n"
	    "handler = hello\ngreeting = Ho\n", "h"));
	assert_true(changed(base, "[h]\nprotocol = tcp\nport = 7\n"
	    "handler = hello\ngreeting = Hi\nidle_timeout = 5s\n", "h"));
	/* A setting taken from [global] counts; one it does not take does not. */
	assert_true(changed(base, "[global]\nlog_peer = none\n[h]\n"
	    "protocol = tcp\nport = 7\nhandler = hello\ngreeting = Hi\n", "h"));
	assert_true(changed(base, "[global]\nuser = nobody\n[h]\n"
	    "protocol = tcp\nport = 7\nhandler = hello\ngreeting = Hi\n", "h"));
	assert_false(changed(base, "[global]\nmax_children = 9\n[h]\n"
	    "protocol = tcp\nport = 7\nhandler = hello\ngreeting = Hi\n", "h"));
}

/*
 * Loading a thousand services leaves few holes in the heap: the records
 * of the sections, freed after assembly, live apart (every fork copies
 * the page tables of the heap's resident pages).  Allocators that are
 * not glibc's (the sanitizers', valgrind's) may say nothing: 0 and 0.
 */
static void
test_load_leaves_no_holes(void **state)
{
	struct mallinfo2 before, after;
	struct config *conf;
	char	*text;
	size_t	 off = 0, size = 1000 * 96;
	int	 i;

	(void)state;
	assert_non_null(text = malloc(size));
	for (i = 0; i < 1000; i++)
		off += (size_t)snprintf(text + off, size - off, "[s%04d]\n"
		    "protocol = tcp udp\nport = %d\nbind = 127.0.0.1\n"
		    "handler = discard\n", i, 20000 + i);
	before = mallinfo2();
	conf = config_load_string("t.ini", text, NULL, NULL, NULL);
	after = mallinfo2();
	assert_non_null(conf);
	assert_int_equal(conf->nservices, 1000);
	/* 680 KiB of holes before the sections had chunks of their own, 170 after. */
	assert_true(after.fordblks < before.fordblks + 384 * 1024);
	config_free(conf);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* First: what it measures is the heap of a process just started. */
		cmocka_unit_test(test_load_leaves_no_holes),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_indented_and_crlf),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_empty_config),
		cmocka_unit_test(test_port_name),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_bools),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_too_long_line),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_main_not_regular),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_build_and_handler_keys),
		cmocka_unit_test(test_limit_keys),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_source_rate),
		cmocka_unit_test(test_handler_keys),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_port_name_protocols),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_identity_after_drop),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_qotd),
		cmocka_unit_test(test_qotd_file_kinds),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_huge_file),
		cmocka_unit_test(test_many_services),
		cmocka_unit_test(test_include_bounded),
		cmocka_unit_test(test_include_device_not_opened),
		cmocka_unit_test(test_include_from_string),
		cmocka_unit_test(test_service_changed),
		cmocka_unit_test(test_proxy_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
