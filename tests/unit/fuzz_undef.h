/*
 * fuzz_undef.h — what the JIT and the interpreter may compute differently
 * without either being wrong: flags the SDM leaves undefined, which the
 * JIT takes from the host CPU (translate/jit/gen_alu.c). Shared by the
 * fuzz tests that compare the two (test_fuzz_cpu.c, test_fuzz_jit.c).
 *
 * On x86-64 hosts the interpreter takes them from the host too
 * (cpu/host_flags.c, GLASS_HOST_FLAGS), and the engines agree bit for bit:
 * the fuzzers compare everything. Where it does not (its portable
 * formulas, as before `undef` was merged), these differed on the AMD
 * hosts CI runs on:
 *   - AF after a shift (SHL/SAL/SHR/SAR, SHLD/SHRD) by a non-zero count:
 *     the portable interpreter leaves it unchanged;
 *   - CF, OF, SF, AF, PF after BSF/BSR: it leaves them;
 *   - result and flags of a 16-bit SHLD/SHRD by 17-31: it shifts the
 *     48-bit string dst:src:dst, the host something else; and OF after a
 *     16-bit SHLD by 16 (OF is defined for counts of 1 only).
 * (Measured instruction by instruction: rotates, BT*, MUL/IMUL, the
 * logical operations' AF and the shifts' OF and CF agreed; the AMD host
 * leaves BT*'s and MUL/IMUL's undefined flags unchanged, as the portable
 * interpreter does.) The fuzzers take these into account only while
 * FUZZ_UNDEF_TOLERATE is on: by default where the interpreter does not
 * ask the host; GLASS_FUZZ_UNDEF=1 / =0 in the environment forces it.
 */
#ifndef GLASS_TESTS_FUZZ_UNDEF_H
#define GLASS_TESTS_FUZZ_UNDEF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "cpu/internal.h"

#ifndef FUZZ_UNDEF_TOLERATE
#define FUZZ_UNDEF_TOLERATE (!GLASS_HOST_FLAGS)
#endif

/* Not an EFLAGS bit: the instruction's result may differ as well. */
#define FUZZ_UNDEF_RESULT (1u << 31)

static inline bool fuzz_undef_tolerate(void)
{
    const char *s = getenv("GLASS_FUZZ_UNDEF");
    return s && *s ? strtoul(s, NULL, 0) != 0 : FUZZ_UNDEF_TOLERATE;
}

/* The flags (and FUZZ_UNDEF_RESULT) that `in`, about to run on `cpu`,
 * may leave differently under the two engines; 0 for most. */
static inline uint32_t fuzz_undef_effect(const struct insn *in, const struct cpu *cpu)
{
    unsigned count;
    switch ((enum op)in->op) {
    case OP_BSF: case OP_BSR:
        return FL_CF | FL_OF | FL_SF | FL_AF | FL_PF;
    case OP_SHL: case OP_SAL: case OP_SHR: case OP_SAR:
        count = in->src.kind == OPND_ONE ? 1
                : in->src.kind == OPND_IMM ? in->imm : cpu->regs[R_ECX];
        return (count & 0x1f) ? FL_AF : 0;
    case OP_SHLD: case OP_SHRD:
        count = (in->src2.kind == OPND_IMM ? in->imm : cpu->regs[R_ECX]) & 0x1f;
        if (count == 0)
            return 0;
        if (in->dst.width == 2 && count > 16)
            return FL_ARITH | FUZZ_UNDEF_RESULT;
        if (in->dst.width == 2 && count == 16 && in->op == OP_SHLD)
            return FL_AF | FL_OF;
        return FL_AF;
    default:
        return 0;
    }
}

/*
 * The arithmetic flags `in` (about to run on `cpu`) reads and writes
 * architecturally, for following which undefined flags are still around
 * and whether anything looks at them (a write with an undefined value
 * counts as a write: fuzz_undef_effect says which). Only the reads an
 * instruction makes itself: an exception's delivery, which pushes
 * EFLAGS, is the caller's to notice. Instructions not listed read and
 * write none.
 */
static inline void fuzz_flags_rw(const struct insn *in, const struct cpu *cpu, uint32_t *reads,
                                 uint32_t *writes)
{
    static const uint16_t cond[8] = {
        FL_OF, FL_CF, FL_ZF, FL_CF | FL_ZF, FL_SF, FL_PF, FL_SF | FL_OF, FL_SF | FL_OF | FL_ZF,
    };
    unsigned count;
    *reads = *writes = 0;
    switch ((enum op)in->op) {
    case OP_ADD: case OP_OR: case OP_AND: case OP_SUB: case OP_XOR: case OP_CMP: case OP_TEST:
    case OP_NEG: case OP_XADD: case OP_CMPXCHG: case OP_BSF: case OP_BSR: case OP_POPF:
    case OP_IRET:
        *writes = FL_ARITH;
        return;
    /* The flags the SDM leaves undefined below may keep their old value
     * (the interpreter's choice, and this host's for MUL/IMUL): whatever
     * they were, they still are. */
    case OP_MUL: case OP_IMUL1: case OP_IMUL2:
        *writes = FL_CF | FL_OF;
        return;
    case OP_DIV: case OP_IDIV:
        return;
    case OP_AAM: case OP_AAD:
        *writes = FL_SF | FL_ZF | FL_PF;
        return;
    case OP_ADC: case OP_SBB:
        *reads = FL_CF, *writes = FL_ARITH;
        return;
    case OP_INC: case OP_DEC:
        *writes = FL_ARITH & ~FL_CF;
        return;
    case OP_DAA: case OP_DAS:
        *reads = FL_CF | FL_AF, *writes = FL_ARITH & ~FL_OF;
        return;
    case OP_AAA: case OP_AAS:
        *reads = FL_AF, *writes = FL_CF | FL_AF;
        return;
    case OP_JCC: case OP_SETCC: case OP_CMOVCC:
        *reads = cond[(in->cond >> 1) & 7];
        return;
    case OP_LOOPE: case OP_LOOPNE:
        *reads = FL_ZF;
        return;
    case OP_INTO:
        *reads = FL_OF;
        return;
    case OP_PUSHF:
        *reads = FL_ARITH;
        return;
    case OP_LAHF:
        *reads = FL_ARITH & ~FL_OF;
        return;
    case OP_SAHF:
        *writes = FL_ARITH & ~FL_OF;
        return;
    case OP_SALC:
        *reads = FL_CF;
        return;
    case OP_CLC: case OP_STC:
        *writes = FL_CF;
        return;
    case OP_CMC:
        *reads = *writes = FL_CF;
        return;
    case OP_BT: case OP_BTS: case OP_BTR: case OP_BTC:
        *writes = FL_CF;
        return;
    case OP_CMPXCHG8B: case OP_LAR: case OP_LSL: case OP_VERR: case OP_VERW: case OP_ARPL:
        *writes = FL_ZF;
        return;
    case OP_ROL: case OP_ROR: case OP_RCL: case OP_RCR:
    case OP_SHL: case OP_SAL: case OP_SHR: case OP_SAR:
        count = (in->src.kind == OPND_ONE ? 1
                 : in->src.kind == OPND_IMM ? in->imm : cpu->regs[R_ECX]) & 0x1f;
        if (in->op == OP_RCL || in->op == OP_RCR)
            *reads = FL_CF;
        if (count)
            *writes = in->op <= OP_RCR ? FL_CF | FL_OF : FL_ARITH;
        return;
    case OP_SHLD: case OP_SHRD:
        count = (in->src2.kind == OPND_IMM ? in->imm : cpu->regs[R_ECX]) & 0x1f;
        if (count)
            *writes = FL_ARITH;
        return;
    case OP_CMPS: case OP_SCAS:
        if (in->rep) {
            uint32_t c = in->adsize == 2 ? cpu->regs[R_ECX] & 0xffff : cpu->regs[R_ECX];
            if (c == 0)
                return;
        }
        *writes = FL_ARITH;
        return;
    default:
        return;
    }
}

#endif
