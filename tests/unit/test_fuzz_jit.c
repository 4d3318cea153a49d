/*
 * test_fuzz_jit.c — the JIT against the careful path on generated, valid
 * programs that stress what the JIT does inline (translate/jit/): ALU,
 * shifts, multiply, moves, bit operations, conditions and flags in every
 * operand size and form, memory operands through every addressing form
 * and segment, the stack, near control flow (direct, indirect, through
 * tables, loops), REP string instructions, and the places where inline
 * code must hand over to the handlers: faults, MMIO and holes, page and
 * segment limits, self-modifying code, page-table edits, mode switches.
 *
 * Each program runs twice from the same memory and registers: through the
 * careful path (one instruction at a time, the reference) and under the
 * JIT. Both must end at the same HLT with the same registers, EIP,
 * EFLAGS, segment caches, control registers and x87 state, the same RAM
 * (which holds the log of the exceptions the guest's handler saw) and
 * the same accesses to the MMIO and port device, in order.
 *
 * The guest's exception handler (ring 0, built once, fj_build_handler)
 * logs vector, error code, EIP and CR2 in RAM, then resumes after the
 * faulting instruction (the generator records every instruction's length
 * in a table the handler reads), or fixes a "fixable" not-present page
 * and retries; INT 3, INTO and INT 81h/82h return as traps; INT 80h from
 * ring 3 continues at ring 0. A fault the generator did not plan for
 * (no length recorded) halts there, which is compared all the same.
 *
 * Programs come in modes (fj_mode): flat 32-bit code at CPL 0 or 3 with
 * ring switches, the same with paging (page-table edits with INVLPG or a
 * CR3 reload right after each, so that no stale translation is ever
 * used, and half the time the stacks' and data's pages shuffled over
 * their frames), and 16-bit code with 16-bit addressing, 16- or 32-bit
 * stacks and excursions to real mode (CR0.PE cleared and set again); the
 * stack at ring 0 sometimes in a segment with a base.
 *
 * Frame accesses (the JIT proves a block's [EBP + disp] / [ESP + disp]
 * operands in one TLB page in its prologue): runs of such operands with
 * the base unwritten, ESP moved by PUSH/POP/ADD/SUB/LEA on the way, frames
 * inside a page, across a page's end or hugging one from below (only the
 * last bytes crossing), up to the special pages, and [EBP + disp] right
 * after a LEAVE in the same block.
 *
 * Undefined flags: the interpreter takes them from the host as the JIT
 * does (cpu/host_flags.c), and every bit is compared. Where it does not,
 * fuzz_undef.h tolerates the known differences (shifts' AF, BSF/BSR,
 * 16-bit SHLD/SHRD by 16-31), and then the generator never
 * lets a flag the SDM leaves undefined be observed (a
 * PUSHF/AND/POPF or a flag-writing instruction redefines it before
 * anything could read it, fault or end the program) and keeps 16-bit
 * SHLD/SHRD counts at 16 or below (GLASS_FUZZ_UNDEF=1 forces that mode).
 *
 * In that mode the careful pass also follows which flags are undefined
 * (fj_trace) and notes a program that lets one be seen: a generator bug,
 * counted (and failed) separately from divergences.
 *
 * Environment: GLASS_FUZZ_SEED=n (the seed is printed), GLASS_FUZZ_JIT_PROGS=n
 * programs per test (FJ_PROGRAMS), GLASS_FUZZ_JIT_SCALE=percent (scales the
 * number of programs, e.g. for slow sanitizer builds), GLASS_FUZZ_JIT_ONE=seed
 * runs one program (a failure prints its seed; --filter picks the mode),
 * GLASS_FUZZ_JIT_VERBOSE=1 says how each program ended, GLASS_FUZZ_LOG=1 logs
 * its exceptions (=3 also the registers before each careful step). A
 * divergence is minimised (instructions replaced by NOPs while the same
 * difference stays, GLASS_FUZZ_JIT_MINIMISE=n tries at most) and the
 * remaining instructions are printed with both end states.
 */
#define _POSIX_C_SOURCE 200809L /* getppid */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/internal.h"
#include "fuzz_total.h"
#include "fuzz_undef.h"
#include "memory/memory.h"
#include "translate/jit/jit.h"
#include "translate/translate.h"

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

/* Exception vectors with an error code. */
static bool fj_has_error(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

/* ------------------------------------------------------------------ */
/* Random numbers (xorshift64*)                                        */
/* ------------------------------------------------------------------ */

static uint64_t fj_rng;

static uint32_t rnd(void)
{
    fj_rng ^= fj_rng >> 12;
    fj_rng ^= fj_rng << 25;
    fj_rng ^= fj_rng >> 27;
    return (uint32_t)((fj_rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t below(uint32_t n)
{
    return n ? rnd() % n : 0;
}

static bool chance(unsigned percent)
{
    return below(100) < percent;
}

static uint64_t fj_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x ? x : 1;
}

/* A value worth having in a register. */
static uint32_t fj_value(void)
{
    switch (below(10)) {
    case 0: return below(3);
    case 1: return 0xffffffffu - below(3);
    case 2: return 0x80000000u - 2 + below(4);
    case 3: return 0x7fff + below(3);
    case 4: return below(256);
    case 5: return FJ_RAND + below(FJ_DATA_END - FJ_RAND);
    case 6: return 1u << below(32);
    default: return rnd();
    }
}

/* ------------------------------------------------------------------ */
/* The device: MMIO page and ports, whose accesses are hashed in order */
/* ------------------------------------------------------------------ */

struct fj_dev {
    uint64_t hash;
    uint32_t count;
    uint32_t regs[16];
};

static void dev_note(struct fj_dev *d, uint64_t what)
{
    d->hash = (d->hash ^ what) * 0x100000001b3ull;
    d->count++;
}

static uint64_t dev_read(void *opaque, uint64_t addr, unsigned size)
{
    struct fj_dev *d = opaque;
    uint32_t v = (d->regs[(addr >> 2) & 15] + d->count * 0x9e3779b1u) ^ (uint32_t)addr;
    dev_note(d, addr << 8 | size << 4 | 1);
    dev_note(d, v);
    return size == 1 ? v & 0xff : size == 2 ? v & 0xffff : v;
}

static void dev_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct fj_dev *d = opaque;
    d->regs[(addr >> 2) & 15] = (uint32_t)val;
    dev_note(d, addr << 8 | size << 4 | 2);
    dev_note(d, val);
}

static const struct mem_ops fj_dev_ops = { dev_read, dev_write };

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
static const char *const fj_mode_name[FJ_MODES] = {
    "flat", "user", "paging", "paging-user", "pm16",
};

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
    /* A frame run (gen_frame_run): memory operands are [force_base + disp]
     * in SS, reaching linear [frame_lo, frame_hi); -1 otherwise. */
    int force_base;
    uint32_t frame_lo, frame_hi;
    uint32_t switch_next; /* next free jump-table byte */
    uint32_t templ_len;   /* bytes of the code template (FJ_TAB_TEMPL) */
};

static void put8(struct gen *g, uint32_t at, uint8_t v)
{
    g->img[at] = v;
}

static void put16(uint8_t *img, uint32_t at, uint16_t v)
{
    memcpy(img + at, &v, 2);
}

static void put32(uint8_t *img, uint32_t at, uint32_t v)
{
    memcpy(img + at, &v, 4);
}

static uint32_t get32(const uint8_t *img, uint32_t at)
{
    uint32_t v;
    memcpy(&v, img + at, 4);
    return v;
}

static void b1(struct gen *g, uint8_t v)
{
    if (g->pos >= g->limit) {
        g->full = true;
        return;
    }
    put8(g, g->pos++, v);
}

static void b2(struct gen *g, uint16_t v)
{
    b1(g, (uint8_t)v);
    b1(g, (uint8_t)(v >> 8));
}

static void b4(struct gen *g, uint32_t v)
{
    b2(g, (uint16_t)v);
    b2(g, (uint16_t)(v >> 16));
}

static void bimm(struct gen *g, unsigned size, uint32_t v)
{
    if (size == 0)
        return;
    if (size == 1)
        b1(g, (uint8_t)v);
    else if (size == 2)
        b2(g, (uint16_t)v);
    else
        b4(g, v);
}

static void ins_begin(struct gen *g)
{
    g->insn_start = g->pos;
}

/* Ends an instruction: its length goes to the handler's table (code area
 * only) and to the list. */
static void ins_end(struct gen *g)
{
    uint32_t len = g->pos - g->insn_start;
    if (g->full || len == 0)
        return;
    g->dyn += g->weight;
    if (g->insn_start >= FJ_CODE && g->insn_start < FJ_CODE + FJ_CODE_SIZE) {
        g->img[FJ_LENS + (g->insn_start - FJ_CODE)] = (uint8_t)len;
        if (g->ninsns < FJ_MAX_INSNS)
            g->insns[g->ninsns++] = (struct fj_insn){ g->insn_start, (uint8_t)len };
    }
}

static unsigned label_new(struct gen *g)
{
    if (g->nlabels >= FJ_MAX_LABELS) {
        g->full = true;
        return 0;
    }
    g->labels[g->nlabels] = (struct fj_label){ 0, false, 0 };
    return g->nlabels++;
}

/* Places a label here; flags undefined on the jumps to it join those of
 * the way falling through (unless nothing falls through). */
static void label_place(struct gen *g, unsigned l, bool falls_through)
{
    struct fj_label *lb = &g->labels[l];
    lb->at = g->pos;
    lb->placed = true;
    g->undef = (falls_through ? g->undef : 0) | lb->undef;
}

static void fixup(struct gen *g, unsigned label, enum fix_kind kind, uint32_t at, uint32_t next)
{
    if (g->nfix >= FJ_MAX_FIXUPS) {
        g->full = true;
        return;
    }
    g->fix[g->nfix++] = (struct fj_fixup){ at, next, (uint16_t)label, (uint8_t)kind };
    if (kind <= FIX_REL32)
        g->labels[label].undef |= g->undef;
}

/* Resolves every fixup; false if a short jump does not reach. */
static bool fixups_apply(struct gen *g)
{
    for (unsigned i = 0; i < g->nfix; i++) {
        const struct fj_fixup *x = &g->fix[i];
        const struct fj_label *lb = &g->labels[x->label];
        if (!lb->placed)
            return false;
        int64_t rel = (int64_t)lb->at - (int64_t)x->next;
        uint32_t off = lb->at - g->cs_base;
        switch (x->kind) {
        case FIX_REL8:
            if (rel < -128 || rel > 127)
                return false;
            g->img[x->at] = (uint8_t)rel;
            break;
        case FIX_REL16:
            put16(g->img, x->at, (uint16_t)rel);
            break;
        case FIX_REL32:
            put32(g->img, x->at, (uint32_t)rel);
            break;
        case FIX_ABS16:
            put16(g->img, x->at, (uint16_t)off);
            break;
        case FIX_ABS32:
            put32(g->img, x->at, off);
            break;
        }
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Registers and flags the generator keeps track of                    */
/* ------------------------------------------------------------------ */

#define RBIT(r) (1u << (r))
#define ALL_REGS 0xffu
#define F_ALL FL_ARITH

static bool reg_known(const struct gen *g, unsigned r)
{
    return r == R_ESP ? g->esp_known : (g->known & RBIT(r)) != 0;
}

static void reg_set(struct gen *g, unsigned r, uint32_t v)
{
    g->known |= RBIT(r);
    g->val[r] = v;
}

static void clobber(struct gen *g, unsigned r)
{
    if (r != R_ESP)
        g->known &= ~RBIT(r);
}

/* The 32-bit register a byte register (AL..BH) lives in. */
static unsigned byte_home(unsigned r8)
{
    return r8 & 3;
}

/* Registers the current code may write. */
static uint32_t writable_regs(const struct gen *g)
{
    uint32_t w = ALL_REGS & ~RBIT(R_ESP) & ~g->reserved;
    if (g->in_func)
        w &= g->func_regs;
    return w;
}

static int pick_reg(uint32_t mask)
{
    unsigned n = (unsigned)__builtin_popcount(mask);
    if (!n)
        return -1;
    unsigned k = below(n);
    for (unsigned r = 0; r < 8; r++)
        if ((mask & RBIT(r)) && k-- == 0)
            return (int)r;
    return -1;
}

/* A destination register of `size` bytes, -1 if none may be written. */
static int pick_dst(struct gen *g, unsigned size)
{
    uint32_t w = writable_regs(g);
    if (size != 1)
        return pick_reg(w);
    uint32_t m = 0;
    for (unsigned r = 0; r < 8; r++)
        if (w & RBIT(byte_home(r)))
            m |= RBIT(r);
    return pick_reg(m);
}

static void clobber_sized(struct gen *g, unsigned r, unsigned size)
{
    clobber(g, size == 1 ? byte_home(r) : r);
}

/* ---- undefined flags ------------------------------------------------ */

static void emit_sanitizer(struct gen *g, bool keep);

/* Before an instruction that reads `reads` (or everything, for one that
 * may fault or leave the block's flags to others): redefines the flags
 * still undefined that it would see, keeping the others when the
 * instruction reads only some (a loop's JNZ must still see its DEC). */
static void need_flags(struct gen *g, uint32_t reads)
{
    if (g->undef & reads)
        emit_sanitizer(g, reads != F_ALL);
}

/* After an instruction: `w` written with defined values, `u` undefined
 * (the differences fuzz_undef.h knows of; nothing while not tolerating). */
static void flags_written(struct gen *g, uint32_t w, uint32_t u)
{
    if (!g->tolerate)
        u = 0;
    g->undef = (g->undef & ~w & ~u) | u;
}

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

static struct rm rm_reg(unsigned r)
{
    struct rm o;
    memset(&o, 0, sizeof(o));
    o.reg = (uint8_t)r;
    o.seg_prefix = -1;
    return o;
}

static const uint8_t seg_prefix_byte[SEG_COUNT] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };

/* Prefixes for operand size `opsize` (0: none needed), memory operand `m`
 * (may be NULL) and the given extra prefix (REP, or 0), in random order. */
static void emit_prefixes(struct gen *g, unsigned opsize, const struct rm *m, uint8_t extra)
{
    uint8_t p[4];
    unsigned n = 0;
    if (opsize && (opsize == 2) == g->code32)
        p[n++] = 0x66;
    if (m && m->mem && m->a16 == g->code32)
        p[n++] = 0x67;
    if (m && m->mem && m->seg_prefix >= 0)
        p[n++] = seg_prefix_byte[m->seg_prefix];
    if (extra)
        p[n++] = extra;
    for (unsigned i = n; i > 1; i--) {
        unsigned j = below(i);
        uint8_t t = p[i - 1];
        p[i - 1] = p[j];
        p[j] = t;
    }
    for (unsigned i = 0; i < n; i++)
        b1(g, p[i]);
}

static void emit_modrm(struct gen *g, unsigned regf, const struct rm *o)
{
    if (!o->mem) {
        b1(g, (uint8_t)(0xc0 | (regf << 3) | o->reg));
        return;
    }
    b1(g, (uint8_t)(o->mod << 6 | regf << 3 | o->rmf));
    if (o->has_sib)
        b1(g, o->sib);
    bimm(g, o->disp_size, o->disp);
}

/* prefixes, opcode bytes, ModRM (+SIB, disp), immediate. */
static void emit_op(struct gen *g, unsigned opsize, const uint8_t *opc, unsigned nopc,
                    unsigned regf, const struct rm *o, unsigned imm_size, uint32_t imm)
{
    emit_prefixes(g, opsize, o, 0);
    for (unsigned i = 0; i < nopc; i++)
        b1(g, opc[i]);
    emit_modrm(g, regf, o);
    if (imm_size)
        bimm(g, imm_size, imm);
}

/* Operand-size value: 16 or 32 bits as the code's default says. */
static unsigned vsize(const struct gen *g)
{
    return g->code32 ? 4 : 2;
}

/* MOV r32, imm32 (B8+r, with 66 in 16-bit code): the setup instruction
 * of memory operands, counts and divisors. */
static void emit_mov_imm32(struct gen *g, unsigned r, uint32_t v)
{
    ins_begin(g);
    emit_prefixes(g, 4, NULL, 0);
    b1(g, (uint8_t)(0xb8 + r));
    b4(g, v);
    ins_end(g);
    reg_set(g, r, v);
}

/* Gives register r the value v (nothing if it has it). */
static void set_reg(struct gen *g, unsigned r, uint32_t v)
{
    if (reg_known(g, r) && g->val[r] == v)
        return;
    emit_mov_imm32(g, r, v);
}

/* PUSHF; AND [ESP], ~undefined; POPF (keeps the defined flags live), or
 * (unless `keep`) a CMP that defines all six: no flag the engines may
 * set differently is left for anything to see. */
static void emit_sanitizer(struct gen *g, bool keep)
{
    uint32_t mask = g->undef;
    g->undef = 0;
    if (!keep && chance(50)) {
        int r = pick_reg(ALL_REGS);
        ins_begin(g);
        struct rm o = rm_reg((unsigned)r);
        static const uint8_t cmp[] = { 0x81 };
        emit_op(g, vsize(g), cmp, 1, 7, &o, vsize(g), rnd());
        ins_end(g);
        return;
    }
    unsigned w = vsize(g);
    ins_begin(g);
    emit_prefixes(g, w, NULL, 0);
    b1(g, 0x9c); /* PUSHF */
    ins_end(g);
    /* AND [ESP], imm: 32-bit addressing (ESP stays below 64 KiB on
     * 16-bit stacks, so [ESP] is [SP]). */
    ins_begin(g);
    if (w == 2 ? g->code32 : !g->code32)
        b1(g, 0x66);
    if (!g->code32)
        b1(g, 0x67);
    b1(g, 0x81);
    b1(g, 0x24);
    b1(g, 0x24);
    bimm(g, w, ~mask);
    ins_end(g);
    ins_begin(g);
    emit_prefixes(g, w, NULL, 0);
    b1(g, 0x9d); /* POPF */
    ins_end(g);
}

/* ---- memory operands ------------------------------------------------ */

/* Whether segment register s can be used for an access at offsets
 * [off, off + size) without a fault. */
static bool seg_allows(const struct fj_seg *s, uint32_t off, unsigned size, bool write)
{
    if (!s->usable || (write && !s->writable) || (!write && !s->readable))
        return false;
    uint32_t last = off + size - 1;
    if (last < off)
        return false;
    if (s->expdown) {
        uint32_t top = s->big ? 0xffffffffu : 0xffffu;
        return off > s->limit && last <= top;
    }
    return last <= s->limit;
}

enum mem_kind { MK_DATA, MK_STACK, MK_TABLES, MK_CODE, MK_SPECIAL, MK_MMIO, MK_HOLE, MK_UNMAPPED,
                MK_EDGE, MK_KINDS };

/* A linear range [lo, hi) for a kind of target. */
static bool kind_range(const struct gen *g, enum mem_kind k, uint32_t *lo, uint32_t *hi)
{
    switch (k) {
    case MK_DATA: *lo = FJ_RAND; *hi = FJ_DATA_END; return true;
    case MK_STACK: /* the free stack below ESP (an offset in SS) */
        if (!g->esp_known)
            return false;
        *lo = g->seg[SEG_SS].base + g->val[R_ESP] - 0x300;
        *hi = g->seg[SEG_SS].base + g->val[R_ESP];
        return true;
    case MK_TABLES: *lo = FJ_DATA; *hi = FJ_RAND; return true;
    case MK_CODE: *lo = FJ_CODE; *hi = FJ_CODE + FJ_CODE_SIZE; return true;
    case MK_SPECIAL: /* (the last two alias the functions' code: see make_mem) */
        *lo = FJ_SPECIAL;
        *hi = FJ_SPECIAL_END - 2 * 4096u;
        return true;
    case MK_MMIO: *lo = FJ_MMIO; *hi = FJ_MMIO + 0x1000u + 8; return true;
    case MK_HOLE: *lo = FJ_HOLE - 8; *hi = FJ_HOLE + 0x1000u; return true;
    case MK_UNMAPPED: *lo = FJ_UNMAPPED - 8; *hi = FJ_UNMAPPED + 0x1000u; return true;
    default: return false;
    }
}

/* The segment an addressing form uses by default. */
static int default_seg(const struct rm *o)
{
    if (o->a16)
        return (o->rmf == 2 || o->rmf == 3 || (o->rmf == 6 && o->mod != 0)) ? SEG_SS : SEG_DS;
    unsigned base = o->rmf;
    if (o->has_sib) {
        base = o->sib & 7;
        if (base == 5 && o->mod == 0)
            return SEG_DS;
    } else if (o->rmf == 5 && o->mod == 0) {
        return SEG_DS;
    }
    return (base == R_ESP || base == R_EBP) ? SEG_SS : SEG_DS;
}

/* Whether register r can serve as an address register: not in `avoid`
 * (registers the instruction sets up or changes itself), and its value is
 * known or may be set. */
static bool addr_reg_ok(const struct gen *g, unsigned r, uint32_t avoid)
{
    if (avoid & RBIT(r))
        return false;
    return reg_known(g, r) || (writable_regs(g) & RBIT(r));
}

/* The value of an address register: known, or chosen (set later). */
static uint32_t addr_reg_value(const struct gen *g, unsigned r, uint32_t want)
{
    return reg_known(g, r) ? g->val[r] : want;
}

/*
 * Encodes offset `off` as a ModRM memory operand in a random form,
 * setting address registers (MOV r, imm before the instruction) when the
 * form needs values they do not have. Registers in `avoid` are not
 * changed. False if no form fits (e.g. every register is reserved).
 */
static bool encode_offset(struct gen *g, uint32_t off, bool a16, uint32_t avoid, bool via_esp,
                          struct rm *o)
{
    o->mem = true;
    o->a16 = a16;
    o->has_sib = false;
    o->disp_size = 0;
    o->disp = 0;
    if (g->force_disp) {
        o->mod = 0, o->rmf = a16 ? 6 : 5, o->disp_size = a16 ? 2 : 4;
        o->disp = a16 ? off & 0xffff : off;
        return true;
    }
    if (a16) {
        /* rm: 0 BX+SI, 1 BX+DI, 2 BP+SI, 3 BP+DI, 4 SI, 5 DI, 6 BP/disp16, 7 BX */
        static const int8_t r1[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
        static const int8_t r2[8] = { R_ESI, R_EDI, R_ESI, R_EDI, -1, -1, -1, -1 };
        for (int tries = 0; tries < 8; tries++) {
            unsigned rmf = below(8), mod = below(3);
            if (rmf == 6 && mod == 0) {
                o->mod = 0, o->rmf = 6, o->disp_size = 2, o->disp = off & 0xffff;
                return true;
            }
            int a = r1[rmf], b = r2[rmf];
            if (!addr_reg_ok(g, (unsigned)a, avoid) || (b >= 0 && !addr_reg_ok(g, (unsigned)b, avoid)))
                continue;
            /* Choose values: a random disp of the mod's size, the
             * registers making up the rest. */
            int32_t disp = mod == 0 ? 0 : mod == 1 ? (int8_t)rnd() : (int16_t)rnd();
            uint32_t va = addr_reg_value(g, (unsigned)a, rnd());
            uint32_t vb = b >= 0 ? addr_reg_value(g, (unsigned)b, rnd()) : 0;
            uint32_t sum = (va + vb + (uint32_t)disp) & 0xffff;
            if (sum != (off & 0xffff)) {
                /* Adjust a register we may set, else the displacement. */
                uint32_t need = (off - va - vb - (uint32_t)disp) & 0xffff;
                if (b >= 0 && !reg_known(g, (unsigned)b))
                    vb += need;
                else if (!reg_known(g, (unsigned)a))
                    va += need;
                else if (mod == 2)
                    disp = (int16_t)(disp + (int32_t)need);
                else
                    continue;
            }
            if (b >= 0 && a == b)
                continue;
            set_reg(g, (unsigned)a, va);
            if (b >= 0)
                set_reg(g, (unsigned)b, vb);
            o->mod = (uint8_t)mod, o->rmf = (uint8_t)rmf;
            o->disp_size = mod == 0 ? 0 : mod == 1 ? 1 : 2;
            o->disp = (uint32_t)disp & (mod == 1 ? 0xff : 0xffff);
            return true;
        }
        o->mod = 0, o->rmf = 6, o->disp_size = 2, o->disp = off & 0xffff;
        return true;
    }
    for (int tries = 0; tries < 12; tries++) {
        unsigned form = via_esp ? 6 : below(7);
        if (g->no_esp_base && form == 6)
            continue;
        switch (form) {
        case 0: /* [disp32] */
            o->mod = 0, o->rmf = 5, o->disp_size = 4, o->disp = off;
            return true;
        case 1: /* [base] */
        case 2: /* [base + disp8] */
        case 3: { /* [base + disp32] */
            unsigned r = below(8);
            if (r == R_ESP || (form == 1 && r == R_EBP) || !addr_reg_ok(g, r, avoid))
                continue;
            int32_t want_disp = form == 1 ? 0 : form == 2 ? (int8_t)rnd() : (int32_t)rnd();
            uint32_t v = addr_reg_value(g, r, off - (uint32_t)want_disp);
            int64_t disp = (int32_t)(off - v);
            if (form == 1 && disp != 0)
                continue;
            if (form == 2 && (disp < -128 || disp > 127))
                continue;
            set_reg(g, r, v);
            o->mod = form == 1 ? 0 : form == 2 ? 1 : 2;
            o->rmf = (uint8_t)r;
            o->disp_size = form == 1 ? 0 : form == 2 ? 1 : 4;
            o->disp = (uint32_t)disp & (form == 2 ? 0xff : 0xffffffffu);
            return true;
        }
        case 4: /* [base + index * scale + disp] */
        case 5: { /* [index * scale + disp32] */
            unsigned base = form == 5 ? 5 : below(8), index = below(8), scale = below(4);
            if (index == R_ESP || !addr_reg_ok(g, index, avoid))
                continue;
            if (base == R_ESP && g->no_esp_base)
                continue;
            if (form == 4 && (!addr_reg_ok(g, base, avoid) || base == index))
                continue;
            unsigned mod = form == 5 ? 0 : below(3);
            if (form == 4 && base == R_EBP && mod == 0)
                mod = 1;
            int32_t want_disp = mod == 0 ? 0 : mod == 1 ? (int8_t)rnd() : (int32_t)rnd();
            if (form == 5)
                want_disp = (int32_t)rnd();
            uint32_t vi = addr_reg_value(g, index, fj_value());
            uint32_t vb = 0;
            if (form == 4)
                vb = addr_reg_value(g, base, off - (uint32_t)want_disp - (vi << scale));
            int64_t disp = (int32_t)(off - vb - (vi << scale));
            if (form == 4 && mod == 0 && disp != 0) {
                if (reg_known(g, base))
                    continue;
                vb += (uint32_t)disp;
                disp = 0;
            }
            if (mod == 1 && (disp < -128 || disp > 127))
                continue;
            set_reg(g, index, vi);
            if (form == 4)
                set_reg(g, base, vb);
            o->mod = (uint8_t)mod, o->rmf = 4, o->has_sib = true;
            o->sib = (uint8_t)(scale << 6 | index << 3 | base);
            o->disp_size = mod == 0 ? (form == 5 ? 4 : 0) : mod == 1 ? 1 : 4;
            o->disp = (uint32_t)disp & (o->disp_size == 1 ? 0xff : 0xffffffffu);
            return true;
        }
        default: { /* [ESP + disp] */
            if (!g->esp_known)
                return false;
            int64_t disp = (int32_t)(off - g->val[R_ESP]);
            unsigned mod = disp == 0 && chance(50) ? 0 : disp >= -128 && disp <= 127 ? 1 : 2;
            o->mod = (uint8_t)mod, o->rmf = 4, o->has_sib = true;
            o->sib = (uint8_t)(below(4) << 6 | 4 << 3 | R_ESP); /* no index: scale ignored */
            o->disp_size = mod == 0 ? 0 : mod == 1 ? 1 : 4;
            o->disp = (uint32_t)disp & (mod == 1 ? 0xff : 0xffffffffu);
            return true;
        }
        }
    }
    o->mod = 0, o->rmf = 5, o->disp_size = 4, o->disp = off;
    return true;
}

/*
 * A memory operand of `size` bytes: usually an ordinary access that
 * cannot fault (data, the free stack below ESP, tables and code for
 * reads), with `may_fault` also one of the special targets: special
 * pages, MMIO, holes, unmapped pages, segment limits, null or read-only
 * segments. Sets address registers as needed (never uses those in
 * `avoid`).
 * False if nothing fits.
 */
/* [base + disp8/disp32] in SS for a frame run: linear target within
 * [frame_lo, frame_hi); in a special page only if it `may_fault` (a PUSH
 * or POP must not: the stack would lose its balance). */
static bool make_frame_mem(struct gen *g, unsigned size, bool write, bool may_fault,
                           struct rm *o)
{
    const unsigned base = (unsigned)g->force_base;
    const struct fj_seg *ss = &g->seg[SEG_SS];
    if (g->frame_hi - g->frame_lo <= size)
        return false;
    for (int tries = 0; tries < 8; tries++) {
        uint32_t lin = g->frame_lo + below(g->frame_hi - g->frame_lo - size);
        if (chance(30)) /* at the top (the frame's last bytes: a page's end, maybe) */
            lin = g->frame_hi - size - below(3 < g->frame_hi - g->frame_lo - size ? 3 : 1);
        uint32_t off = lin - ss->base;
        bool special = lin + size > FJ_DATA_END && lin < FJ_SPECIAL_END;
        if (!seg_allows(ss, off, size, write) || (special && !may_fault))
            continue;
        int32_t disp = (int32_t)(off - g->val[base]);
        o->mem = true, o->a16 = false, o->unsafe = false;
        o->mod = disp >= -128 && disp <= 127 ? 1 : 2;
        o->disp_size = o->mod == 1 ? 1 : 4;
        o->disp = (uint32_t)disp & (o->mod == 1 ? 0xffu : 0xffffffffu);
        o->has_sib = base == R_ESP || chance(15); /* EBP through a SIB byte too */
        o->rmf = o->has_sib ? 4 : (uint8_t)base;
        o->sib = (uint8_t)(below(4) << 6 | 4 << 3 | base); /* no index */
        o->seg_prefix = chance(10) ? SEG_SS : -1;
        o->lin = lin;
        o->unsafe = special;
        return true;
    }
    return false;
}

static bool make_mem(struct gen *g, unsigned size, bool write, bool may_fault, uint32_t avoid,
                     struct rm *o)
{
    memset(o, 0, sizeof(*o));
    o->seg_prefix = -1;
    if (g->force_base >= 0 && !g->force_disp && !g->no_esp_base &&
        make_frame_mem(g, size, write, may_fault, o))
        return true;
    bool a16 = g->code32 ? chance(10) : chance(85);
    bool special = may_fault && !g->real && chance(g->in_func ? 10 : 30);
    for (int tries = 0; tries < 16; tries++) {
        int s = (int)below(SEG_COUNT);
        if (s == SEG_CS && write && !special)
            continue;
        const struct fj_seg *sg = &g->seg[s];
        uint32_t off;
        if (special && chance(25) && (!g->in_func || s == SEG_DS || s == SEG_SS)) {
            /* A segment's edges: past the limit (or below an expand-down
             * one), partly or wholly; or any access through an unusable
             * segment register, a write through CS or a read-only one. */
            uint32_t top = sg->expdown ? sg->limit + 1 : sg->limit;
            if (!sg->usable || (write && !sg->writable))
                top = rnd() & 0xfff;
            off = top - size + 1 + below(size + 1);
            if (sg->expdown)
                off = top - below(size);
            if (a16 && off > 0xffff)
                continue;
            o->unsafe = true;
        } else {
            enum mem_kind k;
            if (special) {
                static const enum mem_kind sk[] = { MK_SPECIAL, MK_SPECIAL, MK_MMIO, MK_MMIO,
                                                    MK_HOLE, MK_UNMAPPED, MK_DATA };
                k = sk[below(sizeof(sk) / sizeof(sk[0]))];
            } else {
                static const enum mem_kind nk[] = { MK_DATA, MK_DATA, MK_DATA, MK_DATA,
                                                    MK_STACK, MK_STACK, MK_TABLES, MK_CODE };
                k = nk[below(sizeof(nk) / sizeof(nk[0]))];
                if (write && (k == MK_TABLES || k == MK_CODE))
                    k = MK_DATA;
            }
            uint32_t lo, hi;
            if (!kind_range(g, k, &lo, &hi))
                continue;
            /* The part of the range this segment reaches. */
            if (!sg->usable || sg->expdown)
                continue;
            uint32_t wlo = sg->base, whi = sg->base + (a16 ? (sg->limit < 0xffff ? sg->limit : 0xffff)
                                                             : sg->limit);
            if (whi < wlo) /* wraps: only the part from the base up */
                whi = 0xffffffffu;
            if (lo < wlo)
                lo = wlo;
            if (hi - 1 > whi)
                hi = whi + 1;
            if (hi <= lo || hi - lo < size + 1)
                continue;
            uint32_t lin;
            if (chance(30)) { /* at a page's end: crossing into the next */
                uint32_t page = (lo + below(hi - lo)) | 0xfff;
                lin = page - below(size);
                if (lin < lo || lin + size > hi)
                    lin = lo + below(hi - lo - size);
            } else {
                lin = lo + below(hi - lo - size);
                if (chance(60))
                    lin &= ~(size - 1); /* aligned */
                if (lin < lo)
                    lin = lo;
            }
            off = lin - sg->base;
            o->unsafe = special;
            if (!special && (!seg_allows(sg, off, size, write) ||
                             (a16 && off + size - 1 > 0xffff)))
                continue;
        }
        if (!encode_offset(g, off, a16, avoid, false, o))
            return false;
        int def = default_seg(o);
        if (s != def || chance(10))
            o->seg_prefix = s;
        o->lin = g->seg[s].base + off;
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Data instructions                                                   */
/* ------------------------------------------------------------------ */

static unsigned pick_width(void)
{
    static const uint8_t w[] = { 1, 2, 4, 4, 4 };
    return w[below(sizeof(w))];
}

/* Operand-size prefix argument of emit_op: 0 for byte operations. */
static unsigned osz(unsigned w)
{
    return w == 1 ? 0 : w;
}

static uint32_t wmask(unsigned w)
{
    return w == 1 ? 0xffu : w == 2 ? 0xffffu : 0xffffffffu;
}

/* Flags a condition (Jcc order) reads. */
static uint32_t cond_flags(unsigned cc)
{
    static const uint16_t base[8] = {
        FL_OF, FL_CF, FL_ZF, FL_CF | FL_ZF, FL_SF, FL_PF, FL_SF | FL_OF, FL_SF | FL_OF | FL_ZF,
    };
    return base[(cc >> 1) & 7];
}

/* The operand of a data instruction: a register (`dst`: one the code
 * may write) or memory (writes or reads, may fault if `unsafe_ok`). */
static bool pick_rm(struct gen *g, unsigned w, bool dst, bool mem, bool write, bool unsafe_ok,
                    uint32_t avoid, struct rm *o)
{
    if (g->force_base >= 0 && chance(60))
        mem = true; /* a frame run: mostly frame accesses */
    if (mem)
        return make_mem(g, w, write, unsafe_ok, avoid, o);
    int r = dst ? pick_dst(g, w) : (int)below(8);
    if (r < 0)
        return false;
    *o = rm_reg((unsigned)r);
    return true;
}

static void clobber_rm(struct gen *g, const struct rm *o, unsigned w)
{
    if (!o->mem)
        clobber_sized(g, o->reg, w);
}

/* Before an instruction reading `reads`, with a memory operand `o` (or
 * NULL) and `faults` if it may fault by itself. */
static void before(struct gen *g, uint32_t reads, const struct rm *o, bool faults)
{
    if (faults || (o && o->mem && o->unsafe))
        reads = F_ALL;
    need_flags(g, reads);
}

/* ADD OR ADC SBB AND SUB XOR CMP (op: their group-1 number) in every
 * form. */
static void gen_alu2_op(struct gen *g, unsigned op)
{
    unsigned w = pick_width();
    bool writes = op != 7;
    uint32_t reads = (op == 2 || op == 3) ? FL_CF : 0;
    unsigned form = below(6);
    struct rm o;
    int r;
    switch (form) {
    case 0: /* r/m(reg), reg */
    case 2: { /* r/m(mem), reg */
        if (!pick_rm(g, w, writes, form == 2, writes, true, 0, &o))
            return;
        r = (int)below(8);
        before(g, reads, &o, false);
        ins_begin(g);
        uint8_t opc = (uint8_t)(op * 8 + (w > 1));
        emit_op(g, osz(w), &opc, 1, (unsigned)r, &o, 0, 0);
        ins_end(g);
        if (writes)
            clobber_rm(g, &o, w);
        break;
    }
    case 1: { /* reg, r/m(mem) */
        r = writes ? pick_dst(g, w) : (int)below(8);
        if (r < 0 || !make_mem(g, w, false, true, 0, &o))
            return;
        before(g, reads, &o, false);
        ins_begin(g);
        uint8_t opc = (uint8_t)(op * 8 + 2 + (w > 1));
        emit_op(g, osz(w), &opc, 1, (unsigned)r, &o, 0, 0);
        ins_end(g);
        if (writes)
            clobber_sized(g, (unsigned)r, w);
        break;
    }
    case 3: /* r/m, imm */
    case 4: {
        if (!pick_rm(g, w, writes, form == 4, writes, true, 0, &o))
            return;
        uint32_t imm = fj_value() & wmask(w);
        bool imm8 = w > 1 && chance(50);
        if (imm8)
            imm = (uint32_t)(int32_t)(int8_t)rnd();
        before(g, reads, &o, false);
        ins_begin(g);
        uint8_t opc = w == 1 ? 0x80 : imm8 ? 0x83 : 0x81;
        emit_op(g, osz(w), &opc, 1, op, &o, imm8 ? 1 : w, imm);
        ins_end(g);
        if (writes && !o.mem && w == 4 && reg_known(g, o.reg) && op != 2 && op != 3) {
            uint32_t v = g->val[o.reg];
            switch (op) {
            case 0: v += imm; break;
            case 1: v |= imm; break;
            case 4: v &= imm; break;
            case 5: v -= imm; break;
            default: v ^= imm; break;
            }
            reg_set(g, o.reg, v);
        } else if (writes) {
            clobber_rm(g, &o, w);
        }
        break;
    }
    default: { /* AL/eAX, imm */
        if (writes && !(writable_regs(g) & RBIT(R_EAX)))
            return;
        before(g, reads, NULL, false);
        ins_begin(g);
        emit_prefixes(g, osz(w), NULL, 0);
        b1(g, (uint8_t)(op * 8 + 4 + (w > 1)));
        bimm(g, w, fj_value());
        ins_end(g);
        if (writes)
            clobber(g, R_EAX);
        break;
    }
    }
    flags_written(g, F_ALL, 0);
}

static void gen_alu2(struct gen *g)
{
    gen_alu2_op(g, below(8));
}

static void gen_test(struct gen *g)
{
    unsigned w = pick_width();
    struct rm o;
    bool mem = chance(40);
    if (!pick_rm(g, w, false, mem, false, true, 0, &o))
        return;
    before(g, 0, &o, false);
    ins_begin(g);
    if (chance(50)) {
        uint8_t opc = (uint8_t)(0x84 + (w > 1));
        emit_op(g, osz(w), &opc, 1, below(8), &o, 0, 0);
    } else if (!mem && o.reg == R_EAX && chance(50)) {
        emit_prefixes(g, osz(w), NULL, 0);
        b1(g, (uint8_t)(0xa8 + (w > 1)));
        bimm(g, w, fj_value());
    } else {
        uint8_t opc = (uint8_t)(0xf6 + (w > 1));
        emit_op(g, osz(w), &opc, 1, 0, &o, w, fj_value());
    }
    ins_end(g);
    flags_written(g, F_ALL, 0);
}

/* INC DEC NEG NOT. */
static void gen_unary(struct gen *g)
{
    unsigned k = below(4), w = pick_width();
    struct rm o;
    if (!pick_rm(g, w, true, chance(35), true, true, 0, &o))
        return;
    before(g, 0, &o, false);
    ins_begin(g);
    if (k < 2 && !o.mem && w > 1 && g->code32 == (w == 4) && chance(50)) {
        b1(g, (uint8_t)(0x40 + k * 8 + o.reg)); /* INC/DEC r: 40+r, 48+r */
    } else {
        uint8_t opc = (uint8_t)((k < 2 ? 0xfe : 0xf6) + (w > 1));
        static const uint8_t regf[4] = { 0, 1, 3, 2 };
        emit_op(g, osz(w), &opc, 1, regf[k], &o, 0, 0);
    }
    ins_end(g);
    if (!o.mem && w == 4 && reg_known(g, o.reg)) {
        uint32_t v = g->val[o.reg];
        reg_set(g, o.reg, k == 0 ? v + 1 : k == 1 ? v - 1 : k == 2 ? 0 - v : ~v);
    } else {
        clobber_rm(g, &o, w);
    }
    if (k < 2)
        flags_written(g, F_ALL & ~FL_CF, 0);
    else if (k == 2)
        flags_written(g, F_ALL, 0);
}

/* A shift count: 0, 1, small, at or past the operand size, masked. */
static uint8_t shift_imm(unsigned bits)
{
    switch (below(6)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return (uint8_t)(bits - 1);
    case 3: return (uint8_t)(bits + below(4));
    case 4: return (uint8_t)(32 + below(40));
    default: return (uint8_t)below(32);
    }
}

/* Shifts and rotates by 1, an immediate or CL. */
static void gen_shift(struct gen *g)
{
    unsigned op = below(8), w = pick_width(), bits = w * 8;
    unsigned how = below(3); /* 0: by 1, 1: imm, 2: CL */
    int count = -1;          /* known count, or -1 */
    struct rm o;
    if (how == 2 && (writable_regs(g) & RBIT(R_ECX)) && chance(70))
        set_reg(g, R_ECX, (rnd() & ~0xffu) | shift_imm(bits));
    if (!pick_rm(g, w, true, chance(30), true, true, RBIT(R_ECX), &o))
        return;
    uint8_t imm = shift_imm(bits);
    if (how == 0)
        count = 1;
    else if (how == 1)
        count = imm & 31;
    else if (reg_known(g, R_ECX))
        count = (int)(g->val[R_ECX] & 31);
    bool rot = op < 4;
    uint32_t reads = (op == 2 || op == 3) ? FL_CF : 0;
    before(g, reads, &o, false);
    ins_begin(g);
    uint8_t opc = (uint8_t)((how == 0 ? 0xd0 : how == 1 ? 0xc0 : 0xd2) + (w > 1));
    emit_op(g, osz(w), &opc, 1, op, &o, how == 1 ? 1 : 0, imm);
    ins_end(g);
    clobber_rm(g, &o, w);
    /* A count of zero changes no flag; one not known may be zero. */
    if (count == 0)
        return;
    uint32_t defined = rot ? FL_CF | FL_OF : F_ALL & ~FL_AF, undef = rot ? 0 : FL_AF;
    flags_written(g, count > 0 ? defined : 0, undef);
}

/* SHLD/SHRD by an immediate or CL. */
static void gen_shxd(struct gen *g)
{
    unsigned w = chance(50) ? 2 : 4, right = below(2);
    bool by_cl = chance(50);
    struct rm o;
    int src = (int)below(8);
    /* Counts of 17-31 on 16-bit operands leave result and flags undefined:
     * not while tolerating. */
    unsigned maxc = (w == 2 && g->tolerate) ? 16 : 31;
    uint8_t imm = (uint8_t)(below(maxc + 1) | (chance(20) ? 32 : 0));
    if (by_cl) {
        if ((writable_regs(g) & RBIT(R_ECX)) && (chance(80) || maxc < 31))
            set_reg(g, R_ECX, (rnd() & ~0xffu) | imm);
        else if (maxc < 31 && !(reg_known(g, R_ECX) && (g->val[R_ECX] & 31) <= maxc))
            return;
    }
    if (!pick_rm(g, w, true, chance(30), true, true, RBIT(R_ECX), &o))
        return;
    /* The count, unless the destination is ECX itself. */
    if (by_cl && !o.mem && o.reg == R_ECX && maxc < 31)
        return;
    int count = by_cl ? (reg_known(g, R_ECX) ? (int)(g->val[R_ECX] & 31) : -1) : imm & 31;
    before(g, 0, &o, false);
    ins_begin(g);
    uint8_t opc[2] = { 0x0f, (uint8_t)(0xa4 + right * 8 + by_cl) };
    emit_op(g, w, opc, 2, (unsigned)src, &o, by_cl ? 0 : 1, imm);
    ins_end(g);
    clobber_rm(g, &o, w);
    /* AF, and OF of a 16-bit SHLD by 16 (fuzz_undef.h) */
    uint32_t u = FL_AF | (w == 2 && !right && (count == 16 || count < 0) ? FL_OF : 0);
    if (count != 0)
        flags_written(g, count > 0 ? F_ALL & ~u : 0, u);
}

/* IMUL r, r/m; IMUL r, r/m, imm; MUL/IMUL r/m. */
static void gen_mul(struct gen *g)
{
    struct rm o;
    if (chance(50)) {
        unsigned w = chance(30) ? 2 : 4;
        int d = pick_dst(g, w);
        if (d < 0 || !pick_rm(g, w, false, chance(35), false, true, 0, &o))
            return;
        unsigned form = below(3);
        uint32_t imm = form == 2 ? (uint32_t)(int8_t)rnd() : fj_value();
        before(g, 0, &o, false);
        ins_begin(g);
        if (form == 0) {
            static const uint8_t opc[2] = { 0x0f, 0xaf };
            emit_op(g, w, opc, 2, (unsigned)d, &o, 0, 0);
        } else {
            uint8_t opc = form == 1 ? 0x69 : 0x6b;
            emit_op(g, w, &opc, 1, (unsigned)d, &o, form == 1 ? w : 1, imm);
        }
        ins_end(g);
        clobber(g, (unsigned)d);
    } else {
        unsigned w = pick_width();
        uint32_t need = RBIT(R_EAX) | (w > 1 ? RBIT(R_EDX) : 0);
        if ((writable_regs(g) & need) != need)
            return;
        if (!pick_rm(g, w, false, chance(35), false, true, 0, &o))
            return;
        before(g, 0, &o, false);
        ins_begin(g);
        uint8_t opc = (uint8_t)(0xf6 + (w > 1));
        emit_op(g, osz(w), &opc, 1, 4 + below(2), &o, 0, 0);
        ins_end(g);
        clobber(g, R_EAX);
        if (w > 1)
            clobber(g, R_EDX);
    }
    /* SF ZF AF PF: undefined by the SDM; the interpreter and this host
     * leave them (fuzz_undef.h) */
    flags_written(g, FL_CF | FL_OF, 0);
}

/* DIV/IDIV with dividends and divisors that mostly fit, sometimes a zero
 * divisor or an overflow (#DE, which the handler skips). */
static void gen_div(struct gen *g)
{
    unsigned w = pick_width(), sgn = below(2);
    uint32_t need = RBIT(R_EAX) | RBIT(R_EDX);
    if ((writable_regs(g) & need) != need || g->real)
        return; /* real mode: no faults (the IVT is not the handler's) */
    struct rm o;
    bool mem = chance(30);
    uint32_t d = 1 + below(w == 1 ? 200 : 60000);
    if (chance(10))
        d = 0;
    int dr = -1;
    if (!mem) {
        uint32_t cand = writable_regs(g) & ~need;
        dr = pick_reg(cand);
        if (dr < 0)
            return;
        if (w == 1 && dr >= 4)
            return; /* AL..BL only: the divisor keeps its value */
        set_reg(g, (unsigned)dr, (rnd() & ~wmask(w)) | d);
        o = rm_reg((unsigned)dr);
    } else if (!make_mem(g, w, false, true, need, &o)) {
        return;
    }
    /* The dividend: high part below the divisor (unsigned), or the sign
     * extension of the low part (signed). */
    uint32_t lo = rnd();
    if (sgn) {
        set_reg(g, R_EAX, lo);
        if (chance(85)) {
            ins_begin(g);
            emit_prefixes(g, osz(w == 1 ? 2 : w), NULL, 0);
            b1(g, w == 1 ? 0x98 : 0x99); /* CBW, or CWD/CDQ */
            ins_end(g);
            clobber(g, w == 1 ? R_EAX : R_EDX);
        } else {
            set_reg(g, R_EDX, rnd());
        }
    } else if (w == 1) {
        uint32_t ah = mem ? (chance(70) ? 0 : below(256)) : d ? below(d) : (lo >> 8) & 0xff;
        set_reg(g, R_EAX, (lo & ~0xff00u) | ah << 8);
    } else {
        set_reg(g, R_EDX, mem || chance(10) ? (chance(70) ? 0 : rnd()) : below(d ? d : 1));
        set_reg(g, R_EAX, lo);
    }
    before(g, 0, &o, true);
    ins_begin(g);
    uint8_t opc = (uint8_t)(0xf6 + (w > 1));
    emit_op(g, osz(w), &opc, 1, 6 + sgn, &o, 0, 0);
    ins_end(g);
    clobber(g, R_EAX);
    clobber(g, R_EDX);
    /* All six undefined by the SDM; both engines run DIV in its handler,
     * which leaves them (so they stay what they were). */
}

static void gen_mov(struct gen *g)
{
    unsigned w = pick_width(), form = below(6);
    struct rm o;
    switch (form) {
    case 0: /* r/m <- reg */
        if (!pick_rm(g, w, true, chance(45), true, true, 0, &o))
            return;
        before(g, 0, &o, false);
        ins_begin(g);
        {
            uint8_t opc = (uint8_t)(0x88 + (w > 1));
            unsigned src = below(8);
            emit_op(g, osz(w), &opc, 1, src, &o, 0, 0);
            ins_end(g);
            if (!o.mem && w == 4 && reg_known(g, src))
                reg_set(g, o.reg, g->val[src]);
            else
                clobber_rm(g, &o, w);
        }
        return;
    case 1: { /* reg <- r/m */
        int d = pick_dst(g, w);
        if (d < 0 || !pick_rm(g, w, false, chance(60), false, true, 0, &o))
            return;
        before(g, 0, &o, false);
        ins_begin(g);
        uint8_t opc = (uint8_t)(0x8a + (w > 1));
        emit_op(g, osz(w), &opc, 1, (unsigned)d, &o, 0, 0);
        ins_end(g);
        clobber_sized(g, (unsigned)d, w);
        return;
    }
    case 2: /* r/m <- imm */
        if (!pick_rm(g, w, true, chance(50), true, true, 0, &o))
            return;
        before(g, 0, &o, false);
        ins_begin(g);
        {
            uint8_t opc = (uint8_t)(0xc6 + (w > 1));
            uint32_t v = fj_value() & wmask(w);
            emit_op(g, osz(w), &opc, 1, 0, &o, w, v);
            ins_end(g);
            if (!o.mem && w == 4)
                reg_set(g, o.reg, v);
            else
                clobber_rm(g, &o, w);
        }
        return;
    case 3: { /* reg <- imm (B0+r, B8+r) */
        int d = pick_dst(g, w);
        if (d < 0)
            return;
        uint32_t v = fj_value() & wmask(w);
        ins_begin(g);
        emit_prefixes(g, osz(w), NULL, 0);
        b1(g, (uint8_t)((w == 1 ? 0xb0 : 0xb8) + d));
        bimm(g, w, v);
        ins_end(g);
        if (w == 4)
            reg_set(g, (unsigned)d, v);
        else
            clobber_sized(g, (unsigned)d, w);
        return;
    }
    default: { /* AL/eAX <-> moffs */
        bool store = chance(50);
        if (!store && !(writable_regs(g) & RBIT(R_EAX)))
            return;
        g->force_disp = true;
        bool ok = make_mem(g, w, store, true, 0, &o);
        g->force_disp = false;
        if (!ok)
            return;
        before(g, 0, &o, false);
        ins_begin(g);
        emit_prefixes(g, osz(w), &o, 0);
        b1(g, (uint8_t)(0xa0 + (store ? 2 : 0) + (w > 1)));
        bimm(g, o.a16 ? 2 : 4, o.disp);
        ins_end(g);
        if (!store)
            clobber(g, R_EAX);
        return;
    }
    }
}

static void gen_movx(struct gen *g)
{
    unsigned sw = chance(50) ? 1 : 2, dw = chance(25) ? 2 : 4;
    int d = pick_dst(g, dw);
    struct rm o;
    if (d < 0 || !pick_rm(g, sw, false, chance(40), false, true, 0, &o))
        return;
    before(g, 0, &o, false);
    ins_begin(g);
    uint8_t opc[2] = { 0x0f, (uint8_t)((chance(50) ? 0xb6 : 0xbe) + (sw == 2)) };
    emit_op(g, dw, opc, 2, (unsigned)d, &o, 0, 0);
    ins_end(g);
    clobber(g, (unsigned)d);
}

/* LEA with a random form and whatever the registers hold. */
static void gen_lea(struct gen *g)
{
    unsigned w = chance(20) ? 2 : 4;
    int d = pick_dst(g, w);
    if (d < 0)
        return;
    struct rm o;
    memset(&o, 0, sizeof(o));
    o.seg_prefix = -1;
    bool a16 = g->code32 ? chance(15) : chance(80);
    /* Any registers: pretend all are known so that no setup is made. */
    uint32_t known = g->known;
    bool esp_known = g->esp_known;
    g->known = ALL_REGS;
    g->esp_known = true;
    encode_offset(g, rnd(), a16, ALL_REGS, false, &o);
    g->known = known;
    g->esp_known = esp_known;
    ins_begin(g);
    static const uint8_t opc = 0x8d;
    emit_op(g, w, &opc, 1, (unsigned)d, &o, 0, 0);
    ins_end(g);
    clobber(g, (unsigned)d);
}

/* XCHG, XADD, CMPXCHG, CMPXCHG8B. */
static void gen_xchg(struct gen *g)
{
    unsigned k = below(7), w = pick_width();
    struct rm o;
    if (k == 6) { /* CMPXCHG8B m64 */
        uint32_t need = RBIT(R_EAX) | RBIT(R_EDX);
        if ((writable_regs(g) & need) != need || !make_mem(g, 8, true, true, 0, &o))
            return;
        before(g, 0, &o, false);
        ins_begin(g);
        static const uint8_t opc[2] = { 0x0f, 0xc7 };
        emit_op(g, 0, opc, 2, 1, &o, 0, 0);
        ins_end(g);
        clobber(g, R_EAX);
        clobber(g, R_EDX);
        flags_written(g, FL_ZF, 0);
        return;
    }
    int s = pick_dst(g, w);
    if (s < 0 || !pick_rm(g, w, true, chance(50), true, true, 0, &o))
        return;
    if (k >= 4 && !(writable_regs(g) & RBIT(R_EAX)))
        return;
    before(g, 0, &o, false);
    ins_begin(g);
    if (k < 2) { /* XCHG r/m, r (or 90+r with eAX) */
        if (!o.mem && w == vsize(g) && (o.reg == R_EAX || s == R_EAX) && chance(50)) {
            b1(g, (uint8_t)(0x90 + (o.reg == R_EAX ? (unsigned)s : o.reg)));
        } else {
            uint8_t opc = (uint8_t)(0x86 + (w > 1));
            emit_op(g, osz(w), &opc, 1, (unsigned)s, &o, 0, 0);
        }
    } else {
        uint8_t opc[2] = { 0x0f, (uint8_t)((k < 4 ? 0xc0 : 0xb0) + (w > 1)) };
        emit_op(g, osz(w), opc, 2, (unsigned)s, &o, 0, 0);
    }
    ins_end(g);
    clobber_sized(g, (unsigned)s, w);
    clobber_rm(g, &o, w);
    if (k >= 4)
        clobber(g, R_EAX);
    if (k >= 2)
        flags_written(g, F_ALL, 0);
}

/* BT BTS BTR BTC (register or immediate bit number), BSF, BSR. */
static void gen_bits(struct gen *g)
{
    unsigned w = chance(40) ? 2 : 4;
    struct rm o;
    if (chance(30)) { /* BSF/BSR */
        int d = pick_dst(g, w);
        if (d < 0 || !pick_rm(g, w, false, chance(35), false, true, 0, &o))
            return;
        before(g, 0, &o, false);
        ins_begin(g);
        uint8_t opc[2] = { 0x0f, (uint8_t)(0xbc + below(2)) };
        emit_op(g, w, opc, 2, (unsigned)d, &o, 0, 0);
        ins_end(g);
        clobber(g, (unsigned)d);
        flags_written(g, FL_ZF, FL_CF | FL_OF | FL_SF | FL_AF | FL_PF);
        return;
    }
    unsigned k = below(4); /* BT BTS BTR BTC */
    bool mem = chance(40), by_imm = chance(50) || g->real;
    int br = -1;
    if (mem && !by_imm) {
        /* A register bit number reaches beyond the operand: keep it
         * small (and not negative for the writing forms). */
        br = pick_reg(writable_regs(g));
        if (br < 0)
            return;
        int32_t bit = k == 0 ? (int32_t)below(w * 8 * 6) - (int32_t)(w * 8 * 2)
                             : (int32_t)below(w * 8 * 4);
        set_reg(g, (unsigned)br, (uint32_t)bit);
    }
    /* A register bit number moves the access up to 3 operands on: the
     * target is chosen with room for them, and an ordinary one (a target
     * at a segment's edge could wrap, with 16-bit addressing, onto the
     * tables instead of faulting). */
    unsigned span = br >= 0 ? 4 * w : w;
    if (!pick_rm(g, span, k != 0, mem, k != 0, br < 0, br >= 0 ? RBIT((unsigned)br) : 0, &o))
        return;
    if (br < 0)
        br = (int)below(8);
    before(g, 0, &o, mem && !by_imm);
    ins_begin(g);
    if (by_imm) {
        static const uint8_t opc[2] = { 0x0f, 0xba };
        emit_op(g, w, opc, 2, 4 + k, &o, 1, rnd() & 0xff);
    } else {
        uint8_t opc[2] = { 0x0f, (uint8_t)(0xa3 + k * 8) };
        emit_op(g, w, opc, 2, (unsigned)br, &o, 0, 0);
    }
    ins_end(g);
    if (k)
        clobber_rm(g, &o, w);
    flags_written(g, FL_CF, 0);
}

static void gen_cond(struct gen *g)
{
    unsigned cc = below(16);
    struct rm o;
    if (chance(50)) { /* SETcc r/m8 */
        if (!pick_rm(g, 1, true, chance(30), true, true, 0, &o))
            return;
        before(g, cond_flags(cc), &o, false);
        ins_begin(g);
        uint8_t opc[2] = { 0x0f, (uint8_t)(0x90 + cc) };
        emit_op(g, 0, opc, 2, below(8), &o, 0, 0); /* the reg field is ignored */
        ins_end(g);
        clobber_rm(g, &o, 1);
    } else { /* CMOVcc r, r/m */
        unsigned w = chance(30) ? 2 : 4;
        int d = pick_dst(g, w);
        if (d < 0 || !pick_rm(g, w, false, chance(35), false, true, 0, &o))
            return;
        before(g, cond_flags(cc), &o, false);
        ins_begin(g);
        uint8_t opc[2] = { 0x0f, (uint8_t)(0x40 + cc) };
        emit_op(g, w, opc, 2, (unsigned)d, &o, 0, 0);
        ins_end(g);
        clobber(g, (unsigned)d);
    }
}

/* CBW/CWDE, CWD/CDQ, CLC STC CMC CLD STD, LAHF SAHF, BSWAP, NOP. */
static void gen_misc(struct gen *g)
{
    unsigned k = below(12);
    switch (k) {
    case 0: case 1: { /* CBW/CWDE, CWD/CDQ */
        unsigned w = chance(50) ? 2 : 4, r = k == 0 ? R_EAX : R_EDX;
        if (!(writable_regs(g) & RBIT(r)))
            return;
        ins_begin(g);
        emit_prefixes(g, w, NULL, 0);
        b1(g, (uint8_t)(0x98 + k));
        ins_end(g);
        clobber(g, r);
        return;
    }
    case 2: case 3: case 4: { /* CLC STC CMC */
        if (k == 4)
            need_flags(g, FL_CF);
        ins_begin(g);
        b1(g, k == 2 ? 0xf8 : k == 3 ? 0xf9 : 0xf5);
        ins_end(g);
        flags_written(g, FL_CF, 0);
        return;
    }
    case 5: /* CLD STD */
        if (g->in_func)
            return;
        ins_begin(g);
        g->df = (int)below(2);
        b1(g, g->df ? 0xfd : 0xfc);
        ins_end(g);
        return;
    case 6: /* LAHF */
        if (!(writable_regs(g) & RBIT(R_EAX)))
            return;
        need_flags(g, F_ALL & ~FL_OF);
        ins_begin(g);
        b1(g, 0x9f);
        ins_end(g);
        clobber(g, R_EAX);
        return;
    case 7: /* SAHF */
        ins_begin(g);
        b1(g, 0x9e);
        ins_end(g);
        flags_written(g, F_ALL & ~FL_OF, 0);
        return;
    case 8: { /* BSWAP */
        int r = pick_reg(writable_regs(g));
        if (r < 0)
            return;
        ins_begin(g);
        emit_prefixes(g, 4, NULL, 0);
        b1(g, 0x0f);
        b1(g, (uint8_t)(0xc8 + r));
        ins_end(g);
        if (reg_known(g, (unsigned)r))
            reg_set(g, (unsigned)r, __builtin_bswap32(g->val[r]));
        return;
    }
    default:
        ins_begin(g);
        b1(g, 0x90);
        ins_end(g);
        return;
    }
}

/* ---- the stack ------------------------------------------------------- */

static void esp_add(struct gen *g, int32_t d)
{
    g->val[R_ESP] += (uint32_t)d;
}

/* PUSH reg/imm/m (the default or the other operand size). */
static unsigned emit_push_any(struct gen *g)
{
    unsigned w = chance(80) ? vsize(g) : 6 - vsize(g);
    unsigned k = below(4);
    struct rm o;
    if (k == 3 && !make_mem(g, w, false, false, 0, &o))
        k = 0;
    ins_begin(g);
    switch (k) {
    case 0:
        emit_prefixes(g, w, NULL, 0);
        b1(g, (uint8_t)(0x50 + below(8)));
        break;
    case 1:
        emit_prefixes(g, w, NULL, 0);
        b1(g, 0x68);
        bimm(g, w, fj_value());
        break;
    case 2:
        emit_prefixes(g, w, NULL, 0);
        b1(g, 0x6a);
        b1(g, (uint8_t)rnd());
        break;
    default: {
        static const uint8_t opc = 0xff;
        emit_op(g, w, &opc, 1, 6, &o, 0, 0);
        break;
    }
    }
    ins_end(g);
    esp_add(g, -(int32_t)w);
    return w;
}

/* POP reg/m of `w` bytes. */
static void emit_pop_any(struct gen *g, unsigned w)
{
    int r = pick_dst(g, 4);
    struct rm o;
    bool mem = r < 0 || chance(30);
    if (mem) {
        g->no_esp_base = true;
        bool ok = make_mem(g, w, true, false, 0, &o);
        g->no_esp_base = false;
        if (!ok) {
            /* Drop the value: LEA ESP, [ESP + w] keeps the flags. */
            ins_begin(g);
            emit_prefixes(g, 0, NULL, 0);
            if (!g->code32)
                b1(g, 0x67);
            if (!g->code32)
                b1(g, 0x66);
            b1(g, 0x8d);
            b1(g, 0x64);
            b1(g, 0x24);
            b1(g, (uint8_t)w);
            ins_end(g);
            esp_add(g, (int32_t)w);
            return;
        }
    }
    ins_begin(g);
    if (mem) {
        static const uint8_t opc = 0x8f;
        emit_op(g, w, &opc, 1, 0, &o, 0, 0);
    } else {
        emit_prefixes(g, w, NULL, 0);
        b1(g, (uint8_t)(0x58 + r));
    }
    ins_end(g);
    if (!mem)
        clobber(g, (unsigned)r);
    esp_add(g, (int32_t)w);
}

static void gen_data_insn(struct gen *g);

/* PUSH a few values, work (reading them through ESP, or not), POP them
 * back into registers or memory; sometimes PUSHA/POPA around. */
static void gen_push_pop(struct gen *g)
{
    if (!g->esp_known)
        return;
    unsigned n = 1 + below(4), w[4];
    bool pusha = g->code32 && chance(10) && writable_regs(g) == (ALL_REGS & ~RBIT(R_ESP));
    if (pusha) {
        ins_begin(g);
        b1(g, 0x60);
        ins_end(g);
        esp_add(g, -32);
    }
    for (unsigned i = 0; i < n; i++)
        w[i] = emit_push_any(g);
    for (unsigned i = below(3); i > 0; i--)
        gen_data_insn(g);
    for (unsigned i = n; i-- > 0;)
        emit_pop_any(g, w[i]);
    if (pusha) {
        ins_begin(g);
        b1(g, 0x61);
        ins_end(g);
        esp_add(g, 32);
        g->known &= RBIT(R_ESP); /* the pushed values, not known */
    }
}

/* PUSHF, maybe change arithmetic flags or DF in the pushed image, POPF. */
static void gen_pushf_popf(struct gen *g)
{
    if (!g->esp_known && !g->in_func)
        return;
    unsigned w = chance(85) ? vsize(g) : 6 - vsize(g);
    need_flags(g, F_ALL);
    ins_begin(g);
    emit_prefixes(g, w, NULL, 0);
    b1(g, 0x9c);
    ins_end(g);
    esp_add(g, -(int32_t)w); /* (the image is not in the free stack below) */
    if (chance(60)) {
        uint32_t bits = (rnd() & FL_ARITH) | (!g->in_func && chance(30) ? FL_DF : 0);
        unsigned op = below(3); /* OR, AND ~, XOR */
        ins_begin(g);
        if (w == 2 ? g->code32 : !g->code32)
            b1(g, 0x66);
        if (!g->code32)
            b1(g, 0x67);
        b1(g, 0x81);
        b1(g, (uint8_t)(op == 0 ? 0x0c : op == 1 ? 0x24 : 0x34)); /* /1 /4 /6 [esp] */
        b1(g, 0x24);
        bimm(g, w, op == 1 ? ~bits : bits);
        ins_end(g);
        if (bits & FL_DF)
            g->df = op == 0 ? 1 : op == 1 ? 0 : (g->df < 0 ? -1 : !g->df);
    }
    /* Something between, the flags live in memory (not in a frame run,
     * whose operands may be anywhere below the frame's top: the image). */
    if (chance(20) && g->force_base < 0)
        gen_data_insn(g);
    ins_begin(g);
    emit_prefixes(g, w, NULL, 0);
    b1(g, 0x9d);
    ins_end(g);
    esp_add(g, (int32_t)w);
    flags_written(g, F_ALL, 0);
    g->undef = 0;
}

/* ---- rare: CPUID, BCD, XLAT, x87, port I/O ---------------------------- */

static void gen_rare(struct gen *g)
{
    uint32_t w = writable_regs(g);
    switch (below(6)) {
    case 0: { /* CPUID */
        uint32_t need = RBIT(R_EAX) | RBIT(R_EBX) | RBIT(R_ECX) | RBIT(R_EDX);
        if ((w & need) != need)
            return;
        set_reg(g, R_EAX, below(3) | (chance(20) ? 0x80000000u : 0));
        ins_begin(g);
        b1(g, 0x0f);
        b1(g, 0xa2);
        ins_end(g);
        g->known &= ~need;
        return;
    }
    case 1: { /* DAA DAS AAA AAS AAM AAD */
        if (!(w & RBIT(R_EAX)))
            return;
        static const uint8_t ops[] = { 0x27, 0x2f, 0x37, 0x3f, 0xd4, 0xd5 };
        uint8_t op = ops[below(6)];
        before(g, F_ALL, NULL, op == 0xd4);
        ins_begin(g);
        b1(g, op);
        if (op >= 0xd4)
            b1(g, chance(80) || g->real ? 10 : (uint8_t)below(4)); /* AAM 0: #DE */
        ins_end(g);
        clobber(g, R_EAX);
        /* The flags each defines (the others stay what they were) */
        flags_written(g, op == 0x27 || op == 0x2f ? F_ALL & ~FL_OF
                         : op >= 0xd4 ? FL_SF | FL_ZF | FL_PF : FL_CF | FL_AF, 0);
        return;
    }
    case 2: { /* XLAT with EBX at data */
        if ((w & (RBIT(R_EAX) | RBIT(R_EBX))) != (RBIT(R_EAX) | RBIT(R_EBX)))
            return;
        const struct fj_seg *ds = &g->seg[SEG_DS];
        if (!ds->usable || ds->expdown || ds->limit < 0x10000 || !g->code32)
            return;
        uint32_t lin = FJ_RAND + below(0x70000);
        set_reg(g, R_EBX, lin - ds->base);
        if (ds->base + ds->limit < lin + 256 && ds->limit != 0xffffffffu)
            return;
        ins_begin(g);
        b1(g, 0xd7);
        ins_end(g);
        clobber(g, R_EAX);
        return;
    }
    case 3: case 4: { /* x87 (not in real mode: an exception left pending
                       * by the protected-mode code would raise #MF there) */
        if (g->real)
            return;
        static const uint8_t two[][2] = {
            { 0xd9, 0xe8 }, { 0xd9, 0xee }, { 0xd9, 0xeb }, { 0xd8, 0xc1 }, { 0xd8, 0xc9 },
            { 0xd9, 0xc9 }, { 0xd9, 0xe0 }, { 0xd9, 0xe1 }, { 0xdd, 0xd8 }, { 0xde, 0xc1 },
            { 0xdb, 0xe3 }, { 0xd9, 0xfa },
        };
        unsigned k = below(16);
        need_flags(g, F_ALL); /* #MF, with CR0.NE, from an exception left pending */
        if (k < 12) {
            ins_begin(g);
            b1(g, two[k][0]);
            b1(g, two[k][1]);
            ins_end(g);
            return;
        }
        if (k == 12) { /* FNSTSW AX */
            if (!(w & RBIT(R_EAX)))
                return;
            ins_begin(g);
            b1(g, 0xdf);
            b1(g, 0xe0);
            ins_end(g);
            clobber(g, R_EAX);
            return;
        }
        /* FLD/FSTP m32, FILD/FISTP m32, FNSTCW m16 */
        static const uint8_t mem_ops[][2] = { { 0xd9, 0 }, { 0xd9, 3 }, { 0xdb, 0 }, { 0xdb, 3 },
                                              { 0xd9, 7 } };
        unsigned m = below(5);
        bool store = mem_ops[m][1] != 0;
        struct rm o;
        if (!make_mem(g, m == 4 ? 2 : 4, store, true, 0, &o))
            return;
        before(g, 0, &o, false);
        ins_begin(g);
        emit_op(g, 0, &mem_ops[m][0], 1, mem_ops[m][1], &o, 0, 0);
        ins_end(g);
        return;
    }
    default: { /* IN / OUT through DX (at CPL 3 without IOPL: #GP) */
        uint32_t need = RBIT(R_EDX) | RBIT(R_EAX);
        if ((w & need) != need)
            return;
        set_reg(g, R_EDX, FJ_PORT + below(8));
        unsigned size = pick_width();
        before(g, 0, NULL, g->cpl > 0 || g->in_func);
        ins_begin(g);
        emit_prefixes(g, osz(size), NULL, 0);
        bool in = chance(50);
        b1(g, (uint8_t)((in ? 0xec : 0xee) + (size > 1)));
        ins_end(g);
        if (in)
            clobber(g, R_EAX);
        return;
    }
    }
}

/* An instruction that reads the flags (some of them): SETcc, CMOVcc,
 * ADC, SBB, RCL/RCR, CMC, LAHF, PUSHF. */
static void gen_flag_reader(struct gen *g)
{
    switch (below(7)) {
    case 0: case 1:
        gen_cond(g);
        break;
    case 2:
        gen_alu2_op(g, 2 + below(2)); /* ADC, SBB */
        break;
    case 3: { /* RCL/RCR r/m, 1 */
        unsigned w = pick_width();
        struct rm o;
        if (!pick_rm(g, w, true, chance(30), true, true, 0, &o))
            return;
        before(g, FL_CF, &o, false);
        ins_begin(g);
        uint8_t opc = (uint8_t)(0xd0 + (w > 1));
        emit_op(g, osz(w), &opc, 1, 2 + below(2), &o, 0, 0);
        ins_end(g);
        clobber_rm(g, &o, w);
        flags_written(g, FL_CF | FL_OF, 0);
        break;
    }
    case 4: /* CMC */
        need_flags(g, FL_CF);
        ins_begin(g);
        b1(g, 0xf5);
        ins_end(g);
        break;
    case 5: /* LAHF */
        if (!(writable_regs(g) & RBIT(R_EAX)))
            return;
        need_flags(g, F_ALL & ~FL_OF);
        ins_begin(g);
        b1(g, 0x9f);
        ins_end(g);
        clobber(g, R_EAX);
        break;
    default:
        if (!g->shrt)
            gen_pushf_popf(g);
        break;
    }
}

/*
 * One data instruction, at random; a third of the flag writers followed
 * by an instruction that reads the flags (gen_flag_reader; Jcc come with
 * the branches), so that every kind of writer meets every kind of reader.
 */
static void gen_data_insn(struct gen *g)
{
    unsigned r = below(100);
    bool writer = true;
    if (r < 22) gen_alu2(g);
    else if (r < 25) gen_test(g);
    else if (r < 32) gen_unary(g);
    else if (r < 42) gen_shift(g);
    else if (r < 45) gen_shxd(g);
    else if (r < 50) gen_mul(g);
    else if (r < 53) gen_div(g);
    else if (r < 76) {
        writer = r >= 71; /* XADD, CMPXCHG */
        if (r < 64) gen_mov(g);
        else if (r < 68) gen_movx(g);
        else if (r < 71) gen_lea(g);
        else gen_xchg(g);
    } else if (r < 81) gen_bits(g);
    else {
        writer = false;
        if (r < 88) gen_cond(g);
        else if (r < 93 || g->shrt) gen_misc(g);
        else if (r < 95) gen_push_pop(g);
        else if (r < 97) gen_pushf_popf(g);
        else gen_rare(g);
    }
    if (writer && chance(33))
        gen_flag_reader(g);
}

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
static void emit_jump(struct gen *g, int cc, unsigned l, bool shrt)
{
    if (shrt) {
        ins_begin(g);
        b1(g, cc < 0 ? 0xeb : (uint8_t)(0x70 + cc));
        uint32_t at = g->pos;
        b1(g, 0);
        fixup(g, l, FIX_REL8, at, g->pos);
        ins_end(g);
        return;
    }
    /* Near: rel32 in 32-bit code, rel16 in 16-bit code (sometimes rel32
     * with 66 there: the target is below 64 KiB either way). */
    bool wide = g->code32 || chance(15);
    ins_begin(g);
    if (wide && !g->code32)
        b1(g, 0x66);
    if (cc < 0) {
        b1(g, 0xe9);
    } else {
        b1(g, 0x0f);
        b1(g, (uint8_t)(0x80 + cc));
    }
    uint32_t at = g->pos;
    bimm(g, wide ? 4 : 2, 0);
    fixup(g, l, wide ? FIX_REL32 : FIX_REL16, at, g->pos);
    ins_end(g);
}

static void gen_items(struct gen *g, unsigned n, bool shrt);

/* An instruction that sets the flags for a condition to test. */
static void gen_flag_setter(struct gen *g)
{
    if (chance(50))
        gen_alu2(g);
    else if (chance(50))
        gen_test(g);
    else
        gen_unary(g);
}

/* if / if-else on a condition (or JECXZ), bodies short or long. */
static void gen_if(struct gen *g)
{
    unsigned cc = below(16);
    bool jcxz = chance(8), shrt = jcxz || chance(50), has_else = chance(35);
    if (chance(50))
        gen_flag_setter(g);
    unsigned l_else = label_new(g), l_end = label_new(g);
    if (g->full)
        return;
    if (jcxz) {
        ins_begin(g);
        if (chance(30))
            b1(g, 0x67); /* the other counter size */
        b1(g, 0xe3);
        uint32_t at = g->pos;
        b1(g, 0);
        fixup(g, l_else, FIX_REL8, at, g->pos);
        ins_end(g);
    } else {
        need_flags(g, cond_flags(cc));
        emit_jump(g, (int)cc, l_else, shrt);
    }
    struct kstate k0, k1;
    ks_save(g, &k0);
    g->depth++;
    gen_items(g, 1 + below(shrt ? 5 : 10), shrt);
    if (has_else) {
        bool shrt2 = chance(50);
        emit_jump(g, -1, l_end, shrt2);
        ks_save(g, &k1);
        ks_restore(g, &k0);
        label_place(g, l_else, false);
        gen_items(g, 1 + below(shrt2 ? 5 : 10), shrt2);
        ks_merge(g, &k1);
        label_place(g, l_end, true);
    } else {
        ks_merge(g, &k0);
        label_place(g, l_else, true);
    }
    g->depth--;
}

#define FJ_MAX_DYN 60000u /* instructions a program may execute, estimated */

/* A loop counted down (DEC/JNZ, SUB/JNZ, LOOP, LOOPE/LOOPNE) or up
 * (INC/CMP/JB) in a register the body may not write. */
static void gen_loop(struct gen *g)
{
    uint32_t cand = g->in_func ? RBIT(R_EBX) | RBIT(R_EDX)
                               : RBIT(R_ECX) | RBIT(R_ESI) | RBIT(R_EDI) | RBIT(R_EBP);
    int r = pick_reg(writable_regs(g) & cand);
    if (r < 0)
        return;
    unsigned kind = below(5);
    if ((kind == 2 || kind == 3) && r != R_ECX)
        kind = 0;
    uint32_t n = chance(80) ? 1 + below(8) : 8 + below(40);
    while (n > 1 && g->weight * n * 30 > FJ_MAX_DYN)
        n /= 2;
    if (g->dyn + g->weight * n * 20 > FJ_MAX_DYN)
        return;
    set_reg(g, (unsigned)r, kind == 4 ? 0 : n);
    if (g->undef)
        emit_sanitizer(g, false);
    unsigned head = label_new(g);
    if (g->full)
        return;
    label_place(g, head, true);
    const uint32_t reserved = g->reserved;
    const uint64_t weight = g->weight;
    g->reserved |= RBIT((unsigned)r);
    /* Registers the body sets differ from one turn to the next. */
    g->known = 0;
    g->df = -1;
    g->weight *= n;
    g->depth++;
    gen_items(g, 1 + below(12), false);
    g->depth--;
    /* The back edge: the head was made with no flag undefined, so none
     * may be on the way back (kept as they are for the LOOPE/LOOPNE). */
    if (kind == 2 || kind == 3)
        need_flags(g, F_ALL & ~FL_ZF);
    if (kind == 3)
        need_flags(g, FL_ZF);
    uint32_t dist = g->pos + 2 - g->labels[head].at;
    bool a16 = !g->code32;
    if ((kind == 2 || kind == 3) && dist > 120)
        kind = 0;
    switch (kind) {
    case 0: case 1: /* DEC r / SUB r, 1; JNZ */
        ins_begin(g);
        if (kind == 0 && g->code32) {
            b1(g, (uint8_t)(0x48 + r));
        } else {
            struct rm o = rm_reg((unsigned)r);
            static const uint8_t opc = 0x83;
            emit_op(g, 4, &opc, 1, 5, &o, 1, 1);
        }
        ins_end(g);
        flags_written(g, F_ALL & ~FL_CF, 0);
        if (g->undef)
            emit_sanitizer(g, true);
        emit_jump(g, 5, head, g->pos + 2 - g->labels[head].at <= 128);
        break;
    case 2: case 3: /* LOOP, LOOPE/LOOPNE (CX or ECX) */
        ins_begin(g);
        if (chance(30)) {
            b1(g, 0x67);
            a16 = !a16;
        }
        (void)a16; /* the count is below 64 Ki: CX and ECX agree */
        b1(g, kind == 2 ? 0xe2 : (uint8_t)(0xe0 + below(2)));
        {
            uint32_t at = g->pos;
            b1(g, 0);
            fixup(g, head, FIX_REL8, at, g->pos);
        }
        ins_end(g);
        break;
    default: { /* INC r; CMP r, n; JB */
        ins_begin(g);
        struct rm o = rm_reg((unsigned)r);
        static const uint8_t inc = 0xff, cmp = 0x81;
        emit_op(g, 4, &inc, 1, 0, &o, 0, 0);
        ins_end(g);
        ins_begin(g);
        emit_op(g, 4, &cmp, 1, 7, &o, 4, n);
        ins_end(g);
        flags_written(g, F_ALL, 0);
        emit_jump(g, 2, head, g->pos + 2 - g->labels[head].at <= 128);
        break;
    }
    }
    g->weight = weight;
    g->reserved = reserved;
    clobber(g, (unsigned)r);
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
    ins_begin(g);
    if (chance(50)) {
        b1(g, (uint8_t)(0x50 + below(8)));
    } else {
        b1(g, 0x68);
        bimm(g, vsize(g), fj_value());
    }
    ins_end(g);
    esp_add(g, -(int32_t)vsize(g));
}

/* A call of function k: direct, through a register or a table, with its
 * arguments; the function writes EAX, EBX and EDX. */
static void gen_call_k(struct gen *g, unsigned k)
{
    const uint32_t clob = RBIT(R_EAX) | RBIT(R_EBX) | RBIT(R_EDX);
    if ((writable_regs(g) & clob) != clob || g->real || !ds_canonical(g))
        return;
    if (g->undef)
        emit_sanitizer(g, false);
    unsigned nargs = g->func_args[k] / vsize(g);
    for (unsigned i = 0; i < nargs; i++)
        emit_push_v(g);
    uint32_t target = g->func_at[k] - g->cs_base;
    unsigned form = below(3);
    if (form == 1) {
        int r = pick_reg(writable_regs(g));
        if (r < 0)
            form = 0;
        else {
            set_reg(g, (unsigned)r, target);
            ins_begin(g);
            struct rm o = rm_reg((unsigned)r);
            static const uint8_t opc = 0xff;
            emit_op(g, 0, &opc, 1, 2, &o, 0, 0);
            ins_end(g);
        }
    }
    if (form == 2) {
        /* CALL [table + k * size], DS: the table is in the data segment
         * the functions assume. */
        uint32_t tab = g->code32 ? FJ_TAB_FUNC32 : FJ_TAB_FUNC16;
        struct rm o;
        memset(&o, 0, sizeof(o));
        o.seg_prefix = chance(10) ? SEG_DS : -1;
        if (!encode_offset(g, tab + k * vsize(g) - g->seg[SEG_DS].base, !g->code32 && chance(70),
                           0, false, &o))
            form = 0;
        else if (default_seg(&o) != SEG_DS)
            o.seg_prefix = SEG_DS;
        if (form == 2) {
            ins_begin(g);
            static const uint8_t opc = 0xff;
            emit_op(g, 0, &opc, 1, 2, &o, 0, 0);
            ins_end(g);
        }
    }
    if (form == 0) {
        ins_begin(g);
        b1(g, 0xe8);
        uint32_t next = g->pos + vsize(g);
        bimm(g, vsize(g), g->func_at[k] - next);
        ins_end(g);
    }
    g->known &= ~clob;
    g->undef = 0;
    if (g->func_caller_pops[k]) {
        esp_add(g, (int32_t)(nargs * vsize(g)));
        if (nargs) {
            ins_begin(g); /* ADD ESP/SP, n */
            b1(g, 0x83);
            b1(g, 0xc4);
            b1(g, (uint8_t)(nargs * vsize(g)));
            ins_end(g);
            flags_written(g, F_ALL, 0);
        }
    } else {
        esp_add(g, (int32_t)(nargs * vsize(g)));
    }
}

static void gen_call(struct gen *g)
{
    if (!g->nfuncs)
        return;
    gen_call_k(g, below(g->nfuncs));
}

/* A switch: JMP through a table of case labels, by a register ANDed to
 * the table's size. */
static void gen_switch(struct gen *g)
{
    unsigned n = 2u << below(3), es = vsize(g);
    int r = pick_reg(writable_regs(g));
    if (r < 0 || g->switch_next + n * es > FJ_TAB_SWITCH_END - 64)
        return;
    /* A segment that reaches the table. */
    uint32_t tab = g->switch_next;
    int s = -1;
    for (int i = 0; i < SEG_COUNT && s < 0; i++) {
        int c = (int)((i + below(SEG_COUNT)) % SEG_COUNT);
        if (seg_allows(&g->seg[c], tab - g->seg[c].base, n * es, false) &&
            (g->code32 || tab - g->seg[c].base < 0xffff))
            s = c;
    }
    if (s < 0)
        return;
    g->switch_next += n * es;
    unsigned l_end = label_new(g), cases[8];
    for (unsigned i = 0; i < n; i++)
        cases[i] = label_new(g);
    if (g->full)
        return;
    for (unsigned i = 0; i < n; i++)
        fixup(g, cases[i], es == 4 ? FIX_ABS32 : FIX_ABS16, tab + i * es, 0);
    /* AND r, n-1 */
    ins_begin(g);
    struct rm ro = rm_reg((unsigned)r);
    static const uint8_t and_op = 0x83;
    emit_op(g, 4, &and_op, 1, 4, &ro, 1, n - 1);
    ins_end(g);
    flags_written(g, F_ALL, 0);
    if (reg_known(g, (unsigned)r))
        reg_set(g, (unsigned)r, g->val[r] & (n - 1));
    else
        clobber(g, (unsigned)r);
    if (g->undef)
        emit_sanitizer(g, false);
    /* JMP [r * es + disp32] (32-bit addressing, 67 in 16-bit code) */
    struct rm o;
    memset(&o, 0, sizeof(o));
    o.mem = true, o.mod = 0, o.rmf = 4, o.has_sib = true;
    o.sib = (uint8_t)((es == 4 ? 2 : 1) << 6 | (unsigned)r << 3 | 5);
    o.disp_size = 4, o.disp = tab - g->seg[s].base;
    o.seg_prefix = s == SEG_DS && chance(80) ? -1 : s;
    ins_begin(g);
    static const uint8_t jmp_op = 0xff;
    emit_op(g, 0, &jmp_op, 1, 4, &o, 0, 0);
    ins_end(g);
    struct kstate k0, kend;
    ks_save(g, &k0);
    bool first = true;
    g->depth++;
    for (unsigned i = 0; i < n; i++) {
        ks_restore(g, &k0);
        label_place(g, cases[i], false);
        gen_items(g, 1 + below(6), false);
        if (i + 1 < n) /* over the other cases: near */
            emit_jump(g, -1, l_end, false);
        if (first)
            ks_save(g, &kend), first = false;
        else
            ks_merge(g, &kend), ks_save(g, &kend);
    }
    g->depth--;
    label_place(g, l_end, true);
}

/* A forward JMP through a register or memory over bytes never run (the
 * translator must stop at the jump). */
static void gen_jmp_indirect(struct gen *g)
{
    unsigned l = label_new(g);
    if (g->full)
        return;
    if (g->undef)
        emit_sanitizer(g, false);
    int r = pick_reg(writable_regs(g));
    if (r < 0)
        return;
    /* MOV r, L (the field fixed up) then JMP r, or the same through a
     * table slot in memory. */
    ins_begin(g);
    emit_prefixes(g, 4, NULL, 0);
    b1(g, (uint8_t)(0xb8 + r));
    uint32_t at = g->pos;
    b4(g, 0);
    ins_end(g);
    fixup(g, l, FIX_ABS32, at, 0);
    clobber(g, (unsigned)r);
    ins_begin(g);
    struct rm o = rm_reg((unsigned)r);
    static const uint8_t opc = 0xff;
    emit_op(g, 0, &opc, 1, 4, &o, 0, 0);
    ins_end(g);
    for (unsigned i = below(12); i > 0; i--)
        b1(g, (uint8_t)rnd());
    label_place(g, l, false);
    g->undef = 0;
}

/* ------------------------------------------------------------------ */
/* String instructions                                                 */
/* ------------------------------------------------------------------ */

/* A segment register that reaches linear [lo, lo + len) for the access
 * kind, with offsets that fit `a16`; -1 if none. `only` >= 0 forces it. */
static int seg_reaching(const struct gen *g, uint32_t lo, uint32_t len, bool write, bool a16,
                        int only)
{
    int start = (int)below(SEG_COUNT);
    for (int i = 0; i < SEG_COUNT; i++) {
        int s = only >= 0 ? only : (start + i) % SEG_COUNT;
        const struct fj_seg *sg = &g->seg[s];
        uint32_t off = lo - sg->base;
        if (seg_allows(sg, off, len, write) && (!a16 || off + len - 1 <= 0xffff))
            return s;
        if (only >= 0)
            return -1;
    }
    return -1;
}

/* MOVS STOS LODS CMPS SCAS, REP'd or not, in every width, with counts
 * from 0 to past 4096 elements (crossing pages), forwards or backwards;
 * sometimes from MMIO or into a special page where it faults part way. */
static void gen_string(struct gen *g)
{
    const uint32_t need = RBIT(R_ECX) | RBIT(R_ESI) | RBIT(R_EDI) | RBIT(R_EAX);
    if ((writable_regs(g) & need) != need || g->in_func)
        return;
    unsigned op = below(5); /* MOVS STOS LODS CMPS SCAS */
    unsigned w = pick_width();
    bool rep = chance(85), a16 = g->code32 ? chance(15) : chance(80);
    bool unsafe = !g->real && chance(15);
    uint32_t count;
    switch (below(6)) {
    case 0: count = below(3); break;
    case 1: count = 4096 / w + below(3000); break;
    case 2: count = 100 + below(900); break;
    default: count = 1 + below(40); break;
    }
    if (!rep)
        count = 1;
    uint32_t bytes = count * w;
    if (a16 && bytes > 0x7000)
        return;
    if (g->df < 0 || chance(15)) {
        ins_begin(g);
        g->df = chance(25);
        b1(g, g->df ? 0xfd : 0xfc);
        ins_end(g);
    }
    bool back = g->df == 1;
    bool reads_src = op == 0 || op == 2 || op == 3;   /* DS:ESI */
    bool uses_dst = op != 2;                           /* ES:EDI */
    bool writes_dst = op == 0 || op == 1;
    /* Ranges: [lo, lo + bytes); ESI/EDI start at its first element (the
     * last one going backwards). */
    uint32_t span = bytes ? bytes : w;
    int ss = -1, ds = -1;
    uint32_t src_lo = 0, dst_lo = 0;
    int src_seg = -1;
    if (reads_src) {
        src_seg = g->code32 && chance(30) ? (int)below(SEG_COUNT) : SEG_DS;
        for (int t = 0; t < 8 && ss < 0; t++) {
            uint32_t lo, hi;
            static const enum mem_kind sk[] = { MK_DATA, MK_DATA, MK_TABLES, MK_CODE };
            enum mem_kind k = unsafe && chance(50) ? MK_MMIO : sk[below(4)];
            kind_range(g, k, &lo, &hi);
            if (hi - lo <= span + 8)
                continue;
            src_lo = lo + below(hi - lo - span);
            if (chance(50))
                src_lo &= ~(w - 1);
            ss = seg_reaching(g, src_lo, span, false, a16, src_seg);
            if (unsafe && k == MK_MMIO && ss < 0)
                ss = src_seg; /* into the hole past the device, or the limit */
        }
        if (ss < 0)
            return;
    }
    if (uses_dst) {
        for (int t = 0; t < 8 && ds < 0; t++) {
            uint32_t lo, hi;
            kind_range(g, writes_dst || chance(50) ? MK_DATA : MK_CODE, &lo, &hi);
            if (hi - lo <= span + 8)
                continue;
            dst_lo = lo + below(hi - lo - span);
            if (unsafe && writes_dst && g->paging && chance(60))
                dst_lo = FJ_SPECIAL - span / 2 - below(64); /* runs into a special page */
            if (chance(50))
                dst_lo &= ~(w - 1);
            /* (Never a destination the segment does not reach: with 16-bit
             * addressing DI would wrap onto something else.) */
            ds = seg_reaching(g, dst_lo, span, writes_dst, a16, SEG_ES);
        }
        if (ds < 0)
            return;
    }
    /* Flags go to the handler if it faults, and CMPS/SCAS read none. */
    if (unsafe)
        need_flags(g, F_ALL);
    uint32_t first_src = back ? src_lo + span - w : src_lo;
    uint32_t first_dst = back ? dst_lo + span - w : dst_lo;
    if (reads_src)
        set_reg(g, R_ESI, first_src - g->seg[ss].base);
    if (uses_dst)
        set_reg(g, R_EDI, first_dst - g->seg[SEG_ES].base);
    set_reg(g, R_ECX, count | (a16 ? rnd() & 0xffff0000u : 0));
    if (op >= 3 || chance(30))
        set_reg(g, R_EAX, rnd());
    if (unsafe || op >= 3)
        need_flags(g, F_ALL);
    ins_begin(g);
    if (a16 == g->code32)
        b1(g, 0x67);
    if (osz(w) && (w == 2) == g->code32)
        b1(g, 0x66);
    if (reads_src && ss != SEG_DS)
        b1(g, seg_prefix_byte[ss]);
    if (rep)
        b1(g, op >= 3 && chance(50) ? 0xf2 : 0xf3);
    static const uint8_t base_op[5] = { 0xa4, 0xaa, 0xac, 0xa6, 0xae };
    b1(g, (uint8_t)(base_op[op] + (w > 1)));
    ins_end(g);
    g->known &= ~need;
    if (op >= 3 && count)
        flags_written(g, F_ALL, 0);
}

/* ------------------------------------------------------------------ */
/* Self-modifying code                                                 */
/* ------------------------------------------------------------------ */

/* A writable segment register that reaches the whole code area. */
static int code_seg(const struct gen *g)
{
    return seg_reaching(g, FJ_CODE, FJ_CODE_SIZE, true, false, -1);
}

/* MOV r32, imm32 (B8+r), the instruction the stores patch; returns the
 * linear address of its immediate. */
static uint32_t emit_patchable(struct gen *g, unsigned r, uint32_t v)
{
    ins_begin(g);
    if (!g->code32)
        b1(g, 0x66);
    b1(g, (uint8_t)(0xb8 + r));
    uint32_t at = g->pos;
    b4(g, v);
    ins_end(g);
    reg_set(g, r, v);
    return at;
}

/* A store of `size` bytes of `v` to linear `lin` through segment s, with
 * a displacement-only operand (so the address can be patched in later:
 * returns the displacement's linear address). */
static uint32_t emit_store_disp(struct gen *g, int s, uint32_t lin, unsigned size, uint32_t v)
{
    struct rm o;
    memset(&o, 0, sizeof(o));
    o.mem = true, o.mod = 0, o.rmf = 5, o.disp_size = 4, o.disp = lin - g->seg[s].base;
    o.seg_prefix = s == SEG_DS && chance(80) ? -1 : s;
    ins_begin(g);
    uint8_t opc = size == 1 ? 0xc6 : 0xc7;
    emit_prefixes(g, osz(size), &o, 0);
    b1(g, opc);
    b1(g, 0x05);
    uint32_t at = g->pos;
    b4(g, o.disp);
    bimm(g, size, v);
    ins_end(g);
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
static void gen_smc(struct gen *g)
{
    int s = code_seg(g);
    if (s < 0 || g->in_func)
        return;
    if (g->undef)
        emit_sanitizer(g, false);
    unsigned kind = below(7);
    int r = pick_reg(writable_regs(g));
    if (r < 0)
        return;
    switch (kind) {
    case 0: case 1: { /* the next instruction, or one up to 4 ahead */
        unsigned size = chance(70) ? 4 : 1 + below(2), ahead = kind == 0 ? 0 : 1 + below(4);
        uint32_t v = fj_value(), k = size == 4 ? 0 : below(4 - size + 1);
        uint32_t field = emit_store_disp(g, s, 0, size, v);
        for (unsigned i = 0; i < ahead; i++) { /* register-only, block goes on */
            int d = pick_dst(g, 4);
            if (d < 0 || d == r)
                break;
            ins_begin(g);
            struct rm o = rm_reg((unsigned)d);
            uint8_t opc = (uint8_t)(below(8) * 8 + 1);
            emit_op(g, 4, &opc, 1, below(8), &o, 0, 0);
            ins_end(g);
            clobber(g, (unsigned)d);
            flags_written(g, F_ALL, 0);
        }
        uint32_t old = rnd();
        uint32_t imm = emit_patchable(g, (unsigned)r, old);
        put32(g->img, field, imm + k - g->seg[s].base);
        uint32_t nv = old;
        memcpy((uint8_t *)&nv + k, &v, size);
        reg_set(g, (unsigned)r, nv);
        return;
    }
    case 2: { /* the next instruction's opcode: one one-byte instruction
               * for another (NOP, INC/DEC of a register, CLC/STC) */
        int d = pick_reg(writable_regs(g));
        if (d < 0)
            return;
        uint8_t ops[5] = { 0x90, (uint8_t)(0x40 + d), (uint8_t)(0x48 + d), 0xf8, 0xf9 };
        uint32_t field = emit_store_disp(g, s, 0, 1, ops[below(5)]);
        ins_begin(g);
        uint32_t at = g->pos;
        b1(g, ops[below(5)]);
        ins_end(g);
        put32(g->img, field, at - g->seg[s].base);
        clobber(g, (unsigned)d);
        flags_written(g, F_ALL & ~FL_CF, 0); /* defined, whichever ran */
        return;
    }
    case 3: { /* a loop that changes its own immediate every turn */
        uint32_t cand = writable_regs(g) & (RBIT(R_ECX) | RBIT(R_ESI) | RBIT(R_EDI) | RBIT(R_EBP)) &
                        ~RBIT((unsigned)r);
        int c = pick_reg(cand);
        if (c < 0)
            return;
        uint32_t n = 2 + below(10);
        set_reg(g, (unsigned)c, n);
        unsigned head = label_new(g);
        if (g->full)
            return;
        label_place(g, head, true);
        uint32_t imm = emit_patchable(g, (unsigned)r, rnd());
        clobber(g, (unsigned)r);
        /* ADD/XOR [imm], value: ALU on a code byte range */
        struct rm o;
        memset(&o, 0, sizeof(o));
        o.mem = true, o.mod = 0, o.rmf = 5, o.disp_size = 4, o.disp = imm - g->seg[s].base;
        o.seg_prefix = s == SEG_DS && chance(80) ? -1 : s;
        ins_begin(g);
        static const uint8_t opc = 0x81;
        emit_op(g, 4, &opc, 1, chance(50) ? 0 : 6, &o, 4, rnd());
        ins_end(g);
        ins_begin(g);
        if (g->code32)
            b1(g, (uint8_t)(0x48 + c));
        else
            b1(g, 0x66), b1(g, (uint8_t)(0x48 + c));
        ins_end(g);
        flags_written(g, F_ALL, 0);
        emit_jump(g, 5, head, true);
        clobber(g, (unsigned)c);
        return;
    }
    default: { /* a function's immediate: stored, copied, or through an alias */
        if (!g->nfuncs)
            return;
        unsigned k = below(g->nfuncs);
        if (!g->func_patch[k])
            return;
        uint32_t v = rnd();
        unsigned how = kind - 4; /* 0 store, 1 REP MOVSB, 2 alias */
        if (how == 1) {
            const uint32_t need = RBIT(R_ECX) | RBIT(R_ESI) | RBIT(R_EDI);
            int src = seg_reaching(g, FJ_TAB_TEMPL, 16, false, false, SEG_DS);
            if ((writable_regs(g) & need) != need || src < 0 ||
                seg_reaching(g, FJ_CODE, FJ_CODE_SIZE, true, false, SEG_ES) < 0 ||
                g->templ_len == 0)
                how = 0;
            else {
                if (g->df != 0) {
                    ins_begin(g);
                    b1(g, 0xfc);
                    ins_end(g);
                    g->df = 0;
                }
                /* the template: the function's MOV EAX, imm32 with another
                 * immediate; copied over it */
                uint32_t from = g->func_patch[k] - (g->code32 ? 1 : 2);
                set_reg(g, R_ESI, FJ_TAB_TEMPL + below(2) * 8 - g->seg[SEG_DS].base);
                set_reg(g, R_EDI, from - g->seg[SEG_ES].base);
                set_reg(g, R_ECX, g->code32 ? 5 : 6);
                ins_begin(g);
                if (!g->code32)
                    b1(g, 0x67);
                b1(g, 0xf3);
                b1(g, 0xa4);
                ins_end(g);
                g->known &= ~need;
            }
        }
        if (how == 2) {
            int alias = -1;
            for (unsigned i = 0; i < FJ_SPECIAL_PAGES && g->paging; i++)
                if (g->sp[i] == SP_ALIAS && g->sp_frame[i] == (g->func_patch[k] & ~0xfffu))
                    alias = (int)i;
            int as = alias < 0 ? -1
                               : seg_reaching(g, FJ_SPECIAL + (uint32_t)alias * 4096u, 4096, true,
                                              false, -1);
            if (as < 0)
                how = 0;
            else
                emit_store_disp(g, as,
                                FJ_SPECIAL + (uint32_t)alias * 4096u + (g->func_patch[k] & 0xfff),
                                4, v);
        }
        if (how == 0) {
            uint32_t field = emit_store_disp(g, s, 0, 4, v);
            put32(g->img, field, g->func_patch[k] - g->seg[s].base);
        }
        if (chance(80))
            gen_call_k(g, k);
        return;
    }
    }
}

/* ------------------------------------------------------------------ */
/* Segments, rings, paging, real mode, faults                          */
/* ------------------------------------------------------------------ */

static const uint8_t *fj_gdt_image; /* the GDT as built (fj_base) */

/* The segment cache a selector loads, as the CPU builds it. */
static struct seg fj_desc_seg(uint16_t sel)
{
    struct desc d;
    memcpy(&d.lo, fj_gdt_image + FJ_GDT + (sel & 0xfff8u), 4);
    memcpy(&d.hi, fj_gdt_image + FJ_GDT + (sel & 0xfff8u) + 4, 4);
    struct seg s;
    seg_from_desc(&s, sel, d);
    return s;
}

static struct fj_seg fj_seg_of(uint16_t sel)
{
    struct fj_seg f;
    memset(&f, 0, sizeof(f));
    f.sel = sel;
    if ((sel & 0xfffc) == 0)
        return f; /* null: unusable */
    struct seg s = fj_desc_seg(sel);
    f.base = s.base;
    f.limit = s.limit;
    f.usable = true;
    bool code = s.ar & AR_T_CODE;
    f.writable = !code && (s.ar & AR_T_WRITABLE);
    f.readable = !code || (s.ar & AR_T_READABLE);
    f.expdown = !code && (s.ar & AR_T_EXPDOWN);
    f.big = s.ar & AR_DB;
    return f;
}

/* Whether loading `sel` into a data segment register at the current CPL
 * succeeds (SDM Vol. 3A 5.10: a null selector loads; a data or readable
 * code segment with max(CPL, RPL) <= DPL, present). */
static bool fj_data_load_ok(const struct gen *g, uint16_t sel)
{
    if ((sel & 0xfffc) == 0)
        return true;
    if ((sel | 7) > FJ_GDT_ENTRIES * 8 - 1)
        return false;
    struct seg s = fj_desc_seg(sel);
    if (!(s.ar & AR_S) || !(s.ar & AR_P))
        return false;
    if ((s.ar & AR_T_CODE) && !(s.ar & AR_T_READABLE))
        return false;
    unsigned dpl = AR_DPL(s.ar), rpl = sel & 3;
    bool conforming = (s.ar & AR_T_CODE) && (s.ar & AR_T_CONFORM);
    return conforming || ((unsigned)g->cpl <= dpl && rpl <= dpl);
}

static const uint16_t fj_data_sels[] = {
    SEL_DATA0, SEL_DATA3, SEL_DATA16, SEL_DATAB, SEL_SMALL, SEL_RO, SEL_EXPDOWN, SEL_HIBASE,
    SEL_DATA3, SEL_DATA0, SEL_NP, SEL_CODE0, SEL_TSS, 0, 0x7f8, SEL_STACK16,
};

/* MOV Sreg, r16 / POP Sreg / LDS-LGS / MOV r/m, Sreg / PUSH Sreg, on the
 * data segment registers (and SS reloaded with its own selector); the
 * generator predicts which loads fault (#GP, #NP: skipped). */
static void gen_seg(struct gen *g)
{
    static const int sregs[4] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
    int s = sregs[below(4)];
    uint16_t sel = fj_data_sels[below(sizeof(fj_data_sels) / sizeof(fj_data_sels[0]))];
    if (g->cpl == 3 && (sel & 3) == 0 && chance(70))
        sel |= 3;
    if (g->real)
        return;
    bool ok = fj_data_load_ok(g, sel);
    unsigned how = below(5);
    if (how == 4) { /* MOV r/m16, Sreg */
        struct rm o;
        if (!pick_rm(g, 2, true, chance(40), true, true, 0, &o))
            return;
        before(g, 0, &o, false);
        ins_begin(g);
        static const uint8_t opc = 0x8c;
        emit_op(g, chance(50) && !o.mem ? 4 : 2, &opc, 1, (unsigned)s, &o, 0, 0);
        ins_end(g);
        clobber_rm(g, &o, 2);
        return;
    }
    need_flags(g, F_ALL); /* it may fault */
    if (how == 0) { /* MOV Sreg, r16 (or r32) */
        int r = pick_reg(writable_regs(g));
        if (r < 0)
            return;
        set_reg(g, (unsigned)r, (rnd() & 0xffff0000u) | sel);
        ins_begin(g);
        struct rm o = rm_reg((unsigned)r);
        static const uint8_t opc = 0x8e;
        emit_op(g, chance(20) ? 4 : 0, &opc, 1, (unsigned)s, &o, 0, 0);
        ins_end(g);
    } else if (how == 1 && g->esp_known) { /* PUSH imm / PUSH Sreg; POP Sreg */
        unsigned w = vsize(g);
        ins_begin(g);
        emit_prefixes(g, w, NULL, 0);
        b1(g, 0x68);
        bimm(g, w, sel);
        ins_end(g);
        ins_begin(g);
        emit_prefixes(g, w, NULL, 0);
        static const uint8_t pop1[SEG_COUNT] = { 0x07, 0, 0x17, 0x1f, 0xa1, 0xa9 };
        if (s >= SEG_FS)
            b1(g, 0x0f);
        b1(g, pop1[s]);
        ins_end(g);
        /* A faulting POP Sreg leaves ESP alone: the handler skips it,
         * the value stays pushed. Drop it either way. */
        if (!ok) {
            ins_begin(g);
            if (!g->code32)
                b1(g, 0x66), b1(g, 0x67);
            b1(g, 0x8d); /* LEA ESP, [ESP + w] */
            b1(g, 0x64);
            b1(g, 0x24);
            b1(g, (uint8_t)w);
            ins_end(g);
        }
    } else { /* LDS/LES/LFS/LGS r, m16:32 / m16:16 from the far-pointer table */
        unsigned w = chance(80) ? vsize(g) : 6 - vsize(g);
        int d = pick_dst(g, 4);
        uint32_t tab = w == 4 ? FJ_TAB_FAR : FJ_TAB_FAR16;
        unsigned idx = below(16), esz = w == 4 ? 8 : 4;
        uint32_t lin = tab + idx * esz;
        int ts = seg_reaching(g, lin, w + 2, false, !g->code32, -1);
        if (d < 0 || ts < 0 || ts == s)
            return;
        struct rm o;
        memset(&o, 0, sizeof(o));
        o.seg_prefix = ts;
        if (!encode_offset(g, lin - g->seg[ts].base, !g->code32 && chance(60), RBIT((unsigned)d),
                           false, &o))
            return;
        if (default_seg(&o) == ts && chance(70))
            o.seg_prefix = -1;
        uint16_t fsel;
        memcpy(&fsel, g->img + lin + w, 2);
        sel = fsel;
        ok = fj_data_load_ok(g, sel);
        ins_begin(g);
        if (s == SEG_ES || s == SEG_DS) {
            uint8_t opc = s == SEG_ES ? 0xc4 : 0xc5;
            emit_op(g, w, &opc, 1, (unsigned)d, &o, 0, 0);
        } else {
            uint8_t opc[2] = { 0x0f, (uint8_t)(s == SEG_FS ? 0xb4 : 0xb5) };
            emit_op(g, w, opc, 2, (unsigned)d, &o, 0, 0);
        }
        ins_end(g);
        clobber(g, (unsigned)d);
        if (ok && w == 4) {
            uint32_t off;
            memcpy(&off, g->img + lin, 4);
            reg_set(g, (unsigned)d, off);
        }
    }
    if (ok)
        g->seg[s] = fj_seg_of(sel);
}

/* Ring 0 -> 3 by IRET (data segments with DPL 0 become null), ring 3 ->
 * 0 by INT 80h (whose handler goes on at ring 0 after the INT). */
static void gen_ring(struct gen *g)
{
    if (g->mode != FJ_USER && g->mode != FJ_PAGING_USER)
        return;
    need_flags(g, F_ALL);
    if (g->cpl == 3) {
        ins_begin(g);
        b1(g, 0xcd);
        b1(g, 0x80);
        ins_end(g);
        g->cpl = 0;
        g->seg[SEG_CS] = fj_seg_of(SEL_CODE0);
        g->seg[SEG_SS] = fj_seg_of(SEL_DATA0);
        g->val[R_ESP] = FJ_STACK0;
        return;
    }
    unsigned l = label_new(g);
    if (g->full)
        return;
    /* Usually give the data segment registers ring-3 selectors first. */
    for (int s = 0; s < SEG_COUNT; s++) {
        if (s == SEG_CS || s == SEG_SS || !chance(80))
            continue;
        static const uint16_t user[] = { SEL_DATA3, SEL_DATA3, SEL_DATAB, SEL_DATA16, SEL_HIBASE };
        uint16_t sel = user[below(5)];
        int r = pick_reg(writable_regs(g));
        if (r < 0)
            break;
        set_reg(g, (unsigned)r, sel);
        ins_begin(g);
        struct rm o = rm_reg((unsigned)r);
        static const uint8_t opc = 0x8e;
        emit_op(g, 0, &opc, 1, (unsigned)s, &o, 0, 0);
        ins_end(g);
        g->seg[s] = fj_seg_of(sel);
    }
    uint32_t esp3 = FJ_STACK3 - 4 * below(16);
    static const uint32_t pushes[3] = { SEL_DATA3, 0, SEL_CODE3 };
    for (int i = 0; i < 5; i++) {
        ins_begin(g);
        if (i == 2) {
            b1(g, 0x9c); /* PUSHFD */
        } else {
            b1(g, 0x68);
            uint32_t at = g->pos;
            b4(g, i == 0 ? pushes[0] : i == 1 ? esp3 : i == 3 ? pushes[2] : 0);
            if (i == 4)
                fixup(g, l, FIX_ABS32, at, 0);
        }
        ins_end(g);
    }
    ins_begin(g);
    b1(g, 0xcf); /* IRETD */
    ins_end(g);
    label_place(g, l, false);
    g->cpl = 3;
    g->seg[SEG_CS] = fj_seg_of(SEL_CODE3);
    g->seg[SEG_SS] = fj_seg_of(SEL_DATA3);
    g->val[R_ESP] = esp3;
    for (int s = 0; s < SEG_COUNT; s++) {
        if (s == SEG_CS || s == SEG_SS || !g->seg[s].usable)
            continue;
        struct seg c = fj_desc_seg(g->seg[s].sel);
        bool conforming = (c.ar & AR_T_CODE) && (c.ar & AR_T_CONFORM);
        if (!conforming && AR_DPL(c.ar) < 3)
            g->seg[s] = fj_seg_of(0);
    }
}

/* Page-table edits of the special pages, each made visible at once by
 * INVLPG or a CR3 reload; CR0.WP flips (with a reload). */
static void gen_paging(struct gen *g)
{
    if (!g->paging || g->cpl != 0)
        return;
    int s = seg_reaching(g, FJ_PT0, 4096, true, false, -1);
    int r = pick_reg(writable_regs(g));
    if (s < 0 || r < 0)
        return;
    if (chance(20)) { /* WP */
        ins_begin(g);
        b1(g, 0x0f), b1(g, 0x20), b1(g, (uint8_t)(0xc0 | r)); /* MOV r, CR0 */
        ins_end(g);
        ins_begin(g);
        if (!g->code32)
            b1(g, 0x66);
        b1(g, 0x81), b1(g, (uint8_t)(0xf0 | r)), b4(g, CR0_WP); /* XOR r, WP */
        ins_end(g);
        flags_written(g, F_ALL, 0);
        ins_begin(g);
        b1(g, 0x0f), b1(g, 0x22), b1(g, (uint8_t)(0xc0 | r)); /* MOV CR0, r */
        ins_end(g);
        clobber(g, (unsigned)r);
    } else {
        unsigned i = below(FJ_SPECIAL_PAGES - 2);
        unsigned st = below(SP_STATES);
        uint32_t frame = FJ_SPECIAL + i * 4096u;
        if (st == SP_ALIAS)
            frame = chance(50) ? FJ_RAND + below(0x60) * 4096u
                               : FJ_SPECIAL + below(FJ_SPECIAL_PAGES) * 4096u;
        static const uint32_t bits[SP_STATES] = { 7, 6, 0x204, 5, 3, 7 };
        g->sp[i] = (uint8_t)st;
        g->sp_frame[i] = frame;
        emit_store_disp(g, s, FJ_PT0 + ((FJ_SPECIAL >> 12) + i) * 4, 4, frame | bits[st]);
    }
    if (chance(50)) { /* INVLPG of the page (or of another: a reload then) */
        unsigned i = below(FJ_SPECIAL_PAGES);
        struct rm o;
        memset(&o, 0, sizeof(o));
        o.seg_prefix = -1;
        uint32_t lin = FJ_SPECIAL + i * 4096u + below(4096);
        int ls = seg_reaching(g, lin, 1, false, false, -1);
        if (ls >= 0 && encode_offset(g, lin - g->seg[ls].base, false, 0, false, &o)) {
            if (default_seg(&o) != ls)
                o.seg_prefix = ls;
            ins_begin(g);
            static const uint8_t opc[2] = { 0x0f, 0x01 };
            emit_op(g, 0, opc, 2, 7, &o, 0, 0);
            ins_end(g);
        }
    }
    /* A CR3 reload flushes everything (the INVLPG above may have been of
     * another page). */
    ins_begin(g);
    b1(g, 0x0f), b1(g, 0x20), b1(g, (uint8_t)(0xd8 | r)); /* MOV r, CR3 */
    ins_end(g);
    ins_begin(g);
    b1(g, 0x0f), b1(g, 0x22), b1(g, (uint8_t)(0xd8 | r)); /* MOV CR3, r */
    ins_end(g);
    reg_set(g, (unsigned)r, FJ_PD);
}

static void gen_items_real(struct gen *g, unsigned n);

/* LIDT [lin] through segment s (the segment caches stay as they were in
 * real mode, so the same operand works in both). */
static void emit_lidt(struct gen *g, int s, uint32_t lin)
{
    struct rm o;
    memset(&o, 0, sizeof(o));
    o.mem = true, o.mod = 0, o.rmf = 5, o.disp_size = 4, o.disp = lin - g->seg[s].base;
    o.seg_prefix = s == SEG_DS ? -1 : s;
    ins_begin(g);
    static const uint8_t opc[2] = { 0x0f, 0x01 };
    emit_op(g, 0, opc, 2, 3, &o, 0, 0);
    ins_end(g);
}

/* 16-bit protected mode -> real mode (CR0.PE cleared, far JMP) -> work
 * -> protected mode again (far JMP to the 16-bit code segment). The
 * segment caches keep their protected-mode values meanwhile. */
static void gen_real(struct gen *g)
{
    if (g->mode != FJ_PM16 || g->paging || g->cpl != 0 || !(writable_regs(g) & RBIT(R_EAX)) ||
        g->depth > 0)
        return;
    unsigned l1 = label_new(g), l2 = label_new(g);
    if (g->full)
        return;
    /* The real-mode IVT for the excursion (LIDT; the IDT again after). */
    int ts = seg_reaching(g, FJ_TAB_IDTR, 16, false, false, -1);
    if (ts < 0)
        return;
    emit_lidt(g, ts, FJ_TAB_IDTR);
    ins_begin(g);
    b1(g, 0x0f), b1(g, 0x20), b1(g, 0xc0); /* MOV EAX, CR0 */
    ins_end(g);
    ins_begin(g);
    b1(g, 0x66), b1(g, 0x25), b4(g, ~CR0_PE); /* AND EAX, ~PE */
    ins_end(g);
    ins_begin(g);
    b1(g, 0x0f), b1(g, 0x22), b1(g, 0xc0); /* MOV CR0, EAX */
    ins_end(g);
    ins_begin(g);
    b1(g, 0xea); /* JMP FJ_CODE>>4 : l1 */
    uint32_t at = g->pos;
    b2(g, 0);
    b2(g, (uint16_t)(FJ_CODE >> 4));
    ins_end(g);
    fixup(g, l1, FIX_ABS16, at, 0);
    clobber(g, R_EAX);
    flags_written(g, F_ALL, 0);
    label_place(g, l1, false);
    g->real = true;
    gen_items_real(g, 2 + below(12));
    g->real = false;
    ins_begin(g);
    b1(g, 0x0f), b1(g, 0x20), b1(g, 0xc0);
    ins_end(g);
    ins_begin(g);
    b1(g, 0x66), b1(g, 0x0d), b4(g, CR0_PE); /* OR EAX, PE */
    ins_end(g);
    ins_begin(g);
    b1(g, 0x0f), b1(g, 0x22), b1(g, 0xc0);
    ins_end(g);
    ins_begin(g);
    b1(g, 0xea);
    at = g->pos;
    b2(g, 0);
    b2(g, SEL_CODE16);
    ins_end(g);
    fixup(g, l2, FIX_ABS16, at, 0);
    clobber(g, R_EAX);
    flags_written(g, F_ALL, 0);
    label_place(g, l2, false);
    emit_lidt(g, ts, FJ_TAB_IDTR + 8);
}

/* Instructions that fault or trap on purpose: UD2, INT3, INTO, INT 81h,
 * INT 82h (a ring-0 gate: #GP from ring 3), BOUND, HLT/CLI/MOV CR at
 * ring 3. The handler logs them; faults are skipped, traps return. */
static void gen_fault(struct gen *g)
{
    if (g->real)
        return;
    need_flags(g, F_ALL);
    unsigned k = below(8);
    ins_begin(g);
    switch (k) {
    case 0: b1(g, 0x0f), b1(g, 0x0b); break;            /* UD2 */
    case 1: b1(g, 0xcc); break;                         /* INT3 */
    case 2: b1(g, 0xce); break;                         /* INTO */
    case 3: b1(g, 0xcd), b1(g, 0x81); break;            /* INT 81h */
    case 4: b1(g, 0xcd), b1(g, 0x82); break;            /* INT 82h */
    case 5: { /* BOUND r, m: bounds from data (or a fault there) */
        ins_end(g);
        struct rm o;
        unsigned w = vsize(g);
        if (!make_mem(g, 2 * w, false, true, 0, &o))
            return;
        need_flags(g, F_ALL);
        ins_begin(g);
        static const uint8_t opc = 0x62;
        emit_op(g, 0, &opc, 1, below(8), &o, 0, 0);
        break;
    }
    default:
        if (g->cpl == 3 && !g->in_func) { /* functions run at either ring */
            static const uint8_t priv[3][3] = { { 0xf4 }, { 0xfa }, { 0x0f, 0x22, 0xc0 } };
            unsigned p = below(3);
            for (unsigned i = 0; i < (p == 2 ? 3u : 1u); i++)
                b1(g, priv[p][i]);
        } else {
            b1(g, 0x0f), b1(g, 0x0b);
        }
        break;
    }
    ins_end(g);
}

/*
 * A region of data for [EBP + disp] operands (gen_frame_run, after a
 * LEAVE), and EBP at it: inside a page, across a page's end, or hugging
 * one from below (so that only the highest access may straddle it); with
 * paging, across or up to the end of the data, where the special pages
 * begin (not present, read-only, an alias...: another host address or a
 * fault, which is what makes a frame the JIT proves wrongly show).
 * False if SS does not reach the data.
 */
static bool frame_in_data(struct gen *g, uint32_t *lo, uint32_t *hi)
{
    const struct fj_seg *ss = &g->seg[SEG_SS];
    if (!(writable_regs(g) & RBIT(R_EBP)) || ss->expdown || ss->base > FJ_RAND ||
        ss->limit < FJ_DATA_END + 0x100 - ss->base)
        return false;
    uint32_t end = ((FJ_RAND + 0x1000 + below(FJ_DATA_END - FJ_RAND - 0x3000)) | 0xfff) + 1;
    unsigned how = below(4);
    if (how == 3 && g->paging)
        end = FJ_DATA_END, how = below(2);
    uint32_t centre;
    switch (how) {
    case 0: /* hugging a page's end */
        *lo = end - 0x60, *hi = end + 1 + below(3), centre = end - 0x30;
        break;
    case 1: /* across one */
        centre = end - 0x40 + below(0x80), *lo = centre - 0x100, *hi = centre + 0x100;
        break;
    default:
        centre = end - 0x800, *lo = centre - 0x100, *hi = centre + 0x100;
        break;
    }
    set_reg(g, R_EBP, centre - 0x20 + below(0x40) - ss->base);
    return true;
}

/* n data instructions whose memory operands are [base + disp] in SS,
 * reaching [lo, hi) (make_frame_mem); base kept from being written. */
static void frame_insns(struct gen *g, unsigned base, uint32_t lo, uint32_t hi, unsigned n)
{
    const int outer = g->force_base;
    const uint32_t olo = g->frame_lo, ohi = g->frame_hi, reserved = g->reserved;
    g->reserved |= RBIT(base);
    g->force_base = (int)base;
    g->frame_lo = lo, g->frame_hi = hi;
    while (n-- > 0 && !g->full)
        gen_data_insn(g);
    g->force_base = outer;
    g->frame_lo = olo, g->frame_hi = ohi;
    g->reserved = reserved;
}

/* A stack frame: ENTER or PUSH EBP/MOV EBP, ESP/SUB ESP; work with EBP
 * known (often through [EBP + disp] only, below the saved EBP); LEAVE;
 * sometimes [EBP + disp] accesses again right after it, in the same block,
 * on the EBP it restored (set to a data pointer before the frame). */
static void gen_frame(struct gen *g)
{
    if (!g->esp_known || !(writable_regs(g) & RBIT(R_EBP)) || g->in_func)
        return;
    /* 16-bit code sets only BP, but LEAVE on a 32-bit stack loads ESP
     * from all of EBP: its upper half must be ESP's (zero). */
    uint32_t after_lo = 0, after_hi = 0;
    bool after = false;
    if (!g->code32)
        set_reg(g, R_EBP, rnd() & 0xffff);
    else if (chance(40))
        after = frame_in_data(g, &after_lo, &after_hi);
    bool ebp_known = reg_known(g, R_EBP);
    uint32_t ebp_val = g->val[R_EBP];
    uint32_t esp0 = g->val[R_ESP];
    unsigned w = vsize(g), size = 4 * below(16);
    bool enter = chance(50);
    unsigned level = enter && chance(30) ? 1 : 0;
    ins_begin(g);
    if (enter) {
        b1(g, 0xc8), b2(g, (uint16_t)size), b1(g, (uint8_t)level);
    } else {
        b1(g, 0x55); /* PUSH EBP */
    }
    ins_end(g);
    esp_add(g, -(int32_t)w);
    uint32_t frame = g->val[R_ESP];
    if (level)
        esp_add(g, -(int32_t)w);
    if (!enter) {
        ins_begin(g);
        emit_prefixes(g, w, NULL, 0);
        b1(g, 0x89), b1(g, 0xe5); /* MOV EBP, ESP */
        ins_end(g);
        if (size) {
            ins_begin(g);
            emit_prefixes(g, w, NULL, 0);
            b1(g, 0x83), b1(g, 0xec), b1(g, (uint8_t)size); /* SUB ESP, n */
            ins_end(g);
            flags_written(g, F_ALL, 0);
        }
    }
    esp_add(g, -(int32_t)size);
    reg_set(g, R_EBP, frame);
    const uint32_t reserved = g->reserved;
    const int outer = g->force_base;
    g->reserved |= RBIT(R_EBP);
    g->depth++;
    if (g->code32 && chance(50)) {
        /* The locals and what is below them (the saved EBP above stays) */
        uint32_t top = g->seg[SEG_SS].base + frame;
        frame_insns(g, R_EBP, top - 0x100, top, 3 + below(8));
    } else {
        g->force_base = -1;
        gen_items(g, 2 + below(6), false);
        g->force_base = outer;
    }
    g->depth--;
    g->reserved = reserved;
    ins_begin(g);
    b1(g, 0xc9); /* LEAVE */
    ins_end(g);
    g->val[R_ESP] = esp0;
    if (ebp_known)
        reg_set(g, R_EBP, ebp_val);
    else
        clobber(g, R_EBP);
    if (after && chance(70))
        frame_insns(g, R_EBP, after_lo, after_hi, 3 + below(4));
}

/*
 * A run of data instructions whose memory operands are [EBP + disp] or
 * [ESP + disp] in SS, the base not written meanwhile (a JMP before them
 * starts a block without the base's setup): what the JIT turns into frame
 * accesses, proved in one TLB page by the block's prologue (and run by
 * its variant without them when they are not). The frame sometimes sits
 * across a page boundary.
 */
static void gen_frame_run(struct gen *g)
{
    if (!g->esp_known || g->in_func || g->real || g->force_base >= 0)
        return;
    const struct fj_seg *ss = &g->seg[SEG_SS];
    unsigned base = R_ESP;
    uint32_t lo, hi;
    if (chance(60) && frame_in_data(g, &lo, &hi)) {
        base = R_EBP;
    } else {
        /* The free stack below ESP. */
        lo = ss->base + g->val[R_ESP] - 0x300, hi = ss->base + g->val[R_ESP];
        if (chance(40) && (writable_regs(g) & RBIT(R_EBP))) {
            base = R_EBP;
            set_reg(g, R_EBP, g->val[R_ESP] - below(0x200));
        }
    }
    if (g->undef)
        emit_sanitizer(g, false);
    ins_begin(g); /* JMP $+2: the run starts a block */
    b1(g, 0xeb);
    b1(g, 0x00);
    ins_end(g);
    if (base == R_EBP) {
        frame_insns(g, R_EBP, lo, hi, 3 + below(10));
        return;
    }
    /* ESP moved by known amounts on the way: SUB/ADD ESP, imm and LEA
     * ESP, [ESP + disp], given back at the end. */
    const uint32_t reserved = g->reserved;
    g->reserved |= RBIT(base);
    g->force_base = (int)base;
    g->frame_lo = lo, g->frame_hi = hi;
    int32_t moved = 0;
    for (unsigned n = 3 + below(10); n > 0 && !g->full; n--) {
        if (chance(30)) {
            int32_t d = chance(70) ? -(int32_t)(4 * (1 + below(16))) : -(int32_t)(1 + below(31));
            if (moved + d < -0x70 || chance(30))
                d = -moved; /* (d may be 0: an ADD ESP, 0; never past a disp8) */
            ins_begin(g);
            if (!g->code32)
                b1(g, 0x66), b1(g, 0x67);
            if (chance(50)) { /* ADD/SUB ESP, imm8 */
                b1(g, 0x83), b1(g, d < 0 ? 0xec : 0xc4), b1(g, (uint8_t)(d < 0 ? -d : d));
                ins_end(g);
                flags_written(g, F_ALL, 0);
            } else { /* LEA ESP, [ESP + disp8] */
                b1(g, 0x8d), b1(g, 0x64), b1(g, 0x24), b1(g, (uint8_t)d);
                ins_end(g);
            }
            esp_add(g, d);
            moved += d;
            continue;
        }
        gen_data_insn(g);
    }
    if (moved) {
        ins_begin(g);
        if (!g->code32)
            b1(g, 0x66), b1(g, 0x67);
        b1(g, 0x8d), b1(g, 0x64), b1(g, 0x24), b1(g, (uint8_t)-moved);
        ins_end(g);
        esp_add(g, -moved);
    }
    g->force_base = -1;
    g->reserved = reserved;
}

/* ------------------------------------------------------------------ */
/* Bodies, functions, programs                                         */
/* ------------------------------------------------------------------ */

/* n items of a body: data instructions, and (in long bodies, not too
 * deep) nested branches, loops, calls, string instructions, faults. */
static void gen_items(struct gen *g, unsigned n, bool shrt)
{
    const uint32_t start = g->pos;
    const bool outer = g->shrt;
    g->shrt = shrt;
    for (unsigned i = 0; i < n && !g->full; i++) {
        if ((shrt && g->pos - start > 56) || g->pos + 400 > g->limit)
            break;
        if (!shrt && g->depth < 3 && chance(18)) {
            switch (below(9)) {
            case 0: case 1: gen_if(g); break;
            case 2: gen_loop(g); break;
            case 3: if (!g->in_func) gen_call(g); break;
            case 4: if (!g->real) gen_string(g); break;
            case 5: gen_fault(g); break;
            case 6: gen_push_pop(g); break;
            case 7: if (!g->real && !g->in_func) gen_switch(g); break;
            default: if (!g->in_func) gen_frame(g); break;
            }
        } else {
            gen_data_insn(g);
        }
    }
    g->shrt = outer;
}

static void gen_items_real(struct gen *g, unsigned n)
{
    for (unsigned i = 0; i < n && !g->full; i++) {
        if (g->pos + 400 > g->limit)
            break;
        unsigned r = below(10);
        if (r == 0)
            gen_if(g);
        else if (r == 1)
            gen_smc(g);
        else
            gen_data_insn(g);
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
    g->func_args[k] = below(4) * vsize(g);
    g->func_caller_pops[k] = chance(30);
    g->func_patch[k] = 0;
    g->in_func = true;
    g->func_regs = RBIT(R_EAX) | RBIT(R_EBX) | RBIT(R_EDX);
    g->esp_known = false;
    g->known = 0;
    g->undef = 0;
    g->depth = 1;
    const uint32_t ds_base = g->seg[SEG_DS].base;
    if (chance(70)) {
        g->func_patch[k] = emit_patchable(g, R_EAX, rnd());
        clobber(g, R_EAX); /* the program may store another immediate */
        /* XOR [slot], EAX */
        struct rm o;
        memset(&o, 0, sizeof(o));
        o.mem = true, o.seg_prefix = -1;
        uint32_t slot = FJ_RAND + k * 4;
        bool a16 = !g->code32;
        o.a16 = a16, o.mod = 0, o.rmf = a16 ? 6 : 5, o.disp_size = a16 ? 2 : 4;
        o.disp = slot - ds_base;
        ins_begin(g);
        static const uint8_t opc = 0x31;
        emit_op(g, 4, &opc, 1, R_EAX, &o, 0, 0);
        ins_end(g);
        flags_written(g, F_ALL, 0);
    }
    /* Arguments: MOV EBX/EDX, [ESP + return address + i] */
    unsigned nargs = g->func_args[k] / vsize(g);
    for (unsigned i = 0; i < nargs; i++) {
        if (chance(40))
            continue;
        unsigned r = chance(50) ? R_EBX : R_EDX;
        ins_begin(g);
        if (!g->code32)
            b1(g, 0x67);
        b1(g, 0x8b);
        b1(g, (uint8_t)(0x44 | r << 3));
        b1(g, 0x24);
        b1(g, (uint8_t)(vsize(g) * (1 + i)));
        ins_end(g);
        clobber(g, r);
    }
    gen_items(g, 3 + below(14), false);
    if (k > 0 && chance(30)) {
        g->in_func = false; /* gen_call_k refuses inside functions */
        const uint32_t saved = g->func_regs;
        g->func_regs = ALL_REGS;
        g->reserved = ~(RBIT(R_EAX) | RBIT(R_EBX) | RBIT(R_EDX)) & ALL_REGS;
        gen_call_k(g, below(k));
        g->reserved = 0;
        g->func_regs = saved;
        g->in_func = true;
    }
    if (g->undef)
        emit_sanitizer(g, false);
    ins_begin(g);
    if (g->func_args[k] && !g->func_caller_pops[k]) {
        b1(g, 0xc2);
        b2(g, (uint16_t)g->func_args[k]);
    } else {
        b1(g, 0xc3);
    }
    ins_end(g);
    g->in_func = false;
    g->depth = 0;
    g->esp_known = true;
}

/* One top-level chunk. */
static void gen_chunk(struct gen *g)
{
    unsigned r = below(100);
    if (r < 30)
        gen_items(g, 3 + below(10), false);
    else if (r < 40)
        gen_if(g);
    else if (r < 48)
        gen_loop(g);
    else if (r < 55)
        gen_call(g);
    else if (r < 58)
        gen_switch(g);
    else if (r < 60)
        gen_jmp_indirect(g);
    else if (r < 66)
        gen_string(g);
    else if (r < 72)
        gen_smc(g);
    else if (r < 77)
        gen_seg(g);
    else if (r < 81)
        gen_ring(g);
    else if (r < 85)
        gen_paging(g);
    else if (r < 87)
        gen_real(g);
    else if (r < 90)
        gen_fault(g);
    else if (r < 93)
        gen_frame(g);
    else if (r < 99)
        gen_frame_run(g);
    else
        gen_push_pop(g);
}

/* The data segment registers a program starts with (and that the
 * functions assume: DS). */
static uint16_t fj_random_data_sel(bool user)
{
    static const uint16_t any[] = { SEL_DATA0, SEL_DATA3, SEL_DATAB, SEL_SMALL, SEL_RO,
                                    SEL_EXPDOWN, SEL_HIBASE, SEL_DATA16, 0 };
    uint16_t sel = any[below(sizeof(any) / sizeof(any[0]))];
    if (user && sel == SEL_DATA0)
        sel = SEL_DATA3;
    return sel;
}

static void fj_fill_random(uint8_t *img, uint32_t from, uint32_t to)
{
    for (uint32_t a = from; a < to; a += 4)
        put32(img, a, chance(20) ? fj_value() : rnd());
}

/*
 * Builds program `seed` of `mode` into g->img (a copy of the base image)
 * and its start state. False if it could not be made (a short jump that
 * does not reach, a table full): the caller takes another seed.
 */
static bool fj_generate(struct gen *g, uint64_t seed, enum fj_mode mode, struct fj_start *st)
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
        uint16_t sel = fj_random_data_sel(chance(50));
        put32(img, FJ_TAB_FAR + 8 * i, fj_value());
        put16(img, FJ_TAB_FAR + 8 * i + 4, sel);
        put16(img, FJ_TAB_FAR16 + 4 * i, (uint16_t)rnd());
        put16(img, FJ_TAB_FAR16 + 4 * i + 2, fj_random_data_sel(chance(50)));
    }
    for (unsigned i = 0; i < 2; i++) { /* [66] B8 imm32 */
        uint32_t at = FJ_TAB_TEMPL + 8 * i;
        if (!g->code32)
            img[at++] = 0x66;
        img[at] = 0xb8;
        put32(img, at + 1, rnd());
    }
    g->templ_len = g->code32 ? 5 : 6;
    put16(img, FJ_TAB_IDTR, 0x3ff);
    put32(img, FJ_TAB_IDTR + 2, FJ_IVT);
    put16(img, FJ_TAB_IDTR + 8, 256 * 8 - 1);
    put32(img, FJ_TAB_IDTR + 10, FJ_IDT);
    memset(img + FJ_CODE, 0xcc, FJ_CODE_SIZE); /* INT3 where nothing was made */
    memset(img + FJ_LENS, 0, FJ_CODE_SIZE);

    /* Page tables: identity, user, writable; the special pages each in a
     * state (the last two aliases of the functions' pages, for stores
     * into code through another address: random stores never go there). */
    memset(img + FJ_PD, 0, 4096);
    memset(img + FJ_PT_MMIO, 0, 4096);
    put32(img, FJ_PD, FJ_PT0 | 7);
    put32(img, FJ_PD + (FJ_MMIO >> 22) * 4, FJ_PT_MMIO | 7);
    put32(img, FJ_PT_MMIO, FJ_MMIO | 7);
    put32(img, FJ_PT_MMIO + ((FJ_HOLE - FJ_MMIO) >> 12) * 4, FJ_HOLE | 7);
    for (uint32_t i = 0; i < 1024; i++)
        put32(img, FJ_PT0 + 4 * i, (i << 12) | 7);
    /* Half the time with paging, the stacks' and the random data's pages
     * in a shuffled order of their frames: neighbouring pages then have
     * unrelated host addresses, as in any real guest (an access or a
     * frame the JIT wrongly proves within one page shows). The tables,
     * the handler and the code stay where they are. */
    if (g->paging && chance(50)) {
        static const uint32_t ranges[3][2] = { { 0x9, 0x10 }, { 0x11, 0x20 },
                                               { FJ_RAND >> 12, FJ_DATA_END >> 12 } };
        for (unsigned r = 0; r < 3; r++)
            for (uint32_t i = ranges[r][1] - 1; i > ranges[r][0]; i--) {
                uint32_t j = ranges[r][0] + below(i - ranges[r][0] + 1);
                uint32_t a = get32(img, FJ_PT0 + 4 * i), b = get32(img, FJ_PT0 + 4 * j);
                put32(img, FJ_PT0 + 4 * i, b);
                put32(img, FJ_PT0 + 4 * j, a);
            }
    }
    static const uint32_t sp_bits[SP_STATES] = { 7, 6, 0x204, 5, 3, 7 };
    for (unsigned i = 0; i < FJ_SPECIAL_PAGES; i++) {
        unsigned stt = chance(40) ? SP_NORMAL : below(SP_STATES);
        uint32_t frame = FJ_SPECIAL + i * 4096u;
        if (i >= FJ_SPECIAL_PAGES - 2) /* never written at random (kind_range) */
            stt = SP_ALIAS, frame = FJ_FUNCS + (i - (FJ_SPECIAL_PAGES - 2)) * 4096u;
        else if (stt == SP_ALIAS)
            frame = FJ_RAND + below(0x70) * 4096u;
        g->sp[i] = (uint8_t)stt;
        g->sp_frame[i] = frame;
        put32(img, FJ_PT0 + ((FJ_SPECIAL >> 12) + i) * 4, frame | sp_bits[stt]);
    }

    /* The start state. */
    memset(st, 0, sizeof(*st));
    st->mode = mode;
    bool user = mode == FJ_USER || mode == FJ_PAGING_USER;
    g->cpl = user && chance(60) ? 3 : 0;
    st->cpl = (uint8_t)g->cpl;
    st->cs = g->code32 ? (g->cpl ? SEL_CODE3 : SEL_CODE0) : SEL_CODE16;
    if (g->code32)
        st->ss = g->cpl ? SEL_DATA3 : chance(30) ? SEL_STACKB : SEL_DATA0;
    else
        st->ss = chance(50) ? SEL_STACK16 : chance(50) ? SEL_STACKB : SEL_DATA0;
    bool ring3 = g->cpl == 3;
    if (g->code32)
        st->ds = chance(85) ? (ring3 ? SEL_DATA3 : (chance(50) ? SEL_DATA0 : SEL_DATA3))
                            : fj_random_data_sel(ring3);
    else
        st->ds = chance(85) ? SEL_DATA16 : fj_random_data_sel(false);
    st->es = chance(50) ? (ring3 ? SEL_DATA3 : SEL_DATA0) : fj_random_data_sel(ring3);
    st->fs = fj_random_data_sel(ring3);
    st->gs = chance(30) ? (ring3 ? SEL_DATA3 : SEL_DATA0) : fj_random_data_sel(ring3);
    st->cr0 = CR0_PE | CR0_ET | CR0_NE;
    if (g->paging)
        st->cr0 |= CR0_PG | (chance(50) ? CR0_WP : 0);
    for (unsigned r = 0; r < 8; r++)
        st->regs[r] = fj_value();
    st->regs[R_ESP] = g->code32 ? (ring3 ? FJ_STACK3 : FJ_STACK0) : 0xfff0;
    if (!user && chance(50)) /* (ring switches need ESP0 exactly) */
        st->regs[R_ESP] -= 4 * below(g->code32 ? 0x800 : 0x200);
    if (st->ss == SEL_STACKB)
        st->regs[R_ESP] -= FJ_STACKB_BASE;
    st->eflags = FL_FIXED1 | (rnd() & FL_ARITH) | (chance(20) ? FL_DF : 0);

    g->seg[SEG_CS] = fj_seg_of(st->cs);
    g->seg[SEG_SS] = fj_seg_of(st->ss);
    g->stack32 = g->seg[SEG_SS].big;

    /* Functions: made first (the program calls them), with the data
     * segment they assume and no other. */
    g->seg[SEG_DS] = fj_seg_of(g->code32 ? SEL_DATA3 : SEL_DATA16);
    g->seg[SEG_ES] = g->seg[SEG_FS] = g->seg[SEG_GS] = fj_seg_of(0);
    g->pos = FJ_FUNCS;
    g->limit = FJ_FUNCS_END - 512;
    g->nfuncs = 2 + below(5);
    for (unsigned k = 0; k < g->nfuncs; k++) {
        g->df = -1;
        gen_function(g, k);
        put32(img, FJ_TAB_FUNC32 + 4 * k, g->func_at[k] - g->cs_base);
        put16(img, FJ_TAB_FUNC16 + 2 * k, (uint16_t)(g->func_at[k] - g->cs_base));
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
        reg_set(g, r, st->regs[r]);
    g->esp_known = true;
    g->df = (st->eflags & FL_DF) != 0;
    g->pos = FJ_CODE;
    g->limit = FJ_MAIN_END - 64;
    unsigned chunks = 30 + below(170);
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
        gen_ring(g);
    if (g->undef)
        emit_sanitizer(g, false);
    ins_begin(g);
    b1(g, 0xf4);
    ins_end(g);
    st->eip = FJ_CODE - g->cs_base;
    st->end_eip = g->pos - g->cs_base;
    return !g->full && fixups_apply(g);
}

/* ------------------------------------------------------------------ */
/* The base image: descriptor tables, TSS, the guest's handler         */
/* ------------------------------------------------------------------ */

static void fj_desc(uint8_t *img, uint16_t sel, uint32_t base, uint32_t limit, unsigned access,
                    unsigned flags)
{
    uint32_t at = FJ_GDT + (sel & 0xfff8u);
    put32(img, at, (limit & 0xffff) | (base << 16));
    put32(img, at + 4, ((base >> 16) & 0xff) | (access << 8) | (limit & 0xf0000) |
                           (flags << 20) | (base & 0xff000000u));
}

static void fj_gate(uint8_t *img, unsigned v, uint32_t off, unsigned dpl)
{
    put32(img, FJ_IDT + v * 8, (off & 0xffff) | ((uint32_t)SEL_CODE0 << 16));
    put32(img, FJ_IDT + v * 8 + 4, (off & 0xffff0000u) | 0x8e00u | (dpl << 13));
}

/* Raw bytes into the handler. */
static void bs(struct gen *g, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b1(g, p[i]);
}
#define BS(g, ...) bs((g), (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

/* A Jcc/JMP rel32 to label l (in the handler). */
static void hjump(struct gen *g, int cc, unsigned l)
{
    g->undef = 0;
    emit_jump(g, cc, l, false);
}

/*
 * The guest's exception handler (32-bit, ring 0), reached by a stub per
 * vector that pushes a dummy error code (if the CPU pushes none) and the
 * vector. It logs vector, error code, EIP and CR2 to the ring at FJ_LOG,
 * counts (and halts after FJ_MAX_FAULTS), then: traps (3, 4, 81h, 82h)
 * return; a #PF on a "fixable" special page (PTE bit 9) makes it present
 * and writable, INVLPGs it and retries; any other fault resumes after the
 * faulting instruction, whose length the generator left at FJ_LENS (by
 * offset from FJ_CODE; in the 16-bit code segment, whose base is FJ_CODE,
 * by EIP). No length known: HLT there.
 */
static void fj_build_handler(struct gen *g)
{
    g->pos = FJ_HANDLER;
    g->limit = FJ_HANDLER + 0x1000;
    g->code32 = true;
    g->cs_base = 0;
    unsigned common = label_new(g), resume = label_new(g), stop = label_new(g),
             skip = label_new(g);
    uint32_t stubs[256] = { 0 };
    for (unsigned v = 0; v < 256; v++) {
        if (v >= 32 && v != 0x81 && v != 0x82)
            continue;
        stubs[v] = g->pos;
        if (!fj_has_error(v))
            BS(g, 0x6a, 0x00); /* push 0 */
        b1(g, 0x68), b4(g, v); /* push v */
        hjump(g, -1, common);
    }
    label_place(g, common, false);
    BS(g, 0x50, 0x53, 0x1e);                         /* push eax; push ebx; push ds */
    b1(g, 0xb8), b4(g, SEL_DATA0);                  /* mov eax, SEL_DATA0 */
    BS(g, 0x8e, 0xd8);                               /* mov ds, ax */
    BS(g, 0x8b, 0x1d), b4(g, FJ_VAR_CURSOR);        /* mov ebx, [cursor] */
    BS(g, 0x8b, 0x44, 0x24, 0x0c, 0x89, 0x03);       /* mov eax, [esp+12]; mov [ebx], eax */
    BS(g, 0x8b, 0x44, 0x24, 0x10, 0x89, 0x43, 0x04); /* error code */
    BS(g, 0x8b, 0x44, 0x24, 0x14, 0x89, 0x43, 0x08); /* EIP */
    BS(g, 0x0f, 0x20, 0xd0, 0x89, 0x43, 0x0c);       /* mov eax, cr2; mov [ebx+12], eax */
    BS(g, 0x83, 0xc3, 0x10);                         /* add ebx, 16 */
    b1(g, 0x81), b1(g, 0xe3), b4(g, FJ_LOG | 0xfff); /* and ebx, ring */
    BS(g, 0x89, 0x1d), b4(g, FJ_VAR_CURSOR);        /* mov [cursor], ebx */
    BS(g, 0xff, 0x05), b4(g, FJ_VAR_COUNT);         /* inc dword [count] */
    BS(g, 0x81, 0x3d), b4(g, FJ_VAR_COUNT), b4(g, FJ_MAX_FAULTS);
    hjump(g, 7, stop);                               /* ja stop */
    BS(g, 0x8b, 0x44, 0x24, 0x0c);                   /* mov eax, [esp+12] (vector) */
    static const uint32_t traps[4] = { 3, 4, 0x81, 0x82 };
    for (int i = 0; i < 4; i++) {
        b1(g, 0x3d), b4(g, traps[i]);                /* cmp eax, trap */
        hjump(g, 4, resume);                         /* je resume */
    }
    BS(g, 0x83, 0xf8, 0x0e);                         /* cmp eax, 14 */
    hjump(g, 5, skip);                               /* jne skip */
    BS(g, 0x0f, 0x20, 0xd0);                         /* mov eax, cr2 */
    b1(g, 0x2d), b4(g, FJ_SPECIAL);                 /* sub eax, FJ_SPECIAL */
    b1(g, 0x3d), b4(g, FJ_SPECIAL_PAGES * 4096u);   /* cmp eax, size */
    hjump(g, 3, skip);                               /* jae skip */
    BS(g, 0xc1, 0xe8, 0x0c);                         /* shr eax, 12 */
    BS(g, 0x8d, 0x1c, 0x85), b4(g, FJ_PT0 + (FJ_SPECIAL >> 12) * 4); /* lea ebx, [eax*4+PTE] */
    BS(g, 0xf7, 0x03), b4(g, 0x200);                /* test dword [ebx], 0x200 */
    hjump(g, 4, skip);                               /* jz skip */
    BS(g, 0x81, 0x33), b4(g, 0x203);                /* xor dword [ebx], 0x203: P, RW, not fixable */
    BS(g, 0x0f, 0x20, 0xd0, 0x0f, 0x01, 0x38);       /* mov eax, cr2; invlpg [eax] */
    hjump(g, -1, resume);
    label_place(g, skip, false);
    BS(g, 0x8b, 0x44, 0x24, 0x14);                   /* mov eax, [esp+20] (EIP) */
    BS(g, 0x66, 0x81, 0x7c, 0x24, 0x18), b2(g, SEL_CODE16); /* cmp word [esp+24], CODE16 */
    BS(g, 0x74, 0x05);                               /* je +5 */
    b1(g, 0x2d), b4(g, FJ_CODE);                    /* sub eax, FJ_CODE */
    b1(g, 0x3d), b4(g, FJ_CODE_SIZE);               /* cmp eax, size */
    hjump(g, 3, stop);                               /* jae stop */
    BS(g, 0x0f, 0xb6, 0x80), b4(g, FJ_LENS);        /* movzx eax, byte [eax+FJ_LENS] */
    BS(g, 0x85, 0xc0);                               /* test eax, eax */
    hjump(g, 4, stop);                               /* jz stop */
    BS(g, 0x01, 0x44, 0x24, 0x14);                   /* add [esp+20], eax */
    label_place(g, resume, false);
    BS(g, 0x1f, 0x5b, 0x58, 0x83, 0xc4, 0x08, 0xcf); /* pop ds/ebx/eax; add esp, 8; iretd */
    label_place(g, stop, false);
    BS(g, 0xf4, 0xeb, 0xfd);                         /* hlt; jmp $-1 */

    /* INT 80h from ring 3: go on at ring 0 after the INT, with the ring-0
     * stack as the TSS gives it (the frame dropped). */
    uint32_t to_ring0 = g->pos;
    BS(g, 0x50,                                      /* push eax */
       0x8b, 0x44, 0x24, 0x0c, 0x89, 0x44, 0x24, 0x14, /* EFLAGS up two slots */
       0x8b, 0x44, 0x24, 0x04, 0x89, 0x44, 0x24, 0x0c, /* EIP up two slots */
       0xc7, 0x44, 0x24, 0x10);                      /* mov dword [esp+16], SEL_CODE0 */
    b4(g, SEL_CODE0);
    BS(g, 0x58, 0x83, 0xc4, 0x08, 0xcf);             /* pop eax; add esp, 8; iretd */
    cr_assert(fixups_apply(g) && !g->full, "the handler does not fit");

    for (unsigned v = 0; v < 256; v++) {
        if (stubs[v])
            fj_gate(g->img, v, stubs[v], v == 3 || v == 4 || v == 0x81 ? 3 : 0);
    }
    fj_gate(g->img, 0x80, to_ring0, 3);
}

static void fj_build_base(struct gen *g)
{
    uint8_t *img = g->img;
    memset(img, 0, FJ_RAM_SIZE);
    for (unsigned v = 0; v < 256; v++)
        put32(img, FJ_IVT + 4 * v, FJ_REAL_HLT);
    img[FJ_REAL_HLT] = 0xf4, img[FJ_REAL_HLT + 1] = 0xeb, img[FJ_REAL_HLT + 2] = 0xfd;
    fj_desc(img, SEL_CODE0, 0, 0xfffff, 0x9a, 0xc);
    fj_desc(img, SEL_DATA0, 0, 0xfffff, 0x92, 0xc);
    fj_desc(img, SEL_CODE3, 0, 0xfffff, 0xfa, 0xc);
    fj_desc(img, SEL_DATA3, 0, 0xfffff, 0xf2, 0xc);
    fj_desc(img, SEL_TSS, FJ_TSS, FJ_TSS_LIMIT, 0x8b, 0);
    fj_desc(img, SEL_CODE16, FJ_CODE, 0xffff, 0x9a, 0);
    fj_desc(img, SEL_DATA16, FJ_DATA, 0xffff, 0xf2, 0);
    fj_desc(img, SEL_STACK16, 0, 0xffff, 0x92, 0);
    fj_desc(img, SEL_DATAB, FJ_DATA, 0x7ffff, 0xf2, 0x4);
    fj_desc(img, SEL_SMALL, FJ_RAND + 0x1000, 0xfff, 0xf2, 0x4);
    fj_desc(img, SEL_RO, 0, 0xfffff, 0xf0, 0xc);
    fj_desc(img, SEL_EXPDOWN, FJ_DATA, 0xfff, 0xf6, 0);
    fj_desc(img, SEL_NP, 0, 0xfffff, 0x72, 0xc);
    fj_desc(img, SEL_HIBASE, 0xfffff000u, 0xfffff, 0xf2, 0xc);
    fj_desc(img, SEL_STACKB, FJ_STACKB_BASE, 0xfffff, 0x92, 0x4);
    put32(img, FJ_TSS + 4, FJ_STACK0);
    put32(img, FJ_TSS + 8, SEL_DATA0);
    put16(img, FJ_TSS + 0x66, 0x68); /* I/O map past the limit: none */
    put32(img, FJ_VAR_CURSOR, FJ_LOG);
    fj_build_handler(g);
}

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

/*
 * Before each instruction of the careful pass (while undefined flags are
 * tolerated): follows which flags hold values the engines may set
 * differently (fuzz_undef.h) and notes whether anything saw one: an
 * instruction reading it, an exception or INT delivered meanwhile (its
 * frame holds EFLAGS: the handler's code being entered tells), or the end
 * of the run. The generator means never to let that happen; a minimised
 * case must not either.
 */
static void fj_trace(void *opaque, struct cpu *cpu, const uint8_t *bytes, unsigned len)
{
    struct fj *f = opaque;
    if (!f->track || !cpu->no_block_cache)
        return;
    uint32_t lin = cpu->seg[SEG_CS].base + cpu->eip;
    bool in_handler = lin >= FJ_HANDLER && lin < FJ_HANDLER + 0x1000;
    /* What the previous instruction did to the flags counts once it has
     * completed: not if it faulted (the handler's entry comes next). An
     * INT completes, but changes no arithmetic flag. */
    bool entered = in_handler && !f->in_handler;
    if (!entered)
        f->undef = (f->undef & ~f->last_w) | f->last_e;
    f->last_w = f->last_e = 0;
    if (entered && f->undef) {
        if (!f->seen && f->verbose)
            fprintf(stderr, "undef %x seen by an exception (at %x, prev %x)\n", f->undef, lin, f->prev_lin);
        f->seen = true;
    }
    f->in_handler = in_handler;
    struct insn in;
    if (decode_insn(&in, bytes, len, cpu->code32) <= 0)
        return;
    uint32_t r, w, e = fuzz_undef_effect(&in, cpu);
    fuzz_flags_rw(&in, cpu, &r, &w);
    /* The generator's PUSHF; AND [ESP], ~undefined; POPF puts them in
     * memory and clears them there before anything else can look. */
    if (f->pushf_pending) {
        bool cleared = in.op == OP_AND && in.dst.kind == OPND_MEM && in.ea_base == R_ESP &&
                       in.ea_index == EA_NO_REG && in.disp == 0 && in.src.kind == OPND_IMM &&
                       !(in.imm & f->pushf_pending);
        if (!cleared) {
            if (!f->seen && f->verbose)
                fprintf(stderr, "undef %x pushed at %x\n", f->pushf_pending, f->prev_lin);
            f->seen = true;
        }
        f->pushf_pending = 0;
    }
    if (in.op == OP_PUSHF && (r & f->undef)) {
        f->pushf_pending = f->undef;
        r = 0;
    }
    if ((r & f->undef) || (e & FUZZ_UNDEF_RESULT)) {
        if (!f->seen && f->verbose)
            fprintf(stderr, "undef %x seen at %x (op %u, prev %x)\n", f->undef, lin, in.op, f->prev_lin);
        f->seen = true;
    }
    f->last_w = w;
    f->last_e = e & FL_ARITH;
    f->prev_lin = lin;
}

static const char *fj_word_name(unsigned i, char *buf, size_t size)
{
    static const char *const regs[8] = { "EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI" };
    static const char *const segs[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    static const char *const segf[4] = { "sel", "base", "limit", "ar" };
    static const char *const sys[14] = { "CR0", "CR2", "CR3", "CR4", "GDTR.base", "GDTR.limit",
                                         "IDTR.base", "IDTR.limit", "LDTR", "TR", "CPL",
                                         "halted", "code32", "stack32" };
    static const char *const fpu[4] = { "FPU CW", "FPU SW", "FPU TW", "FPU TOP" };
    static const char *const dev[3] = { "device hash lo", "device hash hi", "device accesses" };
    if (i < W_EIP)
        snprintf(buf, size, "%s", regs[i]);
    else if (i == W_EIP)
        snprintf(buf, size, "EIP");
    else if (i == W_EFLAGS)
        snprintf(buf, size, "EFLAGS");
    else if (i < W_SYS)
        snprintf(buf, size, "%s.%s", segs[(i - W_SEGS) / 4], segf[(i - W_SEGS) % 4]);
    else if (i < W_FPU)
        snprintf(buf, size, "%s", sys[i - W_SYS]);
    else if (i < W_FPU + 4)
        snprintf(buf, size, "%s", fpu[i - W_FPU]);
    else if (i < W_DEV)
        snprintf(buf, size, "ST%u word %u", (i - W_FPU - 4) / 3, (i - W_FPU - 4) % 3);
    else
        snprintf(buf, size, "%s", dev[i - W_DEV]);
    return buf;
}

static void fj_snapshot(struct fj *f, struct fj_out *o)
{
    struct cpu *cpu = f->cpu;
    uint32_t *w = o->w;
    memcpy(w + W_REGS, cpu->regs, 32);
    w[W_EIP] = cpu->eip;
    w[W_EFLAGS] = cpu_get_eflags(cpu);
    for (int s = 0; s < SEG_COUNT; s++) {
        const struct seg *sg = &cpu->seg[s];
        uint32_t *v = w + W_SEGS + 4 * s;
        v[0] = sg->sel, v[1] = sg->base, v[2] = sg->limit, v[3] = sg->ar;
    }
    uint32_t sys[14] = { cpu->cr0, cpu->cr2, cpu->cr3, cpu->cr4, cpu->gdtr.base, cpu->gdtr.limit,
                         cpu->idtr.base, cpu->idtr.limit, cpu->ldtr.sel, cpu->tr.sel, cpu->cpl,
                         cpu->halted, cpu->code32, cpu->stack32 };
    memcpy(w + W_SYS, sys, sizeof(sys));
    w[W_FPU] = cpu->fpu.cw, w[W_FPU + 1] = cpu->fpu.sw, w[W_FPU + 2] = cpu->fpu.tag_empty;
    w[W_FPU + 3] = cpu->fpu.top;
    for (int i = 0; i < 8; i++) {
        w[W_FPU + 4 + 3 * i] = (uint32_t)cpu->fpu.st[i].sig;
        w[W_FPU + 5 + 3 * i] = (uint32_t)(cpu->fpu.st[i].sig >> 32);
        w[W_FPU + 6 + 3 * i] = cpu->fpu.st[i].sign_exp;
    }
    w[W_DEV] = (uint32_t)f->dev.hash, w[W_DEV + 1] = (uint32_t)(f->dev.hash >> 32);
    w[W_DEV + 2] = f->dev.count;
}

/* RAM := `img`, page by page where they differ (through the bus, so the
 * JIT drops what it translated from changed pages and keeps the rest:
 * the handler's blocks live on from program to program). */
static void fj_load(struct fj *f, const uint8_t *img)
{
    for (uint32_t p = 0; p < FJ_RAM_SIZE; p += 4096)
        if (memcmp(f->ram + p, img + p, 4096) != 0)
            phys_write_buf(f->pm, p, img + p, 4096);
}

/* Runs the program in `img` from f->st: careful path or JIT. */
static void fj_run(struct fj *f, const uint8_t *img, bool jit, struct fj_out *o)
{
    struct cpu *cpu = f->cpu;
    const struct fj_start *st = &f->st;
    fj_load(f, img);
    memset(&f->dev, 0, sizeof(f->dev));
    cpu_reset(cpu);
    cpu->gdtr = (struct dtr){ FJ_GDT, FJ_GDT_ENTRIES * 8 - 1 };
    cpu->idtr = (struct dtr){ FJ_IDT, 256 * 8 - 1 };
    cpu->tr = fj_desc_seg(SEL_TSS);
    cpu->cr0 = st->cr0;
    cpu->cr3 = FJ_PD;
    cpu->cr4 = 0;
    const uint16_t sels[SEG_COUNT] = { st->es, st->cs, st->ss, st->ds, st->fs, st->gs };
    for (int s = 0; s < SEG_COUNT; s++) {
        if ((sels[s] & 0xfffc) == 0) {
            cpu->seg[s] = (struct seg){ sels[s], 0, 0, 0 };
            continue;
        }
        cpu->seg[s] = fj_desc_seg(sels[s]);
    }
    cpu->cpl = st->cpl;
    cpu->code32 = (cpu->seg[SEG_CS].ar & AR_DB) != 0;
    cpu->stack32 = (cpu->seg[SEG_SS].ar & AR_DB) != 0;
    memcpy(cpu->regs, st->regs, 32);
    cpu->eflags = st->eflags;
    cpu->eip = st->eip;
    cpu_tlb_flush(cpu);
    /* The careful path with the JIT as the engine (no_block_cache sends
     * every instruction to interp_step): the JIT's caches stay, and it
     * sees the careful pass's stores into code like any others. */
    cpu->engine = CPU_ENGINE_JIT;
    cpu->no_block_cache = !jit;
    f->undef = f->pushf_pending = f->last_w = f->last_e = 0;
    f->seen = f->in_handler = false;
    if (!jit && f->track)
        cpu->log_mask |= LOG_EXEC;
    else
        cpu->log_mask &= ~LOG_EXEC;
    const uint64_t icount0 = cpu->icount;
    o->why = cpu_exec(cpu, f->budget);
    o->icount = cpu->icount - icount0;
    f->undef = (f->undef & ~f->last_w) | f->last_e; /* the last instruction (HLT) */
    if (f->undef) {
        if (!f->seen && f->verbose)
            fprintf(stderr, "undef %x seen at the end (prev %x)\n", f->undef, f->prev_lin);
        f->seen = true; /* the end state compared */
    }
    fj_snapshot(f, o);
}

/* What differs between the two runs ("" if nothing), the first memory
 * difference in *mem_at (or FJ_RAM_SIZE). */
static bool fj_differ(struct fj *f, const struct fj_out *a, const struct fj_out *b, char *buf,
                      size_t size, uint32_t *mem_at)
{
    size_t n = 0;
    buf[0] = 0;
    unsigned shown = 0;
    if (a->why != b->why)
        n += (size_t)snprintf(buf, size, "exit %d vs %d, ", (int)a->why, (int)b->why);
    for (unsigned i = 0; i < W_COUNT && n < size; i++) {
        if (a->w[i] == b->w[i] || shown >= 8)
            continue;
        char name[32];
        n += (size_t)snprintf(buf + n, size - n, "%s %x vs %x, ", fj_word_name(i, name, sizeof(name)),
                              a->w[i], b->w[i]);
        shown++;
    }
    uint32_t at = 0;
    while (at < FJ_RAM_SIZE && f->after[at] == f->ram[at])
        at++;
    *mem_at = at;
    if (at < FJ_RAM_SIZE && n < size)
        n += (size_t)snprintf(buf + n, size - n, "memory at %#x: %02x vs %02x, ", at, f->after[at],
                              f->ram[at]);
    if (n >= 2 && n < size)
        buf[n - 2] = 0;
    return n > 0;
}

static bool fj_exact(enum cpu_exit why)
{
    return why == CPU_EXIT_HALT || why == CPU_EXIT_SHUTDOWN;
}

enum fj_verdict { FJ_SAME, FJ_DIFF, FJ_INEXACT, FJ_TAINTED };

/* Runs `img` under both engines: FJ_DIFF (with what differs in buf) if
 * they both ended exactly and disagree; FJ_TAINTED if the careful pass
 * let an undefined flag be seen (then they may disagree rightly). */
static enum fj_verdict fj_both(struct fj *f, const uint8_t *img, struct fj_out o[2], char *buf,
                               size_t size, uint32_t *mem_at)
{
    fj_run(f, img, false, &o[0]);
    const bool seen = f->seen;
    memcpy(f->after, f->ram, FJ_RAM_SIZE);
    fj_run(f, img, true, &o[1]);
    buf[0] = 0;
    *mem_at = FJ_RAM_SIZE;
    if (!fj_exact(o[0].why) || !fj_exact(o[1].why)) {
        /* The careful path ran out of budget (the JIT then too, or it
         * ended: a budget is not exact, a block may overrun it). */
        if (o[0].why != CPU_EXIT_BUDGET && o[1].why == CPU_EXIT_BUDGET) {
            snprintf(buf, size, "the JIT ran out of budget, the careful path did not");
            return seen ? FJ_TAINTED : FJ_DIFF;
        }
        return FJ_INEXACT;
    }
    if (!fj_differ(f, &o[0], &o[1], buf, size, mem_at))
        return FJ_SAME;
    return seen ? FJ_TAINTED : FJ_DIFF;
}

/* ---- minimising --------------------------------------------------- */

/* The first word or place that differs: what a smaller case must keep. */
static void fj_signature(const char *diff, char *sig, size_t size)
{
    size_t n = strcspn(diff, " ");
    if (n >= size)
        n = size - 1;
    memcpy(sig, diff, n);
    sig[n] = 0;
}

/*
 * Replaces instructions of the program by NOPs while the engines still
 * disagree the same way (ddmin over the instruction list, at most
 * `trials` runs); leaves the smallest such image in f->image.
 */
static void fj_minimise(struct fj *f, const char *sig0, unsigned trials)
{
    struct gen *g = f->g;
    const unsigned n = g->ninsns;
    bool *gone = calloc(n, sizeof(bool));
    uint8_t *cand = malloc(FJ_RAM_SIZE);
    cr_assert(gone && cand);
    const uint64_t budget = f->budget;
    struct fj_out o[2];
    char diff[512], sig[64];
    uint32_t mem_at;
    unsigned tried = 0;
    for (unsigned chunk = n / 2 ? n / 2 : 1; chunk >= 1 && tried < trials; chunk /= 2) {
        for (unsigned start = 0; start < n && tried < trials; start += chunk) {
            unsigned removed = 0;
            memcpy(cand, f->image, FJ_RAM_SIZE);
            for (unsigned i = start; i < start + chunk && i < n; i++)
                if (!gone[i]) {
                    memset(cand + g->insns[i].at, 0x90, g->insns[i].len);
                    removed++;
                }
            if (!removed)
                continue;
            tried++;
            if (fj_both(f, cand, o, diff, sizeof(diff), &mem_at) == FJ_DIFF) {
                fj_signature(diff, sig, sizeof(sig));
                if (strcmp(sig, sig0) == 0) {
                    for (unsigned i = start; i < start + chunk && i < n; i++)
                        gone[i] = true;
                    memcpy(f->image, cand, FJ_RAM_SIZE);
                }
            }
        }
        if (chunk == 1)
            break;
    }
    f->budget = budget;
    free(gone);
    free(cand);
}

/* The remaining instructions (not NOPs) and both outcomes, on stderr. */
static void fj_report(struct fj *f, uint64_t seed)
{
    struct gen *g = f->g;
    const struct fj_start *st = &f->st;
    struct fj_out o[2];
    char diff[512];
    uint32_t mem_at;
    bool d = fj_both(f, f->image, o, diff, sizeof(diff), &mem_at) == FJ_DIFF;
    fprintf(stderr, "fuzz_jit: program %llu (%s) minimised: %s\n", (unsigned long long)seed,
            fj_mode_name[st->mode], d ? diff : "(no longer diverges)");
    fprintf(stderr, "  start: CS %04x SS %04x DS %04x ES %04x FS %04x GS %04x CPL %u CR0 %08x "
                    "EIP %08x EFLAGS %08x\n  regs:",
            st->cs, st->ss, st->ds, st->es, st->fs, st->gs, st->cpl, st->cr0, st->eip, st->eflags);
    for (int r = 0; r < 8; r++)
        fprintf(stderr, " %08x", st->regs[r]);
    fprintf(stderr, "\n  instructions left (linear address: bytes):\n");
    unsigned shown = 0;
    for (unsigned i = 0; i < g->ninsns && shown < 80; i++) {
        const struct fj_insn *in = &g->insns[i];
        bool nop = true;
        for (unsigned k = 0; k < in->len; k++)
            nop &= f->image[in->at + k] == 0x90;
        if (nop)
            continue;
        fprintf(stderr, "    %08x:", in->at);
        for (unsigned k = 0; k < in->len; k++)
            fprintf(stderr, " %02x", f->image[in->at + k]);
        fprintf(stderr, "\n");
        shown++;
    }
    static const char *const names[2] = { "careful", "JIT" };
    for (int e = 0; e < 2; e++) {
        fprintf(stderr, "  %s: exit %d after %llu: EIP %08x EFLAGS %08x regs", names[e],
                (int)o[e].why, (unsigned long long)o[e].icount, o[e].w[W_EIP], o[e].w[W_EFLAGS]);
        for (int r = 0; r < 8; r++)
            fprintf(stderr, " %08x", o[e].w[r]);
        fprintf(stderr, "\n");
    }
}

/* ------------------------------------------------------------------ */
/* The tests                                                           */
/* ------------------------------------------------------------------ */

/* fuzz_total.h: the file of the runner process (a test's parent). */
static void fj_total_path(char *buf, size_t size, long runner)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, size, "%s/glass-fuzz-jit-insns.%ld", dir && *dir ? dir : "/tmp", runner);
}

void fuzz_total_add(uint64_t jit_insns)
{
    char path[256];
    fj_total_path(path, sizeof(path), (long)getppid());
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "%llu\n", (unsigned long long)jit_insns);
        fclose(f);
    }
}

/* In the runner, after every test: the sum (each test requires its own
 * share of the ten million, FJ_MIN_JIT_INSNS). */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    (void)stats;
    char path[256];
    fj_total_path(path, sizeof(path), (long)getpid());
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    unsigned long long n, total = 0;
    unsigned tests = 0;
    while (fscanf(f, "%llu", &n) == 1)
        total += n, tests++;
    fclose(f);
    remove(path);
    fprintf(stderr, "[----] fuzz tests: %llu guest instructions under the JIT in %u tests\n",
            total, tests);
}

static uint64_t fj_env(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static struct fj *fj_new(size_t jit_code_size)
{
    struct fj *f = calloc(1, sizeof(*f));
    cr_assert_not_null(f);
    f->ram = aligned_alloc(4096, FJ_RAM_SIZE);
    f->base = malloc(FJ_RAM_SIZE);
    f->image = malloc(FJ_RAM_SIZE);
    f->after = malloc(FJ_RAM_SIZE);
    f->g = calloc(1, sizeof(*f->g));
    f->pm = phys_new();
    f->io = io_new();
    cr_assert(f->ram && f->base && f->image && f->after && f->g && f->pm && f->io);
    memset(f->ram, 0, FJ_RAM_SIZE);
    cr_assert_eq(phys_map_ram(f->pm, 0, FJ_RAM_SIZE, f->ram), 0);
    cr_assert_eq(phys_map_mmio(f->pm, FJ_MMIO, 4096, &fj_dev_ops, &f->dev), 0);
    cr_assert_eq(io_register(f->io, FJ_PORT, 8, &fj_dev_ops, &f->dev), 0);
    struct cpu_bus bus = { .mem = f->pm, .io = f->io };
    f->cpu = cpu_new(&bus);
    cr_assert_not_null(f->cpu);
    f->cpu->log = NULL;
    f->cpu->jit_code_size = jit_code_size;
    f->cpu->trace_insn = fj_trace;
    f->cpu->trace_opaque = f;
    f->track = fuzz_undef_tolerate();
    f->verbose = fj_env("GLASS_FUZZ_JIT_VERBOSE", 0) != 0;
    if (getenv("GLASS_FUZZ_LOG")) {
        f->cpu->log = stderr;
        f->cpu->log_mask = LOG_INT | (unsigned)strtoul(getenv("GLASS_FUZZ_LOG"), NULL, 0);
    }
    f->g->img = f->base;
    fj_build_base(f->g);
    fj_gdt_image = f->base;
    return f;
}

static void fj_free(struct fj *f)
{
    cpu_exec_release(f->cpu);
    cpu_free(f->cpu);
    io_free(f->io);
    phys_free(f->pm);
    free(f->ram);
    free(f->base);
    free(f->image);
    free(f->after);
    free(f->g);
    free(f);
}

/* Programs per test in `make check`, and the instructions they must
 * make the JIT run at least (each program runs some 20000): the five
 * tests together more than ten million. GLASS_FUZZ_JIT_SCALE=percent
 * scales both (a slow build may run fewer). */
#define FJ_PROGRAMS 200
#define FJ_MIN_JIT_INSNS 2000000u

static void fj_run_mode(enum fj_mode mode, size_t jit_code_size)
{
    if (!cpu_exec_jit_available())
        cr_skip_test("no JIT on this host");
    const uint64_t base = fj_env("GLASS_FUZZ_SEED", 20261130);
    const uint64_t one = fj_env("GLASS_FUZZ_JIT_ONE", 0);
    const uint64_t scale = fj_env("GLASS_FUZZ_JIT_SCALE", 100);
    const uint64_t progs_env = fj_env("GLASS_FUZZ_JIT_PROGS", 0);
    uint64_t progs = (progs_env ? progs_env : FJ_PROGRAMS) * scale / 100;
    if (progs == 0)
        progs = 1;
    if (one)
        progs = 1;
    struct fj *f = fj_new(jit_code_size);
    cr_log_info("fuzz_jit %s: seed %llu, %llu programs%s", fj_mode_name[mode],
                (unsigned long long)base, (unsigned long long)progs,
                fuzz_undef_tolerate() ? " (undefined flags kept from being seen)" : "");
    for (uint64_t i = 0; i < progs; i++) {
        uint64_t seed = one ? one : fj_mix(base * 0x100000001b3ull + mode * 1000003u + i);
        memcpy(f->image, f->base, FJ_RAM_SIZE);
        f->g->img = f->image;
        while (!fj_generate(f->g, seed, mode, &f->st)) {
            cr_assert(!one, "program %llu cannot be made", (unsigned long long)one);
            f->rejected++;
            seed = fj_mix(seed);
            memcpy(f->image, f->base, FJ_RAM_SIZE);
        }
        f->budget = FJ_BUDGET;
        struct fj_out o[2];
        char diff[512];
        uint32_t mem_at;
        enum fj_verdict v = fj_both(f, f->image, o, diff, sizeof(diff), &mem_at);
        bool bad = v == FJ_DIFF;
        if (f->seen || v == FJ_TAINTED) {
            /* The generator let an undefined flag through: its bug. */
            f->tainted++;
            if (f->tainted <= 3)
                cr_log_info("fuzz_jit %s program %llu (GLASS_FUZZ_JIT_ONE=%llu) lets an undefined "
                            "flag be seen%s%s", fj_mode_name[mode], (unsigned long long)i,
                            (unsigned long long)seed, v == FJ_TAINTED ? "; differs: " : "",
                            v == FJ_TAINTED ? diff : "");
        }
        f->programs++;
        f->careful_insns += o[0].icount;
        f->jit_insns += o[1].icount;
        f->faults += get32(f->after, FJ_VAR_COUNT);
        if (o[0].why == CPU_EXIT_BUDGET)
            f->budget_ends++;
        else if (o[0].why == CPU_EXIT_SHUTDOWN)
            f->shutdowns++;
        else if (o[0].w[W_EIP] == f->st.end_eip)
            f->ended_at_end++;
        else
            f->ended_elsewhere++;
        if (f->verbose) {
            uint32_t cur = get32(f->after, FJ_VAR_CURSOR);
            uint32_t last = ((cur - FJ_LOG - 16) & 0xff0) + FJ_LOG;
            fprintf(stderr, "fuzz_jit %s program %llu (%llu): exit %d at %04x:%08x (its end: "
                    "%08x) after %llu instructions, %u exceptions, the last vector %u at %08x\n",
                    fj_mode_name[mode], (unsigned long long)i, (unsigned long long)seed,
                    (int)o[0].why, o[0].w[W_SEGS + 4 * SEG_CS], o[0].w[W_EIP], f->st.end_eip,
                    (unsigned long long)o[0].icount, get32(f->after, FJ_VAR_COUNT),
                    get32(f->after, last), get32(f->after, last + 8));
        }
        if (bad) {
            char sig[64];
            fj_signature(diff, sig, sizeof(sig));
            fprintf(stderr, "fuzz_jit %s program %llu (GLASS_FUZZ_JIT_ONE=%llu): %s\n",
                    fj_mode_name[mode], (unsigned long long)i, (unsigned long long)seed, diff);
            const uint64_t careful_run = o[0].icount;
            f->budget = careful_run * 4 + 10000;
            fj_minimise(f, sig, (unsigned)fj_env("GLASS_FUZZ_JIT_MINIMISE", 1500));
            fj_report(f, seed);
            cr_assert_fail("fuzz_jit %s program %llu (GLASS_FUZZ_JIT_ONE=%llu): the JIT and the "
                           "careful path disagree: %s", fj_mode_name[mode], (unsigned long long)i,
                           (unsigned long long)seed, diff);
        }
    }
    cr_log_info("fuzz_jit %s: %u programs (%u remade), %llu instructions under the JIT, %llu on "
                "the careful path, %llu exceptions handled; %u ended at their end, %u elsewhere "
                "(a fault with no way on), %u ran out of budget, %u triple faults, %u let an "
                "undefined flag be seen",
                fj_mode_name[mode], f->programs, f->rejected, (unsigned long long)f->jit_insns,
                (unsigned long long)f->careful_insns, (unsigned long long)f->faults,
                f->ended_at_end, f->ended_elsewhere, f->budget_ends, f->shutdowns, f->tainted);
    fuzz_total_add(f->jit_insns);
    const struct jit_stats *js = &f->cpu->jit->stats;
    cr_log_info("fuzz_jit %s: the JIT translated %llu blocks (%llu instructions, %llu%% inline), "
                "flushed its cache %llu times, dropped %llu pages for stores into code, made "
                "%llu helper calls",
                fj_mode_name[mode], (unsigned long long)js->blocks,
                (unsigned long long)js->insns_translated,
                (unsigned long long)(js->insns_translated ? js->insns_inline * 100 /
                                                                js->insns_translated : 0),
                (unsigned long long)js->flushes, (unsigned long long)js->invalidations,
                (unsigned long long)js->helper_calls);
    /* The generator must stay worth its time: programs that run to their
     * end (not to a fault it did not plan), and enough of them. */
    cr_expect_eq(f->tainted, 0, "the generator let undefined flags be seen");
    cr_expect_leq(f->ended_elsewhere + f->budget_ends, f->programs / 50 + 1,
                  "too many programs did not run to their end");
    if (!one && !progs_env)
        cr_expect_geq(f->jit_insns, FJ_MIN_JIT_INSNS * scale / 100,
                      "the JIT ran %llu instructions only", (unsigned long long)f->jit_insns);
    fj_free(f);
}

Test(fuzz_jit, flat, .timeout = 600) { fj_run_mode(FJ_FLAT, 1u << 20); }
Test(fuzz_jit, user, .timeout = 600) { fj_run_mode(FJ_USER, 2u << 20); }
Test(fuzz_jit, paging, .timeout = 600) { fj_run_mode(FJ_PAGING, 1u << 20); }
Test(fuzz_jit, paging_user, .timeout = 600) { fj_run_mode(FJ_PAGING_USER, 4u << 20); }
Test(fuzz_jit, pm16, .timeout = 600) { fj_run_mode(FJ_PM16, 1u << 20); }
