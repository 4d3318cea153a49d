/*
 * test_shift.c — cpu/shift.c: group-2 shifts and rotates and SHLD/SHRD
 * at every width and the counts where flags change meaning (0, 1, 2,
 * width-1, width, width+1, 31), RCL/RCR modulo 9/17, Glass's portable
 * choices for undefined cases (where they apply: not on x86-64), and the
 * host CPU: on x86-64 every flag and result, undefined ones included,
 * must be the host's (cpu/host_flags.c).
 */
#include <criterion/criterion.h>

#include "tests/unit/arith_harness.h"

/* op dst=EAX (or AL/AX), count=CL; returns the destination. */
static uint32_t shift_cl(struct cpu *cpu, enum op op, unsigned w, uint32_t a, unsigned count)
{
    cpu->regs[R_EAX] = a;
    cpu->regs[R_ECX] = count;
    struct insn in = th_insn(op, th_reg(R_EAX, w), th_reg(R_ECX, 1));
    cr_assert_eq(th_exec(cpu, &in), -1);
    return cpu->regs[R_EAX] & width_mask(w);
}

static uint32_t dshift(struct cpu *cpu, enum op op, unsigned w, uint32_t a, uint32_t b,
                       unsigned count)
{
    cpu->regs[R_EAX] = a;
    cpu->regs[R_EDX] = b;
    struct insn in = th_insn(op, th_reg(R_EAX, w), th_reg(R_EDX, w));
    in.src2 = th_imm(1);
    in.imm = count;
    cr_assert_eq(th_exec(cpu, &in), -1);
    return cpu->regs[R_EAX] & width_mask(w);
}

Test(shift, count_zero_changes_nothing)
{
    static const enum op ops[] = { OP_ROL, OP_ROR, OP_RCL, OP_RCR, OP_SHL, OP_SHR, OP_SAR };
    struct cpu *cpu = th_cpu();
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        for (unsigned count = 0; count <= 96; count += 32) { /* masked to 0 */
            th_set_flags(cpu, FL_CF | FL_ZF | FL_AF);
            cr_assert_eq(shift_cl(cpu, ops[i], 1, 0x81, count), 0x81);
            cr_assert_eq(flags_arith(cpu), FL_CF | FL_ZF | FL_AF);
        }
    }
    th_set_flags(cpu, FL_OF);
    cr_assert_eq(dshift(cpu, OP_SHLD, 4, 0x12345678, 0xffffffffu, 32), 0x12345678);
    cr_assert_eq(flags_arith(cpu), FL_OF);
    free(cpu);
}

Test(shift, shl_edges)
{
    struct cpu *cpu = th_cpu();
    /* Count 1: OF = MSB(result) ^ CF. */
    cr_assert_eq(shift_cl(cpu, OP_SHL, 1, 0x40, 1), 0x80);
    cr_assert_eq(flags_arith(cpu) & ~FL_AF, FL_OF | FL_SF);
    cr_assert_eq(shift_cl(cpu, OP_SHL, 1, 0xc0, 1), 0x80);
    cr_assert_eq(flags_arith(cpu) & ~FL_AF, FL_CF | FL_SF);
    /* width-1, width, width+1 for a byte. */
    cr_assert_eq(shift_cl(cpu, OP_SHL, 1, 0x03, 7), 0x80);
    cr_assert(flags_cf(cpu));
    cr_assert_eq(shift_cl(cpu, OP_SHL, 1, 0x03, 8), 0x00);
    cr_assert(flags_cf(cpu)); /* last bit out: bit 0 */
    cr_assert(flags_cond(cpu, 4));
    cr_assert_eq(shift_cl(cpu, OP_SHL, 1, 0xff, 9), 0x00);
    cr_assert(!flags_cf(cpu)); /* Glass: a 32-bit shifter, zeros beyond */
    cr_assert_eq(shift_cl(cpu, OP_SHL, 2, 0x8001, 16), 0);
    cr_assert(flags_cf(cpu));
    cr_assert_eq(shift_cl(cpu, OP_SHL, 4, 0x00000003, 31), 0x80000000u);
    cr_assert(flags_cf(cpu));
    /* 32-bit count 32 is masked to 0. */
    th_set_flags(cpu, 0);
    cr_assert_eq(shift_cl(cpu, OP_SHL, 4, 0x00000003, 32), 3);
    cr_assert_eq(flags_arith(cpu), 0);
    /* SAL is SHL. */
    cr_assert_eq(shift_cl(cpu, OP_SAL, 2, 0x4001, 2), 0x0004);
    cr_assert(flags_cf(cpu));
    free(cpu);
}

Test(shift, shr_sar_edges)
{
    struct cpu *cpu = th_cpu();
    /* SHR count 1: OF = MSB of the original. */
    cr_assert_eq(shift_cl(cpu, OP_SHR, 1, 0x81, 1), 0x40);
    cr_assert_eq(flags_arith(cpu) & ~FL_AF, FL_CF | FL_OF);
    cr_assert_eq(shift_cl(cpu, OP_SHR, 2, 0x8000, 15), 1);
    cr_assert(!flags_cf(cpu));
    cr_assert_eq(shift_cl(cpu, OP_SHR, 2, 0x8000, 16), 0);
    cr_assert(flags_cf(cpu));
    cr_assert(flags_cond(cpu, 4));
    cr_assert_eq(shift_cl(cpu, OP_SHR, 2, 0x8000, 17), 0);
    cr_assert(!flags_cf(cpu));
    cr_assert_eq(shift_cl(cpu, OP_SHR, 4, 0x80000000u, 31), 1);
    /* SAR: OF = 0 for count 1, the sign fills, CF = last bit out. */
    th_set_flags(cpu, FL_OF);
    cr_assert_eq(shift_cl(cpu, OP_SAR, 1, 0x81, 1), 0xc0);
    cr_assert_eq(flags_arith(cpu) & ~FL_AF, FL_CF | FL_SF | FL_PF);
    cr_assert_eq(shift_cl(cpu, OP_SAR, 1, 0x80, 8), 0xff);
    cr_assert(flags_cf(cpu));
    cr_assert_eq(shift_cl(cpu, OP_SAR, 1, 0x7f, 31), 0x00);
    cr_assert(!flags_cf(cpu));
    cr_assert_eq(shift_cl(cpu, OP_SAR, 4, 0x80000000u, 31), 0xffffffffu);
    cr_assert(!flags_cf(cpu));
    free(cpu);
}

Test(shift, rol_ror_flags)
{
    struct cpu *cpu = th_cpu();
    th_set_flags(cpu, FL_ZF | FL_SF | FL_PF);
    cr_assert_eq(shift_cl(cpu, OP_ROL, 1, 0x81, 1), 0x03);
    /* Only CF and OF change: CF = LSB, OF = MSB ^ CF. */
    cr_assert_eq(flags_arith(cpu), FL_ZF | FL_SF | FL_PF | FL_CF | FL_OF);
    /* ROL by 8 on a byte rotates by 0 but still sets CF = LSB. */
    th_set_flags(cpu, 0);
    cr_assert_eq(shift_cl(cpu, OP_ROL, 1, 0x01, 8), 0x01);
    cr_assert(flags_cf(cpu));
    cr_assert_eq(shift_cl(cpu, OP_ROL, 2, 0x8001, 17), 0x0003);
    cr_assert_eq(shift_cl(cpu, OP_ROL, 4, 0x80000001u, 31), 0xc0000000u);
    cr_assert(!flags_cf(cpu));
    /* ROR count 1: CF = MSB of the result, OF = MSB ^ next bit. */
    cr_assert_eq(shift_cl(cpu, OP_ROR, 1, 0x01, 1), 0x80);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_OF);
    cr_assert_eq(shift_cl(cpu, OP_ROR, 2, 0x0003, 2), 0xc000);
    cr_assert(flags_cf(cpu));
    cr_assert_eq(shift_cl(cpu, OP_ROR, 4, 0x00000001u, 31), 2);
    free(cpu);
}

Test(shift, rcl_rcr_modulo)
{
    struct cpu *cpu = th_cpu();
    /* Byte RCL by 9 is the identity on CF:AL (count mod 9 = 0). */
    th_set_flags(cpu, FL_CF);
    cr_assert_eq(shift_cl(cpu, OP_RCL, 1, 0x5a, 9), 0x5a);
    cr_assert(flags_cf(cpu));
    /* By 10 = by 1: CF into bit 0, bit 7 into CF. */
    cr_assert_eq(shift_cl(cpu, OP_RCL, 1, 0x80, 10), 0x01);
    cr_assert(flags_cf(cpu));
    th_set_flags(cpu, 0);
    cr_assert_eq(shift_cl(cpu, OP_RCL, 1, 0x80, 1), 0x00);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_OF);
    /* Word RCR by 17 = identity, by 18 = by 1. */
    th_set_flags(cpu, FL_CF);
    cr_assert_eq(shift_cl(cpu, OP_RCR, 2, 0x1234, 17), 0x1234);
    cr_assert(flags_cf(cpu));
    cr_assert_eq(shift_cl(cpu, OP_RCR, 2, 0x0001, 18), 0x8000);
    cr_assert_eq(flags_arith(cpu), FL_CF | FL_OF);
    /* 32-bit: no modulo below 33; RCL 31 = RCR 2. */
    th_set_flags(cpu, 0);
    cr_assert_eq(shift_cl(cpu, OP_RCL, 4, 0x00000003u, 31), 0x80000000u);
    cr_assert(flags_cf(cpu));
    th_set_flags(cpu, FL_CF);
    cr_assert_eq(shift_cl(cpu, OP_RCR, 4, 0x00000001u, 1), 0x80000000u);
    cr_assert(flags_cf(cpu));
    /* RCR count 1, OF = MSB(original) ^ CF(original). */
    th_set_flags(cpu, 0);
    shift_cl(cpu, OP_RCR, 1, 0x80, 1);
    cr_assert(flags_arith(cpu) & FL_OF);
    free(cpu);
}

Test(shift, shld_shrd)
{
    struct cpu *cpu = th_cpu();
    cr_assert_eq(dshift(cpu, OP_SHLD, 4, 0x12345678, 0x9abcdef0u, 8), 0x3456789a);
    cr_assert(!flags_cf(cpu));
    cr_assert_eq(dshift(cpu, OP_SHLD, 4, 0x80000000u, 0xffffffffu, 1), 0x00000001);
    cr_assert_eq(flags_arith(cpu) & ~FL_AF, FL_CF | FL_OF);
    cr_assert_eq(dshift(cpu, OP_SHRD, 4, 0x12345678, 0x9abcdef0u, 8), 0xf0123456u);
    cr_assert(!flags_cf(cpu));
    cr_assert_eq(dshift(cpu, OP_SHRD, 4, 0x00000001u, 0x00000001u, 1), 0x80000000u);
    cr_assert_eq(flags_arith(cpu) & ~FL_AF, FL_CF | FL_OF | FL_SF | FL_PF);
    cr_assert_eq(dshift(cpu, OP_SHLD, 2, 0x1234, 0xabcd, 16), 0xabcd);
    cr_assert_eq(dshift(cpu, OP_SHRD, 2, 0x1234, 0xabcd, 16), 0xabcd);
    cr_assert(!flags_cf(cpu)); /* bit 15 of 0x1234 */
    /* Count from CL, masked to 5 bits. */
    cpu->regs[R_EAX] = 0x0000ffff;
    cpu->regs[R_EDX] = 0;
    cpu->regs[R_ECX] = 36;
    struct insn in = th_insn(OP_SHLD, th_reg(R_EAX, 4), th_reg(R_EDX, 4));
    in.src2 = th_reg(R_ECX, 1);
    th_exec(cpu, &in);
    cr_assert_eq(cpu->regs[R_EAX], 0x000ffff0);
    free(cpu);
}

/* 16-bit counts 17..31: the portable model shifts dst:src:dst (the P6
 * behaviour the SDM leaves undefined). On x86-64 the host's result
 * applies instead (shift_host.shld_shrd_match_host). */
#if !GLASS_HOST_FLAGS
Test(shift, shld_shrd_16bit_beyond_16)
{
    struct cpu *cpu = th_cpu();
    /* SHLD 20: (src << 4) | (dst >> 12). */
    cr_assert_eq(dshift(cpu, OP_SHLD, 2, 0xa000, 0x1234, 20), 0x234a);
    cr_assert(flags_cf(cpu)); /* last bit out: bit 12 of src */
    cr_assert_eq(dshift(cpu, OP_SHLD, 2, 0xffff, 0xefff, 20), 0xffff);
    cr_assert(!flags_cf(cpu));
    /* SHRD 20: (src >> 4) | (dst << 12). */
    cr_assert_eq(dshift(cpu, OP_SHRD, 2, 0x000b, 0x1234, 20), 0xb123);
    cr_assert(!flags_cf(cpu)); /* bit 3 of src */
    cr_assert_eq(dshift(cpu, OP_SHRD, 2, 0x8001, 0xffff, 31), 0x0003);
    cr_assert(flags_cf(cpu)); /* bit 14 of src */
    free(cpu);
}
#endif

/* Which flags take the host's value: the SDM's undefined ones. */
Test(shift, undefined_flag_masks)
{
    cr_assert_eq(shift_undefined_flags(OP_ROL, 1, 8), 0);
    cr_assert_eq(shift_undefined_flags(OP_RCR, 2, 32), FL_OF);
    cr_assert_eq(shift_undefined_flags(OP_ROR, 8, 8), FL_OF); /* masked count, not mod 8 */
    cr_assert_eq(shift_undefined_flags(OP_SHL, 1, 32), FL_AF);
    cr_assert_eq(shift_undefined_flags(OP_SHR, 7, 8), FL_AF | FL_OF);
    cr_assert_eq(shift_undefined_flags(OP_SHR, 8, 8), FL_AF | FL_OF | FL_CF);
    cr_assert_eq(shift_undefined_flags(OP_SAL, 16, 16), FL_AF | FL_OF | FL_CF);
    cr_assert_eq(shift_undefined_flags(OP_SHL, 31, 32), FL_AF | FL_OF);
    cr_assert_eq(shift_undefined_flags(OP_SAR, 31, 8), FL_AF | FL_OF); /* CF: the sign */
    cr_assert_eq(flags_merge(FL_CF | FL_ZF, FL_AF | FL_OF | FL_SF, FL_AF | FL_ZF),
                 FL_CF | FL_AF);
}

Test(shift, every_op_has_a_handler)
{
    static const enum op ops[] = { OP_ROL, OP_ROR, OP_RCL, OP_RCR, OP_SHL,
                                   OP_SHR, OP_SAL, OP_SAR, OP_SHLD, OP_SHRD };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        cr_assert_not_null(th_handler(ops[i]));
}

/* ------------------------------------------------------------ host CPU */

#if defined(__x86_64__)

/* The host's shift of `a` by CL = c with flags `*f` set first. */
#define HOST_SHIFT(name, insn, type, mod)                                                  \
    static uint32_t name(uint32_t a, uint32_t c, uint32_t *f)                              \
    {                                                                                      \
        type x = (type)a;                                                                  \
        uint8_t cl = (uint8_t)c;                                                           \
        uint64_t fl = *f;                                                                  \
        __asm__ volatile(TH_ASM_LOAD_FLAGS insn " %%cl, %" mod "[x]"                       \
                         TH_ASM_SAVE_FLAGS                                                 \
                         : [x] "+q"(x), [fl] "+r"(fl)                                      \
                         : "c"(cl)                                                         \
                         : "cc", "memory");                                                \
        *f = (uint32_t)fl & FL_ARITH;                                                      \
        return x;                                                                          \
    }

HOST_SHIFT(host_rol8, "rolb", uint8_t, "b")
HOST_SHIFT(host_rol16, "rolw", uint16_t, "w")
HOST_SHIFT(host_rol32, "roll", uint32_t, "k")
HOST_SHIFT(host_ror8, "rorb", uint8_t, "b")
HOST_SHIFT(host_ror16, "rorw", uint16_t, "w")
HOST_SHIFT(host_ror32, "rorl", uint32_t, "k")
HOST_SHIFT(host_rcl8, "rclb", uint8_t, "b")
HOST_SHIFT(host_rcl16, "rclw", uint16_t, "w")
HOST_SHIFT(host_rcl32, "rcll", uint32_t, "k")
HOST_SHIFT(host_rcr8, "rcrb", uint8_t, "b")
HOST_SHIFT(host_rcr16, "rcrw", uint16_t, "w")
HOST_SHIFT(host_rcr32, "rcrl", uint32_t, "k")
HOST_SHIFT(host_shl8, "shlb", uint8_t, "b")
HOST_SHIFT(host_shl16, "shlw", uint16_t, "w")
HOST_SHIFT(host_shl32, "shll", uint32_t, "k")
HOST_SHIFT(host_shr8, "shrb", uint8_t, "b")
HOST_SHIFT(host_shr16, "shrw", uint16_t, "w")
HOST_SHIFT(host_shr32, "shrl", uint32_t, "k")
HOST_SHIFT(host_sar8, "sarb", uint8_t, "b")
HOST_SHIFT(host_sar16, "sarw", uint16_t, "w")
HOST_SHIFT(host_sar32, "sarl", uint32_t, "k")

typedef uint32_t (*host_shift)(uint32_t, uint32_t, uint32_t *);

/* Group-2 order: ROL ROR RCL RCR SHL SHR (SAL = SHL, skipped) SAR. */
static const enum op shift_ops[7] = { OP_ROL, OP_ROR, OP_RCL, OP_RCR, OP_SHL, OP_SHR, OP_SAR };
static const host_shift host_shifts[7][3] = {
    { host_rol8, host_rol16, host_rol32 }, { host_ror8, host_ror16, host_ror32 },
    { host_rcl8, host_rcl16, host_rcl32 }, { host_rcr8, host_rcr16, host_rcr32 },
    { host_shl8, host_shl16, host_shl32 }, { host_shr8, host_shr16, host_shr32 },
    { host_sar8, host_sar16, host_sar32 },
};

/* The flags the SDM defines after `op` by masked count c (non-zero). */
static uint32_t shift_defined(enum op op, unsigned bits, unsigned c)
{
    uint32_t of = c == 1 ? FL_OF : 0;
    switch (op) {
    case OP_ROL: case OP_ROR: case OP_RCL: case OP_RCR:
        return FL_CF | of;
    case OP_SAR:
        return FL_CF | FL_SF | FL_ZF | FL_PF | of;
    default:
        return (c < bits ? FL_CF : 0) | FL_SF | FL_ZF | FL_PF | of;
    }
}

Test(shift_host, group2_matches_host)
{
    static const unsigned fixed_counts[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 255 };
    struct cpu *cpu = th_cpu();
    uint64_t seed = 777;
    for (int i = 0; i < 30000; i++) {
        th_host_flags_alternate(i);
        unsigned wi = i % 3, w = 1u << wi, bits = w * 8, k = (i / 3) % 7;
        unsigned c = (i / 21) % 2 ? fixed_counts[th_rand(&seed) % 13] : th_rand(&seed) & 0x3f;
        uint32_t a = th_rand_edge(&seed, w), f0 = th_rand(&seed) & FL_ARITH, hf = f0;
        uint32_t want = host_shifts[k][wi](a, c, &hf);
        th_set_flags(cpu, f0);
        uint32_t got = shift_cl(cpu, shift_ops[k], w, a, c);
        cr_assert_eq(got, want, "op %d w %u a %x c %u", shift_ops[k], w, a, c);
        uint32_t def = (c & 31) ? shift_defined(shift_ops[k], bits, c & 31) : FL_ARITH;
        cr_assert_eq(flags_arith(cpu) & def, hf & def,
                     "op %d w %u a %x c %u f0 %x: got %x host %x", shift_ops[k], w, a, c, f0,
                     flags_arith(cpu), hf);
        /* Undefined ones too: the host's (GLASS_HOST_FLAGS on x86-64). */
        cr_assert_eq(flags_arith(cpu), hf,
                     "op %d w %u a %x c %u f0 %x: got %x host %x", shift_ops[k], w, a, c, f0,
                     flags_arith(cpu), hf);
    }
    free(cpu);
}

#define HOST_DSHIFT(name, insn, type, mod)                                                 \
    static uint32_t name(uint32_t a, uint32_t b, uint32_t c, uint32_t *f)                  \
    {                                                                                      \
        type x = (type)a, y = (type)b;                                                     \
        uint8_t cl = (uint8_t)c;                                                           \
        uint64_t fl = *f;                                                                  \
        __asm__ volatile(TH_ASM_LOAD_FLAGS insn " %%cl, %" mod "[y], %" mod                \
                         "[x]"                                                             \
                         TH_ASM_SAVE_FLAGS                                                 \
                         : [x] "+r"(x), [fl] "+r"(fl)                                      \
                         : [y] "r"(y), "c"(cl)                                             \
                         : "cc", "memory");                                                \
        *f = (uint32_t)fl & FL_ARITH;                                                      \
        return x;                                                                          \
    }

HOST_DSHIFT(host_shld16, "shldw", uint16_t, "w")
HOST_DSHIFT(host_shld32, "shldl", uint32_t, "k")
HOST_DSHIFT(host_shrd16, "shrdw", uint16_t, "w")
HOST_DSHIFT(host_shrd32, "shrdl", uint32_t, "k")

Test(shift_host, shld_shrd_match_host)
{
    struct cpu *cpu = th_cpu();
    uint64_t seed = 31337;
    for (int i = 0; i < 16000; i++) {
        th_host_flags_alternate(i);
        unsigned w = (i & 1) ? 4 : 2;
        bool left = (i >> 1) & 1;
        unsigned c = th_rand(&seed) % 33; /* words by 17..31 too */
        uint32_t a = th_rand_edge(&seed, w), b = th_rand_edge(&seed, w);
        uint32_t f0 = th_rand(&seed) & FL_ARITH, hf = f0;
        uint32_t want = left ? (w == 2 ? host_shld16 : host_shld32)(a, b, c, &hf)
                             : (w == 2 ? host_shrd16 : host_shrd32)(a, b, c, &hf);
        th_set_flags(cpu, f0);
        uint32_t got = dshift(cpu, left ? OP_SHLD : OP_SHRD, w, a, b, c);
        if (c == 32)
            c = 0;
        cr_assert_eq(got, want, "%s w %u a %x b %x c %u", left ? "shld" : "shrd", w, a, b, c);
        uint32_t def = c == 0 ? FL_ARITH
                              : FL_CF | FL_SF | FL_ZF | FL_PF | (c == 1 ? FL_OF : 0);
        if (w == 2 && c > 16)
            def = 0; /* result and every flag undefined: compared below */
        cr_assert_eq(flags_arith(cpu) & def, hf & def, "%s w %u a %x b %x c %u: got %x host %x",
                     left ? "shld" : "shrd", w, a, b, c, flags_arith(cpu), hf);
        cr_assert_eq(flags_arith(cpu), hf, "%s w %u a %x b %x c %u: got %x host %x (all)",
                     left ? "shld" : "shrd", w, a, b, c, flags_arith(cpu), hf);
    }
    free(cpu);
}

#endif
