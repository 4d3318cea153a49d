/* tests/bench/workload.h — the benchmark's work (tests/bench/workload.c). */
#ifndef GLASS_BENCH_WORKLOAD_H
#define GLASS_BENCH_WORKLOAD_H

/* Runs `rounds` rounds of the mix and returns a checksum, so that every
 * engine can be checked to have done the same work. */
unsigned workload(unsigned rounds);

#endif
