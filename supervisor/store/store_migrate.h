/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/store/store_migrate.h — growing out of one machine: a
 * single-host SQLite store copied into an empty PostgreSQL store, with the
 * same ids (`corral store migrate`).
 */
#ifndef CORRAL_SUPERVISOR_STORE_MIGRATE_H
#define CORRAL_SUPERVISOR_STORE_MIGRATE_H

#include <stdint.h>

#include "supervisor/common/error.h"
#include "supervisor/store/store.h"

struct store_migrate_counts {
	int64_t tasks, usage, adjustments, events;
	int64_t cpu_us; /* CPU charged in all months */
};

/* Copy the SQLite store from_uri (a path or sqlite:PATH; it must exist)
 * into the PostgreSQL store to_uri (postgresql://...; its schema is made
 * if missing; it must hold no tasks, usage or events): tasks, usage,
 * adjustments and events with their ids, in one transaction, verified
 * (counts and charged CPU equal on both sides) before it commits.  Nodes
 * and the leader lease are not copied.  -EINVAL for the wrong kinds of
 * store, -ENOTEMPTY for a target with data, -EIO when a copy or the
 * verification fails (nothing is committed then). */
int store_migrate(const char *from_uri, const char *to_uri, struct store_migrate_counts *out,
		  struct error *err);

#endif
