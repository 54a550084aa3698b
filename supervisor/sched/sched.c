/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/sched/sched.c — the scheduler (see sched.h for the contract and the
 * fairness algorithm).  Pure: no I/O, no globals, no allocation, no clock.
 *
 * One decision: classify every user by their head task (O(users)), heapify
 * the eligible ones by (start tag, head task's submit_seq, user index), then
 * repeatedly start the top user's head task and sift it down with its next
 * head, until host slots, the output array or the heap run out
 * (O(starts * log users)).  Users still in the heap at the end are waiting on
 * fair share (someone started this round) or host slots (nobody could).
 */
#include "supervisor/sched/sched.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "supervisor/sched/admission.h"

static_assert(SCHED_NO_LIMIT == ADMISSION_UNLIMITED, "one value for unlimited");

static uint64_t add_saturating(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t pass_increment(uint32_t weight)
{
	return SCHED_STRIDE / (weight ? weight : 1);
}

/* The CPU limit the task would start with (its reservation), given the
 * user's in-round running count and reservation: the budget rule of
 * supervisor/admission.h. */
static enum admission_verdict cpu_limit_for(const struct sched_input *in, const struct sched_user *u,
					    const struct sched_task *t, uint32_t running, uint64_t reserved,
					    uint64_t *limit)
{
	struct admission_tenant tenant = {
		.budget = u->budget,
		.used = u->used,
		.reserved = reserved,
		.running = running,
		/* the most of its tasks that can run at once */
		.slots = u->max_concurrent < in->host.max_running ? u->max_concurrent : in->host.max_running,
	};
	uint64_t want = min_u64(t->cpu_request ? t->cpu_request : SCHED_NO_LIMIT, u->max_cpu);

	return admission_cpu_limit(&tenant, want, t->wall_cpu_bound, in->min_cpu, limit);
}

static enum sched_pending_reason budget_reason(enum admission_verdict v)
{
	return v == ADMISSION_BUDGET_RESERVED ? SCHED_PENDING_BUDGET_RESERVED : SCHED_PENDING_BUDGET;
}

static uint64_t host_memory_free(const struct sched_host *h)
{
	if (h->memory == SCHED_NO_LIMIT)
		return SCHED_NO_LIMIT;
	return h->memory_reserved >= h->memory ? 0 : h->memory - h->memory_reserved;
}

static bool heap_less(const struct sched_heap_item *a, const struct sched_heap_item *b)
{
	if (a->key != b->key)
		return a->key < b->key;
	if (a->head_seq != b->head_seq)
		return a->head_seq < b->head_seq;
	return a->user < b->user;
}

static void heap_sift_down(struct sched_heap_item *heap, size_t n, size_t i)
{
	struct sched_heap_item item = heap[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= n)
			break;
		if (child + 1 < n && heap_less(&heap[child + 1], &heap[child]))
			child++;
		if (!heap_less(&heap[child], &item))
			break;
		heap[i] = heap[child];
		i = child;
	}
	heap[i] = item;
}

static void heap_build(struct sched_heap_item *heap, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		heap_sift_down(heap, n, i);
}

static void heap_pop(struct sched_heap_item *heap, size_t *n)
{
	heap[0] = heap[--*n];
	if (*n > 0)
		heap_sift_down(heap, *n, 0);
}

static bool user_range_valid(const struct sched_input *in, const struct sched_user *u)
{
	return u->first_task <= in->n_tasks && u->n_tasks <= in->n_tasks - u->first_task;
}

static bool input_valid(const struct sched_input *in)
{
	if (!in || (in->n_users && !in->users) || (in->n_tasks && !in->tasks))
		return false;
	return in->n_users <= UINT32_MAX;
}

/* Why this user's head task cannot start, given the user's in-round running
 * count and reservation and the host memory free; NONE if it can. */
static enum sched_pending_reason head_blocked_by(const struct sched_input *in, const struct sched_user *u,
						 size_t next, uint32_t running, uint64_t reserved,
						 uint64_t memory_free, uint32_t gpus_free, uint64_t cpus_free)
{
	const struct sched_task *head = &in->tasks[u->first_task + next];
	enum admission_verdict v;
	uint64_t limit;

	if (running >= u->max_concurrent)
		return SCHED_PENDING_CONCURRENCY;
	v = cpu_limit_for(in, u, head, running, reserved, &limit);
	if (v != ADMISSION_START)
		return budget_reason(v);
	if (head->memory_bytes > memory_free)
		return SCHED_PENDING_HOST_MEMORY;
	if (head->gpus > gpus_free)
		return SCHED_PENDING_HOST_GPUS;
	if (head->cpu_millis > cpus_free)
		return SCHED_PENDING_HOST_CPUS;
	return SCHED_PENDING_NONE;
}

void sched_note_started(uint64_t *virtual_time, uint64_t *user_pass, uint32_t weight)
{
	uint64_t start_tag = *user_pass > *virtual_time ? *user_pass : *virtual_time;
	*virtual_time = start_tag;
	*user_pass = add_saturating(start_tag, pass_increment(weight));
}

int sched_decide(const struct sched_input *in, struct sched_output *out)
{
	if (!input_valid(in) || !out || (in->n_users && (!out->reasons || !out->scratch)) ||
	    (out->starts_capacity && !out->starts))
		return -EINVAL;

	const struct sched_host *host = &in->host;
	uint32_t free_slots = host->max_running > host->running && !host->draining
		? host->max_running - host->running
		: 0;
	uint64_t memory_free = host_memory_free(host);
	uint32_t gpus_free = host->gpus > host->gpus_reserved ? host->gpus - host->gpus_reserved : 0;
	uint64_t cpus_free = host->cpu_millis > host->cpu_millis_reserved
		? host->cpu_millis - host->cpu_millis_reserved
		: 0;
	uint64_t memory_started = 0;
	struct sched_heap_item *heap = out->scratch;
	size_t heap_n = 0;

	out->n_starts = 0;
	for (size_t i = 0; i < in->n_users; i++) {
		const struct sched_user *u = &in->users[i];
		if (!user_range_valid(in, u))
			return -EINVAL;
		if (u->n_tasks == 0) {
			out->reasons[i] = SCHED_PENDING_NONE;
			continue;
		}
		enum sched_pending_reason r = head_blocked_by(in, u, 0, u->running, u->reserved, memory_free,
							      gpus_free, cpus_free);
		if (r != SCHED_PENDING_NONE) {
			out->reasons[i] = r;
			continue;
		}
		out->reasons[i] = SCHED_PENDING_HOST_SLOTS;
		heap[heap_n++] = (struct sched_heap_item){
			.key = u->pass > in->virtual_time ? u->pass : in->virtual_time,
			.head_seq = in->tasks[u->first_task].submit_seq,
			.reserved = u->reserved,
			.user = (uint32_t)i,
			.running = u->running,
			.next = 0,
		};
	}
	heap_build(heap, heap_n);

	while (heap_n > 0 && free_slots > 0 && out->n_starts < out->starts_capacity) {
		struct sched_heap_item *top = &heap[0];
		const struct sched_user *u = &in->users[top->user];
		size_t task_index = u->first_task + top->next;
		const struct sched_task *t = &in->tasks[task_index];
		enum admission_verdict v;
		uint64_t cpu_limit;

		/* Memory may have gone to users served earlier this round; the
		 * budget was checked when the item entered the heap. */
		if (t->memory_bytes > memory_free) {
			out->reasons[top->user] = SCHED_PENDING_HOST_MEMORY;
			heap_pop(heap, &heap_n);
			continue;
		}
		if (t->gpus > gpus_free) {
			out->reasons[top->user] = SCHED_PENDING_HOST_GPUS;
			heap_pop(heap, &heap_n);
			continue;
		}
		if (t->cpu_millis > cpus_free) {
			out->reasons[top->user] = SCHED_PENDING_HOST_CPUS;
			heap_pop(heap, &heap_n);
			continue;
		}
		v = cpu_limit_for(in, u, t, top->running, top->reserved, &cpu_limit);
		if (v != ADMISSION_START) {
			out->reasons[top->user] = budget_reason(v);
			heap_pop(heap, &heap_n);
			continue;
		}
		out->starts[out->n_starts++] = (struct sched_start){
			.user = top->user,
			.task = task_index,
			.task_id = t->id,
			.cpu_limit = cpu_limit,
			.memory_bytes = t->memory_bytes,
			.wall_limit = t->wall_limit,
		};
		free_slots--;
		if (memory_free != SCHED_NO_LIMIT)
			memory_free -= t->memory_bytes;
		gpus_free -= t->gpus;
		cpus_free -= t->cpu_millis;
		memory_started = add_saturating(memory_started, t->memory_bytes);
		top->running++;
		top->reserved = add_saturating(top->reserved, cpu_limit);
		top->next++;

		enum sched_pending_reason r = SCHED_PENDING_NONE;
		if (top->next < u->n_tasks)
			r = head_blocked_by(in, u, top->next, top->running, top->reserved, memory_free,
					    gpus_free, cpus_free);
		if (top->next == u->n_tasks || r != SCHED_PENDING_NONE) {
			out->reasons[top->user] = r;
			heap_pop(heap, &heap_n);
			continue;
		}
		top->key = add_saturating(top->key, pass_increment(u->weight));
		top->head_seq = in->tasks[u->first_task + top->next].submit_seq;
		heap_sift_down(heap, heap_n, 0);
	}

	/* Still eligible, not started: others went first, or the host was full. */
	enum sched_pending_reason leftover = host->draining ? SCHED_PENDING_NODE_DRAINING
		: out->n_starts > 0                         ? SCHED_PENDING_FAIR_SHARE
							    : SCHED_PENDING_HOST_SLOTS;
	for (size_t i = 0; i < heap_n; i++)
		out->reasons[heap[i].user] = leftover;

	out->host_running_after = host->running + (uint32_t)out->n_starts;
	out->host_memory_reserved_after = add_saturating(host->memory_reserved, memory_started);
	return 0;
}

int sched_queue_positions(const struct sched_input *in, struct sched_heap_item *scratch, uint32_t *positions)
{
	if (!input_valid(in) || (in->n_users && !scratch) || (in->n_tasks && !positions) ||
	    in->n_tasks > UINT32_MAX)
		return -EINVAL;

	struct sched_heap_item *heap = scratch;
	size_t heap_n = 0;
	for (size_t i = 0; i < in->n_tasks; i++)
		positions[i] = SCHED_NO_POSITION;
	for (size_t i = 0; i < in->n_users; i++) {
		const struct sched_user *u = &in->users[i];
		uint64_t limit;
		if (!user_range_valid(in, u))
			return -EINVAL;
		/* can the head ever start this month?  What running tasks hold
		 * comes back when they end, so only what is used counts */
		if (u->n_tasks == 0 || u->max_concurrent == 0 ||
		    cpu_limit_for(in, u, &in->tasks[u->first_task], 0, 0, &limit) != ADMISSION_START)
			continue;
		heap[heap_n++] = (struct sched_heap_item){
			.key = u->pass > in->virtual_time ? u->pass : in->virtual_time,
			.head_seq = in->tasks[u->first_task].submit_seq,
			.user = (uint32_t)i,
		};
	}
	heap_build(heap, heap_n);

	uint32_t rank = 0;
	while (heap_n > 0) {
		struct sched_heap_item *top = &heap[0];
		const struct sched_user *u = &in->users[top->user];
		positions[u->first_task + top->next] = ++rank;
		if (++top->next == u->n_tasks) {
			heap_pop(heap, &heap_n);
			continue;
		}
		top->key = add_saturating(top->key, pass_increment(u->weight));
		top->head_seq = in->tasks[u->first_task + top->next].submit_seq;
		heap_sift_down(heap, heap_n, 0);
	}
	return 0;
}

const char *sched_reason_name(enum sched_pending_reason reason)
{
	switch (reason) {
	case SCHED_PENDING_NONE:
		return "none";
	case SCHED_PENDING_CONCURRENCY:
		return "concurrency_limit";
	case SCHED_PENDING_BUDGET:
		return "budget_exhausted";
	case SCHED_PENDING_HOST_SLOTS:
	case SCHED_PENDING_HOST_MEMORY:
	case SCHED_PENDING_HOST_GPUS:
	case SCHED_PENDING_HOST_CPUS:
		return "host_capacity";
	case SCHED_PENDING_FAIR_SHARE:
		return "fair_share";
	case SCHED_PENDING_BUDGET_RESERVED:
		return "budget_reserved";
	case SCHED_PENDING_NODE_DRAINING:
		return "node_draining";
	}
	return "unknown";
}

/* Tasks started and CPU reserved for this user in the round `out` holds. */
static void user_round_totals(const struct sched_output *out, size_t user, uint32_t *started, uint64_t *cpu)
{
	*started = 0;
	*cpu = 0;
	for (size_t i = 0; out && i < out->n_starts; i++) {
		if (out->starts[i].user != user)
			continue;
		(*started)++;
		*cpu = add_saturating(*cpu, out->starts[i].cpu_limit);
	}
}

static double gibibytes(uint64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0 * 1024.0);
}

int sched_format_reason(char *buf, size_t size, const struct sched_input *in, const struct sched_output *out,
			size_t user, enum sched_pending_reason reason, const char *user_name,
			const char *plan_name, const char *month)
{
	if (!in || user >= in->n_users)
		return snprintf(buf, size, "%s: unknown user", user_name);

	const struct sched_user *u = &in->users[user];
	const struct sched_host *h = &in->host;
	uint32_t started;
	uint64_t started_cpu;
	user_round_totals(out, user, &started, &started_cpu);
	uint32_t host_running = out ? out->host_running_after : h->running;
	uint64_t host_reserved = out ? out->host_memory_reserved_after : h->memory_reserved;

	switch (reason) {
	case SCHED_PENDING_NONE:
		return snprintf(buf, size, "%s: nothing queued (plan %s)", user_name, plan_name);
	case SCHED_PENDING_CONCURRENCY:
		return snprintf(buf, size, "%s: %u/%u tasks running (plan %s)", user_name,
				u->running + started, u->max_concurrent, plan_name);
	case SCHED_PENDING_BUDGET:
	case SCHED_PENDING_BUDGET_RESERVED: {
		if (u->budget == SCHED_NO_LIMIT || (u->budget != 0 && u->max_cpu == 0))
			return snprintf(buf, size, "%s: the plan allows no CPU time per task (plan %s)",
					user_name, plan_name);
		/* used up: what running tasks hold is beside the point */
		return admission_format_budget(buf, size, user_name, plan_name, month, u->budget, u->used,
					       reason == SCHED_PENDING_BUDGET_RESERVED
						       ? add_saturating(u->reserved, started_cpu)
						       : 0,
					       u->running + started);
	}
	case SCHED_PENDING_HOST_GPUS:
	case SCHED_PENDING_HOST_CPUS: {
		bool cpus = reason == SCHED_PENDING_HOST_CPUS;
		const struct sched_task *next = started < u->n_tasks ? &in->tasks[u->first_task + started]
								     : NULL;
		uint64_t have = cpus ? h->cpu_millis : h->gpus;
		uint64_t used = cpus ? h->cpu_millis_reserved : h->gpus_reserved;
		double unit = cpus ? 1000.0 : 1.0; /* cores are counted in thousandths */

		for (size_t i = 0; out && i < out->n_starts; i++)
			used += cpus ? in->tasks[out->starts[i].task].cpu_millis
				     : in->tasks[out->starts[i].task].gpus;
		return snprintf(buf, size,
				"%s: waiting for %s on this host (next task needs %g, %g of %g free)",
				user_name, cpus ? "cores" : "GPUs",
				next ? (double)(cpus ? next->cpu_millis : next->gpus) / unit : 0.0,
				used < have ? (double)(have - used) / unit : 0.0, (double)have / unit);
	}
	case SCHED_PENDING_NODE_DRAINING:
		return snprintf(buf, size,
				"%s: this node is drained: nothing starts until an operator undrains it "
				"(corral node undrain)",
				user_name);
	case SCHED_PENDING_HOST_SLOTS:
		return snprintf(buf, size, "%s: waiting for a free slot on this host (%u/%u tasks running)",
				user_name, host_running, h->max_running);
	case SCHED_PENDING_HOST_MEMORY: {
		size_t next = started; /* the head now is the task after those started */
		uint64_t need = next < u->n_tasks ? in->tasks[u->first_task + next].memory_bytes : 0;
		uint64_t free_bytes = host_reserved >= h->memory ? 0 : h->memory - host_reserved;
		return snprintf(
			buf, size,
			"%s: waiting for memory on this host (next task needs %.1f GiB, %.1f GiB free)",
			user_name, gibibytes(need), gibibytes(free_bytes));
	}
	case SCHED_PENDING_FAIR_SHARE:
		return snprintf(
			buf, size,
			"%s: other users' tasks start first this round (fair share, weight %u, plan %s)",
			user_name, u->weight ? u->weight : 1, plan_name);
	}
	return snprintf(buf, size, "%s: unknown reason", user_name);
}
