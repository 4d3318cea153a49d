/*
 * test_jit.c — the JIT (translate/jit/) against the careful path, one
 * instruction or a small block at a time: each case runs the same bytes
 * from the same state under both engines and requires the same registers,
 * EIP, EFLAGS, instruction count and memory, and sometimes a value the
 * SDM gives. The regressions found by the fuzz tests (test_fuzz_jit.c,
 * test_fuzz_cpu.c) live here, minimised.
 *
 * The machine: flat 32-bit protected mode at CPL 0 without paging, 1 MiB
 * of RAM; every exception vector v goes to a HLT at JT_STUBS + v (so a
 * fault ends the run at JT_STUBS + v + 1), code at JT_CODE, data at
 * JT_DATA, the stack below JT_STACK. Skipped on hosts without the JIT.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/internal.h"
#include "memory/memory.h"
#include "translate/jit/jit.h"
#include "translate/translate.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/mman.h>

#include "translate/jit/x64.h"
#endif

#define JT_RAM_SIZE 0x100000u
#define JT_GDT 0x0800u
#define JT_IDT 0x1000u
#define JT_STUBS 0x2000u
#define JT_CODE 0x10000u
#define JT_DATA 0x20000u
#define JT_STACK 0x80000u

struct jt {
    uint8_t *ram;
    uint8_t *image; /* RAM as each run starts */
    struct phys_mem *pm;
    struct cpu *cpu;
    uint32_t ds_limit; /* DS's limit in the runs (flat by default) */
};

/* What one run left. */
struct jt_out {
    enum cpu_exit why;
    uint32_t regs[8], eip, eflags;
    uint64_t icount;
    uint8_t *ram;
};

static struct jt *jt_new(void)
{
    struct jt *t = calloc(1, sizeof(*t));
    cr_assert_not_null(t);
    t->ram = aligned_alloc(4096, JT_RAM_SIZE);
    t->image = calloc(1, JT_RAM_SIZE);
    t->pm = phys_new();
    cr_assert(t->ram && t->image && t->pm);
    cr_assert_eq(phys_map_ram(t->pm, 0, JT_RAM_SIZE, t->ram), 0);
    struct cpu_bus bus = { .mem = t->pm };
    t->cpu = cpu_new(&bus);
    cr_assert_not_null(t->cpu);
    t->cpu->log = NULL;
    t->cpu->jit_code_size = 1u << 20;
    t->ds_limit = 0xffffffffu;
    /* GDT: flat code 08h and data 10h. */
    static const uint32_t gdt[6] = { 0, 0, 0x0000ffff, 0x00cf9a00, 0x0000ffff, 0x00cf9200 };
    memcpy(t->image + JT_GDT, gdt, sizeof(gdt));
    /* Interrupt gates to the HLT stubs. */
    for (uint32_t v = 0; v < 32; v++) {
        uint32_t off = JT_STUBS + v, lo = (off & 0xffff) | (0x08u << 16);
        uint32_t hi = (off & 0xffff0000u) | 0x8e00u;
        memcpy(t->image + JT_IDT + 8 * v, &lo, 4);
        memcpy(t->image + JT_IDT + 8 * v + 4, &hi, 4);
    }
    memset(t->image + JT_STUBS, 0xf4, 32);
    return t;
}

static void jt_free(struct jt *t)
{
    cpu_exec_release(t->cpu);
    cpu_free(t->cpu);
    phys_free(t->pm);
    free(t->ram);
    free(t->image);
    free(t);
}

static void jt_code(struct jt *t, uint32_t at, const uint8_t *bytes, size_t n)
{
    memcpy(t->image + at, bytes, n);
}

/* Runs from JT_CODE with `regs` and the arithmetic flags `flags` under
 * one engine until a HLT (or `budget` instructions). */
static void jt_run(struct jt *t, bool jit, const uint32_t regs[8], uint32_t flags,
                   uint64_t budget, struct jt_out *out)
{
    struct cpu *cpu = t->cpu;
    /* Through the bus: the JIT drops what it translated from the
     * previous run's bytes. */
    phys_write_buf(t->pm, 0, t->image, JT_RAM_SIZE);
    cpu_reset(cpu);
    cpu->cr0 = CR0_PE | CR0_ET;
    cpu->gdtr = (struct dtr){ JT_GDT, 3 * 8 - 1 };
    cpu->idtr = (struct dtr){ JT_IDT, 32 * 8 - 1 };
    for (int s = 0; s < SEG_COUNT; s++) {
        uint32_t type = s == SEG_CS ? AR_T_CODE | AR_T_READABLE : AR_T_WRITABLE;
        cpu->seg[s] = (struct seg){ s == SEG_CS ? 0x08 : 0x10, 0, 0xffffffffu,
                                    AR_P | AR_S | AR_DB | AR_G | AR_T_ACCESSED | type };
    }
    cpu->seg[SEG_DS].limit = t->ds_limit;
    cpu->code32 = cpu->stack32 = 1;
    memcpy(cpu->regs, regs, sizeof(cpu->regs));
    cpu->regs[R_ESP] = JT_STACK;
    cpu->eflags = FL_FIXED1 | (flags & FL_ARITH);
    cpu->eip = JT_CODE;
    cpu_tlb_flush(cpu);
    cpu->no_block_cache = !jit;
    cpu->engine = jit ? CPU_ENGINE_JIT : CPU_ENGINE_INTERP;
    const uint64_t icount0 = cpu->icount;
    out->why = cpu_exec(cpu, budget);
    memcpy(out->regs, cpu->regs, sizeof(out->regs));
    out->eip = cpu->eip;
    out->eflags = cpu_get_eflags(cpu);
    out->icount = cpu->icount - icount0;
    out->ram = malloc(JT_RAM_SIZE);
    cr_assert_not_null(out->ram);
    memcpy(out->ram, t->ram, JT_RAM_SIZE);
}

/* Runs the case under both engines, requires them to agree, and leaves
 * the JIT's outcome in *jit_out (its RAM copy freed). */
static void jt_both(struct jt *t, const uint32_t regs[8], uint32_t flags, uint64_t budget,
                    struct jt_out *jit_out)
{
    struct jt_out o[2];
    for (int e = 0; e < 2; e++)
        jt_run(t, e == 1, regs, flags, budget, &o[e]);
    cr_expect_eq(o[1].why, o[0].why, "exit: careful %d, JIT %d", o[0].why, o[1].why);
    static const char *const names[8] = { "EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI" };
    for (int r = 0; r < 8; r++)
        cr_expect_eq(o[1].regs[r], o[0].regs[r], "%s: careful %08x, JIT %08x", names[r],
                     o[0].regs[r], o[1].regs[r]);
    cr_expect_eq(o[1].eip, o[0].eip, "EIP: careful %08x, JIT %08x", o[0].eip, o[1].eip);
    cr_expect_eq(o[1].eflags, o[0].eflags, "EFLAGS: careful %08x, JIT %08x", o[0].eflags,
                 o[1].eflags);
    cr_expect_eq(o[1].icount, o[0].icount, "instructions: careful %llu, JIT %llu",
                 (unsigned long long)o[0].icount, (unsigned long long)o[1].icount);
    uint32_t a = 0;
    while (a < JT_RAM_SIZE && o[0].ram[a] == o[1].ram[a])
        a++;
    cr_expect_eq(a, JT_RAM_SIZE, "memory differs first at %#x: careful %02x, JIT %02x", a,
                 a < JT_RAM_SIZE ? o[0].ram[a] : 0, a < JT_RAM_SIZE ? o[1].ram[a] : 0);
    free(o[0].ram);
    free(o[1].ram);
    o[1].ram = NULL;
    *jit_out = o[1];
}

static void jt_skip_without_jit(void)
{
    if (!cpu_exec_jit_available())
        cr_skip_test("no JIT on this host");
}

/* ------------------------------------------------------------------ */
/* Regressions                                                         */
/* ------------------------------------------------------------------ */

/*
 * Without a board clock the TSC counts retired instructions (cpu/state.c
 * cpu_tsc), and RDTSC in the middle of a block must see the instructions
 * of the block before it. Found by fuzz_cpu (the JIT pass, e.g. real
 * mode, GLASS_FUZZ_ONE=14229317746695216365: "EAX 3 vs 0"): generated
 * code counts by blocks and cpu->icount was only brought up to date when
 * the chain of blocks returned, so RDTSC read the count at the block's
 * entry. jit_exec_insn now makes icount exact around each helper.
 */
Test(jit, rdtsc_counts_the_instructions_before_it_in_its_block)
{
    jt_skip_without_jit();
    struct jt *t = jt_new();
    /* nop; nop; nop; rdtsc; hlt */
    static const uint8_t code[] = { 0x90, 0x90, 0x90, 0x0f, 0x31, 0xf4 };
    jt_code(t, JT_CODE, code, sizeof(code));
    uint32_t regs[8] = { 0 };
    struct jt_out o;
    jt_both(t, regs, 0, 100, &o);
    cr_expect_eq(o.regs[R_EAX], 3, "TSC after three instructions: %u", o.regs[R_EAX]);
    cr_expect_eq(o.why, CPU_EXIT_HALT);
    jt_free(t);
}

/* The same after a loop (chained blocks) and after a fault in the middle
 * of a block: the faulting instruction and the rest of its block are not
 * counted, what ran before it is, once. */
Test(jit, rdtsc_after_a_loop_and_after_a_fault)
{
    jt_skip_without_jit();
    struct jt *t = jt_new();
    static const uint8_t code[] = {
        0xb9, 0x05, 0x00, 0x00, 0x00,       /* mov ecx, 5 */
        0x49, 0x75, 0xfd,                   /* L: dec ecx; jnz L */
        0x90, 0x0f, 0x31,                   /* nop; rdtsc */
        0xa3, 0x00, 0x00, 0x02, 0x00,       /* mov [JT_DATA], eax */
        0x90, 0x90,                         /* nop; nop */
        /* mov ebx, ds:[ecx - 16]: ECX = 0, past DS's 1 MiB limit: #GP */
        0x3e, 0x8b, 0x99, 0xf0, 0xff, 0xff, 0xff,
        0xf4,
    };
    /* The #GP handler: nop; rdtsc; hlt. */
    static const uint8_t handler[] = { 0x90, 0x0f, 0x31, 0xf4 };
    jt_code(t, JT_CODE, code, sizeof(code));
    jt_code(t, 0x3000, handler, sizeof(handler));
    uint32_t lo = 0x3000 | (0x08u << 16), hi = 0x8e00u;
    memcpy(t->image + JT_IDT + 8 * EXC_GP, &lo, 4);
    memcpy(t->image + JT_IDT + 8 * EXC_GP + 4, &hi, 4);
    t->ds_limit = JT_RAM_SIZE - 1;
    uint32_t regs[8] = { 0 };
    struct jt_out o;
    jt_both(t, regs, 0, 200, &o);
    uint32_t first;
    memcpy(&first, t->ram + JT_DATA, 4);
    cr_expect_eq(o.why, CPU_EXIT_HALT);
    cr_expect_eq(o.eip, 0x3004, "EIP %08x: not in the #GP handler", o.eip);
    /* mov, 5 x (dec, jnz), nop = 12 before the first RDTSC */
    cr_expect_eq(first, 12, "first TSC %u", first);
    /* then rdtsc, mov, nop, nop, (the faulting mov not), the handler's nop */
    cr_expect_eq(o.regs[R_EAX], 17, "TSC in the handler %u", o.regs[R_EAX]);
    /* and the handler's rdtsc and hlt */
    cr_expect_eq(o.icount, 19, "%llu instructions", (unsigned long long)o.icount);
    jt_free(t);
}

/* ------------------------------------------------------------------ */
/* Flags the SDM leaves undefined: from the host, not from the JIT's   */
/* own arithmetic                                                      */
/* ------------------------------------------------------------------ */

#if defined(__x86_64__)
/* Runs the host's `insn` (on EAX, ECX, EBX) with the arithmetic flags
 * `flags` and returns the arithmetic flags it leaves. */
#define JT_HOST(name, insn)                                                                     \
    static uint32_t name(uint32_t flags, uint32_t eax, uint32_t ecx, uint32_t ebx)            \
    {                                                                                           \
        uint64_t fl = FL_FIXED1 | (flags & FL_ARITH), a = eax, c = ecx, b = ebx;               \
        __asm__ volatile("push %0\n\tpopfq\n\t" insn "\n\tpushfq\n\tpop %0"                   \
                         : "+r"(fl), "+a"(a), "+c"(c), "+b"(b)                                  \
                         :                                                                      \
                         : "rdx", "cc");                                                        \
        return (uint32_t)fl & FL_ARITH;                                                         \
    }
JT_HOST(jt_host_bts, "bts $14, %%ebx")
JT_HOST(jt_host_bt, "bt %%ecx, %%ebx")
JT_HOST(jt_host_mul, "mul %%ecx")
JT_HOST(jt_host_imul, "imul %%ecx, %%ebx")
#endif

/*
 * BT* leave OF SF AF PF undefined and MUL/IMUL SF ZF AF PF (SDM Vol. 2);
 * the JIT takes undefined flags from the host's instruction, which on
 * AMD parts leaves them as they were. Found by fuzz_jit (flat, GLASS_FUZZ_
 * JIT_ONE=3760203254631408111, minimised to BTS EBX, 0AEh; SETS AH in a
 * function: AH 1 on the careful path, 0 under the JIT): the JIT counted
 * them as written, so it did not load the guest's flags into the host's
 * first, and the host instruction passed on whatever the generated
 * code's own arithmetic (here the block prologue's budget SUB) had left.
 * Each case starts a block (the guest's flags in cpu->cc) with SF, ZF, AF
 * and PF set, the instruction, then SETcc/PUSHF reading them: the JIT
 * must give what the host gives from the guest's flags, and the careful
 * path the same on the flags the SDM defines.
 */
Test(jit, undefined_flags_of_bt_and_mul_come_from_the_host)
{
    jt_skip_without_jit();
#if defined(__x86_64__)
    static const struct {
        const char *name;
        uint8_t insn[4];
        unsigned len;
        uint32_t defined;
        uint32_t (*host)(uint32_t, uint32_t, uint32_t, uint32_t);
    } cases[] = {
        { "bts ebx, 14", { 0x0f, 0xba, 0xeb, 0x0e }, 4, FL_CF, jt_host_bts },
        { "bt ebx, ecx", { 0x0f, 0xa3, 0xcb }, 3, FL_CF, jt_host_bt },
        { "mul ecx", { 0xf7, 0xe1 }, 2, FL_CF | FL_OF, jt_host_mul },
        { "imul ebx, ecx", { 0x0f, 0xaf, 0xd9 }, 3, FL_CF | FL_OF, jt_host_imul },
    };
    static const uint32_t in_flags[3] = { FL_SF | FL_ZF | FL_AF | FL_PF,
                                          FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF | FL_OF, 0 };
    struct jt *t = jt_new();
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        for (unsigned f = 0; f < 3; f++) {
            /* insn; sets al; setz ah; setp dl; pushf; pop esi; hlt */
            uint8_t code[32];
            unsigned n = 0;
            memcpy(code, cases[k].insn, cases[k].len);
            n = cases[k].len;
            static const uint8_t tail[] = { 0x0f, 0x98, 0xc0, 0x0f, 0x94, 0xc4, 0x0f, 0x9a,
                                            0xc2, 0x9c, 0x5e, 0xf4 };
            memcpy(code + n, tail, sizeof(tail));
            n += sizeof(tail);
            jt_code(t, JT_CODE, code, n);
            uint32_t regs[8] = { 0x12345678, 0x9abc0021, 0, 0x00004321, 0, 0, 0, 0 };
            struct jt_out o;
            jt_both(t, regs, in_flags[f], 100, &o);
            uint32_t want = cases[k].host(in_flags[f], regs[R_EAX], regs[R_ECX], regs[R_EBX]);
            cr_expect_eq(o.regs[R_ESI] & FL_ARITH, want,
                         "%s with flags %03x: the JIT leaves %03x, the host %03x", cases[k].name,
                         in_flags[f], o.regs[R_ESI] & FL_ARITH, want);
        }
    }
    jt_free(t);
#endif
}

/* ------------------------------------------------------------------ */
/* The translation cache                                               */
/* ------------------------------------------------------------------ */

static int jt_ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* What is wrong with the direct links of the blocks in the cache (NULL:
 * nothing): every incoming link must come from a block in the cache whose
 * exit points back, and every linked exit at a block in the cache. */
static const char *jt_check_links(const struct jit *j)
{
    static char why[160];
    size_t n = 0, cap = 1024;
    uintptr_t *live = malloc(cap * sizeof(*live));
    cr_assert_not_null(live);
    for (unsigned h = 0; h < JIT_HASH_SIZE; h++)
        for (struct jit_tb *tb = j->hash[h]; tb; tb = tb->hash_next) {
            if (n == cap)
                live = realloc(live, (cap *= 2) * sizeof(*live));
            cr_assert_not_null(live);
            live[n++] = (uintptr_t)tb;
        }
    qsort(live, n, sizeof(*live), jt_ptr_cmp);
    const char *bad = NULL;
    for (size_t i = 0; i < n && !bad; i++) {
        const struct jit_tb *tb = (const struct jit_tb *)live[i];
        unsigned guard = 0;
        for (uintptr_t pair = tb->in_first; pair && !bad;) {
            uintptr_t from = pair & ~(uintptr_t)1;
            unsigned e = (unsigned)(pair & 1);
            if (!bsearch(&from, live, n, sizeof(*live), jt_ptr_cmp)) {
                snprintf(why, sizeof(why), "block %08x has a link from something not in the "
                         "cache", tb->eip);
                bad = why;
                break;
            }
            const struct jit_tb *f = (const struct jit_tb *)from;
            if (f->exit_dest[e] != tb) {
                snprintf(why, sizeof(why), "block %08x: a link from %08x whose exit is elsewhere",
                         tb->eip, f->eip);
                bad = why;
                break;
            }
            pair = f->in_next[e];
            if (++guard > 100000)
                bad = "a loop in a list of links";
        }
        for (unsigned e = 0; e < JIT_EXITS && !bad; e++) {
            uintptr_t to = (uintptr_t)tb->exit_dest[e];
            if (to && !bsearch(&to, live, n, sizeof(*live), jt_ptr_cmp)) {
                snprintf(why, sizeof(why), "block %08x is linked to something not in the cache",
                         tb->eip);
                bad = why;
            }
        }
    }
    free(live);
    return bad;
}

/*
 * A full cache is flushed while the dispatcher holds the direct exit it
 * is about to link (run.c's pending_from): that block is gone after the
 * flush, and linking it (to the first new block, which its exit leads
 * to) left a link from freed metadata that later invalidations walked.
 * Found by fuzz_jit (flat, GLASS_FUZZ_JIT_ONE=3760203254631408111, while
 * minimising: a SIGSEGV in unlink_exit from jit_invalidate_page). Runs a
 * chain of 20000 one-instruction blocks (INC EAX; JMP to the next), so
 * that the 1 MiB cache fills and is flushed several times, each time
 * between an exit and the link of its target; then checks the links.
 */
Test(jit, a_flush_forgets_the_exit_it_was_about_to_link)
{
    jt_skip_without_jit();
    struct jt *t = jt_new();
    enum { BLOCKS = 20000 };
    for (unsigned i = 0; i < BLOCKS; i++) {
        static const uint8_t blk[3] = { 0x40, 0xeb, 0x00 }; /* inc eax; jmp $+2 */
        jt_code(t, JT_CODE + 3 * i, blk, 3);
    }
    const uint8_t hlt = 0xf4;
    jt_code(t, JT_CODE + 3 * BLOCKS, &hlt, 1);
    uint32_t regs[8] = { 0 };
    struct jt_out o;
    jt_both(t, regs, 0, 3 * BLOCKS, &o);
    cr_expect_eq(o.regs[R_EAX], BLOCKS);
    const struct jit *j = t->cpu->jit;
    cr_assert_not_null(j);
    cr_expect_geq(j->stats.flushes, 2, "the cache was flushed %llu times",
                  (unsigned long long)j->stats.flushes);
    const char *bad = jt_check_links(j);
    cr_expect_null(bad, "%s", bad);
    jt_free(t);
}

/* ------------------------------------------------------------------ */
/* The flag image the generated code keeps in cpu->cc                  */
/* ------------------------------------------------------------------ */

#if defined(__x86_64__)
/* Host code: RFLAGS = rdi, x64_store_flags to [rsi], RFLAGS = rdx,
 * x64_load_flags from [rsi], then RAX (given as rcx) to [rsi + 8] and
 * the RFLAGS it left returned. */
typedef uint64_t jt_flag_trip_fn(uint64_t before, void *image, uint64_t scramble, uint64_t rax);

static void jt_flag_trip_emit(uint8_t *buf)
{
    struct x64_asm a;
    x64_init(&a, buf, 4096);
    x64_mov_rm_reg(&a, 8, x64_r(X_RAX), X_RCX);
    x64_push(&a, X_RDI);
    x64_popfq(&a);
    x64_store_flags(&a, x64_mem(X_RSI, 0), X_R10);
    x64_push(&a, X_RDX);
    x64_popfq(&a);
    x64_load_flags(&a, x64_mem(X_RSI, 0), X_R11);
    x64_mov_rm_reg(&a, 8, x64_m(x64_mem(X_RSI, 8)), X_RAX);
    x64_pushfq(&a);
    x64_pop(&a, X_RAX);
    x64_ret(&a);
}
#endif

/*
 * Between blocks and around helpers the guest's flags are in cpu->cc as
 * CC_HOST's image (LAHF's and SETO's bytes, stored without shifting);
 * the generated code stores and loads it, the C side reads it. Every one
 * of the 64 combinations of the six flags goes host -> image -> host
 * with all the others scrambled in between, RAX untouched, and the image
 * reads back through cpu/flags.c as the same bits: with LAHF/SAHF and in
 * the PUSHF/POPF forms for hosts without them.
 */
Test(jit, flag_image_round_trip_through_store_and_load)
{
    jt_skip_without_jit();
#if defined(__x86_64__)
    static const uint32_t six[6] = { FL_CF, FL_PF, FL_AF, FL_ZF, FL_SF, FL_OF };
    unsigned a_, b_, c_ = 0, d_;
    bool has_lahf = __get_cpuid(0x80000001u, &a_, &b_, &c_, &d_) && (c_ & 1);
    for (int use_lahf = 0; use_lahf <= (int)has_lahf; use_lahf++) {
        uint8_t *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        cr_assert(buf != MAP_FAILED);
        x64_lahf_override(use_lahf);
        jt_flag_trip_emit(buf);
        x64_lahf_override(-1);
        cr_assert_eq(mprotect(buf, 4096, PROT_READ | PROT_EXEC), 0);
        jt_flag_trip_fn *fn;
        void *code = buf;
        memcpy(&fn, &code, sizeof(fn));
        for (unsigned combo = 0; combo < 64; combo++) {
            uint32_t bits = 0;
            for (unsigned k = 0; k < 6; k++)
                if (combo & (1u << k))
                    bits |= six[k];
            uint64_t image[2] = { 0x5a5a5a5a5a5a5a5aull, 0 };
            uint64_t rax = 0x0123456789abcdefull ^ combo;
            uint64_t after = fn(FL_FIXED1 | bits, image, FL_FIXED1 | (~bits & FL_ARITH), rax);
            cr_assert_eq(after & FL_ARITH, bits, "lahf %d: bits %03x came back as %03x",
                         use_lahf, bits, (unsigned)(after & FL_ARITH));
            cr_assert_eq(image[1], rax, "lahf %d: RAX not kept", use_lahf);
            cr_assert_eq(cc_host_bits((uint32_t)image[0]), bits, "lahf %d: image %08x",
                         use_lahf, (unsigned)image[0]);
        }
        munmap(buf, 4096);
    }
#endif
}

#if defined(__x86_64__)
#include <sys/resource.h>

static long minor_faults(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_minflt;
}

/* Touches every page of [p, p + len): a write, or a read as a fetch
 * through the executable view would make. Not instrumented: under ASan
 * each first look at a page's shadow memory is a page fault of its own. */
__attribute__((no_sanitize_address)) static void touch_pages(volatile uint8_t *p, size_t len, bool write)
{
    for (size_t off = 0; off < len; off += 4096) {
        if (write)
            p[off] = 0xcc;
        else
            (void)p[off];
    }
}
#endif

/*
 * The translation cache and the block records are mapped ahead of the
 * translator a chunk at a time (codebuf.c): the pages it then touches
 * fault no more, in either view. Without it each page faulted on its
 * write and again on its first fetch (Debian's boot: 12 000 of its 40 000
 * host page faults).
 */
Test(jit, cache_pages_are_mapped_ahead_of_the_translator)
{
    jt_skip_without_jit();
#if defined(__x86_64__) && defined(MADV_POPULATE_WRITE)
    uint8_t *probe = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(probe != MAP_FAILED);
    bool host_can = madvise(probe, 4096, MADV_POPULATE_WRITE) == 0;
    munmap(probe, 4096);
    if (!host_can)
        cr_skip_test("the host kernel has no MADV_POPULATE_WRITE (Linux < 5.14)");
    const size_t size = 4 * JIT_PREFAULT_CHUNK, used = JIT_PREFAULT_CHUNK + 12345;
    struct jit_code c;
    cr_assert_eq(jit_code_map(&c, size), 0);
    jit_code_prefault(&c, used);
    cr_assert_eq(c.ready, 2 * JIT_PREFAULT_CHUNK, "whole chunks, up to the one holding the end");
    long before = minor_faults();
    touch_pages(c.rw, c.ready, true);
    touch_pages(c.rx, c.ready, false);
    long faults = minor_faults() - before;
    cr_assert_lt(faults, 8, "%ld faults in %zu prefaulted pages of two views", faults,
                 2 * c.ready / 4096);
    /* Past the prefaulted part, the pages still fault in one by one: the
     * count above is not a host that never faults. */
    before = minor_faults();
    touch_pages(c.rw + c.ready, JIT_PREFAULT_CHUNK, true);
    cr_assert_geq(minor_faults() - before, (long)(JIT_PREFAULT_CHUNK / 4096) / 2);
    jit_code_prefault(&c, c.ready + 1); /* asks again only past the end */
    cr_assert_eq(c.ready, 3 * JIT_PREFAULT_CHUNK);
    jit_code_unmap(&c);

    size_t ready = 0;
    uint8_t *meta = jit_meta_map(size);
    cr_assert_not_null(meta);
    jit_meta_prefault(meta, size, &ready, 100);
    cr_assert_eq(ready, JIT_PREFAULT_CHUNK);
    before = minor_faults();
    touch_pages(meta, ready, true);
    faults = minor_faults() - before;
    cr_assert_lt(faults, 8, "%ld faults in the records' prefaulted chunk", faults);
    jit_meta_prefault(meta, size, &ready, 10 * size);
    cr_assert_eq(ready, size, "never past the end");
    jit_meta_unmap(meta, size);
#endif
}
