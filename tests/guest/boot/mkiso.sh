#!/bin/sh
# tests/guest/boot/mkiso.sh OUT.iso KERNEL INITRD [APPEND] — an El Torito
# no-emulation ISOLINUX CD (Debian packages isolinux, syslinux-common,
# xorriso). Boot it with the CMOS boot order set to CD (QEMU: -boot d).
set -eu
out=$1
kernel=$2
initrd=$3
append=${4:-console=ttyS0,115200 acpi=off}
dir=$(mktemp -d)
mkdir -p "$dir/isolinux"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$dir/isolinux/"
cp "$kernel" "$dir/vmlinuz"
cp "$initrd" "$dir/initrd.gz"
cat > "$dir/isolinux/isolinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 1
LABEL linux
  KERNEL /vmlinuz
  APPEND initrd=/initrd.gz $append
CFG
xorriso -as mkisofs -quiet -o "$out" -b isolinux/isolinux.bin -c isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table "$dir"
rm -rf "$dir"
echo "mkiso.sh: $out ready"
