/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/settings.c — the [supervisor] and [access] sections: host-wide
 * settings with their defaults, and who is an operator, who may use corral,
 * and how Unix users map to tenants.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

enum supervisor_key {
	SK_STATE_DIR,
	SK_SOCKET,
	SK_CGROUP_PARENT,
	SK_MAX_RUNNING,
	SK_MEMORY_RESERVE,
	SK_POLL_INTERVAL,
	SK_DRAIN_TIMEOUT,
	SK_KILL_GRACE,
	SK_ON_RESTART,
	SK_UID_RANGE,
	SK_STORE,
	SK_NODE_NAME,
	SK_HEARTBEAT_INTERVAL,
	SK_NODE_OFFLINE_AFTER,
	SK_GPUS,
	SK_GPU_MEMORY,
	SK_LABELS,
	SK_LEASE,
	SK_LEADER_LEASE,
	SK_CLUSTER_POLL,
	SK_ADOPT_GRACE,
	SK_CORES,
	SK_NETNS_POOL,
	SK_COUNT,
};

static const char *const supervisor_keys[SK_COUNT + 1] = {
	"state_dir",
	"socket",
	"cgroup_parent",
	"max_running",
	"memory_reserve",
	"poll_interval",
	"drain_timeout",
	"kill_grace",
	"on_restart",
	"uid_range",
	"store",
	"node_name",
	"heartbeat_interval",
	"node_offline_after",
	"gpus",
	"gpu_memory",
	"labels",
	"lease",
	"leader_lease",
	"cluster_poll",
	"adopt_grace",
	"cores",
	"netns_pool",
	NULL,
};

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)
#define TiB (1024ULL * GiB)

static const struct key_def supervisor_numbers[SK_COUNT] = {
	[SK_MAX_RUNNING] = { "max_running", VALUE_COUNT, 1, 4096, 0 },
	[SK_MEMORY_RESERVE] = { "memory_reserve", VALUE_SIZE, 64 * MiB, 64 * TiB, KEY_UNLIMITED },
	[SK_POLL_INTERVAL] = { "poll_interval", VALUE_MILLIS, 10, 60000, 0 },
	[SK_DRAIN_TIMEOUT] = { "drain_timeout", VALUE_MILLIS, 0, 3600000, 0 },
	[SK_KILL_GRACE] = { "kill_grace", VALUE_MILLIS, 0, 60000, 0 },
	[SK_HEARTBEAT_INTERVAL] = { "heartbeat_interval", VALUE_MILLIS, 100, 600000, 0 },
	[SK_NODE_OFFLINE_AFTER] = { "node_offline_after", VALUE_MILLIS, 1000, 86400000, 0 },
	[SK_GPUS] = { "gpus", VALUE_COUNT, 0, 1024, 0 },
	[SK_CORES] = { "cores", VALUE_COUNT, 1, 1024, 0 },
	[SK_GPU_MEMORY] = { "gpu_memory", VALUE_SIZE, 0, 64 * TiB, 0 },
	[SK_LEASE] = { "lease", VALUE_MILLIS, 1000, 3600000, 0 },
	[SK_LEADER_LEASE] = { "leader_lease", VALUE_MILLIS, 1000, 600000, 0 },
	[SK_CLUSTER_POLL] = { "cluster_poll", VALUE_MILLIS, 10, 10000, 0 },
	[SK_ADOPT_GRACE] = { "adopt_grace", VALUE_MILLIS, 0, 3600000, 0 },
	[SK_NETNS_POOL] = { "netns_pool", VALUE_COUNT, 0, 64, 0 },
};

/* Lowest host uid a jail may get: below are system and login users. */
#define UID_RANGE_MIN 1000
#define UID_RANGE_MAX 4294967294U

void settings_defaults(struct policy *p)
{
	struct policy_supervisor *sv = &p->supervisor;
	static const struct access_entry root = { "root", false };

	sv->state_dir = "/var/lib/corral";
	sv->socket = "/run/corral/corrald.sock";
	sv->cgroup_parent = "corral";
	sv->max_running = 4;
	sv->netns_pool = 4;
	sv->memory_reserve_bytes = 0;
	sv->poll_interval_ms = 1000;
	sv->drain_timeout_ms = 30000;
	sv->kill_grace_ms = 2000;
	sv->on_restart = POLICY_RESTART_ADOPT;
	/* above SUB_UID_MAX/SUB_GID_MAX of shadow's login.defs (600100000):
	 * useradd never hands these out as subordinate ids */
	sv->uid_first = 700000000;
	sv->uid_last = 700065535;
	sv->node_name = NULL;
	sv->heartbeat_interval_ms = 10000;
	sv->node_offline_after_ms = 90000;
	sv->gpus = 0;
	sv->cores = 0;
	sv->gpu_memory_bytes = 0;
	sv->labels = "";
	sv->lease_ms = 30000;
	sv->leader_lease_ms = 5000;
	sv->cluster_poll_ms = 200;
	sv->adopt_grace_ms = 30000;

	p->operators = (struct access_entry *)&root; /* never written through */
	p->n_operators = 1;
	p->allow_all = true;
	p->tenant_from = POLICY_TENANT_USER;
}

static void set_path(struct loader *ld, const struct raw_entry *e, const char **out, size_t max)
{
	if (!value_is_clean_path(e->value) || strcmp(e->value, "/") == 0) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "'%s' is not a clean absolute path; allowed: /dir/name without '.', "
			   "'..', '//', ':', spaces or a trailing '/'",
			   e->value);
		return;
	}
	if (strlen(e->value) > max) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "'%s' is too long; at most %zu characters are allowed", e->value, max);
		return;
	}
	*out = arena_strdup(ld->arena, e->value);
}

static void set_cgroup_parent(struct loader *ld, const struct raw_entry *e, const char **out)
{
	const char *v = e->value;
	char tmp[4096];

	/* Relative: below corrald's own cgroup.  Same rules as a path. */
	snprintf(tmp, sizeof(tmp), "%s%s", v[0] == '/' ? "" : "/", v);
	if (!value_is_clean_path(tmp) || strcmp(tmp, "/") == 0) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "'%s' is not a cgroup path; allowed: a relative path below corrald's "
			   "cgroup (e.g. corral) or an absolute one, without '.', '..' or '//'",
			   v);
		return;
	}
	*out = arena_strdup(ld->arena, v);
}

static void set_uid_range(struct loader *ld, const struct raw_entry *e, struct policy *p)
{
	unsigned long long first, last;
	int used = 0;

	if (sscanf(e->value, "%llu-%llu%n", &first, &last, &used) != 2 || (size_t)used != strlen(e->value) ||
	    e->value[0] == '-' || e->value[0] == '+' || strchr(e->value, ' ')) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "'%s' is not a uid range; write FIRST-LAST, e.g. 700000000-700065535", e->value);
		return;
	}
	if (first < UID_RANGE_MIN || last > UID_RANGE_MAX || first > last) {
		errors_add(ld->errors, e->file, e->line, e->key,
			   "'%s' is out of range; allowed: FIRST-LAST with %d <= FIRST <= LAST <= %u",
			   e->value, UID_RANGE_MIN, UID_RANGE_MAX);
		return;
	}
	p->supervisor.uid_first = (uint32_t)first;
	p->supervisor.uid_last = (uint32_t)last;
}

/* A node name: as store_node_name_valid() (the store checks it again). */
static bool value_is_node_name(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 63 || v[0] == '-' || v[0] == '.')
		return false;
	return strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* "gpu, ssd fast" -> "gpu,ssd,fast": names, at most 32, each a node name. */
static void set_labels(struct loader *ld, const struct raw_entry *e, const char **out)
{
	char *copy = arena_strdup(ld->arena, e->value), *save = NULL;
	char joined[512] = "";
	size_t used = 0, count = 0;

	if (!copy)
		return;
	for (char *w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		if (!value_is_node_name(w) || ++count > 32 || used + strlen(w) + 2 > sizeof(joined)) {
			errors_add(ld->errors, e->file, e->line, e->key,
				   "'%s' is not a label list; allowed: at most 32 names of letters, digits, "
				   ". _ - separated by commas or blanks, 500 characters in all",
				   e->value);
			return;
		}
		used += (size_t)snprintf(joined + used, sizeof(joined) - used, "%s%s", used ? "," : "", w);
	}
	*out = arena_strdup(ld->arena, joined);
}

void settings_supervisor(struct loader *ld, struct policy *p, const struct raw_section *s)
{
	struct policy_supervisor *sv = &p->supervisor;
	unsigned first[SK_COUNT] = { 0 };

	for (size_t i = s->first; i < s->first + s->count; i++) {
		const struct raw_entry *e = &ld->entries[i];
		uint64_t v;
		int k;

		k = (int)build_key_index(supervisor_keys, SK_COUNT, e->key);
		if (k == SK_COUNT) {
			build_unknown_key(ld, s, e, supervisor_keys);
			continue;
		}
		if (!build_key_once(ld, &first[k], e))
			continue;
		switch ((enum supervisor_key)k) {
		case SK_STATE_DIR:
			set_path(ld, e, &sv->state_dir, 1024);
			break;
		case SK_SOCKET:
			/* sockaddr_un.sun_path holds 108 bytes with the NUL. */
			set_path(ld, e, &sv->socket, 107);
			break;
		case SK_CGROUP_PARENT:
			set_cgroup_parent(ld, e, &sv->cgroup_parent);
			break;
		case SK_ON_RESTART:
			if (strcmp(e->value, "adopt") == 0)
				sv->on_restart = POLICY_RESTART_ADOPT;
			else if (strcmp(e->value, "kill") == 0)
				sv->on_restart = POLICY_RESTART_KILL;
			else
				errors_add(ld->errors, e->file, e->line, e->key,
					   "'%s' is not allowed; allowed: adopt, kill", e->value);
			break;
		case SK_UID_RANGE:
			set_uid_range(ld, e, p);
			break;
		case SK_STORE:
			/* A path or URI the store checks when corrald opens it; only
			 * its shape here (the store's URI parser is not policy's). */
			if (!e->value[0] || strlen(e->value) > 1024 || strpbrk(e->value, " \t\n"))
				errors_add(ld->errors, e->file, e->line, e->key,
					   "'%s' is not a store; allowed: a database path, sqlite:PATH or "
					   "postgresql://... (at most 1024 characters, no spaces)",
					   strncmp(e->value, "postgres", 8) == 0 ? "postgresql://..."
										 : e->value);
			else
				sv->store = arena_strdup(ld->arena, e->value);
			break;
		case SK_NODE_NAME:
			if (!value_is_node_name(e->value))
				errors_add(ld->errors, e->file, e->line, e->key,
					   "'%s' is not a node name; allowed: 1-63 letters, digits, . _ - "
					   "(not starting with . or -)",
					   e->value);
			else
				sv->node_name = arena_strdup(ld->arena, e->value);
			break;
		case SK_LABELS:
			set_labels(ld, e, &sv->labels);
			break;
		case SK_LEASE:
		case SK_LEADER_LEASE:
		case SK_CLUSTER_POLL:
		case SK_ADOPT_GRACE:
			if (!value_parse_key(&supervisor_numbers[k], e->value, &v, ld->errors, e->file,
					     e->line))
				break;
			if (k == SK_LEASE)
				sv->lease_ms = v;
			else if (k == SK_LEADER_LEASE)
				sv->leader_lease_ms = v;
			else if (k == SK_CLUSTER_POLL)
				sv->cluster_poll_ms = v;
			else
				sv->adopt_grace_ms = v;
			break;
		case SK_HEARTBEAT_INTERVAL:
		case SK_NODE_OFFLINE_AFTER:
		case SK_GPUS:
		case SK_GPU_MEMORY:
		case SK_CORES:
			if (!value_parse_key(&supervisor_numbers[k], e->value, &v, ld->errors, e->file,
					     e->line))
				break;
			if (k == SK_HEARTBEAT_INTERVAL)
				sv->heartbeat_interval_ms = v;
			else if (k == SK_NODE_OFFLINE_AFTER)
				sv->node_offline_after_ms = v;
			else if (k == SK_GPUS)
				sv->gpus = (uint32_t)v;
			else if (k == SK_CORES)
				sv->cores = (uint32_t)v;
			else
				sv->gpu_memory_bytes = v;
			if (k == SK_GPUS)
				sv->gpus_declared = true;
			if (k == SK_GPU_MEMORY)
				sv->gpu_memory_declared = true;
			break;
		case SK_MAX_RUNNING:
		case SK_NETNS_POOL:
		case SK_MEMORY_RESERVE:
		case SK_POLL_INTERVAL:
		case SK_DRAIN_TIMEOUT:
		case SK_KILL_GRACE:
			if (!value_parse_key(&supervisor_numbers[k], e->value, &v, ld->errors, e->file,
					     e->line))
				break;
			if (k == SK_MAX_RUNNING)
				sv->max_running = (uint32_t)v;
			else if (k == SK_NETNS_POOL)
				sv->netns_pool = (uint32_t)v;
			else if (k == SK_MEMORY_RESERVE)
				sv->memory_reserve_bytes = v;
			else if (k == SK_POLL_INTERVAL)
				sv->poll_interval_ms = v;
			else if (k == SK_DRAIN_TIMEOUT)
				sv->drain_timeout_ms = v;
			else
				sv->kill_grace_ms = v;
			break;
		case SK_COUNT:
			break;
		}
	}
}

/* ---- [access] ------------------------------------------------------------ */

enum access_key { AK_OPERATORS, AK_USERS, AK_TENANT_FROM, AK_TENANT_MAP, AK_COUNT };
static const char *const access_keys[AK_COUNT + 1] = {
	"operators", "users", "tenant_from", "tenant_map", NULL,
};

/* "root @wheel alice" (also comma separated) appended to *list. */
static void add_names(struct loader *ld, const struct raw_entry *e, struct access_entry **list, size_t *n,
		      size_t *cap, bool *all)
{
	char *copy = arena_strdup(ld->arena, e->value);
	char *save = NULL;

	if (!copy)
		return;
	for (char *w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		bool group = w[0] == '@';
		const char *name = group ? w + 1 : w;

		if (all && strcmp(w, "*") == 0) {
			*all = true;
			continue;
		}
		if (!value_is_name(name)) {
			errors_add(ld->errors, e->file, e->line, e->key,
				   "'%s' is not a user or @group name; allowed: names of letters, "
				   "digits, _ . @ -%s",
				   w, all ? ", or * for everyone" : "");
			continue;
		}
		if (!arena_grow(ld->arena, (void **)list, cap, *n, sizeof(**list)))
			return;
		(*list)[*n].name = name;
		(*list)[*n].group = group;
		(*n)++;
	}
}

void settings_access(struct loader *ld, struct policy *p, const struct raw_section *s)
{
	unsigned first_tenant_from = 0;
	size_t cap_ops = 0, cap_users = 0, cap_maps = 0;
	struct nameset mapped_users = { 0 }; /* value: the index in tenant_maps */
	const struct nameset_entry *mapped;
	bool added;
	bool ops_set = false, users_set = false;

	for (size_t i = s->first; i < s->first + s->count; i++) {
		const struct raw_entry *e = &ld->entries[i];
		int k;

		k = (int)build_key_index(access_keys, AK_COUNT, e->key);
		switch ((enum access_key)k) {
		case AK_OPERATORS:
			if (!ops_set) { /* the file's list replaces the default (root) */
				p->operators = NULL;
				p->n_operators = 0;
				ops_set = true;
			}
			add_names(ld, e, &p->operators, &p->n_operators, &cap_ops, NULL);
			break;
		case AK_USERS:
			if (!users_set) {
				p->allow_all = false;
				users_set = true;
			}
			add_names(ld, e, &p->users_allowed, &p->n_users_allowed, &cap_users, &p->allow_all);
			break;
		case AK_TENANT_FROM:
			if (!build_key_once(ld, &first_tenant_from, e))
				break;
			if (strcmp(e->value, "user") == 0)
				p->tenant_from = POLICY_TENANT_USER;
			else if (strcmp(e->value, "group") == 0)
				p->tenant_from = POLICY_TENANT_GROUP;
			else
				errors_add(ld->errors, e->file, e->line, e->key,
					   "'%s' is not allowed; allowed: user (the Unix user name), "
					   "group (the primary group name)",
					   e->value);
			break;
		case AK_TENANT_MAP: {
			const char *colon = strchr(e->value, ':');
			char *unix_name, *tenant;

			unix_name = colon ? arena_strndup(ld->arena, e->value, (size_t)(colon - e->value))
					  : NULL;
			tenant = colon ? arena_strdup(ld->arena, colon + 1) : NULL;
			if (!unix_name || !tenant || !value_is_name(unix_name) || !value_is_name(tenant)) {
				errors_add(ld->errors, e->file, e->line, e->key,
					   "'%s' is not a mapping; write UNIX_USER:TENANT, e.g. "
					   "alice:research",
					   e->value);
				break;
			}
			mapped = nameset_add(ld->arena, &mapped_users, unix_name, strlen(unix_name),
					     p->n_tenant_maps, &added);
			if (mapped && !added)
				errors_add(ld->errors, e->file, e->line, e->key,
					   "user '%s' is already mapped to tenant '%s'", unix_name,
					   p->tenant_maps[mapped->value].tenant);
			if (!added ||
			    !arena_grow(ld->arena, (void **)&p->tenant_maps, &cap_maps, p->n_tenant_maps,
					sizeof(*p->tenant_maps)))
				break;
			p->tenant_maps[p->n_tenant_maps].unix_name = unix_name;
			p->tenant_maps[p->n_tenant_maps].tenant = tenant;
			p->n_tenant_maps++;
			break;
		}
		case AK_COUNT:
			build_unknown_key(ld, s, e, access_keys);
			break;
		}
	}
}

/* Checks across sections, after everything was read. */
void settings_check(struct loader *ld, struct policy *p, const struct raw_section *supervisor)
{
	const struct policy_supervisor *sv = &p->supervisor;
	uint64_t uids = (uint64_t)sv->uid_last - sv->uid_first + 1;

	if (sv->node_offline_after_ms < 2 * sv->heartbeat_interval_ms) {
		const char *file = supervisor ? supervisor->file : p->path;
		unsigned line = supervisor ? supervisor->line : 0;

		for (size_t i = 0; supervisor && i < supervisor->count; i++) {
			const struct raw_entry *e = &ld->entries[supervisor->first + i];

			if (strcmp(e->key, "node_offline_after") == 0 ||
			    strcmp(e->key, "heartbeat_interval") == 0)
				line = e->line;
		}
		errors_add(ld->errors, file, line, "node_offline_after",
			   "%" PRIu64 " ms is less than two heartbeat_intervals (%" PRIu64
			   " ms): a node would go offline between two heartbeats",
			   sv->node_offline_after_ms, sv->heartbeat_interval_ms);
	}
	if (sv->lease_ms < 4 * sv->cluster_poll_ms || sv->leader_lease_ms < 4 * sv->cluster_poll_ms) {
		const char *file = supervisor ? supervisor->file : p->path;
		unsigned line = supervisor ? supervisor->line : 0;

		for (size_t i = 0; supervisor && i < supervisor->count; i++) {
			const struct raw_entry *e = &ld->entries[supervisor->first + i];

			if (strcmp(e->key, "lease") == 0 || strcmp(e->key, "leader_lease") == 0 ||
			    strcmp(e->key, "cluster_poll") == 0)
				line = e->line;
		}
		errors_add(ld->errors, file, line, "lease",
			   "lease (%" PRIu64 " ms) and leader_lease (%" PRIu64
			   " ms) must each be at least four cluster_polls (%" PRIu64
			   " ms): a node renews once a cluster_poll and must see a failing renewal "
			   "before its lease ends",
			   sv->lease_ms, sv->leader_lease_ms, sv->cluster_poll_ms);
	}
	if (uids < sv->max_running) {
		const char *file = supervisor ? supervisor->file : p->path;
		unsigned line = supervisor ? supervisor->line : 0;

		/* Point at the uid_range (or max_running) line that decides it. */
		for (size_t i = 0; supervisor && i < supervisor->count; i++) {
			const struct raw_entry *e = &ld->entries[supervisor->first + i];

			if (strcmp(e->key, "uid_range") == 0 ||
			    (strcmp(e->key, "max_running") == 0 && line == supervisor->line))
				line = e->line;
		}

		errors_add(ld->errors, file, line, "uid_range",
			   "%" PRIu32 "-%" PRIu32 " holds %" PRIu64 " uids but max_running is %" PRIu32
			   "; every running jail needs its own uid",
			   sv->uid_first, sv->uid_last, uids, sv->max_running);
	}
}
