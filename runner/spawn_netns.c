/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/spawn_netns.c — a jail cloned into a network namespace its caller
 * made beforehand (struct jail_spec's netns_fd, a supervisor's pool): the
 * spawning thread enters that namespace (setns) just for the clone, which
 * then leaves CLONE_NEWNET out, and returns to its own namespace right
 * after.  Not here: making the namespaces (supervisor/corrald/netns_pool.c).
 *
 * setns() changes the calling thread only; between the two calls this
 * thread does nothing but the clone, so no socket of the caller is ever
 * opened in a jail's namespace.  If returning fails (it cannot, short of
 * the kernel's memory), the process aborts: going on would open every
 * later socket (the caller's clients, its database, webhooks) inside the
 * last jail's network.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/internal.h"

/* this process's own network namespace, opened at the first use, kept */
static int own_netns_fd = -1;

int spawn_netns_enter(int netns_fd)
{
	if (own_netns_fd < 0) {
		int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		/* above 0-2: the jail's child dup2()s its stdio there */
		if (fd <= 2) {
			int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);

			close(fd);
			if (moved < 0)
				return -errno;
			fd = moved;
		}
		own_netns_fd = fd;
	}
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	return 0;
}

void spawn_netns_leave(void)
{
	if (setns(own_netns_fd, CLONE_NEWNET) == 0)
		return;
	/* loud, then gone: never run on in a jail's network namespace */
	fprintf(stderr,
		"<2>FATAL: cannot return to this process's own network namespace after a jail's "
		"clone: %s; aborting\n",
		strerror(errno));
	abort();
}
