/* The parent's table of live TCP children: who they serve, and reaping them. */
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "children.h"
#include "log.h"
#include "service.h"
#include "util.h"

/*
 * Open addressing on the pid, linear probing, at most half full, with
 * backward-shift deletion: add and reap cost O(1) whatever the load.
 */
struct child {
	pid_t		 pid;		/* 0: empty slot */
	struct svc_state *st;
	struct client	 cl;		/* keylen 0: not counted per client */
	unsigned long	 listener;	/* the UDP socket it serves, or 0 */
	int		 held;		/* its connection's descriptor, or -1 */
};

static struct child	*table;
static size_t		 mask;		/* size - 1, size a power of two */
/* Written at every fork and reap: in the parent's own pages (util_parent_calloc). */
static struct {
	unsigned	 alive;
}			*count;

static size_t
slot_of(pid_t pid)
{
	return ((size_t)pid * 2654435761u) & mask;
}

static int
table_alloc(unsigned max)
{
	size_t	 size = 16;

	while (size < (size_t)max * 2)
		size <<= 1;
	table = util_parent_calloc(size, sizeof(*table));
	if (table == NULL)
		return -1;
	mask = size - 1;
	return 0;
}

int
children_init(unsigned max)
{
	if (count == NULL && (count = util_parent_calloc(1, sizeof(*count))) == NULL)
		return -1;
	count->alive = 0;
	return table_alloc(max);
}

static void
table_insert(const struct child *c)
{
	size_t	 i = slot_of(c->pid);

	while (table[i].pid != 0)
		i = (i + 1) & mask;
	table[i] = *c;
}

int
children_resize(unsigned max)
{
	struct child	*old = table;
	size_t		 i, oldsize = mask + 1;

	if ((size_t)max * 2 <= oldsize && count->alive * 2 <= oldsize)
		return 0;
	if (table_alloc(max > count->alive ? max : count->alive) == -1) {
		table = old;
		return -1;
	}
	for (i = 0; i < oldsize; i++)
		if (old[i].pid != 0)
			table_insert(&old[i]);
	util_parent_free(old);
	return 0;
}

void
children_free(void)
{
	util_parent_free(table);
	table = NULL;
	util_parent_free(count);
	count = NULL;
}

void
children_add(pid_t pid, struct svc_state *st, const struct client *cl,
    unsigned long listener)
{
	struct child c = { .pid = pid, .st = st, .listener = listener,
	    .held = -1 };

	/* Not counted per client when memory runs out: better than refusing. */
	if (cl != NULL && conctab_add(&st->conc, cl) == 0)
		c.cl = *cl;
	table_insert(&c);
	service_ref(st);
	st->active++;
	count->alive++;
}

/* Remove slot i and shift the following run back so no probe chain breaks. */
static void
table_remove(size_t i)
{
	size_t	 j = i, home;

	table[i].pid = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (table[j].pid == 0)
			return;
		home = slot_of(table[j].pid);
		/* Move j into the hole unless its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		table[i] = table[j];
		table[j].pid = 0;
		i = j;
	}
}

/* Forget pid; the listener it served (0 for none). */
static unsigned long
child_gone(pid_t pid)
{
	size_t	 i = slot_of(pid);
	unsigned long listener;

	while (table[i].pid != 0 && table[i].pid != pid)
		i = (i + 1) & mask;
	if (table[i].pid == 0)
		return 0;	/* not ours: a detaching parent, say */
	listener = table[i].listener;
	if (table[i].held != -1)
		close(table[i].held);
	table[i].st->active--;
	if (table[i].cl.keylen != 0)
		conctab_del(table[i].st->conc, &table[i].cl);
	service_unref(table[i].st);
	table_remove(i);
	count->alive--;
	return listener;
}

/* Children collected by one round of waitpid(), before any is forgotten. */
#define REAP_ROUND	64

unsigned
children_reap(void (*first)(void *arg),
    void (*done)(void *arg, unsigned long listener), void *arg)
{
	unsigned long listener;
	pid_t	 pids[REAP_ROUND], pid = 0;
	unsigned n = 0, k, i;
	int	 status;

	do {
		for (k = 0; k < REAP_ROUND &&
		    (pid = waitpid(-1, &status, WNOHANG)) > 0; k++) {
			pids[k] = pid;
			if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
				log_warnx("hellod: child_killed pid=%ld signal=%s",
				    (long)pid, util_signame(WTERMSIG(status)));
		}
		if (k > 0 && first != NULL)
			first(arg);
		for (i = 0; i < k; i++)
			if ((listener = child_gone(pids[i])) != 0 && done != NULL)
				done(arg, listener);
		n += k;
	} while (k == REAP_ROUND);
	return n;
}

/* The live child pid, or NULL. */
static struct child *
child_find(pid_t pid)
{
	size_t	 i;

	if (table == NULL || pid <= 0)
		return NULL;
	for (i = slot_of(pid); table[i].pid != 0; i = (i + 1) & mask)
		if (table[i].pid == pid)
			return &table[i];
	return NULL;
}

void
children_report(pid_t pid, uint64_t bytes_in, uint64_t bytes_out)
{
	struct child	*c;

	if ((c = child_find(pid)) != NULL) {
		c->st->count[SC_bytes_in] += bytes_in;
		c->st->count[SC_bytes_out] += bytes_out;
	}
}

void
children_hold(pid_t pid, int fd)
{
	struct child	*c;

	if ((c = child_find(pid)) != NULL && c->held == -1)
		c->held = fd;
	else
		close(fd);
}

void
children_release(pid_t pid)
{
	struct child	*c;

	if ((c = child_find(pid)) != NULL && c->held != -1) {
		close(c->held);
		c->held = -1;
	}
}

unsigned
children_count(void)
{
	return count != NULL ? count->alive : 0;
}

void
children_signal(int sig)
{
	size_t	 i;

	for (i = 0; table != NULL && i <= mask; i++)
		if (table[i].pid != 0)
			kill(table[i].pid, sig);
}
