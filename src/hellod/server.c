/* The parent: one epoll loop over listeners and signals, accept and fork, UDP inline, reload. */
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <libgen.h>
#include <libutil.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "children.h"
#include "config.h"
#include "conn.h"
#include "control.h"
#include "daemon.h"
#include "handler.h"
#include "identity.h"
#include "limit.h"
#include "listener.h"
#include "log.h"
#include "net.h"
#include "notify.h"
#include "objects.h"
#include "proxy-wait.h"
#include "server.h"
#include "service.h"
#include "status.h"
#include "udp.h"
#include "util.h"

#define DEFAULT_PIDFILE	"/run/hellod.pid"
/* Connections accepted per wake-up of one listener, so one cannot starve the rest. */
#define ACCEPT_BATCH	32
#define EVENT_BATCH	64
/* How long a reload waits for children to close a retired listener's copies. */
#define RETIRE_PATIENCE_MS 200
/* After EMFILE/ENFILE, stop accepting for this long instead of spinning. */
#define ACCEPT_BACKOFF_MS 100

struct server {
	struct config	*conf;
	const struct server_opts *opts;
	struct listener_set ls;
	struct listener_set pool;	/* passed by the service manager, unused */
	struct control	 ctl;
	struct proxy_waiting pw;	/* connections waiting for a PROXY header */
	int		 epfd;
	struct {
		enum source_kind kind;
		int	 fd;
	}		 sig, report;	/* signals; children's reports (read end) */
	struct pidfh	*pfh;
	bool		 paused;	/* TCP listeners out of epoll: max_children or EMFILE */
	uint64_t	 backoff_until;	/* monotonic ms; 0: none */
	bool		 want_reload, want_stop, want_status, want_reap;
	time_t		 started, loaded;	/* wall clock, for the status */
	uint64_t	 started_ms;
	const char	*reload_result;	/* "none", "ok", "failed" */
	int		 stop_signal;
	struct reload_count {
		unsigned added, removed, changed;
		unsigned kept, opened, closed;
	}		 rc;		/* the reload being done */
	struct notify_status status;	/* the last STATUS= sent */
	size_t		 enabled;	/* services enabled in conf */
	bool		 share_files;	/* children start on our table (tcp_spawn) */
};

static int
poll_add(struct server *s, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void
listener_poll(struct server *s, struct listener *l, bool on)
{
	if (l->polled == on)
		return;
	if (on ? poll_add(s, l->fd, l) == -1 :
	    epoll_ctl(s->epfd, EPOLL_CTL_DEL, l->fd, NULL) == -1) {
		log_warn("%s: error op=epoll_ctl", l->svc->name);
		return;
	}
	l->polled = on;
}

/*
 * Whether l belongs in the poll set: not while a child serves it (UDP
 * "wait"), and a listener that forks not while accepting is paused.
 */
static bool
listener_wanted(const struct server *s, const struct listener *l)
{
	return l->busy == 0 && (!s->paused || !listener_forks(l));
}

/*
 * At max_children the listeners that fork leave the poll set: new
 * connections wait in the kernel's listen backlog (datagrams in the
 * socket's queue), and are taken when a child exits.
 */
static void
tcp_pause(struct server *s, bool pause)
{
	size_t	 i;

	if (s->paused == pause)
		return;
	s->paused = pause;
	for (i = 0; i < s->ls.n; i++)
		listener_poll(s, s->ls.v[i], listener_wanted(s, s->ls.v[i]));
}

static bool
tcp_full(const struct server *s)
{
	return children_count() >= s->conf->global.max_children;
}

/* Resume accepting when a child has gone and no back-off is running. */
static void
tcp_maybe_resume(struct server *s)
{
	if (!s->paused || tcp_full(s))
		return;
	if (s->backoff_until != 0 && util_now_ms() < s->backoff_until)
		return;
	s->backoff_until = 0;
	tcp_pause(s, false);
}

static void
tcp_accept_failed(struct server *s, struct listener *l)
{
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		log_warn("%s: paused op=accept ms=%d", l->svc->name,
		    ACCEPT_BACKOFF_MS);
		s->backoff_until = util_now_ms() + ACCEPT_BACKOFF_MS;
		tcp_pause(s, true);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != ECONNABORTED && errno != EINTR && errno != EPROTO)
		log_warn("%s: error op=accept", l->svc->name);
}

/* refuse_message lines sent a second per service, at most. */
#define REFUSE_LINES_RATE	20

/*
 * Refuse a connection: count and log it, send refuse_message (if any,
 * and not more than REFUSE_LINES_RATE a second: a flood must not cost a
 * write each), and close.  The send does not wait: a client that cannot
 * take one line at once does not get it.
 */
static void
tcp_refuse(const struct service *svc, int fd, int why,
    const struct sockaddr *sa, const struct sockaddr *via, const char *detail)
{
	char	 line[1024];
	int	 n;

	service_refuse_via(svc, (enum service_refusal)why, sa, via, detail);
	if (svc->refuse_message != NULL && bucket_take(&svc->state->refuse_lines,
	    REFUSE_LINES_RATE, util_now_ms())) {
		n = snprintf(line, sizeof(line), "%s\r\n", svc->refuse_message);
		if (n > 0)
			(void)send(fd, line, (size_t)n < sizeof(line) ? (size_t)n :
			    sizeof(line) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	close(fd);
}

/* Out of processes: refuse this one, pause rather than spin. */
static void
tcp_fork_failed(struct server *s, const struct service *svc,
    const struct sockaddr *sa, const struct sockaddr *via)
{
	service_refuse_via(svc, SR_max_children, sa, via, NULL);
	log_warn("%s: paused op=fork ms=%d", svc->name, ACCEPT_BACKOFF_MS);
	s->backoff_until = util_now_ms() + ACCEPT_BACKOFF_MS;
	tcp_pause(s, true);
}

/*
 * Whether children share our descriptors first: beside NET_HIGH_LISTENERS
 * listeners or more, every one of them at NET_FD_HIGH or above (sockets
 * passed by the service manager stay where they were passed, and those a
 * reload keeps from a smaller configuration where they were opened).
 * Decided whenever the set changes.
 */
static void
share_decide(struct server *s)
{
	size_t	 i;

	s->share_files = s->ls.n >= NET_HIGH_LISTENERS;
	for (i = 0; i < s->ls.n && s->share_files; i++)
		s->share_files = s->ls.v[i]->fd >= NET_FD_HIGH;
}

/*
 * A child for c.  Beside many listeners, one that shares our descriptors
 * until it has its own (util_fork_files), when c's and the report pipe's
 * lie below the listeners: it copies the few below, not the thousands
 * above, and closes none of those.  Its connection's descriptor is then
 * closed here only when it says it has its own (children_hold).
 */
static pid_t
tcp_spawn(struct server *s, struct conn *c)
{
	pid_t	 pid;

	c->files_shared = s->share_files && c->fd < NET_FD_HIGH &&
	    child_report_fd < NET_FD_HIGH;
	if (c->files_shared) {
		if ((pid = util_fork_files()) != -1 || errno != ENOSYS)
			return pid;
		c->files_shared = false;
	}
	return util_fork();
}

/*
 * A connection from the client at sa: the limits, between accept and
 * fork, so that refusing costs no process; then a child for it.  ph and
 * via, when not NULL, are the PROXY header that named sa and the
 * balancer that sent it.  Returns -1 when fork failed (accepting pauses).
 */
static int
tcp_admit(struct server *s, struct service *svc, int fd,
    const struct sockaddr *sa, const struct proxy_hdr *ph,
    const struct sockaddr *via)
{
	struct client	 cl = { .keylen = 0 };
	struct conn	 c;
	uint64_t	 now = util_now_ms();
	pid_t		 pid;
	int		 why;

	client_of(svc, sa, &cl);
	if (svc->limited && (why = limits_admit(svc, PROTO_TCP, sa, &cl,
	    now)) != -1) {
		tcp_refuse(svc, fd, why, sa, via, NULL);
		return 0;
	}
	/*
	 * Ready here, the child only runs it: names formatted, the client's
	 * count read (the child touches none of the parent's tables).
	 */
	conn_prepare(&c, svc, sa, sa->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6), now);
	c.fd = fd;
	c.connnum = conctab_get(svc->state->conc, &cl) + 1;
	if (ph != NULL)
		conn_proxied(&c, ph, via);
	if ((pid = tcp_spawn(s, &c)) == 0)
		child_run(&c);
	if (pid == -1 || !c.files_shared)
		close(fd);
	if (pid == -1) {
		tcp_fork_failed(s, svc, sa, via);
		return -1;
	}
	children_add(pid, svc->state, &cl, 0);
	if (c.files_shared)
		children_hold(pid, fd);
	service_count(svc, SC_accepted);
	sources_note(svc, sa, SOURCE_ACCEPTED);
	return 0;
}

/*
 * The header of a connection from a balancer is complete, or will never
 * be: admit the client it names (the balancer itself for a health
 * check), or refuse the connection as the balancer's.
 */
static int
proxy_finish(struct server *s, struct service *svc, int fd,
    const struct sockaddr *via, enum proxy_result r,
    const struct proxy_hdr *h, const char *why)
{
	const struct sockaddr *client;

	if (r != PROXY_OK) {
		tcp_refuse(svc, fd, SR_proxy_header, via, NULL, why);
		return 0;
	}
	client = h->local ? via : (const struct sockaddr *)&h->src;
	if (tcp_full(s)) {
		service_refuse_via(svc, SR_max_children, client, via, NULL);
		close(fd);
		return 0;
	}
	return tcp_admit(s, svc, fd, client, h, via);
}

/*
 * proxy_protocol: only a balancer of proxy_from may connect, and its
 * header is read here, in the parent, before any other check; mostly it
 * came with the connection, else the connection waits for it.
 */
static int
proxy_accept(struct server *s, struct service *svc, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	struct proxy_hdr h;
	const char	*why;
	enum proxy_result r;

	if (!acl_match(&svc->proxy_from, sa)) {
		tcp_refuse(svc, fd, SR_proxy_untrusted, sa, NULL, NULL);
		return 0;
	}
	if ((r = proxy_recv(fd, svc->proxy_versions, &h, &why)) != PROXY_MORE)
		return proxy_finish(s, svc, fd, sa, r, &h, why);
	if (proxy_wait_add(&s->pw, svc, fd, sa, salen, util_now_ms()) == -1)
		tcp_refuse(svc, fd, SR_proxy_header, sa, NULL, "busy");
	return 0;
}

/* More of a waiting connection's header, or its end. */
static void
proxy_event(struct server *s, struct proxy_waiter *w, uint32_t events)
{
	struct service	*svc = (struct service *)w->svc;
	struct sockaddr_storage via = w->via;
	struct proxy_hdr h;
	const char	*why;
	enum proxy_result r;

	r = proxy_recv(w->fd, svc->proxy_versions, &h, &why);
	if (r == PROXY_MORE) {
		if (!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			return;
		r = PROXY_BAD;
		why = "incomplete";
	}
	(void)proxy_finish(s, svc, proxy_wait_done(&s->pw, w),
	    (struct sockaddr *)&via, r, &h, why);
}

/* Refuse the connections whose header has not come in time. */
static void
proxy_expire(struct server *s)
{
	struct proxy_waiter *w;
	uint64_t now = util_now_ms();

	while ((w = proxy_wait_expired(&s->pw, now)) != NULL) {
		struct service *svc = (struct service *)w->svc;
		struct sockaddr_storage via = w->via;

		tcp_refuse(svc, proxy_wait_done(&s->pw, w), SR_proxy_header,
		    (struct sockaddr *)&via, NULL, "timeout");
	}
}

/*
 * The hot path: accept, check, fork, close.  Everything per connection
 * that can wait (peer formatting, process title, logging) happens in the
 * child.  The parent keeps the live connections of each client (for
 * per_source, TCPCONNNUM and the control socket's sources).
 */
static void
tcp_accept(struct server *s, struct listener *l)
{
	struct service	*svc = l->svc;
	struct sockaddr_storage ss;
	struct sockaddr	*sa = (struct sockaddr *)&ss;
	socklen_t	 sslen;
	int		 fd, i, rc;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		if (tcp_full(s)) {
			tcp_pause(s, true);
			return;
		}
		sslen = sizeof(ss);
		if ((fd = accept4(l->fd, sa, &sslen, SOCK_CLOEXEC | SOCK_NONBLOCK)) == -1) {
			tcp_accept_failed(s, l);
			return;
		}
		rc = svc->proxy_versions != 0 ? proxy_accept(s, svc, fd, sa, sslen) :
		    tcp_admit(s, svc, fd, sa, NULL, NULL);
		if (rc == -1)
			return;
	}
}

/*
 * A datagram on a UDP "wait" service's socket: at max_children it waits
 * in the socket's queue; else a child takes the socket over, and it
 * leaves the poll set until that child has exited (udp_done).
 */
static void
udp_wake_child(struct server *s, struct listener *l)
{
	pid_t	 pid;

	if (tcp_full(s)) {
		tcp_pause(s, true);
		return;
	}
	if ((pid = udp_wake(l)) <= 0) {
		if (pid == -1) {
			log_warn("%s: paused op=fork ms=%d", l->svc->name,
			    ACCEPT_BACKOFF_MS);
			s->backoff_until = util_now_ms() + ACCEPT_BACKOFF_MS;
			tcp_pause(s, true);
		}
		return;
	}
	l->busy = pid;
	listener_poll(s, l, false);
	children_add(pid, l->svc->state, NULL, l->id);
	service_count(l->svc, SC_accepted);
}

/* The child that served the UDP socket of listener id is gone: watch it again. */
static void
udp_done(void *arg, unsigned long id)
{
	struct server	*s = arg;
	struct listener	*l = listener_by_id(&s->ls, id);

	if (l == NULL)
		return;		/* a reload closed it meanwhile */
	l->busy = 0;
	(void)net_set_nonblock(l->fd, 1);
	if (udp_unwoken(l))
		log_notice("%s: dropped cause=unread_by_program", l->svc->name);
	listener_poll(s, l, listener_wanted(s, l));
}

/*
 * A pipe for the children's reports: the parent reads one end (without
 * waiting), every child inherits the other (child_report_fd), where its
 * small writes are whole records, whatever other children write.
 */
static int
report_setup(struct server *s)
{
	int	 p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if (net_set_nonblock(p[0], 1) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	s->report.kind = SRC_REPORT;
	s->report.fd = p[0];
	child_report_fd = p[1];
	return poll_add(s, s->report.fd, &s->report);
}

/* One record of a child: its bytes, or a line for the journal. */
static void
report_one(const struct report_head *r, const char *line)
{
	if (r->type == REPORT_BYTES)
		children_report(r->pid, r->bytes_in, r->bytes_out);
	else if (r->type == REPORT_FILES)
		children_release(r->pid);
	else if (r->type == REPORT_LOG && r->len > sizeof(*r))
		log_journal_line(r->priority, (long)r->pid, line);
}

/*
 * The children's reports: read all there are, record by record, into a
 * buffer of the parent's own (written at every connection, its count
 * too: not a page a fork shares).  A read that leaves room has emptied
 * the pipe: the poll (level-triggered) says when there is more, without
 * a read for EAGAIN at every wake-up.
 */
#define REPORT_BUF	65536
static void
report_read(struct server *s)
{
	static struct {
		size_t	 have;
		char	 buf[REPORT_BUF];
	}		*rb;
	struct report_head r;
	char		*buf;
	ssize_t		 n;
	size_t		 off, room;

	if (rb == NULL && (rb = util_parent_calloc(1, sizeof(*rb))) == NULL)
		return;		/* out of memory: the reports wait in the pipe */
	buf = rb->buf;
	do {
		room = REPORT_BUF - rb->have;
		if ((n = read(s->report.fd, buf + rb->have, room)) <= 0)
			break;
		rb->have += (size_t)n;
		for (off = 0; rb->have - off >= sizeof(r); off += r.len) {
			memcpy(&r, buf + off, sizeof(r));
			if (r.len < sizeof(r)) {
				rb->have = off = 0;	/* not ours: start over */
				break;
			}
			if (rb->have - off < r.len)
				break;
			if (r.type == REPORT_LOG)
				buf[off + r.len - 1] = '\0';
			report_one(&r, buf + off + sizeof(r));
		}
		memmove(buf, buf + off, rb->have - off);
		rb->have -= off;
	} while ((size_t)n == room);
}

/*
 * Reap.  The reports are read once the children are reaped, before they
 * are forgotten: all a child wrote before it exited is there, and its
 * bytes reach its service.
 */
static void
reap_reports(void *arg)
{
	report_read(arg);
}

static void
reap(struct server *s)
{
	children_reap(reap_reports, udp_done, s);
}

/* One signal: what to do after this batch of events. */
static void
signal_one(struct server *s, uint32_t signo)
{
	switch (signo) {
	case SIGHUP:
		s->want_reload = true;
		break;
	case SIGINT:
	case SIGTERM:
		s->want_stop = true;
		s->stop_signal = (int)signo;
		break;
	case SIGUSR1:
		s->want_status = true;
		break;
	case SIGCHLD:
		s->want_reap = true;
		break;
	}
}

/*
 * Signals are events: read them all.  Fewer than asked for: none is left
 * (the poll says when there are more, as with the reports).
 */
static void
signal_read(struct server *s)
{
	struct signalfd_siginfo si[8];
	ssize_t	 n;
	size_t	 i;

	do {
		if ((n = read(s->sig.fd, si, sizeof(si))) <= 0)
			break;
		for (i = 0; i < (size_t)n / sizeof(si[0]); i++)
			signal_one(s, si[i].ssi_signo);
	} while ((size_t)n == sizeof(si));
}

/*
 * The signals the loop reads from a signalfd: blocked, and set to their
 * default disposition once here rather than in every child, which
 * inherits them (child.c counts on it): a daemon started under nohup(1)
 * inherits SIGHUP ignored, which is not for its children.  SIGPIPE is
 * ignored, here and in the children.
 */
static int
signal_setup(struct server *s)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGCHLD };
	sigset_t set;
	size_t	 i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* SIGTERM's handler: the children's, inherited (blocked here). */
	child_prepare();
	s->sig.kind = SRC_SIGNAL;
	s->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return s->sig.fd == -1 ? -1 : 0;
}

/* What the control socket tells of the daemon. */
static void
server_info(void *arg, struct status_info *si)
{
	const struct server *s = arg;

	si->conf = s->conf;
	si->config_path = s->opts->config_path;
	si->started = s->started;
	si->started_ms = s->started_ms;
	si->loaded = s->loaded;
	si->reload = s->reload_result;
	si->children = children_count();
}

/* SIGUSR1: the lines of the control socket's "status", logged. */
static void
status_log(struct server *s)
{
	struct status_info si;
	struct buf	 b = { 0 };
	char		*line, *rest;

	server_info(s, &si);
	status_text(&b, &si);
	for (rest = b.p; rest != NULL && (line = strsep(&rest, "\n")) != NULL;)
		if (*line != '\0')
			log_info("%s", line);
	buf_free(&b);
}

/* "SERVICE: EVENT proto=P addr=A" and more, of one listener. */
static void
log_listener(const struct listener *l, const char *event, const char *more)
{
	char	 where[ADDR_STRLEN];

	log_info("%s: %s proto=%s addr=%s%s", l->svc->name, event,
	    addr_proto_name(l->proto), addr_format((const struct sockaddr *)
	    &l->addr.ss, where, sizeof(where)), more);
}

/*
 * Say where each service listens, and which sockets came from the service
 * manager.  After a reload, the sockets kept from before are not named again.
 */
static void
log_listeners(const struct server *s, bool reloaded)
{
	char	 where[ADDR_STRLEN];
	size_t	 i;

	for (i = 0; i < s->ls.n; i++) {
		const struct listener *l = s->ls.v[i];

		if (reloaded && l->from == &s->ls)
			continue;
		log_listener(l, "listen", l->activated ? " activated=yes" : "");
	}
	for (i = 0; !reloaded && i < s->pool.n; i++) {
		const struct listener *l = s->pool.v[i];

		if (l == NULL)
			continue;
		log_notice("hellod: activation_unused proto=%s addr=%s",
		    addr_proto_name(l->proto), addr_format((const struct sockaddr *)
		    &l->addr.ss, where, sizeof(where)));
	}
}

static size_t
enabled_services(const struct config *conf)
{
	size_t	 i, n = 0;

	for (i = 0; i < conf->nservices; i++)
		n += conf->services[i].enabled;
	return n;
}

/* What STATUS= says now. */
static struct notify_status
status_now(const struct server *s)
{
	struct notify_status ns = { s->enabled, children_count(),
	    service_refused_minute(time(NULL)) };

	return ns;
}

/*
 * STATUS= for the service manager, whenever what it says changed: after
 * each batch of events (so it follows every connection), and as the
 * minute of refusals moves on.  Without a service manager, nothing is
 * worked out (callgrind: summing the minute of refusals cost the parent
 * more instructions per connection than accepting it).
 */
static void
status_update(struct server *s)
{
	struct notify_status ns;

	if (!notify_managed())
		return;
	ns = status_now(s);
	if (ns.enabled == s->status.enabled &&
	    ns.connections == s->status.connections &&
	    ns.refused == s->status.refused)
		return;
	s->status = ns;
	notify_status(&ns);
}

static void
config_release(struct config *conf)
{
	service_release(conf);
	config_free(conf);
}

static void
reload_error(void *arg, const char *msg)
{
	(void)arg;
	log_errx("%s", msg);
}

/*
 * Open the control socket of the config in force: owned by [global]
 * user and group, when started as root to drop to them, so that the
 * daemon's user can reach it.
 */
static void
control_start(struct server *s)
{
	const struct global *g = &s->conf->global;
	struct passwd *pw = g->user != NULL ? getpwnam(g->user) : NULL;
	struct group *gr = g->group != NULL ? getgrnam(g->group) : NULL;
	uid_t	 uid = (uid_t)-1;
	gid_t	 gid = (gid_t)-1;

	if (geteuid() == 0 && (pw != NULL || gr != NULL)) {
		uid = pw != NULL ? pw->pw_uid : 0;
		gid = gr != NULL ? gr->gr_gid : pw->pw_gid;
	}
	s->ctl.info = server_info;
	s->ctl.arg = s;
	s->ctl.epfd = s->epfd;
	control_open(&s->ctl, g->control, uid, gid);
}

static void
control_update(struct server *s)
{
	const char *want = s->conf->global.control;

	if (s->ctl.fd != -1 && want != NULL && s->ctl.path != NULL &&
	    strcmp(want, s->ctl.path) == 0)
		return;
	if (s->ctl.fd != -1) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->ctl.fd, NULL);
		control_close(&s->ctl);
	}
	if (want == NULL)
		return;
	control_start(s);
	if (s->ctl.fd != -1 && poll_add(s, s->ctl.fd, &s->ctl) == -1)
		control_close(&s->ctl);
}

/* Swap in a loaded config whose listeners are built: the point of no return. */
static void
reload_commit(struct server *s, struct config *conf, struct listener_set *ls)
{
	size_t	 i;

	for (i = 0; i < s->ls.n; i++) {
		struct listener *l = s->ls.v[i];

		if (l == NULL)
			continue;
		if (l->polled)
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, l->fd, NULL);
		log_listener(l, "close", " cause=removed");
		s->rc.closed++;
	}
	for (i = 0; i < ls->n; i++)
		if (ls->v[i]->from == &s->ls)
			s->rc.kept++;
	s->rc.opened = (unsigned)ls->n - s->rc.kept;
	listener_close_all(&s->ls, &s->pool);
	listener_set_free(&s->ls);
	s->ls = *ls;
	config_release(s->conf);
	s->conf = conf;
	proxy_wait_rebind(&s->pw, conf);
	s->enabled = enabled_services(conf);
	if (children_resize(conf->global.max_children) == -1)
		log_warnx("hellod: error op=children detail=out_of_memory");
	log_setup(conf->global.facility,
	    s->opts->debug ? LOG_DEBUG : conf->global.log_level,
	    conf->global.journal);
	/* New sockets join the poll set; those that fork wait while accepting is paused. */
	for (i = 0; i < s->ls.n; i++)
		listener_poll(s, s->ls.v[i], listener_wanted(s, s->ls.v[i]));
	control_update(s);
	udp_endpoints(&s->ls);
	share_decide(s);
}

/* Put the listeners in force back in the poll set, as before a failed reload. */
static void
listeners_repoll(struct server *s)
{
	size_t	 i;

	for (i = 0; i < s->ls.n; i++)
		listener_poll(s, s->ls.v[i], listener_wanted(s, s->ls.v[i]));
}

/*
 * The sockets of a new config, in the steps listener.h describes: until
 * every other socket is in place, nothing is closed, so a reload that
 * fails for any other reason changes nothing.  Only old sockets that an
 * overlapping new address needs (a service moving from 127.0.0.1 to
 * every address on the same port) are closed then, and opened again if
 * the new address cannot be had after all.
 */
static int
reload_sockets(struct server *s, struct config *conf, struct listener_set *ls)
{
	struct listener_set retired;
	size_t	 i;

	if (listener_retire(conf, &s->ls, &retired) == -1)
		return -1;
	if (listener_build(conf, &s->ls, &s->pool, &retired, ls) == -1) {
		listener_unretire(&retired);
		return -1;
	}
	for (i = 0; i < retired.n; i++) {
		struct listener *l = retired.v[i];

		log_listener(l, "close", " cause=overlap");
		listener_poll(s, l, false);
		close(l->fd);
		l->fd = -1;
	}
	if (listener_build_finish(ls, RETIRE_PATIENCE_MS) == 0) {
		s->rc.closed = (unsigned)retired.n;
		for (i = 0; i < retired.n; i++)
			listener_free(retired.v[i]);
		listener_set_free(&retired);
		return 0;
	}
	listener_build_undo(ls);
	listener_restore(&retired, RETIRE_PATIENCE_MS);
	listener_compact(&s->ls);
	listeners_repoll(s);
	udp_endpoints(&s->ls);
	share_decide(s);
	return -1;
}

/* Count the services conf adds, removes and changes. */
static void
reload_diff(struct server *s, const struct config *conf)
{
	const struct service *old;
	size_t	 i;

	for (i = 0; i < conf->nservices; i++) {
		old = config_find(s->conf, conf->services[i].name);
		if (old == NULL)
			s->rc.added++;
		else if (config_service_changed(old, &conf->services[i]))
			s->rc.changed++;
	}
	for (i = 0; i < s->conf->nservices; i++)
		if (config_find(conf, s->conf->services[i].name) == NULL)
			s->rc.removed++;
}

/*
 * SIGHUP: parse the file and bind every new socket first; only when all
 * of it worked does anything change.  Otherwise the old config serves on.
 */
static void
reload(struct server *s)
{
	struct config	*conf;
	struct listener_set ls;
	unsigned	 nerr = 0;

	log_info("hellod: reloading config=%s", log_q(s->opts->config_path));
	notify_reloading();
	memset(&s->rc, 0, sizeof(s->rc));
	conf = config_load(s->opts->config_path, reload_error, NULL, &nerr);
	if (conf == NULL) {
		s->reload_result = "failed";
		log_errx("hellod: reload_failed cause=config errors=%u", nerr);
	} else if ((nerr = identity_check(conf)) > 0) {
		s->reload_result = "failed";
		log_errx("hellod: reload_failed cause=identity errors=%u", nerr);
		config_release(conf);
	} else if (service_attach(conf, s->conf) == -1 ||
	    reload_sockets(s, conf, &ls) == -1) {
		s->reload_result = "failed";
		log_errx("hellod: reload_failed cause=sockets");
		config_release(conf);
	} else {
		reload_diff(s, conf);
		reload_commit(s, conf, &ls);
		log_listeners(s, true);
		s->reload_result = "ok";
		s->loaded = time(NULL);
		log_info("hellod: reloaded services=%zu added=%u removed=%u "
		    "changed=%u listeners_kept=%u listeners_opened=%u "
		    "listeners_closed=%u", conf->nservices, s->rc.added,
		    s->rc.removed, s->rc.changed, s->rc.kept, s->rc.opened,
		    s->rc.closed);
	}
	/* What looking names up loaded (NSS modules) no child runs. */
	objects_parent_new();
	s->status = status_now(s);
	notify_ready(&s->status);
}

/* Wait for the children, at most shutdown_grace, then kill what is left. */
static void
stop_children(struct server *s)
{
	uint64_t deadline = util_now_ms() + s->conf->global.shutdown_grace_ms;
	struct epoll_event ev;

	children_signal(SIGTERM);
	reap(s);
	while (children_count() > 0) {
		uint64_t now = util_now_ms();

		if (now >= deadline) {
			log_warnx("hellod: kill children=%u cause=shutdown_grace",
			    children_count());
			children_signal(SIGKILL);
			deadline = now + 5000;	/* SIGKILL cannot be ignored */
		}
		if (epoll_wait(s->epfd, &ev, 1, (int)(deadline - now)) > 0)
			signal_read(s);
		reap(s);
	}
}

static void
stop(struct server *s)
{
	size_t	 i;

	log_info("hellod: stopping signal=%s", util_signame(s->stop_signal));
	notify_stopping();
	for (i = 0; i < s->ls.n; i++)
		listener_poll(s, s->ls.v[i], false);
	listener_close_all(&s->ls, NULL);
	listener_set_free(&s->ls);
	listener_close_all(&s->pool, NULL);
	listener_set_free(&s->pool);
	control_close(&s->ctl);
	proxy_wait_close_all(&s->pw);
	stop_children(s);
	/* After a drop to [global] user, /run may no longer be ours to write. */
	if (s->pfh != NULL && pidfile_remove(s->pfh) == -1)
		log_warn("hellod: error op=pidfile_remove");
	log_info("hellod: stopped");
}

static int
next_timeout(const struct server *s)
{
	uint64_t now = util_now_ms();
	int	 ctl = control_timeout(&s->ctl, now), back;
	int	 proxy = proxy_wait_timeout(&s->pw, now);

	/* While refusals are counted in STATUS=, it moves on each second. */
	if (s->status.refused > 0 && (ctl == -1 || ctl > 1000))
		ctl = 1000;
	if (proxy != -1 && (ctl == -1 || proxy < ctl))
		ctl = proxy;
	if (s->backoff_until == 0)
		return ctl;
	back = now >= s->backoff_until ? 0 : (int)(s->backoff_until - now);
	return ctl == -1 || back < ctl ? back : ctl;
}

static void
dispatch(struct server *s, struct epoll_event *ev)
{
	enum source_kind *kind = ev->data.ptr;

	switch (*kind) {
	case SRC_SIGNAL:
		signal_read(s);
		break;
	case SRC_CONTROL:
		control_accept(&s->ctl);
		break;
	case SRC_REPORT:
		report_read(s);
		break;
	case SRC_CONTROL_CLIENT:
		control_client_event((struct control_client *)kind, ev->events);
		break;
	case SRC_TCP:
		tcp_accept(s, (struct listener *)kind);
		break;
	case SRC_PROXY:
		proxy_event(s, (struct proxy_waiter *)kind, ev->events);
		break;
	case SRC_UDP:
		if (((struct listener *)kind)->svc->handler->udp_spawn != NULL)
			udp_wake_child(s, (struct listener *)kind);
		else
			udp_serve((struct listener *)kind);
		break;
	}
}

static void
loop(struct server *s)
{
	struct epoll_event evs[EVENT_BATCH];
	int	 i, n;

	while (!s->want_stop) {
		n = epoll_wait(s->epfd, evs, EVENT_BATCH, next_timeout(s));
		if (n == -1 && errno != EINTR) {
			log_err("hellod: error op=epoll_wait");
			break;
		}
		for (i = 0; i < n; i++)
			dispatch(s, &evs[i]);
		control_tick(&s->ctl, util_now_ms());
		proxy_expire(s);
		/* Acted on after the batch: a reload frees listeners evs may name. */
		if (s->want_reap) {
			s->want_reap = false;
			reap(s);
		}
		status_update(s);
		tcp_maybe_resume(s);
		if (s->want_status) {
			s->want_status = false;
			status_log(s);
		}
		if (s->want_reload && !s->want_stop) {
			s->want_reload = false;
			reload(s);
		}
	}
}

/* The pidfile's path: -p, [global] pidfile, the default unless -f; or NULL. */
static const char *
pidfile_path(const struct server *s)
{
	const char *path = s->opts->pidfile;

	if (path == NULL)
		path = s->conf->global.pidfile;
	if (path == NULL && !s->opts->foreground)
		path = DEFAULT_PIDFILE;
	return path;
}

static int
pidfile_setup(struct server *s)
{
	const char *path = pidfile_path(s);
	pid_t	 other = 0;

	if (path == NULL)
		return 0;
	if (daemon_pidfile_safe(path) == -1)
		return -1;
	s->pfh = pidfile_open(path, 0644, &other);
	if (s->pfh == NULL) {
		if (errno == EEXIST)
			log_errx("hellod: pidfile_error path=%s detail=running "
			    "pid=%ld", log_q(path), (long)other);
		else
			log_err("hellod: pidfile_error path=%s", log_q(path));
		return -1;
	}
	return 0;
}

static int
start(struct server *s)
{
	size_t	 i;

	/* Signals wait in the signalfd from the start: an early SIGHUP must not kill us. */
	if (signal_setup(s) == -1) {
		log_err("hellod: error op=signalfd");
		return EX_OSERR;
	}
	addr_init();
	/* Before anything is bound, so that the exit code reaches the terminal. */
	if (identity_check(s->conf) > 0)
		return EX_CONFIG;
	/* What looking names up loaded (NSS modules) no child runs. */
	objects_parent_new();
	if (pidfile_setup(s) == -1)
		return EX_CANTCREAT;
	listener_passed(&s->pool);
	if (service_attach(s->conf, NULL) == -1 ||
	    listener_build(s->conf, NULL, &s->pool, NULL, &s->ls) == -1 ||
	    listener_build_finish(&s->ls, 0) == -1)
		return EX_OSERR;
	if (s->conf->global.control != NULL)
		control_start(s);
	if (!s->opts->foreground && daemon_detach() == -1) {
		log_err("hellod: error op=detach");
		return EX_OSERR;
	}
	util_parent_ready();
	if (s->pfh != NULL && pidfile_write(s->pfh) == -1)
		log_warn("hellod: pidfile_error path=%s op=write",
		    log_q(pidfile_path(s)));
	/* [global] user and group: dropped to once every socket is bound. */
	if (identity_switch(s->conf->global.user, s->conf->global.group,
	    "hellod", false) == -1)
		return EX_OSERR;
	if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    poll_add(s, s->sig.fd, &s->sig) == -1 ||
	    report_setup(s) == -1 ||
	    children_init(s->conf->global.max_children) == -1) {
		log_err("hellod: error op=event_loop");
		return EX_OSERR;
	}
	s->ctl.epfd = s->epfd;
	proxy_wait_init(&s->pw, s->epfd);
	if (s->ctl.fd != -1 && poll_add(s, s->ctl.fd, &s->ctl) == -1)
		control_close(&s->ctl);
	for (i = 0; i < s->ls.n; i++)
		listener_poll(s, s->ls.v[i], listener_wanted(s, s->ls.v[i]));
	return EX_OK;
}

int
server_run(struct config *conf, const struct server_opts *opts)
{
	struct server	 s;
	int		 rc;

	memset(&s, 0, sizeof(s));
	s.conf = conf;
	s.enabled = enabled_services(conf);
	s.opts = opts;
	s.epfd = -1;
	s.sig.fd = -1;
	s.report.fd = -1;
	s.ctl.fd = -1;
	s.started = s.loaded = time(NULL);
	s.started_ms = util_now_ms();
	s.reload_result = "none";
	if ((rc = start(&s)) != EX_OK) {
		if (s.pfh != NULL)
			pidfile_remove(s.pfh);
		listener_close_all(&s.ls, NULL);
		listener_set_free(&s.ls);
		listener_close_all(&s.pool, NULL);
		listener_set_free(&s.pool);
		config_release(s.conf);
		return rc;
	}
	udp_endpoints(&s.ls);
	share_decide(&s);
	log_started();
	log_listeners(&s, false);
	log_info("hellod: started version=%s pid=%ld services=%zu enabled=%zu "
	    "config=%s", PACKAGE_VERSION, (long)getpid(), conf->nservices,
	    s.enabled, log_q(opts->config_path));
	setproctitle("%zu services", conf->nservices);
	s.status = status_now(&s);
	notify_ready(&s.status);
	loop(&s);
	stop(&s);
	config_release(s.conf);
	udp_endpoints(NULL);
	children_free();
	close(s.sig.fd);
	close(s.report.fd);
	close(child_report_fd);
	close(s.epfd);
	return EX_OK;
}
