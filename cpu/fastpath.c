/*
 * cpu/fastpath.c — specialised handlers for the hottest operation and
 * operand forms, chosen once when the block cache builds a block
 * (translate/tb.c calls cpu_fast_handler for each decoded instruction).
 *
 * Each one does exactly what the general handler of its operation does
 * for that form (same order of accesses, same lazy-flag record), minus
 * the switches on operand kind and width that the form makes constant.
 * The careful one-instruction path keeps the general handlers, and the
 * difftest alternates between both paths, so each form is compared with
 * the host CPU through both.
 *
 * Measured (bench, see docs/ARCHITECTURE.md "The block cache").
 */
#include "cpu/internal.h"

static inline bool is_reg32(const struct operand *o)
{
    return o->kind == OPND_REG && o->width == 4;
}

static inline bool is_mem(const struct operand *o)
{
    return o->kind == OPND_MEM;
}

/* ------------------------------------------------------------------ */
/* MOV, LEA                                                            */
/* ------------------------------------------------------------------ */

static void mov_r32_r32(struct cpu *cpu, const struct insn *in)
{
    cpu->regs[in->dst.reg] = cpu->regs[in->src.reg];
}

static void mov_r32_imm(struct cpu *cpu, const struct insn *in)
{
    cpu->regs[in->dst.reg] = in->imm;
}

/* Register <-> memory of any width: reg_read/reg_write handle AH-BH. */
static void mov_reg_mem(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    reg_write(cpu, in->dst.reg, w, cpu_read_inl(cpu, in->seg, insn_ea_inl(cpu, in), w));
}

static void mov_mem_reg(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    cpu_write_inl(cpu, in->seg, insn_ea_inl(cpu, in), reg_read(cpu, in->src.reg, w), w);
}

static void mov_mem_imm(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    cpu_write_inl(cpu, in->seg, insn_ea_inl(cpu, in), in->imm & width_mask(w), w);
}

static void lea_r32(struct cpu *cpu, const struct insn *in)
{
    cpu->regs[in->dst.reg] = insn_ea_inl(cpu, in);
}

/* ------------------------------------------------------------------ */
/* Two-operand ALU, 32 bits (cpu/alu.c semantics)                      */
/* ------------------------------------------------------------------ */

#define ALU_FORMS(name, expr, ccop, writes, logic)                                         \
    static void name##_rr(struct cpu *cpu, const struct insn *in)                          \
    {                                                                                      \
        uint32_t a = cpu->regs[in->dst.reg], b = cpu->regs[in->src.reg];                   \
        uint32_t r = (expr);                                                               \
        if (writes)                                                                        \
            cpu->regs[in->dst.reg] = r;                                                    \
        cc_set(cpu, ccop, 4, logic ? 0 : a, logic ? 0 : b, r, 0);                          \
    }                                                                                      \
    static void name##_ri(struct cpu *cpu, const struct insn *in)                          \
    {                                                                                      \
        uint32_t a = cpu->regs[in->dst.reg], b = in->imm;                                  \
        uint32_t r = (expr);                                                               \
        if (writes)                                                                        \
            cpu->regs[in->dst.reg] = r;                                                    \
        cc_set(cpu, ccop, 4, logic ? 0 : a, logic ? 0 : b, r, 0);                          \
    }                                                                                      \
    static void name##_rm(struct cpu *cpu, const struct insn *in)                          \
    {                                                                                      \
        uint32_t a = cpu->regs[in->dst.reg];                                               \
        uint32_t b = cpu_read_inl(cpu, in->seg, insn_ea_inl(cpu, in), 4);                          \
        uint32_t r = (expr);                                                               \
        if (writes)                                                                        \
            cpu->regs[in->dst.reg] = r;                                                    \
        cc_set(cpu, ccop, 4, logic ? 0 : a, logic ? 0 : b, r, 0);                          \
    }

ALU_FORMS(add, a + b, CC_ADD, true, false)
ALU_FORMS(sub, a - b, CC_SUB, true, false)
ALU_FORMS(cmp, a - b, CC_SUB, false, false)
ALU_FORMS(and, a & b, CC_LOGIC, true, true)
ALU_FORMS(or, a | b, CC_LOGIC, true, true)
ALU_FORMS(xor, a ^ b, CC_LOGIC, true, true)
ALU_FORMS(test, a & b, CC_LOGIC, false, true)

/* CMP m32, r32 / imm: read-only, so one read. */
static void cmp_m32_r32(struct cpu *cpu, const struct insn *in)
{
    uint32_t a = cpu_read_inl(cpu, in->seg, insn_ea_inl(cpu, in), 4);
    uint32_t b = cpu->regs[in->src.reg];
    cc_set(cpu, CC_SUB, 4, a, b, a - b, 0);
}

static void cmp_m32_imm(struct cpu *cpu, const struct insn *in)
{
    uint32_t a = cpu_read_inl(cpu, in->seg, insn_ea_inl(cpu, in), 4);
    uint32_t b = in->imm;
    cc_set(cpu, CC_SUB, 4, a, b, a - b, 0);
}

/* CMP m, r / m, imm of any width: read-only, so one read. */
static void cmp_m_r(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t m = width_mask(w);
    uint32_t a = cpu_read_inl(cpu, in->seg, insn_ea_inl(cpu, in), w);
    uint32_t b = reg_read(cpu, in->src.reg, w) & m;
    cc_set(cpu, CC_SUB, w, a, b, (a - b) & m, 0);
}

static void cmp_m_imm(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t m = width_mask(w);
    uint32_t a = cpu_read_inl(cpu, in->seg, insn_ea_inl(cpu, in), w);
    uint32_t b = in->imm & m;
    cc_set(cpu, CC_SUB, w, a, b, (a - b) & m, 0);
}

/* Read-modify-write ALU on m32: read, compute, write (which may fault:
 * nothing is committed before it), then the flags. */
#define ALU_MEM_FORMS(name, expr, ccop, logic)                                             \
    static void name##_mr(struct cpu *cpu, const struct insn *in)                          \
    {                                                                                      \
        uint32_t ea = insn_ea_inl(cpu, in);                                                \
        uint32_t a = cpu_read_inl(cpu, in->seg, ea, 4), b = cpu->regs[in->src.reg];        \
        uint32_t r = (expr);                                                               \
        cpu_write_inl(cpu, in->seg, ea, r, 4);                                             \
        cc_set(cpu, ccop, 4, logic ? 0 : a, logic ? 0 : b, r, 0);                          \
    }                                                                                      \
    static void name##_mi(struct cpu *cpu, const struct insn *in)                          \
    {                                                                                      \
        uint32_t ea = insn_ea_inl(cpu, in);                                                \
        uint32_t a = cpu_read_inl(cpu, in->seg, ea, 4), b = in->imm;                       \
        uint32_t r = (expr);                                                               \
        cpu_write_inl(cpu, in->seg, ea, r, 4);                                             \
        cc_set(cpu, ccop, 4, logic ? 0 : a, logic ? 0 : b, r, 0);                          \
    }

ALU_MEM_FORMS(add_m32, a + b, CC_ADD, false)
ALU_MEM_FORMS(sub_m32, a - b, CC_SUB, false)
ALU_MEM_FORMS(and_m32, a & b, CC_LOGIC, true)
ALU_MEM_FORMS(or_m32, a | b, CC_LOGIC, true)
ALU_MEM_FORMS(xor_m32, a ^ b, CC_LOGIC, true)

/* MOVZX r32, r/m8 / r/m16. */
static void movzx_r32_mem(struct cpu *cpu, const struct insn *in)
{
    cpu->regs[in->dst.reg] = cpu_read_inl(cpu, in->seg, insn_ea_inl(cpu, in), in->src.width);
}

static void movzx_r32_reg(struct cpu *cpu, const struct insn *in)
{
    cpu->regs[in->dst.reg] = reg_read(cpu, in->src.reg, in->src.width);
}

/* INC/DEC keep CF: the old CF rides in aux (cpu/alu.c). */
static void inc_r32(struct cpu *cpu, const struct insn *in)
{
    uint32_t a = cpu->regs[in->dst.reg];
    bool cf = flags_cf(cpu);
    cpu->regs[in->dst.reg] = a + 1;
    cc_set(cpu, CC_INC, 4, a, 1, a + 1, cf);
}

static void dec_r32(struct cpu *cpu, const struct insn *in)
{
    uint32_t a = cpu->regs[in->dst.reg];
    bool cf = flags_cf(cpu);
    cpu->regs[in->dst.reg] = a - 1;
    cc_set(cpu, CC_DEC, 4, a, 1, a - 1, cf);
}

/* ------------------------------------------------------------------ */
/* Jcc (cpu/control.c semantics)                                       */
/* ------------------------------------------------------------------ */

/*
 * After a 32-bit CMP/SUB or logic operation the condition follows from
 * the recorded operands without building flags (SDM Vol. 1 Appendix B,
 * Table B-1); every other case, parity and overflow included, asks
 * flags_cond.
 */
static inline bool jcc_taken(struct cpu *cpu, unsigned cond)
{
    const struct lazy_flags *cc = &cpu->cc;
    unsigned base = (cond >> 1) & 7;
    if (cc->width == 4 && (base == 1 || base == 2 || base == 3 || base == 4 || base == 6 ||
                           base == 7)) {
        uint32_t r = cc->res;
        bool t;
        if (cc->op == CC_SUB) {
            uint32_t a = cc->src1, b = cc->src2;
            switch (base) {
            case 1: t = a < b; break;
            case 2: t = r == 0; break;
            case 3: t = a <= b; break;
            case 4: t = (int32_t)r < 0; break;
            case 6: t = (int32_t)a < (int32_t)b; break;
            default: t = (int32_t)a <= (int32_t)b; break;
            }
            return t != (cond & 1);
        }
        if (cc->op == CC_LOGIC) { /* CF = OF = 0 */
            switch (base) {
            case 1: t = false; break;
            case 2: case 3: t = r == 0; break;
            case 4: case 6: t = (int32_t)r < 0; break;
            default: t = r == 0 || (int32_t)r < 0; break;
            }
            return t != (cond & 1);
        }
    }
    return flags_cond(cpu, cond);
}

static void jcc_rel(struct cpu *cpu, const struct insn *in)
{
    if (jcc_taken(cpu, in->cond)) {
        uint32_t t = cpu->next_eip + in->imm;
        if (in->opsize == 2)
            t &= 0xffff;
        if (t > cpu->seg[SEG_CS].limit)
            cpu_raise(cpu, EXC_GP, 0);
        cpu->next_eip = t;
    }
}

/* ------------------------------------------------------------------ */
/* SHL, SHR, SAR r32 (cpu/shift.c semantics and undefined-flag choices) */
/* ------------------------------------------------------------------ */

/* The count operand: Ib, the constant 1 or CL, masked to 5 bits. */
static inline unsigned shift_count32(const struct cpu *cpu, const struct insn *in)
{
    switch (in->src.kind) {
    case OPND_IMM: return in->imm & 0x1f;
    case OPND_ONE: return 1;
    default: return reg_read(cpu, in->src.reg, in->src.width) & 0x1f;
    }
}

/* SF, ZF, PF of a 32-bit result, CF and OF as given; AF kept. On an
 * x86-64 host AF and (counts other than 1) OF are the host's, as in
 * cpu/shift.c: `a` is the operand before the shift. */
static inline void shift_flags32(struct cpu *cpu, enum op op, uint32_t a, unsigned c, uint32_t r,
                                 bool cf, bool of)
{
    uint32_t f = (r >> 31 ? FL_SF : 0) | (r == 0 ? FL_ZF : 0) | (parity8(r) ? FL_PF : 0) |
                 (cf ? FL_CF : 0) | (of ? FL_OF : 0);
#if GLASS_HOST_FLAGS
    uint32_t old = flags_arith(cpu);
    f = flags_merge(f | (old & FL_AF), host_flags_shift(op, 4, a, c, old),
                    shift_undefined_flags(op, c, 32));
#else
    (void)op, (void)a, (void)c;
    f |= flags_af(cpu) ? FL_AF : 0;
#endif
    flags_set_arith(cpu, f);
}

static void shl_r32(struct cpu *cpu, const struct insn *in)
{
    unsigned c = shift_count32(cpu, in);
    if (c == 0)
        return;
    uint32_t a = cpu->regs[in->dst.reg];
    uint64_t t = (uint64_t)a << c;
    uint32_t r = (uint32_t)t;
    bool cf = (t >> 32) & 1;
    cpu->regs[in->dst.reg] = r;
    shift_flags32(cpu, OP_SHL, a, c, r, cf, (r >> 31) ^ cf);
}

static void shr_r32(struct cpu *cpu, const struct insn *in)
{
    unsigned c = shift_count32(cpu, in);
    if (c == 0)
        return;
    uint32_t a = cpu->regs[in->dst.reg];
    uint32_t r = a >> c;
    bool cf = (a >> (c - 1)) & 1;
    cpu->regs[in->dst.reg] = r;
    shift_flags32(cpu, OP_SHR, a, c, r, cf, ((r >> 31) ^ (r >> 30)) & 1);
}

static void sar_r32(struct cpu *cpu, const struct insn *in)
{
    unsigned c = shift_count32(cpu, in);
    if (c == 0)
        return;
    int32_t s = (int32_t)cpu->regs[in->dst.reg];
    uint32_t r = (uint32_t)(s >> c);
    bool cf = (s >> (c - 1)) & 1;
    cpu->regs[in->dst.reg] = r;
    shift_flags32(cpu, OP_SAR, (uint32_t)s, c, r, cf, false);
}

/* ------------------------------------------------------------------ */
/* PUSH, POP, CALL, RET with a 32-bit stack (cpu/stack.c, control.c)   */
/* ------------------------------------------------------------------ */

/* With SS.B set the stack pointer is all of ESP; a 16-bit stack takes
 * the general handler. */
static void push_r32(struct cpu *cpu, const struct insn *in)
{
    if (!cpu->stack32) {
        cpu_insn_handler(OP_PUSH)(cpu, in);
        return;
    }
    uint32_t sp = cpu->regs[R_ESP] - 4;
    cpu_write_inl(cpu, SEG_SS, sp, cpu->regs[in->dst.reg], 4);
    cpu->regs[R_ESP] = sp;
}

static void pop_r32(struct cpu *cpu, const struct insn *in)
{
    if (!cpu->stack32) {
        cpu_insn_handler(OP_POP)(cpu, in);
        return;
    }
    uint32_t sp = cpu->regs[R_ESP];
    uint32_t v = cpu_read_inl(cpu, SEG_SS, sp, 4);
    cpu->regs[R_ESP] = sp + 4; /* then the value: POP ESP loads the popped value */
    cpu->regs[in->dst.reg] = v;
}

static void call_rel32(struct cpu *cpu, const struct insn *in)
{
    if (!cpu->stack32) {
        cpu_insn_handler(OP_CALL)(cpu, in);
        return;
    }
    uint32_t t = cpu->next_eip + in->imm;
    if (t > cpu->seg[SEG_CS].limit)
        cpu_raise(cpu, EXC_GP, 0);
    uint32_t sp = cpu->regs[R_ESP] - 4;
    cpu_write_inl(cpu, SEG_SS, sp, cpu->next_eip, 4);
    cpu->regs[R_ESP] = sp;
    cpu->next_eip = t;
}

static void ret_near32(struct cpu *cpu, const struct insn *in)
{
    if (!cpu->stack32) {
        cpu_insn_handler(OP_RET)(cpu, in);
        return;
    }
    uint32_t sp = cpu->regs[R_ESP];
    uint32_t t = cpu_read_inl(cpu, SEG_SS, sp, 4);
    if (t > cpu->seg[SEG_CS].limit)
        cpu_raise(cpu, EXC_GP, 0);
    cpu->regs[R_ESP] = sp + 4;
    cpu->next_eip = t;
}

/* ------------------------------------------------------------------ */
/* CMP/TEST + Jcc pairs                                                 */
/* ------------------------------------------------------------------ */

/*
 * A block ending in CMP or TEST and a Jcc runs the pair as one handler
 * (the block cache then runs the Jcc's entry no more). Between the two
 * the loop would only retire the first and check for exits that a
 * compare cannot cause (it writes no memory and touches no device), so
 * the pair does exactly that itself: it retires the compare, moves EIP
 * to the Jcc (a #GP from the Jcc's target reports the Jcc) and runs the
 * Jcc, which lies right after it in the block.
 */
static inline void then_jcc(struct cpu *cpu, const struct insn *jcc)
{
    cpu->eip = cpu->next_eip;
    cpu->icount++;
    uint32_t fallthrough = cpu->eip + jcc->len;
    if (!cpu->code32)
        fallthrough &= 0xffff;
    cpu->next_eip = fallthrough;
    jcc_rel(cpu, jcc);
}

#define PAIR_WITH_JCC(first)                                                               \
    static void first##_jcc(struct cpu *cpu, const struct insn *in)                        \
    {                                                                                      \
        first(cpu, in);                                                                    \
        then_jcc(cpu, in + 1);                                                             \
    }

PAIR_WITH_JCC(cmp_rr)
PAIR_WITH_JCC(cmp_ri)
PAIR_WITH_JCC(cmp_rm)
PAIR_WITH_JCC(cmp_m32_r32)
PAIR_WITH_JCC(cmp_m32_imm)
PAIR_WITH_JCC(test_rr)
PAIR_WITH_JCC(test_ri)
PAIR_WITH_JCC(test_rm)
PAIR_WITH_JCC(cmp_m_r)
PAIR_WITH_JCC(cmp_m_imm)

insn_fn cpu_fast_pair(insn_fn first, const struct insn *second)
{
    static const struct {
        insn_fn alone, paired;
    } pairs[] = {
        { cmp_rr, cmp_rr_jcc },           { cmp_ri, cmp_ri_jcc },
        { cmp_rm, cmp_rm_jcc },           { cmp_m32_r32, cmp_m32_r32_jcc },
        { cmp_m32_imm, cmp_m32_imm_jcc }, { test_rr, test_rr_jcc },
        { test_ri, test_ri_jcc },         { test_rm, test_rm_jcc },
        { cmp_m_r, cmp_m_r_jcc },         { cmp_m_imm, cmp_m_imm_jcc },
    };
    if (second->fn != jcc_rel)
        return NULL;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        if (pairs[i].alone == first)
            return pairs[i].paired;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Selection                                                           */
/* ------------------------------------------------------------------ */

struct alu_forms {
    uint16_t op;
    insn_fn rr, ri, rm;
};

static const struct alu_forms alu_forms[] = {
    { OP_ADD, add_rr, add_ri, add_rm },  { OP_SUB, sub_rr, sub_ri, sub_rm },
    { OP_CMP, cmp_rr, cmp_ri, cmp_rm },  { OP_AND, and_rr, and_ri, and_rm },
    { OP_OR, or_rr, or_ri, or_rm },      { OP_XOR, xor_rr, xor_ri, xor_rm },
    { OP_TEST, test_rr, test_ri, test_rm },
};

insn_fn cpu_fast_handler(const struct insn *in)
{
    const struct operand *d = &in->dst, *s = &in->src;
    switch (in->op) {
    case OP_MOV:
        if (is_reg32(d) && is_reg32(s))
            return mov_r32_r32;
        if (is_reg32(d) && s->kind == OPND_IMM && s->width == 4)
            return mov_r32_imm;
        if (d->kind == OPND_REG && is_mem(s) && d->width == s->width && d->width <= 4)
            return mov_reg_mem;
        if (is_mem(d) && s->kind == OPND_REG && d->width == s->width && d->width <= 4)
            return mov_mem_reg;
        if (is_mem(d) && s->kind == OPND_IMM && d->width <= 4)
            return mov_mem_imm;
        break;
    case OP_LEA:
        if (is_reg32(d))
            return lea_r32;
        break;
    case OP_INC:
        if (is_reg32(d))
            return inc_r32;
        break;
    case OP_DEC:
        if (is_reg32(d))
            return dec_r32;
        break;
    case OP_CMP:
        if (is_mem(d) && d->width == 4 && is_reg32(s))
            return cmp_m32_r32;
        if (is_mem(d) && d->width == 4 && s->kind == OPND_IMM)
            return cmp_m32_imm;
        if (is_mem(d) && d->width <= 2 && s->kind == OPND_REG && s->width == d->width)
            return cmp_m_r;
        if (is_mem(d) && d->width <= 2 && s->kind == OPND_IMM)
            return cmp_m_imm;
        break;
    case OP_MOVZX:
        if (is_reg32(d) && is_mem(s) && s->width <= 2)
            return movzx_r32_mem;
        if (is_reg32(d) && s->kind == OPND_REG && s->width <= 2)
            return movzx_r32_reg;
        break;
    case OP_SHL:
    case OP_SAL:
    case OP_SHR:
    case OP_SAR:
        if (is_reg32(d) && (s->kind == OPND_IMM || s->kind == OPND_ONE ||
                            (s->kind == OPND_REG && s->width == 1 && s->reg == R_ECX)))
            return in->op == OP_SHR ? shr_r32 : in->op == OP_SAR ? sar_r32 : shl_r32;
        break;
    case OP_PUSH:
        if (is_reg32(d))
            return push_r32;
        break;
    case OP_POP:
        if (is_reg32(d))
            return pop_r32;
        break;
    case OP_CALL:
        if (d->kind == OPND_IMM && in->opsize == 4)
            return call_rel32;
        break;
    case OP_RET:
        if (d->kind == OPND_NONE && in->opsize == 4)
            return ret_near32;
        break;
    case OP_JCC:
        if (d->kind == OPND_IMM)
            return jcc_rel;
        break;
    case OP_X87: {
        insn_fn x = fpu_fast_handler(in);
        return x ? x : in->fn;
    }
    default:
        break;
    }
    if (is_mem(d) && d->width == 4 && (is_reg32(s) || s->kind == OPND_IMM)) {
        static const struct {
            uint16_t op;
            insn_fn mr, mi;
        } mem_forms[] = {
            { OP_ADD, add_m32_mr, add_m32_mi }, { OP_SUB, sub_m32_mr, sub_m32_mi },
            { OP_AND, and_m32_mr, and_m32_mi }, { OP_OR, or_m32_mr, or_m32_mi },
            { OP_XOR, xor_m32_mr, xor_m32_mi },
        };
        for (size_t i = 0; i < sizeof(mem_forms) / sizeof(mem_forms[0]); i++)
            if (mem_forms[i].op == in->op)
                return s->kind == OPND_IMM ? mem_forms[i].mi : mem_forms[i].mr;
    }
    if (is_reg32(d)) {
        for (size_t i = 0; i < sizeof(alu_forms) / sizeof(alu_forms[0]); i++) {
            if (alu_forms[i].op != in->op)
                continue;
            if (is_reg32(s))
                return alu_forms[i].rr;
            if (s->kind == OPND_IMM)
                return alu_forms[i].ri;
            if (is_mem(s) && s->width == 4)
                return alu_forms[i].rm;
        }
    }
    return in->fn;
}
