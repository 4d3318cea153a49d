/*
 * test_fuzz_cpu.c — robustness: a bare CPU runs thousands of random byte
 * sequences in each mode (real, 16-bit PM, 32-bit PM at CPL 0 and 3, v86,
 * paging) from random register values, for a bounded number of
 * instructions each. There is no reference to compare with: the test
 * requires that the host neither crashes nor hangs, that the CPU's state
 * stays architecturally possible afterwards (CPL matches CS, CS holds a
 * code segment and SS a writable one at CPL, EIP within the CS limit,
 * reserved EFLAGS/CR bits clear, no exception left half delivered), and
 * that the engines — the interpreter one instruction at a time, its
 * block cache (translate/tb.c), and the JIT (translate/jit/, on x86-64
 * hosts) — end each run in the same state.
 *
 * The generator mixes plain random bytes with the encodings most likely
 * to reach the system paths: prefixes, the 0F map, x87, LGDT/LIDT/LTR/
 * LLDT/MOV CR/MOV DR with random operands, far JMP/CALL/RETF/IRET with
 * random selectors and frames, INT n with random vectors, task switches
 * to random TSS contents, WRMSR, and jumps into unmapped memory.
 *
 * The seed is printed; GLASS_FUZZ_SEED=n reruns with it, and
 * GLASS_FUZZ_CASES=n changes the number of cases per mode. A failure
 * names the mode and case, whose own seed reproduces it alone
 * (GLASS_FUZZ_ONE=seed, with --filter fuzz_cpu/MODE); GLASS_FUZZ_LOG=0
 * then logs exceptions and each run's end state, GLASS_FUZZ_LOG=4 also
 * every instruction (which keeps the block cache out of the way).
 * GLASS_FUZZ_JIT=0 leaves the JIT's pass out; GLASS_FUZZ_UNDEF (see
 * fuzz_undef.h) says whether flags the SDM leaves undefined may differ
 * between the interpreter and the JIT.
 */
#define _POSIX_C_SOURCE 200809L /* setitimer, sigaction */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cpu/internal.h"
#include "fuzz_total.h"
#include "fuzz_undef.h"
#include "memory/memory.h"
#include "translate/translate.h"

/* Physical layout (all RAM, cleared and rebuilt for every case). */
#define FZ_RAM_SIZE 0x80000u
#define FZ_IVT 0x0000u
#define FZ_GDT 0x1000u
#define FZ_GDT_ENTRIES 16u
#define FZ_LDT 0x1800u
#define FZ_IDT 0x2000u
#define FZ_STUBS 0x3000u /* 256 HLTs: vector v halts at 0x3000 + v + 1 */
#define FZ_TSS 0x4000u   /* the current task's TSS, with both bitmaps (VME, I/O) */
#define FZ_TSS_IOMAP 0x88u
#define FZ_TSS_LIMIT (FZ_TSS_IOMAP + 0x400u) /* ports 0-0x1FFF in the bitmap */
#define FZ_PD 0x6000u           /* page directory */
#define FZ_PT 0x7000u           /* the page table of 0-4 MiB */
#define FZ_TSS2 0x8000u         /* another task, random contents */
#define FZ_STACK0 0xa000u       /* ESP0 of the TSS */
#define FZ_CODE 0x10000u        /* random code: 8 KiB */
#define FZ_CODE_SIZE 0x2000u
#define FZ_STACK 0x1f000u       /* initial stack top (all modes) */
#define FZ_DATA 0x20000u        /* random bytes that pointers aim at */
#define FZ_DATA_SIZE 0x10000u

#define FZ_BUDGET 300
#define FZ_MAX_CHUNKS 4096

enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x1b, SEL_DATA3 = 0x23, SEL_TSS = 0x28,
    SEL_CODE16 = 0x30, SEL_DATA16 = 0x38, SEL_TSS2 = 0x40, SEL_TASKGATE = 0x48,
    SEL_CALLGATE = 0x53, SEL_LDT = 0x58, SEL_RANDOM_FIRST = 0x60,
};

enum fz_mode { FZ_REAL, FZ_PM16, FZ_PM32_CPL0, FZ_PM32_CPL3, FZ_V86, FZ_PAGING, FZ_MODES };
static const char *const fz_mode_name[FZ_MODES] = {
    "real", "pm16", "pm32-cpl0", "pm32-cpl3", "v86", "paging",
};

/* A machine: RAM, its address space, ports, a CPU. */
struct fz_machine {
    uint8_t *ram;
    struct phys_mem *pm;
    struct io_space *io;
    struct cpu *cpu;
};

struct fz {
    uint8_t *ram;   /* the guest's RAM */
    uint8_t *image; /* where a case is built before it is copied in */
    uint8_t *after; /* the RAM after the careful pass */
    uint8_t code_before[FZ_CODE_SIZE];
    uint32_t paging_before[2048]; /* the page directory and table */
    unsigned compared;     /* runs whose outcomes the block cache agreed on */
    unsigned compared_jit; /* the same for the JIT */
    unsigned undef_runs;   /* runs the JIT was not compared on: undefined flags */
    uint64_t jit_insns;    /* guest instructions the JIT's passes retired */
    uint32_t undef;        /* fuzz_undef_effect of the careful run so far */
    bool jit;              /* a third pass under the JIT */
    /* The JIT's pass runs on a machine of its own, so that its
     * translation cache lives from case to case (switching one CPU's
     * engine would free it: cpu_exec) and is flushed as it fills. */
    struct fz_machine other;
    bool log_exec;         /* GLASS_FUZZ_LOG asked for every instruction */
    struct phys_mem *pm;
    struct io_space *io;
    struct cpu *cpu;
    uint64_t rng;
    unsigned shutdowns, livelocks, budgets, halts, runs;
    uint64_t case_seed;
    uint16_t chunk[FZ_MAX_CHUNKS]; /* offsets where generated chunks start */
    unsigned nchunks;
};

/* ------------------------------------------------------------------ */
/* Random numbers (xorshift64*: the same sequence on every host)      */
/* ------------------------------------------------------------------ */

static uint32_t fz_rand(struct fz *f)
{
    f->rng ^= f->rng >> 12;
    f->rng ^= f->rng << 25;
    f->rng ^= f->rng >> 27;
    return (uint32_t)((f->rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t fz_below(struct fz *f, uint32_t n)
{
    return fz_rand(f) % n;
}

static bool fz_chance(struct fz *f, unsigned percent)
{
    return fz_below(f, 100) < percent;
}

static uint64_t fz_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x ? x : 1;
}

/* A selector worth trying: mostly one of the GDT's (any RPL, sometimes
 * the LDT bit), sometimes anything. */
static uint16_t fz_selector(struct fz *f)
{
    if (fz_chance(f, 15))
        return (uint16_t)fz_rand(f);
    if (fz_chance(f, 5))
        return (uint16_t)fz_below(f, 4); /* null, any RPL */
    uint16_t sel = (uint16_t)(fz_below(f, FZ_GDT_ENTRIES + 2) << 3 | fz_below(f, 4));
    if (fz_chance(f, 10))
        sel = (uint16_t)((fz_below(f, 4) << 3) | 4 | fz_below(f, 4));
    return sel;
}

/* A 32-bit value worth trying as a register or operand. */
static uint32_t fz_value(struct fz *f)
{
    switch (fz_below(f, 8)) {
    case 0:
    case 1:
        return fz_rand(f);
    case 2:
    case 3:
        return FZ_DATA + fz_below(f, FZ_DATA_SIZE);
    case 4:
        return fz_below(f, 0x100);
    case 5:
        return 0xffffffffu - fz_below(f, 16);
    case 6:
        return FZ_CODE + fz_below(f, FZ_CODE_SIZE);
    default:
        return fz_below(f, FZ_RAM_SIZE);
    }
}

/* ------------------------------------------------------------------ */
/* The machine                                                         */
/* ------------------------------------------------------------------ */

static void fz_put32(struct fz *f, uint32_t addr, uint32_t v)
{
    memcpy(f->image + addr, &v, 4);
}

static void fz_put16(struct fz *f, uint32_t addr, uint16_t v)
{
    memcpy(f->image + addr, &v, 2);
}

static void fz_desc(struct fz *f, uint32_t addr, uint32_t base, uint32_t limit, unsigned access,
                    unsigned flags)
{
    fz_put32(f, addr, (limit & 0xffff) | (base << 16));
    fz_put32(f, addr + 4, ((base >> 16) & 0xff) | (access << 8) | (limit & 0xf0000) |
                              (flags << 20) | (base & 0xff000000u));
}

/* An IDT gate (type 0xe/0xf 32-bit, 0x6/0x7 16-bit, 0x5 task). */
static void fz_gate(struct fz *f, unsigned v, uint16_t sel, uint32_t off, unsigned type,
                    unsigned dpl)
{
    fz_put32(f, FZ_IDT + v * 8, (off & 0xffff) | ((uint32_t)sel << 16));
    fz_put32(f, FZ_IDT + v * 8 + 4, (off & 0xffff0000u) | 0x8000u | (dpl << 13) | (type << 8));
}

static struct seg fz_seg(struct fz *f, uint16_t sel)
{
    struct desc d;
    const uint32_t table = (sel & 4) ? FZ_LDT : FZ_GDT;
    memcpy(&d.lo, f->image + table + (sel & 0xfff8u), 4);
    memcpy(&d.hi, f->image + table + (sel & 0xfff8u) + 4, 4);
    struct seg s;
    seg_from_desc(&s, sel, d);
    return s;
}

static struct seg fz_real_seg(uint16_t sel, bool code)
{
    return (struct seg){ sel, (uint32_t)sel << 4, 0xffff,
                         AR_P | AR_S | AR_T_ACCESSED | (code ? AR_T_CODE | AR_T_READABLE
                                                             : AR_T_WRITABLE) };
}

/* Random 8 bytes, or a random but well-formed descriptor. */
static void fz_random_desc(struct fz *f, uint32_t addr)
{
    if (fz_chance(f, 30)) {
        fz_put32(f, addr, fz_rand(f));
        fz_put32(f, addr + 4, fz_rand(f));
        return;
    }
    unsigned type = fz_below(f, 32); /* S and type */
    unsigned access = 0x80 | (fz_below(f, 4) << 5) | type;
    if (fz_chance(f, 10))
        access &= 0x7f; /* not present */
    uint32_t base = fz_chance(f, 50) ? 0 : fz_value(f);
    uint32_t limit = fz_chance(f, 50) ? 0xfffff : fz_rand(f) & 0xfffff;
    if ((type & 0x1f) == 0x0c || (type & 0x1f) == 0x04) {
        /* call gate: selector and offset, parameter count */
        uint32_t off = FZ_CODE + fz_below(f, FZ_CODE_SIZE);
        fz_put32(f, addr, (off & 0xffff) | ((uint32_t)fz_selector(f) << 16));
        fz_put32(f, addr + 4, (off & 0xffff0000u) | (access << 8) | fz_below(f, 32));
        return;
    }
    if ((type & 0x1f) == 0x05) { /* task gate */
        fz_put32(f, addr, (uint32_t)fz_selector(f) << 16);
        fz_put32(f, addr + 4, access << 8);
        return;
    }
    if ((type & 0x17) == 0x01 || (type & 0x17) == 0x03) /* TSS: point at one */
        base = fz_chance(f, 70) ? FZ_TSS2 : base;
    fz_desc(f, addr, base, limit, access, fz_below(f, 16) & 0xd);
}

/* The other task's TSS: a plausible state with random parts. */
static void fz_random_tss(struct fz *f, uint32_t at)
{
    for (uint32_t i = 0; i < 0x68; i += 4)
        fz_put32(f, at + i, fz_value(f));
    static const uint16_t code_sels[] = { SEL_CODE0, SEL_CODE3, SEL_CODE16, 0x1000 };
    static const uint16_t data_sels[] = { SEL_DATA0, SEL_DATA3, SEL_DATA16, 0x1000 };
    if (fz_chance(f, 80)) {
        unsigned k = fz_below(f, 4);
        fz_put32(f, at + 0x1c, fz_chance(f, 50) ? FZ_PD : fz_value(f)); /* CR3 */
        fz_put32(f, at + 0x20, k == 2 || k == 3 ? fz_below(f, FZ_CODE_SIZE)
                                                : FZ_CODE + fz_below(f, FZ_CODE_SIZE));
        uint32_t fl = (fz_rand(f) & 0x3f7fd5) | 2;
        if (k == 3)
            fl |= FL_VM;
        else if (fz_chance(f, 90))
            fl &= ~FL_VM;
        fz_put32(f, at + 0x24, fl);
        fz_put32(f, at + 0x38, k == 2 || k == 3 ? 0xf000 : FZ_STACK);
        fz_put16(f, at + 0x4c, k == 3 ? 0x1000 : code_sels[k]);
        for (unsigned s = 0; s < 6; s++)
            if (s != 1)
                fz_put16(f, at + 0x48 + 4 * s, k == 3 ? 0x1000 : data_sels[k]);
        fz_put32(f, at + 0x60, fz_chance(f, 70) ? 0 : SEL_LDT);
        fz_put32(f, at + 0x64, 0x00680000u); /* T = 0, I/O map past the limit */
    }
}

static void fz_build_tables(struct fz *f)
{
    memset(f->image, 0, FZ_RAM_SIZE);

    /* IVT: vector v to 0300:v, a HLT at 0x3000 + v. */
    for (unsigned v = 0; v < 256; v++)
        fz_put32(f, FZ_IVT + v * 4, (0x0300u << 16) | v);
    memset(f->image + FZ_STUBS, 0xf4, 256);

    /* GDT. */
    fz_desc(f, FZ_GDT + 0x08, 0, 0xfffff, 0x9a, 0xc);
    fz_desc(f, FZ_GDT + 0x10, 0, 0xfffff, 0x92, 0xc);
    fz_desc(f, FZ_GDT + 0x18, 0, 0xfffff, 0xfa, 0xc);
    fz_desc(f, FZ_GDT + 0x20, 0, 0xfffff, 0xf2, 0xc);
    fz_desc(f, FZ_GDT + 0x28, FZ_TSS, FZ_TSS_LIMIT, 0x8b, 0); /* busy */
    fz_desc(f, FZ_GDT + 0x30, FZ_CODE, 0xffff, 0x9a, 0);
    fz_desc(f, FZ_GDT + 0x38, FZ_CODE, 0xffff, 0x92, 0);
    fz_desc(f, FZ_GDT + 0x40, FZ_TSS2, 0x67 + fz_below(f, 2), fz_chance(f, 50) ? 0x89 : 0x81, 0);
    fz_put32(f, FZ_GDT + 0x48, (uint32_t)SEL_TSS2 << 16); /* task gate, DPL 3 */
    fz_put32(f, FZ_GDT + 0x4c, 0xe500);
    /* call gate, DPL 3, to ring 0 code with 0-3 parameters */
    fz_put32(f, FZ_GDT + 0x50, (FZ_STUBS + 0x80) | ((uint32_t)SEL_CODE0 << 16));
    fz_put32(f, FZ_GDT + 0x54, 0xec00 | fz_below(f, 4));
    fz_desc(f, FZ_GDT + 0x58, FZ_LDT, 0x1f, 0x82, 0);
    for (unsigned i = SEL_RANDOM_FIRST; i < FZ_GDT_ENTRIES * 8; i += 8)
        fz_random_desc(f, FZ_GDT + i);
    for (unsigned i = 0; i < 0x20; i += 8)
        fz_random_desc(f, FZ_LDT + i);

    /* IDT: every gate to a HLT stub, of random type and DPL. */
    for (unsigned v = 0; v < 256; v++) {
        unsigned r = fz_below(f, 100);
        if (r < 70)
            fz_gate(f, v, SEL_CODE0, FZ_STUBS + v, 0xe, fz_below(f, 2) * 3);
        else if (r < 90)
            fz_gate(f, v, SEL_CODE0, FZ_STUBS + v, 0xf, fz_below(f, 2) * 3);
        else if (r < 94)
            fz_gate(f, v, SEL_TSS2, 0, 0x5, fz_below(f, 4));
        else if (r < 97)
            fz_gate(f, v, SEL_CODE0, FZ_STUBS + v, 0x6, fz_below(f, 4));
        else {
            fz_put32(f, FZ_IDT + v * 8, fz_rand(f));
            fz_put32(f, FZ_IDT + v * 8 + 4, fz_rand(f));
        }
    }

    /* TSS: ring 0 stack, interrupt redirection bitmap, I/O bitmap. */
    fz_put32(f, FZ_TSS + 4, FZ_STACK0);
    fz_put32(f, FZ_TSS + 8, SEL_DATA0);
    fz_put32(f, FZ_TSS + 0x1c, FZ_PD);
    fz_put16(f, FZ_TSS + 0x66, FZ_TSS_IOMAP);
    for (unsigned i = 0x68; i <= FZ_TSS_LIMIT; i++)
        f->image[FZ_TSS + i] = fz_chance(f, 50) ? 0xff : (uint8_t)fz_rand(f);
    fz_random_tss(f, FZ_TSS2);

    /* Paging: identity map of 0-4 MiB through one page table, user,
     * writable, with a few pages not present, read-only or supervisor;
     * the other directory entries random now and then (big pages,
     * reserved bits, not present). */
    fz_put32(f, FZ_PD, FZ_PT | 7);
    for (unsigned i = 1; i < 1024; i++)
        if (fz_chance(f, 2))
            fz_put32(f, FZ_PD + 4 * i, fz_rand(f));
    for (unsigned i = 0; i < 1024; i++) {
        uint32_t pte = (i << 12) | 7;
        if (i >= 0x10 && fz_chance(f, 5))
            pte ^= 1u << fz_below(f, 3);
        fz_put32(f, FZ_PT + 4 * i, pte);
    }

    /* Random data for the pointers to find. */
    for (uint32_t i = 0; i < FZ_DATA_SIZE; i += 4)
        fz_put32(f, FZ_DATA + i, fz_chance(f, 30) ? fz_value(f) : fz_rand(f));
}

/* ------------------------------------------------------------------ */
/* Code generator                                                      */
/* ------------------------------------------------------------------ */

struct fz_code {
    uint8_t *p;
    uint32_t n, cap;
};

static void emit(struct fz_code *c, uint8_t b)
{
    if (c->n < c->cap)
        c->p[c->n++] = b;
}

static void emit32(struct fz_code *c, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        emit(c, (uint8_t)(v >> (8 * i)));
}

static void emit16(struct fz_code *c, uint16_t v)
{
    emit(c, (uint8_t)v);
    emit(c, (uint8_t)(v >> 8));
}

/* MOV r32, imm32 (B8+r; in 16-bit code with 66). */
static void emit_mov_imm(struct fz *f, struct fz_code *c, bool code32, unsigned r, uint32_t v)
{
    (void)f;
    if (!code32)
        emit(c, 0x66);
    emit(c, (uint8_t)(0xb8 + r));
    emit32(c, v);
}

static void emit_push_imm(struct fz_code *c, bool code32, uint32_t v)
{
    if (!code32)
        emit(c, 0x66);
    emit(c, 0x68);
    emit32(c, v);
}

static void emit_modrm_tail(struct fz *f, struct fz_code *c)
{
    /* ModRM (biased to register forms and small memory operands), then
     * SIB/displacement/immediate bytes the instruction may or may not use. */
    uint8_t modrm = (uint8_t)fz_rand(f);
    if (fz_chance(f, 30))
        modrm |= 0xc0;
    emit(c, modrm);
    for (unsigned i = fz_below(f, 7); i > 0; i--)
        emit(c, (uint8_t)fz_rand(f));
}

static const uint8_t fz_prefixes[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e,
                                       0x36, 0x3e, 0x64, 0x65 };

static void emit_chunk(struct fz *f, struct fz_code *c, bool code32)
{
    unsigned r = fz_below(f, 100);
    if (r < 15) { /* raw bytes */
        for (unsigned i = 1 + fz_below(f, 8); i > 0; i--)
            emit(c, (uint8_t)fz_rand(f));
    } else if (r < 35) { /* prefixes + one-byte opcode + operands */
        for (unsigned i = fz_below(f, 4); i > 0; i--)
            emit(c, fz_prefixes[fz_below(f, sizeof(fz_prefixes))]);
        if (fz_chance(f, 3))
            for (unsigned i = 0; i < 14; i++) /* too long: #GP */
                emit(c, fz_prefixes[fz_below(f, sizeof(fz_prefixes))]);
        emit(c, (uint8_t)fz_rand(f));
        emit_modrm_tail(f, c);
    } else if (r < 50) { /* 0F map */
        if (fz_chance(f, 40))
            emit(c, fz_prefixes[fz_below(f, sizeof(fz_prefixes))]);
        emit(c, 0x0f);
        emit(c, (uint8_t)fz_rand(f));
        emit_modrm_tail(f, c);
    } else if (r < 58) { /* x87 */
        if (fz_chance(f, 20))
            emit(c, fz_prefixes[fz_below(f, sizeof(fz_prefixes))]);
        emit(c, (uint8_t)(0xd8 + fz_below(f, 8)));
        emit_modrm_tail(f, c);
    } else if (r < 64) { /* LGDT/LIDT/LMSW/SMSW/INVLPG..., LLDT/LTR/VERR... */
        emit_mov_imm(f, c, code32, fz_below(f, 8), fz_value(f));
        if (fz_chance(f, 50))
            emit_mov_imm(f, c, code32, fz_below(f, 8), fz_selector(f));
        emit(c, 0x0f);
        emit(c, (uint8_t)fz_below(f, 2));
        emit(c, (uint8_t)((fz_chance(f, 50) ? 0xc0 : 0) | (fz_below(f, 8) << 3) | fz_below(f, 8)));
    } else if (r < 69) { /* MOV CRn/DRn, r32 with a random or nearby value */
        unsigned reg = fz_below(f, 8);
        uint32_t v = fz_value(f);
        if (fz_chance(f, 50)) {
            static const uint32_t cr_bits[] = { CR0_PE, CR0_PG, CR0_TS, CR0_EM, CR0_WP,
                                                CR0_AM, CR0_NE, CR4_PSE, CR4_PAE,
                                                CR4_VME, CR4_PVI, CR4_PGE, FZ_PD };
            v = 0x11 | cr_bits[fz_below(f, 13)];
            if (fz_chance(f, 50))
                v |= CR0_PE;
        }
        emit_mov_imm(f, c, code32, reg, v);
        emit(c, 0x0f);
        emit(c, (uint8_t)(0x20 + fz_below(f, 4))); /* 20-23: MOV from/to CR/DR */
        emit(c, (uint8_t)(0xc0 | (fz_below(f, 8) << 3) | reg));
    } else if (r < 74) { /* MOV Sreg / far pointers loaded from registers */
        unsigned reg = fz_below(f, 8);
        emit_mov_imm(f, c, code32, reg, fz_selector(f));
        emit(c, 0x8e);
        emit(c, (uint8_t)(0xc0 | (fz_below(f, 8) << 3) | reg));
    } else if (r < 80) { /* far JMP/CALL ptr with random selector */
        emit(c, fz_chance(f, 50) ? 0xea : 0x9a);
        uint32_t off = fz_chance(f, 70) ? FZ_CODE + fz_below(f, FZ_CODE_SIZE) : fz_value(f);
        if (!code32 && fz_chance(f, 80))
            off = fz_below(f, FZ_CODE_SIZE);
        if (code32)
            emit32(c, off);
        else
            emit16(c, (uint16_t)off);
        static const uint16_t special[] = { SEL_TSS2, SEL_TASKGATE, SEL_CALLGATE };
        emit16(c, fz_chance(f, 25) ? special[fz_below(f, 3)] : fz_selector(f));
    } else if (r < 84) { /* INT n, INT3, INTO, INT1 */
        static const uint8_t ints[] = { 0xcd, 0xcd, 0xcd, 0xcc, 0xce, 0xf1 };
        uint8_t op = ints[fz_below(f, sizeof(ints))];
        emit(c, op);
        if (op == 0xcd)
            emit(c, (uint8_t)fz_rand(f));
    } else if (r < 90) { /* IRET / RETF with a random frame */
        unsigned words = 2 + fz_below(f, 8);
        for (unsigned i = 0; i < words; i++) {
            uint32_t v;
            switch (fz_below(f, 4)) {
            case 0: v = fz_selector(f); break;
            case 1: v = FZ_CODE + fz_below(f, FZ_CODE_SIZE); break;
            case 2: v = (fz_rand(f) & 0x3f7fd5) | 2; break; /* EFLAGS */
            default: v = fz_value(f); break;
            }
            emit_push_imm(c, code32, v);
        }
        uint8_t op = fz_chance(f, 60) ? 0xcf : fz_chance(f, 50) ? 0xcb : 0xca;
        if (fz_chance(f, 30))
            emit(c, 0x66);
        emit(c, op);
        if (op == 0xca)
            emit16(c, (uint16_t)(fz_below(f, 4) * 4));
    } else if (r < 93) { /* WRMSR/RDMSR, SYSENTER/SYSEXIT, CPUID, RDTSC */
        static const uint32_t msrs[] = { 0x10, 0x1b, 0x174, 0x175, 0x176, 0x1a0, 0x200,
                                         0x20f, 0x250, 0x277, 0x2ff, 0xc0000080u };
        emit_mov_imm(f, c, code32, R_ECX, fz_chance(f, 80) ? msrs[fz_below(f, 12)] : fz_rand(f));
        emit_mov_imm(f, c, code32, R_EAX, fz_value(f));
        emit_mov_imm(f, c, code32, R_EDX, fz_chance(f, 50) ? 0 : fz_rand(f));
        static const uint8_t sys[] = { 0x30, 0x32, 0x34, 0x35, 0xa2, 0x31, 0x33 };
        emit(c, 0x0f);
        emit(c, sys[fz_below(f, sizeof(sys))]);
    } else if (r < 96) { /* a jump into the unmapped or random address space */
        emit_mov_imm(f, c, code32, R_EAX, fz_chance(f, 50) ? 0xc0000000u : fz_rand(f));
        if (!code32)
            emit(c, 0x66);
        emit(c, 0xff);
        emit(c, fz_chance(f, 50) ? 0xe0 : 0xd0); /* JMP/CALL EAX */
    } else { /* REP string with a random count, or ENTER */
        emit_mov_imm(f, c, code32, R_ECX, fz_value(f));
        if (fz_chance(f, 70)) {
            emit(c, fz_chance(f, 50) ? 0xf3 : 0xf2);
            if (fz_chance(f, 30))
                emit(c, 0x67);
            emit(c, (uint8_t)(0xa4 + fz_below(f, 12))); /* A4-AF */
        } else {
            emit(c, 0xc8);
            emit16(c, (uint16_t)fz_rand(f));
            emit(c, (uint8_t)fz_rand(f));
        }
    }
}

static void fz_gen_code(struct fz *f, bool code32)
{
    struct fz_code c = { f->image + FZ_CODE, 0, FZ_CODE_SIZE };
    f->nchunks = 0;
    while (c.n < c.cap) {
        if (f->nchunks < FZ_MAX_CHUNKS)
            f->chunk[f->nchunks++] = (uint16_t)c.n;
        emit_chunk(f, &c, code32);
    }
}

/* ------------------------------------------------------------------ */
/* Starting state per mode                                             */
/* ------------------------------------------------------------------ */

/* Puts the CPU in `mode` at code offset `start`. */
static void fz_start(struct fz *f, enum fz_mode mode, uint32_t start)
{
    struct cpu *cpu = f->cpu;
    cpu_reset(cpu);
    for (int r = 0; r < 8; r++)
        cpu->regs[r] = fz_value(f);
    cpu->eflags = FL_FIXED1 | (fz_rand(f) & (FL_ARITH | FL_DF | FL_AC | FL_ID));
    if (fz_chance(f, 5))
        cpu->eflags |= FL_TF;
    cpu->gdtr = (struct dtr){ FZ_GDT, FZ_GDT_ENTRIES * 8 - 1 };
    cpu->idtr = (struct dtr){ FZ_IDT, 256 * 8 - 1 };
    cpu->cr0 = CR0_ET | (fz_chance(f, 20) ? CR0_NE : 0);
    cpu->cr3 = FZ_PD;
    if (fz_chance(f, 30))
        cpu->cr4 = (fz_chance(f, 50) ? CR4_PSE : 0) | (fz_chance(f, 50) ? CR4_DE : 0);

    if (mode == FZ_REAL) {
        cpu->idtr = (struct dtr){ FZ_IVT, 0x3ff };
        cpu->seg[SEG_CS] = fz_real_seg(FZ_CODE >> 4, true);
        for (int s = 0; s < SEG_COUNT; s++)
            if (s != SEG_CS)
                cpu->seg[s] = fz_real_seg(s == SEG_SS ? 0x1000 : (uint16_t)fz_value(f), false);
        cpu->regs[R_ESP] = 0xf000 - fz_below(f, 0x100);
        cpu->eip = start;
        return;
    }

    cpu->cr0 |= CR0_PE;
    cpu->tr = fz_seg(f, SEL_TSS);
    cpu->ldtr = fz_seg(f, SEL_LDT);
    cpu->regs[R_ESP] = FZ_STACK - fz_below(f, 0x100);
    switch (mode) {
    case FZ_PM16:
        cpu->seg[SEG_CS] = fz_seg(f, SEL_CODE16);
        for (int s = 0; s < SEG_COUNT; s++)
            if (s != SEG_CS)
                cpu->seg[s] = fz_seg(f, SEL_DATA16);
        cpu->regs[R_ESP] = 0xf000 - fz_below(f, 0x100);
        cpu->eip = start;
        break;
    case FZ_V86:
        cpu->seg[SEG_CS] = fz_real_seg(FZ_CODE >> 4, true);
        for (int s = 0; s < SEG_COUNT; s++)
            if (s != SEG_CS)
                cpu->seg[s] = fz_real_seg(s == SEG_SS ? 0x1000 : (uint16_t)fz_value(f), false);
        for (int s = 0; s < SEG_COUNT; s++)
            cpu->seg[s].ar |= 3u << AR_DPL_SHIFT;
        cpu->regs[R_ESP] = 0xf000 - fz_below(f, 0x100);
        cpu->eflags |= FL_VM | (fz_below(f, 4) << FL_IOPL_SHIFT);
        if (fz_chance(f, 50))
            cpu->cr4 |= CR4_VME | (fz_chance(f, 50) ? CR4_PVI : 0);
        cpu->cpl = 3;
        cpu->eip = start;
        break;
    case FZ_PAGING: /* at CPL 0 or 3 */
    case FZ_PM32_CPL0:
    case FZ_PM32_CPL3: {
        bool user = mode == FZ_PM32_CPL3 || (mode == FZ_PAGING && fz_chance(f, 50));
        cpu->seg[SEG_CS] = fz_seg(f, user ? SEL_CODE3 : SEL_CODE0);
        for (int s = 0; s < SEG_COUNT; s++)
            if (s != SEG_CS)
                cpu->seg[s] = fz_seg(f, user ? SEL_DATA3 : SEL_DATA0);
        cpu->cpl = user ? 3 : 0;
        cpu->code32 = cpu->stack32 = 1;
        if (user)
            cpu->eflags |= fz_below(f, 4) << FL_IOPL_SHIFT;
        cpu->eip = FZ_CODE + start;
        if (mode == FZ_PAGING)
            cpu->cr0 |= CR0_PG | (fz_chance(f, 50) ? CR0_WP : 0);
        break;
    }
    default:
        break;
    }
    cpu->code32 = (cpu->seg[SEG_CS].ar & AR_DB) && !(cpu->eflags & FL_VM);
    cpu->stack32 = (cpu->seg[SEG_SS].ar & AR_DB) && !(cpu->eflags & FL_VM);
    cpu_tlb_flush(cpu);
}

/* ------------------------------------------------------------------ */
/* Sanity of the state left behind                                     */
/* ------------------------------------------------------------------ */

/* A cache as real mode loads it (base = selector * 16, 64 KiB). */
static bool fz_real_style(const struct seg *s)
{
    return s->base == (uint32_t)s->sel << 4 && s->limit == 0xffff;
}

/* Returns what is wrong with the CPU's state, or NULL. */
static const char *fz_insane(struct cpu *cpu)
{
    static char why[160];
    uint32_t fl = cpu_get_eflags(cpu);
    const struct seg *cs = &cpu->seg[SEG_CS], *ss = &cpu->seg[SEG_SS];
    bool pe = cpu->cr0 & CR0_PE, vm = fl & FL_VM;

    if (cpu->exc_vector != -1 || cpu->exc_delivering != -1)
        return "an exception is left pending or half delivered";
    if (cpu->fault_jmp)
        return "fault_jmp still points into cpu_exec";
    if (!(fl & FL_FIXED1) || (fl & 0xffc08028u))
        return "reserved EFLAGS bits";
    if ((cpu->cr0 & CR0_PG) && !pe)
        return "CR0.PG without CR0.PE";
    if (!(cpu->cr0 & CR0_ET))
        return "CR0.ET clear";
    if (cpu->cr4 & ~0x7ffu)
        return "reserved CR4 bits";
    if (cpu->fpu.top > 7)
        return "x87 TOP out of range";
    if (!pe) {
        if (cpu->cpl != 0 || vm)
            return "real mode with CPL != 0 or VM";
    } else if (vm) {
        if (cpu->cpl != 3 || cpu->code32 || cpu->stack32)
            return "v86 mode with CPL != 3 or 32-bit code/stack";
        for (int s = 0; s < SEG_COUNT; s++)
            if (cpu->seg[s].base != (uint32_t)cpu->seg[s].sel << 4 ||
                cpu->seg[s].limit != 0xffff) {
                snprintf(why, sizeof(why), "v86 segment %d: sel %04x base %08x limit %x", s,
                         cpu->seg[s].sel, cpu->seg[s].base, cpu->seg[s].limit);
                return why;
            }
    } else if (fz_real_style(cs)) {
        /* Just after MOV CR0 set PE: the caches still hold what real mode
         * loaded until a far jump and segment loads replace them. */
    } else {
        if (cpu->cpl != (cs->sel & 3)) {
            snprintf(why, sizeof(why), "CPL %u but CS %04x", cpu->cpl, cs->sel);
            return why;
        }
        if (!(cs->ar & AR_S) || !(cs->ar & AR_T_CODE) || !(cs->ar & AR_P)) {
            snprintf(why, sizeof(why), "CS %04x ar %06x is not a present code segment", cs->sel,
                     cs->ar);
            return why;
        }
        if (cpu->code32 != !!(cs->ar & AR_DB))
            return "code32 disagrees with CS.D";
        if (!fz_real_style(ss) && ((ss->sel & 3) != cpu->cpl || AR_DPL(ss->ar) != cpu->cpl || !(ss->ar & AR_S) ||
            (ss->ar & AR_T_CODE) || !(ss->ar & AR_T_WRITABLE) || !(ss->ar & AR_P))) {
            snprintf(why, sizeof(why), "SS %04x ar %06x at CPL %u", ss->sel, ss->ar, cpu->cpl);
            return why;
        }
        if (!fz_real_style(ss) && cpu->stack32 != !!(ss->ar & AR_DB))
            return "stack32 disagrees with SS.B";
    }
    /* The next instruction starts within the limit, or just past the end
     * of one that ended at it (its fetch will fault). */
    if (cpu->eip != 0 && cpu->eip - 1 > cs->limit) {
        snprintf(why, sizeof(why), "EIP %08x past CS limit %08x", cpu->eip, cs->limit);
        return why;
    }
    if (!cpu->code32 && cpu->eip > 0xffff)
        return "EIP above 0xFFFF in 16-bit code";
    if (cpu->halted && (vm || (pe && cpu->cpl != 0)))
        return "halted outside ring 0";
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Driver                                                              */
/* ------------------------------------------------------------------ */

static struct cpu *volatile fz_alarm_cpu;

static void fz_on_alarm(int sig)
{
    (void)sig;
    if (fz_alarm_cpu)
        fz_alarm_cpu->exit_request = 1;
}

static void fz_arm(struct cpu *cpu, long usec)
{
    struct itimerval t = { { 0, 0 }, { usec / 1000000, usec % 1000000 } };
    fz_alarm_cpu = cpu;
    setitimer(ITIMER_REAL, &t, NULL);
}

/* Before each instruction of the careful pass: notes what it may leave
 * undefined (fuzz_undef.h); with GLASS_FUZZ_LOG=4, -d exec without
 * Capstone (the bytes of each instruction). */
static void fz_trace(void *opaque, struct cpu *cpu, const uint8_t *bytes, unsigned len)
{
    struct fz *f = opaque;
    if (cpu->no_block_cache) {
        struct insn in;
        if (decode_insn(&in, bytes, len, cpu->code32) > 0)
            f->undef |= fuzz_undef_effect(&in, cpu);
    }
    if (!f->log_exec || !cpu->log)
        return;
    fprintf(cpu->log, "exec %04x:%08x", cpu->seg[SEG_CS].sel, cpu->eip);
    for (unsigned i = 0; i < len; i++)
        fprintf(cpu->log, " %02x", bytes[i]);
    fprintf(cpu->log, "\n");
}

static uint64_t fz_env(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static void fz_machine_new(struct fz *f, struct fz_machine *m)
{
    m->ram = aligned_alloc(4096, FZ_RAM_SIZE);
    m->pm = phys_new();
    m->io = io_new();
    cr_assert(m->ram && m->pm && m->io);
    cr_assert_eq(phys_map_ram(m->pm, 0, FZ_RAM_SIZE, m->ram), 0);
    struct cpu_bus bus = { .mem = m->pm, .io = m->io };
    m->cpu = cpu_new(&bus);
    cr_assert_not_null(m->cpu);
    m->cpu->log = NULL;
    m->cpu->trace_insn = fz_trace;
    m->cpu->trace_opaque = f;
    m->cpu->jit_code_size = 1u << 20;
    if (getenv("GLASS_FUZZ_LOG")) { /* -d int,cpu for one case */
        m->cpu->log = stderr;
        m->cpu->log_mask = LOG_INT | (unsigned)strtoul(getenv("GLASS_FUZZ_LOG"), NULL, 0);
        f->log_exec = m->cpu->log_mask & LOG_EXEC;
    }
}

static void fz_machine_free(struct fz_machine *m)
{
    if (!m->cpu)
        return;
    cpu_exec_release(m->cpu);
    cpu_free(m->cpu);
    io_free(m->io);
    phys_free(m->pm);
    free(m->ram);
}

/* Makes the other machine the current one (f->ram, pm, io, cpu). */
static void fz_swap_machine(struct fz *f)
{
    struct fz_machine cur = { f->ram, f->pm, f->io, f->cpu };
    f->ram = f->other.ram, f->pm = f->other.pm, f->io = f->other.io, f->cpu = f->other.cpu;
    f->other = cur;
}

static struct fz *fz_new(void)
{
    struct fz *f = calloc(1, sizeof(*f));
    cr_assert_not_null(f);
    f->image = malloc(FZ_RAM_SIZE);
    f->after = malloc(FZ_RAM_SIZE);
    cr_assert(f->image && f->after);
    struct fz_machine m;
    fz_machine_new(f, &m);
    f->ram = m.ram, f->pm = m.pm, f->io = m.io, f->cpu = m.cpu;
    f->jit = cpu_exec_jit_available() && fz_env("GLASS_FUZZ_JIT", 1) != 0;
    if (f->jit)
        fz_machine_new(f, &f->other);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fz_on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    return f;
}

static void fz_free(struct fz *f)
{
    fz_arm(f->cpu, 0);
    fz_alarm_cpu = NULL;
    struct fz_machine m = { f->ram, f->pm, f->io, f->cpu };
    fz_machine_free(&m);
    fz_machine_free(&f->other);
    free(f->image);
    free(f->after);
    free(f);
}

/* What one run ended with: how, and the architectural state (registers,
 * segment caches, system registers, x87) as words, for comparing the
 * engines with the careful path and naming what differs.
 *
 * Not the instruction count: a REP string instruction is re-executed in
 * chunks whose size depends on whether its pages take the TLB's fast
 * path, and a page holding cached blocks does not (writes to it are
 * checked for self-modifying code), so the engines may count the same
 * instruction a different number of times. */
enum { FZ_W_REGS = 0, FZ_W_EIP = 8, FZ_W_EFLAGS, FZ_W_SEGS, FZ_W_SYS = FZ_W_SEGS + 4 * SEG_COUNT,
       FZ_W_FPU = FZ_W_SYS + 14, FZ_W_COUNT = FZ_W_FPU + 8 * 3 + 4 };
struct fz_outcome {
    enum cpu_exit why;
    uint32_t w[FZ_W_COUNT];
};

static void fz_snapshot(struct cpu *cpu, struct fz_outcome *out)
{
    uint32_t *w = out->w;
    memcpy(w + FZ_W_REGS, cpu->regs, sizeof(cpu->regs));
    w[FZ_W_EIP] = cpu->eip;
    w[FZ_W_EFLAGS] = cpu_get_eflags(cpu);
    for (int s = 0; s < SEG_COUNT; s++) {
        const struct seg *g = &cpu->seg[s];
        uint32_t *v = w + FZ_W_SEGS + 4 * s;
        v[0] = g->sel, v[1] = g->base, v[2] = g->limit, v[3] = g->ar;
    }
    uint32_t sys[14] = { cpu->cr0, cpu->cr2, cpu->cr3, cpu->cr4, cpu->gdtr.base, cpu->gdtr.limit,
                         cpu->idtr.base, cpu->idtr.limit, cpu->ldtr.sel, cpu->ldtr.base,
                         cpu->tr.sel, cpu->tr.base, cpu->cpl, cpu->halted };
    memcpy(w + FZ_W_SYS, sys, sizeof(sys));
    for (int i = 0; i < 8; i++) {
        w[FZ_W_FPU + 3 * i] = (uint32_t)cpu->fpu.st[i].sig;
        w[FZ_W_FPU + 3 * i + 1] = (uint32_t)(cpu->fpu.st[i].sig >> 32);
        w[FZ_W_FPU + 3 * i + 2] = cpu->fpu.st[i].sign_exp;
    }
    uint32_t *fw = w + FZ_W_FPU + 24;
    fw[0] = cpu->fpu.cw, fw[1] = cpu->fpu.sw, fw[2] = cpu->fpu.tag_empty, fw[3] = cpu->fpu.top;
}

/* "EAX 1 vs 2, EFLAGS ..." for the words that differ (up to a few). */
static void fz_describe_diff(const struct fz_outcome *a, const struct fz_outcome *b, char *buf,
                             size_t size)
{
    static const char *const regs[8] = { "EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI" };
    static const char *const segs[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    static const char *const seg_field[4] = { "sel", "base", "limit", "ar" };
    static const char *const sys[14] = { "CR0", "CR2", "CR3", "CR4", "GDTR.base", "GDTR.limit",
                                         "IDTR.base", "IDTR.limit", "LDTR", "LDTR.base", "TR",
                                         "TR.base", "CPL", "halted" };
    size_t n = 0;
    buf[0] = 0;
    unsigned shown = 0;
    for (unsigned i = 0; i < FZ_W_COUNT && shown < 6; i++) {
        if (a->w[i] == b->w[i])
            continue;
        char name[24];
        if (i < FZ_W_EIP)
            snprintf(name, sizeof(name), "%s", regs[i]);
        else if (i == FZ_W_EIP)
            snprintf(name, sizeof(name), "EIP");
        else if (i == FZ_W_EFLAGS)
            snprintf(name, sizeof(name), "EFLAGS");
        else if (i < FZ_W_SYS)
            snprintf(name, sizeof(name), "%s.%s", segs[(i - FZ_W_SEGS) / 4],
                     seg_field[(i - FZ_W_SEGS) % 4]);
        else if (i < FZ_W_FPU)
            snprintf(name, sizeof(name), "%s", sys[i - FZ_W_SYS]);
        else
            snprintf(name, sizeof(name), "x87 word %u", i - FZ_W_FPU);
        int k = snprintf(buf + n, size - n, "%s%s %x vs %x", shown ? ", " : "", name, a->w[i],
                         b->w[i]);
        if (k < 0 || (size_t)k >= size - n)
            break;
        n += (size_t)k;
        shown++;
    }
}

/* The passes of a case: the reference, then the engines compared with it. */
enum fz_pass { FZ_CAREFUL, FZ_BLOCKS, FZ_JIT, FZ_PASSES };
static const char *const fz_pass_name[FZ_PASSES] = { "careful path", "block cache", "JIT" };

/* One run from a chunk start to a halt (usually an exception stub),
 * the budget, a triple fault or the timer. */
static const char *fz_run(struct fz *f, enum fz_mode mode, uint32_t start, enum fz_pass pass,
                          struct fz_outcome *out)
{
    fz_start(f, mode, start);
    struct cpu *cpu = f->cpu;
    cpu->no_block_cache = pass == FZ_CAREFUL;
    cpu->engine = pass == FZ_JIT ? CPU_ENGINE_JIT : CPU_ENGINE_INTERP;
    /* The careful pass shows fz_trace every instruction; the others only
     * when the log asks (-d exec keeps the block cache out of the way
     * and makes the JIT's blocks log themselves). */
    if (pass == FZ_CAREFUL || f->log_exec)
        cpu->log_mask |= LOG_EXEC;
    else
        cpu->log_mask &= ~LOG_EXEC;
    f->runs++;
    /* A guest may loop on a fault whose delivery faults again without
     * ever retiring an instruction; the timer stands in for the board's
     * exit_request so that such a case ends (and is counted). */
    const uint64_t icount0 = f->cpu->icount;
    fz_arm(f->cpu, 300000);
    enum cpu_exit why = cpu_exec(f->cpu, FZ_BUDGET);
    fz_arm(f->cpu, 0);
    if (pass == FZ_JIT)
        f->jit_insns += cpu->icount - icount0;
    out->why = why;
    fz_snapshot(f->cpu, out);
    if (f->cpu->log) {
        struct cpu *c = f->cpu;
        fprintf(c->log, "fuzz: end %d after %llu: %04x:%08x fl %08x cpl %u cr0 %08x\n",
                (int)why, (unsigned long long)(c->icount - icount0), c->seg[SEG_CS].sel, c->eip,
                cpu_get_eflags(c), c->cpl, c->cr0);
        cpu_dump_state(c, c->log);
    }
    switch (why) {
    case CPU_EXIT_SHUTDOWN:
        f->shutdowns++;
        return NULL; /* a triple fault: any state is possible */
    case CPU_EXIT_REQUEST:
        f->livelocks++;
        cr_log_info("fuzz %s: case with seed %llu never returned from cpu_exec (%s, run from %x)",
                    fz_mode_name[mode], (unsigned long long)f->case_seed, fz_pass_name[pass],
                    start);
        break;
    case CPU_EXIT_HALT:
        f->halts++;
        break;
    default:
        f->budgets++;
        break;
    }
    return fz_insane(f->cpu);
}

#define FZ_RUNS_PER_CASE 12

/* Whether the run changed the page directory or table other than by
 * setting accessed and dirty bits. */
static bool fz_paging_written(struct fz *f)
{
    for (unsigned i = 0; i < 2048; i++) {
        uint32_t now;
        memcpy(&now, f->ram + FZ_PD + 4 * i, 4);
        if ((now ^ f->paging_before[i]) & ~0x60u)
            return true;
    }
    return false;
}

/* Whether a run ended where both engines must end identically (not on
 * the budget, which a block may overrun, nor on the timer). */
static bool fz_exact_end(enum cpu_exit why)
{
    return why == CPU_EXIT_HALT || why == CPU_EXIT_SHUTDOWN;
}

/*
 * Runs one case: fresh tables and code, then runs from several chunk
 * starts (memory as the previous run left it). Once per engine: one
 * instruction at a time (no_block_cache), then through the block cache,
 * then under the JIT, from the same memory and the same random choices;
 * as long as every run so far ended exactly (halt or triple fault), each
 * engine must agree with the careful path on the state after each run
 * and on the memory at the end. Returns what went wrong or NULL.
 */
static const char *fz_case(struct fz *f, enum fz_mode mode, uint64_t seed)
{
    static char why[400];
    struct fz_outcome out[FZ_PASSES][FZ_RUNS_PER_CASE];
    bool unsure[FZ_RUNS_PER_CASE];
    uint32_t undef[FZ_RUNS_PER_CASE];
    bool exact[FZ_PASSES] = { true, true, true };
    f->rng = f->case_seed = seed;
    fz_build_tables(f);
    fz_gen_code(f, mode == FZ_PM32_CPL0 || mode == FZ_PM32_CPL3 || mode == FZ_PAGING);
    const uint64_t rng_built = f->rng;
    const unsigned passes = f->jit ? FZ_PASSES : FZ_JIT;
    for (unsigned pass = 0; pass < passes; pass++) {
        if (pass == FZ_JIT)
            fz_swap_machine(f);
        /* Through the bus, as DMA would write: the block cache drops what
         * it decoded from the previous case's (or pass's) code. */
        phys_write_buf(f->pm, 0, f->image, FZ_RAM_SIZE);
        f->rng = rng_built;
        for (unsigned run = 0; run < FZ_RUNS_PER_CASE; run++) {
            uint32_t start = run == 0 ? 0 : f->chunk[fz_below(f, f->nchunks)];
            /* The descriptor tables, TSSs, page tables and stubs as built
             * (the last run may have written anywhere); code and data keep
             * what the guest wrote. */
            if (run > 0)
                phys_write_buf(f->pm, 0, f->image, FZ_CODE);
            if (f->cpu->log)
                fprintf(f->cpu->log, "fuzz: pass %u (%s) run %u from code offset %04x\n", pass,
                        fz_pass_name[pass], run, start);
            if (pass == FZ_CAREFUL) {
                memcpy(f->code_before, f->ram + FZ_CODE, FZ_CODE_SIZE);
                memcpy(f->paging_before, f->ram + FZ_PD, sizeof(f->paging_before));
                f->undef = 0;
            }
            const char *bad = fz_run(f, mode, start, (enum fz_pass)pass, &out[pass][run]);
            if (bad) {
                if (pass == FZ_JIT)
                    fz_swap_machine(f);
                return bad;
            }
            if (pass == FZ_CAREFUL) {
                unsure[run] = memcmp(f->code_before, f->ram + FZ_CODE, FZ_CODE_SIZE) != 0 ||
                              fz_paging_written(f);
                undef[run] = f->undef;
                continue;
            }
            /* A REP string instruction that overwrites its own bytes is
             * fetched again after each chunk of iterations (as after an
             * interrupt between iterations), and the chunks differ between
             * the engines (see fz_outcome); and after a write to a
             * live page table, either translation may be used until the
             * TLB is flushed (SDM Vol. 3A 4.10.4.3), which depends on what
             * each engine evicted. From such a run on, the two may part;
             * and for the JIT also from a run that left a flag undefined
             * which the interpreter sets otherwise (fuzz_undef.h). */
            bool undef_now = pass == FZ_JIT && undef[run] && fuzz_undef_tolerate();
            if (exact[pass] && undef_now)
                f->undef_runs++;
            exact[pass] = exact[pass] && fz_exact_end(out[0][run].why) &&
                          fz_exact_end(out[pass][run].why) && !unsure[run] && !undef_now;
            if (!exact[pass])
                continue;
            if (pass == FZ_JIT)
                f->compared_jit++;
            else
                f->compared++;
            if (memcmp(out[0][run].w, out[pass][run].w, sizeof(out[0][run].w)) != 0) {
                char diff[200];
                fz_describe_diff(&out[0][run], &out[pass][run], diff, sizeof(diff));
                snprintf(why, sizeof(why), "the %s and the careful path disagree after run "
                         "%u (careful vs %s: %s; GLASS_FUZZ_LOG=2 shows both)",
                         fz_pass_name[pass], run, fz_pass_name[pass], diff);
                if (pass == FZ_JIT)
                    fz_swap_machine(f);
                return why;
            }
        }
        if (pass == FZ_CAREFUL) {
            memcpy(f->after, f->ram, FZ_RAM_SIZE);
        } else if (exact[pass] && memcmp(f->after, f->ram, FZ_RAM_SIZE) != 0) {
            uint32_t a = 0;
            while (f->after[a] == f->ram[a])
                a++;
            snprintf(why, sizeof(why), "the %s and the careful path leave different "
                     "memory (first at %#x)", fz_pass_name[pass], a);
            if (pass == FZ_JIT)
                fz_swap_machine(f);
            return why;
        }
        if (pass == FZ_JIT)
            fz_swap_machine(f);
    }
    return NULL;
}

static void fz_run_mode(enum fz_mode mode)
{
    uint64_t base = fz_env("GLASS_FUZZ_SEED", 20261130);
    unsigned cases = (unsigned)fz_env("GLASS_FUZZ_CASES", 250);
    uint64_t one = fz_env("GLASS_FUZZ_ONE", 0);
    struct fz *f = fz_new();
    cr_log_info("fuzz %s: seed %llu, %u cases", fz_mode_name[mode], (unsigned long long)base,
                cases);
    for (unsigned i = 0; i < (one ? 1u : cases); i++) {
        uint64_t seed = one ? one : fz_mix(base * 0x100000001b3ull + mode * 1000003u + i);
        const char *bad = fz_case(f, mode, seed);
        if (bad) {
            cr_assert_fail("fuzz %s case %u (GLASS_FUZZ_ONE=%llu): %s; CS %04x:%08x CPL %u "
                           "CR0 %08x EFLAGS %08x",
                           fz_mode_name[mode], i, (unsigned long long)seed, bad,
                           f->cpu->seg[SEG_CS].sel, f->cpu->eip, f->cpu->cpl, f->cpu->cr0,
                           cpu_get_eflags(f->cpu));
        }
    }
    cr_log_info("fuzz %s: %u runs: %u compared for the block cache, %u for the JIT (%llu "
                "instructions; %u runs left out for undefined flags), %u halts, %u budget ends, "
                "%u triple faults, %u livelocks",
                fz_mode_name[mode], f->runs, f->compared, f->compared_jit,
                (unsigned long long)f->jit_insns, f->undef_runs, f->halts, f->budgets,
                f->shutdowns, f->livelocks);
    /* A livelock is a guest that faults forever without retiring an
     * instruction (e.g. real mode after LIDT of garbage: #GP's vector
     * points at FFFF:FFFF, whose fetch raises #GP again). Hardware loops
     * the same way, so it is not a CPU bug; but interp_run should still
     * return when its budget is spent (it counts retired instructions
     * only), or the board never regains control. Reported, not failed,
     * until translate/interp.c counts deliveries too (an info line: a
     * warning would make Criterion's exit status 1 with every test
     * passing). */
    if (f->livelocks)
        cr_log_info("fuzz %s: %u runs only ended on the timer", fz_mode_name[mode],
                    f->livelocks);
    fuzz_total_add(f->jit_insns);
    fz_free(f);
}

Test(fuzz_cpu, real_mode, .timeout = 120) { fz_run_mode(FZ_REAL); }
Test(fuzz_cpu, pm16, .timeout = 120) { fz_run_mode(FZ_PM16); }
Test(fuzz_cpu, pm32_cpl0, .timeout = 120) { fz_run_mode(FZ_PM32_CPL0); }
Test(fuzz_cpu, pm32_cpl3, .timeout = 120) { fz_run_mode(FZ_PM32_CPL3); }
Test(fuzz_cpu, v86, .timeout = 120) { fz_run_mode(FZ_V86); }
Test(fuzz_cpu, paging, .timeout = 120) { fz_run_mode(FZ_PAGING); }

/* ------------------------------------------------------------------ */
/* Regressions found by the fuzzer                                     */
/* ------------------------------------------------------------------ */

/* 16-bit code entered above IP 0xFFFF (a 32-bit far JMP may do that when
 * the limit allows): the next instruction is at (EIP + length) AND FFFFh,
 * not at the following byte. Runs INC AX at 1000:0000 of a 16-bit,
 * 1 MiB segment based at 0, which must continue with the HLT at 0:0001
 * rather than the INC BX at 0:10001. Every engine. Found by fuzz_cpu
 * (pm32-cpl3, seed 4): the block cache built the block from the bytes
 * after the instruction in the page (translate/tb.c code_room() assumes
 * EIP <= FFFFh in 16-bit code); tb_run_block now leaves such EIPs to the
 * careful path. */
Test(fuzz_cpu, sixteen_bit_ip_wraps_from_above_ffff)
{
    struct fz *f = fz_new();
    static const uint8_t code[] = { 0x40, 0x43, 0xf4 }; /* INC AX; INC BX; HLT */
    const uint8_t hlt = 0xf4;
    for (int pass = 0; pass < (cpu_exec_jit_available() ? 3 : 2); pass++) {
        const int careful = pass == 0;
        phys_write_buf(f->pm, 0x10000, code, sizeof(code));
        phys_write_buf(f->pm, 0x00001, &hlt, 1);
        struct cpu *cpu = f->cpu;
        cpu_reset(cpu);
        cpu->cr0 = CR0_PE | CR0_ET;
        cpu->seg[SEG_CS] = (struct seg){ 0x08, 0, 0xfffff,
                                         AR_P | AR_S | AR_T_CODE | AR_T_READABLE | AR_T_ACCESSED };
        for (int s = 0; s < SEG_COUNT; s++)
            if (s != SEG_CS)
                cpu->seg[s] = (struct seg){ 0x10, 0, 0xfffff,
                                            AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED };
        cpu->code32 = cpu->stack32 = 0;
        cpu->eip = 0x10000;
        cpu->regs[R_EAX] = cpu->regs[R_EBX] = 0;
        cpu->no_block_cache = (uint8_t)careful;
        cpu->engine = pass == 2 ? CPU_ENGINE_JIT : CPU_ENGINE_INTERP;
        cr_assert_eq(cpu_exec(cpu, 10), CPU_EXIT_HALT);
        cr_expect_eq(cpu->regs[R_EAX], 1, "%s", fz_pass_name[pass]);
        cr_expect_eq(cpu->regs[R_EBX], 0, "%s: ran the byte after the wrap", fz_pass_name[pass]);
        cr_expect_eq(cpu->eip, 2, "%s", fz_pass_name[pass]);
    }
    fz_free(f);
}
