/* SPDX-License-Identifier: MIT */
/* probe_sync: the engine's targets made to match the configuration and the names' answers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "probe_sync.h"
#include "stamp_conf.h"

static void
keys_free(struct probe_key *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(k[i].probe);
		explicit_bzero(&k[i].key, sizeof(k[i].key));
	}
	free(k);
}

/* The key the probe called name had at the last load, or NULL. */
static const struct probe_key *
key_before(const struct probe_sync *ps, const char *name)
{
	for (size_t i = 0; i < ps->nkeys; i++)
		if (ps->keys[i].ok && strcmp(ps->keys[i].probe, name) == 0)
			return &ps->keys[i];
	return NULL;
}

static void
key_load(const struct probe_sync *ps, const struct probe_spec *p, struct probe_key *k)
{
	struct config_errors errs = { 0 };
	const struct probe_key *was;

	if (p->key_path == NULL)
		return;
	if (stamp_conf_key_read(p->key_path, "auth_key_file", p->key_where, &k->key,
	    &errs) == 0) {
		k->ok = true;
		return;
	}
	if ((was = key_before(ps, p->name)) != NULL) {
		k->key = was->key;
		k->ok = true;
	}
	for (size_t i = 0; i < errs.count; i++)
		log_warnx("probe %s: %s: %s", p->name, errs.lines[i], k->ok ?
		    "keeping the key read before" : "its targets are not probed");
	config_errors_free(&errs);
}

int
probe_sync_keys(struct probe_sync *ps, const struct echod_config *cfg)
{
	struct probe_key *k = calloc(cfg->nprobes + 1, sizeof(*k));

	if (k == NULL)
		return -1;
	for (size_t i = 0; i < cfg->nprobes; i++) {
		if ((k[i].probe = strdup(cfg->probes[i].name)) == NULL) {
			keys_free(k, i);
			errno = ENOMEM;
			return -1;
		}
		key_load(ps, &cfg->probes[i], &k[i]);
	}
	keys_free(ps->keys, ps->nkeys);
	ps->keys = k;
	ps->nkeys = cfg->nprobes;
	return 0;
}

static enum probe_proto
engine_proto(enum proto p)
{
	return p == PROTO_UDP ? PROBE_UDP : p == PROTO_TCP ? PROBE_TCP : PROBE_STAMP;
}

/* max(1 s, 3 intervals), at most 30 s: a reply later than that is late, and lost. */
static double
probe_timeout(double interval)
{
	double t = 3 * interval;

	if (t < PROBE_SYNC_TIMEOUT_MIN)
		t = PROBE_SYNC_TIMEOUT_MIN;
	return t > PROBE_SYNC_TIMEOUT_MAX ? PROBE_SYNC_TIMEOUT_MAX : t;
}

/* What entry e of probe p (key k, when it has one) asks the engine for. */
static void
want_make(const struct probe_spec *p, const struct probe_target *t, const struct probe_key *k,
    const struct sockaddr_storage *addr, struct probe_held *w)
{
	memset(w, 0, sizeof(*w));
	w->probe = p->name;
	w->text = t->text;
	if (addr != NULL)
		w->addr = *addr;
	w->c.name = t->text;
	w->c.addr = (const struct sockaddr *)&w->addr;
	w->c.addrlen = w->addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	w->c.proto = engine_proto(p->proto);
	w->c.interval = p->interval;
	w->c.timeout = probe_timeout(p->interval);
	w->c.size = (size_t)p->size;
	w->c.dscp = p->dscp;
	/* STAMP: ask the reflector which DSCP arrived (dropped when the size leaves no room). */
	w->c.cos = p->proto == PROTO_STAMP;
	w->c.ssid = (uint16_t)p->ssid;
	if (k->ok) {
		w->key = k->key;
		w->c.key = &w->key;
	}
}

/* Same probe and target, sent alike: with_addr, to the same address too. */
static bool
held_same(const struct probe_held *a, const struct probe_held *b, bool with_addr)
{
	if (strcmp(a->probe, b->probe) != 0 || strcmp(a->text, b->text) != 0 ||
	    a->c.proto != b->c.proto || a->c.interval != b->c.interval ||
	    a->c.size != b->c.size || a->c.dscp != b->c.dscp || a->c.ssid != b->c.ssid ||
	    (a->c.key == NULL) != (b->c.key == NULL))
		return false;
	if (a->c.key != NULL && memcmp(&a->key, &b->key, sizeof(a->key)) != 0)
		return false;
	return !with_addr || addr_equal(a->c.addr, b->c.addr);
}

static struct probe_held *
held_find(const struct probe_sync *ps, const struct probe_held *w, bool with_addr)
{
	for (size_t i = 0; i < ps->n; i++)
		if (held_same(ps->held[i], w, with_addr))
			return ps->held[i];
	return NULL;
}

static void
held_free(struct probe_sync *ps, struct probe_held *h)
{
	if (h->t != NULL)
		probe_target_remove(ps->engine, h->t);
	free(h->probe);
	free(h->text);
	explicit_bzero(&h->key, sizeof(h->key));
	free(h);
}

/* Into the engine; a refusal (the same address and SSID twice, ...) is held too, and logged. */
static void
held_add(struct probe_sync *ps, const struct probe_held *w)
{
	struct probe_held *h = malloc(sizeof(*h)), **grown;
	char buf[ADDR_STRLEN];

	grown = h == NULL ? NULL : realloc(ps->held, (ps->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(h);
		log_warnx("probe %s: %s: out of memory", w->probe, w->text);
		return;
	}
	ps->held = grown;
	*h = *w;
	h->c.addr = (const struct sockaddr *)&h->addr;
	h->c.key = w->c.key != NULL ? &h->key : NULL;
	h->probe = strdup(w->probe);
	h->text = strdup(w->text);
	h->c.name = h->text;
	h->t = NULL;
	if (h->probe != NULL && h->text != NULL) {
		h->t = probe_target_add(ps->engine, &h->c);
		if (h->t == NULL && errno == EINVAL && h->c.cos) {
			h->c.cos = false;	/* too small for the CoS TLV: without it */
			h->t = probe_target_add(ps->engine, &h->c);
		}
	}
	addr_format(h->c.addr, h->c.addrlen, buf, sizeof(buf));
	/* Replies are told apart by address, protocol and SSID: two alike cannot both run. */
	if (h->t == NULL && errno == EEXIST)
		log_warnx("probe %s: target %s (%s) is probed already with the same protocol "
		    "and ssid: not probed twice (give one probe another ssid)", w->probe, w->text,
		    buf);
	else if (h->t == NULL)
		log_warn("probe %s: target %s (%s) cannot be probed", w->probe, w->text, buf);
	h->keep = true;
	ps->held[ps->n++] = h;
}

/* An entry's target, as the engine should have it; false: none (unanswered, own, no key). */
static bool
entry_want(const struct probe_sync *ps, const struct echod_config *cfg,
    const struct resolve_entry *e, const struct ownaddr *own, struct probe_held *w)
{
	size_t pi = (size_t)(e->probe - cfg->probes);
	const struct probe_key *k;

	if (pi >= ps->nkeys)
		return false;
	k = &ps->keys[pi];
	if (e->probe->key_path != NULL && !k->ok)
		return false;
	want_make(e->probe, e->target, k, e->state == RESOLVE_DONE ? &e->addrs[0] : NULL, w);
	return e->state != RESOLVE_DONE || e->probe->probe_own || !probe_resolve_is_own(e, own);
}

bool
probe_sync_apply(struct probe_sync *ps, const struct echod_config *cfg,
    const struct probe_resolver *r, const struct ownaddr *own)
{
	size_t n = probe_resolver_count(r), kept = 0, before = ps->n;
	struct probe_held w, *h;

	for (size_t i = 0; i < ps->n; i++)
		ps->held[i]->keep = false;
	/* Mark what stays: the same, or unanswered yet and sent alike (its address goes on). */
	for (size_t i = 0; i < n; i++) {
		const struct resolve_entry *e = probe_resolver_entry(r, i);

		if (entry_want(ps, cfg, e, own, &w) &&
		    (h = held_find(ps, &w, e->state == RESOLVE_DONE)) != NULL)
			h->keep = true;
	}
	/* Out first: a replacement may take the same address and SSID. */
	for (size_t i = 0; i < ps->n; i++) {
		if (ps->held[i]->keep)
			ps->held[kept++] = ps->held[i];
		else
			held_free(ps, ps->held[i]);
	}
	ps->n = kept;
	for (size_t i = 0; i < n; i++) {
		const struct resolve_entry *e = probe_resolver_entry(r, i);

		if (e->state == RESOLVE_DONE && entry_want(ps, cfg, e, own, &w) &&
		    held_find(ps, &w, true) == NULL)
			held_add(ps, &w);
	}
	explicit_bzero(&w, sizeof(w));
	return kept != before || ps->n != kept;
}

void
probe_sync_clear(struct probe_sync *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		held_free(ps, ps->held[i]);
	free(ps->held);
	ps->held = NULL;
	ps->n = 0;
	keys_free(ps->keys, ps->nkeys);
	ps->keys = NULL;
	ps->nkeys = 0;
}
