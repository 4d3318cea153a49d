/*
 * translate/tb.c — the interpreter's block cache: runs of decoded
 * instructions ("translation blocks"), so that the hot loop of a guest
 * is decoded once and then executed as a list of handler calls.
 *
 * A block is keyed by the physical address of its first byte and the code
 * size (CS.D), the only state decoding depends on; it never crosses a
 * 4 KiB page and so is valid wherever that page is mapped. Before it runs,
 * the executor translates CS:EIP through the TLB (checking the fetch
 * permission of the page for the current CPL, as the CPU's fetch does) and
 * checks that the block lies within the CS limit.
 *
 * Self-modifying code (SDM Vol. 3A 11.6): a page holding blocks is marked
 * in the physical address space; the TLB then sends every write to it down
 * the slow path, and the write calls tb_code_written, which drops the
 * page's blocks. A store into the block being executed ends the block
 * after that instruction, so the next instruction is decoded from the new
 * bytes, as a P6 does after its snooping detects the change.
 */
#include <stdlib.h>
#include <string.h>

#include "translate/tb.h"

#include "cpu/internal.h"

#define PAGE_SIZE 4096u
#define TB_HASH_BITS 15
#define TB_HASH_SIZE (1u << TB_HASH_BITS)
#define TB_PAGE_HASH_SIZE 4096u
/* Bound on the memory the cache takes; when full it starts over. */
#define TB_ARENA_BYTES (32u << 20)

struct tb {
    uint64_t paddr;        /* physical address of the first byte */
    struct tb *hash_next;  /* chain in the lookup hash */
    struct tb *page_next;  /* blocks of the same page */
    uint16_t bytes;        /* guest bytes covered */
    uint8_t code32;
    uint8_t n;             /* instructions */
    uint8_t n_run;         /* entries the executor calls: n, or n - 1 when
                              the last two run as one pair handler */
    uint8_t chainable;     /* ends in a near jump or mid-stream, not in a
                              system or far instruction */
    uint8_t dead;          /* dropped from the cache (its page was written);
                              the memory stays until the next full flush */
    /* The last two blocks that followed this one (a branch's two ways,
     * in this page or another), so that chaining skips the hash lookup. Valid
     * until the next full flush: pointers are checked for paddr, mode and
     * `dead` before use, and stored only when no flush intervened. */
    struct tb *succ[2];
    struct insn insns[];
};

struct tb_page {
    uint64_t page;
    struct tb *blocks;
    struct tb_page *next;
    /* One bit per byte of the page that some block was decoded from: a
     * write that touches none of them (data sharing a page with code)
     * leaves the blocks alone. */
    uint8_t code_bytes[PAGE_SIZE / 8];
};

struct tb_cache {
    struct cpu *cpu;
    struct tb *hash[TB_HASH_SIZE];
    struct tb_page *pages[TB_PAGE_HASH_SIZE];
    uint8_t *arena;
    size_t arena_used;
    /* Bumped whenever blocks are dropped: the executor notices that the
     * block it runs may be gone. */
    uint64_t generation;
    uint64_t blocks_built, flushes;
};

static inline unsigned tb_hash(uint64_t paddr, bool code32)
{
    uint64_t h = (paddr ^ (paddr >> TB_HASH_BITS)) * 0x9e3779b1u + code32;
    return (unsigned)(h >> 7) & (TB_HASH_SIZE - 1);
}

static inline unsigned page_hash(uint64_t page)
{
    return (unsigned)((page >> 12) ^ (page >> 24)) & (TB_PAGE_HASH_SIZE - 1);
}

static void free_pages(struct tb_cache *c)
{
    for (unsigned i = 0; i < TB_PAGE_HASH_SIZE; i++) {
        struct tb_page *p = c->pages[i];
        while (p) {
            struct tb_page *next = p->next;
            phys_unmark_code_page(c->cpu->bus.mem, p->page);
            tlb_flush_phys_page(&c->cpu->tlb, p->page);
            free(p);
            p = next;
        }
        c->pages[i] = NULL;
    }
}

void tb_flush_all(struct tb_cache *c)
{
    free_pages(c);
    memset(c->hash, 0, sizeof(c->hash));
    c->arena_used = 0;
    c->generation++;
    c->flushes++;
}

static struct tb_page *page_find(struct tb_cache *c, uint64_t page, bool create);

static bool touches_code(const struct tb_page *p, unsigned off, unsigned len)
{
    for (unsigned i = off; i < off + len && i < PAGE_SIZE; i++)
        if (p->code_bytes[i / 8] & (1u << (i % 8)))
            return true;
    return false;
}

/* Beyond this many pages, a notified range (a mapping change) is matched
 * against the pages that hold blocks rather than walked page by page. */
#define RANGE_WALK_PAGES 64u

static void code_written(void *opaque, uint64_t paddr, uint64_t size)
{
    struct tb_cache *c = opaque;
    if (size == 0)
        return;
    uint64_t end = paddr + size;
    if (size > RANGE_WALK_PAGES * PAGE_SIZE) {
        /* Marks left without blocks in the range stay until the first
         * write clears them. */
        for (unsigned i = 0; i < TB_PAGE_HASH_SIZE; i++)
            for (struct tb_page *p = c->pages[i], *next; p; p = next) {
                next = p->next;
                if (p->page + PAGE_SIZE > paddr && p->page < end)
                    tb_invalidate_page(c, p->page);
            }
        return;
    }
    /* A write may straddle two pages (bulk writes: many). */
    for (uint64_t a = paddr; a < end;) {
        uint64_t page = a & ~(uint64_t)(PAGE_SIZE - 1);
        uint64_t stop = page + PAGE_SIZE < end ? page + PAGE_SIZE : end;
        struct tb_page *p = page_find(c, page, false);
        if (p ? touches_code(p, (unsigned)(a - page), (unsigned)(stop - a))
              : phys_is_code_page(c->cpu->bus.mem, page))
            tb_invalidate_page(c, page);
        a = stop;
    }
}

struct tb_cache *tb_cache_new(struct cpu *cpu)
{
    struct tb_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->arena = malloc(TB_ARENA_BYTES);
    if (!c->arena) {
        free(c);
        return NULL;
    }
    c->cpu = cpu;
    phys_set_code_write_notifier(cpu->bus.mem, code_written, c);
    return c;
}

void tb_cache_free(struct tb_cache *c)
{
    if (!c)
        return;
    free_pages(c);
    phys_set_code_write_notifier(c->cpu->bus.mem, NULL, NULL);
    free(c->arena);
    free(c);
}

static struct tb_page *page_find(struct tb_cache *c, uint64_t page, bool create)
{
    struct tb_page **head = &c->pages[page_hash(page)];
    for (struct tb_page *p = *head; p; p = p->next)
        if (p->page == page)
            return p;
    if (!create)
        return NULL;
    struct tb_page *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->page = page;
    p->next = *head;
    *head = p;
    return p;
}

void tb_invalidate_page(struct tb_cache *c, uint64_t page)
{
    page &= ~(uint64_t)(PAGE_SIZE - 1);
    struct tb_page **pp = &c->pages[page_hash(page)];
    while (*pp && (*pp)->page != page)
        pp = &(*pp)->next;
    struct tb_page *p = *pp;
    if (!p) {
        /* A mark without blocks (left by a flush): just clear it. */
        phys_unmark_code_page(c->cpu->bus.mem, page);
        tlb_flush_phys_page(&c->cpu->tlb, page);
        return;
    }
    /* Unlink each block of the page from its hash chain. The arena space
     * is reclaimed only by a full flush. */
    for (struct tb *t = p->blocks; t; t = t->page_next) {
        t->dead = 1;
        struct tb **hp = &c->hash[tb_hash(t->paddr, t->code32)];
        while (*hp && *hp != t)
            hp = &(*hp)->hash_next;
        if (*hp)
            *hp = t->hash_next;
    }
    *pp = p->next;
    free(p);
    phys_unmark_code_page(c->cpu->bus.mem, page);
    /* The page's TLB entries still send writes to the slow path; refill
     * them so plain data writes to it are fast again. */
    tlb_flush_phys_page(&c->cpu->tlb, page);
    c->generation++;
}

/* Operations after which the block ends: control transfers (the next
 * instruction is elsewhere) and those that change how the following
 * bytes decode or run (mode, CS, paging, the interrupt window). Ending
 * after them is not needed for correctness, since the executor checks
 * EIP and the mode after every instruction, but it keeps blocks from
 * holding instructions past a jump that are rarely reached. */
bool tb_ends_block(enum op op)
{
    switch (op) {
    case OP_JMP: case OP_JCC: case OP_JCXZ: case OP_LOOP: case OP_LOOPE: case OP_LOOPNE:
    case OP_CALL: case OP_RET: case OP_JMPF: case OP_CALLF: case OP_RETF: case OP_IRET:
    case OP_INT: case OP_INT3: case OP_INTO: case OP_INT1: case OP_BOUND: case OP_UD2:
    case OP_HLT: case OP_STI: case OP_POPF: case OP_MOV_TO_SREG: case OP_POP_SREG:
    case OP_LSS: case OP_MOV_TO_CR: case OP_LMSW: case OP_CLTS: case OP_INVLPG:
    case OP_SYSENTER: case OP_SYSEXIT: case OP_RSM: case OP_WRMSR: case OP_LTR: case OP_LLDT:
    case OP_LGDT: case OP_LIDT: case OP_MOV_TO_DR:
        return true;
    default:
        return false;
    }
}

bool tb_is_near_or_plain(enum op op)
{
    switch (op) {
    case OP_JMP: case OP_JCC: case OP_JCXZ: case OP_LOOP: case OP_LOOPE: case OP_LOOPNE:
    case OP_CALL: case OP_RET:
        return true;
    default:
        return !tb_ends_block(op);
    }
}

#define TB_MAX_INSNS 64
#define MAX_INSN_LEN 15

static bool insn_ends_block(const struct insn *in)
{
    return tb_ends_block((enum op)in->op);
}

unsigned tb_decode(struct insn *buf, unsigned max, const uint8_t *host, unsigned off, bool code32,
                   uint32_t room, bool (*ends)(const struct insn *), unsigned *end)
{
    unsigned n = 0, pos = off;
    while (n < max) {
        unsigned avail = PAGE_SIZE - pos;
        if (avail > MAX_INSN_LEN)
            avail = MAX_INSN_LEN;
        /* The block must stay inside the CS limit it was checked for. */
        if (pos - off > room)
            break;
        int r = decode_insn(&buf[n], host + pos, avail, code32);
        if (r <= 0 || pos - off + (unsigned)r - 1 > room)
            break; /* #UD, length #GP, crosses the page or the limit */
        pos += (unsigned)r;
        n++;
        if (ends(&buf[n - 1]) || pos >= PAGE_SIZE)
            break;
    }
    *end = pos;
    return n;
}

/* Decodes a block from `host` (the page's bytes) at page offset `off`.
 * Returns NULL if not even one instruction lies wholly in the page and
 * decodes (the caller then runs the slow path, which raises the fault or
 * #UD at the right moment). */
static struct tb *tb_build(struct tb_cache *c, const uint8_t *host, uint64_t paddr,
                           unsigned off, bool code32, uint32_t room)
{
    struct insn buf[TB_MAX_INSNS];
    unsigned pos;
    unsigned n = tb_decode(buf, TB_MAX_INSNS, host, off, code32, room, insn_ends_block, &pos);
    /* A specialised handler for the form if there is one; an operation
     * without a handler raises #UD when it runs. */
    for (unsigned i = 0; i < n; i++)
        buf[i].fn = buf[i].fn ? cpu_fast_handler(&buf[i]) : interp_unimplemented;
    if (n == 0)
        return NULL;

    size_t size = sizeof(struct tb) + n * sizeof(struct insn);
    size = (size + 15) & ~(size_t)15;
    if (c->arena_used + size > TB_ARENA_BYTES)
        tb_flush_all(c);
    uint64_t page = paddr & ~(uint64_t)(PAGE_SIZE - 1);
    struct tb_page *p = page_find(c, page, true);
    if (!p)
        return NULL;
    struct tb *t = (struct tb *)(c->arena + c->arena_used);
    c->arena_used += size;
    t->paddr = paddr;
    t->bytes = (uint16_t)(pos - off);
    t->code32 = code32;
    t->n = (uint8_t)n;
    t->n_run = (uint8_t)n;
    t->chainable = tb_is_near_or_plain((enum op)buf[n - 1].op);
    t->dead = 0;
    t->succ[0] = t->succ[1] = NULL;
    memcpy(t->insns, buf, n * sizeof(struct insn));
    if (n >= 2) {
        insn_fn pair = cpu_fast_pair(t->insns[n - 2].fn, &t->insns[n - 1]);
        if (pair) {
            t->insns[n - 2].fn = pair;
            t->n_run = (uint8_t)(n - 1);
        }
    }
    unsigned h = tb_hash(paddr, code32);
    t->hash_next = c->hash[h];
    c->hash[h] = t;
    t->page_next = p->blocks;
    p->blocks = t;
    for (unsigned i = off; i < pos; i++)
        p->code_bytes[i / 8] |= (uint8_t)(1u << (i % 8));
    if (!phys_is_code_page(c->cpu->bus.mem, page)) {
        phys_mark_code_page(c->cpu->bus.mem, page);
        /* Entries filled before the mark let writes through: drop them. */
        tlb_flush_phys_page(&c->cpu->tlb, page);
    }
    c->blocks_built++;
    return t;
}

static struct tb *tb_lookup(struct tb_cache *c, uint64_t paddr, bool code32)
{
    for (struct tb *t = c->hash[tb_hash(paddr, code32)]; t; t = t->hash_next)
        if (t->paddr == paddr && t->code32 == code32)
            return t;
    return NULL;
}

/* Runs block `t`; returns true if it ended the ordinary way (ran to its
 * end, or a near jump left it) so that the next block may follow
 * directly, false if the loop must look first.
 *
 * Per instruction only what any instruction can change is checked: EIP
 * left the straight line, an exit was requested (I/O, a device, the
 * frontend) or blocks were dropped (a store into code). HLT, a new mode
 * (CS.D) and TF/RF come only from instructions that end a block
 * (tb_ends_block), so they are checked once, after the block. No
 * instruction of a block runs in an interrupt shadow: STI, MOV SS and
 * POP SS end a block without chaining, and tb_run_block leaves the
 * shadowed instruction after them to the careful path. */
static bool run_one_block(struct tb_cache *c, struct cpu *cpu, const struct tb *t)
{
    const uint64_t gen = c->generation;
    const bool code32 = t->code32;
    const struct insn *in = t->insns, *const end = in + t->n_run;
    uint32_t eip = cpu->eip;
    bool straight = true;
    for (; in < end; in++) {
        uint32_t fallthrough = eip + in->len;
        if (!code32)
            fallthrough &= 0xffff;
        cpu->next_eip = fallthrough;
        in->fn(cpu, in);
        eip = cpu->next_eip;
        cpu->eip = eip;
        cpu->icount++;
        if (cpu->exit_request || c->generation != gen)
            return false;
        if (eip != fallthrough) {
            straight = in + 1 == end;
            break;
        }
    }
    if (cpu->halted || (cpu->eflags & (FL_TF | FL_RF)) || cpu->code32 != code32)
        return false;
    return straight && t->chainable;
}

/* The block at physical `paddr` for the current mode, built if needed;
 * NULL if none can be built there. */
static struct tb *tb_get(struct tb_cache *c, const uint8_t *host, uint64_t paddr, bool code32,
                         uint32_t room)
{
    struct tb *t = tb_lookup(c, paddr, code32);
    if (t && (uint32_t)t->bytes - 1 > room)
        t = NULL; /* built under a larger limit: decode this time only */
    if (!t)
        t = tb_build(c, host, paddr, (unsigned)(paddr & (PAGE_SIZE - 1)), code32, room);
    return t;
}

uint32_t tb_code_room(const struct cpu *cpu, uint32_t eip)
{
    uint32_t room = cpu->seg[SEG_CS].limit - eip;
    if (!cpu->code32 && room > 0xffffu - (eip & 0xffff))
        room = 0xffffu - (eip & 0xffff); /* 16-bit IP wraps: stop the block there */
    return room;
}

/* Whether remembered successor `t` is the block for `paddr` now. */
static inline bool succ_fits(const struct tb *t, uint64_t paddr, bool code32, uint32_t room)
{
    return t && t->paddr == paddr && t->code32 == code32 && !t->dead &&
           (uint32_t)t->bytes - 1 <= room;
}

/* Blocks run back to back without returning to the loop while control
 * stays in the same linear page, at most this many at a time. */
#define TB_CHAIN_MAX 32

bool tb_run_block(struct tb_cache *c, struct cpu *cpu)
{
    const struct seg *cs = &cpu->seg[SEG_CS];
    uint32_t eip = cpu->eip;
    /* A 32-bit far transfer can leave EIP above FFFFh in 16-bit code; the
     * careful path wraps each instruction's IP there (code_room assumes
     * EIP <= FFFFh). */
    if (eip > cs->limit || (!cpu->code32 && eip > 0xffff))
        return false;
    /* In the shadow of STI, MOV SS or POP SS (SDM Vol. 3A 6.8.3) a
     * pending interrupt is recognised after the next instruction: the
     * careful path runs that one alone and the loop looks then. A block
     * would run on past it, and code such as "sti; nop; cli" would never
     * open its window. */
    if (cpu->inhibit_irq)
        return false;
    uint64_t paddr;
    const uint8_t *host = cpu_code_page(cpu, eip, &paddr);
    if (!host)
        return false;
    bool code32 = cpu->code32;
    struct tb *t = tb_get(c, host, paddr, code32, tb_code_room(cpu, eip));
    if (!t)
        return false;

    /* The page was translated for a fetch at this CPL just now. Blocks
     * that end the ordinary way changed neither CS, the CPL, the paging
     * structures' cached translations (INVLPG, MOV CR* end a block
     * without chaining) nor the mode, so a next block in the same linear
     * page is in the same physical page with the same rights. A next
     * block in another page is translated for a fetch first, as the loop
     * would (a #PF is raised with EIP at the target, as the loop's would
     * be). */
    uint32_t page_lin = (cs->base + eip) & TLB_PAGE_MASK;
    const uint32_t cs_base = cs->base;
    uint64_t page_phys = paddr & ~(uint64_t)(PAGE_SIZE - 1);
    for (int chained = 0; run_one_block(c, cpu, t) && chained < TB_CHAIN_MAX; chained++) {
        eip = cpu->eip;
        uint32_t lin = cs->base + eip;
        if (eip > cs->limit || cs->base != cs_base || (!code32 && eip > 0xffff))
            break; /* the loop looks (EIP above FFFFh in 16-bit code: see above) */
        if ((lin & TLB_PAGE_MASK) != page_lin) {
            host = cpu_code_page(cpu, eip, &paddr);
            if (!host)
                break;
            page_lin = lin & TLB_PAGE_MASK;
            page_phys = paddr & ~(uint64_t)(PAGE_SIZE - 1);
        }
        const uint64_t next_paddr = page_phys | (lin & (PAGE_SIZE - 1));
        const uint32_t room = tb_code_room(cpu, eip);
        struct tb *next = t->succ[0];
        if (!succ_fits(next, next_paddr, code32, room)) {
            next = t->succ[1];
            if (!succ_fits(next, next_paddr, code32, room)) {
                const uint64_t flushes = c->flushes;
                next = tb_get(c, host, next_paddr, code32, room);
                if (!next)
                    break;
                if (c->flushes == flushes) { /* t still exists: remember the way */
                    t->succ[1] = t->succ[0];
                    t->succ[0] = next;
                }
            }
        }
        t = next;
    }
    return true;
}

void tb_stats(const struct tb_cache *c, uint64_t *blocks_built, uint64_t *flushes)
{
    *blocks_built = c->blocks_built;
    *flushes = c->flushes;
}
