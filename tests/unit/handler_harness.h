/*
 * handler_harness.h — running one cpu/ instruction handler in a unit test:
 * find it in a family's {op, fn} table (without going through dispatch.c,
 * so a test needs only its own family), run it, and catch the exception
 * it raises. Shared by the tests of every instruction family.
 */
#ifndef GLASS_TESTS_HANDLER_HARNESS_H
#define GLASS_TESTS_HANDLER_HARNESS_H

#include <setjmp.h>
#include <stddef.h>

#include "cpu/internal.h"

/* The handler of `op` in `table`, or NULL. */
static inline insn_fn hh_find(const struct op_handler *table, enum op op)
{
    for (const struct op_handler *h = table; h->fn; h++)
        if (h->op == op)
            return h->fn;
    return NULL;
}

/* Runs `fn` on `in`: returns the vector it raised, -1 if it completed,
 * -2 if there is no handler. */
static inline int hh_run(struct cpu *cpu, insn_fn fn, const struct insn *in)
{
    if (!fn)
        return -2;
    insn_fn volatile f = fn;
    jmp_buf jb;
    cpu->fault_jmp = &jb;
    cpu->exc_vector = -1;
    if (setjmp(jb)) {
        cpu->fault_jmp = NULL;
        return cpu->exc_vector;
    }
    f(cpu, in);
    cpu->fault_jmp = NULL;
    return -1;
}

#endif
