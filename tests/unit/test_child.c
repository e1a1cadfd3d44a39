/* Unit tests: what a child sets up before it serves (signals, descriptors). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "child.h"
#include "harness.h"

static int
reset_checks(const void *arg)
{
	int		 fd = *(const int *)arg;
	struct sigaction sa;
	sigset_t	 mask;

	child_reset(fd);
	if (sigaction(SIGTERM, NULL, &sa) == -1 || sa.sa_handler == SIG_DFL ||
	    sa.sa_handler == SIG_IGN)
		return 1;
	if (sigprocmask(SIG_SETMASK, NULL, &mask) == -1 ||
	    !sigismember(&mask, SIGTERM) || sigismember(&mask, SIGHUP) ||
	    sigismember(&mask, SIGCHLD))
		return 2;
	/* The connection on 3, the report pipe on 4, nothing above. */
	if (fcntl(3, F_GETFD) == -1 || fcntl(4, F_GETFD) == -1)
		return 3;
	if (fcntl(5, F_GETFD) != -1 || fcntl(fd, F_GETFD) != -1)
		return 4;
	return 0;
}

/*
 * child_reset: SIGTERM caught and blocked (the parent's mask had others),
 * the connection moved to 3, the report pipe to 4, every other one shut.
 */
static void
test_reset(void **state)
{
	int	 sv[2], p[2], fd, i;
	sigset_t block;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* Well above 4, with others between, as in the daemon. */
	for (i = 0; i < 6; i++)
		assert_true(dup(sv[1]) >= 0);
	fd = fcntl(sv[0], F_DUPFD, 20);
	assert_true(fd >= 20);
	child_report_fd = fcntl(p[1], F_DUPFD, 30);
	assert_true(child_report_fd >= 30);
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, NULL), 0);
	child_prepare();
	assert_int_equal(child_status(fork, reset_checks, &fd), 0);
	assert_int_equal(sigprocmask(SIG_UNBLOCK, &block, NULL), 0);
	close(child_report_fd);
	child_report_fd = -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
