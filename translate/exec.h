/*
 * translate/exec.h — what cpu_exec (translate/exec.c) calls in each
 * engine; private to translate/.
 */
#ifndef GLASS_TRANSLATE_EXEC_H
#define GLASS_TRANSLATE_EXEC_H

#include <stdio.h>

#include "translate/translate.h"

/* translate/interp.c: one instruction the careful way, with every rule
 * that sits between instructions (breakpoints, single-step, RF, the
 * interrupt shadow's end). May raise (longjmp to cpu_exec). */
void interp_step(struct cpu *cpu);

/* translate/jit/run.c */
struct jit;
/* A JIT with a translation cache of `code_size` bytes; NULL when the host
 * gives no executable memory. */
struct jit *jit_new(struct cpu *cpu, size_t code_size);
void jit_free(struct jit *j);
/* Runs translated blocks from CS:EIP (one entry into generated code,
 * chained blocks included) for at most `budget` instructions, counting
 * what ran in cpu->icount. False, having run nothing, when the next
 * instruction is for the careful path. May raise a fetch fault. */
bool jit_exec(struct cpu *cpu, uint64_t budget);
/* cpu_exec's fault path: a fault unwound out of generated code; counts
 * what ran before it. */
void jit_fault_unwound(struct cpu *cpu);
void jit_print_stats(const struct jit *j, FILE *f);

/* translate/lockstep.c: one JIT block checked against the interpreter. */
enum lockstep_result {
    LOCKSTEP_NONE,     /* nothing ran: the careful path takes the next one */
    LOCKSTEP_RAN,      /* ran (compared, or unverifiable: it touched a device) */
    LOCKSTEP_FAULT,    /* ran up to a fault, recorded in cpu->exc_*: deliver it */
    LOCKSTEP_DIVERGED, /* the engines disagreed (printed to cpu->log) */
};
enum lockstep_result lockstep_block(struct cpu *cpu);
void lockstep_free(struct cpu *cpu);
void lockstep_print_stats(const struct cpu *cpu, FILE *f);

#endif
