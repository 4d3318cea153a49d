#!/usr/bin/env python3
"""tests/linux/disk_test.py — "disks keep data": a Linux guest writes an
ext2 file system on its second IDE disk and the host reads it back.

Before the emulator starts, the script makes IMAGE (--image, the guest's
/dev/sdb, attached by the command line as -hdb IMAGE): a blank file that
the guest formats with busybox mke2fs, or (--host-mkfs) one formatted
here with mkfs.ext2, with a file /host.bin (written by debugfs) that the
guest must read back. With --hda FILE it also makes a blank first disk to
check that the guest sees both. The guest must run the initramfs of
`INITRD_MODULES=1 mkinitrd.sh` (ata_piix, sd_mod, ext4 loaded by /init).
On the serial console it checks:
  /sys/bus/scsi/devices/0:0:1:0  the slave's sd name (the probes are
                                 asynchronous: it is not always sdb) and
                                 size in sectors; 0:0:0:0 too with --hda
  /sys/class/ata_device/*/xfer_mode  a DMA mode for the data disk (and CD)
  mke2fs /dev/sdX                (unless --host-mkfs)
  mount, write files, sha256sum, sync, umount
  drop the caches, mount read-only again, sha256sum, umount
  with --cdrom-file: mount the CD (SCSI 1:0:0:0) as iso9660, sha256sum
  dmesg | grep -i error          nothing
then `poweroff -f` and the emulator's exit status; after it has ended,
on the host:
  e2fsck -fn IMAGE               clean (status 0)
  debugfs -R 'cat /FILE' IMAGE   every file's content as written
Exit status 0 when every check passed. Python 3 standard library, plus
e2fsprogs (mkfs.ext2, e2fsck, debugfs) on the host.

Example (QEMU):
  tests/linux/disk_test.py --image /tmp/data.img -- qemu-system-i386 -m 256 \\
      -nographic -kernel ~/.cache/glass/vmlinuz -initrd ~/.cache/glass/initrd-mod.gz \\
      -append "console=ttyS0 glass.wait=sdb" \\
      -drive file=/tmp/data.img,format=raw,if=ide,index=1
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_test import Session, add_common_args, emulator_argv  # noqa: E402

HASH_RE = re.compile(r"^([0-9a-f]{64})\s+(\S+)$", re.M)
HELLO = "Glass keeps data: hello from the guest\n"


def host_tool(name):
    """e2fsprogs live in /sbin, which a user's PATH may lack."""
    for p in (shutil.which(name), "/sbin/" + name, "/usr/sbin/" + name):
        if p and os.path.exists(p):
            return p
    raise SystemExit("disk_test.py: %s not found (install e2fsprogs)" % name)


def make_blank(path, mib):
    with open(path, "wb") as f:
        f.truncate(mib << 20)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", required=True,
                    help="data disk image to create (the command line attaches it as -hdb)")
    ap.add_argument("--size", type=int, default=32, help="its size in MiB (default 32)")
    ap.add_argument("--host-mkfs", action="store_true",
                    help="format IMAGE here with mkfs.ext2 instead of in the guest")
    ap.add_argument("--hda", help="also create this blank first disk (-hda), 8 MiB")
    ap.add_argument("--cdrom-file", action="append", default=[], metavar="ISOPATH=HOSTFILE",
                    help="the command line also attaches a CD (-cdrom, secondary master):"
                    " mount it as iso9660 in the guest and compare ISOPATH's sha256 with"
                    " HOSTFILE's (repeatable)")
    add_common_args(ap, boot_timeout=900, cmd_timeout=600)
    args = ap.parse_args()
    argv = emulator_argv(ap, args)

    e2fsck, debugfs = host_tool("e2fsck"), host_tool("debugfs")
    make_blank(args.image, args.size)
    # --host-mkfs also puts a file there for the guest to read: 384 KiB of
    # SHA-256 chain bytes, written into the image with debugfs.
    host_data = b""
    if args.host_mkfs:
        subprocess.run([host_tool("mkfs.ext2"), "-q", "-F", "-L", "GLASSDATA", args.image],
                       check=True)
        block = b"glass"
        while len(host_data) < 384 << 10:
            block = hashlib.sha256(block).digest()
            host_data += block
        tmp = args.image + ".host.bin"
        with open(tmp, "wb") as f:
            f.write(host_data)
        subprocess.run([debugfs, "-w", "-R", "write %s host.bin" % tmp, args.image],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.remove(tmp)
    if args.hda:
        make_blank(args.hda, 8)

    # The files the guest writes: name -> (guest command, content known here
    # or None when only the guest's sha256 tells it, e.g. /dev/urandom).
    seq_data = "".join("%d\n" % i for i in range(1, 30001)).encode()
    files = [
        ("hello.txt", "printf '%s' > /mnt/hello.txt" % HELLO.replace("\n", "\\n"),
         HELLO.encode()),
        ("seq.txt", "seq 1 30000 > /mnt/seq.txt", seq_data),
        ("zero.bin", "dd if=/dev/zero of=/mnt/zero.bin bs=4096 count=256 2>/dev/null",
         bytes(1 << 20)),
        ("rand.bin", "dd if=/dev/urandom of=/mnt/rand.bin bs=4096 count=512 2>/dev/null",
         None),
        ("dir/big.bin", "mkdir /mnt/dir && dd if=/dev/urandom of=/mnt/dir/big.bin bs=65536 "
         "count=64 2>/dev/null", None),
    ]
    names = " ".join("/mnt/" + f[0] for f in files)

    ses = Session(args, argv)
    check = ses.check
    guest_hashes = {}
    try:
        if not ses.boot():
            return 1

        # sd names follow the order in which the asynchronous SCSI probes
        # finish (the slave may become sda): find each disk by its SCSI
        # address instead, host:channel:id:lun = ATA port - 1 : 0 : ATA
        # device (0 master, 1 slave) : 0 for ata_piix.
        disks = [("0:0:1:0", args.image)] + ([("0:0:0:0", args.hda)] if args.hda else [])
        devs = {}
        for addr, path in disks:
            want = os.path.getsize(path) // 512
            rc, out = ses.run("d=$(ls /sys/bus/scsi/devices/%s/block); echo DEV=$d; "
                              "cat /sys/class/block/$d/size" % addr)
            dev = re.findall(r"^DEV=(sd[a-z]+)$", out, re.M)
            got = re.findall(r"^(\d+)$", out, re.M)
            devs[addr] = dev[0] if dev else "sdX"
            check("SCSI %s (/dev/%s) has %d sectors" % (addr, devs[addr], want),
                  rc == 0 and len(dev) == 1 and got == [str(want)], repr(out.strip()[-200:]))
        sdb = "/dev/" + devs["0:0:1:0"]

        # libata's transfer mode per device (ata port.device): the PIIX's
        # bus master DMA must be in use for the data disk (and the CD).
        rc, out = ses.run("grep . /sys/class/ata_device/*/xfer_mode")
        modes = dict(re.findall(r"/(dev\d\.\d)/xfer_mode:(\S+)", out))
        need = ["dev1.1"] + (["dev2.0"] if args.cdrom_file else [])
        check("DMA transfer mode (%s)" % ", ".join(need),
              rc == 0 and all("DMA" in modes.get(n, "") for n in need),
              " ".join("%s=%s" % kv for kv in sorted(modes.items())))

        if not args.host_mkfs:
            rc, out = ses.run("mke2fs -q -L GLASSDATA " + sdb)
            check("mke2fs %s in the guest" % sdb, rc == 0, "" if rc == 0 else out.strip()[-300:])

        rc, out = ses.run("mount -t ext2 %s /mnt" % sdb)
        if not check("mount -t ext2 %s /mnt" % sdb, rc == 0, "" if rc == 0 else out.strip()[-300:]):
            return 1
        if host_data:
            rc, out = ses.run("sha256sum /mnt/host.bin")
            got = dict((p, h) for h, p in HASH_RE.findall(out)).get("/mnt/host.bin")
            check("guest reads the host's /host.bin", rc == 0 and
                  got == hashlib.sha256(host_data).hexdigest(), repr(out.strip()[-200:]))
        for name, cmd, _data in files:
            rc, out = ses.run(cmd)
            check("write /%s" % name, rc == 0, "" if rc == 0 else out.strip()[-200:])
        rc, out = ses.run("sha256sum " + names)
        for h, path in HASH_RE.findall(out):
            guest_hashes[path[len("/mnt/"):]] = h
        ok = rc == 0 and len(guest_hashes) == len(files)
        for name, _cmd, data in files:
            if data is not None and guest_hashes.get(name) != hashlib.sha256(data).hexdigest():
                ok = False
        check("sha256sum of the written files", ok, "%d hashes" % len(guest_hashes))

        rc, out = ses.run("sync && umount /mnt")
        check("sync && umount /mnt", rc == 0, "" if rc == 0 else out.strip()[-200:])

        # Read back through the disk, not the page cache.
        rc, out = ses.run("echo 3 > /proc/sys/vm/drop_caches && mount -o ro -t ext2 %s /mnt"
                          " && sha256sum %s && umount /mnt" % (sdb, names))
        again = {p[len("/mnt/"):]: h for h, p in HASH_RE.findall(out)}
        check("remount read-only: same sha256s", rc == 0 and again == guest_hashes,
              "" if again == guest_hashes else repr(out.strip()[-300:]))

        if args.cdrom_file:
            # ATAPI from the guest side: sr_mod on the secondary master
            # (SCSI 1:0:0:0), isofs, reads through the PACKET command.
            rc, out = ses.run("d=$(ls /sys/bus/scsi/devices/1:0:0:0/block); echo DEV=$d; "
                              "mkdir -p /cdrom && mount -t iso9660 -o ro /dev/$d /cdrom && "
                              "sha256sum %s && umount /cdrom" %
                              " ".join("/cdrom/" + f.split("=", 1)[0].lstrip("/")
                                       for f in args.cdrom_file))
            got = {p[len("/cdrom/"):]: h for h, p in HASH_RE.findall(out)}
            for spec in args.cdrom_file:
                iso_path, host_file = spec.split("=", 1)
                with open(host_file, "rb") as f:
                    want = hashlib.sha256(f.read()).hexdigest()
                check("CD-ROM: sha256 of %s" % iso_path,
                      rc == 0 and got.get(iso_path.lstrip("/")) == want,
                      "" if got.get(iso_path.lstrip("/")) == want else repr(out.strip()[-300:]))

        ses.power_off()
    finally:
        ses.close()

    # The host's view of the image, after the emulator has closed it.
    r = subprocess.run([e2fsck, "-fn", args.image], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    check("host: e2fsck -fn is clean", r.returncode == 0,
          r.stdout.decode(errors="replace").strip().splitlines()[-1][-200:]
          if r.stdout.strip() else "")
    for name, _cmd, data in files:
        r = subprocess.run([debugfs, "-R", "cat /" + name, args.image],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        h = hashlib.sha256(r.stdout).hexdigest()
        want = hashlib.sha256(data).hexdigest() if data is not None else guest_hashes.get(name)
        check("host: debugfs cat /%s" % name, r.returncode == 0 and h == want,
              "%d bytes, sha256 %s" % (len(r.stdout), h[:16]))

    return ses.summary()


if __name__ == "__main__":
    sys.exit(main())
