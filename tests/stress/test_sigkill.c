/* Stress: SIGKILL of random children under load; the parent serves on, reaps, counts right. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "stress.h"

#define KILLS		300
#define VICTIM		"127.0.0.3"
#define VICTIMS		8		/* connections the victim keeps open */
#define TCP_THREADS	4		/* steady clients per address */
#define KILL_MS		(120 * 1000)	/* the killing's bound in time */

/* True when pid's process title says it serves the prey service. */
static bool
serves_prey(pid_t pid)
{
	char	 path[64], buf[128];
	ssize_t	 n;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strncmp(buf, "hellod: prey " VICTIM ":",
	    strlen("hellod: prey " VICTIM ":")) == 0;
}

/* SIGKILL one of the prey's children, chosen at random; its pid, or 0. */
static pid_t
kill_one(pid_t daemon)
{
	pid_t	 kids[1024], prey[1024];
	size_t	 n = proc_children(daemon, kids, 1024), i, np = 0;

	if (n > 1024)
		n = 1024;
	for (i = 0; i < n; i++)
		if (serves_prey(kids[i]))
			prey[np++] = kids[i];
	if (np == 0)
		return 0;
	i = arc4random_uniform((uint32_t)np);
	return kill(prey[i], SIGKILL) == 0 ? prey[i] : 0;
}

struct victims {
	int		 fd[VICTIMS];
	unsigned long	 connects, refused, lost;
};

/* Keep VICTIMS greeted connections open to port. */
static void
victims_fill(struct victims *v, uint16_t port)
{
	char	 line[64];
	size_t	 i;

	for (i = 0; i < VICTIMS; i++) {
		if (v->fd[i] != -1)
			continue;
		v->fd[i] = tcp_connect_from(VICTIM, "127.0.0.1", port,
		    STRESS_STEP_MS);
		assert_true(v->fd[i] >= 0);
		v->connects++;
		if (read_line(v->fd[i], line, sizeof(line), STRESS_STEP_MS) <= 0 ||
		    strcmp(line, "Welcome!\r\n") != 0) {
			v->refused++;
			close(v->fd[i]);
			v->fd[i] = -1;
		}
	}
}

/* Wait (at most timeout_ms) for connections to be closed; close ours too. */
static unsigned
victims_reap(struct victims *v, int timeout_ms)
{
	struct pollfd pfd[VICTIMS];
	unsigned n = 0;
	size_t	 i;

	for (i = 0; i < VICTIMS; i++) {
		pfd[i].fd = v->fd[i];
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if (poll(pfd, VICTIMS, timeout_ms) <= 0)
		return 0;
	for (i = 0; i < VICTIMS; i++) {
		if (pfd[i].revents == 0 || wait_eof(v->fd[i], 0) != 1)
			continue;
		close(v->fd[i]);
		v->fd[i] = -1;
		v->lost++;
		n++;
	}
	return n;
}

static void
test_sigkill(void **state)
{
	struct daemon	 d;
	struct victims	 v;
	struct load	*l[2];
	struct load_counts lc[2];
	struct load_opts lo = { .threads = TCP_THREADS, .max_ms = KILL_MS + 30000 };
	struct zwatch	*zw;
	struct zwatch_counts zc;
	const char	*ctl = harness_path("kill.ctl");
	const char	*hosts[2] = { "127.0.0.1", "::1" };
	char		 status[4096], why[128];
	unsigned	 ngood = harness_have_ipv6() ? 2 : 1, i, logged;
	unsigned long	 kills = 0, want = stress_scale(KILLS), missed = 0;
	unsigned long	 done = 0, failed = 0;
	struct parent_mem m0, m1;
	uint64_t	 t0, end, start = now_ms();
	double		 secs;

	(void)state;
	/*
	 * prey counts its clients (per_source) and its connections
	 * (max_connections): a count a killed child left behind would soon
	 * refuse the victim, who never holds more than VICTIMS.
	 */
	assert_int_equal(daemon_start_with(&d,
	    "[global]\ncontrol = @DIR@/kill.ctl\n"
	    "[steady]\nprotocol = tcp\nport = @P0@\nbind = 127.0.0.1 ::1\n"
	    "handler = hello\n"
	    "[prey]\nprotocol = tcp\nport = @P1@\nbind = 127.0.0.1\n"
	    "handler = hello\nper_source = 16\nmax_connections = 16\n",
	    HD_PROBE_LOG, NULL), 0);
	parent_measure(d.pid, &m0);
	zw = zwatch_start(d.pid);
	lo.port = d.port[0];
	for (i = 0; i < ngood; i++) {
		lo.host = hosts[i];
		l[i] = load_start(&lo);
	}
	memset(&v, 0, sizeof(v));
	for (i = 0; i < VICTIMS; i++)
		v.fd[i] = -1;

	t0 = now_ms();
	end = t0 + KILL_MS;
	while (kills < want && now_ms() < end) {
		victims_fill(&v, d.port[1]);
		if (kill_one(d.pid) == 0) {
			missed++;
			usleep(10 * 1000);
			continue;
		}
		kills++;
		victims_reap(&v, STRESS_STEP_MS);
		usleep(arc4random_uniform(10) * 1000);
	}
	secs = stress_secs(t0);
	for (i = 0; i < ngood; i++) {
		load_stop(l[i]);
		load_counts(l[i], &lc[i]);
		load_free(l[i]);
		done += lc[i].done;
		failed += lc[i].failed;
	}
	for (i = 0; i < VICTIMS; i++)
		if (v.fd[i] != -1)
			close(v.fd[i]);
	assert_true(proc_wait_children(d.pid, 0, STRESS_STEP_MS));
	zwatch_stop(zw, &zc);

	/* Still serving, both services, the victim's address too. */
	assert_int_equal(stress_dialogue(NULL, "127.0.0.1", d.port[0], "after",
	    why, sizeof(why)), 0);
	assert_int_equal(stress_dialogue(VICTIM, "127.0.0.1", d.port[1], "after",
	    why, sizeof(why)), 0);
	assert_true(proc_wait_children(d.pid, 0, STRESS_STEP_MS));
	parent_measure(d.pid, &m1);
	control_read(ctl, status, sizeof(status));
	logged = log_count_lines(&d, "hellod: child_killed ", "signal=SIGKILL");

	stress_say("sigkill", "SIGKILLs=%lu of %lu asked, in %.1fs (no prey "
	    "child to kill at that moment: %lu); victim connections=%lu, "
	    "lost to a kill=%lu, refused=%lu",
	    kills, want, secs, missed, v.connects, v.lost, v.refused);
	stress_say("sigkill", "log: child_killed signal=SIGKILL %u; zombies: at "
	    "most %u at once in %u samples, the oldest seen %u ms, stale=%u, "
	    "after=%u; parent alive=%s", logged, zc.most, zc.samples,
	    zc.oldest_ms, zc.stale, proc_zombies(d.pid),
	    proc_alive(d.pid) ? "yes" : "no");
	for (i = 0; i < ngood; i++) {
		stress_say("sigkill", "steady clients %s: %d threads, "
		    "dialogues=%lu failed=%lu slowest=%ums", hosts[i],
		    TCP_THREADS, lc[i].done, lc[i].failed, lc[i].worst_ms);
		if (lc[i].failed > 0)
			print_error("first failure: %s\n", lc[i].first_failure);
	}
	stress_say_parent("sigkill", &m0, &m1);
	stress_say_status("sigkill", ctl);
	stress_say_time("sigkill", start);

	assert_int_equal(kills, want);
	assert_int_equal(failed, 0);
	assert_true(done >= 10);
	assert_int_equal(v.refused, 0);
	assert_int_equal(v.lost, kills);
	assert_int_equal(logged, kills);
	assert_int_equal(zc.stale, 0);
	assert_int_equal(m1.fds, m0.fds);
	assert_int_equal(proc_zombies(d.pid), 0);
	assert_non_null(strstr(status, " children=0 "));
	assert_int_equal(control_value(ctl, "prey", "active"), 0);
	assert_int_equal(control_value(ctl, "prey", "accepted"), v.connects + 1);
	assert_int_equal(control_value(ctl, "prey", "refused"), 0);
	assert_int_equal(control_value(ctl, "steady", "active"), 0);
	assert_int_equal(control_value(ctl, "steady", "accepted"), done + 1);
	assert_int_equal(control_value(ctl, "steady", "refused"), 0);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_sigkill, harness_teardown),
	};

	harness_init();
	harness_watchdog(KILL_MS / 1000 + 60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
