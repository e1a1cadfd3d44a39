/* Unit tests: the parent's table of live TCP children, reaping them, held descriptors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "children.h"
#include "config.h"
#include "service.h"

static void
test_children_table(void **state)
{
	struct config *conf;
	struct svc_state *a, *b;
	unsigned reaped = 0, nerr = 0;
	int	 i, tries;

	(void)state;
	conf = config_load_string("t.ini",
	    "[a]\nprotocol = tcp\nport = 7\nhandler = echo\n"
	    "[b]\nprotocol = tcp\nport = 9\nhandler = discard\n", NULL, NULL, &nerr);
	assert_non_null(conf);
	assert_int_equal(service_attach(conf, NULL), 0);
	a = conf->services[0].state;
	b = conf->services[1].state;
	/* A small table, so that slots collide and removal must keep chains. */
	assert_int_equal(children_init(2), 0);
	for (i = 0; i < 12; i++) {
		pid_t pid = fork();

		assert_true(pid != -1);
		if (pid == 0)
			_exit(0);
		if (i == 6)
			assert_int_equal(children_resize(40), 0);
		children_add(pid, i % 2 ? a : b, NULL, 0);
	}
	assert_int_equal(children_count(), 12);
	assert_int_equal(a->active, 6);
	assert_int_equal(a->refs, 7);
	for (tries = 0; tries < 500 && children_count() > 0; tries++) {
		reaped += children_reap(NULL, NULL, NULL);
		usleep(10000);
	}
	assert_int_equal(reaped, 12);
	assert_int_equal(children_count(), 0);
	assert_int_equal(a->active, 0);
	assert_int_equal(b->active, 0);
	assert_int_equal(a->refs, 1);
	assert_int_equal(b->refs, 1);
	children_free();
	service_release(conf);
	config_free(conf);
}

static unsigned counted_first;

/* first(): the children reaped are still in the table. */
static void
count_first(void *arg)
{
	(void)arg;
	counted_first = children_count();
}

/*
 * A child's reports are read after it is reaped and before it is
 * forgotten (first), its held descriptor closed when it is forgotten,
 * one released before that closed at once.
 */
static void
test_reap_first(void **state)
{
	struct config *conf;
	unsigned nerr = 0;
	siginfo_t si;
	pid_t	 pid[2];
	int	 p[2], q[2], i;

	(void)state;
	conf = config_load_string("t.ini",
	    "[a]\nprotocol = tcp\nport = 7\nhandler = echo\n", NULL, NULL, &nerr);
	assert_non_null(conf);
	assert_int_equal(service_attach(conf, NULL), 0);
	assert_int_equal(children_init(4), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		assert_true(pid[i] != -1);
		if (pid[i] == 0)
			_exit(0);
		children_add(pid[i], conf->services[0].state, NULL, 0);
		assert_int_equal(waitid(P_PID, (id_t)pid[i], &si,
		    WEXITED | WNOWAIT), 0);
	}
	children_hold(pid[0], p[1]);
	children_hold(pid[1], q[1]);
	children_release(pid[1]);
	assert_int_equal(fcntl(q[1], F_GETFD), -1);
	assert_true(fcntl(p[1], F_GETFD) != -1);
	counted_first = 0;
	assert_int_equal(children_reap(count_first, NULL, NULL), 2);
	assert_int_equal(counted_first, 2);
	assert_int_equal(children_count(), 0);
	assert_int_equal(fcntl(p[1], F_GETFD), -1);
	close(p[0]);
	close(q[0]);
	children_free();
	service_release(conf);
	config_free(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_children_table),
		cmocka_unit_test(test_reap_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
