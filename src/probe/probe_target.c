/* SPDX-License-Identifier: MIT */
/* Targets in and out of the engine: checked, given a socket, scheduled and made findable. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "probe_int.h"

/* What a conf must hold for its mode; 0, or -1 with EINVAL. */
static int
probe_target_check(const struct probe_target_conf *c)
{
	size_t min = c->proto != PROBE_STAMP ? PROBE_UDP_HDR :
	    stamppkt_min_len(c->key != NULL, c->cos);

	if ((c->addr->sa_family != AF_INET && c->addr->sa_family != AF_INET6) ||
	    c->addrlen > sizeof(struct sockaddr_storage) || !(c->interval > 0) ||
	    !(c->timeout > 0) || c->size < min || c->size > PROBE_BUF || c->dscp > 63 ||
	    (c->proto != PROBE_STAMP && c->proto != PROBE_UDP && c->proto != PROBE_TCP)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static void
probe_target_init(struct probe_engine *e, struct probe_target *t)
{
	memcpy(&t->addr, t->c.addr, t->c.addrlen);
	t->addrlen = t->c.addrlen;
	t->c.addr = (const struct sockaddr *)&t->addr;
	t->c.name = t->name;
	if (t->c.key != NULL) {
		t->key = *t->c.key;
		t->c.key = &t->key;
	}
	if (t->c.up_intervals == 0)
		t->c.up_intervals = 3;
	t->send.ssid = t->c.ssid;
	t->send.fmt = STAMP_TS_NTP;
	t->send.clock = e->clock;
	t->send.key = t->c.key;
	t->send.cos_dscp = t->c.cos ? (t->c.dscp >= 0 ? t->c.dscp : 0) : -1;
	stampstats_init(&t->ss, e->clock.synced, t->c.key != NULL, t->c.ssid, t->send.cos_dscp);
	t->id = e->next_id++;
	t->f.hops = t->f.reflector_dscp = t->f.reply_dscp = -1;
	t->next_send = t->key_at = 0;	/* the first probe at the next tick */
}

struct probe_target *
probe_target_add(struct probe_engine *e, const struct probe_target_conf *c)
{
	struct probe_target *t;

	if (probe_target_check(c) == -1)
		return NULL;
	if ((c->proto == PROBE_STAMP && probe_match(e, c->addr, c->proto, c->ssid) != NULL)) {
		errno = EEXIST;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->c = *c;
	t->name = strdup(c->name != NULL ? c->name : "");
	if (t->name == NULL)
		goto fail;
	/* TCP: a connection of its own, made with its first probe; else a shared socket. */
	if (c->proto == PROBE_TCP ? probe_tcp_init(t) == -1 :
	    (t->fd = probe_socket(e, c->addr->sa_family, c->proto)) == -1)
		goto fail;
	probe_target_init(e, t);
	if (probe_heap_push(e, t) == -1)
		goto fail;
	probe_match_insert(e, t);
	return t;
fail:
	if (c->proto == PROBE_TCP)
		probe_tcp_free(t);
	free(t->name);
	free(t);
	return NULL;
}

void
probe_target_remove(struct probe_engine *e, struct probe_target *t)
{
	probe_match_remove(e, t);
	probe_heap_remove(e, t);
	if (t->c.proto == PROBE_TCP)
		probe_tcp_free(t);
	free(t->name);
	free(t);
}

const char *
probe_target_name(const struct probe_target *t)
{
	return t->name;
}

double
probe_target_recent(const struct probe_target *t, double now, double p)
{
	return probe_recent_percentile(&t->recent, now, p);
}
