/*
 * cpu/fpu_arith.c — the careful path of cpu/fpu_arith.h: an operation
 * whose exact exception flags matter (some exception unmasked, a flag the
 * guest's status word does not show yet, IE) or that the host must not
 * run (cpu->x87_soft, an unsupported or pseudo-denormal operand).
 */
#include "cpu/fpu_arith.h"

/* The software computation, with the exceptions the memory operand's
 * conversion raised already in the context (as cpu/fpu.c's general
 * handlers accumulate them), then fpu_report. */
static bool soft_op(struct cpu *cpu, enum host_op op, const struct f80 *a, const struct f80 *b,
                    unsigned pre, struct f80 *r, uint64_t *m)
{
    struct fp_ctx c = ctx_of(&cpu->fpu);
    c.flags = (uint8_t)pre;
    switch (op) {
    case HOP_ADD: *r = f80_add(&c, *a, *b); break;
    case HOP_MUL: *r = f80_mul(&c, *a, *b); break;
    case HOP_SUB: *r = f80_sub(&c, *a, *b); break;
    case HOP_DIV: *r = f80_div(&c, *a, *b); break;
    case HOP_SQRT: *r = f80_sqrt(&c, *a); break;
    case HOP_RNDINT: *r = f80_round_int(&c, *a); break;
    case HOP_F32: *m = f80_to_f32(&c, *a); break;
    case HOP_F64: *m = f80_to_f64(&c, *a); break;
    case HOP_I16: *m = (uint16_t)f80_to_int(&c, *a, 16); break;
    case HOP_I32: *m = (uint32_t)f80_to_int(&c, *a, 32); break;
    default: *m = (uint64_t)f80_to_int(&c, *a, 64); break;
    }
    return fpu_report(cpu, &c, op >= HOP_F32);
}

bool fpu_op_slow(struct cpu *cpu, enum host_op op, const struct f80 *a, const struct f80 *b,
                 unsigned pre, struct f80 *r, uint64_t *m)
{
#if FPU_HOST
    struct fpu *f = &cpu->fpu;
    if (!cpu->x87_soft && host_operand_ok(a) && (op >= HOP_SQRT || host_operand_ok(b))) {
        host_clear_flags();
        unsigned sw = host_x87(op, host_cw(f->cw), a, b, r, m);
        unsigned raised = (sw | pre) & SW_EXC, unmasked = ~f->cw & SW_EXC;
        /* With nothing unmasked raised, the masked response is the
         * answer; a register result with exponent 0 under an unmasked UE
         * may be a tiny one to re-bias (cpu/fpu_arith.h). */
        bool tiny_unmasked = op < HOP_F32 && (unmasked & FPX_UE) && !(r->sign_exp & 0x7fff);
        if (!(raised & unmasked) && !tiny_unmasked) {
            f->sw |= (uint16_t)raised;
            set_c1(f, (sw & SW_C1) && (raised & FPX_PE));
            return true;
        }
    }
#endif
    return soft_op(cpu, op, a, b, pre, r, m);
}
