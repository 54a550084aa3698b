/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/plans.c — [plan NAME], [user NAME] and [default]: reading the
 * plan keys of each, then resolving effective limits.
 *
 * Resolution: a key's value comes from the first layer that sets it, in
 * this order: the [user] section (or [default] for users without one), its
 * plan, the plan that plan inherits (`inherit = NAME`), and so on, and last
 * the built-in defaults.  An inherit chain that comes back to a plan is a
 * loop and an error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define TiB (1024 * GiB)
#define DAY (86400ULL)

const char *const plan_key_names[PK_COUNT + 1] = {
	"max_concurrent",
	"monthly_cpu_hours",
	"max_task_seconds",
	"max_cpu_seconds",
	"memory",
	"pids",
	"cpus",
	"output_limit",
	"weight",
	"max_queued",
	"max_attempts",
	"retry_lost",
	"max_stored",
	"retention",
	"max_input",
	"max_artifact",
	"artifact_retention",
	"profile",
	NULL,
};

static const struct key_def plan_keys[PK_COUNT] = {
	[PK_MAX_CONCURRENT] = { "max_concurrent", VALUE_COUNT, 1, 4096, 0 },
	/* in ms: budgets of a few CPU seconds work; 0 suspends the tenant */
	[PK_MONTHLY_CPU_HOURS] = { "monthly_cpu_hours", VALUE_HOURS, 0, 1000000 * 3600000ULL, KEY_UNLIMITED },
	[PK_MAX_TASK_SECONDS] = { "max_task_seconds", VALUE_SECONDS, 1, 30 * DAY, KEY_UNLIMITED },
	[PK_MAX_CPU_SECONDS] = { "max_cpu_seconds", VALUE_SECONDS, 1, 30 * DAY, KEY_UNLIMITED },
	[PK_MEMORY] = { "memory", VALUE_SIZE, 4 * MiB, 4 * TiB, 0 },
	[PK_PIDS] = { "pids", VALUE_COUNT, 2, 4194304, 0 },
	[PK_CPUS] = { "cpus", VALUE_CPUS, 10, 512000, 0 },
	[PK_OUTPUT_LIMIT] = { "output_limit", VALUE_SIZE, 1 * KiB, 64 * GiB, 0 },
	[PK_WEIGHT] = { "weight", VALUE_COUNT, 1, 10000, 0 },
	[PK_MAX_QUEUED] = { "max_queued", VALUE_COUNT, 1, 1000000, 0 },
	/* starts of a task whose command never ran (host faults, crashes) */
	[PK_MAX_ATTEMPTS] = { "max_attempts", VALUE_COUNT, 1, 100, 0 },
	[PK_RETRY_LOST] = { "retry_lost", VALUE_BOOL, 0, 1, 0 },
	/* bytes the store holds for the tenant's tasks; unlimited = 0 */
	[PK_MAX_STORED] = { "max_stored", VALUE_SIZE, 1 * MiB, 64 * TiB, KEY_UNLIMITED },
	/* how long an ended task is kept; unlimited = 0 */
	[PK_RETENTION] = { "retention", VALUE_SECONDS, 60, 3650 * DAY, KEY_UNLIMITED },
	/* a task's files: inputs stored at submit, artifacts kept after its end */
	[PK_MAX_INPUT] = { "max_input", VALUE_SIZE, 1 * KiB, 64 * GiB, 0 },
	[PK_MAX_ARTIFACT] = { "max_artifact", VALUE_SIZE, 1 * KiB, 64 * GiB, 0 },
	/* how long an ended task's artifacts are kept; unlimited = 0 */
	[PK_ARTIFACT_RETENTION] = { "artifact_retention", VALUE_SECONDS, 60, 3650 * DAY, KEY_UNLIMITED },
	[PK_PROFILE] = { "profile", VALUE_COUNT, 0, 0, 0 }, /* a name, handled apart */
};

/* Built-in values for keys no layer sets (documented in corral.conf(5)). */
static const uint64_t plan_defaults[PK_COUNT] = {
	[PK_MAX_CONCURRENT] = 1,
	[PK_MONTHLY_CPU_HOURS] = POLICY_UNLIMITED,
	[PK_MAX_TASK_SECONDS] = 600,
	[PK_MAX_CPU_SECONDS] = 0, /* unlimited */
	[PK_MEMORY] = 512 * MiB,
	[PK_PIDS] = 256,
	[PK_CPUS] = 1000,
	[PK_OUTPUT_LIMIT] = 16 * MiB,
	[PK_WEIGHT] = 100,
	[PK_MAX_QUEUED] = 100,
	[PK_MAX_ATTEMPTS] = 3,
	[PK_RETRY_LOST] = 0,
	[PK_MAX_STORED] = 1 * GiB,
	[PK_RETENTION] = 30 * DAY,
	[PK_MAX_INPUT] = 64 * MiB,
	[PK_MAX_ARTIFACT] = 64 * MiB,
	[PK_ARTIFACT_RETENTION] = 7 * DAY,
};

/* Allowed keys per section kind, for "unknown key" messages. */
static const char *const plan_section_keys[] = {
	"inherit",
	"max_concurrent",
	"monthly_cpu_hours",
	"max_task_seconds",
	"max_cpu_seconds",
	"memory",
	"pids",
	"cpus",
	"output_limit",
	"weight",
	"max_queued",
	"max_attempts",
	"retry_lost",
	"max_stored",
	"retention",
	"max_input",
	"max_artifact",
	"artifact_retention",
	"profile",
	"profiles",
	NULL,
};
static const char *const user_section_keys[] = {
	"plan",
	"max_concurrent",
	"monthly_cpu_hours",
	"max_task_seconds",
	"max_cpu_seconds",
	"memory",
	"pids",
	"cpus",
	"output_limit",
	"weight",
	"max_queued",
	"max_attempts",
	"retry_lost",
	"max_stored",
	"retention",
	"max_input",
	"max_artifact",
	"artifact_retention",
	"profile",
	"profiles",
	NULL,
};

/* `profiles = default java python`: the names, space- or comma-separated,
 * each once; the first is the default.  `profile = NAME` is a list of one. */
static bool read_profiles(struct loader *ld, struct plan_layer *layer, const struct raw_entry *e)
{
	char *copy = arena_strdup(ld->arena, e->value), *save = NULL;
	size_t cap = 1;
	const char **names;

	if (!copy)
		return false;
	for (const char *c = e->value; *c; c++)
		cap += *c == ' ' || *c == ',' || *c == '\t';
	names = arena_alloc(ld->arena, (cap + 1) * sizeof(*names));
	if (!names)
		return false;
	layer->n_profiles = 0;
	for (char *t = strtok_r(copy, " ,\t", &save); t; t = strtok_r(NULL, " ,\t", &save)) {
		if (!value_is_name(t)) {
			errors_add(ld->errors, e->file, e->line, e->key,
				   "'%s' is not a profile name; allowed: letters, digits, _ . @ -", t);
			return false;
		}
		for (size_t i = 0; i < layer->n_profiles; i++) {
			if (strcmp(names[i], t) == 0) {
				errors_add(ld->errors, e->file, e->line, e->key,
					   "profile '%s' is listed twice", t);
				return false;
			}
		}
		names[layer->n_profiles++] = t;
	}
	if (layer->n_profiles == 0) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "needs at least one profile name (the first is the default)");
		return false;
	}
	layer->profiles = names;
	layer->profile = names[0];
	return true;
}

/* Read a plan key into layer.  Returns false if key is not a plan key. */
static bool read_plan_key(struct loader *ld, struct plan_layer *layer, const struct raw_entry *e)
{
	int k;

	bool list = strcmp(e->key, "profiles") == 0;

	k = (int)build_key_index(plan_key_names, PK_COUNT, list ? "profile" : e->key);
	if (k == PK_COUNT)
		return false;
	if (k == PK_PROFILE && layer->line[k] && layer->profiles_key != list) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "set either 'profile' or 'profiles' in a section, not both ('%s' at line %u)",
			   list ? "profile" : "profiles", layer->line[k]);
		return true;
	}
	if (!build_key_once(ld, &layer->line[k], e))
		return true;
	if (k == PK_PROFILE) {
		layer->profiles_key = list;
		if (!read_profiles(ld, layer, e))
			return true;
		if (!list && layer->n_profiles > 1) {
			errors_add(ld->errors, e->file, e->line, e->key,
				   "names one profile; use 'profiles = %s' to allow several", e->value);
			return true;
		}
	} else if (!value_parse_key(&plan_keys[k], e->value, &layer->num[k], ld->errors, e->file, e->line)) {
		return true;
	}
	layer->set |= 1u << k;
	return true;
}

/* The value of a name key (plan, inherit). */
static const char *read_name_key(struct loader *ld, unsigned *first_line, const struct raw_entry *e,
				 const char *what)
{
	if (!build_key_once(ld, first_line, e))
		return NULL;
	if (!value_is_name(e->value)) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "'%s' is not a %s name; allowed: letters, digits, _ . @ -", e->value, what);
		return NULL;
	}
	return arena_strdup(ld->arena, e->value);
}

void plans_section(struct loader *ld, struct policy *p, const struct raw_section *s)
{
	struct plan_layer layer = { 0 };
	const char *ref = NULL;
	unsigned ref_line = 0;
	const char *ref_key = s->type == SECTION_PLAN ? "inherit" : "plan";
	const char *const *allowed = s->type == SECTION_PLAN ? plan_section_keys : user_section_keys;

	for (size_t i = s->first; i < s->first + s->count; i++) {
		const struct raw_entry *e = &ld->entries[i];

		if (strcmp(e->key, ref_key) == 0) {
			const char *v = read_name_key(ld, &ref_line, e, "plan");

			if (v)
				ref = v;
			continue;
		}
		if (!read_plan_key(ld, &layer, e))
			build_unknown_key(ld, s, e, allowed);
	}

	if (s->type == SECTION_PLAN) {
		struct plan *pl;

		if (!arena_grow(ld->arena, (void **)&p->plans, &p->cap_plans, p->n_plans, sizeof(*p->plans)))
			return;
		pl = &p->plans[p->n_plans++];
		memset(pl, 0, sizeof(*pl));
		pl->name = s->name;
		pl->file = s->file;
		pl->line = s->line;
		pl->inherit = ref;
		pl->inherit_line = ref_line;
		pl->layer = layer;
		pl->layer.file = s->file;
	} else {
		struct user *u;

		if (s->type == SECTION_DEFAULT) {
			u = arena_alloc(ld->arena, sizeof(*u));
			if (!u)
				return;
			p->default_user = u;
		} else {
			if (!arena_grow(ld->arena, (void **)&p->users, &p->cap_users, p->n_users,
					sizeof(*p->users)))
				return;
			u = &p->users[p->n_users++];
			memset(u, 0, sizeof(*u));
		}
		u->name = s->name;
		u->file = s->file;
		u->line = s->line;
		u->plan = ref;
		u->plan_line = ref_line;
		u->layer = layer;
		u->layer.file = s->file;
	}
}

/* ---- resolution ---------------------------------------------------------- */

static void fold(const struct plan_layer *const *layers, size_t n, const char *plan_name,
		 struct policy_limits *out)
{
	static const char *const default_profiles[] = { "default" };
	uint64_t v[PK_COUNT];
	const char *profile = "default";
	const char *const *profiles = default_profiles;
	size_t n_profiles = 1;

	memcpy(v, plan_defaults, sizeof(v));
	/* Root-most layer first, so nearer layers win. */
	for (size_t i = n; i-- > 0;) {
		for (int k = 0; k < PK_COUNT; k++) {
			if (!(layers[i]->set & (1u << k)))
				continue;
			if (k == PK_PROFILE) {
				profile = layers[i]->profile;
				profiles = layers[i]->profiles;
				n_profiles = layers[i]->n_profiles;
			} else
				v[k] = layers[i]->num[k];
		}
	}
	out->plan = plan_name;
	out->profile = profile;
	out->profiles = profiles;
	out->n_profiles = n_profiles;
	out->max_concurrent = (uint32_t)v[PK_MAX_CONCURRENT];
	out->max_queued = (uint32_t)v[PK_MAX_QUEUED];
	out->max_attempts = (uint32_t)v[PK_MAX_ATTEMPTS];
	out->retry_lost = v[PK_RETRY_LOST] != 0;
	out->weight = (uint32_t)v[PK_WEIGHT];
	out->cpu_millis = (uint32_t)v[PK_CPUS];
	out->monthly_cpu_ms = v[PK_MONTHLY_CPU_HOURS];
	out->max_task_seconds = v[PK_MAX_TASK_SECONDS];
	out->max_cpu_seconds = v[PK_MAX_CPU_SECONDS];
	out->memory_bytes = v[PK_MEMORY];
	out->pids = v[PK_PIDS];
	out->output_limit_bytes = v[PK_OUTPUT_LIMIT];
	out->max_stored_bytes = v[PK_MAX_STORED];
	out->retention_seconds = v[PK_RETENTION];
	out->max_input_bytes = v[PK_MAX_INPUT];
	out->max_artifact_bytes = v[PK_MAX_ARTIFACT];
	out->artifact_retention_seconds = v[PK_ARTIFACT_RETENTION];
}

/* Names of all plans, NULL-terminated, for "did you mean" (arena). */
static const char **plan_names(struct loader *ld, const struct policy *p)
{
	const char **names = arena_alloc(ld->arena, (p->n_plans + 1) * sizeof(*names));

	for (size_t i = 0; names && i < p->n_plans; i++)
		names[i] = p->plans[i].name;
	return names;
}

static void unknown_plan(struct loader *ld, const struct policy *p, const char *file, unsigned line,
			 const char *key, const char *name)
{
	const char **names = plan_names(ld, p);
	const char *guess = names ? errors_did_you_mean(name, names) : NULL;

	if (guess)
		errors_add(ld->errors, file, line, key, "plan '%s' is not defined; did you mean '%s'?", name,
			   guess);
	else if (p->n_plans) {
		char list[512];
		size_t off = 0;

		list[0] = 0;
		for (size_t i = 0; i < p->n_plans && off < sizeof(list) - 1; i++) {
			int w = snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "",
					 p->plans[i].name);

			off = w < 0 ? off : off + (size_t)w;
		}
		errors_add(ld->errors, file, line, key, "plan '%s' is not defined; defined plans: %s", name,
			   list);
	} else
		errors_add(ld->errors, file, line, key,
			   "plan '%s' is not defined; there is no [plan NAME] section", name);
}

/* The profiles named in a layer must exist; memory must fit the reserve. */
static void check_layer(struct loader *ld, const struct policy *p, const struct plan_layer *l)
{
	const char *key = l->profiles_key ? "profiles" : "profile";

	for (size_t i = 0; (l->set & (1u << PK_PROFILE)) && i < l->n_profiles; i++) {
		const char *name = l->profiles[i];
		const char **names;
		const char *guess = NULL;

		if (policy_profile(p, name))
			continue;
		names = arena_alloc(ld->arena, (p->n_profiles + 1) * sizeof(*names));
		for (size_t j = 0; names && j < p->n_profiles; j++)
			names[j] = p->profiles[j].name;
		if (names)
			guess = errors_did_you_mean(name, names);
		if (guess)
			errors_add(ld->errors, l->file, l->line[PK_PROFILE], key,
				   "profile '%s' is not defined; did you mean '%s'?", name, guess);
		else
			errors_add(ld->errors, l->file, l->line[PK_PROFILE], key,
				   "profile '%s' is not defined; define [profile %s] or use "
				   "'default'",
				   name, name);
	}
	if ((l->set & (1u << PK_MEMORY)) && p->supervisor.memory_reserve_bytes &&
	    l->num[PK_MEMORY] > p->supervisor.memory_reserve_bytes) {
		char a[32], b[32];

		errors_add(ld->errors, l->file, l->line[PK_MEMORY], "memory",
			   "%s is more than [supervisor] memory_reserve %s: no such task could "
			   "ever start",
			   policy_format_size(l->num[PK_MEMORY], a, sizeof(a)),
			   policy_format_size(p->supervisor.memory_reserve_bytes, b, sizeof(b)));
	}
}

/* Inheritance is resolved once per plan, parents before children: each
 * plan's merged layer (the nearest setting of every key along its chain)
 * is its own layer over its parent's merged one.  Walking every plan's
 * whole chain instead took minutes for a 20,000-plan chain (a 600 KB file). */
enum plan_state {
	PLAN_UNSEEN,
	PLAN_ON_PATH, /* on the chain being walked */
	PLAN_OK,      /* merged[i] is its resolved layer */
	PLAN_BROKEN,  /* its chain reaches a missing plan or a loop */
};

struct plan_graph {
	size_t *parent;       /* index of the inherited plan; NO_PARENT; MISSING_PARENT */
	unsigned char *state; /* enum plan_state */
	bool *report_loop;    /* the first plan of a loop in file order: it reports it */
	size_t *path;         /* the chain being walked */
	size_t *pos;          /* a plan's index in path */
	struct plan_layer *merged;
};

#define NO_PARENT SIZE_MAX
#define MISSING_PARENT (SIZE_MAX - 1)

/* a sorts before b in file order (its file's name, then its line) */
static bool plan_before(const struct plan *a, const struct plan *b)
{
	int c = strcmp(a->file, b->file);

	return c < 0 || (c == 0 && a->line < b->line);
}

/* child's layer over parent's merged layer (NULL: none): what fold() of
 * the whole chain would give. */
static void merge_layer(struct plan_layer *out, const struct plan_layer *child,
			const struct plan_layer *parent)
{
	*out = parent ? *parent : (struct plan_layer){ 0 };
	for (int k = 0; k < PK_COUNT; k++) {
		if (!(child->set & (1u << k)))
			continue;
		if (k == PK_PROFILE) {
			out->profile = child->profile;
			out->profiles = child->profiles;
			out->n_profiles = child->n_profiles;
		} else {
			out->num[k] = child->num[k];
		}
		out->set |= 1u << k;
	}
}

/* Resolve plan i and the plans it inherits from (those not done yet). */
static void resolve_plan(const struct policy *p, struct plan_graph *g, size_t i)
{
	size_t n = 0, j = i, end;
	bool broken = false;
	const struct plan_layer *base = NULL;

	while (g->state[j] == PLAN_UNSEEN) {
		g->state[j] = PLAN_ON_PATH;
		g->pos[j] = n;
		g->path[n++] = j;
		if (g->parent[j] == NO_PARENT || g->parent[j] == MISSING_PARENT)
			break;
		j = g->parent[j];
	}
	end = n;
	if (g->state[j] == PLAN_ON_PATH && g->parent[j] == MISSING_PARENT) {
		broken = true;
	} else if (g->state[j] == PLAN_ON_PATH && g->parent[j] != NO_PARENT) {
		/* j is met again: path[pos[j]..n) is a loop */
		size_t first = j;

		for (size_t k = g->pos[j]; k < n; k++)
			if (plan_before(&p->plans[g->path[k]], &p->plans[first]))
				first = g->path[k];
		g->report_loop[first] = true;
		broken = true;
	} else if (g->state[j] == PLAN_BROKEN) {
		broken = true;
	} else if (g->state[j] == PLAN_OK) {
		base = &g->merged[j];
	}
	/* j ON_PATH without a parent: the chain's root, merged first below */
	while (end-- > 0) {
		size_t k = g->path[end];

		if (broken) {
			g->state[k] = PLAN_BROKEN;
			continue;
		}
		merge_layer(&g->merged[k], &p->plans[k].layer, base);
		base = &g->merged[k];
		g->state[k] = PLAN_OK;
	}
}

/* "plan 'a' inherits from itself in a loop: a -> b -> a", at pl. */
static void report_loop(struct loader *ld, const struct policy *p, const struct plan *pl)
{
	char path[512];
	size_t off = 0;
	const struct plan *c = pl;

	do {
		if (off < sizeof(path) - 1) {
			int w = snprintf(path + off, sizeof(path) - off, "%s -> ", c->name);

			off = w < 0 ? off : off + (size_t)w;
			if (off > sizeof(path) - 1)
				off = sizeof(path) - 1;
		}
		c = lookup_plan(p, c->inherit);
	} while (c && c != pl);
	errors_add(ld->errors, pl->file, pl->inherit_line, "inherit",
		   "plan '%s' inherits from itself in a loop: %s%s", pl->name, path, pl->name);
}

static bool plan_graph_make(struct loader *ld, const struct policy *p, struct plan_graph *g)
{
	size_t n = p->n_plans ? p->n_plans : 1;

	g->parent = arena_alloc(ld->arena, n * sizeof(*g->parent));
	g->state = arena_alloc(ld->arena, n * sizeof(*g->state));
	g->report_loop = arena_alloc(ld->arena, n * sizeof(*g->report_loop));
	g->path = arena_alloc(ld->arena, n * sizeof(*g->path));
	g->pos = arena_alloc(ld->arena, n * sizeof(*g->pos));
	g->merged = arena_alloc(ld->arena, n * sizeof(*g->merged));
	if (!g->parent || !g->state || !g->report_loop || !g->path || !g->pos || !g->merged)
		return false;
	for (size_t i = 0; i < p->n_plans; i++) {
		const struct plan *parent = lookup_plan(p, p->plans[i].inherit);

		g->parent[i] = !p->plans[i].inherit ? NO_PARENT
			: parent                    ? (size_t)(parent - p->plans)
						    : MISSING_PARENT;
	}
	for (size_t i = 0; i < p->n_plans; i++)
		if (g->state[i] == PLAN_UNSEEN)
			resolve_plan(p, g, i);
	return true;
}

void plans_resolve(struct loader *ld, struct policy *p)
{
	struct plan_graph g;

	if (!plan_graph_make(ld, p, &g))
		return;
	for (size_t i = 0; i < p->n_plans; i++) {
		struct plan *pl = &p->plans[i];
		const struct plan_layer *merged = &g.merged[i];

		check_layer(ld, p, &pl->layer);
		if (g.parent[i] == MISSING_PARENT) {
			unknown_plan(ld, p, pl->file, pl->inherit_line, "inherit", pl->inherit);
			pl->broken = true;
			continue;
		}
		if (g.state[i] == PLAN_BROKEN) {
			if (g.report_loop[i])
				report_loop(ld, p, pl);
			pl->broken = true;
			continue;
		}
		fold(&merged, 1, pl->name, &pl->limits);
	}

	if (p->default_user && !p->default_user->plan)
		errors_add(ld->errors, p->default_user->file, p->default_user->line, NULL,
			   "[default] needs 'plan = NAME': the plan of users without a [user] "
			   "section");

	for (size_t i = 0; i <= p->n_users; i++) {
		struct user *u = i < p->n_users ? &p->users[i] : p->default_user;
		const struct plan_layer *chain[2];
		const char *plan_name;
		const struct plan *pl;

		if (!u)
			continue;
		check_layer(ld, p, &u->layer);
		plan_name = u->plan;
		if (!plan_name && p->default_user)
			plan_name = p->default_user->plan;
		if (!plan_name) {
			if (u != p->default_user)
				errors_add(ld->errors, u->file, u->line, NULL,
					   "[user %s] has no plan; set 'plan = NAME' here or in "
					   "[default]",
					   u->name);
			continue;
		}
		pl = lookup_plan(p, plan_name);
		if (!pl) {
			if (u->plan) /* else it is [default]'s plan, reported there */
				unknown_plan(ld, p, u->file, u->plan_line, "plan", plan_name);
			continue;
		}
		if (pl->broken)
			continue;
		chain[0] = &u->layer;
		chain[1] = &g.merged[pl - p->plans];
		fold(chain, 2, pl->name, &u->limits);
	}
}
