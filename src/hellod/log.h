/* The logging vocabulary: syslog, stderr with -e or while starting, strvis of network bytes. */
#ifndef HELLOD_LOG_H
#define HELLOD_LOG_H

#include <sys/uio.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

/* Open the log: ident "hellod", facility, level (LOG_DEBUG..LOG_ERR), copy to stderr or not. */
void	log_init(int facility, int level, bool to_stderr);
/* Change facility, level and where lines go, syslog or the journal (after a load or reload). */
void	log_setup(int facility, int level, bool journal);

/*
 * Every line is "WHO: EVENT KEY=VALUE ...", WHO a service's name or
 * "hellod", each VALUE a single token or quoted (log_quote), at most
 * LOG_LINE_MAX bytes; the other form is a configuration error,
 * "FILE:LINE: message".  With the journal, the pairs become fields.
 */
#define LOG_LINE_MAX	1024
#define LOG_FIELDS	24

/*
 * The journal entry of a line, its fields packed in one buffer: MESSAGE
 * (the line), PRIORITY, SYSLOG_FACILITY, SYSLOG_IDENTIFIER, SYSLOG_PID
 * (pid), and for a line of the vocabulary HELLOD_SERVICE (not for
 * "hellod"), HELLOD_EVENT and a HELLOD_KEY per pair (a quoted value
 * without its quotes; duration as HELLOD_DURATION_USEC, in and out as
 * HELLOD_BYTES_IN and HELLOD_BYTES_OUT), LOG_FIELDS at most.
 */
struct log_fields {
	char		 buf[2 * LOG_LINE_MAX + LOG_FIELDS * 64];
	size_t		 used;
	struct iovec	 iov[LOG_FIELDS];
	size_t		 n;
};
void	log_fields(struct log_fields *f, int priority, long pid, const char *line);

/* s as a value: as it is when a single token of plain characters, else quoted with escapes. */
const char *log_quote(char *buf, size_t len, const char *s);
/*
 * The same into one of LOG_Q_SLOTS static buffers in turn, for the
 * arguments of one log call (paths, names, messages): at most LOG_Q_MAX
 * bytes each, cut with "..." beyond.
 */
#define LOG_Q_SLOTS	4
#define LOG_Q_MAX	256
const char *log_q(const char *s);

/*
 * With the journal: a line a child logged (pid), forwarded by the parent
 * with its fields (a child has no journal socket of its own).
 */
void	log_journal_line(int priority, long pid, const char *line);

/* In a child: hand lines for the journal to fn (the parent) instead. */
void	log_divert_to(void (*fn)(int priority, const char *line));
/* In a forked child: drop the parent's syslog socket; the next line opens one lazily. */
void	log_reopen(void);
/*
 * Start-up is over (detached, or ready in the foreground): from now on only
 * -e copies lines to stderr.  Until then warnings and errors go there too,
 * unless stderr is the journal, which receives the syslog lines already.
 */
void	log_started(void);
/* True when stderr is systemd's stream into the journal (JOURNAL_STREAM). */
bool	log_stderr_is_journal(void);

void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn and log_err append error="strerror(errno)"; the x forms do not. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True when a message at priority would be written. */
bool	log_enabled(int priority);

/*
 * Make len bytes from the network safe for a log line: strvis-encoded
 * (VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_OCTAL | VIS_DQ: a double quote
 * comes out as \\"), cut to fit dstlen with "..."
 * appended when cut, always NUL-terminated.  Returns dst.
 */
#define LOG_VIS_MAX	128
char	*log_vis(char *dst, size_t dstlen, const void *src, size_t len);

/* Map names to syslog values; return -1 for an unknown name. */
int	log_facility_from_name(const char *name);
int	log_level_from_name(const char *name);

#endif
