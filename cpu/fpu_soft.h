/*
 * cpu/fpu_soft.h — x87 arithmetic in software on the 80-bit extended
 * format (struct f80, cpu/cpu.h), private to cpu/fpu*.c.
 *
 * Split of work: cpu/fpu_soft.c implements these functions as pure
 * arithmetic (IEEE 754 with the x87's rules: SDM Vol. 1 chapters 4 and 8);
 * cpu/fpu.c decodes instructions, manages the register stack and tags,
 * and turns the exception bits raised here into status-word bits, masked
 * responses or #MF.
 *
 * Every operation takes a context holding the rounding control (RC) and
 * precision control (PC) from the control word; it ORs the exceptions it
 * detects into ctx->flags (FPX_* = status word bit positions) and sets
 * ctx->c1 when the result was rounded up (the x87 reports that in C1).
 * Results are what the x87 delivers with the exception MASKED (e.g. the
 * real indefinite QNaN for an invalid operation); fpu.c decides what to
 * store when the exception is unmasked.
 */
#ifndef GLASS_CPU_FPU_SOFT_H
#define GLASS_CPU_FPU_SOFT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* Exception bits, at their positions in the status and control words. */
#define FPX_IE 0x01u /* invalid operation */
#define FPX_DE 0x02u /* denormal operand */
#define FPX_ZE 0x04u /* divide by zero */
#define FPX_OE 0x08u /* overflow */
#define FPX_UE 0x10u /* underflow */
#define FPX_PE 0x20u /* precision (inexact) */

/* Rounding control (CW bits 10-11) and precision control (CW bits 8-9). */
enum fp_round { FPR_NEAREST = 0, FPR_DOWN = 1, FPR_UP = 2, FPR_ZERO = 3 };
enum fp_prec { FPP_SINGLE = 0, FPP_DOUBLE = 2, FPP_EXTENDED = 3 }; /* 1 is reserved: treat as 3 */

struct fp_ctx {
    uint8_t rc;     /* enum fp_round */
    uint8_t pc;     /* enum fp_prec: applies to add/sub/mul/div/sqrt only */
    uint8_t flags;  /* FPX_* raised by the operation */
    bool c1;        /* the result was rounded up in magnitude */
    /* FPX_OE and/or FPX_UE when that exception is unmasked: a register
     * result that overflows (underflows) is then delivered with its
     * exponent re-biased by -24576 (+24576) instead of the masked
     * response (SDM Vol. 1 4.9.1.4-5); UE is then raised for any tiny
     * result, exact or not. */
    uint8_t unmasked;
};

/* Classes, as FXAM reports them through C3, C2, C0 (SDM FXAM). */
enum f80_class {
    F80_UNSUPPORTED, F80_NAN, F80_NORMAL, F80_INFINITY,
    F80_ZERO, F80_EMPTY /* not produced here */, F80_DENORMAL
};
enum f80_class f80_classify(struct f80 a);
bool f80_is_nan(struct f80 a);
bool f80_is_snan(struct f80 a);
bool f80_sign(struct f80 a);

/* Constants. */
extern const struct f80 F80_INDEFINITE; /* FFFF C000000000000000 */
struct f80 f80_zero(bool neg);
struct f80 f80_inf(bool neg);

/* Arithmetic, rounded per ctx->rc to ctx->pc. Operands that are
 * unsupported encodings (pseudo-NaN, unnormal...) raise IE. */
struct f80 f80_add(struct fp_ctx *c, struct f80 a, struct f80 b);
struct f80 f80_sub(struct fp_ctx *c, struct f80 a, struct f80 b);
struct f80 f80_mul(struct fp_ctx *c, struct f80 a, struct f80 b);
struct f80 f80_div(struct fp_ctx *c, struct f80 a, struct f80 b);
struct f80 f80_sqrt(struct fp_ctx *c, struct f80 a);
/* FRNDINT: round to an integer in the current rounding mode (64-bit
 * precision regardless of PC). */
struct f80 f80_round_int(struct fp_ctx *c, struct f80 a);
/* FSCALE: a * 2^trunc(b). */
struct f80 f80_scale(struct fp_ctx *c, struct f80 a, struct f80 b);
/* FXTRACT: *exp = unbiased exponent as f80, returns the significand
 * with exponent 0 (1.0 <= |sig| < 2). a = 0: ZE, exp = -inf. */
struct f80 f80_extract(struct fp_ctx *c, struct f80 a, struct f80 *exp);
/* FPREM (ieee = false: truncating quotient) and FPREM1 (ieee = true:
 * round-to-nearest quotient). Partial remainder: *incomplete set (C2)
 * when the exponent difference exceeds 63; *quot gets the low three
 * quotient bits (Q2 Q1 Q0 -> C0 C3 C1). */
struct f80 f80_rem(struct fp_ctx *c, struct f80 a, struct f80 b, bool ieee, bool *incomplete,
                   unsigned *quot);

/* Comparison: -1 less, 0 equal, 1 greater, 2 unordered. `quiet` (FUCOM,
 * FUCOMI) raises IE only for SNaN operands; otherwise any NaN raises IE. */
int f80_compare(struct fp_ctx *c, struct f80 a, struct f80 b, bool quiet);

/* Conversions. Integer loads are exact. Integer stores round per rc; a
 * NaN, infinity or out-of-range value raises IE and returns the integer
 * indefinite (the most negative value of `bits`). */
struct f80 f80_from_int(int64_t v);
int64_t f80_to_int(struct fp_ctx *c, struct f80 a, unsigned bits /* 16, 32, 64 */);
/* Memory formats: loads raise IE for SNaN (returned quieted) and DE for
 * denormals; stores round to the format with OE/UE/PE. */
struct f80 f80_from_f32(struct fp_ctx *c, uint32_t v);
struct f80 f80_from_f64(struct fp_ctx *c, uint64_t v);
uint32_t f80_to_f32(struct fp_ctx *c, struct f80 a);
uint64_t f80_to_f64(struct fp_ctx *c, struct f80 a);
/* Packed BCD (18 digits + sign byte, 10 bytes). FBSTP rounds per rc;
 * out of range -> IE and the BCD indefinite (FFFF C000 0000 0000 0000). */
struct f80 f80_from_bcd(const uint8_t bcd[10]);
void f80_to_bcd(struct fp_ctx *c, struct f80 a, uint8_t bcd[10]);

/* Transcendentals (SDM Vol. 1 8.3.10 and the instruction pages). Inputs
 * outside the instruction's domain: FPTAN/FSIN/FCOS with |a| >= 2^63 set
 * *out_of_range (C2) and leave the operand; others raise IE. */
struct f80 f80_f2xm1(struct fp_ctx *c, struct f80 a);
struct f80 f80_yl2x(struct fp_ctx *c, struct f80 x, struct f80 y);
struct f80 f80_yl2xp1(struct fp_ctx *c, struct f80 x, struct f80 y);
struct f80 f80_patan(struct fp_ctx *c, struct f80 x /* ST(0) */, struct f80 y /* ST(1) */);
/* FSIN, FCOS, FPTAN (tan only), FSINCOS: computes what was asked. */
void f80_sincos(struct fp_ctx *c, struct f80 a, struct f80 *sin_out, struct f80 *cos_out,
                bool *out_of_range);
struct f80 f80_tan(struct fp_ctx *c, struct f80 a, bool *out_of_range);

#endif
