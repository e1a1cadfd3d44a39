/* Who a process runs as: the switch to a configured user and group. */
#ifndef HELLOD_IDENTITY_H
#define HELLOD_IDENTITY_H

#include <sys/types.h>
#include <stdbool.h>

struct config;
struct service;

/*
 * Who a child becomes, resolved by the daemon when it loads the
 * configuration (identity_check): a child looks no name up, for that
 * would load NSS modules into it, and read /etc/group at every connection.
 */
struct identity {
	bool	 has_user;	/* uid is the user's; else the uid stays */
	uid_t	 uid;
	gid_t	 gid;
	int	 ngroups;	/* the user's groups with gid; else gid alone */
	gid_t	 groups[];
};

/*
 * Switch to user and group (either may be NULL; both NULL does nothing):
 * the user's groups (initgroups), then gid and uid, real, effective and
 * saved.  Only root can; when not root, the switch is skipped if nothing
 * would change, and otherwise it is an error when strict, or a notice.
 * who names the process in log lines (a service's name, or "hellod").
 * Returns 0, or -1 after logging why.
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
 * Returns 0, or -1 after logging why (who names the process).
 */
int	identity_drop_caps(const char *who);

/*
 * identity_reachable() for the user and group of every enabled service
 * of conf whose children switch (TCP, and UDP programs), as this process
 * is now; each one's identity resolved into its ident.  Logs one error
 * per service that fails ("NAME: identity_error user=U group=G
 * detail=WHY") and returns how many failed: 0 means every child will be
 * able to switch.  Names are looked up here, once per load: a change to
 * a user's groups reaches the children at the next reload.
 */
unsigned identity_check(struct config *conf);

/*
 * identity_switch() to an identity resolved already: no name is looked
 * up.  user and group are the names, for log lines.
 */
int	identity_become(const struct identity *id, const char *user,
	    const char *group, const char *who, bool strict);

/*
 * In a child: switch to svc's user and group, strictly, as resolved by
 * identity_check() (by name when it was not run: a test's service).
 */
int	identity_service(const struct service *svc);

#endif
