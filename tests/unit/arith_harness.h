/*
 * arith_harness.h — shared by the unit tests of cpu/'s arithmetic files
 * (test_flags.c, test_alu.c, test_shift.c, test_muldiv.c, test_bcd.c,
 * test_bitops.c): a bare CPU, hand-built instructions and a way to run
 * one handler and catch the exception it raises. Everything is static:
 * the test files are linked together.
 */
#ifndef GLASS_TESTS_ARITH_HARNESS_H
#define GLASS_TESTS_ARITH_HARNESS_H

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/internal.h"
#include "tests/unit/handler_harness.h"

/* Criterion runs each test in a process of its own, and the CPUs a test
 * builds (with the address space and RAM its helpers hang on them) live
 * until that process exits: th_cpu keeps the last few reachable here so
 * that LeakSanitizer (configure --enable-sanitizers) does not report
 * them as leaks at exit. */
static struct cpu *volatile th_live_cpus[16] __attribute__((unused));
static unsigned th_nlive __attribute__((unused));

/* A CPU with no bus: enough for register and immediate operands. */
static inline struct cpu *th_cpu(void)
{
    struct cpu *cpu = calloc(1, sizeof(*cpu));
    th_live_cpus[th_nlive++ % 16] = cpu;
    cpu->eflags = FL_FIXED1;
    cpu->cc.op = CC_EAGER;
    cpu->exc_vector = -1;
    return cpu;
}

static inline struct operand th_reg(unsigned r, unsigned width)
{
    return (struct operand){ .kind = OPND_REG, .width = (uint8_t)width, .reg = (uint8_t)r };
}

static inline struct operand th_imm(unsigned width)
{
    return (struct operand){ .kind = OPND_IMM, .width = (uint8_t)width };
}

static inline struct operand th_one(void)
{
    return (struct operand){ .kind = OPND_ONE, .width = 1 };
}

static inline struct operand th_mem(unsigned width)
{
    return (struct operand){ .kind = OPND_MEM, .width = (uint8_t)width };
}

static inline struct operand th_none(void)
{
    return (struct operand){ .kind = OPND_NONE };
}

/* An instruction in 32-bit code with DS-relative addressing. */
static inline struct insn th_insn(enum op op, struct operand dst, struct operand src)
{
    struct insn in;
    memset(&in, 0, sizeof(in));
    in.op = (uint16_t)op;
    in.opsize = 4;
    in.adsize = 4;
    in.seg = SEG_DS;
    in.seg_override = SEG_NONE;
    in.ea_base = EA_NO_REG;
    in.ea_index = EA_NO_REG;
    in.dst = dst;
    in.src = src;
    return in;
}

/* The handler of `op` from the arithmetic families' own tables (not
 * through dispatch.c, so that these tests need no other family). */
static inline insn_fn th_handler(enum op op)
{
    static const struct op_handler *const tables[] = {
        alu_handlers, shift_handlers, muldiv_handlers, bcd_handlers, bit_handlers,
    };
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        insn_fn fn = hh_find(tables[t], op);
        if (fn)
            return fn;
    }
    return NULL;
}

/* Runs one instruction; returns the vector it raised, or -1. */
static inline int th_exec(struct cpu *cpu, const struct insn *in)
{
    return hh_run(cpu, th_handler((enum op)in->op), in);
}

/* Sets the six arithmetic flags eagerly. */
static inline void th_set_flags(struct cpu *cpu, uint32_t bits)
{
    cpu->cc.op = CC_EAGER;
    cpu->eflags = (cpu->eflags & ~FL_ARITH) | (bits & FL_ARITH) | FL_FIXED1;
}

/* SF, ZF and PF of a result of `width` bytes, from their definitions. */
static inline uint32_t th_szp(uint32_t r, unsigned width)
{
    r &= width_mask(width);
    return (r == 0 ? FL_ZF : 0) | ((r >> (width * 8 - 1)) ? FL_SF : 0) |
           ((__builtin_popcount(r & 0xff) & 1) ? 0 : FL_PF);
}

#if defined(__x86_64__)
/* cpu/host_flags.c loads the guest's flags with SAHF where the host has
 * it in 64-bit mode, else with POPFQ: the host-comparison tests call this
 * each turn so that both ways run (every 16 turns the other one). */
static inline void th_host_flags_alternate(int i)
{
    static int have_sahf = -1;
    if (have_sahf < 0)
        have_sahf = host_flags_sahf;
    host_flags_sahf = have_sahf && ((i >> 4) & 1);
}
#endif

/*
 * Host-CPU comparisons (x86-64 only): inline asm that loads EFLAGS from
 * the operand named [fl], runs one instruction, and stores EFLAGS back.
 * RSP is stepped over the red zone first, which a leaf function may be
 * using, so operands must be registers, never memory.
 */
#define TH_ASM_LOAD_FLAGS "lea -128(%%rsp), %%rsp\n\tpushq %[fl]\n\tpopfq\n\t"
#define TH_ASM_SAVE_FLAGS "\n\tpushfq\n\tpopq %[fl]\n\tlea 128(%%rsp), %%rsp"

/* A small deterministic generator (xorshift64*) for the random cases. */
static inline uint32_t th_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)((*s * 0x2545f4914f6cdd1dull) >> 32);
}

/* A random value biased toward the edges where flags change: 0, the
 * sign boundary, all ones, small values. */
static inline uint32_t th_rand_edge(uint64_t *s, unsigned width)
{
    uint32_t m = width_mask(width), sign = 1u << (width * 8 - 1);
    switch (th_rand(s) % 8) {
    case 0: return 0;
    case 1: return sign;
    case 2: return (sign - 1) & m;
    case 3: return m;
    case 4: return th_rand(s) & 0x1f;
    default: return th_rand(s) & m;
    }
}

#endif
