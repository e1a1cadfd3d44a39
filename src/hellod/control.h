/* The control socket: a UNIX stream socket that answers each connection with the status. */
#ifndef HELLOD_CONTROL_H
#define HELLOD_CONTROL_H

#include <stddef.h>

#include "listener.h"

struct config;

struct control {
	enum source_kind kind;		/* SRC_CONTROL: keep first */
	int		 fd;		/* -1: none */
	char		*path;
};

/*
 * Listen on path.  A socket there that nobody listens on is left from an
 * earlier run and is replaced; anything else at path (a file, a socket
 * another hellod answers on) is left alone.  Returns 0, or -1 after
 * logging why; the daemon then runs without a control socket.
 */
int	control_open(struct control *ctl, const char *path);
void	control_close(struct control *ctl);

/* Accept the waiting clients and write each the status text, then close. */
void	control_serve(struct control *ctl, const struct config *conf,
	    unsigned children);

#endif
