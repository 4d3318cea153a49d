/*
 * gen_control.c — near control flow in generated programs
 * (test_fuzz_jit.c): Jcc/JMP, if/else (and JECXZ), counted loops, calls of
 * the generated functions (direct, through a register or a table, with
 * arguments), switches through jump tables, indirect jumps; what the
 * generator knows is saved at a branch and merged where the ways join.
 */
#include <string.h>

#include "fuzz_jit.h"

/* ------------------------------------------------------------------ */
/* Control flow                                                        */
/* ------------------------------------------------------------------ */

/* What the generator knows, saved at a branch and merged at its join. */
struct kstate {
    uint32_t known, val[8];
    int df;
};

static void ks_save(const struct gen *g, struct kstate *k)
{
    k->known = g->known;
    memcpy(k->val, g->val, sizeof(k->val));
    k->df = g->df;
}

static void ks_restore(struct gen *g, const struct kstate *k)
{
    uint32_t esp = g->val[R_ESP];
    g->known = k->known;
    memcpy(g->val, k->val, sizeof(g->val));
    g->val[R_ESP] = esp;
    g->df = k->df;
}

/* The generator's knowledge := what holds on both ways. */
static void ks_merge(struct gen *g, const struct kstate *k)
{
    for (unsigned r = 0; r < 8; r++)
        if (r != R_ESP && (!(k->known & RBIT(r)) || k->val[r] != g->val[r]))
            g->known &= ~RBIT(r);
    if (g->df != k->df)
        g->df = -1;
}

/* Jcc (cc 0-15), JMP (cc < 0) to label l, short or near. */
void fj_emit_jump(struct gen *g, int cc, unsigned l, bool shrt)
{
    if (shrt) {
        fj_ins_begin(g);
        fj_b1(g, cc < 0 ? 0xeb : (uint8_t)(0x70 + cc));
        uint32_t at = g->pos;
        fj_b1(g, 0);
        fj_fixup(g, l, FIX_REL8, at, g->pos);
        fj_ins_end(g);
        return;
    }
    /* Near: rel32 in 32-bit code, rel16 in 16-bit code (sometimes rel32
     * with 66 there: the target is below 64 KiB either way). */
    bool wide = g->code32 || fj_chance(15);
    fj_ins_begin(g);
    if (wide && !g->code32)
        fj_b1(g, 0x66);
    if (cc < 0) {
        fj_b1(g, 0xe9);
    } else {
        fj_b1(g, 0x0f);
        fj_b1(g, (uint8_t)(0x80 + cc));
    }
    uint32_t at = g->pos;
    fj_bimm(g, wide ? 4 : 2, 0);
    fj_fixup(g, l, wide ? FIX_REL32 : FIX_REL16, at, g->pos);
    fj_ins_end(g);
}

/* An instruction that sets the flags for a condition to test. */
static void gen_flag_setter(struct gen *g)
{
    if (fj_chance(50))
        fj_gen_alu2(g);
    else if (fj_chance(50))
        fj_gen_test(g);
    else
        fj_gen_unary(g);
}

/* if / if-else on a condition (or JECXZ), bodies short or long. */
void fj_gen_if(struct gen *g)
{
    unsigned cc = fj_below(16);
    bool jcxz = fj_chance(8), shrt = jcxz || fj_chance(50), has_else = fj_chance(35);
    if (fj_chance(50))
        gen_flag_setter(g);
    unsigned l_else = fj_label_new(g), l_end = fj_label_new(g);
    if (g->full)
        return;
    if (jcxz) {
        fj_ins_begin(g);
        if (fj_chance(30))
            fj_b1(g, 0x67); /* the other counter size */
        fj_b1(g, 0xe3);
        uint32_t at = g->pos;
        fj_b1(g, 0);
        fj_fixup(g, l_else, FIX_REL8, at, g->pos);
        fj_ins_end(g);
    } else {
        fj_need_flags(g, fj_cond_flags(cc));
        fj_emit_jump(g, (int)cc, l_else, shrt);
    }
    struct kstate k0, k1;
    ks_save(g, &k0);
    g->depth++;
    fj_gen_items(g, 1 + fj_below(shrt ? 5 : 10), shrt);
    if (has_else) {
        bool shrt2 = fj_chance(50);
        fj_emit_jump(g, -1, l_end, shrt2);
        ks_save(g, &k1);
        ks_restore(g, &k0);
        fj_label_place(g, l_else, false);
        fj_gen_items(g, 1 + fj_below(shrt2 ? 5 : 10), shrt2);
        ks_merge(g, &k1);
        fj_label_place(g, l_end, true);
    } else {
        ks_merge(g, &k0);
        fj_label_place(g, l_else, true);
    }
    g->depth--;
}

/* A loop counted down (DEC/JNZ, SUB/JNZ, LOOP, LOOPE/LOOPNE) or up
 * (INC/CMP/JB) in a register the body may not write. */
void fj_gen_loop(struct gen *g)
{
    uint32_t cand = g->in_func ? RBIT(R_EBX) | RBIT(R_EDX)
                               : RBIT(R_ECX) | RBIT(R_ESI) | RBIT(R_EDI) | RBIT(R_EBP);
    int r = fj_pick_reg(fj_writable_regs(g) & cand);
    if (r < 0)
        return;
    unsigned kind = fj_below(5);
    if ((kind == 2 || kind == 3) && r != R_ECX)
        kind = 0;
    uint32_t n = fj_chance(80) ? 1 + fj_below(8) : 8 + fj_below(40);
    while (n > 1 && g->weight * n * 30 > FJ_MAX_DYN)
        n /= 2;
    if (g->dyn + g->weight * n * 20 > FJ_MAX_DYN)
        return;
    fj_set_reg(g, (unsigned)r, kind == 4 ? 0 : n);
    if (g->undef)
        fj_emit_sanitizer(g, false);
    unsigned head = fj_label_new(g);
    if (g->full)
        return;
    fj_label_place(g, head, true);
    const uint32_t reserved = g->reserved;
    const uint64_t weight = g->weight;
    g->reserved |= RBIT((unsigned)r);
    /* Registers the body sets differ from one turn to the next. */
    g->known = 0;
    g->df = -1;
    g->weight *= n;
    g->depth++;
    fj_gen_items(g, 1 + fj_below(12), false);
    g->depth--;
    /* The back edge: the head was made with no flag undefined, so none
     * may be on the way back (kept as they are for the LOOPE/LOOPNE). */
    if (kind == 2 || kind == 3)
        fj_need_flags(g, F_ALL & ~FL_ZF);
    if (kind == 3)
        fj_need_flags(g, FL_ZF);
    uint32_t dist = g->pos + 2 - g->labels[head].at;
    bool a16 = !g->code32;
    if ((kind == 2 || kind == 3) && dist > 120)
        kind = 0;
    switch (kind) {
    case 0: case 1: /* DEC r / SUB r, 1; JNZ */
        fj_ins_begin(g);
        if (kind == 0 && g->code32) {
            fj_b1(g, (uint8_t)(0x48 + r));
        } else {
            struct rm o = fj_rm_reg((unsigned)r);
            static const uint8_t opc = 0x83;
            fj_emit_op(g, 4, &opc, 1, 5, &o, 1, 1);
        }
        fj_ins_end(g);
        fj_flags_written(g, F_ALL & ~FL_CF, 0);
        if (g->undef)
            fj_emit_sanitizer(g, true);
        fj_emit_jump(g, 5, head, g->pos + 2 - g->labels[head].at <= 128);
        break;
    case 2: case 3: /* LOOP, LOOPE/LOOPNE (CX or ECX) */
        fj_ins_begin(g);
        if (fj_chance(30)) {
            fj_b1(g, 0x67);
            a16 = !a16;
        }
        (void)a16; /* the count is below 64 Ki: CX and ECX agree */
        fj_b1(g, kind == 2 ? 0xe2 : (uint8_t)(0xe0 + fj_below(2)));
        {
            uint32_t at = g->pos;
            fj_b1(g, 0);
            fj_fixup(g, head, FIX_REL8, at, g->pos);
        }
        fj_ins_end(g);
        break;
    default: { /* INC r; CMP r, n; JB */
        fj_ins_begin(g);
        struct rm o = fj_rm_reg((unsigned)r);
        static const uint8_t inc = 0xff, cmp = 0x81;
        fj_emit_op(g, 4, &inc, 1, 0, &o, 0, 0);
        fj_ins_end(g);
        fj_ins_begin(g);
        fj_emit_op(g, 4, &cmp, 1, 7, &o, 4, n);
        fj_ins_end(g);
        fj_flags_written(g, F_ALL, 0);
        fj_emit_jump(g, 2, head, g->pos + 2 - g->labels[head].at <= 128);
        break;
    }
    }
    g->weight = weight;
    g->reserved = reserved;
    fj_clobber(g, (unsigned)r);
}

/* Whether the data segment is the one the functions were made for. */
static bool ds_canonical(const struct gen *g)
{
    const struct fj_seg *ds = &g->seg[SEG_DS];
    if (!ds->usable || !ds->writable || ds->expdown)
        return false;
    return g->code32 ? ds->base == 0 && ds->limit == 0xffffffffu
                     : ds->base == FJ_DATA && ds->limit == 0xffff;
}

/* PUSH of exactly the default operand size (a function argument). */
static void emit_push_v(struct gen *g)
{
    fj_ins_begin(g);
    if (fj_chance(50)) {
        fj_b1(g, (uint8_t)(0x50 + fj_below(8)));
    } else {
        fj_b1(g, 0x68);
        fj_bimm(g, fj_vsize(g), fj_value());
    }
    fj_ins_end(g);
    fj_esp_add(g, -(int32_t)fj_vsize(g));
}

/* A call of function k: direct, through a register or a table, with its
 * arguments; the function writes EAX, EBX and EDX. */
void fj_gen_call_k(struct gen *g, unsigned k)
{
    const uint32_t clob = RBIT(R_EAX) | RBIT(R_EBX) | RBIT(R_EDX);
    if ((fj_writable_regs(g) & clob) != clob || g->real || !ds_canonical(g))
        return;
    if (g->undef)
        fj_emit_sanitizer(g, false);
    unsigned nargs = g->func_args[k] / fj_vsize(g);
    for (unsigned i = 0; i < nargs; i++)
        emit_push_v(g);
    uint32_t target = g->func_at[k] - g->cs_base;
    unsigned form = fj_below(3);
    if (form == 1) {
        int r = fj_pick_reg(fj_writable_regs(g));
        if (r < 0)
            form = 0;
        else {
            fj_set_reg(g, (unsigned)r, target);
            fj_ins_begin(g);
            struct rm o = fj_rm_reg((unsigned)r);
            static const uint8_t opc = 0xff;
            fj_emit_op(g, 0, &opc, 1, 2, &o, 0, 0);
            fj_ins_end(g);
        }
    }
    if (form == 2) {
        /* CALL [table + k * size], DS: the table is in the data segment
         * the functions assume. */
        uint32_t tab = g->code32 ? FJ_TAB_FUNC32 : FJ_TAB_FUNC16;
        struct rm o;
        memset(&o, 0, sizeof(o));
        o.seg_prefix = fj_chance(10) ? SEG_DS : -1;
        if (!fj_encode_offset(g, tab + k * fj_vsize(g) - g->seg[SEG_DS].base,
                              !g->code32 && fj_chance(70), 0, false, &o))
            form = 0;
        else if (fj_default_seg(&o) != SEG_DS)
            o.seg_prefix = SEG_DS;
        if (form == 2) {
            fj_ins_begin(g);
            static const uint8_t opc = 0xff;
            fj_emit_op(g, 0, &opc, 1, 2, &o, 0, 0);
            fj_ins_end(g);
        }
    }
    if (form == 0) {
        fj_ins_begin(g);
        fj_b1(g, 0xe8);
        uint32_t next = g->pos + fj_vsize(g);
        fj_bimm(g, fj_vsize(g), g->func_at[k] - next);
        fj_ins_end(g);
    }
    g->known &= ~clob;
    g->undef = 0;
    if (g->func_caller_pops[k]) {
        fj_esp_add(g, (int32_t)(nargs * fj_vsize(g)));
        if (nargs) {
            fj_ins_begin(g); /* ADD ESP/SP, n */
            fj_b1(g, 0x83);
            fj_b1(g, 0xc4);
            fj_b1(g, (uint8_t)(nargs * fj_vsize(g)));
            fj_ins_end(g);
            fj_flags_written(g, F_ALL, 0);
        }
    } else {
        fj_esp_add(g, (int32_t)(nargs * fj_vsize(g)));
    }
}

void fj_gen_call(struct gen *g)
{
    if (!g->nfuncs)
        return;
    fj_gen_call_k(g, fj_below(g->nfuncs));
}

/* A switch: JMP through a table of case labels, by a register ANDed to
 * the table's size. */
void fj_gen_switch(struct gen *g)
{
    unsigned n = 2u << fj_below(3), es = fj_vsize(g);
    int r = fj_pick_reg(fj_writable_regs(g));
    if (r < 0 || g->switch_next + n * es > FJ_TAB_SWITCH_END - 64)
        return;
    /* A segment that reaches the table. */
    uint32_t tab = g->switch_next;
    int s = -1;
    for (int i = 0; i < SEG_COUNT && s < 0; i++) {
        int c = (int)((i + fj_below(SEG_COUNT)) % SEG_COUNT);
        if (fj_seg_allows(&g->seg[c], tab - g->seg[c].base, n * es, false) &&
            (g->code32 || tab - g->seg[c].base < 0xffff))
            s = c;
    }
    if (s < 0)
        return;
    g->switch_next += n * es;
    unsigned l_end = fj_label_new(g), cases[8];
    for (unsigned i = 0; i < n; i++)
        cases[i] = fj_label_new(g);
    if (g->full)
        return;
    for (unsigned i = 0; i < n; i++)
        fj_fixup(g, cases[i], es == 4 ? FIX_ABS32 : FIX_ABS16, tab + i * es, 0);
    /* AND r, n-1 */
    fj_ins_begin(g);
    struct rm ro = fj_rm_reg((unsigned)r);
    static const uint8_t and_op = 0x83;
    fj_emit_op(g, 4, &and_op, 1, 4, &ro, 1, n - 1);
    fj_ins_end(g);
    fj_flags_written(g, F_ALL, 0);
    if (fj_reg_known(g, (unsigned)r))
        fj_reg_set(g, (unsigned)r, g->val[r] & (n - 1));
    else
        fj_clobber(g, (unsigned)r);
    if (g->undef)
        fj_emit_sanitizer(g, false);
    /* JMP [r * es + disp32] (32-bit addressing, 67 in 16-bit code) */
    struct rm o;
    memset(&o, 0, sizeof(o));
    o.mem = true, o.mod = 0, o.rmf = 4, o.has_sib = true;
    o.sib = (uint8_t)((es == 4 ? 2 : 1) << 6 | (unsigned)r << 3 | 5);
    o.disp_size = 4, o.disp = tab - g->seg[s].base;
    o.seg_prefix = s == SEG_DS && fj_chance(80) ? -1 : s;
    fj_ins_begin(g);
    static const uint8_t jmp_op = 0xff;
    fj_emit_op(g, 0, &jmp_op, 1, 4, &o, 0, 0);
    fj_ins_end(g);
    struct kstate k0, kend;
    ks_save(g, &k0);
    bool first = true;
    g->depth++;
    for (unsigned i = 0; i < n; i++) {
        ks_restore(g, &k0);
        fj_label_place(g, cases[i], false);
        fj_gen_items(g, 1 + fj_below(6), false);
        if (i + 1 < n) /* over the other cases: near */
            fj_emit_jump(g, -1, l_end, false);
        if (first)
            ks_save(g, &kend), first = false;
        else
            ks_merge(g, &kend), ks_save(g, &kend);
    }
    g->depth--;
    fj_label_place(g, l_end, true);
}

/* A forward JMP through a register or memory over bytes never run (the
 * translator must stop at the jump). */
void fj_gen_jmp_indirect(struct gen *g)
{
    unsigned l = fj_label_new(g);
    if (g->full)
        return;
    if (g->undef)
        fj_emit_sanitizer(g, false);
    int r = fj_pick_reg(fj_writable_regs(g));
    if (r < 0)
        return;
    /* MOV r, L (the field fixed up) then JMP r, or the same through a
     * table slot in memory. */
    fj_ins_begin(g);
    fj_emit_prefixes(g, 4, NULL, 0);
    fj_b1(g, (uint8_t)(0xb8 + r));
    uint32_t at = g->pos;
    fj_b4(g, 0);
    fj_ins_end(g);
    fj_fixup(g, l, FIX_ABS32, at, 0);
    fj_clobber(g, (unsigned)r);
    fj_ins_begin(g);
    struct rm o = fj_rm_reg((unsigned)r);
    static const uint8_t opc = 0xff;
    fj_emit_op(g, 0, &opc, 1, 4, &o, 0, 0);
    fj_ins_end(g);
    for (unsigned i = fj_below(12); i > 0; i--)
        fj_b1(g, (uint8_t)fj_rnd());
    fj_label_place(g, l, false);
    g->undef = 0;
}
