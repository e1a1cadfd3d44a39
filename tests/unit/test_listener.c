/* Unit tests: the parent's listening sockets, and their reconciliation on reload. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <stdbool.h>

#include "config.h"
#include "harness.h"
#include "listener.h"
#include "log.h"
#include "util.h"

/* A port free now for TCP and UDP on 127.0.0.1. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int	 t, u;
	uint16_t port;

	for (;;) {
		t = socket(AF_INET, SOCK_STREAM, 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(t, (struct sockaddr *)&sin, sizeof(sin)), 0);
		assert_int_equal(getsockname(t, (struct sockaddr *)&sin, &len), 0);
		port = ntohs(sin.sin_port);
		u = socket(AF_INET, SOCK_DGRAM, 0);
		if (bind(u, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
			close(t);
			close(u);
			return port;
		}
		close(t);
		close(u);
	}
}

static struct config *load(const char *, ...) __attribute__((format(printf, 1, 2)));

/* A configuration from a format string with ports. */
static struct config *
load(const char *fmt, ...)
{
	char	 text[1024];
	unsigned nerr = 0;
	struct config *conf;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	conf = config_load_string("t.ini", text, NULL, NULL, &nerr);
	assert_non_null(conf);
	return conf;
}

/* The listener of set on proto and port, or NULL. */
static struct listener *
find(const struct listener_set *set, int proto, uint16_t port)
{
	size_t	 i;

	for (i = 0; i < set->n; i++)
		if (set->v[i] != NULL && set->v[i]->proto == proto &&
		    addr_port((const struct sockaddr *)&set->v[i]->addr.ss) == port)
			return set->v[i];
	return NULL;
}

static bool
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* A full reload: retire, build, close the retired, finish. */
static int
reload(struct config *conf, struct listener_set *old, struct listener_set *out)
{
	struct listener_set retired;
	size_t	 i;

	assert_int_equal(listener_retire(conf, old, &retired), 0);
	if (listener_build(conf, old, NULL, &retired, out) == -1) {
		listener_unretire(&retired);
		return -1;
	}
	for (i = 0; i < retired.n; i++) {
		close(retired.v[i]->fd);
		retired.v[i]->fd = -1;
	}
	if (listener_build_finish(out, 100) == -1) {
		listener_build_undo(out);
		listener_restore(&retired, 100);
		listener_compact(old);
		return -1;
	}
	for (i = 0; i < retired.n; i++)
		listener_free(retired.v[i]);
	listener_set_free(&retired);
	listener_close_all(old, NULL);
	listener_set_free(old);
	return 0;
}

/*
 * A reload keeps the socket of an address that stays (the same struct
 * and descriptor, pointed at the new service), opens the new ones and
 * closes the ones gone.
 */
static void
test_keep_open_close(void **state)
{
	uint16_t p0 = free_port(), p1 = free_port();
	struct config *a, *b;
	struct listener_set ls, next;
	struct listener *kept;
	int	 kept_fd, gone_fd;

	(void)state;
	a = load("[echo]\nprotocol = tcp udp\nport = %u\nbind = 127.0.0.1\n"
	    "handler = echo\n[x]\nprotocol = udp\nport = %u\n"
	    "bind = 127.0.0.1\nhandler = time\n", p0, p1);
	assert_int_equal(listener_build(a, NULL, NULL, NULL, &ls), 0);
	assert_int_equal(listener_build_finish(&ls, 0), 0);
	assert_int_equal(ls.n, 3);
	kept = find(&ls, PROTO_TCP, p0);
	assert_non_null(kept);
	assert_ptr_equal(kept->svc, &a->services[0]);
	kept_fd = kept->fd;
	gone_fd = find(&ls, PROTO_UDP, p1)->fd;

	/* x goes, echo drops UDP and gains a TCP port. */
	b = load("[echo]\nprotocol = tcp\nport = %u\nbind = 127.0.0.1 ::1\n"
	    "handler = echo\n[y]\nprotocol = tcp\nport = %u\n"
	    "bind = 127.0.0.1\nhandler = daytime\n", p0, p1);
	assert_int_equal(reload(b, &ls, &next), 0);
	assert_ptr_equal(find(&next, PROTO_TCP, p0), kept);
	assert_int_equal(kept->fd, kept_fd);
	assert_ptr_equal(kept->svc, &b->services[0]);
	assert_non_null(find(&next, PROTO_TCP, p1));
	assert_null(find(&next, PROTO_UDP, p0));
	assert_false(fd_open(gone_fd));
	assert_true(fd_open(kept_fd));
	listener_close_all(&next, NULL);
	listener_set_free(&next);
	config_free(a);
	config_free(b);
}

/*
 * A build that cannot bind one address (another program holds it)
 * changes nothing: every old listener in its place, none closed.
 */
static void
test_failed_build_changes_nothing(void **state)
{
	uint16_t p0 = free_port(), p1 = free_port();
	struct config *a, *b;
	struct listener_set ls, next;
	struct listener *before[8];
	struct sockaddr_in sin;
	size_t	 i, n;
	int	 held, one = 1;

	(void)state;
	a = load("[echo]\nprotocol = tcp udp\nport = %u\nbind = 127.0.0.1\n"
	    "handler = echo\n", p0);
	assert_int_equal(listener_build(a, NULL, NULL, NULL, &ls), 0);
	assert_int_equal(listener_build_finish(&ls, 0), 0);
	n = ls.n;
	memcpy(before, ls.v, n * sizeof(*before));
	held = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(held, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(p1);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(held, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(held, 1), 0);
	/* The move to every address would need the old socket closed: it is not. */
	b = load("[echo]\nprotocol = tcp udp\nport = %u\nhandler = echo\n"
	    "[busy]\nprotocol = tcp\nport = %u\nbind = 127.0.0.1\n"
	    "handler = echo\n", p0, p1);
	assert_int_equal(reload(b, &ls, &next), -1);
	assert_int_equal(ls.n, n);
	for (i = 0; i < n; i++) {
		assert_ptr_equal(ls.v[i], before[i]);
		assert_true(fd_open(ls.v[i]->fd));
		assert_ptr_equal(ls.v[i]->svc, &a->services[0]);
	}
	close(held);
	listener_close_all(&ls, NULL);
	listener_set_free(&ls);
	config_free(a);
	config_free(b);
}

/*
 * A service moving from 127.0.0.1 to every address on its port: the old
 * socket is retired, the wildcard left pending by the build and opened
 * by its finish.
 */
static void
test_move_to_wildcard(void **state)
{
	uint16_t p0 = free_port();
	struct config *a, *b;
	struct listener_set ls, retired, next;

	(void)state;
	a = load("[echo]\nprotocol = tcp\nport = %u\nbind = 127.0.0.1\n"
	    "handler = echo\n", p0);
	assert_int_equal(listener_build(a, NULL, NULL, NULL, &ls), 0);
	assert_int_equal(listener_build_finish(&ls, 0), 0);
	b = load("[echo]\nprotocol = tcp\nport = %u\nhandler = echo\n", p0);
	assert_int_equal(listener_retire(b, &ls, &retired), 0);
	assert_int_equal(retired.n, 1);
	assert_int_equal(listener_build(b, &ls, NULL, &retired, &next), 0);
	/* [::] opens now (it overlaps nothing); 0.0.0.0 waits. */
	assert_true(find(&next, PROTO_TCP, p0) != NULL);
	listener_build_undo(&next);
	listener_unretire(&retired);
	assert_true(fd_open(ls.v[0]->fd));
	assert_int_equal(reload(b, &ls, &next), 0);
	assert_int_equal(ls.n, 0);
	assert_true(next.n >= 1);
	listener_close_all(&next, NULL);
	listener_set_free(&next);
	config_free(a);
	config_free(b);
}

static int
listener_unmapped(const void *l)
{
	return page_mapped(l) ? 1 : 0;
}

/*
 * Listeners are the parent's alone: a child has no page of them.  One
 * given back is made again by the next build.
 */
static void
test_parent_pages(void **state)
{
	uint16_t p0 = free_port();
	struct config *a;
	struct listener_set ls;
	struct listener *l;

	(void)state;
	a = load("[echo]\nprotocol = tcp udp\nport = %u\nbind = 127.0.0.1\n"
	    "handler = echo\n", p0);
	assert_int_equal(listener_build(a, NULL, NULL, NULL, &ls), 0);
	assert_int_equal(listener_build_finish(&ls, 0), 0);
	assert_non_null(l = find(&ls, PROTO_TCP, p0));
	assert_true(page_mapped(l));
	assert_int_equal(child_status(util_fork, listener_unmapped, l), 0);
	assert_int_equal(child_status(fork, listener_unmapped, l), 0);
	listener_close_all(&ls, NULL);
	listener_set_free(&ls);
	assert_int_equal(listener_build(a, NULL, NULL, NULL, &ls), 0);
	assert_int_equal(listener_build_finish(&ls, 0), 0);
	assert_true(find(&ls, PROTO_TCP, p0) == l || find(&ls, PROTO_UDP, p0) == l);
	listener_close_all(&ls, NULL);
	listener_set_free(&ls);
	config_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_open_close),
		cmocka_unit_test(test_failed_build_changes_nothing),
		cmocka_unit_test(test_move_to_wildcard),
		cmocka_unit_test(test_parent_pages),
	};

	log_init(LOG_DAEMON, LOG_CRIT, false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
