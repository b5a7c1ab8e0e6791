/* walk.c - one direction of a session packet by packet, for what judges
 * packets (the topic rules, enrollment, the client's framing): each
 * packet's start (its fixed header, a PUBLISH's topic and packet id, or
 * the whole of the few packets judged whole) is seen once, in place when a
 * read holds it, else gathered in a small per-connection buffer (WALK_HOLD,
 * allocated at the first split); the rest of a packet is passed on,
 * dropped or handed to its taker as it comes, never buffered here. Packets
 * passed on leave in runs, one write per read, not one per packet. */
#include <stdlib.h>
#include <string.h>

#include "conn/internal.h"

#define FLUSH()                                                                \
	do {                                                                   \
		if (runlen && sink(c, run, runlen) < 0)                        \
			return -1;                                             \
		runlen = 0;                                                    \
	} while (0)

/* The packet's bytes p[0..n) to where its judgement sends them: the run
 * (PASS), its taker (TAKE) or nowhere. 0 or -1 (closing). */
#define ROUTE(mode, p, n)                                                      \
	do {                                                                   \
		if ((mode) == WALK_PASS) {                                     \
			if (!runlen)                                           \
				run = (p);                                     \
			runlen += (n);                                         \
		} else {                                                       \
			FLUSH();                                               \
			if ((mode) == WALK_TAKE && ops->take(c, (p), (n)) < 0) \
				return -1;                                     \
		}                                                              \
		if ((mode) != WALK_TAKE)                                       \
			given += (n);                                          \
	} while (0)

int walk_feed(struct conn *c, struct walk *w, const uint8_t *p, size_t n,
	      const struct walk_ops *ops, size_t *givenp)
{
	const uint8_t *run = p;
	size_t runlen = 0, given = 0;
	walk_sink sink = ops->sink;
	uint8_t rep[WALK_HOLD + 16];

	if (givenp)
		*givenp = 0;
	/* until the read is used up and no gathered start is complete */
	while (n || (w->hlen && w->hlen == w->want)) {
		const uint8_t *v;
		size_t vlen, seen, replen = 0;
		struct mqtt_peek pk;
		int r;

		if (w->left) { /* the rest of a packet already judged */
			size_t take = n < w->left ? n : w->left;

			ROUTE(w->mode, p, take);
			p += take;
			n -= take;
			w->left -= (uint32_t)take;
			if (!w->left && w->mode == WALK_TAKE &&
			    ops->taken(c) < 0)
				return -1;
			continue;
		}
		v = w->hlen ? w->hold : p;
		vlen = w->hlen ? w->hlen : n;
		r = mqtt_peek(v, vlen, ops->whole(c), WALK_HOLD,
			      ops->topic ? ops->topic(c) : SIZE_MAX, &pk);
		if (r == MQTT_AGAIN) { /* the start is split: gather it */
			size_t take = pk.need - w->hlen;

			FLUSH();
			if (!w->hold && !(w->hold = malloc(WALK_HOLD))) {
				conn_close(c, "out of memory");
				return -1;
			}
			if (take > n)
				take = n;
			memcpy(w->hold + w->hlen, p, take);
			w->hlen += (uint32_t)take;
			w->want = (uint32_t)pk.need;
			p += take;
			n -= take;
			continue;
		}
		if (r == 0)
			r = ops->judge(c, v, &pk, rep, sizeof(rep), &replen);
		if (r == WALK_STOP)
			return -1;
		if (r < 0) { /* what came before it goes on, then the end */
			FLUSH();
			ops->bad(c, r);
			return -1;
		}
		seen = w->hlen ? w->hlen : (n < pk.total ? n : pk.total);
		if (r == WALK_REPLACE) {
			FLUSH();
			if (sink(c, rep, replen) < 0)
				return -1;
		}
		if (r == WALK_PASS && w->hlen) { /* the gathered start */
			FLUSH();
			if (sink(c, w->hold, w->hlen) < 0)
				return -1;
			given += seen;
		} else {
			ROUTE(r, v, seen);
		}
		w->mode = (uint8_t)r;
		w->left = (uint32_t)(pk.total - seen);
		if (!w->hlen) {
			p += seen;
			n -= seen;
		}
		w->hlen = 0;
		if (!w->left && r == WALK_TAKE && ops->taken(c) < 0)
			return -1;
	}
	FLUSH();
	if (givenp)
		*givenp = given;
	return 0;
}

bool walk_at_boundary(const struct walk *w)
{
	return !w->left && !w->hlen;
}

void walk_free(struct walk *w)
{
	free(w->hold);
	w->hold = NULL;
}
