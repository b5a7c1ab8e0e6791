/* certs.h - certificates for the operations layer (certs.c): `show
 * certs`, `show enroll` and their /metrics. */
#ifndef MOAT_CERTS_H
#define MOAT_CERTS_H

#include "base/sbuf.h"

struct moat;

/* `show certs [expiring DAYS]`: w holds the n words after "certs".
 * -1 when they are no such command. */
int certs_show(struct moat *m, char **w, int n, struct sbuf *o);

/* moat_client_cert_expiry_seconds, a histogram over the connections open
 * now, into o. */
void certs_metrics(struct moat *m, struct sbuf *o);

/* `show enroll`: each listener's issuing CA and policy, then the
 * requests by outcome. */
void enroll_show(struct moat *m, struct sbuf *o);

/* moat_enroll_requests_total{outcome} into o. */
void enroll_metrics(struct moat *m, struct sbuf *o);

#endif
