/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/node_gpu.c — the GPUs this node offers: declared in
 * [supervisor] (`gpus`, `gpu_memory`), else what `nvidia-smi` reports at
 * start.  A declaration always wins (a host without NVIDIA's tools, a test
 * with fake GPUs, an operator keeping some GPUs out of corral's hands).
 *
 * nvidia-smi is looked up in corrald's PATH and run once at start, with no
 * shell, no stdin, a closed environment but PATH, and a 5 s limit: it is
 * killed past that (a wedged driver makes it hang) and the node then has no
 * GPUs.  Its answer, one line per GPU with its memory in MiB, is parsed by
 * node_gpu_parse (pure, unit-tested).  The node's memory per GPU is the
 * smallest GPU's: a task asking --gpu-memory must fit on any of them, since
 * GPUs are counted, not yet assigned one by one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"

#define NVIDIA_SMI_TIMEOUT_MS 5000
#define NVIDIA_SMI_OUTPUT_MAX 65536

int node_gpu_parse(const char *text, uint32_t *count, uint64_t *min_memory_bytes)
{
	uint32_t n = 0;
	uint64_t min = 0;
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[64];
		char *end;
		unsigned long long mib;

		while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
			len--;
		while (len && *p == ' ')
			p++, len--;
		if (len) {
			if (len >= sizeof(line))
				return -EINVAL;
			memcpy(line, p, len);
			line[len] = '\0';
			errno = 0;
			mib = strtoull(line, &end, 10);
			/* "[N/A]", "[Not Supported]", a negative or absurd size */
			if (errno || *end || line[0] == '-' || mib == 0 || mib > (1ULL << 30))
				return -EINVAL;
			if (n == 1024)
				return -E2BIG;
			n++;
			if (!min || mib * 1024 * 1024 < min)
				min = mib * 1024 * 1024;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	*count = n;
	*min_memory_bytes = min;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run nvidia-smi, its stdout into buf (NUL-terminated).  0, -ENOENT when
 * it is not installed, other -errno when it failed or timed out. */
static int run_nvidia_smi(char *buf, size_t size)
{
	char *argv[] = { "nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits", NULL };
	char path_env[4096];
	char *envp[] = { path_env, NULL };
	const char *path = getenv("PATH");
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int pipefd[2], status = 0, r;
	size_t used = 0;
	uint64_t deadline;
	pid_t pid;

	snprintf(path_env, sizeof(path_env), "PATH=%s",
		 path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	/* its signals as a fresh program's, whatever corrald blocks or ignores */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	/* posix_spawnp searches PATH of the caller: the same as path_env */
	r = posix_spawnp(&pid, "nvidia-smi", &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r) {
		close(pipefd[0]);
		return -r;
	}
	deadline = now_ms() + NVIDIA_SMI_TIMEOUT_MS;
	for (;;) {
		uint64_t now = now_ms();
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		ssize_t n;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			r = -ETIMEDOUT;
			break;
		}
		if (poll(&pfd, 1, (int)(deadline - now)) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			kill(pid, SIGKILL);
			break;
		}
		if (!pfd.revents)
			continue;
		n = read(pipefd[0], buf + used, size - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* end of its output */
		used += (size_t)n;
		if (used == size - 1) {
			kill(pid, SIGKILL);
			r = -E2BIG;
			break;
		}
	}
	close(pipefd[0]);
	buf[used] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r)
		return r;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return -ENOENT;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

void node_gpu_detect(struct daemon *d)
{
	_cleanup_free_ char *out = malloc(NVIDIA_SMI_OUTPUT_MAX);
	uint32_t count = 0;
	uint64_t mem = 0;
	int r;

	d->detected_gpus = 0;
	d->detected_gpu_memory_bytes = 0;
	if (!out)
		return;
	r = run_nvidia_smi(out, NVIDIA_SMI_OUTPUT_MAX);
	if (r == -ENOENT) {
		log_debug(
			"no nvidia-smi in PATH: this node has no GPUs unless [supervisor] gpus declares them");
		return;
	}
	if (r < 0) {
		log_warning("nvidia-smi %s: this node offers no GPUs (declare them with [supervisor] gpus)",
			    r == -ETIMEDOUT ? "did not answer within 5 s" : "failed");
		return;
	}
	if (node_gpu_parse(out, &count, &mem) < 0) {
		log_warning(
			"nvidia-smi's answer is not one GPU memory size in MiB per line: this node offers "
			"no GPUs (declare them with [supervisor] gpus)");
		return;
	}
	d->detected_gpus = count;
	d->detected_gpu_memory_bytes = mem;
	if (count)
		log_notice("nvidia-smi: %u GPUs, the smallest with %llu MiB", count,
			   (unsigned long long)(mem >> 20));
}

void node_gpu_apply(struct daemon *d)
{
	d->node_gpus = d->cfg->gpus_declared ? d->cfg->gpus : d->detected_gpus;
	d->node_gpu_memory_bytes = d->cfg->gpu_memory_declared ? d->cfg->gpu_memory_bytes
							       : d->detected_gpu_memory_bytes;
}
