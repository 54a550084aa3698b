/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/escape.h — control characters made visible: what a
 * tenant wrote (argv, messages, names) goes into corrald's log lines and
 * onto an operator's terminal, where a raw newline forges a whole log line
 * (with any syslog <N> priority) and ESC, BEL or CR drive the terminal.
 * Bytes below 0x20, DEL and the UTF-8 C1 controls (U+0080..U+009F) become
 * \n, \r, \t or \xNN; everything else (UTF-8 text included) stays.
 */
#ifndef CORRAL_SUPERVISOR_COMMON_ESCAPE_H
#define CORRAL_SUPERVISOR_COMMON_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Does s hold a byte escape_control would change? */
bool escape_control_needed(const char *s);
/* s escaped into out (size > 0), NUL-terminated, cut at a whole escape
 * when out is too small; the length written. */
size_t escape_control(const char *s, char *out, size_t size);
/* s escaped, malloc'd (NULL when out of memory). */
char *escape_control_dup(const char *s);

#endif
