#!/usr/bin/env python3
"""Where a Glass run's host CPU time went, by guest block.

    glass -d perfmap ... &            # names each JIT block in /tmp/perf-PID.map
    perf record -F 2000 -p PID        # or: perf record -- glass -d perfmap ...
    tests/bench/perf_blocks.py perf.data /tmp/perf-PID.map [--symbols System.map]

perf(1) names code in anonymous memory from /tmp/perf-PID.map itself, but
Glass's translation cache is a memfd mapped twice (never writable and
executable at once), which perf takes for a file: this script reads the
samples (`perf script`) and the map and does the naming. With --symbols (a
System.map or /proc/kallsyms of the guest, booted with nokaslr) blocks are
also summed by the guest function they start in.

A full cache flush reuses host addresses: a sample is given to the last
block translated at its address, so runs with flushes (-d jit counts them)
blur a little; -tb-size larger than the guest's code avoids them.
"""
import argparse
import bisect
import collections
import subprocess
import sys


def read_map(path):
    blocks = {}
    with open(path) as f:
        for line in f:
            start, size, name = line.rstrip("\n").split(" ", 2)
            blocks[int(start, 16)] = (int(size, 16), name)  # the last one wins
    return blocks


def read_symbols(path):
    syms = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1].lower() in ("t", "w"):
                syms[int(parts[0], 16)] = parts[2]
    return syms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", help="perf.data of a run of glass -d perfmap")
    ap.add_argument("map", help="/tmp/perf-PID.map it wrote")
    ap.add_argument("--symbols", help="guest System.map or kallsyms (nokaslr)")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()

    blocks = read_map(args.map)
    starts = sorted(blocks)
    syms = read_symbols(args.symbols) if args.symbols else {}
    sym_starts = sorted(syms)

    def function(eip):
        i = bisect.bisect_right(sym_starts, eip) - 1
        return syms[sym_starts[i]] if i >= 0 else "? (no symbol; page %08x)" % (eip & ~0xfff)

    try:
        out = subprocess.run(["perf", "script", "-i", args.data, "-F", "ip,dso"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit("perf_blocks: perf script failed: %s" % e)

    by_block, by_place, total = collections.Counter(), collections.Counter(), 0
    for line in out.splitlines():
        parts = line.split(None, 1)
        if len(parts) < 2:
            continue
        total += 1
        dso = parts[1].strip().strip("()")
        if "memfd:glass-jit" not in dso:
            by_place["[%s]" % dso.split("/")[-1]] += 1
            continue
        ip = int(parts[0], 16)
        i = bisect.bisect_right(starts, ip) - 1
        if i < 0 or ip >= starts[i] + blocks[starts[i]][0]:
            by_place["[JIT trampolines and thunks]"] += 1
            continue
        name = blocks[starts[i]][1]
        by_block[name] += 1
        if syms:
            eip = int(name.rsplit(":", 1)[1], 16)
            by_place[function(eip)] += 1
        else:
            by_place["[JIT blocks]"] += 1
    if not total:
        sys.exit("perf_blocks: no samples in %s" % args.data)
    print("%d samples" % total)
    print("-- by place%s" % (" (guest function)" if syms else ""))
    for k, v in by_place.most_common(args.top):
        print("%6.2f%%  %s" % (100.0 * v / total, k))
    print("-- by block (-d in_asm,out_asm shows one's code)")
    for k, v in by_block.most_common(args.top):
        print("%6.2f%%  %s" % (100.0 * v / total, k))


if __name__ == "__main__":
    main()
