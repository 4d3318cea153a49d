/*
 * frontend/monitor.c — the monitor: QEMU's human monitor commands that
 * look into a machine and steer it (info, walk, x, xp, stop, cont, step,
 * screendump, sendkey, system_reset, system_powerdown, quit).
 *
 * monitor_execute() takes one command line and writes its answer to a
 * FILE; it is what the stdio and socket sessions (below), the gdbstub's
 * "monitor" command (qRcmd) and the unit tests call. Every line gets an
 * answer: an unknown command, a missing argument or an address that is
 * not mapped is said so in one line, and nothing a user types can make
 * it read outside a buffer (lengths are bounded, counts capped).
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream, strtok_r */

#include <capstone/capstone.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "translate/translate.h"

/* Bounds on what one command may ask for. */
#define X_MAX_UNITS 4096u    /* x/N: values */
#define X_MAX_INSNS 256u     /* x/Ni: instructions */
#define STEP_MAX 1000000u    /* step N */
#define SENDKEY_MAX_KEYS 8

struct monitor {
    struct pc *pc;
    csh cs16, cs32;
    bool cs_ok;
    bool quit;
};

struct monitor *monitor_new(struct pc *pc)
{
    struct monitor *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->pc = pc;
    if (cs_open(CS_ARCH_X86, CS_MODE_16, &m->cs16) == CS_ERR_OK) {
        if (cs_open(CS_ARCH_X86, CS_MODE_32, &m->cs32) == CS_ERR_OK)
            m->cs_ok = true;
        else
            cs_close(&m->cs16);
    }
    return m;
}

void monitor_free(struct monitor *m)
{
    if (!m)
        return;
    if (m->cs_ok) {
        cs_close(&m->cs16);
        cs_close(&m->cs32);
    }
    free(m);
}

bool monitor_quit_requested(const struct monitor *m)
{
    return m->quit;
}

/* ------------------------------------------------------------------ */
/* Arguments                                                           */
/* ------------------------------------------------------------------ */

static const char *const reg32_names[8] = { "eax", "ecx", "edx", "ebx",
                                            "esp", "ebp", "esi", "edi" };

/* One term of an address: a number (0x... hex, else decimal) or a
 * register ($eax ... $edi, $eip, $pc = CS.base + EIP, $cr3 ...). */
static bool parse_term(struct cpu *cpu, const char **p, uint64_t *v)
{
    const char *s = *p;
    if (*s == '$') {
        s++;
        size_t n = 0;
        while (isalnum((unsigned char)s[n]))
            n++;
        for (int r = 0; r < 8; r++) {
            if (strlen(reg32_names[r]) == n && !strncmp(s, reg32_names[r], n)) {
                *v = cpu->regs[r];
                *p = s + n;
                return true;
            }
        }
        static const struct { const char *name; int which; } extra[] = {
            { "eip", 0 }, { "pc", 1 }, { "cr2", 2 }, { "cr3", 3 }, { "sp", 4 },
        };
        for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
            if (strlen(extra[i].name) != n || strncmp(s, extra[i].name, n))
                continue;
            switch (extra[i].which) {
            case 0: *v = cpu->eip; break;
            case 1: *v = (uint32_t)(cpu->seg[SEG_CS].base + cpu->eip); break;
            case 2: *v = cpu->cr2; break;
            case 3: *v = cpu->cr3; break;
            default: *v = (uint32_t)(cpu->seg[SEG_SS].base + cpu->regs[R_ESP]); break;
            }
            *p = s + n;
            return true;
        }
        return false;
    }
    if (!isdigit((unsigned char)*s))
        return false;
    char *end;
    unsigned long long n = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
    if (end == s)
        return false;
    *v = n;
    *p = end;
    return true;
}

/* An address: terms joined by + and -, e.g. "$esp+8" or "0x7c00". */
static bool parse_address(struct cpu *cpu, const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int sign = 1;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return false;
    for (;;) {
        uint64_t t;
        if (!parse_term(cpu, &s, &t))
            return false;
        v += sign > 0 ? t : (uint64_t)-t;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '\0')
            break;
        if (*s != '+' && *s != '-')
            return false;
        sign = *s == '+' ? 1 : -1;
        s++;
        while (isspace((unsigned char)*s))
            s++;
    }
    *out = v;
    return true;
}

/* ------------------------------------------------------------------ */
/* info registers                                                      */
/* ------------------------------------------------------------------ */

static void print_seg(FILE *out, const char *name, const struct seg *s)
{
    uint32_t ar = s->ar;
    fprintf(out, "%-4s=%04x %08x %08x %08x", name, s->sel, s->base, s->limit, ar);
    if (!(ar & AR_P)) {
        fprintf(out, " (unusable)\n");
        return;
    }
    fprintf(out, " DPL=%u", AR_DPL(ar));
    if (!(ar & AR_S)) {
        static const char *const sys[16] = {
            "reserved", "TSS16-avl", "LDT", "TSS16-busy", "callgate16", "taskgate",
            "intgate16", "trapgate16", "reserved", "TSS32-avl", "reserved", "TSS32-busy",
            "callgate32", "reserved", "intgate32", "trapgate32",
        };
        fprintf(out, " %s\n", sys[AR_TYPE(ar)]);
        return;
    }
    if (ar & AR_T_CODE)
        fprintf(out, " code%s%s", (ar & AR_T_READABLE) ? " readable" : "",
                (ar & AR_T_CONFORM) ? " conforming" : "");
    else
        fprintf(out, " data%s%s", (ar & AR_T_WRITABLE) ? " writable" : " read-only",
                (ar & AR_T_EXPDOWN) ? " expand-down" : "");
    fprintf(out, "%s %s%s\n", (ar & AR_T_ACCESSED) ? " accessed" : "",
            (ar & AR_DB) ? "32-bit" : "16-bit", (ar & AR_G) ? " 4K-granular" : "");
}

/* The set bits of a register that have names, highest first. */
static void print_bits(FILE *out, uint32_t v, const char *const names[32])
{
    fputs(" [", out);
    bool first = true;
    for (int b = 31; b >= 0; b--) {
        if ((v >> b) & 1 && names[b]) {
            fprintf(out, "%s%s", first ? "" : " ", names[b]);
            first = false;
        }
    }
    fputs("]", out);
}

static void print_x87(FILE *out, const struct fpu *f)
{
    unsigned tw = fpu_tag_word(f);
    fprintf(out, "FPU: FCW=%04x FSW=%04x (TOP=%u) FTW=%04x FOP=%03x FIP=%04x:%08x "
            "FDP=%04x:%08x\n", f->cw, (f->sw & ~0x3800u) | ((unsigned)f->top << 11), f->top,
            tw, f->fop, f->fcs, f->fip, f->fds, f->fdp);
    static const char *const tags[4] = { "valid", "zero", "special", "empty" };
    for (int i = 0; i < 8; i++) {
        int phys = (f->top + i) & 7;
        const struct f80 *r = &f->st[phys];
        unsigned tag = (tw >> (2 * phys)) & 3;
        fprintf(out, "ST%d=%04x %016" PRIx64 " %-7s", i, r->sign_exp, r->sig, tags[tag]);
#if defined(__x86_64__) || defined(__i386__)
        if (tag != 3) {
            /* The host's long double is the same 80-bit format. */
            long double ld;
            unsigned char raw[sizeof(long double)];
            memset(raw, 0, sizeof(raw));
            memcpy(raw, &r->sig, 8);
            memcpy(raw + 8, &r->sign_exp, 2);
            memcpy(&ld, raw, sizeof(ld));
            fprintf(out, " %.18Lg", ld);
        }
#endif
        fputc('\n', out);
    }
}

void monitor_print_registers(struct cpu *cpu, FILE *out)
{
    static const char *const fl_names[32] = {
        [0] = "CF", [2] = "PF", [4] = "AF", [6] = "ZF", [7] = "SF", [8] = "TF", [9] = "IF",
        [10] = "DF", [11] = "OF", [14] = "NT", [16] = "RF", [17] = "VM", [18] = "AC",
        [19] = "VIF", [20] = "VIP", [21] = "ID",
    };
    static const char *const cr0_names[32] = {
        [0] = "PE", [1] = "MP", [2] = "EM", [3] = "TS", [4] = "ET", [5] = "NE", [16] = "WP",
        [18] = "AM", [29] = "NW", [30] = "CD", [31] = "PG",
    };
    static const char *const cr4_names[32] = {
        [0] = "VME", [1] = "PVI", [2] = "TSD", [3] = "DE", [4] = "PSE", [5] = "PAE",
        [6] = "MCE", [7] = "PGE", [8] = "PCE", [9] = "OSFXSR", [10] = "OSXMMEXCPT",
    };
    static const char *const seg_names[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    uint32_t fl = cpu_get_eflags(cpu);
    fprintf(out, "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", cpu->regs[R_EAX], cpu->regs[R_EBX],
            cpu->regs[R_ECX], cpu->regs[R_EDX]);
    fprintf(out, "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", cpu->regs[R_ESI], cpu->regs[R_EDI],
            cpu->regs[R_EBP], cpu->regs[R_ESP]);
    fprintf(out, "EIP=%08x EFL=%08x", cpu->eip, fl);
    print_bits(out, fl, fl_names);
    fprintf(out, " IOPL=%u CPL=%u %s%s%s\n", (fl & FL_IOPL) >> FL_IOPL_SHIFT, cpu->cpl,
            !(cpu->cr0 & CR0_PE) ? "real" : (fl & FL_VM) ? "v86" : "protected",
            cpu->halted ? " halted" : "", cpu->inhibit_irq ? " irq-shadow" : "");
    for (int s = 0; s < SEG_COUNT; s++)
        print_seg(out, seg_names[s], &cpu->seg[s]);
    print_seg(out, "LDT", &cpu->ldtr);
    print_seg(out, "TR", &cpu->tr);
    fprintf(out, "GDT=     %08x %04x\nIDT=     %08x %04x\n", cpu->gdtr.base, cpu->gdtr.limit,
            cpu->idtr.base, cpu->idtr.limit);
    fprintf(out, "CR0=%08x", cpu->cr0);
    print_bits(out, cpu->cr0, cr0_names);
    fprintf(out, " CR2=%08x CR3=%08x CR4=%08x", cpu->cr2, cpu->cr3, cpu->cr4);
    print_bits(out, cpu->cr4, cr4_names);
    fputc('\n', out);
    if ((cpu->cr0 & CR0_PG) && (cpu->cr4 & CR4_PAE))
        fprintf(out, "PDPTE=%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 "\n",
                cpu->pdpte[0], cpu->pdpte[1], cpu->pdpte[2], cpu->pdpte[3]);
    fprintf(out, "DR0=%08x DR1=%08x DR2=%08x DR3=%08x\nDR6=%08x DR7=%08x\n", cpu->dr[0],
            cpu->dr[1], cpu->dr[2], cpu->dr[3], cpu->dr[6], cpu->dr[7]);
    fprintf(out, "EFER=%016" PRIx64 " icount=%" PRIu64 "\n", cpu->msr.efer, cpu->icount);
    print_x87(out, &cpu->fpu);
}

/* ------------------------------------------------------------------ */
/* info tlb, info mem, walk                                            */
/* ------------------------------------------------------------------ */

static void print_tlb(struct cpu *cpu, FILE *out)
{
    unsigned n = 0;
    for (int u = 0; u < 2; u++) {
        for (unsigned i = 0; i < TLB_ENTRIES; i++) {
            const struct tlb_entry *e = &cpu->tlb.e[u][i];
            bool r = !(e->tag_read & TLB_INVALID), w = !(e->tag_write & TLB_INVALID),
                 x = !(e->tag_exec & TLB_INVALID);
            if (!r && !w && !x)
                continue;
            uint32_t slow = (e->tag_read | e->tag_write | e->tag_exec) &
                            (TLB_SLOW_MMIO | TLB_SLOW_CODE | TLB_SLOW_WATCH);
            fprintf(out, "%s %08x -> %09" PRIx64 " %c%c%c%s%s%s%s%s\n", u ? "user" : "sup ",
                    e->flags & TLB_PAGE_MASK, e->paddr, r ? 'r' : '-', w ? 'w' : '-',
                    x ? 'x' : '-', (e->flags & TLB_ENTRY_GLOBAL) ? " global" : "",
                    (e->flags & TLB_ENTRY_LARGE) ? " large" : "",
                    (slow & TLB_SLOW_MMIO) ? " mmio" : "",
                    (slow & TLB_SLOW_CODE) ? " code-page" : "",
                    (slow & TLB_SLOW_WATCH) ? " watch" : "");
            n++;
        }
    }
    fprintf(out, "%u entries (r/w/x: the kinds of access the entry serves without a walk)\n", n);
}

/* info mem: consecutive mappings with the same rights form one range. */
struct mem_range {
    FILE *out;
    bool open;
    uint64_t start, end; /* [start, end) */
    bool rw, us, xd;
    unsigned count;
};

static void mem_range_flush(struct mem_range *m)
{
    if (!m->open)
        return;
    fprintf(m->out, "%08" PRIx64 "-%08" PRIx64 " %08" PRIx64 " %c%c%c%c\n", m->start,
            m->end - 1, m->end - m->start, m->us ? 'u' : '-', 'r', m->rw ? 'w' : '-',
            m->xd ? '-' : 'x');
    m->open = false;
    m->count++;
}

static void mem_range_add(void *opaque, uint32_t lin, uint64_t phys, uint32_t size, bool rw,
                          bool us, bool xd)
{
    (void)phys;
    struct mem_range *m = opaque;
    if (m->open && m->end == lin && m->rw == rw && m->us == us && m->xd == xd) {
        m->end += size;
        return;
    }
    mem_range_flush(m);
    *m = (struct mem_range){ m->out, true, lin, (uint64_t)lin + size, rw, us, xd, m->count };
}

static void print_mem(struct monitor *mon, FILE *out)
{
    struct cpu *cpu = pc_cpu(mon->pc);
    struct paging_mode mode;
    cpu_paging_mode(cpu, &mode);
    if (!(mode.cr0 & CR0_PG)) {
        fprintf(out, "paging is off: every linear address is its physical address\n");
        return;
    }
    struct mem_range m = { .out = out };
    paging_for_each_mapping(pc_phys(mon->pc), &mode, mem_range_add, &m);
    mem_range_flush(&m);
    fprintf(out, "%u ranges (u: user, r: read, w: write for the user and for supervisor "
            "with CR0.WP, x: fetch)\n", m.count);
}

/* Why an access through a probed walk would fault, naming the level. */
static void fault_reason(const struct paging_mode *mode, const struct walk_report *r,
                         enum mem_access acc, bool user, char *buf, size_t len)
{
    unsigned first_rights = r->pae ? 1 : 0; /* a PAE PDPTE has no R/W or U/S */
    if (r->rsvd) {
        snprintf(buf, len, "reserved bit set in the %s", r->level[r->nlevels - 1].name);
        return;
    }
    if (!r->present) {
        snprintf(buf, len, "P clear in the %s", r->level[r->nlevels - 1].name);
        return;
    }
    for (unsigned i = first_rights; i < r->nlevels; i++) {
        if (user && !(r->level[i].value & 4)) {
            snprintf(buf, len, "U/S clear in the %s (supervisor page)", r->level[i].name);
            return;
        }
    }
    if (acc == ACCESS_WRITE) {
        for (unsigned i = first_rights; i < r->nlevels; i++) {
            if (!(r->level[i].value & 2)) {
                snprintf(buf, len, "R/W clear in the %s%s", r->level[i].name,
                         user ? "" : " and CR0.WP set");
                return;
            }
        }
    }
    if (acc == ACCESS_EXEC && mode->nxe) {
        for (unsigned i = first_rights; i < r->nlevels; i++) {
            if (r->level[i].value >> 63) {
                snprintf(buf, len, "XD set in the %s", r->level[i].name);
                return;
            }
        }
    }
    snprintf(buf, len, "(no reason found)");
}

static void cmd_walk(struct monitor *mon, const char *arg, FILE *out)
{
    struct cpu *cpu = pc_cpu(mon->pc);
    uint64_t a;
    if (!parse_address(cpu, arg, &a) || a > 0xffffffffu) {
        fprintf(out, "walk: expected a linear address, e.g. walk 0xc0000000\n");
        return;
    }
    uint32_t lin = (uint32_t)a;
    struct paging_mode mode;
    struct walk_report r;
    cpu_paging_mode(cpu, &mode);
    paging_probe(pc_phys(mon->pc), &mode, lin, &r);
    fprintf(out, "linear %08x: %s, CR3=%08x%s\n", lin,
            !r.paging ? "paging off" : r.pae ? "PAE paging" : "32-bit paging", cpu->cr3,
            (mode.cr0 & CR0_WP) ? " CR0.WP" : "");
    cpu_walk_print(out, "  ", &r);
    static const char *const acc_names[3] = { "read ", "write", "fetch" };
    for (int acc = 0; acc < 3; acc++) {
        fprintf(out, "  %s:", acc_names[acc]);
        for (int cpl = 0; cpl <= 3; cpl += 3) {
            uint32_t pf = paging_probe_fault(&mode, &r, (enum mem_access)acc, cpl == 3);
            if (!pf) {
                fprintf(out, " cpl%d ok%s", cpl, cpl == 0 ? "; " : "");
                continue;
            }
            char why[96];
            fault_reason(&mode, &r, (enum mem_access)acc, cpl == 3, why, sizeof(why));
            fprintf(out, " cpl%d #PF(%04x): %s%s", cpl, pf & ~PAGING_PROBE_FAULTS, why,
                    cpl == 0 ? "; " : "");
        }
        fputc('\n', out);
    }
}

/* ------------------------------------------------------------------ */
/* x, xp                                                               */
/* ------------------------------------------------------------------ */

/* Reads guest memory: linear (through the page tables, no fault) or
 * physical. Returns the bytes read (a linear read stops at a hole). */
static size_t mem_read(struct monitor *mon, bool phys, uint64_t addr, void *buf, size_t len)
{
    if (phys) {
        phys_read_buf(pc_phys(mon->pc), addr, buf, len);
        return len;
    }
    return cpu_debug_read(pc_cpu(mon->pc), (uint32_t)addr, buf, len);
}

/* The disassembly mode of the CPU's code now: 16-bit for real and v86
 * mode and 16-bit code segments. */
static bool code_is_32bit(struct cpu *cpu)
{
    return cpu->code32 && !(cpu->eflags & FL_VM) && (cpu->cr0 & CR0_PE);
}

/* Disassembles `count` instructions at addr; returns how many printed. */
static unsigned disassemble(struct monitor *mon, FILE *out, bool phys, uint64_t addr,
                            unsigned count)
{
    if (!mon->cs_ok) {
        fprintf(out, "the Capstone disassembler could not be opened\n");
        return 0;
    }
    struct cpu *cpu = pc_cpu(mon->pc);
    bool b32 = code_is_32bit(cpu);
    unsigned done = 0;
    while (done < count) {
        uint8_t bytes[16];
        size_t got = mem_read(mon, phys, addr, bytes, sizeof(bytes));
        if (got == 0) {
            fprintf(out, "%08" PRIx64 ": cannot access memory\n", addr);
            break;
        }
        cs_insn *insn;
        size_t n = cs_disasm(b32 ? mon->cs32 : mon->cs16, bytes, got, addr, 1, &insn);
        if (n == 0) {
            fprintf(out, "%08" PRIx64 ": %02x (not disassembled)\n", addr, bytes[0]);
            addr++;
        } else {
            char hex[48] = "";
            size_t h = 0;
            for (unsigned i = 0; i < insn->size && h + 4 < sizeof(hex); i++)
                h += (size_t)snprintf(hex + h, sizeof(hex) - h, "%02x ", insn->bytes[i]);
            fprintf(out, "%08" PRIx64 ": %-24s %s%s%s\n", addr, hex, insn->mnemonic,
                    insn->op_str[0] ? " " : "", insn->op_str);
            addr += insn->size;
            cs_free(insn, n);
        }
        done++;
    }
    return done;
}

static void cmd_x(struct monitor *mon, const char *cmd, const char *arg, FILE *out)
{
    bool phys = cmd[1] == 'p';
    unsigned count = 1, size = 4;
    char fmt = 'x';
    const char *f = strchr(cmd, '/');
    if (f) {
        f++;
        if (isdigit((unsigned char)*f)) {
            unsigned long n = strtoul(f, (char **)&f, 10);
            count = n > 0xffffffu ? 0xffffffu : (unsigned)n;
        }
        for (; *f; f++) {
            switch (*f) {
            case 'x': case 'd': case 'u': case 'o': case 'c': case 'i': fmt = *f; break;
            case 'b': size = 1; break;
            case 'h': size = 2; break;
            case 'w': size = 4; break;
            case 'g': size = 8; break;
            default:
                fprintf(out, "%s: unknown format letter '%c' (count, then x d u o c i, then "
                        "b h w g)\n", cmd, *f);
                return;
            }
        }
    }
    uint64_t addr;
    struct cpu *cpu = pc_cpu(mon->pc);
    if (!parse_address(cpu, arg, &addr) || addr > (phys ? 0xfffffffffull : 0xffffffffu)) {
        fprintf(out, "%s: expected an address (0x..., a number, $reg, $pc+N)\n", cmd);
        return;
    }
    if (count == 0)
        return;
    if (fmt == 'i') {
        if (count > X_MAX_INSNS) {
            fprintf(out, "(at most %u instructions)\n", X_MAX_INSNS);
            count = X_MAX_INSNS;
        }
        disassemble(mon, out, phys, addr, count);
        return;
    }
    if (fmt == 'c')
        size = 1;
    if (count > X_MAX_UNITS) {
        fprintf(out, "(at most %u values)\n", X_MAX_UNITS);
        count = X_MAX_UNITS;
    }
    size_t len = (size_t)count * size;
    uint8_t *buf = malloc(len);
    if (!buf) {
        fprintf(out, "out of memory\n");
        return;
    }
    size_t got = mem_read(mon, phys, addr, buf, len);
    unsigned per_line = fmt == 'c' ? 16 : 16 / size;
    for (unsigned i = 0; i < count; i++) {
        size_t off = (size_t)i * size;
        if (i % per_line == 0)
            fprintf(out, "%s%08" PRIx64 ":", i ? "\n" : "", addr + off);
        if (off + size > got) {
            fprintf(out, "\ncannot access memory at %08" PRIx64, addr + off);
            break;
        }
        uint64_t v = 0;
        memcpy(&v, buf + off, size); /* the host is little-endian, as the guest */
        switch (fmt) {
        case 'x': fprintf(out, " 0x%0*" PRIx64, (int)size * 2, v); break;
        case 'o': fprintf(out, " 0%" PRIo64, v); break;
        case 'u': fprintf(out, " %" PRIu64, v); break;
        case 'd': {
            int64_t s = size == 8 ? (int64_t)v : (int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size);
            fprintf(out, " %" PRId64, s);
            break;
        }
        case 'c': fprintf(out, isprint((int)v) ? " '%c'" : " \\x%02x", (int)v); break;
        }
    }
    fputc('\n', out);
    free(buf);
}

/* ------------------------------------------------------------------ */
/* Run control                                                         */
/* ------------------------------------------------------------------ */

/* Where the CPU is, and the instruction it will run next. */
static void print_where(struct monitor *mon, FILE *out)
{
    struct cpu *cpu = pc_cpu(mon->pc);
    fprintf(out, "%04x:%08x ", cpu->seg[SEG_CS].sel, cpu->eip);
    disassemble(mon, out, false, (uint32_t)(cpu->seg[SEG_CS].base + cpu->eip), 1);
}

static void cmd_step(struct monitor *mon, const char *arg, FILE *out)
{
    unsigned long n = 1;
    if (*arg) {
        char *end;
        n = strtoul(arg, &end, 0);
        if (end == arg || *end || n == 0 || n > STEP_MAX) {
            fprintf(out, "step: expected a count from 1 to %u\n", STEP_MAX);
            return;
        }
    }
    pc_pause(mon->pc);
    for (unsigned long i = 0; i < n; i++) {
        enum cpu_exit why = pc_debug_step(mon->pc);
        if (why == CPU_EXIT_HALT) {
            fprintf(out, "the CPU is halted (it waits for an interrupt: cont)\n");
            break;
        }
        if (why == CPU_EXIT_SHUTDOWN) {
            fprintf(out, "triple fault: the machine resets\n");
            return;
        }
        if (why == CPU_EXIT_DEBUG) {
            fprintf(out, "watchpoint hit at %08x\n", pc_cpu(mon->pc)->dbg.stop.addr);
            break;
        }
        if (pc_exit_requested(mon->pc, NULL))
            break;
    }
    print_where(mon, out);
}

static void cmd_sendkey(struct monitor *mon, const char *arg, FILE *out)
{
    int keys[SENDKEY_MAX_KEYS];
    unsigned n = 0;
    const char *p = arg;
    if (!*p) {
        fprintf(out, "sendkey: expected keys such as ctrl-alt-delete\n");
        return;
    }
    while (*p) {
        size_t len = strcspn(p, "-");
        int k = len ? key_usage(p, len) : -1;
        if (k < 0) {
            fprintf(out, "sendkey: unknown key '%.*s'\n", (int)(len > 32 ? 32 : len), p);
            return;
        }
        if (n == SENDKEY_MAX_KEYS) {
            fprintf(out, "sendkey: at most %d keys at once\n", SENDKEY_MAX_KEYS);
            return;
        }
        keys[n++] = k;
        p += len;
        if (*p == '-')
            p++;
    }
    /* Pressed in order, released in reverse, as fingers do. */
    for (unsigned i = 0; i < n; i++)
        pc_key_event(mon->pc, (unsigned)keys[i], true);
    for (unsigned i = n; i-- > 0;)
        pc_key_event(mon->pc, (unsigned)keys[i], false);
}

static void cmd_screendump(struct monitor *mon, const char *arg, FILE *out)
{
    if (!*arg) {
        fprintf(out, "screendump: expected a file name\n");
        return;
    }
    char err[256];
    int w, h;
    if (screendump(mon->pc, arg, &w, &h, err, sizeof(err)) != 0)
        fprintf(out, "screendump: %s\n", err);
    else
        fprintf(out, "screendump: %s, %dx%d\n", arg, w, h);
}

/* ------------------------------------------------------------------ */
/* The command table                                                   */
/* ------------------------------------------------------------------ */

static const char help_text[] =
    "help                    this list\n"
    "info registers          every register: general, EFLAGS, segments and their\n"
    "                        caches, CR0-CR4, GDTR/IDTR/LDTR/TR, DR0-DR7, x87\n"
    "info tlb                the softmmu TLB's valid entries\n"
    "info mem                mapped linear ranges and their rights (page tables)\n"
    "info pic|pit|pci|block  the devices' state\n"
    "info jit                the JIT's statistics\n"
    "walk ADDR               the page walk of a linear address, level by level,\n"
    "                        and why a read, write or fetch at CPL 0 and 3 faults\n"
    "x/FMT ADDR, xp/FMT ADDR memory at a linear/physical address; FMT is a count,\n"
    "                        a format (x d u o c i) and a size (b h w g): x/16xb,\n"
    "                        x/4xw, x/8i $pc; ADDR: 0x..., decimal, $reg, $pc+N\n"
    "stop, cont (c)          pause the CPU, run it again\n"
    "step [N] (s)            run N instructions (1) and show the next one\n"
    "screendump FILE         the display as a PNG\n"
    "sendkey KEYS            keys pressed together, e.g. ctrl-alt-delete\n"
    "system_reset            the reset button\n"
    "system_powerdown        the ACPI power button (the guest decides)\n"
    "quit (q)                end Glass\n";

static void cmd_info(struct monitor *mon, const char *arg, FILE *out)
{
    struct cpu *cpu = pc_cpu(mon->pc);
    if (!strcmp(arg, "registers") || !strcmp(arg, "r")) {
        monitor_print_registers(cpu, out);
    } else if (!strcmp(arg, "tlb")) {
        print_tlb(cpu, out);
    } else if (!strcmp(arg, "mem")) {
        print_mem(mon, out);
    } else if (!strcmp(arg, "pic")) {
        pc_print_info(mon->pc, PC_INFO_PIC, out);
    } else if (!strcmp(arg, "pit")) {
        pc_print_info(mon->pc, PC_INFO_PIT, out);
    } else if (!strcmp(arg, "pci")) {
        pc_print_info(mon->pc, PC_INFO_PCI, out);
    } else if (!strcmp(arg, "block")) {
        pc_print_info(mon->pc, PC_INFO_BLOCK, out);
    } else if (!strcmp(arg, "jit")) {
        if (!cpu->jit)
            fprintf(out, "the JIT has not run (-accel interp, or nothing ran yet)\n");
        cpu_exec_print_stats(cpu, out);
    } else {
        fprintf(out, "info: expected registers, tlb, mem, pic, pit, pci, block or jit\n");
    }
}

enum monitor_result monitor_execute(struct monitor *m, const char *line, FILE *out)
{
    char buf[MONITOR_LINE_MAX];
    size_t len = strlen(line);
    if (len >= sizeof(buf)) {
        fprintf(out, "the line is too long (at most %d characters)\n", MONITOR_LINE_MAX - 1);
        return MONITOR_OK;
    }
    memcpy(buf, line, len + 1);
    /* Trim; split the command word from its argument. */
    char *s = buf;
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    if (!*s)
        return MONITOR_OK;
    char *arg = s + strcspn(s, " \t");
    if (*arg) {
        *arg++ = '\0';
        while (isspace((unsigned char)*arg))
            arg++;
    }
    const char *cmd = s;
    if (!strcmp(cmd, "help") || !strcmp(cmd, "h") || !strcmp(cmd, "?")) {
        fputs(help_text, out);
    } else if (!strcmp(cmd, "info")) {
        cmd_info(m, arg, out);
    } else if (!strcmp(cmd, "walk")) {
        cmd_walk(m, arg, out);
    } else if (!strcmp(cmd, "x") || !strncmp(cmd, "x/", 2) || !strcmp(cmd, "xp") ||
               !strncmp(cmd, "xp/", 3)) {
        cmd_x(m, cmd, arg, out);
    } else if (!strcmp(cmd, "stop")) {
        pc_pause(m->pc);
        print_where(m, out);
    } else if (!strcmp(cmd, "cont") || !strcmp(cmd, "c")) {
        pc_resume(m->pc);
    } else if (!strcmp(cmd, "step") || !strcmp(cmd, "s")) {
        cmd_step(m, arg, out);
    } else if (!strcmp(cmd, "screendump")) {
        cmd_screendump(m, arg, out);
    } else if (!strcmp(cmd, "sendkey")) {
        cmd_sendkey(m, arg, out);
    } else if (!strcmp(cmd, "system_reset")) {
        pc_request_reset(m->pc);
    } else if (!strcmp(cmd, "system_powerdown")) {
        pc_power_button(m->pc);
    } else if (!strcmp(cmd, "quit") || !strcmp(cmd, "q")) {
        m->quit = true;
        return MONITOR_QUIT;
    } else {
        fprintf(out, "unknown command: '%.40s' (help lists them)\n", cmd);
    }
    return MONITOR_OK;
}

/* ------------------------------------------------------------------ */
/* Sessions: a line editor over a byte stream                          */
/* ------------------------------------------------------------------ */

#define MONITOR_PROMPT "(glass) "

struct monitor_session {
    struct monitor *mon;
    void (*write)(void *opaque, const void *buf, size_t len);
    void *opaque;
    bool echo;
    bool overflow; /* the line grew past its buffer: it is refused whole */
    char line[MONITOR_LINE_MAX];
    size_t len;
};

struct monitor_session *monitor_session_new(struct monitor *mon,
                                            void (*write)(void *, const void *, size_t),
                                            void *opaque, bool echo)
{
    struct monitor_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    *s = (struct monitor_session){ .mon = mon, .write = write, .opaque = opaque, .echo = echo };
    return s;
}

void monitor_session_free(struct monitor_session *s)
{
    free(s);
}

static void session_puts(struct monitor_session *s, const char *text)
{
    s->write(s->opaque, text, strlen(text));
}

void monitor_session_prompt(struct monitor_session *s)
{
    session_puts(s, MONITOR_PROMPT);
}

void monitor_session_print(struct monitor_session *s, const char *text)
{
    s->write(s->opaque, text, strlen(text));
}

/* Runs a line and sends its answer. */
static void session_run(struct monitor_session *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        session_puts(s, "out of memory\n");
        return;
    }
    if (s->overflow)
        fprintf(out, "the line is too long (at most %d characters)\n", MONITOR_LINE_MAX - 1);
    else
        monitor_execute(s->mon, s->line, out);
    fclose(out);
    s->write(s->opaque, text, len);
    free(text);
}

void monitor_session_input(struct monitor_session *s, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = buf[i];
        if (c == '\r' || c == '\n') {
            if (c == '\n' && i > 0 && buf[i - 1] == '\r')
                continue; /* CR LF is one end of line */
            if (s->echo)
                session_puts(s, "\n");
            s->line[s->len] = '\0';
            session_run(s);
            s->len = 0;
            s->overflow = false;
            if (monitor_quit_requested(s->mon))
                return;
            monitor_session_prompt(s);
        } else if (c == 0x7f || c == 0x08) {
            if (s->len > 0) {
                s->len--;
                if (s->echo)
                    session_puts(s, "\b \b");
            }
        } else if (c >= 0x20 && c < 0x7f) {
            if (s->len + 1 < sizeof(s->line)) {
                s->line[s->len++] = (char)c;
                if (s->echo)
                    s->write(s->opaque, &c, 1);
            } else {
                s->overflow = true;
            }
        }
        /* Other control bytes (escape sequences of arrow keys...) are
         * dropped: the line editor has no history. */
    }
}
