/* Unit tests: a service's runtime state, its table of counters, and what a reload keeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>

#include "config.h"
#include "limit.h"
#include "log.h"
#include "service.h"

static struct config *
load(const char *text)
{
	struct config *conf;
	unsigned nerr = 0;

	conf = config_load_string("t.ini", text, NULL, NULL, &nerr);
	assert_non_null(conf);
	return conf;
}

static void
unload(struct config *conf)
{
	service_release(conf);
	config_free(conf);
}

static struct sockaddr_in
peer(const char *a)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	assert_int_equal(inet_pton(AF_INET, a, &sin.sin_addr), 1);
	return sin;
}

/* Every counter and every reason, in the table's order, in one line. */
static void
test_format(void **state)
{
	struct config *conf = load("[h]\nprotocol = tcp udp\nport = 7\nhandler = echo\n");
	struct service *svc = &conf->services[0];
	struct sockaddr_in sin = peer("192.0.2.1");
	char	 buf[1024];

	(void)state;
	assert_int_equal(service_attach(conf, NULL), 0);
	assert_string_equal(service_format(svc, buf, sizeof(buf)),
	    "active=0 accepted=0 datagrams_in=0 datagrams_out=0 bytes_in=0 "
	    "bytes_out=0 refused=0 refused_deny=0 "
	    "refused_allow=0 refused_max_connections=0 refused_per_source=0 "
	    "refused_rate=0 refused_source_rate=0 refused_max_children=0 "
	    "refused_guard=0 refused_proxy_untrusted=0 refused_proxy_header=0");
	service_count(svc, SC_accepted);
	service_count(svc, SC_datagrams_in);
	service_count(svc, SC_datagrams_in);
	service_refuse(svc, SR_guard, (struct sockaddr *)&sin, NULL);
	service_refuse(svc, SR_source_rate, (struct sockaddr *)&sin, NULL);
	service_refuse(svc, SR_source_rate, NULL, NULL);
	svc->state->active = 3;
	assert_string_equal(service_format(svc, buf, sizeof(buf)),
	    "active=3 accepted=1 datagrams_in=2 datagrams_out=0 bytes_in=0 "
	    "bytes_out=0 refused=3 refused_deny=0 "
	    "refused_allow=0 refused_max_connections=0 refused_per_source=0 "
	    "refused_rate=0 refused_source_rate=2 refused_max_children=0 "
	    "refused_guard=1 refused_proxy_untrusted=0 refused_proxy_header=0");
	/* Cut to the buffer, never past it. */
	assert_string_equal(service_format(svc, buf, 12), "active=3 ac");
	svc->state->active = 0;
	unload(conf);
}

/*
 * A reload keeps the state of a service whose name it keeps (counters
 * and all), gives a new service a state of its own, and forgets the
 * buckets of a limiter whose settings changed.
 */
static void
test_reload_keeps(void **state)
{
	struct config *old = load(
	    "[a]\nprotocol = udp\nport = 7\nhandler = echo\nsource_rate = 5\n"
	    "[b]\nprotocol = udp\nport = 9\nhandler = echo\nsource_rate = 5\n");
	struct config *new = load(
	    "[a]\nprotocol = udp\nport = 7\nhandler = echo\nsource_rate = 5\n"
	    "[b]\nprotocol = udp\nport = 9\nhandler = echo\nsource_rate = 6\n"
	    "[c]\nprotocol = udp\nport = 11\nhandler = echo\n");
	struct sockaddr_in sin = peer("192.0.2.1");
	struct svc_state *a, *b;

	(void)state;
	assert_int_equal(service_attach(old, NULL), 0);
	a = old->services[0].state;
	b = old->services[1].state;
	service_count(&old->services[0], SC_datagrams_in);
	assert_int_equal(limits_admit(&old->services[0], PROTO_UDP,
	    (struct sockaddr *)&sin, NULL, 1000), -1);
	assert_int_equal(limits_admit(&old->services[1], PROTO_UDP,
	    (struct sockaddr *)&sin, NULL, 1000), -1);
	assert_non_null(a->rl_udp);
	assert_non_null(b->rl_udp);

	assert_int_equal(service_attach(new, old), 0);
	assert_ptr_equal(new->services[0].state, a);
	assert_ptr_equal(new->services[1].state, b);
	assert_int_equal(a->refs, 2);
	assert_int_equal(a->count[SC_datagrams_in], 1);
	assert_non_null(a->rl_udp);	/* same source_rate: kept */
	assert_null(b->rl_udp);		/* another: forgotten */
	assert_non_null(new->services[2].state);
	assert_string_equal(new->services[2].state->name, "c");
	unload(old);
	assert_int_equal(a->refs, 1);
	unload(new);
}

/* Refusal lines are throttled per service and second; all are counted. */
static void
test_refuse_throttle(void **state)
{
	struct config *conf = load("[h]\nprotocol = udp\nport = 7\nhandler = echo\n");
	struct service *svc = &conf->services[0];
	struct sockaddr_in sin = peer("192.0.2.1");
	int	 i;

	(void)state;
	assert_int_equal(service_attach(conf, NULL), 0);
	log_init(LOG_DAEMON, LOG_ERR, false);	/* nothing written */
	for (i = 0; i < 100; i++)
		service_refuse(svc, SR_guard, (struct sockaddr *)&sin, NULL);
	assert_int_equal(svc->state->count[SC_refused], 100);
	assert_int_equal(svc->state->refused[SR_guard], 100);
	/* The budget of this second is spent; the rest is counted to report. */
	assert_true(svc->state->log_suppressed >= 90);
	unload(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_reload_keeps),
		cmocka_unit_test(test_refuse_throttle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
