/*
 * test_jit_x87.c — the JIT's inline x87 code against the interpreter:
 * random programs of x87 instructions (with integer instructions, block
 * splits and side exits inside runs) and fixed programs for the hazards
 * they found. The x87's own semantics are tested in test_fpu*.c.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream (jit_engine_harness.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/jit_engine_harness.h"
#include "translate/jit/jit.h"

/* ------------------------------------------------------------------ */
/* x87: random programs under both engines                             */
/* ------------------------------------------------------------------ */

/*
 * Straight-line programs of x87 instructions (the forms the JIT runs
 * inline and others it leaves to their handlers), with jumps that split
 * them into blocks, forward Jcc over an instruction (side exits), FLDCW
 * of control words that sometimes unmask exceptions, FNSTSW AX and the
 * flags of FCOMI stored to memory. Operands
 * come from a table of doubles, floats and integers with zeros,
 * denormals, infinities, quiet and signalling NaNs among them. The JIT's
 * run must leave everything as the interpreter's does: registers,
 * EFLAGS, the x87 state field by field and the data area (which ends
 * with an FNSAVE image, tags included).
 *
 * To chase a difference: X87_SEED=N runs that program alone, X87_LEN=K
 * makes every program K instructions long (the first K of the longer
 * one: bisect), X87_RUNS=N runs N programs, X87_DUMP=N writes program N
 * to /tmp/x87prog.bin (objdump -D -b binary -mi386 shows it).
 */
#define X87_DATA 0x20000u
#define X87_DATA_SIZE 0x1000u
#define X87_SAVE (X87_DATA + X87_DATA_SIZE)

struct x87_gen {
    uint64_t s;
    uint8_t *p;
};

static uint32_t x87_rnd(struct x87_gen *g)
{
    g->s = g->s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g->s >> 33);
}

static void x87_emit(struct x87_gen *g, const uint8_t *b, size_t n)
{
    memcpy(g->p, b, n);
    g->p += n;
}

/* esc /digit [disp32] with the operand at an 8-aligned data offset. */
static void x87_mem(struct x87_gen *g, uint8_t esc, unsigned digit)
{
    uint32_t at = X87_DATA + (x87_rnd(g) % (X87_DATA_SIZE / 8)) * 8;
    uint8_t b[6] = { esc, (uint8_t)(digit << 3 | 5) };
    memcpy(b + 2, &at, 4);
    x87_emit(g, b, 6);
}

static void x87_fill_data(struct x87_gen *g, uint8_t *data)
{
    static const uint64_t specials[] = {
        0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff8000000000000ull,
        0x0000000000000001ull, 0x000fffffffffffffull, 0x7ff0000000000000ull,
        0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff4000000000000ull,
        0x7fefffffffffffffull, 0x0010000000000000ull, 0x4330000000000000ull,
    };
    for (unsigned i = 0; i < X87_DATA_SIZE; i += 8) {
        uint64_t v;
        switch (x87_rnd(g) % 6) {
        case 0: v = specials[x87_rnd(g) % (sizeof(specials) / sizeof(specials[0]))]; break;
        case 1: v = (uint64_t)x87_rnd(g) << 32 | x87_rnd(g); break; /* any bits */
        case 2: v = (uint64_t)(x87_rnd(g) % 2000) - 1000; break;   /* small integers */
        case 3: { /* a float in the low half, a small int in the high one */
            float f = (float)((int)(x87_rnd(g) % 20001) - 10000) / 64.0f;
            uint32_t fb;
            memcpy(&fb, &f, 4);
            v = fb | (uint64_t)(x87_rnd(g) % 100) << 32;
            break;
        }
        default: { /* an ordinary double */
            double d = ((double)x87_rnd(g) / 4294967296.0 - 0.5) * (double)(1u << (x87_rnd(g) % 24));
            memcpy(&v, &d, 8);
            break;
        }
        }
        memcpy(data + i, &v, 8);
    }
}

static void x87_program(struct x87_gen *g, unsigned n)
{
    static const uint8_t reg_rows[][2] = {
        /* escape, ModRM base: the row's eight ST(i) forms */
        {0xd8, 0xc0}, {0xd8, 0xc8}, {0xd8, 0xd0}, {0xd8, 0xd8}, {0xd8, 0xe0}, {0xd8, 0xe8},
        {0xd8, 0xf0}, {0xd8, 0xf8}, {0xd9, 0xc0}, {0xd9, 0xc8}, {0xdb, 0xe8}, {0xdb, 0xf0},
        {0xdc, 0xc0}, {0xdc, 0xc8}, {0xdc, 0xe0}, {0xdc, 0xe8}, {0xdc, 0xf0}, {0xdc, 0xf8},
        {0xdd, 0xd0}, {0xdd, 0xd8}, {0xdd, 0xe0}, {0xdd, 0xe8}, {0xde, 0xc0}, {0xde, 0xc8},
        {0xde, 0xe0}, {0xde, 0xe8}, {0xde, 0xf0}, {0xde, 0xf8}, {0xdf, 0xe8}, {0xdf, 0xf0},
        {0xdd, 0xc0}, {0xda, 0xc0},
    };
    static const uint8_t singles[][2] = {
        {0xd9, 0xe0}, {0xd9, 0xe1}, {0xd9, 0xe8}, {0xd9, 0xee}, {0xd9, 0xfa}, {0xda, 0xe9},
        {0xde, 0xd9}, {0xdf, 0xe0}, {0xd9, 0xf7}, {0xd9, 0xf6}, {0xd9, 0xfc}, {0xd9, 0xfe},
        {0xd9, 0xe4}, {0xd9, 0xe5}, {0xdb, 0xe2}, {0xd9, 0xeb}, {0xd9, 0xfd},
    };
    static const uint8_t mem_forms[][2] = {
        /* escape, digit */
        {0xd8, 0}, {0xd8, 1}, {0xd8, 2}, {0xd8, 3}, {0xd8, 4}, {0xd8, 5}, {0xd8, 6}, {0xd8, 7},
        {0xdc, 0}, {0xdc, 1}, {0xdc, 2}, {0xdc, 3}, {0xdc, 4}, {0xdc, 5}, {0xdc, 6}, {0xdc, 7},
        {0xda, 0}, {0xda, 1}, {0xda, 3}, {0xda, 4}, {0xda, 7}, {0xde, 0}, {0xde, 2}, {0xde, 6},
        {0xd9, 0}, {0xd9, 2}, {0xd9, 3}, {0xdd, 0}, {0xdd, 2}, {0xdd, 3}, {0xdb, 0}, {0xdb, 2},
        {0xdb, 3}, {0xdf, 0}, {0xdf, 2}, {0xdf, 3}, {0xdf, 5}, {0xdf, 7}, {0xdb, 5}, {0xdb, 7},
    };
    for (unsigned k = 0; k < n; k++) {
        unsigned what = x87_rnd(g) % 100;
        if (what < 40) {
            const uint8_t *row = reg_rows[x87_rnd(g) % (sizeof(reg_rows) / 2)];
            uint8_t b[2] = { row[0], (uint8_t)(row[1] + x87_rnd(g) % 8) };
            x87_emit(g, b, 2);
        } else if (what < 52) {
            x87_emit(g, singles[x87_rnd(g) % (sizeof(singles) / 2)], 2);
        } else if (what < 85) {
            const uint8_t *f = mem_forms[x87_rnd(g) % (sizeof(mem_forms) / 2)];
            x87_mem(g, f[0], f[1]);
        } else if (what < 88) {
            static const uint8_t split[] = { 0xeb, 0x00 }; /* jmp +0 */
            x87_emit(g, split, 2);
        } else if (what < 90) {
            /* inc eax; jcc over the ST(i) form after it: a side exit
             * inside a run (the block runs on through a forward Jcc) */
            const uint8_t *row = reg_rows[x87_rnd(g) % (sizeof(reg_rows) / 2)];
            uint8_t b[5] = { 0x40, (uint8_t)(0x70 + x87_rnd(g) % 16), 0x02, row[0],
                             (uint8_t)(row[1] + x87_rnd(g) % 8) };
            x87_emit(g, b, 5);
        } else if (what < 93) {
            /* FLDCW: mostly all masked, any precision and rounding */
            uint32_t at = X87_SAVE + 0x200 + (x87_rnd(g) % 4) * 2;
            uint8_t b[6] = { 0xd9, 0x2d };
            memcpy(b + 2, &at, 4);
            x87_emit(g, b, 6);
        } else if (what < 97) {
            /* pushfd; pop eax; mov [data], eax: FCOMI's flags seen */
            uint32_t at = X87_DATA + (x87_rnd(g) % (X87_DATA_SIZE / 4)) * 4;
            uint8_t b[8] = { 0x9c, 0x58, 0x89, 0x05 };
            memcpy(b + 4, &at, 4);
            x87_emit(g, b, 8);
        } else {
            static const uint8_t inc_nop[] = { 0x40, 0x90 }; /* inc eax; nop */
            x87_emit(g, inc_nop, 2);
        }
    }
    /* fnsave [X87_SAVE]; hlt */
    uint32_t at = X87_SAVE;
    uint8_t b[7] = { 0xdd, 0x35 };
    memcpy(b + 2, &at, 4);
    b[6] = 0xf4;
    x87_emit(g, b, 7);
}

struct x87_outcome {
    uint32_t regs[8], eflags;
    uint64_t icount;
    struct fpu fpu;
    uint8_t data[X87_DATA_SIZE + 0x200];
};

static void x87_run(int engine, const uint8_t *code, size_t len, const uint8_t *data,
                    const uint16_t *cws, struct x87_outcome *out)
{
    struct je m = je_new(engine);
    memcpy(m.ram + X87_DATA, data, X87_DATA_SIZE);
    memcpy(m.ram + X87_SAVE + 0x200, cws, 8);
    je_code(&m, code, len);
    m.cpu->fpu.cw = 0x037f;
    m.cpu->fpu.tag_empty = 0xff;
    int exit = cpu_exec(m.cpu, 10000000);
    cr_assert_eq(exit, CPU_EXIT_HALT, "engine %d: exit %d at eip %x, exception %d", engine, exit,
                 m.cpu->eip, m.cpu->exc_vector);
    memcpy(out->regs, m.cpu->regs, sizeof(out->regs));
    out->eflags = cpu_get_eflags(m.cpu);
    out->icount = m.cpu->icount;
    out->fpu = m.cpu->fpu;
    memcpy(out->data, m.ram + X87_DATA, sizeof(out->data));
    je_free(&m);
}

static bool x87_same_fpu(const struct fpu *a, const struct fpu *b)
{
    for (int i = 0; i < 8; i++)
        if (a->st[i].sig != b->st[i].sig || a->st[i].sign_exp != b->st[i].sign_exp)
            return false;
    return a->cw == b->cw && a->sw == b->sw && a->tag_empty == b->tag_empty &&
           a->top == b->top && a->fop == b->fop && a->fip == b->fip && a->fdp == b->fdp &&
           a->fcs == b->fcs && a->fds == b->fds;
}

/* The eight registers of two outcomes, `what` `n` naming the program. */
static void x87_assert_same_st(const struct fpu *want, const struct fpu *got, const char *what,
                               unsigned n)
{
    for (int r = 0; r < 8; r++)
        cr_assert(want->st[r].sig == got->st[r].sig &&
                      want->st[r].sign_exp == got->st[r].sign_exp,
                  "%s %u: R%d %04x:%016llx / %04x:%016llx", what, n, r, want->st[r].sign_exp,
                  (unsigned long long)want->st[r].sig, got->st[r].sign_exp,
                  (unsigned long long)got->st[r].sig);
}

Test(jit_engine, x87_programs_as_the_interpreter_runs_them, .timeout = 120)
{
    static struct x87_outcome want, got;
    static uint8_t data[X87_DATA_SIZE], code[8192];
    unsigned runs = 1500;
    if (getenv("X87_RUNS"))
        runs = (unsigned)atoi(getenv("X87_RUNS"));
    unsigned first = 1;
    if (getenv("X87_SEED"))
        first = runs = (unsigned)atoi(getenv("X87_SEED"));
    for (unsigned seed = first; seed <= runs; seed++) {
        struct x87_gen g = { seed * 0x9e3779b97f4a7c15ull, code };
        x87_fill_data(&g, data);
        /* Control words: double or extended precision, any rounding, all
         * masked; every fourth program one with PE or more unmasked. */
        uint16_t cws[4];
        for (int i = 0; i < 4; i++)
            cws[i] = (uint16_t)(0x007f | (x87_rnd(&g) % 4) << 10 | (2 + x87_rnd(&g) % 2) << 8);
        if (seed % 4 == 0)
            cws[x87_rnd(&g) % 4] &= (uint16_t)~(1u << (x87_rnd(&g) % 6));
        unsigned ninsns = 48;
        if (getenv("X87_LEN"))
            ninsns = (unsigned)atoi(getenv("X87_LEN"));
        x87_program(&g, ninsns);
        size_t len = (size_t)(g.p - code);
        if (getenv("X87_DUMP") && (unsigned)atoi(getenv("X87_DUMP")) == seed) {
            FILE *f = fopen("/tmp/x87prog.bin", "wb");
            fwrite(code, 1, len, f);
            fclose(f);
        }
        x87_run(CPU_ENGINE_INTERP, code, len, data, cws, &want);
        x87_run(CPU_ENGINE_JIT, code, len, data, cws, &got);
        for (int r = 0; r < 8; r++)
            cr_assert_eq(want.regs[r], got.regs[r], "seed %u: register %d: %08x / %08x", seed, r,
                         want.regs[r], got.regs[r]);
        cr_assert_eq(want.eflags, got.eflags, "seed %u: eflags %08x / %08x", seed, want.eflags,
                     got.eflags);
        cr_assert_eq(want.icount, got.icount, "seed %u: %llu / %llu instructions", seed,
                     (unsigned long long)want.icount, (unsigned long long)got.icount);
        x87_assert_same_st(&want.fpu, &got.fpu, "seed", seed);
        cr_assert(x87_same_fpu(&want.fpu, &got.fpu),
                  "seed %u: x87 sw %04x/%04x top %u/%u empty %02x/%02x fip %x/%x fop %x/%x",
                  seed, want.fpu.sw, got.fpu.sw, want.fpu.top, got.fpu.top, want.fpu.tag_empty,
                  got.fpu.tag_empty, want.fpu.fip, got.fpu.fip, want.fpu.fop, got.fpu.fop);
        for (size_t i = 0; i < sizeof(want.data); i++)
            cr_assert_eq(want.data[i], got.data[i], "seed %u: data byte %zx: %02x / %02x", seed,
                         i, want.data[i], got.data[i]);
    }
}

/*
 * A run of inline x87 instructions checks the host's exception flags
 * once, at its end (gen_x87.c); a failed check runs the run again
 * through the handlers from its first instruction. Here a register in
 * use at the run's start is changed and popped (its new value must not
 * reach cpu->fpu.st before the check, or the run again would square it
 * twice), then 0/0 raises IE: both engines must end with the same
 * registers, the popped one's contents included, and status word. The second program
 * stores over the operand its first instruction loaded, then raises IE:
 * run again, that load must see the old value.
 */
static void x87_fixed(int engine, const uint8_t *code, size_t len, struct x87_outcome *out)
{
    struct je m = je_new(engine);
    double two = 2.0;
    memcpy(m.ram + X87_DATA, &two, sizeof(two));
    je_code(&m, code, len);
    m.cpu->fpu.cw = 0x037f;
    m.cpu->fpu.tag_empty = 0xff;
    cr_assert_eq(cpu_exec(m.cpu, 1000000), CPU_EXIT_HALT);
    memcpy(out->regs, m.cpu->regs, sizeof(out->regs));
    out->fpu = m.cpu->fpu;
    memcpy(out->data, m.ram + X87_DATA, sizeof(out->data));
    je_free(&m);
}

/*
 * An operation whose next one in the run comes after a side exit (gen_x87.c
 * c1_check): the way on sets C1 again, so the check waits for the run's
 * end, and the side exit's way takes the operation's C1 from the status
 * word it reads there. A loop adds pi to ST(0) and leaves through a JE
 * after n of them (FADD's C1: rounded up or not), else takes the square
 * root and goes round again; both engines end with the same state for
 * each n, and the blocks' code holds one check (FSQRT's, at the end of
 * the way on) and the JE's way one (FADD's): three in the code without
 * the wait.
 */
/* That loop, `n` FADDs; with `nop` first in the loop's block, so that it
 * is not an x87 loop (whose run the back edge leaves open: below).
 * Returns its length. */
static size_t side_exit_loop(uint8_t *code, bool nop, unsigned n)
{
    static const uint8_t head[] = {
        0xd9, 0xeb, /* fldpi */
        0xd9, 0xe8, /* fld1 */
        0x31, 0xc0, /* xor eax, eax */
        0xeb, 0x00, /* jmp $+2: the loop is a block of its own */
    };
    const uint8_t body[] = {
        0xd8, 0xc1,             /* again: fadd st0, st1 */
        0x40,                   /* inc eax */
        0x83, 0xf8, (uint8_t)n, /* cmp eax, n */
        0x74, 0x04,             /* je done: runs on through */
        0xd9, 0xfa,             /* fsqrt */
        0xeb, 0x00,             /* jmp again */
        0xf4,                   /* done: hlt */
    };
    size_t len = 0;
    memcpy(code, head, sizeof(head));
    len += sizeof(head);
    if (nop)
        code[len++] = 0x90;
    memcpy(code + len, body, sizeof(body));
    len += sizeof(body);
    code[len - 2] = (uint8_t)(sizeof(head) - (len - 1)); /* back to `again` (or the NOP) */
    return len;
}

Test(jit_engine, x87_check_waits_past_a_side_exit)
{
    uint8_t code[32];
    size_t len;
    static struct x87_outcome want, got;
    unsigned c1_set = 0;
    for (unsigned n = 1; n <= 24; n++) {
        len = side_exit_loop(code, true, n);
        x87_fixed(CPU_ENGINE_INTERP, code, len, &want);
        x87_fixed(CPU_ENGINE_JIT, code, len, &got);
        x87_assert_same_st(&want.fpu, &got.fpu, "n", n);
        cr_assert(x87_same_fpu(&want.fpu, &got.fpu), "n %u: sw %04x / %04x", n, want.fpu.sw,
                  got.fpu.sw);
        c1_set += (want.fpu.sw >> 9) & 1;
    }
    cr_assert(c1_set > 0 && c1_set < 24, "C1 set after %u of the 24 FADDs", c1_set);

    struct je m = je_new(CPU_ENGINE_JIT);
    len = side_exit_loop(code, true, 24);
    je_code(&m, code, len);
    m.cpu->fpu.cw = 0x037f;
    m.cpu->fpu.tag_empty = 0xff;
    cr_assert_eq(cpu_exec(m.cpu, 1000000), CPU_EXIT_HALT);
    unsigned long long in_code = jit_stat(m.cpu, "x87 exception checks in blocks' code");
    unsigned long long on_ways = jit_stat(m.cpu, "more on side exits' ways");
    cr_assert_eq(in_code, 1ull, "%llu checks in the blocks' code", in_code);
    cr_assert_eq(on_ways, 1ull, "%llu checks on side exits' ways", on_ways);
    je_free(&m);
}

/* Runs `code` under the JIT from an empty x87 stack (every exception
 * masked) and returns its blocks' host code (je_host_text). */
static const char *x87_host_code(const uint8_t *code, size_t len)
{
    struct je m = je_new(CPU_ENGINE_JIT);
    je_code(&m, code, len);
    m.cpu->fpu.cw = 0x037f;
    m.cpu->fpu.tag_empty = 0xff;
    je_run_collecting_host_code(&m);
    je_free(&m);
    return je_host_text();
}

/* How many times `what` occurs in `text`. */
static unsigned count_in(const char *text, const char *what)
{
    unsigned n = 0;
    for (const char *t = text; (t = strstr(t, what)); t++)
        n++;
    return n;
}

/* `code` run to its HLT under both engines (x87_fixed): the same x87
 * state, registers and data. */
static void x87_fixed_same(const uint8_t *code, size_t len, const char *what)
{
    static struct x87_outcome want, got;
    x87_fixed(CPU_ENGINE_INTERP, code, len, &want);
    x87_fixed(CPU_ENGINE_JIT, code, len, &got);
    x87_assert_same_st(&want.fpu, &got.fpu, what, 0);
    cr_assert(x87_same_fpu(&want.fpu, &got.fpu), "%s", what);
    cr_assert(!memcmp(want.data, got.data, sizeof(want.data)), "%s", what);
}

/* A run's exception check reads the host's status word with FNSTSW AX,
 * not through memory (gen_x87.c check_exceptions_at). */
Test(jit_engine, x87_check_reads_the_status_word_into_ax)
{
    static const uint8_t code[] = {
        0xd9, 0xe8, /* fld1 */
        0xd9, 0xeb, /* fldpi */
        0xde, 0xc1, /* faddp */
        0xd9, 0xfa, /* fsqrt */
        0xf4,       /* hlt */
    };
    const char *text = x87_host_code(code, sizeof(code));
    cr_assert(strstr(text, "fnstsw ax"), "%s", text);
    cr_assert(!strstr(text, "fnstsw word") && !strstr(text, "fnstsw dword"), "%s", text);
}

/* A changed register the guest pops stays on the host's stack until the
 * run's end (gen_x87.c leave_popped); a push to it in the same run drops
 * it unstored. Here the first FADDP's popped 2.0 is overwritten by FLDZ:
 * two FSTP m80 at the run's end (ST(0)'s sum and the popped 0.0), three
 * when each pop stored its value; the registers, popped ones included,
 * as the interpreter leaves them. */
Test(jit_engine, x87_popped_value_a_push_overwrites_is_not_stored)
{
    static const uint8_t code[] = {
        0xd9, 0xe8, /* fld1 */
        0xd9, 0xe8, /* fld1 */
        0xd8, 0xc0, /* fadd st0, st0: 2.0, changed */
        0xde, 0xc1, /* faddp st1, st0: popped, keeps 2.0 */
        0xd9, 0xee, /* fldz: the same register, 0.0 */
        0xde, 0xc1, /* faddp st1, st0: popped, keeps 0.0 */
        0xf4,       /* hlt */
    };
    const char *text = x87_host_code(code, sizeof(code));
    unsigned stores = count_in(text, "fstp xword ptr");
    cr_assert_eq(stores, 2, "%u FSTP m80:\n%s", stores, text);
    x87_fixed_same(code, sizeof(code), "program");
}

/* Eight guest registers in one run all stay on the host's eight
 * (gen_x87.c cache_need): 1..8 pushed by FLD ST(0) and FADD, then
 * operations in place on ST(7) and ST(0): no register leaves the host's
 * stack before the run's end, so no FLD m80 at all (with two host
 * registers kept free: two stored and loaded again) and the eight
 * FSTP m80 of the end. Then a store at full depth (its copy needs one
 * host register: the deepest leaves, by FXCH and FSTP m80, no
 * temporary) and that register used again; both as the interpreter. */
Test(jit_engine, x87_eight_registers_stay_on_the_host_stack)
{
    static const uint8_t eight[] = {
        0xd9, 0xe8,                         /* fld1 */
        0xd9, 0xc0, 0xd8, 0xc1,             /* fld st0; fadd st0, st1: 2 */
        0xd9, 0xc0, 0xd8, 0xc2,             /* 3 */
        0xd9, 0xc0, 0xd8, 0xc3,             /* 4 */
        0xd9, 0xc0, 0xd8, 0xc4,             /* 5 */
        0xd9, 0xc0, 0xd8, 0xc5,             /* 6 */
        0xd9, 0xc0, 0xd8, 0xc6,             /* 7 */
        0xd9, 0xc0, 0xd8, 0xc7,             /* 8 */
        0xdc, 0xcf,                         /* fmul st7, st0 */
        0xd8, 0xc7,                         /* fadd st0, st7 */
        0xdc, 0xec,                         /* fsubr st4, st0 */
        0xd8, 0xf5,                         /* fdiv st0, st5 */
        0xf4,                               /* hlt */
    };
    const char *text = x87_host_code(eight, sizeof(eight));
    unsigned stores = count_in(text, "fstp xword ptr");
    cr_assert(!strstr(text, "fld xword ptr"), "%s", text);
    cr_assert_eq(stores, 8, "%u FSTP m80:\n%s", stores, text);
    x87_fixed_same(eight, sizeof(eight), "eight");

    static uint8_t full[sizeof(eight) + 16];
    size_t n = sizeof(eight) - 1;
    memcpy(full, eight, n);
    static const uint8_t tail[] = {
        0xdd, 0x15, 0x08, 0x00, 0x02, 0x00, /* fst qword [20008h] */
        0xd8, 0xc7,                         /* fadd st0, st7: the register that left */
        0xdc, 0xce,                         /* fmul st6, st0 */
        0xf4,                               /* hlt */
    };
    memcpy(full + n, tail, sizeof(tail));
    n += sizeof(tail);
    x87_fixed_same(full, n, "full");
}

Test(jit_engine, x87_failed_run_check_runs_it_again_from_its_start)
{
    static const uint8_t popped[] = {
        0xd9, 0xe8,                         /* fld1 */
        0xdd, 0x05, 0x00, 0x00, 0x02, 0x00, /* fld qword [20000h]: 2.0 */
        0xeb, 0x00,                         /* jmp $+2: the run starts in a new block */
        0xd8, 0xc8,                         /* fmul st0, st0: 4.0, changed */
        0xdd, 0xd8,                         /* fstp st(0): popped, keeps 4.0 */
        0xd8, 0xe0,                         /* fsub st0, st0: 0.0 */
        0xd8, 0xf0,                         /* fdiv st0, st0: IE */
        0xf4,
    };
    static const uint8_t overwritten[] = {
        0xdd, 0x05, 0x08, 0x00, 0x02, 0x00, /* fld qword [20008h] */
        0xdd, 0x1d, 0x08, 0x00, 0x02, 0x00, /* fstp qword [20008h]: the TLB warm */
        0xd9, 0xe8,                         /* fld1 */
        0xeb, 0x00,                         /* jmp $+2 */
        0xdc, 0x05, 0x00, 0x00, 0x02, 0x00, /* fadd qword [20000h]: 3.0 */
        0xdd, 0x15, 0x00, 0x00, 0x02, 0x00, /* fst qword [20000h] */
        0xd9, 0xee,                         /* fldz */
        0xd8, 0xf0,                         /* fdiv st0, st0: IE */
        0xdc, 0x05, 0x00, 0x00, 0x02, 0x00, /* fadd qword [20000h] */
        0xf4,
    };
    static const uint8_t with_integer[] = {
        0xbe, 0x00, 0x00, 0x02, 0x00,       /* mov esi, 20000h */
        0xdd, 0x06,                         /* fld qword [esi]: the TLB warm */
        0xdd, 0xd8,                         /* fstp st(0) */
        0xeb, 0x00,                         /* jmp $+2 */
        0xdd, 0x06,                         /* fld qword [esi]: 2.0 */
        0x47,                               /* inc edi: inside the run */
        0xd9, 0xee,                         /* fldz */
        0xd8, 0xf0,                         /* fdiv st0, st0: IE */
        0x47,                               /* inc edi */
        0xd8, 0xc1,                         /* fadd st0, st1 */
        0x83, 0xc6, 0x08,                   /* add esi, 8: the run's address: ends it */
        0xdd, 0x06,                         /* fld qword [esi] */
        0xf4,
    };
    /* The run's stack-fault test waits for its end (gen_x87.c
     * check_tags) but must come before its store: here ST(2) is empty
     * (holding a stale 2.0) when FADD reads it, and a store of the
     * host's 4.0 before the test would be read back by the run again. */
    static const uint8_t fault_then_store[] = {
        0xd9, 0xf7,                         /* fincstp */
        0xdd, 0x05, 0x00, 0x00, 0x02, 0x00, /* fld qword [20000h]: 2.0 */
        0xdd, 0x1d, 0x00, 0x00, 0x02, 0x00, /* fstp qword [20000h]: TLB warm, 2.0 stale */
        0xd9, 0xf6,                         /* fdecstp: TOP on the empty register */
        0xeb, 0x00,                         /* jmp $+2 */
        0xdd, 0x05, 0x00, 0x00, 0x02, 0x00, /* fld qword [20000h] */
        0xdd, 0x05, 0x00, 0x00, 0x02, 0x00, /* fld qword [20000h] */
        0xd8, 0xc2,                         /* fadd st0, st2: empty, stack fault */
        0xdd, 0x1d, 0x00, 0x00, 0x02, 0x00, /* fstp qword [20000h]: the indefinite */
        0xf4,
    };
    static const struct { const uint8_t *code; size_t len; } progs[] = {
        { popped, sizeof(popped) }, { overwritten, sizeof(overwritten) },
        { with_integer, sizeof(with_integer) }, { fault_then_store, sizeof(fault_then_store) },
    };
    static struct x87_outcome want, got;
    for (unsigned i = 0; i < 4; i++) {
        x87_fixed(CPU_ENGINE_INTERP, progs[i].code, progs[i].len, &want);
        x87_fixed(CPU_ENGINE_JIT, progs[i].code, progs[i].len, &got);
        x87_assert_same_st(&want.fpu, &got.fpu, "program", i);
        cr_assert(x87_same_fpu(&want.fpu, &got.fpu), "program %u: sw %04x / %04x, top %u / %u",
                  i, want.fpu.sw, got.fpu.sw, want.fpu.top, got.fpu.top);
        cr_assert(!memcmp(want.data, got.data, 16), "program %u: memory", i);
        cr_assert(!memcmp(want.regs, got.regs, sizeof(want.regs)), "program %u: EDI %u / %u", i,
                  want.regs[R_EDI], got.regs[R_EDI]);
    }
}

/* ------------------------------------------------------------------ */
/* x87 loops (gen_x87.c "Loops")                                       */
/* ------------------------------------------------------------------ */

/*
 * A block whose last instruction jumps back to its first, one run of
 * inline x87 instructions, keeps that run open across its back edges:
 * no check and no store per iteration, one check where the run ends (a
 * side exit, the jump not taken, the budget), and a failed one puts the
 * loop's entry state back and runs what it ran again on the careful
 * path. Each program here runs under both engines (the JIT with its
 * budget in slices of `slice` instructions too), which must end alike:
 * registers, flags, instruction count, the x87 state and the data.
 */
#define X87_LOOP_DATA_SIZE 0x4000u

struct x87_loop_outcome {
    struct x87_outcome o;
    unsigned long long loops, redos, in_code, dropped;
};

/* The control word the programs start with (every exception masked),
 * and whether the JIT runs them in lockstep with the interpreter (each
 * block compared as it ends: a divergence stops the run). */
static uint16_t x87_loop_cw = 0x037f;
static bool x87_loop_lockstep;

static void x87_loop_run(int engine, const uint8_t *code, size_t len, const uint8_t *data,
                         uint64_t slice, struct x87_loop_outcome *out)
{
    struct je m = je_new(engine);
    memcpy(m.ram + X87_DATA, data, X87_LOOP_DATA_SIZE);
    je_code(&m, code, len);
    m.cpu->fpu.cw = x87_loop_cw;
    m.cpu->fpu.tag_empty = 0xff;
    m.cpu->lockstep_on = engine == CPU_ENGINE_JIT && x87_loop_lockstep;
    int exit = CPU_EXIT_BUDGET;
    for (unsigned i = 0; i < 2000000 && exit == CPU_EXIT_BUDGET; i++)
        exit = cpu_exec(m.cpu, slice);
    cr_assert_eq(exit, CPU_EXIT_HALT, "engine %d: exit %d at eip %x", engine, exit, m.cpu->eip);
    memcpy(out->o.regs, m.cpu->regs, sizeof(out->o.regs));
    out->o.eflags = cpu_get_eflags(m.cpu);
    out->o.icount = m.cpu->icount;
    out->o.fpu = m.cpu->fpu;
    memcpy(out->o.data, m.ram + X87_DATA, sizeof(out->o.data));
    if (engine == CPU_ENGINE_JIT) {
        out->loops = jit_stat(m.cpu, "x87 loops");
        out->redos = jit_stat(m.cpu, "of their runs run again");
        out->in_code = jit_stat(m.cpu, "x87 exception checks in blocks' code");
        out->dropped = jit_stat(m.cpu, "loops made plain blocks again");
    }
    je_free(&m);
}

static void x87_loop_assert_same(const struct x87_loop_outcome *want,
                                 const struct x87_loop_outcome *got, const char *what, unsigned n)
{
    for (int r = 0; r < 8; r++)
        cr_assert_eq(want->o.regs[r], got->o.regs[r], "%s %u: register %d: %08x / %08x", what, n,
                     r, want->o.regs[r], got->o.regs[r]);
    cr_assert_eq(want->o.eflags, got->o.eflags, "%s %u: eflags %08x / %08x", what, n,
                 want->o.eflags, got->o.eflags);
    cr_assert_eq(want->o.icount, got->o.icount, "%s %u: %llu / %llu instructions", what, n,
                 (unsigned long long)want->o.icount, (unsigned long long)got->o.icount);
    x87_assert_same_st(&want->o.fpu, &got->o.fpu, what, n);
    cr_assert(x87_same_fpu(&want->o.fpu, &got->o.fpu),
              "%s %u: sw %04x/%04x top %u/%u empty %02x/%02x fip %x/%x fdp %x/%x", what, n,
              want->o.fpu.sw, got->o.fpu.sw, want->o.fpu.top, got->o.fpu.top,
              want->o.fpu.tag_empty, got->o.fpu.tag_empty, want->o.fpu.fip, got->o.fpu.fip,
              want->o.fpu.fdp, got->o.fpu.fdp);
    cr_assert(!memcmp(want->o.data, got->o.data, sizeof(want->o.data)), "%s %u: data", what, n);
}

/* The side-exit loop above without its NOP: an x87 loop, whose JE's way
 * takes FADD's C1 from the host where the run ends, for each count. Its
 * blocks' code holds no check (with the NOP: one, FSQRT's, run every
 * iteration). */
Test(jit_engine, x87_loop_runs_as_the_interpreter_runs_it)
{
    uint8_t code[32];
    static uint8_t data[X87_LOOP_DATA_SIZE];
    static struct x87_loop_outcome want, got;
    unsigned c1_set = 0;
    for (unsigned n = 1; n <= 60; n++) {
        size_t len = side_exit_loop(code, false, n);
        x87_loop_run(CPU_ENGINE_INTERP, code, len, data, 10000000, &want);
        for (uint64_t slice = 1; slice <= 10000000; slice *= 10) {
            x87_loop_run(CPU_ENGINE_JIT, code, len, data, slice, &got);
            x87_loop_assert_same(&want, &got, "n", n);
        }
        x87_loop_run(CPU_ENGINE_JIT, code, len, data, 10000000, &got);
        cr_assert_eq(got.loops, 1ull, "n %u: %llu x87 loops", n, got.loops);
        cr_assert_eq(got.in_code, 0ull, "n %u: %llu checks in the blocks' code", n, got.in_code);
        c1_set += (want.o.fpu.sw >> 9) & 1;
    }
    cr_assert(c1_set > 0 && c1_set < 60, "C1 set after %u of the 60 FADDs", c1_set);
}

/* inf - inf added up `n` times in a loop: IE on every iteration (never
 * inline: fpu_soft decides), so every run of the loop fails its check. */
static const uint8_t inf_minus_inf[] = {
    0xd9, 0xee,                         /* fldz */
    0x31, 0xc0,                         /* xor eax, eax */
    0xeb, 0x00,                         /* jmp $+2 */
    0xdd, 0x05, 0x08, 0x00, 0x02, 0x00, /* again: fld qword [20008h]: inf */
    0xd8, 0xe0,                         /* fsub st0, st0: IE */
    0xde, 0xc1,                         /* faddp st1, st0 */
    0x40,                               /* inc eax */
    0x3d, 0x00, 0x00, 0x00, 0x00,       /* cmp eax, n */
    0x75, 0xee,                         /* jne again */
    0xf4,
};

static void inf_minus_inf_loop(uint8_t *code, uint32_t n)
{
    memcpy(code, inf_minus_inf, sizeof(inf_minus_inf));
    memcpy(code + 18, &n, 4);
}

/*
 * z = z * z + c from c = 2: exact for a few iterations, then inexact (PE
 * new to the guest), then beyond the extended range (OE), then infinity.
 * Each new flag fails the check where the loop's run ends: the entry's
 * state comes back and the careful path runs the iterations again. Also
 * with inf - inf in the loop (IE every time: never inline) and with a
 * register read empty (a stack fault each iteration).
 */
Test(jit_engine, x87_loop_failed_check_runs_it_again_carefully)
{
    static const uint8_t grows[] = {
        0xdd, 0x05, 0x00, 0x00, 0x02, 0x00, /* fld qword [20000h]: 2.0 */
        0xd9, 0xc0,                         /* fld st0 */
        0x31, 0xc0,                         /* xor eax, eax */
        0xeb, 0x00,                         /* jmp $+2 */
        0xd8, 0xc8,                         /* again: fmul st0, st0 */
        0xd8, 0xc1,                         /* fadd st0, st1 */
        0x40,                               /* inc eax */
        0x3d, 0xc8, 0x00, 0x00, 0x00,       /* cmp eax, 200 */
        0x75, 0xf4,                         /* jne again */
        0xf4,
    };
    static uint8_t invalid[sizeof(inf_minus_inf)];
    inf_minus_inf_loop(invalid, 50);
    static const uint8_t empty_read[] = {
        0xd9, 0xe8,                         /* fld1 */
        0x31, 0xc0,                         /* xor eax, eax */
        0xeb, 0x00,                         /* jmp $+2 */
        0xd8, 0xc3,                         /* again: fadd st0, st3: empty */
        0x40,                               /* inc eax */
        0x83, 0xf8, 0x28,                   /* cmp eax, 40 */
        0x75, 0xf8,                         /* jne again */
        0xf4,
    };
    const struct { const uint8_t *code; size_t len; } progs[] = {
        { grows, sizeof(grows) }, { invalid, sizeof(invalid) },
        { empty_read, sizeof(empty_read) },
    };
    static uint8_t data[X87_LOOP_DATA_SIZE];
    double two = 2.0, inf = __builtin_inf();
    memcpy(data, &two, 8);
    memcpy(data + 8, &inf, 8);
    static struct x87_loop_outcome want, got;
    for (unsigned i = 0; i < 3; i++) {
        x87_loop_run(CPU_ENGINE_INTERP, progs[i].code, progs[i].len, data, 10000000, &want);
        for (uint64_t slice = 1; slice <= 10000000; slice *= 100) {
            x87_loop_run(CPU_ENGINE_JIT, progs[i].code, progs[i].len, data, slice, &got);
            x87_loop_assert_same(&want, &got, "program", i);
        }
        cr_assert_eq(got.loops, 1ull, "program %u: %llu x87 loops", i, got.loops);
        cr_assert(got.redos > 0, "program %u: no run again", i);
    }
}

/*
 * The sum of 2000 doubles through a pointer the loop moves (ADD ESI
 * inside the run: the register its memory operand is addressed with),
 * over four pages (TLB misses inside the open run), one of the values
 * inexact to add (PE new there), with FCOMI's flags written and then an
 * integer compare's: the run spans all of it, each iteration's state as
 * the interpreter's, the long run ended every JIT_X87_LOOP_RUN
 * instructions and after a failed check sent to the careful path.
 */
Test(jit_engine, x87_loop_moves_its_pointer_and_meets_new_pages)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x00, 0x02, 0x00,       /* mov esi, 20000h */
        0xd9, 0xee,                         /* fldz */
        0xd9, 0xee,                         /* fldz */
        0xeb, 0x00,                         /* jmp $+2 */
        0xdc, 0x06,                         /* again: fadd qword [esi] */
        0xdb, 0xf1,                         /* fcomi st0, st1 */
        0x83, 0xc6, 0x08,                   /* add esi, 8 */
        0x81, 0xfe, 0x80, 0x3e, 0x02, 0x00, /* cmp esi, 23e80h */
        0x75, 0xf1,                         /* jne again */
        0xf4,
    };
    static uint8_t data[X87_LOOP_DATA_SIZE];
    for (unsigned k = 0; k < 2000; k++) {
        double v = k == 1234 ? 1.0 / 3.0 : (double)(k % 7);
        memcpy(data + 8 * k, &v, 8);
    }
    static struct x87_loop_outcome want, got;
    x87_loop_run(CPU_ENGINE_INTERP, code, sizeof(code), data, 10000000, &want);
    for (uint64_t slice = 3; slice <= 10000000; slice *= 30) {
        x87_loop_run(CPU_ENGINE_JIT, code, sizeof(code), data, slice, &got);
        x87_loop_assert_same(&want, &got, "slice", (unsigned)slice);
    }
    cr_assert_eq(got.loops, 1ull, "%llu x87 loops", got.loops);
    cr_assert(got.redos > 0, "no run again");
}

/*
 * Random x87 loops: six registers loaded from the table of doubles
 * (zeros, denormals, infinities, NaNs among them), then a loop of ECX
 * iterations whose body is a random sequence of stack-neutral pieces:
 * arithmetic on registers and on memory (through ESI, which the body
 * moves), FLD/FADDP pairs, FXCH, FST, compares (FCOMI's flags, FCOM's
 * C0-C3), FSQRT, constants, integer instructions on registers, and a
 * forward Jcc over a piece (a side exit). Each program runs under the
 * interpreter and under the JIT with budgets of 1, 7, 1000 and 10^7
 * instructions a slice; everything must end alike, the FNSAVE image
 * included; and in lockstep, where every block's result is compared
 * with the interpreter's. Many of the loops are x87 loops (gen_x87.c "Loops"), whose
 * failed checks (new flags, IE, stack faults are all here) run their
 * iterations again on the careful path. X87_LOOP_SEED=N runs program N
 * alone, X87_LOOP_RUNS=N runs N programs.
 */
static void x87_loop_piece(struct x87_gen *g, bool x87_only)
{
    unsigned i = x87_rnd(g) % 6, j = 1 + x87_rnd(g) % 6;
    unsigned kind = x87_only ? x87_rnd(g) % 12 : x87_rnd(g) % 16;
    switch (kind) {
    case 0: { uint8_t b[] = { 0xd8, (uint8_t)(0xc0 + i) }; x87_emit(g, b, 2); break; } /* fadd */
    case 1: { uint8_t b[] = { 0xd8, (uint8_t)(0xc8 + i) }; x87_emit(g, b, 2); break; } /* fmul */
    case 2: { uint8_t b[] = { 0xd8, (uint8_t)(0xe0 + i) }; x87_emit(g, b, 2); break; } /* fsub */
    case 3: { uint8_t b[] = { 0xd8, (uint8_t)(0xf0 + i) }; x87_emit(g, b, 2); break; } /* fdiv */
    case 4: { uint8_t b[] = { 0xdc, (uint8_t)(0xc8 + i) }; x87_emit(g, b, 2); break; } /* fmul st(i), st0 */
    case 5: { uint8_t b[] = { 0xd9, (uint8_t)(0xc8 + i) }; x87_emit(g, b, 2); break; } /* fxch */
    case 6: { /* fld st(i); faddp st(j) */
        uint8_t b[] = { 0xd9, (uint8_t)(0xc0 + i), 0xde, (uint8_t)(0xc0 + j) };
        x87_emit(g, b, 4);
        break;
    }
    case 7: /* fld m64; fsubp st(j) */
        x87_mem(g, 0xdd, 0);
        { uint8_t b[] = { 0xde, (uint8_t)(0xe8 + j) }; x87_emit(g, b, 2); }
        break;
    case 8: { uint8_t b[] = { 0xdc, 0x06 }; x87_emit(g, b, 2); break; } /* fadd qword [esi] */
    case 9: { /* fcomi st0, st(i) or fcom st(i) */
        uint8_t b[] = { (uint8_t)(x87_rnd(g) % 2 ? 0xdb : 0xd8), (uint8_t)(0xf0 + i) };
        if (b[0] == 0xd8)
            b[1] = (uint8_t)(0xd0 + i);
        x87_emit(g, b, 2);
        break;
    }
    case 10: { /* fsqrt, fchs, fabs, or fld1; faddp */
        static const uint8_t forms[][4] = { { 0xd9, 0xfa }, { 0xd9, 0xe0 }, { 0xd9, 0xe1 },
                                            { 0xd9, 0xe8, 0xde, 0xc1 } };
        unsigned f = x87_rnd(g) % 4;
        x87_emit(g, forms[f], f == 3 ? 4 : 2);
        break;
    }
    case 11: { uint8_t b[] = { 0xdd, (uint8_t)(0xd0 + j) }; x87_emit(g, b, 2); break; } /* fst st(j) */
    case 12: { uint8_t b[] = { 0x83, 0xc6, 0x08 }; x87_emit(g, b, 3); break; }     /* add esi, 8 */
    case 13: { uint8_t b[] = { 0x40 }; x87_emit(g, b, 1); break; }                 /* inc eax */
    case 14: { uint8_t b[] = { 0x39, 0xd8 }; x87_emit(g, b, 2); break; }           /* cmp eax, ebx */
    default: { /* jcc over an x87 piece: a side exit */
        uint8_t *at = g->p;
        uint8_t b[] = { (uint8_t)(0x70 + x87_rnd(g) % 16), 0 };
        x87_emit(g, b, 2);
        x87_loop_piece(g, true);
        at[1] = (uint8_t)(g->p - at - 2);
        break;
    }
    }
}

Test(jit_engine, x87_random_loops_as_the_interpreter_runs_them, .timeout = 240)
{
    static uint8_t data[X87_LOOP_DATA_SIZE], code[512];
    static struct x87_loop_outcome want, got;
    unsigned runs = 300, first = 1, loops = 0;
    if (getenv("X87_LOOP_RUNS"))
        runs = (unsigned)atoi(getenv("X87_LOOP_RUNS"));
    if (getenv("X87_LOOP_SEED"))
        first = runs = (unsigned)atoi(getenv("X87_LOOP_SEED"));
    for (unsigned seed = first; seed <= runs; seed++) {
        struct x87_gen g = { seed * 0x9e3779b97f4a7c15ull + 17, code };
        memset(data, 0, sizeof(data));
        x87_fill_data(&g, data);
        for (unsigned r = 0; r < 6; r++)
            x87_mem(&g, 0xdd, 0); /* fld qword [...] */
        uint8_t setup[] = {
            0xb9, (uint8_t)(1 + x87_rnd(&g) % 40), 0, 0, 0, /* mov ecx, n */
            0xbe, 0x00, 0x08, 0x02, 0x00,                  /* mov esi, 20800h */
            0xbb, (uint8_t)(x87_rnd(&g) % 8), 0, 0, 0,      /* mov ebx, k */
            0xeb, 0x00,                                    /* jmp $+2 */
        };
        x87_emit(&g, setup, sizeof(setup));
        uint8_t *start = g.p;
        x87_loop_piece(&g, true); /* the loop's first instruction: x87 */
        unsigned pieces = 1 + x87_rnd(&g) % 10;
        for (unsigned k = 0; k < pieces; k++)
            x87_loop_piece(&g, false);
        uint8_t tail[] = { 0x49, 0x75, 0 }; /* dec ecx; jnz start */
        tail[2] = (uint8_t)(start - (g.p + 3));
        x87_emit(&g, tail, 3);
        uint32_t at = X87_SAVE;
        uint8_t save[7] = { 0xdd, 0x35 }; /* fnsave [X87_SAVE]; hlt */
        memcpy(save + 2, &at, 4);
        save[6] = 0xf4;
        x87_emit(&g, save, 7);
        size_t len = (size_t)(g.p - code);
        /* Double or extended precision, any rounding. */
        x87_loop_cw = (uint16_t)(0x007f | (x87_rnd(&g) % 4) << 10 | (2 + x87_rnd(&g) % 2) << 8);
        x87_loop_run(CPU_ENGINE_INTERP, code, len, data, 10000000, &want);
        static const uint64_t slices[] = { 1, 7, 1000, 10000000 };
        for (unsigned s = 0; s < 4; s++) {
            x87_loop_run(CPU_ENGINE_JIT, code, len, data, slices[s], &got);
            x87_loop_assert_same(&want, &got, "seed", seed);
        }
        loops += got.loops > 0;
        /* The state after each block, a loop's put back by a failed
         * check included, as the interpreter's there. */
        x87_loop_lockstep = true;
        x87_loop_run(CPU_ENGINE_JIT, code, len, data, 10000000, &got);
        x87_loop_lockstep = false;
        x87_loop_assert_same(&want, &got, "seed (lockstep)", seed);
    }
    x87_loop_cw = 0x037f;
    if (runs - first + 1 >= 100)
        cr_assert(loops * 4 >= runs - first + 1, "%u of %u programs made x87 loops", loops,
                  runs - first + 1);
}

/*
 * A loop whose check fails on every run (inf - inf each iteration: IE,
 * which never runs inline) would waste each run and then run it on the
 * careful path, for ever: after JIT_X87_LOOP_REDOS of them its block is
 * translated again as a plain one, and stays so.
 */
Test(jit_engine, x87_loop_that_keeps_failing_becomes_a_plain_block)
{
    uint8_t code[sizeof(inf_minus_inf)];
    inf_minus_inf_loop(code, 4096);
    static uint8_t data[X87_LOOP_DATA_SIZE];
    double inf = __builtin_inf();
    memcpy(data + 8, &inf, 8);
    static struct x87_loop_outcome want, got;
    x87_loop_run(CPU_ENGINE_INTERP, code, sizeof(code), data, 10000000, &want);
    x87_loop_run(CPU_ENGINE_JIT, code, sizeof(code), data, 10000000, &got);
    x87_loop_assert_same(&want, &got, "program", 0);
    cr_assert_eq(got.dropped, 1ull, "%llu loops dropped", got.dropped);
    cr_assert_eq(got.redos, (unsigned long long)JIT_X87_LOOP_REDOS, "%llu runs again",
                 got.redos);
}
