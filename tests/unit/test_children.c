/* Unit tests: the parent's table of live TCP children, and reaping them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/types.h>
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
		reaped += children_reap(NULL, NULL);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_children_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
