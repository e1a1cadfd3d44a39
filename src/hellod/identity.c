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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "handler.h"
#include "identity.h"
#include "log.h"

/*
 * A new identity with the groups of user (NULL: gid alone), gid among
 * them.  NULL when memory ran out, or the list kept growing while read.
 */
static struct identity *
identity_groups(const char *user, gid_t gid)
{
	struct identity	*id;
	int		 n, tries;

	for (tries = 0; tries < 3; tries++) {
		/* With n 0, getgrouplist() only counts them. */
		n = 0;
		if (user != NULL)
			(void)getgrouplist(user, gid, NULL, &n);
		if ((id = calloc(1, sizeof(*id) + (size_t)(n > 1 ? n : 1) *
		    sizeof(gid_t))) == NULL)
			return NULL;
		id->gid = gid;
		id->ngroups = 1;
		id->groups[0] = gid;
		if (user == NULL || n < 1)
			return id;
		if (getgrouplist(user, gid, id->groups, &n) != -1) {
			id->ngroups = n;
			return id;
		}
		free(id);
	}
	return NULL;
}

/*
 * Resolve user and group (either may be NULL) into a new identity
 * (free()): the user's uid, the gid to run with (group's, else the user's
 * primary group, else our own) and the groups to hold (the user's, with
 * that gid; or that gid alone).  NULL with *why saying which name is
 * unknown, or that the groups could not be listed.
 */
static struct identity *
identity_resolve(const char *user, const char *group, const char **why)
{
	struct identity	*id;
	struct passwd	*pw = NULL;
	struct group	*gr;
	uid_t		 uid = geteuid();
	gid_t		 gid = getegid();

	if (user != NULL) {
		if ((pw = getpwnam(user)) == NULL) {
			*why = "unknown user";
			return NULL;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			*why = "unknown group";
			return NULL;
		}
		gid = gr->gr_gid;
	}
	if ((id = identity_groups(user, gid)) == NULL) {
		*why = "cannot list the user's groups";
		return NULL;
	}
	id->has_user = user != NULL;
	id->uid = uid;
	return id;
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

/* True when the process already is id (or keeps its uid) with its gid. */
static bool
identity_current(const struct identity *id)
{
	return (!id->has_user || id->uid == geteuid()) && id->gid == getegid();
}

static const char not_root[] =
    "hellod is not running as root, nor with CAP_SETUID and CAP_SETGID";

/* Root can become anyone; any other user can only stay who it is. */
static bool
identity_can_become(const struct identity *id, const char **why)
{
	if (geteuid() == 0 || identity_current(id) || identity_can_switch())
		return true;
	*why = not_root;
	return false;
}

/*
 * Whether this process can become user and group (either may be NULL).
 * When not, *why (if why is not NULL) gets a static text.
 */
bool
identity_reachable(const char *user, const char *group, const char **why)
{
	struct identity	*id;
	const char	*reason;
	bool		 ok;

	if (user == NULL && group == NULL)
		return true;
	if ((id = identity_resolve(user, group, &reason)) == NULL)
		ok = false;
	else {
		ok = identity_can_become(id, &reason);
		free(id);
	}
	if (!ok && why != NULL)
		*why = reason;
	return ok;
}

/*
 * Resolve the identity of every enabled service of conf whose children
 * switch; log those they could not switch to.  Returns how many there are.
 */
unsigned
identity_check(struct config *conf)
{
	struct service	*svc;
	const char	*why;
	unsigned	 bad = 0;
	size_t		 i;

	for (i = 0; i < conf->nservices; i++) {
		svc = &conf->services[i];
		free(svc->ident);
		svc->ident = NULL;
		/* TCP children and UDP programs switch; UDP inline does not. */
		if (!svc->enabled || (!(svc->protocols & PROTO_TCP) &&
		    svc->handler->udp_spawn == NULL) ||
		    (svc->user == NULL && svc->group == NULL))
			continue;
		if ((svc->ident = identity_resolve(svc->user, svc->group,
		    &why)) != NULL && identity_can_become(svc->ident, &why))
			continue;
		log_errx("%s: identity_error user=%s group=%s detail=%s",
		    svc->name, log_q(svc->user != NULL ? svc->user : "-"),
		    log_q(svc->group != NULL ? svc->group : "-"), log_q(why));
		bad++;
	}
	return bad;
}

/* Log that the switch to user and group failed, and why (NULL: errno). */
static int
identity_failed(const char *who, const char *user, const char *group,
    const char *why)
{
	if (why == NULL)
		log_err("%s: identity_error user=%s group=%s", who,
		    log_q(user ? user : "-"), log_q(group ? group : "-"));
	else
		log_errx("%s: identity_error user=%s group=%s detail=%s", who,
		    log_q(user ? user : "-"), log_q(group ? group : "-"),
		    log_q(why));
	return -1;
}

int
identity_become(const struct identity *id, const char *user,
    const char *group, const char *who, bool strict)
{
	if (geteuid() != 0 && !identity_can_switch()) {
		if (identity_current(id))
			return 0;
		if (!strict) {
			log_notice("%s: identity_kept cause=not_root", who);
			return 0;
		}
		return identity_failed(who, user, group, not_root);
	}
	if (setgroups((size_t)id->ngroups, id->groups) == -1 ||
	    setresgid(id->gid, id->gid, id->gid) == -1 ||
	    (id->has_user &&
	    setresuid(id->uid, id->uid, id->uid) == -1))
		return identity_failed(who, user, group, NULL);
	return 0;
}

int
identity_switch(const char *user, const char *group, const char *who,
    bool strict)
{
	struct identity	*id;
	const char	*why;
	int		 rc;

	if (user == NULL && group == NULL)
		return 0;
	/* Without a passwd entry for user, user is the unknown name. */
	if ((id = identity_resolve(user, group, &why)) == NULL)
		return identity_failed(who, user, group, why);
	rc = identity_become(id, user, group, who, strict);
	free(id);
	return rc;
}

int
identity_service(const struct service *svc)
{
	if (svc->ident == NULL)
		return identity_switch(svc->user, svc->group, svc->name, true);
	return identity_become(svc->ident, svc->user, svc->group, svc->name,
	    true);
}
