/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_attack.c — attacks on the jail's machinery (the
 * runner's host-side paths, the work dir, init, memory accounting, the
 * namespaces' gaps).  The probe is tests/integration/probes/attack.c,
 * copied next to the standard probe (bound read-only at /t).
 *
 * The first eight were real holes found by an attacker review (symlinks in
 * tenant-writable dirs turned root's opens and the child's binds against
 * the host, setuid bits left on host files, vsock outside the network
 * namespace); they are fixed and these tests keep them fixed.  The others
 * are attacks that were blocked from the start and must stay blocked.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "tests/lib/test.h"
#include "tests/lib/jail.h"

/* ---- helpers ----------------------------------------------------------- */

static void copy_attack_probe(void)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/attack' && chmod 0755 '%s/attack'",
		 test_build_path("tests/probes/attack"), test_jail_dir(), test_jail_dir());
	if (system(cmd) != 0)
		fail_msg("copy the attack probe (make tests builds %s)",
			 test_build_path("tests/probes/attack"));
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

/* A fresh work dir <test dir>/NAME owned by the jail's host uid (what an
 * operator does so the task can write its results there). */
static const char *make_work_dir(const char *name, uid_t uid)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", test_jail_dir(), name);
	sh("rm -rf '%s' && mkdir -p '%s' && chown %u:%u '%s' && chmod 0755 '%s'", path, path, (unsigned)uid,
	   (unsigned)uid, path, path);
	return path;
}

/* Run a shell command in a jail with `work` bound at /work: this is how a
 * tenant's EARLIER task leaves things behind in a work dir that is reused
 * (pipeline stages, re-runs, a result dir the next job reads). */
static void plant(const char *work, const char *script)
{
	char *const argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	struct jail_spec spec;
	struct test_run run;

	test_spec(&spec, argv);
	spec.work_dir = work;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_string_equal(jail_status_name(run.result.status), "ok");
}

/* ---- findings: these attacks work today ------------------------------- */

/* The parent opens stdout/stderr as ROOT with O_CREAT|O_TRUNC and follows
 * symlinks: a symlink a task left in its work dir makes the next run
 * truncate and overwrite any host file with the task's output. */
static void test_stdout_symlink_does_not_overwrite_a_host_file(void **state)
{
	char victim[600], out[600], content[256];
	char *const argv[] = { "/bin/echo", "PWNED-by-the-task", NULL };
	struct jail_spec spec;
	struct test_run run;
	const char *work;

	require_root();
	test_spec(&spec, argv);
	work = make_work_dir("w-stdout", spec.host_uid);
	snprintf(victim, sizeof(victim), "%s/root-owned-victim", test_jail_dir());
	write_text(victim, "precious root data\n", 0600);
	plant(work, "ln -s ../root-owned-victim /work/out.txt");

	snprintf(out, sizeof(out), "%s/out.txt", work);
	spec.work_dir = work;
	spec.stdout_path = out; /* "write the output into the job's dir" */
	test_run_spec(&spec, &run);
	test_read_text(victim, content, sizeof(content));
	assert_null(strstr(content, "PWNED"));
	assert_string_equal(content, "precious root data\n");
}

/* The same for the status file init writes (opened by the parent as root). */
static void test_status_file_symlink_does_not_overwrite_a_host_file(void **state)
{
	char victim[600], status[600], content[256];
	char *const argv[] = { "/bin/true", NULL };
	struct jail_spec spec;
	struct test_run run;
	const char *work;

	require_root();
	test_spec(&spec, argv);
	work = make_work_dir("w-status", spec.host_uid);
	snprintf(victim, sizeof(victim), "%s/root-owned-victim2", test_jail_dir());
	write_text(victim, "precious root data\n", 0600);
	plant(work, "ln -s ../root-owned-victim2 /work/status");

	snprintf(status, sizeof(status), "%s/status", work);
	spec.work_dir = work;
	spec.status_path = status;
	test_run_spec(&spec, &run);
	test_read_text(victim, content, sizeof(content));
	assert_string_equal(content, "precious root data\n");
}

/* stdin is opened by the parent as root too, following symlinks: a symlink
 * left in the work dir leaks any root-only host file to the task. */
static void test_stdin_symlink_does_not_read_a_root_only_file(void **state)
{
	char secret[600], in[600];
	char *const cat[] = { "/bin/cat", NULL };
	struct jail_spec spec;
	struct test_run run;
	const char *work;

	require_root();
	test_spec(&spec, cat);
	work = make_work_dir("w-stdin", spec.host_uid);
	snprintf(secret, sizeof(secret), "%s/root-only-secret", test_jail_dir());
	write_text(secret, "TOP-SECRET-ROOT-ONLY\n", 0600);
	plant(work, "ln -s ../root-only-secret /work/in");

	snprintf(in, sizeof(in), "%s/in", work);
	spec.work_dir = work;
	spec.stdin_path = in;
	test_run_spec(&spec, &run);
	assert_null(strstr(run.out, "TOP-SECRET"));
}

/* ... and stdin need not be a regular file: a symlink to "/" hands the task
 * a directory fd of the HOST root, and openat(0, ...) / fchdir(0) leave the
 * jail's mount namespace entirely (the whole host fs, with the host uid's
 * permissions). */
static void test_stdin_symlink_to_a_dir_does_not_escape(void **state)
{
	char hostonly[600], in[600], rel[600];
	char *const fd0[] = { "/t/attack", "fd0", rel, NULL };
	struct jail_spec spec;
	struct test_run run;
	const char *work;

	require_root();
	copy_attack_probe();
	test_spec(&spec, fd0);
	work = make_work_dir("w-stdin-dir", spec.host_uid);
	snprintf(hostonly, sizeof(hostonly), "%s/hostonly/marker", test_jail_dir());
	sh("mkdir -p '%s/hostonly' && echo HOST-ONLY-FILE > '%s' && chmod 0644 '%s'", test_jail_dir(),
	   hostonly, hostonly);
	plant(work, "ln -s / /work/rootdir");

	snprintf(in, sizeof(in), "%s/rootdir", work);
	snprintf(rel, sizeof(rel), "%s", hostonly + 1); /* relative to "/" */
	spec.work_dir = work;
	spec.stdin_path = in;
	test_run_spec(&spec, &run);
	assert_null(strstr(run.out, "HOST-ONLY-FILE"));
	assert_null(strstr(run.out, "fchdir(stdin dir): ALLOWED"));
}

/* Bind sources are resolved by path in the child (as /oldroot/<source>),
 * following symlinks: a symlink the tenant left where the operator binds
 * from ("the previous stage's output dir") mounts any host dir the jail's
 * host uid can reach. */
static void test_bind_source_symlink_is_not_followed(void **state)
{
	char data[600];
	char *const argv[] = { "/bin/sh", "-c", "cat /data/marker 2>&1; ls /data 2>&1 | head -3", NULL };
	struct jail_mount mounts[2];
	struct jail_spec spec;
	struct test_run run;
	const char *work;

	require_root();
	test_spec(&spec, argv);
	work = make_work_dir("w-bindsrc", spec.host_uid);
	sh("mkdir -p '%s/other-tenant' && echo OTHER-TENANT-DATA > '%s/other-tenant/marker' && "
	   "chmod 0644 '%s/other-tenant/marker'",
	   test_jail_dir(), test_jail_dir(), test_jail_dir());
	plant(work, "ln -s ../other-tenant /work/results");

	snprintf(data, sizeof(data), "%s/results", work);
	mounts[0] = spec.mounts[0]; /* /t */
	mounts[1] = (struct jail_mount){ .kind = JAIL_MOUNT_BIND_RO, .source = data, .target = "/data" };
	spec.mounts = mounts;
	spec.n_mounts = 2;
	test_run_spec(&spec, &run);
	assert_null(strstr(run.out, "OTHER-TENANT-DATA"));
}

/* Mount points for binds below /work are created (make_dirs + open
 * O_CREAT) while the host's old root is still reachable at /oldroot, and
 * symlinks in the target path are followed: a planted /work/mnt ->
 * /oldroot/<host dir> makes the runner create dirs and files in that host
 * dir (any dir the jail's host uid may write: e.g. an earlier tenant's work
 * dir that had the same pooled host uid). */
static void test_bind_target_symlink_creates_nothing_outside(void **state)
{
	char script[700], planted[600], src[600];
	char *const argv[] = { "/bin/true", NULL };
	struct jail_mount mounts[2];
	struct jail_spec spec;
	struct test_run run;
	struct stat st;
	const char *work;

	require_root();
	test_spec(&spec, argv);
	work = make_work_dir("w-bindtgt", spec.host_uid);
	/* a host dir the same host uid owns (an earlier job's dir) */
	sh("rm -rf '%s/earlier-job' && mkdir -p '%s/earlier-job' && chown %u '%s/earlier-job'",
	   test_jail_dir(), test_jail_dir(), (unsigned)spec.host_uid, test_jail_dir());
	snprintf(script, sizeof(script), "ln -s /oldroot%s/earlier-job /work/mnt", test_jail_dir());
	plant(work, script);

	snprintf(src, sizeof(src), "%s/probe", test_jail_dir());
	mounts[0] = spec.mounts[0];
	mounts[1] = (struct jail_mount){ .kind = JAIL_MOUNT_BIND_RO,
					 .source = src,
					 .target = "/work/mnt/planted-by-runner" };
	spec.work_dir = work;
	spec.mounts = mounts;
	spec.n_mounts = 2;
	test_run_spec(&spec, &run);
	snprintf(planted, sizeof(planted), "%s/earlier-job/planted-by-runner", test_jail_dir());
	assert_int_equal(stat(planted, &st), -1);
}

/* A task may chmod u+s its own files in a rw bind: on the host they are
 * setuid to the jail's host uid (nosuid only applies inside the jail).  Any
 * local user who can reach the work dir becomes that host uid, which the
 * pool hands to the NEXT tenant's jail (signals, ptrace of its dumpable
 * task, its files). */
static void test_no_setuid_file_can_be_left_in_a_work_dir(void **state)
{
	char *const argv[] = { "/t/attack", "setuid", "/t/attack", "/work/su", NULL };
	char path[600], cmd[900], out[256];
	struct jail_spec spec;
	struct test_run run;
	struct stat st;
	const char *work;

	require_root();
	copy_attack_probe();
	test_spec(&spec, argv);
	work = make_work_dir("w-suid", spec.host_uid);
	spec.work_dir = work;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	snprintf(path, sizeof(path), "%s/su", work);
	assert_int_equal(stat(path, &st), 0);
	if (st.st_mode & S_ISUID) {
		/* show what it gives: nobody -> the jail's host uid */
		snprintf(cmd, sizeof(cmd), "setpriv --reuid 65534 --regid 65534 --clear-groups '%s' ids 2>&1",
			 path);
		FILE *p = popen(cmd, "r");

		out[0] = '\0';
		if (p) {
			if (!fgets(out, sizeof(out), p))
				out[0] = '\0';
			pclose(p);
		}
		fprintf(stderr, "setuid file left on the host: mode %o owner %u; run as nobody: %s",
			(unsigned)st.st_mode, (unsigned)st.st_uid, out);
	}
	assert_false(st.st_mode & (S_ISUID | S_ISGID));
}

/* AF_VSOCK is not network-namespaced here: a jail with "no network" can
 * open vsock sockets, squat ports of the (VM) host's global vsock port
 * space and talk to the hypervisor (CID 2).  Only the local bind is tried. */
static void test_vsock_sockets_are_refused(void **state)
{
	char *const argv[] = { "/t/attack", "vsock", "0x7c0dea11", "2", NULL };
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK,
				    .svm_cid = VMADDR_CID_ANY,
				    .svm_port = 0x7c0dea11 };
	struct jail_spec spec;
	struct jail *j = NULL;
	struct jail_error err;
	struct jail_result res;
	int host_fd, bind_rc, bind_errno;

	require_root();
	host_fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (host_fd < 0) {
		test_skip_loudly("no AF_VSOCK on this host (%s)", strerror(errno));
		return;
	}
	copy_attack_probe();
	test_spec(&spec, argv);
	assert_int_equal(jail_spawn(&spec, &j, &err), 0);
	usleep(500000);
	bind_rc = bind(host_fd, (struct sockaddr *)&addr, sizeof(addr));
	bind_errno = errno;
	close(host_fd);
	jail_wait(j, &res, &err);
	jail_free(j);
	{
		char out[4096];

		test_read_text(spec.stdout_path, out, sizeof(out));
		fprintf(stderr, "jail: %s", out);
		if (bind_rc < 0)
			fprintf(stderr, "host bind of the same vsock port: %s\n", strerror(bind_errno));
		assert_null(strstr(out, "vsock socket: ALLOWED"));
	}
	assert_int_equal(bind_rc, 0); /* the jail must not hold a host vsock port */
}

/* ---- attacks that are blocked (and must stay so) ----------------------- */

static void test_init_cannot_be_reached_or_killed(void **state)
{
	char *const argv[] = { "/t/attack", "init", NULL };
	struct jail_spec spec;
	struct test_run run;

	require_root();
	copy_attack_probe();
	test_spec(&spec, argv);
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_null(strstr(run.out, "ALLOWED"));
	assert_non_null(strstr(run.out, "open /proc/1/mem: blocked"));
	assert_non_null(strstr(run.out, "pidfd_getfd init fd 3: blocked"));
	assert_non_null(strstr(run.out, "init survived SIGKILL: yes"));
	assert_string_equal(jail_status_name(run.result.status), "ok");
}

static void test_abstract_unix_sockets_do_not_cross_jails(void **state)
{
	char *const listen_argv[] = { "/t/attack", "listen", "corral-attack", "5", NULL };
	char *const connect_argv[] = { "/t/attack", "connect", "corral-attack", NULL };
	char listen_out[256];
	struct jail_spec a, b;
	struct jail *ja = NULL;
	struct jail_error err;
	struct jail_result res;
	struct test_run run;

	require_root();
	copy_attack_probe();
	test_spec(&a, listen_argv);
	snprintf(listen_out, sizeof(listen_out), "%s/listen.out", test_jail_dir());
	a.stdout_path = listen_out;
	a.host_uid = a.host_gid = a.host_uid + 500; /* another tenant */
	assert_int_equal(jail_spawn(&a, &ja, &err), 0);
	usleep(300000);
	test_spec(&b, connect_argv);
	assert_int_equal(test_run_spec(&b, &run), 0);
	jail_kill(ja, JAIL_KILLED);
	jail_wait(ja, &res, &err);
	jail_free(ja);
	assert_non_null(strstr(run.out, "connect abstract socket of another jail: blocked"));
}

static void test_tmpfs_writes_count_against_the_memory_limit(void **state)
{
	char *const argv[] = { "/t/attack", "shmfill", "60", NULL };
	struct jail_spec spec;
	struct test_run run;

	require_root();
	copy_attack_probe();
	test_spec(&spec, argv);
	spec.memory_bytes = 32u << 20;
	spec.tmp_bytes = 128u << 20;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_null(strstr(run.out, "shmfill: ALLOWED"));
	assert_true(run.result.memory_peak_bytes <= spec.memory_bytes);
}

static void test_socket_buffers_count_against_the_memory_limit(void **state)
{
	char *const argv[] = { "/t/attack", "sockmem", "96", NULL };
	struct jail_spec spec;
	struct test_run run;

	require_root();
	copy_attack_probe();
	test_spec(&spec, argv);
	spec.memory_bytes = 32u << 20;
	spec.pids_max = 64;
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_null(strstr(run.out, "sockmem pin: ALLOWED"));
	assert_true(run.result.memory_peak_bytes <= spec.memory_bytes);
}

static void test_cgroup_cannot_be_left_or_written(void **state)
{
	char *const argv[] = { "/t/attack", "cgroup", NULL };
	struct jail_spec spec;
	struct test_run run;

	require_root();
	copy_attack_probe();
	test_spec(&spec, argv);
	assert_int_equal(test_run_spec(&spec, &run), 0);
	assert_null(strstr(run.out, "ALLOWED"));
	assert_non_null(strstr(run.out, "cgroup: 0::/\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_stdout_symlink_does_not_overwrite_a_host_file,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_status_file_symlink_does_not_overwrite_a_host_file,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_stdin_symlink_does_not_read_a_root_only_file,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_stdin_symlink_to_a_dir_does_not_escape, test_jail_teardown),
		cmocka_unit_test_teardown(test_bind_source_symlink_is_not_followed, test_jail_teardown),
		cmocka_unit_test_teardown(test_bind_target_symlink_creates_nothing_outside,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_no_setuid_file_can_be_left_in_a_work_dir, test_jail_teardown),
		cmocka_unit_test_teardown(test_vsock_sockets_are_refused, test_jail_teardown),
		cmocka_unit_test_teardown(test_init_cannot_be_reached_or_killed, test_jail_teardown),
		cmocka_unit_test_teardown(test_abstract_unix_sockets_do_not_cross_jails, test_jail_teardown),
		cmocka_unit_test_teardown(test_tmpfs_writes_count_against_the_memory_limit,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_socket_buffers_count_against_the_memory_limit,
					  test_jail_teardown),
		cmocka_unit_test_teardown(test_cgroup_cannot_be_left_or_written, test_jail_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, test_jail_group_teardown);
}
