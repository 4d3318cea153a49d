/*
 * gen_smc.c — self-modifying code in generated programs (test_fuzz_jit.c):
 * stores into the next instructions, into a function's immediate (stored,
 * copied by REP MOVSB, or through an alias page), and a loop that changes
 * its own immediate on every turn.
 */
#include <string.h>

#include "fuzz_jit.h"

/* ------------------------------------------------------------------ */
/* Self-modifying code                                                 */
/* ------------------------------------------------------------------ */

/* A writable segment register that reaches the whole code area. */
static int code_seg(const struct gen *g)
{
    return fj_seg_reaching(g, FJ_CODE, FJ_CODE_SIZE, true, false, -1);
}

/* MOV r32, imm32 (B8+r), the instruction the stores patch; returns the
 * linear address of its immediate. */
uint32_t fj_emit_patchable(struct gen *g, unsigned r, uint32_t v)
{
    fj_ins_begin(g);
    if (!g->code32)
        fj_b1(g, 0x66);
    fj_b1(g, (uint8_t)(0xb8 + r));
    uint32_t at = g->pos;
    fj_b4(g, v);
    fj_ins_end(g);
    fj_reg_set(g, r, v);
    return at;
}

/* A store of `size` bytes of `v` to linear `lin` through segment s, with
 * a displacement-only operand (so the address can be patched in later:
 * returns the displacement's linear address). */
uint32_t fj_emit_store_disp(struct gen *g, int s, uint32_t lin, unsigned size, uint32_t v)
{
    struct rm o;
    memset(&o, 0, sizeof(o));
    o.mem = true, o.mod = 0, o.rmf = 5, o.disp_size = 4, o.disp = lin - g->seg[s].base;
    o.seg_prefix = s == SEG_DS && fj_chance(80) ? -1 : s;
    fj_ins_begin(g);
    uint8_t opc = size == 1 ? 0xc6 : 0xc7;
    fj_emit_prefixes(g, fj_osz(size), &o, 0);
    fj_b1(g, opc);
    fj_b1(g, 0x05);
    uint32_t at = g->pos;
    fj_b4(g, o.disp);
    fj_bimm(g, size, v);
    fj_ins_end(g);
    return at;
}

/*
 * Stores into code: the next instruction's immediate or opcode, one a
 * few instructions ahead in the same block, a function's (then called;
 * also by REP MOVSB from a template, or through an alias page), and an
 * immediate in a loop that changes it on every turn. The careful path
 * always runs the bytes as they are; the JIT must drop what it
 * translated from them, mid-block included.
 */
void fj_gen_smc(struct gen *g)
{
    int s = code_seg(g);
    if (s < 0 || g->in_func)
        return;
    if (g->undef)
        fj_emit_sanitizer(g, false);
    unsigned kind = fj_below(7);
    int r = fj_pick_reg(fj_writable_regs(g));
    if (r < 0)
        return;
    switch (kind) {
    case 0: case 1: { /* the next instruction, or one up to 4 ahead */
        unsigned size = fj_chance(70) ? 4 : 1 + fj_below(2),
                 ahead = kind == 0 ? 0 : 1 + fj_below(4);
        uint32_t v = fj_value(), k = size == 4 ? 0 : fj_below(4 - size + 1);
        uint32_t field = fj_emit_store_disp(g, s, 0, size, v);
        for (unsigned i = 0; i < ahead; i++) { /* register-only, block goes on */
            int d = fj_pick_dst(g, 4);
            if (d < 0 || d == r)
                break;
            fj_ins_begin(g);
            struct rm o = fj_rm_reg((unsigned)d);
            uint8_t opc = (uint8_t)(fj_below(8) * 8 + 1);
            fj_emit_op(g, 4, &opc, 1, fj_below(8), &o, 0, 0);
            fj_ins_end(g);
            fj_clobber(g, (unsigned)d);
            fj_flags_written(g, F_ALL, 0);
        }
        uint32_t old = fj_rnd();
        uint32_t imm = fj_emit_patchable(g, (unsigned)r, old);
        fj_put32(g->img, field, imm + k - g->seg[s].base);
        uint32_t nv = old;
        memcpy((uint8_t *)&nv + k, &v, size);
        fj_reg_set(g, (unsigned)r, nv);
        return;
    }
    case 2: { /* the next instruction's opcode: one one-byte instruction
               * for another (NOP, INC/DEC of a register, CLC/STC) */
        int d = fj_pick_reg(fj_writable_regs(g));
        if (d < 0)
            return;
        uint8_t ops[5] = { 0x90, (uint8_t)(0x40 + d), (uint8_t)(0x48 + d), 0xf8, 0xf9 };
        uint32_t field = fj_emit_store_disp(g, s, 0, 1, ops[fj_below(5)]);
        fj_ins_begin(g);
        uint32_t at = g->pos;
        fj_b1(g, ops[fj_below(5)]);
        fj_ins_end(g);
        fj_put32(g->img, field, at - g->seg[s].base);
        fj_clobber(g, (unsigned)d);
        fj_flags_written(g, F_ALL & ~FL_CF, 0); /* defined, whichever ran */
        return;
    }
    case 3: { /* a loop that changes its own immediate every turn */
        uint32_t cand = fj_writable_regs(g) &
                        (RBIT(R_ECX) | RBIT(R_ESI) | RBIT(R_EDI) | RBIT(R_EBP)) &
                        ~RBIT((unsigned)r);
        int c = fj_pick_reg(cand);
        if (c < 0)
            return;
        uint32_t n = 2 + fj_below(10);
        fj_set_reg(g, (unsigned)c, n);
        unsigned head = fj_label_new(g);
        if (g->full)
            return;
        fj_label_place(g, head, true);
        uint32_t imm = fj_emit_patchable(g, (unsigned)r, fj_rnd());
        fj_clobber(g, (unsigned)r);
        /* ADD/XOR [imm], value: ALU on a code byte range */
        struct rm o;
        memset(&o, 0, sizeof(o));
        o.mem = true, o.mod = 0, o.rmf = 5, o.disp_size = 4, o.disp = imm - g->seg[s].base;
        o.seg_prefix = s == SEG_DS && fj_chance(80) ? -1 : s;
        fj_ins_begin(g);
        static const uint8_t opc = 0x81;
        uint32_t imm32 = fj_rnd(); /* arguments are unsequenced: draw first */
        unsigned digit = fj_chance(50) ? 0 : 6;
        fj_emit_op(g, 4, &opc, 1, digit, &o, 4, imm32);
        fj_ins_end(g);
        fj_ins_begin(g);
        if (g->code32)
            fj_b1(g, (uint8_t)(0x48 + c));
        else
            fj_b1(g, 0x66), fj_b1(g, (uint8_t)(0x48 + c));
        fj_ins_end(g);
        fj_flags_written(g, F_ALL, 0);
        fj_emit_jump(g, 5, head, true);
        fj_clobber(g, (unsigned)c);
        return;
    }
    default: { /* a function's immediate: stored, copied, or through an alias */
        if (!g->nfuncs)
            return;
        unsigned k = fj_below(g->nfuncs);
        if (!g->func_patch[k])
            return;
        uint32_t v = fj_rnd();
        unsigned how = kind - 4; /* 0 store, 1 REP MOVSB, 2 alias */
        if (how == 1) {
            const uint32_t need = RBIT(R_ECX) | RBIT(R_ESI) | RBIT(R_EDI);
            int src = fj_seg_reaching(g, FJ_TAB_TEMPL, 16, false, false, SEG_DS);
            if ((fj_writable_regs(g) & need) != need || src < 0 ||
                fj_seg_reaching(g, FJ_CODE, FJ_CODE_SIZE, true, false, SEG_ES) < 0 ||
                g->templ_len == 0)
                how = 0;
            else {
                if (g->df != 0) {
                    fj_ins_begin(g);
                    fj_b1(g, 0xfc);
                    fj_ins_end(g);
                    g->df = 0;
                }
                /* the template: the function's MOV EAX, imm32 with another
                 * immediate; copied over it */
                uint32_t from = g->func_patch[k] - (g->code32 ? 1 : 2);
                fj_set_reg(g, R_ESI, FJ_TAB_TEMPL + fj_below(2) * 8 - g->seg[SEG_DS].base);
                fj_set_reg(g, R_EDI, from - g->seg[SEG_ES].base);
                fj_set_reg(g, R_ECX, g->code32 ? 5 : 6);
                fj_ins_begin(g);
                if (!g->code32)
                    fj_b1(g, 0x67);
                fj_b1(g, 0xf3);
                fj_b1(g, 0xa4);
                fj_ins_end(g);
                g->known &= ~need;
            }
        }
        if (how == 2) {
            int alias = -1;
            for (unsigned i = 0; i < FJ_SPECIAL_PAGES && g->paging; i++)
                if (g->sp[i] == SP_ALIAS && g->sp_frame[i] == (g->func_patch[k] & ~0xfffu))
                    alias = (int)i;
            int as = alias < 0 ? -1
                               : fj_seg_reaching(g, FJ_SPECIAL + (uint32_t)alias * 4096u, 4096,
                                                 true, false, -1);
            if (as < 0)
                how = 0;
            else
                fj_emit_store_disp(g, as,
                                   FJ_SPECIAL + (uint32_t)alias * 4096u +
                                       (g->func_patch[k] & 0xfff),
                                   4, v);
        }
        if (how == 0) {
            uint32_t field = fj_emit_store_disp(g, s, 0, 4, v);
            fj_put32(g->img, field, g->func_patch[k] - g->seg[s].base);
        }
        if (fj_chance(80))
            fj_gen_call_k(g, k);
        return;
    }
    }
}
