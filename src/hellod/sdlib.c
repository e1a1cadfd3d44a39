/* libsystemd, loaded at its first use, and never in a child. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "objects.h"
#include "sdlib.h"
#include "util.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#define SDLIB_SONAME	"libsystemd.so.0"

/* The headers say what each function is: the pointers must agree. */
#define SDLIB_SAME(field, fn) _Static_assert(__builtin_types_compatible_p( \
    __typeof__(((struct sdlib *)0)->field), __typeof__(&fn)), #fn)
SDLIB_SAME(notify, sd_notify);
SDLIB_SAME(journal_sendv, sd_journal_sendv);
SDLIB_SAME(listen_fds, sd_listen_fds);
SDLIB_SAME(is_socket_inet, sd_is_socket_inet);
static bool
sdlib_load(struct sdlib *sd)
{
	void		*h;

	if ((h = dlopen(SDLIB_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_warnx("hellod: error op=dlopen file=%s detail=%s",
		    SDLIB_SONAME, log_q(dlerror()));
		return false;
	}
	*(void **)&sd->notify = dlsym(h, "sd_notify");
	*(void **)&sd->journal_sendv = dlsym(h, "sd_journal_sendv");
	*(void **)&sd->listen_fds = dlsym(h, "sd_listen_fds");
	*(void **)&sd->is_socket_inet = dlsym(h, "sd_is_socket_inet");
	if (sd->notify == NULL || sd->journal_sendv == NULL ||
	    sd->listen_fds == NULL || sd->is_socket_inet == NULL) {
		log_warnx("hellod: error op=dlsym file=%s", SDLIB_SONAME);
		dlclose(h);
		return false;
	}
	objects_parent_new();
	return true;
}

const struct sdlib *
sdlib_get(void)
{
	static struct sdlib sd;
	static int	 loaded = -1;

	/* Decided first: a warning while loading goes to syslog, not here. */
	if (loaded == -1) {
		loaded = 0;
		loaded = sdlib_load(&sd);
	}
	return loaded ? &sd : NULL;
}
#else
const struct sdlib *
sdlib_get(void)
{
	return NULL;
}
#endif
