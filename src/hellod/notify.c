/* Telling the service manager how we are: sd_notify, when one listens. */
#include <stdio.h>
#include <stdlib.h>

#include "notify.h"
#include "sdlib.h"

/* libsystemd is loaded here only when NOTIFY_SOCKET is set. */
bool
notify_managed(void)
{
	static int	 managed = -1;

	if (managed == -1)
		managed = getenv("NOTIFY_SOCKET") != NULL && sdlib_get() != NULL;
	return managed;
}

static void
notify_send(const char *msg)
{
	if (notify_managed())
		sdlib_get()->notify(0, msg);
}

/* STATUS= follows every connection: outside a service manager, nothing is formatted. */
static void
notify(const char *what, const struct notify_status *ns)
{
	char	 msg[256];

	if (!notify_managed())
		return;
	snprintf(msg, sizeof(msg), "%sSTATUS=%zu service%s enabled, %u "
	    "connection%s, %lu refused in the last minute", what, ns->enabled,
	    ns->enabled == 1 ? "" : "s", ns->connections,
	    ns->connections == 1 ? "" : "s", ns->refused);
	notify_send(msg);
}

void
notify_ready(const struct notify_status *ns)
{
	notify("READY=1\n", ns);
}

void
notify_reloading(void)
{
	notify_send("RELOADING=1\nSTATUS=reloading the configuration");
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=stopping");
}

void
notify_status(const struct notify_status *ns)
{
	notify("", ns);
}
