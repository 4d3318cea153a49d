# bios/bios.mk — Glass's own BIOS (included by the top-level Makefile:
#     include bios/bios.mk
# ). `make build/bios/bios.bin` builds the 128 KiB image (mapped at
# 0xE0000-0xFFFFF and 4 GiB-128 KiB, started at F000:FFF0).
# Tools: gcc (-m32 -ffreestanding: only gcc's own headers, no libc or
# libgcc), GNU ld/objcopy, nasm; bios/fixup.c is built for the host.

BIOS_CC ?= gcc
HOST_CC ?= cc
BIOS_CFLAGS = -m32 -march=i386 -mtune=i686 -std=gnu11 -Os -Wall -Wextra -ffreestanding -fno-pic \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
	-mgeneral-regs-only -fno-strict-aliasing -fno-common -fno-builtin -fno-jump-tables -fno-delete-null-pointer-checks --param=min-pagesize=0 \
	-Ibios -I. $(if $(filter 1,$(WERROR)),-Werror)
BIOS_LDFLAGS = -m elf_i386 -nostdlib -static --build-id=none --no-warn-rwx-segments -T bios/link.ld

BIOS_C_SRCS := $(wildcard bios/*.c)
BIOS_C_SRCS := $(filter-out bios/fixup.c,$(BIOS_C_SRCS))
# hw/acpi.c (the ACPI table builder, freestanding) is shared with the
# board's -kernel boots: one DSDT for both.
BIOS_OBJS := $(BIOS_C_SRCS:bios/%.c=build/bios/%.o) build/bios/hw_acpi.o build/bios/entry.o

build/bios/%.o: bios/%.c
	@mkdir -p $(@D)
	$(BIOS_CC) $(BIOS_CFLAGS) -MMD -MP -c -o $@ $<

build/bios/hw_acpi.o: hw/acpi.c
	@mkdir -p $(@D)
	$(BIOS_CC) $(BIOS_CFLAGS) -MMD -MP -c -o $@ $<

build/bios/entry.o: bios/entry.asm
	@mkdir -p $(@D)
	nasm -f elf32 -w+all -o $@ $<

build/bios/fixup: bios/fixup.c
	@mkdir -p $(@D)
	$(HOST_CC) -O2 -Wall -Wextra -o $@ $<

build/bios/bios.elf: $(BIOS_OBJS) bios/link.ld
	ld $(BIOS_LDFLAGS) -o $@ $(BIOS_OBJS)

# fixup fills in the $PIR checksum and checks the image is exactly 128 KiB.
build/bios/bios.bin: build/bios/bios.elf build/bios/fixup
	objcopy -O binary $< $@.tmp
	build/bios/fixup $@.tmp
	mv $@.tmp $@

# The image as C (const unsigned char glass_bios_rom[131072] and
# glass_bios_rom_size), for linking the BIOS into ./glass.
build/bios/bios_rom.c: build/bios/bios.bin build/bios/fixup
	build/bios/fixup -c glass_bios_rom $< $@

.PHONY: bios
bios: build/bios/bios.bin

-include $(wildcard build/bios/*.d)

# Boot tests (tests/guest/boot/mbr.asm: disk, cd.asm: El Torito CD); run
# them with tests/guest/boot/run.sh qemu|glass.
build/guest/boot/mbr.img: tests/guest/boot/mbr.asm
	@mkdir -p $(@D)
	nasm -f bin -o $@ $<

build/guest/boot/cd.iso: tests/guest/boot/cd.asm
	@mkdir -p $(@D)
	nasm -f bin -o $@ $<

build/guest/boot/cdfd.iso: tests/guest/boot/cdfd.asm
	@mkdir -p $(@D)
	nasm -f bin -o $@ $<

build/guest/boot/setup16.bin: tests/guest/boot/setup16.asm
	@mkdir -p $(@D)
	nasm -f bin -o $@ $<

# The boot tests in Glass (and QEMU if installed: BIOS_TEST_QEMU=1).
.PHONY: check-bios
check-bios: glass build/bios/bios.bin build/guest/boot/mbr.img build/guest/boot/cd.iso \
		build/guest/boot/cdfd.iso build/guest/boot/setup16.bin
	tests/guest/boot/run.sh glass
	$(if $(filter 1,$(BIOS_TEST_QEMU)),tests/guest/boot/run.sh qemu)
