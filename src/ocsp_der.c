/* ocsp_der.c - a bounded DER walker and the three OCSP/X.509 reads moat
 * needs (see ocsp_der.h). Every read checks its length against what is
 * left of its parent; indefinite lengths and lengths over 2^32 are refused. */
#include <string.h>
#include <time.h>

#include "ocsp_der.h"

struct der {
	const uint8_t *p;
	size_t n;
};

/* Reads one TLV from d into tag/val (tlv: the whole element). */
static int der_next(struct der *d, uint8_t *tag, struct der *val,
		    struct der *tlv)
{
	size_t len = 0, hl = 2;

	if (d->n < 2)
		return -1;
	*tag = d->p[0];
	if ((*tag & 0x1f) == 0x1f) /* multi-byte tags: not in what we read */
		return -1;
	if (d->p[1] < 0x80) {
		len = d->p[1];
	} else {
		size_t nb = d->p[1] & 0x7f;

		if (nb == 0 || nb > 4 || d->n < 2 + nb)
			return -1; /* indefinite, or absurd */
		for (size_t i = 0; i < nb; i++)
			len = len << 8 | d->p[2 + i];
		hl += nb;
	}
	if (len > d->n - hl)
		return -1;
	val->p = d->p + hl;
	val->n = len;
	if (tlv) {
		tlv->p = d->p;
		tlv->n = hl + len;
	}
	d->p += hl + len;
	d->n -= hl + len;
	return 0;
}

/* Reads one TLV that must have tag t. */
static int der_expect(struct der *d, uint8_t t, struct der *val,
		      struct der *tlv)
{
	uint8_t tag;

	if (der_next(d, &tag, val, tlv) < 0 || tag != t)
		return -1;
	return 0;
}

/* Peek: the next tag, or -1 when d is empty. */
static int der_peek(const struct der *d)
{
	return d->n ? d->p[0] : -1;
}

#define SEQ 0x30
#define OID 0x06
#define OCTETS 0x04
#define INTEGER 0x02
#define ENUMERATED 0x0a
#define GENTIME 0x18
#define UTCTIME 0x17

static int digits(const uint8_t *p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

int64_t ocsp_der_time(const uint8_t *p, size_t n, int utc)
{
	struct tm tm;
	int y, mo, d, h, mi, s, yl = utc ? 2 : 4;

	memset(&tm, 0, sizeof(tm));
	if (n < (size_t)yl + 11 || p[n - 1] != 'Z')
		return -1;
	if (digits(p, yl, &y) || digits(p + yl, 2, &mo) ||
	    digits(p + yl + 2, 2, &d) || digits(p + yl + 4, 2, &h) ||
	    digits(p + yl + 6, 2, &mi) || digits(p + yl + 8, 2, &s))
		return -1;
	/* only a fraction may sit between the seconds and the Z */
	if (n != (size_t)yl + 11 && (utc || p[yl + 10] != '.'))
		return -1;
	if (utc)
		y += y < 50 ? 2000 : 1900;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    s > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

/* CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash,
 * serialNumber }: checks its shape and points at the serial. */
static int certid_read(struct der *d, struct ocsp_certid *id)
{
	struct der tlv, body, v;

	if (der_expect(d, SEQ, &body, &tlv) < 0 ||
	    der_expect(&body, SEQ, &v, NULL) < 0 ||
	    der_expect(&body, OCTETS, &v, NULL) < 0 ||
	    der_expect(&body, OCTETS, &v, NULL) < 0 ||
	    der_expect(&body, INTEGER, &v, NULL) < 0 || v.n == 0)
		return -1;
	id->der = tlv.p;
	id->len = tlv.n;
	id->serial = v.p;
	id->serial_len = v.n;
	return 0;
}

int ocsp_req_certid(const uint8_t *req, size_t len, struct ocsp_certid *id)
{
	struct der d = {req, len}, ocspreq, tbs, list, one;

	if (der_expect(&d, SEQ, &ocspreq, NULL) < 0 ||
	    der_expect(&ocspreq, SEQ, &tbs, NULL) < 0)
		return -1;
	if (der_peek(&tbs) == 0xa0) /* version */
		der_expect(&tbs, 0xa0, &one, NULL);
	if (der_peek(&tbs) == 0xa1) /* requestorName */
		der_expect(&tbs, 0xa1, &one, NULL);
	if (der_expect(&tbs, SEQ, &list, NULL) < 0 ||
	    der_expect(&list, SEQ, &one, NULL) < 0)
		return -1;
	return certid_read(&one, id);
}

static int same_serial(const struct ocsp_certid *a, const struct ocsp_certid *b)
{
	return a->serial_len == b->serial_len &&
	       memcmp(a->serial, b->serial, a->serial_len) == 0;
}

/* SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate,
 * nextUpdate [0] EXPLICIT OPTIONAL, singleExtensions [1] OPTIONAL } */
static int single_read(struct der *s, struct ocsp_answer *a)
{
	struct der v, t;
	uint8_t tag;

	if (der_next(s, &tag, &v, NULL) < 0)
		return -1;
	a->revoked_at = 0;
	switch (tag) {
	case 0x80: /* good: [0] IMPLICIT NULL */
		a->cert_status = OCSP_CS_GOOD;
		break;
	case 0xa1: /* revoked: [1] IMPLICIT RevokedInfo */
		a->cert_status = OCSP_CS_REVOKED;
		if (der_expect(&v, GENTIME, &t, NULL) < 0 ||
		    (a->revoked_at = ocsp_der_time(t.p, t.n, 0)) < 0)
			return -1;
		break;
	case 0x82: /* unknown: [2] IMPLICIT NULL */
		a->cert_status = OCSP_CS_UNKNOWN;
		break;
	default:
		return -1;
	}
	if (der_expect(s, GENTIME, &t, NULL) < 0 ||
	    (a->this_update = ocsp_der_time(t.p, t.n, 0)) < 0)
		return -1;
	a->next_update = 0;
	if (der_peek(s) == 0xa0) {
		if (der_expect(s, 0xa0, &v, NULL) < 0 ||
		    der_expect(&v, GENTIME, &t, NULL) < 0 ||
		    (a->next_update = ocsp_der_time(t.p, t.n, 0)) < 0)
			return -1;
	}
	return 0;
}

int ocsp_resp_parse(const uint8_t *resp, size_t len,
		    const struct ocsp_certid *id, struct ocsp_answer *a)
{
	static const uint8_t basic_oid[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
					    0x07, 0x30, 0x01, 0x01};
	struct der d = {resp, len}, top, v, rb, basic, tbs, list, t;
	int found = 0;

	memset(a, 0, sizeof(*a));
	a->cert_status = -1;
	if (der_expect(&d, SEQ, &top, NULL) < 0 ||
	    der_expect(&top, ENUMERATED, &v, NULL) < 0 || v.n != 1)
		return -1;
	a->response_status = v.p[0];
	if (a->response_status != 0)
		return 0; /* well formed, and no answer in it */
	if (der_expect(&top, 0xa0, &v, NULL) < 0 ||
	    der_expect(&v, SEQ, &rb, NULL) < 0 ||
	    der_expect(&rb, OID, &t, NULL) < 0 || t.n != sizeof(basic_oid) ||
	    memcmp(t.p, basic_oid, t.n) != 0 ||
	    der_expect(&rb, OCTETS, &v, NULL) < 0 ||
	    der_expect(&v, SEQ, &basic, NULL) < 0 ||
	    der_expect(&basic, SEQ, &tbs, NULL) < 0)
		return -1;
	if (der_peek(&tbs) == 0xa0 && der_expect(&tbs, 0xa0, &v, NULL) < 0)
		return -1;
	if ((der_peek(&tbs) != 0xa1 && der_peek(&tbs) != 0xa2) ||
	    der_next(&tbs, &(uint8_t){0}, &v, NULL) < 0) /* responderID */
		return -1;
	if (der_expect(&tbs, GENTIME, &t, NULL) < 0 ||
	    (a->produced_at = ocsp_der_time(t.p, t.n, 0)) < 0)
		return -1;
	if (der_expect(&tbs, SEQ, &list, NULL) < 0)
		return -1;
	/* Bounded by the length of the list: each round consumes a TLV. */
	while (list.n && !found) {
		struct der single;
		struct ocsp_certid rid;
		struct ocsp_answer tmp = *a;

		if (der_expect(&list, SEQ, &single, NULL) < 0 ||
		    certid_read(&single, &rid) < 0 ||
		    single_read(&single, &tmp) < 0)
			return -1;
		if (!id || (rid.len == id->len &&
			    memcmp(rid.der, id->der, id->len) == 0) ||
		    same_serial(&rid, id)) {
			*a = tmp;
			found = 1;
		}
	}
	return found ? 0 : -1;
}

int ocsp_cert_has_url(const uint8_t *cert, size_t len)
{
	static const uint8_t aia_oid[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
					  0x07, 0x01, 0x01};
	static const uint8_t ocsp_oid[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
					   0x07, 0x30, 0x01};
	struct der d = {cert, len}, c, tbs, v, exts, list;
	uint8_t tag = 0;

	if (der_expect(&d, SEQ, &c, NULL) < 0 ||
	    der_expect(&c, SEQ, &tbs, NULL) < 0)
		return -1;
	/* skip to the [3] extensions: version, serial, sigalg, issuer,
	 * validity, subject, spki, [1] and [2] unique ids */
	while (tbs.n) {
		if (der_next(&tbs, &tag, &v, NULL) < 0)
			return -1;
		if (tag == 0xa3)
			break;
	}
	if (tag != 0xa3 || der_expect(&v, SEQ, &exts, NULL) < 0)
		return tbs.n || tag == 0xa3 ? -1 : 0;
	while (exts.n) {
		struct der ext, oid, val, aia;

		if (der_expect(&exts, SEQ, &ext, NULL) < 0 ||
		    der_expect(&ext, OID, &oid, NULL) < 0)
			return -1;
		if (oid.n != sizeof(aia_oid) || memcmp(oid.p, aia_oid, oid.n))
			continue;
		if (der_peek(&ext) == 0x01 && der_next(&ext, &tag, &v, NULL) < 0)
			return -1; /* critical */
		if (der_expect(&ext, OCTETS, &val, NULL) < 0 ||
		    der_expect(&val, SEQ, &list, NULL) < 0)
			return -1;
		while (list.n) {
			struct der method;

			if (der_expect(&list, SEQ, &aia, NULL) < 0 ||
			    der_expect(&aia, OID, &method, NULL) < 0 ||
			    der_next(&aia, &tag, &v, NULL) < 0)
				return -1;
			if (method.n == sizeof(ocsp_oid) &&
			    !memcmp(method.p, ocsp_oid, method.n) &&
			    tag == 0x86 && v.n > 0)
				return 1;
		}
	}
	return 0;
}
