/*
 * test_debug.c — cpu/debug.c: breakpoint matching in DR7 (enable bits,
 * R/W kinds, LEN and alignment), instruction breakpoints as faults
 * suppressed by RF, data/I-O breakpoints and single-step as traps (SDM
 * Vol. 3A 17.2-17.3). Also the data path from cpu/mem.c, and the MOV SS /
 * POP SS shadow that holds debug traps over one instruction (6.8.3).
 */
#include <criterion/criterion.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/system_internal.h"
#include "translate/translate.h"

#define DBG_RAM_SIZE (1u << 16)
static uint8_t dbg_ram[DBG_RAM_SIZE];

static struct cpu *dbg_cpu(void)
{
    struct phys_mem *pm = phys_new();
    cr_assert_eq(phys_map_ram(pm, 0, DBG_RAM_SIZE, dbg_ram), 0);
    struct cpu_bus bus = { .mem = pm, .io = io_new() };
    struct cpu *cpu = cpu_new(&bus);
    cr_assert_not_null(cpu);
    return cpu;
}

static void dbg_free(struct cpu *cpu)
{
    phys_free(cpu->bus.mem);
    io_free(cpu->bus.io);
    cpu_free(cpu);
}

/* DR7 value enabling breakpoint i (L bit) with R/W rw and LEN code len. */
static uint32_t dr7_bp(unsigned i, unsigned rw, unsigned len)
{
    return DR7_FIXED1 | (1u << (2 * i)) | (rw << (16 + 4 * i)) | (len << (18 + 4 * i));
}

/* The debug entry points and one memory write, run with a landing pad:
 * each returns the vector raised, or -1. */
enum dbg_call { CALL_BEFORE, CALL_AFTER, CALL_AFTER_TF, CALL_WRITE_DS_134 };

static int dbg_run(struct cpu *cpu, enum dbg_call call)
{
    jmp_buf jb;
    cpu->fault_jmp = &jb;
    cpu->exc_vector = -1;
    if (setjmp(jb)) {
        cpu->fault_jmp = NULL;
        return cpu->exc_vector;
    }
    switch (call) {
    case CALL_BEFORE:
        cpu_debug_before_insn(cpu);
        break;
    case CALL_AFTER:
        cpu_debug_after_insn(cpu, false);
        break;
    case CALL_AFTER_TF:
        cpu_debug_after_insn(cpu, true);
        break;
    case CALL_WRITE_DS_134:
        cpu_write(cpu, SEG_DS, 0x134, 0xaa, 1);
        break;
    }
    cpu->fault_jmp = NULL;
    return -1;
}

Test(debug, data_write_breakpoint_lengths)
{
    struct cpu *cpu = dbg_cpu();
    /* LEN 11 (4 bytes) at 0x1002: aligned down to 0x1000-0x1003. */
    cpu->dr[1] = 0x1002;
    cpu->dr[7] = dr7_bp(1, 1, 3);
    cpu_check_data_breakpoint(cpu, 0x1000, 1, true);
    cr_assert_eq(cpu->dr6_pending, 1u << 1);
    cpu->dr6_pending = 0;
    cpu_check_data_breakpoint(cpu, 0x0ffe, 2, true); /* 0xffe-0xfff: no */
    cr_assert_eq(cpu->dr6_pending, 0u);
    cpu_check_data_breakpoint(cpu, 0x0fff, 2, true); /* touches 0x1000 */
    cr_assert_eq(cpu->dr6_pending, 1u << 1);
    cpu->dr6_pending = 0;
    cpu_check_data_breakpoint(cpu, 0x1003, 1, false); /* a read: write-only bp */
    cr_assert_eq(cpu->dr6_pending, 0u);
    cpu_check_data_breakpoint(cpu, 0x1004, 4, true);
    cr_assert_eq(cpu->dr6_pending, 0u);
    /* LEN 01 (2 bytes) at 0x2001 covers 0x2000-0x2001. */
    cpu->dr[0] = 0x2001;
    cpu->dr[7] = dr7_bp(0, 3, 1);
    cpu_check_data_breakpoint(cpu, 0x2000, 1, false);
    cr_assert_eq(cpu->dr6_pending, 1u);
    cpu->dr6_pending = 0;
    cpu_check_data_breakpoint(cpu, 0x2002, 1, true);
    cr_assert_eq(cpu->dr6_pending, 0u);
    dbg_free(cpu);
}

Test(debug, disabled_and_exec_kinds_ignored_by_data_path)
{
    struct cpu *cpu = dbg_cpu();
    cpu->dr[2] = 0x3000;
    /* R/W set but neither L2 nor G2. */
    cpu->dr[7] = DR7_FIXED1 | (3u << (16 + 8)) | 1u /* L0 */;
    cpu->dr[0] = 0x3000; /* bp0 is an execution breakpoint */
    cpu_check_data_breakpoint(cpu, 0x3000, 4, true);
    cr_assert_eq(cpu->dr6_pending, 0u);
    /* G bit enables too. */
    cpu->dr[7] = DR7_FIXED1 | (2u << 4) /* G2 */ | (1u << (16 + 8));
    cpu_check_data_breakpoint(cpu, 0x3000, 1, true);
    cr_assert_eq(cpu->dr6_pending, 1u << 2);
    dbg_free(cpu);
}

Test(debug, several_breakpoints_match_together)
{
    struct cpu *cpu = dbg_cpu();
    cpu->dr[0] = 0x100;
    cpu->dr[3] = 0x103;
    cpu->dr[7] = dr7_bp(0, 3, 0) | dr7_bp(3, 1, 0);
    cpu_check_data_breakpoint(cpu, 0x100, 4, true);
    cr_assert_eq(cpu->dr6_pending, (1u << 0) | (1u << 3));
    dbg_free(cpu);
}

Test(debug, memory_access_records_hit)
{
    struct cpu *cpu = dbg_cpu();
    cpu->seg[SEG_DS].base = 0x100;
    cpu->dr[0] = 0x234;
    cpu->dr[7] = dr7_bp(0, 1, 3);
    cr_assert_eq(dbg_run(cpu, CALL_WRITE_DS_134), -1);
    cr_assert_eq(cpu->dr6_pending, 1u);
    cr_assert_eq(dbg_ram[0x234], 0xaa);
    dbg_free(cpu);
}

Test(debug, instruction_breakpoint_fault_and_rf)
{
    struct cpu *cpu = dbg_cpu();
    cpu->seg[SEG_CS].base = 0x10000;
    cpu->eip = 0x20;
    cpu->dr[2] = 0x10020;
    cpu->dr[7] = dr7_bp(2, 0, 0);
    cpu->dr[6] = 0xffff0ff0u | 1u; /* stale B0 is replaced */
    cr_assert_eq(dbg_run(cpu, CALL_BEFORE), EXC_DB);
    cr_assert_eq(cpu->dr[6], 0xffff0ff0u | (1u << 2));
    cr_assert_eq(cpu->eip, 0x20u); /* a fault: EIP at the instruction */
    cpu->eflags |= FL_RF;
    cr_assert_eq(dbg_run(cpu, CALL_BEFORE), -1);
    cpu->eflags &= ~FL_RF;
    cpu->eip = 0x21;
    cr_assert_eq(dbg_run(cpu, CALL_BEFORE), -1);
    dbg_free(cpu);
}

Test(debug, before_insn_drops_stale_data_hits)
{
    struct cpu *cpu = dbg_cpu();
    cpu->dr[7] = dr7_bp(0, 1, 0);
    cpu->dr6_pending = 1;
    cr_assert_eq(dbg_run(cpu, CALL_BEFORE), -1);
    cr_assert_eq(cpu->dr6_pending, 0u);
    dbg_free(cpu);
}

Test(debug, traps_after_instruction)
{
    struct cpu *cpu = dbg_cpu();
    /* Single step only: BS, B bits clear. */
    cr_assert_eq(dbg_run(cpu, CALL_AFTER_TF), EXC_DB);
    cr_assert_eq(cpu->dr[6], 0xffff0ff0u | (1u << 14));
    /* Data hit with single step. */
    cpu->dr[6] = 0xffff0ff0u;
    cpu->dr6_pending = 1u << 3;
    cr_assert_eq(dbg_run(cpu, CALL_AFTER_TF), EXC_DB);
    cr_assert_eq(cpu->dr[6], 0xffff0ff0u | (1u << 14) | (1u << 3));
    cr_assert_eq(cpu->dr6_pending, 0u);
    /* Data hit alone. */
    cpu->dr[6] = 0xffff0ff0u;
    cpu->dr6_pending = 1u << 1;
    cr_assert_eq(dbg_run(cpu, CALL_AFTER), EXC_DB);
    cr_assert_eq(cpu->dr[6], 0xffff0ff0u | (1u << 1));
    /* Nothing. */
    cr_assert_eq(dbg_run(cpu, CALL_AFTER), -1);
    dbg_free(cpu);
}

Test(debug, io_breakpoints_need_de)
{
    struct cpu *cpu = dbg_cpu();
    cpu->dr[1] = 0x3f8;
    cpu->dr[7] = dr7_bp(1, 2, 1); /* ports 0x3f8-0x3f9 */
    cpu_check_io_breakpoint(cpu, 0x3f8, 1);
    cr_assert_eq(cpu->dr6_pending, 0u); /* CR4.DE clear */
    cpu->cr4 |= CR4_DE;
    cpu_check_io_breakpoint(cpu, 0x3f7, 1);
    cr_assert_eq(cpu->dr6_pending, 0u);
    cpu_check_io_breakpoint(cpu, 0x3f6, 4);
    cr_assert_eq(cpu->dr6_pending, 1u << 1);
    /* A data access never matches an I/O breakpoint. */
    cpu->dr6_pending = 0;
    cpu_check_data_breakpoint(cpu, 0x3f8, 1, true);
    cr_assert_eq(cpu->dr6_pending, 0u);
    dbg_free(cpu);
}

Test(debug, task_switch_trap_kept_and_reported)
{
    struct cpu *cpu = dbg_cpu();
    cpu->dr[7] = dr7_bp(0, 1, 0);
    cpu->dr6_pending = DR6_BT | 1u; /* BT from a task switch, stale B0 */
    cr_assert_eq(dbg_run(cpu, CALL_BEFORE), -1);
    cr_assert_eq(cpu->dr6_pending, DR6_BT);
    cr_assert_eq(dbg_run(cpu, CALL_AFTER), EXC_DB);
    cr_assert(cpu->dr[6] & (1u << 15));
    cr_assert_eq(cpu->dr[6] & 0xf, 0u);
    cr_assert_eq(cpu->dr6_pending, 0u);
    dbg_free(cpu);
}

/* SDM Vol. 3A 6.8.3: the traps of MOV SS / POP SS wait for the boundary
 * after the next instruction and come in one #DB with that one's own. */
Test(debug, ss_shadow_holds_traps_one_instruction)
{
    struct cpu *cpu = dbg_cpu();
    cpu_debug_ss_shadow(cpu); /* from the MOV SS handler */
    cpu->dr6_pending = 1u << 2;
    cr_assert_eq(dbg_run(cpu, CALL_AFTER_TF), -1, "held, not raised");
    cr_assert_eq(cpu->dr6_held, DR6_BS | (1u << 2));
    cr_assert_eq(cpu->dr[6], 0xffff0ff0u);
    /* The next instruction (the loop clears the shadow before it): its
     * own data hit joins the held traps. */
    cpu->ss_shadow = 0;
    cpu->dr6_pending = 1u << 0;
    cr_assert_eq(dbg_run(cpu, CALL_AFTER), EXC_DB);
    cr_assert_eq(cpu->dr[6], 0xffff0ff0u | DR6_BS | (1u << 2) | (1u << 0));
    cr_assert_eq(cpu->dr6_held, 0u);
    /* And the shadow is over. */
    cr_assert_eq(dbg_run(cpu, CALL_AFTER), -1);
    dbg_free(cpu);
}

/* An INT n in the shadow (SDM 6.8.3: "the debug exception is delivered
 * after the transfer ... is complete"): real mode, TF set, MOV SS, AX at
 * 0000:0000 then INT 20h. The #DB comes before the INT 20h handler's first
 * instruction: its frame holds IP 0100h (the handler), above the INT's
 * frame with IP 0004h. */
Test(debug, ss_shadow_trap_follows_int_n)
{
    struct cpu *cpu = dbg_cpu();
    static const uint8_t code[] = { 0x8e, 0xd0, 0xcd, 0x20 }; /* mov ss,ax; int 20h */
    memset(dbg_ram, 0, sizeof(dbg_ram));
    memcpy(dbg_ram, code, sizeof(code));
    dbg_ram[0x100] = 0x90;                              /* INT 20h handler: nop */
    dbg_ram[0x200] = 0xf4;                              /* #DB handler: hlt */
    memcpy(dbg_ram + 0x20 * 4, (uint8_t[]){ 0x00, 0x01, 0, 0 }, 4); /* 0000:0100 */
    memcpy(dbg_ram + 1 * 4, (uint8_t[]){ 0x00, 0x02, 0, 0 }, 4);    /* 0000:0200 */
    cpu->seg[SEG_CS].sel = 0;
    cpu->seg[SEG_CS].base = 0;
    cpu->eip = 0;
    cpu->regs[R_EAX] = 0;
    cpu->regs[R_ESP] = 0x1000;
    cpu->eflags = FL_FIXED1 | FL_TF;
    cpu->no_block_cache = 1;
    cr_assert_eq(interp_run(cpu, 100), CPU_EXIT_HALT);
    cr_assert_eq(cpu->eip, 0x201);
    cr_assert_eq(cpu->regs[R_ESP], 0x1000 - 12);
    cr_assert_eq(dbg_ram[0xff4] | dbg_ram[0xff5] << 8, 0x100, "#DB's IP");
    cr_assert_eq(dbg_ram[0xffa] | dbg_ram[0xffb] << 8, 0x0004, "INT 20h's IP");
    cr_assert(cpu->dr[6] & DR6_BS);
    cr_assert_eq(cpu->dr6_held, 0u);
    dbg_free(cpu);
}
