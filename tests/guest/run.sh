#!/bin/sh
# tests/guest/run.sh GLASS IMAGE... — runs each guest test image in Glass
# headless and reports PASS/FAIL per test; exits 1 if any failed.
#
#   build/guest/NAME.elf      runs as -kernel, expected output in
#                             tests/guest/NAME.expect (optional)
#   build/guest/rom/NAME.rom  runs as -bios, tests/guest/rom/NAME.expect
#
# Pass: exit status 1 (the guest wrote 0 to port 0xF4), nothing on glass's
# stderr (status 1 is also its error status, and the sanitizers report
# there), no "FAIL" in the port 0xE9 output, and the output equals the
# .expect file if there is one.
# Glass's own messages (stderr) go to NAME.err, its -d unimp log to
# NAME.log. GUEST_TIMEOUT (seconds, default 120) bounds each run.
#
#   tests/guest/NAME.args     extra command-line arguments (one line,
#                             split on blanks), e.g. a -drive
#   tests/guest/NAME.glass-args  more arguments for Glass only (options
#                             QEMU does not have, e.g. -serial-timing)
#   tests/guest/NAME.check    a shell script run after a passing run
#                             (from the top directory, with the output
#                             file as $1): it fails the test by exiting
#                             non-zero, e.g. to check what the guest wrote
#                             to a disk image
#
# tests/guest/run.sh --accel ENGINE GLASS IMAGE... runs them with
# -accel ENGINE (jit or interp; make check-guest runs both, and the JIT
# once more as jit-eager: every block translated the first time it runs,
# GLASS_JIT_FIRST_SIGHT=0, where by default code run once stays on the
# careful path, so that the tests' one-off instructions go through
# translated code too); the report names the engine.
#
# tests/guest/run.sh --qemu QEMU IMAGE... runs the same kernels in QEMU
# (built with -DQEMU_VALIDATE, make check-guest-qemu), the reference the
# tests are validated against; there stderr is not checked (QEMU warns
# about things that do not matter here).

set -u
qemu=
accel=
engine=
if [ "${1:-}" = --accel ]; then
    accel=$2
    engine=$2
    shift 2
fi
if [ "$accel" = jit-eager ]; then
    accel=jit
    GLASS_JIT_FIRST_SIGHT=0
    export GLASS_JIT_FIRST_SIGHT
fi
if [ "${1:-}" = --qemu ]; then
    qemu=$2
    shift 2
    glass=
else
    glass=$1
    shift
fi
timeout=${GUEST_TIMEOUT:-120}
passed=0
failed=0
failures=

for image in "$@"; do
    case $image in
    *.rom)
        name=rom/$(basename "$image" .rom)
        boot="-bios $image"
        ;;
    *)
        name=$(basename "$image" .elf)
        boot="-kernel $image"
        ;;
    esac
    out=${image%.*}.out
    log=${image%.*}.log
    errors=${image%.*}.err
    mkdir -p "$(dirname "$out")"
    expect=tests/guest/$name.expect
    args=
    [ -f "tests/guest/$name.args" ] && args=$(cat "tests/guest/$name.args")
    if [ -z "$qemu" ] && [ -f "tests/guest/$name.glass-args" ]; then
        args="$args $(cat "tests/guest/$name.glass-args")"
    fi
    if [ -n "$qemu" ]; then
        # shellcheck disable=SC2086 # $boot and $args are words on purpose
        timeout "$timeout" "$qemu" -m 64 -device isa-debug-exit,iobase=0xf4,iosize=4 \
            -debugcon "file:$out" -display none -nographic -no-reboot -monitor none \
            -serial null $boot $args 2>"$errors"
        status=$?
        : >"$errors"
    else
        # shellcheck disable=SC2086 # $boot and $args are words on purpose
        timeout "$timeout" "$glass" ${accel:+-accel "$accel"} -nographic -no-reboot -m 64 \
            -d unimp -D "$log" -debugcon "file:$out" $boot $args 2>"$errors"
        status=$?
    fi
    why=
    if [ "$status" -eq 124 ]; then
        why="timed out after ${timeout}s"
    elif [ "$status" -ne 1 ]; then
        why="exit status $status, want 1"
    elif [ -s "$errors" ]; then
        # Status 1 is also glass's own error status: a passing run says
        # nothing on stderr (nor do the sanitizers).
        why="glass wrote to stderr: $(head -n 1 "$errors")"
    elif grep -q FAIL "$out"; then
        why="the guest reported a failure"
    elif [ -f "$expect" ] && ! cmp -s "$expect" "$out"; then
        why="output differs from $expect"
    elif [ -f "tests/guest/$name.check" ] && ! sh "tests/guest/$name.check" "$out" >>"$out" 2>&1
    then
        why="tests/guest/$name.check failed"
    fi
    label=$name${engine:+ ($engine)}
    if [ -z "$why" ]; then
        echo "PASS $label"
        passed=$((passed + 1))
    else
        echo "FAIL $label: $why (output $out, log $log)"
        sed 's/^/    | /' "$out" 2>/dev/null | tail -n 20
        sed 's/^/    ! /' "$errors" 2>/dev/null | tail -n 5
        failed=$((failed + 1))
        failures="$failures $name"
    fi
done

echo "guest tests${engine:+ ($engine)}: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || { echo "failed:$failures"; exit 1; }
