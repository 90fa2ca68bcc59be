/* SPDX-License-Identifier: MIT */
/* echo-client: options, name resolution, connection, the chosen mode, and the exit status. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client-interactive.h"
#include "client-io.h"
#include "client-opts.h"
#include "client-peer.h"
#include "client-probe.h"

/* The issue fixes these codes, so <sysexits.h> (64 for usage) is not used here: scripts
 * written against ping's convention expect 1 for "no good answer" and 2 for bad input.
 * An unreachable or silent server is "no good answer": 1. */
#define CLIENT_EXIT_OK		0
#define CLIENT_EXIT_FAILED	1
#define CLIENT_EXIT_USAGE	2

int
main(int argc, char **argv)
{
	struct client_opts o;
	struct peer *peers = NULL;
	const struct peer *peer = NULL;
	size_t npeers;
	int fd, r, ret = CLIENT_EXIT_FAILED;

	r = opts_parse(argc, argv, &o);
	if (r != 0)
		return r > 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_USAGE;
	if (io_signals_init() == -1)
		err(CLIENT_EXIT_FAILED, "signals");
	if (peer_resolve(&o, &peers, &npeers) == -1)
		return CLIENT_EXIT_USAGE;
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
