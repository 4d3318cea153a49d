/*
 * gen_mem.c — memory operands of generated instructions (test_fuzz_jit.c):
 * which accesses a segment allows, the kinds of target (data, the free
 * stack, tables, code, special pages, MMIO, holes, unmapped pages, a
 * segment's edges), an offset encoded in a random ModRM addressing form,
 * and the [EBP/ESP + disp] operands of frame runs.
 */
#include <string.h>

#include "fuzz_jit.h"

/* ---- memory operands ------------------------------------------------ */

/* Whether segment register s can be used for an access at offsets
 * [off, off + size) without a fault. */
bool fj_seg_allows(const struct fj_seg *s, uint32_t off, unsigned size, bool write)
{
    if (!s->usable || (write && !s->writable) || (!write && !s->readable))
        return false;
    uint32_t last = off + size - 1;
    if (last < off)
        return false;
    if (s->expdown) {
        uint32_t top = s->big ? 0xffffffffu : 0xffffu;
        return off > s->limit && last <= top;
    }
    return last <= s->limit;
}

/* A linear range [lo, hi) for a kind of target. */
bool fj_kind_range(const struct gen *g, enum mem_kind k, uint32_t *lo, uint32_t *hi)
{
    switch (k) {
    case MK_DATA: *lo = FJ_RAND; *hi = FJ_DATA_END; return true;
    case MK_STACK: /* the free stack below ESP (an offset in SS) */
        if (!g->esp_known)
            return false;
        *lo = g->seg[SEG_SS].base + g->val[R_ESP] - 0x300;
        *hi = g->seg[SEG_SS].base + g->val[R_ESP];
        return true;
    case MK_TABLES: *lo = FJ_DATA; *hi = FJ_RAND; return true;
    case MK_CODE: *lo = FJ_CODE; *hi = FJ_CODE + FJ_CODE_SIZE; return true;
    case MK_SPECIAL: /* (the last two alias the functions' code: see fj_make_mem) */
        *lo = FJ_SPECIAL;
        *hi = FJ_SPECIAL_END - 2 * 4096u;
        return true;
    case MK_MMIO: *lo = FJ_MMIO; *hi = FJ_MMIO + 0x1000u + 8; return true;
    case MK_HOLE: *lo = FJ_HOLE - 8; *hi = FJ_HOLE + 0x1000u; return true;
    case MK_UNMAPPED: *lo = FJ_UNMAPPED - 8; *hi = FJ_UNMAPPED + 0x1000u; return true;
    /* RAM's last bytes and the hole after them: with paging off, the end
     * of the JIT's direct window (memory.h), reads across it included. */
    case MK_RAM_END: *lo = FJ_RAM_SIZE - 32; *hi = FJ_RAM_SIZE + 16; return true;
    default: return false;
    }
}

/* The segment an addressing form uses by default. */
int fj_default_seg(const struct rm *o)
{
    if (o->a16)
        return (o->rmf == 2 || o->rmf == 3 || (o->rmf == 6 && o->mod != 0)) ? SEG_SS : SEG_DS;
    unsigned base = o->rmf;
    if (o->has_sib) {
        base = o->sib & 7;
        if (base == 5 && o->mod == 0)
            return SEG_DS;
    } else if (o->rmf == 5 && o->mod == 0) {
        return SEG_DS;
    }
    return (base == R_ESP || base == R_EBP) ? SEG_SS : SEG_DS;
}

/* Whether register r can serve as an address register: not in `avoid`
 * (registers the instruction sets up or changes itself), and its value is
 * known or may be set. */
static bool addr_reg_ok(const struct gen *g, unsigned r, uint32_t avoid)
{
    if (avoid & RBIT(r))
        return false;
    return fj_reg_known(g, r) || (fj_writable_regs(g) & RBIT(r));
}

/* The value of an address register: known, or chosen (set later). */
static uint32_t addr_reg_value(const struct gen *g, unsigned r, uint32_t want)
{
    return fj_reg_known(g, r) ? g->val[r] : want;
}

/*
 * Encodes offset `off` as a ModRM memory operand in a random form,
 * setting address registers (MOV r, imm before the instruction) when the
 * form needs values they do not have. Registers in `avoid` are not
 * changed. False if no form fits (e.g. every register is reserved).
 */
bool fj_encode_offset(struct gen *g, uint32_t off, bool a16, uint32_t avoid, bool via_esp,
                      struct rm *o)
{
    o->mem = true;
    o->a16 = a16;
    o->has_sib = false;
    o->disp_size = 0;
    o->disp = 0;
    if (g->force_disp) {
        o->mod = 0, o->rmf = a16 ? 6 : 5, o->disp_size = a16 ? 2 : 4;
        o->disp = a16 ? off & 0xffff : off;
        return true;
    }
    if (a16) {
        /* rm: 0 BX+SI, 1 BX+DI, 2 BP+SI, 3 BP+DI, 4 SI, 5 DI, 6 BP/disp16, 7 BX */
        static const int8_t r1[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
        static const int8_t r2[8] = { R_ESI, R_EDI, R_ESI, R_EDI, -1, -1, -1, -1 };
        for (int tries = 0; tries < 8; tries++) {
            unsigned rmf = fj_below(8), mod = fj_below(3);
            if (rmf == 6 && mod == 0) {
                o->mod = 0, o->rmf = 6, o->disp_size = 2, o->disp = off & 0xffff;
                return true;
            }
            int a = r1[rmf], b = r2[rmf];
            if (!addr_reg_ok(g, (unsigned)a, avoid) || (b >= 0 && !addr_reg_ok(g, (unsigned)b, avoid)))
                continue;
            /* Choose values: a random disp of the mod's size, the
             * registers making up the rest. */
            int32_t disp = mod == 0 ? 0 : mod == 1 ? (int8_t)fj_rnd() : (int16_t)fj_rnd();
            uint32_t va = addr_reg_value(g, (unsigned)a, fj_rnd());
            uint32_t vb = b >= 0 ? addr_reg_value(g, (unsigned)b, fj_rnd()) : 0;
            uint32_t sum = (va + vb + (uint32_t)disp) & 0xffff;
            if (sum != (off & 0xffff)) {
                /* Adjust a register we may set, else the displacement. */
                uint32_t need = (off - va - vb - (uint32_t)disp) & 0xffff;
                if (b >= 0 && !fj_reg_known(g, (unsigned)b))
                    vb += need;
                else if (!fj_reg_known(g, (unsigned)a))
                    va += need;
                else if (mod == 2)
                    disp = (int16_t)(disp + (int32_t)need);
                else
                    continue;
            }
            if (b >= 0 && a == b)
                continue;
            fj_set_reg(g, (unsigned)a, va);
            if (b >= 0)
                fj_set_reg(g, (unsigned)b, vb);
            o->mod = (uint8_t)mod, o->rmf = (uint8_t)rmf;
            o->disp_size = mod == 0 ? 0 : mod == 1 ? 1 : 2;
            o->disp = (uint32_t)disp & (mod == 1 ? 0xff : 0xffff);
            return true;
        }
        o->mod = 0, o->rmf = 6, o->disp_size = 2, o->disp = off & 0xffff;
        return true;
    }
    for (int tries = 0; tries < 12; tries++) {
        unsigned form = via_esp ? 6 : fj_below(7);
        if (g->no_esp_base && form == 6)
            continue;
        switch (form) {
        case 0: /* [disp32] */
            o->mod = 0, o->rmf = 5, o->disp_size = 4, o->disp = off;
            return true;
        case 1: /* [base] */
        case 2: /* [base + disp8] */
        case 3: { /* [base + disp32] */
            unsigned r = fj_below(8);
            if (r == R_ESP || (form == 1 && r == R_EBP) || !addr_reg_ok(g, r, avoid))
                continue;
            int32_t want_disp = form == 1 ? 0 : form == 2 ? (int8_t)fj_rnd() : (int32_t)fj_rnd();
            uint32_t v = addr_reg_value(g, r, off - (uint32_t)want_disp);
            int64_t disp = (int32_t)(off - v);
            if (form == 1 && disp != 0)
                continue;
            if (form == 2 && (disp < -128 || disp > 127))
                continue;
            fj_set_reg(g, r, v);
            o->mod = form == 1 ? 0 : form == 2 ? 1 : 2;
            o->rmf = (uint8_t)r;
            o->disp_size = form == 1 ? 0 : form == 2 ? 1 : 4;
            o->disp = (uint32_t)disp & (form == 2 ? 0xff : 0xffffffffu);
            return true;
        }
        case 4: /* [base + index * scale + disp] */
        case 5: { /* [index * scale + disp32] */
            unsigned base = form == 5 ? 5 : fj_below(8), index = fj_below(8), scale = fj_below(4);
            if (index == R_ESP || !addr_reg_ok(g, index, avoid))
                continue;
            if (base == R_ESP && g->no_esp_base)
                continue;
            if (form == 4 && (!addr_reg_ok(g, base, avoid) || base == index))
                continue;
            unsigned mod = form == 5 ? 0 : fj_below(3);
            if (form == 4 && base == R_EBP && mod == 0)
                mod = 1;
            int32_t want_disp = mod == 0 ? 0 : mod == 1 ? (int8_t)fj_rnd() : (int32_t)fj_rnd();
            if (form == 5)
                want_disp = (int32_t)fj_rnd();
            uint32_t vi = addr_reg_value(g, index, fj_value());
            uint32_t vb = 0;
            if (form == 4)
                vb = addr_reg_value(g, base, off - (uint32_t)want_disp - (vi << scale));
            int64_t disp = (int32_t)(off - vb - (vi << scale));
            if (form == 4 && mod == 0 && disp != 0) {
                if (fj_reg_known(g, base))
                    continue;
                vb += (uint32_t)disp;
                disp = 0;
            }
            if (mod == 1 && (disp < -128 || disp > 127))
                continue;
            fj_set_reg(g, index, vi);
            if (form == 4)
                fj_set_reg(g, base, vb);
            o->mod = (uint8_t)mod, o->rmf = 4, o->has_sib = true;
            o->sib = (uint8_t)(scale << 6 | index << 3 | base);
            o->disp_size = mod == 0 ? (form == 5 ? 4 : 0) : mod == 1 ? 1 : 4;
            o->disp = (uint32_t)disp & (o->disp_size == 1 ? 0xff : 0xffffffffu);
            return true;
        }
        default: { /* [ESP + disp] */
            if (!g->esp_known)
                return false;
            int64_t disp = (int32_t)(off - g->val[R_ESP]);
            unsigned mod = disp == 0 && fj_chance(50) ? 0 : disp >= -128 && disp <= 127 ? 1 : 2;
            o->mod = (uint8_t)mod, o->rmf = 4, o->has_sib = true;
            o->sib = (uint8_t)(fj_below(4) << 6 | 4 << 3 | R_ESP); /* no index: scale ignored */
            o->disp_size = mod == 0 ? 0 : mod == 1 ? 1 : 4;
            o->disp = (uint32_t)disp & (mod == 1 ? 0xff : 0xffffffffu);
            return true;
        }
        }
    }
    o->mod = 0, o->rmf = 5, o->disp_size = 4, o->disp = off;
    return true;
}

/*
 * A memory operand of `size` bytes: usually an ordinary access that
 * cannot fault (data, the free stack below ESP, tables and code for
 * reads), with `may_fault` also one of the special targets: special
 * pages, MMIO, holes, unmapped pages, segment limits, null or read-only
 * segments. Sets address registers as needed (never uses those in
 * `avoid`).
 * False if nothing fits.
 */
/* [base + disp8/disp32] in SS for a frame run: linear target within
 * [frame_lo, frame_hi); in a special page only if it `may_fault` (a PUSH
 * or POP must not: the stack would lose its balance). */
static bool make_frame_mem(struct gen *g, unsigned size, bool write, bool may_fault,
                           struct rm *o)
{
    const unsigned base = (unsigned)g->force_base;
    const struct fj_seg *ss = &g->seg[SEG_SS];
    if (g->frame_hi - g->frame_lo <= size)
        return false;
    for (int tries = 0; tries < 8; tries++) {
        uint32_t lin = g->frame_lo + fj_below(g->frame_hi - g->frame_lo - size);
        if (fj_chance(30)) /* at the top (the frame's last bytes: a page's end, maybe) */
            lin = g->frame_hi - size - fj_below(3 < g->frame_hi - g->frame_lo - size ? 3 : 1);
        uint32_t off = lin - ss->base;
        bool special = lin + size > FJ_DATA_END && lin < FJ_SPECIAL_END;
        if (!fj_seg_allows(ss, off, size, write) || (special && !may_fault))
            continue;
        int32_t disp = (int32_t)(off - g->val[base]);
        o->mem = true, o->a16 = false, o->unsafe = false;
        o->mod = disp >= -128 && disp <= 127 ? 1 : 2;
        o->disp_size = o->mod == 1 ? 1 : 4;
        o->disp = (uint32_t)disp & (o->mod == 1 ? 0xffu : 0xffffffffu);
        o->has_sib = base == R_ESP || fj_chance(15); /* EBP through a SIB byte too */
        o->rmf = o->has_sib ? 4 : (uint8_t)base;
        o->sib = (uint8_t)(fj_below(4) << 6 | 4 << 3 | base); /* no index */
        o->seg_prefix = fj_chance(10) ? SEG_SS : -1;
        o->lin = lin;
        o->unsafe = special;
        return true;
    }
    return false;
}

bool fj_make_mem(struct gen *g, unsigned size, bool write, bool may_fault, uint32_t avoid,
                 struct rm *o)
{
    memset(o, 0, sizeof(*o));
    o->seg_prefix = -1;
    if (g->force_base >= 0 && !g->force_disp && !g->no_esp_base &&
        make_frame_mem(g, size, write, may_fault, o))
        return true;
    bool a16 = g->code32 ? fj_chance(10) : fj_chance(85);
    bool special = may_fault && !g->real && fj_chance(g->in_func ? 10 : 30);
    for (int tries = 0; tries < 16; tries++) {
        int s = (int)fj_below(SEG_COUNT);
        if (s == SEG_CS && write && !special)
            continue;
        const struct fj_seg *sg = &g->seg[s];
        uint32_t off;
        if (special && fj_chance(25) && (!g->in_func || s == SEG_DS || s == SEG_SS)) {
            /* A segment's edges: past the limit (or below an expand-down
             * one), partly or wholly; or any access through an unusable
             * segment register, a write through CS or a read-only one. */
            uint32_t top = sg->expdown ? sg->limit + 1 : sg->limit;
            if (!sg->usable || (write && !sg->writable))
                top = fj_rnd() & 0xfff;
            off = top - size + 1 + fj_below(size + 1);
            if (sg->expdown)
                off = top - fj_below(size);
            if (a16 && off > 0xffff)
                continue;
            o->unsafe = true;
        } else {
            enum mem_kind k;
            if (special) {
                static const enum mem_kind sk[] = { MK_SPECIAL, MK_SPECIAL, MK_MMIO, MK_MMIO,
                                                    MK_HOLE, MK_UNMAPPED, MK_RAM_END, MK_DATA };
                k = sk[fj_below(sizeof(sk) / sizeof(sk[0]))];
            } else {
                static const enum mem_kind nk[] = { MK_DATA, MK_DATA, MK_DATA, MK_DATA,
                                                    MK_STACK, MK_STACK, MK_TABLES, MK_CODE };
                k = nk[fj_below(sizeof(nk) / sizeof(nk[0]))];
                if (write && (k == MK_TABLES || k == MK_CODE))
                    k = MK_DATA;
            }
            uint32_t lo, hi;
            if (!fj_kind_range(g, k, &lo, &hi))
                continue;
            /* The part of the range this segment reaches. */
            if (!sg->usable || sg->expdown)
                continue;
            uint32_t wlo = sg->base, whi = sg->base + (a16 ? (sg->limit < 0xffff ? sg->limit : 0xffff)
                                                             : sg->limit);
            if (whi < wlo) /* wraps: only the part from the base up */
                whi = 0xffffffffu;
            if (lo < wlo)
                lo = wlo;
            if (hi - 1 > whi)
                hi = whi + 1;
            if (hi <= lo || hi - lo < size + 1)
                continue;
            uint32_t lin;
            if (fj_chance(30)) { /* at a page's end: crossing into the next */
                uint32_t page = (lo + fj_below(hi - lo)) | 0xfff;
                lin = page - fj_below(size);
                if (lin < lo || lin + size > hi)
                    lin = lo + fj_below(hi - lo - size);
            } else {
                lin = lo + fj_below(hi - lo - size);
                if (fj_chance(60))
                    lin &= ~(size - 1); /* aligned */
                if (lin < lo)
                    lin = lo;
            }
            off = lin - sg->base;
            o->unsafe = special;
            if (!special && (!fj_seg_allows(sg, off, size, write) ||
                             (a16 && off + size - 1 > 0xffff)))
                continue;
        }
        if (!fj_encode_offset(g, off, a16, avoid, false, o))
            return false;
        int def = fj_default_seg(o);
        if (s != def || fj_chance(10))
            o->seg_prefix = s;
        o->lin = g->seg[s].base + off;
        return true;
    }
    return false;
}
