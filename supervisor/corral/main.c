/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/main.c — `corral`, the client: dispatches a command to
 * cli_policy.c (`policy`, no daemon needed) or cli_tasks.c (everything that
 * talks to corrald).  A global `--socket PATH` before the command sets
 * $CORRAL_SOCKET for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/corral/doctor_cmd.h"
#include "supervisor/corral/policy_cmd.h"
#include "supervisor/common/version.h"
#include "supervisor/corral/commands.h"
#include "supervisor/corral/store_cmd.h"
#include "supervisor/corral/tenant_cmd.h"
#include "supervisor/corral/token_cmd.h"

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

static const struct command commands[] = {
	{ "submit", "queue a command as a task (--wait: and wait for it)", cli_main },
	{ "status", "show one task", cli_main },
	{ "list", "list tasks, newest first", cli_main },
	{ "queue", "show queued tasks in start order and why they wait", cli_main },
	{ "cancel", "cancel a queued or running task", cli_main },
	{ "wait", "wait for a task; exit with its exit code", cli_main },
	{ "logs", "write a task's stdout or stderr (--follow)", cli_main },
	{ "artifacts", "list the files a task kept (submit --artifact)", cli_main },
	{ "fetch", "download a task's artifacts (-o DIR)", cli_main },
	{ "usage", "CPU hours used, budget and left per tenant ('usage adjust': grant, take back)",
	  cli_main },
	{ "nodes", "the nodes: state, heartbeat, free slots, memory, GPUs, statistics, policy generation",
	  cli_main },
	{ "node", "'node drain NAME' / 'node undrain NAME': a drained node starts nothing new", cli_main },
	{ "ping", "check that corrald answers", cli_main },
	{ "policy",
	  "check policy files, show effective limits (no daemon needed); 'policy push FILE': the "
	  "cluster's policy (operators)",
	  policy_cmd_main },
	{ "doctor", "check what this host lacks for corral, and how to fix it (no daemon needed)",
	  doctor_cmd_main },
	{ "token", "'token create|list|revoke': API tokens for the HTTP API (operators)", token_cmd_main },
	{ "tenant", "'tenant set|show|list|delete': tenant plans without editing the policy (operators)",
	  tenant_cmd_main },
	{ "store", "'store migrate': copy a single-host store into PostgreSQL (corrald stopped)",
	  store_cmd_main },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: corral [--help | --version] [--socket PATH] COMMAND [ARGS...]\n\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\nRun 'corral COMMAND --help' for a command's options.  The socket is\n"
		"--socket PATH, else $%s, else %s.\n",
		CLIENT_SOCKET_ENV, CLIENT_DEFAULT_SOCKET);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--socket") == 0) {
		if (setenv(CLIENT_SOCKET_ENV, argv[2], 1) < 0) {
			perror("corral: setenv");
			return 1;
		}
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("corral %s\n", version_string());
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "corral: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
