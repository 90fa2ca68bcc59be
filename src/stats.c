/* SPDX-License-Identifier: MIT */
/* stats: counters each worker keeps for itself; summed for status lines. */
#include "stats.h"

void
stats_accumulate(struct echo_totals *sum, const struct echo_stats *s)
{
	sum->tcp_open += STAT_GET(s->tcp_open);
	sum->tcp_accepted += STAT_GET(s->tcp_accepted);
	sum->tcp_refused += STAT_GET(s->tcp_refused);
	sum->tcp_denied += STAT_GET(s->tcp_denied);
	sum->tcp_limited += STAT_GET(s->tcp_limited);
	sum->tcp_unlisted += STAT_GET(s->tcp_unlisted);
	sum->tcp_starved += STAT_GET(s->tcp_starved);
	sum->tcp_bytes += STAT_GET(s->tcp_bytes);
	sum->udp_datagrams += STAT_GET(s->udp_datagrams);
	sum->udp_bytes += STAT_GET(s->udp_bytes);
	sum->udp_dropped += STAT_GET(s->udp_dropped);
	sum->udp_denied += STAT_GET(s->udp_denied);
	sum->udp_source_port += STAT_GET(s->udp_source_port);
	sum->udp_oversize += STAT_GET(s->udp_oversize);
	sum->udp_limited += STAT_GET(s->udp_limited);
	sum->udp_send_failed += STAT_GET(s->udp_send_failed);
	sum->udp_unlisted += STAT_GET(s->udp_unlisted);
}
