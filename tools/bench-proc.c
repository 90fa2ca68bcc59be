/* SPDX-License-Identifier: MIT */
/* What /proc says about the server: CPU time, memory and descriptors of its process tree. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/*
 * Forking servers (xinetd, socat) serve each connection in a child, so the root's own
 * counters would hide the work: the tree is the root and all its descendants. Per process,
 * utime+stime cover every thread (live or gone) and cutime+cstime the reaped children, so the
 * sum over the tree is the CPU the server spent, whichever process or thread spent it.
 * Those are in clock ticks (10 ms), truncated per process: summed over 50 children that each
 * ran 5 ms, they would say 0. A single-threaded process's exact figure is its schedstat (ns),
 * so that is used for those; a threaded process costs one truncation, not one per thread.
 */
struct proc_entry {
	pid_t pid, ppid;
	uint64_t cpu_ns;
	bool in_tree;
};

static uint64_t tick_ns;

static ssize_t
proc_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Nanoseconds the main thread of pid has run (schedstat), or 0 when unavailable. */
static uint64_t
proc_schedstat_ns(pid_t pid)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if (proc_read(path, buf, sizeof(buf)) <= 0)
		return 0;
	return strtoull(buf, NULL, 10);
}

/* Parse /proc/PID/stat: the fields after "(comm)" (which may hold spaces and parentheses). */
static int
proc_stat(pid_t pid, struct proc_entry *e)
{
	unsigned long long utime, stime, cutime, cstime, own_ns;
	char path[64], buf[1024], *p;
	int ppid, threads;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (proc_read(path, buf, sizeof(buf)) <= 0 || (p = strrchr(buf, ')')) == NULL)
		return -1;
	if (sscanf(p + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu"
		   " %*d %*d %d", &ppid, &utime, &stime, &cutime, &cstime, &threads) != 6)
		return -1;
	e->pid = pid;
	e->ppid = ppid;
	/* Both are lower bounds; schedstat misses threads that have exited, if any. */
	own_ns = threads == 1 ? proc_schedstat_ns(pid) : 0;
	if (own_ns < (utime + stime) * tick_ns)
		own_ns = (utime + stime) * tick_ns;
	e->cpu_ns = own_ns + (cutime + cstime) * tick_ns;
	e->in_tree = false;
	return 0;
}

/* Every process on the machine (a few hundred at most here); *n set, NULL on error. */
static struct proc_entry *
proc_list(size_t *n)
{
	struct proc_entry *list = NULL, *grown;
	size_t cap = 0;
	struct dirent *d;
	DIR *dir;

	*n = 0;
	dir = opendir("/proc");
	if (dir == NULL)
		return NULL;
	while ((d = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(list, cap * sizeof(*list));
			if (grown == NULL)
				break;
			list = grown;
		}
		/* A process may exit between readdir() and open(): just skip it. */
		if (proc_stat((pid_t)atoi(d->d_name), &list[*n]) == 0)
			(*n)++;
	}
	closedir(dir);
	return list;
}

/* Mark root and its descendants; passes repeat until no parent adds a child. */
static void
proc_mark_tree(struct proc_entry *list, size_t n, pid_t root)
{
	bool changed = true;
	size_t i, j;

	for (i = 0; i < n; i++)
		list[i].in_tree = list[i].pid == root;
	while (changed) {
		changed = false;
		for (i = 0; i < n; i++) {
			if (list[i].in_tree)
				continue;
			for (j = 0; j < n; j++) {
				if (list[j].in_tree && list[j].pid == list[i].ppid) {
					list[i].in_tree = changed = true;
					break;
				}
			}
		}
	}
}

static long
proc_status_kb(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p == NULL ? 0 : strtol(p + strlen(key), NULL, 10);
}

static void
proc_memory(pid_t pid, struct proc_snap *s)
{
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (proc_read(path, buf, sizeof(buf)) <= 0)
		return;
	s->rss_kb += proc_status_kb(buf, "\nVmRSS:");
	s->anon_kb += proc_status_kb(buf, "\nRssAnon:");
}

/* Open descriptors of pid, or -1 (errno). */
int
proc_fds(pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (dir == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* Snapshot the tree rooted at pid. Returns 0, or -1 when pid is gone or unreadable. */
int
proc_snap(pid_t pid, struct proc_snap *s)
{
	struct proc_entry *list;
	size_t n, i;

	memset(s, 0, sizeof(*s));
	if (tick_ns == 0)
		tick_ns = 1000000000 / (uint64_t)sysconf(_SC_CLK_TCK);
	s->when = bench_now();
	list = proc_list(&n);
	if (list == NULL)
		return -1;
	proc_mark_tree(list, n, pid);
	for (i = 0; i < n; i++) {
		if (!list[i].in_tree)
			continue;
		s->cpu_ns += list[i].cpu_ns;
		s->procs++;
		proc_memory(list[i].pid, s);
	}
	free(list);
	s->fds = proc_fds(pid);
	s->ok = s->procs > 0 && s->fds >= 0;
	if (!s->ok)
		errno = ESRCH;
	return s->ok ? 0 : -1;
}
