/* conn.h - the data path as the rest of moat sees it: a listener hands
 * accepted sockets to conn_on_accept, and from there each device goes
 * accept -> PROXY header -> TLS -> CONNECT admission -> broker connect ->
 * splice on its own worker's loop (the stages are the files of src/conn,
 * their shared struct in internal.h). The operations layer reads connections
 * only through conn_each() and acts on them only through the calls below;
 * revocation reaches them through conn_revoked / conn_recheck_crl. */
#ifndef MOAT_CONN_H
#define MOAT_CONN_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/moat.h"

/* Listener accept callback. */
void conn_on_accept(uv_stream_t *server, int status);

/* Close every connection of worker m now (used at exit). */
void conn_close_all(struct moat *m);

/* Graceful stop: connections not yet forwarding are closed, MQTT 5 clients
 * get DISCONNECT 0x8B (server shutting down) between two packets of their
 * stream and are closed; MQTT 3 clients stay until conn_close_all(). */
void conn_stop_all(struct moat *m);

/* Log how many reject lines were suppressed since the last call. */
void conn_reject_log_flush(struct moat *m);

/* Close the live sessions of a certificate that was just found revoked
 * (by its OCSP CertID: issuer and serial), as revoked_live says; `source` is
 * "crl" or "ocsp" for the log. Returns how many were closed. */
int conn_revoked(struct moat *m, const uint8_t *certid, size_t len,
		 const char *source);

/* After a CRL reload: close the live sessions whose certificate the
 * listener's new CRL revokes. */
int conn_recheck_crl(struct moat *m);
/* After a reload: every session on a listener with topic rules is judged
 * again under the rules now in force (its subscriptions; one now denied
 * ends it: MQTT 5 DISCONNECT 0x87, acl_live); the others go on under the
 * new rules. Returns how many were judged. */
int conn_recheck_acl(struct moat *m);

/* A connection as the operations layer sees it. The strings point into
 * the connection and are valid during the conn_each() callback only. */
struct conn_info {
	uint64_t id;
	const struct sockaddr *peer;
	const char *subject;   /* of the client certificate, or NULL */
	const char *serial;    /* its serial (lower-case hex), or NULL */
	int64_t not_after;     /* its notAfter, UTC s (0: no certificate) */
	const char *identity;  /* the device's identity, or NULL */
	const char *via;       /* "cert" or "token": where identity came from */
	const char *client_id; /* NULL until the CONNECT was read */
	const char *server;    /* broker name, or NULL */
	const char *state;     /* handshake websocket connect upstream splice
				  closing */
	const char *transport; /* "tcp" or "ws" (MQTT over WebSocket) */
	int closing;           /* closing or closed: no longer killable */
	uint64_t start_ms;
	uint64_t bytes_in, bytes_out;
	size_t queued_client, queued_broker;
};

/* "renewed", "too_early", ... for enum enroll_outcome (core/moat.h). */
const char *conn_enroll_outcome_name(int outcome);

/* Call fn for each connection of worker w, from any thread: the worker's
 * list lock is held meanwhile, so fn must not call back into conn. */
void conn_each(struct moat *w, void (*fn)(const struct conn_info *ci,
					  void *arg),
	       void *arg);

/* Which connections `kill` means: one by id, or every one of a client id. */
struct conn_match {
	int by_id;
	uint64_t id;
	const char *client_id;
};
int conn_matches(const struct conn_info *ci, const struct conn_match *k);

/* On w's own loop: close the connections k matches, logged with why.
 * Returns how many. */
int conn_kill_matching(struct moat *w, const struct conn_match *k,
		       const char *why);

#endif
