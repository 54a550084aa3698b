/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/http.c — the [http] section: where corrald serves its HTTP API
 * (listen, repeatable: an IP literal and port, or a Unix socket path),
 * TLS files, the optional /metrics token and the limits that keep one
 * client from holding the daemon (body size, connections, slow clients,
 * failed logins), and where result webhooks may go (callback_hosts, their
 * signing secret and retry backoff).  Pure: addresses are checked with inet_pton, nothing is
 * opened here.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

enum http_key {
	HK_LISTEN,
	HK_TLS_CERT,
	HK_TLS_KEY,
	HK_METRICS_TOKEN,
	HK_MAX_BODY,
	HK_MAX_CONNECTIONS,
	HK_MAX_CONNECTIONS_PER_IP,
	HK_CONNECTION_TIMEOUT,
	HK_AUTH_FAILURES,
	HK_CALLBACK_HOSTS,
	HK_CALLBACK_SECRET,
	HK_CALLBACK_BACKOFF,
	HK_COUNT
};
static const char *const http_keys[HK_COUNT + 1] = {
	"listen",
	"tls_cert",
	"tls_key",
	"metrics_token",
	"max_body",
	"max_connections",
	"max_connections_per_ip",
	"connection_timeout",
	"auth_failures_per_minute",
	"callback_hosts",
	"callback_secret",
	"callback_backoff",
	NULL,
};
static const struct key_def http_numbers[HK_COUNT] = {
	[HK_MAX_BODY] = { "max_body", VALUE_SIZE, 1024, 64u << 20, 0 },
	[HK_MAX_CONNECTIONS] = { "max_connections", VALUE_COUNT, 1, 65536, 0 },
	[HK_MAX_CONNECTIONS_PER_IP] = { "max_connections_per_ip", VALUE_COUNT, 1, 65536, 0 },
	[HK_CONNECTION_TIMEOUT] = { "connection_timeout", VALUE_MILLIS, 1000, 3600000, 0 },
	[HK_AUTH_FAILURES] = { "auth_failures_per_minute", VALUE_COUNT, 1, 100000, 0 },
	[HK_CALLBACK_BACKOFF] = { "callback_backoff", VALUE_MILLIS, 10, 3600000, 0 },
};

void http_defaults(struct policy *p)
{
	struct policy_http *h = &p->http;

	memset(h, 0, sizeof(*h));
	h->max_body_bytes = 4u << 20;
	h->max_connections = 256;
	h->max_connections_per_ip = 32;
	h->connection_timeout_ms = 30000;
	h->auth_failures_per_minute = 10;
	h->callback_backoff_ms = 20000;
}

#define HTTP_MAX_CALLBACK_HOSTS 64

/* "hooks.example.com", "127.0.0.1:8081", "[::1]:8081": a host name or IP
 * literal, maybe a port. */
static bool callback_host_valid(const char *h)
{
	const char *end = h + strlen(h), *colon = NULL;
	unsigned char addr[16];
	char host[256];
	size_t n;

	if (h[0] == '[') {
		const char *close = strchr(h, ']');

		if (!close || (close[1] && close[1] != ':'))
			return false;
		colon = close[1] ? close + 1 : NULL;
		n = (size_t)(close - h - 1);
		if (n == 0 || n >= sizeof(host))
			return false;
		memcpy(host, h + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			return false;
	} else {
		colon = strchr(h, ':');
		n = colon ? (size_t)(colon - h) : (size_t)(end - h);
		if (n == 0 || n > 253 || strspn(h, "abcdefghijklmnopqrstuvwxyz0123456789.-") < n)
			return false;
	}
	if (colon) {
		char *stop;
		unsigned long port = strtoul(colon + 1, &stop, 10);

		if (!colon[1] || *stop || port == 0 || port > 65535)
			return false;
	}
	return true;
}

static void set_callback_hosts(struct loader *ld, struct policy_http *h, const struct raw_entry *e)
{
	const char **hosts = arena_alloc(ld->arena, sizeof(*hosts) * (HTTP_MAX_CALLBACK_HOSTS + 1));
	const char *p = e->value;
	size_t n = 0;

	if (!hosts)
		return;
	while (*p) {
		size_t len = strcspn(p, ", \t");
		char *item;

		if (len == 0) {
			p++;
			continue;
		}
		item = arena_strndup(ld->arena, p, len);
		p += len;
		if (!item)
			return;
		for (char *c = item; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		if (!callback_host_valid(item)) {
			errors_add(ld->errors, e->file, e->line, e->key,
				   "'%s' is not a host; allowed: a host name or IP literal, maybe with a port "
				   "(hooks.example.com, 10.0.0.5:8080, [::1]:8080), comma-separated",
				   item);
			return;
		}
		if (n == HTTP_MAX_CALLBACK_HOSTS) {
			errors_add(ld->errors, e->file, e->line, e->key,
				   "at most %d callback hosts are allowed", HTTP_MAX_CALLBACK_HOSTS);
			return;
		}
		hosts[n++] = item;
	}
	h->callback_hosts = hosts;
	h->n_callback_hosts = n;
}

/* "127.0.0.1:8080", "[::1]:8080" or "/run/corral/http.sock" into l. */
static bool parse_listen(struct loader *ld, const char *v, struct policy_http_listen *l)
{
	const char *colon;
	char host[64], *end;
	unsigned char addr[16];
	unsigned long port;
	size_t n;

	memset(l, 0, sizeof(*l));
	l->text = arena_strdup(ld->arena, v);
	if (v[0] == '/') {
		if (!value_is_clean_path(v) || strlen(v) > 107)
			return false;
		l->path = l->text;
		return l->text != NULL;
	}
	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (!close || close[1] != ':')
			return false;
		n = (size_t)(close - v - 1);
		colon = close + 1;
		v++;
	} else {
		colon = strrchr(v, ':');
		if (!colon)
			return false;
		n = (size_t)(colon - v);
	}
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, v, n);
	host[n] = '\0';
	if (inet_pton(strchr(host, ':') ? AF_INET6 : AF_INET, host, addr) != 1)
		return false;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port == 0 || port > 65535)
		return false;
	l->host = arena_strdup(ld->arena, host);
	l->port = (uint16_t)port;
	return l->host && l->text;
}

static void add_listen(struct loader *ld, struct policy_http *h, const struct raw_entry *e)
{
	if (h->n_listen == POLICY_HTTP_MAX_LISTEN) {
		errors_add(ld->errors, e->file, e->line, e->key, "at most %d listen addresses are allowed",
			   POLICY_HTTP_MAX_LISTEN);
		return;
	}
	if (!parse_listen(ld, e->value, &h->listen[h->n_listen])) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "'%s' is not an address to listen on; allowed: IPv4:PORT (127.0.0.1:8080), "
			   "[IPv6]:PORT ([::1]:8080) or an absolute Unix socket path",
			   e->value);
		return;
	}
	for (size_t i = 0; i < h->n_listen; i++) {
		if (strcmp(h->listen[i].text, e->value) == 0) {
			errors_add(ld->errors, e->file, e->line, e->key, "'%s' is listed twice", e->value);
			return;
		}
	}
	h->n_listen++;
}

static void set_file(struct loader *ld, const struct raw_entry *e, const char **out)
{
	if (!value_is_clean_path(e->value) || strlen(e->value) > 1024) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "'%s' is not a clean absolute path of at most 1024 characters", e->value);
		return;
	}
	*out = arena_strdup(ld->arena, e->value);
}

static void set_secret(struct loader *ld, const struct raw_entry *e, const char **out)
{
	size_t n = strlen(e->value);

	if (n < 16 || n > 256 || strpbrk(e->value, " \t\"\\")) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "the token is not allowed; allowed: 16-256 characters without blanks, quotes or "
			   "backslashes");
		return;
	}
	*out = arena_strdup(ld->arena, e->value);
}

void http_section(struct loader *ld, struct policy *p, const struct raw_section *s)
{
	struct policy_http *h = &p->http;
	unsigned first[HK_COUNT] = { 0 };
	unsigned tls_line = s->line;

	for (size_t i = s->first; i < s->first + s->count; i++) {
		const struct raw_entry *e = &ld->entries[i];
		uint64_t v;
		int k;

		k = (int)build_key_index(http_keys, HK_COUNT, e->key);
		if (k == HK_COUNT) {
			build_unknown_key(ld, s, e, http_keys);
			continue;
		}
		if (k != HK_LISTEN && !build_key_once(ld, &first[k], e))
			continue;
		switch ((enum http_key)k) {
		case HK_LISTEN:
			add_listen(ld, h, e);
			break;
		case HK_TLS_CERT:
			set_file(ld, e, &h->tls_cert);
			tls_line = e->line;
			break;
		case HK_TLS_KEY:
			set_file(ld, e, &h->tls_key);
			tls_line = e->line;
			break;
		case HK_METRICS_TOKEN:
			set_secret(ld, e, &h->metrics_token);
			break;
		case HK_CALLBACK_HOSTS:
			set_callback_hosts(ld, h, e);
			break;
		case HK_CALLBACK_SECRET:
			set_secret(ld, e, &h->callback_secret);
			break;
		case HK_CALLBACK_BACKOFF:
			if (value_parse_key(&http_numbers[k], e->value, &v, ld->errors, e->file, e->line))
				h->callback_backoff_ms = v;
			break;
		case HK_MAX_BODY:
		case HK_MAX_CONNECTIONS:
		case HK_MAX_CONNECTIONS_PER_IP:
		case HK_CONNECTION_TIMEOUT:
		case HK_AUTH_FAILURES:
			if (!value_parse_key(&http_numbers[k], e->value, &v, ld->errors, e->file, e->line))
				break;
			if (k == HK_MAX_BODY)
				h->max_body_bytes = v;
			else if (k == HK_MAX_CONNECTIONS)
				h->max_connections = (uint32_t)v;
			else if (k == HK_MAX_CONNECTIONS_PER_IP)
				h->max_connections_per_ip = (uint32_t)v;
			else if (k == HK_CONNECTION_TIMEOUT)
				h->connection_timeout_ms = v;
			else
				h->auth_failures_per_minute = (uint32_t)v;
			break;
		case HK_COUNT:
			break;
		}
	}
	if (h->n_callback_hosts && !first[HK_CALLBACK_SECRET])
		errors_add(ld->errors, s->file, s->line, "callback_secret",
			   "callback_hosts needs callback_secret: webhooks are signed (16-256 characters)");
	if (!h->tls_cert != !h->tls_key)
		errors_add(ld->errors, s->file, tls_line, h->tls_cert ? "tls_key" : "tls_cert",
			   "tls_cert and tls_key go together: give both (TLS) or neither (plain HTTP)");
}
