/* tls.c - wolfSSL contexts and sessions for moat's listeners.
 * A context is built once per listener from its cfg_tls; sessions read and
 * write through struct tls_io so that libuv owns every socket. The verify
 * callback records the client leaf's subject, serial and names, and the
 * first verification error, for identity checks and for reject logs. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>

#include "codec/der.h"
#include "moat_build.h"
#include "tls/ocsp.h"
#include "base/log.h"
#include "base/reject.h"
#include "tls/tls.h"
#include "base/util.h"

void errtext_add(char **text, const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	size_t old = *text ? strlen(*text) : 0, add;
	char *n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	add = strlen(line);
	n = realloc(*text, old + add + 2);
	if (!n)
		return;
	memcpy(n + old, line, add);
	n[old + add] = '\n';
	n[old + add + 1] = '\0';
	*text = n;
}

void tls_peer_clear(struct tls_peer *p)
{
	free(p->subject);
	free(p->serial);
	free(p->cn);
	free(p->san_dns);
	free(p->san_uri);
	free(p->der);
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

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* A name from the certificate as a string; none when it holds a NUL (it
 * would end the string early: "dev-1\0.evil" must not read as "dev-1"). */
static char *dup_span(struct der_span v)
{
	if (!v.n || memchr(v.p, '\0', v.n))
		return NULL;
	return dup_n((const char *)v.p, v.n);
}

/* Copy what moat needs of the leaf (DER) into p, so nothing of the
 * certificate itself has to be kept for the life of the connection. */
static void peer_take(struct tls_peer *p, const uint8_t *der, int len)
{
	struct x509_fields f;
	char subject[512];

	{ /* keep what the session set up and OCSP found so far */
		struct tls_peer keep = *p;

		tls_peer_clear(p);
		p->ocsp_mode = keep.ocsp_mode;
		p->ocsp_override = keep.ocsp_override;
		p->ocsp_io_failed = keep.ocsp_io_failed;
		p->ocsp_io_stale = keep.ocsp_io_stale;
		p->ocsp_state = keep.ocsp_state;
		p->cm = keep.cm;
		p->crl_on = keep.crl_on;
		p->crl_reject_after = keep.crl_reject_after;
	}
	p->has_cert = 1;
	if (len <= 0 || (p->der = malloc((size_t)len)) == NULL)
		return;
	memcpy(p->der, der, (size_t)len);
	p->der_len = len;
	/* wolfSSL has parsed and verified it; this only reads fields */
	if (x509_read(der, (size_t)len, &f) < 0)
		return;
	der_name_str(f.subject.p, f.subject.n, subject, sizeof(subject));
	p->subject = strdup(subject);
	p->cn = dup_span(f.cn);
	p->san_dns = dup_span(f.san_dns);
	p->san_uri = dup_span(f.san_uri);
	p->ocsp_url = f.ocsp_url;
	if ((p->serial = malloc(f.serial.n * 2 + 1))) {
		for (size_t i = 0; i < f.serial.n; i++)
			snprintf(p->serial + 2 * i, 3, "%02x", f.serial.p[i]);
		p->serial[f.serial.n * 2] = '\0';
	}
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

static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	struct tls_peer *p = store->userCtx;
	int error = native_err(store->error);

	if (!p)
		return preverify;
	if (!preverify && p->ocsp_mode != CFG_OCSP_OFF &&
	    ocsp_verdict(p, error))
		preverify = 1;
	if (!preverify && !p->verify_err)
		p->verify_err = error ? error : -1;
	if (store->error_depth == 0 && store->certs && store->totalCerts > 0) {
		int err = p->verify_err;

		peer_take(p, store->certs[0].buffer, (int)store->certs[0].length);
		p->verify_err = err;
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

/* The responder wolfSSL is told of when tls.cert names none (no
 * authorityInfoAccess): wolfSSL asks for a staple only when it has a URL.
 * Nothing is ever sent there: conn's OCSP callback knows the request by
 * its CertID (tls_is_staple_request) and answers with the file. */
#define STAPLE_URL "http://staple.invalid/"

static int ocsp_io_cb(void *ctx, const char *url, int url_len,
		      unsigned char *req, int req_len, unsigned char **resp)
{
	static const uint8_t try_later[] = {0x30, 0x03, 0x0a, 0x01, 0x03};
	struct tls_io *io = ctx;

	*resp = NULL;
	if (!io || !io->ocsp)
		return -1;
	/* Another certificate of our chain (status_request_v2 asks for them
	 * too) has no answer at STAPLE_URL: "tryLater", on which wolfSSL
	 * staples nothing for it and goes on. */
	if (url_len == (int)strlen(STAPLE_URL) &&
	    !memcmp(url, STAPLE_URL, (size_t)url_len) && req_len > 0 &&
	    !tls_is_staple_request(io->tls, req, (size_t)req_len)) {
		if (!(*resp = malloc(sizeof(try_later))))
			return -1;
		memcpy(*resp, try_later, sizeof(try_later));
		return (int)sizeof(try_later);
	}
	return io->ocsp(io->arg, url, url_len, req, req_len, resp);
}

static void ocsp_free_cb(void *ctx, unsigned char *resp)
{
	(void)ctx;
	free(resp);
}

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tls_io *io = ctx;
	size_t n;

	(void)ssl;
	if (io->held_off < io->held_len) {
		n = io->held_len - io->held_off;
		if (n > (size_t)sz)
			n = (size_t)sz;
		memcpy(buf, io->held + io->held_off, n);
		io->held_off += n;
		if (io->held_off == io->held_len)
			io->held_off = io->held_len = 0;
		return (int)n;
	}
	if (io->rx_len == 0)
		return io->eof ? WOLFSSL_CBIO_ERR_CONN_CLOSE
			       : WOLFSSL_CBIO_ERR_WANT_READ;
	n = io->rx_len < (size_t)sz ? io->rx_len : (size_t)sz;
	memcpy(buf, io->rx, n);
	io->rx += n;
	io->rx_len -= n;
	return (int)n;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tls_io *io = ctx;

	(void)ssl;
	if (io->send(io->arg, (const uint8_t *)buf, (size_t)sz) < 0)
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	return sz;
}

int tls_io_stash(struct tls_io *io)
{
	size_t keep = io->held_len - io->held_off;
	uint8_t *n;

	if (!io->rx_len)
		return 0;
	n = malloc(keep + io->rx_len);
	if (!n)
		return -1;
	if (keep)
		memcpy(n, io->held + io->held_off, keep);
	memcpy(n + keep, io->rx, io->rx_len);
	free(io->held);
	io->held = n;
	io->held_off = 0;
	io->held_len = keep + io->rx_len;
	io->rx_len = 0;
	return 0;
}

void tls_io_free(struct tls_io *io)
{
	free(io->held);
	io->held = NULL;
	io->held_len = io->held_off = 0;
}

int tls_global_init(void)
{
	return wolfSSL_Init() == WOLFSSL_SUCCESS ? 0 : -1;
}

void tls_global_cleanup(void)
{
	wolfSSL_Cleanup();
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 > cap) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);

		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

#define CRL_BEGIN "-----BEGIN X509 CRL-----"
#define PEM_CRL CRL_BEGIN, "-----END X509 CRL-----"
#define PEM_CERT "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"

typedef int (*der_fn)(const uint8_t *der, size_t len, void *arg);

/* Calls fn with the DER of each PEM block of buf (between begin and end
 * lines), in order, until fn returns nonzero; a block that does not decode
 * comes as (NULL, 0). */
static void pem_each(const char *buf, const char *begin, const char *end,
		     der_fn fn, void *arg)
{
	for (const char *p = strstr(buf, begin); p; p = strstr(p, begin)) {
		const char *e = strstr(p, end);
		word32 n;
		uint8_t *der;
		int stop;

		if (!e)
			break;
		p += strlen(begin);
		n = (word32)(e - p);
		der = malloc(n ? n : 1);
		if (der && Base64_Decode((const byte *)p, (word32)(e - p), der,
					 &n) != 0) {
			free(der);
			der = NULL;
		}
		stop = fn(der, der ? n : 0, arg);
		free(der);
		if (stop)
			break;
		p = e + strlen(end);
	}
}

/* pem_each over a file. */
static void each_pem(const char *path, const char *begin, const char *end,
		     der_fn fn, void *arg)
{
	size_t len;
	char *buf = path ? read_file(path, &len) : NULL;

	if (buf) {
		pem_each(buf, begin, end, fn, arg);
		free(buf);
	}
}

struct crl_load {
	WOLFSSL_CTX *ctx;
	int count, bad;
};

static int load_one_crl(const uint8_t *der, size_t len, void *arg)
{
	struct crl_load *l = arg;

	if (!der || wolfSSL_CTX_LoadCRLBuffer(l->ctx, der, (long)len,
					      WOLFSSL_FILETYPE_ASN1) !=
			    WOLFSSL_SUCCESS) {
		l->bad = 1;
		return 1;
	}
	l->count++;
	return 0;
}

/* A CRL file may hold several CRLs (one per CA of the chain), PEM one after
 * the other, or a single DER CRL. wolfSSL loads one CRL per call. */
static int load_crls(WOLFSSL_CTX *ctx, const char *path, char **why)
{
	size_t len;
	char *buf = read_file(path, &len);
	struct crl_load l = {ctx, 0, 0};

	if (!buf) {
		*why = strerror(errno);
		return -1;
	}
	if (!strstr(buf, CRL_BEGIN)) {
		load_one_crl((const uint8_t *)buf, len, &l);
		free(buf);
		if (l.bad) {
			*why = "not a CRL (PEM or DER), or not signed by a "
			       "CA of client_ca";
			return -1;
		}
		return 1;
	}
	pem_each(buf, PEM_CRL, load_one_crl, &l);
	free(buf);
	if (l.bad) {
		*why = "a CRL in it does not load (bad format, or not signed "
		       "by a CA of client_ca)";
		return -1;
	}
	if (!l.count) {
		*why = "no CRL found in it";
		return -1;
	}
	return l.count;
}

#ifdef HAVE_SESSION_TICKET
/* Session tickets that keep the client's identity.
 *
 * A resumed handshake has no client certificate, and wolfSSL's tickets do
 * not carry it, so without help a resumed device would lose its identity
 * (and its CRL check). moat encrypts tickets itself (AES-256-GCM, a key
 * made at start) and uses the 16-byte IV, random per ticket, as a token
 * into a bounded table holding what the full handshake learnt of the leaf.
 * A ticket whose token is gone (evicted, expired, another process) is
 * refused, and the client does a full handshake: never a resumption
 * without identity. On resumption the kept leaf is checked against the
 * current CRL again. */

#define TICKET_SLOTS 16384
#define TICKET_LIFETIME_S 3600

struct ticket_ent {
	uint8_t token[WOLFSSL_TICKET_IV_SZ];
	uint64_t expires_ms;
	struct tls_peer peer; /* has_cert 0: a session without certificate */
	int used;
};

struct tls_tickets {
	uv_mutex_t lock; /* workers share the table, the AES and RNG state */
	Aes aes;
	uint8_t name[WOLFSSL_TICKET_NAME_SZ];
	WC_RNG rng;
	struct ticket_ent *slots;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void peer_copy(struct tls_peer *d, const struct tls_peer *s)
{
	memset(d, 0, sizeof(*d));
	d->has_cert = s->has_cert;
	d->ocsp_state = s->ocsp_state;
	d->subject = dup_or_null(s->subject);
	d->serial = dup_or_null(s->serial);
	d->cn = dup_or_null(s->cn);
	d->san_dns = dup_or_null(s->san_dns);
	d->san_uri = dup_or_null(s->san_uri);
	if (s->der && (d->der = malloc((size_t)s->der_len))) {
		memcpy(d->der, s->der, (size_t)s->der_len);
		d->der_len = s->der_len;
	}
}

static struct ticket_ent *ticket_slot(struct tls_tickets *tk,
				      const uint8_t *token)
{
	uint32_t h;

	memcpy(&h, token, sizeof(h)); /* the token is random */
	return &tk->slots[h % TICKET_SLOTS];
}

static int (*revoked_lookup)(const char *serial);

void tls_set_revoked_lookup(int (*fn)(const char *serial))
{
	revoked_lookup = fn;
}

static int ticket_cb_locked(WOLFSSL *ssl,
			    unsigned char name[WOLFSSL_TICKET_NAME_SZ],
		     unsigned char iv[WOLFSSL_TICKET_IV_SZ],
		     unsigned char mac[WOLFSSL_TICKET_MAC_SZ], int enc,
		     unsigned char *ticket, int inLen, int *outLen,
		     void *userCtx)
{
	struct tls_ctx *t = userCtx;
	struct tls_tickets *tk = t->tickets;
	struct tls_io *io = wolfSSL_GetIOReadCtx(ssl);
	struct tls_peer *peer = io ? io->peer : NULL;
	struct ticket_ent *e;
	uint64_t now = util_now_ms();

	if (!tk || !peer)
		return WOLFSSL_TICKET_RET_FATAL;
	if (enc) {
		memcpy(name, tk->name, WOLFSSL_TICKET_NAME_SZ);
		if (wc_RNG_GenerateBlock(&tk->rng, iv, WOLFSSL_TICKET_IV_SZ))
			return WOLFSSL_TICKET_RET_FATAL;
		memset(mac, 0, WOLFSSL_TICKET_MAC_SZ);
		if (wc_AesGcmEncrypt(&tk->aes, ticket, ticket, (word32)inLen,
				     iv, 12, mac, 16, name,
				     WOLFSSL_TICKET_NAME_SZ))
			return WOLFSSL_TICKET_RET_FATAL;
		*outLen = inLen;
		e = ticket_slot(tk, iv);
		if (e->used)
			tls_peer_clear(&e->peer);
		memcpy(e->token, iv, WOLFSSL_TICKET_IV_SZ);
		e->expires_ms = now + TICKET_LIFETIME_S * 1000ull;
		peer_copy(&e->peer, peer);
		e->used = 1;
		return WOLFSSL_TICKET_RET_OK;
	}
	if (memcmp(name, tk->name, WOLFSSL_TICKET_NAME_SZ) != 0)
		return WOLFSSL_TICKET_RET_REJECT;
	e = ticket_slot(tk, iv);
	if (!e->used || memcmp(e->token, iv, WOLFSSL_TICKET_IV_SZ) != 0 ||
	    e->expires_ms < now)
		return WOLFSSL_TICKET_RET_REJECT;
	if (wc_AesGcmDecrypt(&tk->aes, ticket, ticket, (word32)inLen, iv, 12,
			     mac, 16, name, WOLFSSL_TICKET_NAME_SZ))
		return WOLFSSL_TICKET_RET_REJECT;
	/* A certificate revoked since the ticket was made does not resume. */
	if (e->peer.der && t->cfg->crl &&
	    wolfSSL_CertManagerCheckCRL(wolfSSL_CTX_GetCertManager(t->ctx),
					e->peer.der,
					e->peer.der_len) != WOLFSSL_SUCCESS)
		return WOLFSSL_TICKET_RET_REJECT;
	/* Nor one whose OCSP check did not pass, or that OCSP has since
	 * found revoked. */
	if (peer->ocsp_mode != CFG_OCSP_OFF &&
	    (e->peer.ocsp_state >= TLS_OCSP_UNAVAILABLE ||
	     (revoked_lookup && e->peer.serial &&
	      revoked_lookup(e->peer.serial))))
		return WOLFSSL_TICKET_RET_REJECT;
	*outLen = inLen;
	{
		struct tls_peer keep = *peer; /* its session settings */

		tls_peer_clear(peer);
		peer_copy(peer, &e->peer);
		peer->ocsp_mode = keep.ocsp_mode;
		peer->ocsp_override = keep.ocsp_override;
		peer->cm = keep.cm;
		peer->crl_on = keep.crl_on;
		peer->crl_reject_after = keep.crl_reject_after;
	}
	peer->resumed = 1;
	return WOLFSSL_TICKET_RET_OK;
}

static int ticket_cb(WOLFSSL *ssl, unsigned char name[WOLFSSL_TICKET_NAME_SZ],
		     unsigned char iv[WOLFSSL_TICKET_IV_SZ],
		     unsigned char mac[WOLFSSL_TICKET_MAC_SZ], int enc,
		     unsigned char *ticket, int inLen, int *outLen,
		     void *userCtx)
{
	struct tls_ctx *t = userCtx;
	int r;

	if (!t->tickets)
		return WOLFSSL_TICKET_RET_FATAL;
	uv_mutex_lock(&t->tickets->lock);
	r = ticket_cb_locked(ssl, name, iv, mac, enc, ticket, inLen, outLen,
			     userCtx);
	uv_mutex_unlock(&t->tickets->lock);
	return r;
}

static int tickets_init(struct tls_ctx *t)
{
	struct tls_tickets *tk = calloc(1, sizeof(*tk));
	uint8_t key[32];

	if (!tk)
		return -1;
	tk->slots = calloc(TICKET_SLOTS, sizeof(*tk->slots));
	if (!tk->slots || wc_InitRng(&tk->rng) != 0) {
		free(tk->slots);
		free(tk);
		return -1;
	}
	uv_mutex_init(&tk->lock);
	t->tickets = tk;
	if (wc_RNG_GenerateBlock(&tk->rng, key, sizeof(key)) ||
	    wc_RNG_GenerateBlock(&tk->rng, tk->name, sizeof(tk->name)) ||
	    wc_AesInit(&tk->aes, NULL, INVALID_DEVID) ||
	    wc_AesGcmSetKey(&tk->aes, key, sizeof(key)))
		return -1;
	memset(key, 0, sizeof(key));
	wolfSSL_CTX_set_TicketEncCtx(t->ctx, t);
	wolfSSL_CTX_set_TicketEncCb(t->ctx, ticket_cb);
	wolfSSL_CTX_set_TicketHint(t->ctx, TICKET_LIFETIME_S);
	return 0;
}

static void tickets_free(struct tls_tickets *tk)
{
	if (!tk)
		return;
	for (size_t i = 0; tk->slots && i < TICKET_SLOTS; i++)
		if (tk->slots[i].used)
			tls_peer_clear(&tk->slots[i].peer);
	free(tk->slots);
	wc_AesFree(&tk->aes);
	wc_FreeRng(&tk->rng);
	uv_mutex_destroy(&tk->lock);
	free(tk);
}
#else
static int tickets_init(struct tls_ctx *t)
{
	(void)t;
	return 0;
}

static void tickets_free(struct tls_tickets *tk)
{
	(void)tk;
}
#endif

const char *tls_time_str(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!t || !gmtime_r(&tt, &tm)) {
		snprintf(buf, len, "-");
		return buf;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static int info_ca(const uint8_t *der, size_t len, void *arg)
{
	struct tls_info *in = arg;
	struct x509_fields f;

	if (x509_read(der, len, &f) == 0 &&
	    (!in->ca_not_after || f.not_after < in->ca_not_after)) {
		in->ca_not_after = f.not_after;
		der_name_str(f.subject.p, f.subject.n, in->ca_first_expiring,
			     sizeof(in->ca_first_expiring));
	}
	return 0;
}

static int info_crl(const uint8_t *der, size_t len, void *arg)
{
	struct tls_info *in = arg;
	struct crl_fields f;

	if (in->n_crls == TLS_MAX_CRLS)
		return 1;
	if (crl_read(der, len, &f) < 0)
		return 0;
	der_name_str(f.issuer.p, f.issuer.n, in->crl[in->n_crls].issuer,
		     sizeof(in->crl[0].issuer));
	in->crl[in->n_crls].this_update = f.this_update;
	in->crl[in->n_crls].next_update = f.next_update;
	in->n_crls++;
	return 0;
}

static int info_cert(const uint8_t *der, size_t len, void *arg)
{
	struct tls_info *in = arg;
	struct x509_fields f;

	if (x509_read(der, len, &f) == 0) {
		der_name_str(f.subject.p, f.subject.n, in->cert_subject,
			     sizeof(in->cert_subject));
		in->cert_not_after = f.not_after;
	}
	return 1; /* the first is the leaf */
}

static void info_load(struct tls_ctx *t)
{
	struct tls_info *in = &t->info;

	each_pem(t->cfg->cert, PEM_CERT, info_cert, in);
	if (t->cfg->verify_client != CFG_VERIFY_NONE)
		each_pem(t->cfg->client_ca, PEM_CERT, info_ca, in);
	if (t->cfg->crl && t->cfg->verify_client != CFG_VERIFY_NONE)
		each_pem(t->cfg->crl, PEM_CRL, info_crl, in);
}

#define POSF(pos) (pos).file, (pos).line, (pos).col

/* ---- stapling our own certificate ---- */

struct capture {
	char *url;
	uint8_t *req;
	size_t req_len;
	const uint8_t *resp; /* the answer to give wolfSSL, or NULL */
	size_t resp_len;
};

static int capture_cb(void *ctx, const char *url, int url_len,
		      unsigned char *req, int req_len, unsigned char **resp)
{
	struct capture *cap = ctx;

	*resp = NULL;
	free(cap->url);
	free(cap->req);
	cap->url = strndup(url, (size_t)url_len);
	cap->req = malloc((size_t)req_len);
	if (cap->req)
		memcpy(cap->req, req, (size_t)req_len);
	cap->req_len = (size_t)req_len;
	if (!cap->resp || !(*resp = malloc(cap->resp_len)))
		return -1; /* we only wanted the request */
	memcpy(*resp, cap->resp, cap->resp_len);
	return (int)cap->resp_len;
}

struct leaf {
	uint8_t *der;
	int len;
};

static int take_leaf(const uint8_t *der, size_t len, void *arg)
{
	struct leaf *l = arg;

	if (der && (l->der = malloc(len))) {
		memcpy(l->der, der, len);
		l->len = (int)len;
	}
	return 1;
}

/* The DER of the first certificate in a PEM file (malloc'd). */
static uint8_t *leaf_der(const char *path, int *len)
{
	struct leaf l = {NULL, 0};

	each_pem(path, PEM_CERT, take_leaf, &l);
	*len = l.len;
	return l.der;
}

/* Why an answer cannot be stapled now (a word for logs and `show tls`),
 * or NULL when it can. fresh: not past its nextUpdate; slack: how far in
 * the future its thisUpdate may be. */
static const char *answer_why(const struct ocsp_answer *a, int fresh,
			      int64_t now, int64_t slack)
{
	if (a->cert_status == OCSP_CS_REVOKED)
		return "status_revoked";
	if (a->cert_status != OCSP_CS_GOOD)
		return "status_unknown";
	if (!fresh)
		return "expired";
	if (a->this_update > now + slack)
		return "not_yet_valid";
	return NULL;
}

/* Why moat sends no staple now (NULL: it sends one), with the answer it
 * has in *a (cert_status -1 when none). */
static const char *staple_why(const struct tls_ctx *t, struct ocsp_cache *oc,
			      struct ocsp_answer *a)
{
	const struct tls_staple *st = &t->staple;
	int64_t now = (int64_t)time(NULL);
	int fresh;

	memset(a, 0, sizeof(*a));
	a->cert_status = -1;
	if (st->mode == CFG_STAPLE_FILE) {
		a->cert_status = st->file_status;
		a->this_update = st->file_this_update;
		a->next_update = st->file_next_update;
		/* as wolfSSL, which keeps serving the answer it has checked
		 * (without asking again) up to its nextUpdate, inclusive, and
		 * refuses one whose thisUpdate is ahead: no slack */
		return answer_why(a, !a->next_update || now <= a->next_update,
				  now, 0);
	}
	/* auto: what ocsp_copy_good hands out */
	fresh = oc ? ocsp_peek(oc, st->req, st->req_len, a) : -1;
	if (fresh < 0)
		return "no_answer";
	return answer_why(a, fresh, now, 60);
}

static void staple_log_unusable(const struct tls_ctx *t, const char *why,
				const struct ocsp_answer *a)
{
	char tu[32], nu[32];

	log_event(LOG_WARN, "staple_unusable", "cert", t->cfg->cert, "file",
		  t->cfg->staple_file, "reason", why, "status",
		  ocsp_status_name(a->cert_status), "this_update",
		  tls_time_str(a->this_update, tu, sizeof(tu)), "next_update",
		  tls_time_str(a->next_update, nu, sizeof(nu)), "detail",
		  "no OCSP staple is sent: put a good, current response in "
		  "the file and reload",
		  NULL);
}

/* tls.staple: FILE: read the response and have wolfSSL check it as it
 * will at each handshake (cap's scratch certificate manager, cm). The
 * dates and status of tls.cert's answer go into t->staple; a response
 * wolfSSL refuses outright is a config error, one it cannot serve now or
 * not yet is logged (staple_unusable) and not stapled. -EINVAL when the
 * error is in *errors. */
static int staple_file_load(struct tls_ctx *t, WOLFSSL_CERT_MANAGER *cm,
			    struct capture *cap, const uint8_t *der, int len,
			    char **errors)
{
	const struct cfg_tls *cfg = t->cfg;
	struct tls_staple *st = &t->staple;
	struct ocsp_certid id;
	struct ocsp_answer a;
	const char *why;
	size_t fl = 0;
	int wolf;

	st->file = (uint8_t *)read_file(cfg->staple_file, &fl);
	st->file_len = fl;
	if (!st->file) {
		errtext_add(errors, "%s:%d:%d: tls.staple: cannot read '%s'",
			    POSF(cfg->staple_pos), cfg->staple_file);
		return -EINVAL;
	}
	cap->resp = st->file;
	cap->resp_len = fl;
	wolf = wolfSSL_CertManagerCheckOCSP(cm, (unsigned char *)der, len);
	cap->resp = NULL;
	if (!cap->req || ocsp_req_certid(cap->req, cap->req_len, &id) < 0)
		return -ENOMEM;
	if (ocsp_resp_parse(st->file, fl, &id, &a) < 0 ||
	    a.response_status != 0) {
		errtext_add(errors,
			    "%s:%d:%d: tls.staple: '%s' is not a successful "
			    "DER OCSP response for tls.cert",
			    POSF(cfg->staple_pos), cfg->staple_file);
		return -EINVAL;
	}
	st->file_status = a.cert_status;
	st->file_this_update = a.this_update;
	st->file_next_update = a.next_update;
	why = staple_why(t, NULL, &a);
	if (!why && wolf != WOLFSSL_SUCCESS) {
		errtext_add(errors,
			    "%s:%d:%d: tls.staple: wolfSSL does not accept "
			    "'%s' (error %d): it must be signed by the issuer "
			    "of tls.cert, or by a certificate that issuer made "
			    "for OCSP signing (id-kp-OCSPSigning) and that is "
			    "in the response",
			    POSF(cfg->staple_pos), cfg->staple_file, wolf);
		return -EINVAL;
	}
	if (why) {
		staple_log_unusable(t, why, &a);
		st->logged_why = why;
	}
	return 0;
}

/* Sets up tls.staple: the request wolfSSL will make for tls.cert (captured
 * from a scratch certificate manager holding the client CAs: wolfSSL
 * builds and checks a staple against the listener's CA store, so the
 * issuer of tls.cert must be there), and for FILE the response. */
static int staple_init(struct tls_ctx *t, char **errors)
{
	const struct cfg_tls *cfg = t->cfg;
	struct tls_staple *st = &t->staple;
	struct capture cap = {0};
	WOLFSSL_CERT_MANAGER *cm = NULL;
	int len = 0, has_url, ok = -1, client_ocsp;
	uint8_t *der = leaf_der(cfg->cert, &len);

	st->mode = (int)cfg->staple;
	st->file_status = -1;
	client_ocsp = cfg->ocsp.mode != CFG_OCSP_OFF &&
		      cfg->verify_client != CFG_VERIFY_NONE;
	if (!der)
		goto fail;
	if (wolfSSL_CertManagerVerifyBuffer(wolfSSL_CTX_GetCertManager(t->ctx),
					    der, len, WOLFSSL_FILETYPE_ASN1) !=
	    WOLFSSL_SUCCESS) {
		errtext_add(errors,
			    "%s:%d:%d: tls.staple: the issuer of tls.cert must "
			    "be among the tls.client_ca certificates (wolfSSL "
			    "checks a staple against them)",
			    POSF(cfg->staple_pos));
		goto out;
	}
	has_url = ocsp_cert_has_url(der, (size_t)len) == 1;
	if (cfg->staple == CFG_STAPLE_AUTO && !has_url) {
		errtext_add(errors,
			    "%s:%d:%d: tls.staple: auto needs an OCSP URL in "
			    "tls.cert (authorityInfoAccess); use a file",
			    POSF(cfg->staple_pos));
		goto out;
	}
	/* wolfSSL keeps one responder override for client certificates and
	 * for the staple: with client OCSP on, it must be tls.ocsp.responder,
	 * or client certificates would lose their own AIA responders. */
	if (!has_url && client_ocsp &&
	    !(cfg->ocsp.responder && cfg->ocsp.responder[0])) {
		errtext_add(errors,
			    "%s:%d:%d: tls.staple: tls.cert names no OCSP "
			    "responder (authorityInfoAccess), and with "
			    "tls.ocsp on wolfSSL asks for the staple only "
			    "through tls.ocsp.responder: set it, or use a "
			    "certificate with an OCSP URL",
			    POSF(cfg->staple_pos));
		goto out;
	}
	cm = wolfSSL_CertManagerNew();
	if (!cm ||
	    wolfSSL_CertManagerLoadCA(cm, cfg->client_ca, NULL) !=
		    WOLFSSL_SUCCESS ||
	    wolfSSL_CertManagerEnableOCSP(
		    cm, WOLFSSL_OCSP_NO_NONCE |
				(has_url ? 0 : WOLFSSL_OCSP_URL_OVERRIDE)) !=
		    WOLFSSL_SUCCESS ||
	    (!has_url && wolfSSL_CertManagerSetOCSPOverrideURL(
				 cm, STAPLE_URL) != WOLFSSL_SUCCESS) ||
	    wolfSSL_CertManagerSetOCSP_Cb(cm, capture_cb, ocsp_free_cb,
					  &cap) != WOLFSSL_SUCCESS)
		goto fail;
	if (cfg->staple == CFG_STAPLE_FILE) {
		int r = staple_file_load(t, cm, &cap, der, len, errors);

		if (r == -EINVAL)
			goto out;
		if (r < 0)
			goto fail;
	} else {
		wolfSSL_CertManagerCheckOCSP(cm, der, len);
	}
	if (!cap.req || !cap.url)
		goto fail;
	st->url = cap.url;
	st->req = cap.req;
	st->req_len = cap.req_len;
	cap.url = NULL;
	cap.req = NULL;
	/* Without a URL in tls.cert, wolfSSL asks for the staple only at an
	 * override URL. With client OCSP off the override serves the staple
	 * alone (OCSP stays disabled for client certificates); with it on,
	 * the override is tls.ocsp.responder (set by tls_ctx_new). */
	if (!has_url && !client_ocsp &&
	    (wolfSSL_CTX_EnableOCSP(t->ctx, WOLFSSL_OCSP_NO_NONCE |
						    WOLFSSL_OCSP_URL_OVERRIDE) !=
		     WOLFSSL_SUCCESS ||
	     wolfSSL_CTX_SetOCSP_OverrideURL(t->ctx, STAPLE_URL) !=
		     WOLFSSL_SUCCESS ||
	     wolfSSL_CTX_DisableOCSP(t->ctx) != WOLFSSL_SUCCESS))
		goto fail;
	if (wolfSSL_CTX_EnableOCSPStapling(t->ctx) != WOLFSSL_SUCCESS)
		goto fail;
	ok = 0;
	goto out;
fail:
	errtext_add(errors, "%s:%d:%d: tls.staple: cannot set up stapling",
		    POSF(cfg->staple_pos));
out:
	if (cm)
		wolfSSL_CertManagerFree(cm);
	free(cap.url);
	free(cap.req);
	free(der);
	return ok;
}

int tls_is_staple_request(const struct tls_ctx *t, const uint8_t *req,
			  size_t req_len)
{
	struct ocsp_certid a, b;

	if (!t || !t->staple.req ||
	    ocsp_req_certid(t->staple.req, t->staple.req_len, &a) < 0 ||
	    ocsp_req_certid(req, req_len, &b) < 0)
		return 0;
	return a.len == b.len && !memcmp(a.der, b.der, a.len);
}

uint8_t *tls_staple_get(struct tls_ctx *t, struct ocsp_cache *oc,
			const uint8_t *req, size_t req_len, size_t *len)
{
	struct tls_staple *st = &t->staple;
	struct ocsp_answer a;
	const char *why;
	uint8_t *copy;

	if (st->mode != CFG_STAPLE_FILE)
		return oc ? ocsp_copy_good(oc, req, req_len, len) : NULL;
	why = staple_why(t, NULL, &a);
	if (why) {
		/* the file has run out since load (or since it was last
		 * logged for another reason): say so once */
		if (__atomic_exchange_n(&st->logged_why, why,
					__ATOMIC_RELAXED) != why)
			staple_log_unusable(t, why, &a);
		log_event(LOG_DEBUG, "staple_none", "cert", t->cfg->cert,
			  "reason", why, NULL);
		return NULL;
	}
	if ((copy = malloc(st->file_len))) {
		memcpy(copy, st->file, st->file_len);
		*len = st->file_len;
	}
	return copy;
}

void tls_staple_describe(const struct tls_ctx *t, struct ocsp_cache *oc,
			 char *buf, size_t len)
{
	const struct tls_staple *st = &t->staple;
	struct ocsp_answer a;
	const char *why;
	char tu[32], nu[32];

	if (st->mode == CFG_STAPLE_OFF || !st->req) {
		snprintf(buf, len, "staple: off\n");
		return;
	}
	why = staple_why(t, oc, &a);
	snprintf(buf, len,
		 "staple: %s\nstaple_source: %s\nstaple_status: %s\n"
		 "staple_this_update: %s\nstaple_next_update: %s\n"
		 "staple_reason: %s\n",
		 why ? "none" : "good",
		 st->mode == CFG_STAPLE_FILE ? t->cfg->staple_file : "auto",
		 ocsp_status_name(a.cert_status),
		 tls_time_str(a.this_update, tu, sizeof(tu)),
		 tls_time_str(a.next_update, nu, sizeof(nu)), why ? why : "-");
}

struct tls_ctx *tls_ctx_new(const struct cfg_tls *cfg, char **errors)
{
	struct tls_ctx *t = calloc(1, sizeof(*t));
	WOLFSSL_CTX *ctx;
	int mode, ret;
	char *why = "cannot enable CRL checking";

	if (!t)
		return NULL;
	t->cfg = cfg;
	ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
	if (!ctx) {
		errtext_add(errors, "%s:%d:%d: tls: cannot create a context",
			    POSF(cfg->cert_pos));
		goto fail;
	}
	t->ctx = ctx;
	wolfSSL_CTX_SetMinVersion(ctx, cfg->min_version == 13
					       ? WOLFSSL_TLSV1_3
					       : WOLFSSL_TLSV1_2);
	ret = wolfSSL_CTX_use_certificate_chain_file(ctx, cfg->cert);
	if (ret != WOLFSSL_SUCCESS) {
		errtext_add(errors,
			    "%s:%d:%d: tls.cert: '%s' is not a PEM certificate "
			    "chain wolfSSL can load (error %d)",
			    POSF(cfg->cert_pos), cfg->cert, ret);
		goto fail;
	}
	{
		struct stat st;

		/* a key others can read is a key others may have */
		if (stat(cfg->key, &st) == 0 && (st.st_mode & 0077))
			log_event(LOG_WARN, "key_permissions", "file", cfg->key,
				  "detail",
				  "readable or writable by group or others; "
				  "chmod 600 it",
				  NULL);
	}
	ret = wolfSSL_CTX_use_PrivateKey_file(ctx, cfg->key,
					      WOLFSSL_FILETYPE_PEM);
	if (ret != WOLFSSL_SUCCESS) {
		errtext_add(errors,
			    "%s:%d:%d: tls.key: '%s' is not a PEM private key "
			    "wolfSSL can load (error %d)",
			    POSF(cfg->key_pos), cfg->key, ret);
		goto fail;
	}
	if (wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS) {
		errtext_add(errors,
			    "%s:%d:%d: tls.key: '%s' does not match the "
			    "certificate '%s'",
			    POSF(cfg->key_pos), cfg->key, cfg->cert);
		goto fail;
	}
	if (cfg->verify_client != CFG_VERIFY_NONE) {
		ret = wolfSSL_CTX_load_verify_locations(ctx, cfg->client_ca,
							NULL);
		if (ret != WOLFSSL_SUCCESS) {
			errtext_add(errors,
				    "%s:%d:%d: tls.client_ca: '%s' holds no CA "
				    "certificate wolfSSL can load (error %d)",
				    POSF(cfg->client_ca_pos), cfg->client_ca,
				    ret);
			goto fail;
		}
	}
	if (cfg->crl && cfg->verify_client != CFG_VERIFY_NONE) {
		if (wolfSSL_CTX_EnableCRL(ctx, WOLFSSL_CRL_CHECKALL) !=
			    WOLFSSL_SUCCESS ||
		    load_crls(ctx, cfg->crl, &why) < 0) {
			errtext_add(errors, "%s:%d:%d: tls.crl: '%s': %s",
				    POSF(cfg->crl_pos), cfg->crl, why);
			goto fail;
		}
	}
	switch (cfg->verify_client) {
	case CFG_VERIFY_REQUIRED:
		mode = WOLFSSL_VERIFY_PEER |
		       WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT;
		break;
	case CFG_VERIFY_OPTIONAL:
		mode = WOLFSSL_VERIFY_PEER;
		break;
	default:
		mode = WOLFSSL_VERIFY_NONE;
		break;
	}
	/* after staple_init: enabling OCSP or stapling puts wolfSSL's own
	 * (blocking) HTTP lookup in place */
	if (cfg->staple != CFG_STAPLE_OFF &&
	    (staple_init(t, errors) < 0 ||
	     wolfSSL_CTX_SetOCSP_Cb(ctx, ocsp_io_cb, ocsp_free_cb, NULL) !=
		     WOLFSSL_SUCCESS))
		goto fail;
	if (cfg->ocsp.mode != CFG_OCSP_OFF &&
	    cfg->verify_client != CFG_VERIFY_NONE) {
		int opts = WOLFSSL_OCSP_NO_NONCE;

		if (cfg->ocsp.check == CFG_OCSP_CHAIN)
			opts |= WOLFSSL_OCSP_CHECKALL;
		if (cfg->ocsp.responder && cfg->ocsp.responder[0])
			opts |= WOLFSSL_OCSP_URL_OVERRIDE;
		if (wolfSSL_CTX_EnableOCSP(ctx, opts) != WOLFSSL_SUCCESS ||
		    ((opts & WOLFSSL_OCSP_URL_OVERRIDE) &&
		     wolfSSL_CTX_SetOCSP_OverrideURL(ctx, cfg->ocsp.responder) !=
			     WOLFSSL_SUCCESS) ||
		    wolfSSL_CTX_SetOCSP_Cb(ctx, ocsp_io_cb, ocsp_free_cb,
					   NULL) != WOLFSSL_SUCCESS) {
			errtext_add(errors, "%s:%d:%d: tls.ocsp: cannot enable "
				    "OCSP in wolfSSL", POSF(cfg->ocsp.pos));
			goto fail;
		}
	}
	wolfSSL_CTX_set_verify(ctx, mode, mode == WOLFSSL_VERIFY_NONE
						  ? NULL
						  : verify_cb);
	/* No resumption by session ID: such a session would come back
	 * without the client's identity. moat's own tickets keep it. */
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
	if (!cfg->session_tickets) {
		wolfSSL_CTX_NoTicketTLSv12(ctx);
		wolfSSL_CTX_no_ticket_TLSv13(ctx);
	} else if (tickets_init(t) < 0) {
		errtext_add(errors, "%s:%d:%d: tls: cannot set up session tickets",
			    POSF(cfg->cert_pos));
		goto fail;
	}
	wolfSSL_CTX_SetIORecv(ctx, io_recv);
	wolfSSL_CTX_SetIOSend(ctx, io_send);
	info_load(t);
	for (int i = 0; i < t->info.n_crls; i++) {
		int64_t nu = t->info.crl[i].next_update;
		char when[32];

		if (nu && nu < (int64_t)time(NULL))
			log_event(LOG_WARN, "crl_expired", "crl", cfg->crl,
				  "issuer", t->info.crl[i].issuer,
				  "next_update",
				  tls_time_str(nu, when, sizeof(when)), NULL);
	}
	return t;
fail:
	tls_ctx_free(t);
	return NULL;
}

void tls_ctx_free(struct tls_ctx *t)
{
	if (!t)
		return;
	if (t->ctx)
		wolfSSL_CTX_free(t->ctx);
	tickets_free(t->tickets);
	free(t->staple.url);
	free(t->staple.req);
	free(t->staple.file);
	free(t);
}

WOLFSSL *tls_session_new(struct tls_ctx *t, struct tls_io *io,
			 struct tls_peer *peer)
{
	WOLFSSL *ssl = wolfSSL_new(t->ctx);

	if (!ssl)
		return NULL;
	wolfSSL_SetIOReadCtx(ssl, io);
	wolfSSL_SetIOWriteCtx(ssl, io);
	wolfSSL_SetCertCbCtx(ssl, peer);
	io->peer = peer;
	io->tls = t;
	if (t->cfg->ocsp.mode != CFG_OCSP_OFF &&
	    t->cfg->verify_client != CFG_VERIFY_NONE) {
		peer->ocsp_mode = (int)t->cfg->ocsp.mode;
		peer->ocsp_override =
			t->cfg->ocsp.responder && t->cfg->ocsp.responder[0];
		peer->cm = wolfSSL_CTX_GetCertManager(t->ctx);
		peer->crl_on = t->cfg->crl != NULL;
	}
	if (peer->ocsp_mode != CFG_OCSP_OFF || t->staple.req)
		wolfSSL_SetOCSP_Cb(ssl, ocsp_io_cb, ocsp_free_cb, io);
	if (t->cfg->crl && t->cfg->crl_expired == CFG_CRL_EXPIRED_REJECT &&
	    t->cfg->verify_client != CFG_VERIFY_NONE) {
		int64_t first = 0;

		for (int i = 0; i < t->info.n_crls; i++)
			if (t->info.crl[i].next_update &&
			    (!first || t->info.crl[i].next_update < first))
				first = t->info.crl[i].next_update;
		peer->crl_reject_after = first;
	}
	return ssl;
}

void tls_describe(char *buf, size_t len)
{
	snprintf(buf, len,
		 "wolfSSL %s (%s), features:"
#ifdef WOLFSSL_TLS13
		 " tls1.3"
#endif
#ifndef WOLFSSL_NO_TLS12
		 " tls1.2"
#endif
#ifdef HAVE_OCSP
		 " ocsp"
#endif
#ifdef HAVE_CERTIFICATE_STATUS_REQUEST
		 " ocsp-stapling"
#endif
#ifdef HAVE_CERTIFICATE_STATUS_REQUEST_V2
		 " ocsp-stapling-v2"
#endif
#ifdef WOLFSSL_NONBLOCK_OCSP
		 " ocsp-nonblock"
#endif
#ifdef HAVE_CRL
		 " crl"
#endif
#ifdef HAVE_SESSION_TICKET
		 " session-tickets"
#endif
#ifdef HAVE_SNI
		 " sni"
#endif
#ifdef HAVE_ALPN
		 " alpn"
#endif
#ifdef WOLFSSL_AESNI
		 " aes-ni"
#endif
#ifdef WOLFSSL_SP_X86_64_ASM
		 " sp-asm"
#endif
#ifdef HAVE_ECC
		 " ecc"
#endif
#ifndef NO_RSA
		 " rsa"
#endif
		 ,
		 wolfSSL_lib_version(), MOAT_WOLFSSL_KIND);
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
