/* Integration tests of helloc: run the client as a user would, capturing what it prints. */
#include <sys/types.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "harness.h"
#include "helloc-run.h"

static const char *helloc;
static unsigned nrun;

void
helloc_init(void)
{
	helloc = getenv("HELLOC");
	if (helloc == NULL || access(helloc, X_OK) != 0) {
		fprintf(stderr, "HELLOC is unset or not executable: skipped\n");
		exit(77);
	}
}

/* A whole file, NUL-terminated, its length in *len. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (fp == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	do {
		if (cap - n < 65536) {
			cap = cap * 2 + 65536;
			if ((buf = realloc(buf, cap + 1)) == NULL)
				fail_msg("out of memory");
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
	} while (r > 0);
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
redirect(const char *path, int flags, int to)
{
	int fd = open(path, flags, 0644);

	if (fd == -1)
		_exit(126);
	dup2(fd, to);
	close(fd);
}

/* In the child: see hosts as /etc/hosts, in a mount namespace of its own. */
static int
fake_hosts(const char *hosts)
{
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount(hosts, "/etc/hosts", NULL, MS_BIND, NULL) == -1)
		return -1;
	return 0;
}

bool
helloc_can_fake_hosts(void)
{
	const char *hosts = harness_path("hosts.probe");
	pid_t pid;
	int status;

	harness_write_file(hosts, "127.0.0.1 probe\n");
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fake_hosts(hosts) == 0 ? 0 : 1);
	if (waitpid(pid, &status, 0) == -1)
		fail_msg("waitpid: %s", strerror(errno));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* A terminal for the child's stdout, raw so that what we read is what it wrote. */
static int
open_tty(int *slave)
{
	struct termios t;
	int master;

	if ((master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    grantpt(master) == -1 || unlockpt(master) == -1 ||
	    (*slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		fail_msg("pseudo-terminal: %s", strerror(errno));
	if (tcgetattr(*slave, &t) == -1)
		fail_msg("tcgetattr: %s", strerror(errno));
	cfmakeraw(&t);
	if (tcsetattr(*slave, TCSANOW, &t) == -1)
		fail_msg("tcsetattr: %s", strerror(errno));
	return master;
}

/* What the child wrote on the terminal, until it is closed. */
static char *
read_tty(int master, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;

	for (;;) {
		if (cap - n < 4096 && (buf = realloc(buf, cap = cap * 2 + 4096)) == NULL)
			fail_msg("out of memory");
		if (poll(&(struct pollfd){ .fd = master, .events = POLLIN }, 1, 0) != 1 ||
		    (r = read(master, buf + n, cap - n - 1)) <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

void
helloc_run_with(struct hc_run *r, const struct hc_run_opts *ro, int timeout_ms,
    const char *const args[])
{
	char outpath[PATH_MAX], errpath[PATH_MAX];
	const char *argv[64];
	uint64_t start = now_ms(), end = start + (uint64_t)timeout_ms;
	size_t i, errlen;
	pid_t pid, w;
	int status, master = -1, slave = -1;

	argv[0] = helloc;
	for (i = 0; args[i] != NULL && i < 62; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	snprintf(outpath, sizeof(outpath), "%s/helloc%u.out", harness_dir(), nrun);
	snprintf(errpath, sizeof(errpath), "%s/helloc%u.err", harness_dir(), nrun);
	nrun++;
	if (ro->tty || ro->tty_err)
		master = open_tty(&slave);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (ro->hosts != NULL && fake_hosts(ro->hosts) == -1)
			_exit(125);
		redirect(ro->in != NULL ? ro->in : "/dev/null", O_RDONLY, 0);
		if (ro->tty)
			dup2(slave, 1);
		else
			redirect(ro->out != NULL ? ro->out : outpath,
			    O_WRONLY | O_CREAT | O_TRUNC, 1);
		if (ro->tty_err)
			dup2(slave, 2);
		else
			redirect(errpath, O_WRONLY | O_CREAT | O_TRUNC, 2);
		closefrom(3);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (slave != -1)
		close(slave);
	for (;;) {
		if ((w = waitpid(pid, &status, WNOHANG)) == pid)
			break;
		if (w == -1 && errno != EINTR)
			fail_msg("waitpid: %s", strerror(errno));
		if (now_ms() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("helloc did not exit within %d ms", timeout_ms);
		}
		usleep(2000);
	}
	r->ms = now_ms() - start;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (ro->tty) {
		r->out = read_tty(master, &r->outlen);
		close(master);
	} else if (ro->out != NULL) {
		if ((r->out = strdup("")) == NULL)
			fail_msg("out of memory");
		r->outlen = 0;
	} else
		r->out = slurp(outpath, &r->outlen);
	if (ro->tty_err) {
		r->err = read_tty(master, &errlen);
		close(master);
	} else
		r->err = slurp(errpath, &errlen);
}

void
helloc_run(struct hc_run *r, const char *in_path, int timeout_ms,
    const char *const args[])
{
	struct hc_run_opts ro = { .in = in_path };

	helloc_run_with(r, &ro, timeout_ms, args);
}

void
helloc_run_free(struct hc_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

double
json_number(const char *json, const char *key)
{
	char pat[128], *end;
	const char *p;
	double v;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if ((p = strstr(json, pat)) == NULL)
		fail_msg("no \"%s\" in %s", key, json);
	v = strtod(p + strlen(pat), &end);
	if (end == p + strlen(pat))
		fail_msg("\"%s\" is not a number in %s", key, json);
	return v;
}
