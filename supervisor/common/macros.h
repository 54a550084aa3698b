/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/macros.h — cleanup attributes for parent-side code
 * (systemd's habit): a variable declared _cleanup_free_ or _cleanup_close_
 * is released on every return; TAKE_PTR()/TAKE_FD() hand ownership on.
 * Not for the cloned jail child, which exits through child_fail().
 */
#ifndef CORRAL_SUPERVISOR_COMMON_MACROS_H
#define CORRAL_SUPERVISOR_COMMON_MACROS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static inline void macros_freep(void *p)
{
	free(*(void **)p);
}

static inline void macros_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

#define _cleanup_free_ __attribute__((cleanup(macros_freep)))
#define _cleanup_close_ __attribute__((cleanup(macros_closep)))

/* Return the value and leave NULL / -1 behind, so the cleanup does nothing. */
#define TAKE_PTR(p)                         \
	({                                  \
		__typeof__(p) taken_ = (p); \
		(p) = NULL;                 \
		taken_;                     \
	})
#define TAKE_FD(fd)                \
	({                         \
		int taken_ = (fd); \
		(fd) = -1;         \
		taken_;            \
	})

/* The supervisor's one "unlimited" for a limit or budget in µs or bytes
 * (the same value as policy/'s POLICY_UNLIMITED).  "No signal" is 0, as in
 * the runner's jail_result; the store and the API show it as null. */
#define LIMIT_NONE UINT64_MAX

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
