/*
 * gen_rare.c — the rare instructions of generated programs
 * (test_fuzz_jit.c): CPUID, the BCD adjustments, XLAT, x87, port I/O to the
 * test device.
 */
#include "fuzz_jit.h"

/* ---- rare: CPUID, BCD, XLAT, x87, port I/O ---------------------------- */

/*
 * An x87 memory operand: FLD/FSTP m32, FILD/FISTP m32, FNSTCW m16; FLD/FSTP
 * m64, FILD/FISTP m64, FLD/FSTP m80 (operands of 8 and 10 bytes, as wide
 * as a frame access gets: fj_gen_frame_run puts them at a frame's top,
 * across a page's end; FLD m80 also loads whatever bytes are there,
 * unsupported formats included).
 */
void fj_gen_x87_mem(struct gen *g)
{
    static const struct {
        uint8_t opcode, digit, size;
        bool store;
    } mem_ops[] = {
        { 0xd9, 0, 4, false }, { 0xd9, 3, 4, true },  { 0xdb, 0, 4, false },
        { 0xdb, 3, 4, true },  { 0xd9, 7, 2, true },  { 0xdd, 0, 8, false },
        { 0xdd, 3, 8, true },  { 0xdf, 5, 8, false }, { 0xdf, 7, 8, true },
        { 0xdb, 5, 10, false }, { 0xdb, 7, 10, true },
    };
    if (g->real)
        return; /* an exception left pending by protected-mode code: #MF there */
    fj_need_flags(g, F_ALL); /* #MF, with CR0.NE, from an exception left pending */
    unsigned m = fj_below(sizeof(mem_ops) / sizeof(mem_ops[0]));
    struct rm o;
    if (!fj_make_mem(g, mem_ops[m].size, mem_ops[m].store, true, 0, &o))
        return;
    fj_before(g, 0, &o, false);
    fj_ins_begin(g);
    fj_emit_op(g, 0, &mem_ops[m].opcode, 1, mem_ops[m].digit, &o, 0, 0);
    fj_ins_end(g);
}


void fj_gen_rare(struct gen *g)
{
    uint32_t w = fj_writable_regs(g);
    switch (fj_below(6)) {
    case 0: { /* CPUID */
        uint32_t need = RBIT(R_EAX) | RBIT(R_EBX) | RBIT(R_ECX) | RBIT(R_EDX);
        if ((w & need) != need)
            return;
        uint32_t leaf = fj_below(3); /* then the next draw: sequenced */
        fj_set_reg(g, R_EAX, leaf | (fj_chance(20) ? 0x80000000u : 0));
        fj_ins_begin(g);
        fj_b1(g, 0x0f);
        fj_b1(g, 0xa2);
        fj_ins_end(g);
        g->known &= ~need;
        return;
    }
    case 1: { /* DAA DAS AAA AAS AAM AAD */
        if (!(w & RBIT(R_EAX)))
            return;
        static const uint8_t ops[] = { 0x27, 0x2f, 0x37, 0x3f, 0xd4, 0xd5 };
        uint8_t op = ops[fj_below(6)];
        fj_before(g, F_ALL, NULL, op == 0xd4);
        fj_ins_begin(g);
        fj_b1(g, op);
        if (op >= 0xd4)
            fj_b1(g, fj_chance(80) || g->real ? 10 : (uint8_t)fj_below(4)); /* AAM 0: #DE */
        fj_ins_end(g);
        fj_clobber(g, R_EAX);
        /* The flags each defines (the others stay what they were) */
        fj_flags_written(g, op == 0x27 || op == 0x2f ? F_ALL & ~FL_OF
                            : op >= 0xd4 ? FL_SF | FL_ZF | FL_PF : FL_CF | FL_AF, 0);
        return;
    }
    case 2: { /* XLAT with EBX at data */
        if ((w & (RBIT(R_EAX) | RBIT(R_EBX))) != (RBIT(R_EAX) | RBIT(R_EBX)))
            return;
        const struct fj_seg *ds = &g->seg[SEG_DS];
        if (!ds->usable || ds->expdown || ds->limit < 0x10000 || !g->code32)
            return;
        uint32_t lin = FJ_RAND + fj_below(0x70000);
        fj_set_reg(g, R_EBX, lin - ds->base);
        if (ds->base + ds->limit < lin + 256 && ds->limit != 0xffffffffu)
            return;
        fj_ins_begin(g);
        fj_b1(g, 0xd7);
        fj_ins_end(g);
        fj_clobber(g, R_EAX);
        return;
    }
    case 3: case 4: { /* x87 (not in real mode: an exception left pending
                       * by the protected-mode code would raise #MF there) */
        if (g->real)
            return;
        static const uint8_t two[][2] = {
            { 0xd9, 0xe8 }, { 0xd9, 0xee }, { 0xd9, 0xeb }, { 0xd8, 0xc1 }, { 0xd8, 0xc9 },
            { 0xd9, 0xc9 }, { 0xd9, 0xe0 }, { 0xd9, 0xe1 }, { 0xdd, 0xd8 }, { 0xde, 0xc1 },
            { 0xdb, 0xe3 }, { 0xd9, 0xfa },
        };
        unsigned k = fj_below(16);
        fj_need_flags(g, F_ALL); /* #MF, with CR0.NE, from an exception left pending */
        if (k < 12) {
            fj_ins_begin(g);
            fj_b1(g, two[k][0]);
            fj_b1(g, two[k][1]);
            fj_ins_end(g);
            return;
        }
        if (k == 12) { /* FNSTSW AX */
            if (!(w & RBIT(R_EAX)))
                return;
            fj_ins_begin(g);
            fj_b1(g, 0xdf);
            fj_b1(g, 0xe0);
            fj_ins_end(g);
            fj_clobber(g, R_EAX);
            return;
        }
        fj_gen_x87_mem(g);
        return;
    }
    default: { /* IN / OUT through DX (at CPL 3 without IOPL: #GP) */
        uint32_t need = RBIT(R_EDX) | RBIT(R_EAX);
        if ((w & need) != need)
            return;
        fj_set_reg(g, R_EDX, FJ_PORT + fj_below(8));
        unsigned size = fj_pick_width();
        fj_before(g, 0, NULL, g->cpl > 0 || g->in_func);
        fj_ins_begin(g);
        fj_emit_prefixes(g, fj_osz(size), NULL, 0);
        bool in = fj_chance(50);
        fj_b1(g, (uint8_t)((in ? 0xec : 0xee) + (size > 1)));
        fj_ins_end(g);
        if (in)
            fj_clobber(g, R_EAX);
        return;
    }
    }
}
