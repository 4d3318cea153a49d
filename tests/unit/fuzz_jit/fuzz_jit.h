/*
 * fuzz_jit.h — what the parts of the JIT-against-the-careful-path fuzz
 * test share (tests/unit/test_fuzz_jit.c, whose top comment says what the
 * test does; internal to it): the guest's memory layout and selectors, the
 * generator's state, the runner's, and the functions one part calls in
 * another. The parts, in tests/unit/fuzz_jit/:
 *   emit.c         random numbers, code emission, the registers and flags
 *                  the generator follows, operands and their encoding
 *   gen_mem.c      memory operands
 *   gen_data.c     data instructions (ALU, shifts, moves, bits...), flag
 *                  readers, the choice of a data instruction
 *   gen_stack.c    PUSH/POP, PUSHA/POPA, PUSHF/POPF
 *   gen_rare.c     CPUID, BCD, XLAT, x87, port I/O
 *   gen_control.c  branches, loops, calls, switches, indirect jumps
 *   gen_string.c   string instructions
 *   gen_smc.c      self-modifying code
 *   gen_system.c   segment loads, rings, paging, real mode, faults
 *   gen_frame.c    stack frames and frame runs
 *   program.c      bodies, functions, whole programs (fj_generate)
 *   machine.c      the test device, the base image and the guest's handler
 *   run.c          running under both engines, comparing
 *   minimise.c     minimising a divergence, its report
 * and test_fuzz_jit.c the tests that drive them.
 */
#ifndef GLASS_TESTS_FUZZ_JIT_H
#define GLASS_TESTS_FUZZ_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/internal.h"
#include "memory/memory.h"

/* ------------------------------------------------------------------ */
/* Layout (physical = linear: paging maps identically but for the      */
/* special pages)                                                      */
/* ------------------------------------------------------------------ */

#define FJ_RAM_SIZE 0x200000u
#define FJ_IVT 0x0000u          /* real mode: every vector to a HLT */
#define FJ_REAL_HLT 0x0600u
#define FJ_GDT 0x1000u
#define FJ_GDT_ENTRIES 16u
#define FJ_IDT 0x2000u
#define FJ_TSS 0x2800u
#define FJ_TSS_LIMIT 0x67u
#define FJ_HANDLER 0x3000u      /* stubs and the handler, ring 0 */
#define FJ_LOG 0x4000u          /* 256 records of 16 bytes, a ring */
#define FJ_VARS 0x5000u
#define FJ_VAR_CURSOR (FJ_VARS + 0)
#define FJ_VAR_COUNT (FJ_VARS + 4)
#define FJ_PD 0x6000u
#define FJ_PT0 0x7000u          /* 0-4 MiB */
#define FJ_PT_MMIO 0x8000u      /* 4 MiB at FJ_MMIO */
#define FJ_STACK0 0x10000u      /* ring-0 stack top (ESP0), down to 0x9000 */
#define FJ_STACK3 0x20000u      /* ring-3 stack top */
#define FJ_CODE 0x40000u        /* code: the program, functions, 64 KiB */
#define FJ_CODE_SIZE 0x10000u
#define FJ_MAIN_END (FJ_CODE + 0xc000u)
#define FJ_FUNCS FJ_MAIN_END
#define FJ_FUNCS_END (FJ_CODE + FJ_CODE_SIZE)
#define FJ_LENS 0x50000u        /* a byte per code byte: the instruction's length */
#define FJ_DATA 0x80000u        /* tables, then random data */
#define FJ_TAB_FUNC32 (FJ_DATA + 0x000u) /* function addresses (32 and 16 bits) */
#define FJ_TAB_FUNC16 (FJ_DATA + 0x040u)
#define FJ_TAB_FAR (FJ_DATA + 0x080u)    /* far pointers: 16 x (offset32, sel) */
#define FJ_TAB_FAR16 (FJ_DATA + 0x100u)  /* 16 x (offset16, sel) */
#define FJ_TAB_TEMPL (FJ_DATA + 0x180u)  /* code templates for REP MOVS into code */
#define FJ_TAB_IDTR (FJ_DATA + 0x1c0u)   /* LIDT images: real-mode IVT, then the IDT */
#define FJ_TAB_SWITCH (FJ_DATA + 0x200u) /* jump tables */
#define FJ_TAB_SWITCH_END (FJ_DATA + 0x1000u)
#define FJ_RAND (FJ_DATA + 0x1000u)      /* random data: ordinary memory operands */
#define FJ_DATA_END 0x100000u
#define FJ_SPECIAL 0x100000u    /* pages whose PTEs programs play with */
#define FJ_SPECIAL_PAGES 64u
#define FJ_SPECIAL_END (FJ_SPECIAL + FJ_SPECIAL_PAGES * 4096u)
#define FJ_MMIO 0xd0000000u     /* a 4 KiB device */
#define FJ_HOLE 0xd0010000u     /* nothing: reads all ones */
#define FJ_UNMAPPED 0xd0020000u /* not present when paging, a hole without */
#define FJ_PORT 0x3e0u          /* 8 ports of the same device */

#define FJ_MAX_FAULTS 20000u    /* the handler halts after this many */
#define FJ_BUDGET 3000000u

enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x1b, SEL_DATA3 = 0x23, SEL_TSS = 0x28,
    SEL_CODE16 = 0x30, SEL_DATA16 = 0x3b, SEL_STACK16 = 0x40, SEL_DATAB = 0x4b,
    SEL_SMALL = 0x53, SEL_RO = 0x5b, SEL_EXPDOWN = 0x63, SEL_NP = 0x6b, SEL_HIBASE = 0x73,
    SEL_STACKB = 0x78, /* a 32-bit stack segment based at FJ_STACKB_BASE */
};
#define FJ_STACKB_BASE 0x1000u

/* ------------------------------------------------------------------ */
/* The device: MMIO page and ports, whose accesses are hashed in order */
/* ------------------------------------------------------------------ */

struct fj_dev {
    uint64_t hash;
    uint32_t count;
    uint32_t regs[16];
};

/* ------------------------------------------------------------------ */
/* Code emission: labels, fixups, the instruction list                 */
/* ------------------------------------------------------------------ */

#define FJ_MAX_LABELS 8192
#define FJ_MAX_FIXUPS 16384
#define FJ_MAX_INSNS 24000

enum fix_kind { FIX_REL8, FIX_REL16, FIX_REL32, FIX_ABS16, FIX_ABS32 };

struct fj_label {
    uint32_t at;     /* linear address */
    bool placed;
    uint32_t undef;  /* flags undefined on some way here (jumps to it) */
};

struct fj_fixup {
    uint32_t at;     /* where the field is (linear; FIX_ABS* may be in data) */
    uint32_t next;   /* REL*: the end of the instruction */
    uint16_t label;
    uint8_t kind;
};

/* One emitted instruction, for the handler's length table and the
 * minimiser. */
struct fj_insn {
    uint32_t at;
    uint8_t len;
};

/* What the generator knows about a segment register. */
struct fj_seg {
    uint16_t sel;
    uint32_t base, limit;
    bool usable;     /* holds a present data or code segment */
    bool writable, readable, expdown, big;
};

enum fj_mode { FJ_FLAT, FJ_USER, FJ_PAGING, FJ_PAGING_USER, FJ_PM16, FJ_MODES };
extern const char *const fj_mode_name[FJ_MODES]; /* test_fuzz_jit.c */

/* State of a special page (paging). */
enum sp_state { SP_NORMAL, SP_NOTPRESENT, SP_FIXABLE, SP_READONLY, SP_SUPER, SP_ALIAS,
                SP_STATES };

/* How a program starts. */
struct fj_start {
    enum fj_mode mode;
    uint32_t regs[8];
    uint32_t eflags;
    uint32_t cr0, cr4;
    uint16_t cs, ss, ds, es, fs, gs;
    uint8_t cpl;
    uint32_t eip;
    uint32_t end_eip; /* after the program's HLT */
};

struct gen {
    uint8_t *img;        /* the program's RAM image */
    uint32_t pos;        /* linear address of the next code byte */
    uint32_t limit;      /* end of the area being written */
    uint32_t cs_base;    /* offsets in CS = linear - cs_base */
    bool code32, stack32;
    int cpl;
    bool paging;
    bool real;           /* in a real-mode excursion */
    enum fj_mode mode;
    bool tolerate;       /* fuzz_undef_tolerate() */

    uint32_t known;      /* registers whose value is known */
    uint32_t val[8];
    uint32_t reserved;   /* registers nothing may write (ESP, loop counters) */
    bool esp_known;      /* false in functions (called at various depths) */
    struct fj_seg seg[SEG_COUNT];
    uint32_t undef;      /* flags now undefined (while tolerating) */
    int df;              /* DF: 0, 1 or -1 (unknown) */
    int depth;           /* nesting of loops and branches */
    bool in_func;
    uint32_t func_regs;  /* what a function may write */
    uint64_t weight;     /* how many times the current code may run */
    uint64_t dyn;        /* instructions the program may execute */

    uint8_t sp[FJ_SPECIAL_PAGES]; /* enum sp_state, while paging */
    uint32_t sp_frame[FJ_SPECIAL_PAGES];

    struct fj_label labels[FJ_MAX_LABELS];
    unsigned nlabels;
    struct fj_fixup fix[FJ_MAX_FIXUPS];
    unsigned nfix;
    struct fj_insn insns[FJ_MAX_INSNS];
    unsigned ninsns;
    uint32_t insn_start;
    bool full;           /* an area or a table ran out: stop adding */

    /* Functions: entry, patchable MOV EAX imm32 field (0: none), and
     * how many bytes of arguments RET pops (or the caller, if caller_pops). */
    unsigned nfuncs;
    uint32_t func_at[8], func_patch[8], func_args[8];
    bool func_caller_pops[8];
    bool no_esp_base;     /* the next memory operand may not use ESP (POP m) */
    bool shrt;            /* in a body a short jump must get over: small items */
    bool force_disp;      /* the next memory operand: a displacement only (moffs) */
    /* A frame run (fj_gen_frame_run): memory operands are [force_base + disp]
     * in SS, reaching linear [frame_lo, frame_hi); -1 otherwise. */
    int force_base;
    uint32_t frame_lo, frame_hi;
    uint32_t switch_next; /* next free jump-table byte */
    uint32_t templ_len;   /* bytes of the code template (FJ_TAB_TEMPL) */
};

/* ------------------------------------------------------------------ */
/* Registers and flags the generator keeps track of                    */
/* ------------------------------------------------------------------ */

#define RBIT(r) (1u << (r))
#define ALL_REGS 0xffu
#define F_ALL FL_ARITH

/* ------------------------------------------------------------------ */
/* Operands and encoding                                               */
/* ------------------------------------------------------------------ */

/* A ModRM operand: a register, or memory with its encoding. */
struct rm {
    bool mem;
    uint8_t reg;          /* register number (byte registers: AL..BH) */
    uint8_t mod, rmf;     /* memory: ModRM mod and r/m fields */
    bool has_sib;
    uint8_t sib;
    uint8_t disp_size;
    uint32_t disp;
    bool a16;
    int seg_prefix;       /* -1: none */
    bool unsafe;          /* may fault */
    uint32_t lin;         /* the linear address it accesses */
};

enum mem_kind { MK_DATA, MK_STACK, MK_TABLES, MK_CODE, MK_SPECIAL, MK_MMIO, MK_HOLE, MK_UNMAPPED,
                MK_RAM_END, MK_EDGE, MK_KINDS };

/* ---- control flow ------------------------------------------------- */

#define FJ_MAX_DYN 60000u /* instructions a program may execute, estimated */

/* ------------------------------------------------------------------ */
/* Running and comparing                                               */
/* ------------------------------------------------------------------ */

enum { W_REGS = 0, W_EIP = 8, W_EFLAGS, W_SEGS, W_SYS = W_SEGS + 4 * SEG_COUNT,
       W_FPU = W_SYS + 14, W_DEV = W_FPU + 4 + 8 * 3, W_COUNT = W_DEV + 3 };

struct fj_out {
    enum cpu_exit why;
    uint32_t w[W_COUNT];
    uint64_t icount;
};

struct fj {
    uint8_t *ram, *base, *image, *after;
    struct phys_mem *pm;
    struct io_space *io;
    struct cpu *cpu;
    struct fj_dev dev;
    struct gen *g;
    struct fj_start st;
    uint64_t budget;
    bool log;
    /* Following undefined flags on the careful path (fj_trace). */
    bool verbose; /* GLASS_FUZZ_JIT_VERBOSE: each program's end, undefined flags seen */
    bool track, in_handler, seen;
    uint32_t undef, prev_lin, pushf_pending, last_w, last_e;
    /* statistics */
    uint64_t jit_insns, careful_insns, faults;
    unsigned programs, rejected, ended_at_end, ended_elsewhere, budget_ends, shutdowns, tainted;
};

enum fj_verdict { FJ_SAME, FJ_DIFF, FJ_INEXACT, FJ_TAINTED };

/* ------------------------------------------------------------------ */
/* Shared functions and variables, by the file that defines them       */
/* ------------------------------------------------------------------ */

/* emit.c */
extern uint64_t fj_rng;
extern const uint8_t fj_seg_prefix_byte[SEG_COUNT];
uint32_t fj_rnd(void);
uint32_t fj_below(uint32_t n);
bool fj_chance(unsigned percent);
uint64_t fj_mix(uint64_t x);
uint32_t fj_value(void);
void fj_put16(uint8_t *img, uint32_t at, uint16_t v);
void fj_put32(uint8_t *img, uint32_t at, uint32_t v);
uint32_t fj_get32(const uint8_t *img, uint32_t at);
void fj_b1(struct gen *g, uint8_t v);
void fj_b2(struct gen *g, uint16_t v);
void fj_b4(struct gen *g, uint32_t v);
void fj_bimm(struct gen *g, unsigned size, uint32_t v);
void fj_ins_begin(struct gen *g);
void fj_ins_end(struct gen *g);
unsigned fj_label_new(struct gen *g);
void fj_label_place(struct gen *g, unsigned l, bool falls_through);
void fj_fixup(struct gen *g, unsigned label, enum fix_kind kind, uint32_t at, uint32_t next);
bool fj_fixups_apply(struct gen *g);
bool fj_reg_known(const struct gen *g, unsigned r);
void fj_reg_set(struct gen *g, unsigned r, uint32_t v);
void fj_clobber(struct gen *g, unsigned r);
uint32_t fj_writable_regs(const struct gen *g);
int fj_pick_reg(uint32_t mask);
int fj_pick_dst(struct gen *g, unsigned size);
void fj_clobber_sized(struct gen *g, unsigned r, unsigned size);
void fj_need_flags(struct gen *g, uint32_t reads);
void fj_flags_written(struct gen *g, uint32_t w, uint32_t u);
struct rm fj_rm_reg(unsigned r);
void fj_emit_prefixes(struct gen *g, unsigned opsize, const struct rm *m, uint8_t extra);
void fj_emit_op(struct gen *g, unsigned opsize, const uint8_t *opc, unsigned nopc, unsigned regf,
                const struct rm *o, unsigned imm_size, uint32_t imm);
unsigned fj_vsize(const struct gen *g);
void fj_set_reg(struct gen *g, unsigned r, uint32_t v);
void fj_emit_sanitizer(struct gen *g, bool keep);

/* gen_mem.c */
bool fj_seg_allows(const struct fj_seg *s, uint32_t off, unsigned size, bool write);
bool fj_kind_range(const struct gen *g, enum mem_kind k, uint32_t *lo, uint32_t *hi);
int fj_default_seg(const struct rm *o);
bool fj_encode_offset(struct gen *g, uint32_t off, bool a16, uint32_t avoid, bool via_esp,
                      struct rm *o);
bool fj_make_mem(struct gen *g, unsigned size, bool write, bool may_fault, uint32_t avoid,
                 struct rm *o);

/* gen_data.c */
unsigned fj_pick_width(void);
unsigned fj_osz(unsigned w);
uint32_t fj_cond_flags(unsigned cc);
bool fj_pick_rm(struct gen *g, unsigned w, bool dst, bool mem, bool write, bool unsafe_ok,
                uint32_t avoid, struct rm *o);
void fj_clobber_rm(struct gen *g, const struct rm *o, unsigned w);
void fj_before(struct gen *g, uint32_t reads, const struct rm *o, bool faults);
void fj_gen_alu2(struct gen *g);
void fj_gen_test(struct gen *g);
void fj_gen_unary(struct gen *g);
void fj_gen_data_insn(struct gen *g);

/* gen_stack.c */
void fj_esp_add(struct gen *g, int32_t d);
void fj_gen_push_pop(struct gen *g);
/* An ALU operation (81 /digit) of `w` bytes on [ESP] with an immediate. */
void fj_emit_esp_imm(struct gen *g, unsigned w, unsigned digit, uint32_t imm);
void fj_gen_pushf_popf(struct gen *g);

/* gen_rare.c */
void fj_gen_rare(struct gen *g);
void fj_gen_x87_mem(struct gen *g);

/* gen_control.c */
void fj_emit_jump(struct gen *g, int cc, unsigned l, bool shrt);
void fj_gen_if(struct gen *g);
void fj_gen_loop(struct gen *g);
void fj_gen_call_k(struct gen *g, unsigned k);
void fj_gen_call(struct gen *g);
void fj_gen_switch(struct gen *g);
void fj_gen_jmp_indirect(struct gen *g);

/* gen_string.c */
int fj_seg_reaching(const struct gen *g, uint32_t lo, uint32_t len, bool write, bool a16, int only);
void fj_gen_string(struct gen *g);

/* gen_smc.c */
uint32_t fj_emit_patchable(struct gen *g, unsigned r, uint32_t v);
uint32_t fj_emit_store_disp(struct gen *g, int s, uint32_t lin, unsigned size, uint32_t v);
void fj_gen_smc(struct gen *g);

/* gen_system.c */
extern const uint8_t *fj_gdt_image;
struct seg fj_desc_seg(uint16_t sel);
struct fj_seg fj_seg_of(uint16_t sel);
void fj_gen_seg(struct gen *g);
void fj_gen_ring(struct gen *g);
void fj_gen_paging(struct gen *g);
void fj_gen_real(struct gen *g);
void fj_gen_fault(struct gen *g);

/* gen_frame.c */
void fj_gen_frame(struct gen *g);
void fj_gen_frame_run(struct gen *g);

/* program.c */
void fj_gen_items(struct gen *g, unsigned n, bool shrt);
void fj_gen_items_real(struct gen *g, unsigned n);
bool fj_generate(struct gen *g, uint64_t seed, enum fj_mode mode, struct fj_start *st);

/* machine.c */
extern const struct mem_ops fj_dev_ops;
void fj_build_base(struct gen *g);

/* run.c */
void fj_trace(void *opaque, struct cpu *cpu, const uint8_t *bytes, unsigned len);
enum fj_verdict fj_both(struct fj *f, const uint8_t *img, struct fj_out o[2], char *buf,
                        size_t size, uint32_t *mem_at);

/* minimise.c */
void fj_signature(const char *diff, char *sig, size_t size);
void fj_minimise(struct fj *f, const char *sig0, unsigned trials);
void fj_report(struct fj *f, uint64_t seed);

#endif
