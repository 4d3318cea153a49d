/*
 * test_system.c — cpu/system.c and cpu/io.c: control-register rules and
 * their TLB effects, descriptor-table registers, debug-register access,
 * CLI/STI/HLT privilege, SYSENTER/SYSEXIT, and the TSS I/O bitmap.
 * Expected values come from the SDM, not from the code under test.
 */
#include <criterion/criterion.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/system_internal.h"
#include "tests/unit/handler_harness.h"

#define SYS_RAM_SIZE (1u << 20)
static uint8_t sys_ram[SYS_RAM_SIZE];

/* A CPU in its RESET state on 1 MiB of RAM and an empty port space. */
static struct cpu *sys_cpu(void)
{
    struct phys_mem *pm = phys_new();
    cr_assert_eq(phys_map_ram(pm, 0, SYS_RAM_SIZE, sys_ram), 0);
    struct cpu_bus bus = { .mem = pm, .io = io_new() };
    struct cpu *cpu = cpu_new(&bus);
    cr_assert_not_null(cpu);
    return cpu;
}

static void sys_free(struct cpu *cpu)
{
    phys_free(cpu->bus.mem);
    io_free(cpu->bus.io);
    cpu_free(cpu);
}

static insn_fn sys_handler(enum op op)
{
    insn_fn fn = hh_find(system_handlers, op);
    return fn ? fn : hh_find(io_handlers, op);
}

/* Runs one instruction; returns the vector it raised, or -1. */
static int sys_exec(struct cpu *cpu, const struct insn *in)
{
    insn_fn fn = sys_handler((enum op)in->op);
    cr_assert_not_null(fn, "no handler for op %d", in->op);
    return hh_run(cpu, fn, in);
}

static struct insn sys_insn(enum op op)
{
    struct insn in;
    memset(&in, 0, sizeof(in));
    in.op = (uint16_t)op;
    in.opsize = 4;
    in.adsize = 4;
    in.seg = SEG_DS;
    in.seg_override = SEG_NONE;
    in.ea_base = EA_NO_REG;
    in.ea_index = EA_NO_REG;
    return in;
}

/* MOV CRn, EAX with EAX = v. */
static int mov_to_cr(struct cpu *cpu, unsigned n, uint32_t v)
{
    struct insn in = sys_insn(OP_MOV_TO_CR);
    in.dst = (struct operand){ OPND_CREG, 4, (uint8_t)n };
    in.src = (struct operand){ OPND_REG, 4, R_EAX };
    cpu->regs[R_EAX] = v;
    return sys_exec(cpu, &in);
}

static int mov_from_cr(struct cpu *cpu, unsigned n, uint32_t *out)
{
    struct insn in = sys_insn(OP_MOV_FROM_CR);
    in.dst = (struct operand){ OPND_REG, 4, R_EBX };
    in.src = (struct operand){ OPND_CREG, 4, (uint8_t)n };
    int r = sys_exec(cpu, &in);
    *out = cpu->regs[R_EBX];
    return r;
}

static int mov_to_dr(struct cpu *cpu, unsigned n, uint32_t v)
{
    struct insn in = sys_insn(OP_MOV_TO_DR);
    in.dst = (struct operand){ OPND_DREG, 4, (uint8_t)n };
    in.src = (struct operand){ OPND_REG, 4, R_EAX };
    cpu->regs[R_EAX] = v;
    return sys_exec(cpu, &in);
}

static int mov_from_dr(struct cpu *cpu, unsigned n, uint32_t *out)
{
    struct insn in = sys_insn(OP_MOV_FROM_DR);
    in.dst = (struct operand){ OPND_REG, 4, R_EBX };
    in.src = (struct operand){ OPND_DREG, 4, (uint8_t)n };
    int r = sys_exec(cpu, &in);
    *out = cpu->regs[R_EBX];
    return r;
}

static int run0(struct cpu *cpu, enum op op)
{
    struct insn in = sys_insn(op);
    return sys_exec(cpu, &in);
}

/* Protected mode at `cpl` (only the state the checks look at). */
static void enter_pm(struct cpu *cpu, unsigned cpl)
{
    cpu->cr0 |= CR0_PE;
    cpu->cpl = (uint8_t)cpl;
}

/* A TLB entry that looks cached for lin, global or not (listed among the
 * filled entries, as tlb_fill does, so that flushes find it). */
static void tlb_plant(struct cpu *cpu, uint32_t lin, bool global)
{
    struct tlb_entry *e = &cpu->tlb.e[0][tlb_index(lin)];
    e->tag_read = e->tag_write = e->tag_exec = lin & TLB_PAGE_MASK;
    if (!(e->flags & TLB_ENTRY_LISTED))
        cpu->tlb.filled[cpu->tlb.nfilled++] = (uint16_t)tlb_index(lin);
    e->flags = (lin & TLB_PAGE_MASK) | TLB_ENTRY_LISTED | (global ? TLB_ENTRY_GLOBAL : 0);
}

static bool tlb_cached(struct cpu *cpu, uint32_t lin)
{
    return cpu->tlb.e[0][tlb_index(lin)].tag_read == (lin & TLB_PAGE_MASK);
}

/* ---------------------------------------------------------------- CR0 */

Test(system, cr0_invalid_combinations_gp)
{
    struct cpu *cpu = sys_cpu();
    uint32_t before = cpu->cr0;
    cr_assert_eq(mov_to_cr(cpu, 0, CR0_PG), EXC_GP);           /* PG without PE */
    cr_assert_eq(mov_to_cr(cpu, 0, CR0_PE | CR0_NW), EXC_GP);  /* NW without CD */
    cr_assert_eq(cpu->cr0, before);
    sys_free(cpu);
}

Test(system, cr0_et_forced_reserved_dropped)
{
    struct cpu *cpu = sys_cpu();
    uint32_t v;
    cr_assert_eq(mov_to_cr(cpu, 0, CR0_PE | 0x0000ff00u | (1u << 17)), -1);
    cr_assert_eq(mov_from_cr(cpu, 0, &v), -1);
    cr_assert_eq(v, CR0_PE | CR0_ET);
    sys_free(cpu);
}

Test(system, cr_privilege)
{
    struct cpu *cpu = sys_cpu();
    uint32_t v;
    enter_pm(cpu, 3);
    cr_assert_eq(mov_to_cr(cpu, 0, CR0_PE), EXC_GP);
    cr_assert_eq(mov_from_cr(cpu, 3, &v), EXC_GP);
    enter_pm(cpu, 0);
    cpu->eflags |= FL_VM; /* v86 mode is CPL 3 */
    cr_assert_eq(mov_from_cr(cpu, 0, &v), EXC_GP);
    sys_free(cpu);
}

Test(system, cr0_wp_change_flushes_tlb)
{
    struct cpu *cpu = sys_cpu();
    cr_assert_eq(mov_to_cr(cpu, 0, CR0_PE), -1);
    tlb_plant(cpu, 0x5000, false);
    cr_assert_eq(mov_to_cr(cpu, 0, CR0_PE | CR0_MP), -1); /* MP: no flush needed */
    cr_assert(tlb_cached(cpu, 0x5000));
    cr_assert_eq(mov_to_cr(cpu, 0, CR0_PE | CR0_WP), -1);
    cr_assert_not(tlb_cached(cpu, 0x5000));
    sys_free(cpu);
}

Test(system, cr3_flush_keeps_globals_with_pge)
{
    struct cpu *cpu = sys_cpu();
    tlb_plant(cpu, 0x5000, true);
    tlb_plant(cpu, 0x6000, false);
    cr_assert_eq(mov_to_cr(cpu, 3, 0x1000), -1);
    cr_assert_not(tlb_cached(cpu, 0x5000)); /* no PGE: everything goes */
    cr_assert_eq(mov_to_cr(cpu, 4, CR4_PGE), -1);
    tlb_plant(cpu, 0x5000, true);
    tlb_plant(cpu, 0x6000, false);
    cr_assert_eq(mov_to_cr(cpu, 3, 0x2000), -1);
    cr_assert(tlb_cached(cpu, 0x5000));
    cr_assert_not(tlb_cached(cpu, 0x6000));
    sys_free(cpu);
}

Test(system, cr3_low_bits)
{
    struct cpu *cpu = sys_cpu();
    uint32_t v;
    /* 32-bit paging: PWT, PCD and bits 12-31 only (SDM 4.3). */
    cr_assert_eq(mov_to_cr(cpu, 3, 0x12345fffu), -1);
    cr_assert_eq(mov_from_cr(cpu, 3, &v), -1);
    cr_assert_eq(v, 0x12345018u);
    sys_free(cpu);
}

Test(system, cr4_reserved_bits_gp)
{
    struct cpu *cpu = sys_cpu();
    cr_assert_eq(mov_to_cr(cpu, 4, CR4_MCE), EXC_GP);         /* CPUID has no MCE */
    cr_assert_eq(mov_to_cr(cpu, 4, CR4_OSXMMEXCPT), EXC_GP);  /* no SSE */
    cr_assert_eq(mov_to_cr(cpu, 4, 1u << 11), EXC_GP);
    cr_assert_eq(cpu->cr4, 0u);
    uint32_t ok = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PGE | CR4_PCE | CR4_OSFXSR;
    cr_assert_eq(mov_to_cr(cpu, 4, ok), -1);
    cr_assert_eq(cpu->cr4, ok);
    sys_free(cpu);
}

Test(system, cr4_pse_change_flushes)
{
    struct cpu *cpu = sys_cpu();
    tlb_plant(cpu, 0x7000, true);
    cr_assert_eq(mov_to_cr(cpu, 4, CR4_TSD), -1);
    cr_assert(tlb_cached(cpu, 0x7000));
    cr_assert_eq(mov_to_cr(cpu, 4, CR4_TSD | CR4_PSE), -1);
    cr_assert_not(tlb_cached(cpu, 0x7000)); /* globals too */
    sys_free(cpu);
}

/* PDPT at 0x3000: four present entries pointing at 0x10000.. */
static void write_pdpt(uint32_t at, uint64_t e0)
{
    for (int i = 0; i < 4; i++) {
        uint64_t e = i == 0 ? e0 : (0x10000ull + 0x1000ull * (unsigned)i) | 1;
        memcpy(&sys_ram[at + 8 * i], &e, 8);
    }
}

Test(system, pae_paging_loads_pdptes)
{
    struct cpu *cpu = sys_cpu();
    write_pdpt(0x3000, 0x10001);
    cr_assert_eq(mov_to_cr(cpu, 3, 0x3000), -1);
    cr_assert_eq(mov_to_cr(cpu, 4, CR4_PAE), -1);
    cr_assert_eq(cpu->pdpte[0], 0u); /* not loaded until PAE paging is on */
    cr_assert_eq(mov_to_cr(cpu, 0, CR0_PE | CR0_PG), -1);
    cr_assert_eq(cpu->pdpte[0], 0x10001u);
    cr_assert_eq(cpu->pdpte[3], 0x13001u);
    /* MOV CR3 reloads them. */
    write_pdpt(0x4000, 0x20001);
    cr_assert_eq(mov_to_cr(cpu, 3, 0x4000), -1);
    cr_assert_eq(cpu->pdpte[0], 0x20001u);
    sys_free(cpu);
}

Test(system, pae_bad_pdpte_gp_leaves_state)
{
    struct cpu *cpu = sys_cpu();
    write_pdpt(0x3000, 0x10001 | (1u << 1)); /* bit 1 reserved in a PDPTE */
    cr_assert_eq(mov_to_cr(cpu, 3, 0x3000), -1);
    cr_assert_eq(mov_to_cr(cpu, 4, CR4_PAE), -1);
    cr_assert_eq(mov_to_cr(cpu, 0, CR0_PE | CR0_PG), EXC_GP);
    cr_assert_eq(cpu->cr0 & CR0_PG, 0u);
    sys_free(cpu);
}

/* ---------------------------------------------------------- LMSW etc. */

Test(system, lmsw_cannot_clear_pe)
{
    struct cpu *cpu = sys_cpu();
    struct insn in = sys_insn(OP_LMSW);
    in.dst = (struct operand){ OPND_REG, 2, R_EAX };
    cpu->cr0 = CR0_ET | CR0_PE | CR0_NE;
    cpu->regs[R_EAX] = 0xfffe; /* PE clear, MP EM TS set, upper bits set */
    cr_assert_eq(sys_exec(cpu, &in), -1);
    cr_assert_eq(cpu->cr0, CR0_ET | CR0_PE | CR0_NE | CR0_MP | CR0_EM | CR0_TS);
    sys_free(cpu);
}

Test(system, smsw_register_and_clts)
{
    struct cpu *cpu = sys_cpu();
    struct insn in = sys_insn(OP_SMSW);
    in.dst = (struct operand){ OPND_REG, 2, R_ECX };
    cpu->cr0 = CR0_PE | CR0_TS | CR0_ET | CR0_PG;
    cpu->regs[R_ECX] = 0xabcd0000u;
    cr_assert_eq(sys_exec(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_ECX], 0xabcd0019u);
    cr_assert_eq(run0(cpu, OP_CLTS), -1);
    cr_assert_eq(cpu->cr0 & CR0_TS, 0u);
    sys_free(cpu);
}

Test(system, sgdt_lgdt_16_and_32)
{
    struct cpu *cpu = sys_cpu();
    cpu->seg[SEG_DS].base = 0;
    cpu->seg[SEG_DS].limit = 0xffff;
    cpu->gdtr = (struct dtr){ .base = 0x12345678u, .limit = 0x0127 };
    struct insn in = sys_insn(OP_SGDT);
    in.dst = (struct operand){ OPND_MEM, 6, 0 };
    in.disp = 0x100;
    cr_assert_eq(sys_exec(cpu, &in), -1);
    const uint8_t want32[6] = { 0x27, 0x01, 0x78, 0x56, 0x34, 0x12 };
    cr_assert_arr_eq(&sys_ram[0x100], want32, 6);
    in.opsize = 2; /* 24-bit base, sixth byte 0 */
    cr_assert_eq(sys_exec(cpu, &in), -1);
    const uint8_t want16[6] = { 0x27, 0x01, 0x78, 0x56, 0x34, 0x00 };
    cr_assert_arr_eq(&sys_ram[0x100], want16, 6);

    const uint8_t src[6] = { 0xff, 0x07, 0x11, 0x22, 0x33, 0x44 };
    memcpy(&sys_ram[0x200], src, 6);
    struct insn ld = sys_insn(OP_LIDT);
    ld.dst = (struct operand){ OPND_MEM, 6, 0 };
    ld.disp = 0x200;
    cr_assert_eq(sys_exec(cpu, &ld), -1);
    cr_assert_eq(cpu->idtr.base, 0x44332211u);
    cr_assert_eq(cpu->idtr.limit, 0x07ff);
    ld.opsize = 2;
    cr_assert_eq(sys_exec(cpu, &ld), -1);
    cr_assert_eq(cpu->idtr.base, 0x00332211u);
    enter_pm(cpu, 3);
    cr_assert_eq(sys_exec(cpu, &ld), EXC_GP);
    sys_free(cpu);
}

Test(system, invlpg_flushes_one_page)
{
    struct cpu *cpu = sys_cpu();
    cpu->seg[SEG_DS].base = 0x1000;
    tlb_plant(cpu, 0x5000, true);
    tlb_plant(cpu, 0x6000, false);
    struct insn in = sys_insn(OP_INVLPG);
    in.dst = (struct operand){ OPND_MEM, 1, 0 };
    in.disp = 0x4123; /* linear 0x5123 */
    cr_assert_eq(sys_exec(cpu, &in), -1);
    cr_assert_not(tlb_cached(cpu, 0x5000));
    cr_assert(tlb_cached(cpu, 0x6000));
    enter_pm(cpu, 1);
    cr_assert_eq(sys_exec(cpu, &in), EXC_GP);
    sys_free(cpu);
}

/* ---------------------------------------------------------------- DRs */

Test(system, dr6_dr7_fixed_bits)
{
    struct cpu *cpu = sys_cpu();
    uint32_t v;
    cr_assert_eq(mov_to_dr(cpu, 6, 0), -1);
    cr_assert_eq(mov_from_dr(cpu, 6, &v), -1);
    cr_assert_eq(v, 0xffff0ff0u);
    cr_assert_eq(mov_to_dr(cpu, 6, 0xffffffffu), -1);
    cr_assert_eq(mov_from_dr(cpu, 6, &v), -1);
    cr_assert_eq(v, 0xffffefffu); /* bit 12 reads 0 */
    cr_assert_eq(mov_to_dr(cpu, 7, 0), -1);
    cr_assert_eq(mov_from_dr(cpu, 7, &v), -1);
    cr_assert_eq(v, 0x400u);
    sys_free(cpu);
}

Test(system, dr4_dr5_alias_or_ud)
{
    struct cpu *cpu = sys_cpu();
    uint32_t v;
    cr_assert_eq(mov_to_dr(cpu, 5, 0x1), -1); /* DR7.L0 via DR5 */
    cr_assert_eq(cpu->dr[7], 0x401u);
    cr_assert_eq(mov_from_dr(cpu, 4, &v), -1);
    cr_assert_eq(v, cpu->dr[6]);
    cpu->cr4 |= CR4_DE;
    cr_assert_eq(mov_from_dr(cpu, 4, &v), EXC_UD);
    cr_assert_eq(mov_to_dr(cpu, 5, 0), EXC_UD);
    enter_pm(cpu, 3);
    cr_assert_eq(mov_to_dr(cpu, 0, 0), EXC_GP);
    sys_free(cpu);
}

Test(system, dr7_gd_raises_db)
{
    struct cpu *cpu = sys_cpu();
    uint32_t v;
    cr_assert_eq(mov_to_dr(cpu, 7, 1u << 13), -1);
    cr_assert_eq(mov_from_dr(cpu, 0, &v), EXC_DB);
    cr_assert(cpu->dr[6] & (1u << 13));        /* BD */
    cr_assert_eq(cpu->dr[7] & (1u << 13), 0u); /* GD cleared */
    cr_assert_eq(mov_from_dr(cpu, 0, &v), -1);
    sys_free(cpu);
}

/* ------------------------------------------------ counters and SYSENTER */

Test(system, rdtsc_rdpmc_privilege)
{
    struct cpu *cpu = sys_cpu();
    cpu->icount = 1000;
    cpu->tsc_base = 0;
    cr_assert_eq(run0(cpu, OP_RDTSC), -1);
    cr_assert_eq(cpu->regs[R_EAX], 1000u);
    cr_assert_eq(cpu->regs[R_EDX], 0u);
    enter_pm(cpu, 3);
    cr_assert_eq(run0(cpu, OP_RDTSC), -1);
    cpu->cr4 |= CR4_TSD;
    cr_assert_eq(run0(cpu, OP_RDTSC), EXC_GP);
    cpu->regs[R_ECX] = 0;
    cr_assert_eq(run0(cpu, OP_RDPMC), EXC_GP); /* PCE = 0 at CPL 3 */
    cpu->cr4 |= CR4_PCE;
    cpu->regs[R_EAX] = cpu->regs[R_EDX] = 0xdead;
    cr_assert_eq(run0(cpu, OP_RDPMC), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0u);
    cpu->regs[R_ECX] = 2;
    cr_assert_eq(run0(cpu, OP_RDPMC), EXC_GP);
    sys_free(cpu);
}

Test(system, sysenter_sysexit)
{
    struct cpu *cpu = sys_cpu();
    cr_assert_eq(run0(cpu, OP_SYSENTER), EXC_GP); /* real mode */
    enter_pm(cpu, 3);
    cpu->msr.sysenter_cs = 0x3; /* selector bits 15:2 zero */
    cr_assert_eq(run0(cpu, OP_SYSENTER), EXC_GP);
    cpu->msr.sysenter_cs = 0x0b;
    cpu->msr.sysenter_esp = 0x8000;
    cpu->msr.sysenter_eip = 0xc0001000u;
    cpu->eflags |= FL_IF | FL_VM | FL_RF;
    cr_assert_eq(run0(cpu, OP_SYSENTER), -1);
    cr_assert_eq(cpu->seg[SEG_CS].sel, 0x08);
    cr_assert_eq(cpu->seg[SEG_SS].sel, 0x10);
    cr_assert_eq(cpu->seg[SEG_CS].limit, 0xffffffffu);
    cr_assert_eq(AR_DPL(cpu->seg[SEG_CS].ar), 0u);
    cr_assert_eq(AR_TYPE(cpu->seg[SEG_CS].ar), 11u);
    cr_assert_eq(AR_TYPE(cpu->seg[SEG_SS].ar), 3u);
    cr_assert_eq(cpu->cpl, 0);
    cr_assert_eq(cpu->regs[R_ESP], 0x8000u);
    cr_assert_eq(cpu->next_eip, 0xc0001000u);
    cr_assert_eq(cpu->eflags & (FL_IF | FL_VM | FL_RF), 0u);

    cpu->regs[R_ECX] = 0xbfff0000u;
    cpu->regs[R_EDX] = 0x08048000u;
    cr_assert_eq(run0(cpu, OP_SYSEXIT), -1);
    cr_assert_eq(cpu->seg[SEG_CS].sel, 0x1b);
    cr_assert_eq(cpu->seg[SEG_SS].sel, 0x23);
    cr_assert_eq(AR_DPL(cpu->seg[SEG_SS].ar), 3u);
    cr_assert_eq(cpu->cpl, 3);
    cr_assert_eq(cpu->regs[R_ESP], 0xbfff0000u);
    cr_assert_eq(cpu->next_eip, 0x08048000u);
    cr_assert_eq(run0(cpu, OP_SYSEXIT), EXC_GP); /* CPL 3 */
    sys_free(cpu);
}

/* ------------------------------------------------------ HLT, CLI, STI */

Test(system, hlt_privilege)
{
    struct cpu *cpu = sys_cpu();
    cr_assert_eq(run0(cpu, OP_HLT), -1);
    cr_assert_eq(cpu->halted, 1);
    cpu->halted = 0;
    enter_pm(cpu, 3);
    cr_assert_eq(run0(cpu, OP_HLT), EXC_GP);
    cr_assert_eq(cpu->halted, 0);
    cr_assert_eq(run0(cpu, OP_RSM), EXC_UD);
    sys_free(cpu);
}

Test(system, sti_shadow_only_when_if_was_clear)
{
    struct cpu *cpu = sys_cpu();
    cr_assert_eq(run0(cpu, OP_STI), -1);
    cr_assert(cpu->eflags & FL_IF);
    cr_assert_eq(cpu->inhibit_irq, 1);
    cpu->inhibit_irq = 0;
    cr_assert_eq(run0(cpu, OP_STI), -1);
    cr_assert_eq(cpu->inhibit_irq, 0);
    cr_assert_eq(run0(cpu, OP_CLI), -1);
    cr_assert_eq(cpu->eflags & FL_IF, 0u);
    sys_free(cpu);
}

Test(system, cli_sti_protected_mode_rules)
{
    struct cpu *cpu = sys_cpu();
    enter_pm(cpu, 3);
    cpu->eflags |= FL_IF | (3u << FL_IOPL_SHIFT); /* IOPL 3: allowed */
    cr_assert_eq(run0(cpu, OP_CLI), -1);
    cr_assert_eq(cpu->eflags & FL_IF, 0u);
    cpu->eflags &= ~FL_IOPL; /* IOPL 0 < CPL 3 */
    cr_assert_eq(run0(cpu, OP_STI), EXC_GP);
    cpu->cr4 |= CR4_PVI; /* PVI at CPL 3: VIF instead */
    cr_assert_eq(run0(cpu, OP_STI), -1);
    cr_assert(cpu->eflags & FL_VIF);
    cr_assert_eq(cpu->eflags & FL_IF, 0u);
    cr_assert_eq(run0(cpu, OP_CLI), -1);
    cr_assert_eq(cpu->eflags & FL_VIF, 0u);
    cpu->eflags |= FL_VIP;
    cr_assert_eq(run0(cpu, OP_STI), EXC_GP);
    cpu->cpl = 2; /* PVI applies at CPL 3 only */
    cpu->eflags &= ~FL_VIP;
    cr_assert_eq(run0(cpu, OP_CLI), EXC_GP);
    sys_free(cpu);
}

Test(system, cli_sti_v86_rules)
{
    struct cpu *cpu = sys_cpu();
    enter_pm(cpu, 3);
    cpu->eflags |= FL_VM | FL_IF | (3u << FL_IOPL_SHIFT);
    cr_assert_eq(run0(cpu, OP_CLI), -1);
    cr_assert_eq(cpu->eflags & FL_IF, 0u);
    cpu->eflags &= ~FL_IOPL;
    cr_assert_eq(run0(cpu, OP_STI), EXC_GP);
    cpu->cr4 |= CR4_VME;
    cr_assert_eq(run0(cpu, OP_STI), -1);
    cr_assert(cpu->eflags & FL_VIF);
    cpu->eflags |= FL_VIP;
    cr_assert_eq(run0(cpu, OP_STI), EXC_GP);
    sys_free(cpu);
}

/* ------------------------------------------------------------- I/O */

static uint32_t io_last_port, io_last_val;
static unsigned io_writes;

static uint64_t io_test_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)opaque;
    (void)size;
    return 0x11223344u + (uint32_t)addr;
}

static void io_test_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)opaque;
    (void)size;
    io_last_port = (uint32_t)addr;
    io_last_val = (uint32_t)val;
    io_writes++;
}

static const struct mem_ops io_test_ops = { .read = io_test_read, .write = io_test_write };

/* A 32-bit busy TSS at 0x8000 whose bitmap (at +0x68) allows only ports
 * 0x40-0x47 and 0x3f8; TR limit `limit`. */
static void setup_tss(struct cpu *cpu, uint32_t limit)
{
    memset(&sys_ram[0x8000], 0, 0x2100);
    sys_ram[0x8066] = 0x68;
    sys_ram[0x8067] = 0x00;
    memset(&sys_ram[0x8068], 0xff, 0x2001);
    sys_ram[0x8068 + 0x40 / 8] = 0x00;
    sys_ram[0x8068 + 0x3f8 / 8] = 0xfe; /* only 0x3f8 of 0x3f8-0x3ff */
    cpu->tr = (struct seg){ .sel = 0x28, .base = 0x8000, .limit = limit,
                            .ar = AR_P | (11u << AR_TYPE_SHIFT) };
}

static int io_check(struct cpu *cpu, uint16_t port, unsigned size)
{
    jmp_buf jb;
    cpu->fault_jmp = &jb;
    cpu->exc_vector = -1;
    if (setjmp(jb)) {
        cpu->fault_jmp = NULL;
        return cpu->exc_vector;
    }
    cpu_check_io(cpu, port, size);
    cpu->fault_jmp = NULL;
    return -1;
}

Test(io, bitmap_rules)
{
    struct cpu *cpu = sys_cpu();
    cr_assert_eq(io_check(cpu, 0x1234, 4), -1); /* real mode: no checks */
    enter_pm(cpu, 3);
    setup_tss(cpu, 0x8068 + 0x2000 - 0x8000);
    cr_assert_eq(io_check(cpu, 0x40, 1), -1);
    cr_assert_eq(io_check(cpu, 0x44, 4), -1);
    cr_assert_eq(io_check(cpu, 0x45, 4), EXC_GP); /* 0x48 is denied */
    cr_assert_eq(io_check(cpu, 0x3f8, 1), -1);
    cr_assert_eq(io_check(cpu, 0x3f8, 2), EXC_GP);
    cr_assert_eq(io_check(cpu, 0x60, 1), EXC_GP);
    cpu->eflags |= 3u << FL_IOPL_SHIFT; /* CPL <= IOPL: bitmap not used */
    cr_assert_eq(io_check(cpu, 0x60, 1), -1);
    cpu->eflags |= FL_VM; /* v86 always uses the bitmap */
    cr_assert_eq(io_check(cpu, 0x60, 1), EXC_GP);
    cr_assert_eq(io_check(cpu, 0x41, 2), -1);
    sys_free(cpu);
}

Test(io, bitmap_beyond_limit_and_tss16)
{
    struct cpu *cpu = sys_cpu();
    enter_pm(cpu, 3);
    /* Limit covers the bitmap bytes of ports 0-0x47 but not the byte
     * after: the two-byte read for port 0x40 needs 0x68+8 and +9. */
    setup_tss(cpu, 0x68 + 8);
    cr_assert_eq(io_check(cpu, 0x40, 1), EXC_GP);
    setup_tss(cpu, 0x68 + 9);
    cr_assert_eq(io_check(cpu, 0x40, 1), -1);
    cpu->tr.ar = AR_P | (3u << AR_TYPE_SHIFT); /* 16-bit TSS: no bitmap */
    cr_assert_eq(io_check(cpu, 0x40, 1), EXC_GP);
    setup_tss(cpu, 0x60); /* too short for the map base */
    cr_assert_eq(io_check(cpu, 0x40, 1), EXC_GP);
    sys_free(cpu);
}

Test(io, in_out_widths)
{
    struct cpu *cpu = sys_cpu();
    cr_assert_eq(io_register(cpu->bus.io, 0x40, 8, &io_test_ops, NULL), 0);
    struct insn in = sys_insn(OP_IN);
    in.dst = (struct operand){ OPND_REG, 1, R_EAX };
    in.src = (struct operand){ OPND_IMM, 1, 0 };
    in.imm = 0x41;
    cpu->regs[R_EAX] = 0xaaaaaaaau;
    cr_assert_eq(sys_exec(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0xaaaaaa85u); /* 0x11223385, low byte */

    struct insn out = sys_insn(OP_OUT);
    out.dst = (struct operand){ OPND_REG, 2, R_EDX };
    out.src = (struct operand){ OPND_REG, 2, R_EAX };
    cpu->regs[R_EDX] = 0xffff0042u;
    cpu->regs[R_EAX] = 0x12345678u;
    io_writes = 0;
    cr_assert_eq(sys_exec(cpu, &out), -1);
    cr_assert_eq(io_writes, 1u);
    cr_assert_eq(io_last_port, 0x42u);
    cr_assert_eq(io_last_val, 0x5678u);

    /* Refused: no bus access, no register change. */
    enter_pm(cpu, 3);
    setup_tss(cpu, 0x2068);
    cpu->regs[R_EDX] = 0x60;
    io_writes = 0;
    cr_assert_eq(sys_exec(cpu, &out), EXC_GP);
    cr_assert_eq(io_writes, 0u);
    sys_free(cpu);
}
