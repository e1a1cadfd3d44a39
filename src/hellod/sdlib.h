/* libsystemd, loaded at its first use, and never in a child. */
#ifndef HELLOD_SDLIB_H
#define HELLOD_SDLIB_H

#include <sys/uio.h>
#include <stdint.h>

/*
 * The functions of libsystemd that hellod calls.  The library is loaded
 * (dlopen) when the first of them is needed: a line for the journal,
 * NOTIFY_SOCKET or LISTEN_FDS set.  It and the libraries it brings
 * (libgcrypt, liblzma, libzstd, liblz4, libcap, libgpg-error) are then
 * the parent's alone (objects_parent_new): a child never logs to the
 * journal itself, nor notifies, and without some forty mappings to copy,
 * every fork costs less.  So a child must never call these, nor exit(): the
 * destructors and atexit handlers of libsystemd are not in its pages
 * (children leave with _exit()).
 */
struct sdlib {
	int	(*notify)(int, const char *);
	int	(*journal_sendv)(const struct iovec *, int);
	int	(*listen_fds)(int);
	int	(*is_socket_inet)(int, int, int, int, uint16_t);
};

/*
 * The functions, or NULL when libsystemd cannot be loaded (said once, as a
 * warning) or the build is without it.  Loaded at the first call.
 */
const struct sdlib *sdlib_get(void);

#endif
