#!/usr/bin/env python3
"""tests/linux/console_test.py — drives a Linux guest on a serial console.

Runs the emulator command given after `--` with its stdin and stdout as
the guest's serial console (ttyS0 on stdio), waits for the initramfs of
mkinitrd.sh to print its marker and shell prompt, types commands and
checks their answers:
  uname -m                       an x86 32-bit machine name (i686 ...)
  cat /proc/cpuinfo              processor 0 with vendor_id and flags
  sha256sum of guest-made files  equal to the hashes computed here
  mount                          proc, sysfs, devtmpfs and tmpfs mounted
  dmesg | grep -i error          nothing
then `poweroff -f` and checks the emulator's exit status (0 unless
--expect-exit says otherwise). Exit status: 0 when every check passed.
Python 3 standard library only.

Example:
  tests/linux/console_test.py -- qemu-system-i386 -m 256 -nographic \
      -kernel ~/.cache/glass/vmlinuz -initrd ~/.cache/glass/initrd.gz \
      -append console=ttyS0
"""
import argparse
import hashlib
import os
import re
import subprocess
import sys
import threading
import time

READY_MARKER = "GLASS-INIT-READY"
PROMPT = "glass# "
# Terminal control sequences (busybox ash asks for the cursor position
# with ESC [ 6 n) and carriage returns are removed before matching.
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\r")
RC_RE = re.compile(r"__GLASS_RC=(\d+)__")
BEGIN_RE = re.compile(r"__GLASS_BEGIN0__\n")


class Console:
    """The emulator process and everything it has printed so far."""

    def __init__(self, argv, log, char_delay):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0)
        self.log = log
        self.char_delay = char_delay
        self.raw = ""
        self.lock = threading.Condition()
        self.eof = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            data = os.read(self.proc.stdout.fileno(), 65536)
            with self.lock:
                if not data:
                    self.eof = True
                    self.lock.notify_all()
                    return
                text = data.decode("latin-1")
                self.raw += text
                if self.log:
                    self.log.write(text)
                    self.log.flush()
                self.lock.notify_all()

    def text(self):
        with self.lock:
            return ANSI_RE.sub("", self.raw)

    def wait_for(self, pattern, start, timeout):
        """Waits until `pattern` (a regex) appears in the cleaned output at
        or after offset `start`; returns the match or None on timeout/EOF."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        with self.lock:
            while True:
                clean = ANSI_RE.sub("", self.raw)
                m = rx.search(clean, start)
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    return None
                self.lock.wait(min(left, 1.0))

    def send(self, line):
        data = (line + "\n").encode()
        try:
            if self.char_delay <= 0:
                self.proc.stdin.write(data)
            else:
                # Byte by byte: a UART model without input flow control
                # must not lose characters past its 16-byte FIFO.
                for b in data:
                    self.proc.stdin.write(bytes([b]))
                    time.sleep(self.char_delay)
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass

    def run(self, cmd, timeout):
        """Types `cmd` at the prompt; returns (exit status, output) or
        (None, output so far) on timeout."""
        start = len(self.text())
        # Markers around the output: the shell prints BEGIN0 and RC=<n>
        # while the echoed (and possibly wrapped) command line holds
        # "$((0))" and "$?" literally, so it never matches them.
        self.send("echo __GLASS_BEGIN$((0))__; " + cmd + "; echo __GLASS_RC=$?__")
        m = self.wait_for(RC_RE.pattern, start, timeout)
        clean = self.text()
        if not m:
            return None, clean[start:]
        b = BEGIN_RE.search(clean, start, m.start())
        body = clean[b.end():m.start()] if b else clean[start:m.start()]
        self.wait_for(re.escape(PROMPT), m.end(), timeout)
        return int(m.group(1)), body



def add_common_args(ap, boot_timeout, cmd_timeout):
    """The options every console-driven test takes."""
    ap.add_argument("--boot-timeout", type=float, default=boot_timeout,
                    help="seconds to wait for the shell (default %g)" % boot_timeout)
    ap.add_argument("--cmd-timeout", type=float, default=cmd_timeout,
                    help="seconds to wait for each command (default %g)" % cmd_timeout)
    ap.add_argument("--exit-timeout", type=float, default=120,
                    help="seconds to wait for the emulator to end after poweroff")
    ap.add_argument("--expect-exit", type=int, default=0,
                    help="the emulator's exit status expected after poweroff -f")
    ap.add_argument("--char-delay", type=float, default=0.002,
                    help="seconds between typed characters (0: whole lines)")
    ap.add_argument("--log", help="file to copy the console output to")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="copy the console output to stderr")
    ap.add_argument("command", nargs=argparse.REMAINDER,
                    help="-- then the emulator command line")


def emulator_argv(ap, args):
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not argv:
        ap.error("give the emulator command after --")
    return argv


class Session:
    """One emulator run: the console, the PASS/FAIL record, the boot to
    the prompt, and the end (dmesg, poweroff -f, exit status)."""

    def __init__(self, args, argv):
        self.args = args
        self.results = []
        self.t0 = time.monotonic()
        self.log = (open(args.log, "w") if args.log else
                    (sys.stderr if args.verbose else None))
        self.con = Console(argv, self.log, args.char_delay)

    def check(self, name, ok, detail=""):
        self.results.append(ok)
        print("%s: %s%s" % ("PASS" if ok else "FAIL", name, (" -- " + detail) if detail else ""),
              flush=True)
        return ok

    def run(self, cmd):
        return self.con.run(cmd, self.args.cmd_timeout)

    def boot(self):
        """Waits for the initramfs marker and the prompt; False if either
        does not come (the console's tail goes to stderr)."""
        con, timeout = self.con, self.args.boot_timeout
        m = con.wait_for(re.escape(READY_MARKER), 0, timeout)
        if not self.check("boot to the initramfs marker", m is not None,
                          "%.1f s" % (time.monotonic() - self.t0) if m else
                          "no %s within %g s" % (READY_MARKER, timeout)):
            print("--- last console output ---\n" + con.text()[-3000:], file=sys.stderr)
            return False
        p = con.wait_for(re.escape(PROMPT), m.end(), timeout)
        return self.check("shell prompt", p is not None, "%.1f s" % (time.monotonic() - self.t0))

    def power_off(self):
        """`dmesg | grep -i error` must print nothing; then poweroff -f and
        the emulator's exit status."""
        rc, out = self.run("dmesg | grep -i error")
        self.check("dmesg | grep -i error is empty", rc is not None and out.strip() == "",
                   out.strip()[:400])
        self.con.send("poweroff -f")
        want = self.args.expect_exit
        try:
            status = self.con.proc.wait(timeout=self.args.exit_timeout)
            self.check("poweroff -f ends the emulator with status %d" % want,
                       status == want, "status %d" % status)
        except subprocess.TimeoutExpired:
            self.check("poweroff -f ends the emulator", False,
                       "still running after %g s" % self.args.exit_timeout)

    def close(self):
        """Stops the emulator if it still runs; closes the log."""
        if self.con.proc.poll() is None:
            self.con.proc.kill()
            self.con.proc.wait()
        if self.log and self.log is not sys.stderr:
            self.log.close()

    def summary(self):
        """Prints the totals; the process's exit status."""
        ok = all(self.results)
        print("%s: %d/%d checks passed in %.1f s" % ("OK" if ok else "FAILED", sum(self.results),
                                                     len(self.results), time.monotonic() - self.t0))
        return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap, boot_timeout=600, cmd_timeout=300)
    args = ap.parse_args()
    argv = emulator_argv(ap, args)

    s = Session(args, argv)
    try:
        if not s.boot():
            return 1

        rc, out = s.run("uname -m")
        s.check("uname -m", rc == 0 and re.fullmatch(r"i[3-6]86", out.strip()) is not None,
                repr(out.strip()))

        rc, out = s.run("cat /proc/cpuinfo")
        model = re.search(r"^model name\s*:\s*(.*)$", out, re.M)
        ok = (rc == 0 and re.search(r"^processor\s*:\s*0$", out, re.M) is not None
              and re.search(r"^vendor_id\s*:", out, re.M) is not None
              and re.search(r"^flags\s*:.*\bfpu\b", out, re.M) is not None)
        s.check("/proc/cpuinfo", ok, model.group(1).strip() if model else repr(out[:200]))

        # Files made in the guest, hashed there and here.
        seq_data = "".join("%d\n" % i for i in range(1, 20001)).encode()
        cases = [
            ("seq 1 20000 > /tmp/seq.txt && sha256sum /tmp/seq.txt", seq_data),
            ("dd if=/dev/zero bs=1024 count=1024 2>/dev/null | sha256sum", bytes(1 << 20)),
        ]
        for cmd, data in cases:
            want = hashlib.sha256(data).hexdigest()
            rc, out = s.run(cmd)
            got = out.split()[0] if out.split() else ""
            s.check("sha256sum (%s)" % cmd.split()[0], rc == 0 and got == want,
                    "guest %s, host %s" % (got[:16], want[:16]))

        rc, out = s.run("mount")
        want = [("proc", "/proc", "proc"), ("sysfs", "/sys", "sysfs"),
                ("devtmpfs", "/dev", "devtmpfs"), ("tmpfs", "/tmp", "tmpfs")]
        missing = [w for w in want
                   if not re.search(r"^%s on %s type %s\b" % w, out, re.M)]
        s.check("mount", rc == 0 and not missing,
                "missing %s" % ", ".join(w[1] for w in missing) if missing else "")

        s.power_off()
    finally:
        s.close()
    return s.summary()


if __name__ == "__main__":
    sys.exit(main())
