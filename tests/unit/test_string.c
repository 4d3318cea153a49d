/*
 * test_string.c — cpu/string.c: MOVS CMPS STOS LODS SCAS INS OUTS in all
 * widths, DF, 16-bit address wrap, REP/REPE/REPNE termination, faults in
 * the middle of a REP (segment limit and page fault), the iteration budget
 * and the REP MOVS/STOS fast path against an element-by-element model.
 * Expected values come from the SDM pseudocode, not from the code.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime for the timing loop */
#include <criterion/criterion.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/internal.h"

#define STRT_RAM_SIZE (4u << 20) /* 4 MiB at physical 0 */
#define STRT_BUDGET 1024u        /* cpu/string.c STRING_SLOW_BUDGET */

struct strt_env {
    struct cpu *cpu;
    uint8_t *ram;
};

static struct strt_env strt;

/* A port device: reads return 0x11, 0x22, ... (times the size pattern),
 * writes are logged. */
static uint32_t strt_port_next;
static uint32_t strt_port_log[16];
static unsigned strt_port_nlog;

static uint64_t strt_port_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)opaque;
    (void)addr;
    strt_port_next += 0x11;
    return size == 1 ? (strt_port_next & 0xff) : size == 2 ? (strt_port_next * 0x101u) & 0xffff
                                                           : strt_port_next * 0x01010101u;
}

static void strt_port_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)opaque;
    (void)addr;
    (void)size;
    if (strt_port_nlog < 16)
        strt_port_log[strt_port_nlog++] = (uint32_t)val;
}

static const struct mem_ops strt_port_ops = { .read = strt_port_read, .write = strt_port_write };

static void strt_flat_seg(struct seg *s, uint32_t base, uint32_t limit, bool code)
{
    s->sel = 0x10;
    s->base = base;
    s->limit = limit;
    s->ar = AR_P | AR_S | AR_DB | (code ? (AR_T_CODE | AR_T_READABLE) : AR_T_WRITABLE) |
            AR_T_ACCESSED;
}

/* Flat 32-bit protected mode, CPL 0, no paging. */
static void strt_setup(void)
{
    strt.ram = calloc(1, STRT_RAM_SIZE);
    struct cpu *cpu = calloc(1, sizeof(*cpu));
    cpu->bus.mem = phys_new();
    cpu->bus.io = io_new();
    cr_assert_eq(phys_map_ram(cpu->bus.mem, 0, STRT_RAM_SIZE, strt.ram), 0);
    io_register(cpu->bus.io, 0x300, 4, &strt_port_ops, NULL);
    tlb_init(&cpu->tlb);
    cpu->eflags = FL_FIXED1;
    cpu->cc.op = CC_EAGER;
    cpu->exc_vector = -1;
    cpu->exc_delivering = -1;
    cpu->cr0 = CR0_PE | CR0_ET;
    for (int s = 0; s < SEG_COUNT; s++)
        strt_flat_seg(&cpu->seg[s], 0, 0xffffffffu, s == SEG_CS);
    cpu->code32 = cpu->stack32 = 1;
    cpu->eip = 0x1000;
    cpu->next_eip = 0x1002;
    strt_port_next = 0;
    strt_port_nlog = 0;
    strt.cpu = cpu;
}

static void strt_teardown(void)
{
    phys_free(strt.cpu->bus.mem);
    io_free(strt.cpu->bus.io);
    free(strt.cpu);
    free(strt.ram);
}

/* Real mode: 64 KiB segments at sel << 4. */
static void strt_real_mode(struct cpu *cpu)
{
    cpu->cr0 = CR0_ET;
    for (int s = 0; s < SEG_COUNT; s++) {
        cpu->seg[s].sel = 0x1000;
        cpu->seg[s].base = 0x10000;
        cpu->seg[s].limit = 0xffff;
        cpu->seg[s].ar = AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED;
    }
    cpu->code32 = cpu->stack32 = 0;
}

static struct insn strt_insn(enum op op, unsigned width, unsigned rep, unsigned adsize)
{
    struct insn in;
    memset(&in, 0, sizeof(in));
    in.op = (uint16_t)op;
    in.len = 2;
    in.opsize = width == 2 ? 2 : 4;
    in.adsize = (uint8_t)adsize;
    in.seg = SEG_DS;
    in.seg_override = SEG_NONE;
    in.rep = (uint8_t)rep;
    in.ea_base = in.ea_index = EA_NO_REG;
    in.dst = (struct operand){ .kind = OPND_NONE, .width = (uint8_t)width };
    return in;
}

static insn_fn strt_handler(enum op op)
{
    for (const struct op_handler *h = string_handlers; h->fn; h++)
        if (h->op == op)
            return h->fn;
    return NULL;
}

/* Runs one handler call; returns the vector raised or -1. */
static int strt_exec(struct cpu *cpu, const struct insn *in)
{
    jmp_buf jb;
    insn_fn volatile fn = strt_handler((enum op)in->op);
    cr_assert(fn != NULL);
    cpu->next_eip = cpu->eip + in->len;
    cpu->fault_jmp = &jb;
    cpu->exc_vector = -1;
    if (setjmp(jb)) {
        cpu->fault_jmp = NULL;
        return cpu->exc_vector;
    }
    fn(cpu, in);
    cpu->fault_jmp = NULL;
    return -1;
}

/* Runs until the instruction completes (next_eip moves past it) or
 * faults; returns the vector or -1. */
static int strt_exec_all(struct cpu *cpu, const struct insn *in, unsigned *calls)
{
    unsigned n = 0;
    for (;;) {
        int v = strt_exec(cpu, in);
        n++;
        if (v >= 0 || cpu->next_eip != cpu->eip) {
            if (calls)
                *calls = n;
            return v;
        }
    }
}

static void strt_fill(uint32_t addr, uint32_t len, uint32_t seed)
{
    /* A hash of the physical address: no two pages look alike. */
    for (uint32_t i = 0; i < len; i++) {
        uint32_t x = (addr + i) * 0x85ebca6bu + seed * 0x9e3779b9u;
        x ^= x >> 13;
        x *= 0xc2b2ae35u;
        x ^= x >> 16;
        strt.ram[addr + i] = (uint8_t)x;
    }
}

TestSuite(string_ops, .init = strt_setup, .fini = strt_teardown);

/* ------------------------------------------------------------------ */

Test(string_ops, movs_widths_df0_df1)
{
    struct cpu *cpu = strt.cpu;
    for (unsigned w = 1; w <= 4; w *= 2) {
        for (int df = 0; df < 2; df++) {
            memset(strt.ram + 0x2000, 0, 0x100);
            memcpy(strt.ram + 0x3000, "\x81\x92\xa3\xb4", 4);
            cpu->regs[R_ESI] = 0x3000;
            cpu->regs[R_EDI] = 0x2010;
            cpu->regs[R_ECX] = 77;
            cpu->eflags = FL_FIXED1 | (df ? FL_DF : 0);
            struct insn in = strt_insn(OP_MOVS, w, REP_NONE, 4);
            cr_assert_eq(strt_exec(cpu, &in), -1);
            cr_assert_eq(memcmp(strt.ram + 0x2010, "\x81\x92\xa3\xb4", w), 0, "w=%u", w);
            cr_assert_eq(strt.ram[0x2010 + w], 0);
            uint32_t d = df ? (uint32_t)-(int32_t)w : w;
            cr_assert_eq(cpu->regs[R_ESI], 0x3000 + d);
            cr_assert_eq(cpu->regs[R_EDI], 0x2010 + d);
            cr_assert_eq(cpu->regs[R_ECX], 77, "no REP: ECX untouched");
            cr_assert_eq(cpu->next_eip, cpu->eip + 2);
        }
    }
}

Test(string_ops, movs_segment_override_source_only)
{
    struct cpu *cpu = strt.cpu;
    cpu->seg[SEG_FS].base = 0x100000;
    cpu->seg[SEG_ES].base = 0x200000;
    strt.ram[0x100040] = 0xaa;
    strt.ram[0x40] = 0xbb;
    cpu->regs[R_ESI] = 0x40;
    cpu->regs[R_EDI] = 0x80;
    struct insn in = strt_insn(OP_MOVS, 1, REP_NONE, 4);
    in.seg = SEG_FS;
    in.seg_override = SEG_FS;
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(strt.ram[0x200080], 0xaa);
    cr_assert_eq(strt.ram[0x80], 0);
}

/* Element-by-element reference model of REP MOVS / STOS on host RAM
 * (SDM pseudocode, flat segments). */
static void strt_model(uint8_t *mem, bool movs, uint32_t si, uint32_t di, uint32_t count,
                       unsigned w, bool down, uint32_t eax)
{
    for (uint32_t i = 0; i < count; i++) {
        uint8_t tmp[4];
        if (movs)
            memcpy(tmp, mem + si, w);
        else
            memcpy(tmp, &eax, 4);
        memcpy(mem + di, tmp, w);
        si += down ? -w : w;
        di += down ? -w : w;
    }
}

static void strt_check_rep(bool movs, uint32_t si, uint32_t di, uint32_t count, unsigned w,
                           bool down, unsigned rep)
{
    struct cpu *cpu = strt.cpu;
    const uint32_t lo = 0x100000, len = 0x200000;
    uint8_t *expect = malloc(STRT_RAM_SIZE);
    strt_fill(lo, len, si ^ di ^ count);
    memcpy(expect, strt.ram, STRT_RAM_SIZE);
    uint32_t eax = 0xc3b2a190u;
    strt_model(expect, movs, si, di, count, w, down, eax);
    cpu->regs[R_ESI] = si;
    cpu->regs[R_EDI] = di;
    cpu->regs[R_ECX] = count;
    cpu->regs[R_EAX] = eax;
    cpu->eflags = FL_FIXED1 | (down ? FL_DF : 0);
    struct insn in = strt_insn(movs ? OP_MOVS : OP_STOS, w, rep, 4);
    cr_assert_eq(strt_exec_all(cpu, &in, NULL), -1);
    uint32_t d = count * w;
    if (down)
        d = (uint32_t)-d;
    if (movs)
        cr_assert_eq(cpu->regs[R_ESI], si + d, "movs=%d w=%u down=%d", movs, w, down);
    else
        cr_assert_eq(cpu->regs[R_ESI], si);
    cr_assert_eq(cpu->regs[R_EDI], di + d);
    cr_assert_eq(cpu->regs[R_ECX], 0);
    cr_assert_eq(cpu->next_eip, cpu->eip + 2);
    for (uint32_t i = lo; i < lo + len && memcmp(strt.ram + lo, expect + lo, len); i++)
        cr_assert_eq(strt.ram[i], expect[i], "byte %#x movs=%d w=%u down=%d si=%#x di=%#x", i,
                     movs, w, down, si, di);
    free(expect);
}

Test(string_ops, rep_movs_stos_all_widths_match_model)
{
    for (unsigned w = 1; w <= 4; w *= 2) {
        for (int down = 0; down < 2; down++) {
            uint32_t base = down ? 0x150000 : 0x110000;
            /* disjoint, across many pages, unaligned */
            strt_check_rep(true, base + 0x123, base + 0x20007, 9000, w, down, REP_E);
            /* source and destination pages 1 MiB apart share a TLB slot */
            strt_check_rep(true, base + 0x10, base + 0x100010, 9000, w, down, REP_E);
            /* STOS; F2 also means REP for STOS */
            strt_check_rep(false, 0, base + 0x35, 7000, w, down, REP_NE);
        }
    }
}

/* With a data breakpoint enabled the fast path is off: the per-element
 * path must give the same results. */
Test(string_ops, rep_movs_stos_slow_path_matches_model)
{
    strt.cpu->dr[7] = 0x400; /* reserved bit: no breakpoint, but L/G bits clear */
    strt.cpu->dr[7] |= 0x1;  /* L0 with DR0 = 0 (the stub ignores hits) */
    for (unsigned w = 1; w <= 4; w *= 2)
        for (int down = 0; down < 2; down++) {
            strt_check_rep(true, 0x130ffd, 0x130ffd + 3, 3000, w, down, REP_E);
            strt_check_rep(true, 0x110123, 0x128007, 3000, w, down, REP_E);
            strt_check_rep(false, 0, 0x140035, 3000, w, down, REP_E);
        }
}

Test(string_ops, rep_movs_overlap_is_element_order)
{
    static const int32_t deltas[] = { 1, 2, 3, 5, -1, -3, 4096, -4095, 0 };
    for (unsigned w = 1; w <= 4; w *= 2)
        for (int down = 0; down < 2; down++)
            for (size_t k = 0; k < sizeof(deltas) / sizeof(deltas[0]); k++) {
                uint32_t si = 0x130ffd;
                strt_check_rep(true, si, si + (uint32_t)deltas[k], 3000, w, down, REP_E);
            }
}

Test(string_ops, rep_count_zero_does_nothing)
{
    struct cpu *cpu = strt.cpu;
    static const enum op ops[] = { OP_MOVS, OP_CMPS, OP_STOS, OP_LODS, OP_SCAS, OP_INS, OP_OUTS };
    for (size_t k = 0; k < 7; k++) {
        memset(strt.ram + 0x5000, 0x77, 16);
        cpu->regs[R_EAX] = 0x12345678;
        cpu->regs[R_ECX] = 0xffff0000u; /* CX = 0 with a 16-bit address size */
        cpu->regs[R_ESI] = 0x5000;
        cpu->regs[R_EDI] = 0x5004;
        cpu->cc.op = CC_EAGER;
        cpu->eflags = FL_FIXED1 | FL_CF | FL_SF;
        struct insn in = strt_insn(ops[k], 4, REP_E, 2);
        cr_assert_eq(strt_exec(cpu, &in), -1);
        cr_assert_eq(cpu->regs[R_ESI], 0x5000);
        cr_assert_eq(cpu->regs[R_EDI], 0x5004);
        cr_assert_eq(cpu->regs[R_ECX], 0xffff0000u);
        cr_assert_eq(cpu->regs[R_EAX], 0x12345678);
        cr_assert_eq(cpu_get_eflags(cpu) & FL_ARITH, FL_CF | FL_SF, "flags kept");
        cr_assert_eq(strt.ram[0x5004], 0x77);
        cr_assert_eq(strt_port_nlog, 0);
        cr_assert_eq(strt_port_next, 0);
        cr_assert_eq(cpu->next_eip, cpu->eip + 2);
    }
}

Test(string_ops, adsize16_wraps_index_and_count_low_halves)
{
    struct cpu *cpu = strt.cpu;
    strt_real_mode(cpu);
    cpu->regs[R_EDI] = 0xabcdfffeu;
    cpu->regs[R_ECX] = 0x55550004u;
    cpu->regs[R_EAX] = 0x4e;
    struct insn in = strt_insn(OP_STOS, 1, REP_E, 2);
    cr_assert_eq(strt_exec(cpu, &in), -1);
    /* ES base 0x10000: DI = FFFE, FFFF, 0000, 0001 */
    cr_assert_eq(strt.ram[0x1fffe], 0x4e);
    cr_assert_eq(strt.ram[0x1ffff], 0x4e);
    cr_assert_eq(strt.ram[0x10000], 0x4e);
    cr_assert_eq(strt.ram[0x10001], 0x4e);
    cr_assert_eq(strt.ram[0x20000], 0, "no write past the 64 KiB wrap");
    cr_assert_eq(cpu->regs[R_EDI], 0xabcd0002u);
    cr_assert_eq(cpu->regs[R_ECX], 0x55550000u);

    /* DF = 1, LODSW: SI 0x0000 -> 0xFFFE */
    cpu->eflags |= FL_DF;
    strt.ram[0x10000] = 0x34;
    strt.ram[0x10001] = 0x12;
    cpu->regs[R_ESI] = 0x77770000u;
    cpu->regs[R_EAX] = 0xdeadbeefu;
    in = strt_insn(OP_LODS, 2, REP_NONE, 2);
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0xdead1234u);
    cr_assert_eq(cpu->regs[R_ESI], 0x7777fffeu);
}

Test(string_ops, lods_widths)
{
    struct cpu *cpu = strt.cpu;
    memcpy(strt.ram + 0x6000, "\xf1\xe2\xd3\xc4", 4);
    for (unsigned w = 1; w <= 4; w *= 2) {
        cpu->regs[R_EAX] = 0x99999999u;
        cpu->regs[R_ESI] = 0x6000;
        struct insn in = strt_insn(OP_LODS, w, REP_NONE, 4);
        cr_assert_eq(strt_exec(cpu, &in), -1);
        uint32_t expect = w == 1 ? 0x999999f1u : w == 2 ? 0x9999e2f1u : 0xc4d3e2f1u;
        cr_assert_eq(cpu->regs[R_EAX], expect);
        cr_assert_eq(cpu->regs[R_ESI], 0x6000 + w);
    }
}

Test(string_ops, cmps_scas_flags_as_cmp)
{
    struct cpu *cpu = strt.cpu;
    /* CMPS: SRC1 = [ESI] = 0x80.., SRC2 = [EDI] = 1: 0x80..-1 sets OF, not CF. */
    for (unsigned w = 1; w <= 4; w *= 2) {
        uint32_t top = 1u << (w * 8 - 1);
        memset(strt.ram + 0x7000, 0, 8);
        memcpy(strt.ram + 0x7000, &top, w);
        strt.ram[0x7100] = 1;
        memset(strt.ram + 0x7101, 0, 3);
        cpu->regs[R_ESI] = 0x7000;
        cpu->regs[R_EDI] = 0x7100;
        struct insn in = strt_insn(OP_CMPS, w, REP_NONE, 4);
        cr_assert_eq(strt_exec(cpu, &in), -1);
        uint32_t f = cpu_get_eflags(cpu) & FL_ARITH;
        /* 0x80.. - 1 = 0x7f..: OF=1, SF=0, ZF=0, CF=0, AF=1 (borrow from
         * bit 4); PF from the low byte only: 0x7f (7 bits) odd, 0xff even */
        uint32_t pf = w == 1 ? 0 : FL_PF;
        cr_assert_eq(f, FL_OF | FL_AF | pf, "w=%u flags %#x", w, f);
        cr_assert_eq(cpu->regs[R_ESI], 0x7000 + w);
        cr_assert_eq(cpu->regs[R_EDI], 0x7100 + w);

        /* SCAS: SRC1 = AL/AX/EAX = 0, SRC2 = [EDI] = 1 -> CF, SF, AF, PF (0xff..) */
        cpu->regs[R_EAX] = 0xffffff00u & ~width_mask(w);
        cpu->regs[R_EDI] = 0x7100;
        in = strt_insn(OP_SCAS, w, REP_NONE, 4);
        cr_assert_eq(strt_exec(cpu, &in), -1);
        f = cpu_get_eflags(cpu) & FL_ARITH;
        cr_assert_eq(f, FL_CF | FL_SF | FL_AF | FL_PF, "w=%u flags %#x", w, f);
        cr_assert_eq(cpu->regs[R_EDI], 0x7100 + w);
    }
}

Test(string_ops, repe_cmps_stops_at_first_difference)
{
    struct cpu *cpu = strt.cpu;
    memcpy(strt.ram + 0x8000, "hello, world", 12);
    memcpy(strt.ram + 0x9000, "hello! world", 12);
    cpu->regs[R_ESI] = 0x8000;
    cpu->regs[R_EDI] = 0x9000;
    cpu->regs[R_ECX] = 12;
    struct insn in = strt_insn(OP_CMPS, 1, REP_E, 4);
    cr_assert_eq(strt_exec(cpu, &in), -1);
    /* Elements 0..5 compared; the 6th (',' vs '!') differs. */
    cr_assert_eq(cpu->regs[R_ECX], 6);
    cr_assert_eq(cpu->regs[R_ESI], 0x8006);
    cr_assert_eq(cpu->regs[R_EDI], 0x9006);
    cr_assert_eq(cpu_get_eflags(cpu) & (FL_ZF | FL_CF), 0, "',' 0x2c > '!' 0x21");
    cr_assert_eq(cpu->next_eip, cpu->eip + 2);

    /* Equal strings run to ECX = 0 with ZF = 1. */
    cpu->regs[R_ESI] = 0x8000;
    cpu->regs[R_EDI] = 0x9000;
    cpu->regs[R_ECX] = 5;
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0);
    cr_assert(cpu_get_eflags(cpu) & FL_ZF);

    /* REPNE CMPSW stops at the first equal word. */
    memcpy(strt.ram + 0x8000, "\x01\x00\x02\x00\x03\x00", 6);
    memcpy(strt.ram + 0x9000, "\x05\x00\x06\x00\x03\x00", 6);
    cpu->regs[R_ESI] = 0x8000;
    cpu->regs[R_EDI] = 0x9000;
    cpu->regs[R_ECX] = 10;
    in = strt_insn(OP_CMPS, 2, REP_NE, 4);
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 7);
    cr_assert_eq(cpu->regs[R_ESI], 0x8006);
    cr_assert(cpu_get_eflags(cpu) & FL_ZF);
}

Test(string_ops, repne_scas_finds_byte_and_repe_scasd)
{
    struct cpu *cpu = strt.cpu;
    memcpy(strt.ram + 0xa000, "abcdefghi\0xyz", 13);
    cpu->regs[R_EAX] = 0xffffff00u; /* AL = 0: strlen */
    cpu->regs[R_EDI] = 0xa000;
    cpu->regs[R_ECX] = 0xffffffffu;
    struct insn in = strt_insn(OP_SCAS, 1, REP_NE, 4);
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0xffffffffu - 10);
    cr_assert_eq(cpu->regs[R_EDI], 0xa00a);
    cr_assert(cpu_get_eflags(cpu) & FL_ZF);

    /* REPE SCASD with DF = 1 skips equal dwords going down. */
    uint32_t v[4] = { 7, 0x55aa55aau, 0x55aa55aau, 0x55aa55aau };
    memcpy(strt.ram + 0xb000, v, sizeof(v));
    cpu->eflags |= FL_DF;
    cpu->regs[R_EAX] = 0x55aa55aau;
    cpu->regs[R_EDI] = 0xb00c;
    cpu->regs[R_ECX] = 100;
    in = strt_insn(OP_SCAS, 4, REP_E, 4);
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 96);
    cr_assert_eq(cpu->regs[R_EDI], 0xaffc);
    cr_assert_eq(cpu_get_eflags(cpu) & FL_ZF, 0);
}

/* REPE/REPNE CMPS and SCAS over page boundaries against an element model,
 * with the fast path (dr7 = 0) and without (dr7 L0 set). */
static void strt_check_cmp(bool cmps, unsigned w, bool down, unsigned rep, uint32_t si,
                           uint32_t di, uint32_t count, uint32_t eax)
{
    struct cpu *cpu = strt.cpu;
    uint32_t msi = si, mdi = di, mcx = count, a = 0, b = 0, m = width_mask(w);
    while (mcx) {
        a = 0, b = 0;
        if (cmps)
            memcpy(&a, strt.ram + msi, w);
        else
            a = eax & m;
        memcpy(&b, strt.ram + mdi, w);
        msi += down ? -w : w;
        mdi += down ? -w : w;
        mcx--;
        bool zf = ((a - b) & m) == 0;
        if (rep == REP_E ? !zf : zf)
            break;
    }
    cpu->regs[R_ESI] = si;
    cpu->regs[R_EDI] = di;
    cpu->regs[R_ECX] = count;
    cpu->regs[R_EAX] = eax;
    cpu->eflags = FL_FIXED1 | (down ? FL_DF : 0);
    struct insn in = strt_insn(cmps ? OP_CMPS : OP_SCAS, w, rep, 4);
    cr_assert_eq(strt_exec_all(cpu, &in, NULL), -1);
    cr_assert_eq(cpu->regs[R_ECX], mcx, "cmps=%d w=%u down=%d rep=%u", cmps, w, down, rep);
    cr_assert_eq(cpu->regs[R_EDI], mdi);
    cr_assert_eq(cpu->regs[R_ESI], cmps ? msi : si);
    uint32_t r = (a - b) & m;
    uint32_t want = (r == 0 ? FL_ZF : 0) | ((r >> (w * 8 - 1)) ? FL_SF : 0) |
                    ((a & m) < (b & m) ? FL_CF : 0) |
                    ((__builtin_popcount(r & 0xff) & 1) ? 0 : FL_PF) |
                    (((a ^ b ^ r) & 0x10) ? FL_AF : 0) |
                    ((((a ^ b) & (a ^ r)) >> (w * 8 - 1)) & 1 ? FL_OF : 0);
    cr_assert_eq(cpu_get_eflags(cpu) & FL_ARITH, want, "flags");
}

Test(string_ops, rep_cmps_scas_match_model_fast_and_slow)
{
    /* Two equal 20 KiB blocks with one difference near the end. */
    strt_fill(0x110000, 0x5000, 1);
    memcpy(strt.ram + 0x120003, strt.ram + 0x110000, 0x5000);
    strt.ram[0x110000 + 0x4321] ^= 0x40;
    memset(strt.ram + 0x130000, 0x7e, 0x5000);
    strt.ram[0x130000 + 0x3333] = 0;
    for (int slow = 0; slow < 2; slow++) {
        strt.cpu->dr[7] = slow ? 1 : 0;
        for (unsigned w = 1; w <= 4; w *= 2)
            for (int down = 0; down < 2; down++) {
                uint32_t s0 = down ? 0x110000 + 0x4ffc : 0x110000;
                uint32_t d0 = down ? 0x120003 + 0x4ffc : 0x120003;
                strt_check_cmp(true, w, down, REP_E, s0, d0, 0x5000 / w, 0);
                strt_check_cmp(true, w, down, REP_NE, s0, d0, 300, 0);
                strt_check_cmp(true, w, down, REP_E, s0, d0, 17, 0);
                uint32_t t0 = down ? 0x130000 + 0x4ffc : 0x130000;
                strt_check_cmp(false, w, down, REP_E, 0, t0, 0x5000 / w, 0x7e7e7e7eu);
                strt_check_cmp(false, w, down, REP_NE, 0, t0, 0x5000 / w, 0);
                strt_check_cmp(false, w, down, REP_NE, 0, t0, 0x5000 / w, 0x11);
            }
    }
}

Test(string_ops, fault_mid_rep_on_segment_limit_leaves_remaining_work)
{
    struct cpu *cpu = strt.cpu;
    cpu->seg[SEG_ES].limit = 0x10ff;
    cpu->regs[R_EAX] = 0x3c;
    cpu->regs[R_EDI] = 0x1000;
    cpu->regs[R_ECX] = 0x200;
    struct insn in = strt_insn(OP_STOS, 1, REP_E, 4);
    cr_assert_eq(strt_exec_all(cpu, &in, NULL), EXC_GP);
    cr_assert_eq(cpu->regs[R_EDI], 0x1100, "EDI at the faulting element");
    cr_assert_eq(cpu->regs[R_ECX], 0x100);
    cr_assert_eq(strt.ram[0x10ff], 0x3c);
    cr_assert_eq(strt.ram[0x1100], 0);

    /* MOVSD whose last dword straddles the limit: 0x10fc..0x10ff fits,
     * 0x1100.. does not; a dword at 0x10fe would not either. */
    cpu->regs[R_ESI] = 0x20000;
    cpu->regs[R_EDI] = 0x10f2;
    cpu->regs[R_ECX] = 10;
    strt_fill(0x20000, 64, 3);
    in = strt_insn(OP_MOVS, 4, REP_E, 4);
    cr_assert_eq(strt_exec_all(cpu, &in, NULL), EXC_GP);
    /* 0x10f2, f6, fa fit (last byte 0x10fd); 0x10fe..0x1101 faults */
    cr_assert_eq(cpu->regs[R_EDI], 0x10fe);
    cr_assert_eq(cpu->regs[R_ESI], 0x2000c);
    cr_assert_eq(cpu->regs[R_ECX], 7);
    cr_assert_eq(memcmp(strt.ram + 0x10f2, strt.ram + 0x20000, 12), 0);

    /* SS as source segment override faults with #SS. */
    cpu->seg[SEG_ES].limit = 0xffffffffu;
    cpu->seg[SEG_SS].limit = 0x0fff;
    cpu->regs[R_ESI] = 0x0ffe;
    cpu->regs[R_EDI] = 0x3000;
    cpu->regs[R_ECX] = 5;
    in = strt_insn(OP_MOVS, 1, REP_E, 4);
    in.seg = in.seg_override = SEG_SS;
    cr_assert_eq(strt_exec_all(cpu, &in, NULL), EXC_SS);
    cr_assert_eq(cpu->regs[R_ESI], 0x1000);
    cr_assert_eq(cpu->regs[R_ECX], 3);
}

/* Identity paging of the first 4 MiB with page `hole` not present. */
static void strt_paging(struct cpu *cpu, uint32_t hole)
{
    const uint32_t pd = 0x300000, pt = 0x301000;
    memset(strt.ram + pd, 0, 4096);
    uint32_t pde = pt | 7;
    memcpy(strt.ram + pd, &pde, 4);
    for (uint32_t i = 0; i < 1024; i++) {
        uint32_t pte = (i << 12) | 7;
        if ((i << 12) == hole)
            pte = 0;
        memcpy(strt.ram + pt + i * 4, &pte, 4);
    }
    cpu->cr3 = pd;
    cpu->cr0 |= CR0_PG;
    tlb_flush_all(&cpu->tlb);
}

Test(string_ops, page_fault_mid_rep_movs_and_restart)
{
    struct cpu *cpu = strt.cpu;
    strt_paging(cpu, 0x45000);
    strt_fill(0x40000, 0x8000, 9);
    uint8_t *expect = malloc(0x3000);
    memcpy(expect, strt.ram + 0x40000, 0x3000);
    /* MOVSD from 0x40100 (pages 0x40000-0x44fff present) to 0x60100:
     * the source reaches the hole at 0x45000. */
    cpu->regs[R_ESI] = 0x42100;
    cpu->regs[R_EDI] = 0x60100;
    cpu->regs[R_ECX] = 0x1000;
    struct insn in = strt_insn(OP_MOVS, 4, REP_E, 4);
    cr_assert_eq(strt_exec_all(cpu, &in, NULL), EXC_PF);
    cr_assert_eq(cpu->cr2, 0x45000);
    cr_assert_eq(cpu->regs[R_ESI], 0x45000);
    cr_assert_eq(cpu->regs[R_EDI], 0x60100 + (0x45000 - 0x42100));
    cr_assert_eq(cpu->regs[R_ECX], 0x1000 - (0x45000 - 0x42100) / 4);
    cr_assert_eq(memcmp(strt.ram + 0x60100, expect + 0x2100, 0x45000 - 0x42100 - 0x2000), 0);
    cr_assert_eq(strt.ram[0x60100 + 0x2f00], 0, "nothing past the fault");

    /* The handler maps the page; the restarted instruction finishes. */
    uint32_t pte = 0x45000 | 7;
    memcpy(strt.ram + 0x301000 + 0x45 * 4, &pte, 4);
    tlb_flush_page(&cpu->tlb, 0x45000);
    cr_assert_eq(strt_exec_all(cpu, &in, NULL), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0);
    cr_assert_eq(cpu->regs[R_ESI], 0x42100 + 0x4000);
    cr_assert_eq(memcmp(strt.ram + 0x60100, strt.ram + 0x42100, 0x4000), 0);
    free(expect);

    /* A write fault going down: STOSW with DF = 1 into the hole from above. */
    pte = 0;
    memcpy(strt.ram + 0x301000 + 0x45 * 4, &pte, 4);
    tlb_flush_page(&cpu->tlb, 0x45000);
    cpu->eflags |= FL_DF;
    cpu->regs[R_EDI] = 0x46010;
    cpu->regs[R_ECX] = 100;
    cpu->regs[R_EAX] = 0xbeef;
    in = strt_insn(OP_STOS, 2, REP_E, 4);
    cr_assert_eq(strt_exec_all(cpu, &in, NULL), EXC_PF);
    cr_assert_eq(cpu->cr2, 0x45ffe);
    cr_assert_eq(cpu->regs[R_EDI], 0x45ffe);
    cr_assert_eq(cpu->regs[R_ECX], 100 - 9);
    cr_assert_eq(strt.ram[0x46000], 0xef);
}

/* Runs must stop at page ends: linear pages 0x50000 and 0x60000 map to
 * physical 0x90000 and 0xa0000, so host memory is not contiguous. */
Test(string_ops, runs_follow_translation_at_page_ends)
{
    struct cpu *cpu = strt.cpu;
    strt_paging(cpu, 0xfff000);
    uint32_t pte = 0x90000 | 7;
    memcpy(strt.ram + 0x301000 + 0x50 * 4, &pte, 4);
    pte = 0xa0000 | 7;
    memcpy(strt.ram + 0x301000 + 0x60 * 4, &pte, 4);
    tlb_flush_all(&cpu->tlb);
    for (unsigned w = 1; w <= 4; w *= 2) {
        strt_fill(0x40000, 0x80000, w);
        uint8_t *want = malloc(0x1000);
        /* source: linear 0x4f800.. = phys 0x4f800..0x4ffff then 0x90000.. */
        memcpy(want, strt.ram + 0x4f800, 0x800);
        memcpy(want + 0x800, strt.ram + 0x90000, 0x800);
        cpu->regs[R_ESI] = 0x4f800;
        cpu->regs[R_EDI] = 0x5fc00; /* dest: 0x5fc00..0x5ffff then phys 0xa0000.. */
        cpu->regs[R_ECX] = 0x1000 / w;
        struct insn in = strt_insn(OP_MOVS, w, REP_E, 4);
        cr_assert_eq(strt_exec_all(cpu, &in, NULL), -1);
        cr_assert_eq(memcmp(strt.ram + 0x5fc00, want, 0x400), 0, "w=%u", w);
        cr_assert_eq(memcmp(strt.ram + 0xa0000, want + 0x400, 0xc00), 0, "w=%u", w);
        free(want);
    }
    /* SCASB finds a zero that lives behind the remapped page */
    memset(strt.ram + 0x4f000, 0x20, 0x1000);
    memset(strt.ram + 0x90000, 0x20, 0x1000);
    memset(strt.ram + 0x50000, 0x20, 0x1000);
    strt.ram[0x90010] = 0;
    strt.ram[0x50008] = 0; /* the identity-mapped physical page: not visible */
    cpu->regs[R_EAX] = 0;
    cpu->regs[R_EDI] = 0x4fff0;
    cpu->regs[R_ECX] = 0x100;
    struct insn sc = strt_insn(OP_SCAS, 1, REP_NE, 4);
    cr_assert_eq(strt_exec_all(cpu, &sc, NULL), -1);
    cr_assert_eq(cpu->regs[R_EDI], 0x50011);
    /* CMPSB across the remap against a copy */
    memcpy(strt.ram + 0x70000, strt.ram + 0x4f000, 0x1000);
    memcpy(strt.ram + 0x71000, strt.ram + 0x90000, 0x1000);
    cpu->regs[R_ESI] = 0x4f000;
    cpu->regs[R_EDI] = 0x70000;
    cpu->regs[R_ECX] = 0x2000;
    struct insn cm = strt_insn(OP_CMPS, 1, REP_E, 4);
    cr_assert_eq(strt_exec_all(cpu, &cm, NULL), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0);
    cr_assert(cpu_get_eflags(cpu) & FL_ZF);
}

Test(string_ops, budget_yields_with_next_eip_at_instruction)
{
    struct cpu *cpu = strt.cpu;
    cpu->regs[R_ESI] = 0x10000;
    cpu->regs[R_ECX] = 2000;
    struct insn in = strt_insn(OP_LODS, 1, REP_E, 4);
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 2000 - STRT_BUDGET);
    cr_assert_eq(cpu->regs[R_ESI], 0x10000 + STRT_BUDGET);
    cr_assert_eq(cpu->next_eip, cpu->eip, "re-execute: interrupts can be taken");
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0);
    cr_assert_eq(cpu->next_eip, cpu->eip + 2);

    /* Exactly the budget: done, no extra re-execution. */
    cpu->regs[R_ECX] = STRT_BUDGET;
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0);
    cr_assert_eq(cpu->next_eip, cpu->eip + 2);

    /* A huge REP MOVSB yields too (fast path budget). */
    cpu->regs[R_ESI] = 0x100000;
    cpu->regs[R_EDI] = 0x200000;
    cpu->regs[R_ECX] = 0x100000;
    in = strt_insn(OP_MOVS, 1, REP_E, 4);
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, cpu->eip);
    cr_assert(cpu->regs[R_ECX] > 0 && cpu->regs[R_ECX] < 0x100000);
    /* Source and destination share TLB slots (1 MiB apart), yet whole
     * pages still go through the fast path: far more than the per-element
     * budget got done in one call. */
    cr_assert(cpu->regs[R_ECX] <= 0x100000 - 16 * 4096, "ECX %#x", cpu->regs[R_ECX]);
    cr_assert_eq(cpu->regs[R_ESI] - 0x100000, 0x100000 - cpu->regs[R_ECX]);
}

Test(string_ops, tf_runs_one_iteration_per_execution)
{
    struct cpu *cpu = strt.cpu;
    cpu->eflags |= FL_TF;
    cpu->regs[R_EDI] = 0x10000;
    cpu->regs[R_ECX] = 3;
    cpu->regs[R_EAX] = 0x61;
    struct insn in = strt_insn(OP_STOS, 1, REP_E, 4);
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 2);
    cr_assert_eq(cpu->next_eip, cpu->eip);
    unsigned calls;
    cr_assert_eq(strt_exec_all(cpu, &in, &calls), -1);
    cr_assert_eq(calls, 2);
    cr_assert_eq(cpu->regs[R_EDI], 0x10003);
}

Test(string_ops, ins_outs)
{
    struct cpu *cpu = strt.cpu;
    cpu->regs[R_EDX] = 0xabcd0300u; /* port DX = 0x300 */
    cpu->regs[R_EDI] = 0xc000;
    cpu->regs[R_ECX] = 3;
    struct insn in = strt_insn(OP_INS, 2, REP_E, 4);
    cr_assert_eq(strt_exec(cpu, &in), -1);
    uint8_t want[6] = { 0x11, 0x11, 0x22, 0x22, 0x33, 0x33 };
    cr_assert_eq(memcmp(strt.ram + 0xc000, want, 6), 0);
    cr_assert_eq(cpu->regs[R_EDI], 0xc006);
    cr_assert_eq(cpu->regs[R_ECX], 0);

    /* INSB with DF = 1, no REP */
    cpu->eflags |= FL_DF;
    in = strt_insn(OP_INS, 1, REP_NONE, 4);
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(strt.ram[0xc006], 0x44);
    cr_assert_eq(cpu->regs[R_EDI], 0xc005);
    cpu->eflags &= ~FL_DF;

    /* REP OUTSD from FS:ESI */
    uint32_t v[2] = { 0xcafef00du, 0x12345678u };
    memcpy(strt.ram + 0xd000, v, 8);
    cpu->seg[SEG_FS].base = 0xc000;
    cpu->regs[R_ESI] = 0x1000;
    cpu->regs[R_ECX] = 2;
    in = strt_insn(OP_OUTS, 4, REP_NE, 4);
    in.seg = in.seg_override = SEG_FS;
    cr_assert_eq(strt_exec(cpu, &in), -1);
    cr_assert_eq(strt_port_nlog, 2);
    cr_assert_eq(strt_port_log[0], 0xcafef00du);
    cr_assert_eq(strt_port_log[1], 0x12345678u);
    cr_assert_eq(cpu->regs[R_ESI], 0x1008);

    /* INS into a read-only destination: #GP before the port is read. */
    cpu->seg[SEG_ES].ar &= ~AR_T_WRITABLE;
    uint32_t before = strt_port_next;
    cpu->regs[R_ECX] = 4;
    in = strt_insn(OP_INS, 1, REP_E, 4);
    cr_assert_eq(strt_exec(cpu, &in), EXC_GP);
    cr_assert_eq(strt_port_next, before, "port not read");
    cr_assert_eq(cpu->regs[R_ECX], 4);
}

Test(string_ops, timing_rep_movsd_stosd)
{
    struct cpu *cpu = strt.cpu;
    const uint32_t len = 1u << 20;
    struct insn mv = strt_insn(OP_MOVS, 4, REP_E, 4);
    struct insn st = strt_insn(OP_STOS, 4, REP_E, 4);
    struct insn mb = strt_insn(OP_MOVS, 1, REP_E, 4);
    const struct insn *ins[3] = { &mv, &st, &mb };
    const char *names[3] = { "rep movsd", "rep stosd", "rep movsb" };
    memset(strt.ram + 0x100000, 1, 2 * len); /* host first-touch out of the timing */
    for (int k = 0; k < 3; k++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int rep = 0; rep < 64; rep++) {
            cpu->regs[R_ESI] = 0x100000;
            cpu->regs[R_EDI] = 0x200000;
            cpu->regs[R_ECX] = len / ins[k]->dst.width;
            cr_assert_eq(strt_exec_all(cpu, ins[k], NULL), -1);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        cr_log_info("%s: %.0f MB/s", names[k], 64.0 * len / s / 1e6);
        fprintf(stderr, "test_string timing: %s %.0f MB/s\n", names[k], 64.0 * len / s / 1e6);
    }
}

/* ------------------------------------------------------------------ */
/* REP INS from a device that reads runs in one go (io_read_rep)       */
/* ------------------------------------------------------------------ */

/* A device with a block of data behind one port, as an IDE data port:
 * each read takes the next element, reads past the block's end give
 * ones; with `rep`, runs of reads in one go (read_rep). */
struct strt_blockdev {
    uint8_t data[1200];
    size_t pos;
    unsigned reads, runs;
};

static uint64_t strt_block_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)addr;
    struct strt_blockdev *d = opaque;
    d->reads++;
    if (d->pos + size > sizeof(d->data))
        return size == 4 ? 0xffffffffu : 0xffffu;
    uint32_t v = 0;
    memcpy(&v, d->data + d->pos, size);
    d->pos += size;
    return v;
}

static size_t strt_block_read_rep(void *opaque, uint64_t addr, unsigned size, uint8_t *dst,
                                  size_t count)
{
    (void)addr;
    struct strt_blockdev *d = opaque;
    size_t n = (sizeof(d->data) - d->pos) / size;
    if (n > count)
        n = count;
    memcpy(dst, d->data + d->pos, n * size);
    d->pos += n * size;
    d->runs += n != 0;
    return n;
}

/* Writes fill the block in turn; writes past its end are dropped. */
static void strt_block_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)addr;
    struct strt_blockdev *d = opaque;
    d->reads++; /* one access at a time, reads or writes */
    if (d->pos + size > sizeof(d->data))
        return;
    uint32_t v = (uint32_t)val;
    memcpy(d->data + d->pos, &v, size);
    d->pos += size;
}

static size_t strt_block_write_rep(void *opaque, uint64_t addr, unsigned size,
                                   const uint8_t *src, size_t count)
{
    (void)addr;
    struct strt_blockdev *d = opaque;
    size_t n = (sizeof(d->data) - d->pos) / size;
    if (n > count)
        n = count;
    memcpy(d->data + d->pos, src, n * size);
    d->pos += n * size;
    d->runs += n != 0;
    return n;
}

static const struct mem_ops strt_block_ops = { .read = strt_block_read,
                                               .write = strt_block_write };
static const struct mem_ops strt_block_rep_ops = { .read = strt_block_read,
                                                   .write = strt_block_write,
                                                   .read_rep = strt_block_read_rep,
                                                   .write_rep = strt_block_write_rep };

/* Runs REP INS (width w, DF as set) of `count` elements to EDI `edi` from
 * port 0x310 (plain) or 0x320 (runs); returns the vector or -1. */
static int strt_rep_ins(struct cpu *cpu, uint16_t port, unsigned w, uint32_t edi, uint32_t count)
{
    cpu->regs[R_EDX] = port;
    cpu->regs[R_EDI] = edi;
    cpu->regs[R_ECX] = count;
    struct insn in = strt_insn(OP_INS, w, REP_E, 4);
    return strt_exec_all(cpu, &in, NULL);
}

/*
 * The same REP INSW/INSD from a device that reads runs and from one that
 * does not give the same memory, registers and device position: across a
 * page boundary, past the device's block (ones, one at a time), with DF
 * set (one at a time), and with a page fault in the middle (the faulting
 * element not read, the instruction restartable).
 */
Test(string_ops, rep_ins_runs_match_one_read_at_a_time)
{
    struct cpu *cpu = strt.cpu;
    static struct strt_blockdev plain, runs;
    for (unsigned i = 0; i < sizeof(plain.data); i++)
        plain.data[i] = runs.data[i] = (uint8_t)(i * 7 + 3);
    io_register(cpu->bus.io, 0x310, 4, &strt_block_ops, &plain);
    io_register(cpu->bus.io, 0x320, 4, &strt_block_rep_ops, &runs);
    strt_paging(cpu, 0x47000);

    /* 1000 words from 0x45f00: over the page at 0x46000 and 400 words
     * past the block's 600. */
    cr_assert_eq(strt_rep_ins(cpu, 0x310, 2, 0x45f00, 1000), -1);
    cr_assert_eq(strt_rep_ins(cpu, 0x320, 2, 0x55f00, 1000), -1);
    cr_assert_eq(memcmp(strt.ram + 0x45f00, strt.ram + 0x55f00, 2000), 0);
    cr_assert_eq(strt.ram[0x55f00 + 1199], plain.data[1199]);
    cr_assert_eq(strt.ram[0x55f00 + 1200], 0xff);
    cr_assert_eq(cpu->regs[R_EDI], 0x55f00 + 2000);
    cr_assert_eq(plain.pos, runs.pos);
    cr_assert_eq(plain.reads, 1000);
    cr_assert_geq(runs.runs, 2, "runs, split at the page end");
    /* One at a time: the 400 past the block, and the first of each page,
     * whose element fills the TLB (empty under the new page tables). */
    cr_assert_eq(runs.reads, 400 + 2, "%u reads one at a time (%u runs)", runs.reads, runs.runs);

    /* Counting down: one at a time. */
    plain.pos = runs.pos = 0;
    plain.reads = runs.reads = runs.runs = 0;
    cpu->eflags |= FL_DF;
    cr_assert_eq(strt_rep_ins(cpu, 0x310, 4, 0x43ffc, 100), -1);
    cr_assert_eq(strt_rep_ins(cpu, 0x320, 4, 0x53ffc, 100), -1);
    cpu->eflags &= ~FL_DF;
    cr_assert_eq(memcmp(strt.ram + 0x43ffc - 396, strt.ram + 0x53ffc - 396, 400), 0);
    cr_assert_eq(runs.runs, 0);
    cr_assert_eq(runs.reads, 100);

    /* Into the hole at 0x47000: #PF there, with every element before it
     * stored and counted off and the device not read for the faulting one. */
    plain.pos = runs.pos = 0;
    cr_assert_eq(strt_rep_ins(cpu, 0x320, 4, 0x46f00, 200), EXC_PF);
    cr_assert_eq(cpu->cr2, 0x47000);
    cr_assert_eq(cpu->regs[R_EDI], 0x47000);
    cr_assert_eq(cpu->regs[R_ECX], 200 - 0x100 / 4);
    cr_assert_eq(runs.pos, 0x100, "the device read for the stored elements only");
    cr_assert_eq(memcmp(strt.ram + 0x46f00, runs.data, 0x100), 0);
    /* Mapped, the restarted instruction goes on from there. */
    uint32_t pte = 0x47000 | 7;
    memcpy(strt.ram + 0x301000 + 0x47 * 4, &pte, 4);
    tlb_flush_page(&cpu->tlb, 0x47000);
    struct insn in = strt_insn(OP_INS, 4, REP_E, 4);
    cr_assert_eq(strt_exec_all(cpu, &in, NULL), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0);
    cr_assert_eq(memcmp(strt.ram + 0x46f00, runs.data, 800), 0);
}

/* Runs REP OUTS (width w) of `count` elements from DS:ESI `esi` to port
 * 0x310 (plain) or 0x320 (runs); returns the vector or -1. */
static int strt_rep_outs(struct cpu *cpu, uint16_t port, unsigned w, uint32_t esi, uint32_t count)
{
    cpu->regs[R_EDX] = port;
    cpu->regs[R_ESI] = esi;
    cpu->regs[R_ECX] = count;
    struct insn in = strt_insn(OP_OUTS, w, REP_E, 4);
    return strt_exec_all(cpu, &in, NULL);
}

/* REP OUTSW/OUTSD to a device that takes runs, against one that does not:
 * the same data in the device, registers and position, across a page
 * boundary, past the device's block (dropped one at a time), and with a
 * page fault in the source (the faulting element not written). */
Test(string_ops, rep_outs_runs_match_one_write_at_a_time)
{
    struct cpu *cpu = strt.cpu;
    static struct strt_blockdev plain, runs;
    io_register(cpu->bus.io, 0x310, 4, &strt_block_ops, &plain);
    io_register(cpu->bus.io, 0x320, 4, &strt_block_rep_ops, &runs);
    strt_paging(cpu, 0x47000);
    strt_fill(0x45000, 0x2000, 5);

    /* 1000 words from 0x45f00: over the page at 0x46000 and 400 words
     * past the block's 600. */
    cr_assert_eq(strt_rep_outs(cpu, 0x310, 2, 0x45f00, 1000), -1);
    cr_assert_eq(strt_rep_outs(cpu, 0x320, 2, 0x45f00, 1000), -1);
    cr_assert_eq(memcmp(plain.data, runs.data, sizeof(runs.data)), 0);
    cr_assert_eq(memcmp(runs.data, strt.ram + 0x45f00, sizeof(runs.data)), 0);
    cr_assert_eq(cpu->regs[R_ESI], 0x45f00 + 2000);
    cr_assert_eq(cpu->regs[R_ECX], 0);
    cr_assert_eq(plain.pos, runs.pos);
    cr_assert_eq(plain.reads, 1000);
    cr_assert_geq(runs.runs, 2, "runs, split at the page end");
    /* One at a time only past the block: the first pass filled the TLB. */
    cr_assert_eq(runs.reads, 400, "%u writes one at a time (%u runs)", runs.reads, runs.runs);

    /* From the page before the hole at 0x47000: #PF there, the elements
     * before it written and counted off, none for the faulting one. */
    strt_fill(0x46000, 0x1000, 6);
    runs.pos = 0;
    cr_assert_eq(strt_rep_outs(cpu, 0x320, 4, 0x46f00, 200), EXC_PF);
    cr_assert_eq(cpu->cr2, 0x47000);
    cr_assert_eq(cpu->regs[R_ESI], 0x47000);
    cr_assert_eq(cpu->regs[R_ECX], 200 - 0x100 / 4);
    cr_assert_eq(runs.pos, 0x100);
    cr_assert_eq(memcmp(runs.data, strt.ram + 0x46f00, 0x100), 0);
}
