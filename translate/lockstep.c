/*
 * translate/lockstep.c — -accel jit,lockstep: every block the JIT runs is
 * run again by the interpreter's careful path from the same state, and
 * the two results are compared; the first block whose results differ
 * stops the machine with both states printed.
 *
 * One step:
 *   1. save the architectural state and start a journal of RAM stores
 *      (phys_set_write_watch: with a watcher set, every guest store takes
 *      the TLB's slow path, so inline JIT stores are journalled too);
 *   2. run one JIT block (a budget of 1: the block runs whole, the next
 *      block's prologue stops); a fault is caught here, not delivered;
 *   3. if the block touched a device (an I/O port, MMIO, or asked the
 *      board to stop) or read the clock (the TSC), its effects cannot be
 *      repeated: keep its result unverified;
 *   4. otherwise keep the JIT's state and final bytes, put RAM and the
 *      state back, and run the same number of instructions (and the
 *      faulting one) on the careful path. The TLB stays as the JIT's run
 *      left it, and so do the accessed and dirty bits its page walks set
 *      (the walker's writes are not journalled): the interpreter then
 *      sees the translations the JIT saw, stale ones included (a TLB may
 *      keep a translation until it is invalidated, SDM Vol. 3A 4.10);
 *   5. compare registers, EIP, EFLAGS, segment caches, control, debug
 *      and descriptor-table registers, the x87 state, the exception
 *      raised, and the final value of every byte either run stored.
 * The interpreter's result is the one kept. A fault is then delivered by
 * cpu_exec as usual.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/internal.h"
#include "translate/exec.h"

/* What an instruction stream can change, besides memory. */
struct arch_state {
    uint32_t regs[8], eip, eflags, next_eip;
    struct lazy_flags cc;
    struct seg seg[SEG_COUNT];
    uint8_t cpl, code32, stack32, halted, inhibit_irq, ss_shadow, nmi_pending, nmi_blocked;
    struct dtr gdtr, idtr;
    struct seg ldtr, tr;
    uint32_t cr0, cr2, cr3, cr4;
    uint64_t pdpte[4];
    uint32_t dr[8], dr6_pending, dr6_held;
    struct msr_state msr;
    struct fpu fpu;
    uint64_t icount;
    int16_t exc_vector, exc_delivering;
    uint8_t exc_has_error, exc_soft;
    uint32_t exc_error;
};

static void arch_save(const struct cpu *cpu, struct arch_state *s)
{
    memset(s, 0, sizeof(*s));
    memcpy(s->regs, cpu->regs, sizeof(s->regs));
    s->eip = cpu->eip;
    s->eflags = cpu->eflags;
    s->next_eip = cpu->next_eip;
    s->cc = cpu->cc;
    memcpy(s->seg, cpu->seg, sizeof(s->seg));
    s->cpl = cpu->cpl;
    s->code32 = cpu->code32;
    s->stack32 = cpu->stack32;
    s->halted = cpu->halted;
    s->inhibit_irq = cpu->inhibit_irq;
    s->ss_shadow = cpu->ss_shadow;
    s->nmi_pending = cpu->nmi_pending;
    s->nmi_blocked = cpu->nmi_blocked;
    s->gdtr = cpu->gdtr;
    s->idtr = cpu->idtr;
    s->ldtr = cpu->ldtr;
    s->tr = cpu->tr;
    s->cr0 = cpu->cr0;
    s->cr2 = cpu->cr2;
    s->cr3 = cpu->cr3;
    s->cr4 = cpu->cr4;
    memcpy(s->pdpte, cpu->pdpte, sizeof(s->pdpte));
    memcpy(s->dr, cpu->dr, sizeof(s->dr));
    s->dr6_pending = cpu->dr6_pending;
    s->dr6_held = cpu->dr6_held;
    s->msr = cpu->msr;
    s->fpu = cpu->fpu;
    s->icount = cpu->icount;
    s->exc_vector = cpu->exc_vector;
    s->exc_delivering = cpu->exc_delivering;
    s->exc_has_error = cpu->exc_has_error;
    s->exc_soft = cpu->exc_soft;
    s->exc_error = cpu->exc_error;
}

static void arch_restore(struct cpu *cpu, const struct arch_state *s)
{
    memcpy(cpu->regs, s->regs, sizeof(s->regs));
    cpu->eip = s->eip;
    cpu->eflags = s->eflags;
    cpu->next_eip = s->next_eip;
    cpu->cc = s->cc;
    memcpy(cpu->seg, s->seg, sizeof(s->seg));
    cpu->cpl = s->cpl;
    cpu->code32 = s->code32;
    cpu->stack32 = s->stack32;
    cpu->halted = s->halted;
    cpu->inhibit_irq = s->inhibit_irq;
    cpu->ss_shadow = s->ss_shadow;
    cpu->nmi_pending = s->nmi_pending;
    cpu->nmi_blocked = s->nmi_blocked;
    cpu->gdtr = s->gdtr;
    cpu->idtr = s->idtr;
    cpu->ldtr = s->ldtr;
    cpu->tr = s->tr;
    cpu->cr0 = s->cr0;
    cpu->cr2 = s->cr2;
    cpu->cr3 = s->cr3;
    cpu->cr4 = s->cr4;
    memcpy(cpu->pdpte, s->pdpte, sizeof(s->pdpte));
    memcpy(cpu->dr, s->dr, sizeof(s->dr));
    cpu->dr6_pending = s->dr6_pending;
    cpu->dr6_held = s->dr6_held;
    cpu->msr = s->msr;
    cpu->fpu = s->fpu;
    cpu->icount = s->icount;
    cpu->exc_vector = s->exc_vector;
    cpu->exc_delivering = s->exc_delivering;
    cpu->exc_has_error = s->exc_has_error;
    cpu->exc_soft = s->exc_soft;
    cpu->exc_error = s->exc_error;
}

/* ------------------------------------------------------------------ */
/* The journal of RAM stores                                           */
/* ------------------------------------------------------------------ */

struct journal_entry {
    uint64_t addr;
    uint8_t old;
};

struct lockstep {
    struct cpu *cpu;
    struct journal_entry *j;
    size_t n, cap;
    bool overflow;
    uint64_t blocks, verified, unverified;
};

#define JOURNAL_MAX (1u << 22) /* bytes stored by one block, at most */

static void journal_watch(void *opaque, uint64_t paddr, size_t size)
{
    struct lockstep *ls = opaque;
    for (size_t i = 0; i < size; i++) {
        if (ls->n == ls->cap) {
            size_t cap = ls->cap ? ls->cap * 2 : 4096;
            struct journal_entry *j;
            if (cap > JOURNAL_MAX || !(j = realloc(ls->j, cap * sizeof(*j)))) {
                ls->overflow = true;
                return;
            }
            ls->j = j;
            ls->cap = cap;
        }
        uint8_t b;
        phys_read_buf(ls->cpu->bus.mem, paddr + i, &b, 1);
        ls->j[ls->n++] = (struct journal_entry){ paddr + i, b };
    }
}

/* Puts the bytes the journal saw stored back, newest first. */
static void journal_undo(struct lockstep *ls, size_t from)
{
    struct phys_mem *pm = ls->cpu->bus.mem;
    phys_set_write_watch(pm, NULL, NULL);
    for (size_t i = ls->n; i-- > from;)
        phys_write(pm, ls->j[i].addr, ls->j[i].old, 1);
    phys_set_write_watch(pm, journal_watch, ls);
    ls->n = from;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct journal_entry *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* ------------------------------------------------------------------ */
/* One step                                                            */
/* ------------------------------------------------------------------ */

static struct lockstep *lockstep_of(struct cpu *cpu)
{
    if (!cpu->lockstep) {
        cpu->lockstep = calloc(1, sizeof(*cpu->lockstep));
        if (cpu->lockstep)
            cpu->lockstep->cpu = cpu;
    }
    return cpu->lockstep;
}

void lockstep_free(struct cpu *cpu)
{
    if (!cpu->lockstep)
        return;
    phys_set_write_watch(cpu->bus.mem, NULL, NULL);
    free(cpu->lockstep->j);
    free(cpu->lockstep);
    cpu->lockstep = NULL;
}

static void print_state(FILE *f, const char *who, const struct arch_state *s, uint32_t eflags)
{
    fprintf(f, "  %s: eip=%08x efl=%08x cpl=%u vec=%d err=%x\n", who, s->eip, eflags, s->cpl,
            s->exc_vector, s->exc_error);
    fprintf(f, "  %s: eax=%08x ecx=%08x edx=%08x ebx=%08x esp=%08x ebp=%08x esi=%08x edi=%08x\n",
            who, s->regs[0], s->regs[1], s->regs[2], s->regs[3], s->regs[4], s->regs[5],
            s->regs[6], s->regs[7]);
}

/* The x87 state field by field (struct f80 has padding). */
static bool fpu_agree(const struct fpu *a, const struct fpu *b)
{
    for (int i = 0; i < 8; i++)
        if (a->st[i].sig != b->st[i].sig || a->st[i].sign_exp != b->st[i].sign_exp)
            return false;
    return a->cw == b->cw && a->sw == b->sw && a->tag_empty == b->tag_empty && a->top == b->top &&
           a->fop == b->fop && a->fip == b->fip && a->fdp == b->fdp && a->fcs == b->fcs &&
           a->fds == b->fds;
}

static bool seg_agree(const struct seg *a, const struct seg *b)
{
    return a->sel == b->sel && a->base == b->base && a->limit == b->limit && a->ar == b->ar;
}

static bool segs_agree(const struct arch_state *a, const struct arch_state *b)
{
    for (int i = 0; i < SEG_COUNT; i++)
        if (!seg_agree(&a->seg[i], &b->seg[i]))
            return false;
    return seg_agree(&a->ldtr, &b->ldtr) && seg_agree(&a->tr, &b->tr) &&
           a->gdtr.base == b->gdtr.base && a->gdtr.limit == b->gdtr.limit &&
           a->idtr.base == b->idtr.base && a->idtr.limit == b->idtr.limit;
}

/* Whether two states agree; names the first difference in `what`. */
static bool states_agree(const struct arch_state *a, uint32_t fa, const struct arch_state *b,
                         uint32_t fb, const char **what)
{
#define SAME(field, name)                                                                     \
    if (memcmp(&a->field, &b->field, sizeof(a->field)) != 0) {                               \
        *what = name;                                                                         \
        return false;                                                                         \
    }
    SAME(regs, "general registers");
    SAME(eip, "EIP");
    if (fa != fb) {
        *what = "EFLAGS";
        return false;
    }
    if (!segs_agree(a, b)) {
        *what = "segment or descriptor-table registers";
        return false;
    }
    SAME(cpl, "CPL");
    SAME(halted, "halt state");
    SAME(cr0, "CR0");
    SAME(cr2, "CR2");
    SAME(cr3, "CR3");
    SAME(cr4, "CR4");
    SAME(dr, "debug registers");
    if (!fpu_agree(&a->fpu, &b->fpu)) {
        *what = "x87 state";
        return false;
    }
    SAME(icount, "instructions retired");
    SAME(exc_vector, "exception raised");
    SAME(exc_error, "exception error code");
#undef SAME
    return true;
}

/* Runs one careful step under a fault catcher; false if it faulted. */
static bool careful_step(struct cpu *cpu)
{
    jmp_buf here;
    jmp_buf *outer = cpu->fault_jmp;
    cpu->fault_jmp = &here;
    bool ok = true;
    if (setjmp(here))
        ok = false;
    else
        interp_step(cpu);
    cpu->fault_jmp = outer;
    return ok;
}

enum lockstep_result lockstep_block(struct cpu *cpu)
{
    struct lockstep *ls = lockstep_of(cpu);
    if (!ls)
        return LOCKSTEP_NONE;
    struct phys_mem *pm = cpu->bus.mem;
    if (!phys_writes_watched(pm)) {
        phys_set_write_watch(pm, journal_watch, ls);
        tlb_flush_all(&cpu->tlb); /* entries with a write fast path go */
    }
    struct arch_state before, after_jit, after_int;
    arch_save(cpu, &before);
    ls->n = 0;
    ls->overflow = false;
    uint64_t side = phys_mmio_accesses(pm) + io_accesses(cpu->bus.io) + cpu->clock_reads;

    /* The JIT's run, its fault caught here. */
    jmp_buf here;
    jmp_buf *outer = cpu->fault_jmp;
    volatile bool faulted = false, ran = true;
    cpu->fault_jmp = &here;
    if (setjmp(here)) {
        faulted = true;
        jit_fault_unwound(cpu);
    } else {
        ran = jit_exec(cpu, 1);
    }
    cpu->fault_jmp = outer;
    if (!ran)
        return LOCKSTEP_NONE;
    ls->blocks++;
    uint64_t k = cpu->icount - before.icount;
    if (phys_mmio_accesses(pm) + io_accesses(cpu->bus.io) + cpu->clock_reads != side ||
        cpu->exit_request || ls->overflow) {
        ls->unverified++;
        return faulted ? LOCKSTEP_FAULT : LOCKSTEP_RAN;
    }
    arch_save(cpu, &after_jit);
    uint32_t efl_jit = cpu_get_eflags(cpu);
    /* Left at the start of a block that overwrites the flags before it
     * reads them: the arithmetic flags are dead there, and may be stale
     * (translate/jit/block.c). */
    uint32_t flags_mask = cpu->jit_flags_stale ? ~FL_ARITH : ~0u;
    /* The JIT's final bytes, by address (the newest store wins). */
    size_t nj = ls->n;
    struct journal_entry *jit_bytes = malloc((nj ? nj : 1) * sizeof(*jit_bytes));
    if (!jit_bytes) {
        ls->unverified++;
        return faulted ? LOCKSTEP_FAULT : LOCKSTEP_RAN;
    }
    for (size_t i = 0; i < nj; i++) {
        uint8_t b;
        phys_read_buf(pm, ls->j[i].addr, &b, 1);
        jit_bytes[i] = (struct journal_entry){ ls->j[i].addr, b };
    }

    /* The interpreter's run, from the same state. */
    journal_undo(ls, 0);
    arch_restore(cpu, &before);
    bool int_faulted = false;
    for (uint64_t i = 0; i < k + (faulted ? 1 : 0); i++) {
        if (!careful_step(cpu)) {
            int_faulted = true;
            break;
        }
    }
    arch_save(cpu, &after_int);
    uint32_t efl_int = cpu_get_eflags(cpu);

    const char *what = NULL;
    bool agree = int_faulted == faulted &&
                 states_agree(&after_jit, efl_jit & flags_mask, &after_int,
                              efl_int & flags_mask, &what);
    if (!int_faulted && faulted)
        what = "the JIT faulted, the interpreter did not";
    else if (int_faulted && !faulted)
        what = "the interpreter faulted, the JIT did not";
    /* Every byte either run stored must hold the same final value. */
    if (agree) {
        qsort(jit_bytes, nj, sizeof(*jit_bytes), cmp_entry);
        for (size_t i = 0; i < nj && agree; i++) {
            uint8_t now;
            phys_read_buf(pm, jit_bytes[i].addr, &now, 1);
            /* the last entry of a run of one address is the final byte */
            if ((i + 1 < nj && jit_bytes[i + 1].addr == jit_bytes[i].addr))
                continue;
            if (now != jit_bytes[i].old) {
                agree = false;
                what = "memory";
                fprintf(cpu->log ? cpu->log : stderr,
                        "lockstep: byte %09llx: jit %02x, interpreter %02x\n",
                        (unsigned long long)jit_bytes[i].addr, jit_bytes[i].old, now);
            }
        }
        for (size_t i = 0; i < ls->n && agree; i++) {
            struct journal_entry key = { ls->j[i].addr, 0 };
            if (!bsearch(&key, jit_bytes, nj, sizeof(*jit_bytes), cmp_entry)) {
                uint8_t now;
                phys_read_buf(pm, key.addr, &now, 1);
                if (now != ls->j[i].old) {
                    agree = false;
                    what = "memory (stored by the interpreter only)";
                }
            }
        }
    }
    free(jit_bytes);
    if (!agree) {
        FILE *f = cpu->log ? cpu->log : stderr;
        fprintf(f, "lockstep: the block at %04x:%08x (%llu instructions%s) diverges: %s\n",
                before.seg[SEG_CS].sel, before.eip, (unsigned long long)k,
                faulted ? ", then a fault" : "", what);
        print_state(f, "before", &before, before.eflags);
        print_state(f, "jit   ", &after_jit, efl_jit);
        print_state(f, "interp", &after_int, efl_int);
        fflush(f);
        return LOCKSTEP_DIVERGED;
    }
    ls->verified++;
    ls->n = 0;
    return int_faulted ? LOCKSTEP_FAULT : LOCKSTEP_RAN;
}

void lockstep_print_stats(const struct cpu *cpu, FILE *f)
{
    const struct lockstep *ls = cpu->lockstep;
    if (ls && ls->blocks)
        fprintf(f, "lockstep: %llu blocks, %llu compared with the interpreter, %llu touched a "
                   "device (not compared)\n",
                (unsigned long long)ls->blocks, (unsigned long long)ls->verified,
                (unsigned long long)ls->unverified);
}
