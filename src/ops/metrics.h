/* metrics.h - Prometheus text exposition on GET /metrics (stats.metrics),
 * built from the same counters as the stats socket, plus latency
 * histograms that connections feed. */
#ifndef MOAT_METRICS_H
#define MOAT_METRICS_H

#include <stdint.h>

#include "core/moat.h"

int metrics_start(struct moat *m, char **errors);
void metrics_stop(struct moat *m);

struct sbuf;
/* The whole exposition (also used by tests through the socket). */
void metrics_render(struct moat *m, struct sbuf *o);

#endif
