/*
 * cpu/debug.c — the debug-register breakpoints and single-step (SDM
 * Vol. 3A 17.2 debug registers, 17.3 debug exceptions).
 *
 * Instruction breakpoints are faults, checked before the instruction
 * (suppressed by EFLAGS.RF). Data and I/O breakpoints are traps: the
 * accesses record their hits in cpu->dr6_pending and the #DB is raised
 * after the instruction completed, together with a single-step trap.
 *
 * MOV SS and POP SS hold those traps over the next instruction (SDM Vol.
 * 3A 6.8.3: the processor "inhibits interrupts, debug exceptions, and
 * single-step trap exceptions" until the boundary after the next
 * instruction, so that MOV SS; MOV ESP cannot be interrupted with a
 * stack pointer that does not belong to SS). Their DR6 bits wait in
 * cpu->dr6_held and are reported with the next instruction's own traps
 * in one #DB. If that instruction raises an event instead (INT n, a
 * fault), the held #DB follows the event's delivery, before the
 * handler's first instruction (6.8.3 says so of INT n, INT3, SYSENTER;
 * Glass treats faults alike). STI's shadow holds interrupts only.
 * Consecutive SS loads: "only the first is guaranteed" to hold events
 * (6.8.3); here each one does.
 */
#include "cpu/system_internal.h"

/* DR7 fields of breakpoint i (SDM Vol. 3A Figure 17-1). */
enum bp_kind { BP_EXEC = 0, BP_WRITE = 1, BP_IO = 2, BP_RW = 3 };

static inline bool bp_enabled(uint32_t dr7, unsigned i)
{
    return (dr7 >> (2 * i)) & 3; /* Li or Gi */
}

static inline enum bp_kind bp_rw(uint32_t dr7, unsigned i)
{
    return (enum bp_kind)((dr7 >> (16 + 4 * i)) & 3);
}

/* LEN: 00 one byte, 01 two, 11 four; 10 is undefined on P6 (eight bytes
 * only on later CPUs) and treated as four. */
static inline unsigned bp_len(uint32_t dr7, unsigned i)
{
    static const uint8_t len_bytes[4] = { 1, 2, 4, 4 };
    return len_bytes[(dr7 >> (18 + 4 * i)) & 3];
}

/* Does [addr, addr+size) overlap breakpoint i? The breakpoint address is
 * aligned down to its length: the low bits of DRi are ignored (SDM
 * 17.2.5). 64-bit arithmetic: ranges may end at 4 GiB. */
static bool bp_overlaps(const struct cpu *cpu, unsigned i, uint64_t addr, unsigned size)
{
    unsigned len = bp_len(cpu->dr[7], i);
    uint64_t bp = cpu->dr[i] & ~(uint32_t)(len - 1);
    return addr < bp + len && bp < addr + size;
}

void cpu_check_data_breakpoint(struct cpu *cpu, uint32_t lin, unsigned size, bool write)
{
    uint32_t dr7 = cpu->dr[7];
    for (unsigned i = 0; i < 4; i++) {
        if (!bp_enabled(dr7, i))
            continue;
        enum bp_kind k = bp_rw(dr7, i);
        if (k == BP_RW || (k == BP_WRITE && write))
            if (bp_overlaps(cpu, i, lin, size))
                cpu->dr6_pending |= 1u << i;
    }
}

void cpu_check_io_breakpoint(struct cpu *cpu, uint16_t port, unsigned size)
{
    uint32_t dr7 = cpu->dr[7];
    if (!(cpu->cr4 & CR4_DE))
        return; /* R/W = 10 is undefined without DE */
    for (unsigned i = 0; i < 4; i++)
        if (bp_enabled(dr7, i) && bp_rw(dr7, i) == BP_IO && bp_overlaps(cpu, i, port, size))
            cpu->dr6_pending |= 1u << i;
}

/* Records hits in DR6: B0-B3 describe this #DB only, the other status
 * bits (BD, BS, BT) are left for software to clear (SDM 17.2.3). */
static void dr6_report(struct cpu *cpu, uint32_t bits)
{
    cpu->dr[6] = (cpu->dr[6] & ~DR6_B_MASK) | bits | DR6_FIXED1;
}

void cpu_debug_before_insn(struct cpu *cpu)
{
    /* A new instruction starts: breakpoint hits recorded by one that
     * faulted are void (it records them again when restarted). A
     * pending task-switch trap (BT, set by cpu/task.c) is kept. */
    cpu->dr6_pending &= ~DR6_B_MASK;
    if (cpu->eflags & FL_RF)
        return; /* RF: the instruction breakpoint already fired (17.3.1.1) */
    uint32_t dr7 = cpu->dr[7];
    uint32_t lin = cpu->seg[SEG_CS].base + cpu->eip;
    uint32_t hits = 0;
    for (unsigned i = 0; i < 4; i++)
        if (bp_enabled(dr7, i) && bp_rw(dr7, i) == BP_EXEC && cpu->dr[i] == lin)
            hits |= 1u << i;
    if (hits) {
        dr6_report(cpu, hits);
        cpu_raise(cpu, EXC_DB, 0); /* fault: EIP stays at the instruction */
    }
}

void cpu_debug_ss_shadow(struct cpu *cpu)
{
    cpu->ss_shadow = 1;
}

/* Writes the DR6 status bits of one #DB: B0-B3 replace the old ones,
 * BS and BT are added. */
static void dr6_report_all(struct cpu *cpu, uint32_t bits)
{
    dr6_report(cpu, bits & DR6_B_MASK);
    cpu->dr[6] |= bits & (DR6_BS | DR6_BT);
}

void cpu_debug_after_insn(struct cpu *cpu, bool tf)
{
    /* B0-B3 from data/I-O breakpoints, BT from a task switch into a TSS
     * with its T flag set (cpu/task.c), BS from single-step; all
     * reported by one #DB. */
    uint32_t bits = (cpu->dr6_pending & (DR6_B_MASK | DR6_BT)) | (tf ? DR6_BS : 0);
    cpu->dr6_pending = 0;
    if (cpu->ss_shadow) {
        /* This instruction loaded SS with MOV or POP: hold its traps. */
        cpu->dr6_held |= bits;
        return;
    }
    bits |= cpu->dr6_held;
    cpu->dr6_held = 0;
    if (!bits)
        return;
    dr6_report_all(cpu, bits);
    /* A trap: cpu->eip is already the next instruction. */
    cpu_raise(cpu, EXC_DB, 0);
}

void cpu_debug_after_event(struct cpu *cpu, int vector)
{
    uint32_t bits = cpu->dr6_held;
    if (!bits)
        return;
    cpu->dr6_held = 0;
    dr6_report_all(cpu, bits);
    /* A #DB just delivered (an instruction breakpoint on the shadowed
     * instruction) reports them itself: its handler has not run yet. */
    if (vector != EXC_DB)
        cpu_interrupt(cpu, EXC_DB, false, 0, cpu->eip, false, false);
}
