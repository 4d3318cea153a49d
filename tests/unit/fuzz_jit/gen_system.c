/*
 * gen_system.c — segments, rings, paging, real mode and faults in generated
 * programs (test_fuzz_jit.c): the segment caches selectors load from the
 * GDT as built, segment register loads (and which of them fault), ring
 * switches, page-table edits with INVLPG or a CR3 reload, excursions to
 * real mode from 16-bit code, instructions that fault or trap on purpose.
 */
#include <string.h>

#include "fuzz_jit.h"

/* ------------------------------------------------------------------ */
/* Segments, rings, paging, real mode, faults                          */
/* ------------------------------------------------------------------ */

const uint8_t *fj_gdt_image; /* the GDT as built (fj_base) */

/* The segment cache a selector loads, as the CPU builds it. */
struct seg fj_desc_seg(uint16_t sel)
{
    struct desc d;
    memcpy(&d.lo, fj_gdt_image + FJ_GDT + (sel & 0xfff8u), 4);
    memcpy(&d.hi, fj_gdt_image + FJ_GDT + (sel & 0xfff8u) + 4, 4);
    struct seg s;
    seg_from_desc(&s, sel, d);
    return s;
}

struct fj_seg fj_seg_of(uint16_t sel)
{
    struct fj_seg f;
    memset(&f, 0, sizeof(f));
    f.sel = sel;
    if ((sel & 0xfffc) == 0)
        return f; /* null: unusable */
    struct seg s = fj_desc_seg(sel);
    f.base = s.base;
    f.limit = s.limit;
    f.usable = true;
    bool code = s.ar & AR_T_CODE;
    f.writable = !code && (s.ar & AR_T_WRITABLE);
    f.readable = !code || (s.ar & AR_T_READABLE);
    f.expdown = !code && (s.ar & AR_T_EXPDOWN);
    f.big = s.ar & AR_DB;
    return f;
}

/* Whether loading `sel` into a data segment register at the current CPL
 * succeeds (SDM Vol. 3A 5.10: a null selector loads; a data or readable
 * code segment with max(CPL, RPL) <= DPL, present). */
static bool fj_data_load_ok(const struct gen *g, uint16_t sel)
{
    if ((sel & 0xfffc) == 0)
        return true;
    if ((sel | 7) > FJ_GDT_ENTRIES * 8 - 1)
        return false;
    struct seg s = fj_desc_seg(sel);
    if (!(s.ar & AR_S) || !(s.ar & AR_P))
        return false;
    if ((s.ar & AR_T_CODE) && !(s.ar & AR_T_READABLE))
        return false;
    unsigned dpl = AR_DPL(s.ar), rpl = sel & 3;
    bool conforming = (s.ar & AR_T_CODE) && (s.ar & AR_T_CONFORM);
    return conforming || ((unsigned)g->cpl <= dpl && rpl <= dpl);
}

static const uint16_t fj_data_sels[] = {
    SEL_DATA0, SEL_DATA3, SEL_DATA16, SEL_DATAB, SEL_SMALL, SEL_RO, SEL_EXPDOWN, SEL_HIBASE,
    SEL_DATA3, SEL_DATA0, SEL_NP, SEL_CODE0, SEL_TSS, 0, 0x7f8, SEL_STACK16,
};

/* MOV Sreg, r16 / POP Sreg / LDS-LGS / MOV r/m, Sreg / PUSH Sreg, on the
 * data segment registers (and SS reloaded with its own selector); the
 * generator predicts which loads fault (#GP, #NP: skipped). */
void fj_gen_seg(struct gen *g)
{
    static const int sregs[4] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
    int s = sregs[fj_below(4)];
    uint16_t sel = fj_data_sels[fj_below(sizeof(fj_data_sels) / sizeof(fj_data_sels[0]))];
    if (g->cpl == 3 && (sel & 3) == 0 && fj_chance(70))
        sel |= 3;
    if (g->real)
        return;
    bool ok = fj_data_load_ok(g, sel);
    unsigned how = fj_below(5);
    if (how == 4) { /* MOV r/m16, Sreg */
        struct rm o;
        if (!fj_pick_rm(g, 2, true, fj_chance(40), true, true, 0, &o))
            return;
        fj_before(g, 0, &o, false);
        fj_ins_begin(g);
        static const uint8_t opc = 0x8c;
        fj_emit_op(g, fj_chance(50) && !o.mem ? 4 : 2, &opc, 1, (unsigned)s, &o, 0, 0);
        fj_ins_end(g);
        fj_clobber_rm(g, &o, 2);
        return;
    }
    fj_need_flags(g, F_ALL); /* it may fault */
    if (how == 0) { /* MOV Sreg, r16 (or r32) */
        int r = fj_pick_reg(fj_writable_regs(g));
        if (r < 0)
            return;
        fj_set_reg(g, (unsigned)r, (fj_rnd() & 0xffff0000u) | sel);
        fj_ins_begin(g);
        struct rm o = fj_rm_reg((unsigned)r);
        static const uint8_t opc = 0x8e;
        fj_emit_op(g, fj_chance(20) ? 4 : 0, &opc, 1, (unsigned)s, &o, 0, 0);
        fj_ins_end(g);
    } else if (how == 1 && g->esp_known) { /* PUSH imm / PUSH Sreg; POP Sreg */
        unsigned w = fj_vsize(g);
        fj_ins_begin(g);
        fj_emit_prefixes(g, w, NULL, 0);
        fj_b1(g, 0x68);
        fj_bimm(g, w, sel);
        fj_ins_end(g);
        fj_ins_begin(g);
        fj_emit_prefixes(g, w, NULL, 0);
        static const uint8_t pop1[SEG_COUNT] = { 0x07, 0, 0x17, 0x1f, 0xa1, 0xa9 };
        if (s >= SEG_FS)
            fj_b1(g, 0x0f);
        fj_b1(g, pop1[s]);
        fj_ins_end(g);
        /* A faulting POP Sreg leaves ESP alone: the handler skips it,
         * the value stays pushed. Drop it either way. */
        if (!ok) {
            fj_ins_begin(g);
            if (!g->code32)
                fj_b1(g, 0x66), fj_b1(g, 0x67);
            fj_b1(g, 0x8d); /* LEA ESP, [ESP + w] */
            fj_b1(g, 0x64);
            fj_b1(g, 0x24);
            fj_b1(g, (uint8_t)w);
            fj_ins_end(g);
        }
    } else { /* LDS/LES/LFS/LGS r, m16:32 / m16:16 from the far-pointer table */
        unsigned w = fj_chance(80) ? fj_vsize(g) : 6 - fj_vsize(g);
        int d = fj_pick_dst(g, 4);
        uint32_t tab = w == 4 ? FJ_TAB_FAR : FJ_TAB_FAR16;
        unsigned idx = fj_below(16), esz = w == 4 ? 8 : 4;
        uint32_t lin = tab + idx * esz;
        int ts = fj_seg_reaching(g, lin, w + 2, false, !g->code32, -1);
        if (d < 0 || ts < 0 || ts == s)
            return;
        struct rm o;
        memset(&o, 0, sizeof(o));
        o.seg_prefix = ts;
        if (!fj_encode_offset(g, lin - g->seg[ts].base, !g->code32 && fj_chance(60),
                              RBIT((unsigned)d), false, &o))
            return;
        if (fj_default_seg(&o) == ts && fj_chance(70))
            o.seg_prefix = -1;
        uint16_t fsel;
        memcpy(&fsel, g->img + lin + w, 2);
        sel = fsel;
        ok = fj_data_load_ok(g, sel);
        fj_ins_begin(g);
        if (s == SEG_ES || s == SEG_DS) {
            uint8_t opc = s == SEG_ES ? 0xc4 : 0xc5;
            fj_emit_op(g, w, &opc, 1, (unsigned)d, &o, 0, 0);
        } else {
            uint8_t opc[2] = { 0x0f, (uint8_t)(s == SEG_FS ? 0xb4 : 0xb5) };
            fj_emit_op(g, w, opc, 2, (unsigned)d, &o, 0, 0);
        }
        fj_ins_end(g);
        fj_clobber(g, (unsigned)d);
        if (ok && w == 4) {
            uint32_t off;
            memcpy(&off, g->img + lin, 4);
            fj_reg_set(g, (unsigned)d, off);
        }
    }
    if (ok)
        g->seg[s] = fj_seg_of(sel);
}

/* Ring 0 -> 3 by IRET (data segments with DPL 0 become null), ring 3 ->
 * 0 by INT 80h (whose handler goes on at ring 0 after the INT). */
void fj_gen_ring(struct gen *g)
{
    if (g->mode != FJ_USER && g->mode != FJ_PAGING_USER)
        return;
    fj_need_flags(g, F_ALL);
    if (g->cpl == 3) {
        fj_ins_begin(g);
        fj_b1(g, 0xcd);
        fj_b1(g, 0x80);
        fj_ins_end(g);
        g->cpl = 0;
        g->seg[SEG_CS] = fj_seg_of(SEL_CODE0);
        g->seg[SEG_SS] = fj_seg_of(SEL_DATA0);
        g->val[R_ESP] = FJ_STACK0;
        return;
    }
    unsigned l = fj_label_new(g);
    if (g->full)
        return;
    /* Usually give the data segment registers ring-3 selectors first. */
    for (int s = 0; s < SEG_COUNT; s++) {
        if (s == SEG_CS || s == SEG_SS || !fj_chance(80))
            continue;
        static const uint16_t user[] = { SEL_DATA3, SEL_DATA3, SEL_DATAB, SEL_DATA16, SEL_HIBASE };
        uint16_t sel = user[fj_below(5)];
        int r = fj_pick_reg(fj_writable_regs(g));
        if (r < 0)
            break;
        fj_set_reg(g, (unsigned)r, sel);
        fj_ins_begin(g);
        struct rm o = fj_rm_reg((unsigned)r);
        static const uint8_t opc = 0x8e;
        fj_emit_op(g, 0, &opc, 1, (unsigned)s, &o, 0, 0);
        fj_ins_end(g);
        g->seg[s] = fj_seg_of(sel);
    }
    uint32_t esp3 = FJ_STACK3 - 4 * fj_below(16);
    static const uint32_t pushes[3] = { SEL_DATA3, 0, SEL_CODE3 };
    for (int i = 0; i < 5; i++) {
        fj_ins_begin(g);
        if (i == 2) {
            fj_b1(g, 0x9c); /* PUSHFD */
        } else {
            fj_b1(g, 0x68);
            uint32_t at = g->pos;
            fj_b4(g, i == 0 ? pushes[0] : i == 1 ? esp3 : i == 3 ? pushes[2] : 0);
            if (i == 4)
                fj_fixup(g, l, FIX_ABS32, at, 0);
        }
        fj_ins_end(g);
    }
    fj_ins_begin(g);
    fj_b1(g, 0xcf); /* IRETD */
    fj_ins_end(g);
    fj_label_place(g, l, false);
    g->cpl = 3;
    g->seg[SEG_CS] = fj_seg_of(SEL_CODE3);
    g->seg[SEG_SS] = fj_seg_of(SEL_DATA3);
    g->val[R_ESP] = esp3;
    for (int s = 0; s < SEG_COUNT; s++) {
        if (s == SEG_CS || s == SEG_SS || !g->seg[s].usable)
            continue;
        struct seg c = fj_desc_seg(g->seg[s].sel);
        bool conforming = (c.ar & AR_T_CODE) && (c.ar & AR_T_CONFORM);
        if (!conforming && AR_DPL(c.ar) < 3)
            g->seg[s] = fj_seg_of(0);
    }
}

/* Page-table edits of the special pages, each made visible at once by
 * INVLPG or a CR3 reload; CR0.WP flips (with a reload). */
void fj_gen_paging(struct gen *g)
{
    if (!g->paging || g->cpl != 0)
        return;
    int s = fj_seg_reaching(g, FJ_PT0, 4096, true, false, -1);
    int r = fj_pick_reg(fj_writable_regs(g));
    if (s < 0 || r < 0)
        return;
    if (fj_chance(20)) { /* WP */
        fj_ins_begin(g);
        fj_b1(g, 0x0f), fj_b1(g, 0x20), fj_b1(g, (uint8_t)(0xc0 | r)); /* MOV r, CR0 */
        fj_ins_end(g);
        fj_ins_begin(g);
        if (!g->code32)
            fj_b1(g, 0x66);
        fj_b1(g, 0x81), fj_b1(g, (uint8_t)(0xf0 | r)), fj_b4(g, CR0_WP); /* XOR r, WP */
        fj_ins_end(g);
        fj_flags_written(g, F_ALL, 0);
        fj_ins_begin(g);
        fj_b1(g, 0x0f), fj_b1(g, 0x22), fj_b1(g, (uint8_t)(0xc0 | r)); /* MOV CR0, r */
        fj_ins_end(g);
        fj_clobber(g, (unsigned)r);
    } else {
        unsigned i = fj_below(FJ_SPECIAL_PAGES - 2);
        unsigned st = fj_below(SP_STATES);
        uint32_t frame = FJ_SPECIAL + i * 4096u;
        if (st == SP_ALIAS)
            frame = fj_chance(50) ? FJ_RAND + fj_below(0x60) * 4096u
                                  : FJ_SPECIAL + fj_below(FJ_SPECIAL_PAGES) * 4096u;
        static const uint32_t bits[SP_STATES] = { 7, 6, 0x204, 5, 3, 7 };
        g->sp[i] = (uint8_t)st;
        g->sp_frame[i] = frame;
        fj_emit_store_disp(g, s, FJ_PT0 + ((FJ_SPECIAL >> 12) + i) * 4, 4, frame | bits[st]);
    }
    if (fj_chance(50)) { /* INVLPG of the page (or of another: a reload then) */
        unsigned i = fj_below(FJ_SPECIAL_PAGES);
        struct rm o;
        memset(&o, 0, sizeof(o));
        o.seg_prefix = -1;
        uint32_t lin = FJ_SPECIAL + i * 4096u + fj_below(4096);
        int ls = fj_seg_reaching(g, lin, 1, false, false, -1);
        if (ls >= 0 && fj_encode_offset(g, lin - g->seg[ls].base, false, 0, false, &o)) {
            if (fj_default_seg(&o) != ls)
                o.seg_prefix = ls;
            fj_ins_begin(g);
            static const uint8_t opc[2] = { 0x0f, 0x01 };
            fj_emit_op(g, 0, opc, 2, 7, &o, 0, 0);
            fj_ins_end(g);
        }
    }
    /* A CR3 reload flushes everything (the INVLPG above may have been of
     * another page). */
    fj_ins_begin(g);
    fj_b1(g, 0x0f), fj_b1(g, 0x20), fj_b1(g, (uint8_t)(0xd8 | r)); /* MOV r, CR3 */
    fj_ins_end(g);
    fj_ins_begin(g);
    fj_b1(g, 0x0f), fj_b1(g, 0x22), fj_b1(g, (uint8_t)(0xd8 | r)); /* MOV CR3, r */
    fj_ins_end(g);
    fj_reg_set(g, (unsigned)r, FJ_PD);
}

/* LIDT [lin] through segment s (the segment caches stay as they were in
 * real mode, so the same operand works in both). */
static void emit_lidt(struct gen *g, int s, uint32_t lin)
{
    struct rm o;
    memset(&o, 0, sizeof(o));
    o.mem = true, o.mod = 0, o.rmf = 5, o.disp_size = 4, o.disp = lin - g->seg[s].base;
    o.seg_prefix = s == SEG_DS ? -1 : s;
    fj_ins_begin(g);
    static const uint8_t opc[2] = { 0x0f, 0x01 };
    fj_emit_op(g, 0, opc, 2, 3, &o, 0, 0);
    fj_ins_end(g);
}

/* 16-bit protected mode -> real mode (CR0.PE cleared, far JMP) -> work
 * -> protected mode again (far JMP to the 16-bit code segment). The
 * segment caches keep their protected-mode values meanwhile. */
void fj_gen_real(struct gen *g)
{
    if (g->mode != FJ_PM16 || g->paging || g->cpl != 0 || !(fj_writable_regs(g) & RBIT(R_EAX)) ||
        g->depth > 0)
        return;
    unsigned l1 = fj_label_new(g), l2 = fj_label_new(g);
    if (g->full)
        return;
    /* The real-mode IVT for the excursion (LIDT; the IDT again after). */
    int ts = fj_seg_reaching(g, FJ_TAB_IDTR, 16, false, false, -1);
    if (ts < 0)
        return;
    emit_lidt(g, ts, FJ_TAB_IDTR);
    fj_ins_begin(g);
    fj_b1(g, 0x0f), fj_b1(g, 0x20), fj_b1(g, 0xc0); /* MOV EAX, CR0 */
    fj_ins_end(g);
    fj_ins_begin(g);
    fj_b1(g, 0x66), fj_b1(g, 0x25), fj_b4(g, ~CR0_PE); /* AND EAX, ~PE */
    fj_ins_end(g);
    fj_ins_begin(g);
    fj_b1(g, 0x0f), fj_b1(g, 0x22), fj_b1(g, 0xc0); /* MOV CR0, EAX */
    fj_ins_end(g);
    fj_ins_begin(g);
    fj_b1(g, 0xea); /* JMP FJ_CODE>>4 : l1 */
    uint32_t at = g->pos;
    fj_b2(g, 0);
    fj_b2(g, (uint16_t)(FJ_CODE >> 4));
    fj_ins_end(g);
    fj_fixup(g, l1, FIX_ABS16, at, 0);
    fj_clobber(g, R_EAX);
    fj_flags_written(g, F_ALL, 0);
    fj_label_place(g, l1, false);
    g->real = true;
    fj_gen_items_real(g, 2 + fj_below(12));
    g->real = false;
    fj_ins_begin(g);
    fj_b1(g, 0x0f), fj_b1(g, 0x20), fj_b1(g, 0xc0);
    fj_ins_end(g);
    fj_ins_begin(g);
    fj_b1(g, 0x66), fj_b1(g, 0x0d), fj_b4(g, CR0_PE); /* OR EAX, PE */
    fj_ins_end(g);
    fj_ins_begin(g);
    fj_b1(g, 0x0f), fj_b1(g, 0x22), fj_b1(g, 0xc0);
    fj_ins_end(g);
    fj_ins_begin(g);
    fj_b1(g, 0xea);
    at = g->pos;
    fj_b2(g, 0);
    fj_b2(g, SEL_CODE16);
    fj_ins_end(g);
    fj_fixup(g, l2, FIX_ABS16, at, 0);
    fj_clobber(g, R_EAX);
    fj_flags_written(g, F_ALL, 0);
    fj_label_place(g, l2, false);
    emit_lidt(g, ts, FJ_TAB_IDTR + 8);
}

/* Instructions that fault or trap on purpose: UD2, INT3, INTO, INT 81h,
 * INT 82h (a ring-0 gate: #GP from ring 3), BOUND, HLT/CLI/MOV CR at
 * ring 3. The handler logs them; faults are skipped, traps return. */
void fj_gen_fault(struct gen *g)
{
    if (g->real)
        return;
    fj_need_flags(g, F_ALL);
    unsigned k = fj_below(8);
    fj_ins_begin(g);
    switch (k) {
    case 0: fj_b1(g, 0x0f), fj_b1(g, 0x0b); break;      /* UD2 */
    case 1: fj_b1(g, 0xcc); break;                      /* INT3 */
    case 2: fj_b1(g, 0xce); break;                      /* INTO */
    case 3: fj_b1(g, 0xcd), fj_b1(g, 0x81); break;      /* INT 81h */
    case 4: fj_b1(g, 0xcd), fj_b1(g, 0x82); break;      /* INT 82h */
    case 5: { /* BOUND r, m: bounds from data (or a fault there) */
        fj_ins_end(g);
        struct rm o;
        unsigned w = fj_vsize(g);
        if (!fj_make_mem(g, 2 * w, false, true, 0, &o))
            return;
        fj_need_flags(g, F_ALL);
        fj_ins_begin(g);
        static const uint8_t opc = 0x62;
        fj_emit_op(g, 0, &opc, 1, fj_below(8), &o, 0, 0);
        break;
    }
    default:
        if (g->cpl == 3 && !g->in_func) { /* functions run at either ring */
            static const uint8_t priv[3][3] = { { 0xf4 }, { 0xfa }, { 0x0f, 0x22, 0xc0 } };
            unsigned p = fj_below(3);
            for (unsigned i = 0; i < (p == 2 ? 3u : 1u); i++)
                fj_b1(g, priv[p][i]);
        } else {
            fj_b1(g, 0x0f), fj_b1(g, 0x0b);
        }
        break;
    }
    fj_ins_end(g);
}
