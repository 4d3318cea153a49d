/*
 * test_bcd.c — cpu/bcd.c: DAA DAS AAA AAS AAM AAD SALC against models
 * written from the SDM Vol. 2 pseudocode, over every AL with every AF/CF
 * input (the host cannot run these: they are invalid in 64-bit mode),
 * plus worked examples and #DE for AAM 0. The flags the SDM leaves
 * undefined are checked at their P6 values (cpu/bcd.c says where they
 * come from): OF = 0 after all six; SF, ZF, PF from AL after AAA/AAS;
 * AF = CF = 0 after AAM/AAD.
 */
#include <criterion/criterion.h>

#include "tests/unit/arith_harness.h"

static int bcd_exec(struct cpu *cpu, enum op op, uint32_t eax, uint32_t flags, uint32_t imm)
{
    cpu->regs[R_EAX] = eax;
    th_set_flags(cpu, flags);
    struct insn in = th_insn(op, th_none(), th_none());
    if (op == OP_AAM || op == OP_AAD) {
        in.src = th_imm(1);
        in.imm = imm;
    }
    return th_exec(cpu, &in);
}

/* SDM DAA/DAS pseudocode, literally; returns AL, sets the five flags. */
static uint8_t model_daa_das(bool sub, uint8_t al, bool cf, bool af, uint32_t *f)
{
    uint8_t old_al = al;
    bool old_cf = cf;
    cf = false;
    if ((al & 0x0f) > 9 || af) {
        if (sub) {
            cf = old_cf || al < 6;
            al = (uint8_t)(al - 6);
        } else {
            cf = old_cf || al > 0xf9;
            al = (uint8_t)(al + 6);
        }
        af = true;
    } else {
        af = false;
    }
    if (old_al > 0x99 || old_cf) {
        al = sub ? (uint8_t)(al - 0x60) : (uint8_t)(al + 0x60);
        cf = true;
    } else if (!sub) {
        cf = false;
    }
    *f = th_szp(al, 1) | (af ? FL_AF : 0) | (cf ? FL_CF : 0);
    return al;
}

Test(bcd, daa_das_all_inputs)
{
    struct cpu *cpu = th_cpu();
    for (int sub = 0; sub < 2; sub++) {
        for (uint32_t al = 0; al < 256; al++) {
            for (uint32_t fl = 0; fl < 4; fl++) {
                bool cf = fl & 1, af = fl & 2;
                uint32_t want_f;
                uint8_t want = model_daa_das(sub, (uint8_t)al, cf, af, &want_f);
                uint32_t f0 = (cf ? FL_CF : 0) | (af ? FL_AF : 0) | FL_OF;
                cr_assert_eq(bcd_exec(cpu, sub ? OP_DAS : OP_DAA, 0xabcd1200 | al, f0, 0), -1);
                cr_assert_eq(cpu->regs[R_EAX], 0xabcd1200 | want, "sub %d al %x f %x", sub, al,
                             fl);
                /* OF is undefined in the SDM; a P6 clears it. */
                cr_assert_eq(flags_arith(cpu), want_f, "sub %d al %x f %x: %x vs %x", sub, al,
                             fl, flags_arith(cpu), want_f);
            }
        }
    }
    free(cpu);
}

Test(bcd, daa_das_examples)
{
    struct cpu *cpu = th_cpu();
    /* SDM DAA example: ADD AL,BL with AL=79H BL=35H gives AEH; DAA -> 14H CF=1. */
    bcd_exec(cpu, OP_DAA, 0xae, 0, 0);
    cr_assert_eq(cpu->regs[R_EAX], 0x14);
    cr_assert(flags_cf(cpu));
    /* SDM DAS example: SUB AL,BL with 35H - 47H = EEH, CF=1, AF=1; DAS -> 88H CF=1. */
    bcd_exec(cpu, OP_DAS, 0xee, FL_CF | FL_AF, 0);
    cr_assert_eq(cpu->regs[R_EAX], 0x88);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_AF | FL_SF | FL_PF);
    free(cpu);
}

Test(bcd, aaa_aas_all_inputs)
{
    struct cpu *cpu = th_cpu();
    for (uint32_t ax = 0; ax < 0x10000; ax += 0x0101 * 3 + 1) {
        for (uint32_t al = 0; al < 256; al++) {
            uint32_t in_ax = (ax & 0xff00) | al;
            for (uint32_t af = 0; af < 2; af++) {
                bool adjust = (al & 0xf) > 9 || af;
                uint32_t f0 = (af ? FL_AF : 0) | FL_ZF | FL_SF | FL_PF | FL_OF;
                uint32_t want_af_cf = adjust ? FL_AF | FL_CF : 0;
                /* AAA: AX + 106H (SDM AAA); AAS: AX - 6, AH - 1 (SDM AAS). */
                uint32_t aaa = adjust ? (in_ax + 0x106) & 0xffff : in_ax;
                uint32_t aas = adjust ? (((in_ax - 6) & 0xffff) - 0x100) & 0xffff : in_ax;
                /* Undefined in the SDM; on a P6: OF = 0, SF ZF PF from the
                 * final AL (so SF = 0: AL < 10H). */
                bcd_exec(cpu, OP_AAA, 0x55550000 | in_ax, f0, 0);
                cr_assert_eq(cpu->regs[R_EAX], 0x55550000 | (aaa & 0xff0f), "aaa %x af %u",
                             in_ax, af);
                cr_assert_eq(flags_arith(cpu), th_szp(aaa & 0x0f, 1) | want_af_cf, "aaa %x af %u",
                             in_ax, af);
                bcd_exec(cpu, OP_AAS, 0x55550000 | in_ax, f0 | FL_CF, 0);
                cr_assert_eq(cpu->regs[R_EAX], 0x55550000 | (aas & 0xff0f), "aas %x af %u",
                             in_ax, af);
                cr_assert_eq(flags_arith(cpu), th_szp(aas & 0x0f, 1) | want_af_cf, "aas %x af %u",
                             in_ax, af);
            }
        }
    }
    free(cpu);
}

Test(bcd, aaa_aas_examples)
{
    struct cpu *cpu = th_cpu();
    /* 8 + 9 = 11H with AF: AAA -> AH+1, AL=7. */
    bcd_exec(cpu, OP_AAA, 0x0011, FL_AF, 0);
    cr_assert_eq(cpu->regs[R_EAX], 0x0107);
    /* AL=0FFH: +6 carries into AH (P6), AH gains 2. */
    bcd_exec(cpu, OP_AAA, 0x00ff, 0, 0);
    cr_assert_eq(cpu->regs[R_EAX], 0x0205);
    /* AAS with AL=0: the borrow of AL-6 reaches AH too. */
    bcd_exec(cpu, OP_AAS, 0x0500, FL_AF, 0);
    cr_assert_eq(cpu->regs[R_EAX], 0x030a);
    free(cpu);
}

Test(bcd, aam_aad)
{
    struct cpu *cpu = th_cpu();
    for (uint32_t base = 1; base < 256; base += 7) {
        for (uint32_t al = 0; al < 256; al++) {
            bcd_exec(cpu, OP_AAM, 0x12345600 | al, FL_CF | FL_OF | FL_AF, base);
            uint8_t r = (uint8_t)(al % base);
            cr_assert_eq(cpu->regs[R_EAX], 0x12340000 | ((al / base) << 8) | r);
            /* OF AF CF are undefined in the SDM; a P6 clears them. */
            cr_assert_eq(flags_arith(cpu), th_szp(r, 1));
            uint32_t ah = al ^ 0x5a;
            bcd_exec(cpu, OP_AAD, 0x12340000 | (ah << 8) | al, FL_CF | FL_OF | FL_AF, base);
            r = (uint8_t)(al + ah * base);
            cr_assert_eq(cpu->regs[R_EAX], 0x12340000 | r);
            cr_assert_eq(flags_arith(cpu), th_szp(r, 1));
        }
    }
    bcd_exec(cpu, OP_AAM, 63, 0, 10);
    cr_assert_eq(cpu->regs[R_EAX], 0x0603);
    bcd_exec(cpu, OP_AAD, 0x0603, 0, 10);
    cr_assert_eq(cpu->regs[R_EAX], 63);
    /* The reference run's cases (QEMU's tests/tcg/i386/test-i386.c,
     * whose reference output comes from real hardware and checks all
     * six flags of AAM and AAD): AF set on input is 0 after. */
    bcd_exec(cpu, OP_AAM, 0x12340547, FL_AF, 10);
    cr_assert_eq(cpu->regs[R_EAX], 0x12340701);
    cr_assert_eq(flags_arith(cpu), 0, "flags %x", flags_arith(cpu));
    bcd_exec(cpu, OP_AAD, 0x12340407, FL_AF, 10);
    cr_assert_eq(cpu->regs[R_EAX], 0x1234002f);
    cr_assert_eq(flags_arith(cpu), 0, "flags %x", flags_arith(cpu));
    free(cpu);
}

Test(bcd, aam_zero_raises_de_and_writes_nothing)
{
    struct cpu *cpu = th_cpu();
    cr_assert_eq(bcd_exec(cpu, OP_AAM, 0x1234, FL_ZF, 0), EXC_DE);
    cr_assert_eq(cpu->regs[R_EAX], 0x1234);
    cr_assert_eq(flags_arith(cpu), FL_ZF);
    /* AAD 0 is legal: AL = AL. */
    cr_assert_eq(bcd_exec(cpu, OP_AAD, 0x1234, 0, 0), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0x34);
    free(cpu);
}

Test(bcd, salc)
{
    struct cpu *cpu = th_cpu();
    bcd_exec(cpu, OP_SALC, 0x12345678, FL_CF, 0);
    cr_assert_eq(cpu->regs[R_EAX], 0x123456ff);
    cr_assert_eq(flags_arith(cpu), FL_CF);
    /* CF from a lazy record. */
    cc_set(cpu, CC_SUB, 4, 1, 1, 0, 0);
    struct insn in = th_insn(OP_SALC, th_none(), th_none());
    th_exec(cpu, &in);
    cr_assert_eq(cpu->regs[R_EAX], 0x12345600);
    free(cpu);
}
