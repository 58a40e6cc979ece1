#!/bin/sh
# tests/vm/cgroup2-smoke.sh — proves the VM lane gives tests a cgroup-v2 host.
#
# Runs INSIDE the VM (busybox sh):
#   scripts/vm/run --include "$PWD/tests/vm/cgroup2-smoke.sh" -- "$PWD/tests/vm/cgroup2-smoke.sh"
# Asserts, against the guest's real kernel:
#   - the unified hierarchy only: /sys/fs/cgroup is cgroup2, /proc/self/cgroup is one "0::" line,
#     and cgroup.controllers / cgroup.subtree_control list cpu memory pids io;
#   - a child cgroup can be made, memory.max set, a process moved in; memory.max and pids.max are
#     enforced (OOM kill, failed fork);
#   - user namespaces (unshare -Ur, also as an unprivileged user) and pid namespaces
#     (unshare -p -f --mount-proc);
#   - pivot_root works from the lane's root (unshare -m, then pivot_root into a tmpfs).
# Prints "ok - ..." / "not ok - ..." per check and exits 1 if any check failed. Everything it
# creates (cgroups berth-smoke-*, /tmp/berth-smoke-*, processes) is removed before it exits.
set -u

if [ "${BERTH_VM:-}" != 1 ]; then
    echo "SKIP: cgroup2-smoke.sh only runs inside the VM lane (scripts/vm/run); BERTH_VM is not 1" >&2
    exit 0
fi

cg=/sys/fs/cgroup
failures=0
pass() { echo "ok - $*"; }
fail() {
    echo "not ok - $*"
    failures=$((failures + 1))
}
# check DESCRIPTION COMMAND...: runs COMMAND, passes if it exits 0.
check() {
    desc="$1"
    shift
    if "$@"; then pass "$desc"; else fail "$desc"; fi
}
# expect DESCRIPTION EXPECTED ACTUAL
expect() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1: expected '$2', got '$3'"
    fi
}

cleanup_failed=0
# remove_cgroup DIR: kill what is left in DIR, then rmdir it; counts a failure if it stays.
remove_cgroup() {
    [ -d "$1" ] || return 0
    while read -r pid; do kill -KILL "$pid" 2> /dev/null; done < "$1/cgroup.procs"
    tries=0
    while ! rmdir "$1" 2> /dev/null; do
        tries=$((tries + 1))
        if [ "$tries" -ge 50 ]; then
            echo "cleanup: cannot remove cgroup $1" >&2
            cleanup_failed=1
            return 1
        fi
        sleep 0.1
    done
}

# --- the hierarchy --------------------------------------------------------------------------
expect "/sys/fs/cgroup is cgroup2" cgroup2 "$(awk -v cg="$cg" '$2 == cg { print $3 }' /proc/mounts)"
expect "no cgroup v1 hierarchy is mounted" "" "$(awk '$3 == "cgroup"' /proc/mounts)"
expect "/proc/self/cgroup is one unified line" "0::/berth-vm.scope" "$(cat /proc/self/cgroup)"
for controller in cpu memory pids io; do
    check "cgroup.controllers lists $controller" grep -qw "$controller" "$cg/cgroup.controllers"
    check "cgroup.subtree_control enables $controller" grep -qw "$controller" "$cg/cgroup.subtree_control"
done

# --- a child cgroup with memory.max and a process in it -------------------------------------
child="$cg/berth-smoke-child"
remove_cgroup "$child"
if mkdir "$child"; then
    pass "create child cgroup $child"
    check "child cgroup has the memory controller" grep -qw memory "$child/cgroup.controllers"
    if echo 64M > "$child/memory.max"; then pass "set memory.max"; else fail "set memory.max"; fi
    expect "memory.max reads back" 67108864 "$(cat "$child/memory.max")"
    sleep 1000 &
    sleeper=$!
    if echo "$sleeper" > "$child/cgroup.procs"; then pass "move a process in"; else fail "move a process in"; fi
    expect "the process's /proc/<pid>/cgroup names the child" "0::/berth-smoke-child" "$(cat "/proc/$sleeper/cgroup")"
    expect "cgroup.procs lists the process" "$sleeper" "$(cat "$child/cgroup.procs")"
    kill "$sleeper"
    wait "$sleeper" 2> /dev/null
    expect "cgroup.procs is empty once it exits" "" "$(cat "$child/cgroup.procs")"
    check "remove the child cgroup" remove_cgroup "$child"
else
    fail "create child cgroup $child"
fi

# --- memory.max is enforced: allocating past it gets the process OOM-killed ------------------
oom="$cg/berth-smoke-oom"
remove_cgroup "$oom"
if mkdir "$oom" && echo 16M > "$oom/memory.max" && echo 0 > "$oom/memory.swap.max"; then
    # The OOM report is a page of KERN_WARNING lines; keep it off the console for this check.
    saved_printk="$(cut -f1 /proc/sys/kernel/printk)"
    echo 3 > /proc/sys/kernel/printk
    sh -c 'echo $$ > "$1/cgroup.procs" && exec dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null' _ "$oom"
    status=$?
    echo "$saved_printk" > /proc/sys/kernel/printk
    expect "a 64M allocation under memory.max=16M is SIGKILLed" 137 "$status"
    expect "memory.events counts the OOM kill" "oom_kill 1" "$(grep '^oom_kill ' "$oom/memory.events")"
    check "remove the OOM cgroup" remove_cgroup "$oom"
else
    fail "set up cgroup $oom with memory.max=16M"
    remove_cgroup "$oom"
fi

# --- pids.max is enforced --------------------------------------------------------------------
pids="$cg/berth-smoke-pids"
remove_cgroup "$pids"
if mkdir "$pids" && echo 1 > "$pids/pids.max"; then
    # The shell itself is the one allowed task; its fork for /bin/true (not the last command,
    # so not exec'ed in place) must fail. Exit 100 means it could not even join the cgroup.
    sh -c 'echo $$ > "$1/cgroup.procs" || exit 100; /bin/true; exit $?' _ "$pids" 2> /dev/null
    status=$?
    check "fork under pids.max=1 fails (exit $status)" [ "$status" -ne 0 ] && [ "$status" -ne 100 ]
    check "pids.events counts the refused fork" grep -q '^max [1-9]' "$pids/pids.events"
    check "remove the pids cgroup" remove_cgroup "$pids"
else
    fail "set up cgroup $pids with pids.max=1"
    remove_cgroup "$pids"
fi

# --- namespaces ------------------------------------------------------------------------------
expect "unshare -Ur: uid 0 inside a user namespace" 0 "$(unshare -Ur id -u)"
expect "unshare -Ur: uid_map maps 0 to the caller" "0 0 1" "$(unshare -Ur cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')"
expect "unprivileged user (nobody) gets a user namespace" "0 65534" \
    "$(su -s /bin/sh nobody -c 'unshare -Ur sh -c "id -u; cat /proc/self/uid_map"' 2>&1 | tr -s ' \n' ' ' | cut -d' ' -f1,3)"
expect "unshare -p -f --mount-proc: the shell is pid 1" 1 "$(unshare -p -f --mount-proc sh -c 'echo $$')"
# The glob is expanded by the shell itself (no child), so pid 1 must be all there is.
expect "unshare -p -f --mount-proc: /proc shows only the new namespace" /proc/1 \
    "$(unshare -p -f --mount-proc sh -c 'echo /proc/[0-9]*')"

# --- pivot_root from the lane's root ---------------------------------------------------------
expect "the root filesystem is a tmpfs mount, not the initramfs rootfs" tmpfs "$(stat -f -c %T /)"
newroot="$(mktemp -d /tmp/berth-smoke-root.XXXXXX)"
# shellcheck disable=SC2016 # expanded by the inner shell
pivot_out="$(unshare -m sh -c '
    set -e
    mount --make-rprivate /
    mount -t tmpfs berth-smoke-root "$1"
    mkdir "$1/bin" "$1/old"
    cp /berth-vm/bin/busybox "$1/bin/busybox"
    echo pivoted > "$1/marker"
    cd "$1"
    pivot_root . old
    exec /bin/busybox sh -c "
        cd / && /bin/busybox cat /marker && /bin/busybox umount -l /old &&
        /bin/busybox ls -A /old | /bin/busybox wc -l"
' _ "$newroot" 2>&1)"
expect "pivot_root into a tmpfs in a new mount namespace" "pivoted 0" "$(printf '%s' "$pivot_out" | tr '\n' ' ')"
check "the pivot's mounts went away with its namespace" [ -z "$(grep berth-smoke-root /proc/mounts)" ]
rmdir "$newroot" || cleanup_failed=1

if [ "$cleanup_failed" -ne 0 ]; then
    fail "cleanup left something behind"
fi
if [ "$failures" -ne 0 ]; then
    echo "cgroup2-smoke: $failures check(s) failed"
    exit 1
fi
echo "cgroup2-smoke: all checks passed"
