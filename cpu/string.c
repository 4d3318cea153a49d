/*
 * cpu/string.c — the string instructions MOVS, CMPS, STOS, LODS, SCAS,
 * INS and OUTS, with and without REP/REPE/REPNE (SDM Vol. 2 MOVS, CMPS,
 * STOS, LODS, SCAS, INS, OUTS and REP/REPE/REPZ/REPNE/REPNZ; Vol. 1 7.3.9).
 *
 * Operand layout (translate/decode_tables.c, Xb/Xv): only in->dst.width is
 * set, the element width. The source is in->seg:(E)SI (a segment prefix
 * may override it); the destination is always ES:(E)DI (SDM Vol. 1 3.7.5:
 * "the ES segment cannot be overridden"). in->adsize picks SI/DI/CX or
 * ESI/EDI/ECX; with a 16-bit address size only the low 16 bits of the
 * index and count registers change, wrapping at 64 KiB.
 *
 * Restartability (SDM Vol. 2 REP, "Interrupts and exceptions"): every
 * iteration does its memory and port accesses first, then commits the
 * index registers and the count, then tests the termination condition. A
 * fault therefore leaves the registers describing the remaining work, and
 * since cpu_raise saves EIP = cpu->eip (the instruction), the instruction
 * restarts where it stopped. A REP instruction also yields after a bounded
 * number of iterations by setting next_eip = eip, so the execution loop
 * can deliver interrupts between iterations (SDM Vol. 1 7.3.9.4) and then
 * re-executes it.
 *
 * Speed: REP MOVS and REP STOS are memcpy/memset in every OS, and REPE/
 * REPNE CMPS/SCAS are memcmp/strlen, so they have a fast path that
 * handles whole runs of elements lying in one page of each operand
 * straight through the host pointers the softmmu TLB (memory/memory.h)
 * holds. The fast path never faults: it only runs where the segment
 * checks provably pass and the TLB already maps the pages for the access
 * kind; everything else takes the per-element path, which also fills the
 * TLB for the next run. The result equals element-by-element execution,
 * overlapping MOVS included.
 */
#include <string.h>

#include "cpu/internal.h"

/* Iterations of the per-element path per handler call before yielding
 * (interrupt latency vs. loop overhead). */
#define STRING_SLOW_BUDGET 1024u
/* Bytes the fast path may move per handler call before yielding. */
#define STRING_FAST_BUDGET (64u * 1024u)

#define PAGE_BYTES 4096u
#define PAGE_OFF_MASK 0xfffu

/* ------------------------------------------------------------------ */
/* Index and count registers                                           */
/* ------------------------------------------------------------------ */

static inline uint32_t addr_mask(const struct insn *in)
{
    return in->adsize == 2 ? 0xffffu : 0xffffffffu;
}

static inline uint32_t idx_get(const struct cpu *cpu, unsigned r, uint32_t amask)
{
    return cpu->regs[r] & amask;
}

/* Writes only the address-size part of a register (SI/DI/CX keep the
 * upper half of ESI/EDI/ECX, SDM Vol. 1 3.6). */
static inline void idx_set(struct cpu *cpu, unsigned r, uint32_t amask, uint32_t v)
{
    cpu->regs[r] = (cpu->regs[r] & ~amask) | (v & amask);
}

/* The per-element step: +width, or -width with EFLAGS.DF set. */
static inline uint32_t elem_step(const struct cpu *cpu, unsigned w)
{
    return (cpu->eflags & FL_DF) ? (uint32_t)-(int32_t)w : w;
}

static inline void advance(struct cpu *cpu, unsigned r, uint32_t amask, uint32_t step)
{
    idx_set(cpu, r, amask, idx_get(cpu, r, amask) + step);
}

/* ------------------------------------------------------------------ */
/* One iteration of each instruction                                   */
/* ------------------------------------------------------------------ */

/*
 * Each function performs one element: all accesses first (any may fault,
 * leaving nothing changed), then the index registers. CMPS/SCAS return
 * ZF of their comparison for the REPE/REPNE test; the others return false.
 */
typedef bool (*elem_fn)(struct cpu *cpu, const struct insn *in);

static bool elem_movs(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t am = addr_mask(in), step = elem_step(cpu, w);
    uint32_t v = cpu_read(cpu, in->seg, idx_get(cpu, R_ESI, am), w);
    cpu_write(cpu, SEG_ES, idx_get(cpu, R_EDI, am), v, w);
    advance(cpu, R_ESI, am, step);
    advance(cpu, R_EDI, am, step);
    return false;
}

/* Flags as CMP src1, src2 (SDM CMPS: "temp := SRC1 - SRC2; SetStatusFlags"). */
static bool compare(struct cpu *cpu, unsigned w, uint32_t a, uint32_t b)
{
    uint32_t r = (a - b) & width_mask(w);
    cc_set(cpu, CC_SUB, w, a, b, r, 0);
    return r == 0;
}

static bool elem_cmps(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t am = addr_mask(in), step = elem_step(cpu, w);
    /* SRC1 is the seg:(E)SI operand, SRC2 ES:(E)DI (SDM CMPS). */
    uint32_t a = cpu_read(cpu, in->seg, idx_get(cpu, R_ESI, am), w);
    uint32_t b = cpu_read(cpu, SEG_ES, idx_get(cpu, R_EDI, am), w);
    advance(cpu, R_ESI, am, step);
    advance(cpu, R_EDI, am, step);
    return compare(cpu, w, a, b);
}

static bool elem_stos(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t am = addr_mask(in);
    cpu_write(cpu, SEG_ES, idx_get(cpu, R_EDI, am), reg_read(cpu, R_EAX, w), w);
    advance(cpu, R_EDI, am, elem_step(cpu, w));
    return false;
}

static bool elem_lods(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t am = addr_mask(in);
    uint32_t v = cpu_read(cpu, in->seg, idx_get(cpu, R_ESI, am), w);
    reg_write(cpu, R_EAX, w, v);
    advance(cpu, R_ESI, am, elem_step(cpu, w));
    return false;
}

static bool elem_scas(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t am = addr_mask(in);
    /* SRC1 is AL/AX/EAX, SRC2 ES:(E)DI (SDM SCAS). */
    uint32_t b = cpu_read(cpu, SEG_ES, idx_get(cpu, R_EDI, am), w);
    advance(cpu, R_EDI, am, elem_step(cpu, w));
    return compare(cpu, w, reg_read(cpu, R_EAX, w), b);
}

static bool elem_ins(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t am = addr_mask(in);
    uint16_t port = (uint16_t)cpu->regs[R_EDX];
    uint32_t di = idx_get(cpu, R_EDI, am);
    /* SDM INS: I/O permission first (#GP(0) unless CPL <= IOPL or the TSS
     * bitmap allows it). A real CPU reads the port and then faults on the
     * memory write; the destination is checked before the port read so
     * the restarted instruction does not read the port twice. */
    cpu_check_io(cpu, port, w);
    cpu_check_write(cpu, SEG_ES, di, w);
    uint32_t v = io_read(cpu->bus.io, port, w);
    cpu_write(cpu, SEG_ES, di, v, w);
    advance(cpu, R_EDI, am, elem_step(cpu, w));
    return false;
}

static bool elem_outs(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t am = addr_mask(in);
    uint16_t port = (uint16_t)cpu->regs[R_EDX];
    cpu_check_io(cpu, port, w);
    uint32_t v = cpu_read(cpu, in->seg, idx_get(cpu, R_ESI, am), w);
    io_write(cpu->bus.io, port, v, w);
    advance(cpu, R_ESI, am, elem_step(cpu, w));
    return false;
}

/* ------------------------------------------------------------------ */
/* Fast paths: REP MOVS / STOS, REPE / REPNE CMPS / SCAS                */
/* ------------------------------------------------------------------ */

/*
 * The last host page seen for reads or writes. Within one handler call
 * nothing can change a translation the walker already approved, so a
 * page captured right after a per-element access stays valid even if the
 * other operand's TLB fill evicted its entry (source and destination
 * pages that share a TLB slot would otherwise never both hit).
 */
struct host_page {
    uint32_t page; /* linear page, or 1 (never a page address) if none */
    uint8_t *host; /* host address of the page's first byte */
};

/* The host address of `lin` if the TLB maps its page for plain RAM access
 * of this kind (the tag equals the page exactly: no TLB_INVALID, no MMIO,
 * no code page, no watch bit). */
static uint8_t *tlb_host(struct cpu *cpu, uint32_t lin, bool write)
{
    const struct tlb_entry *e = &cpu->tlb.e[cpu->cpl == 3][tlb_index(lin)];
    uint32_t tag = write ? e->tag_write : e->tag_read;
    if (tag != (lin & TLB_PAGE_MASK))
        return NULL;
    return (uint8_t *)(e->addend + lin);
}

static uint8_t *host_lookup(struct cpu *cpu, struct host_page *hp, uint32_t lin, bool write)
{
    uint8_t *h = tlb_host(cpu, lin, write);
    if (h) {
        hp->page = lin & TLB_PAGE_MASK;
        hp->host = h - (lin & PAGE_OFF_MASK);
        return h;
    }
    if (hp->page == (lin & TLB_PAGE_MASK))
        return hp->host + (lin & PAGE_OFF_MASK);
    return NULL;
}

/* Remembers the page of `lin` after a per-element access filled it. */
static void host_capture(struct cpu *cpu, struct host_page *hp, uint32_t lin, bool write)
{
    (void)host_lookup(cpu, hp, lin, write);
}

/*
 * Whether segment `seg` allows an access of kind `write` to the offsets
 * [lo, hi], lo <= hi (callers guarantee it, so only hi is passed): the
 * checks of cpu/mem.c's seg_check (SDM Vol. 3A 5.3, 5.4), answered without
 * raising. Expand-down segments are left to the per-element path.
 */
static bool seg_allows(const struct cpu *cpu, int seg, uint32_t hi, bool write)
{
    const struct seg *s = &cpu->seg[seg];
    uint32_t ar = s->ar;
    if ((cpu->cr0 & CR0_PE) && !(cpu->eflags & FL_VM)) {
        if (!(ar & AR_P))
            return false;
        if (ar & AR_T_CODE) {
            if (write || !(ar & AR_T_READABLE))
                return false;
        } else if (write && !(ar & AR_T_WRITABLE)) {
            return false;
        }
    }
    if ((ar & (AR_S | AR_T_CODE | AR_T_EXPDOWN)) == (AR_S | AR_T_EXPDOWN))
        return false;
    return hi <= s->limit;
}

/*
 * How many elements, starting at offset `off` (linear `lin`) and stepping
 * by w (down when `down`), stay inside the first element's page, inside
 * the address-size range without wrapping, and inside the segment limit.
 * 0 if the first element itself straddles a page or the limit.
 */
static uint32_t run_room(const struct cpu *cpu, int seg, uint32_t off, uint32_t lin, unsigned w,
                         bool down, uint32_t amask, bool write)
{
    uint32_t in_page = lin & PAGE_OFF_MASK;
    uint64_t n;
    if (in_page + w > PAGE_BYTES || (uint64_t)off + w - 1 > amask)
        return 0;
    if (!down) {
        n = (PAGE_BYTES - in_page) / w;
        uint64_t off_room = ((uint64_t)amask - off + 1) / w;
        if (off_room < n)
            n = off_room;
        const struct seg *s = &cpu->seg[seg];
        if ((uint64_t)off + w - 1 > s->limit)
            return 0;
        uint64_t lim_room = ((uint64_t)s->limit - off + 1) / w;
        if (lim_room < n)
            n = lim_room;
        if (!seg_allows(cpu, seg, (uint32_t)(off + n * w - 1), write))
            return 0;
    } else {
        n = in_page / w + 1;
        uint64_t off_room = off / w + 1;
        if (off_room < n)
            n = off_room;
        if (!seg_allows(cpu, seg, off + w - 1, write))
            return 0;
    }
    return (uint32_t)n;
}

/* Whether the fast path may run at all for this instruction: data
 * breakpoints and a debugger's watchpoints need per-access checks
 * (cpu/mem.c), and alignment checking (#AC, SDM 6.15) is per element;
 * single-stepping (TF) runs one iteration per instruction anyway. */
static bool fast_allowed(const struct cpu *cpu)
{
    if (cpu_data_watched(cpu))
        return false;
    if (cpu->eflags & FL_TF)
        return false;
    if (cpu->cpl == 3 && (cpu->cr0 & CR0_AM) && (cpu->eflags & FL_AC))
        return false;
    return true;
}

/*
 * The run a fast path may take from the current ES:(E)DI (and seg:(E)SI
 * when the instruction has a source operand): its element count, at most
 * `max_elems`, every element inside one page of each operand and inside
 * both segments; *sp gets the host address of each operand's first
 * element. The destination is checked for writing when `dst_write` (MOVS,
 * STOS) and for reading otherwise (CMPS, SCAS). Returns the count, 0 to
 * take the slow path.
 */
struct fast_span {
    uint32_t si, di;   /* the index registers before the run */
    const uint8_t *sh; /* source, NULL without one */
    uint8_t *dh;       /* destination */
    bool down;         /* EFLAGS.DF: the indices count down */
};

/* How many bytes from `lin` on (host address `h`) one host run of plain
 * RAM of this kind holds, up to `want`: the rest of lin's page, then each
 * next page whose TLB entry (exact tag: no MMIO, code or watched page)
 * maps it right after the last one's host bytes: consecutive guest RAM,
 * as identity maps and kernels' direct maps are. */
static uint32_t host_run_bytes(struct cpu *cpu, uint32_t lin, const uint8_t *h, uint32_t want,
                               bool write)
{
    uint32_t bytes = PAGE_BYTES - (lin & PAGE_OFF_MASK);
    while (bytes < want) {
        uint32_t next = lin + bytes;
        if (next < lin || tlb_host(cpu, next, write) != h + bytes)
            break; /* past 4 GiB, or not right after */
        bytes += PAGE_BYTES;
    }
    return bytes < want ? bytes : want;
}

/*
 * A forward span of `n` elements that stopped at a page's end, made
 * longer where the next pages are the same host run for each operand
 * (host_run_bytes) and both segments and the address size allow every
 * element (seg_allows, as run_room for the first page): one memmove or
 * compare loop for a whole 64 KiB copy instead of one per page (make
 * bench string). Returns the new count, at least n.
 */
/* At most `m` elements of `w` bytes from seg:off (host address `h`): as
 * many as the address size leaves before wrapping and one host run
 * holds (host_run_bytes). */
static uint64_t operand_run_elems(struct cpu *cpu, int seg, uint32_t off, const uint8_t *h,
                                  uint32_t am, unsigned w, uint64_t m, bool write)
{
    uint64_t room = ((uint64_t)am - off + 1) / w;
    if (room < m)
        m = room;
    uint64_t bytes = host_run_bytes(cpu, cpu->seg[seg].base + off, h, (uint32_t)(m * w), write);
    return bytes / w < m ? bytes / w : m;
}

static uint32_t span_beyond_page(struct cpu *cpu, const struct insn *in, bool has_src,
                                 bool dst_write, uint32_t max_elems, const struct fast_span *sp,
                                 uint32_t n)
{
    unsigned w = in->dst.width;
    uint32_t am = addr_mask(in);
    uint64_t m = operand_run_elems(cpu, SEG_ES, sp->di, sp->dh, am, w, max_elems, dst_write);
    if (has_src)
        m = operand_run_elems(cpu, in->seg, sp->si, sp->sh, am, w, m, false);
    if (m <= n)
        return n;
    /* The last element's offsets: below the limits, no wrap (room). */
    if (!seg_allows(cpu, SEG_ES, (uint32_t)(sp->di + m * w - 1), dst_write))
        return n;
    if (has_src && !seg_allows(cpu, in->seg, (uint32_t)(sp->si + m * w - 1), false))
        return n;
    return (uint32_t)m;
}

/* inline: both fast runs call it once per run; out of line it cost the
 * string micro-benchmark 0.4 % more host instructions. */
static inline uint32_t fast_span(struct cpu *cpu, const struct insn *in, bool has_src,
                                 bool dst_write, uint32_t max_elems, struct host_page *src_pg,
                                 struct host_page *dst_pg, struct fast_span *sp)
{
    unsigned w = in->dst.width;
    uint32_t am = addr_mask(in);
    sp->down = (cpu->eflags & FL_DF) != 0;
    sp->di = idx_get(cpu, R_EDI, am);
    uint32_t dlin = cpu->seg[SEG_ES].base + sp->di;
    uint32_t n = run_room(cpu, SEG_ES, sp->di, dlin, w, sp->down, am, dst_write);
    if (n > max_elems)
        n = max_elems;
    if (n == 0)
        return 0;
    sp->si = 0;
    sp->sh = NULL;
    if (has_src) {
        sp->si = idx_get(cpu, R_ESI, am);
        uint32_t slin = cpu->seg[in->seg].base + sp->si;
        uint32_t ns = run_room(cpu, in->seg, sp->si, slin, w, sp->down, am, false);
        if (ns < n)
            n = ns;
        if (n == 0 || !(sp->sh = host_lookup(cpu, src_pg, slin, false)))
            return 0;
    }
    sp->dh = host_lookup(cpu, dst_pg, dlin, dst_write);
    if (!sp->dh)
        return 0;
    if (!sp->down && n < max_elems)
        n = span_beyond_page(cpu, in, has_src, dst_write, max_elems, sp, n);
    return n;
}

/* Commits the first `done` elements of a span: (E)SI and (E)DI move by
 * done elements in the direction of DF, (E)CX counts them off. */
static inline void fast_commit(struct cpu *cpu, const struct insn *in, bool has_src,
                               const struct fast_span *sp, uint32_t done)
{
    uint32_t am = addr_mask(in);
    uint32_t delta = done * in->dst.width;
    if (sp->down)
        delta = (uint32_t)-delta;
    if (has_src)
        idx_set(cpu, R_ESI, am, sp->si + delta);
    idx_set(cpu, R_EDI, am, sp->di + delta);
    idx_set(cpu, R_ECX, am, idx_get(cpu, R_ECX, am) - done);
}

/*
 * One fast run of REP MOVS (`movs`) or REP STOS of at most `max_elems`
 * elements. Returns the elements done (0: take the slow path), with
 * ESI/EDI/ECX committed. No access here can fault.
 */
static uint32_t fast_run(struct cpu *cpu, const struct insn *in, bool movs, uint32_t max_elems,
                         struct host_page *rd, struct host_page *wr)
{
    struct fast_span sp;
    uint32_t n = fast_span(cpu, in, movs, true, max_elems, rd, wr, &sp);
    if (n == 0)
        return 0;
    unsigned w = in->dst.width;
    bool down = sp.down;
    size_t bytes = (size_t)n * w;
    /* Lowest host byte of each run. */
    uint8_t *dlo = down ? sp.dh - (bytes - w) : sp.dh;
    if (movs) {
        const uint8_t *slo = down ? sp.sh - (bytes - w) : sp.sh;
        /* Element order matters only when the runs overlap with the
         * destination "ahead" of the source in the copy direction: then
         * later elements read bytes earlier ones wrote (the classic
         * pattern fill). Otherwise the result equals one memmove. */
        bool disjoint = dlo + bytes <= slo || slo + bytes <= dlo;
        if (disjoint || (!down && dlo <= slo) || (down && dlo >= slo)) {
            memmove(dlo, slo, bytes);
        } else {
            ptrdiff_t step = down ? -(ptrdiff_t)w : (ptrdiff_t)w;
            const uint8_t *s = sp.sh;
            uint8_t *d = sp.dh;
            for (uint32_t i = 0; i < n; i++, s += step, d += step) {
                uint8_t tmp[4];
                memcpy(tmp, s, w);
                memcpy(d, tmp, w);
            }
        }
    } else {
        uint32_t v = reg_read(cpu, R_EAX, w);
        if (w == 1) {
            memset(dlo, (int)v, bytes);
        } else {
            /* One element, then doubling copies of what is already filled
             * (a run starts element-aligned, so the pattern stays in phase). */
            memcpy(dlo, &v, w); /* little-endian host, as cpu/mem.c assumes */
            for (size_t done = w; done < bytes;) {
                size_t k = done < bytes - done ? done : bytes - done;
                memcpy(dlo + done, dlo, k);
                done += k;
            }
        }
    }
    fast_commit(cpu, in, movs, &sp, n);
    return n;
}

/* Loads a little-endian element of `w` bytes from host memory. */
static inline uint32_t host_load(const uint8_t *p, unsigned w)
{
    uint32_t v = 0;
    memcpy(&v, p, w); /* little-endian host, as cpu/mem.c assumes */
    return v;
}

/*
 * One fast run of REPE/REPNE CMPS (`cmps`) or SCAS of at most `max_elems`
 * elements: compares straight from host memory, stopping after the
 * element whose ZF ends the repetition (`*stop` set). Returns the
 * elements done (0: take the slow path), with ESI/EDI/ECX and the flags
 * of the last comparison committed. No access here can fault.
 */
static uint32_t fast_cmp_run(struct cpu *cpu, const struct insn *in, bool cmps,
                             uint32_t max_elems, struct host_page *src_pg,
                             struct host_page *dst_pg, bool *stop)
{
    struct fast_span sp;
    uint32_t n = fast_span(cpu, in, cmps, false, max_elems, src_pg, dst_pg, &sp);
    if (n == 0)
        return 0;
    unsigned w = in->dst.width;
    const uint8_t *sh = sp.sh, *dh = sp.dh;
    ptrdiff_t step = sp.down ? -(ptrdiff_t)w : (ptrdiff_t)w;
    uint32_t mask = width_mask(w);
    uint32_t acc = reg_read(cpu, R_EAX, w);
    uint32_t a = 0, b = 0, done = 0;
    bool want_equal = in->rep == REP_E; /* REPE repeats while ZF = 1 */
    *stop = false;
    while (done < n) {
        a = cmps ? host_load(sh, w) : acc;
        b = host_load(dh, w);
        done++;
        if ((((a - b) & mask) == 0) != want_equal) {
            *stop = true;
            break;
        }
        if (cmps)
            sh += step;
        dh += step;
    }
    fast_commit(cpu, in, cmps, &sp, done);
    compare(cpu, w, a, b);
    return done;
}

/* ------------------------------------------------------------------ */
/* The REP loops                                                       */
/* ------------------------------------------------------------------ */

/* What ends a repetition besides the count: nothing, or ZF per the
 * prefix (REPE stops on ZF = 0, REPNE on ZF = 1; SDM REP Table 4-16). */
enum rep_kind { REP_COUNT_ONLY, REP_ZF };

static inline bool zf_ends_rep(const struct insn *in, bool zf)
{
    return in->rep == REP_E ? !zf : zf;
}

static void rep_loop(struct cpu *cpu, const struct insn *in, elem_fn fn, enum rep_kind kind)
{
    if (in->rep == REP_NONE) {
        fn(cpu, in);
        return;
    }
    uint32_t am = addr_mask(in);
    /* A single-step trap follows every iteration (SDM Vol. 3A 17.3.1.4),
     * and a data breakpoint the iteration that hit it (17.3.1.2). */
    unsigned budget = (cpu->eflags & FL_TF) ? 1 : STRING_SLOW_BUDGET;
    for (unsigned done = 0;; done++) {
        uint32_t count = idx_get(cpu, R_ECX, am);
        if (count == 0)
            return;
        if (done == budget || (done > 0 && cpu->dr6_pending)) {
            cpu->next_eip = cpu->eip; /* more to do: re-execute */
            return;
        }
        bool zf = fn(cpu, in);
        idx_set(cpu, R_ECX, am, count - 1);
        if (kind == REP_ZF && zf_ends_rep(in, zf))
            return;
    }
}

/*
 * One MOVS or STOS element the ordinary way for the fast loop: it may
 * fault, with every earlier element committed, and it captures each page
 * right after the access that translated it (the next access's TLB fill
 * may evict it). (E)CX is the caller's; returns false, as elem_fn does.
 */
static bool slow_copy_elem(struct cpu *cpu, const struct insn *in, bool movs,
                           struct host_page *rd, struct host_page *wr)
{
    unsigned w = in->dst.width;
    uint32_t am = addr_mask(in);
    uint32_t si = idx_get(cpu, R_ESI, am), di = idx_get(cpu, R_EDI, am);
    if (movs) {
        uint32_t v = cpu_read(cpu, in->seg, si, w);
        host_capture(cpu, rd, cpu->seg[in->seg].base + si, false);
        cpu_write(cpu, SEG_ES, di, v, w);
        advance(cpu, R_ESI, am, elem_step(cpu, w));
    } else {
        cpu_write(cpu, SEG_ES, di, reg_read(cpu, R_EAX, w), w);
    }
    host_capture(cpu, wr, cpu->seg[SEG_ES].base + di, true);
    advance(cpu, R_EDI, am, elem_step(cpu, w));
    return false;
}

/* The same for CMPS or SCAS: reads both operands (SRC1 first, SDM CMPS),
 * moves the indices and sets the flags; returns ZF. */
static bool slow_cmp_elem(struct cpu *cpu, const struct insn *in, bool cmps,
                          struct host_page *src_pg, struct host_page *dst_pg)
{
    unsigned w = in->dst.width;
    uint32_t am = addr_mask(in);
    uint32_t si = idx_get(cpu, R_ESI, am), di = idx_get(cpu, R_EDI, am);
    uint32_t a;
    if (cmps) {
        a = cpu_read(cpu, in->seg, si, w);
        host_capture(cpu, src_pg, cpu->seg[in->seg].base + si, false);
    } else {
        a = reg_read(cpu, R_EAX, w);
    }
    uint32_t b = cpu_read(cpu, SEG_ES, di, w);
    host_capture(cpu, dst_pg, cpu->seg[SEG_ES].base + di, false);
    if (cmps)
        advance(cpu, R_ESI, am, elem_step(cpu, w));
    advance(cpu, R_EDI, am, elem_step(cpu, w));
    return compare(cpu, w, a, b);
}

/*
 * One fast run of REP INSW/INSD of at most `max_elems` elements: straight
 * from a device that reads runs in one go (io_read_rep: the IDE data
 * port) into the guest memory of one fast span, as many as the device has
 * ready. Returns the elements done (0: one the ordinary way), with EDI and
 * ECX committed. The I/O permission is checked first, as for each
 * element; nothing else here can fault. Counting down (DF) and byte
 * elements never run (rep_fast_loop).
 */
static uint32_t fast_ins_run(struct cpu *cpu, const struct insn *in, uint32_t max_elems,
                             struct host_page *dst_pg)
{
    uint16_t port = (uint16_t)cpu->regs[R_EDX];
    unsigned w = in->dst.width;
    cpu_check_io(cpu, port, w);
    struct host_page none = { 1, NULL };
    struct fast_span sp;
    uint32_t n = fast_span(cpu, in, false, true, max_elems, &none, dst_pg, &sp);
    if (n == 0)
        return 0;
    uint32_t got = (uint32_t)io_read_rep(cpu->bus.io, port, w, sp.dh, n);
    if (got)
        fast_commit(cpu, in, false, &sp, got);
    return got;
}

/* One INS element the ordinary way for the fast loop (ECX is the
 * caller's): the page it wrote is captured for the next run. */
static bool slow_ins_elem(struct cpu *cpu, const struct insn *in, struct host_page *wr)
{
    uint32_t lin = cpu->seg[SEG_ES].base + idx_get(cpu, R_EDI, addr_mask(in));
    elem_ins(cpu, in);
    host_capture(cpu, wr, lin, true);
    return false;
}

/*
 * One fast run of REP OUTSW/OUTSD of at most `max_elems` elements: from
 * the guest memory of seg:(E)SI's page straight to a device that takes
 * runs in one go (io_write_rep: the IDE data port), as many as it takes.
 * Returns the elements done (0: one the ordinary way), with ESI and ECX
 * committed; as fast_ins_run otherwise.
 */
static uint32_t fast_outs_run(struct cpu *cpu, const struct insn *in, uint32_t max_elems,
                              struct host_page *src_pg)
{
    uint16_t port = (uint16_t)cpu->regs[R_EDX];
    unsigned w = in->dst.width;
    uint32_t am = addr_mask(in);
    cpu_check_io(cpu, port, w);
    uint32_t si = idx_get(cpu, R_ESI, am);
    uint32_t lin = cpu->seg[in->seg].base + si;
    uint32_t n = run_room(cpu, in->seg, si, lin, w, false, am, false);
    if (n > max_elems)
        n = max_elems;
    const uint8_t *h = n ? host_lookup(cpu, src_pg, lin, false) : NULL;
    if (!h)
        return 0;
    uint32_t got = (uint32_t)io_write_rep(cpu->bus.io, port, w, h, n);
    if (got) {
        idx_set(cpu, R_ESI, am, si + got * w);
        idx_set(cpu, R_ECX, am, idx_get(cpu, R_ECX, am) - got);
    }
    return got;
}

/* One OUTS element the ordinary way for the fast loop (ECX is the
 * caller's): the page it read is captured for the next run. */
static bool slow_outs_elem(struct cpu *cpu, const struct insn *in, struct host_page *rd)
{
    uint32_t lin = cpu->seg[in->seg].base + idx_get(cpu, R_ESI, addr_mask(in));
    elem_outs(cpu, in);
    host_capture(cpu, rd, lin, false);
    return false;
}

/* An instruction with a fast path, as rep_fast_loop sees it. */
struct rep_fast_insn {
    elem_fn plain; /* one element: no REP, or the fast path may not run */
    bool has_src;  /* MOVS, CMPS: a seg:(E)SI operand besides ES:(E)DI */
    bool compares; /* CMPS, SCAS: sets flags; REPE/REPNE end on ZF */
    /* INS, OUTS: runs from or to a device (fast_ins_run, fast_outs_run),
     * counting up, words and dwords only. */
    bool port_in, port_out;
};

static const struct rep_fast_insn FAST_MOVS = { elem_movs, true, false, false, false };
static const struct rep_fast_insn FAST_STOS = { elem_stos, false, false, false, false };
static const struct rep_fast_insn FAST_CMPS = { elem_cmps, true, true, false, false };
static const struct rep_fast_insn FAST_SCAS = { elem_scas, false, true, false, false };
static const struct rep_fast_insn FAST_INS = { elem_ins, false, false, true, false };
static const struct rep_fast_insn FAST_OUTS = { elem_outs, false, false, false, true };

/*
 * REP MOVS / STOS (memcpy, memset), REPE / REPNE CMPS / SCAS (memcmp,
 * strlen, memchr) and REP INS / OUTS (a disk's sectors: Glass's BIOS
 * moves one with a REP INSW or OUTSW of 256 words; SYSLINUX loading
 * Debian's kernel took 0.2 s one word at a time, 0.06 s in runs): fast
 * runs where possible, single elements where not (those fill the TLB, so
 * the next run can go fast).
 * Each call moves at most STRING_FAST_BUDGET bytes in fast runs and
 * STRING_SLOW_BUDGET single elements, then yields by re-executing
 * (next_eip = eip).
 */
static void rep_fast_loop(struct cpu *cpu, const struct insn *in, const struct rep_fast_insn *k)
{
    unsigned w = in->dst.width;
    if (in->rep == REP_NONE || !fast_allowed(cpu) ||
        ((k->port_in || k->port_out) && (w == 1 || (cpu->eflags & FL_DF)))) {
        rep_loop(cpu, in, k->plain, k->compares ? REP_ZF : REP_COUNT_ONLY);
        return;
    }
    uint32_t am = addr_mask(in);
    unsigned slow_left = STRING_SLOW_BUDGET;
    uint32_t fast_left = STRING_FAST_BUDGET / w;
    struct host_page src_pg = { 1, NULL }, dst_pg = { 1, NULL };
    for (;;) {
        uint32_t count = idx_get(cpu, R_ECX, am);
        if (count == 0)
            return;
        if (slow_left == 0 || fast_left == 0) {
            cpu->next_eip = cpu->eip;
            return;
        }
        uint32_t max = count < fast_left ? count : fast_left;
        bool stop = false;
        uint32_t n = k->compares   ? fast_cmp_run(cpu, in, k->has_src, max, &src_pg, &dst_pg, &stop)
                     : k->port_in  ? fast_ins_run(cpu, in, max, &dst_pg)
                     : k->port_out ? fast_outs_run(cpu, in, max, &src_pg)
                                   : fast_run(cpu, in, k->has_src, max, &src_pg, &dst_pg);
        if (n) {
            if (stop)
                return;
            fast_left -= n;
            continue;
        }
        bool zf = k->compares   ? slow_cmp_elem(cpu, in, k->has_src, &src_pg, &dst_pg)
                  : k->port_in  ? slow_ins_elem(cpu, in, &dst_pg)
                  : k->port_out ? slow_outs_elem(cpu, in, &src_pg)
                                : slow_copy_elem(cpu, in, k->has_src, &src_pg, &dst_pg);
        idx_set(cpu, R_ECX, am, count - 1);
        if (k->compares && zf_ends_rep(in, zf))
            return;
        slow_left--;
    }
}

/* ------------------------------------------------------------------ */
/* Handlers                                                            */
/* ------------------------------------------------------------------ */

static void op_movs(struct cpu *cpu, const struct insn *in)
{
    rep_fast_loop(cpu, in, &FAST_MOVS);
}

static void op_stos(struct cpu *cpu, const struct insn *in)
{
    rep_fast_loop(cpu, in, &FAST_STOS);
}

/* F2 and F3 both mean plain REP for the non-comparing instructions (SDM
 * REP: REPE/REPNE apply to CMPS and SCAS only). */
static void op_cmps(struct cpu *cpu, const struct insn *in)
{
    rep_fast_loop(cpu, in, &FAST_CMPS);
}

static void op_scas(struct cpu *cpu, const struct insn *in)
{
    rep_fast_loop(cpu, in, &FAST_SCAS);
}

static void op_lods(struct cpu *cpu, const struct insn *in)
{
    rep_loop(cpu, in, elem_lods, REP_COUNT_ONLY);
}

static void op_ins(struct cpu *cpu, const struct insn *in)
{
    rep_fast_loop(cpu, in, &FAST_INS);
}

static void op_outs(struct cpu *cpu, const struct insn *in)
{
    rep_fast_loop(cpu, in, &FAST_OUTS);
}

const struct op_handler string_handlers[] = {
    { OP_MOVS, op_movs }, { OP_CMPS, op_cmps }, { OP_STOS, op_stos }, { OP_LODS, op_lods },
    { OP_SCAS, op_scas }, { OP_INS, op_ins },   { OP_OUTS, op_outs }, { OP_INVALID, NULL },
};
