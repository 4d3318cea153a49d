/*
 * translate/jit/gen_x87.c — x87 instructions on the host's x87.
 *
 * The host is an x87 too: the same formats, rounding and exception rules
 * (SDM Vol. 1 chapter 8), so an instruction run on it under the guest's
 * control word gives the guest's result to the bit. cpu/fpu_arith.h
 * already does that one instruction at a time from the handlers; here
 * the instructions of a block run inline, and the registers they use stay
 * on the host's x87 stack from one instruction to the next.
 *
 * When: the block key has JK_X87 (jit.h, fpu_host_inline_ok): no #NM,
 * every exception masked and none pending, so nothing can trap, and the
 * host, given the guest's control word, computes the masked responses
 * itself. The key also holds TOP, so every ST(i) is a physical register
 * known at translation; an instruction's stack effect moves it.
 *
 * Registers: a run of inline x87 instructions (up to an instruction that
 * is not one, FNSTSW AX or a store to memory; integer instructions on
 * registers alone and a side exit's forward Jcc may sit inside,
 * inside_run; the Jcc's taken way ends the run, gen_x87_end_at_exit) loads
 * each guest register it reads onto the host's stack once (FLD m80,
 * which raises nothing) and works there (struct x87_cache, gen.h); the
 * run's end spills the changed ones back (FSTP m80). A popped register
 * keeps its contents, as the interpreter leaves them: a changed one waits
 * on the host's stack too, unless a push overwrites it (leave_popped).
 *
 * What the fast path proves, and where it gives up: an operand register
 * must be in use and a push's destination empty (else a stack fault);
 * the host's status word may show no exception that the guest's flags
 * do not already have, and never IE or DE (an invalid or unsupported
 * operand, a denormal: cases where fpu_soft follows the SDM whatever the
 * host's vendor does, cpu/fpu_arith.h). The host's flags are sticky, so
 * one read of its status word checks every operation before it; reading
 * it waits for all of them, so it is read once per run (at its end, or
 * after its last operation when that one's C1 is wanted), not per
 * operation: make bench's x87 0.80 -> 0.45 s.
 *
 * A run therefore leaves cpu->fpu as it found it until its check has
 * passed: TOP and the tags are the translator's (stored at the end),
 * and a register in use at the run's start that leaves the host's stack
 * goes to cpu->jit_x87_spill. What it does write before (FDP/FDS, C0-C3,
 * the guest's flags from FCOMI) the handlers write again. A store's
 * value waits in cpu->jit_x87_out until the check, and the store ends
 * the run. A failed check, a stack fault or a TLB miss goes to an X87
 * stub: it drops the host's stack, clears its flags and runs the run's
 * instructions from its first one through their handlers, which so
 * start from the state the interpreter had there, then leaves the block.
 *
 * State exact at every exit: FIP, FCS and FOP of the run's last
 * instruction at the run's end (a handler sets its own); the host's
 * control word is loaded from the guest's once per block (it stays;
 * cpu/fpu_trans.c, the only other user of the host's x87 rounding, sets
 * its own).
 */
#include "translate/jit/gen.h"

/* Architectural bits of the x87 status and control words (SDM Vol. 1
 * Figures 8-4 and 8-6). */
enum {
    X87_IE = 0x0001, X87_DE = 0x0002, X87_EXC = 0x003f, X87_ES = 0x0080,
    X87_C0 = 0x0100, X87_C1 = 0x0200, X87_C2 = 0x0400, X87_TOP = 0x3800, X87_C3 = 0x4000,
    X87_CC = X87_C0 | X87_C1 | X87_C2 | X87_C3,
    X87_PC = 0x0300,
};

/* The host's x87 stack: eight registers (SDM Vol. 1 8.1.2). The guest
 * registers may take all of them but the room an instruction needs for
 * its push or its one temporary (cache_need). */
#define X87_HOST_DEPTH 8

#define FPU_OFF(field) (CPU_OFF(fpu) + (int32_t)offsetof(struct fpu, field))

static struct x64_mem st_mem(unsigned p)
{
    return x64_mem(JIT_CPU, FPU_OFF(st) + (int32_t)((p & 7) * sizeof(struct f80)));
}

static struct x64_rm fpu_field(int32_t off)
{
    return cpu_field(off);
}

static uint8_t bit(unsigned p)
{
    return (uint8_t)(1u << (p & 7));
}

/* ------------------------------------------------------------------ */
/* The register cache                                                  */
/* ------------------------------------------------------------------ */

static int cache_find(const struct x87_cache *x, unsigned p)
{
    for (unsigned h = 0; h < x->depth; h++)
        if (x->phys[h] == p)
            return (int)h;
    return -1;
}

static void cache_push(struct x87_cache *x, unsigned p, bool dirty)
{
    x->popped &= (uint8_t)~bit(p);
    memmove(x->phys + 1, x->phys, x->depth);
    x->phys[0] = (uint8_t)p;
    x->depth++;
    x->dirty = (uint8_t)(dirty ? x->dirty | bit(p) : x->dirty & ~bit(p));
}

static struct x64_mem spill_mem(unsigned p)
{
    return x64_mem(JIT_CPU, CPU_OFF(jit_x87_spill) + (int32_t)((p & 7) * sizeof(struct f80)));
}

/* An 80-bit register's bytes from `from` to `to` (through T_VAL). */
static void copy_f80(struct jit_ctx *c, struct x64_mem to, struct x64_mem from)
{
    struct x64_asm *a = c->a;
    x64_mov_reg_rm(a, 8, T_VAL, x64_m(from));
    x64_mov_rm_reg(a, 8, x64_m(to), T_VAL);
    from.disp += 8;
    to.disp += 8;
    x64_movzx(a, 4, T_VAL, 2, x64_m(from));
    x64_mov_rm_reg(a, 2, x64_m(to), T_VAL);
}

/* Where register p's value goes when it leaves the host's stack: during
 * a run, cpu->fpu.st[p] only when p was empty at the run's start (the
 * handlers that may run the run again never read it) and the run is not
 * an x87 loop's; otherwise cpu->jit_x87_spill[p], copied to st[p] at the
 * run's end. */
static struct x64_mem store_slot(struct jit_ctx *c, unsigned p)
{
    /* An x87 loop's open run writes nothing of cpu->fpu until its end
     * ("Loops"): a failed check puts the entry's state back. */
    if (c->x87_run && (!(c->x87_fresh & bit(p)) || c->x87_loop_run)) {
        c->x87_scratch |= bit(p);
        return spill_mem(p);
    }
    return st_mem(p);
}

/* Where register p's value is when it is not on the host's stack. */
static struct x64_mem load_slot(const struct jit_ctx *c, unsigned p)
{
    return (c->x87_scratch & bit(p)) ? spill_mem(p) : st_mem(p);
}

/* Pops host ST(0): into its register's slot when changed there. */
static void spill_top(struct jit_ctx *c)
{
    struct x87_cache *x = &c->x87;
    unsigned p = x->phys[0];
    if (x->dirty & bit(p))
        x64_x87_mem(c->a, 0xdb, 7, store_slot(c, p)); /* FSTP m80 */
    else
        x64_x87(c->a, 0xdd, 0xd8); /* FSTP ST(0) */
    x->dirty &= (uint8_t)~bit(p);
    x->popped &= (uint8_t)~bit(p);
    memmove(x->phys, x->phys + 1, (size_t)(x->depth - 1));
    x->depth--;
}

static void spill_all(struct jit_ctx *c)
{
    while (c->x87.depth)
        spill_top(c);
}

static void cache_drop(struct jit_ctx *c, unsigned p, bool keep);

/* Every register in `mask` onto the host's stack, others leaving it
 * first when they would not fit with `room` host registers free besides
 * (1 for an instruction that pushes or copies through a temporary, 0
 * for one that works in place). A loop of the Mandelbrot set keeps
 * eight guest registers busy at its deepest; with two registers always
 * kept free its loop stored four and loaded two 80-bit values an
 * iteration. */
static void cache_need(struct jit_ctx *c, uint8_t mask, unsigned room)
{
    struct x87_cache *x = &c->x87;
    unsigned missing = 0;
    c->x87_touched |= mask;
    for (unsigned p = 0; p < 8; p++)
        if ((mask & bit(p)) && cache_find(x, p) < 0)
            missing++;
    /* Room: popped values first (stored as their pop would have), then
     * registers this instruction does not use, the deepest (the longest
     * there) first. */
    while (x->depth + missing + room > X87_HOST_DEPTH) {
        int h = (int)x->depth - 1;
        while (h >= 0 && !(x->popped & bit(x->phys[h])))
            h--;
        if (h < 0)
            h = (int)x->depth - 1;
        while (h >= 0 && (mask & bit(x->phys[h])))
            h--;
        if (h < 0) {
            spill_all(c);
            break;
        }
        cache_drop(c, x->phys[h], true);
    }
    for (unsigned p = 0; p < 8; p++)
        if ((mask & bit(p)) && cache_find(x, p) < 0) {
            x64_x87_mem(c->a, 0xdb, 5, load_slot(c, p)); /* FLD m80 */
            cache_push(x, p, false);
        }
}

/* Register p to host ST(0) (FXCH: a renaming on the host). */
static void cache_top(struct jit_ctx *c, unsigned p)
{
    struct x87_cache *x = &c->x87;
    int h = cache_find(x, p);
    if (h <= 0)
        return;
    x64_x87(c->a, 0xd9, (uint8_t)(0xc8 + h)); /* FXCH ST(h) */
    x->phys[h] = x->phys[0];
    x->phys[0] = (uint8_t)p;
}

/* Register p leaves the host's stack; `keep`: its slot gets the value
 * (a popped register keeps its contents), else it is about to be
 * overwritten. Only FSTP forms: the host's flags stay. */
static void cache_drop(struct jit_ctx *c, unsigned p, bool keep)
{
    struct x87_cache *x = &c->x87;
    struct x64_asm *a = c->a;
    int h = cache_find(x, p);
    if (h < 0)
        return;
    if (!keep)
        x->dirty &= (uint8_t)~bit(p);
    x->popped &= (uint8_t)~bit(p);
    if (h == 0) {
        spill_top(c);
        return;
    }
    /* Either way ST(0) ends in slot h and the stack pops, with no
     * temporary (so the stack may be full): FXCH ST(h) and FSTP m80
     * for a value to keep, FSTP ST(h) for one to drop. */
    if (x->dirty & bit(p)) {
        x64_x87(a, 0xd9, (uint8_t)(0xc8 + h));    /* FXCH ST(h) */
        x64_x87_mem(a, 0xdb, 7, store_slot(c, p)); /* FSTP m80 */
        x->dirty &= (uint8_t)~bit(p);
    } else {
        x64_x87(a, 0xdd, (uint8_t)(0xd8 + h)); /* FSTP ST(h) */
    }
    uint8_t top = x->phys[0];
    memmove(x->phys, x->phys + 1, (size_t)(h - 1));
    x->phys[h - 1] = top;
    memmove(x->phys + h, x->phys + h + 1, (size_t)(x->depth - h - 1));
    x->depth--;
}

/* ------------------------------------------------------------------ */
/* Slow paths                                                          */
/* ------------------------------------------------------------------ */

/* The X87 stub that runs the current run again through the handlers up
 * to its instruction k and leaves after it, for the host's stack as it
 * is now with `discard` temporaries above the cache. */
static int x87_stub_at(struct jit_ctx *c, unsigned k, unsigned discard)
{
    const struct jit_insn *ji = &c->tb->insns[k];
    unsigned drop = c->x87.depth + discard;
    if (c->x87_loop_run) {
        /* The x87 loop's open run: its entry's state back ("Loops"). */
        for (unsigned i = 0; i < c->nstubs; i++) {
            struct stub *s = &c->stubs[i];
            if (s->kind == STUB_X87 && s->x87_rollback && s->x87_drop == drop &&
                s->nfields < JIT_MAX_FIELDS)
                return (int)i;
        }
        struct stub *s = gen_stub_new(c, STUB_X87);
        s->ji = ji;
        s->x87_drop = (uint8_t)drop;
        s->x87_rollback = 1;
        return (int)(s - c->stubs);
    }
    uint32_t eip = c->x87_exit ? c->x87_exit_eip : ji->next_eip;
    for (unsigned i = 0; i < c->nstubs; i++) {
        struct stub *s = &c->stubs[i];
        if (s->kind == STUB_X87 && s->ji == ji && s->x87_drop == drop &&
            s->x87_from == c->x87_from && s->x87_side == c->x87_exit && s->eip == eip &&
            s->nfields < JIT_MAX_FIELDS)
            return (int)i;
    }
    struct stub *s = gen_stub_new(c, STUB_X87);
    s->ji = ji;
    s->eip = eip;
    /* A run may span stretches of the budget (block.c: a side exit
     * inside it): what was charged once instruction k (or the side
     * exit) has run. */
    s->budget_back = c->x87_exit ? (int32_t)(c->charged - c->x87_exit_retired)
                                 : (int32_t)(c->charge[k] - (k + 1));
    s->x87_drop = (uint8_t)drop;
    s->x87_from = (uint8_t)c->x87_from;
    s->x87_side = c->x87_exit;
    return (int)(s - c->stubs);
}

static void jump_slow(struct jit_ctx *c, int cc, unsigned discard)
{
    gen_stub_jump(c, &c->stubs[x87_stub_at(c, c->idx, discard)], cc);
}

/*
 * An X87 stub: the host's stack dropped and its flags cleared, then the
 * run's instructions from its first to the stub's through their
 * handlers, then out of the block after it. Until its end a run leaves
 * cpu->fpu as it found it (the register values it must keep in
 * jit_x87_spill, TOP and the tags in the translator's hands), and what
 * it did write elsewhere (a memory operand, FDP, C0-C3, the guest's
 * flags) the handlers write again: so they start from the state the
 * interpreter had at the run's first instruction. The stubs of one run
 * share one sequence of handler calls: cpu->jit_x87_redo says after
 * which to leave.
 */
static void loop_rollback(struct jit_ctx *c, const struct stub *s);

void gen_x87_stub(struct jit_ctx *c, const struct stub *s)
{
    struct x64_asm *a = c->a;
    struct jit_tb *tb = c->tb;
    unsigned to = (unsigned)(s->ji - tb->insns), from = s->x87_from;
    if (s->x87_rollback) {
        loop_rollback(c, s);
        return;
    }
    for (unsigned k = 0; k < s->x87_drop; k++)
        x64_x87(a, 0xdd, 0xd8); /* FSTP ST(0) */
    x64_x87(a, 0xdb, 0xe2);     /* FNCLEX: the handlers start from clean host flags */
    if (s->x87_side) {
        /* On a side exit's way: the integer instructions after `to`
         * and the Jcc have run; the x87 ones up to `to` through their
         * handlers (every exception masked: none traps), then out to
         * the exit's target. A sequence of its own (rare). */
        for (unsigned i = from; i <= to; i++) {
            if (tb->insns[i].in.op != OP_X87)
                continue;
            x64_mov_r64_imm(a, T_IDX, (uint64_t)(uintptr_t)&tb->insns[i]);
            x64_call_abs(a, c->exec_base, c->j->thunk[0]);
        }
        gen_exit_at(c, s->eip, s->budget_back);
        return;
    }
    x64_mov_rm_imm(a, 4, cpu_field(CPU_OFF(jit_x87_redo)), to);
    if (c->x87_chain[from]) {
        size_t f = x64_jmp32(a);
        x64_patch_rel32(a, f, c->x87_chain[from]);
        return;
    }
    c->x87_chain[from] = a->pos;
    unsigned last = to;
    for (unsigned i = 0; i < c->nstubs; i++) {
        const struct stub *t = &c->stubs[i];
        if (t->kind == STUB_X87 && t->x87_from == from && (unsigned)(t->ji - tb->insns) > last)
            last = (unsigned)(t->ji - tb->insns);
    }
    for (unsigned i = from; i <= last; i++) {
        if (tb->insns[i].in.op != OP_X87)
            continue; /* an integer instruction inside the run: done already */
        x64_mov_r64_imm(a, T_IDX, (uint64_t)(uintptr_t)&tb->insns[i]);
        x64_call_abs(a, c->exec_base, c->j->thunk[0]);
        size_t next = 0;
        if (i < last) {
            x64_alu_rm_imm(a, ALU_CMP, 4, cpu_field(CPU_OFF(jit_x87_redo)), i);
            next = x64_jcc32(a, XCC_NE);
        }
        gen_exit_at(c, tb->insns[i].next_eip, (int32_t)(c->charge[i] - (i + 1)));
        if (i < last)
            x64_patch_rel32(a, next, a->pos);
    }
}

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

void gen_x87_start(struct jit_ctx *c)
{
    c->top = (c->key >> JK_TOP_SHIFT) & 7;
    memset(&c->x87, 0, sizeof(c->x87));
    c->x87_used = c->x87_empty = 0;
    c->x87_cw = c->x87_bad = c->x87_ptr = false;
    c->x87_run = false;
    c->x87_exit = false;
    c->x87_first_run = false;
    memset(c->x87_chain, 0, sizeof(c->x87_chain));
}

static void run_start(struct jit_ctx *c)
{
    c->x87_run = true;
    c->x87_from = c->idx;
    c->x87_top0 = c->top;
    c->x87_tag_set = c->x87_tag_clr = 0;
    c->x87_scratch = c->x87_fresh = c->x87_touched = 0;
    /* An x87 loop's run: from its first instruction, open across its
     * back edges ("Loops"). */
    c->x87_loop_run = c->x87_loop && c->idx == 0 && !c->x87_copy2;
    if (c->idx == 0 && !c->x87_copy2)
        c->x87_first_run = true;
    c->x87_c1_clear = false;
    c->x87_c1_host = false;
    c->x87_checked = true;
    c->x87_addr_regs = 0;
    c->x87_wrote_flags = false;
    c->x87_want_used = c->x87_want_empty = 0;
}

/* After a host operation: T_VAL = the host's status word; to the X87
 * stub for the run up to instruction k (dropping `discard` temporaries
 * too) if it shows IE, DE or an exception flag the guest's status word
 * lacks. The host's flags are sticky: this covers every operation of
 * the run so far. */
static void check_exceptions_at(struct jit_ctx *c, unsigned k, unsigned discard)
{
    struct x64_asm *a = c->a;
    if (!c->x87_bad) {
        x64_movzx(a, 4, T_TAG, 2, fpu_field(FPU_OFF(sw)));
        x64_unary(a, UN_NOT, 4, x64_r(T_TAG));
        x64_alu_rm_imm(a, ALU_AND, 4, x64_r(T_TAG), X87_EXC & ~(X87_IE | X87_DE));
        x64_alu_rm_imm(a, ALU_OR, 4, x64_r(T_TAG), X87_IE | X87_DE);
        x64_mov_rm_reg(a, 4, cpu_field(CPU_OFF(jit_x87_bad)), T_TAG);
        c->x87_bad = true;
    }
    if (c->x87_exit)
        c->j->stats.x87_exit_checks++;
    else
        c->j->stats.x87_checks++;
    /* FNSTSW AX rather than to memory: the status word reaches T_VAL
     * without a load that waits for the store before it (make bench x87
     * 0.33 -> 0.315 s at 900 rounds, 10 interleaved runs, with the code
     * padded to the memory form's size: not a layout effect). */
    x64_mov_rm_reg(a, 8, x64_r(T_TAG), X_RAX);
    x64_x87(a, 0xdf, 0xe0); /* FNSTSW AX */
    x64_movzx(a, 4, T_VAL, 2, x64_r(X_RAX));
    x64_mov_rm_reg(a, 8, x64_r(X_RAX), T_TAG);
    x64_test_rm_reg(a, 4, cpu_field(CPU_OFF(jit_x87_bad)), T_VAL);
    gen_stub_jump(c, &c->stubs[x87_stub_at(c, k, discard)], XCC_NE);
    c->x87_checked = true;
}

static void check_exceptions(struct jit_ctx *c, unsigned discard)
{
    check_exceptions_at(c, c->idx, discard);
}

static void check_run_tags(struct jit_ctx *c);
static void c1_from_host(struct jit_ctx *c);

void gen_x87_end(struct jit_ctx *c)
{
    struct x64_asm *a = c->a;
    if (!c->x87_run)
        return;
    if (!c->x87_exit && c->idx > c->x87_last + 1)
        c->a->bad = true; /* never: integer instructions inside a run have
                             an x87 one after them, or a side exit */
    /* The checks and the stores below clobber the host's flags. */
    gen_flags_to_cpu(c);
    check_run_tags(c);
    if (!c->x87_checked)
        check_exceptions_at(c, c->x87_last, 0);
    else if (c->x87_c1_host)
        c->a->bad = true; /* never: a check after the operation took its C1 */
    if (c->x87_c1_host)
        c1_from_host(c); /* the status word just read */
    /* Passed: the run's state goes to cpu->fpu. Values waiting in the
     * spill slots first, then the host's stack (newer where both). */
    for (unsigned p = 0; p < 8; p++) {
        int h = cache_find(&c->x87, p);
        if (!(c->x87_scratch & bit(p)) || (h >= 0 && (c->x87.dirty & bit(p))))
            continue;
        copy_f80(c, st_mem(p), spill_mem(p));
    }
    c->x87_run = false;
    c->x87_loop_run = false;
    spill_all(c);
    c->x87_scratch = 0;
    if (c->x87_tag_clr)
        x64_alu_rm_imm(a, ALU_AND, 1, fpu_field(FPU_OFF(tag_empty)), (uint8_t)~c->x87_tag_clr);
    if (c->x87_tag_set)
        x64_alu_rm_imm(a, ALU_OR, 1, fpu_field(FPU_OFF(tag_empty)), c->x87_tag_set);
    if (c->top != c->x87_top0)
        x64_mov_rm_imm(a, 1, fpu_field(FPU_OFF(top)), c->top & 7);
    if (c->x87_c1_clear)
        x64_alu_rm_imm(a, ALU_AND, 2, fpu_field(FPU_OFF(sw)), (uint16_t)~X87_C1);
    if (c->x87_ptr) {
        x64_mov_rm_imm(a, 4, fpu_field(FPU_OFF(fip)), c->x87_fip);
        x64_movzx(a, 4, T_VAL, 2,
                  cpu_field(CPU_OFF(seg) + (int32_t)(SEG_CS * sizeof(struct seg) +
                                                     offsetof(struct seg, sel))));
        x64_mov_rm_reg(a, 2, fpu_field(FPU_OFF(fcs)), T_VAL);
        x64_mov_rm_imm(a, 2, fpu_field(FPU_OFF(fop)), c->x87_fop);
        c->x87_ptr = false;
    }
}

void gen_x87_end_at_exit(struct jit_ctx *c, uint32_t eip, unsigned retired)
{
    c->x87_exit = true;
    c->x87_exit_eip = eip;
    c->x87_exit_retired = retired;
    gen_x87_end(c);
    c->x87_exit = false;
}

/* Stack faults: every register of `used` must be in use, the one of
 * `empty` (a push's destination) empty (SDM Vol. 1 8.5.1.1). What the
 * run changed is known here (its tags reach memory at its end); the
 * rest is tested in memory, once for the whole run at its end
 * (check_run_tags): until then the run has changed nothing the
 * handlers would not do again, so a register found empty there sends
 * the run through them from its start, as a failed exception check
 * does. The run goes on meanwhile as if the test had passed (the
 * values it computes then are dropped). */
static void check_tags(struct jit_ctx *c, uint8_t used, uint8_t empty)
{
    c->x87_touched |= used;
    if ((used & c->x87_empty) || (empty & c->x87_used) || (used & empty)) {
        /* Certain to fault (FLD ST(7) needs its register both in use
         * and empty): the handler raises it (what follows is not
         * reached). */
        jump_slow(c, -1, 0);
        return;
    }
    used &= (uint8_t)~c->x87_used;
    empty &= (uint8_t)~c->x87_empty;
    if (!c->x87_run) {
        c->a->bad = true; /* never: every inline form opens a run first */
        return;
    }
    c->x87_want_used |= used;
    c->x87_want_empty |= empty;
    c->x87_used |= used;
    c->x87_empty |= empty;
}

/* The run's stack-fault test (check_tags): one compare of the tags its
 * start had, before its state is stored; a failure goes to the X87 stub
 * that runs it through the handlers up to its last instruction. Clobbers
 * the host's flags. */
static void check_run_tags(struct jit_ctx *c)
{
    struct x64_asm *a = c->a;
    uint8_t mask = c->x87_want_used | c->x87_want_empty;
    if (!mask)
        return;
    x64_movzx(a, 4, T_TAG, 1, fpu_field(FPU_OFF(tag_empty)));
    x64_alu_rm_imm(a, ALU_AND, 4, x64_r(T_TAG), mask);
    x64_alu_rm_imm(a, ALU_CMP, 4, x64_r(T_TAG), c->x87_want_empty);
    gen_stub_jump(c, &c->stubs[x87_stub_at(c, c->x87_last, 0)], XCC_NE);
    c->x87_want_used = c->x87_want_empty = 0;
}

/* The host rounds as the guest asks (PC, RC; the key proved every
 * exception masked and PC defined). */
static void need_cw(struct jit_ctx *c)
{
    if (!c->x87_cw)
        x64_x87_mem(c->a, 0xd9, 5, x64_mem(JIT_CPU, FPU_OFF(cw))); /* FLDCW */
    c->x87_cw = true;
}

static bool c1_overwritten(const struct jit_ctx *c, bool past_exits);

/*
 * After an operation that sets C1 from its rounding (and may raise an
 * exception), `discard` temporaries above the cache: if the next
 * instruction is one of the run's, it sets C1 again, and this one's
 * exceptions wait for a later check (reading the host's status word
 * waits for every operation before it: once per run, not per operation,
 * is the difference between 0.80 and 0.28 s in make bench's x87).
 * Otherwise the check is now, and true: T_VAL holds the host's status
 * word, whose C1 is the guest's (c1_from_host, after the temporaries).
 * When only side exits come between (their ways end the run before the
 * next operation), the check waits too, if nothing after this operation
 * (`last`, no temporaries) touches the host's status word before a way's
 * end reads it: that end takes C1 from there (gen_x87_end), where the
 * way on has it set again. The Mandelbrot loop of make bench's x87
 * checked once more per iteration for its `je` otherwise.
 */
static bool c1_check(struct jit_ctx *c, unsigned discard, bool last)
{
    c->x87_c1_clear = false;
    c->x87_c1_host = false;
    if (c1_overwritten(c, false)) {
        c->x87_checked = false;
        return false;
    }
    if (last && discard == 0 && c1_overwritten(c, true)) {
        c->x87_checked = false;
        c->x87_c1_host = true;
        return false;
    }
    check_exceptions(c, discard);
    return true;
}

/* The guest's C1 from the host's (T_VAL). */
static void c1_from_host(struct jit_ctx *c)
{
    struct x64_asm *a = c->a;
    x64_alu_rm_imm(a, ALU_AND, 4, x64_r(T_VAL), X87_C1);
    x64_alu_rm_imm(a, ALU_AND, 2, fpu_field(FPU_OFF(sw)), (uint16_t)~X87_C1);
    x64_alu_rm_reg(a, ALU_OR, 2, fpu_field(FPU_OFF(sw)), T_VAL);
}

/* C1 cleared: at the run's end, unless a later instruction sets it. */
static void c1_clear(struct jit_ctx *c)
{
    c->x87_c1_clear = true;
    c->x87_c1_host = false;
}

/* C0-C3 of a compare from the host's (T_VAL); C1 cleared. */
static void cc_from_host(struct jit_ctx *c)
{
    struct x64_asm *a = c->a;
    x64_alu_rm_imm(a, ALU_AND, 4, x64_r(T_VAL), X87_C0 | X87_C2 | X87_C3);
    x64_alu_rm_imm(a, ALU_AND, 2, fpu_field(FPU_OFF(sw)), (uint16_t)~X87_CC);
    x64_alu_rm_reg(a, ALU_OR, 2, fpu_field(FPU_OFF(sw)), T_VAL);
    c->x87_c1_clear = false;
    c->x87_c1_host = false;
}

/* The guest's stack moves (TOP and the tags reach memory at the run's
 * end). A register pushed before the run touched it was empty at its
 * start. */
static void state_push(struct jit_ctx *c)
{
    unsigned p = (c->top + 7) & 7;
    if (!(c->x87_touched & bit(p)))
        c->x87_fresh |= bit(p);
    c->x87_touched |= bit(p);
    c->x87_tag_clr |= bit(p);
    c->x87_tag_set &= (uint8_t)~bit(p);
    c->top = p;
    c->x87_used |= bit(p);
    c->x87_empty &= (uint8_t)~bit(p);
}

static void state_pop(struct jit_ctx *c)
{
    unsigned p = c->top & 7;
    c->x87_touched |= bit(p);
    c->x87_tag_set |= bit(p);
    c->x87_tag_clr &= (uint8_t)~bit(p);
    c->top = (p + 1) & 7;
    c->x87_empty |= bit(p);
    c->x87_used &= (uint8_t)~bit(p);
}

/*
 * ST(0)'s register after a guest pop. A popped register keeps its value,
 * so a changed one must reach memory; inside a run it stays on the host's
 * stack instead, marked popped: a later push to the same register (the
 * stack's usual rhythm: FMULP, then FLD) drops it unstored, and what is
 * left is stored with the rest at the run's end or when room is needed.
 * The Mandelbrot loop of make bench's x87 stored one such value per
 * iteration (FLD ST(1); FSTP m80; FSTP ST(1), and its copy at the end).
 */
static void leave_popped(struct jit_ctx *c, unsigned p)
{
    if (c->x87_run && (c->x87.dirty & bit(p)) && cache_find(&c->x87, p) >= 0)
        c->x87.popped |= bit(p);
    else
        cache_drop(c, p, true);
}

/* A push's destination: a popped value still on the host's stack is
 * overwritten, so it leaves unstored (before the push's own code, whose
 * operands' host positions this moves). */
static void drop_popped(struct jit_ctx *c, unsigned p)
{
    if (c->x87.popped & bit(p))
        cache_drop(c, p, false);
}

/* A guest pop: the state, then ST(0)'s register. */
static void pop(struct jit_ctx *c)
{
    unsigned p = c->top & 7;
    state_pop(c);
    leave_popped(c, p);
}

/* FIP, FCS, FOP of a non-control instruction (SDM Vol. 1 8.1.8): stored
 * at the run's end, when no later one replaced them. */
static void note_insn(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    c->x87_ptr = true;
    c->x87_fip = c->eip;
    c->x87_fop = (uint16_t)((((unsigned)in->opcode - 0xd8) & 7) << 8 | in->modrm);
}

/* The memory operand: FDP and FDS now, then the access translated
 * (a miss goes to the slow path with the cache as it is). */
static struct x64_mem mem_operand(struct jit_ctx *c, unsigned size, bool write)
{
    struct x64_asm *a = c->a;
    const struct insn *in = c->in;
    if (in->ea_base != EA_NO_REG)
        c->x87_addr_regs |= (uint8_t)(1u << (in->ea_base & 7));
    if (in->ea_index != EA_NO_REG)
        c->x87_addr_regs |= (uint8_t)(1u << (in->ea_index & 7));
    gen_ea(c, in, T_VAL);
    x64_mov_rm_reg(a, 4, fpu_field(FPU_OFF(fdp)), T_VAL);
    x64_movzx(a, 4, T_VAL, 2,
              cpu_field(CPU_OFF(seg) + (int32_t)(in->seg * sizeof(struct seg) +
                                                 offsetof(struct seg, sel))));
    x64_mov_rm_reg(a, 2, fpu_field(FPU_OFF(fds)), T_VAL);
    c->slow = x87_stub_at(c, c->idx, 0);
    struct x64_rm rm = gen_mem_operand(c, in, size, write);
    return rm.m;
}

/* ------------------------------------------------------------------ */
/* Forms                                                               */
/* ------------------------------------------------------------------ */

/* The D8 ModRM.reg order (dest op src) of a DC/DE register form's
 * operation on ST(i): there the subtractions and divisions are
 * reversed (SDM Vol. 2 Table ). */
static unsigned reversed(unsigned r)
{
    return r >= 4 ? r ^ 1 : r;
}

/* ST(0) op= src or ST(i) op= ST(0) (`to_sti`), then a pop (`pop`):
 * the D8, DC and DE register forms. `op` is the ModRM.reg of D8's
 * form computing dest op src (0 ADD, 1 MUL, 4 SUB, 5 SUBR, 6 DIV, 7 DIVR).
 * In place on the host's stack (a stub drops it whole and the handlers
 * start from cpu->fpu): with the destination at the host's ST(0), D8's
 * form; else with the source there, DC's, whose subtractions and
 * divisions are the other way round; else the destination is brought
 * to ST(0) first. */
static void arith_reg(struct jit_ctx *c, unsigned op, unsigned i, bool to_sti, bool pop_after)
{
    struct x64_asm *a = c->a;
    unsigned p0 = c->top & 7, pi = (c->top + i) & 7;
    unsigned d = to_sti ? pi : p0, s = to_sti ? p0 : pi;
    check_tags(c, bit(p0) | bit(pi), 0);
    cache_need(c, bit(p0) | bit(pi), 0);
    need_cw(c);
    if (cache_find(&c->x87, s) != 0)
        cache_top(c, d);
    int hd = cache_find(&c->x87, d), hs = cache_find(&c->x87, s);
    if (hd == 0)
        x64_x87(a, 0xd8, (uint8_t)(0xc0 + (op << 3) + (unsigned)hs)); /* op ST(0), ST(hs) */
    else
        x64_x87(a, 0xdc, (uint8_t)(0xc0 + (reversed(op) << 3) + (unsigned)hd)); /* op ST(hd), ST(0) */
    c->x87.dirty |= bit(d);
    if (c1_check(c, 0, !pop_after))
        c1_from_host(c);
    note_insn(c);
    if (pop_after)
        pop(c);
}

/* ST(0) op= m32real / m64real / m32int / m16int: the guest's encoding,
 * in place on ST(0)'s register brought to the host's ST(0). */
static void arith_mem(struct jit_ctx *c, unsigned size)
{
    struct x64_asm *a = c->a;
    const struct insn *in = c->in;
    unsigned p0 = c->top & 7;
    check_tags(c, bit(p0), 0);
    cache_need(c, bit(p0), 0);
    struct x64_mem m = mem_operand(c, size, false);
    need_cw(c);
    cache_top(c, p0);
    x64_x87_mem(a, in->opcode, in->reg & 7, m);
    c->x87.dirty |= bit(p0);
    if (c1_check(c, 0, true))
        c1_from_host(c);
    note_insn(c);
}

/* FCOM/FUCOM ST(i) and their popping forms; FCOMI/FUCOMI(P) set the
 * guest's ZF PF CF (OF SF AF cleared) from the host's own FCOMI, whose
 * exceptions are those of the guest's FCOMI (the run's end checks). */
static void compare_reg(struct jit_ctx *c, unsigned i, bool quiet, unsigned pops, bool eflags)
{
    struct x64_asm *a = c->a;
    unsigned p0 = c->top & 7, pi = (c->top + i) & 7;
    check_tags(c, bit(p0) | bit(pi), 0);
    cache_need(c, bit(p0) | bit(pi), 0);
    cache_top(c, p0);
    int hi = cache_find(&c->x87, pi);
    note_insn(c);
    if (!eflags) {
        /* FUCOM ST(hi) / FCOM ST(hi), then C0-C3 from the host's. */
        if (quiet)
            x64_x87(a, 0xdd, (uint8_t)(0xe0 + hi));
        else
            x64_x87(a, 0xd8, (uint8_t)(0xd0 + hi));
        check_exceptions(c, 0);
        cc_from_host(c);
        while (pops--)
            pop(c);
        return;
    }
    c1_clear(c);
    c->x87_checked = false;
    if (pops)
        state_pop(c);
    x64_x87(a, 0xdb, (uint8_t)((quiet ? 0xe8 : 0xf0) + hi)); /* FUCOMI / FCOMI ST(hi) */
    if (pops)
        leave_popped(c, p0);
    c->fl_host = true;
    c->x87_wrote_flags = true;
}

/* FCOM/FCOMP/FICOM/FICOMP m: ST(0) against memory, C0-C3. */
static void compare_mem(struct jit_ctx *c, unsigned size, bool pop_after)
{
    struct x64_asm *a = c->a;
    const struct insn *in = c->in;
    unsigned p0 = c->top & 7;
    check_tags(c, bit(p0), 0);
    cache_need(c, bit(p0), 0);
    cache_top(c, p0);
    struct x64_mem m = mem_operand(c, size, false);
    x64_x87_mem(a, in->opcode, 2, m); /* the non-popping form */
    check_exceptions(c, 0);
    cc_from_host(c);
    note_insn(c);
    if (pop_after)
        pop(c);
}

/* FLD m32real/m64real, FILD m16/m32/m64int: pushed. `exact`: the
 * conversion cannot raise anything (integers). */
static void load_mem(struct jit_ctx *c, unsigned size, bool exact)
{
    const struct insn *in = c->in;
    unsigned p7 = (c->top + 7) & 7;
    check_tags(c, 0, bit(p7));
    drop_popped(c, p7);
    cache_need(c, 0, 1);
    struct x64_mem m = mem_operand(c, size, false);
    x64_x87_mem(c->a, in->opcode, in->reg & 7, m);
    if (!exact)
        c->x87_checked = false;
    cache_push(&c->x87, p7, true);
    state_push(c);
    c1_clear(c);
    note_insn(c);
}

/* FST/FSTP m32real/m64real, FIST/FISTP m16/m32int, FISTP m64int: the
 * popping form of the guest's encoding (`pop_digit`) on a copy of ST(0),
 * into cpu->jit_x87_out; checked (the run so far and this conversion),
 * and only then copied to guest memory; then the guest's pop if it pops.
 * The run ends here: run again from its start, its loads could read
 * what this store wrote. */
static void store_mem(struct jit_ctx *c, unsigned size, unsigned pop_digit, bool pop_after)
{
    struct x64_asm *a = c->a;
    const struct insn *in = c->in;
    unsigned p0 = c->top & 7;
    check_tags(c, bit(p0), 0);
    cache_need(c, bit(p0), 1);
    struct x64_mem m = mem_operand(c, size, true);
    struct x64_mem out = x64_mem(JIT_CPU, CPU_OFF(jit_x87_out));
    need_cw(c);
    int h0 = cache_find(&c->x87, p0);
    x64_x87(a, 0xd9, (uint8_t)(0xc0 + h0)); /* FLD ST(h0) */
    x64_x87_mem(a, in->opcode, pop_digit, out);
    check_exceptions(c, 0);
    check_run_tags(c); /* before the guest's memory changes */
    c1_from_host(c);
    c->x87_c1_clear = false;
    c->x87_c1_host = false;
    x64_mov_reg_rm(a, size, T_IDX, x64_m(out));
    x64_mov_rm_reg(a, size, x64_m(m), T_IDX);
    note_insn(c);
    if (pop_after)
        pop(c);
    gen_x87_end(c);
}

/* FLD ST(i): a copy pushed. */
static void fld_sti(struct jit_ctx *c, unsigned i)
{
    unsigned pi = (c->top + i) & 7, p7 = (c->top + 7) & 7;
    check_tags(c, bit(pi), bit(p7));
    drop_popped(c, p7);
    cache_need(c, bit(pi), 1);
    x64_x87(c->a, 0xd9, (uint8_t)(0xc0 + cache_find(&c->x87, pi)));
    cache_push(&c->x87, p7, true);
    state_push(c);
    c1_clear(c);
    note_insn(c);
}

/* FLD1 / FLDZ: exact constants, pushed. */
static void load_const(struct jit_ctx *c, uint8_t modrm)
{
    unsigned p7 = (c->top + 7) & 7;
    check_tags(c, 0, bit(p7));
    drop_popped(c, p7);
    cache_need(c, 0, 1);
    x64_x87(c->a, 0xd9, modrm);
    cache_push(&c->x87, p7, true);
    state_push(c);
    c1_clear(c);
    note_insn(c);
}

/* FST/FSTP ST(i): ST(0) copied into ST(i) (in use or not), then popped. */
static void fst_sti(struct jit_ctx *c, unsigned i, bool pop_after)
{
    struct x64_asm *a = c->a;
    unsigned p0 = c->top & 7, pi = (c->top + i) & 7;
    check_tags(c, bit(p0), 0);
    if (pi != p0) {
        cache_drop(c, pi, false);
        cache_need(c, bit(p0), 1);
        x64_x87(a, 0xd9, (uint8_t)(0xc0 + cache_find(&c->x87, p0))); /* FLD ST(h0) */
        cache_push(&c->x87, pi, true);
        c->x87_touched |= bit(pi);
        if (!(c->x87_used & bit(pi))) {
            c->x87_tag_clr |= bit(pi);
            c->x87_tag_set &= (uint8_t)~bit(pi);
        }
        c->x87_used |= bit(pi);
        c->x87_empty &= (uint8_t)~bit(pi);
    }
    c1_clear(c);
    note_insn(c);
    if (pop_after)
        pop(c);
}

/* FXCH ST(i): the two registers swap names on the host's stack. */
static void fxch(struct jit_ctx *c, unsigned i)
{
    unsigned p0 = c->top & 7, pi = (c->top + i) & 7;
    check_tags(c, bit(p0) | bit(pi), 0);
    cache_need(c, bit(p0) | bit(pi), 0);
    int h0 = cache_find(&c->x87, p0), hi = cache_find(&c->x87, pi);
    c->x87.phys[h0] = (uint8_t)pi;
    c->x87.phys[hi] = (uint8_t)p0;
    if (pi != p0)
        c->x87.dirty |= (uint8_t)(bit(p0) | bit(pi));
    c1_clear(c);
    note_insn(c);
}

/* FCHS / FABS: the sign of ST(0) on the host's ST(0). */
static void sign_op(struct jit_ctx *c, uint8_t modrm)
{
    unsigned p0 = c->top & 7;
    check_tags(c, bit(p0), 0);
    cache_need(c, bit(p0), 0);
    cache_top(c, p0);
    x64_x87(c->a, 0xd9, modrm);
    c->x87.dirty |= bit(p0);
    c1_clear(c);
    note_insn(c);
}

static void fsqrt(struct jit_ctx *c)
{
    unsigned p0 = c->top & 7;
    check_tags(c, bit(p0), 0);
    cache_need(c, bit(p0), 0);
    need_cw(c);
    cache_top(c, p0);
    x64_x87(c->a, 0xd9, 0xfa); /* FSQRT, in place */
    c->x87.dirty |= bit(p0);
    if (c1_check(c, 0, true))
        c1_from_host(c);
    note_insn(c);
}

/* FNSTSW AX: a control instruction (no pointers, no pending-exception
 * check) that ends a run (gen_x87); the status word with TOP merged in. */
static void fnstsw_ax(struct jit_ctx *c)
{
    struct x64_asm *a = c->a;
    x64_movzx(a, 4, T_VAL, 2, fpu_field(FPU_OFF(sw)));
    x64_alu_rm_imm(a, ALU_AND, 4, x64_r(T_VAL), (uint16_t)~X87_TOP);
    if (c->top)
        x64_alu_rm_imm(a, ALU_OR, 4, x64_r(T_VAL), (c->top & 7) << 11);
    x64_mov_rm_reg(a, 2, x64_r(X_RAX), T_VAL);
}

/* Register forms, by escape (0-7 for D8-DF) and ModRM & 3FH; false for
 * those left to their handlers. */
static bool reg_form(struct jit_ctx *c, unsigned esc, unsigned rm)
{
    unsigned r = rm >> 3, i = rm & 7;
    switch (esc) {
    case 0: /* D8 */
        if (r == 2 || r == 3)
            compare_reg(c, i, false, r - 2, false);
        else
            arith_reg(c, r, i, false, false);
        return true;
    case 1: /* D9 */
        if (r == 0) { fld_sti(c, i); return true; }
        if (r == 1) { fxch(c, i); return true; }
        switch (rm) {
        case 0x20: case 0x21: sign_op(c, (uint8_t)(0xc0 | rm)); return true; /* FCHS, FABS */
        case 0x28: case 0x2e: load_const(c, (uint8_t)(0xc0 | rm)); return true; /* FLD1, FLDZ */
        case 0x3a: fsqrt(c); return true;
        default: return false;
        }
    case 2: /* DA */
        if (rm == 0x29) { compare_reg(c, 1, true, 2, false); return true; } /* FUCOMPP */
        return false;
    case 3: /* DB */
        if (r == 5 || r == 6) { compare_reg(c, i, r == 5, 0, true); return true; }
        return false;
    case 4: /* DC */
        if (r == 2 || r == 3)
            return false; /* FCOM2/FCOMP3 aliases */
        arith_reg(c, reversed(r), i, true, false);
        return true;
    case 5: /* DD */
        if (r == 2 || r == 3) { fst_sti(c, i, r == 3); return true; }
        if (r == 4 || r == 5) { compare_reg(c, i, true, r - 4, false); return true; }
        return false;
    case 6: /* DE */
        if (rm == 0x19) { compare_reg(c, 1, false, 2, false); return true; } /* FCOMPP */
        if (r == 2 || r == 3)
            return false;
        arith_reg(c, reversed(r), i, true, true);
        return true;
    default: /* DF */
        if (r == 5 || r == 6) { compare_reg(c, i, r == 5, 1, true); return true; }
        return false;
    }
}

/* Whether a register form is one reg_form does (decided before anything
 * is emitted). */
static bool reg_form_known(unsigned esc, unsigned rm)
{
    unsigned r = rm >> 3;
    switch (esc) {
    case 0: return true;
    case 1:
        return r <= 1 || rm == 0x20 || rm == 0x21 || rm == 0x28 || rm == 0x2e || rm == 0x3a;
    case 2: return rm == 0x29;
    case 3: return r == 5 || r == 6;
    case 4: return r != 2 && r != 3;
    case 5: return r >= 2 && r <= 5;
    case 6: return rm == 0x19 || (r != 2 && r != 3);
    default: return rm == 0x20 || r == 5 || r == 6;
    }
}

/* Memory forms: operand size by escape, or 0 where not done here. */
static unsigned mem_form_size(unsigned esc, unsigned r)
{
    switch (esc) {
    case 0: return 4;                               /* D8: m32real arithmetic */
    case 1: return r == 0 || r == 2 || r == 3 ? 4 : 0; /* FLD/FST/FSTP m32real */
    case 2: return 4;                               /* DA: m32int arithmetic */
    case 3: return r == 0 || r == 2 || r == 3 ? 4 : 0; /* FILD/FIST/FISTP m32int */
    case 4: return 8;                               /* DC: m64real arithmetic */
    case 5: return r == 0 || r == 2 || r == 3 ? 8 : 0; /* FLD/FST/FSTP m64real */
    case 6: return 2;                               /* DE: m16int arithmetic */
    default:                                        /* FILD/FIST/FISTP m16int, m64int */
        return r == 0 || r == 2 || r == 3 ? 2 : r == 5 || r == 7 ? 8 : 0;
    }
}

static void mem_form(struct jit_ctx *c, unsigned esc, unsigned r, unsigned size)
{
    if (!(esc & 1)) { /* D8 DA DC DE: arithmetic and compares with ST(0) */
        if (r == 2 || r == 3)
            compare_mem(c, size, r == 3);
        else
            arith_mem(c, size);
        return;
    }
    if (esc == 7 && r == 5) { load_mem(c, size, true); return; }  /* FILD m64 */
    if (esc == 7 && r == 7) { store_mem(c, size, 7, true); return; } /* FISTP m64 */
    if (r == 0)
        load_mem(c, size, esc == 3 || esc == 7);
    else
        store_mem(c, size, 3, r == 3);
}

/* Whether `in` is an x87 form done inline under the block's key. */
static bool inline_form(const struct jit_ctx *c, const struct insn *in)
{
    unsigned esc = ((unsigned)in->opcode - 0xd8) & 7;
    if (!(c->key & JK_X87) || in->op != OP_X87 || in->lock)
        return false;
    if (in->mod == 3)
        return reg_form_known(esc, in->modrm & 0x3f);
    return mem_form_size(esc, in->reg & 7) && gen_mem_ok(c, in);
}

static bool is_fnstsw_ax(const struct insn *in)
{
    return in->opcode == 0xdf && in->mod == 3 && (in->modrm & 0x3f) == 0x20;
}

/* Whether the next instruction belongs to the current run: every inline
 * form but FNSTSW AX (which ends the run) sets C1. */
/* An integer instruction that can run inside the current run: on
 * registers alone (it cannot fault, has no slow path and calls no
 * helper, so the host's x87 stack may stay as it is), writing no
 * register the run's memory operands were addressed with, and no flags
 * once the run set them (FCOMI): then a failed check may run the run's
 * x87 instructions again after it, skipping it. */
static bool inside_run(const struct jit_ctx *c, unsigned k)
{
    const struct insn *in = &c->insns[k];
    switch ((enum op)in->op) {
    case OP_ADD: case OP_OR: case OP_AND: case OP_SUB: case OP_XOR: case OP_CMP: case OP_TEST:
    case OP_INC: case OP_DEC: case OP_NEG:
        /* Not in an x87 loop's open run, whose failed check runs
         * everything again from its entry ("Loops"). */
        if (c->x87_wrote_flags && !c->x87_loop_run)
            return false;
        break;
    case OP_MOV: case OP_NOT:
        break;
    case OP_NOP:
        return !in->lock;
    case OP_JCC:
        /* A side exit: its way ends the run there (gen_jcc). */
        return gen_side_exit_at(c, k);
    default:
        return false;
    }
    if (in->lock || in->dst.kind != OPND_REG ||
        (in->src.kind != OPND_REG && in->src.kind != OPND_IMM && in->src.kind != OPND_NONE))
        return false;
    if (in->dst.width == 1 && in->dst.reg >= 4)
        return false; /* AH..BH: kept simple */
    unsigned r = in->dst.width == 1 ? in->dst.reg & 3 : in->dst.reg & 7;
    return c->x87_loop_run || !(c->x87_addr_regs & (1u << r));
}

/* The first instruction after `k` that is not one inside_run keeps in
 * the run (ninsns if none). */
static unsigned next_not_inside(const struct jit_ctx *c, unsigned k)
{
    while (k < c->ninsns && inside_run(c, k))
        k++;
    return k;
}

/* Whether the next instruction of the run (past integer ones it keeps,
 * and side exits when `past_exits`) is an inline x87 one: every inline
 * form but FNSTSW AX (which ends the run) sets C1. */
static bool c1_overwritten(const struct jit_ctx *c, bool past_exits)
{
    unsigned k = next_not_inside(c, c->idx + 1);
    for (unsigned i = c->idx + 1; i < k && !past_exits; i++)
        if (c->insns[i].op == OP_JCC)
            return false; /* a side exit's way ends the run before it */
    if (c->x87_loop_run && k + 1 == c->ninsns) {
        /* An x87 loop's back edge: the run goes on at the block's first
         * instruction, the jump's other way (a Jcc's) ends it. */
        if (!past_exits && c->insns[k].op == OP_JCC)
            return false;
        k = next_not_inside(c, 0);
    }
    return k < c->ninsns && inline_form(c, &c->insns[k]) && !is_fnstsw_ax(&c->insns[k]);
}

/* ------------------------------------------------------------------ */
/* Loops                                                               */
/* ------------------------------------------------------------------ */

/*
 * A block whose last instruction jumps back to its first, one run of
 * inline x87 instructions from that first one to the jump (make bench's
 * Mandelbrot loop), would end its run at every back edge: read the
 * host's status word (FNSTSW stalls the host's x87 until every operation
 * before it is done: ~10 cycles an iteration), store the changed
 * registers (FSTP m80, ~4 cycles each) and load them again (an 80-bit
 * load of a value just stored waits ~12 cycles: no store forwarding),
 * all so that a failed check can run the run again through the handlers
 * from its start. Here the run stays open across the back edges instead:
 * the host's flags are sticky, so one check where the run ends at last
 * (a side exit, the jump not taken, the budget spent) covers every
 * iteration, and the registers stay on the host's stack. The run also
 * ends at a back edge once JIT_X87_LOOP_RUN instructions were charged.
 *
 * What a failed check needs then is the state at the loop's entry, which
 * the run left alone (it commits nothing before its end: no register
 * value reaches cpu->fpu.st, store_slot; no store to guest memory; its
 * integer instructions are on registers alone): the entry saves the
 * integer registers, the flags, the budget and the x87 status and
 * pointers the run writes as it goes (cpu->jit_loop_*), and every check
 * of the open run fails to a stub that drops the host's stack, puts them
 * back, gives the budget back and leaves at the block's start asking for
 * the instructions charged since to run on the careful path
 * (cpu->jit_loop_redo, run.c), which so does again exactly what the
 * interpreter does, the exception included. A loop whose checks keep
 * failing becomes a plain block (run.c, JIT_X87_LOOP_REDOS).
 *
 * The translator's state at a back edge differs from the entry's (the
 * registers on the host's stack, the tags and TOP the run will store,
 * what it proved), so the body is translated twice (block.c): the first
 * copy from the entry, the second from the state at the first's back
 * edge; the second's back edge jumps to its own start when its state is
 * that one again (the host's stack in another order is put back with
 * FXCH, a renaming). Found by a first translation, made by a second
 * (block.c), which needs the block's first instruction to open the run
 * and the flags not fault-only at the edge.
 */
_Static_assert(offsetof(struct fpu, fds) + 2 - offsetof(struct fpu, cw) ==
                   sizeof(((struct cpu *)0)->jit_loop_fpu),
               "cpu->jit_loop_fpu holds struct fpu from cw to fds");
_Static_assert(sizeof(struct lazy_flags) % 4 == 0, "copied a word at a time");

/* The guest's registers in the host's (jit.h). */
static const uint8_t loop_host_reg[8] = { X_RAX, X_RCX, X_RDX, X_RBX, X_R12, X_RBP, X_RSI, X_RDI };

/* `bytes` (a multiple of 4) of struct cpu from offset `from` to `to`. */
static void copy_cpu_words(struct jit_ctx *c, int32_t to, int32_t from, int32_t bytes)
{
    for (int32_t off = 0; off < bytes; off += 4) {
        x64_mov_reg_rm(c->a, 4, T_VAL, cpu_field(from + off));
        x64_mov_rm_reg(c->a, 4, cpu_field(to + off), T_VAL);
    }
}

void gen_x87_loop_entry(struct jit_ctx *c)
{
    struct x64_asm *a = c->a;
    for (unsigned r = 0; r < 8; r++)
        x64_mov_rm_reg(a, 4, cpu_field(CPU_OFF(jit_loop_regs) + (int32_t)(4 * r)),
                       loop_host_reg[r]);
    x64_mov_rm_reg(a, 4, cpu_field(CPU_OFF(jit_loop_budget)), JIT_BUDGET);
    x64_lea(a, 4, T_VAL, x64_mem(JIT_BUDGET, -JIT_X87_LOOP_RUN));
    x64_mov_rm_reg(a, 4, cpu_field(CPU_OFF(jit_loop_floor)), T_VAL);
    copy_cpu_words(c, CPU_OFF(jit_loop_cc), CPU_OFF(cc), (int32_t)sizeof(struct lazy_flags));
    /* C0-C3, FDP and FDS, which the run writes as it goes. */
    copy_cpu_words(c, CPU_OFF(jit_loop_fpu), FPU_OFF(cw), (int32_t)sizeof(c->j->cpu->jit_loop_fpu));
}

/* A failed check of the loop's open run (above): its entry's state back,
 * then out at the block's start for the careful path. */
static void loop_rollback(struct jit_ctx *c, const struct stub *s)
{
    struct x64_asm *a = c->a;
    for (unsigned k = 0; k < s->x87_drop; k++)
        x64_x87(a, 0xdd, 0xd8); /* FSTP ST(0) */
    x64_x87(a, 0xdb, 0xe2);     /* FNCLEX */
    for (unsigned r = 0; r < 8; r++)
        x64_mov_reg_rm(a, 4, loop_host_reg[r],
                       cpu_field(CPU_OFF(jit_loop_regs) + (int32_t)(4 * r)));
    copy_cpu_words(c, CPU_OFF(cc), CPU_OFF(jit_loop_cc), (int32_t)sizeof(struct lazy_flags));
    copy_cpu_words(c, FPU_OFF(cw), CPU_OFF(jit_loop_fpu), (int32_t)sizeof(c->j->cpu->jit_loop_fpu));
    /* The budget as before the entry's charge; what was charged since,
     * to run again on the careful path. */
    x64_mov_reg_rm(a, 4, T_VAL, cpu_field(CPU_OFF(jit_loop_budget)));
    x64_alu_rm_imm(a, ALU_ADD, 4, x64_r(T_VAL), c->charge[0]);
    x64_mov_rm_reg(a, 4, x64_r(T_TAG), T_VAL);
    x64_alu_rm_reg(a, ALU_SUB, 4, x64_r(T_TAG), JIT_BUDGET);
    x64_mov_rm_reg(a, 4, cpu_field(CPU_OFF(jit_loop_redo)), T_TAG);
    x64_mov_rm_reg(a, 4, x64_r(JIT_BUDGET), T_VAL);
    x64_mov_r64_imm(a, T_VAL, (uint64_t)(uintptr_t)&c->j->loop_redo_tb);
    x64_mov_r64_imm(a, T_TAG, (uint64_t)(uintptr_t)c->tb);
    x64_mov_rm_reg(a, 8, x64_m(x64_mem(T_VAL, 0)), T_TAG);
    if (c->x87_loop_stale)
        x64_mov_rm_imm(a, 1, cpu_field(CPU_OFF(jit_flags_stale)), c->x87_loop_stale);
    gen_exit_at(c, c->tb->eip, 0);
}

/* Whether the translator's state `c` is the one `s` the second copy
 * starts from, but for the order of the host's stack. */
static bool loop_state_same(const struct jit_ctx *c, const struct jit_ctx *s)
{
    const struct x87_cache *x = &c->x87, *y = &s->x87;
    if (x->depth != y->depth || x->dirty != y->dirty || x->popped != y->popped)
        return false;
    for (unsigned h = 0; h < x->depth; h++)
        if (cache_find(y, x->phys[h]) < 0)
            return false;
    return c->top == s->top && c->x87_used == s->x87_used && c->x87_empty == s->x87_empty &&
           c->x87_want_used == s->x87_want_used && c->x87_want_empty == s->x87_want_empty &&
           c->x87_cw == s->x87_cw && c->x87_bad == s->x87_bad && c->x87_ptr == s->x87_ptr &&
           c->x87_fip == s->x87_fip && c->x87_fop == s->x87_fop &&
           c->x87_checked == s->x87_checked && c->x87_c1_clear == s->x87_c1_clear &&
           c->x87_c1_host == s->x87_c1_host && c->x87_top0 == s->x87_top0 &&
           c->x87_tag_set == s->x87_tag_set && c->x87_tag_clr == s->x87_tag_clr &&
           !(c->x87_scratch & ~s->x87_scratch) && c->x87_fresh == s->x87_fresh &&
           c->x87_touched == s->x87_touched && c->x87_from == s->x87_from &&
           !c->fl_lazy && !s->fl_lazy;
}

bool gen_x87_loop_can_jump(struct jit_ctx *c)
{
    if (!c->x87_loop_run || c->fl_lazy)
        return false;
    if (!c->x87_copy2)
        return true;
    return loop_state_same(c, (const struct jit_ctx *)c->x87_loop_state);
}


/* The registers whose value is in a spill slot when not on the host's
 * stack (store_slot) grow as the run goes on: the second copy starts
 * with every register the run touches there (copied there at the jumps
 * to it for those not yet), so that its back edge finds the state it
 * began with, not a larger one. */
static void loop_spill_from_start(struct jit_ctx *c, uint8_t want)
{
    for (unsigned p = 0; p < 8; p++)
        if ((want & ~c->x87_scratch) & bit(p))
            copy_f80(c, spill_mem(p), st_mem(p)); /* its value where the code after looks */
}

void gen_x87_loop_jump(struct jit_ctx *c)
{
    struct x64_asm *a = c->a;
    if (!c->x87_copy2) {
        /* The second copy starts from here (block.c). */
        struct jit_ctx *s = (struct jit_ctx *)c->x87_loop_state;
        memcpy(s, c, offsetof(struct jit_ctx, stubs));
        s->x87_scratch = (uint8_t)(c->x87_scratch | c->x87_touched);
        loop_spill_from_start(c, s->x87_scratch);
        c->x87_loop_jump = x64_jmp32(a);
        return;
    }
    /* The host's stack in the order the second copy began with. */
    const struct jit_ctx *s = (const struct jit_ctx *)c->x87_loop_state;
    loop_spill_from_start(c, s->x87_scratch);
    struct x87_cache saved = c->x87;
    struct x87_cache *x = &c->x87;
    for (unsigned i = x->depth; i-- > 1;) {
        unsigned p = s->x87.phys[i];
        if (x->phys[i] == p)
            continue;
        cache_top(c, p);
        x64_x87(a, 0xd9, (uint8_t)(0xc8 + i)); /* FXCH ST(i) */
        x->phys[0] = x->phys[i];
        x->phys[i] = (uint8_t)p;
    }
    if (memcmp(x->phys, s->x87.phys, x->depth))
        a->bad = true; /* never */
    size_t back = x64_jmp32(a);
    x64_patch_rel32(a, back, c->x87_loop_body);
    c->j->stats.x87_loops++;
    c->x87 = saved;
}

bool gen_x87(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    unsigned esc = ((unsigned)in->opcode - 0xd8) & 7;
    if (!inline_form(c, in)) {
        /* An integer instruction between two of the run's x87 ones may
         * stay in it (one check, the registers kept on the host's
         * stack); gen_helper refuses the block should it not run
         * inline after all. */
        if (c->x87_run && inside_run(c, c->idx)) {
            unsigned k = next_not_inside(c, c->idx);
            if (c->x87_loop_run && gen_ctrl_x87_loop_edge(c, k))
                k = next_not_inside(c, 0); /* the loop's next iteration */
            if (k < c->ninsns && inline_form(c, &c->insns[k]) && !is_fnstsw_ax(&c->insns[k]))
                return false;
        }
        if (gen_ctrl_x87_loop_edge(c, c->idx)) {
            if (c->x87_run && c->x87_loop_run && gen_x87_loop_can_jump(c))
                return false; /* the run goes on across the edge (gen_ctrl.c) */
            if (!c->x87_loop && c->x87_first_run)
                c->x87_loop_seen = true;
        }
        gen_x87_end(c);
        return false;
    }
    if (is_fnstsw_ax(in)) {
        /* It reads what a run keeps back until its end. */
        gen_x87_end(c);
        gen_flags_to_cpu(c);
        fnstsw_ax(c);
        return true;
    }
    gen_flags_save(c); /* the checks below clobber the host's flags; X87 stubs read cpu->cc */
    if (!c->x87_run)
        run_start(c);
    c->x87_last = c->idx;
    if (in->mod == 3)
        reg_form(c, esc, in->modrm & 0x3f);
    else
        mem_form(c, esc, in->reg & 7, mem_form_size(esc, in->reg & 7));
    return true;
}

/* ------------------------------------------------------------------ */
/* After a helper                                                      */
/* ------------------------------------------------------------------ */

/* Where TOP ends after an x87 instruction that completes normally
 * (SDM Vol. 2, each instruction's page): pushes -1, pops +1 or +2,
 * FNINIT and FNSAVE 0; anything else leaves it. */
static unsigned top_after(const struct insn *in, unsigned top)
{
    unsigned esc = ((unsigned)in->opcode - 0xd8) & 7, r = in->reg & 7, rm = in->modrm & 0x3f;
    int d = 0;
    if (in->mod != 3) {
        static const int8_t mem_delta[8][8] = {
            [0] = {0, 0, 0, 1, 0, 0, 0, 0},
            [1] = {-1, 0, 0, 1, 0, 0, 0, 0},
            [2] = {0, 0, 0, 1, 0, 0, 0, 0},
            [3] = {-1, 1, 0, 1, 0, -1, 0, 1},
            [4] = {0, 0, 0, 1, 0, 0, 0, 0},
            [5] = {-1, 1, 0, 1, 0, 0, 0, 0},
            [6] = {0, 0, 0, 1, 0, 0, 0, 0},
            [7] = {-1, 1, 0, 1, -1, -1, 1, 1},
        };
        if (esc == 5 && r == 6)
            return 0; /* FNSAVE: then as FNINIT */
        d = mem_delta[esc][r];
    } else {
        switch (esc) {
        case 0: d = r == 3; break;                        /* FCOMP */
        case 1:
            if (r == 0 || (rm >= 0x28 && rm <= 0x2e) || rm == 0x34 || rm == 0x36 || rm == 0x3b ||
                rm == 0x32)
                d = -1; /* FLD ST(i), constants, FXTRACT, FDECSTP, FSINCOS, FPTAN */
            else if (r == 3 || rm == 0x31 || rm == 0x33 || rm == 0x37 || rm == 0x39)
                d = 1;  /* FSTP1, FYL2X, FPATAN, FINCSTP, FYL2XP1 */
            break;
        case 2: d = rm == 0x29 ? 2 : 0; break;            /* FUCOMPP */
        case 3:
            if (rm == 0x23)
                return 0;                                 /* FNINIT */
            break;
        case 4: d = r == 3; break;                        /* FCOMP3 */
        case 5: d = r == 3 || r == 5; break;              /* FSTP, FUCOMP */
        case 6: d = rm == 0x19 ? 2 : 1; break;            /* FCOMPP, the popping forms */
        default: d = r == 0 || r >= 2; break;             /* FFREEP, FSTP8/9, FUCOMIP, FCOMIP */
        }
        if (esc == 7 && (r == 1 || r == 4))
            d = 0; /* FXCH7, FNSTSW AX */
    }
    return (unsigned)((int)top + d) & 7;
}

void gen_x87_after_helper(struct jit_ctx *c)
{
    struct x64_asm *a = c->a;
    const struct insn *in = c->in;
    c->x87_cw = c->x87_bad = false;
    c->x87_used = c->x87_empty = 0;
    if (!(c->key & JK_X87) || (in->op != OP_X87 && in->op != OP_FXRSTOR))
        return;
    /* Still under the key? TOP where expected, nothing that would now
     * trap or need the soft path; else leave after the instruction. */
    unsigned top = in->op == OP_X87 ? top_after(in, c->top) : c->top;
    x64_alu_rm_imm(a, ALU_CMP, 1, fpu_field(FPU_OFF(top)), top);
    gen_jump_exit(c, XCC_NE, c->next_eip, c->idx + 1);
    x64_test_rm_imm(a, 4, cpu_field(CPU_OFF(cr0)), CR0_EM | CR0_TS);
    gen_jump_exit(c, XCC_NE, c->next_eip, c->idx + 1);
    x64_test_rm_imm(a, 1, fpu_field(FPU_OFF(sw)), X87_ES);
    gen_jump_exit(c, XCC_NE, c->next_eip, c->idx + 1);
    x64_movzx(a, 4, T_VAL, 2, fpu_field(FPU_OFF(cw)));
    x64_unary(a, UN_NOT, 4, x64_r(T_VAL));
    x64_test_rm_imm(a, 4, x64_r(T_VAL), X87_EXC);
    gen_jump_exit(c, XCC_NE, c->next_eip, c->idx + 1);
    x64_alu_rm_imm(a, ALU_AND, 4, x64_r(T_VAL), X87_PC);
    x64_alu_rm_imm(a, ALU_CMP, 4, x64_r(T_VAL), X87_PC & ~0x100u); /* ~PC == 10B: PC 01B */
    gen_jump_exit(c, XCC_E, c->next_eip, c->idx + 1);
    c->top = top;
}
