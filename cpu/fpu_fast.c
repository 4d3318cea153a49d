/*
 * cpu/fpu_fast.c — specialised handlers for the common x87 forms, chosen
 * once per decoded instruction (cpu_fast_handler, cpu/fastpath.c) by the
 * block cache and the JIT, so that the escape opcode and ModRM are not
 * decoded again at every execution (cpu/fpu.c fpu_exec does that).
 *
 * Each handler does what fpu_exec and the general handler of its form do
 * in the ordinary case: no #NM (CR0.EM, CR0.TS), no pending unmasked
 * exception (ES), no stack fault, cpu->x87_soft clear. Anything else goes
 * to fpu_exec before any state has changed, so the rare cases have one
 * implementation. As in fpu_exec, the instruction and operand pointers
 * (SDM Vol. 1 8.1.8) are set before the memory operand is accessed, and
 * the store forms check their destination before changing anything.
 * The rounding goes through cpu/fpu_arith.h like the general handlers'.
 *
 * tests/unit/test_fpu_host.c runs every form through both handlers and
 * through cpu/fpu_soft.c and compares the whole x87 state.
 */
#include "cpu/fpu_arith.h"

/* ------------------------------------------------------------------ */
/* Common parts                                                        */
/* ------------------------------------------------------------------ */

static inline bool fast_ok(const struct cpu *cpu)
{
    return !(cpu->cr0 & (CR0_EM | CR0_TS)) && !(cpu->fpu.sw & SW_ES) && !cpu->x87_soft;
}

/* FIP, FCS and FOP, as fpu_exec sets them for a non-control instruction. */
static inline void note_insn(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    f->fip = cpu->eip;
    f->fcs = cpu->seg[SEG_CS].sel;
    f->fop = (uint16_t)((((unsigned)in->opcode - 0xd8) & 7) << 8 | in->modrm);
}

/* ... and FDP, FDS for a memory form; returns the operand's offset. */
static inline uint32_t note_mem(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    uint32_t ea = insn_ea_inl(cpu, in);
    note_insn(cpu, in);
    f->fdp = ea;
    f->fds = cpu->seg[in->seg < SEG_COUNT ? in->seg : SEG_DS].sel;
    return ea;
}

/*
 * The host address of `size` bytes at seg:off when the inline path of
 * cpu/internal.h (cpu_read_fast, cpu_write_fast) would take them: a plain
 * data segment within its limit, a TLB hit within one page; then the
 * access cannot fault. NULL otherwise: the caller takes cpu_read64 /
 * cpu_check_write, which make every check.
 */
static inline uint8_t *mem_fast(struct cpu *cpu, int seg, uint32_t off, unsigned size,
                                bool write)
{
    const struct seg *s = &cpu->seg[seg];
    if (!seg_fast_ok(cpu, s, off, size, write ? AR_T_WRITABLE : 0))
        return NULL;
    uint32_t lin = s->base + off;
    const struct tlb_entry *e = &cpu->tlb.e[cpu->cpl == 3][tlb_index(lin)];
    uint32_t tag = write ? e->tag_write : e->tag_read;
    if (tag != (lin & TLB_PAGE_MASK) || (lin & 0xfffu) > 4096u - size)
        return NULL;
    return (uint8_t *)(e->addend + lin);
}

static inline uint64_t read64(struct cpu *cpu, int seg, uint32_t off)
{
    const uint8_t *p = mem_fast(cpu, seg, off, 8, false);
    uint64_t v;
    if (!p)
        return cpu_read64(cpu, seg, off);
    memcpy(&v, p, 8);
    return v;
}

/*
 * Memory reals to extended (SDM Vol. 1 4.2.2, Table 4-3): a normal
 * number or a zero converts exactly and raises nothing: the exponent is
 * re-biased and the fraction gets the explicit integer bit. Denormals,
 * infinities and NaNs (DE, IE for an SNaN) go through cpu/fpu_soft.c,
 * their flags into *pre.
 */
static inline struct f80 load_f64(struct cpu *cpu, uint64_t v, unsigned *pre)
{
    unsigned e = (unsigned)(v >> 52) & 0x7ff;
    uint16_t sign = (uint16_t)((v >> 48) & 0x8000);
    if (e - 1u < 0x7feu)
        return (struct f80){(1ull << 63) | (v << 11), (uint16_t)(sign | (e - 1023 + 16383))};
    if (e == 0 && !(v << 1))
        return (struct f80){0, sign};
    struct fp_ctx c = ctx_of(&cpu->fpu);
    struct f80 r = f80_from_f64(&c, v);
    *pre |= c.flags;
    return r;
}

static inline struct f80 load_f32(struct cpu *cpu, uint32_t v, unsigned *pre)
{
    unsigned e = (v >> 23) & 0xff;
    uint16_t sign = (uint16_t)((v >> 16) & 0x8000);
    if (e - 1u < 0xfeu)
        return (struct f80){(1ull << 63) | ((uint64_t)v << 40), (uint16_t)(sign | (e - 127 + 16383))};
    if (e == 0 && !(v << 1))
        return (struct f80){0, sign};
    struct fp_ctx c = ctx_of(&cpu->fpu);
    struct f80 r = f80_from_f32(&c, v);
    *pre |= c.flags;
    return r;
}

/* Memory formats of the arithmetic and load forms. */
enum { M_R32, M_R64, M_I16, M_I32, M_I64, M_R80 };

/* Reads and converts the memory operand (integers convert exactly). */
static inline struct f80 load_operand(struct cpu *cpu, const struct insn *in, uint32_t ea,
                                      unsigned fmt, unsigned *pre)
{
    int seg = in->seg;
    switch (fmt) {
    case M_R32: return load_f32(cpu, cpu_read_inl(cpu, seg, ea, 4), pre);
    case M_R64: return load_f64(cpu, read64(cpu, seg, ea), pre);
    case M_I16: return f80_from_int((int16_t)cpu_read_inl(cpu, seg, ea, 2));
    case M_I32: return f80_from_int((int32_t)cpu_read_inl(cpu, seg, ea, 4));
    case M_I64: return f80_from_int((int64_t)read64(cpu, seg, ea));
    default: {
        const uint8_t *p = mem_fast(cpu, seg, ea, 10, false);
        struct f80 v;
        if (p) {
            memcpy(&v.sig, p, 8);
            memcpy(&v.sign_exp, p + 8, 2);
        } else {
            v.sig = cpu_read64(cpu, seg, ea);
            v.sign_exp = (uint16_t)cpu_read(cpu, seg, ea + 8, 2);
        }
        return v;
    }
    }
}

/* ------------------------------------------------------------------ */
/* Arithmetic                                                          */
/* ------------------------------------------------------------------ */

/* D8 (to ST(0)), DC (to ST(i)), DE (to ST(i), pop) register forms. */
static inline void arith_reg(struct cpu *cpu, const struct insn *in, unsigned op, bool to_sti,
                             bool pop)
{
    struct fpu *f = &cpu->fpu;
    unsigned r0 = f->top & 7, ri = (f->top + in->rm) & 7;
    unsigned d = to_sti ? ri : r0, s = to_sti ? r0 : ri;
    if (!fast_ok(cpu) || reg_empty(f, r0) || reg_empty(f, ri)) {
        fpu_exec(cpu, in);
        return;
    }
    note_insn(cpu, in);
    struct f80 r;
    if (!fpu_arith(cpu, op, &f->st[d], &f->st[s], 0, &r))
        return;
    reg_set(f, d, r);
    if (pop)
        st_pop(f);
}

/* D8, DC, DA, DE memory forms: ST(0) op m32real/m64real/m32int/m16int,
 * and FCOM/FCOMP (op A_COM, A_COMP). */
static inline void arith_mem(struct cpu *cpu, const struct insn *in, unsigned op, unsigned fmt)
{
    struct fpu *f = &cpu->fpu;
    unsigned r0 = f->top & 7;
    if (!fast_ok(cpu) || reg_empty(f, r0)) {
        fpu_exec(cpu, in);
        return;
    }
    uint32_t ea = note_mem(cpu, in);
    unsigned pre = 0;
    struct f80 m = load_operand(cpu, in, ea, fmt, &pre);
    if (op == A_COM || op == A_COMP) {
        struct fp_ctx c = {.flags = (uint8_t)pre};
        int rel = fpu_compare(cpu, &c, &f->st[r0], &m, false);
        if (!fpu_report(cpu, &c, false))
            return;
        set_compare_cc(f, rel);
        if (op == A_COMP)
            st_pop(f);
        return;
    }
    struct f80 r;
    if (fpu_arith(cpu, op, &f->st[r0], &m, pre, &r))
        reg_set(f, r0, r);
}

#define ARITH_REG_FORMS(op, name)                                                            \
    static void name##_st0_sti(struct cpu *cpu, const struct insn *in)                       \
    {                                                                                        \
        arith_reg(cpu, in, op, false, false);                                                \
    }                                                                                        \
    static void name##_sti_st0(struct cpu *cpu, const struct insn *in)                       \
    {                                                                                        \
        arith_reg(cpu, in, op, true, false);                                                 \
    }                                                                                        \
    static void name##p_sti_st0(struct cpu *cpu, const struct insn *in)                      \
    {                                                                                        \
        arith_reg(cpu, in, op, true, true);                                                  \
    }
ARITH_REG_FORMS(A_ADD, fadd)
ARITH_REG_FORMS(A_MUL, fmul)
ARITH_REG_FORMS(A_SUB, fsub)
ARITH_REG_FORMS(A_SUBR, fsubr)
ARITH_REG_FORMS(A_DIV, fdiv)
ARITH_REG_FORMS(A_DIVR, fdivr)

#define ARITH_MEM_FORMS(op, name)                                                            \
    static void name##_m32(struct cpu *cpu, const struct insn *in)                           \
    {                                                                                        \
        arith_mem(cpu, in, op, M_R32);                                                       \
    }                                                                                        \
    static void name##_m64(struct cpu *cpu, const struct insn *in)                           \
    {                                                                                        \
        arith_mem(cpu, in, op, M_R64);                                                       \
    }                                                                                        \
    static void name##_m16i(struct cpu *cpu, const struct insn *in)                          \
    {                                                                                        \
        arith_mem(cpu, in, op, M_I16);                                                       \
    }                                                                                        \
    static void name##_m32i(struct cpu *cpu, const struct insn *in)                          \
    {                                                                                        \
        arith_mem(cpu, in, op, M_I32);                                                       \
    }
ARITH_MEM_FORMS(A_ADD, fadd)
ARITH_MEM_FORMS(A_MUL, fmul)
ARITH_MEM_FORMS(A_COM, fcom)
ARITH_MEM_FORMS(A_COMP, fcomp)
ARITH_MEM_FORMS(A_SUB, fsub)
ARITH_MEM_FORMS(A_SUBR, fsubr)
ARITH_MEM_FORMS(A_DIV, fdiv)
ARITH_MEM_FORMS(A_DIVR, fdivr)

/* FSQRT, FRNDINT. */
static inline void unary_round(struct cpu *cpu, const struct insn *in, enum host_op op)
{
    struct fpu *f = &cpu->fpu;
    unsigned r0 = f->top & 7;
    if (!fast_ok(cpu) || reg_empty(f, r0)) {
        fpu_exec(cpu, in);
        return;
    }
    note_insn(cpu, in);
    struct f80 r;
    if (fpu_op(cpu, op, &f->st[r0], NULL, 0, &r, NULL))
        reg_set(f, r0, r);
}

static void fsqrt(struct cpu *cpu, const struct insn *in)
{
    unary_round(cpu, in, HOP_SQRT);
}

static void frndint(struct cpu *cpu, const struct insn *in)
{
    unary_round(cpu, in, HOP_RNDINT);
}

/* FCHS, FABS: the sign bit only; C1 cleared (SDM FCHS, FABS). */
static inline void sign_op(struct cpu *cpu, const struct insn *in, uint16_t and_mask,
                           uint16_t xor_mask)
{
    struct fpu *f = &cpu->fpu;
    unsigned r0 = f->top & 7;
    if (!fast_ok(cpu) || reg_empty(f, r0)) {
        fpu_exec(cpu, in);
        return;
    }
    note_insn(cpu, in);
    struct f80 v = reg_get(f, r0);
    v.sign_exp = (uint16_t)((v.sign_exp & and_mask) ^ xor_mask);
    set_c1(f, false);
    reg_set(f, r0, v);
}

static void fchs(struct cpu *cpu, const struct insn *in)
{
    sign_op(cpu, in, 0xffff, 0x8000);
}

static void fabs_(struct cpu *cpu, const struct insn *in)
{
    sign_op(cpu, in, 0x7fff, 0);
}

/* ------------------------------------------------------------------ */
/* Compares                                                            */
/* ------------------------------------------------------------------ */

/* ST(0) compared with ST(i) for the compares below: false when the
 * instruction is done already (the general handler ran it, or an
 * unmasked IE leaves the condition codes and flags as they were, SDM
 * FCOM, FCOMI). */
static inline bool compare_sti(struct cpu *cpu, const struct insn *in, bool quiet, int *rel)
{
    struct fpu *f = &cpu->fpu;
    unsigned r0 = f->top & 7, ri = (f->top + in->rm) & 7;
    if (!fast_ok(cpu) || reg_empty(f, r0) || reg_empty(f, ri)) {
        fpu_exec(cpu, in);
        return false;
    }
    note_insn(cpu, in);
    struct fp_ctx c = {0}; /* f80_compare reads no rounding control */
    *rel = fpu_compare(cpu, &c, &f->st[r0], &f->st[ri], quiet);
    return fpu_report(cpu, &c, false);
}

/* FCOM/FCOMP/FCOMPP ST(i), FUCOM/FUCOMP/FUCOMPP: condition codes. */
static inline void com_reg(struct cpu *cpu, const struct insn *in, bool quiet, unsigned pops)
{
    struct fpu *f = &cpu->fpu;
    int rel;
    if (!compare_sti(cpu, in, quiet, &rel))
        return;
    set_compare_cc(f, rel);
    while (pops--)
        st_pop(f);
}

static void fcom_sti(struct cpu *cpu, const struct insn *in) { com_reg(cpu, in, false, 0); }
static void fcomp_sti(struct cpu *cpu, const struct insn *in) { com_reg(cpu, in, false, 1); }
static void fcompp(struct cpu *cpu, const struct insn *in) { com_reg(cpu, in, false, 2); }
static void fucom_sti(struct cpu *cpu, const struct insn *in) { com_reg(cpu, in, true, 0); }
static void fucomp_sti(struct cpu *cpu, const struct insn *in) { com_reg(cpu, in, true, 1); }
static void fucompp(struct cpu *cpu, const struct insn *in) { com_reg(cpu, in, true, 2); }

/* FCOMI/FCOMIP/FUCOMI/FUCOMIP: ZF PF CF as an unsigned compare would set
 * them, OF SF AF cleared (SDM FCOMI). */
static inline void comi(struct cpu *cpu, const struct insn *in, bool quiet, bool pop)
{
    static const uint32_t flags_of[4] = {
        [0] = FL_ZF, [1] = 0, [2] = FL_ZF | FL_PF | FL_CF, [3] = FL_CF,
    };
    struct fpu *f = &cpu->fpu;
    int rel;
    if (!compare_sti(cpu, in, quiet, &rel))
        return;
    set_c1(f, false);
    flags_set_arith(cpu, flags_of[rel & 3]);
    if (pop)
        st_pop(f);
}

static void fcomi(struct cpu *cpu, const struct insn *in) { comi(cpu, in, false, false); }
static void fcomip(struct cpu *cpu, const struct insn *in) { comi(cpu, in, false, true); }
static void fucomi(struct cpu *cpu, const struct insn *in) { comi(cpu, in, true, false); }
static void fucomip(struct cpu *cpu, const struct insn *in) { comi(cpu, in, true, true); }

/* ------------------------------------------------------------------ */
/* Register moves and constants                                        */
/* ------------------------------------------------------------------ */

/* FLD ST(i): ST(i) read before the push. C1 cleared (SDM FLD). */
static void fld_sti(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    unsigned ri = (f->top + in->rm) & 7, r7 = (f->top + 7) & 7;
    if (!fast_ok(cpu) || reg_empty(f, ri) || !reg_empty(f, r7)) {
        fpu_exec(cpu, in);
        return;
    }
    note_insn(cpu, in);
    struct f80 v = reg_get(f, ri);
    set_c1(f, false);
    f->top = (uint8_t)r7;
    reg_set(f, r7, v);
}

/* FST/FSTP ST(i). */
static inline void fst_sti_op(struct cpu *cpu, const struct insn *in, bool pop)
{
    struct fpu *f = &cpu->fpu;
    unsigned r0 = f->top & 7, ri = (f->top + in->rm) & 7;
    if (!fast_ok(cpu) || reg_empty(f, r0)) {
        fpu_exec(cpu, in);
        return;
    }
    note_insn(cpu, in);
    set_c1(f, false);
    reg_set(f, ri, reg_get(f, r0));
    if (pop)
        st_pop(f);
}

static void fst_sti(struct cpu *cpu, const struct insn *in) { fst_sti_op(cpu, in, false); }
static void fstp_sti(struct cpu *cpu, const struct insn *in) { fst_sti_op(cpu, in, true); }

/* FXCH ST(i). C1 cleared (SDM FXCH). */
static void fxch(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    unsigned r0 = f->top & 7, ri = (f->top + in->rm) & 7;
    if (!fast_ok(cpu) || reg_empty(f, r0) || reg_empty(f, ri)) {
        fpu_exec(cpu, in);
        return;
    }
    note_insn(cpu, in);
    struct f80 a = reg_get(f, r0), b = reg_get(f, ri);
    set_c1(f, false);
    reg_set(f, r0, b);
    reg_set(f, ri, a);
}

/* FLD1, FLDZ: exact constants, so RC does not matter (SDM Vol. 1 8.3.8). */
static inline void load_const(struct cpu *cpu, const struct insn *in, struct f80 v)
{
    struct fpu *f = &cpu->fpu;
    unsigned r7 = (f->top + 7) & 7;
    if (!fast_ok(cpu) || !reg_empty(f, r7)) {
        fpu_exec(cpu, in);
        return;
    }
    note_insn(cpu, in);
    set_c1(f, false);
    f->top = (uint8_t)r7;
    reg_set(f, r7, v);
}

static void fld1(struct cpu *cpu, const struct insn *in)
{
    load_const(cpu, in, (struct f80){1ull << 63, 0x3fff});
}

static void fldz(struct cpu *cpu, const struct insn *in)
{
    load_const(cpu, in, (struct f80){0, 0});
}

/* ------------------------------------------------------------------ */
/* Loads and stores                                                    */
/* ------------------------------------------------------------------ */

/* FLD m32/m64/m80real, FILD m16/m32/m64int. C1 cleared. */
static inline void load_mem(struct cpu *cpu, const struct insn *in, unsigned fmt)
{
    struct fpu *f = &cpu->fpu;
    unsigned r7 = (f->top + 7) & 7;
    if (!fast_ok(cpu) || !reg_empty(f, r7)) {
        fpu_exec(cpu, in);
        return;
    }
    uint32_t ea = note_mem(cpu, in);
    unsigned pre = 0;
    struct f80 v = load_operand(cpu, in, ea, fmt, &pre);
    if (pre) {
        struct fp_ctx c = {.flags = (uint8_t)pre};
        if (!fpu_report(cpu, &c, false))
            return;
    } else {
        set_c1(f, false);
    }
    f->top = (uint8_t)r7;
    reg_set(f, r7, v);
}

static void fld_m32(struct cpu *cpu, const struct insn *in) { load_mem(cpu, in, M_R32); }
static void fld_m64(struct cpu *cpu, const struct insn *in) { load_mem(cpu, in, M_R64); }
static void fld_m80(struct cpu *cpu, const struct insn *in) { load_mem(cpu, in, M_R80); }
static void fild_m16(struct cpu *cpu, const struct insn *in) { load_mem(cpu, in, M_I16); }
static void fild_m32(struct cpu *cpu, const struct insn *in) { load_mem(cpu, in, M_I32); }
static void fild_m64(struct cpu *cpu, const struct insn *in) { load_mem(cpu, in, M_I64); }

/* FST/FSTP m32/m64real, FIST/FISTP m16/m32int, FISTP m64int (op: the
 * rounding of cpu/fpu_arith.h), FSTP m80real (op HOP_ADD: no conversion).
 * The destination is checked before anything changes (SDM: a faulting
 * store leaves the stack as it was). */
static inline void store_mem(struct cpu *cpu, const struct insn *in, enum host_op op,
                             unsigned size, bool pop)
{
    struct fpu *f = &cpu->fpu;
    unsigned r0 = f->top & 7;
    if (!fast_ok(cpu) || reg_empty(f, r0)) {
        fpu_exec(cpu, in);
        return;
    }
    int seg = in->seg;
    uint32_t ea = note_mem(cpu, in);
    uint8_t *p = mem_fast(cpu, seg, ea, size, true);
    if (!p)
        cpu_check_write(cpu, seg, ea, size);
    uint64_t m = 0;
    uint16_t hi = 0;
    if (size == 10) {
        m = f->st[r0].sig;
        hi = f->st[r0].sign_exp;
        set_c1(f, false);
    } else if (!fpu_op(cpu, op, &f->st[r0], NULL, 0, NULL, &m)) {
        return;
    }
    if (p) {
        memcpy(p, &m, size < 8 ? size : 8);
        if (size == 10)
            memcpy(p + 8, &hi, 2);
    } else if (size <= 4) {
        cpu_write(cpu, seg, ea, (uint32_t)m, size);
    } else {
        cpu_write64(cpu, seg, ea, m);
        if (size == 10)
            cpu_write(cpu, seg, ea + 8, hi, 2);
    }
    if (pop)
        st_pop(f);
}

#define STORE_FORMS(name, op, size)                                                          \
    static void name(struct cpu *cpu, const struct insn *in)                                 \
    {                                                                                        \
        store_mem(cpu, in, op, size, false);                                                 \
    }                                                                                        \
    static void name##p(struct cpu *cpu, const struct insn *in)                              \
    {                                                                                        \
        store_mem(cpu, in, op, size, true);                                                  \
    }
STORE_FORMS(fst_m32, HOP_F32, 4)
STORE_FORMS(fst_m64, HOP_F64, 8)
STORE_FORMS(fist_m16, HOP_I16, 2)
STORE_FORMS(fist_m32, HOP_I32, 4)

static void fistp_m64(struct cpu *cpu, const struct insn *in)
{
    store_mem(cpu, in, HOP_I64, 8, true);
}

static void fstp_m80(struct cpu *cpu, const struct insn *in)
{
    store_mem(cpu, in, HOP_ADD, 10, true);
}

/* ------------------------------------------------------------------ */
/* Control instructions: no pending-exception check, pointers kept     */
/* ------------------------------------------------------------------ */

static void fnstsw_ax(struct cpu *cpu, const struct insn *in)
{
    if (!fast_ok(cpu)) {
        fpu_exec(cpu, in);
        return;
    }
    reg_write(cpu, R_EAX, 2, sw_read(&cpu->fpu));
}

static void fnstcw(struct cpu *cpu, const struct insn *in)
{
    if (!fast_ok(cpu)) {
        fpu_exec(cpu, in);
        return;
    }
    cpu_write_inl(cpu, in->seg, insn_ea_inl(cpu, in), cpu->fpu.cw, 2);
}

static void fldcw(struct cpu *cpu, const struct insn *in)
{
    if (!fast_ok(cpu)) {
        fpu_exec(cpu, in);
        return;
    }
    uint16_t v = (uint16_t)cpu_read_inl(cpu, in->seg, insn_ea_inl(cpu, in), 2);
    cpu->fpu.cw = (uint16_t)((v & CW_WRITABLE) | CW_FIXED1);
    sw_update_summary(cpu);
}

/* ------------------------------------------------------------------ */
/* Selection                                                           */
/* ------------------------------------------------------------------ */

#define ROW8(base, fn)                                                                       \
    [(base) + 0] = fn, [(base) + 1] = fn, [(base) + 2] = fn, [(base) + 3] = fn,              \
    [(base) + 4] = fn, [(base) + 5] = fn, [(base) + 6] = fn, [(base) + 7] = fn

/* Register forms, [escape - D8][ModRM & 3F] (SDM Vol. 2 Tables A-8 to
 * A-22, as cpu/fpu.c's reg_forms). */
static const insn_fn reg_fast[8][64] = {
    [0] = {ROW8(0x00, fadd_st0_sti), ROW8(0x08, fmul_st0_sti), ROW8(0x10, fcom_sti),
           ROW8(0x18, fcomp_sti), ROW8(0x20, fsub_st0_sti), ROW8(0x28, fsubr_st0_sti),
           ROW8(0x30, fdiv_st0_sti), ROW8(0x38, fdivr_st0_sti)},
    [1] = {ROW8(0x00, fld_sti), ROW8(0x08, fxch), [0x20] = fchs, [0x21] = fabs_,
           [0x28] = fld1, [0x2e] = fldz, [0x3a] = fsqrt, [0x3c] = frndint},
    [2] = {[0x29] = fucompp},
    [3] = {ROW8(0x28, fucomi), ROW8(0x30, fcomi)},
    /* DC: E0 is FSUBR ST(i), ST(0), E8 FSUB, F0 FDIVR, F8 FDIV */
    [4] = {ROW8(0x00, fadd_sti_st0), ROW8(0x08, fmul_sti_st0), ROW8(0x20, fsubr_sti_st0),
           ROW8(0x28, fsub_sti_st0), ROW8(0x30, fdivr_sti_st0), ROW8(0x38, fdiv_sti_st0)},
    [5] = {ROW8(0x10, fst_sti), ROW8(0x18, fstp_sti), ROW8(0x20, fucom_sti),
           ROW8(0x28, fucomp_sti)},
    [6] = {ROW8(0x00, faddp_sti_st0), ROW8(0x08, fmulp_sti_st0), [0x19] = fcompp,
           ROW8(0x20, fsubrp_sti_st0), ROW8(0x28, fsubp_sti_st0), ROW8(0x30, fdivrp_sti_st0),
           ROW8(0x38, fdivp_sti_st0)},
    [7] = {[0x20] = fnstsw_ax, ROW8(0x28, fucomip), ROW8(0x30, fcomip)},
};

/* Memory forms, [escape - D8][ModRM.reg] (Tables ). */
static const insn_fn mem_fast_forms[8][8] = {
    [0] = {fadd_m32, fmul_m32, fcom_m32, fcomp_m32, fsub_m32, fsubr_m32, fdiv_m32, fdivr_m32},
    [1] = {[0] = fld_m32, [2] = fst_m32, [3] = fst_m32p, [5] = fldcw, [7] = fnstcw},
    [2] = {fadd_m32i, fmul_m32i, fcom_m32i, fcomp_m32i, fsub_m32i, fsubr_m32i, fdiv_m32i,
           fdivr_m32i},
    [3] = {[0] = fild_m32, [2] = fist_m32, [3] = fist_m32p, [5] = fld_m80, [7] = fstp_m80},
    [4] = {fadd_m64, fmul_m64, fcom_m64, fcomp_m64, fsub_m64, fsubr_m64, fdiv_m64, fdivr_m64},
    [5] = {[0] = fld_m64, [2] = fst_m64, [3] = fst_m64p},
    [6] = {fadd_m16i, fmul_m16i, fcom_m16i, fcomp_m16i, fsub_m16i, fsubr_m16i, fdiv_m16i,
           fdivr_m16i},
    [7] = {[0] = fild_m16, [2] = fist_m16, [3] = fist_m16p, [5] = fild_m64, [7] = fistp_m64},
};

insn_fn fpu_fast_handler(const struct insn *in)
{
    unsigned esc = ((unsigned)in->opcode - 0xd8) & 7;
    if (in->op != OP_X87)
        return NULL;
    return in->mod == 3 ? reg_fast[esc][in->modrm & 0x3f] : mem_fast_forms[esc][in->reg & 7];
}
