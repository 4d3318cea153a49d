/*
 * cpu/flags.c — EFLAGS: lazy arithmetic flags and their evaluation.
 *
 * ALU handlers record (op, width, src1, src2, res, aux) with cc_set()
 * instead of computing six flag bits; the bits are derived here only when
 * read. The rules are those of SDM Vol. 1 3.4.3.1 (status flags) and of
 * each instruction's "Flags Affected" section in Vol. 2:
 *   CF  carry out of / borrow into the most significant bit
 *   PF  even parity of the low 8 bits of the result
 *   AF  carry out of / borrow into bit 3 (bit 4 of src1 ^ src2 ^ res)
 *   ZF  result == 0,  SF  most significant bit of the result
 *   OF  signed overflow
 * Recorded values may carry garbage above `width`: everything is masked
 * here, so callers in other files need not mask.
 */
#include "cpu/internal.h"

/* Reserved EFLAGS bits read as 0 (3, 5, 15, 22-31); bit 1 reads as 1
 * (SDM Vol. 1 3.4.3, Figure 3-8). */
#define FL_WRITABLE                                                                        \
    (FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL | FL_NT | FL_RF | FL_VM | FL_AC | FL_VIF |  \
     FL_VIP | FL_ID)

bool parity8(uint32_t v)
{
    /* 0x6996 is the 16-entry table "odd number of bits set" for a nibble. */
    unsigned nib = (v ^ (v >> 4)) & 0xf;
    return !((0x6996u >> nib) & 1);
}

static inline uint32_t sign_bit(unsigned width)
{
    return 1u << (width * 8 - 1);
}

/* Sign-extends the low `width` bytes of v to 32 bits. */
static inline int32_t sext(uint32_t v, unsigned width)
{
    unsigned sh = 32 - width * 8;
    return (int32_t)(v << sh) >> sh;
}

/* CF of a lazy record (op != CC_EAGER, != CC_COUNT). */
static bool lazy_cf(const struct lazy_flags *cc)
{
    uint32_t m = width_mask(cc->width);
    uint32_t a = cc->src1 & m, b = cc->src2 & m, r = cc->res & m;
    switch (cc->op) {
    case CC_ADD:
        return r < a;
    case CC_ADC:
        /* With a carry in, a + b + 1 wraps exactly when r <= a. */
        return cc->aux ? r <= a : r < a;
    case CC_SUB:
        return a < b;
    case CC_SBB:
        return cc->aux ? a <= b : a < b;
    case CC_INC:
    case CC_DEC:
        return cc->aux != 0;
    case CC_HOST:
        return (cc_host_bits(cc->res) & FL_CF) != 0;
    default: /* CC_LOGIC */
        return false;
    }
}

/* OF of a lazy record. */
static bool lazy_of(const struct lazy_flags *cc)
{
    uint32_t a = cc->src1, b = cc->src2, r = cc->res;
    uint32_t s = sign_bit(cc->width);
    switch (cc->op) {
    case CC_ADD:
    case CC_ADC:
        /* Both operands' signs differ from the result's (SDM Vol. 1 4.2.2 / 7.3.2). */
        return ((a ^ r) & (b ^ r) & s) != 0;
    case CC_SUB:
    case CC_SBB:
        return ((a ^ b) & (a ^ r) & s) != 0;
    case CC_INC:
        return (r & width_mask(cc->width)) == s;
    case CC_DEC:
        return (r & width_mask(cc->width)) == s - 1;
    case CC_HOST:
        return (cc_host_bits(r) & FL_OF) != 0;
    default:
        return false;
    }
}

/* AF of a lazy record: the carry into bit 4. INC/DEC add/subtract 1. */
static bool lazy_af(const struct lazy_flags *cc)
{
    switch (cc->op) {
    case CC_LOGIC:
        return false; /* undefined for logic ops (SDM AND/OR/XOR/TEST); Glass uses 0 */
    case CC_HOST:
        return (cc_host_bits(cc->res) & FL_AF) != 0;
    case CC_INC:
    case CC_DEC:
        return ((cc->src1 ^ cc->res) & 0x10) != 0;
    default:
        return ((cc->src1 ^ cc->src2 ^ cc->res) & 0x10) != 0;
    }
}

static uint32_t lazy_arith(const struct lazy_flags *cc)
{
    if (cc->op == CC_HOST)
        return cc_host_bits(cc->res);
    uint32_t r = cc->res & width_mask(cc->width);
    uint32_t f = 0;
    if (lazy_cf(cc))
        f |= FL_CF;
    if (parity8(r))
        f |= FL_PF;
    if (lazy_af(cc))
        f |= FL_AF;
    if (r == 0)
        f |= FL_ZF;
    if (r & sign_bit(cc->width))
        f |= FL_SF;
    if (lazy_of(cc))
        f |= FL_OF;
    return f;
}

uint32_t flags_arith(struct cpu *cpu)
{
    if (cpu->cc.op == CC_EAGER)
        return cpu->eflags & FL_ARITH;
    return lazy_arith(&cpu->cc);
}

void flags_materialize(struct cpu *cpu)
{
    if (cpu->cc.op == CC_EAGER)
        return;
    cpu->eflags = (cpu->eflags & ~FL_ARITH) | lazy_arith(&cpu->cc);
    cpu->cc.op = CC_EAGER;
}

void flags_set_arith(struct cpu *cpu, uint32_t bits)
{
    cpu->eflags = (cpu->eflags & ~FL_ARITH) | (bits & FL_ARITH);
    cpu->cc.op = CC_EAGER;
}

bool flags_af(struct cpu *cpu)
{
    if (cpu->cc.op == CC_EAGER)
        return (cpu->eflags & FL_AF) != 0;
    return lazy_af(&cpu->cc);
}

bool flags_cf(struct cpu *cpu)
{
    if (cpu->cc.op == CC_EAGER)
        return (cpu->eflags & FL_CF) != 0;
    return lazy_cf(&cpu->cc);
}

/*
 * The eight base conditions (SDM Vol. 1 Appendix B, Table B-1), indexed
 * by cond >> 1; bit 0 of cond negates. Evaluated from eager bits.
 */
static bool cond_from_bits(uint32_t f, unsigned base)
{
    bool sf_ne_of = !(f & FL_SF) != !(f & FL_OF);
    switch (base) {
    case 0: return (f & FL_OF) != 0;                    /* O */
    case 1: return (f & FL_CF) != 0;                    /* B */
    case 2: return (f & FL_ZF) != 0;                    /* E */
    case 3: return (f & (FL_CF | FL_ZF)) != 0;          /* BE */
    case 4: return (f & FL_SF) != 0;                    /* S */
    case 5: return (f & FL_PF) != 0;                    /* P */
    case 6: return sf_ne_of;                            /* L */
    default: return sf_ne_of || (f & FL_ZF) != 0;       /* LE */
    }
}

/*
 * Conditions straight from a lazy record, without building EFLAGS: the
 * common CMP/SUB + Jcc pairs compare the operands themselves, and every
 * op gets ZF, SF and PF from the result.
 */
static bool cond_lazy(const struct lazy_flags *cc, unsigned base)
{
    if (cc->op == CC_HOST)
        return cond_from_bits(cc_host_bits(cc->res), base);
    unsigned w = cc->width;
    uint32_t m = width_mask(w);
    uint32_t r = cc->res & m;
    if (cc->op == CC_SUB) {
        uint32_t a = cc->src1 & m, b = cc->src2 & m;
        switch (base) {
        case 1: return a < b;                           /* B: unsigned below */
        case 3: return a <= b;                          /* BE */
        case 6: return sext(a, w) < sext(b, w);         /* L: signed less */
        case 7: return sext(a, w) <= sext(b, w);        /* LE */
        default: break;
        }
    }
    switch (base) {
    case 0: return lazy_of(cc);
    case 1: return lazy_cf(cc);
    case 2: return r == 0;
    case 3: return r == 0 || lazy_cf(cc);
    case 4: return (r & sign_bit(w)) != 0;
    case 5: return parity8(r);
    case 6: return ((r & sign_bit(w)) != 0) != lazy_of(cc);
    default: return r == 0 || ((r & sign_bit(w)) != 0) != lazy_of(cc);
    }
}

bool flags_cond(struct cpu *cpu, unsigned cond)
{
    unsigned base = (cond >> 1) & 7;
    bool t = cpu->cc.op == CC_EAGER ? cond_from_bits(cpu->eflags, base)
                                    : cond_lazy(&cpu->cc, base);
    return t != (cond & 1);
}

void flags_write(struct cpu *cpu, uint32_t val, uint32_t mask)
{
    /* Bits outside `mask` keep their value, arithmetic ones included, so
     * the lazy state must be made concrete first. */
    flags_materialize(cpu);
    mask &= FL_WRITABLE;
    cpu->eflags = (cpu->eflags & ~mask) | (val & mask);
    cpu->eflags = (cpu->eflags & FL_WRITABLE) | FL_FIXED1;
}

uint32_t cpu_get_eflags(struct cpu *cpu)
{
    return (cpu->eflags & ~FL_ARITH) | flags_arith(cpu) | FL_FIXED1;
}
