/* SPDX-License-Identifier: MIT */
/* config: reads echod.conf (libconfig) into a struct echod_config, or a list of errors. */
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "confdir.h"
#include "confhint.h"
#include "dscp.h"
#include "config.h"
#include "probe_conf.h"

/* Keys each group may hold; anything else is a typo and is rejected. */
static const char *const root_keys[] = {
	"listeners", "limits", "workers", "allow", "deny", "exempt", "udp_drop_source_ports",
	"udp_min_source_port", "user", "group", "include_dir", "control_socket", "metrics",
	"dscp_allow", "reflect_dscp", "probes", NULL
};
static const char *const listener_keys[] = {
	"protocol", "port", "address", "path", "allow", "deny", "udp_min_source_port",
	"stamp_mode", "stamp_auth_key", "stamp_timestamp", "stamp_sessions",
	"stamp_session_timeout", "stamp_short_packets", "dscp_allow", "reflect_dscp", NULL
};
static const char *const limits_keys[] = {
	"max_connections", "idle_timeout", "buffer_size", "max_buffered_bytes",
	"max_connections_per_source", "connection_rate", "udp_rate",
	"udp_max_reply_bytes_per_second", "max_datagram", "stamp_rate",
	"stamp_max_reply_bytes_per_second", NULL
};

static const char *const metrics_keys[] = { "address", "port", NULL };

/* 1 TiB where long can hold it: far beyond any machine, still catches a typo'd unit. */
#if LONG_MAX > 0x7fffffffL
#define MAX_BUFFERED_LIMIT	(1L << 40)
#else
#define MAX_BUFFERED_LIMIT	LONG_MAX
#endif

/*
 * Did a listener set its own allow, deny or udp_min_source_port? The top
 * level's, which it takes otherwise, is known only once every file is read.
 */
struct own_keys {
	bool allow, deny, min_source_port, dscp_allow, reflect_dscp;
};

struct parse {
	const char *path;		/* the file being read */
	struct config_errors *errs;
	int nerrors;
	bool dropin;			/* a drop-in: some keys belong to the main file only */
	struct own_keys *own;		/* one per cfg->listeners entry */
	char *listeners_where;		/* first "listeners" setting seen, for messages */
	char *include_where;		/* the include_dir setting, for messages */
};

void
config_errors_add(struct config_errors *errs, const char *where, const char *msg)
{
	char *text, **grown;

	if (asprintf(&text, "%s: %s", where, msg) == -1)
		return;
	grown = realloc(errs->lines, (errs->count + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(text);
		return;
	}
	errs->lines = grown;
	errs->lines[errs->count++] = text;
}

static void
errors_append(struct parse *p, const char *where, const char *msg)
{
	p->nerrors++;
	config_errors_add(p->errs, where, msg);
}

/* "file:line" of a setting (the file being read, line 0, when s is NULL). */
static char *
setting_where(const struct parse *p, const config_setting_t *s)
{
	const char *file = s != NULL ? config_setting_source_file(s) : NULL;
	int line = s != NULL ? (int)config_setting_source_line(s) : 0;
	char *where;

	if (asprintf(&where, "%s:%d", file != NULL ? file : p->path, line) == -1)
		return NULL;
	return where;
}

static void __attribute__((format(printf, 3, 4)))
parse_error(struct parse *p, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512], *where = setting_where(p, s);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errors_append(p, where != NULL ? where : p->path, msg);
	free(where);
}

/* An error about something already parsed, located by its "file:line". */
static void __attribute__((format(printf, 3, 4)))
parse_error_at(struct parse *p, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errors_append(p, where, msg);
}

static void
check_known_keys(struct parse *p, const config_setting_t *group, const char *const *known,
    const char *what)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *child = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(child);
		size_t k;

		for (k = 0; known[k] != NULL; k++)
			if (strcmp(name, known[k]) == 0)
				break;
		if (known[k] == NULL)
			parse_error(p, child, "unknown key '%s' in %s", name, what);
	}
}

/* An optional integer member in [min, max]; *out keeps its default when absent. */
static void
get_long(struct parse *p, const config_setting_t *group, const char *name,
    long min, long max, long *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	long long v;

	if (s == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
		parse_error(p, s, "%s must be an integer", name);
		return;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		parse_error(p, s, "%s %lld out of range %ld..%ld", name, v, min, max);
		return;
	}
	*out = (long)v;
}

static const char *
get_string(struct parse *p, const config_setting_t *group, const char *name)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		parse_error(p, s, "%s must be a string", name);
		return NULL;
	}
	return config_setting_get_string(s);
}

/* An optional boolean member; *out keeps its default when absent. true if present. */
static bool
get_bool(struct parse *p, const config_setting_t *group, const char *name, bool *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	if (s == NULL)
		return false;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		parse_error(p, s, "%s must be true or false", name);
		return false;
	}
	*out = config_setting_get_bool(s) != 0;
	return true;
}

/* One dscp_allow element: a name ("ef", "af41", "cs1", "be") or a number 0..63; or -1. */
static int
dscp_element(struct parse *p, const config_setting_t *e)
{
	char num[24];
	const char *text;
	int d;

	if (config_setting_type(e) == CONFIG_TYPE_INT || config_setting_type(e) == CONFIG_TYPE_INT64) {
		snprintf(num, sizeof(num), "%lld", config_setting_get_int64(e));
		text = num;
	} else if (config_setting_type(e) == CONFIG_TYPE_STRING) {
		text = config_setting_get_string(e);
	} else {
		parse_error(p, e, "dscp_allow: every element must be a DSCP name or number");
		return -1;
	}
	d = dscp_parse(text);
	if (d == -1)
		parse_error(p, e, "dscp_allow: '%s' is not a DSCP (a number 0..63, or ef, "
		    "af11..af43, cs0..cs7, default, be)", text);
	return d;
}

/* An optional dscp_allow = [ "ef", "af41", 0 ]; into a set; true if present. */
static bool
get_dscp_list(struct parse *p, const config_setting_t *group, uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, "dscp_allow");
	uint64_t set = 0;
	int before = p->nerrors;

	if (s == NULL)
		return false;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		parse_error(p, s, "dscp_allow must be an array: dscp_allow = [ \"ef\", "
		    "\"af41\", \"default\" ];");
		return false;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		int d = dscp_element(p, config_setting_get_elem(s, (unsigned)i));

		if (d >= 0)
			set |= DSCP_BIT(d);
	}
	if (p->nerrors != before)
		return false;
	*out = set;
	return true;
}

/* Replace *out (and *where, if not NULL) with a copy of text and the setting's place. */
static void
set_string(struct parse *p, const config_setting_t *s, const char *text, char **out,
    char **where)
{
	char *copy = strdup(text), *at = where != NULL ? setting_where(p, s) : NULL;

	if (copy == NULL || (where != NULL && at == NULL)) {
		free(copy);
		free(at);
		parse_error(p, s, "out of memory");
		return;
	}
	free(*out);
	*out = copy;
	if (where != NULL) {
		free(*where);
		*where = at;
	}
}

/* A string member that must not be empty; *out keeps its default when absent. */
static void
get_name(struct parse *p, const config_setting_t *group, const char *name, char **out,
    char **where)
{
	const char *text = get_string(p, group, name);
	const config_setting_t *s = config_setting_get_member(group, name);

	if (text == NULL)
		return;
	if (text[0] == '\0') {
		parse_error(p, s, "%s must not be empty", name);
		return;
	}
	set_string(p, s, text, out, where);
}

/*
 * An optional array (or list) of CIDR strings that replaces *list (an earlier
 * file's); *present says whether the key was there at all ("allow = [];" is
 * not "no allow").
 */
static void
get_cidr_list(struct parse *p, const config_setting_t *group, const char *name,
    struct cidr **list, size_t *n, bool *present)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char err[256];

	*present = s != NULL;
	if (s == NULL)
		return;
	free(*list);
	*list = NULL;
	*n = 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		parse_error(p, s, "%s must be an array of strings: %s = [ \"192.0.2.0/24\", "
		    "\"2001:db8::/32\" ];", name, name);
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			parse_error(p, e, "%s: every element must be a string \"address/prefix\"",
			    name);
		else if (acl_list_append(list, n, config_setting_get_string(e), err,
		    sizeof(err)) == -1)
			parse_error(p, e, "%s: %s", name, err);
	}
}

static int
cidr_list_copy(struct cidr **dst, size_t *ndst, const struct cidr *src, size_t n)
{
	*dst = NULL;
	*ndst = 0;
	if (n == 0)
		return 0;
	*dst = malloc(n * sizeof(*src));
	if (*dst == NULL)
		return -1;
	memcpy(*dst, src, n * sizeof(*src));
	*ndst = n;
	return 0;
}

/* A listener's own allow/deny lists; resolve_listener_defaults() fills in the others. */
static void
parse_listener_acl(struct parse *p, const config_setting_t *ls, struct acl *acl,
    struct own_keys *own)
{
	get_cidr_list(p, ls, "allow", &acl->allow, &acl->nallow, &own->allow);
	get_cidr_list(p, ls, "deny", &acl->deny, &acl->ndeny, &own->deny);
}

/* A key a listener does not set is the top level's, as the last file to set it left it. */
static void
resolve_listener_defaults(struct parse *p, struct echod_config *cfg)
{
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		struct acl *acl = &cfg->listeners[i].acl;

		if (cfg->listeners[i].proto == PROTO_UNIX)
			continue;
		if (!p->own[i].min_source_port)
			cfg->listeners[i].udp_min_source_port = (uint16_t)cfg->udp_min_source_port;
		if (!p->own[i].dscp_allow)
			cfg->listeners[i].dscp_allow = cfg->dscp_allow;
		if (!p->own[i].reflect_dscp)
			cfg->listeners[i].reflect_dscp = cfg->reflect_dscp;
		if ((!p->own[i].allow && cidr_list_copy(&acl->allow, &acl->nallow,
		    cfg->acl.allow, cfg->acl.nallow) == -1) ||
		    (!p->own[i].deny && cidr_list_copy(&acl->deny, &acl->ndeny, cfg->acl.deny,
		    cfg->acl.ndeny) == -1))
			parse_error_at(p, cfg->listeners[i].where, "out of memory");
	}
}

static int
parse_protocol(struct parse *p, const config_setting_t *ls, enum proto *out)
{
	const char *text = get_string(p, ls, "protocol");

	if (text == NULL) {
		if (config_setting_get_member(ls, "protocol") == NULL)
			parse_error(p, ls, "listener has no protocol (tcp, udp, unix or stamp)");
		return -1;
	}
	if (strcmp(text, "tcp") == 0)
		*out = PROTO_TCP;
	else if (strcmp(text, "udp") == 0)
		*out = PROTO_UDP;
	else if (strcmp(text, "unix") == 0)
		*out = PROTO_UNIX;
	else if (strcmp(text, "stamp") == 0)
		*out = PROTO_STAMP;
	else {
		parse_error(p, config_setting_get_member(ls, "protocol"),
		    "unknown protocol '%s' (expected tcp, udp, unix or stamp)", text);
		return -1;
	}
	return 0;
}

/* A udp listener's own udp_min_source_port; resolve_listener_defaults() fills in the others. */
static void
parse_listener_min_port(struct parse *p, const config_setting_t *ls,
    struct listener_spec *spec, struct own_keys *own)
{
	long min = -1;

	get_long(p, ls, "udp_min_source_port", 0, 65535, &min);
	if (min == -1)
		return;
	spec->udp_min_source_port = (uint16_t)min;
	own->min_source_port = true;
}

/*
 * dscp_allow (udp and stamp) and reflect_dscp (udp: a STAMP reply's DSCP is
 * what its Class of Service TLV asks for, RFC 8972 4.4); the top level's
 * fill in the rest (resolve_listener_defaults()).
 */
static void
parse_listener_dscp(struct parse *p, const config_setting_t *ls, struct listener_spec *spec,
    struct own_keys *own)
{
	const config_setting_t *reflect = config_setting_get_member(ls, "reflect_dscp");

	own->dscp_allow = get_dscp_list(p, ls, &spec->dscp_allow);
	if (reflect != NULL && spec->proto != PROTO_UDP) {
		parse_error(p, reflect, "reflect_dscp is for udp listeners, not %s (a STAMP "
		    "reply's DSCP is what a Class of Service TLV asks for)",
		    proto_name(spec->proto));
		return;
	}
	own->reflect_dscp = get_bool(p, ls, "reflect_dscp", &spec->reflect_dscp);
}

/* Why addr_parse() refused text (its errno), as file:line: what. */
static void
parse_address_error(struct parse *p, const config_setting_t *s, const char *what,
    const char *text)
{
	const char *scope = strchr(text, '%');

	if (errno == EADDRNOTAVAIL)
		parse_error(p, s, "%s '%s': a scope (%s) is only for link-local IPv6 addresses "
		    "(fe80::/10)", what, text, scope);
	else if (errno == ENODEV)
		parse_error(p, s, "%s '%s': no interface '%s' on this host", what, text,
		    scope + 1);
	else
		parse_error(p, s, "%s '%s' is not an IPv4 or IPv6 literal", what, text);
}

static int
parse_inet_listener(struct parse *p, const config_setting_t *ls, struct listener_spec *spec,
    struct own_keys *own)
{
	const char *address;
	long port = -1;
	int before = p->nerrors;

	if (config_setting_get_member(ls, "path") != NULL)
		parse_error(p, config_setting_get_member(ls, "path"),
		    "path is only for unix listeners");
	/* STAMP has a port of its own (RFC 8762 4.1); echo has none that needs no root. */
	if (spec->proto == PROTO_STAMP)
		port = STAMP_PORT;
	else if (config_setting_get_member(ls, "port") == NULL)
		parse_error(p, ls, "%s listener has no port", proto_name(spec->proto));
	get_long(p, ls, "port", 1, 65535, &port);
	address = get_string(p, ls, "address");
	parse_listener_acl(p, ls, &spec->acl, own);
	parse_listener_min_port(p, ls, spec, own);
	parse_listener_dscp(p, ls, spec, own);
	if (p->nerrors != before)
		return -1;
	spec->port = (int)port;
	if (address == NULL) {
		spec->any_address = true;
		addr_wildcard(AF_INET6, spec->port, &spec->addr, &spec->addrlen);
	} else if (addr_parse(address, spec->port, &spec->addr, &spec->addrlen) == -1) {
		parse_address_error(p, config_setting_get_member(ls, "address"), "address",
		    address);
		return -1;
	} else if (addr_is_v4mapped((const struct sockaddr *)&spec->addr)) {
		/* Such a socket cannot bind where IPv6 is IPv6-only (a socket unit may say so). */
		parse_error(p, config_setting_get_member(ls, "address"),
		    "address '%s' is an IPv4-mapped IPv6 address: write the IPv4 address itself",
		    address);
		return -1;
	}
	return 0;
}

/* One of a stamp key's words, or -1 (and an error naming the ones it may be). */
static int
get_word(struct parse *p, const config_setting_t *ls, const char *name,
    const char *const words[2])
{
	const char *text = get_string(p, ls, name);

	if (text == NULL)
		return -1;
	for (int i = 0; i < 2; i++)
		if (strcmp(text, words[i]) == 0)
			return i;
	parse_error(p, config_setting_get_member(ls, name), "%s '%s' is neither '%s' nor '%s'",
	    name, text, words[0], words[1]);
	return -1;
}

static const char *const stamp_keys[] = {
	"stamp_mode", "stamp_auth_key", "stamp_timestamp", "stamp_sessions",
	"stamp_session_timeout", "stamp_short_packets"
};

/* stamp_sessions and stamp_session_timeout: the stateful table's, nothing to stateless mode. */
static void
parse_stamp_table(struct parse *p, const config_setting_t *ls, struct stamp_spec *st)
{
	static const char *const keys[] = { "stamp_sessions", "stamp_session_timeout" };

	st->sessions = CONFIG_DEFAULT_STAMP_SESSIONS;
	st->session_timeout = CONFIG_DEFAULT_STAMP_SESSION_TIMEOUT;
	for (size_t i = 0; !st->stateful && i < 2; i++)
		if (config_setting_get_member(ls, keys[i]) != NULL)
			parse_error(p, config_setting_get_member(ls, keys[i]), "%s is for "
			    "stamp_mode = \"stateful\" (a stateless reflector keeps no sessions)",
			    keys[i]);
	/* 8: one group of the table (stamp_session.c); 2^24: what it allows. */
	get_long(p, ls, "stamp_sessions", 8, CONFIG_STAMP_SESSIONS_MAX, &st->sessions);
	get_long(p, ls, "stamp_session_timeout", 1, CONFIG_STAMP_SESSION_TIMEOUT_MAX,
	    &st->session_timeout);
}

/*
 * A stamp listener's own keys. The key file is only named here: it is read
 * by stamp_conf_prepare(), in echod itself, not by the generator or --check
 * run as another user.
 */
static int
parse_stamp_keys(struct parse *p, const config_setting_t *ls, struct listener_spec *spec)
{
	static const char *const modes[2] = { "stateless", "stateful" };
	static const char *const formats[2] = { "ntp", "ptp" };
	static const char *const shorts[2] = { "base", "drop" };
	const config_setting_t *key = config_setting_get_member(ls, "stamp_auth_key");
	int before = p->nerrors, mode, format, shortp;

	if (spec->proto != PROTO_STAMP) {
		for (size_t i = 0; i < sizeof(stamp_keys) / sizeof(stamp_keys[0]); i++)
			if (config_setting_get_member(ls, stamp_keys[i]) != NULL)
				parse_error(p, config_setting_get_member(ls, stamp_keys[i]),
				    "%s is for stamp listeners, not %s", stamp_keys[i],
				    proto_name(spec->proto));
		return p->nerrors == before ? 0 : -1;
	}
	if ((mode = get_word(p, ls, "stamp_mode", modes)) != -1)
		spec->stamp.stateful = mode == 1;
	if ((format = get_word(p, ls, "stamp_timestamp", formats)) != -1)
		spec->stamp.format = format == 1 ? STAMP_TS_PTP : STAMP_TS_NTP;
	if ((shortp = get_word(p, ls, "stamp_short_packets", shorts)) != -1)
		spec->stamp.short_drop = shortp == 1;
	parse_stamp_table(p, ls, &spec->stamp);
	if (key != NULL && get_string(p, ls, "stamp_auth_key") != NULL) {
		if (config_setting_get_string(key)[0] == '\0')
			parse_error(p, key, "stamp_auth_key is empty (leave it out for "
			    "unauthenticated mode)");
		else
			set_string(p, key, config_setting_get_string(key), &spec->stamp.key_path,
			    &spec->stamp.key_where);
	}
	return p->nerrors == before ? 0 : -1;
}

/* A path a socket unit's ListenStream= line can carry as it is (the generator's). */
static bool
unix_path_writable(const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return false;
	/* A trailing backslash continues a unit-file line; trailing blanks are stripped. */
	return len == 0 || (path[len - 1] != '\\' && path[len - 1] != ' ' &&
	    path[len - 1] != '\t');
}

static int
parse_unix_listener(struct parse *p, const config_setting_t *ls, struct listener_spec *spec)
{
	const char *path = get_string(p, ls, "path");
	struct sockaddr_un sun;

	if (config_setting_get_member(ls, "port") != NULL ||
	    config_setting_get_member(ls, "address") != NULL) {
		parse_error(p, ls, "unix listeners take a path, not a port or address");
		return -1;
	}
	/* A Unix peer has no address to match: file permissions are its access control. */
	if (config_setting_get_member(ls, "allow") != NULL ||
	    config_setting_get_member(ls, "deny") != NULL) {
		parse_error(p, ls, "allow and deny are for tcp and udp listeners, not unix");
		return -1;
	}
	if (path == NULL) {
		if (config_setting_get_member(ls, "path") == NULL)
			parse_error(p, ls, "unix listener has no path");
		return -1;
	}
	if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		parse_error(p, config_setting_get_member(ls, "path"),
		    "path '%s' must be absolute and shorter than %zu bytes", path,
		    sizeof(sun.sun_path));
		return -1;
	}
	if (!unix_path_writable(path)) {
		parse_error(p, config_setting_get_member(ls, "path"), "path must hold no control "
		    "character and not end in a blank or a backslash (systemd's socket unit "
		    "could not carry it)");
		return -1;
	}
	spec->path = strdup(path);
	return spec->path == NULL ? -1 : 0;
}

static int
parse_listener(struct parse *p, const config_setting_t *ls, struct listener_spec *spec,
    struct own_keys *own)
{
	const char *file = config_setting_source_file(ls);

	if (!config_setting_is_group(ls)) {
		parse_error(p, ls, "each listener must be a group { protocol = ...; ... }");
		return -1;
	}
	check_known_keys(p, ls, listener_keys, "listener");
	if (asprintf(&spec->where, "%s:%u", file != NULL ? file : p->path,
	    config_setting_source_line(ls)) == -1) {
		spec->where = NULL;
		return -1;
	}
	if (parse_protocol(p, ls, &spec->proto) == -1)
		return -1;
	if (parse_stamp_keys(p, ls, spec) == -1)
		return -1;
	/* A stream's peer finished a handshake: not spoofed into a loop. Datagrams only. */
	if (!proto_is_datagram(spec->proto) &&
	    config_setting_get_member(ls, "udp_min_source_port") != NULL) {
		parse_error(p, config_setting_get_member(ls, "udp_min_source_port"),
		    "udp_min_source_port is for udp listeners, not %s", proto_name(spec->proto));
		return -1;
	}
	for (size_t i = 0; i < 2 && !proto_is_datagram(spec->proto); i++) {
		static const char *const dgram_keys[] = { "dscp_allow", "reflect_dscp" };
		const config_setting_t *s = config_setting_get_member(ls, dgram_keys[i]);

		if (s != NULL) {
			parse_error(p, s, "%s is for udp listeners, not %s", dgram_keys[i],
			    proto_name(spec->proto));
			return -1;
		}
	}
	if (spec->proto == PROTO_UNIX)
		return parse_unix_listener(p, ls, spec);
	return parse_inet_listener(p, ls, spec, own);
}

/* Across every file read: a drop-in may not repeat the main file's port either. */
static void
check_overlaps(struct parse *p, struct echod_config *cfg)
{
	for (size_t i = 1; i < cfg->nlisteners; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!listener_spec_overlap(&cfg->listeners[i], &cfg->listeners[j]))
				continue;
			if (cfg->listeners[i].proto != cfg->listeners[j].proto)
				/* udp and stamp: one UDP socket cannot answer both ways. */
				parse_error_at(p, cfg->listeners[i].where,
				    "duplicate listener: %s and %s listeners are both UDP sockets: "
				    "same port as the one at %s", proto_name(cfg->listeners[i].proto),
				    proto_name(cfg->listeners[j].proto), cfg->listeners[j].where);
			else
				parse_error_at(p, cfg->listeners[i].where,
				    "duplicate listener: same %s %s as the one at %s",
				    proto_name(cfg->listeners[i].proto),
				    cfg->listeners[i].proto == PROTO_UNIX ? "path" : "port",
				    cfg->listeners[j].where);
			break;
		}
	}
}

/* Room for n more listeners (and their own_keys flags), zeroed. */
static int
listeners_grow(struct parse *p, struct echod_config *cfg, size_t n)
{
	struct listener_spec *specs;
	struct own_keys *own;

	specs = realloc(cfg->listeners, (cfg->nlisteners + n + 1) * sizeof(*specs));
	if (specs == NULL)
		return -1;
	cfg->listeners = specs;
	own = realloc(p->own, (cfg->nlisteners + n + 1) * sizeof(*own));
	if (own == NULL)
		return -1;
	p->own = own;
	memset(&specs[cfg->nlisteners], 0, (n + 1) * sizeof(*specs));
	memset(&own[cfg->nlisteners], 0, (n + 1) * sizeof(*own));
	return 0;
}

/* This file's listeners, appended to the earlier files'. */
static void
parse_listeners(struct parse *p, const config_setting_t *root, struct echod_config *cfg)
{
	const config_setting_t *list = config_setting_get_member(root, "listeners");
	int n;

	if (list == NULL)
		return;
	if (p->listeners_where == NULL)
		p->listeners_where = setting_where(p, list);
	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		parse_error(p, list, "listeners must be a list: listeners = ( { ... }, ... );");
		return;
	}
	n = config_setting_length(list);
	if (listeners_grow(p, cfg, (size_t)n) == -1) {
		parse_error(p, list, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		struct listener_spec *spec = &cfg->listeners[cfg->nlisteners];

		if (parse_listener(p, config_setting_get_elem(list, (unsigned)i), spec,
		    &p->own[cfg->nlisteners]) == 0)
			cfg->nlisteners++;
		else {
			listener_spec_free(spec);
			memset(spec, 0, sizeof(*spec));
		}
	}
}

static void
parse_limits(struct parse *p, const config_setting_t *root, struct echod_limits *limits)
{
	const config_setting_t *group = config_setting_get_member(root, "limits");

	if (group == NULL)
		return;
	if (!config_setting_is_group(group)) {
		parse_error(p, group, "limits must be a group: limits = { ... };");
		return;
	}
	check_known_keys(p, group, limits_keys, "limits");
	get_long(p, group, "max_connections", 1, 10000000, &limits->max_connections);
	get_long(p, group, "idle_timeout", 0, 604800, &limits->idle_timeout);
	get_long(p, group, "buffer_size", 1024, 64L << 20, &limits->buffer_size);
	get_long(p, group, "max_buffered_bytes", 0, MAX_BUFFERED_LIMIT,
	    &limits->max_buffered_bytes);
	get_long(p, group, "max_connections_per_source", 0, 10000000,
	    &limits->max_connections_per_source);
	get_long(p, group, "connection_rate", 0, 1000000, &limits->connection_rate);
	get_long(p, group, "udp_rate", 0, 100000000, &limits->udp_rate);
	get_long(p, group, "udp_max_reply_bytes_per_second", 0, 2147483647,
	    &limits->udp_max_reply_bytes_per_second);
	get_long(p, group, "stamp_rate", 0, 100000000, &limits->stamp_rate);
	get_long(p, group, "stamp_max_reply_bytes_per_second", 0, 2147483647,
	    &limits->stamp_max_reply_bytes_per_second);
	/* 65507: the largest UDP payload over IPv4, and what echod echoes at most. */
	get_long(p, group, "max_datagram", 0, 65507, &limits->max_datagram);
}

static void
parse_drop_ports(struct parse *p, const config_setting_t *root, struct echod_config *cfg)
{
	const config_setting_t *s = config_setting_get_member(root, "udp_drop_source_ports");
	int n;

	if (s == NULL)
		return;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		parse_error(p, s, "udp_drop_source_ports must be an array of ports: "
		    "udp_drop_source_ports = [ 7, 19 ];");
		return;
	}
	n = config_setting_length(s);
	cfg->ndrop_ports = 0;
	free(cfg->drop_ports);
	cfg->drop_ports = calloc((size_t)n + 1, sizeof(*cfg->drop_ports));
	if (cfg->drop_ports == NULL) {
		parse_error(p, s, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		long long v;

		if (config_setting_type(e) != CONFIG_TYPE_INT &&
		    config_setting_type(e) != CONFIG_TYPE_INT64) {
			parse_error(p, e, "udp_drop_source_ports: every element must be a port "
			    "number");
			continue;
		}
		v = config_setting_get_int64(e);
		if (v < 0 || v > 65535) {
			parse_error(p, e, "udp_drop_source_ports: port %lld out of range 0..65535",
			    v);
			continue;
		}
		cfg->drop_ports[cfg->ndrop_ports++] = (uint16_t)v;
	}
}

/* The keys that say where things are: the main file's alone, never a drop-in's. */
static void
parse_main_only(struct parse *p, const config_setting_t *root, struct echod_config *cfg)
{
	static const char *const keys[] = { "include_dir", "control_socket" };
	const char *dir, *sock;
	struct sockaddr_un sun;

	for (size_t i = 0; p->dropin && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (config_setting_get_member(root, keys[i]) != NULL)
			parse_error(p, config_setting_get_member(root, keys[i]),
			    "%s may only be set in the main configuration file", keys[i]);
	if (p->dropin)
		return;
	dir = get_string(p, root, "include_dir");
	if (dir != NULL && dir[0] != '\0') {
		free(cfg->include_dir);
		cfg->include_dir = confdir_resolve(p->path, dir);
		p->include_where = setting_where(p, config_setting_get_member(root, "include_dir"));
		if (cfg->include_dir == NULL || p->include_where == NULL)
			parse_error(p, root, "out of memory");
	}
	sock = get_string(p, root, "control_socket");
	if (sock == NULL)
		return;
	if (sock[0] != '\0' && (sock[0] != '/' || strlen(sock) >= sizeof(sun.sun_path))) {
		parse_error(p, config_setting_get_member(root, "control_socket"),
		    "control_socket '%s' must be an absolute path shorter than %zu bytes, "
		    "or \"\" for none", sock, sizeof(sun.sun_path));
		return;
	}
	set_string(p, config_setting_get_member(root, "control_socket"), sock,
	    &cfg->control_socket, NULL);
}

static void
metrics_conf_clear(struct echod_metrics_conf *m)
{
	free(m->address);
	free(m->where);
	memset(m, 0, sizeof(*m));
}

/*
 * metrics = { address = "127.0.0.1"; port = 9110; }; a file's block replaces
 * an earlier file's whole: a drop-in that names only a port gets the default
 * address, never the main file's.
 */
static void
parse_metrics(struct parse *p, const config_setting_t *root, struct echod_metrics_conf *m)
{
	const config_setting_t *group = config_setting_get_member(root, "metrics");
	const config_setting_t *as;
	const char *address;
	long port = CONFIG_DEFAULT_METRICS_PORT;
	int before = p->nerrors;

	if (group == NULL)
		return;
	metrics_conf_clear(m);
	if (!config_setting_is_group(group)) {
		parse_error(p, group, "metrics must be a group: metrics = { address = \"%s\"; "
		    "port = %d; };", CONFIG_DEFAULT_METRICS_ADDRESS, CONFIG_DEFAULT_METRICS_PORT);
		return;
	}
	check_known_keys(p, group, metrics_keys, "metrics");
	get_long(p, group, "port", 1, 65535, &port);
	address = get_string(p, group, "address");
	as = config_setting_get_member(group, "address");
	if (address == NULL)
		address = CONFIG_DEFAULT_METRICS_ADDRESS;
	if (p->nerrors != before)
		return;
	if (addr_parse(address, (int)port, &m->addr, &m->addrlen) == -1) {
		parse_address_error(p, as, "metrics address", address);
		return;
	}
	if (addr_is_v4mapped((const struct sockaddr *)&m->addr)) {
		parse_error(p, as, "metrics address '%s' is an IPv4-mapped IPv6 address: write the "
		    "IPv4 address itself", address);
		return;
	}
	m->port = (int)port;
	m->address = strdup(address);
	m->where = setting_where(p, group);
	if (m->address == NULL || m->where == NULL) {
		parse_error(p, group, "out of memory");
		metrics_conf_clear(m);
		return;
	}
	m->enabled = true;
}

/* The metrics endpoint as a tcp listener, to compare with the configured ones. */
static struct listener_spec
metrics_as_listener(const struct echod_metrics_conf *m)
{
	struct listener_spec spec;

	memset(&spec, 0, sizeof(spec));
	spec.proto = PROTO_TCP;
	spec.port = m->port;
	spec.addr = m->addr;
	spec.addrlen = m->addrlen;
	return spec;
}

/* One TCP port cannot be both echo and HTTP: whichever bound it first would get both. */
static void
check_metrics_overlap(struct parse *p, const struct echod_config *cfg)
{
	struct listener_spec spec = metrics_as_listener(&cfg->metrics);

	if (!cfg->metrics.enabled)
		return;
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		if (!listener_spec_overlap(&spec, &cfg->listeners[i]))
			continue;
		parse_error_at(p, cfg->metrics.where, "metrics port %d is also the port of the tcp "
		    "listener at %s: give the endpoint a port of its own", cfg->metrics.port,
		    cfg->listeners[i].where);
		return;
	}
}

/* Everything outside listeners and limits that has a default. */
static int
config_set_defaults(struct echod_config *cfg)
{
	static const uint16_t ports[] = CONFIG_DEFAULT_DROP_PORTS;
	static const char *const exempt[] = CONFIG_DEFAULT_EXEMPT;
	char err[256];

	cfg->limits = (struct echod_limits){
		.max_connections = CONFIG_DEFAULT_MAX_CONNECTIONS,
		.idle_timeout = CONFIG_DEFAULT_IDLE_TIMEOUT,
		.buffer_size = CONFIG_DEFAULT_BUFFER_SIZE,
		.max_buffered_bytes = CONFIG_DEFAULT_MAX_BUFFERED,
		.max_connections_per_source = CONFIG_DEFAULT_MAX_CONNS_PER_SOURCE,
		.connection_rate = CONFIG_DEFAULT_CONNECTION_RATE,
		.udp_rate = CONFIG_DEFAULT_UDP_RATE,
		.udp_max_reply_bytes_per_second = CONFIG_DEFAULT_UDP_REPLY_BYTES,
		.stamp_rate = CONFIG_DEFAULT_STAMP_RATE,
		.stamp_max_reply_bytes_per_second = CONFIG_DEFAULT_STAMP_REPLY_BYTES,
		.max_datagram = CONFIG_DEFAULT_MAX_DATAGRAM,
	};
	cfg->udp_min_source_port = CONFIG_DEFAULT_UDP_MIN_SOURCE_PORT;
	cfg->dscp_allow = DSCP_ALLOW_DEFAULT;
	cfg->reflect_dscp = true;
	cfg->drop_ports = malloc(sizeof(ports));
	cfg->user = strdup(CONFIG_DEFAULT_USER);
	cfg->group = strdup(CONFIG_DEFAULT_GROUP);
	if (cfg->drop_ports == NULL || cfg->user == NULL || cfg->group == NULL)
		return -1;
	memcpy(cfg->drop_ports, ports, sizeof(ports));
	cfg->ndrop_ports = sizeof(ports) / sizeof(ports[0]);
	for (size_t i = 0; i < sizeof(exempt) / sizeof(exempt[0]); i++)
		if (acl_list_append(&cfg->exempt, &cfg->nexempt, exempt[i], err,
		    sizeof(err)) == -1)
			return -1;
	return 0;
}

/* The top-level keys other than listeners (whose ACLs default to allow and deny here). */
static void
parse_root(struct parse *p, const config_setting_t *root, struct echod_config *cfg)
{
	bool present;

	get_cidr_list(p, root, "allow", &cfg->acl.allow, &cfg->acl.nallow, &present);
	get_cidr_list(p, root, "deny", &cfg->acl.deny, &cfg->acl.ndeny, &present);
	get_cidr_list(p, root, "exempt", &cfg->exempt, &cfg->nexempt, &present);
	parse_drop_ports(p, root, cfg);
	get_long(p, root, "udp_min_source_port", 0, 65535, &cfg->udp_min_source_port);
	(void)get_dscp_list(p, root, &cfg->dscp_allow);
	(void)get_bool(p, root, "reflect_dscp", &cfg->reflect_dscp);
	get_name(p, root, "user", &cfg->user, &cfg->user_where);
	get_name(p, root, "group", &cfg->group, &cfg->group_where);
	parse_main_only(p, root, cfg);
	parse_limits(p, root, &cfg->limits);
	get_long(p, root, "workers", 1, 1024, &cfg->workers);
	parse_metrics(p, root, &cfg->metrics);
}

static void
read_error(struct parse *p, const config_t *lc)
{
	const char *file = config_error_file(lc) != NULL ? config_error_file(lc) : p->path;
	char msg[512], *where;

	if (config_error_type(lc) == CONFIG_ERR_FILE_IO) {
		parse_error(p, NULL, "cannot read configuration: %s", confhint_read_failure(p->path));
		return;
	}
	if (config_error_type(lc) != CONFIG_ERR_PARSE) {
		parse_error(p, NULL, "%s", config_error_text(lc));
		return;
	}
	/* Point the message at the file and line libconfig reports, not ours. */
	confhint_explain(file, config_error_line(lc), config_error_text(lc), msg, sizeof(msg));
	if (asprintf(&where, "%s:%d", file, config_error_line(lc)) == -1) {
		parse_error(p, NULL, "%s", msg);
		return;
	}
	parse_error_at(p, where, "%s", msg);
	free(where);
}

static int
files_add(struct echod_config *cfg, const char *path)
{
	char **grown = realloc(cfg->files, (cfg->nfiles + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	cfg->files = grown;
	if ((cfg->files[cfg->nfiles] = strdup(path)) == NULL)
		return -1;
	cfg->nfiles++;
	return 0;
}

/* probe_conf.c's problems, into the list config_load() returns. */
static void
probe_error_cb(void *arg, const char *where, const char *msg)
{
	config_errors_add(arg, where, msg);
}

/* One file's settings over what the earlier files (or the defaults) left in cfg. */
static void
read_file(struct parse *p, struct echod_config *cfg, const char *path, bool dropin)
{
	config_setting_t *root;
	config_t lc;

	p->path = path;
	p->dropin = dropin;
	if (files_add(cfg, path) == -1) {
		parse_error(p, NULL, "out of memory");
		return;
	}
	config_init(&lc);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		read_error(p, &lc);
	} else {
		root = config_root_setting(&lc);
		check_known_keys(p, root, root_keys, "the top level");
		parse_root(p, root, cfg);
		parse_listeners(p, root, cfg);
		p->nerrors += probe_conf_parse(root, path, &cfg->probes, &cfg->nprobes,
		    probe_error_cb, p->errs);
	}
	config_destroy(&lc);
}

static void
read_dropins(struct parse *p, struct echod_config *cfg)
{
	char **files;
	size_t n;

	if (confdir_list(cfg->include_dir, &files, &n) == -1) {
		parse_error_at(p, p->include_where, "include_dir %s: %s", cfg->include_dir,
		    strerror(errno));
		return;
	}
	for (size_t i = 0; i < n; i++)
		read_file(p, cfg, files[i], true);
	confdir_free(files, n);
}

/* Checks that need every file read: ACL defaults, duplicates, something to serve. */
static void
finish(struct parse *p, struct echod_config *cfg, const char *main_path)
{
	char *where = NULL;

	resolve_listener_defaults(p, cfg);
	check_overlaps(p, cfg);
	check_metrics_overlap(p, cfg);
	if (cfg->nlisteners > 0)
		return;
	if (p->listeners_where == NULL && asprintf(&where, "%s:1", main_path) == -1)
		where = NULL;
	parse_error_at(p, p->listeners_where != NULL ? p->listeners_where :
	    where != NULL ? where : main_path,
	    "no listeners: echod would serve nothing (add one to listeners = ( ... );)");
	free(where);
}

struct echod_config *
config_load(const char *path, struct config_errors *errs)
{
	struct parse p = { .path = path, .errs = errs };
	struct echod_config *cfg;

	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL || (cfg->path = strdup(path)) == NULL ||
	    config_set_defaults(cfg) == -1) {
		parse_error(&p, NULL, "out of memory");
		config_free(cfg);
		return NULL;
	}
	read_file(&p, cfg, path, false);
	/* A broken main file may name the wrong directory: read drop-ins only after a good one. */
	if (p.nerrors == 0 && cfg->include_dir != NULL)
		read_dropins(&p, cfg);
	if (p.nerrors == 0)
		finish(&p, cfg, path);
	free(p.own);
	free(p.listeners_where);
	free(p.include_where);
	if (p.nerrors > 0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
listener_spec_free(struct listener_spec *spec)
{
	free(spec->path);
	free(spec->where);
	acl_free(&spec->acl);
	free(spec->stamp.key_path);
	free(spec->stamp.key_where);
	if (spec->stamp.release != NULL)
		spec->stamp.release(&spec->stamp);
}

void
config_free(struct echod_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nlisteners; i++)
		listener_spec_free(&cfg->listeners[i]);
	free(cfg->listeners);
	free(cfg->path);
	acl_free(&cfg->acl);
	free(cfg->exempt);
	free(cfg->drop_ports);
	free(cfg->user);
	free(cfg->group);
	free(cfg->user_where);
	free(cfg->group_where);
	free(cfg->control_socket);
	free(cfg->include_dir);
	for (size_t i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	metrics_conf_clear(&cfg->metrics);
	for (size_t i = 0; i < cfg->nprobes; i++)
		probe_spec_free(&cfg->probes[i]);
	free(cfg->probes);
	free(cfg);
}

void
config_errors_free(struct config_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++)
		free(errs->lines[i]);
	free(errs->lines);
	errs->lines = NULL;
	errs->count = 0;
}

bool
config_metrics_same(const struct echod_metrics_conf *a, const struct echod_metrics_conf *b)
{
	if (!a->enabled || !b->enabled)
		return a->enabled == b->enabled;
	return addr_equal((const struct sockaddr *)&a->addr, (const struct sockaddr *)&b->addr);
}

const char *
proto_name(enum proto proto)
{
	switch (proto) {
	case PROTO_TCP:
		return "tcp";
	case PROTO_UDP:
		return "udp";
	case PROTO_UNIX:
		return "unix";
	case PROTO_STAMP:
		return "stamp";
	}
	return "?";
}


bool
listener_spec_same(const struct listener_spec *a, const struct listener_spec *b)
{
	if (!proto_same_socket(a->proto, b->proto))
		return false;
	if (a->proto == PROTO_UNIX)
		return strcmp(a->path, b->path) == 0;
	return a->any_address == b->any_address &&
	    addr_equal((const struct sockaddr *)&a->addr, (const struct sockaddr *)&b->addr);
}

bool
listener_spec_overlap(const struct listener_spec *a, const struct listener_spec *b)
{
	const struct sockaddr *sa = (const void *)&a->addr, *sb = (const void *)&b->addr;

	if (!proto_same_socket(a->proto, b->proto))
		return false;
	if (a->proto == PROTO_UNIX)
		return strcmp(a->path, b->path) == 0;
	if (a->port != b->port)
		return false;
	if (a->any_address || b->any_address)
		return true;
	if (sa->sa_family != sb->sa_family)
		return false;
	return addr_is_wildcard(sa) || addr_is_wildcard(sb) || addr_equal(sa, sb);
}
