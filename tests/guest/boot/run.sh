#!/bin/sh
# tests/guest/boot/run.sh [qemu|glass] — boots the BIOS tests with
# build/bios/bios.bin and checks each passed (the guest writes "PASS" to
# port 0xE9 and 0 to the exit port 0xF4, i.e. exit status 1):
#   build/guest/boot/mbr.img  as the primary IDE disk (tests/guest/boot/mbr.asm)
#   build/guest/boot/cd.iso   as an El Torito CD, boot order d (cd.asm)
#   build/guest/boot/cdfd.iso El Torito 1.44 MB diskette emulation (cdfd.asm)
#   build/guest/boot/mbr.img  again under -d ioport (glass): ata_polls.py
#                             checks the BIOS's status polls between sectors
#   build/guest/boot/setup16.bin a bzImage booted with -kernel that starts
#                             through its real-mode setup code (setup16.asm;
#                             Glass only: QEMU's -kernel needs its own BIOS)
# qemu: qemu-system-i386 with isa-debug-exit; glass: ./glass (GLASS=path).
# Logs: build/guest/boot/NAME.out (port 0xE9), NAME.serial (COM1).
set -u
mode=${1:-qemu}
bios=build/bios/bios.bin
dir=build/guest/boot
failed=0

run() {
    name=$1
    shift
    out=$dir/$name.out
    rm -f "$out"
    case $mode in
    qemu)
        timeout 60 qemu-system-i386 -bios "$bios" "$@" \
            -device isa-debug-exit,iobase=0xf4,iosize=4 -debugcon file:"$out" \
            -serial file:"$dir/$name.serial" -display none -no-reboot 2>"$dir/$name.err"
        status=$?
        ;;
    glass)
        # The BIOS linked into glass (the same bytes as $bios).
        timeout 120 "${GLASS:-./glass}" -display none "$@" -debugcon file:"$out" \
            -serial file:"$dir/$name.serial" 2>"$dir/$name.err"
        status=$?
        ;;
    *)
        echo "usage: $0 qemu|glass" >&2
        exit 2
        ;;
    esac
    if [ "$status" = 1 ] && grep -q '^PASS' "$out" && ! grep -q FAIL "$out"; then
        echo "PASS boot/$name ($mode)"
    else
        echo "FAIL boot/$name ($mode): status $status"
        cat "$out" 2>/dev/null
        failed=1
    fi
}

case $mode in
qemu) run mbr -drive file=$dir/mbr.img,format=raw,if=ide ;;
*)    run mbr -hda $dir/mbr.img ;;
esac
run cd -cdrom $dir/cd.iso -boot d
run cdfd -cdrom $dir/cdfd.iso -boot d
if [ "$mode" = glass ]; then
    # The BIOS polls a PIO read's status back to back between sectors
    # (bios/disk.c ata_wait; ata_polls.py says why).
    if timeout 120 "${GLASS:-./glass}" -display none -hda $dir/mbr.img -debugcon null \
            -serial null -d ioport -D $dir/mbr.ioport 2>/dev/null;
       [ $? = 1 ] && tests/guest/boot/ata_polls.py $dir/mbr.ioport; then
        echo "PASS boot/ata_polls (glass)"
    else
        echo "FAIL boot/ata_polls (glass)"
        failed=1
    fi
    dd if=/dev/zero of=$dir/setup16.initrd bs=1000 count=1 2>/dev/null
    run setup16 -kernel $dir/setup16.bin -initrd $dir/setup16.initrd \
        -append "setup16 command line"
fi
exit $failed
