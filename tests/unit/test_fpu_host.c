/*
 * test_fpu_host.c — the fast x87 paths against cpu/fpu_soft.c.
 *
 * Every form that cpu/fpu_fast.c specialises runs from the same random
 * state three ways: (1) its specialised handler (cpu_fast_handler, what
 * the block cache and the JIT call), (2) the general handler (cpu/fpu.c
 * fpu_exec), both with the host's x87 and the integer shortcuts of
 * cpu/fpu_arith.h; (3) the general handler with cpu->x87_soft set: all
 * arithmetic in cpu/fpu_soft.c, the reference. Every bit of the x87
 * state (registers, status, control and tag words, TOP, the instruction
 * and operand pointers), EFLAGS, AX, the memory operand and the vector
 * raised, if any, must agree.
 *
 * The states cover every rounding and precision control, masked and
 * unmasked exceptions (with pending ones: #MF), empty registers (stack
 * faults), normal, double- and single-exact (a third of the states are
 * a double-precision program's, for cpu/fpu_sse.h), tiny, huge, denormal,
 * pseudo-denormal, unnormal, infinite and NaN operands; and the host's
 * own exception flags are set at random first, as an earlier operation
 * or a guest FNCLEX would leave them (cpu/fpu_arith.h).
 */
#include <criterion/criterion.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/internal.h"

#define RAM_SIZE 0x10000u
#define OPND 0x100u /* the memory operand (DS:0100) */

static struct cpu *cpu;
static struct phys_mem *pm;
static uint8_t *ram;

static void setup(void)
{
    ram = calloc(1, RAM_SIZE);
    pm = phys_new();
    cr_assert_eq(phys_map_ram(pm, 0, RAM_SIZE, ram), 0);
    struct cpu_bus bus = {.mem = pm};
    cpu = cpu_new(&bus);
}

static void teardown(void)
{
    cpu_free(cpu);
    phys_free(pm);
    free(ram);
}

TestSuite(fpu_host, .init = setup, .fini = teardown);

/* ---- random values (deterministic xorshift) ---- */

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static struct f80 F(uint16_t se, uint64_t sig)
{
    return (struct f80){sig, se};
}

static uint64_t rnd_sig(void)
{
    uint64_t r = rnd() | 1ull << 63;
    switch (rnd() % 6) {
    case 0: return r & ~0x7ffull;          /* a double's 53 bits */
    case 1: return r & ~((1ull << 40) - 1); /* a single's 24 bits */
    case 2: return (r & ~0x7ffull) | 0x400; /* a tie at 53 bits */
    case 3: return 1ull << 63 | (r & 0xff); /* near a power of two */
    default: return r;
    }
}

static struct f80 rnd_value(void)
{
    uint16_t s = (uint16_t)((rnd() & 1) << 15);
    uint64_t r = rnd();
    switch (rnd() % 16) {
    case 0: return F(s, 0);
    case 1: return F(s | 0x7fff, 1ull << 63);                 /* infinity */
    case 2: return F(s, r >> (1 + rnd() % 63));               /* denormal */
    case 3: return F(s, r | 1ull << 63);                      /* pseudo-denormal */
    case 4: return F(s | 0x7fff, 3ull << 62 | (r >> 3));      /* QNaN */
    case 5: return F(s | 0x7fff, 1ull << 63 | (r >> 3) | 1);  /* SNaN */
    case 6: return F(s | (uint16_t)(1 + r % 0x7ffe), r >> 1); /* unnormal */
    case 7: return F(s | (uint16_t)(1 + rnd() % 80), rnd_sig());      /* tiny */
    case 8: return F(s | (uint16_t)(0x7ffe - rnd() % 80), rnd_sig()); /* huge */
    case 9: return F(s | (uint16_t)(16383 - 1030 + rnd() % 60), rnd_sig()); /* double's edge */
    case 10: return F(s | (uint16_t)(1 + rnd() % 0x7ffe), rnd_sig());
    default: return F(s | (uint16_t)(16383 - 40 + rnd() % 80), rnd_sig());
    }
}

/* A memory operand of the form's format: random bits with the exponent
 * fields made interesting now and then. */
static void rnd_memory(uint8_t *m)
{
    uint64_t v = rnd();
    switch (rnd() % 8) {
    case 0: v &= 0x800fffffffffffffull; break; /* double denormal or zero */
    case 1: v |= 0x7ff0000000000000ull; break; /* double infinity or NaN */
    case 2: v &= 0x807fffff807fffffull; break; /* single denormal or zero */
    case 3: v |= 0x7f8000007f800000ull; break; /* single infinity or NaN */
    case 4: v = (v & 0x800fffff00000000ull) | 0x3ff0000000000000ull; break; /* small double */
    case 5: v = (v & 0xff) * ((rnd() & 1) ? 1 : 0xffffffffffffffffull); break; /* small int */
    default: break;
    }
    struct f80 x = rnd_value();
    memcpy(m, &v, 8);
    if (rnd() % 4 == 0) { /* an m80 operand */
        memcpy(m, &x.sig, 8);
        memcpy(m + 8, &x.sign_exp, 2);
    } else {
        uint16_t w = (uint16_t)rnd();
        memcpy(m + 8, &w, 2);
    }
}

/* ---- one state, run three ways ---- */

struct snap {
    struct fpu f;
    uint32_t eflags, eax;
    uint8_t mem[16];
    int vector;
};

static const uint16_t pcs[4] = {0x000, 0x200, 0x300, 0x100};

/* A value a program computing in doubles on the x87 holds: a 53-bit
 * significand, a moderate exponent (cpu/fpu_sse.h's shortcut), now and
 * then anything else. */
static struct f80 rnd_double_value(void)
{
    if (rnd() % 8 == 0)
        return rnd_value();
    uint16_t s = (uint16_t)((rnd() & 1) << 15);
    unsigned e = rnd() % 16 ? 16383 - 60 + (unsigned)(rnd() % 120)
                            : 16383 - 905 + (unsigned)(rnd() % 10) * 201; /* the window's edges */
    return F((uint16_t)(s | e), (rnd() | 1ull << 63) & ~0x7ffull);
}

static void rnd_state(struct snap *s)
{
    memset(s, 0, sizeof(*s));
    struct fpu *f = &s->f;
    unsigned rc = rnd() % 4, pc = pcs[rnd() % 8 < 6 ? rnd() % 3 : 3];
    unsigned masks = rnd() % 4 ? 0x3f : (unsigned)(rnd() & 0x3f);
    /* One state in three is a double-precision program's. */
    bool doubles = rnd() % 3 == 0;
    if (doubles) {
        rc = 0;
        pc = 0x200;
        masks = 0x3f;
    }
    f->cw = (uint16_t)(0x40 | masks | pc | rc << 10);
    f->top = (uint8_t)(rnd() & 7);
    f->tag_empty = 0;
    for (unsigned r = 0; r < 8; r++) {
        struct f80 v = doubles ? rnd_double_value() : rnd_value();
        f->st[r].sig = v.sig;
        f->st[r].sign_exp = v.sign_exp;
        if (rnd() % 10 == 0)
            f->tag_empty |= (uint8_t)(1u << r);
    }
    /* Sticky flags: often none, often PE (the common state of a running
     * program), sometimes any; ES and B as the masks make them. */
    unsigned flags = rnd() % 3 == 0 ? 0 : rnd() % 2 ? 0x20 : (unsigned)(rnd() & 0x3f);
    f->sw = (uint16_t)(flags | (rnd() & 0x4700));
    if (flags & ~masks & 0x3f)
        f->sw |= 0x8080;
    f->fip = (uint32_t)rnd();
    f->fop = (uint16_t)(rnd() & 0x7ff);
    s->eflags = 0x2 | (uint32_t)(rnd() & 0x8d5);
    s->eax = (uint32_t)rnd();
    rnd_memory(s->mem);
    if (doubles && rnd() % 2) { /* an m64real or m32real operand of the same kind */
        struct f80 v = rnd_double_value();
        unsigned e = v.sign_exp & 0x7fff;
        uint64_t d = ((uint64_t)(v.sign_exp >> 15) << 63) | (uint64_t)(e - 16383 + 1023) << 52 |
                     ((v.sig >> 11) & ((1ull << 52) - 1));
        if (e - (16383 - 1000) < 2000) {
            if (rnd() % 2) {
                memcpy(s->mem, &d, 8);
            } else {
                uint32_t w = (uint32_t)(d >> 32 & 0x80000000u) |
                             (uint32_t)((e - 16383 + 127) & 0xff) << 23 |
                             (uint32_t)(v.sig >> 40 & 0x7fffff);
                memcpy(s->mem, &w, 4);
            }
        }
    }
}

#if defined(__x86_64__)
/* The host's exception flags set to `flags` (FNSTENV/FLDENV: the host's
 * control word masks everything, so nothing traps). */
static void host_set_flags(unsigned flags)
{
    uint32_t env[7];
    __asm__ volatile("fnstenv %0" : "=m"(env));
    env[1] = (env[1] & ~0x3fu) | (flags & 0x3f);
    __asm__ volatile("fldenv %0" : : "m"(env));
}
#else
static void host_set_flags(unsigned flags)
{
    (void)flags;
}
#endif

static void run(insn_fn fn, const struct insn *in, const struct snap *from, bool soft,
                unsigned host_flags, struct snap *out)
{
    jmp_buf jb;
    cpu->fpu = from->f;
    cpu->cr0 = (cpu->cr0 | 0x22) & ~0xcu; /* NE, MP */
    cpu->eflags = from->eflags;
    cpu->cc.op = CC_EAGER;
    cpu->regs[R_EAX] = from->eax;
    cpu->x87_soft = soft;
    memcpy(ram + OPND, from->mem, 16);
    cpu->fault_jmp = &jb;
    cpu->exc_vector = -1;
    host_set_flags(host_flags);
    out->vector = -1;
    if (setjmp(jb))
        out->vector = cpu->exc_vector;
    else
        fn(cpu, in);
    cpu->fault_jmp = NULL;
    out->f = cpu->fpu;
    out->eflags = cpu_get_eflags(cpu);
    out->eax = cpu->regs[R_EAX];
    memcpy(out->mem, ram + OPND, 16);
}

static bool same_state(const struct snap *a, const struct snap *b, char *why, size_t n)
{
    const struct fpu *x = &a->f, *y = &b->f;
    for (unsigned r = 0; r < 8; r++)
        if (x->st[r].sig != y->st[r].sig || x->st[r].sign_exp != y->st[r].sign_exp) {
            snprintf(why, n, "R%u %04x:%016llx vs %04x:%016llx", r, x->st[r].sign_exp,
                     (unsigned long long)x->st[r].sig, y->st[r].sign_exp,
                     (unsigned long long)y->st[r].sig);
            return false;
        }
    if (x->sw != y->sw || x->cw != y->cw || x->tag_empty != y->tag_empty || x->top != y->top) {
        snprintf(why, n, "sw %04x/%04x cw %04x/%04x empty %02x/%02x top %u/%u", x->sw, y->sw,
                 x->cw, y->cw, x->tag_empty, y->tag_empty, x->top, y->top);
        return false;
    }
    if (x->fip != y->fip || x->fop != y->fop || x->fdp != y->fdp || x->fcs != y->fcs ||
        x->fds != y->fds) {
        snprintf(why, n, "pointers");
        return false;
    }
    if (a->eflags != b->eflags || a->eax != b->eax || a->vector != b->vector ||
        memcmp(a->mem, b->mem, 16)) {
        snprintf(why, n, "eflags %x/%x eax %x/%x vector %d/%d mem %s", a->eflags, b->eflags,
                 a->eax, b->eax, a->vector, b->vector, memcmp(a->mem, b->mem, 16) ? "differs" : "=");
        return false;
    }
    return true;
}

static struct insn x87_insn(unsigned esc, unsigned modrm)
{
    struct insn in;
    memset(&in, 0, sizeof(in));
    in.op = OP_X87;
    in.opcode = (uint16_t)esc;
    in.len = 4;
    in.opsize = 2;
    in.adsize = 2;
    in.seg = SEG_DS;
    in.seg_override = SEG_NONE;
    in.ea_base = EA_NO_REG;
    in.ea_index = EA_NO_REG;
    in.has_modrm = 1;
    in.modrm = (uint8_t)modrm;
    in.mod = (uint8_t)(modrm >> 6);
    in.reg = (uint8_t)((modrm >> 3) & 7);
    in.rm = (uint8_t)(modrm & 7);
    if (in.mod == 0 && in.rm == 6)
        in.disp = (int32_t)OPND;
    in.fn = cpu_insn_handler(OP_X87);
    return in;
}

/* Runs `trials` random states through every specialised form; returns
 * the number of differences (the first few are printed). */
static int cross_check(int trials)
{
    int bad = 0, forms = 0;
    for (unsigned esc = 0xd8; esc <= 0xdf; esc++) {
        for (unsigned k = 0; k < 72; k++) {
            /* 64 register forms, then the 8 memory forms (mod 0, rm 6). */
            unsigned modrm = k < 64 ? 0xc0 | k : ((k - 64) << 3) | 6;
            struct insn in = x87_insn(esc, modrm);
            insn_fn fast = cpu_fast_handler(&in);
            if (fast == in.fn)
                continue;
            forms++;
            for (int t = 0; t < trials; t++) {
                struct snap s, ref, got[2];
                rnd_state(&s);
                run(in.fn, &in, &s, true, (unsigned)rnd(), &ref);
                run(fast, &in, &s, false, (unsigned)rnd(), &got[0]);
                run(in.fn, &in, &s, false, (unsigned)rnd(), &got[1]);
                for (int w = 0; w < 2; w++) {
                    char why[200];
                    if (same_state(&got[w], &ref, why, sizeof(why)))
                        continue;
                    if (bad++ < 20)
                        fprintf(stderr, "%02x %02x (%s handler) cw %04x sw %04x: %s\n", esc,
                                modrm, w ? "general" : "specialised", s.f.cw, s.f.sw, why);
                }
            }
        }
    }
    cr_assert_gt(forms, 100, "only %d specialised forms", forms);
    return bad;
}

Test(fpu_host, every_specialised_form_matches_fpu_soft)
{
    cr_assert_eq(cross_check(1500), 0);
}

/* A guest FNCLEX leaves the host's sticky flags set; the next operation
 * must report only what it raised itself. */
Test(fpu_host, stale_host_flags_are_not_reported)
{
    struct insn fadd = x87_insn(0xd8, 0xc1); /* FADD ST(0), ST(1) */
    struct snap s, out;
    memset(&s, 0, sizeof(s));
    s.f.cw = 0x037f;
    s.f.tag_empty = 0xfc; /* R0, R1 in use */
    s.f.st[0] = F(0x3fff, 1ull << 63); /* 1.0 + 2.0: exact */
    s.f.st[1] = F(0x4000, 1ull << 63);
    run(cpu_fast_handler(&fadd), &fadd, &s, false, 0x3f, &out);
    cr_assert_eq(out.vector, -1);
    cr_assert_eq(out.f.sw, 0, "sw %04x", out.f.sw);
    cr_assert_eq(out.f.st[0].sign_exp, 0x4000);
    cr_assert_eq(out.f.st[0].sig, 3ull << 62);
}

/* CR0.TS: #NM before anything changes, from both handlers. */
Test(fpu_host, device_not_available_first)
{
    struct insn fmul = x87_insn(0xdc, 0x0e); /* FMUL m64real */
    struct snap s, a, b;
    rnd_state(&s);
    s.f.sw &= 0x7f7f; /* nothing pending */
    run(cpu_fast_handler(&fmul), &fmul, &s, false, 0, &a);
    cr_assert_eq(a.vector, -1);
    cpu->cr0 |= 0x8;
    jmp_buf jb;
    cpu->fpu = s.f;
    cpu->fault_jmp = &jb;
    if (setjmp(jb) == 0) {
        cpu_fast_handler(&fmul)(cpu, &fmul);
        cr_assert_fail("no #NM");
    }
    cpu->fault_jmp = NULL;
    cr_assert_eq(cpu->exc_vector, 7);
    b.f = cpu->fpu;
    cr_assert_eq(memcmp(&b.f, &s.f, sizeof(s.f)), 0);
}
