/* certs.c - the client certificates of the connected devices, seen from
 * the operations side: `show certs [expiring DAYS]` lists them with their
 * notAfter, and /metrics has them as a histogram of days to expiry, so an
 * operator can alert weeks before a fleet's certificates lapse. Read from
 * conn_each, like `show conns`: no second bookkeeping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn/conn.h"
#include "core/moat.h"
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
