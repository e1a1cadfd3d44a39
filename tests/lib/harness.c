/* Integration test harness: run the real hellod on loopback and talk to it. */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "harness.h"

/* Every wait the harness does is bounded by this much. */
#define START_TIMEOUT_MS	10000
#define STOP_TIMEOUT_MS		10000
#define POLL_STEP_MS		20
#define MAX_DAEMONS		64
#define START_TRIES		3

static const char *hellod;
static char tmpdir[PATH_MAX];
static pid_t owner;		/* only the process that made tmpdir removes it */
static pid_t started[MAX_DAEMONS];
static unsigned ndaemons;
static unsigned nconf;
static uint16_t given[256];	/* ports handed out, never given twice */
static size_t ngiven;

int
harness_ms(int ms)
{
	static int scale;
	const char *v;
	char *end;
	long n;

	if (scale == 0) {
		scale = 1;
		if ((v = getenv("HELLOD_TIMEOUT_SCALE")) != NULL && *v != '\0') {
			n = strtol(v, &end, 10);
			if (*end != '\0' || n < 1 || n > 100)
				fprintf(stderr, "HELLOD_TIMEOUT_SCALE=%s is not a whole "
				    "number from 1 to 100: ignored\n", v);
			else
				scale = (int)n;
		}
	}
	return ms > INT_MAX / scale ? INT_MAX : ms * scale;
}

bool
harness_valgrind(void)
{
	const char *v = getenv("HELLOD_VALGRIND");

	return v != NULL && *v != '\0';
}

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* snprintf that fails the test instead of cutting a path short. */
static void __attribute__((format(printf, 3, 4)))
xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		fail_msg("path too long");
}

/* The directory holds only files and sockets the tests and daemons made. */
static void
remove_tmpdir(void)
{
	DIR *dir;
	struct dirent *de;
	char path[PATH_MAX];

	if ((dir = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		xsnprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
		unlink(path);
	}
	closedir(dir);
	rmdir(tmpdir);
}

static void
harness_cleanup(void)
{
	unsigned i;

	if (getpid() != owner)
		return;
	for (i = 0; i < ndaemons; i++) {
		if (started[i] > 0) {
			kill(started[i], SIGKILL);
			waitpid(started[i], NULL, 0);
		}
	}
	if (tmpdir[0] != '\0' && getenv("HELLOD_KEEP_TMP") == NULL)
		remove_tmpdir();
}

/*
 * The daemon comes from $HELLOD, set by "make check"; without it there is
 * nothing to test, which is a skip, not a pass.
 */
void
harness_init(void)
{
	const char *base;

	hellod = getenv("HELLOD");
	if (hellod == NULL || access(hellod, X_OK) != 0) {
		fprintf(stderr, "HELLOD is unset or not executable: skipped\n");
		exit(77);
	}
	if ((base = getenv("TMPDIR")) == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/hellod-test.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", tmpdir, strerror(errno));
		exit(99);
	}
	owner = getpid();
	atexit(harness_cleanup);
	signal(SIGPIPE, SIG_IGN);
	/* Run only the cases whose names match, e.g. HELLOD_TEST=test_sigint. */
	if ((base = getenv("HELLOD_TEST")) != NULL && *base != '\0')
		cmocka_set_test_filter(base);
}

const char *
harness_dir(void)
{
	return tmpdir;
}

const char *
harness_path(const char *name)
{
	static char bufs[4][PATH_MAX];
	static unsigned next;
	char *p = bufs[next++ % 4];

	xsnprintf(p, PATH_MAX, "%s/%s", tmpdir, name);
	return p;
}

static int
bind_probe(int family, int type, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, rv;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if ((fd = socket(family, type | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rv = bind(fd, (struct sockaddr *)&ss, len);
	close(fd);
	return rv;
}

const char *
harness_program(const char *env, const char *path)
{
	const char *p = getenv(env);

	if (p != NULL && access(p, X_OK) == 0)
		return p;
	return access(path, X_OK) == 0 ? path : NULL;
}

bool
harness_have_ipv6(void)
{
	static int have = -1;

	if (have == -1)
		have = bind_probe(AF_INET6, SOCK_DGRAM, 0) == 0;
	return have;
}

static bool
port_given(uint16_t port)
{
	size_t i;

	for (i = 0; i < ngiven; i++)
		if (given[i] == port)
			return true;
	return false;
}

/*
 * Ports come from below the kernel's ephemeral range so that our own
 * client sockets never take a port a daemon is about to bind.
 */
uint16_t
harness_free_port(void)
{
	unsigned tries;
	uint16_t port;

	for (tries = 0; tries < 500; tries++) {
		port = (uint16_t)(20000 + arc4random_uniform(12000));
		if (port_given(port))
			continue;
		if (bind_probe(AF_INET, SOCK_STREAM, port) == -1 ||
		    bind_probe(AF_INET, SOCK_DGRAM, port) == -1)
			continue;
		if (harness_have_ipv6() &&
		    (bind_probe(AF_INET6, SOCK_STREAM, port) == -1 ||
		    bind_probe(AF_INET6, SOCK_DGRAM, port) == -1))
			continue;
		if (ngiven < sizeof(given) / sizeof(given[0]))
			given[ngiven++] = port;
		return port;
	}
	fail_msg("no free port found");
	return 0;
}

void
harness_write_file(const char *path, const char *fmt, ...)
{
	va_list ap;
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		fail_msg("fopen %s: %s", path, strerror(errno));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f) != 0)
		fail_msg("write %s: %s", path, strerror(errno));
}

char *
harness_read_file(const char *path)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];

	if ((f = fopen(path, "r")) != NULL) {
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
			char *nb = realloc(buf, len + n + 1);

			if (nb == NULL)
				break;
			buf = nb;
			memcpy(buf + len, chunk, n);
			len += n;
		}
		fclose(f);
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		fail_msg("out of memory");
	buf[len] = '\0';
	return buf;
}

static int
decode_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

static void
track(pid_t pid)
{
	unsigned i;

	for (i = 0; i < ndaemons; i++) {
		if (started[i] == 0) {
			started[i] = pid;
			return;
		}
	}
	if (ndaemons < MAX_DAEMONS)
		started[ndaemons++] = pid;
}

static void
untrack(pid_t pid)
{
	unsigned i;

	for (i = 0; i < ndaemons; i++)
		if (started[i] == pid)
			started[i] = 0;
}

/*
 * Fork and exec the daemon with stdout and stderr to files.  The child
 * gets SIGPIPE back at its default and an empty signal mask, as a
 * daemon started from a shell would.
 */
/* Sockets the next daemon gets the way systemd passes them (harness_pass_fds). */
static int	pass_fds[8];
static size_t	npass;

void
harness_pass_fds(const int *fds, size_t n)
{
	size_t	 i;

	if (n > sizeof(pass_fds) / sizeof(pass_fds[0]))
		fail_msg("too many descriptors to pass");
	for (i = 0; i < n; i++)
		pass_fds[i] = fds[i];
	npass = n;
}

/*
 * In the child about to exec the daemon: put the passed sockets on
 * descriptors 3, 4, ... and say so in LISTEN_FDS and LISTEN_PID (our own
 * pid, which exec keeps), as sd_listen_fds(3) expects; close the rest.
 */
static void
pass_setup(void)
{
	int	 high[8];
	size_t	 i;
	char	 buf[32];

	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	/* Out of the way first, so that no dup2 below closes a source. */
	for (i = 0; i < npass; i++)
		if ((high[i] = fcntl(pass_fds[i], F_DUPFD, 100)) == -1)
			_exit(126);
	for (i = 0; i < npass; i++)
		if (dup2(high[i], 3 + (int)i) == -1)
			_exit(126);
	closefrom(3 + (int)npass);
	if (npass == 0)
		return;
	snprintf(buf, sizeof(buf), "%zu", npass);
	setenv("LISTEN_FDS", buf, 1);
	snprintf(buf, sizeof(buf), "%ld", (long)getpid());
	setenv("LISTEN_PID", buf, 1);
}

static pid_t
spawn(const char *const argv[], const char *outpath, const char *errpath)
{
	pid_t pid;
	sigset_t none;
	int fd;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid > 0) {
		track(pid);
		return pid;
	}
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		dup2(fd, 0);
		close(fd);
	}
	if ((fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1) {
		dup2(fd, 1);
		close(fd);
	}
	if ((fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1) {
		dup2(fd, 2);
		close(fd);
	}
	pass_setup();
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/* Wait for pid at most timeout_ms; its decoded status, or -1 if still running. */
static int
wait_pid(pid_t pid, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			untrack(pid);
			return decode_status(status);
		}
		if (r == -1 && errno != EINTR)
			return -1;
		if (now_ms() >= end)
			return -1;
		sleep_ms(5);
	}
}

int
harness_run(char **out, char **err, const char *const args[])
{
	const char *argv[32];
	char outpath[PATH_MAX], errpath[PATH_MAX];
	size_t i;
	pid_t pid;
	int rc;

	argv[0] = hellod;
	for (i = 0; args[i] != NULL && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	xsnprintf(outpath, sizeof(outpath), "%s/run%u.out", tmpdir, nconf);
	xsnprintf(errpath, sizeof(errpath), "%s/run%u.err", tmpdir, nconf);
	nconf++;
	pid = spawn(argv, outpath, errpath);
	if ((rc = wait_pid(pid, harness_ms(START_TIMEOUT_MS))) == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		untrack(pid);
		fail_msg("hellod did not exit within %d ms", harness_ms(START_TIMEOUT_MS));
	}
	if (out != NULL)
		*out = harness_read_file(outpath);
	if (err != NULL)
		*err = harness_read_file(errpath);
	return rc;
}

/* Expand @P0@..@P3@ and @DIR@ in tmpl into a malloc'ed string. */
static char *
expand(const struct daemon *d, const char *tmpl)
{
	size_t cap = strlen(tmpl) * 2 + PATH_MAX + 64, len = 0;
	char *buf = malloc(cap);
	const char *p;

	if (buf == NULL)
		fail_msg("out of memory");
	for (p = tmpl; *p != '\0'; ) {
		char rep[PATH_MAX];
		size_t skip = 0, n;

		if (p[0] == '@' && p[1] == 'P' && p[2] >= '0' &&
		    p[2] < '0' + HD_NPORTS && p[3] == '@') {
			snprintf(rep, sizeof(rep), "%u", d->port[p[2] - '0']);
			skip = 4;
		} else if (strncmp(p, "@DIR@", 5) == 0) {
			snprintf(rep, sizeof(rep), "%s", tmpdir);
			skip = 5;
		}
		if (skip == 0) {
			rep[0] = *p;
			rep[1] = '\0';
			skip = 1;
		}
		n = strlen(rep);
		if (len + n + 1 > cap) {
			char *nb;

			cap = (len + n + 1) * 2;
			if ((nb = realloc(buf, cap)) == NULL)
				fail_msg("out of memory");
			buf = nb;
		}
		memcpy(buf + len, rep, n);
		len += n;
		p += skip;
	}
	buf[len] = '\0';
	return buf;
}

void
daemon_rewrite(struct daemon *d, const char *tmpl)
{
	char *text = expand(d, tmpl);
	char tmp[PATH_MAX + 8];

	/* Write then rename, so a reload never reads half a file. */
	snprintf(tmp, sizeof(tmp), "%s.new", d->conf);
	harness_write_file(tmp, "%s", text);
	if (rename(tmp, d->conf) == -1)
		fail_msg("rename %s: %s", tmp, strerror(errno));
	free(text);
}

static bool
probe_ready(struct daemon *d, enum hd_probe probe)
{
	char buf[600];
	int fd;

	switch (probe) {
	case HD_PROBE_TCP:
		if ((fd = tcp_connect("127.0.0.1", d->port[0], 200)) == -1)
			return false;
		close(fd);
		return true;
	case HD_PROBE_UDP:
		return udp_ask("127.0.0.1", d->port[0], "probe", 5, buf,
		    sizeof(buf), 100) >= 0;
	case HD_PROBE_LOG:
		return log_contains(d, "hellod: started ");
	}
	return false;
}

static int
start_once(struct daemon *d, const char *tmpl, enum hd_probe probe,
    const char *const extra[])
{
	const char *argv[32];
	size_t n = 0, i;
	uint64_t end;
	bool probed = false;
	int rc;

	daemon_rewrite(d, tmpl);
	argv[n++] = hellod;
	argv[n++] = "-f";
	argv[n++] = "-e";
	argv[n++] = "-c";
	argv[n++] = d->conf;
	for (i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	d->status = -1;
	d->pid = spawn(argv, d->out, d->log);

	end = now_ms() + (uint64_t)harness_ms(START_TIMEOUT_MS);
	while (now_ms() < end) {
		if ((rc = wait_pid(d->pid, 0)) != -1) {
			d->status = rc;
			d->pid = 0;
			return rc == 0 ? 255 : rc;
		}
		if (!probed)
			probed = probe_ready(d, probe);
		if (probed && (probe == HD_PROBE_LOG ||
		    strstr(tmpl, "log_level") != NULL || log_contains(d, "hellod: started ")))
			return 0;
		sleep_ms(POLL_STEP_MS);
	}
	print_error("hellod not ready within %d ms\n", harness_ms(START_TIMEOUT_MS));
	log_dump(d);
	kill(d->pid, SIGKILL);
	d->status = wait_pid(d->pid, harness_ms(STOP_TIMEOUT_MS));
	d->pid = 0;
	return -1;
}

int
daemon_start_with(struct daemon *d, const char *tmpl, enum hd_probe probe,
    const char *const extra[])
{
	unsigned tries, i;
	int rc = -1;

	for (tries = 0; tries < START_TRIES; tries++) {
		memset(d, 0, sizeof(*d));
		for (i = 0; i < HD_NPORTS; i++)
			d->port[i] = harness_free_port();
		xsnprintf(d->conf, sizeof(d->conf), "%s/d%u.ini", tmpdir, nconf);
		xsnprintf(d->log, sizeof(d->log), "%s/d%u.log", tmpdir, nconf);
		xsnprintf(d->out, sizeof(d->out), "%s/d%u.out", tmpdir, nconf);
		nconf++;
		rc = start_once(d, tmpl, probe, extra);
		/* Someone else may have taken a port between our check and its bind. */
		if (rc == 71 && strstr(tmpl, "@P") != NULL)
			continue;
		break;
	}
	if (rc != 0) {
		print_error("hellod did not start (%d); its stderr:\n", rc);
		log_dump(d);
	} else if (probe == HD_PROBE_TCP) {
		/*
		 * The probe's own connection made a child; let it finish so
		 * tests that count children start from zero.
		 */
		proc_wait_children(d->pid, 0, harness_ms(5000));
	}
	return rc;
}

int
daemon_start(struct daemon *d, const char *tmpl)
{
	return daemon_start_with(d, tmpl, HD_PROBE_TCP, NULL);
}

void
daemon_signal(struct daemon *d, int sig)
{
	if (d->pid <= 0)
		fail_msg("signal to a daemon that is not running");
	if (kill(d->pid, sig) == -1)
		fail_msg("kill %d: %s", (int)d->pid, strerror(errno));
}

int
daemon_wait_exit(struct daemon *d, int timeout_ms)
{
	int rc;

	if (d->pid <= 0)
		return d->status;
	if ((rc = wait_pid(d->pid, timeout_ms)) != -1) {
		d->status = rc;
		d->pid = 0;
	}
	return rc;
}

int
daemon_stop(struct daemon *d, int sig)
{
	int rc;

	if (d->pid <= 0)
		return d->status;
	kill(d->pid, sig);
	if ((rc = daemon_wait_exit(d, harness_ms(STOP_TIMEOUT_MS))) == -1) {
		print_error("hellod did not exit within %d ms of signal %d\n",
		    harness_ms(STOP_TIMEOUT_MS), sig);
		kill(d->pid, SIGKILL);
		rc = daemon_wait_exit(d, harness_ms(STOP_TIMEOUT_MS));
		log_dump(d);
		return rc == -1 ? -1 : 1000 + rc;
	}
	if (rc != 0) {
		print_error("hellod exited %d; its stderr:\n", rc);
		log_dump(d);
	}
	return rc;
}

int
harness_teardown(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < ndaemons; i++) {
		if (started[i] > 0) {
			kill(started[i], SIGKILL);
			waitpid(started[i], NULL, 0);
			started[i] = 0;
		}
	}
	return 0;
}

/* Async-signal-safe: write(2), kill(2) and _exit(2) only. */
static void
watchdog_fire(int sig)
{
	static const char msg[] = "harness: the watchdog fired: the test took "
	    "too long; killing its daemons\n";
	unsigned i;

	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	for (i = 0; i < ndaemons; i++)
		if (started[i] > 0)
			kill(started[i], SIGKILL);
	_exit(99);
}

void
harness_watchdog(unsigned seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watchdog_fire;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

int
harness_nofile(unsigned long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= n)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
		rl.rlim_max = n;
	rl.rlim_cur = n;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

bool
log_contains(struct daemon *d, const char *needle)
{
	return log_count(d, needle) > 0;
}

unsigned
log_count(struct daemon *d, const char *needle)
{
	char *text = harness_read_file(d->log), *p;
	unsigned n = 0;

	for (p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	free(text);
	return n;
}

unsigned
log_count_lines(struct daemon *d, const char *needle, const char *also)
{
	char	*text = harness_read_file(d->log), *line, *next;
	unsigned n = 0;

	for (line = text; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (strstr(line, needle) != NULL &&
		    (also == NULL || strstr(line, also) != NULL))
			n++;
	}
	free(text);
	return n;
}

bool
log_wait_n(struct daemon *d, const char *needle, unsigned n, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		if (log_count(d, needle) >= n)
			return true;
		if (now_ms() >= end)
			return false;
		sleep_ms(POLL_STEP_MS);
	}
}

bool
log_wait(struct daemon *d, const char *needle, int timeout_ms)
{
	return log_wait_n(d, needle, 1, timeout_ms);
}

void
log_dump(struct daemon *d)
{
	char *text = harness_read_file(d->log);

	print_error("---- %s ----\n%s---- end ----\n", d->log, text);
	free(text);
}

/*
 * Read /proc/PID/stat: the state letter and the parent.  The command name
 * sits in parentheses and may itself hold spaces or parentheses, so the
 * fields are found after the last ')'.
 */
static int
proc_stat(pid_t pid, char *state, pid_t *ppid)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	if (sscanf(p + 1, " %c %d", state, &pp) != 2)
		return -1;
	*ppid = pp;
	return 0;
}

/*
 * The children of parent: their count, up to max of them into out, and
 * the zombies among them: their count, up to zmax of them into zout.
 */
static size_t
scan_children(pid_t parent, pid_t *out, size_t max, unsigned *zombies,
    pid_t *zout, size_t zmax)
{
	DIR *dir;
	struct dirent *de;
	size_t n = 0;

	*zombies = 0;
	if ((dir = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		char state;
		pid_t pid, ppid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (proc_stat(pid, &state, &ppid) == -1 || ppid != parent)
			continue;
		if (state == 'Z') {
			if (*zombies < zmax && zout != NULL)
				zout[*zombies] = pid;
			(*zombies)++;
		}
		if (n < max && out != NULL)
			out[n] = pid;
		n++;
	}
	closedir(dir);
	return n;
}

size_t
proc_children(pid_t pid, pid_t *out, size_t max)
{
	unsigned z;

	return scan_children(pid, out, max, &z, NULL, 0);
}

unsigned
proc_zombies(pid_t pid)
{
	unsigned z;

	scan_children(pid, NULL, 0, &z, NULL, 0);
	return z;
}

unsigned
proc_zombie_list(pid_t pid, pid_t *out, size_t max)
{
	unsigned z;

	scan_children(pid, NULL, 0, &z, out, max);
	return z;
}

long
proc_rss_kib(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

long
proc_cpu_ms(pid_t pid)
{
	char	 path[64], buf[1024], *p;
	unsigned long utime, stime;
	long	 hz = sysconf(_SC_CLK_TCK);
	ssize_t	 n;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || hz <= 0)
		return -1;
	buf[n] = '\0';
	/* utime and stime, fields 14 and 15: the state and 10 numbers before them. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1,
	    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &utime, &stime) != 2)
		return -1;
	return (long)((utime + stime) * 1000 / (unsigned long)hz);
}

int
proc_fds(pid_t pid)
{
	char	 path[64];
	DIR	*dir;
	struct dirent *de;
	int	 n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

bool
proc_alive(pid_t pid)
{
	char state;
	pid_t ppid;

	return proc_stat(pid, &state, &ppid) == 0 && state != 'Z' &&
	    state != 'X';
}

int
child_status(pid_t (*make)(void), int (*body)(const void *arg), const void *arg)
{
	pid_t	 pid;
	int	 status;

	pid = make();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(body(arg));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

bool
page_mapped(const void *p)
{
	uintptr_t page = (uintptr_t)p & ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);

	return msync((void *)page, 1, MS_ASYNC) == 0 || errno != ENOMEM;
}

/* Whether a line of /proc/self/maps holds what, and perms ("r-xp") unless NULL. */
bool
maps_line(const char *perms, const char *what)
{
	char	 line[512];
	FILE	*f = fopen("/proc/self/maps", "r");
	bool	 found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, what) != NULL &&
		    (perms == NULL || strstr(line, perms) != NULL);
	fclose(f);
	return found;
}

/* Whether /proc/self/maps names a file whose name holds what. */
bool
maps_name(const char *what)
{
	return maps_line(NULL, what);
}

/* Whether /proc/self/maps has code (r-xp) from a file whose name holds what. */
bool
maps_code(const char *what)
{
	return maps_line(" r-xp ", what);
}

struct says {
	bool		(*check)(const char *);
	const char	*what;
};

static int
says_status(const void *arg)
{
	const struct says *s = arg;

	return s->check(s->what) ? 0 : 1;
}

/* Whether a child made by fn says yes to check(what). */
bool
child_says(pid_t (*fn)(void), bool (*check)(const char *), const char *what)
{
	struct says	 s = { check, what };

	return child_status(fn, says_status, &s) == 0;
}

bool
proc_wait_children(pid_t pid, size_t n, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		if (proc_children(pid, NULL, 0) == n)
			return true;
		if (now_ms() >= end)
			return false;
		sleep_ms(POLL_STEP_MS);
	}
}

static socklen_t
make_addr(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			fail_msg("bad address %s", host);
		return sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			fail_msg("bad address %s", host);
		return sizeof(*sin);
	}
}

static int
wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r == -1 && errno == EINTR);
	return r;
}

int
tcp_connect(const char *host, uint16_t port, int timeout_ms)
{
	return tcp_connect_from(NULL, host, port, timeout_ms);
}

int
tcp_connect_from(const char *src, const char *host, uint16_t port,
    int timeout_ms)
{
	struct sockaddr_storage ss, from;
	socklen_t len = make_addr(host, port, &ss), flen, elen;
	int fd, flags, err = 0, one = 1;

	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (src != NULL) {
		/*
		 * The port is chosen at connect(), for the whole 4-tuple,
		 * not at bind() for the address alone: thousands of
		 * connections from one source address do not run out of
		 * ports.
		 */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		flen = make_addr(src, 0, &from);
		if (bind(fd, (struct sockaddr *)&from, flen) == -1) {
			close(fd);
			return -1;
		}
	}
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		if (errno != EINPROGRESS ||
		    wait_fd(fd, POLLOUT, timeout_ms) != 1) {
			close(fd);
			return -1;
		}
		elen = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 ||
		    err != 0) {
			close(fd);
			errno = err;
			return -1;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return fd;
}

int
send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
send_str(int fd, const char *s)
{
	return send_all(fd, s, strlen(s));
}

/* One recv bounded by what is left of the deadline: bytes, 0 EOF, -1. */
static ssize_t
recv_until(int fd, void *buf, size_t len, uint64_t end)
{
	uint64_t now = now_ms();
	ssize_t n;

	if (now >= end || wait_fd(fd, POLLIN, (int)(end - now)) != 1)
		return -1;
	do {
		n = recv(fd, buf, len, 0);
	} while (n == -1 && errno == EINTR);
	return n;
}

ssize_t
read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len) {
		if ((n = recv_until(fd, buf + got, 1, end)) == -1) {
			buf[got] = '\0';
			return -1;
		}
		if (n == 0)
			break;
		if (buf[got++] == '\n')
			break;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

ssize_t
read_n(int fd, void *buf, size_t n, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	char *p = buf;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if ((r = recv_until(fd, p + got, n - got, end)) == -1)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t
read_all(int fd, char *buf, size_t len, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	size_t got = 0;
	ssize_t r;

	for (;;) {
		if (got + 1 >= len) {
			buf[got] = '\0';
			return (ssize_t)got;
		}
		if ((r = recv_until(fd, buf + got, len - 1 - got, end)) == -1) {
			buf[got] = '\0';
			return errno == ECONNRESET ? (ssize_t)got : -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

int
wait_eof(int fd, int timeout_ms)
{
	char c;
	ssize_t n;

	if (wait_fd(fd, POLLIN, timeout_ms) != 1)
		return 0;
	n = recv(fd, &c, 1, MSG_PEEK);
	if (n == 0 || (n == -1 && errno == ECONNRESET))
		return 1;
	return n > 0 ? -2 : 1;
}

int
udp_socket(const char *host, uint16_t sport)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(host, sport, &ss);
	int fd;

	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

ssize_t
udp_exchange(int fd, const char *host, uint16_t port, const void *req,
    size_t reqlen, void *out, size_t outmax, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(host, port, &ss);
	ssize_t n;

	if (sendto(fd, req, reqlen, 0, (struct sockaddr *)&ss, len) !=
	    (ssize_t)reqlen)
		return -1;
	if (wait_fd(fd, POLLIN, timeout_ms) != 1)
		return -1;
	do {
		n = recv(fd, out, outmax, MSG_TRUNC);
	} while (n == -1 && errno == EINTR);
	return n;
}

ssize_t
udp_ask(const char *host, uint16_t port, const void *req, size_t reqlen,
    void *out, size_t outmax, int timeout_ms)
{
	int fd = udp_socket(strchr(host, ':') != NULL ? "::1" : "127.0.0.1", 0);
	ssize_t n;

	if (fd == -1)
		return -1;
	n = udp_exchange(fd, host, port, req, reqlen, out, outmax, timeout_ms);
	close(fd);
	return n;
}

int
hold_port(int type, uint16_t port)
{
	struct sockaddr_in sin;
	int	 fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 5), 0);
	return fd;
}

int
unix_socket(const char *path, int type, bool connect_it)
{
	struct sockaddr_un sun;
	int	 fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	strcpy(sun.sun_path, path);
	if (connect_it)
		assert_int_equal(connect(fd, (struct sockaddr *)&sun,
		    sizeof(sun)), 0);
	else
		assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

size_t
control_read(const char *path, char *buf, size_t len)
{
	return control_ask(path, "status", buf, len);
}

size_t
control_ask(const char *path, const char *command, char *buf, size_t len)
{
	int	 fd = unix_socket(path, SOCK_STREAM, true);
	ssize_t	 n;

	assert_int_equal(send_str(fd, command), 0);
	assert_int_equal(send_str(fd, "\n"), 0);
	shutdown(fd, SHUT_WR);
	n = read_all(fd, buf, len, harness_ms(5000));
	close(fd);
	assert_true(n > 0);
	return (size_t)n;
}

unsigned long
control_value(const char *path, const char *name, const char *key)
{
	char	 buf[16384], needle[96], *p;

	control_read(path, buf, sizeof(buf));
	snprintf(needle, sizeof(needle), "\n%s: status ", name);
	if ((p = strstr(buf, needle)) == NULL)
		fail_msg("no service %s in the status:\n%s", name, buf);
	snprintf(needle, sizeof(needle), " %s=", key);
	if ((p = strstr(p + 1, needle)) == NULL)
		fail_msg("no %s for %s in the status:\n%s", key, name, buf);
	return strtoul(p + strlen(needle), NULL, 10);
}
