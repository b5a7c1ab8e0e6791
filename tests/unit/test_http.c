/* test_http.c - the URL and answer parsing of moat's own HTTP(S) client
 * (src/tls/http.c): http:// and https:// URLs into host, port and path
 * (default ports, IPv6 literals, what is refused), and whole answers
 * (status, Content-Length, truncation). The exchange itself runs against
 * real servers in tests/integration/test_jwks_url.py and test_ocsp.py. */
#include <string.h>

#include "tls/http.h"
#include "test.h"

static const struct {
	const char *url;
	int ok, tls;
	const char *host, *port, *path;
} urls[] = {
    {"http://a.example/jwks", 1, 0, "a.example", "80", "/jwks"},
    {"https://a.example/k?x=1", 1, 1, "a.example", "443", "/k?x=1"},
    {"HTTPS://a.example:8443", 1, 1, "a.example", "8443", "/"},
    {"https://[::1]:9/j", 1, 1, "::1", "9", "/j"},
    {"http://127.0.0.1:80/", 1, 0, "127.0.0.1", "80", "/"},
    {"http://", 0, 0, NULL, NULL, NULL},
    {"https://", 0, 0, NULL, NULL, NULL},
    {"ftp://a.example/", 0, 0, NULL, NULL, NULL},
    {"https://a.example:/x", 0, 0, NULL, NULL, NULL},
    {"https://a.example:44x/x", 0, 0, NULL, NULL, NULL},
    {"https://a.example:99999999/x", 0, 0, NULL, NULL, NULL},
    {"https://a.example/a b", 0, 0, NULL, NULL, NULL},
    {"https://[::1/x", 0, 0, NULL, NULL, NULL},
};

static void test_urls(void)
{
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		char host[64] = "", port[8] = "";
		const char *path = NULL;
		size_t plen = 0;
		int tls = -1;
		int r = http_url_parse_any(urls[i].url, strlen(urls[i].url),
					   &tls, host, sizeof(host), port,
					   sizeof(port), &path, &plen);

		CHECK((r == 0) == urls[i].ok, "%s: %d", urls[i].url, r);
		if (r || !urls[i].ok)
			continue;
		CHECK(tls == urls[i].tls && !strcmp(host, urls[i].host) &&
			  !strcmp(port, urls[i].port) &&
			  plen == strlen(urls[i].path) &&
			  !memcmp(path, urls[i].path, plen),
		      "%s: tls %d host %s port %s path %.*s", urls[i].url, tls,
		      host, port, (int)plen, path);
	}
	{ /* the OCSP entry point takes http:// only */
		char host[64], port[8];
		const char *path;
		size_t plen;

		CHECK(http_url_parse("https://a/", 10, host, sizeof(host), port,
				     sizeof(port), &path, &plen) < 0,
		      "http_url_parse refuses https");
	}
}

static const struct {
	const char *in;
	int eof, want;
	const char *body;
} answers[] = {
    {"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", 0, 1, "{}"},
    {"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\n{}", 0, 0, NULL},
    {"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\n{}", 1, -1, NULL},
    {"HTTP/1.1 200 OK\r\n\r\n{\"keys\":[]}", 1, 1, "{\"keys\":[]}"},
    {"HTTP/1.0 404 Not Found\r\n\r\n", 1, -1, NULL},
    {"<html>", 1, -1, NULL},
    {"garbage that is long enough\r\n\r\n", 1, -1, NULL},
};

static void test_answers(void)
{
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		const uint8_t *body = NULL;
		size_t blen = 0;
		const char *why = NULL;
		int r = http_answer((const uint8_t *)answers[i].in,
				    strlen(answers[i].in), answers[i].eof,
				    &body, &blen, &why);

		CHECK(r == answers[i].want, "answer %zu: %d (%s)", i, r,
		      why ? why : "");
		if (r == 1)
			CHECK(blen == strlen(answers[i].body) &&
				  !memcmp(body, answers[i].body, blen),
			      "answer %zu: body", i);
	}
}

int main(void)
{
	test_urls();
	test_answers();
	return test_done("http");
}
