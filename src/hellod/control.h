/* The control socket: a UNIX stream socket that answers commands with the status. */
#ifndef HELLOD_CONTROL_H
#define HELLOD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "listener.h"
#include "util.h"

struct config;
struct status_info;

/* Clients at once, the longest command, and how long a client may dawdle. */
#define CONTROL_CLIENTS		16
#define CONTROL_LINE_MAX	256
#define CONTROL_TIMEOUT_MS	10000

struct control;

/* One connection to the control socket. */
struct control_client {
	enum source_kind kind;		/* SRC_CONTROL_CLIENT: keep first */
	int		 fd;
	struct control	*ctl;
	char		 in[CONTROL_LINE_MAX + 1];
	size_t		 inlen;
	struct buf	 out;
	size_t		 outoff;
	uint64_t	 deadline;	/* monotonic ms: dropped then */
	bool		 eof;		/* it has said all */
	bool		 answered;
	bool		 polled_out;
};

struct control {
	enum source_kind kind;		/* SRC_CONTROL: keep first */
	int		 fd;		/* -1: none */
	char		*path;
	int		 epfd;		/* the event loop its clients join */
	/* Fills in what the status tells of the daemon. */
	void		(*info)(void *arg, struct status_info *si);
	void		*arg;
	struct control_client *clients[CONTROL_CLIENTS];
};

/*
 * Listen on path, made with mode 0660 and, when owner is not -1, handed
 * to that user and group.  A socket there that nobody listens on is left
 * from an earlier run and is replaced; anything else at path (a file, a
 * socket another hellod answers on) is left alone.  Returns 0, or -1
 * after logging why; the daemon then runs without a control socket.
 */
int	control_open(struct control *ctl, const char *path, uid_t owner,
	    gid_t group);
void	control_close(struct control *ctl);

/*
 * The wire format, one command a line (at most CONTROL_LINE_MAX bytes):
 * "status", "status json", "sources [N]", "sources json [N]", "help".
 * Each answer ends with an empty line, or is one line of JSON; a client
 * that sends nothing and closes its side gets the status.  Nothing waits:
 * a client that neither asks nor reads for CONTROL_TIMEOUT_MS is dropped,
 * and beyond CONTROL_CLIENTS at once, new ones are closed.
 */
void	control_accept(struct control *ctl);
void	control_client_event(struct control_client *cc, uint32_t events);

/* Milliseconds until a client's deadline (-1: none), and dropping those past it. */
int	control_timeout(const struct control *ctl, uint64_t now);
void	control_tick(struct control *ctl, uint64_t now);

#endif
