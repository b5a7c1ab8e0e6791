/* staple.c - tls.staple: the OCSP response moat sends for its own
 * certificate, from a file (checked by wolfSSL at load) or fetched through
 * the OCSP cache (auto); the request wolfSSL makes for tls.cert, captured
 * at load to know it again; why no staple is sent, for the log and `show
 * tls`. Set up by tls_ctx_new (tls.c) through staple_init(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "base/log.h"
#include "tls/ocsp.h"
#include "tls/tls.h"
#include "tls/tls_int.h"

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
int staple_init(struct tls_ctx *t, char **errors)
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
