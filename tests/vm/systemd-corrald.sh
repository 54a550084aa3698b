#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/vm/systemd-corrald.sh — inside the VM booted with the host's systemd
# as pid 1 (tests/vm/run.sh --systemd; make check-v2 runs it): install the
# build as `make install` would, start contrib/systemd/corrald.service
# (Delegate=yes) and check on pure cgroup v2 that corrald sits in its leaf
# supervisor/ of the service's cgroup, that the controllers are enabled for
# the jails, that a task runs to its end in corral/<task> with its limits,
# that a handover (SIGUSR2: corrald executes itself again in place) keeps a
# running task, which ends with its own result, and that a stop leaves
# nothing behind.  Prints one line per check and ends
# with "systemd: N passed, N failed".
#
#   tests/vm/systemd-corrald.sh BUILD
set -u
build=$1
passed=0 failed=0
check() {  # check NAME COMMAND...
	name=$1
	shift
	if "$@" >/tmp/check.out 2>&1; then
		echo "[       OK ] $name"
		passed=$((passed + 1))
	else
		echo "[  FAILED  ] $name"
		sed 's/^/    /' /tmp/check.out | tail -20
		failed=$((failed + 1))
	fi
}

install -d /usr/local/sbin /usr/local/bin /usr/local/libexec/corral /etc/corral
install -m 755 "$build/corrald" /usr/local/sbin/corrald
install -m 755 "$build/corral" /usr/local/bin/corral
install -m 755 "$build/corral-init" /usr/local/libexec/corral/corral-init
install -m 644 contrib/policy/corral.conf /etc/corral/policy.conf
install -m 644 contrib/systemd/corrald.service /etc/systemd/system/corrald.service
systemctl daemon-reload

service=/sys/fs/cgroup/system.slice/corrald.service
started() {
	systemctl start corrald.service || { journalctl -u corrald --no-pager | tail -20; return 1; }
	systemctl is-active corrald.service
}
in_supervisor_leaf() {
	pid=$(systemctl show -P MainPID corrald.service)
	cat "$service/supervisor/cgroup.procs"
	grep -qx "$pid" "$service/supervisor/cgroup.procs" && ! [ -s "$service/cgroup.procs" ]
}
controllers_enabled() {
	for f in "$service/cgroup.subtree_control" "$service/corral/cgroup.subtree_control"; do
		echo "$f: $(cat "$f")"
		for c in memory pids cpu; do grep -qw "$c" "$f" || return 1; done
	done
}
task_runs() {
	id=$(corral submit --memory 64M -- /bin/sh -c 'echo hello; cat /proc/self/cgroup') || return 1
	corral wait "$id" || return 1
	corral logs "$id" | tee /dev/stderr | grep -qx hello
}
limits_are_set() {
	id=$(corral submit --memory 64M -- /bin/sleep 5) || return 1
	for i in 1 2 3 4 5 6 7 8 9 10; do
		leaf=$(find "$service/corral" -mindepth 1 -maxdepth 1 -type d | head -1)
		[ -n "$leaf" ] && break
		sleep 1
	done
	echo "task $id in $leaf: memory.max $(cat "$leaf/memory.max"), pids.max $(cat "$leaf/pids.max")"
	[ "$(cat "$leaf/memory.max")" = $((64 * 1024 * 1024)) ] || return 1
	corral wait "$id"
}
stopped_clean() {
	systemctl stop corrald.service || return 1
	journalctl -u corrald --no-pager | tail -5
	systemctl show -P Result corrald.service | grep -qx success || return 1
	! [ -d "$service" ] || { find "$service" -type d; return 1; }
}
handover_keeps_task() {
	id=$(corral submit --memory 64M -- /bin/sh -c 'sleep 10; echo after; exit 3') || return 1
	for i in $(seq 1 60); do
		corral status "$id" | grep -q '^state: *running' && break
		sleep 0.5
	done
	corral status "$id" | grep '^state:'
	# (under TCG a start takes seconds: the command sleeps 10 s so it still runs at the handover)
	old=$(systemctl show -P MainPID corrald.service)
	systemctl kill --kill-who=main -s SIGUSR2 corrald.service || return 1
	# it executes itself again in place: the same MainPID, the unit active
	for i in $(seq 1 40); do
		journalctl -u corrald --no-pager | grep -q 'adopted its running jail' && break
		sleep 0.5
	done
	new=$(systemctl show -P MainPID corrald.service)
	echo "corrald $old handed over to itself: MainPID $new, $(systemctl is-active corrald.service)"
	[ "$new" = "$old" ] && systemctl is-active -q corrald.service || return 1
	for i in $(seq 1 20); do corral ping >/dev/null 2>&1 && break; sleep 0.5; done
	journalctl -u corrald --no-pager | grep -E 'handed over|adopted' | tail -3
	corral wait --timeout 60 "$id"
	rc=$?
	echo "task $id: exit $rc"
	if [ "$rc" -ne 3 ]; then
		corral status "$id"
		echo "new corrald's cgroup: $(cat /proc/"$new"/cgroup)"
		find "$service" -maxdepth 2 -type d
		for d in "$service" "$service"/*/; do echo "$d: $(cat "$d/cgroup.procs" | tr '\n' ' ')"; done
		journalctl -u corrald --no-pager | tail -30
		return 1
	fi
	corral logs "$id" | grep -qx after
}
journal() { journalctl -u corrald --no-pager | grep -i cgroup; true; }

check "corrald.service starts (Type=notify)" started
check "corrald moved into the leaf supervisor/ of its delegated cgroup" in_supervisor_leaf
check "memory, pids and cpu enabled for the jails" controllers_enabled
check "a task runs to its end" task_runs
check "the task's memory limit is set in its cgroup" limits_are_set
check "SIGUSR2: corrald hands a running task to its new image, it ends right" handover_keeps_task
journal
check "systemctl stop: a clean exit, no cgroup left" stopped_clean

echo "systemd: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
