/* dial.h - the one way moat connects to a host that has several
 * addresses, for everything it dials (brokers, health checks, OCSP
 * responders, JWK Set URLs): try the addresses in turn from a given one,
 * go on to the next when one refuses or does not answer in time, until
 * one answers or each was tried once, within an overall deadline if one
 * is given. The caller lends its TCP handle and its timer. */
#ifndef MOAT_DIAL_H
#define MOAT_DIAL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/util.h"

struct dial;

struct dial_ops {
	/* The caller's own timer callback, started for each attempt: while
	 * dial_busy(), it must call dial_timed_out(). */
	uv_timer_cb timer_cb;
	/* The caller's own close callback for the TCP handle: dial_stop()
	 * closes the handle with it. */
	uv_close_cb close_cb;
	/* One address failed (status UV_ETIMEDOUT when its time ran out,
	 * else the connect's error); the walk goes on. May be NULL. Must not
	 * stop the dial. */
	void (*attempt_failed)(struct dial *d, const struct sockaddr *addr,
			       int status);
	/* The walk is over: status 0 with the handle connected to
	 * addrs[d->at] (the attempt's timer still running: stop or restart
	 * it), else the last attempt's error (UV_ETIMEDOUT: no time left)
	 * with the handle closed; then the dial may start again. Never
	 * called from dial_start(). */
	void (*done)(struct dial *d, int status);
	/* May be NULL. When given, each attempt starts the handle's reads
	 * with its connect: the kernel's epoll then hears of the socket
	 * once, for both. Started after the connect, the reads would make
	 * libuv add the socket a second time (EEXIST), then modify it: a
	 * wasted system call per connection. libuv reads nothing before
	 * the connect has completed, and done() runs first; d->reading
	 * says whether the reads are on. */
	uv_alloc_cb alloc_cb;
	uv_read_cb read_cb;
};

/* Set with dial_init(); the rest is the walk's. */
struct dial {
	const struct dial_ops *ops;
	uv_tcp_t *tcp;	   /* the caller's; initialised by each attempt */
	uv_timer_t *timer; /* the caller's, initialised: its loop is used */
	void *data;	   /* the caller's, and the handle's data */
	const union util_addr *addrs; /* must outlive the walk */
	uint64_t deadline;	      /* uv_now() of the end, 0: none */
	uint32_t attempt_ms;
	int err;
	uint8_t n, first, tried, at, state;
	uint8_t reading; /* with ops->read_cb: the handle's reads are on */
};

void dial_init(struct dial *d, const struct dial_ops *ops, uv_tcp_t *tcp,
	       uv_timer_t *timer, void *data);

/* Start a walk over addrs[0..n) (1..255 of them) from addrs[first]: each
 * attempt gets attempt_ms (0: no bound of its own) and, with total_ms
 * (0: none), at most an equal share of what is left of total_ms among
 * the addresses still to try, so that an address that never answers does
 * not use up the time of those after it. The handle counts as the
 * caller's open handle until done() reports a failure or dial_stop()'s
 * close_cb has run. */
void dial_start(struct dial *d, const union util_addr *addrs, size_t n,
		size_t first, uint32_t attempt_ms, uint64_t total_ms);

/* A walk is going on (an attempt, or the close after a failed one). */
int dial_busy(const struct dial *d);

/* The caller's timer fired while dial_busy(): this attempt's time is up. */
void dial_timed_out(struct dial *d);

/* Abandon the walk: no callback but ops->close_cb, called once for the
 * handle when it has closed. Nothing when no walk is going on. */
void dial_stop(struct dial *d);

/* What is left of total_ms (0 when it has run out, or was not given). */
uint64_t dial_left_ms(const struct dial *d);

#endif
