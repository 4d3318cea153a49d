/*
 * hw/linux_boot.c — direct boot of a Linux bzImage (x86 boot protocol,
 * Documentation/arch/x86/boot.rst; "the 32-bit boot protocol" section).
 *
 * A bzImage is a real-mode setup part of (setup_sects + 1) sectors, whose
 * sector 1 starts with the "setup header" (at 1F1h of the file and of the
 * zero page alike), followed by the protected-mode kernel which must be
 * loaded at 1 MiB. The 32-bit protocol skips the real-mode setup: the
 * loader fills struct boot_params (the "zero page") itself, with the
 * setup header copied from the file and the facts the setup code would
 * have collected from the BIOS (memory map, video state), and jumps to
 * code32_start in flat protected mode.
 *
 * An image that starts only through its setup code (linux_boot.h) is
 * loaded for the 16-bit protocol instead: the setup part at
 * LINUX_SETUP_ADDR with the header fields a loader writes, the command
 * line, the protected-mode part and the initrd; Glass's BIOS runs it.
 *
 * Every number read from the file is checked before it is used: a bad
 * image ends in a message naming the file, never in a crash.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw.h"
#include "hw/linux_boot.h"
#include "hw/le_bytes.h"

/* struct boot_params offsets (boot.rst "The zero page" and
 * arch/x86/include/uapi/asm/bootparam.h layout). */
#define BP_SIZE 4096
#define BP_SCREEN_INFO 0x000
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_ALT_MEM_K 0x1e0
#define BP_E820_ENTRIES 0x1e8
#define BP_SENTINEL 0x1ef
#define BP_SETUP_HEADER 0x1f1
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128 /* E820_MAX_ENTRIES_ZEROPAGE */

/* struct screen_info offsets (uapi/linux/screen_info.h). */
#define SI_ORIG_X 0x00
#define SI_ORIG_Y 0x01
#define SI_EXT_MEM_K 0x02
#define SI_ORIG_VIDEO_PAGE 0x04
#define SI_ORIG_VIDEO_MODE 0x06
#define SI_ORIG_VIDEO_COLS 0x07
#define SI_ORIG_VIDEO_EGA_BX 0x0a
#define SI_ORIG_VIDEO_LINES 0x0e
#define SI_ORIG_VIDEO_ISVGA 0x0f
#define SI_ORIG_VIDEO_POINTS 0x10
#define SI_SIZE 0x40

/* Setup header fields, as offsets in the file / zero page (boot.rst,
 * "The real-mode kernel header"). */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_VID_MODE 0x1fa
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c  /* 2.03+ */
#define HDR_RELOCATABLE 0x234      /* 2.05+ */
#define HDR_CMDLINE_SIZE 0x238     /* 2.06+ */
#define HDR_PREF_ADDRESS 0x258     /* 2.10+ */
#define HDR_INIT_SIZE 0x260        /* 2.10+ */

#define BOOT_FLAG 0xaa55
#define LOADED_HIGH 0x01    /* loadflags bit 0: protected-mode part at 1 MiB */
#define KEEP_SEGMENTS 0x40  /* loadflags bit 6: must be 0 for us (segments are reloaded) */
#define CAN_USE_HEAP 0x80   /* loadflags bit 7: heap_end_ptr is valid */
#define LOADER_UNDEFINED 0xff /* type_of_loader: "no assigned id" */

/* Defaults for kernels whose header lacks the field (boot.rst). */
#define INITRD_ADDR_MAX_OLD 0x37ffffffu /* before 2.03 */
#define CMDLINE_SIZE_OLD 255            /* before 2.06 */

/* The zero page's heap_end_ptr is an offset from the real-mode setup's
 * segment; it matters only to the 16-bit entry, which is not used. The
 * value is what a loader putting setup at 90000h with its heap and stack
 * up to 9800h gives (boot.rst, "Sample boot configuration"). */
#define HEAP_END_PTR (0x9800 - 0x200)

/* E820 types (ACPI "Address Range Types"). */
#define E820_RAM 1
#define E820_RESERVED 2

/* The PC's low-memory layout the map describes: 639 KiB of conventional
 * memory, then the 1 KiB EBDA up to 640 KiB; the BIOS ROM at F0000h. */
#define EBDA_START 0x9fc00u
#define LOW_RAM_END 0xa0000u
#define BIOS_ROM_START 0xf0000u
#define HIGH_RAM_START 0x100000u

#define KERNEL_FILE_MAX (256u << 20)
#define SECTOR 512

struct loader {
    const char *kpath;
    uint8_t *ram;
    uint64_t ram_size;
    uint64_t initrd_top; /* the initrd ends at or below this */
    char *err;
    size_t errlen;
};

static int fail(struct loader *l, const char *opt, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Message: "-kernel FILE: why" (or -initrd, -append). */
static int fail(struct loader *l, const char *opt, const char *path, const char *fmt, ...)
{
    char msg[HW_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (path)
        snprintf(l->err, l->errlen, "%s %s: %s", opt, path, msg);
    else
        snprintf(l->err, l->errlen, "%s: %s", opt, msg);
    return -1;
}

bool linux_is_bzimage(const uint8_t *data, size_t size)
{
    return size >= HDR_MAGIC + 4 && memcmp(data + HDR_MAGIC, "HdrS", 4) == 0 &&
           get_le16(data + HDR_BOOT_FLAG) == BOOT_FLAG;
}

/* A file's first KERNEL_HEAD bytes (fewer if it is shorter) into buf:
 * their count, and the file's size in *size; -1 if it cannot be read. */
#define KERNEL_HEAD 1024
static long read_head(const char *path, uint8_t *buf, long *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, KERNEL_HEAD, f);
    *size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    fclose(f);
    return *size < (long)n ? -1 : (long)n;
}

bool linux_is_bzimage_file(const char *path)
{
    uint8_t buf[KERNEL_HEAD];
    long size, n = read_head(path, buf, &size);
    return n >= 0 && linux_is_bzimage(buf, (size_t)n);
}

/* Is [addr, addr+len) inside RAM? (64-bit sums: no wrap-around.) */
static bool in_ram(const struct loader *l, uint64_t addr, uint64_t len)
{
    return addr <= l->ram_size && len <= l->ram_size - addr;
}

/* The facts of the setup header the loader acts on. */
struct hdr {
    uint16_t version;
    uint8_t loadflags;
    uint32_t setup_size;  /* bytes of the real-mode part, boot sector included */
    uint32_t hdr_end;     /* setup header's end in the file: 202h + byte at 201h */
    uint32_t syssize;     /* protected-mode part, bytes (from 16-byte units) */
    uint32_t code32_start;
    uint32_t initrd_addr_max;
    uint32_t cmdline_size;
    uint64_t pref_address;
    uint32_t init_size;
    bool relocatable;
    uint64_t pm_size;  /* bytes after the setup part */
    bool real_mode;    /* loaded for its setup code (choose_protocol) */
};

/* Validation of the setup header (boot.rst: "Details of header fields"). */
static int parse_header(struct loader *l, const uint8_t *img, size_t size, struct hdr *h)
{
    const char *k = l->kpath;
    if (size < HDR_MAGIC + 4)
        return fail(l, "-kernel", k, "file truncated (%zu bytes): no Linux setup header", size);
    if (memcmp(img + HDR_MAGIC, "HdrS", 4) != 0)
        return fail(l, "-kernel", k, "not a Linux bzImage (no \"HdrS\" magic at 202h)");
    if (get_le16(img + HDR_BOOT_FLAG) != BOOT_FLAG)
        return fail(l, "-kernel", k, "bad boot flag %#x at 1FEh (AA55h expected)",
                    get_le16(img + HDR_BOOT_FLAG));
    memset(h, 0, sizeof(*h));
    h->version = get_le16(img + HDR_VERSION);
    if (h->version < LINUX_PROTO_MIN_SETUP)
        return fail(l, "-kernel", k,
                    "boot protocol %u.%02u is too old (Glass needs %u.%02u or later)",
                    h->version >> 8, h->version & 0xff, LINUX_PROTO_MIN_SETUP >> 8,
                    LINUX_PROTO_MIN_SETUP & 0xff);
    /* "If this field is 0, the real value is 4." */
    unsigned sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
    h->setup_size = (sects + 1) * SECTOR;
    /* The header runs to 202h plus the jump's displacement byte. */
    h->hdr_end = HDR_MAGIC + img[HDR_JUMP + 1];
    if (h->hdr_end > h->setup_size)
        return fail(l, "-kernel", k, "setup header (to %#x) overruns the %u setup sectors",
                    h->hdr_end, sects);
    if (size < h->setup_size || size < h->hdr_end)
        return fail(l, "-kernel", k, "file truncated: %zu bytes, the setup part alone is %u",
                    size, h->setup_size);
    /* The header must hold the fields its version promises and that are
     * read here: cmd_line_ptr (2.02), initrd_addr_max (2.03),
     * relocatable_kernel (2.05), cmdline_size (2.06). */
    uint32_t need_end = h->version >= 0x0206   ? HDR_CMDLINE_SIZE + 4
                        : h->version >= 0x0205 ? HDR_RELOCATABLE + 1
                        : h->version >= 0x0203 ? HDR_INITRD_ADDR_MAX + 4
                                               : HDR_CMD_LINE_PTR + 4;
    if (h->hdr_end < need_end)
        return fail(l, "-kernel", k, "setup header too short (ends at %#x) for protocol %u.%02u",
                    h->hdr_end, h->version >> 8, h->version & 0xff);
    h->loadflags = img[HDR_LOADFLAGS];
    if (!(h->loadflags & LOADED_HIGH))
        return fail(l, "-kernel", k, "a zImage (not loaded high); only bzImages are supported");
    /*
     * syssize counts 16-byte paragraphs, rounded up (boot.rst: "The size
     * of the protected-mode code in units of 16-byte paragraphs"), so a
     * file may end up to 15 bytes before syssize * 16: Debian's
     * memtest86+ia32.bin is 8 bytes short of it. GRUB, SYSLINUX and QEMU
     * load such a file as it is; only a shortfall of a whole paragraph or
     * more is a truncated file.
     */
    h->syssize = get_le32(img + HDR_SYSSIZE);
    if (h->syssize > (size - h->setup_size + 15) / 16)
        return fail(l, "-kernel", k,
                    "file truncated: %zu bytes, the header says %u setup + %llu kernel",
                    size, h->setup_size, (unsigned long long)h->syssize * 16);
    h->syssize *= 16;
    h->code32_start = get_le32(img + HDR_CODE32_START);
    h->initrd_addr_max =
        h->version >= 0x0203 ? get_le32(img + HDR_INITRD_ADDR_MAX) : INITRD_ADDR_MAX_OLD;
    h->relocatable = h->version >= 0x0205 && img[HDR_RELOCATABLE];
    h->cmdline_size = h->version >= 0x0206 ? get_le32(img + HDR_CMDLINE_SIZE) : CMDLINE_SIZE_OLD;
    if (h->version >= 0x020a && h->hdr_end >= HDR_INIT_SIZE + 4) {
        h->pref_address = get_le64(img + HDR_PREF_ADDRESS);
        h->init_size = get_le32(img + HDR_INIT_SIZE);
    }
    h->pm_size = size - h->setup_size;
    return 0;
}

/* The protected-mode kernel at 1 MiB, and the RAM it needs to unpack. */
static int load_kernel(struct loader *l, const uint8_t *img, size_t size, const struct hdr *h,
                       struct linux_boot *b)
{
    uint64_t len = size - h->setup_size; /* all of it: signatures may follow syssize */
    if (!in_ram(l, LINUX_HIGH_LOAD, len))
        return fail(l, "-kernel", l->kpath, "kernel (%llu KiB) does not fit in %llu KiB of RAM",
                    (unsigned long long)(len >> 10), (unsigned long long)(l->ram_size >> 10));
    /*
     * The decompressor writes the kernel at the load address rounded up
     * to kernel_alignment, but never below pref_address (its
     * LOAD_PHYSICAL_ADDR), and uses init_size bytes from there (boot.rst,
     * init_size): RAM must reach that far.
     */
    uint64_t need = LINUX_HIGH_LOAD + len;
    if (h->init_size) {
        uint64_t base = LINUX_HIGH_LOAD;
        if (h->pref_address > base)
            base = h->pref_address;
        if (base + h->init_size > need)
            need = base + h->init_size;
    }
    if (need > l->ram_size)
        return fail(l, "-kernel", l->kpath,
                    "the kernel needs RAM up to %llu MiB to decompress; there are %llu MiB",
                    (unsigned long long)((need + (1u << 20) - 1) >> 20),
                    (unsigned long long)(l->ram_size >> 20));
    memcpy(l->ram + LINUX_HIGH_LOAD, img + h->setup_size, (size_t)len);
    /* A file that ends inside its last paragraph: the rest of that
     * paragraph reads as zeros, as the padding would. */
    if (len < h->syssize && in_ram(l, LINUX_HIGH_LOAD, h->syssize))
        memset(l->ram + LINUX_HIGH_LOAD + len, 0, (size_t)(h->syssize - len));
    b->kernel_start = LINUX_HIGH_LOAD;
    b->kernel_end = (uint32_t)(LINUX_HIGH_LOAD + len);
    b->kernel_need = (uint32_t)need;
    b->entry = h->code32_start;
    return 0;
}

/* The initrd as high as allowed (boot.rst: "it is recommended to load
 * the initrd as high as possible"), 4 KiB-aligned, above the kernel. */
static int load_initrd(struct loader *l, const char *path, const struct hdr *h,
                       struct linux_boot *b)
{
    char why[HW_ERR_MAX];
    struct image_file f;
    if (image_file_read(path, (size_t)l->ram_size, &f, why, sizeof(why)) != 0)
        return fail(l, "-initrd", path, "%s", why);
    /* initrd_addr_max is the highest address the initrd may occupy. */
    uint64_t top = (uint64_t)h->initrd_addr_max + 1;
    if (top > l->initrd_top)
        top = l->initrd_top;
    top &= ~0xfffull;
    uint64_t size = f.size;
    int rc = 0;
    if (size > top || ((top - size) & ~0xfffull) < b->kernel_need) {
        rc = fail(l, "-initrd", path,
                  "does not fit: %llu KiB between the kernel's end (%u KiB) and the top "
                  "usable address (%llu KiB)", (unsigned long long)((size + 1023) >> 10),
                  b->kernel_need >> 10, (unsigned long long)(top >> 10));
    } else {
        uint64_t addr = (top - size) & ~0xfffull;
        memcpy(l->ram + addr, f.data, (size_t)size);
        b->initrd_start = (uint32_t)addr;
        b->initrd_size = (uint32_t)size;
    }
    image_file_free(&f);
    return rc;
}

/* The BIOS memory map the setup code would have read with INT 15h
 * AX=E820h: RAM, the EBDA, the hole for VGA and option ROMs (absent from
 * the map), the BIOS ROM, RAM above 1 MiB. */
static void build_e820(uint8_t *bp, uint64_t ram_size)
{
    struct {
        uint64_t start, end;
        uint32_t type;
    } map[] = {
        { 0, EBDA_START, E820_RAM },
        { EBDA_START, LOW_RAM_END, E820_RESERVED },
        { BIOS_ROM_START, HIGH_RAM_START, E820_RESERVED },
        { HIGH_RAM_START, ram_size, E820_RAM },
    };
    unsigned n = 0;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && n < BP_E820_MAX; i++) {
        uint64_t end = map[i].end;
        if (map[i].type == E820_RAM && end > ram_size)
            end = ram_size;
        if (end <= map[i].start)
            continue;
        uint8_t *e = bp + BP_E820_TABLE + 20 * n++;
        put_le64(e, map[i].start);
        put_le64(e + 8, end - map[i].start);
        put_le32(e + 16, map[i].type);
    }
    bp[BP_E820_ENTRIES] = (uint8_t)n;
}

int linux_e820_add(uint8_t *ram, const struct linux_boot *b, uint64_t start, uint64_t len,
                   uint32_t type)
{
    uint8_t *bp = ram + b->boot_params;
    unsigned n = bp[BP_E820_ENTRIES];
    if (len == 0 || start + len < start || n >= BP_E820_MAX)
        return -1;
    unsigned at = n;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *e = bp + BP_E820_TABLE + 20 * i;
        uint64_t s = get_le64(e), l = get_le64(e + 8);
        if (start < s + l && s < start + len)
            return -1;
        if (at == n && start < s)
            at = i;
    }
    uint8_t *e = bp + BP_E820_TABLE + 20 * at;
    memmove(e + 20, e, 20 * (n - at));
    put_le64(e, start);
    put_le64(e + 8, len);
    put_le32(e + 16, type);
    bp[BP_E820_ENTRIES] = (uint8_t)(n + 1);
    return 0;
}

void linux_set_acpi_rsdp(uint8_t *ram, const struct linux_boot *b, uint64_t rsdp)
{
    put_le64(ram + b->boot_params + BP_ACPI_RSDP_ADDR, rsdp);
}

/* A flat 4 GiB descriptor: base 0, limit FFFFFh in 4 KiB units, 32-bit. */
static void put_flat_desc(uint8_t *d, uint8_t access)
{
    put_le16(d, 0xffff);     /* limit 15:0 */
    put_le16(d + 2, 0);      /* base 15:0 */
    d[4] = 0;             /* base 23:16 */
    d[5] = access;        /* P, DPL 0, S, type */
    d[6] = 0xcf;          /* G, D/B, limit 19:16 */
    d[7] = 0;             /* base 31:24 */
}

/*
 * vid_mode from the command line's "vga=" (boot.rst, "Special command line
 * options": a boot loader's option, read by the setup code before the
 * kernel sees the line): "normal" FFFFh, "ext" FFFEh, "ask" FFFDh, or a
 * number in C notation; absent or not a 16-bit number: "normal" (a
 * kernel built with "ask" would otherwise wait at a menu).
 */
static uint16_t vga_option(const char *cmdline)
{
    static const struct { const char *name; uint16_t mode; } names[] = {
        { "normal", 0xffff }, { "ext", 0xfffe }, { "ask", 0xfffd },
    };
    const char *v = NULL;
    for (const char *p = cmdline; (p = strstr(p, "vga=")); p++)
        if (p == cmdline || p[-1] == ' ')
            v = p + 4; /* the last one counts, as the kernel's own options */
    if (!v)
        return 0xffff;
    size_t len = strcspn(v, " ");
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (len == strlen(names[i].name) && !strncmp(v, names[i].name, len))
            return names[i].mode;
    char *end;
    unsigned long mode = strtoul(v, &end, 0);
    if (end != v + len || len == 0 || mode > 0xffff)
        return 0xffff;
    return (uint16_t)mode;
}

/*
 * The 32-bit protocol enters the protected-mode code itself, so its entry
 * must be in it, and the protocol needs 2.04's fields. An image whose
 * code32_start points elsewhere (iPXE's ipxe.lkrn has 0) or an older one
 * (SYSLINUX's memdisk, 2.03) starts from its real-mode setup code, run
 * with the BIOS's services (QEMU does so for every image): jumping to
 * code32_start ran whatever lay there (ipxe.lkrn: #UD at 6010h, then a
 * triple fault). So does a kernel asked for a video mode ("vga=" other
 * than "normal"): the setup code sets it through the BIOS's VBE.
 */
static int choose_protocol(struct loader *l, struct hdr *h, const char *cmdline)
{
    h->real_mode = h->version < LINUX_PROTO_MIN || h->code32_start < LINUX_HIGH_LOAD ||
                   h->code32_start - LINUX_HIGH_LOAD >= h->pm_size ||
                   vga_option(cmdline) != 0xffff;
    if (h->real_mode && h->setup_size > LINUX_SETUP_HEAP_END)
        return fail(l, "-kernel", l->kpath,
                    "setup code of %u bytes: at most %u fit below its heap", h->setup_size,
                    LINUX_SETUP_HEAP_END);
    return 0;
}

/*
 * The 16-bit protocol's loader part (boot.rst, "Loading the rest of the
 * kernel"): the whole real-mode part (boot sector and setup) at
 * LINUX_SETUP_ADDR, with what a loader writes into its header: loader
 * type, CAN_USE_HEAP and heap_end_ptr, cmd_line_ptr, the initrd, and
 * vid_mode from "vga=". The setup code builds the zero page itself from
 * the BIOS.
 */
static void load_setup16(uint8_t *ram, const uint8_t *img, const struct hdr *h,
                         const char *cmdline, size_t cmd_len, struct linux_boot *out)
{
    uint8_t *setup = ram + LINUX_SETUP_ADDR;
    memcpy(setup, img, h->setup_size);
    setup[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
    setup[HDR_LOADFLAGS] = (uint8_t)(h->loadflags | CAN_USE_HEAP);
    put_le16(setup + HDR_HEAP_END_PTR, LINUX_SETUP_HEAP_END);
    put_le16(setup + HDR_VID_MODE, vga_option(cmdline));
    put_le32(setup + HDR_RAMDISK_IMAGE, out->initrd_start);
    put_le32(setup + HDR_RAMDISK_SIZE, out->initrd_size);
    memcpy(ram + LINUX_SETUP_CMDLINE, cmdline, cmd_len + 1);
    put_le32(setup + HDR_CMD_LINE_PTR, LINUX_SETUP_CMDLINE);
    out->real_mode_setup = true;
    out->entry = LINUX_SETUP_ADDR + 0x200; /* 1020:0000 */
    out->cmdline = LINUX_SETUP_CMDLINE;
}

bool linux_runs_setup_file(const char *path, const char *cmdline)
{
    uint8_t buf[KERNEL_HEAD];
    long size, n = read_head(path, buf, &size);
    if (n < 0)
        return false;
    char err[HW_ERR_MAX];
    struct loader l = { .kpath = path, .err = err, .errlen = sizeof(err) };
    struct hdr h;
    /* parse_header reads no further than the header, within 1 KiB. */
    return linux_is_bzimage(buf, (size_t)n) && parse_header(&l, buf, (size_t)size, &h) == 0 &&
           choose_protocol(&l, &h, cmdline ? cmdline : "") == 0 && h.real_mode;
}

int linux_load(uint8_t *ram, uint64_t ram_size, const char *kernel, const char *initrd,
               const char *cmdline, struct linux_boot *out, char *err, size_t errlen)
{
    struct loader l = { .kpath = kernel, .ram = ram, .ram_size = ram_size,
                        .initrd_top = ram_size, .err = err, .errlen = errlen };
    memset(out, 0, sizeof(*out));
    if (!cmdline)
        cmdline = "";
    if (ram_size < HIGH_RAM_START)
        return fail(&l, "-kernel", kernel, "Linux needs more than 1 MiB of RAM");

    char why[HW_ERR_MAX];
    struct image_file f;
    if (image_file_read(kernel, KERNEL_FILE_MAX, &f, why, sizeof(why)) != 0)
        return fail(&l, "-kernel", kernel, "%s", why);
    struct hdr h;
    int rc = parse_header(&l, f.data, f.size, &h);
    if (rc == 0)
        rc = choose_protocol(&l, &h, cmdline);
    /* cmdline_size is the longest line the kernel takes, NUL excluded. */
    size_t cmd_len = strlen(cmdline);
    if (rc == 0) {
        uint32_t cmd_room = h.real_mode ? LINUX_SETUP_CMDLINE_END - LINUX_SETUP_CMDLINE
                                        : LINUX_CMDLINE_END - LINUX_CMDLINE_ADDR;
        uint32_t cmd_max = h.cmdline_size;
        if (cmd_max > cmd_room - 1)
            cmd_max = cmd_room - 1;
        if (cmd_len > cmd_max)
            rc = fail(&l, "-append", NULL,
                      "command line of %zu bytes; the kernel takes at most %u", cmd_len,
                      cmd_max);
    }
    if (rc == 0 && h.real_mode)
        l.initrd_top = ram_size - LINUX_SETUP_RAM_TOP_RESERVED;
    if (rc == 0)
        rc = load_kernel(&l, f.data, f.size, &h, out);
    if (rc == 0 && initrd)
        rc = load_initrd(&l, initrd, &h, out);
    if (rc != 0) {
        image_file_free(&f);
        return rc;
    }
    out->version = h.version;
    if (h.real_mode) {
        load_setup16(ram, f.data, &h, cmdline, cmd_len, out);
        image_file_free(&f);
        return 0;
    }

    /* The zero page: cleared (so that the sentinel at 1EFh is 0 and the
     * kernel trusts every field), then the file's setup header. */
    uint8_t *bp = ram + LINUX_BOOT_PARAMS_ADDR;
    memset(bp, 0, BP_SIZE);
    memcpy(bp + BP_SETUP_HEADER, f.data + BP_SETUP_HEADER, h.hdr_end - BP_SETUP_HEADER);
    image_file_free(&f);

    /* What a boot loader writes into the header (boot.rst: "obligatory"
     * and "write" fields). */
    bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
    bp[HDR_LOADFLAGS] = (uint8_t)((h.loadflags | CAN_USE_HEAP) & ~KEEP_SEGMENTS);
    put_le16(bp + HDR_HEAP_END_PTR, HEAP_END_PTR);
    put_le16(bp + HDR_VID_MODE, 0xffff); /* "normal" (not asked: no real-mode setup runs) */
    put_le32(bp + HDR_CODE32_START, out->entry);
    put_le32(bp + HDR_RAMDISK_IMAGE, out->initrd_start);
    put_le32(bp + HDR_RAMDISK_SIZE, out->initrd_size);
    memcpy(ram + LINUX_CMDLINE_ADDR, cmdline, cmd_len + 1);
    put_le32(bp + HDR_CMD_LINE_PTR, LINUX_CMDLINE_ADDR);

    /* Memory: the E820 map, and the older sizes (KiB above 1 MiB). */
    build_e820(bp, ram_size);
    uint64_t ext_k = (ram_size - HIGH_RAM_START) >> 10;
    put_le32(bp + BP_ALT_MEM_K, ext_k > UINT32_MAX ? UINT32_MAX : (uint32_t)ext_k);
    put_le16(bp + BP_SCREEN_INFO + SI_EXT_MEM_K, ext_k > 0xffff ? 0xffff : (uint16_t)ext_k);

    /* The GDT of the 32-bit boot protocol: __BOOT_CS at 10h (execute/
     * read, accessed) and __BOOT_DS at 18h (read/write, accessed). */
    uint8_t *gdt = ram + LINUX_GDT_ADDR;
    memset(gdt, 0, 32);
    put_flat_desc(gdt + LINUX_BOOT_CS, 0x9b);
    put_flat_desc(gdt + LINUX_BOOT_DS, 0x93);

    out->boot_params = LINUX_BOOT_PARAMS_ADDR;
    out->gdt = LINUX_GDT_ADDR;
    out->cmdline = LINUX_CMDLINE_ADDR;
    return 0;
}

void linux_set_vga_text(uint8_t *ram, const struct linux_boot *b, bool on, unsigned cursor_row)
{
    uint8_t *si = ram + b->boot_params + BP_SCREEN_INFO;
    uint16_t ext_k = get_le16(si + SI_EXT_MEM_K);
    memset(si, 0, SI_SIZE);
    put_le16(si + SI_EXT_MEM_K, ext_k);
    if (!on)
        return; /* orig_video_lines = cols = 0: vgacon stands down */
    /* What the setup code's store_mode_params() records for BIOS mode 3
     * (arch/x86/boot/video.c): colour text, 80x25, 16-line font, VGA. */
    si[SI_ORIG_X] = 0;
    si[SI_ORIG_Y] = (uint8_t)(cursor_row < 25 ? cursor_row : 24);
    put_le16(si + SI_ORIG_VIDEO_PAGE, 0);
    si[SI_ORIG_VIDEO_MODE] = 3;
    si[SI_ORIG_VIDEO_COLS] = 80;
    put_le16(si + SI_ORIG_VIDEO_EGA_BX, 0x0003); /* BH 0 colour, BL 3: 256 KiB */
    si[SI_ORIG_VIDEO_LINES] = 25;
    si[SI_ORIG_VIDEO_ISVGA] = 1;
    put_le16(si + SI_ORIG_VIDEO_POINTS, 16);
}

/* The descriptors' cached forms, as the GDT at LINUX_GDT_ADDR holds them. */
#define AR_FLAT_CODE (AR_P | AR_S | AR_T_CODE | AR_T_READABLE | AR_T_ACCESSED | AR_DB | AR_G)
#define AR_FLAT_DATA (AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED | AR_DB | AR_G)

void linux_enter(struct cpu *cpu, const struct linux_boot *b)
{
    for (int s = 0; s < SEG_COUNT; s++)
        cpu->seg[s] = (struct seg){ .sel = LINUX_BOOT_DS, .base = 0, .limit = 0xffffffffu,
                                    .ar = AR_FLAT_DATA };
    cpu->seg[SEG_CS] = (struct seg){ .sel = LINUX_BOOT_CS, .base = 0, .limit = 0xffffffffu,
                                     .ar = AR_FLAT_CODE };
    cpu->gdtr = (struct dtr){ .base = b->gdt, .limit = 4 * 8 - 1 };
    /* cpu_mode_changed() is private to cpu/: the fields it derives from
     * CS and SS are set here as struct cpu documents them. */
    cpu->cpl = 0;
    cpu->code32 = 1;
    cpu->stack32 = 1;
    /* Protected mode, paging off (the kernel turns it on itself). */
    cpu->cr0 = CR0_PE | CR0_ET;
    cpu->cr4 = 0;
    cpu->eflags = FL_FIXED1; /* IF = 0: "interrupts must be disabled" */
    cpu->cc.op = CC_EAGER;
    for (int r = 0; r < 8; r++)
        cpu->regs[r] = 0; /* EBX, EBP, EDI "must be zero" */
    cpu->regs[R_ESI] = b->boot_params;
    /* No stack is promised; the decompressor makes its own from the zero
     * page's scratch field. This one is below the zero page, above the GDT. */
    cpu->regs[R_ESP] = b->boot_params;
    cpu->eip = b->entry;
    cpu->next_eip = b->entry;
    cpu->halted = 0;
    tlb_flush_all(&cpu->tlb);
    if (cpu->bus.mem)
        phys_set_a20(cpu->bus.mem, true);
}
