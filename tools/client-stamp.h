/* SPDX-License-Identifier: MIT */
/* echo-client --stamp: the STAMP session-sender's packets, per-probe results and summary. */
#ifndef ECHOD_CLIENT_STAMP_H
#define ECHOD_CLIENT_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probe_loss.h"
#include "probe_stamp.h"
#include "stamp.h"

struct json_t;

/* ---- client-stamp-stats.c: printed ---- */

void	stampstats_print(const struct stamp_stats *ss, unsigned long lost, FILE *f);
/* The summary object's member "stamp": {...}, set in obj. */
void	stampstats_json(const struct stamp_stats *ss, unsigned long lost, struct json_t *obj);

/* ---- client-stamp-report.c: one reply's fields ---- */

/* After "... time=X ms": " rtt_net=... dwell=...", and a size that is not the one sent. */
void	stampreport_text(const struct stamp_result *r, FILE *f);
/* Members of a probe object ("rtt_net_ms", ...), set in obj. */
void	stampreport_json(const struct stamp_result *r, struct json_t *obj);

#endif
