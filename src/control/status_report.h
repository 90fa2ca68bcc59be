/* SPDX-License-Identifier: MIT */
/* status_report: `echodctl status` of the running echod (what status.c formats). */
#ifndef ECHOD_STATUS_REPORT_H
#define ECHOD_STATUS_REPORT_H

#include <stdbool.h>

#include "report.h"

struct server;

/*
 * The control socket's "status" (text lines) and "status json" (one JSON
 * line) into out, which stays a success: a failed reload it describes is
 * not a failure of the status request. Control thread only.
 */
void	status_report(struct server *s, bool json, struct report *out);

#endif
