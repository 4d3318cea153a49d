/*
 * test_except.c — cpu/except.c: exception and interrupt delivery in real
 * mode, protected mode (same and inner privilege, EXT bit, RF, gate DPL),
 * the double-fault and triple-fault rules (SDM Vol. 3A 6.15 Tables 6-4
 * and 6-5), NMI / INTR acceptance, v86 INT n (SDM 20.3.3 Table 20-2) and
 * the -d int log line.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <criterion/criterion.h>

#include "tests/unit/arith_harness.h"

#define EX_RAM_SIZE (1u << 20)
#define EX_GDT 0x1000u
#define EX_IDT 0x2000u
#define EX_TSS 0x3000u

enum {
    EX_CODE0 = 0x08, EX_DATA0 = 0x10, EX_CODE3 = 0x1b, EX_DATA3 = 0x23, EX_TSSSEL = 0x28,
};

static void ex_put_desc(struct cpu *cpu, uint32_t addr, uint32_t base, uint32_t limit,
                        uint32_t access, uint32_t flags)
{
    uint32_t lo = (limit & 0xffff) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xff) | (access << 8) | (limit & 0xf0000) | (flags << 20) |
                  (base & 0xff000000u);
    phys_write(cpu->bus.mem, addr, lo, 4);
    phys_write(cpu->bus.mem, addr + 4, hi, 4);
}

/* An IDT gate: type 0xe interrupt32, 0xf trap32, 0x6 interrupt16. */
static void ex_gate(struct cpu *cpu, int vector, uint16_t sel, uint32_t off, unsigned type,
                    unsigned dpl, bool present)
{
    uint32_t lo = (off & 0xffff) | ((uint32_t)sel << 16);
    uint32_t hi = (off & 0xffff0000u) | (present ? 1u << 15 : 0) | (dpl << 13) | (type << 8);
    phys_write(cpu->bus.mem, EX_IDT + (uint32_t)vector * 8, lo, 4);
    phys_write(cpu->bus.mem, EX_IDT + (uint32_t)vector * 8 + 4, hi, 4);
}

static uint32_t ex_mem(struct cpu *cpu, uint32_t addr, unsigned size)
{
    return (uint32_t)phys_read(cpu->bus.mem, addr, size);
}

static struct seg ex_seg_of(struct cpu *cpu, uint16_t sel)
{
    struct desc d = { ex_mem(cpu, EX_GDT + (sel & 0xfff8u), 4),
                      ex_mem(cpu, EX_GDT + (sel & 0xfff8u) + 4, 4) };
    struct seg s;
    seg_from_desc(&s, sel, d);
    return s;
}

/* Flat protected mode at CPL 0: ring-0 and ring-3 flat segments, a
 * 32-bit TSS whose ring-0 stack is 0x10:0x7000, an empty IDT. */
static struct cpu *ex_cpu_pm(void)
{
    struct cpu *cpu = th_cpu();
    cpu->exc_delivering = -1;
    cpu->bus.mem = phys_new();
    phys_map_ram(cpu->bus.mem, 0, EX_RAM_SIZE, calloc(1, EX_RAM_SIZE));
    tlb_init(&cpu->tlb);
    ex_put_desc(cpu, EX_GDT + 0x08, 0, 0xfffff, 0x9a, 0xc);
    ex_put_desc(cpu, EX_GDT + 0x10, 0, 0xfffff, 0x92, 0xc);
    ex_put_desc(cpu, EX_GDT + 0x18, 0, 0xfffff, 0xfa, 0xc);
    ex_put_desc(cpu, EX_GDT + 0x20, 0, 0xfffff, 0xf2, 0xc);
    ex_put_desc(cpu, EX_GDT + 0x28, EX_TSS, 0x67 + 32 + 8, 0x8b, 0x0);
    phys_write(cpu->bus.mem, EX_TSS + 4, 0x7000, 4);  /* ESP0 */
    phys_write(cpu->bus.mem, EX_TSS + 8, EX_DATA0, 2); /* SS0 */
    phys_write(cpu->bus.mem, EX_TSS + 0x66, 0x68 + 32, 2); /* I/O map base */
    cpu->gdtr = (struct dtr){ EX_GDT, 0x2f };
    cpu->idtr = (struct dtr){ EX_IDT, 0x7ff };
    cpu->tr = ex_seg_of(cpu, EX_TSSSEL);
    cpu->cr0 = CR0_PE;
    cpu->seg[SEG_CS] = ex_seg_of(cpu, EX_CODE0);
    for (int s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            cpu->seg[s] = ex_seg_of(cpu, EX_DATA0);
    cpu->regs[R_ESP] = 0x8000;
    cpu->eip = 0x1000;
    cpu->next_eip = 0x1002;
    cpu_mode_changed(cpu);
    return cpu;
}

static void ex_ring3(struct cpu *cpu)
{
    cpu->seg[SEG_CS] = ex_seg_of(cpu, EX_CODE3);
    for (int s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            cpu->seg[s] = ex_seg_of(cpu, EX_DATA3);
    cpu->regs[R_ESP] = 0x9000;
    cpu_mode_changed(cpu);
}

/* What the event under test is. */
static struct {
    int vector;
    uint32_t error;
    enum int_source src;
    int kind; /* 0 cpu_raise, 1 cpu_raise_int, 2 cpu_service_interrupts */
} ex_event;

/* Runs the event the way translate/interp.c does: unwinding to a setjmp
 * that calls cpu_deliver_pending (again, if the delivery faults). Returns
 * false on a triple fault. */
static bool ex_fire(struct cpu *cpu)
{
    jmp_buf jb;
    cpu->fault_jmp = &jb;
    if (setjmp(jb)) {
        bool ok = cpu_deliver_pending(cpu);
        cpu->fault_jmp = NULL;
        return ok;
    }
    if (ex_event.kind == 0)
        cpu_raise(cpu, ex_event.vector, ex_event.error);
    else if (ex_event.kind == 1)
        cpu_raise_int(cpu, ex_event.vector, ex_event.src);
    else
        cpu_service_interrupts(cpu);
    cpu->fault_jmp = NULL;
    return true;
}

static bool ex_raise(struct cpu *cpu, int vector, uint32_t error)
{
    ex_event.kind = 0;
    ex_event.vector = vector;
    ex_event.error = error;
    return ex_fire(cpu);
}

static bool ex_int(struct cpu *cpu, int vector, enum int_source src)
{
    ex_event.kind = 1;
    ex_event.vector = vector;
    ex_event.src = src;
    return ex_fire(cpu);
}

static int ex_ack_vector;
static int ex_ack(void *opaque)
{
    (void)opaque;
    return ex_ack_vector;
}

/* --------------------------------------------------------- real mode */

static struct cpu *ex_cpu_real(void)
{
    struct cpu *cpu = ex_cpu_pm();
    cpu->cr0 = 0;
    for (int s = 0; s < SEG_COUNT; s++)
        cpu->seg[s] = (struct seg){ 0, 0, 0xffff, AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED };
    cpu->seg[SEG_CS].sel = 0x100;
    cpu->seg[SEG_CS].base = 0x1000;
    cpu->idtr = (struct dtr){ 0, 0x3ff };
    cpu->regs[R_ESP] = 0x100;
    cpu->eip = 0x10;
    cpu->next_eip = 0x12;
    cpu_mode_changed(cpu);
    return cpu;
}

Test(except, real_mode_int_n)
{
    struct cpu *cpu = ex_cpu_real();
    phys_write(cpu->bus.mem, 0x21 * 4, 0x12345678, 4); /* 1234:5678 */
    cpu->eflags = FL_FIXED1 | FL_IF | FL_TF | FL_AC | FL_CF;
    cr_assert(ex_int(cpu, 0x21, INT_SOFT_N));
    cr_assert_eq(cpu->regs[R_ESP], 0xfa);
    cr_assert_eq(ex_mem(cpu, 0xfa, 2), 0x12);   /* IP after INT */
    cr_assert_eq(ex_mem(cpu, 0xfc, 2), 0x100);  /* CS */
    cr_assert_eq(ex_mem(cpu, 0xfe, 2), FL_FIXED1 | FL_IF | FL_TF | FL_CF); /* FLAGS */
    cr_assert_eq(cpu->seg[SEG_CS].sel, 0x1234);
    cr_assert_eq(cpu->seg[SEG_CS].base, 0x12340);
    cr_assert_eq(cpu->eip, 0x5678);
    cr_assert_eq(cpu->eflags & (FL_IF | FL_TF | FL_AC), 0);
    cr_assert_eq(cpu->exc_delivering, -1);
}

Test(except, real_mode_fault_pushes_faulting_ip_and_no_error_code)
{
    struct cpu *cpu = ex_cpu_real();
    phys_write(cpu->bus.mem, 13 * 4, 0x00002000, 4);
    cr_assert(ex_raise(cpu, EXC_GP, 0x1234));
    cr_assert_eq(cpu->regs[R_ESP], 0xfa);
    cr_assert_eq(ex_mem(cpu, 0xfa, 2), 0x10);
    cr_assert_eq(cpu->eip, 0x2000);
}

Test(except, real_mode_ivt_limit_triple_faults)
{
    struct cpu *cpu = ex_cpu_real();
    /* #BR's entry (5*4+3) is beyond the limit: #GP while delivering #BR
     * (benign) is handled serially; #GP while delivering #GP is #DF;
     * #DF's entry is beyond the limit too: shutdown. */
    cpu->idtr.limit = 0x10;
    cr_assert_not(ex_raise(cpu, EXC_BR, 0));
    cr_assert_eq(cpu->regs[R_ESP], 0x100);
}

/* ---------------------------------------------------- protected mode */

Test(except, pm_same_privilege_fault_with_error_and_rf)
{
    struct cpu *cpu = ex_cpu_pm();
    ex_gate(cpu, EXC_GP, EX_CODE0, 0x12345678, 0xe, 0, true);
    cpu->eflags = FL_FIXED1 | FL_IF;
    cr_assert(ex_raise(cpu, EXC_GP, 0x18));
    cr_assert_eq(cpu->regs[R_ESP], 0x8000 - 16);
    cr_assert_eq(ex_mem(cpu, 0x7ff0, 4), 0x18);          /* error code */
    cr_assert_eq(ex_mem(cpu, 0x7ff4, 4), 0x1000);        /* faulting EIP */
    cr_assert_eq(ex_mem(cpu, 0x7ff8, 4), EX_CODE0);      /* CS */
    cr_assert_eq(ex_mem(cpu, 0x7ffc, 4), FL_FIXED1 | FL_IF | FL_RF); /* RF on faults */
    cr_assert_eq(cpu->eip, 0x12345678);
    cr_assert_eq(cpu->seg[SEG_CS].sel, EX_CODE0);
    cr_assert_eq(cpu->eflags & (FL_IF | FL_RF), 0); /* interrupt gate */
}

Test(except, pm_inner_privilege_soft_int_through_trap_gate)
{
    struct cpu *cpu = ex_cpu_pm();
    ex_ring3(cpu);
    ex_gate(cpu, 0x80, EX_CODE0, 0x4000, 0xf, 3, true);
    cpu->eflags = FL_FIXED1 | FL_IF | FL_TF;
    cr_assert(ex_int(cpu, 0x80, INT_SOFT_N));
    cr_assert_eq(cpu->cpl, 0);
    cr_assert_eq(cpu->seg[SEG_SS].sel, EX_DATA0);
    cr_assert_eq(cpu->regs[R_ESP], 0x7000 - 20);
    cr_assert_eq(ex_mem(cpu, 0x7000 - 20, 4), 0x1002);        /* EIP after INT */
    cr_assert_eq(ex_mem(cpu, 0x7000 - 16, 4), EX_CODE3);
    cr_assert_eq(ex_mem(cpu, 0x7000 - 12, 4), FL_FIXED1 | FL_IF | FL_TF); /* no RF */
    cr_assert_eq(ex_mem(cpu, 0x7000 - 8, 4), 0x9000);         /* old ESP */
    cr_assert_eq(ex_mem(cpu, 0x7000 - 4, 4), EX_DATA3);       /* old SS */
    cr_assert_eq(cpu->eip, 0x4000);
    cr_assert(cpu->eflags & FL_IF); /* trap gate keeps IF */
    cr_assert_not(cpu->eflags & FL_TF);
}

Test(except, soft_int_gate_dpl_check_error_has_no_ext)
{
    struct cpu *cpu = ex_cpu_pm();
    ex_ring3(cpu);
    ex_gate(cpu, 0x80, EX_CODE0, 0x4000, 0xe, 0, true); /* DPL 0 */
    ex_gate(cpu, EXC_GP, EX_CODE0, 0x5000, 0xe, 0, true);
    cr_assert(ex_int(cpu, 0x80, INT_SOFT_N));
    cr_assert_eq(cpu->eip, 0x5000);
    cr_assert_eq(ex_mem(cpu, cpu->regs[R_ESP], 4), 0x80 * 8 + 2);
    cr_assert_eq(ex_mem(cpu, cpu->regs[R_ESP] + 4, 4), 0x1000); /* the INT itself */
    /* INT1 has no DPL check (a hardware-like #DB trap). */
    struct cpu *c2 = ex_cpu_pm();
    ex_ring3(c2);
    ex_gate(c2, EXC_DB, EX_CODE0, 0x6000, 0xe, 0, true);
    cr_assert(ex_int(c2, EXC_DB, INT_ICEBP));
    cr_assert_eq(c2->eip, 0x6000);
    cr_assert_eq(ex_mem(c2, c2->regs[R_ESP], 4), 0x1002);
}

Test(except, external_interrupt_not_present_gate_sets_ext)
{
    struct cpu *cpu = ex_cpu_pm();
    ex_gate(cpu, 0x30, EX_CODE0, 0x4000, 0xe, 0, false);
    ex_gate(cpu, EXC_NP, EX_CODE0, 0x5000, 0xe, 0, true);
    cpu->eflags = FL_FIXED1 | FL_IF;
    cpu->intr = 1;
    cpu->halted = 1;
    cpu->bus.intr_ack = ex_ack;
    ex_ack_vector = 0x30;
    ex_event.kind = 2;
    cr_assert(ex_fire(cpu));
    cr_assert_eq(cpu->eip, 0x5000);
    cr_assert_eq(ex_mem(cpu, cpu->regs[R_ESP], 4), 0x30 * 8 + 2 + 1); /* IDT + EXT */
    cr_assert_eq(cpu->halted, 0);
}

Test(except, contributory_during_contributory_is_double_fault)
{
    struct cpu *cpu = ex_cpu_pm();
    ex_gate(cpu, EXC_GP, EX_CODE0, 0x4000, 0xe, 0, false); /* #GP gate not present */
    ex_gate(cpu, EXC_DF, EX_CODE0, 0x8888, 0xe, 0, true);
    cr_assert(ex_raise(cpu, EXC_GP, 0));
    cr_assert_eq(cpu->eip, 0x8888);
    cr_assert_eq(ex_mem(cpu, cpu->regs[R_ESP], 4), 0); /* #DF error code */
}

Test(except, page_fault_during_page_fault_is_double_fault_else_serial)
{
    /* Table 6-5: a contributory fault (#NP here) during #PF delivery
     * is a #DF. */
    struct cpu *cpu = ex_cpu_pm();
    ex_gate(cpu, EXC_PF, EX_CODE0, 0x4000, 0xe, 0, false);
    ex_gate(cpu, EXC_NP, EX_CODE0, 0x5000, 0xe, 0, true);
    ex_gate(cpu, EXC_DF, EX_CODE0, 0x8888, 0xe, 0, true);
    cr_assert(ex_raise(cpu, EXC_PF, 2));
    cr_assert_eq(cpu->eip, 0x8888);
    /* #NP while delivering #UD (benign): handled serially. */
    struct cpu *c2 = ex_cpu_pm();
    ex_gate(c2, EXC_UD, EX_CODE0, 0x4000, 0xe, 0, false);
    ex_gate(c2, EXC_NP, EX_CODE0, 0x5000, 0xe, 0, true);
    ex_gate(c2, EXC_DF, EX_CODE0, 0x8888, 0xe, 0, true);
    cr_assert(ex_raise(c2, EXC_UD, 0));
    cr_assert_eq(c2->eip, 0x5000);
    cr_assert_eq(ex_mem(c2, c2->regs[R_ESP], 4), EXC_UD * 8 + 2 + 1);
}

Test(except, fault_during_double_fault_is_triple)
{
    struct cpu *cpu = ex_cpu_pm();
    cpu->idtr.limit = 0; /* nothing is deliverable */
    uint32_t esp = cpu->regs[R_ESP];
    cr_assert_not(ex_raise(cpu, EXC_DE, 0));
    cr_assert_eq(cpu->regs[R_ESP], esp);
    cr_assert_eq(cpu->eip, 0x1000);
    cr_assert_eq(cpu->exc_delivering, -1);
}

Test(except, nmi_blocking_and_interrupt_shadow)
{
    struct cpu *cpu = ex_cpu_pm();
    ex_gate(cpu, EXC_NMI, EX_CODE0, 0x2222, 0xe, 0, true);
    cpu->nmi_pending = 1;
    cpu->inhibit_irq = 1;
    ex_event.kind = 2;
    cr_assert(ex_fire(cpu));
    cr_assert_eq(cpu->eip, 0x1000); /* shadow: not taken */
    cpu->inhibit_irq = 0;
    cr_assert(ex_fire(cpu));
    cr_assert_eq(cpu->eip, 0x2222);
    cr_assert_eq(cpu->nmi_blocked, 1);
    cr_assert_eq(cpu->nmi_pending, 0);
    cpu->nmi_pending = 1;
    cpu->eip = 0x3333;
    cr_assert(ex_fire(cpu));
    cr_assert_eq(cpu->eip, 0x3333); /* blocked until IRET */
}

Test(except, intr_needs_if)
{
    struct cpu *cpu = ex_cpu_pm();
    ex_gate(cpu, 0x40, EX_CODE0, 0x4444, 0xe, 0, true);
    cpu->bus.intr_ack = ex_ack;
    ex_ack_vector = 0x40;
    cpu->intr = 1;
    cpu->eflags = FL_FIXED1;
    cr_assert_not(cpu_service_interrupts(cpu));
    cpu->eflags |= FL_IF;
    ex_event.kind = 2;
    cr_assert(ex_fire(cpu));
    cr_assert_eq(cpu->eip, 0x4444);
    cr_assert_eq(ex_mem(cpu, cpu->regs[R_ESP], 4), 0x1000); /* no error code */
}

/* ------------------------------------------------------------ v86 mode */

static struct cpu *ex_cpu_v86(void)
{
    struct cpu *cpu = ex_cpu_pm();
    cpu->eflags = FL_FIXED1 | FL_VM | FL_IF;
    for (int s = 0; s < SEG_COUNT; s++)
        cpu->seg[s] = (struct seg){ 0x200, 0x2000, 0xffff,
                                    AR_P | AR_S | (3u << AR_DPL_SHIFT) | AR_T_WRITABLE };
    cpu->regs[R_ESP] = 0x800;
    cpu->eip = 0x10;
    cpu->next_eip = 0x12;
    cpu_mode_changed(cpu);
    return cpu;
}

Test(except, v86_int_n_iopl_sensitive)
{
    struct cpu *cpu = ex_cpu_v86();
    /* IOPL 0, no VME: #GP(0) (Table 20-2 method 2), at the INT itself. */
    ex_gate(cpu, EXC_GP, EX_CODE0, 0x5000, 0xe, 0, true);
    cr_assert(ex_int(cpu, 0x21, INT_SOFT_N));
    cr_assert_eq(cpu->eip, 0x5000);
    cr_assert_eq(cpu->cpl, 0);
    /* Frame from v86: GS FS DS ES SS ESP EFLAGS CS EIP error. */
    uint32_t sp = cpu->regs[R_ESP];
    cr_assert_eq(sp, 0x7000 - 40);
    cr_assert_eq(ex_mem(cpu, sp, 4), 0);          /* error code */
    cr_assert_eq(ex_mem(cpu, sp + 4, 4), 0x10);   /* EIP of the INT */
    cr_assert_eq(ex_mem(cpu, sp + 8, 4), 0x200);  /* CS */
    cr_assert(ex_mem(cpu, sp + 12, 4) & FL_VM);
    cr_assert_eq(ex_mem(cpu, sp + 16, 4), 0x800);
    cr_assert_eq(ex_mem(cpu, sp + 36, 4), 0x200); /* GS */
    cr_assert_eq(cpu->eflags & FL_VM, 0);
    cr_assert_eq(cpu->seg[SEG_DS].sel, 0);
    cr_assert_eq(cpu->seg[SEG_DS].ar & AR_P, 0);
}

Test(except, v86_vme_redirection_method6)
{
    struct cpu *cpu = ex_cpu_v86();
    cpu->cr4 = CR4_VME;
    cpu->eflags = FL_FIXED1 | FL_VM | FL_VIF | FL_CF; /* IOPL 0, IF 0 */
    /* Redirection bitmap at TSS 0x68: all bits clear -> method 6. The
     * v86 task's own IVT at linear 0. */
    phys_write(cpu->bus.mem, 0x21 * 4, 0x03000040, 4); /* 0300:0040 */
    cr_assert(ex_int(cpu, 0x21, INT_SOFT_N));
    cr_assert_eq(cpu->seg[SEG_CS].sel, 0x300);
    cr_assert_eq(cpu->seg[SEG_CS].base, 0x3000);
    cr_assert_eq(cpu->eip, 0x40);
    cr_assert_eq(cpu->regs[R_ESP], 0x800 - 6);
    uint32_t st = 0x2000 + 0x800 - 6;
    cr_assert_eq(ex_mem(cpu, st, 2), 0x12);
    cr_assert_eq(ex_mem(cpu, st + 2, 2), 0x200);
    /* FLAGS image: IF from VIF, IOPL reads 3. */
    cr_assert_eq(ex_mem(cpu, st + 4, 2), FL_FIXED1 | FL_CF | FL_IF | FL_IOPL);
    cr_assert(cpu->eflags & FL_VM);
    cr_assert_eq(cpu->eflags & FL_VIF, 0);

    /* Bit set with IOPL < 3: #GP(0) (method 3), raised at the INT. */
    struct cpu *c2 = ex_cpu_v86();
    c2->cr4 = CR4_VME;
    phys_write(c2->bus.mem, EX_TSS + 0x68 + 0x21 / 8, 1u << (0x21 & 7), 1);
    jmp_buf jb;
    c2->fault_jmp = &jb;
    if (setjmp(jb) == 0)
        cpu_raise_int(c2, 0x21, INT_SOFT_N);
    cr_assert_eq(c2->exc_vector, EXC_GP);
    cr_assert_eq(c2->exc_error, 0);
}

Test(except, log_line)
{
    struct cpu *cpu = ex_cpu_pm();
    char *buf = NULL;
    size_t len = 0;
    cpu->log = open_memstream(&buf, &len);
    cpu->log_mask = LOG_INT;
    ex_gate(cpu, EXC_PF, EX_CODE0, 0x4000, 0xe, 0, true);
    jmp_buf jb;
    cpu->fault_jmp = &jb;
    if (setjmp(jb) == 0)
        cpu_raise_pf(cpu, 0xc0001000u, 2);
    cr_assert_eq(cpu->cr2, 0xc0001000u);
    cr_assert(cpu_deliver_pending(cpu));
    fclose(cpu->log);
    cr_assert_str_eq(buf, "int: vec=0e err=0002 cs:eip=0008:00001000 cr2=c0001000 (fault)\n");
    free(buf);
}

Test(except, sixteen_bit_gate_pushes_words)
{
    struct cpu *cpu = ex_cpu_pm();
    ex_gate(cpu, EXC_SS, EX_CODE0, 0xabcd1234, 0x6, 0, true); /* 16-bit interrupt gate */
    cpu->eflags = FL_FIXED1 | FL_IF | FL_CF;
    cr_assert(ex_raise(cpu, EXC_SS, 0x10));
    cr_assert_eq(cpu->regs[R_ESP], 0x8000 - 8);
    cr_assert_eq(ex_mem(cpu, 0x7ff8, 2), 0x10);     /* error code, a word */
    cr_assert_eq(ex_mem(cpu, 0x7ffa, 2), 0x1000);   /* IP */
    cr_assert_eq(ex_mem(cpu, 0x7ffc, 2), EX_CODE0); /* CS */
    cr_assert_eq(ex_mem(cpu, 0x7ffe, 2), FL_FIXED1 | FL_IF | FL_CF); /* FLAGS: RF is bit 16 */
    cr_assert_eq(cpu->eip, 0x1234);                 /* only the low word of the offset */
}

Test(except, bad_ring0_stack_raises_ts_with_ext)
{
    struct cpu *cpu = ex_cpu_pm();
    ex_ring3(cpu);
    phys_write(cpu->bus.mem, EX_TSS + 8, 0, 2); /* SS0 null */
    ex_gate(cpu, EXC_UD, EX_CODE0, 0x4000, 0xe, 0, true);
    ex_gate(cpu, EXC_TS, EX_CODE0, 0x5000, 0xe, 0, true);
    /* #UD from ring 3 needs the ring-0 stack: #TS(EXT) during its
     * delivery (serial: #UD is benign), whose delivery needs the same
     * stack: #TS during #TS is contributory on contributory -> #DF, which
     * needs it again -> triple fault. */
    cr_assert_not(ex_raise(cpu, EXC_UD, 0));
    cr_assert_eq(cpu->cpl, 3);
    cr_assert_eq(cpu->regs[R_ESP], 0x9000);

    /* SS0 with RPL 3: #TS(selector + EXT), caught as it is raised while
     * delivering the #UD. */
    struct cpu *c2 = ex_cpu_pm();
    ex_ring3(c2);
    phys_write(c2->bus.mem, EX_TSS + 8, EX_DATA3, 2);
    ex_gate(c2, EXC_UD, EX_CODE0, 0x4000, 0xe, 0, true);
    jmp_buf jb;
    c2->fault_jmp = &jb;
    c2->exc_delivering = -1;
    if (setjmp(jb) == 0)
        cpu_interrupt(c2, EXC_UD, false, 0, c2->eip, false, false);
    cr_assert_eq(c2->exc_vector, EXC_TS);
    cr_assert_eq(c2->exc_error, (EX_DATA3 & 0xfffc) | 1);
}

Test(except, v86_vme_redirection_method5)
{
    struct cpu *cpu = ex_cpu_v86();
    cpu->cr4 = CR4_VME;
    cpu->eflags = FL_FIXED1 | FL_VM | FL_IF | FL_IOPL | FL_TF; /* IOPL 3 */
    phys_write(cpu->bus.mem, 0x10 * 4, 0x04000080, 4); /* 0400:0080 */
    cr_assert(ex_int(cpu, 0x10, INT_SOFT_N));
    cr_assert_eq(cpu->eip, 0x80);
    cr_assert_eq(cpu->seg[SEG_CS].base, 0x4000);
    uint32_t st = 0x2000 + 0x800 - 6;
    cr_assert_eq(ex_mem(cpu, st + 4, 2), FL_FIXED1 | FL_IF | FL_IOPL | FL_TF);
    cr_assert_eq(cpu->eflags & (FL_IF | FL_TF), 0);
    cr_assert(cpu->eflags & FL_VM);
}
