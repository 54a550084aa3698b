/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_seccomp.c — the seccomp module: profile names, what each
 * profile denies, compiling with extra rules, and the real filters installed
 * in forked children (no root needed: no_new_privs lets anyone install a
 * filter).  A child reports the errno its probe got as its exit code, or
 * dies of the filter's SIGSYS.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>
#include <setjmp.h>
#include <cmocka.h>

#include "runner/seccomp.h"
#include "tests/lib/test.h"

/* ---- helpers ------------------------------------------------------------ */

static const struct jail_filter *builtin(enum jail_seccomp_profile profile)
{
	struct jail_error err = { 0 };
	const struct jail_filter *filter = seccomp_builtin(profile, &err);

	if (!filter)
		fail_msg("seccomp_builtin(%s): %s", jail_seccomp_profile_name(profile), err.message);
	return filter;
}

/* A probe runs in the child after the filter: 0 if its call succeeded,
 * else the call's errno (all < 128). */
typedef int (*probe_fn)(void);

#define CHILD_SETUP_FAILED 200

/* Fork, install filter (NULL: none), run probe; return the wait status. */
static int status_of_probe(const struct jail_filter *filter, probe_fn probe)
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS };
		struct rlimit no_core = { 0, 0 };

		/* cmocka's crash handlers must not run the test suite on in
		 * the child: a crash here is the probe's result. */
		for (size_t i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
			signal(crash_signals[i], SIG_DFL);
		/* The SIGSYS deaths must not leave core dumps behind. */
		setrlimit(RLIMIT_CORE, &no_core);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || seccomp_install(filter) != 0)
			_exit(CHILD_SETUP_FAILED);
		_exit(probe());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_probe_errno(const struct jail_filter *filter, probe_fn probe, int expected)
{
	int status = status_of_probe(filter, probe);

	if (WIFSIGNALED(status))
		fail_msg("probe killed by signal %d, expected errno %d", WTERMSIG(status), expected);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), expected);
}

static void assert_probe_killed_by_sigsys(const struct jail_filter *filter, probe_fn probe)
{
	int status = status_of_probe(filter, probe);

	if (WIFEXITED(status))
		fail_msg("probe exited with %d, expected death by SIGSYS", WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static int errno_if_failed(long r)
{
	return r < 0 ? errno : 0;
}

/* Run argv under the profile's filter with stdout into out; return the
 * exit code (or 128 + signal). */
static int exit_code_of_command(enum jail_seccomp_profile profile, char *const argv[], char *out,
				size_t out_size)
{
	const struct jail_filter *filter = builtin(profile);
	int pipe_fds[2], status = 0;
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe2(pipe_fds, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (dup2(pipe_fds[1], STDOUT_FILENO) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    seccomp_install(filter) != 0)
			_exit(CHILD_SETUP_FAILED);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipe_fds[1]);
	while (used + 1 < out_size && (n = read(pipe_fds[0], out + used, out_size - used - 1)) > 0)
		used += (size_t)n;
	out[used] = '\0';
	close(pipe_fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- probes: each argument chosen so that the kernel itself would NOT
 * answer with the filter's errno (bad pointers, bad commands), so the
 * result proves the filter acted. ----------------------------------------- */

static int probe_mount(void)
{
	/* Kernel: EFAULT copying the bad strings. */
	return errno_if_failed(mount((const char *)1, (const char *)1, (const char *)1, 0, NULL));
}

static int probe_ptrace_traceme(void)
{
	return errno_if_failed(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
}

static int probe_unshare_user(void)
{
	return errno_if_failed(unshare(CLONE_NEWUSER));
}

static int probe_clone_newns(void)
{
	/* Kernel: EINVAL (CLONE_NEWNS together with CLONE_FS). */
	return errno_if_failed(syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD, 0, 0, 0, 0));
}

static int probe_clone_newuser_high_bits(void)
{
	/* Garbage above bit 31 must not hide the namespace flag. */
	unsigned long flags = 0xabcd000000000000UL | CLONE_NEWUSER | CLONE_FS | SIGCHLD;

	return errno_if_failed(syscall(SYS_clone, flags, 0, 0, 0, 0));
}

static int probe_clone3(void)
{
	/* Kernel: EINVAL (size 0). */
	return errno_if_failed(syscall(SYS_clone3, NULL, 0));
}

static int probe_keyctl(void)
{
	/* Kernel: EOPNOTSUPP (no such operation). */
	return errno_if_failed(syscall(SYS_keyctl, 99999, 0, 0, 0, 0));
}

static int probe_bpf(void)
{
	return errno_if_failed(syscall(SYS_bpf, 99999, NULL, 0));
}

static int probe_ioctl_tiocsti(void)
{
	char c = 'x';

	/* Kernel: EBADF. */
	return errno_if_failed(ioctl(-1, TIOCSTI, &c));
}

static int probe_ioctl_tiocsti_high_garbage(void)
{
	char c = 'x';

	/* The kernel truncates the request to 32 bits: still TIOCSTI. */
	return errno_if_failed(syscall(SYS_ioctl, -1, 0xdeadbeef00000000UL | TIOCSTI, &c));
}

static int probe_ioctl_tiolinux(void)
{
	char c = 0;

	return errno_if_failed(ioctl(-1, TIOCLINUX, &c));
}

static int probe_ioctl_fionread(void)
{
	int n = 0;

	/* Allowed: the kernel answers EBADF. */
	return errno_if_failed(ioctl(-1, FIONREAD, &n));
}

static int probe_ioctl_near_tiocsti(void)
{
	/* TIOCSTI ^ one bit: allowed, the kernel answers EBADF. */
	return errno_if_failed(syscall(SYS_ioctl, -1, (unsigned long)(TIOCSTI ^ 0x100), NULL));
}

static int probe_io_uring_setup(void)
{
	return errno_if_failed(syscall(SYS_io_uring_setup, 0, NULL));
}

static int probe_userfaultfd(void)
{
	return errno_if_failed(syscall(SYS_userfaultfd, ~0));
}

static int probe_getcwd(void)
{
	char buf[256];

	return errno_if_failed(syscall(SYS_getcwd, buf, sizeof(buf)));
}

static int probe_mbind(void)
{
	/* Not in strict's allow-list; the kernel would say EINVAL or EFAULT. */
	return errno_if_failed(syscall(SYS_mbind, NULL, 0, 99, NULL, 0, 0));
}

static int probe_personality_query_and_linux(void)
{
	if (personality(0xffffffff) < 0)
		return errno;
	return errno_if_failed(personality(PER_LINUX));
}

static int probe_personality_no_randomize(void)
{
	return errno_if_failed(personality(ADDR_NO_RANDOMIZE));
}

static int probe_personality_high_bits(void)
{
	return errno_if_failed(syscall(SYS_personality, 0x100000000UL | READ_IMPLIES_EXEC));
}

static int probe_fork_exec_true(void)
{
	int status = 0;
	pid_t pid = fork();

	if (pid < 0)
		return errno;
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 100;
}

#if defined(__x86_64__)
static int probe_x32_getpid(void)
{
	/* x32 ABI: the syscall number with bit 30 set. */
	return errno_if_failed(syscall(SYS_getpid | 0x40000000));
}

static int probe_i386_getpid(void)
{
	long ret;

	/* int 0x80 enters the i386 syscall table: 20 is getpid there. */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret > 0 ? 0 : (int)-ret;
}
#endif

/* ---- probes for the mode and socket-family checks.  Parameters go
 * through globals set before the fork. ----------------------------------- */

static char g_dir[64];  /* a fresh temp directory per test */
static char g_file[96]; /* g_dir/file, mode 0644 */
static char g_new[96];  /* g_dir/new, does not exist */
static unsigned long g_mode;
static unsigned long g_family;
static int g_sock_type;
static enum jail_seccomp_profile g_profile;

static long nr_of(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr < 0)
		fail_msg("libseccomp does not know %s", name);
	return nr;
}

static void temp_dir_make(void)
{
	int fd;

	strcpy(g_dir, "/tmp/corral-seccomp-XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	snprintf(g_file, sizeof(g_file), "%s/file", g_dir);
	snprintf(g_new, sizeof(g_new), "%s/new", g_dir);
	fd = open(g_file, O_CREAT | O_WRONLY | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0644), 0); /* whatever the umask */
	close(fd);
}

static void temp_dir_remove(void)
{
	assert_int_equal(test_remove_tree(g_dir), 0);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode;
}

static void remove_new(void)
{
	struct stat st;

	if (lstat(g_new, &st) == 0)
		assert_int_equal(remove(g_new), 0);
}

static int probe_chmod(void)
{
	return errno_if_failed(syscall(SYS_chmod, g_file, g_mode));
}

static int probe_fchmod(void)
{
	int fd = open(g_file, O_RDONLY);

	return fd < 0 ? errno : errno_if_failed(syscall(SYS_fchmod, fd, g_mode));
}

static int probe_fchmodat(void)
{
	return errno_if_failed(syscall(SYS_fchmodat, AT_FDCWD, g_file, g_mode));
}

static long g_nr_fchmodat2;

static int probe_fchmodat2(void)
{
	return errno_if_failed(syscall(g_nr_fchmodat2, AT_FDCWD, g_file, g_mode, 0));
}

static int probe_open_creat(void)
{
	return errno_if_failed(syscall(SYS_open, g_new, O_CREAT | O_WRONLY | O_EXCL, g_mode));
}

static int probe_openat_creat(void)
{
	return errno_if_failed(syscall(SYS_openat, AT_FDCWD, g_new, O_CREAT | O_WRONLY | O_EXCL, g_mode));
}

static int probe_creat(void)
{
	return errno_if_failed(syscall(SYS_creat, g_new, g_mode));
}

static int probe_mkdir(void)
{
	return errno_if_failed(syscall(SYS_mkdir, g_new, g_mode));
}

static int probe_mkdirat(void)
{
	return errno_if_failed(syscall(SYS_mkdirat, AT_FDCWD, g_new, g_mode));
}

static int probe_mknod(void)
{
	return errno_if_failed(syscall(SYS_mknod, g_new, g_mode, makedev(1, 3)));
}

static int probe_mknodat(void)
{
	return errno_if_failed(syscall(SYS_mknodat, AT_FDCWD, g_new, g_mode, makedev(1, 3)));
}

static int probe_openat2_root(void)
{
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY };

	return errno_if_failed(syscall(nr_of("openat2"), AT_FDCWD, "/", &how, sizeof(how)));
}

static int probe_socket(void)
{
	return errno_if_failed(syscall(SYS_socket, g_family, g_sock_type, 0));
}

static int probe_socketpair(void)
{
	int sv[2];

	return errno_if_failed(syscall(SYS_socketpair, g_family, g_sock_type, 0, sv));
}

/* Every mode-checked call with every 16-bit mode (and garbage above it), on
 * a bad path pointer / fd so nothing is created: the filter must answer
 * EPERM exactly when seccomp_profile_denies_mode says so, and otherwise let
 * the kernel answer (never EPERM, never strict's ENOSYS).  Exit code 0, or
 * 1 + the index of the first call that disagrees. */
static int probe_every_mode_matches_model(void)
{
	static const char *const names[] = {
		"chmod", "fchmod", "fchmodat", "fchmodat2", "open",    "openat",
		"creat", "mkdir",  "mkdirat",  "mknod",     "mknodat",
	};
	static const unsigned long garbage[] = { 0, 0x10000, 0xffff0000UL, 0xdead000000000000UL };
	const char *bad = (const char *)1;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		long nr = nr_of(names[i]);

		for (size_t g = 0; g < sizeof(garbage) / sizeof(garbage[0]); g++) {
			for (unsigned long m = 0; m <= 0xffff; m++) {
				unsigned long mode = m | garbage[g];
				int want = seccomp_profile_denies_mode(g_profile, names[i], mode);
				long r;

				if (g != 0 && (m & 0xf0ff) != 0)
					continue; /* garbage: the interesting bits only */
				switch (i) {
				case 0:
				case 6:
				case 7:
					r = syscall(nr, bad, mode);
					break;
				case 1:
					r = syscall(nr, -1, mode);
					break;
				case 2:
				case 8:
					r = syscall(nr, AT_FDCWD, bad, mode);
					break;
				case 3:
					r = syscall(nr, AT_FDCWD, bad, mode, 0);
					break;
				case 4:
					r = syscall(nr, bad, O_CREAT | O_WRONLY, mode);
					break;
				case 5:
					r = syscall(nr, AT_FDCWD, bad, O_CREAT | O_WRONLY, mode);
					break;
				case 9:
					r = syscall(nr, bad, mode, 0);
					break;
				default:
					r = syscall(nr, AT_FDCWD, bad, mode, 0);
					break;
				}
				if (want < 0 || r == 0)
					return 1 + (int)i;
				/* mknod(S_IFDIR): the kernel's own EPERM */
				if (i >= 9 && want == 0 && (mode & S_IFMT) == S_IFDIR)
					continue;
				if ((errno == EPERM) != (want == 1) || errno == ENOSYS)
					return 1 + (int)i;
			}
		}
	}
	return 0;
}

/* socket and socketpair with families 0..1023 and garbage above the int,
 * with an invalid type so that the kernel answers EINVAL before it looks at
 * the family: EPERM exactly when seccomp_profile_denies_family says so. */
static int probe_every_family_matches_model(void)
{
	static const unsigned long high[] = { 0, 1UL << 32, 0xffffffff00000000UL };
	static const unsigned long odd[] = { 0x7fffffffUL, 0x80000000UL, 0xffffffffUL };
	static const char *const names[] = { "socket", "socketpair" };

	for (size_t i = 0; i < 2; i++) {
		for (size_t h = 0; h < sizeof(high) / sizeof(high[0]); h++) {
			for (unsigned long f = 0; f < 1024 + 3; f++) {
				unsigned long family = (f < 1024 ? f : odd[f - 1024]) | high[h];
				int want = seccomp_profile_denies_family(g_profile, names[i], family);
				int sv[2];
				long r = i == 0 ? syscall(SYS_socket, family, 0x7fff0000, 0)
						: syscall(SYS_socketpair, family, 0x7fff0000, 0, sv);

				if (want < 0 || r == 0)
					return 1 + (int)i;
				if (want == 1 ? errno != EPERM : errno != EINVAL)
					return 1 + (int)i;
			}
		}
	}
	return 0;
}

/* ---- profile names -------------------------------------------------------- */

static void test_profile_names_round_trip(void **state)
{
	static const enum jail_seccomp_profile all[] = {
		JAIL_SECCOMP_DEFAULT,
		JAIL_SECCOMP_STRICT,
		JAIL_SECCOMP_NONE,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		enum jail_seccomp_profile parsed = (enum jail_seccomp_profile) - 1;

		assert_int_equal(jail_seccomp_profile_parse(jail_seccomp_profile_name(all[i]), &parsed), 0);
		assert_int_equal(parsed, all[i]);
	}
	assert_string_equal(jail_seccomp_profile_name(JAIL_SECCOMP_DEFAULT), "default");
	assert_string_equal(jail_seccomp_profile_name(JAIL_SECCOMP_STRICT), "strict");
	assert_string_equal(jail_seccomp_profile_name(JAIL_SECCOMP_NONE), "none");
}

static void test_profile_parse_rejects_bad_names(void **state)
{
	static const char *const bad[] = { "", "Default", "STRICT", "strict ", " none", "nope", "defaults" };
	enum jail_seccomp_profile parsed = JAIL_SECCOMP_STRICT;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(jail_seccomp_profile_parse(bad[i], &parsed), -EINVAL);
	assert_int_equal(jail_seccomp_profile_parse(NULL, &parsed), -EINVAL);
	assert_int_equal(parsed, JAIL_SECCOMP_STRICT);
}

static void test_profile_name_of_invalid_value_is_unknown(void **state)
{
	assert_string_equal(jail_seccomp_profile_name((enum jail_seccomp_profile)42), "unknown");
}

/* ---- what the profiles deny ----------------------------------------------- */

static const char *const must_be_denied[] = {
	"mount",
	"umount2",
	"pivot_root",
	"chroot",
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"bpf",
	"perf_event_open",
	"keyctl",
	"add_key",
	"request_key",
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"unshare",
	"setns",
	"clone3",
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
	"userfaultfd",
	"open_by_handle_at",
	"name_to_handle_at",
	"fsopen",
	"fsconfig",
	"fsmount",
	"fspick",
	"move_mount",
	"open_tree",
	"mount_setattr",
	"swapon",
	"swapoff",
	"reboot",
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	"acct",
	"quotactl",
	"lookup_dcookie",
	"vhangup",
	"syslog",
	"uselib",
	"ustat",
	"sysfs",
	"iopl",
	"ioperm",
	"fanotify_init",
	"pidfd_getfd",
	"kcmp",
	"openat2",
	NULL,
};

static void test_default_denies_dangerous_syscalls(void **state)
{
	for (size_t i = 0; must_be_denied[i]; i++) {
		if (seccomp_profile_denies(JAIL_SECCOMP_DEFAULT, must_be_denied[i]) != 1)
			fail_msg("default profile does not deny %s", must_be_denied[i]);
	}
}

static void test_default_allows_ordinary_syscalls(void **state)
{
	static const char *const ordinary[] = {
		"read", "write", "openat",      "close", "clone", "fork", "execve",
		"mmap", "ioctl", "personality", "futex", "mbind", NULL,
	};

	for (size_t i = 0; ordinary[i]; i++)
		if (seccomp_profile_denies(JAIL_SECCOMP_DEFAULT, ordinary[i]) != 0)
			fail_msg("default profile denies %s", ordinary[i]);
}

static void test_strict_allows_ordinary_syscalls(void **state)
{
	static const char *const ordinary[] = {
		"read",       "write",     "openat",     "close",      "clone",      "fork",
		"vfork",      "execve",    "wait4",      "pipe2",      "mmap",       "brk",
		"futex",      "getrandom", "rseq",       "prlimit64",  "arch_prctl", "ioctl",
		"epoll_wait", "poll",      "newfstatat", "getdents64", NULL,
	};

	for (size_t i = 0; ordinary[i]; i++)
		if (seccomp_profile_denies(JAIL_SECCOMP_STRICT, ordinary[i]) != 0)
			fail_msg("strict profile denies %s", ordinary[i]);
}

static void test_strict_denies_dangerous_syscalls(void **state)
{
	for (size_t i = 0; must_be_denied[i]; i++)
		if (seccomp_profile_denies(JAIL_SECCOMP_STRICT, must_be_denied[i]) != 1)
			fail_msg("strict profile does not deny %s", must_be_denied[i]);
}

static void test_strict_denies_syscalls_off_its_list(void **state)
{
	assert_int_equal(seccomp_profile_denies(JAIL_SECCOMP_STRICT, "mbind"), 1);
	assert_int_equal(seccomp_profile_denies(JAIL_SECCOMP_STRICT, "memfd_secret"), 1);
	assert_int_equal(seccomp_profile_denies(JAIL_SECCOMP_STRICT, "seccomp"), 1);
}

static void test_every_deny_list_entry_is_denied_by_both_profiles(void **state)
{
	for (const struct seccomp_denial *d = seccomp_deny_list; d->name; d++) {
		assert_true(d->errnum == EPERM || d->errnum == ENOSYS || d->errnum == 0);
		if (seccomp_syscall_resolve_name(d->name) < 0)
			continue; /* not on this architecture: skipped quietly */
		assert_int_equal(seccomp_profile_denies(JAIL_SECCOMP_DEFAULT, d->name), 1);
		assert_int_equal(seccomp_profile_denies(JAIL_SECCOMP_STRICT, d->name), 1);
	}
}

static void test_none_denies_nothing(void **state)
{
	assert_int_equal(seccomp_profile_denies(JAIL_SECCOMP_NONE, "mount"), 0);
	assert_int_equal(seccomp_profile_denies(JAIL_SECCOMP_NONE, "ptrace"), 0);
	assert_int_equal(seccomp_profile_denies_ioctl(JAIL_SECCOMP_NONE, TIOCSTI), 0);
	assert_int_equal(seccomp_profile_denies_clone(JAIL_SECCOMP_NONE, CLONE_NEWUSER), 0);
}

static void test_profile_denies_rejects_unknown_syscall(void **state)
{
	assert_int_equal(seccomp_profile_denies(JAIL_SECCOMP_DEFAULT, "frobnicate"), -EINVAL);
	assert_int_equal(seccomp_profile_denies(JAIL_SECCOMP_DEFAULT, ""), -EINVAL);
	assert_int_equal(seccomp_profile_denies(JAIL_SECCOMP_DEFAULT, NULL), -EINVAL);
	assert_int_equal(seccomp_profile_denies((enum jail_seccomp_profile)9, "read"), -EINVAL);
}

static void test_ioctl_terminal_injection_denied_on_low_32_bits(void **state)
{
	for (int p = JAIL_SECCOMP_DEFAULT; p <= JAIL_SECCOMP_STRICT; p++) {
		assert_int_equal(seccomp_profile_denies_ioctl(p, TIOCSTI), 1);
		assert_int_equal(seccomp_profile_denies_ioctl(p, TIOCLINUX), 1);
		assert_int_equal(seccomp_profile_denies_ioctl(p, 0xffffffff00000000UL | TIOCSTI), 1);
		assert_int_equal(seccomp_profile_denies_ioctl(p, TCGETS), 0);
		assert_int_equal(seccomp_profile_denies_ioctl(p, FIONREAD), 0);
	}
}

static void test_clone_with_namespace_flags_denied(void **state)
{
	for (int p = JAIL_SECCOMP_DEFAULT; p <= JAIL_SECCOMP_STRICT; p++) {
		assert_int_equal(seccomp_profile_denies_clone(p, CLONE_NEWNS | SIGCHLD), 1);
		assert_int_equal(seccomp_profile_denies_clone(p, CLONE_NEWUSER), 1);
		assert_int_equal(seccomp_profile_denies_clone(p, CLONE_NEWNET | CLONE_VM), 1);
		assert_int_equal(seccomp_profile_denies_clone(p, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND), 0);
		assert_int_equal(seccomp_profile_denies_clone(p, SIGCHLD), 0);
	}
}

/* ---- compiling ------------------------------------------------------------- */

static void test_compile_unknown_syscall_is_named_in_error(void **state)
{
	const char *const allow[] = { "read", "foo", NULL };
	struct jail_filter *filter = (struct jail_filter *)1;
	struct jail_error err = { 0 };

	assert_int_equal(jail_filter_compile(JAIL_SECCOMP_STRICT, allow, NULL, &filter, &err), -EINVAL);
	assert_null(filter);
	assert_int_equal(err.err, EINVAL);
#if defined(__x86_64__)
	assert_string_equal(err.message, "unknown syscall 'foo' (not in libseccomp's table for x86_64)");
#else
	assert_non_null(strstr(err.message, "unknown syscall 'foo' (not in libseccomp's table for "));
#endif
}

static void test_compile_unknown_denied_syscall_fails(void **state)
{
	const char *const deny[] = { "getcwd", "socketcall", NULL }; /* socketcall: i386 only */
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };

	assert_int_equal(jail_filter_compile(JAIL_SECCOMP_DEFAULT, NULL, deny, &filter, &err), -EINVAL);
	assert_null(filter);
	assert_non_null(strstr(err.message, "'socketcall'"));
}

static void test_compile_none_is_empty_program(void **state)
{
	const char *const allow[] = { "ptrace", NULL };
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };

	assert_int_equal(jail_filter_compile(JAIL_SECCOMP_NONE, allow, NULL, &filter, &err), 0);
	assert_int_equal(filter->prog.len, 0);
	assert_null(filter->prog.filter);
	assert_int_equal(seccomp_install(filter), 0);
	jail_filter_free(filter);
}

static void test_compile_none_with_extra_deny_fails(void **state)
{
	const char *const deny[] = { "getcwd", NULL };
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };

	assert_int_equal(jail_filter_compile(JAIL_SECCOMP_NONE, NULL, deny, &filter, &err), -EINVAL);
	assert_null(filter);
	assert_non_null(strstr(err.message, "'none'"));
}

static void test_compile_extra_rules_build_a_program(void **state)
{
	const char *const allow[] = { "mbind", "ptrace", NULL };
	const char *const deny[] = { "getcwd", "read", NULL };
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };

	for (int p = JAIL_SECCOMP_DEFAULT; p <= JAIL_SECCOMP_STRICT; p++) {
		assert_int_equal(jail_filter_compile(p, allow, deny, &filter, &err), 0);
		assert_int_equal(filter->profile, p);
		assert_true(filter->prog.len > 0 && filter->prog.len <= BPF_MAXINSNS);
		assert_non_null(filter->prog.filter);
		jail_filter_free(filter);
	}
}

static void test_builtin_filters_are_one_static_program_each(void **state)
{
	const struct jail_filter *a = builtin(JAIL_SECCOMP_DEFAULT);
	const struct jail_filter *b = builtin(JAIL_SECCOMP_DEFAULT);
	const struct jail_filter *strict = builtin(JAIL_SECCOMP_STRICT);
	const struct jail_filter *none = builtin(JAIL_SECCOMP_NONE);

	assert_ptr_equal(a, b);
	assert_true(a->prog.len > 0);
	assert_true(strict->prog.len > a->prog.len);
	assert_int_equal(none->prog.len, 0);
}

/* The built-in programs were compiled at build time (runner/gen/seccomp_gen.c):
 * they must be, instruction for instruction, what libseccomp compiles now
 * from the same rules, or a profile change went unbuilt. */
static void test_builtin_filters_equal_what_libseccomp_compiles_now(void **state)
{
	for (int p = JAIL_SECCOMP_DEFAULT; p <= JAIL_SECCOMP_NONE; p++) {
		const struct jail_filter *built_in = builtin(p);
		struct jail_filter *now = NULL;
		struct jail_error err = { 0 };

		if (jail_filter_compile(p, NULL, NULL, &now, &err) != 0)
			fail_msg("compile %s: %s", jail_seccomp_profile_name(p), err.message);
		assert_int_equal(built_in->profile, p);
		assert_int_equal(built_in->prog.len, now->prog.len);
		if (now->prog.len)
			assert_memory_equal(built_in->prog.filter, now->prog.filter,
					    now->prog.len * sizeof(now->prog.filter[0]));
		jail_filter_free(now);
	}
}

static void test_builtin_rejects_invalid_profile(void **state)
{
	struct jail_error err = { 0 };

	assert_null(seccomp_builtin((enum jail_seccomp_profile)7, &err));
	assert_int_equal(err.err, EINVAL);
}

static void test_install_without_filter_does_nothing(void **state)
{
	assert_int_equal(seccomp_install(NULL), 0);
}

/* ---- the real default filter ---------------------------------------------- */

static void test_probes_without_filter_are_not_eperm(void **state)
{
	/* Makes the EPERM results below mean "the filter said so". */
	assert_probe_errno(NULL, probe_mount, EFAULT);
	assert_probe_errno(NULL, probe_ptrace_traceme, 0);
	assert_probe_errno(NULL, probe_clone_newns, EINVAL);
	assert_probe_errno(NULL, probe_clone3, EINVAL);
	assert_probe_errno(NULL, probe_keyctl, EOPNOTSUPP);
	assert_probe_errno(NULL, probe_ioctl_tiocsti, EBADF);
	assert_probe_errno(NULL, probe_ioctl_tiocsti_high_garbage, EBADF);
}

static void test_default_filter_mount_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_mount, EPERM);
}

static void test_default_filter_ptrace_traceme_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_ptrace_traceme, EPERM);
}

static void test_default_filter_unshare_user_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_unshare_user, EPERM);
}

static void test_default_filter_clone_newns_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_clone_newns, EPERM);
}

static void test_default_filter_clone_newuser_with_high_garbage_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_clone_newuser_high_bits, EPERM);
}

static void test_default_filter_clone3_is_enosys(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_clone3, ENOSYS);
}

static void test_default_filter_keyctl_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_keyctl, EPERM);
}

static void test_default_filter_bpf_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_bpf, EPERM);
}

static void test_default_filter_ioctl_tiocsti_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_ioctl_tiocsti, EPERM);
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_ioctl_tiolinux, EPERM);
}

static void test_default_filter_ioctl_tiocsti_with_high_garbage_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_ioctl_tiocsti_high_garbage, EPERM);
}

static void test_default_filter_other_ioctls_reach_the_kernel(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_ioctl_fionread, EBADF);
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_ioctl_near_tiocsti, EBADF);
}

static void test_default_filter_io_uring_setup_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_io_uring_setup, EPERM);
}

static void test_default_filter_userfaultfd_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_userfaultfd, EPERM);
}

static void test_default_filter_personality_allows_only_linux_and_query(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_personality_query_and_linux, 0);
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_personality_no_randomize, EPERM);
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_personality_high_bits, EPERM);
}

static void test_default_filter_kills_x32_syscalls(void **state)
{
#if defined(__x86_64__)
	assert_probe_killed_by_sigsys(builtin(JAIL_SECCOMP_DEFAULT), probe_x32_getpid);
#else
	test_skip_loudly("x32 exists only on x86_64");
#endif
}

static void test_default_filter_kills_i386_syscalls(void **state)
{
#if defined(__x86_64__)
	int status = status_of_probe(NULL, probe_i386_getpid);

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* The kernel has no IA-32 emulation, so an i386 call cannot be
		 * made here: check the filter itself instead.  Its first
		 * instructions must load seccomp_data.arch and send anything
		 * but x86_64 to SECCOMP_RET_KILL_PROCESS. */
		const struct jail_filter *f = builtin(JAIL_SECCOMP_DEFAULT);
		const struct sock_filter *insn = f->prog.filter;
		const struct sock_filter *miss;

		assert_true(f->prog.len > 3);
		assert_int_equal(insn[0].code, BPF_LD | BPF_W | BPF_ABS);
		assert_int_equal(insn[0].k, offsetof(struct seccomp_data, arch));
		assert_int_equal(insn[1].code, BPF_JMP | BPF_JEQ | BPF_K);
		assert_int_equal(insn[1].k, AUDIT_ARCH_X86_64);
		miss = &insn[2 + insn[1].jf];
		assert_int_equal(miss->code, BPF_RET | BPF_K);
		assert_int_equal(miss->k, SECCOMP_RET_KILL_PROCESS);
		return;
	}
	assert_probe_killed_by_sigsys(builtin(JAIL_SECCOMP_DEFAULT), probe_i386_getpid);
#else
	test_skip_loudly("the i386 ABI exists only on x86_64");
#endif
}

static void test_default_filter_fork_exec_true_works(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_DEFAULT), probe_fork_exec_true, 0);
}

/* ---- the real strict filter -------------------------------------------- */

static void test_strict_filter_mount_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_mount, EPERM);
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_ptrace_traceme, EPERM);
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_unshare_user, EPERM);
}

static void test_strict_filter_unlisted_syscall_is_enosys(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_mbind, ENOSYS);
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_clone3, ENOSYS);
}

static void test_strict_filter_clone_newns_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_clone_newns, EPERM);
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_clone_newuser_high_bits, EPERM);
}

static void test_strict_filter_ioctl_tiocsti_is_eperm(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_ioctl_tiocsti, EPERM);
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_ioctl_tiocsti_high_garbage, EPERM);
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_ioctl_tiolinux, EPERM);
}

static void test_strict_filter_other_ioctls_reach_the_kernel(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_ioctl_fionread, EBADF);
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_ioctl_near_tiocsti, EBADF);
}

static void test_strict_filter_personality_allows_only_linux_and_query(void **state)
{
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_personality_query_and_linux, 0);
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_personality_no_randomize, EPERM);
	assert_probe_errno(builtin(JAIL_SECCOMP_STRICT), probe_personality_high_bits, EPERM);
}

static void test_strict_filter_kills_x32_syscalls(void **state)
{
#if defined(__x86_64__)
	assert_probe_killed_by_sigsys(builtin(JAIL_SECCOMP_STRICT), probe_x32_getpid);
#else
	test_skip_loudly("x32 exists only on x86_64");
#endif
}

static void test_strict_filter_runs_shell_pipeline(void **state)
{
	char *const argv[] = { "/bin/sh", "-c", "echo hi | cat", NULL };
	char out[64];

	assert_int_equal(exit_code_of_command(JAIL_SECCOMP_STRICT, argv, out, sizeof(out)), 0);
	assert_string_equal(out, "hi\n");
}

static void test_strict_filter_runs_ls(void **state)
{
	char *const argv[] = { "/bin/ls", "/", NULL };
	char out[4096];

	assert_int_equal(exit_code_of_command(JAIL_SECCOMP_STRICT, argv, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "usr\n"));
}

static void test_strict_filter_runs_python3(void **state)
{
	char *const argv[] = { "/usr/bin/python3", "-c", "print(1)", NULL };
	char out[64];

	if (access(argv[0], X_OK) != 0)
		test_skip_loudly("%s is not installed", argv[0]);
	assert_int_equal(exit_code_of_command(JAIL_SECCOMP_STRICT, argv, out, sizeof(out)), 0);
	assert_string_equal(out, "1\n");
}

/* ---- setuid/setgid modes and socket families, in both profiles ------------ */

#define FOR_EACH_FILTER(p) for (int p = JAIL_SECCOMP_DEFAULT; p <= JAIL_SECCOMP_STRICT; p++)

static const unsigned long setid_modes[] = { 04755, 02755, 06755, 04000, 02000 };
#define N_SETID (sizeof(setid_modes) / sizeof(setid_modes[0]))

/* probe changes g_file's mode: EPERM for the setuid/setgid modes in both
 * profiles, and the file keeps 0644. */
static void assert_chmod_denies_setid(probe_fn probe)
{
	temp_dir_make();
	FOR_EACH_FILTER(p)
	{
		for (size_t i = 0; i < N_SETID; i++) {
			g_mode = setid_modes[i];
			assert_probe_errno(builtin(p), probe, EPERM);
			assert_int_equal(mode_of(g_file) & 07777, 0644);
		}
	}
	/* Without a filter the same call works: the EPERM was the filter's. */
	g_mode = 04755;
	assert_probe_errno(NULL, probe, 0);
	assert_int_equal(mode_of(g_file) & 07777, 04755);
	temp_dir_remove();
}

static void assert_chmod_allows_0755(probe_fn probe)
{
	temp_dir_make();
	FOR_EACH_FILTER(p)
	{
		g_mode = 0755;
		assert_probe_errno(builtin(p), probe, 0);
		assert_int_equal(mode_of(g_file) & 07777, 0755);
		assert_int_equal(chmod(g_file, 0644), 0);
	}
	temp_dir_remove();
}

static void test_filters_chmod_setuid_setgid_is_eperm(void **state)
{
	assert_chmod_denies_setid(probe_chmod);
}

static void test_filters_chmod_0755_works(void **state)
{
	assert_chmod_allows_0755(probe_chmod);
}

static void test_filters_fchmod_setuid_setgid_is_eperm(void **state)
{
	assert_chmod_denies_setid(probe_fchmod);
}

static void test_filters_fchmod_0755_works(void **state)
{
	assert_chmod_allows_0755(probe_fchmod);
}

static void test_filters_fchmodat_setuid_setgid_is_eperm(void **state)
{
	assert_chmod_denies_setid(probe_fchmodat);
}

static void test_filters_fchmodat_0755_works(void **state)
{
	assert_chmod_allows_0755(probe_fchmodat);
}

static void test_filters_fchmodat2_setuid_setgid_is_eperm(void **state)
{
	g_nr_fchmodat2 = nr_of("fchmodat2");
	if (syscall(g_nr_fchmodat2, AT_FDCWD, "/", 0755, ~0) == -1 && errno == ENOSYS)
		test_skip_loudly("the kernel has no fchmodat2 (Linux < 6.6)");
	assert_chmod_denies_setid(probe_fchmodat2);
}

static void test_filters_fchmodat2_0755_works(void **state)
{
	g_nr_fchmodat2 = nr_of("fchmodat2");
	if (syscall(g_nr_fchmodat2, AT_FDCWD, "/", 0755, ~0) == -1 && errno == ENOSYS)
		test_skip_loudly("the kernel has no fchmodat2 (Linux < 6.6)");
	assert_chmod_allows_0755(probe_fchmodat2);
}

/* probe creates g_new with g_mode: EPERM for setuid/setgid modes, and
 * nothing is created. */
static void assert_create_denies_setid(probe_fn probe)
{
	struct stat st;

	temp_dir_make();
	FOR_EACH_FILTER(p)
	{
		for (size_t i = 0; i < N_SETID; i++) {
			g_mode = setid_modes[i];
			assert_probe_errno(builtin(p), probe, EPERM);
			assert_int_equal(lstat(g_new, &st), -1);
		}
	}
	temp_dir_remove();
}

static void assert_create_allows(probe_fn probe, unsigned long mode)
{
	temp_dir_make();
	FOR_EACH_FILTER(p)
	{
		g_mode = mode;
		assert_probe_errno(builtin(p), probe, 0);
		remove_new();
	}
	temp_dir_remove();
}

static void test_filters_open_creat_setuid_setgid_is_eperm(void **state)
{
	assert_create_denies_setid(probe_open_creat);
}

static void test_filters_openat_creat_setuid_setgid_is_eperm(void **state)
{
	assert_create_denies_setid(probe_openat_creat);
}

static void test_filters_creat_setuid_setgid_is_eperm(void **state)
{
	assert_create_denies_setid(probe_creat);
}

static void test_filters_open_openat_creat_0644_work(void **state)
{
	assert_create_allows(probe_open_creat, 0644);
	assert_create_allows(probe_openat_creat, 0644);
	assert_create_allows(probe_creat, 0644);
	assert_create_allows(probe_openat_creat, 0777);
}

static void test_filters_mkdir_setgid_setuid_is_eperm(void **state)
{
	assert_create_denies_setid(probe_mkdir);
	assert_create_denies_setid(probe_mkdirat);
}

static void test_filters_mkdir_0755_works(void **state)
{
	assert_create_allows(probe_mkdir, 0755);
	assert_create_allows(probe_mkdirat, 0755);
}

static void test_filters_mknod_devices_and_setid_are_eperm(void **state)
{
	static const unsigned long denied[] = {
		S_IFCHR | 0600,
		S_IFBLK | 0600,
		S_IFREG | 04755,
		S_IFIFO | 02644,
	};
	struct stat st;

	temp_dir_make();
	FOR_EACH_FILTER(p)
	{
		for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
			g_mode = denied[i];
			assert_probe_errno(builtin(p), probe_mknod, EPERM);
			assert_probe_errno(builtin(p), probe_mknodat, EPERM);
			assert_int_equal(lstat(g_new, &st), -1);
		}
	}
	temp_dir_remove();
}

static void test_filters_mknod_fifo_and_regular_file_work(void **state)
{
	assert_create_allows(probe_mknod, S_IFIFO | 0644);
	assert_create_allows(probe_mknodat, S_IFIFO | 0644);
	assert_create_allows(probe_mknodat, S_IFREG | 0600);
	assert_create_allows(probe_mknodat, 0600); /* 0: a regular file */
}

static void test_filters_openat2_is_enosys(void **state)
{
	assert_probe_errno(NULL, probe_openat2_root, 0);
	FOR_EACH_FILTER(p)
	assert_probe_errno(builtin(p), probe_openat2_root, ENOSYS);
}

static void test_filters_socket_vsock_alg_packet_are_eperm(void **state)
{
	static const struct {
		int family, type;
	} denied[] = {
		{ AF_VSOCK, SOCK_STREAM },  { AF_ALG, SOCK_SEQPACKET }, { AF_PACKET, SOCK_RAW },
		{ AF_KEY, SOCK_RAW },       { AF_XDP, SOCK_RAW },       { AF_TIPC, SOCK_RDM },
		{ AF_RDS, SOCK_SEQPACKET }, { AF_CAN, SOCK_RAW },       { AF_BLUETOOTH, SOCK_STREAM },
	};

	FOR_EACH_FILTER(p)
	{
		for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
			g_family = (unsigned long)denied[i].family;
			g_sock_type = denied[i].type;
			assert_probe_errno(builtin(p), probe_socket, EPERM);
		}
		/* Garbage above the int does not turn AF_VSOCK into something else. */
		g_family = 0x100000000UL | AF_VSOCK;
		g_sock_type = SOCK_STREAM;
		assert_probe_errno(builtin(p), probe_socket, EPERM);
	}
}

static void test_filters_socket_unix_inet_inet6_netlink_work(void **state)
{
	static const struct {
		int family, type;
	} allowed[] = {
		{ AF_UNIX, SOCK_STREAM }, { AF_UNIX, SOCK_DGRAM },   { AF_INET, SOCK_STREAM },
		{ AF_INET, SOCK_DGRAM },  { AF_INET6, SOCK_STREAM }, { AF_NETLINK, SOCK_RAW },
	};

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		g_family = (unsigned long)allowed[i].family;
		g_sock_type = allowed[i].type;
		if (WEXITSTATUS(status_of_probe(NULL, probe_socket)) != 0)
			test_skip_loudly("socket(%d, %d) fails here even without a filter", allowed[i].family,
					 allowed[i].type);
		FOR_EACH_FILTER(p)
		assert_probe_errno(builtin(p), probe_socket, 0);
	}
}

static void test_filters_socketpair_allows_only_unix(void **state)
{
	FOR_EACH_FILTER(p)
	{
		g_family = AF_UNIX;
		g_sock_type = SOCK_STREAM;
		assert_probe_errno(builtin(p), probe_socketpair, 0);
		g_family = AF_INET; /* the kernel: EOPNOTSUPP */
		assert_probe_errno(builtin(p), probe_socketpair, EPERM);
		g_family = AF_TIPC;
		g_sock_type = SOCK_RDM;
		assert_probe_errno(builtin(p), probe_socketpair, EPERM);
	}
}

static void test_filters_match_mode_model_for_every_mode(void **state)
{
	/* none (no filter): the probes never get EPERM from the kernel. */
	for (int p = JAIL_SECCOMP_DEFAULT; p <= JAIL_SECCOMP_NONE; p++) {
		g_profile = p;
		assert_probe_errno(p == JAIL_SECCOMP_NONE ? NULL : builtin(p), probe_every_mode_matches_model,
				   0);
	}
}

static void test_filters_match_family_model_for_every_family(void **state)
{
	for (int p = JAIL_SECCOMP_DEFAULT; p <= JAIL_SECCOMP_NONE; p++) {
		g_profile = p;
		assert_probe_errno(p == JAIL_SECCOMP_NONE ? NULL : builtin(p),
				   probe_every_family_matches_model, 0);
	}
}

static void test_mode_and_family_models(void **state)
{
	FOR_EACH_FILTER(p)
	{
		assert_int_equal(seccomp_profile_denies_mode(p, "chmod", 04755), 1);
		assert_int_equal(seccomp_profile_denies_mode(p, "fchmodat", 02000), 1);
		assert_int_equal(seccomp_profile_denies_mode(p, "openat", 0x10000UL | 04000), 1);
		assert_int_equal(seccomp_profile_denies_mode(p, "chmod", 01777), 0);
		assert_int_equal(seccomp_profile_denies_mode(p, "mkdir", S_IFCHR | 0755), 0);
		assert_int_equal(seccomp_profile_denies_mode(p, "mknod", S_IFCHR | 0600), 1);
		assert_int_equal(seccomp_profile_denies_mode(p, "mknodat", S_IFBLK | 0600), 1);
		assert_int_equal(seccomp_profile_denies_mode(p, "mknodat", S_IFIFO | 0600), 0);
		assert_int_equal(seccomp_profile_denies_mode(p, "read", 0), -EINVAL);
		assert_int_equal(seccomp_profile_denies_family(p, "socket", AF_VSOCK), 1);
		assert_int_equal(seccomp_profile_denies_family(p, "socket", AF_NETLINK), 0);
		assert_int_equal(seccomp_profile_denies_family(p, "socket", 0x100000000UL | AF_INET), 1);
		assert_int_equal(seccomp_profile_denies_family(p, "socketpair", AF_INET), 1);
		assert_int_equal(seccomp_profile_denies_family(p, "socketpair", AF_UNIX), 0);
		assert_int_equal(seccomp_profile_denies_family(p, "bind", AF_UNIX), -EINVAL);
		/* argument-checked, so not denied whole */
		assert_int_equal(seccomp_profile_denies(p, "chmod"), 0);
		assert_int_equal(seccomp_profile_denies(p, "socket"), 0);
		assert_int_equal(seccomp_profile_denies(p, "mknod"), 0);
	}
	assert_int_equal(seccomp_profile_denies_mode(JAIL_SECCOMP_NONE, "chmod", 04755), 0);
	assert_int_equal(seccomp_profile_denies_family(JAIL_SECCOMP_NONE, "socket", AF_VSOCK), 0);
	assert_int_equal(seccomp_profile_denies_mode((enum jail_seccomp_profile)9, "chmod", 0), -EINVAL);
}

/* Ordinary programs that create files and directories, under both filters. */
static void test_filters_run_cp_and_mkdir_p(void **state)
{
	char *argv[] = {
		"/bin/sh",
		"-c",
		"mkdir -p \"$0/a/b/c\" && cp /etc/passwd \"$0/a/b/c/f\" && "
		"cp -p /bin/true \"$0/a/b/c/t\" && \"$0/a/b/c/t\" && cp -r \"$0/a\" \"$0/z\" && "
		"chmod 0700 \"$0/z/b/c/f\" && ls \"$0/z/b/c\"",
		NULL,
		NULL,
	};
	char out[256];

	FOR_EACH_FILTER(p)
	{
		temp_dir_make();
		argv[3] = g_dir;
		assert_int_equal(exit_code_of_command(p, argv, out, sizeof(out)), 0);
		assert_string_equal(out, "f\nt\n");
		temp_dir_remove();
	}
}

static void test_filters_run_python3_writing_files(void **state)
{
	char *argv[] = {
		"/usr/bin/python3",
		"-c",
		"import os, shutil, socket, sys, tempfile\n"
		"d = sys.argv[1]\n"
		"os.makedirs(d + '/p/q')\n"
		"open(d + '/p/q/f', 'w').write('x')\n"
		"os.chmod(d + '/p/q/f', 0o755)\n"
		"shutil.copy2(d + '/p/q/f', d + '/p/g')\n"
		"tempfile.mkstemp(dir=d)\n"
		"socket.socket(socket.AF_UNIX).close()\n"
		"print(oct(os.stat(d + '/p/g').st_mode & 0o7777))\n",
		NULL,
		NULL,
	};
	char out[64];

	if (access(argv[0], X_OK) != 0)
		test_skip_loudly("%s is not installed", argv[0]);
	FOR_EACH_FILTER(p)
	{
		temp_dir_make();
		argv[3] = g_dir;
		assert_int_equal(exit_code_of_command(p, argv, out, sizeof(out)), 0);
		assert_string_equal(out, "0o755\n");
		temp_dir_remove();
	}
}

static void test_default_filter_runs_shell_ls_python3(void **state)
{
	char *const sh[] = { "/bin/sh", "-c", "echo hi | cat", NULL };
	char *const ls[] = { "/bin/ls", "/", NULL };
	char *const py[] = { "/usr/bin/python3", "-c", "print(1)", NULL };
	char out[4096];

	assert_int_equal(exit_code_of_command(JAIL_SECCOMP_DEFAULT, sh, out, sizeof(out)), 0);
	assert_string_equal(out, "hi\n");
	assert_int_equal(exit_code_of_command(JAIL_SECCOMP_DEFAULT, ls, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "usr\n"));
	if (access(py[0], X_OK) != 0)
		test_skip_loudly("%s is not installed", py[0]);
	assert_int_equal(exit_code_of_command(JAIL_SECCOMP_DEFAULT, py, out, sizeof(out)), 0);
	assert_string_equal(out, "1\n");
}

/* ---- extra rules in real filters ------------------------------------------ */

static void test_extra_deny_returns_eperm(void **state)
{
	const char *const deny[] = { "getcwd", NULL };
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };

	for (int p = JAIL_SECCOMP_DEFAULT; p <= JAIL_SECCOMP_STRICT; p++) {
		assert_int_equal(jail_filter_compile(p, NULL, deny, &filter, &err), 0);
		assert_probe_errno(filter, probe_getcwd, EPERM);
		jail_filter_free(filter);
	}
}

static void test_extra_deny_wins_over_extra_allow(void **state)
{
	const char *const both[] = { "getcwd", NULL };
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };

	assert_int_equal(jail_filter_compile(JAIL_SECCOMP_STRICT, both, both, &filter, &err), 0);
	assert_probe_errno(filter, probe_getcwd, EPERM);
	jail_filter_free(filter);
}

static void test_extra_allow_adds_to_strict(void **state)
{
	const char *const allow[] = { "mbind", NULL };
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };
	int status;

	assert_int_equal(jail_filter_compile(JAIL_SECCOMP_STRICT, allow, NULL, &filter, &err), 0);
	status = status_of_probe(filter, probe_mbind);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), ENOSYS);
	jail_filter_free(filter);
}

static void test_extra_allow_lifts_a_default_denial(void **state)
{
	const char *const allow[] = { "ptrace", NULL };
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };

	assert_int_equal(jail_filter_compile(JAIL_SECCOMP_DEFAULT, allow, NULL, &filter, &err), 0);
	assert_probe_errno(filter, probe_ptrace_traceme, 0);
	assert_probe_errno(filter, probe_mount, EPERM);
	jail_filter_free(filter);
}

static void test_extra_allow_keeps_argument_checks(void **state)
{
	const char *const allow[] = { "ioctl", "clone", NULL };
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };

	for (int p = JAIL_SECCOMP_DEFAULT; p <= JAIL_SECCOMP_STRICT; p++) {
		assert_int_equal(jail_filter_compile(p, allow, NULL, &filter, &err), 0);
		assert_probe_errno(filter, probe_ioctl_tiocsti, EPERM);
		assert_probe_errno(filter, probe_clone_newns, EPERM);
		assert_probe_errno(filter, probe_ioctl_fionread, EBADF);
		jail_filter_free(filter);
	}
}

static void test_extra_allow_of_clone3_is_refused(void **state)
{
	const char *const allow[] = { "clone3", NULL };
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };

	assert_int_equal(jail_filter_compile(JAIL_SECCOMP_DEFAULT, allow, NULL, &filter, &err), -EINVAL);
	assert_null(filter);
	assert_non_null(strstr(err.message, "'clone3'"));
}

static void test_extra_allow_keeps_mode_and_family_checks(void **state)
{
	const char *const allow[] = {
		"chmod",   "fchmod", "fchmodat", "open",   "openat",     "creat", "mkdir",
		"mkdirat", "mknod",  "mknodat",  "socket", "socketpair", NULL,
	};
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };

	temp_dir_make();
	FOR_EACH_FILTER(p)
	{
		assert_int_equal(jail_filter_compile(p, allow, NULL, &filter, &err), 0);
		g_mode = 04755;
		assert_probe_errno(filter, probe_chmod, EPERM);
		assert_probe_errno(filter, probe_openat_creat, EPERM);
		g_mode = 02755;
		assert_probe_errno(filter, probe_mkdir, EPERM);
		g_mode = S_IFCHR | 0600;
		assert_probe_errno(filter, probe_mknod, EPERM);
		g_family = AF_VSOCK;
		g_sock_type = SOCK_STREAM;
		assert_probe_errno(filter, probe_socket, EPERM);
		/* and the ordinary calls still work */
		g_mode = 0755;
		assert_probe_errno(filter, probe_chmod, 0);
		g_family = AF_UNIX;
		assert_probe_errno(filter, probe_socket, 0);
		jail_filter_free(filter);
	}
	temp_dir_remove();
}

static void test_extra_allow_of_openat2_is_refused(void **state)
{
	const char *const allow[] = { "openat2", NULL };
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };

	FOR_EACH_FILTER(p)
	{
		assert_int_equal(jail_filter_compile(p, allow, NULL, &filter, &err), -EINVAL);
		assert_null(filter);
		assert_non_null(strstr(err.message, "'openat2'"));
	}
}

static void test_extra_deny_of_chmod_denies_it_whole(void **state)
{
	const char *const deny[] = { "chmod", NULL };
	struct jail_filter *filter = NULL;
	struct jail_error err = { 0 };

	temp_dir_make();
	FOR_EACH_FILTER(p)
	{
		assert_int_equal(jail_filter_compile(p, NULL, deny, &filter, &err), 0);
		g_mode = 0755;
		assert_probe_errno(filter, probe_chmod, EPERM);
		assert_probe_errno(filter, probe_fchmod, 0);
		jail_filter_free(filter);
	}
	temp_dir_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_names_round_trip),
		cmocka_unit_test(test_profile_parse_rejects_bad_names),
		cmocka_unit_test(test_profile_name_of_invalid_value_is_unknown),
		cmocka_unit_test(test_default_denies_dangerous_syscalls),
		cmocka_unit_test(test_default_allows_ordinary_syscalls),
		cmocka_unit_test(test_strict_allows_ordinary_syscalls),
		cmocka_unit_test(test_strict_denies_dangerous_syscalls),
		cmocka_unit_test(test_strict_denies_syscalls_off_its_list),
		cmocka_unit_test(test_every_deny_list_entry_is_denied_by_both_profiles),
		cmocka_unit_test(test_none_denies_nothing),
		cmocka_unit_test(test_profile_denies_rejects_unknown_syscall),
		cmocka_unit_test(test_ioctl_terminal_injection_denied_on_low_32_bits),
		cmocka_unit_test(test_clone_with_namespace_flags_denied),
		cmocka_unit_test(test_compile_unknown_syscall_is_named_in_error),
		cmocka_unit_test(test_compile_unknown_denied_syscall_fails),
		cmocka_unit_test(test_compile_none_is_empty_program),
		cmocka_unit_test(test_compile_none_with_extra_deny_fails),
		cmocka_unit_test(test_compile_extra_rules_build_a_program),
		cmocka_unit_test(test_builtin_filters_are_one_static_program_each),
		cmocka_unit_test(test_builtin_filters_equal_what_libseccomp_compiles_now),
		cmocka_unit_test(test_builtin_rejects_invalid_profile),
		cmocka_unit_test(test_install_without_filter_does_nothing),
		cmocka_unit_test(test_probes_without_filter_are_not_eperm),
		cmocka_unit_test(test_default_filter_mount_is_eperm),
		cmocka_unit_test(test_default_filter_ptrace_traceme_is_eperm),
		cmocka_unit_test(test_default_filter_unshare_user_is_eperm),
		cmocka_unit_test(test_default_filter_clone_newns_is_eperm),
		cmocka_unit_test(test_default_filter_clone_newuser_with_high_garbage_is_eperm),
		cmocka_unit_test(test_default_filter_clone3_is_enosys),
		cmocka_unit_test(test_default_filter_keyctl_is_eperm),
		cmocka_unit_test(test_default_filter_bpf_is_eperm),
		cmocka_unit_test(test_default_filter_ioctl_tiocsti_is_eperm),
		cmocka_unit_test(test_default_filter_ioctl_tiocsti_with_high_garbage_is_eperm),
		cmocka_unit_test(test_default_filter_other_ioctls_reach_the_kernel),
		cmocka_unit_test(test_default_filter_io_uring_setup_is_eperm),
		cmocka_unit_test(test_default_filter_userfaultfd_is_eperm),
		cmocka_unit_test(test_default_filter_personality_allows_only_linux_and_query),
		cmocka_unit_test(test_default_filter_kills_x32_syscalls),
		cmocka_unit_test(test_default_filter_kills_i386_syscalls),
		cmocka_unit_test(test_default_filter_fork_exec_true_works),
		cmocka_unit_test(test_strict_filter_mount_is_eperm),
		cmocka_unit_test(test_strict_filter_unlisted_syscall_is_enosys),
		cmocka_unit_test(test_strict_filter_clone_newns_is_eperm),
		cmocka_unit_test(test_strict_filter_ioctl_tiocsti_is_eperm),
		cmocka_unit_test(test_strict_filter_other_ioctls_reach_the_kernel),
		cmocka_unit_test(test_strict_filter_personality_allows_only_linux_and_query),
		cmocka_unit_test(test_strict_filter_kills_x32_syscalls),
		cmocka_unit_test(test_strict_filter_runs_shell_pipeline),
		cmocka_unit_test(test_strict_filter_runs_ls),
		cmocka_unit_test(test_strict_filter_runs_python3),
		cmocka_unit_test(test_filters_chmod_setuid_setgid_is_eperm),
		cmocka_unit_test(test_filters_chmod_0755_works),
		cmocka_unit_test(test_filters_fchmod_setuid_setgid_is_eperm),
		cmocka_unit_test(test_filters_fchmod_0755_works),
		cmocka_unit_test(test_filters_fchmodat_setuid_setgid_is_eperm),
		cmocka_unit_test(test_filters_fchmodat_0755_works),
		cmocka_unit_test(test_filters_fchmodat2_setuid_setgid_is_eperm),
		cmocka_unit_test(test_filters_fchmodat2_0755_works),
		cmocka_unit_test(test_filters_open_creat_setuid_setgid_is_eperm),
		cmocka_unit_test(test_filters_openat_creat_setuid_setgid_is_eperm),
		cmocka_unit_test(test_filters_creat_setuid_setgid_is_eperm),
		cmocka_unit_test(test_filters_open_openat_creat_0644_work),
		cmocka_unit_test(test_filters_mkdir_setgid_setuid_is_eperm),
		cmocka_unit_test(test_filters_mkdir_0755_works),
		cmocka_unit_test(test_filters_mknod_devices_and_setid_are_eperm),
		cmocka_unit_test(test_filters_mknod_fifo_and_regular_file_work),
		cmocka_unit_test(test_filters_openat2_is_enosys),
		cmocka_unit_test(test_filters_socket_vsock_alg_packet_are_eperm),
		cmocka_unit_test(test_filters_socket_unix_inet_inet6_netlink_work),
		cmocka_unit_test(test_filters_socketpair_allows_only_unix),
		cmocka_unit_test(test_filters_match_mode_model_for_every_mode),
		cmocka_unit_test(test_filters_match_family_model_for_every_family),
		cmocka_unit_test(test_mode_and_family_models),
		cmocka_unit_test(test_filters_run_cp_and_mkdir_p),
		cmocka_unit_test(test_filters_run_python3_writing_files),
		cmocka_unit_test(test_default_filter_runs_shell_ls_python3),
		cmocka_unit_test(test_extra_deny_returns_eperm),
		cmocka_unit_test(test_extra_deny_wins_over_extra_allow),
		cmocka_unit_test(test_extra_allow_adds_to_strict),
		cmocka_unit_test(test_extra_allow_lifts_a_default_denial),
		cmocka_unit_test(test_extra_allow_keeps_argument_checks),
		cmocka_unit_test(test_extra_allow_of_clone3_is_refused),
		cmocka_unit_test(test_extra_allow_keeps_mode_and_family_checks),
		cmocka_unit_test(test_extra_allow_of_openat2_is_refused),
		cmocka_unit_test(test_extra_deny_of_chmod_denies_it_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
