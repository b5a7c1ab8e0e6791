/* check.c - health checks. Each checked server owns one struct check with
 * an interval timer, a timeout timer and, while a probe runs, one TCP
 * handle. A probe dials the server's addresses in turn (base/dial.c, as
 * client connects do) until one accepts the TCP connect (each under
 * health.timeout); it ends in exactly one server_report() call, then its
 * handle closes; a probe never overlaps the next one. */
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
	const struct cfg_server *cs; /* s's, in the checks' generation */
	uv_timer_t every, tmo;
	uv_tcp_t tcp;
	uv_write_t wreq;
	int busy;      /* a probe is running (tcp handle open or closing) */
	int reported;  /* this probe has reported */
	int connected;
	int stopping;
	int handles;
	struct dial dial; /* the probe's walk over the addresses */
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

static void on_attempt_failed(struct dial *d, const struct sockaddr *sa,
			      int status)
{
	server_addr_failed(((struct check *)d->data)->s, sa, status);
}

/* The TCP connect is over: the server is down only if no address
 * answered; else the check itself. */
static void on_dialed(struct dial *d, int status)
{
	struct check *k = d->data;
	uv_buf_t b;
	int n;

	if (status < 0) { /* the handle is closed */
		k->reported = 1;
		if (!k->stopping)
			server_report(k->s, false, server_l4_code(status));
		k->busy = 0;
		return;
	}
	k->connected = 1;
	server_addr_answered(k->s, d);
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

	if (dial_busy(&k->dial))
		dial_timed_out(&k->dial);
	else if (k->connected)
		probe_end(k, false, "L7TOUT");
}

static const struct dial_ops check_dial = {
    .timer_cb = on_timeout,
    .close_cb = probe_closed,
    .attempt_failed = on_attempt_failed,
    .done = on_dialed,
};

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
	server_dial(k->s, k->cs, &k->dial, k->s->up->cfg->health.timeout_ms);
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
			k->cs = &u->cfg->servers[j];
			u->servers[j]->check = k;
			uv_timer_init(m->loop, &k->every);
			uv_timer_init(m->loop, &k->tmo);
			k->every.data = k;
			k->tmo.data = k;
			dial_init(&k->dial, &check_dial, &k->tcp, &k->tmo, k);
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
			if (dial_busy(&k->dial))
				dial_stop(&k->dial);
			else if (k->busy &&
				 !uv_is_closing((uv_handle_t *)&k->tcp))
				uv_close((uv_handle_t *)&k->tcp, probe_closed);
			uv_close((uv_handle_t *)&k->every, timer_closed);
			uv_close((uv_handle_t *)&k->tmo, timer_closed);
		}
	}
}
