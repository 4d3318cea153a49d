/*
 * cpu/fpu_sse.h — the host's SSE2 double arithmetic for a guest x87 set
 * to double precision (PC = 10B) and round to nearest, all exceptions
 * masked: the setting of most code that keeps doubles on the x87 (and of
 * make bench's x87 row). A shortcut in front of cpu/fpu_host.h's x87 path
 * for FADD FSUB FMUL FDIV FSQRT, taken by cpu/fpu_arith.h only where its
 * result is the x87's to the bit:
 *
 *  - both operands are normal numbers whose significands fit in 53 bits
 *    (so each is exactly a double), and the operands and the result lie
 *    in [2^-900, 2^901), far inside the double normal range. The x87
 *    rounds the exact result to 53 bits with its wider exponent range
 *    (SDM Vol. 1 8.1.5.2: PC limits the significand only); SSE2 rounds
 *    the same exact value to the same 53 bits, no exponent limit being
 *    near: IEEE 754 has one correctly rounded result (SDM Vol. 1 4.8.4).
 *    Glass never changes MXCSR: SSE2 rounds to nearest;
 *  - such operands raise no IE, DE or ZE (finite, normal, a nonzero
 *    divisor) and such a result no OE or UE (SDM Vol. 1 4.9.1): PE is the
 *    only exception, raised when the result is inexact;
 *  - C1 says whether the result was rounded up in magnitude (SDM Vol. 1
 *    8.1.3.1). For a sum the rounding error comes from Fast2Sum (exact in
 *    round to nearest with the larger operand first); for a product,
 *    quotient or root the result is checked in integers against the
 *    operands: q against a*b, q*b against a, q*q against a, as 53 x 53 ->
 *    106-bit products, which are exact.
 * Anything else (zeros, tiny or huge values, 64-bit significands, other
 * controls) takes the x87 path.
 */
#ifndef GLASS_CPU_FPU_SSE_H
#define GLASS_CPU_FPU_SSE_H

#include "cpu/fpu_host.h"

#if FPU_HOST
/* Does `op` (HOP_ADD, HOP_SUB, HOP_MUL, HOP_DIV, HOP_SQRT) if the above
 * applies: returns the status word bits it sets (PE when inexact, C1 when
 * rounded up), or -1 when the x87 path must do it. */
int host_sse(enum host_op op, const struct f80 *a, const struct f80 *b, struct f80 *r);
#endif
#endif
