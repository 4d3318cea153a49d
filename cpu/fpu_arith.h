/*
 * cpu/fpu_arith.h — the x87 operations that round (FADD FSUB FSUBR FMUL
 * FDIV FDIVR, FSQRT, FRNDINT, FST m32/m64real, FIST m16/m32/m64int) for
 * the handlers of cpu/fpu.c and cpu/fpu_fast.c, and the compare.
 *
 * On x86-64 hosts (FPU_HOST) the host's own x87 computes them
 * (cpu/fpu_host.h): it rounds exactly as the guest's x87 must (the same
 * IEEE 754 format and rules, SDM Vol. 1 chapter 4), and faster than the
 * integer code of cpu/fpu_soft.c (measured on an AMD EPYC host, one
 * operation with its loads and stores: add and multiply ~10 ns against
 * 18-20, divide 16 against 36, square root ~20 against 280). In front of
 * it, a guest at double precision and round to nearest gets the host's
 * SSE2 for double-exact operands (cpu/fpu_sse.h). fpu_soft.c
 * stays the reference and the portable path, and decides whenever the
 * host's answer might not be the guest's:
 *
 *  - the guest has an exception unmasked that the operation raised: the
 *    destination is then left alone (IE, DE, ZE; OE and UE for a memory
 *    destination) or, for a register, given the re-biased exponent of
 *    SDM Vol. 1 4.9.1.4-5, which the host (all masked) does not compute.
 *    With UE unmasked any tiny register result counts, exact or not
 *    (fpu_soft.h fp_ctx.unmasked), so a result with exponent 0 does too;
 *  - an operand is an encoding no x87 since the 387 produces: unnormals,
 *    pseudo-NaNs, pseudo-infinities (invalid operands, SDM Vol. 1 8.2.2)
 *    and pseudo-denormals (exponent 0, integer bit set). Their handling
 *    is the part of the format that changed between generations, and no
 *    program is expected to make them; fpu_soft follows the SDM for them
 *    whatever the host's vendor does;
 *  - cpu->x87_soft is set (GLASS_X87_SOFT=1; tests compare both paths).
 *
 * The host's exception flags are sticky and clearing them (FNCLEX) costs
 * more than an operation, so the fast path (all exceptions masked, the
 * guest's common case) does not clear them: as long as every flag the
 * host shows is already set in the guest's status word, the guest's word
 * after the operation is the same whichever of them the operation raised.
 * A host flag the guest lacks (a new exception, or a flag left from
 * before a guest FNCLEX) sends the operation to the slow path, which
 * clears the host's flags and runs it again. So does IE, which is also
 * the only case where C1 could mean something else than "rounded up".
 */
#ifndef GLASS_CPU_FPU_ARITH_H
#define GLASS_CPU_FPU_ARITH_H

#include "cpu/fpu_host.h"
#include "cpu/fpu_internal.h"
#include "cpu/fpu_sse.h"

/* An operand the host may be given (see above): the integer bit is set
 * exactly when the exponent is not 0. */
static inline bool host_operand_ok(const struct f80 *v)
{
    return (v->sig >> 63) == ((v->sign_exp & 0x7fff) != 0);
}

/* The exceptions of an operation (`raised`) with those that converting
 * its memory operand raised before it (`pre`). A denormal operand has a
 * lower priority than an invalid operation, a QNaN operand and a
 * division by zero, and "the higher-priority exception being handled,
 * the lower-priority ones are ignored" (SDM Vol. 1 4.9.2): the
 * conversion's DE goes then, as on the host's x87. */
static inline unsigned fpu_merge_pre(unsigned pre, unsigned raised, const struct f80 *a,
                                     const struct f80 *b)
{
    if ((pre & FPX_DE) &&
        ((raised & (FPX_IE | FPX_ZE)) || f80_is_nan(*a) || (b && f80_is_nan(*b))))
        pre &= ~FPX_DE;
    return pre | raised;
}

/* The careful path (cpu/fpu_arith.c): flags cleared first, then the
 * host or fpu_soft. Same contract as fpu_op. */
bool fpu_op_slow(struct cpu *cpu, enum host_op op, const struct f80 *a, const struct f80 *b,
                 unsigned pre, struct f80 *r, uint64_t *m);

/*
 * Runs `op` on a (and b for the binary ones): a register result goes to
 * *r, a memory image to *m. `pre` holds the exceptions that converting a
 * memory operand already raised. Reports to the status word as
 * fpu_report does (a memory destination for HOP_F32 and up) and returns
 * whether the result may be delivered.
 */
static inline bool fpu_op(struct cpu *cpu, enum host_op op, const struct f80 *a,
                          const struct f80 *b, unsigned pre, struct f80 *r, uint64_t *m)
{
#if FPU_HOST
    struct fpu *f = &cpu->fpu;
    if ((f->cw & SW_EXC) == SW_EXC && !cpu->x87_soft && op <= HOP_SQRT &&
        (f->cw & 0xf00) == 0x200) {
        /* Double precision, round to nearest: SSE2 when it applies
         * (cpu/fpu_sse.h). Its flags are exact: PE, and C1. */
        int k = host_sse(op, a, b, r);
        if (k >= 0) {
            f->sw = (uint16_t)((f->sw & ~SW_C1) | (unsigned)k | pre);
            return true;
        }
    }
    if ((f->cw & SW_EXC) == SW_EXC && !cpu->x87_soft && host_operand_ok(a) &&
        (op >= HOP_SQRT || host_operand_ok(b))) {
        unsigned sw = host_x87(op, host_cw_index(f->cw), a, b, r, m);
        if (!((((sw | pre) & ~f->sw) | (sw & FPX_IE)) & SW_EXC)) {
            f->sw = (uint16_t)((f->sw & ~SW_C1) | (sw & SW_C1));
            /* The JIT's inline x87 code takes a host DE as raised by its
             * own operation (gen_x87.c): leave none behind. */
            if (sw & FPX_DE)
                host_clear_flags();
            return true;
        }
    }
#endif
    return fpu_op_slow(cpu, op, a, b, pre, r, m);
}

/* a op b for the D8 arithmetic operations (A_ADD, A_MUL, A_SUB, A_SUBR,
 * A_DIV, A_DIVR): the reversed ones swap the operands. */
static inline bool fpu_arith(struct cpu *cpu, unsigned op, const struct f80 *a,
                             const struct f80 *b, unsigned pre, struct f80 *r)
{
    switch (op) {
    case A_ADD: return fpu_op(cpu, HOP_ADD, a, b, pre, r, NULL);
    case A_MUL: return fpu_op(cpu, HOP_MUL, a, b, pre, r, NULL);
    case A_SUB: return fpu_op(cpu, HOP_SUB, a, b, pre, r, NULL);
    case A_SUBR: return fpu_op(cpu, HOP_SUB, b, a, pre, r, NULL);
    case A_DIV: return fpu_op(cpu, HOP_DIV, a, b, pre, r, NULL);
    default: return fpu_op(cpu, HOP_DIV, b, a, pre, r, NULL);
    }
}

/* A finite normal number or a zero: a compare of two of them raises
 * nothing (SDM FCOM, FUCOM: IE needs a NaN or unsupported operand, DE a
 * denormal one). */
static inline bool f80_plain(const struct f80 *v)
{
    unsigned e = v->sign_exp & 0x7fffu;
    return e - 1u < 0x7ffeu ? (v->sig >> 63) != 0 : (e == 0 && v->sig == 0);
}

/*
 * f80_compare: -1 less, 0 equal, 1 greater, 2 unordered. Two plain
 * values compare as sign and magnitude, the magnitude ordered by
 * exponent, then significand (normal encodings are unique); +0 = -0.
 * Exact either way, so no host instruction is needed.
 */
static inline int fpu_compare(const struct cpu *cpu, struct fp_ctx *c, const struct f80 *a,
                              const struct f80 *b, bool quiet)
{
    if (!cpu->x87_soft && f80_plain(a) && f80_plain(b)) {
        bool sa = a->sign_exp >> 15, sb = b->sign_exp >> 15;
        unsigned ea = a->sign_exp & 0x7fffu, eb = b->sign_exp & 0x7fffu;
        if ((ea | eb) == 0)
            return 0;
        if (sa != sb)
            return sa ? -1 : 1;
        int mag = ea != eb ? (ea < eb ? -1 : 1) : a->sig != b->sig ? (a->sig < b->sig ? -1 : 1) : 0;
        return sa ? -mag : mag;
    }
    unsigned pre = c->flags;
    c->flags = 0;
    int rel = f80_compare(c, *a, *b, quiet);
    c->flags = (uint8_t)fpu_merge_pre(pre, c->flags, a, b);
    return rel;
}

#endif
