/*
 * test_debugger.c — cpu/debugger.c and cpu_exec's debugger rules: a
 * debugger's breakpoints stop before their instruction under both
 * engines without touching guest memory; watchpoints stop after the
 * access; cpu_exec_step runs one instruction, or delivers the exception
 * or INT n it raises and stops at the handler, and takes no interrupt;
 * debugger writes of memory drop translated code; segment and EFLAGS
 * writes take effect as the CPU's own would.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cpu/internal.h"
#include "translate/translate.h"

#define DBGR_RAM_SIZE (1u << 20)
static uint8_t *dbgr_ram;
static unsigned acks; /* interrupt acknowledges seen */

static int count_ack(void *opaque)
{
    (void)opaque;
    acks++;
    return 0x30;
}

/* A real-mode CPU at 0000:1000 with an empty IVT. */
static struct cpu *dbgr_cpu(int engine)
{
    dbgr_ram = calloc(1, DBGR_RAM_SIZE);
    struct phys_mem *pm = phys_new();
    cr_assert_eq(phys_map_ram(pm, 0, DBGR_RAM_SIZE, dbgr_ram), 0);
    struct cpu_bus bus = { .mem = pm, .io = io_new(), .intr_ack = count_ack };
    struct cpu *cpu = cpu_new(&bus);
    cr_assert_not_null(cpu);
    cpu->engine = (uint8_t)engine;
    cpu->seg[SEG_CS] = (struct seg){ 0, 0, 0xffff, AR_P | AR_S | AR_T_CODE | AR_T_READABLE };
    cpu->eip = 0x1000;
    cpu->regs[R_ESP] = 0x8000;
    acks = 0;
    return cpu;
}

static void dbgr_free(struct cpu *cpu)
{
    cpu_exec_release(cpu);
    phys_free(cpu->bus.mem);
    io_free(cpu->bus.io);
    cpu_free(cpu);
    free(dbgr_ram);
}

static void put(uint32_t addr, const uint8_t *bytes, size_t n)
{
    memcpy(dbgr_ram + addr, bytes, n);
}

/* IVT entry `vector` -> 0000:off. */
static void ivt(unsigned vector, uint16_t off)
{
    dbgr_ram[4 * vector] = (uint8_t)off;
    dbgr_ram[4 * vector + 1] = (uint8_t)(off >> 8);
    dbgr_ram[4 * vector + 2] = 0;
    dbgr_ram[4 * vector + 3] = 0;
}

static void breakpoint_stops_before(int engine)
{
    struct cpu *cpu = dbgr_cpu(engine);
    /* nop; nop; inc ax; inc ax; hlt */
    static const uint8_t code[] = { 0x90, 0x90, 0x40, 0x40, 0xf4 };
    put(0x1000, code, sizeof(code));
    cr_assert_eq(cpu_dbg_break_insert(cpu, 0x1003), 0);
    cr_assert_eq(cpu_exec(cpu, 1000), CPU_EXIT_DEBUG);
    cr_assert_eq(cpu->eip, 0x1003);
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 1);
    cr_assert_eq(cpu->dbg.stop.kind, CPU_DBG_BREAK);
    cr_assert_eq(cpu->dbg.stop.addr, 0x1003);
    /* No INT3 planted: the guest's bytes are its own. */
    cr_assert_eq(dbgr_ram[0x1003], 0x40);
    /* Resuming runs the instruction under the breakpoint. */
    cpu_dbg_resume(cpu);
    cr_assert_eq(cpu_exec(cpu, 1000), CPU_EXIT_HALT);
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 2);
    dbgr_free(cpu);
}

Test(debugger, breakpoint_stops_before_interp)
{
    breakpoint_stops_before(CPU_ENGINE_INTERP);
}

Test(debugger, breakpoint_stops_before_jit)
{
    if (!cpu_exec_jit_available())
        cr_skip_test("no JIT on this host");
    breakpoint_stops_before(CPU_ENGINE_JIT);
}

Test(debugger, breakpoint_in_a_loop_already_translated)
{
    if (!cpu_exec_jit_available())
        cr_skip_test("no JIT on this host");
    struct cpu *cpu = dbgr_cpu(CPU_ENGINE_JIT);
    /* 1000: inc ax; jmp 1000 — translated and chained first. */
    static const uint8_t code[] = { 0x40, 0xeb, 0xfd };
    put(0x1000, code, sizeof(code));
    cr_assert_eq(cpu_exec(cpu, 5000), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu_dbg_break_insert(cpu, 0x1001), 0);
    cr_assert_eq(cpu_exec(cpu, 5000), CPU_EXIT_DEBUG);
    cr_assert_eq(cpu->eip, 0x1001);
    cr_assert_eq(cpu_dbg_break_remove(cpu, 0x1001), 0);
    cr_assert_eq(cpu_dbg_break_remove(cpu, 0x1001), -1);
    cr_assert_eq(cpu_exec(cpu, 5000), CPU_EXIT_BUDGET);
    dbgr_free(cpu);
}

Test(debugger, breakpoint_list_is_bounded)
{
    struct cpu *cpu = dbgr_cpu(CPU_ENGINE_INTERP);
    for (unsigned i = 0; i < CPU_DBG_BREAK_MAX; i++)
        cr_assert_eq(cpu_dbg_break_insert(cpu, i), 0);
    cr_assert_eq(cpu_dbg_break_insert(cpu, 0x9999), -1);
    cpu_dbg_clear(cpu);
    cr_assert_eq(cpu->dbg.nbrk, 0);
    cr_assert_eq(cpu_dbg_watch_insert(cpu, 0, 0, CPU_WATCH_WRITE), -1);
    cr_assert_eq(cpu_dbg_watch_insert(cpu, 0, 1, (enum cpu_watch_kind)7), -1);
    dbgr_free(cpu);
}

static void watchpoint_stops_after(int engine)
{
    struct cpu *cpu = dbgr_cpu(engine);
    /* mov al,[2000h]; mov byte [2000h],5; inc ax; hlt */
    static const uint8_t code[] = { 0xa0, 0x00, 0x20, 0xc6, 0x06, 0x00, 0x20, 0x05, 0x40, 0xf4 };
    put(0x1000, code, sizeof(code));
    cr_assert_eq(cpu_dbg_watch_insert(cpu, 0x2000, 1, CPU_WATCH_WRITE), 0);
    cr_assert_eq(cpu_exec(cpu, 1000), CPU_EXIT_DEBUG);
    /* After the write, before the next instruction. */
    cr_assert_eq(cpu->eip, 0x1008);
    cr_assert_eq(dbgr_ram[0x2000], 5);
    cr_assert_eq(cpu->dbg.stop.kind, CPU_DBG_WATCH);
    cr_assert_eq(cpu->dbg.stop.watch_kind, CPU_WATCH_WRITE);
    cr_assert_eq(cpu->dbg.stop.addr, 0x2000);
    cr_assert_eq(cpu_exec(cpu, 1000), CPU_EXIT_HALT);
    /* A read watchpoint sees the read only. */
    cr_assert_eq(cpu_dbg_watch_remove(cpu, 0x2000, 1, CPU_WATCH_WRITE), 0);
    cr_assert_eq(cpu_dbg_watch_insert(cpu, 0x1fff, 2, CPU_WATCH_READ), 0);
    cpu->eip = 0x1000;
    cpu->halted = 0;
    cr_assert_eq(cpu_exec(cpu, 1000), CPU_EXIT_DEBUG);
    cr_assert_eq(cpu->eip, 0x1003);
    cr_assert_eq(cpu->dbg.stop.watch_kind, CPU_WATCH_READ);
    cr_assert_eq(cpu_exec(cpu, 1000), CPU_EXIT_HALT);
    dbgr_free(cpu);
}

Test(debugger, watchpoint_stops_after_the_access_interp)
{
    watchpoint_stops_after(CPU_ENGINE_INTERP);
}

Test(debugger, watchpoint_stops_after_the_access_jit)
{
    if (!cpu_exec_jit_available())
        cr_skip_test("no JIT on this host");
    watchpoint_stops_after(CPU_ENGINE_JIT);
}

Test(debugger, step_runs_one_instruction_and_takes_no_interrupt)
{
    struct cpu *cpu = dbgr_cpu(CPU_ENGINE_JIT);
    static const uint8_t code[] = { 0x40, 0x40, 0x40, 0xf4 };
    put(0x1000, code, sizeof(code));
    ivt(0x30, 0x3000);
    cpu->eflags |= FL_IF;
    cpu->intr = 1;
    cpu->exit_request = 1;
    cr_assert_eq(cpu_exec_step(cpu), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu->eip, 0x1001);
    cr_assert_eq(cpu_exec_step(cpu), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu->eip, 0x1002);
    cr_assert_eq(acks, 0);
    cr_assert_eq(cpu->exit_request, 1, "the request waits for the next run");
    /* A breakpoint does not stop the step itself. */
    cpu_dbg_break_insert(cpu, 0x1002);
    cr_assert_eq(cpu_exec_step(cpu), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu->eip, 0x1003);
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 3);
    dbgr_free(cpu);
}

Test(debugger, step_into_int_n_stops_at_the_handler)
{
    struct cpu *cpu = dbgr_cpu(CPU_ENGINE_INTERP);
    static const uint8_t code[] = { 0xcd, 0x21, 0xf4 };
    put(0x1000, code, sizeof(code));
    ivt(0x21, 0x2100);
    cr_assert_eq(cpu_exec_step(cpu), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu->eip, 0x2100);
    /* The frame: IP, CS, FLAGS. */
    cr_assert_eq(cpu->regs[R_ESP] & 0xffff, 0x8000 - 6);
    cr_assert_eq(dbgr_ram[0x8000 - 6], 0x02);
    cr_assert_eq(dbgr_ram[0x8000 - 5], 0x10);
    dbgr_free(cpu);
}

Test(debugger, step_into_a_fault_stops_at_the_handler)
{
    struct cpu *cpu = dbgr_cpu(CPU_ENGINE_INTERP);
    static const uint8_t code[] = { 0x0f, 0x0b }; /* ud2 */
    put(0x1000, code, sizeof(code));
    ivt(EXC_UD, 0x0600);
    cr_assert_eq(cpu_exec_step(cpu), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu->eip, 0x0600);
    /* A fault pushes the faulting IP. */
    cr_assert_eq(dbgr_ram[0x8000 - 6], 0x00);
    cr_assert_eq(dbgr_ram[0x8000 - 5], 0x10);
    dbgr_free(cpu);
}

Test(debugger, guest_int3_goes_to_its_ivt)
{
    struct cpu *cpu = dbgr_cpu(CPU_ENGINE_INTERP);
    static const uint8_t code[] = { 0xcc, 0xf4 };
    put(0x1000, code, sizeof(code));
    static const uint8_t handler[] = { 0x40, 0xf4 };
    put(0x0300, handler, sizeof(handler));
    ivt(EXC_BP, 0x0300);
    cpu_dbg_break_insert(cpu, 0x5555); /* a debugger is attached */
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_HALT);
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 1);
    dbgr_free(cpu);
}

Test(debugger, debug_write_drops_translated_code)
{
    if (!cpu_exec_jit_available())
        cr_skip_test("no JIT on this host");
    struct cpu *cpu = dbgr_cpu(CPU_ENGINE_JIT);
    static const uint8_t code[] = { 0xb8, 0x01, 0x00, 0xf4 }; /* mov ax,1; hlt */
    put(0x1000, code, sizeof(code));
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_HALT);
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 1);
    static const uint8_t two[] = { 0x02 };
    cr_assert_eq(cpu_debug_write(cpu, 0x1001, two, 1), 1);
    cpu->eip = 0x1000;
    cpu->halted = 0;
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_HALT);
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 2);
    uint8_t back[4];
    cr_assert_eq(cpu_debug_read(cpu, 0x1000, back, 4), 4);
    cr_assert_eq(back[1], 2);
    dbgr_free(cpu);
}

Test(debugger, real_mode_segment_write_sets_the_base_every_time)
{
    struct cpu *cpu = dbgr_cpu(CPU_ENGINE_INTERP);
    cr_assert_eq(cpu_debug_set_seg(cpu, SEG_DS, 0x1234), 0);
    cr_assert_eq(cpu->seg[SEG_DS].base, 0x12340);
    cpu->seg[SEG_DS].base = 0xdead0; /* as if left by protected mode */
    cr_assert_eq(cpu_debug_set_seg(cpu, SEG_DS, 0x1234), 0);
    cr_assert_eq(cpu->seg[SEG_DS].base, 0x12340);
    cr_assert_eq(cpu_debug_set_seg(cpu, SEG_CS, 0x0100), 0);
    cr_assert_eq(cpu->seg[SEG_CS].base, 0x1000);
    cr_assert_eq(cpu_debug_set_seg(cpu, 9, 0), -1);
    dbgr_free(cpu);
}

Test(debugger, protected_mode_segment_write_reads_the_gdt)
{
    struct cpu *cpu = dbgr_cpu(CPU_ENGINE_INTERP);
    /* GDT at 0x500: null, flat code (08), flat data (10). */
    static const uint8_t gdt[] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                   0xff, 0xff, 0, 0, 0, 0x9a, 0xcf, 0,
                                   0xff, 0xff, 0, 0x40, 0, 0x92, 0xcf, 0 };
    put(0x500, gdt, sizeof(gdt));
    cpu->gdtr = (struct dtr){ 0x500, sizeof(gdt) - 1 };
    cpu->cr0 |= CR0_PE;
    cr_assert_eq(cpu_debug_set_seg(cpu, SEG_DS, 0x10), 0);
    cr_assert_eq(cpu->seg[SEG_DS].base, 0x4000);
    cr_assert_eq(cpu->seg[SEG_DS].limit, 0xffffffffu);
    cr_assert_eq(cpu_debug_set_seg(cpu, SEG_CS, 0x08), 0);
    cr_assert(cpu->code32);
    /* Beyond the GDT's limit: refused, nothing changed, no exception. */
    cr_assert_eq(cpu_debug_set_seg(cpu, SEG_ES, 0x40), -1);
    cr_assert_eq(cpu->seg[SEG_DS].base, 0x4000);
    cr_assert_eq(cpu->exc_vector, -1);
    /* A data selector in CS is refused. */
    cr_assert_eq(cpu_debug_set_seg(cpu, SEG_CS, 0x10), -1);
    cr_assert(cpu->code32);
    dbgr_free(cpu);
}

Test(debugger, eflags_write_takes_effect_on_the_next_instruction)
{
    struct cpu *cpu = dbgr_cpu(CPU_ENGINE_JIT);
    static const uint8_t code[] = { 0x40, 0x40, 0xf4 };
    put(0x1000, code, sizeof(code));
    static const uint8_t handler[] = { 0xf4 };
    put(0x0100, handler, sizeof(handler));
    ivt(EXC_DB, 0x0100);
    cpu_debug_set_eflags(cpu, FL_TF | FL_CF | FL_ZF);
    cr_assert_eq(cpu_get_eflags(cpu) & (FL_TF | FL_CF | FL_ZF), FL_TF | FL_CF | FL_ZF);
    /* TF: the first INC traps into the #DB handler, which halts. */
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_HALT);
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 1);
    cr_assert_eq(cpu->eip, 0x0101);
    dbgr_free(cpu);
}

Test(debugger, breakpoint_at_a_chained_block)
{
    if (!cpu_exec_jit_available())
        cr_skip_test("no JIT on this host");
    struct cpu *cpu = dbgr_cpu(CPU_ENGINE_JIT);
    /* 1000: inc ax; jmp 1010 / 1010: inc bx; jmp 1000 — two blocks,
     * chained to each other by the first run. */
    static const uint8_t a[] = { 0x40, 0xeb, 0x0d };
    static const uint8_t b[] = { 0x43, 0xeb, 0xed };
    put(0x1000, a, sizeof(a));
    put(0x1010, b, sizeof(b));
    cr_assert_eq(cpu_exec(cpu, 5000), CPU_EXIT_BUDGET);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(cpu_dbg_break_insert(cpu, 0x1010), 0);
        cr_assert_eq(cpu_exec(cpu, 5000), CPU_EXIT_DEBUG);
        cr_assert_eq(cpu->eip, 0x1010);
        uint32_t bx = cpu->regs[R_EBX];
        /* Resume: B runs once, A once, then B's breakpoint again. */
        cpu_dbg_resume(cpu);
        cr_assert_eq(cpu_exec(cpu, 5000), CPU_EXIT_DEBUG);
        cr_assert_eq(cpu->eip, 0x1010);
        cr_assert_eq(cpu->regs[R_EBX], bx + 1);
        cr_assert_eq(cpu_dbg_break_remove(cpu, 0x1010), 0);
        cr_assert_eq(cpu_exec(cpu, 5000), CPU_EXIT_BUDGET);
    }
    dbgr_free(cpu);
}
