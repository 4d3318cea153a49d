/*
 * cpu/farctl.c — far control transfers: JMP ptr / m16:xx, CALL far, RET
 * far, IRET, and the software interrupt instructions (INT n, INT3, INTO,
 * INT1), which only hand over to cpu/except.c.
 *
 * The protected-mode paths follow the SDM Vol. 2 pseudocode of JMP, CALL,
 * RET and IRET step by step, with call gates per Vol. 3A 5.8 and task
 * gates / TSS descriptors handed to cpu_task_switch (cpu/task.c, Vol. 3A
 * 7.3). Every check and every memory access that can fault happens before
 * the first register is written, so a faulting transfer is restartable
 * (Vol. 3A 6.6).
 */
#include "cpu/internal.h"

/* System descriptor types (S = 0), SDM Vol. 3A Table 3-2. */
enum {
    SYS_TSS16_AVAIL = 0x1,
    SYS_TSS16_BUSY = 0x3,
    SYS_CALL_GATE16 = 0x4,
    SYS_TASK_GATE = 0x5,
    SYS_TSS32_AVAIL = 0x9,
    SYS_TSS32_BUSY = 0xb,
    SYS_CALL_GATE32 = 0xc,
};

/* A call gate copies at most 31 parameters (5-bit count, Vol. 3A 5.8.3);
 * with SS, ESP, CS and EIP a frame has at most 35 slots. */
#define FRAME_SLOTS 36

/* ------------------------------------------------------------------ */
/* Small predicates                                                    */
/* ------------------------------------------------------------------ */

static inline bool prot_mode(const struct cpu *cpu)
{
    return (cpu->cr0 & CR0_PE) && !(cpu->eflags & FL_VM);
}

/* Error code naming a selector (Vol. 3A 6.13): index and TI, no RPL. */
static inline uint32_t sel_err(uint16_t sel)
{
    return sel & 0xfffcu;
}

static inline bool sel_is_null(uint16_t sel)
{
    return (sel & 0xfffcu) == 0;
}

static inline bool ar_is_code(uint32_t ar)
{
    return (ar & (AR_S | AR_T_CODE)) == (AR_S | AR_T_CODE);
}

static inline bool ar_is_writable_data(uint32_t ar)
{
    return (ar & (AR_S | AR_T_CODE | AR_T_WRITABLE)) == (AR_S | AR_T_WRITABLE);
}

_Noreturn static void raise_sel(struct cpu *cpu, int vector, uint16_t sel)
{
    cpu_raise(cpu, vector, sel_err(sel));
}

/* True if [off, off+size) lies inside segment `s` (expand-down aware,
 * Vol. 3A 5.3). Used for stacks that are not loaded in SS yet. */
static bool seg_range_ok(const struct seg *s, uint32_t off, unsigned size)
{
    uint32_t last = off + size - 1;
    if (last < off)
        return false;
    if ((s->ar & (AR_S | AR_T_CODE | AR_T_EXPDOWN)) == (AR_S | AR_T_EXPDOWN)) {
        uint32_t upper = (s->ar & AR_DB) ? 0xffffffffu : 0xffffu;
        return off > s->limit && last <= upper;
    }
    return last <= s->limit;
}

/* ------------------------------------------------------------------ */
/* Stack frames                                                        */
/* ------------------------------------------------------------------ */

/* Reads the current stack `depth` bytes above the top, wrapping the
 * offset to SP or ESP as SS.B says. */
static uint32_t stack_at(struct cpu *cpu, uint32_t depth, unsigned width)
{
    uint32_t mask = cpu->stack32 ? 0xffffffffu : 0xffffu;
    return cpu_read(cpu, SEG_SS, (cpu->regs[R_ESP] + depth) & mask, width);
}

/* Writes the stack pointer of a stack whose SS.B is `big`: a 16-bit
 * stack changes only SP (Vol. 3A 6.2.3 / PUSH pseudocode). */
static void set_stack_pointer(struct cpu *cpu, uint32_t sp, bool big)
{
    if (big)
        cpu->regs[R_ESP] = sp;
    else
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & 0xffff0000u) | (sp & 0xffffu);
}

/*
 * A stack frame planned before it is written: every slot's limit is
 * checked as it is added, the writes happen in frame_write after all the
 * other checks of the instruction passed. The stack need not be SS yet
 * (call-gate stack switch), so the descriptor cache is passed in.
 */
struct frame {
    const struct seg *ss;
    bool big;        /* SS.B: ESP rather than SP */
    bool sys;        /* accessed as supervisor (the new, inner stack) */
    uint32_t sp;     /* stack pointer after the pushes so far */
    uint32_t err;    /* #SS error code for limit violations */
    unsigned width;  /* 2 or 4 */
    unsigned n;
    uint32_t lin[FRAME_SLOTS];
    uint32_t val[FRAME_SLOTS];
};

static void frame_init(struct frame *f, const struct seg *ss, bool big, uint32_t sp,
                       unsigned width, bool sys, uint32_t err)
{
    f->ss = ss;
    f->big = big;
    f->sys = sys;
    f->sp = big ? sp : sp & 0xffffu;
    f->err = err;
    f->width = width;
    f->n = 0;
}

static void frame_push(struct cpu *cpu, struct frame *f, uint32_t val)
{
    uint32_t mask = f->big ? 0xffffffffu : 0xffffu;
    uint32_t sp = (f->sp - f->width) & mask;
    if (f->n >= FRAME_SLOTS || !seg_range_ok(f->ss, sp, f->width))
        cpu_raise(cpu, EXC_SS, f->err);
    f->lin[f->n] = f->ss->base + sp;
    f->val[f->n] = val;
    f->n++;
    f->sp = sp;
}

static void frame_write(struct cpu *cpu, const struct frame *f)
{
    for (unsigned i = 0; i < f->n; i++)
        cpu_lin_write(cpu, f->lin[i], f->val[i], f->width, f->sys);
}

/* ------------------------------------------------------------------ */
/* Segment register loads                                              */
/* ------------------------------------------------------------------ */

/* Real mode CS load: selector and base only, the cached limit and rights
 * stay (Vol. 3A 20.1.1). Virtual-8086 mode: a 64 KiB ring-3 segment
 * (Vol. 3A 20.2.1). */
static void load_cs_real(struct cpu *cpu, uint16_t sel)
{
    struct seg *cs = &cpu->seg[SEG_CS];
    cs->sel = sel;
    cs->base = (uint32_t)sel << 4;
    if (cpu->eflags & FL_VM) {
        cs->limit = 0xffff;
        cs->ar = AR_P | AR_S | (3u << AR_DPL_SHIFT) | AR_T_CODE | AR_T_READABLE |
                 AR_T_ACCESSED;
    }
}

/* A segment register as virtual-8086 mode has it (Vol. 3A 20.2.1). */
static void set_v86_seg(struct seg *s, uint16_t sel, bool code)
{
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
    s->limit = 0xffff;
    s->ar = AR_P | AR_S | (3u << AR_DPL_SHIFT) | AR_T_ACCESSED |
            (code ? AR_T_CODE | AR_T_READABLE : AR_T_WRITABLE);
}

/* Loads CS from a checked descriptor with RPL = the new CPL. */
static void commit_cs(struct cpu *cpu, uint16_t sel, struct desc d, unsigned cpl, uint32_t eip)
{
    seg_from_desc(&cpu->seg[SEG_CS], (uint16_t)((sel & ~3u) | cpl), d);
    cpu->next_eip = eip;
}

/*
 * After a return to an outer level (RET far, IRET), data segment
 * registers the new CPL may not use are made null (RET / IRET
 * pseudocode): data or non-conforming code segments with DPL < CPL.
 */
static void null_inaccessible_segs(struct cpu *cpu, unsigned cpl)
{
    static const int data_segs[] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
    for (unsigned i = 0; i < sizeof data_segs / sizeof data_segs[0]; i++) {
        struct seg *s = &cpu->seg[data_segs[i]];
        bool conforming_code = ar_is_code(s->ar) && (s->ar & AR_T_CONFORM);
        if (!conforming_code && AR_DPL(s->ar) < cpl) {
            s->sel = 0;
            s->ar = 0; /* not present: any access is #GP(0) */
        }
    }
}

/* ------------------------------------------------------------------ */
/* Checks shared by JMP and CALL                                       */
/* ------------------------------------------------------------------ */

/* Direct JMP/CALL to a code segment (JMP/CALL pseudocode,
 * CONFORMING-CODE-SEGMENT and NONCONFORMING-CODE-SEGMENT). */
static void check_direct_code(struct cpu *cpu, uint16_t sel, uint32_t ar)
{
    if (ar & AR_T_CONFORM) {
        if (AR_DPL(ar) > cpu->cpl)
            raise_sel(cpu, EXC_GP, sel);
    } else if ((sel & 3u) > cpu->cpl || AR_DPL(ar) != cpu->cpl) {
        raise_sel(cpu, EXC_GP, sel);
    }
    if (!(ar & AR_P))
        raise_sel(cpu, EXC_NP, sel);
}

/* JMP/CALL to a TSS descriptor or through a task gate: privilege and
 * availability checks, then the switch (JMP/CALL TASK-GATE and
 * TASK-STATE-SEGMENT pseudocode). */
static void far_to_task(struct cpu *cpu, uint16_t sel, struct desc d, enum task_switch_reason why)
{
    uint32_t ar = desc_ar(d);
    unsigned dpl = AR_DPL(ar);
    if (dpl < cpu->cpl || dpl < (sel & 3u))
        raise_sel(cpu, EXC_GP, sel);
    if (AR_TYPE(ar) == SYS_TASK_GATE) {
        if (!(ar & AR_P))
            raise_sel(cpu, EXC_NP, sel);
        uint16_t tss_sel = (uint16_t)(d.lo >> 16);
        if (tss_sel & 4) /* a TSS descriptor lives in the GDT only */
            raise_sel(cpu, EXC_GP, tss_sel);
        d = desc_fetch(cpu, tss_sel, EXC_GP);
        ar = desc_ar(d);
        sel = tss_sel;
    }
    unsigned type = AR_TYPE(ar);
    if ((ar & AR_S) || (type != SYS_TSS16_AVAIL && type != SYS_TSS32_AVAIL))
        raise_sel(cpu, EXC_GP, sel);
    if (!(ar & AR_P))
        raise_sel(cpu, EXC_NP, sel);
    cpu_task_switch(cpu, sel, d, why, false, 0, cpu->next_eip);
}

/* The code segment a call gate names, checked as far as JMP and CALL
 * agree (CALL-GATE pseudocode); returns its descriptor. */
static struct desc gate_target(struct cpu *cpu, struct desc gate, uint16_t *code_sel,
                               uint32_t *off)
{
    *code_sel = (uint16_t)(gate.lo >> 16);
    *off = gate.lo & 0xffffu;
    if (AR_TYPE(desc_ar(gate)) == SYS_CALL_GATE32)
        *off |= gate.hi & 0xffff0000u;
    if (sel_is_null(*code_sel))
        cpu_raise(cpu, EXC_GP, 0);
    struct desc d = desc_fetch(cpu, *code_sel, EXC_GP);
    uint32_t ar = desc_ar(d);
    if (!ar_is_code(ar) || AR_DPL(ar) > cpu->cpl)
        raise_sel(cpu, EXC_GP, *code_sel);
    return d;
}

/* Gate privilege and presence (Vol. 3A 5.8.4, Figure 5-11). */
static void check_gate(struct cpu *cpu, uint16_t sel, uint32_t ar)
{
    if (AR_DPL(ar) < cpu->cpl || AR_DPL(ar) < (sel & 3u))
        raise_sel(cpu, EXC_GP, sel);
    if (!(ar & AR_P))
        raise_sel(cpu, EXC_NP, sel);
}

/* What the selector of a protected-mode far JMP or CALL names. */
enum far_kind { FAR_CODE, FAR_CALL_GATE, FAR_TASK };

/*
 * The protected-mode checks JMP and CALL make alike before their paths
 * part (SDM Vol. 2 JMP and CALL pseudocode, in that order): a null
 * selector is #GP(0); the descriptor fetch faults as desc_fetch says; a
 * data segment is #GP(selector); a code segment gets the direct
 * transfer's privilege and presence checks, a call gate the gate's; any
 * other system type is #GP(selector). Task gates and TSS descriptors are
 * checked by far_to_task. Returns the kind with the descriptor in *d.
 */
static enum far_kind check_far_target(struct cpu *cpu, uint16_t sel, struct desc *d)
{
    if (sel_is_null(sel))
        cpu_raise(cpu, EXC_GP, 0);
    *d = desc_fetch(cpu, sel, EXC_GP);
    uint32_t ar = desc_ar(*d);

    if (ar & AR_S) {
        if (!(ar & AR_T_CODE))
            raise_sel(cpu, EXC_GP, sel);
        check_direct_code(cpu, sel, ar);
        return FAR_CODE;
    }
    switch (AR_TYPE(ar)) {
    case SYS_CALL_GATE16:
    case SYS_CALL_GATE32:
        check_gate(cpu, sel, ar);
        return FAR_CALL_GATE;
    case SYS_TASK_GATE:
    case SYS_TSS16_AVAIL:
    case SYS_TSS32_AVAIL:
    case SYS_TSS16_BUSY:
    case SYS_TSS32_BUSY:
        return FAR_TASK;
    default:
        raise_sel(cpu, EXC_GP, sel);
    }
}

/* The end of a real or virtual-8086 mode far JMP or CALL, after every
 * check (the offset against the CS limit included) passed: CS:EIP =
 * sel:off. */
static void enter_real_cs(struct cpu *cpu, uint16_t sel, uint32_t off)
{
    load_cs_real(cpu, sel);
    cpu->next_eip = off;
    cpu_mode_changed(cpu);
}

/* ------------------------------------------------------------------ */
/* JMP far                                                             */
/* ------------------------------------------------------------------ */

/* JMP's last steps to a checked code segment: the offset within its
 * limit (#GP(0)), then CS:EIP at the current CPL (JMP pseudocode). */
static void jmp_same_level(struct cpu *cpu, uint16_t code_sel, struct desc cd, uint32_t target)
{
    if (target > desc_limit(cd))
        cpu_raise(cpu, EXC_GP, 0);
    desc_set_accessed(cpu, code_sel, &cd);
    commit_cs(cpu, code_sel, cd, cpu->cpl, target);
    cpu_mode_changed(cpu);
}

void cpu_far_jmp(struct cpu *cpu, uint16_t sel, uint32_t off)
{
    if (!prot_mode(cpu)) {
        /* Real / v86: the target must lie in the code segment limit. */
        if (off > cpu->seg[SEG_CS].limit)
            cpu_raise(cpu, EXC_GP, 0);
        enter_real_cs(cpu, sel, off);
        return;
    }
    struct desc d;
    switch (check_far_target(cpu, sel, &d)) {
    case FAR_CODE:
        jmp_same_level(cpu, sel, d, off);
        return;
    case FAR_CALL_GATE: {
        uint16_t code_sel;
        uint32_t target;
        struct desc cd = gate_target(cpu, d, &code_sel, &target);
        uint32_t car = desc_ar(cd);
        /* JMP through a call gate never changes privilege: a
         * non-conforming target must be at CPL exactly. */
        if (!(car & AR_T_CONFORM) && AR_DPL(car) != cpu->cpl)
            raise_sel(cpu, EXC_GP, code_sel);
        if (!(car & AR_P))
            raise_sel(cpu, EXC_NP, code_sel);
        jmp_same_level(cpu, code_sel, cd, target);
        return;
    }
    case FAR_TASK:
        far_to_task(cpu, sel, d, TS_JMP);
        return;
    }
}

/* ------------------------------------------------------------------ */
/* CALL far                                                            */
/* ------------------------------------------------------------------ */

/* Reads the stack for privilege level `dpl` from the current TSS
 * (Vol. 3A 7.2.1 / 7.6; CALL pseudocode MORE-PRIVILEGE). */
static void tss_stack(struct cpu *cpu, unsigned dpl, uint16_t *ss, uint32_t *sp)
{
    const struct seg *tr = &cpu->tr;
    if (AR_TYPE(tr->ar) & 8) {
        uint32_t at = (dpl << 3) + 4;
        if (at + 5 > tr->limit)
            raise_sel(cpu, EXC_TS, tr->sel);
        *sp = cpu_lin_read(cpu, tr->base + at, 4, true);
        *ss = (uint16_t)cpu_lin_read(cpu, tr->base + at + 4, 2, true);
    } else {
        uint32_t at = (dpl << 2) + 2;
        if (at + 3 > tr->limit)
            raise_sel(cpu, EXC_TS, tr->sel);
        *sp = cpu_lin_read(cpu, tr->base + at, 2, true);
        *ss = (uint16_t)cpu_lin_read(cpu, tr->base + at + 2, 2, true);
    }
}

/* CALL through a call gate to a more privileged non-conforming segment:
 * switch to the inner stack from the TSS and copy the parameters
 * (Vol. 3A 5.8.5, Figure 5-13). */
static void call_gate_inner(struct cpu *cpu, struct desc gate, uint16_t code_sel,
                            struct desc cd, uint32_t target)
{
    bool gate32 = AR_TYPE(desc_ar(gate)) == SYS_CALL_GATE32;
    unsigned w = gate32 ? 4 : 2;
    unsigned nparams = gate.hi & 0x1f;
    unsigned new_cpl = AR_DPL(desc_ar(cd));

    uint16_t new_ss;
    uint32_t new_sp;
    tss_stack(cpu, new_cpl, &new_ss, &new_sp);
    if (sel_is_null(new_ss))
        cpu_raise(cpu, EXC_TS, 0);
    struct desc sd = desc_fetch(cpu, new_ss, EXC_TS);
    uint32_t sar = desc_ar(sd);
    if ((new_ss & 3u) != new_cpl || AR_DPL(sar) != new_cpl || !ar_is_writable_data(sar))
        raise_sel(cpu, EXC_TS, new_ss);
    if (!(sar & AR_P))
        raise_sel(cpu, EXC_SS, new_ss);

    struct seg nss;
    seg_from_desc(&nss, new_ss, sd);
    bool big = (sar & AR_DB) != 0;

    /* Parameters from the caller's stack, deepest first. */
    uint32_t params[32];
    for (unsigned i = 0; i < nparams; i++)
        params[i] = stack_at(cpu, (nparams - 1 - i) * w, w);

    struct frame f;
    frame_init(&f, &nss, big, new_sp, w, true, sel_err(new_ss));
    frame_push(cpu, &f, cpu->seg[SEG_SS].sel);
    frame_push(cpu, &f, cpu->regs[R_ESP]);
    for (unsigned i = 0; i < nparams; i++)
        frame_push(cpu, &f, params[i]);
    frame_push(cpu, &f, cpu->seg[SEG_CS].sel);
    frame_push(cpu, &f, cpu->next_eip);

    if (target > desc_limit(cd))
        cpu_raise(cpu, EXC_GP, 0);

    desc_set_accessed(cpu, new_ss, &sd);
    desc_set_accessed(cpu, code_sel, &cd);
    frame_write(cpu, &f);

    seg_from_desc(&cpu->seg[SEG_SS], new_ss, sd);
    /* ESP comes from the TSS; a 16-bit stack then moved only SP. */
    cpu->regs[R_ESP] = big ? f.sp : (new_sp & 0xffff0000u) | (f.sp & 0xffffu);
    commit_cs(cpu, code_sel, cd, new_cpl, target);
    cpu_mode_changed(cpu);
}

/* Plans the return address a CALL without a stack switch pushes: CS,
 * then EIP, on the current stack (#SS(0) past its limit). */
static void plan_return_address(struct cpu *cpu, struct frame *f, unsigned w)
{
    frame_init(f, &cpu->seg[SEG_SS], cpu->stack32, cpu->regs[R_ESP], w, false, 0);
    frame_push(cpu, f, cpu->seg[SEG_CS].sel);
    frame_push(cpu, f, cpu->next_eip);
}

/* Pushes CS:EIP on the current stack and enters code_sel:target at the
 * current privilege level (CALL pseudocode, same privilege). */
static void call_same_level(struct cpu *cpu, uint16_t code_sel, struct desc cd,
                            uint32_t target, unsigned w)
{
    struct frame f;
    plan_return_address(cpu, &f, w);
    if (target > desc_limit(cd))
        cpu_raise(cpu, EXC_GP, 0);
    desc_set_accessed(cpu, code_sel, &cd);
    frame_write(cpu, &f);
    set_stack_pointer(cpu, f.sp, cpu->stack32);
    commit_cs(cpu, code_sel, cd, cpu->cpl, target);
    cpu_mode_changed(cpu);
}

void cpu_far_call(struct cpu *cpu, uint16_t sel, uint32_t off, unsigned opsize)
{
    unsigned w = opsize == 4 ? 4 : 2;
    if (!prot_mode(cpu)) {
        /* The pushes' #SS comes before the limit's #GP (CALL pseudocode). */
        struct frame f;
        plan_return_address(cpu, &f, w);
        if (off > cpu->seg[SEG_CS].limit)
            cpu_raise(cpu, EXC_GP, 0);
        frame_write(cpu, &f);
        set_stack_pointer(cpu, f.sp, cpu->stack32);
        enter_real_cs(cpu, sel, off);
        return;
    }
    struct desc d;
    switch (check_far_target(cpu, sel, &d)) {
    case FAR_CODE:
        call_same_level(cpu, sel, d, off, w);
        return;
    case FAR_CALL_GATE: {
        uint16_t code_sel;
        uint32_t target;
        struct desc cd = gate_target(cpu, d, &code_sel, &target);
        uint32_t car = desc_ar(cd);
        if (!(car & AR_P))
            raise_sel(cpu, EXC_NP, code_sel);
        if (!(car & AR_T_CONFORM) && AR_DPL(car) < cpu->cpl)
            call_gate_inner(cpu, d, code_sel, cd, target);
        else /* the gate's size, not the instruction's, sizes the frame */
            call_same_level(cpu, code_sel, cd, target,
                            AR_TYPE(desc_ar(d)) == SYS_CALL_GATE32 ? 4 : 2);
        return;
    }
    case FAR_TASK:
        far_to_task(cpu, sel, d, TS_CALL);
        return;
    }
}

/* ------------------------------------------------------------------ */
/* Returns: checks shared by RET far and IRET                          */
/* ------------------------------------------------------------------ */

/* The code segment a far return goes to (RET / IRET pseudocode,
 * protected mode). */
static struct desc check_return_cs(struct cpu *cpu, uint16_t cs_sel)
{
    if (sel_is_null(cs_sel))
        cpu_raise(cpu, EXC_GP, 0);
    struct desc d = desc_fetch(cpu, cs_sel, EXC_GP);
    uint32_t ar = desc_ar(d);
    unsigned rpl = cs_sel & 3u;
    if (!ar_is_code(ar) || rpl < cpu->cpl)
        raise_sel(cpu, EXC_GP, cs_sel);
    if ((ar & AR_T_CONFORM) ? AR_DPL(ar) > rpl : AR_DPL(ar) != rpl)
        raise_sel(cpu, EXC_GP, cs_sel);
    if (!(ar & AR_P))
        raise_sel(cpu, EXC_NP, cs_sel);
    return d;
}

/* The stack segment of a return to an outer level. */
static struct desc check_return_ss(struct cpu *cpu, uint16_t ss_sel, unsigned rpl)
{
    if (sel_is_null(ss_sel))
        cpu_raise(cpu, EXC_GP, 0);
    struct desc d = desc_fetch(cpu, ss_sel, EXC_GP);
    uint32_t ar = desc_ar(d);
    if ((ss_sel & 3u) != rpl || !ar_is_writable_data(ar) || AR_DPL(ar) != rpl)
        raise_sel(cpu, EXC_GP, ss_sel);
    if (!(ar & AR_P))
        raise_sel(cpu, EXC_SS, ss_sel);
    return d;
}

/* ------------------------------------------------------------------ */
/* RET far                                                             */
/* ------------------------------------------------------------------ */

void cpu_far_ret(struct cpu *cpu, unsigned opsize, uint16_t pop_bytes)
{
    unsigned w = opsize == 4 ? 4 : 2;
    uint32_t eip = stack_at(cpu, 0, w);
    uint16_t cs_sel = (uint16_t)stack_at(cpu, w, w);
    uint32_t sp_mask = cpu->stack32 ? 0xffffffffu : 0xffffu;
    uint32_t frame_end = 2 * w + pop_bytes;

    if (!prot_mode(cpu)) {
        if (eip > cpu->seg[SEG_CS].limit)
            cpu_raise(cpu, EXC_GP, 0);
        load_cs_real(cpu, cs_sel);
        cpu->next_eip = eip;
        set_stack_pointer(cpu, (cpu->regs[R_ESP] + frame_end) & sp_mask, cpu->stack32);
        cpu_mode_changed(cpu);
        return;
    }

    struct desc cd = check_return_cs(cpu, cs_sel);
    unsigned rpl = cs_sel & 3u;

    if (rpl == cpu->cpl) {
        if (eip > desc_limit(cd))
            cpu_raise(cpu, EXC_GP, 0);
        desc_set_accessed(cpu, cs_sel, &cd);
        commit_cs(cpu, cs_sel, cd, rpl, eip);
        set_stack_pointer(cpu, (cpu->regs[R_ESP] + frame_end) & sp_mask, cpu->stack32);
        cpu_mode_changed(cpu);
        return;
    }

    /* RETURN-TO-OUTER-PRIVILEGE-LEVEL: the caller's SS:ESP sits above
     * the released parameters. */
    uint32_t new_sp = stack_at(cpu, frame_end, w);
    uint16_t ss_sel = (uint16_t)stack_at(cpu, frame_end + w, w);
    struct desc sd = check_return_ss(cpu, ss_sel, rpl);
    if (eip > desc_limit(cd))
        cpu_raise(cpu, EXC_GP, 0);
    desc_set_accessed(cpu, cs_sel, &cd);
    desc_set_accessed(cpu, ss_sel, &sd);

    commit_cs(cpu, cs_sel, cd, rpl, eip);
    seg_from_desc(&cpu->seg[SEG_SS], ss_sel, sd);
    bool big = (desc_ar(sd) & AR_DB) != 0;
    /* A 16-bit RET loads SP only; then RET n releases the caller's
     * parameters on the outer stack too. */
    uint32_t sp = w == 4 ? new_sp : (cpu->regs[R_ESP] & 0xffff0000u) | (new_sp & 0xffffu);
    sp = big ? sp + pop_bytes : (sp & 0xffff0000u) | ((sp + pop_bytes) & 0xffffu);
    cpu->regs[R_ESP] = sp;
    null_inaccessible_segs(cpu, rpl);
    cpu_mode_changed(cpu);
}

/* ------------------------------------------------------------------ */
/* IRET                                                                */
/* ------------------------------------------------------------------ */

/* IRET in virtual-8086 mode (IRET pseudocode, VM = 1). */
static void iret_v86(struct cpu *cpu, unsigned w)
{
    unsigned iopl = (cpu->eflags & FL_IOPL) >> FL_IOPL_SHIFT;
    uint32_t eip = stack_at(cpu, 0, w);
    uint16_t cs_sel = (uint16_t)stack_at(cpu, w, w);
    uint32_t fl = stack_at(cpu, 2 * w, w);
    uint32_t mask;

    if (iopl == 3) {
        /* VM, IOPL, VIP and VIF are not changed by the pop. */
        mask = w == 4 ? 0x257fd5u & ~FL_IOPL : 0x7fd5u & ~FL_IOPL;
    } else if (w == 2 && (cpu->cr4 & CR4_VME)) {
        /* Virtual-mode extensions (Vol. 3A 20.3): the popped IF goes to
         * VIF; TF set, or an interrupt pending with IF about to be set,
         * fault to the monitor. */
        if ((fl & FL_TF) || ((cpu->eflags & FL_VIP) && (fl & FL_IF)))
            cpu_raise(cpu, EXC_GP, 0);
        if (eip > cpu->seg[SEG_CS].limit)
            cpu_raise(cpu, EXC_GP, 0);
        uint32_t vif = (fl & FL_IF) ? FL_VIF : 0;
        flags_write(cpu, (fl & 0xffffu) | vif, (0x7fd5u & ~(FL_IOPL | FL_IF)) | FL_VIF);
        load_cs_real(cpu, cs_sel);
        cpu->next_eip = eip & 0xffffu;
        set_stack_pointer(cpu, (cpu->regs[R_ESP] + 3 * w) & 0xffffu, false);
        cpu_mode_changed(cpu);
        return;
    } else {
        cpu_raise(cpu, EXC_GP, 0);
    }
    if (eip > cpu->seg[SEG_CS].limit)
        cpu_raise(cpu, EXC_GP, 0);
    flags_write(cpu, fl, mask);
    load_cs_real(cpu, cs_sel);
    cpu->next_eip = eip;
    uint32_t sp_mask = cpu->stack32 ? 0xffffffffu : 0xffffu;
    set_stack_pointer(cpu, (cpu->regs[R_ESP] + 3 * w) & sp_mask, cpu->stack32);
    cpu_mode_changed(cpu);
}

/* TASK-RETURN: IRET with NT = 1 goes back to the task named by the back
 * link of the current TSS (Vol. 3A 7.3, 7.4). */
static void iret_task_return(struct cpu *cpu)
{
    const struct seg *tr = &cpu->tr;
    if (tr->limit < 1)
        raise_sel(cpu, EXC_TS, tr->sel);
    uint16_t link = (uint16_t)cpu_lin_read(cpu, tr->base, 2, true);
    if (link & 4)
        raise_sel(cpu, EXC_TS, link);
    struct desc d = desc_fetch(cpu, link, EXC_TS);
    uint32_t ar = desc_ar(d);
    unsigned type = AR_TYPE(ar);
    if ((ar & AR_S) || (type != SYS_TSS16_BUSY && type != SYS_TSS32_BUSY))
        raise_sel(cpu, EXC_TS, link);
    if (!(ar & AR_P))
        raise_sel(cpu, EXC_NP, link);
    cpu_task_switch(cpu, link, d, TS_IRET, false, 0, cpu->next_eip);
}

/* Protected mode IRET with VM = 1 popped at CPL 0: the 32-bit frame also
 * holds ESP, SS, ES, DS, FS, GS (RETURN-TO-VIRTUAL-8086-MODE). */
static void iret_to_v86(struct cpu *cpu, uint32_t eip, uint16_t cs_sel, uint32_t fl)
{
    uint32_t v[6];
    for (unsigned i = 0; i < 6; i++)
        v[i] = stack_at(cpu, 12 + 4 * i, 4);
    /* The v86 code segment is 64 KiB: a target beyond it faults here
     * rather than at the first fetch. */
    if (eip > 0xffff)
        cpu_raise(cpu, EXC_GP, 0);
    flags_write(cpu, fl, 0xffffffffu);
    set_v86_seg(&cpu->seg[SEG_CS], cs_sel, true);
    set_v86_seg(&cpu->seg[SEG_SS], (uint16_t)v[1], false);
    set_v86_seg(&cpu->seg[SEG_ES], (uint16_t)v[2], false);
    set_v86_seg(&cpu->seg[SEG_DS], (uint16_t)v[3], false);
    set_v86_seg(&cpu->seg[SEG_FS], (uint16_t)v[4], false);
    set_v86_seg(&cpu->seg[SEG_GS], (uint16_t)v[5], false);
    cpu->regs[R_ESP] = v[0];
    cpu->next_eip = eip;
    cpu_mode_changed(cpu);
}

/* Which EFLAGS bits a protected-mode IRET may change (IRET pseudocode
 * RETURN-TO-SAME/OUTER-PRIVILEGE-LEVEL): IF only if CPL <= IOPL, IOPL
 * only at CPL 0, VIF/VIP only at CPL 0 with a 32-bit frame. VM is never
 * set here: that case went to iret_to_v86. */
static uint32_t iret_flag_mask(const struct cpu *cpu, unsigned w)
{
    unsigned iopl = (cpu->eflags & FL_IOPL) >> FL_IOPL_SHIFT;
    uint32_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT;
    if (w == 4)
        mask |= FL_RF | FL_AC | FL_ID;
    if (cpu->cpl <= iopl)
        mask |= FL_IF;
    if (cpu->cpl == 0) {
        mask |= FL_IOPL;
        if (w == 4)
            mask |= FL_VIF | FL_VIP;
    }
    return w == 4 ? mask : mask & 0xffffu;
}

void cpu_iret(struct cpu *cpu, unsigned opsize)
{
    unsigned w = opsize == 4 ? 4 : 2;
    /* Executing IRET ends NMI blocking (Vol. 3A 6.7.1). */
    cpu->nmi_blocked = 0;

    if (!(cpu->cr0 & CR0_PE)) {
        /* Real mode: IP, CS, FLAGS; a 32-bit IRET keeps VM, VIF, VIP. */
        uint32_t eip = stack_at(cpu, 0, w);
        uint16_t cs_sel = (uint16_t)stack_at(cpu, w, w);
        uint32_t fl = stack_at(cpu, 2 * w, w);
        if (eip > cpu->seg[SEG_CS].limit)
            cpu_raise(cpu, EXC_GP, 0);
        flags_write(cpu, fl, w == 4 ? 0x257fd5u : 0xffffu);
        load_cs_real(cpu, cs_sel);
        cpu->next_eip = eip;
        uint32_t sp_mask = cpu->stack32 ? 0xffffffffu : 0xffffu;
        set_stack_pointer(cpu, (cpu->regs[R_ESP] + 3 * w) & sp_mask, cpu->stack32);
        cpu_mode_changed(cpu);
        return;
    }
    if (cpu->eflags & FL_VM) {
        iret_v86(cpu, w);
        return;
    }
    if (cpu->eflags & FL_NT) {
        iret_task_return(cpu);
        return;
    }

    uint32_t eip = stack_at(cpu, 0, w);
    uint16_t cs_sel = (uint16_t)stack_at(cpu, w, w);
    uint32_t fl = stack_at(cpu, 2 * w, w);
    uint32_t sp_mask = cpu->stack32 ? 0xffffffffu : 0xffffu;

    if (w == 4 && (fl & FL_VM) && cpu->cpl == 0) {
        iret_to_v86(cpu, eip, cs_sel, fl);
        return;
    }

    struct desc cd = check_return_cs(cpu, cs_sel);
    unsigned rpl = cs_sel & 3u;
    uint32_t mask = iret_flag_mask(cpu, w);

    if (rpl == cpu->cpl) {
        if (eip > desc_limit(cd))
            cpu_raise(cpu, EXC_GP, 0);
        desc_set_accessed(cpu, cs_sel, &cd);
        commit_cs(cpu, cs_sel, cd, rpl, eip);
        flags_write(cpu, fl, mask);
        set_stack_pointer(cpu, (cpu->regs[R_ESP] + 3 * w) & sp_mask, cpu->stack32);
        cpu_mode_changed(cpu);
        return;
    }

    /* RETURN-TO-OUTER-PRIVILEGE-LEVEL. */
    uint32_t new_sp = stack_at(cpu, 3 * w, w);
    uint16_t ss_sel = (uint16_t)stack_at(cpu, 4 * w, w);
    struct desc sd = check_return_ss(cpu, ss_sel, rpl);
    if (eip > desc_limit(cd))
        cpu_raise(cpu, EXC_GP, 0);
    desc_set_accessed(cpu, cs_sel, &cd);
    desc_set_accessed(cpu, ss_sel, &sd);

    flags_write(cpu, fl, mask);
    commit_cs(cpu, cs_sel, cd, rpl, eip);
    seg_from_desc(&cpu->seg[SEG_SS], ss_sel, sd);
    cpu->regs[R_ESP] = w == 4 ? new_sp : (cpu->regs[R_ESP] & 0xffff0000u) | (new_sp & 0xffffu);
    null_inaccessible_segs(cpu, rpl);
    cpu_mode_changed(cpu);
}

/* ------------------------------------------------------------------ */
/* Handlers                                                            */
/* ------------------------------------------------------------------ */

/* The far pointer of JMP/CALL: ptr16:16/32 in the instruction (imm =
 * offset, imm2 = selector) or m16:16/32 in memory (offset first). */
static void far_pointer(struct cpu *cpu, const struct insn *in, uint16_t *sel, uint32_t *off)
{
    if (in->dst.kind == OPND_MEM) {
        uint32_t ea = insn_ea(cpu, in);
        *off = cpu_read(cpu, in->seg, ea, in->opsize);
        *sel = (uint16_t)cpu_read(cpu, in->seg, ea + in->opsize, 2);
    } else {
        *off = in->imm;
        *sel = (uint16_t)in->imm2;
    }
    if (in->opsize == 2)
        *off &= 0xffffu;
}

static void op_jmpf(struct cpu *cpu, const struct insn *in)
{
    uint16_t sel;
    uint32_t off;
    far_pointer(cpu, in, &sel, &off);
    cpu_far_jmp(cpu, sel, off);
}

static void op_callf(struct cpu *cpu, const struct insn *in)
{
    uint16_t sel;
    uint32_t off;
    far_pointer(cpu, in, &sel, &off);
    cpu_far_call(cpu, sel, off, in->opsize);
}

static void op_retf(struct cpu *cpu, const struct insn *in)
{
    uint16_t pop_bytes = in->dst.kind == OPND_IMM ? (uint16_t)in->imm : 0;
    cpu_far_ret(cpu, in->opsize, pop_bytes);
}

static void op_iret(struct cpu *cpu, const struct insn *in)
{
    cpu_iret(cpu, in->opsize);
}

static void op_int(struct cpu *cpu, const struct insn *in)
{
    cpu_raise_int(cpu, (int)(in->imm & 0xff), INT_SOFT_N);
}

static void op_int3(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    cpu_raise_int(cpu, EXC_BP, INT_SOFT_3O);
}

/* INTO traps to vector 4 only when OF is set. */
static void op_into(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    if (flags_cond(cpu, 0))
        cpu_raise_int(cpu, EXC_OF, INT_SOFT_3O);
}

static void op_int1(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    cpu_raise_int(cpu, EXC_DB, INT_ICEBP);
}

const struct op_handler farctl_handlers[] = {
    {OP_JMPF, op_jmpf}, {OP_CALLF, op_callf}, {OP_RETF, op_retf}, {OP_IRET, op_iret},
    {OP_INT, op_int},   {OP_INT3, op_int3},   {OP_INTO, op_into}, {OP_INT1, op_int1},
    {OP_INVALID, NULL},
};
