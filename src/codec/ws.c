/* ws.c - the WebSocket opening handshake (RFC 6455 section 4.2) and its
 * frames (section 5), see ws.h. The request is judged whole once its
 * empty line is in; every header moat reads must appear at most once
 * (Sec-WebSocket-Protocol and Connection may be split over lines, as
 * lists may). Frames: masked client frames, binary MQTT only,
 * fragmentation with control frames between fragments, sizes bounded. */
#include <string.h>

#include "codec/ws.h"

size_t ws_header_end(const uint8_t *p, size_t n, size_t from)
{
	for (size_t i = from; i + 3 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' &&
		    p[i + 3] == '\n')
			return i + 4;
	return 0;
}

static int lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/* Case-insensitive equality of p[0..n) and the NUL-terminated s. */
static int ieq(const char *p, size_t n, const char *s)
{
	size_t sl = strlen(s);

	if (n != sl)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)p[i]) != lower((unsigned char)s[i]))
			return 0;
	return 1;
}

static int tchar(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

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

/* Call fn on each element of a comma-separated list value (RFC 9110
 * 5.6.1), with whitespace around elements trimmed; empty ones skipped. */
static void list_each(const char *v, size_t n,
		      void (*fn)(const char *e, size_t el, void *arg),
		      void *arg)
{
	size_t i = 0;

	while (i < n) {
		size_t s = i, e;

		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (s < e && (v[s] == ' ' || v[s] == '\t'))
			s++;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s)
			fn(v + s, e - s, arg);
		i++;
	}
}

struct seen {
	int upgrade_ws, conn_upgrade;
	unsigned offered; /* WS_PROTO_* the client offered */
};

static void on_upgrade(const char *e, size_t n, void *arg)
{
	if (ieq(e, n, "websocket"))
		((struct seen *)arg)->upgrade_ws = 1;
}

static void on_connection(const char *e, size_t n, void *arg)
{
	if (ieq(e, n, "upgrade"))
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

/* Find name=value among sep-separated pairs of v[0..n); 1 found once,
 * 0 not there, -1 found twice (ambiguous: which one would be checked?). */
static int pair_find(const char *v, size_t n, char sep, const char *name,
		     const char **val, size_t *vlen)
{
	size_t nl = strlen(name), i = 0;
	int found = 0;

	while (i <= n) {
		size_t s = i, e;

		while (i < n && v[i] != sep)
			i++;
		e = i;
		while (s < e && v[s] == ' ')
			s++;
		if (e - s > nl && memcmp(v + s, name, nl) == 0 &&
		    v[s + nl] == '=') {
			if (found)
				return -1;
			found = 1;
			*val = v + s + nl + 1;
			*vlen = e - s - nl - 1;
		}
		i++;
	}
	return found;
}

static enum ws_status bad(struct ws_request *rq, enum ws_status st,
			  const char *why)
{
	rq->why = why;
	return st;
}

/* The request line: GET SP origin-form SP HTTP/1.1. */
static enum ws_status request_line(const char *s, size_t n,
				   const struct ws_policy *pol,
				   struct ws_request *rq)
{
	const char *t, *sp, *q;
	size_t tl;
	int found;

	if (n < 4 || memcmp(s, "GET ", 4) != 0)
		return bad(rq, WS_BAD_REQUEST, "method is not GET");
	t = s + 4;
	sp = memchr(t, ' ', n - 4);
	if (!sp || sp == t || *t != '/')
		return bad(rq, WS_BAD_REQUEST, "bad request target");
	tl = (size_t)(sp - t);
	if ((size_t)(s + n - sp) != 9 || memcmp(sp, " HTTP/1.1", 9) != 0)
		return bad(rq, WS_BAD_REQUEST, "not HTTP/1.1");
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return bad(rq, WS_BAD_REQUEST, "bad request target");
	q = memchr(t, '?', tl);
	rq->path = t;
	rq->path_len = q ? (size_t)(q - t) : tl;
	if (q) {
		found =
		    pair_find(q + 1, tl - rq->path_len - 1, '&', "access_token",
			      &rq->query_token, &rq->query_token_len);
		if (found < 0)
			return bad(rq, WS_BAD_REQUEST,
				   "access_token twice in the query");
	}
	found = 0;
	for (size_t i = 0; i < pol->n_paths; i++)
		if (strlen(pol->paths[i]) == rq->path_len &&
		    memcmp(pol->paths[i], t, rq->path_len) == 0)
			found = 1;
	return found ? WS_OK : WS_NOT_FOUND;
}

/* One header value by name; h counts each header moat reads. */
enum hdr {
	H_HOST,
	H_UPGRADE,
	H_CONNECTION,
	H_KEY,
	H_VERSION,
	H_PROTOCOL,
	H_ORIGIN,
	H_COOKIE,
	H__N,
	H_OTHER = H__N
};

static enum hdr hdr_of(const char *name, size_t n)
{
	static const char *names[H__N] = {"host",
					  "upgrade",
					  "connection",
					  "sec-websocket-key",
					  "sec-websocket-version",
					  "sec-websocket-protocol",
					  "origin",
					  "cookie"};

	for (int i = 0; i < H__N; i++)
		if (ieq(name, n, names[i]))
			return (enum hdr)i;
	return H_OTHER;
}

enum ws_status ws_parse_upgrade(const uint8_t *p, size_t n,
				const struct ws_policy *pol,
				struct ws_request *rq)
{
	const char *s = (const char *)p, *end, *v[H__N] = {0};
	size_t vl[H__N] = {0}, lines = 0;
	unsigned count[H__N] = {0};
	struct seen seen = {0};
	enum ws_status path_st;
	const char *eol;

	memset(rq, 0, sizeof(*rq));
	if (n > pol->max_header)
		return bad(rq, WS_TOO_LARGE, "headers over max_header");
	if (n < 4 || memcmp(s + n - 4, "\r\n\r\n", 4) != 0)
		return bad(rq, WS_BAD_REQUEST, "incomplete request");
	end = s + n - 2; /* the empty line */
	eol = memchr(s, '\r', (size_t)(end - s));
	if (!eol || eol[1] != '\n')
		return bad(rq, WS_BAD_REQUEST, "bad request line");
	path_st = request_line(s, (size_t)(eol - s), pol, rq);
	if (path_st == WS_BAD_REQUEST)
		return path_st;
	for (const char *l = eol + 2; l < end; l = eol + 2) {
		const char *colon, *vs, *ve;
		enum hdr h;

		if (++lines > WS_MAX_HEADER_LINES)
			return bad(rq, WS_TOO_LARGE, "too many header lines");
		eol = memchr(l, '\r', (size_t)(end - l));
		if (!eol || eol[1] != '\n')
			return bad(rq, WS_BAD_REQUEST, "bare CR or LF");
		if (memchr(l, '\n', (size_t)(eol - l)))
			return bad(rq, WS_BAD_REQUEST, "bare LF");
		colon = memchr(l, ':', (size_t)(eol - l));
		if (!colon || colon == l)
			return bad(rq, WS_BAD_REQUEST, "bad header line");
		for (const char *c = l; c < colon; c++)
			if (!tchar((unsigned char)*c))
				return bad(rq, WS_BAD_REQUEST,
					   "bad header name");
		vs = colon + 1;
		ve = eol;
		while (vs < ve && (*vs == ' ' || *vs == '\t'))
			vs++;
		while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const char *c = vs; c < ve; c++)
			if (((unsigned char)*c < 0x20 && *c != '\t') ||
			    *c == 0x7f)
				return bad(rq, WS_BAD_REQUEST,
					   "control character in a header");
		h = hdr_of(l, (size_t)(colon - l));
		if (h == H_OTHER)
			continue;
		count[h]++;
		v[h] = vs;
		vl[h] = (size_t)(ve - vs);
		if (h == H_UPGRADE)
			list_each(vs, vl[h], on_upgrade, &seen);
		else if (h == H_CONNECTION)
			list_each(vs, vl[h], on_connection, &seen);
		else if (h == H_PROTOCOL)
			list_each(vs, vl[h], on_protocol, &seen);
	}
	if (count[H_HOST] != 1 || !vl[H_HOST])
		return bad(rq, WS_BAD_REQUEST, "no Host, or two");
	if (!seen.upgrade_ws || !seen.conn_upgrade)
		return bad(rq, WS_BAD_REQUEST, "not a WebSocket upgrade");
	if (count[H_KEY] != 1 || !key_ok(v[H_KEY], vl[H_KEY]))
		return bad(rq, WS_BAD_REQUEST, "bad Sec-WebSocket-Key");
	if (count[H_VERSION] != 1 || vl[H_VERSION] != 2 ||
	    memcmp(v[H_VERSION], "13", 2) != 0)
		return bad(rq, WS_UPGRADE_REQUIRED, "version is not 13");
	if (count[H_ORIGIN] > 1 || count[H_COOKIE] > 1)
		return bad(rq, WS_BAD_REQUEST, "Origin or Cookie twice");
	if (path_st != WS_OK)
		return bad(rq, path_st, "path not served");
	if (count[H_ORIGIN] && pol->n_origins) {
		int ok = 0;

		for (size_t i = 0; i < pol->n_origins; i++)
			if (ieq(v[H_ORIGIN], vl[H_ORIGIN], pol->origins[i]))
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
	if (count[H_COOKIE] &&
	    pair_find(v[H_COOKIE], vl[H_COOKIE], ';', "access_token",
		      &rq->cookie_token, &rq->cookie_token_len) < 0)
		return bad(rq, WS_BAD_REQUEST, "access_token cookie twice");
	memcpy(rq->key, v[H_KEY], 24);
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
