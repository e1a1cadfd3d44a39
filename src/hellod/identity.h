/* Who a process runs as: the switch to a configured user and group. */
#ifndef HELLOD_IDENTITY_H
#define HELLOD_IDENTITY_H

#include <stdbool.h>

struct config;

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

/*
 * Whether this process can become user and group (either may be NULL;
 * both NULL: yes).  Root, or a process with CAP_SETUID and CAP_SETGID,
 * can become any user and group that exist; any other user only itself
 * and its current group, so a daemon started as _hellod without those
 * capabilities, or one that dropped to [global] user, cannot serve a
 * service with another user.  When the answer is no, *why (unless why is NULL)
 * gets a static text: "unknown user", "unknown group" or "hellod is not
 * running as root".
 */
bool	identity_reachable(const char *user, const char *group,
	    const char **why);

/*
 * In a child, after identity_switch: give up every capability, for good
 * (the ambient set, and the permitted and effective ones), so that a
 * program it runs has none of the daemon's (CAP_NET_BIND_SERVICE, or
 * CAP_SETUID with a drop-in that grants it).  Nothing to do as root.
 * Returns 0, or -1 after logging why (who prefixes the line).
 */
int	identity_drop_caps(const char *who);

/*
 * identity_reachable() for the user and group of every enabled TCP
 * service of conf, as this process is now.  Logs one error per service
 * that fails ("NAME: cannot switch to user U group G: WHY") and returns
 * how many failed: 0 means every child will be able to switch.
 */
unsigned identity_check(const struct config *conf);

#endif
