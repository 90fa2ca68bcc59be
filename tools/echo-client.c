/* SPDX-License-Identifier: MIT */
/* echo-client: options, name resolution, connection, the chosen mode, and the exit status. */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "client-interactive.h"
#include "client-io.h"
#include "client-multi.h"
#include "client-opts.h"
#include "client-peer.h"
#include "client-probe.h"

/* As ping: 1 for "no good answer" (an unreachable or silent server too), 2 for a name that
 * does not resolve. Bad usage is EX_USAGE (64), as for every echod program (issue 24). */
#define CLIENT_EXIT_OK		0
#define CLIENT_EXIT_FAILED	1
#define CLIENT_EXIT_RESOLVE	2

int
main(int argc, char **argv)
{
	struct client_opts o;
	struct peer *peers = NULL;
	const struct peer *peer = NULL;
	size_t npeers;
	int fd, r, ret = CLIENT_EXIT_FAILED;

	r = opts_parse(argc, argv, &o);
	if (r > 0)
		return CLIENT_EXIT_OK;
	if (r < 0) {
		/* After the one line that says what is wrong: where to look, as coreutils do. */
		fprintf(stderr, "Try '%s --help' for more information.\n",
		    program_invocation_short_name);
		return EX_USAGE;
	}
	if (io_signals_init() == -1)
		err(CLIENT_EXIT_FAILED, "signals");
	if (o.nhosts > 1) {
		ret = multi_run(&o);
		goto done;
	}
	if (peer_resolve(&o, &peers, &npeers) == -1)
		return CLIENT_EXIT_RESOLVE;
	fd = peer_connect(peers, npeers, &o, &peer);
	if (fd == -1)
		goto done;
	if (o.mode != CLIENT_INTERACTIVE)
		r = probe_run(fd, peer, &o);
	else if (peer->socktype == SOCK_DGRAM)
		r = idgram_run(fd, peer, &o);
	else
		r = istream_run(fd, peer, &o);
	if (r == 0)
		ret = CLIENT_EXIT_OK;
	close(fd);
done:
	free(peers);
	if (fflush(stdout) == EOF)
		ret = CLIENT_EXIT_FAILED;
	return ret;
}
