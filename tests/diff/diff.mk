# tests/diff/diff.mk — the differential test (included by the Makefile).
#
# build/difftest runs DIFF_COUNT random sequences on the host CPU and in
# Glass's interpreter and compares them; DIFF_SEED picks the sequences
# (default: a new seed each run, printed so that a failure can be
# repeated with `make check-diff DIFF_SEED=N`). Then DIFF_ALL_COUNT short
# sequences that start with an instruction leaving flags undefined,
# compared on all six flags (--all-flags: on x86-64 Glass takes those
# from the host CPU).

DIFF_COUNT ?= 1000000
DIFF_ALL_COUNT ?= 200000
DIFF_SEED ?=
DIFF_SRCS := $(wildcard tests/diff/*.c)
DIFF_OBJS := $(DIFF_SRCS:%.c=build/%.o)

# The native side needs GNU extensions (ucontext register names).
build/tests/diff/%.o: tests/diff/%.c build/config.h
	@mkdir -p $(@D)
	$(CC) $(filter-out -std=c11,$(GLASS_CFLAGS)) -std=gnu11 $(GLASS_CPPFLAGS) -c -o $@ $<

build/difftest: $(DIFF_OBJS) $(LIB_OBJS)
	$(CC) $(GLASS_LDFLAGS) -o $@ $(DIFF_OBJS) $(LIB_OBJS) $(GLASS_LIBS)

# Under each engine (the JIT only where it runs).
DIFF_ENGINES ?= interp jit
check-diff:: build/difftest
	@set -e; for e in $(DIFF_ENGINES); do \
	    echo build/difftest --engine $$e --count $(DIFF_COUNT) $(if $(DIFF_SEED),--seed $(DIFF_SEED)); \
	    build/difftest --engine $$e --count $(DIFF_COUNT) $(if $(DIFF_SEED),--seed $(DIFF_SEED)); \
	    echo build/difftest --engine $$e --all-flags --count $(DIFF_ALL_COUNT) $(if $(DIFF_SEED),--seed $(DIFF_SEED)); \
	    build/difftest --engine $$e --all-flags --count $(DIFF_ALL_COUNT) $(if $(DIFF_SEED),--seed $(DIFF_SEED)); \
	done

-include $(DIFF_OBJS:.o=.d)
