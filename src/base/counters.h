/* SPDX-License-Identifier: MIT */
/* counters: the one table of echod's counters; everything that shows them expands it. */
#ifndef ECHOD_COUNTERS_H
#define ECHOD_COUNTERS_H

/*
 * Counters each worker keeps, in total and per listener:
 *
 *   X(name, kind, applies, by, flags, help)
 *
 * name     the one name of the counter: the C name, the `echodctl stats` and
 *          JSON key, (upper case, ECHOD_ prefix) the SIGUSR1 journal field,
 *          and the Prometheus name: echod_<name>, with _total for a COUNTER
 *          (ECHOD_METRIC_NAME()); nothing else names it
 * kind     COUNTER (never decreases) or GAUGE
 * applies  STREAM (TCP, Unix), DGRAM (UDP, STAMP), STAMP or ALL: which listeners show it
 * by       ONE: one value; REFUSAL: one per enum refusal_reason (refusal_log.h),
 *          keyed and labelled reason= by refusal_reason_name(); STAMP_DROP:
 *          one per ECHOD_STAMP_DROPS reason, keyed and labelled reason= by it
 * flags    STATS_STATUS: in STATUS= (counters with their rate, refusals summed)
 * help     the HELP text
 *
 * A new counter is one line here, and one STATS_ADD() where it happens.
 */
#define ECHOD_COUNTERS(X)							\
	X(connections_accepted, COUNTER, STREAM, ONE, STATS_STATUS,		\
	    "Stream connections accepted")					\
	X(connections_open, GAUGE, STREAM, ONE, STATS_STATUS,			\
	    "Stream connections open now")					\
	X(connections_closed, COUNTER, STREAM, ONE, 0,				\
	    "Stream connections closed")					\
	X(datagrams_echoed, COUNTER, DGRAM, ONE, STATS_STATUS,			\
	    "Datagrams echoed")							\
	X(datagrams_dropped, COUNTER, DGRAM, ONE, 0,				\
	    "Datagrams not echoed: refused, or the reply could not be sent")	\
	X(echoed_bytes, COUNTER, ALL, ONE, STATS_STATUS,			\
	    "Bytes echoed back to clients")					\
	X(refused, COUNTER, ALL, REFUSAL, STATS_STATUS,				\
	    "Connections and datagrams refused, and reads held back, by reason")	\
	X(stamp_reflected, COUNTER, STAMP, ONE, 0,				\
	    "STAMP test packets answered")					\
	X(stamp_dropped, COUNTER, STAMP, STAMP_DROP, 0,				\
	    "STAMP test packets dropped, by reason")				\
	X(stamp_tlvs_unrecognized, COUNTER, STAMP, ONE, 0,			\
	    "RFC 8972 TLVs returned with the U flag (unknown type)")		\
	X(stamp_tlvs_malformed, COUNTER, STAMP, ONE, 0,				\
	    "RFC 8972 TLVs returned with the M flag (do not fit the packet)")	\
	X(stamp_short_answered, COUNTER, STAMP, ONE, 0,				\
	    "STAMP test packets shorter than the base answered with the base packet")	\
	X(stamp_cos_refused, COUNTER, STAMP, ONE, 0,				\
	    "Class of Service requests outside dscp_allow (RP set in the reply)")	\
	X(stamp_t2_userspace, COUNTER, STAMP, ONE, 0,				\
	    "STAMP test packets without a kernel receive timestamp")		\
	X(stamp_sessions_restarted, COUNTER, STAMP, ONE, 0,			\
	    "Stateful sessions restarted at zero (timeout or sender sequence 0)")

/*
 * Why a STAMP test packet was dropped (the stamp_dropped counter's reasons):
 * shorter than the mode's base packet, its HMAC did not verify, no room for
 * a new stateful session.
 */
#define ECHOD_STAMP_DROPS(X) X(short) X(auth_failed) X(sessions_full)

/*
 * Process-wide values, read when asked for (not kept per worker):
 *
 *   X(name, kind, family, label, help)
 *
 * name is the `echodctl stats` and JSON key (echod.<name>) and journal field;
 * family the Prometheus name (ECHOD_METRIC_NAME(family, kind)), name itself
 * unless label is set: then name is family_<label value> (reloads_ok is
 * echod_reloads_total{result="ok"}). echod.version and
 * echod_build_info{version} are the one text value, beside this table.
 */
#define ECHOD_PROCESS_STATS(X)							\
	X(uptime_seconds, GAUGE, uptime_seconds, "",				\
	    "Seconds since echod started")					\
	X(workers, GAUGE, workers, "",						\
	    "Worker threads (fixed until echod restarts)")			\
	X(reloads_ok, COUNTER, reloads, "result=\"ok\"",			\
	    "Configuration reloads, by result")					\
	X(reloads_failed, COUNTER, reloads, "result=\"failed\"",		\
	    "Configuration reloads, by result")					\
	X(config_last_reload_successful, GAUGE, config_last_reload_successful, "", \
	    "Whether the last configuration reload succeeded (1; the start counts)")	\
	X(config_last_reload_success_timestamp_seconds, GAUGE,			\
	    config_last_reload_success_timestamp_seconds, "",			\
	    "Unix time of the last successful configuration load (the start counts)") \
	X(buffered_bytes, GAUGE, buffered_bytes, "",				\
	    "Bytes held for echoes that peers have not read yet")		\
	X(buffered_bytes_peak, GAUGE, buffered_bytes_peak, "",			\
	    "Most bytes held for unread echoes at once since start")		\
	X(source_table_entries, GAUGE, source_table_entries, "",		\
	    "Sources the per-source limit table tracks now")			\
	X(source_table_capacity, GAUGE, source_table_capacity, "",		\
	    "Sources the per-source limit table can track at once")		\
	X(source_table_evictions, COUNTER, source_table_evictions, "",		\
	    "Idle sources forgotten to make room for new ones")			\
	X(source_table_full, COUNTER, source_table_full, "",			\
	    "New sources refused: every table slot they may take has connections open") \
	X(source_table_unbalanced, COUNTER, source_table_unbalanced, "",	\
	    "Connection closes with no open connection on record (an echod bug)")

/*
 * A stateful STAMP listener's session table (stamp_sessions_stats()), per
 * listener, read when asked for:
 *
 *   X(name, kind, help)
 *
 * name: the field of struct stamp_sessions_stats; with ECHOD_SESSION_TABLE
 * in front, the `echodctl stats` and JSON key, and after echod_ the
 * Prometheus name. The table's refusals are not here: each is a packet
 * already counted as stamp_dropped.sessions_full.
 */
#define ECHOD_SESSION_TABLE	"session_table_"
#define ECHOD_SESSION_TABLE_STATS(X)						\
	X(entries, GAUGE, "Stateful STAMP sessions in the table now")		\
	X(capacity, GAUGE, "Stateful STAMP sessions the table holds at once")	\
	X(created, COUNTER, "Stateful STAMP sessions begun since the table was made")	\
	X(evicted, COUNTER,							\
	    "Idle stateful STAMP sessions forgotten to make room for new ones")

/* The Prometheus name of a counter or value: echod_<name>, and _total for a counter. */
#define ECHOD_METRIC_SUFFIX_COUNTER	"_total"
#define ECHOD_METRIC_SUFFIX_GAUGE	""
#define ECHOD_METRIC_NAME(prefix, name, kind) \
	"echod_" prefix #name ECHOD_METRIC_SUFFIX_##kind

#endif
