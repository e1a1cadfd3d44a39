/* helloc's standard output: replies one per line, escaped for a terminal, write errors caught. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vis.h>

#include "helloc.h"

static bool out_vis;

void
hc_out_init(void)
{
	/*
	 * A server's bytes could move the cursor or retitle the window of
	 * whoever reads them on a terminal; into a pipe or a file they go
	 * as they came, so that scripts see exactly what was sent.
	 */
	out_vis = isatty(1);
}

void
hc_out_error(void)
{
	fprintf(stderr, "helloc: stdout: %s\n", strerror(errno));
}

int
hc_out_flush(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == 0)
			errno = EIO;
		hc_out_error();
		return -1;
	}
	return 0;
}

int
hc_out_line(const char *p, size_t len)
{
	char *vis;

	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	errno = 0;
	if (!out_vis)
		fwrite(p, 1, len, stdout);
	else {
		/* strvisx(3) needs up to four bytes per byte, and a NUL. */
		if ((vis = reallocarray(NULL, len + 1, 4)) == NULL) {
			hc_out_error();
			return -1;
		}
		strvisx(vis, p, len, VIS_CSTYLE | VIS_OCTAL);
		fputs(vis, stdout);
		free(vis);
	}
	putchar('\n');
	return hc_out_flush();
}
