/* fuzz_ws_frame.c - libFuzzer target for the WebSocket frame decoder: the
 * input decoded whole and in pieces of every size the first byte picks
 * gives the same MQTT bytes and the same events, the output never
 * overtakes the input, and an error or a close ends the stream. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
	uint8_t out[8192];
	size_t out_len;
	int events[64];
	int codes[64];
	int nev;
};

static void decode(const uint8_t *data, size_t size, size_t step,
		   struct result *r)
{
	struct ws_decoder d;
	uint8_t buf[8192];

	memset(&d, 0, sizeof(d));
	memset(r, 0, sizeof(*r));
	d.max_message = 1000;
	for (size_t off = 0; off < size;) {
		size_t take = size - off < step ? size - off : step, at = 0;

		memcpy(buf, data + off, take);
		off += take;
		while (at < take) {
			size_t used, out;
			int code;
			const char *why;
			enum ws_event ev = ws_unwrap(&d, buf + at, take - at,
						     &used, &out, &code, &why);

			if (used > take - at || out > used)
				abort();
			if (ev == WS_EV_ERROR &&
			    (!why ||
			     (code != 1002 && code != 1003 && code != 1009)))
				abort();
			memcpy(r->out + r->out_len, buf + at, out);
			r->out_len += out;
			at += used;
			if (ev != WS_EV_NONE && r->nev < 64) {
				r->codes[r->nev] = code;
				r->events[r->nev++] = ev;
			}
			if (ev == WS_EV_ERROR || ev == WS_EV_CLOSE)
				return;
			if (ev == WS_EV_NONE)
				break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct result whole, split;
	size_t step;

	if (size < 1 || size > 8000)
		return 0;
	step = data[0] % 16 + 1;
	decode(data + 1, size - 1, size, &whole);
	decode(data + 1, size - 1, step, &split);
	if (whole.out_len != split.out_len ||
	    memcmp(whole.out, split.out, whole.out_len) ||
	    whole.nev != split.nev ||
	    memcmp(whole.events, split.events,
		   sizeof(int) * (size_t)whole.nev) ||
	    memcmp(whole.codes, split.codes, sizeof(int) * (size_t)whole.nev))
		abort();
	return 0;
}
