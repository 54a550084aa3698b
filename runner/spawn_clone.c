/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/spawn_clone.c — the jail's clone: its first process is cloned into
 * every namespace (and straight into its cgroup) sharing our memory until it
 * exec'd corral-init (CLONE_VM | CLONE_VFORK, on a small stack of its own),
 * with the jail's host uid as the clone's owner, all signals blocked, and,
 * when the caller made one beforehand, inside a given network namespace
 * (runner/spawn_netns.c).  The child's side is runner/child.c; the rest of
 * the spawn runner/spawn.c.
 */
#include <errno.h>
#include <linux/sched.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

#include "runner/internal.h"

#define JAIL_CLONE_FLAGS                                                                           \
	(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | \
	 CLONE_PIDFD)

/* The child's stack: it runs in our memory (CLONE_VM) until its exec, a
 * few system calls deep (runner/child.c). */
#define CHILD_STACK_SIZE (32u << 10)

#if defined(__x86_64__)
/* clone3 onto a stack of the child's own, where it calls fn(arg) and exits
 * with its return value: glibc has no clone3 wrapper, and the child of the
 * raw system call could not return through syscall()'s frame (its stack
 * is not ours).  Returns the pid, or -errno. */
long spawn_clone3_vfork(struct clone_args *args, size_t size, int (*fn)(void *), void *arg)
	__attribute__((visibility("hidden")));
_Static_assert(SYS_clone3 == 435 && SYS_exit == 60, "the numbers spawn_clone3_vfork uses");
__asm__(".text\n"
	".globl spawn_clone3_vfork\n"
	".hidden spawn_clone3_vfork\n"
	".type spawn_clone3_vfork,@function\n"
	"spawn_clone3_vfork:\n"
	"	endbr64\n"
	"	mov %rdx, %r8\n" /* fn and arg survive the system call */
	"	mov %rcx, %r9\n"
	"	mov $435, %eax\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jz 1f\n"
	"	ret\n"
	"1:	xor %ebp, %ebp\n" /* the child, on its own stack */
	"	mov %r9, %rdi\n"
	"	call *%r8\n"
	"	mov %eax, %edi\n"
	"	mov $60, %eax\n"
	"	syscall\n"
	"	hlt\n"
	".size spawn_clone3_vfork, .-spawn_clone3_vfork\n");
#endif

/* Clone the child that execs corral-init, sharing our memory until then
 * (CLONE_VM): no page table to copy, no copy-on-write fault on either side
 * afterwards.  CLONE_VFORK: we wait until it exec'd, and a child in vfork
 * is never the OOM killer's victim (which would kill every process sharing
 * its memory, this one too). */
static pid_t clone_child(struct clone_args *args, struct child_ctx *ctx, char *stack)
{
#if defined(__x86_64__)
	long r;

	args->stack = (uint64_t)(uintptr_t)stack;
	args->stack_size = CHILD_STACK_SIZE;
	r = spawn_clone3_vfork(args, sizeof(*args), child_exec_init, ctx);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (pid_t)r;
#else
	/* glibc's clone: no CLONE_INTO_CGROUP (the caller attaches after) */
	if (args->flags & CLONE_INTO_CGROUP) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return clone(child_exec_init, stack + CHILD_STACK_SIZE, (int)args->flags | SIGCHLD, ctx,
		     (int *)(uintptr_t)args->pidfd);
#endif
}

/* Under AddressSanitizer the child's instrumented frames poisoned the
 * shadow of its stack, which is part of this frame, and it exec'd without
 * unwinding them: this thread's later frames (libmicrohttpd's accept4 into
 * a buffer there) would then be reported.  Nothing in other builds. */
static void unpoison_child_stack(char *stack)
{
#ifdef __SANITIZE_ADDRESS__
	ASAN_UNPOISON_MEMORY_REGION(stack, CHILD_STACK_SIZE);
#else
	(void)stack;
#endif
}

static pid_t clone_jail_as(int cgroup_fd, bool new_netns, struct child_ctx *ctx, int *pidfd,
			   bool *into_cgroup)
{
	_Static_assert(CHILD_STACK_SIZE % 16 == 0, "the child's stack stays aligned");
	char stack[CHILD_STACK_SIZE] __attribute__((aligned(16)));
	struct clone_args args;
	pid_t pid;

	memset(&args, 0, sizeof(args));
	args.flags = JAIL_CLONE_FLAGS | CLONE_VM | CLONE_VFORK;
	/* else it is born in the namespace this thread is in: a pool's it
	 * entered, or ours, and corral-init makes the jail's own first thing
	 * (the record says which: setup.netns) */
	if (!new_netns)
		args.flags &= ~(uint64_t)CLONE_NEWNET;
	args.pidfd = (uint64_t)(uintptr_t)pidfd;
	args.exit_signal = SIGCHLD;
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	pid = clone_child(&args, ctx, stack);
	unpoison_child_stack(stack);
	if (pid < 0 && cgroup_fd >= 0 && (errno == EINVAL || errno == EOPNOTSUPP || errno == EBUSY)) {
		/* the unified cgroup cannot take us directly: attach after clone */
		args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		args.cgroup = 0;
		pid = clone_child(&args, ctx, stack);
		unpoison_child_stack(stack);
		*into_cgroup = false;
	} else {
		*into_cgroup = cgroup_fd >= 0;
	}
	return pid;
}

/*
 * The kernel charges per-user counters (pending signals and POSIX timers,
 * inotify instances and watches, POSIX message-queue bytes, user namespaces)
 * at every level of the user-namespace tree: inside the jail to its uid, and
 * in the host's namespace to the uid that OWNS the jail's user namespace,
 * which is the effective uid of whoever cloned it.  Cloned by root, every
 * jail's counters pile onto host root's: one jail could exhaust root's
 * sigpending or inotify allowance for the whole host.  So the clone runs
 * with the jail's own host uid as real and effective uid (the saved uid
 * stays root), on this thread only (the raw syscall, not glibc's
 * all-threads setresuid), keeping the effective capabilities the clone
 * needs (CLONE_INTO_CGROUP, the namespaces) with SECBIT_NO_SETUID_FIXUP;
 * everything is put back right after.  The real uid too: the child execs
 * corral-init with the ambient capabilities of its user namespace, which
 * an exec by a uid whose real and effective ids differ would drop (the
 * kernel treats it as a set-uid exec).  For the few microseconds until
 * that exec, a host process of the jail's host uid could signal this
 * thread (kill checks the target's real uid).
 */
struct clone_identity {
	bool changed;
	int securebits, pdeathsig, dumpable;
};

static int clone_identity_enter(uid_t owner, struct clone_identity *saved)
{
	saved->changed = false;
	if (geteuid() != 0 || owner == 0)
		return 0;
	saved->securebits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	saved->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (saved->securebits < 0 || saved->dumpable < 0 ||
	    prctl(PR_GET_PDEATHSIG, &saved->pdeathsig, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_SET_SECUREBITS, saved->securebits | SECBIT_NO_SETUID_FIXUP, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_setresuid, owner, owner, (uid_t)-1) < 0) {
		int e = errno;

		prctl(PR_SET_SECUREBITS, saved->securebits, 0, 0, 0);
		return -e;
	}
	saved->changed = true;
	/* The euid change left the dumpable flag at fs.suid_dumpable: with 1
	 * there, any host process of the jail's uid could ptrace the vfork
	 * child until its exec (it is in the jail's new user namespace, which
	 * that uid owns) and so write our memory, which the child shares. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

/* Back to euid 0; a change of euid reset the thread's parent-death signal
 * and the process's dumpable flag: restore both. */
static void clone_identity_leave(const struct clone_identity *saved)
{
	if (!saved->changed)
		return;
	if (syscall(SYS_setresuid, (uid_t)0, (uid_t)0, (uid_t)-1) < 0)
		abort(); /* cannot happen (the saved uid is 0); never run on as the jail's uid */
	prctl(PR_SET_SECUREBITS, saved->securebits, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, saved->dumpable, 0, 0, 0);
	if (saved->pdeathsig)
		prctl(PR_SET_PDEATHSIG, saved->pdeathsig, 0, 0, 0);
}

/* All signals blocked across the clone: none may run one of our handlers
 * in the child (it shares our memory); corral-init sets its own mask.
 * netns_fd >= 0: the clone happens in that network namespace, entered for
 * it alone (runner/spawn_netns.c); *netns_failed: entering it failed. */
pid_t spawn_clone_jail(int cgroup_fd, int netns_fd, bool netns_in_init, uid_t owner, struct child_ctx *ctx,
		       int *pidfd, bool *into_cgroup, bool *netns_failed)
{
	struct clone_identity saved;
	sigset_t all, old;
	pid_t pid;
	int r, e;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	*netns_failed = false;
	if (netns_fd >= 0 && (r = spawn_netns_enter(netns_fd)) < 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		*netns_failed = true;
		errno = -r;
		return -1;
	}
	r = clone_identity_enter(owner, &saved);
	if (r < 0) {
		if (netns_fd >= 0)
			spawn_netns_leave();
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		errno = -r;
		return -1;
	}
	pid = clone_jail_as(cgroup_fd, netns_fd < 0 && !netns_in_init, ctx, pidfd, into_cgroup);
	e = errno;
	clone_identity_leave(&saved);
	if (netns_fd >= 0)
		spawn_netns_leave();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return pid;
}
