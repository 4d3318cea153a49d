#!/bin/sh
# tests/linux/run.sh — the Linux guest tests in one command: fetch
# Debian's kernel, modules and busybox (once), build what the mode needs,
# boot it in QEMU or Glass and check the serial console.
# Usage: tests/linux/run.sh qemu|glass [MODE] [test options]
#   MODE kernel (default): -kernel/-initrd boot, console_test.py
#        lockstep: the kernel mode under -accel jit,lockstep (Glass only)
#        data:  -kernel/-initrd with the disk modules, a blank -hda, a
#               data disk -hdb the guest formats and fills (the host then
#               checks it with e2fsck/debugfs) and a -cdrom the guest
#               mounts (disk_test.py)
#        disk:  firmware boot of a syslinux hard-disk image (mkdisk.sh),
#               console_test.py
#        iso:   firmware boot of an isolinux CD (mkiso.sh, -cdrom -boot d),
#               console_test.py
#        bootdata: the data test on a machine booted by the firmware from
#               a mkdisk.sh image (-hda, with the modules' initramfs)
#        pae:   the kernel mode with Debian's PAE kernel (fetch_pae.sh):
#               PAE paging, NX and page-table isolation (CR3 switched at
#               every system call and interrupt) under the JIT
#        memtest: Debian's memtest86+ ia32 image (fetch_memtest.sh) booted
#               with -kernel, its progress read on the serial console
#               (memtest_test.py: tests #0-#4 over all RAM, no error);
#               MEMTEST_MEM=MiB (default 32)
#   GLASS=path/to/glass (default ./glass), BIOS=firmware image for Glass's
#   disk, iso and bootdata modes (default: none, Glass's built-in BIOS),
#   MEM=MiB (default 256),
#   GLASS_CACHE=dir (default $HOME/.cache/glass; images are made there),
#   APPEND_EXTRA="..." more kernel parameters in the disk, iso and bootdata
#   images (e.g. earlyprintk=serial).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${GLASS_CACHE:-$HOME/.cache/glass}
MEM=${MEM:-256}
GLASS=${GLASS:-./glass}
BIOS=${BIOS:-}
# -bios only when a firmware image is named: the default is the BIOS
# linked into Glass, as a user gets it.
BIOS_OPT=${BIOS:+-bios $BIOS}
WHICH=${1:-}
[ $# -gt 0 ] && shift
MODE=kernel
case "${1:-}" in
kernel|lockstep|pae|data|disk|iso|bootdata|memtest) MODE=$1; shift ;;
esac
case "$WHICH" in
qemu|glass) ;;
*)
    echo "usage: $0 qemu|glass [kernel|lockstep|pae|data|disk|iso|bootdata|memtest] [test options]" >&2
    exit 2
    ;;
esac

# memtest86+ needs neither the kernel nor busybox.
if [ "$MODE" = memtest ]; then
    "$HERE/fetch_memtest.sh"
    MEMTEST_MEM=${MEMTEST_MEM:-32}
    IMAGE=$CACHE/memtest86+ia32.bin
    APPEND="console=ttyS0,115200"
    if [ "$WHICH" = qemu ]; then
        exec "$HERE/memtest_test.py" "$@" -- qemu-system-i386 -m "$MEMTEST_MEM" \
            -display none -monitor none -serial stdio -kernel "$IMAGE" -append "$APPEND"
    fi
    exec "$HERE/memtest_test.py" "$@" -- "$GLASS" -m "$MEMTEST_MEM" -nographic \
        -serial stdio -debugcon null -kernel "$IMAGE" -append "$APPEND"
fi

"$HERE/fetch.sh"
# Glass's plain-cpio initramfs spares the interpreted guest ~40 s of gunzip.
if [ "$WHICH" = glass ]; then INITRD_EXT=cpio; COMPRESS=none; else INITRD_EXT=gz; COMPRESS=gzip; fi

case "$MODE" in
kernel|pae)
    KERNEL=$CACHE/vmlinuz
    if [ "$MODE" = pae ]; then
        # The PAE build of the same kernel: 64-bit page-table entries, NX
        # and page-table isolation.
        "$HERE/fetch_pae.sh"
        KERNEL=$CACHE/vmlinuz-pae
    fi
    INITRD_COMPRESS=$COMPRESS "$HERE/mkinitrd.sh" "$CACHE/initrd.$INITRD_EXT"
    if [ "$WHICH" = qemu ]; then
        # QEMU's firmware provides ACPI tables: poweroff -f ends QEMU with 0.
        exec "$HERE/console_test.py" "$@" -- qemu-system-i386 -m "$MEM" -nographic \
            -kernel "$KERNEL" -initrd "$CACHE/initrd.gz" -append "console=ttyS0"
    fi
    # The issue's command line: Glass's ACPI tables (hw/acpi.c) keep dmesg
    # free of errors, and poweroff -f powers off through ACPI S5 (exit 0).
    exec "$HERE/console_test.py" "$@" -- "$GLASS" -m "$MEM" -nographic \
        -serial stdio -debugcon null \
        -kernel "$KERNEL" -initrd "$CACHE/initrd.cpio" \
        -append "console=ttyS0"
    ;;
lockstep)
    # The kernel mode under -accel jit,lockstep: every JIT block run
    # again by the interpreter and compared (Glass stops at the first
    # difference, status 3). About 10 minutes to the shell.
    if [ "$WHICH" = qemu ]; then
        echo "run.sh: lockstep is Glass's (-accel jit,lockstep)" >&2
        exit 2
    fi
    INITRD_COMPRESS=gzip "$HERE/mkinitrd.sh" "$CACHE/initrd.gz"
    exec "$HERE/console_test.py" --boot-timeout 2400 "$@" -- "$GLASS" -accel jit,lockstep \
        -m "$MEM" -nographic -serial stdio -debugcon null \
        -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.gz" -append "console=ttyS0"
    ;;
data)
    INITRD_MODULES=1 INITRD_COMPRESS=$COMPRESS "$HERE/mkinitrd.sh" "$CACHE/initrd-disk.$INITRD_EXT"
    HDA=$CACHE/blank-hda.img
    HDB=$CACHE/data-$WHICH.img
    # A CD too (secondary master): the guest mounts it and checks a file.
    ISO=$CACHE/data-$WHICH.iso
    INITRD="$CACHE/initrd-disk.$INITRD_EXT" "$HERE/mkiso.sh" "$ISO"
    APPEND="console=ttyS0 glass.wait=sda,sdb,sr0"
    if [ "$WHICH" = qemu ]; then
        exec "$HERE/disk_test.py" --image "$HDB" --hda "$HDA" \
            --cdrom-file "vmlinuz=$CACHE/vmlinuz" "$@" -- \
            qemu-system-i386 -m "$MEM" -nographic \
            -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd-disk.gz" -append "$APPEND" \
            -drive "file=$HDA,format=raw,if=ide,index=0" \
            -drive "file=$HDB,format=raw,if=ide,index=1" \
            -drive "file=$ISO,format=raw,if=ide,index=2,media=cdrom"
    fi
    exec "$HERE/disk_test.py" --image "$HDB" --hda "$HDA" \
        --cdrom-file "vmlinuz=$CACHE/vmlinuz" "$@" -- \
        "$GLASS" -m "$MEM" -nographic -serial stdio -debugcon null \
        -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd-disk.cpio" \
        -append "$APPEND" -hda "$HDA" -hdb "$HDB" -cdrom "$ISO"
    ;;
bootdata)
    INITRD_MODULES=1 INITRD_COMPRESS=$COMPRESS "$HERE/mkinitrd.sh" "$CACHE/initrd-disk.$INITRD_EXT"
    IMG=$CACHE/bootdata-$WHICH.img
    HDB=$CACHE/data-$WHICH.img
    ISO=$CACHE/data-$WHICH.iso
    INITRD="$CACHE/initrd-disk.$INITRD_EXT" \
        APPEND="console=ttyS0 glass.wait=sda,sdb,sr0${APPEND_EXTRA:+ $APPEND_EXTRA}" \
        "$HERE/mkdisk.sh" "$IMG"
    INITRD="$CACHE/initrd-disk.$INITRD_EXT" "$HERE/mkiso.sh" "$ISO"
    if [ "$WHICH" = qemu ]; then
        exec "$HERE/disk_test.py" --image "$HDB" --cdrom-file "vmlinuz=$CACHE/vmlinuz" "$@" -- \
            qemu-system-i386 -m "$MEM" -nographic \
            -drive "file=$IMG,format=raw,if=ide,index=0" \
            -drive "file=$HDB,format=raw,if=ide,index=1" \
            -drive "file=$ISO,format=raw,if=ide,index=2,media=cdrom" -boot c
    fi
    # shellcheck disable=SC2086
    exec "$HERE/disk_test.py" --image "$HDB" --cdrom-file "vmlinuz=$CACHE/vmlinuz" "$@" -- \
        "$GLASS" -m "$MEM" -nographic -serial stdio -debugcon null $BIOS_OPT \
        -hda "$IMG" -hdb "$HDB" -cdrom "$ISO" -boot c
    ;;
disk|iso)
    INITRD_COMPRESS=$COMPRESS "$HERE/mkinitrd.sh" "$CACHE/initrd.$INITRD_EXT"
    if [ "$MODE" = disk ]; then
        IMG=$CACHE/disk-$WHICH.img
        INITRD="$CACHE/initrd.$INITRD_EXT" APPEND="console=ttyS0${APPEND_EXTRA:+ $APPEND_EXTRA}" \
            "$HERE/mkdisk.sh" "$IMG"
    else
        IMG=$CACHE/boot-$WHICH.iso
        INITRD="$CACHE/initrd.$INITRD_EXT" APPEND="console=ttyS0${APPEND_EXTRA:+ $APPEND_EXTRA}" \
            "$HERE/mkiso.sh" "$IMG"
    fi
    if [ "$WHICH" = qemu ]; then
        if [ "$MODE" = disk ]; then
            set -- "$@" -- qemu-system-i386 -m "$MEM" -nographic \
                -drive "file=$IMG,format=raw,if=ide,index=0" -boot c
        else
            set -- "$@" -- qemu-system-i386 -m "$MEM" -nographic -cdrom "$IMG" -boot d
        fi
    else
        if [ "$MODE" = disk ]; then DRIVE="-hda $IMG -boot c"; else DRIVE="-cdrom $IMG -boot d"; fi
        # shellcheck disable=SC2086
        set -- "$@" -- "$GLASS" -m "$MEM" -nographic -serial stdio -debugcon null \
            $BIOS_OPT $DRIVE
    fi
    exec "$HERE/console_test.py" "$@"
    ;;
esac
