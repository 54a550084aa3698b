/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_host_etc_dir.c — the jail's /etc prepared once on the
 * host (runner/host_etc_dir.c), from a fake root in a temp dir: a set holds
 * what corral-init would have built (generated files, copies with their
 * modes, symlinks, parents, mount points for directories); the next jail of
 * the same host state takes the same set without making it again; a host
 * file changed, another hostname or uid gives another set; a set whose key
 * file says something else, or that has none, is never used; a file or directory only some uids may
 * read gives none (init copies as the jail's uid then).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "runner/host_etc.h"
#include "runner/jail.h"
#include "tests/lib/test.h"

static char root[64], base[96];
static char *paths[] = { "ld.so.cache", "localtime", "nsswitch.conf", "ssl/certs", "ssl/openssl.cnf", NULL };
static struct host_etc set = { .paths = paths, .n = 5, .refs = 1 };

static void put(const char *rel, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void make_dir(const char *rel, mode_t mode)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	char link[256];
	struct jail_error err;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/corral-etc-dir-XXXXXX");
	assert_non_null(mkdtemp(root));
	assert_int_equal(chmod(root, 0755), 0); /* the jail's uid must reach the sets */
	make_dir("etc", 0755);
	put("etc/ld.so.cache", "cache\n", 0644);
	put("etc/nsswitch.conf", "passwd: files\n", 0444);
	make_dir("etc/ssl", 0755);
	make_dir("etc/ssl/certs", 0755);
	put("etc/ssl/openssl.cnf", "[openssl]\n", 0644);
	snprintf(link, sizeof(link), "%s/etc/localtime", root);
	assert_int_equal(symlink("/usr/share/zoneinfo/Etc/UTC", link), 0);
	snprintf(base, sizeof(base), "%s/sets", root);
	assert_int_equal(jail_host_etc_prepare_in(base, &err), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	struct jail_error err;

	(void)state;
	assert_int_equal(jail_host_etc_prepare_in(NULL, &err), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct jail_spec spec_of(const char *hostname, uid_t uid)
{
	struct jail_spec spec;

	jail_spec_init(&spec);
	spec.hostname = hostname;
	spec.uid = uid;
	spec.gid = uid;
	return spec;
}

static void find(const struct jail_spec *spec, char out[PATH_MAX])
{
	assert_int_equal(host_etc_dir_find(root, &set, spec, out, PATH_MAX), 1);
	assert_memory_equal(out, base, strlen(base));
}

static void expect_file(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char path[PATH_MAX], buf[256];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDONLY | O_NOFOLLOW);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, text);
}

static void test_a_set_holds_what_init_would_build(void **state)
{
	struct jail_spec spec = spec_of("box", 1000);
	char dir[PATH_MAX], path[PATH_MAX + 16], link[64];
	mode_t mask = umask(022);
	struct stat st;
	ssize_t n;

	(void)state;
	umask(mask);
	find(&spec, dir);
	expect_file(dir, "passwd",
		    "root:x:0:0:root:/root:/usr/sbin/nologin\n"
		    "sandbox:x:1000:1000:corral sandbox:/work:/bin/sh\n"
		    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		    0644 & ~mask);
	expect_file(dir, "hostname", "box\n", 0644 & ~mask);
	expect_file(dir, "hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tbox\n", 0644 & ~mask);
	expect_file(dir, "group", "root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n", 0644 & ~mask);
	expect_file(dir, "ld.so.cache", "cache\n", 0644 & ~mask);
	/* the mode init gives a copy: the host's & 0644 */
	expect_file(dir, "nsswitch.conf", "passwd: files\n", 0444 & ~mask);
	expect_file(dir, "ssl/openssl.cnf", "[openssl]\n", 0644 & ~mask);
	snprintf(path, sizeof(path), "%s/localtime", dir);
	n = readlink(path, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, "/usr/share/zoneinfo/Etc/UTC");
	/* a directory's mount point: empty, init binds the host's on it */
	snprintf(path, sizeof(path), "%s/ssl/certs", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_nlink, 2);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755 & ~mask);
	assert_int_equal(stat(base, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0711);
}

static void test_the_same_host_state_takes_the_same_set(void **state)
{
	struct jail_spec spec = spec_of("box", 1000), other = spec_of("other", 1000),
			 uid = spec_of("box", 1001);
	char first[PATH_MAX], again[PATH_MAX], path[PATH_MAX + 8];
	struct stat before, after;

	(void)state;
	find(&spec, first);
	snprintf(path, sizeof(path), "%s.key", first);
	assert_int_equal(stat(path, &before), 0);
	find(&spec, again);
	assert_string_equal(first, again);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino); /* not made again */
	find(&other, again);
	assert_string_not_equal(first, again);
	find(&uid, again);
	assert_string_not_equal(first, again);
	expect_file(again, "group", "root:x:0:\nsandbox:x:1001:\nnogroup:x:65534:\n", 0644 & ~022);
}

static void test_a_changed_host_file_gives_a_new_set(void **state)
{
	struct jail_spec spec = spec_of("box", 1000);
	char first[PATH_MAX], again[PATH_MAX];

	(void)state;
	find(&spec, first);
	put("etc/ld.so.cache", "new cache!\n", 0644);
	find(&spec, again);
	assert_string_not_equal(first, again);
	expect_file(again, "ld.so.cache", "new cache!\n", 0644 & ~022);
	expect_file(first, "ld.so.cache", "cache\n", 0644 & ~022); /* a running jail keeps its own */
}

/* A caller that starts jails back to back (corrald) stamps the host /etc
 * at most every restamp_after: a change shows in the sets found after. */
static void test_a_restamp_interval_takes_the_same_set_until_it_passed(void **state)
{
	struct jail_spec spec = spec_of("box", 1000), other = spec_of("other", 1000);
	char first[PATH_MAX], again[PATH_MAX], later[PATH_MAX], named[PATH_MAX];
	struct timespec wait = { 0, 30 * 1000000 };

	(void)state;
	jail_host_etc_restamp_after(20000);
	find(&spec, first);
	put("etc/ld.so.cache", "new cache!\n", 0644);
	find(&spec, again);
	assert_string_equal(first, again); /* within 20 ms: not stamped */
	find(&other, named);               /* another hostname: stamped */
	expect_file(named, "ld.so.cache", "new cache!\n", 0644 & ~022);
	nanosleep(&wait, NULL);
	find(&spec, later);
	assert_string_not_equal(first, later);
	expect_file(later, "ld.so.cache", "new cache!\n", 0644 & ~022);
	jail_host_etc_restamp_after(0);
}

/* What the set does not follow from leaves it as it is: a file made in
 * /etc or in a given directory (their mtime changes). */
static void test_a_file_made_beside_keeps_the_set(void **state)
{
	struct jail_spec spec = spec_of("box", 1000);
	char first[PATH_MAX], again[PATH_MAX];

	(void)state;
	find(&spec, first);
	put("etc/shadow", "secret\n", 0600);
	put("etc/ssl/certs/new.pem", "pem\n", 0644);
	find(&spec, again);
	assert_string_equal(first, again);
}

/* A set whose key file says something else (a hash collision, a set of
 * another version, a torn write) is never used. */
static void test_a_set_with_another_key_is_not_used(void **state)
{
	struct jail_spec spec = spec_of("box", 1000);
	char dir[PATH_MAX], path[PATH_MAX + 8], again[PATH_MAX];

	(void)state;
	find(&spec, dir);
	snprintf(path, sizeof(path), "%s.key", dir);
	assert_int_equal(truncate(path, 10), 0);
	/* the name is taken by a set it cannot trust: none */
	assert_int_equal(host_etc_dir_find(root, &set, &spec, again, sizeof(again)), 0);
}

/* A key whose set is missing (its maker died) gets its set made; a set
 * without its key is never trusted. */
static void test_a_set_is_used_only_with_its_key(void **state)
{
	struct jail_spec spec = spec_of("box", 1000);
	char dir[PATH_MAX], again[PATH_MAX], cmd[PATH_MAX + 16], path[PATH_MAX + 8];

	(void)state;
	find(&spec, dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	find(&spec, again);
	assert_string_equal(dir, again);
	expect_file(again, "hostname", "box\n", 0644 & ~022);
	snprintf(path, sizeof(path), "%s.key", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(host_etc_dir_find(root, &set, &spec, again, sizeof(again)), 0);
}

static void test_private_files_give_no_set(void **state)
{
	struct jail_spec spec = spec_of("box", 1000);
	char dir[PATH_MAX], path[256];

	(void)state;
	put("etc/ld.so.cache", "cache\n", 0640);
	assert_int_equal(host_etc_dir_find(root, &set, &spec, dir, sizeof(dir)), 0);
	put("etc/ld.so.cache", "cache\n", 0644);
	assert_int_equal(host_etc_dir_find(root, &set, &spec, dir, sizeof(dir)), 1);
	/* a parent only some uids may search */
	snprintf(path, sizeof(path), "%s/etc/ssl", root);
	assert_int_equal(chmod(path, 0750), 0);
	assert_int_equal(host_etc_dir_find(root, &set, &spec, dir, sizeof(dir)), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

/* A file "other" may read but an ACL keeps from one uid: no set (init
 * copies it as the jail's uid, which the ACL binds).  The ACL's binary
 * form (linux/posix_acl_xattr.h): version 2, then tag, perm, id entries. */
static void test_a_file_with_an_acl_gives_no_set(void **state)
{
	struct {
		uint32_t version;
		struct {
			uint16_t tag, perm;
			uint32_t id;
		} e[5];
	} acl = { 2,
		  { { 0x01, 6, 0xffffffffu },     /* owner rw- */
		    { 0x02, 0, 1000 },            /* user 1000 --- */
		    { 0x04, 4, 0xffffffffu },     /* group r-- */
		    { 0x10, 4, 0xffffffffu },     /* mask r-- */
		    { 0x20, 4, 0xffffffffu } } }; /* other r-- */
	struct jail_spec spec = spec_of("box", 1000);
	char dir[PATH_MAX], path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/etc/nsswitch.conf", root);
	if (setxattr(path, "system.posix_acl_access", &acl, sizeof(acl), 0) < 0) {
		if (errno == EOPNOTSUPP)
			skip(); /* /tmp without ACLs: nothing to check */
		fail_msg("set an ACL on %s: %s", path, strerror(errno));
	}
	assert_int_equal(host_etc_dir_find(root, &set, &spec, dir, sizeof(dir)), 0);
	assert_int_equal(removexattr(path, "system.posix_acl_access"), 0);
	assert_int_equal(host_etc_dir_find(root, &set, &spec, dir, sizeof(dir)), 1);
}

/* The set is root's and the jail's uid reads it as "other": a umask that
 * takes from 0755 would make it unreadable there (every corral-run failed
 * under umask 027 or 077): no set then, init builds /etc. */
static void test_a_private_umask_gives_no_set(void **state)
{
	static const mode_t none[] = { 027, 077, 007, 0700 }, some[] = { 022, 002, 0 };
	struct jail_spec spec = spec_of("box", 1000);
	char dir[PATH_MAX];
	mode_t old = umask(022);

	(void)state;
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		umask(none[i]);
		assert_int_equal(host_etc_dir_find(root, &set, &spec, dir, sizeof(dir)), 0);
	}
	for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++) {
		umask(some[i]);
		assert_int_equal(host_etc_dir_find(root, &set, &spec, dir, sizeof(dir)), 1);
	}
	umask(old);
}

/* corral-init opens the set as the jail's uid, without symlinks: a base
 * below a directory others may not search, or below a symlink, gives none. */
static void test_a_base_the_jail_cannot_reach_gives_no_set(void **state)
{
	struct jail_spec spec = spec_of("box", 1000);
	char dir[PATH_MAX], private_base[128], link[128], linked_base[160];
	struct jail_error err;

	(void)state;
	make_dir("private", 0700);
	snprintf(private_base, sizeof(private_base), "%s/private/sets", root);
	assert_int_equal(jail_host_etc_prepare_in(private_base, &err), 0);
	assert_int_equal(host_etc_dir_find(root, &set, &spec, dir, sizeof(dir)), 0);
	snprintf(link, sizeof(link), "%s/link", root);
	assert_int_equal(symlink(root, link), 0);
	snprintf(linked_base, sizeof(linked_base), "%s/sets", link);
	assert_int_equal(jail_host_etc_prepare_in(linked_base, &err), 0);
	assert_int_equal(host_etc_dir_find(root, &set, &spec, dir, sizeof(dir)), 0);
}

static void test_without_a_base_there_is_no_set(void **state)
{
	struct jail_spec spec = spec_of("box", 1000);
	struct jail_error err;
	char dir[PATH_MAX];

	(void)state;
	assert_int_equal(jail_host_etc_prepare_in(NULL, &err), 0);
	assert_int_equal(host_etc_dir_find(root, &set, &spec, dir, sizeof(dir)), 0);
	assert_int_equal(jail_host_etc_prepare_in("relative", &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_set_holds_what_init_would_build, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_same_host_state_takes_the_same_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_changed_host_file_gives_a_new_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_restamp_interval_takes_the_same_set_until_it_passed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_file_made_beside_keeps_the_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_set_with_another_key_is_not_used, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_set_is_used_only_with_its_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_files_give_no_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_private_umask_gives_no_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_file_with_an_acl_gives_no_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_base_the_jail_cannot_reach_gives_no_set, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_without_a_base_there_is_no_set, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
