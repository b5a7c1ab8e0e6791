/* splice.c - the forwarding stage: plaintext from the client to the
 * broker and from the broker (encrypted) to the client, each direction's
 * MQTT framing checked against max_packet_size, half-closes passed on,
 * and a pending DISCONNECT (stop, revocation) sent at a packet boundary. */
#include <stdlib.h>

#include "upstream/server.h"
#include "conn/internal.h"

/* Forward plaintext from the client to the broker, checking the framing. */
int conn_splice_in(struct conn *c, const uint8_t *p, size_t n)
{
	uint32_t max = (uint32_t)c->gen->cfg->limits.max_packet_size;
	int r = mqtt_framer_feed(&c->fr[SIDE_CLIENT], p, n, max);

	if (r < 0) {
		conn_reject(c,
			    r == MQTT_E_TOO_LARGE ? REJ_PACKET_TOO_LARGE
						  : REJ_BAD_CONNECT,
			    -1);
		return -1;
	}
	CTR_ADD(c->bytes_in, n);
	CTR_ADD(SRV_CTR(c)->bytes_in, n);
	CTR_ADD(c->li->bytes_in, n);
	CTR_ADD(UP_CTR(c)->bytes_in, n);
	if (c->acl) /* packet by packet, through the topic rules */
		return conn_acl_in(c, p, n);
	if (conn_write(c, SIDE_UPSTREAM, p, n) < 0) {
		conn_close(c, "broker write error");
		return -1;
	}
	return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	free(req);
}

/* The client has finished sending (close_notify or TCP FIN). */
void conn_client_eof(struct conn *c)
{
	uv_shutdown_t *req;

	c->eof[SIDE_CLIENT] = 1;
	conn_read_stop(c, SIDE_CLIENT);
	if (c->state != CS_SPLICE) {
		conn_close(c, "client closed");
		return;
	}
	if (c->eof[SIDE_UPSTREAM]) {
		conn_finish(c);
		return;
	}
	/* Pass the half-close on: FIN to the broker once its queue is out. */
	req = malloc(sizeof(*req));

	if (!req || uv_shutdown(req, (uv_stream_t *)&c->upstream,
				on_shutdown) < 0) {
		free(req);
		conn_finish(c);
	}
}

void conn_on_upstream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = s->data;
	uint32_t max = (uint32_t)c->gen->cfg->limits.max_packet_size;
	int r;

	if (n == 0)
		return;
	if (n < 0) {
		c->eof[SIDE_UPSTREAM] = 1;
		conn_read_stop(c, SIDE_UPSTREAM);
		if (n != UV_EOF) {
			conn_close(c, "broker read error");
			return;
		}
		/* The broker ended the session: close_notify to the client,
		 * flush, close. */
		wolfSSL_shutdown(c->ssl);
		conn_finish(c);
		return;
	}
	if (c->say_goodbye) {
		/* Forward only the rest of the packet in flight, then leave. */
		n = (ssize_t)mqtt_framer_span(&c->fr[SIDE_UPSTREAM], (size_t)n);
		if (n == 0) {
			conn_goodbye(c);
			return;
		}
	}
	r = mqtt_framer_feed(&c->fr[SIDE_UPSTREAM], (const uint8_t *)b->base,
			     (size_t)n, max);
	if (r < 0) {
		conn_close(c, r == MQTT_E_TOO_LARGE
				      ? "broker packet over max_packet_size"
				      : "broker sent a malformed packet");
		return;
	}
	CTR_ADD(c->bytes_out, (uint64_t)n);
	CTR_ADD(SRV_CTR(c)->bytes_out, (uint64_t)n);
	CTR_ADD(c->li->bytes_out, (uint64_t)n);
	CTR_ADD(UP_CTR(c)->bytes_out, (uint64_t)n);
	if (c->acl) {
		if (conn_acl_out(c, (const uint8_t *)b->base, (size_t)n) < 0)
			return;
	} else {
		r = wolfSSL_write(c->ssl, b->base, (int)n);
		if (r != (int)n && c->state != CS_CLOSED) {
			conn_close(c, "client TLS write error");
			return;
		}
	}
	if (c->corked) /* the CONNACK, with the session ticket before it */
		conn_uncork(c);
	if (c->acl && c->state == CS_SPLICE) /* moat's answers, between packets */
		conn_acl_flush(c);
	if (c->say_goodbye && mqtt_framer_at_boundary(&c->fr[SIDE_UPSTREAM]))
		conn_goodbye(c);
}
