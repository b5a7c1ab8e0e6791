/* ws.c - the WebSocket opening handshake (RFC 6455 section 4.2) and its
 * frames (section 5), see ws.h. The request is judged whole once its
 * empty line is in; every header moat reads must appear at most once
 * (Sec-WebSocket-Protocol and Connection may be split over lines, as
 * lists may). Frames: masked client frames, binary MQTT only,
 * fragmentation with control frames between fragments, sizes bounded. */
#include <string.h>

#include "codec/http_req.h"
#include "codec/ws.h"

static int b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* A key is 16 bytes in base64: 22 characters, then "==", and the last
 * character's unused low bits zero (one spelling per key). */
static int key_ok(const char *v, size_t n)
{
	int last;

	if (n != 24 || v[22] != '=' || v[23] != '=')
		return 0;
	for (size_t i = 0; i < 22; i++)
		if (b64val((unsigned char)v[i]) < 0)
			return 0;
	last = b64val((unsigned char)v[21]);
	return (last & 0x0f) == 0;
}

struct seen {
	int upgrade_ws, conn_upgrade;
	unsigned offered; /* WS_PROTO_* the client offered */
};

static void on_upgrade(const char *e, size_t n, void *arg)
{
	if (http_ieq(e, n, "websocket"))
		((struct seen *)arg)->upgrade_ws = 1;
}

static void on_connection(const char *e, size_t n, void *arg)
{
	if (http_ieq(e, n, "upgrade"))
		((struct seen *)arg)->conn_upgrade = 1;
}

/* Subprotocol names are case-sensitive (RFC 6455 11.3.4). */
static void on_protocol(const char *e, size_t n, void *arg)
{
	struct seen *s = arg;

	if (n == 4 && memcmp(e, "mqtt", 4) == 0)
		s->offered |= WS_PROTO_MQTT;
	else if (n == 8 && memcmp(e, "mqttv3.1", 8) == 0)
		s->offered |= WS_PROTO_MQTTV31;
}

static enum ws_status bad(struct ws_request *rq, enum ws_status st,
			  const char *why)
{
	rq->why = why;
	return st;
}

/* Each field moat reads; the list ones (Upgrade, Connection,
 * Sec-WebSocket-Protocol) may be split over lines. */
static void fields(const struct http_req *h, struct seen *seen)
{
	for (size_t i = 0; i < h->n_fields; i++) {
		const struct http_field *f = &h->f[i];

		if (http_ieq(f->name, f->name_len, "upgrade"))
			http_list_each(f->value, f->value_len, on_upgrade,
				       seen);
		else if (http_ieq(f->name, f->name_len, "connection"))
			http_list_each(f->value, f->value_len, on_connection,
				       seen);
		else if (http_ieq(f->name, f->name_len,
				  "sec-websocket-protocol"))
			http_list_each(f->value, f->value_len, on_protocol,
				       seen);
	}
}

enum ws_status ws_parse_upgrade(const uint8_t *p, size_t n,
				const struct ws_policy *pol,
				struct ws_request *rq)
{
	struct http_req h;
	struct seen seen = {0};
	const char *host = NULL, *key = NULL, *ver = NULL, *origin = NULL,
		   *cookie = NULL;
	size_t host_l = 0, key_l = 0, ver_l = 0, origin_l = 0, cookie_l = 0;
	int st = http_parse_head(p, n, pol->max_header, &h), found = 0;
	unsigned n_origin, n_cookie;

	memset(rq, 0, sizeof(*rq));
	if (st)
		return bad(rq, (enum ws_status)st, h.why);
	if (!http_method_is(&h, "GET"))
		return bad(rq, WS_BAD_REQUEST, "method is not GET");
	rq->path = h.target;
	rq->path_len = h.path_len;
	if (h.path_len < h.target_len) {
		found = http_pair_find(h.target + h.path_len + 1,
				       h.target_len - h.path_len - 1, '&',
				       "access_token", &rq->query_token,
				       &rq->query_token_len);
		if (found < 0)
			return bad(rq, WS_BAD_REQUEST,
				   "access_token twice in the query");
	}
	fields(&h, &seen);
	if (http_field(&h, "host", &host, &host_l) != 1 || !host_l)
		return bad(rq, WS_BAD_REQUEST, "no Host, or two");
	if (!seen.upgrade_ws || !seen.conn_upgrade)
		return bad(rq, WS_BAD_REQUEST, "not a WebSocket upgrade");
	if (http_field(&h, "sec-websocket-key", &key, &key_l) != 1 ||
	    !key_ok(key, key_l))
		return bad(rq, WS_BAD_REQUEST, "bad Sec-WebSocket-Key");
	if (http_field(&h, "sec-websocket-version", &ver, &ver_l) != 1 ||
	    ver_l != 2 || memcmp(ver, "13", 2) != 0)
		return bad(rq, WS_UPGRADE_REQUIRED, "version is not 13");
	n_origin = http_field(&h, "origin", &origin, &origin_l);
	n_cookie = http_field(&h, "cookie", &cookie, &cookie_l);
	if (n_origin > 1 || n_cookie > 1)
		return bad(rq, WS_BAD_REQUEST, "Origin or Cookie twice");
	found = 0;
	for (size_t i = 0; i < pol->n_paths; i++)
		if (strlen(pol->paths[i]) == rq->path_len &&
		    memcmp(pol->paths[i], rq->path, rq->path_len) == 0)
			found = 1;
	if (!found)
		return bad(rq, WS_NOT_FOUND, "path not served");
	if (n_origin && pol->n_origins) {
		int ok = 0;

		for (size_t i = 0; i < pol->n_origins; i++)
			if (http_ieq(origin, origin_l, pol->origins[i]))
				ok = 1;
		if (!ok)
			return bad(rq, WS_FORBIDDEN, "Origin not allowed");
	}
	if (seen.offered & pol->protocols & WS_PROTO_MQTT)
		rq->protocol = WS_PROTO_MQTT;
	else if (seen.offered & pol->protocols & WS_PROTO_MQTTV31)
		rq->protocol = WS_PROTO_MQTTV31;
	else
		return bad(rq, WS_BAD_REQUEST, "no accepted subprotocol");
	if (n_cookie &&
	    http_pair_find(cookie, cookie_l, ';', "access_token",
			   &rq->cookie_token, &rq->cookie_token_len) < 0)
		return bad(rq, WS_BAD_REQUEST, "access_token cookie twice");
	memcpy(rq->key, key, 24);
	rq->key[24] = '\0';
	return WS_OK;
}

void ws_accept_input(const char key[25], uint8_t out[WS_ACCEPT_INPUT_LEN])
{
	memcpy(out, key, 24);
	memcpy(out + 24, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
}

void ws_accept_encode(const uint8_t sha1[20], char out[29])
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < 21; i += 3) {
		uint32_t v = (uint32_t)sha1[i] << 16;

		if (i + 1 < 20)
			v |= (uint32_t)sha1[i + 1] << 8;
		if (i + 2 < 20)
			v |= sha1[i + 2];
		out[o++] = al[v >> 18 & 63];
		out[o++] = al[v >> 12 & 63];
		out[o++] = i + 1 < 20 ? al[v >> 6 & 63] : '=';
		out[o++] = i + 2 < 20 ? al[v & 63] : '=';
	}
	out[28] = '\0';
}

static size_t put(char *out, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n >= cap)
		return 0;
	memcpy(out, s, n + 1);
	return n;
}

size_t ws_build_accept(char *out, size_t cap, const char *accept,
		       unsigned protocol)
{
	char buf[256];

	strcpy(buf, "HTTP/1.1 101 Switching Protocols\r\n"
		    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: ");
	strncat(buf, accept, 28);
	strcat(buf, "\r\nSec-WebSocket-Protocol: ");
	strcat(buf, protocol == WS_PROTO_MQTTV31 ? "mqttv3.1" : "mqtt");
	strcat(buf, "\r\n\r\n");
	return put(out, cap, buf);
}

size_t ws_build_error(char *out, size_t cap, enum ws_status st)
{
	const char *s;

	switch (st) {
	case WS_FORBIDDEN:
		s = "HTTP/1.1 403 Forbidden\r\n";
		break;
	case WS_NOT_FOUND:
		s = "HTTP/1.1 404 Not Found\r\n";
		break;
	case WS_UPGRADE_REQUIRED:
		s = "HTTP/1.1 426 Upgrade Required\r\n"
		    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
		break;
	case WS_TOO_LARGE:
		s = "HTTP/1.1 431 Request Header Fields Too Large\r\n";
		break;
	default:
		s = "HTTP/1.1 400 Bad Request\r\n";
		break;
	}
	{
		char buf[192];

		strcpy(buf, s);
		strcat(buf, "Connection: close\r\nContent-Length: 0\r\n\r\n");
		return put(out, cap, buf);
	}
}

/* ---- frames ---- */

static enum ws_event fail(int *code, const char **why, int c, const char *w)
{
	*code = c;
	*why = w;
	return WS_EV_ERROR;
}

/* A close frame's status: absent (1005), or one a peer may send. */
static int close_code_ok(int c)
{
	return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ||
	       (c >= 3000 && c <= 4999);
}

/* The header in d->hdr is whole: check it and start its payload. */
static enum ws_event frame_start(struct ws_decoder *d, int *code,
				 const char **why)
{
	uint8_t b0 = d->hdr[0], b1 = d->hdr[1];
	uint8_t op = b0 & 0x0f, l7 = b1 & 0x7f;
	uint64_t len = l7;
	int ctl = op >= 0x8;

	if (b0 & 0x70)
		return fail(code, why, WS_CLOSE_PROTOCOL, "RSV bit set");
	if (!(b1 & 0x80))
		return fail(code, why, WS_CLOSE_PROTOCOL, "unmasked frame");
	if (l7 == 126) {
		len = (uint64_t)d->hdr[2] << 8 | d->hdr[3];
		if (len < 126)
			return fail(code, why, WS_CLOSE_PROTOCOL,
				    "length not minimal");
	} else if (l7 == 127) {
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | d->hdr[2 + i];
		if (len >> 63)
			return fail(code, why, WS_CLOSE_PROTOCOL,
				    "length over 2^63");
		if (len <= 0xffff)
			return fail(code, why, WS_CLOSE_PROTOCOL,
				    "length not minimal");
	}
	memcpy(d->mask, d->hdr + d->hlen - 4, 4);
	d->mpos = 0;
	d->left = len;
	d->opcode = op;
	d->ctl_len = 0;
	if (ctl) {
		if (!(b0 & 0x80) || len > 125)
			return fail(code, why, WS_CLOSE_PROTOCOL,
				    "control frame fragmented or over 125");
		if (op != WS_OP_CLOSE && op != WS_OP_PING && op != WS_OP_PONG)
			return fail(code, why, WS_CLOSE_PROTOCOL,
				    "unknown opcode");
		if (op == WS_OP_CLOSE && len == 1)
			return fail(code, why, WS_CLOSE_PROTOCOL,
				    "close frame of one byte");
	} else if (op == WS_OP_TEXT) {
		return fail(code, why, WS_CLOSE_UNSUPPORTED, "text frame");
	} else if (op == WS_OP_BINARY) {
		if (d->in_message)
			return fail(code, why, WS_CLOSE_PROTOCOL,
				    "new message inside a fragmented one");
		d->msg_len = 0;
	} else if (op == WS_OP_CONT) {
		if (!d->in_message)
			return fail(code, why, WS_CLOSE_PROTOCOL,
				    "continuation without a message");
	} else {
		return fail(code, why, WS_CLOSE_PROTOCOL, "unknown opcode");
	}
	if (!ctl) {
		if (len > d->max_message || d->msg_len + len > d->max_message)
			return fail(code, why, WS_CLOSE_TOO_BIG,
				    "frame or message over max_frame");
		d->msg_len += len;
		d->in_message = !(b0 & 0x80);
	}
	d->in_frame = 1;
	return WS_EV_NONE;
}

/* The length of the header starting with hdr[0..have): 0 while the
 * second byte is not in. */
static size_t header_len(const uint8_t *h, size_t have)
{
	size_t m;

	if (have < 2)
		return 0;
	/* unmasked: refused as soon as the second byte says so */
	m = h[1] & 0x80 ? 4 : 0;
	if (!m)
		return 2;
	switch (h[1] & 0x7f) {
	case 126:
		return 2 + 2 + m;
	case 127:
		return 2 + 8 + m;
	default:
		return 2 + m;
	}
}

/* A control frame's payload is whole in d->ctl: what it asks for. */
static enum ws_event control_done(struct ws_decoder *d, int *code,
				  const char **why)
{
	d->in_frame = 0;
	if (d->opcode == WS_OP_PING)
		return WS_EV_PING;
	if (d->opcode == WS_OP_PONG)
		return WS_EV_PONG;
	d->closed = 1;
	if (d->ctl_len == 0) {
		*code = WS_CLOSE_NO_STATUS;
		return WS_EV_CLOSE;
	}
	*code = d->ctl[0] << 8 | d->ctl[1];
	if (!close_code_ok(*code))
		return fail(code, why, WS_CLOSE_PROTOCOL, "bad close code");
	return WS_EV_CLOSE;
}

/* dst[i] = src[i] ^ mask, dst at or before src (in place, moving to the
 * front): eight bytes at a time once the mask is at its start; each
 * store lands on bytes already read. */
static void unmask(uint8_t *dst, const uint8_t *src, size_t n,
		   const uint8_t mask[4], uint8_t *mpos)
{
	uint8_t m = *mpos;
	size_t i = 0;

	for (; i < n && (m & 3); i++, m++)
		dst[i] = src[i] ^ mask[m & 3];
	if (n - i >= 8) {
		uint32_t m32;
		uint64_t m64, v;

		memcpy(&m32, mask, 4);
		m64 = (uint64_t)m32 << 32 | m32;
		for (; i + 8 <= n; i += 8) {
			memcpy(&v, src + i, 8);
			v ^= m64;
			memcpy(dst + i, &v, 8);
		}
	}
	for (; i < n; i++, m++)
		dst[i] = src[i] ^ mask[m & 3];
	*mpos = m;
}

enum ws_event ws_unwrap(struct ws_decoder *d, uint8_t *p, size_t n,
			size_t *used, size_t *out, int *code, const char **why)
{
	size_t i = 0, o = 0;
	enum ws_event ev = WS_EV_NONE;

	*why = NULL;
	*code = 0;
	while (i < n && !d->closed) {
		if (!d->in_frame) {
			size_t need = header_len(d->hdr, d->hlen);

			if (!need)
				need = 2;
			while (d->hlen < need && i < n) {
				d->hdr[d->hlen++] = p[i++];
				if (d->hlen == 2)
					need = header_len(d->hdr, 2);
			}
			if (d->hlen < need)
				break;
			ev = frame_start(d, code, why);
			d->hlen = 0;
			if (ev != WS_EV_NONE)
				break;
			if (d->left == 0 && d->opcode >= 0x8) {
				ev = control_done(d, code, why);
				break;
			}
			if (d->left == 0) {
				d->in_frame = 0;
				continue;
			}
		}
		{
			size_t take = n - i;

			if (take > d->left)
				take = (size_t)d->left;
			if (d->opcode >= 0x8) {
				for (size_t k = 0; k < take; k++)
					d->ctl[d->ctl_len++] =
					    p[i + k] ^ d->mask[d->mpos++ & 3];
			} else {
				unmask(p + o, p + i, take, d->mask, &d->mpos);
				o += take;
			}
			i += take;
			d->left -= take;
			if (d->left == 0) {
				if (d->opcode >= 0x8) {
					ev = control_done(d, code, why);
					break;
				}
				d->in_frame = 0;
			}
		}
	}
	if (d->closed && ev == WS_EV_NONE)
		i = n; /* nothing after a close counts */
	*used = i;
	*out = o;
	return ev;
}

size_t ws_frame_header(uint8_t *out, uint8_t opcode, uint64_t len)
{
	out[0] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

size_t ws_build_close(uint8_t out[4], uint16_t code)
{
	out[0] = 0x80 | WS_OP_CLOSE;
	out[1] = 2;
	out[2] = (uint8_t)(code >> 8);
	out[3] = (uint8_t)code;
	return 4;
}
