/* tls.c - wolfSSL contexts and sessions for moat's listeners.
 * A context is built once per listener from its cfg_tls (certificate, key,
 * client CA, CRLs and their index by issuer and serial, what `show tls`
 * says of them); sessions read and write through struct tls_io so that
 * libuv owns every socket. The rest of a context lives beside this file:
 * verify.c (the client's certificate), ticket_enc.c (session tickets),
 * staple.c (tls.staple); tls_int.h is what they share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "codec/der.h"
#include "moat_build.h"
#include "base/log.h"
#include "tls/ticket.h"
#include "tls/tls.h"
#include "tls/tls_int.h"

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
	if (io->peer && req_len > 0 &&
	    !tls_is_staple_request(io->tls, req, (size_t)req_len))
		peer_note_certid(io->peer, req, (size_t)req_len);
	return io->ocsp(io->arg, url, url_len, req, req_len, resp);
}

void ocsp_free_cb(void *ctx, unsigned char *resp)
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
	if (io->resume) {
		tls_peer_clear(io->resume);
		free(io->resume);
		io->resume = NULL;
	}
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

char *read_file(const char *path, size_t *len)
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
void each_pem(const char *path, const char *begin, const char *end, der_fn fn,
	      void *arg)
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

int hex_to_bytes(const char *hex, uint8_t *out, size_t cap)
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

struct tls_ctx *tls_ctx_new(const struct cfg_listener *l, char **errors)
{
	const struct cfg_tls *cfg = &l->tls;
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
		/* claim certificates' CA (mqtt.enroll.bootstrap_ca): what
		 * it issues may only enroll (tls_peer_is_claim) */
		if (cfg->claim_ca &&
		    wolfSSL_CTX_load_verify_locations(ctx, cfg->claim_ca,
						      NULL) != WOLFSSL_SUCCESS) {
			errtext_add(errors,
				    "%s:%d:%d: mqtt.enroll.bootstrap_ca: '%s' "
				    "holds no CA certificate wolfSSL can load",
				    POSF(cfg->client_ca_pos), cfg->claim_ca);
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
	tickets_trust(t, l);
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
	free(t->claim);
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
	if (t->grace_s && t->cfg->verify_client != CFG_VERIFY_NONE) {
		peer->grace_s = t->grace_s;
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
