#!/usr/bin/env python3
"""tests/bench/run.py — `make bench`: the workloads of tests/bench/workload.c
under every engine, and Debian's kernel booted to its shell, as one table.

  run.py --glass ./glass --guest build/bench/bench.elf --native build/bench/bench-native

Columns (engines):
  native   the same C built for x86-64 and run on the host (the build
           machines run no 32-bit programs), timed inside the process
  jit      ./glass -accel jit     (n/a while Glass has no JIT)
  interp   ./glass -accel interp
  qemu     qemu-system-i386 -accel tcg
The guest is one multiboot kernel; `-append "work=NAME rounds=N"` picks the
workload. Emulator times are wall-clock times of the whole process minus
the median start-up time (a `work=none` run of the same engine). Every
repeat runs every workload under every engine in turn (the engines' order
rotates between repeats), so that load on the shared machine falls on all
of them; the table shows medians. An engine that cannot start (the JIT
today) shows n/a; a run that fails or times out shows "fail". Every run's
checksum must equal the native one: a mismatch is a correctness bug in an
engine, printed loudly, and the script then exits with status 1.

Rounds per engine: a run whose work takes less than BENCH_MIN_SECONDS
(0.3 s) is lost in the start-up time's noise (the JIT and native rows of
most workloads at their default rounds: 0.005-0.1 s, against a start-up
of ~0.1 s that varies by tens of ms). So one calibration run per cell
first, at the default rounds; a cell below that then runs N times the
rounds (N up to 64, for ~0.5 s of work), and the table shows its seconds
per default rounds: time * default / rounds run. The rounds each cell
ran are listed under the table. The workloads do the same work every
round, so this only removes noise; the JIT's translation is amortised
over more rounds (a few ms in all). BENCH_MIN_SECONDS=0: every engine at
the default rounds, as before 2026-12-07.

Ratios: qemu/jit = how many times faster the JIT is than QEMU's TCG;
jit/nat = how many times slower than native; intp/jit = the JIT's speedup
over the interpreter; intp/nat and qemu/nat likewise. MIPS: guest
instructions per second from Glass's own count (-d stats). The geomean row
is the geometric mean over the workloads.

Environment (make passes its command-line variables through):
  BENCH_REPEAT=3        runs per cell (medians)
  BENCH_MIN_SECONDS=0.3 cells faster than this run more rounds (above)
  BENCH_SCALE=1         multiplies every workload's default rounds
  BENCH_ROUNDS=N        the same N rounds for every workload instead
  BENCH_ONLY=a,b        only these rows: workload names, `linux` for the boot
  BENCH_ENGINES=...     only these columns (native,jit,interp,qemu)
  BENCH_LINUX=0         no Linux boot row
  BENCH_TIMEOUT=300     seconds before a workload run counts as failed
  BENCH_LINUX_TIMEOUT=600  the same for a boot
  QEMU_I386             the QEMU binary (qemu-system-i386)
  GLASS_CACHE           where vmlinuz and initrd.gz are (~/.cache/glass;
                        tests/linux/fetch.sh and mkinitrd.sh make them)
"""
import argparse
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKSUM_RE = re.compile(r"bench (\S+): (\d+) rounds, checksum ([0-9a-f]{8})")
SECONDS_RE = re.compile(r"^seconds ([0-9.]+)$", re.M)
INSNS_RE = re.compile(r"glass: (\d+) instructions")
ENGINES = ["native", "jit", "interp", "qemu"]
EMULATED = ["jit", "interp", "qemu"]


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


def env_float(name, default):
    v = os.environ.get(name, "")
    return float(v) if v.strip() else default


def env_list(name):
    v = os.environ.get(name, "").replace(" ", ",")
    return [x for x in v.split(",") if x]


class Run:
    """One process: seconds of work (start-up not yet subtracted for the
    emulators), checksum, Glass's instruction count, or why it failed."""

    def __init__(self, seconds=None, checksum=None, insns=None, error=None):
        self.seconds, self.checksum, self.insns, self.error = seconds, checksum, insns, error
        self.scale = 1  # rounds run / the workload's default rounds


def read_text(path):
    """The file's text, or "" if the run did not write it."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def tail(text, n=200):
    text = text.strip().splitlines()
    return text[-1][:n] if text else ""


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="glass-bench-")
        self.qemu = os.environ.get("QEMU_I386", "qemu-system-i386")
        self.timeout = env_float("BENCH_TIMEOUT", 300)

    # ---------------------------------------------------------- engines

    def run_native(self, work, rounds):
        try:
            p = subprocess.run([self.args.native, work, str(rounds)], capture_output=True,
                               text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return Run(error="timed out after %g s" % self.timeout)
        m, s = CHECKSUM_RE.search(p.stdout), SECONDS_RE.search(p.stdout)
        if p.returncode != 0 or not m or not s:
            return Run(error="status %d: %s" % (p.returncode, tail(p.stderr + p.stdout)))
        return Run(float(s.group(1)), m.group(3))

    def emulator_argv(self, engine, work, rounds, out, log):
        append = "work=%s rounds=%d" % (work, rounds)
        if engine == "qemu":
            return [self.qemu, "-accel", "tcg", "-nographic", "-no-reboot", "-m", "64",
                    "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                    "-debugcon", "file:" + out, "-kernel", self.args.guest, "-append", append]
        return [self.args.glass, "-accel", engine, "-nographic", "-no-reboot", "-m", "64",
                "-d", "stats", "-D", log, "-debugcon", "file:" + out,
                "-kernel", self.args.guest, "-append", append]

    def run_emulator(self, engine, work, rounds):
        out = os.path.join(self.tmp, engine + ".out")
        log = os.path.join(self.tmp, engine + ".log")
        for f in (out, log):
            if os.path.exists(f):
                os.unlink(f)
        argv = self.emulator_argv(engine, work, rounds, out, log)
        t0 = time.monotonic()
        try:
            # The guest exits through the debug-exit port: status 1 for a
            # guest that wrote 0, in Glass and QEMU alike. Success is the
            # checksum line, whatever the status.
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return Run(error="timed out after %g s" % self.timeout)
        seconds = time.monotonic() - t0
        text = read_text(out)
        m = CHECKSUM_RE.search(text)
        if not m or m.group(1) != work or int(m.group(2)) != rounds:
            why = tail(p.stderr) or tail(text) or "no checksum, status %d" % p.returncode
            return Run(error=why)
        n = INSNS_RE.search(read_text(log))
        insns = int(n.group(1)) if n else None
        return Run(seconds, m.group(3), insns)

    def run(self, engine, work, rounds):
        if engine == "native":
            return self.run_native(work, rounds)
        return self.run_emulator(engine, work, rounds)


# ------------------------------------------------------------------ formatting

def fmt_time(t):
    """Seconds with about three significant digits in at most 7 columns."""
    if t is None:
        return "n/a"
    if isinstance(t, str):
        return t
    if t < 1e-4:
        return "~0"  # lost in the start-up time's noise: give it more rounds
    if t >= 100:
        return "%.0f" % t
    if t >= 10:
        return "%.1f" % t
    if t >= 0.01:
        return "%.2f" % t if t >= 1 else "%.3f" % t if t >= 0.1 else "%.4f" % t
    return "%.2g" % t


def fmt_ratio(r):
    if r is None:
        return "n/a"
    if r < 10:
        return "%.2f" % r
    return "%.1f" % r if r < 100 else "%.0f" % r


def progress_time(run, baseline):
    """A run's seconds for the progress lines: start-up subtracted with the
    baselines measured so far (the table uses all of them)."""
    if run.seconds is None:
        return "fail"
    if not baseline:
        return fmt_time(run.seconds / run.scale)
    return fmt_time(max(run.seconds - statistics.median(r.seconds for r in baseline), 0.0) /
                    run.scale)


def geomean(values):
    if not values or any(v is None or v <= 0 for v in values):
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def ratio(a, b):
    if not isinstance(a, float) or not isinstance(b, float) or b <= 0:
        return None
    return a / b


# ------------------------------------------------------------------ linux

def linux_boot(argv, timeout):
    """Starts the emulator with the serial console on a pipe and returns the
    seconds until the initramfs's shell prompt (mkinitrd.sh's marker, then
    the prompt), or an error string; the run is then killed."""
    sys.path.insert(0, os.path.join(HERE, "..", "linux"))
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    from console_test import Console, PROMPT, READY_MARKER  # noqa: E402
    t0 = time.monotonic()
    con = Console(argv, None, 0)
    try:
        m = con.wait_for(re.escape(READY_MARKER), 0, timeout)
        p = m and con.wait_for(re.escape(PROMPT), m.end(),
                               max(1.0, timeout - (time.monotonic() - t0)))
        seconds = time.monotonic() - t0
        if not p:
            return "no prompt: " + tail(con.text(), 120)
        return seconds
    finally:
        if con.proc.poll() is None:
            con.proc.kill()
        con.proc.wait()


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--glass", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--native", required=True)
    args = ap.parse_args()

    repeat = max(1, env_int("BENCH_REPEAT", 3))
    scale = env_float("BENCH_SCALE", 1.0)
    fixed_rounds = env_int("BENCH_ROUNDS", 0)
    only = env_list("BENCH_ONLY")
    engines = env_list("BENCH_ENGINES") or ENGINES
    for e in engines:
        if e not in ENGINES:
            sys.exit("bench: BENCH_ENGINES: unknown engine %s (%s)" % (e, ",".join(ENGINES)))
    engines = [e for e in ENGINES if e in engines]

    listing = subprocess.run([args.native, "--list"], capture_output=True, text=True, check=True)
    workloads = []  # (name, rounds, what)
    for line in listing.stdout.splitlines():
        name, rounds, what = line.split(" ", 2)
        if only and name not in only:
            continue
        rounds = fixed_rounds or max(1, round(int(rounds) * scale))
        workloads.append((name, rounds, what))
    known = {line.split(" ", 1)[0] for line in listing.stdout.splitlines()} | {"linux"}
    for name in only:
        if name not in known:
            sys.exit("bench: BENCH_ONLY: unknown row %s (%s)" % (name, ",".join(sorted(known))))
    want_linux = env_int("BENCH_LINUX", 1) != 0 and (not only or "linux" in only)

    # The table and the progress lines (stderr) interleave in order.
    sys.stdout.reconfigure(line_buffering=True)
    b = Bench(args)
    try:
        return run_all(b, engines, workloads, repeat, want_linux)
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)


def run_all(b, engines, workloads, repeat, want_linux):
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    # Which engines start at all: one baseline run each. A failure here
    # (the JIT before it exists, QEMU not installed) makes the column n/a.
    unavailable = {}
    for e in engines:
        if e == "native":
            continue
        if e == "qemu" and not shutil.which(b.qemu):
            unavailable[e] = "%s not found (apt-get install qemu-system-x86)" % b.qemu
            continue
        r = b.run(e, "none", 0)
        if r.error:
            unavailable[e] = r.error
    for e, why in unavailable.items():
        say("bench: %s: n/a (%s)" % (e, why))
    live = [e for e in engines if e not in unavailable]

    base = {e: [] for e in live if e != "native"}            # start-up seconds
    runs = {(w, e): [] for w, _, _ in workloads for e in live}
    mismatches = []
    wrong = set()  # (workload, engine) cells with a wrong checksum

    # Rounds per cell: one calibration run each at the default rounds.
    scale = {(w, e): 1 for w, _, _ in workloads for e in live}
    min_seconds = env_float("BENCH_MIN_SECONDS", 0.3)
    if min_seconds > 0 and workloads:
        start0 = {}
        for e in live:
            if e != "native":
                r = b.run(e, "none", 0)
                if r.seconds is not None:
                    base[e].append(r)
                    start0[e] = r.seconds
        for name, rounds, _ in workloads:
            for e in live:
                r = b.run(e, name, rounds)
                if r.seconds is None:
                    continue
                work = r.seconds - start0.get(e, 0.0)
                if work < min_seconds:
                    scale[(name, e)] = min(64, math.ceil(min_seconds * 5 / 3 / max(work, 0.005)))
            say("  [calibration] %-9s %s" % (name, "  ".join(
                "%s x%d" % (e, scale[(name, e)]) for e in live)))
    native_sums = {}  # (workload, rounds): the host's checksum

    def reference(name, rounds):
        if (name, rounds) not in native_sums:
            native_sums[(name, rounds)] = b.run("native", name, rounds).checksum
        return native_sums[(name, rounds)]

    for rep in range(repeat):
        order = live[rep % len(live):] + live[:rep % len(live)] if live else []
        for e in order:
            if e != "native":
                r = b.run(e, "none", 0)
                if r.seconds is not None:
                    base[e].append(r)
        for name, rounds, _ in workloads:
            cells = {}
            for e in order:
                r = b.run(e, name, rounds * scale[(name, e)])
                r.scale = scale[(name, e)]
                runs[(name, e)].append(r)
                cells[e] = r
                if r.error:
                    say("bench: FAILED: %s under %s: %s" % (name, e, r.error))
            # The host CPU is the reference (at each cell's rounds);
            # without the native column, the first engine that gave a
            # checksum (all at their rounds alike then).
            ref = next((e for e in ENGINES if e in cells and cells[e].checksum), None)
            for e, r in cells.items():
                if "native" in cells:
                    ref = "native"
                    want = reference(name, rounds * r.scale)
                else:
                    want = cells[ref].checksum if ref else None
                if want and r.checksum and r.checksum != want:
                    msg = ("bench: CHECKSUM MISMATCH: %s under %s gave %s, %s %s" %
                           (name, e, r.checksum, ref, want))
                    mismatches.append(msg)
                    wrong.add((name, e))
                    say("!" * 72 + "\n" + msg + "\n" + "!" * 72)
            say("  [%d/%d] %-9s %s" % (rep + 1, repeat, name, "  ".join(
                "%s %s" % (e, progress_time(cells[e], base.get(e))) for e in live)))

    startup = {e: statistics.median(r.seconds for r in v) if v else 0.0
               for e, v in base.items()}
    base_insns = {e: min((r.insns for r in v if r.insns), default=0) for e, v in base.items()}

    # Medians per cell; "fail" when every run of the cell failed.
    table = {}
    mips = {}
    for name, _, _ in workloads:
        for e in engines:
            if e in unavailable:
                table[(name, e)] = None
                continue
            ok = [r for r in runs[(name, e)] if r.seconds is not None]
            if not ok:
                table[(name, e)] = "fail"
                continue
            secs = [max(r.seconds - startup.get(e, 0.0), 1e-6) for r in ok]
            table[(name, e)] = float(statistics.median(s / r.scale for r, s in zip(ok, secs)))
            if e in ("jit", "interp"):
                rates = [(r.insns - base_insns[e]) / s / 1e6
                         for r, s in zip(ok, secs) if r.insns]
                mips[(name, e)] = statistics.median(rates) if rates else None

    if workloads:
        print_table(engines, workloads, repeat, table, mips, startup, unavailable, wrong)
        scaled = ["%s %s" % (name, ", ".join("%s x%d" % (e, scale[(name, e)]) for e in live
                                            if scale[(name, e)] > 1))
                  for name, _, _ in workloads
                  if any(scale[(name, e)] > 1 for e in live)]
        if scaled:
            print("rounds run (seconds shown per default rounds): " + "; ".join(scaled))

    linux = run_linux(b, engines, unavailable, repeat, say) if want_linux else None
    print_targets(workloads, table, linux)

    if mismatches:
        print("\n" + "!" * 72)
        print("%d CHECKSUM MISMATCH(ES): an engine computed something else than the host CPU:"
              % len(mismatches))
        for m in mismatches:
            print("  " + m)
        print("!" * 72)
        return 1
    return 0


RATIOS = [("qemu/jit", "qemu", "jit"), ("jit/nat", "jit", "native"),
          ("intp/jit", "interp", "jit"), ("intp/nat", "interp", "native"),
          ("qemu/nat", "qemu", "native")]


def print_table(engines, workloads, repeat, table, mips, startup, unavailable, wrong):
    cols = ENGINES
    print()
    print("make bench: seconds per workload, median of %d interleaved run%s; emulator start-up "
          "subtracted" % (repeat, "s" if repeat > 1 else ""))
    if startup:
        print("(start-up: %s)" % ", ".join("%s %.3f s" % (e, s) for e, s in startup.items()))
    head = "%-9s" % "workload" + "".join("%8s" % c for c in cols) + "  " + \
        "".join("%9s" % r[0] for r in RATIOS) + " %5s %5s" % ("intp", "jit")
    print(" " * 11 + " seconds ".center(30, "-") + "   " + " ratios ".center(44, "-") + "  " +
          " MIPS ".center(10, "-"))
    print(head)
    print("-" * len(head))
    per_col = {c: [] for c in cols}
    per_ratio = {r[0]: [] for r in RATIOS}
    for name, rounds, _ in workloads:
        t = {c: table.get((name, c)) if c in engines else None for c in cols}
        line = "%-9s" % name + "".join(
            "%8s" % (fmt_time(t[c]) + ("!" if (name, c) in wrong else "")) for c in cols)
        line += "  " + "".join("%9s" % fmt_ratio(ratio(t[a], t[d])) for _, a, d in RATIOS)
        mi, mj = mips.get((name, "interp")), mips.get((name, "jit"))
        line += " %5s %5s" % ("%.0f" % mi if mi else "n/a", "%.0f" % mj if mj else "n/a")
        print(line)
        for c in cols:
            per_col[c].append(t[c] if isinstance(t[c], float) else None)
        for label, a, d in RATIOS:
            per_ratio[label].append(ratio(t[a], t[d]))
    if len(workloads) > 1:
        print("-" * len(head))
        line = "%-9s" % "geomean" + "".join(
            "%8s" % fmt_time(geomean(per_col[c])) for c in cols)
        line += "  " + "".join("%9s" % fmt_ratio(geomean(per_ratio[r[0]])) for r in RATIOS)
        print(line)
    print("qemu/jit: JIT speedup over QEMU TCG; jit/nat: JIT time / native time; intp/jit: "
          "JIT speedup")
    print("over the interpreter; MIPS: guest instructions per second (glass -d stats).")
    for name, rounds, what in workloads:
        print("  %-9s %5d x %s" % (name, rounds, what))
    for e, why in unavailable.items():
        print("%s: n/a (%s)" % (e, why))
    if wrong:
        print("!: a wrong checksum in at least one run (listed at the end)")


def run_linux(b, engines, unavailable, repeat, say):
    """The boot row: each engine in turn, `repeat` times. Returns {engine:
    median seconds | None | "fail"}, or None when the files are missing."""
    cache = os.environ.get("GLASS_CACHE") or os.path.expanduser("~/.cache/glass")
    kernel, initrd = os.path.join(cache, "vmlinuz"), os.path.join(cache, "initrd.gz")
    print()
    if not (os.path.exists(kernel) and os.path.exists(initrd)):
        print("linux boot: skipped, no %s and %s (tests/linux/fetch.sh, then "
              "tests/linux/mkinitrd.sh make them)" % (kernel, initrd))
        return None
    timeout = env_float("BENCH_LINUX_TIMEOUT", 600)
    common = ["-m", "256", "-nographic", "-kernel", kernel, "-initrd", initrd,
              "-append", "console=ttyS0"]
    argv = {"jit": [b.args.glass, "-accel", "jit"] + common,
            "interp": [b.args.glass, "-accel", "interp"] + common,
            "qemu": [b.qemu, "-accel", "tcg"] + common}
    live = [e for e in EMULATED if e in engines and e not in unavailable]
    times = {e: [] for e in live}
    for rep in range(repeat):
        order = live[rep % len(live):] + live[:rep % len(live)] if live else []
        for e in order:
            t = linux_boot(argv[e], timeout)
            times[e].append(t)
            if isinstance(t, str):
                say("bench: linux boot FAILED under %s: %s" % (e, t))
        say("  [%d/%d] linux     %s" % (rep + 1, repeat, "  ".join(
            "%s %s" % (e, fmt_time(times[e][-1])) for e in order)))
    result = {}
    for e in EMULATED:
        ok = [t for t in times.get(e, []) if isinstance(t, float)]
        result[e] = (float(statistics.median(ok)) if ok else
                     "fail" if times.get(e) else None)
    print("linux boot: seconds from the start to the shell prompt, median of %d interleaved "
          "boot%s" % (repeat, "s" if repeat > 1 else ""))
    print("(-m 256 -nographic -kernel vmlinuz -initrd initrd.gz -append console=ttyS0)")
    print("%8s%8s%8s  %9s%9s" % ("jit", "interp", "qemu", "qemu/jit", "intp/jit"))
    print("%8s%8s%8s  %9s%9s" % (fmt_time(result["jit"]), fmt_time(result["interp"]),
                                 fmt_time(result["qemu"]),
                                 fmt_ratio(ratio(result["qemu"], result["jit"])),
                                 fmt_ratio(ratio(result["interp"], result["jit"]))))
    return result


def print_targets(workloads, table, linux):
    """The JIT's goals (from its issue), reported, never asserted."""
    goals = []

    def goal(text, value, ok):
        goals.append("%s %s (%s)" % (text, fmt_ratio(value), "met" if ok else "MISSED"))

    def per_workload(a, d):
        return [ratio(table.get((w, a)), table.get((w, d))) for w, _, _ in workloads]

    if workloads and all(isinstance(table.get((w, "jit")), float) for w, _, _ in workloads):
        vq = per_workload("qemu", "jit")
        if all(vq):
            goal("JIT speedup over QEMU TCG, geomean >= 2:", geomean(vq), geomean(vq) >= 2)
            worst, name = min(zip(vq, [w for w, _, _ in workloads]))
            goal("no workload slower than QEMU; the slowest, %s:" % name, worst, worst >= 1)
        vn = per_workload("jit", "native")
        if all(vn):
            goal("JIT time / native, geomean <= 4:", geomean(vn), geomean(vn) <= 4)
        vi = per_workload("interp", "jit")
        if all(vi):
            goal("JIT speedup over the interpreter, geomean >= 10:", geomean(vi),
                 geomean(vi) >= 10)
    elif workloads:
        goals.append("workloads: n/a until every workload runs under -accel jit")
    if linux is not None:
        r = ratio(linux.get("qemu"), linux.get("jit"))
        if r is not None:
            goal("Linux boot, JIT speedup over QEMU TCG > 1:", r, r > 1)
        else:
            goals.append("Linux boot: n/a until it boots under -accel jit (and QEMU)")
    if goals:
        print()
        print("targets (the JIT's; reported, never asserted):")
        for g in goals:
            print("  " + g)


if __name__ == "__main__":
    sys.exit(main())
