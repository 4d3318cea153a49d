/*
 * cpu/fpu_trans.c — x87 transcendental instructions (F2XM1, FYL2X,
 * FYL2XP1, FPATAN, FSIN, FCOS, FSINCOS, FPTAN) for cpu/fpu_soft.h.
 *
 * Real x87s are only accurate to about 1 ulp here (SDM Vol. 1 8.3.10), so
 * the finite in-domain values come from the host libm. That part ASSUMES
 * an x86 host `long double` (80-bit extended, 64-bit significand, little
 * endian): the f80 is copied bit for bit. Other hosts (LDBL_MANT_DIG != 64)
 * fall back to double precision via the exact soft conversions.
 *
 * Everything else — NaNs, unsupported encodings, zeros, infinities, domain
 * errors, denormal operands — follows the SDM instruction-page tables in
 * integer code, never the host libm.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "cpu/fpu_host.h"
#include "cpu/fpu_soft.h"

#define BIAS 16383

static bool is_special(enum f80_class k) { return k == F80_NAN || k == F80_UNSUPPORTED; }

/* NaN / unsupported handling shared with the arithmetic (SDM Vol. 1
 * Table 4-7): f80_add of the operands yields exactly that result. */
static struct f80 propagate(struct fp_ctx *c, struct f80 a, struct f80 b)
{
    return f80_add(c, a, b);
}

static struct f80 invalid(struct fp_ctx *c)
{
    c->flags |= FPX_IE;
    return F80_INDEFINITE;
}

#if LDBL_MANT_DIG == 64
typedef long double hostf;
static hostf to_host(struct f80 a)
{
    if ((a.sign_exp & 0x7FFF) == 0 && (a.sig >> 63))
        a.sign_exp |= 1; /* pseudo-denormal: same value, canonical encoding */
    unsigned char buf[sizeof(long double)] = { 0 };
    memcpy(buf, &a.sig, 8);
    memcpy(buf + 8, &a.sign_exp, 2);
    long double v;
    memcpy(&v, buf, sizeof v);
    return v;
}
static struct f80 from_host(hostf v)
{
    unsigned char buf[sizeof(long double)];
    memcpy(buf, &v, sizeof v);
    struct f80 r;
    memcpy(&r.sig, buf, 8);
    memcpy(&r.sign_exp, buf + 8, 2);
    return r;
}
#define H_SIN sinl
#define H_COS cosl
#define H_TAN tanl
#define H_ATAN2 atan2l
#define H_LOG2 log2l
#define H_LOG1P log1pl
#define H_EXPM1 expm1l
#define H_LN2 0.693147180559945309417232121458176568L
#define H_LOG2E 1.44269504088896340735992468100189214L
#else
typedef double hostf;
static hostf to_host(struct f80 a)
{
    struct fp_ctx c = { FPR_NEAREST, FPP_EXTENDED, 0, false, 0 };
    uint64_t bits = f80_to_f64(&c, a);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}
static struct f80 from_host(hostf v)
{
    struct fp_ctx c = { FPR_NEAREST, FPP_EXTENDED, 0, false, 0 };
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return f80_from_f64(&c, bits);
}
#define H_SIN sin
#define H_COS cos
#define H_TAN tan
#define H_ATAN2 atan2
#define H_LOG2 log2
#define H_LOG1P log1p
#define H_EXPM1 expm1
#define H_LN2 0.693147180559945309417232121458176568
#define H_LOG2E 1.44269504088896340735992468100189214
#endif

/* Every entry point first puts the host's x87 back to the process's own
 * control word (64-bit precision, round to nearest) for its long double
 * arithmetic: the JIT's inline x87 code leaves the guest's loaded
 * (translate/jit/gen_x87.c). */
static void host_precision(void)
{
#if FPU_HOST
    __asm__ volatile("fldcw %0" : : "m"(host_cw_default));
#endif
}

/* Flags for an inexact finite computation from finite operands: PE always,
 * UE for a tiny result, OE for one that overflowed. */
static struct f80 inexact_result(struct fp_ctx *c, hostf v)
{
    struct f80 r = from_host(v);
    enum f80_class k = f80_classify(r);
    c->flags |= FPX_PE;
    if (k == F80_DENORMAL || k == F80_ZERO)
        c->flags |= FPX_UE;
    else if (k == F80_INFINITY)
        c->flags |= FPX_OE;
    return r;
}

/* F2XM1: 2^x - 1, defined for -1 <= x <= +1 (SDM F2XM1). Outside that the
 * SDM leaves the result undefined; this computes the same formula. */
struct f80 f80_f2xm1(struct fp_ctx *c, struct f80 a)
{
    host_precision();
    enum f80_class k = f80_classify(a);
    if (is_special(k))
        return propagate(c, a, a);
    if (k == F80_ZERO)
        return a;
    if (k == F80_INFINITY) /* 2^-inf - 1 = -1, 2^+inf - 1 = +inf: exact */
        return f80_sign(a) ? f80_from_int(-1) : a;
    if (k == F80_DENORMAL)
        c->flags |= FPX_DE;
    hostf x = to_host(a);
    if (x == 1)
        return a; /* 2^1 - 1 = 1, exact */
    if (x == -1)
        return (struct f80){ 0x8000000000000000ull, 0xBFFE }; /* -0.5, exact */
    return inexact_result(c, H_EXPM1(x * H_LN2));
}

/* y * L where L stands for log2(...) in the exact cases (zero, infinity, or
 * sign-only representative): the multiplication rules give the SDM table's
 * signs and the 0 * inf invalid operation. */
static struct f80 times_exact(struct fp_ctx *c, struct f80 y, struct f80 l)
{
    struct fp_ctx m = { c->rc, FPP_EXTENDED, 0, false, 0 };
    struct f80 r = f80_mul(&m, y, l);
    c->flags |= m.flags;
    c->c1 = m.c1;
    return r;
}

/* FYL2X: ST(1) * log2(ST(0)) (SDM FYL2X table). */
struct f80 f80_yl2x(struct fp_ctx *c, struct f80 x, struct f80 y)
{
    host_precision();
    enum f80_class kx = f80_classify(x), ky = f80_classify(y);
    if (is_special(kx) || is_special(ky))
        return propagate(c, x, y);
    if (kx != F80_ZERO && f80_sign(x)) /* log of a negative number */
        return invalid(c);
    if (kx == F80_ZERO) { /* log2(0) = -inf: finite nonzero y -> divide by zero */
        if (ky != F80_ZERO && ky != F80_INFINITY) {
            c->flags |= FPX_ZE; /* outranks the denormal operand (SDM Vol. 1 4.9.2) */
            return f80_inf(!f80_sign(y));
        }
        return times_exact(c, y, f80_inf(true));
    }
    if (kx == F80_DENORMAL || ky == F80_DENORMAL)
        c->flags |= FPX_DE;
    if (kx == F80_INFINITY)
        return times_exact(c, y, x);
    /* exact log2 of a power of two: log2(x) is an integer */
    struct fp_ctx t = { FPR_NEAREST, FPP_EXTENDED, 0, false, 0 };
    struct f80 xe, xs = f80_extract(&t, x, &xe);
    bool pow2 = xs.sig == 0x8000000000000000ull;
    if (ky == F80_ZERO || ky == F80_INFINITY) {
        if (pow2 && xe.sign_exp == 0 && xe.sig == 0)
            return times_exact(c, y, f80_zero(false)); /* x = 1 */
        return times_exact(c, y, (xe.sign_exp & 0x8000) ? f80_from_int(-1) : f80_from_int(1));
    }
    if (pow2) { /* the x87 reports PE here too (checked against the host) */
        struct f80 r = times_exact(c, y, xe);
        c->flags |= FPX_PE;
        return r;
    }
    return inexact_result(c, to_host(y) * H_LOG2(to_host(x)));
}

/* FYL2XP1: ST(1) * log2(ST(0) + 1), for |x| < 1 - sqrt(2)/2 (SDM FYL2XP1
 * table; log2(1 + x) has the sign of x and is zero exactly when x is). */
struct f80 f80_yl2xp1(struct fp_ctx *c, struct f80 x, struct f80 y)
{
    host_precision();
    enum f80_class kx = f80_classify(x), ky = f80_classify(y);
    if (is_special(kx) || is_special(ky))
        return propagate(c, x, y);
    if (kx == F80_INFINITY && f80_sign(x))
        return invalid(c); /* log of a negative number (outside the domain) */
    if (kx == F80_DENORMAL || ky == F80_DENORMAL)
        c->flags |= FPX_DE;
    if (kx == F80_ZERO || ky == F80_ZERO || ky == F80_INFINITY || kx == F80_INFINITY) {
        bool keep = kx == F80_ZERO || kx == F80_INFINITY; /* log2(1 + x) is x itself here */
        struct f80 l = keep ? x : f80_from_int(f80_sign(x) ? -1 : 1);
        return times_exact(c, y, l);
    }
    if ((x.sign_exp & 0x7FFF) < BIAS - 66) {
        /* |x| < 2^-66: log2(1 + x) = x * log2(e) to below an ulp; form
         * y * x first so a denormal x keeps its full relative precision. */
        static const struct f80 log2e = { 0xB8AA3B295C17F0BCull, 0x3FFF };
        struct fp_ctx m = { FPR_NEAREST, FPP_EXTENDED, 0, false, 0 };
        struct f80 r = f80_mul(&m, f80_mul(&m, y, x), log2e);
        c->flags |= (uint8_t)((m.flags & ~FPX_DE) | FPX_PE); /* DE only for the operands */
        return r;
    }
    hostf hx = to_host(x);
    if (hx <= -1)
        return invalid(c); /* far outside the domain: log of <= 0 */
    return inexact_result(c, to_host(y) * (H_LOG1P(hx) * H_LOG2E));
}

/* FPATAN: arctan(ST(1) / ST(0)) with the quadrant from both signs. The SDM
 * table gives 0, pi, pi/2, pi/4, 3pi/4 with signs for the zero and
 * infinite cases, exactly as atan2 defines them; zeros are exact. */
struct f80 f80_patan(struct fp_ctx *c, struct f80 x, struct f80 y)
{
    host_precision();
    enum f80_class kx = f80_classify(x), ky = f80_classify(y);
    if (is_special(kx) || is_special(ky))
        return propagate(c, x, y);
    if (kx == F80_DENORMAL || ky == F80_DENORMAL)
        c->flags |= FPX_DE;
    bool sx = f80_sign(x), sy = f80_sign(y);
    /* exact zero results: y = ±0 with x positive (or +0), y finite with x = +inf */
    if ((ky == F80_ZERO && !sx) || (ky != F80_INFINITY && kx == F80_INFINITY && !sx))
        return f80_zero(sy);
    hostf r = H_ATAN2(to_host(y), to_host(x));
    struct f80 out = from_host(r);
    c->flags |= FPX_PE;
    if (f80_classify(out) == F80_DENORMAL || f80_classify(out) == F80_ZERO)
        c->flags |= FPX_UE;
    return out;
}

/* Shared checks for FSIN/FCOS/FSINCOS/FPTAN: returns false when the result
 * is already decided (written to *r). |x| >= 2^63 is out of range: C2 set,
 * operand left alone (SDM FSIN). */
static bool trig_prologue(struct fp_ctx *c, struct f80 a, struct f80 *r, bool *out_of_range)
{
    enum f80_class k = f80_classify(a);
    *out_of_range = false;
    if (is_special(k)) {
        *r = propagate(c, a, a);
        return false;
    }
    if (k == F80_INFINITY) {
        *r = invalid(c);
        return false;
    }
    if ((a.sign_exp & 0x7FFF) >= BIAS + 63) {
        *out_of_range = true;
        *r = a;
        return false;
    }
    if (k == F80_DENORMAL)
        c->flags |= FPX_DE;
    return true;
}

/* Argument reduction as the x87 does it: modulo pi/2 with the 66-bit
 * approximation of pi the hardware uses (SDM Vol. 1 8.3.10;
 * 0xC90FDAA22168C234C * 2^-66), so results for large arguments track a
 * real x87 (checked against the host) rather than the exact value. |a| is
 * finite, nonzero and below 2^63. Returns the quadrant (mod 4) and the
 * remainder in [-pi/4, pi/4] with the sign of a folded out. */
__extension__ typedef unsigned __int128 u128;
static unsigned reduce_pio2(struct f80 a, hostf *rem)
{
    /* p = (pi66 / 2) * 2^67 = 0xC90FDAA22168C234C, a 68-bit integer */
    const u128 p = ((u128)0xC90FDAA22168C234ull << 4) | 0xC;
    int32_t u = (a.sign_exp & 0x7FFF) - BIAS;             /* |a| = sig * 2^(u - 63) */
    if (u < 0) { /* |a| < 1: no reduction (the pi66 error is far below an ulp here) */
        *rem = to_host(a);
        if (*rem < 0)
            *rem = -*rem;
        return 0;
    }
    /* |a| * 2^67 = sig * 2^(u + 4): reduce sig mod p, then shift in u + 4
     * more bits, tracking the low quotient bits. */
    u128 r = a.sig % p;
    uint64_t q = (uint64_t)(a.sig / p);
    for (int32_t i = 0; i < u + 4; i++) {
        r <<= 1;
        q <<= 1;
        if (r >= p) {
            r -= p;
            q |= 1;
        }
    }
    hostf rv;
    if (r > p / 2) { /* round the quotient to nearest: remainder in [-p/2, p/2] */
        q++;
        rv = -(hostf)(p - r);
    } else {
        rv = (hostf)r;
    }
    *rem = rv / 147573952589676412928.0L; /* 2^67 */
    return (unsigned)(q & 3);
}

void f80_sincos(struct fp_ctx *c, struct f80 a, struct f80 *sin_out, struct f80 *cos_out,
                bool *out_of_range)
{
    host_precision();
    struct f80 r;
    if (!trig_prologue(c, a, &r, out_of_range)) {
        if (sin_out)
            *sin_out = r;
        if (cos_out)
            *cos_out = r;
        return;
    }
    if (f80_classify(a) == F80_ZERO) { /* sin(±0) = ±0, cos(±0) = +1: exact */
        if (sin_out)
            *sin_out = a;
        if (cos_out)
            *cos_out = f80_from_int(1);
        return;
    }
    hostf red;
    unsigned k = reduce_pio2(a, &red);
    hostf s = H_SIN(red), co = H_COS(red);
    /* quadrant k: sin(k*pi/2 + r), cos(k*pi/2 + r); sin is odd, cos even */
    hostf sv = (k & 1) ? co : s, cv = (k & 1) ? s : co;
    if (k & 2)
        sv = -sv;
    if ((k + 1) & 2)
        cv = -cv;
    if (f80_sign(a))
        sv = -sv;
    if (sin_out)
        *sin_out = inexact_result(c, sv);
    if (cos_out)
        *cos_out = inexact_result(c, cv);
}

struct f80 f80_tan(struct fp_ctx *c, struct f80 a, bool *out_of_range)
{
    host_precision();
    struct f80 r;
    if (!trig_prologue(c, a, &r, out_of_range))
        return r;
    if (f80_classify(a) == F80_ZERO)
        return a;
    hostf red;
    unsigned k = reduce_pio2(a, &red);
    hostf t = (k & 1) ? -1 / H_TAN(red) : H_TAN(red); /* tan(r + pi/2) = -cot(r) */
    return inexact_result(c, f80_sign(a) ? -t : t);
}
