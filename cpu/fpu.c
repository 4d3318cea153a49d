/*
 * cpu/fpu.c — the x87 FPU: decoding of the D8-DF escape space, the
 * register stack and its tags, the status and control words, exception
 * reporting (#NM, #MF, FERR#), the environment images (FSTENV, FSAVE)
 * and FXSAVE/FXRSTOR. The arithmetic itself lives in cpu/fpu_arith.*
 * (the host's x87 where it can, cpu/fpu_soft.c otherwise), the
 * specialised handlers of the hot forms in cpu/fpu_fast.c.
 *
 * References: SDM Vol. 1 chapter 8 (x87 FPU), 4.9 (exceptions),
 * Vol. 2 instruction pages and Tables A-7..A-22 (escape opcode maps),
 * Vol. 3A 2.5 (CR0.EM/MP/TS/NE) and 6.15 (#NM, #MF).
 */
#include <string.h>

#include "cpu/fpu_arith.h"

/* ------------------------------------------------------------------ */
/* Status word and stack faults                                        */
/* ------------------------------------------------------------------ */

/*
 * Stack overflow or underflow (SDM Vol. 1 8.5.1.1): IE and SF set, C1 = 1
 * for overflow, 0 for underflow. Returns true when IE is masked (the
 * caller delivers the real indefinite); unmasked, nothing else changes
 * and #MF is pending.
 */
bool fpu_stack_fault(struct cpu *cpu, bool overflow)
{
    struct fpu *f = &cpu->fpu;
    f->sw |= FPX_IE | SW_SF;
    set_c1(f, overflow);
    if (f->cw & CW_IM)
        return true;
    f->sw |= SW_ES | SW_B;
    return false;
}

/* Pushes v, or handles the overflow when ST(7) is in use. */
static void push_checked(struct cpu *cpu, struct f80 v)
{
    struct fpu *f = &cpu->fpu;
    if (!st_empty(f, 7)) {
        if (fpu_stack_fault(cpu, true))
            st_push(f, F80_INDEFINITE);
        return;
    }
    st_push(f, v);
}

/* ------------------------------------------------------------------ */
/* Memory operands                                                     */
/* ------------------------------------------------------------------ */

enum mem_fmt { MF_R32, MF_R64, MF_R80, MF_I16, MF_I32, MF_I64, MF_BCD, MF_COUNT };

static const uint8_t mem_fmt_size[MF_COUNT] = {4, 8, 10, 2, 4, 8, 10};

static struct f80 read_f80(struct cpu *cpu, int seg, uint32_t off)
{
    struct f80 v;
    v.sig = cpu_read64(cpu, seg, off);
    v.sign_exp = (uint16_t)cpu_read(cpu, seg, off + 8, 2);
    return v;
}

static void write_f80(struct cpu *cpu, int seg, uint32_t off, struct f80 v)
{
    cpu_write64(cpu, seg, off, v.sig);
    cpu_write(cpu, seg, off + 8, v.sign_exp, 2);
}

/* Reads a memory operand of `fmt` and converts it to extended (loads of
 * single/double raise IE for an SNaN and DE for a denormal). */
static struct f80 load_mem(struct cpu *cpu, const struct insn *in, enum mem_fmt fmt,
                           struct fp_ctx *c)
{
    int seg = in->seg;
    uint32_t off = insn_ea(cpu, in);
    uint8_t bcd[10];

    switch (fmt) {
    case MF_R32:
        return f80_from_f32(c, cpu_read(cpu, seg, off, 4));
    case MF_R64:
        return f80_from_f64(c, cpu_read64(cpu, seg, off));
    case MF_R80:
        return read_f80(cpu, seg, off);
    case MF_I16:
        return f80_from_int((int16_t)cpu_read(cpu, seg, off, 2));
    case MF_I32:
        return f80_from_int((int32_t)cpu_read(cpu, seg, off, 4));
    case MF_I64:
        return f80_from_int((int64_t)cpu_read64(cpu, seg, off));
    case MF_BCD:
    default:
        cpu_check_read(cpu, seg, off, 10);
        for (unsigned k = 0; k < 10; k++)
            bcd[k] = (uint8_t)cpu_read(cpu, seg, off + k, 1);
        return f80_from_bcd(bcd);
    }
}

/* A value converted for a store: up to 10 bytes, little-endian. */
struct mem_image {
    uint64_t lo;
    uint16_t hi;
};

/* The value a masked invalid operation stores in each format (SDM Vol. 1
 * 4.8.3.7 real indefinite, 4.8.3.7 integer indefinite, 4.7 BCD
 * indefinite FFFF C000 0000 0000 0000). */
static const struct mem_image mem_indefinite[MF_COUNT] = {
    [MF_R32] = {0xffc00000u, 0},
    [MF_R64] = {0xfff8000000000000ull, 0},
    [MF_R80] = {0xc000000000000000ull, 0xffff},
    [MF_I16] = {0x8000u, 0},
    [MF_I32] = {0x80000000u, 0},
    [MF_I64] = {0x8000000000000000ull, 0},
    [MF_BCD] = {0xc000000000000000ull, 0xffff},
};

/* The host operation of each format FST/FIST rounds to
 * (cpu/fpu_arith.h); MF_R80 and MF_BCD are converted here. */
static const uint8_t store_op[MF_COUNT] = {
    [MF_R32] = HOP_F32, [MF_R64] = HOP_F64, [MF_I16] = HOP_I16,
    [MF_I32] = HOP_I32, [MF_I64] = HOP_I64,
};

/* Converts ST(0) for a store to `fmt`; false when an unmasked exception
 * blocks the store (fpu_report). */
static bool convert_for_store(struct cpu *cpu, enum mem_fmt fmt, struct mem_image *m)
{
    struct fpu *f = &cpu->fpu;
    struct f80 v = st_get(f, 0);
    struct fp_ctx c = ctx_of(f);
    uint8_t bcd[10];

    m->lo = 0;
    m->hi = 0;
    switch (fmt) {
    case MF_R80: /* no conversion, no exception */
        m->lo = v.sig;
        m->hi = v.sign_exp;
        break;
    case MF_BCD:
        f80_to_bcd(&c, v, bcd);
        for (unsigned k = 0; k < 8; k++)
            m->lo |= (uint64_t)bcd[k] << (8 * k);
        m->hi = (uint16_t)(bcd[8] | (bcd[9] << 8));
        break;
    default:
        return fpu_op(cpu, (enum host_op)store_op[fmt], &f->st[phys(f, 0)], NULL, 0, NULL,
                      &m->lo);
    }
    return fpu_report(cpu, &c, true);
}

static void write_image(struct cpu *cpu, int seg, uint32_t off, enum mem_fmt fmt,
                        struct mem_image m)
{
    switch (mem_fmt_size[fmt]) {
    case 2:
        cpu_write(cpu, seg, off, (uint32_t)m.lo, 2);
        break;
    case 4:
        cpu_write(cpu, seg, off, (uint32_t)m.lo, 4);
        break;
    case 8:
        cpu_write64(cpu, seg, off, m.lo);
        break;
    default:
        cpu_write64(cpu, seg, off, m.lo);
        cpu_write(cpu, seg, off + 8, m.hi, 2);
        break;
    }
}

/* ------------------------------------------------------------------ */
/* Instruction forms                                                   */
/* ------------------------------------------------------------------ */

struct x87_form;
typedef void (*x87_fn)(struct cpu *cpu, const struct insn *in, const struct x87_form *form);

struct x87_form {
    x87_fn fn;   /* NULL: reserved encoding, #UD */
    uint8_t a, b;/* per-handler arguments */
    uint8_t flags;
};

/* Control instructions (SDM Vol. 1 8.3.12 and 8.1.8): no check for a
 * pending exception, and FIP/FDP/FOP are left alone. */
#define XF_CONTROL 1u

/* Register-form arithmetic arguments (form->b). */
#define ARG_TO_STI 1u /* destination ST(i), source ST(0) (DC, DE) */
#define ARG_POP 2u

/* FCOM/FCOMP/FUCOM.../FICOM... with ST(0) against `src`. */
static void compare_and_pop(struct cpu *cpu, struct f80 src, bool src_empty, bool quiet,
                            unsigned pops, struct fp_ctx *c)
{
    struct fpu *f = &cpu->fpu;
    if (st_empty(f, 0) || src_empty) {
        if (!fpu_stack_fault(cpu, false))
            return;
        set_compare_cc(f, 2);
    } else {
        int rel = fpu_compare(cpu, c, &f->st[phys(f, 0)], &src, quiet);
        if (!fpu_report(cpu, c, false))
            return; /* unmasked IE: condition codes not set (SDM FCOM) */
        set_compare_cc(f, rel);
    }
    while (pops--)
        st_pop(f);
}

/* D8, DC, DA, DE memory forms: ST(0) op m32real/m64real/m32int/m16int. */
static void x_arith_mem(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    struct fp_ctx c = ctx_of(f);
    unsigned op = form->a;
    struct f80 m = load_mem(cpu, in, (enum mem_fmt)form->b, &c);

    if (op == A_COM || op == A_COMP) {
        compare_and_pop(cpu, m, false, false, op == A_COMP, &c);
        return;
    }
    if (st_empty(f, 0)) {
        if (fpu_stack_fault(cpu, false))
            st_set(f, 0, F80_INDEFINITE);
        return;
    }
    struct f80 r;
    if (fpu_arith(cpu, op, &f->st[phys(f, 0)], &m, c.flags, &r))
        st_set(f, 0, r);
}

/* D8, DC, DE register forms: ST(0) = ST(0) op ST(i), or ST(i) = ST(i) op
 * ST(0) (DC/DE, with SUB/SUBR and DIV/DIVR already swapped in the
 * table), popping for DE. */
static void x_arith_reg(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    unsigned i = in->rm & 7;
    unsigned dst = (form->b & ARG_TO_STI) ? i : 0, src = (form->b & ARG_TO_STI) ? 0 : i;

    if (st_empty(f, dst) || st_empty(f, src)) {
        if (!fpu_stack_fault(cpu, false))
            return;
        st_set(f, dst, F80_INDEFINITE);
    } else {
        struct f80 r;
        if (!fpu_arith(cpu, form->a, &f->st[phys(f, dst)], &f->st[phys(f, src)], 0, &r))
            return;
        st_set(f, dst, r);
    }
    if (form->b & ARG_POP)
        st_pop(f);
}

/* FCOM/FCOMP ST(i) (a = 0), FUCOM/FUCOMP (a = 1); b = pops. FCOMPP and
 * FUCOMPP are the rm = 1 rows with two pops. */
static void x_com_reg(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    struct fp_ctx c = ctx_of(f);
    unsigned i = in->rm & 7;
    compare_and_pop(cpu, st_get(f, i), st_empty(f, i), form->a, form->b, &c);
}

/* FCOMI/FCOMIP/FUCOMI/FUCOMIP: ZF PF CF like an unsigned compare, OF SF
 * AF cleared (SDM FCOMI). a = quiet, b = pop. */
static void x_comi(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    static const uint32_t flags_of[4] = {
        [0] = FL_ZF, [1] = 0, [2] = FL_ZF | FL_PF | FL_CF, [3] = FL_CF,
    };
    struct fpu *f = &cpu->fpu;
    struct fp_ctx c = ctx_of(f);
    unsigned i = in->rm & 7;
    int rel;

    if (st_empty(f, 0) || st_empty(f, i)) {
        if (!fpu_stack_fault(cpu, false))
            return;
        rel = 2;
    } else {
        rel = fpu_compare(cpu, &c, &f->st[phys(f, 0)], &f->st[phys(f, i)], form->a);
        if (!fpu_report(cpu, &c, false))
            return;
        set_c1(f, false);
    }
    flags_set_arith(cpu, flags_of[rel & 3]);
    if (form->b)
        st_pop(f);
}

/* FLD m32/m64/m80, FILD m16/m32/m64, FBLD. */
static void x_load_mem(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    struct fp_ctx c = ctx_of(f);
    struct f80 v = load_mem(cpu, in, (enum mem_fmt)form->a, &c);

    if (!st_empty(f, 7)) {
        if (fpu_stack_fault(cpu, true))
            st_push(f, F80_INDEFINITE);
        return;
    }
    if (fpu_report(cpu, &c, false))
        st_push(f, v);
}

/* FST/FSTP m32/m64/m80, FIST/FISTP m16/m32/m64, FBSTP; b = pop. The
 * whole destination is checked first, so a fault changes nothing. */
static void x_store_mem(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    enum mem_fmt fmt = (enum mem_fmt)form->a;
    int seg = in->seg;
    uint32_t off = insn_ea(cpu, in);
    struct mem_image m;

    cpu_check_write(cpu, seg, off, mem_fmt_size[fmt]);
    if (st_empty(f, 0)) {
        if (!fpu_stack_fault(cpu, false))
            return;
        m = mem_indefinite[fmt];
    } else {
        if (!convert_for_store(cpu, fmt, &m))
            return;
    }
    write_image(cpu, seg, off, fmt, m);
    if (form->b)
        st_pop(f);
}

/* FLD ST(i): ST(i) is read before the push. */
static void x_fld_sti(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    unsigned i = in->rm & 7;
    (void)form;
    if (st_empty(f, i)) {
        if (fpu_stack_fault(cpu, false))
            push_checked(cpu, F80_INDEFINITE);
        return;
    }
    set_c1(f, false);
    push_checked(cpu, st_get(f, i));
}

/* FST/FSTP ST(i); b = pop. */
static void x_fst_sti(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    unsigned i = in->rm & 7;
    if (st_empty(f, 0)) {
        if (!fpu_stack_fault(cpu, false))
            return;
        st_set(f, i, F80_INDEFINITE);
    } else {
        set_c1(f, false);
        st_set(f, i, st_get(f, 0));
    }
    if (form->b)
        st_pop(f);
}

/* FXCH ST(i): empty registers read as the indefinite when masked. */
static void x_fxch(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    unsigned i = in->rm & 7;
    (void)form;
    struct f80 a = st_get(f, 0), b = st_get(f, i);
    if (st_empty(f, 0) || st_empty(f, i)) {
        if (!fpu_stack_fault(cpu, false))
            return;
        if (st_empty(f, 0))
            a = F80_INDEFINITE;
        if (st_empty(f, i))
            b = F80_INDEFINITE;
    } else {
        set_c1(f, false);
    }
    st_set(f, 0, b);
    st_set(f, i, a);
}

/* FFREE ST(i) (b = 0), FFREEP ST(i) (DF C0+i, b = 1). */
static void x_ffree(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    reg_set_empty(f, phys(f, in->rm & 7), true);
    if (form->b)
        st_pop(f);
}

/* FCMOVcc ST(0), ST(i); a = condition in Jcc numbering. */
static void x_fcmov(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    unsigned i = in->rm & 7;
    if (st_empty(f, 0) || st_empty(f, i)) {
        if (fpu_stack_fault(cpu, false))
            st_set(f, 0, F80_INDEFINITE);
        return;
    }
    set_c1(f, false);
    if (flags_cond(cpu, form->a))
        st_set(f, 0, st_get(f, i));
}

static void x_nop(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    (void)cpu, (void)in, (void)form;
}

/* ---- D9 E0-FF: one-operand and constant forms ---------------------- */

enum {
    U_CHS, U_ABS, U_TST, U_XAM,
    U_F2XM1, U_SQRT, U_RNDINT, U_SIN, U_COS,
    U_YL2X, U_YL2XP1, U_PATAN, U_SCALE, U_PREM, U_PREM1,
    U_PTAN, U_XTRACT, U_SINCOS, U_DECSTP, U_INCSTP,
};

/* FCHS FABS FTST FXAM and the ST(0)-only arithmetic. */
static void x_unary(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    struct fp_ctx c = ctx_of(f);
    struct f80 v = st_get(f, 0), r;
    (void)in;

    if (form->a == U_XAM) {
        /* FXAM (SDM FXAM): C1 = sign, C3 C2 C0 = class; empty = 101. */
        static const uint16_t class_cc[] = {
            [F80_UNSUPPORTED] = 0, [F80_NAN] = SW_C0, [F80_NORMAL] = SW_C2,
            [F80_INFINITY] = SW_C2 | SW_C0, [F80_ZERO] = SW_C3,
            [F80_EMPTY] = SW_C3 | SW_C0, [F80_DENORMAL] = SW_C3 | SW_C2,
        };
        enum f80_class k = st_empty(f, 0) ? F80_EMPTY : f80_classify(v);
        uint16_t cc = (unsigned)k < sizeof class_cc / sizeof class_cc[0] ? class_cc[k] : 0;
        f->sw = (uint16_t)((f->sw & ~SW_CC) | cc | ((v.sign_exp & 0x8000) ? SW_C1 : 0));
        return;
    }
    if (st_empty(f, 0)) {
        if (!fpu_stack_fault(cpu, false))
            return;
        if (form->a == U_TST)
            set_compare_cc(f, 2);
        else
            st_set(f, 0, F80_INDEFINITE);
        return;
    }
    switch (form->a) {
    case U_CHS:
        v.sign_exp ^= 0x8000;
        set_c1(f, false);
        st_set(f, 0, v);
        return;
    case U_ABS:
        v.sign_exp &= 0x7fff;
        set_c1(f, false);
        st_set(f, 0, v);
        return;
    case U_TST: {
        int rel = f80_compare(&c, v, f80_zero(false), false);
        if (fpu_report(cpu, &c, false))
            set_compare_cc(f, rel);
        return;
    }
    case U_F2XM1:
        r = f80_f2xm1(&c, v);
        if (fpu_report(cpu, &c, false))
            st_set(f, 0, r);
        return;
    default: /* U_SQRT, U_RNDINT: they round (cpu/fpu_arith.h) */
        if (fpu_op(cpu, form->a == U_SQRT ? HOP_SQRT : HOP_RNDINT, &f->st[phys(f, 0)], NULL, 0,
                   &r, NULL))
            st_set(f, 0, r);
        return;
    }
}

/* FSIN, FCOS: |x| >= 2^63 sets C2 and leaves ST(0) (SDM FSIN). */
static void x_trig(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    struct fp_ctx c = ctx_of(f);
    struct f80 s, co;
    bool out = false;
    (void)in;

    if (st_empty(f, 0)) {
        if (fpu_stack_fault(cpu, false))
            st_set(f, 0, F80_INDEFINITE);
        return;
    }
    f80_sincos(&c, st_get(f, 0), &s, &co, &out);
    if (out) {
        f->sw |= SW_C2;
        return;
    }
    f->sw &= (uint16_t)~SW_C2;
    if (fpu_report(cpu, &c, false))
        st_set(f, 0, form->a == U_SIN ? s : co);
}

/* Two-operand forms on ST(0) and ST(1): FYL2X, FYL2XP1, FPATAN (store
 * in ST(1) and pop), FSCALE, FPREM, FPREM1 (store in ST(0)). */
static void x_binary01(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    struct fp_ctx c = ctx_of(f);
    bool to_st1 = form->a == U_YL2X || form->a == U_YL2XP1 || form->a == U_PATAN;
    struct f80 x, y, r;
    (void)in;

    if (st_empty(f, 0) || st_empty(f, 1)) {
        if (!fpu_stack_fault(cpu, false))
            return;
        st_set(f, to_st1 ? 1 : 0, F80_INDEFINITE);
        if (to_st1)
            st_pop(f);
        return;
    }
    x = st_get(f, 0);
    y = st_get(f, 1);
    switch (form->a) {
    case U_YL2X:
        r = f80_yl2x(&c, x, y);
        break;
    case U_YL2XP1:
        r = f80_yl2xp1(&c, x, y);
        break;
    case U_PATAN:
        r = f80_patan(&c, x, y);
        break;
    case U_SCALE:
        r = f80_scale(&c, x, y);
        break;
    default: { /* FPREM, FPREM1: C2 = incomplete; Q2 Q1 Q0 -> C0 C3 C1 */
        bool incomplete = false;
        unsigned q = 0;
        r = f80_rem(&c, x, y, form->a == U_PREM1, &incomplete, &q);
        if (!fpu_report(cpu, &c, false))
            return;
        uint16_t cc = incomplete ? SW_C2
                                 : (uint16_t)(((q & 4) ? SW_C0 : 0) | ((q & 2) ? SW_C3 : 0) |
                                              ((q & 1) ? SW_C1 : 0));
        f->sw = (uint16_t)((f->sw & ~SW_CC) | cc);
        st_set(f, 0, r);
        return;
    }
    }
    if (!fpu_report(cpu, &c, false))
        return;
    if (to_st1) {
        st_set(f, 1, r);
        st_pop(f);
    } else {
        st_set(f, 0, r);
    }
}

/* Forms that replace ST(0) and push a second result: FPTAN (tan, then
 * 1.0), FXTRACT (exponent, then significand), FSINCOS (sin, then cos). */
static void x_two_results(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    struct fp_ctx c = ctx_of(f);
    struct f80 first, second;
    bool out = false;
    (void)in;

    if (st_empty(f, 0) || !st_empty(f, 7)) {
        bool overflow = !st_empty(f, 0);
        if (!fpu_stack_fault(cpu, overflow))
            return;
        st_set(f, 0, F80_INDEFINITE);
        st_push(f, F80_INDEFINITE);
        return;
    }
    struct f80 v = st_get(f, 0);
    switch (form->a) {
    case U_PTAN:
        first = f80_tan(&c, v, &out);
        second = f80_from_int(1);
        break;
    case U_SINCOS:
        f80_sincos(&c, v, &first, &second, &out);
        break;
    default: /* U_XTRACT: ST(1) = exponent, ST(0) = significand */
        second = f80_extract(&c, v, &first);
        break;
    }
    if (form->a != U_XTRACT) {
        /* Out of range (|x| >= 2^63): C2 set, operand unchanged. */
        if (out) {
            f->sw |= SW_C2;
            return;
        }
        f->sw &= (uint16_t)~SW_C2;
    }
    if (!fpu_report(cpu, &c, false))
        return;
    st_set(f, 0, first);
    st_push(f, second);
}

static void x_stack_ptr(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    (void)in;
    /* FDECSTP / FINCSTP rotate TOP only; tags unchanged; C1 = 0. */
    f->top = (uint8_t)((f->top + (form->a == U_INCSTP ? 1 : 7)) & 7);
    set_c1(f, false);
}

/*
 * FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ. The irrational constants
 * are held to 66 bits and rounded per RC (SDM Vol. 1 8.3.8): `sig` is the
 * truncated 64-bit significand, `nearest_up` says whether round-to-
 * nearest goes up.
 */
static const struct {
    uint16_t sign_exp;
    uint64_t sig;
    bool exact, nearest_up;
} load_constants[7] = {
    {0x3fff, 0x8000000000000000ull, true, false},  /* 1.0 */
    {0x4000, 0xd49a784bcd1b8afeull, false, false}, /* log2(10) */
    {0x3fff, 0xb8aa3b295c17f0bbull, false, true},  /* log2(e) */
    {0x4000, 0xc90fdaa22168c234ull, false, true},  /* pi */
    {0x3ffd, 0x9a209a84fbcff798ull, false, true},  /* log10(2) */
    {0x3ffe, 0xb17217f7d1cf79abull, false, true},  /* ln(2) */
    {0x0000, 0, true, false},                      /* +0.0 */
};

static void x_load_const(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    unsigned k = form->a % 7, rc = (f->cw >> 10) & 3;
    struct f80 v = {load_constants[k].sig, load_constants[k].sign_exp};
    (void)in;
    /* Positive constants: round up for RC = up, and for nearest when the
     * dropped bits exceed half; truncate for down and toward zero. */
    if (!load_constants[k].exact &&
        (rc == FPR_UP || (rc == FPR_NEAREST && load_constants[k].nearest_up)))
        v.sig++;
    if (!st_empty(f, 7)) {
        if (fpu_stack_fault(cpu, true))
            st_push(f, F80_INDEFINITE);
        return;
    }
    set_c1(f, false);
    st_push(f, v);
}

/* ---- Control instructions ------------------------------------------ */

static void fpu_init_state(struct cpu *cpu)
{
    struct fpu *f = &cpu->fpu;
    bool had_error = (f->sw & SW_ES) != 0;
    /* FNINIT (SDM FINIT): CW 037FH, SW 0, all tags empty, pointers 0;
     * the register contents stay. */
    f->cw = CW_INIT;
    f->sw = 0;
    f->top = 0;
    f->tag_empty = 0xff;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
    if (had_error && cpu->bus.ferr)
        cpu->bus.ferr(cpu->bus.opaque, false);
}

static void x_fninit(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    (void)in, (void)form;
    fpu_init_state(cpu);
}

static void x_fnclex(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu *f = &cpu->fpu;
    bool had_error = (f->sw & SW_ES) != 0;
    (void)in, (void)form;
    /* FNCLEX: PE UE OE ZE DE IE, SF, ES and B cleared; C0-C3 and TOP kept. */
    f->sw &= (uint16_t)~(SW_EXC | SW_SF | SW_ES | SW_B);
    if (had_error && cpu->bus.ferr)
        cpu->bus.ferr(cpu->bus.opaque, false);
}

static void load_cw(struct cpu *cpu, uint16_t v)
{
    cpu->fpu.cw = (uint16_t)((v & CW_WRITABLE) | CW_FIXED1);
}

static void x_fldcw(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    (void)form;
    load_cw(cpu, (uint16_t)cpu_read(cpu, in->seg, insn_ea(cpu, in), 2));
    sw_update_summary(cpu);
}

static void x_fnstcw(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    (void)form;
    cpu_write(cpu, in->seg, insn_ea(cpu, in), cpu->fpu.cw, 2);
}

static void x_fnstsw_mem(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    (void)form;
    cpu_write(cpu, in->seg, insn_ea(cpu, in), sw_read(&cpu->fpu), 2);
}

static void x_fnstsw_ax(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    (void)in, (void)form;
    reg_write(cpu, R_EAX, 2, sw_read(&cpu->fpu));
}

/*
 * The environment image (SDM Vol. 1 Figures 8-9 to 8-12): 14 bytes with
 * a 16-bit operand size, 28 with 32-bit; protected mode stores selector
 * and offset, real and virtual-8086 mode store the 20/32-bit linear
 * instruction and operand addresses split around FOP.
 */
static bool env_protected(const struct cpu *cpu)
{
    return (cpu->cr0 & CR0_PE) && !(cpu->eflags & FL_VM);
}

static unsigned env_size(const struct insn *in)
{
    return in->opsize == 4 ? 28 : 14;
}

/* Writes the environment as `n` fields of `fw` bytes each (2 or 4). */
static void env_store(struct cpu *cpu, const struct insn *in, int seg, uint32_t off)
{
    const struct fpu *f = &cpu->fpu;
    unsigned fw = in->opsize == 4 ? 4 : 2;
    uint32_t field[7];

    field[0] = f->cw;
    field[1] = sw_read(f);
    field[2] = fpu_tag_word(f);
    if (env_protected(cpu)) {
        field[3] = f->fip;
        field[4] = f->fcs;
        field[5] = f->fdp;
        field[6] = f->fds;
        if (fw == 4)
            field[4] |= (uint32_t)(f->fop & 0x7ff) << 16;
    } else {
        uint32_t ip = ((uint32_t)f->fcs << 4) + f->fip;
        uint32_t dp = ((uint32_t)f->fds << 4) + f->fdp;
        field[3] = ip & 0xffff;
        field[5] = dp & 0xffff;
        if (fw == 4) {
            field[4] = ((ip >> 16) << 12) | (f->fop & 0x7ffu);
            field[6] = (dp >> 16) << 12;
        } else {
            field[4] = (((ip >> 16) & 0xf) << 12) | (f->fop & 0x7ffu);
            field[6] = ((dp >> 16) & 0xf) << 12;
        }
    }
    /* The reserved upper halves of CW, SW and TW in the 32-bit image are
     * written as 1s, as Intel processors do; other reserved bits as 0. */
    if (fw == 4)
        for (unsigned k = 0; k < 3; k++)
            field[k] |= 0xffff0000u;
    for (unsigned k = 0; k < 7; k++)
        cpu_write(cpu, seg, off + k * fw, field[k] & width_mask(fw), fw);
}

/* Reads the environment into `out` (not committed). */
static void env_load(struct cpu *cpu, const struct insn *in, int seg, uint32_t off,
                     struct fpu *out)
{
    unsigned fw = in->opsize == 4 ? 4 : 2;
    uint32_t field[7];

    for (unsigned k = 0; k < 7; k++)
        field[k] = cpu_read(cpu, seg, off + k * fw, fw);
    out->cw = (uint16_t)((field[0] & CW_WRITABLE) | CW_FIXED1);
    out->sw = (uint16_t)field[1];
    out->top = (uint8_t)((field[1] >> 11) & 7);
    fpu_set_tag_word(out, (uint16_t)field[2]);
    if (env_protected(cpu)) {
        out->fip = fw == 4 ? field[3] : field[3] & 0xffff;
        out->fcs = (uint16_t)field[4];
        out->fop = fw == 4 ? (uint16_t)((field[4] >> 16) & 0x7ff) : 0;
        out->fdp = fw == 4 ? field[5] : field[5] & 0xffff;
        out->fds = (uint16_t)field[6];
    } else {
        /* Real/v86: the linear addresses come back with selector 0. */
        if (fw == 4) {
            out->fip = (field[3] & 0xffff) | ((field[4] >> 12) << 16);
            out->fdp = (field[5] & 0xffff) | ((field[6] >> 12) << 16);
        } else {
            out->fip = (field[3] & 0xffff) | (((field[4] >> 12) & 0xf) << 16);
            out->fdp = (field[5] & 0xffff) | (((field[6] >> 12) & 0xf) << 16);
        }
        out->fop = (uint16_t)(field[4] & 0x7ff);
        out->fcs = out->fds = 0;
    }
}

/* Commits a loaded environment. A loaded tag of 11 means empty; the
 * others are recomputed from the register contents. */
static void env_commit(struct cpu *cpu, const struct fpu *in_env, const struct f80 *regs)
{
    struct fpu *f = &cpu->fpu;
    bool had_error = (f->sw & SW_ES) != 0;

    f->cw = in_env->cw;
    f->sw = (uint16_t)(in_env->sw & ~SW_TOP);
    f->top = in_env->top;
    f->fip = in_env->fip;
    f->fcs = in_env->fcs;
    f->fop = in_env->fop;
    f->fdp = in_env->fdp;
    f->fds = in_env->fds;
    if (regs)
        for (unsigned i = 0; i < 8; i++)
            f->st[phys(f, i)] = regs[i];
    f->tag_empty = in_env->tag_empty;
    /* ES/B follow the new flags and mask; starting from the old ES lets
     * the update lower FERR# when the error is gone. */
    f->sw = (uint16_t)((f->sw & ~(SW_ES | SW_B)) | (had_error ? SW_ES : 0));
    sw_update_summary(cpu);
}

static void x_fnstenv(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    int seg = in->seg;
    uint32_t off = insn_ea(cpu, in);
    (void)form;
    cpu_check_write(cpu, seg, off, env_size(in));
    env_store(cpu, in, seg, off);
    /* FSTENV then masks all exceptions (SDM FSTENV). */
    cpu->fpu.cw |= 0x3f;
}

static void x_fldenv(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    struct fpu env;
    (void)form;
    cpu_check_read(cpu, in->seg, insn_ea(cpu, in), env_size(in));
    env_load(cpu, in, in->seg, insn_ea(cpu, in), &env);
    env_commit(cpu, &env, NULL);
}

static void x_fnsave(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    int seg = in->seg;
    uint32_t off = insn_ea(cpu, in);
    unsigned es = env_size(in);
    (void)form;
    cpu_check_write(cpu, seg, off, es + 80);
    env_store(cpu, in, seg, off);
    for (unsigned i = 0; i < 8; i++)
        write_f80(cpu, seg, off + es + 10 * i, st_get(&cpu->fpu, i));
    fpu_init_state(cpu); /* FSAVE ends with FNINIT (SDM FSAVE) */
}

static void x_frstor(struct cpu *cpu, const struct insn *in, const struct x87_form *form)
{
    int seg = in->seg;
    uint32_t off = insn_ea(cpu, in);
    unsigned es = env_size(in);
    struct fpu env;
    struct f80 regs[8];
    (void)form;
    cpu_check_read(cpu, seg, off, es + 80);
    env_load(cpu, in, seg, off, &env);
    for (unsigned i = 0; i < 8; i++)
        regs[i] = read_f80(cpu, seg, off + es + 10 * i);
    env_commit(cpu, &env, regs);
}

/* ------------------------------------------------------------------ */
/* Opcode maps                                                         */
/* ------------------------------------------------------------------ */

#define F(fn, a, b) {fn, a, b, 0}
#define CTL(fn) {fn, 0, 0, XF_CONTROL}
#define ROW8(base, e)                                                                          \
    [(base) + 0] = e, [(base) + 1] = e, [(base) + 2] = e, [(base) + 3] = e, [(base) + 4] = e, \
    [(base) + 5] = e, [(base) + 6] = e, [(base) + 7] = e

/* Memory forms, [opcode - D8][ModRM.reg] (SDM Vol. 2 Tables,
 * Missing entries are #UD (DB /1,
 * DD /1, DF /1 are FISTTP, an SSE3 instruction). */
static const struct x87_form mem_forms[8][8] = {
    [0] = {F(x_arith_mem, A_ADD, MF_R32), F(x_arith_mem, A_MUL, MF_R32),
           F(x_arith_mem, A_COM, MF_R32), F(x_arith_mem, A_COMP, MF_R32),
           F(x_arith_mem, A_SUB, MF_R32), F(x_arith_mem, A_SUBR, MF_R32),
           F(x_arith_mem, A_DIV, MF_R32), F(x_arith_mem, A_DIVR, MF_R32)},
    [1] = {[0] = F(x_load_mem, MF_R32, 0), [2] = F(x_store_mem, MF_R32, 0),
           [3] = F(x_store_mem, MF_R32, 1), [4] = CTL(x_fldenv), [5] = CTL(x_fldcw),
           [6] = CTL(x_fnstenv), [7] = CTL(x_fnstcw)},
    [2] = {F(x_arith_mem, A_ADD, MF_I32), F(x_arith_mem, A_MUL, MF_I32),
           F(x_arith_mem, A_COM, MF_I32), F(x_arith_mem, A_COMP, MF_I32),
           F(x_arith_mem, A_SUB, MF_I32), F(x_arith_mem, A_SUBR, MF_I32),
           F(x_arith_mem, A_DIV, MF_I32), F(x_arith_mem, A_DIVR, MF_I32)},
    [3] = {[0] = F(x_load_mem, MF_I32, 0), [2] = F(x_store_mem, MF_I32, 0),
           [3] = F(x_store_mem, MF_I32, 1), [5] = F(x_load_mem, MF_R80, 0),
           [7] = F(x_store_mem, MF_R80, 1)},
    [4] = {F(x_arith_mem, A_ADD, MF_R64), F(x_arith_mem, A_MUL, MF_R64),
           F(x_arith_mem, A_COM, MF_R64), F(x_arith_mem, A_COMP, MF_R64),
           F(x_arith_mem, A_SUB, MF_R64), F(x_arith_mem, A_SUBR, MF_R64),
           F(x_arith_mem, A_DIV, MF_R64), F(x_arith_mem, A_DIVR, MF_R64)},
    [5] = {[0] = F(x_load_mem, MF_R64, 0), [2] = F(x_store_mem, MF_R64, 0),
           [3] = F(x_store_mem, MF_R64, 1), [4] = CTL(x_frstor), [6] = CTL(x_fnsave),
           [7] = CTL(x_fnstsw_mem)},
    [6] = {F(x_arith_mem, A_ADD, MF_I16), F(x_arith_mem, A_MUL, MF_I16),
           F(x_arith_mem, A_COM, MF_I16), F(x_arith_mem, A_COMP, MF_I16),
           F(x_arith_mem, A_SUB, MF_I16), F(x_arith_mem, A_SUBR, MF_I16),
           F(x_arith_mem, A_DIV, MF_I16), F(x_arith_mem, A_DIVR, MF_I16)},
    [7] = {[0] = F(x_load_mem, MF_I16, 0), [2] = F(x_store_mem, MF_I16, 0),
           [3] = F(x_store_mem, MF_I16, 1), [4] = F(x_load_mem, MF_BCD, 0),
           [5] = F(x_load_mem, MF_I64, 0), [6] = F(x_store_mem, MF_BCD, 1),
           [7] = F(x_store_mem, MF_I64, 1)},
};

/* Register forms, [opcode - D8][ModRM & 3F] (SDM Vol. 2 Tables,
 * Blank cells are #UD. */
static const struct x87_form reg_forms[8][64] = {
    /* D8: ST(0) = ST(0) op ST(i) */
    [0] = {ROW8(0x00, F(x_arith_reg, A_ADD, 0)), ROW8(0x08, F(x_arith_reg, A_MUL, 0)),
           ROW8(0x10, F(x_com_reg, 0, 0)), ROW8(0x18, F(x_com_reg, 0, 1)),
           ROW8(0x20, F(x_arith_reg, A_SUB, 0)), ROW8(0x28, F(x_arith_reg, A_SUBR, 0)),
           ROW8(0x30, F(x_arith_reg, A_DIV, 0)), ROW8(0x38, F(x_arith_reg, A_DIVR, 0))},
    /* D9 */
    [1] = {ROW8(0x00, F(x_fld_sti, 0, 0)), ROW8(0x08, F(x_fxch, 0, 0)),
           [0x10] = F(x_nop, 0, 0), /* FNOP */
           [0x20] = F(x_unary, U_CHS, 0), [0x21] = F(x_unary, U_ABS, 0),
           [0x24] = F(x_unary, U_TST, 0), [0x25] = F(x_unary, U_XAM, 0),
           [0x28] = F(x_load_const, 0, 0), [0x29] = F(x_load_const, 1, 0),
           [0x2a] = F(x_load_const, 2, 0), [0x2b] = F(x_load_const, 3, 0),
           [0x2c] = F(x_load_const, 4, 0), [0x2d] = F(x_load_const, 5, 0),
           [0x2e] = F(x_load_const, 6, 0),
           [0x30] = F(x_unary, U_F2XM1, 0), [0x31] = F(x_binary01, U_YL2X, 0),
           [0x32] = F(x_two_results, U_PTAN, 0), [0x33] = F(x_binary01, U_PATAN, 0),
           [0x34] = F(x_two_results, U_XTRACT, 0), [0x35] = F(x_binary01, U_PREM1, 0),
           [0x36] = F(x_stack_ptr, U_DECSTP, 0), [0x37] = F(x_stack_ptr, U_INCSTP, 0),
           [0x38] = F(x_binary01, U_PREM, 0), [0x39] = F(x_binary01, U_YL2XP1, 0),
           [0x3a] = F(x_unary, U_SQRT, 0), [0x3b] = F(x_two_results, U_SINCOS, 0),
           [0x3c] = F(x_unary, U_RNDINT, 0), [0x3d] = F(x_binary01, U_SCALE, 0),
           [0x3e] = F(x_trig, U_SIN, 0), [0x3f] = F(x_trig, U_COS, 0)},
    /* DA: FCMOVB/E/BE/U (conditions B=2, E=4, BE=6, P=10), FUCOMPP */
    [2] = {ROW8(0x00, F(x_fcmov, 2, 0)), ROW8(0x08, F(x_fcmov, 4, 0)),
           ROW8(0x10, F(x_fcmov, 6, 0)), ROW8(0x18, F(x_fcmov, 10, 0)),
           [0x29] = F(x_com_reg, 1, 2)},
    /* DB: FCMOVNB/NE/NBE/NU, FENI FDISI FNCLEX FNINIT FSETPM, FUCOMI, FCOMI */
    [3] = {ROW8(0x00, F(x_fcmov, 3, 0)), ROW8(0x08, F(x_fcmov, 5, 0)),
           ROW8(0x10, F(x_fcmov, 7, 0)), ROW8(0x18, F(x_fcmov, 11, 0)),
           [0x20] = CTL(x_nop), [0x21] = CTL(x_nop), /* FNENI, FNDISI: 8087 only */
           [0x22] = CTL(x_fnclex), [0x23] = CTL(x_fninit),
           [0x24] = CTL(x_nop), /* FNSETPM: 287 only */
           ROW8(0x28, F(x_comi, 1, 0)), ROW8(0x30, F(x_comi, 0, 0))},
    /* DC: ST(i) = ST(i) op ST(0); E0 is FSUBR, E8 FSUB, F0 FDIVR, F8 FDIV */
    [4] = {ROW8(0x00, F(x_arith_reg, A_ADD, ARG_TO_STI)),
           ROW8(0x08, F(x_arith_reg, A_MUL, ARG_TO_STI)),
           ROW8(0x20, F(x_arith_reg, A_SUBR, ARG_TO_STI)),
           ROW8(0x28, F(x_arith_reg, A_SUB, ARG_TO_STI)),
           ROW8(0x30, F(x_arith_reg, A_DIVR, ARG_TO_STI)),
           ROW8(0x38, F(x_arith_reg, A_DIV, ARG_TO_STI))},
    /* DD: FFREE, FST, FSTP, FUCOM, FUCOMP */
    [5] = {ROW8(0x00, F(x_ffree, 0, 0)), ROW8(0x10, F(x_fst_sti, 0, 0)),
           ROW8(0x18, F(x_fst_sti, 0, 1)), ROW8(0x20, F(x_com_reg, 1, 0)),
           ROW8(0x28, F(x_com_reg, 1, 1))},
    /* DE: the DC forms with a pop, and FCOMPP */
    [6] = {ROW8(0x00, F(x_arith_reg, A_ADD, ARG_TO_STI | ARG_POP)),
           ROW8(0x08, F(x_arith_reg, A_MUL, ARG_TO_STI | ARG_POP)),
           [0x19] = F(x_com_reg, 0, 2),
           ROW8(0x20, F(x_arith_reg, A_SUBR, ARG_TO_STI | ARG_POP)),
           ROW8(0x28, F(x_arith_reg, A_SUB, ARG_TO_STI | ARG_POP)),
           ROW8(0x30, F(x_arith_reg, A_DIVR, ARG_TO_STI | ARG_POP)),
           ROW8(0x38, F(x_arith_reg, A_DIV, ARG_TO_STI | ARG_POP))},
    /* DF: FFREEP, FNSTSW AX, FUCOMIP, FCOMIP */
    [7] = {ROW8(0x00, F(x_ffree, 0, 1)), [0x20] = CTL(x_fnstsw_ax),
           ROW8(0x28, F(x_comi, 1, 1)), ROW8(0x30, F(x_comi, 0, 1))},
};

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

/* A pending unmasked exception at a waiting instruction (SDM Vol. 3A
 * 6.15 #MF, Vol. 1 8.7): with CR0.NE the instruction faults with #MF;
 * without it, FERR# goes to the board (IRQ13 on a PC) and, as Glass does
 * not model IGNNE# stalls, the instruction proceeds. */
static void check_pending(struct cpu *cpu)
{
    if (!(cpu->fpu.sw & SW_ES))
        return;
    if (cpu->cr0 & CR0_NE)
        cpu_raise(cpu, EXC_MF, 0);
    if (cpu->bus.ferr)
        cpu->bus.ferr(cpu->bus.opaque, true);
}

bool fpu_host_inline_ok(const struct cpu *cpu)
{
    const struct fpu *f = &cpu->fpu;
    return FPU_HOST && !cpu->x87_soft && !(cpu->cr0 & (CR0_EM | CR0_TS)) &&
           (f->cw & SW_EXC) == SW_EXC && !(f->sw & SW_ES) && (f->cw & 0x300) != 0x100;
}

uint16_t fpu_tag_word(const struct fpu *f)
{
    uint16_t tw = 0;
    for (unsigned r = 0; r < 8; r++)
        tw |= (uint16_t)(tag_get(f, r) << (2 * r));
    return tw;
}

void fpu_set_tag_word(struct fpu *f, uint16_t tw)
{
    f->tag_empty = 0;
    for (unsigned r = 0; r < 8; r++)
        if (((tw >> (2 * r)) & 3) == TAG_EMPTY)
            f->tag_empty |= (uint8_t)(1u << r);
}

void fpu_exec(struct cpu *cpu, const struct insn *in)
{
    unsigned esc = (unsigned)(in->opcode - 0xd8) & 7;
    const struct x87_form *form =
        in->mod == 3 ? &reg_forms[esc][in->modrm & 0x3f] : &mem_forms[esc][in->reg & 7];

    /* CR0.EM: x87 emulated in software; CR0.TS: state belongs to another
     * task (SDM Vol. 3A 2.5, Table 2-2). Both come before #UD. */
    if (cpu->cr0 & (CR0_EM | CR0_TS))
        cpu_raise(cpu, EXC_NM, 0);
    if (!form->fn)
        cpu_raise(cpu, EXC_UD, 0);
    if (!(form->flags & XF_CONTROL)) {
        struct fpu *f = &cpu->fpu;
        check_pending(cpu);
        /* Last instruction and operand pointers (SDM Vol. 1 8.1.8). */
        f->fip = cpu->eip;
        f->fcs = cpu->seg[SEG_CS].sel;
        f->fop = (uint16_t)((esc << 8) | in->modrm);
        if (in->mod != 3) {
            f->fdp = insn_ea(cpu, in);
            f->fds = cpu->seg[in->seg < SEG_COUNT ? in->seg : SEG_DS].sel;
        }
    }
    form->fn(cpu, in, form);
}

/* WAIT/FWAIT: #NM only when both MP and TS are set (SDM Table 2-2). */
static void op_wait(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    if ((cpu->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        cpu_raise(cpu, EXC_NM, 0);
    check_pending(cpu);
}

/*
 * FXSAVE/FXRSTOR (SDM Vol. 2 FXSAVE, Table 3-53, the 32-bit layout):
 * 512 bytes, 16-byte aligned. Glass has no SSE: MXCSR is stored as its
 * reset value 1F80H with MXCSR_MASK 0, and the XMM area is left as is.
 */
#define FX_SIZE 512u

static uint32_t fx_check(struct cpu *cpu, const struct insn *in, bool write)
{
    uint32_t off = insn_ea(cpu, in);
    int seg = in->seg < SEG_COUNT ? in->seg : SEG_DS;
    if (cpu->cr0 & (CR0_EM | CR0_TS))
        cpu_raise(cpu, EXC_NM, 0);
    if ((cpu->seg[seg].base + off) & 15)
        cpu_raise(cpu, EXC_GP, 0);
    if (write)
        cpu_check_write(cpu, seg, off, FX_SIZE);
    else
        cpu_check_read(cpu, seg, off, FX_SIZE);
    return off;
}

static void op_fxsave(struct cpu *cpu, const struct insn *in)
{
    const struct fpu *f = &cpu->fpu;
    uint32_t off = fx_check(cpu, in, true);
    int seg = in->seg;
    uint8_t ftw = (uint8_t)~f->tag_empty; /* abridged: 1 = in use */

    cpu_write(cpu, seg, off + 0, f->cw, 2);
    cpu_write(cpu, seg, off + 2, sw_read(f), 2);
    cpu_write(cpu, seg, off + 4, ftw, 2); /* byte 5 reserved: 0 */
    cpu_write(cpu, seg, off + 6, f->fop & 0x7ffu, 2);
    cpu_write(cpu, seg, off + 8, f->fip, 4);
    cpu_write(cpu, seg, off + 12, f->fcs, 4);
    cpu_write(cpu, seg, off + 16, f->fdp, 4);
    cpu_write(cpu, seg, off + 20, f->fds, 4);
    cpu_write(cpu, seg, off + 24, 0x1f80, 4); /* MXCSR: no SSE, reset value */
    cpu_write(cpu, seg, off + 28, 0, 4);      /* MXCSR_MASK */
    for (unsigned i = 0; i < 8; i++) {
        uint32_t slot = off + 32 + 16 * i;
        write_f80(cpu, seg, slot, st_get(f, i));
        cpu_write(cpu, seg, slot + 10, 0, 2);
        cpu_write(cpu, seg, slot + 12, 0, 4);
    }
}

static void op_fxrstor(struct cpu *cpu, const struct insn *in)
{
    uint32_t off = fx_check(cpu, in, false);
    int seg = in->seg;
    struct fpu *f = &cpu->fpu;
    struct f80 regs[8];
    uint16_t cw = (uint16_t)cpu_read(cpu, seg, off + 0, 2);
    uint16_t sw = (uint16_t)cpu_read(cpu, seg, off + 2, 2);
    uint8_t ftw = (uint8_t)cpu_read(cpu, seg, off + 4, 1);
    uint16_t fop = (uint16_t)cpu_read(cpu, seg, off + 6, 2);
    uint32_t fip = cpu_read(cpu, seg, off + 8, 4);
    uint16_t fcs = (uint16_t)cpu_read(cpu, seg, off + 12, 2);
    uint32_t fdp = cpu_read(cpu, seg, off + 16, 4);
    uint16_t fds = (uint16_t)cpu_read(cpu, seg, off + 20, 2);
    bool had_error = (f->sw & SW_ES) != 0;

    for (unsigned i = 0; i < 8; i++)
        regs[i] = read_f80(cpu, seg, off + 32 + 16 * i);
    load_cw(cpu, cw);
    f->sw = (uint16_t)(sw & ~SW_TOP);
    f->top = (uint8_t)((sw >> 11) & 7);
    f->fop = fop & 0x7ff;
    f->fip = fip;
    f->fcs = fcs;
    f->fdp = fdp;
    f->fds = fds;
    for (unsigned i = 0; i < 8; i++)
        f->st[phys(f, i)] = regs[i];
    /* The abridged tag says only empty / in use; the full tag of a used
     * register follows its value (SDM FXRSTOR, fpu_tag_word). */
    f->tag_empty = (uint8_t)~ftw;
    f->sw = (uint16_t)((f->sw & ~(SW_ES | SW_B)) | (had_error ? SW_ES : 0));
    sw_update_summary(cpu);
}

const struct op_handler fpu_handlers[] = {
    {OP_X87, fpu_exec},
    {OP_WAIT, op_wait},
    {OP_FXSAVE, op_fxsave},
    {OP_FXRSTOR, op_fxrstor},
    {OP_INVALID, NULL},
};
