/*
 * memory/paging.c — the page-table walker, SDM Vol. 3A chapter 4:
 * no paging (4.1), 32-bit paging with PSE and PSE-36 (4.3), PAE paging
 * with execute-disable (4.4), access rights (4.6), page-fault error codes
 * (4.7) and the accessed/dirty flags (4.8).
 *
 * MAXPHYADDR is 36 (a P6-class part with PSE-36 and PAE).
 *
 * The walk first reads every entry it needs and checks them all; only a
 * translation that succeeds updates A/D (SDM 4.8: the processor sets them
 * for the entries it uses to translate an address, and a page fault
 * leaves the paging structures as they were).
 */
#include "memory/memory.h"

#define MAXPHYADDR 36

/* Bits common to every paging-structure entry (SDM Tables 4-4..4-6, 4-8..4-11). */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_XD (1ull << 63)

#define SIZE_4K 0x1000u
#define SIZE_2M 0x200000u
#define SIZE_4M 0x400000u

/* Physical address bits MAXPHYADDR-1..12 of a PAE entry. */
#define PAE_ADDR_MASK (((1ull << MAXPHYADDR) - 1) & ~0xfffull)
/* PAE: bits 62..MAXPHYADDR are reserved in every entry (SDM 4.4.2). */
#define PAE_RSVD_HIGH (((1ull << 63) - 1) & ~((1ull << MAXPHYADDR) - 1))
/* PAE 2 MiB PDE: bits 20:13 are reserved (Table 4-9). */
#define PAE_RSVD_2M (0x1fe000ull)
/* 32-bit 4 MiB PDE with PSE-36 (Table 4-5): bits 16:13 are physical
 * address bits 35:32; bits 21:(MAXPHYADDR-19)=21:17 are reserved. */
#define PSE36_HIGH_MASK 0x1e000u
#define PSE36_RSVD 0x3e0000u
/* PAE PDPTE (Table 4-8): bits 2:1, 8:5 and 63:MAXPHYADDR are reserved. */
#define PDPTE_RSVD (0x1e6ull | ~((1ull << MAXPHYADDR) - 1))

/* An entry read by the walk, to set A/D in once the walk has succeeded. */
struct walk_entry {
    uint64_t addr;  /* physical address of the entry */
    uint64_t value; /* as read */
};

/* Sets `bits` in an entry if some are clear (the processor's own write,
 * not a guest store: a write watcher does not see it). The emulator runs one CPU,
 * so re-reading and writing the whole entry is the locked RMW the SDM
 * describes (4.8): an entry changed by DMA since the walk keeps its
 * other bits. Nothing is written when the bits are already set, so page
 * tables in ROM or on a code page are not disturbed needlessly. */
static void set_entry_bits(struct phys_mem *pm, const struct walk_entry *e, unsigned size,
                           uint64_t bits)
{
    if ((e->value & bits) == bits)
        return;
    uint64_t cur = phys_read(pm, e->addr, size);
    phys_write_unwatched(pm, e->addr, cur | bits, size);
}

/*
 * Rights combined over the levels (SDM 4.6): the access is allowed when
 * every level allows it. Supervisor accesses may write read-only pages
 * unless CR0.WP; user accesses need U/S at every level and, to write,
 * R/W at every level.
 */
struct rights {
    bool rw;  /* R/W = 1 at every level */
    bool us;  /* U/S = 1 at every level */
    bool xd;  /* XD = 1 at some level (only with PAE and NXE) */
};

static void rights_add(struct rights *r, uint64_t entry, bool nx_enabled)
{
    r->rw = r->rw && (entry & PTE_RW);
    r->us = r->us && (entry & PTE_US);
    r->xd = r->xd || (nx_enabled && (entry & PTE_XD));
}

/* Checks the rights and fills `out`; returns 0 or the fault's error bits
 * (P set: a protection violation). */
static uint32_t check_rights(const struct paging_mode *mode, const struct rights *r,
                             enum mem_access access, bool user, struct page_walk *out)
{
    bool wp = mode->cr0 & CR0_WP;
    bool writable = user ? (r->rw && r->us) : (r->rw || !wp);
    if (user && !r->us)
        return PFERR_P;
    if (access == ACCESS_WRITE && !writable)
        return PFERR_P;
    if (access == ACCESS_EXEC && r->xd)
        return PFERR_P;
    out->writable = writable;
    out->user = r->us;
    out->nx = r->xd;
    return 0;
}

/* The access-kind bits of the error code (SDM 4.7). I/D only where
 * execute-disable exists: PAE paging with IA32_EFER.NXE. */
static uint32_t access_bits(const struct paging_mode *mode, enum mem_access access, bool user)
{
    uint32_t err = 0;
    if (access == ACCESS_WRITE)
        err |= PFERR_W;
    if (user)
        err |= PFERR_U;
    if (access == ACCESS_EXEC && (mode->cr4 & CR4_PAE) && mode->nxe)
        err |= PFERR_I;
    return err;
}

/* 32-bit paging (SDM 4.3). Returns 0, or -1 with the fault's P/RSVD
 * bits in `*err` (the caller adds the access-kind bits). */
static int walk_32bit(struct phys_mem *pm, const struct paging_mode *mode, uint32_t lin,
                      enum mem_access access, bool user, struct page_walk *out,
                      uint32_t *err)
{
    struct walk_entry pde, pte;
    struct rights r = { true, true, false };

    pde.addr = (mode->cr3 & 0xfffff000u) | ((lin >> 22) << 2);
    pde.value = phys_read(pm, pde.addr, 4);
    if (!(pde.value & PTE_P)) {
        *err = 0;
        return -1;
    }
    rights_add(&r, pde.value, false);

    if ((pde.value & PTE_PS) && (mode->cr4 & CR4_PSE)) {
        /* 4 MiB page (Table 4-5). */
        if (pde.value & PSE36_RSVD) {
            *err = PFERR_P | PFERR_RSVD;
            return -1;
        }
        uint32_t e = check_rights(mode, &r, access, user, out);
        if (e) {
            *err = e;
            return -1;
        }
        uint64_t base = (pde.value & 0xffc00000u) |
                        ((uint64_t)((pde.value & PSE36_HIGH_MASK) >> 13) << 32);
        out->paddr = base | (lin & (SIZE_4M - 1));
        out->page_size = SIZE_4M;
        out->global = (pde.value & PTE_G) && (mode->cr4 & CR4_PGE);
        bool dirty = (pde.value & PTE_D) || access == ACCESS_WRITE;
        set_entry_bits(pm, &pde, 4, PTE_A | (access == ACCESS_WRITE ? PTE_D : 0));
        out->dirty = dirty;
        return 0;
    }

    /* PS is ignored without CR4.PSE (4.3): the PDE references a page table. */
    pte.addr = (pde.value & 0xfffff000u) | (((lin >> 12) & 0x3ff) << 2);
    pte.value = phys_read(pm, pte.addr, 4);
    if (!(pte.value & PTE_P)) {
        *err = 0;
        return -1;
    }
    rights_add(&r, pte.value, false);
    uint32_t e = check_rights(mode, &r, access, user, out);
    if (e) {
        *err = e;
        return -1;
    }
    out->paddr = (pte.value & 0xfffff000u) | (lin & (SIZE_4K - 1));
    out->page_size = SIZE_4K;
    out->global = (pte.value & PTE_G) && (mode->cr4 & CR4_PGE);
    out->dirty = (pte.value & PTE_D) || access == ACCESS_WRITE;
    set_entry_bits(pm, &pde, 4, PTE_A);
    set_entry_bits(pm, &pte, 4, PTE_A | (access == ACCESS_WRITE ? PTE_D : 0));
    return 0;
}

/* PAE paging (SDM 4.4). */
static int walk_pae(struct phys_mem *pm, const struct paging_mode *mode, uint32_t lin,
                    enum mem_access access, bool user, struct page_walk *out, uint32_t *err)
{
    struct walk_entry pde, pte;
    struct rights r = { true, true, false };
    /* XD is bit 63 only with NXE; otherwise that bit is reserved (4.4.2). */
    uint64_t rsvd = PAE_RSVD_HIGH | (mode->nxe ? 0 : PTE_XD);

    /* The PDPTE comes from the registers loaded at MOV CR3 (4.4.1); its
     * R/W and U/S positions are reserved, so it adds no rights. */
    uint64_t pdpte = mode->pdpte[lin >> 30];
    if (!(pdpte & PTE_P)) {
        *err = 0;
        return -1;
    }

    pde.addr = (pdpte & PAE_ADDR_MASK) | (((lin >> 21) & 0x1ff) << 3);
    pde.value = phys_read(pm, pde.addr, 8);
    if (!(pde.value & PTE_P)) {
        *err = 0;
        return -1;
    }
    if (pde.value & rsvd) {
        *err = PFERR_P | PFERR_RSVD;
        return -1;
    }
    rights_add(&r, pde.value, mode->nxe);

    if (pde.value & PTE_PS) {
        /* 2 MiB page (Table 4-9); PS is honoured whatever CR4.PSE says. */
        if (pde.value & PAE_RSVD_2M) {
            *err = PFERR_P | PFERR_RSVD;
            return -1;
        }
        uint32_t e = check_rights(mode, &r, access, user, out);
        if (e) {
            *err = e;
            return -1;
        }
        out->paddr = (pde.value & PAE_ADDR_MASK & ~(uint64_t)(SIZE_2M - 1)) |
                     (lin & (SIZE_2M - 1));
        out->page_size = SIZE_2M;
        out->global = (pde.value & PTE_G) && (mode->cr4 & CR4_PGE);
        out->dirty = (pde.value & PTE_D) || access == ACCESS_WRITE;
        set_entry_bits(pm, &pde, 8, PTE_A | (access == ACCESS_WRITE ? PTE_D : 0));
        return 0;
    }

    pte.addr = (pde.value & PAE_ADDR_MASK) | (((lin >> 12) & 0x1ff) << 3);
    pte.value = phys_read(pm, pte.addr, 8);
    if (!(pte.value & PTE_P)) {
        *err = 0;
        return -1;
    }
    if (pte.value & rsvd) {
        *err = PFERR_P | PFERR_RSVD;
        return -1;
    }
    rights_add(&r, pte.value, mode->nxe);
    uint32_t e = check_rights(mode, &r, access, user, out);
    if (e) {
        *err = e;
        return -1;
    }
    out->paddr = (pte.value & PAE_ADDR_MASK) | (lin & (SIZE_4K - 1));
    out->page_size = SIZE_4K;
    out->global = (pte.value & PTE_G) && (mode->cr4 & CR4_PGE);
    out->dirty = (pte.value & PTE_D) || access == ACCESS_WRITE;
    set_entry_bits(pm, &pde, 8, PTE_A);
    set_entry_bits(pm, &pte, 8, PTE_A | (access == ACCESS_WRITE ? PTE_D : 0));
    return 0;
}

int paging_walk(struct phys_mem *pm, const struct paging_mode *mode, uint32_t lin,
                enum mem_access access, bool user, struct page_walk *out,
                uint32_t *pf_error)
{
    if (!(mode->cr0 & CR0_PG)) {
        /* No paging (4.1): linear = physical, every access allowed. */
        *out = (struct page_walk){ .paddr = lin, .page_size = SIZE_4K, .writable = true,
                                   .user = true, .nx = false, .global = false,
                                   .dirty = true };
        return 0;
    }
    struct page_walk w = { 0 };
    uint32_t err = 0;
    int rc = (mode->cr4 & CR4_PAE) ? walk_pae(pm, mode, lin, access, user, &w, &err)
                                   : walk_32bit(pm, mode, lin, access, user, &w, &err);
    if (rc < 0) {
        *pf_error = err | access_bits(mode, access, user);
        return -1;
    }
    *out = w;
    return 0;
}

int paging_load_pdptes(struct phys_mem *pm, struct paging_mode *mode)
{
    /* PAE CR3 holds the 32-byte-aligned PDPT address in bits 31:5 (4.4.1). */
    uint64_t base = mode->cr3 & 0xffffffe0u;
    uint64_t pdpte[4];
    for (unsigned i = 0; i < 4; i++) {
        pdpte[i] = phys_read(pm, base + 8 * i, 8);
        /* Reserved bits are checked only in present entries. */
        if ((pdpte[i] & PTE_P) && (pdpte[i] & PDPTE_RSVD))
            return -1;
    }
    for (unsigned i = 0; i < 4; i++)
        mode->pdpte[i] = pdpte[i];
    return 0;
}

/* ------------------------------------------------------------------ */
/* Probing: the walk as a debugger sees it                             */
/* ------------------------------------------------------------------ */

/* Records one entry read by paging_probe. */
static void probe_add(struct walk_report *r, const char *name, uint64_t addr, uint64_t value)
{
    if (r->nlevels < WALK_LEVELS_MAX)
        r->level[r->nlevels++] = (struct walk_level){ name, addr, value };
}

void paging_probe(struct phys_mem *pm, const struct paging_mode *mode, uint32_t lin,
                  struct walk_report *r)
{
    *r = (struct walk_report){ .paging = (mode->cr0 & CR0_PG) != 0,
                               .pae = (mode->cr4 & CR4_PAE) != 0,
                               .rw = true, .us = true };
    if (!r->paging) {
        r->present = true;
        r->paddr = lin;
        r->page_size = SIZE_4K;
        return;
    }
    struct rights rt = { true, true, false };
    if (!r->pae) {
        uint64_t addr = (mode->cr3 & 0xfffff000u) | ((lin >> 22) << 2);
        uint64_t pde = phys_read(pm, addr, 4);
        probe_add(r, "PDE", addr, pde);
        if (!(pde & PTE_P))
            return;
        rights_add(&rt, pde, false);
        if ((pde & PTE_PS) && (mode->cr4 & CR4_PSE)) {
            r->rsvd = (pde & PSE36_RSVD) != 0;
            r->paddr = (pde & 0xffc00000u) | ((uint64_t)((pde & PSE36_HIGH_MASK) >> 13) << 32) |
                       (lin & (SIZE_4M - 1));
            r->page_size = SIZE_4M;
        } else {
            addr = (pde & 0xfffff000u) | (((lin >> 12) & 0x3ff) << 2);
            uint64_t pte = phys_read(pm, addr, 4);
            probe_add(r, "PTE", addr, pte);
            if (!(pte & PTE_P))
                return;
            rights_add(&rt, pte, false);
            r->paddr = (pte & 0xfffff000u) | (lin & (SIZE_4K - 1));
            r->page_size = SIZE_4K;
        }
    } else {
        uint64_t rsvd = PAE_RSVD_HIGH | (mode->nxe ? 0 : PTE_XD);
        uint64_t pdpte = mode->pdpte[lin >> 30];
        /* The PDPTE register, not memory: its address is where MOV CR3
         * loaded it from. */
        probe_add(r, "PDPTE", (mode->cr3 & 0xffffffe0u) + 8 * (lin >> 30), pdpte);
        if (!(pdpte & PTE_P))
            return;
        uint64_t addr = (pdpte & PAE_ADDR_MASK) | (((lin >> 21) & 0x1ff) << 3);
        uint64_t pde = phys_read(pm, addr, 8);
        probe_add(r, "PDE", addr, pde);
        if (!(pde & PTE_P))
            return;
        rights_add(&rt, pde, mode->nxe);
        if (pde & rsvd) {
            r->rsvd = true;
        } else if (pde & PTE_PS) {
            r->rsvd = (pde & PAE_RSVD_2M) != 0;
            r->paddr = (pde & PAE_ADDR_MASK & ~(uint64_t)(SIZE_2M - 1)) | (lin & (SIZE_2M - 1));
            r->page_size = SIZE_2M;
        } else {
            addr = (pde & PAE_ADDR_MASK) | (((lin >> 12) & 0x1ff) << 3);
            uint64_t pte = phys_read(pm, addr, 8);
            probe_add(r, "PTE", addr, pte);
            if (!(pte & PTE_P))
                return;
            rights_add(&rt, pte, mode->nxe);
            r->rsvd = (pte & rsvd) != 0;
            r->paddr = (pte & PAE_ADDR_MASK) | (lin & (SIZE_4K - 1));
            r->page_size = SIZE_4K;
        }
    }
    r->rw = rt.rw;
    r->us = rt.us;
    r->xd = rt.xd;
    r->present = !r->rsvd;
}

uint32_t paging_probe_fault(const struct paging_mode *mode, const struct walk_report *r,
                            enum mem_access access, bool user)
{
    if (!r->paging)
        return 0;
    uint32_t err;
    if (r->rsvd) {
        err = PFERR_P | PFERR_RSVD;
    } else if (!r->present) {
        err = 0;
    } else {
        struct rights rt = { r->rw, r->us, r->xd };
        struct page_walk unused;
        err = check_rights(mode, &rt, access, user, &unused);
        if (!err)
            return 0;
    }
    return err | access_bits(mode, access, user) | PAGING_PROBE_FAULTS;
}

/* ------------------------------------------------------------------ */
/* Every mapping, for the monitor's info mem                           */
/* ------------------------------------------------------------------ */

/* Calls fn for a leaf mapping [lin, lin+size) with combined rights. */
static void leaf(struct rights r, uint32_t lin, uint64_t phys, uint32_t size, paging_map_fn fn,
                 void *opaque)
{
    fn(opaque, lin, phys, size, r.rw, r.us, r.xd);
}

void paging_for_each_mapping(struct phys_mem *pm, const struct paging_mode *mode,
                             paging_map_fn fn, void *opaque)
{
    struct rights all = { true, true, false };
    if (!(mode->cr0 & CR0_PG)) {
        /* One identity mapping of the whole space, in two halves (a
         * size of 4 GiB does not fit in 32 bits). */
        leaf(all, 0, 0, 0x80000000u, fn, opaque);
        leaf(all, 0x80000000u, 0x80000000u, 0x80000000u, fn, opaque);
        return;
    }
    if (!(mode->cr4 & CR4_PAE)) {
        uint32_t pd = mode->cr3 & 0xfffff000u;
        for (uint32_t i = 0; i < 1024; i++) {
            uint64_t pde = phys_read(pm, pd + 4 * i, 4);
            if (!(pde & PTE_P))
                continue;
            struct rights r = all;
            rights_add(&r, pde, false);
            uint32_t lin = i << 22;
            if ((pde & PTE_PS) && (mode->cr4 & CR4_PSE)) {
                if (!(pde & PSE36_RSVD))
                    leaf(r, lin, (pde & 0xffc00000u) |
                                           ((uint64_t)((pde & PSE36_HIGH_MASK) >> 13) << 32),
                         SIZE_4M, fn, opaque);
                continue;
            }
            uint32_t pt = (uint32_t)pde & 0xfffff000u;
            for (uint32_t j = 0; j < 1024; j++) {
                uint64_t pte = phys_read(pm, pt + 4 * j, 4);
                if (!(pte & PTE_P))
                    continue;
                struct rights r2 = r;
                rights_add(&r2, pte, false);
                leaf(r2, lin | (j << 12), pte & 0xfffff000u, SIZE_4K, fn, opaque);
            }
        }
        return;
    }
    uint64_t rsvd = PAE_RSVD_HIGH | (mode->nxe ? 0 : PTE_XD);
    for (uint32_t k = 0; k < 4; k++) {
        uint64_t pdpte = mode->pdpte[k];
        if (!(pdpte & PTE_P))
            continue;
        for (uint32_t i = 0; i < 512; i++) {
            uint64_t pde = phys_read(pm, (pdpte & PAE_ADDR_MASK) + 8 * i, 8);
            if (!(pde & PTE_P) || (pde & rsvd))
                continue;
            struct rights r = all;
            rights_add(&r, pde, mode->nxe);
            uint32_t lin = (k << 30) | (i << 21);
            if (pde & PTE_PS) {
                if (!(pde & PAE_RSVD_2M))
                    leaf(r, lin, pde & PAE_ADDR_MASK & ~(uint64_t)(SIZE_2M - 1), SIZE_2M,
                         fn, opaque);
                continue;
            }
            for (uint32_t j = 0; j < 512; j++) {
                uint64_t pte = phys_read(pm, (pde & PAE_ADDR_MASK) + 8 * j, 8);
                if (!(pte & PTE_P) || (pte & rsvd))
                    continue;
                struct rights r2 = r;
                rights_add(&r2, pte, mode->nxe);
                leaf(r2, lin | (j << 12), pte & PAE_ADDR_MASK, SIZE_4K, fn, opaque);
            }
        }
    }
}
