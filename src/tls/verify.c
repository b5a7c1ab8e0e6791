/* verify.c - the client's certificate: wolfSSL's verify callback, which
 * records the leaf's subject, serial and names (struct tls_peer) and the
 * first verification error, folds OCSP outcomes into the peer's OCSP state
 * and applies crl_expired; the identity read from it; and the reject cause
 * a failed handshake is counted under. Part of a context (tls.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "codec/der.h"
#include "base/reject.h"
#include "base/scratch.h"
#include "tls/tls.h"
#include "tls/tls_int.h"

void tls_peer_clear(struct tls_peer *p)
{
	free(p->names);
	scratch_free(p->der);
	free(p->certid);
	memset(p, 0, sizeof(*p));
}

const char *tls_peer_identity(const struct tls_peer *p, enum cfg_identity id)
{
	switch (id) {
	case CFG_ID_CN:
		return p->cn;
	case CFG_ID_SAN_DNS:
		return p->san_dns;
	case CFG_ID_SAN_URI:
		return p->san_uri;
	case CFG_ID_NONE:
		break;
	}
	return NULL;
}

char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

int peer_names(struct tls_peer *p, const struct peer_str s[4],
	       const uint8_t *serial, size_t serial_len)
{
	char **dst[4] = {&p->subject, &p->cn, &p->san_dns, &p->san_uri};
	size_t need = serial_len * 2 + 1;
	char *w;

	for (int i = 0; i < 4; i++)
		need += s[i].p ? s[i].n + 1 : 0;
	if (!(w = p->names = malloc(need)))
		return -1;
	for (int i = 0; i < 4; i++) {
		if (!s[i].p)
			continue;
		*dst[i] = w;
		memcpy(w, s[i].p, s[i].n);
		w[s[i].n] = '\0';
		w += s[i].n + 1;
	}
	if (!serial_len) /* no serial: NULL, as an absent name */
		return 0;
	p->serial = w;
	for (size_t i = 0; i < serial_len; i++)
		snprintf(w + 2 * i, 3, "%02x", serial[i]);
	w[serial_len * 2] = '\0';
	return 0;
}

/* A name from the certificate; none when it holds a NUL (it would end the
 * string early: "dev-1\0.evil" must not read as "dev-1"). */
static struct peer_str span_str(struct der_span v)
{
	struct peer_str s = {NULL, 0};

	if (v.n && !memchr(v.p, '\0', v.n)) {
		s.p = (const char *)v.p;
		s.n = v.n;
	}
	return s;
}

/* Clear what p learnt of a certificate, keeping what tls_session_new set
 * up for the session. */
void peer_reset(struct tls_peer *p)
{
	struct tls_peer keep = *p;

	tls_peer_clear(p);
	p->ocsp_mode = keep.ocsp_mode;
	p->ocsp_override = keep.ocsp_override;
	p->cm = keep.cm;
	p->crl_on = keep.crl_on;
	p->crl_reject_after = keep.crl_reject_after;
	p->grace_s = keep.grace_s;
}

void peer_note_certid(struct tls_peer *p, const uint8_t *req, size_t len)
{
	struct ocsp_certid id;
	uint8_t *copy;

	if (ocsp_req_certid(req, len, &id) < 0 || !id.len ||
	    !(copy = malloc(id.len)))
		return;
	memcpy(copy, id.der, id.len);
	free(p->certid);
	p->certid = copy;
	p->certid_len = id.len;
}

/* Copy what moat needs of the leaf (DER) into p, so nothing of the
 * certificate itself has to be kept for the life of the connection. */
static void peer_take(struct tls_peer *p, const uint8_t *der, int len)
{
	struct x509_fields f;
	char subject[512];

	{ /* keep what OCSP found so far */
		uint8_t failed = p->ocsp_io_failed, stale = p->ocsp_io_stale,
			state = p->ocsp_state;
		uint8_t *certid = p->certid;
		size_t certid_len = p->certid_len;

		p->certid = NULL;
		peer_reset(p);
		p->ocsp_io_failed = failed;
		p->ocsp_io_stale = stale;
		p->ocsp_state = state;
		p->certid = certid;
		p->certid_len = certid_len;
	}
	p->has_cert = 1;
	if (len <= 0 || (p->der = scratch_alloc((size_t)len)) == NULL)
		return;
	memcpy(p->der, der, (size_t)len);
	p->der_len = len;
	/* wolfSSL has parsed and verified it; this only reads fields */
	if (x509_read(der, (size_t)len, &f) < 0)
		return;
	der_name_str(f.subject.p, f.subject.n, subject, sizeof(subject));
	{
		struct peer_str s[4] = {{subject, strlen(subject)},
					span_str(f.cn),
					span_str(f.san_dns),
					span_str(f.san_uri)};

		(void)peer_names(p, s, f.serial.p, f.serial.n);
	}
	p->ocsp_url = f.ocsp_url;
	p->checked_at = (int64_t)time(NULL);
	p->not_after = f.not_after;
	wc_Sha256Hash(der, (word32)len, p->leaf_hash);
	wc_Sha256Hash(f.issuer.p, (word32)f.issuer.n, p->issuer_hash);
}

static void ocsp_note(struct tls_peer *p, int state)
{
	if (state > p->ocsp_state)
		p->ocsp_state = state;
}

/* wolfSSL reports OCSP outcomes as verification errors. A revoked answer
 * stays an error (the TLS alert); "unknown", an unreachable responder or a
 * bad answer let the handshake finish and are answered at the CONNECT
 * (spec: CONNACK, so the device knows whether to retry). */
static int ocsp_verdict(struct tls_peer *p, int err)
{
	switch (err) {
	case OCSP_CERT_UNKNOWN:
		ocsp_note(p, TLS_OCSP_UNKNOWN);
		return 1;
	case OCSP_INVALID_STATUS:
	case OCSP_LOOKUP_FAIL:
	case OCSP_NEED_URL:
	case OCSP_WANT_READ:
		ocsp_note(p, p->ocsp_io_stale && !p->ocsp_io_failed
				     ? TLS_OCSP_STALE
				     : TLS_OCSP_UNAVAILABLE);
		return 1;
	}
	return 0;
}

/* The verify callback's error as wolfSSL's own code (negative): a wolfSSL
 * built with the OpenSSL compatibility layer (-Dwolfssl=system) gives
 * OpenSSL's X509_V_ERR_ numbers instead (positive, named in comments). */
static int native_err(int e)
{
	switch (e) {
	case 10: /* X509_V_ERR_CERT_HAS_EXPIRED */
	case 14: /* X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD (5.5.4) */
		return ASN_AFTER_DATE_E;
	case 9:  /* X509_V_ERR_CERT_NOT_YET_VALID */
	case 13: /* X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD (5.5.4) */
		return ASN_BEFORE_DATE_E;
	case 2:  /* X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT */
	case 18: /* X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT */
	case 19: /* X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN */
	case 20: /* X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY */
		return ASN_NO_SIGNER_E;
	case 23: /* X509_V_ERR_CERT_REVOKED */
		return CRL_CERT_REVOKED;
	}
	return e;
}

/* mqtt.enroll.renew_grace: the leaf passed notAfter but not by more than
 * grace_s, and nothing else is wrong with it (wolfSSL reports the date
 * last, once the signer and the signature are checked): let it connect to
 * renew, and nothing else (in_grace). A revoked one still may not. */
static int grace_ok(struct tls_peer *p, WOLFSSL_X509_STORE_CTX *store,
		    int error)
{
	struct x509_fields f;
	const uint8_t *der;
	int len;

	if (!p->grace_s || error != ASN_AFTER_DATE_E ||
	    store->error_depth != 0 || !store->certs || store->totalCerts < 1)
		return 0;
	der = store->certs[0].buffer;
	len = (int)store->certs[0].length;
	if (x509_read(der, (size_t)len, &f) < 0 ||
	    (int64_t)time(NULL) > f.not_after + p->grace_s)
		return 0;
	/* (the session's CRL check by issuer and serial follows at the
	 * CONNECT, conn_enroll_only: wolfSSL's refuses an expired leaf) */
	if (p->crl_on && p->cm &&
	    wolfSSL_CertManagerCheckCRL(p->cm, der, len) == CRL_CERT_REVOKED)
		return 0;
	return 1;
}

int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	struct tls_peer *p = store->userCtx;
	int error = native_err(store->error);
	int grace = 0;

	if (!p)
		return preverify;
	if (!preverify && grace_ok(p, store, error))
		preverify = grace = 1;
	if (!preverify && p->ocsp_mode != CFG_OCSP_OFF &&
	    ocsp_verdict(p, error))
		preverify = 1;
	if (!preverify && !p->verify_err)
		p->verify_err = error ? error : -1;
	if (store->error_depth == 0 && store->certs && store->totalCerts > 0) {
		int err = p->verify_err;

		peer_take(p, store->certs[0].buffer, (int)store->certs[0].length);
		p->verify_err = err;
		p->in_grace = (uint8_t)grace;
		if (preverify && p->crl_reject_after &&
		    (int64_t)time(NULL) > p->crl_reject_after) {
			/* crl_expired: reject: a stale CRL cannot vouch */
			p->verify_err = CRL_CERT_DATE_ERR;
			return 0;
		}
		if (preverify && p->ocsp_mode != CFG_OCSP_OFF && p->der) {
			/* wolfSSL skips the leaf's CRL once OCSP has
			 * answered (or failed): check it here. */
			if (p->crl_on && p->cm &&
			    wolfSSL_CertManagerCheckCRL(p->cm, p->der,
							p->der_len) ==
				    CRL_CERT_REVOKED) {
				p->verify_err = CRL_CERT_REVOKED;
				return 0;
			}
			/* wolfSSL takes a certificate without an OCSP URL for
			 * good; under require it is not. */
			if (p->ocsp_mode == CFG_OCSP_REQUIRE &&
			    !p->ocsp_override &&
			    !p->ocsp_url)
				ocsp_note(p, TLS_OCSP_NO_URL);
		}
	}
	return preverify;
}

struct subject_find {
	const uint8_t *want; /* SHA-256 of a subject Name */
	int hit;
};

static int same_subject(const uint8_t *der, size_t len, void *arg)
{
	struct subject_find *q = arg;
	struct x509_fields f;
	uint8_t h[TICKET_HASH_SZ];

	if (!der || x509_read(der, len, &f) < 0)
		return 0;
	wc_Sha256Hash(f.subject.p, (word32)f.subject.n, h);
	q->hit = !memcmp(h, q->want, sizeof(h));
	return q->hit;
}

static int add_claim(const uint8_t *der, size_t len, void *arg)
{
	struct tls_ctx *t = arg;
	struct x509_fields f;
	void *n;

	if (!der || x509_read(der, len, &f) < 0)
		return 0;
	n = realloc(t->claim, (t->n_claim + 1) * sizeof(*t->claim));
	if (!n)
		return 1;
	t->claim = n;
	wc_Sha256Hash(f.subject.p, (word32)f.subject.n, t->claim[t->n_claim++]);
	return 0;
}

int tls_ctx_enroll(struct tls_ctx *t, const struct cfg_enroll *e,
		   char **errors)
{
	t->grace_s = (int64_t)(e->renew_grace_ms / 1000);
	if (!e->bootstrap_ca)
		return 0;
	each_pem(e->bootstrap_ca, PEM_CERT, add_claim, t);
	if (!t->n_claim) {
		errtext_add(errors,
			    "%s:%d:%d: mqtt.enroll.bootstrap_ca: '%s' holds no "
			    "certificate (PEM)",
			    POSF(e->bootstrap_ca_pos), e->bootstrap_ca);
		return -1;
	}
	/* a claim CA that is also a device CA: claims could not be told
	 * from devices' certificates */
	for (size_t i = 0; i < t->n_claim; i++) {
		struct subject_find q = {t->claim[i], 0};

		each_pem(t->cfg->client_ca, PEM_CERT, same_subject, &q);
		if (q.hit) {
			errtext_add(errors,
				    "%s:%d:%d: mqtt.enroll.bootstrap_ca: a CA "
				    "of '%s' is also in tls.client_ca: claim "
				    "certificates could not be told from "
				    "devices' certificates",
				    POSF(e->bootstrap_ca_pos), e->bootstrap_ca);
			return -1;
		}
	}
	return 0; /* loaded into the context by tls_ctx_new (claim_ca) */
}

int tls_peer_is_claim(const struct tls_ctx *t, const struct tls_peer *p)
{
	if (!t || !p->has_cert)
		return 0;
	for (size_t i = 0; i < t->n_claim; i++)
		if (!memcmp(t->claim[i], p->issuer_hash, TICKET_HASH_SZ))
			return 1;
	return 0;
}

int tls_reject_cause(int verify_err, int ssl_err)
{
	int e = verify_err ? verify_err : ssl_err;

	switch (e) {
	case ASN_AFTER_DATE_E:
		return REJ_CERT_EXPIRED;
	case ASN_BEFORE_DATE_E:
		return REJ_CERT_NOT_YET_VALID;
	case ASN_NO_SIGNER_E:
		return REJ_UNKNOWN_CA;
	case CRL_CERT_REVOKED:
	case OCSP_CERT_REVOKED:
		return REJ_CERT_REVOKED;
	case CRL_CERT_DATE_ERR:
		return REJ_CRL_EXPIRED;
	case NO_PEER_CERT:
		return REJ_NO_CERT;
	}
	return verify_err ? REJ_BAD_CERT : REJ_TLS_ERROR;
}
