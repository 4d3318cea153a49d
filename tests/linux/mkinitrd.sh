#!/bin/sh
# tests/linux/mkinitrd.sh — builds a gzip-compressed cpio (newc) initramfs
# around Debian's static i386 busybox (fetched by fetch.sh):
#   /bin/busybox, /bin/sh -> busybox, /dev/console (char 5,1), /init.
# /init installs the busybox applet links, mounts proc, sysfs, devtmpfs
# and a tmpfs on /tmp, prints the marker GLASS-INIT-READY and starts a
# shell (prompt "glass# ") on the console.
# The archive is written with python3's standard library (no cpio, no
# root needed for the device node).
# Usage: mkinitrd.sh [OUTPUT]   (default $GLASS_CACHE/initrd.gz,
#        GLASS_CACHE defaulting to $HOME/.cache/glass)
# INITRD_COMPRESS=none writes a plain cpio instead (the kernel takes both;
# a slow emulator then skips the guest's gunzip).
set -eu

CACHE=${GLASS_CACHE:-$HOME/.cache/glass}
OUT=${1:-$CACHE/initrd.gz}
BUSYBOX=${BUSYBOX:-$CACHE/busybox}
[ -s "$BUSYBOX" ] || { echo "mkinitrd.sh: no $BUSYBOX (run fetch.sh first)" >&2; exit 1; }

INIT=$(cat <<'INIT_EOF'
#!/bin/sh
# initramfs /init for Glass's Linux console test.
/bin/busybox mkdir -p /proc /sys /dev /tmp /root /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
export HOME=/root PS1='glass# '
cd /root
echo "GLASS-INIT-READY $(uname -r)"
# A session and a controlling terminal (the console's real tty) when
# busybox has the applets; a plain shell otherwise.
if command -v setsid >/dev/null && command -v cttyhack >/dev/null; then
    exec setsid cttyhack /bin/sh
fi
exec /bin/sh
INIT_EOF
)

INIT_TEXT="$INIT" COMPRESS="${INITRD_COMPRESS:-gzip}" python3 - "$BUSYBOX" "$OUT" <<'PY_EOF'
import gzip, os, sys

busybox_path, out = sys.argv[1], sys.argv[2]
entries = []  # (name, mode, data, rdevmajor, rdevminor)
def add(name, mode, data=b"", rmaj=0, rmin=0):
    entries.append((name, mode, data, rmaj, rmin))

add("bin", 0o040755); add("dev", 0o040755); add("proc", 0o040755)
add("sys", 0o040755); add("tmp", 0o041777); add("root", 0o040700)
add("sbin", 0o040755); add("usr", 0o040755); add("usr/bin", 0o040755)
add("usr/sbin", 0o040755)
add("dev/console", 0o020600, b"", 5, 1)
with open(busybox_path, "rb") as f:
    add("bin/busybox", 0o100755, f.read())
add("bin/sh", 0o120777, b"busybox")
add("init", 0o100755, os.environ["INIT_TEXT"].encode() + b"\n")

def newc(ino, name, mode, data, rmaj, rmin):
    nameb = name.encode() + b"\0"
    hdr = "070701" + "".join("%08X" % v for v in (
        ino, mode, 0, 0, 1, 0, len(data), 0, 0, rmaj, rmin, len(nameb), 0))
    rec = hdr.encode() + nameb
    rec += b"\0" * (-len(rec) % 4) + data
    return rec + b"\0" * (-len(rec) % 4)

blob = b"".join(newc(i + 1, *e) for i, e in enumerate(entries))
blob += newc(0, "TRAILER!!!", 0, b"", 0, 0)
blob += b"\0" * (-len(blob) % 512)
tmp = out + ".tmp"
with open(tmp, "wb") as f:
    f.write(blob if os.environ["COMPRESS"] == "none" else gzip.compress(blob, 9))
os.replace(tmp, out)
print("mkinitrd.sh: %s (%d bytes)" % (out, os.path.getsize(out)))
PY_EOF
