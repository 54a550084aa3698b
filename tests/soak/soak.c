/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/soak/soak.c — a soak run against a real corrald (root): several
 * tenants on different plans submit a mixed workload (short, long, failing,
 * timing-out, OOM, fork-bombing, output-flooding, CPU-limited, budget-burning
 * and cancelled tasks) for SOAK_SECONDS (default 600), some of them into
 * their concurrency limits and budgets.  Then every task must be terminal
 * with the right reason for its kind, each tenant's charged CPU must equal
 * the sum over its tasks (plus what the run pre-charged), no budget may be
 * overrun, no cgroup, mount or process may be left, and corrald's RSS and fd
 * count must not have grown.  Prints figures every ~10 s, a summary, and
 * ends with "N passed, N failed"; exits 1 on any failed check.
 *
 * Built and run by tests/soak/run.sh (no make needed); the daemon is
 * started through the integration harness (tests/lib/corrald.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tests/lib/test.h"
#include "tests/lib/corrald.h"
#include "tests/lib/corrald_inspect.h"
#include "tests/lib/corrald_socket.h"

#define MONTH "2031-03"
#define BUDGET_US 60000000LL           /* tight: monthly_cpu_hours = 1m */
#define PRECHARGE_US 55000000LL        /* so 5 s of CPU are left at the start */
#define BUDGET_SLACK_US (100000LL * 2) /* poll_interval x tight's max_concurrent x 1 CPU */

enum kind {
	K_SHORT,
	K_LONG,
	K_FAIL,
	K_TIMEOUT,
	K_OOM,
	K_FORKBOMB,
	K_FLOOD,
	K_CANCEL,
	K_BURN,
	K_CPULIMIT,
	K_COUNT
};

struct kind_info {
	const char *name;
	const char *fields;   /* submit fields after "user" */
	const char *expected; /* "state/reason" alternatives, blank-separated */
};

static const struct kind_info kinds[K_COUNT] = {
	[K_SHORT] = { "short", "\"argv\":[\"/bin/sh\",\"-c\",\"echo hi\"]", "succeeded/exit_code" },
	[K_LONG] = { "long", "\"argv\":[\"sleep\",\"2\"]", "succeeded/exit_code" },
	[K_FAIL] = { "failing", "\"argv\":[\"/bin/sh\",\"-c\",\"echo oops >&2; exit 3\"]",
		     "failed/exit_code" },
	[K_TIMEOUT] = { "timeout", "\"timeout_ms\":600,\"argv\":[\"sleep\",\"30\"]", "failed/timeout" },
	[K_OOM] = { "oom", "\"argv\":[\"tail\",\"-n\",\"1\",\"/dev/zero\"]", "failed/oom" },
	/* forks until pids.max refuses ("Cannot fork"), then the shell exits 2 */
	[K_FORKBOMB] = { "forkbomb",
			 "\"timeout_ms\":5000,\"argv\":[\"/bin/sh\",\"-c\",\"while :; do sleep 10 & done\"]",
			 "failed/exit_code failed/timeout" },
	[K_FLOOD] = { "flood", "\"argv\":[\"yes\"]", "failed/output_limit" },
	[K_CANCEL] = { "cancel", "\"argv\":[\"sleep\",\"30\"]", "cancelled/cancelled" },
	/* a burner of the tight plan: its timeout, or its budget ends it; queued
	 * ones are cancelled at the end once the budget is gone */
	[K_BURN] = { "burn", "\"timeout_ms\":1500,\"argv\":[\"/bin/sh\",\"-c\",\"while :; do :; done\"]",
		     "failed/timeout failed/budget cancelled/cancelled" },
	[K_CPULIMIT] = { "cpulimit",
			 "\"timeout_ms\":20000,\"argv\":[\"/bin/sh\",\"-c\",\"while :; do :; done\"]",
			 "failed/cpu_limit" },
};

struct tenant {
	const char *name;
	unsigned target; /* tasks kept outstanding */
	enum kind mix[8];
	size_t n_mix;
	long long budget_us; /* 0 = unlimited */
	long long precharge_us;
	unsigned seen_pending[6]; /* concurrency_limit, budget_exhausted, host_capacity, fair_share,
				      * budget_reserved, other */
	unsigned refused;
};

static struct tenant tenants[] = {
	{ "alice", 6, { K_SHORT, K_LONG, K_FAIL, K_FLOOD, K_CANCEL, K_SHORT }, 6, 0, 0, { 0 }, 0 },
	{ "bob", 5, { K_SHORT, K_LONG, K_TIMEOUT, K_CANCEL }, 4, 0, 0, { 0 }, 0 },
	{ "carol", 4, { K_OOM, K_FORKBOMB, K_SHORT, K_FAIL, K_TIMEOUT }, 5, 0, 0, { 0 }, 0 },
	{ "dave", 3, { K_BURN }, 1, BUDGET_US, PRECHARGE_US, { 0 }, 0 },
	{ "erin", 2, { K_CPULIMIT, K_SHORT }, 2, 0, 0, { 0 }, 0 },
};
#define N_TENANTS (sizeof(tenants) / sizeof(tenants[0]))

static const char *const policy_body =
	"[access]\noperators = root\n"
	"[plan free]\nmax_concurrent = 1\nmax_queued = 20\nmax_task_seconds = 10s\nmemory = 64M\npids = 32\n"
	"output_limit = 64K\n"
	"[plan pro]\nmax_concurrent = 3\nmax_queued = 50\nmax_task_seconds = 10s\nmemory = 96M\npids = 64\n"
	"output_limit = 256K\n"
	"[plan tight]\ninherit = pro\nmax_concurrent = 2\nmonthly_cpu_hours = 1m\n"
	"[plan capped]\ninherit = free\nmax_cpu_seconds = 1s\n"
	"[user alice]\nplan = pro\n[user bob]\nplan = free\n[user carol]\nplan = pro\n"
	"[user dave]\nplan = tight\n[user erin]\nplan = capped\n";

struct tracked {
	int64_t id;
	unsigned tenant;
	enum kind kind;
	bool done, cancel_sent;
	uint64_t cancel_at_ms;
	char state[16], reason[24];
	char message[160];
};

static struct corrald daemon_;
static struct tracked *tasks;
static size_t n_tasks, cap_tasks;
static unsigned passed, failed;
static unsigned refusals[32];
static char refusal_names[32][32];

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%s: ", ok ? "PASS" : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

static double offset_to_fixed_month(void)
{
	return test_offset_to(2031, 3, 15, 12, 0, 0);
}

static void count_refusal(const char *code)
{
	for (size_t i = 0; i < 32; i++) {
		if (!refusal_names[i][0])
			snprintf(refusal_names[i], sizeof(refusal_names[i]), "%s", code);
		if (strcmp(refusal_names[i], code) == 0) {
			refusals[i]++;
			return;
		}
	}
}

static unsigned outstanding(unsigned tenant)
{
	unsigned n = 0;

	for (size_t i = 0; i < n_tasks; i++)
		n += tasks[i].tenant == tenant && !tasks[i].done;
	return n;
}

static void submit_one(unsigned ti)
{
	struct tenant *t = &tenants[ti];
	enum kind k = t->mix[(size_t)rand() % t->n_mix];
	bool no_queue = strcmp(t->name, "bob") == 0 && rand() % 8 == 0;
	json_t *r = corrald_call(&daemon_, "{\"op\":\"submit\",\"user\":\"%s\",%s%s}", t->name,
				 kinds[k].fields, no_queue ? ",\"no_queue\":true" : "");
	struct tracked *x;

	if (!r || corrald_error_code(r)) {
		count_refusal(corrald_error_code(r));
		t->refused++;
		json_decref(r);
		return;
	}
	if (n_tasks == cap_tasks) {
		cap_tasks = cap_tasks ? cap_tasks * 2 : 1024;
		tasks = realloc(tasks, cap_tasks * sizeof(*tasks));
		if (!tasks)
			abort();
	}
	x = &tasks[n_tasks++];
	memset(x, 0, sizeof(*x));
	x->id = (int64_t)json_integer_value(json_object_get(json_object_get(r, "task"), "id"));
	x->tenant = ti;
	x->kind = k;
	if (k == K_CANCEL)
		x->cancel_at_ms = test_mono_ms() + (uint64_t)(rand() % 800);
	json_decref(r);
}

static void note_pending(struct tenant *t, const char *reason)
{
	static const char *const names[] = { "concurrency_limit", "budget_exhausted", "host_capacity",
					     "fair_share", "budget_reserved" };
	size_t i;

	for (i = 0; i < 5; i++)
		if (strcmp(reason, names[i]) == 0)
			break;
	t->seen_pending[i]++;
}

/* Status of every outstanding task; cancels that are due. */
static void poll_tasks(void)
{
	uint64_t now = test_mono_ms();

	for (size_t i = 0; i < n_tasks; i++) {
		struct tracked *x = &tasks[i];
		json_t *st;

		if (x->done)
			continue;
		if (x->kind == K_CANCEL && !x->cancel_sent && now >= x->cancel_at_ms) {
			json_t *r = corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}",
						 (long long)x->id);

			x->cancel_sent = true;
			json_decref(r);
		}
		st = corrald_status(&daemon_, x->id);
		if (!st)
			continue;
		if (strcmp(task_str(st, "state"), "queued") == 0 && task_str(st, "pending_reason")[0])
			note_pending(&tenants[x->tenant], task_str(st, "pending_reason"));
		snprintf(x->state, sizeof(x->state), "%s", task_str(st, "state"));
		snprintf(x->reason, sizeof(x->reason), "%s", task_str(st, "reason"));
		snprintf(x->message, sizeof(x->message), "%s", task_str(st, "message"));
		x->done = strcmp(x->state, "succeeded") == 0 || strcmp(x->state, "failed") == 0 ||
			strcmp(x->state, "cancelled") == 0;
		json_decref(st);
	}
}

static void precharge(void)
{
	char path[256], sql[256];
	sqlite3 *db;
	int r;

	snprintf(path, sizeof(path), "%s/corral.db", daemon_.dir);
	r = sqlite3_open(path, &db);
	for (size_t i = 0; r == SQLITE_OK && i < N_TENANTS; i++) {
		if (!tenants[i].precharge_us)
			continue;
		snprintf(sql, sizeof(sql),
			 "INSERT INTO usage (user_name, month, cpu_us) VALUES ('%s', '%s', %lld)",
			 tenants[i].name, MONTH, tenants[i].precharge_us);
		r = sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	if (r != SQLITE_OK) {
		fprintf(stderr, "soak: pre-charge the budget: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_close(db);
}

static void print_figures(uint64_t t0, const char *what)
{
	unsigned running = 0, queued = 0, done = 0;

	for (size_t i = 0; i < n_tasks; i++) {
		done += tasks[i].done;
		running += strcmp(tasks[i].state, "running") == 0;
		queued += strcmp(tasks[i].state, "queued") == 0;
	}
	printf("soak %s t=%5.1fs: tasks %zu (ended %u, running %u, queued %u), corrald rss %ld kB, fds %ld, "
	       "cgroup dirs %d\n",
	       what, (test_mono_ms() - t0) / 1000.0, n_tasks, done, running, queued, corrald_rss_kb(&daemon_),
	       corrald_fd_count(&daemon_), corrald_count_task_cgroups(&daemon_));
	fflush(stdout);
}

static bool expected(const struct tracked *x)
{
	char want[64], have[48];
	const char *p = kinds[x->kind].expected;

	snprintf(have, sizeof(have), "%s/%s", x->state, x->reason);
	while (*p) {
		size_t n = strcspn(p, " ");

		snprintf(want, sizeof(want), "%.*s", (int)n, p);
		if (strcmp(want, have) == 0)
			return true;
		p += n;
		p += *p == ' ';
	}
	return false;
}

int main(void)
{
	const char *env = getenv("SOAK_SECONDS");
	unsigned seconds = env ? (unsigned)atoi(env) : 600;
	unsigned seed = getenv("SOAK_SEED") ? (unsigned)atoi(getenv("SOAK_SEED")) : (unsigned)time(NULL);
	long rss_idle, fd_idle, rss_base = -1, fd_base = -1, rss_end, fd_end, netns_end;
	uint64_t t0, next_print, next_poll = 0;
	unsigned by_kind[K_COUNT][12] = { { 0 } }, wrong = 0;
	static const char *const reasons[12] = {
		"exit_code",   "signal",          "timeout",      "oom",
		"cpu_limit",   "budget",          "output_limit", "cancelled",
		"spawn_error", "supervisor_lost", "shutdown",     "other"
	};
	json_t *all;
	size_t i;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("soak: needs root (a real corrald with jails)\n0 passed, 1 failed\n");
		return 1;
	}
	if (seconds == 0)
		seconds = 1;
	srand(seed);
	printf("soak: %u s, seed %u, %zu tenants, corrald %s\n", seconds, seed, N_TENANTS,
	       test_build_path("corrald"));
	r = corrald_start(&daemon_,
			  "max_running = 6\npoll_interval = 100ms\nkill_grace = 200ms\ndrain_timeout = 2s\n"
			  "uid_range = 4200128-4200191\n",
			  policy_body, offset_to_fixed_month());
	if (r < 0) {
		printf("soak: corrald did not start: %s\n%s\n0 passed, 1 failed\n", strerror(-r),
		       corrald_log_tail(&daemon_));
		corrald_cleanup(&daemon_);
		return 1;
	}
	/* dave's budget: pre-charged so he runs into it within seconds */
	if (corrald_stop(&daemon_) != 0) {
		printf("soak: corrald did not stop cleanly\n0 passed, 1 failed\n");
		corrald_cleanup(&daemon_);
		return 1;
	}
	precharge();
	r = corrald_spawn(&daemon_, daemon_.clock_offset_s);
	if (r < 0) {
		printf("soak: corrald did not restart: %s\n0 passed, 1 failed\n", strerror(-r));
		corrald_cleanup(&daemon_);
		return 1;
	}
	rss_idle = corrald_rss_kb(&daemon_);
	/* the pool's namespaces come and go with the load: not a leak */
	fd_idle = corrald_fd_count(&daemon_) - corrald_netns_fd_count(&daemon_);
	t0 = test_mono_ms();
	next_print = t0 + 10000;
	printf("soak start: corrald pid %d, rss %ld kB, fds %ld (idle)\n", (int)daemon_.pid, rss_idle,
	       fd_idle);

	/* the workload */
	while (test_mono_ms() - t0 < (uint64_t)seconds * 1000u) {
		for (unsigned ti = 0; ti < N_TENANTS; ti++) {
			unsigned have = outstanding(ti);

			for (unsigned k = have; k < tenants[ti].target; k++)
				submit_one(ti);
		}
		if (test_mono_ms() >= next_poll) {
			poll_tasks();
			next_poll = test_mono_ms() + 200;
		}
		if (test_mono_ms() >= next_print) {
			print_figures(t0, "run ");
			if (rss_base < 0) {
				rss_base = corrald_rss_kb(&daemon_);
				fd_base = corrald_fd_count(&daemon_) - corrald_netns_fd_count(&daemon_);
			}
			next_print += 10000;
		}
		test_sleep_ms(20);
	}

	/* wind down: what is queued on an exhausted budget never starts */
	poll_tasks();
	for (i = 0; i < n_tasks; i++) {
		if (!tasks[i].done && strcmp(tasks[i].state, "queued") == 0 && tasks[i].kind == K_BURN) {
			json_t *c = corrald_call(&daemon_, "{\"op\":\"cancel\",\"id\":%lld}",
						 (long long)tasks[i].id);

			json_decref(c);
		}
	}
	for (uint64_t until = test_mono_ms() + 60000; test_mono_ms() < until;) {
		bool all_done = true;

		poll_tasks();
		for (i = 0; i < n_tasks; i++)
			all_done = all_done && tasks[i].done;
		if (all_done)
			break;
		test_sleep_ms(200);
	}
	test_sleep_ms(500); /* cgroup removal and netns teardown settle */
	print_figures(t0, "end ");
	rss_end = corrald_rss_kb(&daemon_);
	fd_end = corrald_fd_count(&daemon_) - corrald_netns_fd_count(&daemon_);
	netns_end = corrald_netns_fd_count(&daemon_);
	if (rss_base < 0) {
		rss_base = rss_idle;
		fd_base = fd_idle;
	}

	/* every task terminal, with the right reason */
	{
		unsigned not_done = 0;

		for (i = 0; i < n_tasks; i++) {
			struct tracked *x = &tasks[i];
			size_t ri;

			if (!x->done) {
				not_done++;
				if (not_done <= 10)
					printf("  task %lld (%s of %s) is %s\n", (long long)x->id,
					       kinds[x->kind].name, tenants[x->tenant].name, x->state);
				continue;
			}
			for (ri = 0; ri < 11 && strcmp(reasons[ri], x->reason) != 0; ri++)
				;
			by_kind[x->kind][ri]++;
			if (!expected(x)) {
				wrong++;
				if (wrong <= 20)
					printf("  task %lld (%s of %s): %s/%s \"%s\", expected %s\n",
					       (long long)x->id, kinds[x->kind].name, tenants[x->tenant].name,
					       x->state, x->reason, x->message, kinds[x->kind].expected);
			}
		}
		check(not_done == 0, "every task is terminal (%u of %zu are not)", not_done, n_tasks);
		check(wrong == 0, "every task ended with the reason of its kind (%u did not)", wrong);
	}
	all = corrald_list(&daemon_, NULL);
	{
		size_t open = 0;
		json_t *t;

		json_array_foreach (all, i, t) {
			const char *s = task_str(t, "state");

			open += strcmp(s, "queued") == 0 || strcmp(s, "running") == 0;
		}
		check(all && json_array_size(all) == n_tasks && open == 0,
		      "the store holds exactly the %zu acknowledged tasks, none open (%zu listed, %zu open)",
		      n_tasks, all ? json_array_size(all) : 0, open);
	}

	/* CPU: charged == sum of the tasks (+ pre-charge); budgets held */
	for (unsigned ti = 0; ti < N_TENANTS; ti++) {
		struct tenant *t = &tenants[ti];
		long long sum = t->precharge_us, used = corrald_usage_used(&daemon_, t->name, MONTH);
		json_t *x;

		json_array_foreach (all, i, x)
			if (strcmp(task_str(x, "user"), t->name) == 0)
				sum += task_int(x, "cpu_us");
		check(used == sum, "%s: charged CPU %lld us == pre-charge + sum of its tasks %lld us",
		      t->name, used, sum);
		/* the documented bound (corral.conf(5), BUDGETS): corrald looks at
		 * least every poll_interval, so a budget is overrun by at most
		 * that x the CPUs of the tenant's running tasks (tight: 2 x 1) */
		if (t->budget_us)
			check(used <= t->budget_us + BUDGET_SLACK_US,
			      "%s: used %lld us <= budget %lld us + %lld us (overrun: %lld us)", t->name,
			      used, t->budget_us, (long long)BUDGET_SLACK_US,
			      used > t->budget_us ? used - t->budget_us : 0);
	}
	json_decref(all);
	{
		/* used up, or all of what is left held by his running tasks */
		unsigned budget_hits = tenants[3].seen_pending[1] + tenants[3].seen_pending[4] +
			by_kind[K_BURN][5];

		check(tenants[1].seen_pending[0] > 0,
		      "bob ran into his concurrency limit (%u queued sightings)", tenants[1].seen_pending[0]);
		check(budget_hits > 0,
		      "dave ran into his budget (%u sightings of budget_exhausted or budget_reserved, %u tasks ended by it)",
		      tenants[3].seen_pending[1] + tenants[3].seen_pending[4], by_kind[K_BURN][5]);
	}

	/* nothing left behind, nothing grew */
	{
		int cgroups = corrald_count_task_cgroups(&daemon_), procs = corrald_count_processes(&daemon_),
		    mounts = corrald_count_mounts(&daemon_);

		check(cgroups == 0, "no task cgroup left (%d)", cgroups);
		check(procs == 0, "no process left below the daemon's cgroup parent (%d)", procs);
		check(mounts == 0, "no mount left under the state dir (%d)", mounts);
	}
	check(fd_end >= 0 && fd_end <= fd_idle + 2,
	      "corrald's fds did not grow: idle start %ld, end %ld (10 s: %ld; its pool's namespaces not "
	      "counted)",
	      fd_idle, fd_end, fd_base);
	check(netns_end >= 0 && netns_end <= 4 + 1,
	      "corrald holds no more network namespaces than its pool's 4 and its own (%ld)", netns_end);
	check(rss_end >= 0 && rss_end <= rss_base + rss_base / 4 + 4096,
	      "corrald's RSS did not grow: %ld kB at 10 s, %ld kB at the end (idle start %ld kB; tolerance 25%% + 4 MiB)",
	      rss_base, rss_end, rss_idle);
	r = corrald_stop(&daemon_);
	check(r == 0, "corrald stopped cleanly on SIGTERM (exit %d)", r);
	check(corrald_count_task_cgroups(&daemon_) == 0, "no task cgroup left after the stop");

	/* summary */
	printf("\nsoak summary: %u s, seed %u, %zu tasks acknowledged\n", seconds, seed, n_tasks);
	for (int k = 0; k < K_COUNT; k++) {
		unsigned total = 0;

		for (int ri = 0; ri < 12; ri++)
			total += by_kind[k][ri];
		printf("  %-9s %5u:", kinds[k].name, total);
		for (int ri = 0; ri < 12; ri++)
			if (by_kind[k][ri])
				printf(" %s %u", reasons[ri], by_kind[k][ri]);
		printf("\n");
	}
	printf("  refused submits:");
	for (i = 0; i < 32 && refusal_names[i][0]; i++)
		printf(" %s %u", refusal_names[i], refusals[i]);
	printf("\n  pending sightings: bob concurrency_limit %u, dave budget_exhausted %u, budget_reserved %u\n",
	       tenants[1].seen_pending[0], tenants[3].seen_pending[1], tenants[3].seen_pending[4]);
	printf("  corrald rss kB: idle start %ld, at 10 s %ld, end %ld; fds: idle start %ld, at 10 s %ld, end %ld\n",
	       rss_idle, rss_base, rss_end, fd_idle, fd_base, fd_end);
	corrald_cleanup(&daemon_);
	free(tasks);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
