/*
 * cpu/task.c — hardware task switching (SDM Vol. 3A chapter 7).
 *
 * cpu_task_switch performs the steps of Vol. 3A 7.3 for JMP, CALL, IRET
 * and interrupts through task gates, with 32-bit (types 9/B) and 16-bit
 * (types 1/3) TSSs. The callers (cpu/farctl.c, cpu/except.c) have done
 * the privilege checks of step 2. Everything up to saving the old task
 * can fault in the old task's context; from loading TR on, errors are
 * raised in the new task's context (7.3 step 12, Table 7-1).
 */
#include "cpu/internal.h"

enum {
    SYS_LDT = 0x2,
    TSS_BUSY_BIT = 0x2, /* in the descriptor type: 1 -> 3, 9 -> B */
    TSS_32BIT = 0x8,
};

/* Minimum TSS limits (Vol. 3A 7.2.2 / 7.6): 104 and 44 bytes. */
#define TSS32_MIN_LIMIT 0x67u
#define TSS16_MIN_LIMIT 0x2bu

/* DR6.BT: the debug trap came from a TSS T flag (Vol. 3A 17.2.3). */
#define DR6_BT (1u << 15)

/* Field offsets of the 32-bit TSS (Vol. 3A Figure 7-2). */
enum {
    TSS32_LINK = 0, TSS32_CR3 = 28, TSS32_EIP = 32, TSS32_EFLAGS = 36, TSS32_REGS = 40,
    TSS32_SEGS = 72, TSS32_LDT = 96, TSS32_TRAP = 100,
};
/* Field offsets of the 16-bit TSS (Vol. 3A Figure 7-11). */
enum {
    TSS16_LINK = 0, TSS16_IP = 14, TSS16_FLAGS = 16, TSS16_REGS = 18, TSS16_SEGS = 34,
    TSS16_LDT = 42,
};

/* The dynamic state a TSS holds. A 16-bit TSS has ES, CS, SS, DS only. */
struct task_state {
    uint32_t cr3, eip, eflags;
    uint32_t regs[8];
    uint16_t sel[SEG_COUNT];
    uint16_t ldt;
    bool trap;
};

_Noreturn static void raise_sel(struct cpu *cpu, int vector, uint16_t sel)
{
    cpu_raise(cpu, vector, sel & 0xfffcu);
}

static inline uint32_t tss_read(struct cpu *cpu, uint32_t base, uint32_t off, unsigned size)
{
    return cpu_lin_read(cpu, base + off, size, true);
}

static inline void tss_write(struct cpu *cpu, uint32_t base, uint32_t off, uint32_t v,
                             unsigned size)
{
    cpu_lin_write(cpu, base + off, v, size, true);
}

/* Reads the new task's state (7.3 step 11 reads it all before loading,
 * so a fault here still belongs to the old task). */
static void read_task_state(struct cpu *cpu, uint32_t base, bool is32, struct task_state *st)
{
    if (is32) {
        st->cr3 = tss_read(cpu, base, TSS32_CR3, 4);
        st->eip = tss_read(cpu, base, TSS32_EIP, 4);
        st->eflags = tss_read(cpu, base, TSS32_EFLAGS, 4);
        for (unsigned r = 0; r < 8; r++)
            st->regs[r] = tss_read(cpu, base, TSS32_REGS + 4 * r, 4);
        for (unsigned s = 0; s < SEG_COUNT; s++)
            st->sel[s] = (uint16_t)tss_read(cpu, base, TSS32_SEGS + 4 * s, 2);
        st->ldt = (uint16_t)tss_read(cpu, base, TSS32_LDT, 2);
        st->trap = tss_read(cpu, base, TSS32_TRAP, 2) & 1;
    } else {
        st->cr3 = 0;
        st->eip = tss_read(cpu, base, TSS16_IP, 2);
        st->eflags = tss_read(cpu, base, TSS16_FLAGS, 2);
        for (unsigned r = 0; r < 8; r++)
            st->regs[r] = tss_read(cpu, base, TSS16_REGS + 2 * r, 2);
        for (unsigned s = 0; s < 4; s++) /* ES, CS, SS, DS */
            st->sel[s] = (uint16_t)tss_read(cpu, base, TSS16_SEGS + 2 * s, 2);
        st->sel[SEG_FS] = 0;
        st->sel[SEG_GS] = 0;
        st->ldt = (uint16_t)tss_read(cpu, base, TSS16_LDT, 2);
        st->trap = false;
    }
}

/* Saves the current task's dynamic state in its TSS (7.3 step 7). */
static void save_task_state(struct cpu *cpu, const struct seg *tr, uint32_t eip,
                            uint32_t eflags)
{
    uint32_t base = tr->base;
    if (AR_TYPE(tr->ar) & TSS_32BIT) {
        tss_write(cpu, base, TSS32_EIP, eip, 4);
        tss_write(cpu, base, TSS32_EFLAGS, eflags, 4);
        for (unsigned r = 0; r < 8; r++)
            tss_write(cpu, base, TSS32_REGS + 4 * r, cpu->regs[r], 4);
        for (unsigned s = 0; s < SEG_COUNT; s++)
            tss_write(cpu, base, TSS32_SEGS + 4 * s, cpu->seg[s].sel, 2);
    } else {
        tss_write(cpu, base, TSS16_IP, eip, 2);
        tss_write(cpu, base, TSS16_FLAGS, eflags, 2);
        for (unsigned r = 0; r < 8; r++)
            tss_write(cpu, base, TSS16_REGS + 2 * r, cpu->regs[r], 2);
        for (unsigned s = 0; s < 4; s++)
            tss_write(cpu, base, TSS16_SEGS + 2 * s, cpu->seg[s].sel, 2);
    }
}

/* Sets or clears the busy bit of the TSS descriptor `sel` in the GDT. */
static void set_tss_busy(struct cpu *cpu, uint16_t sel, bool busy)
{
    uint32_t at = sel & 0xfff8u;
    if (at + 7 > cpu->gdtr.limit)
        raise_sel(cpu, EXC_TS, sel);
    uint32_t lin = cpu->gdtr.base + at + 4;
    uint32_t hi = cpu_lin_read(cpu, lin, 4, true);
    uint32_t bit = (uint32_t)TSS_BUSY_BIT << AR_TYPE_SHIFT;
    uint32_t nhi = busy ? hi | bit : hi & ~bit;
    if (nhi != hi)
        cpu_lin_write(cpu, lin, nhi, 4, true);
}

/* A segment register whose selector is loaded but whose descriptor is
 * not (yet): unusable until its descriptor check passes. */
static void seg_selector_only(struct seg *s, uint16_t sel)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0;
    s->ar = 0;
}

static void set_v86_seg(struct seg *s, uint16_t sel, bool code)
{
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
    s->limit = 0xffff;
    s->ar = AR_P | AR_S | (3u << AR_DPL_SHIFT) | AR_T_ACCESSED |
            (code ? AR_T_CODE | AR_T_READABLE : AR_T_WRITABLE);
}

/* LDTR of the new task (Table 7-1: #TS for a bad LDT selector). */
static void load_task_ldt(struct cpu *cpu, uint16_t sel)
{
    seg_selector_only(&cpu->ldtr, sel);
    if ((sel & 0xfffcu) == 0)
        return;
    if (sel & 4)
        raise_sel(cpu, EXC_TS, sel);
    struct desc d = desc_fetch(cpu, sel, EXC_TS);
    uint32_t ar = desc_ar(d);
    if ((ar & AR_S) || AR_TYPE(ar) != SYS_LDT || !(ar & AR_P))
        raise_sel(cpu, EXC_TS, sel);
    seg_from_desc(&cpu->ldtr, sel, d);
}

/* Segment descriptors of the new task in protected mode, with the
 * checks of Table 7-1. The new CPL is CS.RPL, so CS goes first. */
static void load_task_seg(struct cpu *cpu, int seg, uint16_t sel)
{
    unsigned rpl = sel & 3u;
    if ((sel & 0xfffcu) == 0) {
        if (seg == SEG_CS || seg == SEG_SS)
            raise_sel(cpu, EXC_TS, sel);
        seg_selector_only(&cpu->seg[seg], sel); /* a null data segment is fine */
        return;
    }
    struct desc d = desc_fetch(cpu, sel, EXC_TS);
    uint32_t ar = desc_ar(d);
    bool code = (ar & (AR_S | AR_T_CODE)) == (AR_S | AR_T_CODE);
    bool data = (ar & (AR_S | AR_T_CODE)) == AR_S;
    unsigned dpl = AR_DPL(ar);
    int not_present = EXC_NP;

    if (seg == SEG_CS) {
        if (!code || ((ar & AR_T_CONFORM) ? dpl > rpl : dpl != rpl))
            raise_sel(cpu, EXC_TS, sel);
    } else if (seg == SEG_SS) {
        unsigned cpl = cpu->seg[SEG_CS].sel & 3u;
        if (!data || !(ar & AR_T_WRITABLE) || rpl != cpl || dpl != cpl)
            raise_sel(cpu, EXC_TS, sel);
        not_present = EXC_SS;
    } else {
        unsigned cpl = cpu->seg[SEG_CS].sel & 3u;
        if (!(data || (code && (ar & AR_T_READABLE))))
            raise_sel(cpu, EXC_TS, sel);
        bool conforming = code && (ar & AR_T_CONFORM);
        if (!conforming && (dpl < cpl || dpl < rpl))
            raise_sel(cpu, EXC_TS, sel);
    }
    if (!(ar & AR_P))
        raise_sel(cpu, not_present, sel);
    desc_set_accessed(cpu, sel, &d);
    seg_from_desc(&cpu->seg[seg], sel, d);
}

/* CR3 of the new task: loaded when paging is on (Vol. 3A 7.2.1, PDBR
 * field), which flushes the non-global TLB entries; PAE reloads the
 * PDPTEs as a MOV CR3 would. */
static void load_task_cr3(struct cpu *cpu, uint32_t cr3)
{
    if (!(cpu->cr0 & CR0_PG))
        return;
    cpu->cr3 = cr3;
    if (cpu->cr4 & CR4_PAE) {
        struct paging_mode mode;
        cpu_paging_mode(cpu, &mode);
        if (paging_load_pdptes(cpu->bus.mem, &mode) < 0)
            cpu_raise(cpu, EXC_GP, 0);
        for (unsigned i = 0; i < 4; i++)
            cpu->pdpte[i] = mode.pdpte[i];
    }
    cpu_tlb_flush_all(cpu);
}

void cpu_task_switch(struct cpu *cpu, uint16_t tss_sel, struct desc tss_desc,
                     enum task_switch_reason why, bool has_error, uint32_t error,
                     uint32_t return_eip)
{
    uint32_t ar = desc_ar(tss_desc);
    unsigned type = AR_TYPE(ar);
    bool new32 = (type & TSS_32BIT) != 0;
    bool new_busy = (type & TSS_BUSY_BIT) != 0;
    uint32_t new_base = desc_base(tss_desc);
    uint32_t new_limit = desc_limit(tss_desc);

    /* Step 3: present, and large enough for a TSS of its kind. */
    if (!(ar & AR_P))
        raise_sel(cpu, EXC_NP, tss_sel);
    if (new_limit < (new32 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT))
        raise_sel(cpu, EXC_TS, tss_sel);
    /* IRET returns to a busy (nested) task; the others enter an idle
     * one (7.3 step 4 and the IRET / JMP / CALL pseudocode). */
    if (why == TS_IRET && !new_busy)
        raise_sel(cpu, EXC_TS, tss_sel);
    if (why != TS_IRET && new_busy)
        raise_sel(cpu, EXC_GP, tss_sel);

    /* The old TSS must hold the state we save in it. */
    struct seg old = cpu->tr;
    bool old32 = (AR_TYPE(old.ar) & TSS_32BIT) != 0;
    if (old.limit < (old32 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT))
        raise_sel(cpu, EXC_TS, old.sel);

    struct task_state st;
    read_task_state(cpu, new_base, new32, &st);

    /* Steps 5-7: release the old task, save its state. IRET leaves the
     * old task un-nested: NT clear in its saved EFLAGS. */
    uint32_t old_eflags = cpu_get_eflags(cpu);
    if (why == TS_IRET)
        old_eflags &= ~FL_NT;
    if (why == TS_JMP || why == TS_IRET)
        set_tss_busy(cpu, old.sel, false);
    save_task_state(cpu, &old, return_eip, old_eflags);

    /* Steps 8-9: nest the new task for CALL and interrupts. */
    if (why == TS_CALL || why == TS_INT) {
        tss_write(cpu, new_base, TSS32_LINK, old.sel, 2);
        st.eflags |= FL_NT;
    }
    if (why != TS_IRET)
        set_tss_busy(cpu, tss_sel, true);

    /* Step 10: the switch point. From here on the new task owns any
     * fault (its EIP is the one saved if one happens). */
    tss_desc.hi |= (uint32_t)TSS_BUSY_BIT << AR_TYPE_SHIFT;
    seg_from_desc(&cpu->tr, tss_sel, tss_desc);
    cpu->cr0 |= CR0_TS;

    /* Step 11: registers and selectors. */
    if (new32) {
        flags_write(cpu, st.eflags, 0xffffffffu);
        cpu->eip = st.eip;
        for (unsigned r = 0; r < 8; r++)
            cpu->regs[r] = st.regs[r];
    } else {
        /* A 16-bit TSS holds the low halves only; the upper EFLAGS bits
         * (VM among them) are cleared so a 16-bit task never runs in v86
         * mode ("the upper 16 bits of the EFLAGS register and the EIP
         * register are lost", Vol. 3A 7.6). The upper halves of the
         * general registers are "modified and not maintained" (7.6):
         * Intel processors set them to FFFFh, and guests and test ROMs
         * written on real machines expect that, not the old task's
         * values. FS and GS get null selectors (read_task_state). */
        flags_write(cpu, st.eflags & 0xffffu, 0xffffffffu);
        cpu->eip = st.eip & 0xffffu;
        for (unsigned r = 0; r < 8; r++)
            cpu->regs[r] = 0xffff0000u | (st.regs[r] & 0xffffu);
    }
    cpu->next_eip = cpu->eip;
    for (unsigned s = 0; s < SEG_COUNT; s++)
        seg_selector_only(&cpu->seg[s], st.sel[s]);
    cpu_mode_changed(cpu);
    if (new32)
        load_task_cr3(cpu, st.cr3);

    /* Step 12: descriptors, faulting in the new task's context. */
    load_task_ldt(cpu, st.ldt);
    if (cpu->eflags & FL_VM) {
        set_v86_seg(&cpu->seg[SEG_CS], st.sel[SEG_CS], true);
        for (unsigned s = 0; s < SEG_COUNT; s++)
            if (s != SEG_CS)
                set_v86_seg(&cpu->seg[s], st.sel[s], false);
        cpu_mode_changed(cpu);
    } else {
        load_task_seg(cpu, SEG_CS, st.sel[SEG_CS]);
        cpu_mode_changed(cpu);
        load_task_seg(cpu, SEG_SS, st.sel[SEG_SS]);
        cpu_mode_changed(cpu);
        static const int data_segs[] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
        for (unsigned i = 0; i < 4; i++)
            load_task_seg(cpu, data_segs[i], st.sel[data_segs[i]]);
    }

    /* The new EIP must lie in the new code segment (JMP/CALL/IRET
     * pseudocode after SWITCH-TASKS). */
    if (cpu->eip > cpu->seg[SEG_CS].limit)
        cpu_raise(cpu, EXC_GP, 0);

    /* An exception that switched tasks pushes its error code on the new
     * task's stack (Vol. 3A 6.12.2). */
    if (why == TS_INT && has_error)
        cpu_push(cpu, error, new32 ? 4 : 2);

    /* T flag: a debug trap once the switch completes, before the first
     * instruction of the new task (Vol. 3A 17.3.1.5). */
    if (st.trap)
        cpu->dr6_pending |= DR6_BT; /* cpu_debug_after_insn sets DR6.BT */
}
