/* SPDX-License-Identifier: MIT */
/* main: options, start-up and shutdown order, exit codes; nothing else. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>

#include "activation.h"
#include "config.h"
#include "log.h"
#include "preflight.h"
#include "privdrop.h"
#include "probe_describe.h"
#include "server.h"
#include "stamp_conf.h"

/* Exit codes (echod(8)): 0, EX_USAGE, EX_CONFIG, and these two. */
#define EXIT_LISTENER	EX_UNAVAILABLE	/* 69: a listener could not be opened */
#define EXIT_RUNTIME	EX_OSERR	/* 71: out of memory, epoll or threads failed */

/* -t waits this long for the probes' names; one that takes longer is "no answer yet". */
#define PROBE_DESCRIBE_TIMEOUT_MS 5000
#define DEFAULT_CONFIG	SYSCONFDIR "/echod/echod.conf"

struct options {
	const char *config;
	bool test_config;
	enum log_target log_target;
	int log_level;
};

static void
usage(void)
{
	printf(
	    "usage: echod [-c|--config FILE] [-t|--test-config] [-V|--version] [-h|--help]\n"
	    "             [--log-target=auto|journal|stderr]\n"
	    "             [--log-level=err|warning|notice|info|debug]\n"
	    "\n"
	    "RFC 862 echo daemon for TCP, UDP and Unix stream sockets, and STAMP reflector.\n"
	    "\n"
	    "  -c, --config FILE     configuration file (default " DEFAULT_CONFIG ")\n"
	    "  -t, --test-config     check the configuration, print 'configuration OK', exit\n"
	    "      --log-target=T    auto (journal under systemd, else stderr), journal, stderr\n"
	    "      --log-level=L     err, warning, notice, info (default), debug\n"
	    "  -V, --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n"
	    "\n"
	    "Exit status: 0 stopped cleanly, 64 bad usage, 69 a listener could not be opened,\n"
	    "71 system error, 78 bad configuration. See echod(8) and echod.conf(5).\n");
}

/*
 * After the one line that says what is wrong (getopt's, or ours): where to look, as
 * coreutils do. The whole help only on --help.
 */
static int
try_help(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", program_invocation_short_name);
	return EX_USAGE;
}

/* Returns -1 to exit 0 at once (--help, --version), EX_USAGE on error, else 0. */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	enum { OPT_LOG_TARGET = 256, OPT_LOG_LEVEL };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test-config", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "log-target", required_argument, NULL, OPT_LOG_TARGET },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* getopt's messages start with argv[0]: the name, not the path it was run by. */
	argv[0] = program_invocation_short_name;
	while ((c = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt->config = optarg;
			break;
		case 't':
			opt->test_config = true;
			break;
		case 'V':
			printf("echod %s\n", PACKAGE_VERSION);
			return -1;
		case 'h':
			usage();
			return -1;
		case OPT_LOG_TARGET:
			if (log_target_parse(optarg, &opt->log_target) == 0)
				break;
			fprintf(stderr, "echod: --log-target: '%s' is not auto, journal or "
			    "stderr\n", optarg);
			return try_help();
		case OPT_LOG_LEVEL:
			if (log_level_parse(optarg, &opt->log_level) == 0)
				break;
			fprintf(stderr, "echod: --log-level: '%s' is not err, warning, notice, "
			    "info or debug\n", optarg);
			return try_help();
		default:
			return try_help();
		}
	}
	if (optind < argc) {
		fprintf(stderr, "echod: unexpected argument '%s'\n", argv[optind]);
		return try_help();
	}
	return 0;
}

/* Errors go to stderr even under systemd: journald records them with the unit. */
static struct echod_config *
load_config(const char *path)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg = config_load(path, &errs);

	/* Key files are read here, as root, before the switch to echod's own user. */
	if (cfg != NULL && (stamp_conf_prepare(cfg, NULL, &errs) == -1 ||
	    stamp_conf_probe_keys(cfg, &errs) == -1)) {
		config_free(cfg);
		cfg = NULL;
	}
	for (size_t i = 0; i < errs.count; i++)
		log_err("%s", errs.lines[i]);
	config_errors_free(&errs);
	return cfg;
}

/* systemd starts services with a soft limit of 1024 descriptors: take what is allowed. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("cannot raise the descriptor limit");
	}
}

/* Blocked here, before any thread exists, so every thread inherits the mask. */
static void
block_signals(void)
{
	sigset_t set;

	server_signal_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* Sends use MSG_NOSIGNAL; this is the belt to those braces. */
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Listeners are open: root is of no more use. Before server_run() starts the
 * worker threads, so that one identity change covers the whole process.
 */
static int
drop_privileges(const struct echod_config *cfg)
{
	char err[256];
	int r = privdrop_apply(cfg->user, cfg->group, err, sizeof(err));

	if (r == 1)
		log_info("started as root: now user %s, group %s, no capabilities", cfg->user,
		    cfg->group);
	if (r >= 0)
		return 0;
	log_err("%s: refusing to run as root", err);
	return errno == ENOENT || errno == EINVAL ? EX_CONFIG : EXIT_RUNTIME;
}

/* -t: beyond the file itself, what start would refuse (preflight.h); errors as load_config's. */
static int
test_config(const struct echod_config *cfg)
{
	struct config_errors errs = { 0 };
	int problems = preflight_check(cfg, PREFLIGHT_ALL, &errs);

	for (size_t i = 0; i < errs.count; i++)
		log_err("%s", errs.lines[i]);
	config_errors_free(&errs);
	if (problems > 0)
		return EX_CONFIG;
	/* A name that does not resolve is retried at run time: a note, not an error. */
	if (probe_describe(cfg, stdout, PROBE_DESCRIBE_TIMEOUT_MS) == -1)
		log_warn("cannot list the probes' targets");
	printf("configuration OK\n");
	return 0;
}

int
main(int argc, char **argv)
{
	struct options opt = { DEFAULT_CONFIG, false, LOG_TARGET_AUTO, LOG_INFO };
	struct echod_config *cfg;
	struct server *srv;
	int r;

	r = parse_options(argc, argv, &opt);
	if (r != 0)
		return r == -1 ? 0 : r;
	log_init(opt.test_config ? LOG_TARGET_STDERR : opt.log_target, opt.log_level);
	/* Before echod opens anything: what LISTEN_FDS claims must be what was passed. */
	if (activation_validate() == -1) {
		log_err("cannot correct LISTEN_FDS: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	cfg = load_config(opt.config);
	if (cfg == NULL)
		return EX_CONFIG;
	if (opt.test_config) {
		r = test_config(cfg);
		config_free(cfg);
		return r;
	}
	block_signals();
	raise_fd_limit();
	srv = server_new(cfg);
	if (srv == NULL) {
		log_err("cannot start: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	/* Sockets systemd opened come first: echod binds only what they do not provide. */
	if (server_adopt_passed(srv) == -1) {
		server_free(srv);
		return EXIT_RUNTIME;
	}
	if (server_open_listeners(srv) > 0) {
		server_free(srv);
		return EXIT_LISTENER;
	}
	/* Before the switch away from root: /run/echod may be root's. Not fatal. */
	(void)server_open_control(srv);
	server_own_sockets(srv, cfg->user, cfg->group);
	r = drop_privileges(cfg);
	if (r != 0) {
		server_free(srv);
		return r;
	}
	log_running();
	r = server_run(srv);
	server_free(srv);
	return r == 0 ? 0 : EXIT_RUNTIME;
}
