/*
 * translate/ — turning guest bytes into something that runs: the one
 * decoder, translation blocks, and the backends (the portable
 * interpreter now, the x86-64 JIT later).
 */
#ifndef GLASS_TRANSLATE_H
#define GLASS_TRANSLATE_H

#include <stdbool.h>
#include <stdint.h>

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

/* Runs the CPU with the interpreter for at most `budget` instructions
 * (a block may overrun it by a few). The first call gives the CPU a cache
 * of decoded blocks (translate/tb.c) unless cpu->no_block_cache is set. */
enum cpu_exit interp_run(struct cpu *cpu, uint64_t budget);
/* Frees what interp_run attached to the CPU; call before cpu_free. */
void interp_release(struct cpu *cpu);

#endif
