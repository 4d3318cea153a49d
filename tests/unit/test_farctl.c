/*
 * Unit tests of cpu/farctl.c and cpu/task.c: far JMP/CALL/RET/IRET in
 * real, protected and v86 mode, call gates with a stack switch, and task
 * switches through TSS descriptors. Expected values come from the SDM
 * Vol. 2 pseudocode and Vol. 3A chapters 5 and 7, not from the code.
 *
 * The machine: 1 MiB of RAM, a GDT at 0x1000, a kernel TSS at 0x2000,
 * a second TSS at 0x3000; paging off.
 */
#include <criterion/criterion.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/internal.h"
#include "tests/unit/handler_harness.h"

#define RAM_SIZE (1u << 20)
#define GDT_BASE 0x1000u
#define TSS_K 0x2000u
#define TSS_A 0x3000u

/* GDT slots. */
enum {
    SEL_KCODE = 0x08, SEL_KDATA = 0x10, SEL_UCODE = 0x1b, SEL_UDATA = 0x23,
    SEL_KTSS = 0x28, SEL_GATE = 0x30, SEL_ATSS = 0x38, SEL_NPCODE = 0x40,
    SEL_CODE16 = 0x48, SEL_TGATE = 0x50,
};

static uint8_t *ram;
static struct phys_mem *pm;
static struct cpu *cpu;
static jmp_buf fault;

static void setup(void)
{
    ram = calloc(1, RAM_SIZE);
    pm = phys_new();
    cr_assert(phys_map_ram(pm, 0, RAM_SIZE, ram) == 0);
    struct cpu_bus bus = {.mem = pm};
    cpu = cpu_new(&bus);
    cr_assert(cpu);
    cpu->fault_jmp = &fault;
    cpu->exc_vector = -1;
}

static void teardown(void)
{
    cpu_free(cpu);
    phys_free(pm);
    free(ram);
}

static void w16(uint32_t a, uint16_t v) { memcpy(ram + a, &v, 2); }
static void w32(uint32_t a, uint32_t v) { memcpy(ram + a, &v, 4); }
static uint16_t r16(uint32_t a) { uint16_t v; memcpy(&v, ram + a, 2); return v; }
static uint32_t r32(uint32_t a) { uint32_t v; memcpy(&v, ram + a, 4); return v; }

/* A code/data/system descriptor: `access` is byte 5 (P DPL S type),
 * `flags` the high nibble of byte 6 (G D/B). */
static void gdt_set(unsigned slot, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    uint32_t lo = (limit & 0xffff) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xff) | ((uint32_t)access << 8) | (limit & 0xf0000) |
                  ((uint32_t)flags << 20) | (base & 0xff000000u);
    w32(GDT_BASE + slot * 8, lo);
    w32(GDT_BASE + slot * 8 + 4, hi);
}

static struct desc gdt_desc(uint16_t sel)
{
    struct desc d = {r32(GDT_BASE + (sel & ~7u)), r32(GDT_BASE + (sel & ~7u) + 4)};
    return d;
}

static unsigned gdt_type(uint16_t sel)
{
    return (gdt_desc(sel).hi >> 8) & 0xf;
}

static void load(int seg, uint16_t sel)
{
    struct desc d = gdt_desc(sel);
    seg_from_desc(&cpu->seg[seg], sel, d);
}

/* Protected mode at CPL 0 with flat 4 GiB segments and the kernel TSS. */
static void enter_pm(void)
{
    gdt_set(1, 0, 0xfffff, 0x9a, 0xc);  /* ring-0 code */
    gdt_set(2, 0, 0xfffff, 0x92, 0xc);  /* ring-0 data */
    gdt_set(3, 0, 0xfffff, 0xfa, 0xc);  /* ring-3 code */
    gdt_set(4, 0, 0xfffff, 0xf2, 0xc);  /* ring-3 data */
    gdt_set(5, TSS_K, 0x67, 0x8b, 0);   /* kernel TSS, busy */
    gdt_set(7, TSS_A, 0x67, 0x89, 0);   /* task A TSS, available */
    gdt_set(8, 0, 0xfffff, 0x1a, 0xc);  /* ring-0 code, not present */
    gdt_set(9, 0, 0xffff, 0x9a, 0);     /* 16-bit ring-0 code */
    cpu->gdtr.base = GDT_BASE;
    cpu->gdtr.limit = 11 * 8 - 1;
    cpu->cr0 |= CR0_PE;
    cpu->eflags = FL_FIXED1;
    cpu->cc.op = CC_EAGER;
    load(SEG_CS, SEL_KCODE);
    load(SEG_SS, SEL_KDATA);
    load(SEG_DS, SEL_KDATA);
    load(SEG_ES, SEL_KDATA);
    load(SEG_FS, SEL_KDATA);
    load(SEG_GS, SEL_KDATA);
    seg_from_desc(&cpu->tr, SEL_KTSS, gdt_desc(SEL_KTSS));
    cpu_mode_changed(cpu);
}

/* Runs `body`; returns the vector it raised, or -1. */
#define RUN(body)                                                                          \
    ({                                                                                     \
        volatile int v_ = -1;                                                              \
        cpu->exc_vector = -1;                                                              \
        if (setjmp(fault) == 0) {                                                          \
            body;                                                                          \
        } else {                                                                           \
            v_ = cpu->exc_vector;                                                          \
        }                                                                                  \
        v_;                                                                                \
    })

TestSuite(farctl, .init = setup, .fini = teardown);

/* ---------------- real mode ---------------- */

Test(farctl, real_jmp_loads_base_from_selector)
{
    cpu->next_eip = 0x100;
    cr_assert_eq(RUN(cpu_far_jmp(cpu, 0x1234, 0x5678)), -1);
    cr_assert_eq(cpu->seg[SEG_CS].sel, 0x1234);
    cr_assert_eq(cpu->seg[SEG_CS].base, 0x12340);
    cr_assert_eq(cpu->next_eip, 0x5678);
}

Test(farctl, real_call_pushes_cs_ip_and_retf_pops_with_imm)
{
    cpu->seg[SEG_CS].sel = 0xf000;
    cpu->seg[SEG_CS].base = 0xf0000;
    cpu->seg[SEG_SS].sel = 0x0000;
    cpu->seg[SEG_SS].base = 0;
    cpu->regs[R_ESP] = 0x8000;
    cpu_mode_changed(cpu);
    cpu->next_eip = 0xfff5;
    cr_assert_eq(RUN(cpu_far_call(cpu, 0x2000, 0x0010, 2)), -1);
    cr_assert_eq(cpu->regs[R_ESP], 0x7ffc);
    cr_assert_eq(r16(0x7ffc), 0xfff5); /* IP on top */
    cr_assert_eq(r16(0x7ffe), 0xf000); /* then CS */
    cr_assert_eq(cpu->seg[SEG_CS].base, 0x20000);
    cr_assert_eq(cpu->next_eip, 0x10);

    cr_assert_eq(RUN(cpu_far_ret(cpu, 2, 6)), -1);
    cr_assert_eq(cpu->seg[SEG_CS].sel, 0xf000);
    cr_assert_eq(cpu->next_eip, 0xfff5);
    cr_assert_eq(cpu->regs[R_ESP], 0x8006);
}

Test(farctl, real_jmp_beyond_cs_limit_is_gp0)
{
    /* Real-mode CS limit after reset is 0xffff. */
    uint16_t old = cpu->seg[SEG_CS].sel;
    cr_assert_eq(RUN(cpu_far_jmp(cpu, 0x1000, 0x10000)), EXC_GP);
    cr_assert_eq(cpu->exc_error, 0);
    cr_assert_eq(cpu->seg[SEG_CS].sel, old);
}

Test(farctl, real_iret16_restores_flags)
{
    cpu->seg[SEG_SS].base = 0;
    cpu->regs[R_ESP] = 0x600;
    cpu_mode_changed(cpu);
    w16(0x600, 0x1234);          /* IP */
    w16(0x602, 0x0050);          /* CS */
    w16(0x604, 0x0203 | 0x3000); /* IF CF IOPL=3 */
    cpu->nmi_blocked = 1;
    cr_assert_eq(RUN(cpu_iret(cpu, 2)), -1);
    cr_assert_eq(cpu->next_eip, 0x1234);
    cr_assert_eq(cpu->seg[SEG_CS].base, 0x500);
    uint32_t fl = cpu_get_eflags(cpu);
    cr_assert(fl & FL_IF);
    cr_assert(fl & FL_CF);
    cr_assert_eq((fl & FL_IOPL) >> FL_IOPL_SHIFT, 3);
    cr_assert_eq(cpu->regs[R_ESP], 0x606);
    cr_assert_eq(cpu->nmi_blocked, 0);
}

/* ---------------- protected mode, direct ---------------- */

Test(farctl, pm_jmp_code_sets_accessed_and_cs)
{
    enter_pm();
    gdt_set(10, 0, 0xfffff, 0x9a, 0xc); /* not yet accessed */
    cr_assert_eq(RUN(cpu_far_jmp(cpu, 0x50, 0x1000)), -1);
    cr_assert_eq(cpu->seg[SEG_CS].sel, 0x50);
    cr_assert_eq(cpu->next_eip, 0x1000);
    cr_assert(gdt_desc(0x50).hi & (1u << 8), "accessed bit set");
}

Test(farctl, pm_jmp_faults)
{
    enter_pm();
    cr_assert_eq(RUN(cpu_far_jmp(cpu, 0x0003, 0)), EXC_GP);      /* null */
    cr_assert_eq(cpu->exc_error, 0);
    cr_assert_eq(RUN(cpu_far_jmp(cpu, SEL_KDATA, 0)), EXC_GP);   /* data */
    cr_assert_eq(cpu->exc_error, SEL_KDATA);
    cr_assert_eq(RUN(cpu_far_jmp(cpu, SEL_NPCODE, 0)), EXC_NP);  /* not present */
    cr_assert_eq(cpu->exc_error, SEL_NPCODE);
    cr_assert_eq(RUN(cpu_far_jmp(cpu, 0x200, 0)), EXC_GP);       /* beyond the GDT */
    cr_assert_eq(cpu->exc_error, 0x200);
    cr_assert_eq(RUN(cpu_far_jmp(cpu, SEL_UCODE, 0)), EXC_GP);   /* DPL 3 != CPL 0 */
    cr_assert_eq(cpu->exc_error, SEL_UCODE & ~3);
    cr_assert_eq(RUN(cpu_far_jmp(cpu, SEL_CODE16, 0x10000)), EXC_GP); /* offset > limit */
    cr_assert_eq(cpu->exc_error, 0);
    cr_assert_eq(cpu->seg[SEG_CS].sel, SEL_KCODE); /* nothing committed */
}

Test(farctl, pm_call_same_level_32)
{
    enter_pm();
    cpu->regs[R_ESP] = 0x9000;
    cpu->next_eip = 0xabcdef01;
    cr_assert_eq(RUN(cpu_far_call(cpu, SEL_CODE16, 0x1234, 4)), -1);
    cr_assert_eq(cpu->regs[R_ESP], 0x8ff8);
    cr_assert_eq(r32(0x8ff8), 0xabcdef01);
    cr_assert_eq(r32(0x8ffc) & 0xffff, SEL_KCODE);
    cr_assert_eq(cpu->seg[SEG_CS].sel, SEL_CODE16);
    cr_assert_eq(cpu->code32, 0);
}

/* ---------------- call gate, ring 3 -> 0, and back ---------------- */

static void enter_ring3(void)
{
    load(SEG_CS, SEL_UCODE);
    load(SEG_SS, SEL_UDATA);
    load(SEG_DS, SEL_UDATA);
    load(SEG_ES, SEL_KDATA); /* DPL 0: a later return to ring 3 nulls it */
    cpu_mode_changed(cpu);
    cr_assert_eq(cpu->cpl, 3);
}

Test(farctl, call_gate_to_ring0_copies_params_and_retf_returns)
{
    enter_pm();
    /* 32-bit call gate, DPL 3, 2 params, to SEL_KCODE:0x4000. */
    w32(GDT_BASE + 6 * 8, 0x4000 | ((uint32_t)SEL_KCODE << 16));
    w32(GDT_BASE + 6 * 8 + 4, 0x0000ec02);
    w32(TSS_K + 4, 0x70000);          /* ESP0 */
    w32(TSS_K + 8, SEL_KDATA);        /* SS0 */
    enter_ring3();
    cpu->regs[R_ESP] = 0x50000 - 8;
    w32(0x50000 - 8, 0x1111);         /* first parameter (top) */
    w32(0x50000 - 4, 0x2222);
    cpu->next_eip = 0x8000123;
    cr_assert_eq(RUN(cpu_far_call(cpu, SEL_GATE | 3, 0, 4)), -1);
    cr_assert_eq(cpu->cpl, 0);
    cr_assert_eq(cpu->seg[SEG_CS].sel, SEL_KCODE);
    cr_assert_eq(cpu->seg[SEG_SS].sel, SEL_KDATA);
    cr_assert_eq(cpu->next_eip, 0x4000);
    uint32_t sp = cpu->regs[R_ESP];
    cr_assert_eq(sp, 0x70000 - 24);
    cr_assert_eq(r32(sp), 0x8000123);          /* EIP */
    cr_assert_eq(r32(sp + 4) & 0xffff, SEL_UCODE);
    cr_assert_eq(r32(sp + 8), 0x1111);
    cr_assert_eq(r32(sp + 12), 0x2222);
    cr_assert_eq(r32(sp + 16), 0x50000 - 8);   /* old ESP */
    cr_assert_eq(r32(sp + 20) & 0xffff, SEL_UDATA);

    /* RET 8 back to ring 3: parameters released on both stacks, ES
     * (DPL 0 data) nulled, DS (DPL 3) kept. */
    cr_assert_eq(RUN(cpu_far_ret(cpu, 4, 8)), -1);
    cr_assert_eq(cpu->cpl, 3);
    cr_assert_eq(cpu->seg[SEG_CS].sel, SEL_UCODE);
    cr_assert_eq(cpu->seg[SEG_SS].sel, SEL_UDATA);
    cr_assert_eq(cpu->next_eip, 0x8000123);
    cr_assert_eq(cpu->regs[R_ESP], 0x50000);
    cr_assert_eq(cpu->seg[SEG_ES].sel, 0);
    cr_assert_eq(cpu->seg[SEG_DS].sel, SEL_UDATA);
}

Test(farctl, call_gate_dpl_below_cpl_is_gp)
{
    enter_pm();
    w32(GDT_BASE + 6 * 8, 0x4000 | ((uint32_t)SEL_KCODE << 16));
    w32(GDT_BASE + 6 * 8 + 4, 0x00008c00); /* DPL 0 */
    enter_ring3();
    cr_assert_eq(RUN(cpu_far_call(cpu, SEL_GATE | 3, 0, 4)), EXC_GP);
    cr_assert_eq(cpu->exc_error, SEL_GATE);
}

/* ---------------- IRET ---------------- */

Test(farctl, iret_to_ring3_nulls_kernel_segments)
{
    enter_pm();
    cpu->regs[R_ESP] = 0x9000;
    w32(0x9000, 0x401000);     /* EIP */
    w32(0x9004, SEL_UCODE);
    w32(0x9008, 0x3202);       /* IF, IOPL 3 */
    w32(0x900c, 0x60000);      /* ESP */
    w32(0x9010, SEL_UDATA);
    cr_assert_eq(RUN(cpu_iret(cpu, 4)), -1);
    cr_assert_eq(cpu->cpl, 3);
    cr_assert_eq(cpu->next_eip, 0x401000);
    cr_assert_eq(cpu->regs[R_ESP], 0x60000);
    cr_assert_eq(cpu->seg[SEG_DS].sel, 0);
    cr_assert_eq(cpu->seg[SEG_ES].sel, 0);
    uint32_t fl = cpu_get_eflags(cpu);
    cr_assert(fl & FL_IF);
    cr_assert_eq((fl & FL_IOPL) >> FL_IOPL_SHIFT, 3);
}

Test(farctl, iret_at_cpl3_cannot_change_iopl_or_if)
{
    enter_pm();
    enter_ring3();
    cpu->eflags = FL_FIXED1 | FL_IF; /* IOPL 0 */
    cpu->regs[R_ESP] = 0x9000;
    w32(0x9000, 0x1234);
    w32(0x9004, SEL_UCODE);
    w32(0x9008, 0x3000 | FL_CF); /* IF clear, IOPL 3, CF */
    cr_assert_eq(RUN(cpu_iret(cpu, 4)), -1);
    uint32_t fl = cpu_get_eflags(cpu);
    cr_assert(fl & FL_IF, "IF kept: CPL > IOPL");
    cr_assert_eq(fl & FL_IOPL, 0, "IOPL kept at CPL 3");
    cr_assert(fl & FL_CF);
    cr_assert_eq(cpu->regs[R_ESP], 0x900c);
}

Test(farctl, iret_to_v86)
{
    enter_pm();
    cpu->regs[R_ESP] = 0x9000;
    uint32_t frame[9] = {0x0100, 0x2000, FL_VM | FL_IF | 0x3000, 0xfff0, 0x3000,
                         0x4000, 0x5000, 0x6000, 0x7000};
    for (unsigned i = 0; i < 9; i++)
        w32(0x9000 + 4 * i, frame[i]);
    cr_assert_eq(RUN(cpu_iret(cpu, 4)), -1);
    cr_assert(cpu->eflags & FL_VM);
    cr_assert_eq(cpu->cpl, 3);
    cr_assert_eq(cpu->seg[SEG_CS].base, 0x20000);
    cr_assert_eq(cpu->seg[SEG_SS].base, 0x30000);
    cr_assert_eq(cpu->seg[SEG_ES].sel, 0x4000);
    cr_assert_eq(cpu->seg[SEG_GS].base, 0x70000);
    cr_assert_eq(cpu->regs[R_ESP], 0xfff0);
    cr_assert_eq(cpu->next_eip, 0x100);

    /* In v86 with IOPL 3, IRET pops like real mode but keeps IOPL. */
    cpu->regs[R_ESP] = 0x100;
    w16(0x30100, 0x0200);
    w16(0x30102, 0x2100);
    w16(0x30104, 0x0001); /* CF, IOPL 0, IF 0 */
    cr_assert_eq(RUN(cpu_iret(cpu, 2)), -1);
    cr_assert_eq(cpu->seg[SEG_CS].base, 0x21000);
    cr_assert_eq((cpu_get_eflags(cpu) & FL_IOPL) >> FL_IOPL_SHIFT, 3);
    cr_assert(cpu_get_eflags(cpu) & FL_CF);
    cr_assert(cpu->eflags & FL_VM);

    /* IOPL < 3 without VME: #GP(0). */
    cpu->eflags &= ~FL_IOPL;
    cr_assert_eq(RUN(cpu_iret(cpu, 2)), EXC_GP);
}

/* ---------------- task switches ---------------- */

static void init_task_a(void)
{
    memset(ram + TSS_A, 0, 104);
    w32(TSS_A + 32, 0x5555);          /* EIP */
    w32(TSS_A + 36, 0x2 | FL_CF);     /* EFLAGS */
    w32(TSS_A + 40, 0xaaaa);          /* EAX */
    w32(TSS_A + 56, 0x7000);          /* ESP */
    w32(TSS_A + 72, SEL_KDATA);       /* ES */
    w32(TSS_A + 76, SEL_KCODE);       /* CS */
    w32(TSS_A + 80, SEL_KDATA);       /* SS */
    w32(TSS_A + 84, SEL_KDATA);       /* DS */
}

Test(farctl, task_call_and_iret_back)
{
    enter_pm();
    init_task_a();
    cpu->regs[R_EAX] = 0x1234;
    cpu->next_eip = 0x777;
    cr_assert_eq(RUN(cpu_far_call(cpu, SEL_ATSS, 0, 4)), -1);
    /* New task running. */
    cr_assert_eq(cpu->tr.sel, SEL_ATSS);
    cr_assert_eq(cpu->next_eip, 0x5555);
    cr_assert_eq(cpu->regs[R_EAX], 0xaaaa);
    cr_assert_eq(cpu->regs[R_ESP], 0x7000);
    cr_assert(cpu->eflags & FL_NT);
    cr_assert(cpu_get_eflags(cpu) & FL_CF);
    cr_assert(cpu->cr0 & CR0_TS);
    cr_assert_eq(r16(TSS_A), SEL_KTSS);   /* back link */
    cr_assert_eq(gdt_type(SEL_ATSS), 0xb); /* both busy */
    cr_assert_eq(gdt_type(SEL_KTSS), 0xb);
    /* Old state saved with the return EIP. */
    cr_assert_eq(r32(TSS_K + 32), 0x777);
    cr_assert_eq(r32(TSS_K + 40), 0x1234);

    /* IRET with NT: back to the kernel task; A is no longer busy and its
     * saved EFLAGS has NT clear. */
    cpu->next_eip = 0x5560;
    cr_assert_eq(RUN(cpu_iret(cpu, 4)), -1);
    cr_assert_eq(cpu->tr.sel, SEL_KTSS);
    cr_assert_eq(cpu->next_eip, 0x777);
    cr_assert_eq(cpu->regs[R_EAX], 0x1234);
    cr_assert_eq(gdt_type(SEL_ATSS), 0x9);
    cr_assert_eq(gdt_type(SEL_KTSS), 0xb);
    cr_assert_eq(r32(TSS_A + 32), 0x5560);
    cr_assert_eq(r32(TSS_A + 36) & FL_NT, 0);
}

Test(farctl, task_jmp_clears_old_busy_and_no_backlink)
{
    enter_pm();
    init_task_a();
    w16(TSS_A, 0xdead);
    cr_assert_eq(RUN(cpu_far_jmp(cpu, SEL_ATSS, 0)), -1);
    cr_assert_eq(gdt_type(SEL_KTSS), 0x9);
    cr_assert_eq(gdt_type(SEL_ATSS), 0xb);
    cr_assert_eq(r16(TSS_A), 0xdead);
    cr_assert_eq(cpu->eflags & FL_NT, 0);
}

Test(farctl, task_gate_call_and_busy_checks)
{
    enter_pm();
    init_task_a();
    /* Task gate to task A, DPL 0. */
    w32(GDT_BASE + 10 * 8, (uint32_t)SEL_ATSS << 16);
    w32(GDT_BASE + 10 * 8 + 4, 0x8500);
    cr_assert_eq(RUN(cpu_far_call(cpu, SEL_KTSS, 0, 4)), EXC_GP); /* busy: our own */
    cr_assert_eq(cpu->exc_error, SEL_KTSS);
    cr_assert_eq(RUN(cpu_far_call(cpu, SEL_TGATE, 0, 4)), -1);
    cr_assert_eq(cpu->tr.sel, SEL_ATSS);
    cr_assert_eq(cpu->next_eip, 0x5555);
}

Test(farctl, task_limit_too_small_is_ts)
{
    enter_pm();
    init_task_a();
    gdt_set(7, TSS_A, 0x60, 0x89, 0);
    cr_assert_eq(RUN(cpu_far_jmp(cpu, SEL_ATSS, 0)), EXC_TS);
    cr_assert_eq(cpu->exc_error, SEL_ATSS);
    cr_assert_eq(cpu->tr.sel, SEL_KTSS);
}

/* ---------------- software interrupts ---------------- */

Test(farctl, into_traps_only_with_of)
{
    struct insn in;
    memset(&in, 0, sizeof in);
    in.op = OP_INTO;
    insn_fn volatile fn = hh_find(farctl_handlers, OP_INTO);
    cr_assert(fn);
    cpu->cc.op = CC_EAGER;
    cpu->eflags = FL_FIXED1;
    cr_assert_eq(RUN(fn(cpu, &in)), -1);
    cpu->eflags |= FL_OF;
    cr_assert_eq(RUN(fn(cpu, &in)), EXC_OF);
}

Test(farctl, retf_to_more_privileged_level_is_gp)
{
    enter_pm();
    enter_ring3();
    cpu->regs[R_ESP] = 0x9000;
    w32(0x9000, 0x1000);
    w32(0x9004, SEL_KCODE); /* RPL 0 < CPL 3 */
    cr_assert_eq(RUN(cpu_far_ret(cpu, 4, 0)), EXC_GP);
    cr_assert_eq(cpu->exc_error, SEL_KCODE);
    cr_assert_eq(cpu->regs[R_ESP], 0x9000);
    cr_assert_eq(cpu->cpl, 3);
}

Test(farctl, iret16_v86_with_vme_moves_if_to_vif)
{
    enter_pm();
    cpu->cr4 |= CR4_VME;
    cpu->eflags = FL_FIXED1 | FL_VM | FL_IF; /* IOPL 0 */
    cpu->seg[SEG_SS].sel = 0x3000;
    cpu->seg[SEG_SS].base = 0x30000;
    cpu->seg[SEG_SS].limit = 0xffff;
    cpu->seg[SEG_SS].ar = AR_P | AR_S | AR_T_WRITABLE;
    cpu->seg[SEG_CS].limit = 0xffff;
    cpu_mode_changed(cpu);
    cpu->regs[R_ESP] = 0x100;
    w16(0x30100, 0x0200);
    w16(0x30102, 0x2100);
    w16(0x30104, 0x3000 | FL_CF); /* IF clear, IOPL 3 in the image */
    cr_assert_eq(RUN(cpu_iret(cpu, 2)), -1);
    uint32_t fl = cpu_get_eflags(cpu);
    cr_assert_eq(fl & FL_VIF, 0, "VIF takes the popped IF");
    cr_assert(fl & FL_IF, "IF itself unchanged");
    cr_assert_eq(fl & FL_IOPL, 0, "IOPL unchanged");
    cr_assert(fl & FL_CF);
    cr_assert_eq(cpu->seg[SEG_CS].base, 0x21000);

    /* A pending virtual interrupt and IF set in the image: #GP(0). */
    cpu->eflags |= FL_VIP;
    cpu->regs[R_ESP] = 0x100;
    w16(0x30104, FL_IF);
    cr_assert_eq(RUN(cpu_iret(cpu, 2)), EXC_GP);
}

Test(farctl, task_with_t_flag_reports_debug_trap)
{
    enter_pm();
    init_task_a();
    w16(TSS_A + 100, 1);
    cpu->dr6_pending = 0;
    cr_assert_eq(RUN(cpu_far_jmp(cpu, SEL_ATSS, 0)), -1);
    cr_assert(cpu->dr6_pending & (1u << 15), "BT pending");
}
