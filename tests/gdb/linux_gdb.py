#!/usr/bin/env python3
"""tests/gdb/linux_gdb.py — a stock gdb on Debian's Linux in Glass.

Debian's vmlinuz has no symbols, and its boot/System.map is a stub (the
real one is in the -dbg package, hundreds of MB). So the addresses come
from the kernel itself: a first boot (JIT, a few seconds, `nokaslr` so
that the second boot puts the kernel at the same place) reads
start_kernel's address from /proc/kallsyms on the serial console.

The second boot starts stopped (-S -gdb) and gdb -batch:
  - breaks (hbreak) at the decompressed kernel's physical entry,
    0x1000000 (CONFIG_PHYSICAL_START: startup_32, paging off), where ESI
    points at boot_params; writes "1234" over the "0000" of the
    glass.poke=0000 parameter in the command line boot_params points to
    (before head_32.S copies it);
  - breaks at start_kernel (its virtual address: paging is on by then),
    reads registers (CR0.PG set) and memory (the code at EIP);
  - sets a hardware watchpoint on the stack slot below ESP, continues,
    and sees the next push (start_kernel's first call) hit it;
  - steps one instruction;
  - runs a monitor command, detaches.
The kernel then boots to its shell, where /proc/cmdline must say
glass.poke=1234: the guest saw the debugger's write. poweroff -f ends
Glass with status 0.

Usage: linux_gdb.py GLASS VMLINUZ INITRD [--verbose]
"""
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "linux"))
from console_test import Console, PROMPT, READY_MARKER  # noqa: E402

PHYS_ENTRY = 0x1000000
APPEND = "console=ttyS0 nokaslr glass.poke=0000"
BOOT_TIMEOUT = 300
GDB_TIMEOUT = 300


def fail(msg, *logs):
    print("FAIL gdb linux: " + msg)
    for name, text in logs:
        print("--- " + name)
        print(text[-6000:])
    sys.exit(1)


def boot_to_shell(con, what):
    if not con.wait_for(READY_MARKER, 0, BOOT_TIMEOUT):
        fail(what + ": no shell", ("console", con.text()))
    con.wait_for(re.escape(PROMPT), 0, 60)


def poweroff(con, what):
    con.send("poweroff -f")
    try:
        status = con.proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        con.proc.kill()
        fail(what + ": Glass did not end after poweroff", ("console", con.text()))
    if status != 0:
        fail("%s: Glass exited with %d" % (what, status), ("console", con.text()))


def glass_argv(glass, vmlinuz, initrd, extra):
    return [glass, "-m", "256", "-nographic", "-serial", "stdio", "-debugcon", "null",
            "-monitor", "none", "-kernel", vmlinuz, "-initrd", initrd,
            "-append", APPEND] + extra


def find_start_kernel(glass, vmlinuz, initrd, log):
    con = Console(glass_argv(glass, vmlinuz, initrd, []), log, 0.002)
    boot_to_shell(con, "first boot")
    rc, out = con.run("grep -w start_kernel /proc/kallsyms", 60)
    m = re.search(r"^([0-9a-f]{8}) [Tt] start_kernel$", out or "", re.M)
    if rc != 0 or not m:
        fail("no start_kernel in /proc/kallsyms", ("console", con.text()))
    poweroff(con, "first boot")
    return int(m.group(1), 16)


GDB_SCRIPT = """\
set confirm off
set pagination off
set width 0
set architecture i386
target remote 127.0.0.1:{port}
# The decompressed kernel's entry, paging off: a breakpoint on its
# physical (= linear) address.
hbreak *{entry:#x}
continue
print/x $eip
print/x $cr0
# boot_params (ESI) -> hdr.cmd_line_ptr (offset 0x228) -> "...poke=0000"
set $cmdline = *(unsigned int *)($esi + 0x228)
x/s $cmdline
set {{unsigned int}}($cmdline + {poke_off}) = 0x34333231
x/s $cmdline
delete
# start_kernel, at its virtual address (/proc/kallsyms of the first boot).
hbreak *{start_kernel:#x}
continue
print/x $eip
print/x $cr0 & 0x80000000
info registers esp cs ds cr3
x/3i $pc
# A hardware watchpoint on the stack slot below ESP: the next push (the
# call that starts start_kernel) writes its return address there.
set $slot = $esp - 4
watch *(unsigned int *)$slot
continue
print/x $eip
delete
# One instruction.
stepi
print/x $eip
monitor info registers
detach
"""


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    glass, vmlinuz, initrd = sys.argv[1:4]
    verbose = "--verbose" in sys.argv
    log = sys.stderr if verbose else None
    t0 = time.monotonic()
    start_kernel = find_start_kernel(glass, vmlinuz, initrd, log)
    print("linux_gdb: start_kernel at %#x (first boot %.1f s)" % (start_kernel,
                                                                  time.monotonic() - t0))

    port = 20000 + (os.getpid() * 13) % 30000
    con = Console(glass_argv(glass, vmlinuz, initrd,
                             ["-S", "-gdb", "tcp:127.0.0.1:%d" % port]), log, 0.002)
    if not con.wait_for("waiting for gdb", 0, 30):
        fail("Glass did not start its gdbstub", ("console", con.text()))
    poke_off = APPEND.index("glass.poke=") + len("glass.poke=")
    with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as f:
        f.write(GDB_SCRIPT.format(port=port, entry=PHYS_ENTRY, start_kernel=start_kernel,
                                  poke_off=poke_off))
        script = f.name
    t1 = time.monotonic()
    try:
        g = subprocess.run(["gdb", "-batch", "-nx", "-x", script], capture_output=True,
                           text=True, timeout=GDB_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        con.proc.kill()
        fail("gdb timed out", ("gdb", (e.stdout or b"").decode("latin-1")),
             ("console", con.text()))
    finally:
        os.unlink(script)
    out = g.stdout + g.stderr
    if verbose:
        sys.stderr.write(out)
    print("linux_gdb: gdb session %.1f s" % (time.monotonic() - t1))
    expect = [
        "Hardware assisted breakpoint 1 at %#x" % PHYS_ENTRY,
        "$1 = %#x" % PHYS_ENTRY,
        "glass.poke=1234",
        "Hardware assisted breakpoint 2 at %#x" % start_kernel,
        "$3 = %#x" % start_kernel,
        "$4 = 0x80000000",
        "Hardware watchpoint 3: *(unsigned int *)$slot",
        "New value = ",
        "CR0=8",
        "(Remote target) detached",
    ]
    for e in expect:
        if e not in out:
            fail("no '%s' in gdb's output" % e, ("gdb", out), ("console", con.text()))
    eips = re.findall(r"^\$[56] = (0x[0-9a-f]+)$", out, re.M)
    if len(eips) != 2 or int(eips[0], 16) == start_kernel or eips[0] == eips[1]:
        fail("the watchpoint's stop or stepi did not move EIP (%s)" % eips, ("gdb", out))

    boot_to_shell(con, "second boot")
    rc, cmdline = con.run("cat /proc/cmdline", 60)
    if rc != 0 or "glass.poke=1234" not in cmdline:
        fail("the guest did not see the debugger's write: %r" % cmdline,
             ("gdb", out), ("console", con.text()))
    poweroff(con, "second boot")
    print("PASS gdb linux (%.1f s)" % (time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
