/* hellod: options, then calls; everything else lives in the library the tests link. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "identity.h"
#include "listener.h"
#include "log.h"
#include "objects.h"
#include "server.h"
#include "util.h"

#define DEFAULT_CONFIG	SYSCONFDIR "/hellod/hellod.ini"

extern char **environ;

/*
 * Libraries no child runs, their pages the daemon's alone
 * (objects_parent_named): inih reads the configuration, which the daemon
 * alone does; libmd came with libbsd, for digests hellod never makes.
 */
static const char *const parent_objects[] = { "libinih.so", "libmd.so", NULL };

static const struct option longopts[] = {
	{ "config",	required_argument,	NULL, 'c' },
	{ "foreground",	no_argument,		NULL, 'f' },
	{ "stderr",	no_argument,		NULL, 'e' },
	{ "debug",	no_argument,		NULL, 'd' },
	{ "check",	no_argument,		NULL, 't' },
	{ "pidfile",	required_argument,	NULL, 'p' },
	{ "version",	no_argument,		NULL, 'V' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: hellod [-c FILE] [-f] [-e] [-d] [-t] [-p PIDFILE] [-V] [-h]\n"
	    "  -c, --config FILE     configuration file (default: %s)\n"
	    "  -f, --foreground      do not detach\n"
	    "  -e, --stderr          also copy every log line to stderr\n"
	    "  -d, --debug           log at debug level\n"
	    "  -t, --check           check the configuration, print a summary, exit\n"
	    "  -p, --pidfile FILE    pidfile (overrides [global] pidfile)\n"
	    "  -V, --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n",
	    DEFAULT_CONFIG);
}

/*
 * The daemon changes to / when it detaches, and relative include and qotd
 * paths are taken from the config file's directory: keep its path absolute
 * so that a reload reads the same files.
 */
static char *
absolute_path(const char *path)
{
	char	 cwd[4096], *abs;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return strdup(path);
	if (asprintf(&abs, "%s/%s", cwd, path) == -1)
		return NULL;
	return abs;
}

struct errsink {
	bool	 to_syslog;
};

/*
 * Configuration errors go to stderr as FILE:LINE: message, and to syslog
 * when starting; once only when stderr is the journal that syslog reaches.
 */
static void
print_error(void *arg, const char *msg)
{
	const struct errsink *sink = arg;

	if (!sink->to_syslog || !log_stderr_is_journal())
		fprintf(stderr, "%s\n", msg);
	if (sink->to_syslog)
		syslog(LOG_ERR, "%s", msg);
}

static int
check_only(struct config *conf, const char *path)
{
	/* Under the unit, -t runs as the daemon's user: say what it could not do. */
	if (identity_check(conf) > 0) {
		config_free(conf);
		return EX_CONFIG;
	}
	/*
	 * A port taken is a warning: it may be this daemon's own.  As the
	 * unit's ExecReload= (MAINPID set), it is: say nothing then.
	 */
	if (getenv("MAINPID") == NULL)
		listener_probe(conf, stderr);
	printf("configuration OK: %s\n", path);
	config_summary(conf, stdout);
	config_free(conf);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}

int
main(int argc, char *argv[])
{
	struct server_opts opts = { .config_path = NULL };
	struct errsink	 sink = { .to_syslog = true };
	struct config	*conf;
	char		*config_path = NULL, *pidfile = NULL, *abs_path = NULL;
	bool		 check = false;
	unsigned	 nerr = 0;
	int		 ch, rc;

	objects_start();

	while ((ch = getopt_long(argc, argv, "c:fedtp:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			free(config_path);
			config_path = strdup(optarg);
			break;
		case 'f':
			opts.foreground = true;
			break;
		case 'e':
			opts.to_stderr = true;
			break;
		case 'd':
			opts.debug = true;
			break;
		case 't':
			check = true;
			break;
		case 'p':
			free(pidfile);
			pidfile = strdup(optarg);
			break;
		case 'V':
			printf("hellod %s\n", PACKAGE_VERSION);
			return EX_OK;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "hellod: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	/* Option values are copied: setproctitle will reuse argv's memory. */
	setproctitle_init(argc, argv, environ);
	opts.config_path = config_path != NULL ? config_path : DEFAULT_CONFIG;
	opts.pidfile = pidfile;
	sink.to_syslog = !check;
	log_init(LOG_DAEMON, opts.debug ? LOG_DEBUG : LOG_INFO, opts.to_stderr);

	conf = config_load(opts.config_path, print_error, &sink, &nerr);
	if (conf == NULL) {
		char	 msg[512];

		snprintf(msg, sizeof(msg), "%s: %u error%s, configuration not "
		    "loaded", opts.config_path, nerr, nerr == 1 ? "" : "s");
		/* In the journal, after the errors: by the same way as they. */
		if (sink.to_syslog && log_stderr_is_journal())
			syslog(LOG_ERR, "%s", msg);
		else
			fprintf(stderr, "hellod: %s\n", msg);
		rc = EX_CONFIG;
	} else if (check)
		rc = check_only(conf, opts.config_path);
	else if ((abs_path = absolute_path(opts.config_path)) == NULL) {
		perror("hellod");
		config_free(conf);
		rc = EX_OSERR;
	} else {
		/* Messages name the file as given; reloads read it from anywhere. */
		opts.config_path = abs_path;
		/* What the daemon's own pages hold from here on goes with it when it detaches. */
		util_parent_defer();
		objects_parent_named(parent_objects);
		util_nofile_raise();
		log_setup(conf->global.facility,
		    opts.debug ? LOG_DEBUG : conf->global.log_level,
		    conf->global.journal);
		rc = server_run(conf, &opts);
	}
	free(abs_path);
	free(config_path);
	free(pidfile);
	return rc;
}
