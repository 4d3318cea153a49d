/*
 * test_multiboot.c — the multiboot v1 loader (hw/multiboot.c) on ELF and
 * raw (a.out kludge) kernels written by the test, good and bad, and the
 * machine state it leaves in the CPU.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, unlink */

#include <criterion/criterion.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/hw.h"

#define MB_RAM_SIZE (4u << 20)
#define MB_FILE_MAX 16384

static uint8_t *mb_ram;
static char mb_path[64];
static char mb_err[HW_ERR_MAX];

static void mb_setup(void)
{
    mb_ram = malloc(MB_RAM_SIZE);
    cr_assert_not_null(mb_ram);
    memset(mb_ram, 0xaa, MB_RAM_SIZE); /* so that zero-filled bss shows */
    strcpy(mb_path, "/tmp/glass-mb-XXXXXX");
    int fd = mkstemp(mb_path);
    cr_assert(fd >= 0);
    close(fd);
}

static void mb_teardown(void)
{
    unlink(mb_path);
    free(mb_ram);
}

static void mb_write_file(const void *data, size_t len)
{
    FILE *f = fopen(mb_path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static uint32_t mb_get32(uint32_t addr)
{
    const uint8_t *p = mb_ram + addr;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t mb_get64(uint32_t addr)
{
    return mb_get32(addr) | (uint64_t)mb_get32(addr + 4) << 32;
}

/* A multiboot header at `p`: magic, flags, checksum (the three sum to 0). */
static void mb_put_header(uint8_t *p, uint32_t flags)
{
    uint32_t h[3] = { MULTIBOOT_HEADER_MAGIC, flags, -(MULTIBOOT_HEADER_MAGIC + flags) };
    memcpy(p, h, sizeof(h));
}

/* One PT_LOAD segment of a test ELF. */
struct mb_seg {
    uint32_t vaddr, paddr, filesz, memsz;
    uint8_t fill; /* the segment's file bytes */
};

/* Builds an ELF32 i386 executable: header, program headers, then each
 * segment's bytes page-aligned in the file; a multiboot header (flags
 * `mb_flags`) is put at the start of the first segment. Returns its size. */
static size_t mb_build_elf(uint8_t *buf, uint32_t entry, const struct mb_seg *segs, int n,
                           uint32_t mb_flags)
{
    memset(buf, 0, MB_FILE_MAX);
    Elf32_Ehdr *eh = (Elf32_Ehdr *)buf;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS32;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_386;
    eh->e_version = EV_CURRENT;
    eh->e_entry = entry;
    eh->e_phoff = sizeof(Elf32_Ehdr);
    eh->e_ehsize = sizeof(Elf32_Ehdr);
    eh->e_phentsize = sizeof(Elf32_Phdr);
    eh->e_phnum = (Elf32_Half)n;
    uint32_t off = 0x1000;
    for (int i = 0; i < n; i++) {
        Elf32_Phdr *ph = (Elf32_Phdr *)(buf + sizeof(Elf32_Ehdr)) + i;
        ph->p_type = PT_LOAD;
        ph->p_offset = off;
        ph->p_vaddr = segs[i].vaddr;
        ph->p_paddr = segs[i].paddr;
        ph->p_filesz = segs[i].filesz;
        ph->p_memsz = segs[i].memsz;
        ph->p_flags = PF_R | PF_X;
        ph->p_align = 0x1000;
        cr_assert(off + segs[i].filesz <= MB_FILE_MAX);
        memset(buf + off, segs[i].fill, segs[i].filesz);
        off += (segs[i].filesz + 0xfff) & ~0xfffu;
    }
    mb_put_header(buf + 0x1000, mb_flags);
    return off;
}

static int mb_load(const char *append, struct multiboot_boot *boot)
{
    mb_err[0] = '\0';
    return multiboot_load(mb_ram, MB_RAM_SIZE, mb_path, append, boot, mb_err, sizeof(mb_err));
}

/* The load must fail with a message naming the file and saying `why`. */
static void mb_expect_error(const char *why)
{
    struct multiboot_boot boot;
    cr_assert_eq(mb_load(NULL, &boot), -1);
    cr_assert(strstr(mb_err, mb_path), "no file name in: %s", mb_err);
    cr_assert(strstr(mb_err, why), "'%s' not in: %s", why, mb_err);
}

TestSuite(multiboot, .init = mb_setup, .fini = mb_teardown);

Test(multiboot, elf_segments_and_bss)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg segs[] = {
        { 0x100000, 0x100000, 0x40, 0x1000, 0x11 },
        { 0x102000, 0x102000, 0x10, 0x30, 0x22 },
    };
    mb_write_file(buf, mb_build_elf(buf, 0x10000c, segs, 2, 0x3));
    struct multiboot_boot boot;
    cr_assert_eq(mb_load(NULL, &boot), 0, "%s", mb_err);
    cr_assert_eq(boot.entry, 0x10000c);
    cr_assert_eq(boot.load_start, 0x100000);
    cr_assert_eq(boot.load_end, 0x102030);
    /* File bytes, then zeros to memsz; untouched memory after. */
    cr_assert_eq(mb_get32(0x100000), MULTIBOOT_HEADER_MAGIC);
    cr_assert_eq(mb_ram[0x10000c], 0x11);
    cr_assert_eq(mb_ram[0x10003f], 0x11);
    cr_assert_eq(mb_ram[0x100040], 0);
    cr_assert_eq(mb_ram[0x100fff], 0);
    cr_assert_eq(mb_ram[0x101000], 0xaa);
    cr_assert_eq(mb_ram[0x10200f], 0x22);
    cr_assert_eq(mb_ram[0x102010], 0);
    cr_assert_eq(mb_ram[0x10202f], 0);
}

Test(multiboot, information_structure)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x2345, 0x90 };
    mb_write_file(buf, mb_build_elf(buf, 0x100010, &seg, 1, 0x2));
    struct multiboot_boot boot;
    cr_assert_eq(mb_load("console=ttyS0 root=/dev/sda", &boot), 0, "%s", mb_err);
    uint32_t mbi = boot.info_addr;
    /* In conventional memory, away from the image. */
    cr_assert_eq(mbi, 0x9000);
    uint32_t flags = mb_get32(mbi);
    cr_assert_eq(flags, (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9));
    cr_assert_eq(mb_get32(mbi + 4), 640);                          /* mem_lower, KiB */
    cr_assert_eq(mb_get32(mbi + 8), (MB_RAM_SIZE - 0x100000) >> 10); /* mem_upper */

    char want[128];
    snprintf(want, sizeof(want), "%s console=ttyS0 root=/dev/sda", mb_path);
    cr_assert_str_eq((char *)mb_ram + mb_get32(mbi + 16), want);
    cr_assert_str_eq((char *)mb_ram + mb_get32(mbi + 64), "Glass");

    /* Memory map: size field 20 (excluding itself), then base, length, type. */
    uint32_t len = mb_get32(mbi + 44), map = mb_get32(mbi + 48);
    cr_assert_eq(len, 3 * 24);
    const struct {
        uint64_t base, len;
        uint32_t type;
    } want_map[3] = { { 0, 0xa0000, 1 }, { 0xa0000, 0x60000, 2 },
                      { 0x100000, MB_RAM_SIZE - 0x100000, 1 } };
    for (int i = 0; i < 3; i++) {
        uint32_t e = map + 24 * (uint32_t)i;
        cr_assert_eq(mb_get32(e), 20);
        cr_assert_eq(mb_get64(e + 4), want_map[i].base, "entry %d", i);
        cr_assert_eq(mb_get64(e + 12), want_map[i].len, "entry %d", i);
        cr_assert_eq(mb_get32(e + 20), want_map[i].type, "entry %d", i);
    }
}

Test(multiboot, cmdline_without_append_is_the_file_name)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x100, 0x90 };
    mb_write_file(buf, mb_build_elf(buf, 0x100000, &seg, 1, 0));
    struct multiboot_boot boot;
    cr_assert_eq(mb_load(NULL, &boot), 0, "%s", mb_err);
    cr_assert_str_eq((char *)mb_ram + mb_get32(boot.info_addr + 16), mb_path);
}

Test(multiboot, higher_half_entry_becomes_physical)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0xc0100000u, 0x100000, 0x100, 0x100, 0x90 };
    mb_write_file(buf, mb_build_elf(buf, 0xc0100020u, &seg, 1, 0));
    struct multiboot_boot boot;
    cr_assert_eq(mb_load(NULL, &boot), 0, "%s", mb_err);
    cr_assert_eq(boot.entry, 0x100020);
}

/* A raw image with the a.out kludge (flag 16): header at file offset 8,
 * loaded from file offset 0 to 0x200000. */
static size_t mb_build_raw(uint8_t *buf, uint32_t load_addr, uint32_t load_end, uint32_t bss_end,
                           uint32_t entry)
{
    memset(buf, 0x5a, MB_FILE_MAX);
    uint32_t flags = 1u << 16;
    mb_put_header(buf + 8, flags);
    uint32_t fields[5] = { load_addr + 8, load_addr, load_end, bss_end, entry };
    memcpy(buf + 20, fields, sizeof(fields));
    return 0x300;
}

Test(multiboot, aout_kludge)
{
    static uint8_t buf[MB_FILE_MAX];
    mb_write_file(buf, mb_build_raw(buf, 0x200000, 0x200100, 0x200400, 0x200040));
    struct multiboot_boot boot;
    cr_assert_eq(mb_load(NULL, &boot), 0, "%s", mb_err);
    cr_assert_eq(boot.entry, 0x200040);
    cr_assert_eq(boot.load_start, 0x200000);
    cr_assert_eq(boot.load_end, 0x200400);
    cr_assert_eq(mb_get32(0x200008), MULTIBOOT_HEADER_MAGIC);
    cr_assert_eq(mb_ram[0x2000ff], 0x5a);
    cr_assert_eq(mb_ram[0x200100], 0); /* bss */
    cr_assert_eq(mb_ram[0x2003ff], 0);
    cr_assert_eq(mb_ram[0x200400], 0xaa);
    cr_assert_eq(boot.info_addr, 0x9000);
}

Test(multiboot, aout_kludge_load_to_end_of_file)
{
    static uint8_t buf[MB_FILE_MAX];
    mb_write_file(buf, mb_build_raw(buf, 0x200000, 0, 0, 0x200040));
    struct multiboot_boot boot;
    cr_assert_eq(mb_load(NULL, &boot), 0, "%s", mb_err);
    cr_assert_eq(boot.load_end, 0x200300);
    cr_assert_eq(mb_ram[0x2002ff], 0x5a);
    cr_assert_eq(mb_ram[0x200300], 0xaa);
}

Test(multiboot, missing_file)
{
    unlink(mb_path);
    mb_expect_error("No such file");
}

Test(multiboot, empty_file)
{
    mb_write_file("", 0);
    mb_expect_error("no multiboot header");
}

Test(multiboot, header_beyond_8k)
{
    static uint8_t buf[MB_FILE_MAX];
    memset(buf, 0, sizeof(buf));
    mb_put_header(buf + 8192, 0);
    mb_write_file(buf, sizeof(buf));
    mb_expect_error("no multiboot header in the first 8192 bytes");
}

Test(multiboot, bad_checksum)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x100, 0x90 };
    size_t n = mb_build_elf(buf, 0x100000, &seg, 1, 0);
    buf[0x1008] ^= 1;
    mb_write_file(buf, n);
    mb_expect_error("bad checksum");
}

Test(multiboot, linux_bzimage_named)
{
    static uint8_t buf[0x1000];
    memset(buf, 0, sizeof(buf));
    memcpy(buf + 0x202, "HdrS", 4);
    mb_write_file(buf, sizeof(buf));
    mb_expect_error("bzImage");
}

Test(multiboot, not_elf_without_kludge)
{
    static uint8_t buf[0x100];
    memset(buf, 0, sizeof(buf));
    mb_put_header(buf + 16, 0);
    mb_write_file(buf, sizeof(buf));
    mb_expect_error("not an ELF file");
}

Test(multiboot, elf64_refused)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x100, 0x90 };
    size_t n = mb_build_elf(buf, 0x100000, &seg, 1, 0);
    buf[EI_CLASS] = ELFCLASS64;
    mb_write_file(buf, n);
    mb_expect_error("64-bit");
}

Test(multiboot, wrong_machine)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x100, 0x90 };
    size_t n = mb_build_elf(buf, 0x100000, &seg, 1, 0);
    ((Elf32_Ehdr *)buf)->e_machine = EM_ARM;
    mb_write_file(buf, n);
    mb_expect_error("not i386");
}

Test(multiboot, not_executable)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x100, 0x90 };
    size_t n = mb_build_elf(buf, 0x100000, &seg, 1, 0);
    ((Elf32_Ehdr *)buf)->e_type = ET_DYN;
    mb_write_file(buf, n);
    mb_expect_error("not an ELF executable");
}

Test(multiboot, segment_outside_ram)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x3ff000, 0x3ff000, 0x100, 0x2000, 0x90 };
    mb_write_file(buf, mb_build_elf(buf, 0x3ff000, &seg, 1, 0));
    mb_expect_error("outside RAM");
}

Test(multiboot, segment_wrapping_past_4g)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0xfffff000u, 0xfffff000u, 0x100, 0x2000, 0x90 };
    mb_write_file(buf, mb_build_elf(buf, 0xfffff000u, &seg, 1, 0));
    mb_expect_error("outside RAM");
}

Test(multiboot, truncated_segment)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x800, 0x800, 0x90 };
    mb_build_elf(buf, 0x100000, &seg, 1, 0);
    mb_write_file(buf, 0x1400); /* the segment's file bytes end at 0x1800 */
    mb_expect_error("truncated");
}

Test(multiboot, truncated_program_headers)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x100, 0x90 };
    size_t n = mb_build_elf(buf, 0x100000, &seg, 1, 0);
    ((Elf32_Ehdr *)buf)->e_phoff = (Elf32_Off)n - 8;
    mb_write_file(buf, n);
    struct multiboot_boot boot;
    cr_assert_eq(mb_load(NULL, &boot), -1);
    cr_assert(strstr(mb_err, mb_path), "%s", mb_err);
}

Test(multiboot, filesz_above_memsz)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x200, 0x100, 0x90 };
    mb_write_file(buf, mb_build_elf(buf, 0x100000, &seg, 1, 0));
    mb_expect_error("exceeds its memory size");
}

Test(multiboot, no_loadable_segment)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x100, 0x90 };
    size_t n = mb_build_elf(buf, 0x100000, &seg, 1, 0);
    ((Elf32_Phdr *)(buf + sizeof(Elf32_Ehdr)))->p_type = PT_NOTE;
    mb_write_file(buf, n);
    mb_expect_error("no loadable segment");
}

Test(multiboot, video_mode_refused)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x100, 0x90 };
    mb_write_file(buf, mb_build_elf(buf, 0x100000, &seg, 1, 1u << 2));
    mb_expect_error("video mode");
}

Test(multiboot, unknown_required_flag_refused)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x100, 0x90 };
    mb_write_file(buf, mb_build_elf(buf, 0x100000, &seg, 1, 1u << 5));
    mb_expect_error("0x20");
}

Test(multiboot, optional_flags_ignored)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x100, 0x90 };
    mb_write_file(buf, mb_build_elf(buf, 0x100000, &seg, 1, 1u << 20));
    struct multiboot_boot boot;
    cr_assert_eq(mb_load(NULL, &boot), 0, "%s", mb_err);
}

Test(multiboot, kludge_load_addr_above_header)
{
    static uint8_t buf[MB_FILE_MAX];
    size_t n = mb_build_raw(buf, 0x200000, 0, 0, 0x200000);
    uint32_t header_addr = 0x1ff000;
    memcpy(buf + 20, &header_addr, 4);
    mb_write_file(buf, n);
    mb_expect_error("above header_addr");
}

Test(multiboot, kludge_before_file_start)
{
    static uint8_t buf[MB_FILE_MAX];
    size_t n = mb_build_raw(buf, 0x200000, 0, 0, 0x200000);
    uint32_t load_addr = 0x1ff000; /* 4 KiB before a header at offset 8 */
    memcpy(buf + 24, &load_addr, 4);
    mb_write_file(buf, n);
    mb_expect_error("before the file start");
}

Test(multiboot, kludge_load_end_past_file)
{
    static uint8_t buf[MB_FILE_MAX];
    mb_write_file(buf, mb_build_raw(buf, 0x200000, 0x208000, 0, 0x200000));
    mb_expect_error("truncated");
}

Test(multiboot, kludge_bss_outside_ram)
{
    static uint8_t buf[MB_FILE_MAX];
    mb_write_file(buf, mb_build_raw(buf, 0x200000, 0x200100, 0x800000, 0x200000));
    mb_expect_error("outside RAM");
}

Test(multiboot, kludge_short_header)
{
    static uint8_t buf[16];
    memset(buf, 0, sizeof(buf));
    mb_put_header(buf, 1u << 16);
    mb_write_file(buf, sizeof(buf));
    mb_expect_error("header truncated");
}

Test(multiboot, entry_outside_ram)
{
    static uint8_t buf[MB_FILE_MAX];
    mb_write_file(buf, mb_build_raw(buf, 0x200000, 0, 0, 0x900000));
    mb_expect_error("entry point");
}

Test(multiboot, information_after_a_low_image)
{
    static uint8_t buf[MB_FILE_MAX];
    /* The image covers the low place: the information follows it. */
    const struct mb_seg seg = { 0x8000, 0x8000, 0x100, 0x8100, 0x90 };
    mb_write_file(buf, mb_build_elf(buf, 0x8000, &seg, 1, 0));
    struct multiboot_boot boot;
    cr_assert_eq(mb_load(NULL, &boot), 0, "%s", mb_err);
    cr_assert_eq(boot.info_addr, 0x11000);
    cr_assert_eq(mb_get32(boot.info_addr + 4), 640);
    cr_assert_eq(mb_ram[0x8000 + 0x80ff], 0); /* bss intact */
}

Test(multiboot, no_room_for_information)
{
    static uint8_t buf[MB_FILE_MAX];
    /* The image covers the low place and ends exactly at the end of RAM. */
    const struct mb_seg seg = { 0x8000, 0x8000, 0x100, MB_RAM_SIZE - 0x8000, 0x90 };
    mb_write_file(buf, mb_build_elf(buf, 0x8000, &seg, 1, 0));
    mb_expect_error("no room");
}

/* Random corruption of a good kernel: the loader may accept or refuse,
 * but it must never crash or write outside RAM. */
Test(multiboot, corrupted_headers_never_crash)
{
    static uint8_t good[MB_FILE_MAX], buf[MB_FILE_MAX];
    const struct mb_seg segs[] = { { 0x100000, 0x100000, 0x40, 0x1000, 0x11 },
                                   { 0x102000, 0x102000, 0x10, 0x30, 0x22 } };
    size_t n = mb_build_elf(good, 0x10000c, segs, 2, 0x3);
    srand(1234);
    for (int iter = 0; iter < 300; iter++) {
        memcpy(buf, good, n);
        for (int k = 0; k < 4; k++) {
            size_t at = (size_t)rand() % (sizeof(Elf32_Ehdr) + 2 * sizeof(Elf32_Phdr));
            buf[at] = (uint8_t)rand();
        }
        mb_write_file(buf, n);
        struct multiboot_boot boot;
        if (mb_load(NULL, &boot) != 0)
            cr_assert(strstr(mb_err, mb_path), "%s", mb_err);
    }
}

Test(multiboot, machine_state)
{
    struct phys_mem *pm = phys_new();
    struct io_space *io = io_new();
    const struct cpu_bus bus = { .mem = pm, .io = io };
    struct cpu *cpu = cpu_new(&bus);
    cr_assert_not_null(cpu);
    cpu->eflags |= FL_IF | FL_VM;
    phys_set_a20(pm, false);
    const struct multiboot_boot boot = { .entry = 0x100040, .info_addr = 0x105000 };
    multiboot_enter(cpu, &boot);
    cr_assert_eq(cpu->regs[R_EAX], 0x2BADB002);
    cr_assert_eq(cpu->regs[R_EBX], 0x105000);
    cr_assert_eq(cpu->eip, 0x100040);
    cr_assert_eq(cpu->eflags & (FL_IF | FL_VM), 0);
    cr_assert_eq(cpu->cr0 & (CR0_PE | CR0_PG), CR0_PE);
    cr_assert_eq(cpu->cpl, 0);
    cr_assert(cpu->code32);
    cr_assert(cpu->stack32);
    for (int s = 0; s < SEG_COUNT; s++) {
        cr_assert_eq(cpu->seg[s].base, 0, "seg %d", s);
        cr_assert_eq(cpu->seg[s].limit, 0xffffffffu, "seg %d", s);
        cr_assert(cpu->seg[s].ar & AR_P, "seg %d", s);
        cr_assert(cpu->seg[s].ar & AR_DB, "seg %d", s);
    }
    cr_assert(cpu->seg[SEG_CS].ar & AR_T_CODE);
    cr_assert(cpu->seg[SEG_CS].ar & AR_T_READABLE);
    cr_assert(!(cpu->seg[SEG_DS].ar & AR_T_CODE));
    cr_assert(cpu->seg[SEG_SS].ar & AR_T_WRITABLE);
    cr_assert(phys_a20(pm));
    cpu_free(cpu);
    io_free(io);
    phys_free(pm);
}

/* ---------------------------------------------------- bad files (fuzz) */

/* A directory opens (fopen succeeds on one) but is no image. */
Test(multiboot, directory_refused)
{
    char dir[] = "/tmp/glass-mbdir-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    struct multiboot_boot boot;
    int rc = multiboot_load(mb_ram, MB_RAM_SIZE, dir, NULL, &boot, mb_err, sizeof(mb_err));
    rmdir(dir);
    cr_assert_eq(rc, -1);
    char want[HW_ERR_MAX];
    snprintf(want, sizeof(want), "-kernel %s: Is a directory", dir);
    cr_assert_str_eq(mb_err, want);
}

/* An ordinary ELF32 executable without a multiboot header. */
Test(multiboot, elf_without_multiboot_header)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x100, 0x90 };
    size_t n = mb_build_elf(buf, 0x100000, &seg, 1, 0);
    memset(buf + 0x1000, 0x90, 12);
    mb_write_file(buf, n);
    char want[HW_ERR_MAX];
    snprintf(want, sizeof(want), "-kernel %s: no multiboot header in the first 8192 bytes",
             mb_path);
    mb_expect_error("no multiboot header");
    cr_assert_str_eq(mb_err, want);
}

/* The file ends inside the ELF header (the multiboot header squeezed into
 * its last fields so that the search finds one). */
Test(multiboot, truncated_elf_header)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x100, 0x100, 0x90 };
    mb_build_elf(buf, 0x100000, &seg, 1, 0);
    mb_put_header(buf + 36, 0);
    mb_write_file(buf, 48); /* sizeof(Elf32_Ehdr) is 52 */
    mb_expect_error("cannot read as ELF (");
}

/* A valid kernel cut short in the middle of its only segment. */
Test(multiboot, truncated_in_segment)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0x100000, 0x100000, 0x2000, 0x2000, 0x90 };
    mb_build_elf(buf, 0x100000, &seg, 1, 0);
    mb_write_file(buf, 0x1800);
    char want[HW_ERR_MAX];
    snprintf(want, sizeof(want),
             "-kernel %s: file truncated: segment 0 ends past the end of the file", mb_path);
    mb_expect_error("truncated");
    cr_assert_str_eq(mb_err, want);
}

/* A segment above the RAM (4 MiB here) and one that wraps past 4 GiB
 * are both "outside RAM", with the exact range in the message. */
Test(multiboot, segment_outside_ram_message)
{
    static uint8_t buf[MB_FILE_MAX];
    const struct mb_seg seg = { 0xc0000000u, 0xc0000000u, 0x100, 0x1000, 0x90 };
    size_t n = mb_build_elf(buf, 0xc0000000u, &seg, 1, 0);
    mb_write_file(buf, n);
    char want[HW_ERR_MAX];
    snprintf(want, sizeof(want),
             "-kernel %s: segment 0 at 0xc0000000-0xc0001000 lies outside RAM (4096 KiB)",
             mb_path);
    mb_expect_error("outside RAM");
    cr_assert_str_eq(mb_err, want);
}
