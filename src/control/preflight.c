/* SPDX-License-Identifier: MIT */
/* preflight: asks the system what a loaded configuration needs from it, before anything starts. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "activation.h"
#include "addr.h"
#include "preflight.h"

#define PORT_START_SYSCTL	"/proc/sys/net/ipv4/ip_unprivileged_port_start"
#define PORT_START_DEFAULT	1024
/* A group entry lists its members: let getgrnam_r() grow its buffer this far. */
#define LOOKUP_BUF_MAX		(1 << 20)

static void __attribute__((format(printf, 3, 4)))
preflight_error(struct config_errors *errs, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_errors_add(errs, where, msg);
}

/*
 * The _r variants: a reload may ask while the workers run. Returns 0 with the
 * id, ENOENT when there is no such name, or the lookup's error.
 */
static int
identity_lookup(bool group, const char *name, unsigned *id)
{
	size_t size = 4096;
	char *buf = NULL, *grown;
	int r;

	for (;;) {
		grown = realloc(buf, size);
		if (grown == NULL) {
			r = ENOMEM;
			break;
		}
		buf = grown;
		if (group) {
			struct group gr, *res = NULL;

			r = getgrnam_r(name, &gr, buf, size, &res);
			if (r == 0 && res != NULL)
				*id = gr.gr_gid;
			else if (r == 0)
				r = ENOENT;
		} else {
			struct passwd pw, *res = NULL;

			r = getpwnam_r(name, &pw, buf, size, &res);
			if (r == 0 && res != NULL)
				*id = pw.pw_uid;
			else if (r == 0)
				r = ENOENT;
		}
		if (r != ERANGE || size >= LOOKUP_BUF_MAX)
			break;
		size *= 2;
	}
	free(buf);
	/* glibc reports "not found" in several ways (getpwnam(3)); privdrop.c reads them alike. */
	return r == ESRCH || r == EBADF || r == EPERM ? ENOENT : r;
}

static int
check_identity_one(const struct echod_config *cfg, bool group, struct config_errors *errs)
{
	const char *what = group ? "group" : "user";
	const char *name = group ? cfg->group : cfg->user;
	const char *where = group ? cfg->group_where : cfg->user_where;
	char dflt[64] = "";
	unsigned id;
	int r = identity_lookup(group, name, &id);

	/* Set in no file: the main one is where the admin would set it. */
	if (where == NULL) {
		where = cfg->path;
		snprintf(dflt, sizeof(dflt), " (the default; set %s = \"NAME\";)", what);
	}
	if (r == ENOENT)
		preflight_error(errs, where, "no such %s '%s'%s", what, name, dflt);
	else if (r != 0)
		preflight_error(errs, where, "cannot look up %s '%s': %s", what, name,
		    strerror(r));
	else if (id == 0)
		preflight_error(errs, where, "%s '%s' is root's (%s 0): started as root, echod "
		    "must become someone else; name an unprivileged %s", what, name,
		    group ? "gid" : "uid", what);
	else
		return 0;
	return 1;
}

static int
check_identity(const struct echod_config *cfg, struct config_errors *errs)
{
	return check_identity_one(cfg, false, errs) + check_identity_one(cfg, true, errs);
}

static int
port_start(void)
{
	FILE *f = fopen(PORT_START_SYSCTL, "re");
	int start = PORT_START_DEFAULT;

	if (f == NULL)
		return start;
	if (fscanf(f, "%d", &start) != 1)
		start = PORT_START_DEFAULT;
	fclose(f);
	return start;
}

/*
 * The kernel asks for the capability, not for uid 0: root without it (some
 * containers) cannot bind either. capget() failing leaves uid 0 as the guess.
 */
static bool
can_bind_privileged(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) == -1)
		return geteuid() == 0;
	return (data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].effective &
	    CAP_TO_MASK(CAP_NET_BIND_SERVICE)) != 0;
}

static int
check_ports(const struct echod_config *cfg, struct config_errors *errs)
{
	int start = port_start(), problems = 0;

	if (can_bind_privileged())
		return 0;
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_spec *l = &cfg->listeners[i];

		if (l->proto == PROTO_UNIX || l->port >= start || activation_provides(l))
			continue;
		preflight_error(errs, l->where, "%s port %d is privileged (below "
		    "net.ipv4.ip_unprivileged_port_start = %d) and echod runs as uid %u without "
		    "CAP_NET_BIND_SERVICE: run it as root, grant the capability, or let systemd "
		    "pass the socket (echod.socket)", proto_name(l->proto), l->port, start,
		    (unsigned)geteuid());
		problems++;
	}
	return problems;
}

static int
check_metrics(const struct echod_config *cfg, struct config_errors *errs)
{
	const struct echod_metrics_conf *m = &cfg->metrics;
	int start = port_start();

	if (!m->enabled || m->port >= start || activation_passes_metrics() ||
	    (geteuid() != 0 && can_bind_privileged()))
		return 0;
	preflight_error(errs, m->where, "metrics port %d is privileged (below "
	    "net.ipv4.ip_unprivileged_port_start = %d) and the endpoint starts after echod "
	    "gives up root and its capabilities: let systemd pass the socket "
	    "(echod-metrics.socket), or pick a port from %d up", m->port, start, start);
	return 1;
}

/*
 * echod.service and echod@.service create /run/echod and /run/echod-NAME
 * (RuntimeDirectory=), and echod.socket creates a socket's directories: a
 * path there is fine under systemd even while the directory does not exist.
 */
static bool
systemd_creates(const char *dir)
{
	const char *base = "/run/echod";
	size_t n = strlen(base);

	if (strncmp(dir, base, n) != 0)
		return false;
	return dir[n] == '\0' || (dir[n] == '-' && dir[n + 1] != '\0' &&
	    strchr(dir + n, '/') == NULL);
}

static int
check_unix_dir(const struct listener_spec *l, struct config_errors *errs)
{
	const char *slash = strrchr(l->path, '/');
	char dir[sizeof(((struct sockaddr_un *)NULL)->sun_path) + 1];
	struct stat st;

	/* config.c accepts absolute paths only; the root directory always exists. */
	if (slash == NULL || slash == l->path)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - l->path), l->path);
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		preflight_error(errs, l->where, "unix listener path %s: %s is not a directory",
		    l->path, dir);
	} else if (errno == ENOENT) {
		if (systemd_creates(dir))
			return 0;
		preflight_error(errs, l->where, "unix listener path %s: directory %s does not "
		    "exist", l->path, dir);
	} else {
		preflight_error(errs, l->where, "unix listener path %s: cannot reach directory "
		    "%s: %s", l->path, dir, strerror(errno));
	}
	return 1;
}

static int
check_unix_dirs(const struct echod_config *cfg, struct config_errors *errs)
{
	int problems = 0;

	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].proto == PROTO_UNIX &&
		    !activation_provides(&cfg->listeners[i]))
			problems += check_unix_dir(&cfg->listeners[i], errs);
	return problems;
}

int
preflight_check(const struct echod_config *cfg, unsigned flags, struct config_errors *errs)
{
	int problems = 0;

	if (flags & PREFLIGHT_IDENTITY)
		problems += check_identity(cfg, errs);
	if (flags & PREFLIGHT_PORTS)
		problems += check_ports(cfg, errs);
	if (flags & PREFLIGHT_UNIX_DIRS)
		problems += check_unix_dirs(cfg, errs);
	if (flags & PREFLIGHT_METRICS)
		problems += check_metrics(cfg, errs);
	return problems;
}
