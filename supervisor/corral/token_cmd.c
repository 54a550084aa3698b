/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/token_cmd.c — `corral token create --tenant T
 * [--operator] [--expires DUR] [--name NAME]`, `corral token list`,
 * `corral token revoke ID`: the ops token_create, token_list and
 * token_revoke (api/api_ops.c) over the socket.  create prints the token
 * once; corrald keeps only its SHA-256.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "policy/policy.h"
#include "supervisor/api/api.h"
#include "supervisor/common/macros.h"
#include "supervisor/corral/connection.h"
#include "supervisor/corral/token_cmd.h"

static void token_usage(FILE *f)
{
	fprintf(f,
		"usage: corral token create --tenant TENANT [--operator] [--expires DUR] [--name NAME] [--json]\n"
		"       corral token list [--json]\n"
		"       corral token revoke ID [--json]\n"
		"\n"
		"API tokens for corrald's HTTP API (policy [http]); operators only.  A token acts\n"
		"for its tenant (Authorization: Bearer TOKEN); an --operator token for any tenant.\n"
		"create prints the token once: corrald keeps only its SHA-256.\n"
		"\n"
		"  --tenant TENANT   the tenant the token acts for\n"
		"  --operator        an operator's token (every tenant, operator operations)\n"
		"  --expires DUR     valid for DUR: 90d, 12h, 30m (default: until revoked)\n"
		"  --name NAME       a label for 'token list': ci, deploy-bot\n"
		"  --socket PATH     corrald's socket (default $%s, else %s)\n"
		"  --json            print the server's JSON response\n",
		CLIENT_SOCKET_ENV, CLIENT_DEFAULT_SOCKET);
}

static void print_time(FILE *out, int64_t us)
{
	char buf[32];
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (us <= 0 || !gmtime_r(&t, &tm)) {
		fprintf(out, " %-20s", "-");
		return;
	}
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(out, " %-20s", buf);
}

static void print_tokens(FILE *out, json_t *tokens)
{
	size_t i;
	json_t *t;

	fprintf(out, "%-5s %-16s %-16s %-8s %-20s %-20s %-20s %s\n", "ID", "NAME", "TENANT", "SCOPE",
		"CREATED", "LAST USED", "EXPIRES", "REVOKED");
	json_array_foreach (tokens, i, t) {
		fprintf(out, "%-5" JSON_INTEGER_FORMAT " %-16.16s %-16.16s %-8s",
			json_integer_value(json_object_get(t, "id")),
			json_string_value(json_object_get(t, "name")) ?: "",
			json_string_value(json_object_get(t, "tenant")) ?: "",
			json_is_true(json_object_get(t, "operator")) ? "operator" : "tenant");
		print_time(out, json_integer_value(json_object_get(t, "created_at_us")));
		print_time(out, json_integer_value(json_object_get(t, "last_used_at_us")));
		print_time(out, json_integer_value(json_object_get(t, "expires_at_us")));
		print_time(out, json_integer_value(json_object_get(t, "revoked_at_us")));
		fputc('\n', out);
	}
}

static int call(const char *socket, enum api_op op, json_t *fields, bool json_out)
{
	json_t *resp;

	if (connection_run_op(socket, op, fields, "corral token", &resp) != 0)
		return 1;
	if (json_out) {
		json_dumpf(resp, stdout, JSON_COMPACT);
		fputc('\n', stdout);
	} else if (op == API_OP_TOKEN_CREATE) {
		json_t *t = json_object_get(resp, "token");

		printf("%s\n", json_string_value(json_object_get(resp, "secret")) ?: "");
		fprintf(stderr,
			"token %" JSON_INTEGER_FORMAT " for tenant %s%s: shown once, corrald keeps only its "
			"SHA-256\n",
			json_integer_value(json_object_get(t, "id")),
			json_string_value(json_object_get(t, "tenant")),
			json_is_true(json_object_get(t, "operator")) ? " (operator)" : "");
	} else if (op == API_OP_TOKEN_LIST) {
		print_tokens(stdout, json_object_get(resp, "tokens"));
	} else {
		printf("revoked token %" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(json_object_get(resp, "token"), "id")));
	}
	json_decref(resp);
	return 0;
}

int token_cmd_main(int argc, char **argv)
{
	enum { O_TENANT = 1, O_OPERATOR, O_EXPIRES, O_NAME, O_SOCKET, O_JSON, O_HELP };
	static const struct option options[] = {
		{ "tenant", required_argument, NULL, O_TENANT },
		{ "operator", no_argument, NULL, O_OPERATOR },
		{ "expires", required_argument, NULL, O_EXPIRES },
		{ "name", required_argument, NULL, O_NAME },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *tenant = NULL, *name = NULL, *socket = NULL, *verb;
	bool op = false, json_out = false;
	uint64_t expires_ms = 0;
	json_t *fields;
	int o;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		token_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	verb = argv[1];
	optind = 1;
	while ((o = getopt_long(argc - 1, argv + 1, "h", options, NULL)) != -1) {
		switch (o) {
		case O_TENANT:
			tenant = optarg;
			break;
		case O_OPERATOR:
			op = true;
			break;
		case O_EXPIRES:
			if (policy_parse_duration_ms(optarg, &expires_ms) < 0 || expires_ms < 1000) {
				fprintf(stderr,
					"corral token: --expires: '%s' is not a duration (90d, 12h)\n",
					optarg);
				return 2;
			}
			break;
		case O_NAME:
			name = optarg;
			break;
		case O_SOCKET:
			socket = optarg;
			break;
		case O_JSON:
			json_out = true;
			break;
		case 'h':
		case O_HELP:
			token_usage(stdout);
			return 0;
		default:
			token_usage(stderr);
			return 2;
		}
	}
	argc--, argv++; /* operands after the options, as getopt left them */
	fields = json_object();
	if (strcmp(verb, "create") == 0 && tenant && optind == argc) {
		json_object_set_new(fields, "user", json_string(tenant));
		if (name)
			json_object_set_new(fields, "name", json_string(name));
		if (op)
			json_object_set_new(fields, "operator", json_true());
		if (expires_ms)
			json_object_set_new(fields, "expires_ms", json_integer((json_int_t)expires_ms));
		return call(socket, API_OP_TOKEN_CREATE, fields, json_out);
	}
	if (strcmp(verb, "list") == 0 && optind == argc && !tenant && !name && !op && !expires_ms)
		return call(socket, API_OP_TOKEN_LIST, fields, json_out);
	if (strcmp(verb, "revoke") == 0 && optind + 1 == argc && !tenant && !name && !op && !expires_ms) {
		char *end;
		long long id = strtoll(argv[optind], &end, 10);

		if (*end == '\0' && id > 0) {
			json_object_set_new(fields, "id", json_integer(id));
			return call(socket, API_OP_TOKEN_REVOKE, fields, json_out);
		}
	}
	json_decref(fields);
	token_usage(stderr);
	return 2;
}
