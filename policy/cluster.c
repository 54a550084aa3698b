/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/cluster.c — the policy of a node of a cluster: which sections are
 * per host ([supervisor], [http]: this host's state dir, socket, cgroup
 * parent, uid range, slots, capacity, listeners and TLS files) and which
 * are the cluster's ([access], [default], [plan], [user], [profile]: one
 * text for every node, pushed into the database).
 *
 * A node's policy is its own file's per-host sections with the cluster's
 * text's sections (policy_load_node); the file's cluster-wide sections are
 * left out, and a per-host section in the cluster's text is an error (a
 * push would otherwise silently change nothing, or every host at once).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

bool cluster_section_per_host(enum section_type type)
{
	return type == SECTION_SUPERVISOR || type == SECTION_HTTP;
}

void cluster_split(struct loader *ld, size_t local)
{
	char label[128];

	for (size_t i = 0; i < ld->n_sections; i++) {
		struct raw_section *s = &ld->sections[i];

		if (s->type == SECTION_INVALID)
			continue;
		if (i < local) {
			if (!cluster_section_per_host(s->type))
				s->type = SECTION_INVALID; /* the cluster's text says it */
			continue;
		}
		if (cluster_section_per_host(s->type)) {
			errors_add(ld->errors, s->file, s->line, NULL,
				   "%s is per host: each node keeps it in its own policy file; a pushed "
				   "policy holds only [access], [default], [plan NAME], [user NAME] and "
				   "[profile NAME]",
				   section_label(s, label, sizeof(label)));
			s->type = SECTION_INVALID;
		}
	}
}

/* One section and its entries as policy-file text. */
static void render_section(FILE *out, const struct loader *ld, const struct raw_section *s)
{
	char label[128];

	fprintf(out, "\n# %s:%u\n%s\n", s->file, s->line, section_label(s, label, sizeof(label)));
	for (size_t k = s->first; k < s->first + s->count; k++)
		fprintf(out, "%s = %s\n", ld->entries[k].key, ld->entries[k].value);
}

int policy_cluster_text(const char *path, char **text, struct policy_errors *errors)
{
	struct policy_errors local = { 0 };
	struct arena arena = { 0 };
	struct loader ld = { .arena = &arena };
	size_t before, size = 0;
	FILE *out = NULL;
	int r = 0;

	*text = NULL;
	ld.errors = errors ? errors : &local;
	before = ld.errors->count + ld.errors->omitted;
	load_file(&ld, path, 0, NULL, 0);
	if (arena.failed) {
		r = -ENOMEM;
		goto done;
	}
	if (ld.errors->count + ld.errors->omitted != before) {
		r = -EINVAL;
		goto done;
	}
	out = open_memstream(text, &size);
	if (!out) {
		r = -ENOMEM;
		goto done;
	}
	/* never empty: a file without cluster-wide sections is the defaults */
	fprintf(out, "# the cluster-wide sections of %s\n", path);
	for (size_t i = 0; i < ld.n_sections; i++)
		if (ld.sections[i].type != SECTION_INVALID && !cluster_section_per_host(ld.sections[i].type))
			render_section(out, &ld, &ld.sections[i]);
	if (fclose(out) != 0) {
		free(*text);
		*text = NULL;
		r = -ENOMEM;
	}
done:
	arena_free(&arena);
	policy_errors_free(&local);
	return r;
}
