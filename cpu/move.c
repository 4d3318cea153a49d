/*
 * cpu/move.c — data movement: MOV (not to a segment register: cpu/seg.c),
 * MOVZX, MOVSX, LEA, XCHG, CBW/CWDE, CWD/CDQ, XLAT, BSWAP, XADD, CMPXCHG,
 * CMPXCHG8B, CMOVcc, SETcc.
 *
 * LAHF and SAHF are with the other flag instructions in cpu/alu.c.
 *
 * Read-modify-write forms write their memory destination before any
 * register, so a fault on the write leaves the registers as they were.
 */
#include "cpu/internal.h"

static inline uint32_t sign_extend(uint32_t v, unsigned width)
{
    if (width == 1)
        return (uint32_t)(int32_t)(int8_t)v;
    if (width == 2)
        return (uint32_t)(int32_t)(int16_t)v;
    return v;
}

/* MOV in all its non-segment-load forms. MOV r/m, Sreg reads the 16-bit
 * selector; into a 32-bit register it is zero-extended, as P6-family
 * processors do (SDM Vol. 2 MOV, "Operation" notes on segment registers). */
static void op_mov(struct cpu *cpu, const struct insn *in)
{
    opnd_write(cpu, in, &in->dst, opnd_read(cpu, in, &in->src));
}

static void op_movzx(struct cpu *cpu, const struct insn *in)
{
    opnd_write(cpu, in, &in->dst, opnd_read(cpu, in, &in->src));
}

static void op_movsx(struct cpu *cpu, const struct insn *in)
{
    uint32_t v = sign_extend(opnd_read(cpu, in, &in->src), in->src.width);
    opnd_write(cpu, in, &in->dst, v);
}

/* LEA: the offset alone, no segment and no memory access; computed at
 * the address size, then truncated or zero-extended to the operand size
 * (SDM Vol. 2 LEA, Table 3-54). A register source is #UD in the decoder. */
static void op_lea(struct cpu *cpu, const struct insn *in)
{
    reg_write(cpu, in->dst.reg, in->dst.width, insn_ea(cpu, in));
}

/* XCHG: the destination (the only one that may be memory) is written
 * first; LOCK is implicit and needs nothing here. */
static void op_xchg(struct cpu *cpu, const struct insn *in)
{
    uint32_t a = opnd_read(cpu, in, &in->dst);
    uint32_t b = opnd_read(cpu, in, &in->src);
    opnd_write(cpu, in, &in->dst, b);
    opnd_write(cpu, in, &in->src, a);
}

/* CBW (AX = sign-extended AL) or CWDE (EAX = sign-extended AX). */
static void op_cbw(struct cpu *cpu, const struct insn *in)
{
    if (in->opsize == 2)
        reg_write(cpu, R_EAX, 2, sign_extend(cpu->regs[R_EAX] & 0xff, 1));
    else
        cpu->regs[R_EAX] = sign_extend(cpu->regs[R_EAX] & 0xffff, 2);
}

/* CWD (DX:AX) or CDQ (EDX:EAX): the accumulator's sign bit fills xDX. */
static void op_cwd(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->opsize;
    uint32_t sign = reg_read(cpu, R_EAX, w) >> (w * 8 - 1);
    reg_write(cpu, R_EDX, w, sign ? 0xffffffffu : 0);
}

/* XLAT: AL = [seg:(E)BX + unsigned AL], the sum wrapped to the address
 * size (SDM Vol. 2 XLAT; DS unless overridden). */
static void op_xlat(struct cpu *cpu, const struct insn *in)
{
    uint32_t off = cpu->regs[R_EBX] + (cpu->regs[R_EAX] & 0xff);
    if (in->adsize == 2)
        off &= 0xffff;
    reg_write(cpu, R_EAX, 1, cpu_read(cpu, in->seg, off, 1));
}

/*
 * BSWAP r32. With a 16-bit operand the SDM says the result is undefined;
 * P6-family (and later Intel) processors leave zero in the low 16 bits,
 * and the upper half is untouched. Glass does the same, so software that
 * probes for it sees what it would on the real CPU.
 */
static void op_bswap(struct cpu *cpu, const struct insn *in)
{
    unsigned r = in->dst.reg;
    if (in->dst.width == 2) {
        reg_write(cpu, r, 2, 0);
        return;
    }
    uint32_t v = cpu->regs[r];
    cpu->regs[r] = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

/*
 * XADD (SDM Vol. 2): TEMP = SRC + DEST; SRC = DEST; DEST = TEMP; flags as
 * ADD. SRC is always a register; with a register destination SRC is
 * written first, so XADD r, r with the same register leaves the sum.
 */
static void op_xadd(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t d = opnd_read(cpu, in, &in->dst);
    uint32_t s = opnd_read(cpu, in, &in->src);
    uint32_t sum = (d + s) & width_mask(w);
    if (in->dst.kind == OPND_MEM) {
        opnd_write(cpu, in, &in->dst, sum);
        opnd_write(cpu, in, &in->src, d);
    } else {
        opnd_write(cpu, in, &in->src, d);
        opnd_write(cpu, in, &in->dst, sum);
    }
    cc_set(cpu, CC_ADD, w, d, s, sum, 0);
}

/*
 * CMPXCHG r/m, r (SDM Vol. 2): compare the accumulator with DEST; equal:
 * DEST = SRC, else the accumulator = DEST. The destination is written
 * either way ("the destination operand is written back if the comparison
 * fails"), so a read-only page faults even on a mismatch. Flags as
 * CMP accumulator, DEST.
 */
static void op_cmpxchg(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t m = width_mask(w);
    uint32_t d = opnd_read(cpu, in, &in->dst);
    uint32_t s = opnd_read(cpu, in, &in->src);
    uint32_t acc = reg_read(cpu, R_EAX, w);
    if (acc == d) {
        opnd_write(cpu, in, &in->dst, s);
    } else {
        opnd_write(cpu, in, &in->dst, d);
        reg_write(cpu, R_EAX, w, d);
    }
    cc_set(cpu, CC_SUB, w, acc, d, (acc - d) & m, 0);
}

/*
 * CMPXCHG8B m64 (SDM Vol. 2): compare EDX:EAX with m64; equal: m64 =
 * ECX:EBX and ZF = 1; else EDX:EAX = m64, ZF = 0, and m64 is written back
 * with its own value. Only ZF changes.
 */
static void op_cmpxchg8b(struct cpu *cpu, const struct insn *in)
{
    uint32_t ea = insn_ea(cpu, in);
    uint64_t mem = cpu_read64(cpu, in->seg, ea);
    uint64_t edx_eax = ((uint64_t)cpu->regs[R_EDX] << 32) | cpu->regs[R_EAX];
    uint32_t fl = flags_arith(cpu) & ~FL_ZF;
    if (mem == edx_eax) {
        cpu_write64(cpu, in->seg, ea, ((uint64_t)cpu->regs[R_ECX] << 32) | cpu->regs[R_EBX]);
        fl |= FL_ZF;
    } else {
        cpu_write64(cpu, in->seg, ea, mem);
        cpu->regs[R_EAX] = (uint32_t)mem;
        cpu->regs[R_EDX] = (uint32_t)(mem >> 32);
    }
    flags_set_arith(cpu, fl);
}

/*
 * CMOVcc r, r/m (SDM Vol. 2 CMOVcc): the source is read whatever the
 * condition (a memory source faults even when the move does not happen);
 * a false condition leaves the destination register entirely unchanged.
 */
static void op_cmovcc(struct cpu *cpu, const struct insn *in)
{
    uint32_t v = opnd_read(cpu, in, &in->src);
    if (flags_cond(cpu, in->cond))
        opnd_write(cpu, in, &in->dst, v);
}

/* SETcc r/m8: 1 if the condition holds, else 0. */
static void op_setcc(struct cpu *cpu, const struct insn *in)
{
    opnd_write(cpu, in, &in->dst, flags_cond(cpu, in->cond) ? 1 : 0);
}

const struct op_handler move_handlers[] = {
    { OP_MOV, op_mov },         { OP_MOVZX, op_movzx },     { OP_MOVSX, op_movsx },
    { OP_LEA, op_lea },         { OP_XCHG, op_xchg },       { OP_CBW, op_cbw },
    { OP_CWD, op_cwd },         { OP_XLAT, op_xlat },       { OP_BSWAP, op_bswap },
    { OP_XADD, op_xadd },       { OP_CMPXCHG, op_cmpxchg }, { OP_CMPXCHG8B, op_cmpxchg8b },
    { OP_CMOVCC, op_cmovcc },   { OP_SETCC, op_setcc },     { OP_INVALID, NULL },
};
