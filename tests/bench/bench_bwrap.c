/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/bench/bench_bwrap.c — corral-run against bubblewrap, spawn to exit
 * of /bin/true, every contender started the same way (fork, execve,
 * waitpid; stdio on /dev/null) and timed in the same run, round-robin (each
 * round runs every contender once, the order rotating), so a machine's
 * changing load hits all of them alike:
 *
 *   bare       fork+exec of /bin/true
 *   bwrap      bwrap --unshare-all --die-with-parent --new-session with
 *              /usr read-only, /bin /sbin /lib /lib64 as on the host,
 *              /proc, /dev, /tmp
 *   peer       the fair peer: the same bwrap, in a cgroup made for the run
 *              with corral-run's default limits (memory 1G without swap,
 *              pids 1024; in the same hierarchies corral uses: v1 memory
 *              and pids plus the unified tree on hybrid hosts, the unified
 *              tree on pure v2) and removed after it, with corral's default
 *              seccomp filter (bwrap --seccomp)
 *   corral-run corral-run --quiet -- /bin/true
 *
 * Usage: bench_bwrap [ROUNDS [REPEATS]]  (default 100 rounds, 3 repeats).
 * Root.  Prints each repeat's medians, then the median over the repeats of
 * each contender's median and of each ratio (corral-run / bare, corral-run /
 * bwrap, corral-run / peer).  Without bwrap it skips loudly (exit 0; with
 * CORRAL_MUST_WORK=1 it fails instead).  corral-run is $CORRAL_BUILD/corral-run
 * (default build/).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner/cgroup_layout.h"
#include "runner/seccomp.h"
#include "tests/lib/bench.h"

enum contender { BARE, BWRAP, PEER, CORRAL_RUN, N_CONTENDERS };

static const char *const names[N_CONTENDERS] = { "bare fork+exec", "bwrap --unshare-all",
						 "peer: bwrap+cgroup+seccomp", "corral-run" };

/* argv of each contender (NULL-terminated), built once */
static char *argvs[N_CONTENDERS][64];
static int seccomp_memfd = -1;

/* the peer's cgroup: leaf directories and limit files, per hierarchy */
#define PEER_DIRS 3
static char peer_dir[PEER_DIRS][PATH_MAX];
static size_t n_peer_dirs;
static char peer_limit_file[4][PATH_MAX + 64];
static const char *peer_limit_value[4];
static size_t n_peer_limits;

static void die(const char *what)
{
	fprintf(stderr, "bench_bwrap: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* snprintf that stops the bench on a path too long for its buffer */
static void __attribute__((format(printf, 3, 4))) format_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "bench_bwrap: path too long: %s...\n", buf);
		exit(1);
	}
}

static char *read_file(const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;
	ssize_t n;

	if (fd < 0)
		die(path);
	while ((n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	close(fd);
	buf[off] = '\0';
	return strdup(buf);
}

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		fprintf(stderr, "bench_bwrap: write '%s' to %s: %s\n", text, path, strerror(errno));
		exit(1);
	}
	close(fd);
}

/* bwrap's view of the host's top-level system dirs: a symlink stays one
 * (merged /usr), a directory is bound read-only. */
static size_t add_system_dirs(char **argv, size_t n)
{
	static const char *const dirs[] = { "/bin", "/sbin", "/lib", "/lib64" };
	static char targets[4][PATH_MAX];

	for (size_t i = 0; i < 4; i++) {
		struct stat st;
		ssize_t len;

		if (lstat(dirs[i], &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			len = readlink(dirs[i], targets[i], sizeof(targets[i]) - 1);
			if (len < 0)
				die(dirs[i]);
			targets[i][len] = '\0';
			argv[n++] = "--symlink";
			argv[n++] = targets[i];
		} else {
			argv[n++] = "--ro-bind";
			argv[n++] = (char *)dirs[i];
		}
		argv[n++] = (char *)dirs[i];
	}
	return n;
}

static size_t bwrap_argv(char **argv, const char *bwrap, bool with_seccomp)
{
	size_t n = 0;

	argv[n++] = (char *)bwrap;
	argv[n++] = "--unshare-all";
	argv[n++] = "--die-with-parent";
	argv[n++] = "--new-session";
	argv[n++] = "--ro-bind";
	argv[n++] = "/usr";
	argv[n++] = "/usr";
	n = add_system_dirs(argv, n);
	argv[n++] = "--proc";
	argv[n++] = "/proc";
	argv[n++] = "--dev";
	argv[n++] = "/dev";
	argv[n++] = "--tmpfs";
	argv[n++] = "/tmp";
	if (with_seccomp) {
		argv[n++] = "--seccomp";
		argv[n++] = "3";
	}
	argv[n++] = "/bin/true";
	argv[n] = NULL;
	return n;
}

/* corral's default filter, as bytes bwrap reads from fd 3. */
static void prepare_seccomp(void)
{
	struct jail_error err;
	const struct jail_filter *filter = seccomp_builtin(JAIL_SECCOMP_DEFAULT, &err);
	size_t size;

	if (!filter) {
		fprintf(stderr, "bench_bwrap: %s\n", err.message);
		exit(1);
	}
	size = filter->prog.len * sizeof(filter->prog.filter[0]);
	seccomp_memfd = memfd_create("bench-seccomp", MFD_CLOEXEC);
	if (seccomp_memfd < 0 || write(seccomp_memfd, filter->prog.filter, size) != (ssize_t)size)
		die("write the seccomp filter to a memfd");
}

static void add_peer_limit(const char *dir, const char *file, const char *value)
{
	format_path(peer_limit_file[n_peer_limits], sizeof(peer_limit_file[0]), "%s/%s", dir, file);
	peer_limit_value[n_peer_limits++] = value;
}

/* The peer's cgroup directories below our own cgroup in each hierarchy,
 * like corral's default parent. */
static void prepare_peer_cgroup(void)
{
	struct cgroup_layout *layout = calloc(1, sizeof(*layout));
	char *text, rel[PATH_MAX], leaf[64];
	const struct cgroup_hierarchy *h;

	if (!layout)
		die("calloc");
	text = read_file("/proc/self/mountinfo");
	cgroup_layout_parse_mountinfo(text, layout);
	free(text);
	text = read_file("/proc/self/cgroup");
	cgroup_layout_parse_self(text, layout);
	free(text);
	snprintf(leaf, sizeof(leaf), "peer-%d", (int)getpid());
	if (!layout->unified.mounted ||
	    cgroup_layout_relative(&layout->unified, "corral-bench", leaf, rel, sizeof(rel)) < 0) {
		fprintf(stderr, "bench_bwrap: no cgroup2 tree to place the peer in\n");
		exit(1);
	}
	format_path(peer_dir[n_peer_dirs++], PATH_MAX, "%s/%s", layout->unified.mount, rel);
	h = &layout->v1[CGROUP_MEMORY];
	if (h->mounted && h->own_known &&
	    cgroup_layout_relative(h, "corral-bench", leaf, rel, sizeof(rel)) == 0) {
		char probe[PATH_MAX + 64];

		format_path(peer_dir[n_peer_dirs], PATH_MAX, "%s/%s", h->mount, rel);
		add_peer_limit(peer_dir[n_peer_dirs], "memory.limit_in_bytes", "1073741824");
		format_path(probe, sizeof(probe), "%s/memory.memsw.limit_in_bytes", h->mount);
		if (access(probe, F_OK) == 0)
			add_peer_limit(peer_dir[n_peer_dirs], "memory.memsw.limit_in_bytes", "1073741824");
		n_peer_dirs++;
	} else {
		add_peer_limit(peer_dir[0], "memory.max", "1073741824");
	}
	h = &layout->v1[CGROUP_PIDS];
	if (h->mounted && h->own_known &&
	    cgroup_layout_relative(h, "corral-bench", leaf, rel, sizeof(rel)) == 0) {
		format_path(peer_dir[n_peer_dirs], PATH_MAX, "%s/%s", h->mount, rel);
		add_peer_limit(peer_dir[n_peer_dirs], "pids.max", "1024");
		n_peer_dirs++;
	} else {
		add_peer_limit(peer_dir[0], "pids.max", "1024");
	}
	/* the shared parents, once (corral-run keeps its "corral" parent too) */
	for (size_t i = 0; i < n_peer_dirs; i++) {
		char parent[PATH_MAX];

		format_path(parent, sizeof(parent), "%s", peer_dir[i]);
		*strrchr(parent, '/') = '\0';
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			die(parent);
	}
	free(layout);
}

static void remove_peer_parents(void)
{
	for (size_t i = 0; i < n_peer_dirs; i++) {
		char parent[PATH_MAX];

		format_path(parent, sizeof(parent), "%s", peer_dir[i]);
		*strrchr(parent, '/') = '\0';
		rmdir(parent);
	}
}

/* At any exit of the bench itself (die() too, not its children's exits):
 * the peer's leaf, if a run was cut short, and the shared parents, so a
 * failed run leaves no cgroup behind.  Empty ones only (rmdir). */
static pid_t bench_pid;

static void remove_peer_cgroups_at_exit(void)
{
	if (getpid() != bench_pid)
		return;
	for (size_t i = n_peer_dirs; i-- > 0;)
		rmdir(peer_dir[i]);
	remove_peer_parents();
}

/* rmdir, waiting out a cgroup whose last process is still on its way
 * out (bwrap's sandbox init exits after bwrap was reaped), as corral does */
static void remove_cgroup(const char *dir)
{
	struct timespec pause = { 0, 100000 };

	for (int i = 0; rmdir(dir) < 0; i++) {
		if (errno != EBUSY || i == 20000)
			die(dir);
		nanosleep(&pause, NULL);
	}
}

/* One run of contender c: its wall time in microseconds. */
static uint64_t run_once(enum contender c)
{
	uint64_t t0 = bench_now_us();
	int status;
	pid_t pid;

	if (c == PEER) {
		for (size_t i = 0; i < n_peer_dirs; i++)
			if (mkdir(peer_dir[i], 0755) < 0)
				die(peer_dir[i]);
		for (size_t i = 0; i < n_peer_limits; i++)
			write_text(peer_limit_file[i], peer_limit_value[i]);
	}
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(126);
		if (c == PEER) {
			char path[PATH_MAX + 64];

			for (size_t i = 0; i < n_peer_dirs; i++) {
				format_path(path, sizeof(path), "%s/cgroup.procs", peer_dir[i]);
				write_text(path, "0");
			}
			/* dup2 onto itself would keep close-on-exec */
			if ((seccomp_memfd == 3 ? fcntl(3, F_SETFD, 0) : dup2(seccomp_memfd, 3)) < 0 ||
			    lseek(3, 0, SEEK_SET) < 0)
				_exit(126);
		}
		execv(argvs[c][0], argvs[c]);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (c == PEER)
		for (size_t i = n_peer_dirs; i-- > 0;)
			remove_cgroup(peer_dir[i]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_bwrap: %s failed (wait status 0x%x); run it by hand to see why\n",
			names[c], status);
		exit(1);
	}
	return bench_now_us() - t0;
}

static const char *find_bwrap(void)
{
	static const char *const places[] = { "/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap" };

	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
		if (access(places[i], X_OK) == 0)
			return places[i];
	return NULL;
}

int main(int argc, char **argv)
{
	size_t rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	size_t repeats = argc > 2 ? strtoul(argv[2], NULL, 10) : 3;
	const char *build = getenv("CORRAL_BUILD");
	const char *must = getenv("CORRAL_MUST_WORK");
	const char *bwrap = find_bwrap();
	static char corral_run[PATH_MAX];
	uint64_t *samples[N_CONTENDERS], med[N_CONTENDERS][16];
	double ratio[3][16];
	double loads[3];

	if (!bwrap) {
		fprintf(stderr,
			"bench_bwrap: SKIP: bubblewrap is not installed (apt-get install bubblewrap, "
			"or make deps)\n");
		return must && strcmp(must, "1") == 0 ? 1 : 0;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench_bwrap: SKIP: needs root (corral-run and the peer's cgroup)\n");
		return must && strcmp(must, "1") == 0 ? 1 : 0;
	}
	if (rounds < 5)
		rounds = 5;
	if (repeats < 1 || repeats > 16)
		repeats = 3;
	format_path(corral_run, sizeof(corral_run), "%s/corral-run", build && *build ? build : "build");
	if (access(corral_run, X_OK) < 0)
		die(corral_run);

	argvs[BARE][0] = "/bin/true";
	bwrap_argv(argvs[BWRAP], bwrap, false);
	bwrap_argv(argvs[PEER], bwrap, true);
	argvs[CORRAL_RUN][0] = corral_run;
	argvs[CORRAL_RUN][1] = "--quiet";
	argvs[CORRAL_RUN][2] = "--";
	argvs[CORRAL_RUN][3] = "/bin/true";
	prepare_seccomp();
	prepare_peer_cgroup();
	bench_pid = getpid();
	atexit(remove_peer_cgroups_at_exit);

	for (int c = 0; c < N_CONTENDERS; c++) {
		samples[c] = calloc(rounds, sizeof(uint64_t));
		if (!samples[c])
			die("calloc");
		for (int w = 0; w < 3; w++) /* warm up: page cache, the parents */
			run_once((enum contender)c);
	}
	if (getloadavg(loads, 3) == 3)
		printf("bench_bwrap: %zu rounds x %zu repeats of /bin/true, load average %.2f %.2f %.2f\n",
		       rounds, repeats, loads[0], loads[1], loads[2]);
	printf("  bwrap:");
	for (char **a = argvs[PEER]; *a; a++)
		printf(" %s", *a);
	printf("\n");
	for (size_t r = 0; r < repeats; r++) {
		for (size_t i = 0; i < rounds; i++)
			for (int k = 0; k < N_CONTENDERS; k++) {
				int c = (int)((i + (size_t)k) % N_CONTENDERS);

				samples[c][i] = run_once((enum contender)c);
			}
		printf("repeat %zu:", r + 1);
		for (int c = 0; c < N_CONTENDERS; c++) {
			med[c][r] = bench_median_u64(samples[c], rounds);
			printf("  %s %.3f ms",
			       c == BARE            ? "bare"
				       : c == BWRAP ? "bwrap"
				       : c == PEER  ? "peer"
						    : "corral-run",
			       med[c][r] / 1000.0);
		}
		printf("\n");
		ratio[0][r] = (double)med[CORRAL_RUN][r] / (double)med[BARE][r];
		ratio[1][r] = (double)med[CORRAL_RUN][r] / (double)med[BWRAP][r];
		ratio[2][r] = (double)med[CORRAL_RUN][r] / (double)med[PEER][r];
	}
	printf("median of the %zu repeats' medians:\n", repeats);
	for (int c = 0; c < N_CONTENDERS; c++) {
		uint64_t m = bench_median_u64(med[c], repeats);

		printf("  %-28s %7.3f ms  %5.2fx bare\n", names[c], m / 1000.0,
		       (double)m / (double)bench_median_u64(med[BARE], repeats));
	}
	printf("  corral-run / bare  %.2fx  (target <= 4.5x)\n", bench_median_double(ratio[0], repeats));
	printf("  corral-run / bwrap %.2fx  (target <= 0.8x)\n", bench_median_double(ratio[1], repeats));
	printf("  corral-run / peer  %.2fx\n", bench_median_double(ratio[2], repeats));
	if (getloadavg(loads, 3) == 3)
		printf("  load average after: %.2f %.2f %.2f\n", loads[0], loads[1], loads[2]);
	for (int c = 0; c < N_CONTENDERS; c++)
		free(samples[c]);
	return 0;
}
