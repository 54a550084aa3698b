/*
 * runner/seccomp_profiles.c — the syscall lists behind the built-in seccomp
 * profiles: the deny-list (both profiles) and strict's allow-list.  Pure
 * data.  The rules that look at arguments (clone's namespace flags, ioctl's
 * TIOCSTI/TIOCLINUX, personality, setuid/setgid modes, socket families) live
 * in runner/seccomp_query.c (the tables) and runner/seccomp_rules.c (the code
 * that turns these lists into a filter).
 *
 * Names libseccomp does not know on the native architecture (i386-only
 * calls on x86_64, or calls newer than the installed libseccomp) are
 * skipped quietly when the filter is compiled.
 *
 * EPERM or ENOSYS?  A denied syscall returns EPERM: it is what the kernel
 * itself answers an unprivileged caller for nearly all of these (mount,
 * unshare without user namespaces, reboot, kexec, module loading, setting
 * the clock, ...), so programs already treat it as "not allowed here" and
 * print a sensible message.  ENOSYS would claim the kernel lacks the call and
 * is used only where we WANT the caller's fallback path: clone3, whose flags
 * live in memory a filter cannot read; glibc (>= 2.34) falls back to clone(2)
 * on ENOSYS only, and clone's flags the filter can check.  Errno 0 means
 * "succeed without doing anything" (sync, syncfs).
 */
#include <errno.h>
#include <stddef.h>

#include "runner/seccomp.h"

const struct seccomp_denial seccomp_deny_list[] = {
	/* Filesystem view: the jail's mounts are set up before the filter and
	 * must stay as they are; chroot could help escape a pivot_root. */
	{ "mount", EPERM },
	{ "umount", EPERM },
	{ "umount2", EPERM },
	{ "pivot_root", EPERM },
	{ "chroot", EPERM },
	/* The new mount API: the same power as mount(2). */
	{ "fsopen", EPERM },
	{ "fsconfig", EPERM },
	{ "fsmount", EPERM },
	{ "fspick", EPERM },
	{ "move_mount", EPERM },
	{ "open_tree", EPERM },
	{ "mount_setattr", EPERM },
	/* New namespaces (and with a user namespace, a full set of
	 * capabilities over them: the classic kernel attack surface). */
	{ "unshare", EPERM },
	{ "setns", EPERM },
	/* ENOSYS, not EPERM: glibc then falls back to clone(2), which the
	 * filter can inspect (see seccomp_rules.c). */
	{ "clone3", ENOSYS },
	/* ENOSYS for the same reason: its create mode is in a struct the filter
	 * cannot read (the setuid check is on openat's mode); glibc never
	 * calls it and its users fall back to openat on ENOSYS. */
	{ "openat2", ENOSYS },
	/* Reaching into other processes (same uid inside the jail would
	 * otherwise suffice). */
	{ "ptrace", EPERM },
	{ "process_vm_readv", EPERM },
	{ "process_vm_writev", EPERM },
	{ "process_madvise", EPERM },
	{ "pidfd_getfd", EPERM },
	{ "kcmp", EPERM },
	{ "move_pages", EPERM },
	{ "migrate_pages", EPERM },
	/* Large, frequently exploited kernel surfaces no ordinary task needs.
	 * io_uring: EPERM, as with io_uring_disabled=2; liburing users and
	 * libuv fall back to epoll/threads on any error. */
	{ "bpf", EPERM },
	{ "perf_event_open", EPERM },
	{ "userfaultfd", EPERM },
	{ "io_uring_setup", EPERM },
	{ "io_uring_enter", EPERM },
	{ "io_uring_register", EPERM },
	{ "modify_ldt", EPERM },
	{ "vm86", EPERM },
	{ "vm86old", EPERM },
	/* Kernel keyrings are not namespaced: keys are per host uid. */
	{ "keyctl", EPERM },
	{ "add_key", EPERM },
	{ "request_key", EPERM },
	/* The host kernel, its modules, devices and clock. */
	{ "kexec_load", EPERM },
	{ "kexec_file_load", EPERM },
	{ "init_module", EPERM },
	{ "finit_module", EPERM },
	{ "delete_module", EPERM },
	{ "reboot", EPERM },
	{ "swapon", EPERM },
	{ "swapoff", EPERM },
	{ "acct", EPERM },
	{ "quotactl", EPERM },
	{ "quotactl_fd", EPERM },
	{ "syslog", EPERM },
	{ "lookup_dcookie", EPERM },
	{ "vhangup", EPERM },
	{ "iopl", EPERM },
	{ "ioperm", EPERM },
	{ "settimeofday", EPERM },
	{ "stime", EPERM },
	{ "clock_settime", EPERM },
	{ "clock_adjtime", EPERM },
	{ "adjtimex", EPERM },
	{ "sethostname", EPERM },
	{ "setdomainname", EPERM },
	/* Obsolete calls kept only for old binaries; useful to an attacker
	 * (uselib loads a library the old way; ustat/sysfs probe the host). */
	{ "uselib", EPERM },
	{ "ustat", EPERM },
	{ "sysfs", EPERM },
	{ "_sysctl", EPERM },
	{ "nfsservctl", EPERM },
	/* File handles bypass path-based confinement (the "shocker" escape). */
	{ "open_by_handle_at", EPERM },
	{ "name_to_handle_at", EPERM },
	/* Watching the whole filesystem / mount. */
	{ "fanotify_init", EPERM },
	/* Flushing every dirty page of the host (sync) or of a whole host
	 * filesystem behind a writable bind (syncfs), whenever a task likes:
	 * answered 0 without reaching the kernel (SECCOMP_RET_ERRNO with 0),
	 * as if it had worked.  A task's own data still gets to disk by the
	 * kernel's writeback; fsync/fdatasync of its own files still work. */
	{ "sync", 0 },
	{ "syncfs", 0 },
	{ NULL, 0 },
};

/*
 * strict: what compiled programs, /bin/sh, coreutils and python3 use.
 * Anything not listed returns ENOSYS: the calls an ordinary program meets
 * that are missing here are mostly newer variants (openat2, epoll_pwait2,
 * cachestat, ...) whose callers fall back to the old call on ENOSYS but
 * give up on EPERM.  clone, ioctl, personality, socket, socketpair and the
 * chmod/open/creat/mkdir/mknod families are allowed with argument checks
 * (seccomp_query.c, seccomp_rules.c).
 */
const char *const seccomp_strict_allow_list[] = {
	/* file descriptors and file I/O */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
	"preadv2", "pwritev2", "open", "openat", "creat", "close", "close_range", "lseek",
	"dup", "dup2", "dup3", "fcntl", "flock", "pipe", "pipe2", "sendfile", "splice", "tee",
	"copy_file_range", "fadvise64", "fsync", "fdatasync",
	"truncate", "ftruncate", "fallocate", "memfd_create",
	/* metadata and directories */
	"stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access",
	"faccessat", "faccessat2", "readlink", "readlinkat", "getdents", "getdents64",
	"getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat",
	"rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
	"mknod", "mknodat", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown",
	"lchown", "fchownat", "umask", "utime", "utimes", "utimensat", "futimesat",
	"getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
	"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
	"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
	/* memory */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync", "mincore",
	"membarrier",
	/* processes and threads (clone: see seccomp.c) */
	"fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
	"kill", "tgkill", "tkill", "pidfd_open", "pidfd_send_signal",
	"getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
	"getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
	"setfsuid", "setfsgid", "setgroups", "capget",
	"arch_prctl", "prctl", "set_tid_address", "set_robust_list", "get_robust_list", "rseq",
	"futex", "futex_waitv", "prlimit64", "getrlimit", "setrlimit", "getrusage", "times",
	"getpriority", "setpriority", "sched_yield", "sched_getaffinity", "sched_setaffinity",
	"sched_getparam", "sched_getscheduler", "sched_get_priority_max",
	"sched_get_priority_min", "getcpu", "uname", "sysinfo", "getrandom", "restart_syscall",
	/* signals */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending",
	"rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "pause",
	"signalfd", "signalfd4",
	/* time and timers */
	"clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
	"alarm", "getitimer", "setitimer", "timer_create", "timer_settime", "timer_gettime",
	"timer_getoverrun", "timer_delete", "timerfd_create", "timerfd_settime",
	"timerfd_gettime",
	/* waiting for events */
	"poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
	"epoll_wait", "epoll_pwait", "eventfd", "eventfd2",
	/* sockets (the jail's network namespace has only lo) and SysV IPC
	 * (the jail has its own IPC namespace) */
	"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto",
	"recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockname",
	"getpeername", "setsockopt", "getsockopt",
	"shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
	NULL,
};
