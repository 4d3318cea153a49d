/*
 * translate/ — turning guest bytes into something that runs: the one
 * decoder, translation blocks, and the two engines (the portable
 * interpreter and the x86-64 JIT) behind one loop, cpu_exec.
 */
#ifndef GLASS_TRANSLATE_H
#define GLASS_TRANSLATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"

/* Results of decode_insn other than a length. */
enum decode_status {
    DECODE_UD = -1,   /* invalid encoding: the CPU raises #UD */
    DECODE_MORE = -2, /* the bytes given end inside the instruction */
    DECODE_GP = -3,   /* longer than 15 bytes: the CPU raises #GP(0) */
};

/*
 * Decodes one instruction from `bytes` (`avail` of them, at most 15 are
 * looked at) for a code segment whose default operand and address size
 * is 32 bits if `code32`, else 16. On success fills `*in` completely and
 * returns its length (1-15). DECODE_MORE asks for more bytes: the caller
 * fetches them (which may fault, as the CPU would on that fetch) and calls
 * again. A #UD verdict is only given once every byte the CPU would have
 * fetched before recognising the encoding as invalid is available.
 */
int decode_insn(struct insn *in, const uint8_t *bytes, unsigned avail, bool code32);

/* The engines cpu_exec can run (struct cpu's `engine`). */
enum cpu_engine {
    CPU_ENGINE_INTERP = 0, /* the portable interpreter (the reference) */
    CPU_ENGINE_JIT = 1,    /* x86-64 host code (translate/jit/) */
};

/* Whether this host can run the JIT (an x86-64 host). */
bool cpu_exec_jit_available(void);

/*
 * Runs the CPU for at most `budget` instructions (a block may overrun it
 * by a few) with the engine cpu->engine names, and returns why it
 * stopped. The first call gives the CPU the engine's caches; a JIT that
 * cannot get executable memory falls back to the interpreter with a
 * message. cpu->no_block_cache and cpu->singlestep run every instruction
 * through the careful path.
 */
enum cpu_exit cpu_exec(struct cpu *cpu, uint64_t budget);
/*
 * A debugger's step: runs exactly one instruction through the careful
 * path, or, if it raises an exception or executes INT n, delivers that
 * and stops at the handler's first instruction with the frame pushed. No
 * external interrupt or NMI is taken, a pending exit request is left for
 * the next cpu_exec, breakpoints do not stop it. Returns CPU_EXIT_BUDGET
 * (done), CPU_EXIT_DEBUG (a watchpoint hit), CPU_EXIT_HALT (the CPU is
 * halted: nothing ran) or CPU_EXIT_SHUTDOWN.
 */
enum cpu_exit cpu_exec_step(struct cpu *cpu);
/* Frees what cpu_exec attached to the CPU; call before cpu_free. */
void cpu_exec_release(struct cpu *cpu);
/* -d jit: the JIT's statistics, if it ran. */
void cpu_exec_print_stats(const struct cpu *cpu, FILE *f);

/* cpu_exec with the interpreter for this call (tests compare engines). */
enum cpu_exit interp_run(struct cpu *cpu, uint64_t budget);
/* The same as cpu_exec_release. */
void interp_release(struct cpu *cpu);

#endif
