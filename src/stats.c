/* SPDX-License-Identifier: MIT */
/* stats: counters each worker keeps for itself; summed for status lines. */
#include "stats.h"

void
stats_accumulate(struct echo_totals *sum, const struct echo_stats *s)
{
	sum->tcp_open += STAT_GET(s->tcp_open);
	sum->tcp_accepted += STAT_GET(s->tcp_accepted);
	sum->tcp_refused += STAT_GET(s->tcp_refused);
	sum->tcp_bytes += STAT_GET(s->tcp_bytes);
	sum->udp_datagrams += STAT_GET(s->udp_datagrams);
	sum->udp_bytes += STAT_GET(s->udp_bytes);
	sum->udp_dropped += STAT_GET(s->udp_dropped);
}
