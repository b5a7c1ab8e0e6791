/* histo.c - latency histograms (see histo.h). Written by one thread with
 * relaxed atomic stores, so readers on other threads (the stats socket,
 * /metrics) see whole values without a lock on the worker's path. */
#include "base/histo.h"

const double histo_bounds[HISTO_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1,   0.25,   0.5,   1,    2.5,   5};

void histo_observe(struct histo *h, double s)
{
	int i = 0;

	while (i < HISTO_BUCKETS && s > histo_bounds[i])
		i++;
	if (i < HISTO_BUCKETS)
		__atomic_store_n(&h->n[i], h->n[i] + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&h->count, h->count + 1, __ATOMIC_RELAXED);
	s += h->sum;
	__atomic_store(&h->sum, &s, __ATOMIC_RELAXED);
}

void histo_add(struct histo *d, const struct histo *s)
{
	double sum;

	for (int i = 0; i < HISTO_BUCKETS; i++)
		d->n[i] += __atomic_load_n(&s->n[i], __ATOMIC_RELAXED);
	d->count += __atomic_load_n(&s->count, __ATOMIC_RELAXED);
	__atomic_load(&s->sum, &sum, __ATOMIC_RELAXED);
	d->sum += sum;
}
