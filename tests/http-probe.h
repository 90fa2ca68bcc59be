/* SPDX-License-Identifier: MIT */
/* http-probe: HTTP/1.1 by hand over loopback, so that a test sees exactly what a scraper sends. */
#ifndef ECHOD_HTTP_PROBE_H
#define ECHOD_HTTP_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* A response as read: status 0 when the server closed (or went silent) without one. */
struct http_response {
	int status;
	char head[4096];		/* the status line and headers */
	const char *body;		/* into raw; NULL without a complete header */
	size_t body_len;
	char raw[65536];
	size_t raw_len;
	bool closed;			/* EOF or reset seen */
};

/* TCP from the local address src (NULL: any) to ip:port; -1 with errno when refused. */
int	http_connect(const char *src, const char *ip, int port);
/* All of text; false when the server closed first (that is an answer too). */
bool	http_send_all(int fd, const char *text, size_t len);
/*
 * One response: until EOF, or until the headers and Content-Length bytes of
 * body are in (head_only: no body follows, as after HEAD), at most timeout_ms
 * (scaled by harness_scale_ms()).
 */
void	http_read_response(int fd, struct http_response *r, bool head_only, int timeout_ms);
/* The value of a response header (case-insensitive name) into buf, or NULL. */
const char *http_header(const struct http_response *r, const char *name, char *buf,
	    size_t size);

#endif
