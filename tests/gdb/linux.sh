# tests/gdb/linux.sh — sourced by tests/gdb/run.sh for its linux mode:
# fetches Debian's kernel and busybox (once), makes the initramfs, and
# runs tests/gdb/linux_gdb.py (two boots: the first reads start_kernel's
# address from /proc/kallsyms, the second is debugged by gdb -batch).
CACHE=${GLASS_CACHE:-$HOME/.cache/glass}
LINUX=$HERE/../linux
"$LINUX/fetch.sh" >/dev/null || fail "tests/linux/fetch.sh failed"
INITRD_COMPRESS=none "$LINUX/mkinitrd.sh" "$CACHE/initrd.cpio" >/dev/null ||
    fail "tests/linux/mkinitrd.sh failed"
"$HERE/linux_gdb.py" "$GLASS" "$CACHE/vmlinuz" "$CACHE/initrd.cpio" || exit 1
