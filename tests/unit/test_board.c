/*
 * test_board.c — the board's port devices (debug console 0xE9, debug exit
 * 0xF4, POST 0x80), the -bios ROM mapping, and the board itself: building
 * it, loading a kernel, and the run loop's exits (guest exit request,
 * halt, triple fault under -no-reboot, reset).
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, unlink */

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/hw.h"

static char board_path[64];
static char board_err[HW_ERR_MAX];

static void board_setup(void)
{
    strcpy(board_path, "/tmp/glass-board-XXXXXX");
    int fd = mkstemp(board_path);
    cr_assert(fd >= 0);
    close(fd);
}

static void board_teardown(void)
{
    unlink(board_path);
}

static void board_write_file(const void *data, size_t len)
{
    FILE *f = fopen(board_path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Everything written to `f` so far, as a string. */
static const char *board_contents(FILE *f)
{
    static char buf[1024];
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    return buf;
}

/* ------------------------------------------------------------ devices */

TestSuite(board_devices);

Test(board_devices, debugcon_writes_through_and_reads_e9)
{
    struct io_space *io = io_new();
    FILE *out = tmpfile();
    struct debugcon *dc = debugcon_new(io, DEBUGCON_PORT, out, false);
    cr_assert_not_null(dc);
    io_write(io, 0xe9, 'o', 1);
    io_write(io, 0xe9, 'k', 1);
    io_write(io, 0xe9, 0x0a21, 2); /* low byte to 0xE9, high byte to 0xEA (nothing) */
    cr_assert_str_eq(board_contents(out), "ok!");
    cr_assert_eq(io_read(io, 0xe9, 1), 0xe9);
    debugcon_free(dc);
    fclose(out);
    io_free(io);
}

/* A file's bytes wait in its buffer until the board's debugcon_flush:
 * none reaches the pipe before it, all of them after. */
Test(board_devices, debugcon_to_a_file_is_gathered_until_a_flush)
{
    struct io_space *io = io_new();
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    FILE *out = fdopen(fds[1], "w");
    cr_assert_not_null(out);
    struct debugcon *dc = debugcon_new(io, DEBUGCON_PORT, out, true);
    cr_assert_not_null(dc);
    for (const char *p = "gathered\n"; *p; p++)
        io_write(io, 0xe9, (uint8_t)*p, 1);
    char buf[32];
    cr_assert_eq(read(fds[0], buf, sizeof(buf)), -1, "written before the flush");
    cr_assert_eq(errno, EAGAIN);
    debugcon_flush(dc);
    ssize_t n = read(fds[0], buf, sizeof(buf));
    cr_assert_eq(n, 9);
    cr_assert(memcmp(buf, "gathered\n", 9) == 0);
    debugcon_free(dc);
    fclose(out);
    close(fds[0]);
    io_free(io);
}

Test(board_devices, debugcon_null_discards)
{
    struct io_space *io = io_new();
    struct debugcon *dc = debugcon_new(io, DEBUGCON_PORT, NULL, false);
    cr_assert_not_null(dc);
    io_write(io, 0xe9, 'x', 1);
    cr_assert_eq(io_read(io, 0xe9, 1), 0xe9);
    debugcon_free(dc);
    io_free(io);
}

struct exit_probe {
    int calls, status;
};

static void board_on_exit(void *opaque, int status)
{
    struct exit_probe *p = opaque;
    p->calls++;
    p->status = status;
}

Test(board_devices, debug_exit_status_is_value_times_two_plus_one)
{
    struct io_space *io = io_new();
    struct exit_probe p = { 0, 0 };
    struct debug_exit *de = debug_exit_new(io, DEBUG_EXIT_PORT, board_on_exit, &p);
    cr_assert_not_null(de);
    io_write(io, 0xf4, 0, 1);
    cr_assert_eq(p.calls, 1);
    cr_assert_eq(p.status, 1);
    io_write(io, 0xf4, 0x21, 1);
    cr_assert_eq(p.status, 0x43);
    io_write(io, 0xf4, 0x1234, 2); /* a word arrives whole */
    cr_assert_eq(p.calls, 3);
    cr_assert_eq(p.status, 0x2469);
    io_write(io, 0xf4, 0x00010002, 4);
    cr_assert_eq(p.calls, 4);
    cr_assert_eq(p.status, 0x00020005);
    cr_assert_eq(io_read(io, 0xf4, 1), 0xff);
    debug_exit_free(de);
    io_free(io);
}

Test(board_devices, post_code_remembered_and_logged)
{
    struct io_space *io = io_new();
    FILE *log = tmpfile();
    struct post *p = post_new(io, POST_PORT, log);
    cr_assert_not_null(p);
    cr_assert_eq(post_last(p), 0);
    io_write(io, 0x80, 0x55, 1);
    io_write(io, 0x80, 0xa3, 1);
    cr_assert_eq(post_last(p), 0xa3);
    cr_assert_eq(io_read(io, 0x80, 1), 0xff);
    const char *text = board_contents(log);
    cr_assert(strstr(text, "POST code 55"), "%s", text);
    cr_assert(strstr(text, "POST code a3"), "%s", text);
    cr_assert_eq(post_add_port(p, io, POST_PORT_ALT), 0);
    io_write(io, 0x190, 0x7e, 1);
    cr_assert_eq(post_last(p), 0x7e);
    text = board_contents(log);
    cr_assert(strstr(text, "POST code 7e (port 190)"), "%s", text);
    post_free(p);
    fclose(log);
    io_free(io);
}

/* ---------------------------------------------------------------- ROM */

TestSuite(board_rom, .init = board_setup, .fini = board_teardown);

/* A ROM image whose every 64 KiB block starts and ends with its number. */
static void board_make_rom(size_t size)
{
    uint8_t *img = malloc(size);
    cr_assert_not_null(img);
    for (size_t i = 0; i < size; i++)
        img[i] = (uint8_t)(i >> 16);
    board_write_file(img, size);
    free(img);
}

Test(board_rom, sizes_and_windows)
{
    for (size_t kib = 64; kib <= 256; kib += 64) {
        size_t size = kib << 10;
        board_make_rom(size);
        struct phys_mem *pm = phys_new();
        struct image_file rom;
        cr_assert_eq(rom_load(&rom, pm, board_path, board_err, sizeof(board_err)), 0, "%s",
                     board_err);
        uint8_t last_block = (uint8_t)((size >> 16) - 1);
        /* Top of 4 GiB: the whole image, the reset vector in its last block. */
        cr_assert_eq(phys_read(pm, 0x100000000ull - size, 1), 0);
        cr_assert_eq(phys_read(pm, 0xfffffff0u, 1), last_block);
        /* Below 1 MiB: the last min(size, 128 KiB). */
        cr_assert_eq(phys_read(pm, 0xffff0, 1), last_block);
        uint8_t e0000 = size >= (128u << 10) ? (uint8_t)(last_block - 1) : 0xff;
        cr_assert_eq(phys_read(pm, 0xe0000, 1), e0000, "%zu KiB", kib);
        /* Read-only. */
        phys_write(pm, 0xfffffff0u, 0x77, 1);
        phys_write(pm, 0xffff0, 0x77, 1);
        cr_assert_eq(phys_read(pm, 0xfffffff0u, 1), last_block);
        cr_assert_eq(phys_read(pm, 0xffff0, 1), last_block);
        image_file_free(&rom);
        phys_free(pm);
    }
}

Test(board_rom, bad_sizes_refused)
{
    const size_t sizes[] = { 0, 1000, 65535, 65537, 320u << 10, 512u << 10 };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        board_make_rom(sizes[i] ? sizes[i] : 1);
        if (sizes[i] == 0)
            board_write_file("", 0);
        struct phys_mem *pm = phys_new();
        struct image_file rom;
        cr_assert_eq(rom_load(&rom, pm, board_path, board_err, sizeof(board_err)), -1);
        cr_assert(strstr(board_err, board_path), "%s", board_err);
        cr_assert(strstr(board_err, "KiB"), "%s", board_err);
        phys_free(pm);
    }
}

Test(board_rom, missing_file)
{
    unlink(board_path);
    struct phys_mem *pm = phys_new();
    struct image_file rom;
    cr_assert_eq(rom_load(&rom, pm, board_path, board_err, sizeof(board_err)), -1);
    cr_assert(strstr(board_err, board_path), "%s", board_err);
    phys_free(pm);
}

/* -------------------------------------------------------------- board */

TestSuite(board_pc, .init = board_setup, .fini = board_teardown);

/* A raw multiboot kernel (a.out kludge) loaded at 1 MiB whose code, at
 * 1 MiB + 32, is `code`. */
static void board_make_kernel(const uint8_t *code, size_t len)
{
    uint8_t img[256];
    memset(img, 0x90, sizeof(img));
    const uint32_t flags = 1u << 16;
    const uint32_t hdr[8] = { MULTIBOOT_HEADER_MAGIC, flags, -(MULTIBOOT_HEADER_MAGIC + flags),
                              0x100000, 0x100000, 0, 0, 0x100020 };
    memcpy(img, hdr, sizeof(hdr));
    cr_assert(len <= sizeof(img) - 32);
    memcpy(img + 32, code, len);
    board_write_file(img, sizeof(img));
}

static struct pc *board_new_pc(FILE *debugcon, bool no_reboot)
{
    const struct pc_config cfg = {
        .ram_size = 8u << 20,
        .kernel = board_path,
        .append = "test=1",
        .debugcon = debugcon,
        .no_reboot = no_reboot,
    };
    struct pc *pc = pc_new(&cfg, board_err, sizeof(board_err));
    cr_assert_not_null(pc, "%s", board_err);
    return pc;
}

Test(board_pc, config_errors)
{
    struct pc_config cfg = { .ram_size = 8u << 20 };
    /* Neither -kernel nor -bios: the built-in BIOS is at the reset vector. */
    struct pc *pc = pc_new(&cfg, board_err, sizeof(board_err));
    cr_assert_not_null(pc, "%s", board_err);
    cr_assert_eq(phys_read(pc_phys(pc), 0xfffffff0u, 1),
                 glass_bios_rom[glass_bios_rom_size - 16]);
    cr_assert_eq(phys_read(pc_phys(pc), 0xffff0, 1), glass_bios_rom[glass_bios_rom_size - 16]);
    pc_free(pc);
    cfg.kernel = board_path;
    cfg.ram_size = 1u << 19;
    cr_assert_null(pc_new(&cfg, board_err, sizeof(board_err)));
    cfg.ram_size = (8u << 20) + 512;
    cr_assert_null(pc_new(&cfg, board_err, sizeof(board_err)));
    cfg.ram_size = 8u << 20;
    cfg.bios = board_path;
    cr_assert_null(pc_new(&cfg, board_err, sizeof(board_err)));
}

Test(board_pc, bad_kernel_reported)
{
    board_write_file("not a kernel", 12);
    const struct pc_config cfg = { .ram_size = 8u << 20, .kernel = board_path };
    cr_assert_null(pc_new(&cfg, board_err, sizeof(board_err)));
    cr_assert(strstr(board_err, board_path), "%s", board_err);
}

Test(board_pc, kernel_loaded_and_cpu_ready)
{
    const uint8_t code[] = { 0xf4 };
    board_make_kernel(code, sizeof(code));
    struct pc *pc = board_new_pc(NULL, true);
    struct cpu *cpu = pc_cpu(pc);
    cr_assert_eq(cpu->eip, 0x100020);
    cr_assert_eq(cpu->regs[R_EAX], MULTIBOOT_BOOT_MAGIC);
    cr_assert_eq(pc_ram(pc)[0x100020], 0xf4);
    uint32_t mbi = cpu->regs[R_EBX];
    cr_assert_eq(phys_read(pc_phys(pc), mbi + 8, 4), (7u << 20) >> 10); /* mem_upper */
    pc_free(pc);
}

Test(board_pc, ports_wired)
{
    const uint8_t code[] = { 0xf4 };
    board_make_kernel(code, sizeof(code));
    FILE *out = tmpfile();
    struct pc *pc = board_new_pc(out, true);
    io_write(pc_io(pc), 0xe9, 'A', 1);
    cr_assert_str_eq(board_contents(out), "A");
    cr_assert_eq(io_read(pc_io(pc), 0xe9, 1), 0xe9);
    io_write(pc_io(pc), 0x80, 0x42, 1);
    cr_assert_eq(pc_post_code(pc), 0x42);
    int status = 0;
    cr_assert(!pc_exit_requested(pc, &status));
    io_write(pc_io(pc), 0xf4, 3, 1);
    cr_assert(pc_exit_requested(pc, &status));
    cr_assert_eq(status, 7);
    cr_assert(pc_cpu(pc)->exit_request, "the CPU must stop after the OUT");
    pc_free(pc);
    fclose(out);
}

Test(board_pc, run_until_guest_exit)
{
    /* mov al,'h'; out 0xe9,al; mov al,'i'; out 0xe9,al; mov al,5; out 0xf4,al; hlt */
    const uint8_t code[] = { 0xb0, 'h', 0xe6, 0xe9, 0xb0, 'i', 0xe6, 0xe9,
                             0xb0, 5,   0xe6, 0xf4, 0xf4 };
    board_make_kernel(code, sizeof(code));
    FILE *out = tmpfile();
    struct pc *pc = board_new_pc(out, true);
    cr_assert_eq(pc_run(pc), 11);
    cr_assert_str_eq(board_contents(out), "hi");
    pc_free(pc);
    fclose(out);
}

Test(board_pc, halt_with_interrupts_disabled_ends_run)
{
    cr_redirect_stderr();
    const uint8_t code[] = { 0xfa, 0xf4 }; /* cli; hlt */
    board_make_kernel(code, sizeof(code));
    struct pc *pc = board_new_pc(NULL, true);
    cr_assert_eq(pc_run(pc), 0);
    pc_free(pc);
    fflush(stderr);
    cr_assert_stderr_eq_str("glass: CPU halted with interrupts disabled\n");
}

Test(board_pc, triple_fault_with_no_reboot_ends_run)
{
    cr_redirect_stderr();
    /* int3 with the IDT of RESET (base 0, RAM full of zeros): no valid
     * gate for #BP, #GP, #DF: a triple fault. */
    const uint8_t code[] = { 0xcc };
    board_make_kernel(code, sizeof(code));
    struct pc *pc = board_new_pc(NULL, true);
    cr_assert_eq(pc_run(pc), 0);
    pc_free(pc);
    fflush(stderr);
    cr_assert_stderr_eq_str("glass: triple fault; stopping (-no-reboot)\n");
}

Test(board_pc, reset_reloads_the_kernel)
{
    const uint8_t code[] = { 0xf4 };
    board_make_kernel(code, sizeof(code));
    struct pc *pc = board_new_pc(NULL, false);
    struct cpu *cpu = pc_cpu(pc);
    pc_ram(pc)[0x100020] = 0x00; /* the guest overwrote itself */
    cpu->regs[R_EAX] = 0;
    cpu->eip = 0x1234;
    phys_set_a20(pc_phys(pc), false);
    cr_assert_eq(pc_reset(pc, board_err, sizeof(board_err)), 0, "%s", board_err);
    cr_assert_eq(pc_ram(pc)[0x100020], 0xf4);
    cr_assert_eq(cpu->eip, 0x100020);
    cr_assert_eq(cpu->regs[R_EAX], MULTIBOOT_BOOT_MAGIC);
    cr_assert(phys_a20(pc_phys(pc)));
    pc_free(pc);
}

/* A host end of COM1 that keeps what the guest sends. */
struct board_chr {
    char out[64];
    size_t len;
};

static void board_chr_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct board_chr *b = opaque;
    for (size_t i = 0; i < len && b->len < sizeof(b->out) - 1; i++)
        b->out[b->len++] = (char)buf[i];
}

static bool board_quit(void *opaque)
{
    (void)opaque;
    return false; /* as Ctrl-A x: end the run after the first slice */
}

/* The guest turns COM1's FIFO on, writes "sent" at the reset divisor
 * (9600 baud) and, without waiting for the transmitter, either asks to
 * exit (debug exit) or spins until the user quits. With -serial-timing
 * line the last bytes are still in the FIFO then: the board must hand
 * them to the host end all the same. */
Test(board_pc, serial_output_flushed_at_exit)
{
    /* mov dx,0x3fa; mov al,7; out dx,al (FCR: FIFO on, cleared);
     * mov dx,0x3f8; then mov al,c; out dx,al for "sent" */
    const uint8_t code[] = { 0x66, 0xba, 0xfa, 0x03, 0xb0, 0x07, 0xee,
                             0x66, 0xba, 0xf8, 0x03,
                             0xb0, 's', 0xee, 0xb0, 'e', 0xee, 0xb0, 'n', 0xee, 0xb0, 't', 0xee,
                             0xb0, 5, 0xe6, 0xf4, /* mov al,5; out 0xf4,al */
                             0xeb, 0xfe };        /* jmp $ */
    for (int line = 0; line < 2; line++) {
        for (int quit = 0; quit < 2; quit++) {
            uint8_t c[sizeof(code)];
            memcpy(c, code, sizeof(code));
            if (quit)
                memset(c + sizeof(c) - 6, 0x90, 4); /* no debug exit: spin */
            board_make_kernel(c, sizeof(c));
            struct board_chr got = { .len = 0 };
            struct chardev chr = { .write = board_chr_write, .be_opaque = &got };
            const struct pc_config cfg = {
                .ram_size = 8u << 20,
                .kernel = board_path,
                .no_reboot = true,
                .serial = { &chr, NULL },
                .serial_line_timing = line,
                .poll = quit ? board_quit : NULL,
            };
            struct pc *pc = pc_new(&cfg, board_err, sizeof(board_err));
            cr_assert_not_null(pc, "%s", board_err);
            cr_assert_eq(pc_run(pc), quit ? 0 : 11);
            cr_assert_str_eq(got.out, "sent", "line %d quit %d: got '%s'", line, quit, got.out);
            pc_free(pc);
        }
    }
}

Test(board_pc, bios_starts_at_the_reset_vector)
{
    board_make_rom(64u << 10);
    const struct pc_config cfg = { .ram_size = 8u << 20, .bios = board_path };
    struct pc *pc = pc_new(&cfg, board_err, sizeof(board_err));
    cr_assert_not_null(pc, "%s", board_err);
    struct cpu *cpu = pc_cpu(pc);
    cr_assert_eq(cpu->seg[SEG_CS].base, 0xffff0000u);
    cr_assert_eq(cpu->eip, 0xfff0);
    cr_assert_eq(phys_read(pc_phys(pc), 0xfffffff0u, 1), 0);
    cr_assert_eq(phys_read(pc_phys(pc), 0xffff0, 1), 0);
    /* Conventional memory is RAM; 0xC0000-0xDFFFF belongs to the PCI
     * side until the firmware opens the i440FX's PAM windows (nothing
     * answers there: all ones, writes dropped). */
    phys_write(pc_phys(pc), 0x9fff0, 0x5a, 1);
    cr_assert_eq(phys_read(pc_phys(pc), 0x9fff0, 1), 0x5a);
    phys_write(pc_phys(pc), 0xdfff0, 0x5a, 1);
    cr_assert_eq(phys_read(pc_phys(pc), 0xdfff0, 1), 0xff);
    pc_free(pc);
}

/* ------------------------------------------------- bad ROM files (fuzz) */

/* Sizes that are not a whole number of 64 KiB blocks from 64 to 256 KiB:
 * the exact message, with the size found. */
Test(board_rom, bad_size_message)
{
    const size_t sizes[] = { 100000, 65536 * 3 + 1, 320u << 10 };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        board_make_rom(sizes[i]);
        struct phys_mem *pm = phys_new();
        struct image_file rom;
        cr_assert_eq(rom_load(&rom, pm, board_path, board_err, sizeof(board_err)), -1);
        char want[HW_ERR_MAX];
        snprintf(want, sizeof(want),
                 "-bios %s: size %zu bytes; a firmware image must be 64, 128, 192 or 256 KiB",
                 board_path, sizes[i]);
        cr_assert_str_eq(board_err, want);
        phys_free(pm);
    }
}

/* Above the 16 MiB the image reader accepts at all: refused before it is
 * read into memory. */
Test(board_rom, huge_file_refused)
{
    FILE *f = fopen(board_path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, (16L << 20), SEEK_SET), 0); /* sparse: 16 MiB + 1 byte */
    cr_assert_eq(fputc(0, f), 0);
    fclose(f);
    struct phys_mem *pm = phys_new();
    struct image_file rom;
    cr_assert_eq(rom_load(&rom, pm, board_path, board_err, sizeof(board_err)), -1);
    char want[HW_ERR_MAX];
    snprintf(want, sizeof(want), "-bios %s: file too large (16777217 bytes, at most 16777216)",
             board_path);
    cr_assert_str_eq(board_err, want);
    phys_free(pm);
}

Test(board_rom, directory_refused)
{
    char dir[] = "/tmp/glass-romdir-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    struct phys_mem *pm = phys_new();
    struct image_file rom;
    int rc = rom_load(&rom, pm, dir, board_err, sizeof(board_err));
    rmdir(dir);
    phys_free(pm);
    cr_assert_eq(rc, -1);
    char want[HW_ERR_MAX];
    snprintf(want, sizeof(want), "-bios %s: Is a directory", dir);
    cr_assert_str_eq(board_err, want);
}

/* A device's delayed work is seen as soon as it falls due, not when the
 * CPU's slice ends: the board runs due timers before each port access.
 * The guest sends IDENTIFY DEVICE and polls the status port until BSY
 * clears (the IDE model finishes a command from a timer a few
 * microseconds later); without the timers run at the port access, BSY
 * lasted until the end of the slice, tens of thousands of polls. */
Test(board_pc, device_timer_seen_by_polling_guest)
{
    const uint8_t code[] = {
        0x66, 0xba, 0xf6, 0x01, 0xb0, 0xa0, 0xee,       /* select the master */
        0x66, 0xba, 0xf7, 0x01, 0xb0, 0xec, 0xee,       /* IDENTIFY DEVICE */
        0x31, 0xc9,                                     /* xor ecx, ecx */
        0x41, 0xec, 0xa8, 0x80, 0x75, 0xfa,             /* polls++ until !BSY */
        0x81, 0xf9, 0x88, 0x13, 0x00, 0x00,             /* cmp ecx, 5000 */
        0x0f, 0x93, 0xc0, 0xe6, 0xf4, 0xf4,             /* setae al; out 0xf4; hlt */
    };
    board_make_kernel(code, sizeof(code));
    char disk[] = "/tmp/glass-board-disk-XXXXXX";
    int fd = mkstemp(disk);
    cr_assert(fd >= 0);
    cr_assert_eq(ftruncate(fd, 1 << 20), 0);
    close(fd);
    const struct pc_config cfg = {
        .ram_size = 8u << 20,
        .kernel = board_path,
        .no_reboot = true,
        .drive = { { .file = disk } },
    };
    struct pc *pc = pc_new(&cfg, board_err, sizeof(board_err));
    cr_assert_not_null(pc, "%s", board_err);
    cr_assert_eq(pc_run(pc), 1, "BSY was seen for 5000 polls or more");
    pc_free(pc);
    unlink(disk);
}
