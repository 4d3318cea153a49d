#!/bin/sh
# tests/linux/syslinux_cfg.sh APPEND — prints the SYSLINUX/ISOLINUX
# configuration mkdisk.sh and mkiso.sh install: the console on the first
# serial port at 115200 baud (and the screen), no prompt, no timeout,
# /vmlinuz with /initrd.img and the kernel command line APPEND.
set -eu
cat <<EOF
SERIAL 0 115200
CONSOLE 1
PROMPT 0
TIMEOUT 0
DEFAULT linux
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND $1
EOF
