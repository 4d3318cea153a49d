/*
 * cpu/seg.c — descriptor tables and segment registers: fetching
 * descriptors, loading data and stack segment registers in every mode
 * (SDM Vol. 3A 3.4-3.5, 5.5-5.6 and the MOV/POP/LDS pseudocode of Vol. 2),
 * and the instructions that load or inspect selectors and descriptors:
 * MOV Sreg, POP Sreg, LDS/LES/LFS/LGS/LSS, LAR, LSL, VERR, VERW, ARPL,
 * SLDT, STR, LLDT, LTR.
 *
 * CS is not loaded here: far transfers (cpu/farctl.c) and interrupt
 * delivery (cpu/except.c) fill it from seg_from_desc.
 */
#include "cpu/internal.h"

/* System descriptor types (S = 0), SDM Vol. 3A Table 3-2. */
enum {
    SYS_TSS16_AVAIL = 0x1,
    SYS_LDT = 0x2,
    SYS_TSS16_BUSY = 0x3,
    SYS_CALLGATE16 = 0x4,
    SYS_TASKGATE = 0x5,
    SYS_TSS32_AVAIL = 0x9,
    SYS_TSS32_BUSY = 0xb,
    SYS_CALLGATE32 = 0xc,
};

#define DESC_ACCESSED (1u << 8)  /* in desc.hi */
#define DESC_TSS_BUSY (1u << 9)  /* in desc.hi, TSS types */

static inline bool protected_mode(const struct cpu *cpu)
{
    return (cpu->cr0 & CR0_PE) && !(cpu->eflags & FL_VM);
}

static inline bool v86_mode(const struct cpu *cpu)
{
    return (cpu->cr0 & CR0_PE) && (cpu->eflags & FL_VM);
}

static inline bool sel_is_null(uint16_t sel)
{
    return (sel & 0xfffc) == 0;
}

/* ------------------------------------------------------------------ */
/* Descriptor tables                                                   */
/* ------------------------------------------------------------------ */

/*
 * Where the descriptor of `sel` lives: its linear address, or false if
 * its index lies beyond the table limit or the LDT is unusable (SDM
 * 3.5.1: TI selects the LDT; the null LDT selector leaves no table).
 */
static bool desc_addr(const struct cpu *cpu, uint16_t sel, uint32_t *lin)
{
    uint32_t index_off = sel & 0xfff8u;
    uint32_t base, limit;
    if (sel & 4) {
        if (sel_is_null(cpu->ldtr.sel) || !(cpu->ldtr.ar & AR_P))
            return false;
        base = cpu->ldtr.base;
        limit = cpu->ldtr.limit;
    } else {
        base = cpu->gdtr.base;
        limit = cpu->gdtr.limit;
    }
    if (index_off + 7 > limit)
        return false;
    *lin = base + index_off;
    return true;
}

static struct desc desc_read_at(struct cpu *cpu, uint32_t lin)
{
    /* Descriptor tables are implicit supervisor accesses (SDM 4.6). */
    struct desc d;
    d.lo = cpu_lin_read(cpu, lin, 4, true);
    d.hi = cpu_lin_read(cpu, lin + 4, 4, true);
    return d;
}

struct desc desc_fetch(struct cpu *cpu, uint16_t sel, int vector)
{
    uint32_t lin;
    if (!desc_addr(cpu, sel, &lin))
        cpu_raise(cpu, vector, sel & 0xfffc);
    return desc_read_at(cpu, lin);
}

/* Fetches without faulting on the table limit (LAR, LSL, VERR, VERW set
 * ZF = 0 instead); returns false if there is no such descriptor. */
static bool desc_try_fetch(struct cpu *cpu, uint16_t sel, struct desc *d)
{
    uint32_t lin;
    if (sel_is_null(sel) || !desc_addr(cpu, sel, &lin))
        return false;
    *d = desc_read_at(cpu, lin);
    return true;
}

void desc_set_accessed(struct cpu *cpu, uint16_t sel, struct desc *d)
{
    /* Only code and data descriptors have an accessed bit (SDM 3.4.5.1). */
    if (!(d->hi & (1u << 12)) || (d->hi & DESC_ACCESSED))
        return;
    uint32_t lin;
    if (!desc_addr(cpu, sel, &lin))
        return;
    d->hi |= DESC_ACCESSED;
    cpu_lin_write(cpu, lin + 4, d->hi, 4, true);
}

void seg_from_desc(struct seg *s, uint16_t sel, struct desc d)
{
    s->sel = sel;
    s->base = desc_base(d);
    s->limit = desc_limit(d);
    s->ar = desc_ar(d);
}

/* ------------------------------------------------------------------ */
/* Loading segment registers                                           */
/* ------------------------------------------------------------------ */

void cpu_mode_changed(struct cpu *cpu)
{
    if (!(cpu->cr0 & CR0_PE))
        cpu->cpl = 0;
    else if (cpu->eflags & FL_VM)
        cpu->cpl = 3;
    else
        /* Every CS load in protected mode sets RPL = CPL (SDM 5.5). */
        cpu->cpl = cpu->seg[SEG_CS].sel & 3;
    cpu->code32 = (cpu->seg[SEG_CS].ar & AR_DB) != 0;
    cpu->stack32 = (cpu->seg[SEG_SS].ar & AR_DB) != 0;
    /* The TLB is indexed by user-ness (cpl == 3): nothing to flush. */
}

/* Real-mode rights given to a cache that holds no usable descriptor: a
 * present, writable, accessed data segment. */
#define AR_REAL_DATA (AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED)
/* v86-mode rights (SDM 20.1.1): present DPL-3 read/write accessed data. */
#define AR_V86_DATA (AR_P | AR_S | (3u << AR_DPL_SHIFT) | AR_T_WRITABLE | AR_T_ACCESSED)

void cpu_load_seg_real(struct cpu *cpu, int seg, uint16_t sel)
{
    struct seg *s = &cpu->seg[seg];
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
    if (v86_mode(cpu)) {
        s->limit = 0xffff;
        s->ar = AR_V86_DATA;
    } else if (!(s->ar & AR_P)) {
        /* Real mode keeps the hidden limit and rights ("unreal mode"),
         * but a cache left unusable by a null load must become usable. */
        s->ar = AR_REAL_DATA | (s->ar & (AR_DB | AR_G));
    }
    if (seg == SEG_SS || seg == SEG_CS)
        cpu_mode_changed(cpu);
}

/* SS in protected mode (SDM MOV/POP pseudocode, "IF SS is loaded"). */
static void load_ss_protected(struct cpu *cpu, uint16_t sel)
{
    if (sel_is_null(sel))
        cpu_raise(cpu, EXC_GP, 0);
    struct desc d = desc_fetch(cpu, sel, EXC_GP);
    uint32_t ar = desc_ar(d);
    if ((sel & 3) != cpu->cpl || AR_DPL(ar) != cpu->cpl || !(ar & AR_S) || (ar & AR_T_CODE) ||
        !(ar & AR_T_WRITABLE))
        cpu_raise(cpu, EXC_GP, sel & 0xfffc);
    if (!(ar & AR_P))
        cpu_raise(cpu, EXC_SS, sel & 0xfffc);
    desc_set_accessed(cpu, sel, &d);
    seg_from_desc(&cpu->seg[SEG_SS], sel, d);
    cpu_mode_changed(cpu);
}

/* DS, ES, FS, GS in protected mode (SDM MOV pseudocode, "IF DS, ES, FS,
 * or GS is loaded with non-null selector"). */
static void load_data_protected(struct cpu *cpu, int seg, uint16_t sel)
{
    if (sel_is_null(sel)) {
        /* A null selector is allowed; the cache becomes unusable (P
         * clear) so cpu/mem.c raises #GP(0) on any use. */
        struct seg *s = &cpu->seg[seg];
        s->sel = sel;
        s->ar = 0;
        return;
    }
    struct desc d = desc_fetch(cpu, sel, EXC_GP);
    uint32_t ar = desc_ar(d);
    bool code = ar & AR_T_CODE;
    if (!(ar & AR_S) || (code && !(ar & AR_T_READABLE)))
        cpu_raise(cpu, EXC_GP, sel & 0xfffc);
    if (!code || !(ar & AR_T_CONFORM)) {
        unsigned dpl = AR_DPL(ar);
        if ((sel & 3u) > dpl || cpu->cpl > dpl)
            cpu_raise(cpu, EXC_GP, sel & 0xfffc);
    }
    if (!(ar & AR_P))
        cpu_raise(cpu, EXC_NP, sel & 0xfffc);
    desc_set_accessed(cpu, sel, &d);
    seg_from_desc(&cpu->seg[seg], sel, d);
}

void cpu_load_seg(struct cpu *cpu, int seg, uint16_t sel)
{
    if (!protected_mode(cpu))
        cpu_load_seg_real(cpu, seg, sel);
    else if (seg == SEG_SS)
        load_ss_protected(cpu, sel);
    else
        load_data_protected(cpu, seg, sel);
}

/* ------------------------------------------------------------------ */
/* MOV Sreg, POP Sreg, Lxs                                             */
/* ------------------------------------------------------------------ */

static void op_mov_to_sreg(struct cpu *cpu, const struct insn *in)
{
    int seg = in->dst.reg;
    if (seg == SEG_CS || seg >= SEG_COUNT)
        cpu_raise(cpu, EXC_UD, 0); /* MOV CS is #UD (SDM MOV) */
    uint16_t sel = (uint16_t)opnd_read(cpu, in, &in->src);
    cpu_load_seg(cpu, seg, sel);
    /* MOV SS blocks interrupts and debug traps until after the next
     * instruction so that MOV SS; MOV ESP switch stacks atomically (SDM
     * 6.8.3). */
    if (seg == SEG_SS) {
        cpu->inhibit_irq = 1;
        cpu_debug_ss_shadow(cpu);
    }
}

static void op_pop_sreg(struct cpu *cpu, const struct insn *in)
{
    int seg = in->dst.reg;
    if (seg == SEG_CS || seg >= SEG_COUNT)
        cpu_raise(cpu, EXC_UD, 0);
    unsigned width = in->dst.width == 4 ? 4 : 2;
    /* The increment uses the stack size in effect before the load. */
    bool big = cpu->stack32;
    uint32_t sp = cpu_sp(cpu);
    /* Read first, load second, move ESP last: a failing load leaves ESP
     * unchanged (SDM POP: only the low 16 bits of a 32-bit pop are used). */
    uint16_t sel = (uint16_t)cpu_read(cpu, SEG_SS, sp, width);
    cpu_load_seg(cpu, seg, sel);
    if (big)
        cpu->regs[R_ESP] = sp + width;
    else
        cpu->regs[R_ESP] = (cpu->regs[R_ESP] & 0xffff0000u) | ((sp + width) & 0xffffu);
    if (seg == SEG_SS) {
        cpu->inhibit_irq = 1;
        cpu_debug_ss_shadow(cpu);
    }
}

/* LDS, LES, LFS, LGS, LSS: a far pointer m16:16 or m16:32 (offset first,
 * selector after it). */
static void load_far_pointer(struct cpu *cpu, const struct insn *in, int seg)
{
    if (in->src.kind != OPND_MEM)
        cpu_raise(cpu, EXC_UD, 0); /* register source (SDM LDS: #UD) */
    unsigned osz = in->opsize == 4 ? 4 : 2;
    uint32_t ea = insn_ea(cpu, in);
    uint32_t off = cpu_read(cpu, in->seg, ea, osz);
    uint32_t sel_ea = ea + osz;
    if (in->adsize == 2)
        sel_ea &= 0xffff;
    uint16_t sel = (uint16_t)cpu_read(cpu, in->seg, sel_ea, 2);
    cpu_load_seg(cpu, seg, sel);
    reg_write(cpu, in->dst.reg, osz, off);
}

static void op_lds(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_DS); }
static void op_les(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_ES); }
static void op_lfs(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_FS); }
static void op_lgs(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_GS); }
static void op_lss(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_SS); }

/* ------------------------------------------------------------------ */
/* LAR, LSL, VERR, VERW, ARPL                                          */
/* ------------------------------------------------------------------ */

/* These instructions exist only in protected mode (SDM: #UD in real-
 * address and virtual-8086 mode). */
static void require_protected(struct cpu *cpu)
{
    if (!protected_mode(cpu))
        cpu_raise(cpu, EXC_UD, 0);
}

static void set_zf(struct cpu *cpu, bool zf)
{
    uint32_t f = flags_arith(cpu);
    flags_set_arith(cpu, zf ? f | FL_ZF : f & ~FL_ZF);
}

/* System types LAR accepts (SDM LAR, "Segment and Gate Types"): TSSs,
 * LDT, call gates, task gate. Interrupt and trap gates are not valid. */
static const bool lar_system_ok[16] = {
    [SYS_TSS16_AVAIL] = true, [SYS_LDT] = true, [SYS_TSS16_BUSY] = true,
    [SYS_CALLGATE16] = true, [SYS_TASKGATE] = true, [SYS_TSS32_AVAIL] = true,
    [SYS_TSS32_BUSY] = true, [SYS_CALLGATE32] = true,
};
/* System types LSL accepts (SDM LSL): TSSs and LDT only. */
static const bool lsl_system_ok[16] = {
    [SYS_TSS16_AVAIL] = true, [SYS_LDT] = true, [SYS_TSS16_BUSY] = true,
    [SYS_TSS32_AVAIL] = true, [SYS_TSS32_BUSY] = true,
};

/*
 * The common visibility test of LAR, LSL, VERR and VERW: the descriptor
 * exists, and unless it is conforming code its DPL >= CPL and >= RPL.
 */
static bool desc_visible(struct cpu *cpu, uint16_t sel, struct desc *d)
{
    if (!desc_try_fetch(cpu, sel, d))
        return false;
    uint32_t ar = desc_ar(*d);
    bool conforming_code = (ar & AR_S) && (ar & AR_T_CODE) && (ar & AR_T_CONFORM);
    if (conforming_code)
        return true;
    unsigned dpl = AR_DPL(ar);
    return dpl >= cpu->cpl && dpl >= (sel & 3u);
}

static void op_lar(struct cpu *cpu, const struct insn *in)
{
    require_protected(cpu);
    uint16_t sel = (uint16_t)opnd_read(cpu, in, &in->src);
    struct desc d;
    bool ok = desc_visible(cpu, sel, &d);
    if (ok && !(d.hi & AR_S))
        ok = lar_system_ok[AR_TYPE(d.hi)];
    if (ok) {
        /* 32-bit: type, S, DPL, P, AVL, D/B, G (bits 8-23 less the limit
         * nibble, which the SDM leaves undefined: Glass reports 0);
         * 16-bit: bits 8-15. */
        uint32_t rights = in->dst.width == 4 ? d.hi & 0x00f0ff00u : d.hi & 0xff00u;
        reg_write(cpu, in->dst.reg, in->dst.width, rights);
    }
    set_zf(cpu, ok);
}

static void op_lsl(struct cpu *cpu, const struct insn *in)
{
    require_protected(cpu);
    uint16_t sel = (uint16_t)opnd_read(cpu, in, &in->src);
    struct desc d;
    bool ok = desc_visible(cpu, sel, &d);
    if (ok && !(d.hi & AR_S))
        ok = lsl_system_ok[AR_TYPE(d.hi)];
    if (ok)
        /* The byte-granular limit (G applied); a 16-bit destination gets
         * its low word (SDM LSL). */
        reg_write(cpu, in->dst.reg, in->dst.width, desc_limit(d));
    set_zf(cpu, ok);
}

/* VERR / VERW (SDM): code or data segments only; readable (VERR) or
 * writable data (VERW); the LAR privilege rule. */
static void verify(struct cpu *cpu, const struct insn *in, bool write)
{
    require_protected(cpu);
    uint16_t sel = (uint16_t)opnd_read(cpu, in, &in->dst);
    struct desc d;
    bool ok = desc_visible(cpu, sel, &d);
    if (ok) {
        uint32_t ar = desc_ar(d);
        if (!(ar & AR_S))
            ok = false;
        else if (ar & AR_T_CODE)
            ok = !write && (ar & AR_T_READABLE);
        else
            ok = !write || (ar & AR_T_WRITABLE);
        /* Conforming code is exempt from the DPL rule only for VERR; for
         * VERW code is never writable anyway. */
    }
    set_zf(cpu, ok);
}

static void op_verr(struct cpu *cpu, const struct insn *in) { verify(cpu, in, false); }
static void op_verw(struct cpu *cpu, const struct insn *in) { verify(cpu, in, true); }

static void op_arpl(struct cpu *cpu, const struct insn *in)
{
    require_protected(cpu);
    uint32_t dst = opnd_read(cpu, in, &in->dst);
    uint32_t src = opnd_read(cpu, in, &in->src);
    if ((dst & 3) < (src & 3)) {
        opnd_write(cpu, in, &in->dst, (dst & ~3u) | (src & 3));
        set_zf(cpu, true);
    } else {
        set_zf(cpu, false);
    }
}

/* ------------------------------------------------------------------ */
/* SLDT, STR, LLDT, LTR                                                */
/* ------------------------------------------------------------------ */

/* SLDT / STR: a register destination of 32 bits gets the selector zero-
 * extended; memory always gets a word (SDM SLDT, STR). */
static void store_system_selector(struct cpu *cpu, const struct insn *in, uint16_t sel)
{
    require_protected(cpu);
    opnd_write(cpu, in, &in->dst, sel);
}

static void op_sldt(struct cpu *cpu, const struct insn *in)
{
    store_system_selector(cpu, in, cpu->ldtr.sel);
}

static void op_str(struct cpu *cpu, const struct insn *in)
{
    store_system_selector(cpu, in, cpu->tr.sel);
}

static void require_cpl0(struct cpu *cpu)
{
    require_protected(cpu);
    if (cpu->cpl != 0)
        cpu_raise(cpu, EXC_GP, 0);
}

static void op_lldt(struct cpu *cpu, const struct insn *in)
{
    require_cpl0(cpu);
    uint16_t sel = (uint16_t)opnd_read(cpu, in, &in->dst);
    if (sel_is_null(sel)) {
        /* A null LDT selector is allowed: references to the LDT then
         * fault (SDM LLDT). */
        cpu->ldtr.sel = sel;
        cpu->ldtr.ar = 0;
        return;
    }
    if (sel & 4)
        cpu_raise(cpu, EXC_GP, sel & 0xfffc); /* must be in the GDT */
    struct desc d = desc_fetch(cpu, sel, EXC_GP);
    if ((d.hi & AR_S) || AR_TYPE(d.hi) != SYS_LDT)
        cpu_raise(cpu, EXC_GP, sel & 0xfffc);
    if (!(d.hi & AR_P))
        cpu_raise(cpu, EXC_NP, sel & 0xfffc);
    seg_from_desc(&cpu->ldtr, sel, d);
}

static void op_ltr(struct cpu *cpu, const struct insn *in)
{
    require_cpl0(cpu);
    uint16_t sel = (uint16_t)opnd_read(cpu, in, &in->dst);
    if (sel_is_null(sel))
        cpu_raise(cpu, EXC_GP, 0);
    if (sel & 4)
        cpu_raise(cpu, EXC_GP, sel & 0xfffc);
    struct desc d = desc_fetch(cpu, sel, EXC_GP);
    unsigned type = AR_TYPE(d.hi);
    if ((d.hi & AR_S) || (type != SYS_TSS16_AVAIL && type != SYS_TSS32_AVAIL))
        cpu_raise(cpu, EXC_GP, sel & 0xfffc);
    if (!(d.hi & AR_P))
        cpu_raise(cpu, EXC_NP, sel & 0xfffc);
    /* LTR marks the TSS busy in its descriptor (SDM LTR). */
    uint32_t lin;
    if (desc_addr(cpu, sel, &lin)) {
        d.hi |= DESC_TSS_BUSY;
        cpu_lin_write(cpu, lin + 4, d.hi, 4, true);
    }
    seg_from_desc(&cpu->tr, sel, d);
}

const struct op_handler seg_handlers[] = {
    {OP_MOV_TO_SREG, op_mov_to_sreg},
    {OP_POP_SREG, op_pop_sreg},
    {OP_LDS, op_lds},
    {OP_LES, op_les},
    {OP_LFS, op_lfs},
    {OP_LGS, op_lgs},
    {OP_LSS, op_lss},
    {OP_LAR, op_lar},
    {OP_LSL, op_lsl},
    {OP_VERR, op_verr},
    {OP_VERW, op_verw},
    {OP_ARPL, op_arpl},
    {OP_SLDT, op_sldt},
    {OP_STR, op_str},
    {OP_LLDT, op_lldt},
    {OP_LTR, op_ltr},
    {OP_INVALID, NULL},
};
