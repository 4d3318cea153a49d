/*
 * cpu/msr.c — the model-specific registers Glass models, for RDMSR and
 * WRMSR (SDM Vol. 4 chapter 2, Vol. 3A chapter 11 for the MTRRs and
 * 11.12 for the PAT). Every other index raises #GP(0), as on hardware.
 */
#include "cpu/system_internal.h"

/* Physical addresses are 36 bits wide (PSE36 / PAE, MAXPHYADDR 36). */
#define PHYS_ADDR_MASK 0x0000000ffffff000ull

/* Memory types an MTRR may hold (SDM Vol. 3A Table 11-8): UC 0, WC 1,
 * WT 4, WP 5, WB 6. 2, 3 and 7+ are reserved. */
static bool mtrr_type_valid(uint64_t t)
{
    return t == 0 || t == 1 || (t >= 4 && t <= 6);
}

/* PAT entries also allow UC- (7) (SDM Vol. 3A Table 11-10). */
static bool pat_type_valid(uint64_t t)
{
    return t == 0 || t == 1 || (t >= 4 && t <= 7);
}

/* Fixed-range MTRRs hold eight one-byte types. */
static bool mtrr_fixed_valid(uint64_t v)
{
    for (int i = 0; i < 8; i++)
        if (!mtrr_type_valid((v >> (8 * i)) & 0xff))
            return false;
    return true;
}

/* Index into msr_state.mtrr_fixed of a fixed-range MTRR, or -1. */
static int mtrr_fixed_slot(uint32_t index)
{
    if (index == MSR_MTRR_FIX64K_00000)
        return 0;
    if (index == MSR_MTRR_FIX16K_80000)
        return 1;
    if (index == MSR_MTRR_FIX16K_A0000)
        return 2;
    if (index >= MSR_MTRR_FIX4K_C0000 && index <= MSR_MTRR_FIX4K_C0000 + 7)
        return 3 + (int)(index - MSR_MTRR_FIX4K_C0000);
    return -1;
}

/* Variable-range pairs (SDM Vol. 3A 11.11.2.3): PhysBase holds a type
 * in bits 0-7 and the base in 12-35; PhysMask the valid bit 11 and the
 * mask in 12-35. Everything else is reserved. */
#define MTRR_BASE_RESERVED (~(PHYS_ADDR_MASK | 0xffull) | 0xf00ull)
#define MTRR_MASK_VALID (1ull << 11)
#define MTRR_MASK_RESERVED (~(PHYS_ADDR_MASK | MTRR_MASK_VALID))
/* MTRRdefType: type 0-7, FE bit 10, E bit 11 (SDM Vol. 3A 11.11.2.1). */
#define MTRR_DEF_RESERVED (~0xcffull)
/* IA32_APIC_BASE: BSP bit 8, enable bit 11, base in 12-35. */
#define APIC_BASE_RESERVED (~(PHYS_ADDR_MASK | (1ull << 8) | (1ull << 11)))

int msr_read(struct cpu *cpu, uint32_t index, uint64_t *val)
{
    struct msr_state *m = &cpu->msr;
    int slot = mtrr_fixed_slot(index);

    if (slot >= 0) {
        *val = m->mtrr_fixed[slot];
        return 0;
    }
    if (index >= MSR_MTRR_PHYS_FIRST && index <= MSR_MTRR_PHYS_LAST) {
        *val = m->mtrr_var[index - MSR_MTRR_PHYS_FIRST];
        return 0;
    }
    switch (index) {
    case MSR_TSC:
        *val = cpu_tsc(cpu);
        return 0;
    case MSR_PLATFORM_ID:
        *val = 0;
        return 0;
    case MSR_APIC_BASE:
        *val = m->apic_base;
        return 0;
    case MSR_BIOS_SIGN_ID:
        /* Microcode revision in bits 32-63: none loaded. */
        *val = 0;
        return 0;
    case MSR_MTRRCAP:
        *val = m->mtrr_cap;
        return 0;
    case MSR_SYSENTER_CS:
        *val = m->sysenter_cs;
        return 0;
    case MSR_SYSENTER_ESP:
        *val = m->sysenter_esp;
        return 0;
    case MSR_SYSENTER_EIP:
        *val = m->sysenter_eip;
        return 0;
    case MSR_MISC_ENABLE:
        *val = m->misc_enable;
        return 0;
    case MSR_PAT:
        *val = m->pat;
        return 0;
    case MSR_MTRR_DEF_TYPE:
        *val = m->mtrr_def_type;
        return 0;
    case MSR_EFER:
        *val = m->efer;
        return 0;
    default:
        return -1;
    }
}

int msr_write(struct cpu *cpu, uint32_t index, uint64_t val)
{
    struct msr_state *m = &cpu->msr;
    int slot = mtrr_fixed_slot(index);

    if (slot >= 0) {
        if (!mtrr_fixed_valid(val))
            return -1;
        m->mtrr_fixed[slot] = val;
        return 0;
    }
    if (index >= MSR_MTRR_PHYS_FIRST && index <= MSR_MTRR_PHYS_LAST) {
        bool is_mask = (index - MSR_MTRR_PHYS_FIRST) & 1;
        if (is_mask ? (val & MTRR_MASK_RESERVED) != 0
                    : (val & MTRR_BASE_RESERVED) != 0 || !mtrr_type_valid(val & 0xff))
            return -1;
        m->mtrr_var[index - MSR_MTRR_PHYS_FIRST] = val;
        return 0;
    }
    switch (index) {
    case MSR_TSC: {
        /* P6 family: only the low 32 bits can be written, the high 32
         * are cleared (SDM Vol. 3B 17.17, time-stamp counter). The
         * offset makes the guest read back exactly that value. */
        uint64_t want = val & 0xffffffffull;
        m->tsc_offset += want - cpu_tsc(cpu);
        return 0;
    }
    case MSR_APIC_BASE:
        if (val & APIC_BASE_RESERVED)
            return -1;
        m->apic_base = val;
        return 0;
    case MSR_BIOS_SIGN_ID:
        /* Software writes 0 here before CPUID to sample the microcode
         * revision; there is none to report. */
        return 0;
    case MSR_SYSENTER_CS:
        m->sysenter_cs = (uint32_t)val;
        return 0;
    case MSR_SYSENTER_ESP:
        m->sysenter_esp = (uint32_t)val;
        return 0;
    case MSR_SYSENTER_EIP:
        m->sysenter_eip = (uint32_t)val;
        return 0;
    case MSR_MISC_ENABLE:
        m->misc_enable = val;
        return 0;
    case MSR_PAT:
        /* Every entry must name a valid type (SDM Vol. 3A 11.12.2). */
        for (int i = 0; i < 8; i++)
            if (!pat_type_valid((val >> (8 * i)) & 0xff))
                return -1;
        m->pat = val;
        return 0;
    case MSR_MTRR_DEF_TYPE:
        if ((val & MTRR_DEF_RESERVED) || !mtrr_type_valid(val & 0xff))
            return -1;
        m->mtrr_def_type = val;
        return 0;
    case MSR_EFER:
        /* Only NXE exists on a 32-bit part with NX; every other bit is
         * reserved. */
        if (val & ~(uint64_t)EFER_NXE)
            return -1;
        if ((m->efer ^ val) & EFER_NXE)
            tlb_flush_all(&cpu->tlb); /* cached translations assumed the old NX rule */
        m->efer = val;
        return 0;
    case MSR_PLATFORM_ID: /* read-only */
    case MSR_MTRRCAP:     /* read-only */
    default:
        return -1;
    }
}
