/*
 * test_move.c — cpu/move.c: MOV MOVZX MOVSX LEA XCHG CBW/CWDE CWD/CDQ
 * XLAT BSWAP XADD CMPXCHG CMPXCHG8B CMOVcc SETcc, with the SDM's
 * results and flags.
 */
#include <criterion/criterion.h>

#include "tests/unit/arith_harness.h"

#define MOV_RAM_SIZE (1u << 20)

static struct cpu *mov_cpu(void)
{
    struct cpu *cpu = th_cpu();
    cpu->bus.mem = phys_new();
    phys_map_ram(cpu->bus.mem, 0, MOV_RAM_SIZE, calloc(1, MOV_RAM_SIZE));
    tlb_init(&cpu->tlb);
    for (int s = 0; s < SEG_COUNT; s++)
        cpu->seg[s] = (struct seg){ 0, 0, 0xffffffffu,
                                    AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED | AR_DB };
    cpu->seg[SEG_CS].ar = AR_P | AR_S | AR_T_CODE | AR_T_READABLE | AR_DB;
    cpu->stack32 = 1;
    cpu->code32 = 1;
    return cpu;
}

static int mov_run(struct cpu *cpu, const struct insn *in)
{
    return hh_run(cpu, hh_find(move_handlers, (enum op)in->op), in);
}

static uint32_t mov_mem(struct cpu *cpu, uint32_t addr, unsigned size)
{
    return (uint32_t)phys_read(cpu->bus.mem, addr, size);
}

Test(move, mov_reg_mem_imm)
{
    struct cpu *cpu = mov_cpu();
    cpu->regs[R_EAX] = 0xaabbccdd;
    struct insn in = th_insn(OP_MOV, th_mem(4), th_reg(R_EAX, 4));
    in.disp = 0x100;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(mov_mem(cpu, 0x100, 4), 0xaabbccdd);

    in = th_insn(OP_MOV, th_reg(7 /* BH */, 1), th_mem(1));
    in.disp = 0x101;
    cpu->regs[R_EBX] = 0x11111111;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EBX], 0x1111cc11);

    in = th_insn(OP_MOV, th_reg(R_ECX, 2), th_imm(2));
    in.imm = 0xbeef;
    cpu->regs[R_ECX] = 0x12345678;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0x1234beef);
}

Test(move, mov_from_sreg_zero_extends_r32)
{
    struct cpu *cpu = mov_cpu();
    cpu->seg[SEG_FS].sel = 0x1b;
    cpu->regs[R_EDX] = 0xffffffff;
    struct operand fs = { .kind = OPND_SREG, .width = 2, .reg = SEG_FS };
    struct insn in = th_insn(OP_MOV, th_reg(R_EDX, 4), fs);
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EDX], 0x1b);
}

Test(move, movzx_movsx)
{
    struct cpu *cpu = mov_cpu();
    cpu->regs[R_EAX] = 0x1234f080;
    struct insn in = th_insn(OP_MOVZX, th_reg(R_ECX, 4), th_reg(R_EAX, 1));
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0x80);
    in = th_insn(OP_MOVSX, th_reg(R_ECX, 4), th_reg(R_EAX, 1));
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0xffffff80);
    in = th_insn(OP_MOVSX, th_reg(R_ECX, 4), th_reg(R_EAX, 2));
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0xfffff080);
    cpu->regs[R_ECX] = 0xdead0000;
    in = th_insn(OP_MOVSX, th_reg(R_ECX, 2), th_reg(4 /* AH */, 1));
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0xdeadfff0);
}

Test(move, lea_address_and_operand_size)
{
    struct cpu *cpu = mov_cpu();
    cpu->regs[R_EBX] = 0xfff0;
    cpu->regs[R_ESI] = 0x20;
    struct insn in = th_insn(OP_LEA, th_reg(R_EAX, 4), th_mem(4));
    in.ea_base = R_EBX;
    in.ea_index = R_ESI;
    in.disp = 4;
    in.adsize = 2; /* 16-bit address: wraps */
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0x0014);

    cpu->regs[R_EBX] = 0x12345678;
    cpu->regs[R_EAX] = 0xaaaaaaaa;
    in = th_insn(OP_LEA, th_reg(R_EAX, 2), th_mem(2));
    in.ea_base = R_EBX;
    in.ea_index = R_ESI;
    in.ea_scale = 2;
    in.disp = 1;
    cr_assert_eq(mov_run(cpu, &in), -1); /* 32-bit address truncated to AX */
    cr_assert_eq(cpu->regs[R_EAX], 0xaaaa0000 | ((0x12345678 + 0x80 + 1) & 0xffff));
}

Test(move, xchg_mem_and_reg)
{
    struct cpu *cpu = mov_cpu();
    phys_write(cpu->bus.mem, 0x200, 0x11112222, 4);
    cpu->regs[R_EDX] = 0x33334444;
    struct insn in = th_insn(OP_XCHG, th_mem(4), th_reg(R_EDX, 4));
    in.disp = 0x200;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(mov_mem(cpu, 0x200, 4), 0x33334444);
    cr_assert_eq(cpu->regs[R_EDX], 0x11112222);

    /* A fault on the memory operand leaves the register alone. */
    cpu->seg[SEG_DS].limit = 0x1ff;
    cr_assert_eq(mov_run(cpu, &in), EXC_GP);
    cr_assert_eq(cpu->regs[R_EDX], 0x11112222);
}

Test(move, cbw_cwde_cwd_cdq)
{
    struct cpu *cpu = mov_cpu();
    struct insn in = th_insn(OP_CBW, th_none(), th_none());
    cpu->regs[R_EAX] = 0x12345680;
    in.opsize = 2;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0x1234ff80);
    in.opsize = 4;
    cpu->regs[R_EAX] = 0x12347fff;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0x00007fff);
    cpu->regs[R_EAX] = 0x12348000;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0xffff8000);

    in = th_insn(OP_CWD, th_none(), th_none());
    in.opsize = 2;
    cpu->regs[R_EDX] = 0xabcd1234;
    cr_assert_eq(mov_run(cpu, &in), -1); /* AX = 0x8000 */
    cr_assert_eq(cpu->regs[R_EDX], 0xabcdffff);
    in.opsize = 4;
    cpu->regs[R_EAX] = 0x7fffffff;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EDX], 0);
    cpu->regs[R_EAX] = 0x80000000;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EDX], 0xffffffff);
}

Test(move, xlat_address_size)
{
    struct cpu *cpu = mov_cpu();
    phys_write(cpu->bus.mem, 0x0005, 0x5a, 1);      /* 16-bit: BX 0xfff0 + 0x15 wraps */
    phys_write(cpu->bus.mem, 0x10005, 0xa5, 1);     /* 32-bit: no wrap */
    cpu->regs[R_EBX] = 0xfff0;
    cpu->regs[R_EAX] = 0x12345615;
    struct insn in = th_insn(OP_XLAT, th_reg(R_EAX, 1), th_none());
    in.adsize = 2;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0x1234565a);
    cpu->regs[R_EAX] = 0x12345615;
    in.adsize = 4;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0x123456a5);
}

Test(move, bswap)
{
    struct cpu *cpu = mov_cpu();
    cpu->regs[R_ESI] = 0x11223344;
    struct insn in = th_insn(OP_BSWAP, th_reg(R_ESI, 4), th_none());
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ESI], 0x44332211);
    in = th_insn(OP_BSWAP, th_reg(R_ESI, 2), th_none());
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ESI], 0x44330000);
}

Test(move, xadd_flags_and_same_register)
{
    struct cpu *cpu = mov_cpu();
    phys_write(cpu->bus.mem, 0x300, 0xffffffff, 4);
    cpu->regs[R_ECX] = 1;
    struct insn in = th_insn(OP_XADD, th_mem(4), th_reg(R_ECX, 4));
    in.disp = 0x300;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(mov_mem(cpu, 0x300, 4), 0);
    cr_assert_eq(cpu->regs[R_ECX], 0xffffffff);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_ZF | FL_PF | FL_AF);

    cpu->regs[R_EAX] = 0x40;
    in = th_insn(OP_XADD, th_reg(R_EAX, 1), th_reg(R_EAX, 1));
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0x80);
    cr_assert_eq(flags_arith(cpu), FL_OF | FL_SF);
}

Test(move, cmpxchg_equal_and_not)
{
    struct cpu *cpu = mov_cpu();
    phys_write(cpu->bus.mem, 0x400, 0x1234, 2);
    cpu->regs[R_EAX] = 0xffff1234;
    cpu->regs[R_EBX] = 0x5678;
    struct insn in = th_insn(OP_CMPXCHG, th_mem(2), th_reg(R_EBX, 2));
    in.disp = 0x400;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(mov_mem(cpu, 0x400, 2), 0x5678);
    cr_assert_eq(flags_arith(cpu), FL_ZF | FL_PF);

    /* Mismatch: AX = 0x1234 - 0x5678 borrow; AX gets the memory value. */
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(mov_mem(cpu, 0x400, 2), 0x5678);
    cr_assert_eq(cpu->regs[R_EAX], 0xffff5678);
    uint32_t f = flags_arith(cpu);
    cr_assert_eq(f & (FL_ZF | FL_CF | FL_SF), FL_CF | FL_SF);
}

Test(move, cmpxchg_mismatch_writes_destination)
{
    struct cpu *cpu = mov_cpu();
    /* A read-only (code) DS in protected mode: the write-back faults. */
    cpu->cr0 = CR0_PE;
    cpu->seg[SEG_DS].ar = AR_P | AR_S | AR_T_CODE | AR_T_READABLE | AR_DB;
    phys_write(cpu->bus.mem, 0x400, 7, 4);
    cpu->regs[R_EAX] = 1;
    struct insn in = th_insn(OP_CMPXCHG, th_mem(4), th_reg(R_EBX, 4));
    in.disp = 0x400;
    cr_assert_eq(mov_run(cpu, &in), EXC_GP);
    cr_assert_eq(cpu->regs[R_EAX], 1);
}

Test(move, cmpxchg8b)
{
    struct cpu *cpu = mov_cpu();
    phys_write(cpu->bus.mem, 0x500, 0x1122334455667788ull, 8);
    cpu->regs[R_EDX] = 0x11223344;
    cpu->regs[R_EAX] = 0x55667788;
    cpu->regs[R_ECX] = 0xaaaaaaaa;
    cpu->regs[R_EBX] = 0xbbbbbbbb;
    th_set_flags(cpu, FL_CF);
    struct insn in = th_insn(OP_CMPXCHG8B, th_mem(8), th_none());
    in.disp = 0x500;
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(phys_read(cpu->bus.mem, 0x500, 8), 0xaaaaaaaabbbbbbbbull);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_ZF);

    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EDX], 0xaaaaaaaa);
    cr_assert_eq(cpu->regs[R_EAX], 0xbbbbbbbb);
    cr_assert_eq(flags_arith(cpu), FL_CF);
}

Test(move, cmov_false_keeps_dest_but_reads_source)
{
    struct cpu *cpu = mov_cpu();
    th_set_flags(cpu, 0);
    cpu->regs[R_EAX] = 0xdeadbeef;
    cpu->regs[R_ECX] = 0x1234;
    struct insn in = th_insn(OP_CMOVCC, th_reg(R_EAX, 4), th_reg(R_ECX, 4));
    in.cond = 4; /* CMOVE, ZF = 0: false */
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0xdeadbeef);
    in.cond = 5; /* CMOVNE */
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0x1234);

    /* Memory source beyond the limit faults even when false. */
    cpu->seg[SEG_DS].limit = 0xfff;
    in = th_insn(OP_CMOVCC, th_reg(R_EAX, 4), th_mem(4));
    in.disp = 0x2000;
    in.cond = 4;
    cr_assert_eq(mov_run(cpu, &in), EXC_GP);
}

Test(move, setcc)
{
    struct cpu *cpu = mov_cpu();
    th_set_flags(cpu, FL_SF); /* SF != OF: less */
    cpu->regs[R_EDX] = 0xffffffff;
    struct insn in = th_insn(OP_SETCC, th_reg(R_EDX, 1), th_none());
    in.cond = 0xc; /* SETL */
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EDX], 0xffffff01);
    in.cond = 0xd; /* SETGE */
    cr_assert_eq(mov_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EDX], 0xffffff00);
}
