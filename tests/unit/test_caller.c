/* SPDX-License-Identifier: Apache-2.0 */
/* wrap: getpwuid_r getgrgid_r getgrouplist */
/*
 * tests/unit/test_caller.c — corrald's caller identity (supervisor/corrald/
 * caller.c): a user's groups decide operator rights and access, however
 * many groups there are.  The user database is faked with linker wraps:
 * "alice" (uid 5000, primary group 5000 "alice") is in N_GROUPS more groups,
 * gid 6000 + i named "team<i>", listed in that order.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy_helpers.h"
#include "supervisor/corrald/corrald.h"

#define ALICE_UID 5000
#define ALICE_GID 5000
#define N_GROUPS 100 /* well past the 64 identify() used to read */
#define FIRST_TEAM_GID 6000

static int getgrouplist_calls;

int __wrap_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t size, struct passwd **out);
int __wrap_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t size, struct group **out);
int __wrap_getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups);

int __wrap_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t size, struct passwd **out)
{
	*out = NULL;
	if (uid != ALICE_UID)
		return 0;
	if (size < 6)
		return ERANGE;
	memset(pw, 0, sizeof(*pw));
	strcpy(buf, "alice");
	pw->pw_name = buf;
	pw->pw_uid = ALICE_UID;
	pw->pw_gid = ALICE_GID;
	*out = pw;
	return 0;
}

int __wrap_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t size, struct group **out)
{
	*out = NULL;
	if (size < 16)
		return ERANGE;
	memset(gr, 0, sizeof(*gr));
	if (gid == ALICE_GID)
		snprintf(buf, size, "alice");
	else if (gid >= FIRST_TEAM_GID && gid < FIRST_TEAM_GID + N_GROUPS)
		snprintf(buf, size, "team%u", (unsigned)(gid - FIRST_TEAM_GID));
	else
		return 0;
	gr->gr_name = buf;
	gr->gr_gid = gid;
	*out = gr;
	return 0;
}

/* glibc's contract: copy what fits; *ngroups = how many there are; -1 when
 * they did not all fit. */
int __wrap_getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups)
{
	int total = 1 + N_GROUPS;

	getgrouplist_calls++;
	assert_string_equal(user, "alice");
	for (int i = 0; i < total && i < *ngroups; i++)
		groups[i] = i == 0 ? group : (gid_t)(FIRST_TEAM_GID + i - 1);
	if (*ngroups < total) {
		*ngroups = total;
		return -1;
	}
	*ngroups = total;
	return total;
}

static void identify_alice(const char *policy_text, struct caller *c)
{
	struct policy *p = load_ok(policy_text);

	memset(c, 0, sizeof(*c));
	c->uid = ALICE_UID;
	c->gid = ALICE_GID;
	assert_int_equal(caller_identify(c, p), 0);
	policy_free(p);
}

static void test_group_ids_are_all_read_past_the_first_guess(void **state)
{
	gid_t *gids = NULL;
	size_t n = 0;

	(void)state;
	getgrouplist_calls = 0;
	assert_int_equal(caller_group_ids("alice", ALICE_GID, &gids, &n), 0);
	assert_int_equal(n, 1 + N_GROUPS);
	assert_int_equal(gids[0], ALICE_GID);
	assert_int_equal(gids[N_GROUPS], FIRST_TEAM_GID + N_GROUPS - 1);
	assert_int_equal(getgrouplist_calls, 2); /* 64 was short; then the size it said */
	free(gids);
}

static void test_operator_rule_on_the_100th_group_makes_an_operator(void **state)
{
	struct caller c;

	(void)state;
	identify_alice("[access]\noperators = root @team99\n", &c);
	assert_string_equal(c.user, "alice");
	assert_true(c.operator_);
	assert_true(c.allowed);
	caller_clear(&c);
}

static void test_users_rule_on_the_70th_group_lets_in(void **state)
{
	struct caller c;

	(void)state;
	identify_alice("[access]\noperators = root\nusers = @team69\n", &c);
	assert_false(c.operator_);
	assert_true(c.allowed);
	caller_clear(&c);
}

static void test_a_group_alice_is_not_in_gives_nothing(void **state)
{
	struct caller c;

	(void)state;
	identify_alice("[access]\noperators = root @team100\nusers = @nobody\n", &c);
	assert_false(c.operator_);
	assert_false(c.allowed);
	caller_clear(&c);
}

static void test_tenant_is_the_primary_group_with_tenant_from_group(void **state)
{
	struct caller c;

	(void)state;
	identify_alice("[access]\ntenant_from = group\n", &c);
	assert_string_equal(c.tenant, "alice");
	caller_clear(&c);
}

/* A uid without a passwd entry is named by number for the logs, but is no
 * tenant and may not use corral (issue 16: no tenants minted from
 * subordinate uids). */
static void test_unknown_uid_is_refused_and_mints_no_tenant(void **state)
{
	struct policy *p = load_ok("[access]\noperators = root @team0\n");
	struct caller c = { .uid = 4242, .gid = 4242 };

	(void)state;
	assert_int_equal(caller_identify(&c, p), -ENOENT);
	assert_true(c.unknown);
	assert_string_equal(c.user, "uid4242");
	assert_null(c.tenant);
	assert_false(c.allowed);
	assert_false(c.operator_);
	caller_clear(&c);
	policy_free(p);
}

/* tenant_from = group: the passwd primary group, whatever egid the
 * connection has (sg team3 corral submit). */
static void test_group_tenant_ignores_the_effective_gid(void **state)
{
	struct policy *p = load_ok("[access]\ntenant_from = group\n");
	struct caller c = { .uid = ALICE_UID, .gid = FIRST_TEAM_GID + 3 };

	(void)state;
	assert_int_equal(caller_identify(&c, p), 0);
	assert_string_equal(c.tenant, "alice");
	caller_clear(&c);
	policy_free(p);
}

static void test_decide_is_pure_over_a_given_group_list(void **state)
{
	struct policy *p = load_ok("[access]\noperators = @wheel\nusers = @corral\n");
	const char *const groups[] = { "staff", "corral", NULL };
	struct caller c = { .user = strdup("bob") };

	(void)state;
	caller_decide(&c, p, groups, "staff");
	assert_false(c.operator_);
	assert_true(c.allowed);
	assert_string_equal(c.tenant, "bob");
	caller_clear(&c);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_ids_are_all_read_past_the_first_guess),
		cmocka_unit_test(test_operator_rule_on_the_100th_group_makes_an_operator),
		cmocka_unit_test(test_users_rule_on_the_70th_group_lets_in),
		cmocka_unit_test(test_a_group_alice_is_not_in_gives_nothing),
		cmocka_unit_test(test_tenant_is_the_primary_group_with_tenant_from_group),
		cmocka_unit_test(test_unknown_uid_is_refused_and_mints_no_tenant),
		cmocka_unit_test(test_group_tenant_ignores_the_effective_gid),
		cmocka_unit_test(test_decide_is_pure_over_a_given_group_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
