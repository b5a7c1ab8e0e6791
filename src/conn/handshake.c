/* handshake.c - the TLS stage: the client's session is made once its
 * address is admitted, driven by what the client sends, paused while the
 * OCSP answer for its certificate is fetched on the loop (or a stapling
 * request for moat's own certificate is served), and ends in CS_CONNECT
 * with the certificate's identity (CS_WS on a websocket: listener), or in
 * a reject with its TLS alert. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "base/log.h"
#include "conn/internal.h"

/* wolfSSL's send callback: ciphertext for the client. */
/* wolfSSL's send callback: ciphertext for the client. While corked (a
 * handshake step; after a TLS 1.3 handshake, until the CONNACK) records
 * gather and leave in one write: a server flight is six records, and the
 * session ticket can travel with the CONNACK. */
static int conn_client_send(void *arg, const uint8_t *p, size_t n)
{
	struct conn *c = arg;

	if (c->corked && c->cork_len + n <= 16384) {
		if (c->cork_len + n > c->cork_cap) {
			size_t cap = c->cork_cap ? c->cork_cap : 2048;
			uint8_t *nb;

			while (cap < c->cork_len + n)
				cap *= 2;
			if (!(nb = scratch_realloc(c->cork, cap, 1)))
				return -1;
			c->cork = nb;
			c->cork_cap = (uint16_t)cap;
		}
		memcpy(c->cork + c->cork_len, p, n);
		c->cork_len = (uint16_t)(c->cork_len + n);
		return 0;
	}
	if (c->corked)
		conn_uncork(c);
	return conn_write(c, SIDE_CLIENT, p, n) < 0 ? -1 : 0;
}

static void conn_handshake_failed(struct conn *c, int ret)
{
	int err = wolfSSL_get_error(c->ssl, ret);
	enum reject_cause why;

	CTR_ADD(c->moat->handshakes_failed, 1);
	why = (enum reject_cause)tls_reject_cause(c->cert.verify_err, err);
	if (why == REJ_TLS_ERROR) {
		char msg[96], id[24], peer[64], e[16];

		wolfSSL_ERR_error_string_n((unsigned long)err, msg,
					   sizeof(msg));
		snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
		snprintf(e, sizeof(e), "%d", err);
		conn_peer_str(c, peer, sizeof(peer));
		log_event(LOG_DEBUG, "tls_error", "conn", id, "peer", peer,
			  "error", e, "detail", msg, NULL);
	}
	conn_refuse(c, why);
}

/* The client's last flight is in. A client with Nagle's algorithm on (the
 * default of libmosquitto, paho and most embedded stacks) holds its
 * CONNECT until that flight is acknowledged, and moat has nothing to send
 * until the CONNACK (a resumed TLS 1.2 handshake, or TLS 1.3 whose ticket
 * waits for the CONNACK): without an ACK now, the kernel's delayed ACK
 * (40 ms) stalls every connect. TCP_QUICKACK sends the pending ACK. */
static void conn_ack_now(struct conn *c)
{
	uv_os_fd_t fd;
	int one = 1;

	if (uv_fileno((uv_handle_t *)&c->client, &fd) == 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one,
				 sizeof(one));
}

static void conn_handshake_done(struct conn *c)
{
	struct moat *m = c->moat;

	/* Only now is it known whether the session was resumed: a ticket's
	 * identity becomes the connection's then, or is dropped. */
	if (tls_session_settle(c->ssl, &c->io) < 0) {
		CTR_ADD(m->handshakes_failed, 1);
		conn_refuse(c, REJ_TLS_ERROR);
		return;
	}
	CTR_ADD(m->handshakes_ok, 1);
	conn_ack_now(c);
	CTR_ADD(c->li->handshakes, 1);
	histo_observe(&m->h_handshake, (double)(uv_hrtime() - c->t0_ns) / 1e9);
	if (wolfSSL_session_reused(c->ssl))
		CTR_ADD(c->li->resumed, 1);
	/* The leaf's DER served the verify callback; a CRL reload checks
	 * live sessions by issuer and serial (tls_peer_crl_revoked). */
	scratch_free(c->cert.der);
	c->cert.der = NULL;
	c->cert.der_len = 0;
	switch (c->cert.ocsp_state) {
	case TLS_OCSP_STALE:
		CTR_ADD(m->ocsp_stale_used, 1);
		break;
	case TLS_OCSP_UNAVAILABLE:
	case TLS_OCSP_UNKNOWN:
	case TLS_OCSP_NO_URL:
		if (c->cert.ocsp_mode == CFG_OCSP_SOFT)
			CTR_ADD(m->ocsp_soft_failed, 1);
		break;
	}
	if (c->ws) { /* the upgrade request first (the ticket waits for
			the 101) */
		conn_ws_start(c);
		return;
	}
	c->state = CS_CONNECT;
	uv_timer_start(&c->timer, conn_on_timeout,
		       c->gen->cfg->limits.connect_timeout_ms, 0);
}

/* ---- OCSP during the handshake ---- */

static void conn_on_ocsp_wake(struct ocsp_waiter *w)
{
	struct conn *c =
	    ((struct conn_setup *)((char *)w -
				   offsetof(struct conn_setup, ocsp_w)))
		->c;

	if (c->state == CS_HANDSHAKE)
		conn_advance(c);
}

static int conn_ocsp_io(void *arg, const char *url, int url_len,
			const uint8_t *req, int req_len, uint8_t **resp)
{
	struct conn *c = arg;
	const struct cfg_ocsp *o = &c->lcfg->tls.ocsp;
	struct ocsp_opts opts = {o->timeout_ms, o->stale_if_error_ms,
				 o->max_age_ms};
	uint8_t *r = NULL;
	size_t rl;

	if (url_len <= 0 || req_len <= 0)
		return -1;
	if (tls_is_staple_request(c->io.tls, req, (size_t)req_len)) {
		/* wolfSSL wants the staple for our own certificate */
		static const uint8_t try_later[] = {0x30, 0x03, 0x0a, 0x01,
						    0x03};
		size_t sl = 0;

		*resp = tls_staple_get(c->io.tls, c->moat->ocsp, req,
				       (size_t)req_len, &sl);
		/* No staple this time: wolfSSL sends none when handed an
		 * OCSP "tryLater" (but fails the handshake, and frees its
		 * request twice, on a plain error). */
		if (!*resp) {
			if (!(*resp = malloc(sizeof(try_later))))
				return -1;
			memcpy(*resp, try_later, sizeof(try_later));
			sl = sizeof(try_later);
		}
		return (int)sl;
	}
	switch (c->su->ocsp_w.outcome) {
	case OCSP_OUT_FAIL:
		c->su->ocsp_w.outcome = OCSP_OUT_NONE;
		c->cert.ocsp_io_failed = 1;
		return -1;
	case OCSP_OUT_STALE:
		c->su->ocsp_w.outcome = OCSP_OUT_NONE;
		c->cert.ocsp_io_stale = 1;
		return -1;
	default:
		break;
	}
	switch (ocsp_lookup(c->moat->ocsp, url, (size_t)url_len, req,
			    (size_t)req_len, &opts, &c->su->ocsp_w, &r, &rl)) {
	case OCSP_LK_ANSWER:
		*resp = r; /* wolfSSL frees it */
		/* wolfSSL asks for the chain top down: the last answer is the
		 * leaf's, held (and kept fresh) while this connection lives */
		ocsp_release(c->moat->ocsp, c->ocsp_e);
		c->ocsp_e = ocsp_hold(c->moat->ocsp, req, (size_t)req_len);
		return (int)rl;
	case OCSP_LK_WAIT:
		return WOLFSSL_CBIO_ERR_WANT_READ;
	default:
		c->cert.ocsp_io_failed = 1;
		return -1;
	}
}

/* The client's address is known and admitted: make its TLS session, whose
 * IO goes through c (ciphertext out via conn_write, OCSP lookups via the
 * cache). -1: closed. */
int conn_handshake_start(struct conn *c)
{
	struct moat *m = c->moat;

	c->io.send = conn_client_send;
	c->io.ocsp = conn_ocsp_io;
	c->io.arg = c;
	c->su->ocsp_w.wake = conn_on_ocsp_wake;
	/* another worker is woken through its mailbox */
	c->su->ocsp_w.owner = m->idx ? &m->mbox_async : NULL;
	c->ssl = tls_session_new(c->li->tls, &c->io, &c->cert);
	if (!c->ssl) {
		conn_close(c, "out of memory");
		return -1;
	}
	return 0;
}

/* Drive the handshake with what the client sent. 1: done, the connection
 * is in CS_CONNECT; 0: waiting (for bytes, or for OCSP) or closed. */
int conn_handshake_step(struct conn *c)
{
	int r;

	c->corked = 1;
	r = wolfSSL_accept(c->ssl);
	/* The client waits for what this step wrote, unless the handshake is
	 * done in TLS 1.3: then only the session ticket is left, and it can
	 * wait for the CONNACK (a TLS 1.2 client waits for our Finished). */
	if (r != WOLFSSL_SUCCESS || wolfSSL_version(c->ssl) != TLS1_3_VERSION)
		conn_uncork(c);
	if (c->state == CS_CLOSED)
		return 0;
	if (r != WOLFSSL_SUCCESS) {
		int e = wolfSSL_get_error(c->ssl, r);

		if ((e == WOLFSSL_ERROR_WANT_READ ||
		     e == WOLFSSL_ERROR_WANT_WRITE) &&
		    !c->io.eof)
			return 0;
		if (e == OCSP_WANT_READ) { /* conn_on_ocsp_wake goes on */
			if (tls_io_stash(&c->io) < 0)
				conn_close(c, "out of memory");
			return 0;
		}
		/* A client that leaves mid-handshake (a port probe, or one
		 * that does not trust us) is not a reject. */
		if (c->io.eof && !c->cert.verify_err) {
			CTR_ADD(c->moat->handshakes_failed, 1);
			conn_close(c, "client closed during handshake");
			return 0;
		}
		conn_handshake_failed(c, r);
		return 0;
	}
	conn_handshake_done(c);
	return c->state == CS_CONNECT || c->state == CS_WS;
}
