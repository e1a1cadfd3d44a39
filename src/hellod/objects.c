/* Shared objects whose pages no child needs: marked the parent's alone. */
#include <link.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "objects.h"
#include "util.h"

/* More objects than a process of ours has (a dozen, and their NSS modules). */
#define OBJECTS_MAX	128

/* The load addresses of the objects of the start, and of those marked since. */
static uintptr_t start_base[OBJECTS_MAX];
static size_t	 start_n;
static bool	 start_full;	/* more than OBJECTS_MAX: mark none */
static uintptr_t marked_base[OBJECTS_MAX];
static size_t	 marked_n;

static int
objects_note(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	if (start_n == OBJECTS_MAX) {
		start_full = true;
		return 1;
	}
	start_base[start_n++] = info->dlpi_addr;
	return 0;
}

void
objects_start(void)
{
	start_n = 0;
	start_full = false;
	dl_iterate_phdr(objects_note, NULL);
}

static bool
objects_have(const uintptr_t *v, size_t n, uintptr_t base)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (v[i] == base)
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
 * object of the start when it binds a symbol: symbols, their names,
 * hashes and versions.
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
 * The pages of an object that no child needs: all of them, or (tables)
 * all but the segment of its symbol tables and its dynamic section.
 */
static void
object_mark(const struct dl_phdr_info *info, bool tables)
{
	const ElfW(Phdr) *ph;
	const ElfW(Dyn)	*dyn = NULL;
	uintptr_t	 page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t	 start, end, dstart = 0, dend = 0;
	int		 i;

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
		if (!tables)
			parent_range(start, end);
		else if (dyn_tables_in(info, dyn, start, end))
			continue;
		else if (dend > start && dstart < end) {
			parent_range(start, dstart);
			parent_range(dend, end);
		} else
			parent_range(start, end);
	}
}

static int
objects_mark_new(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	/* Each once: marks made before the daemon detaches wait in a list. */
	if (objects_have(start_base, start_n, info->dlpi_addr) ||
	    objects_have(marked_base, marked_n, info->dlpi_addr))
		return 0;
	object_mark(info, false);
	if (marked_n < OBJECTS_MAX)
		marked_base[marked_n++] = info->dlpi_addr;
	return 0;
}

void
objects_parent_new(void)
{
#ifdef HAVE__FORK
	/* Not knowing them all, it could mark one of the start. */
	if (start_n > 0 && !start_full)
		dl_iterate_phdr(objects_mark_new, NULL);
#endif
}

static int
objects_mark_named(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *const *names = arg;
	const char	*base;

	(void)size;
	if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0')
		return 0;	/* the program itself, or the vdso */
	base = strrchr(info->dlpi_name, '/');
	base = base != NULL ? base + 1 : info->dlpi_name;
	for (; *names != NULL; names++)
		if (strncmp(base, *names, strlen(*names)) == 0) {
			object_mark(info, true);
			break;
		}
	return 0;
}

void
objects_parent_named(const char *const *names)
{
#ifdef HAVE__FORK
	dl_iterate_phdr(objects_mark_named, (void *)(uintptr_t)names);
#else
	(void)names;
#endif
}
