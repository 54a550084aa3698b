/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/cleanup.h — cleanup attributes for the runner's parent-side code
 * (the supervisor has the same in supervisor/common/macros.h; the runner is
 * a library of its own and includes nothing above it).  Never in the cloned
 * child, which leaves through child_fail().
 */
#ifndef CORRAL_RUNNER_CLEANUP_H
#define CORRAL_RUNNER_CLEANUP_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

#define _cleanup_free_ __attribute__((cleanup(cleanup_freep)))
#define TAKE_FD(fd)                \
	({                         \
		int taken_ = (fd); \
		(fd) = -1;         \
		taken_;            \
	})
#define TAKE_PTR(p)                         \
	({                                  \
		__typeof__(p) taken_ = (p); \
		(p) = NULL;                 \
		taken_;                     \
	})

#endif
