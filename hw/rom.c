/*
 * hw/rom.c — the -bios image: raw firmware that a PC's chipset decodes at
 * the top of the 4 GiB address space (where the CPU's reset vector,
 * FFFFFFF0h, lies: SDM Vol. 3A 9.1.4) and, for its last 128 KiB, also at
 * E0000h-FFFFFh below 1 MiB, where real-mode code reaches it. QEMU's PC
 * maps a -bios image the same way (the "isa-bios" alias).
 */
#include "hw/hw.h"

#define FOUR_GIB 0x100000000ull
#define ONE_MIB 0x100000ull
/* Files up to this size are read and get the precise size message; a
 * larger one is surely not firmware. */
#define ROM_FILE_MAX (16u << 20)

int rom_load(struct image_file *rom, struct phys_mem *pm, const char *path, char *err,
             size_t errlen)
{
    char why[HW_ERR_MAX];
    if (image_file_read(path, ROM_FILE_MAX, rom, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "-bios %s: %s", path, why);
        return -1;
    }
    if (rom->size == 0 || rom->size % ROM_SIZE_UNIT != 0 || rom->size > ROM_SIZE_MAX) {
        snprintf(err, errlen,
                 "-bios %s: size %zu bytes; a firmware image must be 64, 128, 192 or 256 KiB",
                 path, rom->size);
        image_file_free(rom);
        return -1;
    }
    if (rom_map(pm, rom->data, rom->size) != 0) {
        snprintf(err, errlen, "-bios %s: cannot map the image", path);
        image_file_free(rom);
        return -1;
    }
    return 0;
}

int rom_map(struct phys_mem *pm, const uint8_t *image, size_t size)
{
    if (size == 0 || size % ROM_SIZE_UNIT != 0 || size > ROM_SIZE_MAX)
        return -1;
    size_t low = size < ROM_ISA_WINDOW ? size : ROM_ISA_WINDOW;
    /* Both windows show the same bytes: one host buffer, two mappings,
     * both read-only (writes are dropped as on a real flash/ROM part, so
     * the memory is never written through them). */
    uint8_t *host = (uint8_t *)(uintptr_t)image;
    if (phys_map_rom(pm, FOUR_GIB - size, size, host) != 0 ||
        phys_map_rom(pm, ONE_MIB - low, low, host + size - low) != 0)
        return -1;
    return 0;
}
