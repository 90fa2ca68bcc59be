/* SPDX-License-Identifier: MIT */
/* activation: takes the sockets systemd passed, tells what each is, matches them to the config. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "activation.h"
#include "addr.h"
#include "log.h"
#include "view_build.h"

/* The FileDescriptorName= of the socket unit that carries the metrics endpoint. */
#define ACTIVATION_METRICS_NAME	"metrics"

/* The passed metrics socket, held for activation_take_metrics_fd(); -1: none. */
static int metrics_fd = -1;

/* Never infer the kind from the position: ask the socket itself. */
static int
classify(int fd, enum proto *proto)
{
	if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) > 0)
		*proto = PROTO_TCP;
	else if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_DGRAM, -1, 0) > 0)
		*proto = PROTO_UDP;
	else if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0)
		*proto = PROTO_UNIX;
	else
		return -1;
	return 0;
}

/* What a passed socket is bound to, in the shape of a configured listener. */
static int
describe(int fd, enum proto proto, struct listener_spec *spec)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(spec, 0, sizeof(*spec));
	spec->proto = proto;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (proto == PROTO_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

		/* An abstract or unnamed socket never matches a path in the config. */
		spec->path = strndup(sun->sun_path[0] != '\0' ? sun->sun_path : "@",
		    sizeof(sun->sun_path));
		return spec->path == NULL ? -1 : 0;
	}
	spec->addr = ss;
	spec->addrlen = len;
	spec->port = addr_port((struct sockaddr *)&ss);
	if (ss.ss_family == AF_INET6 && addr_is_wildcard((struct sockaddr *)&ss)) {
		int v6only = 0;
		socklen_t optlen = sizeof(v6only);

		getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &optlen);
		spec->any_address = !v6only;
	}
	return 0;
}

/* systemd passes sockets in blocking mode; a blocked accept would stall a worker. */
static int
prepare(int fd, const struct listener_spec *spec)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	if (proto_is_datagram(spec->proto))
		return listener_prepare_datagram(fd, (const struct sockaddr *)&spec->addr);
	return 0;
}

/*
 * Not an echo listener: held aside, checked to be a listening TCP socket. A
 * second one would be a socket unit written by hand: the first one wins.
 */
static void
hold_metrics(int fd)
{
	enum proto proto;
	int flags;

	if (metrics_fd != -1) {
		log_warnx("passed fd %d is a second socket named " ACTIVATION_METRICS_NAME
		    ": closed (the metrics endpoint serves fd %d)", fd, metrics_fd);
		close(fd);
		return;
	}
	if (classify(fd, &proto) == -1 || proto != PROTO_TCP) {
		log_warnx("passed fd %d (" ACTIVATION_METRICS_NAME ") is not a listening TCP "
		    "socket: closed, the metrics endpoint binds its own", fd);
		close(fd);
		return;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("passed fd %d (" ACTIVATION_METRICS_NAME ") unusable: closed", fd);
		close(fd);
		return;
	}
	metrics_fd = fd;
}

int
activation_take_metrics_fd(void)
{
	int fd = metrics_fd;

	metrics_fd = -1;
	return fd;
}

/*
 * The passed sockets and their names, for the checks before start-up. A
 * LISTEN_FDNAMES whose count differs from LISTEN_FDS makes libsystemd refuse
 * both: the sockets are still there, only their names are unknown (NULL).
 */
static int
passed_with_names(char ***names)
{
	int n = sd_listen_fds_with_names(0, names);

	if (n >= 0)
		return n;
	*names = NULL;
	n = sd_listen_fds(0);
	return n > 0 ? n : 0;
}

static void
names_free(char **names, int n)
{
	for (int i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
}

static bool
is_metrics_name(char **names, int i)
{
	return names != NULL && names[i] != NULL &&
	    strcmp(names[i], ACTIVATION_METRICS_NAME) == 0;
}

bool
activation_passes_metrics(void)
{
	char **names = NULL;
	int n = passed_with_names(&names);
	bool found = false;

	for (int i = 0; i < n; i++) {
		enum proto proto;

		if (is_metrics_name(names, i) && classify(SD_LISTEN_FDS_START + i, &proto) == 0 &&
		    proto == PROTO_TCP)
			found = true;
	}
	names_free(names, n);
	return found;
}

/*
 * A datagram socket that a stamp listener of cfg serves (part of) is a stamp
 * listener: named so in logs and statistics, with STAMP's counters. Each
 * datagram still goes to the configured listener at its address (view.h),
 * whatever the name; its view makes the socket STAMP-ready (apply.c).
 */
static void
label_stamp(struct listener_spec *passed, const struct echod_config *cfg)
{
	for (size_t i = 0; cfg != NULL && i < cfg->nlisteners; i++)
		if (cfg->listeners[i].proto == PROTO_STAMP && passed->proto == PROTO_UDP &&
		    listener_spec_overlap(&cfg->listeners[i], passed))
			passed->proto = PROTO_STAMP;
}

static void
adopt_one(int fd, const char *name, struct listener_set *out, const struct echod_config *cfg)
{
	struct listener_spec passed;
	struct listener *l;
	enum proto proto;
	int r;

	if (classify(fd, &proto) == -1) {
		log_warnx("passed fd %d (%s) is not a listening stream or datagram socket: closed",
		    fd, name);
		close(fd);
		return;
	}
	r = describe(fd, proto, &passed);
	if (r == 0) {
		label_stamp(&passed, cfg);
		r = prepare(fd, &passed);
	}
	if (r == -1) {
		log_warn("passed fd %d (%s) unusable: closed", fd, name);
		free(passed.path);
		close(fd);
		return;
	}
	/* What it serves is the reload plan's to say (apply.c): here only what it is. */
	passed.where = (char *)name;
	l = listener_adopt(fd, &passed);
	free(passed.path);
	if (l == NULL || listener_set_add(out, l) == -1) {
		log_warn("cannot take passed fd %d", fd);
		if (l != NULL)
			listener_release(l);
		else
			close(fd);
	}
}

bool
activation_provides(const struct listener_spec *configured)
{
	/* 0: leave LISTEN_* for activation_collect(); no sockets when they are not ours. */
	char **names = NULL;
	int n = passed_with_names(&names);
	bool found = false;

	for (int i = 0; i < n && !found; i++) {
		struct listener_spec passed;
		enum proto proto;

		/* The metrics socket serves HTTP: it provides no echo listener. */
		if (is_metrics_name(names, i))
			continue;
		/* Not a socket: nothing described, so nothing to free (passed is stale). */
		if (classify(SD_LISTEN_FDS_START + i, &proto) == -1)
			continue;
		/* describe() cleared passed first: its path is NULL or its own. */
		if (describe(SD_LISTEN_FDS_START + i, proto, &passed) == -1) {
			free(passed.path);
			continue;
		}
		found = listener_spec_spans(&passed, configured);
		free(passed.path);
	}
	names_free(names, n);
	return found;
}

/* What LISTEN_FDS claims for this process; 0 when malformed (sd_listen_fds() says why later). */
static int
claimed_fds(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long n;

	if (pid == NULL || fds == NULL)
		return 0;
	errno = 0;
	if (strtol(pid, &end, 10) != (long)getpid() || *end != '\0' || errno != 0)
		return 0;
	n = strtol(fds, &end, 10);
	if (errno != 0 || end == fds || *end != '\0' || n < 0 || n > INT_MAX - SD_LISTEN_FDS_START)
		return 0;
	return (int)n;
}

/* sd_listen_fds_with_names() refuses a name count that differs from LISTEN_FDS: keep n. */
static int
trim_names(int n)
{
	const char *names = getenv("LISTEN_FDNAMES");
	char *copy, *p;
	int r;

	if (names == NULL)
		return 0;
	if (n == 0)
		return unsetenv("LISTEN_FDNAMES");
	if ((copy = strdup(names)) == NULL)
		return -1;
	/* Past the first n - 1 names, then cut at the end of the n-th. */
	p = copy;
	for (int i = 1; i < n && p != NULL; i++)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	if (p != NULL && (p = strchr(p, ':')) != NULL)
		*p = '\0';
	r = setenv("LISTEN_FDNAMES", copy, 1);
	free(copy);
	return r;
}

int
activation_validate(void)
{
	int claimed = claimed_fds(), have = 0;
	char count[16];

	/* Nothing of echod's is open yet: an open descriptor here is the launcher's. */
	while (have < claimed && fcntl(SD_LISTEN_FDS_START + have, F_GETFD) != -1)
		have++;
	if (have == claimed)
		return claimed;
	/* Only now: logging may open a descriptor of its own (the journal's socket). */
	log_warnx("LISTEN_FDS claims %d socket%s (fd %d to %d), but fd %d is not open: "
	    "taking %d", claimed, claimed == 1 ? "" : "s", SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + claimed - 1,
	    SD_LISTEN_FDS_START + have, have);
	snprintf(count, sizeof(count), "%d", have);
	if (setenv("LISTEN_FDS", count, 1) == -1 || trim_names(have) == -1)
		return -1;
	return have;
}

int
activation_collect(struct listener_set *out, const struct echod_config *cfg)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names);

	if (n < 0) {
		errno = -n;
		log_warn("cannot read the sockets systemd passed");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (is_metrics_name(names, i))
			hold_metrics(SD_LISTEN_FDS_START + i);
		else
			adopt_one(SD_LISTEN_FDS_START + i,
			    names != NULL && names[i] != NULL ? names[i] : "unnamed", out, cfg);
	}
	for (int i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	return n;
}
