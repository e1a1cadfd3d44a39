/* The exec handler: a program per TCP connection (nowait), or per busy UDP socket (wait). */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "config-key.h"
#include "child.h"
#include "conn.h"
#include "exec.h"
#include "handler.h"
#include "identity.h"
#include "log.h"
#include "util.h"

/* The PATH a program gets, unless env sets one. */
#define EXEC_PATH	"PATH=/usr/local/bin:/usr/bin:/bin"
/* Variables set per connection or datagram, at most. */
#define EXEC_DYNAMIC	10

/* exec's own settings, its keys, and what prepare makes of them. */
struct exec_conf {
	char		*exec;		/* as written */
	char		*env;
	char		*passenv;
	char	       **argv;		/* NULL-terminated */
	char	       **envv;		/* PATH, env, passenv: NAME=VALUE */
	size_t		 nenv;
};

static const struct key exec_keys[] = {
	{ .name = "exec", .type = KEY_STRING, .flags = KEY_NONEMPTY | KEY_REQUIRED,
	    KEY_FIELD(struct exec_conf, exec) },
	{ .name = "env", .type = KEY_STRING, .flags = KEY_NONEMPTY,
	    KEY_FIELD(struct exec_conf, env) },
	{ .name = "passenv", .type = KEY_STRING, .flags = KEY_NONEMPTY,
	    KEY_FIELD(struct exec_conf, passenv) },
	{ .name = NULL },
};

/* Append the n bytes at s to the word being built in *w (of *len bytes). */
static int
word_add(char **w, size_t *len, const char *s, size_t n)
{
	char	*p;

	if ((p = realloc(*w, *len + n + 1)) == NULL)
		return -1;
	memcpy(p + *len, s, n);
	*len += n;
	p[*len] = '\0';
	*w = p;
	return 0;
}

/* One word of text at *sp, its quotes and backslashes undone, into *out. */
static int
word_next(const char **sp, char **out, const char **err)
{
	const char *s = *sp;
	size_t	 len = 0;
	char	 q;

	*out = NULL;
	if (word_add(out, &len, "", 0) == -1)
		goto oom;
	while (*s != '\0' && !isspace((unsigned char)*s)) {
		if (*s == '\'' || *s == '"') {
			for (q = *s++; *s != q; s++) {
				if (*s == '\0') {
					*err = q == '"' ? "a \" is not closed" :
					    "a ' is not closed";
					goto fail;
				}
				if (q == '"' && *s == '\\' &&
				    (s[1] == '"' || s[1] == '\\'))
					s++;
				if (word_add(out, &len, s, 1) == -1)
					goto oom;
			}
			s++;
		} else if (*s == '\\') {
			if (*++s == '\0') {
				*err = "a \\ ends the value";
				goto fail;
			}
			if (word_add(out, &len, s++, 1) == -1)
				goto oom;
		} else if (word_add(out, &len, s++, 1) == -1)
			goto oom;
	}
	*sp = s;
	return 0;
oom:
	*err = "out of memory";
fail:
	free(*out);
	*out = NULL;
	return -1;
}

/* Free the n strings of v and v, a vector not NULL-terminated yet. */
static void
strv_free_n(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

int
exec_split(const char *text, char ***argv, size_t *argc, const char **err)
{
	char	*w;

	*argv = NULL;
	*argc = 0;
	for (;;) {
		while (isspace((unsigned char)*text))
			text++;
		if (*text == '\0')
			break;
		if (word_next(&text, &w, err) == -1 ||
		    util_strv_add(argv, argc, w) == -1) {
			if (w != NULL)
				*err = "out of memory";
			free(w);
			strv_free_n(*argv, *argc);
			*argv = NULL;
			*argc = 0;
			return -1;
		}
		free(w);
	}
	/* NULL-terminated, for execve. */
	if (util_strv_add(argv, argc, "") == -1) {
		*err = "out of memory";
		strv_free_n(*argv, *argc);
		*argv = NULL;
		*argc = 0;
		return -1;
	}
	free((*argv)[--*argc]);
	(*argv)[*argc] = NULL;
	return 0;
}

void
exec_strv_free(char **v)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* An environment variable's name: a letter or _, then letters, digits, _. */
static bool
env_name_ok(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* Whether user (group) may execute a file of mode st: its owner, a group of its, or others. */
static bool
executable_by(const struct stat *st, const struct service *svc)
{
	struct passwd *pw = svc->user != NULL ? getpwnam(svc->user) : NULL;
	struct group *gr = svc->group != NULL ? getgrnam(svc->group) : NULL;
	uid_t	 uid = pw != NULL ? pw->pw_uid : geteuid();
	gid_t	 gid = gr != NULL ? gr->gr_gid : pw != NULL ? pw->pw_gid : getegid();
	gid_t	 groups[256];
	int	 n = 256, i;

	if (uid == 0)
		return (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
	if (st->st_uid == uid)
		return (st->st_mode & S_IXUSR) != 0;
	if (st->st_gid == gid)
		return (st->st_mode & S_IXGRP) != 0;
	if (pw != NULL && getgrouplist(pw->pw_name, gid, groups, &n) != -1)
		for (i = 0; i < n; i++)
			if (groups[i] == st->st_gid)
				return (st->st_mode & S_IXGRP) != 0;
	return (st->st_mode & S_IXOTH) != 0;
}

/* The program: an absolute path to a regular file its user may run. */
static int
exec_check_program(struct service *svc, struct exec_conf *ec, struct hctx *ctx)
{
	const char *path = ec->argv[0];
	struct stat st;

	if (path[0] != '/') {
		handler_error(ctx, "exec", "\"%s\" is not an absolute path", path);
		return -1;
	}
	if (stat(path, &st) == -1) {
		handler_error(ctx, "exec", "\"%s\": %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		handler_error(ctx, "exec", "\"%s\" is not a regular file", path);
		return -1;
	}
	if (!executable_by(&st, svc)) {
		if (svc->user != NULL)
			handler_error(ctx, "exec", "\"%s\" is not executable by "
			    "user %s", path, svc->user);
		else
			handler_error(ctx, "exec", "\"%s\" is not executable by "
			    "the user hellod runs as", path);
		return -1;
	}
	return 0;
}

/* env: NAME=VALUE words; passenv: names whose values the daemon has now. */
static int
exec_environment(struct exec_conf *ec, struct hctx *ctx)
{
	char	**words = NULL, *eq, *v, buf[4096];
	size_t	 n, i;
	const char *err;
	bool	 path = false;
	int	 rc = 0;

	if (ec->env != NULL) {
		if (exec_split(ec->env, &words, &n, &err) == -1) {
			handler_error(ctx, "env", "%s", err);
			return -1;
		}
		for (i = 0; i < n; i++) {
			eq = strchr(words[i], '=');
			if (eq == NULL || !env_name_ok(words[i], (size_t)(eq - words[i]))) {
				handler_error(ctx, "env", "\"%s\" is not NAME=VALUE", words[i]);
				rc = -1;
			} else if (util_strv_add(&ec->envv, &ec->nenv, words[i]) == -1)
				rc = -1;
			path |= eq != NULL && strncmp(words[i], "PATH=", 5) == 0;
		}
		exec_strv_free(words);
		words = NULL;
	}
	if (ec->passenv != NULL) {
		if (exec_split(ec->passenv, &words, &n, &err) == -1) {
			handler_error(ctx, "passenv", "%s", err);
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (!env_name_ok(words[i], strlen(words[i]))) {
				handler_error(ctx, "passenv", "\"%s\" is not a variable's name",
				    words[i]);
				rc = -1;
				continue;
			}
			path |= strcmp(words[i], "PATH") == 0;
			/* A name the daemon's environment lacks is not passed. */
			if ((v = getenv(words[i])) != NULL &&
			    (size_t)snprintf(buf, sizeof(buf), "%s=%s", words[i], v) <
			    sizeof(buf) && util_strv_add(&ec->envv, &ec->nenv, buf) == -1)
				rc = -1;
		}
		exec_strv_free(words);
	}
	if (!path && util_strv_add(&ec->envv, &ec->nenv, EXEC_PATH) == -1)
		rc = -1;
	return rc;
}

static void
exec_prepare(struct service *svc, struct hctx *ctx)
{
	struct exec_conf *ec = svc->hconf;
	const char *err;
	size_t	 n;

	if (exec_split(ec->exec, &ec->argv, &n, &err) == -1) {
		handler_error(ctx, "exec", "%s", err);
		return;
	}
	if (n == 0) {
		handler_error(ctx, "exec", "names no program");
		return;
	}
	if (exec_check_program(svc, ec, ctx) == 0)
		exec_environment(ec, ctx);
}

static void
exec_release(void *hconf)
{
	struct exec_conf *ec = hconf;
	size_t	 i;

	exec_strv_free(ec->argv);
	for (i = 0; i < ec->nenv; i++)
		free(ec->envv[i]);
	free(ec->envv);
}

/* NAME=VALUE into the environment being built; the string lives in pool. */
static void
env_set(char **envp, size_t *n, char *pool, size_t *used, size_t max,
    const char *name, const char *value)
{
	int	 len = snprintf(pool + *used, max - *used, "%s=%s", name, value);

	if (len < 0 || (size_t)len >= max - *used)
		return;
	envp[(*n)++] = pool + *used;
	*used += (size_t)len + 1;
}

/*
 * The program's environment: the service's (PATH, env, passenv), then
 * the connection's, in both conventions: UCSPI (PROTO, TCPREMOTEIP...)
 * and systemd's (REMOTE_ADDR, REMOTE_PORT).  Into envp (room for the
 * service's and EXEC_DYNAMIC more, and NULL), their text in pool.
 */
static void
exec_env(const struct exec_conf *ec, int proto, const struct sockaddr *peer,
    const struct sockaddr *local, unsigned long connnum, char **envp,
    char *pool, size_t max)
{
	char	 host[ADDR_STRLEN], port[8], num[24];
	const char *p = proto == PROTO_TCP ? "TCP" : "UDP";
	char	 var[32];
	size_t	 n = 0, used = 0, i;

	for (i = 0; i < ec->nenv; i++)
		envp[n++] = ec->envv[i];
	env_set(envp, &n, pool, &used, max, "PROTO", p);
	if (peer != NULL) {
		addr_format_host(peer, host, sizeof(host));
		snprintf(port, sizeof(port), "%u", addr_port(peer));
		snprintf(var, sizeof(var), "%sREMOTEIP", p);
		env_set(envp, &n, pool, &used, max, var, host);
		snprintf(var, sizeof(var), "%sREMOTEPORT", p);
		env_set(envp, &n, pool, &used, max, var, port);
		env_set(envp, &n, pool, &used, max, "REMOTE_ADDR", host);
		env_set(envp, &n, pool, &used, max, "REMOTE_PORT", port);
	}
	if (local != NULL) {
		addr_format_host(local, host, sizeof(host));
		snprintf(port, sizeof(port), "%u", addr_port(local));
		snprintf(var, sizeof(var), "%sLOCALIP", p);
		env_set(envp, &n, pool, &used, max, var, host);
		snprintf(var, sizeof(var), "%sLOCALPORT", p);
		env_set(envp, &n, pool, &used, max, var, port);
	}
	if (proto == PROTO_TCP) {
		snprintf(num, sizeof(num), "%lu", connnum);
		env_set(envp, &n, pool, &used, max, "TCPCONNNUM", num);
	}
	envp[n] = NULL;
}

/*
 * The TCP states after the peer's FIN, as the kernel numbers them
 * (net/tcp_states.h; <netinet/tcp.h>'s names clash with <linux/tcp.h>).
 */
#define ST_TIME_WAIT	6
#define ST_CLOSE_WAIT	8
#define ST_LAST_ACK	9
#define ST_CLOSING	11

/* What the kernel counted of the connection: bytes received and acknowledged. */
static void
exec_bytes(struct conn *c)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return;
	c->bytes_in = ti.tcpi_bytes_received;
	c->bytes_out = ti.tcpi_bytes_acked;
	/* The client's FIN takes a sequence number, not a byte. */
	if (c->bytes_in > 0 && (ti.tcpi_state == ST_CLOSE_WAIT ||
	    ti.tcpi_state == ST_LAST_ACK || ti.tcpi_state == ST_CLOSING ||
	    ti.tcpi_state == ST_TIME_WAIT))
		c->bytes_in--;
}

/* TCP, in the connection's child: the program, with the connection as stdin and stdout. */
static void
exec_tcp(struct conn *c)
{
	const struct exec_conf *ec = c->svc->hconf;
	char	*envp[ec->nenv + EXEC_DYNAMIC + 1], pool[1024];
	struct exec_run r = {
		.svc = c->svc, .argv = ec->argv, .envp = envp, .stdio = c->fd,
		.max_ms = c->svc->max_duration_ms,
	};

	exec_env(ec, PROTO_TCP, c->peer.len > 0 ? (struct sockaddr *)&c->peer.ss :
	    NULL, conn_local(c), c->connnum, envp, pool, sizeof(pool));
	if (exec_run(&r) == -1) {
		c->end = END_error;
		return;
	}
	exec_bytes(c);
	c->end = exec_end(&r);
	c->status = r.status;
	c->exited = true;
}

/*
 * UDP, forked by the parent when a datagram arrives on the socket fd of
 * svc (from, not read yet): the program gets the socket as stdin and
 * stdout, the datagram still waiting, and the parent watches the socket
 * again once this child has exited.
 */
static pid_t
exec_udp_spawn(const struct service *svc, int fd, const struct sockaddr *from)
{
	const struct exec_conf *ec = svc->hconf;
	char	*envp[ec->nenv + EXEC_DYNAMIC + 1], pool[1024], how[32];
	char	 peer[ADDR_STRLEN];
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	struct exec_run r = {
		.svc = svc, .argv = ec->argv, .envp = envp, .stdio = 3,
		.max_ms = svc->max_duration_ms,
	};
	uint64_t start = util_now_ms(), ms;
	pid_t	 pid;

	if ((pid = util_fork()) != 0)
		return pid;
	child_reset(fd);
	if (getsockname(3, (struct sockaddr *)&local, &llen) == -1)
		llen = 0;
	addr_format_peer(from, svc->log_peer, peer, sizeof(peer));
	setproctitle("%s %s (udp)", svc->name, peer);
	if (identity_service(svc) == -1 ||
	    identity_drop_caps(svc->name) == -1)
		_exit(EX_OSERR);
	exec_env(ec, PROTO_UDP, from, llen > 0 ? (struct sockaddr *)&local : NULL,
	    0, envp, pool, sizeof(pool));
	if (svc->log_connections)
		log_info("%s: wake peer=%s", svc->name, peer);
	if (exec_run(&r) == -1)
		_exit(EX_OSERR);
	ms = util_now_ms() - start;
	if (svc->log_connections)
		log_info("%s: wake_end peer=%s reason=%s duration=%llu.%03llu %s",
		    svc->name, peer, conn_end_name(exec_end(&r)),
		    (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000),
		    exec_outcome(&r, how, sizeof(how)));
	_exit(0);
}

const struct handler handler_exec = {
	.name = "exec",
	.protocols = PROTO_TCP | PROTO_UDP,
	.tcp = exec_tcp,
	.udp_spawn = exec_udp_spawn,
	.keys = exec_keys,
	.conf_size = sizeof(struct exec_conf),
	.prepare = exec_prepare,
	.release = exec_release,
};
