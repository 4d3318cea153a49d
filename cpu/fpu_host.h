/*
 * cpu/fpu_host.h — the host's own x87 as the guest's arithmetic unit, on
 * x86-64 hosts (FPU_HOST). Private to cpu/fpu_arith.*: they decide when
 * its answer is the guest's answer and when cpu/fpu_soft.c must give it.
 *
 * Every primitive is one asm statement: load a control word with the
 * guest's rounding and precision control and all six exceptions masked
 * (so the host never traps), load the operands in the 80-bit format (FLD
 * m80 converts nothing: SDM Vol. 1 8.1.1), run the instruction, read the
 * status word (FNSTSW: the exception flags, and C1 = "rounded up", SDM
 * Vol. 1 8.1.3.1), store the result and load the host's own control word
 * again (the SysV x86-64 ABI makes it callee-saved; the host's long
 * double code, e.g. cpu/fpu_trans.c's libm calls, depends on it). The
 * host register stack is left empty, as the ABI requires between calls.
 *
 * Both control words are read from memory nothing writes any more: the
 * guest's from a constant table, the host's from a copy taken at start-up
 * (Glass never changes its own). An FLDCW of a word just stored (FNSTCW
 * then FLDCW, or a store of the computed word) was measured to stall for
 * most of the operation's time in some runs on an AMD EPYC host.
 *
 * The exception flags are sticky on the host as on the guest: a caller
 * that needs exactly the flags one operation raised clears them first
 * (host_clear_flags, FNCLEX, which is slow).
 */
#ifndef GLASS_CPU_FPU_HOST_H
#define GLASS_CPU_FPU_HOST_H

#include "cpu/cpu.h"

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#if defined(__x86_64__)
#define FPU_HOST 1
#else
#define FPU_HOST 0
#endif

/* Host control words: [guest CW bits 8-11] = that RC and PC (the
 * reserved PC 01 as 11, as cpu/fpu_soft.c takes it), every exception
 * masked; and the host's own, as the process started with it
 * (cpu/fpu_arith.c). */
extern const uint16_t host_cw_table[16];
extern uint16_t host_cw_default;

static inline unsigned host_cw_index(unsigned guest_cw)
{
    return (guest_cw >> 8) & 15;
}

/* What a primitive computes. Binary forms give a op b. */
enum host_op {
    HOP_ADD, HOP_MUL, HOP_SUB, HOP_DIV, /* ST = a op b */
    HOP_SQRT, HOP_RNDINT,               /* ST = op a */
    HOP_F32, HOP_F64,                   /* FST m32real / m64real of a */
    HOP_I16, HOP_I32, HOP_I64,          /* FIST m16int / m32int / m64int of a */
};

#if FPU_HOST

/*
 * An operand as FLD m80 reads it, written with one 16-byte store. The
 * guest registers are written as 8 + 2 bytes; an FLD m80 (microcoded)
 * of them while those stores are in flight was measured at ~120 ns on
 * an AMD EPYC host, ten times the whole operation, where a load that one
 * store covers takes its bytes from the store buffer.
 */
union host_m80 {
    __m128i x;
    struct f80 v;
};

static inline union host_m80 host_m80_of(const struct f80 *a)
{
    return (union host_m80){.x = _mm_set_epi64x(a->sign_exp, (long long)a->sig)};
}

/* Runs `op` with the host control word host_cw_table[cwi] and returns
 * the host status word after it. Register results go to *r,
 * memory images (zero-extended) to *m. `op` is a constant where this is
 * inlined, so only one asm statement remains. */
static inline unsigned host_x87(enum host_op op, unsigned cwi, const struct f80 *a,
                                const struct f80 *b, struct f80 *r, uint64_t *m)
{
    const uint16_t *hcw = &host_cw_table[cwi & 15];
    uint16_t sw;
    union host_m80 ma = host_m80_of(a), mb = op < HOP_SQRT ? host_m80_of(b) : ma;
    uint32_t u32;
    int16_t i16;
    int32_t i32;
    int64_t i64;

/* FNSTSW AX writes AX before the result is stored: "=&a", so that the
 * compiler does not address an operand through RAX (a sanitizer build
 * did). a op b: FLD a, FLD b, then the popping form that computes ST(1) op
 * ST(0) into ST(1) (SDM Vol. 2 Table A-20, DE row: C0+i FADDP, C8+i
 * FMULP, E8+i FSUBP ST(i) = ST(i) - ST(0), F8+i FDIVP ST(i) = ST(i) /
 * ST(0)). Spelled as bytes: AT&T mnemonics swap FSUBP/FSUBRP. */
#define HOST_BINARY(bytes)                                                                    \
    __asm__ volatile("fldcw %[cw]\n\tfldt %[a]\n\tfldt %[b]\n\t" bytes                        \
                     "\n\tfnstsw %%ax\n\tfstpt %[r]\n\tfldcw %[hc]"                           \
                     : [r] "=m"(*r), "=&a"(sw)                                                \
                     : [a] "m"(ma.v), [b] "m"(mb.v), [cw] "m"(*hcw), [hc] "m"(host_cw_default) \
                     : "st", "st(1)")
#define HOST_UNARY(insn)                                                                      \
    __asm__ volatile("fldcw %[cw]\n\tfldt %[a]\n\t" insn                                      \
                     "\n\tfnstsw %%ax\n\tfstpt %[r]\n\tfldcw %[hc]"                           \
                     : [r] "=m"(*r), "=&a"(sw)                                                \
                     : [a] "m"(ma.v), [cw] "m"(*hcw), [hc] "m"(host_cw_default)               \
                     : "st")
#define HOST_STORE(insn, out)                                                                 \
    __asm__ volatile("fldcw %[cw]\n\tfldt %[a]\n\t" insn                                      \
                     " %[o]\n\tfnstsw %%ax\n\tfldcw %[hc]"                                    \
                     : [o] "=m"(out), "=&a"(sw)                                               \
                     : [a] "m"(ma.v), [cw] "m"(*hcw), [hc] "m"(host_cw_default)               \
                     : "st")

    switch (op) {
    case HOP_ADD: HOST_BINARY(".byte 0xde, 0xc1"); break;
    case HOP_MUL: HOST_BINARY(".byte 0xde, 0xc9"); break;
    case HOP_SUB: HOST_BINARY(".byte 0xde, 0xe9"); break;
    case HOP_DIV: HOST_BINARY(".byte 0xde, 0xf9"); break;
    case HOP_SQRT: HOST_UNARY("fsqrt"); break;
    case HOP_RNDINT: HOST_UNARY("frndint"); break;
    case HOP_F32: HOST_STORE("fstps", u32); *m = u32; break;
    case HOP_F64: HOST_STORE("fstpl", *m); break;
    case HOP_I16: HOST_STORE("fistps", i16); *m = (uint16_t)i16; break;
    case HOP_I32: HOST_STORE("fistpl", i32); *m = (uint32_t)i32; break;
    default: HOST_STORE("fistpll", i64); *m = (uint64_t)i64; break;
    }
#undef HOST_BINARY
#undef HOST_UNARY
#undef HOST_STORE
    return sw;
}

/* FNCLEX: the host's exception flags cleared. */
static inline void host_clear_flags(void)
{
    __asm__ volatile("fnclex");
}

#endif /* FPU_HOST */
#endif
