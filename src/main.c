/* main.c - moat's command line and process life: parse the arguments,
 * load and check the config, build TLS contexts, bind listeners and the
 * stats socket, start health checks, run the loop, and stop cleanly on
 * SIGTERM/SIGINT. Exit codes: 0 clean stop, 1 bad config, 2 usage,
 * 3 runtime failure. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "upstream/check.h"
#include "conn/conn.h"
#include "base/persource.h"
#include "base/log.h"
#include "tls/ocsp.h"
#include "ops/metrics.h"
#include "moat_build.h"
#include "ops/reload.h"
#include "upstream/server.h"
#include "base/scratch.h"
#include "ops/stats.h"
#include "tls/tls.h"
#include "base/util.h"
#include "core/worker.h"

/* Descriptors. The soft limit is raised to the hard one (as HAProxy does
 * and nginx's worker_rlimit_nofile), and new connections are refused as
 * max_connections refuses them once the rest would not fit: accept()
 * must not run into EMFILE, because libuv's way out of it (a spare
 * descriptor per loop, closed to accept and drop the waiting connection)
 * races between worker threads, and a loop that loses the race spins in
 * accept and serves nothing else. A connection holds two descriptors;
 * FD_RESERVE stay for health checks, fetches, the stats socket, /metrics
 * and reloads. */
#define FD_RESERVE 32

static void fd_budget(struct moat *m)
{
	struct rlimit rl;
	uint64_t used = 0;
	DIR *d;
	char lim[24], conns[24];

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = was;
	}
	if ((d = opendir("/proc/self/fd"))) {
		while (readdir(d))
			used++;
		closedir(d);
		used = used > 3 ? used - 3 : 0; /* ".", "..", d itself */
	}
	m->fd_limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
	/* read by the workers' accept (relaxed, as the counters) */
	__atomic_store_n(&m->fd_conns,
			 m->fd_limit > used + FD_RESERVE + 2
				 ? (m->fd_limit - used - FD_RESERVE) / 2
				 : 1,
			 __ATOMIC_RELAXED);
	snprintf(lim, sizeof(lim), "%llu", (unsigned long long)m->fd_limit);
	snprintf(conns, sizeof(conns), "%llu", (unsigned long long)m->fd_conns);
	if (m->fd_conns < m->cfg->limits.max_connections)
		log_event(LOG_WARN, "fd_limit", "limit", lim, "connections",
			  conns, "detail",
			  "fewer descriptors than max_connections needs; "
			  "raise LimitNOFILE (ulimit -n)",
			  NULL);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: moat -c FILE [--check]\n"
		   "       moat --version\n"
		   "       moat ctl [-s SOCKET] COMMAND...\n");
}

static void print_version(void)
{
	char tls[512];

	tls_describe(tls, sizeof(tls));
	printf("moat %s\n", MOAT_VERSION);
	printf("%s\n", tls);
	printf("libuv %s\n", uv_version_string());
	printf("libyaml %s\n", yaml_get_version_string());
}

/* ---- the other workers' side of a stop ---- */

static void w_close_all(struct moat *w, void *arg)
{
	(void)arg;
	if (w)
		conn_close_all(w);
}

static void main_drained(struct moat *m);

static void w_done(struct moat *m, void *arg)
{
	(void)arg;
	if (!m)
		return;
	m->workers_done++;
	if (m->stopping == 1 && !m->conns)
		main_drained(m);
}

static void w_drained(struct moat *w)
{
	w->on_drained = NULL;
	worker_post(w->main, w_done, NULL);
}

/* Stop accepting, say goodbye as the main does (conn_stop_all). */
static void w_stop(struct moat *w, void *arg)
{
	(void)arg;
	if (!w || w->stopping)
		return;
	w->stopping = 1;
	moat_close_listeners(w);
	w->on_drained = w_drained;
	conn_stop_all(w);
	if (!w->conns && w->on_drained)
		w_drained(w);
}

/* Once a second in every worker: the reject log's suppressed counts, and
 * the pages of the scratch heap that the worker's handshakes no longer
 * use. */
static void w_tick(struct moat *w, void *arg)
{
	(void)arg;
	if (w) {
		conn_reject_log_flush(w);
		scratch_trim();
	}
}

/* A CertID OCSP found revoked, on its way to a worker. */
struct revoked_id {
	size_t len;
	uint8_t certid[];
};

static void w_revoked(struct moat *w, void *arg)
{
	struct revoked_id *r = arg;

	if (w)
		conn_revoked(w, r->certid, r->len, "ocsp");
	free(r);
}

static void stop_finish(struct moat *m)
{
	if (m->stopping == 2)
		return;
	m->stopping = 2;
	m->on_drained = NULL;
	for (unsigned k = 1; k < m->n_workers; k++)
		worker_post(m->workers[k], w_close_all, NULL);
	conn_close_all(m);
	uv_close((uv_handle_t *)&m->drain_timer, NULL);
	conn_reject_log_flush(m);
	uv_close((uv_handle_t *)&m->reject_log_timer, NULL);
	uv_close((uv_handle_t *)&m->crl_watch_timer, NULL);
	uv_close((uv_handle_t *)&m->sig_term, NULL);
	uv_close((uv_handle_t *)&m->sig_int, NULL);
	uv_close((uv_handle_t *)&m->sig_hup, NULL);
}

/* The main worker has no connection left: done once the others are. */
static void main_drained(struct moat *m)
{
	if (m->workers_done + 1 >= m->n_workers)
		stop_finish(m);
}

static void on_drain_timeout(uv_timer_t *t)
{
	stop_finish(t->data);
}

/* SIGTERM/SIGINT: stop accepting; MQTT 5 clients get DISCONNECT 0x8B;
 * the others may finish until drain_timeout. A second signal stops now. */
static void on_stop_signal(uv_signal_t *h, int signum)
{
	struct moat *m = h->data;

	if (m->stopping) {
		log_event(LOG_WARN, "stop", "signal", strsignal(signum),
			  "result", "second signal: closing every connection",
			  NULL);
		stop_finish(m);
		return;
	}
	m->stopping = 1;
	{
		char n[24];

		snprintf(n, sizeof(n), "%llu",
			 (unsigned long long)m->conns_current);
		log_event(LOG_INFO, "stop", "signal", strsignal(signum),
			  "connections", n, NULL);
	}
	moat_close_listeners(m);
	checks_stop(m->gen);
	moat_jwks_stop(m);
	stats_stop(m);
	metrics_stop(m);
	m->on_drained = main_drained;
	uv_timer_start(&m->drain_timer, on_drain_timeout,
		       m->cfg->limits.drain_timeout_ms, 0);
	for (unsigned k = 1; k < m->n_workers; k++)
		worker_post(m->workers[k], w_stop, NULL);
	conn_stop_all(m);
	if (!m->conns && m->on_drained)
		main_drained(m);
}

/* Once a second: keep the staples of our own certificates fresh, and
 * recheck the answers of connected client certificates before they
 * expire (a revoked one closes its sessions, see on_ocsp_revoked). */
static void ocsp_housekeeping(struct moat *m)
{
	const struct cfg_ocsp *any = NULL;

	if (!m->ocsp || !m->gen || m->stopping)
		return;
	for (size_t i = 0; i < m->n_listeners; i++) {
		const struct tls_ctx *t = m->gen->tls[i];
		const struct cfg_ocsp *o;
		struct ocsp_opts opts;

		if (!t) /* a plain ws:// listener */
			continue;
		o = &t->cfg->ocsp;
		opts = (struct ocsp_opts){o->timeout_ms, o->stale_if_error_ms,
					  o->max_age_ms};

		if (t->staple.mode == CFG_STAPLE_AUTO && t->staple.req)
			ocsp_prefetch(m->ocsp, t->staple.url, t->staple.req,
				      t->staple.req_len, &opts);
		if (o->mode != CFG_OCSP_OFF)
			any = o;
	}
	if (any) {
		struct ocsp_opts opts = {any->timeout_ms, any->stale_if_error_ms,
					 any->max_age_ms};

		ocsp_tick(m->ocsp, &opts, 100);
	}
}

static void on_reject_log_timer(uv_timer_t *t)
{
	struct moat *m = t->data;

	conn_reject_log_flush(m);
	scratch_trim();
	for (unsigned k = 1; k < m->n_workers && !m->stopping; k++)
		worker_post(m->workers[k], w_tick, NULL);
	if (m->sources)
		src_sweep(m->sources, util_now_ms());
	ocsp_housekeeping(m);
}

/* OCSP found a certificate revoked: its live sessions go. */
static void on_ocsp_revoked(void *arg, const uint8_t *certid, size_t len)
{
	struct moat *m = arg;

	for (unsigned k = 1; k < m->n_workers; k++) {
		struct revoked_id *r = malloc(sizeof(*r) + len);

		if (r) {
			r->len = len;
			memcpy(r->certid, certid, len);
			worker_post(m->workers[k], w_revoked, r);
		}
	}
	conn_revoked(m, certid, len, "ocsp");
}

static struct moat *the_moat; /* for the resumption check below */

static int ocsp_known_revoked(const uint8_t *certid, size_t len)
{
	return the_moat && the_moat->ocsp &&
	       ocsp_cache_says_revoked(the_moat->ocsp, certid, len);
}

/* The files a configuration names beside itself are watched without a
 * signal: the CRL, the JWK Set and the ticket keys of each listener. A
 * change of size, mtime or inode of any of them reloads the configuration
 * (logged as crl_changed, the first of them to be watched). */
#define CRL_WATCH_MS 1000


static void on_crl_watch(uv_timer_t *t)
{
	struct moat *m = t->data;
	uint64_t sig = moat_files_signature(m->cfg);
	char *errors = NULL;

	if (sig == m->crl_sig || m->stopping)
		return;
	log_event(LOG_INFO, "crl_changed", "result", "reloading", NULL);
	if (moat_reload(m, &errors) < 0) /* refused: not again until the
					    files change again */
		m->crl_sig = sig;
	free(errors);
}

static void on_hup(uv_signal_t *h, int signum)
{
	char *errors = NULL;

	(void)signum;
	moat_reload(h->data, &errors);
	free(errors);
}

static int drop_privileges(const struct cfg *cfg)
{
	if (cfg->group) {
		struct group *g = getgrnam(cfg->group);

		if (!g || setgroups(0, NULL) < 0 || setgid(g->gr_gid) < 0) {
			fprintf(stderr, "moat: cannot switch to group '%s'\n",
				cfg->group);
			return -1;
		}
	}
	if (cfg->user) {
		struct passwd *p = getpwnam(cfg->user);

		if (!p || (!cfg->group && setgid(p->pw_gid) < 0) ||
		    setuid(p->pw_uid) < 0) {
			fprintf(stderr, "moat: cannot switch to user '%s'\n",
				cfg->user);
			return -1;
		}
	}
	return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static int run(const char *path)
{
	struct moat *m = calloc(1, sizeof(*m));
	struct gen *g;
	char *errors = NULL;
	int code = 3;

	if (!m)
		return 3;
	g = gen_load(path, &errors);
	if (!g) {
		fputs(errors ? errors : "config: cannot load\n", stderr);
		free(errors);
		free(m);
		return 1;
	}
	if (g->cfg->warnings)
		fputs(g->cfg->warnings, stderr);
	m->config_path = path;
	m->loop = uv_default_loop();
	m->main = m;
	m->n_workers = 1;
	worker_mbox_init(m);
	m->start_ms = util_now_ms();
	m->start_time = time(NULL);
	signal(SIGPIPE, SIG_IGN);
	uv_timer_init(m->loop, &m->drain_timer);
	m->drain_timer.data = m;
	uv_timer_init(m->loop, &m->reject_log_timer);
	m->reject_log_timer.data = m;
	uv_timer_init(m->loop, &m->crl_watch_timer);
	m->crl_watch_timer.data = m;
	m->ocsp = ocsp_cache_new(m->loop);
	m->sources = src_table_new();
	if (!m->ocsp || !m->sources)
		goto out;
	servers_set_workers(g->cfg->workers);
	if (workers_create(m, g->cfg->workers) < 0) {
		fprintf(stderr, "moat: cannot create %u workers\n",
			g->cfg->workers);
		gen_put(g);
		goto out;
	}
	the_moat = m;
	ocsp_set_revoked_hook(m->ocsp, on_ocsp_revoked, m);
	tls_set_revoked_lookup(ocsp_known_revoked);
	if (moat_apply(m, g, &errors) < 0) {
		fputs(errors, stderr);
		goto out;
	}
	if (stats_start(m, &errors) < 0 || metrics_start(m, &errors) < 0) {
		fputs(errors, stderr);
		goto out;
	}
	if (drop_privileges(m->cfg) < 0)
		goto out;
	uv_signal_init(m->loop, &m->sig_term);
	uv_signal_init(m->loop, &m->sig_int);
	uv_signal_init(m->loop, &m->sig_hup);
	m->sig_term.data = m->sig_int.data = m->sig_hup.data = m;
	uv_signal_start(&m->sig_term, on_stop_signal, SIGTERM);
	uv_signal_start(&m->sig_int, on_stop_signal, SIGINT);
	uv_signal_start(&m->sig_hup, on_hup, SIGHUP);
	__atomic_store_n(&m->fd_conns, UINT64_MAX, __ATOMIC_RELAXED);
	if (workers_start(m) < 0) {
		fprintf(stderr, "moat: cannot start the worker threads\n");
		goto out;
	}
	fd_budget(m);
	uv_timer_start(&m->reject_log_timer, on_reject_log_timer, 0, 1000);
	m->crl_sig = moat_files_signature(m->cfg);
	uv_timer_start(&m->crl_watch_timer, on_crl_watch, CRL_WATCH_MS,
		       CRL_WATCH_MS);
	{
		char pid[16], nl[16], nw[16];

		snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		snprintf(nl, sizeof(nl), "%zu", m->n_listeners);
		snprintf(nw, sizeof(nw), "%u", m->n_workers);
		log_event(LOG_INFO, "start", "version", MOAT_VERSION, "pid",
			  pid, "listeners", nl, "workers", nw, "config", path,
			  NULL);
	}
	uv_run(m->loop, UV_RUN_DEFAULT);
	code = 0;
out:
	free(errors);
	/* Close whatever is left (after an early failure) and let every
	 * close callback run before freeing what they point at. */
	if (m->gen)
		checks_stop(m->gen);
	if (m->stopping != 2) /* an early failure: stop the workers */
		for (unsigned k = 1; k < m->n_workers; k++) {
			worker_post(m->workers[k], w_stop, NULL);
			worker_post(m->workers[k], w_close_all, NULL);
		}
	workers_join(m, conn_close_all);
	moat_close_listeners(m);
	moat_jwks_stop(m);
	stats_stop(m);
	metrics_stop(m);
	ocsp_cache_free(m->ocsp);
	m->ocsp = NULL;
	src_table_free(m->sources);
	uv_run(m->loop, UV_RUN_DEFAULT);
	uv_walk(m->loop, close_walk, NULL);
	uv_run(m->loop, UV_RUN_DEFAULT);
	uv_loop_close(m->loop);
	gen_put(m->gen);
	worker_mbox_drop(m); /* from workers, too late */
	free(m->workers);
	free(m);
	return code;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int check = 0, code;

	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc - 2, argv + 2);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "-v") == 0) {
			print_version();
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--check") == 0) {
			check = 1;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!path) {
		usage(stderr);
		return 2;
	}
	if (tls_global_init() < 0) {
		fprintf(stderr, "moat: wolfSSL_Init failed\n");
		return 3;
	}
	if (check) {
		char *errors = NULL;
		struct gen *g = gen_load(path, &errors);

		if (!g) {
			fputs(errors ? errors : "config: cannot load\n", stderr);
			free(errors);
			tls_global_cleanup();
			return 1;
		}
		if (g->cfg->warnings) /* valid, but worth a second look */
			fputs(g->cfg->warnings, stderr);
		gen_put(g);
		tls_global_cleanup();
		printf("%s: ok\n", path);
		return 0;
	}
	code = run(path);
	tls_global_cleanup();
	return code;
}
