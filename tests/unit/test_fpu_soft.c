/*
 * test_fpu_soft.c — cpu/fpu_soft.c (and cpu/fpu_trans.c special cases).
 *
 * The arithmetic must be bit-exact with a real x87, so the main tests are
 * differential: the same operands run through the host's x87 (inline asm,
 * all exceptions masked, RC/PC set with FLDCW, flags read with FNSTSW after
 * FNCLEX) and through fpu_soft; results, the sticky exception flags and C1
 * (or the condition codes) must match, over edge and random operands in
 * every RC x PC combination. Plus a few fixed values from the SDM.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cpu/fpu_soft.h"

static struct f80 F(uint16_t se, uint64_t sig) { return (struct f80){ sig, se }; }
static bool same(struct f80 a, struct f80 b) { return a.sig == b.sig && a.sign_exp == b.sign_exp; }

static const unsigned PCS[3] = { FPP_SINGLE, FPP_DOUBLE, FPP_EXTENDED };

/* ---- operand generator (deterministic xorshift) ---- */
#ifndef FPU_TEST_SEED
#define FPU_TEST_SEED 0x9E3779B97F4A7C15ull
#endif
#ifndef FPU_TEST_ITERS
#define FPU_TEST_ITERS 20000
#endif
static uint64_t rng = FPU_TEST_SEED;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t rnd_sig(void)
{
    uint64_t r = rnd();
    switch (rnd() % 8) {
    case 0: return 1ull << 63 | (r & 0xFF); /* near a power of two */
    case 1: return ~0ull ^ (r & 0xFF);      /* all ones-ish */
    case 2: return (1ull << 63) | (r & ~((1ull << 40) - 1)); /* 24-bit-ish */
    case 3: return (1ull << 63) | (r & ~((1ull << 11) - 1)) | (1ull << 10) * (rnd() & 1); /* 53 + tie */
    case 4: return (1ull << 63) | (r & ~((1ull << 40) - 1)) | (1ull << 39); /* 24-bit tie */
    default: return r | 1ull << 63;
    }
}

static struct f80 rnd_special(void)
{
    uint16_t s = (uint16_t)((rnd() & 1) << 15);
    uint64_t r = rnd();
    switch (rnd() % 10) {
    case 0: return F(s, 0);
    case 1: return F(s | 0x7FFF, 1ull << 63);
    case 2: return F(s, r >> 1 | 1);                    /* denormal */
    case 3: return F(s, r | 1ull << 63);                 /* pseudo-denormal */
    case 4: return F(s | 0x7FFF, 3ull << 62 | (r >> 3)); /* QNaN */
    case 5: return F(s | 0x7FFF, 1ull << 63 | (r >> 3) | 1); /* SNaN */
    case 6: return F(s | (uint16_t)(1 + r % 0x7FFE), (r >> 1) | 1); /* unnormal */
    case 7: return F(s | 0x7FFF, (r >> 2) | 1);          /* pseudo-NaN */
    case 8: return F(s | 0x7FFE, ~0ull);                 /* largest */
    default: return F(s | 1, 1ull << 63);                /* smallest normal */
    }
}

static struct f80 rnd_operand(void)
{
    uint16_t s = (uint16_t)((rnd() & 1) << 15);
    switch (rnd() % 8) {
    case 0: return rnd_special();
    case 1: return F(s | (uint16_t)(1 + rnd() % 200), rnd_sig());          /* tiny */
    case 2: return F(s | (uint16_t)(0x7FFE - rnd() % 200), rnd_sig());   /* huge */
    case 3: return F(s | (uint16_t)(16383 - 1100 + rnd() % 200), rnd_sig()); /* f64 edge */
    case 4: return F(s | (uint16_t)(16383 - 150 + rnd() % 40), rnd_sig()); /* f32 edge */
    case 5: return F(s | (uint16_t)(1 + rnd() % 0x7FFE), rnd_sig());
    default: return F(s | (uint16_t)(16383 - 70 + rnd() % 140), rnd_sig());
    }
}

/* second operand: often close to the first to exercise cancellation */
static struct f80 rnd_partner(struct f80 a)
{
    if (rnd() % 3)
        return rnd_operand();
    int e = (a.sign_exp & 0x7FFF) - (int)(rnd() % 70) + 3;
    if (e < 1 || e > 0x7FFE)
        e = 16383;
    uint64_t sig = rnd() % 2 ? a.sig ^ (rnd() & 0xFFFF) : rnd_sig();
    return F((uint16_t)(((rnd() & 1) << 15) | (unsigned)e), sig | 1ull << 63);
}

#if defined(__x86_64__) || defined(__i386__)

static uint16_t make_cw(unsigned rc, unsigned pc) { return (uint16_t)(0x7F | pc << 8 | rc << 10); }

struct hres {
    struct f80 r, r2;
    uint16_t sw;
};

#define X87_CLOBBERS "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)", "memory"

#define HOST_BINOP(name, insn)                                                                   \
    static struct hres name(struct f80 a, struct f80 b, uint16_t cw)                             \
    {                                                                                            \
        struct hres h;                                                                           \
        memset(&h, 0, sizeof h);                                                                 \
        __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\tfnclex\n\t" insn    \
                         "\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstpt %[r2]\n\tfninit"               \
                         : [r] "=m"(h.r), [r2] "=m"(h.r2), [sw] "=m"(h.sw)                       \
                         : [a] "m"(a), [b] "m"(b), [cw] "m"(cw)                                  \
                         : X87_CLOBBERS);                                                        \
        return h;                                                                                \
    }
HOST_BINOP(host_add, "fadd %%st(1), %%st")
HOST_BINOP(host_sub, "fsub %%st(1), %%st")
HOST_BINOP(host_mul, "fmul %%st(1), %%st")
HOST_BINOP(host_div, "fdiv %%st(1), %%st")
HOST_BINOP(host_sqrt, "fsqrt")
HOST_BINOP(host_rndint, "frndint")
HOST_BINOP(host_scale, "fscale")
HOST_BINOP(host_prem, "fprem")
HOST_BINOP(host_prem1, "fprem1")
HOST_BINOP(host_com, "fcom %%st(1)")
HOST_BINOP(host_ucom, "fucom %%st(1)")

/* FXTRACT pushes: ST0 = significand, ST1 = exponent (a third slot unused). */
static struct hres host_xtract(struct f80 a, uint16_t cw)
{
    struct hres h;
    memset(&h, 0, sizeof h);
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfnclex\n\tfxtract\n\tfnstsw %[sw]\n\t"
                     "fstpt %[r]\n\tfstpt %[r2]\n\tfninit"
                     : [r] "=m"(h.r), [r2] "=m"(h.r2), [sw] "=m"(h.sw)
                     : [a] "m"(a), [cw] "m"(cw)
                     : X87_CLOBBERS);
    return h;
}

#define HOST_STORE(name, insn, T)                                                                \
    static T name(struct f80 a, uint16_t cw, uint16_t *sw)                                        \
    {                                                                                            \
        T r;                                                                                     \
        memset(&r, 0, sizeof r);                                                                 \
        __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfnclex\n\t" insn " %[r]\n\t"     \
                         "fnstsw %[sw]\n\tfninit"                                                \
                         : [r] "=m"(r), [sw] "=m"(*sw)                                           \
                         : [a] "m"(a), [cw] "m"(cw)                                              \
                         : X87_CLOBBERS);                                                        \
        return r;                                                                                \
    }
HOST_STORE(host_fist16, "fistps", int16_t)
HOST_STORE(host_fist32, "fistpl", int32_t)
HOST_STORE(host_fist64, "fistpll", int64_t)
HOST_STORE(host_fst32, "fstps", uint32_t)
HOST_STORE(host_fst64, "fstpl", uint64_t)

struct bcd10 {
    uint8_t b[10];
};
HOST_STORE(host_fbstp, "fbstp", struct bcd10)

#define HOST_LOAD(name, insn, T)                                                                 \
    static struct f80 name(T v, uint16_t *sw)                                                     \
    {                                                                                            \
        struct f80 r;                                                                            \
        memset(&r, 0, sizeof r);                                                                 \
        uint16_t cw = 0x37F;                                                                     \
        __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfnclex\n\t" insn " %[v]\n\tfnstsw %[sw]\n\t"  \
                         "fstpt %[r]\n\tfninit"                                                  \
                         : [r] "=m"(r), [sw] "=m"(*sw)                                           \
                         : [v] "m"(v), [cw] "m"(cw)                                              \
                         : X87_CLOBBERS);                                                        \
        return r;                                                                                \
    }
HOST_LOAD(host_fld32, "flds", uint32_t)
HOST_LOAD(host_fld64, "fldl", uint64_t)
HOST_LOAD(host_fbld, "fbld", struct bcd10)

typedef struct f80 (*soft_binop)(struct fp_ctx *, struct f80, struct f80);
typedef struct hres (*host_binop)(struct f80, struct f80, uint16_t);

static int reported;
static void report(const char *what, struct f80 a, struct f80 b, unsigned rc, unsigned pc,
                   const char *detail)
{
    if (reported++ < 40)
        fprintf(stderr, "%s rc=%u pc=%u a=%04x:%016llx b=%04x:%016llx %s\n", what, rc, pc,
                a.sign_exp, (unsigned long long)a.sig, b.sign_exp, (unsigned long long)b.sig,
                detail);
}

static int diff_binop(const char *name, soft_binop soft, host_binop host, bool unary, int n,
                      bool pc_applies)
{
    int bad = 0;
    for (int i = 0; i < n; i++) {
        struct f80 a = rnd_operand();
        struct f80 b = unary ? F(0x3FFF, 1ull << 63) : rnd_partner(a);
        for (unsigned rc = 0; rc < 4; rc++) {
            for (unsigned pi = 0; pi < 3; pi++) {
                unsigned pc = pc_applies ? PCS[pi] : FPP_EXTENDED;
                if (!pc_applies && pi)
                    continue;
                struct hres h = host(a, b, make_cw(rc, pc));
                struct fp_ctx c = { (uint8_t)rc, (uint8_t)pc, 0, false, 0 };
                struct f80 r = soft(&c, a, b);
                bool c1 = (h.sw >> 9) & 1;
                if (!same(r, h.r) || c.flags != (h.sw & 0x3F) || c.c1 != c1) {
                    char d[200];
                    snprintf(d, sizeof d, "host=%04x:%016llx sw=%02x c1=%d soft=%04x:%016llx fl=%02x c1=%d",
                             h.r.sign_exp, (unsigned long long)h.r.sig, h.sw & 0x3F, c1,
                             r.sign_exp, (unsigned long long)r.sig, c.flags, c.c1);
                    report(name, a, b, rc, pc, d);
                    bad++;
                }
            }
        }
    }
    return bad;
}

static struct f80 soft_sqrt(struct fp_ctx *c, struct f80 a, struct f80 b)
{
    (void)b;
    return f80_sqrt(c, a);
}
static struct f80 soft_rndint(struct fp_ctx *c, struct f80 a, struct f80 b)
{
    (void)b;
    return f80_round_int(c, a);
}

Test(fpu_soft_diff, add) { cr_expect_eq(diff_binop("add", f80_add, host_add, false, FPU_TEST_ITERS, true), 0); }
Test(fpu_soft_diff, sub) { cr_expect_eq(diff_binop("sub", f80_sub, host_sub, false, FPU_TEST_ITERS, true), 0); }
Test(fpu_soft_diff, mul) { cr_expect_eq(diff_binop("mul", f80_mul, host_mul, false, FPU_TEST_ITERS, true), 0); }
Test(fpu_soft_diff, div) { cr_expect_eq(diff_binop("div", f80_div, host_div, false, FPU_TEST_ITERS, true), 0); }
Test(fpu_soft_diff, sqrt) { cr_expect_eq(diff_binop("sqrt", soft_sqrt, host_sqrt, true, FPU_TEST_ITERS, true), 0); }
Test(fpu_soft_diff, frndint)
{
    cr_expect_eq(diff_binop("frndint", soft_rndint, host_rndint, true, FPU_TEST_ITERS, false), 0);
}

Test(fpu_soft_diff, fscale)
{
    int bad = 0;
    for (int i = 0; i < FPU_TEST_ITERS; i++) {
        struct f80 a = rnd_operand();
        struct f80 b = rnd() % 4 ? rnd_operand()
                                 : f80_from_int((int64_t)(rnd() % 70000) - 35000);
        for (unsigned rc = 0; rc < 4; rc++) {
            struct hres h = host_scale(a, b, make_cw(rc, FPP_EXTENDED));
            struct fp_ctx c = { (uint8_t)rc, FPP_EXTENDED, 0, false, 0 };
            struct f80 r = f80_scale(&c, a, b);
            if (!same(r, h.r) || c.flags != (h.sw & 0x3F) || c.c1 != ((h.sw >> 9) & 1)) {
                char d[160];
                snprintf(d, sizeof d, "host=%04x:%016llx sw=%03x soft=%04x:%016llx fl=%02x c1=%d",
                         h.r.sign_exp, (unsigned long long)h.r.sig, h.sw & 0x23F, r.sign_exp,
                         (unsigned long long)r.sig, c.flags, c.c1);
                report("fscale", a, b, rc, 3, d);
                bad++;
            }
        }
    }
    cr_expect_eq(bad, 0);
}

Test(fpu_soft_diff, fxtract)
{
    int bad = 0;
    for (int i = 0; i < FPU_TEST_ITERS; i++) {
        struct f80 a = rnd_operand();
        struct hres h = host_xtract(a, make_cw(0, 3));
        struct fp_ctx c = { 0, 3, 0, false, 0 };
        struct f80 e, s = f80_extract(&c, a, &e);
        if (!same(s, h.r) || !same(e, h.r2) || c.flags != (h.sw & 0x3F)) {
            char d[200];
            snprintf(d, sizeof d, "host=%04x:%016llx,%04x:%016llx sw=%02x soft fl=%02x", h.r.sign_exp,
                     (unsigned long long)h.r.sig, h.r2.sign_exp, (unsigned long long)h.r2.sig,
                     h.sw & 0x3F, c.flags);
            report("fxtract", a, a, 0, 3, d);
            bad++;
        }
    }
    cr_expect_eq(bad, 0);
}

static int diff_prem(bool ieee)
{
    int bad = 0;
    for (int i = 0; i < FPU_TEST_ITERS; i++) {
        struct f80 a = rnd_operand(), b;
        if (rnd() % 2) {
            int e = (a.sign_exp & 0x7FFF) - (int)(rnd() % 140) + 2;
            b = F((uint16_t)(((rnd() & 1) << 15) | (unsigned)(e < 1 ? 1 : e > 0x7FFE ? 0x7FFE : e)),
                  rnd_sig());
        } else {
            b = rnd_operand();
        }
        struct hres h = (ieee ? host_prem1 : host_prem)(a, b, make_cw(0, 3));
        struct fp_ctx c = { 0, 3, 0, false, 0 };
        bool inc;
        unsigned q;
        struct f80 r = f80_rem(&c, a, b, ieee, &inc, &q);
        uint16_t cc = h.sw & 0x4700;
        uint16_t mine = (uint16_t)((inc ? 0x400 : 0) | ((q & 4) ? 0x100 : 0) | ((q & 2) ? 0x4000 : 0) |
                                   ((q & 1) ? 0x200 : 0));
        bool nan_case = (c.flags & FPX_IE) != 0; /* condition codes undefined */
        if (!same(r, h.r) || c.flags != (h.sw & 0x3F) || (!nan_case && cc != mine)) {
            char d[200];
            snprintf(d, sizeof d, "host=%04x:%016llx sw=%04x soft=%04x:%016llx fl=%02x cc=%04x",
                     h.r.sign_exp, (unsigned long long)h.r.sig, h.sw & 0x473F, r.sign_exp,
                     (unsigned long long)r.sig, c.flags, mine);
            report(ieee ? "fprem1" : "fprem", a, b, 0, 3, d);
            bad++;
        }
    }
    return bad;
}
Test(fpu_soft_diff, fprem) { cr_expect_eq(diff_prem(false), 0); }
Test(fpu_soft_diff, fprem1) { cr_expect_eq(diff_prem(true), 0); }

Test(fpu_soft_diff, compare)
{
    int bad = 0;
    for (int i = 0; i < FPU_TEST_ITERS; i++) {
        struct f80 a = rnd_operand(), b = rnd() % 4 ? rnd_partner(a) : a;
        if (rnd() % 8 == 0)
            b = F(a.sign_exp ^ 0x8000, 0); /* +0 vs -0 etc. */
        for (int quiet = 0; quiet < 2; quiet++) {
            struct hres h = (quiet ? host_ucom : host_com)(a, b, make_cw(0, 3));
            struct fp_ctx c = { 0, 3, 0, false, 0 };
            int r = f80_compare(&c, a, b, quiet);
            static const uint16_t codes[4] = { 0x0100, 0x4000, 0x0000, 0x4500 }; /* <, =, >, ? */
            if (codes[r + 1] != (h.sw & 0x4500) || c.flags != (h.sw & 0x3F)) {
                char d[100];
                snprintf(d, sizeof d, "quiet=%d host sw=%04x soft=%d fl=%02x", quiet, h.sw, r, c.flags);
                report("compare", a, b, 0, 3, d);
                bad++;
            }
        }
    }
    cr_expect_eq(bad, 0);
}

Test(fpu_soft_diff, stores)
{
    int bad = 0;
    for (int i = 0; i < FPU_TEST_ITERS; i++) {
        struct f80 a = rnd_operand();
        if (rnd() % 3 == 0) /* integer-sized values */
            a = F((uint16_t)(((rnd() & 1) << 15) | (16383 + rnd() % 66)), rnd_sig());
        for (unsigned rc = 0; rc < 4; rc++) {
            uint16_t cw = make_cw(rc, rnd() % 2 ? 3 : 0); /* PC must not matter */
            uint16_t sw;
            char d[200];
            struct fp_ctx c;
#define CHECK(label, hostexpr, softexpr, fmt)                                                     \
    do {                                                                                         \
        c = (struct fp_ctx){ (uint8_t)rc, 3, 0, false, 0 };                                         \
        long long hv = (long long)(hostexpr);                                                    \
        long long sv = (long long)(softexpr);                                                    \
        if (hv != sv || c.flags != (sw & 0x3F) || (!(sw & 1) && c.c1 != ((sw >> 9) & 1))) {      \
            snprintf(d, sizeof d, label " host=" fmt " sw=%03x soft=" fmt " fl=%02x c1=%d", hv,  \
                     sw & 0x23F, sv, c.flags, c.c1);                                              \
            report("store", a, a, rc, 3, d);                                                     \
            bad++;                                                                               \
        }                                                                                        \
    } while (0)
            CHECK("fist16", host_fist16(a, cw, &sw), (int16_t)f80_to_int(&c, a, 16), "%lld");
            CHECK("fist32", host_fist32(a, cw, &sw), (int32_t)f80_to_int(&c, a, 32), "%lld");
            CHECK("fist64", host_fist64(a, cw, &sw), f80_to_int(&c, a, 64), "%lld");
            CHECK("fst32", host_fst32(a, cw, &sw), f80_to_f32(&c, a), "%llx");
            CHECK("fst64", host_fst64(a, cw, &sw), f80_to_f64(&c, a), "%llx");
            struct bcd10 hb = host_fbstp(a, cw, &sw), sb;
            c = (struct fp_ctx){ (uint8_t)rc, 3, 0, false, 0 };
            f80_to_bcd(&c, a, sb.b);
            if (memcmp(hb.b, sb.b, 10) || c.flags != (sw & 0x3F)) {
                snprintf(d, sizeof d, "fbstp host=%02x%02x..%02x sw=%02x soft=%02x%02x..%02x fl=%02x",
                         hb.b[9], hb.b[8], hb.b[0], sw & 0x3F, sb.b[9], sb.b[8], sb.b[0], c.flags);
                report("store", a, a, rc, 3, d);
                bad++;
            }
        }
    }
    cr_expect_eq(bad, 0);
}

Test(fpu_soft_diff, loads)
{
    int bad = 0;
    for (int i = 0; i < 40000; i++) {
        uint64_t v = rnd();
        switch (i % 6) {
        case 0: v &= 0x800FFFFFFFFFFFFFull; break;          /* f64 denormal */
        case 1: v |= 0x7FF0000000000000ull; break;          /* f64 inf/NaN */
        case 2: v &= 0x807FFFFF807FFFFFull; break;          /* f32 denormal */
        case 3: v |= 0x7F8000007F800000ull; break;          /* f32 inf/NaN */
        default: break;
        }
        if (i % 17 == 0)
            v &= 0x8000000080000000ull; /* zeros */
        uint16_t sw;
        struct fp_ctx c = { 0, 3, 0, false, 0 };
        struct f80 h = host_fld64(v, &sw), s = f80_from_f64(&c, v);
        if (!same(h, s) || c.flags != (sw & 0x3F)) {
            report("fld64", F(0, v), F(0, 0), 0, 3, "");
            bad++;
        }
        uint32_t w = (uint32_t)v;
        c = (struct fp_ctx){ 0, 3, 0, false, 0 };
        h = host_fld32(w, &sw);
        s = f80_from_f32(&c, w);
        if (!same(h, s) || c.flags != (sw & 0x3F)) {
            report("fld32", F(0, w), F(0, 0), 0, 3, "");
            bad++;
        }
    }
    cr_expect_eq(bad, 0);
}

/* ---- transcendentals: within a few ulps of the host x87 for finite
 * results, identical for the special cases and the IE/ZE/DE flags ---- */
HOST_BINOP(host_f2xm1, "f2xm1")
HOST_BINOP(host_fyl2x, "fyl2x")
HOST_BINOP(host_fyl2xp1, "fyl2xp1")
HOST_BINOP(host_fpatan, "fpatan")
HOST_BINOP(host_fsin, "fsin")
HOST_BINOP(host_fcos, "fcos")
HOST_BINOP(host_fptan, "fptan")

/* distance in ulps between two f80 of the same class/sign (huge if not) */
static uint64_t ulps(struct f80 a, struct f80 b)
{
    if (same(a, b))
        return 0;
    if ((a.sign_exp ^ b.sign_exp) & 0x8000)
        return UINT64_MAX;
    int ea = a.sign_exp & 0x7FFF, eb = b.sign_exp & 0x7FFF;
    if (ea == 0x7FFF || eb == 0x7FFF || ea - eb > 1 || eb - ea > 1)
        return UINT64_MAX;
    __extension__ unsigned __int128 ka = ((unsigned __int128)ea << 63) | (a.sig & ~(1ull << 63));
    __extension__ unsigned __int128 kb = ((unsigned __int128)eb << 63) | (b.sig & ~(1ull << 63));
    __extension__ unsigned __int128 d = ka > kb ? ka - kb : kb - ka;
    return d > 1000 ? UINT64_MAX : (uint64_t)d;
}

enum trans { T_F2XM1, T_YL2X, T_YL2XP1, T_PATAN, T_SIN, T_COS, T_TAN };

static struct f80 soft_trans(enum trans t, struct fp_ctx *c, struct f80 a, struct f80 b, bool *oor)
{
    struct f80 r;
    *oor = false;
    switch (t) {
    case T_F2XM1: return f80_f2xm1(c, a);
    case T_YL2X: return f80_yl2x(c, a, b);
    case T_YL2XP1: return f80_yl2xp1(c, a, b);
    case T_PATAN: return f80_patan(c, a, b);
    case T_SIN: f80_sincos(c, a, &r, NULL, oor); return r;
    case T_COS: f80_sincos(c, a, NULL, &r, oor); return r;
    default: return f80_tan(c, a, oor);
    }
}

static int diff_trans(enum trans t, const char *name, host_binop host, struct f80 (*gen_a)(void))
{
    int bad = 0;
    for (int i = 0; i < 5000; i++) {
        struct f80 a = gen_a(), b = rnd() % 3 ? rnd_operand() : rnd_special();
        if (t == T_F2XM1 && (a.sign_exp & 0x7FFF) >= 0x3FFF && (a.sign_exp & 0x7FFF) != 0x7FFF &&
            (a.sign_exp & 0x7FFF) != 0)
            continue; /* |x| >= 1: the SDM leaves F2XM1 undefined there */
        if (t == T_YL2XP1 && (a.sign_exp & 0x7FFF) >= 0x3FFD && (a.sign_exp & 0x7FFF) != 0x7FFF)
            continue; /* |x| >= 1/4 (domain ends at 1 - sqrt(2)/2): undefined */
        struct hres h = host(a, b, make_cw(0, 3));
        struct fp_ctx c = { 0, 3, 0, false, 0 };
        bool oor;
        struct f80 r = soft_trans(t, &c, a, b, &oor);
        struct f80 hr = h.r;
        if (t == T_TAN && !(h.sw & 0x400))
            hr = h.r2; /* FPTAN pushed 1.0 above the tangent */
        bool hoor = (h.sw & 0x400) != 0;
        uint8_t strict = FPX_IE | FPX_ZE | FPX_DE;
        uint64_t d = ulps(r, hr);
        if (hoor != oor || (!oor && d > 4) || (c.flags & strict) != (h.sw & strict) ||
            ((h.sw & FPX_PE) && !(c.flags & FPX_PE))) {
            char m[200];
            snprintf(m, sizeof m, "host=%04x:%016llx sw=%04x soft=%04x:%016llx fl=%02x oor=%d",
                     hr.sign_exp, (unsigned long long)hr.sig, h.sw, r.sign_exp,
                     (unsigned long long)r.sig, c.flags, oor);
            report(name, a, b, 0, 3, m);
            bad++;
        }
    }
    return bad;
}

static struct f80 gen_unit(void) /* mostly within [-1, 1], the F2XM1 domain */
{
    if (rnd() % 5 == 0)
        return rnd_special();
    return F((uint16_t)(((rnd() & 1) << 15) | (16383 - 1 - rnd() % 80)), rnd_sig());
}
static struct f80 gen_small(void) /* FYL2XP1 domain |x| < 0.29 */
{
    if (rnd() % 5 == 0)
        return rnd_special();
    return F((uint16_t)(((rnd() & 1) << 15) | (16383 - 3 - rnd() % 80)), rnd_sig());
}
static struct f80 gen_positive(void)
{
    struct f80 a = rnd() % 6 ? rnd_operand() : rnd_special();
    if (rnd() % 4)
        a.sign_exp &= 0x7FFF;
    return a;
}
static struct f80 gen_angle(void)
{
    if (rnd() % 5 == 0)
        return rnd_operand();
    return F((uint16_t)(((rnd() & 1) << 15) | (16383 - 20 + rnd() % 24)), rnd_sig());
}

Test(fpu_trans_diff, f2xm1) { cr_expect_eq(diff_trans(T_F2XM1, "f2xm1", host_f2xm1, gen_unit), 0); }
Test(fpu_trans_diff, fyl2x) { cr_expect_eq(diff_trans(T_YL2X, "fyl2x", host_fyl2x, gen_positive), 0); }
Test(fpu_trans_diff, fyl2xp1) { cr_expect_eq(diff_trans(T_YL2XP1, "fyl2xp1", host_fyl2xp1, gen_small), 0); }
Test(fpu_trans_diff, fpatan) { cr_expect_eq(diff_trans(T_PATAN, "fpatan", host_fpatan, rnd_operand), 0); }
Test(fpu_trans_diff, fsin) { cr_expect_eq(diff_trans(T_SIN, "fsin", host_fsin, gen_angle), 0); }
Test(fpu_trans_diff, fcos) { cr_expect_eq(diff_trans(T_COS, "fcos", host_fcos, gen_angle), 0); }
Test(fpu_trans_diff, fptan) { cr_expect_eq(diff_trans(T_TAN, "fptan", host_fptan, gen_angle), 0); }

Test(fpu_soft_diff, fbld)
{
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        struct bcd10 v;
        for (int j = 0; j < 9; j++) {
            uint64_t r = rnd();
            v.b[j] = (uint8_t)((r % 10) << 4 | (r >> 8) % 10);
        }
        v.b[9] = (uint8_t)(rnd() & 0x80);
        if (i % 7 == 0)
            memset(v.b, 0, 9); /* signed zeros */
        else if (i % 3 == 0)
            memset(v.b + 1 + rnd() % 8, 0, 1); /* sprinkle small magnitudes */
        uint16_t sw;
        struct f80 h = host_fbld(v, &sw), r = f80_from_bcd(v.b);
        if (!same(h, r) || (sw & 0x3F)) {
            char d[100];
            snprintf(d, sizeof d, "fbld host=%04x:%016llx soft=%04x:%016llx", h.sign_exp,
                     (unsigned long long)h.sig, r.sign_exp, (unsigned long long)r.sig);
            report("fbld", r, r, 0, 3, d);
            bad++;
        }
    }
    cr_expect_eq(bad, 0);
}

/*
 * Unmasked overflow and underflow (SDM Vol. 1 4.9.1.4-5): the register
 * result is the rounded value with its exponent re-biased by 24576, and
 * UE is raised for any tiny result. The host x87 with OE/UE unmasked is
 * the reference: FNSTSW and FNSAVE do not wait, so the pending exception
 * does not trap, and FNSAVE's image holds ST(0).
 */
#define HOST_WRAP(name, insn)                                                                    \
    static struct hres name(struct f80 a, struct f80 b, uint16_t cw)                             \
    {                                                                                            \
        struct hres h;                                                                           \
        uint8_t img[108];                                                                        \
        memset(&h, 0, sizeof h);                                                                 \
        __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\tfnclex\n\t" insn    \
                         "\n\tfnstsw %[sw]\n\tfnsave %[img]\n\tfninit"                           \
                         : [img] "=m"(img), [sw] "=m"(h.sw)                                      \
                         : [a] "m"(a), [b] "m"(b), [cw] "m"(cw)                                  \
                         : X87_CLOBBERS);                                                        \
        memcpy(&h.r.sig, img + 28, 8);                                                           \
        memcpy(&h.r.sign_exp, img + 36, 2);                                                      \
        return h;                                                                                \
    }
HOST_WRAP(host_mul_wrap, "fmul %%st(1), %%st")
HOST_WRAP(host_div_wrap, "fdiv %%st(1), %%st")
HOST_WRAP(host_add_wrap, "fadd %%st(1), %%st")

Test(fpu_soft_diff, unmasked_overflow_underflow_rebias)
{
    static const struct {
        const char *name;
        soft_binop soft;
        struct hres (*host)(struct f80, struct f80, uint16_t);
        uint16_t ea, eb; /* exponent bases of a and b */
    } cases[] = {
        { "mul overflow", f80_mul, host_mul_wrap, 0x6000, 0x6000 },
        { "mul underflow", f80_mul, host_mul_wrap, 0x1000, 0x1000 },
        { "div overflow", f80_div, host_div_wrap, 0x7000, 0x1000 },
        { "div underflow", f80_div, host_div_wrap, 0x1000, 0x7000 },
        { "add overflow", f80_add, host_add_wrap, 0x7ffe, 0x7ffe },
    };
    int bad = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int i = 0; i < 2000; i++) {
            uint64_t r1 = rnd(), r2 = rnd();
            struct f80 a = F((uint16_t)(cases[k].ea + (r1 & 0xfff) % (0x7fff - cases[k].ea)) |
                                 (uint16_t)((r2 & 1) << 15),
                             (r1 | 1ull << 63));
            struct f80 b = F((uint16_t)(cases[k].eb + (r2 >> 8 & 0xfff) % (0x7fff - cases[k].eb)),
                             (r2 | 1ull << 63));
            for (unsigned rc = 0; rc < 4; rc++) {
                for (unsigned pi = 0; pi < 3; pi++) {
                    unsigned pc = PCS[pi];
                    uint16_t cw = (uint16_t)(make_cw(rc, pc) & ~(FPX_OE | FPX_UE));
                    struct hres h = cases[k].host(a, b, cw);
                    struct fp_ctx c = { (uint8_t)rc, (uint8_t)pc, 0, false, FPX_OE | FPX_UE };
                    struct f80 r = cases[k].soft(&c, a, b);
                    if (!same(r, h.r) || c.flags != (h.sw & 0x3F)) {
                        char d[200];
                        snprintf(d, sizeof d, "host=%04x:%016llx sw=%02x soft=%04x:%016llx fl=%02x",
                                 h.r.sign_exp, (unsigned long long)h.r.sig, h.sw & 0x3F,
                                 r.sign_exp, (unsigned long long)r.sig, c.flags);
                        report(cases[k].name, a, b, rc, pc, d);
                        bad++;
                    }
                }
            }
        }
    }
    cr_assert_eq(bad, 0, "%d unmasked OE/UE results differ from the host x87", bad);
}

#endif /* x87 host */

/* ---- fixed values (SDM Vol. 1 chapter 4 encodings) ---- */

static struct fp_ctx ctx(unsigned rc, unsigned pc) { return (struct fp_ctx){ (uint8_t)rc, (uint8_t)pc, 0, false, 0 }; }

Test(fpu_soft, basic_values)
{
    struct fp_ctx c = ctx(FPR_NEAREST, FPP_EXTENDED);
    struct f80 one = f80_from_int(1), three = f80_from_int(3);
    cr_expect(same(one, F(0x3FFF, 1ull << 63)));
    cr_expect(same(f80_add(&c, one, one), F(0x4000, 1ull << 63)));
    cr_expect_eq(c.flags, 0);
    struct f80 third = f80_div(&c, one, three); /* 0.AAAA..AB (rounded up) */
    cr_expect(same(third, F(0x3FFD, 0xAAAAAAAAAAAAAAABull)));
    cr_expect_eq(c.flags, FPX_PE);
    cr_expect(c.c1);
    c = ctx(FPR_ZERO, FPP_EXTENDED);
    cr_expect(same(f80_div(&c, one, three), F(0x3FFD, 0xAAAAAAAAAAAAAAAAull)));
    c = ctx(FPR_NEAREST, FPP_SINGLE); /* 24-bit: 0xAAAAAB << 40 */
    cr_expect(same(f80_div(&c, one, three), F(0x3FFD, 0xAAAAAB0000000000ull)));
    c = ctx(FPR_NEAREST, FPP_EXTENDED);
    cr_expect(same(f80_sqrt(&c, f80_from_int(4)), F(0x4000, 1ull << 63)));
    cr_expect_eq(c.flags, 0);
    cr_expect_eq(f80_from_f64(&c, 0x3FF0000000000000ull).sign_exp, 0x3FFF);
    cr_expect_eq(f80_to_f64(&c, one), 0x3FF0000000000000ull);
    cr_expect_eq(f80_to_f32(&c, f80_from_int(-2)), 0xC0000000u);
}

Test(fpu_soft, invalid_and_zero_divide)
{
    struct fp_ctx c = ctx(FPR_NEAREST, FPP_EXTENDED);
    struct f80 inf = f80_inf(false), zero = f80_zero(false), one = f80_from_int(1);
    cr_expect(same(f80_sub(&c, inf, inf), F80_INDEFINITE));
    cr_expect_eq(c.flags, FPX_IE);
    c = ctx(FPR_NEAREST, FPP_EXTENDED);
    cr_expect(same(f80_mul(&c, zero, inf), F80_INDEFINITE));
    c = ctx(FPR_NEAREST, FPP_EXTENDED);
    cr_expect(same(f80_div(&c, f80_from_int(-1), zero), f80_inf(true)));
    cr_expect_eq(c.flags, FPX_ZE);
    c = ctx(FPR_NEAREST, FPP_EXTENDED);
    cr_expect(same(f80_sqrt(&c, f80_from_int(-1)), F80_INDEFINITE));
    cr_expect_eq(c.flags, FPX_IE);
    c = ctx(FPR_NEAREST, FPP_EXTENDED);
    cr_expect_eq(f80_to_int(&c, inf, 32), INT32_MIN);
    cr_expect_eq(c.flags, FPX_IE);
    c = ctx(FPR_DOWN, FPP_EXTENDED); /* x - x = -0 when rounding down */
    struct f80 r = f80_sub(&c, one, one);
    cr_expect(same(r, f80_zero(true)));
    c = ctx(FPR_NEAREST, FPP_EXTENDED);
    cr_expect_eq(f80_compare(&c, f80_zero(true), zero, false), 0);
    cr_expect_eq(f80_compare(&c, F(0x7FFF, 0xC000000000000001ull), one, true), 2);
    cr_expect_eq(c.flags, 0); /* QNaN, unordered compare: no IE */
    cr_expect_eq(f80_compare(&c, F(0x7FFF, 0xC000000000000001ull), one, false), 2);
    cr_expect_eq(c.flags, FPX_IE);
}

Test(fpu_soft, bcd)
{
    const uint8_t in[10] = { 0x21, 0x43, 0x65, 0, 0, 0, 0, 0, 0, 0x80 }; /* -654321 */
    struct f80 v = f80_from_bcd(in);
    cr_expect(same(v, f80_from_int(-654321)));
    struct fp_ctx c = ctx(FPR_NEAREST, FPP_EXTENDED);
    uint8_t out[10];
    f80_to_bcd(&c, v, out);
    cr_expect_arr_eq(out, in, 10);
    f80_to_bcd(&c, f80_from_int(1000000000000000000ll), out);
    const uint8_t indef[10] = { 0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF };
    cr_expect_arr_eq(out, indef, 10);
    cr_expect_eq(c.flags, FPX_IE);
}
