/*
 * cpu/alu.c — the two-operand ALU group (ADD OR ADC SBB AND SUB XOR CMP),
 * TEST, INC, DEC, NEG, NOT, and the one-byte flag instructions (CLC STC
 * CMC CLD STD LAHF SAHF).
 *
 * Arithmetic results are recorded lazily with cc_set() (cpu/flags.c
 * computes the bits when something reads them). Every handler reads its
 * operands, writes the destination (which may fault) and only then
 * records flags, so a faulting instruction leaves EFLAGS untouched.
 */
#include "cpu/internal.h"

/* Reads the source operand masked to the destination's width: an
 * immediate may be decoded narrower than the operation (sign-extended
 * imm8), which opnd_read would otherwise cut to its own width. */
static inline uint32_t read_src(struct cpu *cpu, const struct insn *in, uint32_t mask)
{
    if (in->src.kind == OPND_IMM)
        return in->imm & mask;
    return opnd_read(cpu, in, &in->src) & mask;
}

static void op_add(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t m = width_mask(w);
    uint32_t a = opnd_read(cpu, in, &in->dst);
    uint32_t b = read_src(cpu, in, m);
    uint32_t r = (a + b) & m;
    opnd_write(cpu, in, &in->dst, r);
    cc_set(cpu, CC_ADD, w, a, b, r, 0);
}

static void op_adc(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t m = width_mask(w);
    uint32_t a = opnd_read(cpu, in, &in->dst);
    uint32_t b = read_src(cpu, in, m);
    uint32_t c = flags_cf(cpu);
    uint32_t r = (a + b + c) & m;
    opnd_write(cpu, in, &in->dst, r);
    cc_set(cpu, CC_ADC, w, a, b, r, c);
}

static void op_sub(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t m = width_mask(w);
    uint32_t a = opnd_read(cpu, in, &in->dst);
    uint32_t b = read_src(cpu, in, m);
    uint32_t r = (a - b) & m;
    opnd_write(cpu, in, &in->dst, r);
    cc_set(cpu, CC_SUB, w, a, b, r, 0);
}

static void op_sbb(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t m = width_mask(w);
    uint32_t a = opnd_read(cpu, in, &in->dst);
    uint32_t b = read_src(cpu, in, m);
    uint32_t c = flags_cf(cpu);
    uint32_t r = (a - b - c) & m;
    opnd_write(cpu, in, &in->dst, r);
    cc_set(cpu, CC_SBB, w, a, b, r, c);
}

static void op_cmp(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t m = width_mask(w);
    uint32_t a = opnd_read(cpu, in, &in->dst);
    uint32_t b = read_src(cpu, in, m);
    cc_set(cpu, CC_SUB, w, a, b, (a - b) & m, 0);
}

/* AND, OR, XOR: CF = OF = 0, SF/ZF/PF from the result, AF undefined
 * (SDM Vol. 2 AND/OR/XOR "Flags Affected"); CC_LOGIC reports AF = 0. */
static void op_and(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t m = width_mask(w);
    uint32_t r = opnd_read(cpu, in, &in->dst) & read_src(cpu, in, m);
    opnd_write(cpu, in, &in->dst, r);
    cc_set(cpu, CC_LOGIC, w, 0, 0, r, 0);
}

static void op_or(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t m = width_mask(w);
    uint32_t r = opnd_read(cpu, in, &in->dst) | read_src(cpu, in, m);
    opnd_write(cpu, in, &in->dst, r);
    cc_set(cpu, CC_LOGIC, w, 0, 0, r, 0);
}

static void op_xor(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t m = width_mask(w);
    uint32_t r = opnd_read(cpu, in, &in->dst) ^ read_src(cpu, in, m);
    opnd_write(cpu, in, &in->dst, r);
    cc_set(cpu, CC_LOGIC, w, 0, 0, r, 0);
}

static void op_test(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t m = width_mask(w);
    uint32_t r = opnd_read(cpu, in, &in->dst) & read_src(cpu, in, m);
    cc_set(cpu, CC_LOGIC, w, 0, 0, r, 0);
}

/* INC/DEC keep CF (SDM Vol. 2 INC/DEC): the old CF rides in aux. */
static void op_inc(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t a = opnd_read(cpu, in, &in->dst);
    uint32_t r = (a + 1) & width_mask(w);
    bool cf = flags_cf(cpu);
    opnd_write(cpu, in, &in->dst, r);
    cc_set(cpu, CC_INC, w, a, 1, r, cf);
}

static void op_dec(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t a = opnd_read(cpu, in, &in->dst);
    uint32_t r = (a - 1) & width_mask(w);
    bool cf = flags_cf(cpu);
    opnd_write(cpu, in, &in->dst, r);
    cc_set(cpu, CC_DEC, w, a, 1, r, cf);
}

/* NEG is 0 - dst: CF = (dst != 0), the rest as for SUB (SDM Vol. 2 NEG). */
static void op_neg(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t a = opnd_read(cpu, in, &in->dst);
    uint32_t r = (0u - a) & width_mask(w);
    opnd_write(cpu, in, &in->dst, r);
    cc_set(cpu, CC_SUB, w, 0, a, r, 0);
}

/* NOT affects no flags. */
static void op_not(struct cpu *cpu, const struct insn *in)
{
    uint32_t a = opnd_read(cpu, in, &in->dst);
    opnd_write(cpu, in, &in->dst, ~a & width_mask(in->dst.width));
}

/* ---------------------------------------------------------------- */
/* Flag instructions                                                 */
/* ---------------------------------------------------------------- */

static void op_clc(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    flags_set_arith(cpu, flags_arith(cpu) & ~FL_CF);
}

static void op_stc(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    flags_set_arith(cpu, flags_arith(cpu) | FL_CF);
}

static void op_cmc(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    flags_set_arith(cpu, flags_arith(cpu) ^ FL_CF);
}

/* DF is never lazy: CLD/STD touch eflags alone. */
static void op_cld(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    cpu->eflags &= ~FL_DF;
}

static void op_std(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    cpu->eflags |= FL_DF;
}

/* The five flags LAHF/SAHF move, in their EFLAGS positions. */
#define FL_LAHF_MASK (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)

/* LAHF: AH = SF:ZF:0:AF:0:PF:1:CF (SDM Vol. 2 LAHF). */
static void op_lahf(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t ah = (flags_arith(cpu) & FL_LAHF_MASK) | FL_FIXED1;
    reg_write(cpu, 4 /* AH */, 1, ah);
}

/* SAHF: SF ZF AF PF CF from AH; OF is kept (SDM Vol. 2 SAHF). */
static void op_sahf(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t ah = reg_read(cpu, 4 /* AH */, 1);
    flags_set_arith(cpu, (flags_arith(cpu) & FL_OF) | (ah & FL_LAHF_MASK));
}

const struct op_handler alu_handlers[] = {
    { OP_ADD, op_add },   { OP_OR, op_or },     { OP_ADC, op_adc },   { OP_SBB, op_sbb },
    { OP_AND, op_and },   { OP_SUB, op_sub },   { OP_XOR, op_xor },   { OP_CMP, op_cmp },
    { OP_TEST, op_test }, { OP_INC, op_inc },   { OP_DEC, op_dec },   { OP_NEG, op_neg },
    { OP_NOT, op_not },   { OP_CLC, op_clc },   { OP_STC, op_stc },   { OP_CMC, op_cmc },
    { OP_CLD, op_cld },   { OP_STD, op_std },   { OP_LAHF, op_lahf }, { OP_SAHF, op_sahf },
    { OP_INVALID, NULL },
};
