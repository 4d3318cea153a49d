#!/bin/sh
# tests/gdb/run.sh GLASS guest|linux — a stock gdb attached to Glass's
# gdbstub (make check-gdb).
#
#   guest: the gdbtarget test kernel (built with symbols) started with
#          -S; tests/gdb/guest.gdb breaks at a symbol, continues, steps,
#          sets a hardware watchpoint and sees it hit, reads registers
#          and memory, writes a variable, detaches. Checked: gdb's
#          output, the guest's port 0xE9 output (it saw the variable),
#          Glass's exit status.
#   linux: Debian's kernel (tests/linux/fetch.sh): see tests/gdb/linux.sh.
#
# The gdbstub listens on 127.0.0.1 at a port chosen from the process id
# (another one is tried if it is taken). GDB_TIMEOUT (s, default 120)
# bounds each run.
set -u
GLASS=$1
MODE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
TIMEOUT=${GDB_TIMEOUT:-120}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/glass-gdb.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

fail() {
    echo "FAIL gdb $MODE: $*"
    for f in "$OUT"/*.txt; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 60 "$f"; }
    done
    exit 1
}

# Starts Glass with the gdbstub on a free port: sets PORT and GLASS_PID.
# Glass says on stderr when it listens.
start_glass() {
    for try in 1 2 3 4 5; do
        PORT=$((20000 + ($$ * 7 + try * 131) % 30000))
        timeout "$TIMEOUT" "$GLASS" -gdb "tcp:127.0.0.1:$PORT" -S "$@" \
            >"$OUT/glass.txt" 2>"$OUT/glass-err.txt" &
        GLASS_PID=$!
        for _ in $(seq 50); do
            grep -q "waiting for gdb" "$OUT/glass-err.txt" 2>/dev/null && return 0
            kill -0 "$GLASS_PID" 2>/dev/null || break
            sleep 0.1
        done
        wait "$GLASS_PID" 2>/dev/null
    done
    fail "Glass did not start its gdbstub"
}

# expect FILE TEXT: the fixed string TEXT is in FILE.
expect() {
    grep -qF -- "$2" "$1" || fail "no '$2' in $(basename "$1")"
}

case $MODE in
guest)
    KERNEL=build/guest/gdbtarget.elf
    [ -f "$KERNEL" ] || fail "$KERNEL is missing (make guests)"
    start_glass -kernel "$KERNEL" -serial null -debugcon "file:$OUT/guest.txt"
    timeout "$TIMEOUT" gdb -batch -nx -ex "target remote 127.0.0.1:$PORT" \
        -x "$HERE/guest.gdb" "$KERNEL" >"$OUT/gdb.txt" 2>&1
    wait "$GLASS_PID"
    status=$?
    G=$OUT/gdb.txt
    expect "$G" "Breakpoint 1 at"
    expect "$G" "Breakpoint 1, tick (i="
    expect "$G" '$2 = 1'
    expect "$G" "cs             0x8"
    expect "$G" "cr0            0x11"
    expect "$G" "Hardware watchpoint 2: watched"
    expect "$G" "Old value = "
    expect "$G" "New value = "
    expect "$G" "= 0x1234abcd"
    expect "$G" "pic master irr="
    expect "$G" "(Remote target) detached"
    expect "$OUT/guest.txt" "gdbtarget: poked by the debugger"
    expect "$OUT/guest.txt" "PASS"
    [ "$status" -eq 1 ] || fail "Glass exited with $status (the guest exits with 1)"
    # The instruction after stepi is not where it started.
    eips=$(grep -E '^\$[0-9]+ = 0x' "$G" | head -n 2 | awk '{print $3}')
    set -- $eips
    [ $# -eq 2 ] && [ "$1" != "$2" ] || fail "stepi did not move EIP ($eips)"
    ;;
linux)
    . "$HERE/linux.sh"
    ;;
*)
    echo "usage: $0 GLASS guest|linux" >&2
    exit 2
    ;;
esac
echo "PASS gdb $MODE"
