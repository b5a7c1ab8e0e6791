/* mqtt.h - the MQTT codec moat needs: a streaming framer that follows packet
 * boundaries in a byte stream of any fragmentation without buffering it, a
 * parser of CONNECT for MQTT 3.1, 3.1.1 and 5.0 (properties included), a
 * CONNECT rewriter (username), and builders of CONNACK and DISCONNECT.
 * Pure code: no allocation, no I/O; every length is checked against the
 * buffer it claims to describe. */
#ifndef MOAT_MQTT_H
#define MOAT_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mqtt_version { MQTT_V31 = 3, MQTT_V311 = 4, MQTT_V5 = 5 };

enum mqtt_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK = 2,
	MQTT_PUBLISH = 3,
	MQTT_PUBACK = 4,
	MQTT_PUBREC = 5,
	MQTT_PUBREL = 6,
	MQTT_PUBCOMP = 7,
	MQTT_SUBSCRIBE = 8,
	MQTT_SUBACK = 9,
	MQTT_UNSUBSCRIBE = 10,
	MQTT_UNSUBACK = 11,
	MQTT_PINGREQ = 12,
	MQTT_PINGRESP = 13,
	MQTT_DISCONNECT = 14,
	MQTT_AUTH = 15,
};

/* Results (negative) */
#define MQTT_AGAIN (-1)         /* need more bytes */
#define MQTT_E_MALFORMED (-2)   /* violates the packet grammar */
#define MQTT_E_TOO_LARGE (-3)   /* over the size limit given */
#define MQTT_E_PROTOCOL (-4)    /* not a CONNECT, or a protocol rule broken */
#define MQTT_E_VERSION (-5)     /* unknown protocol name or level */
#define MQTT_E_NOSPACE (-6)     /* output buffer too small */
#define MQTT_E_FORBIDDEN (-7)	/* a packet of a type the framer refuses */

/* CONNACK return codes: v3.1/3.1.1 and v5 reason codes */
#define MQTT3_RC_UNACCEPTABLE_VERSION 0x01
#define MQTT3_RC_IDENTIFIER_REJECTED 0x02
#define MQTT3_RC_SERVER_UNAVAILABLE 0x03
#define MQTT3_RC_NOT_AUTHORIZED 0x05
#define MQTT5_RC_UNSPECIFIED 0x80
#define MQTT5_RC_MALFORMED 0x81
#define MQTT5_RC_PROTOCOL_ERROR 0x82
#define MQTT5_RC_UNSUPPORTED_VERSION 0x84
#define MQTT5_RC_CLIENT_ID_NOT_VALID 0x85
#define MQTT5_RC_NOT_AUTHORIZED 0x87
#define MQTT5_RC_SERVER_UNAVAILABLE 0x88
#define MQTT5_RC_SERVER_SHUTTING_DOWN 0x8B
#define MQTT5_RC_USE_ANOTHER_SERVER 0x9C
#define MQTT5_RC_PACKET_TOO_LARGE 0x95
#define MQTT5_RC_MESSAGE_RATE_TOO_HIGH 0x96
#define MQTT3_SUBACK_FAILURE 0x80

/* Largest remaining length the protocol can express (4-byte varint). */
#define MQTT_MAX_REMAINING 268435455u

/* v as an MQTT variable byte integer into out (room for 4 bytes); its
 * length. */
size_t mqtt_varint_put(uint8_t *out, uint32_t v);

/* Fixed header of the packet at the start of buf: returns 0 and fills the
 * out-parameters when the header is complete (1 type/flags byte + 1..4
 * varint bytes), MQTT_AGAIN when buf ends inside the header, or
 * MQTT_E_MALFORMED (a fifth varint byte). Does not look past the header. */
int mqtt_fixed_header(const uint8_t *buf, size_t len, uint8_t *type_flags,
		      uint32_t *remaining, size_t *hdr_len);

/* Streaming framer: follows packets in a stream fed in chunks of any size
 * (one byte at a time works), keeping only a few bytes of state. */
struct mqtt_framer {
	uint32_t left;   /* body bytes of the current packet still to come */
	uint32_t value;  /* remaining length being decoded */
	uint8_t state;   /* internal */
	uint8_t nbytes;  /* varint bytes seen */
	uint8_t type;    /* type/flags byte of the current packet */
	uint16_t forbid; /* bit (1 << type): packets of that type refused */
	uint32_t stop;	 /* after MQTT_E_FORBIDDEN: bytes of the chunk that
			    came before the refused packet */
	uint64_t packets; /* complete packets seen */
	uint64_t publishes; /* PUBLISH packets begun */
};
void mqtt_framer_init(struct mqtt_framer *f);
/* Consumes all n bytes. Returns 0, MQTT_E_MALFORMED (bad varint),
 * MQTT_E_TOO_LARGE when a packet's total size (fixed header + remaining)
 * exceeds max_packet (0 = no limit beyond the protocol's), or
 * MQTT_E_FORBIDDEN when a packet whose type is in f->forbid starts (f->stop
 * bytes of this chunk came before it, f->type is its first byte). After an
 * error the framer stays in error and the stream must be closed. */
int mqtt_framer_feed(struct mqtt_framer *f, const uint8_t *p, size_t n,
		     uint32_t max_packet);
/* True between packets (nothing of a next packet seen yet). */
bool mqtt_framer_at_boundary(const struct mqtt_framer *f);
/* How many of the next n bytes belong to the current packet for sure
 * (at least 1 inside a header, 0 at a boundary): feeding that many never
 * crosses into the next packet. */
size_t mqtt_framer_span(const struct mqtt_framer *f, size_t n);

/* A length-prefixed field inside a packet buffer; p points into it. */
struct mqtt_bytes {
	const uint8_t *p;
	uint16_t len;
};

struct mqtt_connect {
	uint8_t version;          /* MQTT_V31, MQTT_V311 or MQTT_V5 */
	uint8_t flags;            /* connect flags byte as sent */
	uint16_t keepalive;
	bool clean_start;
	bool has_will, will_retain;
	uint8_t will_qos;
	bool has_username, has_password;
	struct mqtt_bytes client_id;
	struct mqtt_bytes will_topic, will_payload;
	struct mqtt_bytes username, password;
	/* v5 only: the CONNECT properties block (without its length varint) */
	const uint8_t *props;
	uint32_t props_len;
	uint32_t session_expiry;   /* v5 property 0x11, 0 if absent */
	uint32_t max_packet_size;  /* v5 property 0x27, 0 if absent */
	bool has_auth_method;	   /* v5 property 0x15: enhanced auth asked */
	/* Offsets (from the start of the packet) used by the rewriter. */
	size_t payload_off;        /* first byte of the payload (client id) */
	size_t username_off;       /* start of the username field, or where it
				      would be inserted (after will fields) */
	size_t username_end;       /* end of the username field (== username_off
				      when absent) */
};

/* Parse a complete CONNECT packet (fixed header included, exactly len
 * bytes). Returns 0, MQTT_E_PROTOCOL (not a CONNECT, reserved flag set,
 * bad flag combination), MQTT_E_VERSION (unknown protocol name/level: the
 * version field is still set when the level byte was read, so the caller
 * can answer in it), or MQTT_E_MALFORMED. Checks: fixed-header flags 0,
 * "MQTT" with level 4 or 5 / "MQIsdp" with level 3, reserved connect flag
 * 0, will QoS <= 2 and will flags consistent, v3.1.1 password needs
 * username, UTF-8 strings well formed (no U+0000, no surrogates, no
 * overlong forms), v5 properties well formed (known ids, no duplicates of
 * single-valued ones), will properties (v5) well formed, and that nothing
 * is left over after the payload. An empty client id is allowed (the
 * broker decides). */
int mqtt_parse_connect(const uint8_t *pkt, size_t len, struct mqtt_connect *c);

/* Copy pkt to out, with the username replaced (or added) by user/ulen and
 * the username flag set. The remaining length is re-encoded. Returns 0 and
 * *outlen, or MQTT_E_NOSPACE / MQTT_E_TOO_LARGE (over MQTT_MAX_REMAINING).
 * In v3.1 and v3.1.1 a password without username is impossible, so adding
 * a username keeps the password as sent. */
int mqtt_rewrite_username(const uint8_t *pkt, size_t len,
			  const struct mqtt_connect *c, const char *user,
			  size_t ulen, uint8_t *out, size_t outcap,
			  size_t *outlen);

/* The general form: the username replaced as above when user is not NULL
 * (else kept as sent), and with drop_password the password field and its
 * flag removed (a token moat has consumed does not travel on). */
int mqtt_rewrite_credentials(const uint8_t *pkt, size_t len,
			     const struct mqtt_connect *c, const char *user,
			     size_t ulen, bool drop_password, uint8_t *out,
			     size_t outcap, size_t *outlen);

/* CONNACK with session-present 0 and the given code; for v5 the property
 * length is 0. Returns the number of bytes written (4 or 5); out must hold
 * at least 5. */
size_t mqtt_build_connack(uint8_t *out, uint8_t version, uint8_t code);

/* DISCONNECT: v5 with reason code and no properties (4 bytes), else the
 * 2-byte v3 form. Returns bytes written; out must hold at least 4. */
size_t mqtt_build_disconnect(uint8_t *out, uint8_t version, uint8_t reason);

/* MQTT 5 DISCONNECT with a reason code, a Reason String property (so
 * that clients and their logs can say why) and, when server_ref is not
 * NULL, a Server Reference (with 0x9C Use another server: where to
 * reconnect). Either string may be NULL. Returns bytes written or
 * MQTT_E_NOSPACE. */
int mqtt_build_disconnect_v5(uint8_t *out, size_t cap, uint8_t reason,
			     const char *why, const char *server_ref);

/* A PUBLISH from a client (src/conn/enroll.c answers some itself). */
struct mqtt_publish {
	uint8_t qos;
	bool dup, retain;
	bool has_alias;             /* v5 Topic Alias property present */
	uint16_t packet_id;         /* QoS 1 and 2 */
	size_t total;               /* the whole packet's length */
	struct mqtt_bytes topic;
	struct mqtt_bytes response_topic; /* v5 0x08 (len 0: none) */
	struct mqtt_bytes correlation;    /* v5 0x09 (len 0: none) */
	const uint8_t *payload;     /* what of the payload is in the buffer */
	size_t payload_len;
};

/* Parse a PUBLISH from its first byte; len may stop short of the packet
 * (a payload too large to hold: total says how long it is, payload_len
 * what is here), but not before the payload. 0, MQTT_E_PROTOCOL (not a
 * PUBLISH) or MQTT_E_MALFORMED (QoS 3, DUP at QoS 0, packet id 0, bad
 * UTF-8, v5 properties a client may not send or sent twice). */
int mqtt_parse_publish(const uint8_t *pkt, size_t len, uint8_t version,
		       struct mqtt_publish *pb);

/* The topic filters of a whole SUBSCRIBE or UNSUBSCRIBE (len bytes
 * exactly), each to fn (fn < 0 stops with that value). Sets *packet_id.
 * The number of filters, or MQTT_E_MALFORMED / MQTT_E_PROTOCOL. */
int mqtt_filters_each(const uint8_t *pkt, size_t len, uint8_t version,
		      uint16_t *packet_id,
		      int (*fn)(struct mqtt_bytes filter, void *arg),
		      void *arg);

/* A QoS 0 PUBLISH (v5: with Correlation Data when corr_len): its length,
 * or MQTT_E_NOSPACE. */
int mqtt_build_publish(uint8_t *out, size_t cap, uint8_t version,
		       const char *topic, const uint8_t *corr, size_t corr_len,
		       const uint8_t *payload, size_t plen);

/* PUBACK, PUBREC or PUBCOMP (type) for id: v5 with `reason` (none when
 * 0), 3.1.1 the 4-byte form. out must hold 5. Returns the bytes written. */
size_t mqtt_build_ack(uint8_t *out, uint8_t type, uint8_t version,
		      uint16_t id, uint8_t reason);

/* CONNECT as the health check sends it: v3.1.1, clean session, keepalive
 * 60, the given client id. Returns bytes written or MQTT_E_NOSPACE. */
int mqtt_build_connect(uint8_t *out, size_t cap, const char *client_id);

/* ---- packets after the CONNECT (mqtt_pkt.c) ---- */

/* The start of a packet, as much as a judge of it needs. */
struct mqtt_peek {
	uint8_t type;   /* type nibble */
	uint8_t flags;  /* low nibble */
	uint8_t hdr_len;
	size_t total;   /* fixed header + remaining length */
	size_t need;    /* bytes of the packet to see before judging it */
	/* PUBLISH, once need bytes are in */
	uint8_t qos;
	uint16_t id;    /* packet id (QoS 1 and 2), else 0 */
	struct mqtt_bytes topic;
	uint8_t cut;    /* the topic is longer than topic_max: topic is its
			   first topic_max bytes, id is 0 */
};

/* What the packet at the start of b needs seen to be judged: the fixed
 * header; for PUBLISH also the topic and packet id (or only the first
 * topic_max bytes of a longer topic, SIZE_MAX: all); for the types whose
 * bit is set in `whole` (1u << MQTT_SUBSCRIBE...) the whole packet.
 * Returns 0 when b holds pk->need bytes (pk filled), MQTT_AGAIN with
 * pk->need the least it needs (it grows as more is known), MQTT_E_TOO_LARGE
 * when the prefix would exceed max, or MQTT_E_MALFORMED (a bad varint, a
 * PUBLISH of QoS 3 or whose topic runs past the packet). */
int mqtt_peek(const uint8_t *b, size_t len, uint16_t whole, size_t max,
	      size_t topic_max, struct mqtt_peek *pk);

/* A whole SUBSCRIBE or UNSUBSCRIBE (fixed header included). */
struct mqtt_subscribe {
	bool unsub;     /* UNSUBSCRIBE: filters without an options byte */
	uint16_t id;
	size_t hdr_len;
	size_t props_off, props_end; /* v5: the properties, length included;
					else both at the first filter */
	size_t len;                  /* the packet's length */
	unsigned n;                  /* filters */
};

/* Parse a whole SUBSCRIBE (or UNSUBSCRIBE) of protocol level version:
 * flags 0x2, a packet id, (v5) properties, at least one filter (in a
 * SUBSCRIBE each with its options byte), nothing left over. 0 or
 * MQTT_E_MALFORMED. */
int mqtt_parse_subscribe(const uint8_t *pkt, size_t len, uint8_t version,
			 struct mqtt_subscribe *s);
/* Walk the filters: *off starts at s->props_end; returns 1 with the
 * filter and its options byte (0 in an UNSUBSCRIBE), 0 after the last. */
int mqtt_subscribe_next(const uint8_t *pkt, const struct mqtt_subscribe *s,
			size_t *off, struct mqtt_bytes *f, uint8_t *opts);

/* A bit per filter position: set = denied by moat. */
#define MQTT_SUB_MAX 256
struct mqtt_subset {
	uint8_t bits[MQTT_SUB_MAX / 8];
};
static inline bool mqtt_subset_has(const struct mqtt_subset *d, unsigned i)
{
	return i < MQTT_SUB_MAX && (d->bits[i / 8] >> (i % 8)) & 1;
}
static inline void mqtt_subset_add(struct mqtt_subset *d, unsigned i)
{
	if (i < MQTT_SUB_MAX)
		d->bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* The SUBSCRIBE pkt with the filters in `deny` left out (same packet id
 * and properties). Returns the bytes written, MQTT_E_NOSPACE, or
 * MQTT_E_MALFORMED for an UNSUBSCRIBE. */
int mqtt_build_subscribe_without(const uint8_t *pkt,
				 const struct mqtt_subscribe *s,
				 const struct mqtt_subset *deny, uint8_t *out,
				 size_t cap);

/* SUBACK for packet id with n codes all `code` (no properties). Returns
 * the bytes written or MQTT_E_NOSPACE. */
int mqtt_build_suback_all(uint8_t *out, size_t cap, uint8_t version,
			  uint16_t id, unsigned n, uint8_t code);

/* The broker's SUBACK pkt (for the filters that reached it) widened to
 * n positions: those in deny get `code`, the others the broker's codes in
 * order; the broker's properties are kept. Returns bytes written,
 * MQTT_E_MALFORMED (not a SUBACK, or too few or too many codes) or
 * MQTT_E_NOSPACE. */
int mqtt_merge_suback(const uint8_t *pkt, size_t len, uint8_t version,
		      const struct mqtt_subset *deny, unsigned n, uint8_t code,
		      uint8_t *out, size_t cap);

/* The packet id right after the fixed header (PUBACK..PUBCOMP, SUBACK):
 * 0 when the packet is too short. */
uint16_t mqtt_packet_id(const uint8_t *pkt, size_t len, size_t hdr_len);

#endif
