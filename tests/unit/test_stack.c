/*
 * test_stack.c — cpu/stack.c: the push/pop primitives (16- and 32-bit
 * stacks, wrap, fault atomicity) and PUSH POP PUSHA POPA PUSHF POPF
 * ENTER LEAVE, checked against the SDM's pseudocode and notes.
 */
#include <criterion/criterion.h>

#include "tests/unit/arith_harness.h"

#define STK_RAM_SIZE (1u << 20)

/* A CPU with 1 MiB of RAM at 0, paging off, flat 4 GiB data segments
 * (real-mode style: no type checks) and a 32-bit stack. */
static struct cpu *stk_cpu(void)
{
    struct cpu *cpu = th_cpu();
    cpu->bus.mem = phys_new();
    phys_map_ram(cpu->bus.mem, 0, STK_RAM_SIZE, calloc(1, STK_RAM_SIZE));
    tlb_init(&cpu->tlb);
    for (int s = 0; s < SEG_COUNT; s++)
        cpu->seg[s] = (struct seg){ 0, 0, 0xffffffffu,
                                    AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED | AR_DB };
    cpu->seg[SEG_CS].ar = AR_P | AR_S | AR_T_CODE | AR_T_READABLE | AR_DB;
    cpu->stack32 = 1;
    cpu->code32 = 1;
    return cpu;
}

static uint32_t stk_mem(struct cpu *cpu, uint32_t addr, unsigned size)
{
    return (uint32_t)phys_read(cpu->bus.mem, addr, size);
}

static void stk_poke(struct cpu *cpu, uint32_t addr, uint32_t v, unsigned size)
{
    phys_write(cpu->bus.mem, addr, v, size);
}

static int stk_run(struct cpu *cpu, const struct insn *in)
{
    return hh_run(cpu, hh_find(stack_handlers, (enum op)in->op), in);
}

static struct insn stk_insn(enum op op, unsigned opsize, struct operand dst)
{
    struct insn in = th_insn(op, dst, th_none());
    in.opsize = (uint8_t)opsize;
    return in;
}

Test(stack, push_pop_32)
{
    struct cpu *cpu = stk_cpu();
    cpu->regs[R_ESP] = 0x1000;
    cpu_push(cpu, 0x11223344, 4);
    cr_assert_eq(cpu->regs[R_ESP], 0xffc);
    cr_assert_eq(stk_mem(cpu, 0xffc, 4), 0x11223344);
    cpu_push(cpu, 0xabcd, 2);
    cr_assert_eq(cpu->regs[R_ESP], 0xffa);
    cr_assert_eq(cpu_stack_peek(cpu, 2, 4), 0x11223344);
    cr_assert_eq(cpu_pop(cpu, 2), 0xabcd);
    cr_assert_eq(cpu_pop(cpu, 4), 0x11223344);
    cr_assert_eq(cpu->regs[R_ESP], 0x1000);
}

Test(stack, sixteen_bit_stack_wraps_and_keeps_upper_esp)
{
    struct cpu *cpu = stk_cpu();
    cpu->stack32 = 0;
    cpu->seg[SEG_SS].limit = 0xffff;
    cpu->regs[R_ESP] = 0xabcd0000;
    cr_assert_eq(cpu_sp(cpu), 0);
    cpu_push(cpu, 0x1234, 2);
    cr_assert_eq(cpu->regs[R_ESP], 0xabcdfffe);
    cr_assert_eq(stk_mem(cpu, 0xfffe, 2), 0x1234);
    cr_assert_eq(cpu_pop(cpu, 2), 0x1234);
    cr_assert_eq(cpu->regs[R_ESP], 0xabcd0000);
}

Test(stack, push_fault_leaves_esp)
{
    struct cpu *cpu = stk_cpu();
    cpu->seg[SEG_SS].limit = 0xfff;
    cpu->regs[R_ESP] = 0x1002; /* new ESP 0xffe: bytes 0xffe-0x1001 cross the limit */
    struct insn in = stk_insn(OP_PUSH, 4, th_reg(R_EAX, 4));
    cr_assert_eq(stk_run(cpu, &in), EXC_SS);
    cr_assert_eq(cpu->regs[R_ESP], 0x1002);
}

Test(stack, push_esp_pushes_old_value)
{
    struct cpu *cpu = stk_cpu();
    cpu->regs[R_ESP] = 0x2000;
    struct insn in = stk_insn(OP_PUSH, 4, th_reg(R_ESP, 4));
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(stk_mem(cpu, 0x1ffc, 4), 0x2000);
    cr_assert_eq(cpu->regs[R_ESP], 0x1ffc);
}

Test(stack, push_imm_sign_extended_16)
{
    struct cpu *cpu = stk_cpu();
    cpu->regs[R_ESP] = 0x2000;
    struct insn in = stk_insn(OP_PUSH, 2, th_imm(2));
    in.imm = 0xfffffff0; /* sIb -16 as the decoder leaves it */
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ESP], 0x1ffe);
    cr_assert_eq(stk_mem(cpu, 0x1ffe, 2), 0xfff0);
}

Test(stack, push_sreg_32_writes_only_16_bits)
{
    struct cpu *cpu = stk_cpu();
    cpu->regs[R_ESP] = 0x2000;
    cpu->seg[SEG_DS].sel = 0x1234;
    stk_poke(cpu, 0x1ffc, 0xaaaaaaaa, 4);
    struct operand ds = { .kind = OPND_SREG, .width = 4, .reg = SEG_DS };
    struct insn in = stk_insn(OP_PUSH, 4, ds);
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ESP], 0x1ffc);
    cr_assert_eq(stk_mem(cpu, 0x1ffc, 4), 0xaaaa1234);
}

Test(stack, pop_esp_and_pop_reg16)
{
    struct cpu *cpu = stk_cpu();
    cpu->regs[R_ESP] = 0x3000;
    stk_poke(cpu, 0x3000, 0x00005555, 4);
    struct insn in = stk_insn(OP_POP, 4, th_reg(R_ESP, 4));
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ESP], 0x5555);

    cpu->regs[R_ESP] = 0x3000;
    cpu->regs[R_EBX] = 0xdead0000;
    stk_poke(cpu, 0x3000, 0xbeef, 2);
    in = stk_insn(OP_POP, 2, th_reg(R_EBX, 2));
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EBX], 0xdeadbeef);
    cr_assert_eq(cpu->regs[R_ESP], 0x3002);
}

Test(stack, pop_mem_esp_base_uses_incremented_esp)
{
    struct cpu *cpu = stk_cpu();
    cpu->regs[R_ESP] = 0x3000;
    stk_poke(cpu, 0x3000, 0xcafef00d, 4);
    struct insn in = stk_insn(OP_POP, 4, th_mem(4));
    in.ea_base = R_ESP;
    in.disp = 4;
    in.seg = SEG_SS;
    cr_assert_eq(stk_run(cpu, &in), -1);
    /* EA = new ESP (0x3004) + 4 */
    cr_assert_eq(stk_mem(cpu, 0x3008, 4), 0xcafef00d);
    cr_assert_eq(stk_mem(cpu, 0x3004, 4), 0);
    cr_assert_eq(cpu->regs[R_ESP], 0x3004);
}

Test(stack, pusha_popa_32)
{
    struct cpu *cpu = stk_cpu();
    for (unsigned r = 0; r < 8; r++)
        cpu->regs[r] = 0x11111111u * (r + 1);
    cpu->regs[R_ESP] = 0x4000;
    struct insn in = stk_insn(OP_PUSHA, 4, th_none());
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ESP], 0x4000 - 32);
    cr_assert_eq(stk_mem(cpu, 0x3ffc, 4), 0x11111111);   /* EAX first */
    cr_assert_eq(stk_mem(cpu, 0x3fec, 4), 0x4000);       /* original ESP */
    cr_assert_eq(stk_mem(cpu, 0x3fe0, 4), 0x88888888);   /* EDI last */

    for (unsigned r = 0; r < 8; r++)
        if (r != R_ESP)
            cpu->regs[r] = 0;
    stk_poke(cpu, 0x3fec, 0x12345678, 4); /* the ESP slot is skipped */
    in = stk_insn(OP_POPA, 4, th_none());
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0x11111111);
    cr_assert_eq(cpu->regs[R_EDI], 0x88888888);
    cr_assert_eq(cpu->regs[R_EBP], 0x66666666);
    cr_assert_eq(cpu->regs[R_ESP], 0x4000);
}

Test(stack, pusha_fault_writes_nothing)
{
    struct cpu *cpu = stk_cpu();
    cpu->seg[SEG_SS].limit = 0xfff;
    cpu->regs[R_ESP] = 0x1008; /* block 0xfe8-0x1007 crosses the limit */
    cpu->regs[R_EDI] = 0x77777777;
    struct insn in = stk_insn(OP_PUSHA, 4, th_none());
    cr_assert_eq(stk_run(cpu, &in), EXC_SS);
    cr_assert_eq(cpu->regs[R_ESP], 0x1008);
    cr_assert_eq(stk_mem(cpu, 0xfe8, 4), 0);
}

Test(stack, pushf_clears_vm_rf)
{
    struct cpu *cpu = stk_cpu();
    cpu->regs[R_ESP] = 0x2000;
    cpu->eflags = FL_FIXED1 | FL_RF | FL_IF | FL_AC;
    th_set_flags(cpu, FL_CF | FL_ZF);
    struct insn in = stk_insn(OP_PUSHF, 4, th_none());
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(stk_mem(cpu, 0x1ffc, 4), FL_FIXED1 | FL_IF | FL_AC | FL_CF | FL_ZF);
}

Test(stack, pushf_v86)
{
    struct cpu *cpu = stk_cpu();
    cpu->regs[R_ESP] = 0x2000;
    cpu->cr0 = CR0_PE;
    cpu->cpl = 3;
    cpu->eflags = FL_FIXED1 | FL_VM | FL_VIF; /* IOPL 0, IF 0 */
    struct insn in = stk_insn(OP_PUSHF, 2, th_none());
    cr_assert_eq(stk_run(cpu, &in), EXC_GP);
    cpu->cr4 = CR4_VME;
    in = stk_insn(OP_PUSHF, 4, th_none());
    cr_assert_eq(stk_run(cpu, &in), EXC_GP); /* VME covers only 16 bits */
    in = stk_insn(OP_PUSHF, 2, th_none());
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(stk_mem(cpu, 0x1ffe, 2), FL_FIXED1 | FL_IF | FL_IOPL);
}

Test(stack, popf_privilege_masks)
{
    struct cpu *cpu = stk_cpu();
    cpu->regs[R_ESP] = 0x2000;
    uint32_t img = FL_FIXED1 | FL_IOPL | FL_IF | FL_CF | FL_VM | FL_RF | FL_VIF | FL_AC;
    stk_poke(cpu, 0x2000, img, 4);

    /* CPL 0: IOPL and IF change; VM, VIF stay; RF is cleared. */
    cpu->eflags = FL_FIXED1 | FL_RF;
    struct insn in = stk_insn(OP_POPF, 4, th_none());
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu_get_eflags(cpu), FL_FIXED1 | FL_IOPL | FL_IF | FL_CF | FL_AC);
    cr_assert_eq(cpu->regs[R_ESP], 0x2004);

    /* CPL 3 > IOPL 0: neither IOPL nor IF change. */
    cpu->regs[R_ESP] = 0x2000;
    cpu->cpl = 3;
    cpu->cr0 = CR0_PE;
    cpu->eflags = FL_FIXED1;
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu_get_eflags(cpu), FL_FIXED1 | FL_CF | FL_AC);

    /* CPL 3 <= IOPL 3: IF changes, IOPL does not. */
    cpu->regs[R_ESP] = 0x2000;
    stk_poke(cpu, 0x2000, FL_FIXED1, 4);
    cpu->eflags = FL_FIXED1 | FL_IOPL | FL_IF;
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu_get_eflags(cpu), FL_FIXED1 | FL_IOPL);
}

Test(stack, popf_v86_vme)
{
    struct cpu *cpu = stk_cpu();
    cpu->cr0 = CR0_PE;
    cpu->cpl = 3;
    cpu->regs[R_ESP] = 0x2000;
    stk_poke(cpu, 0x2000, FL_FIXED1 | FL_IF | FL_CF, 2);
    cpu->eflags = FL_FIXED1 | FL_VM; /* IOPL 0 */
    struct insn in = stk_insn(OP_POPF, 2, th_none());
    cr_assert_eq(stk_run(cpu, &in), EXC_GP); /* no VME */
    cpu->cr4 = CR4_VME;
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu_get_eflags(cpu), FL_FIXED1 | FL_VM | FL_VIF | FL_CF);
    cr_assert_eq(cpu->regs[R_ESP], 0x2002);

    /* VIP pending and the image sets IF: #GP, nothing popped. */
    cpu->regs[R_ESP] = 0x2000;
    cpu->eflags = FL_FIXED1 | FL_VM | FL_VIP;
    cr_assert_eq(stk_run(cpu, &in), EXC_GP);
    cr_assert_eq(cpu->regs[R_ESP], 0x2000);
    /* TF in the image: #GP. */
    cpu->eflags = FL_FIXED1 | FL_VM;
    stk_poke(cpu, 0x2000, FL_FIXED1 | FL_TF, 2);
    cr_assert_eq(stk_run(cpu, &in), EXC_GP);
}

Test(stack, enter_leave_level0)
{
    struct cpu *cpu = stk_cpu();
    cpu->regs[R_ESP] = 0x5000;
    cpu->regs[R_EBP] = 0xbbbb;
    struct insn in = stk_insn(OP_ENTER, 4, th_imm(2));
    in.imm = 0x10;
    in.imm2 = 0;
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(stk_mem(cpu, 0x4ffc, 4), 0xbbbb);
    cr_assert_eq(cpu->regs[R_EBP], 0x4ffc);
    cr_assert_eq(cpu->regs[R_ESP], 0x4ffc - 0x10);

    in = stk_insn(OP_LEAVE, 4, th_none());
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EBP], 0xbbbb);
    cr_assert_eq(cpu->regs[R_ESP], 0x5000);
}

Test(stack, enter_nested_level3)
{
    struct cpu *cpu = stk_cpu();
    cpu->regs[R_ESP] = 0x5000;
    cpu->regs[R_EBP] = 0x6000;
    stk_poke(cpu, 0x6000 - 4, 0xd1d1d1d1, 4);
    stk_poke(cpu, 0x6000 - 8, 0xd2d2d2d2, 4);
    struct insn in = stk_insn(OP_ENTER, 4, th_imm(2));
    in.imm = 8;
    in.imm2 = 32 + 3; /* level is taken modulo 32 */
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(stk_mem(cpu, 0x4ffc, 4), 0x6000);     /* old EBP */
    cr_assert_eq(stk_mem(cpu, 0x4ff8, 4), 0xd1d1d1d1); /* display copies */
    cr_assert_eq(stk_mem(cpu, 0x4ff4, 4), 0xd2d2d2d2);
    cr_assert_eq(stk_mem(cpu, 0x4ff0, 4), 0x4ffc);     /* FrameTemp */
    cr_assert_eq(cpu->regs[R_EBP], 0x4ffc);
    cr_assert_eq(cpu->regs[R_ESP], 0x4ff0 - 8);
}

/*
 * SDM ENTER pseudocode, 32-bit operand size on a 16-bit stack (SS.B = 0):
 * Push(EBP) moves SP alone, then "FrameTemp := ESP": the frame pointer is
 * the whole ESP, upper word included, in EBP and in the display's last
 * slot. The display is read through BP, 4 bytes at a time, wrapping at
 * 64 KiB ("BP := BP - 4; Push([BP])"); SP alone moves for the allocation.
 */
Test(stack, enter_o32_on_16bit_stack)
{
    struct cpu *cpu = stk_cpu();
    cpu->stack32 = 0;
    cpu->seg[SEG_SS].ar &= ~AR_DB;
    cpu->regs[R_ESP] = 0x00010000;
    cpu->regs[R_EBP] = 0x00030008;
    stk_poke(cpu, 0x0004, 0xd1d1d1d1, 4);
    stk_poke(cpu, 0x0000, 0xd2d2d2d2, 4);
    stk_poke(cpu, 0xfffc, 0xd3d3d3d3, 4); /* BP 0008h - 12, wrapped */
    struct insn in = stk_insn(OP_ENTER, 4, th_imm(2));
    in.imm = 8;
    in.imm2 = 36; /* level 4 */
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(stk_mem(cpu, 0xfffc, 4), 0x00030008); /* old EBP */
    cr_assert_eq(stk_mem(cpu, 0xfff8, 4), 0xd1d1d1d1);
    cr_assert_eq(stk_mem(cpu, 0xfff4, 4), 0xd2d2d2d2);
    cr_assert_eq(stk_mem(cpu, 0xfff0, 4), 0xd3d3d3d3);
    cr_assert_eq(stk_mem(cpu, 0xffec, 4), 0x0001fffc, "FrameTemp %#x",
                 stk_mem(cpu, 0xffec, 4));
    cr_assert_eq(cpu->regs[R_EBP], 0x0001fffc, "EBP %#x", cpu->regs[R_EBP]);
    cr_assert_eq(cpu->regs[R_ESP], 0x0001ffe4, "ESP %#x", cpu->regs[R_ESP]);

    /* Level 0: the same FrameTemp. */
    cpu->regs[R_ESP] = 0x00010000;
    cpu->regs[R_EBP] = 0x12345678;
    in.imm2 = 0;
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EBP], 0x0001fffc);
    cr_assert_eq(cpu->regs[R_ESP], 0x0001fff4);
    cr_assert_eq(stk_mem(cpu, 0xfffc, 4), 0x12345678);
}

/* 16-bit operand size on a 32-bit stack: "FrameTemp := SP", the display
 * read through EBP in 2-byte steps ("EBP := EBP - 2; Push([EBP])"), ESP
 * moved in full, and only BP written ("bits 16 and above ... are
 * unmodified"). */
Test(stack, enter_o16_on_32bit_stack)
{
    struct cpu *cpu = stk_cpu();
    cpu->regs[R_ESP] = 0x00020000;
    cpu->regs[R_EBP] = 0x00010004;
    stk_poke(cpu, 0x10002, 0xd1d1, 2);
    stk_poke(cpu, 0x10000, 0xd2d2, 2);
    struct insn in = stk_insn(OP_ENTER, 2, th_imm(2));
    in.imm = 0x10;
    in.imm2 = 3;
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(stk_mem(cpu, 0x1fffe, 2), 0x0004); /* old BP */
    cr_assert_eq(stk_mem(cpu, 0x1fffc, 2), 0xd1d1);
    cr_assert_eq(stk_mem(cpu, 0x1fffa, 2), 0xd2d2);
    cr_assert_eq(stk_mem(cpu, 0x1fff8, 2), 0xfffe); /* FrameTemp = SP */
    cr_assert_eq(cpu->regs[R_EBP], 0x0001fffe);
    cr_assert_eq(cpu->regs[R_ESP], 0x0001ffe8);
}

/* 16-bit operand size on a 16-bit stack: SP and BP wrap at 64 KiB, the
 * upper words of ESP and EBP stay. */
Test(stack, enter_o16_on_16bit_stack)
{
    struct cpu *cpu = stk_cpu();
    cpu->stack32 = 0;
    cpu->seg[SEG_SS].ar &= ~AR_DB;
    cpu->regs[R_ESP] = 0x00050002;
    cpu->regs[R_EBP] = 0x00070010;
    stk_poke(cpu, 0x000e, 0xd1d1, 2);
    struct insn in = stk_insn(OP_ENTER, 2, th_imm(2));
    in.imm = 4;
    in.imm2 = 2;
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(stk_mem(cpu, 0x0000, 2), 0x0010); /* old BP */
    cr_assert_eq(stk_mem(cpu, 0xfffe, 2), 0xd1d1);
    cr_assert_eq(stk_mem(cpu, 0xfffc, 2), 0x0000); /* FrameTemp = SP */
    cr_assert_eq(cpu->regs[R_EBP], 0x00070000);
    cr_assert_eq(cpu->regs[R_ESP], 0x0005fff8);
}

Test(stack, enter_fault_commits_nothing)
{
    struct cpu *cpu = stk_cpu();
    cpu->seg[SEG_SS].limit = 0xfff;
    cpu->regs[R_ESP] = 0x1004; /* EBP push at 0x1000: beyond the limit */
    cpu->regs[R_EBP] = 0x800;
    struct insn in = stk_insn(OP_ENTER, 4, th_imm(2));
    in.imm = 4;
    in.imm2 = 1;
    cr_assert_eq(stk_run(cpu, &in), EXC_SS);
    cr_assert_eq(cpu->regs[R_ESP], 0x1004);
    cr_assert_eq(cpu->regs[R_EBP], 0x800);
}

/*
 * test386 POST 1A: ENTER must fault when "a write using the final value of
 * the stack pointer (within the current stack segment) would cause a page
 * fault" (SDM ENTER, protected-mode exceptions), before anything is
 * written. Here the EBP push lands on a user page, but the final ESP after
 * allocating 4 bytes is on the supervisor page below it, at CPL 3.
 */
Test(stack, enter_final_sp_page_fault)
{
    struct cpu *cpu = stk_cpu();
    const uint32_t pd = 0x10000, pt = 0x11000;
    stk_poke(cpu, pd, pt | 7, 4); /* PDE 0: present, writable, user */
    for (uint32_t i = 0; i < 256; i++)
        stk_poke(cpu, pt + i * 4, (i << 12) | (i == 0x20 ? 3 : 7), 4);
    cpu->cr0 = CR0_PE | CR0_PG;
    cpu->cr3 = pd;
    cpu->cpl = 3;
    tlb_flush_all(&cpu->tlb);
    cpu->regs[R_ESP] = 0x21004;
    cpu->regs[R_EBP] = 0x1234;
    stk_poke(cpu, 0x21000, 0xdeadbeef, 4);
    struct insn in = stk_insn(OP_ENTER, 4, th_imm(2));
    in.imm = 4;
    in.imm2 = 0;
    cr_assert_eq(stk_run(cpu, &in), EXC_PF);
    cr_assert_eq(cpu->exc_error, 7); /* P | W/R | U/S */
    cr_assert_eq(cpu->cr2, 0x20ffc);
    cr_assert_eq(cpu->regs[R_ESP], 0x21004);
    cr_assert_eq(cpu->regs[R_EBP], 0x1234);
    cr_assert_eq(stk_mem(cpu, 0x21000, 4), 0xdeadbeef);

    /* With no allocation the final ESP is the FrameTemp slot: no fault. */
    in.imm = 0;
    cr_assert_eq(stk_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ESP], 0x21000);
    cr_assert_eq(stk_mem(cpu, 0x21000, 4), 0x1234);
}

/* SDM ENTER: #SS(0) "if the new value of the SP or ESP register is outside
 * the stack segment limit" -- here an expand-down stack whose lowest valid
 * offset is 0x1000, with the pushes inside and the final ESP below it. */
Test(stack, enter_final_sp_outside_limit)
{
    struct cpu *cpu = stk_cpu();
    cpu->exc_delivering = -1; /* a fault of the program itself: EXT = 0 */
    cpu->seg[SEG_SS].ar |= AR_T_EXPDOWN;
    cpu->seg[SEG_SS].limit = 0xfff;
    cpu->regs[R_ESP] = 0x1008;
    cpu->regs[R_EBP] = 0x55;
    struct insn in = stk_insn(OP_ENTER, 4, th_imm(2));
    in.imm = 0x10;
    in.imm2 = 0;
    cr_assert_eq(stk_run(cpu, &in), EXC_SS);
    cr_assert_eq(cpu->exc_error, 0);
    cr_assert_eq(cpu->regs[R_ESP], 0x1008);
    cr_assert_eq(cpu->regs[R_EBP], 0x55);
}
