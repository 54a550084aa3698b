/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/tenant_cmd.c — `corral tenant set NAME --plan PLAN
 * [--max-concurrent N]`, `corral tenant show NAME`, `corral tenant list`,
 * `corral tenant delete NAME`: the ops tenant_set, tenant_show,
 * tenant_list and tenant_delete (api/api_ops.c) over the socket.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy/policy.h"
#include "supervisor/api/api.h"
#include "supervisor/corral/commands.h"
#include "supervisor/corral/connection.h"
#include "supervisor/corral/tenant_cmd.h"

static void tenant_usage(FILE *f)
{
	fprintf(f,
		"usage: corral tenant set NAME --plan PLAN [--max-concurrent N] [--json]\n"
		"       corral tenant show NAME [--json]\n"
		"       corral tenant list [--json]\n"
		"       corral tenant delete NAME [--json]\n"
		"\n"
		"Tenant records (operators only): a plan for a tenant without editing the policy.\n"
		"A tenant's limits come from its [user] section in the policy if it has one, else\n"
		"from its record, else from [default].  Changes apply to the next scheduling\n"
		"decision and are audited (who, when, what: 'tenant show').\n"
		"\n"
		"  --plan PLAN         a plan of the policy (corral policy show lists them)\n"
		"  --max-concurrent N  running tasks at once (default: the plan's)\n"
		"  --socket PATH       corrald's socket (default $%s, else %s)\n"
		"  --json              print the server's JSON response\n",
		CLIENT_SOCKET_ENV, CLIENT_DEFAULT_SOCKET);
}

static const char *text(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static void print_tenant_row(FILE *out, json_t *t)
{
	char when[40], maxc[16] = "plan's";
	json_t *m = json_object_get(t, "max_concurrent");

	if (json_is_integer(m))
		snprintf(maxc, sizeof(maxc), "%" JSON_INTEGER_FORMAT, json_integer_value(m));
	format_time(json_integer_value(json_object_get(t, "updated_at_us")), when, sizeof(when));
	fprintf(out, "%-20s %-12s %-8s %-14s %-12s %-20s %s\n", text(t, "name"), text(t, "plan"), maxc,
		text(t, "source"), text(t, "effective_plan"), when, text(t, "updated_by"));
}

static void print_header(FILE *out)
{
	fprintf(out, "%-20s %-12s %-8s %-14s %-12s %-20s %s\n", "TENANT", "PLAN", "MAX", "SOURCE",
		"EFFECTIVE", "UPDATED", "BY");
}

static void print_audit(FILE *out, json_t *rows)
{
	size_t i;
	json_t *a;

	if (!json_array_size(rows))
		return;
	fprintf(out, "\naudit:\n");
	json_array_foreach (rows, i, a) {
		char when[40], maxc[16] = "plan's";
		json_t *m = json_object_get(a, "max_concurrent");

		if (json_is_integer(m))
			snprintf(maxc, sizeof(maxc), "%" JSON_INTEGER_FORMAT, json_integer_value(m));
		format_time(json_integer_value(json_object_get(a, "at_us")), when, sizeof(when));
		fprintf(out, "  %s  %-6s plan %s, max_concurrent %s, by %s (uid %" JSON_INTEGER_FORMAT ")\n",
			when, text(a, "action"), text(a, "plan"), maxc, text(a, "by"),
			json_integer_value(json_object_get(a, "by_uid")));
	}
}

static int call(const char *socket, enum api_op op, json_t *fields, bool json_out)
{
	json_t *resp, *t;
	size_t i;

	if (connection_run_op(socket, op, fields, "corral tenant", &resp) != 0)
		return 1;
	if (json_out) {
		json_dumpf(resp, stdout, JSON_COMPACT);
		fputc('\n', stdout);
	} else if (op == API_OP_TENANT_LIST) {
		print_header(stdout);
		json_array_foreach (json_object_get(resp, "tenants"), i, t)
			print_tenant_row(stdout, t);
	} else {
		t = json_object_get(resp, "tenant");
		if (op == API_OP_TENANT_DELETE)
			printf("deleted the record of tenant %s (plan %s)\n", text(t, "name"),
			       text(t, "plan"));
		if (json_is_object(t) && op != API_OP_TENANT_DELETE) {
			print_header(stdout);
			print_tenant_row(stdout, t);
		}
		if (op == API_OP_TENANT_SHOW)
			print_audit(stdout, json_object_get(resp, "audit"));
	}
	json_decref(resp);
	return 0;
}

int tenant_cmd_main(int argc, char **argv)
{
	enum { O_PLAN = 1, O_MAX, O_SOCKET, O_JSON, O_HELP };
	static const struct option options[] = {
		{ "plan", required_argument, NULL, O_PLAN },
		{ "max-concurrent", required_argument, NULL, O_MAX },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *plan = NULL, *socket = NULL, *verb;
	bool json_out = false;
	uint64_t max = 0;
	json_t *fields;
	int o;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		tenant_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	verb = argv[1];
	optind = 1;
	while ((o = getopt_long(argc - 1, argv + 1, "h", options, NULL)) != -1) {
		switch (o) {
		case O_PLAN:
			plan = optarg;
			break;
		case O_MAX:
			if (policy_parse_uint(optarg, API_MAX_TENANT_CONCURRENT, &max) < 0 || max == 0) {
				fprintf(stderr,
					"corral tenant: --max-concurrent: '%s' is not a number from 1 to %u\n",
					optarg, API_MAX_TENANT_CONCURRENT);
				return 2;
			}
			break;
		case O_SOCKET:
			socket = optarg;
			break;
		case O_JSON:
			json_out = true;
			break;
		case 'h':
		case O_HELP:
			tenant_usage(stdout);
			return 0;
		default:
			tenant_usage(stderr);
			return 2;
		}
	}
	argc--, argv++; /* operands after the options, as getopt left them */
	fields = json_object();
	if (strcmp(verb, "list") == 0 && optind == argc && !plan && !max)
		return call(socket, API_OP_TENANT_LIST, fields, json_out);
	if (optind + 1 == argc) {
		json_object_set_new(fields, "user", json_string(argv[optind]));
		if (strcmp(verb, "set") == 0 && plan) {
			json_object_set_new(fields, "plan", json_string(plan));
			if (max)
				json_object_set_new(fields, "max_concurrent", json_integer((json_int_t)max));
			return call(socket, API_OP_TENANT_SET, fields, json_out);
		}
		if (strcmp(verb, "show") == 0 && !plan && !max)
			return call(socket, API_OP_TENANT_SHOW, fields, json_out);
		if (strcmp(verb, "delete") == 0 && !plan && !max)
			return call(socket, API_OP_TENANT_DELETE, fields, json_out);
	}
	json_decref(fields);
	tenant_usage(stderr);
	return 2;
}
