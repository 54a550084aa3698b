/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/status_file_fuzz.c — libFuzzer target for the jail's status
 * file as a restarted corrald reads it back (jail_read_status_file in
 * runner/adopt.c).  The file is written by corral-init inside the jail's
 * reach, so its bytes are not trusted: any content must give a result or
 * a clean error, never a crash.  Each input is written to one temporary
 * file (the reader takes a path and opens it as it does in corrald).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/jail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];

static void remove_status_file(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jail_result result;
	int fd;

	if (!path[0]) {
		/* tmpfs when there is one: a disk-backed /tmp made each
		 * execution ~25x slower. */
		const char *dir = getenv("TMPDIR");

		if (!dir || !*dir)
			dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(path, sizeof(path), "%s/corral-status-fuzz.%d", dir, (int)getpid());
		atexit(remove_status_file);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	(void)jail_read_status_file(path, &result);
	return 0;
}
