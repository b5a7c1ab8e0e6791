/* show.h - the `show` commands (show.c), for stats.c's dispatcher. */
#ifndef MOAT_SHOW_H
#define MOAT_SHOW_H

#include "base/sbuf.h"
#include "core/moat.h"

/* w[0] is "show", n words in all: append the reply to o; -1 when it is
 * no show command moat knows. */
int stats_show(struct moat *m, char **w, int n, struct sbuf *o);

#endif
