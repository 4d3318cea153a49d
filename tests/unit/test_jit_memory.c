/*
 * test_jit_memory.c — the JIT's guest memory accesses as an engine of
 * cpu_exec (jit_engine suite, harness in jit_engine_harness.h): TLB
 * misses counted by -d jit, reads with paging off through the direct
 * window (memory.h) as the memory map and the A20 gate change under a
 * translated block, and the string instructions without REP inline
 * (gen_string.c) against the interpreter.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream (the harness's jit_stat) */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "memory/memory.h"
#include "tests/unit/jit_engine_harness.h"
#include "translate/translate.h"

/* Reads one dword from each of 64 pages from 1 MiB up, twice over,
 * summing them in EAX. */
static const uint8_t page_loop_code[] = {
    0xba, 0x02, 0x00, 0x00, 0x00, /* mov edx, 2 */
    0xbe, 0x00, 0x00, 0x10, 0x00, /* pass: mov esi, 100000h */
    0xb9, 0x40, 0x00, 0x00, 0x00, /* mov ecx, 64 */
    0x03, 0x06,                   /* page: add eax, [esi] */
    0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, /* add esi, 1000h */
    0x49,                         /* dec ecx */
    0x75, 0xf5,                   /* jnz page */
    0x4a,                         /* dec edx */
    0x75, 0xe8,                   /* jnz pass */
    0xf4,                         /* hlt */
};

/*
 * -d jit counts TLB misses (lookups that walked the page tables): a loop
 * that reads one dword from each of 64 pages, twice over, misses each
 * page once (the second pass finds all 64 in the TLB), and the code's
 * and stack's pages a few times more. (The harness attaches no TLB to
 * the memory map, so the direct window of paging-off reads is closed.)
 */
Test(jit_engine, jit_stats_count_tlb_misses)
{
    struct je m = je_new(CPU_ENGINE_JIT);
    je_code(&m, page_loop_code, sizeof(page_loop_code));
    je_run_to_halt(&m);
    unsigned long long n = jit_stat(m.cpu, "TLB misses");
    cr_assert_geq(n, 64ull, "%llu TLB misses for 64 pages", n);
    cr_assert_leq(n, 72ull, "%llu TLB misses for 64 pages read twice", n);
    je_free(&m);
}

/*
 * With paging off, reads at or above 1 MiB that fall in the direct
 * window (one run of plain RAM, memory.h) take no TLB lookup: the same
 * 64-page loop, with the TLB attached to the memory map as a board does,
 * misses only on the code's and the stack's pages.
 */
Test(jit_engine, paging_off_reads_take_the_direct_window)
{
    struct je m = je_new(CPU_ENGINE_JIT);
    cr_assert_eq(phys_attach_tlb(m.pm, &m.cpu->tlb), 0);
    cr_assert_eq(m.cpu->tlb.direct_span, JE_RAM - TLB_DIRECT_BASE - (TLB_DIRECT_MAX_ACCESS - 1));
    for (unsigned p = 0; p < 64; p++)
        m.ram[0x100000 + p * 0x1000] = (uint8_t)(p + 1);
    je_code(&m, page_loop_code, sizeof(page_loop_code));
    je_run_to_halt(&m);
    cr_assert_eq(m.cpu->regs[R_EAX], 2u * 64u * 65u / 2u, "sum %u", m.cpu->regs[R_EAX]);
    unsigned long long n = jit_stat(m.cpu, "TLB misses");
    cr_assert_leq(n, 8ull, "%llu TLB misses: the window's reads went through the TLB", n);
    je_free(&m);
}

/* The direct window's path runs straight on: the TLB lookup of a read
 * outside the window is out of line (gen_mem.c, a STUB_TLB), not jumped
 * over. Debian's boot to its first console line (the decompressor's
 * reads, paging off): 1.149 -> 1.143 s, medians of 12 interleaved. */
Test(jit_engine, direct_window_path_runs_straight_on)
{
    struct je m = je_new(CPU_ENGINE_JIT);
    cr_assert_eq(phys_attach_tlb(m.pm, &m.cpu->tlb), 0);
    for (unsigned p = 0; p < 64; p++)
        m.ram[0x100000 + p * 0x1000] = (uint8_t)(p + 1);
    je_code(&m, page_loop_code, sizeof(page_loop_code));
    je_run_collecting_host_code(&m);
    cr_assert_eq(m.cpu->regs[R_EAX], 2u * 64u * 65u / 2u, "sum %u", m.cpu->regs[R_EAX]);
    const char *text = je_host_text();
    char addend[64];
    snprintf(addend, sizeof(addend), "qword ptr [r15 + 0x%x]\n",
             (unsigned)offsetof(struct cpu, tlb.direct_addend));
    const char *at = strstr(text, addend);
    cr_assert_not_null(at, "no direct window (%s):\n%s", addend, text);
    cr_assert(strncmp(at + strlen(addend), "jmp ", 4), "a jump after the window's add:\n%s",
              text);
    je_free(&m);
}

static uint64_t window_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)opaque;
    (void)addr;
    return size == 4 ? 0x12345678u : 0x5a5a5a5au;
}

static void window_mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)opaque, (void)addr, (void)val, (void)size;
}

static uint32_t ram_dword(const uint8_t *ram, const uint32_t *at)
{
    return (uint32_t)ram[at[0]] | (uint32_t)ram[at[1]] << 8 | (uint32_t)ram[at[2]] << 16 |
           (uint32_t)ram[at[3]] << 24;
}

/*
 * The direct window follows the memory map while translated code keeps
 * running: a device mapped over RAM above 1 MiB is read as the device,
 * the A20 gate turned off makes 1 MiB alias 0, and reads that cross the
 * window's ends (into the hole past RAM, up from below 1 MiB) see what
 * each of their bytes is. The same block runs in all three states.
 */
Test(jit_engine, direct_window_follows_the_memory_map)
{
    static const uint8_t code[] = {
        0xa1, 0x00, 0x00, 0x20, 0x00,             /* mov eax, [200000h] */
        0x8b, 0x1d, 0xfe, 0xff, 0x3f, 0x00,       /* mov ebx, [3ffffeh]: RAM, hole */
        0x8b, 0x0d, 0xfe, 0xff, 0x0f, 0x00,       /* mov ecx, [0ffffeh]: across 1 MiB */
        0x8b, 0x15, 0x10, 0x00, 0x10, 0x00,       /* mov edx, [100010h] */
        0x8b, 0x35, 0xf0, 0xff, 0x3f, 0x00,       /* mov esi, [3ffff0h]: the last 16 */
        0xf4,                                     /* hlt */
    };
    static const struct mem_ops ops = { .read = window_mmio_read, .write = window_mmio_write };
    struct je m = je_new(CPU_ENGINE_JIT);
    cr_assert_eq(phys_attach_tlb(m.pm, &m.cpu->tlb), 0);
    for (uint32_t i = 0; i < JE_RAM; i++)
        m.ram[i] = (uint8_t)(i * 7u ^ (i >> 8) ^ (i >> 20) * 0x5bu); /* differs at 1 MiB apart */
    je_code(&m, code, sizeof(code));
    for (int stage = 0; stage < 3; stage++) {
        if (stage == 1) {
            cr_assert_eq(phys_map_mmio(m.pm, 0x200000, 0x1000, &ops, NULL), 0);
            cr_assert_eq(m.cpu->tlb.direct_span, 0x100000u - (TLB_DIRECT_MAX_ACCESS - 1));
        }
        if (stage == 2) {
            cr_assert_eq(phys_unmap(m.pm, 0x200000, 0x1000), 0);
            phys_set_a20(m.pm, false);
            cr_assert_eq(m.cpu->tlb.direct_span, 0u);
        }
        cpu_tlb_flush(m.cpu); /* as the board does on both changes */
        m.cpu->eip = JE_CODE;
        m.cpu->halted = 0;
        je_run_to_halt(&m);
        uint32_t a20 = stage == 2 ? ~0x100000u : ~0u;
        const uint32_t *r = m.cpu->regs;
        uint32_t at_eax[] = { 0x200000, 0x200001, 0x200002, 0x200003 };
        uint32_t want_eax = stage == 1 ? 0x12345678u : ram_dword(m.ram, at_eax);
        cr_assert_eq(r[R_EAX], want_eax, "stage %d: eax %08x", stage, r[R_EAX]);
        uint32_t want_ebx = (uint32_t)m.ram[0x3ffffe & a20] | (uint32_t)m.ram[0x3fffff & a20] << 8 |
                            0xffff0000u;
        cr_assert_eq(r[R_EBX], want_ebx, "stage %d: ebx %08x", stage, r[R_EBX]);
        uint32_t at_ecx[] = { 0xffffe, 0xfffff, 0x100000 & a20, 0x100001 & a20 };
        cr_assert_eq(r[R_ECX], ram_dword(m.ram, at_ecx), "stage %d: ecx %08x", stage, r[R_ECX]);
        uint32_t at_edx[] = { 0x100010 & a20, 0x100011 & a20, 0x100012 & a20, 0x100013 & a20 };
        cr_assert_eq(r[R_EDX], ram_dword(m.ram, at_edx), "stage %d: edx %08x", stage, r[R_EDX]);
        uint32_t at_esi[] = { 0x3ffff0 & a20, 0x3ffff1 & a20, 0x3ffff2 & a20, 0x3ffff3 & a20 };
        cr_assert_eq(r[R_ESI], ram_dword(m.ram, at_esi), "stage %d: esi %08x", stage, r[R_ESI]);
    }
    je_free(&m);
}

/*
 * String instructions without REP run inline (gen_string.c): a strcmp
 * loop (LODSB, SCASB), then MOVSD, STOSW, CMPSB, LODSD with an FS
 * override, SCASB and SCASW at pages' ends; once more with DF set (each
 * then takes the slow path). State and memory match the interpreter's.
 */
struct string_state {
    uint32_t regs[8], eflags;
    uint8_t mem[64];
    unsigned long long helpers;
};

static struct string_state string_run(int engine, bool df)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x60, 0x00, 0x00,       /* mov esi, 6000h */
        0xbf, 0x00, 0x61, 0x00, 0x00,       /* mov edi, 6100h */
        0xac,                               /* loop: lodsb */
        0xae,                               /* scasb */
        0x75, 0x04,                         /* jne done */
        0x84, 0xc0,                         /* test al, al */
        0x75, 0xf8,                         /* jne loop */
        0x89, 0xf3,                         /* done: mov ebx, esi */
        0x89, 0xf9,                         /* mov ecx, edi */
        0xbe, 0x10, 0x60, 0x00, 0x00,       /* mov esi, 6010h */
        0xbf, 0x20, 0x62, 0x00, 0x00,       /* mov edi, 6220h */
        0xa5,                               /* movsd */
        0x66, 0xab,                         /* stosw */
        0xa6,                               /* cmpsb */
        0x9c,                               /* pushfd */
        0x5a,                               /* pop edx */
        0x64, 0xad,                         /* lodsd fs: */
        0xbf, 0xff, 0x7f, 0x00, 0x00,       /* mov edi, 7FFFh */
        0xae,                               /* scasb: a page's last byte */
        0xbf, 0xfe, 0x8f, 0x00, 0x00,       /* mov edi, 8FFEh */
        0x66, 0xaf,                         /* scasw: 8FFE-8FFF */
        0xf4,                               /* hlt */
    };
    struct je m = je_new(engine);
    je_code(&m, code, sizeof(code));
    static const char a[] = "glass jit\0", b[] = "glass jix\0";
    memcpy(m.ram + 0x6000, a, sizeof(a));
    memcpy(m.ram + 0x6100, b, sizeof(b));
    for (unsigned i = 0; i < 32; i++)
        m.ram[0x6010 + i] = (uint8_t)(0x40 + i * 3);
    m.ram[0x7fff] = 0x5a;
    m.ram[0x8ffe] = 0x11, m.ram[0x8fff] = 0x22;
    if (df)
        m.cpu->eflags |= FL_DF;
    je_run_to_halt(&m);
    struct string_state s;
    memcpy(s.regs, m.cpu->regs, sizeof(s.regs));
    s.eflags = cpu_get_eflags(m.cpu);
    memcpy(s.mem, m.ram + 0x6200, sizeof(s.mem));
    s.helpers = engine == CPU_ENGINE_JIT ? jit_stat(m.cpu, "helper calls") : 0;
    je_free(&m);
    return s;
}

Test(jit_engine, string_ops_without_rep_run_inline)
{
    for (int df = 0; df < 2; df++) {
        struct string_state want = string_run(CPU_ENGINE_INTERP, df);
        struct string_state got = string_run(CPU_ENGINE_JIT, df);
        for (int r = 0; r < 8; r++)
            cr_assert_eq(got.regs[r], want.regs[r], "DF %d: reg %d %08x, interpreter %08x", df,
                         r, got.regs[r], want.regs[r]);
        cr_assert_eq(got.eflags, want.eflags, "DF %d: eflags %08x / %08x", df, got.eflags,
                     want.eflags);
        cr_assert_arr_eq(got.mem, want.mem, sizeof(want.mem), "DF %d: memory", df);
        /* PUSHFD, HLT and the slow paths of the first access to each new
         * page (TLB fills): 5; 26 when every string instruction was one. */
        if (!df)
            cr_assert_leq(got.helpers, 6ull, "%llu helper calls with DF clear", got.helpers);
    }
}

/* A loop that reads, read-modify-writes and pushes a new address each
 * time: the accesses of its ECX = k iteration are [100000h + 4k] (a
 * paging-off read in the direct window), [108000h + 4k] and the stack
 * slot 7000h - 4 (201 - k). */
static const uint8_t watched_loop[] = {
    0xbc, 0x00, 0x70, 0x00, 0x00,             /* mov esp, 7000h */
    0xb9, 0xc8, 0x00, 0x00, 0x00,             /* mov ecx, 200 */
    0x51,                                     /* l: push ecx */
    0x8b, 0x04, 0x8d, 0x00, 0x00, 0x10, 0x00, /* mov eax, [ecx*4 + 100000h] */
    0x01, 0x04, 0x8d, 0x00, 0x80, 0x10, 0x00, /* add [ecx*4 + 108000h], eax */
    0xe2, 0xef,                               /* loop l */
    0xf4,                                     /* hlt */
};

struct watched_stop {
    enum cpu_exit why;
    uint32_t eip, ecx, addr;
    uint64_t icount;
    uint8_t kind;
    unsigned long long blocks;
};

static struct watched_stop watched_run(int engine, uint32_t lin, enum cpu_watch_kind kind)
{
    struct je m = je_new(engine);
    cr_assert_eq(phys_attach_tlb(m.pm, &m.cpu->tlb), 0);
    for (unsigned k = 0; k <= 200; k++)
        memcpy(m.ram + 0x100000 + 4 * k, &k, 4);
    je_code(&m, watched_loop, sizeof(watched_loop));
    cr_assert_eq(cpu_dbg_watch_insert(m.cpu, lin, 4, kind), 0);
    struct watched_stop s = { .why = cpu_exec(m.cpu, 100000) };
    s.eip = m.cpu->eip;
    s.ecx = m.cpu->regs[R_ECX];
    s.icount = m.cpu->icount;
    s.kind = (uint8_t)m.cpu->dbg.stop.watch_kind;
    s.addr = m.cpu->dbg.stop.addr;
    if (engine == CPU_ENGINE_JIT)
        s.blocks = jit_stat(m.cpu, "blocks translated");
    /* On to the end: the same memory either way. */
    cr_assert_eq(cpu_dbg_watch_remove(m.cpu, lin, 4, kind), 0);
    je_run_to_halt(&m);
    for (uint32_t k = 1; k <= 200; k++) {
        uint32_t v;
        memcpy(&v, m.ram + 0x108000 + 4 * k, 4);
        cr_assert_eq(v, k, "engine %d: [%x] = %u", engine, 0x108000 + 4 * k, v);
    }
    je_free(&m);
    return s;
}

/*
 * A debugger's watchpoint stops translated code where the interpreter's
 * careful path stops: after the access, at the same instruction count,
 * with the JIT running its code meanwhile (the watched page's TLB
 * entries take no fast path; the direct window, which no entry guards,
 * is closed). Hit in the 150th and later iterations, once the loop runs
 * translated: a read in the direct window, a write through the TLB, a
 * push onto a stack page.
 */
Test(jit_engine, watchpoints_stop_translated_code_where_the_interpreter_stops)
{
    static const struct {
        uint32_t lin;
        enum cpu_watch_kind kind;
        uint32_t ecx;
    } cases[] = {
        { 0x100000 + 4 * 50, CPU_WATCH_READ, 50 },
        { 0x108000 + 4 * 60, CPU_WATCH_WRITE, 60 },
        { 0x7000 - 4 * (201 - 70), CPU_WATCH_WRITE, 70 },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct watched_stop want = watched_run(CPU_ENGINE_INTERP, cases[i].lin, cases[i].kind);
        struct watched_stop got = watched_run(CPU_ENGINE_JIT, cases[i].lin, cases[i].kind);
        cr_assert_eq(want.why, CPU_EXIT_DEBUG, "case %u", i);
        cr_assert_eq(want.ecx, cases[i].ecx, "case %u: ecx %u", i, want.ecx);
        cr_assert_eq(got.why, want.why, "case %u", i);
        cr_assert_eq(got.eip, want.eip, "case %u: eip %x / %x", i, got.eip, want.eip);
        cr_assert_eq(got.ecx, want.ecx, "case %u: ecx %u / %u", i, got.ecx, want.ecx);
        cr_assert_eq(got.icount, want.icount, "case %u: icount %llu / %llu", i,
                     (unsigned long long)got.icount, (unsigned long long)want.icount);
        cr_assert_eq(got.kind, want.kind, "case %u", i);
        cr_assert_eq(got.addr, want.addr, "case %u", i);
        cr_assert_gt(got.blocks, 0ull, "case %u: the JIT translated nothing", i);
    }
}
