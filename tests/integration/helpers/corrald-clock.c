/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/helpers/corrald-clock.c — corrald with its wall clock
 * shifted by OFFSET seconds, for the tests that cross a month boundary.
 * The production corrald has no such switch: this test program links the
 * daemon's library and injects its own clock through daemon_main().
 *
 * Usage: corrald-clock OFFSET_SECONDS --policy FILE --state-dir DIR --socket PATH
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner/jail.h"
#include "supervisor/common/log.h"
#include "supervisor/corrald/corrald.h"

static uint64_t shifted_now_us(void *ctx)
{
	const int64_t *offset_us = ctx;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + *offset_us);
}

int main(int argc, char **argv)
{
	const char *policy = NULL, *state_dir = NULL, *socket_path = NULL;
	static int64_t offset_us;
	struct daemon_clock clock = { shifted_now_us, &offset_us };
	char *end;

	if (argc < 2) {
		fprintf(stderr,
			"usage: corrald-clock OFFSET_SECONDS --policy FILE --state-dir DIR --socket PATH\n");
		return 2;
	}
	offset_us = (int64_t)(strtod(argv[1], &end) * 1e6);
	if (*end) {
		fprintf(stderr, "corrald-clock: bad offset '%s'\n", argv[1]);
		return 2;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--policy") == 0)
			policy = argv[i + 1];
		else if (strcmp(argv[i], "--state-dir") == 0)
			state_dir = argv[i + 1];
		else if (strcmp(argv[i], "--socket") == 0)
			socket_path = argv[i + 1];
	}
	if (!policy) {
		fprintf(stderr, "corrald-clock: --policy is required\n");
		return 2;
	}
	{
		/* this program lives in build/tests/helpers/: corral-init is two up */
		struct jail_error jerr;
		char path[4096];
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);

		if (n > 0) {
			path[n] = '\0';
			for (int up = 0; up < 3; up++)
				*strrchr(path, '/') = '\0';
			strcat(path, "/corral-init");
			if (jail_set_init_path(path, &jerr) < 0) {
				fprintf(stderr, "corrald-clock: %s\n", jerr.message);
				return 1;
			}
		}
	}
	if (getenv("CORRALD_DEBUG"))
		log_set_level(LOG_LEVEL_DEBUG);
	return daemon_main(policy, state_dir, socket_path, &clock);
}
