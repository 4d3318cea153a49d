#!/bin/sh
# tests/linux/fetch.sh — downloads Debian's i386 kernel (linux-image-686's
# real package) and busybox-static:i386 with apt-get, unpacks them with
# dpkg -x, and leaves in the cache directory:
#   vmlinuz      the bzImage (boot/vmlinuz-* of the package)
#   config       the kernel's build configuration (boot/config-*)
#   busybox      the static i386 busybox binary
#   modules/     the kernel's disk modules (ata_piix, sd_mod, sr_mod, ext4,
#                isofs, vfat and what they depend on) picked by kmods.py,
#                with modules/load-order for the initramfs' insmod
# Cache: $GLASS_CACHE, default $HOME/.cache/glass (outside the source tree).
# Needs root for `dpkg --add-architecture i386` once; apt-get download
# itself runs as any user. Re-running reuses what is already there.
set -eu

HERE_DIR=$(cd "$(dirname "$0")" && pwd)
CACHE=${GLASS_CACHE:-$HOME/.cache/glass}
mkdir -p "$CACHE"
cd "$CACHE"

# Modules the disk tests load, in the kernel's own names; kmods.py adds
# their dependencies (libata, scsi_mod, jbd2, crc16, fat, cdrom, ...).
KMODS="crc32c_generic crct10dif_generic ata_piix sd_mod sr_mod ext4 isofs vfat nls_cp437 nls_ascii nls_utf8"

if [ -s vmlinuz ] && [ -s busybox ] && [ -s config ] && [ -s modules/load-order ]; then
    echo "fetch.sh: $CACHE already holds vmlinuz, config, busybox and modules"
    exit 0
fi

# A cache made before the modules were kept: fetch the same kernel
# package again (its version is recorded in kernel-package) for them.
if [ -s vmlinuz ] && [ -s busybox ] && [ -s config ] && [ -s kernel-package ]; then
    KDEB=$(cat kernel-package)
    KNAME=${KDEB%%_*}
    KVER=${KDEB#*_}; KVER=${KVER%_*}
    rm -rf debs unpack
    mkdir -p debs unpack
    if (cd debs && apt-get download "$KNAME:i386=$KVER"); then
        dpkg -x debs/*.deb unpack
        "$HERE_DIR/kmods.py" unpack/lib/modules/* modules $KMODS
        rm -rf unpack debs
        exit 0
    fi
    echo "fetch.sh: $KNAME $KVER is gone from apt: fetching everything again" >&2
    rm -rf unpack debs
fi

# i386 packages must be known to apt. `apt-get update` may exit 100 when
# one index (e.g. bookworm-security for i386) fails while bookworm main
# was read: so check for the packages themselves, not update's status.
if ! dpkg --print-foreign-architectures | grep -qx i386; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "fetch.sh: run once as root: dpkg --add-architecture i386 && apt-get update" >&2
        exit 1
    fi
    dpkg --add-architecture i386
fi
if ! apt-cache show linux-image-686 >/dev/null 2>&1 ||
   ! apt-cache show busybox-static:i386 >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update || true
    fi
fi
apt-cache show linux-image-686 >/dev/null 2>&1 || {
    echo "fetch.sh: apt knows no linux-image-686 (is i386 added and apt-get update run?)" >&2
    exit 1
}

# linux-image-686 is a metapackage: its Depends names the real image,
# linux-image-6.1.0-NN-686 (take the candidate version's first such name).
KPKG=$(apt-cache depends linux-image-686 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*-686\)\(:i386\)\{0,1\}$/\1/p' | head -n 1)
if [ -z "$KPKG" ]; then
    echo "fetch.sh: cannot find the kernel package linux-image-686 depends on" >&2
    exit 1
fi
echo "fetch.sh: kernel package $KPKG"

rm -rf debs unpack
mkdir -p debs unpack
(cd debs && apt-get download "$KPKG:i386" busybox-static:i386)
for d in debs/*.deb; do
    dpkg -x "$d" unpack
done

set -- unpack/boot/vmlinuz-*
[ -f "$1" ] || { echo "fetch.sh: no boot/vmlinuz-* in $KPKG" >&2; exit 1; }
cp "$1" vmlinuz.tmp && mv vmlinuz.tmp vmlinuz
set -- unpack/boot/config-*
[ -f "$1" ] && cp "$1" config
"$HERE_DIR/kmods.py" unpack/lib/modules/* modules $KMODS
cp unpack/bin/busybox busybox.tmp && chmod 755 busybox.tmp && mv busybox.tmp busybox
basename "$(ls debs/linux-image-*.deb)" > kernel-package
rm -rf unpack debs
echo "fetch.sh: $CACHE/vmlinuz ($(wc -c < vmlinuz) bytes), $CACHE/busybox, $CACHE/config"
