/* The stress tests' shared parts: dialogue load, a zombie watch, scaling, figures. */
#include <sys/socket.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "stress.h"

unsigned long
stress_scale(unsigned long n)
{
	double	 f = stress_factor() * (double)n;

	return f < 1 ? 1 : (unsigned long)f;
}

double
stress_factor(void)
{
	const char *s = getenv("HELLOD_STRESS_SCALE");
	char	*end;
	double	 f;

	if (s == NULL || *s == '\0')
		return 1;
	f = strtod(s, &end);
	if (*end != '\0' || !(f > 0 && f <= 100)) {
		fprintf(stderr, "HELLOD_STRESS_SCALE=%s: not a factor in (0, 100]; "
		    "using 1\n", s);
		return 1;
	}
	return f;
}

void
stress_say(const char *scenario, const char *fmt, ...)
{
	va_list	 ap;

	printf("stress: %s: ", scenario);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

double
stress_secs(uint64_t t0_ms)
{
	return (double)(now_ms() - t0_ms) / 1000;
}

void
stress_say_time(const char *scenario, uint64_t t0_ms)
{
	if (stress_factor() != 1)
		stress_say(scenario, "scenario time %.1fs, counts scaled by "
		    "HELLOD_STRESS_SCALE=%g", stress_secs(t0_ms), stress_factor());
	else
		stress_say(scenario, "scenario time %.1fs", stress_secs(t0_ms));
}

void
stress_say_status(const char *scenario, const char *ctl)
{
	char	 buf[16384], *line, *next;

	control_read(ctl, buf, sizeof(buf));
	for (line = buf; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (*line != '\0')
			stress_say(scenario, "%s", line);
	}
}

/*
 * The size of pid's [heap] mapping, in KiB, from /proc/PID/smaps: what
 * malloc took with brk(), touched or not; 0 when there is none (a
 * sanitizer's allocator maps its own).
 */
static long
heap_kib(pid_t pid)
{
	char	 path[64], line[512];
	FILE	*f;
	unsigned long from, to;
	long	 kib = 0;
	bool	 in_heap = false;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		/* A mapping's first line "FROM-TO PERMS ...", then its fields. */
		if (sscanf(line, "%lx-%lx ", &from, &to) == 2)
			in_heap = strstr(line, "[heap]") != NULL;
		else if (in_heap && sscanf(line, "Size: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

void
parent_measure(pid_t pid, struct parent_mem *out)
{
	out->rss_kib = proc_rss_kib(pid);
	out->heap_kib = heap_kib(pid);
	out->fds = proc_fds(pid);
	out->cpu_ms = proc_cpu_ms(pid);
}

void
stress_say_parent(const char *scenario, const struct parent_mem *before,
    const struct parent_mem *after)
{
	stress_say(scenario, "parent: rss %ld -> %ld KiB (%+ld), heap %ld -> %ld "
	    "KiB, fds %d -> %d, cpu %.1fs", before->rss_kib, after->rss_kib,
	    after->rss_kib - before->rss_kib, before->heap_kib, after->heap_kib,
	    before->fds, after->fds,
	    (double)(after->cpu_ms - before->cpu_ms) / 1000);
}

static void
sleep_for(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * One line, read in as few calls as it came: the server sends each line
 * of the dialogue whole and nothing after it until spoken to, so whatever
 * follows the LF in the same read is an error.  Returns the length, 0 at
 * EOF, -1 on a timeout or an error, -2 when more than the line came.
 */
static ssize_t
line_in(int fd, char *buf, size_t len, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms, now;
	size_t	 got = 0;
	ssize_t	 n;
	char	*lf;

	buf[0] = '\0';
	while (got + 1 < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if ((now = now_ms()) >= end || poll(&pfd, 1, (int)(end - now)) != 1)
			return -1;
		if ((n = recv(fd, buf + got, len - 1 - got, 0)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return got > 0 ? -2 : 0;
		got += (size_t)n;
		buf[got] = '\0';
		if ((lf = strchr(buf, '\n')) != NULL)
			return lf[1] == '\0' ? (ssize_t)got : -2;
	}
	return -2;
}

/* What line_in() got, in words, for a failure message. */
static const char *
got(ssize_t n, const char *line)
{
	return n == -1 ? "nothing in time" : n == 0 ? "EOF" : n == -2 ?
	    "not one line" : line;
}

int
stress_dialogue(const char *src, const char *host, uint16_t port,
    const char *name, char *why, size_t whylen)
{
	char	 line[256], want[256];
	ssize_t	 n;
	int	 fd, rc = -1;

	if ((fd = tcp_connect_from(src, host, port, STRESS_STEP_MS)) == -1) {
		snprintf(why, whylen, "connect: %m");
		return -1;
	}
	n = line_in(fd, line, sizeof(line), STRESS_STEP_MS);
	if (n <= 0 || strcmp(line, "Welcome!\r\n") != 0) {
		snprintf(why, whylen, "greeting: %s", got(n, line));
		goto out;
	}
	snprintf(want, sizeof(want), "%s\n", name);
	if (send_str(fd, want) == -1) {
		snprintf(why, whylen, "send: %m");
		goto out;
	}
	snprintf(want, sizeof(want), "Hello, %s!\r\n", name);
	n = line_in(fd, line, sizeof(line), STRESS_STEP_MS);
	if (n <= 0 || strcmp(line, want) != 0) {
		snprintf(why, whylen, "reply: %s", got(n, line));
		goto out;
	}
	if (send_str(fd, "exit\n") == -1) {
		snprintf(why, whylen, "send exit: %m");
		goto out;
	}
	switch (wait_eof(fd, STRESS_STEP_MS)) {
	case 1:
		rc = 0;
		break;
	case 0:
		snprintf(why, whylen, "no close after exit in %d ms",
		    STRESS_STEP_MS);
		break;
	default:
		snprintf(why, whylen, "data after exit");
		break;
	}
out:
	close(fd);
	return rc;
}

int
stress_udp_hello(const char *host, uint16_t port, const char *name,
    char *why, size_t whylen)
{
	char	 want[256], buf[256];
	ssize_t	 n;

	snprintf(want, sizeof(want), "Hello, %s!", name);
	n = udp_ask(host, port, name, strlen(name), buf, sizeof(buf) - 1,
	    STRESS_STEP_MS);
	if (n < 0) {
		snprintf(why, whylen, "no reply in %d ms", STRESS_STEP_MS);
		return -1;
	}
	buf[(size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1] = '\0';
	if (strcmp(buf, want) != 0) {
		snprintf(why, whylen, "reply: %s", buf);
		return -1;
	}
	return 0;
}

struct load {
	struct load_opts opts;
	pthread_t	*tids;
	unsigned	 nthreads;
	uint64_t	 deadline;
	atomic_bool	 stop;
	atomic_ulong	 claimed;
	atomic_ulong	 done;
	atomic_ulong	 failed;
	atomic_uint	 worst_ms;
	pthread_mutex_t	 mu;		/* first_failure */
	char		 first_failure[256];
};

struct client {
	struct load	*load;
	unsigned	 id;
};

static void
load_failed(struct load *l, const char *name, const char *why)
{
	atomic_fetch_add(&l->failed, 1);
	pthread_mutex_lock(&l->mu);
	if (l->first_failure[0] == '\0')
		snprintf(l->first_failure, sizeof(l->first_failure), "%s %s: %s",
		    l->opts.src != NULL ? l->opts.src : l->opts.host, name, why);
	pthread_mutex_unlock(&l->mu);
}

static void *
load_client(void *arg)
{
	struct client	*c = arg;
	struct load	*l = c->load;
	unsigned long	 n;
	char		 name[64], why[128];
	uint64_t	 t0;
	unsigned	 ms, worst;

	for (;;) {
		if (atomic_load(&l->stop) || now_ms() >= l->deadline)
			break;
		n = atomic_fetch_add(&l->claimed, 1);
		if (l->opts.max != 0 && n >= l->opts.max)
			break;
		snprintf(name, sizeof(name), "c%u-%lu", c->id, n);
		t0 = now_ms();
		if ((l->opts.udp ? stress_udp_hello(l->opts.host, l->opts.port,
		    name, why, sizeof(why)) : stress_dialogue(l->opts.src,
		    l->opts.host, l->opts.port, name, why, sizeof(why))) == -1) {
			load_failed(l, name, why);
		} else {
			atomic_fetch_add(&l->done, 1);
			ms = (unsigned)(now_ms() - t0);
			worst = atomic_load(&l->worst_ms);
			while (ms > worst &&
			    !atomic_compare_exchange_weak(&l->worst_ms, &worst, ms))
				;
		}
		if (l->opts.pause_ms > 0)
			sleep_for(l->opts.pause_ms);
	}
	free(c);
	return NULL;
}

struct load *
load_start(const struct load_opts *opts)
{
	struct load	*l = calloc(1, sizeof(*l));
	unsigned	 i;

	if (l == NULL || (l->tids = calloc(opts->threads, sizeof(*l->tids))) == NULL) {
		fprintf(stderr, "load_start: out of memory\n");
		exit(99);
	}
	l->opts = *opts;
	l->deadline = now_ms() + opts->max_ms;
	pthread_mutex_init(&l->mu, NULL);
	for (i = 0; i < opts->threads; i++) {
		struct client *c = malloc(sizeof(*c));
		int	 err;

		if (c == NULL) {
			fprintf(stderr, "load_start: out of memory\n");
			exit(99);
		}
		c->load = l;
		c->id = i;
		if ((err = pthread_create(&l->tids[i], NULL, load_client, c)) != 0) {
			fprintf(stderr, "pthread_create: %s\n", strerror(err));
			exit(99);
		}
		l->nthreads++;
	}
	return l;
}

void
load_counts(struct load *l, struct load_counts *out)
{
	out->done = atomic_load(&l->done);
	out->failed = atomic_load(&l->failed);
	out->worst_ms = atomic_load(&l->worst_ms);
	pthread_mutex_lock(&l->mu);
	snprintf(out->first_failure, sizeof(out->first_failure), "%s",
	    l->first_failure);
	pthread_mutex_unlock(&l->mu);
}

void
load_wait(struct load *l)
{
	unsigned i;

	for (i = 0; i < l->nthreads; i++)
		pthread_join(l->tids[i], NULL);
	l->nthreads = 0;
}

void
load_stop(struct load *l)
{
	atomic_store(&l->stop, true);
	load_wait(l);
}

void
load_free(struct load *l)
{
	if (l == NULL)
		return;
	load_stop(l);
	pthread_mutex_destroy(&l->mu);
	free(l->tids);
	free(l);
}

/* Zombies followed at once, at most; more are counted but not followed. */
#define ZWATCH_MAX	256
#define ZWATCH_STEP_MS	100

struct zwatch {
	pthread_t	 tid;
	pid_t		 pid;
	atomic_bool	 stop;
	struct zwatch_counts counts;
	struct {
		pid_t	 pid;
		uint64_t first_ms;
		bool	 stale;
	}		 seen[ZWATCH_MAX];
	size_t		 nseen;
};

/* One look: forget the zombies reaped since, note the new ones, age the rest. */
static void
zwatch_sample(struct zwatch *z)
{
	pid_t	 now_z[ZWATCH_MAX];
	unsigned nz = proc_zombie_list(z->pid, now_z, ZWATCH_MAX), i;
	size_t	 j, kept = 0;
	uint64_t now = now_ms();

	z->counts.samples++;
	if (nz > z->counts.most)
		z->counts.most = nz;
	if (nz > ZWATCH_MAX)
		nz = ZWATCH_MAX;
	for (j = 0; j < z->nseen; j++) {
		for (i = 0; i < nz && now_z[i] != z->seen[j].pid; i++)
			;
		if (i < nz)
			z->seen[kept++] = z->seen[j];
	}
	z->nseen = kept;
	for (i = 0; i < nz; i++) {
		for (j = 0; j < z->nseen && z->seen[j].pid != now_z[i]; j++)
			;
		if (j == z->nseen) {
			z->seen[j].pid = now_z[i];
			z->seen[j].first_ms = now;
			z->seen[j].stale = false;
			z->nseen++;
		} else {
			uint64_t age = now - z->seen[j].first_ms;

			if (age > z->counts.oldest_ms)
				z->counts.oldest_ms = (unsigned)age;
			if (!z->seen[j].stale && age >= ZWATCH_STALE_MS) {
				z->seen[j].stale = true;
				z->counts.stale++;
			}
		}
	}
}

static void *
zwatch_run(void *arg)
{
	struct zwatch *z = arg;

	while (!atomic_load(&z->stop)) {
		zwatch_sample(z);
		sleep_for(ZWATCH_STEP_MS);
	}
	return NULL;
}

struct zwatch *
zwatch_start(pid_t pid)
{
	struct zwatch *z = calloc(1, sizeof(*z));
	int	 err;

	if (z == NULL) {
		fprintf(stderr, "zwatch_start: out of memory\n");
		exit(99);
	}
	z->pid = pid;
	if ((err = pthread_create(&z->tid, NULL, zwatch_run, z)) != 0) {
		fprintf(stderr, "pthread_create: %s\n", strerror(err));
		exit(99);
	}
	return z;
}

void
zwatch_stop(struct zwatch *z, struct zwatch_counts *out)
{
	atomic_store(&z->stop, true);
	pthread_join(z->tid, NULL);
	*out = z->counts;
	free(z);
}
