#!/usr/bin/env python3
"""tests/linux/memtest_test.py — watches memtest86+ on a serial console.

Runs the emulator command given after `--` with the guest's serial
console on its stdout, reads the screen memtest86+ (6.x) paints there with
cursor-positioning escape sequences, and follows three fields of it: the
test running ("#4  [Moving inversions, 8 bit pattern]"), the pass
progress ("Pass  12%") and the error count ("Errors: 0"). It stops the
emulator (its own child, by pid) as soon as a test numbered --until-test
or later is running, or when --timeout seconds have passed, and passes
when that test was reached with every "Errors:" field 0 and nothing on
the emulator's stderr.

memtest86+ is a whole-memory tester whose pass takes minutes even on
hardware; an interpreter cannot finish one in a CI-sized time, so the
check is its progress: the tests before --until-test (default 5: address
walking ones, own address, moving inversions of 1s/0s and of an 8-bit
pattern) completed over all of RAM with no error.

Exit status: 0 pass, 1 fail. Python 3 standard library only.

Example:
  tests/linux/memtest_test.py -- ./glass -m 32 -nographic -serial stdio \\
      -kernel ~/.cache/glass/memtest86+ia32.bin -append console=ttyS0,115200
"""
import argparse
import os
import re
import selectors
import subprocess
import sys
import time

TEST_RE = re.compile(r"#(\d+)\s+\[([^\]]*)\]")
ERRORS_RE = re.compile(r"Errors:\s*(\d+)")
# Row 2 from column 35 is the pass progress ("Pass" and its percentage).
PASS_PCT_RE = re.compile(r"\x1b\[2;35H(?:\x1b\[[0-9;]*m)*\s*(\d+)%")
BANNER_RE = re.compile(r"Memtest86\+ v[0-9.]+")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--until-test", type=int, default=5,
                    help="stop with success once this test number (or a later one) runs")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="seconds before the emulator is stopped and the test fails")
    ap.add_argument("--log", help="keep the raw console output in this file")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    argv = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not argv:
        ap.error("no emulator command after --")

    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, bufsize=0)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    out, err = b"", b""
    start = time.monotonic()
    reached = None  # (seconds, test number, name) when --until-test ran
    open_streams = 2
    while open_streams and reached is None:
        left = args.timeout - (time.monotonic() - start)
        if left <= 0:
            break
        for key, _ in sel.select(timeout=min(left, 1.0)):
            data = os.read(key.fileobj.fileno(), 65536)
            if not data:
                sel.unregister(key.fileobj)
                open_streams -= 1
            elif key.data == "out":
                out += data
            else:
                err += data
        text = out.decode("latin-1")
        tests = [(int(n), name) for n, name in TEST_RE.findall(text)]
        later = [t for t in tests if t[0] >= args.until_test]
        if later:
            reached = (time.monotonic() - start, later[0][0], later[0][1])
    elapsed = time.monotonic() - start
    exited = proc.poll()
    if exited is None:
        proc.kill()
        proc.wait()
    # What arrived after the last select.
    out += proc.stdout.read() or b""
    err += proc.stderr.read() or b""
    if args.log:
        with open(args.log, "wb") as f:
            f.write(out)

    text = out.decode("latin-1")
    tests = [(int(n), name) for n, name in TEST_RE.findall(text)]
    errors = [int(e) for e in ERRORS_RE.findall(text)]
    pcts = [int(p) for p in PASS_PCT_RE.findall(text)]
    seen = []
    for t in tests:
        if t not in seen:
            seen.append(t)
    print("memtest: banner %s" % (BANNER_RE.search(text).group(0)
                                  if BANNER_RE.search(text) else "not seen"))
    print("memtest: tests seen: %s" % (", ".join("#%d %s" % t for t in seen) or "none"))
    print("memtest: pass progress %s%%, error counts seen %s, %.1f s"
          % (pcts[-1] if pcts else "?", sorted(set(errors)) or "none", elapsed))

    failures = []
    if not BANNER_RE.search(text):
        failures.append("no memtest86+ banner on the console")
    if reached is None:
        failures.append("test #%d not reached in %.0f s" % (args.until_test, args.timeout))
    else:
        print("memtest: test #%d [%s] running after %.1f s"
              % (reached[1], reached[2], reached[0]))
    if not errors:
        failures.append("no error count on the console")
    elif any(errors):
        failures.append("memtest reports errors: %s" % sorted(set(errors)))
    if exited is not None:
        failures.append("the emulator exited by itself (status %d)" % exited)
    if err.strip():
        failures.append("the emulator wrote to stderr: %s"
                        % err.decode("utf-8", "replace").strip()[:500])
    for f in failures:
        print("FAIL memtest: " + f)
    print("PASS memtest" if not failures else "memtest: FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
