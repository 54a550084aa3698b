/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/netns.c — the jail's network: a new network namespace has only a
 * loopback device, and it is down.  We bring lo up through libnl-route so
 * the jail can talk to itself and nothing else.  (veth for jails that need
 * a network comes later, in the same file.)
 *
 * The netlink socket object and the RTM_NEWLINK request are built once per
 * process, in the parent; the cloned child only connects (which opens the
 * socket inside its own network namespace), sends and waits for the ack.
 * That keeps allocations — and copy-on-write faults — out of every spawn.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "runner/internal.h"

#define LOOPBACK_IFINDEX 1 /* always 1 in a new network namespace */

static pthread_mutex_t lo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nl_sock *lo_sock;
static struct nl_msg *lo_request;

int netns_prepare(struct jail_error *err)
{
	struct rtnl_link *lo = NULL, *change = NULL;
	int r = 0;

	pthread_mutex_lock(&lo_lock);
	if (lo_request)
		goto out;
	lo_sock = nl_socket_alloc();
	lo = rtnl_link_alloc();
	change = rtnl_link_alloc();
	if (!lo_sock || !lo || !change) {
		r = jail_error_set(err, ENOMEM, "netlink", "allocate netlink objects");
		goto out;
	}
	rtnl_link_set_ifindex(lo, LOOPBACK_IFINDEX);
	rtnl_link_set_flags(change, IFF_UP);
	r = rtnl_link_build_change_request(lo, change, 0, &lo_request);
	if (r < 0) {
		lo_request = NULL;
		r = jail_error_set(err, 0, "netlink", "build the request to bring up lo: %s", nl_geterror(r));
	}
out:
	if (r < 0 && lo_sock) {
		nl_socket_free(lo_sock);
		lo_sock = NULL;
	}
	rtnl_link_put(lo);
	rtnl_link_put(change);
	pthread_mutex_unlock(&lo_lock);
	return r;
}

int netns_lo_up(struct jail_error *err)
{
	int r;

	if (!lo_sock || !lo_request)
		return jail_error_set(err, 0, "netlink", "netns_prepare() was not called");
	r = nl_connect(lo_sock, NETLINK_ROUTE);
	if (r < 0)
		return jail_error_set(err, 0, "netlink", "connect to rtnetlink: %s", nl_geterror(r));
	r = nl_send_auto(lo_sock, lo_request);
	if (r >= 0)
		r = nl_wait_for_ack(lo_sock);
	nl_close(lo_sock);
	if (r < 0)
		return jail_error_set(err, 0, "netlink", "bring up lo: %s", nl_geterror(r));
	return 0;
}
