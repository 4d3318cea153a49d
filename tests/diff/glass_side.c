/*
 * glass_side.c — Glass's side of the differential test: a bare CPU (no
 * PC around it) in flat 32-bit protected mode over a little RAM, running
 * each case with the engine the test was started with (--engine: the
 * interpreter's block cache, or the JIT), every other case through the
 * careful one-instruction path instead. Exceptions go through an IDT whose
 * every gate leads to a HLT at 0x3000 + vector, so the vector, the saved
 * EIP and EFLAGS can be read back from the frame.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "diff.h"
#include "memory/memory.h"
#include "translate/translate.h"

#define LOW_SIZE 0x10000u
#define HIGH_BASE 0x10000000u
#define HIGH_SIZE 0x40000u
#define GDT_ADDR 0x1000u
#define IDT_ADDR 0x2000u
#define STUB_ADDR 0x3000u

struct diff_glass {
    struct phys_mem *pm;
    struct io_space *io;
    struct cpu *cpu;
    uint8_t *low, *high;
};

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

struct diff_glass *diff_glass_new(void)
{
    struct diff_glass *g = calloc(1, sizeof(*g));
    g->low = calloc(1, LOW_SIZE);
    g->high = calloc(1, HIGH_SIZE);
    g->pm = phys_new();
    g->io = io_new();
    if (!g->low || !g->high || !g->pm || !g->io ||
        phys_map_ram(g->pm, 0, LOW_SIZE, g->low) < 0 ||
        phys_map_ram(g->pm, HIGH_BASE, HIGH_SIZE, g->high) < 0) {
        fprintf(stderr, "difftest: cannot build the test machine\n");
        exit(2);
    }
    struct cpu_bus bus = { .mem = g->pm, .io = g->io };
    g->cpu = cpu_new(&bus);
    /* GDT: null, flat 32-bit code (0x08), flat 32-bit data (0x10). */
    put64(g->low + GDT_ADDR + 8, 0x00cf9b000000ffffull);
    put64(g->low + GDT_ADDR + 16, 0x00cf93000000ffffull);
    /* IDT: 32 interrupt gates to 0x08:0x3000+v, each a HLT. */
    for (unsigned v = 0; v < 32; v++) {
        uint32_t off = STUB_ADDR + v;
        uint64_t gate = (off & 0xffff) | (0x08u << 16) | ((uint64_t)0x8e00 << 32) |
                        ((uint64_t)(off & 0xffff0000u) << 32);
        put64(g->low + IDT_ADDR + 8 * v, gate);
        g->low[STUB_ADDR + v] = 0xf4;
    }
    return g;
}

void diff_glass_free(struct diff_glass *g)
{
    cpu_exec_print_stats(g->cpu, stdout);
    cpu_exec_release(g->cpu);
    cpu_free(g->cpu);
    io_free(g->io);
    phys_free(g->pm);
    free(g->low);
    free(g->high);
    free(g);
}

static void flat_state(struct cpu *cpu, uint32_t eip, const uint32_t regs[8], uint32_t eflags)
{
    static const struct seg code = { 0x08, 0, 0xffffffffu,
                                     AR_P | AR_S | AR_T_CODE | AR_T_READABLE | AR_T_ACCESSED |
                                         AR_DB | AR_G };
    static const struct seg data = { 0x10, 0, 0xffffffffu,
                                     AR_P | AR_S | AR_T_WRITABLE | AR_T_ACCESSED | AR_DB | AR_G };
    memcpy(cpu->regs, regs, 8 * sizeof(uint32_t));
    cpu->eflags = eflags | FL_FIXED1;
    cpu->cc.op = CC_EAGER;
    cpu->eip = eip;
    for (int s = 0; s < SEG_COUNT; s++)
        cpu->seg[s] = data;
    cpu->seg[SEG_CS] = code;
    cpu->cr0 = CR0_PE | CR0_ET;
    cpu->cpl = 0;
    cpu->code32 = 1;
    cpu->stack32 = 1;
    cpu->halted = 0;
    cpu->inhibit_irq = 0;
    cpu->gdtr = (struct dtr){ GDT_ADDR, 23 };
    cpu->idtr = (struct dtr){ IDT_ADDR, 32 * 8 - 1 };
}

static uint32_t get32(struct diff_glass *g, uint32_t addr)
{
    uint32_t v = 0;
    if (addr >= HIGH_BASE && addr - HIGH_BASE <= HIGH_SIZE - 4)
        memcpy(&v, g->high + (addr - HIGH_BASE), 4);
    return v;
}

/* Runs from `eip` to the HLT after the code, or to an exception stub. */
static void run(struct diff_glass *g, uint32_t end_eip, struct diff_result *res)
{
    struct cpu *cpu = g->cpu;
    enum cpu_exit why = cpu_exec(cpu, 100000);
    memcpy(res->regs, cpu->regs, sizeof(res->regs));
    res->eflags = cpu_get_eflags(cpu);
    res->vector = -1;
    if (why != CPU_EXIT_HALT) {
        res->vector = 255; /* did not stop: never happens on the host */
        return;
    }
    if (cpu->eip == end_eip)
        return;
    if (cpu->eip > STUB_ADDR && cpu->eip <= STUB_ADDR + 32) {
        int v = (int)(cpu->eip - STUB_ADDR - 1);
        uint32_t sp = cpu->regs[R_ESP];
        bool has_error = v == 8 || (v >= 10 && v <= 14) || v == 17;
        if (has_error)
            sp += 4;
        res->vector = v;
        res->fault_off = get32(g, sp) - DIFF_CODE_ADDR;
        res->eflags = get32(g, sp + 8);
        res->regs[R_ESP] = sp + 12;
        return;
    }
    res->vector = 254; /* halted somewhere unexpected */
}

void diff_glass_run(struct diff_glass *g, const struct diff_case *c, struct diff_result *res)
{
    /* Through the physical address space, as a guest store or DMA would
     * write: the engine's cache must see the new code. Every other case
     * runs through the careful path, so both of the engine's paths are
     * compared with the host. */
    static const uint8_t hlt = 0xf4;
    static unsigned parity;
    g->cpu->no_block_cache = (uint8_t)(parity++ & 1);
    phys_write_buf(g->pm, DIFF_CODE_ADDR, c->code, c->code_len);
    phys_write_buf(g->pm, DIFF_CODE_ADDR + c->code_len, &hlt, 1);
    phys_write_buf(g->pm, DIFF_BUF_ADDR, c->mem, DIFF_BUF_SIZE);
    memset(res, 0, sizeof(*res));
    flat_state(g->cpu, DIFF_CODE_ADDR, c->regs, c->eflags);
    run(g, DIFF_CODE_ADDR + c->code_len + 1, res);
    res->mem_hash = diff_hash(g->high + (DIFF_BUF_ADDR - HIGH_BASE), DIFF_BUF_SIZE);
}

void diff_glass_run_bcd(struct diff_glass *g, uint8_t op, uint8_t imm, uint32_t eax,
                        uint32_t eflags, struct diff_result *res)
{
    uint8_t code[3];
    unsigned len = 0;
    code[len++] = op;
    if (op == 0xd4 || op == 0xd5)
        code[len++] = imm;
    code[len] = 0xf4;
    phys_write_buf(g->pm, DIFF_CODE_ADDR, code, len + 1);
    uint32_t regs[8] = { eax, 0, 0, 0, DIFF_STACK_TOP, 0, 0, 0 };
    memset(res, 0, sizeof(*res));
    flat_state(g->cpu, DIFF_CODE_ADDR, regs, eflags);
    run(g, DIFF_CODE_ADDR + len + 1, res);
}

void diff_glass_set_engine(struct diff_glass *g, int engine)
{
    g->cpu->engine = (uint8_t)engine;
}
