/*
 * translate/jit/run.c — running translated code: the trampoline between
 * C and generated code, the helper thunks, the C side of a helper call,
 * and the dispatcher (find or translate the block at CS:EIP, link the
 * exit that led there, enter it).
 *
 * Trampoline (enter): saves the host's callee-saved registers, aligns the
 * stack, loads the guest registers into their host registers (jit.h) and
 * jumps to a block. exit_sync stores them back and returns the exit code
 * (R10) to C. A fault inside a helper longjmps past all of this to
 * cpu_exec's setjmp, which restores the host registers itself.
 *
 * Thunks: generated code calls a helper as `mov r10, jit_insn; call
 * thunk`. The thunk saves the host flags to cpu->cc if asked, stores the
 * guest registers, calls jit_exec_insn, and either reloads the registers
 * (and the flags, if asked) and returns, or — when the instruction asked
 * for an exit (an interrupt became pending, a device wants the board,
 * translated code was written) — leaves the block from there.
 */
#include <stdlib.h>
#include <string.h>

#include "translate/exec.h"
#include "translate/jit/gen.h"
#include "translate/tb.h"

/* Size of the code buffer's start that holds the trampoline and thunks. */
#define JIT_RESERVED 4096
#define JIT_MIN_SIZE (1u << 20)

static const int32_t reg_off[8] = {
    CPU_OFF(regs[0]), CPU_OFF(regs[1]), CPU_OFF(regs[2]), CPU_OFF(regs[3]),
    CPU_OFF(regs[4]), CPU_OFF(regs[5]), CPU_OFF(regs[6]), CPU_OFF(regs[7]),
};

static void store_guest_regs(struct x64_asm *a)
{
    for (unsigned r = 0; r < 8; r++)
        x64_mov_rm_reg(a, 4, cpu_field(reg_off[r]), jit_host_reg(r));
}

static void load_guest_regs(struct x64_asm *a)
{
    for (unsigned r = 0; r < 8; r++)
        x64_mov_reg_rm(a, 4, jit_host_reg(r), cpu_field(reg_off[r]));
}

static const uint8_t callee_saved[6] = { X_RBX, X_RBP, X_R12, X_R13, X_R14, X_R15 };

/* Emits the trampoline and the thunks at the start of the buffer. */
static int emit_runtime(struct jit *j)
{
    struct x64_asm a;
    x64_init(&a, j->code.rw, JIT_RESERVED);
    uintptr_t base = (uintptr_t)j->code.rx;

    /* enter(cpu = RDI, code = RSI) */
    size_t enter = a.pos;
    for (unsigned i = 0; i < 6; i++)
        x64_push(&a, callee_saved[i]);
    x64_alu_rm_imm(&a, ALU_SUB, 8, x64_r(X_RSP), 8); /* 16-byte alignment */
    x64_mov_rm_reg(&a, 8, x64_r(JIT_CPU), X_RDI);
    x64_mov_rm_reg(&a, 8, x64_r(X_R11), X_RSI);
    load_guest_regs(&a);
    x64_mov_reg_rm(&a, 4, JIT_BUDGET, cpu_field(CPU_OFF(jit_budget)));
    x64_jmp_rm(&a, x64_r(X_R11));

    /* exit_sync: R10 = exit code */
    size_t exit_sync = a.pos;
    store_guest_regs(&a);
    x64_mov_rm_reg(&a, 4, cpu_field(CPU_OFF(jit_budget)), JIT_BUDGET);
    size_t exit_nosync = a.pos;
    x64_mov_rm_reg(&a, 8, x64_r(X_RAX), T_IDX);
    x64_alu_rm_imm(&a, ALU_ADD, 8, x64_r(X_RSP), 8);
    for (unsigned i = 6; i-- > 0;)
        x64_pop(&a, callee_saved[i]);
    x64_ret(&a);

    /* thunks: R10 = the argument (a const struct jit_insn *, or the
     * block for the trace) */
    size_t thunk[JIT_THUNKS];
    for (unsigned v = 0; v < JIT_THUNKS; v++) {
        thunk[v] = a.pos;
        if (v & JIT_THUNK_SAVE_FLAGS) {
            x64_store_flags(&a, x64_mem(JIT_CPU, CPU_OFF(cc.res)), X_R11);
        }
        store_guest_regs(&a);
        x64_mov_rm_reg(&a, 4, cpu_field(CPU_OFF(jit_budget)), JIT_BUDGET);
        x64_mov_rm_reg(&a, 8, x64_r(X_RDI), JIT_CPU);
        x64_mov_rm_reg(&a, 8, x64_r(X_RSI), T_IDX);
        x64_alu_rm_imm(&a, ALU_SUB, 8, x64_r(X_RSP), 8);
        x64_call_abs(&a, base, (v & JIT_THUNK_TRACE) ? (const void *)jit_trace_block
                                                     : (const void *)jit_exec_insn);
        x64_alu_rm_imm(&a, ALU_ADD, 8, x64_r(X_RSP), 8);
        x64_test_rm_reg(&a, 4, x64_r(X_RAX), X_RAX);
        size_t stop = x64_jcc8(&a, XCC_NE);
        load_guest_regs(&a);
        x64_mov_reg_rm(&a, 4, JIT_BUDGET, cpu_field(CPU_OFF(jit_budget)));
        if (v & JIT_THUNK_LOAD_FLAGS) {
            x64_load_flags(&a, x64_mem(JIT_CPU, CPU_OFF(cc.res)), X_R11);
        }
        x64_ret(&a);
        /* Leave the block: drop the return address into it; the guest
         * registers are in cpu->regs already, as the handler left them,
         * and the budget as jit_exec_insn corrected it. */
        x64_patch_rel8(&a, stop, a.pos);
        x64_alu_rm_imm(&a, ALU_ADD, 8, x64_r(X_RSP), 8);
        x64_alu_rm_reg(&a, ALU_XOR, 4, x64_r(T_IDX), T_IDX);
        size_t f = x64_jmp32(&a);
        x64_patch_rel32(&a, f, exit_nosync);
    }
    if (a.full || a.bad)
        return -1;

    j->enter = (uintptr_t(*)(struct cpu *, const void *))(void *)(j->code.rx + enter);
    j->exit_sync = j->code.rx + exit_sync;
    for (unsigned v = 0; v < JIT_THUNKS; v++)
        j->thunk[v] = j->code.rx + thunk[v];
    j->code_reserved = j->code_used = JIT_RESERVED;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The C side of a helper call                                         */
/* ------------------------------------------------------------------ */

void jit_flags_to_host(struct cpu *cpu)
{
    cpu->cc.res = cc_host_image(flags_arith(cpu));
    cpu->cc.op = CC_HOST;
}

/* -d mode: an instruction that can change the mode is never inline; it
 * runs through its handler here (cpu/eventlog.c), so the JIT needs no
 * careful path to name it. Its bytes are read again, at its linear
 * address, only when the mode changed: the code it ran from is still
 * mapped there in practice (a CR0 write that turns paging on runs from
 * an identity-mapped page); bytes that are not show as 00. */
static void mode_log_helper(struct cpu *cpu, const struct jit_insn *ji, uint16_t cs, uint32_t lin)
{
    if (cpu_mode_signature(cpu) == cpu->mode_logged)
        return;
    uint8_t bytes[15] = { 0 }; /* an instruction's most (SDM Vol. 2 2.3.11) */
    cpu_debug_read(cpu, lin, bytes, ji->in.len);
    cpu_mode_log_insn(cpu, cs, ji->eip, lin, &ji->in, bytes, cpu->icount);
}

int jit_exec_insn(struct cpu *cpu, const struct jit_insn *ji)
{
    /* -d mode names the instruction where it ran (a far transfer changes
     * CS): read only when logging. */
    const bool mode_log = cpu->log_mask & LOG_MODE;
    const uint16_t cs = mode_log ? cpu->seg[SEG_CS].sel : 0;
    const uint32_t lin = mode_log ? cpu->seg[SEG_CS].base + ji->eip : 0;
    cpu->eip = ji->eip;
    cpu->next_eip = ji->next_eip;
    cpu->jit_ileft = ji->ileft;
    /* Generated code counts by whole blocks (cpu->jit_budget) and the
     * dispatcher adds them to cpu->icount when the chain returns; for the
     * handler's sake (RDTSC without a board clock counts retired
     * instructions) icount counts exactly the instructions retired before
     * this one. A fault leaves it so (jit_fault_unwound). */
    const uint64_t ran = (uint64_t)(cpu->jit->slice - cpu->jit_budget - ji->ileft);
    cpu->icount += ran;
    ji->in.fn(cpu, &ji->in);
    if (mode_log)
        mode_log_helper(cpu, ji, cs, lin);
    cpu->icount -= ran;
    cpu->eip = cpu->next_eip;
    cpu->jit_ileft = 0;
    if (cpu->cc.op != CC_HOST)
        jit_flags_to_host(cpu);
    cpu->jit->stats.helper_calls++;
    cpu->jit->stats.helper_ops[ji->in.op]++;
    if ((cpu->exit_request | cpu->code_changed) || cpu->dbg.stop.kind != CPU_DBG_NONE) {
        /* Leaving after this instruction (also when it hit a debugger's
         * watchpoint: cpu_exec stops there): the rest of the block was
         * charged to the budget at its entry. */
        cpu->jit_budget += ji->ileft - 1;
        return 1;
    }
    return 0;
}

/* -d exec under the JIT: one line per block entered (the careful path,
 * -accel interp and -singlestep trace each instruction). Never stops. */
int jit_trace_block(struct cpu *cpu, const struct jit_tb *tb)
{
    if (cpu->log && cpu_log_wanted_at(cpu, tb->pc))
        fprintf(cpu->log, "exec: %04x:%08x  block of %u instructions (linear %08x)\n",
                cpu->seg[SEG_CS].sel, tb->eip, tb->n, tb->pc);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The block key                                                       */
/* ------------------------------------------------------------------ */

static enum jit_seg_class seg_class(const struct cpu *cpu, int s)
{
    const struct seg *sg = &cpu->seg[s];
    bool prot = (cpu->cr0 & CR0_PE) && !(cpu->eflags & FL_VM);
    if (prot) {
        /* Present, data, expand-up, writable: every access passes the
         * type checks of SDM Vol. 3A 5.4 and needs only the limit. */
        if ((sg->ar & (AR_P | AR_S | AR_T_CODE | AR_T_EXPDOWN | AR_T_WRITABLE)) !=
            (AR_P | AR_S | AR_T_WRITABLE))
            return SEGK_OTHER;
    } else if ((sg->ar & (AR_S | AR_T_CODE | AR_T_EXPDOWN)) == (AR_S | AR_T_EXPDOWN)) {
        return SEGK_OTHER; /* real and v86 mode check only the limit */
    }
    return sg->base == 0 && sg->limit == 0xffffffffu ? SEGK_FLAT : SEGK_RW;
}

uint32_t jit_key(const struct cpu *cpu)
{
    uint32_t key = (uint32_t)cpu->cpl << JK_CPL_SHIFT;
    if (cpu->code32)
        key |= JK_CODE32;
    if (cpu->stack32)
        key |= JK_STACK32;
    if (cpu->cr0 & CR0_PE)
        key |= JK_PE;
    if (cpu->eflags & FL_VM)
        key |= JK_VM;
    if (!(cpu->cr0 & CR0_PG))
        key |= JK_NOPG;
    if (cpu->seg[SEG_CS].base == 0 && cpu->seg[SEG_CS].limit == 0xffffffffu)
        key |= JK_CS_FLAT;
    if (cpu->cpl == 3 && (cpu->cr0 & CR0_AM) && (cpu->eflags & FL_AC))
        key |= JK_AC;
    if (cpu->log_mask & LOG_EXEC)
        key |= JK_TRACE;
    static const int data_segs[] = { SEG_ES, SEG_SS, SEG_DS, SEG_FS, SEG_GS };
    for (unsigned i = 0; i < 5; i++)
        key |= (uint32_t)seg_class(cpu, data_segs[i]) << (JK_SEG_SHIFT + 2 * data_segs[i]);
    if (fpu_host_inline_ok(cpu))
        key |= JK_X87 | (uint32_t)(cpu->fpu.top & 7) << JK_TOP_SHIFT;
    return key;
}

/* ------------------------------------------------------------------ */
/* The dispatcher                                                      */
/* ------------------------------------------------------------------ */

struct jit *jit_new(struct cpu *cpu, size_t code_size)
{
    if (code_size < JIT_MIN_SIZE)
        code_size = JIT_MIN_SIZE;
    struct jit *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->cpu = cpu;
    j->code.fd = -1;
    if (jit_hostfault_install() != 0 || jit_cache_init(j, code_size) != 0 ||
        emit_runtime(j) != 0) {
        jit_cache_free(j);
        free(j);
        return NULL;
    }
    j->tlb_generation = cpu->tlb.generation;
    j->tlb_flushes_all = cpu->tlb.flushes_all;
    j->tlb_flushes_nonglobal = cpu->tlb.flushes_nonglobal;
    j->tlb_flushes_page = cpu->tlb.flushes_page;
    cpu->jit_jc_stamp = cpu->jit_jc_kstamp = JIT_JC_VALID;
    j->kpage_min = UINT32_MAX;
    j->helpers_only = getenv("GLASS_JIT_HELPERS") != NULL;
    const char *ff = getenv("GLASS_JIT_FRAME_FAILS");
    const char *fs = getenv("GLASS_JIT_FIRST_SIGHT");
    if (fs ? strcmp(fs, "0") != 0 : cpu->jit_first_sight)
        j->seen = calloc(JIT_SEEN_SIZE, sizeof(*j->seen)); /* none: translate at once */
    j->frame_fails_max = ff ? (unsigned)strtoul(ff, NULL, 10) : JIT_FRAME_FAILS;
    return j;
}

void jit_free(struct jit *j)
{
    if (!j)
        return;
    jit_cache_free(j);
    if (j->perfmap)
        fclose(j->perfmap);
    free(j->seen);
    free(j);
}

/* The careful path runs the next n instructions of this linear page
 * without asking the dispatcher (exec.c): a hot SMC page's period
 * (`smc`, counted in its statistics) or a block's first sight. */
static void careful_run(struct jit *j, struct cpu *cpu, unsigned n, bool smc)
{
    if (j->careful_smc)
        j->stats.smc_careful -= cpu->jit_careful_left; /* not run: left the page */
    j->careful_smc = smc;
    cpu->jit_careful_left = n ? n - 1 : 0;
    cpu->jit_careful_page = (cpu->seg[SEG_CS].base + cpu->eip) & TLB_PAGE_MASK;
}

/*
 * First sight. Most of the code a guest runs while it boots runs once or
 * a few times (a kernel's init functions, its decompressor's set-up),
 * and translating a block costs ~3 us (Debian's boot: 84 K blocks, 0.25
 * s), some ten times what the careful path takes to run it once. So a
 * block met for the first time runs there, and is translated when it is
 * met again (a loop's second iteration, a function's second call). This
 * also shortens the stall a guest that times new code sees in its first
 * run (Linux's quick TSC calibration times the first passes through its
 * loop exits: 1.6-2.4 us each on the careful path, ~10 us translated;
 * docs/ARCHITECTURE.md). The filter is a hash of the block's key
 * and addresses in a direct-mapped table; a collision only makes a block
 * run careful once more, or get translated a time sooner.
 */
static bool first_sight(struct jit *j, struct cpu *cpu, const uint8_t *host, uint64_t paddr,
                        uint32_t key)
{
    const struct seg *cs = &cpu->seg[SEG_CS];
    uint64_t tag = (paddr ^ (uint64_t)(cs->base + cpu->eip) << 32 ^ (uint64_t)cs->base << 12 ^
                    (uint64_t)key * 0x100000001b3ull ^ cs->limit) *
                   0x9e3779b97f4a7c15ull;
    tag |= 1; /* never 0, an empty slot */
    uint64_t *slot = &j->seen[tag >> (64 - JIT_SEEN_BITS)];
    if (*slot == tag)
        return false;
    *slot = tag;
    /* Its instructions on the careful path, up to its end (exec.c), and
     * then the dispatcher again, at the block its end leads to. */
    struct insn insns[JIT_MAX_INSNS];
    unsigned end;
    unsigned n = tb_decode(insns, JIT_MAX_INSNS, host, (unsigned)(paddr & 0xfff),
                           (key & JK_CODE32) != 0, tb_code_room(cpu, cpu->eip), jit_ends_block,
                           &end);
    careful_run(j, cpu, n, false);
    j->stats.first_sights++;
    return true;
}

/* The block for the CPU's CS:EIP, translated if needed; NULL when the
 * careful path must run the next instruction. May raise a fetch fault. */
static struct jit_tb *find_block(struct jit *j, struct cpu *cpu)
{
    const struct seg *cs = &cpu->seg[SEG_CS];
    uint32_t eip = cpu->eip;
    /* A failed frame check asks for this block's variant without frame
     * accesses, this once (block.c); taken here so that it never carries
     * over to another block when the careful path runs this one. */
    bool noframe = cpu->jit_noframe;
    cpu->jit_noframe = 0;
    /* A 32-bit far transfer can leave EIP above FFFFh in 16-bit code:
     * the careful path wraps each instruction's IP there. */
    if (eip > cs->limit || (!cpu->code32 && eip > 0xffff))
        return NULL;
    uint64_t paddr;
    const uint8_t *host = cpu_code_page(cpu, eip, &paddr);
    if (!host)
        return NULL; /* MMIO or a hole */
    if (j->smc_careful_pages) {
        unsigned n = jit_smc_careful(j, paddr);
        if (n) {
            /* Its code keeps changing: decoded as it runs, this one and
             * the next n - 1 without asking here (exec.c). */
            j->stats.smc_turns++;
            careful_run(j, cpu, n, true);
            return NULL;
        }
    }
    uint32_t key = jit_key(cpu);
    if (noframe) {
        j->stats.frame_fails++;
        /* Its frame check failed. One that keeps failing (a frame that
         * straddles a page on every call: Debian's decompressor has such
         * a function, called 2 M times) costs a trip here each time: its
         * block is translated again without the check. */
        struct jit_tb *framed = jit_lookup(j, paddr, cs->base + eip, cs->base, cs->limit, key);
        if (framed && framed->framed && j->frame_fails_max && framed->frame_fails < 255 &&
            ++framed->frame_fails >= j->frame_fails_max) {
            jit_invalidate_block(j, framed);
            j->no_frames_next = true;
            struct jit_tb *tb = jit_translate(j, host, paddr, key, tb_code_room(cpu, eip));
            j->no_frames_next = false;
            if (tb)
                j->stats.frames_dropped++;
            return tb;
        }
        key |= JK_NOFRAME;
    }
    struct jit_tb *tb = jit_lookup(j, paddr, cs->base + eip, cs->base, cs->limit, key);
    if (tb && tb->crosses) {
        /* Its last bytes must still come from the page they were read
         * from (a fetch: a #PF is this instruction's, as the CPU's). */
        uint64_t paddr2;
        uint32_t eip2 = eip + (4096 - (uint32_t)(paddr & 0xfff));
        if (!cpu_code_page(cpu, eip2, &paddr2) ||
            (paddr2 & ~(uint64_t)0xfff) != tb->paddr2) {
            jit_invalidate_block(j, tb);
            tb = NULL;
        } else {
            tb->gen2 = cpu->tlb.generation;
        }
    }
    if (!tb && j->seen && first_sight(j, cpu, host, paddr, key))
        return NULL;
    if (!tb)
        tb = jit_translate(j, host, paddr, key, tb_code_room(cpu, eip));
    return tb;
}

/* The x87 loops dropped (JIT_X87_LOOP_REDOS): a tag of the physical
 * address and key (never 0, an empty slot) in a direct-mapped set. */
static uint64_t loop_ban_tag(uint64_t paddr, uint32_t key)
{
    return ((paddr << 24 ^ key) * 0x9e3779b97f4a7c15ull) | 1;
}

static unsigned loop_ban_slot(uint64_t paddr, uint32_t key)
{
    return (unsigned)(loop_ban_tag(paddr, key) >> 58) % JIT_X87_LOOP_BANS;
}

bool jit_x87_loop_allowed(const struct jit *j, uint64_t paddr, uint32_t key)
{
    return j->x87_loop_bans[loop_ban_slot(paddr, key)] != loop_ban_tag(paddr, key);
}

bool jit_exec(struct cpu *cpu, uint64_t budget)
{
    struct jit *j = cpu->jit;
    if (cpu->tlb.generation != j->tlb_generation) {
        j->tlb_generation = cpu->tlb.generation;
        jit_jc_tlb_changed(j);
    }
    if (cpu->jit_careful_left &&
        ((cpu->seg[SEG_CS].base + cpu->eip) & TLB_PAGE_MASK) == cpu->jit_careful_page) {
        /* Asked of the careful path (first sight, a hot SMC page, an
         * x87 loop run again): exec.c runs it when this says no, and so
         * does lockstep.c. */
        cpu->jit_careful_left--;
        return false;
    }
    /* A debugger's new breakpoint: the blocks that hold it go, and with
     * them every link and jump-cache entry into them. */
    if (cpu->dbg.brk_gen != j->brk_gen) {
        j->brk_gen = cpu->dbg.brk_gen;
        for (unsigned i = 0; i < cpu->dbg.nbrk; i++)
            jit_invalidate_at(j, cpu->dbg.brk[i]);
    }
    struct jit_tb *tb = find_block(j, cpu);
    if (!tb)
        return false;
    /* A debugger's breakpoint in the block: the careful path runs it,
     * stopping before that instruction. Such a block is never linked to
     * nor put in the jump cache (both happen below), so chained blocks
     * run on unchecked, at full speed, and still never reach one. */
    if (cpu->dbg.nbrk && cpu_dbg_break_in(cpu, tb->pc, tb->bytes))
        return false;
    j->stats.dispatches++;

    /* Link the direct exit that brought us here, if it still can be:
     * both blocks alive and the key at the exit the target's (a direct
     * exit never changes the key but for the x87 TOP, which is known at
     * translation; its block may have died since). */
    struct jit_tb *from = j->pending_from;
    if (from) {
        unsigned e = j->pending_exit;
        if (!from->dead && from->exit_eip[e] == cpu->eip &&
            from->exit_key[e] == tb->key &&
            from->cs_base == tb->cs_base && from->cs_limit == tb->cs_limit)
            jit_link(j, from, e, tb);
        j->pending_from = NULL;
    }
    /* A JK_NOFRAME variant is looked up by the dispatcher alone (its key
     * is asked for once): in the jump cache it would only push out the
     * block that indirect jumps look for. */
    if (!(tb->key & JK_NOFRAME) && jit_jc_holds(tb->key, tb->cs_base, tb->cs_limit))
        jit_jc_insert(j, tb);

    if (cpu->cc.op != CC_HOST)
        jit_flags_to_host(cpu);
    /* The first block always runs whole (a slice may overrun its budget
     * by less than one block), so that every call makes progress. */
    int32_t slice = budget > INT32_MAX - JIT_MAX_INSNS ? INT32_MAX - JIT_MAX_INSNS : (int32_t)budget;
    if (slice < tb->n)
        slice = tb->n;
    cpu->jit_budget = slice;
    cpu->code_changed = 0;
    cpu->jit_flags_stale = 0;
    j->slice = slice;
    j->running = true;
    uintptr_t code = j->enter(cpu, tb->code);
    j->running = false;
    cpu->icount += (uint64_t)(slice - cpu->jit_budget);
    if (cpu->jit_loop_redo) {
        /* An x87 loop's check failed with its run open: its entry's
         * state is back, and what it ran since runs again on the
         * careful path (gen_x87.c "Loops"). */
        careful_run(j, cpu, cpu->jit_loop_redo + 1, false);
        cpu->jit_loop_redo = 0;
        j->stats.x87_loop_redos++;
        struct jit_tb *loop = j->loop_redo_tb;
        if (loop && !loop->dead && ++loop->loop_redos >= JIT_X87_LOOP_REDOS) {
            /* Its checks keep failing: a plain block from now on. */
            j->x87_loop_bans[loop_ban_slot(loop->paddr, loop->key)] =
                loop_ban_tag(loop->paddr, loop->key);
            jit_invalidate_block(j, loop);
            j->stats.x87_loops_dropped++;
        }
    }
    if (code != JIT_EXIT_PLAIN) {
        j->pending_from = (struct jit_tb *)(code & ~(uintptr_t)JIT_EXIT_MASK);
        j->pending_exit = (unsigned)(code & JIT_EXIT_MASK);
        j->stats.exits_chain++;
    } else {
        j->stats.exits_plain++;
    }
    return true;
}

void jit_fault_unwound(struct cpu *cpu)
{
    struct jit *j = cpu->jit;
    if (!j || !j->running)
        return;
    /* The faulting instruction and the rest of its block did not run;
     * every fault comes from a handler, and jit_exec_insn counted what
     * ran before it in cpu->icount already. */
    j->running = false;
    cpu->jit_budget += cpu->jit_ileft;
    cpu->jit_ileft = 0;
    j->pending_from = NULL;
}

void jit_print_stats(const struct jit *j, FILE *f)
{
    const struct jit_stats *s = &j->stats;
    fprintf(f,
            "jit: %llu blocks translated (%llu instructions, %llu inline), %llu bytes of code, "
            "%llu cache flushes\n"
            "jit: %llu dispatches, %llu chained exits, %llu plain exits, %llu links, "
            "%llu unlinks\n"
            "jit: %llu helper calls, %llu TLB misses, %llu SMC invalidations, %llu hot SMC periods "
            "(%llu instructions run careful in them, %llu turns)\n"
            "jit: %llu frame checks failed, %llu blocks translated again without one\n"
            "jit: %llu blocks run on the careful path when first met (translated when met again)\n"
            "jit: %llu x87 exception checks in blocks' code, %llu more on side exits' ways\n"
            "jit: %llu x87 loops (their run open across the back edge), %llu of their runs "
            "run again on the careful path, %llu loops made plain blocks again\n",
            (unsigned long long)s->blocks, (unsigned long long)s->insns_translated,
            (unsigned long long)s->insns_inline, (unsigned long long)s->code_bytes,
            (unsigned long long)s->flushes, (unsigned long long)s->dispatches,
            (unsigned long long)s->exits_chain, (unsigned long long)s->exits_plain,
            (unsigned long long)s->links, (unsigned long long)s->unlinks,
            (unsigned long long)s->helper_calls, (unsigned long long)j->cpu->tlb.misses,
            (unsigned long long)s->invalidations,
            (unsigned long long)s->smc_hot, (unsigned long long)s->smc_careful,
            (unsigned long long)s->smc_turns,
            (unsigned long long)s->frame_fails, (unsigned long long)s->frames_dropped,
            (unsigned long long)s->first_sights, (unsigned long long)s->x87_checks,
            (unsigned long long)s->x87_exit_checks, (unsigned long long)s->x87_loops,
            (unsigned long long)s->x87_loop_redos, (unsigned long long)s->x87_loops_dropped);
    /* The operations most often run through their handlers: what to
     * inline next. */
    bool done[OP_COUNT] = { false };
    fprintf(f, "jit: most helper calls:");
    for (int k = 0; k < 8; k++) {
        int best = -1;
        for (int op = 0; op < OP_COUNT; op++)
            if (!done[op] && s->helper_ops[op] && (best < 0 || s->helper_ops[op] > s->helper_ops[best]))
                best = op;
        if (best < 0)
            break;
        done[best] = true;
        fprintf(f, " %s %llu", op_name((enum op)best), (unsigned long long)s->helper_ops[best]);
    }
    fprintf(f, "\n");
}
