/*
 * test_jit_engine.c — the JIT as an engine of cpu_exec: small programs on
 * a bare CPU in flat 32-bit protected mode, run under the JIT and (where
 * it says) under the interpreter too. What the difftest and the fuzzers
 * cannot see well: a REP string instruction that yields mid-way inside a
 * block, self-modifying code in the running block, the run budget,
 * translation-cache flushes, the traces (-d exec, in_asm, out_asm) and
 * the W^X mapping of the cache. The x87 programs are in test_jit_x87.c;
 * stack frames, the frame window and unpaired calls and returns in
 * test_jit_frames.c; guest memory through the TLB and the direct window
 * and the string instructions in test_jit_memory.c; real-mode and
 * segmented code in test_jit_segmented.c.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "memory/memory.h"
#include "tests/unit/jit_engine_harness.h"
#include "translate/translate.h"

/* REP MOVSD of 100000 dwords runs in chunks (the handler yields with EIP
 * at the instruction); the instructions after it in the same block must
 * wait for the last chunk. */
Test(jit_engine, rep_string_yield_inside_a_block)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x00, 0x10, 0x00, /* mov esi, 0x100000 */
        0xbf, 0x00, 0x00, 0x20, 0x00, /* mov edi, 0x200000 */
        0xb9, 0xa0, 0x86, 0x01, 0x00, /* mov ecx, 100000 */
        0xfc,                         /* cld */
        0xf3, 0xa5,                   /* rep movsd */
        0xb8, 0x01, 0x00, 0x00, 0x00, /* mov eax, 1 */
        0xf4,                         /* hlt */
    };
    struct je m = je_new(CPU_ENGINE_JIT);
    for (uint32_t i = 0; i < 400000; i++)
        m.ram[0x100000 + i] = (uint8_t)(i * 7);
    je_code(&m, code, sizeof(code));
    je_run_to_halt(&m);
    cr_assert_eq(m.cpu->regs[R_ECX], 0u);
    cr_assert_eq(m.cpu->regs[R_EDI], 0x200000u + 400000u);
    cr_assert_eq(m.cpu->regs[R_EAX], 1u);
    cr_assert(memcmp(m.ram + 0x100000, m.ram + 0x200000, 400000) == 0);
    je_free(&m);
}

/* A store into the running block's own next instruction: the new bytes
 * run (SDM Vol. 3A 11.6), under both engines. */
static uint32_t smc_result(int engine)
{
    static const uint8_t code[] = {
        0xc6, 0x05, 0x0b, 0x00, 0x01, 0x00, 0x07, /* mov byte [0x1000b], 7 */
        0x90, 0x90, 0x90,                         /* nops */
        0xb0, 0x05,                               /* mov al, 5 (imm at 0x1000b) */
        0xf4,                                     /* hlt */
    };
    struct je m = je_new(engine);
    je_code(&m, code, sizeof(code));
    je_run_to_halt(&m);
    uint32_t al = m.cpu->regs[R_EAX] & 0xff;
    je_free(&m);
    return al;
}

Test(jit_engine, store_into_the_running_block)
{
    cr_assert_eq(smc_result(CPU_ENGINE_INTERP), 7u);
    cr_assert_eq(smc_result(CPU_ENGINE_JIT), 7u);
}

/* An endless loop returns on the budget, overrunning it by less than one
 * block, with every instruction counted. */
Test(jit_engine, budget_ends_a_chain)
{
    static const uint8_t code[] = {
        0x40,       /* inc eax */
        0x41,       /* inc ecx */
        0xeb, 0xfc, /* jmp back */
    };
    struct je m = je_new(CPU_ENGINE_JIT);
    je_code(&m, code, sizeof(code));
    uint64_t before = m.cpu->icount;
    cr_assert_eq(cpu_exec(m.cpu, 30001), CPU_EXIT_BUDGET);
    uint64_t ran = m.cpu->icount - before;
    cr_assert(ran >= 30001 && ran < 30001 + 3, "ran %llu", (unsigned long long)ran);
    cr_assert_eq(m.cpu->regs[R_EAX] + m.cpu->regs[R_ECX], (uint32_t)(ran / 3 * 2 + ran % 3));
    je_free(&m);
}

/* More code than a 1 MiB cache holds: the cache is flushed whole and the
 * program goes on right (4096 different blocks, each adding its index). */
Test(jit_engine, cache_flush_when_full)
{
    struct je m = je_new(CPU_ENGINE_JIT);
    uint8_t *p = m.ram + JE_CODE;
    uint32_t want = 0;
    for (uint32_t i = 0; i < 4096; i++) {
        /* add eax, imm32; jmp +0 (ends the block) */
        p[0] = 0x05;
        memcpy(p + 1, &i, 4);
        p[5] = 0xeb;
        p[6] = 0x00;
        p += 7;
        want += i;
    }
    *p = 0xf4;
    for (int round = 0; round < 3; round++) {
        m.cpu->eip = JE_CODE;
        m.cpu->regs[R_EAX] = 0;
        m.cpu->halted = 0;
        je_run_to_halt(&m);
        cr_assert_eq(m.cpu->regs[R_EAX], want);
    }
    FILE *f = tmpfile();
    cpu_exec_print_stats(m.cpu, f);
    rewind(f);
    char text[512] = { 0 };
    cr_assert(fread(text, 1, sizeof(text) - 1, f) > 0);
    fclose(f);
    unsigned long long blocks, flushes;
    const char *b = strstr(text, "jit: ");
    cr_assert(b && sscanf(b, "jit: %llu blocks", &blocks) == 1, "%s", text);
    const char *fl = strstr(text, "bytes of code, ");
    cr_assert(fl && sscanf(fl, "bytes of code, %llu cache flushes", &flushes) == 1, "%s", text);
    cr_assert(flushes >= 1, "%s", text);
    je_free(&m);
}

/* The cache is never writable and executable at one address. */
Test(jit_engine, cache_is_never_writable_and_executable)
{
    static const uint8_t code[] = { 0xf4 };
    struct je m = je_new(CPU_ENGINE_JIT);
    je_code(&m, code, sizeof(code));
    je_run_to_halt(&m);
    FILE *maps = fopen("/proc/self/maps", "r");
    cr_assert_not_null(maps);
    char line[512];
    bool seen_x = false;
    while (fgets(line, sizeof(line), maps)) {
        if (!strstr(line, "glass-jit"))
            continue;
        char perms[8];
        cr_assert_eq(sscanf(line, "%*s %7s", perms), 1);
        cr_assert(!(perms[1] == 'w' && perms[2] == 'x'), "W+X mapping: %s", line);
        seen_x |= perms[2] == 'x';
    }
    fclose(maps);
    cr_assert(seen_x, "no executable view of the cache");
    je_free(&m);
}

/* -d exec under the JIT: one line per block entered; -d in_asm/out_asm:
 * the guest block and the host code, through the trace_code callback. */
static char traced[4096];
static void trace_code_to_buf(void *opaque, const char *heading, uint64_t addr,
                              const uint8_t *bytes, size_t len, unsigned bits)
{
    (void)opaque, (void)addr, (void)bytes;
    size_t n = strlen(traced);
    snprintf(traced + n, sizeof(traced) - n, "%s [%zu bytes, %u-bit]\n", heading, len, bits);
}

Test(jit_engine, traces)
{
    static const uint8_t code[] = {
        0xb8, 0x02, 0x00, 0x00, 0x00, /* mov eax, 2 */
        0xeb, 0x00,                   /* jmp +0 */
        0xf4,                         /* hlt */
    };
    struct je m = je_new(CPU_ENGINE_JIT);
    je_code(&m, code, sizeof(code));
    FILE *log = tmpfile();
    m.cpu->log = log;
    m.cpu->log_mask = LOG_EXEC | LOG_IN_ASM | LOG_OUT_ASM;
    m.cpu->trace_code = trace_code_to_buf;
    traced[0] = '\0';
    je_run_to_halt(&m);
    rewind(log);
    char text[1024] = { 0 };
    cr_assert(fread(text, 1, sizeof(text) - 1, log) > 0);
    fclose(log);
    cr_assert(strstr(text, "exec: 0008:00010000  block of 2 instructions"), "%s", text);
    cr_assert(strstr(text, "exec: 0008:00010007  block of 1 instructions"), "%s", text);
    cr_assert(strstr(traced, "IN: 0008:00010000 (linear 00010000, physical 000010000"), "%s",
              traced);
    cr_assert(strstr(traced, "[7 bytes, 32-bit]"), "%s", traced);
    cr_assert(strstr(traced, "OUT: "), "%s", traced);
    cr_assert(strstr(traced, "64-bit]"), "%s", traced);
    je_free(&m);
}

/* A block with several [EBP + disp] operands: its prologue proves them in
 * one page (one lookup for all); with EBP placed so that they straddle a
 * page boundary, the block's variant without the proof runs instead.
 * Both give the interpreter's result. */
static uint32_t frame_sum(int engine, uint32_t ebp)
{
    static const uint8_t code[] = {
        0x8b, 0x45, 0xf8,       /* mov eax, [ebp-8] */
        0x03, 0x45, 0x08,       /* add eax, [ebp+8] */
        0x89, 0x45, 0xfc,       /* mov [ebp-4], eax */
        0x01, 0x45, 0x04,       /* add [ebp+4], eax */
        0x8b, 0x5d, 0x04,       /* mov ebx, [ebp+4] */
        0xf4,                   /* hlt */
    };
    struct je m = je_new(engine);
    je_code(&m, code, sizeof(code));
    uint32_t v[4] = { 1000, 0, 0, 300 }; /* at ebp-8, ebp-4, ebp+4 (0), ebp+8 */
    memcpy(m.ram + ebp - 8, &v[0], 4);
    memcpy(m.ram + ebp + 4, &v[2], 4);
    memcpy(m.ram + ebp + 8, &v[3], 4);
    m.cpu->regs[R_EBP] = ebp;
    je_run_to_halt(&m);
    uint32_t stored;
    memcpy(&stored, m.ram + ebp - 4, 4);
    uint32_t r = m.cpu->regs[R_EBX] + stored;
    je_free(&m);
    return r;
}

Test(jit_engine, frame_accesses_in_one_page_or_not)
{
    cr_assert_eq(frame_sum(CPU_ENGINE_INTERP, 0x300800), 2600u);
    cr_assert_eq(frame_sum(CPU_ENGINE_JIT, 0x300800), 2600u);
    cr_assert_eq(frame_sum(CPU_ENGINE_JIT, 0x301004), 2600u); /* [ebp-8] on the page below */
    cr_assert_eq(frame_sum(CPU_ENGINE_JIT, 0x301ffc), 2600u); /* [ebp+4] on the page above */
}

/* LDS changes DS's class, which is part of the block key: the code after
 * it must run as translated for the new class. The first pass loads the
 * flat selector, so the block after LDS exists for a flat DS; the second
 * loads a selector with base 2000H, and the same bytes must then read
 * through that base (they did not when the exit after LDS looked its
 * target up in the jump cache under the old key). */
static uint32_t lds_class_result(int engine)
{
    static const uint8_t code[] = {
        0xbb, 0x00, 0x30, 0x00, 0x00, /* mov ebx, 0x3000 (the far pointers) */
        0xb9, 0x02, 0x00, 0x00, 0x00, /* mov ecx, 2 */
        0x31, 0xff,                   /* xor edi, edi */
        0xc5, 0x33,                   /* again: lds esi, [ebx] */
        0x8b, 0x06,                   /* mov eax, [esi] */
        0x01, 0xc7,                   /* add edi, eax */
        0x83, 0xc3, 0x06,             /* add ebx, 6 */
        0x49,                         /* dec ecx */
        0x75, 0xf4,                   /* jnz again */
        0xf4,                         /* hlt */
    };
    static const uint8_t flat_data[8] = { 0xff, 0xff, 0x00, 0x00, 0x00, 0x93, 0xcf, 0x00 };
    static const uint8_t based_data[8] = { 0xff, 0xff, 0x00, 0x20, 0x00, 0x93, 0xcf, 0x00 };
    static const uint8_t far_ptrs[12] = { 0x00, 0x40, 0x00, 0x00, 0x10, 0x00,
                                          0x00, 0x40, 0x00, 0x00, 0x18, 0x00 };
    struct je m = je_new(engine);
    memcpy(m.ram + JE_GDT + 0x10, flat_data, sizeof(flat_data));
    memcpy(m.ram + JE_GDT + 0x18, based_data, sizeof(based_data));
    m.cpu->gdtr.limit = 31;
    memcpy(m.ram + 0x3000, far_ptrs, sizeof(far_ptrs));
    m.ram[0x4000] = 1;   /* [0x4000] through the flat DS */
    m.ram[0x6000] = 100; /* [0x4000] through base 0x2000 */
    je_code(&m, code, sizeof(code));
    je_run_to_halt(&m);
    uint32_t edi = m.cpu->regs[R_EDI];
    je_free(&m);
    return edi;
}

Test(jit_engine, lds_changes_the_key_of_the_code_after_it)
{
    cr_assert_eq(lds_class_result(CPU_ENGINE_INTERP), 101u);
    cr_assert_eq(lds_class_result(CPU_ENGINE_JIT), 101u);
}

/* ------------------------------------------------------------------ */
/* Instructions that run on into the next page                         */
/* ------------------------------------------------------------------ */

/* MOV EAX, imm32 at 1FFDh: its last two immediate bytes are in the page
 * at 2000h, then HLT. Paging maps the first 4 MiB one to one (page
 * directory at 100000h, page table at 101000h), so a test can map the
 * page at linear 2000h elsewhere. */
#define CROSS_EIP 0x1ffdu

static void cross_setup(struct je *m)
{
    static const uint8_t head[] = { 0xb8, 0xaa, 0xbb };          /* at 1FFDh */
    static const uint8_t tail_a[] = { 0x11, 0x22, 0xf4 };        /* at 2000h */
    static const uint8_t tail_b[] = { 0x33, 0x44, 0xf4 };        /* at 5000h */
    memcpy(m->ram + CROSS_EIP, head, sizeof(head));
    memcpy(m->ram + 0x2000, tail_a, sizeof(tail_a));
    memcpy(m->ram + 0x5000, tail_b, sizeof(tail_b));
    je_map(m, 0x100000, 7, 0x7000);
    je_paging_on(m, 0x100000, false);
}

static uint32_t cross_run(struct je *m)
{
    m->cpu->eip = CROSS_EIP;
    m->cpu->halted = 0;
    je_run_to_halt(m);
    return m->cpu->regs[R_EAX];
}

/* The bytes in the second page change (a write, as DMA or a loader
 * would make it): the instruction runs with the new ones. */
Test(jit_engine, crossing_instruction_sees_writes_to_its_second_page)
{
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = je_new(engine);
        cross_setup(&m);
        cr_assert_eq(cross_run(&m), 0x2211bbaau);
        cr_assert_eq(cross_run(&m), 0x2211bbaau);
        static const uint8_t changed[] = { 0x55, 0x66 };
        phys_write_buf(m.pm, 0x2000, changed, sizeof(changed));
        cr_assert_eq(cross_run(&m), 0x6655bbaau, "engine %d", engine);
        je_free(&m);
    }
}

/* The second page is mapped elsewhere (the page table is changed and the
 * TLB flushed, as after INVLPG): the instruction reads the new page. */
Test(jit_engine, crossing_instruction_follows_its_second_page_mapping)
{
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = je_new(engine);
        cross_setup(&m);
        cr_assert_eq(cross_run(&m), 0x2211bbaau);
        cr_assert_eq(cross_run(&m), 0x2211bbaau);
        uint32_t pte = 0x5000u | 7;
        memcpy(m.ram + 0x101000 + 4 * 2, &pte, 4);
        tlb_flush_all(&m.cpu->tlb);
        cr_assert_eq(cross_run(&m), 0x4433bbaau, "engine %d", engine);
        je_free(&m);
    }
}

/* Reached through a linked direct jump, in one run: the guest remaps the
 * second page itself (its PTE, then INVLPG) between two passes, so only
 * the block's own check of the TLB generation can notice (the dispatcher
 * is not on the way). The loop: 1F00h jmp 1FFDh; the crossing MOV EAX;
 * at 2002h (the same code in both physical pages) the store of EAX, the
 * PTE of page 2 from ESI (first the same mapping, then 5000h), INVLPG,
 * back to 1F00h. */
Test(jit_engine, crossing_instruction_linked_follows_a_remap_by_the_guest)
{
    static const uint8_t loop[] = { 0xe9, 0xf8, 0x00, 0x00, 0x00 }; /* 1F00: jmp 1FFDh */
    static const uint8_t rest[] = {
        0x89, 0x07,                               /* mov [edi], eax */
        0x83, 0xc7, 0x04,                         /* add edi, 4 */
        0x49,                                     /* dec ecx */
        0x74, 0x17,                               /* jz done */
        0x89, 0x35, 0x08, 0x10, 0x10, 0x00,       /* mov [101008h], esi */
        0xbe, 0x07, 0x50, 0x00, 0x00,             /* mov esi, 5007h */
        0x0f, 0x01, 0x3d, 0x00, 0x20, 0x00, 0x00, /* invlpg [2000h] */
        0xe9, 0xdf, 0xfe, 0xff, 0xff,             /* jmp 1F00h */
        0xf4,                                     /* done: hlt */
    };
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = je_new(engine);
        cross_setup(&m);
        memcpy(m.ram + 0x1f00, loop, sizeof(loop));
        memcpy(m.ram + 0x2002, rest, sizeof(rest));
        memcpy(m.ram + 0x5002, rest, sizeof(rest));
        m.cpu->regs[R_ECX] = 3;
        m.cpu->regs[R_EDI] = 0x6000;
        m.cpu->regs[R_ESI] = 0x2007;
        m.cpu->eip = 0x1f00;
        m.cpu->halted = 0;
        je_run_to_halt(&m);
        uint32_t got[3];
        memcpy(got, m.ram + 0x6000, sizeof(got));
        cr_assert_eq(m.cpu->eip, 0x2002u + sizeof(rest), "engine %d: eip %x", engine, m.cpu->eip);
        cr_assert_eq(got[0], 0x2211bbaau, "engine %d: %x", engine, got[0]);
        cr_assert_eq(got[1], 0x2211bbaau, "engine %d: %x", engine, got[1]);
        cr_assert_eq(got[2], 0x4433bbaau, "engine %d: %x", engine, got[2]);
        je_free(&m);
    }
}

/* The second page is not present: #PF for its linear address (CR2),
 * with EIP at the instruction, raised as the CPU's fetch would. */
Test(jit_engine, crossing_instruction_faults_on_its_second_page)
{
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = je_new(engine);
        cross_setup(&m);
        cr_assert_eq(cross_run(&m), 0x2211bbaau);
        uint32_t pte = 0;
        memcpy(m.ram + 0x101000 + 4 * 2, &pte, 4);
        tlb_flush_all(&m.cpu->tlb);
        m.cpu->eip = CROSS_EIP;
        m.cpu->halted = 0;
        /* No IDT: the #PF becomes a triple fault; CR2 tells whose it was. */
        int exit = cpu_exec(m.cpu, 1000);
        cr_assert_eq(exit, CPU_EXIT_SHUTDOWN, "engine %d: exit %d", engine, exit);
        cr_assert_eq(m.cpu->cr2, 0x2000u, "engine %d: cr2 %x", engine, m.cpu->cr2);
        je_free(&m);
    }
}

/* ------------------------------------------------------------------ */
/* Code rewritten before every run                                     */
/* ------------------------------------------------------------------ */


/* A function whose [ESP + disp] operands straddle a page end (80000h),
 * called 1000 times; each call adds 11h + 2200h + 330000h to EBX. */
static struct je straddle_machine(int engine)
{
    static const uint8_t code[] = {
        0xbc, 0x08, 0x00, 0x08, 0x00,             /* mov esp, 80008h */
        0xb9, 0xe8, 0x03, 0x00, 0x00,             /* mov ecx, 1000 */
        0x31, 0xdb,                               /* xor ebx, ebx */
        0xe8, 0x05, 0x00, 0x00, 0x00,             /* again: call f */
        0x01, 0xc3,                               /* add ebx, eax */
        0xe2, 0xf7,                               /* loop again */
        0xf4,                                     /* hlt */
        0x8b, 0x44, 0x24, 0xfc,                   /* f: mov eax, [esp-4] (80000h) */
        0x03, 0x44, 0x24, 0xf8,                   /* add eax, [esp-8] (7FFFCh) */
        0x03, 0x44, 0x24, 0xf4,                   /* add eax, [esp-12] */
        0xc3,                                     /* ret */
    };
    static const uint32_t words[3] = { 0x11, 0x2200, 0x330000 }; /* at 7FFF8h */
    struct je m = je_new(engine);
    je_code(&m, code, sizeof(code));
    phys_write_buf(m.pm, 0x7fff8, words, sizeof(words));
    je_run_to_halt(&m);
    cr_assert_eq(m.cpu->regs[R_EBX], 1000u * 0x332211u, "engine %d", engine);
    return m;
}

/* That function fails its block's frame check on every call and runs as
 * the variant without frame accesses (JK_NOFRAME), which the dispatcher
 * asks for. That variant's RET must find the caller's code in the jump
 * cache under the caller's key, not under its own (JK_NOFRAME is not its
 * successors'): one trip through the dispatcher per call, not two. (The
 * block is never translated again without its check here:
 * GLASS_JIT_FRAME_FAILS=0.) */
Test(jit_engine, a_frame_variants_return_uses_the_jump_cache)
{
    setenv("GLASS_JIT_FRAME_FAILS", "0", 1);
    struct je i = straddle_machine(CPU_ENGINE_INTERP);
    je_free(&i);
    struct je m = straddle_machine(CPU_ENGINE_JIT);
    unsigned long long n = jit_stat(m.cpu, "dispatches");
    cr_assert_lt(n, 1500ull, "%llu dispatches for 1000 calls", n);
    je_free(&m);
}

/* The same with the default: after JIT_FRAME_FAILS (8) failed checks its
 * block is translated again without a frame, and the calls stop going
 * through the dispatcher. */
Test(jit_engine, a_frame_check_that_keeps_failing_is_dropped)
{
    struct je m = straddle_machine(CPU_ENGINE_JIT);
    cr_assert_eq(jit_stat(m.cpu, "frame checks failed"), 8ull);
    cr_assert_eq(jit_stat(m.cpu, "blocks translated again without one"), 1ull);
    unsigned long long n = jit_stat(m.cpu, "dispatches");
    cr_assert_lt(n, 100ull, "%llu dispatches for 1000 calls", n);
    je_free(&m);
}

/* A loop stores a new immediate (the loop count) into the function at
 * 27000h, on another page, before each of 2000 calls, and adds what it
 * returns to EBX. */
static struct je rewrite_loop(int engine, const uint8_t *callee, size_t len)
{
    static const uint8_t code[] = {
        0x31, 0xdb,                               /* xor ebx, ebx */
        0xb9, 0xd0, 0x07, 0x00, 0x00,             /* mov ecx, 2000 */
        0x89, 0x0d, 0x01, 0x70, 0x02, 0x00,       /* again: mov [27001h], ecx */
        0xe8, 0xee, 0x6f, 0x01, 0x00,             /* call 27000h */
        0x01, 0xc3,                               /* add ebx, eax */
        0xe2, 0xf1,                               /* loop again */
        0xf4,                                     /* hlt */
    };
    struct je m = je_new(engine);
    je_code(&m, code, sizeof(code));
    phys_write_buf(m.pm, 0x27000, callee, len);
    je_run_to_halt(&m);
    return m;
}

/* make bench smc's pattern: the sum must be right under both engines,
 * and the JIT must not translate the function anew for every call: the
 * page goes to the careful path while its code keeps changing
 * (jit_smc_careful), with a translation now and then to see whether it
 * still does. */
Test(jit_engine, code_rewritten_before_each_call_is_not_translated_each_time)
{
    static const uint8_t callee[] = { 0xb8, 0, 0, 0, 0, 0xc3 }; /* mov eax, imm32; ret */
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = rewrite_loop(engine, callee, sizeof(callee));
        cr_assert_eq(m.cpu->regs[R_EBX], 2000u * 2001u / 2, "engine %d: %u", engine,
                     m.cpu->regs[R_EBX]);
        if (engine == CPU_ENGINE_JIT) {
            unsigned long long n = jit_stat(m.cpu, "blocks translated");
            cr_assert_lt(n, 200ull, "%llu blocks translated for 2000 calls", n);
        }
        je_free(&m);
    }
}

/* The same with a callee that loops 20 times on its page: while the page
 * is in its careful period the dispatcher hands it over for up to
 * JIT_SMC_STREAK (32) instructions at a time, not one by one. */
Test(jit_engine, a_page_being_rewritten_runs_careful_in_turns)
{
    static const uint8_t callee[] = {
        0xb8, 0, 0, 0, 0,                         /* mov eax, imm32 */
        0xba, 0x14, 0x00, 0x00, 0x00,             /* mov edx, 20 */
        0x83, 0xc0, 0x01,                         /* l: add eax, 1 */
        0x4a,                                     /* dec edx */
        0x75, 0xfa,                               /* jnz l */
        0xc3,                                     /* ret */
    };
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = rewrite_loop(engine, callee, sizeof(callee));
        cr_assert_eq(m.cpu->regs[R_EBX], 2000u * 2001u / 2 + 2000u * 20, "engine %d: %u",
                     engine, m.cpu->regs[R_EBX]);
        if (engine == CPU_ENGINE_JIT) {
            unsigned long long careful = jit_stat(m.cpu, "instructions run careful");
            unsigned long long turns = jit_stat(m.cpu, "turns");
            cr_assert_gt(careful, 10000ull, "%llu instructions run careful", careful);
            cr_assert_gt(careful, 16 * turns, "%llu careful in %llu turns", careful, turns);
        }
        je_free(&m);
    }
}

/* ------------------------------------------------------------------ */
/* #DE from DIV and IDIV                                               */
/* ------------------------------------------------------------------ */

/* Divisions that fault (a zero divisor, quotients that do not fit, IDIV
 * of 80000000h by -1) and some that do not, each followed by a store of
 * the flags: the #DE handler counts in EBX and steps over the 2-byte
 * DIV/IDIV ECX. Under the JIT the host's own division faults (then
 * SIGFPE, translate/jit/hostfault.c): the guest must see exactly what it
 * sees under the interpreter. */
/* A machine whose GDT holds flat code (8) and data (10h) descriptors and
 * whose IDT sends `vector` to the handler put at 8:4000h. */
static struct je je_with_handler(int engine, unsigned vector, const uint8_t *handler,
                                 size_t len)
{
    static const uint8_t flat_data[8] = { 0xff, 0xff, 0x00, 0x00, 0x00, 0x93, 0xcf, 0x00 };
    static const uint8_t flat_code[8] = { 0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xcf, 0x00 };
    static const uint8_t gate[8] = { 0x00, 0x40, 0x08, 0x00, 0x00, 0x8e, 0x00, 0x00 };
    struct je m = je_new(engine);
    memcpy(m.ram + JE_GDT + 0x08, flat_code, 8);
    memcpy(m.ram + JE_GDT + 0x10, flat_data, 8);
    memcpy(m.ram + 0x3000 + vector * 8, gate, 8);
    m.cpu->idtr = (struct dtr){ 0x3000, 0x7ff };
    memcpy(m.ram + 0x4000, handler, len);
    return m;
}

/* A store through CS (a code segment) raises #GP(0) (SDM Vol. 3A 5.4)
 * under both engines, also beside frame accesses with paging off: CS's
 * bits of the block key hold JK_NOFRAME and JK_NOPG, which must never
 * read as a flat data segment. */
static uint32_t cs_store_run(int engine)
{
    static const uint8_t handler[] = { 0xb9, 0x99, 0x00, 0x00, 0x00, 0xf4 }; /* mov ecx, 99h; hlt */
    static const uint8_t code[] = {
        0xbd, 0x00, 0x08, 0x30, 0x00, /* mov ebp, 300800h */
        0x8b, 0x45, 0xf8,             /* mov eax, [ebp-8] */
        0x89, 0x45, 0x04,             /* mov [ebp+4], eax */
        0x2e, 0x89, 0x45, 0x08,       /* mov cs:[ebp+8], eax: #GP(0) */
        0x8b, 0x5d, 0x04,             /* mov ebx, [ebp+4] */
        0xb9, 0x01, 0x00, 0x00, 0x00, /* mov ecx, 1 */
        0xf4,                         /* hlt */
    };
    struct je m = je_with_handler(engine, 13, handler, sizeof(handler));
    je_code(&m, code, sizeof(code));
    je_run_to_halt(&m);
    uint32_t r = m.cpu->regs[R_ECX];
    je_free(&m);
    return r;
}

Test(jit_engine, a_store_through_cs_faults_beside_frame_accesses)
{
    cr_assert_eq(cs_store_run(CPU_ENGINE_INTERP), 0x99u);
    cr_assert_eq(cs_store_run(CPU_ENGINE_JIT), 0x99u);
}

static void de_run(int engine, uint32_t out[16])
{
    static const uint8_t code[] = {
        0x31, 0xdb,                               /* xor ebx, ebx */
        0xbf, 0x00, 0x50, 0x00, 0x00,             /* mov edi, 0x5000 */
        /* div by zero */
        0xb8, 0x07, 0x00, 0x00, 0x00, 0x31, 0xd2, 0x31, 0xc9, /* eax=7 edx=0 ecx=0 */
        0xf9, 0xf7, 0xf1,                         /* stc; div ecx */
        0x9c, 0x8f, 0x07, 0x83, 0xc7, 0x04,       /* pushfd; pop [edi]; add edi, 4 */
        /* div: EDX >= ECX */
        0xba, 0x05, 0x00, 0x00, 0x00, 0xb9, 0x05, 0x00, 0x00, 0x00, /* edx=5 ecx=5 */
        0xf7, 0xf1,                               /* div ecx */
        0x9c, 0x8f, 0x07, 0x83, 0xc7, 0x04,
        /* idiv 80000000h by -1 */
        0xb8, 0x00, 0x00, 0x00, 0x80, 0x99, 0xb9, 0xff, 0xff, 0xff, 0xff, /* eax; cdq; ecx=-1 */
        0xf7, 0xf9,                               /* idiv ecx */
        0x9c, 0x8f, 0x07, 0x83, 0xc7, 0x04,
        /* idiv: 1_00000000h / 1 */
        0xba, 0x01, 0x00, 0x00, 0x00, 0x31, 0xc0, 0xb9, 0x01, 0x00, 0x00, 0x00,
        0xf7, 0xf9,
        0x9c, 0x8f, 0x07, 0x83, 0xc7, 0x04,
        /* fine: -100 / 7 and 1_00000064h / 3 */
        0xb8, 0x9c, 0xff, 0xff, 0xff, 0x99, 0xb9, 0x07, 0x00, 0x00, 0x00, 0xf7, 0xf9,
        0x89, 0x07, 0x89, 0x57, 0x04, 0x83, 0xc7, 0x08, /* mov [edi], eax; mov [edi+4], edx */
        0xba, 0x01, 0x00, 0x00, 0x00, 0xb8, 0x64, 0x00, 0x00, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00,
        0xf7, 0xf1,
        0x89, 0x07, 0x89, 0x57, 0x04,
        0xf4,                                     /* hlt */
    };
    static const uint8_t handler[] = {
        0x83, 0x04, 0x24, 0x02, /* add dword [esp], 2 */
        0x43,                   /* inc ebx */
        0xcf,                   /* iret */
    };
    struct je m = je_with_handler(engine, 0, handler, sizeof(handler)); /* #DE */
    je_code(&m, code, sizeof(code));
    je_run_to_halt(&m);
    memcpy(out, m.ram + 0x5000, 8 * 4);
    out[8] = m.cpu->regs[R_EBX];
    out[9] = m.cpu->regs[R_EAX];
    out[10] = m.cpu->regs[R_EDX];
    je_free(&m);
}

Test(jit_engine, divide_errors_as_the_interpreter_raises_them)
{
    uint32_t want[16] = { 0 }, got[16] = { 0 };
    de_run(CPU_ENGINE_INTERP, want);
    de_run(CPU_ENGINE_JIT, got);
    cr_assert_eq(want[8], 4u, "four #DE under the interpreter: %u", want[8]);
    for (int i = 0; i < 11; i++)
        cr_assert_eq(want[i], got[i], "word %d: %08x / %08x", i, want[i], got[i]);
}

/*
 * Fault-only flags (block.c): flags that no instruction reads again
 * before they are overwritten are not saved before a memory access; if
 * the access faults, its slow path makes them again for the exception
 * frame. Here OR, SUB of an immediate, CMP, TEST, ADD and SUB of
 * registers, XOR from memory, INC and DEC (CF from before them: once from
 * cpu->cc, once from a CMP whose flags cpu->cc does not hold) each precede
 * a load from a page that is not present; the #PF handler stores the
 * EFLAGS it was given and skips the load. Both engines must store the
 * same ten.
 */
static void fault_flags_run(int engine, uint32_t out[10])
{
    static const uint8_t code[] = {
        0xbf, 0x00, 0x50, 0x00, 0x00,             /* mov edi, 5000h */
        0xbb, 0x01, 0x00, 0x00, 0x80,             /* mov ebx, 80000001h */
        0x83, 0xcb, 0x00,                         /* or ebx, 0: SF */
        0xa1, 0x00, 0x70, 0x00, 0x00,             /* mov eax, [7000h]: #PF */
        0x31, 0xc9,                               /* xor ecx, ecx */
        0xba, 0x03, 0x00, 0x00, 0x00,             /* mov edx, 3 */
        0x83, 0xea, 0x07,                         /* sub edx, 7: SF CF AF */
        0x8b, 0x35, 0x04, 0x70, 0x00, 0x00,       /* mov esi, [7004h]: #PF */
        0x85, 0xd2,                               /* test edx, edx */
        0x83, 0xfa, 0xfc,                         /* cmp edx, -4: ZF */
        0xa1, 0x08, 0x70, 0x00, 0x00,             /* mov eax, [7008h]: #PF */
        0x31, 0xc0,                               /* xor eax, eax */
        0xa8, 0x01,                               /* test al, 1: ZF PF */
        0x8b, 0x0d, 0x0c, 0x70, 0x00, 0x00,       /* mov ecx, [700Ch]: #PF */
        0x31, 0xd2,                               /* xor edx, edx */
        0xb9, 0xff, 0xff, 0xff, 0x7f,             /* mov ecx, 7FFFFFFFh */
        0xba, 0x01, 0x00, 0x00, 0x00,             /* mov edx, 1 */
        0x01, 0xd1,                               /* add ecx, edx: OF SF AF PF */
        0xa1, 0x10, 0x70, 0x00, 0x00,             /* mov eax, [7010h]: #PF */
        0x31, 0xc0,                               /* xor eax, eax */
        0xbb, 0x05, 0x00, 0x00, 0x00,             /* mov ebx, 5 */
        0x29, 0xcb,                               /* sub ebx, ecx: OF SF CF */
        0xa1, 0x14, 0x70, 0x00, 0x00,             /* mov eax, [7014h]: #PF */
        0x31, 0xc0,                               /* xor eax, eax */
        0xbb, 0x80, 0x00, 0x00, 0x00,             /* mov ebx, 80h */
        0x33, 0x1d, 0x00, 0x60, 0x00, 0x00,       /* xor ebx, [6000h] (80h): ZF PF */
        0xa1, 0x18, 0x70, 0x00, 0x00,             /* mov eax, [7018h]: #PF */
        0xf9,                                     /* stc */
        0x8b, 0x1d, 0x00, 0x60, 0x00, 0x00,       /* mov ebx, [6000h]: CF into cpu->cc */
        0xb9, 0xff, 0xff, 0xff, 0x7f,             /* mov ecx, 7FFFFFFFh */
        0x41,                                     /* inc ecx: OF SF AF PF, CF kept */
        0xa1, 0x1c, 0x70, 0x00, 0x00,             /* mov eax, [701Ch]: #PF */
        0xf8,                                     /* clc */
        0x8b, 0x1d, 0x00, 0x60, 0x00, 0x00,       /* mov ebx, [6000h] */
        0xb2, 0x01,                               /* mov dl, 1 */
        0xfe, 0xca,                               /* dec dl: ZF PF, CF kept */
        0xa1, 0x20, 0x70, 0x00, 0x00,             /* mov eax, [7020h]: #PF */
        0xf8,                                     /* clc */
        0x8b, 0x1d, 0x00, 0x60, 0x00, 0x00,       /* mov ebx, [6000h]: CF 0 in cpu->cc */
        0xb8, 0x01, 0x00, 0x00, 0x00,             /* mov eax, 1 */
        0x83, 0xf8, 0x02,                         /* cmp eax, 2: CF 1, on the host only */
        0x41,                                     /* inc ecx: keeps CMP's CF */
        0xa1, 0x24, 0x70, 0x00, 0x00,             /* mov eax, [7024h]: #PF */
        0x31, 0xc0,                               /* xor eax, eax */
        0xf4,                                     /* hlt */
    };
    static const uint8_t handler[] = {
        0x8b, 0x44, 0x24, 0x0c,       /* mov eax, [esp + 12]: EFLAGS */
        0x89, 0x07,                   /* mov [edi], eax */
        0x83, 0xc7, 0x04,             /* add edi, 4 */
        0x8b, 0x44, 0x24, 0x04,       /* mov eax, [esp + 4]: EIP */
        0x80, 0x38, 0xa1,             /* cmp byte [eax], 0A1h */
        0x74, 0x05,                   /* je +5 */
        0x83, 0x44, 0x24, 0x04, 0x01, /* add dword [esp + 4], 1 (6-byte forms) */
        0x83, 0x44, 0x24, 0x04, 0x05, /* add dword [esp + 4], 5 */
        0x83, 0xc4, 0x04,             /* add esp, 4: the error code */
        0xcf,                         /* iret */
    };
    struct je m = je_with_handler(engine, 14, handler, sizeof(handler)); /* #PF */
    je_map(&m, 0x100000, 3, 0); /* the page at 7000h absent */
    je_paging_on(&m, 0x100000, false);
    je_code(&m, code, sizeof(code));
    m.ram[0x6000] = 0x80;
    je_run_to_halt(&m);
    memcpy(out, m.ram + 0x5000, 10 * 4);
    je_free(&m);
}

Test(jit_engine, fault_only_flags_reach_the_exception_frame)
{
    uint32_t want[10], got[10];
    fault_flags_run(CPU_ENGINE_INTERP, want);
    fault_flags_run(CPU_ENGINE_JIT, got);
    cr_assert_eq(want[0] & 0x8d5, 0x80u, "OR's SF alone: %08x", want[0]);
    cr_assert_eq(want[5] & 0x881, 0x881u, "SUB's OF SF CF: %08x", want[5]);
    cr_assert_eq(want[6] & 0x8d5, 0x44u, "XOR's ZF PF: %08x", want[6]);
    cr_assert_eq(want[7] & 0x8d5, 0x895u, "INC's OF SF AF PF and STC's CF: %08x", want[7]);
    cr_assert_eq(want[8] & 0x8d5, 0x44u, "DEC's ZF PF, CLC's CF: %08x", want[8]);
    cr_assert_eq(want[9] & 0x1u, 0x1u, "CMP's CF through INC: %08x", want[9]);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(want[i], got[i], "fault %d: EFLAGS %08x / %08x", i, want[i], got[i]);
}

/* Whether the host code of a block that runs `op` (2 bytes), then loads
 * through ECX, saves the flags (LAHF) between the two; `host` is how the
 * op shows in the host code. */
static bool saves_before_load(uint8_t op0, uint8_t op1, const char *host)
{
    uint8_t code[] = {
        0xbf, 0x00, 0x60, 0x00, 0x00, /* mov edi, 6000h */
        0xb9, 0x00, 0x60, 0x00, 0x00, /* mov ecx, 6000h */
        op0, op1,                     /* the op: its flags are fault-only below */
        0x8b, 0x41, 0x04,             /* mov eax, [ecx + 4]: a TLB lookup */
        0x31, 0xc9,                   /* xor ecx, ecx: the flags overwritten */
        0xf4,                         /* hlt */
    };
    struct je m = je_new(CPU_ENGINE_JIT);
    je_code(&m, code, sizeof(code));
    je_run_collecting_host_code(&m);
    const char *text = je_host_text();
    const char *op_at = strstr(text, host);
    cr_assert_not_null(op_at, "%s", text);
    const char *load_at = strstr(op_at, "mov eax, dword ptr [r11]");
    cr_assert_not_null(load_at, "%s", text);
    const char *lahf_at = strstr(op_at, "lahf");
    bool saves = lahf_at && lahf_at < load_at;
    je_free(&m);
    return saves;
}

/* XOR, AND, OR with a memory source leave flags that a TEST of their
 * result makes again, and INC and DEC (at a block's start, CF in cpu->cc)
 * flags that INC or DEC of the value before makes again (fault-only
 * flags, block.c): the load after one does not save them, as after XOR
 * with a register source. */
Test(jit_engine, logic_from_memory_and_incdec_leave_fault_only_flags)
{
    cr_assert(!saves_before_load(0x33, 0xf3, "xor esi, ebx"), "XOR ESI, EBX: saved");
    cr_assert(!saves_before_load(0x33, 0x37, "xor esi, dword ptr [r11]"), "XOR ESI, [EDI]: saved");
    cr_assert(!saves_before_load(0x46, 0x90, "inc esi"), "INC ESI: saved");
    cr_assert(!saves_before_load(0xfe, 0xcb, "dec bl"), "DEC BL: saved");
}

/*
 * Kernel code from global pages keeps its jump-cache entries across MOV
 * CR3 (jit.h, the kernel stamp). A CPL 0 loop of 200 reloads CR3 (a
 * context switch: ends its block, one trip through the dispatcher; XOR'd
 * with `toggle`: 0 keeps the directory, 2000h switches to the one at
 * 102000h, where the page at 7000h is another) and then calls the
 * function at 7000h through a pointer, adding what it returns to EBX.
 */
/* `code` run to its HLT with paging on (CR4.PGE set): two functions at
 * 7000h (returns 7) and 8000h (returns 9), a pointer at 6000h to the one
 * at linear 7000h; the directory at 100000h maps the first 4 MiB one to
 * one with PTE bits `bits`, and with `second` another at 102000h maps
 * linear 7000h to 8000h. */
static struct je run_two_functions(int engine, uint32_t bits, bool second, const uint8_t *code,
                                   size_t len)
{
    static const uint8_t f7[] = { 0xb8, 0x07, 0x00, 0x00, 0x00, 0xc3 }; /* mov eax, 7; ret */
    static const uint8_t f9[] = { 0xb8, 0x09, 0x00, 0x00, 0x00, 0xc3 }; /* mov eax, 9; ret */
    struct je m = je_new(engine);
    je_map(&m, 0x100000, bits, 0x7000);
    if (second)
        je_map(&m, 0x102000, bits, 0x8000);
    memcpy(m.ram + 0x7000, f7, sizeof(f7));
    memcpy(m.ram + 0x8000, f9, sizeof(f9));
    uint32_t ptr = 0x7000;
    memcpy(m.ram + 0x6000, &ptr, 4);
    je_paging_on(&m, 0x100000, true);
    je_code(&m, code, len);
    je_run_to_halt(&m);
    return m;
}

static struct je cr3_loop(int engine, uint32_t bits, uint32_t toggle)
{
    uint8_t code[] = {
        0xb9, 0xc8, 0x00, 0x00, 0x00,       /* mov ecx, 200 */
        0x31, 0xdb,                         /* xor ebx, ebx */
        0x0f, 0x20, 0xd8,                   /* again: mov eax, cr3 */
        0x35, 0x00, 0x00, 0x00, 0x00,       /* xor eax, toggle */
        0x0f, 0x22, 0xd8,                   /* mov cr3, eax */
        0xff, 0x15, 0x00, 0x60, 0x00, 0x00, /* call [6000h] */
        0x01, 0xc3,                         /* add ebx, eax */
        0x49,                               /* dec ecx */
        0x75, 0xea,                         /* jnz again */
        0xf4,                               /* hlt */
    };
    memcpy(code + 11, &toggle, 4);
    return run_two_functions(engine, bits, true, code, sizeof(code));
}

/* With the entries kept, the call and the return find their targets in
 * the jump cache; emptied by each reload, each would take a trip of its
 * own. With the code's pages not global every reload must empty them. */
Test(jit_engine, kernel_code_keeps_its_jump_cache_across_mov_cr3)
{
    struct je g = cr3_loop(CPU_ENGINE_JIT, 3 | 0x100, 0);
    cr_assert_eq(g.cpu->regs[R_EBX], 1400u);
    unsigned long long n = jit_stat(g.cpu, "dispatches");
    cr_assert_lt(n, 300ull, "%llu dispatches for 200 reloads (global code)", n);
    je_free(&g);
    struct je ng = cr3_loop(CPU_ENGINE_JIT, 3, 0);
    cr_assert_eq(ng.cpu->regs[R_EBX], 1400u);
    n = jit_stat(ng.cpu, "dispatches");
    cr_assert_gt(n, 500ull, "%llu dispatches for 200 reloads (code not global)", n);
    je_free(&ng);
}

/* Kernel code that is not global and differs between the two address
 * spaces: each MOV CR3 must run the other space's function (the call's
 * and the return's jump-cache entries must not outlive the switch). */
Test(jit_engine, kernel_code_not_global_follows_mov_cr3)
{
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        struct je m = cr3_loop(engine, 3, 0x2000);
        cr_assert_eq(m.cpu->regs[R_EBX], 100u * 7 + 100u * 9, "engine %d: %u", engine,
                     m.cpu->regs[R_EBX]);
        je_free(&m);
    }
}

/*
 * INVLPG changes one page's translation, whatever its G bit: kernel code
 * that is not global keeps its jump-cache entries across an INVLPG of
 * another page (a kernel does many, for its own mappings), and loses
 * those of the page it names. A CPL 0 loop of 200: XOR the PTE of the
 * page at 7000h with `toggle` (0, or 0F000h: 7000h <-> 8000h, the two
 * functions of cr3_loop), INVLPG `page`, call the function at 7000h.
 */
static struct je invlpg_loop(int engine, uint32_t toggle, uint32_t page)
{
    uint8_t code[] = {
        0xb9, 0xc8, 0x00, 0x00, 0x00,                               /* mov ecx, 200 */
        0x31, 0xdb,                                                 /* xor ebx, ebx */
        0x81, 0x35, 0x1c, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, /* again: xor [10101Ch], toggle */
        0x0f, 0x01, 0x3d, 0x00, 0x00, 0x00, 0x00,                   /* invlpg [page] */
        0xff, 0x15, 0x00, 0x60, 0x00, 0x00,                         /* call [6000h] */
        0x01, 0xc3,                                                 /* add ebx, eax */
        0x49,                                                       /* dec ecx */
        0x75, 0xe4,                                                 /* jnz again */
        0xf4,                                                       /* hlt */
    };
    memcpy(code + 13, &toggle, 4);
    memcpy(code + 20, &page, 4);
    return run_two_functions(engine, 3, false, code, sizeof(code)); /* not global */
}

Test(jit_engine, invlpg_keeps_the_jump_cache_of_other_pages)
{
    struct je m = invlpg_loop(CPU_ENGINE_JIT, 0, 0x5000);
    cr_assert_eq(m.cpu->regs[R_EBX], 1400u);
    unsigned long long n = jit_stat(m.cpu, "dispatches");
    cr_assert_lt(n, 300ull, "%llu dispatches for 200 INVLPGs of another page", n);
    je_free(&m);
    for (int engine = CPU_ENGINE_INTERP; engine <= CPU_ENGINE_JIT; engine++) {
        m = invlpg_loop(engine, 0xf000, 0x7000);
        cr_assert_eq(m.cpu->regs[R_EBX], 100u * 9 + 100u * 7, "engine %d: %u", engine,
                     m.cpu->regs[R_EBX]);
        je_free(&m);
    }
}

/* ------------------------------------------------------------------ */
/* Side exits                                                          */
/* ------------------------------------------------------------------ */

/* A loop whose forward Jcc are taken now and then: the block runs on
 * through each (block.c, runs_on_through) and leaves through a side
 * exit when it is taken, to code that reads the flags the branch saw
 * (SETZ after JZ, ADC after JB). Run in slices of 5 instructions under
 * the JIT (so that budget exits meet blocks entered at every point of
 * the loop) and whole under the interpreter: the same registers, flags
 * and instruction count; and the loop's body is one block. */
struct side_exit_state {
    uint32_t regs[8], eflags, eip;
    uint64_t icount;
};

static struct side_exit_state side_exit_run(int engine, uint64_t slice, unsigned long long *blocks)
{
    static const uint8_t code[] = {
        0x31, 0xc9,                         /* 00 xor ecx, ecx */
        0x31, 0xdb,                         /* 02 xor ebx, ebx */
        0x31, 0xd2,                         /* 04 xor edx, edx */
        0x41,                               /* 06 loop: inc ecx */
        0x89, 0xc8,                         /* 07 mov eax, ecx */
        0x83, 0xe0, 0x03,                   /* 09 and eax, 3 */
        0x74, 0x0c,                         /* 0c jz skip (1a) */
        0x83, 0xc2, 0x05,                   /* 0e add edx, 5 */
        0x81, 0xf9, 0xf4, 0x01, 0x00, 0x00, /* 11 cmp ecx, 500 */
        0x72, 0x08,                         /* 17 jb below (21) */
        0xf4,                               /* 19 hlt */
        0x0f, 0x94, 0xc0,                   /* 1a skip: setz al */
        0x01, 0xc3,                         /* 1d add ebx, eax */
        0xeb, 0xe5,                         /* 1f jmp loop */
        0x11, 0xcb,                         /* 21 below: adc ebx, ecx */
        0xeb, 0xe1,                         /* 23 jmp loop */
    };
    struct je m = je_new(engine);
    je_code(&m, code, sizeof(code));
    if (engine == CPU_ENGINE_JIT) {
        enum cpu_exit e;
        unsigned slices = 0;
        while ((e = cpu_exec(m.cpu, slice)) == CPU_EXIT_BUDGET)
            cr_assert_lt(++slices, 100000u);
        cr_assert_eq(e, CPU_EXIT_HALT);
        *blocks = jit_stat(m.cpu, "blocks translated");
    } else {
        je_run_to_halt(&m);
    }
    struct side_exit_state s;
    memcpy(s.regs, m.cpu->regs, sizeof(s.regs));
    s.eflags = cpu_get_eflags(m.cpu);
    s.eip = m.cpu->eip;
    s.icount = m.cpu->icount;
    je_free(&m);
    return s;
}

Test(jit_engine, forward_jcc_side_exits_as_the_interpreter_runs_them)
{
    unsigned long long blocks = 0;
    struct side_exit_state want = side_exit_run(CPU_ENGINE_INTERP, 0, NULL);
    struct side_exit_state got = side_exit_run(CPU_ENGINE_JIT, 5, &blocks);
    cr_assert_eq(want.regs[R_ECX], 501u);
    for (int r = 0; r < 8; r++)
        cr_assert_eq(got.regs[r], want.regs[r], "reg %d: %08x, interpreter %08x", r,
                     got.regs[r], want.regs[r]);
    cr_assert_eq(got.eflags, want.eflags, "eflags %08x, interpreter %08x", got.eflags,
                 want.eflags);
    cr_assert_eq(got.eip, want.eip);
    cr_assert_eq(got.icount, want.icount, "%llu instructions, interpreter %llu",
                 (unsigned long long)got.icount, (unsigned long long)want.icount);
    /* Run whole: from 00 (through both Jcc to the HLT), skip, below,
     * and the loop from 06: four blocks, where ending at each Jcc made
     * six. (Slices ending at the loop's entry add one from 0c: the loop's
     * first three instructions write the flags, the careful path runs
     * them there, exec.c exact_flags.) */
    side_exit_run(CPU_ENGINE_JIT, 10000000, &blocks);
    cr_assert_eq(blocks, 4ull, "%llu blocks translated", blocks);
}

/* -d perfmap: each translated block named after its guest address in
 * /tmp/perf-PID.map ("START SIZE name", hex), where perf(1) looks. */
Test(jit_engine, perfmap_names_each_block)
{
    static const uint8_t code[] = {
        0xb8, 0x02, 0x00, 0x00, 0x00, /* mov eax, 2 */
        0xeb, 0x00,                   /* jmp +0 */
        0xf4,                         /* hlt */
    };
    char path[64];
    snprintf(path, sizeof(path), "/tmp/perf-%ld.map", (long)getpid());
    remove(path);
    struct je m = je_new(CPU_ENGINE_JIT);
    je_code(&m, code, sizeof(code));
    m.cpu->log_mask = LOG_PERFMAP;
    je_run_to_halt(&m);
    je_free(&m); /* closes the map */
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no %s", path);
    char line[128];
    unsigned found = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long start;
        unsigned size;
        char name[64];
        cr_assert_eq(sscanf(line, "%lx %x guest %63s", &start, &size, name), 3, "%s", line);
        cr_assert(start != 0 && size > 0, "%s", line);
        if (!strcmp(name, "0008:00010000") || !strcmp(name, "0008:00010007"))
            found++;
    }
    fclose(f);
    remove(path);
    cr_assert_eq(found, 2u, "both blocks named");
}

/* A function called from two places returns to each (RET through the
 * jump cache, one target and then the other); then the program rewrites
 * the code at both return addresses (its stores drop their blocks, not
 * the function's, on a page of its own) and runs the loop again: the
 * returns must reach the new code, not the dropped blocks. */
Test(jit_engine, returns_reach_rewritten_return_addresses)
{
    static const uint8_t code[] = {
        0xb9, 0xe8, 0x03, 0x00, 0x00,             /* 00 mov ecx, 1000 */
        0xe8, 0xf6, 0x1f, 0x00, 0x00,             /* 05 loop: call f (2000) */
        0x83, 0xc0, 0x01,                         /* 0a add eax, 1 */
        0xe8, 0xee, 0x1f, 0x00, 0x00,             /* 0d call f */
        0x83, 0xc2, 0x01,                         /* 12 add edx, 1 */
        0x49,                                     /* 15 dec ecx */
        0x75, 0xed,                               /* 16 jnz loop */
        0x83, 0xfe, 0x00,                         /* 18 cmp esi, 0 */
        0x75, 0x16,                               /* 1b jne done */
        0x46,                                     /* 1d inc esi */
        0xc6, 0x05, 0x0c, 0x00, 0x01, 0x00, 0x05, /* 1e mov byte [1000c], 5 */
        0xc6, 0x05, 0x14, 0x00, 0x01, 0x00, 0x07, /* 25 mov byte [10014], 7 */
        0xb9, 0xe8, 0x03, 0x00, 0x00,             /* 2c mov ecx, 1000 */
        0xeb, 0xd2,                               /* 31 jmp loop */
        0xf4,                                     /* 33 done: hlt */
    };
    static const uint8_t f[] = {
        0x83, 0xc3, 0x02, /* 2000 f: add ebx, 2 */
        0xc3,             /* 2003 ret */
    };
    struct je m = je_new(CPU_ENGINE_JIT);
    je_code(&m, code, sizeof(code));
    phys_write_buf(m.pm, JE_CODE + 0x2000, f, sizeof(f));
    m.cpu->regs[R_EAX] = m.cpu->regs[R_EDX] = m.cpu->regs[R_EBX] = m.cpu->regs[R_ESI] = 0;
    je_run_to_halt(&m);
    cr_assert_eq(m.cpu->regs[R_EAX], 1000u + 5000u, "eax %u", m.cpu->regs[R_EAX]);
    cr_assert_eq(m.cpu->regs[R_EDX], 1000u + 7000u, "edx %u", m.cpu->regs[R_EDX]);
    cr_assert_eq(m.cpu->regs[R_EBX], 8000u);
    cr_assert_eq(m.cpu->regs[R_ESP], JE_STACK);
    je_free(&m);
}

/* Where a slice ends the state is exact, the arithmetic flags included:
 * a block that overwrites the flags before it reads them is linked from
 * its predecessors without their flags saved, and a slice that ends at
 * its entry must not leave stale ones for an interrupt handler's EFLAGS
 * image to see (CMP, then a block that starts with XOR). After each of
 * many short slices under the JIT, an interpreter run of the same number
 * of instructions from the start must have the same registers, EFLAGS
 * and EIP. */
static const uint8_t stale_code[] = {
    0xb9, 0x64, 0x00, 0x00, 0x00,       /* 00 mov ecx, 100 */
    0x81, 0xf9, 0xe8, 0x03, 0x00, 0x00, /* 05 loop: cmp ecx, 1000 (CF SF set) */
    0xeb, 0x00,                         /* 0b jmp next */
    0x31, 0xc0,                         /* 0d next: xor eax, eax (ZF PF set) */
    0x83, 0xc3, 0x07,                   /* 0f add ebx, 7 */
    0x81, 0xf9, 0xe8, 0x03, 0x00, 0x00, /* 12 cmp ecx, 1000 */
    0xeb, 0x00,                         /* 18 jmp next2 */
    0x8d, 0x52, 0x01,                   /* 1a next2: lea edx, [edx + 1] */
    0x29, 0xf6,                         /* 1d sub esi, esi */
    0x49,                               /* 1f dec ecx */
    0x75, 0xe3,                         /* 20 jnz loop */
    0xf4,                               /* 22 hlt */
};

static void stale_state(uint64_t insns, uint32_t *regs, uint32_t *eflags,
                        uint32_t *eip)
{
    struct je m = je_new(CPU_ENGINE_INTERP);
    je_code(&m, stale_code, sizeof(stale_code));
    m.cpu->no_block_cache = true; /* the careful path: stops at exactly `insns` */
    memset(m.cpu->regs, 0, 16); /* EAX..EBX */
    m.cpu->regs[R_ESI] = 0;
    m.cpu->icount = 0;
    while (m.cpu->icount < insns && !m.cpu->halted)
        cpu_exec(m.cpu, insns - m.cpu->icount);
    cr_assert_eq(m.cpu->icount, insns);
    memcpy(regs, m.cpu->regs, 32);
    *eflags = cpu_get_eflags(m.cpu);
    *eip = m.cpu->eip;
    je_free(&m);
}

Test(jit_engine, a_slice_ends_with_exact_flags)
{
    struct je m = je_new(CPU_ENGINE_JIT);
    je_code(&m, stale_code, sizeof(stale_code));
    memset(m.cpu->regs, 0, 16);
    m.cpu->regs[R_ESI] = 0;
    m.cpu->icount = 0;
    unsigned checked = 0;
    while (!m.cpu->halted) {
        cr_assert_lt(checked, 10000u);
        enum cpu_exit e = cpu_exec(m.cpu, 1 + checked % 7);
        if (e != CPU_EXIT_BUDGET)
            break;
        uint32_t regs[8], eflags, eip;
        stale_state(m.cpu->icount, regs, &eflags, &eip);
        cr_assert_eq(m.cpu->eip, eip, "after %llu instructions: eip %x / %x",
                     (unsigned long long)m.cpu->icount, m.cpu->eip, eip);
        cr_assert_eq(cpu_get_eflags(m.cpu), eflags,
                     "after %llu instructions (eip %x): eflags %08x, interpreter %08x",
                     (unsigned long long)m.cpu->icount, eip, cpu_get_eflags(m.cpu), eflags);
        cr_assert(!memcmp(m.cpu->regs, regs, 32), "after %llu instructions: registers",
                  (unsigned long long)m.cpu->icount);
        checked++;
    }
    cr_assert_gt(checked, 100u);
    je_free(&m);
}

/*
 * First sight (run.c): with cpu->jit_first_sight, a block met for the
 * first time runs on the careful path and is translated when it is met
 * again. Here the entry block (which runs the loop's first iteration),
 * the loop's body and the HLT after it are each met: only the body,
 * met again on the loop's third iteration, is translated; without first
 * sight all three are. Both compute the same sum.
 */
static void first_sight_run(bool first, unsigned long long *sights,
                            unsigned long long *blocks)
{
    static const uint8_t code[] = {
        0xb9, 0x64, 0x00, 0x00, 0x00, /* mov ecx, 100 */
        0x31, 0xc0,                   /* xor eax, eax */
        0x01, 0xc8,                   /* again: add eax, ecx */
        0x49,                         /* dec ecx */
        0x75, 0xfb,                   /* jnz again */
        0xf4,                         /* hlt */
    };
    struct je m = je_new(CPU_ENGINE_JIT);
    m.cpu->jit_first_sight = first;
    je_code(&m, code, sizeof(code));
    je_run_to_halt(&m);
    cr_assert_eq(m.cpu->regs[R_EAX], 5050u, "first sight %d: eax %u", first,
                 m.cpu->regs[R_EAX]);
    *sights = jit_stat(m.cpu, "blocks run on the careful path when first met");
    *blocks = jit_stat(m.cpu, "blocks translated");
    je_free(&m);
}

Test(jit_engine, blocks_run_once_are_not_translated)
{
    unsigned long long sights, blocks;
    first_sight_run(true, &sights, &blocks);
    cr_assert_eq(sights, 3ull, "%llu first sights", sights);
    cr_assert_eq(blocks, 1ull, "%llu blocks translated", blocks);
    first_sight_run(false, &sights, &blocks);
    cr_assert_eq(sights, 0ull, "%llu first sights", sights);
    cr_assert_eq(blocks, 3ull, "%llu blocks translated", blocks);
}

/* A loop calling a function: JE_CODE + 0x0d is f, + 0x10 its RET. */
static const uint8_t brk_loop[] = {
    0xb9, 0x20, 0x4e, 0x00, 0x00, /* mov ecx, 20000 */
    0xe8, 0x03, 0x00, 0x00, 0x00, /* l: call f */
    0xe2, 0xf9,                   /* loop l */
    0xf4,                         /* hlt */
    0x83, 0xc0, 0x03,             /* f: add eax, 3 */
    0xc3,                         /* ret */
};

/*
 * A debugger's breakpoint under the JIT: translated code runs chained at
 * full speed while one is set elsewhere (a few dispatches, not one per
 * block: cpu_exec ran one block at a time before), and one set after the
 * loop's blocks were translated and linked still stops the guest right
 * before its instruction, at a block's start or inside one (the blocks
 * holding it are dropped, with every link into them: run.c).
 */
Test(jit_engine, breakpoints_leave_chained_code_at_full_speed_and_still_stop)
{
    struct je m = je_new(CPU_ENGINE_JIT);
    je_code(&m, brk_loop, sizeof(brk_loop));
    cr_assert_eq(cpu_dbg_break_insert(m.cpu, JE_CODE + 0x800), 0); /* never reached */
    cr_assert_eq(cpu_exec(m.cpu, 1000000), CPU_EXIT_HALT);
    cr_assert_eq(m.cpu->regs[R_EAX], 60000u);
    unsigned long long dispatches = jit_stat(m.cpu, "dispatches");
    cr_assert_lt(dispatches, 2000ull, "%llu dispatches for 20000 calls", dispatches);
    je_free(&m);

    for (unsigned at = 0x0d; at <= 0x10; at += 3) {
        struct je r = je_new(CPU_ENGINE_JIT);
        je_code(&r, brk_loop, sizeof(brk_loop));
        cr_assert_eq(cpu_exec(r.cpu, 30001), CPU_EXIT_BUDGET); /* ~7500 rounds, linked */
        uint32_t ecx = r.cpu->regs[R_ECX];
        cr_assert_eq(cpu_dbg_break_insert(r.cpu, JE_CODE + at), 0);
        cr_assert_eq(cpu_exec(r.cpu, 1000000), CPU_EXIT_DEBUG, "breakpoint at +%x", at);
        cr_assert_eq(r.cpu->eip, JE_CODE + at, "at +%x: eip %x", at, r.cpu->eip);
        cr_assert_eq(r.cpu->dbg.stop.kind, CPU_DBG_BREAK);
        cr_assert(r.cpu->regs[R_ECX] == ecx || r.cpu->regs[R_ECX] == ecx - 1,
                  "at +%x: ecx %u, then %u", at, ecx, r.cpu->regs[R_ECX]);
        je_free(&r);
    }
}

/* The jump cache's slot is pc bits 2-13 (jit.h jit_jc_index), two host
 * instructions in every inline probe (four before 2026-12-08, on the
 * way to the target of every RET and indirect CALL/JMP): the probe and
 * the dispatcher that fills the cache must agree on it, or every probe
 * misses and each of the 4000 calls and returns below goes through the
 * dispatcher. Four functions, one through a table in turn. */
Test(jit_engine, jump_cache_slot_takes_two_instructions_and_hits)
{
    static const uint8_t code[] = {
        0x31, 0xdb,                               /* xor ebx, ebx */
        0xb9, 0xd0, 0x07, 0x00, 0x00,             /* mov ecx, 2000 */
        0x89, 0xc8,                               /* l: mov eax, ecx */
        0x83, 0xe0, 0x03,                         /* and eax, 3 */
        0xff, 0x14, 0x85, 0x00, 0x00, 0x03, 0x00, /* call [30000h + eax*4] */
        0xe2, 0xf4,                               /* loop l */
        0xf4,                                     /* hlt */
    };
    static const uint8_t fn[] = { 0x83, 0xc3, 0x01, 0xc3 }; /* add ebx, 1; ret */
    const uint32_t at[4] = { 0x20000, 0x20010, 0x21234, 0x25ffc };
    struct je m = je_new(CPU_ENGINE_JIT);
    je_code(&m, code, sizeof(code));
    for (unsigned i = 0; i < 4; i++) {
        phys_write_buf(m.pm, at[i], fn, sizeof(fn));
        memcpy(m.ram + 0x30000 + 4 * i, &at[i], 4);
    }
    je_run_collecting_host_code(&m);
    cr_assert_eq(m.cpu->regs[R_EBX], 2000u);
    unsigned long long n = jit_stat(m.cpu, "dispatches");
    cr_assert_lt(n, 100ull, "%llu dispatches for 2000 calls", n);
    const char *text = je_host_text();
    cr_assert_not_null(strstr(text, "lea r10d, [r11*4]\nand r10d, 0xfff0\nmovabs r8, "), "%s",
                       text);
    je_free(&m);
}
