#!/usr/bin/env python3
"""ata_polls.py LOG — checks, in a `glass -d ioport` log of the BIOS
reading a disk, that between the sectors of one PIO command the BIOS polls
the drive's status back to back: at most one PIT latch command (a write to
port 43h, the deadline's clock) between two status reads. A BIOS that
sleeps between polls (udelay(50): two or more latches) waits 50 us for
each sector of a multi-sector read, which the drive has ready microseconds
after the last (Glass's IDE: 2 us): SYSLINUX then took 0.72 s to load a
5.7 MB kernel, 0.26 s with back-to-back polls. Exit status 1 names the
first offending gap."""
import re
import sys

DATA = {0x1F0, 0x170}
STATUS = {0x1F7, 0x177, 0x3F6, 0x376}
# A write to the command or the drive/head register starts the next
# command: the window of a transfer ends there.
COMMAND = {0x1F7, 0x177, 0x1F6, 0x176}


def main(path):
    line_re = re.compile(r"ioport (read |write) ([0-9a-f]{4}) size (\d)")
    in_transfer = False  # a data read seen since the last command
    latches = None       # PIT latches since the last status read, in a transfer
    polls = gaps = 0
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = line_re.match(line)
            if not m:
                continue
            write, port = m.group(1) == "write", int(m.group(2), 16)
            if write and port in COMMAND:
                in_transfer, latches = False, None
            elif not write and port in DATA:
                in_transfer, latches = True, None
            elif in_transfer and not write and port in STATUS:
                if latches is not None:
                    gaps += 1
                    if latches >= 2:
                        print(f"ata_polls: line {n}: {latches} PIT latches between two status "
                              f"polls inside a PIO transfer: the BIOS slept", file=sys.stderr)
                        return 1
                latches = 0
                polls += 1
            elif write and port == 0x43 and latches is not None:
                latches += 1
    if gaps == 0:
        print("ata_polls: no status polls between sectors found in the log", file=sys.stderr)
        return 1
    print(f"ata_polls: {polls} status polls inside PIO transfers, none after a sleep")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
