#!/bin/sh
# tests/linux/run.sh — the whole Linux console test in one command:
# fetch Debian's kernel and busybox (once), build the initramfs, boot it
# in QEMU or Glass and run console_test.py against the serial console.
# Usage: tests/linux/run.sh qemu|glass [console_test.py options]
#   GLASS=path/to/glass (default ./glass), MEM=MiB (default 256),
#   GLASS_CACHE=dir (default $HOME/.cache/glass)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${GLASS_CACHE:-$HOME/.cache/glass}
MEM=${MEM:-256}
WHICH=${1:-}
[ $# -gt 0 ] && shift
"$HERE/fetch.sh"
"$HERE/mkinitrd.sh" "$CACHE/initrd.gz"
INITRD_COMPRESS=none "$HERE/mkinitrd.sh" "$CACHE/initrd.cpio"
case "$WHICH" in
qemu)
    # QEMU's firmware provides ACPI tables: poweroff -f ends QEMU with 0.
    exec "$HERE/console_test.py" "$@" -- qemu-system-i386 -m "$MEM" -nographic \
        -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.gz" -append "console=ttyS0"
    ;;
glass)
    # Direct boot has no ACPI tables: acpi=off keeps "ACPI BIOS Error (bug):
    # A valid RSDP was not found" out of dmesg; poweroff -f then halts the
    # CPU with interrupts off, which ends Glass with status 0. The plain
    # cpio spares the interpreted guest ~40 s of gunzip.
    exec "$HERE/console_test.py" "$@" -- "${GLASS:-./glass}" -m "$MEM" -nographic \
        -serial stdio -debugcon null \
        -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.cpio" \
        -append "console=ttyS0 acpi=off"
    ;;
*)
    echo "usage: $0 qemu|glass [console_test.py options]" >&2
    exit 2
    ;;
esac
