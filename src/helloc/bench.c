/* helloc --bench: a load generator, one epoll loop over non-blocking sockets, and its report. */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netdb.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helloc.h"

#define BENCH_LINEMAX		4096	/* a reply longer than this is cut */
#define BENCH_BACKOFF_NS	50000000 /* a slot's pause when no local port is free */
#define BENCH_QUIT		"exit\n"
#define BENCH_EVENTS		256
#define BENCH_FDS_SPARE		32
#define BENCH_GRACE_NS		1000000000 /* how long replies are awaited after -d */
#define BENCH_DRAW_NS		250000000 /* the live progress line's period */

/*
 * A slot runs one transaction after the other.  TCP: connect, the
 * greeting when the service sends one, the message, the reply (the
 * transaction ends here and its latency is taken), then the quit word and
 * the server's close.  UDP: the message, the reply.
 */
enum slot_state {
	S_IDLE,		/* nothing more to do */
	S_BACKOFF,	/* waiting before the next start */
	S_CONNECT,
	S_GREETING,
	S_REPLY,
	S_QUIT,		/* the quit word sent: waiting for the server to close */
	S_DRAIN,	/* it did not: our side is shut, waiting for its close */
};

struct slot {
	int		 fd;
	enum slot_state	 state;
	uint64_t	 start;		/* when the transaction began, ns */
	uint64_t	 deadline;	/* when its current step times out, ns */
	size_t		 len;		/* bytes held in buf */
	char		 buf[BENCH_LINEMAX];
};

struct bench {
	const struct hc_opts	*o;
	struct sockaddr_storage	 ss;		/* the server's address */
	socklen_t		 sslen;
	bool			 greeting;	/* the service greets: read it first */
	int			 ep;
	struct slot		*slots;
	unsigned		 busy;		/* slots not idle */
	uint64_t		 started;
	uint64_t		 t0;
	uint64_t		 t_end;		/* with -d */
	bool			 cut;		/* with -d: the time is up */
	uint64_t		 t_grace;	/* then: when the requests under way are lost */
	uint64_t		 t_answer;	/* when the last reply came */
	uint64_t		 timeout_ns;
	bool			 tty;		/* stderr is a terminal: live progress */
	bool			 drawn;		/* a progress line is on it */
	uint64_t		 t_draw;	/* when to draw it next */
	char			*req;		/* the message, with LF for TCP */
	size_t			 reqlen;
	struct bench_hist	*hist;
	struct bench_result	 r;
};

/* The bucket of a value: itself below 2^SUBBITS, else its top SUBBITS bits and its magnitude. */
static size_t
hist_index(uint64_t v)
{
	unsigned shift;

	if (v < (1u << BENCH_HIST_SUBBITS))
		return (size_t)v;
	shift = (unsigned)(63 - __builtin_clzll(v)) - (BENCH_HIST_SUBBITS - 1);
	return ((size_t)shift << (BENCH_HIST_SUBBITS - 1)) + (size_t)(v >> shift);
}

/* The middle of a bucket's values. */
static uint64_t
hist_value(size_t i)
{
	unsigned shift;

	if (i < (1u << BENCH_HIST_SUBBITS))
		return i;
	shift = (unsigned)(i >> (BENCH_HIST_SUBBITS - 1)) - 1;
	i -= (size_t)shift << (BENCH_HIST_SUBBITS - 1);
	return ((uint64_t)i << shift) + ((uint64_t)1 << (shift - 1));
}

void
bench_hist_add(struct bench_hist *h, uint64_t v)
{
	double delta;

	if (h->n == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->n++;
	h->count[hist_index(v)]++;
	/* Welford: no sum of squares of nanoseconds to lose precision in. */
	delta = (double)v - h->mean;
	h->mean += delta / (double)h->n;
	h->m2 += delta * ((double)v - h->mean);
}

double
bench_hist_mean(const struct bench_hist *h)
{
	return h == NULL ? 0 : h->mean;
}

double
bench_hist_stddev(const struct bench_hist *h)
{
	if (h == NULL || h->n < 2)
		return 0;
	return sqrt(h->m2 / (double)(h->n - 1));
}

uint64_t
bench_hist_percentile(const struct bench_hist *h, unsigned permille)
{
	uint64_t rank, seen = 0, v;
	size_t i;

	if (h == NULL || h->n == 0)
		return 0;
	if (permille >= 1000)
		return h->max;
	/* rank = ceil(permille * n / 1000), at least 1; integers, so p99 of 100 is the 99th. */
	rank = (permille * h->n + 999) / 1000;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < BENCH_HIST_BUCKETS; i++)
		if ((seen += h->count[i]) >= rank)
			break;
	v = hist_value(i);
	return v < h->min ? h->min : v > h->max ? h->max : v;
}

static double
ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double
rate(const struct bench_result *r, double seconds)
{
	return seconds > 0 ? (double)r->answered / seconds : 0;
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void
json_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(fp, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

void
bench_report_json(FILE *fp, const struct bench_result *r, const char *error)
{
	const struct bench_hist *h = r->latency;

	fputc('{', fp);
	if (error != NULL) {
		fputs("\"error\":", fp);
		json_string(fp, error);
		fputc(',', fp);
	}
	fprintf(fp, "\"requests\":%" PRIu64 ",\"answered\":%" PRIu64
	    ",\"wrong\":%" PRIu64 ",\"timeouts\":%" PRIu64 ",\"lost\":%" PRIu64
	    ",\"refused\":%" PRIu64 ",\"errors\":%" PRIu64, r->requests,
	    r->answered, r->wrong, r->timeouts, r->lost, r->refused, r->errors);
	fprintf(fp, ",\"seconds\":%.6f,\"rate\":%.1f,\"latency_ms\":{\"mean\":%.3f"
	    ",\"stddev\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n",
	    r->seconds, rate(r, r->seconds), bench_hist_mean(h) / 1e6,
	    bench_hist_stddev(h) / 1e6, ms(bench_hist_percentile(h, 500)),
	    ms(bench_hist_percentile(h, 900)), ms(bench_hist_percentile(h, 990)),
	    ms(bench_hist_percentile(h, 1000)));
}

/*
 * The first line says what happened, failures included: a reader who
 * stops there knows whether the rate below can be trusted.
 */
static void
report_summary(FILE *fp, const struct bench_result *r, const struct hc_opts *o)
{
	fprintf(fp, "%s %s port %s: %" PRIu64 " requests in %.3f s, %" PRIu64
	    " answered, %" PRIu64 " lost, %" PRIu64 " timed out", o->udp ? "udp" : "tcp",
	    o->host, o->port, r->requests, r->seconds, r->answered, r->lost,
	    r->timeouts);
	if (r->refused > 0)
		fprintf(fp, ", %" PRIu64 " refused", r->refused);
	if (r->errors > 0)
		fprintf(fp, ", %" PRIu64 " errors", r->errors);
	if (r->wrong > 0)
		fprintf(fp, ", %" PRIu64 " wrong", r->wrong);
	fputc('\n', fp);
}

void
bench_report_table(FILE *fp, const struct bench_result *r, const struct hc_opts *o,
    bool greeting)
{
	const struct bench_hist *h = r->latency;
	char sec[32];

	report_summary(fp, r, o);
	fprintf(fp, "  answered      %" PRIu64 "\n", r->answered);
	fprintf(fp, "  wrong         %" PRIu64 " (%s)\n", r->wrong,
	    o->expect == NULL ? "no --expect" : "replies other than --expect");
	fprintf(fp, "  timed out     %" PRIu64 " (no reply within %s)\n", r->timeouts,
	    hc_seconds(o->timeout_ms, sec, sizeof(sec)));
	fprintf(fp, "  lost          %" PRIu64 " (no reply when the run ended)\n",
	    r->lost);
	fprintf(fp, "  refused       %" PRIu64 "\n", r->refused);
	fprintf(fp, "  errors        %" PRIu64 "\n", r->errors);
	fprintf(fp, "  rate          %.1f answers/s\n", rate(r, r->seconds));
	fprintf(fp, "  concurrency   %u%s\n", o->concurrency,
	    greeting ? ", greeting read first" : "");
	fprintf(fp, "  latency ms    mean %.3f  stddev %.3f\n", bench_hist_mean(h) / 1e6,
	    bench_hist_stddev(h) / 1e6);
	fprintf(fp, "                p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
	    ms(bench_hist_percentile(h, 500)), ms(bench_hist_percentile(h, 900)),
	    ms(bench_hist_percentile(h, 990)), ms(bench_hist_percentile(h, 1000)));
}

char *
bench_progress_format(char *buf, size_t len, const struct bench_result *r,
    double seconds)
{
	snprintf(buf, len, "%.1f s  %" PRIu64 " answered  %.1f/s  %" PRIu64
	    " timed out  %" PRIu64 " errors  %" PRIu64 " wrong", seconds, r->answered,
	    rate(r, seconds), r->timeouts, r->refused + r->errors, r->wrong);
	return buf;
}

static bool
bench_more(const struct bench *b, uint64_t now)
{
	if (b->o->count > 0)
		return b->r.requests < b->o->count;
	return now < b->t_end;
}

static void
slot_watch(struct bench *b, struct slot *s, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.u32 = (uint32_t)(s - b->slots) };

	epoll_ctl(b->ep, op, s->fd, &ev);
}

static void
slot_close(struct slot *s)
{
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
}

/* A socket for a UDP slot: connected, so that only the server's datagrams come. */
static int
slot_udp_open(struct bench *b, struct slot *s)
{
	s->fd = socket(b->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1)
		return -1;
	if (connect(s->fd, (struct sockaddr *)&b->ss, b->sslen) == -1) {
		slot_close(s);
		return -1;
	}
	slot_watch(b, s, EPOLLIN, EPOLL_CTL_ADD);
	return 0;
}

static void
slot_backoff(struct slot *s, uint64_t now, uint64_t pause)
{
	s->state = S_BACKOFF;
	s->deadline = now + pause;
}

/* Where a failure with errno err is counted: refused, or any other error. */
static uint64_t *
failure(struct bench *b, int err)
{
	return err == ECONNREFUSED ? &b->r.refused : &b->r.errors;
}

/*
 * Begin a transaction.  A failure to even begin is counted (refused or
 * error); the slot retries from the loop rather than at once, so that a
 * dead target cannot recurse.  A connect that finds no free local port (EADDRNOTAVAIL: every
 * ephemeral port is taken, most by TIME_WAIT) pauses the slot a little
 * so that the kernel can free some.
 */
static void
slot_start(struct bench *b, struct slot *s, uint64_t now)
{
	b->r.requests++;
	s->start = now;
	s->deadline = now + b->timeout_ns;
	s->len = 0;
	if (b->o->udp) {
		if ((s->fd == -1 && slot_udp_open(b, s) == -1) ||
		    send(s->fd, b->req, b->reqlen, 0) != (ssize_t)b->reqlen) {
			(*failure(b, errno))++;
			slot_backoff(s, now, 0);
			return;
		}
		s->state = S_REPLY;
		return;
	}
	s->fd = socket(b->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd != -1 && (connect(s->fd, (struct sockaddr *)&b->ss, b->sslen) == 0 ||
	    errno == EINPROGRESS)) {
		s->state = S_CONNECT;
		slot_watch(b, s, EPOLLOUT, EPOLL_CTL_ADD);
		return;
	}
	(*failure(b, errno))++;
	if (errno == EADDRNOTAVAIL) {
		b->r.noport++;
		slot_backoff(s, now, BENCH_BACKOFF_NS);
	} else
		slot_backoff(s, now, 0);
	slot_close(s);
}

/* The slot's transaction is over: start the next, or rest. */
static void
slot_next(struct bench *b, struct slot *s, uint64_t now)
{
	if (!b->o->udp)
		slot_close(s);
	if (bench_more(b, now))
		slot_start(b, s, now);
	else {
		s->state = S_IDLE;
		b->busy--;
	}
}

/* The transaction failed: count it where it belongs. */
static void
slot_fail(struct bench *b, struct slot *s, uint64_t now, uint64_t *counter)
{
	(*counter)++;
	/* A late reply must not be taken for the next transaction's. */
	slot_close(s);
	slot_next(b, s, now);
}

static void
record(struct bench *b, struct slot *s, uint64_t now, const char *line, size_t len)
{
	struct bench_result *r = &b->r;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	bench_hist_add(b->hist, now - s->start);
	r->answered++;
	b->t_answer = now;
	if (b->o->expect != NULL && (len != strlen(b->o->expect) ||
	    memcmp(line, b->o->expect, len) != 0))
		r->wrong++;
}

/* Read what is there; 1 data or nothing yet, 0 EOF, -1 error. */
static int
slot_read(struct slot *s)
{
	ssize_t n;

	if (s->len == sizeof(s->buf))
		s->len = 0;	/* only the quit steps read this much: drop it */
	n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0);
	if (n > 0)
		s->len += (size_t)n;
	else if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 1;
	return n > 0 ? 1 : (int)n;
}

/* A line ends at LF; a full buffer is a line too. */
static size_t
slot_line(const struct slot *s)
{
	const char *nl = memchr(s->buf, '\n', s->len);

	if (nl != NULL)
		return (size_t)(nl - s->buf) + 1;
	return s->len == sizeof(s->buf) ? s->len : 0;
}

static void
slot_send(struct bench *b, struct slot *s, uint64_t now)
{
	if (send(s->fd, b->req, b->reqlen, MSG_NOSIGNAL) != (ssize_t)b->reqlen) {
		slot_fail(b, s, now, failure(b, errno));
		return;
	}
	s->state = S_REPLY;
}

static void
tcp_connected(struct bench *b, struct slot *s, uint64_t now)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		slot_fail(b, s, now, failure(b, err));
		return;
	}
	slot_watch(b, s, EPOLLIN, EPOLL_CTL_MOD);
	if (b->greeting)
		s->state = S_GREETING;
	else
		slot_send(b, s, now);
}

static void
tcp_greeting(struct bench *b, struct slot *s, uint64_t now)
{
	size_t n;
	int rv;

	if ((rv = slot_read(s)) != 1) {
		slot_fail(b, s, now, failure(b, rv == 0 ? 0 : errno));
		return;
	}
	if ((n = slot_line(s)) == 0)
		return;
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
	slot_send(b, s, now);
}

/*
 * The reply ends the transaction.  Then the quit word, and we wait for
 * the server to close first so that TIME_WAIT stays on its side.
 */
static int
tcp_reply(struct bench *b, struct slot *s, uint64_t now)
{
	size_t n;
	int rv;

	if ((rv = slot_read(s)) == -1 || (rv == 0 && s->len == 0)) {
		slot_fail(b, s, now, failure(b, rv == 0 ? 0 : errno));
		return 0;
	}
	if ((n = slot_line(s)) == 0 && rv == 1)
		return 0;
	record(b, s, now, s->buf, n != 0 ? n : s->len);
	s->len = 0;
	if (rv == 0 || send(s->fd, BENCH_QUIT, strlen(BENCH_QUIT), MSG_NOSIGNAL) == -1) {
		slot_next(b, s, now);
		return 0;
	}
	s->state = S_QUIT;
	s->deadline = now + b->timeout_ns;
	if (b->cut && s->deadline > b->t_grace)
		s->deadline = b->t_grace;
	return 0;
}

/* A service that answers the quit word (echo) gets our end of file instead. */
static void
tcp_quit(struct bench *b, struct slot *s, uint64_t now)
{
	int rv = slot_read(s);

	if (rv == 1 && s->len > 0 && s->state == S_QUIT) {
		shutdown(s->fd, SHUT_WR);
		s->state = S_DRAIN;
	}
	s->len = 0;
	if (rv != 1)
		slot_next(b, s, now);
}

static int
udp_reply(struct bench *b, struct slot *s, uint64_t now)
{
	ssize_t n = recv(s->fd, s->buf, sizeof(s->buf), 0);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (s->state != S_REPLY)
		return 0;	/* late, for a transaction already given up */
	if (n == -1) {
		/* An ICMP refusal: the socket stays usable for the next try. */
		(*failure(b, errno))++;
		slot_next(b, s, now);
		return 0;
	}
	record(b, s, now, s->buf, (size_t)n);
	slot_next(b, s, now);
	return 0;
}

static int
slot_event(struct bench *b, struct slot *s, uint64_t now)
{
	if (b->o->udp)
		return udp_reply(b, s, now);
	switch (s->state) {
	case S_CONNECT:
		tcp_connected(b, s, now);
		break;
	case S_GREETING:
		tcp_greeting(b, s, now);
		break;
	case S_REPLY:
		return tcp_reply(b, s, now);
	case S_QUIT:
	case S_DRAIN:
		tcp_quit(b, s, now);
		break;
	default:
		break;
	}
	return 0;
}

/*
 * A request under way whose deadline passed: it timed out, or, when the
 * deadline was the end of the grace after -d, it is lost.
 */
static void
slot_expire(struct bench *b, struct slot *s, uint64_t now)
{
	if (s->state == S_BACKOFF)
		slot_next(b, s, now);
	else if (s->state == S_QUIT || s->state == S_DRAIN) {
		slot_close(s);
		slot_next(b, s, now);
	} else if (b->cut && s->deadline == b->t_grace)
		slot_fail(b, s, now, &b->r.lost);
	else
		slot_fail(b, s, now, &b->r.timeouts);
}

/* Deadlines that passed; the next one (UINT64_MAX: none). */
static uint64_t
bench_expire(struct bench *b, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	unsigned i;

	for (i = 0; i < b->o->concurrency; i++) {
		struct slot *s = &b->slots[i];

		if (s->state != S_IDLE && s->deadline <= now)
			slot_expire(b, s, now);
		if (s->state != S_IDLE && s->deadline < next)
			next = s->deadline;
	}
	return next;
}

/*
 * With -d, time is up: no request starts any more, and those under way
 * get a grace (a second, or -w if shorter) for their replies, which count
 * as usual; the rest are then lost.  So a dropped datagram is counted,
 * yet cannot stretch the run by -w.  Those already answered and saying
 * goodbye (S_QUIT, S_DRAIN) are held no longer than that either.
 */
static void
bench_cut(struct bench *b, uint64_t now)
{
	unsigned i;

	b->cut = true;
	b->t_grace = now + (b->timeout_ns < BENCH_GRACE_NS ? b->timeout_ns :
	    BENCH_GRACE_NS);
	for (i = 0; i < b->o->concurrency; i++) {
		struct slot *s = &b->slots[i];

		if (s->state == S_BACKOFF) {
			s->state = S_IDLE;
			b->busy--;
		} else if (s->state != S_IDLE && s->deadline > b->t_grace)
			s->deadline = b->t_grace;
	}
}

/* The live progress line on a terminal, redrawn a few times a second. */
static void
bench_draw(struct bench *b, uint64_t now)
{
	char line[256];

	if (!b->tty || now < b->t_draw)
		return;
	bench_progress_format(line, sizeof(line), &b->r, (double)(now - b->t0) / 1e9);
	fprintf(stderr, "\r%s\033[K", line);
	b->drawn = true;
	b->t_draw = now + BENCH_DRAW_NS;
}

/* The wait for epoll in ms: the next deadline, the end of -d, the next drawing. */
static int
bench_timeout(struct bench *b, uint64_t now)
{
	uint64_t next = bench_expire(b, now);

	if (b->o->duration_ms > 0 && !b->cut && b->t_end < next)
		next = b->t_end;
	if (b->tty && b->t_draw < next)
		next = b->t_draw;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

/* The length of the run: with -d, its time, or up to the last reply in the grace. */
static double
bench_seconds(const struct bench *b, uint64_t now)
{
	if (b->o->duration_ms > 0)
		now = b->t_answer > b->t_end ? b->t_answer : b->t_end;
	return (double)(now - b->t0) / 1e9;
}

static int
bench_loop(struct bench *b)
{
	struct epoll_event ev[BENCH_EVENTS];
	uint64_t now;
	unsigned i;
	int n, timeout, j;

	b->t0 = now = hc_now_ns();
	b->t_end = b->t0 + b->o->duration_ms * 1000000;
	b->t_draw = b->t0 + BENCH_DRAW_NS;
	for (i = 0; i < b->o->concurrency && bench_more(b, now); i++) {
		b->busy++;
		slot_start(b, &b->slots[i], now);
	}
	while (b->busy > 0) {
		now = hc_now_ns();
		if (b->o->duration_ms > 0 && now >= b->t_end && !b->cut)
			bench_cut(b, now);
		bench_draw(b, now);
		timeout = bench_timeout(b, now);
		if (b->busy == 0)
			break;
		if ((n = epoll_wait(b->ep, ev, BENCH_EVENTS, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		now = hc_now_ns();
		for (j = 0; j < n; j++)
			if (slot_event(b, &b->slots[ev[j].data.u32], now) == -1)
				return -1;
	}
	if (b->drawn)
		fputs("\r\033[K", stderr);
	b->r.seconds = bench_seconds(b, hc_now_ns());
	return 0;
}

/* Make room for a descriptor per slot and a few more. */
static int
bench_fds(unsigned concurrency)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)concurrency + BENCH_FDS_SPARE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur >= want)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		return -1;
	rl.rlim_cur = want;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/*
 * Whether the service greets is decided once, on a first connection that
 * is not counted: whatever it sends within a short wait is a greeting, and
 * every transaction then reads one line before sending.
 */
static int
probe_tcp(struct bench *b, char *err, size_t errlen)
{
	const struct hc_opts *o = b->o;
	char buf[BENCH_LINEMAX];
	uint64_t end;
	int fd;

	fd = hc_connect(o->host, o->port, o->family, SOCK_STREAM, o->timeout_ms,
	    &b->ss, &b->sslen, err, errlen);
	if (fd == -1)
		return -1;
	b->greeting = hc_wait(fd, POLLIN, HC_GREETING_MS) == 1 &&
	    recv(fd, buf, sizeof(buf), 0) > 0;
	/* Leave the way a transaction leaves, so that the server logs a quit. */
	if (hc_send_all(fd, BENCH_QUIT, strlen(BENCH_QUIT)) == 0) {
		shutdown(fd, SHUT_WR);
		end = hc_now_ns() + (uint64_t)o->timeout_ms * 1000000;
		while (hc_now_ns() < end && hc_wait(fd, POLLIN, o->timeout_ms) == 1 &&
		    recv(fd, buf, sizeof(buf), 0) > 0)
			;
	}
	close(fd);
	return 0;
}

/*
 * A UDP service must answer the message once before the run: that picks
 * the address (the first that does not refuse) and catches a wrong port
 * early instead of as a run of timeouts.
 */
static int
probe_udp(struct bench *b, char *err, size_t errlen)
{
	const struct hc_opts *o = b->o;
	struct addrinfo *res, *ai;
	char buf[BENCH_LINEMAX], sec[32];
	int fd, ready, rv = -1;

	if ((res = hc_resolve(o->host, o->port, o->family, SOCK_DGRAM, err, errlen)) == NULL)
		return -1;
	for (ai = res; ai != NULL && rv == -1; ai = ai->ai_next) {
		if ((fd = hc_connect_one(ai, 0, err, errlen)) == -1)
			continue;
		if (send(fd, b->req, b->reqlen, 0) == -1)
			snprintf(err, errlen, "%s", strerror(errno));
		else if ((ready = hc_wait(fd, POLLIN, o->timeout_ms)) == 0)
			snprintf(err, errlen, "no reply to the first datagram within %s",
			    hc_seconds(o->timeout_ms, sec, sizeof(sec)));
		else if (ready == -1 || recv(fd, buf, sizeof(buf), 0) == -1)
			snprintf(err, errlen, "%s", strerror(errno));
		else {
			memcpy(&b->ss, ai->ai_addr, ai->ai_addrlen);
			b->sslen = ai->ai_addrlen;
			rv = 0;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return rv;
}

/* Ready a run: the message, descriptors, the target probed; 0, or -1 with the reason. */
static int
bench_setup(struct bench *b, const struct hc_opts *o, char *err, size_t errlen)
{
	unsigned i;

	b->o = o;
	b->ep = -1;
	b->timeout_ns = (uint64_t)o->timeout_ms * 1000000;
	b->tty = isatty(2);
	b->reqlen = strlen(o->message) + (o->udp ? 0 : 1);
	if ((b->req = malloc(b->reqlen + 1)) == NULL)
		goto syserr;
	snprintf(b->req, b->reqlen + 1, "%s%s", o->message, o->udp ? "" : "\n");
	if (bench_fds(o->concurrency) == -1) {
		snprintf(err, errlen, "concurrency %u needs more open files than this "
		    "process may have", o->concurrency);
		return -1;
	}
	if ((o->udp ? probe_udp(b, err, errlen) : probe_tcp(b, err, errlen)) == -1)
		return -1;
	if ((b->ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (b->slots = calloc(o->concurrency, sizeof(*b->slots))) == NULL)
		goto syserr;
	for (i = 0; i < o->concurrency; i++)
		b->slots[i].fd = -1;
	if ((b->hist = calloc(1, sizeof(*b->hist))) == NULL)
		goto syserr;
	b->r.latency = b->hist;
	return 0;
syserr:
	snprintf(err, errlen, "%s", strerror(errno));
	return -1;
}

static void
bench_free(struct bench *b)
{
	unsigned i;

	if (b->slots != NULL)
		for (i = 0; i < b->o->concurrency; i++)
			slot_close(&b->slots[i]);
	if (b->ep != -1)
		close(b->ep);
	free(b->slots);
	free(b->req);
	free(b->hist);
}

/*
 * After the report, on stderr: why the exit status is 1 (a wrong reply,
 * a refused or failed connection, no reply at all), and local ports that
 * ran out.  Returns the exit status.
 */
static int
bench_verdict(const struct bench_result *r, const struct hc_opts *o)
{
	if (r->noport > 0)
		hc_error(o->host, o->port, "%" PRIu64 " connects found no free local "
		    "port (EADDRNOTAVAIL) and were counted as errors; closed "
		    "connections hold their ports in TIME_WAIT for a minute",
		    r->noport);
	if (r->answered == 0) {
		hc_error(o->host, o->port, "no request got a reply");
		return HC_FAIL;
	}
	if (r->wrong > 0)
		hc_error(o->host, o->port, "%" PRIu64 " of %" PRIu64 " replies were "
		    "not the one expected", r->wrong, r->answered);
	if (r->refused + r->errors > 0)
		hc_error(o->host, o->port, "%" PRIu64 " requests refused, %" PRIu64
		    " failed otherwise", r->refused, r->errors);
	return r->wrong + r->refused + r->errors > 0 ? HC_FAIL : HC_OK;
}

/*
 * --bench: run the requests, print the report (table or JSON) on stdout.
 * Exit 0 when every request that ended got the right reply or timed out
 * or was lost, and at least one was answered; 1 when a reply was wrong, a
 * connection failed, none was answered, or the target could not be
 * reached at all (--json then still prints an object, with "error").
 */
int
bench_run(const struct hc_opts *o)
{
	struct bench b;
	char err[HC_ERRLEN] = "";
	int rc = HC_FAIL;

	memset(&b, 0, sizeof(b));
	if (bench_setup(&b, o, err, sizeof(err)) == 0 && bench_loop(&b) == -1)
		snprintf(err, sizeof(err), "epoll_wait: %s", strerror(errno));
	if (err[0] != '\0') {
		hc_error(o->host, o->port, "%s", err);
		if (o->json) {
			bench_report_json(stdout, &b.r, err);
			(void)hc_out_flush();
		}
	} else {
		if (o->json)
			bench_report_json(stdout, &b.r, NULL);
		else
			bench_report_table(stdout, &b.r, o, b.greeting);
		if (hc_out_flush() == 0)
			rc = bench_verdict(&b.r, o);
	}
	bench_free(&b);
	return rc;
}
