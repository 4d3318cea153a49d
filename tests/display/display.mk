# tests/display/display.mk — the window's end-to-end test (included by
# the top-level Makefile): `make check-display` runs tests/display/run.sh
# in an Xvfb server of its own (xvfb-run). Needs Debian's xvfb, xauth,
# xdotool and imagemagick; the Linux stages need tests/linux/fetch.sh's
# cache (make check-linux fills it) and are skipped without it.

build/display/screen: tests/display/screen.c bios/font.c bios/font.h
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -I. -o $@ \
		tests/display/screen.c bios/font.c

build/display/hello.img: tests/display/hello.asm
	@mkdir -p $(@D)
	nasm -f bin -o $@ $<

.PHONY: check-display
check-display: glass build/display/screen build/display/hello.img
	WM=1 xvfb-run -a -s "-screen 0 1280x1024x24 -nolisten tcp" tests/display/run.sh
