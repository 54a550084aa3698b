/*
 * supervisor/units.h — parsing of the human units the command-line tools
 * take: sizes (512K, 256M, 1.5G, 512MiB), durations (10, 1.5s, 500ms, 2m,
 * 1h30m, 1d) and CPU counts (0.5), in the one grammar the policy files use
 * (policy_parse_* in policy/policy.h).  Pure, -EINVAL / -ERANGE on bad input.
 */
#ifndef CORRAL_SUPERVISOR_UNITS_H
#define CORRAL_SUPERVISOR_UNITS_H

#include <stdint.h>

/* "123", "64K", "256M", "1.5G", "2TiB" (binary multiples, optional trailing B/iB). */
int units_parse_size(const char *text, uint64_t *bytes);
/* "10" (seconds), "1.5s", "500ms", "2m", "1h30m", "1d" -> milliseconds (rounded). */
int units_parse_duration_ms(const char *text, uint64_t *ms);
/* "0.5", "2" -> thousandths of a CPU; "0" is -ERANGE. */
int units_parse_cpus(const char *text, uint32_t *millis);
/* A plain non-negative integer no larger than max. */
int units_parse_uint(const char *text, uint64_t max, uint64_t *value);

#endif
