/* der_walk.h - the bounded DER walker of der.c, shared by the codec
 * files that read DER (der.c, csr.c) and nothing else: every read checks
 * its length against what is left of its parent; indefinite lengths,
 * multi-byte tags and lengths over 2^32 are refused. */
#ifndef MOAT_DER_WALK_H
#define MOAT_DER_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "codec/der.h"

struct der {
	const uint8_t *p;
	size_t n;
};

#define SEQ 0x30
#define SET 0x31
#define OID 0x06
#define OCTETS 0x04
#define INTEGER 0x02
#define BITSTRING 0x03
#define NULLTAG 0x05
#define ENUMERATED 0x0a
#define GENTIME 0x18
#define UTCTIME 0x17

/* One TLV from d into tag/val (tlv, when not NULL: the whole element). */
int der_next(struct der *d, uint8_t *tag, struct der *val, struct der *tlv);
/* One TLV that must have tag t. */
int der_expect(struct der *d, uint8_t t, struct der *val, struct der *tlv);
/* The next tag, or -1 when d is empty. */
int der_peek(const struct der *d);
/* A UTCTime or GeneralizedTime into UTC seconds. */
int der_time(struct der *d, int64_t *t);
struct der_span der_span_of(struct der v);
int der_oid_is(struct der oid, const uint8_t *want, size_t n);
/* Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }: calls fn
 * for every attribute, in order; -1 when malformed or fn says stop. */
int der_name_each(struct der name,
		  int (*fn)(struct der oid, struct der val, void *arg),
		  void *arg);
/* For der_name_each: the first commonName into arg (a der_span). */
int der_first_cn(struct der oid, struct der val, void *arg);

#endif
