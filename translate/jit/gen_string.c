/*
 * translate/jit/gen_string.c — the string instructions without a REP
 * prefix, inline: LODS, STOS, MOVS, SCAS, CMPS (SDM Vol. 2 each; Vol. 1
 * 7.3.9). Kernels run them one element at a time in their string
 * functions (i386 Linux's strcmp is a LODSB/SCASB loop); as helper calls
 * they cost a trip through the thunk each (Debian's boot made 1.9 M LODS
 * and 1.8 M SCAS helper calls).
 *
 * The element's accesses come first (the source at in->seg:ESI, the
 * destination at ES:EDI, which no prefix overrides), each through the
 * inline TLB lookup with the instruction's slow path behind it; only then
 * do ESI and EDI move on, by LEA (the flags stay), so a fault leaves the
 * registers as they were and the handler runs the whole instruction
 * again, as cpu/string.c does. EFLAGS.DF lives in cpu->eflags: when set,
 * the slow path runs the instruction (the code assumes forward steps,
 * what the ABI of every OS leaves DF at).
 *
 * Declined (helper): REP forms (cpu/string.c runs them a page at a time),
 * 16-bit address size (SI/DI wrap at 64 KiB), INS/OUTS, a segment the
 * key gives no inline class, alignment checks.
 */
#include "translate/jit/gen.h"

static bool string_op(unsigned op)
{
    return op == OP_LODS || op == OP_STOS || op == OP_MOVS || op == OP_SCAS || op == OP_CMPS;
}

static bool reads_source(unsigned op)
{
    return op == OP_LODS || op == OP_MOVS || op == OP_CMPS;
}

static bool uses_destination(unsigned op)
{
    return op != OP_LODS;
}

bool gen_string(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    unsigned op = in->op;
    if (!string_op(op) || in->rep != REP_NONE || in->adsize != 4 || (c->key & JK_AC))
        return false;
    if (reads_source(op) && (in->seg >= SEG_COUNT || jk_seg(c->key, in->seg) == SEGK_OTHER))
        return false;
    if (uses_destination(op) && jk_seg(c->key, SEG_ES) == SEGK_OTHER)
        return false;
    struct x64_asm *a = c->a;
    unsigned w = in->dst.width;
    const unsigned esi = jit_host_reg(R_ESI), edi = jit_host_reg(R_EDI);
    const unsigned eax = jit_host_reg(R_EAX);
    const struct x64_rm at = x64_m(x64_mem(T_ADDR, 0));

    /* The flags go to cpu->cc first: the DF test and the lookups clobber
     * the host's. */
    gen_flags_to_cpu(c);
    x64_test_rm_imm(a, 4, cpu_field(CPU_OFF(eflags)), FL_DF);
    gen_jump_slow(c, XCC_NE);

    if (reads_source(op)) {
        x64_mov_rm_reg(a, 4, x64_r(T_ADDR), esi);
        gen_access(c, in->seg, w, false);
        if (op == OP_LODS)
            x64_mov_reg_rm(a, w, eax, at);
        else
            x64_mov_reg_rm(a, w, T_VAL, at);
    }
    if (uses_destination(op)) {
        x64_mov_rm_reg(a, 4, x64_r(T_ADDR), edi);
        gen_access(c, SEG_ES, w, op == OP_STOS || op == OP_MOVS);
        switch (op) {
        case OP_STOS: x64_mov_rm_reg(a, w, at, eax); break;
        case OP_MOVS: x64_mov_rm_reg(a, w, at, T_VAL); break;
        case OP_SCAS: x64_alu_reg_rm(a, ALU_CMP, w, eax, at); break; /* AL - [EDI] */
        default: x64_alu_reg_rm(a, ALU_CMP, w, T_VAL, at); break;    /* CMPS: [ESI] - [EDI] */
        }
    }
    if (reads_source(op))
        x64_lea(a, 4, esi, x64_mem((int)esi, (int32_t)w));
    if (uses_destination(op))
        x64_lea(a, 4, edi, x64_mem((int)edi, (int32_t)w));
    if (op == OP_SCAS || op == OP_CMPS)
        c->fl_host = true;
    return true;
}
