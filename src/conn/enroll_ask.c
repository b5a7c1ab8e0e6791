/* enroll_ask.c - who may ask for a certificate, and asking, shared by
 * the two ways a device asks (docs/lifecycle.md): a PUBLISH to the
 * enroll topic (enroll.c) and EST (est.c). The decision (renewal window,
 * grace, claim certificates, tokens), the signing with the listener's
 * issuing CA for the authenticated identity, the outcome counted (by
 * transport) and logged are here once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "tls/issue.h"
#include "conn/internal.h"

static const char *const outcome_names[ENR__COUNT] = {
    [ENR_RENEWED] = "renewed",	       [ENR_ENROLLED] = "enrolled",
    [ENR_MALFORMED] = "malformed",     [ENR_SIGNATURE] = "bad_signature",
    [ENR_KEY] = "key_not_allowed",     [ENR_TOO_EARLY] = "too_early",
    [ENR_TOO_LARGE] = "too_large",     [ENR_NOT_ALLOWED] = "not_allowed",
    [ENR_RESERVED] = "reserved_topic", [ENR_ERROR] = "error",
};

const char *conn_enroll_outcome_name(int o)
{
	return (unsigned)o < ENR__COUNT ? outcome_names[o] : "?";
}

struct issuer *conn_issuer(const struct conn *c)
{
	size_t li = (size_t)(c->lcfg - c->gen->cfg->listeners);

	return c->gen->issuers ? c->gen->issuers[li] : NULL;
}

int conn_enroll_on(const struct conn *c)
{
	return conn_issuer(c) != NULL;
}

const char *conn_identity(const struct conn *c)
{
	return c->token_ident
		   ? c->token_ident
		   : tls_peer_identity(&c->cert, c->lcfg->mqtt.identity);
}

int conn_grace_revoked(const struct conn *c)
{
	/* past notAfter, wolfSSL's CRL check did not run: moat's own index
	 * of the CRLs' revoked serials */
	return c->cert.in_grace && c->li->tls && c->li->tls->cfg->crl &&
	       tls_peer_crl_revoked(c->li->tls, &c->cert);
}

int conn_enroll_may(const struct conn *c, int renew_only, struct enroll_ask *a)
{
	const struct cfg_enroll *cfg = &c->lcfg->mqtt.enroll;
	int64_t now = (int64_t)time(NULL),
		opens =
		    c->cert.not_after - (int64_t)(cfg->renew_before_ms / 1000);
	int claim = c->cert.has_cert && tls_peer_is_claim(c->li->tls, &c->cert);
	char t[24];

	a->kind = "renew";
	a->why = NULL;
	a->outcome = ENR_NOT_ALLOWED;
	if (!conn_identity(c))
		return a->why = "no identity to certify", -1;
	if (claim || (c->token_ident && !c->cert.has_cert)) {
		a->kind = "enroll";
		if (renew_only)
			return a->why =
				   "a claim certificate or a token enrolls "
				   "(simpleenroll), it does not renew",
			       -1;
		return a->outcome = 0, 0;
	}
	if (!c->cert.has_cert)
		return a->why = "no certificate to renew", -1;
	if (now < opens) {
		snprintf(a->buf, sizeof(a->buf),
			 "renewal opens at %s (renew_before of notAfter)",
			 tls_time_str(opens, t, sizeof(t)));
		a->why = a->buf;
		return a->outcome = ENR_TOO_EARLY, -1;
	}
	if (now > c->cert.not_after + (int64_t)(cfg->renew_grace_ms / 1000))
		return a->why = "past renew_grace", -1;
	return a->outcome = 0, 0;
}

int conn_enroll_sign(struct conn *c, const uint8_t *req, size_t n,
		     struct enroll_ask *a)
{
	static const enum enroll_outcome of[] = {
	    [ISSUE_OK] = ENR_RENEWED,
	    [ISSUE_MALFORMED] = ENR_MALFORMED,
	    [ISSUE_SIGNATURE] = ENR_SIGNATURE,
	    [ISSUE_KEY] = ENR_KEY,
	    [ISSUE_ERROR] = ENR_ERROR,
	};
	int r;

	if (!(a->out = malloc(sizeof(*a->out))))
		return -1;
	r = issuer_sign(conn_issuer(c), req, n, conn_identity(c), a->out);
	a->outcome = of[r];
	a->why = a->out->why;
	if (r == ISSUE_OK && strcmp(a->kind, "enroll") == 0)
		a->outcome = ENR_ENROLLED;
	return 0;
}

void conn_enroll_done(struct conn *c, int est, const struct enroll_ask *a)
{
	char id[24], na[24];
	const char *via = est ? "est" : "mqtt";

	CTR_ADD(c->moat->enroll[a->outcome], 1);
	if (est)
		CTR_ADD(c->moat->enroll_est[a->outcome], 1);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	if (a->outcome == ENR_RENEWED || a->outcome == ENR_ENROLLED)
		log_event(LOG_INFO, "cert_issued", "conn", id, "kind", a->kind,
			  "via", via, "identity", conn_identity(c), "serial",
			  a->out->serial, "not_after",
			  tls_time_str(a->out->not_after, na, sizeof(na)),
			  "client_id", c->client_id, NULL);
	else
		log_event(LOG_WARN, "enroll_rejected", "conn", id, "kind",
			  a->kind, "via", via, "identity", conn_identity(c),
			  "outcome", outcome_names[a->outcome], "detail",
			  a->why ? a->why : "refused", "client_id",
			  c->client_id, NULL);
}
