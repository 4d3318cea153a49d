#!/bin/sh
# tests/guest/modelog.sh GLASS KERNEL... — `-d mode` under the JIT names
# the same changes, instructions and counts as under the interpreter.
#
# The interpreter logs -d mode on its careful path, one instruction at a
# time, the reference. The JIT runs translated code and logs from the
# handlers of the instructions that can change the mode (translate/jit/
# run.c); each kernel runs with every block translated the first time
# (GLASS_JIT_FIRST_SIGHT=0), and the JIT must have translated blocks (a
# JIT that fell back to the careful path for -d mode translates none).
# A kernel must log at least one change under both engines to count.
# Exits 1 if any kernel's logs differ.

set -u
glass=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
for k in "$@"; do
    name=$(basename "$k" .elf)
    "$glass" -accel interp -nographic -no-reboot -m 32 -kernel "$k" \
        -d mode -D "$dir/$name.interp" >/dev/null 2>&1
    GLASS_JIT_FIRST_SIGHT=0 "$glass" -accel jit -nographic -no-reboot -m 32 -kernel "$k" \
        -d mode,jit -D "$dir/$name.jit" >/dev/null 2>&1
    grep '^mode:' "$dir/$name.interp" >"$dir/$name.want"
    grep '^mode:' "$dir/$name.jit" >"$dir/$name.got"
    lines=$(wc -l <"$dir/$name.want")
    blocks=$(sed -n 's/^jit: \([0-9]*\) blocks translated.*/\1/p' "$dir/$name.jit")
    if [ "$lines" -eq 0 ]; then
        echo "FAIL modelog $name: no mode change logged under the interpreter"
        fail=1
    elif ! cmp -s "$dir/$name.want" "$dir/$name.got"; then
        echo "FAIL modelog $name: the JIT's -d mode differs from the interpreter's:"
        diff "$dir/$name.want" "$dir/$name.got" | head -20
        fail=1
    elif [ "${blocks:-0}" -eq 0 ]; then
        echo "FAIL modelog $name: the JIT translated no block under -d mode"
        fail=1
    else
        echo "PASS modelog $name ($lines changes, $blocks blocks translated)"
    fi
done
exit $fail
