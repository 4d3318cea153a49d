/*
 * translate/jit/block.c — translating one guest block into host code.
 *
 * 1. Decode: the shared block decoder (translate/tb.c) up to a control
 *    transfer other than a forward Jcc (the block runs on through those,
 *    leaving by a side exit when one is taken), an instruction that
 *    changes the block key, the page end, the CS limit or JIT_MAX_INSNS.
 * 2. Flag liveness, backwards: which guest flags each instruction's
 *    successors read before writing (all are live at the block's end and
 *    at each side exit).
 * 3. Emit: a prologue that charges the block's instructions up to its
 *    first side exit to the run budget (each side exit not taken charges
 *    the next stretch), then each instruction natively (gen_ctrl,
 *    gen_alu) or as a call of its handler in cpu/ (gen_helper), then the
 *    block's exits.
 * 4. Stubs: the out-of-line slow paths and exits, after the body.
 *
 * Every inline instruction checks everything that can make it fail (the
 * segment limit, the TLB, a divisor) before it changes any guest state,
 * and sends a failed check to its slow path, which runs the whole
 * instruction through its handler from the state it started in. So a
 * fault, an MMIO access or a store into code is always handled by the
 * same C code the interpreter runs, with exact guest state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "translate/jit/gen.h"
#include "translate/tb.h"

/* ------------------------------------------------------------------ */
/* Flags each operation reads and writes                               */
/* ------------------------------------------------------------------ */

#define F_ALL FL_ARITH
#define F_CF FL_CF
#define F_ZF FL_ZF

/*
 * reads: flags the operation uses; writes: flags it always sets (to a
 * defined or an undefined value: either way the old value is dead).
 * Flags neither read nor written pass through. Operations not listed
 * read all flags and write none, the safe assumption.
 *
 * A flag the SDM leaves undefined is "written" only where every host
 * writes it: some hosts pass it through unchanged (this AMD Zen keeps
 * SF/ZF/AF/PF across MUL/IMUL, OF/SF/AF/PF across BT*, and CF across
 * DIV), and then its old value is the result, which must reach the host
 * (or the handler, cpu/host_flags.c) first. MUL/IMUL, DIV/IDIV and BT*
 * therefore list only their defined flags. Shifts and BSF/BSR are
 * listed as writing all six, which the hosts we run on do; the
 * difftest's --all-flags pass under the JIT would show a host that
 * does not.
 */
struct flag_use {
    uint16_t reads, writes;
    bool known;
};

#define FU(r, w) { (r), (w), true }
static const struct flag_use flag_table[OP_COUNT] = {
    [OP_ADD] = FU(0, F_ALL), [OP_OR] = FU(0, F_ALL), [OP_ADC] = FU(F_CF, F_ALL),
    [OP_SBB] = FU(F_CF, F_ALL), [OP_AND] = FU(0, F_ALL), [OP_SUB] = FU(0, F_ALL),
    [OP_XOR] = FU(0, F_ALL), [OP_CMP] = FU(0, F_ALL), [OP_TEST] = FU(0, F_ALL),
    [OP_INC] = FU(0, F_ALL & ~F_CF), [OP_DEC] = FU(0, F_ALL & ~F_CF),
    [OP_NEG] = FU(0, F_ALL), [OP_NOT] = FU(0, 0),
    [OP_MUL] = FU(0, F_CF | FL_OF), [OP_IMUL1] = FU(0, F_CF | FL_OF),
    [OP_IMUL2] = FU(0, F_CF | FL_OF), [OP_DIV] = FU(0, 0), [OP_IDIV] = FU(0, 0),
    [OP_DAA] = FU(F_CF | FL_AF, F_ALL), [OP_DAS] = FU(F_CF | FL_AF, F_ALL),
    [OP_AAA] = FU(FL_AF, F_ALL), [OP_AAS] = FU(FL_AF, F_ALL),
    [OP_AAM] = FU(0, F_ALL), [OP_AAD] = FU(0, F_ALL), [OP_SALC] = FU(F_CF, 0),
    [OP_MOV] = FU(0, 0), [OP_MOVZX] = FU(0, 0), [OP_MOVSX] = FU(0, 0), [OP_LEA] = FU(0, 0),
    [OP_XCHG] = FU(0, 0), [OP_CBW] = FU(0, 0), [OP_CWD] = FU(0, 0), [OP_BSWAP] = FU(0, 0),
    [OP_XLAT] = FU(0, 0), [OP_XADD] = FU(0, F_ALL), [OP_CMPXCHG] = FU(0, F_ALL),
    [OP_CMPXCHG8B] = FU(0, F_ZF), [OP_MOV_TO_SREG] = FU(0, 0),
    [OP_LDS] = FU(0, 0), [OP_LES] = FU(0, 0), [OP_LFS] = FU(0, 0), [OP_LGS] = FU(0, 0),
    [OP_LSS] = FU(0, 0),
    [OP_LAHF] = FU(F_ALL & ~FL_OF, 0), [OP_SAHF] = FU(0, F_ALL & ~FL_OF),
    [OP_PUSH] = FU(0, 0), [OP_POP] = FU(0, 0), [OP_POP_SREG] = FU(0, 0),
    [OP_PUSHA] = FU(0, 0), [OP_POPA] = FU(0, 0), [OP_PUSHF] = FU(F_ALL, 0),
    [OP_POPF] = FU(0, F_ALL), [OP_ENTER] = FU(0, 0), [OP_LEAVE] = FU(0, 0),
    [OP_JMP] = FU(0, 0), [OP_JCXZ] = FU(0, 0), [OP_LOOP] = FU(0, 0),
    [OP_LOOPE] = FU(F_ZF, 0), [OP_LOOPNE] = FU(F_ZF, 0),
    [OP_CALL] = FU(0, 0), [OP_RET] = FU(0, 0),
    [OP_BSF] = FU(0, F_ALL), [OP_BSR] = FU(0, F_ALL),
    [OP_BT] = FU(0, F_CF), [OP_BTS] = FU(0, F_CF), [OP_BTR] = FU(0, F_CF), [OP_BTC] = FU(0, F_CF),
    [OP_MOVS] = FU(0, 0), [OP_STOS] = FU(0, 0), [OP_LODS] = FU(0, 0),
    [OP_INS] = FU(0, 0), [OP_OUTS] = FU(0, 0), [OP_IN] = FU(0, 0), [OP_OUT] = FU(0, 0),
    [OP_CLC] = FU(0, F_CF), [OP_STC] = FU(0, F_CF), [OP_CMC] = FU(F_CF, F_CF),
    [OP_CLD] = FU(0, 0), [OP_STD] = FU(0, 0), [OP_CLI] = FU(0, 0), [OP_NOP] = FU(0, 0),
    [OP_SETCC] = FU(0, 0), [OP_CMOVCC] = FU(0, 0), [OP_JCC] = FU(0, 0),
    [OP_LAR] = FU(0, F_ZF), [OP_LSL] = FU(0, F_ZF), [OP_VERR] = FU(0, F_ZF),
    [OP_VERW] = FU(0, F_ZF), [OP_ARPL] = FU(0, F_ZF),
    [OP_CPUID] = FU(0, 0), [OP_RDTSC] = FU(0, 0), [OP_RDMSR] = FU(0, 0),
    [OP_WAIT] = FU(0, 0),
};

/* Flags a condition code (Jcc/SETcc/CMOVcc order) reads. */
static uint32_t cond_reads(unsigned cond)
{
    static const uint16_t base[8] = {
        FL_OF, FL_CF, FL_ZF, FL_CF | FL_ZF, FL_SF, FL_PF, FL_SF | FL_OF, FL_SF | FL_OF | FL_ZF,
    };
    return base[(cond >> 1) & 7];
}

/* The count of a shift by an immediate or by one, or -1 (CL). */
static int shift_count(const struct insn *in)
{
    if (in->src.kind == OPND_ONE)
        return 1;
    if (in->src.kind == OPND_IMM)
        return (int)(in->imm & 0x1f);
    return -1;
}

void jit_insn_flags(const struct insn *in, uint32_t *reads, uint32_t *writes)
{
    enum op op = (enum op)in->op;
    switch (op) {
    case OP_JCC: case OP_SETCC: case OP_CMOVCC:
        *reads = cond_reads(in->cond);
        *writes = 0;
        return;
    case OP_SHL: case OP_SHR: case OP_SAL: case OP_SAR: case OP_ROL: case OP_ROR:
    case OP_RCL: case OP_RCR: case OP_SHLD: case OP_SHRD: {
        /* A count of zero (after masking) leaves every flag alone. */
        bool rot = op == OP_ROL || op == OP_ROR || op == OP_RCL || op == OP_RCR;
        bool rc = op == OP_RCL || op == OP_RCR;
        int n = op == OP_SHLD || op == OP_SHRD
                    ? (in->src2.kind == OPND_IMM ? (int)(in->imm & 0x1f) : -1)
                    : shift_count(in);
        *reads = rc ? F_CF : 0;
        *writes = n > 0 ? (rot ? F_CF | FL_OF : F_ALL) : 0;
        return;
    }
    case OP_MOVS: case OP_STOS: case OP_LODS: case OP_INS: case OP_OUTS:
        *reads = *writes = 0;
        return;
    case OP_CMPS: case OP_SCAS:
        /* A REP form with a count of zero changes nothing. */
        *reads = 0;
        *writes = in->rep ? 0 : F_ALL;
        return;
    default:
        break;
    }
    const struct flag_use *u = &flag_table[op];
    if (u->known) {
        *reads = u->reads;
        *writes = u->writes;
    } else {
        *reads = F_ALL;
        *writes = 0;
    }
}

/*
 * Whether the instruction can raise an exception or leave the block in
 * the middle (a helper, a memory access, a stack access): there the
 * whole EFLAGS image must be exact, for the handler that the fault runs
 * or the dispatcher that takes over, so every flag counts as read.
 * Register-only forms of the data instructions cannot.
 */
static bool plain_operand(uint8_t kind)
{
    return kind == OPND_NONE || kind == OPND_REG || kind == OPND_IMM || kind == OPND_ONE;
}

static bool may_trap(const struct insn *in)
{
    if (in->lock || in->dst.kind == OPND_MEM || in->src.kind == OPND_MEM ||
        in->src2.kind == OPND_MEM)
        return true;
    switch ((enum op)in->op) {
    case OP_ADD: case OP_OR: case OP_ADC: case OP_SBB: case OP_AND: case OP_SUB:
    case OP_XOR: case OP_CMP: case OP_TEST: case OP_INC: case OP_DEC: case OP_NEG:
    case OP_NOT: case OP_ROL: case OP_ROR: case OP_RCL: case OP_RCR: case OP_SHL:
    case OP_SHR: case OP_SAL: case OP_SAR: case OP_SHLD: case OP_SHRD: case OP_MOV:
    case OP_MOVZX: case OP_MOVSX: case OP_LEA: case OP_XCHG: case OP_IMUL2: case OP_MUL:
    case OP_IMUL1: case OP_BT: case OP_BTS: case OP_BTR: case OP_BTC: case OP_BSF:
    case OP_BSR: case OP_SETCC: case OP_CMOVCC: case OP_CBW: case OP_CWD: case OP_BSWAP:
    case OP_CLC: case OP_STC: case OP_CMC: case OP_NOP:
        /* In their general-register and immediate forms (MOV to or from
         * a segment, control or debug register can trap). */
        return !plain_operand(in->dst.kind) || !plain_operand(in->src.kind) ||
               !plain_operand(in->src2.kind);
    default:
        return true;
    }
}

/* ------------------------------------------------------------------ */
/* Which operations end a JIT block                                    */
/* ------------------------------------------------------------------ */

/* The instructions that end a JIT block because they change its key. */
static bool changes_key(const struct insn *in)
{
    switch ((enum op)in->op) {
    case OP_LDS: case OP_LES: case OP_LFS: case OP_LGS:
        return true;
    default:
        return false;
    }
}

/* A conditional jump forward: the block runs on through its way not
 * taken (compilers lay the likely way out as the fall-through) and
 * leaves through a side exit when it is taken (gen_jcc). A backward one,
 * a loop's back edge, still ends the block: its way on is the loop's
 * exit. */
static bool runs_on_through(const struct insn *in)
{
    return in->op == OP_JCC && (int32_t)in->imm > 0;
}

bool gen_side_exit_at(const struct jit_ctx *c, unsigned k)
{
    return k + 1 < c->ninsns && runs_on_through(&c->insns[k]);
}

/* The interpreter's block ends; every instruction that can change the
 * block key without ending an interpreter block (the data segment loads:
 * the key holds each segment's class); and the REP string instructions,
 * whose handler runs a bounded number of iterations and then leaves EIP
 * at the instruction for the rest (the block's exit goes there). */
bool jit_ends_block(const struct insn *in)
{
    if (changes_key(in))
        return true;
    if (runs_on_through(in))
        return false;
    switch ((enum op)in->op) {
    case OP_MOVS: case OP_STOS: case OP_LODS: case OP_CMPS: case OP_SCAS: case OP_INS:
    case OP_OUTS:
        return in->rep != REP_NONE;
    default:
        return tb_ends_block((enum op)in->op);
    }
}

/* ------------------------------------------------------------------ */
/* Flags in the host's EFLAGS or in cpu->cc                            */
/* ------------------------------------------------------------------ */

/*
 * Fault-only flags. An instruction that can fault needs every flag exact
 * in cpu->cc for its handler (may_trap), so the host's flags would be
 * saved before each memory access, though often nothing reads them
 * again: `and ebx, 0fh; inc dword [esp + ebx*4 + 24h]; test al, 40h`.
 * When no instruction reads them before they are all written again
 * (c->live_real_in is 0) and the instruction that made them can make
 * them again (struct remat: its registers unchanged since), they are
 * not saved: the slow paths taken meanwhile (STUB_SLOW, where a fault
 * is raised) make them again into cpu->cc first, and anything else
 * that would see them (an instruction reading or passing some of them,
 * writing one of the registers, a helper, x87 code) has them made again
 * on the host first. make bench's branch and sort spend most of their
 * saves so.
 */
static unsigned remat_host(unsigned reg, unsigned width)
{
    return width == 1 ? reg : jit_host_reg(reg);
}

static void emit_remat(struct x64_asm *a, const struct remat *r)
{
    unsigned d = remat_host(r->dst, r->width);
    bool imm = r->src == 0xff;
    unsigned s = imm ? 0 : remat_host(r->src, r->width);
    switch (r->op) {
    case OP_TEST:
        if (imm)
            x64_test_rm_imm(a, r->width, x64_r((int)d), r->imm);
        else
            x64_test_rm_reg(a, r->width, x64_r((int)d), s);
        break;
    case OP_CMP:
        if (imm)
            x64_alu_rm_imm(a, ALU_CMP, r->width, x64_r((int)d), r->imm);
        else
            x64_alu_rm_reg(a, ALU_CMP, r->width, x64_r((int)d), s);
        break;
    case OP_AND: /* AND, OR, XOR: the flags of their result */
        x64_test_rm_reg(a, r->width, x64_r((int)d), d);
        break;
    case OP_SUB: /* dst was dst + src: compare that with src */
        if (imm) {
            x64_lea(a, 4, T_VAL, x64_mem((int)d, (int32_t)r->imm));
            x64_alu_rm_imm(a, ALU_CMP, 4, x64_r(T_VAL), r->imm);
        } else {
            x64_lea(a, 4, T_VAL, x64_mem_idx((int)d, (int)s, 0, 0));
            x64_alu_rm_reg(a, ALU_CMP, 4, x64_r(T_VAL), s);
        }
        break;
    case OP_INC: /* dst was dst - 1: CF from cpu->cc, the rest from INC again */
    case OP_DEC:
        x64_bt_imm(a, 4, 4, x64_m(x64_mem(JIT_CPU, CPU_OFF(cc.res))), 8); /* CF: LAHF's bit 0 */
        x64_lea(a, 4, T_VAL, x64_mem(remat_host(r->dst, 4), r->op == OP_INC ? -1 : 1));
        x64_incdec(a, r->op == OP_DEC, r->width, x64_r(T_VAL));
        break;
    default: /* OP_ADD: dst was dst - src: add src to that */
        if (imm) {
            x64_lea(a, 4, T_VAL, x64_mem((int)d, (int32_t)(0u - r->imm)));
            x64_alu_rm_imm(a, ALU_ADD, 4, x64_r(T_VAL), r->imm);
        } else {
            x64_mov_rm_reg(a, 4, x64_r(T_VAL), d);
            x64_alu_rm_reg(a, ALU_SUB, 4, x64_r(T_VAL), s);
            x64_alu_rm_reg(a, ALU_ADD, 4, x64_r(T_VAL), s);
        }
        break;
    }
}

/* Guest registers (bit per 32-bit register) an operand names. */
static uint8_t opnd_reg_bit(const struct operand *o)
{
    if (o->kind != OPND_REG)
        return 0;
    return (uint8_t)(1u << (o->width == 1 ? o->reg & 3 : o->reg & 7));
}

/* Whether `in` can make its flags again later, and how (it wrote all
 * six from register or immediate operands); *out is left alone if not. */
static bool remat_form(const struct insn *in, bool cc_exact, struct remat *out)
{
    struct remat tmp, *r = &tmp;
    const struct operand *d = &in->dst, *src = &in->src;
    /* AND, OR, XOR leave flags that depend on their result alone: their
     * source may be memory (`xor esi, [edi + eax*4]`, a CRC loop's).
     * INC and DEC keep CF: made again from the register, with CF from
     * cpu->cc, which must then hold it (`cc_exact`: the flags were there,
     * not on the host, when the instruction began). */
    bool logic = in->op == OP_AND || in->op == OP_OR || in->op == OP_XOR;
    bool incdec = in->op == OP_INC || in->op == OP_DEC;
    if (d->kind != OPND_REG || in->lock || (incdec && !cc_exact) ||
        (!incdec && src->kind != OPND_REG && src->kind != OPND_IMM &&
         !(logic && src->kind == OPND_MEM)))
        return false;
    unsigned w = d->width;
    if (w == 1 && (d->reg >= 4 || (src->kind == OPND_REG && src->reg >= 4)))
        return false; /* AH..BH */
    r->width = (uint8_t)w;
    r->dst = (uint8_t)d->reg;
    r->src = src->kind == OPND_REG ? (uint8_t)src->reg : 0xff;
    r->imm = in->imm;
    r->regs = (uint8_t)(opnd_reg_bit(d) | opnd_reg_bit(src));
    switch ((enum op)in->op) {
    case OP_TEST: case OP_CMP:
        r->op = (uint8_t)in->op;
        break;
    case OP_AND: case OP_OR: case OP_XOR:
        r->op = OP_AND;
        r->regs = opnd_reg_bit(d);
        break;
    case OP_ADD: case OP_SUB:
        if (w != 4 || (src->kind == OPND_REG && src->reg == d->reg))
            return false;
        r->op = (uint8_t)in->op;
        break;
    case OP_INC: case OP_DEC:
        r->op = (uint8_t)in->op;
        r->src = 0xff;
        r->regs = opnd_reg_bit(d);
        break;
    default:
        return false;
    }
    *out = tmp;
    return true;
}

/* The flag-neutral instructions fault-only flags may stay through, and
 * the guest registers they write. */
static bool neutral_op(const struct insn *in, uint8_t *writes)
{
    *writes = opnd_reg_bit(&in->dst);
    switch ((enum op)in->op) {
    case OP_MOV: case OP_MOVZX: case OP_MOVSX: case OP_LEA: case OP_NOT: case OP_NOP:
        return true;
    case OP_XCHG:
        *writes |= opnd_reg_bit(&in->src);
        return true;
    case OP_PUSH: case OP_POP:
        *writes |= 1u << R_ESP;
        return true;
    default:
        return false;
    }
}

/* Whether operand `o` of `in` is ESP itself (a byte operand 4 is AH). */
static bool names_esp(const struct operand *o)
{
    return o->kind == OPND_REG && o->reg == R_ESP && o->width != 1;
}

/* Whether `in`'s memory operand is one of the block's [ESP + disp] frame
 * slots (gen_mem.c adds the pending ESP moves to its displacement). */
static bool esp_frame_operand(const struct jit_ctx *c, const struct insn *in)
{
    return gen_mem_is_frame(c, in) && in->ea_base == R_ESP;
}

/*
 * Whether instruction `in` may run with ESP moves still pending
 * (gen_ctrl.c "Deferred ESP"): the frame's PUSH and POP of another
 * register or an immediate, CALL and RET (their exits sync), the moves
 * of ESP it folds, a MOV between a
 * frame slot and another register, and register-only arithmetic that
 * does not name ESP. Anything else sees R12 as the guest's ESP (gen_esp_sync
 * first); a helper call, slow path or exit among these syncs anyway.
 */
static bool esp_pending_safe(const struct jit_ctx *c, const struct insn *in)
{
    const struct operand *d = &in->dst, *s = &in->src;
    bool framed = c->frame_insns >> c->idx & 1;
    switch ((enum op)in->op) {
    case OP_PUSH:
        return framed && (d->kind == OPND_IMM || (d->kind == OPND_REG && !names_esp(d)));
    case OP_POP:
        return framed && d->kind == OPND_REG && !names_esp(d);
    case OP_RET:
        return framed;
    case OP_CALL:
        return framed && !names_esp(d) &&
               (d->kind != OPND_MEM || (in->ea_base != R_ESP && in->ea_index != R_ESP) ||
                esp_frame_operand(c, in));
    case OP_LEA:
        if (names_esp(d))
            return gen_ctrl_esp_folds(c, in);
        return in->ea_base != R_ESP && in->ea_index != R_ESP;
    case OP_MOV:
        if (d->kind == OPND_MEM)
            return esp_frame_operand(c, in) &&
                   (s->kind == OPND_IMM || (s->kind == OPND_REG && !names_esp(s)));
        if (s->kind == OPND_MEM)
            return esp_frame_operand(c, in) && d->kind == OPND_REG && !names_esp(d);
        break;
    case OP_ADD: case OP_SUB:
        if (names_esp(d))
            return gen_ctrl_esp_folds(c, in);
        break;
    case OP_OR: case OP_ADC: case OP_SBB: case OP_AND: case OP_XOR: case OP_CMP:
    case OP_TEST: case OP_INC: case OP_DEC: case OP_NEG: case OP_NOT: case OP_MOVZX:
    case OP_MOVSX:
        break;
    default:
        return false;
    }
    /* Registers and immediates only, none of them ESP. */
    const struct operand *ops[3] = { d, s, &in->src2 };
    for (unsigned i = 0; i < 3; i++) {
        unsigned k = ops[i]->kind;
        if ((k != OPND_NONE && k != OPND_REG && k != OPND_IMM && k != OPND_ONE) ||
            names_esp(ops[i]))
            return false;
    }
    return true;
}

void gen_flags_settle(struct jit_ctx *c)
{
    if (!c->fl_lazy)
        return;
    emit_remat(c->a, &c->remat);
    c->fl_lazy = false;
    c->fl_host = true;
}

/* Whether the current instruction may start with fault-only flags: it
 * leaves them and their registers alone, or writes them all, or writes
 * some while the others are dead even to a fault (then the host's hold
 * all that matters after it). */
static bool lazy_eligible(const struct jit_ctx *c)
{
    uint32_t r, w;
    uint8_t writes;
    jit_insn_flags(c->in, &r, &w);
    if (neutral_op(c->in, &writes))
        return !(writes & c->remat.regs);
    return r == 0 && (w == F_ALL || (w != 0 && !(c->live_out & ~w)));
}

void gen_flags_to_cpu(struct jit_ctx *c)
{
    if (c->fl_host && c->live_in) {
        if (c->remat_ok && !c->live_real_in && lazy_eligible(c))
            c->fl_lazy = true; /* only a fault could see them: not saved */
        else
            x64_store_flags(c->a, x64_mem(JIT_CPU, CPU_OFF(cc.res)), T_IDX);
    }
    c->fl_host = false;
}

void gen_flags_save(struct jit_ctx *c)
{
    gen_flags_settle(c);
    if (c->fl_host && c->live_in)
        x64_store_flags(c->a, x64_mem(JIT_CPU, CPU_OFF(cc.res)), T_IDX);
    c->fl_host = false;
}

void gen_flags_to_host(struct jit_ctx *c)
{
    gen_flags_settle(c);
    if (!c->fl_host) {
        x64_load_flags(c->a, x64_mem(JIT_CPU, CPU_OFF(cc.res)), T_IDX);
    }
    c->fl_host = true;
}

void gen_cf_to_host(struct jit_ctx *c)
{
    gen_flags_settle(c);
    if (!c->fl_host)
        x64_bt_imm(c->a, 4, 4, cpu_field(CPU_OFF(cc.res)), 8); /* CF: LAHF's bit 0 */
    c->fl_host = true;
}

/* ------------------------------------------------------------------ */
/* Stubs                                                               */
/* ------------------------------------------------------------------ */

struct stub *gen_stub_new(struct jit_ctx *c, enum stub_kind kind)
{
    if (c->nstubs >= JIT_MAX_STUBS) {
        c->a->bad = true;
        return &c->stubs[0];
    }
    struct stub *s = &c->stubs[c->nstubs++];
    memset(s, 0, sizeof(*s));
    s->kind = (uint8_t)kind;
    return s;
}

void gen_stub_jump(struct jit_ctx *c, struct stub *s, int cc)
{
    /* Slow paths, exits and x87 stubs see R12 as the guest's ESP; a TLB
     * or frame lookup stub comes back to where it was left (its slow
     * path's way syncs first: gen_access_reg). */
    if (s->kind != STUB_TLB && s->kind != STUB_FRAME)
        gen_esp_sync(c);
    size_t f = cc < 0 ? x64_jmp32(c->a) : x64_jcc32(c->a, (enum x64_cc)cc);
    if (s->emitted) {
        /* From a stub emitted after it (a STUB_TLB to its slow path). */
        x64_patch_rel32(c->a, f, s->pos);
        return;
    }
    if (s->nfields >= JIT_MAX_FIELDS) {
        c->a->bad = true;
        return;
    }
    s->fields[s->nfields++] = f;
}

struct stub *gen_slow_stub(struct jit_ctx *c)
{
    gen_esp_sync(c); /* the handler starts from the guest's ESP */
    if (c->slow < 0) {
        struct stub *s = gen_stub_new(c, STUB_SLOW);
        s->ji = c->ji;
        c->slow = (int)(s - c->stubs);
    }
    struct stub *s = &c->stubs[c->slow];
    if (c->fl_lazy) {
        s->remat_flags = 1;
        s->remat = c->remat;
    }
    return s;
}

void gen_jump_slow(struct jit_ctx *c, int cc)
{
    gen_stub_jump(c, gen_slow_stub(c), cc);
}

struct stub *gen_jump_exit(struct jit_ctx *c, int cc, uint32_t eip, unsigned retired)
{
    gen_esp_sync(c);
    if (c->fl_lazy)
        c->a->bad = true; /* never: fault-only flags end before any exit */
    struct stub *s = gen_stub_new(c, STUB_EXIT);
    s->eip = eip;
    s->budget_back = (int32_t)(c->charged - retired);
    gen_stub_jump(c, s, cc);
    return s;
}

struct stub *gen_jump_jc(struct jit_ctx *c, int cc, uint32_t eip, unsigned retired)
{
    gen_esp_sync(c);
    if (c->fl_lazy)
        c->a->bad = true;
    struct stub *s = gen_stub_new(c, STUB_JC);
    s->eip = eip;
    s->key = gen_key_now(c);
    s->budget_back = (int32_t)(c->charged - retired);
    gen_stub_jump(c, s, cc);
    return s;
}

/* An exit's body: give back the instructions not run, set EIP, hand the
 * exit code to the dispatcher. */
static void emit_exit_body(struct jit_ctx *c, const struct stub *s)
{
    struct x64_asm *a = c->a;
    if (s->stale_flags)
        x64_mov_rm_imm(a, 1, cpu_field(CPU_OFF(jit_flags_stale)), s->stale_flags);
    if (s->noframe)
        x64_mov_rm_imm(a, 1, cpu_field(CPU_OFF(jit_noframe)), 1);
    if (s->budget_back)
        x64_alu_rm_imm(a, ALU_ADD, 4, x64_r(JIT_BUDGET), (uint32_t)s->budget_back);
    x64_mov_rm_imm(a, 4, cpu_field(CPU_OFF(eip)), s->eip);
    if (s->exit_code)
        x64_mov_r64_imm(a, T_IDX, s->exit_code);
    else
        x64_alu_rm_reg(a, ALU_XOR, 4, x64_r(T_IDX), T_IDX);
    x64_jmp_abs(a, c->exec_base, c->j->exit_sync);
}

void gen_exit_at(struct jit_ctx *c, uint32_t eip, int32_t budget_back)
{
    struct stub s;
    memset(&s, 0, sizeof(s));
    s.eip = eip;
    s.budget_back = budget_back;
    emit_exit_body(c, &s);
}

static void emit_frame_lookup(struct jit_ctx *c, struct stub *fail, bool window);

static void emit_stubs(struct jit_ctx *c)
{
    struct x64_asm *a = c->a;
    if (c->esp_pending)
        a->bad = true; /* never: every way out of the body syncs ESP */
    for (unsigned i = 0; i < c->nstubs; i++) {
        struct stub *s = &c->stubs[i];
        for (unsigned k = 0; k < s->nfields; k++)
            x64_patch_rel32(a, s->fields[k], a->pos);
        s->emitted = 1;
        s->pos = a->pos;
        if (s->kind == STUB_X87) {
            gen_x87_stub(c, s); /* ends with its exits */
            continue;
        }
        if (s->kind == STUB_TLB) {
            gen_tlb_lookup_stub(c, s);
            continue;
        }
        if (s->kind == STUB_FRAME) {
            emit_frame_lookup(c, s->fail, true);
            size_t f = x64_jmp32(a);
            x64_patch_rel32(a, f, s->resume);
            continue;
        }
        if (s->kind == STUB_SLOW) {
            if (s->remat_flags) {
                emit_remat(a, &s->remat);
                x64_store_flags(a, x64_mem(JIT_CPU, CPU_OFF(cc.res)), T_IDX);
            }
            x64_mov_r64_imm(a, T_IDX, (uint64_t)(uintptr_t)s->ji);
            x64_call_abs(a, c->exec_base, c->j->thunk[s->thunk]);
            if (s->reload_target)
                x64_mov_reg_rm(a, 4, T_ADDR, cpu_field(CPU_OFF(eip)));
            size_t f = x64_jmp32(a);
            x64_patch_rel32(a, f, s->resume);
            continue;
        }
        if (s->tb_exit)
            c->tb->exit_stub[s->tb_exit - 1] = (uint32_t)a->pos;
        if (s->save_flags) {
            x64_store_flags(a, x64_mem(JIT_CPU, CPU_OFF(cc.res)), T_IDX);
            if (s->tb_exit) {
                /* Linked to a block that reads the flags: from here. */
                size_t f = x64_jmp32(a);
                x64_patch_rel32(a, f, a->pos);
                c->tb->exit_save_field[s->tb_exit - 1] = (uint32_t)f;
                c->tb->exit_save_stub[s->tb_exit - 1] = (uint32_t)a->pos;
            }
        }
        if (s->kind == STUB_JC) {
            x64_mov_r32_imm(a, T_ADDR, jit_jc_pc(s->key, c->tb->cs_base, s->eip));
            gen_jc_probe(c, T_ADDR, s->key);
        }
        emit_exit_body(c, s);
    }
}

/* ------------------------------------------------------------------ */
/* Helper calls                                                        */
/* ------------------------------------------------------------------ */

void gen_helper(struct jit_ctx *c)
{
    unsigned thunk = 0;
    gen_esp_sync(c);
    if (c->x87_run)
        c->a->bad = true; /* never: only inline instructions stay inside an x87 run */
    gen_flags_settle(c);
    if (c->fl_host && c->live_in)
        thunk |= JIT_THUNK_SAVE_FLAGS;
    x64_mov_r64_imm(c->a, T_IDX, (uint64_t)(uintptr_t)c->ji);
    x64_call_abs(c->a, c->exec_base, c->j->thunk[thunk]);
    c->fl_host = false;
    if (!jit_ends_block(c->in) && !runs_on_through(c->in)) {
        gen_x87_after_helper(c);
        return;
    }
    /* The handler left the next EIP in cpu->eip. Near transfers and REP
     * string instructions may go on through the jump cache; anything else
     * goes back to the dispatcher, which looks at the new state (mode,
     * interrupts; LDS and the like change the key that the jump cache
     * would look the target up under). */
    c->live_in = F_ALL;
    enum op op = (enum op)c->in->op;
    if (tb_is_near_or_plain(op) && !changes_key(c->in) &&
        jit_jc_holds(c->key, c->tb->cs_base, c->tb->cs_limit)) {
        x64_mov_reg_rm(c->a, 4, T_ADDR, cpu_field(CPU_OFF(eip)));
        gen_exit_indirect(c, T_ADDR, c->idx + 1);
    } else if ((op == OP_JMPF || op == OP_CALLF || op == OP_RETF) &&
               jit_jc_seg16(c->key, c->tb->cs_base, c->tb->cs_limit)) {
        /* A far transfer of real-mode code: CS's new base is its
         * selector << 4, its limit kept, the key the same. */
        x64_mov_reg_rm(c->a, 4, T_ADDR, cpu_field(CPU_OFF(eip)));
        gen_exit_far16(c, T_ADDR, c->idx + 1);
    } else {
        gen_exit_plain(c, c->idx + 1);
    }
}

/* ------------------------------------------------------------------ */
/* The block                                                           */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Frame accesses                                                      */
/* ------------------------------------------------------------------ */

/*
 * 32-bit code reaches its locals and arguments as [EBP + disp] or
 * [ESP + disp] (register-starved compilers spill a lot). When a block
 * never writes the register and has several such operands, one check in
 * its prologue proves all of them in one TLB page (their span fits in a
 * page, and the page's TLB entry allows the accesses), and each access
 * becomes one host instruction on [addend + register + disp] instead of
 * a lookup of its own. A failed check leaves before the first
 * instruction and asks for the block's variant without it (JK_NOFRAME),
 * so nothing about faults changes: the variant makes every access the
 * usual way.
 */
#define FRAME_MIN_ACCESSES 2

/* How many bytes from its address an instruction's memory operand may
 * reach: an x87 operand up to 10 (m80), CMPXCHG8B 8, the far pointers
 * and table registers 6, FXSAVE/FXRSTOR's area 512, an integer operand
 * 4. Only inline forms access through the frame (a helper makes every
 * check itself), but an operand the frame counts is covered whole
 * whichever way its instruction runs. */
static int32_t frame_access_bytes(const struct insn *in)
{
    switch ((enum op)in->op) {
    case OP_X87: return 10;
    case OP_CMPXCHG8B: case OP_BOUND: return 8;
    case OP_LDS: case OP_LES: case OP_LFS: case OP_LGS: case OP_LSS:
    case OP_LGDT: case OP_LIDT: case OP_SGDT: case OP_SIDT: case OP_JMPF: case OP_CALLF:
        return 6;
    case OP_FXSAVE: case OP_FXRSTOR: return 512;
    default: return 4;
    }
}

struct frame_plan {
    int reg;          /* R_EBP or R_ESP, or -1 */
    int64_t lo, hi;   /* displacements: [reg + lo, reg + hi] covers every access */
    bool write;
    uint64_t insns;   /* bit k: instruction k's accesses are the ones covered */
};
_Static_assert(JIT_MAX_INSNS <= 64, "frame_plan.insns has a bit per instruction");

/* Whether `in` writes guest register r (EBP or ESP), by an operand or
 * implicitly. */
static bool writes_frame_reg(const struct insn *in, unsigned r)
{
    if (in->dst.kind == OPND_REG && in->dst.width >= 2 && in->dst.reg == r)
        return true;
    enum op op = (enum op)in->op;
    if ((op == OP_XCHG || op == OP_XADD || op == OP_CMPXCHG) && in->src.kind == OPND_REG &&
        in->src.width >= 2 && in->src.reg == r)
        return true;
    switch (op) {
    case OP_ENTER: case OP_LEAVE: case OP_POPA:
        return true;
    case OP_PUSH: case OP_POP: case OP_PUSHA: case OP_PUSHF: case OP_POPF: case OP_CALL:
    case OP_RET: case OP_POP_SREG:
        return r == R_ESP;
    case OP_JMP: case OP_JCC: case OP_JCXZ: case OP_LOOP: case OP_LOOPE: case OP_LOOPNE:
        return false;
    default:
        /* Far transfers, interrupts, task switches... end their block;
         * count them as writing it. */
        return tb_ends_block(op);
    }
}

/* A [reg + disp] operand a frame could cover, under the block's key. */
static bool frame_candidate(uint32_t key, const struct insn *in, unsigned r)
{
    bool mem = in->dst.kind == OPND_MEM || in->src.kind == OPND_MEM || in->src2.kind == OPND_MEM;
    return mem && in->ea_base == r && in->ea_index == EA_NO_REG && in->adsize == 4 &&
           in->seg < SEG_COUNT && jk_seg(key, in->seg) == SEGK_FLAT && !(key & JK_AC) &&
           in->op != OP_LEA;
}

/* Widens [lo, hi] (offsets from the register's value at block entry)
 * to cover [from, to]. */
static void frame_cover(struct frame_plan *p, int64_t from, int64_t to)
{
    if (from < p->lo)
        p->lo = from;
    if (to > p->hi)
        p->hi = to;
}

/*
 * The frame of register r over the block, or reg = -1: every [r + disp]
 * operand, and for ESP every slot PUSH/POP/CALL/RET touch, as offsets
 * from r's value at entry. ESP may move by amounts known at translation
 * (PUSH, POP, ADD/SUB ESP with an immediate, LEA ESP, [ESP + disp]): the
 * offsets follow it, and the accesses keep addressing [addend + ESP +
 * disp] with the register's current value. Anything else that writes r,
 * before the last instruction, rules it out.
 */
static struct frame_plan plan_one(uint32_t key, const struct insn *insns, unsigned n, unsigned r,
                                  unsigned *count)
{
    struct frame_plan p = { (int)r, INT64_MAX, INT64_MIN, false, 0 };
    struct frame_plan none = { -1, 0, 0, false, 0 };
    bool stack_ok = r == R_ESP && (key & JK_STACK32) && jk_seg(key, SEG_SS) == SEGK_FLAT;
    int64_t d = 0; /* r's value now minus its value at entry */
    *count = 0;
    /* An ESP frame's stack slots (PUSH, POP, CALL, RET: gen_ctrl.c
     * stack_frame) go through it as SS-relative: only with a flat SS
     * are they covered, and [ESP + disp] through another segment alone
     * (DS: [ESP + disp]) makes no frame. Until 2026-12-07 such a frame
     * let a CALL at the block's end push through DS's page, off by SS's
     * base and outside the range proved (fuzz_jit flat,
     * GLASS_FUZZ_SEED=232). */
    if (r == R_ESP && !stack_ok)
        return none;
    for (unsigned k = 0; k < n; k++) {
        const struct insn *in = &insns[k];
        bool last = k + 1 == n;
        if (frame_candidate(key, in, r)) {
            frame_cover(&p, d + in->disp, d + in->disp + frame_access_bytes(in) - 1);
            /* ESP itself here: the access adds disp to its 32-bit value,
             * so that value must not have wrapped either (a block may
             * move ESP below 0 and reach up from there). */
            if (r == R_ESP)
                frame_cover(&p, d, d);
            p.write |= in->dst.kind == OPND_MEM;
            p.insns |= 1ull << k;
            (*count)++;
        }
        if (r != R_ESP || !stack_ok) {
            if (!last && writes_frame_reg(in, r))
                return none;
            continue;
        }
        enum op op = (enum op)in->op;
        unsigned w = in->opsize;
        switch (op) {
        case OP_PUSH:
            frame_cover(&p, d - w, d - 1);
            p.write = true;
            p.insns |= 1ull << k;
            (*count)++;
            d -= w;
            continue;
        case OP_POP:
            if (in->dst.kind != OPND_REG || in->dst.reg == R_ESP)
                return none;
            frame_cover(&p, d, d + w - 1);
            p.insns |= 1ull << k;
            (*count)++;
            d += w;
            continue;
        case OP_CALL:
            frame_cover(&p, d - w, d - 1);
            p.write = true;
            p.insns |= 1ull << k;
            (*count)++;
            continue; /* ends the block */
        case OP_RET:
            frame_cover(&p, d, d + w - 1);
            p.insns |= 1ull << k;
            (*count)++;
            continue; /* ends the block */
        case OP_ADD: case OP_SUB:
            if (in->dst.kind == OPND_REG && in->dst.reg == R_ESP && in->dst.width == 4) {
                if (in->src.kind != OPND_IMM)
                    return none;
                d += op == OP_ADD ? (int32_t)in->imm : -(int64_t)(int32_t)in->imm;
                continue;
            }
            break;
        case OP_LEA:
            if (in->dst.kind == OPND_REG && in->dst.reg == R_ESP) {
                if (in->dst.width != 4 || in->ea_base != R_ESP || in->ea_index != EA_NO_REG ||
                    in->adsize != 4)
                    return none;
                d += in->disp;
                continue;
            }
            break;
        default:
            break;
        }
        if (!last && writes_frame_reg(in, r))
            return none;
    }
    /* One page, and displacements the prologue's LEAs can encode
     * (until 2026-12-07 they were kept in 32 bits, and [EBP + 7FFFFFFDh]
     * fell out of a frame that then reached it anyway). */
    if (*count < FRAME_MIN_ACCESSES || p.hi - p.lo >= 4096 || p.lo < INT32_MIN ||
        p.hi > INT32_MAX)
        return none;
    return p;
}

static struct frame_plan plan_frame(uint32_t key, const struct insn *insns, unsigned n)
{
    struct frame_plan best = { -1, 0, 0, false, 0 };
    if (key & (JK_NOFRAME | JK_AC))
        return best;
    unsigned nebp, nesp;
    struct frame_plan ebp = plan_one(key, insns, n, R_EBP, &nebp);
    struct frame_plan esp = plan_one(key, insns, n, R_ESP, &nesp);
    if (ebp.reg >= 0 && (esp.reg < 0 || nebp >= nesp))
        return ebp;
    return esp;
}

/* The frame's TLB lookup: [reg + lo, reg + hi] in one page whose TLB
 * entry allows the accesses (reads, or reads and writes); the entry's
 * addend into T_FRAME, else out by `fail`. The sums are taken in 64 bits,
 * as the accesses take them ([addend + reg + disp]): both in one page and
 * below 4 GiB, so that no access wraps where the guest's 32-bit address
 * would (a wrapped sum would be 4 GiB away from the page, outside the
 * guest's memory). With `window`, an entry fast for reads and writes both
 * makes its page the frame window (memory.h; the stack's page, mostly,
 * checked again by each block of call-heavy code). */
static void emit_frame_lookup(struct jit_ctx *c, struct stub *fail, bool window)
{
    struct x64_asm *a = c->a;
    unsigned r = jit_host_reg((unsigned)c->frame_reg);
    unsigned user = ((c->key >> JK_CPL_SHIFT) & 3) == 3;
    int32_t win = (int32_t)(offsetof(struct cpu, tlb) + offsetof(struct tlb, window) +
                            user * sizeof(struct tlb_window));
    x64_lea(a, 8, T_ADDR, x64_mem((int)r, (int32_t)c->frame_lo));
    x64_lea(a, 8, T_TAG, x64_mem((int)r, (int32_t)c->frame_hi));
    x64_alu_rm_reg(a, ALU_XOR, 8, x64_r(T_TAG), T_ADDR);
    x64_test_rm_imm(a, 8, x64_r(T_TAG), TLB_PAGE_MASK); /* bits 12-63 */
    gen_stub_jump(c, fail, XCC_NE);
    x64_mov_rm_reg(a, 8, x64_r(T_IDX), T_ADDR);
    x64_shift_imm(a, SH_SHR, 8, x64_r(T_IDX), 32);
    gen_stub_jump(c, fail, XCC_NE);
    x64_mov_rm_reg(a, 4, x64_r(T_IDX), T_ADDR);
    x64_shift_imm(a, SH_SHR, 4, x64_r(T_IDX), 12 - 5);
    x64_alu_rm_imm(a, ALU_AND, 4, x64_r(T_IDX), (TLB_ENTRIES - 1) << 5);
    x64_alu_rm_imm(a, ALU_AND, 4, x64_r(T_ADDR), TLB_PAGE_MASK);
    int32_t entry = (int32_t)(offsetof(struct cpu, tlb) + offsetof(struct tlb, e) +
                              user * TLB_ENTRIES * sizeof(struct tlb_entry));
    int32_t tag = entry + (int32_t)(c->frame_write ? offsetof(struct tlb_entry, tag_write)
                                                   : offsetof(struct tlb_entry, tag_read));
    x64_alu_reg_rm(a, ALU_CMP, 4, T_ADDR, x64_m(x64_mem_idx(JIT_CPU, T_IDX, 0, tag)));
    gen_stub_jump(c, fail, XCC_NE);
    x64_mov_reg_rm(a, 8, T_FRAME,
                   x64_m(x64_mem_idx(JIT_CPU, T_IDX, 0,
                                     entry + (int32_t)offsetof(struct tlb_entry, addend))));
    if (window) {
        /* The entry's other fast path too: the page becomes the window. */
        int32_t other = entry + (int32_t)(c->frame_write ? offsetof(struct tlb_entry, tag_read)
                                                         : offsetof(struct tlb_entry, tag_write));
        x64_alu_reg_rm(a, ALU_CMP, 4, T_ADDR, x64_m(x64_mem_idx(JIT_CPU, T_IDX, 0, other)));
        size_t not_both = x64_jcc8(a, XCC_NE);
        x64_mov_rm_reg(a, 8, x64_m(x64_mem(JIT_CPU, win + (int32_t)offsetof(struct tlb_window,
                                                                             base))),
                       T_ADDR);
        x64_mov_rm_reg(a, 8, x64_m(x64_mem(JIT_CPU, win + (int32_t)offsetof(struct tlb_window,
                                                                             addend))),
                       T_FRAME);
        x64_patch_rel8(a, not_both, a->pos);
    }
}

/* The prologue's exit for a frame it cannot prove: the dispatcher runs
 * the block's variant without frame accesses. Made here, jumped to by
 * the lookup (which may be a stub emitted later: created after it, it is
 * emitted after it too, with every jump to it known). */
static struct stub *frame_fail_exit(struct jit_ctx *c)
{
    struct stub *fail = gen_stub_new(c, STUB_EXIT);
    fail->eip = c->tb->eip;
    fail->budget_back = (int32_t)c->charged;
    fail->noframe = 1;
    return fail;
}

/*
 * The prologue's frame check. The frame window first (memory.h): reg + lo
 * - base, in 64 bits, at most 4095 - span: the whole frame in the window's
 * page, whose addend then serves. Otherwise the lookup, out of line (a
 * STUB_FRAME, which comes back after the window's path): 98 % of Debian's
 * boot's frame checks find the window, whose path so has no jump over
 * the lookup.
 */
static void emit_frame_check(struct jit_ctx *c, const struct frame_plan *p)
{
    struct x64_asm *a = c->a;
    unsigned r = jit_host_reg((unsigned)p->reg);
    unsigned user = ((c->key >> JK_CPL_SHIFT) & 3) == 3;
    int32_t win = (int32_t)(offsetof(struct cpu, tlb) + offsetof(struct tlb, window) +
                            user * sizeof(struct tlb_window));
    int64_t span = p->hi - p->lo;
    c->frame_lo = p->lo;
    c->frame_hi = p->hi;
    c->frame_write = p->write;
    if (span < 0 || span >= 4096) {
        emit_frame_lookup(c, frame_fail_exit(c), false);
        return;
    }
    x64_lea(a, 8, T_ADDR, x64_mem((int)r, (int32_t)p->lo));
    x64_alu_reg_rm(a, ALU_SUB, 8, T_ADDR,
                   x64_m(x64_mem(JIT_CPU, win + (int32_t)offsetof(struct tlb_window, base))));
    x64_alu_rm_imm(a, ALU_CMP, 8, x64_r(T_ADDR), (uint32_t)(4095 - span));
    struct stub *lookup = gen_stub_new(c, STUB_FRAME);
    gen_stub_jump(c, lookup, XCC_A);
    x64_mov_reg_rm(a, 8, T_FRAME,
                   x64_m(x64_mem(JIT_CPU, win + (int32_t)offsetof(struct tlb_window, addend))));
    lookup->resume = a->pos;
    lookup->fail = frame_fail_exit(c);
}

/* With no flag live at a block's entry (`live_in` 0): how many of its
 * first instructions write every arithmetic flag between them; else 0. */
static unsigned flags_written_after(const struct insn *insns, unsigned n, uint32_t live_in)
{
    if (live_in)
        return 0;
    uint32_t written = 0;
    for (unsigned k = 0; k < n; k++) {
        uint32_t r, w;
        jit_insn_flags(&insns[k], &r, &w);
        written |= w;
        if ((written & F_ALL) == F_ALL)
            return k + 1;
    }
    return 0; /* never: with none live at the entry, all are written first */
}

/* The block's instructions, from its start (an x87 loop's body: once
 * from the entry, once more from the first copy's back edge). Returns
 * the EIP after the last one translated. */
static uint32_t emit_insns(struct jit_ctx *c, const struct insn *insns, unsigned n, bool native,
                           const uint32_t *live, const uint32_t *live_real,
                           const uint8_t *charge)
{
    struct x64_asm *a = c->a;
    struct jit_tb *tb = c->tb;
    uint32_t eip = tb->eip;
    for (unsigned k = 0; k < n && !c->ended; k++) {
        struct jit_insn *ji = &tb->insns[k];
        ji->in = insns[k];
        ji->in.fn = ji->in.fn ? cpu_fast_handler(&ji->in) : interp_unimplemented;
        ji->eip = eip;
        ji->next_eip = eip + insns[k].len;
        if (!(c->key & JK_CODE32))
            ji->next_eip &= 0xffff;
        ji->ileft = (int32_t)(charge[k] - k);
        c->charged = charge[k];

        c->in = &ji->in;
        c->ji = ji;
        c->idx = k;
        c->eip = ji->eip;
        c->next_eip = ji->next_eip;
        c->live_in = live[k];
        c->live_out = live[k + 1];
        c->live_real_in = live_real[k];
        c->slow = -1;
        c->resume = 0;

        /* Fault-only flags stay through a flag-neutral instruction that
         * leaves their registers alone, or one that writes them all. */
        uint32_t fr, fw;
        uint8_t fwrites;
        jit_insn_flags(&insns[k], &fr, &fw);
        bool neutral = neutral_op(&insns[k], &fwrites) && !(fwrites & c->remat.regs);
        bool overwrites = fr == 0 && fw == F_ALL;
        if (c->fl_lazy && !neutral && !overwrites)
            gen_flags_settle(c);
        /* Whether cpu->cc holds the flags as this instruction begins. */
        bool cc_exact = !c->fl_host && !c->fl_lazy;
        if (c->esp_pending && !esp_pending_safe(c, &insns[k]))
            gen_esp_sync(c);

        bool done = native && (gen_x87(c) || gen_ctrl(c) || gen_alu(c) || gen_string(c));
        if (done)
            c->j->stats.insns_inline++;
        else
            gen_helper(c);
        if (c->slow >= 0) {
            struct stub *s = &c->stubs[c->slow];
            if (!c->resume)
                gen_esp_sync(c); /* the handler moved ESP itself */
            s->resume = c->resume ? c->resume : a->pos;
            s->thunk = (c->fl_host && c->live_out) ? JIT_THUNK_LOAD_FLAGS : 0;
        }
        if (overwrites || (c->fl_lazy && fw && done))
            c->fl_lazy = false; /* the host's flags hold all that is still needed */
        if (done && c->fl_host && !c->fl_lazy && remat_form(&insns[k], cc_exact, &c->remat))
            c->remat_ok = true;
        else if (!(done && neutral))
            c->remat_ok = false;
        if (!c->remat_ok && c->fl_lazy)
            a->bad = true; /* never: settled above */
        eip = ji->next_eip;
    }
    return eip;
}

/* Translates `n` decoded instructions into `a`; false if the output
 * could not be made (full buffer, or an encoding the emitter refused). */
static bool emit_block(struct jit_ctx *c, const struct insn *insns, unsigned n,
                       bool native)
{
    struct x64_asm *a = c->a;
    struct jit_tb *tb = c->tb;

    /* Liveness: live[k] = flags live before instruction k. An instruction
     * that may trap reads them all (may_trap); so does a side exit (its
     * target may). */
    c->insns = insns;
    c->ninsns = n;
    uint32_t live[JIT_MAX_INSNS + 1], live_real[JIT_MAX_INSNS + 1];
    live[n] = live_real[n] = F_ALL;
    for (unsigned k = n; k-- > 0;) {
        uint32_t r, w;
        jit_insn_flags(&insns[k], &r, &w);
        if (gen_side_exit_at(c, k))
            r = F_ALL;
        live_real[k] = r | (live_real[k + 1] & ~w);
        if (may_trap(&insns[k]))
            r = F_ALL;
        live[k] = r | (live[k + 1] & ~w);
    }

    /* The budget is charged a stretch at a time: at the entry up to the
     * first side exit, after each the stretch up to the next (gen_jcc),
     * so that a side exit taken has charged exactly what ran and jumps
     * to its target with nothing to give back. charge[k]: the
     * instructions charged once instruction k runs. */
    uint8_t charge[JIT_MAX_INSNS];
    for (unsigned k = n, end = n; k-- > 0;) {
        if (gen_side_exit_at(c, k))
            end = k + 1;
        charge[k] = (uint8_t)end;
    }
    c->charge = charge;
    c->charged = charge[0];

    /* Prologue: charge the block to the budget; leave when it is spent
     * (a chain of blocks never runs past its slice by more than one). */
    c->fl_host = false;
    c->fl_lazy = c->remat_ok = false;
    c->ended = false;
    c->nexits = 0;
    c->nstubs = 0;
    c->esp_pending = 0;
    gen_x87_start(c);
    x64_alu_rm_imm(a, ALU_SUB, 4, x64_r(JIT_BUDGET), c->charged);
    struct stub *budget_exit = gen_jump_exit(c, XCC_S, tb->eip, 0);
    /* A block that overwrites the flags before it reads them may be
     * entered with them unsaved (gen_exit_direct, jit_link): leaving here,
     * the flags in cpu->cc are stale. The exit says how many of the
     * block's instructions write them all (none of those can trap: a trap
     * reads the flags), which the engine's loop runs on the careful path
     * before anything can see the state (an interrupt handler its EFLAGS
     * image). */
    budget_exit->stale_flags = (uint8_t)flags_written_after(insns, n, live[0]);
    if (tb->crosses) {
        /* Its second page still translates as at the dispatcher's last
         * check: no TLB flush since (every flush that can change a
         * translation counts in tlb.generation, A20 and map changes
         * included). Links into it always save the flags (jit_link), so
         * leaving here hands the dispatcher exact ones. */
        x64_mov_r64_imm(a, T_VAL, (uint64_t)(uintptr_t)&tb->gen2);
        x64_mov_reg_rm(a, 4, T_VAL, x64_m(x64_mem(T_VAL, 0)));
        x64_alu_reg_rm(a, ALU_CMP, 4, T_VAL, cpu_field(CPU_OFF(tlb.generation)));
        gen_jump_exit(c, XCC_NE, tb->eip, 0);
    }
    if (jit_jc_segmented(c->key)) {
        /* Found in the jump cache by EIP alone (jit.h): CS must be the
         * one this code was translated for. */
        x64_alu_rm_imm(a, ALU_CMP, 4, cpu_field(CPU_OFF(seg[SEG_CS].base)), tb->cs_base);
        struct stub *other_cs = gen_jump_exit(c, XCC_NE, tb->eip, 0);
        other_cs->stale_flags = budget_exit->stale_flags;
        x64_alu_rm_imm(a, ALU_CMP, 4, cpu_field(CPU_OFF(seg[SEG_CS].limit)), tb->cs_limit);
        gen_stub_jump(c, other_cs, XCC_NE);
    }
    if (c->key & JK_TRACE) {
        x64_mov_r64_imm(a, T_IDX, (uint64_t)(uintptr_t)tb);
        x64_call_abs(a, c->exec_base, c->j->thunk[JIT_THUNK_TRACE]);
    }
    struct frame_plan frame = native && !c->j->no_frames_next
                                  ? plan_frame(c->key, insns, n)
                                  : (struct frame_plan){ -1, 0, 0, false, 0 };
    c->frame_reg = frame.reg;
    c->frame_insns = frame.insns;
    tb->framed = frame.reg >= 0;
    if (frame.reg >= 0)
        emit_frame_check(c, &frame);

    if (c->x87_loop) {
        c->x87_loop_stale = budget_exit->stale_flags;
        gen_x87_loop_entry(c);
    }
    uint32_t eip = emit_insns(c, insns, n, native, live, live_real, charge);
    if (c->x87_loop_jump) {
        /* The x87 loop's second copy of its body (gen_x87.c "Loops"),
         * from the translator's state at the first's back edge. */
        unsigned nexits = c->nexits;
        size_t jump = c->x87_loop_jump;
        unsigned char *state = c->x87_loop_state;
        memcpy(c, state, offsetof(struct jit_ctx, stubs));
        c->nexits = nexits;
        c->ended = false;
        c->x87_copy2 = true;
        c->x87_loop_jump = 0;
        c->x87_loop_body = a->pos;
        x64_patch_rel32(a, jump, a->pos);
        eip = emit_insns(c, insns, n, native, live, live_real, charge);
    }
    if (!c->ended) {
        /* Fell off the end: the page end, the size limit, or an
         * instruction that does not decode comes next. */
        gen_x87_end(c);
        gen_exit_direct(c, -1, eip, n);
    }
    tb->flags_in = live[0];
    emit_stubs(c);
    return !a->full && !a->bad;
}

/* -d perfmap: the block's host code named after its guest address in
 * the file perf(1) reads for JIT code (/tmp/perf-PID.map: "START SIZE
 * name" per line, in hex). perf takes the memfd cache for a file and
 * does not look there itself: tests/bench/perf_blocks.py joins the map
 * with perf's samples, to show which guest code the time went to. */
static void perfmap_block(struct jit *j, const struct jit_tb *tb)
{
    struct cpu *cpu = j->cpu;
    if (!(cpu->log_mask & LOG_PERFMAP))
        return;
    if (!j->perfmap) {
        char path[64];
        snprintf(path, sizeof(path), "/tmp/perf-%ld.map", (long)getpid());
        j->perfmap = fopen(path, "w");
        if (!j->perfmap) {
            fprintf(stderr, "glass: -d perfmap: cannot write %s\n", path);
            cpu->log_mask &= ~LOG_PERFMAP;
            return;
        }
        setvbuf(j->perfmap, NULL, _IOLBF, 0); /* perf may read it while we run */
    }
    fprintf(j->perfmap, "%lx %x guest %04x:%08x\n", (unsigned long)(uintptr_t)tb->code,
            tb->code_size, cpu->seg[SEG_CS].sel, tb->eip);
}

/* -d in_asm, out_asm: the guest block and the host code made of it. */
static void trace_block(struct jit *j, const struct jit_tb *tb, const uint8_t *guest,
                        const uint8_t *code)
{
    struct cpu *cpu = j->cpu;
    if (!(cpu->log_mask & (LOG_IN_ASM | LOG_OUT_ASM)) || !cpu->trace_code)
        return;
    char heading[160];
    if (cpu->log_mask & LOG_IN_ASM) {
        snprintf(heading, sizeof(heading),
                 "IN: %04x:%08x (linear %08x, physical %09llx, key %06x, %u instructions)",
                 cpu->seg[SEG_CS].sel, tb->eip, tb->pc, (unsigned long long)tb->paddr, tb->key,
                 tb->n);
        cpu->trace_code(cpu->trace_opaque, heading, tb->eip, guest, tb->bytes,
                        (tb->key & JK_CODE32) ? 32 : 16);
    }
    if (cpu->log_mask & LOG_OUT_ASM) {
        snprintf(heading, sizeof(heading), "OUT: %u bytes for %04x:%08x", tb->code_size,
                 cpu->seg[SEG_CS].sel, tb->eip);
        cpu->trace_code(cpu->trace_opaque, heading, (uintptr_t)tb->code, code, tb->code_size,
                        64);
    }
}

/*
 * The instruction at page offset `off` when it runs on into the next
 * linear page (tb_decode stops before such an instruction; this one then
 * starts a block of its own). Its bytes are gathered into `bytes` from
 * both pages: the next page is translated for a fetch as the CPU would
 * fetch it (a #PF there is this instruction's). Returns its length, and
 * the next page's physical address in *page2; 0 if it does not cross
 * (or is invalid, or passes the CS limit or a 16-bit IP wrap: the
 * careful path runs it).
 */
static unsigned decode_crossing(struct jit *j, const uint8_t *host, unsigned off, bool code32,
                                uint32_t room, struct insn *in, uint8_t bytes[15],
                                uint64_t *page2)
{
    struct cpu *cpu = j->cpu;
    unsigned avail = 4096 - off;
    if (avail >= 15 || decode_insn(in, host + off, avail, code32) != DECODE_MORE)
        return 0;
    if (!code32 && cpu->eip + avail > 0xffff)
        return 0;
    uint64_t paddr2;
    const uint8_t *host2 = cpu_code_page(cpu, cpu->eip + avail, &paddr2);
    if (!host2)
        return 0;
    memcpy(bytes, host + off, avail);
    memcpy(bytes + avail, host2, 15 - avail);
    int r = decode_insn(in, bytes, 15, code32);
    if (r <= (int)avail || (unsigned)r - 1 > room)
        return 0;
    *page2 = paddr2 & ~(uint64_t)0xfff;
    return (unsigned)r;
}

struct jit_tb *jit_translate(struct jit *j, const uint8_t *host, uint64_t paddr, uint32_t key,
                             uint32_t room)
{
    struct cpu *cpu = j->cpu;
    struct insn insns[JIT_MAX_INSNS];
    unsigned off = (unsigned)(paddr & 0xfff), end;
    bool code32 = (key & JK_CODE32) != 0;
    unsigned n = tb_decode(insns, JIT_MAX_INSNS, host, off, code32, room, jit_ends_block, &end);
    uint8_t cross_bytes[15];
    const uint8_t *guest = host + off;
    uint64_t page2 = 0;
    if (n == 0) {
        unsigned len = decode_crossing(j, host, off, code32, room, &insns[0], cross_bytes, &page2);
        if (!len)
            return NULL;
        n = 1;
        end = off + len;
        guest = cross_bytes;
    }

    /* Try natively; if the emitter refused something, the same block
     * with every instruction through its helper; if the buffer filled
     * up, flush and try once more. (GLASS_JIT_HELPERS=1 in the
     * environment makes every instruction a helper call: jit_new.) */
    bool native = !j->helpers_only, flushed = false;
    /* An x87 loop (gen_x87.c "Loops") is found by a first translation
     * and made by a second, which replaces it (a failed second one: the
     * first again, as found). */
    bool x87_loop = false, x87_loop_tried = false;
    unsigned char loop_state[offsetof(struct jit_ctx, stubs)];
    struct jit_stats stats_before;
    for (;;) {
        /* Every block starts on a 64-byte line. With 16-byte starts, a
         * hot block's place within its line moved with the size of
         * unrelated code translated before it: 80 bytes more in the
         * bench's start-up code (paging off) took make bench integer
         * from 0.20 to 0.24 s (its loop is one block) and call from
         * 0.13 to 0.20 s; on 64-byte lines both stay at 0.20 and 0.13. */
        size_t line = (j->code_used + 63) & ~(size_t)63;
        if (line < j->code.size)
            j->code_used = line;
        struct jit_tb *tb = jit_tb_alloc(j, n);
        if (!tb)
            return NULL;
        tb->paddr = paddr;
        tb->eip = cpu->eip;
        tb->cs_base = cpu->seg[SEG_CS].base;
        tb->cs_limit = cpu->seg[SEG_CS].limit;
        tb->pc = tb->cs_base + tb->eip;
        tb->key = key;
        tb->bytes = (uint16_t)(end - off);
        tb->n = (uint16_t)n;
        tb->crosses = end > 4096;
        tb->paddr2 = page2;
        tb->gen2 = cpu->tlb.generation; /* decode_crossing just walked it */

        struct x64_asm a;
        /* The block's code goes here: its pages mapped ahead (a block
         * is at most a few KiB; whatever lies past them faults in). */
        jit_code_prefault(&j->code, j->code_used + 16384);
        x64_init(&a, j->code.rw + j->code_used, j->code.size - j->code_used);
        /* Field by field: the stub array is large and filled as used. */
        struct jit_ctx ctx;
        ctx.j = j;
        ctx.a = &a;
        ctx.exec_base = (uintptr_t)(j->code.rx + j->code_used);
        ctx.tb = tb;
        ctx.key = key;
        ctx.nstubs = 0;
        ctx.x87_loop = x87_loop;
        ctx.x87_loop_seen = ctx.x87_loop_run = ctx.x87_copy2 = false;
        ctx.x87_loop_jump = ctx.x87_loop_body = 0;
        ctx.x87_loop_state = loop_state;
        stats_before = j->stats; /* a translation replaced counts nothing */
        bool ok = emit_block(&ctx, insns, n, native);
        if (ok && native && ctx.x87_loop_seen && !x87_loop_tried &&
            jit_x87_loop_allowed(j, paddr, key)) {
            x87_loop = x87_loop_tried = true;
            j->stats = stats_before;
            continue;
        }
        if (ok) {
            tb->code = j->code.rx + j->code_used;
            tb->code_size = (uint32_t)a.pos;
            j->code_used += (a.pos + 15) & ~(size_t)15;
            j->stats.insns_translated += n;
            j->stats.code_bytes += a.pos;
            if (!jit_tb_commit(j, tb))
                return NULL;
            trace_block(j, tb, guest, a.buf);
            perfmap_block(j, tb);
            return tb;
        }
        if (a.bad && x87_loop) {
            x87_loop = false; /* never: the first translation as it was */
            j->stats = stats_before;
            continue;
        }
        if (a.bad && native) {
            native = false;
            continue;
        }
        if (!a.full || flushed)
            return NULL;
        jit_flush(j);
        flushed = true;
    }
}
