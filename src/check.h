/* check.h - active health checks of servers: `tcp` (connect) and `mqtt`
 * (CONNECT, expect CONNACK 0, DISCONNECT), every interval, each bounded by
 * the timeout; results go to server_report(), which applies rise/fall. */
#ifndef MOAT_CHECK_H
#define MOAT_CHECK_H

#include "moat.h"

int checks_start(struct moat *m);
/* Stop every check; handles close asynchronously and free themselves. */
void checks_stop(struct moat *m);

#endif
