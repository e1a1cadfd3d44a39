/* What the daemon says of itself: the status and the busiest clients, as text or JSON. */
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "handler.h"
#include "service.h"
#include "sources.h"
#include "status.h"
#include "util.h"

void
status_seconds(char *buf, size_t len, uint64_t ms)
{
	snprintf(buf, len, "%llu.%03llu", (unsigned long long)(ms / 1000),
	    (unsigned long long)(ms % 1000));
}

/* A wall-clock time as ISO 8601 in UTC, or "-" for none. */
static void
iso_time(char *buf, size_t len, time_t t)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		strlcpy(buf, "-", len);
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The addresses a service listens on, comma-separated: "*:7" for every one. */
static void
addresses(const struct service *svc, struct buf *b, bool json)
{
	char	 where[ADDR_STRLEN];
	size_t	 i;

	if (svc->nbinds == 0) {
		snprintf(where, sizeof(where), "*:%u", svc->port);
		if (json)
			buf_json_str(b, where);
		else
			buf_printf(b, "%s", where);
	}
	for (i = 0; i < svc->nbinds; i++) {
		addr_format((const struct sockaddr *)&svc->binds[i].ss, where,
		    sizeof(where));
		if (i > 0)
			buf_printf(b, ",");
		if (json)
			buf_json_str(b, where);
		else
			buf_printf(b, "%s", where);
	}
}

static unsigned
enabled_count(const struct config *conf)
{
	unsigned n = 0;
	size_t	 i;

	for (i = 0; i < conf->nservices; i++)
		n += conf->services[i].enabled;
	return n;
}

void
status_text(struct buf *b, const struct status_info *si)
{
	char	 up[32], loaded[32], counters[1024];
	size_t	 i;

	status_seconds(up, sizeof(up), util_now_ms() - si->started_ms);
	iso_time(loaded, sizeof(loaded), si->loaded);
	buf_printf(b, "hellod version=%s pid=%ld uptime=%s children=%u "
	    "services=%zu enabled=%u config=", PACKAGE_VERSION, (long)getpid(),
	    up, si->children, si->conf->nservices, enabled_count(si->conf));
	buf_json_str(b, si->config_path);
	buf_printf(b, " loaded=%s reload=%s\n", loaded, si->reload);
	for (i = 0; i < si->conf->nservices; i++) {
		const struct service *svc = &si->conf->services[i];

		buf_printf(b, "%s %s enabled=%s addresses=", svc->name,
		    addr_proto_name(svc->protocols), svc->enabled ? "yes" : "no");
		addresses(svc, b, false);
		buf_printf(b, " handler=%s %s\n", svc->handler->name,
		    svc->state != NULL ? service_format(svc, counters,
		    sizeof(counters)) : "");
	}
	buf_printf(b, "\n");
}

void
status_json(struct buf *b, const struct status_info *si)
{
	char	 up[32], loaded[32];
	size_t	 i;

	status_seconds(up, sizeof(up), util_now_ms() - si->started_ms);
	iso_time(loaded, sizeof(loaded), si->loaded);
	buf_printf(b, "{\"version\":\"%s\",\"pid\":%ld,\"uptime\":%s,"
	    "\"children\":%u,\"config\":", PACKAGE_VERSION, (long)getpid(), up,
	    si->children);
	buf_json_str(b, si->config_path);
	buf_printf(b, ",\"loaded\":\"%s\",\"reload\":\"%s\",\"services\":[",
	    loaded, si->reload);
	for (i = 0; i < si->conf->nservices; i++) {
		const struct service *svc = &si->conf->services[i];

		buf_printf(b, "%s{\"name\":\"%s\",\"protocols\":\"%s\","
		    "\"enabled\":%s,\"handler\":\"%s\",\"addresses\":[",
		    i > 0 ? "," : "", svc->name, addr_proto_name(svc->protocols),
		    svc->enabled ? "true" : "false", svc->handler->name);
		addresses(svc, b, true);
		buf_printf(b, "],");
		service_json(svc, b);
		buf_printf(b, "}");
	}
	buf_printf(b, "]}\n");
}

void
status_sources(struct buf *b, const struct config *conf, size_t n, bool json)
{
	struct source_row *rows;
	size_t	 nrows = sources_rows(conf, &rows), i;

	if (n > nrows)
		n = nrows;
	if (json)
		buf_printf(b, "{\"sources\":[");
	for (i = 0; i < n; i++) {
		const struct source_row *r = &rows[i];

		if (json) {
			buf_printf(b, "%s{\"service\":\"%s\",\"client\":",
			    i > 0 ? "," : "", r->service);
			buf_json_str(b, r->client);
			buf_printf(b, ",\"live\":%u,\"accepted\":%llu,"
			    "\"datagrams\":%llu,\"refused\":%llu,\"rate\":%.1f}",
			    r->live, (unsigned long long)r->accepted,
			    (unsigned long long)r->datagrams,
			    (unsigned long long)r->refused, r->rate);
		} else
			buf_printf(b, "%s %s live=%u accepted=%llu datagrams=%llu "
			    "refused=%llu rate=%.1f\n", r->service, r->client,
			    r->live, (unsigned long long)r->accepted,
			    (unsigned long long)r->datagrams,
			    (unsigned long long)r->refused, r->rate);
	}
	buf_printf(b, json ? "]}\n" : "\n");
	free(rows);
}
