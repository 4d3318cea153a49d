/*
 * translate/tb.h — the block cache of decoded instructions, private to
 * translate/ (translate/tb.c; the interpreter loop is its only user).
 */
#ifndef GLASS_TRANSLATE_TB_H
#define GLASS_TRANSLATE_TB_H

#include <stdbool.h>
#include <stdint.h>

#include "translate/translate.h"

struct tb_cache;

/* A cache for `cpu`; installs itself as the code-write notifier of the
 * CPU's physical address space. */
struct tb_cache *tb_cache_new(struct cpu *cpu);
void tb_cache_free(struct tb_cache *c);

/* Runs the block at CS:EIP, building it first if needed. Returns false
 * (having run nothing) when the instruction at CS:EIP is not for the
 * block path: it crosses a page or the CS limit, does not decode, or the
 * page is not RAM/ROM; the caller then executes one instruction the
 * careful way. May raise faults (they unwind to the caller's setjmp). */
bool tb_run_block(struct tb_cache *c, struct cpu *cpu);

/* Drops every block on physical page `page` (a guest wrote to it). */
void tb_invalidate_page(struct tb_cache *c, uint64_t page);
/* Drops every block. */
void tb_flush_all(struct tb_cache *c);
void tb_stats(const struct tb_cache *c, uint64_t *blocks_built, uint64_t *flushes);

/* Operations that end a block of the interpreter's cache, and those
 * after which the next block may follow directly (near transfers and
 * everything that does not end a block). */
bool tb_ends_block(enum op op);
bool tb_is_near_or_plain(enum op op);

/* Decodes up to `max` instructions into `buf` from the page bytes at
 * `host`, starting at page offset `off`, in 16- or 32-bit code, staying
 * within `room` + 1 bytes (the CS limit) and the page; stops after an
 * instruction for which `ends` is true, and before one that does not
 * decode (the careful path raises its fault at the right moment). Stores
 * the page offset after the last instruction in *end; returns how many. */
unsigned tb_decode(struct insn *buf, unsigned max, const uint8_t *host, unsigned off, bool code32,
                   uint32_t room, bool (*ends)(const struct insn *), unsigned *end);

/* How many bytes from CS:eip on lie within the CS limit and, for 16-bit
 * code, before IP wraps, minus one. */
uint32_t tb_code_room(const struct cpu *cpu, uint32_t eip);

/* translate/interp.c: the #UD an operation without a handler gets. */
_Noreturn void interp_unimplemented(struct cpu *cpu, const struct insn *in);

#endif
