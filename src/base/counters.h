/* SPDX-License-Identifier: MIT */
/* counters: the one table of echod's counters; everything that shows them expands it. */
#ifndef ECHOD_COUNTERS_H
#define ECHOD_COUNTERS_H

/*
 * Counters each worker keeps, in total and per listener:
 *
 *   X(name, kind, applies, n, flags, metric, help)
 *
 * name     the C name, the `echodctl stats` and JSON key, and (upper case,
 *          ECHOD_ prefix) the SIGUSR1 journal field
 * kind     COUNTER (never decreases) or GAUGE
 * applies  STREAM (TCP, Unix), DGRAM (UDP, STAMP), STAMP or ALL: which listeners show it
 * n        1, or REFUSAL_COUNT: one value per enum refusal_reason
 *          (refusal_log.h), keyed and labelled by refusal_reason_name()
 * flags    STATS_STATUS: in STATUS= (counters with their rate, refusals summed);
 *          STATS_PROCESS: /metrics shows the total only, not per listener
 * metric   the Prometheus name (rows of one name must be adjacent)
 * help     the HELP text
 *
 * A new counter is one line here, and one STATS_ADD() where it happens.
 */
#define ECHOD_COUNTERS(X)							\
	X(connections_accepted, COUNTER, STREAM, 1, STATS_STATUS,			\
	    "echod_connections_accepted_total", "Stream connections accepted")	\
	X(connections_open, GAUGE, STREAM, 1, STATS_STATUS | STATS_PROCESS,		\
	    "echod_connections_open", "Stream connections open now")		\
	X(connections_closed, COUNTER, STREAM, 1, 0,				\
	    "echod_connections_closed_total", "Stream connections closed")	\
	X(datagrams_echoed, COUNTER, DGRAM, 1, STATS_STATUS,				\
	    "echod_datagrams_echoed_total", "Datagrams echoed")			\
	X(datagrams_dropped, COUNTER, DGRAM, 1, 0,				\
	    "echod_datagrams_dropped_total",					\
	    "Datagrams not echoed: refused, or the reply could not be sent")	\
	X(echoed_bytes, COUNTER, ALL, 1, STATS_STATUS,				\
	    "echod_echoed_bytes_total", "Bytes echoed back to clients")	\
	X(refused, COUNTER, ALL, REFUSAL_COUNT, STATS_STATUS,				\
	    "echod_refusals_total",						\
	    "Connections and datagrams refused, and reads held back, by reason")	\
	X(stamp_reflected, COUNTER, STAMP, 1, 0,					\
	    "echod_stamp_reflected_total", "STAMP test packets answered")	\
	X(stamp_short, COUNTER, STAMP, 1, 0,					\
	    "echod_stamp_short_total",						\
	    "STAMP test packets dropped: shorter than the mode's base packet")	\
	X(stamp_auth_failed, COUNTER, STAMP, 1, 0,					\
	    "echod_stamp_auth_failures_total",					\
	    "STAMP test packets dropped: their HMAC did not verify")		\
	X(stamp_sessions_full, COUNTER, STAMP, 1, 0,				\
	    "echod_stamp_sessions_full_total",					\
	    "STAMP test packets dropped: no room for a new stateful session")	\
	X(stamp_tlvs_unrecognized, COUNTER, STAMP, 1, 0,				\
	    "echod_stamp_tlvs_unrecognized_total",				\
	    "RFC 8972 TLVs returned with the U flag (unknown type)")		\
	X(stamp_tlvs_malformed, COUNTER, STAMP, 1, 0,				\
	    "echod_stamp_tlvs_malformed_total",					\
	    "RFC 8972 TLVs returned with the M flag (do not fit the packet)")	\
	X(stamp_short_answered, COUNTER, STAMP, 1, 0,				\
	    "echod_stamp_short_answered_total",					\
	    "STAMP test packets shorter than the base answered with the base packet")	\
	X(stamp_cos_refused, COUNTER, STAMP, 1, 0,					\
	    "echod_stamp_cos_refused_total",					\
	    "Class of Service requests outside dscp_allow (RP set in the reply)")	\
	X(stamp_t2_userspace, COUNTER, STAMP, 1, 0,				\
	    "echod_stamp_t2_userspace_total",					\
	    "STAMP test packets without a kernel receive timestamp")		\
	X(stamp_sessions_restarted, COUNTER, STAMP, 1, 0,				\
	    "echod_stamp_sessions_restarted_total",				\
	    "Stateful sessions restarted at zero (timeout or sender sequence 0)")

/*
 * Process-wide values, read when asked for (not kept per worker):
 *
 *   X(name, kind, metric, label, help)
 *
 * label: a fixed label of the series ("" for none). echod.version and
 * echod_build_info{version} are the one text value, beside this table.
 */
#define ECHOD_PROCESS_STATS(X)							\
	X(uptime_seconds, GAUGE, "echod_uptime_seconds", "",			\
	    "Seconds since echod started")					\
	X(workers, GAUGE, "echod_workers", "",					\
	    "Worker threads (fixed until echod restarts)")			\
	X(reloads_ok, COUNTER, "echod_reloads_total", "result=\"ok\"",		\
	    "Configuration reloads, by result")					\
	X(reloads_failed, COUNTER, "echod_reloads_total", "result=\"failed\"",	\
	    "Configuration reloads, by result")					\
	X(buffered_bytes, GAUGE, "echod_buffered_bytes", "",			\
	    "Bytes held for echoes that peers have not read yet")		\
	X(buffered_bytes_peak, GAUGE, "echod_buffered_bytes_peak", "",		\
	    "Most bytes held for unread echoes at once since start")		\
	X(source_table_entries, GAUGE, "echod_source_table_entries", "",		\
	    "Sources the per-source limit table tracks now")			\
	X(source_table_capacity, GAUGE, "echod_source_table_capacity", "",		\
	    "Sources the per-source limit table can track at once")		\
	X(source_table_evictions, COUNTER, "echod_source_table_evictions_total", "",	\
	    "Idle sources forgotten to make room for new ones")			\
	X(source_table_full, COUNTER, "echod_source_table_full_total", "",		\
	    "New sources refused: every table slot they may take has connections open") \
	X(source_table_unbalanced, COUNTER, "echod_source_table_unbalanced_total", "",	\
	    "Connection closes with no open connection on record (an echod bug)")

/*
 * A stateful STAMP listener's session table (stamp_sessions_stats()), per
 * listener, read when asked for:
 *
 *   X(name, kind, metric, help)
 *
 * name: the field of struct stamp_sessions_stats, and (session_table_ in
 * front) the `echodctl stats` and JSON key. The table's refusals are not
 * here: each is a packet already counted as stamp_sessions_full.
 */
#define ECHOD_SESSION_TABLE_STATS(X)						\
	X(entries, GAUGE, "echod_stamp_session_table_entries",			\
	    "Stateful STAMP sessions in the table now")				\
	X(capacity, GAUGE, "echod_stamp_session_table_capacity",			\
	    "Stateful STAMP sessions the table holds at once")			\
	X(created, COUNTER, "echod_stamp_session_table_created_total",		\
	    "Stateful STAMP sessions begun since the table was made")		\
	X(evicted, COUNTER, "echod_stamp_session_table_evictions_total",		\
	    "Idle stateful STAMP sessions forgotten to make room for new ones")

#endif
