/*
 * tests/bench/native_main.c — the workloads on the host CPU, for the native
 * column of `make bench` (the build machines cannot run 32-bit programs, so
 * this is the same C built for x86-64).
 *
 *   bench-native NAME [ROUNDS]   runs one workload; prints
 *                                  bench NAME: N rounds, checksum XXXXXXXX
 *                                  seconds S        (the workload alone)
 *   bench-native --list          prints "NAME ROUNDS DESCRIPTION" per workload
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "tests/bench/workload.h"

void *bench_code_buffer(void)
{
    /* Writable and executable at once, as the guest's page is: the workload
     * rewrites the code between calls, as a JIT or a loader would. */
    void *p = mmap(NULL, BENCH_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("bench-native: mmap of a writable, executable page");
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    if (argc == 2 && argv[1][0] == '-' && argv[1][1] == '-') {
        for (unsigned i = 0; i < workload_count; i++)
            if (workloads[i].rounds)
                printf("%s %u %s\n", workloads[i].name, workloads[i].rounds, workloads[i].what);
        return 0;
    }
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench-native NAME [ROUNDS] | --list\n");
        return 2;
    }
    const struct workload *w = workload_find(argv[1]);
    if (!w) {
        fprintf(stderr, "bench-native: unknown workload %s\n", argv[1]);
        return 2;
    }
    unsigned rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : w->rounds;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t sum = w->run(rounds);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("bench %s: %u rounds, checksum %08x\n", w->name, rounds, (unsigned)sum);
    printf("seconds %.6f\n",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    return 0;
}
