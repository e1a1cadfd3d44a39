/* Telling the service manager how we are: sd_notify, a no-op without libsystemd. */
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <stdlib.h>

#include "notify.h"

#ifdef HAVE_SYSTEMD
bool
notify_managed(void)
{
	static int	 managed = -1;

	if (managed == -1)
		managed = getenv("NOTIFY_SOCKET") != NULL;
	return managed;
}

/*
 * sd_notifyf() formats its message (a malloc) before it looks for
 * NOTIFY_SOCKET, and STATUS= follows every connection: outside a service
 * manager, do nothing.
 */
static void
notify(const char *what, const struct notify_status *ns)
{
	if (!notify_managed())
		return;
	sd_notifyf(0, "%sSTATUS=%zu service%s enabled, %u connection%s, %lu "
	    "refused in the last minute", what, ns->enabled,
	    ns->enabled == 1 ? "" : "s", ns->connections,
	    ns->connections == 1 ? "" : "s", ns->refused);
}

void
notify_ready(const struct notify_status *ns)
{
	notify("READY=1\n", ns);
}

void
notify_reloading(void)
{
	sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void
notify_status(const struct notify_status *ns)
{
	notify("", ns);
}
#else
void
notify_ready(const struct notify_status *ns)
{
	(void)ns;
}

void
notify_reloading(void)
{
}

void
notify_stopping(void)
{
}

void
notify_status(const struct notify_status *ns)
{
	(void)ns;
}

bool
notify_managed(void)
{
	return false;
}
#endif
