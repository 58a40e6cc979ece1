#!/usr/bin/env bash
# tests/vm/lane-selftest.sh — end-to-end test of the VM lane itself; runs on the HOST.
#
#   tests/vm/lane-selftest.sh          (as root: it runs scripts/vm/prepare first)
#
# Boots the lane several times and asserts how scripts/vm/run reports each outcome:
#   smoke        tests/vm/cgroup2-smoke.sh passes in the VM            -> exit 0
#   plumbing     --env / --workdir / --include (through a symlinked directory) and argv quoting
#                reach the guest intact; a command exiting 7 is reported as failed, the commands
#                after it still run                                     -> exit 1
#   rust         a Rust test binary of this workspace (berth-testutil) runs in the VM -> exit 0
#   vanished     the VM powers off before the last command reports      -> exit 3
#   panic        the guest kernel panics                               -> exit 3
#   timeout      a command outlives --timeout; qemu is stopped          -> exit 3
#   usage        no command given                                       -> exit 2, no boot
# After every run: the qemu process named in the log is gone and scripts/vm/run left nothing in
# its TMPDIR. Everything this script creates lives in one temp dir, removed on exit.
# Exits 1 if any assertion failed. Takes about a minute.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
run="$repo_root/scripts/vm/run"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: lane-selftest.sh needs root (scripts/vm/prepare installs packages)" >&2
    exit 0
fi
"$repo_root/scripts/vm/prepare" || { echo "lane-selftest: scripts/vm/prepare failed" >&2; exit 1; }

work="$(mktemp -d /tmp/berth-vm-selftest.XXXXXX)"
trap 'rm -rf "$work"' EXIT

failures=0
pass() { echo "ok - $*"; }
fail() {
    echo "not ok - $*"
    failures=$((failures + 1))
}

# run_lane NAME ARGS...: runs scripts/vm/run ARGS with its own empty TMPDIR, output shown and
# kept in $work/NAME.log; sets `status` and `log`, and checks nothing was left behind.
run_lane() {
    local name="$1" qpid leftover
    shift
    log="$work/$name.log"
    mkdir -p "$work/tmp-$name"
    echo "--- lane run '$name': scripts/vm/run $*"
    TMPDIR="$work/tmp-$name" "$run" "$@" 2>&1 | tee "$log" | sed 's/^/    | /'
    status="${PIPESTATUS[0]}"
    leftover="$(ls -A "$work/tmp-$name")"
    if [ -z "$leftover" ]; then pass "$name: TMPDIR left empty"; else fail "$name: left '$leftover' in TMPDIR"; fi
    qpid="$(sed -n 's/.*(qemu pid \([0-9][0-9]*\)).*/\1/p' "$log" | head -n1)"
    if [ -z "$qpid" ]; then
        :
    elif [ -d "/proc/$qpid" ] && grep -q qemu "/proc/$qpid/cmdline" 2> /dev/null; then
        fail "$name: qemu (pid $qpid) is still running"
    else
        pass "$name: qemu (pid $qpid) has exited"
    fi
}
expect_status() {
    if [ "$status" -eq "$2" ]; then pass "$1: exit status $2"; else fail "$1: exit status $status, expected $2"; fi
}
expect_log() {
    if grep -qF -- "$2" "$log"; then pass "$1: log has '$2'"; else fail "$1: log lacks '$2'"; fi
}

# --- smoke -----------------------------------------------------------------------------------
smoke="$repo_root/tests/vm/cgroup2-smoke.sh"
run_lane smoke --include "$smoke" -- "$smoke"
expect_status smoke 0
expect_log smoke "cgroup2-smoke: all checks passed"
expect_log smoke "BERTH-VM-RESULT 0 0"

# --- plumbing and the failure path ----------------------------------------------------------
mkdir -p "$work/data/sub"
echo hello > "$work/data/sub/file"
ln -s data "$work/link"
# shellcheck disable=SC2016 # expanded in the guest
run_lane plumbing --env "BERTH_SELFTEST=a b'c" --env BERTH_EMPTY= --workdir "$work/data" \
    --include "$work/link/sub/file" -- \
    sh -c '
        set -e
        test "$BERTH_VM" = 1 && test "$HOME" = /root && test "$TMPDIR" = /tmp
        test "$BERTH_SELFTEST" = "a b'\''c" && test "${BERTH_EMPTY-unset}" = ""
        test "$PWD" = "$1/data"
        test -L "$1/link" && test "$(cat "$1/link/sub/file")" = hello && test -f sub/file
        test "$2" = "x y" && test "$3" = "q'\''uote" && test "$4" = "\$HOME" && test "$#" = 4
        echo plumbing-ok' _ "$work" "x y" "q'uote" '$HOME' \
    --- sh -c 'exit 7' \
    --- true
expect_status plumbing 1
expect_log plumbing "plumbing-ok"
expect_log plumbing "BERTH-VM-RESULT 0 0"
expect_log plumbing "BERTH-VM-RESULT 1 7"
expect_log plumbing "BERTH-VM-RESULT 2 0"
expect_log plumbing "command 1 FAILED with exit code 7"

# --- a Rust test binary from this workspace -------------------------------------------------
if command -v cargo > /dev/null; then
    testbin="$(cd "$repo_root" && cargo test -p berth-testutil --no-run --message-format=json 2> /dev/null \
        | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | head -n1)"
    if [ -n "$testbin" ] && [ -x "$testbin" ]; then
        run_lane rust --include "$testbin" -- "$testbin"
        expect_status rust 0
        expect_log rust "test result: ok."
    else
        fail "rust: cargo test -p berth-testutil --no-run gave no test binary"
    fi
else
    echo "SKIP: no cargo on PATH; the Rust test binary check did not run" >&2
fi

# --- the VM ends before every command reported ----------------------------------------------
run_lane vanished -- true --- poweroff -f --- true
expect_status vanished 3
expect_log vanished "the VM stopped before command 1 reported a result"

# --- kernel panic ------------------------------------------------------------------------------
run_lane panic -- sh -c 'echo c > /proc/sysrq-trigger'
expect_status panic 3
expect_log panic "the guest kernel panicked"

# --- timeout -----------------------------------------------------------------------------------
run_lane timeout --timeout 25 -- sleep 1000
expect_status timeout 3
expect_log timeout "timed out after 25s"

# --- usage error -------------------------------------------------------------------------------
run_lane usage --mem 1G
expect_status usage 2
expect_log usage "no command given"

if [ "$failures" -ne 0 ]; then
    echo "lane-selftest: $failures check(s) failed"
    exit 1
fi
echo "lane-selftest: all checks passed"
