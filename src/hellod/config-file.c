/* The files a configuration reads: regular files on real file systems; a bounded include glob. */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config-impl.h"

/*
 * File systems whose files are not data at rest: reading one can hang
 * (/proc/self/pagemap), never end, or have effects.  Their magic numbers
 * (statfs(2)); those missing from older headers are spelled out.
 */
static const unsigned long pseudo_fs[] = {
	PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC,
	CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, SECURITYFS_MAGIC,
	BPF_FS_MAGIC, DEVPTS_SUPER_MAGIC, PSTOREFS_MAGIC, EFIVARFS_MAGIC,
	HUGETLBFS_MAGIC, SELINUX_MAGIC, SMACK_MAGIC,
	0x62656570,	/* configfs */
	0x65735543,	/* fusectl */
	0x19800202,	/* mqueue */
};

static bool
is_pseudo(const struct statfs *sf)
{
	size_t	 i;

	for (i = 0; i < sizeof(pseudo_fs) / sizeof(pseudo_fs[0]); i++)
		if ((unsigned long)sf->f_type == pseudo_fs[i])
			return true;
	return false;
}

/*
 * Open path, a file of the configuration, for reading, without ever
 * opening anything but a regular file on a real file system: the path is
 * resolved (conf.d files are often links) and checked with stat and
 * statfs first, then opened with O_NOFOLLOW and O_NONBLOCK (a FIFO that
 * appeared meanwhile must not block), then checked again with fstat: a
 * device is never opened, since opening one can have effects (a watchdog,
 * a tape rewinding).  Returns the descriptor and fills *st, or returns -1
 * with a static text in *err.
 */
int
config_open(const char *path, struct stat *st, const char **err)
{
	struct stat	 fst;
	struct statfs	 sf;
	char		*real;
	int		 fd;

	if ((real = realpath(path, NULL)) == NULL) {
		*err = strerror(errno);
		return -1;
	}
	fd = -1;
	if (stat(real, st) == -1 || statfs(real, &sf) == -1)
		*err = strerror(errno);
	else if (!S_ISREG(st->st_mode))
		*err = "not a regular file";
	else if (is_pseudo(&sf))
		*err = "not on a regular file system";
	else if ((fd = open(real, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		*err = strerror(errno);
	else if (fstat(fd, &fst) == -1) {
		*err = strerror(errno);
		close(fd);
		fd = -1;
	} else if (fst.st_dev != st->st_dev || fst.st_ino != st->st_ino) {
		*err = "changed while it was opened";
		close(fd);
		fd = -1;
	}
	free(real);
	/* O_NONBLOCK can stay: it does not change how a regular file reads. */
	return fd;
}

/* The same as a stdio stream, or NULL with a static text in *err. */
FILE *
config_fopen(const char *path, struct stat *st, const char **err)
{
	FILE	*fp;
	int	 fd;

	if ((fd = config_open(path, st, err)) == -1)
		return NULL;
	if ((fp = fdopen(fd, "r")) == NULL) {
		*err = strerror(errno);
		close(fd);
	}
	return fp;
}

/*
 * The include glob walks directories through these, so that it is
 * bounded: it never lists a directory of a pseudo file system (/proc,
 * /sys), and it stops after CONFIG_GLOB_ENTRIES directory entries in all.
 */
struct walk {
	unsigned long	 entries;
	bool		 too_many;
	char		 refused[PATH_MAX];	/* a pseudo file system's directory */
};

static struct walk *walk_now;	/* glob() passes no context to its callbacks */

static void *
walk_opendir(const char *path)
{
	struct statfs	 sf;

	if (walk_now->too_many)
		return NULL;
	if (statfs(path, &sf) == 0 && is_pseudo(&sf)) {
		if (walk_now->refused[0] == '\0')
			strlcpy(walk_now->refused, path, sizeof(walk_now->refused));
		errno = EACCES;
		return NULL;
	}
	return opendir(path);
}

static struct dirent *
walk_readdir(void *dir)
{
	if (++walk_now->entries > CONFIG_GLOB_ENTRIES) {
		walk_now->too_many = true;
		return NULL;
	}
	return readdir(dir);
}

static void
walk_closedir(void *dir)
{
	closedir(dir);
}

static int
walk_stat(const char *path, struct stat *st)
{
	return stat(path, st);
}

static int
walk_lstat(const char *path, struct stat *st)
{
	return lstat(path, st);
}

/* How many components of pattern hold a glob character. */
static unsigned
glob_depth(const char *pattern)
{
	const char	*p;
	unsigned	 depth = 0;
	bool		 magic = false;

	for (p = pattern; ; p++) {
		if (*p == '/' || *p == '\0') {
			depth += magic;
			magic = false;
			if (*p == '\0')
				return depth;
		} else if (*p == '*' || *p == '?' || *p == '[')
			magic = true;
	}
}

/*
 * Expand the include pattern into g, in sorted order, within bounds: at
 * most CONFIG_GLOB_DEPTH components with a glob character, at most
 * CONFIG_GLOB_ENTRIES directory entries looked at, at most CONFIG_FILES
 * matches, no directory of a pseudo file system listed.  Returns 0 (g
 * to be freed with globfree), 1 when nothing matched (g untouched), or -1
 * with a message in err (g untouched).
 */
int
config_glob(const char *pattern, glob_t *g, char *err, size_t errlen)
{
	struct walk	 w;
	int		 rc;

	if (glob_depth(pattern) > CONFIG_GLOB_DEPTH) {
		snprintf(err, errlen, "more than %d path components with "
		    "wildcards", CONFIG_GLOB_DEPTH);
		return -1;
	}
	memset(&w, 0, sizeof(w));
	memset(g, 0, sizeof(*g));
	g->gl_opendir = walk_opendir;
	g->gl_readdir = walk_readdir;
	g->gl_closedir = walk_closedir;
	g->gl_stat = walk_stat;
	g->gl_lstat = walk_lstat;
	walk_now = &w;
	rc = glob(pattern, GLOB_ALTDIRFUNC, NULL, g);
	walk_now = NULL;
	if (rc != 0 && rc != GLOB_NOMATCH) {
		snprintf(err, errlen, "cannot expand it");
		return -1;
	}
	if (w.too_many || (rc == 0 && g->gl_pathc > CONFIG_FILES)) {
		if (rc == 0)
			globfree(g);
		snprintf(err, errlen, w.too_many ? "it looks at more than %d "
		    "directory entries" : "it matches more than %d files",
		    w.too_many ? CONFIG_GLOB_ENTRIES : CONFIG_FILES);
		return -1;
	}
	if (w.refused[0] != '\0') {
		if (rc == 0)
			globfree(g);
		snprintf(err, errlen, "%.200s: not on a regular file system",
		    w.refused);
		return -1;
	}
	return rc == GLOB_NOMATCH ? 1 : 0;
}

/* path made relative to the directory of file, as a new string. */
char *
config_relative(const char *file, const char *path)
{
	const char *slash;

	if (path[0] == '/' || file == NULL || (slash = strrchr(file, '/')) == NULL)
		return strdup(path);
	return config_strfmt("%.*s/%s", (int)(slash - file), file, path);
}
