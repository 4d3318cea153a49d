/*
 * test_fuzz_jit.c — the JIT against the careful path on generated, valid
 * programs that stress what the JIT does inline (translate/jit/): ALU,
 * shifts, multiply, moves, bit operations, conditions and flags in every
 * operand size and form, memory operands through every addressing form
 * and segment, the stack, near control flow (direct, indirect, through
 * tables, loops), REP string instructions, and the places where inline
 * code must hand over to the handlers: faults, MMIO and holes, page and
 * segment limits, self-modifying code, page-table edits, mode switches.
 *
 * Each program runs twice from the same memory and registers: through the
 * careful path (one instruction at a time, the reference) and under the
 * JIT. Both must end at the same HLT with the same registers, EIP,
 * EFLAGS, segment caches, control registers and x87 state, the same RAM
 * (which holds the log of the exceptions the guest's handler saw) and
 * the same accesses to the MMIO and port device, in order.
 *
 * The guest's exception handler (ring 0, built once, fj_build_handler)
 * logs vector, error code, EIP and CR2 in RAM, then resumes after the
 * faulting instruction (the generator records every instruction's length
 * in a table the handler reads), or fixes a "fixable" not-present page
 * and retries; INT 3, INTO and INT 81h/82h return as traps; INT 80h from
 * ring 3 continues at ring 0. A fault the generator did not plan for
 * (no length recorded) halts there, which is compared all the same.
 *
 * Programs come in modes (fj_mode): flat 32-bit code at CPL 0 or 3 with
 * ring switches, the same with paging (page-table edits with INVLPG or a
 * CR3 reload right after each, so that no stale translation is ever
 * used, and half the time the stacks' and data's pages shuffled over
 * their frames), and 16-bit code with 16-bit addressing, 16- or 32-bit
 * stacks and excursions to real mode (CR0.PE cleared and set again); the
 * stack at ring 0 sometimes in a segment with a base.
 *
 * Frame accesses (the JIT proves a block's [EBP + disp] / [ESP + disp]
 * operands in one TLB page in its prologue): runs of such operands with
 * the base unwritten, ESP moved by PUSH/POP/ADD/SUB/LEA on the way, frames
 * inside a page, across a page's end or hugging one from below (only the
 * last bytes crossing), up to the special pages, and [EBP + disp] right
 * after a LEAVE in the same block; x87 operands among them (m32 to m80,
 * after an FNINIT so that they run inline), the widest a frame covers
 * (reverting block.c's frame_access_bytes to 4 for x87 fails 3 of 4
 * seeds).
 *
 * Undefined flags: the interpreter takes them from the host as the JIT
 * does (cpu/host_flags.c), and every bit is compared. Where it does not,
 * fuzz_undef.h tolerates the known differences (shifts' AF, BSF/BSR,
 * 16-bit SHLD/SHRD by 16-31), and then the generator never
 * lets a flag the SDM leaves undefined be observed (a
 * PUSHF/AND/POPF or a flag-writing instruction redefines it before
 * anything could read it, fault or end the program) and keeps 16-bit
 * SHLD/SHRD counts at 16 or below (GLASS_FUZZ_UNDEF=1 forces that mode).
 *
 * In that mode the careful pass also follows which flags are undefined
 * (fj_trace) and notes a program that lets one be seen: a generator bug,
 * counted (and failed) separately from divergences.
 *
 * Environment: GLASS_FUZZ_SEED=n (the seed is printed), GLASS_FUZZ_JIT_PROGS=n
 * programs per test (FJ_PROGRAMS), GLASS_FUZZ_JIT_SCALE=percent (scales the
 * number of programs, e.g. for slow sanitizer builds), GLASS_FUZZ_JIT_ONE=seed
 * runs one program (a failure prints its seed; --filter picks the mode),
 * GLASS_FUZZ_JIT_VERBOSE=1 says how each program ended, GLASS_FUZZ_LOG=1 logs
 * its exceptions (=3 also the registers before each careful step). A
 * divergence is minimised (instructions replaced by NOPs while the same
 * difference stays, GLASS_FUZZ_JIT_MINIMISE=n tries at most) and the
 * remaining instructions are printed with both end states.
 *
 * The generator, the guest machine, the runner and the minimiser are in
 * tests/unit/fuzz_jit/ (fuzz_jit.h lists the files); this file holds the
 * tests: for each mode, the loop that makes, runs and checks its programs.
 */
#define _POSIX_C_SOURCE 200809L /* getppid */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_jit/fuzz_jit.h"
#include "fuzz_total.h"
#include "fuzz_undef.h"
#include "memory/memory.h"
#include "translate/jit/jit.h"
#include "translate/translate.h"

/* The modes' names (enum fj_mode). */
const char *const fj_mode_name[FJ_MODES] = {
    "flat", "user", "paging", "paging-user", "pm16",
};

/* ------------------------------------------------------------------ */
/* The tests                                                           */
/* ------------------------------------------------------------------ */

/* fuzz_total.h: the file of the runner process (a test's parent). */
static void fj_total_path(char *buf, size_t size, long runner)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, size, "%s/glass-fuzz-jit-insns.%ld", dir && *dir ? dir : "/tmp", runner);
}

void fuzz_total_add(uint64_t jit_insns)
{
    char path[256];
    fj_total_path(path, sizeof(path), (long)getppid());
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "%llu\n", (unsigned long long)jit_insns);
        fclose(f);
    }
}

/* In the runner, after every test: the sum (each test requires its own
 * share of the ten million, FJ_MIN_JIT_INSNS). */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    (void)stats;
    char path[256];
    fj_total_path(path, sizeof(path), (long)getpid());
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    unsigned long long n, total = 0;
    unsigned tests = 0;
    while (fscanf(f, "%llu", &n) == 1)
        total += n, tests++;
    fclose(f);
    remove(path);
    fprintf(stderr, "[----] fuzz tests: %llu guest instructions under the JIT in %u tests\n",
            total, tests);
}

static uint64_t fj_env(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static struct fj *fj_new(size_t jit_code_size)
{
    struct fj *f = calloc(1, sizeof(*f));
    cr_assert_not_null(f);
    f->ram = aligned_alloc(4096, FJ_RAM_SIZE);
    f->base = malloc(FJ_RAM_SIZE);
    f->image = malloc(FJ_RAM_SIZE);
    f->after = malloc(FJ_RAM_SIZE);
    f->g = calloc(1, sizeof(*f->g));
    f->pm = phys_new();
    f->io = io_new();
    cr_assert(f->ram && f->base && f->image && f->after && f->g && f->pm && f->io);
    memset(f->ram, 0, FJ_RAM_SIZE);
    cr_assert_eq(phys_map_ram(f->pm, 0, FJ_RAM_SIZE, f->ram), 0);
    cr_assert_eq(phys_map_mmio(f->pm, FJ_MMIO, 4096, &fj_dev_ops, &f->dev), 0);
    cr_assert_eq(io_register(f->io, FJ_PORT, 8, &fj_dev_ops, &f->dev), 0);
    struct cpu_bus bus = { .mem = f->pm, .io = f->io };
    f->cpu = cpu_new(&bus);
    cr_assert_not_null(f->cpu);
    /* As the board does: with paging off, the JIT then reads RAM from
     * 1 MiB up through the direct window (memory.h). */
    cr_assert_eq(phys_attach_tlb(f->pm, &f->cpu->tlb), 0);
    f->cpu->log = NULL;
    f->cpu->jit_code_size = jit_code_size;
    f->cpu->trace_insn = fj_trace;
    f->cpu->trace_opaque = f;
    f->track = fuzz_undef_tolerate();
    f->verbose = fj_env("GLASS_FUZZ_JIT_VERBOSE", 0) != 0;
    if (getenv("GLASS_FUZZ_LOG")) {
        f->cpu->log = stderr;
        f->cpu->log_mask = LOG_INT | (unsigned)strtoul(getenv("GLASS_FUZZ_LOG"), NULL, 0);
    }
    f->g->img = f->base;
    fj_build_base(f->g);
    fj_gdt_image = f->base;
    return f;
}

static void fj_free(struct fj *f)
{
    cpu_exec_release(f->cpu);
    cpu_free(f->cpu);
    io_free(f->io);
    phys_free(f->pm);
    free(f->ram);
    free(f->base);
    free(f->image);
    free(f->after);
    free(f->g);
    free(f);
}

/* Programs per test in `make check`, and the instructions they must
 * make the JIT run at least (each program runs some 20000): the five
 * tests together more than ten million. GLASS_FUZZ_JIT_SCALE=percent
 * scales both (a slow build may run fewer). */
#define FJ_PROGRAMS 200
#define FJ_MIN_JIT_INSNS 2000000u

static void fj_run_mode(enum fj_mode mode, size_t jit_code_size)
{
    if (!cpu_exec_jit_available())
        cr_skip_test("no JIT on this host");
    const uint64_t base = fj_env("GLASS_FUZZ_SEED", 20261130);
    const uint64_t one = fj_env("GLASS_FUZZ_JIT_ONE", 0);
    const uint64_t scale = fj_env("GLASS_FUZZ_JIT_SCALE", 100);
    const uint64_t progs_env = fj_env("GLASS_FUZZ_JIT_PROGS", 0);
    uint64_t progs = (progs_env ? progs_env : FJ_PROGRAMS) * scale / 100;
    if (progs == 0)
        progs = 1;
    if (one)
        progs = 1;
    struct fj *f = fj_new(jit_code_size);
    cr_log_info("fuzz_jit %s: seed %llu, %llu programs%s", fj_mode_name[mode],
                (unsigned long long)base, (unsigned long long)progs,
                fuzz_undef_tolerate() ? " (undefined flags kept from being seen)" : "");
    for (uint64_t i = 0; i < progs; i++) {
        uint64_t seed = one ? one : fj_mix(base * 0x100000001b3ull + mode * 1000003u + i);
        memcpy(f->image, f->base, FJ_RAM_SIZE);
        f->g->img = f->image;
        while (!fj_generate(f->g, seed, mode, &f->st)) {
            cr_assert(!one, "program %llu cannot be made", (unsigned long long)one);
            f->rejected++;
            seed = fj_mix(seed);
            memcpy(f->image, f->base, FJ_RAM_SIZE);
        }
        f->budget = FJ_BUDGET;
        struct fj_out o[2];
        char diff[512];
        uint32_t mem_at;
        enum fj_verdict v = fj_both(f, f->image, o, diff, sizeof(diff), &mem_at);
        bool bad = v == FJ_DIFF;
        if (f->seen || v == FJ_TAINTED) {
            /* The generator let an undefined flag through: its bug. */
            f->tainted++;
            if (f->tainted <= 3)
                cr_log_info("fuzz_jit %s program %llu (GLASS_FUZZ_JIT_ONE=%llu) lets an undefined "
                            "flag be seen%s%s", fj_mode_name[mode], (unsigned long long)i,
                            (unsigned long long)seed, v == FJ_TAINTED ? "; differs: " : "",
                            v == FJ_TAINTED ? diff : "");
        }
        f->programs++;
        f->careful_insns += o[0].icount;
        f->jit_insns += o[1].icount;
        f->faults += fj_get32(f->after, FJ_VAR_COUNT);
        if (o[0].why == CPU_EXIT_BUDGET)
            f->budget_ends++;
        else if (o[0].why == CPU_EXIT_SHUTDOWN)
            f->shutdowns++;
        else if (o[0].w[W_EIP] == f->st.end_eip)
            f->ended_at_end++;
        else
            f->ended_elsewhere++;
        if (f->verbose) {
            uint32_t cur = fj_get32(f->after, FJ_VAR_CURSOR);
            uint32_t last = ((cur - FJ_LOG - 16) & 0xff0) + FJ_LOG;
            fprintf(stderr, "fuzz_jit %s program %llu (%llu): exit %d at %04x:%08x (its end: "
                    "%08x) after %llu instructions, %u exceptions, the last vector %u at %08x\n",
                    fj_mode_name[mode], (unsigned long long)i, (unsigned long long)seed,
                    (int)o[0].why, o[0].w[W_SEGS + 4 * SEG_CS], o[0].w[W_EIP], f->st.end_eip,
                    (unsigned long long)o[0].icount, fj_get32(f->after, FJ_VAR_COUNT),
                    fj_get32(f->after, last), fj_get32(f->after, last + 8));
        }
        if (bad) {
            char sig[64];
            fj_signature(diff, sig, sizeof(sig));
            fprintf(stderr, "fuzz_jit %s program %llu (GLASS_FUZZ_JIT_ONE=%llu): %s\n",
                    fj_mode_name[mode], (unsigned long long)i, (unsigned long long)seed, diff);
            const uint64_t careful_run = o[0].icount;
            f->budget = careful_run * 4 + 10000;
            fj_minimise(f, sig, (unsigned)fj_env("GLASS_FUZZ_JIT_MINIMISE", 1500));
            fj_report(f, seed);
            cr_assert_fail("fuzz_jit %s program %llu (GLASS_FUZZ_JIT_ONE=%llu): the JIT and the "
                           "careful path disagree: %s", fj_mode_name[mode], (unsigned long long)i,
                           (unsigned long long)seed, diff);
        }
    }
    cr_log_info("fuzz_jit %s: %u programs (%u remade), %llu instructions under the JIT, %llu on "
                "the careful path, %llu exceptions handled; %u ended at their end, %u elsewhere "
                "(a fault with no way on), %u ran out of budget, %u triple faults, %u let an "
                "undefined flag be seen",
                fj_mode_name[mode], f->programs, f->rejected, (unsigned long long)f->jit_insns,
                (unsigned long long)f->careful_insns, (unsigned long long)f->faults,
                f->ended_at_end, f->ended_elsewhere, f->budget_ends, f->shutdowns, f->tainted);
    fuzz_total_add(f->jit_insns);
    const struct jit_stats *js = &f->cpu->jit->stats;
    cr_log_info("fuzz_jit %s: the JIT translated %llu blocks (%llu instructions, %llu%% inline), "
                "flushed its cache %llu times, dropped %llu pages for stores into code, made "
                "%llu helper calls",
                fj_mode_name[mode], (unsigned long long)js->blocks,
                (unsigned long long)js->insns_translated,
                (unsigned long long)(js->insns_translated ? js->insns_inline * 100 /
                                                                js->insns_translated : 0),
                (unsigned long long)js->flushes, (unsigned long long)js->invalidations,
                (unsigned long long)js->helper_calls);
    /* The generator must stay worth its time: programs that run to their
     * end (not to a fault it did not plan), and enough of them. */
    cr_expect_eq(f->tainted, 0, "the generator let undefined flags be seen");
    cr_expect_leq(f->ended_elsewhere + f->budget_ends, f->programs / 50 + 1,
                  "too many programs did not run to their end");
    if (!one && !progs_env)
        cr_expect_geq(f->jit_insns, FJ_MIN_JIT_INSNS * scale / 100,
                      "the JIT ran %llu instructions only", (unsigned long long)f->jit_insns);
    fj_free(f);
}

Test(fuzz_jit, flat, .timeout = 600) { fj_run_mode(FJ_FLAT, 1u << 20); }
Test(fuzz_jit, user, .timeout = 600) { fj_run_mode(FJ_USER, 2u << 20); }
Test(fuzz_jit, paging, .timeout = 600) { fj_run_mode(FJ_PAGING, 1u << 20); }
Test(fuzz_jit, paging_user, .timeout = 600) { fj_run_mode(FJ_PAGING_USER, 4u << 20); }
Test(fuzz_jit, pm16, .timeout = 600) { fj_run_mode(FJ_PM16, 1u << 20); }
