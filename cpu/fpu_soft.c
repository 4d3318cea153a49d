/*
 * cpu/fpu_soft.c — x87 arithmetic on the 80-bit extended format in pure
 * integer code (contract: cpu/fpu_soft.h). No host floating point here:
 * results must be bit-exact with a real x87 whatever the host is.
 *
 * Internal convention: a finite nonzero operand is "unpacked" to a sign, a
 * biased exponent (int32, may go below 1 for normalized denormals) and a
 * 64-bit significand with bit 63 set. Intermediate results are 128-bit
 * significands R with value R * 2^(E - 16383 - 127), i.e. E is the biased
 * exponent the value has when bit 127 is the integer bit. round_core()
 * turns that into a rounded, packed result (SDM Vol. 1 4.8.4, 4.9.1).
 *
 * Uses the GCC/Clang unsigned __int128 extension for the wide products and
 * quotients.
 */
#include "cpu/fpu_soft.h"

#include <string.h>

__extension__ typedef unsigned __int128 u128;

#define BIAS 16383
#define EXP_INF 0x7FFF
#define INT_BIT 0x8000000000000000ull
#define QUIET_BIT 0x4000000000000000ull

const struct f80 F80_INDEFINITE = { 0xC000000000000000ull, 0xFFFF };

static inline struct f80 mk(bool sign, int32_t exp, uint64_t sig)
{
    return (struct f80){ sig, (uint16_t)(((unsigned)sign << 15) | ((unsigned)exp & 0x7FFF)) };
}
static inline int32_t exp_of(struct f80 a) { return a.sign_exp & 0x7FFF; }
bool f80_sign(struct f80 a) { return a.sign_exp >> 15; }
struct f80 f80_zero(bool neg) { return mk(neg, 0, 0); }
struct f80 f80_inf(bool neg) { return mk(neg, EXP_INF, INT_BIT); }

/* SDM Vol. 1 8.2.2 / Table 8-3: encodings with exponent 1..7FFE or 7FFF and
 * a clear integer bit are unsupported (unnormals, pseudo-NaN, pseudo-inf);
 * exponent 0 with the integer bit set is a pseudo-denormal (supported as a
 * denormal operand). */
enum f80_class f80_classify(struct f80 a)
{
    int32_t e = exp_of(a);
    if (e == EXP_INF) {
        if (!(a.sig & INT_BIT))
            return F80_UNSUPPORTED;
        return (a.sig << 1) ? F80_NAN : F80_INFINITY;
    }
    if (e == 0)
        return a.sig ? F80_DENORMAL : F80_ZERO;
    return (a.sig & INT_BIT) ? F80_NORMAL : F80_UNSUPPORTED;
}

bool f80_is_nan(struct f80 a) { return f80_classify(a) == F80_NAN; }
bool f80_is_snan(struct f80 a) { return f80_is_nan(a) && !(a.sig & QUIET_BIT); }

static inline int clz64(uint64_t v) { return __builtin_clzll(v); }
static inline int clz128(u128 v)
{
    uint64_t hi = (uint64_t)(v >> 64);
    return hi ? clz64(hi) : 64 + clz64((uint64_t)v);
}

struct unp {
    bool sign;
    int32_t exp; /* biased; below 1 for denormals after normalization */
    uint64_t sig; /* bit 63 set */
};

/* Finite nonzero operand -> unpacked, normalized. A (pseudo-)denormal has
 * the exponent of the smallest normal, 1 (SDM Vol. 1 8.2.2). */
static inline struct unp unpack(struct f80 a)
{
    struct unp u = { f80_sign(a), exp_of(a), a.sig };
    if (u.exp == 0) {
        int lz = clz64(u.sig);
        u.exp = 1 - lz;
        u.sig <<= lz;
    }
    return u;
}

static unsigned prec_bits(const struct fp_ctx *c)
{
    return c->pc == FPP_SINGLE ? 24 : c->pc == FPP_DOUBLE ? 53 : 64;
}

/* Should a nonzero remainder round the magnitude up? (SDM Vol. 1 4.8.4) */
static inline bool round_up(unsigned rc, bool sign, u128 rem, u128 half, bool odd)
{
    switch (rc & 3) {
    case FPR_NEAREST: return rem > half || (rem == half && odd);
    case FPR_DOWN: return sign;
    case FPR_UP: return !sign;
    default: return false;
    }
}

/* Rounds sig (bit 127 set) at exponent *ep to `prec` bits in a format whose
 * normal exponents are 1..emax. Returns the top-aligned 64-bit significand
 * and sets *ep to the packed exponent (0 for a denormal or zero, emax + 1
 * for infinity). Tininess is detected after rounding (as if the exponent
 * range were unbounded); with UE masked, underflow is reported only for a
 * tiny AND inexact result (SDM Vol. 1 4.9.1.5). Overflow delivers infinity
 * or the largest finite number depending on RC (SDM Vol. 1 Table 4-10). */
static uint64_t round_core(struct fp_ctx *c, bool sign, int32_t *ep, u128 sig, unsigned prec,
                           int32_t emax)
{
    int32_t e = *ep;
    unsigned drop = 128 - prec;
    u128 lsb = (u128)1 << drop;
    u128 mask = lsb - 1, half = lsb >> 1;
    bool tiny = false;
    if (e < 1) {
        tiny = true;
        if (e == 0 && (sig & mask)) {
            u128 t = (sig & ~mask) + lsb;
            if (t == 0 && round_up(c->rc, sign, sig & mask, half, (sig >> drop) & 1))
                tiny = false; /* rounds up to the smallest normal */
        }
        int64_t sh = 1 - (int64_t)e;
        if (sh >= 128)
            sig = sig != 0;
        else
            sig = (sig >> sh) | ((sig & (((u128)1 << sh) - 1)) != 0);
        e = 0;
    }
    u128 rem = sig & mask;
    if (rem) {
        c->flags |= FPX_PE;
        if (tiny)
            c->flags |= FPX_UE;
        sig &= ~mask;
        if (round_up(c->rc, sign, rem, half, (sig >> drop) & 1)) {
            c->c1 = true;
            sig += lsb;
            if (sig == 0) { /* carried out of bit 127 */
                sig = (u128)1 << 127;
                e++;
            }
        }
    }
    if (e == 0 && (sig >> 127))
        e = 1; /* a denormal rounded up to the smallest normal */
    if (e > emax) {
        c->flags |= FPX_OE | FPX_PE;
        unsigned rc = c->rc & 3;
        if (rc == FPR_NEAREST || (rc == FPR_UP && !sign) || (rc == FPR_DOWN && sign)) {
            c->c1 = true;
            *ep = emax + 1;
            return INT_BIT;
        }
        c->c1 = false;
        *ep = emax;
        return ~0ull << (64 - prec);
    }
    *ep = e;
    return (uint64_t)(sig >> 64);
}

/* The exponent re-bias of unmasked overflow and underflow responses
 * (SDM Vol. 1 4.9.1.4-5): 3 * 2^13 for double extended. */
#define WRAP_BIAS 24576

/* Normalize a nonzero 128-bit significand and round it to an f80. With
 * OE or UE unmasked, an overflowing or tiny result is rounded again with
 * its exponent moved back into range by WRAP_BIAS (the value the x87
 * leaves in the register for the handler), and the exception raised. */
static struct f80 round_pack(struct fp_ctx *c, bool sign, int32_t e, u128 sig, unsigned prec)
{
    int lz = clz128(sig);
    sig <<= lz;
    e -= lz;
    const struct fp_ctx before = *c;
    int32_t re = e;
    uint64_t r = round_core(c, sign, &re, sig, prec, EXP_INF - 1);
    bool overflow = (c->flags & ~before.flags & FPX_OE) != 0;
    /* Tiny: below the smallest normal after rounding (re == 0 here, with
     * the value nonzero), as round_core detects it. */
    bool tiny = re == 0;
    if (overflow && (c->unmasked & FPX_OE)) {
        *c = before;
        re = e - WRAP_BIAS;
        r = round_core(c, sign, &re, sig, prec, EXP_INF - 1);
        c->flags |= FPX_OE;
    } else if (tiny && (c->unmasked & FPX_UE)) {
        *c = before;
        re = e + WRAP_BIAS;
        r = round_core(c, sign, &re, sig, prec, EXP_INF - 1);
        c->flags |= FPX_UE;
    }
    return mk(sign, re, r);
}

static inline struct f80 quiet(struct f80 a)
{
    a.sig |= QUIET_BIT;
    return a;
}

/* NaN or unsupported operand(s) of a two-operand operation (SDM Vol. 1
 * 4.8.3.5 and Table 4-7, x87 column): unsupported -> IE + indefinite; any
 * SNaN -> IE; SNaN with QNaN -> the QNaN; two of a kind -> the one with the
 * larger significand; the result is always quiet. */
static struct f80 nan_result(struct fp_ctx *c, struct f80 a, struct f80 b)
{
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);
    if (ca == F80_UNSUPPORTED || cb == F80_UNSUPPORTED) {
        c->flags |= FPX_IE;
        return F80_INDEFINITE;
    }
    bool sa = ca == F80_NAN && !(a.sig & QUIET_BIT);
    bool sb = cb == F80_NAN && !(b.sig & QUIET_BIT);
    if (sa || sb)
        c->flags |= FPX_IE;
    if (ca != F80_NAN)
        return quiet(b);
    if (cb != F80_NAN)
        return quiet(a);
    if (sa != sb)
        return sa ? b : a;
    return (b.sig & ~INT_BIT) > (a.sig & ~INT_BIT) ? quiet(b) : quiet(a);
}

static inline bool special(enum f80_class k)
{
    return k == F80_NAN || k == F80_UNSUPPORTED;
}

static struct f80 invalid(struct fp_ctx *c)
{
    c->flags |= FPX_IE;
    return F80_INDEFINITE;
}

static struct f80 addsub(struct fp_ctx *c, struct f80 a, struct f80 b, bool negate_b)
{
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);
    if (special(ca) || special(cb))
        return nan_result(c, a, b);
    bool sa = f80_sign(a), sb = f80_sign(b) ^ negate_b;
    if (ca == F80_INFINITY && cb == F80_INFINITY && sa != sb) /* inf - inf: SDM Vol. 1 4.9.1.2 */
        return invalid(c);
    /* denormal operand is reported even when the other one is infinite */
    if (ca == F80_DENORMAL || cb == F80_DENORMAL)
        c->flags |= FPX_DE;
    if (ca == F80_INFINITY || cb == F80_INFINITY)
        return ca == F80_INFINITY ? f80_inf(sa) : f80_inf(sb);
    unsigned prec = prec_bits(c);
    if (ca == F80_ZERO) {
        if (cb == F80_ZERO) /* exact zero sum: -0 only for -0 + -0 or RC down */
            return f80_zero(sa == sb ? sa : (c->rc & 3) == FPR_DOWN);
        struct unp ub = unpack(b);
        return round_pack(c, sb, ub.exp + 64, (u128)ub.sig, prec);
    }
    if (cb == F80_ZERO) {
        struct unp ua = unpack(a);
        return round_pack(c, sa, ua.exp + 64, (u128)ua.sig, prec);
    }
    struct unp ua = unpack(a), ub = unpack(b);
    ua.sign = sa;
    ub.sign = sb;
    if (ua.exp < ub.exp) {
        struct unp t = ua;
        ua = ub;
        ub = t;
    }
    u128 A = (u128)ua.sig << 63, B = (u128)ub.sig << 63;
    int64_t d = (int64_t)ua.exp - ub.exp;
    if (d >= 127)
        B = 1; /* sticky only */
    else if (d > 0)
        B = (B >> d) | ((B & (((u128)1 << d) - 1)) != 0);
    u128 R;
    bool sign = ua.sign;
    if (ua.sign == ub.sign) {
        R = A + B;
    } else if (A >= B) {
        R = A - B;
    } else {
        R = B - A;
        sign = ub.sign;
    }
    if (R == 0)
        return f80_zero((c->rc & 3) == FPR_DOWN);
    return round_pack(c, sign, ua.exp + 1, R, prec);
}

struct f80 f80_add(struct fp_ctx *c, struct f80 a, struct f80 b) { return addsub(c, a, b, false); }
struct f80 f80_sub(struct fp_ctx *c, struct f80 a, struct f80 b) { return addsub(c, a, b, true); }

struct f80 f80_mul(struct fp_ctx *c, struct f80 a, struct f80 b)
{
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);
    if (special(ca) || special(cb))
        return nan_result(c, a, b);
    bool sign = f80_sign(a) ^ f80_sign(b);
    if (ca == F80_INFINITY || cb == F80_INFINITY) {
        if (ca == F80_ZERO || cb == F80_ZERO) /* 0 * inf */
            return invalid(c);
        if (ca == F80_DENORMAL || cb == F80_DENORMAL)
            c->flags |= FPX_DE;
        return f80_inf(sign);
    }
    if (ca == F80_DENORMAL || cb == F80_DENORMAL)
        c->flags |= FPX_DE;
    if (ca == F80_ZERO || cb == F80_ZERO)
        return f80_zero(sign);
    struct unp ua = unpack(a), ub = unpack(b);
    u128 P = (u128)ua.sig * ub.sig;
    return round_pack(c, sign, ua.exp + ub.exp - BIAS + 1, P, prec_bits(c));
}

struct f80 f80_div(struct fp_ctx *c, struct f80 a, struct f80 b)
{
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);
    if (special(ca) || special(cb))
        return nan_result(c, a, b);
    bool sign = f80_sign(a) ^ f80_sign(b);
    if ((ca == F80_INFINITY && cb == F80_INFINITY) || (ca == F80_ZERO && cb == F80_ZERO))
        return invalid(c);
    if (cb == F80_ZERO && ca != F80_INFINITY) { /* finite nonzero / 0: SDM Vol. 1 4.9.1.3 */
        c->flags |= FPX_ZE; /* outranks the denormal operand (SDM Vol. 1 4.9.2) */
        return f80_inf(sign);
    }
    if (ca == F80_DENORMAL || cb == F80_DENORMAL)
        c->flags |= FPX_DE;
    if (ca == F80_INFINITY)
        return f80_inf(sign);
    if (cb == F80_INFINITY)
        return f80_zero(sign);
    if (ca == F80_ZERO)
        return f80_zero(sign);
    struct unp ua = unpack(a), ub = unpack(b);
    /* Two long-division steps give 128 quotient bits of a/b * 2^127. */
    u128 n1 = (u128)ua.sig << 63;
    uint64_t q1 = (uint64_t)(n1 / ub.sig), r1 = (uint64_t)(n1 % ub.sig);
    u128 n2 = (u128)r1 << 64;
    uint64_t q2 = (uint64_t)(n2 / ub.sig), r2 = (uint64_t)(n2 % ub.sig);
    u128 Q = ((u128)q1 << 64) | q2 | (r2 != 0);
    return round_pack(c, sign, ua.exp - ub.exp + BIAS, Q, prec_bits(c));
}

struct f80 f80_sqrt(struct fp_ctx *c, struct f80 a)
{
    enum f80_class ca = f80_classify(a);
    if (special(ca))
        return nan_result(c, a, a);
    bool sign = f80_sign(a);
    if (ca == F80_ZERO)
        return a; /* sqrt(-0) = -0 */
    if (sign) /* negative nonzero, including -inf and -denormal */
        return invalid(c);
    if (ca == F80_INFINITY)
        return a;
    if (ca == F80_DENORMAL)
        c->flags |= FPX_DE;
    struct unp ua = unpack(a);
    /* value = X * 2^t with t even, X < 2^66 */
    int32_t t = ua.exp - BIAS - 63;
    u128 X = ua.sig;
    if (t & 1) {
        X <<= 1;
        t -= 1;
    }
    /* Digit-by-digit square root of X * 4^35: 33 groups from X, 35 zero
     * groups, giving a 67- or 68-bit root; the remainder is the sticky. */
    u128 rem = 0, root = 0;
    for (int i = 32; i >= -35; i--) {
        unsigned pair = i >= 0 ? (unsigned)(X >> (2 * i)) & 3 : 0;
        rem = (rem << 2) | pair;
        u128 trial = (root << 2) | 1;
        root <<= 1;
        if (rem >= trial) {
            rem -= trial;
            root |= 1;
        }
    }
    root |= rem != 0;
    return round_pack(c, false, t / 2 - 35 + BIAS + 127, root, prec_bits(c));
}

/* Round a finite value to an integer per RC (SDM Vol. 1 4.8.4). `e` is the
 * biased exponent of the normalized significand. Returns the magnitude;
 * *too_big if it does not fit in 64 bits. */
static uint64_t round_to_integer(unsigned rc, bool sign, int32_t e, uint64_t sig, bool *inexact,
                                 bool *up, bool *too_big)
{
    int32_t u = e - BIAS;
    *inexact = *up = *too_big = false;
    if (u >= 64) {
        *too_big = true;
        return 0;
    }
    if (u == 63)
        return sig;
    uint64_t ip, frac, half;
    if (u >= 0) {
        unsigned sh = 63 - (unsigned)u;
        ip = sig >> sh;
        frac = sig & ((1ull << sh) - 1);
        half = 1ull << (sh - 1);
    } else if (u == -1) {
        ip = 0;
        frac = sig;
        half = INT_BIT;
    } else { /* below one half: only "nonzero" matters */
        ip = 0;
        frac = 1;
        half = 2;
    }
    if (frac) {
        *inexact = true;
        if (round_up(rc, sign, frac, half, ip & 1)) {
            *up = true;
            ip++;
        }
    }
    return ip;
}

struct f80 f80_round_int(struct fp_ctx *c, struct f80 a)
{
    enum f80_class ca = f80_classify(a);
    if (special(ca))
        return nan_result(c, a, a);
    if (ca == F80_ZERO || ca == F80_INFINITY)
        return a;
    if (ca == F80_DENORMAL)
        c->flags |= FPX_DE;
    struct unp ua = unpack(a);
    bool inexact, up, too_big;
    uint64_t n = round_to_integer(c->rc, ua.sign, ua.exp, ua.sig, &inexact, &up, &too_big);
    if (too_big || (!inexact && ca == F80_NORMAL))
        return a;
    if (inexact)
        c->flags |= FPX_PE;
    if (up)
        c->c1 = true;
    if (n == 0)
        return f80_zero(ua.sign);
    int lz = clz64(n);
    return mk(ua.sign, BIAS + 63 - lz, n << lz);
}

struct f80 f80_scale(struct fp_ctx *c, struct f80 a, struct f80 b)
{
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);
    if (special(ca) || special(cb))
        return nan_result(c, a, b);
    bool sa = f80_sign(a), sb = f80_sign(b);
    if (ca == F80_DENORMAL || cb == F80_DENORMAL)
        c->flags |= FPX_DE;
    /* SDM FSCALE table */
    if (cb == F80_INFINITY) {
        if (ca == F80_ZERO)
            return sb ? a : invalid(c);
        if (ca == F80_INFINITY)
            return sb ? invalid(c) : a;
        return sb ? f80_zero(sa) : f80_inf(sa);
    }
    if (ca == F80_ZERO || ca == F80_INFINITY)
        return a;
    struct unp ua = unpack(a);
    int32_t n = 0;
    if (cb != F80_ZERO) {
        struct unp ub = unpack(b);
        int32_t u = ub.exp - BIAS;
        if (u >= 30)
            n = 1 << 30; /* far beyond any exponent: clamp, still over/underflows */
        else if (u >= 0)
            n = (int32_t)(ub.sig >> (63 - u));
        if (sb)
            n = -n;
    }
    return round_pack(c, sa, ua.exp + n + 64, (u128)ua.sig, 64);
}

struct f80 f80_extract(struct fp_ctx *c, struct f80 a, struct f80 *exp)
{
    enum f80_class ca = f80_classify(a);
    if (special(ca)) {
        struct f80 r = nan_result(c, a, a);
        *exp = r;
        return r;
    }
    bool sa = f80_sign(a);
    if (ca == F80_ZERO) { /* SDM FXTRACT: ZE, exponent -inf, significand = 0 */
        c->flags |= FPX_ZE;
        *exp = f80_inf(true);
        return a;
    }
    if (ca == F80_INFINITY) {
        *exp = f80_inf(false);
        return a;
    }
    if (ca == F80_DENORMAL)
        c->flags |= FPX_DE;
    struct unp ua = unpack(a);
    *exp = f80_from_int(ua.exp - BIAS);
    return mk(sa, BIAS, ua.sig);
}

/* FPREM/FPREM1 (SDM Vol. 2 FPREM, FPREM1). The remainder is exact. When the
 * exponent difference D exceeds 63 only a partial reduction by multiples of
 * b * 2^(D - N) is done and C2 (incomplete) is set. The SDM leaves N
 * "implementation-dependent between 32 and 63"; real P6+ parts (checked
 * against the host x87 in the tests) use N = 32 + D mod 32, so the
 * difference shrinks by a multiple of 32 each time. */
struct f80 f80_rem(struct fp_ctx *c, struct f80 a, struct f80 b, bool ieee, bool *incomplete,
                   unsigned *quot)
{
    *incomplete = false;
    *quot = 0;
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);
    if (special(ca) || special(cb))
        return nan_result(c, a, b);
    if (ca == F80_INFINITY || cb == F80_ZERO)
        return invalid(c);
    if (ca == F80_DENORMAL || cb == F80_DENORMAL)
        c->flags |= FPX_DE;
    if (ca == F80_ZERO)
        return a;
    struct unp ua = unpack(a), ub = unpack(b);
    if (cb == F80_INFINITY) /* a itself, normalized (pseudo-denormal -> exponent 1) */
        return round_pack(c, ua.sign, ua.exp + 64, ua.sig, 64);
    int64_t d = (int64_t)ua.exp - ub.exp;
    bool sign = ua.sign;
    u128 R;
    int32_t runit; /* biased exponent of R's bit 0, as if it were bit 63 */
    if (d < 0) {
        if (!ieee || d < -1 || ua.sig <= ub.sig)
            return round_pack(c, sign, ua.exp + 64, ua.sig, 64);
        /* |b|/2 < |a| < |b|: quotient rounds to 1 */
        *quot = 1;
        R = ((u128)ub.sig << 1) - ua.sig;
        sign = !sign;
        runit = ua.exp;
    } else {
        int64_t n = d;
        if (d > 63) {
            *incomplete = true;
            n = 32 + (d & 31);
        }
        u128 A = (u128)ua.sig << n;
        u128 Q = A / ub.sig;
        R = A % ub.sig;
        runit = (int32_t)(ub.exp + (d - n));
        if (ieee && !*incomplete) {
            u128 twice = R << 1;
            if (twice > ub.sig || (twice == ub.sig && (Q & 1))) {
                Q++;
                R = ub.sig - R;
                sign = !sign;
            }
        }
        /* quotient bits only for a complete reduction (host x87 clears them otherwise) */
        *quot = *incomplete ? 0 : (unsigned)(Q & 7);
    }
    if (R == 0)
        return f80_zero(ua.sign);
    return round_pack(c, sign, runit + 64, R, 64);
}

int f80_compare(struct fp_ctx *c, struct f80 a, struct f80 b, bool quiet_cmp)
{
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);
    if (ca == F80_UNSUPPORTED || cb == F80_UNSUPPORTED) {
        c->flags |= FPX_IE;
        return 2;
    }
    if (ca == F80_NAN || cb == F80_NAN) {
        if (!quiet_cmp || f80_is_snan(a) || f80_is_snan(b))
            c->flags |= FPX_IE;
        return 2;
    }
    if (ca == F80_DENORMAL || cb == F80_DENORMAL)
        c->flags |= FPX_DE;
    bool sa = f80_sign(a), sb = f80_sign(b);
    if (ca == F80_ZERO && cb == F80_ZERO)
        return 0;
    if (ca == F80_ZERO)
        return sb ? 1 : -1;
    if (cb == F80_ZERO)
        return sa ? -1 : 1;
    if (sa != sb)
        return sa ? -1 : 1;
    struct unp ua = unpack(a), ub = unpack(b);
    int cmp = ua.exp != ub.exp ? (ua.exp < ub.exp ? -1 : 1)
                               : ua.sig != ub.sig ? (ua.sig < ub.sig ? -1 : 1) : 0;
    return sa ? -cmp : cmp;
}

struct f80 f80_from_int(int64_t v)
{
    if (v == 0)
        return f80_zero(false);
    bool sign = v < 0;
    uint64_t m = sign ? 0 - (uint64_t)v : (uint64_t)v;
    int lz = clz64(m);
    return mk(sign, BIAS + 63 - lz, m << lz);
}

int64_t f80_to_int(struct fp_ctx *c, struct f80 a, unsigned bits)
{
    if (bits != 16 && bits != 32)
        bits = 64;
    int64_t indefinite = (int64_t)(~0ull << (bits - 1));
    enum f80_class ca = f80_classify(a);
    if (ca == F80_ZERO)
        return 0;
    if (ca != F80_NORMAL && ca != F80_DENORMAL) {
        c->flags |= FPX_IE;
        return indefinite;
    }
    struct unp ua = unpack(a);
    bool inexact, up, too_big;
    uint64_t n = round_to_integer(c->rc, ua.sign, ua.exp, ua.sig, &inexact, &up, &too_big);
    uint64_t limit = 1ull << (bits - 1);
    if (too_big || n > limit || (n == limit && !ua.sign)) {
        c->flags |= FPX_IE;
        return indefinite;
    }
    if (inexact)
        c->flags |= FPX_PE;
    if (up)
        c->c1 = true;
    return ua.sign ? (int64_t)(0 - n) : (int64_t)n;
}

/* IEEE single/double <-> extended (SDM Vol. 1 4.2.2, 4.8.3). */
static struct f80 from_ieee(struct fp_ctx *c, bool sign, uint32_t e, uint64_t frac, unsigned fbits,
                            uint32_t emax_field, int32_t bias)
{
    if (e == emax_field) {
        if (frac == 0)
            return f80_inf(sign);
        if (!(frac >> (fbits - 1)))
            c->flags |= FPX_IE; /* SNaN */
        return mk(sign, EXP_INF, INT_BIT | QUIET_BIT | (frac << (63 - fbits)));
    }
    if (e == 0) {
        if (frac == 0)
            return f80_zero(sign);
        c->flags |= FPX_DE;
        int lz = clz64(frac);
        /* value = frac * 2^(1 - bias - fbits) */
        return mk(sign, 1 - bias - (int32_t)fbits + BIAS + 63 - lz, frac << lz);
    }
    return mk(sign, (int32_t)e - bias + BIAS, INT_BIT | (frac << (63 - fbits)));
}

struct f80 f80_from_f32(struct fp_ctx *c, uint32_t v)
{
    return from_ieee(c, v >> 31, (v >> 23) & 0xFF, v & 0x7FFFFF, 23, 0xFF, 127);
}

struct f80 f80_from_f64(struct fp_ctx *c, uint64_t v)
{
    return from_ieee(c, v >> 63, (v >> 52) & 0x7FF, v & 0xFFFFFFFFFFFFFull, 52, 0x7FF, 1023);
}

/* Returns the IEEE encoding as sign | exponent field | fraction. */
static uint64_t to_ieee(struct fp_ctx *c, struct f80 a, unsigned fbits, int32_t emax_field,
                        int32_t bias)
{
    uint64_t sign = (uint64_t)f80_sign(a) << (fbits + (emax_field == 0xFF ? 8 : 11));
    uint64_t fmask = (1ull << fbits) - 1;
    uint64_t inf = (uint64_t)emax_field << fbits;
    enum f80_class ca = f80_classify(a);
    switch (ca) {
    case F80_UNSUPPORTED:
        c->flags |= FPX_IE;
        return (1ull << (fbits + (emax_field == 0xFF ? 8 : 11))) | inf | (1ull << (fbits - 1));
    case F80_NAN:
        if (!(a.sig & QUIET_BIT))
            c->flags |= FPX_IE;
        return sign | inf | (1ull << (fbits - 1)) | ((a.sig >> (63 - fbits)) & fmask);
    case F80_INFINITY: return sign | inf;
    case F80_ZERO: return sign;
    default: break; /* FST m32/m64 does not report a denormal operand */
    }
    struct unp ua = unpack(a);
    int32_t e = ua.exp - BIAS + bias;
    uint64_t r = round_core(c, ua.sign, &e, (u128)ua.sig << 64, fbits + 1, emax_field - 1);
    return sign | ((uint64_t)e << fbits) | ((r >> (63 - fbits)) & fmask);
}

uint32_t f80_to_f32(struct fp_ctx *c, struct f80 a) { return (uint32_t)to_ieee(c, a, 23, 0xFF, 127); }
uint64_t f80_to_f64(struct fp_ctx *c, struct f80 a) { return to_ieee(c, a, 52, 0x7FF, 1023); }

/* Packed BCD: bytes 0-8 hold 18 digits, low digit in the low nibble of
 * byte 0; byte 9 bit 7 is the sign (SDM Vol. 1 4.7). Invalid digits give
 * an undefined result: here each nibble is taken at face value. */
struct f80 f80_from_bcd(const uint8_t bcd[10])
{
    uint64_t n = 0;
    for (int i = 8; i >= 0; i--)
        n = n * 100 + (uint64_t)(bcd[i] >> 4) * 10 + (bcd[i] & 15);
    bool sign = bcd[9] >> 7;
    if (n == 0)
        return f80_zero(sign);
    int lz = clz64(n);
    return mk(sign, BIAS + 63 - lz, n << lz);
}

void f80_to_bcd(struct fp_ctx *c, struct f80 a, uint8_t bcd[10])
{
    static const uint8_t indefinite[10] = { 0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF };
    enum f80_class ca = f80_classify(a);
    uint64_t n = 0;
    bool sign = f80_sign(a);
    if (ca == F80_NORMAL || ca == F80_DENORMAL) {
        struct unp ua = unpack(a);
        bool inexact, up, too_big;
        n = round_to_integer(c->rc, ua.sign, ua.exp, ua.sig, &inexact, &up, &too_big);
        if (too_big || n > 999999999999999999ull) {
            ca = F80_UNSUPPORTED;
        } else {
            if (inexact)
                c->flags |= FPX_PE;
            if (up)
                c->c1 = true;
        }
    }
    if (ca != F80_NORMAL && ca != F80_DENORMAL && ca != F80_ZERO) {
        c->flags |= FPX_IE;
        memcpy(bcd, indefinite, 10);
        return;
    }
    for (int i = 0; i < 9; i++) {
        unsigned lo = (unsigned)(n % 10);
        n /= 10;
        unsigned hi = (unsigned)(n % 10);
        n /= 10;
        bcd[i] = (uint8_t)(hi << 4 | lo);
    }
    bcd[9] = sign ? 0x80 : 0;
}
