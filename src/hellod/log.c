/* The logging vocabulary: syslog or the journal, a copy to stderr with -e or while starting. */
#include <sys/stat.h>
#include <sys/uio.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>
#include <vis.h>

#include "log.h"
#include "sdlib.h"
#include "util.h"

static int	log_level = LOG_INFO;
static int	log_facility = LOG_DAEMON;
static bool	log_stderr;
static bool	log_to_journal;
/* In a child, where lines for the journal go instead (to the parent). */
static void	(*log_divert)(int, const char *);
static bool	log_starting = true;	/* errors to stderr too, until started */

static const struct {
	const char	*name;
	int		 value;
} facilities[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV }, { "cron", LOG_CRON },
	{ "daemon", LOG_DAEMON }, { "ftp", LOG_FTP }, { "kern", LOG_KERN },
	{ "lpr", LOG_LPR }, { "mail", LOG_MAIL }, { "news", LOG_NEWS },
	{ "syslog", LOG_SYSLOG }, { "user", LOG_USER }, { "uucp", LOG_UUCP },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
}, levels[] = {
	{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE },
	{ "warning", LOG_WARNING }, { "err", LOG_ERR },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Open syslog now (LOG_NDELAY), so that the socket exists before a chroot
 * or privilege drop could make /dev/log unreachable.
 */
void
log_init(int facility, int level, bool to_stderr)
{
	log_stderr = to_stderr;
	log_level = level;
	log_facility = facility;
	openlog("hellod", LOG_PID | LOG_NDELAY, facility);
	setlogmask(LOG_UPTO(level));
}

void
log_setup(int facility, int level, bool journal)
{
	closelog();
	log_init(facility, level, log_stderr);
	log_to_journal = journal;
}

void
log_divert_to(void (*fn)(int, const char *))
{
	log_divert = fn;
}

/*
 * A forked child closes every inherited descriptor, the syslog socket
 * among them: close it through syslog itself, before the child reuses
 * its number, and open the next one only when a message needs it.  With
 * the journal, a child never calls syslog (its lines go to the parent),
 * and leaves syslog's state alone: one code page and two data pages fewer
 * to fault in, in every child.
 */
void
log_reopen(void)
{
	if (log_to_journal)
		return;
	closelog();
	openlog("hellod", LOG_PID, log_facility);
}

/*
 * Under systemd, stderr may be a stream into the journal (JOURNAL_STREAM
 * names it), where the syslog lines arrive already: a copy would show each
 * of them twice.
 */
bool
log_stderr_is_journal(void)
{
	const char	*stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat	 st;

	if (stream == NULL || sscanf(stream, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

/*
 * Until the daemon has detached (or, in the foreground, is ready), its
 * warnings and errors go to stderr too, as ntpd's do: a start that fails
 * says why on the terminal that ran it, even when /dev/log is missing.
 */
void
log_started(void)
{
	log_starting = false;
}

bool
log_enabled(int priority)
{
	return LOG_PRI(priority) <= log_level;
}

/*
 * The journal field of a pair: HELLOD_KEY, the key in capitals; a few
 * carry their unit in the name, as the journal's own fields do.
 */
static void
journal_field(char *buf, size_t len, const char *key, size_t klen,
    const char *value, size_t vlen)
{
	size_t	 i, used;
	double	 secs;

	if (klen == 8 && memcmp(key, "duration", 8) == 0) {
		secs = strtod(value, NULL);
		snprintf(buf, len, "HELLOD_DURATION_USEC=%.0f", secs * 1e6);
		return;
	}
	if ((klen == 2 && memcmp(key, "in", 2) == 0) ||
	    (klen == 3 && memcmp(key, "out", 3) == 0)) {
		snprintf(buf, len, "HELLOD_BYTES_%s=%.*s", klen == 2 ? "IN" :
		    "OUT", (int)vlen, value);
		return;
	}
	used = strlcpy(buf, "HELLOD_", len);
	for (i = 0; i < klen && used + 1 < len; i++)
		buf[used++] = (char)toupper((unsigned char)key[i]);
	snprintf(buf + used, len - used, "=%.*s", (int)vlen, value);
}

/* The free room for the next field, or NULL when the fields are all taken. */
static char *
jfields_room(struct log_fields *j, size_t *len)
{
	if (j->n == LOG_FIELDS || j->used >= sizeof(j->buf))
		return NULL;
	*len = sizeof(j->buf) - j->used;
	return j->buf + j->used;
}

/* The field just written at jfields_room() becomes the next one. */
static void
jfields_take(struct log_fields *j)
{
	char	*f = j->buf + j->used;
	size_t	 len = strnlen(f, sizeof(j->buf) - j->used - 1);

	j->iov[j->n].iov_base = f;
	j->iov[j->n++].iov_len = len;
	j->used += len + 1;
}

static void __attribute__((format(printf, 2, 3)))
jfields_add(struct log_fields *j, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 len;
	char	*f;

	if ((f = jfields_room(j, &len)) == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(f, len, fmt, ap);
	va_end(ap);
	jfields_take(j);
}

/* The pairs after "WHO: EVENT": a field each (a quoted value without its quotes). */
static void
journal_pairs(struct log_fields *j, const char *p)
{
	const char	*k, *v;
	size_t		 klen, vlen, len;
	char		*f;

	while (*p == ' ') {
		k = ++p;
		klen = strcspn(k, "= ");
		if (k[klen] != '=')
			break;
		v = k + klen + 1;
		if (*v == '"') {
			for (p = ++v; *p != '\0' && *p != '"'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			vlen = (size_t)(p - v);
			if (*p == '"')
				p++;
		} else {
			vlen = strcspn(v, " ");
			p = v + vlen;
		}
		if ((f = jfields_room(j, &len)) == NULL)
			break;
		journal_field(f, len, k, klen, v, vlen);
		jfields_take(j);
	}
}

void
log_fields(struct log_fields *j, int priority, long pid, const char *line)
{
	const char	*p, *who_end;

	j->used = j->n = 0;
	jfields_add(j, "MESSAGE=%s", line);
	jfields_add(j, "PRIORITY=%d", LOG_PRI(priority));
	jfields_add(j, "SYSLOG_FACILITY=%d", log_facility >> 3);
	jfields_add(j, "SYSLOG_IDENTIFIER=hellod");
	jfields_add(j, "SYSLOG_PID=%ld", pid);
	/*
	 * "WHO: EVENT ...": the first colon and the first space are those
	 * after WHO ("FILE:LINE: message" has one colon before).
	 */
	if ((who_end = strstr(line, ": ")) != NULL &&
	    strcspn(line, ": ") == (size_t)(who_end - line)) {
		if ((size_t)(who_end - line) != 6 || memcmp(line, "hellod", 6) != 0)
			jfields_add(j, "HELLOD_SERVICE=%.*s", (int)(who_end - line), line);
		p = who_end + 2;
		jfields_add(j, "HELLOD_EVENT=%.*s", (int)strcspn(p, " "), p);
		journal_pairs(j, p + strcspn(p, " "));
	}
}

#ifdef HAVE_SYSTEMD
/*
 * The parent's own pages (util_parent_calloc): every fork write-protects
 * the pages a process has, and a buffer on the stack would cost the
 * parent a copy-on-write fault per page at the next line after each fork.
 * One made before the daemon detaches goes with it (util_parent_defer).
 */
static struct log_fields *
jfields_get(void)
{
	static struct log_fields *j;

	if (j == NULL)
		j = util_parent_calloc(1, sizeof(*j));
	return j;
}

/* A line to the journal, as log_fields() makes it an entry. */
static void
journal_line(int priority, long pid, const char *line)
{
	const struct sdlib *sd = sdlib_get();
	struct log_fields *j;

	if (sd == NULL || (j = jfields_get()) == NULL) {
		syslog(priority, "%s", line);
		return;
	}
	log_fields(j, priority, pid, line);
	/* No journal to be had (no journald here): syslog still takes the line. */
	if (sd->journal_sendv(j->iov, (int)j->n) < 0)
		syslog(priority, "%s", line);
}
#endif

void
log_journal_line(int priority, long pid, const char *line)
{
#ifdef HAVE_SYSTEMD
	journal_line(priority, pid, line);
#else
	(void)pid;
	syslog(priority, "%s", line);
#endif
}

/*
 * The copy of a line to stderr, in one write: dprintf() costs an fstat,
 * an ioctl and an lseek more, per line (2000 of them to say where 1000
 * services listen).
 */
static void
log_stderr_line(const char *line)
{
	char	 buf[LOG_LINE_MAX + 32];
	size_t	 len, off = 0;
	ssize_t	 w;
	int	 n;

	n = snprintf(buf, sizeof(buf), "hellod[%ld]: %s\n", (long)getpid(), line);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	buf[len - 1] = '\n';
	while (off < len && ((w = write(STDERR_FILENO, buf + off, len - off)) > 0 ||
	    (w == -1 && errno == EINTR)))
		off += w > 0 ? (size_t)w : 0;
}

/* A finished line: to stderr too with -e (errors while starting), then to syslog or the journal. */
static void
log_line(int priority, const char *line)
{
	if (log_stderr || (log_starting && LOG_PRI(priority) <= LOG_WARNING &&
	    !log_stderr_is_journal()))
		log_stderr_line(line);
	if (!log_to_journal)
		syslog(priority, "%s", line);
	else if (log_divert != NULL)
		log_divert(priority, line);
	else
		log_journal_line(priority, (long)getpid(), line);
}

static void
log_vmsg(int priority, const char *fmt, va_list ap)
{
	char	 buf[LOG_LINE_MAX];
	int	 saved = errno;

	if (!log_enabled(priority))
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_line(priority, buf);
	errno = saved;
}

static void log_msg(int, const char *, ...) __attribute__((format(printf, 2, 3)));

static void
log_msg(int priority, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(priority, fmt, ap);
	va_end(ap);
}

#define LOG_FN(fn, prio)				\
void							\
fn(const char *fmt, ...)				\
{							\
	va_list	 ap;					\
							\
	va_start(ap, fmt);				\
	log_vmsg(prio, fmt, ap);			\
	va_end(ap);					\
}

LOG_FN(log_debug, LOG_DEBUG)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_notice, LOG_NOTICE)
LOG_FN(log_warnx, LOG_WARNING)
LOG_FN(log_errx, LOG_ERR)

/* Append error="strerror(errno)" to the line, ntpd's log_warn in pairs. */
static void
log_vmsg_errno(int priority, const char *fmt, va_list ap)
{
	char	 buf[LOG_LINE_MAX];
	int	 saved = errno;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_msg(priority, "%s error=\"%s\"", buf, strerror(saved));
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg_errno(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_err(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg_errno(LOG_ERR, fmt, ap);
	va_end(ap);
}

/*
 * Bytes from the network never reach a log line raw: control characters,
 * newlines, backslashes, double quotes (so that a client cannot end a
 * quoted field early) and non-ASCII bytes come out as C-style or octal
 * escapes, and at most LOG_VIS_MAX input bytes are shown.
 */
char *
log_vis(char *dst, size_t dstlen, const void *src, size_t len)
{
	const unsigned char *p = src;
	size_t	 i, used = 0;
	char	 one[5];
	bool	 cut = false;

	if (dstlen == 0)
		return dst;
	if (len > LOG_VIS_MAX) {
		len = LOG_VIS_MAX;
		cut = true;
	}
	for (i = 0; i < len; i++) {
		size_t n;

		vis(one, p[i], VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_OCTAL | VIS_DQ,
		    i + 1 < len ? p[i + 1] : '\0');
		n = strlen(one);
		if (used + n + 4 > dstlen) {
			cut = true;
			break;
		}
		memcpy(dst + used, one, n);
		used += n;
	}
	dst[used] = '\0';
	if (cut && used + 4 <= dstlen)
		strlcat(dst, "...", dstlen);
	return dst;
}

const char *
log_quote(char *buf, size_t len, const char *s)
{
	char	 vis[LOG_LINE_MAX];

	if (*s != '\0' && strcspn(s, " \t\"\\=") == strlen(s) &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.:/-[]*,+@%") == strlen(s)) {
		strlcpy(buf, s, len);
		return buf;
	}
	strnvis(vis, s, sizeof(vis), VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_OCTAL |
	    VIS_DQ);
	snprintf(buf, len, "\"%s\"", vis);
	return buf;
}

const char *
log_q(const char *s)
{
	static char	 slot[LOG_Q_SLOTS][LOG_Q_MAX];
	static unsigned	 next;
	char		*buf = slot[next++ % LOG_Q_SLOTS];
	size_t		 n;

	log_quote(buf, LOG_Q_MAX, s);
	if ((n = strlen(buf)) == LOG_Q_MAX - 1 && buf[0] == '"')
		memcpy(buf + n - 4, "...\"", 5);
	return buf;
}

int
log_facility_from_name(const char *name)
{
	size_t	 i;

	for (i = 0; i < NELEM(facilities); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].value;
	return -1;
}

int
log_level_from_name(const char *name)
{
	size_t	 i;

	for (i = 0; i < NELEM(levels); i++)
		if (strcasecmp(name, levels[i].name) == 0)
			return levels[i].value;
	return -1;
}
