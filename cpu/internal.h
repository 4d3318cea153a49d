/*
 * cpu/internal.h — private to cpu/: the helpers the instruction handlers
 * share. Each block names the file that implements it.
 *
 * Conventions every handler follows:
 * - A handler runs with cpu->eip at the instruction's first byte and
 *   cpu->next_eip at the byte after it. A jump writes cpu->next_eip; the
 *   loop copies next_eip to eip after the handler returns.
 * - Faults are raised with cpu_raise(), which longjmps out of the handler.
 *   A handler therefore commits architectural state only after the last
 *   access that can fault (compute, access memory, then write registers),
 *   so a faulting instruction leaves no trace (SDM Vol. 3A 6.6: faults
 *   are restartable). String instructions commit per iteration.
 */
#ifndef GLASS_CPU_INTERNAL_H
#define GLASS_CPU_INTERNAL_H

#include <string.h>

#include "cpu/cpu.h"

/* ------------------------------------------------------------------ */
/* Registers (inline, here)                                            */
/* ------------------------------------------------------------------ */

static inline uint32_t width_mask(unsigned width)
{
    return width >= 4 ? 0xffffffffu : (1u << (width * 8)) - 1;
}

/* Reads general register `r` of `width` bytes; for width 1, r = 4..7
 * are AH, CH, DH, BH. */
static inline uint32_t reg_read(const struct cpu *cpu, unsigned r, unsigned width)
{
    if (width == 1)
        return r < 4 ? cpu->regs[r] & 0xff : (cpu->regs[r - 4] >> 8) & 0xff;
    if (width == 2)
        return cpu->regs[r] & 0xffff;
    return cpu->regs[r];
}

/* Writes the low `width` bytes of register `r`, keeping the rest. */
static inline void reg_write(struct cpu *cpu, unsigned r, unsigned width, uint32_t v)
{
    if (width == 1) {
        if (r < 4)
            cpu->regs[r] = (cpu->regs[r] & ~0xffu) | (v & 0xff);
        else
            cpu->regs[r - 4] = (cpu->regs[r - 4] & ~0xff00u) | ((v & 0xff) << 8);
    } else if (width == 2) {
        cpu->regs[r] = (cpu->regs[r] & ~0xffffu) | (v & 0xffff);
    } else {
        cpu->regs[r] = v;
    }
}

/* ------------------------------------------------------------------ */
/* Exceptions (cpu/except.c)                                           */
/* ------------------------------------------------------------------ */

/* Raises a fault or abort: records it and unwinds to the execution loop.
 * Whether an error code is pushed follows from the vector (8, 10-14, 17
 * push one); `error` is ignored for the others. Saved EIP = cpu->eip. */
_Noreturn void cpu_raise(struct cpu *cpu, int vector, uint32_t error);
/* Raises #PF for linear address `lin` with `error` (sets CR2). */
_Noreturn void cpu_raise_pf(struct cpu *cpu, uint32_t lin, uint32_t error);
/* Which instruction raised a software interrupt: the rules differ.
 * INT n (CD) is IOPL-sensitive in v86 mode and subject to CR4.VME
 * redirection; INT3 (CC) and INTO (CE) check gate DPL >= CPL but are not
 * IOPL-sensitive; INT1/ICEBP (F1) behaves like a hardware #DB trap (no
 * DPL check) (SDM Vol. 3A 6.12.1.1, 20.3.3 and the INT n pseudocode). */
enum int_source { INT_SOFT_N, INT_SOFT_3O, INT_ICEBP };
/* INT n, INT3, INTO, INT1: a trap; saved EIP = cpu->next_eip. */
_Noreturn void cpu_raise_int(struct cpu *cpu, int vector, enum int_source src);

/* Delivers vector through the IDT / IVT now (used for external
 * interrupts and by cpu_deliver_pending). `return_eip` is the EIP pushed.
 * May itself call cpu_raise (a fault during delivery). */
void cpu_interrupt(struct cpu *cpu, int vector, bool has_error, uint32_t error,
                   uint32_t return_eip, bool soft, bool external);

/* ------------------------------------------------------------------ */
/* Memory (cpu/mem.c)                                                  */
/* ------------------------------------------------------------------ */

/*
 * Segmented accesses: check the access against the segment's cached
 * descriptor (limit incl. expand-down and the 16/32-bit upper bound,
 * type: readable/writable, present-ness is checked at load time, null
 * selector in protected mode), raising #GP(0) or #SS(0) for SS, then
 * translate and access through the TLB. `seg` is SEG_ES..SEG_GS.
 * Accesses may be unaligned and cross pages (both pages are checked
 * before any byte is written).
 */
uint32_t cpu_read(struct cpu *cpu, int seg, uint32_t off, unsigned size); /* 1,2,4 */
void cpu_write(struct cpu *cpu, int seg, uint32_t off, uint32_t val, unsigned size);
uint64_t cpu_read64(struct cpu *cpu, int seg, uint32_t off);
void cpu_write64(struct cpu *cpu, int seg, uint32_t off, uint64_t val);
/* Checks that [off, off+size) may be written (segment and paging) without
 * writing: for instructions that must not partly commit (e.g. the read
 * of a read-modify-write destination already checked it, but PUSHA, ENTER,
 * far CALL frames and FSAVE need the whole range checked first). */
void cpu_check_write(struct cpu *cpu, int seg, uint32_t off, uint32_t size);
void cpu_check_read(struct cpu *cpu, int seg, uint32_t off, uint32_t size);

/* Instruction fetch: up to `len` bytes at CS:off into buf, never faulting
 * on bytes past the first page boundary it reaches unless `all` is set.
 * Returns bytes fetched. Faults (#GP on CS limit, #PF) raise when the
 * first byte cannot be fetched or when `all` is set. */
unsigned cpu_fetch(struct cpu *cpu, uint32_t off, uint8_t *buf, unsigned len, bool all);

/* For the block cache: the physical address of the code byte at CS:off
 * (translated for an instruction fetch at the current CPL, so #PF is
 * raised as a fetch would) and the host pointer of its page's first byte
 * if the page is RAM or ROM, else NULL. The CS limit is the caller's. */
const uint8_t *cpu_code_page(struct cpu *cpu, uint32_t off, uint64_t *paddr);

/*
 * The inline fast path of cpu_read/cpu_write (cpu/mem.c): a present
 * expand-up data segment (writable for a write) needs only the limit
 * check in every mode, since the type checks of protected mode pass for
 * it and real/v86 mode make no others (SDM Vol. 3A 5.3, 5.4); then a TLB
 * hit within one page. Anything else (expand-down, code segments, a wrap
 * at 4 GiB, EFLAGS.AC set, data breakpoints enabled, a TLB miss, a slow
 * page, a page-crossing access) returns false: the caller takes cpu_read
 * or cpu_write, which make every check.
 */
/* Whether data accesses must be checked one by one: the guest's data
 * breakpoints (DR7) or a debugger's watchpoints are set. */
static inline bool cpu_data_watched(const struct cpu *cpu)
{
    return (cpu->dr[7] & 0xff) | cpu->dbg_watching;
}

static inline bool seg_fast_ok(const struct cpu *cpu, const struct seg *s, uint32_t off,
                               unsigned size, uint32_t need)
{
    uint32_t last = off + size - 1;
    return (s->ar & (AR_P | AR_S | AR_T_CODE | AR_T_EXPDOWN | need)) == (AR_P | AR_S | need) &&
           last >= off && last <= s->limit && !(cpu->eflags & FL_AC) && !cpu_data_watched(cpu);
}

static inline bool cpu_read_fast(struct cpu *cpu, int seg, uint32_t off, unsigned size,
                                 uint32_t *val)
{
    const struct seg *s = &cpu->seg[seg];
    if (!seg_fast_ok(cpu, s, off, size, 0))
        return false;
    uint32_t lin = s->base + off;
    const struct tlb_entry *e = &cpu->tlb.e[cpu->cpl == 3][tlb_index(lin)];
    if (e->tag_read != (lin & TLB_PAGE_MASK) || (lin & 0xfffu) > 4096u - size)
        return false;
    const uint8_t *p = (const uint8_t *)(e->addend + lin);
    if (size == 4) {
        uint32_t x;
        memcpy(&x, p, 4);
        *val = x;
    } else if (size == 2) {
        uint16_t x;
        memcpy(&x, p, 2);
        *val = x;
    } else {
        *val = p[0];
    }
    return true;
}

static inline bool cpu_write_fast(struct cpu *cpu, int seg, uint32_t off, uint32_t val,
                                  unsigned size)
{
    const struct seg *s = &cpu->seg[seg];
    if (!seg_fast_ok(cpu, s, off, size, AR_T_WRITABLE))
        return false;
    uint32_t lin = s->base + off;
    const struct tlb_entry *e = &cpu->tlb.e[cpu->cpl == 3][tlb_index(lin)];
    if (e->tag_write != (lin & TLB_PAGE_MASK) || (lin & 0xfffu) > 4096u - size)
        return false;
    uint8_t *p = (uint8_t *)(e->addend + lin);
    if (size == 4) {
        uint32_t x = val;
        memcpy(p, &x, 4);
    } else if (size == 2) {
        uint16_t x = (uint16_t)val;
        memcpy(p, &x, 2);
    } else {
        p[0] = (uint8_t)val;
    }
    return true;
}

/* cpu_read / cpu_write with the fast path inlined at the call site. */
static inline uint32_t cpu_read_inl(struct cpu *cpu, int seg, uint32_t off, unsigned size)
{
    uint32_t v;
    if (cpu_read_fast(cpu, seg, off, size, &v))
        return v;
    return cpu_read(cpu, seg, off, size);
}

static inline void cpu_write_inl(struct cpu *cpu, int seg, uint32_t off, uint32_t val,
                                 unsigned size)
{
    if (!cpu_write_fast(cpu, seg, off, val, size))
        cpu_write(cpu, seg, off, val, size);
}

/* Linear accesses with no segmentation. `sys` marks implicit supervisor
 * accesses (descriptor tables, TSS, IDT): they are checked as CPL 0
 * whatever the CPL (SDM 4.6). */
uint32_t cpu_lin_read(struct cpu *cpu, uint32_t lin, unsigned size, bool sys);
void cpu_lin_write(struct cpu *cpu, uint32_t lin, uint32_t val, unsigned size, bool sys);

/* Switches the TLB in use after a CPL change, and flushes on the control
 * register changes that require it (SDM 4.10.4). */
void cpu_tlb_flush_all(struct cpu *cpu);

/* ------------------------------------------------------------------ */
/* Operands (cpu/operand.c)                                            */
/* ------------------------------------------------------------------ */

/* The offset of the ModRM memory operand, wrapped to the address size. */
uint32_t insn_ea(const struct cpu *cpu, const struct insn *in);
/* insn_ea inlined at the call site (cpu/fastpath.c). 16-bit addressing
 * wraps within 64 KiB (SDM Vol. 1 3.7.5): the sum of the 16-bit
 * registers modulo 2^16 is the same as the masked 32-bit sum. */
static inline uint32_t insn_ea_inl(const struct cpu *cpu, const struct insn *in)
{
    uint32_t a = (uint32_t)in->disp;
    if (in->ea_base != EA_NO_REG)
        a += cpu->regs[in->ea_base];
    if (in->ea_index != EA_NO_REG)
        a += cpu->regs[in->ea_index] << in->ea_scale;
    return in->adsize == 2 ? a & 0xffff : a;
}
/* Reads / writes an operand of any kind; widths 1, 2 and 4. */
uint32_t opnd_read_slow(struct cpu *cpu, const struct insn *in, const struct operand *o);
void opnd_write_slow(struct cpu *cpu, const struct insn *in, const struct operand *o, uint32_t v);

/* Register and immediate operands are most operands: inline them (a
 * measured 10 % of the interpreter's time went to the call). */
static inline uint32_t opnd_read(struct cpu *cpu, const struct insn *in, const struct operand *o)
{
    if (o->kind == OPND_REG)
        return reg_read(cpu, o->reg, o->width);
    if (o->kind == OPND_IMM)
        return in->imm & width_mask(o->width);
    return opnd_read_slow(cpu, in, o);
}

static inline void opnd_write(struct cpu *cpu, const struct insn *in, const struct operand *o,
                              uint32_t v)
{
    if (o->kind == OPND_REG)
        reg_write(cpu, o->reg, o->width, v);
    else
        opnd_write_slow(cpu, in, o, v);
}

/* ------------------------------------------------------------------ */
/* Stack (cpu/stack.c)                                                 */
/* ------------------------------------------------------------------ */

/* SS:ESP or SS:SP per SS.B. Push decrements then writes; the new ESP is
 * committed only after the write succeeded. */
void cpu_push(struct cpu *cpu, uint32_t val, unsigned width);
uint32_t cpu_pop(struct cpu *cpu, unsigned width);
/* Reads the value `depth` bytes above the stack top without popping. */
uint32_t cpu_stack_peek(struct cpu *cpu, uint32_t depth, unsigned width);
/* The stack pointer masked to SS.B and its update. */
uint32_t cpu_sp(const struct cpu *cpu);
void cpu_set_sp(struct cpu *cpu, uint32_t sp);

/* ------------------------------------------------------------------ */
/* Flags (cpu/flags.c)                                                 */
/* ------------------------------------------------------------------ */

/* Records a lazy flag result (see enum cc_op). */
static inline void cc_set(struct cpu *cpu, enum cc_op op, unsigned width, uint32_t src1,
                          uint32_t src2, uint32_t res, uint32_t aux)
{
    cpu->cc.op = (uint8_t)op;
    cpu->cc.width = (uint8_t)width;
    cpu->cc.src1 = src1;
    cpu->cc.src2 = src2;
    cpu->cc.res = res;
    cpu->cc.aux = aux;
}
/* CC_HOST's image (cpu.h): LAHF's byte in bits 8-15, SETO's in bit 0.
 * LAHF's byte has the five flags it holds where EFLAGS has them (SDM
 * LAHF), so each direction is a shift and the OF bit. */
#define CC_HOST_LAHF (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)
static inline uint32_t cc_host_bits(uint32_t image)
{
    return ((image >> 8) & CC_HOST_LAHF) | ((image & 1) ? FL_OF : 0);
}
static inline uint32_t cc_host_image(uint32_t bits)
{
    return ((bits & CC_HOST_LAHF) << 8) | ((bits & FL_OF) ? 1 : 0);
}
/* The six arithmetic flags as EFLAGS bits (computes lazy state). */
uint32_t flags_arith(struct cpu *cpu);
/* Makes eflags hold the arithmetic bits and switches to CC_EAGER. */
void flags_materialize(struct cpu *cpu);
/* Sets the six arithmetic bits eagerly (the others are kept). */
void flags_set_arith(struct cpu *cpu, uint32_t bits);
bool flags_cf(struct cpu *cpu);
/* AF alone, without building the other flags (shifts keep AF). */
bool flags_af(struct cpu *cpu);
/* Condition 0-15 in Jcc order (O, NO, B, AE, E, NE, BE, A, S, NS, P, NP,
 * L, GE, LE, G). */
bool flags_cond(struct cpu *cpu, unsigned cond);
/* Even parity of the low byte. */
bool parity8(uint32_t v);
/*
 * Writes EFLAGS as POPF/IRET/task switch do: `mask` names the bits that
 * may change; bit 1 stays 1, reserved bits stay 0. No privilege rules
 * here: callers choose the mask (SDM POPF/IRET tables).
 */
void flags_write(struct cpu *cpu, uint32_t val, uint32_t mask);

/* ------------------------------------------------------------------ */
/* Undefined flags from the host CPU (cpu/host_flags.c)                */
/* ------------------------------------------------------------------ */

/*
 * On an x86-64 host the flags (and the result of SHLD/SHRD of words by
 * 17..31) that the SDM leaves undefined come from the host's own
 * instruction, as they do under the JIT; elsewhere the handlers keep
 * their portable formulas. Each function loads the six arithmetic flags
 * of `flags_in`, runs the instruction at `width` bytes on the host and
 * returns the host's six arithmetic flags after it. The caller merges:
 * defined bits from its own code, undefined ones from these.
 */
#if defined(__x86_64__)
#define GLASS_HOST_FLAGS 1
/* Whether the host loads the flags with SAHF (LAHF/SAHF available in
 * 64-bit mode, CPUID 8000_0001H:ECX bit 0) rather than POPFQ; set at
 * start-up. Unit tests clear it to run the POPFQ way. */
extern bool host_flags_sahf;
/* ROL ROR RCL RCR SHL/SAL SHR SAR of `dst` by `count` (1..31, masked). */
uint32_t host_flags_shift(enum op op, unsigned width, uint32_t dst, unsigned count,
                          uint32_t flags_in);
/* SHLD/SHRD (width 2 or 4) by `count` (1..31); *dst receives the host's
 * result (undefined for words shifted by more than 16). */
uint32_t host_flags_shiftd(enum op op, unsigned width, uint32_t *dst, uint32_t src,
                           unsigned count, uint32_t flags_in);
/* MUL/IMUL1 (accumulator `a` times `b`) and IMUL2 (`a` * `b`). */
uint32_t host_flags_mul(enum op op, unsigned width, uint32_t a, uint32_t b, uint32_t flags_in);
/* DIV/IDIV of the double-width `dividend` by `divisor`. Call only when
 * they raise no #DE (the function declines, returning flags_in, if they
 * would: a host #DE would be Glass's own SIGFPE). */
uint32_t host_flags_div(enum op op, unsigned width, uint64_t dividend, uint32_t divisor,
                        uint32_t flags_in);
/* BT BTS BTR BTC (width 2 or 4) of bit `bit` (< width * 8) of `val`. */
uint32_t host_flags_bt(enum op op, unsigned width, uint32_t val, unsigned bit,
                       uint32_t flags_in);
/* BSF/BSR (width 2 or 4) of `src` into a destination holding `dst`. */
uint32_t host_flags_bsx(enum op op, unsigned width, uint32_t dst, uint32_t src,
                        uint32_t flags_in);
#else
#define GLASS_HOST_FLAGS 0
#endif

/* The flags left undefined by a group-2 operation (SHL, ROL, ...) by the
 * non-zero masked count `c` on a `bits`-wide operand (cpu/shift.c). */
uint32_t shift_undefined_flags(enum op op, unsigned c, unsigned bits);

/* Bits of `undefined` from `host`, the rest from `defined`. */
static inline uint32_t flags_merge(uint32_t defined, uint32_t host, uint32_t undefined)
{
    return (defined & ~undefined) | (host & undefined);
}

/* ------------------------------------------------------------------ */
/* Segments and descriptors (cpu/seg.c)                                */
/* ------------------------------------------------------------------ */

/* A raw 8-byte descriptor. */
struct desc {
    uint32_t lo, hi;
};
static inline uint32_t desc_base(struct desc d)
{
    return (d.lo >> 16) | ((d.hi & 0xff) << 16) | (d.hi & 0xff000000u);
}
static inline uint32_t desc_limit(struct desc d)
{
    uint32_t l = (d.lo & 0xffff) | (d.hi & 0x000f0000u);
    return (d.hi & (1u << 23)) ? (l << 12) | 0xfff : l;
}
static inline uint32_t desc_ar(struct desc d)
{
    return d.hi & 0x00f0ff00u;
}

/* Reads the descriptor of `sel` from the GDT or LDT. Raises `vector`
 * (#GP or #TS) with error sel & 0xfffc if it lies beyond the table's
 * limit. */
struct desc desc_fetch(struct cpu *cpu, uint16_t sel, int vector);
/* Sets the accessed bit of the descriptor in memory if clear. */
void desc_set_accessed(struct cpu *cpu, uint16_t sel, struct desc *d);
/* Fills a segment cache from a descriptor. */
void seg_from_desc(struct seg *s, uint16_t sel, struct desc d);

/* Loads a data or stack segment register (MOV, POP, LDS...) with every
 * check of the mode (real, v86, protected; SDM Vol. 3A 5.5-5.6, MOV
 * pseudocode). Not for CS: far transfers use cpu_far_*. */
void cpu_load_seg(struct cpu *cpu, int seg, uint16_t sel);
/* Real / v86 mode load: base = sel << 4, limit and rights kept (real)
 * or set to 64 KiB data (v86). */
void cpu_load_seg_real(struct cpu *cpu, int seg, uint16_t sel);
/* Updates cpl/code32/stack32 and the TLB index after CS or SS changed. */
void cpu_mode_changed(struct cpu *cpu);

/* Far control transfers (cpu/farctl.c), SDM JMP/CALL/RET/IRET pseudocode,
 * gates and task switches included. */
void cpu_far_jmp(struct cpu *cpu, uint16_t sel, uint32_t off);
void cpu_far_call(struct cpu *cpu, uint16_t sel, uint32_t off, unsigned opsize);
void cpu_far_ret(struct cpu *cpu, unsigned opsize, uint16_t pop_bytes);
void cpu_iret(struct cpu *cpu, unsigned opsize);

/* Task switch (cpu/task.c), SDM Vol. 3A 7.3. */
enum task_switch_reason { TS_JMP, TS_CALL, TS_IRET, TS_INT };
/* `return_eip` is the EIP saved in the old TSS: next_eip for JMP, CALL,
 * IRET and INT n; the faulting EIP for faults (cpu_interrupt's
 * return_eip). `tss_desc` has been checked by the caller for privilege. */
void cpu_task_switch(struct cpu *cpu, uint16_t tss_sel, struct desc tss_desc,
                     enum task_switch_reason why, bool has_error, uint32_t error,
                     uint32_t return_eip);

/* I/O permission (cpu/io.c): raises #GP(0) unless CPL <= IOPL (and not
 * VM) or the TSS bitmap allows every port of [port, port+size). */
void cpu_check_io(struct cpu *cpu, uint16_t port, unsigned size);

/* A debugger's watchpoints (cpu/debugger.c): called by cpu/mem.c after
 * a data access while any is set; records the first hit of the
 * instruction in cpu->dbg.stop. */
void cpu_dbg_check_access(struct cpu *cpu, uint32_t lin, unsigned size, bool write);
/* Whether a debugger's watchpoint covers a byte of the 4 KiB linear page
 * at `page`. */
bool cpu_dbg_page_watched(const struct cpu *cpu, uint32_t page);

/* -d mode and -d mmu (cpu/eventlog.c). The mode is its signature (PE,
 * paging, PAE, VM, CPL); CPU_MODE_UNKNOWN in cpu->mode_logged makes the
 * next check take the mode as it finds it, silently. */
#define CPU_MODE_UNKNOWN 0xffffffffu
uint32_t cpu_mode_signature(const struct cpu *cpu);
/* Logs a line if the mode differs from cpu->mode_logged: the change was
 * made by `by` (an instruction's name and bytes, or an event) at
 * cs:eip, linear `lin`, when `icount` instructions had retired before
 * it. */
void cpu_mode_log_check(struct cpu *cpu, uint16_t cs, uint32_t eip, uint32_t lin,
                        uint64_t icount, const char *by);
/* The same for instruction `in` whose bytes are `bytes` (its length):
 * "by NAME (bytes)". */
void cpu_mode_log_insn(struct cpu *cpu, uint16_t cs, uint32_t eip, uint32_t lin,
                       const struct insn *in, const uint8_t *bytes, uint64_t icount);
/* The #PF recorded in cpu->exc_* with the walk of CR2 (-d mmu). */
void cpu_mmu_log_fault(struct cpu *cpu);
/* Whether the instruction count lies in -d window= (no ranges looked at). */
bool cpu_log_in_window(const struct cpu *cpu);

/* Debug registers (cpu/debug.c), SDM Vol. 3A chapter 17. */
/* Called by cpu/mem.c after a data access when any of DR7's L/G bits is
 * set: records matching breakpoints in cpu->dr6_pending. */
void cpu_check_data_breakpoint(struct cpu *cpu, uint32_t lin, unsigned size, bool write);
/* Called by the loop before each instruction when DR7 enables any
 * breakpoint: raises #DB (a fault) for an instruction breakpoint at
 * CS.base + EIP unless EFLAGS.RF is set. */
void cpu_debug_before_insn(struct cpu *cpu);
/* Called by the loop after each instruction that completed when `tf`
 * (TF was set when the instruction started), dr6_pending or dr6_held is
 * set: raises the #DB trap for single-step and data breakpoints (SDM
 * 17.3.1), unless the instruction was MOV SS / POP SS, whose traps it
 * holds for the next instruction (cpu_debug_ss_shadow).
 * RF is handled by the loop: it clears RF after an instruction that
 * started with RF set (so an IRET that sets RF keeps it for one more
 * instruction, SDM 17.3.1.1). */
void cpu_debug_after_insn(struct cpu *cpu, bool tf);
/* Called by MOV SS and POP SS once SS is loaded: the debug traps of this
 * instruction wait for the boundary after the next one (SDM 6.8.3). */
void cpu_debug_ss_shadow(struct cpu *cpu);
/* Called by cpu_deliver_pending after it delivered an event raised in
 * the shadow: traps still held are due now, at the first instruction
 * boundary after the transfer (SDM 6.8.3). */
void cpu_debug_after_event(struct cpu *cpu, int vector);

/* Time (cpu/state.c): the TSC as the guest sees it (counted in
 * cpu->clock_reads: a value that a replay cannot repeat). */
uint64_t cpu_tsc(struct cpu *cpu);

/* The specialised handler for `in`'s operation and operand form if
 * cpu/fastpath.c has one, else in->fn. For the block cache. */
insn_fn cpu_fast_handler(const struct insn *in);
/* The specialised handler of an x87 form (cpu/fpu_fast.c), or NULL. */
insn_fn fpu_fast_handler(const struct insn *in);
/* A handler running `first` (a handler cpu_fast_handler chose) and then
 * the instruction `second` that follows it in the block, or NULL if the
 * pair has none. The pair's handler is given the first insn and reads
 * the second one right after it in memory. */
insn_fn cpu_fast_pair(insn_fn first, const struct insn *second);

/* ------------------------------------------------------------------ */
/* Handler registration (one table per family file)                    */
/* ------------------------------------------------------------------ */

struct op_handler {
    uint16_t op;
    insn_fn fn;
};

/* Each family file exports one table, terminated by {OP_INVALID, NULL};
 * cpu/dispatch.c merges them. */
extern const struct op_handler alu_handlers[];    /* cpu/alu.c */
extern const struct op_handler shift_handlers[];  /* cpu/shift.c */
extern const struct op_handler muldiv_handlers[]; /* cpu/muldiv.c */
extern const struct op_handler bcd_handlers[];    /* cpu/bcd.c */
extern const struct op_handler bit_handlers[];    /* cpu/bitops.c */
extern const struct op_handler move_handlers[];   /* cpu/move.c */
extern const struct op_handler stack_handlers[];  /* cpu/stack.c */
extern const struct op_handler control_handlers[];/* cpu/control.c */
extern const struct op_handler string_handlers[]; /* cpu/string.c */
extern const struct op_handler io_handlers[];     /* cpu/io.c */
extern const struct op_handler system_handlers[]; /* cpu/system.c */
extern const struct op_handler seg_handlers[];    /* cpu/seg.c: LAR, LSL, VERR, ARPL, L?S, ... */
extern const struct op_handler farctl_handlers[]; /* cpu/farctl.c: JMPF, CALLF, RETF, IRET, INT* */
extern const struct op_handler fpu_handlers[];    /* cpu/fpu*.c */

#endif
