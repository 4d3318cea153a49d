/*
 * cpu/state.c — creating a CPU, its reset and INIT states, the board's
 * interrupt lines, and state dumps for -d cpu.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/internal.h"

/* Family 6, model 1, stepping 9: a Pentium Pro-class part (see cpuid.c).
 * RESET leaves this signature in EDX (SDM Vol. 3A 9.1.4). */
#define CPU_SIGNATURE 0x00000619u

/* Attribute bytes of the reset-state caches (SDM Vol. 3A Table 9-1):
 * present, accessed; CS is readable code, the others read/write data. */
#define AR_RESET_CODE (AR_P | AR_S | AR_T_CODE | AR_T_READABLE | AR_T_ACCESSED)
#define AR_RESET_DATA (AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED)
#define AR_RESET_LDT (AR_P | (2u << AR_TYPE_SHIFT))
#define AR_RESET_TSS (AR_P | (3u << AR_TYPE_SHIFT)) /* busy 16-bit TSS */

struct cpu *cpu_new(const struct cpu_bus *bus)
{
    struct cpu *cpu = calloc(1, sizeof(*cpu));
    if (!cpu)
        return NULL;
    cpu->bus = *bus;
    cpu->log = stderr;
    const char *soft = getenv("GLASS_X87_SOFT");
    cpu->x87_soft = soft && *soft && *soft != '0';
    cpu_reset(cpu);
    return cpu;
}

void cpu_free(struct cpu *cpu)
{
    free(cpu);
}

/* The state RESET and INIT share (SDM Vol. 3A Table 9-1). */
static void reset_common(struct cpu *cpu)
{
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EDX] = CPU_SIGNATURE;
    cpu->eip = 0xfff0;
    cpu->next_eip = 0xfff0;
    cpu->eflags = FL_FIXED1;
    memset(&cpu->cc, 0, sizeof(cpu->cc));
    cpu->cc.op = CC_EAGER;

    for (int s = 0; s < SEG_COUNT; s++) {
        cpu->seg[s] = (struct seg){ .sel = 0, .base = 0, .limit = 0xffff, .ar = AR_RESET_DATA };
    }
    cpu->seg[SEG_CS] = (struct seg){ .sel = 0xf000, .base = 0xffff0000u, .limit = 0xffff,
                                     .ar = AR_RESET_CODE };
    cpu->ldtr = (struct seg){ .limit = 0xffff, .ar = AR_RESET_LDT };
    cpu->tr = (struct seg){ .limit = 0xffff, .ar = AR_RESET_TSS };
    cpu->gdtr = (struct dtr){ .base = 0, .limit = 0xffff };
    cpu->idtr = (struct dtr){ .base = 0, .limit = 0xffff };

    /* CR0: CD and NW set, ET hardwired to 1 on P6 (Table 9-1). */
    cpu->cr0 = CR0_CD | CR0_NW | CR0_ET;
    cpu->cr2 = cpu->cr3 = cpu->cr4 = 0;
    memset(cpu->pdpte, 0, sizeof(cpu->pdpte));
    memset(cpu->dr, 0, sizeof(cpu->dr));
    cpu->dr[6] = 0xffff0ff0u;
    cpu->dr[7] = 0x00000400u;
    cpu->dr6_pending = 0;
    cpu->dr6_held = 0;
    cpu->ss_shadow = 0;

    cpu->cpl = 0;
    cpu->code32 = 0;
    cpu->stack32 = 0;
    cpu->halted = 0;
    cpu->inhibit_irq = 0;
    cpu->nmi_pending = 0;
    cpu->nmi_blocked = 0;
    cpu->exc_vector = -1;
    cpu->exc_delivering = -1;
    cpu->exc_soft = 0;
    cpu->msr.efer = 0;
    tlb_init(&cpu->tlb);
    /* -d mode: a reset is no instruction's doing; the next check takes
     * the mode as the reset (or a loader after it) left it. */
    cpu->mode_logged = CPU_MODE_UNKNOWN;
}

/* x87 state after RESET (SDM Vol. 3A Table 9-1): control word 0040H,
 * status 0, every tag "zero" (5555H) with +0.0 in the registers. */
static void fpu_power_on(struct fpu *f)
{
    memset(f, 0, sizeof(*f));
    f->cw = 0x0040;
    f->tag_empty = 0; /* tags "zero": they follow the +0.0 contents */
}

void cpu_reset(struct cpu *cpu)
{
    reset_common(cpu);
    fpu_power_on(&cpu->fpu);
    memset(&cpu->msr, 0, sizeof(cpu->msr));
    /* Power-up values the SDM documents for the MSRs Glass models. */
    cpu->msr.pat = 0x0007040600070406ull;
    cpu->msr.apic_base = 0xfee00000ull | (1u << 8) | (1u << 11); /* BSP, enabled */
    cpu->msr.mtrr_cap = 0x508; /* 8 variable ranges, fixed ranges, WC */
    cpu->tsc_base = cpu->icount;
    cpu->tsc_base_ns = cpu->bus.time_ns ? cpu->bus.time_ns(cpu->bus.opaque) : 0;
}

void cpu_init_signal(struct cpu *cpu)
{
    /* INIT keeps the x87 state, the MSRs and the caches. */
    reset_common(cpu);
}

void cpu_set_intr(struct cpu *cpu, bool level)
{
    cpu->intr = level;
    if (level)
        cpu->exit_request = 1;
}

void cpu_raise_nmi(struct cpu *cpu)
{
    cpu->nmi_pending = 1;
    cpu->exit_request = 1;
}

void cpu_paging_mode(const struct cpu *cpu, struct paging_mode *out)
{
    out->cr0 = cpu->cr0;
    out->cr3 = cpu->cr3;
    out->cr4 = cpu->cr4;
    memcpy(out->pdpte, cpu->pdpte, sizeof(out->pdpte));
    out->nxe = (cpu->msr.efer >> 11) & 1;
}

uint64_t cpu_tsc(struct cpu *cpu)
{
    cpu->clock_reads++;
    /* With a board clock: a constant rate in real time, halted or not
     * (Linux's clocksource watchdog compares the TSC with the PIT and
     * the ACPI PM timer, which follow the same clock). CPU_TSC_HZ is
     * 1 GHz, so the count is the nanoseconds themselves. */
    _Static_assert(CPU_TSC_HZ == 1000000000ull, "TSC = ns assumes 1 GHz");
    if (cpu->bus.time_ns)
        return cpu->bus.time_ns(cpu->bus.opaque) - cpu->tsc_base_ns + cpu->msr.tsc_offset;
    /* Without one: one tick per retired instruction, deterministic. */
    return cpu->icount - cpu->tsc_base + cpu->msr.tsc_offset;
}

static void dump_seg(FILE *f, const char *name, const struct seg *s)
{
    fprintf(f, "%-3s=%04x %08x %08x %08x\n", name, s->sel, s->base, s->limit, s->ar);
}

void cpu_dump_state(struct cpu *cpu, FILE *f)
{
    static const char *const seg_names[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    uint32_t fl = cpu_get_eflags(cpu);
    fprintf(f, "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", cpu->regs[R_EAX], cpu->regs[R_EBX],
            cpu->regs[R_ECX], cpu->regs[R_EDX]);
    fprintf(f, "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", cpu->regs[R_ESI], cpu->regs[R_EDI],
            cpu->regs[R_EBP], cpu->regs[R_ESP]);
    fprintf(f, "EIP=%08x EFL=%08x [%c%c%c%c%c%c%c] CPL=%u II=%u HLT=%u\n", cpu->eip, fl,
            fl & FL_DF ? 'D' : '-', fl & FL_OF ? 'O' : '-', fl & FL_SF ? 'S' : '-',
            fl & FL_ZF ? 'Z' : '-', fl & FL_AF ? 'A' : '-', fl & FL_PF ? 'P' : '-',
            fl & FL_CF ? 'C' : '-', cpu->cpl, cpu->inhibit_irq, cpu->halted);
    for (int s = 0; s < SEG_COUNT; s++)
        dump_seg(f, seg_names[s], &cpu->seg[s]);
    dump_seg(f, "LDT", &cpu->ldtr);
    dump_seg(f, "TR", &cpu->tr);
    fprintf(f, "GDT=     %08x %08x\nIDT=     %08x %08x\n", cpu->gdtr.base, cpu->gdtr.limit,
            cpu->idtr.base, cpu->idtr.limit);
    fprintf(f, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", cpu->cr0, cpu->cr2, cpu->cr3, cpu->cr4);
    fprintf(f, "DR0=%08x DR1=%08x DR2=%08x DR3=%08x DR6=%08x DR7=%08x\n", cpu->dr[0], cpu->dr[1],
            cpu->dr[2], cpu->dr[3], cpu->dr[6], cpu->dr[7]);
}
