/* ws.h - MQTT over WebSocket (RFC 6455; MQTT 3.1.1 and 5.0 section 6):
 * the HTTP/1.1 upgrade request a client opens with, the answers to it,
 * and the frames that follow. Pure functions over buffers, bounded,
 * fuzzed (tests/fuzz/fuzz_ws_upgrade.c, fuzz_ws_frame.c). The SHA-1 of
 * Sec-WebSocket-Accept is the caller's (wolfSSL, in conn). */
#ifndef MOAT_WS_H
#define MOAT_WS_H

#include <stddef.h>
#include <stdint.h>

#include "codec/http_req.h"

/* Subprotocols (MQTT section 6: "mqtt"; "mqttv3.1" for MQIsdp clients). */
#define WS_PROTO_MQTT 1u
#define WS_PROTO_MQTTV31 2u

/* What a listener accepts. Lists are of NUL-terminated strings. */
struct ws_policy {
	char *const *paths; /* exact paths (the query string aside) */
	size_t n_paths;
	char *const *origins; /* allowed Origin values; none: any */
	size_t n_origins;
	unsigned protocols; /* WS_PROTO_* accepted */
	size_t max_header;  /* request line and headers, bytes */
};

/* The verdict on a request, as its HTTP status. */
enum ws_status {
	WS_OK = 101,
	WS_BAD_REQUEST = 400,
	WS_FORBIDDEN = 403,	   /* Origin not allowed */
	WS_NOT_FOUND = 404,	   /* path not served */
	WS_UPGRADE_REQUIRED = 426, /* version other than 13 */
	WS_TOO_LARGE = 431, /* headers over max_header or too many lines */
};

/* A request once parsed. Pointers point into the caller's buffer. */
struct ws_request {
	const char *path; /* the request target without its query */
	size_t path_len;
	char key[25];		 /* Sec-WebSocket-Key, 24 base64 characters */
	unsigned protocol;	 /* the one chosen: WS_PROTO_MQTT or _MQTTV31 */
	const char *query_token; /* ?access_token= (RFC 6750 2.3), or NULL */
	size_t query_token_len;
	const char *cookie_token; /* Cookie access_token=, or NULL */
	size_t cookie_token_len;
	const char *why; /* static detail of a refusal, for the log */
};

/* Parse the whole header block p[0..n) (n = http_head_end's answer, codec/http_req.h) of an
 * opening handshake against pol: WS_OK with *rq filled, or the status to
 * answer with rq->why saying why. */
enum ws_status ws_parse_upgrade(const uint8_t *p, size_t n,
				const struct ws_policy *pol,
				struct ws_request *rq);

/* Sec-WebSocket-Accept: the caller hashes ws_accept_input's 60 bytes
 * (key + RFC 6455's GUID) with SHA-1 and ws_accept_encode gives the
 * 28 base64 characters (and a NUL). */
#define WS_ACCEPT_INPUT_LEN 60
void ws_accept_input(const char key[25], uint8_t out[WS_ACCEPT_INPUT_LEN]);
void ws_accept_encode(const uint8_t sha1[20], char out[29]);

/* The 101 answer (accept: 28 characters, protocol chosen), or an error
 * answer of that status. Return the length, or 0 when cap is too small. */
size_t ws_build_accept(char *out, size_t cap, const char *accept,
		       unsigned protocol);
size_t ws_build_error(char *out, size_t cap, enum ws_status st);

/* ---- frames ---- */

/* Close codes (RFC 6455 7.4.1). */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_GOING_AWAY 1001
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_UNSUPPORTED 1003
#define WS_CLOSE_NO_STATUS 1005
#define WS_CLOSE_POLICY 1008
#define WS_CLOSE_TOO_BIG 1009

/* The longest frame header: 2 + 8 (length) + 4 (mask). Server frames
 * have no mask: at most WS_SERVER_HEADER_MAX. */
#define WS_HEADER_MAX 14
#define WS_SERVER_HEADER_MAX 10

/* The client's frames, decoded as they arrive, a header possibly split
 * over reads. Zero it, then set max_message. */
struct ws_decoder {
	uint64_t max_message; /* a frame's or a whole message's payload */
	uint64_t left;	      /* payload bytes left in the current frame */
	uint64_t msg_len;     /* payload so far of the binary message */
	uint8_t hdr[WS_HEADER_MAX];
	uint8_t hlen;	    /* header bytes gathered */
	uint8_t opcode;	    /* of the current frame */
	uint8_t in_frame;   /* a header was read; payload follows */
	uint8_t in_message; /* a fragmented binary message is open */
	uint8_t closed;	    /* a close frame was read: nothing after it */
	uint8_t mask[4];
	uint8_t mpos;	 /* where in the mask the payload stands */
	uint8_t ctl_len; /* control frame payload gathered */
	uint8_t ctl[125];
};

enum ws_event {
	WS_EV_NONE = 0, /* all input taken */
	WS_EV_PING,	/* answer with a pong of ctl[0..ctl_len) */
	WS_EV_PONG,	/* nothing to do */
	WS_EV_CLOSE,	/* the client closes: *code its status (or 1005) */
	WS_EV_ERROR,	/* close with *code: 1002, 1003 or 1009 */
};

/* Decode frames from p[0..n). The payload of binary (and continuation)
 * frames is unmasked and moved to the front of p: p[0..*out) is MQTT for
 * the broker (moving it is safe: the payload never overtakes its input).
 * Stops after a control frame (its event), an error, or at the end of the
 * input (WS_EV_NONE); *used is what was consumed. Call again with p+used
 * for the rest. On WS_EV_ERROR *code is the close code and *why static
 * text for the log. */
enum ws_event ws_unwrap(struct ws_decoder *d, uint8_t *p, size_t n,
			size_t *used, size_t *out, int *code, const char **why);

/* Build the header of one unmasked final frame of this opcode and payload
 * length into out (at most WS_SERVER_HEADER_MAX bytes); its length. */
#define WS_OP_CONT 0x0
#define WS_OP_TEXT 0x1
#define WS_OP_BINARY 0x2
#define WS_OP_CLOSE 0x8
#define WS_OP_PING 0x9
#define WS_OP_PONG 0xA
size_t ws_frame_header(uint8_t *out, uint8_t opcode, uint64_t len);

/* A whole close frame with this code (4 bytes). */
size_t ws_build_close(uint8_t out[4], uint16_t code);

#endif
