/*
 * test_paging_probe.c — memory/paging.c's paging_probe and
 * paging_probe_fault: the debugger's view of a walk reports each level
 * and agrees with paging_walk on every access kind, privilege and
 * CR0.WP, and writes nothing (no accessed or dirty bit).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "memory/memory.h"

#define PROBE_RAM (1u << 20)
static uint8_t probe_ram[PROBE_RAM];

static void put32(uint32_t addr, uint32_t v)
{
    memcpy(probe_ram + addr, &v, 4);
}

static void put64(uint32_t addr, uint64_t v)
{
    memcpy(probe_ram + addr, &v, 8);
}

/* Checks probe against walk for lin at every access/privilege. */
static void agree(struct phys_mem *pm, struct paging_mode *mode, uint32_t lin)
{
    for (int wp = 0; wp < 2; wp++) {
        mode->cr0 = (mode->cr0 & ~CR0_WP) | (wp ? CR0_WP : 0);
        for (int acc = 0; acc < 3; acc++) {
            for (int user = 0; user < 2; user++) {
                static uint8_t before[0x20000];
                memcpy(before, probe_ram, sizeof(before));
                struct walk_report r;
                paging_probe(pm, mode, lin, &r);
                uint32_t pf = paging_probe_fault(mode, &r, (enum mem_access)acc, user);
                cr_assert_eq(memcmp(before, probe_ram, sizeof(before)), 0,
                             "the probe wrote to the tables");
                struct page_walk w;
                uint32_t err = 0;
                int rc = paging_walk(pm, mode, lin, (enum mem_access)acc, user, &w, &err);
                if (rc == 0) {
                    cr_assert_eq(pf, 0, "lin %x acc %d user %d wp %d", lin, acc, user, wp);
                    cr_assert_eq(r.paddr, w.paddr);
                } else {
                    cr_assert_eq(pf, PAGING_PROBE_FAULTS | err, "lin %x acc %d user %d: %x/%x",
                                 lin, acc, user, pf, err);
                }
                memcpy(probe_ram, before, sizeof(before)); /* undo walk's A/D */
            }
        }
    }
}

Test(paging_probe, agrees_with_the_walker_32bit)
{
    memset(probe_ram, 0, sizeof(probe_ram));
    struct phys_mem *pm = phys_new();
    cr_assert_eq(phys_map_ram(pm, 0, PROBE_RAM, probe_ram), 0);
    put32(0x10000 + 4 * 1, 0x11000 | 7);      /* PDE 1: PT, user RW */
    put32(0x11000 + 4 * 0, 0x20000 | 7);      /* 400000: user RW */
    put32(0x11000 + 4 * 1, 0x21000 | 1);      /* 401000: supervisor RO */
    put32(0x11000 + 4 * 2, 0);                /* 402000: not present */
    put32(0x10000 + 4 * 2, 0x00000000u | 0x83); /* 800000: 4 MiB supervisor RW */
    put32(0x10000 + 4 * 3, 0x00000000u | 0x87 | (1u << 17)); /* reserved bit */
    struct paging_mode mode = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x10000, .cr4 = CR4_PSE };
    static const uint32_t lins[] = { 0x400123, 0x401fff, 0x402000, 0x800010, 0xc00000, 0x0 };
    for (size_t i = 0; i < sizeof(lins) / sizeof(lins[0]); i++)
        agree(pm, &mode, lins[i]);
    struct walk_report r;
    paging_probe(pm, &mode, 0x400123, &r);
    cr_assert_eq(r.nlevels, 2);
    cr_assert_str_eq(r.level[0].name, "PDE");
    cr_assert_eq(r.level[0].addr, 0x10004);
    cr_assert_eq(r.level[1].value, 0x20007);
    cr_assert_eq(r.paddr, 0x20123);
    phys_free(pm);
}

Test(paging_probe, agrees_with_the_walker_pae)
{
    memset(probe_ram, 0, sizeof(probe_ram));
    struct phys_mem *pm = phys_new();
    cr_assert_eq(phys_map_ram(pm, 0, PROBE_RAM, probe_ram), 0);
    put64(0x10000, 0x11000 | 1);                   /* PDPTE 0 */
    put64(0x11000 + 8 * 2, 0x12000 | 7);           /* PDE 2: PT */
    put64(0x12000 + 8 * 0, 0x30000 | 7 | (1ull << 63)); /* 400000: XD user */
    put64(0x12000 + 8 * 1, 0x31000 | 3);           /* 401000: supervisor RW */
    put64(0x11000 + 8 * 3, 0x200000 | 0x83);       /* 600000: 2 MiB */
    struct paging_mode mode = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x10000, .cr4 = CR4_PAE,
                                .nxe = true };
    cr_assert_eq(paging_load_pdptes(pm, &mode), 0);
    static const uint32_t lins[] = { 0x400000, 0x401234, 0x402000, 0x600004, 0x40000000 };
    for (size_t i = 0; i < sizeof(lins) / sizeof(lins[0]); i++)
        agree(pm, &mode, lins[i]);
    mode.nxe = false; /* XD is then a reserved bit */
    agree(pm, &mode, 0x400000);
    phys_free(pm);
}
