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

/* Oldest boot protocol accepted: 2.04. */
#define LINUX_PROTO_MIN 0x0204

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
};

/*
 * Recognises a bzImage: "HdrS" at 202h and the AA55h boot flag at 1FEh of
 * the first `size` bytes of a file. An ELF (multiboot) kernel has neither.
 */
bool linux_is_bzimage(const uint8_t *data, size_t size);
/* The same on a file's first 1 KiB; false if it cannot be read. */
bool linux_is_bzimage_file(const char *path);

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
