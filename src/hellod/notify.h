/* Telling the service manager how we are: sd_notify, a no-op without libsystemd. */
#ifndef HELLOD_NOTIFY_H
#define HELLOD_NOTIFY_H

#include <stddef.h>

/* READY=1 with the status line. */
void	notify_ready(size_t services, unsigned connections);
/* RELOADING=1, before a reload is attempted. */
void	notify_reloading(void);
/* STOPPING=1, when the stop begins. */
void	notify_stopping(void);
/* STATUS= only: "N services, M connections". */
void	notify_status(size_t services, unsigned connections);

#endif
