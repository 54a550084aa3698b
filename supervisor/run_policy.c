/*
 * supervisor/run_policy.c — corral-run's policy support.  Until policy files
 * land (issue 4), --policy is refused with a clear message.
 */
#include <errno.h>
#include <stdio.h>

#include "supervisor/run_policy.h"

void run_policy_init(struct run_policy *p)
{
	p->state = NULL;
}

int run_policy_apply(struct run_policy *p, struct run_options *opts, char *msg, size_t msg_size)
{
	(void)p;
	if (!opts->policy_path)
		return 0;
	snprintf(msg, msg_size, "--policy: policy files are not supported by this build yet");
	return -EINVAL;
}

void run_policy_free(struct run_policy *p)
{
	p->state = NULL;
}
