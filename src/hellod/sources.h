/* A service's clients as the control socket shows them: the busiest, in a table of bounded size. */
#ifndef HELLOD_SOURCES_H
#define HELLOD_SOURCES_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct service;

/*
 * What happened with a client (its address grouped by source_prefix):
 * noted in its service's table of clients, which keeps the 256 seen last
 * (a client seen longest ago among those its slot competes with gives
 * its slot up), so memory stays bounded whatever a flood forges.
 */
enum source_event { SOURCE_ACCEPTED, SOURCE_DATAGRAM, SOURCE_REFUSED };
void	sources_note(const struct service *svc, const struct sockaddr *sa,
	    enum source_event ev);

struct sources;
void	sources_free(struct sources *t);

/* One client of one service, for "sources". */
struct source_row {
	const char	*service;
	char		 client[64];	/* prefix, hash or "-", as log_peer says */
	unsigned	 live;		/* TCP connections now */
	uint64_t	 accepted;
	uint64_t	 datagrams;
	uint64_t	 refused;
	double		 rate;		/* events a second, recently */
};

/*
 * Every client of every service of conf, the busiest first (live
 * connections, then recent rate, then all it did), into *rows (to be
 * freed).  Returns how many.
 */
size_t	sources_rows(const struct config *conf, struct source_row **rows);

#endif
