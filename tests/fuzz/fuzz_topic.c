/* fuzz_topic.c - libFuzzer target for what the topic rules read from
 * clients and brokers: the input is split into a rule filter, a topic or
 * filter and a packet; matching, $share, placeholder substitution (the
 * topic as client id), the packet prefix, SUBSCRIBE parse and rewrite and
 * SUBACK widening must never read out of bounds, and covering must imply
 * meeting. */
#include <stdlib.h>
#include <string.h>

#include "codec/mqtt.h"
#include "codec/topic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void packets(const uint8_t *p, size_t n, uint8_t version)
{
	struct mqtt_peek pk;
	struct mqtt_subscribe s;
	struct mqtt_subset deny;
	struct mqtt_bytes f;
	uint8_t out[8192], opts;
	size_t off;
	unsigned i = 0;

	mqtt_peek(p, n, (uint16_t)(1u << MQTT_SUBSCRIBE | 1u << MQTT_PUBREL),
		  4096, SIZE_MAX, &pk);
	mqtt_peek(p, n, 0, 4096, SIZE_MAX, &pk);
	mqtt_peek(p, n, 0, 4096, 17, &pk);
	memset(&deny, 0, sizeof(deny));
	if (mqtt_parse_subscribe(p, n, version, &s) == 0) {
		off = s.props_end;
		while (mqtt_subscribe_next(p, &s, &off, &f, &opts)) {
			if (i % 2)
				mqtt_subset_add(&deny, i);
			if (topic_filter_valid((const char *)f.p, f.len))
				topic_covers("a/#", 3, (const char *)f.p,
					     f.len);
			i++;
		}
		mqtt_build_subscribe_without(p, &s, &deny, out, sizeof(out));
	}
	mqtt_merge_suback(p, n, version, &deny, i ? i : 3, 0x87, out,
			  sizeof(out));
	if (n >= 2)
		mqtt_packet_id(p, n, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep1, *sep2;
	const char *a, *b;
	size_t al, bl;
	char out[256], *cid;

	if (size < 1)
		return 0;
	/* rule \xff topic \xff packet */
	sep1 = memchr(data + 1, 0xff, size - 1);
	sep2 = sep1 ? memchr(sep1 + 1, 0xff, size - (size_t)(sep1 + 1 - data))
		    : NULL;
	a = (const char *)data + 1;
	al = sep1 ? (size_t)(sep1 - data) - 1 : size - 1;
	b = sep1 ? (const char *)sep1 + 1 : "";
	bl = sep1 ? (sep2 ? (size_t)(sep2 - sep1) - 1
			  : size - (size_t)(sep1 + 1 - data))
		  : 0;
	if (topic_filter_valid(a, al) && topic_filter_valid(b, bl)) {
		bool cov = topic_covers(a, al, b, bl);
		bool meet = topic_meets(a, al, b, bl);

		if (cov && !meet)
			abort();
		if (meet != topic_meets(b, bl, a, al))
			abort();
	}
	topic_name_valid(b, bl);
	{
		const char *f = b;
		size_t fl = bl;

		topic_unshare(&f, &fl);
	}
	cid = malloc(bl + 1);
	if (cid) {
		struct topic_vars v = {cid, "user", "ident", NULL, NULL};

		memcpy(cid, b, bl);
		cid[bl] = '\0';
		topic_expand(a, al, &v, out, sizeof(out));
		free(cid);
	}
	if (sep2)
		packets(sep2 + 1, size - (size_t)(sep2 + 1 - data),
			data[0] & 1 ? MQTT_V5 : MQTT_V311);
	return 0;
}
