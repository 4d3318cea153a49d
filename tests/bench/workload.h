/*
 * tests/bench/workload.h — the benchmark's workloads (tests/bench/workload.c).
 *
 * The same C is built twice: freestanding for the guest (gcc -m32, run under
 * Glass and QEMU as a multiboot kernel, tests/bench/guest_main.c) and for the
 * host (x86-64, tests/bench/native_main.c), so the columns of `make bench`
 * compare engines, not programs. Each workload returns a checksum that must
 * be the same in every column.
 */
#ifndef GLASS_BENCH_WORKLOAD_H
#define GLASS_BENCH_WORKLOAD_H

#include <stdint.h>

struct workload {
    const char *name;   /* what `work=NAME` selects */
    /* Default rounds: about 0.3-1 s under QEMU's TCG on the build
     * machines, or ~0.2 s at least under the faster emulator where that is
     * Glass's interpreter (string, smc). 0 marks the start-up baseline
     * ("none"), which the runner does not list as a workload. */
    unsigned rounds;
    const char *what;   /* one line for the runner's legend */
    uint32_t (*run)(unsigned rounds);
};

extern const struct workload workloads[];
extern const unsigned workload_count;

/* The workload called `name`, or 0. */
const struct workload *workload_find(const char *name);

/* What each side provides (guest_main.c, native_main.c). */

/* The self-modifying-code workload's buffer: BENCH_CODE_SIZE bytes that can
 * be written and then executed, on a page of its own. */
#define BENCH_CODE_SIZE 4096
void *bench_code_buffer(void);

#endif
