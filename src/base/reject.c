/* reject.c - the one table of reject causes (see reject.h). The CONNACK
 * codes are the contract's: 0x02/0x85 identifier, 0x03/0x88 unavailable,
 * 0x05/0x87 not authorized, 0x01/0x84 protocol version, 0x95 packet too
 * large; a cause without a code closes after its TLS alert (or at once).
 * Some callers refine a code by context (a CONNECT that is malformed vs a
 * protocol error in MQTT 5); they still count the cause named here. */
#include <stddef.h>

#include "base/reject.h"

static const struct reject_info table[REJ__COUNT] = {
    /*                        name                 TLS alert        v3    v5 */
    [REJ_NO_CERT] = {"no_cert",
		     "certificate_required (1.3), handshake_failure (1.2)", -1,
		     -1},
    [REJ_UNKNOWN_CA] = {"unknown_ca", "unknown_ca", -1, -1},
    [REJ_BAD_CERT] = {"bad_cert", "bad_certificate", -1, -1},
    [REJ_CERT_EXPIRED] = {"cert_expired", "certificate_expired", -1, -1},
    [REJ_CERT_NOT_YET_VALID] = {"cert_not_yet_valid", "certificate_expired", -1,
				-1},
    [REJ_CERT_REVOKED] = {"cert_revoked", "certificate_revoked", -1, -1},
    [REJ_TLS_ERROR] = {"tls_error", NULL, -1, -1},
    [REJ_HANDSHAKE_TIMEOUT] = {"handshake_timeout", NULL, -1, -1},
    [REJ_CONNECT_TIMEOUT] = {"connect_timeout", NULL, -1, -1},
    [REJ_BAD_CONNECT] = {"bad_connect", NULL, -1, 0x81},
    [REJ_BAD_PROTOCOL] = {"bad_protocol", NULL, 0x01, 0x84},
    [REJ_PACKET_TOO_LARGE] = {"packet_too_large", NULL, -1, 0x95},
    [REJ_CLIENT_ID_MISMATCH] = {"client_id_mismatch", NULL, 0x02, 0x85},
    [REJ_NO_IDENTITY] = {"no_identity", NULL, 0x05, 0x87},
    [REJ_NO_SERVER] = {"no_server", NULL, 0x03, 0x88},
    [REJ_MAX_CONNECTIONS] = {"max_connections", NULL, -1, -1},
    [REJ_OCSP_UNKNOWN] = {"ocsp_unknown", NULL, 0x05, 0x87},
    [REJ_OCSP_UNAVAILABLE] = {"ocsp_unavailable", NULL, 0x03, 0x88},
    [REJ_OCSP_NO_URL] = {"ocsp_no_url", NULL, 0x05, 0x87},
    [REJ_BAD_PROXY] = {"bad_proxy", NULL, -1, -1},
    [REJ_PER_SOURCE] = {"per_source_limit", NULL, -1, -1},
    [REJ_CRL_EXPIRED] = {"crl_expired", "bad_certificate", -1, -1},
    /* 0x04 / 0x86 Bad user name or password, 0x05 / 0x87 Not authorized */
    [REJ_TOKEN_MISSING] = {"token_missing", NULL, 0x04, 0x86},
    [REJ_TOKEN_INVALID] = {"token_invalid", NULL, 0x04, 0x86},
    [REJ_TOKEN_EXPIRED] = {"token_expired", NULL, 0x04, 0x86},
    [REJ_TOKEN_CLAIMS] = {"token_claims", NULL, 0x05, 0x87},
    /* after the CONNACK: MQTT 5 DISCONNECT 0x87, then close */
    [REJ_TOKEN_EXPIRED_LIVE] = {"token_expired_live", NULL, -1, -1},
    /* a CONNECT with an Authentication Method (MQTT 5 only): 0x8C Bad
     * authentication method; the broker never authenticates the device */
    [REJ_AUTH_METHOD] = {"auth_method", NULL, -1, 0x8C},
    /* after the CONNACK: MQTT 5 DISCONNECT 0x82 Protocol Error, close */
    [REJ_PROTOCOL_VIOLATION] = {"protocol_violation", NULL, -1, -1},
    [REJ_CERT_EXPIRED_LIVE] = {"cert_expired_live", NULL, -1, -1},
    /* a claim certificate, or one in renew_grace, did more than enroll:
     * MQTT 5 DISCONNECT 0x87, close */
    [REJ_ENROLL_ONLY] = {"enroll_only", NULL, -1, -1},
    /* WebSocket: an HTTP status before the upgrade, a close code after */
    [REJ_WS_BAD_REQUEST] = {"ws_bad_request", NULL, -1, -1},
    [REJ_WS_VERSION] = {"ws_version", NULL, -1, -1},
    [REJ_WS_PATH] = {"ws_path", NULL, -1, -1},
    [REJ_WS_ORIGIN] = {"ws_origin", NULL, -1, -1},
    [REJ_WS_HEADERS_TOO_LARGE] = {"ws_headers_too_large", NULL, -1, -1},
    [REJ_WS_PROTOCOL] = {"ws_protocol", NULL, -1, -1},
    /* topic rules: a denied PUBLISH or SUBSCRIBE filter is answered in
     * its own packet (PUBACK / PUBREC / SUBACK 0x87, 3.1.1 0x80) and the
     * session goes on; the will at CONNECT is Not authorized */
    [REJ_ACL_PUBLISH] = {"acl_publish", NULL, -1, -1},
    [REJ_ACL_SUBSCRIBE] = {"acl_subscribe", NULL, -1, -1},
    [REJ_ACL_WILL] = {"acl_will", NULL, 0x05, 0x87},
    [REJ_ACL_LIVE] = {"acl_live", NULL, -1, -1},
    /* far over mqtt.rate: MQTT 5 DISCONNECT 0x96, close */
    [REJ_RATE_LIMIT] = {"rate_limit", NULL, -1, -1},
    /* EST: answered with an HTTP status, then closed */
    [REJ_EST_BAD_REQUEST] = {"est_bad_request", NULL, -1, -1},
    [REJ_EST_TOO_LARGE] = {"est_too_large", NULL, -1, -1},
    [REJ_EST_UNAUTHORIZED] = {"est_unauthorized", NULL, -1, -1},
    [REJ_EST_TIMEOUT] = {"est_timeout", NULL, -1, -1},
};

const struct reject_info *reject_info(enum reject_cause r)
{
	static const struct reject_info unknown = {"unknown", NULL, -1, -1};

	return (unsigned)r < REJ__COUNT ? &table[r] : &unknown;
}

const char *reject_name(enum reject_cause r)
{
	return reject_info(r)->name;
}

int reject_connack(enum reject_cause r, uint8_t version)
{
	const struct reject_info *i = reject_info(r);

	if (!version)
		return REJECT_NO_CONNACK;
	return version == 5 ? i->connack5 : i->connack3;
}
