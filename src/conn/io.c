/* io.c - a connection's two sockets: reads land in the worker's shared
 * buffer (an idle connection holds none), writes go straight to the socket
 * when nothing is queued, and a side with more than WQ_HIGH queued stops
 * the other side's reads until it drains below WQ_LOW (backpressure). */
#include <stdlib.h>
#include <string.h>

#include "conn/internal.h"

struct wreq {
	uv_write_t req;
	struct conn *c;
	size_t len;
	int side;
	uint8_t data[];
};

void conn_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;

	(void)hint;
	/* One shared buffer per loop: a read is consumed before the next.
	 * From the broker to a WebSocket: room for the frame header before
	 * what is read (conn_tx_framed). */
	buf->base = (char *)c->moat->rbuf;
	buf->len = sizeof(c->moat->rbuf);
	if (c->ws && h == (uv_handle_t *)&c->upstream) {
		buf->base += WS_SERVER_HEADER_MAX;
		buf->len -= WS_SERVER_HEADER_MAX;
	}
}

static uv_stream_t *side_stream(struct conn *c, int side)
{
	return side == SIDE_CLIENT ? (uv_stream_t *)&c->client
				   : (uv_stream_t *)&c->upstream;
}

void conn_read_start(struct conn *c, int side)
{
	if (c->reading[side] || c->eof[side] || c->state >= CS_CLOSING)
		return;
	if (side == SIDE_UPSTREAM && !c->upstream_open)
		return;
	if (side == SIDE_CLIENT && (conn_rate_paused(c) || conn_acl_held(c)))
		return; /* the rate's timer, or the answers going out, start
			   it again */
	if (uv_read_start(side_stream(c, side), conn_on_alloc,
			  side == SIDE_CLIENT ? conn_on_client_read
					      : conn_on_upstream_read) == 0)
		c->reading[side] = 1;
}

void conn_read_stop(struct conn *c, int side)
{
	if (!c->reading[side])
		return;
	uv_read_stop(side_stream(c, side));
	c->reading[side] = 0;
}

static void on_written(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct conn *c = w->c;
	int side = w->side;

	CTR_SUB(c->wq[side], w->len);
	free(w);
	if (c->state == CS_CLOSED)
		return;
	if (status < 0) {
		conn_close(c, side == SIDE_CLIENT ? "client write error"
						  : "broker write error");
		return;
	}
	if (c->state == CS_CLOSING) {
		if (side == SIDE_CLIENT && c->wq[SIDE_CLIENT] == 0)
			conn_linger_start(c);
		return;
	}
	/* Backpressure released: the other side may be read again. */
	if (c->wq[side] <= WQ_LOW && c->state == CS_SPLICE)
		conn_read_start(c, !side);
}

void conn_uncork(struct conn *c)
{
	uint8_t *p = c->cork;
	size_t n = c->cork_len;

	c->corked = 0;
	c->cork = NULL;
	c->cork_len = c->cork_cap = 0;
	if (n && conn_write(c, SIDE_CLIENT, p, n) < 0 && c->state < CS_CLOSING)
		conn_close(c, "client write error");
	scratch_free(p);
}

/* Write to one side: straight to the socket when nothing is queued,
 * otherwise (or for what the socket did not take) into a write request. */
int conn_write(struct conn *c, int side, const uint8_t *p, size_t n)
{
	uv_stream_t *s = side_stream(c, side);
	struct wreq *w;
	uv_buf_t b;
	int r;

	if (c->state == CS_CLOSED)
		return -1;
	if (c->wq[side] == 0) {
		b = uv_buf_init((char *)p, (unsigned)n);
		r = uv_try_write(s, &b, 1);
		if (r >= 0) {
			p += r;
			n -= (size_t)r;
		} else if (r != UV_EAGAIN) {
			return r;
		}
	}
	if (n == 0)
		return 0;
	w = malloc(sizeof(*w) + n);
	if (!w)
		return UV_ENOMEM;
	w->c = c;
	w->len = n;
	w->side = side;
	memcpy(w->data, p, n);
	b = uv_buf_init((char *)w->data, (unsigned)n);
	r = uv_write(&w->req, s, &b, 1, on_written);
	if (r < 0) {
		free(w);
		return r;
	}
	CTR_ADD(c->wq[side], n);
	if (c->wq[side] > WQ_HIGH)
		conn_read_stop(c, !side);
	return 0;
}
