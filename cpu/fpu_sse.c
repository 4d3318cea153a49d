/*
 * cpu/fpu_sse.c — FADD FSUB FMUL FDIV FSQRT of double-exact operands in
 * the host's SSE2 arithmetic, for a guest x87 at double precision and
 * round to nearest (when that is exact and why: cpu/fpu_sse.h).
 *
 * One out-of-line function: inlined into every handler it made them
 * slower (measured), and it keeps the FLD m80 of the x87 path, whose
 * store forwarding stalled in some runs on an AMD EPYC host, off the
 * common path of such programs.
 */
#include "cpu/fpu_sse.h"

#include <string.h>

#include "cpu/fpu_soft.h"

#if FPU_HOST

#define SSE_BIAS 16383
#define SSE_DBIAS 1023
#define SSE_WINDOW 900
#define SSE_FRAC ((1ull << 52) - 1)

/* A double-exact operand: value, 53-bit integer significand, unbiased
 * exponent (value = m * 2^(x - 52)). */
struct sse_opnd {
    double d;
    uint64_t m;
    int x;
};

static bool sse_opnd_of(const struct f80 *v, struct sse_opnd *o)
{
    uint64_t sig = v->sig;
    unsigned e = v->sign_exp & 0x7fffu;
    if ((sig & 0x7ff) || !(sig >> 63) || e - (SSE_BIAS - SSE_WINDOW) > 2u * SSE_WINDOW)
        return false;
    o->m = sig >> 11;
    o->x = (int)e - SSE_BIAS;
    uint64_t bits = ((uint64_t)(v->sign_exp & 0x8000) << 48) |
                    ((uint64_t)(e - SSE_BIAS + SSE_DBIAS) << 52) | (o->m & SSE_FRAC);
    memcpy(&o->d, &bits, 8);
    return true;
}

int host_sse(enum host_op op, const struct f80 *a, const struct f80 *b, struct f80 *r)
{
    __extension__ typedef unsigned __int128 u128;
    struct sse_opnd x, y = {0, 0, 0};
    if (!sse_opnd_of(a, &x) || (op != HOP_SQRT && !sse_opnd_of(b, &y)))
        return -1;
    double q, e = 0;
    switch (op) {
    case HOP_ADD:
    case HOP_SUB: {
        if (op == HOP_SUB)
            y.d = -y.d;
        bool x_big = x.x > y.x || (x.x == y.x && x.m >= y.m);
        double big = x_big ? x.d : y.d, small = x_big ? y.d : x.d;
        q = big + small;
        e = small - (q - big); /* Fast2Sum: exact = q + e */
        break;
    }
    case HOP_MUL:
        q = x.d * y.d;
        break;
    case HOP_DIV:
        q = x.d / y.d;
        break;
    default:
        if (x.d < 0)
            return -1;
        q = __builtin_sqrt(x.d);
        break;
    }
    uint64_t rb;
    memcpy(&rb, &q, 8);
    unsigned re = (unsigned)(rb >> 52) & 0x7ff;
    if (re - (SSE_DBIAS - SSE_WINDOW) > 2u * SSE_WINDOW)
        return -1; /* zero, tiny, huge */
    uint64_t mq = (rb & SSE_FRAC) | (1ull << 52);
    int xq = (int)re - SSE_DBIAS;
    /* lhs: the rounded result, rhs: the exact one, both scaled to
     * integers (the exponent relations are in the comment of each). */
    u128 lhs, rhs;
    unsigned sh; /* 50..54 by the exponent relations; checked all the same */
    switch (op) {
    case HOP_ADD:
    case HOP_SUB:
        lhs = rhs = 0;
        if (e != 0) { /* rounded up in magnitude: the error has q's opposite sign */
            lhs = (e < 0) == (q > 0);
            rhs = !lhs;
        }
        break;
    case HOP_MUL: /* mq * 2^(xq-52) vs ma*mb * 2^(xa+xb-104) */
        sh = (unsigned)(52 + xq - x.x - y.x);
        if (sh > 60)
            return -1;
        lhs = (u128)mq << sh;
        rhs = (u128)x.m * y.m;
        break;
    case HOP_DIV: /* mq*mb * 2^(xq+xb-104) vs ma * 2^(xa-52) */
        sh = (unsigned)(52 + x.x - y.x - xq);
        if (sh > 60)
            return -1;
        lhs = (u128)mq * y.m;
        rhs = (u128)x.m << sh;
        break;
    default: /* HOP_SQRT: mq*mq * 2^(2xq-104) vs ma * 2^(xa-52) */
        sh = (unsigned)(52 + x.x - 2 * xq);
        if (sh > 60)
            return -1;
        lhs = (u128)mq * mq;
        rhs = (u128)x.m << sh;
        break;
    }
    r->sig = (1ull << 63) | (rb << 11);
    r->sign_exp = (uint16_t)(((rb >> 48) & 0x8000) | (unsigned)(xq + SSE_BIAS));
    return lhs == rhs ? 0 : lhs > rhs ? FPX_PE | 0x200 /* C1 */ : FPX_PE;
}

#endif
