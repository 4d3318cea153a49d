#!/bin/sh
# tests/linux/mkdisk.sh — builds a bootable raw hard-disk image, without
# root and without mounting anything:
#   sector 0        syslinux's MBR boot code (mbr.bin) + an MBR partition
#                   table made by sfdisk: one active FAT16 partition
#                   (type 0x0e, FAT16 LBA) from 1 MiB to the end
#   partition 1     mkfs.fat file system (made in place with --offset),
#                   syslinux installed in it through mtools
#                   (syslinux --offset --install), holding
#                   /vmlinuz, /initrd.img (a copy of INITRD), /syslinux.cfg
# syslinux.cfg talks on the serial port (SERIAL 0 115200) and boots at
# once: kernel + initrd with APPEND.
# Usage: mkdisk.sh [OUTPUT]   (default $GLASS_CACHE/disk.img)
#   KERNEL=file (default $GLASS_CACHE/vmlinuz)
#   INITRD=file (default $GLASS_CACHE/initrd.gz, see mkinitrd.sh; the
#               plain cpio initrd.cpio spares a slow emulator the gunzip)
#   APPEND="..." kernel command line (default "console=ttyS0")
#   SIZE=MiB    image size (default 64)
# Needs Debian's syslinux, syslinux-common, mtools, dosfstools and fdisk
# (sfdisk). The image is a build product: keep it out of the tree.
set -eu

CACHE=${GLASS_CACHE:-$HOME/.cache/glass}
OUT=${1:-$CACHE/disk.img}
KERNEL=${KERNEL:-$CACHE/vmlinuz}
INITRD=${INITRD:-$CACHE/initrd.gz}
APPEND=${APPEND:-console=ttyS0}
SIZE=${SIZE:-64}
MBR=${MBR:-/usr/lib/syslinux/mbr/mbr.bin}

for f in "$KERNEL" "$INITRD" "$MBR"; do
    [ -s "$f" ] || { echo "mkdisk.sh: missing $f (fetch.sh / mkinitrd.sh / apt-get install syslinux-common)" >&2; exit 1; }
done
for t in sfdisk mkfs.fat syslinux mcopy; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/sbin/$t" ] || [ -x "/usr/sbin/$t" ] || {
        echo "mkdisk.sh: needs $t (fdisk, dosfstools, syslinux, mtools)" >&2; exit 1; }
done
PATH=$PATH:/sbin:/usr/sbin

TMP=$OUT.tmp
rm -f "$TMP"
# A sparse file: only what is written takes space.
dd if=/dev/zero of="$TMP" bs=1048576 count=0 seek="$SIZE" 2>/dev/null

# Partition 1: start at sector 2048 (1 MiB), to the end, type 0x0e
# (FAT16 with LBA), active ("*").
START=2048
printf 'label: dos\nstart=%d, type=e, bootable\n' "$START" | sfdisk -q "$TMP"
SECTORS=$(( SIZE * 2048 - START ))

# The file system inside the image, at byte offset START*512. mkfs.fat's
# --offset is in sectors; -h (hidden sectors) tells the boot sector where
# its partition starts, which syslinux's FAT loader needs on a hard disk.
mkfs.fat -F 16 -n GLASSBOOT -h "$START" --offset "$START" "$TMP" $((SECTORS / 2)) >/dev/null

# The MBR's boot code: the first 440 bytes (the partition table at 446
# and the disk signature at 440 stay as sfdisk wrote them).
dd if="$MBR" of="$TMP" bs=440 count=1 conv=notrunc 2>/dev/null

# syslinux writes its boot sector and ldlinux.sys/ldlinux.c32 into the
# FAT through mtools: no mount, no root.
syslinux --offset $((START * 512)) --install "$TMP"

CFG=$(mktemp)
trap 'rm -f "$CFG"' EXIT
"$(dirname "$0")/syslinux_cfg.sh" "$APPEND" > "$CFG"
IMG="$TMP@@$((START * 512))"
MTOOLS_SKIP_CHECK=1 mcopy -o -i "$IMG" "$KERNEL" ::/vmlinuz
MTOOLS_SKIP_CHECK=1 mcopy -o -i "$IMG" "$INITRD" ::/initrd.img
MTOOLS_SKIP_CHECK=1 mcopy -o -i "$IMG" "$CFG" ::/syslinux.cfg
mv "$TMP" "$OUT"
echo "mkdisk.sh: $OUT ($SIZE MiB; FAT16 partition at sector $START with syslinux," \
     "vmlinuz, initrd.img; APPEND $APPEND)"
MTOOLS_SKIP_CHECK=1 mdir -i "$OUT@@$((START * 512))" -b ::/
