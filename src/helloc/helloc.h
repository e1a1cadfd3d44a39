/* The companion client helloc: its options, its modes, and what its files share. */
#ifndef HELLOC_H
#define HELLOC_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Exit codes: success, network or protocol error, an HTTP status other
 * than 2xx (--get), usage (EX_USAGE).
 */
#define HC_OK		0
#define HC_FAIL		1
#define HC_STATUS	2
#define HC_USAGE	64

#define HC_TIMEOUT_MS	5000	/* -w default: connect, each reply */
#define HC_GREETING_MS	300	/* how long a greeting may take to arrive */
#define HC_TRIES	3	/* UDP dialogue: the first send and two retries */
#define HC_LINEMAX	65536	/* longest reply line kept whole */
#define HC_ERRLEN	256

/* Everything the command line says, for every mode. */
struct hc_opts {
	int		 family;	/* AF_UNSPEC, or AF_INET (-4), AF_INET6 (-6) */
	bool		 udp;		/* -u */
	int		 timeout_ms;	/* -w */
	const char	*host;
	const char	*port;
	char *const	*msgs;		/* dialogue messages, nmsgs of them */
	int		 nmsgs;

	const char	*url;		/* --get */
	const char	*output;	/* -o, or NULL for stdout */
	const char	*cacert;	/* --cacert, or NULL for the system's */
	bool		 location;	/* -L */
	bool		 silent;	/* -s */
	bool		 insecure;	/* -k */

	unsigned	 concurrency;	/* --bench -c */
	uint64_t	 count;		/* -n, 0 with -d */
	uint64_t	 duration_ms;	/* -d, 0 with -n */
	const char	*message;	/* -m */
	const char	*expect;	/* --expect, or NULL */
	bool		 json;

	const char	*control;	/* --status: the control socket's path */
};

/* The modes; each returns the exit code. */
int	dialogue_run(const struct hc_opts *);
int	relay_run(const struct hc_opts *);
int	http_get(const struct hc_opts *);
int	bench_run(const struct hc_opts *);
int	status_run(const struct hc_opts *);

/* status.c: the pure parts of --status, exported for the unit tests. */

/* The default control socket, as the shipped configuration sets it. */
#define HC_CONTROL	"/run/hellod/control"

/*
 * The value of key in a line of the daemon's status ("NAME: status
 * key=value ..."), unquoted and unescaped into out; "" when absent.
 */
const char *status_value(const char *line, const char *key, char *out,
	    size_t len);
/* Print the text status as a summary and an aligned table; -1 when it is none. */
int	status_print(char *text);

/* net.c: resolving, connecting, waiting, reading lines. */

/* Monotonic clock in nanoseconds. */
uint64_t hc_now_ns(void);

/* Print "helloc: HOST port PORT: MESSAGE" on stderr. */
void	hc_error(const char *host, const char *port, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* A timeout for messages: "5 s", "0.5 s". */
const char *hc_seconds(int ms, char *buf, size_t len);

/*
 * Resolve host and port for socktype (SOCK_STREAM, SOCK_DGRAM) and family.
 * Returns the getaddrinfo list, or NULL with the reason in err.
 */
struct addrinfo *hc_resolve(const char *host, const char *port, int family,
	    int socktype, char *err, size_t errlen);

/*
 * Connect a socket to one address within timeout_ms.  Returns a blocking,
 * close-on-exec descriptor, or -1 with the reason in err and errno set.
 */
int	hc_connect_one(const struct addrinfo *ai, int timeout_ms, char *err,
	    size_t errlen);

/*
 * Resolve and connect, trying every address in turn until one answers.
 * The address used is copied to ss/sslen when they are not NULL.  Returns
 * the descriptor, or -1 with the reason in err (the last address's reason,
 * and how many addresses were tried when there were several).
 */
int	hc_connect(const char *host, const char *port, int family, int socktype,
	    int timeout_ms, struct sockaddr_storage *ss, socklen_t *sslen,
	    char *err, size_t errlen);

/* Poll one descriptor: 1 ready, 0 timeout (-1 waits forever), -1 error. */
int	hc_wait(int fd, short events, int timeout_ms);

/* Send all of buf on a blocking socket, without SIGPIPE; 0 or -1. */
int	hc_send_all(int fd, const void *buf, size_t len);

/*
 * The same within timeout_ms: a server that stops reading cannot hold us
 * past it.  0, or -1 with errno (ETIMEDOUT when the time ran out).
 */
int	hc_send_within(int fd, const void *buf, size_t len, int timeout_ms);

/* Write all of buf to a file descriptor; 0 or -1. */
int	hc_write_all(int fd, const void *buf, size_t len);

/*
 * A UDP peer: the addresses of a name, the one in use, and its connected
 * socket.  An address that refuses (an ICMP port unreachable) before it
 * has ever replied gives way to the next, as a TCP connect would.
 */
struct hc_udp {
	struct addrinfo	*res;
	struct addrinfo	*ai;		/* the address in use */
	int		 fd;
	bool		 answered;	/* it replied once: stay with it */
};

/* Resolve and open a socket to the first address; 0, or -1 with the reason. */
int	hc_udp_open(struct hc_udp *, const char *host, const char *port,
	    int family, char *err, size_t errlen);

/*
 * After a refusal: move to the next address when the one in use never
 * replied.  Returns 0 with a new socket, or -1 with the reason in err
 * (the refusal itself when no address is left).
 */
int	hc_udp_next(struct hc_udp *, char *err, size_t errlen);

void	hc_udp_close(struct hc_udp *);

/* Read and drop every datagram already queued on fd; errors too. */
void	hc_udp_drain(int fd);

/* out.c: what helloc prints on stdout. */

/* Escape what the server sent when stdout is a terminal (decided once). */
void	hc_out_init(void);

/*
 * Print one reply as a line: trailing CR and LF removed, escaped with
 * strvis(3) on a terminal, raw otherwise.  0, or -1 after reporting
 * "helloc: stdout: REASON".
 */
int	hc_out_line(const char *p, size_t len);

/* Flush stdout; 0, or -1 after reporting a write error as above. */
int	hc_out_flush(void);

/* Report a failed write to stdout with errno's reason. */
void	hc_out_error(void);

/* Reading lines from a socket, keeping what follows a line for the next. */
struct hc_lines {
	int	 fd;
	bool	 eof;
	size_t	 len;		/* bytes held in buf */
	size_t	 used;		/* bytes of the line last returned */
	char	 buf[HC_LINEMAX];
};

void	hc_lines_init(struct hc_lines *, int fd);

/*
 * The next line within timeout_ms, without its LF or CRLF, in *line (not
 * NUL-terminated, valid until the next call).  A line longer than the
 * buffer comes in pieces; an unterminated fragment at EOF is a line.
 * Returns 1, 0 at EOF, or -1 with errno (ETIMEDOUT on timeout).
 */
int	hc_lines_read(struct hc_lines *, int timeout_ms, char **line,
	    size_t *linelen);

/* http.c: the pure part of --get, exported for the unit tests. */

/*
 * The progress line of a body: a bar, percentage, bytes, rate and time
 * left when its length (total) is known; bytes and rate when it is not
 * (total 0).  Returns buf.
 */
char	*http_progress_format(char *buf, size_t len, uint64_t got, uint64_t total,
	    double seconds);

/* bench.c: the results and their reports, exported for the unit tests. */

/*
 * Latencies in a log-linear histogram of fixed size, whatever the length
 * of the run: values below 256 ns each have a bucket; above, every power
 * of two is cut in 128 buckets, so that a bucket is at most 1/128 of its
 * values wide.  The minimum and maximum are kept exactly.
 */
#define BENCH_HIST_SUBBITS	8
#define BENCH_HIST_BUCKETS	((64 - BENCH_HIST_SUBBITS + 2) << (BENCH_HIST_SUBBITS - 1))

struct bench_hist {
	uint64_t	 n;
	uint64_t	 min;
	uint64_t	 max;
	double		 mean;		/* Welford's running mean, */
	double		 m2;		/* and sum of squared differences from it */
	uint64_t	 count[BENCH_HIST_BUCKETS];
};

void	bench_hist_add(struct bench_hist *, uint64_t value);

/*
 * The permille-th percentile (p50 is 500, p99 990) by nearest rank: the
 * bucket holding the smallest value with at least that share of the
 * values at or below it, given as the middle of that bucket kept within
 * the minimum and maximum seen.  Exact below 256; above, within 1/256 of
 * the true value.  permille 1000 is the exact maximum; 0 when empty.
 */
uint64_t bench_hist_percentile(const struct bench_hist *, unsigned permille);

/* The exact mean, and the sample standard deviation (0 below two values). */
double	bench_hist_mean(const struct bench_hist *);
double	bench_hist_stddev(const struct bench_hist *);

/*
 * How the requests of a run ended.  Each ends one way only, so that
 * answered, timeouts, lost, refused and errors add up to requests;
 * wrong is a part of answered.
 */
struct bench_result {
	uint64_t	 requests;	/* started */
	uint64_t	 answered;	/* got a reply, right or wrong */
	uint64_t	 wrong;		/* replies not equal to --expect */
	uint64_t	 timeouts;	/* no reply within -w */
	uint64_t	 lost;		/* still waiting for it when the run ended */
	uint64_t	 refused;	/* connection refused, or ICMP port unreachable */
	uint64_t	 errors;	/* any other failure: reset, closed, no local port */
	uint64_t	 noport;	/* of the errors: connects with no free local port */
	double		 seconds;
	const struct bench_hist *latency;	/* ns; NULL when none */
};

/*
 * The report: one JSON object on one line, with an "error" member when
 * error is not NULL (the target could not be reached), or a summary line
 * and an aligned table.
 */
void	bench_report_json(FILE *, const struct bench_result *, const char *error);
void	bench_report_table(FILE *, const struct bench_result *,
	    const struct hc_opts *, bool greeting);

/* The live progress line of a run so far. */
char	*bench_progress_format(char *buf, size_t len, const struct bench_result *,
	    double seconds);

#endif
