/* connect.c - the CONNECT admission stage: the first packet must be a
 * whole, valid CONNECT of a known protocol level within max_packet_size;
 * OCSP verdicts that need an MQTT answer are given here; the client id is
 * bound to the identity (and the username rewritten if asked); then the
 * brokers to try are picked by the upstream's balance. Nothing reaches a
 * broker before this stage says yes. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/claims.h"
#include "auth/jwks_url.h"
#include "auth/jwt.h"
#include "base/log.h"
#include "upstream/balance.h"
#include "upstream/server.h"
#include "conn/internal.h"

int conn_connect_buffer(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->su->clen + n > c->su->ccap) {
		size_t cap = c->su->ccap ? c->su->ccap : 512;
		uint8_t *nb;

		while (cap < c->su->clen + n)
			cap *= 2;
		nb = scratch_realloc(c->su->cbuf, cap, 1);
		if (!nb)
			return -1;
		c->su->cbuf = nb;
		c->su->ccap = cap;
	}
	memcpy(c->su->cbuf + c->su->clen, p, n);
	c->su->clen += n;
	return 0;
}

/* The protocol level of a CONNECT whose header is in but whose body is
 * not, so that an oversize CONNECT can be answered in its own version. */
static uint8_t peek_version(const uint8_t *p, size_t len, size_t hl)
{
	size_t off = hl;
	uint16_t nl;

	if (len < off + 2)
		return 0;
	nl = (uint16_t)(p[off] << 8 | p[off + 1]);
	off += 2 + nl;
	if (nl > 6 || len < off + 1)
		return 0;
	return p[off];
}

/* Whether this client must show a token, by mqtt.token.when: always, or
 * (no_cert) when it has no certificate. */
int conn_token_needed(const struct conn *c)
{
	const struct cfg_token *t = &c->lcfg->mqtt.token;

	return t->when == CFG_TOKEN_ALWAYS ||
	       (t->when == CFG_TOKEN_NO_CERT && !c->cert.has_cert);
}

/* An OAuth 2.0 access token tok[0..tlen) (tok NULL: none was shown),
 * verified against set, the listener's JWK Set; its identity claim
 * becomes the device's identity. 0, 1 refused (*cause, c->why: the
 * static reason jwt_verify gives; the token is never logged), -1 out of
 * memory. */
static int token_verify(struct conn *c, const char *tok, size_t tlen,
			const struct jwks *set, enum reject_cause *cause)
{
	const struct cfg_token *t = &c->lcfg->mqtt.token;
	struct jwt_policy pol = {
		.algorithms = t->algorithms,
		.issuer = t->issuer,
		.audience = t->audience,
		.identity_claim = t->identity_claim,
		.leeway_s = (int64_t)(t->leeway_ms / 1000),
		.max_len = c->gen->cfg->limits.max_packet_size,
		/* topic rules that read claims keep them until CONNECT */
		.keep_claims = c->lcfg->mqtt.acl.on &&
			       (c->lcfg->mqtt.acl.claim ||
				(c->lcfg->mqtt.acl.vars & CFG_ACL_VAR_CLAIM)),
	};
	struct jwt_claims cl;
	enum jwt_result r;
	static const enum reject_cause causes[] = {
		[JWT_MISSING] = REJ_TOKEN_MISSING,
		[JWT_INVALID] = REJ_TOKEN_INVALID,
		[JWT_EXPIRED] = REJ_TOKEN_EXPIRED,
		[JWT_CLAIMS] = REJ_TOKEN_CLAIMS,
	};

	if (!tok || !set) {
		c->why = !set ? "no JWK Set loaded"
			 : t->from == CFG_TOKEN_FROM_PASSWORD ? "no password"
							      : "no token";
		*cause = set ? REJ_TOKEN_MISSING : REJ_TOKEN_INVALID;
		return 1;
	}
	r = jwt_verify(set, &pol, tok, tlen, (int64_t)time(NULL), &cl);
	if (r != JWT_OK) {
		c->why = cl.why;
		*cause = causes[r];
		return 1;
	}
	if (!(c->token_ident = strdup(cl.identity))) {
		jwt_doc_free(cl.doc);
		return -1;
	}
	c->token_end = cl.exp + pol.leeway_s;
	c->token_doc = cl.doc;
	CTR_ADD(c->moat->tokens_ok, 1);
	return 0;
}

int conn_token_check(struct conn *c, const char *tok, size_t tlen,
		     enum reject_cause *cause)
{
	/* the set in force for this listener: the generation's file, or the
	 * last good set fetched from jwks_url (a reference taken under the
	 * source's lock, so a refresh can swap it meanwhile) */
	size_t li = (size_t)(c->lcfg - c->gen->cfg->listeners);
	struct jwks_src *src = c->gen->jwks_src ? c->gen->jwks_src[li] : NULL;
	struct jwks *set = src		  ? jwks_src_get(src)
			   : c->gen->jwks ? jwks_get(c->gen->jwks[li])
					  : NULL;
	int r = token_verify(c, tok, tlen, set, cause);

	jwks_put(set);
	return r;
}

/* The CONNECT's token: where it may come from (token.from), the password
 * first, then a WebSocket's query string, then its cookie. 0, or -1
 * refused or closed. */
static int connect_token(struct conn *c, const struct mqtt_connect *mc)
{
	const struct cfg_token *t = &c->lcfg->mqtt.token;
	const char *tok = NULL;
	enum reject_cause cause;
	size_t tlen = 0;
	int r;

	if ((t->from & CFG_TOKEN_FROM_PASSWORD) && mc->has_password &&
	    mc->password.len) {
		tok = (const char *)mc->password.p;
		tlen = mc->password.len;
		c->token_pw = 1;
	} else if (c->ws && c->ws->qtok) {
		tok = c->ws->qtok;
	} else if (c->ws && c->ws->ctok) {
		tok = c->ws->ctok;
	}
	if (tok && !tlen)
		tlen = strlen(tok);
	r = conn_token_check(c, tok, tlen, &cause);
	if (c->ws)
		conn_ws_drop_tokens(c); /* checked: no longer needed */
	if (r < 0)
		conn_close(c, "out of memory");
	else if (r > 0)
		conn_refuse(c, cause);
	return r ? -1 : 0;
}

/* Checks the CONNECT once it is complete: grammar, version, identity,
 * then picks the brokers to try. Returns 1 when the connection moved on
 * (or was rejected), 0 when more bytes are needed. */
int conn_connect_check(struct conn *c)
{
	const struct cfg *cfg = c->gen->cfg;
	const struct cfg_mqtt *mq = &c->lcfg->mqtt;
	struct mqtt_connect mc;
	uint8_t tf;
	uint32_t rem;
	size_t hl, total, n;
	const char *ident;
	int r, bound;

	r = mqtt_fixed_header(c->su->cbuf, c->su->clen, &tf, &rem, &hl);
	if (r == MQTT_AGAIN)
		return 0;
	if (r < 0 || tf != (MQTT_CONNECT << 4)) {
		conn_refuse(c, REJ_BAD_CONNECT);
		return 1;
	}
	total = hl + rem;
	if (total > cfg->limits.max_packet_size) {
		c->version = peek_version(c->su->cbuf, c->su->clen, hl);
		conn_refuse(c, REJ_PACKET_TOO_LARGE);
		return 1;
	}
	if (c->su->clen < total)
		return 0;
	memset(&mc, 0, sizeof(mc));
	r = mqtt_parse_connect(c->su->cbuf, total, &mc);
	c->version = mc.version;
	if (r == MQTT_E_VERSION) {
		/* Answer an unknown level the way its own family reads it. */
		if (c->version >= MQTT_V5)
			c->version = MQTT_V5;
		else
			c->version = c->version ? MQTT_V311 : 0;
		conn_refuse(c, REJ_BAD_PROTOCOL);
		return 1;
	}
	if (r < 0) {
		if (conn_v5(c) && r != MQTT_E_MALFORMED) /* not 0x81 */
			conn_reject(c, REJ_BAD_CONNECT, MQTT5_RC_PROTOCOL_ERROR);
		else
			conn_refuse(c, REJ_BAD_CONNECT);
		return 1;
	}
	/* moat decides who the device is: a broker is not asked to run an
	 * authentication exchange of the client's choosing, unless the
	 * listener passes enhanced authentication through */
	if (mc.has_auth_method && !mq->enhanced_auth) {
		conn_refuse(c, REJ_AUTH_METHOD);
		return 1;
	}
	if (c->cert.ocsp_mode == CFG_OCSP_REQUIRE &&
	    c->cert.ocsp_state >= TLS_OCSP_UNAVAILABLE) {
		/* Down or slow: a transient fault, the device retries later.
		 * Unknown, or nothing to ask: not authorized. */
		if (c->cert.ocsp_state == TLS_OCSP_UNAVAILABLE)
			conn_refuse(c, REJ_OCSP_UNAVAILABLE);
		else
			conn_refuse(c, c->cert.ocsp_state == TLS_OCSP_UNKNOWN
					       ? REJ_OCSP_UNKNOWN
					       : REJ_OCSP_NO_URL);
		return 1;
	}
	c->su->connect_len = total;
	c->client_max = mc.max_packet_size;
	c->client_id = malloc(mc.client_id.len + 1u);
	if (!c->client_id) {
		conn_close(c, "out of memory");
		return 1;
	}
	memcpy(c->client_id, mc.client_id.p, mc.client_id.len);
	c->client_id[mc.client_id.len] = '\0';

	/* The identity: the token's (when one is needed), or the
	 * certificate's name that mqtt.identity picks. */
	if (conn_token_needed(c)) {
		if (connect_token(c, &mc) < 0)
			return 1;
		ident = c->token_ident;
	} else {
		if (c->ws)
			conn_ws_drop_tokens(c); /* not asked for */
		ident = tls_peer_identity(&c->cert, mq->identity);
	}
	bound = c->token_ident || mq->identity != CFG_ID_NONE;
	if (bound && (mq->client_id_must_match || mq->username_from_cert) &&
	    !ident) {
		conn_refuse(c, REJ_NO_IDENTITY);
		return 1;
	}
	if (bound && mq->client_id_must_match &&
	    (strlen(ident) != mc.client_id.len ||
	     memchr(c->client_id, 0, mc.client_id.len) ||
	     strcmp(ident, c->client_id) != 0)) {
		conn_refuse(c, REJ_CLIENT_ID_MISMATCH);
		return 1;
	}
	/* Topic rules: before the CONNECT is rewritten (mc points into
	 * it). */
	if (c->lcfg->mqtt.acl.on) {
		/* the username the broker sees: the identity if so asked */
		char user[256];
		int ul = mc.has_username && mc.username.len < sizeof(user);

		if (ul) { /* a longer one matches no %u rule */
			memcpy(user, mc.username.p, mc.username.len);
			user[mc.username.len] = '\0';
		}
		r = conn_acl_connect(c, &mc, ident,
				     bound && mq->username_from_cert ? ident
				     : ul			     ? user
								     : NULL);
		jwt_doc_free(c->token_doc);
		c->token_doc = NULL;
		if (r < 0)
			return 1;
	}
	/* The username becomes the identity if asked; a token moat has
	 * consumed does not travel on to the broker. */
	if ((bound && mq->username_from_cert) || c->token_pw) {
		const char *user = bound && mq->username_from_cert ? ident
								   : NULL;
		size_t ulen = user ? strlen(user) : 0;
		size_t cap = c->su->clen + ulen + 8;
		uint8_t *nb = scratch_alloc(cap);
		size_t outlen;

		if (!nb || mqtt_rewrite_credentials(c->su->cbuf, total, &mc,
						    user, ulen, c->token_pw, nb,
						    cap, &outlen) != 0) {
			scratch_free(nb);
			conn_refuse(c, REJ_BAD_CONNECT);
			return 1;
		}
		memcpy(nb + outlen, c->su->cbuf + total, c->su->clen - total);
		scratch_free(c->su->cbuf);
		c->su->cbuf = nb;
		c->su->ccap = cap;
		c->su->clen = outlen + (c->su->clen - total);
		c->su->connect_len = outlen;
	}

	/* a claim certificate, or one past notAfter: moat alone answers */
	if (conn_enroll_only(c))
		return 1;
	if (conn_rate_init(c) < 0) {
		conn_close(c, "out of memory");
		return 1;
	}
	uv_timer_stop(&c->timer);
	/* Hash the client id; a client without one lands by its identity. */
	if (mc.client_id.len)
		n = upstream_pick(c->up, c->moat->idx, c->client_id,
				  mc.client_id.len, c->su->order,
				  CONN_MAX_TRIES);
	else if (ident)
		n = upstream_pick(c->up, c->moat->idx, ident, strlen(ident),
				  c->su->order, CONN_MAX_TRIES);
	else
		n = upstream_pick(c->up, c->moat->idx, &c->peer,
				  sizeof(c->peer), c->su->order,
				  CONN_MAX_TRIES);
	c->su->n_order = (uint8_t)n;
	c->su->tries = 0;
	c->state = CS_UPSTREAM;
	conn_upstream_try(c);
	return 1;
}
