/*
 * difftest.c — differential test of Glass's interpreter against the host
 * CPU: random sequences of ALU, shift/rotate, multiply/divide, bit,
 * string, data-movement and flag instructions run natively and in Glass;
 * registers, the memory buffer, the exception (with its saved EIP) and
 * every architecturally defined flag must agree. BCD instructions, which
 * the host cannot run in 64-bit mode, are checked against the SDM's
 * pseudocode (bcd_model.c).
 *
 * --all-flags: instructions that leave flags undefined (shifts, rotates,
 * SHLD/SHRD, MUL/IMUL, DIV/IDIV, BT*, BSF/BSR, logic ops), alone or
 * followed by ones that read flags (gen.h), compared on all six
 * arithmetic flags and every register: on an x86-64
 * host Glass takes the flags and results the SDM leaves undefined from
 * the host CPU (docs/ARCHITECTURE.md, "Flags"), so they must agree with
 * it bit for bit. No BCD pass then.
 *
 * Usage: difftest [--seed N] [--count N] [--max-report N] [--engine jit|interp]
 *                 [--all-flags]
 * The seed is printed so that a failure can be repeated.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diff.h"
#include "translate/translate.h"

static const char *const reg_names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

static void print_case(const struct diff_case *c)
{
    fprintf(stderr, "  code:");
    for (uint32_t i = 0; i < c->code_len; i++)
        fprintf(stderr, " %02x", c->code[i]);
    fprintf(stderr, "\n  insns:");
    for (uint32_t i = 0; i < c->n_insns; i++)
        fprintf(stderr, " [%u]%s", c->insn_off[i], c->names[i]);
    fprintf(stderr, "\n  in: ");
    for (int r = 0; r < 8; r++)
        fprintf(stderr, "%s=%08x ", reg_names[r], c->regs[r]);
    fprintf(stderr, "efl=%08x\n", c->eflags);
}

static void print_result(const char *who, const struct diff_result *r)
{
    fprintf(stderr, "  %s: ", who);
    for (int i = 0; i < 8; i++)
        fprintf(stderr, "%s=%08x ", reg_names[i], r->regs[i]);
    fprintf(stderr, "efl=%08x vec=%d at=%u mem=%08x\n", r->eflags, r->vector, r->fault_off,
            r->mem_hash);
}

/* Flags defined where the native run stopped. */
static uint32_t defined_at(const struct diff_case *c, const struct diff_result *native)
{
    if (native->vector < 0)
        return c->defined[c->n_insns];
    for (uint32_t i = 0; i < c->n_insns; i++)
        if (c->insn_off[i] == native->fault_off)
            return c->defined[i];
    return 0;
}

static int compare(const struct diff_case *c, const struct diff_result *n,
                   const struct diff_result *g)
{
    if (n->vector != g->vector)
        return 0;
    if (n->vector >= 0 && n->fault_off != g->fault_off)
        return 0;
    if (memcmp(n->regs, g->regs, sizeof(n->regs)) != 0)
        return 0;
    uint32_t mask = defined_at(c, n) & (DF_ARITH | DF_DF);
    if ((n->eflags ^ g->eflags) & mask)
        return 0;
    return n->mem_hash == g->mem_hash;
}

int main(int argc, char **argv)
{
    uint64_t seed = (uint64_t)time(NULL);
    uint64_t count = 1000000;
    unsigned max_report = 10;
    int engine = CPU_ENGINE_INTERP;
    int all_flags = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--max-report") && i + 1 < argc)
            max_report = (unsigned)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--engine") && i + 1 < argc && !strcmp(argv[i + 1], "jit"))
            engine = CPU_ENGINE_JIT, i++;
        else if (!strcmp(argv[i], "--engine") && i + 1 < argc && !strcmp(argv[i + 1], "interp"))
            engine = CPU_ENGINE_INTERP, i++;
        else if (!strcmp(argv[i], "--all-flags"))
            all_flags = 1;
        else {
            fprintf(stderr, "usage: difftest [--seed N] [--count N] [--max-report N] "
                            "[--engine jit|interp] [--all-flags]\n");
            return 2;
        }
    }
    printf("difftest: seed %" PRIu64 ", %" PRIu64 " %s, engine %s\n", seed, count,
           all_flags ? "short sequences, all flags" : "sequences",
           engine == CPU_ENGINE_JIT ? "jit" : "interp");
    fflush(stdout);

    diff_native_init();
    struct diff_glass *g = diff_glass_new();
    diff_glass_set_engine(g, engine);
    static struct diff_case c;
    uint64_t passed = 0, failed = 0;
    for (uint64_t i = 0; i < count; i++) {
        struct diff_result n, gl;
        if (all_flags)
            gen_case_all_flags(seed, i, &c);
        else
            gen_case(seed, i, &c);
        diff_native_run(&c, &n);
        diff_glass_run(g, &c, &gl);
        if (compare(&c, &n, &gl)) {
            passed++;
            continue;
        }
        if (failed++ < max_report) {
            fprintf(stderr, "MISMATCH case %" PRIu64 " (seed %" PRIu64 ")\n", i, seed);
            print_case(&c);
            print_result("host ", &n);
            print_result("glass", &gl);
        }
    }

    /* BCD against the model: a tenth as many. */
    uint64_t bcd_count = all_flags ? 0 : count / 10 + 1;
    for (uint64_t i = 0; i < bcd_count; i++) {
        uint32_t eax, eflags, defined = 0;
        uint8_t op, imm;
        gen_bcd_inputs(seed, i, &eax, &eflags, &op, &imm);
        uint32_t m_eax = eax, m_fl = eflags;
        int m_vec = bcd_model(op, imm, &m_eax, &m_fl, &defined);
        struct diff_result gl;
        diff_glass_run_bcd(g, op, imm, eax, eflags, &gl);
        int ok = gl.vector == m_vec &&
                 (m_vec >= 0 || (gl.regs[0] == m_eax && !((gl.eflags ^ m_fl) & defined)));
        if (ok) {
            passed++;
            continue;
        }
        if (failed++ < max_report)
            fprintf(stderr,
                    "MISMATCH bcd %" PRIu64 ": op %02x imm %02x eax %08x efl %03x -> model "
                    "%08x/%03x vec %d, glass %08x/%03x vec %d\n",
                    i, op, imm, eax, eflags, m_eax, m_fl & defined, m_vec, gl.regs[0],
                    gl.eflags & defined, gl.vector);
    }
    printf("difftest: seed %" PRIu64 "\n", seed);
    printf("%" PRIu64 " passed, %" PRIu64 " failed\n", passed, failed);
    diff_glass_free(g);
    return failed ? 1 : 0;
}
