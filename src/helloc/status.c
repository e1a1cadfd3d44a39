/* helloc --status: the daemon's live counters from its control socket, as a table or JSON. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helloc.h"

/* The longest answer taken: the status of some thousands of services. */
#define STATUS_MAX	(4 * 1024 * 1024)
#define STATUS_COLS	11

/* Say why the control socket at path cannot be had, in words for an administrator. */
static void
control_error(const char *path, int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		fprintf(stderr, "helloc: %s: no control socket there (is hellod "
		    "running, with control = %s in [global]?)\n", path, path);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr, "helloc: %s: permission denied (the socket is "
		    "mode 0660: run as root, or as the daemon's user or a member "
		    "of its group)\n", path);
		break;
	case ECONNREFUSED:
		fprintf(stderr, "helloc: %s: nobody answers there (hellod is "
		    "not running?)\n", path);
		break;
	default:
		fprintf(stderr, "helloc: %s: %s\n", path, strerror(err));
	}
}

static int
control_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int	 fd;

	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		control_error(path, ENAMETOOLONG);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		control_error(path, errno);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		control_error(path, errno);
		close(fd);
		return -1;
	}
	return fd;
}

/* True when buf holds a whole answer: one line of JSON, or text ending with an empty line. */
static bool
answer_complete(const char *buf, size_t len, bool json)
{
	if (json)
		return len > 0 && buf[len - 1] == '\n';
	return len >= 2 && buf[len - 1] == '\n' && buf[len - 2] == '\n';
}

/*
 * Ask the daemon at path for its status (as JSON or text) and read the
 * answer into a string of the caller's; NULL after saying why.
 */
static char *
control_ask(const char *path, bool json, int timeout_ms)
{
	const char *cmd = json ? "status json\n" : "status\n";
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = control_connect(path)) == -1)
		return NULL;
	if (hc_send_all(fd, cmd, strlen(cmd)) == -1)
		goto fail;
	while (!answer_complete(buf, len, json)) {
		if (len + 4096 + 1 > cap) {
			cap = cap == 0 ? 16384 : cap * 2;
			if (cap > STATUS_MAX || (nbuf = realloc(buf, cap)) == NULL) {
				errno = EFBIG;
				goto fail;
			}
			buf = nbuf;
		}
		if (hc_wait(fd, POLLIN, timeout_ms) <= 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if ((n = read(fd, buf + len, cap - len - 1)) <= 0) {
			errno = n == 0 ? ECONNRESET : errno;
			goto fail;
		}
		len += (size_t)n;
		buf[len] = '\0';
	}
	close(fd);
	return buf;
fail:
	control_error(path, errno);
	close(fd);
	free(buf);
	return NULL;
}

/*
 * The value of key in a status line ("hello: status key=value ..."),
 * unquoted and unescaped into out; "" when absent.
 */
const char *
status_value(const char *line, const char *key, char *out, size_t len)
{
	size_t	 klen = strlen(key), used = 0;
	const char *p = line;

	out[0] = '\0';
	while ((p = strchr(p, ' ')) != NULL) {
		p++;
		if (strncmp(p, key, klen) != 0 || p[klen] != '=')
			continue;
		p += klen + 1;
		if (*p != '"') {
			snprintf(out, len, "%.*s", (int)strcspn(p, " \n"), p);
			return out;
		}
		for (p++; *p != '\0' && *p != '"' && used + 1 < len; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			out[used++] = *p;
		}
		out[used] = '\0';
		return out;
	}
	return out;
}

/* The refusals of a service line by reason, "deny=1,per_source=2", or "-". */
static void
refusals(const char *line, char *out, size_t len)
{
	const char *p = line, *eq;
	size_t	 used = 0;

	strlcpy(out, "-", len);
	while ((p = strstr(p, " refused_")) != NULL && used < len) {
		p += strlen(" refused_");
		eq = p + strcspn(p, "= \n");
		if (*eq != '=' || strtoull(eq + 1, NULL, 10) == 0)
			continue;
		used += (size_t)snprintf(out + used, len - used, "%s%.*s",
		    used > 0 ? "," : "", (int)strcspn(p, " \n"), p);
	}
}

/* A table of rows of STATUS_COLS cells, the first row the heading. */
struct table {
	char	(*cell)[STATUS_COLS][128];
	size_t	 rows;
};

static const char *const headings[STATUS_COLS] = {
	"SERVICE", "PROTO", "ENABLED", "ACTIVE", "ACCEPTED", "DGRAMS_IN",
	"DGRAMS_OUT", "BYTES_IN", "BYTES_OUT", "REFUSED", "REFUSED_BY"
};
static const char *const keys[STATUS_COLS] = {
	NULL, "protocols", "enabled", "active", "accepted", "datagrams_in",
	"datagrams_out", "bytes_in", "bytes_out", "refused", NULL
};

/* One service's status line as a row. */
static void
table_row(char (*row)[128], const char *line)
{
	size_t	 i;

	snprintf(row[0], sizeof(row[0]), "%.*s", (int)strcspn(line, ":"), line);
	for (i = 1; i < STATUS_COLS - 1; i++)
		status_value(line, keys[i], row[i], sizeof(row[i]));
	refusals(line, row[STATUS_COLS - 1], sizeof(row[0]));
}

/* Print t aligned: text columns to the left, counts to the right. */
static void
table_print(const struct table *t)
{
	size_t	 w[STATUS_COLS] = { 0 }, r, c, n;

	for (r = 0; r < t->rows; r++)
		for (c = 0; c < STATUS_COLS; c++)
			if ((n = strlen(t->cell[r][c])) > w[c])
				w[c] = n;
	for (r = 0; r < t->rows; r++) {
		for (c = 0; c < STATUS_COLS; c++) {
			bool left = c < 3 || c == STATUS_COLS - 1;
			const char *sep = c + 1 < STATUS_COLS ? "  " : "\n";

			if (c + 1 == STATUS_COLS)
				printf("%s%s", t->cell[r][c], sep);
			else
				printf(left ? "%-*s%s" : "%*s%s", (int)w[c],
				    t->cell[r][c], sep);
		}
	}
}

/* The daemon's line, in words: "hellod 0.1.0, pid 812, up 3600.2 s, ...". */
static void
print_daemon(const char *line)
{
	char	 v[7][512];

	status_value(line, "version", v[0], sizeof(v[0]));
	status_value(line, "pid", v[1], sizeof(v[1]));
	status_value(line, "uptime", v[2], sizeof(v[2]));
	status_value(line, "children", v[3], sizeof(v[3]));
	status_value(line, "config", v[4], sizeof(v[4]));
	status_value(line, "loaded", v[5], sizeof(v[5]));
	status_value(line, "reload", v[6], sizeof(v[6]));
	printf("hellod %s, pid %s, up %s s, %s children\n", v[0], v[1], v[2], v[3]);
	printf("config %s, loaded %s, last reload: %s\n\n", v[4], v[5], v[6]);
}

/* The text status as the daemon line and an aligned table; -1 when it is not one. */
int
status_print(char *text)
{
	struct table t = { 0 };
	char	*line, *rest = text;
	size_t	 lines = 1, c;
	bool	 daemon = false;

	for (line = text; (line = strchr(line, '\n')) != NULL; line++)
		lines++;
	if ((t.cell = calloc(lines + 1, sizeof(*t.cell))) == NULL)
		return -1;
	for (c = 0; c < STATUS_COLS; c++)
		strlcpy(t.cell[0][c], headings[c], sizeof(t.cell[0][c]));
	t.rows = 1;
	while ((line = strsep(&rest, "\n")) != NULL && *line != '\0') {
		if (strncmp(line, "hellod: status ", 15) == 0 && !daemon) {
			print_daemon(line);
			daemon = true;
		} else if (strstr(line, ": status ") != NULL)
			table_row(t.cell[t.rows++], line);
	}
	if (daemon)
		table_print(&t);
	free(t.cell);
	return daemon ? 0 : -1;
}

int
status_run(const struct hc_opts *o)
{
	char	*answer = control_ask(o->control, o->json, o->timeout_ms);
	int	 rc = HC_OK;

	if (answer == NULL)
		return HC_FAIL;
	if (o->json)
		fputs(answer, stdout);
	else if (status_print(answer) == -1) {
		fprintf(stderr, "helloc: %s: not a status from hellod\n",
		    o->control);
		rc = HC_FAIL;
	}
	free(answer);
	if (fflush(stdout) == EOF)
		rc = HC_FAIL;
	return rc;
}
