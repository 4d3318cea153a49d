/*
 * translate/jit/gen_ctrl.c — the stack and control flow: PUSH, POP,
 * LEAVE, JMP, Jcc, JECXZ, LOOP, CALL, RET, and the ways a block ends.
 *
 * Exits:
 * - direct (JMP/Jcc/CALL rel, falling off the end, and the side exit of
 *   a forward Jcc the block runs on through): when the target lies
 *   in the block's own linear page (so in the same physical page: the
 *   block was entered after its page was translated for a fetch, and no
 *   instruction that changes translations lets a block chain), the exit
 *   is a patchable jump, first to an exit stub that asks the dispatcher
 *   to link it, then straight to the target block's code. A target in
 *   another page goes through the jump cache, whose entries a TLB flush
 *   invalidates.
 * - indirect (RET, JMP/CALL r/m): the jump cache, probed inline.
 * - plain: back to the dispatcher (far transfers, mode changes, and
 *   everything in a segment that is not flat, but for real-mode and
 *   virtual-8086 code in a 64 KiB CS and protected-mode code in any
 *   CS, whose targets the jump cache holds too: jit.h jit_jc_seg16,
 *   jit_jc_segmented).
 * Every exit leaves the guest flags in cpu->cc and the registers in
 * the host's; the exit stub stores EIP and the trampoline the registers.
 *
 * Near targets beyond the CS limit raise #GP(0) (SDM JMP/Jcc/CALL/RET):
 * with a flat CS nothing is beyond it; otherwise a direct target is
 * checked here, at translation, and indirect ones go to the handler.
 */
#include "translate/jit/gen.h"

/* ------------------------------------------------------------------ */
/* Exits                                                               */
/* ------------------------------------------------------------------ */

void gen_jc_probe(struct jit_ctx *c, unsigned pc, uint32_t key)
{
    struct x64_asm *a = c->a;
    /* T_TAG = pc << 32 | stamp | key (jit_jc_tag) */
    x64_mov_reg_rm(a, 4, T_TAG, cpu_field(jit_jc_kernel(key) ? CPU_OFF(jit_jc_kstamp)
                                                             : CPU_OFF(jit_jc_stamp)));
    x64_alu_rm_imm(a, ALU_OR, 4, x64_r(T_TAG), key);
    x64_mov_rm_reg(a, 4, x64_r(T_IDX), pc);
    x64_shift_imm(a, SH_SHL, 8, x64_r(T_IDX), 32);
    x64_alu_rm_reg(a, ALU_OR, 8, x64_r(T_TAG), T_IDX);
    /* T_IDX = jit_jc_index(pc) * 16 = (pc * 4) & 0xfff0 */
    x64_lea(a, 4, T_IDX, x64_mem_idx(X_NONE, (int)pc, 2, 0));
    x64_alu_rm_imm(a, ALU_AND, 4, x64_r(T_IDX), (JIT_JC_SIZE - 1) << 4);
    x64_mov_r64_imm(a, T_VAL, (uint64_t)(uintptr_t)c->j->jc);
    x64_alu_reg_rm(a, ALU_CMP, 8, T_TAG, x64_m(x64_mem_idx(T_VAL, T_IDX, 0, 0)));
    size_t miss = x64_jcc8(a, XCC_NE);
    x64_jmp_rm(a, x64_m(x64_mem_idx(T_VAL, T_IDX, 0, 8)));
    x64_patch_rel8(a, miss, a->pos);
}

/* Whether a direct exit to `target` may be linked to its block. */
static bool linkable(const struct jit_ctx *c, uint32_t target)
{
    const struct jit_tb *tb = c->tb;
    if (!(c->key & JK_CS_FLAT) && target > tb->cs_limit)
        return false;
    return ((tb->cs_base + target) & TLB_PAGE_MASK) == (tb->pc & TLB_PAGE_MASK);
}

/* A direct exit that leaves when `cc` holds (-1: always); the block
 * goes on after it when it does not (a side exit: gen_jcc). */
static void side_exit(struct jit_ctx *c, int cc, uint32_t target, unsigned retired)
{
    struct jit_tb *tb = c->tb;
    struct stub *s;
    if (linkable(c, target) && c->nexits < JIT_EXITS) {
        unsigned e = c->nexits++;
        s = gen_jump_exit(c, cc, target, retired);
        s->tb_exit = (uint8_t)(e + 1);
        s->exit_code = (uint64_t)(uintptr_t)tb | e;
        tb->exit_field[e] = (uint32_t)s->fields[s->nfields - 1];
        tb->exit_eip[e] = target;
        tb->exit_key[e] = gen_key_now(c);
    } else if (jit_jc_holds(c->key, tb->cs_base, tb->cs_limit)) {
        s = gen_jump_jc(c, cc, target, retired);
    } else {
        s = gen_jump_exit(c, cc, target, retired);
    }
    /* Flags still in the host's EFLAGS are saved on the way out, on this
     * edge only (a linked target may not need them). */
    s->save_flags = c->fl_host;
}

/* A side exit from inside an x87 run: the run's end (its checks, then
 * its state stored) on the exit's way only; the translator's state as it
 * was before for the way on. */
static void side_exit_x87(struct jit_ctx *c, uint32_t target)
{
    unsigned char kept[offsetof(struct jit_ctx, stubs)]; /* all but the stubs */
    memcpy(kept, c, sizeof(kept));
    gen_x87_end_at_exit(c, target, c->idx + 1);
    side_exit(c, -1, target, c->idx + 1);
    unsigned nexits = c->nexits;
    memcpy(c, kept, sizeof(kept));
    c->nexits = nexits;
}

void gen_exit_direct(struct jit_ctx *c, int cc, uint32_t target, unsigned retired)
{
    side_exit(c, cc, target, retired);
    c->ended = true;
}

/* The jump-cache probe of real-mode code for the IP in `eip_reg`, under
 * base << 12 | (IP ^ base >> 4) (jit.h): the block's own CS base, or
 * with `cs_loaded` the one in cpu->seg[SEG_CS] (a far transfer's handler
 * just loaded it). IP is 16 bits wide when generated code loaded it and
 * within the limit, 0FFFFh, when a handler set it; anything past that
 * (which the next fetch faults on) must not name another base's block,
 * so it skips the probe. */
static void probe_seg16(struct jit_ctx *c, unsigned eip_reg, bool cs_loaded)
{
    struct x64_asm *a = c->a;
    x64_alu_rm_imm(a, ALU_CMP, 4, x64_r((int)eip_reg), 0xffff);
    size_t wide = x64_jcc8(a, XCC_A);
    if (cs_loaded) {
        /* T_IDX (free until the probe) for the low half. */
        x64_mov_reg_rm(a, 4, T_VAL, cpu_field(CPU_OFF(seg[SEG_CS].base)));
        x64_mov_rm_reg(a, 4, x64_r(T_IDX), T_VAL);
        x64_shift_imm(a, SH_SHR, 4, x64_r(T_IDX), 4);
        x64_alu_rm_reg(a, ALU_XOR, 4, x64_r(T_IDX), eip_reg);
        x64_shift_imm(a, SH_SHL, 4, x64_r(T_VAL), 12);
        x64_alu_rm_reg(a, ALU_OR, 4, x64_r(T_VAL), T_IDX);
    } else {
        x64_lea(a, 4, T_VAL, x64_mem(eip_reg, (int32_t)(c->tb->cs_base << 12)));
        x64_alu_rm_imm(a, ALU_XOR, 4, x64_r(T_VAL), c->tb->cs_base >> 4);
    }
    gen_jc_probe(c, T_VAL, gen_key_now(c));
    x64_patch_rel8(a, wide, a->pos);
}

void gen_exit_indirect(struct jit_ctx *c, unsigned eip_reg, unsigned retired)
{
    gen_esp_sync(c);
    struct x64_asm *a = c->a;
    gen_flags_to_cpu(c); /* the probe clobbers the host's flags */
    if (c->key & JK_CS_FLAT) {
        gen_jc_probe(c, eip_reg, gen_key_now(c)); /* pc = EIP: the base is 0 */
    } else if (jit_jc_segmented(c->key)) {
        gen_jc_probe(c, eip_reg, gen_key_now(c)); /* by EIP: its block checks CS */
    } else if (jit_jc_seg16(c->key, c->tb->cs_base, c->tb->cs_limit)) {
        probe_seg16(c, eip_reg, false);
    }
    x64_mov_rm_reg(a, 4, cpu_field(CPU_OFF(eip)), eip_reg);
    gen_exit_plain(c, retired);
}

void gen_exit_far16(struct jit_ctx *c, unsigned eip_reg, unsigned retired)
{
    gen_esp_sync(c);
    gen_flags_to_cpu(c);
    probe_seg16(c, eip_reg, true);
    x64_mov_rm_reg(c->a, 4, cpu_field(CPU_OFF(eip)), eip_reg);
    gen_exit_plain(c, retired);
}

void gen_exit_plain(struct jit_ctx *c, unsigned retired)
{
    gen_esp_sync(c);
    struct x64_asm *a = c->a;
    uint32_t back = c->charged - retired;
    if (back)
        x64_alu_rm_imm(a, ALU_ADD, 4, x64_r(JIT_BUDGET), back);
    x64_alu_rm_reg(a, ALU_XOR, 4, x64_r(T_IDX), T_IDX);
    x64_jmp_abs(a, c->exec_base, c->j->exit_sync);
    c->ended = true;
}

/* ------------------------------------------------------------------ */
/* Stack                                                               */
/* ------------------------------------------------------------------ */

/* The indirect exit of an instruction whose target is in T_ADDR. Its
 * slow path, if it has one, reloads T_ADDR with the target the handler
 * left in cpu->eip in its stub and comes back here; the inline path runs
 * straight on (it used to jump over that reload: a taken jump on every
 * RET: make bench's call row 1.00 -> 0.90 s at 3000 rounds). */
static void indirect_tail(struct jit_ctx *c)
{
    if (c->slow >= 0) {
        c->stubs[c->slow].reload_target = 1;
        gen_mark_resume(c);
    }
    gen_exit_indirect(c, T_ADDR, c->idx + 1);
}

/* A 16-bit stack (SS.B clear): SP addresses it and wraps at 64 KiB, and
 * ESP's upper half stays as it is (SDM Vol. 1 6.2.3; Vol. 3A 3.4.5). */
static bool stack16(const struct jit_ctx *c)
{
    return !(c->key & JK_STACK32);
}

/* `reg` = the stack pointer + `delta` as an offset in SS. */
static void stack_offset(struct jit_ctx *c, unsigned reg, int32_t delta)
{
    if (delta)
        x64_lea(c->a, 4, reg, x64_mem(X_R12, delta));
    else
        x64_mov_rm_reg(c->a, 4, x64_r((int)reg), X_R12);
    if (stack16(c))
        x64_movzx(c->a, 4, reg, 2, x64_r(reg));
}

/*
 * Deferred ESP. In a block whose frame register is ESP (block.c
 * plan_frame: ESP moves only by PUSH, POP, ADD/SUB ESP, imm and LEA ESP,
 * [ESP + disp], each by an amount known here, and every slot they and
 * the [ESP + disp] operands touch proved in one page), the moves are
 * counted in c->esp_pending instead of each being an LEA of R12: the
 * frame's slots add it to their displacement, and one LEA (gen_esp_sync)
 * makes R12 the guest's ESP again before any instruction that is not
 * one of those (block.c esp_pending_safe), before every exit, helper
 * call and slow path, and where a slow path comes back. tak's epilogue
 * (four POPs and a RET): five LEAs and four register copies fewer.
 */
static bool esp_deferred(const struct jit_ctx *c)
{
    return c->frame_reg == R_ESP && !stack16(c);
}

void gen_esp_sync(struct jit_ctx *c)
{
    if (!c->esp_pending)
        return;
    x64_lea(c->a, 4, X_R12, x64_mem(X_R12, c->esp_pending));
    c->esp_pending = 0;
}

/* Whether `in`, a move of ESP, is one the block counts in esp_pending:
 * LEA ESP, [ESP + disp], and ADD/SUB ESP, imm whose flags nothing reads
 * (every later reader, exit or possible fault has them written again
 * first: the liveness pass). */
bool gen_ctrl_esp_folds(const struct jit_ctx *c, const struct insn *in)
{
    const struct operand *d = &in->dst;
    if (!esp_deferred(c) || d->kind != OPND_REG || d->reg != R_ESP || d->width != 4)
        return false;
    if (in->op == OP_LEA)
        return in->ea_base == R_ESP && in->ea_index == EA_NO_REG && in->adsize == 4;
    return (in->op == OP_ADD || in->op == OP_SUB) && in->src.kind == OPND_IMM &&
           c->live_out == 0;
}

static bool gen_esp_fold(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    if (!gen_ctrl_esp_folds(c, in))
        return false;
    /* 32-bit arithmetic, as ESP's; at each frame access the plan keeps
     * the sum within int32 (block.c plan_one). */
    uint32_t move = in->op == OP_LEA ? (uint32_t)in->disp
                    : in->op == OP_ADD ? in->imm : 0u - in->imm;
    c->esp_pending = (int32_t)((uint32_t)c->esp_pending + move);
    if (in->op == OP_LEA)
        return true;
    /* Its flags are dead; whatever the host's hold is older and dead too
     * (and no rematerialisation may re-run an ADD that never ran). */
    c->fl_host = false;
    return true;
}

/* The stack pointer += `delta`: ESP, or SP alone (a 16-bit LEA). */
static void stack_adjust(struct jit_ctx *c, int32_t delta)
{
    if (esp_deferred(c)) {
        c->esp_pending = (int32_t)((uint32_t)c->esp_pending + (uint32_t)delta);
        return;
    }
    x64_lea(c->a, stack16(c) ? 2 : 4, X_R12, x64_mem(X_R12, delta));
}

/* Stores `in`'s pushed value (register, immediate or T_VAL) to [reg]. */
static void store_push_value(struct jit_ctx *c, unsigned width, unsigned reg)
{
    const struct insn *in = c->in;
    struct x64_rm dst = x64_m(x64_mem(reg, 0));
    if (in->dst.kind == OPND_IMM)
        x64_mov_rm_imm(c->a, width, dst, in->imm);
    else if (in->dst.kind == OPND_REG)
        x64_mov_rm_reg(c->a, width, dst, jit_host_reg(in->dst.reg));
    else
        x64_mov_rm_reg(c->a, width, dst, T_VAL);
}

/* Whether the block's prologue proved its stack slots in one page
 * (block.c: ESP as the frame register). */
static bool stack_frame(const struct jit_ctx *c)
{
    return c->frame_reg == R_ESP && (c->frame_insns >> c->idx & 1);
}

/* The stack slot at ESP + disp in a frame block. */
static struct x64_rm frame_slot(const struct jit_ctx *c, int32_t disp)
{
    return x64_m(
        x64_mem_idx(T_FRAME, X_R12, 0, (int32_t)((uint32_t)disp + (uint32_t)c->esp_pending)));
}

static bool gen_push(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    unsigned w = in->dst.width;
    if (!gen_stack_ok(c) || (w != 2 && w != 4))
        return false;
    if (in->dst.kind != OPND_REG && in->dst.kind != OPND_IMM && in->dst.kind != OPND_MEM)
        return false;
    if (in->dst.kind == OPND_MEM && !gen_mem_ok(c, in))
        return false;
    if (in->dst.kind == OPND_MEM) {
        /* PUSH m: the source's address uses ESP before the push. */
        struct x64_rm src = gen_mem_operand(c, in, w, false);
        x64_mov_reg_rm(c->a, w, T_VAL, src);
    }
    /* PUSH ESP stores the value before the decrement (SDM PUSH). */
    if (stack_frame(c)) {
        struct x64_rm slot = frame_slot(c, -(int32_t)w);
        if (in->dst.kind == OPND_IMM)
            x64_mov_rm_imm(c->a, w, slot, in->imm);
        else
            x64_mov_rm_reg(c->a, w, slot,
                           in->dst.kind == OPND_REG ? jit_host_reg(in->dst.reg) : T_VAL);
    } else {
        gen_flags_to_cpu(c);
        /* The stack slot in T_ADDR (free again: a memory source's value
         * is in T_VAL by now). */
        stack_offset(c, T_ADDR, -(int32_t)w);
        gen_access_reg(c, SEG_SS, w, true, T_ADDR);
        store_push_value(c, w, T_ADDR);
    }
    stack_adjust(c, -(int32_t)w);
    return true;
}

static bool gen_pop(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    unsigned w = in->dst.width;
    if (!gen_stack_ok(c) || in->dst.kind != OPND_REG || (w != 2 && w != 4))
        return false;
    unsigned dst = jit_host_reg(in->dst.reg);
    if (stack_frame(c) && in->dst.reg != R_ESP && w == 4) {
        /* Straight into the register (block.c's plan has no POP ESP). */
        x64_mov_reg_rm(c->a, 4, dst, frame_slot(c, 0));
        stack_adjust(c, 4);
        return true;
    }
    if (stack_frame(c)) {
        x64_mov_reg_rm(c->a, w, T_VAL, frame_slot(c, 0));
    } else {
        gen_flags_to_cpu(c);
        stack_offset(c, T_ADDR, 0);
        gen_access(c, SEG_SS, w, false);
        x64_mov_reg_rm(c->a, w, T_VAL, x64_m(x64_mem(T_ADDR, 0)));
    }
    stack_adjust(c, (int32_t)w);
    /* POP ESP: the value read wins over the increment (SDM POP). */
    if (in->dst.reg == R_ESP && w == 4)
        c->esp_pending = 0;
    else if (in->dst.reg == R_ESP)
        gen_esp_sync(c); /* POP SP: ESP's upper half moved with the increment */
    x64_mov_rm_reg(c->a, w, x64_r((int)dst), T_VAL);
    return true;
}

/* LEAVE (32-bit): ESP = EBP, then EBP = pop. */
static bool gen_leave(struct jit_ctx *c)
{
    if (!gen_stack_ok(c) || stack16(c) || c->in->opsize != 4)
        return false;
    gen_flags_to_cpu(c);
    x64_mov_rm_reg(c->a, 4, x64_r(T_ADDR), X_RBP);
    gen_access(c, SEG_SS, 4, false);
    x64_mov_reg_rm(c->a, 4, T_VAL, x64_m(x64_mem(T_ADDR, 0)));
    x64_lea(c->a, 4, X_R12, x64_mem(X_RBP, 4));
    x64_mov_rm_reg(c->a, 4, x64_r(X_RBP), T_VAL);
    return true;
}

/* ------------------------------------------------------------------ */
/* Control transfers                                                   */
/* ------------------------------------------------------------------ */

static uint32_t rel_target(const struct jit_ctx *c)
{
    uint32_t t = c->next_eip + c->in->imm;
    return c->in->opsize == 2 ? t & 0xffff : t;
}

/* A direct target the block may jump to without the handler: within the
 * CS limit (beyond it the handler raises #GP). */
static bool target_ok(const struct jit_ctx *c, uint32_t t)
{
    return (c->key & JK_CS_FLAT) || t <= c->tb->cs_limit;
}

/* Condition `cond` of the guest flags kept in cpu->cc (CC_HOST): a test
 * of the bits for the one-flag conditions and BE/A; the others through
 * the host's flags. Returns the host condition to branch on. */
static enum x64_cc cond_from_cpu(struct jit_ctx *c, unsigned cond)
{
    const uint32_t bits[6] = { cc_host_image(FL_OF), cc_host_image(FL_CF),
                               cc_host_image(FL_ZF), cc_host_image(FL_CF | FL_ZF),
                               cc_host_image(FL_SF), cc_host_image(FL_PF) };
    unsigned base = (cond >> 1) & 7;
    if (base < 6) {
        x64_test_rm_imm(c->a, 4, cpu_field(CPU_OFF(cc.res)), bits[base]);
        return (cond & 1) ? XCC_E : XCC_NE;
    }
    gen_flags_to_host(c);
    return (enum x64_cc)cond;
}

bool gen_ctrl_x87_loop_edge(const struct jit_ctx *c, unsigned k)
{
    const struct insn *in = &c->insns[k];
    const struct jit_tb *tb = c->tb;
    if (k + 1 != c->ninsns || (in->op != OP_JCC && in->op != OP_JMP) ||
        in->dst.kind != OPND_IMM)
        return false;
    /* 32-bit code in a flat CS, the block's own key at the jump (TOP
     * back where it began: no x87 instruction after instruction k's
     * caller), nothing its entry checks that the loop could change: the
     * second page's translation, a frame register's page, tracing. */
    uint32_t key = c->key;
    if ((key & (JK_CS_FLAT | JK_CODE32)) != (JK_CS_FLAT | JK_CODE32) ||
        (key & (JK_NOFRAME | JK_TRACE)) || gen_key_now(c) != key || tb->crosses ||
        c->frame_reg >= 0)
        return false;
    uint32_t next = tb->eip;
    for (unsigned i = 0; i <= k; i++)
        next += c->insns[i].len;
    uint32_t target = next + in->imm;
    return in->opsize == 4 && target == tb->eip && linkable(c, tb->eip);
}

/* The back edge of an x87 loop with its run open (gen_x87.c "Loops"),
 * taken when `cc` holds (-1: always): with budget left, and the run
 * short enough (JIT_X87_LOOP_RUN), on into the body's second copy with
 * the run still open; otherwise the run's end and out to the block's
 * start (linked to itself: its entry leaves or starts a new run).
 * Not taken: the run's end and out to the next instruction. */
static void x87_loop_edge(struct jit_ctx *c, int cc)
{
    struct x64_asm *a = c->a;
    gen_flags_to_cpu(c); /* the budget's charge clobbers the host's */
    size_t fall = cc >= 0 ? x64_jcc32(a, (enum x64_cc)(cc ^ 1)) : 0;
    x64_alu_rm_imm(a, ALU_SUB, 4, x64_r(JIT_BUDGET), c->charge[0]);
    size_t spent = x64_jcc32(a, XCC_S);
    x64_alu_reg_rm(a, ALU_CMP, 4, JIT_BUDGET, cpu_field(CPU_OFF(jit_loop_floor)));
    size_t long_run = x64_jcc32(a, XCC_L);
    gen_x87_loop_jump(c);
    x64_patch_rel32(a, spent, a->pos);
    x64_patch_rel32(a, long_run, a->pos);
    x64_alu_rm_imm(a, ALU_ADD, 4, x64_r(JIT_BUDGET), c->charge[0]);
    side_exit_x87(c, c->tb->eip);
    if (cc >= 0) {
        x64_patch_rel32(a, fall, a->pos);
        side_exit_x87(c, c->next_eip);
    }
    c->ended = true;
}

static bool gen_jcc(struct jit_ctx *c)
{
    uint32_t taken = rel_target(c);
    if (!target_ok(c, taken))
        return false;
    if (c->x87_run && c->idx + 1 == c->ninsns) {
        /* An x87 loop's back edge, its run open (gen_x87). */
        gen_flags_to_cpu(c);
        enum x64_cc cc = cond_from_cpu(c, c->in->cond);
        c->fl_host = false;
        x87_loop_edge(c, (int)cc);
        return true;
    }
    enum x64_cc cc;
    if (c->fl_host) {
        /* Branch on the host's flags; each way saves them (gen_exit_direct). */
        cc = (enum x64_cc)c->in->cond;
    } else {
        /* cpu->cc holds the flags (even if the host's now do too). */
        cc = cond_from_cpu(c, c->in->cond);
        c->fl_host = false;
    }
    if (c->x87_run) {
        /* Inside an x87 run (gen_x87.c, inside_run), which goes on along
         * the way not taken: the taken way ends it, then leaves. */
        size_t over = x64_jcc32(c->a, (enum x64_cc)(cc ^ 1));
        side_exit_x87(c, taken);
        x64_patch_rel32(c->a, over, c->a->pos);
    } else if (c->idx + 1 < c->ninsns) {
        /* The block runs on through the way not taken (block.c,
         * runs_on_through). */
        side_exit(c, (int)cc, taken, c->idx + 1);
    }
    if (c->idx + 1 < c->ninsns) {
        /* Not taken: the next stretch is charged (block.c); LEA leaves
         * the flags alone. */
        int32_t next = c->charge[c->idx + 1] - c->charge[c->idx];
        x64_lea(c->a, 4, JIT_BUDGET, x64_mem(JIT_BUDGET, -next));
        return true;
    }
    gen_exit_direct(c, (int)cc, taken, c->idx + 1);
    gen_exit_direct(c, -1, c->next_eip, c->idx + 1);
    return true;
}

/* Whether an indirect JMP/CALL/RET's target needs a check against the
 * CS limit (SDM JMP/CALL/RET: #GP(0) beyond it): not in a flat CS, nor
 * for a 16-bit IP in a 64 KiB real-mode CS. */
static bool target_limit_checked(const struct jit_ctx *c)
{
    if (c->key & JK_CS_FLAT)
        return false;
    return !(c->in->opsize == 2 && jit_jc_seg16(c->key, c->tb->cs_base, c->tb->cs_limit));
}

/* Whether an indirect JMP/CALL runs inline: 32-bit targets in a flat CS,
 * 16-bit ones in real-mode code, either in protected-mode code in any CS
 * (checked against its limit). */
static bool indirect_ok(const struct jit_ctx *c)
{
    unsigned w = c->in->opsize;
    if (jit_jc_segmented(c->key))
        return w == 2 || w == 4;
    if (w == 4)
        return c->key & JK_CS_FLAT;
    return w == 2 && jit_jc_seg16(c->key, c->tb->cs_base, c->tb->cs_limit);
}

/* The target in T_ADDR beyond the CS limit: the slow path (the handler
 * raises #GP(0)). */
static void check_target(struct jit_ctx *c)
{
    if (!target_limit_checked(c))
        return;
    gen_flags_to_cpu(c);
    x64_alu_rm_imm(c->a, ALU_CMP, 4, x64_r(T_ADDR), c->tb->cs_limit);
    gen_jump_slow(c, XCC_A);
}

/* T_ADDR = an indirect JMP/CALL's target of its operand size. */
static void load_target(struct jit_ctx *c, struct x64_rm src)
{
    if (c->in->opsize == 2)
        x64_movzx(c->a, 4, T_ADDR, 2, src);
    else if (src.is_reg)
        x64_mov_rm_reg(c->a, 4, x64_r(T_ADDR), src.reg);
    else
        x64_mov_reg_rm(c->a, 4, T_ADDR, src);
}

static bool gen_jmp(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    if (in->dst.kind == OPND_IMM) {
        uint32_t t = rel_target(c);
        if (!target_ok(c, t))
            return false;
        if (c->x87_run) /* an x87 loop's back edge (gen_x87) */
            x87_loop_edge(c, -1);
        else
            gen_exit_direct(c, -1, t, c->idx + 1);
        return true;
    }
    /* JMP r/m32 with a flat CS, JMP r/m16 in real-mode code: no limit to
     * check (a 16-bit IP is within its 64 KiB CS). */
    if (!indirect_ok(c))
        return false;
    if (in->dst.kind == OPND_MEM && !gen_mem_ok(c, in))
        return false;
    gen_flags_to_cpu(c);
    if (in->dst.kind == OPND_REG) {
        load_target(c, x64_r((int)jit_host_reg(in->dst.reg)));
        if (target_limit_checked(c)) {
            check_target(c);
            indirect_tail(c); /* the check's slow path comes back there */
        } else {
            gen_exit_indirect(c, T_ADDR, c->idx + 1);
        }
        return true;
    }
    gen_ea(c, in, T_ADDR);
    gen_access(c, in->seg, in->opsize, false);
    load_target(c, x64_m(x64_mem(T_ADDR, 0)));
    check_target(c);
    indirect_tail(c);
    return true;
}

static bool gen_call(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    bool direct = in->dst.kind == OPND_IMM;
    /* CALL rel16 and r/m16 on a 16-bit stack too (real-mode code). */
    unsigned w = in->opsize;
    if (!gen_stack_ok(c) || (w != 4 && !(w == 2 && stack16(c))))
        return false;
    uint32_t t = direct ? rel_target(c) : 0;
    if (direct ? !target_ok(c, t) : !indirect_ok(c))
        return false;
    if (in->dst.kind == OPND_MEM && !gen_mem_ok(c, in))
        return false;
    /* The target first (CALL r/m reads it, with the old ESP), then the
     * stack slot: both checked before anything changes. */
    if (in->dst.kind == OPND_MEM)
        load_target(c, gen_mem_operand(c, in, w, false));
    else if (in->dst.kind == OPND_REG)
        load_target(c, x64_r((int)jit_host_reg(in->dst.reg)));
    if (!direct)
        check_target(c);
    if (stack_frame(c)) {
        x64_mov_rm_imm(c->a, 4, frame_slot(c, -4), c->next_eip);
    } else {
        gen_flags_to_cpu(c);
        /* The stack slot in T_VAL (T_ADDR holds the target). */
        stack_offset(c, T_VAL, -(int32_t)w);
        gen_access_reg(c, SEG_SS, w, true, T_VAL);
        x64_mov_rm_imm(c->a, w, x64_m(x64_mem(T_VAL, 0)), c->next_eip);
    }
    stack_adjust(c, -(int32_t)w);
    if (direct) {
        gen_mark_resume(c);
        gen_exit_direct(c, -1, t, c->idx + 1);
    } else {
        indirect_tail(c);
    }
    return true;
}

static bool gen_ret(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    /* Where the jump cache holds the target's block (a flat CS, a 64 KiB
     * real-mode CS, protected-mode code in any CS), with the operand size
     * of the stack: the target checked against the CS limit where it may
     * lie beyond (check_target). */
    unsigned w = in->opsize;
    bool held = jit_jc_holds(c->key, c->tb->cs_base, c->tb->cs_limit);
    if (!gen_stack_ok(c) || !held || w != (stack16(c) ? 2u : 4u))
        return false;
    uint32_t release = in->dst.kind == OPND_IMM ? (in->imm & 0xffff) : 0;
    if (stack_frame(c)) {
        x64_mov_reg_rm(c->a, 4, T_ADDR, frame_slot(c, 0));
    } else {
        gen_flags_to_cpu(c);
        stack_offset(c, T_ADDR, 0);
        gen_access(c, SEG_SS, w, false);
        if (w == 2)
            x64_movzx(c->a, 4, T_ADDR, 2, x64_m(x64_mem(T_ADDR, 0)));
        else
            x64_mov_reg_rm(c->a, 4, T_ADDR, x64_m(x64_mem(T_ADDR, 0)));
    }
    check_target(c);
    stack_adjust(c, (int32_t)(w + release));
    indirect_tail(c);
    return true;
}

/* JECXZ and LOOP with ECX, JCXZ and LOOP with CX (the address size says
 * which; CX's LOOP leaves ECX's upper half alone); the flags survive. */
static bool gen_count_jump(struct jit_ctx *c)
{
    const struct insn *in = c->in;
    uint32_t taken = rel_target(c);
    unsigned w = in->adsize;
    if ((w != 4 && w != 2) || !target_ok(c, taken))
        return false;
    gen_flags_to_cpu(c);
    if (in->op == OP_LOOP)
        x64_lea(c->a, w, X_RCX, x64_mem(X_RCX, -1)); /* LOOP leaves the flags alone */
    x64_test_rm_reg(c->a, w, x64_r(X_RCX), X_RCX);
    gen_exit_direct(c, in->op == OP_LOOP ? XCC_NE : XCC_E, taken, c->idx + 1);
    gen_exit_direct(c, -1, c->next_eip, c->idx + 1);
    return true;
}

bool gen_ctrl(struct jit_ctx *c)
{
    switch ((enum op)c->in->op) {
    case OP_PUSH: return gen_push(c);
    case OP_POP: return gen_pop(c);
    case OP_LEAVE: return gen_leave(c);
    case OP_JCC: return gen_jcc(c);
    case OP_JMP: return gen_jmp(c);
    case OP_CALL: return gen_call(c);
    case OP_RET: return gen_ret(c);
    case OP_JCXZ: case OP_LOOP: return gen_count_jump(c);
    case OP_ADD: case OP_SUB: case OP_LEA: return gen_esp_fold(c);
    default: return false;
    }
}
