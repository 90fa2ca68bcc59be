/* SPDX-License-Identifier: MIT */
/* echod-socket-generator: echod.socket's listeners from echod.conf (a systemd generator). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"

#define GEN_NAME	"echod-socket-generator"
#define GEN_DROPIN_DIR	"echod.socket.d"
#define GEN_DROPIN	"50-echod-conf.conf"
/*
 * The metrics endpoint's socket unit. FileDescriptorName= names every socket
 * of a unit, and echod.socket's are "echo": the endpoint's socket needs a
 * unit of its own to be passed as "metrics" (systemd.socket(5)).
 */
#define GEN_METRICS_UNIT "echod-metrics.socket"
/* With a stamp listener: echod.service may read the clock's state (gen_clock_dropin()). */
#define GEN_SERVICE_DROPIN_DIR	"echod.service.d"
#define GEN_CLOCK_DROPIN	"50-echod-stamp-clock.conf"
/* Names another configuration file, for tests and for trying a file out (see the man page). */
#define GEN_CONFIG_ENV	"ECHOD_GENERATOR_CONFIG"

/* What the listener set as a whole asks of the socket unit: these settings are unit-wide. */
struct gen_needs {
	bool v6only;		/* an explicit "::" listener */
	bool freebind;		/* a specific address that is not loopback */
	bool unix_socket;
};

static void
gen_usage(FILE *out)
{
	fprintf(out, "usage: " GEN_NAME " NORMAL-DIR [EARLY-DIR LATE-DIR]\n"
	    "       " GEN_NAME " -h|--help | -V|--version\n"
	    "Writes NORMAL-DIR/" GEN_DROPIN_DIR "/" GEN_DROPIN " from the echod configuration;\n"
	    "systemd runs it at boot and at every daemon-reload. Directories are absolute\n"
	    "paths. Exit status: 0 written or left as shipped, 64 bad usage, 71/73 cannot\n"
	    "write. See " GEN_NAME "(8).\n");
}

static bool
gen_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	const struct sockaddr_in6 *sin6 = (const void *)sa;

	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return sin6->sin6_addr.s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
}

static struct gen_needs
gen_needs(const struct echod_config *cfg)
{
	struct gen_needs n = { false, false, false };

	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_spec *l = &cfg->listeners[i];
		const struct sockaddr *sa = (const void *)&l->addr;

		if (l->proto == PROTO_UNIX)
			n.unix_socket = true;
		else if (l->any_address)
			continue;
		else if (addr_is_wildcard(sa))
			n.v6only = n.v6only || sa->sa_family == AF_INET6;
		else if (!gen_is_loopback(sa))
			n.freebind = true;
	}
	return n;
}

/*
 * A unix path as a unit file value: the unit parser expands '%' specifiers, so '%' is
 * doubled. What no value can carry (control characters, a trailing blank or backslash)
 * config_load() already refused.
 */
static void
gen_put_path(FILE *out, const char *path)
{
	for (const char *c = path; *c != '\0'; c++) {
		if (*c == '%')
			fputc('%', out);
		fputc(*c, out);
	}
}

/*
 * An address as systemd.socket(5) writes it. A link-local scope goes after the port,
 * "[fe80::1]:7%eth0" (systemd reads no scope inside the brackets), its '%' doubled.
 */
static void
gen_put_inet(FILE *out, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in6 *sin6 = (const void *)sa;
	char buf[ADDR_STRLEN], host[INET6_ADDRSTRLEN], name[IF_NAMESIZE];

	if (sa->sa_family != AF_INET6 || sin6->sin6_scope_id == 0) {
		fputs(addr_format(sa, len, buf, sizeof(buf)), out);
		return;
	}
	inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
	fprintf(out, "[%s]:%d%%%%", host, ntohs(sin6->sin6_port));
	if (if_indextoname(sin6->sin6_scope_id, name) != NULL)
		gen_put_path(out, name);
	else
		fprintf(out, "%u", (unsigned)sin6->sin6_scope_id);
}

/* A file name in a comment line: control characters would end the comment. */
static void
gen_put_comment_text(FILE *out, const char *text)
{
	for (const char *c = text; *c != '\0'; c++)
		fputc((unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c, out);
}

/* Writes one listener's lines; returns -1 (and says why) if a unit file cannot express it. */
static int
gen_put_listener(FILE *out, const struct listener_spec *l, const struct gen_needs *n)
{
	const char *key = proto_is_datagram(l->proto) ? "ListenDatagram" : "ListenStream";

	fputs("# ", out);
	gen_put_comment_text(out, l->where);
	fputc('\n', out);
	if (l->proto == PROTO_UNIX) {
		fprintf(out, "%s=", key);
		gen_put_path(out, l->path);
		fputc('\n', out);
	} else if (!l->any_address) {
		fprintf(out, "%s=", key);
		gen_put_inet(out, (const void *)&l->addr, l->addrlen);
		fputc('\n', out);
	} else if (n->v6only) {
		/* BindIPv6Only= is unit-wide: the dual-stack wildcard becomes two sockets. */
		fprintf(out, "%s=0.0.0.0:%d\n%s=[::]:%d\n", key, l->port, key, l->port);
	} else {
		/* A bare port: dual-stack, and IPv4 alone where the host has no IPv6. */
		fprintf(out, "%s=%d\n", key, l->port);
	}
	return 0;
}

static void
gen_put_origin(FILE *out, const struct echod_config *cfg)
{
	fputs("# Generated by " GEN_NAME "(8) from:\n", out);
	for (size_t i = 0; i < cfg->nfiles; i++) {
		fputs("#   ", out);
		gen_put_comment_text(out, cfg->files[i]);
		fputc('\n', out);
	}
}

/* The drop-in's text into out; -1 if a listener cannot be expressed. */
static int
gen_write_dropin(FILE *out, const struct echod_config *cfg)
{
	struct gen_needs n = gen_needs(cfg);

	gen_put_origin(out, cfg);
	fputs("# Do not edit: it is rewritten at boot and at every systemctl daemon-reload.\n"
	    "# Edit those files, then: echod -t && systemctl reload echod; when a socket must\n"
	    "# be opened or closed: systemctl daemon-reload && systemctl restart echod.socket\n",
	    out);
	/* Started with echod.socket (boot, enable --now, restart): passed to every echod. */
	if (cfg->metrics.enabled)
		fputs("[Unit]\nWants=" GEN_METRICS_UNIT "\n", out);
	fputs("[Socket]\n"
	    "ListenStream=\n"
	    "ListenDatagram=\n", out);
	/* An explicit "::" is IPv6 only, and systemd applies the setting to every socket. */
	fprintf(out, "BindIPv6Only=%s\n", n.v6only ? "ipv6-only" : "both");
	/* Sockets are bound before the network is up: a specific address may not exist yet. */
	if (n.freebind)
		fputs("FreeBind=yes\n", out);
	/* echod makes its own unix sockets 0666 too: access is the directory's business. */
	if (n.unix_socket)
		fputs("SocketMode=0666\n", out);
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (gen_put_listener(out, &cfg->listeners[i], &n) == -1)
			return -1;
	return 0;
}

/*
 * echod-metrics.socket: the endpoint's address, passed to echod.service as
 * "metrics". PartOf=: a restart or stop of echod.socket, which the man pages
 * and the reload tell the admin to run, takes this one along.
 */
static void
gen_write_metrics(FILE *out, const struct echod_config *cfg)
{
	const struct echod_metrics_conf *m = &cfg->metrics;
	const struct sockaddr *sa = (const void *)&m->addr;

	gen_put_origin(out, cfg);
	fputs("# Do not edit: it is rewritten at boot and at every systemctl daemon-reload.\n"
	    "[Unit]\n"
	    "Description=Echo daemon metrics socket (Prometheus)\n"
	    "Documentation=man:echod.conf(5) man:echod-socket-generator(8)\n"
	    "PartOf=echod.socket\n"
	    "\n"
	    "[Socket]\n", out);
	fputs("# ", out);
	gen_put_comment_text(out, m->where);
	fputc('\n', out);
	fputs("ListenStream=", out);
	gen_put_inet(out, sa, m->addrlen);
	fputc('\n', out);
	/* "::" is IPv6 only in echod.conf; bound before the network is up, as the listeners. */
	if (addr_is_wildcard(sa) && sa->sa_family == AF_INET6)
		fputs("BindIPv6Only=ipv6-only\n", out);
	else if (!addr_is_wildcard(sa) && !gen_is_loopback(sa))
		fputs("FreeBind=yes\n", out);
	fputs("FileDescriptorName=metrics\n"
	    "Service=echod.service\n"
	    "Accept=no\n", out);
}

/* Write text to DIR/SUB/NAME (SUB may be "") through a temporary file. */
static int
gen_save(const char *dir, const char *sub, const char *name, const char *text, size_t len)
{
	char dropin_dir[4096], tmp[4200], final[4200];
	FILE *f = NULL;
	int fd, saved;

	if ((size_t)snprintf(dropin_dir, sizeof(dropin_dir), "%s%s%s", dir, sub[0] ? "/" : "",
	    sub) >= sizeof(dropin_dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dropin_dir, name);
	snprintf(final, sizeof(final), "%s/%s", dropin_dir, name);
	if (mkdir(dropin_dir, 0755) == -1 && errno != EEXIST)
		return -1;
	if ((fd = mkstemp(tmp)) == -1)
		return -1;
	if (fchmod(fd, 0644) == -1 || (f = fdopen(fd, "w")) == NULL)
		goto fail;
	fd = -1;
	if (fwrite(text, 1, len, f) != len || fflush(f) == EOF)
		goto fail;
	if (fclose(f) == EOF) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	if (rename(tmp, final) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (f != NULL)
		fclose(f);
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

/*
 * The drop-in for the configuration at path, into dir. Returns the exit status: 0 also
 * when the configuration is missing or invalid (a generator must never fail the boot, and
 * the shipped echod.socket then still works); only an I/O error is not 0.
 */
/*
 * DIR/echod-metrics.socket for a metrics block, and none without one (a
 * test may run the generator twice into one directory; systemd empties its
 * own before every run). Returns the exit status, as gen_generate().
 */
static int
gen_metrics_unit(const char *dir, const struct echod_config *cfg)
{
	char path[4200], *text = NULL;
	size_t len = 0;
	FILE *out;
	int ret = 0;

	if (!cfg->metrics.enabled) {
		snprintf(path, sizeof(path), "%s/" GEN_METRICS_UNIT, dir);
		if (unlink(path) == -1 && errno != ENOENT) {
			fprintf(stderr, GEN_NAME ": %s: %s\n", path, strerror(errno));
			return EX_CANTCREAT;
		}
		return 0;
	}
	if ((out = open_memstream(&text, &len)) == NULL) {
		fprintf(stderr, GEN_NAME ": %s\n", strerror(errno));
		return EX_OSERR;
	}
	gen_write_metrics(out, cfg);
	if (fclose(out) == EOF) {
		fprintf(stderr, GEN_NAME ": %s\n", strerror(errno));
		ret = EX_OSERR;
	} else if (gen_save(dir, "", GEN_METRICS_UNIT, text, len) == -1) {
		fprintf(stderr, GEN_NAME ": %s/" GEN_METRICS_UNIT ": %s\n", dir, strerror(errno));
		ret = EX_CANTCREAT;
	}
	free(text);
	return ret;
}

/*
 * A STAMP reflector's Error Estimate says whether the clock is synchronised:
 * adjtimex(), read-only, which ProtectClock= forbids with the calls that set
 * the clock. echod has no CAP_SYS_TIME (CapabilityBoundingSet= is empty), so
 * the kernel refuses it any change of the clock all the same. Written only
 * when echod.conf has a stamp listener; removed otherwise.
 */
static int
gen_clock_dropin(const char *dir, const struct echod_config *cfg)
{
	static const char text[] =
	    "# Written by " GEN_NAME ": echod.conf has stamp listeners, whose Error\n"
	    "# Estimate reads the clock's synchronisation state with adjtimex(). Read only:\n"
	    "# echod has no CAP_SYS_TIME, so the kernel refuses it any change of the clock.\n"
	    "[Service]\n"
	    "ProtectClock=no\n";
	char path[4200];
	bool stamp = false;

	for (size_t i = 0; i < cfg->nlisteners; i++)
		stamp = stamp || cfg->listeners[i].proto == PROTO_STAMP;
	if (stamp) {
		if (gen_save(dir, GEN_SERVICE_DROPIN_DIR, GEN_CLOCK_DROPIN, text,
		    sizeof(text) - 1) == 0)
			return 0;
		fprintf(stderr, GEN_NAME ": %s/" GEN_SERVICE_DROPIN_DIR "/" GEN_CLOCK_DROPIN ": %s\n",
		    dir, strerror(errno));
		return EX_CANTCREAT;
	}
	snprintf(path, sizeof(path), "%s/" GEN_SERVICE_DROPIN_DIR "/" GEN_CLOCK_DROPIN, dir);
	if (unlink(path) == -1 && errno != ENOENT) {
		fprintf(stderr, GEN_NAME ": %s: %s\n", path, strerror(errno));
		return EX_CANTCREAT;
	}
	return 0;
}

static int
gen_generate(const char *dir, const char *path)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg;
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	int ret = 0;

	if ((cfg = config_load(path, &errs)) == NULL) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, GEN_NAME ": %s\n", errs.lines[i]);
		fprintf(stderr, GEN_NAME ": %s not usable: echod.socket is left as shipped\n",
		    path);
		config_errors_free(&errs);
		return 0;
	}
	if ((out = open_memstream(&text, &len)) == NULL) {
		fprintf(stderr, GEN_NAME ": %s\n", strerror(errno));
		ret = EX_OSERR;
	} else if (gen_write_dropin(out, cfg) == -1) {
		fprintf(stderr, GEN_NAME ": echod.socket is left as shipped\n");
		fclose(out);
	} else if (fclose(out) == EOF) {
		fprintf(stderr, GEN_NAME ": %s\n", strerror(errno));
		ret = EX_OSERR;
	} else if (gen_save(dir, GEN_DROPIN_DIR, GEN_DROPIN, text, len) == -1) {
		fprintf(stderr, GEN_NAME ": %s/" GEN_DROPIN_DIR "/" GEN_DROPIN ": %s\n", dir,
		    strerror(errno));
		ret = EX_CANTCREAT;
	} else {
		/* After the drop-in: its Wants= names a unit this writes. */
		ret = gen_metrics_unit(dir, cfg);
		if (ret == 0)
			ret = gen_clock_dropin(dir, cfg);
	}
	free(text);
	config_free(cfg);
	return ret;
}

/* Says what is wrong with the arguments, in getopt's words for options; false if nothing. */
static bool
gen_bad_args(int argc, char **argv)
{
	const char *a = NULL;

	for (int i = 1; i < argc && a == NULL; i++)
		if (argv[i][0] != '/')
			a = argv[i];
	if (argc == 1)
		fprintf(stderr, GEN_NAME ": missing NORMAL-DIR\n");
	else if (a != NULL && a[0] == '-' && a[1] == '-')
		fprintf(stderr, GEN_NAME ": unrecognized option '%s'\n", a);
	else if (a != NULL && a[0] == '-' && a[1] != '\0')
		fprintf(stderr, GEN_NAME ": invalid option -- '%c'\n", a[1]);
	else if (a != NULL)
		fprintf(stderr, GEN_NAME ": not an absolute path: '%s'\n", a);
	else if (argc != 2 && argc != 4)
		fprintf(stderr, GEN_NAME ": %d directories: give one or three\n", argc - 1);
	else
		return false;
	return true;
}

/*
 * systemd.generator(7): one directory or three, absolute paths. Anything else is
 * refused before anything is read or written: "--version" is no directory.
 * Returns -1 to exit 0 at once (--help, --version), EX_USAGE (message printed), else 0.
 */
static int
gen_args(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		gen_usage(stdout);
		return -1;
	}
	if (argc == 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf(GEN_NAME " (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return -1;
	}
	if (!gen_bad_args(argc, argv))
		return 0;
	/* After the one line that says what is wrong: where to look, as coreutils do. */
	fprintf(stderr, "Try '" GEN_NAME " --help' for more information.\n");
	return EX_USAGE;
}

int
main(int argc, char **argv)
{
	const char *path = getenv(GEN_CONFIG_ENV);
	int r = gen_args(argc, argv);

	if (r != 0)
		return r == -1 ? 0 : r;
	if (path == NULL || path[0] == '\0')
		path = SYSCONFDIR "/echod/echod.conf";
	return gen_generate(argv[1], path);
}
