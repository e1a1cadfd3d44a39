/* Telling the service manager how we are: sd_notify, a no-op without one. */
#ifndef HELLOD_NOTIFY_H
#define HELLOD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

/* What STATUS= says: "N services enabled, N connections, N refused in the last minute". */
struct notify_status {
	size_t		 enabled;
	unsigned	 connections;
	unsigned long	 refused;
};

/* READY=1 with the status line. */
void	notify_ready(const struct notify_status *ns);
/* RELOADING=1, before a reload is attempted. */
void	notify_reloading(void);
/* STOPPING=1, when the stop begins. */
void	notify_stopping(void);
/* STATUS= only. */
void	notify_status(const struct notify_status *ns);
/*
 * Whether a service manager listens (NOTIFY_SOCKET, looked up once):
 * without one, STATUS= is not worth working out at every connection.
 */
bool	notify_managed(void);

#endif
