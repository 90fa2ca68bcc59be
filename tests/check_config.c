/* SPDX-License-Identifier: MIT */
/* check_config: config_load() on valid and invalid files; addr_* helpers. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <check.h>

#include "addr.h"
#include "config.h"
#include "dscp.h"
#include "probe_conf.h"
#include "stamp_conf.h"

static char *
data_path(const char *name)
{
	const char *dir = getenv("TEST_DATA");
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "data", name);
	return path;
}

/* Each bad file: the line the error must name, and words the message must hold. */
static const struct {
	const char *file;
	int line;
	const char *words;
} bad_files[] = {
	{ "syntax.conf", 3, "syntax error" },
	{ "port-range.conf", 4, "port 70000 out of range 1..65535" },
	{ "bad-protocol.conf", 2, "unknown protocol 'sctp'" },
	{ "missing-port.conf", 3, "tcp listener has no port" },
	{ "unknown-limits-key.conf", 3, "unknown key 'max_conections' in limits" },
	{ "unknown-top-key.conf", 3, "unknown key 'workerz' in the top level" },
	{ "unknown-listener-key.conf", 2, "unknown key 'adress' in listener" },
	{ "duplicate.conf", 4, "duplicate listener" },
	{ "address-name.conf", 2, "'localhost' is not an IPv4 or IPv6 literal" },
	{ "unix-relative.conf", 2, "must be absolute" },
	{ "unix-no-path.conf", 2, "unix listener has no path" },
	{ "port-type.conf", 2, "port must be an integer" },
	{ "limits-range.conf", 3, "idle_timeout -1 out of range" },
	{ "limits-range.conf", 4, "buffer_size 10 out of range" },
	{ "unix-port.conf", 2, "take a path, not a port" },
	{ "tcp-path.conf", 2, "path is only for unix listeners" },
	{ "listeners-type.conf", 1, "listeners must be a list" },
	{ "workers-range.conf", 2, "workers 0 out of range 1..1024" },
	{ "acl-host-bits.conf", 3, "allow: \"10.0.0.1/8\": host bits set beyond the /8 prefix "
	    "(the network would be 10.0.0.0/8)" },
	{ "acl-not-address.conf", 3, "deny: \"example.org\" is not an IPv4 or IPv6 address" },
	{ "acl-type.conf", 2, "deny must be an array of strings" },
	{ "acl-element-type.conf", 2, "allow: every element must be a string" },
	{ "acl-unix.conf", 2, "allow and deny are for tcp and udp listeners, not unix" },
	{ "exempt-prefix.conf", 3, "exempt: \"::1/129\": the prefix length after '/' must be "
	    "0 to 128 for IPv6" },
	{ "drop-ports-range.conf", 3, "udp_drop_source_ports: port 70000 out of range 0..65535" },
	{ "drop-ports-type.conf", 2, "udp_drop_source_ports must be an array of ports" },
	{ "guard-limits-range.conf", 2, "max_connections_per_source -1 out of range" },
	{ "guard-limits-range.conf", 3, "connection_rate 2000000 out of range 0..1000000" },
	{ "guard-limits-range.conf", 4, "udp_rate must be an integer" },
	{ "guard-limits-range.conf", 5, "udp_max_reply_bytes_per_second -5 out of range" },
	{ "guard-limits-range.conf", 6, "max_datagram 65508 out of range 0..65507" },
	{ "guard-limits-range.conf", 7, "max_buffered_bytes -1 out of range" },
	{ "user-group.conf", 2, "user must not be empty" },
	{ "user-group.conf", 3, "group must be a string" },
	{ "min-source-port-range.conf", 2, "udp_min_source_port 65536 out of range 0..65535" },
	{ "min-source-port-range.conf", 4, "udp_min_source_port -1 out of range 0..65535" },
	{ "min-source-port-range.conf", 5, "udp_min_source_port is for udp listeners, not tcp" },
	{ "min-source-port-range.conf", 6, "udp_min_source_port must be an integer" },
	{ "min-source-port-range.conf", 7, "udp_min_source_port is for udp listeners, not unix" },
	{ "metrics-type.conf", 2, "metrics must be a group: metrics = { address = " },
	{ "metrics-keys.conf", 3, "unknown key 'adress' in metrics" },
	{ "metrics-keys.conf", 4, "port 70000 out of range 1..65535" },
	{ "metrics-port-type.conf", 3, "port must be an integer" },
	{ "metrics-address.conf", 3, "metrics address 'localhost' is not an IPv4 or IPv6 literal" },
	{ "metrics-mapped.conf", 2, "IPv4-mapped IPv6 address: write the IPv4 address itself" },
	{ "metrics-overlap.conf", 5, "metrics port 9110 is also the port of the tcp listener at " },
	{ "stamp-keys.conf", 2, "stamp_mode is for stamp listeners, not udp" },
	{ "stamp-keys.conf", 3, "stamp_mode 'statefull' is neither 'stateless' nor 'stateful'" },
	{ "stamp-keys.conf", 4, "stamp_timestamp 'gps' is neither 'ntp' nor 'ptp'" },
	{ "stamp-keys.conf", 5, "stamp_auth_key is empty (leave it out for unauthenticated mode)" },
	{ "stamp-keys.conf", 6, "stamp_auth_key must be a string" },
	{ "stamp-keys.conf", 7, "stamp_auth_key is for stamp listeners, not tcp" },
	/* issue 22 item 16: the stateful table's size and timeout. */
	{ "stamp-table.conf", 2, "stamp_sessions 4 out of range 8..16777216" },
	{ "stamp-table.conf", 3, "stamp_session_timeout 0 out of range 1..86400" },
	{ "stamp-table.conf", 4, "stamp_sessions is for stamp_mode = \"stateful\"" },
	{ "stamp-table.conf", 5, "stamp_session_timeout is for stamp listeners, not udp" },
	{ "stamp-table.conf", 6, "stamp_sessions 16777217 out of range 8..16777216" },
	/* issue 22 item 15: STAMP's own per-source limits. */
	{ "stamp-limits-range.conf", 3, "stamp_rate -1 out of range 0..100000000" },
	{ "stamp-limits-range.conf", 4, "stamp_max_reply_bytes_per_second must be an integer" },
	/* RFC 8762 4.6: answer short packets with the base packet, or drop them. */
	{ "stamp-table.conf", 7, "stamp_short_packets 'answer' is neither 'base' nor 'drop'" },
	{ "stamp-table.conf", 8, "stamp_short_packets is for stamp listeners, not udp" },
	/* issue 22 items 2 and 8: the DSCP policy. */
	{ "dscp-keys.conf", 1, "dscp_allow: 'gold' is not a DSCP (a number 0..63, or ef," },
	{ "dscp-keys.conf", 3, "dscp_allow: '64' is not a DSCP" },
	{ "dscp-keys.conf", 4, "dscp_allow must be an array: dscp_allow = [" },
	{ "dscp-keys.conf", 5, "dscp_allow is for udp listeners, not tcp" },
	{ "dscp-keys.conf", 6, "reflect_dscp is for udp listeners, not stamp" },
	{ "dscp-keys.conf", 7, "reflect_dscp must be true or false" },
	{ "dscp-keys.conf", 8, "dscp_allow: every element must be a DSCP name or number" },
	{ "dscp-keys.conf", 10, "reflect_dscp must be true or false" },
	{ "scope-bad.conf", 2, "address '::1%lo': a scope (%lo) is only for link-local IPv6 "
	    "addresses (fe80::/10)" },
	{ "scope-bad.conf", 3, "address 'fe80::1%no-such-if0': no interface 'no-such-if0'" },
	{ "scope-bad.conf", 4, "address 'fe80::1%999999': no interface '999999'" },
	{ "scope-bad.conf", 5, "address '127.0.0.1%lo': a scope (%lo) is only for link-local" },
	{ "scope-bad.conf", 6, "address 'fe80::1%': no interface ''" },
	{ "scope-bad.conf", 8, "metrics address '2001:db8::1%lo': a scope (%lo) is only for " },
	{ "stamp-duplicate.conf", 3, "duplicate listener: stamp and udp listeners are both UDP "
	    "sockets: same port as the one at " },
	/* issue 25: probes = ( ... ); every key's errors. */
	{ "probe-keys.conf", 3, "unknown probe protocol 'icmp' (expected stamp, udp or tcp)" },
	{ "probe-keys.conf", 4, "interval 0.001 out of range 0.01..3600 seconds" },
	{ "probe-keys.conf", 5, "interval must be a number of seconds" },
	{ "probe-keys.conf", 6, "size 43 out of range 44..65507 (a STAMP test packet is at least "
	    "its unauthenticated base" },
	{ "probe-keys.conf", 7, "size 100 out of range 112..65507 (a STAMP test packet with "
	    "auth_key_file is at least its authenticated base" },
	{ "probe-keys.conf", 8, "size 0 out of range 1..65507 (an empty probe is a udp datagram" },
	{ "probe-keys.conf", 9, "size 65508 out of range 0..65507" },
	{ "probe-keys.conf", 10, "dscp 'gold' is not a DSCP (a number 0..63, or ef," },
	{ "probe-keys.conf", 11, "dscp '64' is not a DSCP" },
	{ "probe-keys.conf", 12, "ssid 65536 out of range 0..65535" },
	{ "probe-keys.conf", 13, "ssid is for stamp probes, not udp" },
	{ "probe-keys.conf", 14, "a probe names its key's file, not the key: auth_key_file = " },
	{ "probe-keys.conf", 15, "auth_key_file is for stamp probes, not tcp" },
	{ "probe-keys.conf", 16, "auth_key_file is empty" },
	{ "probe-keys.conf", 17, "unknown key 'intervall' in probe" },
	{ "probe-keys.conf", 18, "probe has no name" },
	{ "probe-keys.conf", 19, "probe name 'p q' must be 1 to 63 letters, digits, '.', '_' "
	    "or '-'" },
	{ "probe-keys.conf", 20, "probe 'z' is already defined at " },
	{ "probe-keys.conf", 21, "probe has no targets" },
	{ "probe-keys.conf", 22, "targets: 0 targets, not 1..4096" },
	{ "probe-keys.conf", 23, "targets must be an array of strings" },
	{ "probe-keys.conf", 24, "port 0 out of range 1..65535" },
	{ "probe-keys.conf", 25, "interval 3601 out of range 0.01..3600 seconds" },
	{ "probe-keys.conf", 26, "ssid must be an integer" },
	{ "probe-keys.conf", 27, "each probe must be a group" },
	{ "probe-keys.conf", 28, "name must be a string" },
	{ "probe-keys.conf", 29, "targets: every element must be a string" },
	{ "probe-list-type.conf", 2, "probes must be a list: probes = ( {" },
	{ "probe-targets.conf", 3, "target a target is empty" },
	{ "probe-targets.conf", 4, "target '192.0.2.1:0': port '0' is not a number 1..65535" },
	{ "probe-targets.conf", 5, "port '70000' is not a number 1..65535" },
	{ "probe-targets.conf", 6, "port 'ssh' is not a number 1..65535" },
	{ "probe-targets.conf", 7, "'[2001:db8::1]862': write an IPv6 address with a port as "
	    "[address]:port" },
	{ "probe-targets.conf", 8, "'[192.0.2.1]': brackets are for IPv6 addresses" },
	{ "probe-targets.conf", 9, "'10.0.0' is not an IPv4 address" },
	{ "probe-targets.conf", 10, "'::ffff:192.0.2.1' is an IPv4-mapped IPv6 address" },
	{ "probe-targets.conf", 11, "'0.0.0.0' is not a unicast address" },
	{ "probe-targets.conf", 12, "'224.0.0.1' is not a unicast address" },
	{ "probe-targets.conf", 13, "'ff02::1' is not a unicast address" },
	{ "probe-targets.conf", 14, "'::1%lo': a scope (%lo) is only for link-local IPv6" },
	{ "probe-targets.conf", 15, "'fe80::1%no-such-if0': no interface 'no-such-if0'" },
	{ "probe-targets.conf", 16, "'bad_host!.example' is neither an address nor a host name" },
	{ "probe-targets.conf", 17, "'-lead.example' is neither an address nor a host name" },
	{ "probe-targets.conf", 18, "'a..b' is neither an address nor a host name" },
	{ "probe-targets.conf", 19, "':862' has no host" },
	{ "probe-targets.conf", 21, "target 'HOST.example' is listed twice in probe 't'" },
	{ "probe-targets.conf", 22, "'2001:db8::zz' is not an IPv6 address" },
};

START_TEST(bad_file_names_file_and_line)
{
	struct config_errors errs = { 0 };
	char expect[600];
	const char *path = data_path(bad_files[_i].file);
	struct echod_config *cfg = config_load(path, &errs);
	bool found = false;

	ck_assert_ptr_null(cfg);
	ck_assert_uint_gt(errs.count, 0);
	snprintf(expect, sizeof(expect), "%s:%d: ", path, bad_files[_i].line);
	for (size_t i = 0; i < errs.count; i++)
		if (strncmp(errs.lines[i], expect, strlen(expect)) == 0 &&
		    strstr(errs.lines[i], bad_files[_i].words) != NULL)
			found = true;
	if (!found)
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "got: %s\n", errs.lines[i]);
	ck_assert_msg(found, "no error '%s%s'", expect, bad_files[_i].words);
	config_errors_free(&errs);
}
END_TEST

START_TEST(missing_file_is_an_error)
{
	struct config_errors errs = { 0 };

	ck_assert_ptr_null(config_load("/nonexistent/echod.conf", &errs));
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], "/nonexistent/echod.conf"));
	ck_assert_ptr_nonnull(strstr(errs.lines[0], "No such file"));
	config_errors_free(&errs);
}
END_TEST

START_TEST(valid_file_has_every_value)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg = config_load(data_path("valid.conf"), &errs);
	char buf[ADDR_STRLEN];

	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(errs.count, 0);
	ck_assert_uint_eq(cfg->nlisteners, 5);
	ck_assert_int_eq(cfg->listeners[0].proto, PROTO_TCP);
	ck_assert(cfg->listeners[0].any_address);
	ck_assert_int_eq(cfg->listeners[0].port, 7);
	ck_assert_int_eq(cfg->listeners[1].proto, PROTO_UDP);
	ck_assert(!cfg->listeners[1].any_address);
	ck_assert_str_eq(addr_format((struct sockaddr *)&cfg->listeners[1].addr,
	    cfg->listeners[1].addrlen, buf, sizeof(buf)), "127.0.0.1:7");
	ck_assert_str_eq(addr_format((struct sockaddr *)&cfg->listeners[2].addr,
	    cfg->listeners[2].addrlen, buf, sizeof(buf)), "[::1]:7007");
	ck_assert(!cfg->listeners[3].any_address);
	ck_assert_int_eq(cfg->listeners[4].proto, PROTO_UNIX);
	ck_assert_str_eq(cfg->listeners[4].path, "/run/echod/echo.sock");
	ck_assert_int_eq(cfg->limits.max_connections, 500);
	ck_assert_int_eq(cfg->limits.idle_timeout, 0);
	ck_assert_int_eq(cfg->limits.buffer_size, 1048576);
	ck_assert_int_eq(cfg->workers, 3);
	config_free(cfg);
}
END_TEST

/* fe80::1%lo and fe80::1%1 are the same socket address: loopback is interface 1. */
START_TEST(link_local_scope)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg = config_load(data_path("scope-valid.conf"), &errs);
	const struct sockaddr_in6 *a, *b;
	char buf[ADDR_STRLEN];

	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(if_nametoindex("lo"), 1);
	a = (const void *)&cfg->listeners[0].addr;
	b = (const void *)&cfg->listeners[1].addr;
	ck_assert_uint_eq(a->sin6_scope_id, 1);
	ck_assert_uint_eq(b->sin6_scope_id, 1);
	ck_assert_str_eq(addr_format((const struct sockaddr *)a, cfg->listeners[0].addrlen, buf,
	    sizeof(buf)), "[fe80::1%lo]:7");
	ck_assert_str_eq(addr_format((const struct sockaddr *)b, cfg->listeners[1].addrlen, buf,
	    sizeof(buf)), "[fe80::1%lo]:7");
	ck_assert(addr_equal((const struct sockaddr *)a, (const struct sockaddr *)b));
	config_free(cfg);
}
END_TEST

static bool
cidr_is(const struct cidr *c, const char *text)
{
	char buf[ACL_CIDR_STRLEN];

	return strcmp(acl_format(c, buf, sizeof(buf)), text) == 0;
}

static struct sockaddr_storage
peer(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(addr_parse(text, 40000, &ss, &len), 0);
	return ss;
}

static bool
permits(const struct acl *acl, const char *text)
{
	struct sockaddr_storage ss = peer(text);

	return acl_permits(acl, (struct sockaddr *)&ss);
}

START_TEST(guard_keys_have_every_value)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg = config_load(data_path("guard-valid.conf"), &errs);
	const struct acl *tcp7, *udp7, *tcp7007;

	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->acl.nallow, 2);
	ck_assert(cidr_is(&cfg->acl.allow[0], "192.0.2.0/24"));
	ck_assert(cidr_is(&cfg->acl.allow[1], "2001:db8::/32"));
	ck_assert_uint_eq(cfg->acl.ndeny, 1);
	ck_assert_uint_eq(cfg->nexempt, 0);
	ck_assert_uint_eq(cfg->ndrop_ports, 2);
	ck_assert_uint_eq(cfg->drop_ports[0], 19);
	ck_assert_uint_eq(cfg->drop_ports[1], 53);
	ck_assert_str_eq(cfg->user, "daemon");
	ck_assert_str_eq(cfg->group, "daemon");
	ck_assert_int_eq(cfg->limits.max_connections_per_source, 4);
	ck_assert_int_eq(cfg->limits.connection_rate, 0);
	ck_assert_int_eq(cfg->limits.udp_rate, 1000);
	ck_assert_int_eq(cfg->limits.stamp_rate, CONFIG_DEFAULT_STAMP_RATE);
	ck_assert_int_eq(cfg->limits.stamp_max_reply_bytes_per_second,
	    CONFIG_DEFAULT_STAMP_REPLY_BYTES);
	ck_assert_int_eq(cfg->limits.udp_max_reply_bytes_per_second, 1048576);
	ck_assert_int_eq(cfg->limits.max_datagram, 65507);
	ck_assert_int_eq(cfg->limits.max_buffered_bytes, 0);
	/* No list of its own: the top level's, both of them. */
	tcp7 = &cfg->listeners[0].acl;
	ck_assert(permits(tcp7, "192.0.2.1"));
	ck_assert(!permits(tcp7, "192.0.2.200"));
	ck_assert(permits(tcp7, "2001:db8::1"));
	ck_assert(!permits(tcp7, "198.51.100.1"));
	/* Its own allow (written IPv4-mapped) replaces the top one; the top deny stays. */
	udp7 = &cfg->listeners[1].acl;
	ck_assert(permits(udp7, "198.51.100.9"));
	ck_assert(permits(udp7, "::ffff:198.51.100.9"));
	ck_assert(!permits(udp7, "192.0.2.1"));
	ck_assert_uint_eq(udp7->ndeny, 1);
	/* "allow = [];" is everyone, not the top list; its own deny replaces the top one. */
	tcp7007 = &cfg->listeners[2].acl;
	ck_assert(permits(tcp7007, "198.51.100.1"));
	ck_assert(permits(tcp7007, "192.0.2.200"));
	ck_assert(!permits(tcp7007, "203.0.113.7"));
	/* Unix peers have no address: no list applies. */
	ck_assert_uint_eq(cfg->listeners[3].acl.nallow + cfg->listeners[3].acl.ndeny, 0);
	config_free(cfg);
}
END_TEST

START_TEST(guard_defaults)
{
	static const uint16_t ports[] = { 7, 13, 17, 19, 37, 53, 123, 161, 1900, 11211 };
	struct config_errors errs = { 0 };
	struct echod_config *cfg = config_load(data_path("guard-minimal.conf"), &errs);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->acl.nallow + cfg->acl.ndeny, 0);
	ck_assert_uint_eq(cfg->listeners[0].acl.nallow + cfg->listeners[0].acl.ndeny, 0);
	ck_assert_uint_eq(cfg->nexempt, 2);
	ck_assert(cidr_is(&cfg->exempt[0], "127.0.0.0/8"));
	ck_assert(cidr_is(&cfg->exempt[1], "::1/128"));
	ck_assert_uint_eq(cfg->ndrop_ports, sizeof(ports) / sizeof(ports[0]));
	ck_assert_mem_eq(cfg->drop_ports, ports, sizeof(ports));
	ck_assert_str_eq(cfg->user, "nobody");
	ck_assert_str_eq(cfg->group, "nogroup");
	ck_assert_int_eq(cfg->limits.max_connections_per_source, 32);
	ck_assert_int_eq(cfg->limits.connection_rate, 10);
	ck_assert_int_eq(cfg->limits.udp_rate, 100);
	ck_assert_int_eq(cfg->limits.udp_max_reply_bytes_per_second, 65536);
	ck_assert_int_eq(cfg->limits.max_datagram, 0);
	ck_assert_int_eq(cfg->limits.max_buffered_bytes, 64L << 20);
	/* No privileged source port is answered unless a file says otherwise. */
	ck_assert_int_eq(cfg->udp_min_source_port, 1024);
	ck_assert_uint_eq(cfg->listeners[1].udp_min_source_port, 1024);
	config_free(cfg);
}
END_TEST

/* A listener's own minimum, else the top level's; the drop list is not touched by either. */
START_TEST(min_source_port_per_listener)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg = config_load(data_path("min-source-port.conf"), &errs);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg->udp_min_source_port, 2048);
	ck_assert_uint_eq(cfg->listeners[0].udp_min_source_port, 2048);
	ck_assert_uint_eq(cfg->listeners[1].udp_min_source_port, 0);
	ck_assert_uint_eq(cfg->listeners[2].udp_min_source_port, 65535);
	ck_assert_uint_eq(cfg->ndrop_ports, 10);
	config_free(cfg);
}
END_TEST

START_TEST(shipped_default_config_is_valid)
{
	struct config_errors errs = { 0 };
	char path[512];
	struct echod_config *cfg;

	snprintf(path, sizeof(path), "%s/../../etc/echod.conf", getenv("TEST_DATA"));
	cfg = config_load(path, &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->nlisteners, 2);
	ck_assert_int_eq(cfg->listeners[0].port, 7);
	ck_assert_int_eq(cfg->listeners[0].proto, PROTO_TCP);
	ck_assert_int_eq(cfg->listeners[1].proto, PROTO_UDP);
	ck_assert_int_eq(cfg->limits.max_connections, CONFIG_DEFAULT_MAX_CONNECTIONS);
	ck_assert_int_eq(cfg->limits.idle_timeout, CONFIG_DEFAULT_IDLE_TIMEOUT);
	ck_assert_int_eq(cfg->limits.buffer_size, CONFIG_DEFAULT_BUFFER_SIZE);
	ck_assert_int_eq(cfg->workers, 0);
	/* Off as shipped: the example block is commented out. */
	ck_assert(!cfg->metrics.enabled);
	config_free(cfg);
}
END_TEST

START_TEST(overlap_rules)
{
	struct listener_spec any = { .proto = PROTO_TCP, .port = 7, .any_address = true };
	struct listener_spec v4 = { .proto = PROTO_TCP, .port = 7 };
	struct listener_spec v6 = { .proto = PROTO_TCP, .port = 7 };
	struct listener_spec v6any = { .proto = PROTO_TCP, .port = 7 };
	struct listener_spec udp = { .proto = PROTO_UDP, .port = 7, .any_address = true };

	addr_wildcard(AF_INET6, 7, &any.addr, &any.addrlen);
	ck_assert_int_eq(addr_parse("127.0.0.1", 7, &v4.addr, &v4.addrlen), 0);
	ck_assert_int_eq(addr_parse("::1", 7, &v6.addr, &v6.addrlen), 0);
	ck_assert_int_eq(addr_parse("::", 7, &v6any.addr, &v6any.addrlen), 0);
	ck_assert(listener_spec_overlap(&any, &v4));
	ck_assert(!listener_spec_overlap(&v4, &v6));
	ck_assert(listener_spec_overlap(&v6any, &v6));
	ck_assert(!listener_spec_overlap(&v6any, &v4));
	ck_assert(!listener_spec_overlap(&any, &udp));
	ck_assert(!listener_spec_same(&any, &v6any));
	v4.port = 8;
	ck_assert_int_eq(addr_parse("127.0.0.1", 8, &v4.addr, &v4.addrlen), 0);
	ck_assert(!listener_spec_overlap(&any, &v4));
}
END_TEST

/* The block's values; a udp listener may share its port number (another protocol). */
START_TEST(metrics_block_values)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg = config_load(data_path("metrics-valid.conf"), &errs);
	char buf[ADDR_STRLEN], where[600];

	ck_assert_ptr_nonnull(cfg);
	ck_assert(cfg->metrics.enabled);
	ck_assert_str_eq(cfg->metrics.address, "::1");
	ck_assert_int_eq(cfg->metrics.port, 9111);
	ck_assert_str_eq(addr_format((struct sockaddr *)&cfg->metrics.addr, cfg->metrics.addrlen,
	    buf, sizeof(buf)), "[::1]:9111");
	snprintf(where, sizeof(where), "%s:5", data_path("metrics-valid.conf"));
	ck_assert_str_eq(cfg->metrics.where, where);
	config_free(cfg);
	/* valid.conf has no block: off. */
	cfg = config_load(data_path("valid.conf"), &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert(!cfg->metrics.enabled);
	ck_assert_ptr_null(cfg->metrics.where);
	config_free(cfg);
}
END_TEST

/* Write dir/name with text. */
static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * "metrics = { };" takes 127.0.0.1 and the default port; a drop-in's block
 * replaces the main file's whole (its address too); config_metrics_same().
 */
START_TEST(metrics_defaults_and_dropin)
{
	char dir[] = "/tmp/check-config-XXXXXX", path[512], buf[ADDR_STRLEN], cmd[600];
	struct config_errors errs = { 0 };
	struct echod_config *a, *b;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/echod.conf", dir);
	write_file(dir, "echod.conf", "listeners = ( { protocol = \"tcp\"; port = 7; } );\n"
	    "metrics = { };\n");
	a = config_load(path, &errs);
	ck_assert_ptr_nonnull(a);
	ck_assert(a->metrics.enabled);
	ck_assert_str_eq(addr_format((struct sockaddr *)&a->metrics.addr, a->metrics.addrlen,
	    buf, sizeof(buf)), "127.0.0.1:9110");
	ck_assert_int_eq(CONFIG_DEFAULT_METRICS_PORT, 9110);
	write_file(dir, "echod.conf", "include_dir = \"d\";\n"
	    "listeners = ( { protocol = \"tcp\"; port = 7; } );\n"
	    "metrics = { address = \"::1\"; port = 9200; };\n");
	snprintf(buf, sizeof(buf), "%s/d", dir);
	ck_assert_int_eq(mkdir(buf, 0755), 0);
	write_file(buf, "50-metrics.conf", "metrics = {\n  port = 9300;\n};\n");
	b = config_load(path, &errs);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->metrics.address, "127.0.0.1");
	ck_assert_int_eq(b->metrics.port, 9300);
	snprintf(cmd, sizeof(cmd), "%s/d/50-metrics.conf:1", dir);
	ck_assert_str_eq(b->metrics.where, cmd);
	ck_assert(!config_metrics_same(&a->metrics, &b->metrics));
	ck_assert(config_metrics_same(&a->metrics, &a->metrics));
	config_free(b);
	/* The defaults spelled out, in another file: the same endpoint. */
	write_file(buf, "50-metrics.conf",
	    "metrics = { address = \"127.0.0.1\"; port = 9110; };\n");
	b = config_load(path, &errs);
	ck_assert_ptr_nonnull(b);
	ck_assert(config_metrics_same(&a->metrics, &b->metrics));
	b->metrics.enabled = false;
	ck_assert(!config_metrics_same(&a->metrics, &b->metrics));
	config_free(a);
	config_free(b);
	ck_assert_uint_eq(errs.count, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* issue 22 items 2, 8, 16 and RFC 8762 4.6: the new keys, as written and by default. */
START_TEST(stamp_policy_values)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg = config_load(data_path("stamp-policy-valid.conf"), &errs);
	const uint64_t top = DSCP_BIT(46) | DSCP_BIT(34) | DSCP_BIT(0) | DSCP_BIT(7);

	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "got: %s\n", errs.lines[i]);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->nlisteners, 4);
	ck_assert(cfg->dscp_allow == top);
	ck_assert(!cfg->listeners[0].reflect_dscp);
	ck_assert(cfg->listeners[0].dscp_allow == top);
	ck_assert(cfg->listeners[1].reflect_dscp);
	ck_assert(cfg->listeners[1].dscp_allow == 0);
	ck_assert(cfg->listeners[2].dscp_allow == DSCP_BIT(40));
	ck_assert_int_eq(cfg->listeners[2].stamp.sessions, 1024);
	ck_assert_int_eq(cfg->listeners[2].stamp.session_timeout, 600);
	ck_assert(cfg->listeners[2].stamp.short_drop);
	ck_assert(cfg->listeners[3].dscp_allow == top);
	ck_assert(!cfg->listeners[3].stamp.short_drop);
	config_free(cfg);

	/* Defaults: every class but CS6 and CS7, reflect_dscp on, short packets answered. */
	cfg = config_load(data_path("valid.conf"), &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert(cfg->dscp_allow == DSCP_ALLOW_DEFAULT);
	ck_assert(cfg->reflect_dscp);
	ck_assert(cfg->listeners[1].reflect_dscp);
	ck_assert(cfg->listeners[1].dscp_allow == DSCP_ALLOW_DEFAULT);
	ck_assert(!(DSCP_ALLOW_DEFAULT & DSCP_BIT(48)) && !(DSCP_ALLOW_DEFAULT & DSCP_BIT(56)));
	ck_assert(DSCP_ALLOW_DEFAULT & DSCP_BIT(46));
	config_free(cfg);
}
END_TEST

/* issue 22 item 16: the table follows stamp_sessions; a reload keeps it only if unchanged. */
START_TEST(stamp_table_reload)
{
	struct config_errors errs = { 0 };
	struct echod_config *a = config_load(data_path("stamp-policy-valid.conf"), &errs);
	struct echod_config *b = config_load(data_path("stamp-policy-valid.conf"), &errs);
	struct stamp_sessions_stats st;
	struct stamp_runtime *ra, *rb;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(stamp_conf_prepare(a, NULL, &errs), 0);
	ra = a->listeners[2].stamp.run;
	stamp_sessions_stats(ra->reflector.sessions, &st);
	ck_assert_uint_eq(st.capacity, 1024);
	ck_assert(ra->reflector.short_drop);
	ck_assert(ra->reflector.dscp_allow == DSCP_BIT(40));
	/* Unchanged: the same table, its sessions go on. */
	ck_assert_int_eq(stamp_conf_prepare(b, a, &errs), 0);
	rb = b->listeners[2].stamp.run;
	ck_assert_ptr_eq(rb->reflector.sessions, ra->reflector.sessions);
	config_free(a);
	/* Another size: a new table. */
	b->listeners[2].stamp.sessions = 2048;
	a = b;
	b = config_load(data_path("stamp-policy-valid.conf"), &errs);
	ck_assert_ptr_nonnull(b);
	b->listeners[2].stamp.sessions = 2048;
	b->listeners[2].stamp.session_timeout = 30;
	ck_assert_int_eq(stamp_conf_prepare(b, a, &errs), 0);
	ck_assert_ptr_ne(b->listeners[2].stamp.run->reflector.sessions,
	    a->listeners[2].stamp.run->reflector.sessions);
	stamp_sessions_stats(b->listeners[2].stamp.run->reflector.sessions, &st);
	ck_assert_uint_eq(st.capacity, 2048);
	config_free(a);
	config_free(b);
}
END_TEST

/* dscp.c: names of RFC 2474 (CS), 2597 (AF), 3246 (EF) and numbers, both ways. */
START_TEST(dscp_names)
{
	ck_assert_int_eq(dscp_parse("ef"), 46);
	ck_assert_int_eq(dscp_parse("EF"), 46);
	ck_assert_int_eq(dscp_parse("af11"), 10);
	ck_assert_int_eq(dscp_parse("af43"), 38);
	ck_assert_int_eq(dscp_parse("cs7"), 56);
	ck_assert_int_eq(dscp_parse("cs0"), 0);
	ck_assert_int_eq(dscp_parse("be"), 0);
	ck_assert_int_eq(dscp_parse("default"), 0);
	ck_assert_int_eq(dscp_parse("63"), 63);
	ck_assert_int_eq(dscp_parse("64"), -1);
	ck_assert_int_eq(dscp_parse("-1"), -1);
	ck_assert_int_eq(dscp_parse("af44"), -1);
	ck_assert_int_eq(dscp_parse("4x"), -1);
	ck_assert_int_eq(dscp_parse(""), -1);
	ck_assert_str_eq(dscp_name(46), "ef");
	ck_assert_str_eq(dscp_name(0), "default");
	ck_assert_str_eq(dscp_name(26), "af31");
	ck_assert_ptr_null(dscp_name(1));
}
END_TEST

START_TEST(addr_parse_and_format)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[ADDR_STRLEN];

	ck_assert_int_eq(addr_parse("192.0.2.1", 7, &ss, &len), 0);
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, len, buf, sizeof(buf)),
	    "192.0.2.1:7");
	ck_assert_int_eq(addr_parse("2001:db8::1", 65535, &ss, &len), 0);
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, len, buf, sizeof(buf)),
	    "[2001:db8::1]:65535");
	ck_assert_int_eq(addr_port((struct sockaddr *)&ss), 65535);
	ck_assert(!addr_is_wildcard((struct sockaddr *)&ss));
	ck_assert_int_eq(addr_parse("::ffff:10.0.0.1", 1, &ss, &len), 0);
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, len, buf, sizeof(buf)),
	    "[::ffff:10.0.0.1]:1");
	ck_assert_int_eq(addr_parse("example.org", 7, &ss, &len), -1);
	ck_assert_int_eq(addr_parse("256.1.1.1", 7, &ss, &len), -1);
	ck_assert_int_eq(addr_parse("", 7, &ss, &len), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* A scope: link-local only, and an interface this host has. */
	ck_assert_int_eq(addr_parse("fe80::1%lo", 7, &ss, &len), 0);
	ck_assert_int_eq(addr_parse("ff02::1%1", 7, &ss, &len), 0);
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, len, buf, sizeof(buf)),
	    "[ff02::1%lo]:7");
	ck_assert_int_eq(addr_parse("2001:db8::1%lo", 7, &ss, &len), -1);
	ck_assert_int_eq(errno, EADDRNOTAVAIL);
	ck_assert_int_eq(addr_parse("fe80::1%no-such-if0", 7, &ss, &len), -1);
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_int_eq(addr_parse("fe80::1%0", 7, &ss, &len), -1);
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_int_eq(addr_parse("fe80::zz%lo", 7, &ss, &len), -1);
	ck_assert_int_eq(errno, EINVAL);
	addr_wildcard(AF_INET, 9, &ss, &len);
	ck_assert(addr_is_wildcard((struct sockaddr *)&ss));
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, len, buf, sizeof(buf)),
	    "0.0.0.0:9");
}
END_TEST

/* issue 25: every probe key as written, and each default beside them. */
START_TEST(probe_values_and_defaults)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg = config_load(data_path("probe-valid.conf"), &errs);
	const struct probe_spec *p;
	char buf[ADDR_STRLEN], where[600];

	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "got: %s\n", errs.lines[i]);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->nprobes, 4);
	p = probe_conf_find(cfg->probes, cfg->nprobes, "dc1");
	ck_assert_ptr_eq(p, &cfg->probes[0]);
	snprintf(where, sizeof(where), "%s:4", data_path("probe-valid.conf"));
	ck_assert_str_eq(p->where, where);
	ck_assert_int_eq(p->proto, PROTO_STAMP);
	ck_assert(p->interval == 0.5);
	ck_assert_int_eq(p->size, 128);
	ck_assert_int_eq(p->dscp, 34);
	ck_assert_int_eq(p->ssid, 7);
	ck_assert_str_eq(p->key_path, "/etc/echod/probe.key");
	snprintf(where, sizeof(where), "%s:7", data_path("probe-valid.conf"));
	ck_assert_str_eq(p->key_where, where);
	ck_assert_uint_eq(p->ntargets, 6);
	/* A literal carries its address; a name only its text: nothing resolves here. */
	ck_assert(p->targets[0].literal);
	ck_assert_str_eq(p->targets[0].host, "10.0.0.1");
	ck_assert_int_eq(p->targets[0].port, 862);
	ck_assert_str_eq(addr_format((struct sockaddr *)&p->targets[0].addr,
	    p->targets[0].addrlen, buf, sizeof(buf)), "10.0.0.1:862");
	ck_assert_str_eq(p->targets[1].text, "[2001:db8::1]:8620");
	ck_assert_str_eq(p->targets[1].host, "2001:db8::1");
	ck_assert_int_eq(p->targets[1].port, 8620);
	ck_assert(!p->targets[2].literal);
	ck_assert_str_eq(p->targets[2].host, "host.example");
	ck_assert_int_eq(p->targets[2].port, 862);
	ck_assert_str_eq(addr_format((struct sockaddr *)&p->targets[3].addr,
	    p->targets[3].addrlen, buf, sizeof(buf)), "[2001:db8::2]:862");
	ck_assert_str_eq(addr_format((struct sockaddr *)&p->targets[4].addr,
	    p->targets[4].addrlen, buf, sizeof(buf)), "[fe80::1%lo]:862");
	ck_assert_int_eq(p->targets[5].port, 9862);
	snprintf(where, sizeof(where), "%s:5", data_path("probe-valid.conf"));
	ck_assert_str_eq(p->targets[5].where, where);
	p = &cfg->probes[1];
	ck_assert_str_eq(p->name, "echo-udp");
	ck_assert_int_eq(p->proto, PROTO_UDP);
	ck_assert_int_eq(p->size, 0);
	ck_assert_int_eq(p->dscp, 46);
	ck_assert(p->interval == 2.0);
	ck_assert_int_eq(p->targets[0].port, 7007);
	ck_assert(!p->targets[0].literal);
	p = &cfg->probes[2];
	ck_assert_int_eq(p->proto, PROTO_TCP);
	ck_assert_int_eq(p->size, CONFIG_DEFAULT_PROBE_SIZE);
	ck_assert_int_eq(p->targets[0].port, 7);
	/* Nothing but a name and a target: STAMP, 862, once a second, the base packet. */
	p = probe_conf_find(cfg->probes, cfg->nprobes, "defaults");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->proto, PROTO_STAMP);
	ck_assert_int_eq(p->port, 862);
	ck_assert(p->interval == CONFIG_DEFAULT_PROBE_INTERVAL);
	ck_assert_int_eq(p->size, 44);
	ck_assert_int_eq(p->dscp, 0);
	ck_assert_int_eq(p->ssid, 0);
	ck_assert_ptr_null(p->key_path);
	ck_assert_ptr_null(probe_conf_find(cfg->probes, cfg->nprobes, "nope"));
	config_free(cfg);
	/* A file without probes has none. */
	cfg = config_load(data_path("valid.conf"), &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->nprobes, 0);
	config_free(cfg);
	ck_assert_uint_eq(errs.count, 0);
}
END_TEST

/*
 * A mesh is a drop-in: its probes add to the main file's, and a name two
 * files define is an error at the second naming the first's file:line.
 */
START_TEST(probe_dropins)
{
	char dir[] = "/tmp/check-config-XXXXXX", path[512], sub[512], expect[1200];
	struct config_errors errs = { 0 };
	struct echod_config *cfg;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/echod.conf", dir);
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	write_file(dir, "echod.conf", "include_dir = \"conf.d\";\n"
	    "listeners = ( { protocol = \"stamp\"; } );\n"
	    "probes = ( { name = \"local\"; targets = [ \"127.0.0.1\" ]; } );\n");
	write_file(sub, "50-mesh.conf", "probes = (\n"
	    "  { name = \"dc1\"; targets = [ \"192.0.2.1\", \"192.0.2.2\" ]; },\n"
	    "  { name = \"dc2\"; targets = [ \"198.51.100.1\" ]; protocol = \"udp\"; }\n);\n");
	cfg = config_load(path, &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->nprobes, 3);
	ck_assert_str_eq(cfg->probes[0].name, "local");
	ck_assert_str_eq(cfg->probes[1].name, "dc1");
	ck_assert_uint_eq(cfg->probes[1].ntargets, 2);
	ck_assert_str_eq(cfg->probes[2].name, "dc2");
	ck_assert_int_eq(cfg->probes[2].targets[0].port, 7);
	config_free(cfg);
	/* Another drop-in, read after 50-mesh.conf, takes dc2 again. */
	write_file(sub, "60-more.conf",
	    "\nprobes = ( { name = \"dc2\"; targets = [ \"h.example\" ]; } );\n");
	ck_assert_ptr_null(config_load(path, &errs));
	ck_assert_uint_eq(errs.count, 1);
	snprintf(expect, sizeof(expect), "%s/conf.d/60-more.conf:2: probe 'dc2' is already "
	    "defined at %s/conf.d/50-mesh.conf:3", dir, dir);
	ck_assert_str_eq(errs.lines[0], expect);
	config_errors_free(&errs);
	/* And the main file's name, likewise. */
	write_file(sub, "60-more.conf",
	    "probes = ( { name = \"local\"; targets = [ \"::1\" ]; } );\n");
	ck_assert_ptr_null(config_load(path, &errs));
	ck_assert_uint_eq(errs.count, 1);
	snprintf(expect, sizeof(expect), "%s/conf.d/60-more.conf:1: probe 'local' is already "
	    "defined at %s:3", dir, path);
	ck_assert_str_eq(errs.lines[0], expect);
	config_errors_free(&errs);
	snprintf(expect, sizeof(expect), "rm -rf %s", dir);
	ck_assert_int_eq(system(expect), 0);
}
END_TEST

/*
 * The example mesh drop-ins parse: the tests' as it is, the shipped one
 * (etc/conf.d/mesh.conf.example, all comments) once its block is uncommented.
 */
static void
load_mesh(const char *file, bool uncomment)
{
	char dir[] = "/tmp/check-config-XXXXXX", path[512], text[8192], line[512], cmd[1200];
	struct config_errors errs = { 0 };
	struct echod_config *cfg;
	bool in_block = false;
	FILE *f = fopen(file, "r");
	size_t n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *keep = line;

		in_block = in_block || strncmp(line, "# probes", 8) == 0;
		if (uncomment && in_block && strncmp(line, "# ", 2) == 0)
			keep = line + 2;
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", keep);
		ck_assert_uint_lt(n, sizeof(text) - 1);
	}
	fclose(f);
	ck_assert(!uncomment || in_block);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/d", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	write_file(path, "mesh.conf", text);
	write_file(dir, "echod.conf", "include_dir = \"d\";\n"
	    "listeners = ( { protocol = \"stamp\"; } );\n");
	snprintf(path, sizeof(path), "%s/echod.conf", dir);
	cfg = config_load(path, &errs);
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "got: %s\n", errs.lines[i]);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->nprobes, 2);
	ck_assert_uint_gt(cfg->probes[0].ntargets, 1);
	ck_assert_int_eq(cfg->probes[1].proto, PROTO_UDP);
	config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(probe_mesh_example)
{
	char shipped[512];

	load_mesh(data_path("mesh.conf"), false);
	snprintf(shipped, sizeof(shipped), "%s/../../etc/conf.d/mesh.conf.example",
	    getenv("TEST_DATA"));
	load_mesh(shipped, true);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("files");

	tcase_add_loop_test(tc, bad_file_names_file_and_line, 0,
	    (int)(sizeof(bad_files) / sizeof(bad_files[0])));
	tcase_add_test(tc, missing_file_is_an_error);
	tcase_add_test(tc, valid_file_has_every_value);
	tcase_add_test(tc, shipped_default_config_is_valid);
	tcase_add_test(tc, guard_keys_have_every_value);
	tcase_add_test(tc, guard_defaults);
	tcase_add_test(tc, min_source_port_per_listener);
	tcase_add_test(tc, overlap_rules);
	tcase_add_test(tc, metrics_block_values);
	tcase_add_test(tc, metrics_defaults_and_dropin);
	tcase_add_test(tc, stamp_policy_values);
	tcase_add_test(tc, stamp_table_reload);
	tcase_add_test(tc, dscp_names);
	tcase_add_test(tc, probe_values_and_defaults);
	tcase_add_test(tc, probe_dropins);
	tcase_add_test(tc, probe_mesh_example);
	suite_add_tcase(s, tc);
	tc = tcase_create("addr");
	tcase_add_test(tc, addr_parse_and_format);
	tcase_add_test(tc, link_local_scope);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
