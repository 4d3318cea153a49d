#!/bin/sh
# tests/guest/boot/mkdisk.sh OUT.img KERNEL INITRD [APPEND] — a 64 MiB
# MBR-partitioned disk with one bootable FAT16 partition holding SYSLINUX
# (Debian packages syslinux, syslinux-common, mtools, dosfstools, fdisk),
# the kernel and the initrd; syslinux's mbr.bin as the boot sector. No root.
# It boots Linux through the BIOS's INT 13h (EDD reads), INT 10h, INT 15h
# E820 and INT 16h: the real end-to-end test of bios/.
set -eu
out=$1
kernel=$2
initrd=$3
append=${4:-console=ttyS0,115200 acpi=off}
off=$((2048 * 512))
rm -f "$out"
truncate -s 64M "$out"
printf 'label: dos\nstart=2048, type=6, bootable\n' | sfdisk -q "$out"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$out" bs=440 count=1 conv=notrunc status=none
mkfs.fat -F 16 -n GLASSBOOT --offset 2048 "$out" $(( (64 * 1024 - 1024) )) >/dev/null
cfg=$(mktemp)
cat > "$cfg" <<CFG
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 1
LABEL linux
  KERNEL vmlinuz
  APPEND initrd=initrd.gz $append
CFG
mcopy -i "$out@@$off" "$kernel" ::vmlinuz
mcopy -i "$out@@$off" "$initrd" ::initrd.gz
mcopy -i "$out@@$off" "$cfg" ::syslinux.cfg
rm -f "$cfg"
syslinux --offset "$off" --install "$out"
echo "mkdisk.sh: $out ready"
