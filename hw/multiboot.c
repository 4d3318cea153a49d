/*
 * hw/multiboot.c — direct boot of a Multiboot (version 0.6.96) kernel:
 * find the header, load the image (an ELF32 i386 executable by its
 * program headers, or a raw image described by the header's address
 * fields), build the multiboot information (at 9000h, or after the
 * image), and put the CPU in the state the specification's section 3.2
 * promises.
 *
 * Every number read from the file is checked before it is used: a bad
 * kernel ends in a message naming the file, never in a crash.
 */
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw.h"
#include "hw/le_bytes.h"

/* Header flags (spec 3.1.2). Bits 0-15 are requirements: a loader that
 * does not understand one must refuse the kernel. */
#define MBH_PAGE_ALIGN (1u << 0)   /* modules page-aligned: none are loaded */
#define MBH_MEMORY_INFO (1u << 1)  /* mem_* fields wanted: always given */
#define MBH_VIDEO_MODE (1u << 2)   /* a video mode table: no display yet */
#define MBH_AOUT_KLUDGE (1u << 16) /* load by the header's address fields */
#define MBH_REQUIRED_MASK 0x0000ffffu
#define MBH_UNDERSTOOD (MBH_PAGE_ALIGN | MBH_MEMORY_INFO)

/* Information flags (spec 3.3). */
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

/* Offsets in the information structure (spec 3.3). */
#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_CMDLINE_PTR 16
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_LOADER_NAME_PTR 64
#define MBI_SIZE 128 /* 88 bytes defined (through the VBE fields), rounded */

/* Where the pieces go, relative to the page after the kernel. */
#define MBI_MMAP_OFF 128
#define MBI_MMAP_ENTRY 24 /* size field (4) + base (8) + length (8) + type (4) */
#define MBI_NAME_OFF 224
#define MBI_CMDLINE_OFF 256

#define MMAP_AVAILABLE 1
#define MMAP_RESERVED 2

#define LOW_RAM_END 0xa0000u   /* 640 KiB: conventional memory ends */
#define HIGH_RAM_START 0x100000u

#define KERNEL_FILE_MAX (1u << 30)

static const char loader_name[] = "Glass";

/* The header as found in the file. */
struct mb_header {
    uint32_t offset; /* file offset of the magic */
    uint32_t flags;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* The loader's working state: the file and the error buffer. */
struct loader {
    const char *path;
    struct image_file file;
    const uint8_t *img; /* file.data, file.size */
    size_t size;
    uint8_t *ram;
    uint64_t ram_size;
    char *err;
    size_t errlen;
};

static int fail(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct loader *l, const char *fmt, ...)
{
    char msg[HW_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(l->err, l->errlen, "-kernel %s: %s", l->path, msg);
    return -1;
}

static int read_file(struct loader *l)
{
    char why[HW_ERR_MAX];
    if (image_file_read(l->path, KERNEL_FILE_MAX, &l->file, why, sizeof(why)) != 0)
        return fail(l, "%s", why);
    l->img = l->file.data;
    l->size = l->file.size;
    return 0;
}

/* The header: 32-bit aligned, wholly within the first 8192 bytes, magic
 * then flags then a checksum making the three sum to zero (spec 3.1.1). */
static int find_header(struct loader *l, struct mb_header *h)
{
    bool bad_checksum = false;
    for (uint32_t off = 0; off + 12 <= MULTIBOOT_SEARCH && off + 12 <= l->size; off += 4) {
        const uint8_t *p = l->img + off;
        if (get_le32(p) != MULTIBOOT_HEADER_MAGIC)
            continue;
        if (get_le32(p) + get_le32(p + 4) + get_le32(p + 8) != 0) {
            bad_checksum = true;
            continue;
        }
        memset(h, 0, sizeof(*h));
        h->offset = off;
        h->flags = get_le32(p + 4);
        if (h->flags & MBH_AOUT_KLUDGE) {
            if (off + 32 > l->size)
                return fail(l, "multiboot header truncated (address fields missing)");
            h->header_addr = get_le32(p + 12);
            h->load_addr = get_le32(p + 16);
            h->load_end_addr = get_le32(p + 20);
            h->bss_end_addr = get_le32(p + 24);
            h->entry_addr = get_le32(p + 28);
        }
        return 0;
    }
    if (bad_checksum)
        return fail(l, "multiboot header has a bad checksum");
    if (l->size >= 0x206 && memcmp(l->img + 0x202, "HdrS", 4) == 0)
        return fail(l, "a Linux bzImage; Glass boots only multiboot kernels so far");
    return fail(l, "no multiboot header in the first %u bytes", MULTIBOOT_SEARCH);
}

/* Is [addr, addr+len) inside RAM? (64-bit sums: no wrap-around.) */
static bool in_ram(const struct loader *l, uint64_t addr, uint64_t len)
{
    return addr <= l->ram_size && len <= l->ram_size - addr;
}

/* Raw image loading by the header's address fields (flag 16, spec 3.1.3). */
static int load_by_header(struct loader *l, const struct mb_header *h,
                          struct multiboot_boot *boot)
{
    if (h->load_addr > h->header_addr)
        return fail(l, "multiboot load_addr %#x is above header_addr %#x", h->load_addr,
                    h->header_addr);
    uint32_t before = h->header_addr - h->load_addr; /* bytes loaded before the header */
    if (before > h->offset)
        return fail(l, "multiboot header_addr - load_addr (%#x) reaches before the file start",
                    before);
    uint64_t file_off = h->offset - before;
    uint64_t load_size;
    if (h->load_end_addr == 0) {
        load_size = l->size - file_off;
    } else {
        if (h->load_end_addr < h->load_addr)
            return fail(l, "multiboot load_end_addr %#x is below load_addr %#x",
                        h->load_end_addr, h->load_addr);
        load_size = (uint64_t)h->load_end_addr - h->load_addr;
        if (load_size > l->size - file_off)
            return fail(l, "file truncated: the header says %llu bytes to load, %llu are there",
                        (unsigned long long)load_size,
                        (unsigned long long)(l->size - file_off));
    }
    uint64_t end = (uint64_t)h->load_addr + load_size;
    uint64_t bss_end = end;
    if (h->bss_end_addr != 0) {
        if (h->bss_end_addr < end)
            return fail(l, "multiboot bss_end_addr %#x is below the loaded image's end %#llx",
                        h->bss_end_addr, (unsigned long long)end);
        bss_end = h->bss_end_addr;
    }
    if (!in_ram(l, h->load_addr, bss_end - h->load_addr))
        return fail(l, "image at %#x-%#llx lies outside RAM (%llu KiB)", h->load_addr,
                    (unsigned long long)bss_end, (unsigned long long)(l->ram_size >> 10));
    memcpy(l->ram + h->load_addr, l->img + file_off, (size_t)load_size);
    memset(l->ram + end, 0, (size_t)(bss_end - end));
    boot->entry = h->entry_addr;
    boot->load_start = h->load_addr;
    boot->load_end = (uint32_t)bss_end;
    return 0;
}

/* The ELF identification and header checks (System V ABI, i386 supplement). */
static int check_elf_header(struct loader *l, Elf *elf, GElf_Ehdr *eh)
{
    if (elf_kind(elf) != ELF_K_ELF)
        return fail(l, "not an ELF file, and the multiboot header has no address fields "
                       "(flag 16)");
    if (!gelf_getehdr(elf, eh))
        return fail(l, "corrupt ELF header (%s)", elf_errmsg(-1));
    if (eh->e_ident[EI_CLASS] == ELFCLASS64)
        return fail(l, "a 64-bit ELF; Glass boots 32-bit (i386) kernels");
    if (eh->e_ident[EI_CLASS] != ELFCLASS32 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
        return fail(l, "not a little-endian 32-bit ELF");
    if (eh->e_machine != EM_386)
        return fail(l, "ELF for machine %u, not i386", (unsigned)eh->e_machine);
    if (eh->e_type != ET_EXEC)
        return fail(l, "not an ELF executable (e_type %u)", (unsigned)eh->e_type);
    return 0;
}

/* Loads the PT_LOAD segments at their physical addresses (p_paddr, as
 * GRUB and QEMU do) and turns a virtual entry point into a physical one
 * when it falls in a segment whose addresses differ. */
static int load_elf(struct loader *l, struct multiboot_boot *boot)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        return fail(l, "libelf is unusable (%s)", elf_errmsg(-1));
    Elf *elf = elf_memory((char *)l->img, l->size);
    if (!elf)
        return fail(l, "cannot read as ELF (%s)", elf_errmsg(-1));
    GElf_Ehdr eh;
    memset(&eh, 0, sizeof(eh));
    int rc = check_elf_header(l, elf, &eh);
    size_t phnum = 0;
    if (rc == 0 && elf_getphdrnum(elf, &phnum) != 0)
        rc = fail(l, "corrupt program headers (%s)", elf_errmsg(-1));
    if (rc == 0 && ((uint64_t)eh.e_phoff > l->size ||
                    (uint64_t)phnum * eh.e_phentsize > l->size - eh.e_phoff))
        rc = fail(l, "file truncated: program headers lie past its end");

    uint64_t lo = UINT64_MAX, hi = 0;
    uint64_t entry = eh.e_entry;
    bool entry_mapped = false;
    for (size_t i = 0; rc == 0 && i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph)) {
            rc = fail(l, "corrupt program header %zu (%s)", i, elf_errmsg(-1));
            break;
        }
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_filesz > ph.p_memsz) {
            rc = fail(l, "segment %zu: file size %#llx exceeds its memory size %#llx", i,
                      (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz);
        } else if (ph.p_offset > l->size || ph.p_filesz > l->size - ph.p_offset) {
            rc = fail(l, "file truncated: segment %zu ends past the end of the file", i);
        } else if (!in_ram(l, ph.p_paddr, ph.p_memsz)) {
            rc = fail(l, "segment %zu at %#llx-%#llx lies outside RAM (%llu KiB)", i,
                      (unsigned long long)ph.p_paddr,
                      (unsigned long long)(ph.p_paddr + ph.p_memsz),
                      (unsigned long long)(l->ram_size >> 10));
        } else {
            memcpy(l->ram + ph.p_paddr, l->img + ph.p_offset, (size_t)ph.p_filesz);
            memset(l->ram + ph.p_paddr + ph.p_filesz, 0, (size_t)(ph.p_memsz - ph.p_filesz));
            if (ph.p_paddr < lo)
                lo = ph.p_paddr;
            if (ph.p_paddr + ph.p_memsz > hi)
                hi = ph.p_paddr + ph.p_memsz;
            if (!entry_mapped && eh.e_entry >= ph.p_vaddr &&
                eh.e_entry - ph.p_vaddr < ph.p_memsz) {
                entry = eh.e_entry - ph.p_vaddr + ph.p_paddr;
                entry_mapped = true;
            }
        }
    }
    elf_end(elf);
    if (rc != 0)
        return rc;
    if (hi == 0)
        return fail(l, "no loadable segment");
    boot->entry = (uint32_t)entry;
    boot->load_start = (uint32_t)lo;
    boot->load_end = (uint32_t)hi;
    return 0;
}

/* Where the information goes: in conventional memory, as GRUB puts it,
 * because kernels often take the memory right after their image for
 * their own use before they read the information. */
#define MBI_LOW_BASE 0x9000u

/* Picks the information's place: low memory unless the image or RAM's
 * end is in the way, else the page after the image. */
static int place_info(struct loader *l, const struct multiboot_boot *boot, uint64_t need,
                      uint64_t *base)
{
    uint64_t low_end = l->ram_size < LOW_RAM_END ? l->ram_size : LOW_RAM_END;
    bool overlaps = MBI_LOW_BASE < boot->load_end && boot->load_start < MBI_LOW_BASE + need;
    if (MBI_LOW_BASE + need <= low_end && !overlaps) {
        *base = MBI_LOW_BASE;
        return 0;
    }
    *base = ((uint64_t)boot->load_end + 4095) & ~4095ull;
    if (!in_ram(l, *base, need))
        return fail(l, "no room in RAM for the multiboot information");
    return 0;
}

/*
 * The multiboot information: the structure, the memory map, the loader's
 * name and the command line. The map tells the truth about a PC even
 * though the board fills the legacy hole with RAM for now: 640 KiB of
 * conventional memory, the reserved hole up to 1 MiB, then RAM.
 */
static int build_info(struct loader *l, const char *append, struct multiboot_boot *boot)
{
    size_t cmd_len = strlen(l->path) + (append ? 1 + strlen(append) : 0);
    uint64_t need = MBI_CMDLINE_OFF + cmd_len + 1;
    uint64_t base;
    if (place_info(l, boot, need, &base) != 0)
        return -1;
    uint8_t *info = l->ram + base;
    memset(info, 0, (size_t)need);

    uint64_t low = l->ram_size < LOW_RAM_END ? l->ram_size : LOW_RAM_END;
    uint64_t high = l->ram_size > HIGH_RAM_START ? l->ram_size - HIGH_RAM_START : 0;
    put_le32(info + MBI_FLAGS, MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME);
    put_le32(info + MBI_MEM_LOWER, (uint32_t)(low >> 10));
    put_le32(info + MBI_MEM_UPPER, (uint32_t)(high >> 10));

    const struct {
        uint64_t base, len;
        uint32_t type;
    } map[] = {
        { 0, low, MMAP_AVAILABLE },
        { LOW_RAM_END, HIGH_RAM_START - LOW_RAM_END, MMAP_RESERVED },
        { HIGH_RAM_START, high, MMAP_AVAILABLE },
    };
    uint8_t *e = info + MBI_MMAP_OFF;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].len == 0)
            continue;
        put_le32(e, MBI_MMAP_ENTRY - 4); /* size excludes the size field itself */
        put_le64(e + 4, map[i].base);
        put_le64(e + 12, map[i].len);
        put_le32(e + 20, map[i].type);
        e += MBI_MMAP_ENTRY;
    }
    put_le32(info + MBI_MMAP_ADDR, (uint32_t)(base + MBI_MMAP_OFF));
    put_le32(info + MBI_MMAP_LENGTH, (uint32_t)(e - (info + MBI_MMAP_OFF)));

    memcpy(info + MBI_NAME_OFF, loader_name, sizeof(loader_name));
    put_le32(info + MBI_LOADER_NAME_PTR, (uint32_t)(base + MBI_NAME_OFF));

    /* QEMU's convention: the kernel's file name, then the -append text. */
    char *cmd = (char *)info + MBI_CMDLINE_OFF;
    if (append)
        snprintf(cmd, cmd_len + 1, "%s %s", l->path, append);
    else
        snprintf(cmd, cmd_len + 1, "%s", l->path);
    put_le32(info + MBI_CMDLINE_PTR, (uint32_t)(base + MBI_CMDLINE_OFF));

    boot->info_addr = (uint32_t)base;
    return 0;
}

int multiboot_load(uint8_t *ram, uint64_t ram_size, const char *path, const char *append,
                   struct multiboot_boot *boot, char *err, size_t errlen)
{
    struct loader l = { .path = path, .ram = ram, .ram_size = ram_size, .err = err,
                        .errlen = errlen };
    struct mb_header h;
    memset(boot, 0, sizeof(*boot));
    int rc = read_file(&l);
    if (rc == 0)
        rc = find_header(&l, &h);
    if (rc == 0 && (h.flags & MBH_REQUIRED_MASK & ~MBH_UNDERSTOOD)) {
        if (h.flags & MBH_VIDEO_MODE)
            rc = fail(&l, "the kernel requires a video mode (multiboot flag 2); Glass has no "
                          "display yet");
        else
            rc = fail(&l, "the kernel requires multiboot features Glass does not know "
                          "(flags %#x)", h.flags & MBH_REQUIRED_MASK & ~MBH_UNDERSTOOD);
    }
    if (rc == 0)
        rc = (h.flags & MBH_AOUT_KLUDGE) ? load_by_header(&l, &h, boot) : load_elf(&l, boot);
    if (rc == 0 && !in_ram(&l, boot->entry, 1))
        rc = fail(&l, "entry point %#x lies outside RAM", boot->entry);
    if (rc == 0)
        rc = build_info(&l, append, boot);
    image_file_free(&l.file);
    return rc;
}

/* Flat 4 GiB segments, as the spec (3.2) requires of CS and the data
 * registers: base 0, limit FFFFFFFFh, 32-bit, present, accessed. The
 * selectors are undefined by the spec; these are those of a GDT with
 * code at 08h and data at 10h, the usual layout. */
#define MB_CODE_SEL 0x08
#define MB_DATA_SEL 0x10
#define AR_FLAT_CODE (AR_P | AR_S | AR_T_CODE | AR_T_READABLE | AR_T_ACCESSED | AR_DB | AR_G)
#define AR_FLAT_DATA (AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED | AR_DB | AR_G)

void multiboot_enter(struct cpu *cpu, const struct multiboot_boot *boot)
{
    for (int s = 0; s < SEG_COUNT; s++)
        cpu->seg[s] = (struct seg){ .sel = MB_DATA_SEL, .base = 0, .limit = 0xffffffffu,
                                    .ar = AR_FLAT_DATA };
    cpu->seg[SEG_CS] = (struct seg){ .sel = MB_CODE_SEL, .base = 0, .limit = 0xffffffffu,
                                     .ar = AR_FLAT_CODE };
    /* cpu_mode_changed() is private to cpu/: the fields it derives from
     * CS and SS are set here as struct cpu documents them. */
    cpu->cpl = 0;
    cpu->code32 = 1;
    cpu->stack32 = 1;
    /* Protected mode without paging; ET is hardwired on P6. Caching is
     * enabled (CD = NW = 0) as any loader that ran before leaves it. */
    cpu->cr0 = CR0_PE | CR0_ET;
    cpu->eflags = FL_FIXED1; /* IF = 0, VM = 0, DF = 0 */
    cpu->cc.op = CC_EAGER;
    cpu->regs[R_EAX] = MULTIBOOT_BOOT_MAGIC;
    cpu->regs[R_EBX] = boot->info_addr;
    cpu->eip = boot->entry;
    cpu->next_eip = boot->entry;
    cpu->halted = 0;
    tlb_flush_all(&cpu->tlb);
    /* "A20 gate must be enabled" (3.2). */
    if (cpu->bus.mem)
        phys_set_a20(cpu->bus.mem, true);
}
