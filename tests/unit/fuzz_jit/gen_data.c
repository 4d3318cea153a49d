/*
 * gen_data.c — the data instructions of generated programs
 * (test_fuzz_jit.c): ALU operations, TEST, INC/DEC/NEG/NOT, shifts and
 * rotates, SHLD/SHRD, MUL/IMUL, DIV/IDIV, MOV in every form, MOVZX/MOVSX,
 * LEA, XCHG/XADD/CMPXCHG, bit operations, SETcc/CMOVcc, the one-byte
 * miscellany; the flag readers that follow flag writers, and the choice of
 * one data instruction (fj_gen_data_insn) among these, the stack's
 * (gen_stack.c) and the rare ones (gen_rare.c).
 */
#include <string.h>

#include "fuzz_jit.h"

/* ------------------------------------------------------------------ */
/* Data instructions                                                   */
/* ------------------------------------------------------------------ */

unsigned fj_pick_width(void)
{
    static const uint8_t w[] = { 1, 2, 4, 4, 4 };
    return w[fj_below(sizeof(w))];
}

/* Operand-size prefix argument of fj_emit_op: 0 for byte operations. */
unsigned fj_osz(unsigned w)
{
    return w == 1 ? 0 : w;
}

static uint32_t wmask(unsigned w)
{
    return w == 1 ? 0xffu : w == 2 ? 0xffffu : 0xffffffffu;
}

/* Flags a condition (Jcc order) reads. */
uint32_t fj_cond_flags(unsigned cc)
{
    static const uint16_t base[8] = {
        FL_OF, FL_CF, FL_ZF, FL_CF | FL_ZF, FL_SF, FL_PF, FL_SF | FL_OF, FL_SF | FL_OF | FL_ZF,
    };
    return base[(cc >> 1) & 7];
}

/* The operand of a data instruction: a register (`dst`: one the code
 * may write) or memory (writes or reads, may fault if `unsafe_ok`). */
bool fj_pick_rm(struct gen *g, unsigned w, bool dst, bool mem, bool write, bool unsafe_ok,
                uint32_t avoid, struct rm *o)
{
    if (g->force_base >= 0 && fj_chance(60))
        mem = true; /* a frame run: mostly frame accesses */
    if (mem)
        return fj_make_mem(g, w, write, unsafe_ok, avoid, o);
    int r = dst ? fj_pick_dst(g, w) : (int)fj_below(8);
    if (r < 0)
        return false;
    *o = fj_rm_reg((unsigned)r);
    return true;
}

void fj_clobber_rm(struct gen *g, const struct rm *o, unsigned w)
{
    if (!o->mem)
        fj_clobber_sized(g, o->reg, w);
}

/* Before an instruction reading `reads`, with a memory operand `o` (or
 * NULL) and `faults` if it may fault by itself. */
void fj_before(struct gen *g, uint32_t reads, const struct rm *o, bool faults)
{
    if (faults || (o && o->mem && o->unsafe))
        reads = F_ALL;
    fj_need_flags(g, reads);
}

/* ADD OR ADC SBB AND SUB XOR CMP (op: their group-1 number) in every
 * form. */
static void gen_alu2_op(struct gen *g, unsigned op)
{
    unsigned w = fj_pick_width();
    bool writes = op != 7;
    uint32_t reads = (op == 2 || op == 3) ? FL_CF : 0;
    unsigned form = fj_below(6);
    struct rm o;
    int r;
    switch (form) {
    case 0: /* r/m(reg), reg */
    case 2: { /* r/m(mem), reg */
        if (!fj_pick_rm(g, w, writes, form == 2, writes, true, 0, &o))
            return;
        r = (int)fj_below(8);
        fj_before(g, reads, &o, false);
        fj_ins_begin(g);
        uint8_t opc = (uint8_t)(op * 8 + (w > 1));
        fj_emit_op(g, fj_osz(w), &opc, 1, (unsigned)r, &o, 0, 0);
        fj_ins_end(g);
        if (writes)
            fj_clobber_rm(g, &o, w);
        break;
    }
    case 1: { /* reg, r/m(mem) */
        r = writes ? fj_pick_dst(g, w) : (int)fj_below(8);
        if (r < 0 || !fj_make_mem(g, w, false, true, 0, &o))
            return;
        fj_before(g, reads, &o, false);
        fj_ins_begin(g);
        uint8_t opc = (uint8_t)(op * 8 + 2 + (w > 1));
        fj_emit_op(g, fj_osz(w), &opc, 1, (unsigned)r, &o, 0, 0);
        fj_ins_end(g);
        if (writes)
            fj_clobber_sized(g, (unsigned)r, w);
        break;
    }
    case 3: /* r/m, imm */
    case 4: {
        if (!fj_pick_rm(g, w, writes, form == 4, writes, true, 0, &o))
            return;
        uint32_t imm = fj_value() & wmask(w);
        bool imm8 = w > 1 && fj_chance(50);
        if (imm8)
            imm = (uint32_t)(int32_t)(int8_t)fj_rnd();
        fj_before(g, reads, &o, false);
        fj_ins_begin(g);
        uint8_t opc = w == 1 ? 0x80 : imm8 ? 0x83 : 0x81;
        fj_emit_op(g, fj_osz(w), &opc, 1, op, &o, imm8 ? 1 : w, imm);
        fj_ins_end(g);
        if (writes && !o.mem && w == 4 && fj_reg_known(g, o.reg) && op != 2 && op != 3) {
            uint32_t v = g->val[o.reg];
            switch (op) {
            case 0: v += imm; break;
            case 1: v |= imm; break;
            case 4: v &= imm; break;
            case 5: v -= imm; break;
            default: v ^= imm; break;
            }
            fj_reg_set(g, o.reg, v);
        } else if (writes) {
            fj_clobber_rm(g, &o, w);
        }
        break;
    }
    default: { /* AL/eAX, imm */
        if (writes && !(fj_writable_regs(g) & RBIT(R_EAX)))
            return;
        fj_before(g, reads, NULL, false);
        fj_ins_begin(g);
        fj_emit_prefixes(g, fj_osz(w), NULL, 0);
        fj_b1(g, (uint8_t)(op * 8 + 4 + (w > 1)));
        fj_bimm(g, w, fj_value());
        fj_ins_end(g);
        if (writes)
            fj_clobber(g, R_EAX);
        break;
    }
    }
    fj_flags_written(g, F_ALL, 0);
}

void fj_gen_alu2(struct gen *g)
{
    gen_alu2_op(g, fj_below(8));
}

void fj_gen_test(struct gen *g)
{
    unsigned w = fj_pick_width();
    struct rm o;
    bool mem = fj_chance(40);
    if (!fj_pick_rm(g, w, false, mem, false, true, 0, &o))
        return;
    fj_before(g, 0, &o, false);
    fj_ins_begin(g);
    if (fj_chance(50)) {
        uint8_t opc = (uint8_t)(0x84 + (w > 1));
        fj_emit_op(g, fj_osz(w), &opc, 1, fj_below(8), &o, 0, 0);
    } else if (!mem && o.reg == R_EAX && fj_chance(50)) {
        fj_emit_prefixes(g, fj_osz(w), NULL, 0);
        fj_b1(g, (uint8_t)(0xa8 + (w > 1)));
        fj_bimm(g, w, fj_value());
    } else {
        uint8_t opc = (uint8_t)(0xf6 + (w > 1));
        fj_emit_op(g, fj_osz(w), &opc, 1, 0, &o, w, fj_value());
    }
    fj_ins_end(g);
    fj_flags_written(g, F_ALL, 0);
}

/* INC DEC NEG NOT. */
void fj_gen_unary(struct gen *g)
{
    unsigned k = fj_below(4), w = fj_pick_width();
    struct rm o;
    if (!fj_pick_rm(g, w, true, fj_chance(35), true, true, 0, &o))
        return;
    fj_before(g, 0, &o, false);
    fj_ins_begin(g);
    if (k < 2 && !o.mem && w > 1 && g->code32 == (w == 4) && fj_chance(50)) {
        fj_b1(g, (uint8_t)(0x40 + k * 8 + o.reg)); /* INC/DEC r: 40+r, 48+r */
    } else {
        uint8_t opc = (uint8_t)((k < 2 ? 0xfe : 0xf6) + (w > 1));
        static const uint8_t regf[4] = { 0, 1, 3, 2 };
        fj_emit_op(g, fj_osz(w), &opc, 1, regf[k], &o, 0, 0);
    }
    fj_ins_end(g);
    if (!o.mem && w == 4 && fj_reg_known(g, o.reg)) {
        uint32_t v = g->val[o.reg];
        fj_reg_set(g, o.reg, k == 0 ? v + 1 : k == 1 ? v - 1 : k == 2 ? 0 - v : ~v);
    } else {
        fj_clobber_rm(g, &o, w);
    }
    if (k < 2)
        fj_flags_written(g, F_ALL & ~FL_CF, 0);
    else if (k == 2)
        fj_flags_written(g, F_ALL, 0);
}

/* A shift count: 0, 1, small, at or past the operand size, masked. */
static uint8_t shift_imm(unsigned bits)
{
    switch (fj_below(6)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return (uint8_t)(bits - 1);
    case 3: return (uint8_t)(bits + fj_below(4));
    case 4: return (uint8_t)(32 + fj_below(40));
    default: return (uint8_t)fj_below(32);
    }
}

/* Shifts and rotates by 1, an immediate or CL. */
static void gen_shift(struct gen *g)
{
    unsigned op = fj_below(8), w = fj_pick_width(), bits = w * 8;
    unsigned how = fj_below(3); /* 0: by 1, 1: imm, 2: CL */
    int count = -1;          /* known count, or -1 */
    struct rm o;
    if (how == 2 && (fj_writable_regs(g) & RBIT(R_ECX)) && fj_chance(70)) {
        /* One random draw per statement: the operands of | are unsequenced,
         * and compilers differ in their order (the seed must mean the
         * same program under gcc and clang). */
        uint32_t high = fj_rnd() & ~0xffu;
        fj_set_reg(g, R_ECX, high | shift_imm(bits));
    }
    if (!fj_pick_rm(g, w, true, fj_chance(30), true, true, RBIT(R_ECX), &o))
        return;
    uint8_t imm = shift_imm(bits);
    if (how == 0)
        count = 1;
    else if (how == 1)
        count = imm & 31;
    else if (fj_reg_known(g, R_ECX))
        count = (int)(g->val[R_ECX] & 31);
    bool rot = op < 4;
    uint32_t reads = (op == 2 || op == 3) ? FL_CF : 0;
    fj_before(g, reads, &o, false);
    fj_ins_begin(g);
    uint8_t opc = (uint8_t)((how == 0 ? 0xd0 : how == 1 ? 0xc0 : 0xd2) + (w > 1));
    fj_emit_op(g, fj_osz(w), &opc, 1, op, &o, how == 1 ? 1 : 0, imm);
    fj_ins_end(g);
    fj_clobber_rm(g, &o, w);
    /* A count of zero changes no flag; one not known may be zero. */
    if (count == 0)
        return;
    uint32_t defined = rot ? FL_CF | FL_OF : F_ALL & ~FL_AF, undef = rot ? 0 : FL_AF;
    fj_flags_written(g, count > 0 ? defined : 0, undef);
}

/* SHLD/SHRD by an immediate or CL. */
static void gen_shxd(struct gen *g)
{
    unsigned w = fj_chance(50) ? 2 : 4, right = fj_below(2);
    bool by_cl = fj_chance(50);
    struct rm o;
    int src = (int)fj_below(8);
    /* Counts of 17-31 on 16-bit operands leave result and flags undefined:
     * not while tolerating. */
    unsigned maxc = (w == 2 && g->tolerate) ? 16 : 31;
    uint8_t imm = (uint8_t)fj_below(maxc + 1); /* then the next draw: sequenced */
    imm |= fj_chance(20) ? 32 : 0;
    if (by_cl) {
        if ((fj_writable_regs(g) & RBIT(R_ECX)) && (fj_chance(80) || maxc < 31))
            fj_set_reg(g, R_ECX, (fj_rnd() & ~0xffu) | imm);
        else if (maxc < 31 && !(fj_reg_known(g, R_ECX) && (g->val[R_ECX] & 31) <= maxc))
            return;
    }
    if (!fj_pick_rm(g, w, true, fj_chance(30), true, true, RBIT(R_ECX), &o))
        return;
    /* The count, unless the destination is ECX itself. */
    if (by_cl && !o.mem && o.reg == R_ECX && maxc < 31)
        return;
    int count = by_cl ? (fj_reg_known(g, R_ECX) ? (int)(g->val[R_ECX] & 31) : -1) : imm & 31;
    fj_before(g, 0, &o, false);
    fj_ins_begin(g);
    uint8_t opc[2] = { 0x0f, (uint8_t)(0xa4 + right * 8 + by_cl) };
    fj_emit_op(g, w, opc, 2, (unsigned)src, &o, by_cl ? 0 : 1, imm);
    fj_ins_end(g);
    fj_clobber_rm(g, &o, w);
    /* AF, and OF of a 16-bit SHLD by 16 (fuzz_undef.h) */
    uint32_t u = FL_AF | (w == 2 && !right && (count == 16 || count < 0) ? FL_OF : 0);
    if (count != 0)
        fj_flags_written(g, count > 0 ? F_ALL & ~u : 0, u);
}

/* IMUL r, r/m; IMUL r, r/m, imm; MUL/IMUL r/m. */
static void gen_mul(struct gen *g)
{
    struct rm o;
    if (fj_chance(50)) {
        unsigned w = fj_chance(30) ? 2 : 4;
        int d = fj_pick_dst(g, w);
        if (d < 0 || !fj_pick_rm(g, w, false, fj_chance(35), false, true, 0, &o))
            return;
        unsigned form = fj_below(3);
        uint32_t imm = form == 2 ? (uint32_t)(int8_t)fj_rnd() : fj_value();
        fj_before(g, 0, &o, false);
        fj_ins_begin(g);
        if (form == 0) {
            static const uint8_t opc[2] = { 0x0f, 0xaf };
            fj_emit_op(g, w, opc, 2, (unsigned)d, &o, 0, 0);
        } else {
            uint8_t opc = form == 1 ? 0x69 : 0x6b;
            fj_emit_op(g, w, &opc, 1, (unsigned)d, &o, form == 1 ? w : 1, imm);
        }
        fj_ins_end(g);
        fj_clobber(g, (unsigned)d);
    } else {
        unsigned w = fj_pick_width();
        uint32_t need = RBIT(R_EAX) | (w > 1 ? RBIT(R_EDX) : 0);
        if ((fj_writable_regs(g) & need) != need)
            return;
        if (!fj_pick_rm(g, w, false, fj_chance(35), false, true, 0, &o))
            return;
        fj_before(g, 0, &o, false);
        fj_ins_begin(g);
        uint8_t opc = (uint8_t)(0xf6 + (w > 1));
        fj_emit_op(g, fj_osz(w), &opc, 1, 4 + fj_below(2), &o, 0, 0);
        fj_ins_end(g);
        fj_clobber(g, R_EAX);
        if (w > 1)
            fj_clobber(g, R_EDX);
    }
    /* SF ZF AF PF: undefined by the SDM; the interpreter and this host
     * leave them (fuzz_undef.h) */
    fj_flags_written(g, FL_CF | FL_OF, 0);
}

/* DIV/IDIV with dividends and divisors that mostly fit, sometimes a zero
 * divisor or an overflow (#DE, which the handler skips). */
static void gen_div(struct gen *g)
{
    unsigned w = fj_pick_width(), sgn = fj_below(2);
    uint32_t need = RBIT(R_EAX) | RBIT(R_EDX);
    if ((fj_writable_regs(g) & need) != need || g->real)
        return; /* real mode: no faults (the IVT is not the handler's) */
    struct rm o;
    bool mem = fj_chance(30);
    uint32_t d = 1 + fj_below(w == 1 ? 200 : 60000);
    if (fj_chance(10))
        d = 0;
    int dr = -1;
    if (!mem) {
        uint32_t cand = fj_writable_regs(g) & ~need;
        dr = fj_pick_reg(cand);
        if (dr < 0)
            return;
        if (w == 1 && dr >= 4)
            return; /* AL..BL only: the divisor keeps its value */
        fj_set_reg(g, (unsigned)dr, (fj_rnd() & ~wmask(w)) | d);
        o = fj_rm_reg((unsigned)dr);
    } else if (!fj_make_mem(g, w, false, true, need, &o)) {
        return;
    }
    /* The dividend: high part below the divisor (unsigned), or the sign
     * extension of the low part (signed). */
    uint32_t lo = fj_rnd();
    if (sgn) {
        fj_set_reg(g, R_EAX, lo);
        if (fj_chance(85)) {
            fj_ins_begin(g);
            fj_emit_prefixes(g, fj_osz(w == 1 ? 2 : w), NULL, 0);
            fj_b1(g, w == 1 ? 0x98 : 0x99); /* CBW, or CWD/CDQ */
            fj_ins_end(g);
            fj_clobber(g, w == 1 ? R_EAX : R_EDX);
        } else {
            fj_set_reg(g, R_EDX, fj_rnd());
        }
    } else if (w == 1) {
        uint32_t ah = mem ? (fj_chance(70) ? 0 : fj_below(256))
                          : d ? fj_below(d) : (lo >> 8) & 0xff;
        fj_set_reg(g, R_EAX, (lo & ~0xff00u) | ah << 8);
    } else {
        fj_set_reg(g, R_EDX,
                   mem || fj_chance(10) ? (fj_chance(70) ? 0 : fj_rnd()) : fj_below(d ? d : 1));
        fj_set_reg(g, R_EAX, lo);
    }
    fj_before(g, 0, &o, true);
    fj_ins_begin(g);
    uint8_t opc = (uint8_t)(0xf6 + (w > 1));
    fj_emit_op(g, fj_osz(w), &opc, 1, 6 + sgn, &o, 0, 0);
    fj_ins_end(g);
    fj_clobber(g, R_EAX);
    fj_clobber(g, R_EDX);
    /* All six undefined by the SDM; both engines run DIV in its handler,
     * which leaves them (so they stay what they were). */
}

static void gen_mov(struct gen *g)
{
    unsigned w = fj_pick_width(), form = fj_below(6);
    struct rm o;
    switch (form) {
    case 0: /* r/m <- reg */
        if (!fj_pick_rm(g, w, true, fj_chance(45), true, true, 0, &o))
            return;
        fj_before(g, 0, &o, false);
        fj_ins_begin(g);
        {
            uint8_t opc = (uint8_t)(0x88 + (w > 1));
            unsigned src = fj_below(8);
            fj_emit_op(g, fj_osz(w), &opc, 1, src, &o, 0, 0);
            fj_ins_end(g);
            if (!o.mem && w == 4 && fj_reg_known(g, src))
                fj_reg_set(g, o.reg, g->val[src]);
            else
                fj_clobber_rm(g, &o, w);
        }
        return;
    case 1: { /* reg <- r/m */
        int d = fj_pick_dst(g, w);
        if (d < 0 || !fj_pick_rm(g, w, false, fj_chance(60), false, true, 0, &o))
            return;
        fj_before(g, 0, &o, false);
        fj_ins_begin(g);
        uint8_t opc = (uint8_t)(0x8a + (w > 1));
        fj_emit_op(g, fj_osz(w), &opc, 1, (unsigned)d, &o, 0, 0);
        fj_ins_end(g);
        fj_clobber_sized(g, (unsigned)d, w);
        return;
    }
    case 2: /* r/m <- imm */
        if (!fj_pick_rm(g, w, true, fj_chance(50), true, true, 0, &o))
            return;
        fj_before(g, 0, &o, false);
        fj_ins_begin(g);
        {
            uint8_t opc = (uint8_t)(0xc6 + (w > 1));
            uint32_t v = fj_value() & wmask(w);
            fj_emit_op(g, fj_osz(w), &opc, 1, 0, &o, w, v);
            fj_ins_end(g);
            if (!o.mem && w == 4)
                fj_reg_set(g, o.reg, v);
            else
                fj_clobber_rm(g, &o, w);
        }
        return;
    case 3: { /* reg <- imm (B0+r, B8+r) */
        int d = fj_pick_dst(g, w);
        if (d < 0)
            return;
        uint32_t v = fj_value() & wmask(w);
        fj_ins_begin(g);
        fj_emit_prefixes(g, fj_osz(w), NULL, 0);
        fj_b1(g, (uint8_t)((w == 1 ? 0xb0 : 0xb8) + d));
        fj_bimm(g, w, v);
        fj_ins_end(g);
        if (w == 4)
            fj_reg_set(g, (unsigned)d, v);
        else
            fj_clobber_sized(g, (unsigned)d, w);
        return;
    }
    default: { /* AL/eAX <-> moffs */
        bool store = fj_chance(50);
        if (!store && !(fj_writable_regs(g) & RBIT(R_EAX)))
            return;
        g->force_disp = true;
        bool ok = fj_make_mem(g, w, store, true, 0, &o);
        g->force_disp = false;
        if (!ok)
            return;
        fj_before(g, 0, &o, false);
        fj_ins_begin(g);
        fj_emit_prefixes(g, fj_osz(w), &o, 0);
        fj_b1(g, (uint8_t)(0xa0 + (store ? 2 : 0) + (w > 1)));
        fj_bimm(g, o.a16 ? 2 : 4, o.disp);
        fj_ins_end(g);
        if (!store)
            fj_clobber(g, R_EAX);
        return;
    }
    }
}

static void gen_movx(struct gen *g)
{
    unsigned sw = fj_chance(50) ? 1 : 2, dw = fj_chance(25) ? 2 : 4;
    int d = fj_pick_dst(g, dw);
    struct rm o;
    if (d < 0 || !fj_pick_rm(g, sw, false, fj_chance(40), false, true, 0, &o))
        return;
    fj_before(g, 0, &o, false);
    fj_ins_begin(g);
    uint8_t opc[2] = { 0x0f, (uint8_t)((fj_chance(50) ? 0xb6 : 0xbe) + (sw == 2)) };
    fj_emit_op(g, dw, opc, 2, (unsigned)d, &o, 0, 0);
    fj_ins_end(g);
    fj_clobber(g, (unsigned)d);
}

/* LEA with a random form and whatever the registers hold. */
static void gen_lea(struct gen *g)
{
    unsigned w = fj_chance(20) ? 2 : 4;
    int d = fj_pick_dst(g, w);
    if (d < 0)
        return;
    struct rm o;
    memset(&o, 0, sizeof(o));
    o.seg_prefix = -1;
    bool a16 = g->code32 ? fj_chance(15) : fj_chance(80);
    /* Any registers: pretend all are known so that no setup is made. */
    uint32_t known = g->known;
    bool esp_known = g->esp_known;
    g->known = ALL_REGS;
    g->esp_known = true;
    fj_encode_offset(g, fj_rnd(), a16, ALL_REGS, false, &o);
    g->known = known;
    g->esp_known = esp_known;
    fj_ins_begin(g);
    static const uint8_t opc = 0x8d;
    fj_emit_op(g, w, &opc, 1, (unsigned)d, &o, 0, 0);
    fj_ins_end(g);
    fj_clobber(g, (unsigned)d);
}

/* XCHG, XADD, CMPXCHG, CMPXCHG8B. */
static void gen_xchg(struct gen *g)
{
    unsigned k = fj_below(7), w = fj_pick_width();
    struct rm o;
    if (k == 6) { /* CMPXCHG8B m64 */
        uint32_t need = RBIT(R_EAX) | RBIT(R_EDX);
        if ((fj_writable_regs(g) & need) != need || !fj_make_mem(g, 8, true, true, 0, &o))
            return;
        fj_before(g, 0, &o, false);
        fj_ins_begin(g);
        static const uint8_t opc[2] = { 0x0f, 0xc7 };
        fj_emit_op(g, 0, opc, 2, 1, &o, 0, 0);
        fj_ins_end(g);
        fj_clobber(g, R_EAX);
        fj_clobber(g, R_EDX);
        fj_flags_written(g, FL_ZF, 0);
        return;
    }
    int s = fj_pick_dst(g, w);
    if (s < 0 || !fj_pick_rm(g, w, true, fj_chance(50), true, true, 0, &o))
        return;
    if (k >= 4 && !(fj_writable_regs(g) & RBIT(R_EAX)))
        return;
    fj_before(g, 0, &o, false);
    fj_ins_begin(g);
    if (k < 2) { /* XCHG r/m, r (or 90+r with eAX) */
        if (!o.mem && w == fj_vsize(g) && (o.reg == R_EAX || s == R_EAX) && fj_chance(50)) {
            fj_b1(g, (uint8_t)(0x90 + (o.reg == R_EAX ? (unsigned)s : o.reg)));
        } else {
            uint8_t opc = (uint8_t)(0x86 + (w > 1));
            fj_emit_op(g, fj_osz(w), &opc, 1, (unsigned)s, &o, 0, 0);
        }
    } else {
        uint8_t opc[2] = { 0x0f, (uint8_t)((k < 4 ? 0xc0 : 0xb0) + (w > 1)) };
        fj_emit_op(g, fj_osz(w), opc, 2, (unsigned)s, &o, 0, 0);
    }
    fj_ins_end(g);
    fj_clobber_sized(g, (unsigned)s, w);
    fj_clobber_rm(g, &o, w);
    if (k >= 4)
        fj_clobber(g, R_EAX);
    if (k >= 2)
        fj_flags_written(g, F_ALL, 0);
}

/* BT BTS BTR BTC (register or immediate bit number), BSF, BSR. */
static void gen_bits(struct gen *g)
{
    unsigned w = fj_chance(40) ? 2 : 4;
    struct rm o;
    if (fj_chance(30)) { /* BSF/BSR */
        int d = fj_pick_dst(g, w);
        if (d < 0 || !fj_pick_rm(g, w, false, fj_chance(35), false, true, 0, &o))
            return;
        fj_before(g, 0, &o, false);
        fj_ins_begin(g);
        uint8_t opc[2] = { 0x0f, (uint8_t)(0xbc + fj_below(2)) };
        fj_emit_op(g, w, opc, 2, (unsigned)d, &o, 0, 0);
        fj_ins_end(g);
        fj_clobber(g, (unsigned)d);
        fj_flags_written(g, FL_ZF, FL_CF | FL_OF | FL_SF | FL_AF | FL_PF);
        return;
    }
    unsigned k = fj_below(4); /* BT BTS BTR BTC */
    bool mem = fj_chance(40), by_imm = fj_chance(50) || g->real;
    int br = -1;
    if (mem && !by_imm) {
        /* A register bit number reaches beyond the operand: keep it
         * small (and not negative for the writing forms). */
        br = fj_pick_reg(fj_writable_regs(g));
        if (br < 0)
            return;
        int32_t bit = k == 0 ? (int32_t)fj_below(w * 8 * 6) - (int32_t)(w * 8 * 2)
                             : (int32_t)fj_below(w * 8 * 4);
        fj_set_reg(g, (unsigned)br, (uint32_t)bit);
    }
    /* A register bit number moves the access up to 3 operands on: the
     * target is chosen with room for them, and an ordinary one (a target
     * at a segment's edge could wrap, with 16-bit addressing, onto the
     * tables instead of faulting). */
    unsigned span = br >= 0 ? 4 * w : w;
    if (!fj_pick_rm(g, span, k != 0, mem, k != 0, br < 0, br >= 0 ? RBIT((unsigned)br) : 0, &o))
        return;
    if (br < 0)
        br = (int)fj_below(8);
    fj_before(g, 0, &o, mem && !by_imm);
    fj_ins_begin(g);
    if (by_imm) {
        static const uint8_t opc[2] = { 0x0f, 0xba };
        fj_emit_op(g, w, opc, 2, 4 + k, &o, 1, fj_rnd() & 0xff);
    } else {
        uint8_t opc[2] = { 0x0f, (uint8_t)(0xa3 + k * 8) };
        fj_emit_op(g, w, opc, 2, (unsigned)br, &o, 0, 0);
    }
    fj_ins_end(g);
    if (k)
        fj_clobber_rm(g, &o, w);
    fj_flags_written(g, FL_CF, 0);
}

static void gen_cond(struct gen *g)
{
    unsigned cc = fj_below(16);
    struct rm o;
    if (fj_chance(50)) { /* SETcc r/m8 */
        if (!fj_pick_rm(g, 1, true, fj_chance(30), true, true, 0, &o))
            return;
        fj_before(g, fj_cond_flags(cc), &o, false);
        fj_ins_begin(g);
        uint8_t opc[2] = { 0x0f, (uint8_t)(0x90 + cc) };
        fj_emit_op(g, 0, opc, 2, fj_below(8), &o, 0, 0); /* the reg field is ignored */
        fj_ins_end(g);
        fj_clobber_rm(g, &o, 1);
    } else { /* CMOVcc r, r/m */
        unsigned w = fj_chance(30) ? 2 : 4;
        int d = fj_pick_dst(g, w);
        if (d < 0 || !fj_pick_rm(g, w, false, fj_chance(35), false, true, 0, &o))
            return;
        fj_before(g, fj_cond_flags(cc), &o, false);
        fj_ins_begin(g);
        uint8_t opc[2] = { 0x0f, (uint8_t)(0x40 + cc) };
        fj_emit_op(g, w, opc, 2, (unsigned)d, &o, 0, 0);
        fj_ins_end(g);
        fj_clobber(g, (unsigned)d);
    }
}

/* LAHF (when EAX may change): SF ZF AF PF CF into AH. */
static void gen_lahf(struct gen *g)
{
    if (!(fj_writable_regs(g) & RBIT(R_EAX)))
        return;
    fj_need_flags(g, F_ALL & ~FL_OF);
    fj_ins_begin(g);
    fj_b1(g, 0x9f);
    fj_ins_end(g);
    fj_clobber(g, R_EAX);
}

/* CBW/CWDE, CWD/CDQ, CLC STC CMC CLD STD, LAHF SAHF, BSWAP, NOP. */
static void gen_misc(struct gen *g)
{
    unsigned k = fj_below(12);
    switch (k) {
    case 0: case 1: { /* CBW/CWDE, CWD/CDQ */
        unsigned w = fj_chance(50) ? 2 : 4, r = k == 0 ? R_EAX : R_EDX;
        if (!(fj_writable_regs(g) & RBIT(r)))
            return;
        fj_ins_begin(g);
        fj_emit_prefixes(g, w, NULL, 0);
        fj_b1(g, (uint8_t)(0x98 + k));
        fj_ins_end(g);
        fj_clobber(g, r);
        return;
    }
    case 2: case 3: case 4: { /* CLC STC CMC */
        if (k == 4)
            fj_need_flags(g, FL_CF);
        fj_ins_begin(g);
        fj_b1(g, k == 2 ? 0xf8 : k == 3 ? 0xf9 : 0xf5);
        fj_ins_end(g);
        fj_flags_written(g, FL_CF, 0);
        return;
    }
    case 5: /* CLD STD */
        if (g->in_func)
            return;
        fj_ins_begin(g);
        g->df = (int)fj_below(2);
        fj_b1(g, g->df ? 0xfd : 0xfc);
        fj_ins_end(g);
        return;
    case 6:
        gen_lahf(g);
        return;
    case 7: /* SAHF */
        fj_ins_begin(g);
        fj_b1(g, 0x9e);
        fj_ins_end(g);
        fj_flags_written(g, F_ALL & ~FL_OF, 0);
        return;
    case 8: { /* BSWAP */
        int r = fj_pick_reg(fj_writable_regs(g));
        if (r < 0)
            return;
        fj_ins_begin(g);
        fj_emit_prefixes(g, 4, NULL, 0);
        fj_b1(g, 0x0f);
        fj_b1(g, (uint8_t)(0xc8 + r));
        fj_ins_end(g);
        if (fj_reg_known(g, (unsigned)r))
            fj_reg_set(g, (unsigned)r, __builtin_bswap32(g->val[r]));
        return;
    }
    default:
        fj_ins_begin(g);
        fj_b1(g, 0x90);
        fj_ins_end(g);
        return;
    }
}

/* ---- flag readers, and the choice of a data instruction ------------- */

/* An instruction that reads the flags (some of them): SETcc, CMOVcc,
 * ADC, SBB, RCL/RCR, CMC, LAHF, PUSHF. */
static void gen_flag_reader(struct gen *g)
{
    switch (fj_below(7)) {
    case 0: case 1:
        gen_cond(g);
        break;
    case 2:
        gen_alu2_op(g, 2 + fj_below(2)); /* ADC, SBB */
        break;
    case 3: { /* RCL/RCR r/m, 1 */
        unsigned w = fj_pick_width();
        struct rm o;
        if (!fj_pick_rm(g, w, true, fj_chance(30), true, true, 0, &o))
            return;
        fj_before(g, FL_CF, &o, false);
        fj_ins_begin(g);
        uint8_t opc = (uint8_t)(0xd0 + (w > 1));
        fj_emit_op(g, fj_osz(w), &opc, 1, 2 + fj_below(2), &o, 0, 0);
        fj_ins_end(g);
        fj_clobber_rm(g, &o, w);
        fj_flags_written(g, FL_CF | FL_OF, 0);
        break;
    }
    case 4: /* CMC */
        fj_need_flags(g, FL_CF);
        fj_ins_begin(g);
        fj_b1(g, 0xf5);
        fj_ins_end(g);
        break;
    case 5:
        gen_lahf(g);
        break;
    default:
        if (!g->shrt)
            fj_gen_pushf_popf(g);
        break;
    }
}

/*
 * One data instruction, at random; a third of the flag writers followed
 * by an instruction that reads the flags (gen_flag_reader; Jcc come with
 * the branches), so that every kind of writer meets every kind of reader.
 */
void fj_gen_data_insn(struct gen *g)
{
    unsigned r = fj_below(100);
    bool writer = true;
    if (r < 22) fj_gen_alu2(g);
    else if (r < 25) fj_gen_test(g);
    else if (r < 32) fj_gen_unary(g);
    else if (r < 42) gen_shift(g);
    else if (r < 45) gen_shxd(g);
    else if (r < 50) gen_mul(g);
    else if (r < 53) gen_div(g);
    else if (r < 76) {
        writer = r >= 71; /* XADD, CMPXCHG */
        if (r < 64) gen_mov(g);
        else if (r < 68) gen_movx(g);
        else if (r < 71) gen_lea(g);
        else gen_xchg(g);
    } else if (r < 81) gen_bits(g);
    else {
        writer = false;
        if (r < 88) gen_cond(g);
        else if (r < 93 || g->shrt) gen_misc(g);
        else if (r < 95) fj_gen_push_pop(g);
        else if (r < 97) fj_gen_pushf_popf(g);
        else fj_gen_rare(g);
    }
    if (writer && fj_chance(33))
        gen_flag_reader(g);
}
