/* libFuzzer target: the hello framing, fed in pieces the input chooses, each event checked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handler.h"

/*
 * The input is a little script of what a client sends:
 *
 *	2 bytes		max_line - 1, big-endian (so 1 ... 65536, the key's range)
 *	then records	a control byte c, then (c & 0x7f) bytes to send
 *			(fewer at the end of the input)
 *
 * After each piece, the framing hands out its complete messages as
 * hello_tcp() asks for them; when c has its high bit set, the client then
 * falls silent and the fragment timer fires (hello_frame_flush).  At the
 * end of the input the client closes: a last flush.  As in hello_tcp(),
 * a message too long ends the conversation.
 *
 * Every event is checked against the bytes sent so far: a message is the
 * next line of the stream (the empty lines before it skipped) without
 * its line ending or any CR at its end, has no LF inside, is never empty
 * and never longer than max_line; a message too long is a line longer
 * than max_line; "nothing yet" means no complete line is waiting.
 */

struct run {
	struct hello_frame	 f;
	const uint8_t		*sent;		/* every byte fed so far */
	size_t			 nsent;
	size_t			 done;		/* consumed by the framing so far */
	int			 over;		/* a message was too long */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bytes consumed so far: those fed minus those still pending. */
static size_t
consumed(const struct run *r)
{
	return r->nsent - hello_frame_pending(&r->f);
}

/*
 * The line starting at p (n bytes at most): its length without its line
 * ending (the LF, and one CR before it or at the end of a fragment),
 * which max_line bounds; *complete when it has its LF.
 */
static size_t
line_len(const uint8_t *p, size_t n, int *complete)
{
	const uint8_t	*lf = memchr(p, '\n', n);
	size_t		 len = lf != NULL ? (size_t)(lf - p) : n;

	*complete = lf != NULL;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	return len;
}

/* The message of a line of len bytes at p: without the CRs at its end. */
static size_t
msg_len(const uint8_t *p, size_t len)
{
	while (len > 0 && p[len - 1] == '\r')
		len--;
	return len;
}

/* Past the empty lines (CRs, then an LF; not too long) that start at p. */
static const uint8_t *
skip_empty(const struct run *r, const uint8_t *p, const uint8_t *end)
{
	size_t	 n;
	int	 complete;

	for (;;) {
		n = line_len(p, (size_t)(end - p), &complete);
		if (!complete || n > r->f.max_line || msg_len(p, n) > 0)
			return p;
		p = (const uint8_t *)memchr(p, '\n', (size_t)(end - p)) + 1;
	}
}

/*
 * Check one event of hello_frame_next (flush 0) or hello_frame_flush
 * (flush 1), taken when r->done bytes had been consumed.
 */
static void
check(struct run *r, enum hello_event ev, const char *msg, size_t len, int flush)
{
	const uint8_t	*end = r->sent + r->nsent, *at = r->sent + consumed(r), *p;
	size_t		 n;
	int		 complete;

	p = skip_empty(r, r->sent + r->done, end);
	n = line_len(p, (size_t)(end - p), &complete);
	switch (ev) {
	case HELLO_NONE:
		/* Only empty lines went by (and, on a flush, a fragment of CRs). */
		if (flush && !complete && n <= r->f.max_line && msg_len(p, n) == 0)
			p = end;
		if (p != at || (flush && at != end))
			abort();
		/* No line is waiting, nor a fragment already too long. */
		if (complete || n > r->f.max_line)
			abort();
		break;
	case HELLO_TOO_LONG:
		/* Empty lines went by, then a line too long, complete or not. */
		if (p != at || n <= r->f.max_line)
			abort();
		r->over = 1;
		break;
	case HELLO_MESSAGE:
		if (len == 0 || len > r->f.max_line || memchr(msg, '\n', len) != NULL ||
		    msg[len - 1] == '\r')
			abort();
		/* Empty lines, then this very line, then its line ending. */
		if (n > r->f.max_line || msg_len(p, n) != len || memcmp(p, msg, len) != 0 ||
		    (!complete && !flush))
			abort();
		for (p += len; p < end && *p == '\r'; p++)
			;
		if (complete)
			p++;
		if (p != at)
			abort();
		break;
	}
	r->done = (size_t)(at - r->sent);
}

/* Hand out every message, as hello_drain() does; with flush, the fragment too. */
static void
drain(struct run *r, int flush)
{
	enum hello_event	 ev;
	const char		*msg;
	size_t			 len;

	while (!r->over) {
		msg = NULL;
		len = 0;
		ev = flush ? hello_frame_flush(&r->f, &msg, &len) :
		    hello_frame_next(&r->f, &msg, &len);
		check(r, ev, msg, len, flush);
		if (ev == HELLO_NONE)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	 r;
	uint8_t		*copy;
	size_t		 i, n;

	if (size < 2)
		return 0;
	memset(&r, 0, sizeof(r));
	hello_frame_init(&r.f, ((size_t)data[0] << 8 | data[1]) + 1);
	/* At most every byte of the input is sent. */
	if ((copy = malloc(size)) == NULL)
		return 0;
	r.sent = copy;
	for (i = 2; i < size && !r.over; ) {
		n = data[i] & 0x7f;
		if (n > size - i - 1)
			n = size - i - 1;
		memcpy(copy + r.nsent, data + i + 1, n);
		if (hello_frame_feed(&r.f, (const char *)data + i + 1, n) == -1)
			abort();
		r.nsent += n;
		drain(&r, 0);
		if (data[i] & 0x80)
			drain(&r, 1);
		i += 1 + n;
	}
	drain(&r, 1);
	hello_frame_free(&r.f);
	free(copy);
	return 0;
}
