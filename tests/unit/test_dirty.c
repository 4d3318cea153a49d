/*
 * test_dirty.c — memory/phys.c's dirty logs (the display's "what did the
 * guest write since the last frame"): stores through every path of the
 * physical address space mark their page, a take clears the log, TLB
 * fills slow a clean page's stores down just once, and a take revokes
 * the write fast paths of attached TLBs.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream (jit_engine_harness.h) */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "memory/memory.h"
#include "tests/unit/jit_engine_harness.h"

#define DL_PAGES 16
#define DL_SIZE (DL_PAGES * 4096u)
#define DL_BASE 0xe0000000u /* where the "framebuffer" is mapped */

static struct phys_mem *dl_pm;
static uint8_t *dl_vram, *dl_ram;
static struct dirty_log *dl_log;
static struct tlb dl_tlb;

static void dl_setup(void)
{
    dl_pm = phys_new();
    dl_vram = aligned_alloc(4096, DL_SIZE);
    dl_ram = aligned_alloc(4096, 1u << 20);
    cr_assert(dl_pm && dl_vram && dl_ram);
    memset(dl_vram, 0, DL_SIZE);
    cr_assert_eq(phys_map_ram(dl_pm, 0, 1u << 20, dl_ram), 0);
    cr_assert_eq(phys_map_ram(dl_pm, DL_BASE, DL_SIZE, dl_vram), 0);
    dl_log = phys_dirty_log_new(dl_pm, dl_vram, DL_SIZE);
    cr_assert_not_null(dl_log);
    tlb_init(&dl_tlb);
    cr_assert_eq(phys_attach_tlb(dl_pm, &dl_tlb), 0);
}

static void dl_teardown(void)
{
    phys_dirty_log_free(dl_log);
    phys_free(dl_pm);
    free(dl_vram);
    free(dl_ram);
}

/* The log's pages as a 16-bit mask (clears it). */
static unsigned dl_take(void)
{
    uint64_t bits[1];
    bool any = dirty_log_take(dl_log, bits);
    cr_assert_eq(any, bits[0] != 0);
    return (unsigned)bits[0];
}

static struct page_walk dl_walk(uint64_t paddr)
{
    return (struct page_walk){ .paddr = paddr, .page_size = 4096, .writable = true,
                               .user = false, .dirty = true };
}

TestSuite(dirty, .init = dl_setup, .fini = dl_teardown);

Test(dirty, new_log_is_all_dirty_and_take_clears)
{
    cr_assert_eq(dl_take(), 0xffffu);
    cr_assert_eq(dl_take(), 0);
}

Test(dirty, stores_mark_their_pages_only)
{
    dl_take();
    phys_write(dl_pm, DL_BASE + 0x3000 + 12, 0x11223344, 4);
    phys_write(dl_pm, DL_BASE + 0x5ffe, 0xaabb, 2);
    phys_write(dl_pm, 0x5000, 1, 4); /* plain RAM: no log */
    cr_assert_eq(dl_take(), (1u << 3) | (1u << 5));
    /* A store across a page boundary marks both pages. */
    phys_write(dl_pm, DL_BASE + 0x7ffe, 0x12345678, 4);
    cr_assert_eq(dl_take(), (1u << 7) | (1u << 8));
    cr_assert_eq(dl_vram[0x7ffe], 0x78);
    cr_assert_eq(dl_vram[0x8001], 0x12);
}

Test(dirty, bulk_writes_and_device_marks)
{
    dl_take();
    uint8_t buf[3 * 4096];
    memset(buf, 7, sizeof(buf));
    /* DMA or a loader: every page it touched. */
    phys_write_buf(dl_pm, DL_BASE + 0x1800, buf, sizeof(buf));
    cr_assert_eq(dl_take(), 0x1eu);
    phys_dma_write_buf(dl_pm, DL_BASE + 0xa000, buf, 10);
    cr_assert_eq(dl_take(), 1u << 10);
    /* The device's own path (the VGA's planar window is MMIO). */
    dirty_log_mark(dl_log, 0xc000, 1);
    dirty_log_mark(dl_log, 0xeff0, 0x20);
    cr_assert_eq(dl_take(), (1u << 12) | (1u << 14) | (1u << 15));
    /* Out of range marks are clipped, never written past the bitmap. */
    dirty_log_mark(dl_log, DL_SIZE, 100);
    dirty_log_mark(dl_log, DL_SIZE - 1, 100);
    cr_assert_eq(dl_take(), 1u << 15);
}

Test(dirty, the_log_follows_the_buffer_when_its_mapping_moves)
{
    dl_take();
    cr_assert_eq(phys_unmap(dl_pm, DL_BASE, DL_SIZE), 0);
    cr_assert_eq(phys_map_ram(dl_pm, 0xf0000000u, DL_SIZE, dl_vram), 0);
    phys_write(dl_pm, 0xf0000000u + 0x2000, 1, 1);
    phys_write(dl_pm, DL_BASE + 0x4000, 1, 1); /* a hole now */
    cr_assert_eq(dl_take(), 1u << 2);
}

Test(dirty, a_clean_page_fills_slow_then_its_first_store_restores_the_fast_path)
{
    dl_take();
    struct page_walk w = dl_walk(DL_BASE + 0x2000);
    struct tlb_entry *e = tlb_fill(&dl_tlb, dl_pm, 0x40002000u, false, ACCESS_WRITE, &w);
    cr_assert_eq(e->tag_write, 0x40002000u | TLB_SLOW_DIRTY);
    cr_assert_eq(e->tag_read, 0x40002000u, "reads are never slowed");
    /* What the CPU's slow path does: the store through phys, then the
     * fast path back. */
    phys_write(dl_pm, e->paddr | 0x10, 0xab, 1);
    tlb_write_logged(e);
    cr_assert_eq(e->tag_write, 0x40002000u);
    cr_assert_eq(dl_vram[0x2010], 0xab);
    /* A dirty page fills fast. */
    struct page_walk w2 = dl_walk(DL_BASE + 0x2000);
    e = tlb_fill(&dl_tlb, dl_pm, 0x50005000u, false, ACCESS_WRITE, &w2);
    cr_assert_eq(e->tag_write, 0x50005000u);
    /* The take revokes both fast paths into the buffer, not others. */
    struct page_walk w3 = dl_walk(0x3000);
    struct tlb_entry *r = tlb_fill(&dl_tlb, dl_pm, 0x3000u, false, ACCESS_WRITE, &w3);
    cr_assert_eq(r->tag_write, 0x3000u);
    cr_assert_eq(dl_take(), 1u << 2);
    cr_assert(dl_tlb.e[0][tlb_index(0x40002000u)].tag_write & TLB_INVALID);
    cr_assert(dl_tlb.e[0][tlb_index(0x50005000u)].tag_write & TLB_INVALID);
    cr_assert_eq(dl_tlb.e[0][tlb_index(0x3000u)].tag_write, 0x3000u);
    cr_assert_eq(dl_tlb.e[0][tlb_index(0x40002000u)].tag_read, 0x40002000u);
}

Test(dirty, slow_bits_for_code_win_and_tlb_write_logged_keeps_them)
{
    dl_take();
    struct page_walk w = dl_walk(DL_BASE);
    phys_set_write_watch(dl_pm, NULL, NULL);
    struct tlb_entry *e = tlb_fill(&dl_tlb, dl_pm, 0x1000u, false, ACCESS_WRITE, &w);
    cr_assert_eq(e->tag_write, 0x1000u | TLB_SLOW_DIRTY);
    e->tag_write = 0x1000u | TLB_SLOW_CODE;
    tlb_write_logged(e);
    cr_assert_eq(e->tag_write, 0x1000u | TLB_SLOW_CODE);
    e->tag_write = TLB_INVALID;
    tlb_write_logged(e);
    cr_assert_eq(e->tag_write, TLB_INVALID);
}

Test(dirty, attach_is_bounded_and_detach_stops_revocation)
{
    static struct tlb more[PHYS_MAX_TLBS];
    for (unsigned i = 0; i < PHYS_MAX_TLBS - 1; i++)
        cr_assert_eq(phys_attach_tlb(dl_pm, &more[i]), 0);
    cr_assert_eq(phys_attach_tlb(dl_pm, &dl_tlb), 0, "attaching twice is a no-op");
    cr_assert_eq(phys_attach_tlb(dl_pm, &more[PHYS_MAX_TLBS - 1]), -1);
    for (unsigned i = 0; i < PHYS_MAX_TLBS - 1; i++)
        phys_detach_tlb(dl_pm, &more[i]);
    phys_detach_tlb(dl_pm, &dl_tlb);
    dl_take();
    struct page_walk w = dl_walk(DL_BASE);
    phys_write(dl_pm, DL_BASE, 1, 1);
    struct tlb_entry *e = tlb_fill(&dl_tlb, dl_pm, 0x1000u, false, ACCESS_WRITE, &w);
    cr_assert_eq(e->tag_write, 0x1000u);
    cr_assert_eq(dl_take(), 1u);
    cr_assert_eq(e->tag_write, 0x1000u, "a detached TLB is left alone");
}

Test(dirty, bad_arguments)
{
    cr_assert_null(phys_dirty_log_new(dl_pm, dl_vram, 0));
    cr_assert_null(phys_dirty_log_new(dl_pm, dl_vram + 1, 4096));
    cr_assert_null(phys_dirty_log_new(dl_pm, dl_vram, 100));
    cr_assert_null(phys_dirty_log_new(NULL, dl_vram, 4096));
    phys_dirty_log_free(NULL);
    cr_assert_not(phys_page_write_logged(dl_pm, dl_ram));
}

/* ------------------------------------------------ through a CPU */

#include "cpu/cpu.h"
#include "translate/translate.h"

#define DC_CODE 0x10000u

/* A bare CPU in flat 32-bit protected mode on dl_pm, its TLB attached
 * as the board attaches it. */
static struct cpu *dc_cpu(int engine, struct io_space *io)
{
    struct cpu_bus bus = { .mem = dl_pm, .io = io };
    struct cpu *cpu = cpu_new(&bus);
    cr_assert_not_null(cpu);
    cpu->engine = (uint8_t)engine;
    cpu->jit_code_size = 1u << 20;
    je_flat_mode(cpu); /* ESP 80000h */
    phys_detach_tlb(dl_pm, &dl_tlb);
    cr_assert_eq(phys_attach_tlb(dl_pm, &cpu->tlb), 0);
    return cpu;
}

/* Stores to pages 5 and 7 of the logged buffer, 200 times over (the
 * later ones on the fast path once the first marked the page), then
 * HLT. */
static void dc_program(void)
{
    static const uint8_t prog[] = {
        0xb9, 200, 0, 0, 0,                       /* mov ecx, 200 */
        0x89, 0x0d, 0x08, 0x50, 0x00, 0xe0,       /* l: mov [0xe0005008], ecx */
        0x89, 0x0d, 0x00, 0x70, 0x00, 0xe0,       /* mov [0xe0007000], ecx */
        0x49,                                     /* dec ecx */
        0x75, 0xf1,                               /* jnz l */
        0xf4,                                     /* hlt */
    };
    phys_write_buf(dl_pm, DC_CODE, prog, sizeof(prog));
}

static void dc_rounds(int engine)
{
    struct io_space *io = io_new();
    struct cpu *cpu = dc_cpu(engine, io);
    dc_program();
    dl_take();
    for (int round = 0; round < 3; round++) {
        memset(dl_vram + 0x5008, 0xee, 4);
        cpu->eip = DC_CODE;
        cpu->halted = 0;
        cr_assert_eq(cpu_exec(cpu, 1000000), CPU_EXIT_HALT);
        cr_assert_eq(dl_vram[0x5008], 1, "round %d: the stores landed", round);
        /* Every round sees both pages: the take revoked the fast path
         * the previous round's first store had restored. */
        cr_assert_eq(dl_take(), (1u << 5) | (1u << 7), "round %d", round);
    }
    /* After a round the entries write fast again: one slow store per
     * page and frame. */
    cpu->eip = DC_CODE;
    cpu->halted = 0;
    cr_assert_eq(cpu_exec(cpu, 1000000), CPU_EXIT_HALT);
    cr_assert_eq(cpu->tlb.e[0][tlb_index(0xe0005000u)].tag_write, 0xe0005000u);
    phys_detach_tlb(dl_pm, &cpu->tlb);
    cpu_exec_release(cpu);
    cpu_free(cpu);
    io_free(io);
}

Test(dirty, guest_stores_are_seen_every_round_interpreter)
{
    dc_rounds(CPU_ENGINE_INTERP);
}

Test(dirty, guest_stores_are_seen_every_round_jit)
{
    if (!cpu_exec_jit_available())
        cr_skip_test("no JIT on this host");
    dc_rounds(CPU_ENGINE_JIT);
}
