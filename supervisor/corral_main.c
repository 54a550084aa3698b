/*
 * supervisor/corral_main.c — `corral`, the client.  For now it only
 * dispatches `corral policy ...`; submit, status, list, ... come with the
 * client issue: add a row to the commands table and a function.
 */
#include <stdio.h>
#include <string.h>

#include "supervisor/cli_policy.h"

#ifndef CORRAL_VERSION
#define CORRAL_VERSION "0.1.0-dev"
#endif

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);  /* argv[0] is the command name */
};

static const struct command commands[] = {
	{ "policy", "check policy files, show effective limits (no daemon needed)",
	  cli_policy_main },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: corral [--help | --version] COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'corral COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("corral %s\n", CORRAL_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "corral: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
