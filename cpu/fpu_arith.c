/*
 * cpu/fpu_arith.c — the careful path of cpu/fpu_arith.h: an operation
 * whose exact exception flags matter (some exception unmasked, a flag the
 * guest's status word does not show yet, IE) or that the host must not
 * run (cpu->x87_soft, an unsupported or pseudo-denormal operand).
 */
#include "cpu/fpu_arith.h"

#if FPU_HOST
/* RC in bits 2-3 and PC in bits 0-1 of the index, as in the control word
 * (SDM Vol. 1 Figure 8-6); 007FH: exceptions masked, bit 6 reads 1. */
#define HCW(i) (uint16_t)(0x007f | ((i) & 12) << 8 | (((i) & 3) == 1 ? 3 : (i) & 3) << 8)
const uint16_t host_cw_table[16] = {
    HCW(0), HCW(1), HCW(2), HCW(3), HCW(4), HCW(5), HCW(6), HCW(7),
    HCW(8), HCW(9), HCW(10), HCW(11), HCW(12), HCW(13), HCW(14), HCW(15),
};
#undef HCW

uint16_t host_cw_default = 0x037f;

__attribute__((constructor)) static void host_cw_init(void)
{
    __asm__ volatile("fnstcw %0" : "=m"(host_cw_default));
}
#endif

/* The software computation, with the exceptions the memory operand's
 * conversion raised already in the context (as cpu/fpu.c's general
 * handlers accumulate them), then fpu_report. */
static bool soft_op(struct cpu *cpu, enum host_op op, const struct f80 *a, const struct f80 *b,
                    unsigned pre, struct f80 *r, uint64_t *m)
{
    struct fp_ctx c = ctx_of(&cpu->fpu);
    c.flags = 0;
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
    c.flags = (uint8_t)fpu_merge_pre(pre, c.flags, a, op < HOP_SQRT ? b : NULL);
    return fpu_report(cpu, &c, op >= HOP_F32);
}

bool fpu_op_slow(struct cpu *cpu, enum host_op op, const struct f80 *a, const struct f80 *b,
                 unsigned pre, struct f80 *r, uint64_t *m)
{
#if FPU_HOST
    struct fpu *f = &cpu->fpu;
    if (!cpu->x87_soft && host_operand_ok(a) && (op >= HOP_SQRT || host_operand_ok(b))) {
        host_clear_flags();
        unsigned sw = host_x87(op, host_cw_index(f->cw), a, b, r, m);
        unsigned raised = fpu_merge_pre(pre, sw, a, op < HOP_SQRT ? b : NULL) & SW_EXC;
        unsigned unmasked = ~f->cw & SW_EXC;
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
