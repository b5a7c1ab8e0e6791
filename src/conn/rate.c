/* rate.c - mqtt.rate: per connection, client to broker, two token buckets
 * (PUBLISH messages and bytes per second, each holding `burst` worth).
 * What a read brings is forwarded and taken from the buckets; a bucket in
 * debt stops reading the client (backpressure: TCP holds the rest) until a
 * timer says the debt is paid. A client whose debt reaches disconnect_over
 * seconds' worth of its rate is told MQTT 5 DISCONNECT 0x96 and closed. */
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "conn/internal.h"

struct conn_rate {
	uv_timer_t timer;
	double msgs, bytes; /* tokens; below zero a debt */
	uint64_t last_ms;   /* of the last refill */
	uint64_t publishes; /* of the framer's, already taken */
	uint8_t paused;
};

static void refill(struct conn_rate *r, const struct cfg_rate *cfg)
{
	uint64_t now = util_now_ms();
	double dt = (double)(now - r->last_ms) / 1000.0;
	double burst = (double)cfg->burst_ms / 1000.0;
	double mcap = (double)cfg->messages_per_second * burst;
	double bcap = (double)cfg->bytes_per_second * burst;

	r->last_ms = now;
	r->msgs += dt * (double)cfg->messages_per_second;
	r->bytes += dt * (double)cfg->bytes_per_second;
	if (r->msgs > mcap)
		r->msgs = mcap;
	if (r->bytes > bcap)
		r->bytes = bcap;
}

/* Milliseconds until both buckets are out of debt; 0 when they are. */
static uint64_t debt_ms(const struct conn_rate *r, const struct cfg_rate *cfg)
{
	double s = 0;

	if (cfg->messages_per_second && r->msgs < 0)
		s = -r->msgs / (double)cfg->messages_per_second;
	if (cfg->bytes_per_second && r->bytes < 0 &&
	    -r->bytes / (double)cfg->bytes_per_second > s)
		s = -r->bytes / (double)cfg->bytes_per_second;
	return s > 0 ? (uint64_t)(s * 1000.0) + 1 : 0;
}

static void on_rate_timer(uv_timer_t *t)
{
	struct conn *c = t->data;
	struct conn_rate *r = c->rate;
	const struct cfg_rate *cfg = &c->lcfg->mqtt.rate;
	uint64_t wait;

	if (c->state != CS_SPLICE)
		return;
	refill(r, cfg);
	wait = debt_ms(r, cfg);
	if (wait) {
		uv_timer_start(&r->timer, on_rate_timer, wait, 0);
		return;
	}
	r->paused = 0;
	if (c->wq[SIDE_UPSTREAM] <= WQ_LOW)
		conn_read_start(c, SIDE_CLIENT);
}

int conn_rate_init(struct conn *c)
{
	const struct cfg_rate *cfg = &c->lcfg->mqtt.rate;
	struct conn_rate *r;

	if (!cfg->on)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	uv_timer_init(c->moat->loop, &r->timer);
	r->timer.data = c;
	c->handles++;
	c->rate = r;
	r->last_ms = util_now_ms();
	/* a new connection starts with its burst */
	r->msgs =
	    (double)cfg->messages_per_second * (double)cfg->burst_ms / 1000.0;
	r->bytes =
	    (double)cfg->bytes_per_second * (double)cfg->burst_ms / 1000.0;
	return 0;
}

bool conn_rate_paused(const struct conn *c)
{
	return c->rate && c->rate->paused;
}

void conn_rate_close(struct conn *c)
{
	if (!c->rate)
		return;
	uv_timer_stop(&c->rate->timer);
	uv_close((uv_handle_t *)&c->rate->timer, conn_on_handle_closed);
}

int conn_rate_account(struct conn *c, size_t n)
{
	struct conn_rate *r = c->rate;
	const struct cfg_rate *cfg = &c->lcfg->mqtt.rate;
	uint64_t pubs = c->fr[SIDE_CLIENT].publishes;
	double over = (double)cfg->disconnect_over;
	uint64_t wait;

	refill(r, cfg);
	if (cfg->messages_per_second)
		r->msgs -= (double)(pubs - r->publishes);
	if (cfg->bytes_per_second)
		r->bytes -= (double)n;
	r->publishes = pubs;
	if (over > 0 &&
	    ((cfg->messages_per_second &&
	      r->msgs <= -over * (double)cfg->messages_per_second) ||
	     (cfg->bytes_per_second &&
	      r->bytes <= -over * (double)cfg->bytes_per_second))) {
		struct moat *m = c->moat;
		char id[24];

		CTR_ADD(m->rejects[REJ_RATE_LIMIT], 1);
		CTR_ADD(c->li->rejects[REJ_RATE_LIMIT], 1);
		snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
		if (conn_reject_log_allowed(m, REJ_RATE_LIMIT))
			log_event(LOG_WARN, "reject", "conn", id, "cause",
				  reject_name(REJ_RATE_LIMIT), "client_id",
				  c->client_id, NULL);
		conn_read_stop(c, SIDE_CLIENT);
		c->eof[SIDE_CLIENT] = 1; /* and never read again */
		conn_end_live_rc(c, MQTT5_RC_MESSAGE_RATE_TOO_HIGH,
				 "message rate too high");
		return -1;
	}
	wait = debt_ms(r, cfg);
	if (wait && !r->paused) {
		char id[24], ms[24];

		snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
		snprintf(ms, sizeof(ms), "%llu", (unsigned long long)wait);
		log_event(LOG_DEBUG, "rate_pause", "conn", id, "client_id",
			  c->client_id, "ms", ms, NULL);
		r->paused = 1;
		conn_read_stop(c, SIDE_CLIENT);
		uv_timer_start(&r->timer, on_rate_timer, wait, 0);
	}
	return 0;
}
