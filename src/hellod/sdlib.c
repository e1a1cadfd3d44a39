/* libsystemd, loaded at its first use, and never in a child. */
#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>

#include "log.h"
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
/* More objects than a process of ours has (a dozen, and their NSS modules). */
#define SDLIB_OBJECTS	128

/* The load addresses of the objects loaded before libsystemd. */
struct objects {
	uintptr_t	 base[SDLIB_OBJECTS];
	size_t		 n;
	bool		 full;
};

static int
objects_note(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct objects	*o = arg;

	(void)size;
	if (o->n == SDLIB_OBJECTS) {
		o->full = true;
		return 1;
	}
	o->base[o->n++] = info->dlpi_addr;
	return 0;
}

static bool
objects_have(const struct objects *o, uintptr_t base)
{
	size_t	 i;

	for (i = 0; i < o->n; i++)
		if (o->base[i] == base)
			return true;
	return false;
}

/* An address the dynamic section gives: glibc has made most absolute. */
static uintptr_t
dyn_addr(const struct dl_phdr_info *info, ElfW(Addr) v)
{
	return v < info->dlpi_addr ? info->dlpi_addr + v : v;
}

/*
 * Whether [start, end) holds a table the dynamic linker reads in every
 * object when it loads another (NSS does, in a child that looks up a
 * user): symbols, their names, hashes and versions.
 */
static bool
dyn_tables_in(const struct dl_phdr_info *info, const ElfW(Dyn) *dyn,
    uintptr_t start, uintptr_t end)
{
	uintptr_t	 a;

	for (; dyn != NULL && dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_STRTAB: case DT_SYMTAB: case DT_HASH: case DT_GNU_HASH:
		case DT_VERSYM: case DT_VERDEF: case DT_VERNEED:
			a = dyn_addr(info, dyn->d_un.d_ptr);
			if (a >= start && a < end)
				return true;
		}
	}
	return false;
}

/* [start, end) the parent's alone, when not empty. */
static void
parent_range(uintptr_t start, uintptr_t end)
{
	if (end > start)
		(void)util_parent_map((void *)start, end - start);
}

/*
 * The pages of an object loaded with libsystemd that no child needs: its
 * code, constants and data.  What the dynamic linker reads of it stays (a
 * child may still load a module: NSS does, to look up a user): the
 * segment of its symbol tables, and the pages of its dynamic section.
 */
static int
objects_mark(struct dl_phdr_info *info, size_t size, void *arg)
{
	const struct objects *before = arg;
	const ElfW(Phdr) *ph;
	const ElfW(Dyn)	*dyn = NULL;
	uintptr_t	 page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t	 start, end, dstart = 0, dend = 0;
	int		 i;

	(void)size;
	if (objects_have(before, info->dlpi_addr))
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_DYNAMIC)
			continue;
		dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
		dstart = (uintptr_t)dyn & ~(page - 1);
		dend = ((uintptr_t)dyn + ph->p_memsz + page - 1) & ~(page - 1);
	}
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
		end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) &
		    ~(page - 1);
		if (dyn_tables_in(info, dyn, start, end))
			continue;
		if (dend > start && dstart < end) {
			parent_range(start, dstart);
			parent_range(dend, end);
		} else
			parent_range(start, end);
	}
	return 0;
}

static bool
sdlib_load(struct sdlib *sd)
{
	struct objects	 before = { .n = 0 };
	void		*h;

	dl_iterate_phdr(objects_note, &before);
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
		return false;
	}
#ifdef HAVE__FORK
	if (!before.full)
		dl_iterate_phdr(objects_mark, &before);
#endif
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
