/* SPDX-License-Identifier: MIT */
/* http-probe: HTTP/1.1 by hand over loopback, so that a test sees exactly what a scraper sends. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "http-probe.h"

static long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

int
http_connect(const char *src, const char *ip, int port)
{
	struct sockaddr_storage ss, from;
	socklen_t len = (socklen_t)harness_sockaddr(ip, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), saved;

	if (fd == -1)
		return -1;
	if (src != NULL) {
		socklen_t flen = (socklen_t)harness_sockaddr(src, 0, &from);

		if (bind(fd, (struct sockaddr *)&from, flen) == -1)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

bool
http_send_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, text, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		text += n;
		len -= (size_t)n;
	}
	return true;
}

static long
content_length(const struct http_response *r)
{
	const char *p = strcasestr(r->head, "\r\nContent-Length:");

	return p != NULL ? strtol(p + 17, NULL, 10) : -1;
}

/* Headers complete and, unless head_only, Content-Length bytes of body too. */
static bool
response_complete(struct http_response *r, bool head_only)
{
	const char *end = memmem(r->raw, r->raw_len, "\r\n\r\n", 4);
	size_t hlen;
	long cl;

	if (end == NULL)
		return false;
	hlen = (size_t)(end - r->raw) + 4;
	memcpy(r->head, r->raw, hlen < sizeof(r->head) ? hlen : sizeof(r->head) - 1);
	cl = content_length(r);
	return head_only || (cl >= 0 && r->raw_len - hlen >= (size_t)cl);
}

void
http_read_response(int fd, struct http_response *r, bool head_only, int timeout_ms)
{
	long deadline = now_ms() + harness_scale_ms(timeout_ms);
	const char *end;

	memset(r, 0, sizeof(*r));
	while (!response_complete(r, head_only)) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		n = recv(fd, r->raw + r->raw_len, sizeof(r->raw) - 1 - r->raw_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->closed = true;
			break;
		}
		r->raw_len += (size_t)n;
		r->raw[r->raw_len] = '\0';
		if (r->raw_len == sizeof(r->raw) - 1)
			break;
	}
	r->raw[r->raw_len] = '\0';
	if (sscanf(r->raw, "HTTP/1.%*c %d", &r->status) != 1)
		r->status = 0;
	end = memmem(r->raw, r->raw_len, "\r\n\r\n", 4);
	if (end != NULL) {
		r->body = end + 4;
		r->body_len = r->raw_len - (size_t)(r->body - r->raw);
	}
}

const char *
http_header(const struct http_response *r, const char *name, char *buf, size_t size)
{
	char pat[128];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), "\r\n%s:", name);
	p = strcasestr(r->head, pat);
	if (p == NULL)
		return NULL;
	p += strlen(pat);
	p += strspn(p, " ");
	n = strcspn(p, "\r");
	snprintf(buf, size, "%.*s", (int)n, p);
	return buf;
}
