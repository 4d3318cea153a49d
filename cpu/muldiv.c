/*
 * cpu/muldiv.c — MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV.
 *
 * One-operand forms use the accumulator implicitly (SDM Vol. 2 MUL/IMUL/
 * DIV/IDIV, Table 3-66 / 3-67 / 3-25 / 3-59):
 *   width 1: AX <- AL * src,         AL <- AX / src,      AH <- remainder
 *   width 2: DX:AX <- AX * src,      AX <- DX:AX / src,   DX <- remainder
 *   width 4: EDX:EAX <- EAX * src,   EAX <- EDX:EAX / src, EDX <- remainder
 *
 * Flags: MUL/IMUL set CF = OF when the upper half is significant; SF, ZF,
 * AF, PF are undefined and DIV/IDIV leave all six undefined. Glass leaves
 * undefined flags unchanged (their P6 values are not known to us); the
 * JIT must do the same to match.
 */
#include "cpu/internal.h"

static inline int64_t sext(uint32_t v, unsigned width)
{
    unsigned sh = 32 - width * 8;
    return (int32_t)(v << sh) >> sh;
}

/* Writes a double-width product / the quotient-remainder pair: width 1
 * uses AL and AH (= AX), wider ones the A and D registers. */
static void write_acc_pair(struct cpu *cpu, unsigned w, uint32_t lo, uint32_t hi)
{
    if (w == 1) {
        reg_write(cpu, R_EAX, 2, (lo & 0xff) | ((hi & 0xff) << 8));
    } else {
        reg_write(cpu, R_EAX, w, lo);
        reg_write(cpu, R_EDX, w, hi);
    }
}

/* The double-width dividend: AX, DX:AX or EDX:EAX. */
static uint64_t read_acc_pair(const struct cpu *cpu, unsigned w)
{
    if (w == 1)
        return reg_read(cpu, R_EAX, 2);
    unsigned bits = w * 8;
    return ((uint64_t)reg_read(cpu, R_EDX, w) << bits) | reg_read(cpu, R_EAX, w);
}

/* The explicit r/m operand of the one-operand forms: the decoder names it
 * as dst (the accumulator being implicit); src is accepted too. */
static inline const struct operand *rm_operand(const struct insn *in)
{
    return in->src.kind != OPND_NONE ? &in->src : &in->dst;
}

static void set_cf_of(struct cpu *cpu, bool overflow)
{
    uint32_t f = flags_arith(cpu) & ~(FL_CF | FL_OF);
    flags_set_arith(cpu, f | (overflow ? FL_CF | FL_OF : 0));
}

static void op_mul(struct cpu *cpu, const struct insn *in)
{
    const struct operand *o = rm_operand(in);
    unsigned w = o->width, bits = w * 8;
    uint64_t p = (uint64_t)reg_read(cpu, R_EAX, w) * opnd_read(cpu, in, o);
    uint32_t hi = (uint32_t)(p >> bits);
    write_acc_pair(cpu, w, (uint32_t)p, hi);
    set_cf_of(cpu, hi != 0);
}

static void op_imul1(struct cpu *cpu, const struct insn *in)
{
    const struct operand *o = rm_operand(in);
    unsigned w = o->width, bits = w * 8;
    int64_t p = sext(reg_read(cpu, R_EAX, w), w) * sext(opnd_read(cpu, in, o), w);
    uint32_t lo = (uint32_t)p, hi = (uint32_t)((uint64_t)p >> bits);
    write_acc_pair(cpu, w, lo, hi);
    /* CF = OF = 1 unless the product equals its sign-extended low half. */
    set_cf_of(cpu, p != sext(lo, w));
}

/* Reads a factor of IMUL2 sign-extended from the operation's width. An
 * immediate comes already sign-extended from imm8 or immN. */
static int64_t imul_factor(struct cpu *cpu, const struct insn *in, const struct operand *o,
                           unsigned w)
{
    if (o->kind == OPND_IMM)
        return sext(in->imm, w);
    return sext(opnd_read(cpu, in, o), w);
}

/* IMUL r, r/m (src2 absent: dst * src) and IMUL r, r/m, imm (src * src2). */
static void op_imul2(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    int64_t a, b;
    if (in->src2.kind == OPND_NONE) {
        a = imul_factor(cpu, in, &in->dst, w);
        b = imul_factor(cpu, in, &in->src, w);
    } else {
        a = imul_factor(cpu, in, &in->src, w);
        b = imul_factor(cpu, in, &in->src2, w);
    }
    int64_t p = a * b;
    uint32_t lo = (uint32_t)p & width_mask(w);
    opnd_write(cpu, in, &in->dst, lo);
    set_cf_of(cpu, p != sext(lo, w));
}

/* #DE on a zero divisor or a quotient too wide for the destination; no
 * register changes then (SDM Vol. 2 DIV/IDIV: "Protected Mode Exceptions"). */
static void op_div(struct cpu *cpu, const struct insn *in)
{
    const struct operand *o = rm_operand(in);
    unsigned w = o->width, bits = w * 8;
    uint64_t d = opnd_read(cpu, in, o);
    if (d == 0)
        cpu_raise(cpu, EXC_DE, 0);
    uint64_t n = read_acc_pair(cpu, w);
    uint64_t q = n / d;
    if (q >> bits)
        cpu_raise(cpu, EXC_DE, 0);
    write_acc_pair(cpu, w, (uint32_t)q, (uint32_t)(n % d));
}

static void op_idiv(struct cpu *cpu, const struct insn *in)
{
    const struct operand *o = rm_operand(in);
    unsigned w = o->width, bits = w * 8;
    int64_t d = sext(opnd_read(cpu, in, o), w);
    if (d == 0)
        cpu_raise(cpu, EXC_DE, 0);
    uint64_t raw = read_acc_pair(cpu, w);
    /* Sign-extend the 2*bits-wide dividend to 64 bits. */
    int64_t n = bits == 32 ? (int64_t)raw
                           : (int64_t)(raw << (64 - 2 * bits)) >> (64 - 2 * bits);
    /* INT64_MIN / -1 overflows in C as it does in the divider: its
     * quotient 2^63 does not fit 32 bits either, so it is #DE. */
    if (d == -1 && n == INT64_MIN)
        cpu_raise(cpu, EXC_DE, 0);
    int64_t q = n / d, r = n % d; /* C99 truncates toward zero, as IDIV does */
    int64_t lim = (int64_t)1 << (bits - 1);
    if (q >= lim || q < -lim)
        cpu_raise(cpu, EXC_DE, 0);
    write_acc_pair(cpu, w, (uint32_t)q, (uint32_t)r);
}

const struct op_handler muldiv_handlers[] = {
    { OP_MUL, op_mul },   { OP_IMUL1, op_imul1 }, { OP_IMUL2, op_imul2 },
    { OP_DIV, op_div },   { OP_IDIV, op_idiv },   { OP_INVALID, NULL },
};
