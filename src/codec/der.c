/* der.c - a bounded DER walker and the OCSP, X.509 and CRL reads moat
 * needs (see der.h). Every read checks its length against what is
 * left of its parent; indefinite lengths and lengths over 2^32 are refused. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "codec/der.h"
#include "codec/der_walk.h"

int der_next(struct der *d, uint8_t *tag, struct der *val,
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

int der_expect(struct der *d, uint8_t t, struct der *val,
		      struct der *tlv)
{
	uint8_t tag;

	if (der_next(d, &tag, val, tlv) < 0 || tag != t)
		return -1;
	return 0;
}

int der_peek(const struct der *d)
{
	return d->n ? d->p[0] : -1;
}


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

/* Time ::= UTCTime | GeneralizedTime */
int der_time(struct der *d, int64_t *t)
{
	struct der v;
	uint8_t tag;

	if (der_next(d, &tag, &v, NULL) < 0 ||
	    (tag != UTCTIME && tag != GENTIME))
		return -1;
	*t = ocsp_der_time(v.p, v.n, tag == UTCTIME);
	return *t < 0 ? -1 : 0;
}

struct der_span der_span_of(struct der v)
{
	return (struct der_span){v.p, v.n};
}

int der_name_each(struct der name,
		     int (*fn)(struct der oid, struct der val, void *arg),
		     void *arg)
{
	while (name.n) {
		struct der rdn;

		if (der_expect(&name, SET, &rdn, NULL) < 0)
			return -1;
		while (rdn.n) {
			struct der atv, oid, val;
			uint8_t tag;

			if (der_expect(&rdn, SEQ, &atv, NULL) < 0 ||
			    der_expect(&atv, OID, &oid, NULL) < 0 ||
			    der_next(&atv, &tag, &val, NULL) < 0 ||
			    fn(oid, val, arg) < 0)
				return -1;
		}
	}
	return 0;
}

int der_oid_is(struct der oid, const uint8_t *want, size_t n)
{
	return oid.n == n && !memcmp(oid.p, want, n);
}

static const uint8_t cn_oid[] = {0x55, 0x04, 0x03};

int der_first_cn(struct der oid, struct der val, void *arg)
{
	struct der_span *cn = arg;

	if (!cn->n && der_oid_is(oid, cn_oid, sizeof(cn_oid)))
		*cn = der_span_of(val);
	return 0;
}

/* GeneralNames: the first dNSName [2] and the first URI [6]. */
static int sans_read(struct der val, struct x509_fields *f)
{
	struct der list, gn;
	uint8_t tag;

	if (der_expect(&val, SEQ, &list, NULL) < 0)
		return -1;
	while (list.n) {
		if (der_next(&list, &tag, &gn, NULL) < 0)
			return -1;
		if (tag == 0x82 && !f->san_dns.n)
			f->san_dns = der_span_of(gn);
		else if (tag == 0x86 && !f->san_uri.n)
			f->san_uri = der_span_of(gn);
	}
	return 0;
}

/* AuthorityInfoAccessSyntax: 1 when it names an OCSP responder (an
 * id-ad-ocsp accessMethod with a URI), 0 when not, -1 malformed. */
static int aia_ocsp(struct der val)
{
	static const uint8_t ocsp_oid[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
					   0x07, 0x30, 0x01};
	struct der list;

	if (der_expect(&val, SEQ, &list, NULL) < 0)
		return -1;
	while (list.n) {
		struct der aia, method, v;
		uint8_t tag;

		if (der_expect(&list, SEQ, &aia, NULL) < 0 ||
		    der_expect(&aia, OID, &method, NULL) < 0 ||
		    der_next(&aia, &tag, &v, NULL) < 0)
			return -1;
		if (method.n == sizeof(ocsp_oid) &&
		    !memcmp(method.p, ocsp_oid, method.n) && tag == 0x86 &&
		    v.n > 0)
			return 1;
	}
	return 0;
}

/* Extensions ::= SEQUENCE OF SEQUENCE { extnID, critical BOOLEAN DEFAULT
 * FALSE, extnValue OCTET STRING }: subjectAltName and the AIA. */
static int exts_read(struct der exts, struct x509_fields *f)
{
	static const uint8_t san_oid[] = {0x55, 0x1d, 0x11};
	static const uint8_t ski_oid[] = {0x55, 0x1d, 0x0e};
	static const uint8_t aia_oid[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
					  0x07, 0x01, 0x01};

	while (exts.n) {
		struct der ext, oid, val;
		uint8_t tag;

		if (der_expect(&exts, SEQ, &ext, NULL) < 0 ||
		    der_expect(&ext, OID, &oid, NULL) < 0 ||
		    (der_peek(&ext) == 0x01 &&
		     der_next(&ext, &tag, &val, NULL) < 0) ||
		    der_expect(&ext, OCTETS, &val, NULL) < 0)
			return -1;
		if (der_oid_is(oid, san_oid, sizeof(san_oid))) {
			if (sans_read(val, f) < 0)
				return -1;
		} else if (der_oid_is(oid, ski_oid, sizeof(ski_oid))) {
			struct der id;

			if (der_expect(&val, OCTETS, &id, NULL) < 0)
				return -1;
			f->ski = der_span_of(id);
		} else if (der_oid_is(oid, aia_oid, sizeof(aia_oid))) {
			if ((f->ocsp_url = aia_ocsp(val)) < 0)
				return -1;
		}
	}
	return 0;
}

/* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version,
 * serial, signature, issuer, validity, subject, spki, [1] and [2] unique
 * ids, [3] extensions }, signatureAlgorithm, signature } */
int x509_read(const uint8_t *cert, size_t len, struct x509_fields *f)
{
	struct der d = {cert, len}, c, tbs, v, tlv, validity, spki;
	int64_t not_before;
	uint8_t tag;

	memset(f, 0, sizeof(*f));
	if (der_expect(&d, SEQ, &c, NULL) < 0 ||
	    der_expect(&c, SEQ, &tbs, NULL) < 0)
		return -1;
	if (der_peek(&tbs) == 0xa0 && der_expect(&tbs, 0xa0, &v, NULL) < 0)
		return -1;
	if (der_expect(&tbs, INTEGER, &v, NULL) < 0 || v.n == 0)
		return -1;
	f->serial = der_span_of(v);
	if (der_expect(&tbs, SEQ, &v, NULL) < 0 ||       /* signature */
	    der_expect(&tbs, SEQ, &v, &tlv) < 0)         /* issuer */
		return -1;
	f->issuer = der_span_of(tlv);
	if (der_expect(&tbs, SEQ, &validity, NULL) < 0 ||
	    der_time(&validity, &not_before) < 0 ||
	    der_time(&validity, &f->not_after) < 0 ||
	    der_expect(&tbs, SEQ, &v, &tlv) < 0 ||       /* subject */
	    der_name_each(v, der_first_cn, &f->cn) < 0 ||
	    der_expect(&tbs, SEQ, &v, &spki) < 0)        /* spki */
		return -1;
	f->subject = der_span_of(tlv);
	f->spki = der_span_of(spki);
	while (tbs.n) { /* [1], [2], then [3] */
		if (der_next(&tbs, &tag, &v, NULL) < 0)
			return -1;
		if (tag == 0xa3)
			return der_expect(&v, SEQ, &tlv, NULL) < 0
				       ? -1
				       : exts_read(tlv, f);
	}
	return 0;
}

int ocsp_cert_has_url(const uint8_t *cert, size_t len)
{
	struct x509_fields f;

	return x509_read(cert, len, &f) < 0 ? -1 : f.ocsp_url;
}

/* CertificateList ::= SEQUENCE { tbsCertList SEQUENCE { version INTEGER
 * OPTIONAL, signature, issuer Name, thisUpdate, nextUpdate OPTIONAL, ...},
 * signatureAlgorithm, signature } */
int crl_read(const uint8_t *crl, size_t len, struct crl_fields *f)
{
	struct der d = {crl, len}, c, tbs, v, tlv;

	memset(f, 0, sizeof(*f));
	if (der_expect(&d, SEQ, &c, NULL) < 0 ||
	    der_expect(&c, SEQ, &tbs, NULL) < 0)
		return -1;
	if (der_peek(&tbs) == INTEGER && der_expect(&tbs, INTEGER, &v, NULL) < 0)
		return -1;
	if (der_expect(&tbs, SEQ, &v, NULL) < 0 ||
	    der_expect(&tbs, SEQ, &v, &tlv) < 0 ||
	    der_time(&tbs, &f->this_update) < 0)
		return -1;
	f->issuer = der_span_of(tlv);
	if ((der_peek(&tbs) == UTCTIME || der_peek(&tbs) == GENTIME) &&
	    der_time(&tbs, &f->next_update) < 0)
		return -1;
	if (der_peek(&tbs) == SEQ) { /* revokedCertificates */
		if (der_expect(&tbs, SEQ, &v, NULL) < 0)
			return -1;
		f->revoked = der_span_of(v);
	}
	return 0;
}

/* revokedCertificates ::= SEQUENCE OF SEQUENCE { userCertificate INTEGER,
 * revocationDate Time, crlEntryExtensions OPTIONAL } */
int crl_next_revoked(struct der_span *rest, struct der_span *serial)
{
	struct der d = {rest->p, rest->n}, e, v;

	if (!d.n)
		return 0;
	if (der_expect(&d, SEQ, &e, NULL) < 0 ||
	    der_expect(&e, INTEGER, &v, NULL) < 0 || v.n == 0)
		return -1;
	*serial = der_span_of(v);
	rest->p = d.p;
	rest->n = d.n;
	return 1;
}

/* ---- a Name as one line ---- */

struct out {
	char *b;
	size_t cap, n;
};

static void put(struct out *o, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n && o->n + 1 < o->cap; i++)
		o->b[o->n++] = s[i] < 0x20 || s[i] == 0x7f ? '?' : (char)s[i];
	o->b[o->n] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, (const uint8_t *)s, strlen(s));
}

static const struct {
	uint8_t len;
	uint8_t oid[10];
	const char *name;
} attr_names[] = {
	{3, {0x55, 0x04, 0x03}, "CN"},
	{3, {0x55, 0x04, 0x04}, "SN"},
	{3, {0x55, 0x04, 0x05}, "serialNumber"},
	{3, {0x55, 0x04, 0x06}, "C"},
	{3, {0x55, 0x04, 0x07}, "L"},
	{3, {0x55, 0x04, 0x08}, "ST"},
	{3, {0x55, 0x04, 0x09}, "street"},
	{3, {0x55, 0x04, 0x0a}, "O"},
	{3, {0x55, 0x04, 0x0b}, "OU"},
	{3, {0x55, 0x04, 0x0c}, "title"},
	{3, {0x55, 0x04, 0x11}, "postalCode"},
	{3, {0x55, 0x04, 0x2a}, "GN"},
	{3, {0x55, 0x04, 0x2e}, "dnQualifier"},
	{3, {0x55, 0x04, 0x41}, "pseudonym"},
	{9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01},
	 "emailAddress"},
	{10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19}, "DC"},
	{10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01},
	 "UID"},
};

/* An OID the table does not name, dotted ("1.2.3"). */
static int put_oid(struct out *o, struct der oid)
{
	uint64_t v = 0;
	int first = 1, nb = 0;
	char num[24];

	for (size_t i = 0; i < oid.n; i++) {
		if (++nb > 8) /* no arc of over 56 bits */
			return -1;
		v = v << 7 | (oid.p[i] & 0x7f);
		if (oid.p[i] & 0x80)
			continue;
		if (first) {
			unsigned a = v < 40 ? 0 : v < 80 ? 1 : 2;

			snprintf(num, sizeof(num), "%u.%llu", a,
				 (unsigned long long)(v - 40 * a));
			first = 0;
		} else {
			snprintf(num, sizeof(num), ".%llu",
				 (unsigned long long)v);
		}
		puts_(o, num);
		v = 0;
		nb = 0;
	}
	return nb || first ? -1 : 0; /* ends inside an arc, or empty */
}

static int put_attr(struct der oid, struct der val, void *arg)
{
	struct out *o = arg;
	size_t i;

	puts_(o, "/");
	for (i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++)
		if (attr_names[i].len == oid.n &&
		    !memcmp(attr_names[i].oid, oid.p, oid.n))
			break;
	if (i < sizeof(attr_names) / sizeof(attr_names[0]))
		puts_(o, attr_names[i].name);
	else if (put_oid(o, oid) < 0)
		return -1;
	puts_(o, "=");
	put(o, val.p, val.n);
	return 0;
}

int der_name_str(const uint8_t *name, size_t len, char *buf, size_t cap)
{
	struct der d = {name, len}, body;
	struct out o = {buf, cap, 0};

	if (!cap)
		return -1;
	buf[0] = '\0';
	if (der_expect(&d, SEQ, &body, NULL) < 0)
		return -1;
	return der_name_each(body, put_attr, &o);
}
