/*
 * test_flags.c — cpu/flags.c: lazy flag records against a reference
 * written from the flag definitions (SDM Vol. 1 3.4.3.1) in wide
 * arithmetic, the condition fast paths against the materialized bits,
 * EFLAGS writes, and the one-byte flag instructions of cpu/alu.c.
 */
#include <criterion/criterion.h>

#include "tests/unit/arith_harness.h"

static int64_t ref_sext(uint32_t v, unsigned w)
{
    unsigned sh = 32 - w * 8;
    return (int32_t)(v << sh) >> sh;
}

/* a + b + c or a - b - c at width w, flags from wide arithmetic. */
static uint32_t ref_flags(bool sub, unsigned w, uint32_t a, uint32_t b, uint32_t c)
{
    unsigned bits = w * 8;
    uint32_t m = width_mask(w);
    int64_t lo = -((int64_t)1 << (bits - 1)), hi = ((int64_t)1 << (bits - 1)) - 1;
    uint64_t u;
    int64_t s;
    bool af;
    if (sub) {
        u = (uint64_t)a - b - c;
        s = ref_sext(a, w) - ref_sext(b, w) - (int64_t)c;
        af = (a & 0xf) < (b & 0xf) + c;
    } else {
        u = (uint64_t)a + b + c;
        s = ref_sext(a, w) + ref_sext(b, w) + (int64_t)c;
        af = (a & 0xf) + (b & 0xf) + c > 0xf;
    }
    uint32_t f = th_szp((uint32_t)u & m, w);
    if ((u >> bits) & 1)
        f |= FL_CF;
    if (s < lo || s > hi)
        f |= FL_OF;
    if (af)
        f |= FL_AF;
    return f;
}

Test(flags_core, parity8_all_bytes)
{
    for (uint32_t v = 0; v < 0x400; v++)
        cr_assert_eq(parity8(v), !(__builtin_popcount(v & 0xff) & 1), "v=%x", v);
}

Test(flags_core, lazy_add_sub_adc_sbb_match_reference)
{
    struct cpu *cpu = th_cpu();
    uint64_t seed = 0x1234567;
    for (int i = 0; i < 20000; i++) {
        unsigned w = 1u << (i % 3);
        uint32_t m = width_mask(w);
        uint32_t a = th_rand_edge(&seed, w), b = th_rand_edge(&seed, w);
        uint32_t c = th_rand(&seed) & 1;
        static const enum cc_op ops[] = { CC_ADD, CC_ADC, CC_SUB, CC_SBB };
        enum cc_op op = ops[(i / 3) % 4];
        bool sub = op == CC_SUB || op == CC_SBB;
        if (op == CC_ADD || op == CC_SUB)
            c = 0;
        uint32_t r = (sub ? a - b - c : a + b + c) & m;
        cc_set(cpu, op, w, a, b, r, c);
        uint32_t want = ref_flags(sub, w, a, b, c);
        cr_assert_eq(flags_arith(cpu), want, "op %d w %u a %x b %x c %u: got %x want %x", op,
                     w, a, b, c, flags_arith(cpu), want);
        cr_assert_eq(flags_cf(cpu), (want & FL_CF) != 0);
    }
    free(cpu);
}

Test(flags_core, lazy_inc_dec_keep_cf)
{
    struct cpu *cpu = th_cpu();
    for (unsigned w = 1; w <= 4; w *= 2) {
        uint32_t m = width_mask(w), sign = 1u << (w * 8 - 1);
        uint32_t vals[] = { 0, 1, 0xf, 0x10, sign - 1, sign, m };
        for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
            for (uint32_t cf = 0; cf < 2; cf++) {
                uint32_t a = vals[i];
                cc_set(cpu, CC_INC, w, a, 1, (a + 1) & m, cf);
                uint32_t want = (ref_flags(false, w, a, 1, 0) & ~FL_CF) | (cf ? FL_CF : 0);
                cr_assert_eq(flags_arith(cpu), want, "inc w%u %x", w, a);
                cc_set(cpu, CC_DEC, w, a, 1, (a - 1) & m, cf);
                want = (ref_flags(true, w, a, 1, 0) & ~FL_CF) | (cf ? FL_CF : 0);
                cr_assert_eq(flags_arith(cpu), want, "dec w%u %x", w, a);
            }
        }
    }
    free(cpu);
}

Test(flags_core, lazy_logic_clears_cf_of_af)
{
    struct cpu *cpu = th_cpu();
    th_set_flags(cpu, FL_ARITH);
    cc_set(cpu, CC_LOGIC, 2, 0, 0, 0x8000, 0);
    cr_assert_eq(flags_arith(cpu), FL_SF | FL_PF);
    cc_set(cpu, CC_LOGIC, 1, 0, 0, 0, 0);
    cr_assert_eq(flags_arith(cpu), FL_ZF | FL_PF);
    cc_set(cpu, CC_LOGIC, 4, 0, 0, 0x80000001u, 0);
    cr_assert_eq(flags_arith(cpu), FL_SF);
    free(cpu);
}

/* Values above the width in a record must not leak into the flags. */
Test(flags_core, lazy_ignores_bits_above_width)
{
    struct cpu *cpu = th_cpu();
    cc_set(cpu, CC_ADD, 1, 0xabcd00ff, 0x12340001, 0xdead0100, 0);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_ZF | FL_PF | FL_AF);
    cc_set(cpu, CC_SUB, 2, 0xffff0000, 0x00000001, 0xfffeffff, 0);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_SF | FL_PF | FL_AF);
    free(cpu);
}

Test(flags_core, cond_lazy_matches_materialized)
{
    struct cpu *cpu = th_cpu();
    uint64_t seed = 99;
    static const enum cc_op ops[] = { CC_ADD, CC_ADC, CC_SUB, CC_SBB, CC_LOGIC, CC_INC, CC_DEC };
    for (int i = 0; i < 20000; i++) {
        unsigned w = 1u << (i % 3);
        uint32_t m = width_mask(w);
        enum cc_op op = ops[th_rand(&seed) % 7];
        uint32_t a = th_rand_edge(&seed, w), b = th_rand_edge(&seed, w);
        uint32_t c = th_rand(&seed) & 1, r;
        switch (op) {
        case CC_ADD: r = a + b; break;
        case CC_ADC: r = a + b + c; break;
        case CC_SUB: r = a - b; break;
        case CC_SBB: r = a - b - c; break;
        case CC_INC: b = 1; r = a + 1; break;
        case CC_DEC: b = 1; r = a - 1; break;
        default: r = a & b; break;
        }
        for (unsigned cond = 0; cond < 16; cond++) {
            cc_set(cpu, op, w, a, b, r & m, c);
            bool lazy = flags_cond(cpu, cond);
            flags_materialize(cpu);
            cr_assert_eq(cpu->cc.op, CC_EAGER);
            bool eager = flags_cond(cpu, cond);
            cr_assert_eq(lazy, eager, "op %d w %u a %x b %x cond %u", op, w, a, b, cond);
        }
    }
    free(cpu);
}

/* Jcc semantics on eager bits, one flag at a time (SDM Vol. 2 Jcc). */
Test(flags_core, cond_table_from_bits)
{
    struct cpu *cpu = th_cpu();
    for (uint32_t bits = 0; bits < 64; bits++) {
        uint32_t f = ((bits & 1) ? FL_CF : 0) | ((bits & 2) ? FL_PF : 0) |
                     ((bits & 4) ? FL_ZF : 0) | ((bits & 8) ? FL_SF : 0) |
                     ((bits & 16) ? FL_OF : 0) | ((bits & 32) ? FL_AF : 0);
        th_set_flags(cpu, f);
        bool cf = f & FL_CF, zf = f & FL_ZF, sf = f & FL_SF, of = f & FL_OF, pf = f & FL_PF;
        bool want[16] = { of, !of, cf, !cf, zf, !zf, cf || zf, !cf && !zf,
                          sf, !sf, pf, !pf, sf != of, sf == of, zf || sf != of,
                          !zf && sf == of };
        for (unsigned c = 0; c < 16; c++)
            cr_assert_eq(flags_cond(cpu, c), want[c], "flags %x cond %u", f, c);
    }
    free(cpu);
}

Test(flags_core, cmp_fast_path_signed_unsigned)
{
    struct cpu *cpu = th_cpu();
    /* CMP 0x80, 0x7f (bytes): below? no; less (signed)? yes. */
    cc_set(cpu, CC_SUB, 1, 0x80, 0x7f, 0x01, 0);
    cr_assert(!flags_cond(cpu, 2));  /* B */
    cr_assert(flags_cond(cpu, 7));   /* A */
    cr_assert(flags_cond(cpu, 12));  /* L */
    cr_assert(flags_cond(cpu, 14));  /* LE */
    cr_assert(!flags_cond(cpu, 15)); /* G */
    cr_assert(flags_cond(cpu, 0));   /* O */
    cc_set(cpu, CC_SUB, 4, 5, 5, 0, 0);
    cr_assert(flags_cond(cpu, 6));   /* BE */
    cr_assert(flags_cond(cpu, 13));  /* GE */
    cr_assert(flags_cond(cpu, 4));   /* E */
    free(cpu);
}

Test(flags_core, set_arith_and_materialize)
{
    struct cpu *cpu = th_cpu();
    cpu->eflags |= FL_DF | FL_IF;
    cc_set(cpu, CC_SUB, 4, 0, 1, 0xffffffffu, 0);
    flags_materialize(cpu);
    cr_assert_eq(cpu->cc.op, CC_EAGER);
    cr_assert_eq(cpu->eflags & FL_ARITH, FL_CF | FL_SF | FL_PF | FL_AF);
    cr_assert(cpu->eflags & FL_DF);
    flags_set_arith(cpu, 0xffffffffu);
    cr_assert_eq(cpu->eflags, FL_FIXED1 | FL_DF | FL_IF | FL_ARITH);
    free(cpu);
}

Test(flags_core, write_respects_mask_and_fixed_bits)
{
    struct cpu *cpu = th_cpu();
    cc_set(cpu, CC_LOGIC, 4, 0, 0, 0, 0); /* ZF PF lazily */
    flags_write(cpu, FL_CF | FL_DF, FL_CF | FL_DF);
    cr_assert_eq(cpu->cc.op, CC_EAGER);
    cr_assert_eq(cpu_get_eflags(cpu), FL_FIXED1 | FL_CF | FL_ZF | FL_PF | FL_DF);
    /* Reserved bits (3, 5, 15, 22-31) stay 0, bit 1 stays 1. */
    flags_write(cpu, 0, 0xffffffffu);
    cr_assert_eq(cpu_get_eflags(cpu), FL_FIXED1);
    flags_write(cpu, 0xffffffffu, 0xffffffffu);
    cr_assert_eq(cpu_get_eflags(cpu), 0x003f7fd7u);
    free(cpu);
}

Test(flags_core, get_eflags_has_bit1_and_lazy_bits)
{
    struct cpu *cpu = th_cpu();
    cpu->eflags = 0; /* even a bad stored bit 1 reads as 1 */
    cc_set(cpu, CC_ADD, 1, 0xff, 1, 0, 0);
    cr_assert_eq(cpu_get_eflags(cpu), FL_FIXED1 | FL_CF | FL_ZF | FL_PF | FL_AF);
    free(cpu);
}

/* ------------------------------------------------------------ flag insns */

static void run_noop(struct cpu *cpu, enum op op)
{
    struct insn in = th_insn(op, th_none(), th_none());
    cr_assert_eq(th_exec(cpu, &in), -1);
}

Test(flag_insns, clc_stc_cmc_keep_other_flags)
{
    struct cpu *cpu = th_cpu();
    cc_set(cpu, CC_SUB, 1, 0, 1, 0xff, 0); /* CF SF PF AF */
    run_noop(cpu, OP_CLC);
    cr_assert_eq(flags_arith(cpu), FL_SF | FL_PF | FL_AF);
    run_noop(cpu, OP_STC);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_SF | FL_PF | FL_AF);
    run_noop(cpu, OP_CMC);
    cr_assert_eq(flags_arith(cpu), FL_SF | FL_PF | FL_AF);
    run_noop(cpu, OP_CMC);
    cr_assert(flags_cf(cpu));
    free(cpu);
}

Test(flag_insns, cld_std)
{
    struct cpu *cpu = th_cpu();
    cc_set(cpu, CC_ADD, 1, 0xff, 1, 0, 0);
    run_noop(cpu, OP_STD);
    cr_assert(cpu_get_eflags(cpu) & FL_DF);
    cr_assert(flags_cf(cpu)); /* lazy state untouched */
    run_noop(cpu, OP_CLD);
    cr_assert(!(cpu_get_eflags(cpu) & FL_DF));
    free(cpu);
}

Test(flag_insns, lahf_layout)
{
    struct cpu *cpu = th_cpu();
    cpu->regs[R_EAX] = 0x12345678;
    th_set_flags(cpu, FL_ARITH);
    run_noop(cpu, OP_LAHF);
    /* SF ZF 0 AF 0 PF 1 CF = 1101 0111 (OF is not in AH). */
    cr_assert_eq(cpu->regs[R_EAX], 0x1234d778u);
    th_set_flags(cpu, 0);
    run_noop(cpu, OP_LAHF);
    cr_assert_eq(cpu->regs[R_EAX], 0x12340278u);
    free(cpu);
}

Test(flag_insns, sahf_keeps_of)
{
    struct cpu *cpu = th_cpu();
    th_set_flags(cpu, FL_OF);
    cpu->regs[R_EAX] = 0xffff;
    run_noop(cpu, OP_SAHF);
    cr_assert_eq(flags_arith(cpu), FL_ARITH);
    cpu->regs[R_EAX] = 0x2800; /* bits 3 and 5 of AH are not flags */
    run_noop(cpu, OP_SAHF);
    cr_assert_eq(flags_arith(cpu), FL_OF);
    cr_assert_eq(cpu_get_eflags(cpu), FL_FIXED1 | FL_OF);
    free(cpu);
}

/* The JIT's image of the host's flags (CC_HOST: LAHF's byte in bits 8-15,
 * SETO's in bit 0, the rest undefined): every one of the 64 combinations
 * of the six flags, with the undefined bits set, reads back as itself,
 * and every condition as it does from the bits. */
Test(flags_core, cc_host_image_reads_as_the_flags_it_holds)
{
    static const uint32_t six[6] = { FL_CF, FL_PF, FL_AF, FL_ZF, FL_SF, FL_OF };
    struct cpu *cpu = th_cpu();
    for (unsigned combo = 0; combo < 64; combo++) {
        uint32_t bits = 0;
        for (unsigned k = 0; k < 6; k++)
            if (combo & (1u << k))
                bits |= six[k];
        uint32_t image = cc_host_image(bits);
        cr_assert_eq(cc_host_bits(image), bits, "bits %03x", bits);
        /* LAHF's fixed bit 1 and the garbage SETO's register and the
         * guest's EAX may leave in the undefined bits. */
        uint32_t junk = 0xabcd0000u | (1u << 9) | 0xfe | (combo & 1 ? 0x2800 : 0);
        for (unsigned cond = 0; cond < 16; cond++) {
            th_set_flags(cpu, bits);
            bool want = flags_cond(cpu, cond);
            cc_set(cpu, CC_HOST, 4, 0, 0, image | junk, 0);
            cr_assert_eq(flags_cond(cpu, cond), want, "bits %03x cond %u", bits, cond);
        }
        cc_set(cpu, CC_HOST, 4, 0, 0, image | junk, 0);
        cr_assert_eq(flags_cf(cpu), (bits & FL_CF) != 0);
        cr_assert_eq(flags_af(cpu), (bits & FL_AF) != 0);
        cr_assert_eq(flags_arith(cpu), bits, "bits %03x", bits);
        cr_assert_eq(cpu_get_eflags(cpu) & FL_ARITH, bits);
    }
    free(cpu);
}
