/* show.c - the read-only `show` commands of the stats socket: info,
 * stat (CSV and JSON), servers, conns, workers, tls, ocsp (certs in
 * certs.c). Every row is
 * built from the counters next to the objects they count (moat_view for
 * the workers' sums, conn_each for connections, server_sum for servers),
 * never from a second bookkeeping. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conn/conn.h"
#include "base/log.h"
#include "tls/ocsp.h"
#include "moat_build.h"
#include "upstream/server.h"
#include "base/scratch.h"
#include "ops/stats.h"
#include "ops/reload.h"
#include "tls/tls.h"
#include "base/util.h"
#include "core/worker.h"

#include "auth/jwk.h"
#include "auth/jwks_url.h"
#include "ops/certs.h"
#include "ops/show.h"

static uint64_t sum_rejects(const uint64_t *r)
{
	uint64_t n = 0;

	for (int i = 0; i < REJ__COUNT; i++)
		n += r[i];
	return n;
}

static void cmd_info(struct moat *m, struct sbuf *o)
{
	struct moat_view v;

	moat_view(m, &v);
	free(v.l);
	sb_printf(o, "version: %s\n", MOAT_VERSION);
	sb_printf(o, "pid: %ld\n", (long)getpid());
	sb_printf(o, "uptime: %llu\n",
		  (unsigned long long)((util_now_ms() - m->start_ms) / 1000));
	sb_printf(o, "workers: %u\n", m->n_workers);
	sb_printf(o, "draining: %d\n", m->draining);
	sb_printf(o, "fd_limit: %llu\nfd_connections: %llu\n",
		  (unsigned long long)m->fd_limit,
		  (unsigned long long)m->fd_conns);
	sb_printf(o, "conns_current: %llu\n",
		  (unsigned long long)v.conns_current);
	{
		/* heap in use, for memory per connection: glibc's, and the
		 * handshakes' own (src/scratch.c) in use and mapped */
		struct heap_stats h;

		heap_stats(&h);
		sb_printf(o, "heap_bytes: %llu\n",
			  (unsigned long long)h.malloc_bytes);
		sb_printf(o, "scratch_bytes: %llu\n",
			  (unsigned long long)h.scratch_bytes);
		sb_printf(o, "scratch_mapped_bytes: %llu\n",
			  (unsigned long long)h.scratch_mapped);
	}
	sb_printf(o, "conns_total: %llu\n", (unsigned long long)v.conns_total);
	sb_printf(o, "handshakes_ok: %llu\n",
		  (unsigned long long)v.handshakes_ok);
	sb_printf(o, "handshakes_failed: %llu\n",
		  (unsigned long long)v.handshakes_failed);
	sb_printf(o, "reloads: %llu\n", (unsigned long long)m->reloads);
	sb_printf(o, "reload_failures: %llu\n",
		  (unsigned long long)m->reload_failures);
	sb_printf(o, "generation: %llu\n", (unsigned long long)m->gen->id);
	sb_printf(o, "tokens_ok: %llu\n", (unsigned long long)v.tokens_ok);
	for (int i = 0; i < REJ__COUNT; i++)
		sb_printf(o, "reject_%s: %llu\n", reject_name(i),
			  (unsigned long long)v.rejects[i]);
}

static int upstream_up(const struct upstream *u)
{
	for (size_t j = 0; j < u->n_servers; j++)
		if (server_usable(u->servers[j]))
			return 1;
	return 0;
}

static void cmd_stat_csv(struct moat *m, struct sbuf *o)
{
	struct moat_view v;

	moat_view(m, &v);
	if (!v.l) {
		sb_printf(o, "error: out of memory\n");
		return;
	}
	sb_printf(o, "# type,name,upstream,status,weight,active,total,"
		     "bytes_in,bytes_out,rejects,check,transport\n");
	for (size_t i = 0; i < m->n_listeners; i++) {
		struct listener *l = m->listeners[i];
		const struct listener_view *lw = &v.l[i];

		sb_printf(o,
			  "listener,%s,%s,OPEN,,%llu,%llu,%llu,%llu,%llu,,%s\n",
			  l->cfg->name, l->cfg->upstream,
			  (unsigned long long)lw->active,
			  (unsigned long long)lw->accepted,
			  (unsigned long long)lw->bytes_in,
			  (unsigned long long)lw->bytes_out,
			  (unsigned long long)sum_rejects(lw->rejects),
			  l->cfg->ws.on ? "ws" : "tcp");
	}
	for (size_t i = 0; i < m->n_upstreams; i++) {
		struct upstream *u = &m->upstreams[i];
		uint64_t w = 0, act = 0;
		struct up_ctr uc = upstream_sum(u);

		for (size_t j = 0; j < u->n_servers; j++) {
			w += u->servers[j]->weight;
			act += server_sum(u->servers[j]).active;
		}
		sb_printf(o,
			  "upstream,%s,,%s,%llu,%llu,%llu,%llu,%llu,%llu,,\n",
			  u->cfg->name, upstream_up(u) ? "UP" : "DOWN",
			  (unsigned long long)w, (unsigned long long)act,
			  (unsigned long long)uc.total,
			  (unsigned long long)uc.bytes_in,
			  (unsigned long long)uc.bytes_out,
			  (unsigned long long)uc.no_server);
		for (size_t j = 0; j < u->n_servers; j++) {
			struct server *s = u->servers[j];
			struct srv_ctr sc = server_sum(s);

			sb_printf(o,
				  "server,%s,%s,%s,%u,%u,%llu,%llu,%llu,%llu,"
				  "%s,\n",
				  s->cfg->name, u->cfg->name, server_status(s),
				  s->weight, sc.active,
				  (unsigned long long)sc.total,
				  (unsigned long long)sc.bytes_in,
				  (unsigned long long)sc.bytes_out,
				  (unsigned long long)sc.connect_fails,
				  s->last_check);
		}
	}
	free(v.l);
}

static void cmd_stat_json(struct moat *m, struct sbuf *o)
{
	struct moat_view v;

	moat_view(m, &v);
	if (!v.l) {
		sb_printf(o, "error: out of memory\n");
		return;
	}
	sb_printf(o, "{\"listeners\":[");
	for (size_t i = 0; i < m->n_listeners; i++) {
		struct listener *l = m->listeners[i];
		const struct listener_view *lw = &v.l[i];

		sb_printf(o, "%s{\"name\":", i ? "," : "");
		sb_json_str(o, l->cfg->name);
		sb_printf(o, ",\"upstream\":");
		sb_json_str(o, l->cfg->upstream);
		sb_printf(o, ",\"transport\":\"%s\"",
			  l->cfg->ws.on ? "ws" : "tcp");
		sb_printf(
		    o,
		    ",\"accepted\":%llu,\"active\":%llu,\"bytes_in\":%llu,"
		    "\"bytes_out\":%llu,\"rejects\":{",
		    (unsigned long long)lw->accepted,
		    (unsigned long long)lw->active,
		    (unsigned long long)lw->bytes_in,
		    (unsigned long long)lw->bytes_out);
		for (int r = 0; r < REJ__COUNT; r++)
			sb_printf(o, "%s\"%s\":%llu", r ? "," : "",
				  reject_name(r),
				  (unsigned long long)lw->rejects[r]);
		sb_printf(o, "}}");
	}
	sb_printf(o, "],\"upstreams\":[");
	for (size_t i = 0; i < m->n_upstreams; i++) {
		struct upstream *u = &m->upstreams[i];
		struct up_ctr uc = upstream_sum(u);

		sb_printf(o, "%s{\"name\":", i ? "," : "");
		sb_json_str(o, u->cfg->name);
		sb_printf(
		    o,
		    ",\"balance\":\"%s\",\"status\":\"%s\",\"total\":%llu,"
		    "\"bytes_in\":%llu,\"bytes_out\":%llu,"
		    "\"no_server\":%llu,\"servers\":[",
		    cfg_balance_name(u->cfg->balance),
		    upstream_up(u) ? "UP" : "DOWN",
		    (unsigned long long)uc.total,
		    (unsigned long long)uc.bytes_in,
		    (unsigned long long)uc.bytes_out,
		    (unsigned long long)uc.no_server);
		for (size_t j = 0; j < u->n_servers; j++) {
			struct server *s = u->servers[j];
			struct srv_ctr sc = server_sum(s);
			char addrs[1024];

			sb_printf(o, "%s{\"name\":", j ? "," : "");
			sb_json_str(o, s->cfg->name);
			sb_printf(o, ",\"address\":");
			sb_json_str(o, s->cfg->address);
			sb_printf(o, ",\"addresses\":");
			sb_json_str(o,
				    server_addrs_str(s, addrs, sizeof(addrs)));
			sb_printf(o,
				  ",\"status\":\"%s\",\"weight\":%u,"
				  "\"active\":%u,\"total\":%llu,"
				  "\"bytes_in\":%llu,\"bytes_out\":%llu,"
				  "\"connect_fails\":%llu,\"check\":\"%s\"}",
				  server_status(s), s->weight, sc.active,
				  (unsigned long long)sc.total,
				  (unsigned long long)sc.bytes_in,
				  (unsigned long long)sc.bytes_out,
				  (unsigned long long)sc.connect_fails,
				  s->last_check);
		}
		sb_printf(o, "]}");
	}
	sb_printf(o, "]}\n");
	free(v.l);
}

static void cmd_servers(struct moat *m, const char *only, struct sbuf *o)
{
	uint64_t now = util_now_ms();
	int found = 0;

	for (size_t i = 0; i < m->n_upstreams; i++) {
		struct upstream *u = &m->upstreams[i];

		if (only && strcmp(only, u->cfg->name) != 0)
			continue;
		if (!found++)
			sb_printf(o, "# upstream server address status weight "
				     "active total last_check addresses\n");
		for (size_t j = 0; j < u->n_servers; j++) {
			struct server *s = u->servers[j];
			char ago[32] = "", addrs[1024];
			struct srv_ctr sc = server_sum(s);

			if (s->last_check_ms)
				snprintf(
				    ago, sizeof(ago), "/%llums",
				    (unsigned long long)(now -
							 s->last_check_ms));
			sb_printf(o, "%s %s %s %s %u %u %llu %s%s %s\n",
				  u->cfg->name, s->cfg->name, s->cfg->address,
				  server_status(s), s->weight, sc.active,
				  (unsigned long long)sc.total, s->last_check,
				  ago,
				  server_addrs_str(s, addrs, sizeof(addrs)));
		}
	}
	if (!found) {
		o->len = 0;
		sb_printf(o, "error: no upstream '%s'\n", only);
	}
}

static void workers_show(struct moat *main, struct sbuf *o)
{
	sb_printf(o, "# worker conns_current conns_total handshakes_ok "
		     "handshakes_failed listeners\n");
	for (unsigned k = 0; k < main->n_workers; k++) {
		struct moat *w = main->workers[k];
		size_t nl;

		if (!w)
			continue;
		uv_mutex_lock(&w->wlock);
		nl = w->n_listeners;
		uv_mutex_unlock(&w->wlock);
		sb_printf(o, "%u %llu %llu %llu %llu %zu\n", k,
			  (unsigned long long)CTR_GET(w->conns_current),
			  (unsigned long long)CTR_GET(w->conns_total),
			  (unsigned long long)CTR_GET(w->handshakes_ok),
			  (unsigned long long)CTR_GET(w->handshakes_failed),
			  nl);
	}
}

struct conns_walk {
	uint64_t now;
	struct sbuf *o;
};

static void conn_row(const struct conn_info *ci, void *arg)
{
	struct conns_walk *cw = arg;
	struct sbuf *o = cw->o;
	char peer[64], na[24];

	util_addr_str(ci->peer, peer, sizeof(peer));
	sb_printf(o, "%llu %s ", (unsigned long long)ci->id, peer);
	sb_word(o, ci->subject);
	sb_printf(o, " ");
	sb_word(o, ci->client_id);
	sb_printf(
	    o, " %s %s %llu %llu %llu %zu %zu ", ci->server ? ci->server : "-",
	    ci->state, (unsigned long long)(cw->now - ci->start_ms),
	    (unsigned long long)ci->bytes_in, (unsigned long long)ci->bytes_out,
	    ci->queued_client, ci->queued_broker);
	sb_printf(o, "%s ", ci->transport);
	sb_word(o, ci->identity);
	sb_printf(o, " via=%s not_after=%s\n", ci->via,
		  tls_time_str(ci->not_after, na, sizeof(na)));
}

static void cmd_conns(struct moat *m, struct sbuf *o)
{
	struct conns_walk cw = {util_now_ms(), o};

	sb_printf(o, "# id peer subject client_id server state age_ms "
		     "bytes_in bytes_out queued_client queued_broker transport "
		     "identity via not_after\n");
	for (unsigned k = 0; k < m->n_workers; k++)
		conn_each(m->workers[k], conn_row, &cw);
}

static void cmd_tls(struct moat *m, struct sbuf *o)
{
	int64_t now = (int64_t)time(NULL);
	char t1[32], t2[32];
	struct moat_view v;

	moat_view(m, &v);
	if (!v.l) {
		sb_printf(o, "error: out of memory\n");
		return;
	}

	for (size_t i = 0; i < m->n_listeners; i++) {
		struct listener *l = m->listeners[i];
		const struct listener_view *lw = &v.l[i];
		const struct tls_info *in;
		const struct cfg_tls *tc = &l->cfg->tls;

		sb_printf(o, "%slistener: %s\n", i ? "\n" : "", l->cfg->name);
		if (!l->tls) { /* websocket.plain */
			sb_printf(o, "tls: none (websocket plain)\n");
			continue;
		}
		in = &l->tls->info;
		sb_printf(o, "cert: %s\n", tc->cert);
		sb_printf(o, "cert_subject: %s\n", in->cert_subject);
		sb_printf(o, "cert_not_after: %s\n",
			  tls_time_str(in->cert_not_after, t1, sizeof(t1)));
		sb_printf(o, "verify_client: %s\n",
			  tc->verify_client == CFG_VERIFY_REQUIRED ? "required"
			  : tc->verify_client == CFG_VERIFY_OPTIONAL
			      ? "optional"
			      : "none");
		sb_printf(o, "client_ca: %s\n",
			  tc->client_ca ? tc->client_ca : "-");
		sb_printf(o, "ca_first_expiring: %s\n",
			  in->ca_first_expiring[0] ? in->ca_first_expiring
						   : "-");
		sb_printf(o, "ca_not_after: %s\n",
			  tls_time_str(in->ca_not_after, t1, sizeof(t1)));
		sb_printf(o, "crl: %s\n", tc->crl ? tc->crl : "-");
		for (int k = 0; k < in->n_crls; k++)
			sb_printf(o,
				  "crl_%d: issuer=%s this_update=%s "
				  "next_update=%s status=%s\n",
				  k, in->crl[k].issuer,
				  tls_time_str(in->crl[k].this_update, t1,
					       sizeof(t1)),
				  tls_time_str(in->crl[k].next_update, t2,
					       sizeof(t2)),
				  in->crl[k].next_update &&
					  in->crl[k].next_update < now
				      ? "EXPIRED"
				      : "ok");
		sb_printf(o, "session_tickets: %s\n",
			  tc->session_tickets ? "on" : "off");
		tls_tickets_describe(l->tls, o);
		sb_printf(o, "handshakes: %llu\n",
			  (unsigned long long)lw->handshakes);
		sb_printf(o, "resumed: %llu\n",
			  (unsigned long long)lw->resumed);
		if (tc->ocsp.mode == CFG_OCSP_OFF) {
			sb_printf(o, "ocsp: off\n");
		} else {
			sb_printf(o, "ocsp: %s check=%s responder=%s\n",
				  tc->ocsp.mode == CFG_OCSP_REQUIRE ? "require"
								    : "soft",
				  tc->ocsp.check == CFG_OCSP_CHAIN ? "chain"
								   : "leaf",
				  tc->ocsp.responder && tc->ocsp.responder[0]
				      ? tc->ocsp.responder
				      : "aia");
		}
		sb_printf(o, "revoked_live: %s\n",
			  tc->revoked_live == CFG_REVOKED_CLOSE ? "close"
								: "keep");
		{
			char staple[1024];

			tls_staple_describe(l->tls, m->ocsp, staple,
					    sizeof(staple));
			sb_printf(o, "%s", staple);
		}
	}
	if (m->ocsp) {
		struct ocsp_stats st, *s = &st;

		ocsp_cache_stats(m->ocsp, &st);
		const struct {
			const char *name;
			uint64_t v;
		} rows[] = {
		    {"ocsp_cache_size", ocsp_cache_count(m->ocsp)},
		    {"ocsp_lookups", s->lookups},
		    {"ocsp_hits", s->hits},
		    {"ocsp_misses", s->misses},
		    {"ocsp_coalesced", s->coalesced},
		    {"ocsp_requests", s->requests},
		    {"ocsp_errors", s->errors},
		    {"ocsp_stale_used", v.ocsp_stale_used},
		    {"ocsp_soft_failed", v.ocsp_soft_failed},
		};

		sb_printf(o, "\n# ocsp cache\n");
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			sb_printf(o, "%s: %llu\n", rows[i].name,
				  (unsigned long long)rows[i].v);
		sb_printf(
		    o, "ocsp_answers: good=%llu revoked=%llu unknown=%llu\n",
		    (unsigned long long)s->good, (unsigned long long)s->revoked,
		    (unsigned long long)s->unknown);
		sb_printf(o, "ocsp_evicted: %llu\n",
			  (unsigned long long)s->evicted);
		sb_printf(o, "revoked_closed: %llu\n",
			  (unsigned long long)v.revoked_closed);
	}
	free(v.l);
}

static void cmd_ocsp(struct moat *m, const char *serial, struct sbuf *o)
{
	char *t = m->ocsp ? ocsp_show(m->ocsp, serial) : NULL;

	if (t)
		sb_printf(o, "%s", t);
	free(t);
}

/* The fetch record of a jwks_url source: when and how the last fetch
 * went, when the next one is due, and the counts. */
static void show_jwks_fetch(const struct jwks_src *s, struct sbuf *o)
{
	char t1[32];

	sb_printf(o, "jwks_fetch_last: %s\n",
		  s->last_fetch ? tls_time_str(s->last_fetch, t1, sizeof(t1))
				: "-");
	sb_printf(o, "jwks_fetch_result: %s\n",
		  !s->last_fetch ? "-"
		  : s->last_ok	 ? "ok"
				 : "error");
	if (s->last_fetch && !s->last_ok) {
		sb_printf(o, "jwks_fetch_detail: ");
		sb_word(o, s->last_detail);
		sb_printf(o, "\n");
	}
	sb_printf(o, "jwks_fetch_next: %s\n",
		  s->next_fetch ? tls_time_str(s->next_fetch, t1, sizeof(t1))
				: "now");
	sb_printf(o, "jwks_fetches_ok: %llu\njwks_fetch_errors: %llu\n",
		  (unsigned long long)s->fetch_ok,
		  (unsigned long long)s->fetch_errors);
}

/* show tokens: per listener, the token policy and the JWK Set in force
 * (its keys by kid, kty and alg, where it came from and when), then the
 * results so far. Never a token. */
static void cmd_tokens(struct moat *m, struct sbuf *o)
{
	static const char *kty[] = {"EC", "RSA", "OKP"};
	struct moat_view v;
	char t1[32];

	moat_view(m, &v);
	for (size_t i = 0; i < m->gen->cfg->n_listeners; i++) {
		const struct cfg_listener *lc = &m->gen->cfg->listeners[i];
		const struct cfg_token *t = &lc->mqtt.token;
		struct jwks_src *src = m->gen->jwks_src[i];
		struct jwks *set =
		    src ? jwks_src_get(src) : jwks_get(m->gen->jwks[i]);

		sb_printf(o, "%slistener: %s\n", i ? "\n" : "", lc->name);
		sb_printf(o, "token: %s\n", cfg_token_when_name(t->when));
		if (t->when == CFG_TOKEN_OFF)
			continue;
		sb_printf(o, "algorithms:");
		for (int a = 0; a < CFG_ALG__COUNT; a++)
			if (t->algorithms & (1u << a))
				sb_printf(o, " %s", cfg_token_alg_name(a));
		sb_printf(o, "\nissuer: %s\naudience: %s\nidentity_claim: %s\n",
			  t->issuer ? t->issuer : "-",
			  t->audience ? t->audience : "-",
			  t->identity_claim ? t->identity_claim : "sub");
		sb_printf(o, "leeway_s: %llu\n",
			  (unsigned long long)(t->leeway_ms / 1000));
		sb_printf(o, "jwks_source: %s\n",
			  t->jwks	? t->jwks
			  : t->jwks_url ? t->jwks_url
					: "-");
		if (src)
			show_jwks_fetch(src, o);
		if (!set) {
			sb_printf(o, "jwks_keys: 0\n");
			continue;
		}
		sb_printf(o, "jwks_loaded: %s\n",
			  tls_time_str(set->loaded, t1, sizeof(t1)));
		sb_printf(o, "jwks_keys: %zu\njwks_skipped: %zu\n", set->n,
			  set->n_skipped);
		for (size_t k = 0; k < set->n; k++) {
			const struct jwk *key = &set->keys[k];

			sb_printf(o, "key: kid=");
			sb_word(o, key->has_kid ? key->kid : NULL);
			sb_printf(o, " kty=%s alg=%s\n", kty[key->kty],
				  key->alg >= 0 ? cfg_token_alg_name(key->alg)
						: "-");
		}
		jwks_put(set);
	}
	sb_printf(o, "\ntokens_ok: %llu\n", (unsigned long long)v.tokens_ok);
	for (int r = REJ_TOKEN_MISSING; r <= REJ_TOKEN_EXPIRED_LIVE; r++)
		sb_printf(o, "%s: %llu\n", reject_name(r),
			  (unsigned long long)v.rejects[r]);
	free(v.l);
}

/* show acl: per listener, the topic rules in force (as written, where
 * written) and how often each decided, then the denials by action. */
static void cmd_acl(struct moat *m, struct sbuf *o)
{
	static const char *act[] = {"-", "publish", "subscribe", "all"};
	struct moat_view v;

	moat_view(m, &v);
	for (size_t i = 0; i < m->gen->cfg->n_listeners; i++) {
		const struct cfg_listener *lc = &m->gen->cfg->listeners[i];
		const struct cfg_acl *a = &lc->mqtt.acl;

		sb_printf(o, "%slistener: %s\n", i ? "\n" : "", lc->name);
		sb_printf(o, "acl: %s\n", a->on ? "on" : "off");
		if (!a->on)
			continue;
		sb_printf(o, "rules: %s\n",
			  a->rules_file ? a->rules_file : "inline");
		sb_printf(o, "no_match: %s\ndeny_action: %s\nclaim: %s\n",
			  a->no_match_allow ? "allow" : "deny",
			  a->deny_disconnect ? "disconnect" : "ack",
			  a->claim ? a->claim : "-");
		for (size_t r = 0; r < a->n_rules; r++) {
			const struct cfg_acl_rule *ru = &a->rules[r];

			sb_printf(o, "rule: %zu %s %s hits=%llu at=%s:%d:%d",
				  r + 1, ru->allow ? "allow" : "deny",
				  act[ru->actions & 3],
				  (unsigned long long)__atomic_load_n(
				      &a->hits[r], __ATOMIC_RELAXED),
				  ru->pos.file, ru->pos.line, ru->pos.col);
			for (size_t t = 0; t < ru->n_topics; t++) {
				sb_printf(o, " ");
				sb_word(o, ru->topics[t]);
			}
			sb_printf(o, "\n");
		}
		sb_printf(o, "no_match_hits: %llu\n",
			  (unsigned long long)__atomic_load_n(
			      &a->hits[a->n_rules], __ATOMIC_RELAXED));
		for (int r = REJ_ACL_PUBLISH; r <= REJ_ACL_LIVE; r++)
			sb_printf(o, "%s: %llu\n", reject_name(r),
				  i < v.n_listeners
				      ? (unsigned long long)v.l[i].rejects[r]
				      : 0ull);
	}
	free(v.l);
}

int stats_show(struct moat *m, char **w, int n, struct sbuf *o)
{
	if (strcmp(w[1], "info") == 0 && n == 2)
		cmd_info(m, o);
	else if (strcmp(w[1], "stat") == 0 && n == 2)
		cmd_stat_csv(m, o);
	else if (strcmp(w[1], "stat") == 0 && n == 3 &&
		 strcmp(w[2], "json") == 0)
		cmd_stat_json(m, o);
	else if (strcmp(w[1], "servers") == 0 && n <= 3)
		cmd_servers(m, w[2], o);
	else if (strcmp(w[1], "conns") == 0 && n == 2)
		cmd_conns(m, o);
	else if (strcmp(w[1], "workers") == 0 && n == 2)
		workers_show(m, o);
	else if (strcmp(w[1], "tls") == 0 && n == 2)
		cmd_tls(m, o);
	else if (strcmp(w[1], "tokens") == 0 && n == 2)
		cmd_tokens(m, o);
	else if (strcmp(w[1], "acl") == 0 && n == 2)
		cmd_acl(m, o);
	else if (strcmp(w[1], "enroll") == 0 && n == 2)
		enroll_show(m, o);
	else if (strcmp(w[1], "certs") == 0 && n <= 4)
		return certs_show(m, w + 2, n - 2, o);
	else if (strcmp(w[1], "ocsp") == 0 && n <= 3)
		cmd_ocsp(m, n == 3 ? w[2] : NULL, o);
	else
		return -1;
	return 0;
}
