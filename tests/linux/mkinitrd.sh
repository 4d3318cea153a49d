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
# INITRD_MODULES=1 adds the disk modules fetch.sh keeps ($GLASS_CACHE/
# modules: ata_piix, sd_mod, sr_mod, ext4, isofs, vfat and dependencies)
# as /lib/modules/*.ko; /init then insmods them in modules/load-order and,
# when the kernel command line says glass.wait=sda,sdb1,sr0 (any block
# device names), waits up to glass.waitsecs (default 300) seconds in all for
# those devices before printing its marker, so the disks' probe messages
# come before the shell prompt.
set -eu

CACHE=${GLASS_CACHE:-$HOME/.cache/glass}
OUT=${1:-$CACHE/initrd.gz}
BUSYBOX=${BUSYBOX:-$CACHE/busybox}
[ -s "$BUSYBOX" ] || { echo "mkinitrd.sh: no $BUSYBOX (run fetch.sh first)" >&2; exit 1; }

INIT=$(cat <<'INIT_EOF'
#!/bin/sh
# initramfs /init for Glass's Linux console test.
/bin/busybox mkdir -p /proc /sys /dev /tmp /root /sbin /usr/bin /usr/sbin /mnt
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
if [ -f /lib/modules/load-order ]; then
    while read -r m; do
        insmod "/lib/modules/$m.ko" || echo "GLASS-INIT: insmod $m failed"
    done < /lib/modules/load-order
    wait_for= wait_secs=300
    for arg in $(cat /proc/cmdline); do
        case "$arg" in
        glass.wait=*) wait_for=$(echo "${arg#glass.wait=}" | tr ',' ' ') ;;
        glass.waitsecs=*) wait_secs=${arg#glass.waitsecs=} ;;
        esac
    done
    n=0  # one budget for all the devices together
    for dev in $wait_for; do
        while [ ! -e "/sys/class/block/$dev" ] && [ "$n" -lt "$wait_secs" ]; do
            sleep 1; n=$((n + 1))
        done
        [ -e "/sys/class/block/$dev" ] || echo "GLASS-INIT: no $dev after $wait_secs s"
    done
    # The ATA and SCSI probes run asynchronously after insmod: let their
    # last messages (write cache, attached disk) reach the console now.
    [ -n "$wait_for" ] && sleep 1
fi
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

MODULES_DIR=
if [ "${INITRD_MODULES:-0}" = 1 ]; then
    MODULES_DIR=$CACHE/modules
    [ -s "$MODULES_DIR/load-order" ] || { echo "mkinitrd.sh: no $MODULES_DIR/load-order (run fetch.sh)" >&2; exit 1; }
fi

INIT_TEXT="$INIT" MODULES_DIR="$MODULES_DIR" COMPRESS="${INITRD_COMPRESS:-gzip}" python3 - "$BUSYBOX" "$OUT" <<'PY_EOF'
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
moddir = os.environ.get("MODULES_DIR", "")
if moddir:
    add("lib", 0o040755); add("lib/modules", 0o040755)
    with open(os.path.join(moddir, "load-order")) as f:
        order = f.read().split()
    for m in order:
        with open(os.path.join(moddir, m + ".ko"), "rb") as f:
            add("lib/modules/%s.ko" % m, 0o100644, f.read())
    add("lib/modules/load-order", 0o100644, "".join(m + "\n" for m in order).encode())

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
