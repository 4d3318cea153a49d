/*
 * cpu/system.c — the system instructions: descriptor-table registers,
 * control and debug registers, CPUID, TSC/MSR/PMC reads, SYSENTER and
 * SYSEXIT, HLT, CLI and STI (SDM Vol. 2 pseudocode of each; Vol. 3A
 * chapter 2 for the control registers, chapter 4 for paging effects).
 */
#include "cpu/system_internal.h"

/* ------------------------------------------------------------------ */
/* Mode helpers                                                        */
/* ------------------------------------------------------------------ */

static inline bool pe_mode(const struct cpu *cpu)
{
    return cpu->cr0 & CR0_PE;
}

static inline bool v86_mode(const struct cpu *cpu)
{
    return (cpu->cr0 & CR0_PE) && (cpu->eflags & FL_VM);
}

static inline unsigned iopl(const struct cpu *cpu)
{
    return (cpu->eflags & FL_IOPL) >> FL_IOPL_SHIFT;
}

/* Privileged instructions: #GP(0) unless CPL 0; v86 mode runs at CPL 3,
 * so it is refused too (SDM Vol. 3A 2.8, 5.9). Real mode is CPL 0. */
static void require_cpl0(struct cpu *cpu)
{
    if (v86_mode(cpu) || cpu->cpl != 0)
        cpu_raise(cpu, EXC_GP, 0);
}

/* ------------------------------------------------------------------ */
/* GDTR / IDTR, MSW                                                    */
/* ------------------------------------------------------------------ */

/* SGDT/SIDT: limit in bytes 0-1, base in 2-5. With a 16-bit operand
 * size only 24 bits of base are stored and byte 5 is 0 (SDM Vol. 2
 * SGDT/SIDT, P6-era text: "the sixth byte filled with 0s"). Not
 * privileged on P6 (no UMIP). */
static void store_dtr(struct cpu *cpu, const struct insn *in, const struct dtr *d)
{
    uint32_t off = insn_ea(cpu, in);
    uint32_t base = in->opsize == 2 ? d->base & 0x00ffffffu : d->base;
    cpu_check_write(cpu, in->seg, off, 6);
    cpu_write(cpu, in->seg, off, d->limit, 2);
    cpu_write(cpu, in->seg, off + 2, base, 4);
}

static void op_sgdt(struct cpu *cpu, const struct insn *in)
{
    store_dtr(cpu, in, &cpu->gdtr);
}

static void op_sidt(struct cpu *cpu, const struct insn *in)
{
    store_dtr(cpu, in, &cpu->idtr);
}

/* LGDT/LIDT: CPL 0 (real mode allowed); a 16-bit operand size takes 24
 * bits of base (SDM Vol. 2 LGDT/LIDT operation). */
static struct dtr load_dtr(struct cpu *cpu, const struct insn *in)
{
    require_cpl0(cpu);
    uint32_t off = insn_ea(cpu, in);
    uint16_t limit = (uint16_t)cpu_read(cpu, in->seg, off, 2);
    uint32_t base = cpu_read(cpu, in->seg, off + 2, 4);
    if (in->opsize == 2)
        base &= 0x00ffffffu;
    return (struct dtr){ .base = base, .limit = limit };
}

static void op_lgdt(struct cpu *cpu, const struct insn *in)
{
    cpu->gdtr = load_dtr(cpu, in);
}

static void op_lidt(struct cpu *cpu, const struct insn *in)
{
    cpu->idtr = load_dtr(cpu, in);
}

/* SMSW: to memory a word; to a 32-bit register the SDM leaves the high
 * half undefined — P6 parts store all of CR0 there, and so does Glass.
 * opnd_write truncates to the operand width. */
static void op_smsw(struct cpu *cpu, const struct insn *in)
{
    opnd_write(cpu, in, &in->dst, cpu->cr0);
}

/* ------------------------------------------------------------------ */
/* Control registers                                                   */
/* ------------------------------------------------------------------ */

/* CR0 bits that exist on P6; the rest are reserved and read as 0
 * whatever is written (SDM Vol. 3A 2.5). */
#define CR0_DEFINED                                                                             \
    (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW |       \
     CR0_CD | CR0_PG)
/* Changing these drops every cached translation (SDM Vol. 3A 4.10.4.1). */
#define CR0_FLUSH_BITS (CR0_PG | CR0_WP | CR0_PE | CR0_CD)
/* CR0 changes that reload the PDPTEs under PAE paging (SDM 4.4.1). */
#define CR0_PDPTE_BITS (CR0_PG | CR0_CD | CR0_NW)

/* CR4 bits Glass implements: every other bit is reserved, and setting a
 * reserved bit is #GP(0) (SDM MOV CR). MCE is left out because CPUID
 * does not claim MCE; OSFXSR is in because it claims FXSR. */
#define CR4_SUPPORTED                                                                           \
    (CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCE |          \
     CR4_OSFXSR)
#define CR4_FLUSH_BITS (CR4_PSE | CR4_PAE | CR4_PGE)

/* CR3 bits kept: 32-bit paging uses PWT, PCD and the directory address;
 * PAE paging the PDPT address in 5-31 (SDM Vol. 3A 4.3, 4.4). Bits
 * ignored by the mode in force are dropped. */
#define CR3_MASK_32 0xfffff018u
#define CR3_MASK_PAE 0xfffffff8u

/*
 * The control registers after a MOV, validated as a whole before any is
 * committed: the PDPTE load is the last step that can fault.
 */
struct cr_update {
    uint32_t cr0, cr3, cr4;
    bool reload_pdptes;
    bool flush_all;
    bool flush_nonglobal;
};

static void cr_update_commit(struct cpu *cpu, struct cr_update *u)
{
    uint64_t pdpte[4];
    bool pae_paging = (u->cr0 & CR0_PG) && (u->cr4 & CR4_PAE);

    if (pae_paging && u->reload_pdptes) {
        struct paging_mode mode = { .cr0 = u->cr0, .cr3 = u->cr3, .cr4 = u->cr4,
                                    .nxe = (cpu->msr.efer & EFER_NXE) != 0 };
        /* A PDPTE with reserved bits set makes the MOV #GP(0) and
         * leaves every register as it was (SDM 4.4.1). */
        if (paging_load_pdptes(cpu->bus.mem, &mode) != 0)
            cpu_raise(cpu, EXC_GP, 0);
        for (int i = 0; i < 4; i++)
            pdpte[i] = mode.pdpte[i];
    }
    cpu->cr0 = u->cr0;
    cpu->cr3 = u->cr3;
    cpu->cr4 = u->cr4;
    if (pae_paging && u->reload_pdptes)
        for (int i = 0; i < 4; i++)
            cpu->pdpte[i] = pdpte[i];
    if (u->flush_all)
        cpu_tlb_flush_all(cpu);
    else if (u->flush_nonglobal)
        tlb_flush_nonglobal(&cpu->tlb);
}

static struct cr_update cr_current(const struct cpu *cpu)
{
    return (struct cr_update){ .cr0 = cpu->cr0, .cr3 = cpu->cr3, .cr4 = cpu->cr4 };
}

/* MOV CR0 and LMSW (SDM MOV CR, Vol. 3A 2.5). */
static void write_cr0(struct cpu *cpu, uint32_t val)
{
    uint32_t old = cpu->cr0;
    /* ET is hardwired to 1 on P6; reserved bits stay 0. */
    uint32_t v = (val & CR0_DEFINED) | CR0_ET;

    if ((v & CR0_PG) && !(v & CR0_PE))
        cpu_raise(cpu, EXC_GP, 0);
    if ((v & CR0_NW) && !(v & CR0_CD))
        cpu_raise(cpu, EXC_GP, 0);

    struct cr_update u = cr_current(cpu);
    u.cr0 = v;
    u.reload_pdptes = ((old ^ v) & CR0_PDPTE_BITS) != 0;
    u.flush_all = ((old ^ v) & CR0_FLUSH_BITS) != 0;
    cr_update_commit(cpu, &u);
}

static void write_cr3(struct cpu *cpu, uint32_t val)
{
    struct cr_update u = cr_current(cpu);
    u.cr3 = val & ((cpu->cr4 & CR4_PAE) ? CR3_MASK_PAE : CR3_MASK_32);
    u.reload_pdptes = true;
    /* MOV CR3 keeps global pages when CR4.PGE is set (SDM 4.10.4.1). */
    if (cpu->cr4 & CR4_PGE)
        u.flush_nonglobal = true;
    else
        u.flush_all = true;
    cr_update_commit(cpu, &u);
}

static void write_cr4(struct cpu *cpu, uint32_t val)
{
    uint32_t old = cpu->cr4;
    if (val & ~CR4_SUPPORTED)
        cpu_raise(cpu, EXC_GP, 0);
    struct cr_update u = cr_current(cpu);
    u.cr4 = val;
    u.reload_pdptes = ((old ^ val) & CR4_FLUSH_BITS) != 0;
    u.flush_all = ((old ^ val) & CR4_FLUSH_BITS) != 0;
    cr_update_commit(cpu, &u);
}

static void op_lmsw(struct cpu *cpu, const struct insn *in)
{
    require_cpl0(cpu);
    uint32_t src = opnd_read(cpu, in, &in->dst) & 0xffff;
    /* Only PE, MP, EM and TS are loaded, and PE cannot be cleared
     * (SDM Vol. 2 LMSW). */
    uint32_t low = (src & (CR0_PE | CR0_MP | CR0_EM | CR0_TS)) | (cpu->cr0 & CR0_PE);
    write_cr0(cpu, (cpu->cr0 & ~(uint32_t)(CR0_PE | CR0_MP | CR0_EM | CR0_TS)) | low);
}

static void op_clts(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    require_cpl0(cpu);
    cpu->cr0 &= ~CR0_TS;
}

static void op_mov_to_cr(struct cpu *cpu, const struct insn *in)
{
    require_cpl0(cpu);
    uint32_t val = cpu->regs[in->src.reg & 7];
    switch (in->dst.reg) {
    case 0:
        write_cr0(cpu, val);
        break;
    case 2:
        cpu->cr2 = val;
        break;
    case 3:
        write_cr3(cpu, val);
        break;
    case 4:
        write_cr4(cpu, val);
        break;
    default: /* CR1, CR5-CR7 (the decoder already refuses them) */
        cpu_raise(cpu, EXC_UD, 0);
    }
}

static void op_mov_from_cr(struct cpu *cpu, const struct insn *in)
{
    require_cpl0(cpu);
    uint32_t val;
    switch (in->src.reg) {
    case 0:
        val = cpu->cr0;
        break;
    case 2:
        val = cpu->cr2;
        break;
    case 3:
        val = cpu->cr3;
        break;
    case 4:
        val = cpu->cr4;
        break;
    default:
        cpu_raise(cpu, EXC_UD, 0);
    }
    cpu->regs[in->dst.reg & 7] = val;
}

/* ------------------------------------------------------------------ */
/* Debug registers (SDM Vol. 3A 17.2, Vol. 2 MOV DR)                   */
/* ------------------------------------------------------------------ */

/* Resolves DR4/DR5: #UD with CR4.DE, else aliases of DR6/DR7. Then the
 * general-detect check: with DR7.GD any access is a #DB fault, with
 * DR6.BD set and GD cleared so the handler itself can use the
 * registers (SDM 17.2.4). */
static unsigned dr_access(struct cpu *cpu, unsigned r)
{
    require_cpl0(cpu);
    r &= 7;
    if (r == 4 || r == 5) {
        if (cpu->cr4 & CR4_DE)
            cpu_raise(cpu, EXC_UD, 0);
        r += 2;
    }
    if (cpu->dr[7] & DR7_GD) {
        cpu->dr[6] |= DR6_BD;
        cpu->dr[7] &= ~DR7_GD;
        cpu_raise(cpu, EXC_DB, 0);
    }
    return r;
}

static void op_mov_to_dr(struct cpu *cpu, const struct insn *in)
{
    unsigned r = dr_access(cpu, in->dst.reg);
    uint32_t val = cpu->regs[in->src.reg & 7];
    if (r == 6)
        val = (val & DR6_WRITABLE) | DR6_FIXED1;
    else if (r == 7)
        val = (val & ~DR7_RESERVED0) | DR7_FIXED1;
    cpu->dr[r] = val;
}

static void op_mov_from_dr(struct cpu *cpu, const struct insn *in)
{
    unsigned r = dr_access(cpu, in->src.reg);
    cpu->regs[in->dst.reg & 7] = cpu->dr[r];
}

/* ------------------------------------------------------------------ */
/* Caches and TLB                                                      */
/* ------------------------------------------------------------------ */

/* INVLPG m: drops the page holding the operand's linear address from
 * both TLBs, global or not (SDM Vol. 2 INVLPG). No segment checks: only
 * the address is used. */
static void op_invlpg(struct cpu *cpu, const struct insn *in)
{
    require_cpl0(cpu);
    uint32_t lin = cpu->seg[in->seg % SEG_COUNT].base + insn_ea(cpu, in);
    tlb_flush_page(&cpu->tlb, lin);
}

/* INVD/WBINVD: Glass has no caches to write back or drop. */
static void op_invd(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    require_cpl0(cpu);
}

/* ------------------------------------------------------------------ */
/* Identification, counters, MSRs                                      */
/* ------------------------------------------------------------------ */

static void op_cpuid(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t out[4];
    cpuid_query(cpu->regs[R_EAX], out);
    cpu->regs[R_EAX] = out[0];
    cpu->regs[R_EBX] = out[1];
    cpu->regs[R_ECX] = out[2];
    cpu->regs[R_EDX] = out[3];
}

static void set_edx_eax(struct cpu *cpu, uint64_t v)
{
    cpu->regs[R_EAX] = (uint32_t)v;
    cpu->regs[R_EDX] = (uint32_t)(v >> 32);
}

/* RDTSC: CR4.TSD restricts it to CPL 0 (SDM Vol. 2 RDTSC). */
static void op_rdtsc(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    if ((cpu->cr4 & CR4_TSD) && pe_mode(cpu) && (cpu->cpl != 0 || v86_mode(cpu)))
        cpu_raise(cpu, EXC_GP, 0);
    set_edx_eax(cpu, cpu_tsc(cpu));
}

/* RDPMC: CR4.PCE opens it to every CPL; P6 has two counters, ECX 0-1.
 * Glass counts no events, so both read 0 (SDM Vol. 2 RDPMC). */
static void op_rdpmc(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    if (!(cpu->cr4 & CR4_PCE) && pe_mode(cpu) && (cpu->cpl != 0 || v86_mode(cpu)))
        cpu_raise(cpu, EXC_GP, 0);
    if (cpu->regs[R_ECX] > 1)
        cpu_raise(cpu, EXC_GP, 0);
    set_edx_eax(cpu, 0);
}

static void op_rdmsr(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    require_cpl0(cpu);
    uint64_t v;
    if (msr_read(cpu, cpu->regs[R_ECX], &v) != 0)
        cpu_raise(cpu, EXC_GP, 0);
    set_edx_eax(cpu, v);
}

static void op_wrmsr(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    require_cpl0(cpu);
    uint64_t v = (uint64_t)cpu->regs[R_EDX] << 32 | cpu->regs[R_EAX];
    if (msr_write(cpu, cpu->regs[R_ECX], v) != 0)
        cpu_raise(cpu, EXC_GP, 0);
}

/* ------------------------------------------------------------------ */
/* SYSENTER / SYSEXIT (SDM Vol. 2 pseudocode)                          */
/* ------------------------------------------------------------------ */

/* The flat 4 GiB segments both instructions load, whatever the GDT
 * holds: code is type 11 (execute/read, accessed), stack type 3
 * (read/write, accessed), 32-bit, page-granular. */
static struct seg flat_seg(uint16_t sel, bool code, unsigned dpl)
{
    uint32_t type = code ? (AR_T_CODE | AR_T_READABLE | AR_T_ACCESSED)
                         : (AR_T_WRITABLE | AR_T_ACCESSED);
    return (struct seg){ .sel = sel, .base = 0, .limit = 0xffffffffu,
                         .ar = type | AR_S | (dpl << AR_DPL_SHIFT) | AR_P | AR_DB | AR_G };
}

static void op_sysenter(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint16_t cs = (uint16_t)cpu->msr.sysenter_cs;
    if (!pe_mode(cpu) || (cs & 0xfffc) == 0)
        cpu_raise(cpu, EXC_GP, 0);
    cpu->eflags &= ~(FL_VM | FL_IF | FL_RF);
    cpu->seg[SEG_CS] = flat_seg(cs & 0xfffc, true, 0);
    cpu->seg[SEG_SS] = flat_seg((uint16_t)((cs & 0xfffc) + 8), false, 0);
    cpu->cpl = 0;
    cpu_mode_changed(cpu);
    cpu->regs[R_ESP] = cpu->msr.sysenter_esp;
    cpu->next_eip = cpu->msr.sysenter_eip;
}

static void op_sysexit(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint16_t cs = (uint16_t)cpu->msr.sysenter_cs;
    if (!pe_mode(cpu) || (cs & 0xfffc) == 0 || v86_mode(cpu) || cpu->cpl != 0)
        cpu_raise(cpu, EXC_GP, 0);
    cpu->seg[SEG_CS] = flat_seg((uint16_t)((cs + 16) | 3), true, 3);
    cpu->seg[SEG_SS] = flat_seg((uint16_t)((cs + 24) | 3), false, 3);
    cpu->cpl = 3;
    cpu_mode_changed(cpu);
    cpu->regs[R_ESP] = cpu->regs[R_ECX];
    cpu->next_eip = cpu->regs[R_EDX];
}

static void op_rsm(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    /* Glass has no SMM: outside SMM, RSM is #UD (SDM Vol. 2 RSM). */
    cpu_raise(cpu, EXC_UD, 0);
}

/* ------------------------------------------------------------------ */
/* HLT, CLI, STI                                                       */
/* ------------------------------------------------------------------ */

static void op_hlt(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    require_cpl0(cpu);
    /* EIP already points past HLT when the loop commits, so an
     * interrupt resumes after it (SDM Vol. 2 HLT). */
    cpu->halted = 1;
}

/* What CLI/STI may do in the current mode (SDM Vol. 2 CLI and STI
 * decision tables; Vol. 3A 20.3 / 20.4 for VME and PVI). */
enum if_action { IF_REAL, IF_VIRTUAL, IF_FAULT };

static enum if_action if_permission(const struct cpu *cpu)
{
    if (!pe_mode(cpu))
        return IF_REAL;
    if (!(cpu->eflags & FL_VM)) {
        if (iopl(cpu) >= cpu->cpl)
            return IF_REAL;
        if (cpu->cpl == 3 && (cpu->cr4 & CR4_PVI))
            return IF_VIRTUAL;
        return IF_FAULT;
    }
    if (iopl(cpu) == 3)
        return IF_REAL;
    if (cpu->cr4 & CR4_VME)
        return IF_VIRTUAL;
    return IF_FAULT;
}

static void op_cli(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    switch (if_permission(cpu)) {
    case IF_REAL:
        cpu->eflags &= ~FL_IF;
        break;
    case IF_VIRTUAL:
        cpu->eflags &= ~FL_VIF;
        break;
    case IF_FAULT:
        cpu_raise(cpu, EXC_GP, 0);
    }
}

static void op_sti(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    switch (if_permission(cpu)) {
    case IF_REAL:
        /* The interrupt shadow opens only when STI actually enables
         * interrupts (SDM Vol. 2 STI). */
        if (!(cpu->eflags & FL_IF))
            cpu->inhibit_irq = 1;
        cpu->eflags |= FL_IF;
        break;
    case IF_VIRTUAL:
        /* A pending virtual interrupt must reach the monitor. */
        if (cpu->eflags & FL_VIP)
            cpu_raise(cpu, EXC_GP, 0);
        cpu->eflags |= FL_VIF;
        break;
    case IF_FAULT:
        cpu_raise(cpu, EXC_GP, 0);
    }
}

const struct op_handler system_handlers[] = {
    {OP_SGDT, op_sgdt},
    {OP_SIDT, op_sidt},
    {OP_LGDT, op_lgdt},
    {OP_LIDT, op_lidt},
    {OP_SMSW, op_smsw},
    {OP_LMSW, op_lmsw},
    {OP_INVLPG, op_invlpg},
    {OP_CLTS, op_clts},
    {OP_INVD, op_invd},
    {OP_WBINVD, op_invd},
    {OP_MOV_TO_CR, op_mov_to_cr},
    {OP_MOV_FROM_CR, op_mov_from_cr},
    {OP_MOV_TO_DR, op_mov_to_dr},
    {OP_MOV_FROM_DR, op_mov_from_dr},
    {OP_CPUID, op_cpuid},
    {OP_RDTSC, op_rdtsc},
    {OP_RDMSR, op_rdmsr},
    {OP_WRMSR, op_wrmsr},
    {OP_RDPMC, op_rdpmc},
    {OP_SYSENTER, op_sysenter},
    {OP_SYSEXIT, op_sysexit},
    {OP_RSM, op_rsm},
    {OP_HLT, op_hlt},
    {OP_CLI, op_cli},
    {OP_STI, op_sti},
    {OP_INVALID, NULL},
};
