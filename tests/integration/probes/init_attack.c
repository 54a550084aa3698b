/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/probes/init_attack.c — a hostile task against the jail's
 * pid 1, corral-init, run by tests/integration/test_init_attack.c.  Static.
 * Each check prints "NAME: ALLOWED ..." when the attack worked and
 * "NAME: blocked (why)" when it did not.
 *
 *   init_attack reach        every way into init: /proc/1/{exe,cwd,fd,fdinfo,
 *                            map_files,mem,environ,task/1/fd}, process_vm_readv,
 *                            pidfd_getfd, ptrace, SIGSTOP/SIGKILL from inside
 *   init_attack self         what the task holds: its fds (names), caps,
 *                            NoNewPrivs, Seccomp, dumpable; init's NoNewPrivs
 *   init_attack rlimit N     lower init's RLIMIT_FSIZE to 0 with prlimit64,
 *                            then write N bytes to stdout and exit 0
 *   init_attack cpu          lower init's RLIMIT_CPU to 1 s (init would be
 *                            SIGKILLed once it used one CPU second)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int allowed;

static void check(const char *what, long r)
{
	if (r < 0) {
		printf("%s: blocked (%s)\n", what, strerror(errno));
	} else {
		printf("%s: ALLOWED\n", what);
		allowed++;
	}
	fflush(stdout);
}

static void status_lines(const char *path, const char *const *keys)
{
	char line[256];
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		for (const char *const *k = keys; *k; k++)
			if (strncmp(line, *k, strlen(*k)) == 0)
				printf("%s %s", path, line);
	if (f)
		fclose(f);
	fflush(stdout);
}

/* open and write: some /proc files check at write time, not at open */
static long write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	long r;

	if (fd < 0)
		return -1;
	r = write(fd, text, strlen(text));
	close(fd);
	return r < 0 ? -1 : 0;
}

static int mode_reach(void)
{
	char buf[256];
	struct iovec local = { buf, sizeof(buf) }, remote = { (void *)0x10000, sizeof(buf) };
	int pidfd;

	check("readlink /proc/1/exe", readlink("/proc/1/exe", buf, sizeof(buf)));
	check("open /proc/1/exe", open("/proc/1/exe", O_RDONLY));
	check("readlink /proc/1/cwd", readlink("/proc/1/cwd", buf, sizeof(buf)));
	check("opendir /proc/1/fd", opendir("/proc/1/fd") ? 0 : -1);
	check("open /proc/1/fdinfo/3", open("/proc/1/fdinfo/3", O_RDONLY));
	check("opendir /proc/1/map_files", opendir("/proc/1/map_files") ? 0 : -1);
	check("open /proc/1/task/1/fd/3", open("/proc/1/task/1/fd/3", O_RDONLY));
	check("open /proc/1/task/1/mem", open("/proc/1/task/1/mem", O_RDONLY));
	check("open /proc/1/mem", open("/proc/1/mem", O_RDONLY));
	check("open /proc/1/environ", open("/proc/1/environ", O_RDONLY));
	check("open /proc/1/syscall", open("/proc/1/syscall", O_RDONLY));
	check("open /proc/1/stack", open("/proc/1/stack", O_RDONLY));
	check("write /proc/1/timerslack_ns", write_file("/proc/1/timerslack_ns", "1\n"));
	check("write /proc/1/comm", write_file("/proc/1/comm", "x\n"));
	check("write /proc/1/oom_score_adj", write_file("/proc/1/oom_score_adj", "1000\n"));
	check("process_vm_readv 1", process_vm_readv(1, &local, 1, &remote, 1, 0));
	check("process_vm_writev 1", process_vm_writev(1, &local, 1, &remote, 1, 0));
	check("ptrace attach 1", ptrace(PTRACE_ATTACH, 1, 0, 0));
	check("ptrace seize 1", ptrace(PTRACE_SEIZE, 1, 0, 0));
	pidfd = (int)syscall(SYS_pidfd_open, 1, 0);
	for (int fd = 0; pidfd >= 0 && fd < 16; fd++) {
		char what[64];

		snprintf(what, sizeof(what), "pidfd_getfd init fd %d", fd);
		check(what, syscall(SYS_pidfd_getfd, pidfd, fd, 0));
	}
	kill(1, SIGSTOP);
	usleep(100000);
	{
		char st[64] = "";
		FILE *f = fopen("/proc/1/stat", "r");

		if (f && fgets(st, sizeof(st), f))
			printf("init state after SIGSTOP: %c\n", strchr(st, ')') ? strchr(st, ')')[2] : '?');
		if (f)
			fclose(f);
	}
	kill(1, SIGKILL);
	usleep(100000);
	printf("init survived SIGKILL: %s\n", kill(1, 0) == 0 ? "yes" : "no");
	fflush(stdout);
	return 0;
}

static int mode_self(void)
{
	static const char *const keys[] = { "Cap", "NoNewPrivs", "Seccomp:", "Uid", NULL };
	static const char *const init_keys[] = { "NoNewPrivs", "Uid", "CapBnd", "CapEff", NULL };
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;

	while (dir && (e = readdir(dir)) != NULL) {
		char path[300], target[512];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		if (atoi(e->d_name) != dirfd(dir))
			printf("fd %s -> %s\n", e->d_name, target);
	}
	if (dir)
		closedir(dir);
	status_lines("/proc/self/status", keys);
	status_lines("/proc/1/status", init_keys);
	printf("dumpable: %d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	fflush(stdout);
	return 0;
}

static int mode_rlimit(size_t n)
{
	struct rlimit zero = { 0, 0 };
	static char block[65536];
	size_t left = n;

	check("prlimit init RLIMIT_FSIZE 0", syscall(SYS_prlimit64, 1, RLIMIT_FSIZE, &zero, NULL));
	memset(block, 'x', sizeof(block));
	while (left) {
		size_t k = left < sizeof(block) ? left : sizeof(block);
		ssize_t w = write(1, block, k);

		if (w <= 0)
			break;
		left -= (size_t)w;
	}
	return 0;
}

static int mode_cpu(void)
{
	struct rlimit one = { 1, 1 };

	check("prlimit init RLIMIT_CPU 1", syscall(SYS_prlimit64, 1, RLIMIT_CPU, &one, NULL));
	check("setpriority init 19", setpriority(PRIO_PROCESS, 1, 19));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "reach") == 0)
		return mode_reach();
	if (argc >= 2 && strcmp(argv[1], "self") == 0)
		return mode_self();
	if (argc >= 3 && strcmp(argv[1], "rlimit") == 0)
		return mode_rlimit((size_t)strtoull(argv[2], NULL, 10));
	if (argc >= 2 && strcmp(argv[1], "cpu") == 0)
		return mode_cpu();
	fprintf(stderr, "usage: init_attack reach|self|rlimit N|cpu\n");
	return 2;
}
