/*
 * gen_stack.c — stack instructions of generated programs (test_fuzz_jit.c):
 * PUSH and POP of registers, immediates and memory in either operand size,
 * PUSHA/POPA, PUSHF/POPF with the pushed image changed in memory; the
 * generator follows ESP as they move it.
 */
#include "fuzz_jit.h"

/* ---- the stack ------------------------------------------------------- */

void fj_esp_add(struct gen *g, int32_t d)
{
    g->val[R_ESP] += (uint32_t)d;
}

/* PUSH reg/imm/m (the default or the other operand size). */
static unsigned emit_push_any(struct gen *g)
{
    unsigned w = fj_chance(80) ? fj_vsize(g) : 6 - fj_vsize(g);
    unsigned k = fj_below(4);
    struct rm o;
    if (k == 3 && !fj_make_mem(g, w, false, false, 0, &o))
        k = 0;
    fj_ins_begin(g);
    switch (k) {
    case 0:
        fj_emit_prefixes(g, w, NULL, 0);
        fj_b1(g, (uint8_t)(0x50 + fj_below(8)));
        break;
    case 1:
        fj_emit_prefixes(g, w, NULL, 0);
        fj_b1(g, 0x68);
        fj_bimm(g, w, fj_value());
        break;
    case 2:
        fj_emit_prefixes(g, w, NULL, 0);
        fj_b1(g, 0x6a);
        fj_b1(g, (uint8_t)fj_rnd());
        break;
    default: {
        static const uint8_t opc = 0xff;
        fj_emit_op(g, w, &opc, 1, 6, &o, 0, 0);
        break;
    }
    }
    fj_ins_end(g);
    fj_esp_add(g, -(int32_t)w);
    return w;
}

/* POP reg/m of `w` bytes. */
static void emit_pop_any(struct gen *g, unsigned w)
{
    int r = fj_pick_dst(g, 4);
    struct rm o;
    bool mem = r < 0 || fj_chance(30);
    if (mem) {
        g->no_esp_base = true;
        bool ok = fj_make_mem(g, w, true, false, 0, &o);
        g->no_esp_base = false;
        if (!ok) {
            /* Drop the value: LEA ESP, [ESP + w] keeps the flags. */
            fj_ins_begin(g);
            fj_emit_prefixes(g, 0, NULL, 0);
            if (!g->code32)
                fj_b1(g, 0x67);
            if (!g->code32)
                fj_b1(g, 0x66);
            fj_b1(g, 0x8d);
            fj_b1(g, 0x64);
            fj_b1(g, 0x24);
            fj_b1(g, (uint8_t)w);
            fj_ins_end(g);
            fj_esp_add(g, (int32_t)w);
            return;
        }
    }
    fj_ins_begin(g);
    if (mem) {
        static const uint8_t opc = 0x8f;
        fj_emit_op(g, w, &opc, 1, 0, &o, 0, 0);
    } else {
        fj_emit_prefixes(g, w, NULL, 0);
        fj_b1(g, (uint8_t)(0x58 + r));
    }
    fj_ins_end(g);
    if (!mem)
        fj_clobber(g, (unsigned)r);
    fj_esp_add(g, (int32_t)w);
}

/* PUSH a few values, work (reading them through ESP, or not), POP them
 * back into registers or memory; sometimes PUSHA/POPA around. */
void fj_gen_push_pop(struct gen *g)
{
    if (!g->esp_known)
        return;
    unsigned n = 1 + fj_below(4), w[4];
    bool pusha = g->code32 && fj_chance(10) && fj_writable_regs(g) == (ALL_REGS & ~RBIT(R_ESP));
    if (pusha) {
        fj_ins_begin(g);
        fj_b1(g, 0x60);
        fj_ins_end(g);
        fj_esp_add(g, -32);
    }
    for (unsigned i = 0; i < n; i++)
        w[i] = emit_push_any(g);
    for (unsigned i = fj_below(3); i > 0; i--)
        fj_gen_data_insn(g);
    for (unsigned i = n; i-- > 0;)
        emit_pop_any(g, w[i]);
    if (pusha) {
        fj_ins_begin(g);
        fj_b1(g, 0x61);
        fj_ins_end(g);
        fj_esp_add(g, 32);
        g->known &= RBIT(R_ESP); /* the pushed values, not known */
    }
}

/* PUSHF, maybe change arithmetic flags or DF in the pushed image, POPF. */
void fj_gen_pushf_popf(struct gen *g)
{
    if (!g->esp_known && !g->in_func)
        return;
    unsigned w = fj_chance(85) ? fj_vsize(g) : 6 - fj_vsize(g);
    fj_need_flags(g, F_ALL);
    fj_ins_begin(g);
    fj_emit_prefixes(g, w, NULL, 0);
    fj_b1(g, 0x9c);
    fj_ins_end(g);
    fj_esp_add(g, -(int32_t)w); /* (the image is not in the free stack below) */
    if (fj_chance(60)) {
        uint32_t bits = fj_rnd() & FL_ARITH; /* then the next draw: sequenced */
        bits |= !g->in_func && fj_chance(30) ? FL_DF : 0;
        unsigned op = fj_below(3); /* OR, AND ~, XOR */
        fj_emit_esp_imm(g, w, op == 0 ? 1 : op == 1 ? 4 : 6, op == 1 ? ~bits : bits); /* OR AND XOR */
        if (bits & FL_DF)
            g->df = op == 0 ? 1 : op == 1 ? 0 : (g->df < 0 ? -1 : !g->df);
    }
    /* Something between, the flags live in memory (not in a frame run,
     * whose operands may be anywhere below the frame's top: the image). */
    if (fj_chance(20) && g->force_base < 0)
        fj_gen_data_insn(g);
    fj_ins_begin(g);
    fj_emit_prefixes(g, w, NULL, 0);
    fj_b1(g, 0x9d);
    fj_ins_end(g);
    fj_esp_add(g, (int32_t)w);
    fj_flags_written(g, F_ALL, 0);
    g->undef = 0;
}
