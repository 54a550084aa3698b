/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/metrics.c — what GET /metrics shows, in the Prometheus
 * text format (0.0.4): counters and histograms the daemon's files feed
 * (submits, starts, ends by plan and reason, CPU charged by plan, queue
 * wait, spawn and run times, scheduler decisions, store commits, HTTP
 * requests by route and status, webhook attempts by result), and gauges read when the page is made
 * (queued and running by plan from the queue, tenants whose budget is used
 * up, the nodes' heartbeat ages from the store, the network namespace pool's
 * counters).  Plans, not tenants, label series: tenants can be many.
 * Base units: seconds.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/version.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/corrald/http_route.h"

struct series {
	char *labels; /* `plan="free",reason="exit_code"` */
	double value;
};

struct family {
	struct series *items;
	size_t n, cap;
};

#define N_BUCKETS 12
struct histogram {
	const double *bounds; /* N_BUCKETS, ascending; +Inf is implied */
	uint64_t counts[N_BUCKETS];
	uint64_t count;
	double sum;
};

static const double task_bounds[N_BUCKETS] = { 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600 };
static const double fast_bounds[N_BUCKETS] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
					       0.01,   0.025,   0.05,   0.1,   0.5,    1 };

enum { F_SUBMITTED, F_STARTED, F_ENDED, F_CPU, F_HTTP, F_WEBHOOK, F_COUNT };
enum { H_QUEUE_WAIT, H_SPAWN, H_RUN, H_SCHED, H_COMMIT, H_HTTP, H_COUNT };

struct metrics {
	struct family f[F_COUNT];
	struct histogram h[H_COUNT];
};

static const struct {
	const char *name, *help;
} family_info[F_COUNT] = {
	[F_SUBMITTED] = { "corral_tasks_submitted_total", "Tasks accepted into the queue, by plan." },
	[F_STARTED] = { "corral_tasks_started_total", "Task starts (attempts), by plan." },
	[F_ENDED] = { "corral_tasks_ended_total", "Tasks that ended, by plan and reason." },
	[F_CPU] = { "corral_cpu_charged_seconds_total", "CPU time charged to budgets, by plan." },
	[F_HTTP] = { "corral_http_requests_total",
		     "HTTP requests answered, by route, method and status code." },
	[F_WEBHOOK] = { "corral_webhook_attempts_total",
			"Result webhook attempts, by result (delivered, retry, failed)." },
};

static const struct {
	const char *name, *help;
	const double *bounds;
} histogram_info[H_COUNT] = {
	[H_QUEUE_WAIT] = { "corral_task_queue_wait_seconds", "Time from submit to start.", task_bounds },
	[H_SPAWN] = { "corral_task_spawn_seconds", "Time from start to the command running in its jail.",
		      fast_bounds },
	[H_RUN] = { "corral_task_run_seconds", "Time from start to end of a task.", task_bounds },
	[H_SCHED] = { "corral_scheduler_decision_seconds", "Time one scheduler decision took.", fast_bounds },
	[H_COMMIT] = { "corral_store_commit_seconds", "Time one store batch commit took.", fast_bounds },
	[H_HTTP] = { "corral_http_request_duration_seconds", "Time from an HTTP request to its answer.",
		     fast_bounds },
};

int metrics_create(struct daemon *d)
{
	d->metrics = calloc(1, sizeof(*d->metrics));
	if (!d->metrics)
		return -ENOMEM;
	for (int i = 0; i < H_COUNT; i++)
		d->metrics->h[i].bounds = histogram_info[i].bounds;
	return 0;
}

void metrics_free(struct daemon *d)
{
	if (!d->metrics)
		return;
	for (int i = 0; i < F_COUNT; i++) {
		for (size_t j = 0; j < d->metrics->f[i].n; j++)
			free(d->metrics->f[i].items[j].labels);
		free(d->metrics->f[i].items);
	}
	free(d->metrics);
	d->metrics = NULL;
}

static void add(struct daemon *d, int family, double v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add(struct daemon *d, int family, double v, const char *fmt, ...)
{
	struct family *f;
	char labels[256];
	va_list ap;

	if (!d->metrics)
		return;
	f = &d->metrics->f[family];
	va_start(ap, fmt);
	vsnprintf(labels, sizeof(labels), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->items[i].labels, labels) == 0) {
			f->items[i].value += v;
			return;
		}
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct series *p = realloc(f->items, cap * sizeof(*p));

		if (!p)
			return;
		f->items = p;
		f->cap = cap;
	}
	f->items[f->n].labels = strdup(labels);
	if (!f->items[f->n].labels)
		return;
	f->items[f->n++].value = v;
}

static void observe(struct daemon *d, int h, uint64_t us)
{
	struct histogram *x;
	double s = (double)us / 1e6;

	if (!d->metrics)
		return;
	x = &d->metrics->h[h];
	for (int i = 0; i < N_BUCKETS; i++)
		if (s <= x->bounds[i])
			x->counts[i]++;
	x->count++;
	x->sum += s;
}

/* The plan of a tenant now ("none" when it has none). */
static const char *plan_of(struct daemon *d, const char *tenant)
{
	struct policy_limits lim;

	if (!tenant || tenants_limits_for(d, tenant, &lim) < 0 || !lim.plan)
		return "none";
	return lim.plan;
}

void metrics_http_request(struct daemon *d, int route, unsigned status, uint64_t duration_us)
{
	add(d, F_HTTP, 1, "route=\"%s\",method=\"%s\",code=\"%u\"",
	    http_route_path((enum http_route_id)route),
	    route ? http_route_method((enum http_route_id)route) : "other", status);
	observe(d, H_HTTP, duration_us);
}

void metrics_task_submitted(struct daemon *d, const char *tenant)
{
	add(d, F_SUBMITTED, 1, "plan=\"%s\"", plan_of(d, tenant));
}

void metrics_task_started(struct daemon *d, const char *tenant, uint64_t queued_us)
{
	add(d, F_STARTED, 1, "plan=\"%s\"", plan_of(d, tenant));
	observe(d, H_QUEUE_WAIT, queued_us);
}

void metrics_task_spawned(struct daemon *d, uint64_t spawn_us)
{
	observe(d, H_SPAWN, spawn_us);
}

void metrics_task_ended(struct daemon *d, const char *tenant, const char *reason, uint64_t run_us, bool ran)
{
	add(d, F_ENDED, 1, "plan=\"%s\",reason=\"%s\"", plan_of(d, tenant), reason ? reason : "none");
	if (ran)
		observe(d, H_RUN, run_us);
}

void metrics_cpu_charged(struct daemon *d, const char *tenant, uint64_t cpu_us)
{
	add(d, F_CPU, (double)cpu_us / 1e6, "plan=\"%s\"", plan_of(d, tenant));
}

void metrics_webhook_attempt(struct daemon *d, const char *result)
{
	add(d, F_WEBHOOK, 1, "result=\"%s\"", result);
}

void metrics_sched_decision(struct daemon *d, uint64_t us)
{
	observe(d, H_SCHED, us);
}

void metrics_store_commit(struct daemon *d, uint64_t us)
{
	observe(d, H_COMMIT, us);
}

/* ---- the page ------------------------------------------------------------ */

struct page {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void put(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct page *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(p->buf ? p->buf + p->len : NULL, p->buf ? p->cap - p->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			p->oom = true;
			return;
		}
		if (p->buf && p->len + (size_t)n < p->cap) {
			p->len += (size_t)n;
			return;
		}
		size_t cap = p->cap ? p->cap * 2 : 16384;
		while (cap < p->len + (size_t)n + 1)
			cap *= 2;
		char *b = realloc(p->buf, cap);
		if (!b) {
			p->oom = true;
			return;
		}
		p->buf = b;
		p->cap = cap;
	}
}

static void put_family(struct page *p, const struct family *f, int i)
{
	put(p, "# HELP %s %s\n# TYPE %s counter\n", family_info[i].name, family_info[i].help,
	    family_info[i].name);
	for (size_t j = 0; j < f->n; j++)
		put(p, "%s{%s} %.17g\n", family_info[i].name, f->items[j].labels, f->items[j].value);
}

static void put_histogram(struct page *p, const struct histogram *h, int i)
{
	const char *name = histogram_info[i].name;

	put(p, "# HELP %s %s\n# TYPE %s histogram\n", name, histogram_info[i].help, name);
	for (int b = 0; b < N_BUCKETS; b++)
		put(p, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[b], (unsigned long long)h->counts[b]);
	put(p, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9g\n%s_count %llu\n", name,
	    (unsigned long long)h->count, name, h->sum, name, (unsigned long long)h->count);
}

static size_t budget_exhausted(struct daemon *d)
{
	struct policy_limits lim;
	size_t n = 0;

	for (size_t i = 0; i < d->user_buckets; i++) {
		for (struct duser *u = d->user_table[i]; u; u = u->hash_next) {
			uint64_t budget;

			if (queue_limits(d, u, &lim) < 0)
				continue;
			queue_refresh_month(d, u);
			budget = queue_user_budget_us(u, &lim);
			n += budget != LIMIT_NONE && u->used_us >= budget;
		}
	}
	return n;
}

/* queued and running by plan, from the in-memory queue */
static void put_queue(struct page *p, struct daemon *d)
{
	struct family queued = { 0 }, running = { 0 };
	struct metrics *saved = d->metrics, tmp = { 0 };

	d->metrics = &tmp;
	for (size_t i = 0; i < d->user_buckets; i++) {
		for (struct duser *u = d->user_table[i]; u; u = u->hash_next) {
			const char *plan = plan_of(d, u->name);

			add(d, 0, u->queued, "plan=\"%s\"", plan);
			add(d, 1, u->running, "plan=\"%s\"", plan);
		}
	}
	queued = tmp.f[0];
	running = tmp.f[1];
	d->metrics = saved;
	put(p,
	    "# HELP corral_tasks_queued Tasks waiting in the queue, by plan.\n# TYPE corral_tasks_queued gauge\n");
	for (size_t j = 0; j < queued.n; j++)
		put(p, "corral_tasks_queued{%s} %.17g\n", queued.items[j].labels, queued.items[j].value);
	put(p,
	    "# HELP corral_tasks_running Tasks running on this node, by plan.\n"
	    "# TYPE corral_tasks_running gauge\n");
	for (size_t j = 0; j < running.n; j++)
		put(p, "corral_tasks_running{%s} %.17g\n", running.items[j].labels, running.items[j].value);
	for (size_t j = 0; j < queued.n; j++)
		free(queued.items[j].labels);
	for (size_t j = 0; j < running.n; j++)
		free(running.items[j].labels);
	free(queued.items);
	free(running.items);
	put(p,
	    "# HELP corral_tenants_budget_exhausted Tenants (of those this corrald has seen) whose CPU budget "
	    "of the month is used up or suspended.\n# TYPE corral_tenants_budget_exhausted gauge\n"
	    "corral_tenants_budget_exhausted %zu\n",
	    budget_exhausted(d));
	put(p,
	    "# HELP corral_slots Tasks this node may run at once (max_running).\n# TYPE corral_slots gauge\n"
	    "corral_slots %u\n",
	    d->cfg->max_running);
}

static void put_nodes(struct page *p, struct daemon *d)
{
	struct store_node_list nodes;
	struct error err;

	if (store_node_list(d->store, &nodes, &err) < 0)
		return;
	put(p,
	    "# HELP corral_node_up Whether a node is online (1) or draining, offline or stopped (0).\n"
	    "# TYPE corral_node_up gauge\n");
	for (size_t i = 0; i < nodes.count; i++)
		put(p, "corral_node_up{node=\"%s\"} %d\n", nodes.items[i].name,
		    nodes.items[i].state == STORE_NODE_ONLINE);
	put(p,
	    "# HELP corral_node_heartbeat_age_seconds Time since a node's last heartbeat (the database's "
	    "clock).\n# TYPE corral_node_heartbeat_age_seconds gauge\n");
	for (size_t i = 0; i < nodes.count; i++)
		put(p, "corral_node_heartbeat_age_seconds{node=\"%s\"} %.6f\n", nodes.items[i].name,
		    (double)nodes.items[i].heartbeat_age_us / 1e6);
	store_node_list_free(&nodes);
}

/* The network namespaces made ahead for jails (netns_pool.c). */
static void put_netns_pool(struct page *p, const struct daemon *d)
{
	struct netns_pool_stats st;

	netns_pool_stats(d, &st);
	put(p,
	    "# HELP corral_netns_pool_ready Network namespaces made ahead, waiting for a jail.\n"
	    "# TYPE corral_netns_pool_ready gauge\ncorral_netns_pool_ready %zu\n"
	    "# HELP corral_netns_pool_used_total Jails started in a namespace made ahead.\n"
	    "# TYPE corral_netns_pool_used_total counter\ncorral_netns_pool_used_total %llu\n"
	    "# HELP corral_netns_pool_empty_total Jails started while the pool was empty (their clone made "
	    "the namespace).\n# TYPE corral_netns_pool_empty_total counter\ncorral_netns_pool_empty_total %llu\n"
	    "# HELP corral_netns_pool_failures_total Failed attempts to make a namespace ahead.\n"
	    "# TYPE corral_netns_pool_failures_total counter\ncorral_netns_pool_failures_total %llu\n"
	    "# HELP corral_netns_pool_child_cpu_seconds_total CPU time of the children that made them (lo "
	    "up, the fd); making the namespaces is corrald's own CPU.\n"
	    "# TYPE corral_netns_pool_child_cpu_seconds_total counter\n"
	    "corral_netns_pool_child_cpu_seconds_total %.6f\n",
	    st.ready, (unsigned long long)st.taken, (unsigned long long)st.missed,
	    (unsigned long long)st.failures, (double)st.child_cpu_us / 1e6);
}

char *metrics_render(struct daemon *d)
{
	struct page p = { 0 };

	put(&p,
	    "# HELP corral_build_info corrald's version.\n# TYPE corral_build_info gauge\n"
	    "corral_build_info{version=\"%s\"} 1\n",
	    version_string());
	for (int i = 0; d->metrics && i < F_COUNT; i++)
		put_family(&p, &d->metrics->f[i], i);
	for (int i = 0; d->metrics && i < H_COUNT; i++)
		put_histogram(&p, &d->metrics->h[i], i);
	put_queue(&p, d);
	put_netns_pool(&p, d);
	put_nodes(&p, d);
	if (p.oom) {
		free(p.buf);
		return NULL;
	}
	return p.buf;
}
