#!/bin/sh
# tests/linux/mkiso.sh — builds a bootable CD image (ISO 9660 + El Torito,
# no-emulation boot with isolinux), without root:
#   /isolinux/isolinux.bin   El Torito boot image (4 sectors loaded,
#                            boot info table patched in by xorriso)
#   /isolinux/ldlinux.c32    isolinux's second stage
#   /isolinux/isolinux.cfg   serial console, boots at once
#   /isolinux/boot.cat       the boot catalog
#   /vmlinuz, /initrd.img (a copy of INITRD)
# Usage: mkiso.sh [OUTPUT]   (default $GLASS_CACHE/boot.iso)
#   KERNEL=file (default $GLASS_CACHE/vmlinuz)
#   INITRD=file (default $GLASS_CACHE/initrd.gz, see mkinitrd.sh; the
#               plain cpio initrd.cpio spares a slow emulator the gunzip)
#   APPEND="..." kernel command line (default "console=ttyS0")
# Needs Debian's isolinux, syslinux-common and xorriso. The image is a
# build product: keep it out of the tree.
set -eu

CACHE=${GLASS_CACHE:-$HOME/.cache/glass}
OUT=${1:-$CACHE/boot.iso}
KERNEL=${KERNEL:-$CACHE/vmlinuz}
INITRD=${INITRD:-$CACHE/initrd.gz}
APPEND=${APPEND:-console=ttyS0}
ISOLINUX=${ISOLINUX:-/usr/lib/ISOLINUX/isolinux.bin}
LDLINUX=${LDLINUX:-/usr/lib/syslinux/modules/bios/ldlinux.c32}

for f in "$KERNEL" "$INITRD" "$ISOLINUX" "$LDLINUX"; do
    [ -s "$f" ] || { echo "mkiso.sh: missing $f (fetch.sh / mkinitrd.sh / apt-get install isolinux syslinux-common)" >&2; exit 1; }
done
command -v xorriso >/dev/null 2>&1 || { echo "mkiso.sh: needs xorriso" >&2; exit 1; }

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/isolinux"
cp "$ISOLINUX" "$STAGE/isolinux/isolinux.bin"
cp "$LDLINUX" "$STAGE/isolinux/ldlinux.c32"
cp "$KERNEL" "$STAGE/vmlinuz"
cp "$INITRD" "$STAGE/initrd.img"
"$(dirname "$0")/syslinux_cfg.sh" "$APPEND" > "$STAGE/isolinux/isolinux.cfg"

xorriso -as mkisofs -quiet -o "$OUT.tmp" -V GLASSBOOT -R -J \
    -b isolinux/isolinux.bin -c isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table \
    "$STAGE"
mv "$OUT.tmp" "$OUT"
echo "mkiso.sh: $OUT ($(wc -c < "$OUT") bytes; isolinux, vmlinuz, initrd.img; APPEND $APPEND)"
