# tests/guest/guest.mk — building and running the guest tests (included by
# the top-level Makefile).
#
# A test is one of:
#   tests/guest/NAME.c    a multiboot kernel; linked with lib/ (boot.S's
#                         entry calls test_main) unless NAME is listed in
#                         GUEST_STANDALONE, which brings its own entry
#   tests/guest/NAME.S    a standalone multiboot kernel in assembly
#   tests/guest/rom/NAME.asm  a 64 KiB ROM started from the reset vector
# It passes when glass exits with status 1 (the guest wrote 0 to port
# 0xF4) having written nothing to stderr, its 0xE9 output has no "FAIL",
# and, if tests/guest/NAME.expect (or rom/NAME.expect) exists, the output
# is exactly that file (tests/guest/run.sh). tests/guest/NAME.args adds
# command-line arguments, tests/guest/NAME.check checks the host side
# after the run (run.sh).

GUEST_STANDALONE := hello

GUEST_CFLAGS = -m32 -march=i686 -std=gnu11 -O2 -g -Wall -Wextra -ffreestanding -fno-pic \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
	-Itests/guest $(if $(filter 1,$(WERROR)),-Werror)
GUEST_LDFLAGS = -m32 -nostdlib -static -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,-z,noexecstack \
	-Wl,-T,tests/guest/lib/link.ld

GUEST_C_NAMES := $(basename $(notdir $(wildcard tests/guest/*.c)))
GUEST_S_NAMES := $(basename $(notdir $(wildcard tests/guest/*.S)))
GUEST_LIB_NAMES := $(filter-out $(GUEST_STANDALONE),$(GUEST_C_NAMES))
GUEST_ALONE_NAMES := $(filter $(GUEST_STANDALONE),$(GUEST_C_NAMES)) $(GUEST_S_NAMES)
GUEST_KERNELS := $(patsubst %,build/guest/%.elf,$(GUEST_LIB_NAMES) $(GUEST_ALONE_NAMES))
GUEST_ROMS := $(patsubst tests/guest/rom/%.asm,build/guest/rom/%.rom,\
	$(wildcard tests/guest/rom/*.asm))
GUEST_LIB_OBJS := build/guest/lib/boot.o build/guest/lib/guest.o

build/guest/%.o: tests/guest/%.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

build/guest/%.o: tests/guest/%.S
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(patsubst %,build/guest/%.elf,$(GUEST_LIB_NAMES)): build/guest/%.elf: build/guest/%.o \
		$(GUEST_LIB_OBJS) tests/guest/lib/link.ld
	$(CC) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_LIB_OBJS) -lgcc

$(patsubst %,build/guest/%.elf,$(GUEST_ALONE_NAMES)): build/guest/%.elf: build/guest/%.o \
		tests/guest/lib/link.ld
	$(CC) $(GUEST_LDFLAGS) -o $@ $< -lgcc

build/guest/rom/%.rom: tests/guest/rom/%.asm tests/guest/rom/rom.inc
	@mkdir -p $(@D)
	nasm -f bin -I tests/guest/rom/ -o $@ $<

.PHONY: guests
guests: $(GUEST_KERNELS) $(GUEST_ROMS)

# Disk images the tests' .args files name, made again before every run
# (the ide test writes to its disk): sectors of a known pattern
# (tests/guest/host/mkdisk.c), a 4 MiB disk and a 2 MiB CD medium.
GUEST_DISK_SECTORS := 8192
build/guest/host/mkdisk: tests/guest/host/mkdisk.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -o $@ $<

.PHONY: guest-disks
guest-disks: build/guest/host/mkdisk
	build/guest/host/mkdisk build/guest/ide-disk.img $(GUEST_DISK_SECTORS)
	build/guest/host/mkdisk build/guest/cd.img 4096

# Every kernel under both engines; the disks are made again for each
# pass (the ide test writes to its disk).
GUEST_ENGINES ?= jit jit-eager interp
check-guest: glass guests build/guest/host/mkdisk
	@set -e; for e in $(GUEST_ENGINES); do \
	    $(MAKE) --no-print-directory guest-disks >/dev/null; \
	    tests/guest/run.sh --accel $$e ./glass $(GUEST_KERNELS) $(GUEST_ROMS); \
	done

# -d mode under the JIT against the interpreter's, on the kernels that
# change privilege level and mode: IRET to ring 3, gates, far RET,
# virtual-8086 mode, paging turned on (tests/guest/modelog.sh).
GUEST_MODELOG_KERNELS := build/guest/rings.elf build/guest/v86.elf build/guest/paging.elf
.PHONY: check-modelog
check-modelog: glass $(GUEST_MODELOG_KERNELS)
	tests/guest/modelog.sh ./glass $(GUEST_MODELOG_KERNELS)

# The same kernels built with -DQEMU_VALIDATE and run in QEMU: the tests'
# reference (a test that finds QEMU at odds with the datasheets guards
# the check with #ifndef QEMU_VALIDATE and says why).
QEMU_I386 ?= qemu-system-i386
GUEST_QEMU_KERNELS := $(patsubst build/guest/%,build/guest-qemu/%,$(GUEST_KERNELS))
GUEST_QEMU_LIB_OBJS := $(patsubst build/guest/%,build/guest-qemu/%,$(GUEST_LIB_OBJS))

build/guest-qemu/%.o: tests/guest/%.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -DQEMU_VALIDATE -MMD -MP -c -o $@ $<

build/guest-qemu/%.o: tests/guest/%.S
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -DQEMU_VALIDATE -MMD -MP -c -o $@ $<

$(patsubst %,build/guest-qemu/%.elf,$(GUEST_LIB_NAMES)): build/guest-qemu/%.elf: \
		build/guest-qemu/%.o $(GUEST_QEMU_LIB_OBJS) tests/guest/lib/link.ld
	$(CC) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_QEMU_LIB_OBJS) -lgcc

$(patsubst %,build/guest-qemu/%.elf,$(GUEST_ALONE_NAMES)): build/guest-qemu/%.elf: \
		build/guest-qemu/%.o tests/guest/lib/link.ld
	$(CC) $(GUEST_LDFLAGS) -o $@ $< -lgcc

.PHONY: check-guest-qemu
check-guest-qemu: $(GUEST_QEMU_KERNELS) guest-disks
	tests/guest/run.sh --qemu $(QEMU_I386) $(GUEST_QEMU_KERNELS)

-include $(wildcard build/guest/*.d build/guest/lib/*.d build/guest-qemu/*.d build/guest-qemu/lib/*.d)
