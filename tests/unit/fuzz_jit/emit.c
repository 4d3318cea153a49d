/*
 * emit.c — the generator's primitives (test_fuzz_jit.c): random numbers;
 * code emission (bytes, labels and fixups, the instruction list and the
 * handler's table of instruction lengths); the registers and flags the
 * generator keeps track of, with the sanitizer that redefines undefined
 * flags; ModRM operands and their encoding.
 */
#include <string.h>

#include "fuzz_jit.h"

/* ------------------------------------------------------------------ */
/* Random numbers (xorshift64*)                                        */
/* ------------------------------------------------------------------ */

uint64_t fj_rng;

uint32_t fj_rnd(void)
{
    fj_rng ^= fj_rng >> 12;
    fj_rng ^= fj_rng << 25;
    fj_rng ^= fj_rng >> 27;
    return (uint32_t)((fj_rng * 0x2545f4914f6cdd1dull) >> 32);
}

uint32_t fj_below(uint32_t n)
{
    return n ? fj_rnd() % n : 0;
}

bool fj_chance(unsigned percent)
{
    return fj_below(100) < percent;
}

uint64_t fj_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x ? x : 1;
}

/* A value worth having in a register. */
uint32_t fj_value(void)
{
    switch (fj_below(10)) {
    case 0: return fj_below(3);
    case 1: return 0xffffffffu - fj_below(3);
    case 2: return 0x80000000u - 2 + fj_below(4);
    case 3: return 0x7fff + fj_below(3);
    case 4: return fj_below(256);
    case 5: return FJ_RAND + fj_below(FJ_DATA_END - FJ_RAND);
    case 6: return 1u << fj_below(32);
    default: return fj_rnd();
    }
}

/* ------------------------------------------------------------------ */
/* Code emission: labels, fixups, the instruction list                 */
/* ------------------------------------------------------------------ */

static void put8(struct gen *g, uint32_t at, uint8_t v)
{
    g->img[at] = v;
}

void fj_put16(uint8_t *img, uint32_t at, uint16_t v)
{
    memcpy(img + at, &v, 2);
}

void fj_put32(uint8_t *img, uint32_t at, uint32_t v)
{
    memcpy(img + at, &v, 4);
}

uint32_t fj_get32(const uint8_t *img, uint32_t at)
{
    uint32_t v;
    memcpy(&v, img + at, 4);
    return v;
}

void fj_b1(struct gen *g, uint8_t v)
{
    if (g->pos >= g->limit) {
        g->full = true;
        return;
    }
    put8(g, g->pos++, v);
}

void fj_b2(struct gen *g, uint16_t v)
{
    fj_b1(g, (uint8_t)v);
    fj_b1(g, (uint8_t)(v >> 8));
}

void fj_b4(struct gen *g, uint32_t v)
{
    fj_b2(g, (uint16_t)v);
    fj_b2(g, (uint16_t)(v >> 16));
}

void fj_bimm(struct gen *g, unsigned size, uint32_t v)
{
    if (size == 0)
        return;
    if (size == 1)
        fj_b1(g, (uint8_t)v);
    else if (size == 2)
        fj_b2(g, (uint16_t)v);
    else
        fj_b4(g, v);
}

void fj_ins_begin(struct gen *g)
{
    g->insn_start = g->pos;
}

/* Ends an instruction: its length goes to the handler's table (code area
 * only) and to the list. */
void fj_ins_end(struct gen *g)
{
    uint32_t len = g->pos - g->insn_start;
    if (g->full || len == 0)
        return;
    g->dyn += g->weight;
    if (g->insn_start >= FJ_CODE && g->insn_start < FJ_CODE + FJ_CODE_SIZE) {
        g->img[FJ_LENS + (g->insn_start - FJ_CODE)] = (uint8_t)len;
        if (g->ninsns < FJ_MAX_INSNS)
            g->insns[g->ninsns++] = (struct fj_insn){ g->insn_start, (uint8_t)len };
    }
}

unsigned fj_label_new(struct gen *g)
{
    if (g->nlabels >= FJ_MAX_LABELS) {
        g->full = true;
        return 0;
    }
    g->labels[g->nlabels] = (struct fj_label){ 0, false, 0 };
    return g->nlabels++;
}

/* Places a label here; flags undefined on the jumps to it join those of
 * the way falling through (unless nothing falls through). */
void fj_label_place(struct gen *g, unsigned l, bool falls_through)
{
    struct fj_label *lb = &g->labels[l];
    lb->at = g->pos;
    lb->placed = true;
    g->undef = (falls_through ? g->undef : 0) | lb->undef;
}

void fj_fixup(struct gen *g, unsigned label, enum fix_kind kind, uint32_t at, uint32_t next)
{
    if (g->nfix >= FJ_MAX_FIXUPS) {
        g->full = true;
        return;
    }
    g->fix[g->nfix++] = (struct fj_fixup){ at, next, (uint16_t)label, (uint8_t)kind };
    if (kind <= FIX_REL32)
        g->labels[label].undef |= g->undef;
}

/* Resolves every fixup; false if a short jump does not reach. */
bool fj_fixups_apply(struct gen *g)
{
    for (unsigned i = 0; i < g->nfix; i++) {
        const struct fj_fixup *x = &g->fix[i];
        const struct fj_label *lb = &g->labels[x->label];
        if (!lb->placed)
            return false;
        int64_t rel = (int64_t)lb->at - (int64_t)x->next;
        uint32_t off = lb->at - g->cs_base;
        switch (x->kind) {
        case FIX_REL8:
            if (rel < -128 || rel > 127)
                return false;
            g->img[x->at] = (uint8_t)rel;
            break;
        case FIX_REL16:
            fj_put16(g->img, x->at, (uint16_t)rel);
            break;
        case FIX_REL32:
            fj_put32(g->img, x->at, (uint32_t)rel);
            break;
        case FIX_ABS16:
            fj_put16(g->img, x->at, (uint16_t)off);
            break;
        case FIX_ABS32:
            fj_put32(g->img, x->at, off);
            break;
        }
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Registers and flags the generator keeps track of                    */
/* ------------------------------------------------------------------ */

bool fj_reg_known(const struct gen *g, unsigned r)
{
    return r == R_ESP ? g->esp_known : (g->known & RBIT(r)) != 0;
}

void fj_reg_set(struct gen *g, unsigned r, uint32_t v)
{
    g->known |= RBIT(r);
    g->val[r] = v;
}

void fj_clobber(struct gen *g, unsigned r)
{
    if (r != R_ESP)
        g->known &= ~RBIT(r);
}

/* The 32-bit register a byte register (AL..BH) lives in. */
static unsigned byte_home(unsigned r8)
{
    return r8 & 3;
}

/* Registers the current code may write. */
uint32_t fj_writable_regs(const struct gen *g)
{
    uint32_t w = ALL_REGS & ~RBIT(R_ESP) & ~g->reserved;
    if (g->in_func)
        w &= g->func_regs;
    return w;
}

int fj_pick_reg(uint32_t mask)
{
    unsigned n = (unsigned)__builtin_popcount(mask);
    if (!n)
        return -1;
    unsigned k = fj_below(n);
    for (unsigned r = 0; r < 8; r++)
        if ((mask & RBIT(r)) && k-- == 0)
            return (int)r;
    return -1;
}

/* A destination register of `size` bytes, -1 if none may be written. */
int fj_pick_dst(struct gen *g, unsigned size)
{
    uint32_t w = fj_writable_regs(g);
    if (size != 1)
        return fj_pick_reg(w);
    uint32_t m = 0;
    for (unsigned r = 0; r < 8; r++)
        if (w & RBIT(byte_home(r)))
            m |= RBIT(r);
    return fj_pick_reg(m);
}

void fj_clobber_sized(struct gen *g, unsigned r, unsigned size)
{
    fj_clobber(g, size == 1 ? byte_home(r) : r);
}

/* ---- undefined flags ------------------------------------------------ */

/* Before an instruction that reads `reads` (or everything, for one that
 * may fault or leave the block's flags to others): redefines the flags
 * still undefined that it would see, keeping the others when the
 * instruction reads only some (a loop's JNZ must still see its DEC). */
void fj_need_flags(struct gen *g, uint32_t reads)
{
    if (g->undef & reads)
        fj_emit_sanitizer(g, reads != F_ALL);
}

/* After an instruction: `w` written with defined values, `u` undefined
 * (the differences fuzz_undef.h knows of; nothing while not tolerating). */
void fj_flags_written(struct gen *g, uint32_t w, uint32_t u)
{
    if (!g->tolerate)
        u = 0;
    g->undef = (g->undef & ~w & ~u) | u;
}

/* ------------------------------------------------------------------ */
/* Operands and encoding                                               */
/* ------------------------------------------------------------------ */

struct rm fj_rm_reg(unsigned r)
{
    struct rm o;
    memset(&o, 0, sizeof(o));
    o.reg = (uint8_t)r;
    o.seg_prefix = -1;
    return o;
}

const uint8_t fj_seg_prefix_byte[SEG_COUNT] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };

/* Prefixes for operand size `opsize` (0: none needed), memory operand `m`
 * (may be NULL) and the given extra prefix (REP, or 0), in random order. */
void fj_emit_prefixes(struct gen *g, unsigned opsize, const struct rm *m, uint8_t extra)
{
    uint8_t p[4];
    unsigned n = 0;
    if (opsize && (opsize == 2) == g->code32)
        p[n++] = 0x66;
    if (m && m->mem && m->a16 == g->code32)
        p[n++] = 0x67;
    if (m && m->mem && m->seg_prefix >= 0)
        p[n++] = fj_seg_prefix_byte[m->seg_prefix];
    if (extra)
        p[n++] = extra;
    for (unsigned i = n; i > 1; i--) {
        unsigned j = fj_below(i);
        uint8_t t = p[i - 1];
        p[i - 1] = p[j];
        p[j] = t;
    }
    for (unsigned i = 0; i < n; i++)
        fj_b1(g, p[i]);
}

static void emit_modrm(struct gen *g, unsigned regf, const struct rm *o)
{
    if (!o->mem) {
        fj_b1(g, (uint8_t)(0xc0 | (regf << 3) | o->reg));
        return;
    }
    fj_b1(g, (uint8_t)(o->mod << 6 | regf << 3 | o->rmf));
    if (o->has_sib)
        fj_b1(g, o->sib);
    fj_bimm(g, o->disp_size, o->disp);
}

/* prefixes, opcode bytes, ModRM (+SIB, disp), immediate. */
void fj_emit_op(struct gen *g, unsigned opsize, const uint8_t *opc, unsigned nopc, unsigned regf,
                const struct rm *o, unsigned imm_size, uint32_t imm)
{
    fj_emit_prefixes(g, opsize, o, 0);
    for (unsigned i = 0; i < nopc; i++)
        fj_b1(g, opc[i]);
    emit_modrm(g, regf, o);
    if (imm_size)
        fj_bimm(g, imm_size, imm);
}

/* Operand-size value: 16 or 32 bits as the code's default says. */
unsigned fj_vsize(const struct gen *g)
{
    return g->code32 ? 4 : 2;
}

/* MOV r32, imm32 (B8+r, with 66 in 16-bit code): the setup instruction
 * of memory operands, counts and divisors. */
static void emit_mov_imm32(struct gen *g, unsigned r, uint32_t v)
{
    fj_ins_begin(g);
    fj_emit_prefixes(g, 4, NULL, 0);
    fj_b1(g, (uint8_t)(0xb8 + r));
    fj_b4(g, v);
    fj_ins_end(g);
    fj_reg_set(g, r, v);
}

/* Gives register r the value v (nothing if it has it). */
void fj_set_reg(struct gen *g, unsigned r, uint32_t v)
{
    if (fj_reg_known(g, r) && g->val[r] == v)
        return;
    emit_mov_imm32(g, r, v);
}

void fj_emit_esp_imm(struct gen *g, unsigned w, unsigned digit, uint32_t imm)
{
    /* 32-bit addressing: ESP stays below 64 KiB on 16-bit stacks, so
     * [ESP] is [SP]. */
    fj_ins_begin(g);
    if (w == 2 ? g->code32 : !g->code32)
        fj_b1(g, 0x66);
    if (!g->code32)
        fj_b1(g, 0x67);
    fj_b1(g, 0x81);
    fj_b1(g, (uint8_t)(digit << 3 | 4)); /* ModRM: [SIB] */
    fj_b1(g, 0x24);                      /* SIB: [ESP] */
    fj_bimm(g, w, imm);
    fj_ins_end(g);
}

/* PUSHF; AND [ESP], ~undefined; POPF (keeps the defined flags live), or
 * (unless `keep`) a CMP that defines all six: no flag the engines may
 * set differently is left for anything to see. */
void fj_emit_sanitizer(struct gen *g, bool keep)
{
    uint32_t mask = g->undef;
    g->undef = 0;
    if (!keep && fj_chance(50)) {
        int r = fj_pick_reg(ALL_REGS);
        fj_ins_begin(g);
        struct rm o = fj_rm_reg((unsigned)r);
        static const uint8_t cmp[] = { 0x81 };
        fj_emit_op(g, fj_vsize(g), cmp, 1, 7, &o, fj_vsize(g), fj_rnd());
        fj_ins_end(g);
        return;
    }
    unsigned w = fj_vsize(g);
    fj_ins_begin(g);
    fj_emit_prefixes(g, w, NULL, 0);
    fj_b1(g, 0x9c); /* PUSHF */
    fj_ins_end(g);
    fj_emit_esp_imm(g, w, 4, ~mask); /* AND [ESP], imm */
    fj_ins_begin(g);
    fj_emit_prefixes(g, w, NULL, 0);
    fj_b1(g, 0x9d); /* POPF */
    fj_ins_end(g);
}
