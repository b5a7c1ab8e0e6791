/* fuzz_mqtt.c - libFuzzer target for the MQTT codec: the framer over the
 * input in uneven chunks, the fixed header, the PUBLISH parser (whole and
 * cut short, v3 and v5: every field inside the input) and the SUBSCRIBE
 * filter walk, the CONNECT parser, and for a CONNECT that parses, the
 * username rewrite, which must parse again with the same client id and
 * the new username. */
#include <stdlib.h>
#include <string.h>

#include "codec/mqtt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *p, size_t n, const uint8_t *d, size_t size)
{
	if (n && (p < d || p + n > d + size))
		abort();
}

static int count_filter(struct mqtt_bytes f, void *arg)
{
	(void)f;
	return ++*(int *)arg > 1000 ? -1 : 0;
}

static void publish_and_filters(const uint8_t *data, size_t size)
{
	struct mqtt_publish pb;
	uint16_t pid;
	int n = 0;

	for (uint8_t v = 4; v <= 5; v++) {
		if (mqtt_parse_publish(data, size, v, &pb) == 0) {
			inside(pb.topic.p, pb.topic.len, data, size);
			inside(pb.response_topic.p, pb.response_topic.len, data,
			       size);
			inside(pb.correlation.p, pb.correlation.len, data, size);
			inside(pb.payload, pb.payload_len, data, size);
			if (pb.qos > 2 || (pb.qos && !pb.packet_id))
				abort();
		}
		if (mqtt_filters_each(data, size, v, &pid, count_filter, &n) >
		    0 && !pid)
			abort();
	}
}

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
	publish_and_filters(data, size);
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
