/*
 * cpu/mem.c — guest memory as instructions see it: segmentation checks on
 * the logical address (SDM Vol. 3A 5.3-5.6), then the softmmu TLB, the
 * page walker on a miss, and the physical address space on slow pages.
 *
 * Contract: every function here may raise #GP, #SS, #PF or #AC through
 * cpu_raise, and none of them changes architectural state before the last
 * check that can fault (a write that spans two pages checks both pages
 * first).
 */
#include <string.h>

#include "cpu/internal.h"

#define PAGE_SIZE 4096u
#define PAGE_OFFSET_MASK 0xfffu

static inline bool tlb_user_index(const struct cpu *cpu)
{
    return cpu->cpl == 3;
}

static inline uint32_t tag_for(const struct tlb_entry *e, enum mem_access acc)
{
    return acc == ACCESS_READ ? e->tag_read : acc == ACCESS_WRITE ? e->tag_write : e->tag_exec;
}

static inline uint64_t load_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    /* The host is little-endian x86-64 or the like; memcpy into the low
     * bytes is the portable way to do an unaligned load. */
    switch (size) {
    case 1: return p[0];
    case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
    case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
    default: memcpy(&v, p, 8); return v;
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

/*
 * The TLB entry translating `lin` for `acc` in TLB `user`, walking the
 * page tables on a miss (which may raise #PF). On return the entry's tag
 * for `acc` holds the page, possibly with TLB_SLOW_* bits.
 */
static struct tlb_entry *tlb_translate(struct cpu *cpu, uint32_t lin, enum mem_access acc,
                                       bool user)
{
    struct tlb_entry *e = &cpu->tlb.e[user][tlb_index(lin)];
    uint32_t tag = tag_for(e, acc);
    if ((tag & (TLB_PAGE_MASK | TLB_INVALID)) == (lin & TLB_PAGE_MASK))
        return e;

    struct paging_mode mode;
    struct page_walk walk;
    uint32_t pf_error;
    cpu->tlb.misses++;
    cpu_paging_mode(cpu, &mode);
    if (paging_walk(cpu->bus.mem, &mode, lin, acc, user, &walk, &pf_error) < 0)
        cpu_raise_pf(cpu, lin, pf_error);
    e = tlb_fill(&cpu->tlb, cpu->bus.mem, lin, user, acc, &walk);
    /* A page a debugger's watchpoint covers: no fast path may take it
     * (translated code, the handlers' and the string instructions'), so
     * that each access to it comes here and meets the check (debugger.c
     * watches_changed). */
    if (cpu->dbg_watching && cpu_dbg_page_watched(cpu, lin & TLB_PAGE_MASK)) {
        if (!(e->tag_read & TLB_INVALID))
            e->tag_read |= TLB_SLOW_WATCH;
        if (!(e->tag_write & TLB_INVALID))
            e->tag_write |= TLB_SLOW_WATCH;
    }
    return e;
}

/* An access that lies within one page, after translation. */
static uint64_t page_read(struct cpu *cpu, struct tlb_entry *e, uint32_t lin, unsigned size,
                          enum mem_access acc)
{
    if (tag_for(e, acc) == (lin & TLB_PAGE_MASK))
        return load_le((const uint8_t *)(e->addend + lin), size);
    return phys_read(cpu->bus.mem, e->paddr | (lin & PAGE_OFFSET_MASK), size);
}

static void page_write(struct cpu *cpu, struct tlb_entry *e, uint32_t lin, uint64_t val,
                       unsigned size)
{
    if (e->tag_write == (lin & TLB_PAGE_MASK)) {
        store_le((uint8_t *)(e->addend + lin), val, size);
    } else {
        phys_write(cpu->bus.mem, e->paddr | (lin & PAGE_OFFSET_MASK), val, size);
        tlb_write_logged(e);
    }
}

/* Linear read of 1-8 bytes; page-crossing reads fault on the first page
 * first, as the CPU's ordered accesses do. */
static uint64_t lin_read(struct cpu *cpu, uint32_t lin, unsigned size, bool user,
                         enum mem_access acc)
{
    struct tlb_entry *e = &cpu->tlb.e[user][tlb_index(lin)];
    unsigned in_page = PAGE_SIZE - (lin & PAGE_OFFSET_MASK);
    if (size <= in_page) {
        if (tag_for(e, acc) == (lin & TLB_PAGE_MASK))
            return load_le((const uint8_t *)(e->addend + lin), size);
        e = tlb_translate(cpu, lin, acc, user);
        return page_read(cpu, e, lin, size, acc);
    }
    /* Split at the page boundary: both halves translated before either is
     * read, so that a fault on the second page is reported with nothing
     * done (reads have side effects on MMIO). Adjacent pages use different
     * TLB slots, so the second fill cannot evict the first. */
    struct tlb_entry *e1 = tlb_translate(cpu, lin, acc, user);
    uint32_t lin2 = lin + in_page;
    struct tlb_entry *e2 = tlb_translate(cpu, lin2, acc, user);
    uint64_t lo = 0, hi = 0;
    for (unsigned i = 0; i < in_page; i++)
        lo |= page_read(cpu, e1, lin + i, 1, acc) << (8 * i);
    for (unsigned i = 0; i < size - in_page; i++)
        hi |= page_read(cpu, e2, lin2 + i, 1, acc) << (8 * i);
    return lo | (hi << (8 * in_page));
}

static void lin_write(struct cpu *cpu, uint32_t lin, uint64_t val, unsigned size, bool user)
{
    struct tlb_entry *e = &cpu->tlb.e[user][tlb_index(lin)];
    unsigned in_page = PAGE_SIZE - (lin & PAGE_OFFSET_MASK);
    if (size <= in_page) {
        if (e->tag_write == (lin & TLB_PAGE_MASK)) {
            store_le((uint8_t *)(e->addend + lin), val, size);
            return;
        }
        e = tlb_translate(cpu, lin, ACCESS_WRITE, user);
        page_write(cpu, e, lin, val, size);
        return;
    }
    uint32_t lin2 = lin + in_page;
    struct tlb_entry *e1 = tlb_translate(cpu, lin, ACCESS_WRITE, user);
    struct tlb_entry *e2 = tlb_translate(cpu, lin2, ACCESS_WRITE, user);
    for (unsigned i = 0; i < in_page; i++)
        page_write(cpu, e1, lin + i, val >> (8 * i), 1);
    for (unsigned i = 0; i < size - in_page; i++)
        page_write(cpu, e2, lin2 + i, val >> (8 * (in_page + i)), 1);
}

/* ------------------------------------------------------------------ */
/* Segmentation                                                        */
/* ------------------------------------------------------------------ */

static inline bool protected_mode(const struct cpu *cpu)
{
    return (cpu->cr0 & CR0_PE) && !(cpu->eflags & FL_VM);
}

_Noreturn static void seg_fault(struct cpu *cpu, int seg)
{
    cpu_raise(cpu, seg == SEG_SS ? EXC_SS : EXC_GP, 0);
}

/*
 * Checks an access of `size` bytes at offset `off` of segment `seg` and
 * returns its linear address. Real and v86 mode check the limit only (the
 * hidden cache keeps whatever rights it has, "unreal mode" included);
 * protected mode also checks the null/unusable selector and the type
 * (SDM Vol. 3A 5.3 limit checking, 5.4 type checking).
 */
static uint32_t seg_check(struct cpu *cpu, int seg, uint32_t off, uint32_t size, bool write)
{
    const struct seg *s = &cpu->seg[seg];
    uint32_t ar = s->ar;
    if (protected_mode(cpu)) {
        if (!(ar & AR_P))
            seg_fault(cpu, seg);
        if (ar & AR_T_CODE) {
            if (write || !(ar & AR_T_READABLE))
                seg_fault(cpu, seg);
        } else if (write && !(ar & AR_T_WRITABLE)) {
            seg_fault(cpu, seg);
        }
    }
    uint32_t last = off + size - 1;
    if ((ar & (AR_S | AR_T_CODE | AR_T_EXPDOWN)) == (AR_S | AR_T_EXPDOWN)) {
        /* Expand-down: valid offsets are limit+1 .. 64K-1 or 4G-1. */
        uint32_t upper = (ar & AR_DB) ? 0xffffffffu : 0xffffu;
        if (off <= s->limit || last > upper || last < off)
            seg_fault(cpu, seg);
    } else if (last > s->limit || (last < off && s->limit != 0xffffffffu)) {
        seg_fault(cpu, seg);
    }
    uint32_t lin = s->base + off;
    /* Alignment check: CPL 3 with CR0.AM and EFLAGS.AC (SDM 6.15, #AC). */
    if (cpu->cpl == 3 && (cpu->cr0 & CR0_AM) && (cpu->eflags & FL_AC) && size > 1 &&
        (lin & ((size > 8 ? 8 : size) - 1)))
        cpu_raise(cpu, EXC_AC, 0);
    return lin;
}

static inline void data_breakpoint(struct cpu *cpu, uint32_t lin, unsigned size, bool write)
{
    if (cpu->dr[7] & 0xff)
        cpu_check_data_breakpoint(cpu, lin, size, write);
    if (cpu->dbg_watching)
        cpu_dbg_check_access(cpu, lin, size, write);
}

uint32_t cpu_read(struct cpu *cpu, int seg, uint32_t off, unsigned size)
{
    uint32_t v;
    if (cpu_read_fast(cpu, seg, off, size, &v))
        return v;
    uint32_t lin = seg_check(cpu, seg, off, size, false);
    v = (uint32_t)lin_read(cpu, lin, size, tlb_user_index(cpu), ACCESS_READ);
    data_breakpoint(cpu, lin, size, false);
    return v;
}

void cpu_write(struct cpu *cpu, int seg, uint32_t off, uint32_t val, unsigned size)
{
    if (cpu_write_fast(cpu, seg, off, val, size))
        return;
    uint32_t lin = seg_check(cpu, seg, off, size, true);
    lin_write(cpu, lin, val, size, tlb_user_index(cpu));
    data_breakpoint(cpu, lin, size, true);
}

uint64_t cpu_read64(struct cpu *cpu, int seg, uint32_t off)
{
    uint32_t lin = seg_check(cpu, seg, off, 8, false);
    uint64_t v = lin_read(cpu, lin, 8, tlb_user_index(cpu), ACCESS_READ);
    data_breakpoint(cpu, lin, 8, false);
    return v;
}

void cpu_write64(struct cpu *cpu, int seg, uint32_t off, uint64_t val)
{
    uint32_t lin = seg_check(cpu, seg, off, 8, true);
    lin_write(cpu, lin, val, 8, tlb_user_index(cpu));
    data_breakpoint(cpu, lin, 8, true);
}

/* Probes every page of [lin, lin+size) for `acc` without touching data. */
static void probe_range(struct cpu *cpu, uint32_t lin, uint32_t size, enum mem_access acc)
{
    if (size == 0)
        return;
    bool user = tlb_user_index(cpu);
    uint32_t page = lin & TLB_PAGE_MASK;
    uint32_t last_page = (lin + size - 1) & TLB_PAGE_MASK;
    for (;;) {
        tlb_translate(cpu, page == (lin & TLB_PAGE_MASK) ? lin : page, acc, user);
        if (page == last_page)
            break;
        page += PAGE_SIZE;
    }
}

void cpu_check_write(struct cpu *cpu, int seg, uint32_t off, uint32_t size)
{
    uint32_t lin = seg_check(cpu, seg, off, size, true);
    probe_range(cpu, lin, size, ACCESS_WRITE);
}

void cpu_check_read(struct cpu *cpu, int seg, uint32_t off, uint32_t size)
{
    uint32_t lin = seg_check(cpu, seg, off, size, false);
    probe_range(cpu, lin, size, ACCESS_READ);
}

/* ------------------------------------------------------------------ */
/* Instruction fetch                                                   */
/* ------------------------------------------------------------------ */

/* An instruction's bytes (at most 16) in at most two moves each way:
 * memcpy of a length known only at run time became REP MOVSQ, whose
 * start-up cost was most of a careful-path fetch. */
static void copy_code_bytes(uint8_t *dst, const uint8_t *src, unsigned n)
{
    if (n > 16) {
        memcpy(dst, src, n);
    } else if (n >= 8) {
        memcpy(dst, src, 8);
        memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4) {
        memcpy(dst, src, 4);
        memcpy(dst + n - 4, src + n - 4, 4);
    } else {
        for (unsigned i = 0; i < n; i++)
            dst[i] = src[i];
    }
}

unsigned cpu_fetch(struct cpu *cpu, uint32_t off, uint8_t *buf, unsigned len, bool all)
{
    const struct seg *cs = &cpu->seg[SEG_CS];
    /* CS limit (SDM 5.3): the first byte must be inside; the rest is
     * fetched up to the limit unless the caller needs them all. */
    if (off > cs->limit)
        cpu_raise(cpu, EXC_GP, 0);
    uint32_t room = cs->limit - off;
    if (room < len - 1) {
        if (all)
            cpu_raise(cpu, EXC_GP, 0);
        len = room + 1;
    }
    bool user = tlb_user_index(cpu);
    uint32_t lin = cs->base + off;
    unsigned got = 0;
    while (got < len) {
        uint32_t a = lin + got;
        unsigned in_page = PAGE_SIZE - (a & PAGE_OFFSET_MASK);
        unsigned n = len - got < in_page ? len - got : in_page;
        if (got > 0 && !all)
            break; /* stop at the page boundary: the decoder asks if it needs more */
        struct tlb_entry *e = &cpu->tlb.e[user][tlb_index(a)];
        if (e->tag_exec != (a & TLB_PAGE_MASK))
            e = tlb_translate(cpu, a, ACCESS_EXEC, user);
        if (e->tag_exec == (a & TLB_PAGE_MASK)) {
            copy_code_bytes(buf + got, (const uint8_t *)(e->addend + a), n);
        } else {
            for (unsigned i = 0; i < n; i++)
                buf[got + i] = (uint8_t)phys_read(cpu->bus.mem,
                                                  e->paddr | ((a + i) & PAGE_OFFSET_MASK), 1);
        }
        got += n;
    }
    return got;
}

const uint8_t *cpu_code_page(struct cpu *cpu, uint32_t off, uint64_t *paddr)
{
    bool user = tlb_user_index(cpu);
    uint32_t lin = cpu->seg[SEG_CS].base + off;
    struct tlb_entry *e = &cpu->tlb.e[user][tlb_index(lin)];
    if (e->tag_exec != (lin & TLB_PAGE_MASK)) {
        e = tlb_translate(cpu, lin, ACCESS_EXEC, user);
        if (e->tag_exec != (lin & TLB_PAGE_MASK))
            return NULL; /* MMIO or a hole: no block */
    }
    *paddr = e->paddr | (lin & PAGE_OFFSET_MASK);
    return (const uint8_t *)(e->addend + (lin & TLB_PAGE_MASK));
}

/* ------------------------------------------------------------------ */
/* Linear accesses and TLB control                                     */
/* ------------------------------------------------------------------ */

uint32_t cpu_lin_read(struct cpu *cpu, uint32_t lin, unsigned size, bool sys)
{
    bool user = sys ? false : tlb_user_index(cpu);
    return (uint32_t)lin_read(cpu, lin, size, user, ACCESS_READ);
}

void cpu_lin_write(struct cpu *cpu, uint32_t lin, uint32_t val, unsigned size, bool sys)
{
    bool user = sys ? false : tlb_user_index(cpu);
    lin_write(cpu, lin, val, size, user);
}

void cpu_tlb_flush_all(struct cpu *cpu)
{
    tlb_flush_all(&cpu->tlb);
}

void cpu_tlb_flush(struct cpu *cpu)
{
    tlb_flush_all(&cpu->tlb);
}

size_t cpu_debug_read(struct cpu *cpu, uint32_t lin, void *buf, size_t len)
{
    /* A debugger read: probes the tables itself each page, so that a
     * miss raises nothing and no accessed bit changes. */
    size_t done = 0;
    uint8_t *out = buf;
    while (done < len) {
        uint32_t a = lin + (uint32_t)done;
        uint64_t paddr;
        if (!cpu_debug_translate(cpu, a, &paddr))
            break;
        size_t n = PAGE_SIZE - (a & PAGE_OFFSET_MASK);
        if (n > len - done)
            n = len - done;
        phys_read_buf(cpu->bus.mem, paddr, out + done, n);
        done += n;
    }
    return done;
}
