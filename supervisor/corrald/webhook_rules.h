/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/webhook_rules.h — internal to corrald: the pure rules
 * of result webhooks (no I/O, no daemon; unit-tested): which callback URLs
 * corrald may POST to (the policy's [http] callback_hosts; corrald runs as
 * root and must not reach what the operator did not list), the signature
 * header, and the retry schedule.
 */
#ifndef CORRAL_SUPERVISOR_CORRALD_WEBHOOK_RULES_H
#define CORRAL_SUPERVISOR_CORRALD_WEBHOOK_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

/* The first try and up to 5 retries. */
#define WEBHOOK_RULES_MAX_ATTEMPTS 6
/* "sha256=" and 64 hex digits, NUL-terminated. */
#define WEBHOOK_RULES_SIGNATURE_SIZE (7 + 64 + 1)

/* May corrald POST to url?  http:// or https:// only, no user or password
 * in it, its host listed in h->callback_hosts: an entry "host" allows the
 * scheme's default port (80, 443), "host:port" that port.  0, or -EPERM
 * (not allowed) / -EINVAL (not such a URL) with the reason in why. */
int webhook_rules_url_check(const struct policy_http *h, const char *url, char *why, size_t size);
/* X-Corral-Signature's value: "sha256=" + hex HMAC-SHA256(secret, body). */
void webhook_rules_signature(const char *secret, const void *body, size_t len,
			     char out[WEBHOOK_RULES_SIGNATURE_SIZE]);
/* After attempts (>= 1) failed: µs until the next try (base_ms, doubled
 * for each further attempt: 20 s base -> 20, 40, 80, 160, 320 s, about
 * ten minutes in all), or 0 when there is none left. */
uint64_t webhook_rules_backoff_us(uint64_t base_ms, uint32_t attempts);

#endif
