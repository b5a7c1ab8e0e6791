/* mqtt_pkt.c - the packets that follow the CONNECT, as far as moat's topic
 * rules read them: the prefix of a packet (PUBLISH topic and packet id),
 * SUBSCRIBE parsed and rebuilt without the denied filters, the broker's
 * SUBACK widened back to every filter (the acknowledgements moat answers
 * itself are mqtt.c's mqtt_build_ack). Lengths are checked against the buffer
 * before use. */
#include <string.h>

#include "codec/mqtt.h"

static size_t varint_len(uint32_t v)
{
	uint8_t tmp[4];

	return mqtt_varint_put(tmp, v);
}

/* A varint at b[*off..len): 1 read, 0 more bytes needed, -1 malformed. */
static int varint_get(const uint8_t *b, size_t len, size_t *off, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		if (*off >= len)
			return 0;
		*v |= (uint32_t)(b[*off] & 0x7f) << (7 * i);
		if (!(b[(*off)++] & 0x80))
			return 1;
	}
	return -1;
}

int mqtt_peek(const uint8_t *b, size_t len, uint16_t whole, size_t max,
	      size_t topic_max, struct mqtt_peek *pk)
{
	uint32_t rem;
	size_t off = 1;
	int r;

	memset(pk, 0, sizeof(*pk));
	pk->need = 2;
	if (len < 2)
		return MQTT_AGAIN;
	r = varint_get(b, len, &off, &rem);
	if (r < 0)
		return MQTT_E_MALFORMED;
	if (r == 0) {
		pk->need = len + 1;
		return MQTT_AGAIN;
	}
	pk->type = b[0] >> 4;
	pk->flags = b[0] & 0x0f;
	pk->hdr_len = (uint8_t)off;
	pk->total = off + rem;
	pk->need = off;
	if (whole & (1u << pk->type)) {
		pk->need = pk->total;
	} else if (pk->type == MQTT_PUBLISH) {
		size_t tl;

		pk->qos = (pk->flags >> 1) & 3;
		if (pk->qos == 3)
			return MQTT_E_MALFORMED;
		pk->need = off + 2;
		if (pk->need > pk->total)
			return MQTT_E_MALFORMED;
		if (len < pk->need)
			return pk->need > max ? MQTT_E_TOO_LARGE : MQTT_AGAIN;
		tl = (size_t)(b[off] << 8 | b[off + 1]);
		pk->need = off + 2 + tl + (pk->qos ? 2 : 0);
		if (pk->need > pk->total)
			return MQTT_E_MALFORMED;
		if (tl > topic_max) { /* its start is enough */
			pk->cut = 1;
			pk->need = off + 2 + topic_max;
		}
	}
	if (pk->need > max)
		return MQTT_E_TOO_LARGE;
	if (len < pk->need)
		return MQTT_AGAIN;
	if (pk->type == MQTT_PUBLISH) {
		pk->topic.p = b + off + 2;
		pk->topic.len = (uint16_t)(b[off] << 8 | b[off + 1]);
		if (pk->cut)
			pk->topic.len = (uint16_t)topic_max;
		else if (pk->qos)
			pk->id =
			    (uint16_t)(b[pk->need - 2] << 8 | b[pk->need - 1]);
	}
	return 0;
}

int mqtt_parse_subscribe(const uint8_t *pkt, size_t len, uint8_t version,
			 struct mqtt_subscribe *s)
{
	size_t off = 1;
	uint32_t rem, plen;

	memset(s, 0, sizeof(*s));
	if (len < 2 ||
	    (pkt[0] != (MQTT_SUBSCRIBE << 4 | 0x2) &&
	     pkt[0] != (MQTT_UNSUBSCRIBE << 4 | 0x2)) ||
	    varint_get(pkt, len, &off, &rem) != 1 || off + rem != len)
		return MQTT_E_MALFORMED;
	s->unsub = pkt[0] >> 4 == MQTT_UNSUBSCRIBE;
	s->hdr_len = off;
	s->len = len;
	if (off + 2 > len)
		return MQTT_E_MALFORMED;
	s->id = (uint16_t)(pkt[off] << 8 | pkt[off + 1]);
	off += 2;
	s->props_off = off;
	if (version == MQTT_V5) {
		if (varint_get(pkt, len, &off, &plen) != 1 || plen > len - off)
			return MQTT_E_MALFORMED;
		off += plen;
	}
	s->props_end = off;
	if (s->id == 0 || off == len)
		return MQTT_E_MALFORMED;
	while (off < len) {
		size_t fl;

		if (off + 2 > len)
			return MQTT_E_MALFORMED;
		fl = (size_t)(pkt[off] << 8 | pkt[off + 1]);
		if (off + 2 + fl + !s->unsub > len)
			return MQTT_E_MALFORMED;
		off += 2 + fl + !s->unsub;
		s->n++;
	}
	return 0;
}

int mqtt_subscribe_next(const uint8_t *pkt, const struct mqtt_subscribe *s,
			size_t *off, struct mqtt_bytes *f, uint8_t *opts)
{
	if (*off >= s->len)
		return 0;
	f->len = (uint16_t)(pkt[*off] << 8 | pkt[*off + 1]);
	f->p = pkt + *off + 2;
	*opts = s->unsub ? 0 : pkt[*off + 2 + f->len];
	*off += 2u + f->len + !s->unsub;
	return 1;
}

int mqtt_build_subscribe_without(const uint8_t *pkt,
				 const struct mqtt_subscribe *s,
				 const struct mqtt_subset *deny, uint8_t *out,
				 size_t cap)
{
	size_t body = s->props_end - s->hdr_len, off = s->props_end, o;
	struct mqtt_bytes f;
	uint8_t opts;
	unsigned i = 0;

	if (s->unsub) /* filters without options: not what is copied here */
		return MQTT_E_MALFORMED;
	while (mqtt_subscribe_next(pkt, s, &off, &f, &opts))
		if (!mqtt_subset_has(deny, i++))
			body += 2u + f.len + 1u;
	if (1 + varint_len((uint32_t)body) + body > cap)
		return MQTT_E_NOSPACE;
	out[0] = pkt[0];
	o = 1 + mqtt_varint_put(out + 1, (uint32_t)body);
	memcpy(out + o, pkt + s->hdr_len, s->props_end - s->hdr_len);
	o += s->props_end - s->hdr_len;
	off = s->props_end;
	i = 0;
	while (mqtt_subscribe_next(pkt, s, &off, &f, &opts)) {
		if (mqtt_subset_has(deny, i++))
			continue;
		memcpy(out + o, f.p - 2, 2u + f.len + 1u);
		o += 2u + f.len + 1u;
	}
	return (int)o;
}

/* SUBACK header, id and (v5) an empty property block; the codes follow. */
static size_t suback_head(uint8_t *out, uint8_t version, uint16_t id,
			  size_t body)
{
	size_t o = 0;

	out[o++] = MQTT_SUBACK << 4;
	o += mqtt_varint_put(out + o, (uint32_t)body);
	out[o++] = (uint8_t)(id >> 8);
	out[o++] = (uint8_t)id;
	if (version == MQTT_V5)
		out[o++] = 0;
	return o;
}

int mqtt_build_suback_all(uint8_t *out, size_t cap, uint8_t version,
			  uint16_t id, unsigned n, uint8_t code)
{
	size_t body = 2 + (version == MQTT_V5) + n;
	size_t o;

	if (1 + varint_len((uint32_t)body) + body > cap)
		return MQTT_E_NOSPACE;
	o = suback_head(out, version, id, body);
	memset(out + o, code, n);
	return (int)(o + n);
}

int mqtt_merge_suback(const uint8_t *pkt, size_t len, uint8_t version,
		      const struct mqtt_subset *deny, unsigned n, uint8_t code,
		      uint8_t *out, size_t cap)
{
	size_t off = 1, codes, body, o;
	uint32_t rem, plen = 0;
	size_t props_at;
	unsigned ndeny = 0;

	if (len < 2 || pkt[0] != MQTT_SUBACK << 4 ||
	    varint_get(pkt, len, &off, &rem) != 1 || off + rem != len ||
	    off + 2 > len)
		return MQTT_E_MALFORMED;
	off += 2;
	props_at = off;
	if (version == MQTT_V5) {
		if (varint_get(pkt, len, &off, &plen) != 1 || plen > len - off)
			return MQTT_E_MALFORMED;
		off += plen;
	}
	for (unsigned i = 0; i < n; i++)
		ndeny += mqtt_subset_has(deny, i);
	codes = len - off;
	if (codes + ndeny != n)
		return MQTT_E_MALFORMED;
	body = (off - props_at) + 2 + n;
	if (1 + varint_len((uint32_t)body) + body > cap)
		return MQTT_E_NOSPACE;
	out[0] = MQTT_SUBACK << 4;
	o = 1 + mqtt_varint_put(out + 1, (uint32_t)body);
	memcpy(out + o, pkt + props_at - 2, 2 + (off - props_at));
	o += 2 + (off - props_at);
	for (unsigned i = 0; i < n; i++)
		out[o++] = mqtt_subset_has(deny, i) ? code : pkt[off++];
	return (int)o;
}

uint16_t mqtt_packet_id(const uint8_t *pkt, size_t len, size_t hdr_len)
{
	if (len < hdr_len + 2)
		return 0;
	return (uint16_t)(pkt[hdr_len] << 8 | pkt[hdr_len + 1]);
}
