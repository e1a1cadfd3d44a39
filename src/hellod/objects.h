/* Shared objects whose pages no child needs: marked the parent's alone. */
#ifndef HELLOD_OBJECTS_H
#define HELLOD_OBJECTS_H

/*
 * Every fork copies a mapping of each object the daemon has, and every
 * child tears them down when it exits: a dozen objects are some fifty
 * mappings.  The pages of an object no child runs are better the
 * daemon's alone (util_parent_map).  A child must then never call into
 * such an object, nor exit() (their destructors are not in its pages),
 * nor load a module: it would not find the objects it has already.  So a
 * child looks no name up (identity.h), and makes no journal line
 * (sdlib.h).  Without _Fork() (util_fork), these do nothing: fork() would
 * run the handlers such an object registered.
 */

/* The objects loaded now are those of the start: call first thing. */
void	 objects_start(void);

/*
 * Every object loaded since objects_start() (libsystemd and what it
 * brought, NSS modules): wholly the daemon's.  They were loaded with
 * RTLD_LOCAL, so the dynamic linker never looks into them but to load
 * another module.  Call again after what may load more: idempotent.
 */
void	 objects_parent_new(void);

/*
 * Objects of the start whose file name starts with one of names
 * ("libinih.so"; a NULL ends the list): the daemon's, but for the
 * segment of their symbol tables and their dynamic section, which the
 * dynamic linker reads in every object of the start when it binds a
 * symbol lazily (libc's own calls to it are bound so).
 */
void	 objects_parent_named(const char *const *names);

#endif
