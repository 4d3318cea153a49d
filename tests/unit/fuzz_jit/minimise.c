/*
 * minimise.c — a divergence made small (test_fuzz_jit.c): instructions
 * replaced by NOPs while the engines still disagree the same way, and the
 * report of what is left with both end states.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_jit.h"

/* ---- minimising --------------------------------------------------- */

/* The first word or place that differs: what a smaller case must keep. */
void fj_signature(const char *diff, char *sig, size_t size)
{
    size_t n = strcspn(diff, " ");
    if (n >= size)
        n = size - 1;
    memcpy(sig, diff, n);
    sig[n] = 0;
}

/*
 * Replaces instructions of the program by NOPs while the engines still
 * disagree the same way (ddmin over the instruction list, at most
 * `trials` runs); leaves the smallest such image in f->image.
 */
void fj_minimise(struct fj *f, const char *sig0, unsigned trials)
{
    struct gen *g = f->g;
    const unsigned n = g->ninsns;
    bool *gone = calloc(n, sizeof(bool));
    uint8_t *cand = malloc(FJ_RAM_SIZE);
    cr_assert(gone && cand);
    const uint64_t budget = f->budget;
    struct fj_out o[2];
    char diff[512], sig[64];
    uint32_t mem_at;
    unsigned tried = 0;
    for (unsigned chunk = n / 2 ? n / 2 : 1; chunk >= 1 && tried < trials; chunk /= 2) {
        for (unsigned start = 0; start < n && tried < trials; start += chunk) {
            unsigned removed = 0;
            memcpy(cand, f->image, FJ_RAM_SIZE);
            for (unsigned i = start; i < start + chunk && i < n; i++)
                if (!gone[i]) {
                    memset(cand + g->insns[i].at, 0x90, g->insns[i].len);
                    removed++;
                }
            if (!removed)
                continue;
            tried++;
            if (fj_both(f, cand, o, diff, sizeof(diff), &mem_at) == FJ_DIFF) {
                fj_signature(diff, sig, sizeof(sig));
                if (strcmp(sig, sig0) == 0) {
                    for (unsigned i = start; i < start + chunk && i < n; i++)
                        gone[i] = true;
                    memcpy(f->image, cand, FJ_RAM_SIZE);
                }
            }
        }
        if (chunk == 1)
            break;
    }
    f->budget = budget;
    free(gone);
    free(cand);
}

/* The remaining instructions (not NOPs) and both outcomes, on stderr. */
void fj_report(struct fj *f, uint64_t seed)
{
    struct gen *g = f->g;
    const struct fj_start *st = &f->st;
    struct fj_out o[2];
    char diff[512];
    uint32_t mem_at;
    bool d = fj_both(f, f->image, o, diff, sizeof(diff), &mem_at) == FJ_DIFF;
    fprintf(stderr, "fuzz_jit: program %llu (%s) minimised: %s\n", (unsigned long long)seed,
            fj_mode_name[st->mode], d ? diff : "(no longer diverges)");
    fprintf(stderr, "  start: CS %04x SS %04x DS %04x ES %04x FS %04x GS %04x CPL %u CR0 %08x "
                    "EIP %08x EFLAGS %08x\n  regs:",
            st->cs, st->ss, st->ds, st->es, st->fs, st->gs, st->cpl, st->cr0, st->eip, st->eflags);
    for (int r = 0; r < 8; r++)
        fprintf(stderr, " %08x", st->regs[r]);
    fprintf(stderr, "\n  instructions left (linear address: bytes):\n");
    unsigned shown = 0;
    for (unsigned i = 0; i < g->ninsns && shown < 80; i++) {
        const struct fj_insn *in = &g->insns[i];
        bool nop = true;
        for (unsigned k = 0; k < in->len; k++)
            nop &= f->image[in->at + k] == 0x90;
        if (nop)
            continue;
        fprintf(stderr, "    %08x:", in->at);
        for (unsigned k = 0; k < in->len; k++)
            fprintf(stderr, " %02x", f->image[in->at + k]);
        fprintf(stderr, "\n");
        shown++;
    }
    static const char *const names[2] = { "careful", "JIT" };
    for (int e = 0; e < 2; e++) {
        fprintf(stderr, "  %s: exit %d after %llu: EIP %08x EFLAGS %08x regs", names[e],
                (int)o[e].why, (unsigned long long)o[e].icount, o[e].w[W_EIP], o[e].w[W_EFLAGS]);
        for (int r = 0; r < 8; r++)
            fprintf(stderr, " %08x", o[e].w[r]);
        fprintf(stderr, "\n");
    }
}
