/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/probes/attack.c — attacks on the jail's own machinery,
 * run by tests/integration/test_attack.c.  Static.  Each mode prints
 * "NAME: ALLOWED ..." when the attack worked and "NAME: blocked (why)" when
 * it did not; the tests look at those lines (some attacks SHOULD work today:
 * those tests document a finding and fail until it is fixed).
 *
 *   attack vsock PORT SECS   AF_VSOCK socket bound + listening on PORT (the
 *                            vsock port space is not network-namespaced)
 *   attack sockmem MB        pin MB of kernel memory in unix socket buffers,
 *                            report how much host MemAvailable dropped
 *   attack shmfill MB        write MB into /dev/shm (tmpfs)
 *   attack setuid SRC DST    copy SRC to DST and make it setuid (owner = our host uid)
 *   attack fd0 PATH          treat stdin as a directory: read PATH below it
 *   attack init              reach into pid 1 (fds, mem, environ, pidfd_getfd, vm_readv)
 *   attack listen NAME SECS  listen on abstract unix socket @NAME
 *   attack connect NAME      connect to abstract unix socket @NAME
 *   attack cgroup            try to leave / write the jail's cgroup
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
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

static long mem_available_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static int mode_vsock(unsigned port, int secs)
{
	struct sockaddr_vm addr;
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	check("vsock socket", fd);
	if (fd < 0)
		return allowed;
	memset(&addr, 0, sizeof(addr));
	addr.svm_family = AF_VSOCK;
	addr.svm_cid = VMADDR_CID_ANY;
	addr.svm_port = port;
	check("vsock bind", bind(fd, (struct sockaddr *)&addr, sizeof(addr)));
	check("vsock listen", listen(fd, 1));
	sleep((unsigned)secs);
	return allowed;
}

/* One child: fill up to 120 unix socketpairs (both directions) until
 * `quota` bytes are queued, tell the parent, then hold them. */
static void sockmem_child(long quota, int ready)
{
	char buf[65536];
	long queued = 0;

	memset(buf, 'm', sizeof(buf));
	for (int i = 0; i < 120 && queued < quota; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			break;
		for (int side = 0; side < 2; side++) {
			fcntl(sv[side], F_SETFL, O_NONBLOCK);
			for (;;) {
				ssize_t n = write(sv[side], buf, sizeof(buf));

				if (n <= 0)
					break;
				queued += n;
			}
		}
	}
	if (write(ready, &queued, sizeof(queued)) < 0)
		_exit(1);
	pause();
	_exit(0);
}

static int mode_sockmem(long mb)
{
	long before = mem_available_kb(), total = 0, after;
	int ready[2];
	pid_t kids[64];
	int n = 0;

	if (pipe(ready) < 0)
		return 1;
	while (total < mb << 20 && n < 64) {
		long got = 0;

		kids[n] = fork();
		if (kids[n] < 0)
			break;
		if (kids[n] == 0)
			sockmem_child((mb << 20) - total, ready[1]);
		n++;
		if (read(ready[0], &got, sizeof(got)) != (ssize_t)sizeof(got) || got <= 0)
			break;
		total += got;
	}
	after = mem_available_kb();
	printf("sockmem: queued=%ldMB memavailable_drop=%ldMB children=%d\n", total >> 20,
	       (before - after) >> 10, n);
	if (total >= mb << 20)
		printf("sockmem pin: ALLOWED\n");
	else
		printf("sockmem pin: blocked (only %ld MB)\n", total >> 20);
	fflush(stdout);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	return 0;
}

static int mode_shmfill(long mb)
{
	char buf[65536];
	long written = 0;
	int fd = open("/dev/shm/fill", O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0) {
		check("shm open", -1);
		return 1;
	}
	memset(buf, 's', sizeof(buf));
	while (written < mb << 20) {
		ssize_t n = write(fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		written += n;
	}
	printf("shmfill: wrote %ld MB (%s)\n", written >> 20, written < mb << 20 ? strerror(errno) : "all");
	if (written >= mb << 20)
		printf("shmfill: ALLOWED\n");
	return 0;
}

static int mode_setuid(const char *src, const char *dst)
{
	char buf[65536];
	int in = open(src, O_RDONLY), out;
	ssize_t n;

	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (in < 0 || out < 0) {
		check("copy", -1);
		return 1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return 1;
	close(in);
	check("fchmod 04755", fchmod(out, 04755));
	close(out);
	return 0;
}

static int mode_fd0(const char *path)
{
	struct stat st;
	char buf[256];
	int fd;
	ssize_t n;

	if (fstat(0, &st) < 0 || !S_ISDIR(st.st_mode)) {
		printf("fd0: not a directory\n");
		return 0;
	}
	fd = openat(0, path, O_RDONLY);
	check("openat(stdin dir)", fd);
	if (fd >= 0 && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		printf("fd0 read: %s\n", buf);
	}
	check("fchdir(stdin dir)", fchdir(0));
	return allowed;
}

static int mode_init(void)
{
	char buf[64];
	struct iovec local = { buf, sizeof(buf) }, remote = { (void *)0x400000, sizeof(buf) };
	int pidfd;

	check("open /proc/1/fd/0", open("/proc/1/fd/0", O_RDONLY));
	check("readlink /proc/1/fd/3", readlink("/proc/1/fd/3", buf, sizeof(buf)));
	check("open /proc/1/mem", open("/proc/1/mem", O_RDWR));
	check("open /proc/1/environ", open("/proc/1/environ", O_RDONLY));
	check("open /proc/1/root/.", open("/proc/1/root/.", O_RDONLY));
	check("write /proc/1/oom_score_adj", open("/proc/1/oom_score_adj", O_WRONLY));
	check("process_vm_readv 1", process_vm_readv(1, &local, 1, &remote, 1, 0));
	pidfd = (int)syscall(SYS_pidfd_open, 1, 0);
	if (pidfd >= 0)
		check("pidfd_getfd init fd 3", syscall(SYS_pidfd_getfd, pidfd, 3, 0));
	/* pid 1 of a pid namespace ignores SIGKILL from inside: we must live on */
	kill(1, SIGKILL);
	usleep(100000);
	printf("init survived SIGKILL: %s\n", kill(1, 0) == 0 ? "yes" : "no");
	return allowed;
}

static int mode_listen(const char *name, int secs)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "%s", name);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0) {
		perror("listen");
		return 1;
	}
	printf("listening on @%s\n", name);
	fflush(stdout);
	sleep((unsigned)secs);
	return 0;
}

static int mode_connect(const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "%s", name);
	check("connect abstract socket of another jail", connect(fd, (struct sockaddr *)&a, sizeof(a)));
	return allowed;
}

static int mode_cgroup(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/cgroup", "r");

	while (f && fgets(line, sizeof(line), f))
		printf("cgroup: %s", line);
	if (f)
		fclose(f);
	check("mount cgroup2", mount("cgroup2", "/tmp", "cgroup2", 0, NULL));
	check("mount cgroup v1 memory", mount("cgroup", "/tmp", "cgroup", 0, "memory"));
	check("open /sys/fs/cgroup/cgroup.procs", open("/sys/fs/cgroup/cgroup.procs", O_WRONLY));
	return allowed;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && strcmp(argv[1], "vsock") == 0)
		return mode_vsock((unsigned)strtoul(argv[2], NULL, 0), atoi(argv[3]));
	if (argc >= 3 && strcmp(argv[1], "sockmem") == 0)
		return mode_sockmem(atol(argv[2]));
	if (argc >= 3 && strcmp(argv[1], "shmfill") == 0)
		return mode_shmfill(atol(argv[2]));
	if (argc >= 4 && strcmp(argv[1], "setuid") == 0)
		return mode_setuid(argv[2], argv[3]);
	if (argc >= 3 && strcmp(argv[1], "fd0") == 0)
		return mode_fd0(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return mode_init();
	if (argc >= 4 && strcmp(argv[1], "listen") == 0)
		return mode_listen(argv[2], atoi(argv[3]));
	if (argc >= 3 && strcmp(argv[1], "connect") == 0)
		return mode_connect(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "cgroup") == 0)
		return mode_cgroup();
	if (argc >= 2 && strcmp(argv[1], "ids") == 0) {
		printf("uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
		return 0;
	}
	fprintf(stderr, "usage: attack MODE ARGS (see the source)\n");
	return 2;
}
