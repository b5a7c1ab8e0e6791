/* config_enroll.c - listeners[].mqtt.enroll: certificate renewal and
 * enrollment (docs/lifecycle.md). The issuing CA's certificate and key
 * (the key's file mode 600 or stricter, checked here so --check sees it),
 * the index moat appends to, validity and the renewal window, and the
 * claim CA. Loading the CA and key is src/tls/issue.c's. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config_int.h"

#define DAY_MS (86400ull * 1000)

static int enroll_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		       void *arg)
{
	struct cfg_enroll *e = arg;

	(void)k;
	if (!strcmp(key, "est")) {
		e->est_pos = pos_of(x, v);
		get_bool(x, v, "mqtt.enroll.est", &e->est);
	} else if (!strcmp(key, "topic")) {
		if (get_str(x, v, "mqtt.enroll.topic", &e->topic) == 0 &&
		    (!*e->topic || strlen(e->topic) > 200 ||
		     strpbrk(e->topic, "+#") ||
		     e->topic[strlen(e->topic) - 1] == '/'))
			ERR(x, v,
			    "mqtt.enroll.topic: a topic name of 1 to 200 "
			    "bytes without + or # and not ending in /");
	} else if (!strcmp(key, "ca_cert")) {
		get_path(x, v, "mqtt.enroll.ca_cert", &e->ca_cert,
			 &e->ca_cert_pos, 1);
	} else if (!strcmp(key, "ca_key")) {
		get_path(x, v, "mqtt.enroll.ca_key", &e->ca_key, &e->ca_key_pos,
			 1);
	} else if (!strcmp(key, "index")) {
		get_path(x, v, "mqtt.enroll.index", &e->index, &e->index_pos,
			 0);
	} else if (!strcmp(key, "validity")) {
		if (get_duration(x, v, "mqtt.enroll.validity",
				 &e->validity_ms) == 0 &&
		    (e->validity_ms < 3600000 ||
		     e->validity_ms > 3650 * DAY_MS))
			ERR(x, v, "mqtt.enroll.validity: from 1h to 3650d");
	} else if (!strcmp(key, "renew_before")) {
		if (get_duration(x, v, "mqtt.enroll.renew_before",
				 &e->renew_before_ms) == 0 &&
		    e->renew_before_ms > 3650 * DAY_MS)
			ERR(x, v, "mqtt.enroll.renew_before: at most 3650d");
	} else if (!strcmp(key, "renew_grace")) {
		if (get_duration(x, v, "mqtt.enroll.renew_grace",
				 &e->renew_grace_ms) == 0 &&
		    e->renew_grace_ms > 365 * DAY_MS)
			ERR(x, v, "mqtt.enroll.renew_grace: at most 365d");
	} else if (!strcmp(key, "bootstrap_ca")) {
		get_path(x, v, "mqtt.enroll.bootstrap_ca", &e->bootstrap_ca,
			 &e->bootstrap_ca_pos, 1);
	} else {
		return 0;
	}
	return 1;
}

void parse_enroll(struct pctx *x, node_t *k, node_t *v, struct cfg_enroll *e)
{
	struct stat st;

	e->pos = pos_of(x, k);
	if (want_map(x, v, "mqtt.enroll"))
		return;
	e->on = true;
	each_pair(x, v, "mqtt.enroll", enroll_pair, e);
	if (!e->ca_cert)
		ERR(x, v,
		    "mqtt.enroll: missing key 'ca_cert' (the issuing CA's "
		    "certificate)");
	if (!e->ca_key)
		ERR(x, v,
		    "mqtt.enroll: missing key 'ca_key' (the issuing CA's "
		    "private key)");
	if (!e->index)
		ERR(x, v,
		    "mqtt.enroll: missing key 'index' (where issued "
		    "certificates are recorded, `openssl ca` format)");
	/* the issuing CA's key must be its owner's alone */
	if (e->ca_key && stat(e->ca_key, &st) == 0 && (st.st_mode & 077))
		err_at(x, e->ca_key_pos.line, e->ca_key_pos.col,
		       "mqtt.enroll.ca_key: '%s' has mode %04o: the issuing "
		       "CA's key must be readable by its owner only (chmod "
		       "600)",
		       e->ca_key, (unsigned)(st.st_mode & 0777));
	if (e->renew_before_ms >= e->validity_ms)
		ERR(x, v,
		    "mqtt.enroll: renew_before must be shorter than "
		    "validity (a new certificate would be renewable at "
		    "once)");
}

void enroll_defaults(struct cfg_enroll *e)
{
	e->validity_ms = 90 * DAY_MS;
	e->renew_before_ms = 30 * DAY_MS;
	e->renew_grace_ms = 0;
}

void enroll_free(struct cfg_enroll *e)
{
	free(e->topic);
	free(e->ca_cert);
	free(e->ca_key);
	free(e->index);
	free(e->bootstrap_ca);
}

const char *cfg_enroll_topic(const struct cfg_enroll *e)
{
	return e->topic ? e->topic : "$moat/certs";
}
