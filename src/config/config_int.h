/* config_int.h - what the pieces of the YAML parser share, and nothing
 * outside src/config sees: the parse context, node accessors, the typed
 * getters that report FILE:LINE:COL, and the walk over a mapping (all in
 * config.c), and the two sections read in files of their own:
 * parse_listeners (config_listener.c), parse_upstreams (config_upstream.c). */
#ifndef MOAT_CONFIG_INT_H
#define MOAT_CONFIG_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <yaml.h>

#include "config/config.h"

struct pctx {
	const char *path; /* == cfg->path */
	char *dir;        /* directory of the config file, with '/' */
	yaml_document_t doc;
	struct cfg *cfg;
	char *errors;
	size_t elen;
	int nerr;
};

typedef yaml_node_t node_t;

void err_at(struct pctx *x, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define ERR(x, node, ...)                                                   \
	err_at(x, (int)(node)->start_mark.line + 1,                         \
	       (int)(node)->start_mark.column + 1, __VA_ARGS__)

#define GET_ENUM(x, n, what, names, field)                                 \
	do {                                                                \
		int v_;                                                     \
		if (get_enum(x, n, what, names, &v_) == 0)                  \
			field = v_;                                         \
	} while (0)

/* Walk a mapping; reports duplicate keys and non-scalar keys, calls fn for
 * each remaining pair. fn returns 1 when it knew the key, 0 otherwise. */
typedef int (*pair_fn)(struct pctx *x, const char *key, node_t *k,
		       node_t *v, void *arg);

node_t *N(struct pctx *x, int id);
struct cfg_pos pos_of(struct pctx *x, const node_t *n);
const char *scalar(const node_t *n);
int want_map(struct pctx *x, node_t *n, const char *what);
int want_seq(struct pctx *x, node_t *n, const char *what);
int want_scalar(struct pctx *x, node_t *n, const char *what);
int get_str(struct pctx *x, node_t *n, const char *what, char **out);
int get_bool(struct pctx *x, node_t *n, const char *what, bool *out);
int get_uint(struct pctx *x, node_t *n, const char *what, uint64_t min,
	     uint64_t max, uint64_t *out);
int get_u32(struct pctx *x, node_t *n, const char *what, uint32_t min,
	    uint32_t max, uint32_t *out);
int get_duration(struct pctx *x, node_t *n, const char *what, uint64_t *out);
int get_size(struct pctx *x, node_t *n, const char *what, uint64_t *out);
/* names is NULL-terminated; the index found is stored in *out. */
int get_enum(struct pctx *x, node_t *n, const char *what,
	     const char *const *names, int *out);
/* A file the config names: resolved against the config's directory and
 * checked for reading now (when must_read), so --check catches a wrong
 * path; pos, when not NULL, gets the value's position. */
int get_path(struct pctx *x, node_t *n, const char *what, char **out,
	     struct cfg_pos *pos, int must_read);
void each_pair(struct pctx *x, node_t *map, const char *section, pair_fn fn,
	       void *arg);
/* The value of key in map, or NULL. */
node_t *find_key(struct pctx *x, node_t *map, const char *key);

/* A list of strings (free each, then the array). */
void cfg_strv_free(char **v, size_t n);
/* Append "FILE:LINE:COL: warning: ...\n" to x->cfg->warnings. */
void warn_at(struct pctx *x, struct cfg_pos p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int get_size(struct pctx *x, node_t *n, const char *what, uint64_t *out);

/* listeners: and upstreams: of the top level, into x->cfg. */
void parse_listeners(struct pctx *x, node_t *seq);
void parse_upstreams(struct pctx *x, node_t *seq);
/* mqtt.acl and mqtt.rate of a listener (config_acl.c). */
void parse_acl(struct pctx *x, node_t *k, node_t *map, struct cfg_acl *a);
void parse_rate(struct pctx *x, node_t *k, node_t *map, struct cfg_rate *r);
void cfg_acl_free(struct cfg_acl *a);

/* config_enroll.c: mqtt.enroll (k its key, v its value). */
void parse_enroll(struct pctx *x, node_t *k, node_t *v, struct cfg_enroll *e);
void enroll_defaults(struct cfg_enroll *e);
void enroll_free(struct cfg_enroll *e);

#endif
