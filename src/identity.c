/* Who a process runs as: the switch to a configured user and group. */
#include <sys/types.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "identity.h"
#include "log.h"

static int
identity_lookup(const char *user, const char *group, const char *who,
    struct passwd **pw, gid_t *gid)
{
	struct group	*gr;

	*pw = NULL;
	if (user != NULL && (*pw = getpwnam(user)) == NULL) {
		log_errx("%sunknown user %s", who, user);
		return -1;
	}
	*gid = *pw != NULL ? (*pw)->pw_gid : getgid();
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			log_errx("%sunknown group %s", who, group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

int
identity_switch(const char *user, const char *group, const char *who,
    bool strict)
{
	struct passwd	*pw;
	gid_t		 gid;

	if (user == NULL && group == NULL)
		return 0;
	if (identity_lookup(user, group, who, &pw, &gid) == -1)
		return -1;
	if (geteuid() != 0) {
		if ((pw == NULL || pw->pw_uid == geteuid()) && gid == getegid())
			return 0;
		if (!strict) {
			log_notice("%snot running as root: keeping user and "
			    "group", who);
			return 0;
		}
		log_errx("%scannot switch to user %s group %s: hellod is not "
		    "running as root", who, user ? user : "-",
		    group ? group : "-");
		return -1;
	}
	if ((pw != NULL ? initgroups(pw->pw_name, gid) : setgroups(1, &gid)) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    (pw != NULL && setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)) {
		log_err("%scannot switch to user %s group %s", who,
		    user ? user : "-", group ? group : "-");
		return -1;
	}
	return 0;
}
