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
 * AF, PF are undefined, and DIV/IDIV leave all six undefined (SDM Vol. 2
 * MUL, IMUL, DIV, IDIV "Flags Affected"). On an x86-64 host the undefined
 * ones are the host CPU's (cpu/host_flags.c), as they are under the JIT,
 * which multiplies with the host's own instructions: the two engines
 * agree bit for bit whatever the host's vendor. DIV/IDIV ask the host
 * only once the #DE checks passed, so the host's divide cannot fault.
 * Elsewhere Glass leaves the undefined flags unchanged.
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

/* CF = OF = `overflow`; SF ZF AF PF from the host's `op` of a and b
 * (x86-64) or unchanged. */
static void set_mul_flags(struct cpu *cpu, bool overflow, enum op op, unsigned w, uint32_t a,
                          uint32_t b)
{
    uint32_t old = flags_arith(cpu);
    uint32_t f = (old & ~(FL_CF | FL_OF)) | (overflow ? FL_CF | FL_OF : 0);
#if GLASS_HOST_FLAGS
    f = flags_merge(f, host_flags_mul(op, w, a, b, old), FL_SF | FL_ZF | FL_AF | FL_PF);
#else
    (void)op, (void)w, (void)a, (void)b;
#endif
    flags_set_arith(cpu, f);
}

/* All six flags from the host's DIV/IDIV (x86-64), else unchanged. Only
 * after the #DE checks. */
static void set_div_flags(struct cpu *cpu, enum op op, unsigned w, uint64_t n, uint32_t d)
{
#if GLASS_HOST_FLAGS
    flags_set_arith(cpu, host_flags_div(op, w, n, d, flags_arith(cpu)));
#else
    (void)cpu, (void)op, (void)w, (void)n, (void)d;
#endif
}

static void op_mul(struct cpu *cpu, const struct insn *in)
{
    const struct operand *o = rm_operand(in);
    unsigned w = o->width, bits = w * 8;
    uint32_t a = reg_read(cpu, R_EAX, w), b = opnd_read(cpu, in, o);
    uint64_t p = (uint64_t)a * b;
    uint32_t hi = (uint32_t)(p >> bits);
    write_acc_pair(cpu, w, (uint32_t)p, hi);
    set_mul_flags(cpu, hi != 0, OP_MUL, w, a, b);
}

static void op_imul1(struct cpu *cpu, const struct insn *in)
{
    const struct operand *o = rm_operand(in);
    unsigned w = o->width, bits = w * 8;
    uint32_t a = reg_read(cpu, R_EAX, w), b = opnd_read(cpu, in, o);
    int64_t p = sext(a, w) * sext(b, w);
    uint32_t lo = (uint32_t)p, hi = (uint32_t)((uint64_t)p >> bits);
    write_acc_pair(cpu, w, lo, hi);
    /* CF = OF = 1 unless the product equals its sign-extended low half. */
    set_mul_flags(cpu, p != sext(lo, w), OP_IMUL1, w, a, b);
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
    set_mul_flags(cpu, p != sext(lo, w), OP_IMUL2, w, (uint32_t)a, (uint32_t)b);
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
    set_div_flags(cpu, OP_DIV, w, n, (uint32_t)d);
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
    set_div_flags(cpu, OP_IDIV, w, raw, (uint32_t)d);
}

const struct op_handler muldiv_handlers[] = {
    { OP_MUL, op_mul },   { OP_IMUL1, op_imul1 }, { OP_IMUL2, op_imul2 },
    { OP_DIV, op_div },   { OP_IDIV, op_idiv },   { OP_INVALID, NULL },
};
