/* upstream.c - the broker stage: dial the picked brokers in order, each
 * over its addresses (base/dial.c; fail-over to the next server while
 * nothing was forwarded), count a failure against the server's health
 * once none of its addresses answered, then send the PROXY header if
 * asked, the admitted CONNECT and what the client pipelined behind it,
 * and start forwarding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/histo.h"
#include "base/log.h"
#include "codec/proxy.h"
#include "upstream/server.h"
#include "conn/internal.h"

static void on_dialed(struct dial *d, int status);

static void on_attempt_failed(struct dial *d, const struct sockaddr *sa,
			      int status)
{
	server_addr_failed(((struct conn *)d->data)->srv, sa, status);
}

static const struct dial_ops conn_dial = {
    .timer_cb = conn_on_timeout,
    .close_cb = conn_on_handle_closed,
    .attempt_failed = on_attempt_failed,
    .done = on_dialed,
    .alloc_cb = conn_on_alloc,
    .read_cb = conn_on_upstream_read,
};

void conn_upstream_close(struct conn *c)
{
	if (c->su && dial_busy(&c->su->dial)) {
		dial_stop(&c->su->dial); /* its close counts the handle down */
	} else if (c->upstream_open) {
		c->upstream_open = 0;
		uv_close((uv_handle_t *)&c->upstream, conn_on_handle_closed);
	}
}

void conn_upstream_try(struct conn *c)
{
	while (c->su->tries < c->su->n_order) {
		struct server *s = c->su->order[c->su->tries++];

		if (!server_usable(s))
			continue;
		c->srv = s;
		c->t0_ns = uv_hrtime();
		c->handles++; /* the upstream handle, the dial's until done */
		dial_init(&c->su->dial, &conn_dial, &c->upstream, &c->timer, c);
		server_dial(s, upstream_server_cfg(c->up, s), &c->su->dial,
			    c->up->cfg->connect_timeout_ms);
		return;
	}
	CTR_ADD(UP_CTR(c)->no_server, 1);
	conn_refuse(c, REJ_NO_SERVER);
}

/* The PROXY header for the broker: the client's address (as moat knows
 * it, from its own PROXY header if one was trusted), the address it
 * connected to, and for v2 the TLS session and the certificate's CN. */
static int send_proxy(struct conn *c)
{
	struct sockaddr_storage dst;
	int dl = sizeof(dst), n;
	uint8_t hdr[768];

	memset(&dst, 0, sizeof(dst));
	uv_tcp_getsockname(&c->client, (struct sockaddr *)&dst, &dl);
	if (c->up->cfg->send_proxy == CFG_PROXY_V1) {
		n = proxy_build_v1(hdr, sizeof(hdr),
				   (const struct sockaddr *)&c->peer,
				   (const struct sockaddr *)&dst);
	} else {
		struct proxy_tls t = {
			.has_cert = c->cert.has_cert,
			.verified = c->cert.has_cert && !c->cert.verify_err,
			.version = c->ssl ? wolfSSL_get_version(c->ssl) : NULL,
			.cipher = c->ssl ? wolfSSL_get_cipher_name(c->ssl)
					 : NULL,
			/* the device's identity: a token's, else the CN */
			.cn = c->token_ident ? c->token_ident : c->cert.cn,
		};

		n = proxy_build_v2(hdr, sizeof(hdr),
				   (const struct sockaddr *)&c->peer,
				   (const struct sockaddr *)&dst,
				   c->ssl ? &t : NULL); /* ws:// had no TLS */
	}
	if (n < 0)
		return -1;
	return conn_write(c, SIDE_UPSTREAM, hdr, (size_t)n);
}

/* The dial of c->srv is over: connected, or none of its addresses
 * answered (the server failed once: the next one is tried). */
static void on_dialed(struct dial *d, int status)
{
	struct conn *c = d->data;
	struct server *s = c->srv;
	const uint8_t *rest;
	size_t nrest;
	char id[24];

	if (status < 0) { /* the handle is closed */
		c->handles--;
		if (status == UV_ENOMEM) { /* not the broker's fault */
			conn_close(c, "out of memory");
			return;
		}
		server_report(s, false, server_l4_code(status));
		CTR_ADD(SRV_CTR(c)->connect_fails, 1);
		c->srv = NULL;
		conn_upstream_try(c);
		return;
	}
	c->upstream_open = 1;
	c->reading[SIDE_UPSTREAM] = d->reading; /* armed with the connect */
	uv_timer_stop(&c->timer);
	server_addr_answered(s, d);
	histo_observe(&c->moat->h_upstream_connect,
		      (double)(uv_hrtime() - c->t0_ns) / 1e9);
	uv_tcp_nodelay(&c->upstream, 1);
	CTR_ADD(SRV_CTR(c)->active, 1);
	c->srv_active = 1;
	CTR_ADD(SRV_CTR(c)->total, 1);
	CTR_ADD(UP_CTR(c)->total, 1);
	c->state = CS_SPLICE;
	conn_live_watch(c);
	if (conn_enroll_start(c) < 0) {
		conn_close(c, "out of memory");
		return;
	}
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	log_event(LOG_INFO, "forward", "conn", id, "client_id", c->client_id,
		  "server", s->cfg->name, "subject", c->cert.subject, NULL);
	/* The CONNECT passed every check: now, and only now, the broker
	 * gets it, with whatever the client pipelined behind it. */
	if (c->up->cfg->send_proxy != CFG_PROXY_OFF && send_proxy(c) < 0) {
		conn_close(c, "broker write error");
		return;
	}
	rest = c->su->cbuf + c->su->connect_len;
	nrest = c->su->clen - c->su->connect_len;
	CTR_ADD(SRV_CTR(c)->bytes_in, c->su->connect_len);
	CTR_ADD(c->li->bytes_in, c->su->connect_len);
	CTR_ADD(UP_CTR(c)->bytes_in, c->su->connect_len);
	if (conn_write(c, SIDE_UPSTREAM, c->su->cbuf, c->su->connect_len) < 0) {
		conn_close(c, "broker write error");
		return;
	}
	if (nrest) {
		uint8_t *tmp = c->su->cbuf;

		c->bytes_in -= nrest; /* counted again by splice */
		c->su->cbuf = NULL;
		c->su->clen = c->su->ccap = 0;
		if (conn_splice_in(c, rest, nrest) < 0) {
			scratch_free(tmp);
			return;
		}
		scratch_free(tmp);
	}
	conn_setup_free(c); /* the dial is done, the CONNECT forwarded */
	conn_read_start(c, SIDE_UPSTREAM);
	if (c->io.eof) {
		conn_client_eof(c);
		return;
	}
	conn_read_start(c, SIDE_CLIENT);
}
