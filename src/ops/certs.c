/* certs.c - the client certificates of the connected devices, seen from
 * the operations side: `show certs [expiring DAYS]` lists them with their
 * notAfter, and /metrics has them as a histogram of days to expiry, so an
 * operator can alert weeks before a fleet's certificates lapse (read from
 * conn_each, like `show conns`: no second bookkeeping); and `show
 * enroll`, the issuing CAs and the renewals by outcome. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/der.h"
#include "conn/conn.h"
#include "core/moat.h"
#include "core/worker.h"
#include "tls/issue.h"
#include "tls/tls.h"
#include "ops/certs.h"

/* Upper bounds of the expiry histogram, in days (exposed in seconds,
 * Prometheus' base unit). */
static const double day_bounds[] = {1, 3, 7, 14, 30, 60, 90, 180, 365};
#define N_BOUNDS (sizeof(day_bounds) / sizeof(day_bounds[0]))

struct certs_walk {
	int64_t now;
	int64_t within; /* seconds; < 0: every certificate */
	struct sbuf *o;
	uint64_t n[N_BOUNDS + 1];
	uint64_t count;
	double sum;
};

static void cert_row(const struct conn_info *ci, void *arg)
{
	struct certs_walk *w = arg;
	int64_t left = ci->not_after - w->now;
	char na[24];

	if (!ci->not_after || ci->closing ||
	    (w->within >= 0 && left > w->within))
		return;
	sb_printf(w->o, "%llu ", (unsigned long long)ci->id);
	sb_word(w->o, ci->client_id);
	sb_printf(w->o, " ");
	sb_word(w->o, ci->identity);
	sb_printf(w->o, " ");
	sb_word(w->o, ci->subject);
	sb_printf(w->o, " %s %s %.1f\n", ci->serial ? ci->serial : "-",
		  tls_time_str(ci->not_after, na, sizeof(na)),
		  (double)left / 86400.0);
}

int certs_show(struct moat *m, char **w, int n, struct sbuf *o)
{
	struct certs_walk cw = {
	    .now = (int64_t)time(NULL), .within = -1, .o = o};

	if (n == 2 && strcmp(w[0], "expiring") == 0) {
		char *end;
		long days = strtol(w[1], &end, 10);

		if (*end || end == w[1] || days < 0 || days > 36500) {
			sb_printf(o, "error: show certs expiring DAYS: DAYS is "
				     "a whole number of days (0 to 36500)\n");
			return 0;
		}
		cw.within = (int64_t)days * 86400;
	} else if (n != 0) {
		return -1;
	}
	sb_printf(o, "# id client_id identity subject serial not_after "
		     "days_left\n");
	for (unsigned k = 0; k < m->n_workers; k++)
		conn_each(m->workers[k], cert_row, &cw);
	return 0;
}

static void cert_count(const struct conn_info *ci, void *arg)
{
	struct certs_walk *w = arg;
	double days;
	size_t i;

	if (!ci->not_after || ci->closing)
		return;
	days = (double)(ci->not_after - w->now) / 86400.0;
	for (i = 0; i < N_BOUNDS && days > day_bounds[i]; i++)
		;
	w->n[i]++;
	w->count++;
	w->sum += (double)(ci->not_after - w->now);
}

void certs_metrics(struct moat *m, struct sbuf *o)
{
	struct certs_walk cw = {
	    .now = (int64_t)time(NULL), .within = -1, .o = o};
	const char *name = "moat_client_cert_expiry_seconds";
	uint64_t cum = 0;

	for (unsigned k = 0; k < m->n_workers; k++)
		conn_each(m->workers[k], cert_count, &cw);
	sb_printf(o,
		  "# HELP %s Connected client certificates by time until "
		  "their notAfter (buckets of 1 to 365 days; negative: "
		  "expired, in renew_grace).\n"
		  "# TYPE %s histogram\n",
		  name, name);
	for (size_t i = 0; i < N_BOUNDS; i++) {
		cum += cw.n[i];
		sb_printf(o, "%s_bucket{le=\"%.0f\"} %llu\n", name,
			  day_bounds[i] * 86400.0, (unsigned long long)cum);
	}
	sb_printf(o,
		  "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.0f\n%s_count %llu\n",
		  name, (unsigned long long)cw.count, name, cw.sum, name,
		  (unsigned long long)cw.count);
}

static void days(struct sbuf *o, const char *key, uint64_t ms)
{
	if (ms % 86400000 == 0)
		sb_printf(o, " %s=%llud", key,
			  (unsigned long long)(ms / 86400000));
	else
		sb_printf(o, " %s=%llus", key, (unsigned long long)(ms / 1000));
}

void enroll_show(struct moat *m, struct sbuf *o)
{
	struct moat_view v;
	struct gen *g = m->gen;

	for (size_t i = 0; g && i < g->cfg->n_listeners; i++) {
		const struct cfg_listener *l = &g->cfg->listeners[i];
		const struct cfg_enroll *e = &l->mqtt.enroll;
		struct x509_fields f;
		char ca[512] = "-", na[24] = "-";
		const uint8_t *der;
		size_t len;

		if (!e->on || !g->issuers || !g->issuers[i])
			continue;
		der = issuer_ca_der(g->issuers[i], &len);
		if (x509_read(der, len, &f) == 0) {
			der_name_str(f.subject.p, f.subject.n, ca, sizeof(ca));
			tls_time_str(f.not_after, na, sizeof(na));
		}
		sb_printf(o, "enroll listener=");
		sb_word(o, l->name);
		sb_printf(o, " topic=");
		sb_word(o, cfg_enroll_topic(e));
		sb_printf(o, " ca=");
		sb_word(o, ca);
		sb_printf(o, " ca_not_after=%s", na);
		days(o, "validity", e->validity_ms);
		days(o, "renew_before", e->renew_before_ms);
		days(o, "renew_grace", e->renew_grace_ms);
		sb_printf(o, " est=%s bootstrap_ca=", e->est ? "true" : "false");
		sb_word(o, e->bootstrap_ca);
		sb_printf(o, " index=");
		sb_word(o, e->index);
		sb_printf(o, "\n");
	}
	moat_view(m, &v);
	for (int k = 0; k < ENR__COUNT; k++)
		sb_printf(o, "%s: %llu mqtt=%llu est=%llu\n",
			  conn_enroll_outcome_name(k),
			  (unsigned long long)v.enroll[k],
			  (unsigned long long)(v.enroll[k] - v.enroll_est[k]),
			  (unsigned long long)v.enroll_est[k]);
	sb_printf(o, "%s: %llu\n", reject_name(REJ_ENROLL_ONLY),
		  (unsigned long long)v.rejects[REJ_ENROLL_ONLY]);
	free(v.l);
}

void enroll_metrics(struct moat *m, struct sbuf *o)
{
	struct moat_view v;

	moat_view(m, &v);
	sb_printf(o, "# HELP moat_enroll_requests_total Certificate renewal "
		     "and enrollment requests, by outcome and transport "
		     "(mqtt, est).\n"
		     "# TYPE moat_enroll_requests_total counter\n");
	for (int k = 0; k < ENR__COUNT; k++)
		for (int t = 0; t < 2; t++)
			sb_printf(
			    o,
			    "moat_enroll_requests_total{outcome=\"%s\","
			    "transport=\"%s\"} %llu\n",
			    conn_enroll_outcome_name(k), t ? "est" : "mqtt",
			    (unsigned long long)(t ? v.enroll_est[k]
						   : v.enroll[k] -
							 v.enroll_est[k]));
	free(v.l);
}
