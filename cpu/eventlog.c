/*
 * cpu/eventlog.c — the log lines of -d mode and -d mmu, and the rules of
 * -d dfilter= and window= that every category follows. The formats are
 * documented in docs/traces.md; tools parse them, so they are stable.
 *
 * -d mode compares the mode after each instruction and each event with
 * the mode last seen (cpu->mode_logged), so the instruction that changed
 * the mode is the one that just ran: under -accel interp the careful path
 * runs every instruction while it is on (translate/exec.c); under the JIT
 * every instruction that can change the mode (a CR0 or CR4 write, LMSW,
 * far transfers, IRET, INT, SYSENTER, task switches) runs through its
 * handler (translate/jit/run.c jit_exec_insn), and the code between them
 * runs translated.
 */
#include <inttypes.h>

#include "cpu/internal.h"

bool cpu_log_wanted_at(const struct cpu *cpu, uint32_t lin)
{
    const struct log_filter *f = cpu->log_filter;
    if (!f)
        return true;
    if (cpu->icount < f->window_first || (f->window_end && cpu->icount >= f->window_end))
        return false;
    if (f->nranges == 0)
        return true;
    for (unsigned i = 0; i < f->nranges; i++)
        if (lin >= f->range[i].first && lin <= f->range[i].last)
            return true;
    return false;
}

bool cpu_log_wanted(const struct cpu *cpu)
{
    return cpu_log_wanted_at(cpu, cpu->seg[SEG_CS].base + cpu->eip);
}

bool cpu_log_in_window(const struct cpu *cpu)
{
    const struct log_filter *f = cpu->log_filter;
    return !f || (cpu->icount >= f->window_first && (!f->window_end || cpu->icount < f->window_end));
}

/* ------------------------------------------------------------------ */
/* -d mode                                                             */
/* ------------------------------------------------------------------ */

/* The signature's bits: the mode (PE, paging, PAE, VM) and the CPL. */
#define SIG_PE 0x01u
#define SIG_PG 0x02u
#define SIG_PAE 0x04u
#define SIG_VM 0x08u
#define SIG_CPL_SHIFT 4

uint32_t cpu_mode_signature(const struct cpu *cpu)
{
    uint32_t s = (uint32_t)cpu->cpl << SIG_CPL_SHIFT;
    if (cpu->cr0 & CR0_PE)
        s |= SIG_PE;
    if (cpu->cr0 & CR0_PG)
        s |= SIG_PG;
    if ((cpu->cr0 & CR0_PG) && (cpu->cr4 & CR4_PAE))
        s |= SIG_PAE;
    if ((cpu->cr0 & CR0_PE) && (cpu->eflags & FL_VM))
        s |= SIG_VM;
    return s;
}

/* "real", "protected", "protected+paging", "v86+PAE"... then the CPL. */
static void mode_name(uint32_t sig, char *buf, size_t len)
{
    const char *base = !(sig & SIG_PE) ? "real" : (sig & SIG_VM) ? "v86" : "protected";
    const char *paging = (sig & SIG_PAE) ? "+PAE" : (sig & SIG_PG) ? "+paging" : "";
    snprintf(buf, len, "%s%s cpl=%u", base, paging, (sig >> SIG_CPL_SHIFT) & 3);
}

void cpu_mode_log_check(struct cpu *cpu, uint16_t cs, uint32_t eip, uint32_t lin,
                        uint64_t icount, const char *by)
{
    uint32_t now = cpu_mode_signature(cpu);
    uint32_t before = cpu->mode_logged;
    cpu->mode_logged = now;
    /* The filter looks at where the instruction was, not where it went. */
    if (before == CPU_MODE_UNKNOWN || before == now || !cpu->log || !cpu_log_wanted_at(cpu, lin))
        return;
    char from[40], to[40];
    mode_name(before, from, sizeof(from));
    mode_name(now, to, sizeof(to));
    fprintf(cpu->log, "mode: %s -> %s at %04x:%08x by %s icount=%" PRIu64 "\n", from, to, cs,
            eip, by, icount);
}

void cpu_mode_log_insn(struct cpu *cpu, uint16_t cs, uint32_t eip, uint32_t lin,
                       const struct insn *in, const uint8_t *bytes, uint64_t icount)
{
    if (cpu_mode_signature(cpu) == cpu->mode_logged)
        return;
    char by[96];
    int n = snprintf(by, sizeof(by), "%s (", op_name((enum op)in->op));
    for (unsigned i = 0; i < in->len && n > 0 && (size_t)n + 4 < sizeof(by); i++)
        n += snprintf(by + n, sizeof(by) - (size_t)n, "%s%02x", i ? " " : "", bytes[i]);
    if (n > 0 && (size_t)n + 2 < sizeof(by))
        snprintf(by + n, sizeof(by) - (size_t)n, ")");
    cpu_mode_log_check(cpu, cs, eip, lin, icount, by);
}

/* ------------------------------------------------------------------ */
/* -d mmu                                                              */
/* ------------------------------------------------------------------ */

/* An entry's flags, as the SDM's tables name them (4-4..4-11). */
static void entry_flags(uint64_t e, bool pae, char *buf, size_t len)
{
    static const struct { uint64_t bit; const char *name; } names[] = {
        { 1u << 0, "P" }, { 1u << 1, "RW" }, { 1u << 2, "US" }, { 1u << 3, "PWT" },
        { 1u << 4, "PCD" }, { 1u << 5, "A" }, { 1u << 6, "D" }, { 1u << 7, "PS" },
        { 1u << 8, "G" },
    };
    size_t n = 0;
    buf[0] = '\0';
    if (!(e & 1)) {
        snprintf(buf, len, "not present");
        return;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if ((e & names[i].bit) && n < len)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", names[i].name);
    if (pae && (e >> 63) && n < len)
        snprintf(buf + n, len - n, " XD");
}

void cpu_walk_print(FILE *f, const char *prefix, const struct walk_report *r)
{
    if (!r->paging) {
        fprintf(f, "%spaging off: physical = linear\n", prefix);
        return;
    }
    for (unsigned i = 0; i < r->nlevels; i++) {
        const struct walk_level *l = &r->level[i];
        char flags[64];
        entry_flags(l->value, r->pae, flags, sizeof(flags));
        fprintf(f, "%s%-5s @%09" PRIx64 " = %0*" PRIx64 " [%s]\n", prefix, l->name, l->addr,
                r->pae ? 16 : 8, l->value, flags);
    }
    if (r->rsvd)
        fprintf(f, "%sreserved bit set in the last entry\n", prefix);
    else if (r->present)
        fprintf(f, "%s-> physical %09" PRIx64 " (%u KiB page)\n", prefix, r->paddr,
                r->page_size >> 10);
}

void cpu_pf_error_text(uint32_t err, char *buf, size_t len)
{
    snprintf(buf, len, "%s, %s, %s%s%s", (err & PFERR_P) ? "protection" : "not present",
             (err & PFERR_I) ? "fetch" : (err & PFERR_W) ? "write" : "read",
             (err & PFERR_U) ? "user" : "supervisor", (err & PFERR_RSVD) ? ", reserved bit" : "",
             "");
}

void cpu_mmu_log_fault(struct cpu *cpu)
{
    if (!cpu->log || !cpu_log_wanted(cpu))
        return;
    char why[80];
    cpu_pf_error_text(cpu->exc_error, why, sizeof(why));
    fprintf(cpu->log, "mmu: #PF at %04x:%08x cr2=%08x err=%04x (%s) icount=%" PRIu64 "\n",
            cpu->seg[SEG_CS].sel, cpu->eip, cpu->cr2, cpu->exc_error, why, cpu->icount);
    struct paging_mode mode;
    struct walk_report r;
    cpu_paging_mode(cpu, &mode);
    paging_probe(cpu->bus.mem, &mode, cpu->cr2, &r);
    cpu_walk_print(cpu->log, "mmu:   ", &r);
}
