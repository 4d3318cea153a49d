#!/bin/sh
# tests/guest/boot/mkgrub.sh OUT.iso KERNEL INITRD [APPEND] — a GRUB 2
# (i386-pc) rescue image with grub-mkrescue (Debian packages grub-pc-bin,
# grub-common, xorriso, mtools): bootable as an El Torito CD and, through
# its hybrid MBR, as a hard disk. GRUB talks on COM1 and the screen.
set -eu
out=$1
kernel=$2
initrd=$3
append=${4:-console=ttyS0,115200 acpi=off}
dir=$(mktemp -d)
mkdir -p "$dir/boot/grub"
cp "$kernel" "$dir/boot/vmlinuz"
cp "$initrd" "$dir/boot/initrd.gz"
cat > "$dir/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=1
menuentry "linux" {
  linux /boot/vmlinuz $append
  initrd /boot/initrd.gz
}
CFG
grub-mkrescue -o "$out" "$dir" 2>/dev/null
rm -rf "$dir"
echo "mkgrub.sh: $out ready"
