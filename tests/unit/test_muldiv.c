/*
 * test_muldiv.c — cpu/muldiv.c: MUL, IMUL (1, 2, 3 operands), DIV, IDIV at
 * every width; #DE on zero divisors and quotient overflow with nothing
 * written; MUL/IMUL results and CF/OF against the host CPU, and on
 * x86-64 every flag of MUL/IMUL/DIV/IDIV, the undefined ones included
 * (cpu/host_flags.c).
 */
#include <criterion/criterion.h>

#include "tests/unit/arith_harness.h"

/* MUL/IMUL1/DIV/IDIV with the r/m operand in EBX (BL/BX/EBX). */
static int acc_op(struct cpu *cpu, enum op op, unsigned w, uint32_t eax, uint32_t edx,
                  uint32_t src)
{
    cpu->regs[R_EAX] = eax;
    cpu->regs[R_EDX] = edx;
    cpu->regs[R_EBX] = src;
    struct insn in = th_insn(op, th_reg(R_EBX, w), th_none());
    return th_exec(cpu, &in);
}

Test(muldiv, mul_widths)
{
    struct cpu *cpu = th_cpu();
    acc_op(cpu, OP_MUL, 1, 0xaaaa00ff, 0x5555, 0xff);
    cr_assert_eq(cpu->regs[R_EAX], 0xaaaafe01); /* AX = 255 * 255 */
    cr_assert_eq(cpu->regs[R_EDX], 0x5555);     /* DX untouched for bytes */
    cr_assert_eq(flags_arith(cpu) & (FL_CF | FL_OF), FL_CF | FL_OF);
    acc_op(cpu, OP_MUL, 1, 0x0010, 0, 0x0f);
    cr_assert_eq(cpu->regs[R_EAX], 0x00f0);
    cr_assert_eq(flags_arith(cpu) & (FL_CF | FL_OF), 0);
    acc_op(cpu, OP_MUL, 2, 0x1234ffff, 0xabcd0000, 0xffff);
    cr_assert_eq(cpu->regs[R_EAX], 0x12340001);
    cr_assert_eq(cpu->regs[R_EDX], 0xabcdfffe);
    cr_assert(flags_cf(cpu));
    acc_op(cpu, OP_MUL, 4, 0xffffffffu, 0, 0xffffffffu);
    cr_assert_eq(cpu->regs[R_EAX], 1);
    cr_assert_eq(cpu->regs[R_EDX], 0xfffffffeu);
    cr_assert_eq(flags_arith(cpu) & (FL_CF | FL_OF), FL_CF | FL_OF);
    acc_op(cpu, OP_MUL, 4, 0x10000, 0x1234, 0xffff);
    cr_assert_eq(cpu->regs[R_EDX], 0);
    cr_assert(!flags_cf(cpu));
    free(cpu);
}

Test(muldiv, imul1_sign)
{
    struct cpu *cpu = th_cpu();
    acc_op(cpu, OP_IMUL1, 1, 0xff, 0, 0xff); /* -1 * -1 */
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 1);
    cr_assert(!flags_cf(cpu));
    acc_op(cpu, OP_IMUL1, 1, 0x80, 0, 0xff); /* -128 * -1 = 128: does not fit */
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 0x0080);
    cr_assert_eq(flags_arith(cpu) & (FL_CF | FL_OF), FL_CF | FL_OF);
    acc_op(cpu, OP_IMUL1, 2, 0xffff, 0, 0x0002); /* -2 fits */
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 0xfffe);
    cr_assert_eq(cpu->regs[R_EDX] & 0xffff, 0xffff);
    cr_assert(!flags_cf(cpu));
    acc_op(cpu, OP_IMUL1, 4, 0x80000000u, 0, 0x80000000u);
    cr_assert_eq(cpu->regs[R_EAX], 0);
    cr_assert_eq(cpu->regs[R_EDX], 0x40000000u);
    cr_assert(flags_cf(cpu));
    free(cpu);
}

Test(muldiv, imul2_and_imul3)
{
    struct cpu *cpu = th_cpu();
    /* IMUL ECX, EBX: dst *= src */
    cpu->regs[R_ECX] = 0x10000;
    cpu->regs[R_EBX] = 0x10000;
    struct insn in = th_insn(OP_IMUL2, th_reg(R_ECX, 4), th_reg(R_EBX, 4));
    th_exec(cpu, &in);
    cr_assert_eq(cpu->regs[R_ECX], 0);
    cr_assert_eq(flags_arith(cpu) & (FL_CF | FL_OF), FL_CF | FL_OF);
    /* IMUL CX, BX, imm8 (sign-extended -3) */
    cpu->regs[R_ECX] = 0xdead0000;
    cpu->regs[R_EBX] = 0x0005;
    in = th_insn(OP_IMUL2, th_reg(R_ECX, 2), th_reg(R_EBX, 2));
    in.src2 = th_imm(1);
    in.imm = 0xfffffffdu;
    th_exec(cpu, &in);
    cr_assert_eq(cpu->regs[R_ECX], 0xdeadfff1);
    cr_assert(!flags_cf(cpu));
    cpu->regs[R_EBX] = 0x4000;
    in.imm = 2;
    th_exec(cpu, &in);
    cr_assert_eq(cpu->regs[R_ECX] & 0xffff, 0x8000);
    cr_assert_eq(flags_arith(cpu) & (FL_CF | FL_OF), FL_CF | FL_OF);
    free(cpu);
}

/* The portable choice; on x86-64 the host's flags apply (muldiv_host). */
#if !GLASS_HOST_FLAGS
Test(muldiv, mul_keeps_undefined_flags)
{
    struct cpu *cpu = th_cpu();
    th_set_flags(cpu, FL_ZF | FL_AF);
    acc_op(cpu, OP_MUL, 1, 2, 0, 3);
    cr_assert_eq(flags_arith(cpu), FL_ZF | FL_AF);
    free(cpu);
}
#endif

Test(muldiv, div_results)
{
    struct cpu *cpu = th_cpu();
    cr_assert_eq(acc_op(cpu, OP_DIV, 1, 0x12340064, 0x77, 7), -1); /* 100 / 7 */
    cr_assert_eq(cpu->regs[R_EAX], 0x1234020e);                    /* AH=2, AL=14 */
    cr_assert_eq(cpu->regs[R_EDX], 0x77);
    cr_assert_eq(acc_op(cpu, OP_DIV, 2, 0xaaaa0000, 0xbbbb0001, 0x0002), -1); /* 0x10000/2 */
    cr_assert_eq(cpu->regs[R_EAX], 0xaaaa8000);
    cr_assert_eq(cpu->regs[R_EDX], 0xbbbb0000);
    cr_assert_eq(acc_op(cpu, OP_DIV, 4, 0xffffffffu, 0xfffffffeu, 0xffffffffu), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0xffffffffu);
    cr_assert_eq(cpu->regs[R_EDX], 0xfffffffeu);
    free(cpu);
}

Test(muldiv, div_faults_write_nothing)
{
    struct cpu *cpu = th_cpu();
    th_set_flags(cpu, FL_CF);
    cr_assert_eq(acc_op(cpu, OP_DIV, 1, 0x1234, 0x55, 0), EXC_DE);
    cr_assert_eq(cpu->regs[R_EAX], 0x1234);
    cr_assert_eq(acc_op(cpu, OP_DIV, 1, 0x0100, 0, 1), EXC_DE); /* quotient 256 */
    cr_assert_eq(cpu->regs[R_EAX], 0x0100);
    cr_assert_eq(acc_op(cpu, OP_DIV, 1, 0xfffe, 0, 0xff), EXC_DE); /* quotient 257 */
    cr_assert_eq(acc_op(cpu, OP_DIV, 2, 0, 0x0002, 2), EXC_DE);
    cr_assert_eq(acc_op(cpu, OP_DIV, 4, 0, 1, 1), EXC_DE);
    cr_assert_eq(cpu->regs[R_EAX], 0);
    cr_assert_eq(cpu->regs[R_EDX], 1);
    cr_assert_eq(acc_op(cpu, OP_DIV, 4, 5, 0, 0), EXC_DE);
    cr_assert_eq(cpu_get_eflags(cpu) & FL_ARITH, FL_CF);
    free(cpu);
}

Test(muldiv, idiv_results_truncate_toward_zero)
{
    struct cpu *cpu = th_cpu();
    cr_assert_eq(acc_op(cpu, OP_IDIV, 1, 0xfff9, 0, 2), -1); /* -7 / 2 */
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 0xfffd);         /* AH=-1, AL=-3 */
    cr_assert_eq(acc_op(cpu, OP_IDIV, 2, 0x0007, 0, 0xfffe), -1); /* 7 / -2 */
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 0xfffd);
    cr_assert_eq(cpu->regs[R_EDX] & 0xffff, 1);
    cr_assert_eq(acc_op(cpu, OP_IDIV, 4, 3, 0xffffffffu, 0xfffffffcu), -1); /* (3-2^32) / -4 */
    cr_assert_eq(cpu->regs[R_EAX], 0x3fffffffu);
    cr_assert_eq(cpu->regs[R_EDX], 0xffffffffu); /* remainder -1: the dividend's sign */
    cr_assert_eq(acc_op(cpu, OP_IDIV, 4, 0, 0xc0000000u, 0x80000000u), EXC_DE); /* 2^31 */
    free(cpu);
}

Test(muldiv, idiv_faults)
{
    struct cpu *cpu = th_cpu();
    cr_assert_eq(acc_op(cpu, OP_IDIV, 1, 0x8000, 0, 0xff), EXC_DE); /* -32768/-1 */
    cr_assert_eq(acc_op(cpu, OP_IDIV, 1, 0x0080, 0, 0x01), EXC_DE); /* 128 */
    cr_assert_eq(acc_op(cpu, OP_IDIV, 1, 0xff80, 0, 0x01), -1);     /* -128 fits */
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 0x0080);
    cr_assert_eq(acc_op(cpu, OP_IDIV, 1, 0xff7f, 0, 0x01), EXC_DE); /* -129 */
    cr_assert_eq(acc_op(cpu, OP_IDIV, 2, 0x8000, 0, 0xffff), -1); /* 32768 / -1 fits */
    cr_assert_eq(cpu->regs[R_EAX] & 0xffff, 0x8000);
    cr_assert_eq(acc_op(cpu, OP_IDIV, 2, 0x8000, 0, 0x0001), EXC_DE); /* 32768 */
    cr_assert_eq(acc_op(cpu, OP_IDIV, 2, 0, 0x8000, 0xffff), EXC_DE); /* INT32_MIN / -1 */
    /* INT64_MIN / -1: the case C itself cannot divide. */
    cr_assert_eq(acc_op(cpu, OP_IDIV, 4, 0, 0x80000000u, 0xffffffffu), EXC_DE);
    cr_assert_eq(cpu->regs[R_EAX], 0);
    cr_assert_eq(cpu->regs[R_EDX], 0x80000000u);
    cr_assert_eq(acc_op(cpu, OP_IDIV, 4, 0x80000000u, 0xffffffffu, 0xffffffffu), EXC_DE);
    cr_assert_eq(acc_op(cpu, OP_IDIV, 4, 0x80000000u, 0xffffffffu, 1), -1);
    cr_assert_eq(cpu->regs[R_EAX], 0x80000000u);
    cr_assert_eq(acc_op(cpu, OP_IDIV, 4, 1, 0, 0), EXC_DE);
    free(cpu);
}

/* ------------------------------------------------------------ host CPU */

#if defined(__x86_64__)

/* MUL/IMUL r/m on the host: AL/AX/EAX and DL/DX/EDX in and out. */
#define HOST_MUL(name, insn, type, mod)                                                    \
    static void name(uint32_t *eax, uint32_t *edx, uint32_t src, uint32_t *f)              \
    {                                                                                      \
        uint64_t a = *eax, d = *edx, fl = *f;                                              \
        type s = (type)src;                                                                \
        __asm__ volatile(TH_ASM_LOAD_FLAGS insn " %" mod "[s]"                             \
                         TH_ASM_SAVE_FLAGS                                                 \
                         : "+a"(a), "+d"(d), [fl] "+r"(fl)                                 \
                         : [s] "b"(s)                                                      \
                         : "cc", "memory");                                                \
        *eax = (uint32_t)a;                                                                \
        *edx = (uint32_t)d;                                                                \
        *f = (uint32_t)fl & FL_ARITH;                                                      \
    }

HOST_MUL(host_mul8, "mulb", uint8_t, "b")
HOST_MUL(host_mul16, "mulw", uint16_t, "w")
HOST_MUL(host_mul32, "mull", uint32_t, "k")
HOST_MUL(host_imul8, "imulb", uint8_t, "b")
HOST_MUL(host_imul16, "imulw", uint16_t, "w")
HOST_MUL(host_imul32, "imull", uint32_t, "k")

typedef void (*host_mul)(uint32_t *, uint32_t *, uint32_t, uint32_t *);

Test(muldiv_host, mul_imul1_match_host)
{
    static const host_mul host[2][3] = {
        { host_mul8, host_mul16, host_mul32 },
        { host_imul8, host_imul16, host_imul32 },
    };
    struct cpu *cpu = th_cpu();
    uint64_t seed = 5150;
    for (int i = 0; i < 12000; i++) {
        th_host_flags_alternate(i);
        unsigned wi = i % 3, w = 1u << wi, k = (i / 3) % 2;
        uint32_t eax = th_rand(&seed), edx = th_rand(&seed);
        eax = (eax & ~width_mask(w)) | th_rand_edge(&seed, w);
        uint32_t src = th_rand_edge(&seed, w), f0 = th_rand(&seed) & FL_ARITH, hf = f0;
        uint32_t heax = eax, hedx = edx;
        host[k][wi](&heax, &hedx, src, &hf);
        th_set_flags(cpu, f0);
        acc_op(cpu, k ? OP_IMUL1 : OP_MUL, w, eax, edx, src);
        cr_assert_eq(cpu->regs[R_EAX], heax, "k %u w %u eax %x src %x", k, w, eax, src);
        cr_assert_eq(cpu->regs[R_EDX], hedx, "k %u w %u eax %x src %x", k, w, eax, src);
        cr_assert_eq(flags_arith(cpu) & (FL_CF | FL_OF), hf & (FL_CF | FL_OF));
        cr_assert_eq(flags_arith(cpu), hf, "k %u w %u eax %x src %x f0 %x", k, w, eax, src, f0);
    }
    free(cpu);
}

#define HOST_IMUL2(name, type, mod)                                                        \
    static uint32_t name(uint32_t a, uint32_t b, uint32_t *f)                              \
    {                                                                                      \
        type x = (type)a, y = (type)b;                                                     \
        uint64_t fl = *f;                                                                  \
        __asm__ volatile(TH_ASM_LOAD_FLAGS                                                 \
                         "imul %" mod "[y], %" mod "[x]"                                   \
                         TH_ASM_SAVE_FLAGS                                                 \
                         : [x] "+r"(x), [fl] "+r"(fl)                                      \
                         : [y] "r"(y)                                                      \
                         : "cc", "memory");                                                \
        *f = (uint32_t)fl & FL_ARITH;                                                      \
        return x;                                                                          \
    }

HOST_IMUL2(host_imul2_16, uint16_t, "w")
HOST_IMUL2(host_imul2_32, uint32_t, "k")

Test(muldiv_host, imul2_matches_host)
{
    struct cpu *cpu = th_cpu();
    uint64_t seed = 8086;
    for (int i = 0; i < 8000; i++) {
        th_host_flags_alternate(i);
        unsigned w = (i & 1) ? 4 : 2;
        uint32_t a = th_rand_edge(&seed, w), b = th_rand_edge(&seed, w);
        uint32_t f0 = th_rand(&seed) & FL_ARITH, hf = f0;
        uint32_t want = (w == 2 ? host_imul2_16 : host_imul2_32)(a, b, &hf);
        th_set_flags(cpu, f0);
        cpu->regs[R_ESI] = a;
        cpu->regs[R_EDI] = b;
        struct insn in = th_insn(OP_IMUL2, th_reg(R_ESI, w), th_reg(R_EDI, w));
        th_exec(cpu, &in);
        cr_assert_eq(cpu->regs[R_ESI] & width_mask(w), want, "w %u a %x b %x", w, a, b);
        cr_assert_eq(flags_arith(cpu) & (FL_CF | FL_OF), hf & (FL_CF | FL_OF));
        cr_assert_eq(flags_arith(cpu), hf, "w %u a %x b %x f0 %x", w, a, b, f0);
    }
    free(cpu);
}

/* DIV/IDIV r/m on the host, only for operands that cannot fault. */
HOST_MUL(host_div8, "divb", uint8_t, "b")
HOST_MUL(host_div16, "divw", uint16_t, "w")
HOST_MUL(host_div32, "divl", uint32_t, "k")
HOST_MUL(host_idiv8, "idivb", uint8_t, "b")
HOST_MUL(host_idiv16, "idivw", uint16_t, "w")
HOST_MUL(host_idiv32, "idivl", uint32_t, "k")

Test(muldiv_host, div_idiv_match_host)
{
    static const host_mul host[2][3] = {
        { host_div8, host_div16, host_div32 },
        { host_idiv8, host_idiv16, host_idiv32 },
    };
    struct cpu *cpu = th_cpu();
    uint64_t seed = 4004;
    unsigned compared = 0;
    for (int i = 0; i < 20000; i++) {
        th_host_flags_alternate(i);
        unsigned wi = i % 3, w = 1u << wi, k = (i / 3) % 2;
        uint32_t eax = th_rand(&seed), edx = th_rand(&seed);
        if (th_rand(&seed) & 1) /* a small high half: mostly no #DE */
            edx = th_rand(&seed) & 0xff;
        uint32_t src = th_rand_edge(&seed, w), f0 = th_rand(&seed) & FL_ARITH, hf = f0;
        th_set_flags(cpu, f0);
        if (acc_op(cpu, k ? OP_IDIV : OP_DIV, w, eax, edx, src) >= 0)
            continue; /* #DE: Glass's handler decides, the host never runs it */
        uint32_t heax = eax, hedx = edx;
        host[k][wi](&heax, &hedx, src, &hf);
        cr_assert_eq(cpu->regs[R_EAX], heax, "k %u w %u edx:eax %x:%x src %x", k, w, edx, eax, src);
        cr_assert_eq(cpu->regs[R_EDX], hedx, "k %u w %u edx:eax %x:%x src %x", k, w, edx, eax, src);
        cr_assert_eq(flags_arith(cpu), hf, "k %u w %u edx:eax %x:%x src %x f0 %x", k, w, edx, eax,
                     src, f0);
        compared++;
    }
    cr_assert_gt(compared, 5000);
    free(cpu);
}

/* A division that would raise #DE never reaches the host's divider: the
 * function declines (a host #DE would be Glass's own SIGFPE). */
Test(muldiv_host, host_flags_div_declines_faulting_operands)
{
    uint32_t f = FL_SF | FL_PF;
    cr_assert_eq(host_flags_div(OP_DIV, 4, 1, 0, f), f);                       /* zero divisor */
    cr_assert_eq(host_flags_div(OP_DIV, 4, 1ull << 32, 1, f), f);              /* quotient 2^32 */
    cr_assert_eq(host_flags_div(OP_DIV, 1, 0x100, 1, f), f);                   /* quotient 256 */
    cr_assert_eq(host_flags_div(OP_IDIV, 4, 1ull << 63, 0xffffffffu, f), f);   /* INT64_MIN / -1 */
    cr_assert_eq(host_flags_div(OP_IDIV, 4, 0xffffffff80000000ull, 0xffffffffu, f), f); /* 2^31 */
    cr_assert_eq(host_flags_div(OP_IDIV, 2, 0xffff8000u, 0xffff, f), f);       /* -2^15 / -1 */
    cr_assert_eq(host_flags_div(OP_IDIV, 1, 0x0080, 1, f), f);                 /* 128 / 1 */
    /* Their neighbours that fit run, and give the host's flags. */
    static const struct {
        enum op op;
        unsigned w;
        uint32_t eax, edx, src;
    } fit[] = {
        { OP_IDIV, 1, 0xff80, 0, 1 },                 /* -128 / 1 */
        { OP_IDIV, 1, 0x007f, 0, 1 },                 /* 127 / 1 */
        { OP_IDIV, 2, 0x8000, 0xffff, 1 },            /* -2^15 / 1 */
        { OP_IDIV, 4, 0x80000000u, 0xffffffffu, 1 },  /* -2^31 / 1 */
        { OP_IDIV, 4, 0x80000000u, 0, 0xffffffffu },  /* 2^31 / -1 = -2^31 */
        { OP_DIV, 4, 0xffffffffu, 0xfffffffeu, 0xffffffffu }, /* 2^32 - 1 */
        { OP_DIV, 1, 0xfeff, 0, 0xff },               /* 255 */
    };
    for (size_t i = 0; i < sizeof(fit) / sizeof(fit[0]); i++) {
        for (uint32_t f0 = 0; f0 <= FL_ARITH; f0 += FL_ARITH) {
            uint32_t eax = fit[i].eax, edx = fit[i].edx, hf = f0;
            unsigned wi = fit[i].w == 1 ? 0 : fit[i].w == 2 ? 1 : 2;
            static const host_mul hosts[2][3] = {
                { host_div8, host_div16, host_div32 },
                { host_idiv8, host_idiv16, host_idiv32 },
            };
            host_mul h = hosts[fit[i].op == OP_IDIV][wi];
            h(&eax, &edx, fit[i].src, &hf);
            uint64_t n = fit[i].w == 1 ? fit[i].eax & 0xffff
                                       : ((uint64_t)fit[i].edx << (8 * fit[i].w)) | fit[i].eax;
            cr_assert_eq(host_flags_div(fit[i].op, fit[i].w, n, fit[i].src, f0), hf, "case %zu", i);
        }
    }
    cr_assert_eq(host_flags_div(OP_DIV, 1, 0xffff, 0xff, f), f); /* 0xffff / 0xff = 257 */
}

#endif
