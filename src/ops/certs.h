/* certs.h - connected devices' certificates for the operations layer
 * (certs.c): `show certs` and the /metrics expiry histogram. */
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

#endif
