/*
 * fuzz_total.h — the guest instructions the fuzz tests made the JIT run,
 * added up over the tests of one run of the unit-test binary. Each test
 * runs in a process of its own, so each appends its count to a file named
 * after the runner process, which prints the sum when every test is done
 * (test_fuzz_jit.c).
 */
#ifndef GLASS_TESTS_FUZZ_TOTAL_H
#define GLASS_TESTS_FUZZ_TOTAL_H

#include <stdint.h>

void fuzz_total_add(uint64_t jit_insns);

#endif
