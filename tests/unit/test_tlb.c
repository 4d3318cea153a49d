/*
 * Unit tests for memory/tlb.c: which tags tlb_fill enables for each kind
 * of page and walk, and what each flush drops.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "memory/memory.h"

static uint64_t tlb_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)opaque, (void)addr, (void)size;
    return 0;
}

static void tlb_mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)opaque, (void)addr, (void)val, (void)size;
}

static const struct mem_ops tlb_mmio_ops = { .read = tlb_mmio_read, .write = tlb_mmio_write };

static struct phys_mem *tlb_pm;
static uint8_t *tlb_ram, tlb_rom[4096];
static struct tlb tlb_t;

/* RAM 0..1 MiB, ROM at 0x100000, MMIO at 0x200000, hole above. */
static void tlb_setup(void)
{
    tlb_ram = calloc(1, 1u << 20);
    tlb_pm = phys_new();
    cr_assert_eq(phys_map_ram(tlb_pm, 0, 1u << 20, tlb_ram), 0);
    cr_assert_eq(phys_map_rom(tlb_pm, 0x100000, 4096, tlb_rom), 0);
    cr_assert_eq(phys_map_mmio(tlb_pm, 0x200000, 4096, &tlb_mmio_ops, NULL), 0);
    memset(&tlb_t, 0x5a, sizeof(tlb_t)); /* garbage until flushed */
    tlb_init(&tlb_t);
}

static void tlb_teardown(void)
{
    phys_free(tlb_pm);
    free(tlb_ram);
}

static struct page_walk tlb_walk(uint64_t paddr, bool writable, bool dirty)
{
    return (struct page_walk){ .paddr = paddr, .page_size = 4096, .writable = writable,
                               .user = true, .nx = false, .global = false, .dirty = dirty };
}

TestSuite(tlb, .init = tlb_setup, .fini = tlb_teardown);

Test(tlb, flush_all_invalidates)
{
    for (unsigned u = 0; u < 2; u++)
        for (unsigned i = 0; i < TLB_ENTRIES; i++) {
            cr_assert(tlb_t.e[u][i].tag_read & TLB_INVALID);
            cr_assert(tlb_t.e[u][i].tag_write & TLB_INVALID);
            cr_assert(tlb_t.e[u][i].tag_exec & TLB_INVALID);
        }
}

Test(tlb, ram_page_dirty_writable)
{
    struct page_walk w = tlb_walk(0x7123, true, true);
    struct tlb_entry *e = tlb_fill(&tlb_t, tlb_pm, 0x40005123, false, ACCESS_READ, &w);
    cr_assert_eq(e, &tlb_t.e[0][tlb_index(0x40005123)]);
    cr_assert_eq(e->tag_read, 0x40005000u);
    cr_assert_eq(e->tag_write, 0x40005000u);
    cr_assert_eq(e->tag_exec, 0x40005000u);
    cr_assert_eq(e->paddr, 0x7000u);
    cr_assert_eq((uint8_t *)(e->addend + 0x40005123u), tlb_ram + 0x7123);
    cr_assert_eq(e->flags & (TLB_ENTRY_GLOBAL | TLB_ENTRY_LARGE), 0u);
}

Test(tlb, clean_page_write_needs_walk)
{
    struct page_walk w = tlb_walk(0x7000, true, false);
    struct tlb_entry *e = tlb_fill(&tlb_t, tlb_pm, 0x5000, true, ACCESS_READ, &w);
    cr_assert_eq(e, &tlb_t.e[1][5]);
    cr_assert_eq(e->tag_read, 0x5000u);
    cr_assert(e->tag_write & TLB_INVALID);
    /* The write walk has just set D. */
    e = tlb_fill(&tlb_t, tlb_pm, 0x5000, true, ACCESS_WRITE, &w);
    cr_assert_eq(e->tag_write, 0x5000u);
    /* Read-only page: never a write tag. */
    w = tlb_walk(0x7000, false, true);
    e = tlb_fill(&tlb_t, tlb_pm, 0x5000, true, ACCESS_READ, &w);
    cr_assert(e->tag_write & TLB_INVALID);
    cr_assert_eq(e->tag_read, 0x5000u);
}

Test(tlb, nx_global_large)
{
    struct page_walk w = tlb_walk(0x7000, true, true);
    w.nx = true;
    w.global = true;
    w.page_size = 4u << 20;
    struct tlb_entry *e = tlb_fill(&tlb_t, tlb_pm, 0x00407000, false, ACCESS_READ, &w);
    cr_assert(e->tag_exec & TLB_INVALID);
    cr_assert_eq(e->tag_read, 0x00407000u);
    cr_assert_eq(e->flags & (TLB_ENTRY_GLOBAL | TLB_ENTRY_LARGE), TLB_ENTRY_GLOBAL | TLB_ENTRY_LARGE);
}

Test(tlb, rom_mmio_hole_code)
{
    struct page_walk w = tlb_walk(0x100000, true, true);
    struct tlb_entry *e = tlb_fill(&tlb_t, tlb_pm, 0x1000, false, ACCESS_WRITE, &w);
    cr_assert_eq(e->tag_read, 0x1000u);
    cr_assert_eq(e->tag_exec, 0x1000u);
    cr_assert_eq(e->tag_write, 0x1000u | TLB_SLOW_MMIO);
    cr_assert_eq((uint8_t *)(e->addend + 0x1010u), tlb_rom + 0x10);

    w = tlb_walk(0x200000, true, true);
    e = tlb_fill(&tlb_t, tlb_pm, 0x2000, false, ACCESS_READ, &w);
    cr_assert_eq(e->tag_read, 0x2000u | TLB_SLOW_MMIO);
    cr_assert_eq(e->tag_write, 0x2000u | TLB_SLOW_MMIO);
    cr_assert_eq(e->tag_exec, 0x2000u | TLB_SLOW_MMIO);
    cr_assert_eq(e->paddr, 0x200000u);

    w = tlb_walk(0x900000, true, true); /* hole */
    e = tlb_fill(&tlb_t, tlb_pm, 0x3000, false, ACCESS_READ, &w);
    cr_assert_eq(e->tag_read, 0x3000u | TLB_SLOW_MMIO);

    phys_mark_code_page(tlb_pm, 0x8000);
    w = tlb_walk(0x8000, true, true);
    e = tlb_fill(&tlb_t, tlb_pm, 0x4000, false, ACCESS_READ, &w);
    cr_assert_eq(e->tag_read, 0x4000u);
    cr_assert_eq(e->tag_exec, 0x4000u);
    cr_assert_eq(e->tag_write, 0x4000u | TLB_SLOW_CODE);
}

Test(tlb, flush_nonglobal_keeps_global)
{
    struct page_walk w = tlb_walk(0x7000, true, true);
    tlb_fill(&tlb_t, tlb_pm, 0x5000, false, ACCESS_READ, &w);
    w.global = true;
    tlb_fill(&tlb_t, tlb_pm, 0x6000, false, ACCESS_READ, &w);
    tlb_flush_nonglobal(&tlb_t);
    cr_assert(tlb_t.e[0][5].tag_read & TLB_INVALID);
    cr_assert_eq(tlb_t.e[0][6].tag_read, 0x6000u);
    tlb_flush_all(&tlb_t);
    cr_assert(tlb_t.e[0][6].tag_read & TLB_INVALID);
}

Test(tlb, flush_page_both_tlbs_and_large_pages)
{
    struct page_walk w = tlb_walk(0x7000, true, true);
    w.global = true;
    tlb_fill(&tlb_t, tlb_pm, 0x5000, false, ACCESS_READ, &w);
    tlb_fill(&tlb_t, tlb_pm, 0x5000, true, ACCESS_READ, &w);
    tlb_fill(&tlb_t, tlb_pm, 0x9000, false, ACCESS_READ, &w);
    /* Two slices of one 4 MiB page, in other slots. */
    struct page_walk big = tlb_walk(0x20000, true, true);
    big.page_size = 4u << 20;
    tlb_fill(&tlb_t, tlb_pm, 0x00420000, false, ACCESS_READ, &big);
    big.paddr = 0x31000;
    tlb_fill(&tlb_t, tlb_pm, 0x00431000, true, ACCESS_READ, &big);

    tlb_flush_page(&tlb_t, 0x5abc);
    cr_assert(tlb_t.e[0][5].tag_read & TLB_INVALID, "global entries go too");
    cr_assert(tlb_t.e[1][5].tag_read & TLB_INVALID);
    cr_assert_eq(tlb_t.e[0][9].tag_read, 0x9000u);

    /* INVLPG of another address in the large page drops its slices. */
    tlb_flush_page(&tlb_t, 0x00400000);
    cr_assert(tlb_t.e[0][tlb_index(0x00420000)].tag_read & TLB_INVALID);
    cr_assert(tlb_t.e[1][tlb_index(0x00431000)].tag_read & TLB_INVALID);
    cr_assert_eq(tlb_t.e[0][9].tag_read, 0x9000u);
}

Test(tlb, flush_phys_page_drops_write_tags)
{
    struct page_walk w = tlb_walk(0x7000, true, true);
    tlb_fill(&tlb_t, tlb_pm, 0x5000, false, ACCESS_READ, &w);
    tlb_fill(&tlb_t, tlb_pm, 0x8000, true, ACCESS_READ, &w); /* alias */
    w.paddr = 0x9000;
    tlb_fill(&tlb_t, tlb_pm, 0x6000, false, ACCESS_READ, &w);
    tlb_flush_phys_page(&tlb_t, 0x7abc);
    cr_assert(tlb_t.e[0][5].tag_write & TLB_INVALID);
    cr_assert(tlb_t.e[1][8].tag_write & TLB_INVALID);
    cr_assert_eq(tlb_t.e[0][5].tag_read, 0x5000u);
    cr_assert_eq(tlb_t.e[0][5].tag_exec, 0x5000u);
    cr_assert_eq(tlb_t.e[0][6].tag_write, 0x6000u);
}

/* Flushes visit the entries filled since the last full flush (the table
 * is large): every one of them is dropped, global ones survive a
 * non-global flush and stay listed for the next full one, and INVLPG
 * finds large-page slices through its list, or, once more slices than
 * that list holds were filled, through the list of all filled entries. */
Test(tlb, flush_lists)
{
    struct page_walk w = tlb_walk(0x7000, true, true);
    for (uint32_t p = 0; p < 3000; p++) {
        w.global = (p % 3) == 0;
        tlb_fill(&tlb_t, tlb_pm, p << 12, p & 1, ACCESS_READ, &w);
    }
    tlb_flush_nonglobal(&tlb_t);
    for (uint32_t p = 0; p < 3000; p++) {
        const struct tlb_entry *e = &tlb_t.e[p & 1][tlb_index(p << 12)];
        if ((p % 3) == 0)
            cr_assert_eq(e->tag_read, p << 12, "global page %u kept", p);
        else
            cr_assert(e->tag_read & TLB_INVALID, "page %u dropped", p);
    }
    tlb_flush_all(&tlb_t);
    for (uint32_t p = 0; p < 3000; p += 3)
        cr_assert(tlb_t.e[p & 1][tlb_index(p << 12)].tag_read & TLB_INVALID);

    /* More large-page slices than the large list holds, in two 4 MiB
     * regions: INVLPG in one drops that region's slices only. */
    struct page_walk big = tlb_walk(0x20000, true, true);
    big.page_size = 4u << 20;
    for (uint32_t i = 0; i < TLB_LARGE_LIST + 100; i++) {
        uint32_t lin = (i & 1 ? 0x00800000u : 0x00400000u) + (i / 2) * 0x1000u;
        tlb_fill(&tlb_t, tlb_pm, lin, false, ACCESS_READ, &big);
    }
    cr_assert(tlb_t.large_overflow);
    tlb_flush_page(&tlb_t, 0x00812345);
    for (uint32_t i = 0; i < TLB_LARGE_LIST + 100; i++) {
        uint32_t lin = (i & 1 ? 0x00800000u : 0x00400000u) + (i / 2) * 0x1000u;
        const struct tlb_entry *e = &tlb_t.e[0][tlb_index(lin)];
        if (i & 1)
            cr_assert(e->tag_read & TLB_INVALID, "slice %x dropped", lin);
        else
            cr_assert_eq(e->tag_read, lin, "slice %x of the other page kept", lin);
    }
}
