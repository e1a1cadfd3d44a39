/* Integration: every line the daemon logs follows one grammar, and hellod(8) shows each kind. */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
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

#define T_MS	harness_ms(5000)

/*
 * "WHO: EVENT key=value ...": WHO a section name or "hellod", EVENT a
 * word, each value a token without spaces, quotes or backslashes, or a
 * quoted string with backslash escapes.  The other form is a
 * configuration error, "FILE:LINE: message".
 */
#define WORD	"[a-z][a-z0-9_]*"
#define VALUE	"([^ \"\\\\]+|\"([^\"\\\\]|\\\\.)*\")"
static const char grammar[] =
    "^[A-Za-z0-9_.-]+: " WORD "( " WORD "=" VALUE ")*$";
static const char config_error[] = "^[^ ]+:[0-9]+: .+$";

static const char *const end_reasons[] = {
	"client_close", "quit", "idle_timeout", "max_duration", "too_long",
	"error", "shutdown", "done", NULL
};
static const char *const refusal_reasons[] = {
	"deny", "allow", "max_connections", "per_source", "rate",
	"source_rate", "max_children", "guard", "proxy_untrusted",
	"proxy_header", NULL
};

/* The events each run below must have produced: the test cannot pass empty. */
static const char *const must_see[] = {
	"started", "listen", "connect", "end", "refused", "datagram", "stderr",
	"status", "reloading", "reloaded", "close", "reload_failed",
	"control_off", "stopping", "stopped", NULL
};

static regex_t re_line, re_config;

static bool
in_list(const char *const *list, const char *s, size_t len)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == len && strncmp(*list, s, len) == 0)
			return true;
	return false;
}

/* The value of key= in line (a pointer into it, and its length), or NULL. */
static const char *
value_of(const char *line, const char *key, size_t *len)
{
	char	 needle[64];
	const char *p;

	snprintf(needle, sizeof(needle), " %s=", key);
	if ((p = strstr(line, needle)) == NULL)
		return NULL;
	p += strlen(needle);
	*len = strcspn(p, " ");
	return p;
}

/* "WHO: EVENT": the event's word, its length in *len. */
static const char *
event_of(const char *line, size_t *len)
{
	const char *p = strstr(line, ": ") + 2;

	*len = strcspn(p, " ");
	return p;
}

/*
 * The kinds of line hellod(8) shows in its LOGGING examples, "hellod
 * EVENT" or "service EVENT", each on a line of its own (the first too).
 */
static char *
documented_kinds(void)
{
	const char *src = getenv("HELLOD_SRCDIR");
	char	 path[4096], *man, *p, *line, *kinds;
	size_t	 used = 0, cap;

	snprintf(path, sizeof(path), "%s/man/hellod.8", src != NULL ? src : ".");
	man = harness_read_file(path);
	assert_non_null(man);
	cap = strlen(man) + 2;
	kinds = calloc(1, cap);
	assert_non_null(kinds);
	kinds[used++] = '\n';
	p = strstr(man, "One example of every line, by event:");
	assert_non_null(p);
	p = strstr(p, ".Bd -literal");
	p = strchr(p, '\n') + 1;
	for (; (line = strsep(&p, "\n")) != NULL && strcmp(line, ".Ed") != 0;) {
		size_t elen;
		const char *ev;

		/* Each example follows the grammar itself. */
		if (regexec(&re_line, line, 0, NULL, 0) != 0)
			fail_msg("hellod(8) example off the grammar: %s", line);
		ev = event_of(line, &elen);
		used += (size_t)snprintf(kinds + used, cap - used, "%s %.*s\n",
		    strncmp(line, "hellod: ", 8) == 0 ? "hellod" : "service",
		    (int)elen, ev);
	}
	free(man);
	return kinds;
}

/* Check one line the daemon logged (its "hellod[PID]: " prefix gone). */
static void
check_line(const char *line, const char *kinds, bool *seen)
{
	const char *ev, *v;
	char	 kind[96];
	size_t	 elen, vlen, i;

	if (regexec(&re_config, line, 0, NULL, 0) == 0 &&
	    regexec(&re_line, line, 0, NULL, 0) != 0)
		return;
	if (regexec(&re_line, line, 0, NULL, 0) != 0)
		fail_msg("a line off the grammar: %s", line);
	ev = event_of(line, &elen);
	snprintf(kind, sizeof(kind), "\n%s %.*s\n", strncmp(line, "hellod: ", 8)
	    == 0 ? "hellod" : "service", (int)elen, ev);
	if (strstr(kinds, kind) == NULL)
		fail_msg("a kind of line hellod(8) does not show: %s", line);
	for (i = 0; must_see[i] != NULL; i++)
		if (strlen(must_see[i]) == elen && strncmp(ev, must_see[i], elen) == 0)
			seen[i] = true;
	if ((v = value_of(line, "reason", &vlen)) != NULL) {
		bool end = (elen == 3 && strncmp(ev, "end", 3) == 0) ||
		    (elen == 8 && strncmp(ev, "wake_end", 8) == 0);

		if (!in_list(end ? end_reasons : refusal_reasons, v, vlen))
			fail_msg("reason=%.*s is not one of the list: %s",
			    (int)vlen, v, line);
	}
	if (elen == 3 && strncmp(ev, "end", 3) == 0)
		assert_true(value_of(line, "duration", &vlen) != NULL &&
		    value_of(line, "in", &vlen) != NULL &&
		    value_of(line, "out", &vlen) != NULL &&
		    value_of(line, "peer", &vlen) != NULL);
}

/* Check every line of d's log; returns how many there were. */
static unsigned
check_log(struct daemon *d, bool *seen)
{
	char	*log = harness_read_file(d->log), *p = log, *line, *text;
	char	*kinds = documented_kinds();
	char	 prefix[32];
	unsigned n = 0;

	assert_non_null(log);
	while ((line = strsep(&p, "\n")) != NULL) {
		if (*line == '\0')
			continue;
		/* Only the daemon's lines: "hellod[PID]: TEXT". */
		if (sscanf(line, "hellod[%*d]: %31s", prefix) != 1)
			continue;
		text = strstr(line, "]: ") + 3;
		check_line(text, kinds, seen);
		n++;
	}
	free(kinds);
	free(log);
	return n;
}

/* Connect, say what there is to say (and shut our side), read to the end. */
static void
talk(uint16_t port, const char *say, bool shut, char *buf, size_t len)
{
	int	 fd = tcp_connect("127.0.0.1", port, T_MS);

	assert_true(fd >= 0);
	if (say != NULL)
		assert_int_equal(send_str(fd, say), 0);
	if (shut)
		shutdown(fd, SHUT_WR);
	assert_true(read_all(fd, buf, len, T_MS) >= 0);
	close(fd);
}

static const char conf[] =
    "[global]\ncontrol = @DIR@/logs.ctl\n"
    "[hello]\nprotocol = tcp udp\nport = @P0@\nbind = 127.0.0.1\n"
    "handler = hello\nmax_line = 16\nidle_timeout = 1s\nsource_rate = unlimited\n"
    "[echo]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\nhandler = echo\n"
    "deny = 127.0.0.3\nper_source = 1\nmax_duration = 1s\n"
    "[prog]\nprotocol = tcp\nport = @P2@\nbind = 127.0.0.1\nhandler = exec\n"
    "exec = /bin/sh -c 'echo \"a \\\"quoted\\\" word\" >&2; cat'\n"
    "[daytime]\nprotocol = tcp\nport = @P3@\nbind = 127.0.0.1\n"
    "handler = daytime\nlog_peer = hash\nproxy_protocol = v1\n"
    "proxy_from = 127.0.0.1\n";

/* The same, hello moved to every address, daytime gone, control at a plain file. */
static const char conf_moved[] =
    "[global]\ncontrol = @DIR@/logs.txt\n"
    "[hello]\nprotocol = tcp\nport = @P0@\nhandler = hello\n"
    "[echo]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\nhandler = echo\n"
    "max_duration = 3s\n";

/* The connections that make every end reason, and refusals. */
static void
connections(struct daemon *d)
{
	char	 buf[256];
	int	 fd, second;

	talk(d->port[0], "Michael\nexit\n", false, buf, sizeof(buf));
	talk(d->port[0], "a message far longer than sixteen bytes\n", false,
	    buf, sizeof(buf));
	fd = tcp_connect("127.0.0.1", d->port[0], T_MS);
	assert_true(read_line(fd, buf, sizeof(buf), T_MS) > 0);
	close(fd);					/* client_close */
	fd = tcp_connect("127.0.0.1", d->port[0], T_MS);
	assert_true(read_line(fd, buf, sizeof(buf), T_MS) > 0);
	assert_int_equal(wait_eof(fd, T_MS), 1);	/* idle_timeout */
	close(fd);
	fd = tcp_connect_from("127.0.0.3", "127.0.0.1", d->port[1], T_MS);
	assert_int_equal(wait_eof(fd, T_MS), 1);	/* refused: deny */
	close(fd);
	fd = tcp_connect("127.0.0.1", d->port[1], T_MS);
	assert_true(proc_wait_children(d->pid, 1, T_MS));
	second = tcp_connect("127.0.0.1", d->port[1], T_MS);
	assert_int_equal(wait_eof(second, T_MS), 1);	/* refused: per_source */
	close(second);
	assert_int_equal(wait_eof(fd, T_MS), 1);	/* max_duration */
	close(fd);
	talk(d->port[2], "bytes\n", true, buf, sizeof(buf));	/* exit=0, stderr */
	assert_string_equal(buf, "bytes\n");
	/* Through a balancer (PROXY v1): done, hashed, via=; refused twice. */
	talk(d->port[3], "PROXY TCP4 192.0.2.7 198.51.100.1 40000 13\r\n", false,
	    buf, sizeof(buf));
	talk(d->port[3], "GET / HTTP/1.0\r\n", false, buf, sizeof(buf));
	fd = tcp_connect_from("127.0.0.2", "127.0.0.1", d->port[3], T_MS);
	assert_int_equal(wait_eof(fd, T_MS), 1);	/* refused: proxy_untrusted */
	close(fd);
	assert_int_equal(udp_ask("127.0.0.1", d->port[0], "Ann", 3, buf,
	    sizeof(buf), T_MS), 11);
	/* From a privileged port (as root): refused by the guard, with a detail. */
	if ((fd = udp_socket("127.0.0.1", 1021)) != -1) {
		(void)udp_exchange(fd, "127.0.0.1", d->port[0], "x", 1, buf,
		    sizeof(buf), 300);
		close(fd);
		assert_true(log_wait(d, "hello: refused peer=127.0.0.1:1021 "
		    "reason=guard detail=\"source port below 1024\"", T_MS));
	}
}

static void
test_grammar(void **state)
{
	static const char *const debug[] = { "-d", NULL };
	struct daemon d;
	bool	 seen[sizeof(must_see) / sizeof(must_see[0])] = { false };
	size_t	 i;
	int	 fd;

	(void)state;
	harness_write_file(harness_path("logs.txt"), "not a socket\n");
	assert_int_equal(daemon_start_with(&d, conf, HD_PROBE_LOG, debug), 0);
	connections(&d);
	assert_true(proc_wait_children(d.pid, 0, T_MS));
	daemon_signal(&d, SIGUSR1);
	assert_true(log_wait(&d, "daytime: status ", T_MS));
	/* A reload that fails, then one that moves, removes and changes. */
	daemon_rewrite(&d, "[hello]\nprotocol = tcp\nport = 0\nhandler = hello\n");
	daemon_signal(&d, SIGHUP);
	assert_true(log_wait(&d, "hellod: reload_failed ", T_MS));
	daemon_rewrite(&d, conf_moved);
	daemon_signal(&d, SIGHUP);
	assert_true(log_wait(&d, "hellod: reloaded ", T_MS));
	/* A connection alive at SIGTERM ends with reason=shutdown. */
	fd = tcp_connect("127.0.0.1", d.port[1], T_MS);
	assert_true(proc_wait_children(d.pid, 1, T_MS));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	close(fd);
	assert_true(check_log(&d, seen) > 30);
	for (i = 0; must_see[i] != NULL; i++)
		if (!seen[i])
			fail_msg("no \"%s\" line in the log", must_see[i]);
	assert_true(log_contains(&d, " reason=shutdown "));
	assert_true(log_contains(&d, " reason=too_long "));
	assert_true(log_contains(&d, " reason=idle_timeout "));
	assert_true(log_contains(&d, " reason=max_duration "));
	assert_true(log_contains(&d, " reason=client_close "));
	assert_true(log_contains(&d, "daytime: connect peer=h:"));
	assert_true(log_contains(&d, " via=127.0.0.1\n"));
	assert_true(log_contains(&d, " reason=proxy_header detail=signature\n"));
	assert_true(log_contains(&d, " reason=proxy_untrusted\n"));
	assert_true(log_contains(&d, " cause=overlap\n"));
	assert_true(log_contains(&d, " cause=removed\n"));
	/* A quoted value keeps its escapes: the program's quotes cannot end it. */
	assert_true(log_contains(&d, " line=\"a \\\"quoted\\\" word\"\n"));
}

/* The grammar itself: lines it takes and lines it must not. */
static void
test_grammar_examples(void **state)
{
	static const char *const good[] = {
		"hellod: stopped",
		"hello: end peer=[::1]:5 reason=quit duration=0.001 in=1 out=2",
		"x.y-z: refused peer=- reason=guard detail=\"a \\\"b\\\" \\\\ c\"",
		NULL
	};
	static const char *const bad[] = {
		"hello: end peer=1.2.3.4:5 reason=client close",
		"hello: connect 1.2.3.4:5",
		"hello: stderr line=\"unterminated",
		"hello: stderr line=\"a\" b\"",
		"hello closing tcp",
		NULL
	};
	size_t	 i;

	(void)state;
	for (i = 0; good[i] != NULL; i++)
		if (regexec(&re_line, good[i], 0, NULL, 0) != 0)
			fail_msg("refused: %s", good[i]);
	for (i = 0; bad[i] != NULL; i++)
		if (regexec(&re_line, bad[i], 0, NULL, 0) == 0)
			fail_msg("taken: %s", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammar_examples),
		cmocka_unit_test_teardown(test_grammar, harness_teardown),
	};

	harness_init();
	assert_int_equal(regcomp(&re_line, grammar, REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&re_config, config_error,
	    REG_EXTENDED | REG_NOSUB), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
