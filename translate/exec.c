/*
 * translate/exec.c — cpu_exec: the one loop that runs a CPU, whichever
 * engine translates its code, and the rules that sit between
 * instructions, kept here once for both engines:
 *
 *   - an exit request (a device, the board, a signal) returns to the
 *     board at the next boundary;
 *   - a pending NMI or INTR is delivered when the CPU may take it (not in
 *     the shadow of STI, MOV SS or POP SS: SDM Vol. 3A 6.8.3);
 *   - a halted CPU returns to the board, which sleeps until a timer;
 *   - TF, RF, enabled debug registers, the interrupt shadow, -d cpu,
 *     -d mode, -singlestep and a debugger's breakpoints or watchpoints
 *     take the careful one-instruction path (interp_step), whose rules
 *     are the SDM's for each instruction; a debugger's breakpoint stops
 *     the loop before its instruction (CPU_EXIT_DEBUG);
 *   - otherwise the engine runs whole blocks: the interpreter's cache of
 *     decoded blocks (translate/tb.c) or the JIT (translate/jit/), which
 *     count their instructions against the same budget.
 * A fault anywhere unwinds to the setjmp below and is delivered there.
 */
#include <stdlib.h>

#include "translate/translate.h"

#include "cpu/internal.h"
#include "translate/exec.h"
#include "translate/tb.h"

#define JIT_DEFAULT_CODE_SIZE (32u << 20)

bool cpu_exec_jit_available(void)
{
#if defined(__x86_64__)
    return true;
#else
    return false;
#endif
}

/* Gives the CPU the caches of its engine and drops the other's (both
 * would install themselves as the code-write notifier). True when the
 * JIT runs this call. */
static bool engine_prepare(struct cpu *cpu)
{
    if (cpu->engine == CPU_ENGINE_JIT && cpu_exec_jit_available()) {
        if (cpu->tbc) {
            tb_cache_free(cpu->tbc);
            cpu->tbc = NULL;
        }
        if (!cpu->jit) {
            cpu->jit = jit_new(cpu, cpu->jit_code_size ? cpu->jit_code_size
                                                       : JIT_DEFAULT_CODE_SIZE);
            if (!cpu->jit) {
                fprintf(stderr, "glass: the JIT cannot get executable memory; "
                                "using the interpreter\n");
                cpu->engine = CPU_ENGINE_INTERP;
            }
        }
        if (cpu->jit)
            return true;
    }
    if (cpu->jit) {
        jit_free(cpu->jit);
        cpu->jit = NULL;
    }
    if (!cpu->tbc && !cpu->no_block_cache)
        cpu->tbc = tb_cache_new(cpu); /* NULL (no memory): the careful path alone */
    return false;
}

/* Whether -d mode is followed by the JIT's helpers (run.c
 * mode_log_helper) rather than the careful path: every instruction that
 * can change the mode runs through its handler there. Not in lockstep,
 * which runs each block twice. */
static bool mode_log_by_jit(const struct cpu *cpu, bool jit)
{
    return jit && !cpu->lockstep_on && (cpu->log_mask & LOG_MODE);
}

/* Log categories that trace each instruction need the careful path, but
 * only inside -d window= (before it the engine runs at full speed). */
static bool log_careful(const struct cpu *cpu, bool jit)
{
    unsigned m = cpu->log_mask & (LOG_CPU | (jit ? 0 : LOG_EXEC) |
                                  (mode_log_by_jit(cpu, jit) ? 0 : LOG_MODE));
    return m && cpu_log_in_window(cpu);
}

/* Whether the next instruction must take the careful path. A debugger's
 * breakpoints and watchpoints are checked there; the JIT may run the
 * blocks that hold no breakpoint (jit_exec checks), and its code meets a
 * watchpoint on its slow path, where the handler checks it (a watched
 * page's TLB entries take no fast path: cpu/debugger.c). */
static bool careful(const struct cpu *cpu, bool jit)
{
    return cpu->no_block_cache || cpu->singlestep || cpu->inhibit_irq ||
           (cpu->eflags & (FL_TF | FL_RF)) || (cpu->dr[7] & 0xff) ||
           ((cpu->dbg.nbrk || cpu->dbg_watching) && (!jit || cpu->lockstep_on)) ||
           (cpu->log_mask && log_careful(cpu, jit));
}

/* A JIT exit with stale arithmetic flags (cpu->jit_flags_stale: at the
 * start of a block that overwrites them before it reads them, entered
 * without them saved): the block's first instructions, those that write
 * them all, run here on the careful path before an interrupt handler
 * (its EFLAGS image), the board or a debugger can see the state. None of
 * them can trap (a trap reads the flags). A debugger's breakpoint among
 * them stops the stepping there, its stop showing the flags as they are. */
static void exact_flags(struct cpu *cpu)
{
    unsigned n = cpu->jit_flags_stale;
    cpu->jit_flags_stale = 0;
    while (n--) {
        if (cpu->dbg.nbrk && cpu_dbg_break_at(cpu, cpu->seg[SEG_CS].base + cpu->eip))
            return;
        interp_step(cpu);
    }
}

/* -d mode after an event: the mode it changed was changed by delivering
 * `vector` at cs:eip. */
static void mode_log_event(struct cpu *cpu, uint16_t cs, uint32_t eip, uint32_t lin, int vector,
                           const char *kind)
{
    char by[48];
    snprintf(by, sizeof(by), "vector %02x (%s)", vector & 0xff, kind);
    cpu_mode_log_check(cpu, cs, eip, lin, cpu->icount, by);
}

/* A log window's first instruction is reached exactly: the engine stops
 * there and the careful path takes over. Returns the budget to run. */
static uint64_t window_budget(const struct cpu *cpu, uint64_t budget)
{
    const struct log_filter *lf = cpu->log_filter;
    if (lf && (cpu->log_mask & (LOG_CPU | LOG_MODE | LOG_EXEC)) &&
        cpu->icount < lf->window_first && lf->window_first - cpu->icount < budget)
        return lf->window_first - cpu->icount;
    return budget;
}

/* A debugger's breakpoint at the next instruction: true when it stops
 * there (not on the first instruction after a resume from it). */
static bool breakpoint_hit(struct cpu *cpu)
{
    uint32_t lin = cpu->seg[SEG_CS].base + cpu->eip;
    bool resumed_here = cpu->dbg.resume_armed && lin == cpu->dbg.resume_lin;
    cpu->dbg.resume_armed = false;
    if (resumed_here || !cpu_dbg_break_at(cpu, lin))
        return false;
    cpu->dbg.stop = (struct cpu_dbg_stop){ .kind = CPU_DBG_BREAK, .addr = lin };
    return true;
}

/* cpu_exec's loop for at most `limit` instructions and deliveries. */
static enum cpu_exit exec_loop(struct cpu *cpu, const uint64_t limit)
{
    jmp_buf here;
    jmp_buf *outer = cpu->fault_jmp;
    const uint64_t start = cpu->icount;
    enum cpu_exit why = CPU_EXIT_BUDGET;
    const bool jit = engine_prepare(cpu);
    /* cpu_exec_step: one instruction, no interrupt, exit requests kept
     * for the next run. */
    const bool stepping = cpu->dbg.stepping;
    cpu->dbg.stop.kind = CPU_DBG_NONE;


    /* Deliveries count against the budget too: a guest whose exception
     * handler faults again at once retires nothing, yet the board must
     * get control back. Modified after setjmp, hence volatile. */
    volatile uint64_t deliveries = 0;
    cpu->fault_jmp = &here;
    if (setjmp(here)) {
        deliveries++;
        if (jit)
            jit_fault_unwound(cpu);
        /* The instruction did not complete: a watchpoint it hit is void
         * (it hits again when restarted). */
        if (cpu->dbg.stop.kind == CPU_DBG_WATCH)
            cpu->dbg.stop.kind = CPU_DBG_NONE;
        if (cpu->exc_vector == EXC_PF && (cpu->log_mask & LOG_MMU))
            cpu_mmu_log_fault(cpu);
        uint16_t cs = cpu->seg[SEG_CS].sel;
        uint32_t eip = cpu->eip, lin = cpu->seg[SEG_CS].base + eip;
        int vector = cpu->exc_vector;
        bool soft = cpu->exc_soft;
        /* An exception unwound an instruction or a delivery: deliver it
         * now (cpu_deliver_pending handles faults while delivering). */
        if (!cpu_deliver_pending(cpu)) {
            why = CPU_EXIT_SHUTDOWN;
            goto out;
        }
        if (cpu->log_mask & LOG_MODE)
            mode_log_event(cpu, cs, eip, lin, vector, soft ? "int n" : "exception");
    }
    for (;;) {
        if (cpu->dbg.stop.kind != CPU_DBG_NONE) {
            why = CPU_EXIT_DEBUG; /* a watchpoint hit by the last instruction or event */
            break;
        }
        uint64_t used = cpu->icount - start + deliveries;
        if (used >= limit)
            break;
        if (cpu->exit_request && !stepping) {
            cpu->exit_request = 0;
            why = CPU_EXIT_REQUEST;
            break;
        }
        if ((cpu->intr || cpu->nmi_pending) && !stepping) {
            uint16_t cs = cpu->seg[SEG_CS].sel;
            uint32_t eip = cpu->eip, lin = cpu->seg[SEG_CS].base + eip;
            if (cpu_service_interrupts(cpu)) {
                if (cpu->log_mask & LOG_MODE)
                    mode_log_event(cpu, cs, eip, lin, -1, "interrupt");
                continue;
            }
        }
        if (cpu->halted) {
            why = CPU_EXIT_HALT;
            break;
        }
        if (!careful(cpu, jit)) {
            /* -d mode by the JIT's helpers: from the mode as found at the
             * start. Otherwise (outside its window) changes go unseen, so
             * the next check inside starts from the mode it finds. */
            if (mode_log_by_jit(cpu, jit)) {
                if (cpu->mode_logged == CPU_MODE_UNKNOWN)
                    cpu->mode_logged = cpu_mode_signature(cpu);
            } else if (cpu->log_mask & LOG_MODE) {
                cpu->mode_logged = CPU_MODE_UNKNOWN;
            }
            if (jit && cpu->lockstep_on) {
                enum lockstep_result r = lockstep_block(cpu);
                if (r == LOCKSTEP_DIVERGED) {
                    why = CPU_EXIT_DIVERGED;
                    break;
                }
                if (r == LOCKSTEP_FAULT)
                    longjmp(here, 1); /* deliver it below the setjmp */
                if (r == LOCKSTEP_RAN)
                    continue;
            } else if (jit ? jit_exec(cpu, limit - used)
                           : cpu->tbc && tb_run_block(cpu->tbc, cpu)) {
                if (jit)
                    exact_flags(cpu);
                /* A change no helper saw would be translated code's
                 * (never: run.c); named as such, not given to the next. */
                if (mode_log_by_jit(cpu, jit))
                    cpu_mode_log_check(cpu, cpu->seg[SEG_CS].sel, cpu->eip,
                                       cpu->seg[SEG_CS].base + cpu->eip, cpu->icount,
                                       "translated code");
                continue;
            }
        }
        if (cpu->dbg.nbrk && !stepping && breakpoint_hit(cpu)) {
            why = CPU_EXIT_DEBUG;
            break;
        }
        interp_step(cpu);
    }
out:
    cpu->fault_jmp = outer;
    return why;
}

enum cpu_exit cpu_exec(struct cpu *cpu, uint64_t budget)
{
    return exec_loop(cpu, window_budget(cpu, budget));
}

enum cpu_exit cpu_exec_step(struct cpu *cpu)
{
    uint8_t singlestep = cpu->singlestep;
    cpu->singlestep = 1;
    cpu->dbg.stepping = true;
    enum cpu_exit why = cpu_exec(cpu, 1);
    cpu->dbg.stepping = false;
    cpu->singlestep = singlestep;
    return why;
}

enum cpu_exit interp_run(struct cpu *cpu, uint64_t budget)
{
    uint8_t engine = cpu->engine;
    cpu->engine = CPU_ENGINE_INTERP;
    enum cpu_exit why = cpu_exec(cpu, budget);
    cpu->engine = engine;
    return why;
}

void cpu_exec_release(struct cpu *cpu)
{
    lockstep_free(cpu);
    tb_cache_free(cpu->tbc);
    cpu->tbc = NULL;
    jit_free(cpu->jit);
    cpu->jit = NULL;
}

void interp_release(struct cpu *cpu)
{
    cpu_exec_release(cpu);
}

void cpu_exec_print_stats(const struct cpu *cpu, FILE *f)
{
    if (cpu->jit)
        jit_print_stats(cpu->jit, f);
    lockstep_print_stats(cpu, f);
}
