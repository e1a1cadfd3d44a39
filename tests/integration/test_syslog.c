/* Integration: hellod's lines reach a real rsyslogd with ident, facility and priority. */
#include <sys/types.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "harness.h"
#include "snippets.h"

#define T_MS		harness_ms(5000)
#define RSYSLOG_MS	10000

/*
 * Every line rsyslogd receives is written as "FACILITY.SEVERITY
 * PROGRAM[PID]: MESSAGE", so a test reads the priority a line was sent
 * with straight off the file.  Only our socket is read (no system socket,
 * no kernel log), and without imuxsock's rate limit, which would drop
 * lines of a busy test.
 */
#define RSYSLOG_CONF \
    "global(workDirectory=\"%s\")\n" \
    "module(load=\"imuxsock\" SysSock.Use=\"off\")\n" \
    "input(type=\"imuxsock\" Socket=\"%s\" RateLimit.Interval=\"0\")\n" \
    "template(name=\"hellodtest\" type=\"string\" string=\"" \
    "%%syslogfacility-text%%.%%syslogseverity-text%% " \
    "%%programname%%[%%procid%%]:%%msg:::sp-if-no-1st-sp%%" \
    "%%msg:::drop-last-lf%%\\n\")\n" \
    "*.* action(type=\"omfile\" file=\"%s\" template=\"hellodtest\")\n"

static const char *const rsyslogd_paths[] = {
	"/usr/sbin/rsyslogd", "/sbin/rsyslogd",
};

/* Device nodes and directories the daemons may open, taken from the real /dev. */
static const char *const dev_nodes[] = {
	"null", "zero", "full", "random", "urandom", "tty",
};
static const char *const dev_dirs[] = { "pts", "shm" };

static pid_t rsyslog_pid;
static char messages[PATH_MAX];
static size_t messages_from;	/* where the current test's lines begin */
static unsigned nmarker;

/* Both services the tests talk to, logging to local3. */
static const char *const conf_local3 =
    "[global]\n"
    "facility = local3\n"
    SN_HELLO_TCP_UDP
    "[echo]\n"
    "protocol = tcp\n"
    "port = @P1@\n"
    "bind = 127.0.0.1\n"
    "handler = echo\n";

/* The same without a facility: the default is daemon. */
static const char *const conf_default =
    SN_HELLO_TCP;

/* One service fewer, and the facility changed to local4. */
static const char *const conf_local4 =
    "[global]\n"
    "facility = local4\n"
    SN_HELLO_TCP_UDP;

/* Line 9 holds an unknown key and line 11 a bad port. */
static const char *const conf_broken =
    "[global]\n"			/* 1 */
    "facility = local3\n"		/* 2 */
    "[hello]\n"				/* 3 */
    "protocol = tcp udp\n"		/* 4 */
    "port = @P0@\n"			/* 5 */
    "bind = 127.0.0.1\n"		/* 6 */
    "handler = hello\n"			/* 7 */
    "[echo]\n"				/* 8 */
    "no_such_key = 1\n"			/* 9 */
    "protocol = tcp\n"			/* 10 */
    "port = 0\n"			/* 11 */
    "bind = 127.0.0.1\n"		/* 12 */
    "handler = echo\n";			/* 13 */

static const char *const conf_notice =
    "[global]\n"
    "facility = local3\n"
    "log_level = notice\n"
    SN_HELLO_TCP_UDP;

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * rsyslogd's file from where the current test began.  Earlier lines are
 * left out: pids are reused, and a busy machine goes round them quickly.
 */
static char *
messages_read(void)
{
	char *text = harness_read_file(messages);
	size_t len = strlen(text);

	if (messages_from > 0) {
		if (messages_from > len)
			messages_from = len;
		memmove(text, text + messages_from, len - messages_from + 1);
	}
	return text;
}

/* Does line start with prefix, hold needle and end with suffix (NULL: any)? */
static bool
line_matches(const char *line, const char *prefix, const char *needle,
    const char *suffix)
{
	size_t len = strlen(line), slen = suffix != NULL ? strlen(suffix) : 0;

	if (strncmp(line, prefix, strlen(prefix)) != 0)
		return false;
	if (needle != NULL && strstr(line, needle) == NULL)
		return false;
	return slen == 0 || (len >= slen && strcmp(line + len - slen, suffix) == 0);
}

/*
 * The first line of rsyslogd's file that matches, malloc'ed without its
 * newline, or NULL; *count, when not NULL, gets the number of matches.
 */
static char *
line_scan(const char *prefix, const char *needle, const char *suffix,
    unsigned *count)
{
	char *text = messages_read(), *line, *next, *found = NULL;
	unsigned n = 0;

	for (line = text; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) == NULL)
			break;		/* rsyslogd is still writing it */
		*next++ = '\0';
		if (!line_matches(line, prefix, needle, suffix))
			continue;
		if (n++ == 0 && (found = strdup(line)) == NULL)
			fail_msg("out of memory");
	}
	free(text);
	if (count != NULL)
		*count = n;
	return found;
}

/* Poll for such a line for at most timeout_ms; NULL when none came. */
static char *
line_wait(const char *prefix, const char *needle, const char *suffix,
    int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	char *line;

	for (;;) {
		if ((line = line_scan(prefix, needle, suffix, NULL)) != NULL)
			return line;
		if (now_ms() >= end)
			return NULL;
		sleep_ms(20);
	}
}

static void
messages_dump(void)
{
	char *text = messages_read();

	print_error("---- %s, this test's lines ----\n%s---- end ----\n",
	    messages, text);
	free(text);
}

/* Wait for a matching line; fail, printing the file, when none comes. */
static char *
expect_line(const char *prefix, const char *needle, const char *suffix)
{
	char *line = line_wait(prefix, needle, suffix, T_MS);

	if (line == NULL) {
		messages_dump();
		fail_msg("no line \"%s...%s...%s\" from rsyslogd", prefix,
		    needle != NULL ? needle : "", suffix != NULL ? suffix : "");
	}
	return line;
}

/* How many lines of rsyslogd's file are exactly want. */
static unsigned
lines_equal(const char *want)
{
	char *text = messages_read(), *line, *next;
	unsigned n = 0;

	for (line = text; (next = strchr(line, '\n')) != NULL; line = next) {
		*next++ = '\0';
		if (strcmp(line, want) == 0)
			n++;
	}
	free(text);
	return n;
}

/* Wait for a line that is exactly want; fail, printing the file, without. */
static void
expect_exact(const char *want)
{
	uint64_t end = now_ms() + T_MS;

	while (lines_equal(want) == 0) {
		if (now_ms() >= end) {
			messages_dump();
			fail_msg("no line \"%s\" from rsyslogd", want);
		}
		sleep_ms(20);
	}
}

/*
 * Log a marker line of our own and wait until rsyslogd has written it.
 * rsyslogd keeps the order of its socket, so whatever hellod sent before
 * now is in the file too: the way to prove that a line did not come.
 */
static bool
syslog_marker(void)
{
	char want[128], *line;

	nmarker++;
	openlog("test_syslog", LOG_PID, LOG_USER);
	syslog(LOG_NOTICE, "marker %u", nmarker);
	closelog();
	snprintf(want, sizeof(want), "user.notice test_syslog[%ld]: marker %u",
	    (long)getpid(), nmarker);
	line = line_wait(want, NULL, NULL, T_MS);
	free(line);
	return line != NULL;
}

static void
syslog_barrier(void)
{
	if (!syslog_marker()) {
		messages_dump();
		fail_msg("our own marker line did not reach rsyslogd");
	}
}

/* cmocka setup: a test sees only the lines logged after this. */
static int
messages_mark(void **state)
{
	char *text;

	(void)state;
	messages_from = 0;
	syslog_barrier();
	text = harness_read_file(messages);
	messages_from = strlen(text);
	free(text);
	return 0;
}

/* "FACILITY.SEVERITY hellod[PID]: " for the daemon's own pid. */
static const char *
tag(const char *prio, pid_t pid)
{
	static char bufs[4][64];
	static unsigned next;
	char *p = bufs[next++ % 4];

	snprintf(p, 64, "%s hellod[%ld]: ", prio, (long)pid);
	return p;
}

/* Every line from hellod[pid] came under facility, whatever its severity. */
static void
all_lines_under(pid_t pid, const char *facility)
{
	char any[64], mine[64];
	unsigned nall, nmine, i;
	const char *sev[] = { "emerg", "alert", "crit", "err", "warning",
	    "notice", "info", "debug" };

	/* Every line the daemon sent is in the file before we count. */
	syslog_barrier();
	snprintf(any, sizeof(any), " hellod[%ld]: ", (long)pid);
	free(line_scan("", any, NULL, &nall));
	nmine = 0;
	for (i = 0; i < sizeof(sev) / sizeof(sev[0]); i++) {
		unsigned n;

		snprintf(mine, sizeof(mine), "%s.%s hellod[%ld]: ", facility,
		    sev[i], (long)pid);
		free(line_scan(mine, NULL, NULL, &n));
		nmine += n;
	}
	assert_true(nall > 0);
	assert_int_equal(nmine, nall);
}

static uint16_t
local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* A UDP socket on 127.0.0.1 bound to a free port below 1024 (we are root). */
static int
udp_low_socket(uint16_t *port)
{
	uint16_t p;
	int fd;

	for (p = 1023; p > 600; p--) {
		if ((fd = udp_socket("127.0.0.1", p)) != -1) {
			*port = p;
			return fd;
		}
	}
	fail_msg("no free UDP port below 1024");
	return -1;
}

/* Send "Michael" to hello from a port below 1024: no reply, one refusal. */
static uint16_t
send_refused(uint16_t port)
{
	char buf[600];
	uint16_t sport = 0;
	int fd = udp_low_socket(&sport);

	assert_int_equal(udp_exchange(fd, "127.0.0.1", port, "Michael", 7,
	    buf, sizeof(buf), 300), -1);
	close(fd);
	return sport;
}

/*
 * Connect to hello and read its greeting; *cport gets our port, which
 * the connection lines name.  Without a greeting the rsyslogd file is
 * printed: the child's log lines may tell what became of the connection.
 */
static int
hello_connect(uint16_t port, uint16_t *cport)
{
	char line[256];
	int fd = tcp_connect("127.0.0.1", port, T_MS);

	assert_true(fd >= 0);
	*cport = local_port(fd);
	if (read_line(fd, line, sizeof(line), T_MS) <= 0 ||
	    strcmp(line, "Welcome!\r\n") != 0) {
		messages_dump();
		fail_msg("no greeting from hello on port %u", port);
	}
	return fd;
}

static void
test_startup_and_stop(void **state)
{
	struct daemon d;
	char want[PATH_MAX + 256];
	pid_t pid;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_local3), 0);
	pid = d.pid;
	snprintf(want, sizeof(want), "%shellod: started version=%s pid=%ld "
	    "services=2 enabled=2 config=%s", tag("local3.info", pid),
	    PACKAGE_VERSION, (long)pid, d.conf);
	expect_exact(want);
	snprintf(want, sizeof(want), "%shello: listen proto=tcp addr=127.0.0.1:%u",
	    tag("local3.info", pid), d.port[0]);
	expect_exact(want);
	snprintf(want, sizeof(want), "%shello: listen proto=udp addr=127.0.0.1:%u",
	    tag("local3.info", pid), d.port[0]);
	expect_exact(want);
	snprintf(want, sizeof(want), "%secho: listen proto=tcp addr=127.0.0.1:%u",
	    tag("local3.info", pid), d.port[1]);
	expect_exact(want);

	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	snprintf(want, sizeof(want), "%shellod: stopping signal=SIGTERM",
	    tag("local3.info", pid));
	expect_exact(want);
	snprintf(want, sizeof(want), "%shellod: stopped", tag("local3.info", pid));
	expect_exact(want);
	all_lines_under(pid, "local3");
}

static void
test_default_facility(void **state)
{
	struct daemon d;
	char want[PATH_MAX + 256];
	pid_t pid;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_default), 0);
	pid = d.pid;
	snprintf(want, sizeof(want), "%shellod: started version=%s pid=%ld "
	    "services=1 enabled=1 config=%s", tag("daemon.info", pid),
	    PACKAGE_VERSION, (long)pid, d.conf);
	expect_exact(want);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	snprintf(want, sizeof(want), "%shellod: stopped", tag("daemon.info", pid));
	expect_exact(want);
	all_lines_under(pid, "daemon");
}

/*
 * The connection lines come from the child, so they carry its pid, not
 * the daemon's: a child's syslog socket is its own.
 */
static void
test_connection_lines(void **state)
{
	struct daemon d;
	char line[256], needle[128], prefix[64], suffix[64];
	char *connect, *end;
	uint16_t cport;
	long child;
	int fd;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_local3), 0);
	fd = hello_connect(d.port[0], &cport);
	assert_int_equal(send_str(fd, "Michael\n"), 0);
	assert_true(read_line(fd, line, sizeof(line), T_MS) > 0);
	assert_string_equal(line, "Hello, Michael!\r\n");
	assert_int_equal(send_str(fd, "exit\n"), 0);
	assert_int_equal(read_all(fd, line, sizeof(line), T_MS), 0);
	close(fd);

	snprintf(suffix, sizeof(suffix), "]: hello: connect peer=127.0.0.1:%u", cport);
	connect = expect_line("local3.info hellod[", NULL, suffix);
	assert_int_equal(sscanf(connect, "local3.info hellod[%ld]", &child), 1);
	assert_true(child > 0 && child != (long)d.pid);
	free(connect);

	snprintf(prefix, sizeof(prefix), "local3.info hellod[%ld]: ", child);
	snprintf(needle, sizeof(needle),
	    "]: hello: end peer=127.0.0.1:%u reason=quit duration=", cport);
	end = expect_line(prefix, needle, " in=13 out=27");
	free(end);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	all_lines_under(child, "local3");
}

static void
test_reload_lines(void **state)
{
	struct daemon d;
	char want[PATH_MAX + 128];

	(void)state;
	assert_int_equal(daemon_start(&d, conf_local3), 0);
	daemon_rewrite(&d, conf_local3);
	daemon_signal(&d, SIGHUP);
	snprintf(want, sizeof(want), "%shellod: reloading config=%s",
	    tag("local3.info", d.pid), d.conf);
	expect_exact(want);
	snprintf(want, sizeof(want), "%shellod: reloaded services=2 added=0 "
	    "removed=0 changed=0 listeners_kept=3 listeners_opened=0 "
	    "listeners_closed=0", tag("local3.info", d.pid));
	expect_exact(want);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

static void
test_reload_error_lines(void **state)
{
	struct daemon d;
	char want[PATH_MAX + 128];
	unsigned n;
	pid_t pid;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_local3), 0);
	pid = d.pid;
	daemon_rewrite(&d, conf_broken);
	daemon_signal(&d, SIGHUP);
	snprintf(want, sizeof(want), "%shellod: reload_failed cause=config "
	    "errors=2", tag("local3.err", pid));
	expect_exact(want);
	snprintf(want, sizeof(want), "%s%s:9: ", tag("local3.err", pid), d.conf);
	free(expect_line(want, "no_such_key", NULL));
	snprintf(want, sizeof(want), "%s%s:11: ", tag("local3.err", pid), d.conf);
	free(expect_line(want, "port", NULL));
	/* Exactly those two errors, and nothing claims the reload worked. */
	snprintf(want, sizeof(want), "%s%s:", tag("local3.err", pid), d.conf);
	free(line_scan(want, NULL, NULL, &n));
	assert_int_equal(n, 2);
	snprintf(want, sizeof(want), "hellod[%ld]: hellod: reloaded ",
	    (long)pid);
	free(line_scan("", want, NULL, &n));
	assert_int_equal(n, 0);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	all_lines_under(pid, "local3");
}

/*
 * The reload line is logged after the new config took over, so it and
 * everything after it, children included, use the new facility.
 */
static void
test_reload_changes_facility(void **state)
{
	struct daemon d;
	char want[PATH_MAX + 128];
	uint16_t cport;
	pid_t pid;
	int fd;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_local3), 0);
	pid = d.pid;
	daemon_rewrite(&d, conf_local4);
	daemon_signal(&d, SIGHUP);
	snprintf(want, sizeof(want), "%shellod: reloading config=%s",
	    tag("local3.info", d.pid), d.conf);
	expect_exact(want);
	snprintf(want, sizeof(want), "%shellod: reloaded services=1 ",
	    tag("local4.info", d.pid));
	free(expect_line(want, NULL, NULL));

	fd = hello_connect(d.port[0], &cport);
	close(fd);
	snprintf(want, sizeof(want), "]: hello: connect peer=127.0.0.1:%u", cport);
	free(expect_line("local4.info hellod[", NULL, want));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	snprintf(want, sizeof(want), "%shellod: stopped", tag("local4.info", pid));
	expect_exact(want);
}

static void
test_refused_notice(void **state)
{
	struct daemon d;
	char want[256];
	uint16_t sport;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_local3), 0);
	sport = send_refused(d.port[0]);
	snprintf(want, sizeof(want), "%shello: refused peer=127.0.0.1:%u reason=guard "
	    "detail=\"source port below 1024\"", tag("local3.notice", d.pid), sport);
	expect_exact(want);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* log_level = notice: the refusal reaches syslog, a connection does not. */
static void
test_log_level_notice(void **state)
{
	struct daemon d;
	char want[256], line[64];
	unsigned n;
	uint16_t sport, cport;
	int fd;

	(void)state;
	assert_int_equal(daemon_start(&d, conf_notice), 0);
	fd = hello_connect(d.port[0], &cport);
	assert_int_equal(send_str(fd, "exit\n"), 0);
	assert_int_equal(read_all(fd, line, sizeof(line), T_MS), 0);
	close(fd);
	proc_wait_children(d.pid, 0, T_MS);
	sport = send_refused(d.port[0]);
	snprintf(want, sizeof(want), "%shello: refused peer=127.0.0.1:%u reason=guard "
	    "detail=\"source port below 1024\"", tag("local3.notice", d.pid), sport);
	expect_exact(want);
	/* Not a single info line, from the daemon or its child. */
	syslog_barrier();
	free(line_scan(tag("local3.info", d.pid), NULL, NULL, &n));
	assert_int_equal(n, 0);
	snprintf(want, sizeof(want), "]: hello: connect peer=127.0.0.1:%u", cport);
	free(line_scan("", want, NULL, &n));
	assert_int_equal(n, 0);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* -d lets debug lines through, at the debug priority. */
static void
test_debug_option(void **state)
{
	static const char *const debug[] = { "-d", NULL };
	struct daemon d;
	char buf[600], want[256];
	int fd;

	(void)state;
	assert_int_equal(daemon_start_with(&d, conf_local3, HD_PROBE_TCP, debug), 0);
	fd = udp_socket("127.0.0.1", 0);
	assert_true(fd >= 0);
	assert_int_equal(udp_exchange(fd, "127.0.0.1", d.port[0], "Michael", 7,
	    buf, sizeof(buf), T_MS), 15);
	snprintf(want, sizeof(want), "%shello: datagram peer=127.0.0.1:%u len=7",
	    tag("local3.debug", d.pid), local_port(fd));
	close(fd);
	free(expect_line(want, NULL, NULL));
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* Errors in the file at start: each at daemon.err (no facility read yet), exit 78. */
static void
test_startup_errors(void **state)
{
	struct daemon d;
	const char *argv[] = { "-f", "-c", d.conf, NULL };
	const char *conf = d.conf;
	char want[PATH_MAX + 64];
	unsigned n, before;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.port[0] = harness_free_port();
	snprintf(d.conf, sizeof(d.conf), "%s", harness_path("broken.ini"));
	daemon_rewrite(&d, conf_broken);
	assert_int_equal(harness_run(NULL, NULL, argv), 78);
	snprintf(want, sizeof(want), "]: %s:9: ", conf);
	free(expect_line("daemon.err hellod[", want, NULL));
	snprintf(want, sizeof(want), "]: %s:11: ", conf);
	free(expect_line("daemon.err hellod[", want, NULL));

	/* -t checks the same file without a word to syslog. */
	snprintf(want, sizeof(want), "]: %s:", conf);
	syslog_barrier();
	free(line_scan("", want, NULL, &before));
	assert_int_equal(before, 2);
	argv[0] = "-t";
	assert_int_equal(harness_run(NULL, NULL, argv), 78);
	syslog_barrier();
	free(line_scan("", want, NULL, &n));
	assert_int_equal(n, before);
}

/*
 * Make mounts made from now on invisible outside this namespace: "/" and
 * everything below it, or, where "/" is no mount point (in a chroot),
 * /dev alone, which then must be one: a mount on a plain directory of a
 * shared mount would show in the machine's namespace too.
 */
static int
private_mounts(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	return mount(NULL, "/dev", NULL, MS_REC | MS_PRIVATE, NULL);
}

/*
 * Put the real dev_nodes and dev_dirs back into the new /dev, from the
 * O_PATH descriptors taken before it covered them: a bind mount follows
 * /proc/self/fd/N to the file itself.
 */
static int
dev_rebind(const int *nodes, const int *dirs)
{
	char path[64], src[64];
	size_t i;
	int fd;

	for (i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		if (nodes[i] == -1)
			continue;
		snprintf(path, sizeof(path), "/dev/%s", dev_nodes[i]);
		snprintf(src, sizeof(src), "/proc/self/fd/%d", nodes[i]);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
			return -1;
		close(fd);
		if (mount(src, path, NULL, MS_BIND, NULL) == -1)
			return -1;
	}
	for (i = 0; i < sizeof(dev_dirs) / sizeof(dev_dirs[0]); i++) {
		if (dirs[i] == -1)
			continue;
		snprintf(path, sizeof(path), "/dev/%s", dev_dirs[i]);
		snprintf(src, sizeof(src), "/proc/self/fd/%d", dirs[i]);
		if (mkdir(path, 0755) == -1 ||
		    mount(src, path, NULL, MS_BIND | MS_REC, NULL) == -1)
			return -1;
	}
	return 0;
}

/*
 * Give this process, and so every rsyslogd and hellod it starts, a /dev
 * of its own whose "log" leads to our rsyslogd's socket.  syslog(3) has
 * /dev/log compiled in, and the machine's may be missing, a socket or a
 * symbolic link, so the whole of /dev is replaced, in a private mount
 * namespace: a tmpfs holding bind mounts of the few real devices a daemon
 * opens.  Nothing changes outside this process's namespace, which ends
 * with it.  Where the kernel or the machine (a container, a chroot without
 * a /dev mount) does not allow it, the test is skipped.
 */
static int
private_dev(const char *sock)
{
	int nodes[sizeof(dev_nodes) / sizeof(dev_nodes[0])];
	int dirs[sizeof(dev_dirs) / sizeof(dev_dirs[0])];
	const char *step;
	size_t i;
	int rc = 77;

	for (i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++)
		nodes[i] = -1;
	for (i = 0; i < sizeof(dev_dirs) / sizeof(dev_dirs[0]); i++)
		dirs[i] = -1;
	step = "unshare(CLONE_NEWNS)";
	if (unshare(CLONE_NEWNS) == -1)
		goto out;
	step = "private mounts";
	if (private_mounts() == -1)
		goto out;
	for (i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		char src[64];

		snprintf(src, sizeof(src), "/dev/%s", dev_nodes[i]);
		nodes[i] = open(src, O_PATH | O_CLOEXEC);
	}
	for (i = 0; i < sizeof(dev_dirs) / sizeof(dev_dirs[0]); i++) {
		char src[64];

		snprintf(src, sizeof(src), "/dev/%s", dev_dirs[i]);
		dirs[i] = open(src, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	step = "tmpfs on /dev";
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755") == -1)
		goto out;
	/* From here on a failure leaves this process without a usable /dev. */
	rc = 99;
	step = "/dev contents";
	if (dev_rebind(nodes, dirs) == -1 ||
	    symlink("/proc/self/fd", "/dev/fd") == -1 ||
	    symlink(sock, "/dev/log") == -1)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "private /dev (%s): %s%s\n", step,
		    strerror(errno), rc == 77 ? ": skipped" : "");
	for (i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++)
		if (nodes[i] != -1)
			close(nodes[i]);
	for (i = 0; i < sizeof(dev_dirs) / sizeof(dev_dirs[0]); i++)
		if (dirs[i] != -1)
			close(dirs[i]);
	return rc;
}

/* At exit: SIGTERM, at most RSYSLOG_MS to go, then SIGKILL. */
static void
rsyslogd_stop(void)
{
	uint64_t end = now_ms() + RSYSLOG_MS;
	pid_t r;

	if (rsyslog_pid <= 0)
		return;
	kill(rsyslog_pid, SIGTERM);
	while ((r = waitpid(rsyslog_pid, NULL, WNOHANG)) == 0 &&
	    now_ms() < end)
		sleep_ms(20);
	if (r == 0) {
		kill(rsyslog_pid, SIGKILL);
		waitpid(rsyslog_pid, NULL, 0);
	}
	rsyslog_pid = 0;
}

/* Wait until rsyslogd's socket exists; false when it exited or timed out. */
static bool
rsyslogd_wait(const char *sock)
{
	uint64_t end = now_ms() + RSYSLOG_MS;
	struct stat st;

	while (now_ms() < end) {
		if (waitpid(rsyslog_pid, NULL, WNOHANG) == rsyslog_pid) {
			rsyslog_pid = 0;
			return false;
		}
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return true;
		sleep_ms(20);
	}
	return false;
}

/*
 * Run "rsyslogd -n" on a config of its own: one socket in the temporary
 * directory, no kernel log, everything to one file.  It is told to die
 * with us, in case we are killed before our exit handler runs.
 */
static int
rsyslogd_start(const char *rsyslogd, const char *sock)
{
	const char *conf = harness_path("rsyslog.conf");
	char pidfile[PATH_MAX], errfile[PATH_MAX], *err;
	int fd;

	snprintf(messages, sizeof(messages), "%s", harness_path("messages"));
	snprintf(pidfile, sizeof(pidfile), "%s", harness_path("rsyslogd.pid"));
	snprintf(errfile, sizeof(errfile), "%s", harness_path("rsyslogd.err"));
	harness_write_file(conf, RSYSLOG_CONF, harness_dir(), sock, messages);
	fflush(stdout);
	fflush(stderr);
	if ((rsyslog_pid = fork()) == -1) {
		perror("fork");
		return 99;
	}
	if (rsyslog_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			close(fd);
		}
		if ((fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1) {
			dup2(fd, 2);
			close(fd);
		}
		closefrom(3);
		execl(rsyslogd, "rsyslogd", "-n", "-f", conf, "-i", pidfile,
		    (char *)NULL);
		_exit(127);
	}
	/* Registered after the harness's: runs first, before the directory goes. */
	atexit(rsyslogd_stop);
	if (!rsyslogd_wait(sock)) {
		err = harness_read_file(errfile);
		fprintf(stderr, "%s did not open %s within %d ms:\n%s", rsyslogd,
		    sock, RSYSLOG_MS, err);
		free(err);
		return 99;
	}
	return 0;
}

static const char *
rsyslogd_find(void)
{
	size_t i;

	for (i = 0; i < sizeof(rsyslogd_paths) / sizeof(rsyslogd_paths[0]); i++)
		if (access(rsyslogd_paths[i], X_OK) == 0)
			return rsyslogd_paths[i];
	return NULL;
}

#define T(name) \
	cmocka_unit_test_setup_teardown(name, messages_mark, harness_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_startup_and_stop),
		T(test_default_facility),
		T(test_connection_lines),
		T(test_reload_lines),
		T(test_reload_error_lines),
		T(test_reload_changes_facility),
		T(test_refused_notice),
		T(test_log_level_notice),
		T(test_debug_option),
		T(test_startup_errors),
	};
	const char *rsyslogd;
	char sock[PATH_MAX];
	int rc;

	harness_init();
	if (geteuid() != 0) {
		fprintf(stderr, "not root (a private /dev/log needs a mount "
		    "namespace): skipped\n");
		return 77;
	}
	if ((rsyslogd = rsyslogd_find()) == NULL) {
		fprintf(stderr, "rsyslogd not found (install rsyslog): skipped\n");
		return 77;
	}
	/* harness_path() reuses its buffers: keep a copy. */
	snprintf(sock, sizeof(sock), "%s", harness_path("log"));
	if ((rc = private_dev(sock)) != 0 ||
	    (rc = rsyslogd_start(rsyslogd, sock)) != 0)
		return rc;
	/* The whole way: syslog(3), /dev/log, rsyslogd, the file. */
	if (!syslog_marker()) {
		fprintf(stderr, "a line sent to /dev/log did not reach %s\n",
		    messages);
		return 99;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
