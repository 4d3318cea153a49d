/*
 * translate/jit/cache.c — the translation cache: where blocks live, how
 * they are found, linked to each other and dropped.
 *
 * - Lookup: a hash of (physical address, linear pc) holds every live
 *   block; a block matches when its whole key does (jit.h).
 * - Pages: each physical page with blocks has a list of them and a bitmap
 *   of the bytes they were decoded from (a block whose instruction runs on
 *   into the next page is on that page's list of crossings too). The page is marked as code in
 *   the physical address space, so every write to it (guest store, DMA,
 *   loader) leaves the TLB fast path and reaches code_written; a write
 *   that touches decoded bytes drops all of the page's blocks.
 * - Direct links: a block's direct exit jumps to its successor's code
 *   once both exist (the dispatcher links them); each block keeps the
 *   list of exits that point at it, so dropping it points them back to
 *   their exit stubs.
 * - The jump cache: pc + key -> code for indirect jumps, filled by the
 *   dispatcher and probed inline. Its entries carry an epoch, bumped on
 *   every TLB flush (a new mapping may put other code at a pc), so that
 *   a flush is one increment rather than a clear.
 * - Memory: code in the code buffer, blocks and instruction records in a
 *   metadata arena; when either is full everything is flushed at once.
 */
#include <stdlib.h>
#include <string.h>

#include "translate/jit/jit.h"

#include "cpu/internal.h"

#define PAGE_SIZE 4096u

/* A block that crosses into this page from the one before: its first
 * `tail` bytes here are code too. */
struct jit_cross {
    struct jit_tb *tb;
    unsigned tail;
    struct jit_cross *next;
};

struct jit_page {
    uint64_t page;
    struct jit_tb *blocks;   /* the blocks that start here */
    struct jit_cross *cross; /* those that end here */
    struct jit_page *next;
    uint8_t code_bytes[PAGE_SIZE / 8];
};

static inline unsigned tb_hash(uint64_t paddr, uint32_t pc)
{
    uint64_t h = (paddr ^ ((uint64_t)pc << 20) ^ (paddr >> JIT_HASH_BITS)) * 0x9e3779b97f4a7c15ull;
    return (unsigned)(h >> (64 - JIT_HASH_BITS));
}

static inline unsigned page_hash(uint64_t page)
{
    return (unsigned)((page >> 12) ^ (page >> 24)) & (JIT_PAGE_HASH_SIZE - 1);
}

/* ------------------------------------------------------------------ */
/* Pages and self-modifying code                                       */
/* ------------------------------------------------------------------ */

static struct jit_page *page_find(struct jit *j, uint64_t page, bool create)
{
    struct jit_page **head = &j->pages[page_hash(page)];
    for (struct jit_page *p = *head; p; p = p->next)
        if (p->page == page)
            return p;
    if (!create)
        return NULL;
    struct jit_page *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->page = page;
    p->next = *head;
    *head = p;
    return p;
}

static bool touches_code(const struct jit_page *p, unsigned off, unsigned len)
{
    for (unsigned i = off; i < off + len && i < PAGE_SIZE; i++)
        if (p->code_bytes[i / 8] & (1u << (i % 8)))
            return true;
    return false;
}

static void invalidate_range(struct jit *j, struct jit_page *p, unsigned off, unsigned len);

/* Beyond this many pages, a notified range (a mapping change) is matched
 * against the pages that hold blocks rather than walked page by page. */
#define RANGE_WALK_PAGES 64u

/* The physical address space's code-write notifier: runs after a store
 * into a marked page, or over a range whose mapping changed. */
static void code_written(void *opaque, uint64_t paddr, uint64_t size)
{
    struct jit *j = opaque;
    uint64_t end = paddr + size;
    if (size > RANGE_WALK_PAGES * PAGE_SIZE) {
        /* Marks left without blocks in the range stay until the first
         * write clears them. */
        for (unsigned i = 0; i < JIT_PAGE_HASH_SIZE; i++)
            for (struct jit_page *p = j->pages[i], *next; p; p = next) {
                next = p->next;
                if (p->page + PAGE_SIZE > paddr && p->page < end)
                    jit_invalidate_page(j, p->page);
            }
        return;
    }
    for (uint64_t a = paddr; a < end;) {
        uint64_t page = a & ~(uint64_t)(PAGE_SIZE - 1);
        uint64_t stop = page + PAGE_SIZE < end ? page + PAGE_SIZE : end;
        struct jit_page *p = page_find(j, page, false);
        if (!p) {
            if (phys_is_code_page(j->cpu->bus.mem, page))
                jit_invalidate_page(j, page); /* a mark left by a flush */
        } else if (touches_code(p, (unsigned)(a - page), (unsigned)(stop - a))) {
            invalidate_range(j, p, (unsigned)(a - page), (unsigned)(stop - a));
        }
        a = stop;
    }
}

/* ------------------------------------------------------------------ */
/* Links                                                               */
/* ------------------------------------------------------------------ */

static inline uintptr_t link_pair(struct jit_tb *tb, unsigned exit)
{
    return (uintptr_t)tb | exit;
}

static inline struct jit_tb *pair_tb(uintptr_t pair)
{
    return (struct jit_tb *)(pair & ~(uintptr_t)JIT_EXIT_MASK);
}

static inline unsigned pair_exit(uintptr_t pair)
{
    return (unsigned)(pair & JIT_EXIT_MASK);
}

/* Points the rel32 at `field` (an offset in tb's code) at `target`. */
static void patch_rel32(struct jit *j, struct jit_tb *tb, uint32_t field, const uint8_t *target)
{
    uint8_t *field_rx = tb->code + field;
    uint8_t *field_rw = j->code.rw + (field_rx - j->code.rx);
    int32_t rel = (int32_t)(target - (field_rx + 4));
    memcpy(field_rw, &rel, 4);
}

void jit_link(struct jit *j, struct jit_tb *from, unsigned exit, struct jit_tb *to)
{
    if (from->dead || to->dead || !from->exit_field[exit] || from->exit_dest[exit])
        return;
    /* A block that crosses a page, or checks a frame, may leave from its
     * prologue for the dispatcher to run it again (block.c): it gets the
     * flags saved, as one that reads them. */
    if (from->exit_save_field[exit] && (to->flags_in || to->crosses || to->framed))
        patch_rel32(j, from, from->exit_save_field[exit], to->code); /* save, then go */
    else
        patch_rel32(j, from, from->exit_field[exit], to->code);
    from->exit_dest[exit] = to;
    from->in_next[exit] = to->in_first;
    to->in_first = link_pair(from, exit);
    j->stats.links++;
}

/* Points `from`'s exit back at its stub and drops it from its target's
 * list of incoming links. */
static void unlink_exit(struct jit *j, struct jit_tb *from, unsigned exit)
{
    struct jit_tb *to = from->exit_dest[exit];
    if (!to)
        return;
    uintptr_t me = link_pair(from, exit);
    for (uintptr_t *pp = &to->in_first; *pp;) {
        uintptr_t pair = *pp;
        struct jit_tb *t = pair_tb(pair);
        if (pair == me) {
            *pp = t->in_next[pair_exit(pair)];
            break;
        }
        pp = &t->in_next[pair_exit(pair)];
    }
    patch_rel32(j, from, from->exit_field[exit], from->code + from->exit_stub[exit]);
    if (from->exit_save_field[exit])
        patch_rel32(j, from, from->exit_save_field[exit],
                    from->code + from->exit_save_stub[exit]);
    from->exit_dest[exit] = NULL;
    j->stats.unlinks++;
}

/* ------------------------------------------------------------------ */
/* Jump cache                                                          */
/* ------------------------------------------------------------------ */

static unsigned kpage_bit(uint32_t lin)
{
    uint32_t page = lin >> 12;
    return (page ^ (page >> 12)) & 4095;
}

void jit_jc_insert(struct jit *j, struct jit_tb *tb)
{
    struct cpu *cpu = j->cpu;
    uint32_t jc_pc = jit_jc_pc(tb->key, tb->cs_base, tb->eip);
    struct jit_jc_entry *e = &j->jc[jit_jc_index(jc_pc)];
    if (jit_jc_kernel(tb->key)) {
        /* Kept across MOV CR3 only while all of them come from
         * translations it keeps too (a kernel's early page tables have
         * no global pages: then every flush advances the stamp). */
        if ((cpu->cr0 & CR0_PG) && !tlb_exec_global(&cpu->tlb, tb->pc, 0))
            j->knonglobal = true;
        unsigned b = kpage_bit(tb->pc);
        j->kpages[b >> 6] |= 1ull << (b & 63);
        uint32_t page = tb->pc >> 12;
        if (page < j->kpage_min)
            j->kpage_min = page;
        if (page > j->kpage_max)
            j->kpage_max = page;
    }
    e->tag = jit_jc_tag(cpu, tb->key, jc_pc);
    e->code = tb->code;
}

/* Advances a stamp's epoch; a wrapped one could match old tags again. */
static void stamp_advance(struct jit *j, uint32_t *stamp)
{
    uint32_t epoch = (*stamp + JIT_JC_EPOCH_ONE) & JIT_JC_EPOCH_MASK;
    *stamp = JIT_JC_VALID | epoch;
    if (epoch == 0)
        memset(j->jc, 0, JIT_JC_SIZE * sizeof(*j->jc));
}

void jit_jc_flush(struct jit *j)
{
    stamp_advance(j, &j->cpu->jit_jc_stamp);
    stamp_advance(j, &j->cpu->jit_jc_kstamp);
    memset(j->kpages, 0, sizeof(j->kpages));
    j->kpage_min = UINT32_MAX;
    j->kpage_max = 0;
    j->knonglobal = false;
}

void jit_jc_tlb_changed(struct jit *j)
{
    const struct tlb *t = &j->cpu->tlb;
    uint32_t pages = t->flushes_page - j->tlb_flushes_page;
    unsigned b = kpage_bit(t->last_flush_page);
    uint32_t page = t->last_flush_page >> 12;
    /* A flush of the non-global translations (MOV CR3) matters once code
     * from one went in; INVLPG only for its own page, whatever the
     * translation's G bit was. */
    bool nonglobal = t->flushes_nonglobal != j->tlb_flushes_nonglobal;
    bool kernel = (j->knonglobal && nonglobal) || t->flushes_all != j->tlb_flushes_all ||
                  pages > 1 ||
                  (pages == 1 && page >= j->kpage_min && page <= j->kpage_max &&
                   (j->kpages[b >> 6] >> (b & 63) & 1));
    j->tlb_flushes_all = t->flushes_all;
    j->tlb_flushes_page = t->flushes_page;
    j->tlb_flushes_nonglobal = t->flushes_nonglobal;
    if (kernel) {
        jit_jc_flush(j);
        return;
    }
    stamp_advance(j, &j->cpu->jit_jc_stamp);
}

static void jc_remove(struct jit *j, struct jit_tb *tb)
{
    struct jit_jc_entry *e = &j->jc[jit_jc_index(jit_jc_pc(tb->key, tb->cs_base, tb->eip))];
    if (e->code == tb->code)
        *e = (struct jit_jc_entry){ 0, NULL };
}

/* ------------------------------------------------------------------ */
/* Invalidation and flush                                              */
/* ------------------------------------------------------------------ */

static void hash_remove(struct jit *j, struct jit_tb *tb)
{
    struct jit_tb **hp = &j->hash[tb_hash(tb->paddr, tb->pc)];
    while (*hp && *hp != tb)
        hp = &(*hp)->hash_next;
    if (*hp)
        *hp = tb->hash_next;
}

static void tb_drop(struct jit *j, struct jit_tb *tb)
{
    if (tb->dead)
        return; /* a crossing block is on two pages */
    tb->dead = 1;
    hash_remove(j, tb);
    jc_remove(j, tb);
    /* Exits of other blocks that jump here go back to their stubs. */
    while (tb->in_first) {
        uintptr_t pair = tb->in_first;
        unlink_exit(j, pair_tb(pair), pair_exit(pair));
    }
    for (unsigned i = 0; i < JIT_EXITS; i++)
        unlink_exit(j, tb, i);
}

void jit_invalidate_block(struct jit *j, struct jit_tb *tb)
{
    tb_drop(j, tb); /* its page records let go of it when next written */
}

void jit_invalidate_at(struct jit *j, uint32_t lin)
{
    for (unsigned h = 0; h < JIT_HASH_SIZE; h++)
        for (struct jit_tb *t = j->hash[h], *next; t; t = next) {
            next = t->hash_next;
            if (lin - t->pc < t->bytes)
                tb_drop(j, t);
        }
}

void jit_invalidate_page(struct jit *j, uint64_t page)
{
    page &= ~(uint64_t)(PAGE_SIZE - 1);
    struct jit_page **pp = &j->pages[page_hash(page)];
    while (*pp && (*pp)->page != page)
        pp = &(*pp)->next;
    struct jit_page *p = *pp;
    if (p) {
        for (struct jit_tb *t = p->blocks; t; t = t->page_next)
            tb_drop(j, t);
        for (struct jit_cross *x = p->cross; x; x = x->next)
            tb_drop(j, x->tb);
        *pp = p->next;
        free(p);
        j->stats.invalidations++;
    }
    phys_unmark_code_page(j->cpu->bus.mem, page);
    /* Writes to the page may take the fast path again. */
    tlb_flush_phys_page(&j->cpu->tlb, page);
    /* The running block may be one of them: it ends after the current
     * instruction (the helper thunk and the dispatcher look). */
    j->cpu->code_changed = 1;
}

/*
 * A store into a page with blocks: only the blocks whose bytes it
 * touched go (a program that rewrites an immediate in one function keeps
 * the translations of its caller on the same page); the page keeps its
 * mark while blocks remain, with the bytes they cover.
 */
static void mark_bytes(struct jit_page *p, unsigned start, unsigned len)
{
    for (unsigned i = start; i < start + len && i < PAGE_SIZE; i++)
        p->code_bytes[i / 8] |= (uint8_t)(1u << (i % 8));
}

static void smc_note_write(struct jit *j, uint64_t page);

static void invalidate_range(struct jit *j, struct jit_page *p, unsigned off, unsigned len)
{
    smc_note_write(j, p->page);
    struct jit_tb **tp = &p->blocks;
    while (*tp) {
        struct jit_tb *t = *tp;
        unsigned start = (unsigned)(t->paddr & (PAGE_SIZE - 1));
        if (t->dead || (start < off + len && off < start + t->bytes)) {
            *tp = t->page_next;
            tb_drop(j, t);
        } else {
            tp = &t->page_next;
        }
    }
    struct jit_cross **xp = &p->cross;
    while (*xp) {
        struct jit_cross *x = *xp;
        if (x->tb->dead || off < x->tail) {
            *xp = x->next;
            tb_drop(j, x->tb);
        } else {
            xp = &x->next;
        }
    }
    j->stats.invalidations++;
    j->cpu->code_changed = 1; /* the running block may be one of them */
    if (!p->blocks && !p->cross) {
        jit_invalidate_page(j, p->page);
        return;
    }
    memset(p->code_bytes, 0, sizeof(p->code_bytes));
    for (struct jit_tb *t = p->blocks; t; t = t->page_next)
        mark_bytes(p, (unsigned)(t->paddr & (PAGE_SIZE - 1)), t->bytes);
    for (struct jit_cross *x = p->cross; x; x = x->next)
        mark_bytes(p, 0, x->tail);
}

/* ------------------------------------------------------------------ */
/* Code rewritten faster than it pays to translate                     */
/* ------------------------------------------------------------------ */

static struct jit_smc_page *smc_slot(struct jit *j, uint64_t page)
{
    return &j->smc[(page >> 12) % JIT_SMC_SLOTS];
}

/* A store dropped blocks of `page`: the JIT_SMC_WRITES-th within the
 * window turns the page over to the careful path for a while (the
 * translations of code that changes before it runs twice cost more
 * than decoding it as it runs: make bench smc). */
static void smc_note_write(struct jit *j, uint64_t page)
{
    struct jit_smc_page *s = smc_slot(j, page);
    uint64_t now = j->cpu->icount;
    if (s->page != page || now - s->since > JIT_SMC_WINDOW) {
        if (s->careful)
            j->smc_careful_pages--;
        *s = (struct jit_smc_page){ .page = page, .since = now };
    }
    if (++s->writes >= JIT_SMC_WRITES && !s->careful) {
        s->careful = JIT_SMC_CAREFUL;
        j->smc_careful_pages++;
        j->stats.smc_hot++;
    }
}

unsigned jit_smc_careful(struct jit *j, uint64_t paddr)
{
    uint64_t page = paddr & ~(uint64_t)(PAGE_SIZE - 1);
    struct jit_smc_page *s = smc_slot(j, page);
    if (s->page != page || !s->careful)
        return 0;
    unsigned n = s->careful < JIT_SMC_STREAK ? s->careful : JIT_SMC_STREAK;
    s->careful -= n;
    if (s->careful == 0) {
        /* Translated again after these; counting starts over. */
        j->smc_careful_pages--;
        *s = (struct jit_smc_page){ .page = page, .since = j->cpu->icount };
    }
    j->stats.smc_careful += n;
    return n;
}

static void free_pages(struct jit *j)
{
    for (unsigned i = 0; i < JIT_PAGE_HASH_SIZE; i++) {
        struct jit_page *p = j->pages[i];
        while (p) {
            struct jit_page *next = p->next;
            phys_unmark_code_page(j->cpu->bus.mem, p->page);
            tlb_flush_phys_page(&j->cpu->tlb, p->page);
            free(p);
            p = next;
        }
        j->pages[i] = NULL;
    }
}

void jit_flush(struct jit *j)
{
    free_pages(j);
    memset(j->hash, 0, sizeof(j->hash));
    memset(j->jc, 0, JIT_JC_SIZE * sizeof(*j->jc));
    j->code_used = j->code_reserved;
    j->meta_used = 0;
    /* The exit the dispatcher was about to link belongs to a block that
     * no longer exists (its memory is about to hold others). */
    j->pending_from = NULL;
    j->stats.flushes++;
    j->cpu->code_changed = 1;
}

/* ------------------------------------------------------------------ */
/* Lookup and allocation                                               */
/* ------------------------------------------------------------------ */

struct jit_tb *jit_lookup(struct jit *j, uint64_t paddr, uint32_t pc, uint32_t cs_base,
                          uint32_t cs_limit, uint32_t key)
{
    for (struct jit_tb *t = j->hash[tb_hash(paddr, pc)]; t; t = t->hash_next)
        if (t->paddr == paddr && t->pc == pc && t->key == key && t->cs_base == cs_base &&
            t->cs_limit == cs_limit)
            return t;
    return NULL;
}

static void *meta_alloc(struct jit *j, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (j->meta_used + size > j->meta_size)
        return NULL;
    void *p = j->meta + j->meta_used;
    j->meta_used += size;
    return p;
}

struct jit_tb *jit_tb_alloc(struct jit *j, unsigned n)
{
    size_t need = sizeof(struct jit_tb) + n * sizeof(struct jit_insn) + sizeof(struct jit_cross) + 48;
    if (j->meta_used + need > j->meta_size)
        jit_flush(j);
    jit_meta_prefault(j->meta, j->meta_size, &j->meta_ready, j->meta_used + need);
    struct jit_tb *tb = meta_alloc(j, sizeof(struct jit_tb));
    struct jit_insn *ins = meta_alloc(j, n * sizeof(struct jit_insn));
    if (!tb || !ins)
        return NULL;
    memset(tb, 0, sizeof(*tb));
    tb->insns = ins;
    return tb;
}

/* Writes to `page` reach code_written from now on. */
static void mark_code_page(struct jit *j, uint64_t page)
{
    if (!phys_is_code_page(j->cpu->bus.mem, page)) {
        phys_mark_code_page(j->cpu->bus.mem, page);
        /* Entries filled before the mark let writes through: drop them. */
        tlb_flush_phys_page(&j->cpu->tlb, page);
    }
}

bool jit_tb_commit(struct jit *j, struct jit_tb *tb)
{
    uint64_t page = tb->paddr & ~(uint64_t)(PAGE_SIZE - 1);
    struct jit_page *p = page_find(j, page, true);
    /* No memory for a page record: the block would never be dropped by
     * a write, so it is not kept findable. */
    if (!p)
        return false;
    struct jit_page *p2 = NULL;
    struct jit_cross *x = NULL;
    if (tb->crosses) {
        p2 = page_find(j, tb->paddr2, true);
        x = meta_alloc(j, sizeof(*x));
        if (!p2 || !x)
            return false;
    }
    unsigned h = tb_hash(tb->paddr, tb->pc);
    tb->hash_next = j->hash[h];
    j->hash[h] = tb;
    tb->page_next = p->blocks;
    p->blocks = tb;
    unsigned off = (unsigned)(tb->paddr & (PAGE_SIZE - 1));
    mark_bytes(p, off, tb->bytes);
    mark_code_page(j, page);
    if (x) {
        x->tb = tb;
        x->tail = off + tb->bytes - PAGE_SIZE;
        x->next = p2->cross;
        p2->cross = x;
        mark_bytes(p2, 0, x->tail);
        mark_code_page(j, tb->paddr2);
    }
    j->stats.blocks++;
    return true;
}

int jit_cache_init(struct jit *j, size_t code_size)
{
    if (jit_code_map(&j->code, code_size) != 0)
        return -1;
    j->meta_size = code_size;
    j->meta_ready = 0;
    j->meta = jit_meta_map(j->meta_size);
    j->jc = calloc(JIT_JC_SIZE, sizeof(*j->jc));
    for (unsigned i = 0; i < JIT_SMC_SLOTS; i++)
        j->smc[i].page = ~(uint64_t)0;
    if (!j->meta || !j->jc) {
        jit_cache_free(j);
        return -1;
    }
    phys_set_code_write_notifier(j->cpu->bus.mem, code_written, j);
    return 0;
}

void jit_cache_free(struct jit *j)
{
    free_pages(j);
    phys_set_code_write_notifier(j->cpu->bus.mem, NULL, NULL);
    jit_code_unmap(&j->code);
    jit_meta_unmap(j->meta, j->meta_size);
    free(j->jc);
    j->meta = NULL;
    j->jc = NULL;
}
