/* revoke.c - live sessions moat stops vouching for: a certificate
 * revoked after they started (a CRL reload, an OCSP refresh; closed as
 * revoked_live says), a token that runs out or a certificate that passes
 * its notAfter (one timer, whichever comes first). MQTT 5
 * clients are first told DISCONNECT 0x87 at a packet boundary. Reached
 * from the OCSP cache's hook and from reload, never the other way round. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "conn/internal.h"

/* ---- revoked live sessions ---- */

static void on_end_timeout(uv_timer_t *t)
{
	struct conn *c = t->data;

	conn_close(c, c->bye_why);
}

void conn_end_live(struct conn *c, const char *why)
{
	conn_end_live_rc(c, MQTT5_RC_NOT_AUTHORIZED, why);
}

void conn_end_live_rc(struct conn *c, uint8_t rc, const char *why)
{
	if (c->state != CS_SPLICE || c->version != MQTT_V5) {
		conn_close(c, why);
		return;
	}
	c->say_goodbye = rc;
	c->bye_why = why;
	if (mqtt_framer_at_boundary(&c->fr[SIDE_UPSTREAM])) {
		conn_goodbye(c);
		return;
	}
	/* mid-packet from the broker: the rest of it, then DISCONNECT, or
	 * a plain close if it does not come soon */
	uv_timer_start(&c->timer, on_end_timeout, FLUSH_TIMEOUT_MS, 0);
}

/* ---- the end of a token or a certificate ---- */

static void on_live_end(uv_timer_t *t)
{
	struct conn *c = t->data;
	struct moat *m = c->moat;
	int64_t now = (int64_t)time(NULL);
	int cert =
	    c->cert.has_cert && c->cert.not_after && now >= c->cert.not_after;
	enum reject_cause why =
	    cert ? REJ_CERT_EXPIRED_LIVE : REJ_TOKEN_EXPIRED_LIVE;
	char id[24], na[24];

	if (c->state != CS_SPLICE)
		return;
	if (conn_enroll_kind(c)) { /* its own end: lifetime or grace */
		conn_end_live(c, "enroll-only session over");
		return;
	}
	if (!cert && (!c->token_ident || now < c->token_end)) {
		conn_live_watch(c); /* woke early (clock): wait on */
		return;
	}
	CTR_ADD(m->rejects[why], 1);
	CTR_ADD(c->li->rejects[why], 1);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	tls_time_str(c->cert.not_after, na, sizeof(na));
	log_event(LOG_WARN, reject_name(why), "conn", id, "client_id",
		  c->client_id, "identity", c->token_ident, "subject",
		  cert ? c->cert.subject : NULL, "serial",
		  cert ? c->cert.serial : NULL, "not_after", cert ? na : NULL,
		  NULL);
	conn_end_live(c, cert ? "certificate expired" : "token expired");
}

void conn_live_watch(struct conn *c)
{
	int64_t end = 0, left;

	if (c->token_ident)
		end = c->token_end;
	if (c->cert.has_cert && c->cert.not_after &&
	    (!end || c->cert.not_after < end))
		end = c->cert.not_after;
	end = conn_enroll_deadline(c, end);
	if (!end)
		return;
	left = end - (int64_t)time(NULL);
	uv_timer_start(&c->timer, on_live_end,
		       left > 0 ? (uint64_t)left * 1000 : 0, 0);
}

static void revoke_one(struct conn *c, const char *source)
{
	struct moat *m = c->moat;
	char id[24], peer[64];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	conn_peer_str(c, peer, sizeof(peer));
	log_event(LOG_WARN, "revoked_close", "conn", id, "peer", peer,
		  "subject", c->cert.subject, "serial", c->cert.serial,
		  "client_id", c->client_id, "source", source, NULL);
	CTR_ADD(m->revoked_closed, 1);
	conn_end_live(c, "certificate revoked");
}

static int live(const struct conn *c)
{
	return c->state >= CS_WS && c->state < CS_CLOSING &&
	       c->lcfg->tls.revoked_live == CFG_REVOKED_CLOSE;
}

int conn_revoked(struct moat *m, const uint8_t *certid, size_t len,
		 const char *source)
{
	struct conn *next;
	int n = 0;

	/* by the leaf's CertID (issuer and serial), never the serial alone:
	 * two CAs may issue the same serial */
	for (struct conn *c = m->conns; c; c = next) {
		next = c->next;
		if (live(c) && c->cert.certid && c->cert.certid_len == len &&
		    !memcmp(c->cert.certid, certid, len)) {
			revoke_one(c, source);
			n++;
		}
	}
	return n;
}

int conn_recheck_crl(struct moat *m)
{
	struct conn *next;
	int n = 0;

	for (struct conn *c = m->conns; c; c = next) {
		next = c->next;
		if (!live(c) || !c->li->tls || !c->li->open)
			continue;
		/* by issuer and serial: a resumed session has no DER */
		if (tls_peer_crl_revoked(c->li->tls, &c->cert)) {
			revoke_one(c, "crl");
			n++;
		}
	}
	return n;
}
