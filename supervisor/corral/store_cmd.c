/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/store_cmd.c — `corral store migrate --from SRC --to URI
 * [--json]`: refuses while a corrald holds the source's state dir (its
 * corrald.lock next to the database), copies with store_migrate() and says
 * what was copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "supervisor/common/macros.h"
#include "supervisor/corral/store_cmd.h"
#include "supervisor/store/store_migrate.h"

static void store_usage(FILE *f)
{
	fprintf(f,
		"usage: corral store migrate --from DB --to postgresql://... [--json]\n"
		"\n"
		"Copy a single-host store (the SQLite database, e.g. /var/lib/corral/corral.db)\n"
		"into an empty PostgreSQL database: tasks, CPU usage, usage adjustments and\n"
		"events, with their ids, in one transaction that is committed only when the\n"
		"counts and the charged CPU match on both sides.  Stop corrald first; then\n"
		"point [supervisor] store at the database and start it again.\n"
		"\n"
		"  --from DB      the SQLite store: a path or sqlite:PATH\n"
		"  --to URI       the PostgreSQL store: postgresql://... (schema corral)\n"
		"  --json         print what was copied as JSON\n"
		"\n"
		"Exit status: 0 copied, 1 failed (nothing committed), 2 usage.\n");
}

/* A corrald on the source's state dir holds corrald.lock next to it. */
static int check_not_running(const char *from, char *why, size_t size)
{
	char copy[4096], lock[4200];
	const char *path = strncmp(from, "sqlite:", 7) == 0 ? from + 7 : from;
	_cleanup_close_ int fd = -1;

	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(lock, sizeof(lock), "%s/corrald.lock", dirname(copy));
	fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0; /* no corrald ever ran there */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(why, size, "a corrald is running on %.200s (%.250s is locked): stop it first", path,
			 lock);
		return -EBUSY;
	}
	flock(fd, LOCK_UN);
	return 0;
}

int store_cmd_main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *to = NULL;
	struct store_migrate_counts counts;
	struct error err = { 0 };
	bool json = false;
	char why[512];
	int o;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		store_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "migrate") != 0) {
		fprintf(stderr, "corral store: unknown sub-command '%s' (there is: migrate)\n", argv[1]);
		return 2;
	}
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (o) {
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			store_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "corral store migrate: unknown option or missing value '%s'\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (!from || !to || optind < argc) {
		fprintf(stderr, "corral store migrate: give --from DB and --to postgresql://...\n");
		return 2;
	}
	if (check_not_running(from, why, sizeof(why)) < 0) {
		fprintf(stderr, "corral store migrate: %s\n", why);
		return 1;
	}
	if (store_migrate(from, to, &counts, &err) < 0) {
		fprintf(stderr, "corral store migrate: %s\n", err.message);
		return 1;
	}
	if (json) {
		json_t *o2 = json_pack("{s:I,s:I,s:I,s:I,s:I}", "tasks", (json_int_t)counts.tasks, "usage",
				       (json_int_t)counts.usage, "adjustments",
				       (json_int_t)counts.adjustments, "events", (json_int_t)counts.events,
				       "cpu_us", (json_int_t)counts.cpu_us);

		json_dumpf(o2, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(o2);
	} else {
		printf("copied %lld tasks, %lld usage rows (%.3f s of CPU charged), %lld adjustments, %lld "
		       "events; point [supervisor] store at the database and start corrald\n",
		       (long long)counts.tasks, (long long)counts.usage, (double)counts.cpu_us / 1e6,
		       (long long)counts.adjustments, (long long)counts.events);
	}
	return 0;
}
