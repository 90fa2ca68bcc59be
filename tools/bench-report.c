/* SPDX-License-Identifier: MIT */
/* The result of one run, for people (aligned text) and for scripts (one flat JSON line). */
#include <inttypes.h>
#include <stdio.h>

#include "bench.h"

const char *
bench_mode_name(enum bench_mode m)
{
	static const char *const names[] = {
		[BENCH_TCP_PINGPONG] = "tcp-pingpong",
		[BENCH_TCP_STREAM] = "tcp-stream",
		[BENCH_UDP_PINGPONG] = "udp-pingpong",
		[BENCH_TCP_CONNECT] = "tcp-connect",
		[BENCH_IDLE] = "idle",
		[BENCH_TCP_FLOOR] = "tcp-floor",
		[BENCH_UDP_FLOOR] = "udp-floor",
		[BENCH_UDP_BATCH_FLOOR] = "udp-batch-floor",
		[BENCH_STAMP_PINGPONG] = "stamp-pingpong",
	};

	return names[m];
}

static bool
report_is_tcp(const struct bench_result *r)
{
	return !bench_mode_is_pingpong_dgram(r->o->mode);
}

/* Descriptors the server kept after every connection of the run was closed. */
static int
report_fd_leak(const struct bench_result *r)
{
	if (!r->before.ok || r->fds_after < 0 || !report_is_tcp(r))
		return 0;
	return r->fds_after > r->before.fds ? r->fds_after - r->before.fds : 0;
}

uint64_t
report_errors(const struct bench_stats *st, const struct bench_result *r)
{
	return st->mismatch + st->reset + st->stall + st->loss + st->connect_fail +
	       (uint64_t)report_fd_leak(r);
}

static bool
report_has_cpu(const struct bench_result *r)
{
	return r->start.ok && r->end.ok && r->o->mode != BENCH_IDLE;
}

static double
report_cpu_us(const struct bench_result *r)
{
	return (double)(r->end.cpu_ns - r->start.cpu_ns) / 1000;
}

/* Server CPU share of one core over the window, in percent. */
static double
report_cpu_pct(const struct bench_result *r)
{
	double wall_us = (double)(r->end.when - r->start.when) / 1000;

	return wall_us > 0 ? 100 * report_cpu_us(r) / wall_us : 0;
}

static double
report_per_op(const struct bench_result *r)
{
	return r->st.ops > 0 ? report_cpu_us(r) / (double)r->st.ops : 0;
}

static double
report_per_mb(const struct bench_result *r)
{
	return r->st.bytes > 0 ? report_cpu_us(r) / ((double)r->st.bytes / 1e6) : 0;
}

/* Growth of the server's memory while the idle connections are held, per connection. */
static double
report_per_conn(long after_kb, long before_kb, uint64_t held)
{
	return held > 0 ? (double)(after_kb - before_kb) * 1024 / (double)held : 0;
}

static double
report_loss_pct(const struct bench_stats *st)
{
	uint64_t all = st->done_total + st->loss;

	return all > 0 ? 100.0 * (double)st->loss / (double)all : 0;
}

static void
report_print_server(const struct bench_result *r)
{
	const struct bench_stats *st = &r->st;

	if (!r->before.ok)
		return;
	printf("  server      pid %d, %d process(es)", (int)r->o->pid, r->end.procs);
	if (report_has_cpu(r)) {
		printf(", cpu %.1f%%", report_cpu_pct(r));
		if (r->o->mode == BENCH_TCP_STREAM)
			printf(", %.1f us/MB", report_per_mb(r));
		else
			printf(", %.2f us/op", report_per_op(r));
	}
	printf("\n  server fds  %d before, %d after close%s\n", r->before.fds, r->fds_after,
	       report_fd_leak(r) ? " (LEAK)" : "");
	if (r->o->mode == BENCH_IDLE && r->end.ok)
		printf("  server mem  RssAnon %ld -> %ld KiB (%.0f B/conn), VmRSS %ld -> %ld KiB "
		       "(%.0f B/conn), fds held %d\n", r->before.anon_kb, r->end.anon_kb,
		       report_per_conn(r->end.anon_kb, r->before.anon_kb, st->ops),
		       r->before.rss_kb, r->end.rss_kb,
		       report_per_conn(r->end.rss_kb, r->before.rss_kb, st->ops), r->end.fds);
}

void
report_print(const struct bench_result *r)
{
	const struct bench_opts *o = r->o;
	const struct bench_stats *st = &r->st;
	double s = r->window_s;

	if (o->mode == BENCH_UDP_BATCH_FLOOR)
		printf("%s (loopback, no server): c=%d s=%zu", bench_mode_name(o->mode), o->conns,
		       o->size);
	else if (o->mode >= BENCH_TCP_FLOOR)
		printf("%s (loopback pair, no server): s=%zu", bench_mode_name(o->mode), o->size);
	else
		printf("%s %s port %u: c=%d s=%zu", bench_mode_name(o->mode), o->host, o->port,
		       o->conns, o->size);
	if (o->mode == BENCH_TCP_STREAM)
		printf(" w=%zu", o->window);
	printf(" threads=%d warmup=%.1fs window=%.2fs\n", o->threads, o->warmup, s);
	if (o->mode == BENCH_IDLE)
		printf("  held        %" PRIu64 " of %d connection%s\n", st->ops, o->conns,
		    o->conns == 1 ? "" : "s");
	else if (o->mode != BENCH_TCP_STREAM)
		printf("  ops         %" PRIu64 " (%.0f/s), %.2f MB/s\n", st->ops,
		       (double)st->ops / s, (double)st->bytes / 1e6 / s);
	else
		printf("  verified    %.2f MB/s\n", (double)st->bytes / 1e6 / s);
	if (st->lat.count > 0)
		printf("  %s p50 %.2f us, p99 %.2f us, p999 %.2f us, max %.2f us, "
		       "mean %.2f us\n", o->mode == BENCH_UDP_BATCH_FLOOR ? "per dgram  " :
		       o->mode >= BENCH_TCP_FLOOR ? "recv+send  " : "latency    ",
		       hist_percentile_us(&st->lat, 0.5), hist_percentile_us(&st->lat, 0.99),
		       hist_percentile_us(&st->lat, 0.999), hist_percentile_us(&st->lat, 1),
		       hist_mean_us(&st->lat));
	report_print_server(r);
	printf("  errors      %" PRIu64 ": mismatch %" PRIu64 ", reset %" PRIu64 ", stall %"
	       PRIu64 ", loss %" PRIu64 " (%.3f%%, %" PRIu64 " late), connect %" PRIu64
	       ", fd leak %d\n", report_errors(st, r), st->mismatch, st->reset, st->stall,
	       st->loss, report_loss_pct(st), st->late, st->connect_fail, report_fd_leak(r));
}

/* Flat on purpose: a shell script can pick a key with sed, no JSON parser needed. */
static void
report_json_server(const struct bench_result *r)
{
	const struct bench_stats *st = &r->st;

	if (!r->before.ok) {
		printf(",\"server_pid\":null");
		return;
	}
	printf(",\"server_pid\":%d,\"server_procs\":%d", (int)r->o->pid, r->end.procs);
	if (report_has_cpu(r))
		printf(",\"server_cpu_pct\":%.1f,\"server_cpu_us_per_op\":%.3f"
		       ",\"server_cpu_us_per_mb\":%.3f", report_cpu_pct(r), report_per_op(r),
		       report_per_mb(r));
	printf(",\"server_fds_before\":%d,\"server_fds_after\":%d,\"fd_leak\":%d",
	       r->before.fds, r->fds_after, report_fd_leak(r));
	if (r->o->mode == BENCH_IDLE && r->end.ok)
		printf(",\"server_fds_held\":%d,\"server_anon_kb_before\":%ld"
		       ",\"server_anon_kb_held\":%ld,\"server_rss_kb_before\":%ld"
		       ",\"server_rss_kb_held\":%ld,\"anon_bytes_per_conn\":%.1f"
		       ",\"rss_bytes_per_conn\":%.1f", r->end.fds, r->before.anon_kb,
		       r->end.anon_kb, r->before.rss_kb, r->end.rss_kb,
		       report_per_conn(r->end.anon_kb, r->before.anon_kb, st->ops),
		       report_per_conn(r->end.rss_kb, r->before.rss_kb, st->ops));
}

void
report_json(const struct bench_result *r)
{
	const struct bench_opts *o = r->o;
	const struct bench_stats *st = &r->st;
	double s = r->window_s;

	printf("{\"mode\":\"%s\",\"host\":\"%s\",\"port\":%u,\"conns\":%d,\"size\":%zu"
	       ",\"window\":%zu,\"threads\":%d,\"warmup_s\":%.3f,\"window_s\":%.3f"
	       ",\"conns_up\":%d,\"ops\":%" PRIu64 ",\"ops_per_s\":%.1f,\"mb_per_s\":%.3f",
	       bench_mode_name(o->mode), o->host, o->port, o->conns, o->size, o->window,
	       o->threads, o->warmup, s, r->conns_up, st->ops, (double)st->ops / s,
	       (double)st->bytes / 1e6 / s);
	/* max_us: the slowest round trip (its histogram bucket, within 1.6 %). */
	printf(",\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,\"max_us\":%.3f"
	       ",\"mean_us\":%.3f", hist_percentile_us(&st->lat, 0.5),
	       hist_percentile_us(&st->lat, 0.99), hist_percentile_us(&st->lat, 0.999),
	       hist_percentile_us(&st->lat, 1), hist_mean_us(&st->lat));
	printf(",\"errors\":%" PRIu64 ",\"mismatch\":%" PRIu64 ",\"reset\":%" PRIu64
	       ",\"stall\":%" PRIu64 ",\"loss\":%" PRIu64 ",\"loss_pct\":%.4f,\"late\":%" PRIu64
	       ",\"connect_fail\":%" PRIu64, report_errors(st, r), st->mismatch, st->reset,
	       st->stall, st->loss, report_loss_pct(st), st->late, st->connect_fail);
	report_json_server(r);
	printf("}\n");
}
