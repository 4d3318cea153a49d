/*
 * test_alu.c — cpu/alu.c: ADD OR ADC SBB AND SUB XOR CMP TEST INC DEC NEG
 * NOT at each width, their flag edge cases, and a comparison of results
 * and defined flags with the host CPU's own instructions.
 */
#include <criterion/criterion.h>

#include "tests/unit/arith_harness.h"

/* Runs `op dst=reg EAX, src=reg ECX` (or an immediate) at width w. */
static uint32_t alu_rr(struct cpu *cpu, enum op op, unsigned w, uint32_t a, uint32_t b)
{
    cpu->regs[R_EAX] = a;
    cpu->regs[R_ECX] = b;
    struct insn in = th_insn(op, th_reg(R_EAX, w), th_reg(R_ECX, w));
    cr_assert_eq(th_exec(cpu, &in), -1);
    return cpu->regs[R_EAX];
}

Test(alu, add_widths_keep_upper_bits)
{
    struct cpu *cpu = th_cpu();
    cr_assert_eq(alu_rr(cpu, OP_ADD, 1, 0x123456ff, 0x01), 0x12345600);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_ZF | FL_PF | FL_AF);
    cr_assert_eq(alu_rr(cpu, OP_ADD, 2, 0x1234ffff, 0x01), 0x12340000);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_ZF | FL_PF | FL_AF);
    cr_assert_eq(alu_rr(cpu, OP_ADD, 4, 0xffffffffu, 0x01), 0);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_ZF | FL_PF | FL_AF);
    /* Signed overflow at each width. */
    alu_rr(cpu, OP_ADD, 1, 0x7f, 1);
    cr_assert_eq(flags_arith(cpu), FL_OF | FL_SF | FL_AF);
    alu_rr(cpu, OP_ADD, 2, 0x8000, 0x8000);
    cr_assert_eq(flags_arith(cpu), FL_OF | FL_CF | FL_ZF | FL_PF);
    alu_rr(cpu, OP_ADD, 4, 0x7fffffffu, 0x7fffffffu);
    cr_assert_eq(flags_arith(cpu), FL_OF | FL_SF | FL_AF);
    free(cpu);
}

Test(alu, high_byte_registers)
{
    struct cpu *cpu = th_cpu();
    cpu->regs[R_EAX] = 0x00001000;
    cpu->regs[R_EBX] = 0x00002000;
    struct insn in = th_insn(OP_ADD, th_reg(4 /* AH */, 1), th_reg(7 /* BH */, 1));
    cr_assert_eq(th_exec(cpu, &in), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0x00003000);
    cr_assert_eq(cpu->regs[R_EBX], 0x00002000);
    free(cpu);
}

Test(alu, adc_sbb_use_carry)
{
    struct cpu *cpu = th_cpu();
    th_set_flags(cpu, FL_CF);
    cr_assert_eq(alu_rr(cpu, OP_ADC, 1, 0xff, 0x00), 0x00);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_ZF | FL_PF | FL_AF);
    /* CF in + 0xffffffff + 0xffffffff: carry and a result of all ones. */
    cr_assert_eq(alu_rr(cpu, OP_ADC, 4, 0xffffffffu, 0xffffffffu), 0xffffffffu);
    cr_assert(flags_cf(cpu));
    th_set_flags(cpu, FL_CF);
    cr_assert_eq(alu_rr(cpu, OP_SBB, 2, 0x0000, 0xffff), 0x0000);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_ZF | FL_PF | FL_AF);
    th_set_flags(cpu, 0);
    cr_assert_eq(alu_rr(cpu, OP_SBB, 1, 0x80, 0x01), 0x7f);
    cr_assert_eq(flags_arith(cpu), FL_OF | FL_AF);
    free(cpu);
}

Test(alu, sub_cmp_neg)
{
    struct cpu *cpu = th_cpu();
    cr_assert_eq(alu_rr(cpu, OP_SUB, 4, 1, 2), 0xffffffffu);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_SF | FL_PF | FL_AF);
    /* CMP writes nothing. */
    cr_assert_eq(alu_rr(cpu, OP_CMP, 2, 0xabcd8000, 0x0001), 0xabcd8000);
    cr_assert_eq(flags_arith(cpu), FL_OF | FL_AF | FL_PF);
    struct insn in = th_insn(OP_NEG, th_reg(R_EAX, 1), th_none());
    cpu->regs[R_EAX] = 0x80;
    th_exec(cpu, &in);
    cr_assert_eq(cpu->regs[R_EAX], 0x80);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_OF | FL_SF);
    cpu->regs[R_EAX] = 0;
    th_exec(cpu, &in);
    cr_assert_eq(flags_arith(cpu), FL_ZF | FL_PF); /* CF = 0 only for 0 */
    in.dst.width = 4;
    cpu->regs[R_EAX] = 1;
    th_exec(cpu, &in);
    cr_assert_eq(cpu->regs[R_EAX], 0xffffffffu);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_SF | FL_PF | FL_AF);
    free(cpu);
}

Test(alu, logic_ops_clear_cf_of)
{
    struct cpu *cpu = th_cpu();
    th_set_flags(cpu, FL_ARITH);
    cr_assert_eq(alu_rr(cpu, OP_AND, 4, 0xf0f0f0f0u, 0x0ff00ff0u), 0x00f000f0u);
    cr_assert_eq(flags_arith(cpu), FL_PF);
    cr_assert_eq(alu_rr(cpu, OP_OR, 2, 0x00008000, 0x0001), 0x8001);
    cr_assert_eq(flags_arith(cpu), FL_SF);
    cr_assert_eq(alu_rr(cpu, OP_XOR, 1, 0x5a, 0x5a), 0);
    cr_assert_eq(flags_arith(cpu), FL_ZF | FL_PF);
    cr_assert_eq(alu_rr(cpu, OP_TEST, 1, 0x81, 0x80), 0x81);
    cr_assert_eq(flags_arith(cpu), FL_SF);
    free(cpu);
}

Test(alu, inc_dec_keep_cf)
{
    struct cpu *cpu = th_cpu();
    struct insn inc = th_insn(OP_INC, th_reg(R_EDX, 2), th_none());
    struct insn dec = th_insn(OP_DEC, th_reg(R_EDX, 1), th_none());
    th_set_flags(cpu, FL_CF);
    cpu->regs[R_EDX] = 0x7fff;
    th_exec(cpu, &inc);
    cr_assert_eq(cpu->regs[R_EDX], 0x8000);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_OF | FL_SF | FL_AF | FL_PF);
    cpu->regs[R_EDX] = 0xffff;
    th_exec(cpu, &inc);
    cr_assert_eq(cpu->regs[R_EDX], 0);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_ZF | FL_AF | FL_PF); /* CF kept, not carried */
    th_set_flags(cpu, 0);
    th_exec(cpu, &dec);
    cr_assert_eq(cpu->regs[R_EDX], 0xff);
    cr_assert_eq(flags_arith(cpu), FL_SF | FL_AF | FL_PF); /* no CF from the borrow */
    cpu->regs[R_EDX] = 0x80;
    th_exec(cpu, &dec);
    cr_assert_eq(flags_arith(cpu), FL_OF | FL_AF);
    free(cpu);
}

Test(alu, not_changes_no_flags)
{
    struct cpu *cpu = th_cpu();
    th_set_flags(cpu, FL_CF | FL_OF);
    struct insn in = th_insn(OP_NOT, th_reg(R_EAX, 2), th_none());
    cpu->regs[R_EAX] = 0x11110f0f;
    th_exec(cpu, &in);
    cr_assert_eq(cpu->regs[R_EAX], 0x1111f0f0);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_OF);
    free(cpu);
}

/* An immediate decoded sign-extended (imm8 of an 83 /0 form) is used at
 * the destination's width even if the operand says 1 byte. */
Test(alu, immediate_source)
{
    struct cpu *cpu = th_cpu();
    struct insn in = th_insn(OP_ADD, th_reg(R_EBX, 4), th_imm(1));
    in.imm = 0xffffffffu; /* -1 */
    cpu->regs[R_EBX] = 5;
    th_exec(cpu, &in);
    cr_assert_eq(cpu->regs[R_EBX], 4);
    cr_assert(flags_cf(cpu));
    in.dst.width = 2;
    in.src.width = 2;
    in.imm = 0x00001234;
    cpu->regs[R_EBX] = 0xffff0001;
    th_exec(cpu, &in);
    cr_assert_eq(cpu->regs[R_EBX], 0xffff1235);
    free(cpu);
}

Test(alu, every_op_has_a_handler)
{
    static const enum op ops[] = { OP_ADD, OP_OR,  OP_ADC, OP_SBB, OP_AND,  OP_SUB,  OP_XOR,
                                   OP_CMP, OP_TEST, OP_INC, OP_DEC, OP_NEG, OP_NOT,  OP_CLC,
                                   OP_STC, OP_CMC, OP_CLD, OP_STD, OP_LAHF, OP_SAHF };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        cr_assert_not_null(th_handler(ops[i]), "op %d", ops[i]);
}

/* ------------------------------------------------------------ host CPU */

#if defined(__x86_64__)

/* The host's own instruction on (a, b) with the six arithmetic flags set
 * to `*f` first; returns the result and leaves the flags in `*f`. */
#define HOST_BINOP(name, insn, type, mod)                                                  \
    static uint32_t name(uint32_t a, uint32_t b, uint32_t *f)                              \
    {                                                                                      \
        type x = (type)a, y = (type)b;                                                     \
        uint64_t fl = *f;                                                                  \
        __asm__ volatile(TH_ASM_LOAD_FLAGS insn " %" mod "[y], %" mod "[x]"                \
                         TH_ASM_SAVE_FLAGS                                                 \
                         : [x] "+q"(x), [fl] "+r"(fl)                                      \
                         : [y] "q"(y)                                                      \
                         : "cc", "memory");                                                \
        *f = (uint32_t)fl & FL_ARITH;                                                      \
        return x;                                                                          \
    }

HOST_BINOP(host_add8, "addb", uint8_t, "b")
HOST_BINOP(host_add16, "addw", uint16_t, "w")
HOST_BINOP(host_add32, "addl", uint32_t, "k")
HOST_BINOP(host_or8, "orb", uint8_t, "b")
HOST_BINOP(host_or16, "orw", uint16_t, "w")
HOST_BINOP(host_or32, "orl", uint32_t, "k")
HOST_BINOP(host_adc8, "adcb", uint8_t, "b")
HOST_BINOP(host_adc16, "adcw", uint16_t, "w")
HOST_BINOP(host_adc32, "adcl", uint32_t, "k")
HOST_BINOP(host_sbb8, "sbbb", uint8_t, "b")
HOST_BINOP(host_sbb16, "sbbw", uint16_t, "w")
HOST_BINOP(host_sbb32, "sbbl", uint32_t, "k")
HOST_BINOP(host_and8, "andb", uint8_t, "b")
HOST_BINOP(host_and16, "andw", uint16_t, "w")
HOST_BINOP(host_and32, "andl", uint32_t, "k")
HOST_BINOP(host_sub8, "subb", uint8_t, "b")
HOST_BINOP(host_sub16, "subw", uint16_t, "w")
HOST_BINOP(host_sub32, "subl", uint32_t, "k")
HOST_BINOP(host_xor8, "xorb", uint8_t, "b")
HOST_BINOP(host_xor16, "xorw", uint16_t, "w")
HOST_BINOP(host_xor32, "xorl", uint32_t, "k")

typedef uint32_t (*host_binop)(uint32_t, uint32_t, uint32_t *);

/* Indexed by op - OP_ADD (group-1 order), then width 1, 2, 4. */
static const host_binop host_group1[8][3] = {
    { host_add8, host_add16, host_add32 }, { host_or8, host_or16, host_or32 },
    { host_adc8, host_adc16, host_adc32 }, { host_sbb8, host_sbb16, host_sbb32 },
    { host_and8, host_and16, host_and32 }, { host_sub8, host_sub16, host_sub32 },
    { host_xor8, host_xor16, host_xor32 }, { host_sub8, host_sub16, host_sub32 }, /* CMP */
};

Test(alu_host, group1_matches_host)
{
    struct cpu *cpu = th_cpu();
    uint64_t seed = 0xfeedbeef;
    for (int i = 0; i < 24000; i++) {
        unsigned wi = i % 3, w = 1u << wi;
        unsigned k = (i / 3) % 8;
        enum op op = (enum op)(OP_ADD + k);
        uint32_t a = th_rand_edge(&seed, w), b = th_rand_edge(&seed, w);
        uint32_t f0 = th_rand(&seed) & FL_ARITH;
        uint32_t hf = f0;
        uint32_t want = host_group1[k][wi](a, b, &hf);
        if (op == OP_CMP)
            want = a;
        th_set_flags(cpu, f0);
        uint32_t got = alu_rr(cpu, op, w, a, b) & width_mask(w);
        uint32_t mask = (op == OP_OR || op == OP_AND || op == OP_XOR) ? FL_ARITH & ~FL_AF
                                                                     : FL_ARITH;
        cr_assert_eq(got, want, "op %d w %u a %x b %x", op, w, a, b);
        cr_assert_eq(flags_arith(cpu) & mask, hf & mask,
                     "op %d w %u a %x b %x f0 %x: got %x host %x", op, w, a, b, f0,
                     flags_arith(cpu), hf);
    }
    free(cpu);
}

#define HOST_UNOP(name, insn, type, mod)                                                   \
    static uint32_t name(uint32_t a, uint32_t *f)                                          \
    {                                                                                      \
        type x = (type)a;                                                                  \
        uint64_t fl = *f;                                                                  \
        __asm__ volatile(TH_ASM_LOAD_FLAGS insn " %" mod "[x]"                             \
                         TH_ASM_SAVE_FLAGS                                                 \
                         : [x] "+q"(x), [fl] "+r"(fl)                                      \
                         :                                                                 \
                         : "cc", "memory");                                                \
        *f = (uint32_t)fl & FL_ARITH;                                                      \
        return x;                                                                          \
    }

HOST_UNOP(host_inc8, "incb", uint8_t, "b")
HOST_UNOP(host_inc16, "incw", uint16_t, "w")
HOST_UNOP(host_inc32, "incl", uint32_t, "k")
HOST_UNOP(host_dec8, "decb", uint8_t, "b")
HOST_UNOP(host_dec16, "decw", uint16_t, "w")
HOST_UNOP(host_dec32, "decl", uint32_t, "k")
HOST_UNOP(host_neg8, "negb", uint8_t, "b")
HOST_UNOP(host_neg16, "negw", uint16_t, "w")
HOST_UNOP(host_neg32, "negl", uint32_t, "k")

typedef uint32_t (*host_unop)(uint32_t, uint32_t *);

Test(alu_host, inc_dec_neg_match_host)
{
    static const enum op ops[3] = { OP_INC, OP_DEC, OP_NEG };
    static const host_unop host[3][3] = {
        { host_inc8, host_inc16, host_inc32 },
        { host_dec8, host_dec16, host_dec32 },
        { host_neg8, host_neg16, host_neg32 },
    };
    struct cpu *cpu = th_cpu();
    uint64_t seed = 4242;
    for (int i = 0; i < 9000; i++) {
        unsigned wi = i % 3, w = 1u << wi, k = (i / 3) % 3;
        uint32_t a = th_rand_edge(&seed, w), f0 = th_rand(&seed) & FL_ARITH, hf = f0;
        uint32_t want = host[k][wi](a, &hf);
        th_set_flags(cpu, f0);
        cpu->regs[R_EBX] = a;
        struct insn in = th_insn(ops[k], th_reg(R_EBX, w), th_none());
        th_exec(cpu, &in);
        cr_assert_eq(cpu->regs[R_EBX] & width_mask(w), want);
        cr_assert_eq(flags_arith(cpu), hf, "op %d w %u a %x f0 %x: got %x host %x", ops[k], w,
                     a, f0, flags_arith(cpu), hf);
    }
    free(cpu);
}

#endif
