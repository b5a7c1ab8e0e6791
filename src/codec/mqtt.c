/* mqtt.c - the MQTT codec: fixed-header decoding, a streaming framer that
 * tracks packet boundaries with a few bytes of state, the CONNECT parser for
 * 3.1, 3.1.1 and 5.0, the username rewriter and CONNACK/DISCONNECT
 * builders. Every read is bounds-checked through struct rd, so a short or
 * lying packet can only yield an error, never a read past its end. */
#include <string.h>

#include "codec/mqtt.h"

int mqtt_fixed_header(const uint8_t *buf, size_t len, uint8_t *type_flags,
		      uint32_t *remaining, size_t *hdr_len)
{
	uint32_t v = 0;

	if (len < 2)
		return MQTT_AGAIN;
	for (size_t i = 1; i <= 4; i++) {
		if (i >= len)
			return MQTT_AGAIN;
		v |= (uint32_t)(buf[i] & 0x7f) << (7 * (i - 1));
		if (!(buf[i] & 0x80)) {
			*type_flags = buf[0];
			*remaining = v;
			*hdr_len = i + 1;
			return 0;
		}
	}
	return MQTT_E_MALFORMED;
}

enum { FR_TYPE, FR_LEN, FR_BODY, FR_ERROR };

void mqtt_framer_init(struct mqtt_framer *f)
{
	memset(f, 0, sizeof(*f));
	f->state = FR_TYPE;
}

int mqtt_framer_feed(struct mqtt_framer *f, const uint8_t *p, size_t n,
		     uint32_t max_packet)
{
	size_t i = 0;

	while (i < n) {
		switch (f->state) {
		case FR_TYPE:
			if (f->forbid & (1u << (p[i] >> 4))) {
				f->type = p[i];
				f->stop = (uint32_t)i;
				f->state = FR_ERROR;
				return MQTT_E_FORBIDDEN;
			}
			f->type = p[i++];
			f->publishes += f->type >> 4 == MQTT_PUBLISH;
			f->value = 0;
			f->nbytes = 0;
			f->state = FR_LEN;
			break;
		case FR_LEN: {
			uint8_t b = p[i++];

			f->value |= (uint32_t)(b & 0x7f) << (7 * f->nbytes);
			f->nbytes++;
			if (b & 0x80) {
				if (f->nbytes == 4) {
					f->state = FR_ERROR;
					return MQTT_E_MALFORMED;
				}
				break;
			}
			if (max_packet &&
			    (uint64_t)f->value + 1 + f->nbytes > max_packet) {
				f->state = FR_ERROR;
				return MQTT_E_TOO_LARGE;
			}
			f->left = f->value;
			if (f->left == 0) {
				f->packets++;
				f->state = FR_TYPE;
			} else {
				f->state = FR_BODY;
			}
			break;
		}
		case FR_BODY: {
			size_t take = n - i;

			if (take > f->left)
				take = f->left;
			f->left -= (uint32_t)take;
			i += take;
			if (f->left == 0) {
				f->packets++;
				f->state = FR_TYPE;
			}
			break;
		}
		default:
			return MQTT_E_MALFORMED;
		}
	}
	return 0;
}

bool mqtt_framer_at_boundary(const struct mqtt_framer *f)
{
	return f->state == FR_TYPE;
}

size_t mqtt_framer_span(const struct mqtt_framer *f, size_t n)
{
	if (f->state == FR_TYPE || n == 0)
		return 0;
	if (f->state == FR_BODY)
		return n < f->left ? n : f->left;
	return 1;
}

/* A bounded reader over one packet. Any read past end sets err. */
struct rd {
	const uint8_t *p;
	size_t off, end;
	int err;
};

static uint8_t rd_u8(struct rd *r)
{
	if (r->err || r->off + 1 > r->end) {
		r->err = MQTT_E_MALFORMED;
		return 0;
	}
	return r->p[r->off++];
}

static uint16_t rd_u16(struct rd *r)
{
	uint16_t hi = rd_u8(r);

	return (uint16_t)(hi << 8 | rd_u8(r));
}

static uint32_t rd_u32(struct rd *r)
{
	uint32_t v = (uint32_t)rd_u16(r) << 16;

	return v | rd_u16(r);
}

static uint32_t rd_varint(struct rd *r)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		uint8_t b = rd_u8(r);

		v |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return v;
	}
	r->err = MQTT_E_MALFORMED;
	return 0;
}

static struct mqtt_bytes rd_bin(struct rd *r)
{
	struct mqtt_bytes b = {NULL, 0};
	uint16_t len = rd_u16(r);

	if (r->err)
		return b;
	if (r->off + len > r->end) {
		r->err = MQTT_E_MALFORMED;
		return b;
	}
	b.p = r->p + r->off;
	b.len = len;
	r->off += len;
	return b;
}

/* MQTT's UTF-8: well formed, no surrogates, no overlong forms, no U+0000. */
static int utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		uint32_t cp;
		size_t k;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

static struct mqtt_bytes rd_str(struct rd *r)
{
	struct mqtt_bytes b = rd_bin(r);

	if (!r->err && !utf8_ok(b.p, b.len))
		r->err = MQTT_E_MALFORMED;
	return b;
}

/* v5 property block: ids allowed in CONNECT (will = 0) or in the will
 * properties (will = 1); single-valued ids at most once. */
static int parse_props(struct rd *r, int will, struct mqtt_connect *c)
{
	uint32_t len = rd_varint(r);
	size_t end;
	uint64_t seen = 0;

	if (r->err)
		return r->err;
	if (r->off + len > r->end)
		return MQTT_E_MALFORMED;
	if (!will) {
		c->props = r->p + r->off;
		c->props_len = len;
	}
	end = r->off + len;
	while (r->off < end) {
		size_t save_end = r->end;
		uint32_t id;

		r->end = end; /* a property may not run past its block */
		id = rd_varint(r);
		if (r->err)
			return r->err;
		if (id < 64 && id != 0x26) {
			if (seen & (1ull << id))
				return MQTT_E_PROTOCOL;
			seen |= 1ull << id;
		}
		switch (will ? id | 0x100 : id) {
		case 0x11: /* session expiry */
			c->session_expiry = rd_u32(r);
			break;
		case 0x21: /* receive maximum */
			if (rd_u16(r) == 0 && !r->err)
				return MQTT_E_PROTOCOL;
			break;
		case 0x27: /* maximum packet size */
			c->max_packet_size = rd_u32(r);
			if (c->max_packet_size == 0 && !r->err)
				return MQTT_E_PROTOCOL;
			break;
		case 0x22: /* topic alias maximum */
			rd_u16(r);
			break;
		case 0x19: /* request response information */
		case 0x17: /* request problem information */
			if (rd_u8(r) > 1 && !r->err)
				return MQTT_E_PROTOCOL;
			break;
		case 0x26: /* user property */
		case 0x126:
			rd_str(r);
			rd_str(r);
			break;
		case 0x15: /* authentication method */
			c->has_auth_method = true;
			rd_str(r);
			break;
		case 0x16: /* authentication data */
			rd_bin(r);
			break;
		case 0x118: /* will delay interval */
			rd_u32(r);
			break;
		case 0x101: /* payload format indicator */
			if (rd_u8(r) > 1 && !r->err)
				return MQTT_E_PROTOCOL;
			break;
		case 0x102: /* message expiry interval */
			rd_u32(r);
			break;
		case 0x103: /* content type */
		case 0x108: /* response topic */
			rd_str(r);
			break;
		case 0x109: /* correlation data */
			rd_bin(r);
			break;
		default:
			return MQTT_E_MALFORMED;
		}
		r->end = save_end;
		if (r->err)
			return r->err;
	}
	if (!will && (seen & (1ull << 0x16)) && !(seen & (1ull << 0x15)))
		return MQTT_E_PROTOCOL; /* auth data without a method */
	return 0;
}

int mqtt_parse_connect(const uint8_t *pkt, size_t len, struct mqtt_connect *c)
{
	struct rd r = {pkt, 0, len, 0};
	uint8_t tf, flags;
	uint32_t rem;
	size_t hl;
	struct mqtt_bytes name;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = mqtt_fixed_header(pkt, len, &tf, &rem, &hl);
	if (ret == MQTT_AGAIN)
		return MQTT_E_MALFORMED;
	if (ret < 0)
		return ret;
	if (tf >> 4 != MQTT_CONNECT || (tf & 0x0f) != 0)
		return MQTT_E_PROTOCOL;
	if (hl + rem != len)
		return MQTT_E_MALFORMED;
	r.off = hl;
	name = rd_bin(&r);
	c->version = rd_u8(&r);
	if (r.err)
		return r.err;
	if (name.len == 4 && memcmp(name.p, "MQTT", 4) == 0) {
		if (c->version != MQTT_V311 && c->version != MQTT_V5)
			return MQTT_E_VERSION;
	} else if (name.len == 6 && memcmp(name.p, "MQIsdp", 6) == 0) {
		if (c->version != MQTT_V31)
			return MQTT_E_VERSION;
	} else {
		c->version = 0;
		return MQTT_E_VERSION;
	}
	flags = rd_u8(&r);
	c->keepalive = rd_u16(&r);
	if (r.err)
		return r.err;
	c->flags = flags;
	if (flags & 0x01)
		return MQTT_E_PROTOCOL;
	c->clean_start = flags & 0x02;
	c->has_will = flags & 0x04;
	c->will_qos = (flags >> 3) & 0x03;
	c->will_retain = flags & 0x20;
	c->has_password = flags & 0x40;
	c->has_username = flags & 0x80;
	if (c->will_qos == 3)
		return MQTT_E_PROTOCOL;
	if (!c->has_will && (c->will_qos || c->will_retain))
		return MQTT_E_PROTOCOL;
	if (c->version != MQTT_V5 && c->has_password && !c->has_username)
		return MQTT_E_PROTOCOL;
	if (c->version == MQTT_V5) {
		ret = parse_props(&r, 0, c);
		if (ret)
			return ret;
	}
	c->payload_off = r.off;
	c->client_id = rd_str(&r);
	if (r.err)
		return r.err;
	if (c->has_will) {
		if (c->version == MQTT_V5) {
			ret = parse_props(&r, 1, c);
			if (ret)
				return ret;
		}
		c->will_topic = rd_str(&r);
		c->will_payload = rd_bin(&r);
		if (r.err)
			return r.err;
		if (c->will_topic.len == 0)
			return MQTT_E_PROTOCOL;
	}
	c->username_off = r.off;
	if (c->has_username)
		c->username = rd_str(&r);
	c->username_end = r.off;
	if (c->has_password)
		c->password = rd_bin(&r);
	if (r.err)
		return r.err;
	if (r.off != len)
		return MQTT_E_MALFORMED;
	return 0;
}

/* ---- PUBLISH and SUBSCRIBE, for the packets moat answers itself
 * (certificate renewal, src/conn/enroll.c) ---- */

/* v5 PUBLISH properties: the response topic, correlation data and topic
 * alias are kept; every id a client may send is known. */
static int publish_props(struct rd *r, struct mqtt_publish *pb)
{
	uint32_t len = rd_varint(r);
	size_t end;
	uint32_t seen = 0;

	if (r->err || r->off + len > r->end)
		return MQTT_E_MALFORMED;
	end = r->off + len;
	while (!r->err && r->off < end) {
		uint8_t id = rd_u8(r);
		int bit;

		switch (id) {
		case 0x01: /* payload format */
			bit = 0;
			if (rd_u8(r) > 1)
				return MQTT_E_MALFORMED;
			break;
		case 0x02: /* message expiry */
			bit = 1;
			rd_u32(r);
			break;
		case 0x23: /* topic alias */
			bit = 2;
			rd_u16(r);
			pb->has_alias = true;
			break;
		case 0x08: /* response topic */
			bit = 3;
			pb->response_topic = rd_str(r);
			break;
		case 0x09: /* correlation data */
			bit = 4;
			pb->correlation = rd_bin(r);
			break;
		case 0x03: /* content type */
			bit = 5;
			rd_str(r);
			break;
		case 0x26: /* user property (any number) */
			bit = -1;
			rd_str(r);
			rd_str(r);
			break;
		default: /* subscription id and others: not from a client */
			return MQTT_E_MALFORMED;
		}
		if (bit >= 0) {
			if (seen & (1u << bit))
				return MQTT_E_MALFORMED;
			seen |= 1u << bit;
		}
	}
	return r->err || r->off != end ? MQTT_E_MALFORMED : 0;
}

int mqtt_parse_publish(const uint8_t *pkt, size_t len, uint8_t version,
		       struct mqtt_publish *pb)
{
	uint8_t tf;
	uint32_t rem;
	size_t hl;
	struct rd r;
	int e;

	memset(pb, 0, sizeof(*pb));
	e = mqtt_fixed_header(pkt, len, &tf, &rem, &hl);
	if (e < 0)
		return e == MQTT_AGAIN ? MQTT_E_MALFORMED : e;
	if (tf >> 4 != MQTT_PUBLISH)
		return MQTT_E_PROTOCOL;
	pb->qos = (tf >> 1) & 3;
	pb->dup = tf & 8;
	pb->retain = tf & 1;
	pb->total = hl + rem;
	if (pb->qos == 3 || (pb->qos == 0 && pb->dup))
		return MQTT_E_MALFORMED;
	r.p = pkt;
	r.off = hl;
	r.end = len < pb->total ? len : pb->total;
	r.err = 0;
	pb->topic = rd_str(&r);
	if (pb->qos) {
		pb->packet_id = rd_u16(&r);
		if (!r.err && !pb->packet_id)
			return MQTT_E_MALFORMED;
	}
	if (!r.err && version == MQTT_V5 &&
	    (e = publish_props(&r, pb)) < 0)
		return e;
	if (r.err)
		return r.err;
	pb->payload = pkt + r.off;
	pb->payload_len = r.end - r.off;
	return 0;
}

int mqtt_filters_each(const uint8_t *pkt, size_t len, uint8_t version,
		      uint16_t *packet_id,
		      int (*fn)(struct mqtt_bytes filter, void *arg), void *arg)
{
	uint8_t tf;
	uint32_t rem;
	size_t hl;
	struct rd r;
	int e, sub, n = 0;

	e = mqtt_fixed_header(pkt, len, &tf, &rem, &hl);
	if (e < 0 || hl + rem != len)
		return MQTT_E_MALFORMED;
	sub = tf == 0x82; /* SUBSCRIBE, else UNSUBSCRIBE (0xa2) */
	if (!sub && tf != 0xa2)
		return MQTT_E_PROTOCOL;
	r.p = pkt;
	r.off = hl;
	r.end = len;
	r.err = 0;
	*packet_id = rd_u16(&r);
	if (version == MQTT_V5) {
		uint32_t pl = rd_varint(&r);

		if (r.err || r.off + pl > r.end)
			return MQTT_E_MALFORMED;
		r.off += pl;
	}
	while (!r.err && r.off < r.end) {
		struct mqtt_bytes f = rd_str(&r);

		if (sub)
			rd_u8(&r); /* options */
		if (r.err || !f.len)
			return MQTT_E_MALFORMED;
		e = fn(f, arg);
		if (e < 0)
			return e;
		n++;
	}
	if (r.err || !n || !*packet_id)
		return MQTT_E_MALFORMED;
	return n;
}

size_t mqtt_varint_put(uint8_t *out, uint32_t v)
{
	size_t n = 0;

	do {
		uint8_t b = v & 0x7f;

		v >>= 7;
		out[n++] = (uint8_t)(v ? b | 0x80 : b);
	} while (v);
	return n;
}

int mqtt_rewrite_credentials(const uint8_t *pkt, size_t len,
			     const struct mqtt_connect *c, const char *user,
			     size_t ulen, bool drop_password, uint8_t *out,
			     size_t outcap, size_t *outlen)
{
	uint8_t tf;
	uint32_t rem;
	size_t hl, body_before, body_after, newrem, o;
	size_t flags_off, ufield;

	if (ulen > 0xffff)
		return MQTT_E_TOO_LARGE;
	if (mqtt_fixed_header(pkt, len, &tf, &rem, &hl) < 0)
		return MQTT_E_MALFORMED;
	/* body = [hl, username_off) + username + [username_end, len); the
	 * password is the payload's last field, so dropping it ends the
	 * packet at username_end */
	body_before = c->username_off - hl;
	body_after = drop_password && c->has_password ? 0
						       : len - c->username_end;
	ufield = user ? 2 + ulen : c->username_end - c->username_off;
	newrem = body_before + ufield + body_after;
	if (newrem > MQTT_MAX_REMAINING)
		return MQTT_E_TOO_LARGE;
	{
		uint8_t tmp[4];
		size_t need =
		    1 + mqtt_varint_put(tmp, (uint32_t)newrem) + newrem;

		if (need > outcap)
			return MQTT_E_NOSPACE;
	}
	out[0] = tf;
	o = 1 + mqtt_varint_put(out + 1, (uint32_t)newrem);
	memcpy(out + o, pkt + hl, body_before);
	/* The connect flags byte sits after the protocol name and level. */
	flags_off = o + 2 + (size_t)(pkt[hl] << 8 | pkt[hl + 1]) + 1;
	if (user)
		out[flags_off] |= 0x80;
	if (drop_password)
		out[flags_off] &= (uint8_t)~0x40;
	o += body_before;
	if (user) {
		out[o++] = (uint8_t)(ulen >> 8);
		out[o++] = (uint8_t)ulen;
		memcpy(out + o, user, ulen);
	} else {
		memcpy(out + o, pkt + c->username_off, ufield);
	}
	o += user ? ulen : ufield;
	memcpy(out + o, pkt + c->username_end, body_after);
	o += body_after;
	*outlen = o;
	return 0;
}

int mqtt_rewrite_username(const uint8_t *pkt, size_t len,
			  const struct mqtt_connect *c, const char *user,
			  size_t ulen, uint8_t *out, size_t outcap,
			  size_t *outlen)
{
	return mqtt_rewrite_credentials(pkt, len, c, user, ulen, false, out,
					outcap, outlen);
}

size_t mqtt_build_connack(uint8_t *out, uint8_t version, uint8_t code)
{
	out[0] = MQTT_CONNACK << 4;
	if (version == MQTT_V5) {
		out[1] = 3;
		out[2] = 0;
		out[3] = code;
		out[4] = 0;
		return 5;
	}
	out[1] = 2;
	out[2] = 0;
	out[3] = code;
	return 4;
}

size_t mqtt_build_disconnect(uint8_t *out, uint8_t version, uint8_t reason)
{
	out[0] = MQTT_DISCONNECT << 4;
	if (version == MQTT_V5) {
		out[1] = 2;
		out[2] = reason;
		out[3] = 0;
		return 4;
	}
	out[1] = 0;
	return 2;
}

static size_t put_str_prop(uint8_t *out, uint8_t id, const char *s,
			   size_t len)
{
	out[0] = id;
	out[1] = (uint8_t)(len >> 8);
	out[2] = (uint8_t)len;
	memcpy(out + 3, s, len);
	return 3 + len;
}

int mqtt_build_disconnect_v5(uint8_t *out, size_t cap, uint8_t reason,
			     const char *why, const char *server_ref)
{
	size_t wl = why ? strlen(why) : 0;
	size_t sl = server_ref ? strlen(server_ref) : 0;
	size_t props = (why ? 3 + wl : 0) + (server_ref ? 3 + sl : 0);
	size_t rem, o = 0;
	uint8_t vb[4];

	if (wl > 0xffff || sl > 0xffff)
		return MQTT_E_NOSPACE;
	rem = 1 + mqtt_varint_put(vb, (uint32_t)props) + props;
	/* header, remaining length (at most 4 bytes), body */
	if (1 + mqtt_varint_put(vb, (uint32_t)rem) + rem > cap)
		return MQTT_E_NOSPACE;
	out[o++] = MQTT_DISCONNECT << 4;
	o += mqtt_varint_put(out + o, (uint32_t)rem);
	out[o++] = reason;
	o += mqtt_varint_put(out + o, (uint32_t)props);
	if (server_ref) /* 0x1C Server Reference: where to go instead */
		o += put_str_prop(out + o, 0x1c, server_ref, sl);
	if (why) /* 0x1F Reason String */
		o += put_str_prop(out + o, 0x1f, why, wl);
	return (int)o;
}

int mqtt_build_publish(uint8_t *out, size_t cap, uint8_t version,
		       const char *topic, const uint8_t *corr, size_t corr_len,
		       const uint8_t *payload, size_t plen)
{
	size_t tl = strlen(topic), props = corr_len ? 3 + corr_len : 0;
	size_t rem = 2 + tl + plen, o = 0;
	uint8_t vb[4];

	if (tl > 0xffff || corr_len > 0xffff)
		return MQTT_E_NOSPACE;
	if (version == MQTT_V5)
		rem += mqtt_varint_put(vb, (uint32_t)props) + props;
	if (rem > MQTT_MAX_REMAINING || 1 + 4 + rem > cap)
		return MQTT_E_NOSPACE;
	out[o++] = MQTT_PUBLISH << 4; /* QoS 0, no retain */
	o += mqtt_varint_put(out + o, (uint32_t)rem);
	out[o++] = (uint8_t)(tl >> 8);
	out[o++] = (uint8_t)tl;
	memcpy(out + o, topic, tl);
	o += tl;
	if (version == MQTT_V5) {
		o += mqtt_varint_put(out + o, (uint32_t)props);
		if (corr_len) { /* 0x09 Correlation Data, echoed */
			out[o++] = 0x09;
			out[o++] = (uint8_t)(corr_len >> 8);
			out[o++] = (uint8_t)corr_len;
			memcpy(out + o, corr, corr_len);
			o += corr_len;
		}
	}
	memcpy(out + o, payload, plen);
	return (int)(o + plen);
}

size_t mqtt_build_ack(uint8_t *out, uint8_t type, uint8_t version, uint16_t id,
		      uint8_t reason)
{
	out[0] = (uint8_t)(type << 4);
	out[1] = 2;
	out[2] = (uint8_t)(id >> 8);
	out[3] = (uint8_t)id;
	if (version == MQTT_V5 && reason) {
		out[1] = 3;
		out[4] = reason;
		return 5;
	}
	return 4;
}

int mqtt_build_connect(uint8_t *out, size_t cap, const char *client_id)
{
	size_t idl = strlen(client_id);
	size_t rem = 10 + 2 + idl;
	size_t o = 0;

	if (idl > 0xffff || rem > 127 || rem + 2 > cap)
		return MQTT_E_NOSPACE;
	out[o++] = MQTT_CONNECT << 4;
	out[o++] = (uint8_t)rem;
	out[o++] = 0;
	out[o++] = 4;
	memcpy(out + o, "MQTT", 4);
	o += 4;
	out[o++] = MQTT_V311;
	out[o++] = 0x02; /* clean session */
	out[o++] = 0;
	out[o++] = 60; /* keepalive */
	out[o++] = (uint8_t)(idl >> 8);
	out[o++] = (uint8_t)idl;
	memcpy(out + o, client_id, idl);
	o += idl;
	return (int)o;
}
