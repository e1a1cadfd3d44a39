/* Stress: 500 idle and 500 trickling connections from one address, held off by per_source. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "stress.h"

#define ATTACKER	"127.0.0.2"
#define SLOTS		1000		/* half idle, half trickling */
#define PER_SOURCE	10
#define MAX_DURATION_MS	5000
/* How long the attacker keeps every slot busy: over two max_durations. */
#define ATTACK_MS	12000
/* A slot whose connection was closed opens the next one after this long. */
#define RECONNECT_MS	1000
/* How late past max_duration an admitted connection may end. */
#define LATE_MS		3000
/*
 * The well-behaved clients, per address (127.0.0.1, ::1), well within
 * per_source.  A client's count includes the children that are still
 * finishing after its dialogue (the client has its last line; the child
 * still has to read the close, exit and be reaped), which on two busy
 * cores can take a while: three clients that reconnect at once were seen
 * counted as ten.  So two, with a breath between dialogues.
 */
#define GOOD_THREADS	2
#define GOOD_PAUSE_MS	20

enum slot_state {
	SLOT_WAIT,		/* closed; the next connection at .at */
	SLOT_CONNECTING,
	SLOT_OPEN,		/* connected, no byte yet */
	SLOT_ADMITTED,		/* greeted */
	SLOT_DONE,		/* the attack is over for this slot */
};

struct slot {
	int		 fd;
	bool		 trickle;
	enum slot_state	 state;
	uint64_t	 at;		/* reconnect, or the next byte to send */
	uint64_t	 started;	/* connect(): before the daemon's clock starts */
};

struct attack {
	struct slot	*slots;
	size_t		 n;
	uint16_t	 port;
	unsigned long	 attempts, connect_failed, refused, admitted;
	unsigned long	 admitted_trickle;
	unsigned long	 ended_max, ended_early, ended_late, stuck;
	unsigned long	 bytes_sent, reply_bytes;
	unsigned	 admitted_now, admitted_most;
};

static void
slot_close(struct slot *s, uint64_t now, bool attacking)
{
	close(s->fd);
	s->fd = -1;
	s->state = attacking ? SLOT_WAIT : SLOT_DONE;
	s->at = now + RECONNECT_MS;
}

/* A new connection from ATTACKER, without waiting for it. */
static void
slot_connect(struct attack *a, struct slot *s, uint64_t now)
{
	struct sockaddr_in from, to;
	int	 one = 1;

	memset(&from, 0, sizeof(from));
	from.sin_family = AF_INET;
	inet_pton(AF_INET, ATTACKER, &from.sin_addr);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(a->port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->attempts++;
	s->started = now;
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		a->connect_failed++;
		s->at = now + RECONNECT_MS;
		return;
	}
	(void)setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&from, sizeof(from)) == -1 ||
	    (connect(s->fd, (struct sockaddr *)&to, sizeof(to)) == -1 &&
	    errno != EINPROGRESS)) {
		a->connect_failed++;
		slot_close(s, now, true);
		return;
	}
	s->state = SLOT_CONNECTING;
}

/*
 * An admitted connection ended: by max_duration, if its age says so.  Its
 * age is counted from connect(), before the daemon's clock started, so it
 * is never less than max_duration when that is what ended it.
 */
static void
slot_ended(struct attack *a, struct slot *s, uint64_t now, bool attacking)
{
	uint64_t lived = now - s->started;

	if (lived < MAX_DURATION_MS)
		a->ended_early++;
	else if (lived > MAX_DURATION_MS + LATE_MS)
		a->ended_late++;
	else
		a->ended_max++;
	a->admitted_now--;
	slot_close(s, now, attacking);
}

static void
slot_event(struct attack *a, struct slot *s, short revents, uint64_t now,
    bool attacking)
{
	char	 buf[512];
	ssize_t	 n;
	int	 err = 0;
	socklen_t len = sizeof(err);

	if (s->state == SLOT_CONNECTING) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0) {
			a->connect_failed++;
			slot_close(s, now, attacking);
		} else
			s->state = SLOT_OPEN;
		return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (s->state == SLOT_OPEN) {
		if (n <= 0) {
			/* Closed before a greeting: refused. */
			a->refused++;
			slot_close(s, now, attacking);
			return;
		}
		s->state = SLOT_ADMITTED;
		s->at = now + 1000;
		a->admitted++;
		if (s->trickle)
			a->admitted_trickle++;
		if (++a->admitted_now > a->admitted_most)
			a->admitted_most = a->admitted_now;
		return;
	}
	if (n <= 0)
		slot_ended(a, s, now, attacking);
	else
		a->reply_bytes += (unsigned long)n;
}

/*
 * The attack, in this thread, over poll(): every slot keeps a connection
 * open (or opening) for ATTACK_MS, reconnecting RECONNECT_MS after one is
 * closed; a trickling slot sends one byte a second once greeted, each
 * answered.  Then no slot reconnects, and the admitted connections are
 * left to end by themselves, for max_duration and LATE_MS at most.
 */
static void
attack_run(struct attack *a)
{
	struct pollfd	*pfd = calloc(a->n, sizeof(*pfd));
	size_t		*idx = calloc(a->n, sizeof(*idx));
	uint64_t	 t0 = now_ms(), end = t0 + ATTACK_MS;
	uint64_t	 drain = end + MAX_DURATION_MS + LATE_MS + 1000, now;
	size_t		 i, np, open;
	int		 wait;

	assert_non_null(pfd);
	assert_non_null(idx);
	while ((now = now_ms()) < drain) {
		bool	 attacking = now < end;

		np = open = 0;
		for (i = 0; i < a->n; i++) {
			struct slot *s = &a->slots[i];

			if (s->state == SLOT_WAIT && !attacking)
				s->state = SLOT_DONE;
			if (s->state == SLOT_WAIT && now >= s->at)
				slot_connect(a, s, now);
			if (s->state == SLOT_ADMITTED && s->trickle &&
			    now >= s->at) {
				if (send(s->fd, "x", 1, MSG_DONTWAIT |
				    MSG_NOSIGNAL) == 1)
					a->bytes_sent++;
				s->at += 1000;
			}
			if (s->fd == -1 || s->state == SLOT_WAIT ||
			    s->state == SLOT_DONE)
				continue;
			open++;
			pfd[np].fd = s->fd;
			pfd[np].events = s->state == SLOT_CONNECTING ? POLLOUT :
			    POLLIN;
			pfd[np].revents = 0;
			idx[np++] = i;
		}
		if (!attacking && open == 0)
			break;
		wait = poll(pfd, np, 50);
		now = now_ms();
		for (i = 0; wait > 0 && i < np; i++)
			if (pfd[i].revents != 0)
				slot_event(a, &a->slots[idx[i]], pfd[i].revents,
				    now, now < end);
	}
	for (i = 0; i < a->n; i++) {
		if (a->slots[i].fd != -1) {
			a->stuck++;
			close(a->slots[i].fd);
			a->slots[i].fd = -1;
		}
	}
	free(pfd);
	free(idx);
}

static void
test_slowloris(void **state)
{
	struct daemon	 d;
	struct attack	 a;
	struct load	*good[2] = { NULL, NULL };
	struct load_counts gc[2];
	struct load_opts lo = {
		.threads = GOOD_THREADS, .pause_ms = GOOD_PAUSE_MS,
		.max_ms = ATTACK_MS + MAX_DURATION_MS + LATE_MS + 30000,
	};
	const char	*ctl = harness_path("slow.ctl");
	const char	*hosts[2] = { "127.0.0.1", "::1" };
	unsigned	 ngood = harness_have_ipv6() ? 2 : 1, i;
	unsigned long	 per_source, refused, ends, ends_max;
	struct parent_mem m0, m1;
	uint64_t	 t0, start = now_ms();
	double		 secs;

	(void)state;
	assert_int_equal(harness_nofile(SLOTS + 1024), 0);
	/*
	 * max_children far above the attack: per_source alone must hold it
	 * off, not the daemon's limit on processes.
	 */
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/slow.ctl\nmax_children = 2048\n"
	    "[guarded]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1 ::1\n"
	    "handler = hello\nper_source = 10\nmax_duration = 5s\n"
	    "idle_timeout = 60s\n",
	    HD_PROBE_LOG, NULL), 0);

	parent_measure(d.pid, &m0);
	memset(&a, 0, sizeof(a));
	a.n = SLOTS;
	a.port = d.port[0];
	assert_non_null(a.slots = calloc(a.n, sizeof(*a.slots)));
	for (i = 0; i < a.n; i++) {
		a.slots[i].fd = -1;
		/* Interleaved, so that both kinds race for the admissions. */
		a.slots[i].trickle = i % 2 == 1;
		a.slots[i].state = SLOT_WAIT;
	}
	lo.port = d.port[0];
	for (i = 0; i < ngood; i++) {
		lo.host = hosts[i];
		good[i] = load_start(&lo);
	}
	t0 = now_ms();
	attack_run(&a);
	secs = stress_secs(t0);
	for (i = 0; i < ngood; i++) {
		load_stop(good[i]);
		load_counts(good[i], &gc[i]);
		load_free(good[i]);
	}
	free(a.slots);
	assert_true(proc_wait_children(d.pid, 0, STRESS_STEP_MS));
	parent_measure(d.pid, &m1);

	per_source = control_value(ctl, "guarded", "refused_per_source");
	refused = control_value(ctl, "guarded", "refused");
	ends = log_count_lines(&d, "guarded: end peer=" ATTACKER ":", NULL);
	ends_max = log_count_lines(&d, "guarded: end peer=" ATTACKER ":",
	    "reason=max_duration");
	stress_say("slowloris", "attacker %s: %d idle + %d trickling slots "
	    "for %d s, reconnecting: connections=%lu refused=%lu "
	    "(daemon: refused_per_source=%lu) admitted=%lu (%lu idle, %lu "
	    "trickling; at most %u at once, per_source=%d) connect_failed=%lu",
	    ATTACKER, SLOTS / 2, SLOTS / 2, ATTACK_MS / 1000, a.attempts,
	    a.refused, per_source, a.admitted,
	    a.admitted - a.admitted_trickle, a.admitted_trickle,
	    a.admitted_most, PER_SOURCE, a.connect_failed);
	stress_say("slowloris", "admitted ended: by max_duration (%d s) %lu, "
	    "early %lu, late %lu, never %lu; end lines %lu, with "
	    "reason=max_duration %lu; trickle bytes sent %lu, reply bytes %lu",
	    MAX_DURATION_MS / 1000, a.ended_max, a.ended_early, a.ended_late,
	    a.stuck, ends, ends_max, a.bytes_sent, a.reply_bytes);
	for (i = 0; i < ngood; i++) {
		stress_say("slowloris", "good clients %s: %d threads, "
		    "dialogues=%lu failed=%lu slowest=%ums in %.1fs",
		    hosts[i], GOOD_THREADS, gc[i].done, gc[i].failed,
		    gc[i].worst_ms, secs);
		if (gc[i].failed > 0)
			print_error("first failure: %s\n", gc[i].first_failure);
	}
	stress_say_parent("slowloris", &m0, &m1);
	stress_say_status("slowloris", ctl);
	stress_say_time("slowloris", start);

	for (i = 0; i < ngood; i++) {
		assert_int_equal(gc[i].failed, 0);
		assert_true(gc[i].done >= 10);
	}
	assert_true(a.refused >= SLOTS - PER_SOURCE);
	assert_int_equal(a.refused, per_source);
	assert_int_equal(refused, per_source);
	assert_true(a.admitted >= PER_SOURCE);
	assert_true(a.admitted_trickle > 0 && a.admitted_trickle < a.admitted);
	assert_int_equal(a.connect_failed, 0);
	assert_int_equal(a.ended_max, a.admitted);
	assert_int_equal(a.stuck, 0);
	assert_int_equal(ends, a.admitted);
	assert_int_equal(ends_max, a.admitted);
	assert_int_equal(control_value(ctl, "guarded", "active"), 0);
	assert_int_equal(m1.fds, m0.fds);
	assert_int_equal(proc_zombies(d.pid), 0);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_slowloris, harness_teardown),
	};

	harness_init();
	harness_watchdog(180);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
