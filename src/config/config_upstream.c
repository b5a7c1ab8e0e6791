/* config_upstream.c - upstreams[] of the configuration: balance, PROXY
 * header sent, timeouts, health checks and servers, with each server's
 * address parsed now (a literal) or resolved later by cfg_server_set_addrs
 * (a name). Called by the top level in config.c through parse_upstreams();
 * uses the getters of config_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_int.h"

#define MAX_SERVERS 256

static const char *const balance_names[] = {"round-robin",
					    "least-connections", "client-id",
					    NULL};
static const char *const health_names[] = {"none", "tcp", "mqtt", NULL};
static const char *const proxy_names[] = {"off", "v1", "v2", NULL};
static const char *const prefer_names[] = {"any", "ipv4", "ipv6", NULL};

size_t cfg_server_set_addrs(struct cfg_server *s, const struct addrinfo *res,
			    enum cfg_prefer prefer)
{
	s->n_addrs = util_addr_list(s->addrs, CFG_MAX_ADDRS, res,
				    prefer == CFG_PREFER_IPV4	? AF_INET
				    : prefer == CFG_PREFER_IPV6 ? AF_INET6
								: AF_UNSPEC);
	return s->n_addrs;
}

const char *cfg_balance_name(enum cfg_balance b)
{
	return (unsigned)b < 3 ? balance_names[b] : "?";
}

static int health_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		       void *arg)
{
	struct cfg_health *h = arg;

	(void)k;
	if (!strcmp(key, "type"))
		GET_ENUM(x, v, "health.type", health_names, h->type);
	else if (!strcmp(key, "interval"))
		get_duration(x, v, "health.interval", &h->interval_ms);
	else if (!strcmp(key, "timeout"))
		get_duration(x, v, "health.timeout", &h->timeout_ms);
	else if (!strcmp(key, "rise"))
		get_u32(x, v, "health.rise", 1, 1000, &h->rise);
	else if (!strcmp(key, "fall"))
		get_u32(x, v, "health.fall", 1, 1000, &h->fall);
	else
		return 0;
	return 1;
}

static int server_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		       void *arg)
{
	struct cfg_server *s = arg;

	(void)k;
	if (!strcmp(key, "name")) {
		get_str(x, v, "server name", &s->name);
	} else if (!strcmp(key, "address")) {
		char host[256];
		uint16_t port;
		struct sockaddr_storage ss;
		socklen_t len;

		s->address_pos = pos_of(x, v);
		if (get_str(x, v, "server address", &s->address) != 0)
			return 1;
		if (util_parse_addr(s->address, &ss, &len) == 0) {
			memcpy(&s->addrs[0], &ss, len);
			s->n_addrs = 1;
		} else if (util_parse_hostport(s->address, host, sizeof(host),
					       &port) < 0) {
			ERR(x, v, "server address: bad address '%s' (write "
				  "127.0.0.1:1883, [::1]:1883 or "
				  "broker.example:1883)",
			    s->address);
		}
	} else if (!strcmp(key, "weight")) {
		get_u32(x, v, "server weight", 0, 256, &s->weight);
	} else {
		return 0;
	}
	return 1;
}

static void parse_servers(struct pctx *x, struct cfg_upstream *u, node_t *seq,
			  const char *sect)
{
	size_t n;
	char ss[64];

	if (want_seq(x, seq, "servers"))
		return;
	n = (size_t)(seq->data.sequence.items.top -
		     seq->data.sequence.items.start);
	if (n > MAX_SERVERS) {
		ERR(x, seq, "%s.servers: at most %d servers", sect,
		    MAX_SERVERS);
		return;
	}
	free(u->servers);
	u->servers = calloc(n ? n : 1, sizeof(*u->servers));
	if (!u->servers)
		return;
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		node_t *e = N(x, *it);
		struct cfg_server *s = &u->servers[u->n_servers];

		if (!e)
			continue;
		snprintf(ss, sizeof(ss), "%s.servers[%zu]", sect, u->n_servers);
		if (want_map(x, e, ss))
			continue;
		s->weight = 1;
		s->pos = pos_of(x, e);
		u->n_servers++;
		each_pair(x, e, ss, server_pair, s);
		if (!s->name)
			ERR(x, e, "%s: missing key 'name'", ss);
		if (!s->address)
			ERR(x, e, "%s: missing key 'address'", ss);
		for (size_t j = 0; s->name && j + 1 < u->n_servers; j++)
			if (u->servers[j].name &&
			    !strcmp(u->servers[j].name, s->name))
				ERR(x, e, "%s: duplicate server name '%s'", ss,
				    s->name);
	}
}

struct up_arg {
	struct cfg_upstream *u;
	const char *sect;
};

static int upstream_pair(struct pctx *x, const char *key, node_t *k,
			 node_t *v, void *arg)
{
	struct up_arg *a = arg;
	struct cfg_upstream *u = a->u;

	if (!strcmp(key, "name")) {
		get_str(x, v, "upstream name", &u->name);
	} else if (!strcmp(key, "balance")) {
		GET_ENUM(x, v, "balance", balance_names, u->balance);
	} else if (!strcmp(key, "send_proxy")) {
		u->send_proxy_pos = pos_of(x, k);
		GET_ENUM(x, v, "send_proxy", proxy_names, u->send_proxy);
	} else if (!strcmp(key, "connect_timeout")) {
		get_duration(x, v, "connect_timeout", &u->connect_timeout_ms);
	} else if (!strcmp(key, "resolve_prefer")) {
		GET_ENUM(x, v, "resolve_prefer", prefer_names,
			 u->resolve_prefer);
	} else if (!strcmp(key, "health")) {
		if (want_map(x, v, "health") == 0)
			each_pair(x, v, "health", health_pair, &u->health);
	} else if (!strcmp(key, "servers")) {
		parse_servers(x, u, v, a->sect);
	} else {
		return 0;
	}
	return 1;
}

void parse_upstreams(struct pctx *x, node_t *seq)
{
	struct cfg *c = x->cfg;
	size_t n;

	if (want_seq(x, seq, "upstreams"))
		return;
	n = (size_t)(seq->data.sequence.items.top -
		     seq->data.sequence.items.start);
	c->upstreams = calloc(n ? n : 1, sizeof(*c->upstreams));
	if (!c->upstreams)
		return;
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		node_t *e = N(x, *it);
		struct cfg_upstream *u = &c->upstreams[c->n_upstreams];
		char sect[48];
		struct up_arg a = {u, sect};

		if (!e)
			continue;
		snprintf(sect, sizeof(sect), "upstreams[%zu]", c->n_upstreams);
		if (want_map(x, e, sect))
			continue;
		u->balance = CFG_BAL_CLIENT_ID;
		u->connect_timeout_ms = 3000;
		u->health.type = CFG_HEALTH_TCP;
		u->health.interval_ms = 2000;
		u->health.timeout_ms = 1000;
		u->health.rise = 2;
		u->health.fall = 3;
		u->pos = pos_of(x, e);
		c->n_upstreams++;
		each_pair(x, e, sect, upstream_pair, &a);
		if (!u->name)
			ERR(x, e, "%s: missing key 'name'", sect);
		if (!find_key(x, e, "servers"))
			ERR(x, e, "%s: missing key 'servers'", sect);
		else if (u->n_servers == 0 &&
			 find_key(x, e, "servers")->type ==
				 YAML_SEQUENCE_NODE)
			ERR(x, find_key(x, e, "servers"),
			    "%s.servers: at least one server is needed", sect);
	}
}
