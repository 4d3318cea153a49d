/*
 * tests/bench/native_main.c — the benchmark on the host CPU: the same
 * workload as the guest, timed, for the native column of `make bench`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/bench/workload.h"

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned sum = workload(rounds);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("bench: %u rounds, checksum %08x\n", rounds, sum);
    fprintf(stderr, "%.6f\n",
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    return 0;
}
