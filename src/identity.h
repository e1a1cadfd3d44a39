/* Who a process runs as: the switch to a configured user and group. */
#ifndef HELLOD_IDENTITY_H
#define HELLOD_IDENTITY_H

#include <stdbool.h>

/*
 * Switch to user and group (either may be NULL; both NULL does nothing):
 * the user's groups (initgroups), then gid and uid, real, effective and
 * saved.  Only root can; when not root, the switch is skipped if nothing
 * would change, and otherwise it is an error when strict, or a notice.
 * who prefixes log lines ("hello: ", or "" for the daemon).  Returns 0,
 * or -1 after logging why.
 */
int	identity_switch(const char *user, const char *group, const char *who,
	    bool strict);

#endif
