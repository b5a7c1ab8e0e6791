/* test_dial.c - the one way moat connects (src/base/dial.c), live on
 * loopback: a refused address is skipped for the next, the walk starts
 * where it is told and wraps round, an address that never answers (a
 * listener whose accept queue is full drops the SYN) gives way after its
 * own time or its share of the total, every address failing ends with the
 * last error, and a stopped walk calls nothing but the close callback. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "base/dial.h"
#include "test.h"

struct run {
	uv_loop_t loop;
	uv_tcp_t tcp;
	uv_timer_t timer, guard;
	struct dial d;
	int fails, timeouts, done, status, closed, stop_on_timeout;
	int failed_at[8];
};

static void on_timer(uv_timer_t *t)
{
	struct run *r = t->data;

	if (!dial_busy(&r->d))
		return;
	dial_timed_out(&r->d);
	if (r->stop_on_timeout)
		dial_stop(&r->d); /* while the timed-out handle closes */
}

static void on_closed(uv_handle_t *h)
{
	struct run *r = h->data;

	r->closed++;
	uv_stop(&r->loop);
}

static void on_failed(struct dial *d, const struct sockaddr *sa, int status)
{
	struct run *r = d->data;

	(void)sa;
	if (r->fails < 8)
		r->failed_at[r->fails] = d->at;
	r->fails++;
	if (status == UV_ETIMEDOUT)
		r->timeouts++;
}

static void on_done(struct dial *d, int status)
{
	struct run *r = d->data;

	r->done++;
	r->status = status;
	if (status == 0)
		uv_close((uv_handle_t *)&r->tcp, on_closed);
	else
		uv_stop(&r->loop);
}

static const struct dial_ops ops = {
    .timer_cb = on_timer,
    .close_cb = on_closed,
    .attempt_failed = on_failed,
    .done = on_done,
};

static void on_guard(uv_timer_t *t)
{
	uv_stop(t->loop); /* a walk that never ends fails the checks */
}

static void close_all(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Walk addrs from first; the loop runs until the walk ends (or 5 s). */
static void walk(struct run *r, const union util_addr *addrs, size_t n,
		 size_t first, uint32_t attempt_ms, uint64_t total_ms,
		 int stop) /* 1: at once, 2: at the first timeout */
{
	memset(r, 0, sizeof(*r));
	r->stop_on_timeout = stop == 2;
	uv_loop_init(&r->loop);
	uv_timer_init(&r->loop, &r->timer);
	uv_timer_init(&r->loop, &r->guard);
	r->timer.data = r;
	r->tcp.data = r;
	dial_init(&r->d, &ops, &r->tcp, &r->timer, r);
	dial_start(&r->d, addrs, n, first, attempt_ms, total_ms);
	if (stop == 1)
		dial_stop(&r->d);
	uv_timer_start(&r->guard, on_guard, 5000, 0);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	uv_walk(&r->loop, close_all, NULL);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	uv_loop_close(&r->loop);
}

/* A socket on 127.0.0.1: listening (answers), bound only (refuses), or
 * listening with its accept queue full (never answers a connect). */
enum kind { GOOD, REFUSED, SILENT };

static int fds[16], n_fds;

static void addr_of(enum kind k, union util_addr *a)
{
	socklen_t len = sizeof(a->in);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(a, 0, sizeof(*a));
	a->in.sin_family = AF_INET;
	a->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, &a->sa, sizeof(a->in)) < 0 ||
	    getsockname(fd, &a->sa, &len) < 0 ||
	    (k != REFUSED && listen(fd, k == GOOD ? 64 : 0) < 0)) {
		perror("socket");
		exit(1);
	}
	fds[n_fds++] = fd;
	if (k == SILENT) { /* fill the queue of one */
		int c = socket(AF_INET, SOCK_STREAM, 0);

		if (c < 0 || connect(c, &a->sa, sizeof(a->in)) < 0) {
			perror("connect");
			exit(1);
		}
		fds[n_fds++] = c;
	}
}

int main(void)
{
	union util_addr good, refused, silent, silent2, l[3];
	struct run r;

	addr_of(GOOD, &good);
	addr_of(REFUSED, &refused);
	addr_of(SILENT, &silent);
	addr_of(SILENT, &silent2);

	/* refused, then the next one answers */
	l[0] = refused;
	l[1] = good;
	walk(&r, l, 2, 0, 3000, 0, 0);
	CHECK(r.done == 1 && r.status == 0, "done %d status %d", r.done,
	      r.status);
	CHECK(r.fails == 1 && r.failed_at[0] == 0 && r.d.at == 1,
	      "fails %d at %d", r.fails, r.d.at);
	CHECK(r.closed == 1, "closed %d", r.closed);

	/* from the given address, round the list */
	l[0] = good;
	l[1] = refused;
	walk(&r, l, 2, 1, 3000, 0, 0);
	CHECK(r.status == 0 && r.fails == 1 && r.failed_at[0] == 1 &&
		  r.d.at == 0,
	      "status %d fails %d at %d", r.status, r.fails, r.d.at);

	/* an address that never answers gives way after its own time */
	l[0] = silent;
	l[1] = good;
	walk(&r, l, 2, 0, 200, 0, 0);
	CHECK(r.done == 1 && r.status == 0 && r.d.at == 1, "status %d at %d",
	      r.status, r.d.at);
	CHECK(r.fails == 1 && r.timeouts == 1, "fails %d timeouts %d", r.fails,
	      r.timeouts);

	/* only a total: each address gets a share of what is left, so two
	 * silent ones do not use up the time of the third */
	l[0] = silent;
	l[1] = silent2;
	l[2] = good;
	walk(&r, l, 3, 0, 0, 1500, 0);
	CHECK(r.done == 1 && r.status == 0 && r.d.at == 2 && r.timeouts == 2,
	      "status %d at %d timeouts %d", r.status, r.d.at, r.timeouts);

	/* the total runs out: a timeout, whatever came before */
	l[0] = refused;
	l[1] = silent;
	walk(&r, l, 2, 0, 0, 300, 0);
	CHECK(r.done == 1 && r.status == UV_ETIMEDOUT && r.fails == 2,
	      "done %d status %d fails %d", r.done, r.status, r.fails);
	CHECK(r.closed == 0, "closed %d", r.closed);

	/* every address refuses: the last error, each address tried once */
	l[0] = refused;
	l[1] = refused;
	walk(&r, l, 2, 0, 3000, 0, 0);
	CHECK(r.done == 1 && r.status == UV_ECONNREFUSED && r.fails == 2,
	      "done %d status %d fails %d", r.done, r.status, r.fails);

	/* stopped while connecting, and while a failed attempt closes:
	 * the close callback once, nothing else, no further attempt */
	l[0] = silent;
	l[1] = good;
	walk(&r, l, 2, 0, 3000, 0, 1);
	CHECK(r.closed == 1 && r.done == 0 && r.fails == 0,
	      "closed %d done %d fails %d", r.closed, r.done, r.fails);
	walk(&r, l, 2, 0, 200, 0, 2);
	CHECK(r.closed == 1 && r.done == 0 && r.timeouts == 1 && r.fails == 1,
	      "closed %d done %d timeouts %d", r.closed, r.done, r.timeouts);
	for (int i = 0; i < n_fds; i++)
		close(fds[i]);
	return test_done("dial");
}
