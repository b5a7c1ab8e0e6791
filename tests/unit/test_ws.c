/* test_ws.c - the WebSocket codec as tables: upgrade requests and the
 * status each gets (RFC 6455 4.2.1, the contract's 400/403/404/426/431),
 * Sec-WebSocket-Accept against the RFC's own example (SHA-1 by wolfSSL,
 * as conn computes it), and client frames: masking, opcodes, fragments,
 * control frames between fragments, sizes, headers split byte by byte. */
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "codec/ws.h"
#include "test.h"

static char *paths[] = {"/mqtt", "/ws"};
static char *origins[] = {"https://dash.example.com"};
static const struct ws_policy pol = {
    paths, 2, origins, 1, WS_PROTO_MQTT | WS_PROTO_MQTTV31, 1024};

#define GOOD_HDRS                                                              \
	"Host: moat\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"          \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                      \
	"Sec-WebSocket-Version: 13\r\n"

static const struct {
	const char *req;
	int status;
	unsigned proto;
	const char *qtok, *ctok;
} reqs[] = {
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     101, WS_PROTO_MQTT, NULL, NULL},
    /* mqtt preferred over mqttv3.1, in whatever order offered */
    {"GET /ws HTTP/1.1\r\n" GOOD_HDRS
     "Sec-WebSocket-Protocol: mqttv3.1, mqtt\r\n\r\n",
     101, WS_PROTO_MQTT, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS
     "Sec-WebSocket-Protocol: mqttv3.1\r\n\r\n",
     101, WS_PROTO_MQTTV31, NULL, NULL},
    /* the list may be split over lines; names are case-sensitive */
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS "Sec-WebSocket-Protocol: x\r\n"
     "sec-websocket-protocol: mqtt\r\n\r\n",
     101, WS_PROTO_MQTT, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS "Sec-WebSocket-Protocol: MQTT\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS "\r\n", 400, 0, NULL, NULL},
    /* header names any case, Connection a list, Upgrade any case */
    {"GET /mqtt HTTP/1.1\r\nhost: moat\r\nupgrade: WebSocket\r\n"
     "connection: keep-alive, Upgrade\r\n"
     "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
     "sec-websocket-version: 13\r\nsec-websocket-protocol: mqtt\r\n"
     "Origin: https://DASH.example.com\r\n\r\n",
     101, WS_PROTO_MQTT, NULL, NULL},
    /* tokens: query and cookie; the query is not the path */
    {"GET /mqtt?x=1&access_token=abc.def.ghi HTTP/1.1\r\n" GOOD_HDRS
     "Sec-WebSocket-Protocol: mqtt\r\nCookie: a=b; access_token=t.o.k\r\n\r\n",
     101, WS_PROTO_MQTT, "abc.def.ghi", "t.o.k"},
    {"GET /mqtt?access_token=a&access_token=b HTTP/1.1\r\n" GOOD_HDRS
     "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS "Sec-WebSocket-Protocol: mqtt\r\n"
     "Cookie: access_token=a; access_token=b\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS "Sec-WebSocket-Protocol: mqtt\r\n"
     "Cookie: a=1\r\nCookie: access_token=b\r\n\r\n",
     400, 0, NULL, NULL},
    /* path, origin, version, method, HTTP version */
    {"GET /other HTTP/1.1\r\n" GOOD_HDRS "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     404, 0, NULL, NULL},
    {"GET /mqtt/ HTTP/1.1\r\n" GOOD_HDRS "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     404, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS "Sec-WebSocket-Protocol: mqtt\r\n"
     "Origin: https://evil.example.com\r\n\r\n",
     403, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS "Sec-WebSocket-Protocol: mqtt\r\n"
     "Origin: https://dash.example.com\r\nOrigin: https://x\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\nHost: moat\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
     "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
     426, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\nHost: moat\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
     "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     426, 0, NULL, NULL},
    {"POST /mqtt HTTP/1.1\r\n" GOOD_HDRS "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.0\r\n" GOOD_HDRS "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET http://moat/mqtt HTTP/1.1\r\n" GOOD_HDRS
     "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    /* a plain GET, no Upgrade */
    {"GET /mqtt HTTP/1.1\r\nHost: moat\r\n\r\n", 400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\nHost: moat\r\nUpgrade: websocket\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    /* Host missing or twice; keys: short, bad characters, twice */
    {"GET /mqtt HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\nHost: a\r\n" GOOD_HDRS
     "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\nHost: moat\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\n"
     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\nHost: moat\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n"
     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
     "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    /* malformed lines: folding, bare LF, no colon, control characters */
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS " folded\r\n"
     "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS "X: a\nY: b\r\n"
     "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS "no colon\r\n"
     "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mqtt HTTP/1.1\r\n" GOOD_HDRS "X: a\x01b\r\n"
     "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
    {"GET /mq\x01tt HTTP/1.1\r\n" GOOD_HDRS
     "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
     400, 0, NULL, NULL},
};

static void test_requests(void)
{
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		const char *s = reqs[i].req;
		size_t n = strlen(s),
		       end = http_head_end((const uint8_t *)s, n, 0);
		struct ws_request rq;
		enum ws_status st;

		CHECK(end == n, "case %zu: header end %zu of %zu", i, end, n);
		st = ws_parse_upgrade((const uint8_t *)s, end, &pol, &rq);
		CHECK((int)st == reqs[i].status, "case %zu: %d, want %d (%s)",
		      i, st, reqs[i].status, rq.why ? rq.why : "-");
		if (st != WS_OK)
			continue;
		CHECK(rq.protocol == reqs[i].proto, "case %zu: protocol %u", i,
		      rq.protocol);
		CHECK(strcmp(rq.key, "dGhlIHNhbXBsZSBub25jZQ==") == 0,
		      "case %zu: key", i);
		CHECK(rq.path_len && rq.path[0] == '/' &&
			  !memchr(rq.path, '?', rq.path_len),
		      "case %zu: path without query", i);
		if (reqs[i].qtok)
			CHECK(rq.query_token &&
				  rq.query_token_len == strlen(reqs[i].qtok) &&
				  !memcmp(rq.query_token, reqs[i].qtok,
					  rq.query_token_len),
			      "case %zu: query token", i);
		else
			CHECK(!rq.query_token, "case %zu: no query token", i);
		if (reqs[i].ctok)
			CHECK(rq.cookie_token &&
				  rq.cookie_token_len == strlen(reqs[i].ctok) &&
				  !memcmp(rq.cookie_token, reqs[i].ctok,
					  rq.cookie_token_len),
			      "case %zu: cookie token", i);
		else
			CHECK(!rq.cookie_token, "case %zu: no cookie token", i);
	}
}

static void test_limits(void)
{
	char big[2048];
	struct ws_request rq;
	size_t n;

	/* over max_header: 431 */
	n = (size_t)snprintf(
	    big, sizeof(big),
	    "GET /mqtt HTTP/1.1\r\n" GOOD_HDRS
	    "Sec-WebSocket-Protocol: mqtt\r\nX-Pad: %01100d\r\n\r\n",
	    0);
	CHECK(ws_parse_upgrade((const uint8_t *)big, n, &pol, &rq) ==
		  WS_TOO_LARGE,
	      "over max_header");
	/* a flood of short header lines within the size: 431 */
	{
		struct ws_policy p2 = pol;
		size_t o;

		p2.max_header = sizeof(big);
		o = (size_t)snprintf(big, sizeof(big),
				     "GET /mqtt HTTP/1.1\r\n" GOOD_HDRS
				     "Sec-WebSocket-Protocol: mqtt\r\n");
		for (int i = 0; i < HTTP_MAX_HEADER_LINES; i++)
			o += (size_t)snprintf(big + o, sizeof(big) - o,
					      "a: b\r\n");
		o += (size_t)snprintf(big + o, sizeof(big) - o, "\r\n");
		CHECK(ws_parse_upgrade((const uint8_t *)big, o, &p2, &rq) ==
			  WS_TOO_LARGE,
		      "too many lines: %s", rq.why);
	}
	/* the end found across a split, byte by byte */
	{
		const char *s = reqs[0].req;
		size_t len = strlen(s), found = 0;

		for (size_t have = 1; have <= len && !found; have++)
			found = http_head_end((const uint8_t *)s, have,
					      have > 4 ? have - 4 : 0);
		CHECK(found == len, "split end %zu", found);
	}
}

static void test_accept(void)
{
	uint8_t in[WS_ACCEPT_INPUT_LEN], h[20];
	char acc[29], resp[512];
	size_t n;

	/* RFC 6455 1.3 */
	ws_accept_input("dGhlIHNhbXBsZSBub25jZQ==", in);
	wc_ShaHash(in, sizeof(in), h);
	ws_accept_encode(h, acc);
	CHECK(strcmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0, "accept %s",
	      acc);
	n = ws_build_accept(resp, sizeof(resp), acc, WS_PROTO_MQTT);
	CHECK(
	    n && strstr(resp, "101 Switching") &&
		strstr(
		    resp,
		    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") &&
		strstr(resp, "Sec-WebSocket-Protocol: mqtt\r\n\r\n"),
	    "101: %s", resp);
	CHECK(ws_build_accept(resp, 10, acc, WS_PROTO_MQTT) == 0, "cap");
	n = ws_build_error(resp, sizeof(resp), WS_UPGRADE_REQUIRED);
	CHECK(n && strstr(resp, "426") &&
		  strstr(resp, "Sec-WebSocket-Version: 13\r\n"),
	      "426");
	n = ws_build_error(resp, sizeof(resp), WS_TOO_LARGE);
	CHECK(n && strstr(resp, " 431 "), "431");
}

/* A masked client frame of opcode op (fin) carrying pl[0..n). */
static size_t mkframe(uint8_t *out, int fin, uint8_t op, const uint8_t *pl,
		      size_t n)
{
	static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
	size_t h = ws_frame_header(out, op, n);

	if (!fin)
		out[0] &= 0x7f;
	out[1] |= 0x80;
	memcpy(out + h, mask, 4);
	for (size_t i = 0; i < n; i++)
		out[h + 4 + i] = pl[i] ^ mask[i & 3];
	return h + 4 + n;
}

/* Feed buf in chunks of `step` bytes: the MQTT bytes out, the events. */
static int run(const uint8_t *buf, size_t n, size_t step, uint8_t *mqtt,
	       size_t *mlen, int *events, int *code)
{
	struct ws_decoder d;
	uint8_t tmp[4096];
	int nev = 0;

	memset(&d, 0, sizeof(d));
	d.max_message = 300;
	*mlen = 0;
	for (size_t off = 0; off < n;) {
		size_t take = n - off < step ? n - off : step, at = 0;

		memcpy(tmp, buf + off, take);
		off += take;
		while (at < take) {
			size_t used, out;
			const char *why;
			enum ws_event ev = ws_unwrap(&d, tmp + at, take - at,
						     &used, &out, code, &why);

			memcpy(mqtt + *mlen, tmp + at, out);
			*mlen += out;
			at += used;
			if (ev != WS_EV_NONE)
				events[nev++] = ev;
			if (ev == WS_EV_ERROR || ev == WS_EV_CLOSE)
				return nev;
			if (ev == WS_EV_NONE && used == 0)
				break;
		}
	}
	return nev;
}

static void test_frames(void)
{
	static const uint8_t pk[] = {0x30, 0x05, 0, 1, 't', 'h', 'i'};
	uint8_t buf[4096], mqtt[4096], big[400] = {0};
	size_t n, mlen;
	int ev[16], code, nev;

	/* one frame, several packets in one frame, split byte by byte */
	n = mkframe(buf, 1, WS_OP_BINARY, pk, sizeof(pk));
	n += mkframe(buf + n, 1, WS_OP_BINARY, pk, sizeof(pk));
	for (size_t step = 1; step <= n; step++) {
		nev = run(buf, n, step, mqtt, &mlen, ev, &code);
		CHECK(nev == 0 && mlen == 2 * sizeof(pk) &&
			  !memcmp(mqtt, pk, sizeof(pk)) &&
			  !memcmp(mqtt + sizeof(pk), pk, sizeof(pk)),
		      "step %zu: %d events, %zu bytes", step, nev, mlen);
	}
	/* a packet split over fragments, a ping and a pong between them */
	n = mkframe(buf, 0, WS_OP_BINARY, pk, 3);
	n += mkframe(buf + n, 1, WS_OP_PING, (const uint8_t *)"hi", 2);
	n += mkframe(buf + n, 0, WS_OP_CONT, pk + 3, 2);
	n += mkframe(buf + n, 1, WS_OP_PONG, NULL, 0);
	n += mkframe(buf + n, 1, WS_OP_CONT, pk + 5, 2);
	n += mkframe(buf + n, 1, WS_OP_BINARY, NULL, 0);
	n += mkframe(buf + n, 1, WS_OP_CLOSE, (const uint8_t *)"\x03\xe8", 2);
	for (size_t step = 1; step <= n; step += 3) {
		nev = run(buf, n, step, mqtt, &mlen, ev, &code);
		CHECK(nev == 3 && ev[0] == WS_EV_PING && ev[1] == WS_EV_PONG &&
			  ev[2] == WS_EV_CLOSE && code == 1000 &&
			  mlen == sizeof(pk) && !memcmp(mqtt, pk, sizeof(pk)),
		      "fragments step %zu: %d events code %d, %zu bytes", step,
		      nev, code, mlen);
	}
	/* errors: each close code, from frames as written (raw) or built
	 * (up to two, masked, zero payload unless pl says) */
	static const struct {
		const char *name;
		int code;
		const char *raw;
		size_t raw_len;
		size_t n_frames;
		struct {
			int fin;
			uint8_t op;
			size_t len;
			const char *pl;
		} f[2];
	} errs[] = {
	    {"unmasked", 1002, "\x82\x01\x10", 3, 0, {{0}}},
	    {"rsv", 1002, "\xc2\x82\0\0\0\0\0\0", 8, 0, {{0}}},
	    {"length not minimal", 1002, "\x82\xfe\0\x05\0\0\0\0\0\0\0\0\0", 13,
	     0, {{0}}},
	    {"text", 1003, NULL, 0, 1, {{1, WS_OP_TEXT, 2, NULL}}},
	    {"text fragment", 1003, NULL, 0, 1, {{0, WS_OP_TEXT, 2, NULL}}},
	    {"too big", 1009, NULL, 0, 1, {{1, WS_OP_BINARY, 301, NULL}}},
	    {"message too big", 1009, NULL, 0, 2,
	     {{0, WS_OP_BINARY, 200, NULL}, {1, WS_OP_CONT, 101, NULL}}},
	    {"cont first", 1002, NULL, 0, 1, {{1, WS_OP_CONT, 2, NULL}}},
	    {"binary in message", 1002, NULL, 0, 2,
	     {{0, WS_OP_BINARY, 2, NULL}, {1, WS_OP_BINARY, 2, NULL}}},
	    {"ctl fragmented", 1002, NULL, 0, 1, {{0, WS_OP_PING, 2, NULL}}},
	    {"ctl too long", 1002, NULL, 0, 1, {{1, WS_OP_PING, 126, NULL}}},
	    {"opcode 3", 1002, NULL, 0, 1, {{1, 3, 2, NULL}}},
	    {"opcode 0xb", 1002, NULL, 0, 1, {{1, 0xb, 2, NULL}}},
	    {"close 1 byte", 1002, NULL, 0, 1, {{1, WS_OP_CLOSE, 1, NULL}}},
	    {"close code 1005", 1002, NULL, 0, 1,
	     {{1, WS_OP_CLOSE, 2, "\x03\xed"}}},
	};
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		n = errs[i].raw_len;
		memcpy(buf, errs[i].raw ? errs[i].raw : "", n);
		for (size_t k = 0; k < errs[i].n_frames; k++)
			n += mkframe(buf + n, errs[i].f[k].fin, errs[i].f[k].op,
				     errs[i].f[k].pl
					 ? (const uint8_t *)errs[i].f[k].pl
					 : big,
				     errs[i].f[k].len);
		nev = run(buf, n, 1, mqtt, &mlen, ev, &code);
		CHECK(nev >= 1 && ev[nev - 1] == WS_EV_ERROR &&
			  code == errs[i].code,
		      "%s: %d events, code %d", errs[i].name, nev, code);
	}
	/* 64-bit length form and a close without status */
	{
		struct ws_decoder d;
		uint8_t f[16] = {0x82, 0xff, 0, 0, 0, 0, 0,
				 1,    0,    0, 0, 0, 0, 0};
		size_t used, out;
		const char *why;

		memset(&d, 0, sizeof(d));
		d.max_message = 1u << 20;
		CHECK(ws_unwrap(&d, f, 14, &used, &out, &code, &why) ==
			      WS_EV_NONE &&
			  used == 14 && d.left == 65536,
		      "64-bit length");
		n = mkframe(buf, 1, WS_OP_CLOSE, NULL, 0);
		memset(&d, 0, sizeof(d));
		CHECK(ws_unwrap(&d, buf, n, &used, &out, &code, &why) ==
			      WS_EV_CLOSE &&
			  code == 1005,
		      "close without status");
		/* after the close, nothing more is taken as data */
		n = mkframe(buf, 1, WS_OP_BINARY, pk, 2);
		CHECK(ws_unwrap(&d, buf, n, &used, &out, &code, &why) ==
			      WS_EV_NONE &&
			  out == 0 && used == n,
		      "after close");
	}
	/* a long payload unmasked right however the reads fall (the mask
	 * applied eight bytes at a time once aligned) */
	{
		static uint8_t pl[1000], lbuf[1100], lout[1100];
		size_t ln, lm;
		struct ws_decoder d;

		for (size_t i = 0; i < sizeof(pl); i++)
			pl[i] = (uint8_t)(i * 7 + 3);
		ln = mkframe(lbuf, 1, WS_OP_BINARY, pl, sizeof(pl));
		for (size_t step = 1; step <= 23; step++) {
			uint8_t tmp[1100];

			memset(&d, 0, sizeof(d));
			d.max_message = 4096;
			lm = 0;
			for (size_t off = 0; off < ln; off += step) {
				size_t take = ln - off < step ? ln - off : step;
				size_t used, out;
				const char *why;

				memcpy(tmp, lbuf + off, take);
				ws_unwrap(&d, tmp, take, &used, &out, &code, &why);
				memcpy(lout + lm, tmp, out);
				lm += out;
			}
			CHECK(lm == sizeof(pl) && !memcmp(lout, pl, lm),
			      "long payload, step %zu: %zu bytes", step, lm);
		}
	}
	/* server frame headers */
	CHECK(ws_frame_header(buf, WS_OP_BINARY, 125) == 2 && buf[0] == 0x82 &&
		  buf[1] == 125,
	      "short");
	CHECK(ws_frame_header(buf, WS_OP_BINARY, 126) == 4 && buf[1] == 126 &&
		  buf[3] == 126,
	      "16-bit");
	CHECK(ws_frame_header(buf, WS_OP_BINARY, 70000) == 10 &&
		  buf[1] == 127 && buf[7] == 1,
	      "64-bit");
	CHECK(ws_build_close(buf, 1001) == 4 && buf[0] == 0x88 && buf[2] == 3 &&
		  buf[3] == 0xe9,
	      "close 1001");
}

int main(void)
{
	test_requests();
	test_limits();
	test_accept();
	test_frames();
	return test_done("ws");
}
