/*
 * gen_string.c — string instructions in generated programs
 * (test_fuzz_jit.c): MOVS STOS LODS CMPS SCAS, REP'd or not, with the
 * segment register that reaches a range (fj_seg_reaching, shared with the
 * other generators).
 */
#include "fuzz_jit.h"

/* ------------------------------------------------------------------ */
/* String instructions                                                 */
/* ------------------------------------------------------------------ */

/* A segment register that reaches linear [lo, lo + len) for the access
 * kind, with offsets that fit `a16`; -1 if none. `only` >= 0 forces it. */
int fj_seg_reaching(const struct gen *g, uint32_t lo, uint32_t len, bool write, bool a16, int only)
{
    int start = (int)fj_below(SEG_COUNT);
    for (int i = 0; i < SEG_COUNT; i++) {
        int s = only >= 0 ? only : (start + i) % SEG_COUNT;
        const struct fj_seg *sg = &g->seg[s];
        uint32_t off = lo - sg->base;
        if (fj_seg_allows(sg, off, len, write) && (!a16 || off + len - 1 <= 0xffff))
            return s;
        if (only >= 0)
            return -1;
    }
    return -1;
}

/* MOVS STOS LODS CMPS SCAS, REP'd or not, in every width, with counts
 * from 0 to past 4096 elements (crossing pages), forwards or backwards;
 * sometimes from MMIO or into a special page where it faults part way. */
void fj_gen_string(struct gen *g)
{
    const uint32_t need = RBIT(R_ECX) | RBIT(R_ESI) | RBIT(R_EDI) | RBIT(R_EAX);
    if ((fj_writable_regs(g) & need) != need || g->in_func)
        return;
    unsigned op = fj_below(5); /* MOVS STOS LODS CMPS SCAS */
    unsigned w = fj_pick_width();
    bool rep = fj_chance(85), a16 = g->code32 ? fj_chance(15) : fj_chance(80);
    bool unsafe = !g->real && fj_chance(15);
    uint32_t count;
    switch (fj_below(6)) {
    case 0: count = fj_below(3); break;
    case 1: count = 4096 / w + fj_below(3000); break;
    case 2: count = 100 + fj_below(900); break;
    default: count = 1 + fj_below(40); break;
    }
    if (!rep)
        count = 1;
    uint32_t bytes = count * w;
    if (a16 && bytes > 0x7000)
        return;
    if (g->df < 0 || fj_chance(15)) {
        fj_ins_begin(g);
        g->df = fj_chance(25);
        fj_b1(g, g->df ? 0xfd : 0xfc);
        fj_ins_end(g);
    }
    bool back = g->df == 1;
    bool reads_src = op == 0 || op == 2 || op == 3;   /* DS:ESI */
    bool uses_dst = op != 2;                           /* ES:EDI */
    bool writes_dst = op == 0 || op == 1;
    /* Ranges: [lo, lo + bytes); ESI/EDI start at its first element (the
     * last one going backwards). */
    uint32_t span = bytes ? bytes : w;
    int ss = -1, ds = -1;
    uint32_t src_lo = 0, dst_lo = 0;
    int src_seg = -1;
    if (reads_src) {
        src_seg = g->code32 && fj_chance(30) ? (int)fj_below(SEG_COUNT) : SEG_DS;
        for (int t = 0; t < 8 && ss < 0; t++) {
            uint32_t lo, hi;
            static const enum mem_kind sk[] = { MK_DATA, MK_DATA, MK_TABLES, MK_CODE };
            enum mem_kind k = unsafe && fj_chance(50) ? MK_MMIO : sk[fj_below(4)];
            fj_kind_range(g, k, &lo, &hi);
            if (hi - lo <= span + 8)
                continue;
            src_lo = lo + fj_below(hi - lo - span);
            if (fj_chance(50))
                src_lo &= ~(w - 1);
            ss = fj_seg_reaching(g, src_lo, span, false, a16, src_seg);
            if (unsafe && k == MK_MMIO && ss < 0)
                ss = src_seg; /* into the hole past the device, or the limit */
        }
        if (ss < 0)
            return;
    }
    if (uses_dst) {
        for (int t = 0; t < 8 && ds < 0; t++) {
            uint32_t lo, hi;
            fj_kind_range(g, writes_dst || fj_chance(50) ? MK_DATA : MK_CODE, &lo, &hi);
            if (hi - lo <= span + 8)
                continue;
            dst_lo = lo + fj_below(hi - lo - span);
            if (unsafe && writes_dst && g->paging && fj_chance(60))
                dst_lo = FJ_SPECIAL - span / 2 - fj_below(64); /* runs into a special page */
            if (fj_chance(50))
                dst_lo &= ~(w - 1);
            /* (Never a destination the segment does not reach: with 16-bit
             * addressing DI would wrap onto something else.) */
            ds = fj_seg_reaching(g, dst_lo, span, writes_dst, a16, SEG_ES);
        }
        if (ds < 0)
            return;
    }
    /* Flags go to the handler if it faults, and CMPS/SCAS read none. */
    if (unsafe)
        fj_need_flags(g, F_ALL);
    uint32_t first_src = back ? src_lo + span - w : src_lo;
    uint32_t first_dst = back ? dst_lo + span - w : dst_lo;
    if (reads_src)
        fj_set_reg(g, R_ESI, first_src - g->seg[ss].base);
    if (uses_dst)
        fj_set_reg(g, R_EDI, first_dst - g->seg[SEG_ES].base);
    fj_set_reg(g, R_ECX, count | (a16 ? fj_rnd() & 0xffff0000u : 0));
    if (op >= 3 || fj_chance(30))
        fj_set_reg(g, R_EAX, fj_rnd());
    if (unsafe || op >= 3)
        fj_need_flags(g, F_ALL);
    fj_ins_begin(g);
    if (a16 == g->code32)
        fj_b1(g, 0x67);
    if (fj_osz(w) && (w == 2) == g->code32)
        fj_b1(g, 0x66);
    if (reads_src && ss != SEG_DS)
        fj_b1(g, fj_seg_prefix_byte[ss]);
    if (rep)
        fj_b1(g, op >= 3 && fj_chance(50) ? 0xf2 : 0xf3);
    static const uint8_t base_op[5] = { 0xa4, 0xaa, 0xac, 0xa6, 0xae };
    fj_b1(g, (uint8_t)(base_op[op] + (w > 1)));
    fj_ins_end(g);
    g->known &= ~need;
    if (op >= 3 && count)
        fj_flags_written(g, F_ALL, 0);
}
