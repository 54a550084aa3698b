/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/bench/bench_store.c — durable task admissions per second through
 * the store (supervisor/store/store.h), on each backend in the same run:
 * SQLite at synchronous=FULL as in production, and PostgreSQL on a server
 * this program starts (tests/lib/pg.h) with fsync=on and
 * synchronous_commit=on, its data dir in /tmp, over the Unix socket.
 *
 *   bench_store [-b sqlite|postgresql|both] [-d DIR] [-n SUBMITS_PER_RUN] [-r RUNS]
 *
 * Scenarios, each on a fresh database (SQLite: a file in DIR, default
 * /tmp; PostgreSQL: a new database), repeated RUNS times, medians printed:
 *   - 1 thread, one transaction (one fsync) per submit;
 *   - 4 threads, each its own connection, one transaction per submit
 *     (what 4 clients would cost if each had a connection; corrald instead
 *     serializes them through one);
 *   - 1 thread, batches of 1, 16 and 64 submits per transaction (the event
 *     loop's group commit), and 4 threads with batches of 16.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "supervisor/store/store.h"
#include "tests/lib/bench.h"
#include "tests/lib/pg.h"

/* The backend of this pass: NULL = SQLite, else the PostgreSQL server. */
static struct pg_server *pg_srv;

struct scenario {
	const char *name;
	int threads;
	int batch; /* submits per transaction; 0 = no batch (own transaction each) */
};

struct worker {
	const char *path;
	int submits;
	int batch;
	pthread_barrier_t *barrier;
	int result;
	char message[512]; /* a struct error's */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *fs_name(const char *dir)
{
	struct statfs st;

	if (statfs(dir, &st) < 0)
		return "unknown";
	switch ((unsigned long)st.f_type) {
	case 0xEF53:
		return "ext4 (or ext2/3)";
	case 0x58465342:
		return "xfs";
	case 0x9123683E:
		return "btrfs";
	case 0x01021994:
		return "tmpfs (no real fsync)";
	case 0x794c7630:
		return "overlayfs";
	case 0x2FC12FC1:
		return "zfs";
	case 0xF2F52010:
		return "f2fs";
	default:
		return "other";
	}
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct error err = { 0 };
	struct store *store = NULL;
	struct store_task t = {
		.user = "bench",
		.submitted_by_uid = 1000,
		.profile = "default",
		.argv_json = "[\"/usr/bin/python3\", \"-c\", \"print(sum(range(10**6)))\"]",
		.env_json = "{\"LANG\": \"C.UTF-8\", \"PATH\": \"/usr/bin:/bin\", \"HOME\": \"/work\"}",
		.cwd = "/work",
		.wall_limit_ms = 60000,
		.cpu_limit_us = 30000000,
		.memory_limit_bytes = 256 << 20,
	};
	struct store_options opts = { .busy_timeout_ms = 60000 };
	int r;

	w->result = store_open(w->path, &opts, &store, &err);
	pthread_barrier_wait(w->barrier);
	if (w->result < 0)
		goto out;
	for (int done = 0; done < w->submits;) {
		int n = w->batch > 0 ? w->batch : 1;

		if (n > w->submits - done)
			n = w->submits - done;
		if (w->batch > 0 && (r = store_batch_begin(store, &err)) < 0)
			goto fail;
		for (int i = 0; i < n; i++) {
			int64_t id;

			t.submitted_at_us = done + i;
			r = store_submit(store, &t, &id, &err);
			if (r < 0)
				goto fail;
		}
		if (w->batch > 0 && (r = store_batch_commit(store, &err)) < 0)
			goto fail;
		done += n;
	}
	goto out;
fail:
	w->result = r;
	store_batch_abort(store);
out:
	if (w->result < 0)
		snprintf(w->message, sizeof(w->message), "%s", err.message);
	store_close(store);
	return NULL;
}

static void remove_db(const char *path)
{
	char p[4200];

	if (strncmp(path, "postgresql:", 11) == 0) {
		const char *name = path + strlen("postgresql:///");

		snprintf(p, sizeof(p), "%.*s", (int)strcspn(name, "?"), name);
		pg_server_drop_db(pg_srv, p);
		return;
	}
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* A fresh database of this pass's backend: its store URI into path. */
static int make_db(const char *dir, const char *tag, char *path, size_t size)
{
	char name[32], why[512];

	if (!pg_srv) {
		snprintf(path, size, "%s/corral-bench-store-%s%d.db", dir, tag, (int)getpid());
		remove_db(path);
		return 0;
	}
	if (pg_server_create_db(pg_srv, name, sizeof(name), path, size, why, sizeof(why)) < 0) {
		fprintf(stderr, "bench_store: %s\n", why);
		return -1;
	}
	return 0;
}

/* One run: submits/s over all threads, or -1 on failure. */
static double run_once(const char *dir, const struct scenario *sc, int submits)
{
	char path[4096];
	struct error err = { 0 };
	struct store *store = NULL;
	pthread_barrier_t barrier;
	struct worker workers[16];
	pthread_t tids[16];
	double t0, t1;
	int ok = 1;

	if (make_db(dir, "", path, sizeof(path)) < 0)
		return -1;
	/* Create and migrate once, so threads do not race on the schema. */
	if (store_open(path, NULL, &store, &err) < 0) {
		fprintf(stderr, "bench_store: %s\n", err.message);
		return -1;
	}
	store_close(store);

	pthread_barrier_init(&barrier, NULL, (unsigned)sc->threads + 1);
	for (int i = 0; i < sc->threads; i++) {
		workers[i] = (struct worker){ .path = path,
					      .submits = submits / sc->threads,
					      .batch = sc->batch,
					      .barrier = &barrier };
		pthread_create(&tids[i], NULL, worker_run, &workers[i]);
	}
	pthread_barrier_wait(&barrier);
	t0 = now_s();
	for (int i = 0; i < sc->threads; i++)
		pthread_join(tids[i], NULL);
	t1 = now_s();
	pthread_barrier_destroy(&barrier);
	for (int i = 0; i < sc->threads; i++) {
		if (workers[i].result < 0) {
			fprintf(stderr, "bench_store: %s: %s\n", sc->name, workers[i].message);
			ok = 0;
		}
	}
	remove_db(path);
	return ok ? (double)(submits / sc->threads * sc->threads) / (t1 - t0) : -1;
}

/* Read calls per second on one connection over 100 stored tasks, or -1. */
static double read_once(const char *dir, bool get_task, int calls)
{
	char path[4096];
	struct error err = { 0 };
	struct store *store = NULL;
	struct store_task t = {
		.user = "bench",
		.submitted_by_uid = 1000,
		.profile = "default",
		.argv_json = "[\"/bin/true\"]",
		.wall_limit_ms = 1000,
	};
	int64_t id, count;
	double t0, t1;
	int r = 0;

	if (make_db(dir, "read-", path, sizeof(path)) < 0)
		return -1;
	if (store_open(path, NULL, &store, &err) < 0 || store_batch_begin(store, &err) < 0)
		goto fail;
	for (int i = 0; i < 100; i++) {
		t.submitted_at_us = i;
		if (store_submit(store, &t, &id, &err) < 0)
			goto fail;
	}
	if (store_batch_commit(store, &err) < 0)
		goto fail;
	t0 = now_s();
	for (int i = 0; i < calls && r == 0; i++) {
		if (get_task) {
			struct store_task got;

			r = store_get_task(store, 1 + i % 100, &got, &err);
			store_task_clear(&got);
		} else {
			r = store_count_queued(store, "bench", &count, &err);
		}
	}
	t1 = now_s();
	if (r < 0)
		goto fail;
	store_close(store);
	remove_db(path);
	return (double)calls / (t1 - t0);
fail:
	fprintf(stderr, "bench_store: reads: %s\n", err.message);
	store_close(store);
	remove_db(path);
	return -1;
}

/* Every scenario and the reads on this pass's backend; 0 or 1. */
static int run_all(const char *dir, int submits, int runs)
{
	static const struct scenario scenarios[] = {
		{ "1 thread, 1 submit/transaction", 1, 0 },
		{ "4 threads (4 connections), 1 submit/transaction", 4, 0 },
		{ "1 thread, batch of 1", 1, 1 },
		{ "1 thread, batch of 16", 1, 16 },
		{ "1 thread, batch of 64", 1, 64 },
		{ "4 threads (4 connections), batch of 16", 4, 16 },
	};
	const size_t count = sizeof(scenarios) / sizeof(scenarios[0]);
	double medians[sizeof(scenarios) / sizeof(scenarios[0])];

	printf("median of %d runs (the mean of the two middle ones when their number is even)\n", runs);
	for (size_t s = 0; s < count; s++) {
		double rates[100];

		printf("%-50s", scenarios[s].name);
		fflush(stdout);
		for (int i = 0; i < runs; i++) {
			rates[i] = run_once(dir, &scenarios[s], submits);
			if (rates[i] < 0)
				return 1;
		}
		medians[s] = bench_median_double(rates, (size_t)runs); /* sorts them */
		printf(" median %8.0f submits/s  (min %.0f, max %.0f)\n", medians[s], rates[0],
		       rates[runs - 1]);
	}
	for (int g = 1; g >= 0; g--) {
		double rates[100], median;

		printf("%-50s",
		       g ? "1 thread, store_get_task (no fsync)" : "1 thread, store_count_queued (no fsync)");
		fflush(stdout);
		for (int i = 0; i < runs; i++) {
			rates[i] = read_once(dir, g, submits * 20);
			if (rates[i] < 0)
				return 1;
		}
		median = bench_median_double(rates, (size_t)runs); /* sorts them */
		printf(" median %8.0f calls/s    (min %.0f, max %.0f)\n", median, rates[0], rates[runs - 1]);
	}
	printf("ratio batch of 16 / unbatched (1 thread): %.1fx\n", medians[3] / medians[0]);
	printf("ratio batch of 64 / unbatched (1 thread): %.1fx\n", medians[4] / medians[0]);
	printf("ratio 4 threads unbatched / 1 thread unbatched: %.2fx\n", medians[1] / medians[0]);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = "/tmp", *which = "both";
	int submits = 1000, runs = 5, opt, failed = 0;
	struct pg_server server;

	while ((opt = getopt(argc, argv, "b:d:n:r:")) != -1) {
		switch (opt) {
		case 'b':
			which = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'n':
			submits = atoi(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-b sqlite|postgresql|both] [-d DIR] [-n SUBMITS_PER_RUN] [-r RUNS]\n",
				argv[0]);
			return 2;
		}
	}
	if (submits < 64 || runs < 1 || runs > 99) {
		fprintf(stderr, "bench_store: need -n >= 64 and 1 <= -r <= 99\n");
		return 2;
	}
	if (strcmp(which, "both") != 0 && strcmp(which, "sqlite") != 0 && strcmp(which, "postgresql") != 0) {
		fprintf(stderr, "bench_store: -b takes sqlite, postgresql or both\n");
		return 2;
	}
	if (strcmp(which, "postgresql") != 0) {
		printf("bench_store: SQLite: %d submits per run, %d runs, synchronous=FULL, WAL, sqlite %s\n",
		       submits, runs, sqlite3_libversion());
		printf("bench_store: database in %s on %s\n", dir, fs_name(dir));
		failed |= run_all(dir, submits, runs);
	}
	if (strcmp(which, "sqlite") != 0) {
		char why[512] = "";

		if (pg_server_start(&server, true, why, sizeof(why)) < 0) {
			fprintf(stderr, "bench_store: SKIP PostgreSQL: %s\n", why);
			return failed || strcmp(which, "postgresql") == 0;
		}
		pg_srv = &server;
		printf("bench_store: PostgreSQL: %d submits per run, %d runs, fsync=on, "
		       "synchronous_commit=on, Unix socket, data in %s on %s\n",
		       submits, runs, server.dir, fs_name(server.dir));
		failed |= run_all(dir, submits, runs);
		pg_server_stop(&server);
		pg_srv = NULL;
	}
	return failed;
}
