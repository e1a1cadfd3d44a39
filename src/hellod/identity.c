/* Who a process runs as: the switch to a configured user and group. */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "handler.h"
#include "identity.h"
#include "log.h"

/*
 * The passwd entry of user (NULL when user is NULL) and the gid to run
 * with: group's, else the user's primary group, else our own.  Returns 0,
 * or -1 with *why saying which name is unknown.
 */
static int
identity_resolve(const char *user, const char *group, struct passwd **pw,
    gid_t *gid, const char **why)
{
	struct group	*gr;

	*pw = NULL;
	if (user != NULL && (*pw = getpwnam(user)) == NULL) {
		*why = "unknown user";
		return -1;
	}
	*gid = *pw != NULL ? (*pw)->pw_gid : getegid();
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			*why = "unknown group";
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/* This process's capabilities (capget(2): libcap is not needed for this much). */
static int
caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	memset(d, 0, 2 * sizeof(*d));
	return (int)syscall(SYS_capget, &h, d);
}

/*
 * True when this process may switch users without being root: it has
 * CAP_SETUID and CAP_SETGID (a unit's AmbientCapabilities=, say).
 */
static bool
identity_can_switch(void)
{
	struct __user_cap_data_struct d[2];
	uint32_t need = (1u << CAP_SETUID) | (1u << CAP_SETGID);

	return caps_get(d) == 0 && (d[0].effective & need) == need;
}

int
identity_drop_caps(const char *who)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int	 ambient;

	/* Root is root whatever its sets say: a root program gets them back. */
	if (geteuid() == 0)
		return 0;
	if (caps_get(d) == 0 && (d[0].permitted | d[1].permitted |
	    d[0].inheritable | d[1].inheritable) == 0)
		return 0;
	ambient = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) == -1) {
		/*
		 * Dropping is always allowed, so EPERM is a seccomp filter:
		 * the unit's SystemCallFilter=~@privileged denies capset.
		 * With the ambient set clear, a program run from here starts
		 * without capabilities all the same (NoNewPrivileges= keeps
		 * file capabilities out too).
		 */
		if (errno == EPERM && ambient == 0)
			return 0;
		log_err("%s: error op=capset", who);
		return -1;
	}
	return 0;
}

/* True when the process already is pw (or keeps its uid) with gid. */
static bool
identity_current(const struct passwd *pw, gid_t gid)
{
	return (pw == NULL || pw->pw_uid == geteuid()) && gid == getegid();
}

/*
 * Whether this process can become user and group (either may be NULL).
 * Root can become anyone who exists; any other user can only stay who
 * it is.  When not, *why (if why is not NULL) gets a static text.
 */
bool
identity_reachable(const char *user, const char *group, const char **why)
{
	struct passwd	*pw;
	const char	*reason;
	gid_t		 gid;

	if (user == NULL && group == NULL)
		return true;
	if (identity_resolve(user, group, &pw, &gid, &reason) == -1) {
		if (why != NULL)
			*why = reason;
		return false;
	}
	if (geteuid() == 0 || identity_current(pw, gid) || identity_can_switch())
		return true;
	if (why != NULL)
		*why = "hellod is not running as root, nor with CAP_SETUID "
		    "and CAP_SETGID";
	return false;
}

/*
 * Log every enabled TCP service of conf whose children could not switch
 * to its user and group; returns how many there are.
 */
unsigned
identity_check(const struct config *conf)
{
	const struct service *svc;
	const char	*why;
	unsigned	 bad = 0;
	size_t		 i;

	for (i = 0; i < conf->nservices; i++) {
		svc = &conf->services[i];
		/* TCP children and UDP programs switch; UDP inline does not. */
		if (!svc->enabled || (!(svc->protocols & PROTO_TCP) &&
		    svc->handler->udp_spawn == NULL) ||
		    identity_reachable(svc->user, svc->group, &why))
			continue;
		log_errx("%s: identity_error user=%s group=%s detail=%s",
		    svc->name, log_q(svc->user != NULL ? svc->user : "-"),
		    log_q(svc->group != NULL ? svc->group : "-"), log_q(why));
		bad++;
	}
	return bad;
}

int
identity_switch(const char *user, const char *group, const char *who,
    bool strict)
{
	struct passwd	*pw;
	const char	*why;
	gid_t		 gid;

	if (user == NULL && group == NULL)
		return 0;
	if (identity_resolve(user, group, &pw, &gid, &why) == -1) {
		/* Without a passwd entry for user, user is the unknown name. */
		log_errx("%s: identity_error user=%s group=%s detail=%s", who,
		    log_q(user ? user : "-"), log_q(group ? group : "-"),
		    log_q(why));
		return -1;
	}
	if (geteuid() != 0 && !identity_can_switch()) {
		if (identity_current(pw, gid))
			return 0;
		if (!strict) {
			log_notice("%s: identity_kept cause=not_root", who);
			return 0;
		}
		log_errx("%s: identity_error user=%s group=%s detail=\"hellod "
		    "is not running as root, nor with CAP_SETUID and CAP_SETGID\"",
		    who, log_q(user ? user : "-"), log_q(group ? group : "-"));
		return -1;
	}
	if ((pw != NULL ? initgroups(pw->pw_name, gid) : setgroups(1, &gid)) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    (pw != NULL && setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)) {
		log_err("%s: identity_error user=%s group=%s", who,
		    log_q(user ? user : "-"), log_q(group ? group : "-"));
		return -1;
	}
	return 0;
}
