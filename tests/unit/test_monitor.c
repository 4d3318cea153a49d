/*
 * test_monitor.c — frontend/monitor.c: each command run through
 * monitor_execute on a small machine (a multiboot kernel that counts in
 * EAX), its answer checked; and bad input (unknown commands, missing or
 * malformed arguments, unmapped addresses, overlong lines) answered
 * without harm. The session's line editor too.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, open_memstream */

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/frontend.h"
#include "hw/piix4_pm_regs.h"
#include "translate/translate.h"

static char mon_kernel[64];
static char mon_err[HW_ERR_MAX];
static struct pc *mon_pc;
static struct monitor *mon;

/* A raw multiboot kernel at 1 MiB: inc eax; jmp back. */
static void mon_setup(void)
{
    strcpy(mon_kernel, "/tmp/glass-mon-XXXXXX");
    int fd = mkstemp(mon_kernel);
    cr_assert(fd >= 0);
    uint8_t img[64];
    memset(img, 0x90, sizeof(img));
    const uint32_t flags = 1u << 16;
    const uint32_t hdr[8] = { MULTIBOOT_HEADER_MAGIC, flags, -(MULTIBOOT_HEADER_MAGIC + flags),
                              0x100000, 0x100000, 0, 0, 0x100020 };
    memcpy(img, hdr, sizeof(hdr));
    static const uint8_t code[] = { 0x40, 0xeb, 0xfd };
    memcpy(img + 32, code, sizeof(code));
    cr_assert_eq(write(fd, img, sizeof(img)), (ssize_t)sizeof(img));
    close(fd);
    const struct pc_config cfg = {
        .ram_size = 8u << 20, .kernel = mon_kernel, .no_reboot = true,
        .engine = cpu_exec_jit_available() ? CPU_ENGINE_JIT : CPU_ENGINE_INTERP,
    };
    mon_pc = pc_new(&cfg, mon_err, sizeof(mon_err));
    cr_assert_not_null(mon_pc, "%s", mon_err);
    mon = monitor_new(mon_pc);
    cr_assert_not_null(mon);
}

static char *run_text; /* the last answer (run) */

static void mon_teardown(void)
{
    free(run_text);
    run_text = NULL;
    monitor_free(mon);
    mon = NULL;
    pc_free(mon_pc);
    mon_pc = NULL;
    unlink(mon_kernel);
}

TestSuite(monitor, .init = mon_setup, .fini = mon_teardown);

/* Runs a command; returns its answer (valid until the next call). */
static const char *run(const char *line)
{
    size_t len;
    free(run_text);
    run_text = NULL;
    FILE *out = open_memstream(&run_text, &len);
    cr_assert_not_null(out);
    monitor_execute(mon, line, out);
    fclose(out);
    return run_text;
}

#define HAS(answer, needle) cr_assert(strstr((answer), (needle)), "no '%s' in:\n%s", needle, answer)

/* 32-bit paging: 400000 user RW -> 300000, 401000 supervisor RO ->
 * 301000, 402000 not present; PD at 200000, PT at 201000. */
static void enable_paging(void)
{
    uint8_t *ram = pc_ram(mon_pc);
    uint32_t pde = 0x201000 | 7, pte0 = 0x300000 | 7, pte1 = 0x301000 | 1;
    memset(ram + 0x200000, 0, 0x2000);
    memcpy(ram + 0x200000 + 4 * 1, &pde, 4);
    memcpy(ram + 0x201000, &pte0, 4);
    memcpy(ram + 0x201004, &pte1, 4);
    /* And the kernel's own code, identity-mapped (4 MiB page). */
    uint32_t big = 0x00000083;
    memcpy(ram + 0x200000, &big, 4);
    struct cpu *cpu = pc_cpu(mon_pc);
    cpu->cr4 |= CR4_PSE;
    cpu->cr3 = 0x200000;
    cpu->cr0 |= CR0_PG | CR0_WP;
    cpu_tlb_flush(cpu);
}

Test(monitor, help)
{
    const char *a = run("help");
    HAS(a, "info registers");
    HAS(a, "walk ADDR");
    HAS(a, "screendump FILE");
    HAS(a, "sendkey");
}

Test(monitor, info_registers)
{
    const char *a = run("info registers");
    HAS(a, "EAX=2badb002");
    HAS(a, "EIP=00100020");
    HAS(a, "CS  =0008 00000000 ffffffff");
    HAS(a, "code readable");
    HAS(a, "GDT=");
    HAS(a, "IDT=");
    HAS(a, "LDT =");
    HAS(a, "TR  =");
    HAS(a, "CR0=00000011 [ET PE]");
    HAS(a, "DR7=00000400");
    HAS(a, "FPU: FCW=");
    HAS(a, "ST7=");
    HAS(a, "protected");
}

Test(monitor, info_tlb)
{
    pc_step(mon_pc, 10);
    const char *a = run("info tlb");
    /* The kernel's page was fetched from: an entry maps it. */
    HAS(a, "sup  00100000 -> 000100000");
    HAS(a, "entries");
}

Test(monitor, info_mem)
{
    HAS(run("info mem"), "paging is off");
    enable_paging();
    const char *a = run("info mem");
    HAS(a, "00000000-003fffff 00400000 -rwx");
    HAS(a, "00400000-00400fff 00001000 urwx");
    HAS(a, "00401000-00401fff 00001000 -r-x");
}

Test(monitor, walk)
{
    enable_paging();
    const char *a = run("walk 0x401234");
    HAS(a, "32-bit paging");
    HAS(a, "PDE   @000200004 = 00201007 [P RW US]");
    HAS(a, "PTE   @000201004 = 00301001 [P]");
    HAS(a, "-> physical 000301234");
    HAS(a, "read : cpl0 ok;  cpl3 #PF(0005): U/S clear in the PTE");
    HAS(a, "write: cpl0 #PF(0003): R/W clear in the PTE and CR0.WP set");
    a = run("walk 0x402000");
    HAS(a, "cpl0 #PF(0000): P clear in the PTE");
    HAS(run("walk"), "expected a linear address");
    HAS(run("walk $nosuchreg"), "expected a linear address");
}

Test(monitor, x_formats)
{
    uint8_t *ram = pc_ram(mon_pc);
    static const uint8_t bytes[] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
    memcpy(ram + 0x5000, bytes, sizeof(bytes));
    HAS(run("x/8xb 0x5000"), "00005000: 0x11 0x22 0x33 0x44 0x55 0x66 0x77 0x88");
    HAS(run("x/2xw 0x5000"), "00005000: 0x44332211 0x88776655");
    HAS(run("x/1xg 0x5000"), "0x8877665544332211");
    HAS(run("x/2dh 0x5006"), "-30601");
    HAS(run("x/1uw 20480"), "1144201745");
    HAS(run("xp/4xb 0x5000+4"), "00005004: 0x55 0x66 0x77 0x88");
    const char *a = run("x/3i $pc");
    HAS(a, "00100020: 40");
    HAS(a, "inc eax");
    HAS(a, "jmp 0x100020");
    HAS(run("x/2c 0x5000"), "'\"'");
}

Test(monitor, x_bad_input)
{
    HAS(run("x/4q 0x1000"), "unknown format letter 'q'");
    HAS(run("x/4x"), "expected an address");
    HAS(run("x/4x zzz"), "expected an address");
    HAS(run("x/99999999x 0"), "at most 4096 values");
    HAS(run("x/9999i 0x100020"), "at most 256 instructions");
    enable_paging();
    HAS(run("x/4xw 0x402000"), "cannot access memory at 00402000");
    HAS(run("x/2i 0x402000"), "cannot access memory");
    HAS(run("xp/1xw 0x1000000000"), "expected an address");
}

Test(monitor, stop_cont_step)
{
    cr_assert(!pc_paused(mon_pc));
    HAS(run("stop"), "0008:00100020");
    cr_assert(pc_paused(mon_pc));
    const char *a = run("step");
    HAS(a, "0008:00100021");
    HAS(a, "jmp");
    a = run("step 3"); /* jmp, inc, jmp */
    HAS(a, "0008:00100020");
    cr_assert_eq(pc_cpu(mon_pc)->regs[R_EAX], 0x2badb002u + 2);
    HAS(run("step 0"), "expected a count");
    HAS(run("step lots"), "expected a count");
    run("cont");
    cr_assert(!pc_paused(mon_pc));
}

Test(monitor, screendump)
{
    char path[64];
    strcpy(path, "/tmp/glass-shot-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "screendump %s", path);
    const char *a = run(cmd);
    HAS(a, "720x400");
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    uint8_t sig[24];
    cr_assert_eq(fread(sig, 1, sizeof(sig), f), sizeof(sig));
    fclose(f);
    unlink(path);
    cr_assert_eq(memcmp(sig, "\x89PNG\r\n\x1a\n", 8), 0);
    /* IHDR: width and height, big-endian. */
    cr_assert_eq(sig[16] << 24 | sig[17] << 16 | sig[18] << 8 | sig[19], 720);
    cr_assert_eq(sig[20] << 24 | sig[21] << 16 | sig[22] << 8 | sig[23], 400);
    HAS(run("screendump"), "expected a file name");
    HAS(run("screendump /nonexistent-dir/x.png"), "No such file");
}

Test(monitor, sendkey)
{
    struct io_space *io = pc_io(mon_pc);
    /* Nothing to read before; enable the keyboard as firmware does. */
    cr_assert_eq(io_read(io, 0x64, 1) & 1, 0);
    run("sendkey ctrl-alt-delete");
    cr_assert_eq(io_read(io, 0x64, 1) & 1, 1, "the 8042 has a scancode");
    HAS(run("sendkey ctrl-nosuchkey"), "unknown key 'nosuchkey'");
    HAS(run("sendkey"), "expected keys");
    HAS(run("sendkey a-b-c-d-e-f-g-h-i"), "at most 8 keys");
    cr_assert_eq(key_usage("a", 1), 0x04);
    cr_assert_eq(key_usage("f12", 3), 0x45);
    cr_assert_eq(key_usage("f13", 3), -1);
    cr_assert_eq(key_usage("kp_0", 4), 0x62);
    cr_assert_eq(key_usage("delete", 6), 0x4c);
}

Test(monitor, system_powerdown)
{
    struct io_space *io = pc_io(mon_pc);
    cr_assert_eq(io_read(io, PIIX4_PM_BASE_DEFAULT, 2) & 0x100, 0);
    run("system_powerdown");
    cr_assert_eq(io_read(io, PIIX4_PM_BASE_DEFAULT, 2) & 0x100, 0x100, "PWRBTN_STS");
}

/* system_reset through the run loop: under -no-reboot the machine stops. */
static bool reset_from_poll(void *opaque)
{
    (void)opaque;
    run("system_reset");
    return true;
}

/* Criterion runs the suite's .init, then the test's. */
Test(monitor, system_reset, .init = cr_redirect_stderr)
{
    /* The suite's machine, built again with the poll callback. */
    monitor_free(mon);
    pc_free(mon_pc);
    const struct pc_config cfg = { .ram_size = 8u << 20, .kernel = mon_kernel,
                                   .no_reboot = true, .poll = reset_from_poll };
    mon_pc = pc_new(&cfg, mon_err, sizeof(mon_err));
    cr_assert_not_null(mon_pc);
    mon = monitor_new(mon_pc);
    cr_assert_eq(pc_run(mon_pc), 0);
    fflush(stderr);
    cr_assert_stderr_eq_str("glass: the guest requested a reset; stopping (-no-reboot)\n");
}

Test(monitor, info_devices)
{
    HAS(run("info pic"), "pic master irr=");
    HAS(run("info pit"), "pit channel 2:");
    const char *a = run("info pci");
    HAS(a, "pci 00:00.0 8086:1237");
    HAS(a, "pci 00:02.0 1234:1111");
    HAS(a, "BAR0 mem 16777216 bytes");
    HAS(run("info block"), "ide0 primary master: empty");
    HAS(run("info bogus"), "info: expected registers");
    HAS(run("info"), "info: expected registers");
}

Test(monitor, info_jit)
{
    pc_step(mon_pc, 1000);
    const char *a = run("info jit");
    if (cpu_exec_jit_available())
        HAS(a, "jit");
    else
        HAS(a, "has not run");
}

Test(monitor, quit_and_bad_lines)
{
    HAS(run("frobnicate now"), "unknown command: 'frobnicate'");
    cr_assert_str_eq(run("   "), "");
    char longline[MONITOR_LINE_MAX + 10];
    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    HAS(run(longline), "too long");
    cr_assert(!monitor_quit_requested(mon));
    FILE *out = fopen("/dev/null", "w");
    cr_assert_eq(monitor_execute(mon, "quit", out), MONITOR_QUIT);
    fclose(out);
    cr_assert(monitor_quit_requested(mon));
}

/* The session: bytes in, prompts and answers out. */
static char sess_out[8192];
static size_t sess_len;

static void sess_write(void *opaque, const void *buf, size_t len)
{
    (void)opaque;
    if (sess_len + len < sizeof(sess_out)) {
        memcpy(sess_out + sess_len, buf, len);
        sess_len += len;
        sess_out[sess_len] = '\0';
    }
}

Test(monitor, session_line_editing)
{
    sess_len = 0;
    sess_out[0] = '\0';
    struct monitor_session *s = monitor_session_new(mon, sess_write, NULL, false);
    monitor_session_prompt(s);
    /* "info pix", backspace, "c", CR LF. */
    static const uint8_t typed[] = "info pix\x7f" "c\r\n";
    monitor_session_input(s, typed, sizeof(typed) - 1);
    HAS(sess_out, "(glass) pic master");
    cr_assert(strstr(sess_out, "pic INT output") < strrchr(sess_out, '('));
    /* An overlong line is refused whole, then the next one works. */
    static uint8_t big[MONITOR_LINE_MAX + 50];
    memset(big, 'a', sizeof(big));
    monitor_session_input(s, big, sizeof(big));
    monitor_session_input(s, (const uint8_t *)"\nhelp\n", 6);
    HAS(sess_out, "too long");
    HAS(sess_out, "info registers");
    monitor_session_free(s);
}
