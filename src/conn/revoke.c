/* revoke.c - live sessions moat stops vouching for: a certificate
 * revoked after they started (a CRL reload, an OCSP refresh; closed as
 * revoked_live says) or a token that runs out (connect.c's timer). MQTT 5
 * clients are first told DISCONNECT 0x87 at a packet boundary. Reached
 * from the OCSP cache's hook and from reload, never the other way round. */
#include <stdio.h>
#include <string.h>

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
	return c->state >= CS_CONNECT && c->state < CS_CLOSING &&
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
