/*
 * gen_frame.c — stack frames and frame runs in generated programs
 * (test_fuzz_jit.c, "Frame accesses"): ENTER or PUSH EBP/MOV EBP, ESP ...
 * LEAVE, runs of [EBP + disp] / [ESP + disp] operands with the base
 * unwritten, inside a page, across a page's end or hugging one, and
 * [EBP + disp] right after a LEAVE.
 */
#include "fuzz_jit.h"

/*
 * A region of data for [EBP + disp] operands (fj_gen_frame_run, after a
 * LEAVE), and EBP at it: inside a page, across a page's end, or hugging
 * one from below (so that only the highest access may straddle it); with
 * paging, across or up to the end of the data, where the special pages
 * begin (not present, read-only, an alias...: another host address or a
 * fault, which is what makes a frame the JIT proves wrongly show).
 * False if SS does not reach the data.
 */
static bool frame_in_data(struct gen *g, uint32_t *lo, uint32_t *hi)
{
    const struct fj_seg *ss = &g->seg[SEG_SS];
    if (!(fj_writable_regs(g) & RBIT(R_EBP)) || ss->expdown || ss->base > FJ_RAND ||
        ss->limit < FJ_DATA_END + 0x100 - ss->base)
        return false;
    uint32_t end = ((FJ_RAND + 0x1000 + fj_below(FJ_DATA_END - FJ_RAND - 0x3000)) | 0xfff) + 1;
    unsigned how = fj_below(4);
    if (how == 3 && g->paging)
        end = FJ_DATA_END, how = fj_below(2);
    uint32_t centre;
    switch (how) {
    case 0: /* hugging a page's end */
        *lo = end - 0x60, *hi = end + 1 + fj_below(3), centre = end - 0x30;
        break;
    case 1: /* across one */
        centre = end - 0x40 + fj_below(0x80), *lo = centre - 0x100, *hi = centre + 0x100;
        break;
    default:
        centre = end - 0x800, *lo = centre - 0x100, *hi = centre + 0x100;
        break;
    }
    fj_set_reg(g, R_EBP, centre - 0x20 + fj_below(0x40) - ss->base);
    return true;
}

/* n data instructions whose memory operands are [base + disp] in SS,
 * reaching [lo, hi) (make_frame_mem); base kept from being written. */
static void frame_insns(struct gen *g, unsigned base, uint32_t lo, uint32_t hi, unsigned n)
{
    const int outer = g->force_base;
    const uint32_t olo = g->frame_lo, ohi = g->frame_hi, reserved = g->reserved;
    g->reserved |= RBIT(base);
    g->force_base = (int)base;
    g->frame_lo = lo, g->frame_hi = hi;
    while (n-- > 0 && !g->full) {
        if (fj_chance(15))
            fj_gen_x87_mem(g); /* up to 10 bytes wide */
        else
            fj_gen_data_insn(g);
    }
    g->force_base = outer;
    g->frame_lo = olo, g->frame_hi = ohi;
    g->reserved = reserved;
}

/* A stack frame: ENTER or PUSH EBP/MOV EBP, ESP/SUB ESP; work with EBP
 * known (often through [EBP + disp] only, below the saved EBP); LEAVE;
 * sometimes [EBP + disp] accesses again right after it, in the same block,
 * on the EBP it restored (set to a data pointer before the frame). */
void fj_gen_frame(struct gen *g)
{
    if (!g->esp_known || !(fj_writable_regs(g) & RBIT(R_EBP)) || g->in_func)
        return;
    /* 16-bit code sets only BP, but LEAVE on a 32-bit stack loads ESP
     * from all of EBP: its upper half must be ESP's (zero). */
    uint32_t after_lo = 0, after_hi = 0;
    bool after = false;
    if (!g->code32)
        fj_set_reg(g, R_EBP, fj_rnd() & 0xffff);
    else if (fj_chance(40))
        after = frame_in_data(g, &after_lo, &after_hi);
    bool ebp_known = fj_reg_known(g, R_EBP);
    uint32_t ebp_val = g->val[R_EBP];
    uint32_t esp0 = g->val[R_ESP];
    unsigned w = fj_vsize(g), size = 4 * fj_below(16);
    bool enter = fj_chance(50);
    unsigned level = enter && fj_chance(30) ? 1 : 0;
    fj_ins_begin(g);
    if (enter) {
        fj_b1(g, 0xc8), fj_b2(g, (uint16_t)size), fj_b1(g, (uint8_t)level);
    } else {
        fj_b1(g, 0x55); /* PUSH EBP */
    }
    fj_ins_end(g);
    fj_esp_add(g, -(int32_t)w);
    uint32_t frame = g->val[R_ESP];
    if (level)
        fj_esp_add(g, -(int32_t)w);
    if (!enter) {
        fj_ins_begin(g);
        fj_emit_prefixes(g, w, NULL, 0);
        fj_b1(g, 0x89), fj_b1(g, 0xe5); /* MOV EBP, ESP */
        fj_ins_end(g);
        if (size) {
            fj_ins_begin(g);
            fj_emit_prefixes(g, w, NULL, 0);
            fj_b1(g, 0x83), fj_b1(g, 0xec), fj_b1(g, (uint8_t)size); /* SUB ESP, n */
            fj_ins_end(g);
            fj_flags_written(g, F_ALL, 0);
        }
    }
    fj_esp_add(g, -(int32_t)size);
    fj_reg_set(g, R_EBP, frame);
    const uint32_t reserved = g->reserved;
    const int outer = g->force_base;
    g->reserved |= RBIT(R_EBP);
    g->depth++;
    if (g->code32 && fj_chance(50)) {
        /* The locals and what is below them (the saved EBP above stays) */
        uint32_t top = g->seg[SEG_SS].base + frame;
        frame_insns(g, R_EBP, top - 0x100, top, 3 + fj_below(8));
    } else {
        g->force_base = -1;
        fj_gen_items(g, 2 + fj_below(6), false);
        g->force_base = outer;
    }
    g->depth--;
    g->reserved = reserved;
    fj_ins_begin(g);
    fj_b1(g, 0xc9); /* LEAVE */
    fj_ins_end(g);
    g->val[R_ESP] = esp0;
    if (ebp_known)
        fj_reg_set(g, R_EBP, ebp_val);
    else
        fj_clobber(g, R_EBP);
    if (after && fj_chance(70))
        frame_insns(g, R_EBP, after_lo, after_hi, 3 + fj_below(4));
}

/*
 * A run of data instructions whose memory operands are [EBP + disp] or
 * [ESP + disp] in SS, the base not written meanwhile (a JMP before them
 * starts a block without the base's setup): what the JIT turns into frame
 * accesses, proved in one TLB page by the block's prologue (and run by
 * its variant without them when they are not). The frame sometimes sits
 * across a page boundary.
 */
void fj_gen_frame_run(struct gen *g)
{
    if (!g->esp_known || g->in_func || g->real || g->force_base >= 0)
        return;
    const struct fj_seg *ss = &g->seg[SEG_SS];
    unsigned base = R_ESP;
    uint32_t lo, hi;
    if (fj_chance(60) && frame_in_data(g, &lo, &hi)) {
        base = R_EBP;
    } else {
        /* The free stack below ESP. */
        lo = ss->base + g->val[R_ESP] - 0x300, hi = ss->base + g->val[R_ESP];
        if (fj_chance(40) && (fj_writable_regs(g) & RBIT(R_EBP))) {
            base = R_EBP;
            fj_set_reg(g, R_EBP, g->val[R_ESP] - fj_below(0x200));
        }
    }
    if (g->undef)
        fj_emit_sanitizer(g, false);
    if (!g->real && fj_chance(30)) {
        /* FNINIT: every x87 exception masked, so that the run's x87
         * operands are translated inline (through the frame) */
        fj_ins_begin(g);
        fj_b1(g, 0xdb), fj_b1(g, 0xe3);
        fj_ins_end(g);
    }
    fj_ins_begin(g); /* JMP $+2: the run starts a block */
    fj_b1(g, 0xeb);
    fj_b1(g, 0x00);
    fj_ins_end(g);
    if (base == R_EBP) {
        frame_insns(g, R_EBP, lo, hi, 3 + fj_below(10));
        return;
    }
    /* ESP moved by known amounts on the way: SUB/ADD ESP, imm and LEA
     * ESP, [ESP + disp], given back at the end. */
    const uint32_t reserved = g->reserved;
    g->reserved |= RBIT(base);
    g->force_base = (int)base;
    g->frame_lo = lo, g->frame_hi = hi;
    int32_t moved = 0;
    for (unsigned n = 3 + fj_below(10); n > 0 && !g->full; n--) {
        if (fj_chance(30)) {
            int32_t d = fj_chance(70) ? -(int32_t)(4 * (1 + fj_below(16)))
                                      : -(int32_t)(1 + fj_below(31));
            if (moved + d < -0x70 || fj_chance(30))
                d = -moved; /* (d may be 0: an ADD ESP, 0; never past a disp8) */
            fj_ins_begin(g);
            if (!g->code32)
                fj_b1(g, 0x66), fj_b1(g, 0x67);
            if (fj_chance(50)) { /* ADD/SUB ESP, imm8 */
                fj_b1(g, 0x83), fj_b1(g, d < 0 ? 0xec : 0xc4), fj_b1(g, (uint8_t)(d < 0 ? -d : d));
                fj_ins_end(g);
                fj_flags_written(g, F_ALL, 0);
            } else { /* LEA ESP, [ESP + disp8] */
                fj_b1(g, 0x8d), fj_b1(g, 0x64), fj_b1(g, 0x24), fj_b1(g, (uint8_t)d);
                fj_ins_end(g);
            }
            fj_esp_add(g, d);
            moved += d;
            continue;
        }
        if (fj_chance(15))
            fj_gen_x87_mem(g);
        else
            fj_gen_data_insn(g);
    }
    if (moved) {
        fj_ins_begin(g);
        if (!g->code32)
            fj_b1(g, 0x66), fj_b1(g, 0x67);
        fj_b1(g, 0x8d), fj_b1(g, 0x64), fj_b1(g, 0x24), fj_b1(g, (uint8_t)-moved);
        fj_ins_end(g);
        fj_esp_add(g, -moved);
    }
    g->force_base = -1;
    g->reserved = reserved;
}
