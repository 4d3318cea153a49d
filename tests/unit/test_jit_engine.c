/*
 * test_jit_engine.c — the JIT as an engine of cpu_exec: small programs on
 * a bare CPU in flat 32-bit protected mode, run under the JIT and (where
 * it says) under the interpreter too. What the difftest and the fuzzers
 * cannot see well: a REP string instruction that yields mid-way inside a
 * block, self-modifying code in the running block, the run budget,
 * translation-cache flushes, the traces (-d exec, in_asm, out_asm) and
 * the W^X mapping of the cache.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "memory/memory.h"
#include "translate/translate.h"

#define JE_RAM (4u << 20)
#define JE_CODE 0x10000u
#define JE_GDT 0x1000u
#define JE_STACK 0x80000u

struct je {
    struct phys_mem *pm;
    struct io_space *io;
    struct cpu *cpu;
    uint8_t *ram;
};

static struct je je_new(int engine)
{
    struct je m;
    m.ram = calloc(1, JE_RAM);
    m.pm = phys_new();
    m.io = io_new();
    cr_assert(m.ram && m.pm && m.io);
    cr_assert_eq(phys_map_ram(m.pm, 0, JE_RAM, m.ram), 0);
    struct cpu_bus bus = { .mem = m.pm, .io = m.io };
    m.cpu = cpu_new(&bus);
    cr_assert_not_null(m.cpu);
    m.cpu->engine = (uint8_t)engine;
    m.cpu->jit_code_size = 1u << 20;
    static const struct seg code = { 0x08, 0, 0xffffffffu,
                                     AR_P | AR_S | AR_T_CODE | AR_T_READABLE | AR_T_ACCESSED |
                                         AR_DB | AR_G };
    static const struct seg data = { 0x10, 0, 0xffffffffu,
                                     AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED | AR_DB | AR_G };
    struct cpu *cpu = m.cpu;
    for (int s = 0; s < SEG_COUNT; s++)
        cpu->seg[s] = data;
    cpu->seg[SEG_CS] = code;
    cpu->cr0 = CR0_PE | CR0_ET;
    cpu->code32 = 1;
    cpu->stack32 = 1;
    cpu->eip = JE_CODE;
    cpu->regs[R_ESP] = JE_STACK;
    cpu->gdtr = (struct dtr){ JE_GDT, 23 };
    return m;
}

static void je_free(struct je *m)
{
    cpu_exec_release(m->cpu);
    cpu_free(m->cpu);
    io_free(m->io);
    phys_free(m->pm);
    free(m->ram);
}

static void je_code(struct je *m, const uint8_t *code, size_t len)
{
    phys_write_buf(m->pm, JE_CODE, code, len);
}

static void je_run_to_halt(struct je *m)
{
    cr_assert_eq(cpu_exec(m->cpu, 10000000), CPU_EXIT_HALT);
}

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
