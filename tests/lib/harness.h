/* Integration test harness: run the real hellod on loopback and talk to it. */
#ifndef HELLOD_TEST_HARNESS_H
#define HELLOD_TEST_HARNESS_H

#include <sys/types.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ports chosen per daemon; a config template names them @P0@ ... @P3@. */
#define HD_NPORTS	4

/*
 * How daemon_start() knows the daemon is ready.  A TCP or UDP probe may
 * succeed before the daemon has bound its other sockets (a slow daemon,
 * under valgrind, shows it): it is ready when the log says "hellod: started "
 * too, unless the template sets log_level, which may hide that line.
 */
enum hd_probe {
	HD_PROBE_TCP,		/* a TCP connect to 127.0.0.1:@P0@ succeeds */
	HD_PROBE_UDP,		/* a datagram to 127.0.0.1:@P0@ gets a reply */
	HD_PROBE_LOG,		/* the log says "hellod: started " */
};

struct daemon {
	pid_t		 pid;		/* 0 when not running */
	int		 status;	/* exit code (128+N: signal N); -1 running */
	uint16_t	 port[HD_NPORTS];
	char		 conf[PATH_MAX];
	char		 log[PATH_MAX];	/* its stderr */
	char		 out[PATH_MAX];	/* its stdout */
};

/*
 * Find the daemon in $HELLOD (exit 77, skip, when it is unset or not
 * executable), make a private temporary directory removed at exit,
 * ignore SIGPIPE in the test process, and run only the cases matching
 * $HELLOD_TEST when it is set.
 */
void	harness_init(void);

/*
 * Slow runs.  Under make check-valgrind the daemon runs under valgrind
 * ($HELLOD_VALGRIND is set), and every wait for what must happen is
 * longer: harness_ms(ms) is ms times $HELLOD_TIMEOUT_SCALE, a whole
 * number (1 when unset).  The harness scales its own waits (start,
 * stop, hellod runs, the control socket); a test scales those it passes
 * (its T_MS), never a wait that must see nothing happen.
 */
int	harness_ms(int ms);
bool	harness_valgrind(void);
/* Skip the running case under valgrind, saying why (a cmocka skip). */
#define harness_skip_valgrind(why) do {					\
	if (harness_valgrind()) {					\
		print_message("skipped under valgrind: %s\n", (why));	\
		skip();							\
	}								\
} while (0)

/* The temporary directory, and path names inside it. */
const char *harness_dir(void);
/* "DIR/name" in a static buffer of its own per call slot (4 rotating). */
const char *harness_path(const char *name);

/* True when the kernel lets us bind ::1. */
bool	harness_have_ipv6(void);

/*
 * A real program a test runs (in.tftpd, haproxy): the path in the
 * environment variable env when it is executable, else the system's path
 * when that is; NULL when neither.
 */
const char *harness_program(const char *env, const char *path);

/* A port free right now for TCP and UDP on 127.0.0.1 (and ::1 when present). */
uint16_t harness_free_port(void);

/* Write a file from a format string; fails the test on error. */
void	harness_write_file(const char *path, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Read a whole file into a malloc'ed NUL-terminated string ("" when absent). */
char	*harness_read_file(const char *path);

/*
 * Run "$HELLOD args..." (args NULL-terminated) to completion, at most
 * 10 seconds (scaled), stdout and stderr captured into malloc'ed strings
 * when out/err are not NULL.  Returns its exit code (128+N if killed by
 * N).
 */
int	harness_run(char **out, char **err, const char *const args[]);

/*
 * Start "$HELLOD -f -e -c CONF [extra...]" where CONF is tmpl with @P0@..
 * @P3@ replaced by fresh free ports and @DIR@ by the temporary directory.
 * Waits (10 s at most, scaled) until the probe succeeds.  Returns 0 when
 * ready; the daemon's exit code when it exited first (its stderr is
 * printed; on 71 with @P in the template it is retried with new ports);
 * -1 when it never got ready (then it is killed).
 */
int	daemon_start(struct daemon *d, const char *tmpl);
int	daemon_start_with(struct daemon *d, const char *tmpl, enum hd_probe probe,
	    const char *const extra[]);

/*
 * Pass these sockets to the daemons started from now on, as systemd's
 * socket activation does (descriptors 3.., LISTEN_FDS, LISTEN_PID); n = 0
 * stops passing.  The caller keeps its own descriptors.
 */
void	harness_pass_fds(const int *fds, size_t n);

/* Rewrite d's config from tmpl with the same ports (for a reload). */
void	daemon_rewrite(struct daemon *d, const char *tmpl);

/* Send a signal to the daemon. */
void	daemon_signal(struct daemon *d, int sig);

/*
 * Send sig (SIGTERM, SIGINT) and wait at most 10 s (scaled) for the
 * exit, then SIGKILL.  Returns the exit code (128+N when killed by
 * signal N); prints the daemon's stderr when it is not 0.
 */
int	daemon_stop(struct daemon *d, int sig);

/* Wait at most timeout_ms for the daemon to exit; its exit code, or -1. */
int	daemon_wait_exit(struct daemon *d, int timeout_ms);

/* cmocka teardown: SIGKILL every daemon still running (after a failed test). */
int	harness_teardown(void **state);

/*
 * Bound the whole program to seconds: then every daemon started is killed
 * (SIGKILL), a line says so on stderr, and the program exits 99, a hard
 * error for automake.  0 cancels.
 */
void	harness_watchdog(unsigned seconds);

/*
 * Raise the test process's descriptor limit (RLIMIT_NOFILE) to at least
 * n, the hard limit too when it is lower and we may (root).  Daemons
 * started later inherit it.  Returns 0, or -1 when it cannot be had.
 */
int	harness_nofile(unsigned long n);

/* Log (the daemon's stderr) checks. */
bool	log_contains(struct daemon *d, const char *needle);
unsigned log_count(struct daemon *d, const char *needle);
/* The lines that hold needle, and also also unless it is NULL. */
unsigned log_count_lines(struct daemon *d, const char *needle, const char *also);
/* Poll until needle appears at least n times; false after timeout_ms. */
bool	log_wait_n(struct daemon *d, const char *needle, unsigned n, int timeout_ms);
bool	log_wait(struct daemon *d, const char *needle, int timeout_ms);
void	log_dump(struct daemon *d);

/* Processes, from /proc: children of pid (up to max into out), zombies among them. */
size_t	proc_children(pid_t pid, pid_t *out, size_t max);
unsigned proc_zombies(pid_t pid);
/* The zombies among pid's children: their count, and up to max of them into out. */
unsigned proc_zombie_list(pid_t pid, pid_t *out, size_t max);
/* pid's resident set (VmRSS of /proc/PID/status) in KiB, or -1. */
long	proc_rss_kib(pid_t pid);
/* pid's open descriptors (the entries of /proc/PID/fd), or -1. */
int	proc_fds(pid_t pid);
/* The CPU time pid has used, user and system, not its children's, in ms; or -1. */
long	proc_cpu_ms(pid_t pid);
/* True when pid exists and is not a zombie. */
bool	proc_alive(pid_t pid);
/* Poll until pid has exactly n children; false after timeout_ms. */
bool	proc_wait_children(pid_t pid, size_t n, int timeout_ms);
/*
 * A child made by make (fork, or one of the daemon's ways) that leaves
 * with _exit(body(arg)): its exit status, once reaped (a test failure
 * when it did not exit).
 */
int	child_status(pid_t (*make)(void), int (*body)(const void *arg),
	    const void *arg);

/* Whether the page holding p is mapped in this process (msync says ENOMEM if not). */
bool	page_mapped(const void *p);
/* Whether a line of /proc/self/maps holds what, and perms ("r-xp") unless NULL. */
bool	maps_line(const char *perms, const char *what);
/* Whether /proc/self/maps names a file whose name holds what. */
bool	maps_name(const char *what);
/* Whether /proc/self/maps has code (r-xp) from a file whose name holds what. */
bool	maps_code(const char *what);
/* Whether a child made by fn (see child_status) says yes to check(what). */
bool	child_says(pid_t (*fn)(void), bool (*check)(const char *),
	    const char *what);

/* Monotonic milliseconds. */
uint64_t now_ms(void);

/* TCP client: connect to host ("127.0.0.1", "::1") within timeout_ms; fd or -1. */
int	tcp_connect(const char *host, uint16_t port, int timeout_ms);
/* The same from the address src ("127.0.0.2"), or any when NULL. */
int	tcp_connect_from(const char *src, const char *host, uint16_t port,
	    int timeout_ms);
/* Send all of buf; 0 or -1. */
int	send_all(int fd, const void *buf, size_t len);
int	send_str(int fd, const char *s);
/*
 * Read up to and including LF (or len-1 bytes) into buf, NUL-terminated.
 * Returns the length; 0 at EOF before any byte; -1 on timeout or error.
 */
ssize_t	read_line(int fd, char *buf, size_t len, int timeout_ms);
/* Read exactly n bytes; n, or fewer at EOF, or -1 on timeout/error. */
ssize_t	read_n(int fd, void *buf, size_t n, int timeout_ms);
/* Read until EOF into buf (NUL-terminated); the length, or -1 on timeout. */
ssize_t	read_all(int fd, char *buf, size_t len, int timeout_ms);
/*
 * Wait for what comes next: 1 EOF or reset, 0 nothing within timeout_ms
 * (the connection is open and silent), -2 data arrived.
 */
int	wait_eof(int fd, int timeout_ms);

/* UDP client socket bound to host:sport (0: any port); fd or -1. */
int	udp_socket(const char *host, uint16_t sport);
/*
 * Send one datagram from fd to host:port and wait timeout_ms for a reply.
 * Returns its full length (may be 0, may exceed outmax when it was cut),
 * or -1 when none came.
 */
ssize_t	udp_exchange(int fd, const char *host, uint16_t port, const void *req,
	    size_t reqlen, void *out, size_t outmax, int timeout_ms);
/* The same with a fresh socket on an ephemeral port. */
ssize_t	udp_ask(const char *host, uint16_t port, const void *req, size_t reqlen,
	    void *out, size_t outmax, int timeout_ms);

/*
 * A socket of type (SOCK_STREAM, SOCK_DGRAM) on 127.0.0.1:port, as another
 * program holding the port would have it: SO_REUSEADDR, and listening for
 * TCP.  Fails the test when the port cannot be had.
 */
int	hold_port(int type, uint16_t port);

/*
 * A UNIX socket of type at path: connected to it (connect true) or bound
 * there.  Fails the test on error.
 */
int	unix_socket(const char *path, int type, bool connect_it);

/* The number after " key=" in the status line of service name, from the control socket. */
unsigned long control_value(const char *path, const char *name, const char *key);

/* What the control socket at path answers to one command, into buf; its length (> 0). */
size_t	control_ask(const char *path, const char *command, char *buf, size_t len);

/* Its answer to "status". */
size_t	control_read(const char *path, char *buf, size_t len);

#endif
