/* stats.h - the stats socket: a Unix socket speaking one command per line,
 * each reply ending with an empty line (see the spec's table). Replies are
 * built from the counters that live next to the objects they count. */
#ifndef MOAT_STATS_H
#define MOAT_STATS_H

#include <stddef.h>

#include "base/sbuf.h"
#include "core/moat.h"


/* Run one command line at the given level, appending the reply (without
 * the final empty line) to out. Used by the socket and by tests. */
void stats_exec(struct moat *m, enum cfg_level level, const char *line,
		struct sbuf *out);

int stats_start(struct moat *m, char **errors);
void stats_stop(struct moat *m);

/* moat ctl: send one command, print the reply; returns the exit code. */
int ctl_main(int argc, char **argv);

#endif
