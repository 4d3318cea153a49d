/*
 * exceptions.c — every exception class a protected-mode kernel sees, with
 * its error code and saved EIP (fault: the faulting instruction; trap:
 * the next one), SDM Vol. 3A 6.15.
 */
#include "lib/guest.h"

/* Labels of the instructions under test, defined in the asm below. */
extern char de_insn[], ud_insn[], br_insn[], into_after[], int3_after[], gp_ds_insn[],
    np_insn[], ss_insn[], ss_limit_insn[], gp_ro_insn[], gp_exec_read_insn[], gp_null_insn[],
    int_dpl_insn[], gp_idt_insn[];

static void do_de(void *a)
{
    (void)a;
    __asm__ volatile("xor %%ecx, %%ecx\n de_insn: div %%ecx" : : : "eax", "ecx", "edx");
}
static void do_ud(void *a)
{
    (void)a;
    __asm__ volatile("ud_insn: ud2");
}
static void do_br(void *a)
{
    (void)a;
    static int32_t bounds[2] = { 10, 20 };
    __asm__ volatile("mov $30, %%eax\n br_insn: bound %%eax, %0" : : "m"(bounds) : "eax");
}
static void do_into(void *a)
{
    (void)a;
    __asm__ volatile("mov $0x7f, %%al\n add $1, %%al\n into\n into_after:" : : : "eax");
}
static void do_int3(void *a)
{
    (void)a;
    __asm__ volatile("int3\n int3_after:");
}
static void do_gp_selector(void *a)
{
    (void)a;
    /* Selector 0x78 lies beyond the GDT limit: #GP(0x78). */
    __asm__ volatile("mov $0x7b, %%ax\n gp_ds_insn: mov %%ax, %%ds" : : : "eax");
}
static void do_np(void *a)
{
    (void)a;
    __asm__ volatile("mov $0x30, %%ax\n np_insn: mov %%ax, %%ds" : : : "eax");
}
static void do_ss_np(void *a)
{
    (void)a;
    __asm__ volatile("mov $0x30, %%ax\n ss_insn: mov %%ax, %%ss" : : : "eax");
}
static void do_ss_limit(void *a)
{
    (void)a;
    /* SS (slot 7) is an expand-down segment with limit 0x1fff: offsets
     * 0x2000-0xffffffff are valid (SDM 3.4.5.1), so the stack in use and
     * the exception frame stay valid, and an access at 0x1000 is #SS(0).
     * The handler returns elsewhere; test_main reloads SS afterwards. */
    __asm__ volatile("mov $0x38, %%ax\n mov %%ax, %%ss\n"
                     "ss_limit_insn: movl $1, %%ss:0x1000"
                     : : : "eax");
}
static void do_gp_readonly(void *a)
{
    (void)a;
    /* Slot 8: read-only data. A write through it is #GP(0). */
    __asm__ volatile("mov $0x40, %%ax\n mov %%ax, %%fs\n gp_ro_insn: movl $1, %%fs:0x1000"
                     : : : "eax");
}
static void do_gp_exec_only(void *a)
{
    (void)a;
    /* Slot 9: execute-only code: loading it into DS is #GP(0x48). */
    __asm__ volatile("mov $0x48, %%ax\n gp_exec_read_insn: mov %%ax, %%fs" : : : "eax");
}
static void do_gp_null(void *a)
{
    (void)a;
    /* A null selector loads fine into FS; the access is #GP(0). */
    __asm__ volatile("xor %%eax, %%eax\n mov %%ax, %%fs\n gp_null_insn: movl %%fs:0, %%eax"
                     : : : "eax");
}
static void do_int_dpl(void *a)
{
    (void)a;
    __asm__ volatile("int_dpl_insn: int $0x42");
}
static void do_gp_idt(void *a)
{
    (void)a;
    /* Vector 0xf0 is beyond the IDT limit set below: #GP(0xf0*8+2). */
    __asm__ volatile("gp_idt_insn: int $0xf0");
}

static void expect(const char *name, void (*fn)(void *), int vector, uint32_t error,
                   const void *eip)
{
    int v = run_expect(fn, 0);
    printf("%s: vector %u error %x eip %x\n", name, (uint32_t)v, last_trap.error,
           last_trap.eip);
    CHECK_EQ(v, vector);
    CHECK_EQ(last_trap.error, error);
    CHECK_EQ(last_trap.eip, (uint32_t)eip);
    CHECK_EQ(last_trap.cs, SEL_KCODE);
}

void test_main(void)
{
    gdt_set(6, 0, 0xfffff, 0x12, 0xc);  /* 0x30: data, not present */
    gdt_set(7, 0, 0x1fff, 0x96, 0x4);   /* 0x38: data, expand-down, above 0x1fff */
    gdt_set(8, 0, 0xfffff, 0x90, 0xc);  /* 0x40: read-only data */
    gdt_set(9, 0, 0xfffff, 0x98, 0xc);  /* 0x48: execute-only code */

    expect("#DE", do_de, 0, 0, de_insn);
    expect("#UD", do_ud, 6, 0, ud_insn);
    expect("#BR", do_br, 5, 0, br_insn);
    expect("#OF", do_into, 4, 0, into_after);
    expect("#BP", do_int3, 3, 0, int3_after);
    expect("#GP sel", do_gp_selector, 13, 0x78, gp_ds_insn);
    expect("#NP", do_np, 11, 0x30, np_insn);
    expect("#SS sel", do_ss_np, 12, 0x30, ss_insn);
#ifndef QEMU_VALIDATE
    /* QEMU's TCG checks neither segment limits nor write permission on
     * data accesses, so these two only run on Glass (SDM 5.3, 5.4);
     * -DQEMU_VALIDATE builds the kernel for a run on QEMU. */
    expect("#SS limit", do_ss_limit, 12, 0, ss_limit_insn);
    __asm__ volatile("mov %0, %%ss" : : "r"((uint32_t)SEL_KDATA));
    expect("#GP ro", do_gp_readonly, 13, 0, gp_ro_insn);
#endif
    expect("#GP exec-only", do_gp_exec_only, 13, 0x48, gp_exec_read_insn);
#ifndef QEMU_VALIDATE
    /* Nor does it check accesses through a null selector (SDM 5.4.1). */
    expect("#GP null", do_gp_null, 13, 0, gp_null_insn);
#endif
    /* Vector 0x42: an all-zero IDT entry is not a gate: #GP(IDT). */
    expect("#GP gate type", do_int_dpl, 13, 0x42 * 8 + 2, int_dpl_insn);
    /* A well-formed interrupt gate with P = 0: #NP(IDT). */
    idt_set(0x42, 0x1000, SEL_KCODE, 0x0e, 0);
    expect("#NP gate", do_int_dpl, 11, 0x42 * 8 + 2, int_dpl_insn);

    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    uint16_t full = idtr.limit;
    idtr.limit = 0x80 * 8 - 1;
    __asm__ volatile("lidt %0" : : "m"(idtr));
    expect("#GP idt limit", do_gp_idt, 13, 0xf0 * 8 + 2, gp_idt_insn);
    idtr.limit = full;
    __asm__ volatile("lidt %0" : : "m"(idtr));
}
