/*
 * gen.c — random instruction sequences for the differential test, with
 * the set of flags each leaves architecturally defined (SDM Vol. 2, the
 * "Flags Affected" section of each instruction; Vol. 1 Appendix A).
 *
 * Everything here is a pure function of (seed, index).
 */
#include "gen.h"

#include <string.h>

/* splitmix64: small, good enough, identical on every host. */
struct rng {
    uint64_t s;
};
static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

uint32_t diff_hash(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

enum form {
    F_NONE,      /* opcode only */
    F_MODRM,     /* ModRM: reg operand and r/m operand */
    F_GROUP,     /* ModRM with reg = digit */
    F_OPREG,     /* register in the opcode's low 3 bits */
    F_ACC,       /* AL / eAX with an immediate */
    F_LEA,       /* LEA with any addressing form (no access) */
    F_STRING,    /* string instruction (string sequences only) */
};

enum imm { I_NONE, I_8, I_V, I_S8, I_SHIFT };

enum special {
    S_NONE,
    S_SHIFT,  /* flags depend on the kind (digit) and count */
    S_SHIFTD, /* SHLD/SHRD */
    S_BT_REG, /* BT* Ev,Gv: register destination only */
    S_DIV,
};

/* Condition-code reads of Jcc/SETcc/CMOVcc (cc = 0..15). */
static const uint32_t cond_reads[8] = {
    DF_OF, DF_CF, DF_ZF, DF_CF | DF_ZF, DF_SF, DF_PF, DF_SF | DF_OF, DF_ZF | DF_SF | DF_OF,
};

struct tmpl {
    const char *name;
    uint8_t op;      /* opcode (second byte if is0f) */
    uint8_t is0f;
    uint8_t form;
    uint8_t imm;
    uint8_t digit;
    uint8_t wide;    /* 1: operand size chosen at random (66 prefix) */
    uint8_t byteop;  /* operand is a byte (for ESP avoidance) */
    uint8_t mem;     /* r/m may be memory */
    uint8_t wr_rm, wr_reg; /* destinations */
    uint8_t lockable;
    uint8_t special;
    uint32_t reads, def, undef;
};

#define ALL DF_ARITH
#define LOGIC_DEF (DF_CF | DF_PF | DF_ZF | DF_SF | DF_OF)
#define INC_DEF (DF_PF | DF_AF | DF_ZF | DF_SF | DF_OF)
#define MUL_UNDEF (DF_SF | DF_ZF | DF_AF | DF_PF)

/* The eight group-1 ALU operations: reads CF for ADC/SBB. */
#define ALU_ROW(nm, base, rd, df, ud, wr)                                                   \
    { nm " Eb,Gb", base + 0, 0, F_MODRM, I_NONE, 0, 0, 1, 1, wr, 0, wr, 0, rd, df, ud },   \
    { nm " Ev,Gv", base + 1, 0, F_MODRM, I_NONE, 0, 1, 0, 1, wr, 0, wr, 0, rd, df, ud },   \
    { nm " Gb,Eb", base + 2, 0, F_MODRM, I_NONE, 0, 0, 1, 1, 0, wr, 0, 0, rd, df, ud },    \
    { nm " Gv,Ev", base + 3, 0, F_MODRM, I_NONE, 0, 1, 0, 1, 0, wr, 0, 0, rd, df, ud },    \
    { nm " AL,Ib", base + 4, 0, F_ACC, I_8, 0, 0, 1, 0, 0, 0, 0, 0, rd, df, ud },          \
    { nm " eAX,Iv", base + 5, 0, F_ACC, I_V, 0, 1, 0, 0, 0, 0, 0, 0, rd, df, ud },         \
    { nm " Eb,Ib", 0x80, 0, F_GROUP, I_8, base / 8, 0, 1, 1, wr, 0, wr, 0, rd, df, ud },   \
    { nm " Ev,Iv", 0x81, 0, F_GROUP, I_V, base / 8, 1, 0, 1, wr, 0, wr, 0, rd, df, ud },   \
    { nm " Ev,sIb", 0x83, 0, F_GROUP, I_S8, base / 8, 1, 0, 1, wr, 0, wr, 0, rd, df, ud }

static const struct tmpl templates[] = {
    ALU_ROW("add", 0x00, 0, ALL, 0, 1),
    ALU_ROW("or", 0x08, 0, LOGIC_DEF, DF_AF, 1),
    ALU_ROW("adc", 0x10, DF_CF, ALL, 0, 1),
    ALU_ROW("sbb", 0x18, DF_CF, ALL, 0, 1),
    ALU_ROW("and", 0x20, 0, LOGIC_DEF, DF_AF, 1),
    ALU_ROW("sub", 0x28, 0, ALL, 0, 1),
    ALU_ROW("xor", 0x30, 0, LOGIC_DEF, DF_AF, 1),
    ALU_ROW("cmp", 0x38, 0, ALL, 0, 0),
    { "test Eb,Gb", 0x84, 0, F_MODRM, I_NONE, 0, 0, 1, 1, 0, 0, 0, 0, 0, LOGIC_DEF, DF_AF },
    { "test Ev,Gv", 0x85, 0, F_MODRM, I_NONE, 0, 1, 0, 1, 0, 0, 0, 0, 0, LOGIC_DEF, DF_AF },
    { "test AL,Ib", 0xa8, 0, F_ACC, I_8, 0, 0, 1, 0, 0, 0, 0, 0, 0, LOGIC_DEF, DF_AF },
    { "test eAX,Iv", 0xa9, 0, F_ACC, I_V, 0, 1, 0, 0, 0, 0, 0, 0, 0, LOGIC_DEF, DF_AF },
    { "test Eb,Ib", 0xf6, 0, F_GROUP, I_8, 0, 0, 1, 1, 0, 0, 0, 0, 0, LOGIC_DEF, DF_AF },
    { "test Ev,Iv", 0xf7, 0, F_GROUP, I_V, 0, 1, 0, 1, 0, 0, 0, 0, 0, LOGIC_DEF, DF_AF },
    { "not Eb", 0xf6, 0, F_GROUP, I_NONE, 2, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0 },
    { "not Ev", 0xf7, 0, F_GROUP, I_NONE, 2, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0 },
    { "neg Eb", 0xf6, 0, F_GROUP, I_NONE, 3, 0, 1, 1, 1, 0, 1, 0, 0, ALL, 0 },
    { "neg Ev", 0xf7, 0, F_GROUP, I_NONE, 3, 1, 0, 1, 1, 0, 1, 0, 0, ALL, 0 },
    { "mul Eb", 0xf6, 0, F_GROUP, I_NONE, 4, 0, 1, 1, 0, 0, 0, 0, 0, DF_CF | DF_OF, MUL_UNDEF },
    { "mul Ev", 0xf7, 0, F_GROUP, I_NONE, 4, 1, 0, 1, 0, 0, 0, 0, 0, DF_CF | DF_OF, MUL_UNDEF },
    { "imul Eb", 0xf6, 0, F_GROUP, I_NONE, 5, 0, 1, 1, 0, 0, 0, 0, 0, DF_CF | DF_OF, MUL_UNDEF },
    { "imul Ev", 0xf7, 0, F_GROUP, I_NONE, 5, 1, 0, 1, 0, 0, 0, 0, 0, DF_CF | DF_OF, MUL_UNDEF },
    { "div Eb", 0xf6, 0, F_GROUP, I_NONE, 6, 0, 1, 1, 0, 0, 0, S_DIV, 0, 0, ALL },
    { "div Ev", 0xf7, 0, F_GROUP, I_NONE, 6, 1, 0, 1, 0, 0, 0, S_DIV, 0, 0, ALL },
    { "idiv Eb", 0xf6, 0, F_GROUP, I_NONE, 7, 0, 1, 1, 0, 0, 0, S_DIV, 0, 0, ALL },
    { "idiv Ev", 0xf7, 0, F_GROUP, I_NONE, 7, 1, 0, 1, 0, 0, 0, S_DIV, 0, 0, ALL },
    { "imul Gv,Ev", 0xaf, 1, F_MODRM, I_NONE, 0, 1, 0, 1, 0, 1, 0, 0, 0, DF_CF | DF_OF, MUL_UNDEF },
    { "imul Gv,Ev,Iv", 0x69, 0, F_MODRM, I_V, 0, 1, 0, 1, 0, 1, 0, 0, 0, DF_CF | DF_OF, MUL_UNDEF },
    { "imul Gv,Ev,sIb", 0x6b, 0, F_MODRM, I_S8, 0, 1, 0, 1, 0, 1, 0, 0, 0, DF_CF | DF_OF, MUL_UNDEF },
    { "inc Eb", 0xfe, 0, F_GROUP, I_NONE, 0, 0, 1, 1, 1, 0, 1, 0, 0, INC_DEF, 0 },
    { "dec Eb", 0xfe, 0, F_GROUP, I_NONE, 1, 0, 1, 1, 1, 0, 1, 0, 0, INC_DEF, 0 },
    { "inc Ev", 0xff, 0, F_GROUP, I_NONE, 0, 1, 0, 1, 1, 0, 1, 0, 0, INC_DEF, 0 },
    { "dec Ev", 0xff, 0, F_GROUP, I_NONE, 1, 1, 0, 1, 1, 0, 1, 0, 0, INC_DEF, 0 },
    /* Shifts and rotates: flags computed from the count (S_SHIFT). */
    { "shift Eb,Ib", 0xc0, 0, F_GROUP, I_SHIFT, 0xff, 0, 1, 1, 1, 0, 0, S_SHIFT, 0, 0, 0 },
    { "shift Ev,Ib", 0xc1, 0, F_GROUP, I_SHIFT, 0xff, 1, 0, 1, 1, 0, 0, S_SHIFT, 0, 0, 0 },
    { "shift Eb,1", 0xd0, 0, F_GROUP, I_NONE, 0xff, 0, 1, 1, 1, 0, 0, S_SHIFT, 0, 0, 0 },
    { "shift Ev,1", 0xd1, 0, F_GROUP, I_NONE, 0xff, 1, 0, 1, 1, 0, 0, S_SHIFT, 0, 0, 0 },
    { "shift Eb,CL", 0xd2, 0, F_GROUP, I_NONE, 0xff, 0, 1, 1, 1, 0, 0, S_SHIFT, 0, 0, 0 },
    { "shift Ev,CL", 0xd3, 0, F_GROUP, I_NONE, 0xff, 1, 0, 1, 1, 0, 0, S_SHIFT, 0, 0, 0 },
    { "shld Ev,Gv,Ib", 0xa4, 1, F_MODRM, I_SHIFT, 0, 1, 0, 1, 1, 0, 0, S_SHIFTD, 0, 0, 0 },
    { "shld Ed,Gd,CL", 0xa5, 1, F_MODRM, I_NONE, 0, 0, 0, 1, 1, 0, 0, S_SHIFTD, 0, 0, 0 },
    { "shrd Ev,Gv,Ib", 0xac, 1, F_MODRM, I_SHIFT, 0, 1, 0, 1, 1, 0, 0, S_SHIFTD, 0, 0, 0 },
    { "shrd Ed,Gd,CL", 0xad, 1, F_MODRM, I_NONE, 0, 0, 0, 1, 1, 0, 0, S_SHIFTD, 0, 0, 0 },
    /* Bit instructions. */
    { "bt Ev,Gv", 0xa3, 1, F_MODRM, I_NONE, 0, 1, 0, 0, 0, 0, 0, S_BT_REG, 0, DF_CF, DF_OF | DF_SF | DF_AF | DF_PF },
    { "bts Ev,Gv", 0xab, 1, F_MODRM, I_NONE, 0, 1, 0, 0, 1, 0, 0, S_BT_REG, 0, DF_CF, DF_OF | DF_SF | DF_AF | DF_PF },
    { "btr Ev,Gv", 0xb3, 1, F_MODRM, I_NONE, 0, 1, 0, 0, 1, 0, 0, S_BT_REG, 0, DF_CF, DF_OF | DF_SF | DF_AF | DF_PF },
    { "btc Ev,Gv", 0xbb, 1, F_MODRM, I_NONE, 0, 1, 0, 0, 1, 0, 0, S_BT_REG, 0, DF_CF, DF_OF | DF_SF | DF_AF | DF_PF },
    { "bt Ev,Ib", 0xba, 1, F_GROUP, I_8, 4, 1, 0, 1, 0, 0, 0, 0, 0, DF_CF, DF_OF | DF_SF | DF_AF | DF_PF },
    { "bts Ev,Ib", 0xba, 1, F_GROUP, I_8, 5, 1, 0, 1, 1, 0, 1, 0, 0, DF_CF, DF_OF | DF_SF | DF_AF | DF_PF },
    { "btr Ev,Ib", 0xba, 1, F_GROUP, I_8, 6, 1, 0, 1, 1, 0, 1, 0, 0, DF_CF, DF_OF | DF_SF | DF_AF | DF_PF },
    { "btc Ev,Ib", 0xba, 1, F_GROUP, I_8, 7, 1, 0, 1, 1, 0, 1, 0, 0, DF_CF, DF_OF | DF_SF | DF_AF | DF_PF },
    { "bsf Gv,Ev", 0xbc, 1, F_MODRM, I_NONE, 0, 1, 0, 1, 0, 1, 0, 0, 0, DF_ZF, DF_CF | DF_OF | DF_SF | DF_AF | DF_PF },
    { "bsr Gv,Ev", 0xbd, 1, F_MODRM, I_NONE, 0, 1, 0, 1, 0, 1, 0, 0, 0, DF_ZF, DF_CF | DF_OF | DF_SF | DF_AF | DF_PF },
    /* Flag instructions. */
    { "clc", 0xf8, 0, F_NONE, I_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, DF_CF, 0 },
    { "stc", 0xf9, 0, F_NONE, I_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, DF_CF, 0 },
    { "cmc", 0xf5, 0, F_NONE, I_NONE, 0, 0, 0, 0, 0, 0, 0, 0, DF_CF, DF_CF, 0 },
    { "sahf", 0x9e, 0, F_NONE, I_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, DF_SF | DF_ZF | DF_AF | DF_PF | DF_CF, 0 },
    { "lahf", 0x9f, 0, F_NONE, I_NONE, 0, 0, 0, 0, 0, 0, 0, 0, DF_SF | DF_ZF | DF_AF | DF_PF | DF_CF, 0, 0 },
    /* Data movement. */
    { "mov Eb,Gb", 0x88, 0, F_MODRM, I_NONE, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0 },
    { "mov Ev,Gv", 0x89, 0, F_MODRM, I_NONE, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0 },
    { "mov Gb,Eb", 0x8a, 0, F_MODRM, I_NONE, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0 },
    { "mov Gv,Ev", 0x8b, 0, F_MODRM, I_NONE, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0 },
    { "mov Eb,Ib", 0xc6, 0, F_GROUP, I_8, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0 },
    { "mov Ev,Iv", 0xc7, 0, F_GROUP, I_V, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0 },
    { "mov r,Iv", 0xb8, 0, F_OPREG, I_V, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 },
    { "movzx Gv,Eb", 0xb6, 1, F_MODRM, I_NONE, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0 },
    { "movzx Gd,Ew", 0xb7, 1, F_MODRM, I_NONE, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0 },
    { "movsx Gv,Eb", 0xbe, 1, F_MODRM, I_NONE, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0 },
    { "movsx Gd,Ew", 0xbf, 1, F_MODRM, I_NONE, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0 },
    { "xchg Eb,Gb", 0x86, 0, F_MODRM, I_NONE, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0 },
    { "xchg Ev,Gv", 0x87, 0, F_MODRM, I_NONE, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0 },
    { "xchg r,eAX", 0x90, 0, F_OPREG, I_NONE, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 },
    { "bswap r", 0xc8, 1, F_OPREG, I_NONE, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0 },
    { "cbw", 0x98, 0, F_NONE, I_NONE, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "cwd", 0x99, 0, F_NONE, I_NONE, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "lea Gv,M", 0x8d, 0, F_LEA, I_NONE, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0 },
    { "xadd Eb,Gb", 0xc0, 1, F_MODRM, I_NONE, 0, 0, 1, 1, 1, 1, 1, 0, 0, ALL, 0 },
    { "xadd Ev,Gv", 0xc1, 1, F_MODRM, I_NONE, 0, 1, 0, 1, 1, 1, 1, 0, 0, ALL, 0 },
    { "cmpxchg Eb,Gb", 0xb0, 1, F_MODRM, I_NONE, 0, 0, 1, 1, 1, 0, 1, 0, 0, ALL, 0 },
    { "cmpxchg Ev,Gv", 0xb1, 1, F_MODRM, I_NONE, 0, 1, 0, 1, 1, 0, 1, 0, 0, ALL, 0 },
    { "setcc Eb", 0x90, 1, F_MODRM, I_NONE, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0 },
    { "cmovcc Gv,Ev", 0x40, 1, F_MODRM, I_NONE, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0 },
};
#define N_TEMPLATES (sizeof(templates) / sizeof(templates[0]))

/* String instructions (string sequences only). */
struct string_tmpl {
    const char *name;
    uint8_t op;
    uint8_t flags; /* defines the arithmetic flags (CMPS/SCAS) */
};
static const struct string_tmpl string_templates[] = {
    { "movs", 0xa4, 0 }, { "cmps", 0xa6, 1 }, { "stos", 0xaa, 0 },
    { "lods", 0xac, 0 }, { "scas", 0xae, 1 },
};

static uint32_t interesting(struct rng *r)
{
    static const uint32_t vals[] = {
        0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff,
        0x80000000u, 0xffffffffu, 0xfffffffeu, 0x80000001u, 0x0f, 0x10, 0x99, 0x09, 0x1f, 0x20,
    };
    switch (rng_below(r, 4)) {
    case 0: return vals[rng_below(r, sizeof(vals) / sizeof(vals[0]))];
    case 1: return rng_below(r, 256);
    default: return (uint32_t)rng_next(r);
    }
}

struct emitter {
    struct diff_case *c;
    uint32_t len;
};
static void emit(struct emitter *e, uint8_t b)
{
    if (e->len < DIFF_MAX_CODE)
        e->c->code[e->len++] = b;
}
static void emit32(struct emitter *e, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        emit(e, (uint8_t)(v >> (8 * i)));
}

/* A register that may be written at this width: not ESP for 16/32-bit. */
static uint8_t pick_reg(struct rng *r, int byteop, int written)
{
    for (;;) {
        uint8_t g = (uint8_t)rng_below(r, 8);
        if (written && !byteop && g == 4)
            continue;
        return g;
    }
}

/* Flags of a shift/rotate by an immediate count (SDM SAL/SAR/SHL/SHR,
 * RCL/RCR/ROL/ROR "Flags Affected"). kind = ModRM.reg. */
static void shift_flags(unsigned kind, unsigned width_bits, unsigned count, uint32_t *def,
                        uint32_t *undef, uint32_t *reads)
{
    unsigned c = count & 31;
    *def = *undef = 0;
    *reads = (kind == 2 || kind == 3) ? DF_CF : 0;
    if (c == 0)
        return;
    if (kind <= 3) { /* rotates: CF; OF only for 1-bit rotates */
        *def = DF_CF;
        if (c == 1)
            *def |= DF_OF;
        else
            *undef = DF_OF;
        return;
    }
    *def = DF_SF | DF_ZF | DF_PF;
    *undef = DF_AF;
    if (c < width_bits)
        *def |= DF_CF;
    else
        *undef |= DF_CF;
    if (c == 1)
        *def |= DF_OF;
    else
        *undef |= DF_OF;
}

/* ModRM for an r/m operand: a register, or memory at an absolute
 * address inside the buffer (mod 00, r/m 101, disp32). */
static void emit_modrm(struct emitter *e, struct rng *r, uint8_t reg, int allow_mem,
                       int byteop, int rm_written, uint32_t mem_size)
{
    if (allow_mem && rng_below(r, 3) == 0) {
        /* SIB with no base and no index: disp32 in both modes. */
        emit(e, (uint8_t)(0x04 | (reg << 3)));
        emit(e, 0x25);
        emit32(e, DIFF_BUF_ADDR + rng_below(r, DIFF_BUF_SIZE - mem_size));
    } else {
        uint8_t rm = pick_reg(r, byteop, rm_written);
        emit(e, (uint8_t)(0xc0 | (reg << 3) | rm));
    }
}

/* LEA with any base/index/scale/displacement form except mod 00 r/m 101
 * (RIP-relative in 64-bit mode). */
static void emit_lea(struct emitter *e, struct rng *r, uint8_t reg)
{
    uint8_t mod = (uint8_t)rng_below(r, 3);
    uint8_t rm = (uint8_t)rng_below(r, 8);
    if (mod == 0 && rm == 5)
        rm = 4;
    emit(e, (uint8_t)((mod << 6) | (reg << 3) | rm));
    int sib_base5 = 0;
    if (rm == 4) {
        uint8_t sib = (uint8_t)rng_next(r);
        emit(e, sib);
        sib_base5 = (sib & 7) == 5;
    }
    if (mod == 1)
        emit(e, (uint8_t)rng_next(r));
    else if (mod == 2 || (mod == 0 && (rm == 5 || sib_base5)))
        emit32(e, (uint32_t)rng_next(r));
}

/* cmp eax, ebx: defines every arithmetic flag before an instruction that
 * reads one that is undefined. */
static void emit_flag_reset(struct emitter *e, struct diff_case *c, uint32_t *defined)
{
    unsigned i = c->n_insns;
    c->insn_off[i] = e->len;
    c->defined[i] = *defined;
    c->names[i] = "cmp eax,ebx";
    emit(e, 0x39);
    emit(e, 0xd8);
    *defined |= DF_ARITH;
    c->n_insns++;
}

/* Whether the template's instruction leaves some arithmetic flag
 * undefined (the kinds the --all-flags pass checks), or reads flags
 * (SETcc, CMOVcc, LAHF, ADC/SBB, RCL/RCR), the ones that follow them. */
static int leaves_undefined(const struct tmpl *t)
{
    return t->undef != 0 || t->special == S_SHIFT || t->special == S_SHIFTD;
}
static int reads_flags(const struct tmpl *t)
{
    return t->reads != 0 || (t->is0f && (t->op == 0x90 || t->op == 0x40));
}

/* `all_flags`: only instructions that leave flags (or, SHLD/SHRD of words
 * by 17..31, the result) undefined, 16-bit SHLD/SHRD included at every
 * count, and after the first, instructions that read flags too; every
 * flag counts as defined throughout, so no CMP comes between an
 * undefined flag and its reader (the JIT's flag liveness must get them
 * there). */
static void gen_general(struct rng *r, struct diff_case *c, struct emitter *e, unsigned n,
                        int all_flags)
{
    uint32_t defined = DF_ARITH | DF_DF;
    while (c->n_insns < n) {
        const struct tmpl *t = &templates[rng_below(r, N_TEMPLATES)];
        if (all_flags && !leaves_undefined(t) && !(c->n_insns > 0 && reads_flags(t)))
            continue;
        int op16 = (t->wide || (all_flags && t->special == S_SHIFTD)) && rng_below(r, 3) == 0;
        unsigned wbits = t->byteop ? 8 : op16 ? 16 : 32;
        uint8_t digit = t->digit;
        uint8_t op = t->op;
        uint32_t reads = t->reads, def = t->def, undef = t->undef;
        uint8_t cond = 0;
        unsigned shift_count = 1;
        int cl_count = 0;

        if (t->special == S_SHIFT) {
            digit = (uint8_t)rng_below(r, 8);
            cl_count = (op == 0xd2 || op == 0xd3);
            if (t->imm == I_SHIFT)
                shift_count = rng_below(r, 4) == 0 ? rng_below(r, 256) : rng_below(r, 34);
            if (cl_count) {
                /* Count unknown when generating: conservatively, OF, AF
                 * and (below 32 bits) CF undefined; SF/ZF/PF keep their
                 * state when the count is 0. RCL/RCR read CF. */
                reads = (digit == 2 || digit == 3) ? DF_CF : 0;
                def = 0;
                undef = DF_OF | ((digit >= 4) ? DF_AF | (wbits < 32 ? DF_CF : 0) : 0);
            } else {
                shift_flags(digit, wbits, shift_count, &def, &undef, &reads);
            }
        } else if (t->special == S_SHIFTD) {
            if (t->imm == I_SHIFT) {
                shift_count = rng_below(r, wbits == 16 && !all_flags ? 17 : 32);
                shift_flags(4, wbits, shift_count, &def, &undef, &reads);
            } else {
                reads = 0;
                def = 0;
                undef = DF_OF | DF_AF;
            }
        } else if (t->is0f && (op == 0x90 || op == 0x40)) {
            cond = (uint8_t)rng_below(r, 16);
            reads = cond_reads[cond >> 1];
        }

        if (reads & ~defined)
            emit_flag_reset(e, c, &defined);
        if (c->n_insns >= n)
            break;

        unsigned i = c->n_insns;
        c->insn_off[i] = e->len;
        c->defined[i] = defined;
        c->names[i] = t->name;

        if (op16)
            emit(e, 0x66);
        /* LOCK is valid only with a memory destination: emitted now and
         * removed again below if the r/m operand turns out a register. */
        uint32_t lock_at = e->len;
        int want_lock = t->lockable && rng_below(r, 6) == 0;
        if (want_lock)
            emit(e, 0xf0);
        if (t->is0f)
            emit(e, 0x0f);
        uint8_t opcode = op;
        if (t->form == F_OPREG) {
            uint8_t g = pick_reg(r, t->byteop, t->wr_rm);
            if (op == 0x90 && g == 4)
                g = 0;
            opcode = (uint8_t)(op + g);
        }
        if (cond)
            opcode = (uint8_t)(op + cond);
        else if (t->is0f && (op == 0x90 || op == 0x40))
            opcode = op;
        emit(e, opcode);
        uint32_t modrm_at = e->len;

        switch (t->form) {
        case F_MODRM: {
            uint8_t reg = pick_reg(r, t->byteop, t->wr_reg);
            int allow_mem = t->mem && t->special != S_BT_REG;
            emit_modrm(e, r, reg, allow_mem, t->byteop, t->wr_rm, 4);
            break;
        }
        case F_GROUP:
            emit_modrm(e, r, digit, t->mem, t->byteop, t->wr_rm, 4);
            break;
        case F_LEA: {
            uint8_t reg = pick_reg(r, 0, 1);
            emit_lea(e, r, reg);
            break;
        }
        default:
            break;
        }
        if (want_lock) {
            int is_mem = t->form != F_NONE && t->form != F_ACC && t->form != F_OPREG &&
                         (e->c->code[modrm_at] & 0xc0) != 0xc0;
            if (!is_mem) {
                /* drop the LOCK byte: shift the instruction down by one */
                memmove(&e->c->code[lock_at], &e->c->code[lock_at + 1], e->len - lock_at - 1);
                e->len--;
            }
        }
        switch (t->imm) {
        case I_8:
        case I_S8:
            emit(e, (uint8_t)interesting(r));
            break;
        case I_V:
            if (op16) {
                uint32_t v = interesting(r);
                emit(e, (uint8_t)v);
                emit(e, (uint8_t)(v >> 8));
            } else {
                emit32(e, interesting(r));
            }
            break;
        case I_SHIFT:
            emit(e, (uint8_t)shift_count);
            break;
        default:
            break;
        }
        defined = (defined | def) & ~(all_flags ? 0 : undef);
        c->n_insns++;
    }
    c->insn_off[c->n_insns] = e->len;
    c->defined[c->n_insns] = defined;
}

static void gen_string(struct rng *r, struct diff_case *c, struct emitter *e, unsigned n)
{
    uint32_t defined = DF_ARITH | DF_DF;
    /* At most 4 string instructions of at most 16 dwords each: 256 bytes
     * either way from a start in the middle stays inside the buffer. */
    c->regs[6] = DIFF_BUF_ADDR + 256 + rng_below(r, 508); /* ESI */
    c->regs[7] = DIFF_BUF_ADDR + 256 + rng_below(r, 508); /* EDI */
    c->regs[1] = rng_below(r, 17);                        /* ECX */
    for (unsigned i = 0; i < n && i < 4; i++) {
        c->insn_off[i] = e->len;
        c->defined[i] = defined;
        unsigned pick = rng_below(r, 7);
        if (pick >= 5) {
            c->names[i] = pick == 5 ? "cld" : "std";
            emit(e, pick == 5 ? 0xfc : 0xfd);
        } else {
            const struct string_tmpl *s = &string_templates[pick];
            c->names[i] = s->name;
            unsigned p = rng_below(r, 4);
            if (p == 1)
                emit(e, 0xf3);
            else if (p == 2)
                emit(e, 0xf2);
            if (rng_below(r, 3) == 0)
                emit(e, 0x66);
            if (rng_below(r, 4) == 0)
                emit(e, (uint8_t[]){ 0x26, 0x36, 0x3e }[rng_below(r, 3)]);
            emit(e, (uint8_t)(s->op + rng_below(r, 2)));
            if (s->flags)
                defined |= DF_ARITH;
        }
        c->n_insns++;
        /* ECX is 0 after a REP; give the next one a fresh small count by
         * a MOV ECX, imm (not a string instruction, but harmless). */
        if (i + 1 < n && i + 1 < 4 && rng_below(r, 2) == 0 && c->n_insns < DIFF_MAX_INSNS) {
            unsigned k = c->n_insns;
            c->insn_off[k] = e->len;
            c->defined[k] = defined;
            c->names[k] = "mov ecx,imm";
            emit(e, 0xb9);
            emit32(e, rng_below(r, 17));
            c->n_insns++;
        }
    }
    c->insn_off[c->n_insns] = e->len;
    c->defined[c->n_insns] = defined;
}

void gen_case(uint64_t seed, uint64_t index, struct diff_case *c)
{
    struct rng r = { seed * 0x100000001b3ull ^ (index * 0x9e3779b97f4a7c15ull) };
    rng_next(&r);
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < 8; i++)
        c->regs[i] = interesting(&r);
    c->regs[4] = DIFF_STACK_TOP;
    c->eflags = (uint32_t)rng_next(&r) & DF_ARITH;
    for (uint32_t i = 0; i < DIFF_BUF_SIZE; i++)
        c->mem[i] = (uint8_t)rng_next(&r);
    struct emitter e = { c, 0 };
    unsigned n = 1 + rng_below(&r, DIFF_MAX_INSNS);
    if (rng_below(&r, 8) == 0) {
        if (rng_below(&r, 2))
            c->eflags |= DF_DF;
        gen_string(&r, c, &e, n);
    } else {
        gen_general(&r, c, &e, n, 0);
    }
    c->code_len = e.len;
}

void gen_case_all_flags(uint64_t seed, uint64_t index, struct diff_case *c)
{
    struct rng r = { seed * 0x100000001b3ull ^ (index * 0x9e3779b97f4a7c15ull) ^ 0xa11f1a95ull };
    rng_next(&r);
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < 8; i++)
        c->regs[i] = interesting(&r);
    c->regs[4] = DIFF_STACK_TOP;
    c->eflags = (uint32_t)rng_next(&r) & DF_ARITH;
    for (uint32_t i = 0; i < DIFF_BUF_SIZE; i++)
        c->mem[i] = (uint8_t)rng_next(&r);
    struct emitter e = { c, 0 };
    gen_general(&r, c, &e, 1 + rng_below(&r, 3), 1);
    /* Every flag counts, before each instruction (a #DE leaves them) and
     * at the end. */
    for (unsigned i = 0; i <= c->n_insns; i++)
        c->defined[i] = DF_ARITH | DF_DF;
    c->code_len = e.len;
}

void gen_bcd_inputs(uint64_t seed, uint64_t index, uint32_t *eax, uint32_t *eflags,
                    uint8_t *op, uint8_t *imm)
{
    static const uint8_t ops[] = { 0x27, 0x2f, 0x37, 0x3f, 0xd4, 0xd5, 0xd6 };
    struct rng r = { seed ^ 0xbcdbcdbcdull ^ (index * 0x9e3779b97f4a7c15ull) };
    rng_next(&r);
    *eax = (uint32_t)rng_next(&r);
    *eflags = (uint32_t)rng_next(&r) & DF_ARITH;
    *op = ops[rng_below(&r, sizeof(ops))];
    /* AAM/AAD: base 10 mostly, any base sometimes, 0 (#DE for AAM) rarely. */
    *imm = (uint8_t)(rng_below(&r, 32) == 0 ? 0 : rng_below(&r, 2) ? 10 : rng_below(&r, 256));
}
