/*
 * runner/netns.c — the jail's network: a new network namespace has only a
 * loopback device, and it is down.  We bring lo up through libnl-route so
 * the jail can talk to itself and nothing else.  (veth for jails that need
 * a network comes later, in the same file.)
 */
#include <errno.h>
#include <net/if.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "runner/internal.h"

#define LOOPBACK_IFINDEX 1  /* always 1 in a new network namespace */

int netns_lo_up(struct jail_error *err)
{
	struct nl_sock *sock = nl_socket_alloc();
	struct rtnl_link *lo = NULL, *change = NULL;
	int r;

	if (!sock)
		return jail_error_set(err, ENOMEM, "netlink", "allocate a netlink socket");
	r = nl_connect(sock, NETLINK_ROUTE);
	if (r < 0) {
		r = jail_error_set(err, 0, "netlink", "connect to rtnetlink: %s", nl_geterror(r));
		goto out;
	}
	lo = rtnl_link_alloc();
	change = rtnl_link_alloc();
	if (!lo || !change) {
		r = jail_error_set(err, ENOMEM, "netlink", "allocate link objects");
		goto out;
	}
	rtnl_link_set_ifindex(lo, LOOPBACK_IFINDEX);
	rtnl_link_set_flags(change, IFF_UP);
	r = rtnl_link_change(sock, lo, change, 0);
	if (r < 0)
		r = jail_error_set(err, 0, "netlink", "bring up lo: %s", nl_geterror(r));
out:
	rtnl_link_put(lo);
	rtnl_link_put(change);
	nl_socket_free(sock);
	return r < 0 ? r : 0;
}
