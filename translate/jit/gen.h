/*
 * translate/jit/gen.h — what the translator's files share while one block
 * is translated (block.c drives; gen_mem.c, gen_alu.c and gen_ctrl.c
 * emit). Private to translate/jit/.
 *
 * Flags within a block: `fl_host` says whether the host's EFLAGS hold the
 * guest's arithmetic flags right now; when it is false they are in
 * cpu->cc (CC_HOST form). `live_in` / `live_out` are the guest flags that
 * something reads before they are written again, at the start and the
 * end of the current instruction (a backward pass over the block; every
 * flag is live at the block's end).
 */
#ifndef GLASS_TRANSLATE_JIT_GEN_H
#define GLASS_TRANSLATE_JIT_GEN_H

#include "cpu/internal.h"
#include "translate/jit/jit.h"

#define JIT_MAX_INSNS 64
#define JIT_MAX_STUBS (JIT_MAX_INSNS * 2 + 8)
#define JIT_MAX_FIELDS 8

/* Scratch registers of generated code (jit.h). */
#define T_ADDR X_R11  /* address, then host pointer of a memory operand */
#define T_IDX X_R10   /* TLB index; also exit codes */
#define T_TAG X_R9    /* TLB tag compare */
#define T_VAL X_R8    /* a value in flight */
#define T_FRAME X_R13 /* the addend of the frame register's page (block.c) */

/* An out-of-line piece of code reached by jumps from the block body:
 * the slow path of an instruction (run its handler, come back), an exit
 * (leave for the dispatcher), a jump-cache probe for a constant target
 * in another page (then an exit if it misses), an x87 run's way back
 * through the handlers (gen_x87.c), or a lookup the common path skips:
 * the frame's TLB lookup when the frame window misses (block.c), a
 * paging-off read's when the direct window does (gen_mem.c); both come
 * back. Stubs are emitted in the order made, after the block; a jump
 * from one to one emitted before it is patched at once. */
enum stub_kind { STUB_SLOW, STUB_EXIT, STUB_JC, STUB_X87, STUB_FRAME, STUB_TLB };

/* Guest x87 registers held on the host's x87 stack (gen_x87.c): host
 * ST(h) holds guest physical register phys[h], h < depth; `dirty` has
 * bit p set where the host's copy of register p is newer than
 * cpu->fpu.st[p]. */
struct x87_cache {
    uint8_t depth;
    uint8_t phys[8];
    uint8_t dirty;
    uint8_t popped; /* entries the guest popped whose value waits to be
                       stored, unless a push overwrites it first */
};
/* An instruction whose flags can be made again on the host from the
 * registers it left (block.c, "fault-only flags"): TEST or CMP as they
 * were, AND/OR/XOR as a TEST of their result, 32-bit ADD/SUB as the
 * operation on the value before it, INC/DEC as themselves on it with CF
 * from cpu->cc. */
struct remat {
    uint8_t op;       /* OP_TEST, OP_CMP, OP_AND (any logic op), OP_ADD, OP_SUB,
                         OP_INC, OP_DEC (CF from cpu->cc) */
    uint8_t width;
    uint8_t dst, src; /* guest registers (byte registers: 0-3 only); src 0xff: imm */
    uint8_t regs;     /* the guest registers (bit per 32-bit register) it reads */
    uint32_t imm;
};

struct stub {
    uint8_t kind;
    uint8_t thunk;      /* STUB_SLOW: JIT_THUNK_* flags of its call */
    uint8_t tb_exit;    /* STUB_EXIT: 1 + the block's direct exit it serves */
    uint8_t save_flags; /* EXIT, JC: the host's flags hold the guest's: save first */
    uint8_t stale_flags;/* EXIT: cpu->cc may be stale: the instructions to run
                           before it is exact (cpu->jit_flags_stale) */
    uint8_t noframe;    /* EXIT: ask for the block's variant without frame accesses */
    uint8_t remat_flags;/* SLOW: cpu->cc is stale: make the flags from `remat` first */
    uint8_t reload_target;/* SLOW: T_ADDR = the EIP the handler left (an
                             indirect exit's target), then back */
    struct remat remat;
    unsigned nfields;
    size_t fields[JIT_MAX_FIELDS]; /* rel32 fields jumping here */
    const struct jit_insn *ji;     /* STUB_SLOW: the instruction */
    size_t resume;                 /* STUB_SLOW, FRAME, TLB: where to go back to */
    struct stub *fail;             /* STUB_FRAME: the exit of a frame not proved;
                                      STUB_TLB: the access's slow path */
    uint8_t access_size;           /* STUB_TLB: the read's size in bytes, */
    uint8_t access_reg;            /* the host register with its address */
    uint8_t emitted;               /* its code is at `pos` (emit_stubs) */
    size_t pos;
    uint32_t eip;                  /* EXIT, JC, X87: guest EIP to leave at */
    uint32_t key;                  /* JC: the key to look the target up under */
    uint8_t x87_drop;              /* X87: host x87 registers to pop first, */
    uint8_t x87_from;              /* then the run's instructions from this one */
    uint8_t x87_side;              /* X87: then out at `eip` (a side exit's target) */
    uint8_t x87_rollback;          /* X87: instead, the x87 loop's entry state back (gen.h) */
    int32_t budget_back;           /* EXIT, JC: instructions not run */
    uint64_t exit_code;            /* EXIT: what the block hands back */
};

struct jit_ctx {
    struct jit *j;
    struct x64_asm *a;
    uintptr_t exec_base;   /* executable address of a->buf[0] */
    struct jit_tb *tb;
    uint32_t key;

    /* The current instruction. */
    const struct insn *in;
    struct jit_insn *ji;
    unsigned idx;          /* in the block */
    uint32_t eip, next_eip;
    uint32_t live_in, live_out;
    int slow;              /* its slow-path stub, or -1 */
    size_t resume;         /* where its slow path comes back to; 0: after it */

    bool fl_host;
    bool ended;            /* the block's end has been emitted */
    unsigned nexits;       /* direct exits given an index (tb->exit_*) */
    /* The budget charged once instruction k has run (block.c: a stretch
     * up to the next side exit at a time), and for the current one. */
    const uint8_t *charge;
    unsigned charged;
    /* Fault-only flags (block.c): `live_real_in` are the flags some
     * instruction reads before they are written again (the block's end
     * reading them all), not counting a fault's need of them. When only
     * a fault could still see the host's flags, they are not saved:
     * `fl_lazy` says cpu->cc is stale and `remat` (valid while
     * `remat_ok`) makes them again where a slow path or a reader needs
     * them. */
    uint32_t live_real_in;
    bool fl_lazy, remat_ok;
    struct remat remat;

    /* Frame accesses (block.c, coalescing): the guest register whose
     * [reg + disp] operands the prologue proved to lie in one TLB page,
     * whose host addend is then in T_FRAME (-1: none). */
    int frame_reg;
    /* Bit k: instruction k's accesses are among those the prologue
     * proved (the plan's own list: an access the plan left out never
     * goes through the frame, whatever its form). */
    uint64_t frame_insns;
    /* The frame the prologue proves, [frame_reg + frame_lo, frame_reg +
     * frame_hi], written or only read (its lookup, block.c). */
    int64_t frame_lo, frame_hi;
    bool frame_write;
    /* ESP is R12 + esp_pending (gen_ctrl.c "Deferred ESP"): in an ESP
     * frame block, pushes, pops and ADD/SUB ESP with dead flags only
     * count here; gen_esp_sync adds it to R12 before anything else reads
     * or writes ESP, or can leave the block or call a handler. */
    int32_t esp_pending;
    /* The current instruction's memory operand as the host addresses it
     * (set by gen_mem_operand). */
    struct x64_rm mem_rm;

    /* x87 (gen_x87.c). Under JK_X87 the guest's TOP is known at every
     * point of the block (`top`). Within a run of inline x87
     * instructions the registers they use stay on the host's x87 stack
     * (`x87`), spilled at the run's end; `x87_used` / `x87_empty` are
     * registers proved in use / empty on the way here; `x87_cw`: the
     * host's control word is the guest's; `x87_bad`: cpu->jit_x87_bad
     * holds this run's mask; `x87_ptr`: the FIP/FCS/FOP of the last
     * inline instruction (x87_fip, x87_fop) are still to be stored.
     * The run (x87_run, from instruction x87_from to x87_last, TOP
     * x87_top0 at its start) leaves cpu->fpu as it found it until its
     * end, where its exceptions are checked and then its state stored
     * (gen_x87.c): the tag bits to set and clear, C1 to clear, the
     * registers whose value waits in cpu->jit_x87_spill (x87_scratch),
     * those first pushed in this run (x87_fresh: empty at its start,
     * so their memory may be written at once), those it has touched,
     * and whether the host's flags were checked since the last
     * operation that can raise an exception (x87_checked). */
    unsigned top;
    struct x87_cache x87;
    uint8_t x87_used, x87_empty;
    /* Registers the run needs in use / empty at its start, tested at
     * its end (check_tags). */
    uint8_t x87_want_used, x87_want_empty;
    bool x87_cw, x87_bad, x87_ptr;
    uint32_t x87_fip;
    uint16_t x87_fop;
    bool x87_run, x87_checked, x87_c1_clear;
    /* The guest's C1 is the host's, from the run's last operation: taken
     * at the run's end (on a side exit's way; the way on overwrites it). */
    bool x87_c1_host;
    /* Registers the run's memory operands were addressed with, and
     * whether it set the guest's flags (FCOMI): what an integer
     * instruction inside the run must leave alone (gen_x87.c). */
    uint8_t x87_addr_regs;
    bool x87_wrote_flags;
    unsigned x87_from, x87_last, x87_top0;
    uint8_t x87_tag_set, x87_tag_clr, x87_scratch, x87_fresh, x87_touched;
    /* The run is being ended on a side exit's way (gen_x87_end_at_exit):
     * its X87 stubs leave for x87_exit_eip, `x87_exit_retired`
     * instructions of the block having run. */
    bool x87_exit;
    uint32_t x87_exit_eip;
    unsigned x87_exit_retired;
    /* An x87 loop (gen_x87.c, "Loops"): a block whose last instruction
     * jumps back to its first, one run of x87 instructions from there.
     * The first translation finds one (`x87_loop_seen`); the second
     * (`x87_loop`) saves the state at the entry, translates the body
     * twice (`x87_copy2`: the second time, from the translator's state at
     * the first copy's back edge, `x87_loop_state`, a prefix of a
     * struct jit_ctx) and keeps the run open across the back edges:
     * `x87_loop_jump` is the first copy's jump to the second, at
     * `x87_loop_body`. While `x87_loop_run` (that run open) a failed
     * check puts the entry's state back and leaves for the careful path
     * (gen_x87_stub); `x87_loop_stale`: the entry's stale flags. */
    bool x87_loop, x87_loop_seen, x87_loop_run, x87_copy2;
    bool x87_first_run; /* a run opened at the block's first instruction */
    uint8_t x87_loop_stale;
    size_t x87_loop_jump, x87_loop_body;
    unsigned char *x87_loop_state;
    /* Where the X87 stubs of the run starting at each instruction call
     * its handlers (gen_x87_stub; 0: not emitted yet). */
    size_t x87_chain[JIT_MAX_INSNS];
    /* The block's decoded instructions (for looking ahead). */
    const struct insn *insns;
    unsigned ninsns;

    struct stub stubs[JIT_MAX_STUBS];
    unsigned nstubs;
};

/* Whether `in` ends a JIT block (block.c): what the decoder stops at. */
bool jit_ends_block(const struct insn *in);

/* Flags every instruction form handled natively reads and writes
 * (FL_ARITH bits); block.c's liveness pass uses them. */
void jit_insn_flags(const struct insn *in, uint32_t *reads, uint32_t *writes);

/* ---- block.c: flags, helpers, stubs -------------------------------- */

/* Stores the host's flags to cpu->cc if they hold live guest flags: call
 * before emitting anything that clobbers the host's flags. */
void gen_flags_to_cpu(struct jit_ctx *c);
/* Fault-only flags made again on the host (nothing if there are none). */
void gen_flags_settle(struct jit_ctx *c);
/* As gen_flags_to_cpu, and cpu->cc is then exact (never fault-only):
 * before code whose slow paths are not STUB_SLOW ones. */
void gen_flags_save(struct jit_ctx *c);
/* Makes the host's flags hold the guest's (from cpu->cc if needed). */
void gen_flags_to_host(struct jit_ctx *c);
/* Makes the host's CF hold the guest's, the other host flags being about
 * to be overwritten (INC/DEC, ADC/SBB, RCL/RCR with CF live). */
void gen_cf_to_host(struct jit_ctx *c);
/* A new stub of `kind`, and a jump (condition cc, or always) to it. */
struct stub *gen_stub_new(struct jit_ctx *c, enum stub_kind kind);
void gen_stub_jump(struct jit_ctx *c, struct stub *s, int cc);
/* Whether instruction k is a forward Jcc the block runs on through,
 * leaving by a side exit when it is taken. */
bool gen_side_exit_at(const struct jit_ctx *c, unsigned k);
/* The current instruction through its handler in cpu/ (a helper call). */
void gen_helper(struct jit_ctx *c);
/* The slow-path stub of the current instruction (created on first use);
 * emits a jump with condition `cc` (or unconditional when cc < 0) to it. */
void gen_jump_slow(struct jit_ctx *c, int cc);
/* That stub, made ready as gen_jump_slow does, without a jump to it. */
struct stub *gen_slow_stub(struct jit_ctx *c);
/* A STUB_TLB's code: the TLB lookup of a read that missed the direct
 * window, then back (gen_mem.c). */
void gen_tlb_lookup_stub(struct jit_ctx *c, const struct stub *s);
/* Leaves the block for the dispatcher at guest `eip` (a jump to an exit
 * stub, with condition cc, or unconditional when cc < 0); `retired`
 * instructions of the block have completed. Returns the stub. */
struct stub *gen_jump_exit(struct jit_ctx *c, int cc, uint32_t eip, unsigned retired);
/* A jump (condition cc, or always) to a jump-cache probe for constant
 * `eip`, then an exit there if it misses. */
struct stub *gen_jump_jc(struct jit_ctx *c, int cc, uint32_t eip, unsigned retired);
/* Marks the current position as where the instruction's slow path
 * comes back to (by default: after everything it emitted). */
void gen_esp_sync(struct jit_ctx *c);
static inline void gen_mark_resume(struct jit_ctx *c)
{
    gen_esp_sync(c); /* the handler leaves ESP whole: resume past the add */
    c->resume = c->a->pos;
}
/* The jump-cache probe for the linear pc in register `pc` (32 bits),
 * for a block of key `key`: jumps to the block on a hit, falls through
 * on a miss. Clobbers T_IDX, T_TAG, T_VAL and the host's flags. */
void gen_jc_probe(struct jit_ctx *c, unsigned pc, uint32_t key);
/* The block key at this point of the block, as the code after it is
 * looked up and linked under: the x87 TOP may have moved since its
 * entry, and JK_NOFRAME is this block's own (a variant the dispatcher
 * asked for once, run.c), never its successors'. */
static inline uint32_t gen_key_now(const struct jit_ctx *c)
{
    uint32_t key = c->key & ~JK_NOFRAME;
    if (!(key & JK_X87))
        return key;
    return (key & ~JK_TOP_MASK) | (uint32_t)(c->top & 7) << JK_TOP_SHIFT;
}

/* Offsets of struct cpu fields for [R15 + disp] operands. */
#define CPU_OFF(field) ((int32_t)offsetof(struct cpu, field))
static inline struct x64_rm cpu_field(int32_t off)
{
    return x64_m(x64_mem(JIT_CPU, off));
}

/* ---- gen_mem.c ----------------------------------------------------- */

/* Whether `in`'s memory operand is one the block's prologue proved in
 * one page through its frame register (no lookup needed). */
bool gen_mem_is_frame(const struct jit_ctx *c, const struct insn *in);
/* The memory operand of `in` for an inline access of `size` bytes: a
 * frame access costs nothing; otherwise the live flags are saved, the
 * address computed and translated (a miss jumps to the slow path). Sets
 * and returns c->mem_rm. */
struct x64_rm gen_mem_operand(struct jit_ctx *c, const struct insn *in, unsigned size,
                              bool write);

/* Whether `in`'s ModRM memory operand can be accessed inline under the
 * block's key (its segment's class, no alignment checks). */
bool gen_mem_ok(const struct jit_ctx *c, const struct insn *in);
/* Computes the offset of `in`'s memory operand into `reg` (32 bits,
 * wrapped to the address size). */
void gen_ea(struct jit_ctx *c, const struct insn *in, unsigned reg);
/* Checks segment `seg` for an access of `size` bytes at the offset in
 * T_ADDR, translates it through the TLB for a read or a write and leaves
 * the host address in T_ADDR; on a miss, jumps to the slow path. Clobbers
 * T_IDX and T_TAG and the host's flags (call gen_flags_to_cpu first). */
void gen_access(struct jit_ctx *c, int seg, unsigned size, bool write);
/* The same for a stack access at the offset in `reg` (T_ADDR or
 * T_VAL), leaving the host pointer in that register. */
void gen_access_reg(struct jit_ctx *c, int seg, unsigned size, bool write, unsigned reg);
/* Whether the stack can be accessed inline (SS's class; with SS.B clear
 * through SP, gen_ctrl.c). */
bool gen_stack_ok(const struct jit_ctx *c);

/* ---- gen_alu.c / gen_ctrl.c --------------------------------------- */

/* Emit the current instruction natively; false if the form is not
 * handled (the caller then calls its helper). Nothing is emitted when
 * they return false. */
bool gen_alu(struct jit_ctx *c);
bool gen_ctrl(struct jit_ctx *c);
/* gen_string.c: LODS, STOS, MOVS, SCAS, CMPS without REP. */
bool gen_string(struct jit_ctx *c);

/* ---- gen_x87.c ------------------------------------------------------ */

/* The block's x87 state at its entry (from the key). */
void gen_x87_start(struct jit_ctx *c);
/* The current instruction on the host's x87, if it is an x87 form done
 * inline under the key; false if not (then its helper runs, after
 * gen_x87_end). */
bool gen_x87(struct jit_ctx *c);
/* Ends a run of inline x87 instructions: its exceptions checked (a
 * failed check runs the run again through the handlers and leaves the
 * block), then the registers held on the host's stack go back to
 * cpu->fpu, with TOP, the tags, C1 and the last one's pointers. The
 * guest flags may move from the host's to cpu->cc. Call before
 * anything else than gen_x87. */
void gen_x87_end(struct jit_ctx *c);
/* The run ended on the way of a side exit to `eip` taken after
 * `retired` instructions (the integer ones inside the run, and the Jcc,
 * have run: a failed check runs the run's x87 instructions again and
 * then leaves for `eip`). The caller keeps the translator's state of the
 * way on (gen_ctrl.c). */
void gen_x87_end_at_exit(struct jit_ctx *c, uint32_t eip, unsigned retired);
/* After the current instruction ran through its helper: what the helper
 * may have changed of the x87 state is no longer known; an x87 or
 * FXRSTOR helper that left TOP elsewhere than expected, or the state no
 * longer fit for JK_X87, leaves the block after it. */
void gen_x87_after_helper(struct jit_ctx *c);
/* An x87 loop's entry (gen_x87.c "Loops"): the state a failed check
 * puts back. */
void gen_x87_loop_entry(struct jit_ctx *c);
/* At the back edge of an x87 loop, its run open (gen_ctrl.c): whether
 * it can go on into the second copy of the body from here (the first
 * copy; the second when its state is the one it started from). */
bool gen_x87_loop_can_jump(struct jit_ctx *c);
/* Into the second copy, the run open (the host's stack arranged as it
 * expects). The translator's state stays as it was. */
void gen_x87_loop_jump(struct jit_ctx *c);
/* Whether instruction k is the block's last and a direct jump back to
 * its first that an x87 loop can take (gen_ctrl.c). */
bool gen_ctrl_x87_loop_edge(const struct jit_ctx *c, unsigned k);
bool gen_ctrl_esp_folds(const struct jit_ctx *c, const struct insn *in);
/* An X87 stub's code: drop the host's x87 stack, run the run's
 * instructions up to the stub's through their handlers, then leave the
 * block after it. */
void gen_x87_stub(struct jit_ctx *c, const struct stub *s);

/* An exit to the dispatcher at `eip`, giving back `budget_back`
 * instructions not run (block.c). */
void gen_exit_at(struct jit_ctx *c, uint32_t eip, int32_t budget_back);

/* Exits at the block's end (gen_ctrl.c). */
void gen_exit_direct(struct jit_ctx *c, int cc, uint32_t target, unsigned retired);
void gen_exit_indirect(struct jit_ctx *c, unsigned eip_reg, unsigned retired);
/* After a far transfer's handler in real-mode code (jit.h jit_jc_seg16):
 * the jump cache under the new CS base << 12 | IP, then the dispatcher. */
void gen_exit_far16(struct jit_ctx *c, unsigned eip_reg, unsigned retired);
void gen_exit_plain(struct jit_ctx *c, unsigned retired);

#endif
