/* jwks_url.c - JWK Sets fetched from mqtt.token.jwks_url (see jwks_url.h).
 * The source is shared by a generation and its workers and swaps the set
 * under a mutex (a reference is taken under it, so a set is never freed
 * while a CONNECT verifies with it); the fetcher runs the HTTP(S) exchange
 * of tls/http.c on the main loop and logs and counts every result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/jwks_url.h"
#include "base/log.h"
#include "tls/http.h"

#define JWKS_REQUEST                                                           \
	"GET %.*s HTTP/1.0\r\nHost: %s\r\n"                                    \
	"Accept: application/jwk-set+json, application/json\r\n"               \
	"User-Agent: moat\r\nConnection: close\r\n\r\n"

int jwks_src_new(const struct cfg_token *t, struct jwks_src **out, char *msg,
		 size_t msglen)
{
	struct jwks_src *s = calloc(1, sizeof(*s));
	const char *path;
	size_t path_len;
	int tls, n, defport, r = -ENOMEM;
	char hosthdr[280];

	*out = NULL;
	snprintf(msg, msglen, "mqtt.token.jwks_url: out of memory");
	if (!s || !(s->url = strdup(t->jwks_url)))
		goto fail;
	s->refs = 1;
	s->refresh_ms = t->jwks_refresh_ms;
	s->timeout_ms = t->jwks_timeout_ms;
	if (http_url_parse_any(s->url, strlen(s->url), &tls, s->host,
			       sizeof(s->host), s->port, sizeof(s->port), &path,
			       &path_len) < 0) {
		snprintf(msg, msglen,
			 "mqtt.token.jwks_url: not a valid http:// or "
			 "https:// URL: '%s'",
			 s->url);
		r = -EINVAL;
		goto fail;
	}
	defport = !strcmp(s->port, tls ? "443" : "80");
	snprintf(hosthdr, sizeof(hosthdr), "%s%s%s%s%s",
		 strchr(s->host, ':') ? "[" : "", s->host,
		 strchr(s->host, ':') ? "]" : "", defport ? "" : ":",
		 defport ? "" : s->port);
	n = snprintf(NULL, 0, JWKS_REQUEST, (int)path_len, path, hosthdr);
	if (n < 0 || !(s->request = malloc((size_t)n + 1)))
		goto fail;
	snprintf(s->request, (size_t)n + 1, JWKS_REQUEST, (int)path_len, path,
		 hosthdr);
	s->request_len = (size_t)n;
	if (tls) {
		char err[300];

		s->ctx = http_tls_ctx_new(t->jwks_ca, err, sizeof(err));
		if (!s->ctx) {
			snprintf(msg, msglen, "mqtt.token.%s: %s",
				 t->jwks_ca ? "jwks_ca" : "jwks_url", err);
			r = -EINVAL;
			goto fail;
		}
	}
	if (uv_mutex_init(&s->lock) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (s) {
		http_tls_ctx_free(s->ctx);
		free(s->request);
		free(s->url);
	}
	free(s);
	return r;
}

void jwks_src_put(struct jwks_src *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	jwks_put(s->set);
	uv_mutex_destroy(&s->lock);
	http_tls_ctx_free(s->ctx);
	free(s->request);
	free(s->url);
	free(s);
}

struct jwks *jwks_src_get(struct jwks_src *s)
{
	struct jwks *set;

	uv_mutex_lock(&s->lock);
	set = jwks_get(s->set);
	uv_mutex_unlock(&s->lock);
	return set;
}

/* Put set (one reference, given) in force; the old one goes when its
 * last reader is done. */
static void src_swap(struct jwks_src *s, struct jwks *set)
{
	struct jwks *old;

	uv_mutex_lock(&s->lock);
	old = s->set;
	s->set = set;
	uv_mutex_unlock(&s->lock);
	jwks_put(old);
}

void jwks_src_inherit(struct jwks_src *s, struct jwks_src *old)
{
	if (!s->set)
		src_swap(s, jwks_src_get(old));
	if (strcmp(s->url, old->url) != 0)
		return;
	s->fetch_ok = old->fetch_ok;
	s->fetch_errors = old->fetch_errors;
	s->last_fetch = old->last_fetch;
	s->last_ok = old->last_ok;
	memcpy(s->last_detail, old->last_detail, sizeof(s->last_detail));
}

uint64_t jwks_src_next_delay(const struct jwks_src *s)
{
	if (s->last_ok || s->refresh_ms < JWKS_RETRY_MS)
		return s->refresh_ms;
	return JWKS_RETRY_MS;
}

/* ---- the fetcher ---- */

struct jwks_fetcher {
	uv_loop_t *loop;
	uv_timer_t timer;
	struct jwks_src *src; /* one reference */
	struct http_req *req; /* in flight, or NULL */
	char listener[64];
};

static void fetch_begin(struct jwks_fetcher *f);

static void on_timer(uv_timer_t *t)
{
	fetch_begin(t->data);
}

static void plan_next(struct jwks_fetcher *f, uint64_t delay_ms)
{
	f->src->next_fetch = (int64_t)time(NULL) + (int64_t)(delay_ms / 1000);
	uv_timer_start(&f->timer, on_timer, delay_ms, 0);
}

/* Record a result, log it, plan the next fetch. */
static void fetch_result(struct jwks_fetcher *f, struct jwks *set,
			 const char *detail)
{
	struct jwks_src *s = f->src;
	char keys[24];

	s->last_fetch = (int64_t)time(NULL);
	s->last_ok = set != NULL;
	snprintf(s->last_detail, sizeof(s->last_detail), "%s", detail);
	if (set) {
		s->fetch_ok++;
		set->loaded = s->last_fetch;
		snprintf(keys, sizeof(keys), "%zu", set->n);
		src_swap(s, set);
		log_event(LOG_INFO, "jwks_fetch", "listener", f->listener,
			  "url", s->url, "result", "ok", "keys", keys, NULL);
	} else {
		s->fetch_errors++;
		log_event(LOG_WARN, "jwks_fetch", "listener", f->listener,
			  "url", s->url, "result", "error", "detail", detail,
			  "keeping", s->set ? "the last good set" : "no set",
			  NULL);
	}
	plan_next(f, jwks_src_next_delay(s));
}

static void on_http_done(void *arg, const uint8_t *body, size_t len,
			 const char *why)
{
	struct jwks_fetcher *f = arg;
	struct jwks *set = NULL;
	struct jwks_err err;
	char detail[sizeof(f->src->last_detail)];

	f->req = NULL;
	if (!body) {
		fetch_result(f, NULL, why);
		return;
	}
	if (len > JWK_MAX_FILE) {
		fetch_result(f, NULL, "JWK Set larger than 1 MiB");
		return;
	}
	if (jwks_parse((const char *)body, len, &set, &err) < 0) {
		if (err.line)
			snprintf(detail, sizeof(detail),
				 "not a JWK Set: %d:%d: %.150s", err.line,
				 err.col, err.msg);
		else
			snprintf(detail, sizeof(detail),
				 "not a JWK Set: %.150s", err.msg);
		fetch_result(f, NULL, detail);
		return;
	}
	fetch_result(f, set, "ok");
}

static void fetch_begin(struct jwks_fetcher *f)
{
	struct jwks_src *s = f->src;

	if (f->req)
		return;
	if (!s->ctx) /* allowed only by jwks_insecure_http: true */
		log_event(
		    LOG_WARN, "jwks_insecure_http", "listener", f->listener,
		    "url", s->url, "detail",
		    "fetching the keys tokens are checked with over plain "
		    "HTTP: anyone on the path can replace them",
		    NULL);
	s->next_fetch = 0;
	f->req = http_start_tls(f->loop, s->host, s->port, s->request,
				s->request_len, s->timeout_ms, JWK_MAX_FILE,
				s->ctx, on_http_done, f);
	if (!f->req)
		fetch_result(f, NULL, "cannot start the request");
}

struct jwks_fetcher *jwks_fetcher_new(uv_loop_t *loop, struct jwks_src *src,
				      const char *listener)
{
	struct jwks_fetcher *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->loop = loop;
	f->src = src;
	__atomic_add_fetch(&src->refs, 1, __ATOMIC_ACQ_REL);
	snprintf(f->listener, sizeof(f->listener), "%s", listener);
	uv_timer_init(loop, &f->timer);
	f->timer.data = f;
	uv_unref((uv_handle_t *)&f->timer);
	return f;
}

void jwks_fetcher_start(struct jwks_fetcher *f, uint64_t delay_ms)
{
	if (delay_ms)
		plan_next(f, delay_ms);
	else
		fetch_begin(f);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct jwks_fetcher *f = h->data;

	jwks_src_put(f->src);
	free(f);
}

void jwks_fetcher_free(struct jwks_fetcher *f)
{
	if (!f)
		return;
	if (f->req)
		http_abort(f->req);
	f->req = NULL;
	f->src->next_fetch = 0;
	uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}

int jwks_src_fetch_now(struct jwks_src *s, const char *listener)
{
	uv_loop_t loop;
	struct jwks_fetcher *f;

	if (uv_loop_init(&loop) < 0)
		return -ENOMEM;
	f = jwks_fetcher_new(&loop, s, listener);
	if (f) {
		fetch_begin(f);
		/* the request's handles keep the loop running until it ends
		 * (the timeout at most); then the fetcher's timer closes */
		uv_run(&loop, UV_RUN_DEFAULT);
		jwks_fetcher_free(f);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	uv_loop_close(&loop);
	return s->set ? 0 : -ENOENT;
}
