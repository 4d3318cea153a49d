/*
 * program.c — whole generated programs (test_fuzz_jit.c): bodies of items,
 * the functions the programs call, top-level chunks, and fj_generate, which
 * builds a program from its seed into a RAM image (data, tables, page
 * tables, functions, the program, its HLT) with its start state.
 */
#include <string.h>

#include "../fuzz_undef.h"
#include "fuzz_jit.h"

/* ------------------------------------------------------------------ */
/* Bodies, functions, programs                                         */
/* ------------------------------------------------------------------ */

/* n items of a body: data instructions, and (in long bodies, not too
 * deep) nested branches, loops, calls, string instructions, faults. */
void fj_gen_items(struct gen *g, unsigned n, bool shrt)
{
    const uint32_t start = g->pos;
    const bool outer = g->shrt;
    g->shrt = shrt;
    for (unsigned i = 0; i < n && !g->full; i++) {
        if ((shrt && g->pos - start > 56) || g->pos + 400 > g->limit)
            break;
        if (!shrt && g->depth < 3 && fj_chance(18)) {
            switch (fj_below(9)) {
            case 0: case 1: fj_gen_if(g); break;
            case 2: fj_gen_loop(g); break;
            case 3: if (!g->in_func) fj_gen_call(g); break;
            case 4: if (!g->real) fj_gen_string(g); break;
            case 5: fj_gen_fault(g); break;
            case 6: fj_gen_push_pop(g); break;
            case 7: if (!g->real && !g->in_func) fj_gen_switch(g); break;
            default: if (!g->in_func) fj_gen_frame(g); break;
            }
        } else {
            fj_gen_data_insn(g);
        }
    }
    g->shrt = outer;
}

void fj_gen_items_real(struct gen *g, unsigned n)
{
    for (unsigned i = 0; i < n && !g->full; i++) {
        if (g->pos + 400 > g->limit)
            break;
        unsigned r = fj_below(10);
        if (r == 0)
            fj_gen_if(g);
        else if (r == 1)
            fj_gen_smc(g);
        else
            fj_gen_data_insn(g);
    }
}

/*
 * Function k, at g->pos: maybe a patchable MOV EAX, imm32 whose value
 * it folds into a data slot (so that a store into it shows), reads of
 * its arguments through ESP, a body, maybe a call of an earlier
 * function; RET, or RET n popping its arguments. It writes EAX, EBX,
 * EDX only and assumes the data segment of ds_canonical.
 */
static void gen_function(struct gen *g, unsigned k)
{
    g->func_at[k] = g->pos;
    g->func_args[k] = fj_below(4) * fj_vsize(g);
    g->func_caller_pops[k] = fj_chance(30);
    g->func_patch[k] = 0;
    g->in_func = true;
    g->func_regs = RBIT(R_EAX) | RBIT(R_EBX) | RBIT(R_EDX);
    g->esp_known = false;
    g->known = 0;
    g->undef = 0;
    g->depth = 1;
    const uint32_t ds_base = g->seg[SEG_DS].base;
    if (fj_chance(70)) {
        g->func_patch[k] = fj_emit_patchable(g, R_EAX, fj_rnd());
        fj_clobber(g, R_EAX); /* the program may store another immediate */
        /* XOR [slot], EAX */
        struct rm o;
        memset(&o, 0, sizeof(o));
        o.mem = true, o.seg_prefix = -1;
        uint32_t slot = FJ_RAND + k * 4;
        bool a16 = !g->code32;
        o.a16 = a16, o.mod = 0, o.rmf = a16 ? 6 : 5, o.disp_size = a16 ? 2 : 4;
        o.disp = slot - ds_base;
        fj_ins_begin(g);
        static const uint8_t opc = 0x31;
        fj_emit_op(g, 4, &opc, 1, R_EAX, &o, 0, 0);
        fj_ins_end(g);
        fj_flags_written(g, F_ALL, 0);
    }
    /* Arguments: MOV EBX/EDX, [ESP + return address + i] */
    unsigned nargs = g->func_args[k] / fj_vsize(g);
    for (unsigned i = 0; i < nargs; i++) {
        if (fj_chance(40))
            continue;
        unsigned r = fj_chance(50) ? R_EBX : R_EDX;
        fj_ins_begin(g);
        if (!g->code32)
            fj_b1(g, 0x67);
        fj_b1(g, 0x8b);
        fj_b1(g, (uint8_t)(0x44 | r << 3));
        fj_b1(g, 0x24);
        fj_b1(g, (uint8_t)(fj_vsize(g) * (1 + i)));
        fj_ins_end(g);
        fj_clobber(g, r);
    }
    fj_gen_items(g, 3 + fj_below(14), false);
    if (k > 0 && fj_chance(30)) {
        g->in_func = false; /* fj_gen_call_k refuses inside functions */
        const uint32_t saved = g->func_regs;
        g->func_regs = ALL_REGS;
        g->reserved = ~(RBIT(R_EAX) | RBIT(R_EBX) | RBIT(R_EDX)) & ALL_REGS;
        fj_gen_call_k(g, fj_below(k));
        g->reserved = 0;
        g->func_regs = saved;
        g->in_func = true;
    }
    if (g->undef)
        fj_emit_sanitizer(g, false);
    fj_ins_begin(g);
    if (g->func_args[k] && !g->func_caller_pops[k]) {
        fj_b1(g, 0xc2);
        fj_b2(g, (uint16_t)g->func_args[k]);
    } else {
        fj_b1(g, 0xc3);
    }
    fj_ins_end(g);
    g->in_func = false;
    g->depth = 0;
    g->esp_known = true;
}

/* One top-level chunk. */
static void gen_chunk(struct gen *g)
{
    unsigned r = fj_below(100);
    if (r < 30)
        fj_gen_items(g, 3 + fj_below(10), false);
    else if (r < 40)
        fj_gen_if(g);
    else if (r < 48)
        fj_gen_loop(g);
    else if (r < 55)
        fj_gen_call(g);
    else if (r < 58)
        fj_gen_switch(g);
    else if (r < 60)
        fj_gen_jmp_indirect(g);
    else if (r < 66)
        fj_gen_string(g);
    else if (r < 72)
        fj_gen_smc(g);
    else if (r < 77)
        fj_gen_seg(g);
    else if (r < 81)
        fj_gen_ring(g);
    else if (r < 85)
        fj_gen_paging(g);
    else if (r < 87)
        fj_gen_real(g);
    else if (r < 90)
        fj_gen_fault(g);
    else if (r < 93)
        fj_gen_frame(g);
    else if (r < 99)
        fj_gen_frame_run(g);
    else
        fj_gen_push_pop(g);
}

/* The data segment registers a program starts with (and that the
 * functions assume: DS). */
static uint16_t fj_random_data_sel(bool user)
{
    static const uint16_t any[] = { SEL_DATA0, SEL_DATA3, SEL_DATAB, SEL_SMALL, SEL_RO,
                                    SEL_EXPDOWN, SEL_HIBASE, SEL_DATA16, 0 };
    uint16_t sel = any[fj_below(sizeof(any) / sizeof(any[0]))];
    if (user && sel == SEL_DATA0)
        sel = SEL_DATA3;
    return sel;
}

static void fj_fill_random(uint8_t *img, uint32_t from, uint32_t to)
{
    for (uint32_t a = from; a < to; a += 4)
        fj_put32(img, a, fj_chance(20) ? fj_value() : fj_rnd());
}

/*
 * Builds program `seed` of `mode` into g->img (a copy of the base image)
 * and its start state. False if it could not be made (a short jump that
 * does not reach, a table full): the caller takes another seed.
 */
bool fj_generate(struct gen *g, uint64_t seed, enum fj_mode mode, struct fj_start *st)
{
    fj_rng = seed;
    uint8_t *img = g->img;
    g->mode = mode;
    g->tolerate = fuzz_undef_tolerate();
    g->paging = mode == FJ_PAGING || mode == FJ_PAGING_USER;
    g->code32 = mode != FJ_PM16;
    g->cs_base = g->code32 ? 0 : FJ_CODE;
    g->nlabels = g->nfix = g->ninsns = 0;
    g->full = false;
    g->real = false;
    g->in_func = false;
    g->reserved = 0;
    g->depth = 0;
    g->weight = 1;
    g->dyn = 0;
    g->switch_next = FJ_TAB_SWITCH;
    g->no_esp_base = g->force_disp = g->shrt = false;
    g->force_base = -1;
    g->undef = 0;

    /* Data, tables. */
    fj_fill_random(img, FJ_RAND, FJ_DATA_END);
    fj_fill_random(img, FJ_SPECIAL, FJ_SPECIAL_END);
    memset(img + FJ_DATA, 0, FJ_RAND - FJ_DATA);
    for (unsigned i = 0; i < 16; i++) {
        uint16_t sel = fj_random_data_sel(fj_chance(50));
        fj_put32(img, FJ_TAB_FAR + 8 * i, fj_value());
        fj_put16(img, FJ_TAB_FAR + 8 * i + 4, sel);
        fj_put16(img, FJ_TAB_FAR16 + 4 * i, (uint16_t)fj_rnd());
        fj_put16(img, FJ_TAB_FAR16 + 4 * i + 2, fj_random_data_sel(fj_chance(50)));
    }
    for (unsigned i = 0; i < 2; i++) { /* [66] B8 imm32 */
        uint32_t at = FJ_TAB_TEMPL + 8 * i;
        if (!g->code32)
            img[at++] = 0x66;
        img[at] = 0xb8;
        fj_put32(img, at + 1, fj_rnd());
    }
    g->templ_len = g->code32 ? 5 : 6;
    fj_put16(img, FJ_TAB_IDTR, 0x3ff);
    fj_put32(img, FJ_TAB_IDTR + 2, FJ_IVT);
    fj_put16(img, FJ_TAB_IDTR + 8, 256 * 8 - 1);
    fj_put32(img, FJ_TAB_IDTR + 10, FJ_IDT);
    memset(img + FJ_CODE, 0xcc, FJ_CODE_SIZE); /* INT3 where nothing was made */
    memset(img + FJ_LENS, 0, FJ_CODE_SIZE);

    /* Page tables: identity, user, writable; the special pages each in a
     * state (the last two aliases of the functions' pages, for stores
     * into code through another address: random stores never go there). */
    memset(img + FJ_PD, 0, 4096);
    memset(img + FJ_PT_MMIO, 0, 4096);
    fj_put32(img, FJ_PD, FJ_PT0 | 7);
    fj_put32(img, FJ_PD + (FJ_MMIO >> 22) * 4, FJ_PT_MMIO | 7);
    fj_put32(img, FJ_PT_MMIO, FJ_MMIO | 7);
    fj_put32(img, FJ_PT_MMIO + ((FJ_HOLE - FJ_MMIO) >> 12) * 4, FJ_HOLE | 7);
    for (uint32_t i = 0; i < 1024; i++)
        fj_put32(img, FJ_PT0 + 4 * i, (i << 12) | 7);
    /* Half the time with paging, the stacks' and the random data's pages
     * in a shuffled order of their frames: neighbouring pages then have
     * unrelated host addresses, as in any real guest (an access or a
     * frame the JIT wrongly proves within one page shows). The tables,
     * the handler and the code stay where they are. */
    if (g->paging && fj_chance(50)) {
        static const uint32_t ranges[3][2] = { { 0x9, 0x10 }, { 0x11, 0x20 },
                                               { FJ_RAND >> 12, FJ_DATA_END >> 12 } };
        for (unsigned r = 0; r < 3; r++)
            for (uint32_t i = ranges[r][1] - 1; i > ranges[r][0]; i--) {
                uint32_t j = ranges[r][0] + fj_below(i - ranges[r][0] + 1);
                uint32_t a = fj_get32(img, FJ_PT0 + 4 * i), b = fj_get32(img, FJ_PT0 + 4 * j);
                fj_put32(img, FJ_PT0 + 4 * i, b);
                fj_put32(img, FJ_PT0 + 4 * j, a);
            }
    }
    static const uint32_t sp_bits[SP_STATES] = { 7, 6, 0x204, 5, 3, 7 };
    for (unsigned i = 0; i < FJ_SPECIAL_PAGES; i++) {
        unsigned stt = fj_chance(40) ? SP_NORMAL : fj_below(SP_STATES);
        uint32_t frame = FJ_SPECIAL + i * 4096u;
        if (i >= FJ_SPECIAL_PAGES - 2) /* never written at random (fj_kind_range) */
            stt = SP_ALIAS, frame = FJ_FUNCS + (i - (FJ_SPECIAL_PAGES - 2)) * 4096u;
        else if (stt == SP_ALIAS)
            frame = FJ_RAND + fj_below(0x70) * 4096u;
        g->sp[i] = (uint8_t)stt;
        g->sp_frame[i] = frame;
        fj_put32(img, FJ_PT0 + ((FJ_SPECIAL >> 12) + i) * 4, frame | sp_bits[stt]);
    }

    /* The start state. */
    memset(st, 0, sizeof(*st));
    st->mode = mode;
    bool user = mode == FJ_USER || mode == FJ_PAGING_USER;
    g->cpl = user && fj_chance(60) ? 3 : 0;
    st->cpl = (uint8_t)g->cpl;
    st->cs = g->code32 ? (g->cpl ? SEL_CODE3 : SEL_CODE0) : SEL_CODE16;
    if (g->code32)
        st->ss = g->cpl ? SEL_DATA3 : fj_chance(30) ? SEL_STACKB : SEL_DATA0;
    else
        st->ss = fj_chance(50) ? SEL_STACK16 : fj_chance(50) ? SEL_STACKB : SEL_DATA0;
    bool ring3 = g->cpl == 3;
    if (g->code32)
        st->ds = fj_chance(85) ? (ring3 ? SEL_DATA3 : (fj_chance(50) ? SEL_DATA0 : SEL_DATA3))
                               : fj_random_data_sel(ring3);
    else
        st->ds = fj_chance(85) ? SEL_DATA16 : fj_random_data_sel(false);
    st->es = fj_chance(50) ? (ring3 ? SEL_DATA3 : SEL_DATA0) : fj_random_data_sel(ring3);
    st->fs = fj_random_data_sel(ring3);
    st->gs = fj_chance(30) ? (ring3 ? SEL_DATA3 : SEL_DATA0) : fj_random_data_sel(ring3);
    st->cr0 = CR0_PE | CR0_ET | CR0_NE;
    if (g->paging)
        st->cr0 |= CR0_PG | (fj_chance(50) ? CR0_WP : 0);
    for (unsigned r = 0; r < 8; r++)
        st->regs[r] = fj_value();
    st->regs[R_ESP] = g->code32 ? (ring3 ? FJ_STACK3 : FJ_STACK0) : 0xfff0;
    if (!user && fj_chance(50)) /* (ring switches need ESP0 exactly) */
        st->regs[R_ESP] -= 4 * fj_below(g->code32 ? 0x800 : 0x200);
    if (st->ss == SEL_STACKB)
        st->regs[R_ESP] -= FJ_STACKB_BASE;
    st->eflags = FL_FIXED1 | (fj_rnd() & FL_ARITH); /* then the next draw: sequenced */
    st->eflags |= fj_chance(20) ? FL_DF : 0;

    g->seg[SEG_CS] = fj_seg_of(st->cs);
    g->seg[SEG_SS] = fj_seg_of(st->ss);
    g->stack32 = g->seg[SEG_SS].big;

    /* Functions: made first (the program calls them), with the data
     * segment they assume and no other. */
    g->seg[SEG_DS] = fj_seg_of(g->code32 ? SEL_DATA3 : SEL_DATA16);
    g->seg[SEG_ES] = g->seg[SEG_FS] = g->seg[SEG_GS] = fj_seg_of(0);
    g->pos = FJ_FUNCS;
    g->limit = FJ_FUNCS_END - 512;
    g->nfuncs = 2 + fj_below(5);
    for (unsigned k = 0; k < g->nfuncs; k++) {
        g->df = -1;
        gen_function(g, k);
        fj_put32(img, FJ_TAB_FUNC32 + 4 * k, g->func_at[k] - g->cs_base);
        fj_put16(img, FJ_TAB_FUNC16 + 2 * k, (uint16_t)(g->func_at[k] - g->cs_base));
        if (g->full)
            return false;
    }
    g->dyn = 0;

    /* The program. */
    g->seg[SEG_DS] = fj_seg_of(st->ds);
    g->seg[SEG_ES] = fj_seg_of(st->es);
    g->seg[SEG_FS] = fj_seg_of(st->fs);
    g->seg[SEG_GS] = fj_seg_of(st->gs);
    g->known = 0;
    for (unsigned r = 0; r < 8; r++)
        fj_reg_set(g, r, st->regs[r]);
    g->esp_known = true;
    g->df = (st->eflags & FL_DF) != 0;
    g->pos = FJ_CODE;
    g->limit = FJ_MAIN_END - 64;
    unsigned chunks = 30 + fj_below(170);
    for (unsigned i = 0; i < chunks && !g->full; i++) {
        if (g->pos + 1024 > g->limit || g->dyn > FJ_MAX_DYN)
            break;
        gen_chunk(g);
    }
    if (g->full)
        return false;
    /* The end: back to ring 0, flags defined, HLT. */
    g->limit = FJ_MAIN_END;
    if (g->cpl == 3)
        fj_gen_ring(g);
    if (g->undef)
        fj_emit_sanitizer(g, false);
    fj_ins_begin(g);
    fj_b1(g, 0xf4);
    fj_ins_end(g);
    st->eip = FJ_CODE - g->cs_base;
    st->end_eip = g->pos - g->cs_base;
    return !g->full && fj_fixups_apply(g);
}
