/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_webhook_rules.c — the pure parts of tenant records and
 * result webhooks: the order [user] > tenant record > [default]
 * (policy_limits_resolve), the [http] callback keys, which callback URLs
 * corrald may POST to (supervisor/corrald/webhook_rules.c), the signature
 * (RFC 4231 test vector) and the retry schedule.
 */
#include "tests/unit/policy_helpers.h"

#include "supervisor/corrald/webhook_rules.h"

static const char base_policy[] = "[plan free]\nmax_concurrent = 1\n"
				  "[plan pro]\nmax_concurrent = 3\n"
				  "[user carol]\nplan = free\n"
				  "[default]\nplan = free\n";

static void test_record_is_over_default_and_under_user_section(void **state)
{
	struct policy *p = load_ok(base_policy);
	struct policy_tenant_record pro = { .plan = "pro" }, pro8 = { .plan = "pro", .max_concurrent = 8 },
				    gone = { .plan = "gold" };
	struct policy_limits lim;
	enum policy_limits_source src;

	(void)state;
	assert_int_equal(policy_limits_resolve(p, "alice", NULL, &lim, &src), 0);
	assert_int_equal(src, POLICY_LIMITS_DEFAULT);
	assert_string_equal(lim.plan, "free");
	assert_int_equal(policy_limits_resolve(p, "alice", &pro, &lim, &src), 0);
	assert_int_equal(src, POLICY_LIMITS_RECORD);
	assert_string_equal(lim.plan, "pro");
	assert_int_equal(lim.max_concurrent, 3);
	assert_int_equal(policy_limits_resolve(p, "alice", &pro8, &lim, &src), 0);
	assert_int_equal(lim.max_concurrent, 8);
	/* a [user] section wins */
	assert_int_equal(policy_limits_resolve(p, "carol", &pro8, &lim, &src), 0);
	assert_int_equal(src, POLICY_LIMITS_USER);
	assert_string_equal(lim.plan, "free");
	assert_int_equal(lim.max_concurrent, 1);
	/* a record whose plan left the policy: [default] */
	assert_int_equal(policy_limits_resolve(p, "alice", &gone, &lim, &src), 0);
	assert_int_equal(src, POLICY_LIMITS_DEFAULT);
	assert_string_equal(lim.plan, "free");
	/* the same as policy_limits_for without a record */
	assert_int_equal(policy_limits_for(p, "carol", &lim), 0);
	assert_string_equal(lim.plan, "free");
	policy_free(p);
}

static void test_record_works_without_default(void **state)
{
	struct policy *p = load_ok("[plan pro]\nmax_concurrent = 3\n");
	struct policy_tenant_record pro = { .plan = "pro" }, gone = { .plan = "gold" };
	struct policy_limits lim;

	(void)state;
	assert_int_equal(policy_limits_resolve(p, "alice", NULL, &lim, NULL), -ENOENT);
	assert_int_equal(policy_limits_resolve(p, "alice", &gone, &lim, NULL), -ENOENT);
	assert_int_equal(policy_limits_resolve(p, "alice", &pro, &lim, NULL), 0);
	assert_string_equal(lim.plan, "pro");
	policy_free(p);
}

static struct policy *hooks_policy(void)
{
	return load_ok("[http]\ncallback_hosts = Hooks.Example.com, 127.0.0.1:8081 [::1]:9000\n"
		       "callback_secret = 0123456789abcdef\ncallback_backoff = 500ms\n");
}

static void test_callback_keys_load(void **state)
{
	struct policy *p = hooks_policy();
	const struct policy_http *h = policy_http(p);

	(void)state;
	assert_int_equal(h->n_callback_hosts, 3);
	assert_string_equal(h->callback_hosts[0], "hooks.example.com");
	assert_string_equal(h->callback_hosts[2], "[::1]:9000");
	assert_string_equal(h->callback_secret, "0123456789abcdef");
	assert_int_equal(h->callback_backoff_ms, 500);
	policy_free(p);
	p = load_ok("[plan free]\n");
	assert_int_equal(policy_http(p)->n_callback_hosts, 0);
	assert_int_equal(policy_http(p)->callback_backoff_ms, 20000);
	policy_free(p);
	expect_one_error("[http]\ncallback_hosts = a.example\n", "t.conf:1", "needs callback_secret");
	expect_one_error("[http]\ncallback_hosts = a_b/x\ncallback_secret = 0123456789abcdef\n", "t.conf:2",
			 "is not a host");
	expect_one_error("[http]\ncallback_hosts = a:0\ncallback_secret = 0123456789abcdef\n", "t.conf:2",
			 "is not a host");
	expect_one_error("[http]\ncallback_hosts = a\ncallback_secret = short\n", "t.conf:3", "not allowed");
}

static void expect_url(const struct policy_http *h, const char *url, int want, const char *needle)
{
	char why[512] = "";
	int r = webhook_rules_url_check(h, url, why, sizeof(why));

	if (r != want || (needle && !strstr(why, needle)))
		fail_msg("%s: %d '%s', wanted %d '%s'", url, r, why, want, needle ? needle : "");
}

static void test_only_listed_hosts_and_ports_are_allowed(void **state)
{
	struct policy *p = hooks_policy();
	const struct policy_http *h = policy_http(p);

	(void)state;
	expect_url(h, "https://hooks.example.com/corral", 0, NULL);
	expect_url(h, "http://HOOKS.example.com/x?y=1", 0, NULL);
	expect_url(h, "https://hooks.example.com:443/x", 0, NULL);
	expect_url(h, "http://127.0.0.1:8081/done", 0, NULL);
	expect_url(h, "http://[::1]:9000/", 0, NULL);
	/* a name without a port: the scheme's own port only */
	expect_url(h, "https://hooks.example.com:8443/x", -EPERM, "callback_hosts");
	expect_url(h, "http://127.0.0.1/done", -EPERM, "callback_hosts");
	expect_url(h, "http://127.0.0.1:8082/done", -EPERM, "callback_hosts");
	expect_url(h, "http://hooks.example.com.evil.net/", -EPERM, "callback_hosts");
	expect_url(h, "http://169.254.169.254/latest/meta-data/", -EPERM, "callback_hosts");
	expect_url(h, "http://[::1]:9001/", -EPERM, "callback_hosts");
	expect_url(h, "file:///etc/shadow", -EINVAL, NULL);
	expect_url(h, "gopher://hooks.example.com/", -EINVAL, NULL);
	expect_url(h, "http://u:p@hooks.example.com/", -EINVAL, "user name or password");
	expect_url(h, "hooks.example.com/x", -EINVAL, NULL);
	expect_url(h, "", -EINVAL, NULL);
	policy_free(p);
}

/* RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?" */
static void test_signature_is_hmac_sha256_hex(void **state)
{
	char sig[WEBHOOK_RULES_SIGNATURE_SIZE];
	const char *body = "what do ya want for nothing?";

	(void)state;
	webhook_rules_signature("Jefe", body, strlen(body), sig);
	assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_backoff_doubles_for_five_retries(void **state)
{
	uint64_t total = 0;

	(void)state;
	assert_int_equal(webhook_rules_backoff_us(20000, 1), 20000000);
	assert_int_equal(webhook_rules_backoff_us(20000, 2), 40000000);
	for (uint32_t a = 1; a < WEBHOOK_RULES_MAX_ATTEMPTS; a++)
		total += webhook_rules_backoff_us(20000, a);
	assert_int_equal(total, 620000000); /* about ten minutes */
	assert_int_equal(webhook_rules_backoff_us(20000, WEBHOOK_RULES_MAX_ATTEMPTS), 0);
	assert_int_equal(webhook_rules_backoff_us(20000, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_is_over_default_and_under_user_section),
		cmocka_unit_test(test_record_works_without_default),
		cmocka_unit_test(test_callback_keys_load),
		cmocka_unit_test(test_only_listed_hosts_and_ports_are_allowed),
		cmocka_unit_test(test_signature_is_hmac_sha256_hex),
		cmocka_unit_test(test_backoff_doubles_for_five_retries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
