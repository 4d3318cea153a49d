/*
 * cpu/host_flags.c — the flags (and the one result) that the SDM leaves
 * undefined, taken from the host CPU when Glass runs on an x86-64 host.
 *
 * Why: the JIT (translate/jit/) runs the guest's shifts, multiplies and
 * bit instructions as the host's own, so its undefined flags are whatever
 * the host's silicon produces, and AMD and Intel parts differ (SDM Vol. 1
 * 3.4.3.1 only says software must not rely on them). For the interpreter
 * and the JIT to agree bit for bit on every x86-64 host, the interpreter
 * asks the host the same question: each function here loads the guest's
 * six arithmetic flags into the host's EFLAGS, runs the same instruction
 * at the same operand size on the same operands, and returns the host's
 * six flags afterwards. The handlers in cpu/shift.c, cpu/muldiv.c and
 * cpu/bitops.c keep every defined flag and result from their own C code
 * (the difftest checks those against the host independently) and take
 * only the undefined bits from here.
 *
 * Loading the guest's flags first matters: some hosts leave an undefined
 * flag unchanged (this AMD Zen keeps SF/ZF/AF/PF across MUL), and the JIT
 * then sees the guest's old value, so must we.
 *
 * Loading them: SAHF sets SF ZF AF PF CF from AH and an ADD of a byte
 * to itself sets OF (0x80 + 0x80 overflows, 0 + 0 does not) without
 * touching anything else in EFLAGS; on this machine (AMD EPYC, Zen) a
 * call that loads the flags so and runs a shift takes ~3.5 ns, against
 * ~16 ns with POPFQ, and a guest shift, multiply or divide makes one
 * such call (under the JIT too where it falls back to a handler: every
 * DIV, IDIV). Hosts whose
 * CPUID 8000_0001H:ECX bit 0 says LAHF/SAHF are not available in 64-bit
 * mode (the first x86-64 parts) use POPFQ instead, writing only the six
 * arithmetic bits (0x8D5): TF, DF and AC keep the host's values (POPFQ
 * would otherwise single-step, reverse string copies or fault on
 * alignment in Glass's own code), and IF/IOPL are not ours to change.
 * The host's flags are read back with PUSHFQ. The stack is used below
 * the 128-byte red zone of the SysV ABI so that PUSHFQ cannot clobber
 * locals the compiler keeps there.
 *
 * A count always goes through CL (the guest's imm8 forms included) and
 * IMUL r, r/m, imm runs as IMUL r, r/m: the difftest's --all-flags pass
 * runs every form on the host and would show a host whose undefined flags
 * depend on the encoding.
 *
 * On other hosts this file is empty and the handlers keep their portable
 * formulas (documented in each handler file).
 */
#include "cpu/internal.h"

#if GLASS_HOST_FLAGS

#include <cpuid.h>

bool host_flags_sahf;

__attribute__((constructor)) static void host_flags_init(void)
{
    unsigned a, b, c, d;
    host_flags_sahf = __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & 1);
}

/*
 * One asm statement per instruction, so that nothing the compiler emits
 * can come between loading the flags and running it. Operands shared by
 * both ways of loading:
 *   [o]  in: the OF byte (0x80 or 0) for the SAHF way, the six flags for
 *        the POPFQ way; out: the host's RFLAGS after the instruction
 *   [ah] the five SAHF flags shifted into bits 8-15 (SAHF way only)
 * RAX is scratch while loading: the instruction's own operands are moved
 * into RAX inside the statement (MOV leaves the flags alone), and every
 * other statement lists RAX as clobbered.
 */
#define HF_LOAD_SAHF                                                                        \
    "addb %b[o], %b[o]\n\t"                                                                 \
    "movl %k[ah], %%eax\n\t"                                                                \
    "sahf\n\t"
#define HF_LOAD_POPF                                                                        \
    "lea -128(%%rsp), %%rsp\n\t"                                                           \
    "pushfq\n\t"                                                                           \
    "andq $-0x8d6, (%%rsp)\n\t" /* ~0x8D5: clear CF PF AF ZF SF OF */                      \
    "orq %q[o], (%%rsp)\n\t"                                                                \
    "popfq\n\t"                                                                            \
    "lea 128(%%rsp), %%rsp\n\t"
#define HF_SAVE                                                                             \
    "\n\tlea -128(%%rsp), %%rsp\n\t"                                                       \
    "pushfq\n\t"                                                                           \
    "popq %q[o]\n\t"                                                                        \
    "lea 128(%%rsp), %%rsp"

#define HF_LIST(...) __VA_ARGS__

/* Runs `body` with the flags `f` loaded and leaves the host's in `f`.
 * OUTS and INS are parenthesized operand lists, each entry preceded by a
 * comma; `...` are extra clobbers, each preceded by a comma. */
#define HF_RUN(f, body, OUTS, INS, ...)                                                      \
    do {                                                                                   \
        uint64_t o_ = host_flags_sahf ? ((f) & FL_OF ? 0x80 : 0) : (f);                      \
        uint32_t ah_ = ((uint32_t)(f) & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)) << 8;      \
        if (host_flags_sahf)                                                               \
            __asm__(HF_LOAD_SAHF body HF_SAVE                                              \
                    : [o] "+r"(o_) HF_LIST OUTS                                            \
                    : [ah] "r"(ah_) HF_LIST INS                                            \
                    : "cc" __VA_ARGS__);                                                   \
        else                                                                               \
            __asm__(HF_LOAD_POPF body HF_SAVE                                              \
                    : [o] "+r"(o_) HF_LIST OUTS                                            \
                    : [ah] "r"(ah_) HF_LIST INS                                            \
                    : "cc" __VA_ARGS__);                                                   \
        (f) = o_;                                                                          \
    } while (0)

/* One instruction with operands `v` (read-write) and `s` (read) and the
 * count in CL; the operand types choose the operand size. */
#define HF_RUN_VSC(insn, v, s, c, f) HF_RUN(f, insn, (, [v] "+r"(v)), (, [s] "r"(s), "c"(c)), , "rax")
#define HF_RUN_VC(insn, v, c, f) HF_RUN(f, insn, (, [v] "+r"(v)), (, "c"(c)), , "rax")
#define HF_RUN_VS(insn, v, s, f) HF_RUN(f, insn, (, [v] "+r"(v)), (, [s] "r"(s)), , "rax")

/* The mnemonic of a group-2 operation (SAL is SHL: SDM Vol. 2 SAL/SAR/
 * SHL/SHR, "SAL and SHL perform the same operation"). */
#define SHIFT_CASES(v, c, f)                                                                \
    switch (op) {                                                                          \
    case OP_ROL: HF_RUN_VC("rol %%cl, %[v]", v, c, f); break;                               \
    case OP_ROR: HF_RUN_VC("ror %%cl, %[v]", v, c, f); break;                               \
    case OP_RCL: HF_RUN_VC("rcl %%cl, %[v]", v, c, f); break;                               \
    case OP_RCR: HF_RUN_VC("rcr %%cl, %[v]", v, c, f); break;                               \
    case OP_SHR: HF_RUN_VC("shr %%cl, %[v]", v, c, f); break;                               \
    case OP_SAR: HF_RUN_VC("sar %%cl, %[v]", v, c, f); break;                               \
    default: HF_RUN_VC("shl %%cl, %[v]", v, c, f); break;                                   \
    }

uint32_t host_flags_shift(enum op op, unsigned width, uint32_t dst, unsigned count,
                          uint32_t flags_in)
{
    uint64_t f = flags_in & FL_ARITH;
    uint8_t c = (uint8_t)count;
    if (width == 1) {
        uint8_t v = (uint8_t)dst;
        SHIFT_CASES(v, c, f);
    } else if (width == 2) {
        uint16_t v = (uint16_t)dst;
        SHIFT_CASES(v, c, f);
    } else {
        uint32_t v = dst;
        SHIFT_CASES(v, c, f);
    }
    return (uint32_t)f & FL_ARITH;
}

uint32_t host_flags_shiftd(enum op op, unsigned width, uint32_t *dst, uint32_t src,
                           unsigned count, uint32_t flags_in)
{
    uint64_t f = flags_in & FL_ARITH;
    uint8_t c = (uint8_t)count;
    bool right = op == OP_SHRD;
    if (width == 2) {
        uint16_t v = (uint16_t)*dst, s = (uint16_t)src;
        if (right)
            HF_RUN_VSC("shrd %%cl, %[s], %[v]", v, s, c, f);
        else
            HF_RUN_VSC("shld %%cl, %[s], %[v]", v, s, c, f);
        *dst = v;
    } else {
        uint32_t v = *dst, s = src;
        if (right)
            HF_RUN_VSC("shrd %%cl, %[s], %[v]", v, s, c, f);
        else
            HF_RUN_VSC("shld %%cl, %[s], %[v]", v, s, c, f);
        *dst = v;
    }
    return (uint32_t)f & FL_ARITH;
}

/* The one-operand forms: the accumulator (AL, AX, EAX; zero-extended in
 * `a`, moved into EAX inside the statement) times `b`, the product in AX,
 * DX:AX or EDX:EAX. */
#define MUL1(insn, b_t)                                                                     \
    do {                                                                                   \
        uint32_t lo_in = a, lo, hi = 0;                                                    \
        b_t bb = (b_t)b;                                                                   \
        HF_RUN(f, "movl %k[lo_in], %%eax\n\t" insn, (, "=&a"(lo), "+d"(hi)),                \
               (, [lo_in] "r"(lo_in), [s] "r"(bb)));                                       \
        (void)lo, (void)hi;                                                                \
    } while (0)

uint32_t host_flags_mul(enum op op, unsigned width, uint32_t a, uint32_t b, uint32_t flags_in)
{
    uint64_t f = flags_in & FL_ARITH;
    if (op == OP_IMUL2) {
        /* IMUL r, r/m (and, run so, r, r/m, imm): no 8-bit form. */
        if (width == 2) {
            uint16_t v = (uint16_t)a, s = (uint16_t)b;
            HF_RUN_VS("imul %[s], %[v]", v, s, f);
        } else {
            uint32_t v = a, s = b;
            HF_RUN_VS("imul %[s], %[v]", v, s, f);
        }
    } else if (op == OP_MUL) {
        /* For bytes the product goes to AX only; DX is a bystander. */
        if (width == 1)
            MUL1("mul %[s]", uint8_t);
        else if (width == 2)
            MUL1("mul %[s]", uint16_t);
        else
            MUL1("mul %[s]", uint32_t);
    } else {
        if (width == 1)
            MUL1("imul %[s]", uint8_t);
        else if (width == 2)
            MUL1("imul %[s]", uint16_t);
        else
            MUL1("imul %[s]", uint32_t);
    }
    return (uint32_t)f & FL_ARITH;
}

/* Whether DIV/IDIV of `n` (2 * bits wide) by `d` (bits wide) raises #DE
 * (SDM Vol. 2 DIV/IDIV: a zero divisor or a quotient too wide for the
 * destination). The handlers check this first; it is checked again here,
 * without dividing, because a host #DE would kill Glass itself. */
static bool div_faults(bool is_signed, unsigned bits, uint64_t n, uint32_t d)
{
    uint64_t m = bits == 32 ? 0xffffffffu : (1u << bits) - 1;
    uint64_t dm = d & m;
    if (dm == 0)
        return true;
    if (!is_signed) /* quotient >= 2^bits <=> the high half >= d */
        return (n >> bits) >= dm;
    /* |quotient| (truncated) >= K <=> |n| >= K * |d|, with K = 2^(bits-1)
     * for a positive quotient and 2^(bits-1) + 1 for a negative one.
     * K * |d| <= (2^31 + 1) * 2^31 fits 64 bits; |INT64_MIN| is 2^63. */
    bool n_neg = bits == 32 ? (n >> 63) & 1 : (n >> (2 * bits - 1)) & 1;
    bool d_neg = (dm >> (bits - 1)) & 1;
    uint64_t n_full = bits == 32 ? n : n & ((1ull << (2 * bits)) - 1);
    uint64_t an = n_neg ? ((bits == 32 ? 0 : 1ull << (2 * bits)) - n_full) : n_full;
    uint64_t ad = d_neg ? (m + 1) - dm : dm;
    uint64_t k = (1ull << (bits - 1)) + (n_neg != d_neg);
    return an >= k * ad;
}

/* The dividend's low half (AX for bytes, zero-extended in `lo_v`) goes
 * to EAX inside the statement, the high half to EDX. */
#define DIV1(insn, d_t, lo_v, hi_v)                                                         \
    do {                                                                                   \
        uint32_t lo_in = (uint32_t)(lo_v), lo, hi = (uint32_t)(hi_v);                      \
        d_t dd = (d_t)d;                                                                   \
        HF_RUN(f, "movl %k[lo_in], %%eax\n\t" insn, (, "=&a"(lo), "+d"(hi)),                \
               (, [lo_in] "r"(lo_in), [s] "r"(dd)));                                       \
        (void)lo, (void)hi;                                                                \
    } while (0)

uint32_t host_flags_div(enum op op, unsigned width, uint64_t dividend, uint32_t divisor,
                        uint32_t flags_in)
{
    unsigned bits = width * 8;
    bool is_signed = op == OP_IDIV;
    if (div_faults(is_signed, bits, dividend, divisor))
        return flags_in & FL_ARITH; /* never reached from the handlers */
    uint64_t f = flags_in & FL_ARITH;
    uint32_t d = divisor;
    if (width == 1) {
        /* AX / r/m8: the dividend is all of AX; DX is a bystander. */
        if (is_signed)
            DIV1("idiv %[s]", uint8_t, dividend & 0xffff, 0);
        else
            DIV1("div %[s]", uint8_t, dividend & 0xffff, 0);
    } else if (width == 2) {
        if (is_signed)
            DIV1("idiv %[s]", uint16_t, dividend & 0xffff, (dividend >> 16) & 0xffff);
        else
            DIV1("div %[s]", uint16_t, dividend & 0xffff, (dividend >> 16) & 0xffff);
    } else {
        if (is_signed)
            DIV1("idiv %[s]", uint32_t, dividend, dividend >> 32);
        else
            DIV1("div %[s]", uint32_t, dividend, dividend >> 32);
    }
    return (uint32_t)f & FL_ARITH;
}

#define BT_CASES(v, s, f)                                                                   \
    switch (op) {                                                                          \
    case OP_BTS: HF_RUN_VS("bts %[s], %[v]", v, s, f); break;                               \
    case OP_BTR: HF_RUN_VS("btr %[s], %[v]", v, s, f); break;                               \
    case OP_BTC: HF_RUN_VS("btc %[s], %[v]", v, s, f); break;                               \
    default: HF_RUN_VS("bt %[s], %[v]", v, s, f); break;                                    \
    }

uint32_t host_flags_bt(enum op op, unsigned width, uint32_t val, unsigned bit,
                       uint32_t flags_in)
{
    uint64_t f = flags_in & FL_ARITH;
    if (width == 2) {
        uint16_t v = (uint16_t)val, s = (uint16_t)bit;
        BT_CASES(v, s, f);
    } else {
        uint32_t v = val, s = bit;
        BT_CASES(v, s, f);
    }
    return (uint32_t)f & FL_ARITH;
}

uint32_t host_flags_bsx(enum op op, unsigned width, uint32_t dst, uint32_t src,
                        uint32_t flags_in)
{
    uint64_t f = flags_in & FL_ARITH;
    bool rev = op == OP_BSR;
    /* The destination holds its old value: with a zero source it is the
     * "result" some hosts derive flags from. */
    if (width == 2) {
        uint16_t v = (uint16_t)dst, s = (uint16_t)src;
        if (rev)
            HF_RUN_VS("bsr %[s], %[v]", v, s, f);
        else
            HF_RUN_VS("bsf %[s], %[v]", v, s, f);
    } else {
        uint32_t v = dst, s = src;
        if (rev)
            HF_RUN_VS("bsr %[s], %[v]", v, s, f);
        else
            HF_RUN_VS("bsf %[s], %[v]", v, s, f);
    }
    return (uint32_t)f & FL_ARITH;
}

#endif
