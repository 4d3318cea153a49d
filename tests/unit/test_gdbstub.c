/*
 * test_gdbstub.c — frontend/gdbstub.c: the packet framing (acks, bad
 * checksums, oversized packets), the target description, registers in
 * gdb's i386 order (G takes back what g gave; P of a segment register
 * loads it as the mode would), memory above 1 MiB and over translated
 * code, breakpoints and watchpoints through the CPU's lists, step,
 * Ctrl-C, qRcmd; and a fuzzer that throws random bytes and random
 * well-framed packets at the parser.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp */

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/frontend.h"
#include "translate/translate.h"

static char gs_kernel[64];
static char gs_err[HW_ERR_MAX];
static struct pc *gs_pc;
static struct gdbstub *gs;
static char *gs_out;
static size_t gs_len, gs_cap;

static void gs_write(void *opaque, const void *buf, size_t len)
{
    (void)opaque;
    if (gs_len + len + 1 > gs_cap) {
        gs_cap = (gs_len + len + 1) * 2;
        gs_out = realloc(gs_out, gs_cap);
        cr_assert_not_null(gs_out);
    }
    memcpy(gs_out + gs_len, buf, len);
    gs_len += len;
    gs_out[gs_len] = '\0';
}

/* Kernel at 1 MiB: inc eax; jmp back. */
static void gs_setup(void)
{
    strcpy(gs_kernel, "/tmp/glass-gdb-XXXXXX");
    int fd = mkstemp(gs_kernel);
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
        .ram_size = 8u << 20, .kernel = gs_kernel, .no_reboot = true,
        .engine = cpu_exec_jit_available() ? CPU_ENGINE_JIT : CPU_ENGINE_INTERP,
    };
    gs_pc = pc_new(&cfg, gs_err, sizeof(gs_err));
    cr_assert_not_null(gs_pc, "%s", gs_err);
    gs = gdbstub_new(gs_pc, NULL, gs_write, NULL);
    cr_assert_not_null(gs);
    gs_len = 0;
}

static void gs_teardown(void)
{
    gdbstub_free(gs);
    pc_free(gs_pc);
    unlink(gs_kernel);
    free(gs_out);
    gs_out = NULL;
    gs_len = gs_cap = 0;
}

TestSuite(gdbstub, .init = gs_setup, .fini = gs_teardown);

static void feed(const void *buf, size_t n)
{
    gdbstub_input(gs, buf, n);
}

/* Sends $data#cs; returns the reply's data (after the '+' ack). */
static const char *req(const char *data)
{
    size_t n = strlen(data);
    char *frame = malloc(n + 5);
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + (uint8_t)data[i]);
    sprintf(frame, "$%s#%02x", data, sum);
    gs_len = 0;
    if (gs_out)
        gs_out[0] = '\0';
    feed(frame, n + 4);
    free(frame);
    static char last[65536];
    last[0] = '\0';
    if (!gs_out)
        return last;
    /* The last packet's data. */
    char *d = strrchr(gs_out, '$');
    char *h = d ? strrchr(d, '#') : NULL;
    if (d && h) {
        size_t len = (size_t)(h - d - 1);
        memcpy(last, d + 1, len < sizeof(last) - 1 ? len : sizeof(last) - 1);
        last[len < sizeof(last) - 1 ? len : sizeof(last) - 1] = '\0';
    }
    return last;
}

Test(gdbstub, framing_and_acks)
{
    req("qSupported:multiprocess+");
    cr_assert_eq(gs_out[0], '+');
    cr_assert(strstr(gs_out, "PacketSize=4000;qXfer:features:read+"), "%s", gs_out);
    gs_len = 0;
    feed("$g#00", 5); /* bad checksum */
    cr_assert_str_eq(gs_out, "-");
    gs_len = 0;
    feed("$g#zz", 5); /* not hex */
    cr_assert_str_eq(gs_out, "-");
    /* An unknown packet: the empty reply. */
    cr_assert_str_eq(req("vMustReplyEmpty"), "");
    cr_assert_str_eq(req("Jfoo"), "");
}

Test(gdbstub, oversized_packet_is_refused)
{
    size_t n = GDB_PACKET_MAX + 100;
    char *big = malloc(n + 5);
    big[0] = '$';
    memset(big + 1, 'm', n);
    memcpy(big + 1 + n, "#00", 3);
    gs_len = 0;
    feed(big, n + 4);
    free(big);
    cr_assert_str_eq(gs_out, "-");
    /* And the next packet is served. */
    cr_assert_str_eq(req("qAttached"), "1");
}

Test(gdbstub, stop_reason_and_target_xml)
{
    cr_assert_str_eq(req("?"), "T05thread:01;");
    cr_assert(pc_paused(gs_pc));
    /* Read the description in small pieces. */
    char xml[16384] = "";
    size_t off = 0;
    for (;;) {
        char q[96];
        snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%zx,80", off);
        const char *r = req(q);
        cr_assert(r[0] == 'm' || r[0] == 'l', "%s", r);
        strcat(xml, r + 1);
        off += strlen(r + 1);
        if (r[0] == 'l')
            break;
    }
    cr_assert(strstr(xml, "<architecture>i386</architecture>"));
    cr_assert(strstr(xml, "org.gnu.gdb.i386.core"));
    cr_assert(strstr(xml, "name=\"st7\" bitsize=\"80\""));
    cr_assert(strstr(xml, "name=\"cr3\""));
    cr_assert(strstr(xml, "</target>"));
    cr_assert_str_eq(req("qXfer:features:read:other.xml:0,10"), "E00");
    cr_assert_str_eq(req("qXfer:features:read:target.xml:zz"), "E01");
}

Test(gdbstub, registers_in_gdb_order)
{
    struct cpu *cpu = pc_cpu(gs_pc);
    cpu->regs[R_ECX] = 0x11223344;
    const char *g = req("g");
    /* 16 + 8 fpu control + 16 system registers of 4 bytes, 8 of 10. */
    cr_assert_eq(strlen(g), 2 * (40 * 4 + 8 * 10), "%zu", strlen(g));
    cr_assert_eq(strncmp(g, "02b0ad2b44332211", 16), 0, "%.16s", g);
    /* eip at 8, eflags at 9, cs at 10 */
    cr_assert_eq(strncmp(g + 8 * 8, "20001000", 8), 0, "%.8s", g + 64);
    cr_assert_eq(strncmp(g + 10 * 8, "08000000", 8), 0);
    cr_assert_str_eq(req("p8"), "20001000");
    cr_assert_str_eq(req("pa"), "08000000");                   /* cs */
    cr_assert_eq(strlen(req("p10")), 20);                       /* st0: 80 bits */
    cr_assert_str_eq(req("p99"), "E00");
    cr_assert_str_eq(req("pzz"), "E01");
    cr_assert_str_eq(req("P0=78563412"), "OK");
    cr_assert_eq(cpu->regs[R_EAX], 0x12345678);
    cr_assert_str_eq(req("P0=7856"), "E01");
    cr_assert_str_eq(req("P9=03010000"), "OK"); /* eflags: CF, bit 1, TF */
    cr_assert_eq(cpu_get_eflags(cpu) & (FL_TF | FL_CF), FL_TF | FL_CF);
}

Test(gdbstub, G_takes_back_what_g_gave)
{
    struct cpu *cpu = pc_cpu(gs_pc);
    /* Real mode with a base that is not selector x 16 (unreal mode). */
    cpu->cr0 &= ~CR0_PE;
    cpu->seg[SEG_DS].sel = 0x1234;
    cpu->seg[SEG_DS].base = 0xabc000;
    cpu->fpu.top = 3;
    cpu->fpu.st[3].sig = 0x8000000000000000ull;
    cpu->fpu.st[3].sign_exp = 0x3fff;
    struct cpu before = *cpu;
    char g[4096];
    strcpy(g, req("g"));
    char G[4100] = "G";
    strcat(G, g);
    cr_assert_str_eq(req(G), "OK");
    cr_assert_eq(memcmp(cpu->regs, before.regs, sizeof(before.regs)), 0);
    cr_assert_eq(memcmp(cpu->seg, before.seg, sizeof(before.seg)), 0);
    cr_assert_eq(cpu->eip, before.eip);
    cr_assert_eq(cpu->cr0, before.cr0);
    cr_assert_eq(memcmp(&cpu->fpu, &before.fpu, sizeof(before.fpu)), 0);
    /* A P of the same selector loads it as real mode does. */
    cr_assert_str_eq(req("Pc=34120000"), "OK");
    cr_assert_eq(cpu->seg[SEG_DS].base, 0x12340);
    /* A truncated G is refused. */
    cr_assert_str_eq(req("G0102"), "E01");
}

Test(gdbstub, memory_above_1mib_and_over_code)
{
    struct cpu *cpu = pc_cpu(gs_pc);
    cr_assert_str_eq(req("M200000,4:deadbeef"), "OK");
    cr_assert_str_eq(req("m200000,4"), "deadbeef");
    cr_assert_eq(pc_ram(gs_pc)[0x200000], 0xde);
    /* X with an escaped '#' (0x23 -> '}' 0x03). */
    static const char x[] = "X200010,2:}\x03" "A";
    gs_len = 0;
    char frame[64];
    uint8_t sum = 0;
    for (size_t i = 0; i < sizeof(x) - 1; i++)
        sum = (uint8_t)(sum + (uint8_t)x[i]);
    int n = snprintf(frame, sizeof(frame), "$%s#%02x", x, sum);
    feed(frame, (size_t)n);
    cr_assert(strstr(gs_out, "$OK#"), "%s", gs_out);
    cr_assert_eq(pc_ram(gs_pc)[0x200010], 0x23);
    cr_assert_eq(pc_ram(gs_pc)[0x200011], 'A');
    /* Run the code translated, then patch inc eax into dec eax. */
    pc_step(gs_pc, 100);
    uint32_t eax = cpu->regs[R_EAX];
    cr_assert_neq(eax, 0x2badb002u);
    cr_assert_str_eq(req("M100020,1:48"), "OK");
    cpu->eip = 0x100020;
    pc_step(gs_pc, 10);
    cr_assert(cpu->regs[R_EAX] < eax, "the patched code ran: %x %x", cpu->regs[R_EAX], eax);
    /* Beyond RAM and its holes there is nothing to map without paging;
     * with bad syntax, an error. */
    cr_assert_str_eq(req("m100000000,4"), "E01");
    cr_assert_str_eq(req("mzz"), "E01");
    cr_assert_str_eq(req("M200000,4:dead"), "E01");
    cr_assert_str_eq(req("M200000,ffffffff:00"), "E01");
}

Test(gdbstub, breakpoints_watchpoints_step)
{
    struct cpu *cpu = pc_cpu(gs_pc);
    cr_assert_str_eq(req("Z0,100021,1"), "OK");
    cr_assert_eq(pc_step(gs_pc, 100), CPU_EXIT_DEBUG);
    cr_assert_eq(cpu->eip, 0x100021);
    cr_assert_str_eq(req("z0,100021,1"), "OK");
    cr_assert_str_eq(req("z0,100021,1"), "E0e");
    cr_assert_str_eq(req("Z1,100020,1"), "OK");
    cr_assert_str_eq(req("Z2,200000,4"), "OK");
    cr_assert_str_eq(req("Z2,200000,0"), "E01");
    cr_assert_str_eq(req("Z9,200000,4"), "E01");
    cr_assert_str_eq(req("Z2,200000"), "E01");
    /* s: one instruction, then a stop reply. */
    pc_pause(gs_pc);
    cr_assert_str_eq(req("s"), "T05thread:01;");
    cr_assert_eq(cpu->eip, 0x100020);
    cr_assert_str_eq(req("s"), "T05thread:01;");
    cr_assert_eq(cpu->eip, 0x100021);
    cr_assert_str_eq(req("D"), "OK");
    cr_assert(gdbstub_detached(gs));
    cr_assert_eq(cpu->dbg.nbrk, 0);
    cr_assert_eq(cpu->dbg.nwatch, 0);
    cr_assert(!pc_paused(gs_pc));
}

Test(gdbstub, continue_ctrl_c_and_stop_replies)
{
    req("?");
    gs_len = 0;
    feed("$c#63", 5);
    cr_assert_str_eq(gs_out, "+", "no reply until it stops");
    cr_assert(!pc_paused(gs_pc));
    gs_len = 0;
    feed("\x03", 1);
    cr_assert(strstr(gs_out, "$T02thread:01;#"), "%s", gs_out);
    cr_assert(pc_paused(gs_pc));
    /* A breakpoint stop while running reports a watchpoint's address. */
    feed("$c#63", 5);
    gs_len = 0;
    struct cpu_dbg_stop w = { CPU_DBG_WATCH, CPU_WATCH_WRITE, 0x2000 };
    gdbstub_stopped(gs, &w);
    cr_assert(strstr(gs_out, "T05thread:01;watch:00002000;"), "%s", gs_out);
    gs_len = 0;
    gdbstub_stopped(gs, &w); /* not running: nothing */
    cr_assert_eq(gs_len, 0);
}

Test(gdbstub, monitor_commands)
{
    struct monitor *mon = monitor_new(gs_pc);
    gdbstub_free(gs);
    gs = gdbstub_new(gs_pc, mon, gs_write, NULL);
    /* "info pic" in hex */
    const char *cmd = "info pic";
    char q[64] = "qRcmd,";
    for (const char *c = cmd; *c; c++)
        sprintf(q + strlen(q), "%02x", *c);
    cr_assert_str_eq(req(q), "OK");
    cr_assert(strstr(gs_out, "$O706963"), "%s", gs_out); /* "pic" */
    cr_assert_str_eq(req("qRcmd,zz"), "E01");
    cr_assert_str_eq(req("qRcmd,616"), "E01");
    monitor_free(mon);
}

Test(gdbstub, kill)
{
    req("k");
    cr_assert(gdbstub_kill_requested(gs));
}

/* Random bytes, then random well-framed packets whose first letter is a
 * command the stub knows: nothing may crash or read out of bounds (run
 * under the sanitizers in CI). */
Test(gdbstub, fuzz)
{
    unsigned seed = 12345;
    uint8_t buf[512];
    for (int round = 0; round < 400; round++) {
        for (size_t i = 0; i < sizeof(buf); i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (uint8_t)(seed >> 16);
        }
        feed(buf, sizeof(buf));
    }
    static const char cmds[] = "?gGpPmMXZzcsqQHTDk";
    static const char alphabet[] = "0123456789abcdefABCDEF,:;=}#$xXqQ-";
    for (int round = 0; round < 3000; round++) {
        char data[300];
        seed = seed * 1103515245u + 12345u;
        size_t n = 1 + (seed >> 16) % (sizeof(data) - 2);
        data[0] = cmds[(seed >> 8) % (sizeof(cmds) - 1)];
        for (size_t i = 1; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            data[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        data[n] = '\0';
        req(data);
        if (gdbstub_detached(gs) || gdbstub_kill_requested(gs)) {
            gdbstub_free(gs);
            gs = gdbstub_new(gs_pc, NULL, gs_write, NULL);
        }
    }
    cr_assert_str_eq(req("qAttached"), "1");
}
