/* accept.c - the first stage: accept, place, count, the max_connections
 * limit, the PROXY protocol header from a trusted balancer (the client's
 * real address), per-source limits, then on to the TLS handshake. Nothing
 * is read from the client beyond the PROXY header here.
 *
 * Placement (worker_placement: pack, the default): each worker's
 * SO_REUSEPORT socket takes what the kernel gives it, and a worker hands
 * a new connection to the first worker before it that used less than
 * half a core over the last 100 ms. A few busy connections then share one
 * thread (no wakeups of two threads per message, as nginx's first worker
 * to wake takes them), and a reconnect storm or a large fleet still fills
 * every worker: at most PACK_BURST are handed to one worker per 100 ms.
 * `spread` keeps each where the kernel put it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/persource.h"
#include "codec/proxy.h"
#include "core/worker.h"
#include "conn/internal.h"

static int conn_proxy_expected(const struct conn *c);
static void conn_begin(struct listener *li, uv_stream_t *server, int fd);

#define PACK_BUSY_PM 500 /* a worker under half a core takes more */
/* ... but no more than this many from the others in the 100 ms its busy
 * measure lags: a fleet connecting at once still spreads */
#define PACK_BURST 16

/* A connection accepted by one worker on its way to another. */
struct handoff {
	int fd;
	struct gen *gen; /* referenced: the listener's config lives in it */
	size_t li;	 /* the listener's index in that config */
};

static struct moat *pack_target(const struct moat *m)
{
	struct moat *main = m->main;

	if (!m->idx || m->gen->cfg->spread)
		return NULL;
	for (unsigned j = 0; j < m->idx; j++) {
		struct moat *w = main->workers[j];

		if (w && (j == 0 || w->running) &&
		    worker_busy(w) < PACK_BUSY_PM &&
		    __atomic_add_fetch(&w->adopted, 1, __ATOMIC_RELAXED) <=
			PACK_BURST)
			return w;
	}
	return NULL;
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

/* On the receiving worker: its listener of the same name, if it still
 * has one (a reload in between may have removed it: then the client is
 * closed, as by the listener's own close). */
static void conn_adopt(struct moat *w, void *arg)
{
	struct handoff *h = arg;
	const char *name = h->gen->cfg->listeners[h->li].name;
	struct listener *li = NULL;

	for (size_t i = 0; w && !w->stopping && i < w->n_listeners; i++)
		if (!strcmp(w->listeners[i]->cfg->name, name))
			li = w->listeners[i];
	if (li)
		conn_begin(li, NULL, h->fd);
	else
		close(h->fd);
	gen_put(h->gen);
	free(h);
}

/* Accept the connection and post it to w. -1: out of memory, nothing
 * accepted (the caller takes it itself); 0: posted, or accepted and
 * closed (no descriptor left to hand over), never to be accepted again. */
static int hand_off(struct moat *m, struct listener *li, uv_stream_t *server,
		    struct moat *w)
{
	uv_tcp_t *t = malloc(sizeof(*t));
	struct handoff *h = malloc(sizeof(*h));
	uv_os_fd_t fd;

	if (!t || !h) {
		free(t);
		free(h);
		return -1;
	}
	uv_tcp_init(m->loop, t);
	if (uv_accept(server, (uv_stream_t *)t) == 0 &&
	    uv_fileno((uv_handle_t *)t, &fd) == 0 && (h->fd = dup(fd)) >= 0) {
		h->gen = m->gen;
		__atomic_add_fetch(&h->gen->refs, 1, __ATOMIC_RELAXED);
		h->li = (size_t)(li->cfg - m->gen->cfg->listeners);
		worker_post(w, conn_adopt, h);
	} else {
		free(h);
	}
	uv_close((uv_handle_t *)t, free_handle);
	return 0;
}

void conn_on_accept(uv_stream_t *server, int status)
{
	struct listener *li = server->data;
	struct moat *to;

	if (status < 0)
		return;
	if ((to = pack_target(li->moat)) &&
	    hand_off(li->moat, li, server, to) == 0)
		return;
	conn_begin(li, server, -1);
}

/* A new connection on li's worker: from its listening socket (server),
 * or handed over by another worker (fd). */
static void conn_begin(struct listener *li, uv_stream_t *server, int fd)
{
	struct moat *m = li->moat;
	struct conn *c;
	int len = sizeof(c->peer), r;

	/* the setup's state from the scratch heap, as the handshake's: what
	 * is freed when forwarding starts leaves no holes between what an
	 * idle session keeps when a fleet connects at once */
	c = calloc(1, sizeof(*c));
	if (c && (c->su = scratch_alloc(sizeof(*c->su))))
		memset(c->su, 0, sizeof(*c->su));
	if (!c || !c->su) {
		free(c);
		if (fd >= 0)
			close(fd);
		return;
	}
	c->su->c = c;
	c->moat = m;
	c->li = li;
	li->refs++;
	c->gen = m->gen;
	__atomic_add_fetch(&m->gen->refs, 1, __ATOMIC_RELAXED);
	c->lcfg = li->cfg;
	c->up = li->up;
	/* ids are unique across workers */
	c->id = __atomic_add_fetch(&m->main->next_conn_id, 1,
				   __ATOMIC_RELAXED);
	c->start_ms = util_now_ms();
	c->t0_ns = uv_hrtime();
	uv_tcp_init(m->loop, &c->client);
	c->client.data = c;
	uv_timer_init(m->loop, &c->timer);
	c->timer.data = c;
	c->handles = 2;
	mqtt_framer_init(&c->fr[0]);
	mqtt_framer_init(&c->fr[1]);
	conn_splice_init(c);
	uv_mutex_lock(&m->wlock);
	c->next = m->conns;
	if (m->conns)
		m->conns->prev = c;
	m->conns = c;
	uv_mutex_unlock(&m->wlock);
	CTR_ADD(m->conns_current, 1);
	__atomic_add_fetch(&m->main->live, 1, __ATOMIC_RELAXED);
	CTR_ADD(m->conns_total, 1);
	CTR_ADD(li->accepted, 1);
	CTR_ADD(li->active, 1);
	r = server ? uv_accept(server, (uv_stream_t *)&c->client)
		   : uv_tcp_open(&c->client, fd);
	if (r < 0) {
		if (!server)
			close(fd);
		conn_close(c, "accept failed");
		return;
	}
	uv_tcp_getpeername(&c->client, (struct sockaddr *)&c->peer, &len);
	/* max_connections, and what the descriptors allow: accept() must
	 * not reach EMFILE (see fd_budget in main.c) */
	if (CTR_GET(m->main->live) > c->gen->cfg->limits.max_connections ||
	    CTR_GET(m->main->live) > m->main->fd_conns) {
		conn_refuse(c, REJ_MAX_CONNECTIONS);
		return;
	}
	if (m->stopping) {
		conn_close(c, "stopping");
		return;
	}
	uv_timer_start(&c->timer, conn_on_timeout,
		       c->gen->cfg->limits.handshake_timeout_ms, 0);
	c->proxy_wait = conn_proxy_expected(c);
	if (!c->proxy_wait && conn_admit(c) < 0)
		return;
	conn_read_start(c, SIDE_CLIENT);
}

/* Whether this client must start with a PROXY header: the listener asks
 * for one, and the peer is one of proxy_protocol_from (all, if empty). */
static int conn_proxy_expected(const struct conn *c)
{
	const struct cfg_listener *l = c->lcfg;

	if (!l->proxy_protocol)
		return 0;
	if (!l->n_proxy_from)
		return 1;
	for (size_t i = 0; i < l->n_proxy_from; i++)
		if (util_cidr_match(&l->proxy_from[i],
				    (const struct sockaddr *)&c->peer))
			return 1;
	return 0;
}

/* Once the client's address is known (socket, or PROXY header): the
 * per-source limits, the log line, the TLS session. -1: closed. */
int conn_admit(struct conn *c)
{
	struct moat *m = c->moat;
	const struct cfg_limits *lim = &c->gen->cfg->limits;
	char peer[64], id[24];

	if (lim->per_source_set &&
	    src_admit(m->sources, (const struct sockaddr *)&c->peer,
		      lim->per_source_max_connections,
		      lim->per_source_new_per_second, util_now_ms(),
		      &c->src) != SRC_OK) {
		conn_refuse(c, REJ_PER_SOURCE);
		return -1;
	}
	conn_peer_str(c, peer, sizeof(peer));
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	if (conn_ws_init(c) < 0) {
		conn_close(c, "out of memory");
		return -1;
	}
	log_event(LOG_INFO, "conn_open", "conn", id, "peer", peer, "listener",
		  c->li->cfg->name, "transport", c->ws ? "ws" : "tcp", NULL);
	if (c->lcfg->ws.plain) { /* ws:// behind a TLS terminator */
		conn_ws_start(c);
		return 0;
	}
	return conn_handshake_start(c);
}

/* Bytes before the TLS ClientHello: the PROXY header. Returns 1 when the
 * connection goes on (with io.rx at what follows the header), 0 when more
 * is needed, -1 when it was refused. */
int conn_proxy_read(struct conn *c, const uint8_t *p, size_t n)
{
	struct sockaddr_storage src;
	size_t used, room;
	int r;

	if (!c->su->phdr && !(c->su->phdr = scratch_alloc(PROXY_MAX_HEADER))) {
		conn_close(c, "out of memory");
		return -1;
	}
	room = PROXY_MAX_HEADER - c->su->phdr_len;
	if (n > room) { /* more than a header: keep the rest for TLS */
		memcpy(c->su->phdr + c->su->phdr_len, p, room);
		c->su->phdr_len += room;
		r = proxy_parse(c->su->phdr, c->su->phdr_len, &src, &used);
		if (r == PROXY_DONE) {
			/* what follows the header is in p, past room */
			size_t extra = c->su->phdr_len - used;

			c->io.rx = p + room - extra;
			c->io.rx_len = n - room + extra;
		}
	} else {
		if (n)
			memcpy(c->su->phdr + c->su->phdr_len, p, n);
		c->su->phdr_len += n;
		r = proxy_parse(c->su->phdr, c->su->phdr_len, &src, &used);
		if (r == PROXY_DONE) {
			c->io.rx = p + n - (c->su->phdr_len - used);
			c->io.rx_len = c->su->phdr_len - used;
		}
	}
	if (r == PROXY_AGAIN && !c->io.eof)
		return 0;
	if (r == PROXY_AGAIN && c->su->phdr_len == 0) {
		/* a port probe (a balancer's health check): not a reject */
		conn_close(c, "client closed before the PROXY header");
		return -1;
	}
	if (r != PROXY_DONE) {
		conn_refuse(c, REJ_BAD_PROXY);
		return -1;
	}
	if (src.ss_family != AF_UNSPEC) /* IPv4 or IPv6: fits */
		memcpy(&c->peer, &src, sizeof(c->peer));
	c->proxy_wait = 0;
	/* the header came within handshake_timeout; TLS gets its own */
	uv_timer_start(&c->timer, conn_on_timeout,
		       c->gen->cfg->limits.handshake_timeout_ms, 0);
	scratch_free(c->su->phdr);
	c->su->phdr = NULL;
	return conn_admit(c) < 0 ? -1 : 1;
}
