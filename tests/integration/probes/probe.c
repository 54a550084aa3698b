/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/probes/probe.c — a hostile little program the
 * integration tests run inside jails.  Static, so it needs nothing from the
 * jail's /usr.  Each mode tries something a task must not be able to do (or
 * reports what it sees) and prints one line per attempt; the exit code is the
 * number of attempts that succeeded when they should not have.
 *
 *   probe syscalls        dangerous syscalls: must all fail
 *   probe writes          writes to /proc, /sys, /usr, /etc: must all fail
 *   probe net             any route out: must fail (and says whether lo is up)
 *   probe ids             uid/gid/caps/no_new_privs as seen inside
 *   probe memhog MB       allocate and touch MB megabytes
 *   probe forks N         fork up to N sleeping children; exit 0 if the pids limit stopped it
 *   probe kill PID        signal a host pid and everything visible
 *   probe x32             an x32-ABI syscall (must be killed by seccomp)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
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
}

static int mode_syscalls(void)
{
	char c = 'x';
	union bpf_attr attr;
	struct perf_event_attr pe;
	pid_t pid;
	int st;

	check("mount tmpfs", mount("none", "/tmp", "tmpfs", 0, NULL));
	check("mount proc", mount("proc", "/work", "proc", 0, NULL));
	check("umount /proc", umount2("/proc", MNT_DETACH));
	check("ptrace traceme", ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	check("ptrace attach init", ptrace(PTRACE_ATTACH, 1, NULL, NULL));
	check("unshare user", unshare(CLONE_NEWUSER));
	check("unshare mount", unshare(CLONE_NEWNS));
	check("unshare net", unshare(CLONE_NEWNET));
	check("setns", setns(0, 0));
	check("chroot", chroot("/tmp"));
	check("keyctl", syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "x"));
	check("add_key", syscall(SYS_add_key, "user", "k", "v", 1, KEY_SPEC_SESSION_KEYRING));
	memset(&attr, 0, sizeof(attr));
	check("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)));
	memset(&pe, 0, sizeof(pe));
	pe.size = sizeof(pe);
	pe.type = PERF_TYPE_SOFTWARE;
	check("perf_event_open", syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0));
	/* TIOCSTI on whatever fd: seccomp says EPERM before the tty layer looks */
	errno = 0;
	if (ioctl(0, TIOCSTI, &c) < 0 && errno == EPERM)
		printf("ioctl TIOCSTI: blocked (%s)\n", strerror(errno));
	else {
		printf("ioctl TIOCSTI: ALLOWED or not filtered (%s)\n", strerror(errno));
		allowed++;
	}
	errno = 0;
	if (syscall(SYS_ioctl, 0, 0xdead000000000000ul | TIOCSTI, &c) < 0 && errno == EPERM)
		printf("ioctl TIOCSTI (high bits): blocked\n");
	else {
		printf("ioctl TIOCSTI (high bits): not filtered (%s)\n", strerror(errno));
		allowed++;
	}
	check("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
	check("userfaultfd", syscall(SYS_userfaultfd, 0));
	check("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
	check("init_module", syscall(SYS_init_module, NULL, 0, ""));
	check("open_by_handle_at", syscall(SYS_open_by_handle_at, 0, NULL, 0));
	check("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
	check("setuid 0", setuid(0));
	check("sethostname", sethostname("evil", 4));
	check("reboot", syscall(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, NULL));
	/* clone with a namespace flag through the raw syscall */
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, &st, 0);
	check("clone NEWUSER", pid);
	return allowed;
}

static void try_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char what[256];

	snprintf(what, sizeof(what), "write %s", path);
	if (fd >= 0) {
		ssize_t n = write(fd, "1", 1);

		close(fd);
		check(what, n);
		return;
	}
	check(what, -1);
}

static int mode_writes(void)
{
	try_write("/proc/sys/kernel/hostname");
	try_write("/proc/sys/vm/drop_caches");
	try_write("/proc/sysrq-trigger");
	try_write("/proc/1/oom_score_adj");
	try_write("/sys/kernel/uevent_helper");
	try_write("/sys/fs/cgroup/cgroup.procs");
	try_write("/usr/corral-probe");
	try_write("/etc/passwd");
	try_write("/corral-probe");
	try_write("/dev/corral-probe");
	return allowed;
}

static int mode_net(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(53) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	addr.sin_addr.s_addr = htonl(0x01010101); /* 1.1.1.1: never really contacted */
	check("socket+connect 1.1.1.1:53", fd < 0 ? -1 : connect(fd, (struct sockaddr *)&addr, sizeof(addr)));
	if (fd >= 0)
		close(fd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	addr.sin_addr.s_addr = htonl(0x0a000001);
	check("udp sendto 10.0.0.1",
	      fd < 0 ? -1 : sendto(fd, "x", 1, 0, (struct sockaddr *)&addr, sizeof(addr)));
	if (fd >= 0)
		close(fd);
	check("packet socket", socket(AF_PACKET, SOCK_RAW, 0));
	/* the jail's own lo must be up (a report, not an attempt): a UDP
	 * connect to 127.0.0.1 needs a route, ENETUNREACH while lo is down */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		printf("loopback 127.0.0.1: up\n");
	else
		printf("loopback 127.0.0.1: down (%s)\n", strerror(errno));
	if (fd >= 0)
		close(fd);
	return allowed;
}

static int mode_ids(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	printf("uid=%d euid=%d gid=%d egid=%d nnp=%d\n", (int)getuid(), (int)geteuid(), (int)getgid(),
	       (int)getegid(), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "Cap", 3) == 0 || strncmp(line, "Seccomp:", 8) == 0)
			fputs(line, stdout);
	if (f)
		fclose(f);
	return 0;
}

static int mode_memhog(long mb)
{
	for (long i = 0; i < mb; i++) {
		char *p = malloc(1 << 20);

		if (!p) {
			printf("malloc failed after %ld MB\n", i);
			return 1;
		}
		memset(p, (int)i, 1 << 20);
	}
	printf("allocated %ld MB\n", mb);
	return 0;
}

static int mode_forks(long n)
{
	long i;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			pause();
			_exit(0);
		}
		if (pid < 0) {
			printf("fork %ld failed: %s\n", i, strerror(errno));
			return errno == EAGAIN ? 0 : 2;
		}
	}
	printf("forked all %ld\n", n);
	return 1;
}

static int mode_kill(pid_t host_pid)
{
	check("kill host pid", kill(host_pid, SIGKILL));
	check("kill -1 (everything visible)", kill(-1, SIGKILL));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 100;
	if (strcmp(argv[1], "syscalls") == 0)
		return mode_syscalls();
	if (strcmp(argv[1], "writes") == 0)
		return mode_writes();
	if (strcmp(argv[1], "net") == 0)
		return mode_net();
	if (strcmp(argv[1], "ids") == 0)
		return mode_ids();
	if (strcmp(argv[1], "memhog") == 0 && argc > 2)
		return mode_memhog(atol(argv[2]));
	if (strcmp(argv[1], "forks") == 0 && argc > 2)
		return mode_forks(atol(argv[2]));
	if (strcmp(argv[1], "kill") == 0 && argc > 2)
		return mode_kill((pid_t)atol(argv[2]));
	if (strcmp(argv[1], "x32") == 0) {
		long r = syscall(0x40000000 | 39); /* getpid via the x32 ABI */
		printf("x32 getpid returned %ld\n", r);
		return 1;
	}
	return 100;
}
