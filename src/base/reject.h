/* reject.h - why moat refuses a client, and what the client is told: one
 * table of causes with their names (counters, logs, /metrics), the TLS
 * alert a handshake failure of that cause sends, and the CONNACK reason
 * code for MQTT 3.1/3.1.1 and for MQTT 5 (the contract's reject table).
 * Every layer that refuses a client names the cause from here. */
#ifndef MOAT_REJECT_H
#define MOAT_REJECT_H

#include <stdint.h>

enum reject_cause {
	REJ_NO_CERT,
	REJ_UNKNOWN_CA,
	REJ_BAD_CERT,
	REJ_CERT_EXPIRED,
	REJ_CERT_NOT_YET_VALID,
	REJ_CERT_REVOKED,
	REJ_TLS_ERROR,
	REJ_HANDSHAKE_TIMEOUT,
	REJ_CONNECT_TIMEOUT,
	REJ_BAD_CONNECT,
	REJ_BAD_PROTOCOL,
	REJ_PACKET_TOO_LARGE,
	REJ_CLIENT_ID_MISMATCH,
	REJ_NO_IDENTITY,
	REJ_NO_SERVER,
	REJ_MAX_CONNECTIONS,
	REJ_OCSP_UNKNOWN,	/* require: the responder does not know it */
	REJ_OCSP_UNAVAILABLE,	/* require: no answer (down, slow, bad) */
	REJ_OCSP_NO_URL,	/* require: no AIA OCSP URL, no override */
	REJ_BAD_PROXY,		/* PROXY protocol header missing or malformed */
	REJ_PER_SOURCE,		/* limits.per_source reached */
	REJ_CRL_EXPIRED,	/* crl_expired: reject, and a CRL is past it */
	REJ_TOKEN_MISSING,	/* a token is needed, the password is empty */
	REJ_TOKEN_INVALID,	/* malformed, bad signature, alg, kid, key */
	REJ_TOKEN_EXPIRED,	/* exp passed or nbf not reached (leeway) */
	REJ_TOKEN_CLAIMS,	/* iss, aud or the identity claim wrong */
	REJ_TOKEN_EXPIRED_LIVE, /* a forwarding session's token ran out */
	REJ_AUTH_METHOD,	/* MQTT 5 enhanced auth, not passed through */
	REJ_PROTOCOL_VIOLATION, /* after the CONNECT: a second CONNECT, an
				   AUTH, a server-to-client packet */
	REJ_CERT_EXPIRED_LIVE,  /* a live session's certificate passed
				   notAfter */
	REJ_ENROLL_ONLY,        /* a claim certificate, or one in
				   renew_grace, did more than enroll */
	/* MQTT over WebSocket: the upgrade refused with an HTTP status, or
	 * the stream closed with a WebSocket close code */
	REJ_WS_BAD_REQUEST,	  /* 400: not a valid upgrade (a plain GET) */
	REJ_WS_VERSION,		  /* 426: Sec-WebSocket-Version other than 13 */
	REJ_WS_PATH,		  /* 404: a path the listener does not serve */
	REJ_WS_ORIGIN,		  /* 403: an Origin not in websocket.origins */
	REJ_WS_HEADERS_TOO_LARGE, /* 431: over max_header */
	REJ_WS_PROTOCOL,	  /* close 1002/1003/1009: a frame refused */
	REJ_ACL_PUBLISH,      /* a PUBLISH denied by the topic rules */
	REJ_ACL_SUBSCRIBE,    /* a SUBSCRIBE filter denied */
	REJ_ACL_WILL,         /* the CONNECT's will topic denied */
	REJ_ACL_LIVE,         /* a live subscription denied by new rules */
	REJ_RATE_LIMIT,       /* mqtt.rate.disconnect_over reached */
	/* EST (mqtt.enroll.est): a request refused at the HTTP level, with
	 * its status; refusals of the enrollment itself are enroll outcomes */
	REJ_EST_BAD_REQUEST,  /* 400 malformed, 404, 405, 411 */
	REJ_EST_TOO_LARGE,    /* 413 body, 431 head */
	REJ_EST_UNAUTHORIZED, /* 401: no certificate and no token */
	REJ_EST_TIMEOUT,      /* no whole request within connect_timeout */
	REJ__COUNT
};

/* No CONNACK for this cause (TLS alert, or a plain close). */
#define REJECT_NO_CONNACK (-1)

struct reject_info {
	const char *name;  /* counters, logs, /metrics cause="" */
	const char *alert; /* the TLS alert sent, or NULL: none */
	int16_t connack3;  /* MQTT 3.1/3.1.1 return code, or -1 */
	int16_t connack5;  /* MQTT 5 reason code, or -1 */
};

const struct reject_info *reject_info(enum reject_cause r);

/* The cause's name; "unknown" out of range. */
const char *reject_name(enum reject_cause r);

/* The CONNACK code for a client of protocol level `version` (0: not yet
 * known, 5: MQTT 5, else 3.x), or REJECT_NO_CONNACK. */
int reject_connack(enum reject_cause r, uint8_t version);

#endif
