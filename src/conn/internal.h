/* internal.h - what the stages of src/conn share and nothing outside
 * sees: struct conn and the one function each stage offers to the next.
 * The stages, in the order a connection goes through them:
 *   accept.c    accept, limits, the PROXY header, per-source admission
 *   handshake.c the TLS handshake (and OCSP of the client's certificate)
 *   ws.c        on a websocket: listener, the upgrade request; then the
 *               frames unwrapped before, and wrapped after, what follows
 *   est.c       on an mqtt.enroll.est listener, a connection that opens
 *               with an HTTP request instead of a CONNECT: EST, answered
 *               by moat (enroll_ask.c decides and signs), then closed
 *   connect.c   the CONNECT: grammar, version, identity, which brokers
 *   upstream.c  the broker connect, fail-over, the CONNECT forwarded
 *   splice.c    bytes both ways, MQTT framing checked, half-closes
 *   close.c     rejects, flush-then-close, the one close path
 * conn.c moves a connection along (conn_advance, timeouts), io.c reads and
 * writes sockets with backpressure, revoke.c closes revoked live sessions,
 * walk.c walks a direction packet by packet for acl.c and acl_rules.c
 * (topic rules) and enroll.c (renewal over MQTT), rate.c paces reads. */
#ifndef MOAT_CONN_INTERNAL_H
#define MOAT_CONN_INTERNAL_H

#include <stdint.h>
#include <uv.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>

#include "base/dial.h"
#include "base/scratch.h"
#include "base/util.h"
#include "codec/mqtt.h"
#include "codec/ws.h"
#include "core/moat.h"
#include "tls/ocsp.h"
#include "tls/tls.h"
#include "upstream/server.h"
#include "conn/conn.h"

/* Stop reading one side while the other side has more than this queued. */
#define WQ_HIGH (256 * 1024)
#define WQ_LOW (64 * 1024)
/* Bytes a client may pipeline after its CONNECT before the broker is up. */
#define PIPELINE_MAX (64 * 1024)
/* How long a rejected client gets to read its alert or CONNACK. */
#define FLUSH_TIMEOUT_MS 2000

/* This worker's counter slots of the connection's server and upstream:
 * written by this thread only, summed by readers (server_sum). */
#define SRV_CTR(c) (&(c)->srv->ctr[(c)->moat->idx])
#define UP_CTR(c) (&(c)->up->ctr[(c)->moat->idx])

/* walk.c: one direction packet by packet (topic rules, enrollment). A
 * packet's start longer than WALK_HOLD (a topic over about 4 KiB, a
 * SUBSCRIBE or SUBACK over it) cannot be judged and ends the session. */
#define WALK_HOLD 4096
struct walk {
	uint8_t *hold; /* a packet's start split across reads; WALK_HOLD
			  bytes, allocated at the first split */
	uint32_t hlen;
	uint32_t want; /* what the gathered start needs, as last known */
	uint32_t left; /* bytes of the current packet still to come */
	uint8_t mode;  /* and where they go: WALK_PASS, _TAKE, else dropped */
};
enum { WALK_PASS, WALK_DROP, WALK_REPLACE, WALK_STOP, WALK_TAKE };
struct conn;
/* Where passed bytes go; <0: the connection is closing. */
typedef int (*walk_sink)(struct conn *c, const uint8_t *p, size_t n);
struct walk_ops {
	/* bits (1 << type) of the packets to judge whole, now */
	uint16_t (*whole)(struct conn *c);
	/* how much of a PUBLISH's topic to see, now (NULL: all of it) */
	size_t (*topic)(struct conn *c);
	/* a packet's start pre (pk->need bytes): WALK_PASS, WALK_DROP,
	 * WALK_REPLACE (out[0..*outlen) goes instead), WALK_TAKE (the whole
	 * packet goes to take as it comes, then taken), WALK_STOP (the
	 * connection is being closed) or an MQTT_E_ code for bad (what
	 * came before the packet is passed on first) */
	int (*judge)(struct conn *c, const uint8_t *pre,
		     const struct mqtt_peek *pk, uint8_t *out, size_t cap,
		     size_t *outlen);
	/* a start that cannot be judged (MQTT_E_TOO_LARGE, _MALFORMED), or
	 * the judge's MQTT_E_ code */
	void (*bad)(struct conn *c, int err);
	walk_sink sink;
	/* WALK_TAKE (NULL if never): the packet's bytes, then its end; 0 or
	 * -1 (the session ended) */
	int (*take)(struct conn *c, const uint8_t *p, size_t n);
	int (*taken)(struct conn *c);
};
/* 0, or -1 when the connection is closing. *given (may be NULL): the
 * bytes of packets judged other than WALK_TAKE that this call consumed. */
int walk_feed(struct conn *c, struct walk *w, const uint8_t *p, size_t n,
	      const struct walk_ops *ops, size_t *given);
bool walk_at_boundary(const struct walk *w);
void walk_free(struct walk *w);

enum conn_state {
	CS_HANDSHAKE, /* TLS handshake under handshake_timeout */
	CS_WS,        /* WebSocket upgrade request, under connect_timeout */
	CS_CONNECT,   /* reading the CONNECT under connect_timeout */
	CS_EST,       /* an EST request (HTTP) instead, same deadline */
	CS_UPSTREAM,  /* connecting to a broker (fail-over possible) */
	CS_SPLICE,    /* forwarding both ways */
	CS_CLOSING,   /* flushing the last bytes, then closing */
	CS_CLOSED,    /* handles closing; freed when the last one is */
};

enum { SIDE_CLIENT = 0, SIDE_UPSTREAM = 1 };

#define CONN_MAX_TRIES 8

/* A connection of a `websocket:` listener (ws.c). */
struct conn_ws {
	struct ws_decoder dec; /* the client's frames */
	uint8_t *hbuf;         /* the upgrade request until answered */
	size_t hlen, hcap;
	uint8_t upgraded;      /* 101 sent: MQTT travels in frames */
	uint8_t close_sent;    /* our close frame is out: nothing after it */
	uint16_t close_code;   /* what our close frame will say */
	char *qtok, *ctok;     /* access token from the query / cookie,
				  kept until the CONNECT is checked */
	char detail[160];      /* a refusal's detail for the log */
};

/* What a connection needs only until it forwards, from accept to the
 * broker's connect: allocated with it, freed when it starts forwarding or
 * becomes an enroll-only session (conn_setup_free), so that an idle
 * session does not carry it. */
struct conn_setup {
	struct conn *c;
	struct dial dial; /* over srv's addresses, lent upstream and timer */
	struct ocsp_waiter ocsp_w; /* queued while OCSP is being fetched */
	uint8_t *phdr;		   /* PROXY header bytes while it is awaited */
	size_t phdr_len;
	uint8_t *cbuf; /* CONNECT (and what follows it) until forwarded */
	size_t clen, ccap;
	size_t connect_len; /* length of the CONNECT at the start of cbuf */
	struct server *order[CONN_MAX_TRIES];
	uint8_t tries, n_order;
};

struct conn {
	uint64_t id;
	struct moat *moat;
	struct listener *li;            /* referenced: counters */
	struct gen *gen;                /* referenced: what this runs on */
	const struct cfg_listener *lcfg; /* in gen */
	struct upstream *up;            /* in gen */
	struct server *srv; /* the broker, once chosen */
	struct conn *next, *prev;
	enum conn_state state;
	uint8_t version;    /* MQTT protocol level, 0 until known */
	uint8_t handles;    /* libuv handles still open */
	uint8_t reading[2]; /* read started on that side */
	uint8_t eof[2];     /* that side has finished sending */
	uint8_t upstream_open;
	uint8_t srv_active;    /* counted in srv's active connections */
	uint8_t closing_flush; /* close once the client queue is flushed */
	uint8_t proxy_wait;    /* a PROXY protocol header comes first */
	uint8_t corked;        /* client writes gather in cork (one write) */
	uint16_t cork_len, cork_cap;
	uint32_t client_max; /* MQTT 5 Maximum Packet Size of the client's
				CONNECT, 0 = none: moat's own packets fit */
	uint8_t say_goodbye;   /* DISCONNECT with this reason at the next
				  boundary (0x8B stopping, 0x87 revoked) */
	uint8_t token_pw;      /* the token was the password: not forwarded */
	struct conn_ws *ws;    /* MQTT over WebSocket, or NULL (TCP) */
	struct conn_setup *su; /* until forwarding, then NULL */
	struct conn_est *est;  /* an EST request being read, or NULL */
	uv_tcp_t client;
	uv_tcp_t upstream;
	uv_timer_t timer;
	union util_addr peer; /* the client (or what its PROXY header says) */
	WOLFSSL *ssl;
	struct tls_io io;
	struct tls_peer cert;
	struct enroll *enr; /* mqtt.enroll on: the client's packets walked
			       (enroll.c); NULL otherwise */
	struct ocsp_entry *ocsp_e; /* the leaf's answer, held while open */
	uint8_t *cork;		   /* client bytes held while corked */
	struct src_entry *src; /* per-source accounting, held until close */
	size_t wq[2];	       /* bytes queued for writing to that side */
	struct mqtt_framer fr[2]; /* packets from the client / from the broker */
	struct walk *in; /* the client's packets, walked when topic rules or
			    enrollment judge them (splice.c); allocated at
			    the first, so that other sessions carry none */
	char *client_id;
	char *token_ident;   /* the token's identity claim (via=token) */
	int64_t token_end;   /* exp + leeway of that token, epoch seconds */
	const char *why;     /* a reject's detail for the log (static text) */
	const char *bye_why; /* the DISCONNECT's Reason String, if not the
				default for say_goodbye */
	struct conn_acl *acl; /* topic rules in force, NULL = none */
	struct conn_rate *rate; /* mqtt.rate, NULL = none */
	struct jwt_doc *token_doc;    /* the token's claims until the rules
					 are expanded (mqtt.acl), else NULL */
	uint64_t bytes_in, bytes_out; /* from the client / to the client */
	uint64_t start_ms;
	uint64_t t0_ns; /* accept, then the start of the broker connect */
};

static inline int conn_v5(const struct conn *c)
{
	return c->version == MQTT_V5;
}

/* conn.c: moving on */
void conn_advance(struct conn *c);
void conn_on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
void conn_on_timeout(uv_timer_t *t);
void conn_peer_str(const struct conn *c, char *buf, size_t len);
const char *conn_state_name(enum conn_state s);

/* close.c: what only the setup needed goes (struct conn_setup) */
void conn_setup_free(struct conn *c);

/* io.c: sockets */
void conn_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
void conn_read_start(struct conn *c, int side);
void conn_read_stop(struct conn *c, int side);
/* Write to one side, straight to the socket when nothing is queued;
 * over WQ_HIGH queued, the other side stops being read. 0 or UV_E... */
int conn_write(struct conn *c, int side, const uint8_t *p, size_t n);

/* Send what gathered while corked, in one write, and stop corking. */
void conn_uncork(struct conn *c);

/* accept.c: the client's address is known (socket or PROXY header):
 * per-source limits, then the TLS session. -1: closed. */
int conn_admit(struct conn *c);
/* Bytes before the ClientHello: 1 go on (io.rx past the header), 0 more
 * needed, -1 refused. */
int conn_proxy_read(struct conn *c, const uint8_t *p, size_t n);

/* handshake.c */
int conn_handshake_start(struct conn *c);
int conn_handshake_step(struct conn *c);

/* connect.c: buffer the CONNECT (and what is pipelined behind it); check
 * it once whole: 1 moved on or rejected, 0 more bytes needed. */
int conn_connect_buffer(struct conn *c, const uint8_t *p, size_t n);
int conn_connect_check(struct conn *c);


/* revoke.c: end a live session moat no longer vouches for (revoked
 * certificate, expired token): MQTT 5 DISCONNECT 0x87 with `why` at a
 * packet boundary, else close. */
void conn_end_live(struct conn *c, const char *why);
/* The same with another MQTT 5 reason code. */
void conn_end_live_rc(struct conn *c, uint8_t rc, const char *why);
/* revoke.c: the session forwards; end it when its token runs out or its
 * certificate passes notAfter, whichever is first (cert_expired_live,
 * token_expired_live). */
void conn_live_watch(struct conn *c);

/* ws.c: the WebSocket stage of a `websocket:` listener. */
int conn_ws_init(struct conn *c); /* c->ws for such a listener; -1 ENOMEM */
void conn_ws_free(struct conn *c);
void conn_ws_drop_tokens(struct conn *c);
/* Enter CS_WS: the upgrade request comes next, under connect_timeout. */
void conn_ws_start(struct conn *c);
/* Plaintext from the client in p[0..n): the request, then frames. MQTT
 * bytes are moved to p[0..ret); *eof when the client sent its close.
 * -1: closed or refused. */
int conn_ws_in(struct conn *c, uint8_t *p, size_t n, int *eof);
/* The client's close frame is in (and what came before it handed on). */
void conn_ws_closed(struct conn *c);
/* To the client: plaintext (TLS or socket); MQTT (one binary frame on
 * an upgraded WebSocket, p with WS_SERVER_HEADER_MAX bytes of room before
 * it for conn_tx_framed); the end (close frame, close_notify). */
int conn_tx(struct conn *c, const uint8_t *p, size_t n);
int conn_tx_framed(struct conn *c, uint8_t *p, size_t n);
int conn_tx_mqtt(struct conn *c, const uint8_t *p, size_t n);
void conn_tx_end(struct conn *c);

/* est.c: EST (RFC 7030) on an mqtt.enroll.est listener. The first
 * plaintext byte after the handshake (CS_CONNECT, nothing buffered): 1
 * when it opens an HTTP request that EST answers (then CS_EST). */
int conn_est_wants(const struct conn *c, uint8_t first);
/* Plaintext of CS_EST: gathered until the request is whole, answered,
 * closed. What follows the request is never read. */
void conn_est_in(struct conn *c, const uint8_t *p, size_t n);
/* The request deadline (connect_timeout) struck: 408, closed. */
void conn_est_timeout(struct conn *c);
void conn_est_free(struct conn *c);

/* connect.c: an access token (tok NULL: none shown) checked against the
 * listener's JWK Set: 0 (c->token_ident set), 1 refused (*cause, c->why),
 * -1 out of memory. Whether this client must show one (mqtt.token.when). */
int conn_token_check(struct conn *c, const char *tok, size_t tlen,
		     enum reject_cause *cause);
int conn_token_needed(const struct conn *c);

/* upstream.c: try the brokers in c->su->order from c->su->tries on. */
void conn_upstream_try(struct conn *c);
/* Close the broker's handle, connected or still being dialed. */
void conn_upstream_close(struct conn *c);

/* acl.c: topic rules. At CONNECT (after the identity is known): the
 * rules expanded for this client, the will checked; 0 go on, -1 refused
 * (answered). */
int conn_acl_connect(struct conn *c, const struct mqtt_connect *mc,
		     const char *ident, const char *username);
/* The client's packets (splice.c walks them): what to see whole, a
 * packet's judgement (walk_ops), the session is ending. */
uint16_t conn_acl_whole_in(struct conn *c);
int conn_acl_judge_in(struct conn *c, const uint8_t *pre,
		      const struct mqtt_peek *pk, uint8_t *out, size_t cap,
		      size_t *outlen);
bool conn_acl_stopped(const struct conn *c);
/* Broker bytes to the client (SUBACKs merged, moat's answers slipped in
 * between packets): 0 or -1 (closing). */
int conn_acl_out(struct conn *c, const uint8_t *p, size_t n);
/* The broker's stream to the client is between packets: moat's own
 * answers may go now. */
bool conn_acl_out_boundary(const struct conn *c);
void conn_acl_flush(struct conn *c);
/* moat's answers pile up (the broker's stream is mid-packet): the client
 * is not read until they are out. */
bool conn_acl_held(const struct conn *c);
void conn_acl_free(struct conn *c);

/* rate.c: mqtt.rate. At accept: the buckets and their timer (one more
 * handle). After each read from the client: n bytes of which the framer
 * counted its PUBLISHes; reads pause while a bucket is in debt. 0, or -1
 * when the session ends (disconnect_over). */
int conn_rate_init(struct conn *c);
int conn_rate_account(struct conn *c, size_t n);
/* Reading the client is held back by the rate (conn_read_start obeys). */
bool conn_rate_paused(const struct conn *c);
void conn_rate_close(struct conn *c);

/* splice.c: client bytes to the broker: walked packet by packet when
 * topic rules or enrollment judge them, else as they come. */
int conn_splice_in(struct conn *c, const uint8_t *p, size_t n);
/* The packet types a client may not send once admitted (accept time). */
void conn_splice_init(struct conn *c);
void conn_client_eof(struct conn *c);
void conn_on_upstream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

/* enroll_ask.c: who may ask for a certificate, and asking (MQTT and
 * EST). */
struct enroll_ask {
	int outcome;        /* enum enroll_outcome */
	const char *kind;   /* "renew" or "enroll" */
	const char *why;    /* a refusal's detail (static, or buf) */
	char buf[160];
	struct issued *out; /* the certificate, once signed; the caller
			       frees it */
};
/* The listener's generation has an issuing CA: it, or NULL. */
struct issuer *conn_issuer(const struct conn *c);
int conn_enroll_on(const struct conn *c);
/* The authenticated identity (the token's, else the certificate's). */
const char *conn_identity(const struct conn *c);
/* A certificate in renew_grace that a CRL revokes (refused: the
 * handshake could not check it). */
int conn_grace_revoked(const struct conn *c);
/* May this session ask (renew_only: EST simplereenroll)? 0 with a->kind,
 * or -1 with a->outcome and a->why. */
int conn_enroll_may(const struct conn *c, int renew_only,
		    struct enroll_ask *a);
/* Sign the request req[0..n) (DER or PEM) for the identity: a->outcome,
 * a->out. 0, or -1 out of memory. */
int conn_enroll_sign(struct conn *c, const uint8_t *req, size_t n,
		     struct enroll_ask *a);
/* Count a->outcome (est: also as EST) and log it (cert_issued or
 * enroll_rejected). */
void conn_enroll_done(struct conn *c, int est, const struct enroll_ask *a);

/* enroll.c: certificate renewal over MQTT (mqtt.enroll). */
enum enroll_only { ENROLL_ONLY_NONE, ENROLL_ONLY_CLAIM, ENROLL_ONLY_GRACE };
/* The session starts forwarding: walk its packets (0, -1 no memory). */
int conn_enroll_start(struct conn *c);
void conn_enroll_free(struct conn *c);
/* The client's packets (splice.c walks them): what to see whole and
 * how much of a topic; a packet's judgement: WALK_PASS (not moat's),
 * WALK_TAKE (held and answered: take its bytes, then taken) or WALK_STOP. */
uint16_t conn_enroll_whole(struct conn *c);
size_t conn_enroll_topic(struct conn *c);
int conn_enroll_judge(struct conn *c, const uint8_t *pre,
		      const struct mqtt_peek *pk);
int conn_enroll_take(struct conn *c, const uint8_t *p, size_t n);
int conn_enroll_taken(struct conn *c);
/* Replies held for a boundary of the broker's stream: send them now if
 * it is at one. */
void conn_enroll_flush(struct conn *c);
/* After the CONNECT's checks: a claim certificate or one in renew_grace
 * gets an enroll-only session (CONNACK from moat, no broker): 1 taken
 * (or closed), 0 not such a session. */
int conn_enroll_only(struct conn *c);
/* When the session must end: end (the token's or certificate's), or an
 * enroll-only session's own end. */
int64_t conn_enroll_deadline(const struct conn *c, int64_t end);
/* enum enroll_only of the session (0: none). */
int conn_enroll_kind(const struct conn *c);

/* close.c: every exit */
void conn_on_handle_closed(uv_handle_t *h);
/* Close every handle now; freed by the last close callback. */
void conn_close(struct conn *c, const char *why);
/* Drop the broker, flush what is queued for the client, then close. */
void conn_finish(struct conn *c);
void conn_linger_start(struct conn *c);
/* The reject log's rate limit of a cause: 1 log this one, 0 suppressed
 * (counted, summed up a second later). */
int conn_reject_log_allowed(struct moat *m, enum reject_cause why);
/* Count, log, answer with CONNACK `code` (REJECT_NO_CONNACK: none) and
 * finish. */
void conn_reject(struct conn *c, enum reject_cause why, int code);
/* The cause's own CONNACK for this client's version (reject.c's table). */
void conn_refuse(struct conn *c, enum reject_cause why);
/* MQTT 5 DISCONNECT with c->say_goodbye at a packet boundary, then finish. */
void conn_goodbye(struct conn *c);

#endif
