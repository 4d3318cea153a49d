/*
 * cpu/debugger.c — what an attached debugger (the gdbstub, the monitor)
 * may do to a CPU: its own breakpoints and watchpoints, kept apart from
 * the guest's debug registers, and reads and writes of memory and
 * registers that never fault and never leave a trace the guest could
 * see (no accessed or dirty bits set by a debugger's probe).
 *
 * The breakpoint list is checked by cpu_exec (translate/exec.c) before
 * each instruction; watchpoints are checked by cpu/mem.c after each data
 * access that the careful path makes (cpu_dbg_check_access). Nothing is
 * written into guest memory: a guest that reads its own code sees its
 * own bytes, and its own INT3 goes to its own handler.
 */
#include <setjmp.h>

#include "cpu/internal.h"

/* ------------------------------------------------------------------ */
/* Breakpoints and watchpoints                                         */
/* ------------------------------------------------------------------ */

int cpu_dbg_break_insert(struct cpu *cpu, uint32_t lin)
{
    struct cpu_debugger *d = &cpu->dbg;
    if (d->nbrk >= CPU_DBG_BREAK_MAX)
        return -1;
    d->brk[d->nbrk++] = lin;
    d->brk_gen++;
    return 0;
}

int cpu_dbg_break_remove(struct cpu *cpu, uint32_t lin)
{
    struct cpu_debugger *d = &cpu->dbg;
    for (unsigned i = 0; i < d->nbrk; i++) {
        if (d->brk[i] == lin) {
            d->brk[i] = d->brk[--d->nbrk];
            return 0;
        }
    }
    return -1;
}

bool cpu_dbg_break_at(const struct cpu *cpu, uint32_t lin)
{
    for (unsigned i = 0; i < cpu->dbg.nbrk; i++)
        if (cpu->dbg.brk[i] == lin)
            return true;
    return false;
}

bool cpu_dbg_break_in(const struct cpu *cpu, uint32_t lin, uint32_t len)
{
    for (unsigned i = 0; i < cpu->dbg.nbrk; i++)
        if (cpu->dbg.brk[i] - lin < len) /* unsigned: lin <= brk < lin + len */
            return true;
    return false;
}

#define WATCH_LEN_MAX 4096u

/*
 * Watchpoints change: the accesses that may hit one must take the slow
 * path, where cpu_dbg_check_access sees them. The careful path (the
 * interpreter) makes every access so while any is set; the JIT runs its
 * code on, and finds the watched pages by their TLB entries instead
 * (mem.c marks them TLB_SLOW_WATCH, which no fast path takes): so the TLB
 * is emptied of entries made before, and the direct window of paging-off
 * reads, which no entry guards, is closed while any is set.
 */
static void watches_changed(struct cpu *cpu)
{
    cpu->dbg_watching = cpu->dbg.nwatch != 0;
    tlb_flush_all(&cpu->tlb);
    tlb_direct_close(&cpu->tlb, cpu->dbg_watching);
}

bool cpu_dbg_page_watched(const struct cpu *cpu, uint32_t page)
{
    for (unsigned i = 0; i < cpu->dbg.nwatch; i++) {
        const struct cpu_watch *w = &cpu->dbg.watch[i];
        /* [lin, lin + len) meets [page, page + 4096), in 32-bit wrap */
        if (w->lin - page < 4096u || page - w->lin < w->len)
            return true;
    }
    return false;
}

int cpu_dbg_watch_insert(struct cpu *cpu, uint32_t lin, uint32_t len, enum cpu_watch_kind k)
{
    struct cpu_debugger *d = &cpu->dbg;
    if (len == 0 || len > WATCH_LEN_MAX || k < CPU_WATCH_WRITE || k > CPU_WATCH_ACCESS ||
        d->nwatch >= CPU_DBG_WATCH_MAX)
        return -1;
    d->watch[d->nwatch++] = (struct cpu_watch){ lin, len, (uint8_t)k };
    watches_changed(cpu);
    return 0;
}

int cpu_dbg_watch_remove(struct cpu *cpu, uint32_t lin, uint32_t len, enum cpu_watch_kind k)
{
    struct cpu_debugger *d = &cpu->dbg;
    for (unsigned i = 0; i < d->nwatch; i++) {
        const struct cpu_watch *w = &d->watch[i];
        if (w->lin == lin && w->len == len && w->kind == k) {
            d->watch[i] = d->watch[--d->nwatch];
            watches_changed(cpu);
            return 0;
        }
    }
    return -1;
}

void cpu_dbg_clear(struct cpu *cpu)
{
    cpu->dbg.nbrk = 0;
    cpu->dbg.nwatch = 0;
    cpu->dbg.resume_armed = false;
    watches_changed(cpu);
}

void cpu_dbg_resume(struct cpu *cpu)
{
    cpu->dbg.resume_armed = true;
    cpu->dbg.resume_lin = cpu->seg[SEG_CS].base + cpu->eip;
    cpu->dbg.stop.kind = CPU_DBG_NONE;
}

void cpu_dbg_check_access(struct cpu *cpu, uint32_t lin, unsigned size, bool write)
{
    struct cpu_debugger *d = &cpu->dbg;
    if (d->stop.kind != CPU_DBG_NONE)
        return; /* the first hit of the instruction is the one reported */
    unsigned want = write ? CPU_WATCH_WRITE : CPU_WATCH_READ;
    for (unsigned i = 0; i < d->nwatch; i++) {
        const struct cpu_watch *w = &d->watch[i];
        /* 64-bit ends: a range may end at 4 GiB. */
        if (!(w->kind & want) || (uint64_t)lin + size <= w->lin ||
            (uint64_t)w->lin + w->len <= lin)
            continue;
        d->stop = (struct cpu_dbg_stop){ CPU_DBG_WATCH, w->kind, w->lin };
        return;
    }
}

/* ------------------------------------------------------------------ */
/* Memory                                                              */
/* ------------------------------------------------------------------ */

bool cpu_debug_translate(struct cpu *cpu, uint32_t lin, uint64_t *paddr)
{
    struct paging_mode mode;
    struct walk_report r;
    cpu_paging_mode(cpu, &mode);
    paging_probe(cpu->bus.mem, &mode, lin, &r);
    if (!r.present)
        return false;
    *paddr = r.paddr;
    return true;
}

size_t cpu_debug_write(struct cpu *cpu, uint32_t lin, const void *buf, size_t len)
{
    const uint8_t *in = buf;
    size_t done = 0;
    while (done < len) {
        uint32_t a = lin + (uint32_t)done;
        uint64_t paddr;
        if (!cpu_debug_translate(cpu, a, &paddr))
            break;
        size_t n = 4096 - (a & 0xfffu);
        if (n > len - done)
            n = len - done;
        /* phys_write_buf tells the translators (their code-write
         * notifier), so a breakpoint's replacement or a patched
         * instruction is decoded afresh. */
        phys_write_buf(cpu->bus.mem, paddr, in + done, n);
        done += n;
    }
    return done;
}

/* ------------------------------------------------------------------ */
/* Registers                                                           */
/* ------------------------------------------------------------------ */

/* Runs a segment load that may raise (cpu/seg.c's rules) with the fault
 * caught here: the debugger gets -1 and the guest sees no exception. */
int cpu_debug_set_seg(struct cpu *cpu, int seg, uint16_t sel)
{
    if (seg < 0 || seg >= SEG_COUNT)
        return -1;
    bool prot = (cpu->cr0 & CR0_PE) && !(cpu->eflags & FL_VM);
    if (!prot) {
        /* Real mode: base = selector x 16 whatever the old value; a CS
         * load in v86 mode gets the v86 rights as any segment does. */
        cpu_load_seg_real(cpu, seg, sel);
        if (seg == SEG_CS)
            cpu_mode_changed(cpu);
        return 0;
    }
    struct seg saved[SEG_COUNT];
    memcpy(saved, cpu->seg, sizeof(saved));
    uint32_t cr2 = cpu->cr2;
    uint8_t cpl = cpu->cpl;
    jmp_buf here;
    jmp_buf *outer = cpu->fault_jmp;
    cpu->fault_jmp = &here;
    int rc = 0;
    if (setjmp(here) == 0) {
        if (seg == SEG_CS) {
            /* A debugger's CS load: any present code segment, at the
             * privilege its selector's RPL names (no gate, no checks of
             * a transfer). */
            if ((sel & 0xfffc) == 0)
                cpu_raise(cpu, EXC_GP, 0);
            struct desc d = desc_fetch(cpu, sel, EXC_GP);
            uint32_t ar = desc_ar(d);
            if (!(ar & AR_S) || !(ar & AR_T_CODE) || !(ar & AR_P))
                cpu_raise(cpu, EXC_GP, sel & 0xfffc);
            seg_from_desc(&cpu->seg[SEG_CS], sel, d);
            cpu_mode_changed(cpu);
        } else {
            /* SS must then match the CPL, as for MOV SS. */
            cpu_load_seg(cpu, seg, sel);
        }
    } else {
        memcpy(cpu->seg, saved, sizeof(saved));
        cpu->cr2 = cr2;
        cpu->cpl = cpl;
        cpu->exc_vector = -1;
        cpu_mode_changed(cpu);
        rc = -1;
    }
    cpu->fault_jmp = outer;
    return rc;
}

void cpu_debug_set_eflags(struct cpu *cpu, uint32_t val)
{
    bool vm_was = cpu->eflags & FL_VM;
    flags_write(cpu, val, ~0u);
    /* The arithmetic flags now hold what the debugger wrote, not what
     * a JIT block left unsaved. */
    cpu->jit_flags_stale = 0;
    if (((cpu->eflags & FL_VM) != 0) != vm_was)
        cpu_mode_changed(cpu);
}

int cpu_debug_set_cr(struct cpu *cpu, int n, uint32_t val)
{
    switch (n) {
    case 0: cpu->cr0 = val | CR0_ET; break;
    case 3: cpu->cr3 = val; break;
    case 4: cpu->cr4 = val; break;
    default: return -1;
    }
    if ((cpu->cr0 & CR0_PG) && (cpu->cr4 & CR4_PAE)) {
        struct paging_mode mode;
        cpu_paging_mode(cpu, &mode);
        if (paging_load_pdptes(cpu->bus.mem, &mode) == 0)
            memcpy(cpu->pdpte, mode.pdpte, sizeof(cpu->pdpte));
    }
    cpu_tlb_flush_all(cpu);
    cpu_mode_changed(cpu);
    return 0;
}
