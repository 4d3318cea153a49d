/*
 * run.c — running a program under both engines and comparing them
 * (test_fuzz_jit.c): the careful pass following undefined flags (fj_trace),
 * the end state of a run, the machine set to a program's start state, and
 * the verdict on a program (fj_both).
 */
#include <stdio.h>
#include <string.h>

#include "../fuzz_undef.h"
#include "fuzz_jit.h"
#include "translate/translate.h"

/* ------------------------------------------------------------------ */
/* Running and comparing                                               */
/* ------------------------------------------------------------------ */

/*
 * Before each instruction of the careful pass (while undefined flags are
 * tolerated): follows which flags hold values the engines may set
 * differently (fuzz_undef.h) and notes whether anything saw one: an
 * instruction reading it, an exception or INT delivered meanwhile (its
 * frame holds EFLAGS: the handler's code being entered tells), or the end
 * of the run. The generator means never to let that happen; a minimised
 * case must not either.
 */
void fj_trace(void *opaque, struct cpu *cpu, const uint8_t *bytes, unsigned len)
{
    struct fj *f = opaque;
    if (!f->track || !cpu->no_block_cache)
        return;
    uint32_t lin = cpu->seg[SEG_CS].base + cpu->eip;
    bool in_handler = lin >= FJ_HANDLER && lin < FJ_HANDLER + 0x1000;
    /* What the previous instruction did to the flags counts once it has
     * completed: not if it faulted (the handler's entry comes next). An
     * INT completes, but changes no arithmetic flag. */
    bool entered = in_handler && !f->in_handler;
    if (!entered)
        f->undef = (f->undef & ~f->last_w) | f->last_e;
    f->last_w = f->last_e = 0;
    if (entered && f->undef) {
        if (!f->seen && f->verbose)
            fprintf(stderr, "undef %x seen by an exception (at %x, prev %x)\n", f->undef, lin, f->prev_lin);
        f->seen = true;
    }
    f->in_handler = in_handler;
    struct insn in;
    if (decode_insn(&in, bytes, len, cpu->code32) <= 0)
        return;
    uint32_t r, w, e = fuzz_undef_effect(&in, cpu);
    fuzz_flags_rw(&in, cpu, &r, &w);
    /* The generator's PUSHF; AND [ESP], ~undefined; POPF puts them in
     * memory and clears them there before anything else can look. */
    if (f->pushf_pending) {
        bool cleared = in.op == OP_AND && in.dst.kind == OPND_MEM && in.ea_base == R_ESP &&
                       in.ea_index == EA_NO_REG && in.disp == 0 && in.src.kind == OPND_IMM &&
                       !(in.imm & f->pushf_pending);
        if (!cleared) {
            if (!f->seen && f->verbose)
                fprintf(stderr, "undef %x pushed at %x\n", f->pushf_pending, f->prev_lin);
            f->seen = true;
        }
        f->pushf_pending = 0;
    }
    if (in.op == OP_PUSHF && (r & f->undef)) {
        f->pushf_pending = f->undef;
        r = 0;
    }
    if ((r & f->undef) || (e & FUZZ_UNDEF_RESULT)) {
        if (!f->seen && f->verbose)
            fprintf(stderr, "undef %x seen at %x (op %u, prev %x)\n", f->undef, lin, in.op, f->prev_lin);
        f->seen = true;
    }
    f->last_w = w;
    f->last_e = e & FL_ARITH;
    f->prev_lin = lin;
}

static const char *fj_word_name(unsigned i, char *buf, size_t size)
{
    static const char *const regs[8] = { "EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI" };
    static const char *const segs[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    static const char *const segf[4] = { "sel", "base", "limit", "ar" };
    static const char *const sys[14] = { "CR0", "CR2", "CR3", "CR4", "GDTR.base", "GDTR.limit",
                                         "IDTR.base", "IDTR.limit", "LDTR", "TR", "CPL",
                                         "halted", "code32", "stack32" };
    static const char *const fpu[4] = { "FPU CW", "FPU SW", "FPU TW", "FPU TOP" };
    static const char *const dev[3] = { "device hash lo", "device hash hi", "device accesses" };
    if (i < W_EIP)
        snprintf(buf, size, "%s", regs[i]);
    else if (i == W_EIP)
        snprintf(buf, size, "EIP");
    else if (i == W_EFLAGS)
        snprintf(buf, size, "EFLAGS");
    else if (i < W_SYS)
        snprintf(buf, size, "%s.%s", segs[(i - W_SEGS) / 4], segf[(i - W_SEGS) % 4]);
    else if (i < W_FPU)
        snprintf(buf, size, "%s", sys[i - W_SYS]);
    else if (i < W_FPU + 4)
        snprintf(buf, size, "%s", fpu[i - W_FPU]);
    else if (i < W_DEV)
        snprintf(buf, size, "ST%u word %u", (i - W_FPU - 4) / 3, (i - W_FPU - 4) % 3);
    else
        snprintf(buf, size, "%s", dev[i - W_DEV]);
    return buf;
}

static void fj_snapshot(struct fj *f, struct fj_out *o)
{
    struct cpu *cpu = f->cpu;
    uint32_t *w = o->w;
    memcpy(w + W_REGS, cpu->regs, 32);
    w[W_EIP] = cpu->eip;
    w[W_EFLAGS] = cpu_get_eflags(cpu);
    for (int s = 0; s < SEG_COUNT; s++) {
        const struct seg *sg = &cpu->seg[s];
        uint32_t *v = w + W_SEGS + 4 * s;
        v[0] = sg->sel, v[1] = sg->base, v[2] = sg->limit, v[3] = sg->ar;
    }
    uint32_t sys[14] = { cpu->cr0, cpu->cr2, cpu->cr3, cpu->cr4, cpu->gdtr.base, cpu->gdtr.limit,
                         cpu->idtr.base, cpu->idtr.limit, cpu->ldtr.sel, cpu->tr.sel, cpu->cpl,
                         cpu->halted, cpu->code32, cpu->stack32 };
    memcpy(w + W_SYS, sys, sizeof(sys));
    w[W_FPU] = cpu->fpu.cw, w[W_FPU + 1] = cpu->fpu.sw, w[W_FPU + 2] = cpu->fpu.tag_empty;
    w[W_FPU + 3] = cpu->fpu.top;
    for (int i = 0; i < 8; i++) {
        w[W_FPU + 4 + 3 * i] = (uint32_t)cpu->fpu.st[i].sig;
        w[W_FPU + 5 + 3 * i] = (uint32_t)(cpu->fpu.st[i].sig >> 32);
        w[W_FPU + 6 + 3 * i] = cpu->fpu.st[i].sign_exp;
    }
    w[W_DEV] = (uint32_t)f->dev.hash, w[W_DEV + 1] = (uint32_t)(f->dev.hash >> 32);
    w[W_DEV + 2] = f->dev.count;
}

/* RAM := `img`, page by page where they differ (through the bus, so the
 * JIT drops what it translated from changed pages and keeps the rest:
 * the handler's blocks live on from program to program). */
static void fj_load(struct fj *f, const uint8_t *img)
{
    for (uint32_t p = 0; p < FJ_RAM_SIZE; p += 4096)
        if (memcmp(f->ram + p, img + p, 4096) != 0)
            phys_write_buf(f->pm, p, img + p, 4096);
}

/* Runs the program in `img` from f->st: careful path or JIT. */
static void fj_run(struct fj *f, const uint8_t *img, bool jit, struct fj_out *o)
{
    struct cpu *cpu = f->cpu;
    const struct fj_start *st = &f->st;
    fj_load(f, img);
    memset(&f->dev, 0, sizeof(f->dev));
    cpu_reset(cpu);
    cpu->gdtr = (struct dtr){ FJ_GDT, FJ_GDT_ENTRIES * 8 - 1 };
    cpu->idtr = (struct dtr){ FJ_IDT, 256 * 8 - 1 };
    cpu->tr = fj_desc_seg(SEL_TSS);
    cpu->cr0 = st->cr0;
    cpu->cr3 = FJ_PD;
    cpu->cr4 = 0;
    const uint16_t sels[SEG_COUNT] = { st->es, st->cs, st->ss, st->ds, st->fs, st->gs };
    for (int s = 0; s < SEG_COUNT; s++) {
        if ((sels[s] & 0xfffc) == 0) {
            cpu->seg[s] = (struct seg){ sels[s], 0, 0, 0 };
            continue;
        }
        cpu->seg[s] = fj_desc_seg(sels[s]);
    }
    cpu->cpl = st->cpl;
    cpu->code32 = (cpu->seg[SEG_CS].ar & AR_DB) != 0;
    cpu->stack32 = (cpu->seg[SEG_SS].ar & AR_DB) != 0;
    memcpy(cpu->regs, st->regs, 32);
    cpu->eflags = st->eflags;
    cpu->eip = st->eip;
    cpu_tlb_flush(cpu);
    /* The careful path with the JIT as the engine (no_block_cache sends
     * every instruction to interp_step): the JIT's caches stay, and it
     * sees the careful pass's stores into code like any others. */
    cpu->engine = CPU_ENGINE_JIT;
    cpu->no_block_cache = !jit;
    f->undef = f->pushf_pending = f->last_w = f->last_e = 0;
    f->seen = f->in_handler = false;
    if (!jit && f->track)
        cpu->log_mask |= LOG_EXEC;
    else
        cpu->log_mask &= ~LOG_EXEC;
    const uint64_t icount0 = cpu->icount;
    o->why = cpu_exec(cpu, f->budget);
    o->icount = cpu->icount - icount0;
    f->undef = (f->undef & ~f->last_w) | f->last_e; /* the last instruction (HLT) */
    if (f->undef) {
        if (!f->seen && f->verbose)
            fprintf(stderr, "undef %x seen at the end (prev %x)\n", f->undef, f->prev_lin);
        f->seen = true; /* the end state compared */
    }
    fj_snapshot(f, o);
}

/* What differs between the two runs ("" if nothing), the first memory
 * difference in *mem_at (or FJ_RAM_SIZE). */
static bool fj_differ(struct fj *f, const struct fj_out *a, const struct fj_out *b, char *buf,
                      size_t size, uint32_t *mem_at)
{
    size_t n = 0;
    buf[0] = 0;
    unsigned shown = 0;
    if (a->why != b->why)
        n += (size_t)snprintf(buf, size, "exit %d vs %d, ", (int)a->why, (int)b->why);
    else if (a->why != CPU_EXIT_BUDGET && a->icount != b->icount)
        /* Ended at the same point, both: the same instructions retired
         * (a budget's end may come up to a block later under the JIT). */
        n += (size_t)snprintf(buf, size, "%llu vs %llu instructions, ",
                              (unsigned long long)a->icount, (unsigned long long)b->icount);
    for (unsigned i = 0; i < W_COUNT && n < size; i++) {
        if (a->w[i] == b->w[i] || shown >= 8)
            continue;
        char name[32];
        n += (size_t)snprintf(buf + n, size - n, "%s %x vs %x, ", fj_word_name(i, name, sizeof(name)),
                              a->w[i], b->w[i]);
        shown++;
    }
    uint32_t at = 0;
    while (at < FJ_RAM_SIZE && f->after[at] == f->ram[at])
        at++;
    *mem_at = at;
    if (at < FJ_RAM_SIZE && n < size)
        n += (size_t)snprintf(buf + n, size - n, "memory at %#x: %02x vs %02x, ", at, f->after[at],
                              f->ram[at]);
    if (n >= 2 && n < size)
        buf[n - 2] = 0;
    return n > 0;
}

static bool fj_exact(enum cpu_exit why)
{
    return why == CPU_EXIT_HALT || why == CPU_EXIT_SHUTDOWN;
}

/* Runs `img` under both engines: FJ_DIFF (with what differs in buf) if
 * they both ended exactly and disagree; FJ_TAINTED if the careful pass
 * let an undefined flag be seen (then they may disagree rightly). */
enum fj_verdict fj_both(struct fj *f, const uint8_t *img, struct fj_out o[2], char *buf,
                        size_t size, uint32_t *mem_at)
{
    fj_run(f, img, false, &o[0]);
    const bool seen = f->seen;
    memcpy(f->after, f->ram, FJ_RAM_SIZE);
    fj_run(f, img, true, &o[1]);
    buf[0] = 0;
    *mem_at = FJ_RAM_SIZE;
    if (!fj_exact(o[0].why) || !fj_exact(o[1].why)) {
        /* The careful path ran out of budget (the JIT then too, or it
         * ended: a budget is not exact, a block may overrun it). */
        if (o[0].why != CPU_EXIT_BUDGET && o[1].why == CPU_EXIT_BUDGET) {
            snprintf(buf, size, "the JIT ran out of budget, the careful path did not");
            return seen ? FJ_TAINTED : FJ_DIFF;
        }
        return FJ_INEXACT;
    }
    if (!fj_differ(f, &o[0], &o[1], buf, size, mem_at))
        return FJ_SAME;
    return seen ? FJ_TAINTED : FJ_DIFF;
}
