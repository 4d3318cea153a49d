/*
 * jit_engine_harness.h — a bare CPU for the JIT's engine tests: 4 MiB of
 * RAM, flat 32-bit protected mode (CS 08h, data 10h, base 0, limit 4 GiB),
 * code at JE_CODE, the stack at JE_STACK. Shared by test_jit_engine.c and
 * test_jit_x87.c; test_dirty.c takes the flat mode alone (je_flat_mode).
 */
#ifndef GLASS_TESTS_JIT_ENGINE_HARNESS_H
#define GLASS_TESTS_JIT_ENGINE_HARNESS_H

#include <capstone/capstone.h>
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

/* `cpu` in flat 32-bit protected mode: CS 08h and every data segment
 * 10h, base 0, limit 4 GiB, ESP at JE_STACK. */
static inline void je_flat_mode(struct cpu *cpu)
{
    static const struct seg code = { 0x08, 0, 0xffffffffu,
                                     AR_P | AR_S | AR_T_CODE | AR_T_READABLE | AR_T_ACCESSED |
                                         AR_DB | AR_G };
    static const struct seg data = { 0x10, 0, 0xffffffffu,
                                     AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED | AR_DB | AR_G };
    for (int s = 0; s < SEG_COUNT; s++)
        cpu->seg[s] = data;
    cpu->seg[SEG_CS] = code;
    cpu->cr0 = CR0_PE | CR0_ET;
    cpu->code32 = 1;
    cpu->stack32 = 1;
    cpu->regs[R_ESP] = JE_STACK;
}

static inline struct je je_new(int engine)
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
    je_flat_mode(m.cpu);
    m.cpu->eip = JE_CODE;
    m.cpu->gdtr = (struct dtr){ JE_GDT, 23 };
    return m;
}

static inline void je_free(struct je *m)
{
    cpu_exec_release(m->cpu);
    cpu_free(m->cpu);
    io_free(m->io);
    phys_free(m->pm);
    free(m->ram);
}

static inline void je_code(struct je *m, const uint8_t *code, size_t len)
{
    phys_write_buf(m->pm, JE_CODE, code, len);
}

static inline void je_run_to_halt(struct je *m)
{
    cr_assert_eq(cpu_exec(m->cpu, 10000000), CPU_EXIT_HALT);
}

/* Paging for a test: the page directory at `pd` maps the first 4 MiB
 * through the table after it, one to one with PTE bits `bits`, but for
 * the page at 7000h: absent when `page7` is 0, else mapped to it. */
static inline void je_map(struct je *m, uint32_t pd, uint32_t bits, uint32_t page7)
{
    uint32_t pde = (pd + 0x1000) | (bits & 7);
    memcpy(m->ram + pd, &pde, 4);
    for (uint32_t i = 0; i < 1024; i++) {
        uint32_t pte = i == 7 ? (page7 ? page7 | bits : 0) : (i << 12 | bits);
        memcpy(m->ram + pd + 0x1000 + 4 * i, &pte, 4);
    }
}

/* Turns paging on with CR3 = `pd` (and CR4.PGE if `pge`). */
static inline void je_paging_on(struct je *m, uint32_t pd, bool pge)
{
    m->cpu->cr3 = pd;
    if (pge)
        m->cpu->cr4 |= CR4_PGE;
    m->cpu->cr0 |= CR0_PG;
    tlb_flush_all(&m->cpu->tlb);
}

/* The number before `what` in -d jit's statistics. */
static inline unsigned long long jit_stat(const struct cpu *cpu, const char *what)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    cpu_exec_print_stats(cpu, f);
    fclose(f);
    const char *at = strstr(text, what);
    cr_assert_not_null(at, "no '%s' in %s", what, text);
    while (at > text && at[-1] == ' ')
        at--;
    while (at > text && at[-1] >= '0' && at[-1] <= '9')
        at--;
    unsigned long long n = strtoull(at, NULL, 10);
    free(text);
    return n;
}

/* The host code of the blocks translated while this is the CPU's
 * trace_code hook (with LOG_OUT_ASM in its log mask), disassembled with
 * Capstone, an instruction a line, in je_host_text(). */
static inline char *je_host_text(void)
{
    static char text[1 << 16];
    return text;
}

static inline void je_host_code(void *opaque, const char *heading, uint64_t addr,
                                const uint8_t *bytes, size_t len, unsigned bits)
{
    (void)opaque, (void)heading;
    if (bits != 64)
        return;
    char *text = je_host_text();
    csh h;
    cr_assert_eq(cs_open(CS_ARCH_X86, CS_MODE_64, &h), CS_ERR_OK);
    cs_insn *ci;
    size_t count = cs_disasm(h, bytes, len, addr, 0, &ci);
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(text);
        snprintf(text + n, (1 << 16) - n, "%s %s\n", ci[i].mnemonic, ci[i].op_str);
    }
    cs_free(ci, count);
    cs_close(&h);
}

/* Runs `m` to its HLT with its blocks' host code collected (je_host_text). */
static inline void je_run_collecting_host_code(struct je *m)
{
    FILE *log = tmpfile();
    cr_assert_not_null(log);
    m->cpu->log = log;
    m->cpu->log_mask = LOG_OUT_ASM;
    m->cpu->trace_code = je_host_code;
    je_host_text()[0] = '\0';
    je_run_to_halt(m);
    m->cpu->log_mask = 0;
    m->cpu->log = stderr;
    fclose(log);
}

#endif
