/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/human.h — durations and sizes in the unit that fits,
 * for people (messages, `corral status`, `corral list`): "1.5 s",
 * "2 min 5 s", "1 h 2 min", "256 MiB", "1.5 GiB".  Exact where it can be
 * (a 1.5 s limit never prints as "1 s" or "0.0 h").  Parsing is policy/'s.
 */
#ifndef CORRAL_SUPERVISOR_COMMON_HUMAN_H
#define CORRAL_SUPERVISOR_COMMON_HUMAN_H

#include <stddef.h>
#include <stdint.h>

/* Microseconds: under a minute in seconds with up to 3 decimals ("0 s",
 * "0.25 s", "1.5 s", "59 s"); then "2 min 5 s", "1 h 2 min", "3 d 4 h"
 * (whole seconds, the smaller unit left out when 0).  Returns buf. */
char *human_duration(uint64_t us, char *buf, size_t size);
/* Bytes: "100 bytes", "512 KiB", "1.5 GiB" (powers of 1024, up to 2
 * decimals, trailing zeros dropped).  Returns buf. */
char *human_size(uint64_t bytes, char *buf, size_t size);

#endif
