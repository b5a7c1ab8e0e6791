/* reload.h - generations: loading a configuration with everything it
 * names, applying it (listeners kept, bound or closed; upstreams and
 * checks swapped), and reloading on SIGHUP or the socket's `reload`. */
#ifndef MOAT_RELOAD_H
#define MOAT_RELOAD_H

#include "core/moat.h"

/* Load PATH: config, unsupported features, TLS contexts. No side effect
 * on m. NULL and *errors (FILE:LINE:COL lines) on failure. */
struct gen *gen_load(const char *path, char **errors);

/* Make g current: bind new listeners, keep unchanged ones open, close
 * removed ones, take servers over, restart health checks. On failure
 * nothing changes, g is released and *errors says why. */
int moat_apply(struct moat *m, struct gen *g, char **errors);

/* A signature of the files the configuration names beside itself and
 * that are watched for changes (each listener's CRL, ticket keys and JWK
 * Set): their size, mtime and inode. */
uint64_t moat_files_signature(const struct cfg *c);

/* Re-read m->config_path and apply it; logs the outcome. */
int moat_reload(struct moat *m, char **errors);

/* `drain`: every worker closes its listeners (the balancer sends new
 * devices elsewhere), MQTT 5 sessions get DISCONNECT 0x9C with
 * stop.redirect_to (0x8B without it) at a packet boundary, MQTT 3 ones
 * run on; the process stays up (stats, metrics) until it is stopped.
 * -1: already draining or stopping. */
int moat_drain(struct moat *m);

/* Stop fetching JWK Sets (stop, or the end of the process). */
void moat_jwks_stop(struct moat *m);

/* Close every listening socket (stop, or the end of the process). */
void moat_close_listeners(struct moat *m);

#endif
