/*
 * hw/linux_boot.h — direct boot of a Linux bzImage by the 32-bit boot
 * protocol (Documentation/arch/x86/boot.rst, "32-bit boot protocol"):
 * the loader does what a boot loader plus the kernel's real-mode setup
 * code would have done, then enters the kernel's protected-mode entry
 * point with the boot_params ("zero page") address in ESI.
 *
 * Boot protocol 2.04 or later is required (32-bit syssize, initrd limits
 * known; every kernel since 2.6.14 qualifies), with LOADED_HIGH (a
 * bzImage, loaded at 1 MiB). Not a device: no ports, no state.
 *
 * An image that starts only through its real-mode setup code (its
 * code32_start is not in its protected-mode part, as iPXE's ipxe.lkrn; or
 * protocol 2.02-2.03, as SYSLINUX's memdisk), or asked for a video mode
 * with "vga=" on its command line, is loaded the way a boot
 * loader using the 16-bit protocol loads it (boot.rst, "Loading the rest
 * of the kernel", "Running the kernel"): setup at LINUX_SETUP_ADDR, the
 * command line at LINUX_SETUP_CMDLINE, the protected-mode part at 1 MiB;
 * the board then starts Glass's BIOS, whose INT 19h runs the setup code
 * in real mode (bios/misc.c) with the BIOS's services under it.
 */
#ifndef GLASS_HW_LINUX_BOOT_H
#define GLASS_HW_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* Where the loader puts its pieces in conventional memory. */
#define LINUX_GDT_ADDR 0x6000u         /* 4 descriptors: null, null, code 10h, data 18h */
#define LINUX_BOOT_PARAMS_ADDR 0x7000u /* the zero page, 4 KiB */
#define LINUX_CMDLINE_ADDR 0x8000u     /* the command line, up to ... */
#define LINUX_CMDLINE_END 0x10000u     /* ... here (cmdline_size caps it further) */
#define LINUX_HIGH_LOAD 0x100000u      /* protected-mode kernel of a bzImage */

/* Selectors the 32-bit boot protocol prescribes (__BOOT_CS, __BOOT_DS). */
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18

/* Where the 16-bit protocol's pieces go (QEMU's and SYSLINUX's choice for
 * a bzImage): the setup code at 1000:0000, its heap and stack to 2000:0000
 * (heap_end_ptr FE00h), the command line at 20000h. The BIOS's INT 19h
 * jumps to 1020:0000 with DS = ES = FS = GS = SS = 1000h, SP = FFF0h
 * (bios/misc.c, bios/entry.asm linux16_boot: the same numbers). */
#define LINUX_SETUP_ADDR 0x10000u
#define LINUX_SETUP_HEAP_END 0xfe00u
#define LINUX_SETUP_CMDLINE 0x20000u
#define LINUX_SETUP_CMDLINE_END 0x30000u
/* The top 64 KiB of RAM hold the ACPI tables Glass's BIOS builds
 * (bios/acpi.c): an initrd loaded for the 16-bit protocol stays below. */
#define LINUX_SETUP_RAM_TOP_RESERVED 0x10000u

/* Oldest boot protocol accepted: 2.04 for the 32-bit protocol, 2.02
 * (cmd_line_ptr) for images that run their setup code. */
#define LINUX_PROTO_MIN 0x0204
#define LINUX_PROTO_MIN_SETUP 0x0202

struct linux_boot {
    uint16_t version;       /* boot protocol of the kernel */
    uint32_t entry;         /* code32_start: EIP at entry */
    uint32_t boot_params;   /* zero page address: ESI at entry */
    uint32_t gdt;           /* the GDT the loader built */
    uint32_t cmdline;       /* physical address of the command line */
    uint32_t kernel_start;  /* protected-mode image at [start, end) */
    uint32_t kernel_end;
    uint32_t kernel_need;   /* lowest RAM end the kernel can decompress in */
    uint32_t initrd_start;  /* 0 if no initrd */
    uint32_t initrd_size;
    bool real_mode_setup;   /* the 16-bit protocol: the BIOS runs the setup
                               code at LINUX_SETUP_ADDR (no zero page, no
                               GDT: boot_params and gdt are 0) */
};

/*
 * Recognises a bzImage: "HdrS" at 202h and the AA55h boot flag at 1FEh of
 * the first `size` bytes of a file. An ELF (multiboot) kernel has neither.
 */
bool linux_is_bzimage(const uint8_t *data, size_t size);
/* The same on a file's first 1 KiB; false if it cannot be read. */
bool linux_is_bzimage_file(const char *path);
/* Whether linux_load would load the bzImage at `path` with `cmdline` for
 * its real-mode setup code (the board must then start its BIOS); false
 * if the file cannot be read or is not a valid bzImage (linux_load says
 * why). */
bool linux_runs_setup_file(const char *path, const char *cmdline);

/*
 * Loads the bzImage at `kernel` into `ram` (`ram_size` bytes mapped from
 * physical address 0) with the optional initrd (placed 4 KiB-aligned as
 * high as the kernel's initrd_addr_max and RAM allow, above the kernel's
 * decompression area) and command line (NULL: empty), and builds the
 * zero page: the kernel's setup header, loader type FFh, command line,
 * initrd, E820 map (RAM 0-9FC00h, reserved 9FC00h-A0000h and
 * F0000h-100000h, RAM 1 MiB to the end), alt_mem_k, and a screen_info
 * saying "no video console" (see linux_set_vga_text). Returns 0, or -1
 * with a one-line message naming the file at fault in err.
 */
int linux_load(uint8_t *ram, uint64_t ram_size, const char *kernel, const char *initrd,
               const char *cmdline, struct linux_boot *out, char *err, size_t errlen);

/*
 * Tells the kernel (screen_info in the zero page) that a VGA in 80x25
 * colour text mode (mode 3, 16-line font, cursor at row `cursor_row`) is
 * its console, or with on == false that there is none (the default).
 */
void linux_set_vga_text(uint8_t *ram, const struct linux_boot *b, bool on,
                        unsigned cursor_row);

/*
 * Adds [start, start + len) of E820 type `type` (1 RAM, 2 reserved,
 * 3 ACPI reclaimable, 4 ACPI NVS) to the map linux_load built, keeping it
 * sorted. Returns 0, or -1 if the range is empty, overlaps an entry or
 * the map is full. (For the ACPI tables: E0000h-F0000h, type 3.)
 */
int linux_e820_add(uint8_t *ram, const struct linux_boot *b, uint64_t start, uint64_t len,
                   uint32_t type);

/* Tells the kernel where the ACPI RSDP is (boot_params.acpi_rsdp_addr,
 * zero page 070h; kernels without the field scan E0000h-FFFFFh). */
void linux_set_acpi_rsdp(uint8_t *ram, const struct linux_boot *b, uint64_t rsdp);

/*
 * The CPU state of the 32-bit boot protocol: protected mode, no paging,
 * flat 4 GiB CS = 10h and DS = ES = SS (= FS = GS) = 18h from the GDT at
 * b->gdt, interrupts off, ESI = zero page, EBX = EBP = EDI = 0, EIP =
 * code32_start, A20 on.
 */
void linux_enter(struct cpu *cpu, const struct linux_boot *b);

#endif
