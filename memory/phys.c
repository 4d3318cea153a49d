/*
 * memory/phys.c — the guest's 36-bit physical address space.
 *
 * Lookup is a two-level table: the top level is indexed by addr >> 24
 * (4096 slots of 16 MiB), each leaf holds 4096 descriptors of 4 KiB pages
 * and is allocated when something is first mapped there. A descriptor
 * tells what the page is (hole, RAM, ROM, MMIO), the host pointer of the
 * page for RAM/ROM, the MMIO region for MMIO, and the code-page mark.
 * Holes read as all ones and drop writes, as an undriven PC bus does.
 *
 * Code-page writes: the notifier runs AFTER the store, so that whoever
 * re-translates the page sees the new bytes.
 *
 * Besides the page table, every mapping is kept in a list in the order it
 * was made. phys_unmap removes one mapping from the list and rebuilds the
 * pages of its range from the remaining ones (later over earlier), so a
 * PCI BAR that moves away uncovers what lay beneath it. MMIO regions live
 * in a table of stable slots (the page descriptors index it); a slot is
 * reused once its mapping is gone.
 *
 * Dirty logs (phys_dirty_log_new) are kept in a list; a store into RAM
 * looks its host address up in them (a range compare per log: there is
 * one, the VGA's), and TLB fills ask phys_page_write_logged whether a
 * page's stores must come here first.
 *
 * Two views: the CPU's and the bus masters' (DMA). They differ only where
 * a chipset routes CPU cycles elsewhere than PCI masters' (the i440FX's
 * SMRAM D_OPEN sends the CPU to the DRAM under the VGA window, while bus
 * masters keep reaching the VGA). Such a mapping is made CPU-only; the
 * page descriptors describe the CPU's view, and marks a page painted by
 * a CPU-only mapping so that the phys_dma_* accesses find, in the list of
 * mappings, the newest one bus masters see there.
 */
#include <stdlib.h>
#include <string.h>

#include "memory/memory.h"

#define PHYS_BITS 36
#define PHYS_LIMIT (1ull << PHYS_BITS)
#define PAGE_SHIFT 12
#define PAGE_SIZE (1u << PAGE_SHIFT)
#define PAGE_MASK ((uint64_t)PAGE_SIZE - 1)
#define LEAF_SHIFT 24 /* a leaf covers 16 MiB */
#define LEAF_PAGES (1u << (LEAF_SHIFT - PAGE_SHIFT))
#define TOP_SLOTS (1u << (PHYS_BITS - LEAF_SHIFT))
#define A20_BIT (1ull << 20)

enum page_kind { PAGE_HOLE = 0, PAGE_RAM, PAGE_ROM, PAGE_MMIO };

struct page_desc {
    uint8_t *host;     /* RAM/ROM: host address of the page's first byte */
    uint32_t region;   /* MMIO: index into phys_mem.regions */
    uint8_t kind;      /* enum page_kind */
    uint8_t code;      /* holds translated code (see phys_mark_code_page) */
    uint8_t cpu_only;  /* painted by a CPU-only mapping: DMA sees another */
};

struct mmio_region {
    const struct mem_ops *ops; /* NULL: free slot */
    void *opaque;
    uint64_t base;
};

/* One phys_map_* call, as the list of mappings remembers it. */
struct mapping {
    uint64_t base, size;
    uint8_t *host;   /* RAM/ROM */
    uint32_t region; /* MMIO: slot in phys_mem.regions */
    uint8_t kind;    /* enum page_kind */
    uint8_t cpu_only;/* bus masters do not see it (phys_map_cpu_ram) */
};

struct phys_mem {
    struct page_desc *top[TOP_SLOTS];
    struct mmio_region *regions;
    uint32_t nregions, cap_regions;
    struct mapping *maps; /* oldest first */
    uint32_t nmaps, cap_maps;
    void (*map_notify)(void *opaque, uint64_t base, uint64_t size);
    void *map_opaque;
    uint64_t a20_mask; /* ~0, or ~bit 20 with the gate off */
    void (*code_notify)(void *opaque, uint64_t paddr, uint64_t size);
    void *code_opaque;
    /* Lockstep (phys_set_write_watch): told of every RAM store before it
     * lands; every guest write then takes the TLB's slow path. */
    void (*write_watch)(void *opaque, uint64_t paddr, size_t size);
    void *watch_opaque;
    uint64_t mmio_accesses;
    struct dirty_log *logs;
    struct tlb *tlbs[PHYS_MAX_TLBS];
    /* The direct window (struct tlb, direct_span): the run of plain RAM
     * from TLB_DIRECT_BASE up to direct_end, contiguous in the host at
     * direct_host; direct_end == TLB_DIRECT_BASE when there is none. */
    uint64_t direct_end;
    uint8_t *direct_host;
};

/* One dirty log: a bit per 4 KiB page of [host, host + size), set when
 * the page was written since the last dirty_log_take. */
struct dirty_log {
    struct dirty_log *next;
    struct phys_mem *pm;
    uint8_t *host;
    size_t size;
    uint64_t *bits;
};

static const struct page_desc hole_desc; /* all zero: PAGE_HOLE */

struct phys_mem *phys_new(void)
{
    struct phys_mem *pm = calloc(1, sizeof(*pm));
    if (pm) {
        pm->a20_mask = ~0ull;
        pm->direct_end = TLB_DIRECT_BASE;
    }
    return pm;
}

void phys_free(struct phys_mem *pm)
{
    if (!pm)
        return;
    for (unsigned i = 0; i < TOP_SLOTS; i++)
        free(pm->top[i]);
    free(pm->regions);
    free(pm->maps);
    /* Logs outlived by their owner's phys_dirty_log_free are unusual,
     * but must not leak. */
    while (pm->logs) {
        struct dirty_log *l = pm->logs;
        pm->logs = l->next;
        free(l->bits);
        free(l);
    }
    free(pm);
}

/* Descriptor of the page holding `addr` (A20 already applied); a shared
 * read-only hole for unmapped or out-of-range addresses. */
static inline const struct page_desc *desc_of(const struct phys_mem *pm, uint64_t addr)
{
    if (addr >= PHYS_LIMIT)
        return &hole_desc;
    const struct page_desc *leaf = pm->top[addr >> LEAF_SHIFT];
    if (!leaf)
        return &hole_desc;
    return &leaf[(addr >> PAGE_SHIFT) & (LEAF_PAGES - 1)];
}

/* Writable descriptor, allocating its leaf; NULL when out of memory/range. */
static struct page_desc *desc_alloc(struct phys_mem *pm, uint64_t addr)
{
    if (addr >= PHYS_LIMIT)
        return NULL;
    struct page_desc **slot = &pm->top[addr >> LEAF_SHIFT];
    if (!*slot) {
        *slot = calloc(LEAF_PAGES, sizeof(struct page_desc));
        if (!*slot)
            return NULL;
    }
    return &(*slot)[(addr >> PAGE_SHIFT) & (LEAF_PAGES - 1)];
}

static bool range_ok(uint64_t base, uint64_t size)
{
    return size != 0 && (base & PAGE_MASK) == 0 && (size & PAGE_MASK) == 0 &&
           base < PHYS_LIMIT && size <= PHYS_LIMIT - base;
}

/* Allocates every leaf of the range first so that a failure leaves the
 * map unchanged. */
static int alloc_range(struct phys_mem *pm, uint64_t base, uint64_t size)
{
    for (uint64_t a = base & ~(((uint64_t)1 << LEAF_SHIFT) - 1); a < base + size;
         a += (uint64_t)1 << LEAF_SHIFT)
        if (!desc_alloc(pm, a))
            return -1;
    return 0;
}

/* Room for one more entry in the list of mappings. */
static int maps_reserve(struct phys_mem *pm)
{
    if (pm->nmaps < pm->cap_maps)
        return 0;
    uint32_t cap = pm->cap_maps ? pm->cap_maps * 2 : 16;
    struct mapping *m = realloc(pm->maps, cap * sizeof(*m));
    if (!m)
        return -1;
    pm->maps = m;
    pm->cap_maps = cap;
    return 0;
}

/* Writes mapping `m` into the page descriptors of [lo, hi) (a part of
 * its range whose leaves exist). */
static void paint(struct phys_mem *pm, const struct mapping *m, uint64_t lo, uint64_t hi)
{
    for (uint64_t a = lo; a < hi; a += PAGE_SIZE) {
        struct page_desc *d = desc_alloc(pm, a);
        d->kind = m->kind;
        d->host = m->kind == PAGE_MMIO ? NULL : m->host + (a - m->base);
        d->region = m->kind == PAGE_MMIO ? m->region : 0;
        d->cpu_only = m->cpu_only;
        /* The code mark stays: blocks translated from the old contents
         * still need their invalidation on the next write. */
    }
}

/*
 * The direct window. With paging off the JIT reads guest memory at or
 * above 1 MiB (where a PC has its RAM: Linux's decompressor, a kernel's
 * early code) with an add of a constant instead of a TLB lookup, when
 * the address falls in one run of plain RAM, mapped contiguously from
 * the host's memory and seen the same by every bus master. Below 1 MiB
 * lie the VGA window, ROMs and the PAM and SMRAM switches, so the window
 * starts there. It is found again whenever a mapping at or above 1 MiB
 * changes, so a PCI BAR placed over RAM cuts it short at once (the TLB
 * path, which the generated code falls back to, then sees the device);
 * it is closed while the A20 gate is off.
 */
static void direct_publish(struct phys_mem *pm)
{
    uint64_t len = pm->direct_end - TLB_DIRECT_BASE;
    uint32_t span = 0;
    uintptr_t addend = 0;
    if (pm->a20_mask == ~0ull && len >= TLB_DIRECT_MAX_ACCESS) {
        span = (uint32_t)(len - (TLB_DIRECT_MAX_ACCESS - 1));
        addend = (uintptr_t)pm->direct_host - TLB_DIRECT_BASE;
    }
    for (unsigned i = 0; i < PHYS_MAX_TLBS; i++)
        if (pm->tlbs[i]) {
            pm->tlbs[i]->direct_span_map = span;
            pm->tlbs[i]->direct_span = pm->tlbs[i]->direct_closed ? 0 : span;
            pm->tlbs[i]->direct_addend = addend;
        }
}

static void direct_find(struct phys_mem *pm)
{
    const struct page_desc *d = desc_of(pm, TLB_DIRECT_BASE);
    uint64_t end = TLB_DIRECT_BASE;
    uint8_t *host = d->kind == PAGE_RAM && !d->cpu_only ? d->host : NULL;
    if (host) {
        /* Linear addresses end at 4 GiB. */
        while (end < 0x100000000ull) {
            d = desc_of(pm, end);
            if (d->kind != PAGE_RAM || d->cpu_only || d->host != host + (end - TLB_DIRECT_BASE))
                break;
            end += PAGE_SIZE;
        }
    }
    pm->direct_end = end;
    pm->direct_host = host;
    direct_publish(pm);
}

/* A mapping changed: whoever caches host pointers (the TLB's owner) and
 * whoever translated code from the range (blocks built from ROM too,
 * which carry no code mark: a PAM switch to shadow RAM must drop them)
 * hear of it. */
static void notify_map(struct phys_mem *pm, uint64_t base, uint64_t size)
{
    /* Only a change that reaches into the window or starts right at
     * its end can move the end (a BAR far above RAM cannot). */
    if (base + size > TLB_DIRECT_BASE && base <= pm->direct_end)
        direct_find(pm);
    if (pm->code_notify)
        pm->code_notify(pm->code_opaque, base, size);
    if (pm->map_notify)
        pm->map_notify(pm->map_opaque, base, size);
}

static int add_mapping(struct phys_mem *pm, const struct mapping *m)
{
    if (alloc_range(pm, m->base, m->size) < 0 || maps_reserve(pm) < 0)
        return -1;
    pm->maps[pm->nmaps++] = *m;
    paint(pm, m, m->base, m->base + m->size);
    notify_map(pm, m->base, m->size);
    return 0;
}

static int map_host(struct phys_mem *pm, uint64_t base, uint64_t size, uint8_t *host,
                    enum page_kind kind)
{
    if (!pm || !host || !range_ok(base, size))
        return -1;
    struct mapping m = { .base = base, .size = size, .host = host, .kind = (uint8_t)kind };
    return add_mapping(pm, &m);
}

int phys_map_ram(struct phys_mem *pm, uint64_t base, uint64_t size, uint8_t *host)
{
    return map_host(pm, base, size, host, PAGE_RAM);
}

int phys_map_rom(struct phys_mem *pm, uint64_t base, uint64_t size, uint8_t *host)
{
    return map_host(pm, base, size, host, PAGE_ROM);
}

int phys_map_cpu_ram(struct phys_mem *pm, uint64_t base, uint64_t size, uint8_t *host)
{
    if (!pm || !host || !range_ok(base, size))
        return -1;
    struct mapping m = { .base = base, .size = size, .host = host, .kind = PAGE_RAM,
                         .cpu_only = 1 };
    return add_mapping(pm, &m);
}

int phys_map_mmio(struct phys_mem *pm, uint64_t base, uint64_t size,
                  const struct mem_ops *ops, void *opaque)
{
    if (!pm || !ops || !range_ok(base, size))
        return -1;
    /* A free slot, or a new one. */
    uint32_t idx = 0;
    while (idx < pm->nregions && pm->regions[idx].ops)
        idx++;
    if (idx == pm->nregions) {
        if (pm->nregions == pm->cap_regions) {
            uint32_t cap = pm->cap_regions ? pm->cap_regions * 2 : 8;
            struct mmio_region *r = realloc(pm->regions, cap * sizeof(*r));
            if (!r)
                return -1;
            pm->regions = r;
            pm->cap_regions = cap;
        }
        pm->regions[pm->nregions++] = (struct mmio_region){ 0 };
    }
    struct mapping m = { .base = base, .size = size, .region = idx, .kind = PAGE_MMIO };
    if (add_mapping(pm, &m) < 0)
        return -1; /* the slot stays free (ops NULL) */
    pm->regions[idx] = (struct mmio_region){ ops, opaque, base };
    return 0;
}

int phys_unmap(struct phys_mem *pm, uint64_t base, uint64_t size)
{
    if (!pm || !range_ok(base, size))
        return -1;
    uint32_t i = pm->nmaps;
    while (i > 0 && !(pm->maps[i - 1].base == base && pm->maps[i - 1].size == size))
        i--;
    if (i == 0)
        return -1;
    struct mapping gone = pm->maps[i - 1];
    memmove(&pm->maps[i - 1], &pm->maps[i], (pm->nmaps - i) * sizeof(struct mapping));
    pm->nmaps--;
    /* Rebuild the range: a hole, then every remaining mapping over it in
     * the order they were made. Leaves exist (the range was mapped). */
    for (uint64_t a = base; a < base + size; a += PAGE_SIZE) {
        struct page_desc *d = desc_alloc(pm, a);
        d->kind = PAGE_HOLE;
        d->host = NULL;
        d->region = 0;
        d->cpu_only = 0;
    }
    for (uint32_t k = 0; k < pm->nmaps; k++) {
        const struct mapping *m = &pm->maps[k];
        uint64_t lo = m->base > base ? m->base : base;
        uint64_t hi = m->base + m->size < base + size ? m->base + m->size : base + size;
        if (lo < hi)
            paint(pm, m, lo, hi);
    }
    if (gone.kind == PAGE_MMIO)
        pm->regions[gone.region].ops = NULL; /* no page refers to it now */
    notify_map(pm, base, size);
    return 0;
}

void phys_set_map_notifier(struct phys_mem *pm,
                           void (*fn)(void *opaque, uint64_t base, uint64_t size), void *opaque)
{
    pm->map_notify = fn;
    pm->map_opaque = opaque;
}

void phys_set_a20(struct phys_mem *pm, bool enabled)
{
    pm->a20_mask = enabled ? ~0ull : ~A20_BIT;
    direct_publish(pm);
}

bool phys_a20(const struct phys_mem *pm)
{
    return pm->a20_mask == ~0ull;
}

uint64_t phys_apply_a20(const struct phys_mem *pm, uint64_t addr)
{
    return addr & pm->a20_mask;
}

void phys_set_write_watch(struct phys_mem *pm, void (*fn)(void *opaque, uint64_t paddr,
                                                          size_t size),
                          void *opaque)
{
    pm->write_watch = fn;
    pm->watch_opaque = opaque;
}

bool phys_writes_watched(const struct phys_mem *pm)
{
    return pm->write_watch != NULL;
}

void phys_write_unwatched(struct phys_mem *pm, uint64_t addr, uint64_t val, unsigned size)
{
    void (*watch)(void *, uint64_t, size_t) = pm->write_watch;
    pm->write_watch = NULL;
    phys_write(pm, addr, val, size);
    pm->write_watch = watch;
}

uint64_t phys_mmio_accesses(const struct phys_mem *pm)
{
    return pm->mmio_accesses;
}

/* ------------------------------------------------------------------ */
/* Accesses                                                            */
/* ------------------------------------------------------------------ */

static inline uint64_t ones(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Guest memory is little-endian, and so is every host Glass supports
 * (the same assumption as cpu/mem.c): fixed-size memcpy compiles to one
 * unaligned load or store. */
static inline uint64_t load_le(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return p[0];
    case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
    case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
    default: { uint64_t x; memcpy(&x, p, 8); return x; }
    }
}

static inline void store_le(uint8_t *p, uint64_t v, unsigned size)
{
    switch (size) {
    case 1: p[0] = (uint8_t)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

static void log_mark(struct dirty_log *l, size_t off, size_t len);

/* A store of `len` bytes at host address `p` (RAM): marks its page in
 * the dirty log that holds it, if any. */
static inline void log_store(struct phys_mem *pm, const uint8_t *p, size_t len)
{
    for (struct dirty_log *l = pm->logs; l; l = l->next)
        if (p >= l->host && p < l->host + l->size) {
            log_mark(l, (size_t)(p - l->host), len);
            return;
        }
}

static inline void notify_code(struct phys_mem *pm, const struct page_desc *d, uint64_t addr,
                               unsigned size)
{
    if (d->code && pm->code_notify)
        pm->code_notify(pm->code_opaque, addr, size);
}

/* An access within one page through descriptor `d` (the CPU's, or the
 * bus masters' view of it); `addr` has A20 applied. */
static uint64_t read_desc(struct phys_mem *pm, const struct page_desc *d, uint64_t addr,
                          unsigned size)
{
    switch (d->kind) {
    case PAGE_RAM:
    case PAGE_ROM:
        return load_le(d->host + (addr & PAGE_MASK), size);
    case PAGE_MMIO: {
        const struct mmio_region *r = &pm->regions[d->region];
        pm->mmio_accesses++;
        if (!r->ops->read)
            return ones(size);
        return r->ops->read(r->opaque, addr - r->base, size) & ones(size);
    }
    default:
        return ones(size);
    }
}

static uint64_t read_in_page(struct phys_mem *pm, uint64_t addr, unsigned size)
{
    return read_desc(pm, desc_of(pm, addr), addr, size);
}

/* `rom_writable`: phys_load may write ROM, the guest may not. */
static void write_desc(struct phys_mem *pm, const struct page_desc *d, uint64_t addr,
                       uint64_t val, unsigned size, bool rom_writable)
{
    switch (d->kind) {
    case PAGE_ROM:
        if (!rom_writable)
            return;
        /* fall through */
    case PAGE_RAM:
        if (pm->write_watch)
            pm->write_watch(pm->watch_opaque, addr, size);
        store_le(d->host + (addr & PAGE_MASK), val, size);
        log_store(pm, d->host + (addr & PAGE_MASK), size);
        notify_code(pm, d, addr, size);
        return;
    case PAGE_MMIO: {
        const struct mmio_region *r = &pm->regions[d->region];
        pm->mmio_accesses++;
        if (r->ops->write)
            r->ops->write(r->opaque, addr - r->base, val & ones(size), size);
        return;
    }
    default:
        return;
    }
}

static void write_in_page(struct phys_mem *pm, uint64_t addr, uint64_t val, unsigned size,
                          bool rom_writable)
{
    write_desc(pm, desc_of(pm, addr), addr, val, size, rom_writable);
}

static inline bool size_ok(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

uint64_t phys_read(struct phys_mem *pm, uint64_t addr, unsigned size)
{
    if (!size_ok(size))
        return 0;
    uint64_t a = addr & pm->a20_mask;
    if ((a & PAGE_MASK) + size <= PAGE_SIZE)
        return read_in_page(pm, a, size);
    /* Crosses a page (and so maybe a region) boundary: byte by byte, each
     * byte with its own A20 masking. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= read_in_page(pm, (addr + i) & pm->a20_mask, 1) << (8 * i);
    return v;
}

void phys_write(struct phys_mem *pm, uint64_t addr, uint64_t val, unsigned size)
{
    if (!size_ok(size))
        return;
    uint64_t a = addr & pm->a20_mask;
    if ((a & PAGE_MASK) + size <= PAGE_SIZE) {
        write_in_page(pm, a, val, size, false);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        write_in_page(pm, (addr + i) & pm->a20_mask, val >> (8 * i), 1, false);
}

void phys_read_buf(struct phys_mem *pm, uint64_t addr, void *buf, size_t len)
{
    uint8_t *out = buf;
    while (len > 0) {
        uint64_t a = addr & pm->a20_mask;
        size_t n = PAGE_SIZE - (a & PAGE_MASK);
        if (n > len)
            n = len;
        const struct page_desc *d = desc_of(pm, a);
        if (d->kind == PAGE_RAM || d->kind == PAGE_ROM) {
            memcpy(out, d->host + (a & PAGE_MASK), n);
        } else {
            for (size_t i = 0; i < n; i++)
                out[i] = (uint8_t)read_in_page(pm, a + i, 1);
        }
        out += n;
        addr += n;
        len -= n;
    }
}

static void write_buf(struct phys_mem *pm, uint64_t addr, const void *buf, size_t len,
                      bool rom_writable)
{
    const uint8_t *in = buf;
    while (len > 0) {
        uint64_t a = addr & pm->a20_mask;
        size_t n = PAGE_SIZE - (a & PAGE_MASK);
        if (n > len)
            n = len;
        const struct page_desc *d = desc_of(pm, a);
        if (d->kind == PAGE_RAM || (d->kind == PAGE_ROM && rom_writable)) {
            if (pm->write_watch)
                pm->write_watch(pm->watch_opaque, a, n);
            memcpy(d->host + (a & PAGE_MASK), in, n);
            log_store(pm, d->host + (a & PAGE_MASK), n);
            notify_code(pm, d, a, (unsigned)n);
        } else if (d->kind == PAGE_MMIO) {
            for (size_t i = 0; i < n; i++)
                write_in_page(pm, a + i, in[i], 1, rom_writable);
        }
        in += n;
        addr += n;
        len -= n;
    }
}

void phys_write_buf(struct phys_mem *pm, uint64_t addr, const void *buf, size_t len)
{
    write_buf(pm, addr, buf, len, false);
}

void phys_load(struct phys_mem *pm, uint64_t addr, const void *buf, size_t len)
{
    write_buf(pm, addr, buf, len, true);
}

/* The bus masters' descriptor of the page holding `addr` (A20 applied):
 * the CPU's, unless a CPU-only mapping painted it; then the newest
 * mapping bus masters see there, built in `tmp` (the code mark is the
 * page's), or a hole. */
static const struct page_desc *dma_desc_of(const struct phys_mem *pm, uint64_t addr,
                                           struct page_desc *tmp)
{
    const struct page_desc *d = desc_of(pm, addr);
    if (!d->cpu_only)
        return d;
    uint64_t page = addr & ~PAGE_MASK;
    *tmp = (struct page_desc){ .kind = PAGE_HOLE, .code = d->code };
    for (uint32_t k = pm->nmaps; k > 0; k--) {
        const struct mapping *m = &pm->maps[k - 1];
        if (m->cpu_only || page < m->base || page - m->base >= m->size)
            continue;
        tmp->kind = m->kind;
        tmp->host = m->kind == PAGE_MMIO ? NULL : m->host + (page - m->base);
        tmp->region = m->kind == PAGE_MMIO ? m->region : 0;
        break;
    }
    return tmp;
}

/* Page by page: pages both views share take the CPU's bulk path. */
void phys_dma_read_buf(struct phys_mem *pm, uint64_t addr, void *buf, size_t len)
{
    uint8_t *out = buf;
    while (len > 0) {
        uint64_t a = addr & pm->a20_mask;
        size_t n = PAGE_SIZE - (a & PAGE_MASK);
        if (n > len)
            n = len;
        if (!desc_of(pm, a)->cpu_only) {
            phys_read_buf(pm, addr, out, n);
        } else {
            struct page_desc tmp;
            const struct page_desc *d = dma_desc_of(pm, a, &tmp);
            for (size_t i = 0; i < n; i++)
                out[i] = (uint8_t)read_desc(pm, d, a + i, 1);
        }
        out += n;
        addr += n;
        len -= n;
    }
}

void phys_dma_write_buf(struct phys_mem *pm, uint64_t addr, const void *buf, size_t len)
{
    const uint8_t *in = buf;
    while (len > 0) {
        uint64_t a = addr & pm->a20_mask;
        size_t n = PAGE_SIZE - (a & PAGE_MASK);
        if (n > len)
            n = len;
        if (!desc_of(pm, a)->cpu_only) {
            phys_write_buf(pm, addr, in, n);
        } else {
            struct page_desc tmp;
            const struct page_desc *d = dma_desc_of(pm, a, &tmp);
            for (size_t i = 0; i < n; i++)
                write_desc(pm, d, a + i, in[i], 1, false);
        }
        in += n;
        addr += n;
        len -= n;
    }
}

uint8_t *phys_page_ptr(struct phys_mem *pm, uint64_t addr, bool *writable)
{
    const struct page_desc *d = desc_of(pm, addr & pm->a20_mask);
    bool ram = d->kind == PAGE_RAM;
    if (writable)
        *writable = ram;
    return ram || d->kind == PAGE_ROM ? d->host : NULL;
}

/* ------------------------------------------------------------------ */
/* Code pages                                                          */
/* ------------------------------------------------------------------ */

void phys_mark_code_page(struct phys_mem *pm, uint64_t addr)
{
    uint64_t a = addr & pm->a20_mask;
    const struct page_desc *d = desc_of(pm, a);
    /* Only RAM can change under translated code; ROM and MMIO never get
     * a mark (nothing writes ROM but loaders, before any translation). */
    if (d->kind == PAGE_RAM)
        desc_alloc(pm, a)->code = 1;
}

void phys_unmark_code_page(struct phys_mem *pm, uint64_t addr)
{
    uint64_t a = addr & pm->a20_mask;
    if (desc_of(pm, a) != &hole_desc) /* its leaf exists: no allocation */
        desc_alloc(pm, a)->code = 0;
}

bool phys_is_code_page(const struct phys_mem *pm, uint64_t addr)
{
    return desc_of(pm, addr & pm->a20_mask)->code != 0;
}

void phys_set_code_write_notifier(struct phys_mem *pm,
                                  void (*fn)(void *opaque, uint64_t paddr, uint64_t size),
                                  void *opaque)
{
    pm->code_notify = fn;
    pm->code_opaque = opaque;
}

/* ------------------------------------------------------------------ */
/* Dirty logs                                                          */
/* ------------------------------------------------------------------ */

static size_t log_pages(const struct dirty_log *l)
{
    return l->size >> PAGE_SHIFT;
}

struct dirty_log *phys_dirty_log_new(struct phys_mem *pm, uint8_t *host, size_t size)
{
    if (!pm || !host || size == 0 || (size & PAGE_MASK) || ((uintptr_t)host & PAGE_MASK))
        return NULL;
    struct dirty_log *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    size_t words = ((size >> PAGE_SHIFT) + 63) / 64;
    l->bits = malloc(words * sizeof(uint64_t));
    if (!l->bits) {
        free(l);
        return NULL;
    }
    l->pm = pm;
    l->host = host;
    l->size = size;
    memset(l->bits, 0, words * sizeof(uint64_t));
    log_mark(l, 0, size);
    l->next = pm->logs;
    pm->logs = l;
    return l;
}

void phys_dirty_log_free(struct dirty_log *l)
{
    if (!l)
        return;
    struct dirty_log **pp = &l->pm->logs;
    while (*pp && *pp != l)
        pp = &(*pp)->next;
    if (*pp)
        *pp = l->next;
    /* Entries may still carry TLB_SLOW_DIRTY for its pages: harmless,
     * the next store refills them without it. */
    free(l->bits);
    free(l);
}

static void log_mark(struct dirty_log *l, size_t off, size_t len)
{
    if (len == 0 || off >= l->size)
        return;
    if (len > l->size - off)
        len = l->size - off;
    for (size_t p = off >> PAGE_SHIFT; p <= (off + len - 1) >> PAGE_SHIFT; p++)
        l->bits[p / 64] |= 1ull << (p % 64);
}

void dirty_log_mark(struct dirty_log *l, size_t offset, size_t len)
{
    log_mark(l, offset, len);
}

bool dirty_log_take(struct dirty_log *l, uint64_t *bits)
{
    size_t words = (log_pages(l) + 63) / 64;
    uint64_t any = 0;
    for (size_t i = 0; i < words; i++) {
        bits[i] = l->bits[i];
        any |= l->bits[i];
        l->bits[i] = 0;
    }
    /* A page with a write fast path was dirty (clean ones fill without
     * one): the fast paths go, so that its next store is seen. */
    if (any)
        for (unsigned i = 0; i < PHYS_MAX_TLBS; i++)
            if (l->pm->tlbs[i])
                tlb_drop_host_writes(l->pm->tlbs[i], l->host, l->host + l->size);
    return any != 0;
}

bool phys_page_write_logged(const struct phys_mem *pm, const uint8_t *host_page)
{
    for (const struct dirty_log *l = pm->logs; l; l = l->next)
        if (host_page >= l->host && host_page < l->host + l->size) {
            size_t p = (size_t)(host_page - l->host) >> PAGE_SHIFT;
            return !(l->bits[p / 64] & (1ull << (p % 64)));
        }
    return false;
}

int phys_attach_tlb(struct phys_mem *pm, struct tlb *t)
{
    for (unsigned i = 0; i < PHYS_MAX_TLBS; i++)
        if (pm->tlbs[i] == t)
            return 0;
    for (unsigned i = 0; i < PHYS_MAX_TLBS; i++)
        if (!pm->tlbs[i]) {
            pm->tlbs[i] = t;
            direct_publish(pm);
            return 0;
        }
    return -1;
}

void phys_detach_tlb(struct phys_mem *pm, struct tlb *t)
{
    for (unsigned i = 0; i < PHYS_MAX_TLBS; i++)
        if (pm->tlbs[i] == t) {
            pm->tlbs[i] = NULL;
            t->direct_span = t->direct_span_map = 0;
        }
}
