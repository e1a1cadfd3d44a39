/* Telling the service manager how we are: sd_notify, a no-op without libsystemd. */
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "notify.h"

#ifdef HAVE_SYSTEMD
/* sd_notify does nothing when NOTIFY_SOCKET is unset: outside systemd this costs nothing. */
static void
notify(const char *what, size_t services, unsigned connections)
{
	sd_notifyf(0, "%sSTATUS=%zu services, %u connections", what,
	    services, connections);
}

void
notify_ready(size_t services, unsigned connections)
{
	notify("READY=1\n", services, connections);
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
notify_status(size_t services, unsigned connections)
{
	notify("", services, connections);
}
#else
void
notify_ready(size_t services, unsigned connections)
{
	(void)services;
	(void)connections;
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
notify_status(size_t services, unsigned connections)
{
	(void)services;
	(void)connections;
}
#endif
