#!/usr/bin/env python3
"""tests/linux/serial_speed.py — how fast a Linux guest's serial console is.

Boots the emulator command given after `--` with the guest's console on
its stdin/stdout (as console_test.py does) and measures, in host seconds
of wall time and of the emulator's CPU time (which the host's other load
hardly moves; a guest spinning on its UART spends it too):
  boot      to the initramfs marker and to the shell prompt (the kernel's
            log is on the console unless the command line says `quiet`)
  null      a shell loop of --lines echo commands into /dev/null: the
            guest CPU's own cost of the loop
  console   the same loop onto the console (about 55 bytes a line:
            20000 lines are ~1.1 MB); every line must arrive
  poweroff  --tail-lines lines, a last marker line and `poweroff -f` in one
            command: the marker must reach the host before the emulator
            ends (output queued in the guest or the UART is not lost)
Prints one line per figure; exits 0 if every check passed. --boot-only
stops after the boot (compare `-append console=ttyS0` with
`-append "console=ttyS0 quiet"` for the cost of the kernel's log).
Python 3 standard library only.

Example:
  tests/linux/serial_speed.py -- ./glass -m 256 -nographic \\
      -kernel ~/.cache/glass/vmlinuz -initrd ~/.cache/glass/initrd.gz \\
      -append console=ttyS0
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console_test  # noqa: E402  (Session, Console, the common options)

LINE = 'echo "line $i: the quick brown fox jumps over the lazy dog"'


def loop(n, redirect=""):
    return 'i=0; while [ $i -lt %d ]; do %s%s; i=$((i+1)); done' % (n, LINE, redirect)


class FastConsole(console_test.Console):
    """console_test.Console with the same interface in linear time. That
    one copies the whole transcript at every read and cleans it whole at
    every wake-up: fine for a shell session, but with a megabyte on the
    console the harness would cost more than the emulator it measures,
    and under host load it would set the pace."""

    def __init__(self, argv, log, char_delay):  # pylint: disable=super-init-not-called
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0)
        self.log = log
        self.char_delay = char_delay
        self.raw_parts, self.raw_len = [], 0      # the output as read
        self.clean_parts, self.clean_len = [], 0  # without escapes and CRs
        self.tail = ""  # read, not cleaned yet: may hold an escape's start
        self.lock = threading.Condition()
        self.eof = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            data = os.read(self.proc.stdout.fileno(), 65536)
            with self.lock:
                text = data.decode("latin-1")
                self.raw_parts.append(text)
                self.raw_len += len(text)
                if self.log and text:
                    self.log.write(text)
                    self.log.flush()
                self.tail += text
                self._clean(final=not data)
                self.eof = not data
                self.lock.notify_all()
                if not data:
                    return

    def _clean(self, final):
        # An escape sequence split by a read waits in the tail for its
        # end (they are a few bytes long).
        cut = len(self.tail)
        if not final:
            esc = self.tail.rfind("\x1b", max(0, cut - 16))
            if esc >= 0:
                cut = esc
        piece = console_test.ANSI_RE.sub("", self.tail[:cut])
        self.tail = self.tail[cut:]
        if piece:
            self.clean_parts.append(piece)
            self.clean_len += len(piece)

    @staticmethod
    def _joined(parts):
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""

    def _clean_from(self, begin):
        """The cleaned text from offset `begin` on, at the cost of its
        own length."""
        out, end = [], self.clean_len
        for p in reversed(self.clean_parts):
            if end <= begin:
                break
            out.append(p[max(0, begin - (end - len(p))):])
            end -= len(p)
        return "".join(reversed(out))

    @property
    def raw(self):
        with self.lock:
            return self._joined(self.raw_parts)

    def text(self):
        with self.lock:
            return self._joined(self.clean_parts)

    def wait_for(self, pattern, start, timeout):
        """As Console.wait_for, looking only at what is new each time
        (with an overlap for a match across two reads)."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        seen = start
        with self.lock:
            while True:
                if self.clean_len > seen:
                    lo = max(start, seen - 256)
                    if rx.search(self._clean_from(lo)):
                        return rx.search(self._joined(self.clean_parts), lo)
                    seen = self.clean_len
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    return None
                self.lock.wait(min(left, 1.0))


console_test.Console = FastConsole  # what Session starts


def cpu_seconds(pid):
    """User + system CPU time of process `pid` (all its threads) so far:
    unlike the wall time, it hardly moves with the host's other load, and
    a guest that spins on LSR waiting for its UART spends it as well."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def timed(s, cmd):
    """Runs `cmd` as Session.run does, but times it from the end of the
    typing (characters go 2 ms apart) to its exit-status marker. Returns
    (exit status or None, output, wall seconds, emulator CPU seconds)."""
    con = s.con
    start = len(con.text())
    con.send("echo __GLASS_BEGIN$((0))__; " + cmd + "; echo __GLASS_RC=$?__")
    t = time.monotonic()
    c = cpu_seconds(con.proc.pid)
    m = con.wait_for(console_test.RC_RE.pattern, start, s.args.cmd_timeout)
    dt = time.monotonic() - t
    dc = cpu_seconds(con.proc.pid) - c
    clean = con.text()
    if not m:
        return None, clean[start:], dt, dc
    b = console_test.BEGIN_RE.search(clean, start, m.start())
    body = clean[b.end():m.start()] if b else clean[start:m.start()]
    con.wait_for(re.escape(console_test.PROMPT), m.end(), s.args.cmd_timeout)
    return int(m.group(1)), body, dt, dc


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    console_test.add_common_args(ap, boot_timeout=600, cmd_timeout=900)
    ap.add_argument("--lines", type=int, default=20000,
                    help="lines the loops print (default 20000, ~1.1 MB)")
    ap.add_argument("--tail-lines", type=int, default=2000,
                    help="lines printed just before poweroff -f (default 2000)")
    ap.add_argument("--boot-only", action="store_true",
                    help="measure the boot, then stop the emulator")
    args = ap.parse_args()
    argv = console_test.emulator_argv(ap, args)

    s = console_test.Session(args, argv)
    try:
        if not s.boot():
            return 1
        print("boot: the emulator used %.1f s of CPU time to the prompt"
              % cpu_seconds(s.con.proc.pid), flush=True)
        if args.boot_only:
            return s.summary()
        con = s.con

        rc, _, dt, dc = timed(s, loop(args.lines, " >/dev/null"))
        s.check("null: %d lines to /dev/null" % args.lines, rc == 0,
                "%.1f s (CPU %.1f s)" % (dt, dc))

        start = con.raw_len
        rc, out, dt, dc = timed(s, loop(args.lines))
        nbytes = con.raw_len - start
        got = len(re.findall(r"^line \d+: the quick", out, re.M))
        s.check("console: %d lines to the console" % args.lines,
                rc == 0 and got == args.lines,
                "%.1f s (CPU %.1f s), %d bytes, %.0f KB/s, %d lines arrived"
                % (dt, dc, nbytes, nbytes / dt / 1000, got))

        # Everything before poweroff -f must come out. The marker is
        # written "$((0))" on the typed line, so its echo never matches.
        t = time.monotonic()
        con.send(loop(args.tail_lines) + "; echo __GLASS_TAIL$((0))__; poweroff -f")
        try:
            status = con.proc.wait(timeout=args.exit_timeout + args.cmd_timeout)
        except subprocess.TimeoutExpired:
            status = None
        time.sleep(0.5)  # the reader thread takes the last bytes
        text = console_test.ANSI_RE.sub("", con.raw[start + nbytes:])
        tail_lines = len(re.findall(r"^line \d+: the quick", text, re.M))
        s.check("poweroff: output queued before poweroff -f comes out",
                status == args.expect_exit and "__GLASS_TAIL0__" in text
                and tail_lines == args.tail_lines,
                "status %s, %d of %d lines, marker %s, %.1f s"
                % (status, tail_lines, args.tail_lines,
                   "seen" if "__GLASS_TAIL0__" in text else "LOST",
                   time.monotonic() - t))
    finally:
        s.close()
    return s.summary()


if __name__ == "__main__":
    sys.exit(main())
