/* moat-bench - an MQTT-over-mutual-TLS load generator on libuv and wolfSSL.
 *
 *   moat-bench connect -H ADDR:PORT [tls opts] [-c CONC] [-n COUNT] [-r]
 *       full (or, with -r, resumed: session ticket) mTLS handshakes, each
 *       with CONNECT/CONNACK and DISCONNECT; prints connections/s and
 *       latency percentiles. With -H given up to 4 times, connection k
 *       goes to the (k mod N)th address (reconnects alternating between
 *       instances; with -r the ticket comes from the first).
 *   moat-bench idle -H ADDR:PORT [tls opts] -n COUNT [-c CONC] [-t SECONDS]
 *                   [-b BASE]
 *       opens COUNT connections (source addresses 127.0.0.BASE.. when more
 *       than 20,000), all at once or, with -c, CONC at a time (the next
 *       starts when one has its CONNACK), CONNECTs them, prints "ready N",
 *       holds them.
 *   moat-bench pubsub -H ADDR:PORT [tls opts] [-p PAIRS] [-s SIZE]
 *                     [-q QOS] [-t SECONDS] [-R RATE] [-B BATCH]
 *       PAIRS publishers and subscribers (topic bench/i); publishers send
 *       as fast as TCP takes it, or RATE messages a second each, one
 *       PUBLISH per write (a TLS record) or, with -B, up to BATCH of them
 *       (at most 16 KiB); prints "ready PAIRS" once every subscriber
 *       has its SUBACK (messages and seconds count from then), then
 *       messages/s, MB/s and end-to-end latency percentiles (a send
 *       timestamp in each payload).
 * tls opts: --ca FILE --cert FILE --key FILE [--tls12] [--plain]
 *           [--token-file FILE] [--nagle] [--ws PATH] [--group G]
 * (--plain: MQTT without TLS, for brokers measured directly;
 * --ws PATH: MQTT over WebSocket (RFC 6455): an upgrade to PATH with the
 * subprotocol mqtt after TLS (or TCP with --plain), then each write one
 * masked binary frame; the server's frames unwrapped;
 * --token-file: every CONNECT carries the access token read from FILE as
 * its password, username "bench"; with it --cert and --key may be left
 * out, the TLS handshake then has no client certificate;
 * --nagle: leave Nagle's algorithm on, as libmosquitto and paho do, instead
 * of setting TCP_NODELAY, and write each handshake flight in one write, as
 * their OpenSSL does: what users' clients see of a server that delays its
 * ACKs;
 * --group: the key share of the handshake's ECDHE, x25519 (the default:
 * the first group of OpenSSL's clients, libmosquitto's and paho's) or
 * p256 (wolfSSL's own default, and many embedded stacks').
 * Every loop is bounded by COUNT or by -t seconds. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

enum mode { M_CONNECT, M_IDLE, M_PUBSUB };

struct opts {
	enum mode mode;
	struct sockaddr_storage addr[4]; /* connect: taken in turn */
	int n_addr;
	const char *ca, *cert, *key;
	char *token; /* --token-file: the CONNECT password */
	size_t token_len;
	int tls12, plain, resume, qos, nagle, p256;
	long conc, count, pairs, size, seconds, base;
	long rate; /* pubsub: messages per second per publisher, 0 = flat out */
	long batch; /* pubsub: PUBLISH packets per write (TLS record) */
	const char *ws; /* --ws PATH: MQTT over WebSocket */
};

static struct opts o = {.conc = 50, .count = 2000, .pairs = 4, .size = 64,
			.seconds = 10, .base = 1, .batch = 1};
static uv_loop_t *loop;
static WOLFSSL_CTX *ctx;
static WOLFSSL_SESSION *saved; /* for resumption */

/* ---- results ---- */
static double *lat;
static size_t nlat, caplat;
static long done_ok, done_fail, started;
static long reused; /* connect: handshakes that resumed a session */
static uint64_t t_begin;

static void lat_add(double s)
{
	if (nlat == caplat) {
		caplat = caplat ? caplat * 2 : 4096;
		lat = realloc(lat, caplat * sizeof(*lat));
		if (!lat)
			exit(2);
	}
	lat[nlat++] = s;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	if (!nlat)
		return 0;
	return lat[(size_t)(p * (double)(nlat - 1))];
}

/* ---- one client connection ---- */
struct cl {
	uv_tcp_t tcp;
	uv_connect_t creq;
	WOLFSSL *ssl;
	uint8_t *rx;     /* ciphertext not yet taken by wolfSSL */
	size_t rx_len, rx_off;
	uint8_t in[65536 + 64]; /* plaintext MQTT being framed */
	size_t in_len;
	uint64_t t0;
	int state; /* 0 tcp, 1 tls, 2 connack, 3 up, 4 WebSocket upgrade */
	char http[1024]; /* --ws: the answer to the upgrade, until whole */
	size_t http_len;
	uint8_t whdr[10]; /* --ws: a server frame's header, until whole */
	size_t whlen;
	uint64_t wleft; /* payload left in the current server frame */
	int wdata;      /* that frame is binary (MQTT), not control */
	int role;  /* 0 plain client, 1 publisher, 2 subscriber */
	long idx;
	long sent; /* publisher: messages so far */
	int closing;
};

static void cl_next(void);
static void cl_close(struct cl *c, int ok);
static struct cl *cl_start(int role, long idx);
/* idle: -c given: at most that many connections opening at a time */
static long idle_conc, idle_started;

static void idle_next(void)
{
	if (idle_started < o.count)
		cl_start(0, idle_started++);
}

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	struct cl *c = arg;
	size_t n = c->rx_len - c->rx_off;

	(void)ssl;
	if (!n)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	if (n > (size_t)sz)
		n = (size_t)sz;
	memcpy(buf, c->rx + c->rx_off, n);
	c->rx_off += n;
	return (int)n;
}

static void on_written(uv_write_t *w, int status)
{
	(void)status;
	free(w);
}

static int raw_send(struct cl *c, const void *p, size_t n)
{
	uv_write_t *w = malloc(sizeof(*w) + n);
	uv_buf_t b;

	if (!w)
		return -1;
	memcpy(w + 1, p, n);
	b = uv_buf_init((char *)(w + 1), (unsigned)n);
	if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
		free(w);
		return -1;
	}
	return 0;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	(void)ssl;
	return raw_send(arg, buf, (size_t)sz) < 0 ? WOLFSSL_CBIO_ERR_CONN_CLOSE
						   : sz;
}

static int transport_send(struct cl *c, const void *p, size_t n)
{
	if (o.plain)
		return raw_send(c, p, n);
	return wolfSSL_write(c->ssl, p, (int)n) == (int)n ? 0 : -1;
}

/* MQTT bytes out: as they are, or (--ws) in one masked binary frame. */
static int mqtt_send(struct cl *c, const void *p, size_t n)
{
	static uint8_t f[65536 + 16];
	static const uint8_t mask[4] = {0x5a, 0xc3, 0x17, 0x9e};
	size_t h = 2;

	if (!o.ws)
		return transport_send(c, p, n);
	if (n > 65536)
		return -1;
	f[0] = 0x82;
	if (n < 126) {
		f[1] = (uint8_t)(0x80 | n);
	} else {
		f[1] = 0x80 | 126;
		f[2] = (uint8_t)(n >> 8);
		f[3] = (uint8_t)n;
		h = 4;
		if (n > 0xffff) {
			f[1] = 0x80 | 127;
			memset(f + 2, 0, 8);
			f[7] = (uint8_t)(n >> 16);
			f[8] = (uint8_t)(n >> 8);
			f[9] = (uint8_t)n;
			h = 10;
		}
	}
	memcpy(f + h, mask, 4);
	for (size_t i = 0; i < n; i++)
		f[h + 4 + i] = ((const uint8_t *)p)[i] ^ mask[i & 3];
	return transport_send(c, f, h + 4 + n);
}

static size_t put_str(uint8_t *b, const char *s)
{
	size_t n = strlen(s);

	b[0] = (uint8_t)(n >> 8);
	b[1] = (uint8_t)n;
	memcpy(b + 2, s, n);
	return n + 2;
}

static size_t put_len(uint8_t *b, size_t n)
{
	size_t i = 0;

	do {
		uint8_t d = n % 128;

		n /= 128;
		b[i++] = d | (n ? 0x80 : 0);
	} while (n);
	return i;
}

#define TOKEN_MAX 8192

static void send_connect(struct cl *c)
{
	static uint8_t body[TOKEN_MAX + 128], pkt[TOKEN_MAX + 160];
	char id[48];
	size_t bl = 0, hl;

	/* unique ids: a broker closes the older of two sessions with one id */
	snprintf(id, sizeof(id), "bench-%ld-%ld", (long)getpid(), c->idx);
	if (c->role)
		snprintf(id, sizeof(id), "bench-%s-%ld",
			 c->role == 1 ? "pub" : "sub", c->idx);
	bl += put_str(body + bl, "MQTT");
	body[bl++] = 4;
	body[bl++] = o.token ? 0xc2 : 0x02; /* username, password, clean */
	body[bl++] = 0;
	body[bl++] = 60;
	bl += put_str(body + bl, id);
	if (o.token) {
		bl += put_str(body + bl, "bench");
		body[bl++] = (uint8_t)(o.token_len >> 8);
		body[bl++] = (uint8_t)o.token_len;
		memcpy(body + bl, o.token, o.token_len);
		bl += o.token_len;
	}
	pkt[0] = 0x10;
	hl = 1 + put_len(pkt + 1, bl);
	memcpy(pkt + hl, body, bl);
	mqtt_send(c, pkt, hl + bl);
}

static uint64_t now_ns(void)
{
	return uv_hrtime();
}

/* pubsub */
static long msgs_rx, msgs_tx;
static uint64_t bytes_rx;
static int pubsub_running;
static struct cl **pubs;
static long subs_ready;

static int publish_some(struct cl *c);

static void on_packet(struct cl *c, const uint8_t *p, size_t n)
{
	uint8_t type = p[0] >> 4;

	if (type == 2 && c->state == 2) { /* CONNACK */
		if (n < 4 || p[3] != 0) {
			cl_close(c, 0);
			return;
		}
		c->state = 3;
		/* TLS 1.3 tickets come after the handshake: by the CONNACK
		 * the session has one */
		if (o.resume && !saved && !o.plain)
			saved = wolfSSL_get1_session(c->ssl);
		if (o.mode == M_CONNECT) {
			static const uint8_t disc[2] = {0xe0, 0};

			if (!o.plain && wolfSSL_session_reused(c->ssl))
				reused++;

			mqtt_send(c, disc, 2);
			lat_add((double)(now_ns() - c->t0) / 1e9);
			cl_close(c, 1);
		} else if (o.mode == M_IDLE) {
			done_ok++;
			idle_next();
			if (done_ok == o.count) {
				printf("ready %ld\n", done_ok);
				fflush(stdout);
			}
		} else if (c->role == 2) { /* subscribe */
			uint8_t s[64];
			char t[32];
			size_t l = 0, tl;

			snprintf(t, sizeof(t), "bench/%ld", c->idx);
			s[l++] = 0x82;
			tl = strlen(t);
			s[l++] = (uint8_t)(2 + 2 + tl + 1);
			s[l++] = 0;
			s[l++] = 1;
			l += put_str(s + l, t);
			s[l++] = (uint8_t)o.qos;
			mqtt_send(c, s, l);
		}
		return;
	}
	if (type == 9) { /* SUBACK */
		subs_ready++;
		if (subs_ready == o.pairs) {
			/* messages and seconds count from here; a script
			 * measuring the proxy starts its counters on this line */
			printf("ready %ld\n", o.pairs);
			fflush(stdout);
			pubsub_running = 1;
			t_begin = now_ns();
			for (long i = 0; i < o.pairs; i++)
				publish_some(pubs[i]);
		}
		return;
	}
	if (type == 3) { /* PUBLISH to a subscriber */
		size_t i = 1, rl = 0, mul = 1, tl;
		uint64_t sent;

		while (p[i] & 0x80) {
			rl += (p[i] & 0x7f) * mul;
			mul *= 128;
			i++;
		}
		rl += (p[i] & 0x7f) * mul;
		i++;
		tl = (size_t)p[i] << 8 | p[i + 1];
		i += 2 + tl;
		if (((p[0] >> 1) & 3) > 0) { /* QoS 1: PUBACK */
			uint8_t ack[4] = {0x40, 2, p[i], p[i + 1]};

			i += 2;
			mqtt_send(c, ack, 4);
		}
		if (pubsub_running && i + 8 <= n) {
			memcpy(&sent, p + i, 8);
			lat_add((double)(now_ns() - sent) / 1e9);
			msgs_rx++;
			bytes_rx += n - i;
		}
		return;
	}
	if (type == 4 && c->role == 1) { /* PUBACK to a publisher */
		return;
	}
}

static void feed(struct cl *c, const uint8_t *p, size_t n);

/* After TLS (or TCP): the CONNECT, or first the WebSocket upgrade. */
static void session_start(struct cl *c)
{
	char req[512];
	int n;

	if (!o.ws) {
		c->state = 2;
		send_connect(c);
		return;
	}
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		     "Sec-WebSocket-Version: 13\r\n"
		     "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
		     o.ws);
	c->state = 4;
	if (transport_send(c, req, (size_t)n) < 0)
		cl_close(c, 0);
}

/* --ws: the server's frames; binary payloads are MQTT for feed(). */
static void ws_unframe(struct cl *c, const uint8_t *p, size_t n)
{
	while (n && !c->closing) {
		if (!c->wleft) {
			size_t need = 2;

			c->whdr[c->whlen++] = *p++;
			n--;
			if (c->whlen < 2)
				continue;
			if ((c->whdr[1] & 0x7f) == 126)
				need = 4;
			else if ((c->whdr[1] & 0x7f) == 127)
				need = 10;
			if (c->whlen < need)
				continue;
			c->wleft = c->whdr[1] & 0x7f;
			if (need > 2) {
				c->wleft = 0;
				for (size_t i = 2; i < need; i++)
					c->wleft = c->wleft << 8 | c->whdr[i];
			}
			c->wdata = (c->whdr[0] & 0x0f) <= 2;
			if ((c->whdr[0] & 0x0f) == 8) { /* close */
				cl_close(c, 0);
				return;
			}
			c->whlen = 0;
			continue;
		}
		{
			size_t take = n < c->wleft ? n : (size_t)c->wleft;

			if (c->wdata)
				feed(c, p, take);
			p += take;
			n -= take;
			c->wleft -= take;
		}
	}
}

/* Plaintext from the server: MQTT, or the upgrade's answer then frames. */
static void feed_in(struct cl *c, const uint8_t *p, size_t n)
{
	const char *end;
	size_t take;

	if (!o.ws) {
		feed(c, p, n);
		return;
	}
	if (c->state != 4) {
		ws_unframe(c, p, n);
		return;
	}
	take = sizeof(c->http) - 1 - c->http_len;
	if (take > n)
		take = n;
	memcpy(c->http + c->http_len, p, take);
	c->http_len += take;
	c->http[c->http_len] = 0;
	end = strstr(c->http, "\r\n\r\n");
	if (!end) {
		if (c->http_len == sizeof(c->http) - 1)
			cl_close(c, 0);
		return;
	}
	if (strncmp(c->http, "HTTP/1.1 101 ", 13) != 0) {
		cl_close(c, 0);
		return;
	}
	take = (size_t)(end + 4 - c->http) - (c->http_len - take);
	c->state = 2;
	send_connect(c);
	ws_unframe(c, p + take, n - take);
}

/* Frame plaintext MQTT packets out of c->in. */
static void feed(struct cl *c, const uint8_t *p, size_t n)
{
	while (n) {
		size_t take = sizeof(c->in) - c->in_len;

		if (take > n)
			take = n;
		memcpy(c->in + c->in_len, p, take);
		c->in_len += take;
		p += take;
		n -= take;
		for (;;) {
			size_t i = 1, rl = 0, mul = 1;

			if (c->in_len < 2)
				break;
			while (i < c->in_len && (c->in[i] & 0x80) && i < 5) {
				rl += (c->in[i] & 0x7f) * mul;
				mul *= 128;
				i++;
			}
			if (i >= c->in_len)
				break;
			rl += (c->in[i] & 0x7f) * mul;
			i++;
			if (i + rl > sizeof(c->in)) {
				cl_close(c, 0);
				return;
			}
			if (c->in_len < i + rl)
				break;
			on_packet(c, c->in, i + rl);
			if (c->closing)
				return;
			memmove(c->in, c->in + i + rl, c->in_len - i - rl);
			c->in_len -= i + rl;
		}
	}
}

static void on_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
	static char buf[65536];

	(void)h;
	(void)s;
	b->base = buf;
	b->len = sizeof(buf);
}

static void pump_tls(struct cl *c)
{
	uint8_t buf[16384];

	if (c->state == 1) {
		int r = wolfSSL_connect(c->ssl);

		if (r != WOLFSSL_SUCCESS) {
			int e = wolfSSL_get_error(c->ssl, r);

			if (e != WOLFSSL_ERROR_WANT_READ &&
			    e != WOLFSSL_ERROR_WANT_WRITE)
				cl_close(c, 0);
			return;
		}
		session_start(c);
	}
	for (;;) {
		int r = wolfSSL_read(c->ssl, buf, sizeof(buf));

		if (r <= 0)
			break;
		feed_in(c, buf, (size_t)r);
		if (c->closing)
			return;
	}
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct cl *c = s->data;

	if (n == 0)
		return;
	if (n < 0) {
		cl_close(c, 0); /* the peer closed: a failure in every mode */
		return;
	}
	if (o.plain) {
		feed_in(c, (const uint8_t *)b->base, (size_t)n);
		return;
	}
	c->rx = (uint8_t *)b->base;
	c->rx_len = (size_t)n;
	c->rx_off = 0;
	pump_tls(c);
	if (!c->closing && c->rx_off < c->rx_len)
		cl_close(c, 0); /* wolfSSL left bytes: not expected here */
}

static void on_connect(uv_connect_t *r, int status)
{
	struct cl *c = r->data;

	if (status < 0) {
		cl_close(c, 0);
		return;
	}
	if (!o.nagle)
		uv_tcp_nodelay(&c->tcp, 1);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (o.plain) {
		session_start(c);
		return;
	}
	c->ssl = wolfSSL_new(ctx);
	wolfSSL_SetIOReadCtx(c->ssl, c);
	wolfSSL_SetIOWriteCtx(c->ssl, c);
	if (o.resume && saved)
		wolfSSL_set_session(c->ssl, saved);
	c->state = 1;
	pump_tls(c);
}

static void on_closed(uv_handle_t *h)
{
	struct cl *c = h->data;

	if (c->ssl)
		wolfSSL_free(c->ssl);
	free(c);
}

static void cl_close(struct cl *c, int ok)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (ok)
		done_ok++;
	else
		done_fail++;
	uv_close((uv_handle_t *)&c->tcp, on_closed);
	if (o.mode == M_CONNECT)
		cl_next();
	else if (o.mode == M_IDLE && !ok)
		idle_next();
}

static struct cl *cl_start(int role, long idx)
{
	struct cl *c = calloc(1, sizeof(*c));

	if (!c)
		exit(2);
	c->role = role;
	c->idx = idx;
	c->t0 = now_ns();
	uv_tcp_init(loop, &c->tcp);
	c->tcp.data = c;
	c->creq.data = c;
	if (o.mode == M_IDLE && o.count > 20000) {
		/* spread over 127.0.0.B.. to stay under 28k ports each */
		struct sockaddr_in src = {.sin_family = AF_INET};
		char ip[32];

		snprintf(ip, sizeof(ip), "127.0.0.%ld", o.base + idx / 20000);
		uv_inet_pton(AF_INET, ip, &src.sin_addr);
		uv_tcp_bind(&c->tcp, (struct sockaddr *)&src, 0);
	}
	if (uv_tcp_connect(&c->creq, &c->tcp,
			   (struct sockaddr *)&o.addr[o.mode == M_CONNECT
							      ? (idx - 1) % o.n_addr
							      : 0],
			   on_connect) < 0)
		cl_close(c, 0);
	return c;
}

static void cl_next(void)
{
	if (started < o.count) {
		started++;
		cl_start(0, started);
	}
}

/* ---- pubsub publishers ---- */
static uint16_t next_pid = 1;
static uv_idle_t pub_idle; /* publishers with more to send right away */

static void on_pub_idle(uv_idle_t *h)
{
	int more = 0;

	for (long i = 0; pubsub_running && i < o.pairs; i++)
		more |= publish_some(pubs[i]);
	if (!more)
		uv_idle_stop(h);
}

/* Keep about 64 KiB queued per publisher (on_tick refills every ms), but
 * write at most 64 KiB a call: a proxy that takes all we write would
 * otherwise keep this loop writing and the subscribers on the same loop
 * unread. What is left goes on from pub_idle, after a poll for input.
 * Returns 1 when stopped by that budget. */
static int publish_some(struct cl *c)
{
	static uint8_t pkt[65536 + 64 + 16384];
	char t[32];
	size_t hl, tl, l, budget = 65536;

	if (!pubsub_running || c->closing)
		return 0;
	snprintf(t, sizeof(t), "bench/%ld", c->idx);
	tl = strlen(t);
	while (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) <
	       65536) {
		size_t body = 2 + tl + (o.qos ? 2 : 0) + (size_t)o.size;
		long k;

		l = 0;
		for (k = 0; k < o.batch; k++) {
			uint64_t ts = now_ns();

			if (o.rate && c->sent + k >=
					      (long)((double)o.rate *
						     (double)(ts - t_begin) /
						     1e9) + 1)
				break; /* on schedule */
			if (k && l + body + 5 > 16384)
				break; /* one TLS record */
			pkt[l] = (uint8_t)(0x30 | (o.qos << 1));
			hl = 1 + put_len(pkt + l + 1, body);
			l += hl;
			l += put_str(pkt + l, t);
			if (o.qos) {
				pkt[l++] = (uint8_t)(next_pid >> 8);
				pkt[l++] = (uint8_t)next_pid;
				if (!++next_pid)
					next_pid = 1;
			}
			memset(pkt + l, 'x', (size_t)o.size);
			memcpy(pkt + l, &ts, 8);
			l += (size_t)o.size;
		}
		if (k == 0 || mqtt_send(c, pkt, l) < 0)
			return 0;
		msgs_tx += k;
		c->sent += k;
		if (l >= budget) {
			if (!uv_is_active((uv_handle_t *)&pub_idle))
				uv_idle_start(&pub_idle, on_pub_idle);
			return 1;
		}
		budget -= l;
	}
	return 0;
}

static void on_tick(uv_timer_t *t)
{
	(void)t;
	for (long i = 0; pubsub_running && i < o.pairs; i++)
		publish_some(pubs[i]);
}

static void on_end(uv_timer_t *t)
{
	(void)t;
	uv_stop(loop);
}

static int parse_hostport(const char *s)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : 0;

	if (!colon || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = 0;
	if (o.n_addr == (int)(sizeof(o.addr) / sizeof(o.addr[0])) ||
	    uv_ip4_addr(host, atoi(colon + 1),
			(struct sockaddr_in *)&o.addr[o.n_addr]) < 0)
		return -1;
	o.n_addr++;
	return 0;
}

/* The token: the file's first line, at most TOKEN_MAX bytes. */
static int read_token(const char *path)
{
	static char buf[TOKEN_MAX + 2];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	n = strcspn(buf, "\r\n");
	if (!n || n > TOKEN_MAX)
		return -EINVAL;
	buf[n] = 0;
	o.token = buf;
	o.token_len = n;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: moat-bench connect|idle|pubsub -H ADDR:PORT "
		"[--ca F --cert F --key F] [--tls12] [--plain] "
		"[--token-file F] [--nagle] [--ws PATH] [--group x25519|p256] [-c N] "
		"[-n N] [-r] [-p PAIRS] [-s SIZE] [-q QOS] [-t S] [-b B] "
		"[-R RATE] [-B BATCH]\n");
	exit(2);
}

#ifdef XMALLOC_USER
/* moat's wolfSSL build hands every allocation to the program
 * (XMALLOC_USER, for moat's scratch heap); the load generator keeps
 * malloc's. */
void *XMALLOC(size_t n, void *heap, int type)
{
	(void)heap;
	(void)type;
	return malloc(n);
}

void *XREALLOC(void *p, size_t n, void *heap, int type)
{
	(void)heap;
	(void)type;
	return realloc(p, n);
}

void XFREE(void *p, void *heap, int type)
{
	(void)heap;
	(void)type;
	free(p);
}
#endif

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"ca", 1, 0, 'A'},	  {"cert", 1, 0, 'C'},
	    {"key", 1, 0, 'K'},	  {"tls12", 0, 0, '2'},
	    {"plain", 0, 0, 'P'}, {"token-file", 1, 0, 'T'},
	    {"nagle", 0, 0, 'N'}, {"ws", 1, 0, 'W'},
	    {"group", 1, 0, 'G'},
	    {0, 0, 0, 0}};
	uv_timer_t end, tick;
	int ch;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "connect"))
		o.mode = M_CONNECT;
	else if (!strcmp(argv[1], "idle"))
		o.mode = M_IDLE;
	else if (!strcmp(argv[1], "pubsub"))
		o.mode = M_PUBSUB;
	else
		usage();
	optind = 2;
	while ((ch = getopt_long(argc, argv, "H:c:n:rp:s:q:t:b:R:B:", lo, NULL)) != -1) {
		switch (ch) {
		case 'H':
			if (parse_hostport(optarg) < 0)
				usage();
			break;
		case 'A': o.ca = optarg; break;
		case 'C': o.cert = optarg; break;
		case 'K': o.key = optarg; break;
		case '2': o.tls12 = 1; break;
		case 'P': o.plain = 1; break;
		case 'N':
			o.nagle = 1;
			break;
		case 'W':
			o.ws = optarg;
			break;
		case 'G':
			if (!strcmp(optarg, "p256"))
				o.p256 = 1;
			else if (strcmp(optarg, "x25519"))
				usage();
			break;
		case 'T':
			if (read_token(optarg) < 0) {
				fprintf(stderr, "moat-bench: %s: no token of "
						"1 to %d bytes\n", optarg, TOKEN_MAX);
				return 2;
			}
			break;
		case 'c': o.conc = idle_conc = atol(optarg); break;
		case 'n': o.count = atol(optarg); break;
		case 'r': o.resume = 1; break;
		case 'p': o.pairs = atol(optarg); break;
		case 's': o.size = atol(optarg); break;
		case 'q': o.qos = atoi(optarg); break;
		case 't': o.seconds = atol(optarg); break;
		case 'b': o.base = atol(optarg); break;
		case 'R': o.rate = atol(optarg); break;
		case 'B': o.batch = atol(optarg) > 0 ? atol(optarg) : 1; break;
		default: usage();
		}
	}
	if (!o.n_addr)
		usage();
	if (o.size < 8)
		o.size = 8;
	if (o.size > 65536)
		o.size = 65536;
	loop = uv_default_loop();
	if (!o.plain) {
		/* with a token the client certificate is optional */
		int no_cert = o.token && !o.cert && !o.key;

		wolfSSL_Init();
		ctx = wolfSSL_CTX_new(o.tls12 ? wolfTLSv1_2_client_method()
					      : wolfTLSv1_3_client_method());
		if (!ctx || !o.ca || (!no_cert && (!o.cert || !o.key)) ||
		    wolfSSL_CTX_load_verify_locations(ctx, o.ca, NULL) != 1 ||
		    (!no_cert &&
		     (wolfSSL_CTX_use_certificate_chain_file(ctx, o.cert) != 1 ||
		      wolfSSL_CTX_use_PrivateKey_file(
			      ctx, o.key, WOLFSSL_FILETYPE_PEM) != 1))) {
			fprintf(stderr, "moat-bench: cannot set up TLS\n");
			return 2;
		}
		wolfSSL_CTX_SetIORecv(ctx, io_recv);
		wolfSSL_CTX_SetIOSend(ctx, io_send);
		wolfSSL_CTX_UseSessionTicket(ctx);
		{ /* the groups offered, the key share of the first */
			int g[3] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1,
				    WOLFSSL_ECC_SECP384R1};

			if (wolfSSL_CTX_set_groups(ctx, g + o.p256,
						   3 - o.p256) != 1) {
				fprintf(stderr, "moat-bench: no such groups\n");
				return 2;
			}
		}
		/* as OpenSSL (libmosquitto, paho) does: a handshake flight in
		 * one write. Written message by message, a Nagle-on client
		 * holds each until the last is ACKed, whatever the server. */
		if (o.nagle)
			wolfSSL_CTX_set_group_messages(ctx);
	}
	uv_timer_init(loop, &end);
	uv_timer_start(&end, on_end, (uint64_t)o.seconds * 1000, 0);
	t_begin = now_ns();
	if (o.mode == M_CONNECT) {
		if (o.resume) { /* one full handshake for the ticket first */
			long keep = o.count;

			o.count = 1;
			cl_next();
			while (!saved && uv_run(loop, UV_RUN_ONCE) && !done_fail)
				;
			uv_run(loop, UV_RUN_NOWAIT);
			o.count = keep + 1;
			nlat = 0;
			done_ok = done_fail = reused = 0;
			if (!saved) {
				fprintf(stderr, "moat-bench: no session to resume\n");
				return 1;
			}
		}
		t_begin = now_ns();
		for (long i = 0; i < o.conc; i++)
			cl_next();
		while (done_ok + done_fail < o.count - (o.resume ? 1 : 0) &&
		       uv_run(loop, UV_RUN_ONCE))
			;
	} else if (o.mode == M_IDLE) {
		long first = idle_conc && idle_conc < o.count ? idle_conc : o.count;

		while (idle_started < first)
			idle_next();
		uv_run(loop, UV_RUN_DEFAULT);
	} else {
		pubs = calloc((size_t)o.pairs, sizeof(*pubs));
		for (long i = 0; i < o.pairs; i++) {
			cl_start(2, i);
			pubs[i] = cl_start(1, i);
		}
		uv_idle_init(loop, &pub_idle);
		uv_timer_init(loop, &tick);
		uv_timer_start(&tick, on_tick, 1, 1);
		uv_run(loop, UV_RUN_DEFAULT);
	}
	{
		double el = (double)(now_ns() - t_begin) / 1e9;

		if (nlat) /* lat is NULL when no connect succeeded */
			qsort(lat, nlat, sizeof(*lat), dcmp);
		if (o.mode == M_CONNECT)
			printf("mode=connect%s ok=%ld failed=%ld reused=%ld "
			       "seconds=%.3f conn_per_s=%.1f p50_ms=%.3f "
			       "p99_ms=%.3f\n",
			       o.resume ? "-resumed" : "", done_ok, done_fail,
			       reused, el,
			       (double)done_ok / el, pct(0.5) * 1e3,
			       pct(0.99) * 1e3);
		else if (o.mode == M_IDLE)
			printf("mode=idle held=%ld failed=%ld\n", done_ok,
			       done_fail);
		else
			printf("mode=pubsub pairs=%ld size=%ld qos=%d rate=%ld batch=%ld sent=%ld "
			       "received=%ld seconds=%.3f msg_per_s=%.0f "
			       "mb_per_s=%.2f p50_ms=%.3f p99_ms=%.3f\n",
			       o.pairs, o.size, o.qos, o.rate, o.batch, msgs_tx, msgs_rx, el,
			       (double)msgs_rx / el,
			       (double)bytes_rx / el / 1e6, pct(0.5) * 1e3,
			       pct(0.99) * 1e3);
	}
	return done_fail && o.mode == M_CONNECT ? 1 : 0;
}
