/*
 * translate/jit/gen_alu.c — data instructions as the host's own: ALU,
 * INC/DEC/NEG/NOT, shifts and rotates, MOV/MOVZX/MOVSX/LEA/XCHG,
 * multiply, bit tests and scans, SETcc/CMOVcc, CBW/CWD, the flag
 * instructions.
 *
 * An IA-32 instruction and the x86-64 instruction with the same encoding
 * on the same operand sizes compute the same result and flags (SDM Vol. 1
 * 3.2.1: the legacy instructions keep their semantics in 64-bit mode), so
 * each form here is re-encoded on the host registers that hold the
 * guest's (jit.h) or on the host pointer of its memory operand; the
 * semantics stay in the host CPU, and the difftest already holds the host
 * as the reference. Flags the guest's instruction leaves undefined are
 * the host's too, and so are the interpreter's on x86-64 hosts
 * (cpu/host_flags.c): a form that falls back to its handler gives the
 * same values.
 *
 * Each generator first decides whether it can take the form and returns
 * false, having emitted nothing, when it cannot: the instruction then
 * runs through its handler.
 */
#include "translate/jit/gen.h"

/* The host register of a register operand. Byte registers 4-7 are AH..BH,
 * which the host encodes the same way when no REX prefix is present. */
static unsigned hreg(const struct operand *o)
{
    return o->width == 1 ? o->reg : jit_host_reg(o->reg);
}

/* AH..BH: cannot be combined with anything that needs a REX prefix (a
 * memory operand through R11, ESP in R12). */
static bool high_byte(const struct operand *o)
{
    return o->kind == OPND_REG && o->width == 1 && o->reg >= 4;
}

/* Makes the host's flags hold what a native instruction reading `r` and
 * writing `w` needs: what it reads and the live flags it passes through. */
static void flags_prepare(struct jit_ctx *c, uint32_t r, uint32_t w)
{
    uint32_t need = r | (c->live_out & ~w);
    if (!need)
        return;
    if (need == FL_CF)
        gen_cf_to_host(c);
    else
        gen_flags_to_host(c);
}

static void flags_done(struct jit_ctx *c, uint32_t w)
{
    if (w)
        c->fl_host = true;
}

/* For a memory operand: save live flags (the lookup clobbers the host's),
 * compute the address, translate it (or use the block's frame page). */
static void mem_operand(struct jit_ctx *c, const struct insn *in, unsigned size, bool write)
{
    gen_mem_operand(c, in, size, write);
}

static struct x64_rm rm_of(const struct jit_ctx *c, const struct operand *o)
{
    return o->kind == OPND_MEM ? c->mem_rm : x64_r((int)hreg(o));
}

static bool reg_or_mem(const struct operand *o)
{
    return o->kind == OPND_REG || o->kind == OPND_MEM;
}

/* ------------------------------------------------------------------ */
/* ALU                                                                 */
/* ------------------------------------------------------------------ */

/* ADD OR ADC SBB AND SUB XOR CMP TEST: op dst, src. */
static bool gen_alu2(struct jit_ctx *c, uint32_t r, uint32_t w)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst, *s = &in->src;
    bool test = in->op == OP_TEST;
    unsigned size = d->width;
    if (!reg_or_mem(d) || (s->kind != OPND_REG && s->kind != OPND_IMM && s->kind != OPND_MEM))
        return false;
    bool mem = d->kind == OPND_MEM || s->kind == OPND_MEM;
    if (mem && (!gen_mem_ok(c, in) || high_byte(d) || high_byte(s)))
        return false;
    if (d->kind == OPND_MEM && s->kind == OPND_MEM)
        return false;
    if (test && s->kind == OPND_MEM)
        return false; /* never decoded so */

    if (mem) {
        bool write = d->kind == OPND_MEM && in->op != OP_CMP && !test;
        mem_operand(c, in, size, write);
    }
    flags_prepare(c, r, w);
    enum x64_alu op = (enum x64_alu)(in->op - OP_ADD);
    if (s->kind == OPND_IMM) {
        if (test)
            x64_test_rm_imm(c->a, size, rm_of(c, d), in->imm);
        else
            x64_alu_rm_imm(c->a, op, size, rm_of(c, d), in->imm);
    } else if (s->kind == OPND_MEM) {
        x64_alu_reg_rm(c->a, op, size, hreg(d), rm_of(c, s));
    } else if (test) {
        x64_test_rm_reg(c->a, size, rm_of(c, d), hreg(s));
    } else {
        x64_alu_rm_reg(c->a, op, size, rm_of(c, d), hreg(s));
    }
    flags_done(c, w);
    return true;
}

/* INC DEC NEG NOT. */
static bool gen_unary(struct jit_ctx *c, uint32_t r, uint32_t w)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst;
    if (!reg_or_mem(d))
        return false;
    if (d->kind == OPND_MEM) {
        if (!gen_mem_ok(c, in))
            return false;
        mem_operand(c, in, d->width, true);
    }
    flags_prepare(c, r, w);
    switch (in->op) {
    case OP_INC: x64_incdec(c->a, false, d->width, rm_of(c, d)); break;
    case OP_DEC: x64_incdec(c->a, true, d->width, rm_of(c, d)); break;
    case OP_NEG: x64_unary(c->a, UN_NEG, d->width, rm_of(c, d)); break;
    default: x64_unary(c->a, UN_NOT, d->width, rm_of(c, d)); break;
    }
    flags_done(c, w);
    return true;
}

/* Shifts and rotates by 1, an immediate or CL; SHLD/SHRD. */
static bool gen_shift(struct jit_ctx *c, uint32_t r, uint32_t w)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst;
    bool dbl = in->op == OP_SHLD || in->op == OP_SHRD;
    const struct operand *cnt = dbl ? &in->src2 : &in->src;
    if (!reg_or_mem(d))
        return false;
    if (dbl && (in->src.kind != OPND_REG || d->width == 1))
        return false;
    bool by_cl = cnt->kind == OPND_REG;
    unsigned count = cnt->kind == OPND_ONE ? 1 : in->imm & 0x1f;
    if (d->kind == OPND_MEM) {
        /* A count of zero still reads (and on some parts writes) the
         * operand: leave that corner to the handler (an immediate zero
         * here, CL's at run time below). */
        if (!gen_mem_ok(c, in) || (!by_cl && count == 0))
            return false;
        mem_operand(c, in, d->width, true);
        if (by_cl) {
            gen_flags_to_cpu(c);
            x64_test_rm_imm(c->a, 1, x64_r(X_RCX), 0x1f);
            gen_jump_slow(c, XCC_E);
            /* From here the count is not zero: the flags it defines. */
            bool rot = in->op == OP_ROL || in->op == OP_ROR || in->op == OP_RCL ||
                       in->op == OP_RCR;
            w = rot ? FL_CF | FL_OF : FL_ARITH;
        }
    }
    flags_prepare(c, r, w);
    if (dbl) {
        bool right = in->op == OP_SHRD;
        if (by_cl)
            x64_shxd_cl(c->a, right, d->width, rm_of(c, d), hreg(&in->src));
        else
            x64_shxd_imm(c->a, right, d->width, rm_of(c, d), hreg(&in->src), (uint8_t)in->imm);
    } else {
        enum x64_shift op = (enum x64_shift)(in->op - OP_ROL);
        if (op == SH_SAL)
            op = SH_SHL; /* /6 is SHL's alias */
        if (by_cl)
            x64_shift_cl(c->a, op, d->width, rm_of(c, d));
        else
            x64_shift_imm(c->a, op, d->width, rm_of(c, d), (uint8_t)count);
    }
    /* With a count that may be zero, the flags passed through the host
     * instruction unchanged: still the guest's if they were before. */
    if (w)
        c->fl_host = true;
    return true;
}

/* ------------------------------------------------------------------ */
/* Moves                                                               */
/* ------------------------------------------------------------------ */

static bool gen_mov(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst, *s = &in->src;
    unsigned size = d->width;
    if (!reg_or_mem(d) || (s->kind != OPND_REG && s->kind != OPND_IMM && s->kind != OPND_MEM))
        return false;
    if (d->kind == OPND_MEM || s->kind == OPND_MEM) {
        if (!gen_mem_ok(c, in) || high_byte(d) || high_byte(s))
            return false;
        mem_operand(c, in, size, d->kind == OPND_MEM);
    }
    if (s->kind == OPND_IMM) {
        if (d->kind == OPND_REG && size == 4)
            x64_mov_r32_imm(c->a, hreg(d), in->imm);
        else
            x64_mov_rm_imm(c->a, size, rm_of(c, d), in->imm);
    } else if (s->kind == OPND_MEM) {
        x64_mov_reg_rm(c->a, size, hreg(d), rm_of(c, s));
    } else {
        x64_mov_rm_reg(c->a, size, rm_of(c, d), hreg(s));
    }
    return true;
}

static bool gen_movx(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst, *s = &in->src;
    if (d->kind != OPND_REG || !reg_or_mem(s))
        return false;
    if (high_byte(s) && d->reg == R_ESP)
        return false; /* AH..BH with R12: REX */
    if (s->kind == OPND_MEM) {
        if (!gen_mem_ok(c, in))
            return false;
        mem_operand(c, in, s->width, false);
    }
    if (in->op == OP_MOVZX)
        x64_movzx(c->a, d->width, hreg(d), s->width, rm_of(c, s));
    else
        x64_movsx(c->a, d->width, hreg(d), s->width, rm_of(c, s));
    return true;
}

static bool gen_lea(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst;
    if (d->kind != OPND_REG || in->src.kind != OPND_MEM)
        return false;
    /* LEA touches neither memory nor flags. */
    if (d->width == 4 && in->adsize == 4) {
        gen_ea(c, in, hreg(d));
    } else {
        gen_ea(c, in, T_ADDR);
        x64_mov_rm_reg(c->a, d->width, x64_r((int)hreg(d)), T_ADDR);
    }
    return true;
}

static bool gen_xchg(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst, *s = &in->src;
    if (s->kind != OPND_REG || !reg_or_mem(d))
        return false;
    if (d->kind == OPND_REG) {
        x64_xchg_rm_reg(c->a, d->width, x64_r((int)hreg(d)), hreg(s));
        return true;
    }
    if (!gen_mem_ok(c, in) || high_byte(s))
        return false;
    mem_operand(c, in, d->width, true);
    /* Plain moves: the host's XCHG with memory would lock the bus. */
    x64_mov_reg_rm(c->a, d->width, T_VAL, rm_of(c, d));
    x64_mov_rm_reg(c->a, d->width, rm_of(c, d), hreg(s));
    x64_mov_rm_reg(c->a, d->width, x64_r((int)hreg(s)), T_VAL);
    return true;
}

/* CMPXCHG and XADD: the host's own (no LOCK: one guest CPU). */
static bool gen_xadd_cmpxchg(struct jit_ctx *c, uint32_t r, uint32_t w)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst, *s = &in->src;
    if (s->kind != OPND_REG || !reg_or_mem(d))
        return false;
    if (d->kind == OPND_MEM) {
        if (!gen_mem_ok(c, in) || high_byte(s))
            return false;
        mem_operand(c, in, d->width, true);
    }
    flags_prepare(c, r, w);
    uint8_t op[2] = { 0x0f, (uint8_t)((in->op == OP_XADD ? 0xc0 : 0xb0) + (d->width > 1)) };
    x64_op(c->a, d->width, op, 2, hreg(s), rm_of(c, d), 0, 0);
    flags_done(c, w);
    return true;
}

/* ------------------------------------------------------------------ */
/* Multiply, bits, conditions                                          */
/* ------------------------------------------------------------------ */

static bool gen_imul2(struct jit_ctx *c, uint32_t r, uint32_t w)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst;
    /* 0F AF: dst = dst * src2 (src is dst); 69/6B: dst = src * imm. */
    bool three = in->src2.kind == OPND_IMM;
    const struct operand *m = three ? &in->src : &in->src2;
    if (d->kind != OPND_REG || d->width == 1 || !reg_or_mem(m))
        return false;
    if (m->kind == OPND_MEM) {
        if (!gen_mem_ok(c, in))
            return false;
        mem_operand(c, in, m->width, false);
    }
    flags_prepare(c, r, w);
    if (three)
        x64_imul_reg_rm_imm(c->a, d->width, hreg(d), rm_of(c, m), in->imm);
    else
        x64_imul_reg_rm(c->a, d->width, hreg(d), rm_of(c, m));
    flags_done(c, w);
    return true;
}

/* MUL / IMUL r/m: EDX:EAX, DX:AX or AX, the same host registers. */
static bool gen_mul1(struct jit_ctx *c, uint32_t r, uint32_t w)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst;
    if (!reg_or_mem(d))
        return false;
    if (d->kind == OPND_MEM) {
        if (!gen_mem_ok(c, in))
            return false;
        mem_operand(c, in, d->width, false);
    }
    flags_prepare(c, r, w);
    x64_unary(c->a, in->op == OP_MUL ? UN_MUL : UN_IMUL, d->width, rm_of(c, d));
    flags_done(c, w);
    return true;
}

/*
 * DIV / IDIV r/m32: the host's own division on EDX:EAX by the divisor in
 * R8D, with no checks: a zero divisor or a quotient that does not fit
 * makes the host raise #DE right there, as the guest must (SDM DIV,
 * IDIV), and hostfault.c sends it to the slow path, whose handler raises
 * the guest's. Nothing has changed then, the guest's flags included
 * (still in the host's, if they were: the slow path saves them). The
 * flags after, all undefined, are what the host's division leaves
 * (cpu/host_flags.c gives the interpreter the same): the guest's are
 * loaded into the host's first when anything reads them later.
 */
static bool gen_divide(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst;
    struct x64_asm *a = c->a;
    if (!reg_or_mem(d) || d->width != 4)
        return false;
    /* ESP whole before the fault site: its jump to the slow path must
     * follow the JMP over it directly (hostfault.c). */
    gen_esp_sync(c);
    if (d->kind == OPND_MEM) {
        if (!gen_mem_ok(c, in))
            return false;
        mem_operand(c, in, 4, false);
    }
    bool flags_live = c->live_out != 0;
    x64_mov_reg_rm(a, 4, T_VAL, rm_of(c, d));
    if (flags_live)
        gen_flags_to_host(c);
    /* The fault site (JIT_DIVIDE_SITE, jit.h). */
    struct stub *s = gen_stub_new(c, STUB_SLOW);
    s->ji = c->ji;
    s->thunk = (c->fl_host && c->live_in) ? JIT_THUNK_SAVE_FLAGS : 0;
    x64_unary(a, in->op == OP_DIV ? UN_DIV : UN_IDIV, 4, x64_r(T_VAL));
    size_t over = x64_jmp8(a);
    gen_stub_jump(c, s, -1);
    x64_patch_rel8(a, over, a->pos);
    c->fl_host = flags_live;
    /* Never back from a handler that raises #DE; if it came back, on from
     * here with the flags it left. */
    s->resume = a->pos;
    if (flags_live)
        s->thunk |= JIT_THUNK_LOAD_FLAGS;
    return true;
}

/* BT/BTS/BTR/BTC with a register operand, or memory with an immediate
 * bit number (a register bit number addresses a bit string beyond the
 * operand: the handler's). */
static bool gen_bt(struct jit_ctx *c, uint32_t r, uint32_t w)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst, *s = &in->src;
    if (!reg_or_mem(d) || (s->kind != OPND_REG && s->kind != OPND_IMM) || d->width == 1)
        return false;
    if (d->kind == OPND_MEM) {
        if (s->kind != OPND_IMM || !gen_mem_ok(c, in))
            return false;
        mem_operand(c, in, d->width, in->op != OP_BT);
    }
    flags_prepare(c, r, w);
    unsigned op = 4 + (unsigned)(in->op - OP_BT);
    if (s->kind == OPND_IMM)
        x64_bt_imm(c->a, op, d->width, rm_of(c, d), (uint8_t)in->imm);
    else
        x64_bt_reg(c->a, op, d->width, rm_of(c, d), hreg(s));
    flags_done(c, w);
    return true;
}

static bool gen_bsx(struct jit_ctx *c, uint32_t r, uint32_t w)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst, *s = &in->src;
    if (d->kind != OPND_REG || !reg_or_mem(s) || d->width == 1)
        return false;
    if (s->kind == OPND_MEM) {
        if (!gen_mem_ok(c, in))
            return false;
        mem_operand(c, in, s->width, false);
    }
    flags_prepare(c, r, w);
    x64_bsx(c->a, in->op == OP_BSR, d->width, hreg(d), rm_of(c, s));
    flags_done(c, w);
    return true;
}

static bool gen_setcc(struct jit_ctx *c, uint32_t r)
{
    const struct insn *in = c->in;
    if (in->dst.kind != OPND_REG)
        return false;
    flags_prepare(c, r, 0);
    x64_setcc(c->a, (enum x64_cc)in->cond, x64_r((int)hreg(&in->dst)));
    return true;
}

static bool gen_cmov(struct jit_ctx *c, uint32_t r)
{
    const struct insn *in = c->in;
    const struct operand *d = &in->dst, *s = &in->src;
    if (d->kind != OPND_REG || !reg_or_mem(s))
        return false;
    if (s->kind == OPND_MEM) {
        /* The operand is read whatever the condition (SDM CMOVcc). */
        if (!gen_mem_ok(c, in))
            return false;
        mem_operand(c, in, s->width, false);
    }
    flags_prepare(c, r, 0);
    x64_cmovcc(c->a, (enum x64_cc)in->cond, d->width, hreg(d), rm_of(c, s));
    return true;
}

/* CBW/CWDE (98) and CWD/CDQ (99) on EAX/EDX, sized by 66. */
static bool gen_cbw_cwd(struct jit_ctx *c)
{
    if (c->in->opsize == 2)
        x64_byte(c->a, 0x66);
    x64_byte(c->a, c->in->op == OP_CBW ? 0x98 : 0x99);
    return true;
}

/* CLC STC CMC on whichever copy holds CF; CLD STD on cpu->eflags. */
static bool gen_flag_op(struct jit_ctx *c)
{
    struct x64_asm *a = c->a;
    enum op op = (enum op)c->in->op;
    if (op == OP_CLD || op == OP_STD) {
        gen_flags_to_cpu(c);
        if (op == OP_CLD)
            x64_alu_rm_imm(a, ALU_AND, 4, cpu_field(CPU_OFF(eflags)), ~FL_DF);
        else
            x64_alu_rm_imm(a, ALU_OR, 4, cpu_field(CPU_OFF(eflags)), FL_DF);
        return true;
    }
    if (c->fl_host) {
        x64_byte(a, op == OP_CLC ? 0xf8 : op == OP_STC ? 0xf9 : 0xf5);
        return true;
    }
    enum x64_alu alu = op == OP_CLC ? ALU_AND : op == OP_STC ? ALU_OR : ALU_XOR;
    uint32_t cf = cc_host_image(FL_CF);
    x64_alu_rm_imm(a, alu, 4, cpu_field(CPU_OFF(cc.res)), op == OP_CLC ? ~cf : cf);
    return true;
}

bool gen_alu(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    if (in->lock && in->dst.kind != OPND_MEM)
        return false; /* the handler raises #UD */
    uint32_t r, w;
    jit_insn_flags(in, &r, &w);
    switch ((enum op)in->op) {
    case OP_ADD: case OP_OR: case OP_ADC: case OP_SBB: case OP_AND: case OP_SUB:
    case OP_XOR: case OP_CMP: case OP_TEST:
        return gen_alu2(c, r, w);
    case OP_INC: case OP_DEC: case OP_NEG: case OP_NOT:
        return gen_unary(c, r, w);
    case OP_ROL: case OP_ROR: case OP_RCL: case OP_RCR: case OP_SHL: case OP_SHR:
    case OP_SAL: case OP_SAR: case OP_SHLD: case OP_SHRD:
        return gen_shift(c, r, w);
    case OP_MOV:
        return gen_mov(c);
    case OP_MOVZX: case OP_MOVSX:
        return gen_movx(c);
    case OP_LEA:
        return gen_lea(c);
    case OP_XCHG:
        return gen_xchg(c);
    case OP_XADD: case OP_CMPXCHG:
        return gen_xadd_cmpxchg(c, r, w);
    case OP_IMUL2:
        return gen_imul2(c, r, w);
    case OP_MUL: case OP_IMUL1:
        return gen_mul1(c, r, w);
    case OP_DIV: case OP_IDIV:
        return gen_divide(c);
    case OP_BT: case OP_BTS: case OP_BTR: case OP_BTC:
        return gen_bt(c, r, w);
    case OP_BSF: case OP_BSR:
        return gen_bsx(c, r, w);
    case OP_SETCC:
        return gen_setcc(c, r);
    case OP_CMOVCC:
        return gen_cmov(c, r);
    case OP_CBW: case OP_CWD:
        return gen_cbw_cwd(c);
    case OP_BSWAP:
        if (in->dst.width != 4)
            return false;
        x64_bswap32(c->a, jit_host_reg(in->dst.reg));
        return true;
    case OP_CLC: case OP_STC: case OP_CMC: case OP_CLD: case OP_STD:
        return gen_flag_op(c);
    case OP_NOP:
        return true;
    default:
        return false;
    }
}
