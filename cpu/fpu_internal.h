/*
 * cpu/fpu_internal.h — the x87 state as the cpu/fpu*.c files share it:
 * status/control word bits, the register stack and its tags, exception
 * reporting. Private to cpu/fpu.c (decoding, the general handlers),
 * cpu/fpu_fast.c (the specialised handlers) and cpu/fpu_arith.c (host or
 * software arithmetic).
 *
 * References: SDM Vol. 1 chapter 8 (x87 FPU) and 4.9 (exceptions).
 */
#ifndef GLASS_CPU_FPU_INTERNAL_H
#define GLASS_CPU_FPU_INTERNAL_H

#include "cpu/fpu_soft.h"
#include "cpu/internal.h"

/* Status word bits (SDM Vol. 1 Figure 8-4). TOP lives in fpu.top. */
#define SW_EXC 0x003fu /* IE DE ZE OE UE PE */
#define SW_SF 0x0040u
#define SW_ES 0x0080u
#define SW_C0 0x0100u
#define SW_C1 0x0200u
#define SW_C2 0x0400u
#define SW_TOP 0x3800u
#define SW_C3 0x4000u
#define SW_B 0x8000u
#define SW_CC (SW_C0 | SW_C1 | SW_C2 | SW_C3)

/* Control word (SDM Vol. 1 Figure 8-6). Bit 6 is reserved and reads 1;
 * bits 13-15 are reserved and read 0. */
#define CW_IM 0x0001u
#define CW_WRITABLE 0x1f3fu
#define CW_FIXED1 0x0040u
#define CW_INIT 0x037fu

/* CR0 bits (SDM Vol. 3A 2.5). */
#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_NE (1u << 5)

/* Tag values (SDM Vol. 1 Figure 8-7). */
enum { TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3 };

/* Arithmetic operations in the D8 ModRM.reg order. */
enum { A_ADD, A_MUL, A_COM, A_COMP, A_SUB, A_SUBR, A_DIV, A_DIVR };

/* ------------------------------------------------------------------ */
/* Register stack and tags                                             */
/* ------------------------------------------------------------------ */

static inline unsigned phys(const struct fpu *f, unsigned i)
{
    return (f->top + i) & 7;
}

/* The tag a value earns when written (SDM Vol. 1 8.1.7): zero, valid
 * (normalized finite), or special (NaN, infinity, denormal, unsupported). */
static inline unsigned tag_of(struct f80 v)
{
    unsigned exp = v.sign_exp & 0x7fff;
    if (exp == 0)
        return v.sig == 0 ? TAG_ZERO : TAG_SPECIAL;
    if (exp == 0x7fff || !(v.sig >> 63))
        return TAG_SPECIAL;
    return TAG_VALID;
}

static inline bool reg_empty(const struct fpu *f, unsigned reg)
{
    return (f->tag_empty >> (reg & 7)) & 1;
}

static inline void reg_set_empty(struct fpu *f, unsigned reg, bool empty)
{
    uint8_t bit = (uint8_t)(1u << (reg & 7));
    f->tag_empty = (uint8_t)(empty ? f->tag_empty | bit : f->tag_empty & ~bit);
}

/* The tag of physical register `reg` (SDM Vol. 1 Figure 8-7). */
static inline unsigned tag_get(const struct fpu *f, unsigned reg)
{
    return reg_empty(f, reg) ? TAG_EMPTY : tag_of(f->st[reg & 7]);
}

static inline bool st_empty(const struct fpu *f, unsigned i)
{
    return reg_empty(f, phys(f, i));
}

/*
 * Registers are read and written field by field: a 16-byte copy of a
 * struct f80 that was just written as 8 + 2 bytes (or by the host's
 * FSTP m80) cannot take its bytes from the store buffer and waits for
 * the stores to retire, a stall that cost more than the x87 operation.
 * It also keeps a host result's undefined padding out of the registers.
 */
static inline struct f80 reg_get(const struct fpu *f, unsigned r)
{
    struct f80 v;
    v.sig = f->st[r & 7].sig;
    v.sign_exp = f->st[r & 7].sign_exp;
    return v;
}

static inline struct f80 st_get(const struct fpu *f, unsigned i)
{
    return reg_get(f, phys(f, i));
}

/* Writes physical register `r`, which is then in use. The empty bits
 * are stored only when they change: most results replace a value, and
 * every store to them makes the next instruction's update wait for this
 * one (a chain through the store buffer). */
static inline void reg_set(struct fpu *f, unsigned r, struct f80 v)
{
    f->st[r & 7].sig = v.sig;
    f->st[r & 7].sign_exp = v.sign_exp;
    if (reg_empty(f, r))
        reg_set_empty(f, r, false);
}

static inline void st_set(struct fpu *f, unsigned i, struct f80 v)
{
    reg_set(f, phys(f, i), v);
}

static inline void st_push(struct fpu *f, struct f80 v)
{
    f->top = (f->top - 1) & 7;
    st_set(f, 0, v);
}

static inline void st_pop(struct fpu *f)
{
    reg_set_empty(f, phys(f, 0), true);
    f->top = (f->top + 1) & 7;
}

static inline uint16_t sw_read(const struct fpu *f)
{
    return (uint16_t)((f->sw & ~SW_TOP) | ((f->top & 7u) << 11));
}

static inline void set_c1(struct fpu *f, bool on)
{
    f->sw = (uint16_t)(on ? f->sw | SW_C1 : f->sw & ~SW_C1);
}

static inline struct fp_ctx ctx_of(const struct fpu *f)
{
    unsigned pc = (f->cw >> 8) & 3;
    return (struct fp_ctx){
        .rc = (uint8_t)((f->cw >> 10) & 3),
        .pc = (uint8_t)(pc == 1 ? FPP_EXTENDED : pc), /* PC = 01 is reserved */
        /* Only register results go through the re-biasing rounding
         * (cpu/fpu_soft.c round_pack); memory stores keep fpu_report's
         * rule (nothing stored on unmasked OE/UE). */
        .unmasked = (uint8_t)(~f->cw & (FPX_OE | FPX_UE)),
    };
}

/*
 * Folds the exceptions an operation raised into the status word (SDM
 * Vol. 1 4.9.2-3, 8.5). Returns whether the result may be delivered:
 * unmasked IE, DE and ZE leave the destination untouched; so do unmasked
 * OE and UE for a memory destination (SDM 4.9.1.4-5). For a register
 * destination with unmasked OE/UE the result was rounded with its exponent
 * re-biased by 24576 (fp_ctx.unmasked, cpu/fpu_soft.c) and is stored.
 * C1 reports "rounded up" (SDM 8.1.3.1).
 */
static inline bool fpu_report(struct cpu *cpu, const struct fp_ctx *c, bool mem_dest)
{
    struct fpu *f = &cpu->fpu;
    unsigned raised = c->flags & SW_EXC;
    unsigned unmasked = raised & ~f->cw & SW_EXC;
    unsigned blocking = FPX_IE | FPX_DE | FPX_ZE | (mem_dest ? FPX_OE | FPX_UE : 0);

    f->sw |= (uint16_t)raised;
    set_c1(f, c->c1 && (raised & FPX_PE));
    if (unmasked)
        f->sw |= SW_ES | SW_B;
    return !(unmasked & blocking);
}

/* ES and B (B mirrors ES since the 387) follow the unmasked exception
 * flags: FLDCW, FLDENV, FRSTOR and FXRSTOR recompute them, so unmasking a
 * pending exception makes the next waiting instruction report it. */
static inline void sw_update_summary(struct cpu *cpu)
{
    struct fpu *f = &cpu->fpu;
    bool was = (f->sw & SW_ES) != 0;
    if (f->sw & SW_EXC & ~f->cw)
        f->sw |= SW_ES | SW_B;
    else
        f->sw &= (uint16_t)~(SW_ES | SW_B);
    if (was && !(f->sw & SW_ES) && cpu->bus.ferr)
        cpu->bus.ferr(cpu->bus.opaque, false);
}

/* Condition codes of a comparison (SDM FCOM: C3 C2 C0 = 000 greater, 001
 * less, 100 equal, 111 unordered); C1 cleared. */
static inline void set_compare_cc(struct fpu *f, int rel)
{
    static const uint16_t cc[4] = {
        [0] = SW_C3,                 /* equal */
        [1] = 0,                     /* greater */
        [2] = SW_C3 | SW_C2 | SW_C0, /* unordered */
        [3] = SW_C0,                 /* less (-1 & 3) */
    };
    f->sw = (uint16_t)((f->sw & ~SW_CC) | cc[rel & 3]);
}

/* Stack overflow or underflow (cpu/fpu.c): IE and SF set; returns true
 * when IE is masked (the caller delivers the real indefinite). */
bool fpu_stack_fault(struct cpu *cpu, bool overflow);

/* The general handler of the whole D8-DF space (cpu/fpu.c): decodes the
 * form at run time. The specialised handlers hand it every case they do
 * not take themselves, before changing any state. */
void fpu_exec(struct cpu *cpu, const struct insn *in);

#endif
