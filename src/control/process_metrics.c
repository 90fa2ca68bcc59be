/* SPDX-License-Identifier: MIT */
/* process_metrics: the standard process_* metrics of Prometheus' client libraries, from /proc. */
#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "process_metrics.h"

/* /proc/stat's btime: the boot time, in seconds since the epoch (0 if unreadable). */
static uint64_t
boot_time(void)
{
	char line[256];
	uint64_t btime = 0;
	FILE *f = fopen("/proc/stat", "re");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %" SCNu64, &btime) == 1)
			break;
	fclose(f);
	return btime;
}

/*
 * /proc/self/stat (proc(5)): the command name, field 2, is in parentheses and
 * may hold spaces and parentheses itself, so fields are counted from the last
 * ')'. Wanted: utime (14), stime (15), starttime (22), vsize (23), rss (24).
 */
static bool
read_stat(struct process_metrics *pm)
{
	char buf[1024], *p;
	unsigned long long utime, stime, start, vsize;
	long long rss;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	uint64_t btime = boot_time();
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || tck <= 0 || page <= 0 || btime == 0)
		return false;
	/* After ')': field 3 (state) onwards; %*s skips the fields not wanted. */
	if (sscanf(p + 1, " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu %*s %*s %*s %*s"
	    " %*s %*s %llu %llu %lld", &utime, &stime, &start, &vsize, &rss) != 5)
		return false;
	pm->cpu_seconds = (double)(utime + stime) / (double)tck;
	pm->start_time_seconds = (double)btime + (double)start / (double)tck;
	pm->virtual_bytes = vsize;
	pm->resident_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)page : 0;
	return true;
}

/* Entries of /proc/self/fd, the one the directory stream holds among them (as Go counts). */
static bool
count_fds(uint64_t *n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return false;
	*n = 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			(*n)++;
	closedir(d);
	return true;
}

void
process_metrics_read(struct process_metrics *pm)
{
	struct rlimit rl;

	memset(pm, 0, sizeof(*pm));
	pm->have_stat = read_stat(pm);
	pm->have_fds = count_fds(&pm->open_fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		pm->have_max_fds = true;
		pm->max_fds = (uint64_t)rl.rlim_cur;
	}
}

/* HELP, TYPE and the one sample; OpenMetrics names a counter's family without _total. */
static void
family(FILE *out, bool om, const char *name, bool counter, const char *help)
{
	size_t len = strlen(name) - (om && counter ? strlen("_total") : 0);

	fprintf(out, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)len, name, help, (int)len, name,
	    counter ? "counter" : "gauge");
}

void
process_metrics_render(const struct process_metrics *pm, bool om, FILE *out)
{
	if (pm->have_stat) {
		family(out, om, "process_cpu_seconds_total", true,
		    "Total user and system CPU time spent in seconds.");
		fprintf(out, "process_cpu_seconds_total %.2f\n", pm->cpu_seconds);
	}
	if (pm->have_max_fds) {
		family(out, om, "process_max_fds", false, "Maximum number of open file descriptors.");
		fprintf(out, "process_max_fds %" PRIu64 "\n", pm->max_fds);
	}
	if (pm->have_fds) {
		family(out, om, "process_open_fds", false, "Number of open file descriptors.");
		fprintf(out, "process_open_fds %" PRIu64 "\n", pm->open_fds);
	}
	if (!pm->have_stat)
		return;
	family(out, om, "process_resident_memory_bytes", false, "Resident memory size in bytes.");
	fprintf(out, "process_resident_memory_bytes %" PRIu64 "\n", pm->resident_bytes);
	family(out, om, "process_start_time_seconds", false,
	    "Start time of the process since unix epoch in seconds.");
	fprintf(out, "process_start_time_seconds %.2f\n", pm->start_time_seconds);
	family(out, om, "process_virtual_memory_bytes", false, "Virtual memory size in bytes.");
	fprintf(out, "process_virtual_memory_bytes %" PRIu64 "\n", pm->virtual_bytes);
}
