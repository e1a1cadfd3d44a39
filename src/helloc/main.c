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

/* Which options each mode accepts; anything else is a usage error. */
#define O_TALK		0x001	/* -u -4 -6 -w */
#define O_OUTPUT	0x002	/* -o */
#define O_BENCH		0x004	/* -c -n -d -m --expect */
#define O_JSON		0x008
#define O_CONTROL	0x010
#define O_GET		0x020	/* -L -s -k --cacert */

static const struct option longopts[] = {
	{ "udp",		no_argument,		NULL, 'u' },
	{ "ipv4",		no_argument,		NULL, '4' },
	{ "ipv6",		no_argument,		NULL, '6' },
	{ "timeout",		required_argument,	NULL, 'w' },
	{ "get",		no_argument,		NULL, 'G' },
	{ "output",		required_argument,	NULL, 'o' },
	{ "location",		no_argument,		NULL, 'L' },
	{ "silent",		no_argument,		NULL, 's' },
	{ "insecure",		no_argument,		NULL, 'k' },
	{ "cacert",		required_argument,	NULL, 'A' },
	{ "bench",		no_argument,		NULL, 'B' },
	{ "concurrency",	required_argument,	NULL, 'c' },
	{ "count",		required_argument,	NULL, 'n' },
	{ "duration",		required_argument,	NULL, 'd' },
	{ "message",		required_argument,	NULL, 'm' },
	{ "expect",		required_argument,	NULL, 'E' },
	{ "json",		no_argument,		NULL, 'J' },
	{ "status",		no_argument,		NULL, 'S' },
	{ "control",		required_argument,	NULL, 'C' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: helloc [-u] [-4|-6] [-w SECONDS] HOST PORT [MESSAGE...]\n"
	    "       helloc --get [-L] [-s] [-k] [--cacert FILE] [-4|-6] [-w SECONDS]\n"
	    "              [-o FILE] URL\n"
	    "       helloc --bench [-u] [-4|-6] [-w SECONDS] [-c CONCURRENCY]\n"
	    "              [-n COUNT | -d SECONDS] [-m MESSAGE] [--expect REPLY]\n"
	    "              [--json] HOST PORT\n"
	    "       helloc --status [--json] [--control PATH]   (not supported yet)\n"
	    "       helloc -h | -V\n");
}

/* Say what is wrong, then the usage; returns -1 for the callers to pass on. */
static int
usage_error(const char *msg)
{
	fprintf(stderr, "helloc: %s\n", msg);
	usage(stderr);
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

/* Parse one option into o; 0, or -1 after a usage message. */
static int
parse_option(int ch, struct hc_opts *o, enum mode *mode, unsigned *given)
{
	long long n;
	int ms;

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
	case 'G':
	case 'B':
	case 'S':
		if (*mode != M_TALK)
			return usage_error("--get, --bench and --status exclude each other");
		*mode = ch == 'G' ? M_GET : ch == 'B' ? M_BENCH : M_STATUS;
		break;
	case 'o':
		o->output = optarg;
		*given |= O_OUTPUT;
		break;
	case 'L':
	case 's':
	case 'k':
		if (ch == 'L')
			o->location = true;
		else if (ch == 's')
			o->silent = true;
		else
			o->insecure = true;
		*given |= O_GET;
		break;
	case 'A':
		o->cacert = optarg;
		*given |= O_GET;
		break;
	case 'c':
		if (parse_number(optarg, 10000, &n) == -1)
			return usage_error("-c: not a concurrency from 1 to 10000");
		o->concurrency = (unsigned)n;
		*given |= O_BENCH;
		break;
	case 'n':
		if (parse_number(optarg, 1000000000, &n) == -1)
			return usage_error("-n: not a count from 1 to 1000000000");
		o->count = (uint64_t)n;
		*given |= O_BENCH;
		break;
	case 'd':
		if (parse_seconds(optarg, &ms) == -1)
			return usage_error("-d: not a number of seconds (0 < SECONDS <= 86400)");
		o->duration_ms = (uint64_t)ms;
		*given |= O_BENCH;
		break;
	case 'm':
	case 'E':
		if (strlen(optarg) > MESSAGE_MAX || strpbrk(optarg, "\r\n") != NULL)
			return usage_error("-m, --expect: one line of at most 4096 bytes");
		if (ch == 'm')
			o->message = optarg;
		else
			o->expect = optarg;
		*given |= O_BENCH;
		break;
	case 'J':
		o->json = true;
		*given |= O_JSON;
		break;
	case 'C':
		*given |= O_CONTROL;
		break;
	default:
		usage(stderr);
		return -1;
	}
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

/* The options given must belong to the mode, and the operands must fit it. */
static int
check_mode(enum mode mode, struct hc_opts *o, unsigned given, int argc, char **argv)
{
	static const unsigned allowed[] = {
		[M_TALK] = 0,
		[M_GET] = O_OUTPUT | O_GET,
		[M_BENCH] = O_BENCH | O_JSON,
		[M_STATUS] = O_JSON | O_CONTROL,
	};

	given &= ~allowed[mode];
	if (given & O_OUTPUT)
		return usage_error("-o belongs to --get");
	if (given & O_GET)
		return usage_error("-L, -s, -k and --cacert belong to --get");
	if (given & O_BENCH)
		return usage_error("-c, -n, -d, -m and --expect belong to --bench");
	if (given & O_JSON)
		return usage_error("--json belongs to --bench and --status");
	if (given & O_CONTROL)
		return usage_error("--control belongs to --status");
	if (mode == M_GET && o->udp)
		return usage_error("--get is HTTP over TCP: -u does not apply");
	if (mode == M_BENCH && o->count > 0 && o->duration_ms > 0)
		return usage_error("--bench takes -n or -d, not both");
	switch (mode) {
	case M_STATUS:
		return usage_error("--status is not supported yet by this version of helloc");
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

int
main(int argc, char *argv[])
{
	struct hc_opts o = {
		.family = AF_UNSPEC,
		.timeout_ms = HC_TIMEOUT_MS,
		.concurrency = 1,
		.message = "Michael",
	};
	enum mode mode = M_TALK;
	unsigned given = 0;
	int ch;

	/* For strvis(3): multibyte characters of the locale are shown as they are. */
	setlocale(LC_CTYPE, "");
	hc_out_init();
	while ((ch = getopt_long(argc, argv, "46uw:o:Lskc:n:d:m:hV", longopts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return HC_OK;
		}
		if (ch == 'V') {
			printf("helloc %s\n", PACKAGE_VERSION);
			return HC_OK;
		}
		if (parse_option(ch, &o, &mode, &given) == -1)
			return HC_USAGE;
	}
	if (check_mode(mode, &o, given, argc - optind, argv + optind) == -1)
		return HC_USAGE;
	switch (mode) {
	case M_GET:
		return http_get(&o);
	case M_BENCH:
		return bench_run(&o);
	default:
		return o.nmsgs > 0 ? dialogue_run(&o) : relay_run(&o);
	}
}
