/* fuzz_ws_upgrade.c - libFuzzer target for the WebSocket upgrade request
 * parser: the end of the header block is found the same way whole and
 * split, and a request is judged in bounds, every pointer it hands back
 * inside the input and every answer built from it well formed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *data, size_t size, const char *p, size_t n)
{
	return (const uint8_t *)p >= data &&
	       (const uint8_t *)p + n <= data + size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *paths[] = {"/mqtt", "/"};
	static char *origins[] = {"https://a.example"};
	const struct ws_policy pol = {
	    paths,
	    2,
	    origins,
	    size & 1,
	    WS_PROTO_MQTT | (size & 2 ? WS_PROTO_MQTTV31 : 0),
	    4096};
	struct ws_request rq;
	size_t end = http_head_end(data, size, 0), half;
	enum ws_status st;
	char out[512];

	/* found from a midpoint (a split read: the first part had no end,
	 * scanning goes on 3 bytes before where it stopped) it is the same */
	half = size / 2 > 3 ? size / 2 - 3 : 0;
	if (end && half + 3 <= size && !http_head_end(data, half + 3, 0) &&
	    http_head_end(data, size, half) != end)
		abort();
	if (!end)
		end = size;
	st = ws_parse_upgrade(data, end, &pol, &rq);
	if (st != WS_OK) {
		if (!rq.why || !ws_build_error(out, sizeof(out), st))
			abort();
		return 0;
	}
	if (!inside(data, end, rq.path, rq.path_len) || rq.path_len == 0 ||
	    memchr(rq.path, '?', rq.path_len))
		abort();
	if (rq.query_token &&
	    !inside(data, end, rq.query_token, rq.query_token_len))
		abort();
	if (rq.cookie_token &&
	    !inside(data, end, rq.cookie_token, rq.cookie_token_len))
		abort();
	if (strlen(rq.key) != 24 ||
	    (rq.protocol != WS_PROTO_MQTT && rq.protocol != WS_PROTO_MQTTV31))
		abort();
	{
		uint8_t in[WS_ACCEPT_INPUT_LEN], h[20] = {0};
		char acc[29];

		ws_accept_input(rq.key, in);
		memcpy(h, in, sizeof(h));
		ws_accept_encode(h, acc);
		if (strlen(acc) != 28 ||
		    !ws_build_accept(out, sizeof(out), acc, rq.protocol))
			abort();
	}
	return 0;
}
