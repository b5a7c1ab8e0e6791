/* ws.c - the WebSocket stage (RFC 6455) of a `websocket:` listener,
 * between the TLS handshake (or the accept, for plain ws://) and the
 * CONNECT: the upgrade request is judged whole (codec/ws.c) and answered
 * 101 or with its HTTP status; then the client's frames are unwrapped in
 * place before the CONNECT and splice stages see MQTT, and what goes to
 * the client leaves as one binary frame per write (conn_tx_mqtt). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "conn/internal.h" /* wolfssl/options.h first */

#include <wolfssl/wolfcrypt/hash.h>

int conn_ws_init(struct conn *c)
{
	if (!c->lcfg->ws.on)
		return 0;
	if (!(c->ws = calloc(1, sizeof(*c->ws))))
		return -1;
	c->ws->dec.max_message = c->lcfg->ws.max_frame;
	c->ws->close_code = WS_CLOSE_NORMAL;
	return 0;
}

void conn_ws_free(struct conn *c)
{
	if (!c->ws)
		return;
	if (c->ws->hbuf)
		memset(c->ws->hbuf, 0, c->ws->hlen);
	free(c->ws->hbuf);
	conn_ws_drop_tokens(c);
	free(c->ws);
	c->ws = NULL;
}

void conn_ws_drop_tokens(struct conn *c)
{
	/* bearer secrets: wiped, not just freed */
	if (c->ws->qtok) {
		memset(c->ws->qtok, 0, strlen(c->ws->qtok));
		free(c->ws->qtok);
		c->ws->qtok = NULL;
	}
	if (c->ws->ctok) {
		memset(c->ws->ctok, 0, strlen(c->ws->ctok));
		free(c->ws->ctok);
		c->ws->ctok = NULL;
	}
}

/* Plaintext to the client: through TLS, or straight to the socket. */
int conn_tx(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->ssl)
		return wolfSSL_write(c->ssl, p, (int)n) == (int)n ? 0 : -1;
	return conn_write(c, SIDE_CLIENT, p, n) < 0 ? -1 : 0;
}

/* MQTT bytes to the client, p with WS_SERVER_HEADER_MAX bytes of room
 * before it: in one binary frame on an upgraded WebSocket. */
int conn_tx_framed(struct conn *c, uint8_t *p, size_t n)
{
	if (c->ws && c->ws->upgraded) {
		uint8_t h[WS_SERVER_HEADER_MAX];
		size_t hl = ws_frame_header(h, WS_OP_BINARY, n);

		if (c->ws->close_sent)
			return 0; /* nothing after our close frame */
		p -= hl;
		memcpy(p, h, hl);
		n += hl;
	}
	return conn_tx(c, p, n);
}

int conn_tx_mqtt(struct conn *c, const uint8_t *p, size_t n)
{
	uint8_t buf[WS_SERVER_HEADER_MAX + 1200];

	if (!c->ws || !c->ws->upgraded)
		return conn_tx(c, p, n);
	if (n > sizeof(buf) - WS_SERVER_HEADER_MAX) {
		/* a large one (a run of the broker's bytes that topic rules
		 * let through): its frame header, then the bytes */
		uint8_t h[WS_SERVER_HEADER_MAX];
		size_t hl = ws_frame_header(h, WS_OP_BINARY, n);

		if (c->ws->close_sent)
			return 0;
		return conn_tx(c, h, hl) < 0 ? -1 : conn_tx(c, p, n);
	}
	memcpy(buf + WS_SERVER_HEADER_MAX, p, n);
	return conn_tx_framed(c, buf + WS_SERVER_HEADER_MAX, n);
}

/* The end of what the client hears: a WebSocket close frame (once), then
 * TLS close_notify. */
void conn_tx_end(struct conn *c)
{
	if (c->ws && c->ws->upgraded && !c->ws->close_sent) {
		uint8_t f[4];

		ws_build_close(f, c->ws->close_code);
		conn_tx(c, f, sizeof(f));
		c->ws->close_sent = 1;
	}
	if (c->ssl)
		wolfSSL_shutdown(c->ssl);
}

void conn_ws_start(struct conn *c)
{
	c->state = CS_WS;
	uv_timer_start(&c->timer, conn_on_timeout,
		       c->gen->cfg->limits.connect_timeout_ms, 0);
}

static enum reject_cause cause_of(enum ws_status st)
{
	switch (st) {
	case WS_UPGRADE_REQUIRED:
		return REJ_WS_VERSION;
	case WS_NOT_FOUND:
		return REJ_WS_PATH;
	case WS_FORBIDDEN:
		return REJ_WS_ORIGIN;
	case WS_TOO_LARGE:
		return REJ_WS_HEADERS_TOO_LARGE;
	default:
		return REJ_WS_BAD_REQUEST;
	}
}

static char *token_copy(const char *p, size_t n)
{
	char *s = n ? malloc(n + 1) : NULL;

	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* Answer a request whose header block is whole: 101 and CS_CONNECT, or
 * its HTTP status and a reject. 0 upgraded, -1 refused or closed. */
static int upgrade(struct conn *c, size_t end)
{
	const struct cfg_websocket *w = &c->lcfg->ws;
	const struct ws_policy pol = {w->paths,	       w->n_paths,
				      w->origins,      w->n_origins,
				      w->subprotocols, w->max_header};
	unsigned from = c->lcfg->mqtt.token.from;
	struct ws_request rq;
	enum ws_status st = ws_parse_upgrade(c->ws->hbuf, end, &pol, &rq);
	char resp[256], id[24], path[96];
	size_t n;

	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	/* the path alone: a query may carry an access token */
	snprintf(path, sizeof(path), "%.*s",
		 (int)(rq.path_len < 80 ? rq.path_len : 80),
		 rq.path ? rq.path : "");
	if (st != WS_OK) {
		snprintf(c->ws->detail, sizeof(c->ws->detail), "%d %s%s%s", st,
			 rq.why, path[0] ? " GET " : "", path);
		c->why = c->ws->detail;
		if ((n = ws_build_error(resp, sizeof(resp), st)))
			conn_tx(c, (const uint8_t *)resp, n);
		if (c->state == CS_CLOSED)
			return -1;
		conn_reject(c, cause_of(st), REJECT_NO_CONNACK);
		return -1;
	}
	{
		uint8_t in[WS_ACCEPT_INPUT_LEN], h[20];
		char acc[29];

		ws_accept_input(rq.key, in);
		if (wc_ShaHash(in, sizeof(in), h) != 0) {
			conn_close(c, "SHA-1 failed");
			return -1;
		}
		ws_accept_encode(h, acc);
		n = ws_build_accept(resp, sizeof(resp), acc, rq.protocol);
	}
	if ((from & CFG_TOKEN_FROM_QUERY) && rq.query_token)
		c->ws->qtok = token_copy(rq.query_token, rq.query_token_len);
	if ((from & CFG_TOKEN_FROM_COOKIE) && rq.cookie_token)
		c->ws->ctok = token_copy(rq.cookie_token, rq.cookie_token_len);
	memset(c->ws->hbuf, 0, c->ws->hlen); /* the query's token */
	free(c->ws->hbuf);
	c->ws->hbuf = NULL;
	c->ws->hlen = c->ws->hcap = 0;
	log_event(LOG_INFO, "ws_upgrade", "conn", id, "request", "GET", "path",
		  path, "protocol",
		  rq.protocol == WS_PROTO_MQTTV31 ? "mqttv3.1" : "mqtt", NULL);
	if (conn_tx(c, (const uint8_t *)resp, n) < 0) {
		conn_close(c, "client write error");
		return -1;
	}
	/* after a TLS 1.3 handshake the session ticket waits in the cork
	 * for the first answer: this is it */
	if (c->corked)
		conn_uncork(c);
	if (c->state == CS_CLOSED)
		return -1;
	c->ws->upgraded = 1;
	c->state = CS_CONNECT;
	return 0;
}

/* Gather the request; once whole, answer it. The bytes after it (frames
 * sent early) are moved to p[0..*rest). 1 upgraded, 0 more needed, -1
 * refused. */
static int request_in(struct conn *c, uint8_t *p, size_t n, size_t *rest)
{
	struct conn_ws *w = c->ws;
	size_t max = c->lcfg->ws.max_header, take = n, old = w->hlen, end;

	*rest = 0;
	if (take > max - w->hlen)
		take = max - w->hlen;
	if (w->hlen + take > w->hcap) {
		size_t cap = w->hcap ? w->hcap : 1024;
		uint8_t *nb;

		while (cap < w->hlen + take)
			cap *= 2;
		if (cap > max)
			cap = max;
		/* not realloc: the old buffer may hold a query's token, and
		 * is wiped before it is freed */
		if (!(nb = malloc(cap))) {
			conn_close(c, "out of memory");
			return -1;
		}
		if (w->hbuf) {
			memcpy(nb, w->hbuf, w->hlen);
			memset(w->hbuf, 0, w->hlen);
			free(w->hbuf);
		}
		w->hbuf = nb;
		w->hcap = cap;
	}
	memcpy(w->hbuf + w->hlen, p, take);
	w->hlen += take;
	end = http_head_end(w->hbuf, w->hlen, old > 3 ? old - 3 : 0);
	if (!end) {
		char resp[160];
		size_t rl;
		int not_get = memcmp(w->hbuf, "GET ",
				     w->hlen < 4 ? w->hlen : 4) != 0;

		/* not an HTTP GET (an MQTT CONNECT on the wrong port, say):
		 * answered at once, not at connect_timeout */
		if (w->hlen < max && !not_get)
			return 0;
		c->why = not_get ? "not an HTTP GET" : "headers over max_header";
		rl = ws_build_error(resp, sizeof(resp),
				    not_get ? WS_BAD_REQUEST : WS_TOO_LARGE);
		conn_tx(c, (const uint8_t *)resp, rl);
		if (c->state != CS_CLOSED)
			conn_reject(c,
				    not_get ? REJ_WS_BAD_REQUEST
					    : REJ_WS_HEADERS_TOO_LARGE,
				    REJECT_NO_CONNACK);
		return -1;
	}
	if (upgrade(c, end) < 0)
		return -1;
	/* what followed the empty line in this read */
	*rest = old + n - end;
	memmove(p, p + (n - *rest), *rest);
	return 1;
}

/* Frames in p[0..n): MQTT moved to p[0..ret); ping answered, close
 * noted (*eof), errors closed with their code. -1: closed. */
static int frames_in(struct conn *c, uint8_t *p, size_t n, int *eof)
{
	struct conn_ws *w = c->ws;
	size_t at = 0, out_total = 0;

	while (at < n) {
		size_t used, out;
		int code;
		const char *why;
		enum ws_event ev = ws_unwrap(&w->dec, p + at, n - at, &used,
					     &out, &code, &why);

		memmove(p + out_total, p + at, out);
		out_total += out;
		at += used;
		switch (ev) {
		case WS_EV_PING: {
			uint8_t f[WS_SERVER_HEADER_MAX + 125];
			size_t hl =
			    ws_frame_header(f, WS_OP_PONG, w->dec.ctl_len);

			memcpy(f + hl, w->dec.ctl, w->dec.ctl_len);
			if (!w->close_sent &&
			    conn_tx(c, f, hl + w->dec.ctl_len) < 0) {
				conn_close(c, "client write error");
				return -1;
			}
			if (c->state == CS_CLOSED)
				return -1;
			break;
		}
		case WS_EV_CLOSE:
			/* answer with the client's code when it gave one */
			w->close_code = code == WS_CLOSE_NO_STATUS
					    ? WS_CLOSE_NORMAL
					    : (uint16_t)code;
			*eof = 1;
			return (int)out_total;
		case WS_EV_ERROR:
			w->close_code = (uint16_t)code;
			c->why = why;
			conn_reject(c, REJ_WS_PROTOCOL, REJECT_NO_CONNACK);
			return -1;
		default:
			break;
		}
		if (ev == WS_EV_NONE)
			break;
	}
	return (int)out_total;
}

void conn_ws_closed(struct conn *c)
{
	/* forwarding: passed on as a half-close; the broker's close (or the
	 * end of the flush) brings our close frame. Before that: answered
	 * now. */
	if (c->state == CS_SPLICE) {
		conn_client_eof(c);
		return;
	}
	conn_tx_end(c);
	conn_finish(c);
}

int conn_ws_in(struct conn *c, uint8_t *p, size_t n, int *eof)
{
	*eof = 0;
	if (c->ws->dec.closed) /* after the client's close: nothing */
		return 0;
	if (c->state == CS_WS) {
		size_t rest;
		int r = request_in(c, p, n, &rest);

		if (r <= 0)
			return r;
		n = rest;
	}
	return frames_in(c, p, n, eof);
}
