/*
 * Unit tests for memory/paging.c against SDM Vol. 3A chapter 4: page
 * tables are built in a RAM buffer and walked without a CPU. Error codes
 * are SDM 4.7: P=1 W=2 U=4 RSVD=8 I=16.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "memory/memory.h"

#define PG_P 0x001u
#define PG_RW 0x002u
#define PG_US 0x004u
#define PG_A 0x020u
#define PG_D 0x040u
#define PG_PS 0x080u
#define PG_G 0x100u
#define PG_XD (1ull << 63)

#define PG_RAM_SIZE (16u << 20)

static struct phys_mem *pg_pm;
static uint8_t *pg_ram;

static void pg_setup(void)
{
    pg_ram = calloc(1, PG_RAM_SIZE);
    pg_pm = phys_new();
    cr_assert_eq(phys_map_ram(pg_pm, 0, PG_RAM_SIZE, pg_ram), 0);
}

static void pg_teardown(void)
{
    phys_free(pg_pm);
    free(pg_ram);
}

static void wr32(uint32_t addr, uint32_t v) { phys_write(pg_pm, addr, v, 4); }
static uint32_t rd32(uint32_t addr) { return (uint32_t)phys_read(pg_pm, addr, 4); }
static void wr64(uint32_t addr, uint64_t v) { phys_write(pg_pm, addr, v, 8); }
static uint64_t rd64(uint32_t addr) { return phys_read(pg_pm, addr, 8); }

/* 32-bit paging: PD at 0x1000, PT at 0x2000; lin 0x5000 -> phys 0x7000. */
#define PD32 0x1000u
#define PT32 0x2000u

static struct paging_mode pg_mode32(uint32_t cr4, bool wp)
{
    struct paging_mode m = { 0 };
    m.cr0 = CR0_PE | CR0_PG | (wp ? CR0_WP : 0);
    m.cr3 = PD32;
    m.cr4 = cr4;
    return m;
}

static void pg_build32(uint32_t pde_flags, uint32_t pte_flags)
{
    wr32(PD32 + 0, PT32 | pde_flags);
    wr32(PT32 + 5 * 4, 0x7000u | pte_flags);
}

static int walk(const struct paging_mode *m, uint32_t lin, enum mem_access acc, bool user,
                struct page_walk *w, uint32_t *err)
{
    *err = 0xdead;
    return paging_walk(pg_pm, m, lin, acc, user, w, err);
}

TestSuite(paging, .init = pg_setup, .fini = pg_teardown);

Test(paging, no_paging_is_identity)
{
    struct paging_mode m = { 0 };
    m.cr0 = CR0_PE;
    struct page_walk w;
    uint32_t err;
    cr_assert_eq(walk(&m, 0xfee00123, ACCESS_WRITE, true, &w, &err), 0);
    cr_assert_eq(w.paddr, 0xfee00123u);
    cr_assert(w.writable && w.user && !w.nx);
}

Test(paging, walk_4k_sets_accessed_then_dirty)
{
    struct paging_mode m = pg_mode32(0, false);
    pg_build32(PG_P | PG_RW | PG_US, PG_P | PG_RW | PG_US);
    struct page_walk w;
    uint32_t err;
    cr_assert_eq(walk(&m, 0x5123, ACCESS_READ, false, &w, &err), 0);
    cr_assert_eq(w.paddr, 0x7123u);
    cr_assert_eq(w.page_size, 4096u);
    cr_assert(w.writable);
    cr_assert(w.user);
    cr_assert_not(w.dirty);
    cr_assert_not(w.global);
    cr_assert_eq(rd32(PD32), PT32 | PG_P | PG_RW | PG_US | PG_A);
    cr_assert_eq(rd32(PT32 + 20), 0x7000u | PG_P | PG_RW | PG_US | PG_A);
    cr_assert_eq(walk(&m, 0x5ffc, ACCESS_WRITE, true, &w, &err), 0);
    cr_assert(w.dirty);
    cr_assert_eq(rd32(PT32 + 20), 0x7000u | PG_P | PG_RW | PG_US | PG_A | PG_D);
    /* D only in the final entry. */
    cr_assert_eq(rd32(PD32) & PG_D, 0);
}

Test(paging, not_present_error_codes_and_no_side_effects)
{
    struct paging_mode m = pg_mode32(0, false);
    struct page_walk w;
    uint32_t err;
    /* PDE not present. */
    cr_assert_eq(walk(&m, 0x5000, ACCESS_READ, false, &w, &err), -1);
    cr_assert_eq(err, 0u);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_WRITE, true, &w, &err), -1);
    cr_assert_eq(err, PFERR_W | PFERR_U);
    /* No I bit without PAE+NXE. */
    cr_assert_eq(walk(&m, 0x5000, ACCESS_EXEC, false, &w, &err), -1);
    cr_assert_eq(err, 0u);
    /* PTE not present: the PDE keeps A clear. */
    pg_build32(PG_P | PG_RW | PG_US, 0);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_WRITE, false, &w, &err), -1);
    cr_assert_eq(err, PFERR_W);
    cr_assert_eq(rd32(PD32) & PG_A, 0);
}

Test(paging, read_only_page_and_cr0_wp)
{
    struct page_walk w;
    uint32_t err;
    pg_build32(PG_P | PG_RW | PG_US, PG_P | PG_US); /* PTE read-only */
    struct paging_mode m = pg_mode32(0, false);
    /* Supervisor write without WP: allowed. */
    cr_assert_eq(walk(&m, 0x5000, ACCESS_WRITE, false, &w, &err), 0);
    cr_assert(w.writable);
    /* User write: protection fault. */
    pg_build32(PG_P | PG_RW | PG_US, PG_P | PG_US);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_WRITE, true, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_W | PFERR_U);
    /* User read works but reports not writable. */
    cr_assert_eq(walk(&m, 0x5000, ACCESS_READ, true, &w, &err), 0);
    cr_assert_not(w.writable);
    /* With WP the supervisor write faults too, and sets no A/D. */
    pg_build32(PG_P | PG_RW | PG_US, PG_P | PG_US);
    m = pg_mode32(0, true);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_WRITE, false, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_W);
    cr_assert_eq(rd32(PD32) & PG_A, 0);
    cr_assert_eq(rd32(PT32 + 20) & (PG_A | PG_D), 0);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_READ, false, &w, &err), 0);
    cr_assert_not(w.writable);
    /* R/W clear in the PDE alone also makes the page read-only. */
    pg_build32(PG_P | PG_US, PG_P | PG_RW | PG_US);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_WRITE, false, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_W);
}

Test(paging, user_access_to_supervisor_page)
{
    struct page_walk w;
    uint32_t err;
    struct paging_mode m = pg_mode32(0, false);
    pg_build32(PG_P | PG_RW, PG_P | PG_RW | PG_US); /* U/S clear in PDE */
    cr_assert_eq(walk(&m, 0x5000, ACCESS_READ, true, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_U);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_EXEC, true, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_U);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_READ, false, &w, &err), 0);
    cr_assert_not(w.user);
    /* Supervisor may write a user page (no SMAP on P6). */
    pg_build32(PG_P | PG_RW | PG_US, PG_P | PG_RW | PG_US);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_WRITE, false, &w, &err), 0);
    cr_assert(w.user);
}

Test(paging, pse_4m_pages)
{
    struct page_walk w;
    uint32_t err;
    wr32(PD32 + 1 * 4, 0x00800000u | PG_PS | PG_P | PG_RW | PG_G);
    struct paging_mode m = pg_mode32(CR4_PSE | CR4_PGE, false);
    cr_assert_eq(walk(&m, 0x00612345, ACCESS_WRITE, false, &w, &err), 0);
    cr_assert_eq(w.paddr, 0x00a12345u);
    cr_assert_eq(w.page_size, 4u << 20);
    cr_assert(w.global);
    cr_assert(w.dirty);
    cr_assert_eq(rd32(PD32 + 4), 0x00800000u | PG_PS | PG_P | PG_RW | PG_G | PG_A | PG_D);
    /* Without PGE the G bit does not make it global. */
    m = pg_mode32(CR4_PSE, false);
    cr_assert_eq(walk(&m, 0x00400000, ACCESS_READ, false, &w, &err), 0);
    cr_assert_not(w.global);
    /* Without CR4.PSE the PS bit is ignored: 0x800000 is a page table. */
    wr32(0x800000u + 0x212 * 4, 0x3000u | PG_P);
    m = pg_mode32(0, false);
    cr_assert_eq(walk(&m, 0x00612345, ACCESS_READ, false, &w, &err), 0);
    cr_assert_eq(w.page_size, 4096u);
    cr_assert_eq(w.paddr, 0x3345u);
}

Test(paging, pse36_high_bits_and_reserved)
{
    struct page_walk w;
    uint32_t err;
    struct paging_mode m = pg_mode32(CR4_PSE, false);
    /* Bits 16:13 -> physical 35:32. */
    wr32(PD32 + 3 * 4, 0x00c00000u | (0xau << 13) | PG_PS | PG_P);
    cr_assert_eq(walk(&m, 0x00c00010, ACCESS_READ, false, &w, &err), 0);
    cr_assert_eq(w.paddr, 0xa00c00010ull);
    /* Bit 17 is reserved with MAXPHYADDR 36. */
    wr32(PD32 + 3 * 4, 0x00c00000u | (1u << 17) | PG_PS | PG_P);
    cr_assert_eq(walk(&m, 0x00c00010, ACCESS_WRITE, true, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_RSVD | PFERR_W | PFERR_U);
    cr_assert_eq(rd32(PD32 + 12) & PG_A, 0);
    /* Bit 21 too. */
    wr32(PD32 + 3 * 4, 0x00c00000u | (1u << 21) | PG_PS | PG_P);
    cr_assert_eq(walk(&m, 0x00c00010, ACCESS_READ, false, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_RSVD);
}

/* ---------------------------------------------------------------- PAE */

/* PDPT at 0x3000, PD at 0x4000, PT at 0x6000; lin 0x5000 -> 0x7000,
 * lin 0x200000.. -> 2 MiB page at 0x600000. */
#define PDPT 0x3000u
#define PDPAE 0x4000u
#define PTPAE 0x6000u

static struct paging_mode pg_mode_pae(bool nxe, bool wp)
{
    struct paging_mode m = { 0 };
    m.cr0 = CR0_PE | CR0_PG | (wp ? CR0_WP : 0);
    m.cr3 = PDPT;
    m.cr4 = CR4_PAE;
    m.nxe = nxe;
    wr64(PDPT, PDPAE | PG_P);
    cr_assert_eq(paging_load_pdptes(pg_pm, &m), 0);
    return m;
}

static void pg_build_pae(uint64_t pde_flags, uint64_t pte_flags)
{
    wr64(PDPAE + 0, PTPAE | pde_flags);
    wr64(PTPAE + 5 * 8, 0x7000u | pte_flags);
}

Test(paging, pae_load_pdptes)
{
    struct paging_mode m = { 0 };
    m.cr0 = CR0_PE | CR0_PG;
    m.cr3 = PDPT | 0x18; /* PCD/PWT: the PDPT address is CR3 bits 31:5 */
    m.cr4 = CR4_PAE;
    wr64(PDPT + 0, 0x4000u | PG_P);
    wr64(PDPT + 8, 0xffffffffffffff00ull); /* not present: not checked */
    wr64(PDPT + 16, 0x5000u | PG_P | 0x18); /* PWT/PCD are allowed */
    wr64(PDPT + 24, 0);
    cr_assert_eq(paging_load_pdptes(pg_pm, &m), 0);
    cr_assert_eq(m.pdpte[0], 0x4000u | PG_P);
    cr_assert_eq(m.pdpte[2], 0x5018u | PG_P);
    const uint64_t bad[] = { PG_RW, PG_US, PG_A, PG_D, PG_PS, 0x100u, 1ull << 36, 1ull << 63 };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr64(PDPT + 24, 0x8000u | PG_P | bad[i]);
        m.pdpte[3] = 0x1234;
        cr_assert_eq(paging_load_pdptes(pg_pm, &m), -1, "bit %llx", (unsigned long long)bad[i]);
        cr_assert_eq(m.pdpte[3], 0x1234u, "failed load keeps the old PDPTEs");
    }
}

Test(paging, pae_4k_and_2m)
{
    struct page_walk w;
    uint32_t err;
    struct paging_mode m = pg_mode_pae(false, false);
    pg_build_pae(PG_P | PG_RW | PG_US, PG_P | PG_RW | PG_US | PG_G);
    m.cr4 |= CR4_PGE;
    cr_assert_eq(walk(&m, 0x5abc, ACCESS_WRITE, true, &w, &err), 0);
    cr_assert_eq(w.paddr, 0x7abcu);
    cr_assert_eq(w.page_size, 4096u);
    cr_assert(w.global);
    cr_assert_eq(rd64(PDPAE), PTPAE | PG_P | PG_RW | PG_US | PG_A);
    cr_assert_eq(rd64(PTPAE + 40), 0x7000u | PG_P | PG_RW | PG_US | PG_G | PG_A | PG_D);
    /* 2 MiB page: PS honoured in PAE whatever CR4.PSE; physical above 4 GiB. */
    wr64(PDPAE + 8, 0x300600000ull | PG_PS | PG_P | PG_RW);
    cr_assert_eq(walk(&m, 0x00312345, ACCESS_READ, false, &w, &err), 0);
    cr_assert_eq(w.paddr, 0x300712345ull);
    cr_assert_eq(w.page_size, 2u << 20);
    cr_assert_eq(rd64(PDPAE + 8), 0x300600000ull | PG_PS | PG_P | PG_RW | PG_A);
    /* PDPTE 1 not present. */
    cr_assert_eq(walk(&m, 0x40000000, ACCESS_READ, false, &w, &err), -1);
    cr_assert_eq(err, 0u);
}

Test(paging, pae_reserved_bits)
{
    struct page_walk w;
    uint32_t err;
    struct paging_mode m = pg_mode_pae(false, false);
    pg_build_pae(PG_P | PG_RW | PG_US, PG_P | PG_RW | PG_US | (1ull << 40));
    cr_assert_eq(walk(&m, 0x5000, ACCESS_READ, false, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_RSVD);
    cr_assert_eq(rd64(PDPAE) & PG_A, 0);
    /* XD without NXE is reserved. */
    pg_build_pae(PG_P | PG_RW | PG_US | PG_XD, PG_P | PG_RW | PG_US);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_EXEC, true, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_RSVD | PFERR_U);
    /* 2 MiB PDE: bits 20:13 reserved. */
    wr64(PDPAE + 8, 0x600000u | (1u << 13) | PG_PS | PG_P);
    cr_assert_eq(walk(&m, 0x00200000, ACCESS_WRITE, false, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_RSVD | PFERR_W);
    /* A not-present entry's other bits do not matter. */
    pg_build_pae(PG_P | PG_RW | PG_US, (1ull << 40));
    cr_assert_eq(walk(&m, 0x5000, ACCESS_READ, false, &w, &err), -1);
    cr_assert_eq(err, 0u);
}

Test(paging, pae_execute_disable)
{
    struct page_walk w;
    uint32_t err;
    struct paging_mode m = pg_mode_pae(true, false);
    pg_build_pae(PG_P | PG_RW | PG_US, PG_P | PG_RW | PG_US | PG_XD);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_READ, false, &w, &err), 0);
    cr_assert(w.nx);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_EXEC, false, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_I);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_EXEC, true, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_U | PFERR_I);
    /* XD at the PDE level covers the page too. */
    pg_build_pae(PG_P | PG_RW | PG_US | PG_XD, PG_P | PG_RW | PG_US);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_EXEC, false, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_I);
    /* Not present, fetch: I set with NXE. */
    pg_build_pae(PG_P | PG_RW | PG_US, 0);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_EXEC, false, &w, &err), -1);
    cr_assert_eq(err, PFERR_I);
    /* Executable page. */
    pg_build_pae(PG_P | PG_RW | PG_US, PG_P | PG_US);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_EXEC, true, &w, &err), 0);
    cr_assert_not(w.nx);
    cr_assert_not(w.writable);
    cr_assert_not(w.dirty);
}

Test(paging, pae_write_protect)
{
    struct page_walk w;
    uint32_t err;
    struct paging_mode m = pg_mode_pae(false, true);
    pg_build_pae(PG_P | PG_US, PG_P | PG_RW | PG_US);
    cr_assert_eq(walk(&m, 0x5000, ACCESS_WRITE, false, &w, &err), -1);
    cr_assert_eq(err, PFERR_P | PFERR_W);
    cr_assert_eq(rd64(PTPAE + 40) & (PG_A | PG_D), 0);
}
