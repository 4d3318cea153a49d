/*
 * test_seg.c — cpu/seg.c: descriptor fetch, segment register loads in
 * real, v86 and protected mode (SDM Vol. 2 MOV/POP pseudocode, Vol. 3A
 * 5.5-5.6) and LAR, LSL, VERR, VERW, ARPL, SLDT, STR, LLDT, LTR, POP SS,
 * MOV SS, LDS.
 */
#include <criterion/criterion.h>

#include "tests/unit/arith_harness.h"
#include "tests/unit/handler_harness.h"

#define SG_RAM_SIZE (1u << 20)
#define SG_GDT 0x1000u
#define SG_LDT 0x4000u
#define SG_TSS 0x3000u

/* Raw descriptor: `access` is byte 5 (P DPL S type), `flags` the G/DB nibble. */
static void sg_put_desc(struct cpu *cpu, uint32_t addr, uint32_t base, uint32_t limit,
                        uint32_t access, uint32_t flags)
{
    uint32_t lo = (limit & 0xffff) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xff) | (access << 8) | (limit & 0xf0000) | (flags << 20) |
                  (base & 0xff000000u);
    phys_write(cpu->bus.mem, addr, lo, 4);
    phys_write(cpu->bus.mem, addr + 4, hi, 4);
}

/* GDT selectors used below. */
enum {
    SEL_CODE0 = 0x08,    /* code32 DPL0 exec/read, 4 GiB */
    SEL_DATA0 = 0x10,    /* data32 DPL0 RW, 4 GiB, accessed clear */
    SEL_CODE3 = 0x1b,    /* code32 DPL3 */
    SEL_DATA3 = 0x23,    /* data32 DPL3 RW */
    SEL_TSS = 0x28,      /* TSS32 available */
    SEL_LDTD = 0x30,     /* LDT descriptor */
    SEL_NP = 0x38,       /* data DPL0 not present */
    SEL_XONLY = 0x40,    /* code DPL0 execute-only */
    SEL_RODATA = 0x48,   /* data DPL0 read-only, byte limit 0xfff */
    SEL_CONF = 0x50,     /* conforming readable code DPL0 */
    SEL_INTGATE = 0x58,  /* a 32-bit interrupt gate (not valid for LAR) */
    SEL_LDT_DATA = 0x04, /* LDT entry 0, TI = 1: data DPL0 base 0x5000 */
};

static struct cpu *sg_cpu(void)
{
    struct cpu *cpu = th_cpu();
    cpu->exc_delivering = -1; /* not delivering anything: no EXT bit */
    cpu->bus.mem = phys_new();
    phys_map_ram(cpu->bus.mem, 0, SG_RAM_SIZE, calloc(1, SG_RAM_SIZE));
    tlb_init(&cpu->tlb);
    sg_put_desc(cpu, SG_GDT + 0x08, 0, 0xfffff, 0x9a, 0xc);
    sg_put_desc(cpu, SG_GDT + 0x10, 0, 0xfffff, 0x92, 0xc);
    sg_put_desc(cpu, SG_GDT + 0x18, 0, 0xfffff, 0xfa, 0xc);
    sg_put_desc(cpu, SG_GDT + 0x20, 0, 0xfffff, 0xf2, 0xc);
    sg_put_desc(cpu, SG_GDT + 0x28, SG_TSS, 0x67, 0x89, 0x0);
    sg_put_desc(cpu, SG_GDT + 0x30, SG_LDT, 0x17, 0x82, 0x0);
    sg_put_desc(cpu, SG_GDT + 0x38, 0, 0xffff, 0x12, 0x4);
    sg_put_desc(cpu, SG_GDT + 0x40, 0, 0xffff, 0x98, 0x4);
    sg_put_desc(cpu, SG_GDT + 0x48, 0x2000, 0xfff, 0x90, 0x4);
    sg_put_desc(cpu, SG_GDT + 0x50, 0, 0xffff, 0x9e, 0x4);
    sg_put_desc(cpu, SG_GDT + 0x58, 0, 0, 0x8e, 0x0);
    sg_put_desc(cpu, SG_LDT + 0x00, 0x5000, 0xffff, 0x92, 0x4);
    cpu->gdtr = (struct dtr){ SG_GDT, 0x5f };
    cpu->cr0 = CR0_PE;
    struct desc code = { (uint32_t)phys_read(cpu->bus.mem, SG_GDT + 8, 4),
                         (uint32_t)phys_read(cpu->bus.mem, SG_GDT + 12, 4) };
    struct desc data = { (uint32_t)phys_read(cpu->bus.mem, SG_GDT + 16, 4),
                         (uint32_t)phys_read(cpu->bus.mem, SG_GDT + 20, 4) };
    seg_from_desc(&cpu->seg[SEG_CS], SEL_CODE0, code);
    for (int s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            seg_from_desc(&cpu->seg[s], SEL_DATA0, data);
    cpu_mode_changed(cpu);
    return cpu;
}

/* Makes CPL 3 with DPL-3 CS and SS. */
static void sg_ring3(struct cpu *cpu)
{
    cpu->seg[SEG_CS].sel = SEL_CODE3;
    cpu->seg[SEG_CS].ar |= 3u << AR_DPL_SHIFT;
    cpu->seg[SEG_SS].sel = SEL_DATA3;
    cpu->seg[SEG_SS].ar |= 3u << AR_DPL_SHIFT;
    cpu_mode_changed(cpu);
}

static int sg_run(struct cpu *cpu, const struct insn *in)
{
    insn_fn fn = hh_find(seg_handlers, (enum op)in->op);
    cr_assert_not_null(fn);
    return hh_run(cpu, fn, in);
}

static int sg_load(struct cpu *cpu, int seg, uint16_t sel)
{
    jmp_buf jb;
    cpu->fault_jmp = &jb;
    cpu->exc_vector = -1;
    if (setjmp(jb)) {
        cpu->fault_jmp = NULL;
        return cpu->exc_vector;
    }
    cpu_load_seg(cpu, seg, sel);
    cpu->fault_jmp = NULL;
    return -1;
}

static struct operand sg_sreg(int s)
{
    return (struct operand){ .kind = OPND_SREG, .width = 2, .reg = (uint8_t)s };
}

/* ---------------------------------------------------------------- loads */

Test(seg, load_ds_protected_sets_cache_and_accessed)
{
    struct cpu *cpu = sg_cpu();
    cr_assert_eq(sg_load(cpu, SEG_DS, SEL_RODATA), -1);
    cr_assert_eq(cpu->seg[SEG_DS].sel, SEL_RODATA);
    cr_assert_eq(cpu->seg[SEG_DS].base, 0x2000);
    cr_assert_eq(cpu->seg[SEG_DS].limit, 0xfff);
    /* Accessed bit (type bit 0) written back to the GDT. */
    cr_assert(phys_read(cpu->bus.mem, SG_GDT + 0x48 + 5, 1) & 1);
    cr_assert(cpu->seg[SEG_DS].ar & AR_T_ACCESSED);
}

Test(seg, null_data_selector_is_unusable)
{
    struct cpu *cpu = sg_cpu();
    cr_assert_eq(sg_load(cpu, SEG_ES, 0x0003), -1);
    cr_assert_eq(cpu->seg[SEG_ES].sel, 3);
    cr_assert_eq(cpu->seg[SEG_ES].ar & AR_P, 0);
    /* Using it raises #GP(0) (SDM 5.4.1). */
    jmp_buf jb;
    cpu->fault_jmp = &jb;
    if (setjmp(jb) == 0) {
        cpu_read(cpu, SEG_ES, 0, 4);
        cr_assert_fail("read through a null segment did not fault");
    }
    cr_assert_eq(cpu->exc_vector, EXC_GP);
    cr_assert_eq(cpu->exc_error, 0);
}

Test(seg, data_load_faults)
{
    struct cpu *cpu = sg_cpu();
    cr_assert_eq(sg_load(cpu, SEG_DS, SEL_NP), EXC_NP);
    cr_assert_eq(cpu->exc_error, SEL_NP);
    cr_assert_eq(sg_load(cpu, SEG_DS, SEL_XONLY), EXC_GP);
    cr_assert_eq(cpu->exc_error, SEL_XONLY);
    cr_assert_eq(sg_load(cpu, SEG_DS, SEL_TSS), EXC_GP);
    cr_assert_eq(cpu->exc_error, SEL_TSS);
    /* Beyond the GDT limit: #GP(selector). */
    cr_assert_eq(sg_load(cpu, SEG_DS, 0x60), EXC_GP);
    cr_assert_eq(cpu->exc_error, 0x60);
    /* The selector in the cache is unchanged after a failed load. */
    cr_assert_eq(cpu->seg[SEG_DS].sel, SEL_DATA0);
}

Test(seg, data_load_privilege)
{
    struct cpu *cpu = sg_cpu();
    /* RPL 3 > DPL 0. */
    cr_assert_eq(sg_load(cpu, SEG_DS, SEL_DATA0 | 3), EXC_GP);
    cr_assert_eq(cpu->exc_error, SEL_DATA0);
    sg_ring3(cpu);
    cr_assert_eq(sg_load(cpu, SEG_DS, SEL_DATA0), EXC_GP);
    /* Conforming readable code is exempt from the DPL rule. */
    cr_assert_eq(sg_load(cpu, SEG_DS, SEL_CONF | 3), -1);
    cr_assert_eq(sg_load(cpu, SEG_FS, SEL_DATA3), -1);
}

Test(seg, ss_load_rules)
{
    struct cpu *cpu = sg_cpu();
    cr_assert_eq(sg_load(cpu, SEG_SS, 0), EXC_GP);
    cr_assert_eq(cpu->exc_error, 0);
    cr_assert_eq(sg_load(cpu, SEG_SS, SEL_RODATA), EXC_GP); /* not writable */
    cr_assert_eq(cpu->exc_error, SEL_RODATA);
    cr_assert_eq(sg_load(cpu, SEG_SS, SEL_DATA3), EXC_GP); /* RPL != CPL */
    cr_assert_eq(sg_load(cpu, SEG_SS, SEL_DATA3 & ~3), EXC_GP); /* DPL != CPL */
    /* Not present: #SS(selector), checked after the type. */
    sg_put_desc(cpu, SG_GDT + 0x38, 0, 0xffff, 0x12, 0x4);
    cr_assert_eq(sg_load(cpu, SEG_SS, SEL_NP), EXC_SS);
    cr_assert_eq(cpu->exc_error, SEL_NP);
    cr_assert_eq(sg_load(cpu, SEG_SS, SEL_DATA0), -1);
    cr_assert_eq(cpu->stack32, 1);
}

Test(seg, real_mode_keeps_hidden_limit)
{
    struct cpu *cpu = sg_cpu();
    /* Unreal mode: a 4 GiB limit loaded in protected mode survives a
     * real-mode reload of the selector. */
    cpu->cr0 = 0;
    cpu_mode_changed(cpu);
    cr_assert_eq(sg_load(cpu, SEG_DS, 0x1234), -1);
    cr_assert_eq(cpu->seg[SEG_DS].base, 0x12340);
    cr_assert_eq(cpu->seg[SEG_DS].limit, 0xffffffffu);
    cr_assert_eq(cpu->cpl, 0);
}

Test(seg, v86_load)
{
    struct cpu *cpu = sg_cpu();
    cpu->eflags |= FL_VM;
    cpu_mode_changed(cpu);
    cr_assert_eq(cpu->cpl, 3);
    cr_assert_eq(sg_load(cpu, SEG_ES, 0xb800), -1);
    cr_assert_eq(cpu->seg[SEG_ES].base, 0xb8000);
    cr_assert_eq(cpu->seg[SEG_ES].limit, 0xffff);
    cr_assert_eq(AR_DPL(cpu->seg[SEG_ES].ar), 3);
    cr_assert(cpu->seg[SEG_ES].ar & AR_P);
    cr_assert(cpu->seg[SEG_ES].ar & AR_T_WRITABLE);
}

Test(seg, ldt_selectors)
{
    struct cpu *cpu = sg_cpu();
    /* No LDT: TI = 1 selectors fault with #GP(selector). */
    cr_assert_eq(sg_load(cpu, SEG_DS, SEL_LDT_DATA), EXC_GP);
    cr_assert_eq(cpu->exc_error, SEL_LDT_DATA);
    struct insn in = th_insn(OP_LLDT, th_reg(R_EAX, 2), th_none());
    cpu->regs[R_EAX] = SEL_LDTD;
    cr_assert_eq(sg_run(cpu, &in), -1);
    cr_assert_eq(cpu->ldtr.base, SG_LDT);
    cr_assert_eq(cpu->ldtr.limit, 0x17);
    cr_assert_eq(sg_load(cpu, SEG_DS, SEL_LDT_DATA), -1);
    cr_assert_eq(cpu->seg[SEG_DS].base, 0x5000);
    /* Entry 3 of a 0x17-limit LDT is beyond it. */
    cr_assert_eq(sg_load(cpu, SEG_DS, 0x1c), EXC_GP);
    cr_assert_eq(cpu->exc_error, 0x1c);
    /* LLDT with a non-LDT descriptor. */
    cpu->regs[R_EAX] = SEL_DATA0;
    cr_assert_eq(sg_run(cpu, &in), EXC_GP);
    cr_assert_eq(cpu->exc_error, SEL_DATA0);
}

/* ------------------------------------------------------ instructions */

Test(seg, mov_ss_sets_shadow_and_pop_ss_is_atomic)
{
    struct cpu *cpu = sg_cpu();
    struct insn mov = th_insn(OP_MOV_TO_SREG, sg_sreg(SEG_SS), th_reg(R_EAX, 2));
    cpu->regs[R_EAX] = SEL_DATA0;
    cr_assert_eq(sg_run(cpu, &mov), -1);
    cr_assert_eq(cpu->inhibit_irq, 1);

    cpu->inhibit_irq = 0;
    cpu->regs[R_ESP] = 0x8000;
    phys_write(cpu->bus.mem, 0x8000, SEL_NP, 4);
    struct insn pop = th_insn(OP_POP_SREG, (struct operand){ OPND_SREG, 4, SEG_SS }, th_none());
    cr_assert_eq(sg_run(cpu, &pop), EXC_SS);
    cr_assert_eq(cpu->regs[R_ESP], 0x8000);
    phys_write(cpu->bus.mem, 0x8000, SEL_DATA0, 4);
    cr_assert_eq(sg_run(cpu, &pop), -1);
    cr_assert_eq(cpu->regs[R_ESP], 0x8004);
    cr_assert_eq(cpu->inhibit_irq, 1);
}

Test(seg, lds_loads_pointer)
{
    struct cpu *cpu = sg_cpu();
    struct insn in = th_insn(OP_LES, th_reg(R_EBX, 4), th_mem(6));
    in.disp = 0x6000;
    phys_write(cpu->bus.mem, 0x6000, 0xdeadbeef, 4);
    phys_write(cpu->bus.mem, 0x6004, SEL_RODATA, 2);
    cr_assert_eq(sg_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EBX], 0xdeadbeef);
    cr_assert_eq(cpu->seg[SEG_ES].sel, SEL_RODATA);
    /* A bad selector leaves the register unchanged. */
    phys_write(cpu->bus.mem, 0x6000, 0x11111111, 4);
    phys_write(cpu->bus.mem, 0x6004, SEL_NP, 2);
    cr_assert_eq(sg_run(cpu, &in), EXC_NP);
    cr_assert_eq(cpu->regs[R_EBX], 0xdeadbeef);
}

Test(seg, lar_lsl)
{
    struct cpu *cpu = sg_cpu();
    struct insn lar = th_insn(OP_LAR, th_reg(R_EAX, 4), th_reg(R_ECX, 2));
    cpu->regs[R_ECX] = SEL_CODE0;
    cr_assert_eq(sg_run(cpu, &lar), -1);
    cr_assert(flags_arith(cpu) & FL_ZF);
    /* 9A access byte, G and D set: 00C09A00. */
    cr_assert_eq(cpu->regs[R_EAX], 0x00c09a00);
    cpu->regs[R_EAX] = 0x55;
    cpu->regs[R_ECX] = SEL_INTGATE; /* interrupt gates are not valid for LAR */
    cr_assert_eq(sg_run(cpu, &lar), -1);
    cr_assert_not(flags_arith(cpu) & FL_ZF);
    cr_assert_eq(cpu->regs[R_EAX], 0x55);
    cpu->regs[R_ECX] = 0; /* null */
    cr_assert_eq(sg_run(cpu, &lar), -1);
    cr_assert_not(flags_arith(cpu) & FL_ZF);

    struct insn lsl = th_insn(OP_LSL, th_reg(R_EAX, 4), th_reg(R_ECX, 2));
    cpu->regs[R_ECX] = SEL_DATA0;
    cr_assert_eq(sg_run(cpu, &lsl), -1);
    cr_assert(flags_arith(cpu) & FL_ZF);
    cr_assert_eq(cpu->regs[R_EAX], 0xffffffffu);
    cpu->regs[R_ECX] = SEL_TSS;
    cr_assert_eq(sg_run(cpu, &lsl), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0x67);
    /* DPL 0 data is invisible at CPL 3. */
    sg_ring3(cpu);
    cpu->regs[R_ECX] = SEL_DATA0;
    cr_assert_eq(sg_run(cpu, &lsl), -1);
    cr_assert_not(flags_arith(cpu) & FL_ZF);
}

Test(seg, verr_verw)
{
    struct cpu *cpu = sg_cpu();
    struct insn verr = th_insn(OP_VERR, th_reg(R_EAX, 2), th_none());
    struct insn verw = th_insn(OP_VERW, th_reg(R_EAX, 2), th_none());
    cpu->regs[R_EAX] = SEL_XONLY;
    sg_run(cpu, &verr);
    cr_assert_not(flags_arith(cpu) & FL_ZF);
    cpu->regs[R_EAX] = SEL_CODE0;
    sg_run(cpu, &verr);
    cr_assert(flags_arith(cpu) & FL_ZF);
    sg_run(cpu, &verw);
    cr_assert_not(flags_arith(cpu) & FL_ZF);
    cpu->regs[R_EAX] = SEL_RODATA;
    sg_run(cpu, &verw);
    cr_assert_not(flags_arith(cpu) & FL_ZF);
    cpu->regs[R_EAX] = SEL_DATA0;
    sg_run(cpu, &verw);
    cr_assert(flags_arith(cpu) & FL_ZF);
}

Test(seg, arpl)
{
    struct cpu *cpu = sg_cpu();
    struct insn in = th_insn(OP_ARPL, th_reg(R_EAX, 2), th_reg(R_ECX, 2));
    cpu->regs[R_EAX] = 0xffff0010;
    cpu->regs[R_ECX] = 0x0003;
    cr_assert_eq(sg_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0xffff0013);
    cr_assert(flags_arith(cpu) & FL_ZF);
    cpu->regs[R_ECX] = 0x0001;
    cr_assert_eq(sg_run(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0xffff0013);
    cr_assert_not(flags_arith(cpu) & FL_ZF);
    cpu->cr0 = 0;
    cr_assert_eq(sg_run(cpu, &in), EXC_UD);
}

Test(seg, ltr_str_sldt)
{
    struct cpu *cpu = sg_cpu();
    struct insn ltr = th_insn(OP_LTR, th_reg(R_EAX, 2), th_none());
    cpu->regs[R_EAX] = SEL_TSS;
    cr_assert_eq(sg_run(cpu, &ltr), -1);
    cr_assert_eq(cpu->tr.sel, SEL_TSS);
    cr_assert_eq(cpu->tr.base, SG_TSS);
    /* Busy: type 9 -> B in the GDT and in the cache. */
    cr_assert_eq(phys_read(cpu->bus.mem, SG_GDT + 0x28 + 5, 1), 0x8b);
    cr_assert_eq(AR_TYPE(cpu->tr.ar), 0xb);
    /* A busy TSS cannot be loaded again. */
    cr_assert_eq(sg_run(cpu, &ltr), EXC_GP);
    cr_assert_eq(cpu->exc_error, SEL_TSS);

    struct insn str = th_insn(OP_STR, th_reg(R_EDX, 4), th_none());
    cpu->regs[R_EDX] = 0xffffffffu;
    cr_assert_eq(sg_run(cpu, &str), -1);
    cr_assert_eq(cpu->regs[R_EDX], SEL_TSS);
    struct insn sldt = th_insn(OP_SLDT, th_reg(R_EDX, 2), th_none());
    cpu->regs[R_EDX] = 0xffffffffu;
    cr_assert_eq(sg_run(cpu, &sldt), -1);
    cr_assert_eq(cpu->regs[R_EDX], 0xffff0000u);

    sg_ring3(cpu);
    cr_assert_eq(sg_run(cpu, &ltr), EXC_GP);
    cr_assert_eq(cpu->exc_error, 0);
    cpu->cr0 = 0;
    cpu_mode_changed(cpu);
    cr_assert_eq(sg_run(cpu, &str), EXC_UD);
}

/* Instruction fetch (cpu/mem.c cpu_fetch, the careful path's): every
 * length up to 16 from every offset near a page end gives the bytes in
 * memory, stopping at the page end unless all are asked for, and at CS's
 * limit (the copy of up to 16 bytes is done in overlapping moves). */
Test(seg, fetch_every_length_up_to_the_page_end_and_the_limit)
{
    struct cpu *cpu = sg_cpu();
    for (uint32_t a = 0x1fe0; a < 0x2020; a++)
        phys_write(cpu->bus.mem, a, (uint8_t)(a * 7 + 3), 1);
    for (int limited = 0; limited < 2; limited++) {
        cpu->seg[SEG_CS].limit = limited ? 0x2005 : 0xffffffffu;
        for (uint32_t off = 0x1fe8; off <= 0x2004; off++) {
            for (unsigned len = 1; len <= 16; len++) {
                for (int all = 0; all < 2; all++) {
                    uint8_t buf[17];
                    memset(buf, 0xcc, sizeof(buf));
                    uint32_t room = cpu->seg[SEG_CS].limit - off + 1;
                    if (all && len > room)
                        continue; /* #GP: the decoder asked for bytes past the limit */
                    unsigned got = cpu_fetch(cpu, off, buf, len, all);
                    unsigned want = len < room ? len : room;
                    if (!all && off < 0x2000 && want > 0x2000 - off)
                        want = 0x2000 - off;
                    cr_assert_eq(got, want, "off %x len %u all %d limited %d", off, len, all,
                                 limited);
                    for (unsigned i = 0; i < got; i++)
                        cr_assert_eq(buf[i], (uint8_t)((off + i) * 7 + 3), "off %x len %u byte %u",
                                     off, len, i);
                    cr_assert_eq(buf[got], 0xcc, "off %x len %u: wrote past %u", off, len, got);
                }
            }
        }
    }
}
