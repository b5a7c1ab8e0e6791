/* conn.h - one proxied device: the client's TLS session, its CONNECT, the
 * broker connection, and the bytes in flight between them. The life of a
 * connection is the state enum below; conn.c moves it from one state to the
 * next in one place (conn_advance) and closes it through one path. */
#ifndef MOAT_CONN_H
#define MOAT_CONN_H

#include <stdint.h>
#include <uv.h>

#include "core/moat.h"
#include "codec/mqtt.h"
#include "tls/ocsp.h"
#include "tls/tls.h"
#include "base/util.h"
#include "upstream/server.h"

enum conn_state {
	CS_HANDSHAKE, /* TLS handshake under handshake_timeout */
	CS_CONNECT,   /* reading the CONNECT under connect_timeout */
	CS_UPSTREAM,  /* connecting to a broker (fail-over possible) */
	CS_SPLICE,    /* forwarding both ways */
	CS_CLOSING,   /* flushing the last bytes, then closing */
	CS_CLOSED,    /* handles closing; freed when the last one is */
};

enum { SIDE_CLIENT = 0, SIDE_UPSTREAM = 1 };

#define CONN_MAX_TRIES 8

struct conn {
	uint64_t id;
	struct moat *moat;
	struct listener *li;            /* referenced: counters */
	struct gen *gen;                /* referenced: what this runs on */
	const struct cfg_listener *lcfg; /* in gen */
	struct upstream *up;            /* in gen */
	struct server *srv; /* the broker, once chosen */
	struct server_try at; /* walk over srv's addresses while connecting */
	struct conn *next, *prev;
	enum conn_state state;
	uint8_t version;    /* MQTT protocol level, 0 until known */
	uint8_t handles;    /* libuv handles still open */
	uint8_t reading[2]; /* read started on that side */
	uint8_t eof[2];     /* that side has finished sending */
	uint8_t upstream_open;
	uint8_t srv_active;    /* counted in srv's active connections */
	uint8_t tries, n_order;
	uint8_t closing_flush; /* close once the client queue is flushed */
	uint8_t proxy_wait;    /* a PROXY protocol header comes first */
	uint8_t say_goodbye;   /* DISCONNECT with this reason at the next
				  boundary (0x8B stopping, 0x87 revoked) */
	uv_tcp_t client;
	uv_tcp_t upstream;
	uv_timer_t timer;
	union util_addr peer; /* the client (or what its PROXY header says) */
	WOLFSSL *ssl;
	struct tls_io io;
	struct tls_peer cert;
	struct ocsp_waiter ocsp_w; /* queued while OCSP is being fetched */
	struct ocsp_entry *ocsp_e; /* the leaf's answer, held while open */
	uint8_t *phdr;      /* PROXY header bytes while it is awaited */
	size_t phdr_len;
	struct src_entry *src; /* per-source accounting, held until close */
	size_t wq[2];       /* bytes queued for writing to that side */
	uint8_t *cbuf;      /* CONNECT (and what follows it) until forwarded */
	size_t clen, ccap;
	size_t connect_len; /* length of the CONNECT at the start of cbuf */
	struct mqtt_framer fr[2]; /* packets from the client / from the broker */
	char *client_id;
	struct server *order[CONN_MAX_TRIES];
	uint64_t bytes_in, bytes_out; /* from the client / to the client */
	uint64_t start_ms;
	uint64_t t0_ns; /* accept, then the start of the broker connect */
};

/* Listener accept callback. */
void conn_on_accept(uv_stream_t *server, int status);

/* Close every connection now (used at exit). */
void conn_close_all(struct moat *m);

/* Graceful stop: connections not yet forwarding are closed, MQTT 5 clients
 * get DISCONNECT 0x8B (server shutting down) between two packets of their
 * stream and are closed; MQTT 3 clients stay until conn_close_all(). */
void conn_stop_all(struct moat *m);

const char *conn_state_name(enum conn_state s);

/* Log how many reject lines were suppressed since the last call. */
void conn_reject_log_flush(struct moat *m);

/* Close the live sessions of a certificate that was just found revoked
 * (by serial, lower-case hex), as revoked_live says; `source` is "crl" or
 * "ocsp" for the log. Returns how many were closed. */
int conn_revoked(struct moat *m, const char *serial, const char *source);

/* After a CRL reload: close the live sessions whose certificate the
 * listener's new CRL revokes. */
int conn_recheck_crl(struct moat *m);

/* Close one connection now (stats socket `kill`), logged with why. */
void conn_kill(struct conn *c, const char *why);

#endif
