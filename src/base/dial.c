/* dial.c - connect to the first of several addresses that answers (see
 * dial.h). Each attempt initialises the caller's TCP handle, connects it
 * under the caller's timer, and after a refusal or a timeout closes it
 * and starts the next attempt from the close callback, so that a handle
 * is never reused for a second connect (the next address may be of the
 * other family). While the handle closes, its data points here. */
#include <stdlib.h>

#include "base/dial.h"
#include "base/scratch.h"

enum {
	DIAL_IDLE,
	DIAL_CONNECTING, /* an attempt's connect is in flight */
	DIAL_CLOSING,	 /* closing after a failed attempt */
	DIAL_STOPPING,	 /* stopped while closing: close_cb comes next */
};

void dial_init(struct dial *d, const struct dial_ops *ops, uv_tcp_t *tcp,
	       uv_timer_t *timer, void *data)
{
	d->ops = ops;
	d->tcp = tcp;
	d->timer = timer;
	d->data = data;
	d->state = DIAL_IDLE;
}

uint64_t dial_left_ms(const struct dial *d)
{
	uint64_t now = uv_now(d->timer->loop);

	return d->deadline > now ? d->deadline - now : 0;
}

static void on_closed(uv_handle_t *h);

/* The attempt at addrs[d->at] failed with status: tell, then close. */
static void attempt_failed(struct dial *d, int status)
{
	uv_timer_stop(d->timer);
	d->err = status;
	if (d->ops->attempt_failed)
		d->ops->attempt_failed(d, &d->addrs[d->at].sa, status);
	d->state = DIAL_CLOSING;
	d->tcp->data = d;
	uv_close((uv_handle_t *)d->tcp, on_closed);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct dial *d = req->data;

	scratch_free(req);
	/* canceled: the handle was closed under it (a timeout, a stop) */
	if (status == UV_ECANCELED || d->state != DIAL_CONNECTING)
		return;
	if (status < 0) {
		attempt_failed(d, status);
		return;
	}
	d->state = DIAL_IDLE;
	d->ops->done(d, 0);
}

static void attempt(struct dial *d)
{
	uint64_t ms = d->attempt_ms;
	uv_connect_t *req;
	int r;

	d->at = (uint8_t)((d->first + d->tried) % d->n);
	if (d->deadline) {
		uint64_t share = dial_left_ms(d) / (uint64_t)(d->n - d->tried);

		if (!ms || share < ms)
			ms = share ? share : 1;
	}
	d->tried++;
	uv_tcp_init(d->timer->loop, d->tcp);
	d->tcp->data = d->data;
	d->state = DIAL_CONNECTING;
	if (ms)
		uv_timer_start(d->timer, d->ops->timer_cb, ms, 0);
	if (!(req = scratch_alloc(sizeof(*req)))) {
		d->tried = d->n; /* not the address's fault: no more tries */
		attempt_failed(d, UV_ENOMEM);
		return;
	}
	req->data = d;
	d->reading = 0;
	r = uv_tcp_connect(req, d->tcp, &d->addrs[d->at].sa, on_connect);
	if (r < 0) { /* e.g. no route to that family: the next one */
		scratch_free(req);
		attempt_failed(d, r);
		return;
	}
	/* one epoll_ctl for the connect and the reads (dial.h) */
	if (d->ops->read_cb)
		d->reading =
		    uv_read_start((uv_stream_t *)d->tcp, d->ops->alloc_cb,
				  d->ops->read_cb) == 0;
}

static void on_closed(uv_handle_t *h)
{
	struct dial *d = h->data;

	h->data = d->data;
	if (d->state == DIAL_STOPPING) {
		d->state = DIAL_IDLE;
		d->ops->close_cb(h);
		return;
	}
	if (d->tried < d->n && (!d->deadline || dial_left_ms(d) > 0)) {
		attempt(d);
		return;
	}
	d->state = DIAL_IDLE;
	d->ops->done(d, d->tried < d->n ? UV_ETIMEDOUT : d->err);
}

void dial_start(struct dial *d, const union util_addr *addrs, size_t n,
		size_t first, uint32_t attempt_ms, uint64_t total_ms)
{
	d->addrs = addrs;
	d->n = (uint8_t)(n < 255 ? n : 255);
	d->first = (uint8_t)(first % d->n);
	d->tried = 0;
	d->err = 0;
	d->attempt_ms = attempt_ms;
	d->deadline = total_ms ? uv_now(d->timer->loop) + total_ms : 0;
	attempt(d);
}

int dial_busy(const struct dial *d)
{
	return d->state == DIAL_CONNECTING || d->state == DIAL_CLOSING;
}

void dial_timed_out(struct dial *d)
{
	if (d->state == DIAL_CONNECTING)
		attempt_failed(d, UV_ETIMEDOUT);
}

void dial_stop(struct dial *d)
{
	if (d->state == DIAL_CONNECTING) {
		uv_timer_stop(d->timer);
		d->state = DIAL_IDLE;
		uv_close((uv_handle_t *)d->tcp, d->ops->close_cb);
	} else if (d->state == DIAL_CLOSING) {
		d->state = DIAL_STOPPING;
	}
}
