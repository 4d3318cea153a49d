/*
 * test_linux_boot.c — the Linux bzImage loader (hw/linux_boot.c) on
 * synthetic bzImages written by the test: the zero page it builds, where
 * the kernel and initrd go, the refusals (bad magic, old protocol,
 * truncated files, initrd or command line too big, too little RAM), and
 * the machine state of the 32-bit boot protocol, run on a real board.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, unlink */

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/hw.h"
#include "hw/linux_boot.h"

#define LB_RAM_SIZE (8u << 20)
#define LB_SETUP_SECTS 4                     /* written as 0: "the real value is 4" */
#define LB_SETUP_SIZE ((LB_SETUP_SECTS + 1) * 512)
#define LB_KERNEL_SIZE 0x3000u               /* protected-mode part */
#define LB_FILE_SIZE (LB_SETUP_SIZE + LB_KERNEL_SIZE)
#define LB_INITRD_SIZE 5000u

static uint8_t *lb_ram;
static uint8_t lb_img[LB_FILE_SIZE];
static char lb_kpath[64], lb_ipath[64];
static char lb_err[HW_ERR_MAX];

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* A boot protocol 2.15 bzImage as a 6.x kernel's header looks: setup
 * sectors 0 (= 4), syssize, "HdrS", LOADED_HIGH, code32_start 1 MiB,
 * initrd_addr_max 7FFFFFFFh, cmdline_size 2047, pref_address 2 MiB and
 * init_size 1 MiB (so it needs 3 MiB of RAM). The protected-mode part is
 * filled with a pattern that tells each byte's offset. */
static void lb_build(void)
{
    memset(lb_img, 0, sizeof(lb_img));
    lb_img[0x1f1] = 0;                           /* setup_sects */
    put32(lb_img + 0x1f4, LB_KERNEL_SIZE / 16);  /* syssize */
    put16(lb_img + 0x1fa, 0xfffd);               /* vid_mode: "ask" */
    put16(lb_img + 0x1fe, 0xaa55);               /* boot_flag */
    lb_img[0x200] = 0xeb;                        /* jmp short ... */
    lb_img[0x201] = 0x6a;                        /* ... to 26Ch: header end */
    memcpy(lb_img + 0x202, "HdrS", 4);
    put16(lb_img + 0x206, 0x020f);               /* version 2.15 */
    put16(lb_img + 0x20e, 0x1234);               /* kernel_version (copied as is) */
    lb_img[0x211] = 0x01;                        /* loadflags: LOADED_HIGH */
    put32(lb_img + 0x214, 0x100000);             /* code32_start */
    put32(lb_img + 0x22c, 0x7fffffff);           /* initrd_addr_max */
    put32(lb_img + 0x230, 0x200000);             /* kernel_alignment */
    lb_img[0x234] = 1;                           /* relocatable_kernel */
    put32(lb_img + 0x238, 2047);                 /* cmdline_size */
    put32(lb_img + 0x258, 0x200000);             /* pref_address */
    put32(lb_img + 0x260, 0x100000);             /* init_size */
    put32(lb_img + 0x268, 0xabcd);               /* kernel_info_offset: last field */
    lb_img[0x26c] = 0x77;                        /* past the header: not copied */
    for (uint32_t i = 0; i < LB_KERNEL_SIZE; i++)
        lb_img[LB_SETUP_SIZE + i] = (uint8_t)(i * 7 + (i >> 8));
}

static void lb_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void lb_write_initrd(size_t len)
{
    uint8_t *d = malloc(len ? len : 1);
    cr_assert_not_null(d);
    for (size_t i = 0; i < len; i++)
        d[i] = (uint8_t)(i ^ (i >> 8) ^ 0x5a);
    lb_write(lb_ipath, d, len);
    free(d);
}

static void lb_setup(void)
{
    lb_ram = malloc(LB_RAM_SIZE);
    cr_assert_not_null(lb_ram);
    memset(lb_ram, 0xaa, LB_RAM_SIZE); /* so that cleared fields show */
    strcpy(lb_kpath, "/tmp/glass-lbk-XXXXXX");
    strcpy(lb_ipath, "/tmp/glass-lbi-XXXXXX");
    int fd = mkstemp(lb_kpath);
    cr_assert(fd >= 0);
    close(fd);
    fd = mkstemp(lb_ipath);
    cr_assert(fd >= 0);
    close(fd);
    lb_build();
    lb_write(lb_kpath, lb_img, sizeof(lb_img));
    lb_write_initrd(LB_INITRD_SIZE);
}

static void lb_teardown(void)
{
    unlink(lb_kpath);
    unlink(lb_ipath);
    free(lb_ram);
}

static int lb_load_ram(uint64_t ram_size, const char *initrd, const char *cmdline,
                       struct linux_boot *b)
{
    lb_err[0] = '\0';
    return linux_load(lb_ram, ram_size, lb_kpath, initrd, cmdline, b, lb_err, sizeof(lb_err));
}

static int lb_load(const char *initrd, const char *cmdline, struct linux_boot *b)
{
    return lb_load_ram(LB_RAM_SIZE, initrd, cmdline, b);
}

/* The load must fail with a message saying `why` (and naming `path`). */
static void lb_expect_error(const char *initrd, const char *cmdline, const char *path,
                            const char *why)
{
    struct linux_boot b;
    cr_assert_neq(lb_load(initrd, cmdline, &b), 0, "loaded, expected \"%s\"", why);
    cr_assert(strstr(lb_err, why), "message \"%s\" lacks \"%s\"", lb_err, why);
    if (path)
        cr_assert(strstr(lb_err, path), "message \"%s\" does not name %s", lb_err, path);
}

TestSuite(linux_boot, .init = lb_setup, .fini = lb_teardown);

Test(linux_boot, recognises_bzimage)
{
    cr_assert(linux_is_bzimage(lb_img, sizeof(lb_img)));
    cr_assert(linux_is_bzimage_file(lb_kpath));
    cr_assert_not(linux_is_bzimage(lb_img, 0x205)); /* too short for the magic */
    static const uint8_t elf[0x300] = { 0x7f, 'E', 'L', 'F' };
    cr_assert_not(linux_is_bzimage(elf, sizeof(elf)));
    cr_assert_not(linux_is_bzimage_file("/nonexistent/glass-kernel"));
}

Test(linux_boot, kernel_and_setup_header)
{
    struct linux_boot b;
    cr_assert_eq(lb_load(NULL, "console=ttyS0 quiet", &b), 0, "%s", lb_err);
    /* The protected-mode part, from file offset (0 -> 4 + 1) * 512, at 1 MiB. */
    cr_assert_eq(memcmp(lb_ram + 0x100000, lb_img + LB_SETUP_SIZE, LB_KERNEL_SIZE), 0);
    cr_assert_eq(b.kernel_start, 0x100000);
    cr_assert_eq(b.kernel_end, 0x100000 + LB_KERNEL_SIZE);
    cr_assert_eq(b.kernel_need, 0x300000); /* pref_address + init_size */
    cr_assert_eq(b.entry, 0x100000);
    cr_assert_eq(b.version, 0x020f);
    cr_assert_eq(b.boot_params, LINUX_BOOT_PARAMS_ADDR);

    const uint8_t *bp = lb_ram + b.boot_params;
    /* The header, copied from 1F1h through its end at 26Ch, not beyond. */
    cr_assert_eq(memcmp(bp + 0x202, "HdrS", 4), 0);
    cr_assert_eq(get16(bp + 0x1fe), 0xaa55);
    cr_assert_eq(get16(bp + 0x206), 0x020f);
    cr_assert_eq(get16(bp + 0x20e), 0x1234);
    cr_assert_eq(get32(bp + 0x268), 0xabcd);
    cr_assert_eq(bp[0x26c], 0);
    cr_assert_eq(bp[0x1ef], 0, "sentinel must be 0");
    /* Fields the loader writes. */
    cr_assert_eq(bp[0x210], 0xff, "type_of_loader");
    cr_assert_eq(bp[0x211] & 0x01, 0x01, "LOADED_HIGH kept");
    cr_assert_eq(bp[0x211] & 0x80, 0x80, "CAN_USE_HEAP");
    cr_assert_eq(bp[0x211] & 0x40, 0, "KEEP_SEGMENTS clear");
    cr_assert_eq(get16(bp + 0x1fa), 0xffff, "vid_mode normal");
    cr_assert_neq(get16(bp + 0x224), 0, "heap_end_ptr");
    cr_assert_eq(get32(bp + 0x214), 0x100000);
    cr_assert_eq(get32(bp + 0x218), 0, "no ramdisk");
    cr_assert_eq(get32(bp + 0x21c), 0);
    uint32_t cmd = get32(bp + 0x228);
    cr_assert_eq(cmd, b.cmdline);
    cr_assert(cmd >= 0x1000 && cmd + 2048 <= 0xa0000, "cmdline at %#x", cmd);
    cr_assert_str_eq((const char *)lb_ram + cmd, "console=ttyS0 quiet");
    /* Untouched parts of the zero page are zero. */
    cr_assert_eq(get32(bp + 0x070), 0, "acpi_rsdp_addr");
    cr_assert_eq(get32(bp + 0x0c0), 0, "ext_cmd_line_ptr");
}

Test(linux_boot, null_cmdline_is_empty)
{
    struct linux_boot b;
    cr_assert_eq(lb_load(NULL, NULL, &b), 0, "%s", lb_err);
    cr_assert_eq(lb_ram[get32(lb_ram + b.boot_params + 0x228)], 0);
}

Test(linux_boot, e820_map_and_memory_sizes)
{
    struct linux_boot b;
    cr_assert_eq(lb_load(NULL, NULL, &b), 0, "%s", lb_err);
    const uint8_t *bp = lb_ram + b.boot_params;
    static const struct {
        uint64_t addr, size;
        uint32_t type;
    } want[] = {
        { 0, 0x9fc00, 1 },
        { 0x9fc00, 0x400, 2 },
        { 0xf0000, 0x10000, 2 },
        { 0x100000, LB_RAM_SIZE - 0x100000, 1 },
    };
    cr_assert_eq(bp[0x1e8], 4, "e820_entries");
    for (int i = 0; i < 4; i++) {
        const uint8_t *e = bp + 0x2d0 + 20 * i;
        cr_assert_eq(get64(e), want[i].addr, "entry %d addr", i);
        cr_assert_eq(get64(e + 8), want[i].size, "entry %d size", i);
        cr_assert_eq(get32(e + 16), want[i].type, "entry %d type", i);
    }
    cr_assert_eq(get64(bp + 0x2d0 + 20 * 4), 0, "no fifth entry");
    cr_assert_eq(get32(bp + 0x1e0), (LB_RAM_SIZE - 0x100000) >> 10, "alt_mem_k");
    cr_assert_eq(get16(bp + 0x002), (LB_RAM_SIZE - 0x100000) >> 10, "ext_mem_k");
}

Test(linux_boot, initrd_high_and_aligned)
{
    struct linux_boot b;
    cr_assert_eq(lb_load(lb_ipath, "x", &b), 0, "%s", lb_err);
    const uint8_t *bp = lb_ram + b.boot_params;
    uint32_t at = get32(bp + 0x218);
    cr_assert_eq(at, b.initrd_start);
    cr_assert_eq(get32(bp + 0x21c), LB_INITRD_SIZE);
    cr_assert_eq(at & 0xfff, 0, "4 KiB aligned: %#x", at);
    cr_assert(at + LB_INITRD_SIZE <= LB_RAM_SIZE);
    cr_assert(at + LB_INITRD_SIZE > LB_RAM_SIZE - 0x2000, "as high as possible: %#x", at);
    cr_assert(at >= b.kernel_need);
    for (uint32_t i = 0; i < LB_INITRD_SIZE; i++)
        cr_assert_eq(lb_ram[at + i], (uint8_t)(i ^ (i >> 8) ^ 0x5a), "byte %u", i);
}

Test(linux_boot, initrd_below_initrd_addr_max)
{
    put32(lb_img + 0x22c, 0x4fffff); /* the initrd's last byte at most here */
    lb_write(lb_kpath, lb_img, sizeof(lb_img));
    struct linux_boot b;
    cr_assert_eq(lb_load(lb_ipath, NULL, &b), 0, "%s", lb_err);
    cr_assert(b.initrd_start + LB_INITRD_SIZE <= 0x500000, "at %#x", b.initrd_start);
    cr_assert(b.initrd_start >= 0x500000 - 0x3000);
    cr_assert_eq(b.initrd_start & 0xfff, 0);
}

Test(linux_boot, initrd_too_large)
{
    /* 8 MiB of RAM, kernel area to 3 MiB: 5 MiB + 1 byte cannot fit. */
    lb_write_initrd((5u << 20) + 1);
    lb_expect_error(lb_ipath, NULL, lb_ipath, "does not fit");
    /* Exactly 5 MiB does. */
    lb_write_initrd(5u << 20);
    struct linux_boot b;
    cr_assert_eq(lb_load(lb_ipath, NULL, &b), 0, "%s", lb_err);
    cr_assert_eq(b.initrd_start, 0x300000);
}

Test(linux_boot, initrd_over_addr_max_limit)
{
    put32(lb_img + 0x22c, 0x3fffff); /* only 1 MiB above the kernel's 3 MiB */
    lb_write(lb_kpath, lb_img, sizeof(lb_img));
    lb_write_initrd((1u << 20) + 4096);
    lb_expect_error(lb_ipath, NULL, lb_ipath, "does not fit");
}

Test(linux_boot, missing_initrd)
{
    lb_expect_error("/nonexistent/glass-initrd", NULL, "/nonexistent/glass-initrd", "-initrd");
}

Test(linux_boot, bad_magic)
{
    memcpy(lb_img + 0x202, "HdrX", 4);
    lb_write(lb_kpath, lb_img, sizeof(lb_img));
    lb_expect_error(NULL, NULL, lb_kpath, "HdrS");
}

Test(linux_boot, bad_boot_flag)
{
    put16(lb_img + 0x1fe, 0x55aa);
    lb_write(lb_kpath, lb_img, sizeof(lb_img));
    lb_expect_error(NULL, NULL, lb_kpath, "boot flag");
}

Test(linux_boot, protocol_too_old)
{
    put16(lb_img + 0x206, 0x0201); /* no cmd_line_ptr */
    lb_write(lb_kpath, lb_img, sizeof(lb_img));
    lb_expect_error(NULL, NULL, lb_kpath, "2.01 is too old");
    /* 2.04 (no relocatable_kernel, cmdline_size) is accepted, with a
     * 255-byte command line limit. */
    put16(lb_img + 0x206, 0x0204);
    lb_write(lb_kpath, lb_img, sizeof(lb_img));
    struct linux_boot b;
    char line[300];
    memset(line, 'a', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    cr_assert_neq(lb_load(NULL, line, &b), 0);
    cr_assert(strstr(lb_err, "at most 255"), "%s", lb_err);
    line[255] = '\0';
    cr_assert_eq(lb_load(NULL, line, &b), 0, "%s", lb_err);
    cr_assert_eq(b.kernel_need, 0x100000 + LB_KERNEL_SIZE, "no init_size before 2.10");
}

Test(linux_boot, zimage_refused)
{
    lb_img[0x211] = 0;
    lb_write(lb_kpath, lb_img, sizeof(lb_img));
    lb_expect_error(NULL, NULL, lb_kpath, "zImage");
}

/* The 16-bit protocol's layout (linux_boot.h): the real-mode part at
 * 10000h with the fields a loader writes, the command line at 20000h, the
 * protected-mode part at 1 MiB, the initrd below the BIOS's ACPI tables
 * in the top 64 KiB; no zero page, no GDT. */
static void lb_expect_setup16(const struct linux_boot *b, const char *cmdline)
{
    cr_assert(b->real_mode_setup);
    cr_assert_eq(b->entry, 0x10200);
    cr_assert_eq(b->boot_params, 0);
    cr_assert_eq(b->cmdline, 0x20000);
    const uint8_t *setup = lb_ram + 0x10000;
    cr_assert_eq(memcmp(setup + 0x202, "HdrS", 4), 0);
    cr_assert_eq(memcmp(setup + 0x26c, lb_img + 0x26c, LB_SETUP_SIZE - 0x26c), 0,
                 "the whole setup part is loaded, past the header too");
    cr_assert_eq(setup[0x210], 0xff, "type_of_loader");
    cr_assert_eq(setup[0x211], 0x81, "loadflags: LOADED_HIGH | CAN_USE_HEAP");
    cr_assert_eq(get16(setup + 0x224), 0xfe00, "heap_end_ptr");
    cr_assert_eq(get16(setup + 0x1fa), 0xffff, "vid_mode: normal, not ask");
    cr_assert_eq(get32(setup + 0x228), 0x20000, "cmd_line_ptr");
    cr_assert_str_eq((const char *)lb_ram + 0x20000, cmdline);
    cr_assert_eq(memcmp(lb_ram + 0x100000, lb_img + LB_SETUP_SIZE, LB_KERNEL_SIZE), 0);
    cr_assert_eq(get32(setup + 0x218), b->initrd_start);
    cr_assert_eq(get32(setup + 0x21c), LB_INITRD_SIZE);
    cr_assert_leq(b->initrd_start + b->initrd_size, LB_RAM_SIZE - 0x10000,
                  "the initrd stays below the BIOS's ACPI tables");
    cr_assert_eq(b->initrd_start % 4096, 0);
}

/* The 32-bit protocol jumps to code32_start; an image whose code32_start
 * is not in its protected-mode part (iPXE's ipxe.lkrn: 0) starts through
 * its real-mode setup code instead. Its first and last bytes are entries. */
Test(linux_boot, entry_outside_the_kernel_runs_the_setup_code)
{
    static const uint32_t outside[] = { 0, 0xfffff, 0x100000 + LB_KERNEL_SIZE, 0xffffffffu };
    struct linux_boot b;
    for (unsigned i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        put32(lb_img + 0x214, outside[i]);
        lb_write(lb_kpath, lb_img, sizeof(lb_img));
        cr_assert(linux_runs_setup_file(lb_kpath, NULL));
        memset(lb_ram, 0xaa, LB_RAM_SIZE);
        cr_assert_eq(lb_load(lb_ipath, "setup ran", &b), 0, "%s", lb_err);
        lb_expect_setup16(&b, "setup ran");
        cr_assert_neq(lb_ram[0x7000 + 0x202], 'H', "no zero page is built");
    }
    for (uint32_t entry = 0x100000; entry < 0x100000 + LB_KERNEL_SIZE; entry += LB_KERNEL_SIZE - 1) {
        put32(lb_img + 0x214, entry);
        lb_write(lb_kpath, lb_img, sizeof(lb_img));
        cr_assert_not(linux_runs_setup_file(lb_kpath, NULL));
        cr_assert_eq(lb_load(NULL, NULL, &b), 0, "%s", lb_err);
        cr_assert_not(b.real_mode_setup);
        cr_assert_eq(b.entry, entry);
    }
}

/* "vga=" on the command line (boot.rst, "Special command line options":
 * a boot loader's option) asks for a video mode, which only the setup
 * code sets (through the BIOS's VBE): a kernel the 32-bit protocol could
 * enter runs its setup code then, with vid_mode from it, the last one
 * counting; "normal", absent or not a 16-bit number in C notation keeps
 * the 32-bit protocol (whose zero page says "normal"). */
Test(linux_boot, vga_option_runs_the_setup_code_with_its_mode)
{
    static const struct { const char *line; uint16_t mode; } cases[] = {
        { "console=ttyS0 vga=791", 791 }, { "vga=0x317 quiet", 0x317 },
        { "vga=ask", 0xfffd }, { "vga=ext", 0xfffe }, { "vga=normal", 0xffff },
        { "vga=791 vga=normal", 0xffff }, { "xvga=5", 0xffff }, { "vga=70000", 0xffff },
        { "vga=0x", 0xffff }, { "vga=", 0xffff }, { "vga=asks", 0xffff }, { "", 0xffff },
        { "vga=010", 8 },
    };
    struct linux_boot b;
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool setup = cases[i].mode != 0xffff;
        cr_assert_eq(linux_runs_setup_file(lb_kpath, cases[i].line), setup, "\"%s\"",
                     cases[i].line);
        cr_assert_eq(lb_load(NULL, cases[i].line, &b), 0, "%s", lb_err);
        cr_assert_eq(b.real_mode_setup, setup, "\"%s\"", cases[i].line);
        uint32_t hdr = setup ? 0x10000 : b.boot_params;
        cr_assert_eq(get16(lb_ram + hdr + 0x1fa), cases[i].mode, "\"%s\": %#x", cases[i].line,
                     get16(lb_ram + hdr + 0x1fa));
    }
}

/* Protocols 2.02 and 2.03 (SYSLINUX's memdisk) have no 32-bit entry in
 * Glass's terms: their setup code runs. 2.02 has no initrd_addr_max (the
 * old default 37FFFFFFh applies). A setup part too big for its heap below
 * 20000h is refused. */
Test(linux_boot, old_protocols_run_the_setup_code)
{
    struct linux_boot b;
    const uint16_t versions[] = { 0x0202, 0x0203 };
    for (unsigned i = 0; i < 2; i++) {
        put16(lb_img + 0x206, versions[i]);
        lb_write(lb_kpath, lb_img, sizeof(lb_img));
        cr_assert(linux_runs_setup_file(lb_kpath, NULL));
        cr_assert_eq(lb_load(lb_ipath, "memdisk", &b), 0, "%s", lb_err);
        lb_expect_setup16(&b, "memdisk");
    }
    cr_assert_not(linux_runs_setup_file("/nonexistent/glass-kernel", NULL));
    static uint8_t big[0xfe00 + 0x200 + 16];
    memcpy(big, lb_img, 0x400);
    big[0x1f1] = 0x7f; /* 127 sectors and the boot sector: 64 KiB */
    put32(big + 0x1f4, 1);
    lb_write(lb_kpath, big, sizeof(big));
    lb_expect_error(NULL, NULL, lb_kpath, "below its heap");
}

Test(linux_boot, truncated_kernel)
{
    lb_write(lb_kpath, lb_img, LB_FILE_SIZE - 16);
    lb_expect_error(NULL, NULL, lb_kpath, "truncated");
    lb_write(lb_kpath, lb_img, LB_SETUP_SIZE - 1); /* inside the setup part */
    lb_expect_error(NULL, NULL, lb_kpath, "truncated");
    lb_write(lb_kpath, lb_img, 0x203); /* not even the magic */
    lb_expect_error(NULL, NULL, lb_kpath, "truncated");
    lb_write(lb_kpath, lb_img, 0);
    lb_expect_error(NULL, NULL, lb_kpath, "");
}

/* syssize is in 16-byte paragraphs rounded up (boot.rst), so the file may
 * end up to 15 bytes before syssize * 16, as Debian's memtest86+ia32.bin
 * (138712 bytes: 1536 setup + 137176, syssize 8574 = 137184 bytes) does.
 * The missing tail of the paragraph is loaded as zeros. */
Test(linux_boot, last_paragraph_short)
{
    for (unsigned short_by = 1; short_by < 16; short_by++) {
        lb_write(lb_kpath, lb_img, LB_FILE_SIZE - short_by);
        memset(lb_ram, 0xaa, LB_RAM_SIZE);
        struct linux_boot b;
        cr_assert_eq(lb_load(NULL, NULL, &b), 0, "short by %u: %s", short_by, lb_err);
        cr_assert_eq(memcmp(lb_ram + 0x100000, lb_img + LB_SETUP_SIZE, LB_KERNEL_SIZE - short_by),
                     0);
        for (unsigned i = LB_KERNEL_SIZE - short_by; i < LB_KERNEL_SIZE; i++)
            cr_assert_eq(lb_ram[0x100000 + i], 0, "short by %u: byte %#x", short_by, i);
    }
    /* A whole paragraph missing (or more) is a truncated file. */
    lb_write(lb_kpath, lb_img, LB_FILE_SIZE - 16);
    lb_expect_error(NULL, NULL, lb_kpath, "truncated");
    lb_write(lb_kpath, lb_img, LB_FILE_SIZE - 17);
    lb_expect_error(NULL, NULL, lb_kpath, "truncated");
}

Test(linux_boot, header_length)
{
    lb_img[0x1f1] = 1; /* 2 sectors = 400h bytes, header to 202h+FFh fits ... */
    lb_img[0x201] = 0xff;
    put32(lb_img + 0x1f4, (LB_FILE_SIZE - 0x400) / 16);
    lb_write(lb_kpath, lb_img, sizeof(lb_img));
    struct linux_boot b;
    cr_assert_eq(lb_load(NULL, NULL, &b), 0, "%s", lb_err);
    /* ... but a short header for 2.06+ does not. */
    lb_img[0x201] = 0x20;
    lb_write(lb_kpath, lb_img, sizeof(lb_img));
    lb_expect_error(NULL, NULL, lb_kpath, "too short");
}

Test(linux_boot, cmdline_too_long)
{
    char *line = malloc(2049);
    cr_assert_not_null(line);
    memset(line, 'x', 2048);
    line[2048] = '\0';
    lb_expect_error(NULL, line, NULL, "at most 2047");
    line[2047] = '\0';
    struct linux_boot b;
    cr_assert_eq(lb_load(NULL, line, &b), 0, "%s", lb_err);
    cr_assert_eq(strlen((const char *)lb_ram + b.cmdline), 2047);
    free(line);
}

Test(linux_boot, too_little_ram_to_decompress)
{
    struct linux_boot b;
    cr_assert_neq(lb_load_ram((3u << 20) - 4096, NULL, NULL, &b), 0);
    cr_assert(strstr(lb_err, "decompress"), "%s", lb_err);
    cr_assert_eq(lb_load_ram(3u << 20, NULL, NULL, &b), 0, "%s", lb_err);
}

Test(linux_boot, missing_kernel)
{
    unlink(lb_kpath);
    lb_expect_error(NULL, NULL, lb_kpath, "-kernel");
}

/* Random corruption of the header never crashes the loader, and every
 * refusal names the kernel or another option. */
Test(linux_boot, fuzzed_headers)
{
    uint8_t good[LB_FILE_SIZE];
    memcpy(good, lb_img, sizeof(good));
    srand(4321);
    for (int iter = 0; iter < 300; iter++) {
        memcpy(lb_img, good, sizeof(good));
        for (int k = 0; k < 3; k++) {
            size_t at = 0x1f1 + (size_t)rand() % (0x270 - 0x1f1);
            lb_img[at] = (uint8_t)rand();
        }
        lb_write(lb_kpath, lb_img, sizeof(lb_img));
        struct linux_boot b;
        if (lb_load(lb_ipath, "console=ttyS0", &b) != 0)
            cr_assert(strstr(lb_err, lb_kpath) || strstr(lb_err, "-initrd") ||
                          strstr(lb_err, "-append"), "%s", lb_err);
        else
            cr_assert(b.kernel_end <= LB_RAM_SIZE && b.initrd_start + b.initrd_size <= LB_RAM_SIZE);
    }
}

Test(linux_boot, vga_text_screen_info)
{
    struct linux_boot b;
    cr_assert_eq(lb_load(NULL, NULL, &b), 0, "%s", lb_err);
    const uint8_t *si = lb_ram + b.boot_params;
    cr_assert_eq(si[0x0e], 0, "no console by default: orig_video_lines");
    cr_assert_eq(si[0x07], 0, "orig_video_cols");
    cr_assert_eq(si[0x0f], 0, "orig_video_isVGA");
    linux_set_vga_text(lb_ram, &b, true, 3);
    cr_assert_eq(si[0x06], 3, "orig_video_mode");
    cr_assert_eq(si[0x07], 80);
    cr_assert_eq(si[0x0e], 25);
    cr_assert_eq(si[0x0f], 1);
    cr_assert_eq(si[0x01], 3, "cursor row");
    cr_assert_eq(get16(si + 0x10), 16, "orig_video_points");
    cr_assert_eq(get16(si + 0x02), (LB_RAM_SIZE - 0x100000) >> 10, "ext_mem_k kept");
    linux_set_vga_text(lb_ram, &b, false, 0);
    cr_assert_eq(si[0x0e], 0);
    cr_assert_eq(si[0x0f], 0);
}

Test(linux_boot, machine_state)
{
    struct linux_boot b;
    cr_assert_eq(lb_load(NULL, NULL, &b), 0, "%s", lb_err);
    struct phys_mem *pm = phys_new();
    struct io_space *io = io_new();
    const struct cpu_bus bus = { .mem = pm, .io = io };
    struct cpu *cpu = cpu_new(&bus);
    cr_assert_not_null(cpu);
    cpu->eflags |= FL_IF;
    for (int r = 0; r < 8; r++)
        cpu->regs[r] = 0x11111111u * (uint32_t)(r + 1);
    phys_set_a20(pm, false);
    linux_enter(cpu, &b);
    cr_assert_eq(cpu->eip, 0x100000);
    cr_assert_eq(cpu->regs[R_ESI], LINUX_BOOT_PARAMS_ADDR);
    cr_assert_eq(cpu->regs[R_EBX], 0);
    cr_assert_eq(cpu->regs[R_EBP], 0);
    cr_assert_eq(cpu->regs[R_EDI], 0);
    cr_assert_eq(cpu->eflags & (FL_IF | FL_VM), 0);
    cr_assert_eq(cpu->cr0 & (CR0_PE | CR0_PG), CR0_PE);
    cr_assert_eq(cpu->cpl, 0);
    cr_assert(cpu->code32 && cpu->stack32);
    cr_assert_eq(cpu->seg[SEG_CS].sel, 0x10);
    cr_assert_eq(cpu->seg[SEG_DS].sel, 0x18);
    cr_assert_eq(cpu->seg[SEG_ES].sel, 0x18);
    cr_assert_eq(cpu->seg[SEG_SS].sel, 0x18);
    for (int s = 0; s < SEG_COUNT; s++) {
        cr_assert_eq(cpu->seg[s].base, 0, "seg %d", s);
        cr_assert_eq(cpu->seg[s].limit, 0xffffffffu, "seg %d", s);
        cr_assert(cpu->seg[s].ar & AR_P, "seg %d", s);
        cr_assert(cpu->seg[s].ar & AR_DB, "seg %d", s);
    }
    cr_assert(cpu->seg[SEG_CS].ar & AR_T_CODE);
    cr_assert(!(cpu->seg[SEG_DS].ar & AR_T_CODE));
    cr_assert(cpu->seg[SEG_SS].ar & AR_T_WRITABLE);
    cr_assert_eq(cpu->gdtr.base, LINUX_GDT_ADDR);
    cr_assert(cpu->gdtr.limit >= 0x1f);
    /* The GDT in memory holds what the caches say (Intel SDM 3.4.5). */
    cr_assert_eq(get64(lb_ram + LINUX_GDT_ADDR + 0x10), 0x00cf9b000000ffffull);
    cr_assert_eq(get64(lb_ram + LINUX_GDT_ADDR + 0x18), 0x00cf93000000ffffull);
    cr_assert(phys_a20(pm));
    cpu_free(cpu);
    io_free(io);
    phys_free(pm);
}

/*
 * On a whole board: a "kernel" that reloads DS and CS from the loader's
 * GDT, reads type_of_loader through ESI and the command line's first
 * byte through cmd_line_ptr, and reports them on the debug-exit port.
 */
Test(linux_boot, runs_on_the_board)
{
    static const uint8_t code[] = {
        0x66, 0xb8, 0x18, 0x00,             /* mov ax, 18h */
        0x8e, 0xd8,                         /* mov ds, ax */
        0x8e, 0xd0,                         /* mov ss, ax */
        0xea, 0x11, 0x00, 0x10, 0x00, 0x10, 0x00, /* jmp far 10h:100011h */
        0x90, 0x90,                         /* (skipped) */
        0x0f, 0xb6, 0x86, 0x10, 0x02, 0x00, 0x00, /* 100011: movzx eax, byte [esi+210h] */
        0x8b, 0x9e, 0x28, 0x02, 0x00, 0x00, /* mov ebx, [esi+228h] */
        0x0f, 0xb6, 0x1b,                   /* movzx ebx, byte [ebx] */
        0xc1, 0xe3, 0x08,                   /* shl ebx, 8 */
        0x09, 0xd8,                         /* or eax, ebx */
        0xe7, 0xf4,                         /* out f4h, eax */
        0xf4,                               /* hlt */
    };
    memcpy(lb_img + LB_SETUP_SIZE, code, sizeof(code));
    lb_write(lb_kpath, lb_img, sizeof(lb_img));
    /* A firmware image of HLTs only to make a board; the loader then
     * replaces what a boot loader would. */
    static uint8_t rom[ROM_SIZE_UNIT];
    memset(rom, 0xf4, sizeof(rom));
    lb_write(lb_ipath, rom, sizeof(rom));
    const struct pc_config cfg = { .ram_size = LB_RAM_SIZE, .bios = lb_ipath };
    struct pc *pc = pc_new(&cfg, lb_err, sizeof(lb_err));
    cr_assert_not_null(pc, "%s", lb_err);
    struct linux_boot b;
    cr_assert_eq(linux_load(pc_ram(pc), LB_RAM_SIZE, lb_kpath, NULL, "Z", &b, lb_err,
                            sizeof(lb_err)), 0, "%s", lb_err);
    linux_enter(pc_cpu(pc), &b);
    pc_step(pc, 1000);
    int status = -1;
    cr_assert(pc_exit_requested(pc, &status), "the kernel did not reach its OUT");
    cr_assert_eq(status, ((0x5aff) << 1) | 1, "status %#x", status);
    pc_free(pc);
}
