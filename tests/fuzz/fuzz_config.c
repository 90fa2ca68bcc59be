/* SPDX-License-Identifier: MIT */
/* fuzz_config: libFuzzer harness for config_load(), and the policy built from what it accepts. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "guard_conf.h"
#include "log.h"
#include "probe_conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Peers every accepted ACL is asked about: IPv4, IPv4-mapped, IPv6, Unix. */
static void
ask_acl(const struct acl *acl)
{
	static const char *const peers[] = { "10.1.2.3", "::ffff:10.1.2.3", "2001:db8::1", "::1" };
	struct sockaddr_storage ss;
	socklen_t len;

	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		if (addr_parse(peers[i], 7, &ss, &len) == 0)
			(void)acl_permits(acl, (struct sockaddr *)&ss);
	ss.ss_family = AF_UNIX;
	(void)acl_permits(acl, (struct sockaddr *)&ss);
}

/* Probes as plain data: every name found again, every literal target formatted. */
static void
use_probes(const struct echod_config *cfg)
{
	char buf[ADDR_STRLEN];

	for (size_t i = 0; i < cfg->nprobes; i++) {
		const struct probe_spec *p = &cfg->probes[i];

		if (probe_conf_find(cfg->probes, cfg->nprobes, p->name) != p || p->ntargets == 0)
			abort();
		for (size_t k = 0; k < p->ntargets; k++)
			if (p->targets[k].literal)
				addr_format((const struct sockaddr *)&p->targets[k].addr,
				    p->targets[k].addrlen, buf, sizeof(buf));
	}
}

/* What echod does with an accepted configuration, short of opening sockets. */
static void
use_config(const struct echod_config *cfg)
{
	struct guard_policy *p = guard_conf_policy(cfg);
	char buf[ACL_CIDR_STRLEN];

	if (p == NULL)
		abort();
	guard_policy_free(p);
	ask_acl(&cfg->acl);
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		ask_acl(&cfg->listeners[i].acl);
		for (size_t k = 0; k < cfg->listeners[i].acl.nallow; k++)
			acl_format(&cfg->listeners[i].acl.allow[k], buf, sizeof(buf));
	}
	(void)guard_conf_capacity(cfg);
	for (size_t i = 0; i < cfg->nlisteners; i++)
		for (size_t j = 0; j < cfg->nlisteners; j++)
			(void)listener_spec_overlap(&cfg->listeners[i], &cfg->listeners[j]);
	use_probes(cfg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;
	struct config_errors errs = { 0 };
	struct echod_config *cfg;

	/* @include reads other files (even /dev/zero): outside what this harness tests. */
	if (memmem(data, size, "@include", 8) != NULL)
		return 0;
	if (fd == -1) {
		log_init(LOG_TARGET_STDERR, LOG_ERR);
		fd = memfd_create("fuzz-config", MFD_CLOEXEC);
		if (fd == -1)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	cfg = config_load(path, &errs);
	/* The contract: a configuration, or at least one "file:line: message". */
	if ((cfg == NULL) == (errs.count == 0))
		abort();
	for (size_t i = 0; i < errs.count; i++)
		if (strncmp(errs.lines[i], path, strlen(path)) != 0 ||
		    strstr(errs.lines[i], ": ") == NULL)
			abort();
	if (cfg != NULL)
		use_config(cfg);
	config_free(cfg);
	config_errors_free(&errs);
	return 0;
}
