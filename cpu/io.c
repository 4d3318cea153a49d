/*
 * cpu/io.c — IN and OUT, and the I/O permission check they share with
 * INS/OUTS (SDM Vol. 1 chapter 19: 19.5 I/O privilege level, 19.5.2 I/O
 * permission bit map; Vol. 3A 20.2.8 for virtual-8086 mode).
 */
#include "cpu/system_internal.h"

/* A 32-bit TSS (available 9 or busy 11) holds the I/O map base at
 * offset 66H; a 16-bit TSS has no bitmap, so every port is refused. */
#define TSS32_IOMAP_BASE_OFF 0x66u
#define TSS32_MIN_LIMIT 0x67u

static bool tr_is_tss32(const struct cpu *cpu)
{
    unsigned type = AR_TYPE(cpu->tr.ar);
    return !(cpu->tr.ar & AR_S) && (type == 9 || type == 11);
}

/*
 * The bitmap bits of [port, port+size) must all be 0. The processor reads
 * the two bytes at base + port/8 (so a 4-byte access that straddles a
 * byte boundary is covered) and both must lie within the TSS limit, or
 * the access is refused (SDM Vol. 1 19.5.2).
 */
static bool iomap_allows(struct cpu *cpu, uint16_t port, unsigned size)
{
    if (!tr_is_tss32(cpu) || cpu->tr.limit < TSS32_MIN_LIMIT)
        return false;
    uint32_t base = cpu_lin_read(cpu, cpu->tr.base + TSS32_IOMAP_BASE_OFF, 2, true);
    uint32_t off = base + (port >> 3); /* at most 0xffff + 0x1fff: no wrap */
    if (off + 1 > cpu->tr.limit)
        return false;
    uint32_t bits = cpu_lin_read(cpu, cpu->tr.base + off, 2, true);
    uint32_t want = ((1u << size) - 1) << (port & 7);
    return (bits & want) == 0;
}

void cpu_check_io(struct cpu *cpu, uint16_t port, unsigned size)
{
    if (size != 1 && size != 2 && size != 4)
        cpu_raise(cpu, EXC_GP, 0);
    if (!(cpu->cr0 & CR0_PE))
        return; /* real mode: every port is open */
    bool vm = cpu->eflags & FL_VM;
    unsigned iopl = (cpu->eflags & FL_IOPL) >> FL_IOPL_SHIFT;
    /* Protected mode with CPL <= IOPL needs no bitmap; v86 mode always
     * consults it, whatever IOPL (SDM Vol. 3A 20.2.8.1). */
    if (!vm && cpu->cpl <= iopl)
        return;
    if (!iomap_allows(cpu, port, size))
        cpu_raise(cpu, EXC_GP, 0);
}

/* The port of IN/OUT: an 8-bit immediate or DX. */
static uint16_t io_port(const struct cpu *cpu, const struct insn *in, const struct operand *o)
{
    return o->kind == OPND_IMM ? (uint16_t)(in->imm & 0xff) : (uint16_t)(cpu->regs[R_EDX] & 0xffff);
}

static void after_io(struct cpu *cpu, uint16_t port, unsigned size)
{
    /* I/O breakpoints exist only with CR4.DE (SDM Vol. 3A 17.2.4). */
    if ((cpu->dr[7] & 0xff) && (cpu->cr4 & CR4_DE))
        cpu_check_io_breakpoint(cpu, port, size);
}

/* IN AL/AX/EAX, imm8/DX: permission first, then the bus access, then the
 * register (SDM Vol. 2 IN). */
static void op_in(struct cpu *cpu, const struct insn *in)
{
    unsigned size = in->dst.width;
    uint16_t port = io_port(cpu, in, &in->src);
    cpu_check_io(cpu, port, size);
    uint32_t v = io_read(cpu->bus.io, port, size);
    reg_write(cpu, R_EAX, size, v);
    after_io(cpu, port, size);
}

/* OUT imm8/DX, AL/AX/EAX (SDM Vol. 2 OUT). */
static void op_out(struct cpu *cpu, const struct insn *in)
{
    unsigned size = in->src.width;
    uint16_t port = io_port(cpu, in, &in->dst);
    cpu_check_io(cpu, port, size);
    io_write(cpu->bus.io, port, reg_read(cpu, R_EAX, size), size);
    after_io(cpu, port, size);
}

const struct op_handler io_handlers[] = {
    {OP_IN, op_in},
    {OP_OUT, op_out},
    {OP_INVALID, NULL},
};
