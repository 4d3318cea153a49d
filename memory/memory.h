/*
 * memory/ — the guest's physical address space, its I/O port space, the
 * page-table walker and the softmmu TLB.
 *
 * This folder knows nothing above it: devices reach it only through the
 * callbacks they register, and the CPU hands the walker the few bits of
 * its state that paging depends on (struct paging_mode).
 */
#ifndef GLASS_MEMORY_H
#define GLASS_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Physical address space                                              */
/* ------------------------------------------------------------------ */

/*
 * Callbacks of an MMIO region or an I/O port range. `addr` is relative to
 * the start of the region (for ports: the port number itself, see
 * io_register). `size` is 1, 2, 4 or 8 bytes. Reads return the value in the
 * low `size` bytes, little-endian as the guest sees it.
 */
struct mem_ops {
    uint64_t (*read)(void *opaque, uint64_t addr, unsigned size);
    void (*write)(void *opaque, uint64_t addr, uint64_t val, unsigned size);
    /* Optional, for ports (io_read_rep): up to `count` reads of `size`
     * bytes in a row from one port, as REP INS makes them, each value
     * stored little-endian at dst after the last; what `count` calls of
     * read would do to the device, for however many it returns (0: the
     * caller reads them one at a time). */
    size_t (*read_rep)(void *opaque, uint64_t addr, unsigned size, uint8_t *dst, size_t count);
    /* Optional, for ports (io_write_rep): the same for writes, as REP OUTS
     * makes them, the values taken one after another from src. */
    size_t (*write_rep)(void *opaque, uint64_t addr, unsigned size, const uint8_t *src,
                        size_t count);
};

struct phys_mem;

/* Creates an empty 36-bit physical address space (reads of holes return
 * all ones, writes to holes are dropped, as on a PC bus). */
struct phys_mem *phys_new(void);
void phys_free(struct phys_mem *pm);

/* Maps host memory at [base, base+size). `size` and `base` must be
 * multiples of 4 KiB. RAM is writable; ROM ignores guest writes. The host
 * memory stays owned by the caller. Later mappings take priority over
 * earlier ones where they overlap. Returns 0, or -1 on a bad argument. */
int phys_map_ram(struct phys_mem *pm, uint64_t base, uint64_t size, uint8_t *host);
int phys_map_rom(struct phys_mem *pm, uint64_t base, uint64_t size, uint8_t *host);
int phys_map_mmio(struct phys_mem *pm, uint64_t base, uint64_t size,
                  const struct mem_ops *ops, void *opaque);
/* RAM that the CPU sees and bus masters do not: phys_dma_* accesses see
 * what earlier mappings put there (a chipset that routes CPU cycles to
 * DRAM and PCI masters' to PCI, e.g. the i440FX's open SMRAM over the
 * VGA window). Removed with phys_unmap like any mapping. */
int phys_map_cpu_ram(struct phys_mem *pm, uint64_t base, uint64_t size, uint8_t *host);
/* Removes the most recent mapping made at exactly [base, base+size)
 * (for PCI BARs that move, PAM segments that change): the range then
 * shows what earlier mappings put there, or a hole. Returns 0, or -1 if
 * no mapping has that base and size. */
int phys_unmap(struct phys_mem *pm, uint64_t base, uint64_t size);
/* Called after every map or unmap with the range that changed, so that
 * the board can flush the CPU's TLB (host pointers cached there may be
 * stale). NULL removes it. */
void phys_set_map_notifier(struct phys_mem *pm,
                           void (*fn)(void *opaque, uint64_t base, uint64_t size), void *opaque);

/* The A20 gate: when off, physical address bit 20 reads as zero
 * (8086 wrap-around). A new address space has it enabled, as QEMU's PC and
 * current chipsets come out of reset. */
void phys_set_a20(struct phys_mem *pm, bool enabled);
bool phys_a20(const struct phys_mem *pm);
/* The address the memory system really uses for `addr`: bit 20 cleared
 * while the gate is off. Caches keyed by physical address key by this. */
uint64_t phys_apply_a20(const struct phys_mem *pm, uint64_t addr);

/* A watcher of every store into RAM (guest, DMA, loader), called before
 * the bytes change (lockstep keeps a journal with it); while one is set,
 * TLB fills give no write fast path, so that guest stores come through
 * here too. NULL removes it. */
void phys_set_write_watch(struct phys_mem *pm, void (*fn)(void *opaque, uint64_t paddr,
                                                          size_t size),
                          void *opaque);
bool phys_writes_watched(const struct phys_mem *pm);
/* phys_write for the processor's own bookkeeping (accessed and dirty
 * bits of paging structures): the write watcher does not see it. */
void phys_write_unwatched(struct phys_mem *pm, uint64_t addr, uint64_t val, unsigned size);
/* How many MMIO reads and writes there have been (side effects a replay
 * cannot repeat). */
uint64_t phys_mmio_accesses(const struct phys_mem *pm);

/* Accesses of 1, 2, 4 or 8 bytes at any alignment; an access that spans
 * two regions is split into bytes. The A20 mask is applied here. */
uint64_t phys_read(struct phys_mem *pm, uint64_t addr, unsigned size);
void phys_write(struct phys_mem *pm, uint64_t addr, uint64_t val, unsigned size);
/* Bulk copies for loaders and DMA; bytes outside RAM/ROM go through MMIO
 * callbacks one at a time. Writes to ROM through phys_load are allowed
 * (that is how firmware gets there). */
void phys_read_buf(struct phys_mem *pm, uint64_t addr, void *buf, size_t len);
void phys_write_buf(struct phys_mem *pm, uint64_t addr, const void *buf, size_t len);
void phys_load(struct phys_mem *pm, uint64_t addr, const void *buf, size_t len);
/* The same copies as a bus master (DMA) makes them: CPU-only mappings
 * (phys_map_cpu_ram) are looked through. */
void phys_dma_read_buf(struct phys_mem *pm, uint64_t addr, void *buf, size_t len);
void phys_dma_write_buf(struct phys_mem *pm, uint64_t addr, const void *buf, size_t len);

/*
 * The host pointer of the 4 KiB page holding `addr` (A20 applied), if the
 * page is plain RAM or ROM, else NULL (MMIO or hole). `*writable` tells
 * whether guest writes may go straight to it (false for ROM).
 */
uint8_t *phys_page_ptr(struct phys_mem *pm, uint64_t addr, bool *writable);

/*
 * Code-page tracking, for self-modifying code: a page marked as holding
 * translated code makes TLB fills of it send writes to the slow path,
 * and every write into it calls the notifier (installed by the
 * translator), which invalidates the page's blocks and clears the mark.
 * A mapping change (phys_map_*, phys_unmap) calls the notifier for its
 * whole range too, marked or not: what the addresses hold changed, even
 * where the old contents were ROM, which is never marked.
 */
void phys_mark_code_page(struct phys_mem *pm, uint64_t addr);
bool phys_is_code_page(const struct phys_mem *pm, uint64_t addr);
/* Clears the mark of the page holding `addr` (the notifier calls it once
 * the page's blocks are gone). The notifier runs after the store. */
void phys_unmark_code_page(struct phys_mem *pm, uint64_t addr);
void phys_set_code_write_notifier(struct phys_mem *pm,
                                  void (*fn)(void *opaque, uint64_t paddr, uint64_t size),
                                  void *opaque);

/*
 * Dirty logging, for a display that redraws only what the guest changed
 * (video memory). A log covers a host buffer that is mapped as RAM
 * (phys_map_ram, anywhere and as often as needed: the log goes by host
 * address, so a PCI BAR that moves keeps it) or written by its device's
 * own code, which then calls dirty_log_mark. Every store phys.c makes
 * into the buffer (guest slow path, DMA, loaders) marks its page.
 *
 * Guest stores on the TLB's fast path are caught without a compare of
 * the memory: dirty_log_take leaves every page clean, drops the write
 * fast paths into the buffer from the attached TLBs, and TLB fills give
 * a clean page's writes TLB_SLOW_DIRTY; the first store then comes
 * through phys_write, marks the page, and the CPU puts the entry's fast
 * path back (tlb_write_logged). One slow store per page and frame.
 *
 * A new log has every page dirty (nobody has seen them yet).
 */
struct dirty_log;
struct tlb;
/* `host` and `size` 4 KiB aligned. Returns NULL on a bad argument or
 * when out of memory. */
struct dirty_log *phys_dirty_log_new(struct phys_mem *pm, uint8_t *host, size_t size);
void phys_dirty_log_free(struct dirty_log *log);
/* Marks the pages of [offset, offset + len) of the buffer written. */
void dirty_log_mark(struct dirty_log *log, size_t offset, size_t len);
/* The pages written since the last call (bit p of bits[p / 64] is page
 * p; room for size / 4096 bits), which all become clean. Returns
 * whether any page was dirty. */
bool dirty_log_take(struct dirty_log *log, uint64_t *bits);
/* The TLBs that cache this address space's pages (a CPU's): a take
 * revokes their write fast paths into the log's buffer. At most
 * PHYS_MAX_TLBS; returns 0 or -1. */
#define PHYS_MAX_TLBS 4
int phys_attach_tlb(struct phys_mem *pm, struct tlb *t);
void phys_detach_tlb(struct phys_mem *pm, struct tlb *t);
/* Whether a store into the RAM page at host address `host_page` must
 * take the slow path to be logged (a clean page of a log). */
bool phys_page_write_logged(const struct phys_mem *pm, const uint8_t *host_page);

/* ------------------------------------------------------------------ */
/* I/O port space (64 KiB ports)                                       */
/* ------------------------------------------------------------------ */

struct io_space;

struct io_space *io_new(void);
void io_free(struct io_space *io);
/* Registers ports [base, base+count). The callbacks see the port number
 * itself in `addr`. A later registration replaces an earlier one. */
int io_register(struct io_space *io, uint16_t base, unsigned count,
                const struct mem_ops *ops, void *opaque);
/* Makes ports [base, base+count) unclaimed again (read all ones, writes
 * dropped); there is no layering of port handlers. Returns 0, or -1 on a
 * bad range. */
int io_unregister(struct io_space *io, uint16_t base, unsigned count);
/* size 1, 2 or 4. Unclaimed ports read as all ones and ignore writes.
 * A 2- or 4-byte access to a range that handles only part of it is split
 * into bytes. */
uint32_t io_read(struct io_space *io, uint16_t port, unsigned size);
void io_write(struct io_space *io, uint16_t port, uint32_t val, unsigned size);
/* Up to `count` reads of `size` bytes from `port` into dst, one after
 * another, where the port's device reads a run in one go (mem_ops
 * read_rep: an IDE data port). Returns how many it did; 0 (the caller
 * reads one at a time) for any other port, a port not owned whole by one
 * device, or while accesses are traced (the trace shows each). */
size_t io_read_rep(struct io_space *io, uint16_t port, unsigned size, uint8_t *dst, size_t count);
/* The same for writes (mem_ops write_rep), the values taken from src. */
size_t io_write_rep(struct io_space *io, uint16_t port, unsigned size, const uint8_t *src,
                    size_t count);
/* Called before every port access (the board runs the device timers
 * that fell due, so that a guest polling a port sees a device's delayed
 * work as soon as it is due, not at the end of a CPU slice). */
void io_set_before_access(struct io_space *io, void (*fn)(void *opaque), void *opaque);
/* How many port reads and writes there have been. */
uint64_t io_accesses(const struct io_space *io);
/* Observer of every access (for -d ioport); NULL to remove. */
void io_set_trace(struct io_space *io,
                  void (*fn)(void *opaque, bool write, uint16_t port, uint32_t val, unsigned size),
                  void *opaque);

/* ------------------------------------------------------------------ */
/* Page-table walker (Intel SDM Vol. 3A, chapter 4)                    */
/* ------------------------------------------------------------------ */

/* The part of the CPU's state that paging depends on. */
struct paging_mode {
    uint32_t cr0, cr3, cr4;
    uint64_t pdpte[4];  /* PAE: loaded at MOV CR3 (SDM 4.4.1) */
    bool nxe;           /* IA32_EFER.NXE */
};

#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR0_PG (1u << 31)

#define CR4_VME (1u << 0)
#define CR4_PVI (1u << 1)
#define CR4_TSD (1u << 2)
#define CR4_DE (1u << 3)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_MCE (1u << 6)
#define CR4_PGE (1u << 7)
#define CR4_PCE (1u << 8)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)

/* Kinds of access, as the page-fault error code encodes them. */
enum mem_access { ACCESS_READ = 0, ACCESS_WRITE = 1, ACCESS_EXEC = 2 };

/* Page-fault error code bits (SDM 4.7). */
#define PFERR_P (1u << 0)
#define PFERR_W (1u << 1)
#define PFERR_U (1u << 2)
#define PFERR_RSVD (1u << 3)
#define PFERR_I (1u << 4)

/* Result of a successful walk. */
struct page_walk {
    uint64_t paddr;      /* physical address of the byte asked for */
    uint32_t page_size;  /* 4 KiB, 2 MiB or 4 MiB: the size of the mapping */
    bool writable;       /* the combined R/W allows writes for this `user` (incl. CR0.WP) */
    bool user;           /* the combined U/S allows user access */
    bool nx;             /* execute-disable (PAE with NXE only) */
    bool global;         /* G bit set and CR4.PGE */
    bool dirty;          /* the D bit is set (so a write needs no walk) */
};

/*
 * Translates linear address `lin` for an access of kind `access` at
 * privilege `user` (CPL 3, and not an implicit supervisor access).
 * With CR0.PG clear, the identity. On success sets A (and D on a write)
 * in the paging structures, fills `*out` and returns 0. On a fault
 * returns -1 and stores the page-fault error code in `*pf_error`; the
 * caller raises #PF with CR2 = lin. The walk reads and writes the paging
 * structures through `pm`.
 */
int paging_walk(struct phys_mem *pm, const struct paging_mode *mode, uint32_t lin,
                enum mem_access access, bool user, struct page_walk *out,
                uint32_t *pf_error);

/*
 * The walk of `lin` as a debugger sees it: every paging-structure entry
 * read, level by level, with nothing written (no accessed or dirty bit
 * set, no fault raised). For the monitor's walk and info mem, the
 * gdbstub's memory accesses and -d mmu.
 */
#define WALK_LEVELS_MAX 3
struct walk_level {
    const char *name; /* "PDPTE", "PDE" or "PTE" */
    uint64_t addr;    /* physical address of the entry (PDPTE: where CR3 loaded it from) */
    uint64_t value;
};
struct walk_report {
    bool paging, pae;     /* CR0.PG, CR4.PAE */
    unsigned nlevels;
    struct walk_level level[WALK_LEVELS_MAX];
    bool present;         /* every level present and no reserved bit set */
    bool rsvd;            /* the last entry read has a reserved bit set */
    uint64_t paddr;       /* when present: the byte's physical address */
    uint32_t page_size;
    bool rw, us, xd;      /* when present: R/W and U/S at every level, XD at some */
};
void paging_probe(struct phys_mem *pm, const struct paging_mode *mode, uint32_t lin,
                  struct walk_report *r);
/* Whether an access of kind `access` at privilege `user` through the
 * probed translation would fault: 0 if it would not, else
 * PAGING_PROBE_FAULTS | the page-fault error code paging_walk gives. */
#define PAGING_PROBE_FAULTS (1u << 31)
uint32_t paging_probe_fault(const struct paging_mode *mode, const struct walk_report *r,
                            enum mem_access access, bool user);

/* Every present leaf mapping of the current tables, in linear order,
 * with the rights combined over its levels (rw: R/W at every level, us:
 * U/S at every level, xd: XD at some level); reads only. Without paging,
 * the identity over 4 GiB (in two halves). */
typedef void (*paging_map_fn)(void *opaque, uint32_t lin, uint64_t phys, uint32_t size,
                              bool rw, bool us, bool xd);
void paging_for_each_mapping(struct phys_mem *pm, const struct paging_mode *mode,
                             paging_map_fn fn, void *opaque);

/* Loads the four PAE PDPTEs from CR3 (at MOV CR3, or CR0/CR4 writes that
 * enable PAE paging). Returns -1 if one has reserved bits set (the caller
 * raises #GP(0)). */
int paging_load_pdptes(struct phys_mem *pm, struct paging_mode *mode);

/* ------------------------------------------------------------------ */
/* Softmmu TLB                                                         */
/* ------------------------------------------------------------------ */

/*
 * One entry maps a 4 KiB linear page. A tag is the page's linear address
 * (low 12 bits zero) when that kind of access may take the fast path, or
 * has TLB_INVALID / a TLB_SLOW_* bit set in its low bits when it may not.
 * The fast path compares (lin & TLB_PAGE_MASK) with the tag, so an access
 * spanning two pages is tested with the address of its last byte too.
 * addend + lin is then the host address.
 */
#define TLB_PAGE_MASK 0xfffff000u
#define TLB_INVALID 0x001u    /* nothing cached for this kind of access */
#define TLB_SLOW_MMIO 0x002u  /* not RAM: every access through phys_read/write */
#define TLB_SLOW_CODE 0x004u  /* write to a page holding translated code */
#define TLB_SLOW_WATCH 0x008u /* a debugger's watchpoint covers this page (cpu/mem.c) */
#define TLB_SLOW_DIRTY 0x010u /* first write to a clean page of a dirty log */

struct tlb_entry {
    uint32_t tag_read;
    uint32_t tag_write;
    uint32_t tag_exec;
    uint32_t flags; /* TLB_ENTRY_* in the low bits, the linear page in the upper 20 */
    uintptr_t addend; /* host = addend + lin; valid when some tag matches */
    uint64_t paddr;   /* physical address of the page */
};
#define TLB_ENTRY_GLOBAL 0x1u
#define TLB_ENTRY_LARGE 0x2u  /* from a 2/4 MiB page: INVLPG anywhere in it drops it */
#define TLB_ENTRY_LISTED 0x4u /* in struct tlb's list of filled entries */

_Static_assert(sizeof(struct tlb_entry) == 32, "tlb_entry is 32 bytes");

#define TLB_ENTRIES 4096 /* per TLB; a power of two */
#define TLB_LARGE_LIST 256

/*
 * Two TLBs: index 0 for supervisor accesses (CPL 0-2 and implicit
 * system accesses), 1 for CPL 3. A large table keeps a big working set
 * (a guest walking megabytes of data, a kernel's direct map) without
 * walks; flushing it costs what was filled since the last full flush,
 * not its size: `filled` lists those entries (each once, marked
 * TLB_ENTRY_LISTED), `large` the ones cached from 2/4 MiB pages (INVLPG
 * of any address in such a page drops them; past TLB_LARGE_LIST entries
 * the filled list is searched instead).
 */
struct tlb {
    struct tlb_entry e[2][TLB_ENTRIES];
    /* Counts flushes that can change a translation (all, non-global,
     * one page): caches of translated code keyed by linear address check
     * it before trusting themselves. */
    uint32_t generation;
    /* Of those, the ones that can change a global translation too: whole
     * flushes, and single pages (INVLPG drops a global entry as well;
     * last_flush_page is the last one's page); and the flushes of the
     * non-global ones alone (MOV CR3 with CR4.PGE). */
    uint32_t flushes_all, flushes_page, last_flush_page, flushes_nonglobal;
    uint32_t nfilled, nlarge;
    bool large_overflow;
    /* Lookups that missed and walked the page tables (cpu/mem.c), for
     * -d jit. */
    uint64_t misses;
    /* The direct window, kept by the phys_mem the TLB is attached to
     * (phys.c): with paging off a linear address is the physical one, and
     * an access of up to TLB_DIRECT_MAX_ACCESS bytes starting at L with
     * L - TLB_DIRECT_BASE < direct_span (unsigned) lies wholly in plain
     * RAM, at host address L + direct_addend, so generated code reads it
     * without a lookup. 0 when there is none (nothing attached, no RAM
     * above 1 MiB, or the A20 gate off, when bit 20 of an address would
     * alias), and while the window is closed (tlb_direct_close: a
     * debugger's watchpoints, which every access must meet). Reads only:
     * a write may hit translated code or a dirty log. tlb_init and the
     * flushes leave it alone. */
    uint32_t direct_span;
    uintptr_t direct_addend;
    uint32_t direct_span_map; /* the span the memory map allows (phys.c) */
    bool direct_closed;
    uint16_t filled[2 * TLB_ENTRIES]; /* u * TLB_ENTRIES + index */
    uint16_t large[TLB_LARGE_LIST];
    /* The frame window, per privilege class (translate/jit/block.c,
     * emit_frame_check): the linear page of the last frame check that
     * found an entry allowing both reads and writes at their fast paths,
     * and its addend, so that a block whose frame lies in that page skips
     * the lookup. Every function of memory/tlb.c that drops or narrows a
     * translation empties both (base TLB_WINDOW_NONE, which no offset of
     * a frame reaches). */
    struct tlb_window {
        uint64_t base;
        uintptr_t addend;
    } window[2];
};
#define TLB_WINDOW_NONE (1ull << 62)

#define TLB_DIRECT_BASE 0x100000u  /* 1 MiB: below it, ROM, VGA and PAM windows */
#define TLB_DIRECT_MAX_ACCESS 16u

static inline unsigned tlb_index(uint32_t lin)
{
    return (lin >> 12) & (TLB_ENTRIES - 1);
}

/* Whether the TLB holds the page of `lin` as a global translation for
 * instruction fetch (`user`: the CPL 3 TLB). */
static inline bool tlb_exec_global(const struct tlb *t, uint32_t lin, unsigned user)
{
    const struct tlb_entry *e = &t->e[user & 1][tlb_index(lin)];
    return (e->tag_exec & TLB_PAGE_MASK) == (lin & TLB_PAGE_MASK) &&
           !(e->tag_exec & TLB_INVALID) && (e->flags & TLB_ENTRY_GLOBAL);
}

/* An empty TLB (a new CPU's). */
void tlb_init(struct tlb *t);
/* Invalidates every entry (MOV CR3 without PGE, CR0/CR4 paging changes). */
void tlb_flush_all(struct tlb *t);
/* Closes the direct window (`closed`) or opens it again as the memory map
 * allows: closed, every access goes through a TLB entry. */
void tlb_direct_close(struct tlb *t, bool closed);
/* Invalidates every entry but global ones (MOV CR3 with CR4.PGE). */
void tlb_flush_nonglobal(struct tlb *t);
/* Invalidates the page holding `lin`, global or not (INVLPG), in both TLBs. */
void tlb_flush_page(struct tlb *t, uint32_t lin);
/* Invalidates every entry that maps physical page `paddr` (code-page
 * marking needs the write tags of that page dropped). */
void tlb_flush_phys_page(struct tlb *t, uint64_t paddr);
/* Drops the write fast paths of entries whose page lies in host memory
 * [lo, hi) (a dirty log starts a new round: the next store must be
 * seen). */
void tlb_drop_host_writes(struct tlb *t, const uint8_t *lo, const uint8_t *hi);
/* After a store that took the slow path: an entry slowed only for dirty
 * logging gets its fast path back, since phys_write has marked the page
 * (the CPU's slow path calls it). */
static inline void tlb_write_logged(struct tlb_entry *e)
{
    if ((e->tag_write & ~TLB_PAGE_MASK) == TLB_SLOW_DIRTY)
        e->tag_write &= TLB_PAGE_MASK;
}

/*
 * Fills the entry for `lin` in TLB `user` after a walk permits `access`.
 * Only the kinds of access the walk allows at once are enabled: read
 * always; write if writable and (dirty or the access is a write, which
 * has just set D); exec unless nx. MMIO pages and code pages get their
 * slow bits. Returns the entry.
 */
struct tlb_entry *tlb_fill(struct tlb *t, struct phys_mem *pm, uint32_t lin, bool user,
                           enum mem_access access, const struct page_walk *w);

#endif
