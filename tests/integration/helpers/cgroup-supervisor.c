/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/helpers/cgroup-supervisor.c — what corrald does with
 * its cgroup at start and exit (jail_supervisor_enter, _leave), in a
 * process of its own that test_supervisor_cgroup starts in a prepared
 * cgroup: a test process cannot move itself (its runner already knows its
 * cgroup, and its parent shell would share it).
 *
 * Usage: cgroup-supervisor SUBTREE_NAME JAILS_PARENT
 * Prints, one per line:
 *   enter <r> <subtree cgroup or -> <error message or ->
 *   cgroup <our unified cgroup>
 *   subtree_control <controllers enabled in the subtree, or ->
 *   jails_control <controllers enabled in the jails' parent, or ->
 *   leave <r> <error message or ->
 *   cgroup <our unified cgroup>
 * and exits 0 (the test judges the lines).
 */
#include <stdio.h>
#include <string.h>

#include "runner/jail.h"

static void print_cgroup(void)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0)
			printf("cgroup %s", line + 3);
	if (f)
		fclose(f);
}

static void print_file(const char *label, const char *dir, const char *rel, const char *file)
{
	char path[8192], text[512] = "-";
	FILE *f;

	snprintf(path, sizeof(path), "%s%s%s%s/%s", dir, rel ? "/" : "", rel ? rel : "", "", file);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(text, sizeof(text), f) || text[0] == '\n')
			snprintf(text, sizeof(text), "-");
		fclose(f);
	}
	text[strcspn(text, "\n")] = '\0';
	printf("%s %s\n", label, text);
}

int main(int argc, char **argv)
{
	struct jail_error err = { 0 };
	const char *subtree = NULL;
	char dir[4096];

	if (argc != 3) {
		fprintf(stderr, "usage: cgroup-supervisor SUBTREE_NAME JAILS_PARENT\n");
		return 2;
	}
	int r = jail_supervisor_enter("supervisor", argv[1], argv[2], &subtree, &err);
	printf("enter %d %s %s\n", r, subtree ? subtree : "-", r < 0 ? err.message : "-");
	print_cgroup();
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s", subtree ? subtree : "/nonexistent");
	print_file("subtree_control", dir, NULL, "cgroup.subtree_control");
	print_file("jails_control", dir, argv[2], "cgroup.subtree_control");
	memset(&err, 0, sizeof(err));
	if (r > 0) /* on hybrid hosts nothing was made: touch nothing */
		jail_cleanup_cgroup_parent(argv[2]);
	r = jail_supervisor_leave(&err);
	printf("leave %d %s\n", r, r < 0 ? err.message : "-");
	print_cgroup();
	return 0;
}
