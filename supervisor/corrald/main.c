/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/main.c — corrald: the supervisor service.  Runs in the
 * foreground (systemd style: logs to stderr with syslog priorities,
 * sd_notify READY/STOPPING when NOTIFY_SOCKET is set).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "supervisor/common/version.h"
#include "supervisor/api/api.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/common/log.h"

static const char usage[] =
	"Usage: corrald [--policy FILE] [--state-dir DIR] [--socket PATH]\n"
	"The corral supervisor: queues tasks from many users, enforces per-user concurrency\n"
	"limits and monthly CPU budgets, runs every task in its own jail.  Runs as root in the\n"
	"foreground.\n"
	"\n"
	"  --policy FILE     policy file (default " POLICY_DEFAULT_PATH ")\n"
	"  --state-dir DIR   SQLite store, task output (default: [supervisor] state_dir)\n"
	"  --socket PATH     API socket (default: [supervisor] socket)\n"
	"  --debug           log debug messages\n"
	"  --help, --version\n"
	"\n"
	"Signals: SIGTERM/SIGINT stop (running tasks are ended with reason shutdown),\n"
	"SIGHUP reloads the policy (a policy with errors is refused; the old one stays).\n"
	"In a cluster (a PostgreSQL store) the file gives [supervisor] and [http]; the rest\n"
	"is the cluster's policy, pushed with `corral policy push FILE`.\n";

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = POLICY_DEFAULT_PATH, *state_dir = NULL, *socket_path = NULL;
	int opt;

	if (getenv("CORRALD_DEBUG"))
		log_set_level(LOG_LEVEL_DEBUG);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			policy = optarg;
			break;
		case 's':
			state_dir = optarg;
			break;
		case 'S':
			socket_path = optarg;
			break;
		case 'd':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("corrald %s\n", version_string());
			return 0;
		default:
			fprintf(stderr, "corrald: unknown option '%s'\n%s", argv[optind - 1], usage);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "corrald: unexpected argument '%s'\n%s", argv[optind], usage);
		return 2;
	}
	return daemon_main(policy, state_dir, socket_path, NULL);
}
