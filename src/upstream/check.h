/* check.h - active health checks of servers: `tcp` (connect) and `mqtt`
 * (CONNECT, expect CONNACK 0, DISCONNECT), every interval, each bounded by
 * the timeout; results go to server_report(), which applies rise/fall. */
#ifndef MOAT_CHECK_H
#define MOAT_CHECK_H

#include "core/moat.h"

/* Start checks for the servers of g (a server's verdict and counters
 * carry over from an earlier generation). */
int checks_start(struct moat *m, struct gen *g);
/* Stop g's checks; handles close asynchronously and free themselves. */
void checks_stop(struct gen *g);

#endif
