/*
 * fuzz_undef.h — what the JIT and the interpreter may compute differently
 * without either being wrong: flags the SDM leaves undefined, which the
 * JIT takes from the host CPU (translate/jit/gen_alu.c) and the
 * interpreter sets by its own rules (cpu/shift.c, cpu/bitops.c). Shared by
 * the fuzz tests that compare the two (test_fuzz_cpu.c, test_fuzz_jit.c).
 *
 * Until the interpreter takes these from the host too (branch `undef`),
 * they differ on the AMD hosts CI runs on:
 *   - AF after a shift (SHL/SAL/SHR/SAR, SHLD/SHRD) by a non-zero count:
 *     the interpreter leaves it unchanged;
 *   - CF, OF, SF, AF, PF after BSF/BSR: the interpreter leaves them;
 *   - result and flags of a 16-bit SHLD/SHRD by 17-31: the interpreter
 *     shifts the 48-bit string dst:src:dst, the host something else;
 *   - SF, ZF, AF, PF after MUL and IMUL (all three forms): the
 *     interpreter leaves them unchanged (cpu/muldiv.c).
 * (Measured on this host, instruction by instruction: rotates, BT*, the
 * logical operations' AF and the shifts' OF and CF agree.)
 * The fuzzers take these into account only while FUZZ_UNDEF_TOLERATE is
 * on (the default below, or GLASS_FUZZ_UNDEF=1 / =0 in the environment):
 * once `undef` lands, set the default to 0 and every run is compared
 * bit for bit.
 */
#ifndef GLASS_TESTS_FUZZ_UNDEF_H
#define GLASS_TESTS_FUZZ_UNDEF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "cpu/internal.h"

#ifndef FUZZ_UNDEF_TOLERATE
#define FUZZ_UNDEF_TOLERATE 1
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
    case OP_MUL: case OP_IMUL1: case OP_IMUL2:
        return FL_SF | FL_ZF | FL_AF | FL_PF;
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
        return FL_AF;
    default:
        return 0;
    }
}

#endif
