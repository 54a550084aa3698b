/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/webhook_rules.c — callback URL allow-list, signature,
 * retry schedule (webhook_rules.h).  URLs are parsed by libcurl's own
 * parser (curl_url), the one that will later be used to connect, so what
 * is checked is what is reached.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <nettle/hmac.h>

#include "supervisor/corrald/webhook_rules.h"

static int part(CURLU *u, CURLUPart what, unsigned flags, char **out)
{
	*out = NULL;
	return curl_url_get(u, what, out, flags) == CURLUE_OK ? 0 : -ENOENT;
}

static int check(CURLU *u, const struct policy_http *h, const char *url, char *why, size_t size)
{
	char *scheme = NULL, *user = NULL, *password = NULL, *host = NULL, *port = NULL;
	char host_port[320];
	const char *default_port;
	int r = -EPERM;

	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    part(u, CURLUPART_SCHEME, 0, &scheme) < 0 || part(u, CURLUPART_HOST, 0, &host) < 0 ||
	    part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT, &port) < 0) {
		snprintf(why, size, "callback_url '%.128s' is not an http:// or https:// URL", url);
		r = -EINVAL;
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		snprintf(why, size, "callback_url must be http:// or https://, not %.16s://", scheme);
		r = -EINVAL;
		goto out;
	}
	if (part(u, CURLUPART_USER, 0, &user) == 0 || part(u, CURLUPART_PASSWORD, 0, &password) == 0) {
		snprintf(why, size, "callback_url must not carry a user name or password");
		r = -EINVAL;
		goto out;
	}
	for (char *c = host; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
	snprintf(host_port, sizeof(host_port), "%s:%s", host, port);
	default_port = strcasecmp(scheme, "https") == 0 ? "443" : "80";
	for (size_t i = 0; i < h->n_callback_hosts; i++) {
		const char *e = h->callback_hosts[i];

		if (strcmp(e, host_port) == 0 || (strcmp(e, host) == 0 && strcmp(port, default_port) == 0)) {
			r = 0;
			goto out;
		}
	}
	snprintf(why, size,
		 "callback host %.255s is not in the policy's [http] callback_hosts (%zu allowed); "
		 "corrald posts only to hosts its operator listed",
		 host_port, h->n_callback_hosts);
out:
	curl_free(scheme);
	curl_free(user);
	curl_free(password);
	curl_free(host);
	curl_free(port);
	return r;
}

int webhook_rules_url_check(const struct policy_http *h, const char *url, char *why, size_t size)
{
	CURLU *u = curl_url();
	int r;

	if (!u) {
		snprintf(why, size, "out of memory");
		return -ENOMEM;
	}
	r = check(u, h, url, why, size);
	curl_url_cleanup(u);
	return r;
}

void webhook_rules_signature(const char *secret, const void *body, size_t len,
			     char out[WEBHOOK_RULES_SIGNATURE_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	struct hmac_sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];

	hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&ctx, len, body);
	hmac_sha256_digest(&ctx, sizeof(digest), digest);
	memcpy(out, "sha256=", 7);
	for (size_t i = 0; i < sizeof(digest); i++) {
		out[7 + 2 * i] = hex[digest[i] >> 4];
		out[7 + 2 * i + 1] = hex[digest[i] & 15];
	}
	out[WEBHOOK_RULES_SIGNATURE_SIZE - 1] = '\0';
}

uint64_t webhook_rules_backoff_us(uint64_t base_ms, uint32_t attempts)
{
	if (attempts == 0 || attempts >= WEBHOOK_RULES_MAX_ATTEMPTS)
		return 0;
	return base_ms * 1000u << (attempts - 1);
}
