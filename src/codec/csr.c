/* csr.c - PKCS#10 requests read (csr_read, csr_der_of) and the
 * TBSCertificate written (x509_tbs_write) for moat's issuing CA; see
 * csr.h. Reading uses der.c's bounded walker; writing builds each element
 * in place, its content first, then slides it to make room for its
 * header, never past cap. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "codec/csr.h"
#include "codec/der_walk.h"

static const uint8_t oid_ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t oid_p256[] = {0x2a, 0x86, 0x48, 0xce,
				   0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t oid_rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
				  0x0d, 0x01, 0x01, 0x01};
static const uint8_t oid_ed25519[] = {0x2b, 0x65, 0x70};
static const uint8_t oid_ecdsa256[] = {0x2a, 0x86, 0x48, 0xce,
				       0x3d, 0x04, 0x03, 0x02};
static const uint8_t oid_ecdsa384[] = {0x2a, 0x86, 0x48, 0xce,
				       0x3d, 0x04, 0x03, 0x03};
static const uint8_t oid_rsa256[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
				     0x0d, 0x01, 0x01, 0x0b};
static const uint8_t oid_rsa384[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
				     0x0d, 0x01, 0x01, 0x0c};

#define IS(oid, want) der_oid_is(oid, want, sizeof(want))

/* SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
 * subjectPublicKey BIT STRING } */
static int spki_read(struct der spki, struct csr_fields *f)
{
	struct der alg, oid, par, bits;
	uint8_t tag;

	if (der_expect(&spki, SEQ, &alg, NULL) < 0 ||
	    der_expect(&alg, OID, &oid, NULL) < 0 ||
	    der_expect(&spki, BITSTRING, &bits, NULL) < 0 || spki.n ||
	    bits.n < 2 || bits.p[0] != 0)
		return -1;
	f->key = (struct der_span){bits.p + 1, bits.n - 1};
	f->key_type = CSR_KEY_UNKNOWN;
	if (IS(oid, oid_ec)) {
		if (der_expect(&alg, OID, &par, NULL) < 0)
			return -1;
		if (IS(par, oid_p256) && f->key.n == 65 && f->key.p[0] == 4)
			f->key_type = CSR_KEY_EC_P256;
		else if (IS(par, oid_p384) && f->key.n == 97 &&
			 f->key.p[0] == 4)
			f->key_type = CSR_KEY_EC_P384;
	} else if (IS(oid, oid_rsa)) {
		if (der_next(&alg, &tag, &par, NULL) < 0 || tag != NULLTAG ||
		    par.n)
			return -1;
		f->key_type = CSR_KEY_RSA;
	} else if (IS(oid, oid_ed25519)) {
		if (f->key.n == 32)
			f->key_type = CSR_KEY_ED25519;
	}
	return alg.n ? -1 : 0;
}

static enum csr_sig sig_alg_of(struct der alg)
{
	struct der oid, par;
	uint8_t tag;

	if (der_expect(&alg, OID, &oid, NULL) < 0)
		return CSR_SIG_UNKNOWN;
	if (IS(oid, oid_rsa256) || IS(oid, oid_rsa384)) {
		/* parameters NULL, or (seen in the wild) absent */
		if (alg.n && (der_next(&alg, &tag, &par, NULL) < 0 ||
			      tag != NULLTAG || par.n || alg.n))
			return CSR_SIG_UNKNOWN;
		return IS(oid, oid_rsa256) ? CSR_SIG_RSA_SHA256
					   : CSR_SIG_RSA_SHA384;
	}
	if (alg.n)
		return CSR_SIG_UNKNOWN;
	if (IS(oid, oid_ecdsa256))
		return CSR_SIG_ECDSA_SHA256;
	if (IS(oid, oid_ecdsa384))
		return CSR_SIG_ECDSA_SHA384;
	if (IS(oid, oid_ed25519))
		return CSR_SIG_ED25519;
	return CSR_SIG_UNKNOWN;
}

/* CertificationRequest ::= SEQUENCE { certificationRequestInfo SEQUENCE {
 * version INTEGER 0, subject Name, subjectPKInfo, attributes [0] },
 * signatureAlgorithm, signature BIT STRING } */
int csr_read(const uint8_t *der, size_t len, struct csr_fields *f)
{
	struct der d = {der, len}, req, info, info_tlv, v, name, spki, spki_tlv,
		   alg, sig;

	memset(f, 0, sizeof(*f));
	if (len > CSR_MAX || der_expect(&d, SEQ, &req, NULL) < 0 || d.n ||
	    der_expect(&req, SEQ, &info, &info_tlv) < 0)
		return -1;
	f->info = der_span_of(info_tlv);
	if (der_expect(&info, INTEGER, &v, NULL) < 0 || v.n != 1 || v.p[0] ||
	    der_expect(&info, SEQ, &name, &v) < 0)
		return -1;
	f->subject = der_span_of(v);
	if (der_name_each(name, der_first_cn, &f->cn) < 0 ||
	    der_expect(&info, SEQ, &spki, &spki_tlv) < 0 ||
	    spki_read(spki, f) < 0)
		return -1;
	f->spki = der_span_of(spki_tlv);
	/* attributes [0]: read over (extension requests are not honoured:
	 * names and extensions come from policy) */
	if (der_expect(&info, 0xa0, &v, NULL) < 0 || info.n)
		return -1;
	if (der_expect(&req, SEQ, &alg, NULL) < 0 ||
	    der_expect(&req, BITSTRING, &sig, NULL) < 0 || req.n || sig.n < 2 ||
	    sig.p[0] != 0)
		return -1;
	f->sig_alg = sig_alg_of(alg);
	f->sig = (struct der_span){sig.p + 1, sig.n - 1};
	return 0;
}

/* ---- PEM ---- */

long csr_b64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	size_t o = 0;
	int k = 0, pad = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		int v;

		if (c == '\n' || c == '\r')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || (v = util_b64_val(c, 0)) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (++k == 4) {
			if (o + 3 > cap)
				return -1;
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
			k = 0;
		}
	}
	/* PEM pads: a last group of 2 or 3 characters has its '=' */
	if (pad ? k < 2 || k + pad != 4 : k != 0)
		return -1;
	if (k) { /* 2 or 3 characters: 1 or 2 bytes, the rest bits zero */
		if (o + (size_t)k - 1 > cap ||
		    (acc & ((1u << (k == 2 ? 4 : 2)) - 1)))
			return -1;
		acc >>= k == 2 ? 4 : 2;
		if (k == 3)
			out[o++] = (uint8_t)(acc >> 8);
		out[o++] = (uint8_t)acc;
	}
	return (long)o;
}

static const uint8_t *find(const uint8_t *p, size_t n, const char *s)
{
	size_t sl = strlen(s);

	for (size_t i = 0; n >= sl && i <= n - sl; i++)
		if (!memcmp(p + i, s, sl))
			return p + i;
	return NULL;
}

int csr_der_of(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
	       const uint8_t **der, size_t *len)
{
	static const char *const kinds[] = {"CERTIFICATE REQUEST",
					    "NEW CERTIFICATE REQUEST"};
	char begin[64], end[64];

	if (n > CSR_MAX)
		return -1;
	if (n && in[0] == SEQ) {
		*der = in;
		*len = n;
		return 0;
	}
	for (size_t k = 0; k < 2; k++) {
		const uint8_t *b, *e, *body, *tail;
		long got;

		snprintf(begin, sizeof(begin), "-----BEGIN %s-----", kinds[k]);
		snprintf(end, sizeof(end), "-----END %s-----", kinds[k]);
		b = find(in, n, begin);
		if (!b)
			continue;
		body = b + strlen(begin);
		e = find(body, n - (size_t)(body - in), end);
		if (!e)
			return -1;
		/* nothing but blank space around the one block */
		for (const uint8_t *p = in; p < b; p++)
			if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t')
				return -1;
		for (tail = e + strlen(end); tail < in + n; tail++)
			if (*tail != '\n' && *tail != '\r' && *tail != ' ' &&
			    *tail != '\t')
				return -1;
		got = csr_b64_decode(body, (size_t)(e - body), out, cap);
		if (got <= 0)
			return -1;
		*der = out;
		*len = (size_t)got;
		return 0;
	}
	return -1;
}

/* ---- writing the TBSCertificate ---- */

struct w {
	uint8_t *p;
	size_t n, cap;
	int bad;
};

static void put(struct w *w, const void *s, size_t n)
{
	if (w->bad || n > w->cap - w->n) {
		w->bad = 1;
		return;
	}
	memcpy(w->p + w->n, s, n);
	w->n += n;
}

/* Wrap what was written since `at` into an element of tag t. */
static void wrap(struct w *w, size_t at, uint8_t t)
{
	size_t len = w->n - at, hl = len < 0x80 ? 2 : len < 0x100 ? 3 : 4;
	uint8_t h[4] = {t};

	if (w->bad || len > 0xffff || hl > w->cap - w->n) {
		w->bad = 1;
		return;
	}
	if (hl == 2) {
		h[1] = (uint8_t)len;
	} else if (hl == 3) {
		h[1] = 0x81;
		h[2] = (uint8_t)len;
	} else {
		h[1] = 0x82;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
	}
	memmove(w->p + at + hl, w->p + at, len);
	memcpy(w->p + at, h, hl);
	w->n += hl;
}

static void prim(struct w *w, uint8_t t, const void *s, size_t n)
{
	size_t at = w->n;

	put(w, s, n);
	wrap(w, at, t);
}

static void put_time(struct w *w, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[20];

	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 1950) {
		w->bad = 1;
		return;
	}
	/* RFC 5280 4.1.2.5: UTCTime through 2049, then GeneralizedTime */
	if (tm.tm_year + 1900 < 2050) {
		strftime(s, sizeof(s), "%y%m%d%H%M%SZ", &tm);
		prim(w, UTCTIME, s, 13);
	} else {
		strftime(s, sizeof(s), "%Y%m%d%H%M%SZ", &tm);
		prim(w, GENTIME, s, 15);
	}
}

static void sig_alg_write(struct w *w, enum csr_sig a)
{
	size_t at = w->n;

	switch (a) {
	case CSR_SIG_ECDSA_SHA256:
		prim(w, OID, oid_ecdsa256, sizeof(oid_ecdsa256));
		break;
	case CSR_SIG_ECDSA_SHA384:
		prim(w, OID, oid_ecdsa384, sizeof(oid_ecdsa384));
		break;
	case CSR_SIG_RSA_SHA256:
		prim(w, OID, oid_rsa256, sizeof(oid_rsa256));
		prim(w, NULLTAG, "", 0);
		break;
	default:
		w->bad = 1;
		return;
	}
	wrap(w, at, SEQ);
}

/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE,
 * extnValue OCTET STRING }: opens one; ext_end closes it. */
static size_t ext_begin(struct w *w, const uint8_t *oid, size_t n, int crit)
{
	size_t at = w->n;

	prim(w, OID, oid, n);
	if (crit)
		put(w, "\x01\x01\xff", 3);
	return at;
}

static void ext_end(struct w *w, size_t at, size_t val_at)
{
	wrap(w, val_at, OCTETS);
	wrap(w, at, SEQ);
}

static void extensions_write(struct w *w, const struct tbs_spec *s)
{
	static const uint8_t bc[] = {0x55, 0x1d, 0x13},
			     ku[] = {0x55, 0x1d, 0x0f},
			     eku[] = {0x55, 0x1d, 0x25},
			     ski[] = {0x55, 0x1d, 0x0e},
			     aki[] = {0x55, 0x1d, 0x23},
			     san[] = {0x55, 0x1d, 0x11};
	static const uint8_t client_auth[] = {0x2b, 0x06, 0x01, 0x05,
					      0x05, 0x07, 0x03, 0x02};
	size_t a3 = w->n, seq, e, v, in;

	seq = w->n;
	/* basicConstraints, critical: not a CA */
	e = ext_begin(w, bc, sizeof(bc), 1);
	v = w->n;
	put(w, "\x30\x00", 2);
	ext_end(w, e, v);
	/* keyUsage, critical: digitalSignature (+ keyEncipherment) */
	e = ext_begin(w, ku, sizeof(ku), 1);
	v = w->n;
	put(w, s->key_encipherment ? "\x03\x02\x05\xa0" : "\x03\x02\x07\x80",
	    4);
	ext_end(w, e, v);
	/* extendedKeyUsage: clientAuth */
	e = ext_begin(w, eku, sizeof(eku), 0);
	v = w->n;
	prim(w, OID, client_auth, sizeof(client_auth));
	wrap(w, v, SEQ);
	ext_end(w, e, v);
	e = ext_begin(w, ski, sizeof(ski), 0);
	v = w->n;
	prim(w, OCTETS, s->ski, 20);
	ext_end(w, e, v);
	if (s->aki.n) {
		e = ext_begin(w, aki, sizeof(aki), 0);
		v = w->n;
		prim(w, 0x80, s->aki.p, s->aki.n);
		wrap(w, v, SEQ);
		ext_end(w, e, v);
	}
	if (s->san_dns || s->san_uri) {
		e = ext_begin(w, san, sizeof(san), 0);
		v = w->n;
		in = w->n;
		if (s->san_dns)
			prim(w, 0x82, s->san_dns, strlen(s->san_dns));
		if (s->san_uri)
			prim(w, 0x86, s->san_uri, strlen(s->san_uri));
		wrap(w, in, SEQ);
		ext_end(w, e, v);
	}
	wrap(w, seq, SEQ);
	wrap(w, a3, 0xa3);
}

int x509_tbs_write(const struct tbs_spec *s, uint8_t *out, size_t cap)
{
	struct w w = {out, 0, cap, 0};
	size_t at, name, rdn;
	static const uint8_t cn_oid[] = {0x55, 0x04, 0x03};

	if (!s->serial_len || s->serial_len > 20 || !s->serial[0] ||
	    s->serial[0] & 0x80 || !s->cn || !*s->cn || strlen(s->cn) > 255 ||
	    !s->spki.n || !s->issuer.n || s->not_after <= s->not_before)
		return -1;
	put(&w, "\xa0\x03\x02\x01\x02", 5); /* version v3 */
	prim(&w, INTEGER, s->serial, s->serial_len);
	sig_alg_write(&w, s->sig_alg);
	put(&w, s->issuer.p, s->issuer.n);
	at = w.n;
	put_time(&w, s->not_before);
	put_time(&w, s->not_after);
	wrap(&w, at, SEQ);
	name = w.n; /* subject: CN=identity */
	rdn = w.n;
	prim(&w, OID, cn_oid, sizeof(cn_oid));
	prim(&w, 0x0c, s->cn, strlen(s->cn));
	wrap(&w, rdn, SEQ);
	wrap(&w, rdn, SET);
	wrap(&w, name, SEQ);
	put(&w, s->spki.p, s->spki.n);
	extensions_write(&w, s);
	wrap(&w, 0, SEQ);
	return w.bad ? -1 : (int)w.n;
}

/* ---- PKCS#7 certs-only ---- */

int pkcs7_certs_write(const struct der_span *certs, size_t n, uint8_t *out,
		      size_t cap)
{
	static const uint8_t signed_data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
					      0x0d, 0x01, 0x07, 0x02};
	static const uint8_t data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
				       0x0d, 0x01, 0x07, 0x01};
	struct w w = {out, 0, cap, 0};
	size_t sd, at;

	prim(&w, OID, signed_data, sizeof(signed_data));
	sd = w.n;
	put(&w, "\x02\x01\x01", 3); /* version 1 */
	put(&w, "\x31\x00", 2);	    /* digestAlgorithms: none */
	at = w.n;		    /* encapContentInfo: data, absent */
	prim(&w, OID, data, sizeof(data));
	wrap(&w, at, SEQ);
	at = w.n; /* [0] IMPLICIT certificates */
	for (size_t i = 0; i < n; i++)
		put(&w, certs[i].p, certs[i].n);
	wrap(&w, at, 0xa0);
	put(&w, "\x31\x00", 2); /* signerInfos: none */
	wrap(&w, sd, SEQ);
	wrap(&w, sd, 0xa0); /* [0] EXPLICIT content */
	wrap(&w, 0, SEQ);
	return w.bad ? -1 : (int)w.n;
}
