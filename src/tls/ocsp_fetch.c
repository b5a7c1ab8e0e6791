/* ocsp_fetch.c - asking an OCSP responder (RFC 6960 over HTTP, GET when
 * the encoded request is under 255 bytes as RFC 5019 says, else POST),
 * and recording what it said in the cache entry: the answer, or a failure
 * with a stale "good" still usable within stale_if_error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/histo.h"
#include "base/log.h"
#include "tls/http.h"
#include "tls/ocsp_int.h"

/* ---- fetching ---- */

static void log_fetch(const struct ocsp_entry *e, const char *result,
		      const char *detail)
{
	log_event(result[0] == 'o' ? LOG_DEBUG : LOG_WARN, "ocsp_fetch",
		  "serial", e->serial, "url", e->url, "result", result,
		  "detail", detail, NULL);
}

/* Lock held. The fetch is over: record the answer or the failure, wake
 * the waiters, free f. resp is the HTTP body (NULL on failure). */
static void fetch_done_locked(struct ocsp_fetch *f, const uint8_t *resp,
			      size_t len, const char *why)
{
	struct ocsp_cache *oc = f->oc;
	struct ocsp_entry *e = f->e;
	struct ocsp_answer a;
	struct ocsp_certid id;
	enum ocsp_outcome out = OCSP_OUT_FAIL;

	e->fetch = NULL;
	histo_observe(&oc->st.latency, (double)(uv_hrtime() - f->t0_ns) / 1e9);
	id.der = e->key;
	id.len = e->key_len;
	id.serial = NULL;
	id.serial_len = 0;
	if (resp && ocsp_resp_parse(resp, len, &id, &a) == 0 &&
	    a.response_status == 0) {
		uint8_t *copy = malloc(len);
		int was_revoked = e->have && e->ans.cert_status == OCSP_CS_REVOKED;

		if (copy) {
			memcpy(copy, resp, len);
			free(e->resp);
			e->resp = copy;
			e->resp_len = len;
			e->ans = a;
			e->have = 1;
			e->fetched_at = ocsp_now_ms();
			e->max_age_ms = (int64_t)f->opts.max_age_ms;
			if (a.cert_status == OCSP_CS_GOOD)
				oc->st.good++;
			else if (a.cert_status == OCSP_CS_REVOKED)
				oc->st.revoked++;
			else
				oc->st.unknown++;
			log_fetch(e, "ok", ocsp_status_name(a.cert_status));
			if (a.cert_status == OCSP_CS_REVOKED && !was_revoked) {
				struct revoked_note *r =
				    malloc(sizeof(*r) + e->key_len);

				if (r) {
					r->len = e->key_len;
					memcpy(r->certid, e->key, e->key_len);
					r->next = oc->revoked;
					oc->revoked = r;
				}
			}
			ocsp_wake_all(oc, e, OCSP_OUT_OK);
			ocsp_evict(oc);
			free(f);
			return;
		}
		why = "out of memory";
	} else if (resp) {
		why = "not a successful OCSP response for this certificate";
	}
	oc->st.errors++;
	log_fetch(e, "error", why);
	if (e->have && e->ans.cert_status == OCSP_CS_GOOD &&
	    ocsp_now_ms() < ocsp_expires_ms(e) + (int64_t)f->opts.stale_ms)
		out = OCSP_OUT_STALE;
	ocsp_wake_all(oc, e, out);
	ocsp_evict(oc);
	free(f);
}

static void on_http_done(void *arg, const uint8_t *body, size_t len,
			 const char *why)
{
	struct ocsp_fetch *f = arg;
	struct ocsp_cache *oc = f->oc;

	uv_mutex_lock(&oc->lock);
	fetch_done_locked(f, body, len, why);
	ocsp_unlock_run(oc);
}

/* base64 of req, URL-encoded (RFC 6960 appendix A.1) into out. */
static size_t b64url(const uint8_t *in, size_t n, char *out, size_t cap)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		q[0] = tab[v >> 18 & 63];
		q[1] = tab[v >> 12 & 63];
		q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		for (int k = 0; k < 4; k++) {
			const char *enc = q[k] == '+' ? "%2B"
					  : q[k] == '/' ? "%2F"
					  : q[k] == '=' ? "%3D"
							: NULL;
			size_t l = enc ? 3 : 1;

			if (o + l >= cap)
				return 0;
			if (enc)
				memcpy(out + o, enc, 3);
			else
				out[o] = q[k];
			o += l;
		}
	}
	out[o] = 0;
	return o;
}

/* Lock held. Start fetching e's answer (GET when the encoded request is
 * small, else POST); a fetch that cannot start ends at once, as failed.
 * -1: not even that (a bad URL, out of memory). */
int ocsp_fetch_start(struct ocsp_cache *oc, struct ocsp_entry *e,
		       const uint8_t *req, size_t req_len,
		       const struct ocsp_opts *o)
{
	struct ocsp_fetch *f;
	const char *path;
	size_t path_len, cap, out_len;
	char host[256], port[8], enc[OCSP_GET_MAX + 1], *out;
	size_t enc_len;

	if (http_url_parse(e->url, strlen(e->url), host, sizeof(host), port,
			   sizeof(port), &path, &path_len) < 0)
		return -1;
	cap = path_len + req_len * 2 + 512 + OCSP_GET_MAX;
	f = calloc(1, sizeof(*f));
	out = malloc(cap);
	if (!f || !out) {
		free(f);
		free(out);
		return -1;
	}
	enc_len = b64url(req, req_len, enc, sizeof(enc));
	if (enc_len && path_len + 1 + enc_len <= OCSP_GET_MAX) {
		int slash = path[path_len - 1] == '/';

		out_len = (size_t)snprintf(
			out, cap,
			"GET %.*s%s%s HTTP/1.0\r\nHost: %s\r\n"
			"Connection: close\r\n\r\n",
			(int)path_len, path, slash ? "" : "/", enc, host);
	} else {
		out_len = (size_t)snprintf(
			out, cap,
			"POST %.*s HTTP/1.0\r\nHost: %s\r\n"
			"Content-Type: application/ocsp-request\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n",
			(int)path_len, path, host, req_len);
		memcpy(out + out_len, req, req_len);
		out_len += req_len;
	}
	if (!e->req || e->req_len != req_len || memcmp(e->req, req, req_len)) {
		uint8_t *r = malloc(req_len);

		if (r) {
			memcpy(r, req, req_len);
			free(e->req);
			e->req = r;
			e->req_len = req_len;
		}
	}
	f->oc = oc;
	f->e = e;
	f->opts = *o;
	f->t0_ns = uv_hrtime();
	e->fetch = f;
	oc->st.requests++;
	f->http = http_start(oc->loop, host, port, out, out_len, o->timeout_ms,
			     OCSP_MAX_RESPONSE, on_http_done, f);
	free(out);
	if (!f->http)
		fetch_done_locked(f, NULL, 0, "cannot resolve the responder");
	return 0;
}


void ocsp_fetch_abort(struct ocsp_fetch *f)
{
	http_abort(f->http);
	free(f);
}
