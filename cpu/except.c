/*
 * cpu/except.c — raising exceptions and delivering exceptions and
 * interrupts through the IVT (real mode), the IDT (protected and v86
 * mode) or the v86 task's own IVT (CR4.VME redirection).
 *
 * Flow: a handler calls cpu_raise(), which records the event in struct
 * cpu and longjmps to the execution loop; the loop calls
 * cpu_deliver_pending(), which applies the double-fault rules (SDM Vol. 3A
 * 6.15, Tables 6-4 and 6-5) and calls the delivery code. A fault during
 * delivery raises again and comes back to cpu_deliver_pending() with
 * exc_delivering still naming the event that was being delivered.
 *
 * Every delivery path first does all checks that can fault, then writes
 * the stack frame (which can still #PF; only bytes below the stack pointer
 * are touched then), and only then commits registers, so a faulting
 * delivery leaves the architectural state as it was (SDM 6.6).
 */
#include <stdlib.h>

#include "cpu/internal.h"

/* exc_delivering while a software interrupt or an external interrupt is
 * delivered: these are "benign" for the #DF rules whatever their vector
 * (Table 6-4 lists INT n and INTR among the benign events). */
#define DELIVERING_BENIGN_EVENT 256
/* exc_soft value: INT n in v86 mode redirected to the v86 task's IVT
 * (CR4.VME, SDM 20.3.3 methods 5 and 6). */
#define SOFT_V86_REDIRECT 2

/* How the event came about, for logging and for the RF rule. */
enum event_kind { EV_FAULT, EV_TRAP, EV_SOFT, EV_EXTINT, EV_NMI };
static const char *const event_kind_name[] = {
    [EV_FAULT] = "fault", [EV_TRAP] = "trap", [EV_SOFT] = "soft",
    [EV_EXTINT] = "extint", [EV_NMI] = "nmi",
};

/* Exceptions that push an error code (SDM Vol. 3A 6.13, Table 6-1):
 * #DF, #TS, #NP, #SS, #GP, #PF, #AC. */
static bool vector_has_error(int vector)
{
    switch (vector) {
    case EXC_DF: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP: case EXC_PF: case EXC_AC:
        return true;
    default:
        return false;
    }
}

/* The selector-format error codes whose bit 0 is EXT (SDM 6.13). #PF's
 * bit 0 means "present", #DF and #AC always push 0. */
static bool error_has_ext_bit(int vector)
{
    return vector == EXC_TS || vector == EXC_NP || vector == EXC_SS || vector == EXC_GP;
}

/* Contributory exceptions (SDM Table 6-4). */
static bool is_contributory(int vector)
{
    return vector == EXC_DE || vector == EXC_TS || vector == EXC_NP || vector == EXC_SS ||
           vector == EXC_GP;
}

/* Faults proper (SDM Table 6-1 "Type" column): the only events whose
 * pushed EFLAGS image gets RF set (SDM 17.3.1.1). #DB is left out: its
 * fault form is the instruction breakpoint, which the rule excludes, and
 * its trap form is not a fault. #DF and #MC are aborts. */
static bool is_fault_vector(int vector)
{
    switch (vector) {
    case EXC_DE: case EXC_BR: case EXC_UD: case EXC_NM: case EXC_TS: case EXC_NP:
    case EXC_SS: case EXC_GP: case EXC_PF: case EXC_MF: case EXC_AC: case EXC_XM:
        return true;
    default:
        return false;
    }
}

static inline bool v86_mode(const struct cpu *cpu)
{
    return (cpu->cr0 & CR0_PE) && (cpu->eflags & FL_VM);
}

static inline unsigned iopl(const struct cpu *cpu)
{
    return (cpu->eflags & FL_IOPL) >> FL_IOPL_SHIFT;
}

/* ------------------------------------------------------------------ */
/* Raising                                                             */
/* ------------------------------------------------------------------ */

_Noreturn static void unwind(struct cpu *cpu)
{
    if (!cpu->fault_jmp) {
        /* Only the execution loop (or a test) may run code that faults;
         * reaching here is a bug in Glass, not something a guest does. */
        fprintf(stderr, "glass: exception %d raised with no fault handler (cs:eip=%04x:%08x)\n",
                cpu->exc_vector, cpu->seg[SEG_CS].sel, cpu->eip);
        abort();
    }
    longjmp(*cpu->fault_jmp, 1);
}

_Noreturn void cpu_raise(struct cpu *cpu, int vector, uint32_t error)
{
    cpu->exc_vector = (int16_t)(vector & 0xff);
    cpu->exc_has_error = vector_has_error(vector);
    cpu->exc_error = cpu->exc_has_error ? error : 0;
    /* EXT (SDM 6.13): set when the fault happened while delivering an
     * event external to the program — a hardware interrupt or an earlier
     * exception — and clear while delivering INT n, INT3 or INTO. */
    if (cpu->exc_has_error && error_has_ext_bit(vector) && cpu->exc_delivering >= 0 &&
        !cpu->exc_soft)
        cpu->exc_error |= 1;
    cpu->exc_soft = 0;
    unwind(cpu);
}

_Noreturn void cpu_raise_pf(struct cpu *cpu, uint32_t lin, uint32_t error)
{
    cpu->cr2 = lin;
    cpu_raise(cpu, EXC_PF, error);
}

/*
 * Reads the bit of `vector` in the software interrupt redirection bitmap:
 * the 32 bytes just below the I/O permission bitmap of the (32-bit) TSS
 * (SDM Vol. 3A 20.3.3, Figure 20-5). A bitmap beyond the TSS limit
 * raises #GP(0), as for an I/O bitmap read.
 */
static bool v86_redirect_bit(struct cpu *cpu, int vector)
{
    if (!(cpu->tr.ar & AR_P) || cpu->tr.limit < 0x67)
        cpu_raise(cpu, EXC_GP, 0);
    uint32_t io_base = cpu_lin_read(cpu, cpu->tr.base + 0x66, 2, true);
    uint32_t off = io_base + (uint32_t)vector / 8u - 32u;
    if (io_base < 32 || off > cpu->tr.limit)
        cpu_raise(cpu, EXC_GP, 0);
    uint32_t byte = cpu_lin_read(cpu, cpu->tr.base + off, 1, true);
    return (byte >> (vector & 7)) & 1;
}

_Noreturn void cpu_raise_int(struct cpu *cpu, int vector, enum int_source src)
{
    vector &= 0xff;
    cpu->exc_soft = 1;
    if (src == INT_ICEBP) {
        /* INT1 acts like a hardware #DB trap: no gate DPL check, EXT set
         * on nested faults, return point after the instruction (which is
         * therefore complete). */
        cpu->eip = cpu->next_eip;
        cpu->exc_soft = 0;
    } else if (src == INT_SOFT_N && v86_mode(cpu)) {
        /* SDM Table 20-2: INT n in v86 mode. */
        if (cpu->cr4 & CR4_VME) {
            if (!v86_redirect_bit(cpu, vector))
                cpu->exc_soft = SOFT_V86_REDIRECT; /* methods 5 and 6 */
            else if (iopl(cpu) < 3)
                cpu_raise(cpu, EXC_GP, 0);          /* method 3 */
            /* else method 4: protected-mode handler */
        } else if (iopl(cpu) < 3) {
            cpu_raise(cpu, EXC_GP, 0);              /* method 2 */
        }
        /* else method 1: protected-mode handler */
    }
    cpu->exc_vector = (int16_t)vector;
    cpu->exc_has_error = 0;
    cpu->exc_error = 0;
    unwind(cpu);
}

/* ------------------------------------------------------------------ */
/* Stack frames                                                        */
/* ------------------------------------------------------------------ */

/*
 * A stack frame planned in full before any byte is written: every push's
 * offset is checked against the stack segment's limit first (raising
 * #SS(ss_error)), then the values are written, then the caller commits.
 */
#define FRAME_MAX 12
struct frame {
    uint32_t base, limit, ar; /* the stack segment's cache */
    uint32_t sp;              /* the full ESP value, updated per push */
    bool big;                 /* B bit: ESP (else SP) is the pointer */
    bool sys;                 /* supervisor access whatever the CPL */
    uint32_t ss_error;
    unsigned n;
    uint32_t off[FRAME_MAX], val[FRAME_MAX];
    uint8_t width[FRAME_MAX];
};

static void frame_init(struct frame *f, const struct seg *ss, uint32_t esp, bool sys,
                       uint32_t ss_error)
{
    f->base = ss->base;
    f->limit = ss->limit;
    f->ar = ss->ar;
    f->sp = esp;
    f->big = (ss->ar & AR_DB) != 0;
    f->sys = sys;
    f->ss_error = ss_error;
    f->n = 0;
}

/* Same limit rule as cpu/mem.c's segment check (SDM 5.3), expand-down
 * stacks included. */
static bool stack_offset_ok(const struct frame *f, uint32_t off, unsigned size)
{
    uint32_t last = off + size - 1;
    if ((f->ar & (AR_S | AR_T_CODE | AR_T_EXPDOWN)) == (AR_S | AR_T_EXPDOWN)) {
        uint32_t upper = (f->ar & AR_DB) ? 0xffffffffu : 0xffffu;
        return off > f->limit && last <= upper && last >= off;
    }
    return last <= f->limit && last >= off;
}

static void frame_push(struct cpu *cpu, struct frame *f, uint32_t val, unsigned width)
{
    if (f->n >= FRAME_MAX)
        abort(); /* a bug in a caller: frames have a fixed maximum */
    uint32_t sp = f->big ? f->sp - width : (f->sp & 0xffff0000u) | ((f->sp - width) & 0xffffu);
    uint32_t off = f->big ? sp : sp & 0xffff;
    if (!stack_offset_ok(f, off, width))
        cpu_raise(cpu, EXC_SS, f->ss_error);
    f->sp = sp;
    f->off[f->n] = off;
    f->val[f->n] = val;
    f->width[f->n] = (uint8_t)width;
    f->n++;
}

static void frame_write(struct cpu *cpu, const struct frame *f)
{
    for (unsigned i = 0; i < f->n; i++)
        cpu_lin_write(cpu, f->base + f->off[i], f->val[i], f->width[i], f->sys);
}

/* ------------------------------------------------------------------ */
/* Real mode and v86 redirection                                       */
/* ------------------------------------------------------------------ */

/* Common tail of the two IVT paths: push FLAGS, CS, IP (SDM INT n
 * pseudocode, REAL-ADDRESS-MODE), then load CS:IP from the vector. */
static void ivt_deliver(struct cpu *cpu, uint32_t ivt_entry, uint16_t flags_image,
                        uint32_t return_eip, bool sys)
{
    uint32_t target = cpu_lin_read(cpu, ivt_entry, 4, sys);
    struct frame f;
    frame_init(&f, &cpu->seg[SEG_SS], cpu->regs[R_ESP], false, 0);
    frame_push(cpu, &f, flags_image, 2);
    frame_push(cpu, &f, cpu->seg[SEG_CS].sel, 2);
    frame_push(cpu, &f, return_eip & 0xffff, 2);
    frame_write(cpu, &f);

    cpu->regs[R_ESP] = f.sp;
    uint16_t cs = (uint16_t)(target >> 16);
    cpu->seg[SEG_CS].sel = cs;
    cpu->seg[SEG_CS].base = (uint32_t)cs << 4;
    cpu->eip = target & 0xffff;
    cpu->next_eip = cpu->eip;
}

static void real_mode_deliver(struct cpu *cpu, int vector, uint32_t return_eip)
{
    /* The IVT entry must lie within IDTR.limit (SDM 20.1.4); no error
     * codes are pushed in real mode. */
    if ((uint32_t)vector * 4 + 3 > cpu->idtr.limit)
        cpu_raise(cpu, EXC_GP, 0);
    uint16_t fl = (uint16_t)cpu_get_eflags(cpu);
    ivt_deliver(cpu, cpu->idtr.base + (uint32_t)vector * 4, fl, return_eip, true);
    cpu->eflags &= ~(FL_IF | FL_TF | FL_AC);
}

/*
 * INT n redirected to the v86 task's interrupt table at linear 0 (SDM
 * 20.3.3.4 method 5: IOPL = 3; method 6: IOPL < 3 with virtual interrupt
 * flag: the FLAGS image carries IF = VIF and IOPL = 3, and VIF is cleared
 * instead of IF).
 */
static void v86_redirect_deliver(struct cpu *cpu, int vector, uint32_t return_eip)
{
    uint32_t fl = cpu_get_eflags(cpu);
    uint16_t image = (uint16_t)fl;
    bool method6 = iopl(cpu) < 3;
    if (method6) {
        image = (uint16_t)((image & ~FL_IF) | (fl & FL_VIF ? FL_IF : 0));
        image |= FL_IOPL;
    }
    /* The v86 task's own table is read at CPL 3, through its paging. */
    ivt_deliver(cpu, (uint32_t)vector * 4, image, return_eip, false);
    cpu->eflags &= ~(FL_TF | (method6 ? FL_VIF : FL_IF));
}

/* ------------------------------------------------------------------ */
/* Protected mode (SDM Vol. 3A 6.10-6.12, INT n pseudocode)            */
/* ------------------------------------------------------------------ */

enum {
    GATE_TASK = 0x5,
    GATE_INT16 = 0x6,
    GATE_TRAP16 = 0x7,
    GATE_INT32 = 0xe,
    GATE_TRAP32 = 0xf,
};

/* Reads the stack of privilege `dpl` from the current TSS (SDM 7.2.1,
 * Figures 7-2 and 7-11), raising #TS(TR) if it lies beyond the TSS. */
static void tss_stack(struct cpu *cpu, unsigned dpl, uint16_t *ss, uint32_t *esp)
{
    bool tss32 = AR_TYPE(cpu->tr.ar) & 8;
    uint32_t off = tss32 ? 4 + 8 * dpl : 2 + 4 * dpl;
    uint32_t size = tss32 ? 8 : 4;
    if (off + size - 1 > cpu->tr.limit)
        cpu_raise(cpu, EXC_TS, cpu->tr.sel & 0xfffc);
    if (tss32) {
        *esp = cpu_lin_read(cpu, cpu->tr.base + off, 4, true);
        *ss = (uint16_t)cpu_lin_read(cpu, cpu->tr.base + off + 4, 2, true);
    } else {
        *esp = cpu_lin_read(cpu, cpu->tr.base + off, 2, true);
        *ss = (uint16_t)cpu_lin_read(cpu, cpu->tr.base + off + 2, 2, true);
    }
}

static void protected_deliver(struct cpu *cpu, int vector, bool has_error, uint32_t error,
                              uint32_t return_eip, enum event_kind kind)
{
    const uint32_t idt_error = (uint32_t)vector * 8 + 2; /* IDT bit set */
    bool soft = kind == EV_SOFT;
    bool from_v86 = (cpu->eflags & FL_VM) != 0;

    if ((uint32_t)vector * 8 + 7 > cpu->idtr.limit)
        cpu_raise(cpu, EXC_GP, idt_error);
    uint32_t gate_addr = cpu->idtr.base + (uint32_t)vector * 8;
    struct desc gate = { cpu_lin_read(cpu, gate_addr, 4, true),
                         cpu_lin_read(cpu, gate_addr + 4, 4, true) };
    unsigned gate_type = (gate.hi >> 8) & 0x1f; /* S bit included: must be 0 */
    if (gate_type != GATE_TASK && gate_type != GATE_INT16 && gate_type != GATE_TRAP16 &&
        gate_type != GATE_INT32 && gate_type != GATE_TRAP32)
        cpu_raise(cpu, EXC_GP, idt_error);
    /* Software interrupts may only use gates at or below their privilege
     * (SDM 6.12.1.1); hardware events and INT1 skip the check. */
    if (soft && ((gate.hi >> 13) & 3) < cpu->cpl)
        cpu_raise(cpu, EXC_GP, idt_error);
    if (!(gate.hi & (1u << 15)))
        cpu_raise(cpu, EXC_NP, idt_error);

    uint16_t sel = (uint16_t)(gate.lo >> 16);

    if (gate_type == GATE_TASK) {
        /* Task gate (SDM 6.12.2): the TSS selector must name an available
         * TSS in the GDT. */
        if (sel & 4)
            cpu_raise(cpu, EXC_GP, sel & 0xfffc);
        struct desc tss = desc_fetch(cpu, sel, EXC_GP);
        unsigned t = (tss.hi >> 8) & 0x1f;
        if (t != 0x1 && t != 0x9)
            cpu_raise(cpu, EXC_GP, sel & 0xfffc);
        if (!(tss.hi & (1u << 15)))
            cpu_raise(cpu, EXC_NP, sel & 0xfffc);
        /* The outgoing task saves the return point. The switch leaves the
         * new task's EIP in next_eip, as for an instruction handler (JMP,
         * CALL); delivery happens outside any handler, so make it current. */
        cpu->next_eip = return_eip;
        cpu_task_switch(cpu, sel, tss, TS_INT, has_error, error, return_eip);
        cpu->eip = cpu->next_eip;
        return;
    }

    bool gate32 = gate_type & 8;
    bool int_gate = (gate_type & 1) == 0;
    unsigned w = gate32 ? 4 : 2;
    uint32_t offset = gate32 ? (gate.lo & 0xffff) | (gate.hi & 0xffff0000u) : gate.lo & 0xffff;

    /* Target code segment (SDM INT n pseudocode, PROTECTED-MODE). */
    if ((sel & 0xfffc) == 0)
        cpu_raise(cpu, EXC_GP, 0);
    struct desc cs_desc = desc_fetch(cpu, sel, EXC_GP);
    uint32_t cs_ar = desc_ar(cs_desc);
    unsigned dpl = AR_DPL(cs_ar);
    if (!(cs_ar & AR_S) || !(cs_ar & AR_T_CODE) || dpl > cpu->cpl)
        cpu_raise(cpu, EXC_GP, sel & 0xfffc);
    if (!(cs_ar & AR_P))
        cpu_raise(cpu, EXC_NP, sel & 0xfffc);

    bool inner = !(cs_ar & AR_T_CONFORM) && dpl < cpu->cpl;
    if (from_v86 && !(inner && dpl == 0))
        /* From v86 mode only a DPL-0 non-conforming handler is allowed
         * (SDM 20.3.1.1). */
        cpu_raise(cpu, EXC_GP, sel & 0xfffc);
    unsigned new_cpl = inner ? dpl : cpu->cpl;

    if (offset > desc_limit(cs_desc))
        cpu_raise(cpu, EXC_GP, 0);

    uint32_t eflags = cpu_get_eflags(cpu);
    /* Faults push RF = 1 so that IRET back to the faulting instruction
     * does not re-trigger an instruction breakpoint (SDM 17.3.1.1). */
    if (kind == EV_FAULT && is_fault_vector(vector))
        eflags |= FL_RF;

    struct frame f;
    struct seg new_ss;
    uint16_t new_ss_sel = 0;
    struct desc ss_desc = {0, 0};
    if (inner) {
        uint32_t new_esp;
        tss_stack(cpu, new_cpl, &new_ss_sel, &new_esp);
        /* New stack checks (SDM INT n pseudocode, INTER-PRIVILEGE-LEVEL). */
        if ((new_ss_sel & 0xfffc) == 0)
            cpu_raise(cpu, EXC_TS, 0);
        ss_desc = desc_fetch(cpu, new_ss_sel, EXC_TS);
        uint32_t ss_ar = desc_ar(ss_desc);
        if ((new_ss_sel & 3) != new_cpl || AR_DPL(ss_ar) != new_cpl || !(ss_ar & AR_S) ||
            (ss_ar & AR_T_CODE) || !(ss_ar & AR_T_WRITABLE))
            cpu_raise(cpu, EXC_TS, new_ss_sel & 0xfffc);
        if (!(ss_ar & AR_P))
            cpu_raise(cpu, EXC_SS, new_ss_sel & 0xfffc);
        seg_from_desc(&new_ss, new_ss_sel, ss_desc);
        frame_init(&f, &new_ss, new_esp, true, new_ss_sel & 0xfffc);
        if (from_v86) {
            frame_push(cpu, &f, cpu->seg[SEG_GS].sel, w);
            frame_push(cpu, &f, cpu->seg[SEG_FS].sel, w);
            frame_push(cpu, &f, cpu->seg[SEG_DS].sel, w);
            frame_push(cpu, &f, cpu->seg[SEG_ES].sel, w);
        }
        frame_push(cpu, &f, cpu->seg[SEG_SS].sel, w);
        frame_push(cpu, &f, cpu->regs[R_ESP], w);
    } else {
        frame_init(&f, &cpu->seg[SEG_SS], cpu->regs[R_ESP], false, 0);
    }
    frame_push(cpu, &f, eflags, w);
    frame_push(cpu, &f, cpu->seg[SEG_CS].sel, w);
    frame_push(cpu, &f, return_eip, w);
    if (has_error)
        frame_push(cpu, &f, error, w);

    /* Everything checked: set accessed bits, write, commit. */
    desc_set_accessed(cpu, sel, &cs_desc);
    if (inner)
        desc_set_accessed(cpu, new_ss_sel, &ss_desc);
    frame_write(cpu, &f);

    if (inner) {
        seg_from_desc(&cpu->seg[SEG_SS], new_ss_sel, ss_desc);
        if (from_v86) {
            /* The v86 selectors are meaningless in protected mode: the
             * handler sees null (unusable) data segments. */
            static const int data_segs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
            for (unsigned i = 0; i < 4; i++)
                cpu->seg[data_segs[i]] = (struct seg){ .sel = 0, .base = 0, .limit = 0, .ar = 0 };
        }
    }
    cpu->regs[R_ESP] = f.sp;
    seg_from_desc(&cpu->seg[SEG_CS], (uint16_t)((sel & 0xfffc) | new_cpl), cs_desc);
    cpu->eip = offset;
    cpu->next_eip = offset;
    cpu->eflags &= ~(FL_TF | FL_NT | FL_RF | FL_VM);
    if (int_gate)
        cpu->eflags &= ~FL_IF;
    cpu_mode_changed(cpu);
}

/* ------------------------------------------------------------------ */
/* Delivery                                                            */
/* ------------------------------------------------------------------ */

static void log_event(struct cpu *cpu, int vector, bool has_error, uint32_t error,
                      enum event_kind kind)
{
    if (!(cpu->log_mask & LOG_INT) || !cpu->log || !cpu_log_wanted(cpu))
        return;
    if (has_error)
        fprintf(cpu->log, "int: vec=%02x err=%04x cs:eip=%04x:%08x cr2=%08x (%s)\n", vector,
                error, cpu->seg[SEG_CS].sel, cpu->eip, cpu->cr2, event_kind_name[kind]);
    else
        fprintf(cpu->log, "int: vec=%02x err=---- cs:eip=%04x:%08x cr2=%08x (%s)\n", vector,
                cpu->seg[SEG_CS].sel, cpu->eip, cpu->cr2, event_kind_name[kind]);
}

static void deliver_event(struct cpu *cpu, int vector, bool has_error, uint32_t error,
                          uint32_t return_eip, enum event_kind kind)
{
    vector &= 0xff;
    log_event(cpu, vector, has_error, error, kind);
    /* Remember what is being delivered so that a fault during delivery
     * can apply the #DF rules and the EXT bit. */
    bool benign_event = kind == EV_SOFT || kind == EV_EXTINT;
    cpu->exc_delivering = (int16_t)(benign_event ? DELIVERING_BENIGN_EVENT : vector);
    cpu->exc_soft = kind == EV_SOFT;

    if (!(cpu->cr0 & CR0_PE))
        real_mode_deliver(cpu, vector, return_eip);
    else
        protected_deliver(cpu, vector, has_error, error, return_eip, kind);

    cpu->exc_delivering = -1;
    cpu->exc_soft = 0;
    cpu->halted = 0;
}

void cpu_interrupt(struct cpu *cpu, int vector, bool has_error, uint32_t error,
                   uint32_t return_eip, bool soft, bool external)
{
    enum event_kind kind = soft ? EV_SOFT : external ? EV_EXTINT
                           : vector == EXC_DB ? EV_TRAP : EV_FAULT;
    deliver_event(cpu, vector, has_error, error, return_eip, kind);
}

bool cpu_deliver_pending(struct cpu *cpu)
{
    int vector = cpu->exc_vector;
    if (vector < 0)
        return true; /* nothing recorded: a spurious unwind */
    unsigned soft = cpu->exc_soft;
    bool has_error = cpu->exc_has_error;
    uint32_t error = cpu->exc_error;
    cpu->exc_vector = -1;

    int prev = cpu->exc_delivering;
    if (prev >= 0 && !soft) {
        /* A fault while delivering an earlier event (SDM Table 6-5). */
        if (prev == EXC_DF) {
            if ((cpu->log_mask & LOG_INT) && cpu->log)
                fprintf(cpu->log, "int: triple fault (vec=%02x while delivering #DF)\n", vector);
            cpu->exc_delivering = -1;
            cpu->exc_soft = 0;
            return false;
        }
        bool second_pf_or_contrib = is_contributory(vector) || vector == EXC_PF;
        if ((is_contributory(prev) && is_contributory(vector)) ||
            (prev == EXC_PF && second_pf_or_contrib)) {
            vector = EXC_DF;
            has_error = true;
            error = 0;
        }
    }

    if (soft == SOFT_V86_REDIRECT) {
        log_event(cpu, vector, false, 0, EV_SOFT);
        cpu->exc_delivering = DELIVERING_BENIGN_EVENT;
        cpu->exc_soft = 1;
        v86_redirect_deliver(cpu, vector, cpu->next_eip);
        cpu->exc_delivering = -1;
        cpu->exc_soft = 0;
        return true;
    }
    if (soft)
        deliver_event(cpu, vector, false, 0, cpu->next_eip, EV_SOFT);
    else
        deliver_event(cpu, vector, has_error, error, cpu->eip,
                      vector == EXC_DB ? EV_TRAP : EV_FAULT);
    /* Debug traps a MOV SS / POP SS held for this instruction. */
    if (cpu->dr6_held)
        cpu_debug_after_event(cpu, vector);
    return true;
}

bool cpu_service_interrupts(struct cpu *cpu)
{
    /* The shadow after STI, MOV SS and POP SS blocks NMI and INTR for one
     * instruction (SDM 6.8.3). */
    if (cpu->inhibit_irq)
        return false;
    if (cpu->nmi_pending && !cpu->nmi_blocked) {
        /* NMI blocks further NMIs until the next IRET (SDM 6.7.1). */
        cpu->nmi_pending = 0;
        cpu->nmi_blocked = 1;
        cpu->halted = 0;
        deliver_event(cpu, EXC_NMI, false, 0, cpu->eip, EV_NMI);
        return true;
    }
    if (cpu->intr && (cpu->eflags & FL_IF) && cpu->bus.intr_ack) {
        int vector = cpu->bus.intr_ack(cpu->bus.opaque) & 0xff;
        cpu->halted = 0;
        deliver_event(cpu, vector, false, 0, cpu->eip, EV_EXTINT);
        return true;
    }
    return false;
}
