/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_node.h — the nodes of a store: every corrald that
 * uses a store is a node (one on a single host; many sharing a PostgreSQL).
 * A node joins with its capacity, heartbeats what is free, and the store
 * counts what it ran (started, succeeded, failed, cancelled, CPU charged)
 * in the same transactions that record it.
 *
 * Time here is the database's clock (corral_now_us(): PostgreSQL's
 * clock_timestamp(), SQLite's host clock), never a node's: a heartbeat's
 * age and a node's state are worked out where the heartbeats are stamped,
 * so nodes with skewed clocks agree on who is offline.
 *
 * A node is online while its last heartbeat is younger than the
 * offline_after it declared, offline after that or once it left (a clean
 * stop), draining when an operator drained it (it starts nothing new).
 * Rules of store.h apply: 0 or -errno with err filled.
 */
#ifndef CORRAL_SUPERVISOR_STORE_NODE_H
#define CORRAL_SUPERVISOR_STORE_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "supervisor/common/error.h"

struct store;

#define STORE_NODE_NAME_MAX 63    /* letters, digits, . _ - ; not starting with - or . */
#define STORE_NODE_LABELS_MAX 512 /* comma-separated names */

enum store_node_state { STORE_NODE_ONLINE = 0, STORE_NODE_DRAINING, STORE_NODE_OFFLINE };

/* One node.  Capacity and free are what the node last said; strings
 * loaded by the store are owned by the struct (store_node_list_free). */
struct store_node {
	char *name;
	char *incarnation; /* this corrald's run: a new random id at every start */
	char *version;
	char *labels; /* "gpu,ssd" or "" */
	int64_t started_at_us;
	int64_t offline_after_us; /* silent this long: offline */
	bool draining;
	/* capacity */
	int64_t cores;
	int64_t memory_bytes;
	int64_t slots; /* max_running */
	int64_t gpus;
	int64_t gpu_memory_bytes; /* per GPU */
	/* what is free, as of the last heartbeat */
	int64_t running;
	int64_t free_slots;
	int64_t free_memory_bytes;
	int64_t free_gpus;
	int64_t free_cpu_millis; /* cores less what running tasks asked for (--cpus), x 1000 */
	int64_t load_milli;      /* 1-minute load average x 1000 */
	/* read back only (store_node_list) */
	enum store_node_state state;
	int64_t heartbeat_age_us; /* on the database's clock */
	bool left;                /* stopped cleanly */
	int64_t tasks_started;    /* attempts started: a retried task counts each */
	int64_t tasks_succeeded, tasks_failed, tasks_cancelled;
	int64_t tasks_lost; /* ended supervisor_lost: the jail's end was lost */
	int64_t cpu_charged_us;
};

struct store_node_list {
	struct store_node *items;
	size_t count;
};

/* Join as node n (name, incarnation, version, labels, offline_after_us,
 * capacity and free are read): insert it, or take over the row of that
 * name (a restart, or another corrald with the same name: the older one's
 * heartbeats then fail with -ESTALE).  A drained node stays drained; its
 * statistics stay.  From now on this store counts starts, ends and
 * charges to n->name.  *draining (may be NULL) = the node's drain flag. */
int store_node_join(struct store *store, const struct store_node *n, bool *draining, struct error *err);
/* Stamp a heartbeat with what is free (running, free_*, load_milli of n
 * are read) and what a reload may have changed (offline_after_us, slots,
 * cores, memory_bytes, gpus, gpu_memory_bytes, labels); name and incarnation must
 * be the joined ones.  -ESTALE when
 * another corrald joined with this name since.  *draining as above. */
int store_node_heartbeat(struct store *store, const struct store_node *n, bool *draining, struct error *err);
/* A clean stop: the node is offline from now (its row and statistics stay). */
int store_node_leave(struct store *store, const char *name, const char *incarnation, struct error *err);
/* Every node, ordered by name, with its state and heartbeat age. */
int store_node_list(struct store *store, struct store_node_list *out, struct error *err);
void store_node_list_free(struct store_node_list *list);
/* Drain (true) or undrain a node by name; -ENOENT for an unknown one. */
int store_node_set_draining(struct store *store, const char *name, bool draining, struct error *err);
/* "online", "draining", "offline". */
const char *store_node_state_name(enum store_node_state state);
/* A valid node name (STORE_NODE_NAME_MAX, letters digits . _ -). */
bool store_node_name_valid(const char *name);

#endif
