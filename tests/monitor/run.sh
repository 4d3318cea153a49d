#!/bin/sh
# tests/monitor/run.sh GLASS KERNEL — the monitor end to end (make
# check-monitor): Glass started with -monitor stdio on a test kernel
# (stopped, -S) gets commands on its standard input and its answers are
# checked; then the same over -monitor unix:PATH,server,nowait and
# tcp:127.0.0.1:PORT,server,nowait, where a client connects while the
# guest runs and stops it.
set -u
GLASS=$1
KERNEL=$2
OUT=$(mktemp -d "${TMPDIR:-/tmp}/glass-monitor.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

fail() {
    echo "FAIL monitor: $*"
    for f in "$OUT"/*.txt; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 80 "$f"; }
    done
    exit 1
}

expect() {
    grep -qF -- "$2" "$1" || fail "no '$2' in $(basename "$1")"
}

# --- stdio
cat >"$OUT/commands" <<CMDS
help
info registers
info tlb
info mem
info pic
info pit
info pci
info block
info jit
walk 0x100000
x/4xw 0x100000
xp/8xb 0x100000
x/3i \$pc
step
step 2
stop
screendump $OUT/screen.png
sendkey ctrl-alt-delete
system_powerdown
info nonsense
frobnicate
x/4q 0
quit
CMDS
timeout 60 "$GLASS" -kernel "$KERNEL" -S -monitor stdio -serial null -debugcon null \
    <"$OUT/commands" >"$OUT/stdio.txt" 2>"$OUT/stderr.txt"
status=$?
[ "$status" -eq 0 ] || fail "glass exited with $status after quit"
O=$OUT/stdio.txt
expect "$O" "(glass) "
expect "$O" "info registers          every register"
expect "$O" "EIP=001000b8"
expect "$O" "CR0=00000011 [ET PE]"
expect "$O" "FPU: FCW="
expect "$O" "entries (r/w/x"
expect "$O" "paging is off"
expect "$O" "pic master irr="
expect "$O" "pit channel 0:"
expect "$O" "pci 00:01.1 8086:7010"
expect "$O" "ide0 primary master: empty"
expect "$O" "linear 00100000: paging off"
expect "$O" "00100000: 0x1badb002"
expect "$O" "00100000: 0x02 0xb0 0xad 0x1b"
expect "$O" "001000b8: "
expect "$O" "screendump: $OUT/screen.png, 720x400"
expect "$O" "info: expected registers"
expect "$O" "unknown command: 'frobnicate'"
expect "$O" "unknown format letter 'q'"
[ -s "$OUT/screen.png" ] || fail "no screendump file"
head -c 8 "$OUT/screen.png" | od -An -c | grep -q "P   N   G" || fail "screendump is no PNG"
[ -s "$OUT/stderr.txt" ] && fail "glass wrote to stderr"

# --- sockets: the guest runs (a kernel that waits in a loop would be
# better; gdbtarget ends at once, so it starts stopped and the client
# steps it, then lets it run to its exit).
python3 - "$GLASS" "$KERNEL" "$OUT" <<'PY' || fail "socket monitor"
import os, socket, subprocess, sys, time
glass, kernel, out = sys.argv[1:4]

def session(addr_opt, connect):
    p = subprocess.Popen([glass, "-kernel", kernel, "-S", "-serial", "null",
                          "-debugcon", "null", "-monitor", addr_opt],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    s = None
    for _ in range(100):
        try:
            s = connect()
            break
        except OSError:
            time.sleep(0.05)
    if s is None:
        p.kill()
        sys.exit("cannot connect to " + addr_opt)
    s.settimeout(10)
    got = b""
    def until(token):
        nonlocal got
        while token not in got:
            d = s.recv(4096)
            if not d:
                sys.exit("closed before %r: %r" % (token, got))
            got += d
    until(b"(glass) ")
    s.sendall(b"info registers\nstep\ncont\n")
    until(b"EAX=")
    # cont: the guest runs to its exit; Glass ends with the guest's status.
    status = p.wait(timeout=30)
    if status != 1:
        sys.exit("glass exited with %d, not the guest's 1" % status)
    if b"CS  =0008" not in got:
        sys.exit("no registers: %r" % got)
    s.close()

path = os.path.join(out, "mon.sock")
def unix():
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    return c
session("unix:%s,server,nowait" % path, unix)
port = 20000 + (os.getpid() * 11) % 30000
session("tcp:127.0.0.1:%d,server,nowait" % port,
        lambda: socket.create_connection(("127.0.0.1", port)))
PY
echo "PASS monitor"
