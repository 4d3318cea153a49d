/*
 * cpu/operand.c — reading and writing the operands the decoder resolved.
 */
#include <stdlib.h>

#include "cpu/internal.h"

/* The out-of-line copy, for callers outside the hot handlers. */
uint32_t insn_ea(const struct cpu *cpu, const struct insn *in)
{
    return insn_ea_inl(cpu, in);
}

uint32_t opnd_read_slow(struct cpu *cpu, const struct insn *in, const struct operand *o)
{
    switch (o->kind) {
    case OPND_REG:
        return reg_read(cpu, o->reg, o->width);
    case OPND_MEM:
        return cpu_read(cpu, in->seg, insn_ea(cpu, in), o->width);
    case OPND_IMM:
        return in->imm & width_mask(o->width);
    case OPND_IMM2:
        return in->imm2 & width_mask(o->width);
    case OPND_SREG:
        return cpu->seg[o->reg].sel;
    case OPND_ONE:
        return 1;
    default:
        /* CREG/DREG are read by their handlers: reaching here is a bug in
         * a table, not something a guest can cause. */
        abort();
    }
}

void opnd_write_slow(struct cpu *cpu, const struct insn *in, const struct operand *o, uint32_t v)
{
    switch (o->kind) {
    case OPND_REG:
        reg_write(cpu, o->reg, o->width, v);
        return;
    case OPND_MEM:
        cpu_write(cpu, in->seg, insn_ea(cpu, in), v, o->width);
        return;
    default:
        abort();
    }
}
