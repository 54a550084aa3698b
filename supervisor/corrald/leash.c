/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/leash.c — the leash of a task's jail in a cluster: the
 * file <task dir>/leash, 8 bytes, a CLOCK_BOOTTIME deadline in
 * microseconds (host byte order): unlike CLOCK_MONOTONIC it goes on while
 * the host is suspended, as the database's clock and the other nodes do,
 * so a host that slept past the lease finds its jails' leash run out.  The jail's init reads it every 250 ms
 * (runner/init/init_limits.c) and kills the jail once the deadline passed,
 * so a node that froze (SIGSTOP, a stalled host) or died for good cannot
 * keep running a task the reaper gives to another node.
 *
 * The deadline is the bound fence_if_due (cluster.c) uses: when the last
 * renewal that worked was sent plus 3/4 of the lease.  The reaper waits the
 * whole lease plus adopt_grace on the database's clock, so the jail is dead
 * before another node may start the task.  Written when the task starts
 * and after every renewal that still holds its lease; an adopted task's
 * leash is written by the next renewal (a quick restart keeps its jails).
 * On one host (no cluster) there is no leash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"

const char *leash_path(struct daemon *d, int64_t id, char *buf, size_t size)
{
	char dir[4096];

	snprintf(buf, size, "%s/leash", task_start_dir(d, id, dir, sizeof(dir)));
	return buf;
}

uint64_t leash_deadline_us(const struct daemon *d)
{
	return d->lease_ok_mono_us + d->cfg->lease_ms * 1000u * 3u / 4u; /* daemon_mono_us: CLOCK_BOOTTIME */
}

static int write_deadline(int fd, uint64_t deadline_us)
{
	ssize_t n;

	do
		n = pwrite(fd, &deadline_us, sizeof(deadline_us), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(deadline_us) ? 0 : -EIO;
}

int leash_create(struct daemon *d, int64_t id, char *path, size_t size)
{
	_cleanup_close_ int fd = -1;

	leash_path(d, id, path, size);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	return write_deadline(fd, leash_deadline_us(d));
}

void leash_renewed(struct daemon *d, int64_t id)
{
	char path[4200];
	_cleanup_close_ int fd = open(leash_path(d, id, path, sizeof(path)),
				      O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int r;

	/* ENOENT: a jail started without one (by a corrald before the leash) */
	if (fd < 0 && errno == ENOENT)
		return;
	r = fd < 0 ? -errno : write_deadline(fd, leash_deadline_us(d));
	if (r < 0)
		log_task(LOG_LEVEL_WARNING, id,
			 "move its leash on (%s): %s; its jail kills itself when the old deadline passes",
			 path, strerror(-r));
}
