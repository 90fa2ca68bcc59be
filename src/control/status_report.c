/* SPDX-License-Identifier: MIT */
/* status_report: gathers `echodctl status` from the running echod (status_report.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_state.h"
#include "snapshot.h"
#include "status.h"
#include "status_report.h"

/*
 * path as an absolute one, malloc'd (NULL: out of memory). echod never
 * changes its directory, so a relative path given at start (-c echod.conf)
 * is still relative to the current one: the file a reload reads again.
 */
static char *
absolute(const char *path)
{
	char cwd[PATH_MAX], *abs;

	if (path[0] == '/')
		return strdup(path);
	abs = realpath(path, NULL);
	if (abs != NULL)
		return abs;
	if (getcwd(cwd, sizeof(cwd)) == NULL || asprintf(&abs, "%s/%s", cwd, path) == -1)
		return strdup(path);
	return abs;
}

/*
 * where ("file:line", or several joined by ", " for a passed socket) with
 * each file absolute, malloc'd; NULL for NULL (or out of memory).
 */
static char *
absolute_where(const char *where)
{
	char *copy, *out = NULL, *part, *save = NULL, *colon, *abs, *grown;
	size_t len = 0;

	if (where == NULL || (copy = strdup(where)) == NULL)
		return NULL;
	for (part = strtok_r(copy, ",", &save); part != NULL; part = strtok_r(NULL, ",", &save)) {
		part += strspn(part, " ");
		colon = strrchr(part, ':');
		if (colon != NULL)
			*colon = '\0';
		abs = absolute(part);
		if (abs == NULL || asprintf(&grown, "%s%s%s%s%s", out != NULL ? out : "",
		    len > 0 ? ", " : "", abs, colon != NULL ? ":" : "",
		    colon != NULL ? colon + 1 : "") == -1)
			grown = NULL;
		free(abs);
		free(out);
		out = grown;
		if (out == NULL)
			break;
		len = strlen(out);
	}
	free(copy);
	return out;
}

/* Every row's CONFIGURED as absolute paths, like the configuration's. */
static void
absolute_rows(struct status_rows *rows)
{
	for (size_t i = 0; i < rows->count; i++) {
		char *abs = absolute_where(rows->items[i].where);

		if (abs == NULL)
			continue;
		free(rows->items[i].where);
		rows->items[i].where = abs;
	}
}

static void
free_files(char **files, size_t n)
{
	for (size_t i = 0; files != NULL && i < n; i++)
		free(files[i]);
	free(files);
}

void
status_report(struct server *s, bool json, struct report *out)
{
	struct stats_snapshot snap;
	struct status_rows rows = { 0 };
	char *configuration = absolute(s->cfg->path);
	char **files = calloc(s->cfg->nfiles + 1, sizeof(*files));
	struct status_info st;

	(void)snapshot_take(s, false, &snap);
	for (size_t i = 0; files != NULL && i < s->cfg->nfiles; i++)
		files[i] = absolute(s->cfg->files[i]);
	apply_describe(&s->listeners, s->generations.current, s->cfg, &rows);
	status_rows_append(&rows, &s->unserved);
	absolute_rows(&rows);
	st = (struct status_info){
		.version = snap.version,
		.pid = (long)getpid(),
		.uptime_seconds = snap.proc.uptime_seconds,
		.workers = snap.proc.workers,
		.connections_open = snap.total.v[STAT_connections_open],
		.configuration = configuration != NULL ? configuration : s->cfg->path,
		.files = files,
		.nfiles = files != NULL ? s->cfg->nfiles : 0,
		.loaded_at = s->loaded_at,
		.reloads_ok = snap.proc.reloads_ok,
		.reloads_failed = snap.proc.reloads_failed,
		.last_reload = &s->reload.last,
		.last_reload_at = s->reload.last_at,
		.listeners = &rows,
	};
	if (json)
		status_format_json(&st, out);
	else
		status_format_text(&st, out);
	out->failed = false;
	status_rows_clear(&rows);
	free_files(files, s->cfg->nfiles);
	free(configuration);
	stats_snapshot_free(&snap);
}
