/* fuzz_mqtt.c - libFuzzer target for the MQTT codec: the framer over the
 * input in uneven chunks, the fixed header, the CONNECT parser, and for a
 * CONNECT that parses, the username rewrite, which must parse again with
 * the same client id and the new username. */
#include <stdlib.h>
#include <string.h>

#include "codec/mqtt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mqtt_framer f;
	struct mqtt_connect c, c2;
	uint8_t tf;
	uint32_t rem;
	size_t hl, i = 0, step = 1;
	static uint8_t out[1 << 17];
	size_t on;

	mqtt_framer_init(&f);
	while (i < size) {
		size_t k = step < size - i ? step : size - i;

		if (mqtt_framer_feed(&f, data + i, k, 1 << 20) < 0)
			break;
		i += k;
		step = step * 3 % 17 + 1;
	}
	mqtt_fixed_header(data, size, &tf, &rem, &hl);
	if (mqtt_parse_connect(data, size, &c) != 0)
		return 0;
	if (size + 64 > sizeof(out))
		return 0;
	if (mqtt_rewrite_username(data, size, &c, "fuzz-user", 9, out,
				  sizeof(out), &on) != 0)
		abort();
	if (mqtt_parse_connect(out, on, &c2) != 0)
		abort();
	if (c2.client_id.len != c.client_id.len ||
	    memcmp(c2.client_id.p, c.client_id.p, c.client_id.len) ||
	    c2.username.len != 9 || memcmp(c2.username.p, "fuzz-user", 9))
		abort();
	return 0;
}
