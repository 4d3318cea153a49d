#!/bin/sh
# tests/display/run.sh — Glass's window end to end, on an X server
# (`make check-display` runs it under Xvfb through xvfb-run). Each stage
# starts glass with its SDL window, reads the window back with
# ImageMagick's `import` (tests/display/screen.c finds the text in it by
# matching the BIOS font, colours and sizes), types into it with xdotool,
# and keeps a screenshot as $OUT/NAME.png:
#
#   nodisplay   no X server: one line pointing at -display none, status 1
#   bios        Glass's BIOS boots tests/display/hello.asm from -hda: its
#               banner and 16 colours show in text mode 3 (720x400),
#               typed keys echo through INT 16h/INT 10h, Ctrl+Alt+G grabs
#               and releases (the title says so), a click grabs and mouse
#               motion and buttons reach INT 15h C2h, a wider window and
#               Ctrl+Alt+F (with WM=1) scale the picture with its aspect
#               kept; then mode 13h's colour bars and a VBE 640x480x32
#               picture filled through the banked window; the title says
#               "halted" while the guest waits in HLT; Esc ends it
#               (status 1)
#   linux-text  Debian's kernel (-kernel, console=tty0) on the VGA text
#               console: its boot messages and the shell prompt read
#               back in the VGA font, `echo $((6*7))` typed answers 42;
#               poweroff -f (status 0)
#   linux-fb    the same kernel booted by SYSLINUX from a disk through
#               Glass's BIOS with vga=0x317 (VBE 1024x768, 16 bpp):
#               vesafb's console at the guest's resolution, not blank;
#               a typed printf draws $((6*7)) green cells (a run of 336
#               pixels of 00aa00); poweroff -f (status 0)
#   In bios and linux-fb the monitor (-monitor unix:) stops the machine:
#   the title says paused and its screendump is the window's picture.
#
# Usage: run.sh [STAGE...]   (default: all; linux-* need tests/linux/
# fetch.sh's cache and are skipped without it). Environment: GLASS
# (./glass), SCREEN (build/display/screen), HELLO
# (build/display/hello.img), OUT (build/display), GLASS_CACHE
# (~/.cache/glass), BOOT_TIMEOUT (240 s).
set -u
GLASS=${GLASS:-./glass}
SCREEN=${SCREEN:-build/display/screen}
HELLO=${HELLO:-build/display/hello.img}
OUT=${OUT:-build/display}
CACHE=${GLASS_CACHE:-$HOME/.cache/glass}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-240}
HERE=$(dirname "$0")
# A glass built with --enable-sanitizers: SDL's D-Bus and X11 libraries,
# loaded and unloaded at run time, leave allocations LeakSanitizer
# reports (and then turns the exit status to 1); Glass's own code is
# checked for leaks by the unit tests.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
mkdir -p "$OUT"
failed=0
PID=
WID=

pass() { echo "PASS display/$stage: $1"; }
fail() { echo "FAIL display/$stage: $1"; failed=1; }

# Starts glass with the window and waits for it (its pid's window).
start() {
    "$GLASS" -display sdl -debugcon null "$@" >"$OUT/$stage.out" 2>"$OUT/$stage.err" &
    PID=$!
    WID=$(timeout 20 xdotool search --sync --onlyvisible --pid "$PID" --name '^Glass' \
          2>/dev/null | head -n 1)
    if [ -z "$WID" ]; then
        fail "no window (stderr: $(head -c 300 "$OUT/$stage.err"))"
        stop
        return 1
    fi
    # In the corner, so that a window manager lets it grow to 1024x768.
    xdotool windowmove "$WID" 0 0
}

# Ends glass if it still runs (by its pid, which this script started).
stop() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    PID=
}

# Waits up to $2 s for glass to exit; its status in $status (or 124).
wait_exit() {
    n=0
    while kill -0 "$PID" 2>/dev/null && [ "$n" -lt "$(( $1 * 10 ))" ]; do
        sleep 0.1
        n=$((n + 1))
    done
    if kill -0 "$PID" 2>/dev/null; then
        status=124
        stop
    else
        wait "$PID"
        status=$?
        PID=
    fi
}

# The window as $OUT/$1.ppm (8 bits a channel).
shot() {
    import -window "$WID" -depth 8 "ppm:$OUT/$1.ppm" 2>/dev/null
}

# Keeps $OUT/$1.ppm as $OUT/$1.png, the stage's figure.
keep() {
    convert "$OUT/$1.ppm" "$OUT/$1.png" 2>/dev/null
}

# Text of screenshot $1.
text() {
    "$SCREEN" text "$OUT/$1.ppm"
}

# Waits up to $2 s for the window's text to have a line matching the
# extended regex $1; the last screenshot is $OUT/$3.ppm.
wait_text() {
    end=$(( $(date +%s) + $2 ))
    while :; do
        shot "$3"
        if text "$3" | grep -Eq -- "$1"; then
            return 0
        fi
        [ "$(date +%s)" -ge "$end" ] && return 1
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 1
    done
}

type_keys() {
    xdotool windowfocus --sync "$WID" 2>/dev/null
    xdotool type --delay 40 -- "$1"
}

key() {
    xdotool windowfocus --sync "$WID" 2>/dev/null
    xdotool key --delay 40 "$@"
}

title() {
    xdotool getwindowname "$WID"
}

# One command to the stage's monitor (-monitor unix:$OUT/$stage.mon);
# its answer on stdout.
mon() {
    python3 - "$OUT/$stage.mon" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(20)
buf = b""
def prompt():
    global buf
    while b"(glass) " not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
prompt()
buf = b""
s.sendall(sys.argv[2].encode() + b"\n")
prompt()
sys.stdout.write(buf.decode(errors="replace").replace("(glass) ", ""))
PY
}

# The machine stopped through the monitor: the title says paused, and
# the monitor's screendump (the same renderer) is the window's picture
# pixel for pixel; then it runs on.
paused_screendump() {
    mon stop >/dev/null
    sleep 1.5
    case $(title) in
    "Glass - paused"*) pass "the monitor's stop: the title says paused" ;;
    *) fail "stopped: title $(title)" ;;
    esac
    mon "screendump $OUT/$stage-dump.png" >/dev/null
    shot "$stage-win"
    diff=$(compare -metric AE "$OUT/$stage-dump.png" "$OUT/$stage-win.ppm" null: 2>&1)
    [ "$diff" = 0 ] && pass "the monitor's screendump is the window's picture" ||
        fail "screendump and window differ: $diff pixels"
    mon cont >/dev/null
}

# Screenshot $1 must be $2 x $3 with mode 3's 720x400 picture scaled to
# its width and centred between black bars; $4 says what it shows.
letterbox() {
    shot "$1"
    set -- "$1" "$2" "$3" "$4" $("$SCREEN" size "$OUT/$1.ppm")
    ph=$(( 400 * $2 / 720 ))
    top=$(( ($3 - ph) / 2 ))
    if [ "$5 $6" = "$2 $3" ] && [ "$top" -gt 8 ] &&
       [ "$("$SCREEN" pixel "$OUT/$1.ppm" $(($2 / 2)) $((top / 2)))" = 000000 ] &&
       [ "$("$SCREEN" pixel "$OUT/$1.ppm" $(( (2 * 9 + 8) * $2 / 720 )) \
            $(( top + 17 * $2 / 720 )))" = 0000aa ]; then
        pass "$4: the picture ${2}x$ph between bars"
    else
        fail "$4: ${5}x$6, not the picture letterboxed in ${2}x$3"
    fi
}

# ------------------------------------------------------------ stages

stage_nodisplay() {
    line=$(DISPLAY= WAYLAND_DISPLAY= "$GLASS" -display sdl -hda "$HELLO" -serial null \
           -debugcon null 2>&1 </dev/null)
    st=$?
    if [ "$st" = 1 ] && [ "$(printf '%s\n' "$line" | wc -l)" = 1 ] &&
       printf '%s' "$line" | grep -q -- '-display none'; then
        pass "no X server: status 1, '$line'"
    else
        fail "no X server: status $st, output '$line'"
    fi
    line=$(DISPLAY=:4095 "$GLASS" -display sdl -hda "$HELLO" -serial null -debugcon null 2>&1 \
           </dev/null)
    st=$?
    if [ "$st" = 1 ] && printf '%s' "$line" | grep -q -- '-display none'; then
        pass "unreachable X server: status 1"
    else
        fail "unreachable X server: status $st, output '$line'"
    fi
}

stage_bios() {
    start -m 32 -hda "$HELLO" -serial null -debugcon "file:$OUT/bios.e9" \
        -monitor "unix:$OUT/bios.mon,server,nowait" || return
    if wait_text '^  Glass display test: BIOS text mode$' 30 bios; then
        pass "the BIOS booted the disk; its banner reads back in the BIOS font"
    else
        fail "no banner; the screen reads:"; text bios; stop; return
    fi
    size=$("$SCREEN" size "$OUT/bios.ppm")
    [ "$size" = "720 400" ] && pass "mode 3 is 720x400" || fail "window $size, not 720 400"
    # Row 3, columns 2-17: a full block in each attribute colour (the
    # BIOS's EGA palette); the banner's background is blue.
    want="000000 0000aa 00aa00 00aaaa aa0000 aa00aa aa5500 aaaaaa 555555 5555ff 55ff55 55ffff ff5555 ff55ff ffff55 ffffff"
    got=
    for i in $(seq 0 15); do
        got="$got $("$SCREEN" pixel "$OUT/bios.ppm" $(( (2 + i) * 9 + 4 )) 56)"
    done
    [ "$got" = " $want" ] && pass "the 16 colours" || fail "colours:$got"
    bg=$("$SCREEN" pixel "$OUT/bios.ppm" $((2 * 9 + 8)) 16)
    [ "$bg" = "0000aa" ] && pass "attributes: the banner on blue" || fail "banner background $bg"
    case $(title) in
    "Glass - running"*) pass "title: $(title)" ;;
    *) fail "title: $(title)" ;;
    esac
    paused_screendump
    type_keys 'Hello, World!'
    key Return
    type_keys 'glass'
    if wait_text '^glass' 10 bios && text bios | grep -q '^keys> Hello, World!$'; then
        pass "typed keys reach INT 16h and echo"
        keep bios
    else
        fail "typed keys not echoed; the screen reads:"; text bios
    fi
    key ctrl+alt+g
    sleep 0.5
    case $(title) in
    *"Ctrl+Alt+G releases the mouse"*) pass "Ctrl+Alt+G grabs the mouse" ;;
    *) fail "grab: title $(title)" ;;
    esac
    key ctrl+alt+g
    sleep 0.5
    case $(title) in
    *"releases"*) fail "release: title $(title)" ;;
    *) pass "Ctrl+Alt+G again releases it" ;;
    esac
    # A click grabs the mouse; motion and buttons then reach the guest's
    # PS/2 mouse (the guest's INT 15h C2h handler logs its packets).
    xdotool mousemove --window "$WID" 100 100
    xdotool click 1
    sleep 0.5
    for i in 1 2 3; do
        xdotool mousemove_relative -- 20 5
        sleep 0.2
    done
    xdotool click 3
    sleep 0.5
    case $(title) in
    *"Ctrl+Alt+G releases the mouse"*) pass "a click grabs the mouse" ;;
    *) fail "click: title $(title)" ;;
    esac
    key ctrl+alt+g
    # Right (X 0014h), down (Y FBh with the sign bit, 20h, in the status:
    # PS/2 counts up), then the right button (status bit 1).
    if grep -q '^M 0028 0014 00FB$' "$OUT/bios.e9" && grep -q '^M 000A 0000 0000$' "$OUT/bios.e9"
    then
        pass "mouse motion and buttons reach INT 15h C2h as PS/2 packets"
    else
        fail "mouse packets: $(grep '^M' "$OUT/bios.e9" | tr '\n' ';')"
    fi
    # Full screen: the 720x400 picture scaled to the screen's width,
    # centred between black bars (the aspect kept).
    # A window of another shape: the picture scaled to its width,
    # centred between black bars (the aspect kept).
    xdotool windowmove "$WID" 0 0
    xdotool windowsize "$WID" 1000 800
    sleep 1
    letterbox bios-wide 1000 800 "a 1000x800 window"
    xdotool windowsize "$WID" 720 400
    sleep 1
    # Full screen (a window manager is needed to grant it).
    if [ -n "$WM_PID" ]; then
        key ctrl+alt+f
        sleep 1
        set -- $(xdotool getdisplaygeometry)
        letterbox bios-full "$1" "$2" "Ctrl+Alt+F: full screen"
        key ctrl+alt+f
        sleep 1
        shot bios
        size=$("$SCREEN" size "$OUT/bios.ppm")
        [ "$size" = "720 400" ] && pass "Ctrl+Alt+F again: back to 720x400" ||
            fail "after full screen: $size"
    else
        echo "SKIP display/$stage: full screen (no window manager: WM=1 starts evilwm)"
    fi
    # Mode 13h (chain-4): 16 bars of 20 pixels, the window twice the
    # 320x200 picture.
    type_keys 1
    sleep 1
    shot bios-13h
    size=$("$SCREEN" size "$OUT/bios-13h.ppm")
    got=
    for i in $(seq 0 15); do
        got="$got $("$SCREEN" pixel "$OUT/bios-13h.ppm" $(( (i * 20 + 10) * 2 )) 200)"
    done
    if [ "$size" = "640 400" ] && [ "$got" = " $want" ]; then
        pass "mode 13h: 16 colour bars, 320x200 shown at 640x400"
        keep bios-13h
    else
        fail "mode 13h: window $size, colours$got"
    fi
    # VBE 640x480x32 filled bank by bank through the A0000h window.
    type_keys 2
    sleep 1.5
    shot bios-vbe
    size=$("$SCREEN" size "$OUT/bios-vbe.ppm")
    ok=1
    for y in 0 100 250 479; do
        for x in 0 333 639; do
            w=$(printf %06x $(( ((y * 2560 + x * 4) >> 16) * 0x0d0b09 )))
            [ "$("$SCREEN" pixel "$OUT/bios-vbe.ppm" $x $y)" = "$w" ] || ok=0
        done
    done
    if [ "$size" = "640 480" ] && [ "$ok" = 1 ]; then
        pass "VBE 640x480x32 through the banked window: every bank's colour"
        keep bios-vbe
    else
        fail "VBE 32 bpp: window $size, colours wrong"
    fi
    # With the timer masked the guest waits in HLT and runs nothing.
    type_keys 3
    sleep 2.5
    case $(title) in
    "Glass - halted") pass "a guest idle in HLT: the title says halted" ;;
    *) fail "idle guest: title $(title)" ;;
    esac
    key Escape
    wait_exit 10
    [ "$status" = 1 ] && pass "Esc: the guest's exit (status 1)" || fail "exit status $status"
}

stage_linux_text() {
    start -m 256 -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.cpio" \
        -append "console=ttyS0 console=tty0" -serial "file:$OUT/linux-text.serial" || return
    if wait_text '^glass#( |$)' "$BOOT_TIMEOUT" linux-text; then
        pass "Linux on the VGA text console, to the shell's prompt"
        keep linux-text
    else
        fail "no shell prompt; the screen reads:"; text linux-text; stop; return
    fi
    text linux-text | grep -q '^GLASS-INIT-READY ' && pass "init's marker on the screen" ||
        fail "no GLASS-INIT-READY on the screen"
    type_keys 'echo $((6*7))'
    key Return
    if wait_text '^42$' 30 linux-shell; then
        pass "keys typed into the window reach the shell, its answer (42) shows"
        keep linux-shell
    else
        fail "no answer; the screen reads:"; text linux-shell
    fi
    type_keys 'poweroff -f'
    key Return
    wait_exit 30
    [ "$status" = 0 ] && pass "poweroff -f (status 0)" || fail "exit status $status"
}

stage_linux_fb() {
    img=$OUT/linux-fb.img
    if ! INITRD="$CACHE/initrd.cpio" APPEND="console=ttyS0 console=tty0 vga=0x317" \
         "$HERE/../linux/mkdisk.sh" "$img" >"$OUT/linux-fb.mkdisk" 2>&1; then
        fail "mkdisk.sh: $(tail -n 1 "$OUT/linux-fb.mkdisk")"
        return
    fi
    start -m 256 -hda "$img" -serial "file:$OUT/linux-fb.serial" \
        -monitor "unix:$OUT/linux-fb.mon,server,nowait" || return
    end=$(( $(date +%s) + BOOT_TIMEOUT ))
    until grep -q 'Run /init' "$OUT/linux-fb.serial" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$end" ] || ! kill -0 "$PID" 2>/dev/null; then
            fail "the kernel did not reach init (serial log: $OUT/linux-fb.serial)"
            stop
            return
        fi
        sleep 1
    done
    grep -o 'vesafb: mode is [0-9x]*' "$OUT/linux-fb.serial" | head -n 1
    sleep 3 # the shell starts on tty0
    shot linux-fb
    set -- $("$SCREEN" stats "$OUT/linux-fb.ppm")
    if [ "$1 $2" = "1024 768" ] && [ "$3" -gt 20000 ]; then
        pass "the VBE framebuffer console at 1024x768, $3 pixels lit"
    else
        fail "framebuffer picture: $*"
    fi
    type_keys "printf '\\033[42m%*s\\033[0m\\n' \$((6*7)) ''"
    key Return
    end=$(( $(date +%s) + 30 ))
    while :; do
        shot linux-fb
        set -- $("$SCREEN" run "$OUT/linux-fb.ppm" 00aa00)
        [ "$1" -ge 336 ] || [ "$(date +%s)" -ge "$end" ] && break
        sleep 1
    done
    if [ "$1" = 336 ]; then
        pass "keys reach the shell on the framebuffer console: 42 green cells at line $2"
        keep linux-fb
    else
        fail "no bar of 42 green cells (longest run $1)"
    fi
    paused_screendump
    type_keys 'poweroff -f'
    key Return
    wait_exit 30
    [ "$status" = 0 ] && pass "poweroff -f (status 0)" || fail "exit status $status"
}

# Full screen needs a window manager (a bare X server ignores the
# request): with WM=1, evilwm is started for the run if none is there,
# its own bindings moved off Ctrl+Alt (-mask1 mod4) so that Glass's hot
# keys reach Glass.
WM_PID=
if [ "${WM:-0}" = 1 ] && command -v evilwm >/dev/null 2>&1; then
    evilwm -fn cursor -mask1 mod4 >"$OUT/evilwm.log" 2>&1 &
    WM_PID=$!
    sleep 1
fi

stages=${*:-nodisplay bios linux-text linux-fb}
for stage in $stages; do
    case $stage in
    linux-*)
        if [ ! -s "$CACHE/vmlinuz" ] || [ ! -s "$CACHE/initrd.cpio" ]; then
            echo "SKIP display/$stage: no $CACHE/vmlinuz or initrd.cpio (tests/linux/fetch.sh)"
            continue
        fi
        ;;
    esac
    t0=$(date +%s)
    "stage_$(echo "$stage" | tr - _)"
    stop
    echo "     display/$stage: $(( $(date +%s) - t0 )) s"
done
[ -n "$WM_PID" ] && kill "$WM_PID" 2>/dev/null
exit $failed
