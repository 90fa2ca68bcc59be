/* SPDX-License-Identifier: MIT */
/* probe_target: one probe target's text -> host, port and, for a literal, its address. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "probe_target.h"

/* RFC 1035 2.3.4: 253 octets written out, 63 per label. */
#define HOST_MAX	253
#define LABEL_MAX	63

/* "1".."65535" and nothing else: no sign, no blank, no service name. */
static int
port_parse(const char *text, int *port)
{
	long v = 0;

	if (*text == '\0' || strlen(text) > 5)
		return -1;
	for (const char *c = text; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		v = v * 10 + (*c - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/*
 * A host name as DNS and /etc/hosts take it: labels of letters, digits, '-'
 * and '_' (which hosts files allow), none empty or starting with '-'; one
 * trailing dot (the root) allowed.
 */
static bool
hostname_valid(const char *host)
{
	size_t len = strlen(host), label = 0;

	if (len == 0 || len > HOST_MAX + 1 || (len == HOST_MAX + 1 && host[len - 1] != '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = host[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || (c == '-' && label > 0)) || ++label > LABEL_MAX)
			return false;
	}
	return true;
}

/* Only digits and dots: meant as IPv4, and "10.0.0" must not go to DNS as a name. */
static bool
looks_ipv4(const char *host)
{
	return strspn(host, "0123456789.") == strlen(host);
}

/* An address echod can send a probe to and expect one answer from. */
static int
literal_check(const struct sockaddr *sa, const char *host, char *why, size_t size)
{
	const struct sockaddr_in6 *sin6 = (const void *)sa;
	const struct sockaddr_in *sin = (const void *)sa;

	if (addr_is_v4mapped(sa)) {
		snprintf(why, size, "'%s' is an IPv4-mapped IPv6 address: write the IPv4 address "
		    "itself", host);
		return -1;
	}
	if (addr_is_wildcard(sa) ||
	    (sa->sa_family == AF_INET6 && IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr)) ||
	    (sa->sa_family == AF_INET && IN_MULTICAST(ntohl(sin->sin_addr.s_addr))) ||
	    (sa->sa_family == AF_INET && sin->sin_addr.s_addr == INADDR_BROADCAST)) {
		snprintf(why, size, "'%s' is not a unicast address: a probe needs one host to "
		    "answer", host);
		return -1;
	}
	return 0;
}

/* host (no brackets, no port) as a literal, or a name; v6 says it was in brackets. */
static int
host_check(const char *host, int port, bool v6, struct probe_target *t, char *why, size_t size)
{
	if (addr_parse(host, port, &t->addr, &t->addrlen) == 0) {
		if (v6 && t->addr.ss_family != AF_INET6) {
			snprintf(why, size, "'[%s]': brackets are for IPv6 addresses", host);
			return -1;
		}
		t->literal = true;
		return literal_check((const struct sockaddr *)&t->addr, host, why, size);
	}
	if (errno == EADDRNOTAVAIL)
		snprintf(why, size, "'%s': a scope (%s) is only for link-local IPv6 addresses "
		    "(fe80::/10)", host, strchr(host, '%'));
	else if (errno == ENODEV)
		snprintf(why, size, "'%s': no interface '%s' on this host", host,
		    strchr(host, '%') + 1);
	else if (v6 || strchr(host, ':') != NULL)
		snprintf(why, size, "'%s' is not an IPv6 address", host);
	else if (looks_ipv4(host))
		snprintf(why, size, "'%s' is not an IPv4 address", host);
	else if (!hostname_valid(host))
		snprintf(why, size, "'%s' is neither an address nor a host name (letters, digits, "
		    "'-', '_' and dots)", host);
	else
		return 0;
	return -1;
}

/* Split text into host (copied to buf) and port text; v6 if the host was in brackets. */
static int
split(const char *text, char *buf, size_t size, const char **port, bool *v6, char *why,
    size_t wsize)
{
	const char *colon = strchr(text, ':'), *end;

	*port = NULL;
	*v6 = text[0] == '[';
	if (*v6) {
		if ((end = strchr(text, ']')) == NULL || (end[1] != '\0' && end[1] != ':')) {
			snprintf(why, wsize, "'%s': write an IPv6 address with a port as "
			    "[address]:port", text);
			return -1;
		}
		if (end[1] == ':')
			*port = end + 2;
		text++;
		colon = end;
	} else if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		colon = NULL;		/* two or more: an IPv6 address, no port */
	} else if (colon != NULL) {
		*port = colon + 1;
	}
	if ((size_t)((colon != NULL ? colon : text + strlen(text)) - text) >= size) {
		snprintf(why, wsize, "'%s' is too long for a host", text);
		return -1;
	}
	snprintf(buf, size, "%.*s", (int)((colon != NULL ? colon : text + strlen(text)) - text),
	    text);
	return 0;
}

int
probe_target_parse(const char *text, int default_port, struct probe_target *t, char *why,
    size_t size)
{
	char host[HOST_MAX + 2];
	const char *port_text;
	struct probe_target out;
	bool v6;

	memset(&out, 0, sizeof(out));
	out.port = default_port;
	if (text[0] == '\0') {
		snprintf(why, size, "a target is empty");
		return -1;
	}
	if (split(text, host, sizeof(host), &port_text, &v6, why, size) == -1)
		return -1;
	if (port_text != NULL && port_parse(port_text, &out.port) == -1) {
		snprintf(why, size, "'%s': port '%s' is not a number 1..65535", text, port_text);
		return -1;
	}
	if (host[0] == '\0') {
		snprintf(why, size, "'%s' has no host", text);
		return -1;
	}
	if (host_check(host, out.port, v6, &out, why, size) == -1)
		return -1;
	out.text = strdup(text);
	out.host = strdup(host);
	if (out.text == NULL || out.host == NULL) {
		probe_target_free(&out);
		snprintf(why, size, "out of memory");
		return -1;
	}
	*t = out;
	return 0;
}

void
probe_target_free(struct probe_target *t)
{
	free(t->text);
	free(t->host);
	free(t->where);
	t->text = t->host = t->where = NULL;
}
