/* libFuzzer target: the input as a hellod.ini, through the loader, the checks and the summary. */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/*
 * A directory of its own holds what an input may name by a relative
 * path, the same whatever directory the fuzzer runs in: the main file
 * (the input, for config_load), conf.d/ for the include glob of the
 * shipped configuration, and a quotes file.  config_load_string() takes
 * relative paths from the current directory, so it runs in there too.
 */
static char	 dir[PATH_MAX];
static char	 mainfile[PATH_MAX];
static int	 home = -1;		/* the directory to come back to */
static FILE	*devnull;

struct seen {
	unsigned	 n;
};

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_config: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
put_file(const char *name, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		die(path);
}

static void
remove_dir(void)
{
	static const char *const names[] = {
		"conf.d/extra.ini", "conf.d/notes.txt", "hellod.ini", "quotes.txt",
	};
	char	 path[PATH_MAX];
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/conf.d", dir);
	rmdir(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char	 sub[PATH_MAX + 16];

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/hellod-fuzz.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		die(dir);
	atexit(remove_dir);
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	if (mkdir(sub, 0755) == -1)
		die(sub);
	put_file("conf.d/extra.ini", "[extra]\nprotocol = tcp udp\nport = 7007\n"
	    "bind = 127.0.0.1\nhandler = echo\n");
	put_file("conf.d/notes.txt", "not a configuration\n");
	put_file("quotes.txt", "A quote.\n\nAnother quote,\non two lines.\n");
	snprintf(mainfile, sizeof(mainfile), "%s/hellod.ini", dir);
	if ((home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		die("open .");
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		die("/dev/null");
	return 0;
}

/* Every error is one line of text, safe to log: never empty, no control character. */
static void
check_error(void *arg, const char *msg)
{
	struct seen	*seen = arg;
	const char	*p;

	seen->n++;
	if (*msg == '\0')
		abort();
	for (p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

/*
 * A load said what it found: a configuration exactly when there was no
 * error, every error handed out, and the configuration coherent enough
 * to summarise and to find each service by name.
 */
static void
check_result(struct config *conf, const struct seen *seen, unsigned nerrors)
{
	char	 buf[256];
	size_t	 i;

	if (seen->n != nerrors || (conf == NULL) != (nerrors > 0))
		abort();
	if (conf == NULL)
		return;
	config_summary(conf, devnull);
	for (i = 0; i < conf->nservices; i++) {
		if (config_find(conf, conf->services[i].name) != &conf->services[i])
			abort();
		config_value(&conf->services[i], "port", buf, sizeof(buf));
	}
	config_free(conf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*conf;
	struct seen	 seen;
	unsigned	 nerrors;
	char		*text;
	FILE		*f;

	/* From memory: the text up to its first NUL, as a string. */
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (chdir(dir) == -1)
		die(dir);
	memset(&seen, 0, sizeof(seen));
	nerrors = 0;
	conf = config_load_string("fuzz.ini", text, check_error, &seen, &nerrors);
	check_result(conf, &seen, nerrors);
	if (fchdir(home) == -1)
		die("fchdir");
	free(text);

	/* From a file: every byte, NULs too, and the include glob next to it. */
	if ((f = fopen(mainfile, "w")) == NULL ||
	    (size > 0 && fwrite(data, size, 1, f) != 1) || fclose(f) != 0)
		die(mainfile);
	memset(&seen, 0, sizeof(seen));
	nerrors = 0;
	conf = config_load(mainfile, check_error, &seen, &nerrors);
	check_result(conf, &seen, nerrors);
	return 0;
}
