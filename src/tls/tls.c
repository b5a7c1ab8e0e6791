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
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/random.h>

#include "codec/der.h"
#include "moat_build.h"
#include "tls/ocsp.h"
#include "base/log.h"
#include "base/reject.h"
#include "tls/ticket.h"
#include "tls/tls.h"
#include "base/util.h"

#define POSF(pos) (pos).file, (pos).line, (pos).col

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

/* Clear what p learnt of a certificate, keeping what tls_session_new set
 * up for the session. */
static void peer_reset(struct tls_peer *p)
{
	struct tls_peer keep = *p;

	tls_peer_clear(p);
	p->ocsp_mode = keep.ocsp_mode;
	p->ocsp_override = keep.ocsp_override;
	p->cm = keep.cm;
	p->crl_on = keep.crl_on;
	p->crl_reject_after = keep.crl_reject_after;
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

		peer_reset(p);
		p->ocsp_io_failed = failed;
		p->ocsp_io_stale = stale;
		p->ocsp_state = state;
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
	p->checked_at = (int64_t)time(NULL);
	wc_Sha256Hash(der, (word32)len, p->leaf_hash);
	wc_Sha256Hash(f.issuer.p, (word32)f.issuer.n, p->issuer_hash);
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

static int (*revoked_lookup)(const char *serial);

void tls_set_revoked_lookup(int (*fn)(const char *serial))
{
	revoked_lookup = fn;
}

/* ---- the CRL by issuer and serial ----
 * A resumed session has no certificate to hand to wolfSSL's CRL check, so
 * moat indexes the revoked serials of the CRLs it loaded (wolfSSL has
 * checked their signatures by then): SHA-256 of the issuer Name's DER
 * followed by the serial, sorted. */

typedef uint8_t revoked_key[TICKET_HASH_SZ];

static void revoked_key_of(const uint8_t *issuer_hash, const uint8_t *serial,
			   size_t serial_len, uint8_t *out)
{
	wc_Sha256 h;

	wc_InitSha256(&h);
	wc_Sha256Update(&h, issuer_hash, TICKET_HASH_SZ);
	wc_Sha256Update(&h, serial, (word32)serial_len);
	wc_Sha256Final(&h, out);
	wc_Sha256Free(&h);
}

static int revoked_add(const uint8_t *der, size_t len, void *arg)
{
	struct tls_ctx *t = arg;
	struct crl_fields f;
	struct der_span rest, serial;
	uint8_t issuer_hash[TICKET_HASH_SZ];
	int r;

	if (!der || crl_read(der, len, &f) < 0)
		return 0; /* wolfSSL has refused it already */
	wc_Sha256Hash(f.issuer.p, (word32)f.issuer.n, issuer_hash);
	rest = f.revoked;
	while ((r = crl_next_revoked(&rest, &serial)) == 1) {
		if (t->n_revoked == t->cap_revoked) {
			size_t cap = t->cap_revoked ? 2 * t->cap_revoked : 64;
			revoked_key *n = realloc(t->revoked, cap * sizeof(*n));

			if (!n)
				return 1;
			t->revoked = n;
			t->cap_revoked = cap;
		}
		revoked_key_of(issuer_hash, serial.p, serial.n,
			       t->revoked[t->n_revoked++]);
	}
	return 0;
}

static int revoked_cmp(const void *a, const void *b)
{
	return memcmp(a, b, TICKET_HASH_SZ);
}

static void revoked_index(struct tls_ctx *t, const char *path)
{
	size_t len;
	char *buf = read_file(path, &len);

	if (!buf)
		return;
	if (strstr(buf, CRL_BEGIN))
		pem_each(buf, PEM_CRL, revoked_add, t);
	else
		revoked_add((const uint8_t *)buf, len, t);
	free(buf);
	if (t->n_revoked)
		qsort(t->revoked, t->n_revoked, TICKET_HASH_SZ, revoked_cmp);
}

static int hex_to_bytes(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = hex ? strlen(hex) : 0;

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

int tls_peer_crl_revoked(const struct tls_ctx *t, const struct tls_peer *p)
{
	uint8_t serial[TICKET_SERIAL_MAX], key[TICKET_HASH_SZ];
	int n;

	if (!t || !t->n_revoked || !p->has_cert ||
	    (n = hex_to_bytes(p->serial, serial, sizeof(serial))) <= 0)
		return 0;
	revoked_key_of(p->issuer_hash, serial, (size_t)n, key);
	return bsearch(key, t->revoked, t->n_revoked, TICKET_HASH_SZ,
		       revoked_cmp) != NULL;
}

#ifdef HAVE_SESSION_TICKET
/* Stateless session tickets that keep the client's identity.
 *
 * A resumed handshake has no client certificate, and wolfSSL's tickets do
 * not carry it, so moat encrypts tickets itself and puts after wolfSSL's
 * session state a blob with what the full handshake learnt of the leaf
 * (src/tls/ticket.h). The plaintext is
 *     wolfSSL's state | blob | zeros | state length 2 | blob length 2
 * padded to the AES block; it is encrypted with AES-256-CBC (the IV random
 * per ticket) and authenticated with HMAC-SHA256 over key name, IV, length
 * and ciphertext (encrypt-then-MAC; the MAC is checked before anything is
 * decrypted), under the first key of tls.ticket_keys, or a key made at
 * start. Any instance holding the key resumes the ticket; one it cannot
 * vouch for (unknown key, bad MAC, no blob, revoked since, older than
 * TICKET_LIFETIME_S since its revocation check) is refused, and the client
 * does a full handshake: never a resumption without identity. */

#define TICKET_LIFETIME_S 3600
#define TICKET_SKEW_S 300 /* clocks of instances sharing a key may differ */
#ifdef WOLFSSL_TICKET_EXTRA_PADDING_SZ
#define TICKET_ROOM WOLFSSL_TICKET_EXTRA_PADDING_SZ
#else
#define TICKET_ROOM 32 /* wolfSSL's default: no identity fits */
#endif
#define TRAILER_SZ 4

struct tls_tickets {
	uv_mutex_t lock; /* workers share the RNG */
	WC_RNG rng;
	struct ticket_keys keys; /* keys.key[0] encrypts */
	int warned;              /* ticket_identity_too_big logged */
};

/* Without tls.ticket_keys: one key for the process, made at start, so
 * that a reload keeps its tickets valid. */
static struct ticket_key proc_key;
static int proc_key_ok;
static uv_once_t proc_key_once = UV_ONCE_INIT;

static void proc_key_make(void)
{
	WC_RNG rng;

	if (wc_InitRng(&rng) != 0)
		return;
	proc_key_ok = wc_RNG_GenerateBlock(&rng, (byte *)&proc_key,
					   sizeof(proc_key)) == 0;
	proc_key.name[0] |= 1; /* never all zeros */
	wc_FreeRng(&rng);
}

static int ticket_mac(const struct ticket_key *k, const uint8_t *name,
		      const uint8_t *iv, const uint8_t *ct, int len,
		      uint8_t *mac)
{
	Hmac h;
	uint8_t l[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	int r;

	if (wc_HmacInit(&h, NULL, INVALID_DEVID))
		return -1;
	r = wc_HmacSetKey(&h, WC_SHA256, k->hmac, TICKET_HMAC_SZ) ||
	    wc_HmacUpdate(&h, name, TICKET_NAME_SZ) ||
	    wc_HmacUpdate(&h, iv, WOLFSSL_TICKET_IV_SZ) ||
	    wc_HmacUpdate(&h, l, 2) || wc_HmacUpdate(&h, ct, (word32)len) ||
	    wc_HmacFinal(&h, mac);
	wc_HmacFree(&h);
	return r ? -1 : 0;
}

static int ticket_aes(const struct ticket_key *k, const uint8_t *iv,
		      uint8_t *buf, int len, int enc)
{
	Aes aes;
	int r;

	if (wc_AesInit(&aes, NULL, INVALID_DEVID))
		return -1;
	r = wc_AesSetKey(&aes, k->aes, TICKET_AES_SZ, iv,
			 enc ? AES_ENCRYPTION : AES_DECRYPTION) ||
	    (enc ? wc_AesCbcEncrypt(&aes, buf, buf, (word32)len)
		 : wc_AesCbcDecrypt(&aes, buf, buf, (word32)len));
	wc_AesFree(&aes);
	return r ? -1 : 0;
}

static int same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static void blob_of_peer(struct ticket_blob *b, const struct tls_peer *p)
{
	int n;

	memset(b, 0, sizeof(*b));
	b->has_cert = p->has_cert;
	b->ocsp_url = p->ocsp_url;
	b->ocsp_state = p->ocsp_state;
	/* no certificate, no revocation check: the ticket's age counts */
	b->checked_at = p->has_cert ? p->checked_at : (int64_t)time(NULL);
	memcpy(b->leaf_hash, p->leaf_hash, TICKET_HASH_SZ);
	memcpy(b->issuer_hash, p->issuer_hash, TICKET_HASH_SZ);
	n = hex_to_bytes(p->serial, b->serial, sizeof(b->serial));
	b->serial_len = n > 0 ? (size_t)n : 0;
#define STR(f) b->f = (struct ticket_str){p->f, p->f ? strlen(p->f) : 0}
	STR(subject);
	STR(cn);
	STR(san_dns);
	STR(san_uri);
#undef STR
}

static char *str_of(struct ticket_str s)
{
	return s.n ? dup_n(s.p, s.n) : NULL;
}

/* The peer as the ticket says, keeping what the session set up. */
static void peer_of_blob(struct tls_peer *peer, const struct ticket_blob *b)
{
	peer_reset(peer);
	peer->has_cert = b->has_cert;
	peer->ocsp_url = b->ocsp_url;
	peer->ocsp_state = b->ocsp_state;
	peer->checked_at = b->checked_at;
	memcpy(peer->leaf_hash, b->leaf_hash, TICKET_HASH_SZ);
	memcpy(peer->issuer_hash, b->issuer_hash, TICKET_HASH_SZ);
	peer->subject = str_of(b->subject);
	peer->cn = str_of(b->cn);
	peer->san_dns = str_of(b->san_dns);
	peer->san_uri = str_of(b->san_uri);
	if (b->serial_len && (peer->serial = malloc(b->serial_len * 2 + 1))) {
		for (size_t i = 0; i < b->serial_len; i++)
			snprintf(peer->serial + 2 * i, 3, "%02x", b->serial[i]);
		peer->serial[b->serial_len * 2] = '\0';
	}
	peer->resumed = 1;
}

static int ticket_seal(struct tls_ctx *t, struct tls_peer *peer,
		       uint8_t *name, uint8_t *iv, uint8_t *mac,
		       uint8_t *ticket, int inLen, int *outLen)
{
	struct tls_tickets *tk = t->tickets;
	const struct ticket_key *k = &tk->keys.key[0];
	size_t cap = (size_t)inLen + TICKET_ROOM, len;
	struct ticket_blob b;
	int bl, r;

	blob_of_peer(&b, peer);
	bl = ticket_blob_encode(&b, ticket + inLen,
				cap - (size_t)inLen - TRAILER_SZ - 15);
	if (bl < 0) {
		/* a ticket with no blob: made, and refused at resumption */
		if (!tk->warned) {
			tk->warned = 1;
			log_event(LOG_WARN, "ticket_identity_too_big",
				  "listener_cert", t->cfg->cert, "detail",
				  "a client's names do not fit in a session "
				  "ticket; such clients do full handshakes",
				  NULL);
		}
		bl = 0;
	}
	len = ((size_t)inLen + (size_t)bl + TRAILER_SZ + 15) / 16 * 16;
	memset(ticket + inLen + bl, 0, len - (size_t)inLen - (size_t)bl);
	ticket[len - 4] = (uint8_t)(inLen >> 8);
	ticket[len - 3] = (uint8_t)inLen;
	ticket[len - 2] = (uint8_t)(bl >> 8);
	ticket[len - 1] = (uint8_t)bl;
	memcpy(name, k->name, TICKET_NAME_SZ);
	uv_mutex_lock(&tk->lock);
	r = wc_RNG_GenerateBlock(&tk->rng, iv, WOLFSSL_TICKET_IV_SZ);
	uv_mutex_unlock(&tk->lock);
	if (r || ticket_aes(k, iv, ticket, (int)len, 1) < 0 ||
	    ticket_mac(k, name, iv, ticket, (int)len, mac) < 0)
		return WOLFSSL_TICKET_RET_FATAL;
	*outLen = (int)len;
	return WOLFSSL_TICKET_RET_OK;
}

static int ticket_open(struct tls_ctx *t, struct tls_peer *peer,
		       const uint8_t *name, const uint8_t *iv,
		       const uint8_t *mac, uint8_t *ticket, int inLen,
		       int *outLen, int tls13)
{
	struct tls_tickets *tk = t->tickets;
	const struct ticket_key *k = ticket_keys_find(&tk->keys, name);
	uint8_t want[WOLFSSL_TICKET_MAC_SZ];
	struct ticket_blob b;
	size_t it_len, bl;
	int64_t now = (int64_t)time(NULL);

	if (!k || inLen < 16 || inLen % 16 ||
	    ticket_mac(k, name, iv, ticket, inLen, want) < 0 ||
	    !same_bytes(want, mac, sizeof(want)) ||
	    ticket_aes(k, iv, ticket, inLen, 0) < 0)
		return WOLFSSL_TICKET_RET_REJECT;
	it_len = ((size_t)ticket[inLen - 4] << 8) | ticket[inLen - 3];
	bl = ((size_t)ticket[inLen - 2] << 8) | ticket[inLen - 1];
	if (!bl || it_len + bl + TRAILER_SZ > (size_t)inLen ||
	    ticket_blob_decode(ticket + it_len, bl, &b) < 0)
		return WOLFSSL_TICKET_RET_REJECT;
	/* trust no older than the last revocation check allows */
	if (b.checked_at > now + TICKET_SKEW_S ||
	    now - b.checked_at > TICKET_LIFETIME_S)
		return WOLFSSL_TICKET_RET_REJECT;
	peer_of_blob(peer, &b);
	/* A certificate revoked since the ticket was made does not resume, */
	if (t->cfg->crl && tls_peer_crl_revoked(t, peer))
		goto refuse;
	/* nor one whose OCSP check did not pass, or that OCSP has since
	 * found revoked. */
	if (peer->ocsp_mode != CFG_OCSP_OFF &&
	    (peer->ocsp_state >= TLS_OCSP_UNAVAILABLE ||
	     (revoked_lookup && peer->serial && revoked_lookup(peer->serial))))
		goto refuse;
	*outLen = (int)it_len;
	/* Under an older key, TLS 1.2 resumes and gets a ticket under the
	 * newest (CREATE); TLS 1.3 gets new tickets after every handshake,
	 * and CREATE would refuse the resumption there. */
	return k != &tk->keys.key[0] && !tls13 ? WOLFSSL_TICKET_RET_CREATE
					       : WOLFSSL_TICKET_RET_OK;
refuse:
	peer_reset(peer);
	return WOLFSSL_TICKET_RET_REJECT;
}

static int ticket_cb(WOLFSSL *ssl, unsigned char name[WOLFSSL_TICKET_NAME_SZ],
		     unsigned char iv[WOLFSSL_TICKET_IV_SZ],
		     unsigned char mac[WOLFSSL_TICKET_MAC_SZ], int enc,
		     unsigned char *ticket, int inLen, int *outLen,
		     void *userCtx)
{
	struct tls_ctx *t = userCtx;
	struct tls_io *io = wolfSSL_GetIOReadCtx(ssl);
	struct tls_peer *peer = io ? io->peer : NULL;

	if (!t->tickets || !peer)
		return WOLFSSL_TICKET_RET_FATAL;
	if (enc)
		return ticket_seal(t, peer, name, iv, mac, ticket, inLen,
				   outLen);
	return ticket_open(t, peer, name, iv, mac, ticket, inLen, outLen,
			   wolfSSL_GetVersion(ssl) == WOLFSSL_TLSV1_3);
}

/* tls.ticket_keys, or the process's key. */
static int tickets_keys(struct tls_ctx *t, struct ticket_keys *k,
			char **errors)
{
	const struct cfg_tls *cfg = t->cfg;
	const char *why = NULL;
	size_t len = 0;
	char *buf;
	struct stat st;
	int r;

	if (!cfg->ticket_keys) {
		uv_once(&proc_key_once, proc_key_make);
		if (!proc_key_ok) {
			errtext_add(errors,
				    "%s:%d:%d: tls: cannot make a session "
				    "ticket key",
				    POSF(cfg->cert_pos));
			return -EINVAL;
		}
		k->key[0] = proc_key;
		k->n = 1;
		return 0;
	}
	buf = read_file(cfg->ticket_keys, &len);
	if (!buf) {
		why = strerror(errno);
		r = -EINVAL;
	} else {
		r = ticket_keys_parse((const uint8_t *)buf, len, k, &why);
		explicit_bzero(buf, len);
		free(buf);
	}
	if (r < 0) {
		errtext_add(errors, "%s:%d:%d: tls.ticket_keys: %s: %s",
			    POSF(cfg->ticket_keys_pos), cfg->ticket_keys, why);
		return r;
	}
	if (stat(cfg->ticket_keys, &st) == 0 && (st.st_mode & 0077))
		log_event(LOG_WARN, "key_permissions", "file", cfg->ticket_keys,
			  "detail",
			  "readable or writable by group or others; chmod 600 "
			  "it",
			  NULL);
	return 0;
}

static int tickets_init(struct tls_ctx *t, char **errors)
{
	struct tls_tickets *tk = calloc(1, sizeof(*tk));
	int r;

	if (!tk)
		return -ENOMEM;
	if ((r = tickets_keys(t, &tk->keys, errors)) < 0)
		goto fail_keys;
	if (wc_InitRng(&tk->rng) != 0) {
		r = -EIO;
		goto fail_keys;
	}
	uv_mutex_init(&tk->lock);
	t->tickets = tk;
	wolfSSL_CTX_set_TicketEncCtx(t->ctx, t);
	wolfSSL_CTX_set_TicketEncCb(t->ctx, ticket_cb);
	wolfSSL_CTX_set_TicketHint(t->ctx, TICKET_LIFETIME_S);
	return 0;
fail_keys:
	explicit_bzero(tk, sizeof(*tk));
	free(tk);
	return r;
}

static void tickets_free(struct tls_tickets *tk)
{
	if (!tk)
		return;
	wc_FreeRng(&tk->rng);
	uv_mutex_destroy(&tk->lock);
	explicit_bzero(tk, sizeof(*tk));
	free(tk);
}
#else
static int tickets_init(struct tls_ctx *t, char **errors)
{
	(void)t;
	(void)errors;
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
		revoked_index(t, cfg->crl);
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
	} else if ((ret = tickets_init(t, errors)) < 0) {
		if (ret != -EINVAL)
			errtext_add(errors,
				    "%s:%d:%d: tls: cannot set up session "
				    "tickets",
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
	free(t->revoked);
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
