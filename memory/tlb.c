/*
 * memory/tlb.c — the softmmu TLB: a direct-mapped cache of walks, one
 * per privilege class (memory.h). The SDM (Vol. 3A 4.10) lets a TLB keep
 * only what a walk permitted; so each entry enables just the kinds of
 * access the walk allowed outright, and anything else misses and walks
 * again (which is also how a first write to a clean page gets its D bit).
 */
#include "memory/memory.h"

#define PAGE_OFFSET 0xfffull
/* A large page's linear region as INVLPG drops it: 4 MiB, which also
 * covers any 2 MiB PAE page (dropping more than asked is allowed). */
#define LARGE_REGION_MASK 0xffc00000u

static inline struct tlb_entry *entry_at(struct tlb *t, unsigned k)
{
    return &t->e[k / TLB_ENTRIES][k % TLB_ENTRIES];
}

/* Drops what the entry caches; it stays in the filled list. */
static void entry_invalidate(struct tlb_entry *e)
{
    e->tag_read = TLB_INVALID;
    e->tag_write = TLB_INVALID;
    e->tag_exec = TLB_INVALID;
    e->flags &= TLB_ENTRY_LISTED;
}

/* The frame windows go with any translation dropped or narrowed: they
 * copy an entry's fast read and write paths (memory.h). */
static void window_drop(struct tlb *t)
{
    t->window[0].base = t->window[1].base = TLB_WINDOW_NONE;
}

void tlb_init(struct tlb *t)
{
    window_drop(t);
    for (unsigned k = 0; k < 2 * TLB_ENTRIES; k++) {
        struct tlb_entry *e = entry_at(t, k);
        entry_invalidate(e);
        e->flags = 0;
        e->paddr = ~0ull;
    }
    t->nfilled = t->nlarge = 0;
    t->large_overflow = false;
    t->generation++;
    t->flushes_all++;
}

void tlb_flush_all(struct tlb *t)
{
    window_drop(t);
    t->generation++;
    t->flushes_all++;
    for (unsigned i = 0; i < t->nfilled; i++) {
        struct tlb_entry *e = entry_at(t, t->filled[i]);
        entry_invalidate(e);
        e->flags = 0;
    }
    t->nfilled = t->nlarge = 0;
    t->large_overflow = false;
}

void tlb_direct_close(struct tlb *t, bool closed)
{
    t->direct_closed = closed;
    t->direct_span = closed ? 0 : t->direct_span_map;
}

/* MOV CR3 with CR4.PGE keeps global translations (SDM 4.10.4.1). */
void tlb_flush_nonglobal(struct tlb *t)
{
    window_drop(t);
    t->generation++;
    t->flushes_nonglobal++;
    unsigned kept = 0;
    t->nlarge = 0;
    t->large_overflow = false;
    for (unsigned i = 0; i < t->nfilled; i++) {
        unsigned k = t->filled[i];
        struct tlb_entry *e = entry_at(t, k);
        if (!(e->flags & TLB_ENTRY_GLOBAL)) {
            entry_invalidate(e);
            e->flags = 0;
            continue;
        }
        t->filled[kept++] = (uint16_t)k;
        if (e->flags & TLB_ENTRY_LARGE) {
            if (t->nlarge < TLB_LARGE_LIST)
                t->large[t->nlarge++] = (uint16_t)k;
            else
                t->large_overflow = true;
        }
    }
    t->nfilled = kept;
}

static void drop_if_in_region(struct tlb_entry *e, uint32_t lin)
{
    if ((e->flags & TLB_ENTRY_LARGE) && ((e->flags ^ lin) & LARGE_REGION_MASK) == 0)
        entry_invalidate(e);
}

/*
 * INVLPG (SDM 4.10.4.1) invalidates the translation of the page holding
 * `lin`, whatever the size of that page. An entry cached from a 2/4 MiB
 * page covers one 4 KiB slice of it and may sit in any slot, so the
 * entries from large pages of that region are dropped too.
 */
void tlb_flush_page(struct tlb *t, uint32_t lin)
{
    window_drop(t);
    unsigned idx = tlb_index(lin);
    t->generation++;
    t->flushes_page++;
    t->last_flush_page = lin & TLB_PAGE_MASK;
    for (unsigned u = 0; u < 2; u++)
        entry_invalidate(&t->e[u][idx]);
    if (t->large_overflow) {
        for (unsigned i = 0; i < t->nfilled; i++)
            drop_if_in_region(entry_at(t, t->filled[i]), lin);
    } else {
        /* Slots listed here may have been refilled from small pages since:
         * the entry's own flag decides. */
        for (unsigned i = 0; i < t->nlarge; i++)
            drop_if_in_region(entry_at(t, t->large[i]), lin);
    }
}

/* A page just marked as code: its fast write paths go, so the next write
 * misses and refills with TLB_SLOW_CODE. Reads and fetches stay. */
void tlb_flush_phys_page(struct tlb *t, uint64_t paddr)
{
    window_drop(t);
    uint64_t page = paddr & ~PAGE_OFFSET;
    for (unsigned i = 0; i < t->nfilled; i++) {
        struct tlb_entry *e = entry_at(t, t->filled[i]);
        if (e->paddr == page)
            e->tag_write = TLB_INVALID;
    }
}

void tlb_drop_host_writes(struct tlb *t, const uint8_t *lo, const uint8_t *hi)
{
    window_drop(t);
    for (unsigned i = 0; i < t->nfilled; i++) {
        struct tlb_entry *e = entry_at(t, t->filled[i]);
        uint32_t page = e->flags & TLB_PAGE_MASK;
        if (e->tag_write != page)
            continue; /* no write fast path */
        const uint8_t *host = (const uint8_t *)(e->addend + page);
        if (host >= lo && host < hi)
            e->tag_write = TLB_INVALID;
    }
}

struct tlb_entry *tlb_fill(struct tlb *t, struct phys_mem *pm, uint32_t lin, bool user,
                           enum mem_access access, const struct page_walk *w)
{
    unsigned idx = tlb_index(lin);
    struct tlb_entry *e = &t->e[user ? 1 : 0][idx];
    uint32_t page = lin & TLB_PAGE_MASK;
    /* The page as memory sees it: with the A20 gate off, bit 20 is
     * cleared here too, so that code translated from it is keyed by the
     * bytes it really came from (the gate's change flushes the TLB). */
    uint64_t ppage = phys_apply_a20(pm, w->paddr & ~PAGE_OFFSET);
    bool ram = false;
    uint8_t *host = phys_page_ptr(pm, ppage, &ram);
    bool large = w->page_size > 0x1000u;

    unsigned k = (user ? TLB_ENTRIES : 0) + idx;
    if (!(e->flags & TLB_ENTRY_LISTED))
        t->filled[t->nfilled++] = (uint16_t)k;
    if (large && !(e->flags & TLB_ENTRY_LARGE)) {
        if (t->nlarge < TLB_LARGE_LIST)
            t->large[t->nlarge++] = (uint16_t)k;
        else
            t->large_overflow = true;
    }
    e->paddr = ppage;
    e->flags = page | TLB_ENTRY_LISTED | (w->global ? TLB_ENTRY_GLOBAL : 0) |
               (large ? TLB_ENTRY_LARGE : 0);
    e->addend = host ? (uintptr_t)host - (uintptr_t)page : 0;

    if (user && !w->user) {
        /* Cannot come from a walk done for a user access (it would have
         * faulted); never let the user TLB hold a supervisor page. */
        e->tag_read = e->tag_write = e->tag_exec = TLB_INVALID;
        return e;
    }

    /* MMIO and holes: every access through phys_read/phys_write. */
    uint32_t slow = host ? 0 : TLB_SLOW_MMIO;
    e->tag_read = page | slow;
    e->tag_exec = w->nx ? TLB_INVALID : page | slow;

    if (w->writable && (w->dirty || access == ACCESS_WRITE)) {
        if (!host || !ram)
            e->tag_write = page | TLB_SLOW_MMIO; /* ROM: phys_write drops it */
        else if (phys_is_code_page(pm, ppage) || phys_writes_watched(pm))
            e->tag_write = page | TLB_SLOW_CODE;
        else
            e->tag_write = page | (phys_page_write_logged(pm, host) ? TLB_SLOW_DIRTY : 0);
    } else {
        e->tag_write = TLB_INVALID;
    }
    return e;
}
