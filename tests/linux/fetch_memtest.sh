#!/bin/sh
# tests/linux/fetch_memtest.sh — downloads Debian's memtest86+ package with
# apt-get, unpacks it with dpkg -x and keeps its 32-bit image, a Linux
# boot protocol "bzImage" that `-kernel` loads, as
#   memtest86+ia32.bin   (boot/memtest86+ia32.bin of the package)
# in the cache directory: $GLASS_CACHE, default $HOME/.cache/glass
# (outside the source tree). Debian builds memtest86+ for amd64 and i386,
# and both packages carry the ia32 image, so the host's own architecture
# will do. Re-running reuses what is there.
set -eu

CACHE=${GLASS_CACHE:-$HOME/.cache/glass}
mkdir -p "$CACHE"
cd "$CACHE"

if [ -s memtest86+ia32.bin ]; then
    echo "fetch_memtest.sh: $CACHE already holds memtest86+ia32.bin"
    exit 0
fi
if ! apt-cache show memtest86+ >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    apt-get update || true
fi
rm -rf memtest-debs memtest-unpack
mkdir -p memtest-debs memtest-unpack
(cd memtest-debs && apt-get download memtest86+)
dpkg -x memtest-debs/memtest86+_*.deb memtest-unpack
[ -f memtest-unpack/boot/memtest86+ia32.bin ] || {
    echo "fetch_memtest.sh: no boot/memtest86+ia32.bin in the memtest86+ package" >&2
    exit 1
}
cp memtest-unpack/boot/memtest86+ia32.bin memtest86+ia32.bin.tmp
mv memtest86+ia32.bin.tmp memtest86+ia32.bin
basename "$(ls memtest-debs/memtest86+_*.deb)" > memtest-package
rm -rf memtest-debs memtest-unpack
echo "fetch_memtest.sh: $CACHE/memtest86+ia32.bin ($(wc -c < memtest86+ia32.bin) bytes, $(cat memtest-package))"
