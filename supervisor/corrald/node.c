/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/node.c — this corrald as a node of its store
 * (supervisor/store/store_node.h): it joins at start with its capacity,
 * heartbeats what is free every heartbeat_interval, learns from the
 * heartbeat whether an operator drained it, and leaves on a clean stop.
 * A corrald whose node name another corrald took over stops (drains like
 * SIGTERM): two daemons never act as one node.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "supervisor/common/log.h"
#include "supervisor/common/version.h"
#include "supervisor/corrald/corrald.h"

static uint64_t meminfo_total_bytes(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

static int64_t load_milli(void)
{
	FILE *f = fopen("/proc/loadavg", "re");
	double load = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%lf", &load) != 1 || load < 0)
		load = 0;
	fclose(f);
	return (int64_t)(load * 1000.0 + 0.5);
}

/* The CPUs this process may run on (a cpuset or taskset narrows them). */
static uint32_t affinity_cores(void)
{
	cpu_set_t set;
	long online = sysconf(_SC_NPROCESSORS_ONLN);

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (uint32_t)CPU_COUNT(&set);
	return online > 0 ? (uint32_t)online : 1;
}

uint64_t node_cpu_capacity(const struct daemon *d)
{
	return (uint64_t)(d->cfg->cores ? d->cfg->cores : d->detected_cores) * 1000u;
}

/* The memory tasks may reserve here: memory_reserve, else the host's. */
static uint64_t memory_capacity(const struct daemon *d)
{
	return d->cfg->memory_reserve_bytes ? d->cfg->memory_reserve_bytes : d->node_memory_bytes;
}

static void fill(const struct daemon *d, struct store_node *n)
{
	uint64_t mem = memory_capacity(d), cpus = node_cpu_capacity(d);

	memset(n, 0, sizeof(*n));
	n->name = (char *)d->node_name;
	n->incarnation = (char *)d->node_incarnation;
	n->version = (char *)version_string();
	n->labels = (char *)d->cfg->labels;
	n->offline_after_us = (int64_t)d->cfg->node_offline_after_ms * 1000;
	n->cores = (int64_t)(cpus / 1000);
	n->memory_bytes = (int64_t)mem;
	n->slots = d->cfg->max_running;
	n->gpus = d->node_gpus;
	n->gpu_memory_bytes = (int64_t)d->node_gpu_memory_bytes;
	n->running = d->running_count;
	n->free_slots = d->cfg->max_running > d->running_count ? d->cfg->max_running - d->running_count : 0;
	n->free_memory_bytes = mem > d->memory_reserved ? (int64_t)(mem - d->memory_reserved) : 0;
	n->free_gpus = d->node_gpus > d->gpus_reserved ? d->node_gpus - d->gpus_reserved : 0;
	n->free_cpu_millis = cpus > d->cpu_millis_reserved ? (int64_t)(cpus - d->cpu_millis_reserved) : 0;
	n->load_milli = load_milli();
}

static void set_draining(struct daemon *d, bool draining)
{
	if (draining == d->node_draining)
		return;
	d->node_draining = draining;
	if (draining) {
		log_notice("node %s is drained: it starts nothing new; %u running tasks go on", d->node_name,
			   d->running_count);
	} else {
		log_notice("node %s is undrained: it starts tasks again", d->node_name);
		d->dispatch_needed = true;
	}
}

int node_join(struct daemon *d)
{
	unsigned char raw[16];
	struct store_node n;
	struct error err;
	bool draining = false;
	int r;

	if (d->cfg->node_name) {
		snprintf(d->node_name, sizeof(d->node_name), "%s", d->cfg->node_name);
	} else if (gethostname(d->node_name, sizeof(d->node_name)) < 0 || !d->node_name[0]) {
		return log_error_errno(errno ? -errno : -EINVAL,
				       "this host has no host name to use as its node name: set "
				       "[supervisor] node_name");
	}
	d->node_name[sizeof(d->node_name) - 1] = '\0';
	if (!store_node_name_valid(d->node_name)) {
		log_error("the host name '%s' is not a valid node name (1-63 letters, digits, . _ -): set "
			  "[supervisor] node_name",
			  d->node_name);
		return -EINVAL;
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return log_error_errno(-errno, "read random bytes for the node's incarnation");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(d->node_incarnation + 2 * i, 3, "%02x", raw[i]);
	d->node_memory_bytes = meminfo_total_bytes();
	d->detected_cores = affinity_cores();
	fill(d, &n);
	r = store_node_join(d->store, &n, &draining, &err);
	if (r < 0) {
		log_error("join the store as node %s: %s", d->node_name, err.message);
		return r;
	}
	d->node_joined = true;
	d->node_draining = draining;
	log_notice("node %s joined (incarnation %s)%s", d->node_name, d->node_incarnation,
		   draining ? "; it is drained: it starts nothing until `corral node undrain`" : "");
	d->next_heartbeat_mono_us = daemon_mono_us();
	return 0;
}

void node_heartbeat(struct daemon *d)
{
	struct store_node n;
	struct error err;
	bool draining = d->node_draining;
	int r;

	if (!d->node_joined || daemon_mono_us() < d->next_heartbeat_mono_us)
		return;
	d->next_heartbeat_mono_us = daemon_mono_us() + d->cfg->heartbeat_interval_ms * 1000;
	fill(d, &n);
	r = store_node_heartbeat(d->store, &n, &draining, &err);
	if (r == -ESTALE) {
		log_error("%s: another corrald took over node %s; this one stops", err.message, d->node_name);
		d->node_joined = false; /* it is not ours to leave */
		daemon_stop(d, "node taken over");
		return;
	}
	if (r < 0) {
		if (!d->heartbeat_failing)
			log_warning("heartbeat of node %s: %s (trying again every %llu ms)", d->node_name,
				    err.message, (unsigned long long)d->cfg->heartbeat_interval_ms);
		d->heartbeat_failing = true;
		return;
	}
	if (d->heartbeat_failing)
		log_notice("heartbeat of node %s works again", d->node_name);
	d->heartbeat_failing = false;
	set_draining(d, draining);
	tenants_refresh(d); /* records another node changed */
}

void node_set_draining(struct daemon *d, bool draining)
{
	set_draining(d, draining);
}

void node_leave(struct daemon *d)
{
	struct error err;

	if (!d->node_joined)
		return;
	if (store_node_leave(d->store, d->node_name, d->node_incarnation, &err) < 0)
		log_warning("leave node %s: %s", d->node_name, err.message);
	d->node_joined = false;
}

uint64_t node_next_event_mono_us(const struct daemon *d)
{
	return d->node_joined ? d->next_heartbeat_mono_us : 0;
}

/* label in the comma-joined list? */
static bool has_label(const char *list, const char *label, size_t len)
{
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, label, len) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

void node_capacity_self(const struct daemon *d, struct node_capacity *cap)
{
	cap->name = d->node_name;
	cap->memory_bytes = memory_capacity(d);
	cap->cpu_millis = node_cpu_capacity(d);
	cap->gpus = d->node_gpus;
	cap->gpu_memory_bytes = d->node_gpu_memory_bytes;
	cap->labels = d->cfg->labels;
}

bool node_capacity_fits(const struct node_capacity *cap, const struct dtask *t, uint64_t memory_bytes,
			char *buf, size_t size)
{
	const char *labels = cap->labels ? cap->labels : "";

	if (t->gpus > cap->gpus) {
		snprintf(buf, size, "needs %u GPUs; node %s has %u", t->gpus, cap->name, cap->gpus);
		return false;
	}
	if (t->gpus && t->gpu_memory_bytes > cap->gpu_memory_bytes) {
		snprintf(buf, size, "needs GPUs of %.1f GiB; node %s's have %.1f GiB",
			 (double)t->gpu_memory_bytes / (1 << 30), cap->name,
			 (double)cap->gpu_memory_bytes / (1 << 30));
		return false;
	}
	if (cap->cpu_millis && t->cpu_millis > cap->cpu_millis) {
		snprintf(buf, size, "needs %g CPUs; node %s has %g", (double)t->cpu_millis / 1000, cap->name,
			 (double)cap->cpu_millis / 1000);
		return false;
	}
	if (cap->memory_bytes && memory_bytes > cap->memory_bytes) {
		snprintf(buf, size, "needs %.1f GiB of memory; node %s has %.1f GiB",
			 (double)memory_bytes / (1 << 30), cap->name, (double)cap->memory_bytes / (1 << 30));
		return false;
	}
	for (const char *p = t->labels; p && *p;) {
		size_t n = strcspn(p, ",");

		if (n && !has_label(labels, p, n)) {
			snprintf(buf, size, "needs label %.*s; node %s offers %s", (int)n, p, cap->name,
				 labels[0] ? labels : "none");
			return false;
		}
		p += n + (p[n] == ',');
	}
	return true;
}

bool node_task_fits(const struct daemon *d, const struct dtask *t, uint64_t memory_bytes, char *buf,
		    size_t size)
{
	struct node_capacity self;

	node_capacity_self(d, &self);
	return node_capacity_fits(&self, t, memory_bytes, buf, size);
}
