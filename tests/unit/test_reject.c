/* test_reject.c - the reject table against the contract: every cause has
 * a unique name, and the CONNACK each version gets is the one of
 * the spec's reject table (0x02/0x85, 0x03/0x88, 0x05/0x87, ...); a client
 * whose protocol level is not known yet gets no CONNACK. moat-ctl(8)'s
 * table is checked against these names by tests/integration (show info). */
#include <string.h>

#include "base/reject.h"
#include "test.h"

static const struct {
	enum reject_cause r;
	const char *name;
	int v3, v5;
} cases[] = {
    {REJ_NO_CERT, "no_cert", -1, -1},
    {REJ_UNKNOWN_CA, "unknown_ca", -1, -1},
    {REJ_CERT_REVOKED, "cert_revoked", -1, -1},
    {REJ_HANDSHAKE_TIMEOUT, "handshake_timeout", -1, -1},
    {REJ_CONNECT_TIMEOUT, "connect_timeout", -1, -1},
    {REJ_BAD_CONNECT, "bad_connect", -1, 0x81},
    {REJ_BAD_PROTOCOL, "bad_protocol", 0x01, 0x84},
    {REJ_PACKET_TOO_LARGE, "packet_too_large", -1, 0x95},
    {REJ_CLIENT_ID_MISMATCH, "client_id_mismatch", 0x02, 0x85},
    {REJ_NO_IDENTITY, "no_identity", 0x05, 0x87},
    {REJ_NO_SERVER, "no_server", 0x03, 0x88},
    {REJ_MAX_CONNECTIONS, "max_connections", -1, -1},
    {REJ_OCSP_UNKNOWN, "ocsp_unknown", 0x05, 0x87},
    {REJ_OCSP_UNAVAILABLE, "ocsp_unavailable", 0x03, 0x88},
    {REJ_OCSP_NO_URL, "ocsp_no_url", 0x05, 0x87},
    {REJ_BAD_PROXY, "bad_proxy", -1, -1},
    {REJ_PER_SOURCE, "per_source_limit", -1, -1},
    {REJ_CRL_EXPIRED, "crl_expired", -1, -1},
    {REJ_TOKEN_MISSING, "token_missing", 0x04, 0x86},
    {REJ_TOKEN_INVALID, "token_invalid", 0x04, 0x86},
    {REJ_TOKEN_EXPIRED, "token_expired", 0x04, 0x86},
    {REJ_TOKEN_CLAIMS, "token_claims", 0x05, 0x87},
    {REJ_TOKEN_EXPIRED_LIVE, "token_expired_live", -1, -1},
    {REJ_AUTH_METHOD, "auth_method", -1, 0x8C},
    {REJ_PROTOCOL_VIOLATION, "protocol_violation", -1, -1},
    {REJ_CERT_EXPIRED_LIVE, "cert_expired_live", -1, -1},
    {REJ_ENROLL_ONLY, "enroll_only", -1, -1},
    {REJ_WS_BAD_REQUEST, "ws_bad_request", -1, -1},
    {REJ_WS_VERSION, "ws_version", -1, -1},
    {REJ_WS_PATH, "ws_path", -1, -1},
    {REJ_WS_ORIGIN, "ws_origin", -1, -1},
    {REJ_WS_HEADERS_TOO_LARGE, "ws_headers_too_large", -1, -1},
    {REJ_WS_PROTOCOL, "ws_protocol", -1, -1},
    {REJ_ACL_PUBLISH, "acl_publish", -1, -1},
    {REJ_ACL_SUBSCRIBE, "acl_subscribe", -1, -1},
    {REJ_ACL_WILL, "acl_will", 0x05, 0x87},
    {REJ_ACL_LIVE, "acl_live", -1, -1},
    {REJ_RATE_LIMIT, "rate_limit", -1, -1},
    {REJ_EST_BAD_REQUEST, "est_bad_request", -1, -1},
    {REJ_EST_TOO_LARGE, "est_too_large", -1, -1},
    {REJ_EST_UNAUTHORIZED, "est_unauthorized", -1, -1},
    {REJ_EST_TIMEOUT, "est_timeout", -1, -1},
};

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum reject_cause r = cases[i].r;

		CHECK(strcmp(reject_name(r), cases[i].name) == 0, "%s is %s",
		      cases[i].name, reject_name(r));
		CHECK(reject_connack(r, 4) == cases[i].v3, "%s v3.1.1: %d",
		      cases[i].name, reject_connack(r, 4));
		CHECK(reject_connack(r, 3) == cases[i].v3, "%s v3.1: %d",
		      cases[i].name, reject_connack(r, 3));
		CHECK(reject_connack(r, 5) == cases[i].v5, "%s v5: %d",
		      cases[i].name, reject_connack(r, 5));
		CHECK(reject_connack(r, 0) == REJECT_NO_CONNACK,
		      "%s: no version, no CONNACK", cases[i].name);
	}
	for (int a = 0; a < REJ__COUNT; a++) {
		const struct reject_info *ia = reject_info((enum reject_cause)a);

		CHECK(ia->name && *ia->name, "cause %d has a name", a);
		for (int b = a + 1; b < REJ__COUNT; b++)
			CHECK(strcmp(ia->name, reject_name((enum reject_cause)b)),
			      "causes %d and %d share %s", a, b, ia->name);
		/* a cause answered in TLS has no CONNACK, and the reverse */
		CHECK(!(ia->alert && (ia->connack3 >= 0 || ia->connack5 >= 0)),
		      "%s: alert and CONNACK", ia->name);
	}
	CHECK(strcmp(reject_name(REJ__COUNT), "unknown") == 0, "out of range");
	return test_done("reject");
}
