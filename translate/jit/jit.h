/*
 * translate/jit/jit.h — the x86-64 JIT, private to translate/jit/ (the
 * rest of translate/ sees it through translate/exec.h).
 *
 * Files:
 *   x64.c      the x86-64 encoder
 *   codebuf.c  the translation cache's memory: one memory object mapped
 *              twice, writable and executable, never both at one address
 *   cache.c    blocks: lookup by key, invalidation by physical page,
 *              direct links between blocks, the jump cache, full flush
 *   block.c    translating one guest block: decode, flag liveness, the
 *              per-instruction emitters, out-of-line stubs
 *   gen_mem.c  guest memory operands: address, segment, inline TLB
 *   gen_alu.c  ALU, shifts, moves, LEA, multiply: the host's own
 *              instructions on the host registers that hold the guest's
 *   gen_ctrl.c block ends: direct jumps, Jcc, CALL/RET, indirect jumps
 *   run.c      the trampoline between C and generated code, the helper
 *              thunks, and jit_run: find, translate, link, enter
 *
 * Conventions of generated code (the "JIT ABI"):
 * - R15 holds struct cpu *. Guest EAX, ECX, EDX, EBX, EBP, ESI, EDI live in
 *   the host registers of the same number (RAX..RDI), guest ESP in R12,
 *   for the whole time generated code runs, across chained blocks; the
 *   trampoline loads them from cpu->regs on entry and stores them on exit.
 *   The same numbering keeps implicit operands (MUL's EDX:EAX, shifts by
 *   CL) and the high byte registers AH..BH meaning what they mean.
 * - R14 holds the run budget (cpu->jit_budget: instructions left), kept
 *   in memory only around helper calls and at exits.
 * - R8-R11 and R13 are scratch; RSP is the host stack, 16-byte aligned
 *   in generated code (calls go through thunks that keep it so).
 * - Guest arithmetic flags: between blocks and around every helper call
 *   they are in cpu->cc with cc.op == CC_HOST (cc.res holds LAHF's and
 *   SETO's bytes, cpu.h). Within a block they may live in the host's own
 *   EFLAGS, saved only where a later reader needs them.
 * - Every helper call goes through a thunk that stores the guest
 *   registers to cpu->regs first and reloads them after, so handlers in
 *   cpu/ see exact architectural state and may fault (longjmp) at any
 *   point.
 */
#ifndef GLASS_TRANSLATE_JIT_H
#define GLASS_TRANSLATE_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "translate/jit/x64.h"

/* Host register that holds guest register r (R_EAX..R_EDI). */
static inline unsigned jit_host_reg(unsigned guest)
{
    return guest == R_ESP ? X_R12 : guest;
}
#define JIT_CPU X_R15
/* The run budget (cpu->jit_budget) while generated code runs. */
#define JIT_BUDGET X_R14

/* ------------------------------------------------------------------ */
/* Block key                                                           */
/* ------------------------------------------------------------------ */

/*
 * Everything a block's code is specialised on, besides its physical and
 * linear address, CS base and CS limit. A block runs only under the key
 * it was translated for; instructions that can change any of this end
 * their block without chaining, so the next block is looked up again.
 */
#define JK_CODE32 (1u << 0)   /* CS.D: 32-bit code */
#define JK_STACK32 (1u << 1)  /* SS.B: ESP (not SP) */
#define JK_CPL_SHIFT 2        /* 2 bits: CPL (selects the user TLB) */
#define JK_PE (1u << 4)       /* protected mode */
#define JK_VM (1u << 5)       /* virtual-8086 mode */
#define JK_CS_FLAT (1u << 6)  /* CS base 0, limit 4 GiB: no target checks */
#define JK_AC (1u << 7)       /* alignment checks armed (CPL 3, AM, AC) */
#define JK_TRACE (1u << 8)    /* -d exec: the block logs itself */
#define JK_SEG_SHIFT 9        /* 2 bits per data segment ES..GS */
/* A block translated without frame-access coalescing (block.c): asked
 * for when a block's prologue found its frame accesses outside one TLB
 * page. In CS's two unused segment-class bits. */
#define JK_NOFRAME (1u << (JK_SEG_SHIFT + 2 * SEG_CS))
/* Paging off (CR0.PG clear): linear addresses are physical, so reads may
 * take the TLB's direct window (gen_mem.c). In CS's other spare bit. */
#define JK_NOPG (1u << (JK_SEG_SHIFT + 2 * SEG_CS + 1))
/* x87 instructions may run inline (gen_x87.c): CR0.EM and TS clear (no
 * #NM), every exception masked and none pending (no #MF), so that the
 * host's x87 computes them under the guest's control word; and the
 * guest's TOP, in the 3 bits above, so that every ST(i) is a fixed
 * physical register. Without JK_X87 the TOP bits are 0. */
#define JK_X87 (1u << 21)
#define JK_TOP_SHIFT 22
#define JK_TOP_MASK (7u << JK_TOP_SHIFT)

/* What an access through a segment needs inline (2 bits each). */
enum jit_seg_class {
    SEGK_OTHER = 0, /* anything else: the instruction runs in its handler */
    SEGK_RW = 1,    /* expand-up writable data: limit check, add base */
    SEGK_FLAT = 2,  /* base 0, limit 4 GiB, writable data: nothing */
};

/* CS's two bits hold JK_NOFRAME and JK_NOPG, never a class: an access
 * through CS (a code segment) always runs in its handler. */
static inline enum jit_seg_class jk_seg(uint32_t key, int seg)
{
    if (seg == SEG_CS)
        return SEGK_OTHER;
    return (enum jit_seg_class)((key >> (JK_SEG_SHIFT + 2 * seg)) & 3);
}

/* The key of the CPU's current state. */
uint32_t jit_key(const struct cpu *cpu);

/* hostfault.c: the SIGFPE handler that sends a host #DE at a guest
 * division (a JIT_DIVIDE_SITE: DIV/IDIV R8D, JMP +5, JMP rel32 to the
 * slow path) to its slow path. Installed once by jit_new; -1 on error. */
int jit_hostfault_install(void);

/* ------------------------------------------------------------------ */
/* Blocks                                                              */
/* ------------------------------------------------------------------ */

/* One instruction as its helper sees it: the decoded form, where it is,
 * and how many instructions of its block are left when it starts. */
struct jit_insn {
    struct insn in;
    uint32_t eip, next_eip;
    int32_t ileft;
};

/* Direct exits a block may link: its end's one or two, and the taken
 * ways of the conditional jumps it runs on through (block.c). */
#define JIT_EXITS 4

/* Tags of the first-sight filter (run.c). */
#define JIT_SEEN_BITS 16
#define JIT_SEEN_SIZE (1u << JIT_SEEN_BITS)

struct jit_tb {
    /* Key. */
    uint64_t paddr;      /* physical address of the first byte */
    uint32_t pc;         /* linear address (CS base + EIP) */
    uint32_t cs_base, cs_limit;
    uint32_t key;        /* JK_* */
    uint32_t eip;
    uint16_t bytes;      /* guest bytes covered */
    uint16_t n;          /* guest instructions */

    uint8_t *code;       /* entry, in the executable view */
    uint32_t code_size;
    uint8_t dead;        /* dropped (its page was written); memory stays
                            until the next full flush */
    /* A block of one instruction that runs on into the next linear page
     * (cache.c keeps it on both physical pages). The dispatcher checks
     * the second page's translation before running it and notes the TLB
     * generation it found it in (gen2); entered through a link or the
     * jump cache, its prologue compares gen2 with the TLB's generation
     * and leaves for the dispatcher when a flush came in between. */
    uint8_t crosses;
    /* Its prologue checks a frame (block.c), and how often that check
     * has failed (run.c: past JIT_FRAME_FAILS it is translated again
     * without one). */
    uint8_t framed, frame_fails;
    /* An x87 loop's runs sent to the careful path (gen_x87.c "Loops"; run.c:
     * past JIT_X87_LOOP_REDOS it is translated again without the loop). */
    uint8_t loop_redos;
    uint32_t gen2;       /* cpu->tlb.generation when paddr2 was checked */
    uint64_t paddr2;     /* the physical page of its last bytes */

    /* Direct exits: the rel32 field of the jump that leaves for exit i
     * (0 = none), where it jumps while unlinked (its exit stub), the
     * guest EIP it goes to, and the block it is linked to. An exit taken
     * with the guest's flags still in the host's EFLAGS first saves them
     * (its stub starts with the save); save_field is then the rel32 of
     * the jump after the save and save_stub where it goes while
     * unlinked. A target that overwrites the flags before reading them
     * (flags_in == 0) is linked from the first jump, skipping the save. */
    uint32_t exit_field[JIT_EXITS];
    uint32_t exit_stub[JIT_EXITS];
    uint32_t exit_save_field[JIT_EXITS];
    uint32_t exit_save_stub[JIT_EXITS];
    uint32_t exit_eip[JIT_EXITS];
    uint32_t exit_key[JIT_EXITS]; /* the key there: its TOP may differ (JK_X87) */
    struct jit_tb *exit_dest[JIT_EXITS];
    /* Guest flags the block reads (or may expose to a fault) before it
     * writes them: 0 lets a predecessor skip saving its flags. */
    uint32_t flags_in;
    /* Blocks whose exits are linked to this one: a list of (block, exit)
     * pairs, each encoded as the block's address + exit index; the next
     * pair of the list in which this block's exit i is kept is
     * in_next[i]. */
    uintptr_t in_first;
    uintptr_t in_next[JIT_EXITS];

    struct jit_tb *hash_next;
    struct jit_tb *page_next;
    struct jit_insn *insns; /* n records, for helpers and slow paths */
};

/*
 * The jump cache: linear pc + key -> code, probed inline by indirect
 * jumps (flat CS only) and filled by the dispatcher. A tag is
 * pc << 32 | stamp | key: the key fits in the low 25 bits, the stamp
 * (cpu->jit_jc_stamp) holds bit 31 (an empty entry never matches) and a
 * 6-bit epoch in bits 25-30 that a TLB flush advances, so that a flush
 * is an increment rather than a clear of the table.
 *
 * Code run at CPL 0-2 uses a stamp of its own (cpu->jit_jc_kstamp).
 * While all of it came from global translations (or paging is off), MOV
 * CR3 keeps them (SDM Vol. 3A 4.10.4.1) and leaves that stamp alone, so
 * a context switch no longer empties the cache of the kernel's code;
 * INVLPG advances it only for a page that may hold such code (j->kpages,
 * a filter of the pages put in the cache under it, and their range), a
 * whole flush always, and any flush once code from a non-global
 * translation went in (j->knonglobal). The key holds the CPL, so the two stamps never match
 * each other's entries.
 */
#define JIT_JC_BITS 12
#define JIT_JC_SIZE (1u << JIT_JC_BITS)
#define JIT_JC_VALID (1u << 31)
#define JIT_JC_EPOCH_ONE (1u << 25)
#define JIT_JC_EPOCH_MASK (0x3fu << 25)
_Static_assert(JK_SEG_SHIFT + 12 <= 21 && JK_TOP_SHIFT + 3 <= 25,
               "the block key fits below the jump cache epoch");

struct jit_jc_entry {
    uint64_t tag;
    uint8_t *code;
};
_Static_assert(sizeof(struct jit_jc_entry) == 16, "jump cache entry is 16 bytes");

static inline bool jit_jc_kernel(uint32_t key)
{
    return ((key >> JK_CPL_SHIFT) & 3) != 3;
}

static inline uint64_t jit_jc_tag(const struct cpu *cpu, uint32_t key, uint32_t pc)
{
    return (uint64_t)pc << 32 | (jit_jc_kernel(key) ? cpu->jit_jc_kstamp : cpu->jit_jc_stamp) |
           key;
}

/* pc bits 2-13: two host instructions in the probe (gen_jc_probe), where
 * (pc ^ pc >> 12) & 0xfff took four on the way to the target of every
 * indirect exit (make bench indirect ~3 % faster; Debian's boot makes
 * as many dispatches, 734 K against 739 K). Jump targets within 4 bytes
 * of each other share a slot; real-mode code still spreads by its
 * segment, XORed into the low half (jit_jc_seg16). */
static inline unsigned jit_jc_index(uint32_t pc)
{
    return (pc >> 2) & (JIT_JC_SIZE - 1);
}

/* Code the jump cache holds besides flat code: real-mode and
 * virtual-8086 code in a 64 KiB CS at a paragraph (DOS programs, boot
 * loaders, the BIOS). Its blocks depend on the CS base (their exits
 * store IP), so they go in under base << 12 | (IP ^ base >> 4), which
 * names one (base, IP) pair where the linear address names several (IP
 * < 64 KiB, within the limit); the selector XORed into the low half
 * spreads code at the same IP of segments 100h paragraphs apart over the
 * cache (jit_jc_index), which base << 12 | IP put in one slot. The key
 * tells both kinds apart (JK_CS_FLAT). */
static inline bool jit_jc_seg16(uint32_t key, uint32_t cs_base, uint32_t cs_limit)
{
    return !(key & JK_CS_FLAT) && (!(key & JK_PE) || (key & JK_VM)) && cs_limit == 0xffff &&
           (cs_base & ~0xffff0u) == 0;
}

/* And protected-mode code in a CS with a base or a limit (16-bit
 * protected mode: test386.asm, Windows 3.x): no address made of EIP
 * alone or of the linear one names one block, so such blocks go in under
 * their EIP and check at their entry that CS's base and limit are the
 * ones they were translated for (block.c), leaving for the dispatcher
 * at the same EIP when not. */
static inline bool jit_jc_segmented(uint32_t key)
{
    return !(key & JK_CS_FLAT) && (key & JK_PE) && !(key & JK_VM);
}

/* The address a block is looked up by in the jump cache: the linear
 * one for flat code (base 0), base << 12 | (IP ^ base >> 4) for
 * jit_jc_seg16 code, EIP for jit_jc_segmented code. */
static inline uint32_t jit_jc_pc(uint32_t key, uint32_t cs_base, uint32_t eip)
{
    if (key & JK_CS_FLAT)
        return cs_base + eip;
    return jit_jc_segmented(key) ? eip : cs_base << 12 | (eip ^ cs_base >> 4);
}

/* Whether code of `key` in this CS is looked for in the jump cache. */
static inline bool jit_jc_holds(uint32_t key, uint32_t cs_base, uint32_t cs_limit)
{
    return (key & JK_CS_FLAT) || jit_jc_seg16(key, cs_base, cs_limit) || jit_jc_segmented(key);
}

/* ------------------------------------------------------------------ */
/* The translation cache's memory (codebuf.c)                          */
/* ------------------------------------------------------------------ */

struct jit_code {
    uint8_t *rw;      /* writable view */
    uint8_t *rx;      /* executable view of the same bytes */
    size_t size;
    int fd;
    size_t ready;     /* bytes from the start prefaulted in both views */
};

/* Maps `size` bytes twice (RW and RX) near the program's text when it
 * can, so that calls to helpers fit in rel32. Returns -1 (errno set)
 * when the host refuses. */
int jit_code_map(struct jit_code *c, size_t size);
void jit_code_unmap(struct jit_code *c);
/* The host maps each page of the cache at its first touch, a fault each
 * (two: the translator's write, then the first fetch through the other
 * view): these map the pages up to `upto` ahead of use, a chunk of
 * JIT_PREFAULT_CHUNK at a time in one system call (where the host has
 * MADV_POPULATE_*, Linux 5.14; elsewhere the pages fault in as before). */
#define JIT_PREFAULT_CHUNK ((size_t)1 << 20)
void jit_code_prefault(struct jit_code *c, size_t upto);
/* The block records' arena: anonymous memory, prefaulted the same way
 * (`*ready` bytes from `base` done so far). */
uint8_t *jit_meta_map(size_t size);
void jit_meta_unmap(uint8_t *base, size_t size);
void jit_meta_prefault(uint8_t *base, size_t size, size_t *ready, size_t upto);

/* ------------------------------------------------------------------ */
/* Per-CPU JIT state                                                   */
/* ------------------------------------------------------------------ */

#define JIT_HASH_BITS 15
#define JIT_HASH_SIZE (1u << JIT_HASH_BITS)
#define JIT_PAGE_HASH_SIZE 4096u

struct jit_page; /* cache.c */

struct jit_stats {
    uint64_t blocks, flushes, insns_translated, insns_inline;
    uint64_t code_bytes;
    uint64_t links, unlinks, invalidations;
    uint64_t dispatches;
    uint64_t helper_calls;
    uint64_t helper_ops[OP_COUNT]; /* helper calls by operation */
    uint64_t exits_chain, exits_plain;
    uint64_t smc_hot, smc_careful; /* hot SMC periods, instructions run careful in them */
    uint64_t smc_turns;            /* times the dispatcher handed them over */
    uint64_t frame_fails, frames_dropped; /* failed frame checks, blocks retranslated without */
    uint64_t first_sights; /* blocks run on the careful path when first met */
    /* x87 exception checks emitted (gen_x87.c): in blocks' code, and at
     * runs' ends on side exits' ways. */
    uint64_t x87_checks, x87_exit_checks;
    /* Blocks translated as x87 loops (gen_x87.c "Loops"), their failed
     * checks that sent what the loop ran to the careful path, and the
     * loops translated again without (JIT_X87_LOOP_REDOS). */
    uint64_t x87_loops, x87_loop_redos, x87_loops_dropped;
};

/* An x87 loop's run (gen_x87.c "Loops") ends at a back edge once it
 * has been charged this many instructions: what a failed check sends
 * to the careful path again stays short (a guest that clears the x87's
 * exception flags as it goes fails one in each run). */
#define JIT_X87_LOOP_RUN 2048
/* An x87 loop whose runs keep failing their checks (IE or DE on every
 * iteration: NaNs, denormals; a guest clearing the flags in a loop
 * around it) wastes each run and then runs it carefully: after this
 * many it is translated again as a plain block, and remembered in a set
 * of this many tags. */
#define JIT_X87_LOOP_REDOS 8
#define JIT_X87_LOOP_BANS 64

/* A block whose frame check (block.c) has failed this many times is
 * translated again without one (run.c; GLASS_JIT_FRAME_FAILS=N in the
 * environment says otherwise, 0 or above 254: never). */
#define JIT_FRAME_FAILS 8

/* Code rewritten faster than translating it pays (cache.c, jit_smc_*):
 * a page whose blocks stores dropped JIT_SMC_WRITES times within
 * JIT_SMC_WINDOW retired instructions runs its next JIT_SMC_CAREFUL
 * instructions on the careful path, which decodes each as it runs and
 * so needs no translation to drop; then it is translated again. */
#define JIT_SMC_SLOTS 64u
#define JIT_SMC_WRITES 8u
#define JIT_SMC_WINDOW (1u << 20)
#define JIT_SMC_CAREFUL 4096u
/* Careful instructions granted at once (cpu->jit_careful_left): the
 * dispatcher is not asked again before each of them. */
#define JIT_SMC_STREAK 32u

struct jit_smc_page {
    uint64_t page;      /* physical page, or ~0 */
    uint64_t since;     /* cpu->icount at the first counted write */
    uint32_t writes;    /* stores that dropped its blocks since then */
    uint32_t careful;   /* instructions left on the careful path */
};

struct jit {
    struct cpu *cpu;
    struct jit_code code;
    size_t code_used;      /* bytes used in the code buffer */
    size_t code_reserved;  /* the trampoline and thunks at its start */
    uint8_t *meta;         /* blocks and their instruction records */
    size_t meta_size, meta_used;
    size_t meta_ready;     /* bytes of it prefaulted (jit_meta_prefault) */

    struct jit_tb *hash[JIT_HASH_SIZE];
    struct jit_page *pages[JIT_PAGE_HASH_SIZE];
    struct jit_jc_entry *jc;

    /* Entry points in the code buffer (executable view). */
    uintptr_t (*enter)(struct cpu *cpu, const void *code);
    uint8_t *exit_sync;    /* jmp here with R10 = exit code: stores regs, returns */
    uint8_t *thunk[8];     /* helper thunks, by JIT_THUNK_* flags */

    struct jit_stats stats;
    struct jit_smc_page smc[JIT_SMC_SLOTS];
    unsigned smc_careful_pages; /* slots with careful > 0 */
    /* GLASS_JIT_HELPERS=1 in the environment: every instruction through
     * its handler (to tell the inline code's faults from the rest of the
     * JIT's when debugging). */
    bool helpers_only;
    /* First sight (run.c): a block met for the first time runs on the
     * careful path, and is translated when met again; `seen` is a
     * direct-mapped filter of the blocks met (JIT_SEEN_SIZE tags; NULL:
     * every block translated at once). The careful instructions left
     * (cpu->jit_careful_left) are an SMC period's when `careful_smc`, a
     * first sight's otherwise. */
    uint64_t *seen;
    bool careful_smc;
    bool no_frames_next;   /* jit_translate: no frame check in the next block */
    /* The TLB's flush counters at the last look, and a filter (bit per
     * hash of a linear page) of the pages whose code is in the jump cache
     * under the kernel stamp since it last advanced. */
    uint32_t tlb_flushes_all, tlb_flushes_page, tlb_flushes_nonglobal;
    uint64_t kpages[64];
    uint32_t kpage_min, kpage_max; /* and the range of those pages */
    bool knonglobal;       /* one of those came from a non-global translation */
    unsigned frame_fails_max; /* JIT_FRAME_FAILS, or GLASS_JIT_FRAME_FAILS (tests) */
    /* Blocks not to be made x87 loops again (their checks kept failing):
     * a direct-mapped set of physical address and key tags (run.c). */
    uint64_t x87_loop_bans[JIT_X87_LOOP_BANS];
    struct jit_tb *loop_redo_tb; /* the block of the last run sent back (gen_x87.c) */

    /* Dispatcher state (run.c). */
    uint32_t tlb_generation;      /* cpu->tlb.generation the jump cache is valid for */
    uint32_t brk_gen;             /* cpu->dbg.brk_gen its blocks were checked for */
    FILE *perfmap;                /* -d perfmap: /tmp/perf-PID.map, opened on first use */
    struct jit_tb *pending_from;  /* the direct exit that just left, to link */
    unsigned pending_exit;
    int32_t slice;                /* the budget given to the running blocks */
    bool running;                 /* generated code is on the stack */
};

/* Thunk variants: save the host's flags to cpu->cc before the call /
 * load them back into the host's flags after it / call jit_trace_block
 * instead of jit_exec_insn. */
#define JIT_THUNK_SAVE_FLAGS 1
#define JIT_THUNK_LOAD_FLAGS 2
#define JIT_THUNK_TRACE 4
#define JIT_THUNKS 8

/* The exit code a block hands back: 0, or a block's address + the index
 * of a direct exit not linked yet (the dispatcher may link it). Blocks
 * are 16-byte aligned (cache.c, meta_alloc), so the low bits are free;
 * the lists of incoming links (in_first) encode (block, exit) alike. */
#define JIT_EXIT_PLAIN 0u
#define JIT_EXIT_MASK 3u
_Static_assert(JIT_EXITS <= JIT_EXIT_MASK + 1, "an exit index fits in a block address's low bits");

/* cache.c */
int jit_cache_init(struct jit *j, size_t code_size);
/* How many instructions from the one at physical address `paddr` run on
 * the careful path because its page's code is being rewritten (up to
 * JIT_SMC_STREAK, counted; 0: none). The dispatcher asks only while
 * j->smc_careful_pages is not 0. */
unsigned jit_smc_careful(struct jit *j, uint64_t paddr);
void jit_cache_free(struct jit *j);
void jit_flush(struct jit *j);
struct jit_tb *jit_lookup(struct jit *j, uint64_t paddr, uint32_t pc, uint32_t cs_base,
                          uint32_t cs_limit, uint32_t key);
/* Room for a new block of up to `code_max` bytes of code and `n`
 * instruction records; flushes the cache when full. NULL if even an
 * empty cache has no room. */
struct jit_tb *jit_tb_alloc(struct jit *j, unsigned n);
/* Enters a translated block into the lookup structures and marks its
 * page (pages) as holding code; false when there was no memory for the
 * records (the block is then never found). */
bool jit_tb_commit(struct jit *j, struct jit_tb *tb);
void jit_link(struct jit *j, struct jit_tb *from, unsigned exit, struct jit_tb *to);
void jit_jc_insert(struct jit *j, struct jit_tb *tb);
void jit_jc_flush(struct jit *j);
/* The TLB changed: the stamps its flushes can affect advance. */
void jit_jc_tlb_changed(struct jit *j);
void jit_invalidate_page(struct jit *j, uint64_t page);
/* Drops one block (a crossing block whose second page now translates
 * elsewhere). */
void jit_invalidate_block(struct jit *j, struct jit_tb *tb);
/* Drops every block whose bytes hold linear address `lin` (a debugger's
 * new breakpoint: no link or jump-cache entry may lead into it). */
void jit_invalidate_at(struct jit *j, uint32_t lin);
/* Whether the block at `paddr` under `key` may be made an x87 loop. */
bool jit_x87_loop_allowed(const struct jit *j, uint64_t paddr, uint32_t key);

/* block.c: translates the block at the CPU's CS:EIP (physical `paddr`,
 * page bytes at `host`). NULL if no instruction there can be translated
 * (the caller runs the careful path). */
struct jit_tb *jit_translate(struct jit *j, const uint8_t *host, uint64_t paddr, uint32_t key,
                             uint32_t room);

/* run.c: C helpers called from generated code. */
int jit_exec_insn(struct cpu *cpu, const struct jit_insn *ji);
int jit_trace_block(struct cpu *cpu, const struct jit_tb *tb);
void jit_flags_to_host(struct cpu *cpu);

#endif
