/*
 * test_control.c — cpu/control.c: near JMP/Jcc/JCXZ/LOOPcc/CALL/RET with
 * their operand-size masking and CS-limit checks, BOUND, UD2.
 */
#include <criterion/criterion.h>

#include "tests/unit/arith_harness.h"

#define CTL_RAM_SIZE (1u << 20)

static struct cpu *ctl_cpu(void)
{
    struct cpu *cpu = th_cpu();
    cpu->bus.mem = phys_new();
    phys_map_ram(cpu->bus.mem, 0, CTL_RAM_SIZE, calloc(1, CTL_RAM_SIZE));
    tlb_init(&cpu->tlb);
    for (int s = 0; s < SEG_COUNT; s++)
        cpu->seg[s] = (struct seg){ 0, 0, 0xffffffffu,
                                    AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED | AR_DB };
    cpu->seg[SEG_CS].ar = AR_P | AR_S | AR_T_CODE | AR_T_READABLE | AR_DB;
    cpu->stack32 = 1;
    cpu->code32 = 1;
    cpu->regs[R_ESP] = 0x8000;
    return cpu;
}

static int ctl_run(struct cpu *cpu, const struct insn *in)
{
    return hh_run(cpu, hh_find(control_handlers, (enum op)in->op), in);
}

/* A relative branch at `eip` of `len` bytes with displacement `rel`. */
static struct insn ctl_rel(struct cpu *cpu, enum op op, unsigned opsize, uint32_t eip,
                           unsigned len, int32_t rel)
{
    struct insn in = th_insn(op, th_imm(opsize), th_none());
    in.opsize = (uint8_t)opsize;
    in.len = (uint8_t)len;
    in.imm = (uint32_t)rel;
    cpu->eip = eip;
    cpu->next_eip = eip + len;
    return in;
}

Test(control, jmp_rel_32_and_16_wrap)
{
    struct cpu *cpu = ctl_cpu();
    struct insn in = ctl_rel(cpu, OP_JMP, 4, 0x1000, 2, -0x12);
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, 0x1002 - 0x12);

    /* 16-bit operand size: IP wraps within 64 KiB. */
    cpu->seg[SEG_CS].limit = 0xffff;
    in = ctl_rel(cpu, OP_JMP, 2, 0xfffc, 3, 0x10);
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, (0xffff + 0x10) & 0xffff);
}

Test(control, jmp_beyond_cs_limit_is_gp)
{
    struct cpu *cpu = ctl_cpu();
    cpu->seg[SEG_CS].limit = 0xffff;
    struct insn in = ctl_rel(cpu, OP_JMP, 4, 0xfff0, 5, 0x100);
    cr_assert_eq(ctl_run(cpu, &in), EXC_GP);
    cr_assert_eq(cpu->next_eip, 0xfff5);
}

Test(control, jmp_indirect_reg16_masks)
{
    struct cpu *cpu = ctl_cpu();
    cpu->regs[R_EAX] = 0x12345678;
    struct insn in = th_insn(OP_JMP, th_reg(R_EAX, 2), th_none());
    in.opsize = 2;
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, 0x5678);
}

Test(control, jcc_taken_and_not)
{
    struct cpu *cpu = ctl_cpu();
    th_set_flags(cpu, FL_ZF);
    struct insn in = ctl_rel(cpu, OP_JCC, 4, 0x100, 2, 0x20);
    in.cond = 4; /* JE */
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, 0x122);
    in = ctl_rel(cpu, OP_JCC, 4, 0x100, 2, 0x20);
    in.cond = 5; /* JNE */
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, 0x102);
}

Test(control, jcxz_uses_address_size)
{
    struct cpu *cpu = ctl_cpu();
    cpu->regs[R_ECX] = 0x10000;
    struct insn in = ctl_rel(cpu, OP_JCXZ, 4, 0x100, 2, 0x10);
    in.adsize = 2; /* JCXZ: CX is zero */
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, 0x112);
    in = ctl_rel(cpu, OP_JCXZ, 4, 0x100, 2, 0x10);
    in.adsize = 4; /* JECXZ: ECX is not */
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, 0x102);
}

Test(control, loop_counts_cx_or_ecx)
{
    struct cpu *cpu = ctl_cpu();
    cpu->regs[R_ECX] = 0x10001;
    struct insn in = ctl_rel(cpu, OP_LOOP, 4, 0x100, 2, -2);
    in.adsize = 2;
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0x10000); /* CX hit 0: falls through */
    cr_assert_eq(cpu->next_eip, 0x102);

    in = ctl_rel(cpu, OP_LOOP, 4, 0x100, 2, -2);
    in.adsize = 4;
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0xffff);
    cr_assert_eq(cpu->next_eip, 0x100);

    /* CX = 0 wraps to 0xffff and branches. */
    cpu->regs[R_ECX] = 0xabcd0000;
    in = ctl_rel(cpu, OP_LOOP, 4, 0x100, 2, -2);
    in.adsize = 2;
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0xabcdffff);
    cr_assert_eq(cpu->next_eip, 0x100);
}

Test(control, loope_loopne)
{
    struct cpu *cpu = ctl_cpu();
    cpu->regs[R_ECX] = 5;
    th_set_flags(cpu, FL_ZF);
    struct insn in = ctl_rel(cpu, OP_LOOPE, 4, 0x100, 2, 0x8);
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, 0x10a);
    cr_assert_eq(cpu->regs[R_ECX], 4);
    in = ctl_rel(cpu, OP_LOOPNE, 4, 0x100, 2, 0x8);
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, 0x102);
    cr_assert_eq(cpu->regs[R_ECX], 3);
    cr_assert_eq(flags_arith(cpu), FL_ZF); /* flags untouched */
}

Test(control, loop_gp_leaves_ecx)
{
    struct cpu *cpu = ctl_cpu();
    cpu->seg[SEG_CS].limit = 0xfff;
    cpu->regs[R_ECX] = 7;
    struct insn in = ctl_rel(cpu, OP_LOOP, 4, 0xff0, 2, 0x40);
    cr_assert_eq(ctl_run(cpu, &in), EXC_GP);
    cr_assert_eq(cpu->regs[R_ECX], 7);
}

Test(control, call_rel_and_ret_imm)
{
    struct cpu *cpu = ctl_cpu();
    struct insn in = ctl_rel(cpu, OP_CALL, 4, 0x2000, 5, 0x300);
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, 0x2305);
    cr_assert_eq(cpu->regs[R_ESP], 0x7ffc);
    cr_assert_eq(phys_read(cpu->bus.mem, 0x7ffc, 4), 0x2005);

    /* RET 8 */
    cpu->eip = 0x2305;
    in = th_insn(OP_RET, th_imm(2), th_none());
    in.imm = 8;
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, 0x2005);
    cr_assert_eq(cpu->regs[R_ESP], 0x8000 + 8);
}

Test(control, call_beyond_limit_pushes_nothing)
{
    struct cpu *cpu = ctl_cpu();
    cpu->seg[SEG_CS].limit = 0xffff;
    struct insn in = ctl_rel(cpu, OP_CALL, 4, 0xff00, 5, 0x1000);
    cr_assert_eq(ctl_run(cpu, &in), EXC_GP);
    cr_assert_eq(cpu->regs[R_ESP], 0x8000);
    cr_assert_eq(phys_read(cpu->bus.mem, 0x7ffc, 4), 0);
}

Test(control, call16_pushes_ip_and_ret16)
{
    struct cpu *cpu = ctl_cpu();
    cpu->regs[R_EAX] = 0x00001234;
    struct insn in = th_insn(OP_CALL, th_reg(R_EAX, 2), th_none());
    in.opsize = 2;
    cpu->eip = 0x500;
    cpu->next_eip = 0x502;
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, 0x1234);
    cr_assert_eq(cpu->regs[R_ESP], 0x7ffe);
    cr_assert_eq(phys_read(cpu->bus.mem, 0x7ffe, 2), 0x502);

    in = th_insn(OP_RET, th_none(), th_none());
    in.opsize = 2;
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cr_assert_eq(cpu->next_eip, 0x502);
    cr_assert_eq(cpu->regs[R_ESP], 0x8000);
}

Test(control, ret_beyond_limit_keeps_esp)
{
    struct cpu *cpu = ctl_cpu();
    cpu->seg[SEG_CS].limit = 0xffff;
    phys_write(cpu->bus.mem, 0x8000, 0x10000, 4);
    struct insn in = th_insn(OP_RET, th_none(), th_none());
    cr_assert_eq(ctl_run(cpu, &in), EXC_GP);
    cr_assert_eq(cpu->regs[R_ESP], 0x8000);
}

Test(control, bound_signed)
{
    struct cpu *cpu = ctl_cpu();
    /* bounds [-5, 10] as 32-bit values at 0x3000 */
    phys_write(cpu->bus.mem, 0x3000, (uint32_t)-5, 4);
    phys_write(cpu->bus.mem, 0x3004, 10, 4);
    struct insn in = th_insn(OP_BOUND, th_reg(R_EAX, 4), th_mem(8));
    in.disp = 0x3000;
    cpu->regs[R_EAX] = (uint32_t)-5;
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cpu->regs[R_EAX] = 10;
    cr_assert_eq(ctl_run(cpu, &in), -1);
    cpu->regs[R_EAX] = 11;
    cr_assert_eq(ctl_run(cpu, &in), EXC_BR);
    cpu->regs[R_EAX] = (uint32_t)-6; /* unsigned compare would pass this */
    cr_assert_eq(ctl_run(cpu, &in), EXC_BR);

    /* 16-bit: [0x8000, 0x7fff] is the whole range. */
    phys_write(cpu->bus.mem, 0x3000, 0x7fff8000, 4);
    in = th_insn(OP_BOUND, th_reg(R_EAX, 2), th_mem(4));
    in.opsize = 2;
    in.disp = 0x3000;
    cpu->regs[R_EAX] = 0xffff;
    cr_assert_eq(ctl_run(cpu, &in), -1);
}

Test(control, ud2_and_nop)
{
    struct cpu *cpu = ctl_cpu();
    struct insn in = th_insn(OP_UD2, th_none(), th_none());
    cr_assert_eq(ctl_run(cpu, &in), EXC_UD);
    in = th_insn(OP_NOP, th_none(), th_none());
    cr_assert_eq(ctl_run(cpu, &in), -1);
}
