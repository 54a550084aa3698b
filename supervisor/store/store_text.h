/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_text.h — keeping the store's text UTF-8.
 */
#ifndef CORRAL_SUPERVISOR_STORE_TEXT_H
#define CORRAL_SUPERVISOR_STORE_TEXT_H

#include <stdbool.h>

/* Whether text (NUL-terminated; NULL is fine) is valid UTF-8. */
bool store_text_is_utf8(const char *text);
/* NULL when text is NULL or already valid UTF-8 (use it as is); else a
 * malloc'd copy with every byte that starts no valid sequence replaced by
 * U+FFFD (NULL also when out of memory: the caller then refuses). */
char *store_text_utf8_clean(const char *text);

#endif
