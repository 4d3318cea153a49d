#!/bin/sh
# tests/bench/run.sh GLASS GUEST_ELF NATIVE — `make bench`: times the same
# workload (tests/bench/workload.c) natively, in Glass and in QEMU's TCG
# (qemu-system-i386, if installed), interleaved, BENCH_REPEAT times each
# (default 3), and prints the medians and the ratios. Each emulator's
# start-up time (a run with 0 rounds) is subtracted. Glass's guest MIPS
# comes from its own instruction count (-d stats).
#
# BENCH_ROUNDS (default 1000) sets the amount of work.

set -eu
glass=$1 guest=$2 native=$3
rounds=${BENCH_ROUNDS:-1000}
repeat=${BENCH_REPEAT:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }

run_glass() { # rounds -> prints "seconds instructions checksum"
    t0=$(now)
    "$glass" -nographic -no-reboot -m 64 -d stats -D "$tmp/glass.log" \
        -debugcon "file:$tmp/glass.out" -kernel "$guest" -append "rounds=$1" || true
    t1=$(now)
    n=$(sed -n 's/^glass: \([0-9]*\) instructions.*/\1/p' "$tmp/glass.log")
    sum=$(sed -n 's/.*checksum \([0-9a-f]*\).*/\1/p' "$tmp/glass.out")
    echo "$(echo "$t1 - $t0" | bc -l) ${n:-0} ${sum:-none}"
}

run_qemu() {
    t0=$(now)
    qemu-system-i386 -nographic -no-reboot -m 64 -accel tcg -display none \
        -device isa-debug-exit,iobase=0xf4,iosize=4 -debugcon "file:$tmp/qemu.out" \
        -kernel "$guest" -append "rounds=$1" >/dev/null 2>&1 </dev/null || true
    t1=$(now)
    sum=$(sed -n 's/.*checksum \([0-9a-f]*\).*/\1/p' "$tmp/qemu.out")
    echo "$(echo "$t1 - $t0" | bc -l) ${sum:-none}"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

have_qemu=0
command -v qemu-system-i386 >/dev/null 2>&1 && have_qemu=1
[ $have_qemu = 1 ] || echo "bench: qemu-system-i386 not found (apt-get install qemu-system-x86): no QEMU column"

glass_base=$(run_glass 0 | cut -d' ' -f1)
qemu_base=0
[ $have_qemu = 1 ] && qemu_base=$(run_qemu 0 | cut -d' ' -f1)

: >"$tmp/native.t"; : >"$tmp/glass.t"; : >"$tmp/qemu.t"
i=0
while [ $i -lt "$repeat" ]; do
    native_sum=$("$native" "$rounds" 2>>"$tmp/native.t" | sed -n 's/.*checksum \([0-9a-f]*\).*/\1/p')
    set -- $(run_glass "$rounds")
    echo "$1 - $glass_base" | bc -l >>"$tmp/glass.t"
    glass_insns=$2 glass_sum=$3
    if [ $have_qemu = 1 ]; then
        set -- $(run_qemu "$rounds")
        echo "$1 - $qemu_base" | bc -l >>"$tmp/qemu.t"
        qemu_sum=$2
        [ "$qemu_sum" = "$native_sum" ] || echo "bench: QEMU checksum $qemu_sum != native $native_sum"
    fi
    [ "$glass_sum" = "$native_sum" ] || echo "bench: Glass checksum $glass_sum != native $native_sum"
    i=$((i + 1))
done

tn=$(median <"$tmp/native.t")
tg=$(median <"$tmp/glass.t")
printf 'workload: %s rounds, %s guest instructions, medians of %s runs\n' "$rounds" "$glass_insns" "$repeat"
printf '  native      %8.3f s\n' "$tn"
printf '  glass       %8.3f s  %6.1f x native  %7.1f guest MIPS\n' "$tg" \
    "$(echo "$tg / $tn" | bc -l)" "$(echo "$glass_insns / $tg / 1000000" | bc -l)"
if [ $have_qemu = 1 ]; then
    tq=$(median <"$tmp/qemu.t")
    printf '  qemu (tcg)  %8.3f s  %6.1f x native  (glass / qemu = %.2f)\n' "$tq" \
        "$(echo "$tq / $tn" | bc -l)" "$(echo "$tg / $tq" | bc -l)"
fi
