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
 *   - TF, RF, enabled debug registers, the interrupt shadow, -d cpu and
 *     -singlestep take the careful one-instruction path (interp_step),
 *     whose rules are the SDM's for each instruction;
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

/* Whether the next instruction must take the careful path. */
static bool careful(const struct cpu *cpu, bool jit)
{
    return cpu->no_block_cache || cpu->singlestep || cpu->inhibit_irq ||
           (cpu->eflags & (FL_TF | FL_RF)) || (cpu->dr[7] & 0xff) ||
           (cpu->log_mask & LOG_CPU) || (!jit && (cpu->log_mask & LOG_EXEC));
}

enum cpu_exit cpu_exec(struct cpu *cpu, uint64_t budget)
{
    jmp_buf here;
    jmp_buf *outer = cpu->fault_jmp;
    const uint64_t start = cpu->icount;
    enum cpu_exit why = CPU_EXIT_BUDGET;
    const bool jit = engine_prepare(cpu);

    /* Deliveries count against the budget too: a guest whose exception
     * handler faults again at once retires nothing, yet the board must
     * get control back. Modified after setjmp, hence volatile. */
    volatile uint64_t deliveries = 0;
    cpu->fault_jmp = &here;
    if (setjmp(here)) {
        deliveries++;
        if (jit)
            jit_fault_unwound(cpu);
        /* An exception unwound an instruction or a delivery: deliver it
         * now (cpu_deliver_pending handles faults while delivering). */
        if (!cpu_deliver_pending(cpu)) {
            why = CPU_EXIT_SHUTDOWN;
            goto out;
        }
    }
    for (;;) {
        uint64_t used = cpu->icount - start + deliveries;
        if (used >= budget)
            break;
        if (cpu->exit_request) {
            cpu->exit_request = 0;
            why = CPU_EXIT_REQUEST;
            break;
        }
        if ((cpu->intr || cpu->nmi_pending) && cpu_service_interrupts(cpu))
            continue;
        if (cpu->halted) {
            why = CPU_EXIT_HALT;
            break;
        }
        if (!careful(cpu, jit)) {
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
            } else if (jit ? jit_exec(cpu, budget - used)
                           : cpu->tbc && tb_run_block(cpu->tbc, cpu)) {
                continue;
            }
        }
        interp_step(cpu);
    }
out:
    cpu->fault_jmp = outer;
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
