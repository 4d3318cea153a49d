/*
 * cpu/debug.c — the debug-register breakpoints and single-step (SDM
 * Vol. 3A 17.2 debug registers, 17.3 debug exceptions).
 *
 * Instruction breakpoints are faults, checked before the instruction
 * (suppressed by EFLAGS.RF). Data and I/O breakpoints are traps: the
 * accesses record their hits in cpu->dr6_pending and the #DB is raised
 * after the instruction completed, together with a single-step trap.
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

void cpu_debug_after_insn(struct cpu *cpu, bool tf)
{
    /* B0-B3 from data/I-O breakpoints, BT from a task switch into a TSS
     * with its T flag set (cpu/task.c); all reported by one #DB. */
    uint32_t pending = cpu->dr6_pending & (DR6_B_MASK | DR6_BT);
    cpu->dr6_pending = 0;
    if (!pending && !tf)
        return;
    dr6_report(cpu, pending & DR6_B_MASK);
    if (pending & DR6_BT)
        cpu->dr[6] |= DR6_BT;
    if (tf)
        cpu->dr[6] |= DR6_BS;
    /* A trap: cpu->eip is already the next instruction. */
    cpu_raise(cpu, EXC_DB, 0);
}
