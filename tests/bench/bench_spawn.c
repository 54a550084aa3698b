/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/bench/bench_spawn.c — how long a fully isolated jail of /bin/true
 * takes, spawn to exit (all namespaces, cgroup with limits, seccomp, mounts),
 * against a bare fork+exec of /bin/true measured in the same run.
 *
 * Usage: bench_spawn [N]  (default 200).  Needs root.  Prints medians, p90
 * and the ratio; the phases of one jail are timed separately as well.
 * "netns made ahead": each jail in a network namespace made before its
 * spawn (untimed), as corrald's pool gives them.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/internal.h"
#include "runner/jail.h"
#include "tests/lib/bench.h"

static uint64_t phase_sum[6];
static size_t phase_n;

static uint64_t bare_once(void)
{
	uint64_t t0 = bench_now_us();
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	return bench_now_us() - t0;
}

/* A network namespace with lo up, as corrald's pool makes them (not
 * timed): this process goes in and comes back.  Its fd. */
static int netns_made_ahead(void)
{
	int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), fd = -1, sock;
	struct ifreq ifr;

	if (own < 0 || unshare(CLONE_NEWNET) < 0) {
		perror("bench_spawn: a new network namespace");
		exit(1);
	}
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", sizeof("lo"));
	if (sock >= 0 && ioctl(sock, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(sock, SIOCSIFFLAGS, &ifr) == 0)
			fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	}
	if (sock >= 0)
		close(sock);
	if (setns(own, CLONE_NEWNET) < 0 || fd < 0) {
		perror("bench_spawn: lo up in a new network namespace");
		exit(1);
	}
	close(own);
	return fd;
}

/* made ahead for the next jail_once()s (all before the series, as a
 * pool makes them while idle), taken from the end; NULL = none */
static int *made_ahead;
static size_t n_made_ahead;

static uint64_t jail_once(const struct jail_spec *spec)
{
	struct jail_result res;
	struct jail_error err;
	struct jail *j;
	struct jail_spec pooled = *spec;
	uint64_t t0;

	if (n_made_ahead) {
		pooled.netns_fd = made_ahead[--n_made_ahead];
		spec = &pooled;
	}
	t0 = bench_now_us();

	if (jail_spawn(spec, &j, &err) < 0) {
		fprintf(stderr, "bench_spawn: %s\n", err.message);
		exit(1);
	}
	phase_sum[0] += j->t_cgroup - t0;
	phase_sum[1] += j->t_clone - j->t_cgroup;
	phase_sum[2] += j->t_maps - j->t_clone;
	phase_sum[3] += j->t_started - j->t_maps;
	if (jail_wait(j, &res, &err) < 0 || res.status != JAIL_OK) {
		fprintf(stderr, "bench_spawn: jail ended %s: %s\n", jail_status_name(res.status),
			err.message);
		exit(1);
	}
	phase_sum[4] += j->t_reaped - j->t_started;
	phase_sum[5] += bench_now_us() - j->t_reaped;
	phase_n++;
	jail_free(j);
	if (spec == &pooled)
		close(pooled.netns_fd);
	return bench_now_us() - t0;
}

static void print_phases(const uint64_t sum[6], size_t n)
{
	printf("    mean phases (ms): cgroup %.3f, clone3 %.3f, maps+attach %.3f, setup+exec %.3f, "
	       "run+exit %.3f, finish %.3f\n",
	       sum[0] / 1000.0 / n, sum[1] / 1000.0 / n, sum[2] / 1000.0 / n, sum[3] / 1000.0 / n,
	       sum[4] / 1000.0 / n, sum[5] / 1000.0 / n);
}

static void run_series(const char *label, const struct jail_spec *spec, uint64_t *v, size_t n,
		       uint64_t bare_median)
{
	uint64_t med, p90;

	phase_n = 0;
	memset(phase_sum, 0, sizeof(phase_sum));
	for (size_t i = 0; i < n; i++)
		v[i] = spec ? jail_once(spec) : bare_once();
	med = bench_percentile_u64(v, n, 0.5);
	p90 = bench_percentile_u64(v, n, 0.9);
	printf("%-34s median %7.3f ms  p90 %7.3f ms", label, med / 1000.0, p90 / 1000.0);
	if (bare_median)
		printf("  ratio %.2fx", (double)med / (double)bare_median);
	printf("\n");
	if (phase_n)
		print_phases(phase_sum, phase_n);
}

/* The jail's /etc built in it or bound from a set prepared in sets,
 * alternating run by run (a shared machine's drift hits both alike). */
static void etc_interleaved(const struct jail_spec *spec, const char *sets, uint64_t *v, size_t n,
			    uint64_t bare_median)
{
	uint64_t *w = calloc(n, sizeof(*w)), sums[2][6] = { { 0 } };
	struct jail_error err;

	if (!w || jail_host_etc_prepare_in(sets, &err) < 0) {
		free(w);
		return;
	}
	jail_once(spec); /* the set made (~1.5 ms), not timed */
	for (size_t i = 0; i < 2 * n; i++) {
		bool prepared = i & 1;

		jail_host_etc_prepare_in(prepared ? sets : NULL, &err);
		phase_n = 0;
		memset(phase_sum, 0, sizeof(phase_sum));
		(prepared ? w : v)[i / 2] = jail_once(spec);
		for (size_t k = 0; k < 6; k++)
			sums[prepared][k] += phase_sum[k];
	}
	jail_host_etc_prepare_in(NULL, &err);
	for (int prepared = 0; prepared < 2; prepared++) {
		uint64_t *x = prepared ? w : v, med = bench_percentile_u64(x, n, 0.5);

		printf("%-34s median %7.3f ms  p90 %7.3f ms  ratio %.2fx\n",
		       prepared ? "jail: /etc prepared (interleaved)" : "jail: /etc built (interleaved)",
		       med / 1000.0, bench_percentile_u64(x, n, 0.9) / 1000.0,
		       (double)med / (double)bare_median);
		print_phases(sums[prepared], n);
	}
	free(w);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200;
	char *const args[] = { "/bin/true", NULL };
	const char *build = getenv("CORRAL_BUILD");
	char init_path[4096], etc_base[] = "/tmp/bench-spawn-etc-XXXXXX", etc_sets[64], cmd[96];
	struct jail_error err;
	struct jail_spec spec;
	uint64_t *v, bare;

	if (geteuid() != 0) {
		fprintf(stderr, "bench_spawn: needs root\n");
		return 1;
	}
	/* this binary lives below the build dir, not beside corral-init */
	snprintf(init_path, sizeof(init_path), "%s/corral-init", build && *build ? build : "build");
	if (jail_set_init_path(init_path, &err) < 0) {
		fprintf(stderr, "bench_spawn: %s\n", err.message);
		return 1;
	}
	if (n < 5)
		n = 5;
	v = calloc(n, sizeof(*v));
	jail_spec_init(&spec);
	spec.argv = args;
	spec.host_uid = spec.host_gid = 3100000 + (uid_t)(getpid() % 1000);
	spec.memory_bytes = 256 << 20;
	spec.pids_max = 64;
	spec.cpu_millis = 1000;
	spec.cgroup_parent = "corral-bench";

	/* warm up: page cache, seccomp compile, cgroup discovery */
	for (int i = 0; i < 5; i++) {
		bare_once();
		jail_once(&spec);
	}
	printf("bench_spawn: %zu runs each of /bin/true\n", n);
	run_series("bare fork+exec", NULL, v, n, 0);
	bare = bench_percentile_u64(v, n, 0.5);
	run_series("jail: full isolation", &spec, v, n, bare);
	/* corrald's pool (supervisor/corrald/netns_pool.c) */
	made_ahead = calloc(n, sizeof(*made_ahead));
	for (n_made_ahead = 0; made_ahead && n_made_ahead < n; n_made_ahead++)
		made_ahead[n_made_ahead] = netns_made_ahead();
	usleep(200000); /* what the kernel does after making them, done */
	run_series("jail: netns made ahead", &spec, v, n, bare);
	free(made_ahead);
	run_series("jail: full isolation (again)", &spec, v, n, bare);
	/* corrald's and corral-run's /etc made once, bound (runner/host_etc_dir.c) */
	if (mkdtemp(etc_base) && chmod(etc_base, 0755) == 0) {
		snprintf(etc_sets, sizeof(etc_sets), "%s/etc", etc_base);
		etc_interleaved(&spec, etc_sets, v, n, bare);
		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", etc_base);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_spawn: could not remove %s\n", etc_base);
	}
	spec.seccomp = JAIL_SECCOMP_NONE;
	run_series("jail: without seccomp", &spec, v, n, bare);
	spec.seccomp = JAIL_SECCOMP_DEFAULT;
	spec.memory_bytes = 0;
	spec.pids_max = 0;
	spec.cpu_millis = 0;
	run_series("jail: no cgroup limits", &spec, v, n, bare);
	run_series("bare fork+exec (again)", NULL, v, n, 0);
	free(v);
	jail_cleanup_cgroup_parent(spec.cgroup_parent);
	return 0;
}
