# tests/bench/bench.mk — `make bench` (included by the top-level Makefile).
# Not part of `make check`: timings are measured and reported, never
# asserted. See tests/bench/run.sh.

BENCH_GUEST := build/bench/bench.elf
BENCH_NATIVE := build/bench/bench-native

build/bench/%.o: tests/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -fno-tree-loop-distribute-patterns -I. -c -o $@ $<

$(BENCH_GUEST): build/bench/guest_main.o build/bench/workload.o $(GUEST_LIB_OBJS) \
		tests/guest/lib/link.ld
	$(CC) $(GUEST_LDFLAGS) -o $@ build/bench/guest_main.o build/bench/workload.o \
		$(GUEST_LIB_OBJS) -lgcc

$(BENCH_NATIVE): tests/bench/native_main.c tests/bench/workload.c tests/bench/workload.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -fno-tree-loop-distribute-patterns -I. -o $@ \
		tests/bench/native_main.c tests/bench/workload.c

.PHONY: bench
bench: glass $(BENCH_GUEST) $(BENCH_NATIVE)
	tests/bench/run.sh ./glass $(BENCH_GUEST) $(BENCH_NATIVE)
