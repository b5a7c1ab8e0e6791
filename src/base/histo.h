/* histo.h - a latency histogram with Prometheus' default-like buckets:
 * one thread (a worker) observes, others read and add up copies. */
#ifndef MOAT_HISTO_H
#define MOAT_HISTO_H

#include <stdint.h>

#define HISTO_BUCKETS 12
struct histo {
	uint64_t n[HISTO_BUCKETS]; /* observations per bucket, not cumulative */
	uint64_t count;
	double sum;
};

/* The upper bounds of the buckets, in seconds. */
extern const double histo_bounds[HISTO_BUCKETS];

/* Record one observation in seconds (the owning thread only). */
void histo_observe(struct histo *h, double seconds);

/* d += s, reading s as another thread writes it. */
void histo_add(struct histo *d, const struct histo *s);

#endif
