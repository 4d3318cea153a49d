# tests/bench/bench.mk — `make bench` (included by the top-level Makefile).
# Not part of `make check`: timings are measured and reported, never
# asserted. tests/bench/README.md describes the table and its variables.
#
#   make bench                          every workload, then the Linux boot
#   make bench BENCH_ONLY=sort,x87      a subset (`linux` names the boot row)
#   make bench BENCH_SCALE=0.1 BENCH_REPEAT=1 BENCH_LINUX=0   a quick look

BENCH_GUEST := build/bench/bench.elf
BENCH_NATIVE := build/bench/bench-native

# The guest's doubles go through the x87 (as -m32 -march=i686 does anyway;
# said here because the x87 column depends on it). -fno-math-errno lets
# __builtin_sqrt be one instruction (FSQRT, SQRTSD) in both builds;
# -fno-tree-loop-distribute-patterns keeps loops from becoming memset/memcpy
# calls (the guest has no libc).
BENCH_FLAGS := -fno-math-errno -fno-tree-loop-distribute-patterns

build/bench/%.o: tests/bench/%.c tests/bench/workload.h
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -mfpmath=387 $(BENCH_FLAGS) -I. -c -o $@ $<

$(BENCH_GUEST): build/bench/guest_main.o build/bench/workload.o $(GUEST_LIB_OBJS) \
		tests/guest/lib/link.ld
	$(CC) $(GUEST_LDFLAGS) -o $@ build/bench/guest_main.o build/bench/workload.o \
		$(GUEST_LIB_OBJS) -lgcc

$(BENCH_NATIVE): tests/bench/native_main.c tests/bench/workload.c tests/bench/workload.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -Wall -Wextra $(BENCH_FLAGS) -I. -o $@ \
		tests/bench/native_main.c tests/bench/workload.c

# BENCH_* variables given on make's command line reach run.py through the
# environment (make exports command-line variables to its recipes).
.PHONY: bench
bench: glass $(BENCH_GUEST) $(BENCH_NATIVE)
	tests/bench/run.py --glass ./glass --guest $(BENCH_GUEST) --native $(BENCH_NATIVE)
