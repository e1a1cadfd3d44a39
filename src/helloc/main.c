/* helloc, the companion client of hellod: options, then one of the modes. */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helloc.h"

#define MESSAGE_MAX	4096

enum mode { M_TALK, M_GET, M_BENCH, M_STATUS };

/* The modes an option belongs to. */
#define IN_TALK		(1u << M_TALK)
#define IN_GET		(1u << M_GET)
#define IN_BENCH	(1u << M_BENCH)
#define IN_STATUS	(1u << M_STATUS)
#define IN_ANY		(IN_TALK | IN_GET | IN_BENCH | IN_STATUS)

/* Options without a letter of their own. */
enum {
	OPT_GET = 256,
	OPT_BENCH,
	OPT_STATUS,
	OPT_EXPECT,
	OPT_JSON,
	OPT_CONTROL,
	OPT_CACERT,
};

/*
 * Every option, once: getopt_long's table, the checks of which mode takes
 * which option and the --help text are all made from it.  An entry with a
 * group starts a new paragraph of the help.
 */
static const struct hc_option {
	const char	*group;
	const char	*name;
	int		 val;
	const char	*arg;		/* the argument's name; NULL: none */
	unsigned	 modes;
	const char	*help;
} options[] = {
	{ "Dialogue and relay: helloc HOST PORT [MESSAGE...]",
	  "udp", 'u', NULL, IN_TALK | IN_BENCH, "UDP instead of TCP (with --bench too)" },
	{ NULL, "ipv4", '4', NULL, IN_TALK | IN_GET | IN_BENCH,
	  "IPv4 addresses only (every network mode)" },
	{ NULL, "ipv6", '6', NULL, IN_TALK | IN_GET | IN_BENCH,
	  "IPv6 addresses only (every network mode)" },
	{ NULL, "timeout", 'w', "SECONDS", IN_TALK | IN_GET | IN_BENCH | IN_STATUS,
	  "wait for a connection, a reply or more data (default 5)" },
	{ "HTTP: helloc --get URL",
	  "get", OPT_GET, NULL, IN_ANY, "fetch an http:// or https:// URL, the body to stdout" },
	{ NULL, "location", 'L', NULL, IN_GET, "follow redirects, at most 10" },
	{ NULL, "silent", 's', NULL, IN_GET, "no status line, headers or progress bar" },
	{ NULL, "insecure", 'k', NULL, IN_GET, "do not verify the server's certificate" },
	{ NULL, "cacert", OPT_CACERT, "FILE", IN_GET,
	  "trust the CA certificates in FILE, not the system's" },
	{ NULL, "output", 'o', "FILE", IN_GET, "write the body to FILE, replaced when complete" },
	{ "Load generator: helloc --bench HOST PORT",
	  "bench", OPT_BENCH, NULL, IN_ANY, "send requests and report rate, latency and failures" },
	{ NULL, "concurrency", 'c', "N", IN_BENCH,
	  "requests under way at once, 1 to 10000 (default 1)" },
	{ NULL, "count", 'n', "N", IN_BENCH, "send N requests (default 1000)" },
	{ NULL, "duration", 'd', "SECONDS", IN_BENCH, "send requests for this long instead" },
	{ NULL, "message", 'm', "TEXT", IN_BENCH, "the message of each request (default Michael)" },
	{ NULL, "expect", OPT_EXPECT, "REPLY", IN_BENCH,
	  "the reply each request must get; others are wrong" },
	{ NULL, "json", OPT_JSON, NULL, IN_BENCH | IN_STATUS,
	  "report as one JSON object (with --status too)" },
	{ "Status: helloc --status",
	  "status", OPT_STATUS, NULL, IN_ANY, "the daemon's live counters, as a table" },
	{ NULL, "control", OPT_CONTROL, "PATH", IN_STATUS,
	  "the daemon's control socket (default " HC_CONTROL ")" },
	{ "Other",
	  "help", 'h', NULL, IN_ANY, "print this help and exit" },
	{ NULL, "version", 'V', NULL, IN_ANY, "print the version and exit" },
};
#define NOPTIONS	(sizeof(options) / sizeof(options[0]))
/* The options given are bits of a 32-bit mask. */
_Static_assert(NOPTIONS <= 32, "too many options for the mask of those given");

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: helloc [-u] [-4|-6] [-w SECONDS] HOST PORT [MESSAGE...]\n"
	    "       helloc --get [-L] [-s] [-k] [--cacert FILE] [-o FILE] URL\n"
	    "       helloc --bench [-u] [--json] [-c CONCURRENCY] [-n COUNT | -d SECONDS]\n"
	    "              [-m MESSAGE] [--expect REPLY] HOST PORT\n"
	    "       helloc --status [--json] [--control PATH]\n"
	    "       helloc -h | -V\n");
}

/* "-w, --timeout SECONDS" or "    --json": the option as the help shows it. */
static void
option_name(const struct hc_option *op, char *buf, size_t len)
{
	if (op->val < 256)
		snprintf(buf, len, "-%c, --%s%s%s", op->val, op->name,
		    op->arg != NULL ? " " : "", op->arg != NULL ? op->arg : "");
	else
		snprintf(buf, len, "    --%s%s%s", op->name,
		    op->arg != NULL ? " " : "", op->arg != NULL ? op->arg : "");
}

/* --help: the usage, then every option on a line of its own, mode by mode. */
static void
help(void)
{
	char name[64];
	size_t i;

	usage(stdout);
	for (i = 0; i < NOPTIONS; i++) {
		if (options[i].group != NULL)
			printf("\n%s\n", options[i].group);
		option_name(&options[i], name, sizeof(name));
		printf("  %-24s  %s\n", name, options[i].help);
	}
	printf("\nExit status: 0 success, 1 network or protocol error, 2 an HTTP "
	    "status other\nthan 2xx, 64 usage error.  See helloc(1).\n");
}

/*
 * Say what is wrong (unless msg is NULL), then the usage; returns -1 for
 * the callers to pass on.
 */
static int
usage_error(const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "helloc: %s\n", msg);
	usage(stderr);
	fprintf(stderr, "Run helloc --help for every option.\n");
	return -1;
}

/* "5", "0.5", "2.25": seconds, more than 0 and at most a day, to milliseconds. */
static int
parse_seconds(const char *s, int *ms)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return -1;
	v = strtod(s, &end);
	if (*end != '\0' || !(v > 0 && v <= 86400))
		return -1;
	*ms = (int)(v * 1000 + 0.5);
	if (*ms == 0)
		*ms = 1;
	return 0;
}

static int
parse_number(const char *s, long long max, long long *out)
{
	const char *errstr;

	*out = strtonum(s, 1, max, &errstr);
	return errstr == NULL ? 0 : -1;
}

/* The options of --bench that take a value. */
static int
parse_bench(int ch, struct hc_opts *o)
{
	long long n;
	int ms;

	switch (ch) {
	case 'c':
		if (parse_number(optarg, 10000, &n) == -1)
			return usage_error("-c: not a concurrency from 1 to 10000");
		o->concurrency = (unsigned)n;
		break;
	case 'n':
		if (parse_number(optarg, 1000000000, &n) == -1)
			return usage_error("-n: not a count from 1 to 1000000000");
		o->count = (uint64_t)n;
		break;
	case 'd':
		if (parse_seconds(optarg, &ms) == -1)
			return usage_error("-d: not a number of seconds (0 < SECONDS <= 86400)");
		o->duration_ms = (uint64_t)ms;
		break;
	default:
		if (strlen(optarg) > MESSAGE_MAX || strpbrk(optarg, "\r\n") != NULL)
			return usage_error("-m, --expect: one line of at most 4096 bytes");
		if (ch == 'm')
			o->message = optarg;
		else
			o->expect = optarg;
		break;
	}
	return 0;
}

/* Parse one option into o; 0, or -1 after a usage message. */
static int
parse_option(int ch, struct hc_opts *o, enum mode *mode)
{
	switch (ch) {
	case 'u':
		o->udp = true;
		break;
	case '4':
	case '6':
		o->family = ch == '4' ? AF_INET : AF_INET6;
		break;
	case 'w':
		if (parse_seconds(optarg, &o->timeout_ms) == -1)
			return usage_error("-w: not a number of seconds (0 < SECONDS <= 86400)");
		break;
	case OPT_GET:
	case OPT_BENCH:
	case OPT_STATUS:
		if (*mode != M_TALK)
			return usage_error("--get, --bench and --status exclude each other");
		*mode = ch == OPT_GET ? M_GET : ch == OPT_BENCH ? M_BENCH : M_STATUS;
		break;
	case 'L':
		o->location = true;
		break;
	case 's':
		o->silent = true;
		break;
	case 'k':
		o->insecure = true;
		break;
	case OPT_CACERT:
		o->cacert = optarg;
		break;
	case 'o':
		o->output = optarg;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_CONTROL:
		o->control = optarg;
		break;
	default:
		return parse_bench(ch, o);
	}
	return 0;
}

/* The modes of an option, in words: "--bench and --status". */
static void
option_modes(const struct hc_option *op, char *buf, size_t len)
{
	static const char *const where[] = {
		[M_TALK] = "the dialogue, the relay",
		[M_GET] = "--get",
		[M_BENCH] = "--bench",
		[M_STATUS] = "--status",
	};
	unsigned left = op->modes;
	int m;

	buf[0] = '\0';
	for (m = M_TALK; m <= M_STATUS; m++) {
		if (!(left & (1u << m)))
			continue;
		left &= ~(1u << m);
		if (buf[0] != '\0')
			strlcat(buf, left != 0 ? ", " : " and ", len);
		strlcat(buf, where[m], len);
	}
}

/* Every option given (bits of options[]) must belong to the mode. */
static int
check_given(enum mode mode, uint32_t given)
{
	const struct hc_option *op;
	char msg[256], modes[128];
	size_t i;

	for (i = 0; i < NOPTIONS; i++) {
		op = &options[i];
		if (!(given & (1u << i)) || op->modes & (1u << mode))
			continue;
		option_modes(op, modes, sizeof(modes));
		if (op->val < 256)
			snprintf(msg, sizeof(msg), "-%c belongs to %s", op->val, modes);
		else
			snprintf(msg, sizeof(msg), "--%s belongs to %s", op->name, modes);
		return usage_error(msg);
	}
	return 0;
}

/* The bit of an option in the mask of those given. */
static uint32_t
option_bit(int val)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (options[i].val == val)
			return 1u << i;
	return 0;
}

/*
 * A dialogue message gets one reply: an empty one gets none from hello,
 * and over TCP a CR or LF would make it several lines, hence several
 * replies, and every reply after it would be printed for the wrong one.
 */
static int
check_messages(const struct hc_opts *o)
{
	int i;

	for (i = 0; i < o->nmsgs; i++) {
		if (o->msgs[i][0] == '\0')
			return usage_error("a message may not be empty (hello does not "
			    "answer an empty message)");
		if (!o->udp && strpbrk(o->msgs[i], "\r\n") != NULL)
			return usage_error("over TCP a message is one line: no CR or LF");
	}
	return 0;
}

/* The operands must fit the mode. */
static int
check_operands(enum mode mode, struct hc_opts *o, int argc, char **argv)
{
	if (mode == M_BENCH && o->count > 0 && o->duration_ms > 0)
		return usage_error("--bench takes -n or -d, not both");
	switch (mode) {
	case M_STATUS:
		if (argc != 0)
			return usage_error("--status takes no operands");
		return 0;
	case M_GET:
		if (argc != 1)
			return usage_error("--get takes one URL");
		o->url = argv[0];
		return 0;
	case M_BENCH:
		if (argc != 2)
			return usage_error("--bench takes HOST and PORT");
		break;
	case M_TALK:
		if (argc < 2)
			return usage_error("HOST and PORT are required");
		break;
	}
	o->host = argv[0];
	o->port = argv[1];
	o->msgs = argv + 2;
	o->nmsgs = argc - 2;
	if (mode == M_TALK && check_messages(o) == -1)
		return -1;
	if (mode == M_BENCH && o->count == 0 && o->duration_ms == 0)
		o->count = 1000;
	return 0;
}

/* getopt_long's table and letters, from options[]. */
static void
getopt_tables(struct option *lo, char *shortopts)
{
	size_t i, n = 0;

	for (i = 0; i < NOPTIONS; i++) {
		lo[i] = (struct option){ options[i].name,
		    options[i].arg != NULL ? required_argument : no_argument,
		    NULL, options[i].val };
		if (options[i].val < 256) {
			shortopts[n++] = (char)options[i].val;
			if (options[i].arg != NULL)
				shortopts[n++] = ':';
		}
	}
	lo[i] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[n] = '\0';
}

int
main(int argc, char *argv[])
{
	struct hc_opts o = {
		.family = AF_UNSPEC,
		.timeout_ms = HC_TIMEOUT_MS,
		.concurrency = 1,
		.message = "Michael",
		.control = HC_CONTROL,
	};
	struct option lo[NOPTIONS + 1];
	char shortopts[2 * NOPTIONS + 1];
	uint32_t given = 0;
	enum mode mode = M_TALK;
	int ch;

	/* For strvis(3): multibyte characters of the locale are shown as they are. */
	setlocale(LC_CTYPE, "");
	hc_out_init();
	getopt_tables(lo, shortopts);
	while ((ch = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		if (ch == 'h') {
			help();
			return hc_out_flush() == 0 ? HC_OK : HC_FAIL;
		}
		if (ch == 'V') {
			printf("helloc %s\n", PACKAGE_VERSION);
			return hc_out_flush() == 0 ? HC_OK : HC_FAIL;
		}
		/* getopt_long(3) has said what is wrong with an unknown option. */
		if (ch == '?') {
			usage_error(NULL);
			return HC_USAGE;
		}
		if (parse_option(ch, &o, &mode) == -1)
			return HC_USAGE;
		given |= option_bit(ch);
	}
	if (check_given(mode, given) == -1 ||
	    check_operands(mode, &o, argc - optind, argv + optind) == -1)
		return HC_USAGE;
	switch (mode) {
	case M_GET:
		return http_get(&o);
	case M_BENCH:
		return bench_run(&o);
	case M_STATUS:
		return status_run(&o);
	default:
		return o.nmsgs > 0 ? dialogue_run(&o) : relay_run(&o);
	}
}
