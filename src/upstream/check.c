/* check.c - health checks. Each checked server owns one struct check with
 * an interval timer, a timeout timer and, while a probe runs, one TCP
 * handle. A probe tries the server's addresses in turn until one accepts
 * the TCP connect (each under health.timeout); it ends in exactly one
 * server_report() call, then its handle closes; a probe never overlaps
 * the next one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "upstream/check.h"
#include "codec/mqtt.h"
#include "codec/proxy.h"
#include "upstream/server.h"

struct check {
	struct server *s;
	uv_timer_t every, tmo;
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_write_t wreq;
	int busy;      /* a probe is running (tcp handle open or closing) */
	int reported;  /* this probe has reported */
	int connected;
	int stopping;
	int handles;
	struct server_try at; /* the probe's walk over the addresses */
	uint8_t out[96];
	uint8_t in[8];
	size_t got;
};

static void probe_closed(uv_handle_t *h)
{
	struct check *k = h->data;

	k->busy = 0;
	if (k->stopping && --k->handles == 0)
		free(k);
}

static void probe_end(struct check *k, bool ok, const char *code)
{
	if (!k->reported) {
		k->reported = 1;
		if (!k->stopping)
			server_report(k->s, ok, code);
	}
	uv_timer_stop(&k->tmo);
	if (!uv_is_closing((uv_handle_t *)&k->tcp))
		uv_close((uv_handle_t *)&k->tcp, probe_closed);
}

static void probe_start(struct check *k);

static void probe_retry_closed(uv_handle_t *h)
{
	struct check *k = h->data;

	if (k->stopping) {
		probe_closed(h);
		return;
	}
	probe_start(k);
}

/* A TCP connect failed: the server is down only if no address answers. */
static void probe_l4_failed(struct check *k, const char *code)
{
	if (k->stopping || !server_addr_failed(k->s, &k->at, code)) {
		probe_end(k, false, code);
		return;
	}
	uv_timer_stop(&k->tmo);
	if (!uv_is_closing((uv_handle_t *)&k->tcp))
		uv_close((uv_handle_t *)&k->tcp, probe_retry_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct check *k = h->data;

	(void)hint;
	b->base = (char *)k->in + k->got;
	b->len = sizeof(k->in) - k->got;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct check *k = st->data;
	static const uint8_t disconnect[2] = {0xe0, 0x00};
	uv_buf_t out;

	(void)b;
	if (n == 0)
		return;
	if (n < 0) {
		probe_end(k, false, "L7RSP");
		return;
	}
	k->got += (size_t)n;
	if (k->got < 4 && k->in[0] == 0x20)
		return;
	if (k->in[0] == 0x20 && k->in[1] == 0x02 && k->in[3] == 0x00) {
		out = uv_buf_init((char *)disconnect, sizeof(disconnect));
		uv_try_write(st, &out, 1);
		probe_end(k, true, "L7OK");
		return;
	}
	probe_end(k, false, "L7RSP");
}

static void on_connect(uv_connect_t *req, int status)
{
	struct check *k = req->data;
	uv_buf_t b;
	int n;

	if (status == UV_ECANCELED || k->reported)
		return;
	if (status < 0) {
		probe_l4_failed(k, "L4CON");
		return;
	}
	k->connected = 1;
	server_addr_answered(k->s, &k->at);
	{
		/* A broker that wants PROXY headers gets a LOCAL/UNKNOWN one
		 * from the check (HAProxy's check-send-proxy). */
		enum cfg_proxy_send sp = k->s->up->cfg->send_proxy;
		int h = sp == CFG_PROXY_V1   ? proxy_build_v1(k->out, 32, NULL, NULL)
			: sp == CFG_PROXY_V2 ? proxy_build_v2(k->out, 64, NULL,
							      NULL, NULL)
					     : 0;

		if (h < 0) {
			probe_end(k, false, "L4CON");
			return;
		}
		if (k->s->up->cfg->health.type == CFG_HEALTH_TCP) {
			if (h) {
				b = uv_buf_init((char *)k->out, (unsigned)h);
				uv_try_write((uv_stream_t *)&k->tcp, &b, 1);
			}
			probe_end(k, true, "L4OK");
			return;
		}
		n = mqtt_build_connect(k->out + h, sizeof(k->out) - (size_t)h,
				       "moat-health-check");
		if (n < 0) {
			probe_end(k, false, "L7RSP");
			return;
		}
		n += h;
	}
	b = uv_buf_init((char *)k->out, (unsigned)n);
	if (uv_try_write((uv_stream_t *)&k->tcp, &b, 1) != n ||
	    uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read) < 0)
		probe_end(k, false, "L7RSP");
}

static void on_timeout(uv_timer_t *t)
{
	struct check *k = t->data;

	if (k->connected)
		probe_end(k, false, "L7TOUT");
	else
		probe_l4_failed(k, "L4TOUT");
}

/* Connect to the walk's next address (a probe's first, or the one after
 * an address that failed). */
static void probe_start(struct check *k)
{
	struct moat *m = k->s->up->moat;

	uv_tcp_init(m->loop, &k->tcp);
	k->tcp.data = k;
	k->creq.data = k;
	uv_timer_start(&k->tmo, on_timeout, k->s->up->cfg->health.timeout_ms,
		       0);
	if (uv_tcp_connect(&k->creq, &k->tcp, server_next_addr(k->s, &k->at),
			   on_connect) < 0)
		probe_l4_failed(k, "L4CON");
}

static void on_every(uv_timer_t *t)
{
	struct check *k = t->data;

	if (k->busy || k->stopping)
		return;
	k->busy = 1;
	k->reported = 0;
	k->connected = 0;
	k->got = 0;
	memset(k->in, 0, sizeof(k->in));
	memset(&k->at, 0, sizeof(k->at));
	probe_start(k);
}

int checks_start(struct moat *m, struct gen *g)
{
	for (size_t i = 0; i < g->n_upstreams; i++) {
		struct upstream *u = &g->upstreams[i];
		const struct cfg_health *h = &u->cfg->health;

		if (h->type == CFG_HEALTH_NONE)
			continue;
		for (size_t j = 0; j < u->n_servers; j++) {
			struct check *k = calloc(1, sizeof(*k));

			if (!k)
				return -1;
			k->s = u->servers[j];
			u->servers[j]->check = k;
			uv_timer_init(m->loop, &k->every);
			uv_timer_init(m->loop, &k->tmo);
			k->every.data = k;
			k->tmo.data = k;
			uv_timer_start(&k->every, on_every, 0, h->interval_ms);
		}
	}
	return 0;
}

static void timer_closed(uv_handle_t *h)
{
	struct check *k = h->data;

	if (--k->handles == 0)
		free(k);
}

void checks_stop(struct gen *g)
{
	for (size_t i = 0; i < g->n_upstreams; i++) {
		struct upstream *u = &g->upstreams[i];

		for (size_t j = 0; j < u->n_servers; j++) {
			struct check *k = u->servers[j]->check;

			if (!k)
				continue;
			u->servers[j]->check = NULL;
			k->stopping = 1;
			k->handles = 2 + (k->busy ? 1 : 0);
			if (k->busy && !uv_is_closing((uv_handle_t *)&k->tcp))
				uv_close((uv_handle_t *)&k->tcp, probe_closed);
			uv_close((uv_handle_t *)&k->every, timer_closed);
			uv_close((uv_handle_t *)&k->tmo, timer_closed);
		}
	}
}
