/* libFuzzer target: the PROXY header parser, on any bytes, with its promises checked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

/*
 * The input: one byte choosing the versions accepted (its low two bits;
 * none means both), then the bytes a connection received.  Checked: a
 * whole header is no longer than what was read nor than its version
 * allows, parses the same on its own, and none of its beginnings is
 * already a header or an error; an error names its reason.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_ok(const uint8_t *b, size_t len, unsigned accept, const struct proxy_hdr *h)
{
	struct proxy_hdr again;
	const char	*why;

	if (h->len == 0 || h->len > len || h->len > PROXY_HDR_MAX)
		abort();
	if (h->version == 1 ? h->len > PROXY_V1_MAX : h->version != 2)
		abort();
	if (!h->local && (h->srclen == 0 || h->dstlen == 0 ||
	    h->src.ss_family != h->dst.ss_family))
		abort();
	if (proxy_parse(b, h->len, accept, &again, &why) != PROXY_OK ||
	    again.len != h->len || again.local != h->local)
		abort();
	if (proxy_parse(b, h->len - 1, accept, &again, &why) != PROXY_MORE)
		abort();
	if (proxy_parse(b, h->len / 2, accept, &again, &why) != PROXY_MORE)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr h;
	const char	*why = NULL;
	unsigned	 accept;

	if (size < 1)
		return 0;
	accept = data[0] & (PROXY_V1 | PROXY_V2);
	if (accept == 0)
		accept = PROXY_V1 | PROXY_V2;
	switch (proxy_parse(data + 1, size - 1, accept, &h, &why)) {
	case PROXY_OK:
		check_ok(data + 1, size - 1, accept, &h);
		break;
	case PROXY_BAD:
		if (why == NULL || strchr(why, ' ') != NULL)
			abort();
		break;
	case PROXY_MORE:
		if (size - 1 >= PROXY_HDR_MAX)
			abort();
		break;
	}
	return 0;
}
