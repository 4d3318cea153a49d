/*
 * test_eventlog.c — cpu/eventlog.c and the loop's use of it: -d mode
 * names the instruction that switched modes (under both engines), -d mmu
 * prints a page fault with its walk, and dfilter= and window= keep events
 * out of the log.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/internal.h"
#include "translate/translate.h"

#define EV_RAM (1u << 20)
static uint8_t *ev_ram;
static char *ev_text;
static size_t ev_len;

static struct cpu *ev_cpu(int engine, unsigned log_mask)
{
    ev_ram = calloc(1, EV_RAM);
    struct phys_mem *pm = phys_new();
    cr_assert_eq(phys_map_ram(pm, 0, EV_RAM, ev_ram), 0);
    struct cpu_bus bus = { .mem = pm, .io = io_new() };
    struct cpu *cpu = cpu_new(&bus);
    cpu->engine = (uint8_t)engine;
    cpu->seg[SEG_CS] = (struct seg){ 0, 0, 0xffff, AR_P | AR_S | AR_T_CODE | AR_T_READABLE };
    cpu->eip = 0x1000;
    cpu->regs[R_ESP] = 0x8000;
    cpu->log_mask = log_mask;
    cpu->log = open_memstream(&ev_text, &ev_len);
    return cpu;
}

/* The log so far. */
static const char *ev_log(struct cpu *cpu)
{
    fflush(cpu->log);
    return ev_text ? ev_text : "";
}

static void ev_free(struct cpu *cpu)
{
    fclose(cpu->log);
    free(ev_text);
    ev_text = NULL;
    cpu_exec_release(cpu);
    phys_free(cpu->bus.mem);
    io_free(cpu->bus.io);
    cpu_free(cpu);
    free(ev_ram);
}

static unsigned count(const char *s, const char *needle)
{
    unsigned n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void mode_line_names_the_instruction(int engine)
{
    struct cpu *cpu = ev_cpu(engine, LOG_MODE);
    /* mov eax,cr0; or al,1; mov cr0,eax; hlt */
    static const uint8_t code[] = { 0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0, 0xf4 };
    memcpy(ev_ram + 0x1000, code, sizeof(code));
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_HALT);
    const char *log = ev_log(cpu);
    cr_assert(strstr(log, "mode: real cpl=0 -> protected cpl=0 at 0000:00001005 by mov cr "
                          "(0f 22 c0) icount=2\n"), "%s", log);
    cr_assert_eq(count(log, "mode:"), 1, "%s", log);
    ev_free(cpu);
}

Test(eventlog, mode_line_names_the_instruction_interp)
{
    mode_line_names_the_instruction(CPU_ENGINE_INTERP);
}

Test(eventlog, mode_line_names_the_instruction_jit)
{
    if (!cpu_exec_jit_available())
        cr_skip_test("no JIT on this host");
    mode_line_names_the_instruction(CPU_ENGINE_JIT);
}

Test(eventlog, a_mode_a_loader_set_is_taken_as_found)
{
    struct cpu *cpu = ev_cpu(CPU_ENGINE_INTERP, LOG_MODE);
    /* A loader (multiboot_enter) sets protected mode after the reset,
     * before anything runs: no instruction did it, nothing is logged. */
    cpu->cr0 |= CR0_PE;
    static const uint8_t code[] = { 0x90, 0xf4 };
    memcpy(ev_ram + 0x1000, code, sizeof(code));
    cr_assert_eq(cpu_exec(cpu, 100), CPU_EXIT_HALT);
    cr_assert_eq(count(ev_log(cpu), "mode:"), 0, "%s", ev_log(cpu));
    ev_free(cpu);
}

Test(eventlog, mmu_prints_the_fault_and_its_walk)
{
    struct cpu *cpu = ev_cpu(CPU_ENGINE_INTERP, LOG_MMU);
    /* Flat 32-bit protected mode, paging with one 4 MiB identity page. */
    uint32_t pde0 = 0x83;
    memcpy(ev_ram + 0x10000, &pde0, 4);
    const uint32_t code_ar = AR_P | AR_S | AR_T_CODE | AR_T_READABLE | AR_DB | AR_G;
    cpu->seg[SEG_CS] = (struct seg){ 8, 0, 0xffffffffu, code_ar };
    cpu->seg[SEG_DS] = (struct seg){ 0x10, 0, 0xffffffffu, AR_P | AR_S | AR_T_WRITABLE | AR_DB };
    cpu->cr3 = 0x10000;
    cpu->cr4 = CR4_PSE;
    cpu->cr0 |= CR0_PE | CR0_PG;
    cpu_mode_changed(cpu);
    cpu_tlb_flush(cpu);
    /* mov al,[0x400000] */
    static const uint8_t code[] = { 0xa0, 0x00, 0x00, 0x40, 0x00 };
    memcpy(ev_ram + 0x1000, code, sizeof(code));
    cpu_exec(cpu, 1); /* the #PF, then its delivery fails: no IDT */
    const char *log = ev_log(cpu);
    cr_assert(strstr(log, "mmu: #PF at 0008:00001000 cr2=00400000 err=0000 (not present, read, "
                          "supervisor) icount=0\n"), "%s", log);
    cr_assert(strstr(log, "mmu:   PDE   @000010004 = 00000000 [not present]\n"), "%s", log);
    ev_free(cpu);
}

/* int 21h; jmp back — with the handler an IRET. */
static struct cpu *int_loop(const struct log_filter *f)
{
    struct cpu *cpu = ev_cpu(CPU_ENGINE_INTERP, LOG_INT);
    static const uint8_t code[] = { 0xcd, 0x21, 0xeb, 0xfc };
    memcpy(ev_ram + 0x1000, code, sizeof(code));
    ev_ram[0x2100] = 0xcf;
    ev_ram[4 * 0x21] = 0x00;
    ev_ram[4 * 0x21 + 1] = 0x21;
    cpu->log_filter = f;
    cpu_exec(cpu, 60);
    return cpu;
}

Test(eventlog, window_and_dfilter)
{
    struct cpu *cpu = int_loop(NULL);
    unsigned all = count(ev_log(cpu), "int: vec=21");
    cr_assert_geq(all, 15);
    ev_free(cpu);

    struct log_filter window = { .window_first = 10, .window_end = 30 };
    cpu = int_loop(&window);
    unsigned some = count(ev_log(cpu), "int: vec=21");
    cr_assert(some > 0 && some < all, "%u of %u", some, all);
    ev_free(cpu);

    struct log_filter elsewhere = { .nranges = 1, .range = { { 0x2000, 0x2fff } } };
    cpu = int_loop(&elsewhere);
    cr_assert_eq(count(ev_log(cpu), "int:"), 0);
    ev_free(cpu);

    struct log_filter here = { .nranges = 2, .range = { { 0x2000, 0x2fff }, { 0x1000, 0x1000 } } };
    cpu = int_loop(&here);
    cr_assert_eq(count(ev_log(cpu), "int: vec=21"), all);
    ev_free(cpu);
}
