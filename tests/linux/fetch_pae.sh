#!/bin/sh
# tests/linux/fetch_pae.sh — downloads Debian's i386 PAE kernel (the real
# package linux-image-686-pae depends on) with apt-get, unpacks it with
# dpkg -x and keeps its bzImage as
#   vmlinuz-pae   (boot/vmlinuz-* of the package)
# in the cache directory: $GLASS_CACHE, default $HOME/.cache/glass
# (outside the source tree). The same kernel as fetch.sh's built for PAE
# paging: 64-bit page-table entries, NX, and page-table isolation
# (Meltdown), which switches CR3 at every system call and interrupt.
# Needs i386 known to apt (fetch.sh adds it). Re-running reuses what is
# there.
set -eu

CACHE=${GLASS_CACHE:-$HOME/.cache/glass}
mkdir -p "$CACHE"
cd "$CACHE"

if [ -s vmlinuz-pae ]; then
    echo "fetch_pae.sh: $CACHE already holds vmlinuz-pae"
    exit 0
fi
if ! apt-cache show linux-image-686-pae >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    apt-get update || true
fi
KPKG=$(apt-cache depends linux-image-686-pae | sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*-686-pae\)\(:i386\)\{0,1\}$/\1/p' | head -n 1)
if [ -z "$KPKG" ]; then
    echo "fetch_pae.sh: cannot find the kernel package linux-image-686-pae depends on" >&2
    exit 1
fi
rm -rf pae-debs pae-unpack
mkdir -p pae-debs pae-unpack
(cd pae-debs && apt-get download "$KPKG:i386")
dpkg -x pae-debs/*.deb pae-unpack
IMG=$(ls pae-unpack/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$IMG" ] || {
    echo "fetch_pae.sh: no boot/vmlinuz-* in $KPKG" >&2
    exit 1
}
cp "$IMG" vmlinuz-pae.tmp
mv vmlinuz-pae.tmp vmlinuz-pae
basename "$(ls pae-debs/*.deb)" > pae-package
rm -rf pae-debs pae-unpack
echo "fetch_pae.sh: $CACHE/vmlinuz-pae ($(wc -c < vmlinuz-pae) bytes, $(cat pae-package))"
