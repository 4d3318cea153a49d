/*
 * cpu/control.c — near control transfers (JMP, Jcc, JCXZ/JECXZ, LOOP,
 * LOOPE, LOOPNE, CALL, RET), BOUND, NOP and UD2.
 *
 * Every near transfer computes the new EIP, masks it to the operand size
 * (a 16-bit operand size clears the upper half, SDM Vol. 2 JMP/CALL
 * "IF OperandSize = 16 THEN EIP <- tempEIP AND 0000FFFFH") and checks it
 * against the CS limit before anything commits: beyond the limit is
 * #GP(0) in every mode, real mode included (SDM Vol. 2 JMP "Real-Address
 * Mode Exceptions").
 *
 * CLC STC CMC CLD STD live with the other flag instructions in cpu/alu.c.
 * Far transfers are in cpu/farctl.c.
 */
#include "cpu/internal.h"

/* The target of a near transfer, masked to `opsize` and checked against
 * the CS limit (#GP(0)). Nothing is committed. */
static uint32_t near_target(struct cpu *cpu, uint32_t target, unsigned opsize)
{
    if (opsize == 2)
        target &= 0xffff;
    if (target > cpu->seg[SEG_CS].limit)
        cpu_raise(cpu, EXC_GP, 0);
    return target;
}

/* The destination of a Jb/Jz-relative transfer: the decoder stored the
 * sign-extended displacement in imm, relative to the next instruction. */
static inline uint32_t rel_target(const struct cpu *cpu, const struct insn *in)
{
    return cpu->next_eip + in->imm;
}

/* JMP rel8/rel16/rel32 and JMP r/m16/r/m32 (near, absolute indirect). */
static void op_jmp(struct cpu *cpu, const struct insn *in)
{
    uint32_t t = in->dst.kind == OPND_IMM ? rel_target(cpu, in) : opnd_read(cpu, in, &in->dst);
    cpu->next_eip = near_target(cpu, t, in->opsize);
}

static void op_jcc(struct cpu *cpu, const struct insn *in)
{
    if (flags_cond(cpu, in->cond))
        cpu->next_eip = near_target(cpu, rel_target(cpu, in), in->opsize);
}

/* The count register of JCXZ/LOOP is CX or ECX by the address size
 * (SDM Vol. 2 Jcc: "JCXZ ... address-size attribute of 16"; LOOP). */
static inline uint32_t count_mask(const struct insn *in)
{
    return in->adsize == 2 ? 0xffffu : 0xffffffffu;
}

static void op_jcxz(struct cpu *cpu, const struct insn *in)
{
    if ((cpu->regs[R_ECX] & count_mask(in)) == 0)
        cpu->next_eip = near_target(cpu, rel_target(cpu, in), in->opsize);
}

/*
 * LOOP / LOOPE / LOOPNE (SDM Vol. 2 LOOP/LOOPcc): decrement the count,
 * branch if it is non-zero and (for E/NE) ZF matches. The decrement is
 * committed only after the target check, so a #GP leaves ECX unchanged.
 * ZF is not modified.
 */
enum loop_kind { LOOP_ALWAYS, LOOP_ZF_SET, LOOP_ZF_CLEAR };

static void loop_common(struct cpu *cpu, const struct insn *in, enum loop_kind kind)
{
    uint32_t m = count_mask(in);
    uint32_t count = (cpu->regs[R_ECX] - 1) & m;
    bool take = count != 0;
    if (take && kind != LOOP_ALWAYS) {
        bool zf = (flags_arith(cpu) & FL_ZF) != 0;
        take = kind == LOOP_ZF_SET ? zf : !zf;
    }
    if (take)
        cpu->next_eip = near_target(cpu, rel_target(cpu, in), in->opsize);
    cpu->regs[R_ECX] = (cpu->regs[R_ECX] & ~m) | count;
}

static void op_loop(struct cpu *cpu, const struct insn *in)
{
    loop_common(cpu, in, LOOP_ALWAYS);
}

static void op_loope(struct cpu *cpu, const struct insn *in)
{
    loop_common(cpu, in, LOOP_ZF_SET);
}

static void op_loopne(struct cpu *cpu, const struct insn *in)
{
    loop_common(cpu, in, LOOP_ZF_CLEAR);
}

/*
 * CALL rel / CALL r/m (near). The target is read and checked against the
 * CS limit first (SDM Vol. 2 CALL: "IF tempEIP is not within code segment
 * limit THEN #GP(0)" precedes the push), then the return address (the
 * next instruction's offset, opsize wide) is pushed; a stack fault leaves
 * ESP unchanged (cpu_push commits last).
 */
static void op_call(struct cpu *cpu, const struct insn *in)
{
    uint32_t t = in->dst.kind == OPND_IMM ? rel_target(cpu, in) : opnd_read(cpu, in, &in->dst);
    t = near_target(cpu, t, in->opsize);
    cpu_push(cpu, cpu->next_eip & width_mask(in->opsize), in->opsize);
    cpu->next_eip = t;
}

/* RET / RET imm16 (near): pop EIP (checked against CS limit), then
 * release imm16 more bytes of stack (SDM Vol. 2 RET). */
static void op_ret(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->opsize;
    uint32_t t = near_target(cpu, cpu_stack_peek(cpu, 0, w), w);
    uint32_t release = in->dst.kind == OPND_IMM ? (in->imm & 0xffff) : 0;
    cpu_set_sp(cpu, cpu_sp(cpu) + w + release);
    cpu->next_eip = t;
}

/*
 * BOUND r16, m16&16 / r32, m32&32 (SDM Vol. 2 BOUND): the array index
 * in the register is compared, signed, against the lower bound at the
 * memory operand and the upper bound just after it; out of range raises
 * #BR, a fault.
 */
static void op_bound(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t ea = insn_ea(cpu, in);
    uint32_t lo = cpu_read(cpu, in->seg, ea, w);
    uint32_t hi = cpu_read(cpu, in->seg, ea + w, w);
    uint32_t idx = reg_read(cpu, in->dst.reg, w);
    int32_t s_idx, s_lo, s_hi;
    if (w == 2) {
        s_idx = (int16_t)idx;
        s_lo = (int16_t)lo;
        s_hi = (int16_t)hi;
    } else {
        s_idx = (int32_t)idx;
        s_lo = (int32_t)lo;
        s_hi = (int32_t)hi;
    }
    if (s_idx < s_lo || s_idx > s_hi)
        cpu_raise(cpu, EXC_BR, 0);
}

/* NOP, PAUSE (F3 90) and the 0F 18-1F hint/NOP space: no effect. The
 * memory operand of NOP Ev is not accessed. */
static void op_nop(struct cpu *cpu, const struct insn *in)
{
    (void)cpu;
    (void)in;
}

/* UD2: the architecturally undefined instruction (SDM Vol. 2 UD2). */
static void op_ud2(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    cpu_raise(cpu, EXC_UD, 0);
}

const struct op_handler control_handlers[] = {
    { OP_JMP, op_jmp },       { OP_JCC, op_jcc },     { OP_JCXZ, op_jcxz },
    { OP_LOOP, op_loop },     { OP_LOOPE, op_loope }, { OP_LOOPNE, op_loopne },
    { OP_CALL, op_call },     { OP_RET, op_ret },     { OP_BOUND, op_bound },
    { OP_NOP, op_nop },       { OP_UD2, op_ud2 },     { OP_INVALID, NULL },
};
