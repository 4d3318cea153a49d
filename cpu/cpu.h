/*
 * cpu/ — the IA-32 CPU: its state and the semantics of every instruction,
 * shared by the interpreter and (later) by the JIT's helpers.
 *
 * This header is the folder's one public header. It declares struct cpu
 * (all architectural state), struct insn (one decoded instruction, filled
 * by translate/decode.c) and the small API a board or a test uses to build
 * and drive a CPU without a PC around it.
 *
 * cpu/ never includes hw/ or translate/: the board reaches it through the
 * callbacks in struct cpu_bus.
 */
#ifndef GLASS_CPU_H
#define GLASS_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "memory/memory.h"

/* ------------------------------------------------------------------ */
/* Registers                                                           */
/* ------------------------------------------------------------------ */

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
/* Segment registers, in their ModRM/opcode encoding order. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT, SEG_NONE = 7 };

/* EFLAGS bits (SDM Vol. 1, 3.4.3). */
#define FL_CF (1u << 0)
#define FL_FIXED1 (1u << 1) /* always reads 1 */
#define FL_PF (1u << 2)
#define FL_AF (1u << 4)
#define FL_ZF (1u << 6)
#define FL_SF (1u << 7)
#define FL_TF (1u << 8)
#define FL_IF (1u << 9)
#define FL_DF (1u << 10)
#define FL_OF (1u << 11)
#define FL_IOPL (3u << 12)
#define FL_IOPL_SHIFT 12
#define FL_NT (1u << 14)
#define FL_RF (1u << 16)
#define FL_VM (1u << 17)
#define FL_AC (1u << 18)
#define FL_VIF (1u << 19)
#define FL_VIP (1u << 20)
#define FL_ID (1u << 21)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/*
 * Lazy arithmetic flags. Most ALU instructions record their operands and
 * result here instead of computing six flag bits; the bits are computed
 * only when something reads them (Jcc, PUSHF, ADC, ...). While
 * cc.op == CC_EAGER the six bits live in cpu->eflags itself.
 */
enum cc_op {
    CC_EAGER = 0,
    CC_ADD,   /* res = src1 + src2 */
    CC_ADC,   /* res = src1 + src2 + carry_in; carry_in in cc.aux */
    CC_SUB,   /* res = src1 - src2 (also CMP, NEG with src1 = 0) */
    CC_SBB,   /* res = src1 - src2 - borrow_in; borrow_in in cc.aux */
    CC_LOGIC, /* AND/OR/XOR/TEST: CF = OF = 0, AF = 0 */
    CC_INC,   /* res = src1 + 1; CF is kept: previous CF in cc.aux */
    CC_DEC,   /* res = src1 - 1; CF is kept: previous CF in cc.aux */
    CC_HOST,  /* res holds the host's LAHF image (SF ZF 0 AF 0 PF 1 CF) in
                 bits 8-15 and OF in bit 0 (SETO), the rest undefined: how
                 the JIT saves the host's own flags (cc_host_bits) */
    CC_COUNT
};

struct lazy_flags {
    uint32_t res, src1, src2;
    uint32_t aux;
    uint8_t op;    /* enum cc_op */
    uint8_t width; /* 1, 2 or 4 bytes */
};

/*
 * A segment register with its hidden descriptor cache (SDM Vol. 3A 3.4.3).
 * `limit` is the byte-granular limit (G already applied); `ar` holds the
 * descriptor's attribute bits in the positions LAR reports them:
 * bits 8-11 type, 12 S, 13-14 DPL, 15 P, 20 AVL, 22 D/B, 23 G.
 */
struct seg {
    uint16_t sel;
    uint32_t base;
    uint32_t limit;
    uint32_t ar;
};
#define AR_TYPE_SHIFT 8
#define AR_TYPE(ar) (((ar) >> 8) & 0xf)
#define AR_S (1u << 12)
#define AR_DPL_SHIFT 13
#define AR_DPL(ar) (((ar) >> 13) & 3)
#define AR_P (1u << 15)
#define AR_AVL (1u << 20)
#define AR_DB (1u << 22)
#define AR_G (1u << 23)
/* Type bits of code/data descriptors (S = 1). */
#define AR_T_ACCESSED (1u << 8)
#define AR_T_WRITABLE (1u << 9)  /* data */
#define AR_T_READABLE (1u << 9)  /* code */
#define AR_T_EXPDOWN (1u << 10)  /* data */
#define AR_T_CONFORM (1u << 10)  /* code */
#define AR_T_CODE (1u << 11)

struct dtr {
    uint32_t base;
    uint16_t limit;
};

/* ------------------------------------------------------------------ */
/* x87 FPU                                                             */
/* ------------------------------------------------------------------ */

/* An 80-bit extended-precision value: explicit integer bit in bit 63 of
 * the significand, sign in bit 15 of sign_exp, 15-bit biased exponent. */
struct f80 {
    uint64_t sig;
    uint16_t sign_exp;
};

struct fpu {
    struct f80 st[8]; /* physical registers R0-R7; ST(i) = st[(top+i)&7] */
    uint16_t cw;      /* control word */
    uint16_t sw;      /* status word, TOP field kept in `top` */
    uint8_t tag_empty;/* bit r: physical register r is empty (tag 11B). The
                       * other tags follow the register's contents (SDM
                       * Vol. 1 8.1.7), so they are computed where stored:
                       * fpu_tag_word */
    uint8_t top;
    uint16_t fop;     /* last non-control opcode, 11 bits */
    uint32_t fip, fdp;/* last instruction / operand offset */
    uint16_t fcs, fds;/* their selectors */
};

/* ------------------------------------------------------------------ */
/* Decoded instruction                                                 */
/* ------------------------------------------------------------------ */

/*
 * Semantic operations. The decoder maps every valid encoding to one of
 * these plus its operands; cpu/ has one handler per operation. Widths come
 * from the operands, not from the operation.
 */
enum op {
    OP_INVALID = 0, /* never executed: the decoder reports #UD instead */
    /* ALU, group-1 order: the decoder relies on OP_ADD + reg */
    OP_ADD, OP_OR, OP_ADC, OP_SBB, OP_AND, OP_SUB, OP_XOR, OP_CMP,
    OP_TEST, OP_INC, OP_DEC, OP_NEG, OP_NOT,
    /* shifts and rotates, group-2 order: OP_ROL + reg (reg 6 = SHL) */
    OP_ROL, OP_ROR, OP_RCL, OP_RCR, OP_SHL, OP_SHR, OP_SAL, OP_SAR,
    OP_SHLD, OP_SHRD,
    /* multiply / divide: one-operand forms use AL/AX/EAX implicitly */
    OP_MUL, OP_IMUL1, OP_DIV, OP_IDIV,
    OP_IMUL2, /* dst = src1 * src2, truncated: IMUL Gv,Ev and Gv,Ev,Iz */
    /* BCD */
    OP_DAA, OP_DAS, OP_AAA, OP_AAS, OP_AAM, OP_AAD, OP_SALC,
    /* data movement */
    OP_MOV, OP_MOVZX, OP_MOVSX, OP_LEA, OP_XCHG, OP_CBW, OP_CWD,
    OP_MOV_TO_SREG, OP_LDS, OP_LES, OP_LFS, OP_LGS, OP_LSS,
    OP_XLAT, OP_BSWAP, OP_XADD, OP_CMPXCHG, OP_CMPXCHG8B,
    OP_CMOVCC, OP_SETCC, OP_LAHF, OP_SAHF,
    /* stack */
    OP_PUSH, OP_POP, OP_POP_SREG, OP_PUSHA, OP_POPA, OP_PUSHF, OP_POPF,
    OP_ENTER, OP_LEAVE,
    /* control transfer */
    OP_JMP, OP_JCC, OP_JCXZ, OP_LOOP, OP_LOOPE, OP_LOOPNE,
    OP_CALL, OP_RET, OP_JMPF, OP_CALLF, OP_RETF, OP_IRET,
    OP_INT, OP_INT3, OP_INTO, OP_INT1, OP_BOUND,
    /* bit instructions */
    OP_BT, OP_BTS, OP_BTR, OP_BTC, OP_BSF, OP_BSR,
    /* strings (REP prefixes in insn->rep) */
    OP_MOVS, OP_CMPS, OP_STOS, OP_LODS, OP_SCAS, OP_INS, OP_OUTS,
    /* I/O */
    OP_IN, OP_OUT,
    /* flags and misc */
    OP_CLC, OP_STC, OP_CMC, OP_CLD, OP_STD, OP_CLI, OP_STI,
    OP_HLT, OP_NOP, OP_WAIT, OP_UD2,
    /* system */
    OP_SLDT, OP_STR, OP_LLDT, OP_LTR, OP_VERR, OP_VERW,
    OP_SGDT, OP_SIDT, OP_LGDT, OP_LIDT, OP_SMSW, OP_LMSW, OP_INVLPG,
    OP_LAR, OP_LSL, OP_ARPL, OP_CLTS, OP_INVD, OP_WBINVD,
    OP_MOV_TO_CR, OP_MOV_FROM_CR, OP_MOV_TO_DR, OP_MOV_FROM_DR,
    OP_CPUID, OP_RDTSC, OP_RDMSR, OP_WRMSR, OP_RDPMC,
    OP_SYSENTER, OP_SYSEXIT, OP_RSM,
    /* x87: one operation for the whole D8-DF space; cpu/fpu decodes
     * insn->opcode and insn->modrm further */
    OP_X87,
    /* FXSAVE/FXRSTOR m512 (0F AE /0, /1): x87 state only, no SSE */
    OP_FXSAVE, OP_FXRSTOR,
    OP_COUNT
};

/* Operand kinds. */
enum opnd_kind {
    OPND_NONE = 0,
    OPND_REG,   /* general register `reg`; width 1 uses AL..BH numbering */
    OPND_MEM,   /* the ModRM/moffs memory operand: insn's EA fields */
    OPND_IMM,   /* insn->imm (already sign- or zero-extended to 32 bits) */
    OPND_IMM2,  /* insn->imm2 (ENTER's nesting level, far pointer selector) */
    OPND_SREG,  /* segment register `reg` (SEG_ES..SEG_GS) */
    OPND_CREG,  /* control register `reg` */
    OPND_DREG,  /* debug register `reg` */
    OPND_ONE,   /* the constant 1 (shift by one) */
};

struct operand {
    uint8_t kind;  /* enum opnd_kind */
    uint8_t width; /* bytes: 1, 2, 4, 6 (far pointer), 8 (m64), ... */
    uint8_t reg;
};

#define REP_NONE 0
#define REP_E 1  /* F3: REP / REPE / REPZ */
#define REP_NE 2 /* F2: REPNE / REPNZ */

#define EA_NO_REG 0xff

struct cpu;
struct insn;
struct tb_cache;
struct lockstep;
typedef void (*insn_fn)(struct cpu *cpu, const struct insn *in);

/*
 * One decoded instruction. Filled by translate/decode.c; read by the
 * handlers in cpu/. All fields are resolved for the mode the instruction
 * was decoded in (operand and address size after prefixes).
 */
struct insn {
    uint16_t op;        /* enum op */
    uint16_t opcode;    /* 0x000-0x0ff one-byte map, 0x100-0x1ff 0F map */
    uint8_t len;        /* total length in bytes, prefixes included (<= 15) */
    uint8_t opsize;     /* 2 or 4: operand size after 66 */
    uint8_t adsize;     /* 2 or 4: address size after 67 */
    uint8_t seg;        /* segment of the memory operand: override, or the
                           default (SS for BP/SP bases, else DS) */
    uint8_t seg_override; /* SEG_NONE if no segment prefix */
    uint8_t rep;        /* REP_NONE, REP_E, REP_NE */
    uint8_t lock;       /* F0 seen (the decoder already refused it where #UD) */
    uint8_t cond;       /* Jcc/SETcc/CMOVcc condition, 0-15 */
    uint8_t has_modrm;
    uint8_t modrm;      /* raw ModRM byte; mod/reg/rm below */
    uint8_t mod, reg, rm;
    /* Effective address of OPND_MEM: base + index*scale + disp, wrapped
     * to adsize. base/index are register numbers or EA_NO_REG. */
    uint8_t ea_base, ea_index, ea_scale; /* scale: 0-3 (shift count) */
    int32_t disp;
    uint32_t imm;       /* first immediate / relative displacement */
    uint32_t imm2;      /* second immediate: ENTER level, far selector */
    struct operand dst, src, src2; /* in the manual's order: dst, src, 3rd */
    insn_fn fn;         /* handler, cpu_insn_handler(op) */
};

/* ------------------------------------------------------------------ */
/* Exceptions                                                          */
/* ------------------------------------------------------------------ */

enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
    EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* ------------------------------------------------------------------ */
/* The CPU                                                             */
/* ------------------------------------------------------------------ */

/* What the board provides. All callbacks take `opaque`. */
struct cpu_bus {
    struct phys_mem *mem;
    struct io_space *io;
    void *opaque;
    /* Acknowledges the highest-priority pending interrupt at the PIC and
     * returns its vector (INTA cycle). Called only when cpu->intr is set
     * and the CPU accepts interrupts. */
    int (*intr_ack)(void *opaque);
    /* The guest triple-faulted or asked for a reset (the board resets
     * itself and the CPU). */
    void (*reset_request)(void *opaque);
    /* x87 error signalled the legacy way (CR0.NE = 0): FERR# to IRQ13. */
    void (*ferr)(void *opaque, bool asserted);
    /* The machine's time in nanoseconds (its virtual clock). The TSC
     * counts CPU_TSC_HZ from it, at a constant rate whether the CPU runs
     * or halts, as an invariant TSC does. NULL: the TSC counts retired
     * instructions (deterministic; unit tests). */
    uint64_t (*time_ns)(void *opaque);
};

/* The TSC's rate when the board gives a clock. */
#define CPU_TSC_HZ 1000000000ull

/* -d flags (log categories), set by the frontend. */
#define LOG_INT (1u << 0)    /* every exception and interrupt */
#define LOG_CPU (1u << 1)    /* registers before each instruction/block */
#define LOG_EXEC (1u << 2)   /* each instruction executed, disassembled */
#define LOG_UNIMP (1u << 3)  /* guest used something Glass does not do */
#define LOG_JIT (1u << 4)    /* the JIT's statistics at exit */
#define LOG_IN_ASM (1u << 5) /* each guest block as the JIT translates it */
#define LOG_OUT_ASM (1u << 6)/* the host code the JIT emits for it */
#define LOG_MMU (1u << 10)   /* each page fault with the walk that caused it */
#define LOG_MODE (1u << 11)  /* each change of real/protected/paging/PAE/v86 mode and CPL */
#define LOG_PERFMAP (1u << 12) /* each translated block named in /tmp/perf-PID.map */

/*
 * -d dfilter= and window=: which events the log shows. An event (an
 * instruction traced, an interrupt, a page fault, a mode change) is
 * logged when its linear EIP lies in one of the ranges (none: anywhere)
 * and the count of instructions retired before it lies in the window.
 */
#define LOG_RANGES_MAX 16
struct log_filter {
    unsigned nranges;
    struct { uint32_t first, last; } range[LOG_RANGES_MAX]; /* inclusive */
    uint64_t window_first; /* instruction count */
    uint64_t window_end;   /* first count past the window; 0: no end */
};

/* Reasons cpu_run returns. */
enum cpu_exit {
    CPU_EXIT_BUDGET = 0, /* ran the instructions it was given */
    CPU_EXIT_REQUEST,    /* exit_request was set (timer, device, frontend) */
    CPU_EXIT_HALT,       /* HLT with interrupts that cannot wake it */
    CPU_EXIT_SHUTDOWN,   /* triple fault (the board resets) */
    CPU_EXIT_DIVERGED,   /* lockstep: the JIT and the interpreter disagreed */
    CPU_EXIT_DEBUG,      /* a debugger's breakpoint or watchpoint (cpu->dbg.stop) */
};

/*
 * An attached debugger's breakpoints and watchpoints (cpu/debugger.c).
 * They are not the architectural DR0-DR7, which belong to the guest: a
 * guest's own INT3 and #DB go to its IDT as ever, and no byte of guest
 * memory is changed to plant a breakpoint. While a watchpoint is set,
 * cpu_exec runs every instruction through the careful path, which checks
 * it on each data access; while a breakpoint is set, the JIT runs one
 * block at a time, none that holds a breakpoint, and the careful path
 * runs those, checking the breakpoints before each instruction.
 */
#define CPU_DBG_BREAK_MAX 64
#define CPU_DBG_WATCH_MAX 16
enum cpu_watch_kind { CPU_WATCH_WRITE = 1, CPU_WATCH_READ = 2, CPU_WATCH_ACCESS = 3 };
enum cpu_dbg_stop_kind { CPU_DBG_NONE = 0, CPU_DBG_BREAK, CPU_DBG_WATCH };
struct cpu_dbg_stop {
    uint8_t kind;       /* enum cpu_dbg_stop_kind */
    uint8_t watch_kind; /* enum cpu_watch_kind of the watchpoint hit */
    uint32_t addr;      /* the breakpoint's or watchpoint's linear address */
};
struct cpu_debugger {
    uint32_t brk[CPU_DBG_BREAK_MAX]; /* linear addresses; one may repeat */
    unsigned nbrk;
    struct cpu_watch {
        uint32_t lin, len;
        uint8_t kind;   /* enum cpu_watch_kind */
    } watch[CPU_DBG_WATCH_MAX];
    unsigned nwatch;
    /* The breakpoint at resume_lin does not stop the first instruction
     * after a resume (the debugger continues from it). */
    bool resume_armed;
    uint32_t resume_lin;
    /* Counts breakpoint insertions: the JIT drops its blocks that hold a
     * new one (translate/jit/run.c). */
    uint32_t brk_gen;
    /* Why cpu_exec last returned CPU_EXIT_DEBUG. */
    struct cpu_dbg_stop stop;
    /* cpu_exec_step is running: no interrupt is taken, exit requests
     * wait, breakpoints do not stop the instruction. */
    bool stepping;
};

struct msr_state {
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t apic_base;
    uint64_t pat;
    uint64_t mtrr_cap, mtrr_def_type;
    uint64_t mtrr_fixed[11];
    uint64_t mtrr_var[16]; /* base/mask pairs 0-7 */
    uint64_t tsc_offset;   /* guest TSC = host-derived count + offset */
    uint64_t misc_enable;
    uint64_t efer;         /* kept for later: NXE only with PAE+NX */
};

struct cpu {
    /* Hot state first: small offsets for the JIT's base register. */
    uint32_t regs[8];
    uint32_t eip;       /* offset in CS of the current instruction */
    uint32_t eflags;    /* arithmetic bits valid only when cc.op == CC_EAGER */
    struct lazy_flags cc;
    struct seg seg[SEG_COUNT];
    uint8_t cpl;
    uint8_t code32;     /* CS.D: default operand/address size 32 */
    uint8_t stack32;    /* SS.B: ESP (not SP) is the stack pointer */
    uint8_t halted;
    /* Set by devices, the board and signal handlers: cpu_exec returns
     * to the board at the next instruction boundary it checks. */
    volatile uint8_t exit_request;
    /* Set when translated code was dropped (a store into a code page):
     * the running block ends after the current instruction, so the next
     * one is decoded from the new bytes. The JIT tests this byte and
     * exit_request as one 16-bit word after every helper call. */
    uint8_t code_changed;
    uint8_t intr;       /* INTR line level, set by the board */
    uint8_t nmi_pending;
    uint8_t nmi_blocked;/* from NMI delivery to the next IRET */
    uint8_t inhibit_irq;/* STI / MOV SS / POP SS shadow: 1 for the next insn */

    uint32_t next_eip;  /* while executing: where execution continues */

    /* The JIT's run budget: instructions left in this cpu_exec slice,
     * counted down by whole blocks at block entry (translate/jit/). */
    int32_t jit_budget;
    /* Instructions of the running block not yet retired, stored before
     * each helper call that can fault so the count stays exact. */
    int32_t jit_ileft;
    /* Set when the JIT left at the start of a block that overwrites the
     * flags before reading them, possibly entered with them unsaved: the
     * arithmetic flags in the state may be stale until the block's first
     * jit_flags_stale instructions (which cannot trap) have run. */
    uint8_t jit_flags_stale;
    /* Set by a block whose frame accesses its prologue could not prove in
     * one page: the dispatcher runs the block's variant without. */
    uint8_t jit_noframe;
    /* Instructions of one linear page the JIT's dispatcher left to the
     * careful path without being asked again (its code keeps changing). */
    uint32_t jit_careful_left, jit_careful_page; /* and the linear page they are in */
    /* Valid bit and epoch of the JIT's jump-cache tags (translate/jit). */
    uint32_t jit_jc_stamp;
    /* The same for code run at CPL 0-2 from global translations (or with
     * paging off), which MOV CR3 keeps: advanced by the flushes that can
     * change those alone. */
    uint32_t jit_jc_kstamp;
    /* Scratch of the JIT's inline x87 code (translate/jit/gen_x87.c): the
     * exception flags that send an operation to its handler in this run. */
    uint32_t jit_x87_bad;
    /* Registers a run of that code popped or spilled while their value
     * at the run's start must stay in cpu->fpu.st until its end. */
    struct f80 jit_x87_spill[8];
    /* A store's value on its way to guest memory. */
    uint64_t jit_x87_out;
    /* The instruction after which an X87 stub's handler calls leave. */
    uint32_t jit_x87_redo;
    /* An x87 loop (translate/jit/gen_x87.c "Loops"): the state its entry
     * saw (integer registers, the budget after its charge, the flags,
     * the x87 state but its registers),
     * put back when a check fails before its run has ended, and then
     * the instructions to run on the careful path from there; the
     * budget below which its run ends at a back edge. */
    uint32_t jit_loop_regs[8];
    int32_t jit_loop_budget, jit_loop_floor;
    struct lazy_flags jit_loop_cc;
    uint8_t jit_loop_fpu[20]; /* struct fpu from cw to fds */
    uint32_t jit_loop_redo;

    struct dtr gdtr, idtr;
    struct seg ldtr, tr;
    uint32_t cr0, cr2, cr3, cr4;
    uint64_t pdpte[4];
    uint32_t dr[8];     /* DR0-3, DR6 (index 6), DR7 (index 7); 4, 5 unused */
    struct msr_state msr;
    uint64_t tsc_base;  /* instruction count at which TSC was 0 */
    uint64_t tsc_base_ns; /* bus.time_ns() at which TSC was 0 */

    struct fpu fpu;
    struct tlb tlb;

    struct cpu_bus bus;

    /* Exception bookkeeping (cpu/except.c). */
    jmp_buf *fault_jmp;    /* where cpu_raise unwinds to */
    int16_t exc_vector;    /* exception being raised (0-255), -1 none */
    uint8_t exc_has_error;
    uint32_t exc_error;
    int16_t exc_delivering;/* vector being delivered, for #DF rules, -1 none */
    uint8_t exc_soft;      /* INT n / INT3 / INTO: trap, pushes next_eip */

    uint64_t icount;       /* instructions retired */
    uint64_t clock_reads;  /* TSC reads (RDTSC, RDMSR): lockstep cannot replay them */

    /* The interpreter's cache of decoded blocks (translate/tb.c), owned
     * by translate/; NULL until interp_run first runs. Set no_block_cache
     * to run every instruction through the careful one-at-a-time path
     * (tests compare the two). */
    struct tb_cache *tbc;
    uint8_t no_block_cache;
    /* Which engine cpu_exec runs (enum cpu_engine, translate/translate.h)
     * and the JIT's state (translate/jit/), NULL until it first runs. */
    uint8_t engine;
    struct jit *jit;
    size_t jit_code_size;  /* bytes of translation cache; 0: the default */
    /* The JIT runs a block on the careful path the first time it meets
     * it and translates it the second (translate/jit/run.c, "first
     * sight"); 0: at once (the default, which tests rely on). */
    uint8_t jit_first_sight;
    /* -singlestep: every instruction through the careful path. */
    uint8_t singlestep;
    /* -accel jit,lockstep: each JIT block checked against the
     * interpreter (translate/lockstep.c), and its state. */
    uint8_t lockstep_on;
    struct lockstep *lockstep;
    /* x87 arithmetic all in cpu/fpu_soft.c, never on the host's x87 nor
     * through the integer shortcuts of cpu/fpu_arith.h and fpu_fast.c:
     * tests compare the two ways; GLASS_X87_SOFT=1 in the environment
     * sets it (cpu_new). */
    uint8_t x87_soft;

    /* Debug (cpu/debug.c): DR6 bits of data breakpoints hit by the
     * current instruction, reported as a trap after it completes. */
    uint32_t dr6_pending;
    /* The MOV SS / POP SS shadow over debug traps (SDM Vol. 3A 6.8.3):
     * set by the instruction that loaded SS (the careful path clears it
     * before each instruction, as it does inhibit_irq), and the DR6 bits
     * (B0-B3, BS) of the traps held until the boundary after the next
     * instruction. */
    uint8_t ss_shadow;
    uint32_t dr6_held;

    /* A debugger's breakpoints and watchpoints; dbg_watching is true
     * while a watchpoint is set (the data fast paths test it with DR7). */
    struct cpu_debugger dbg;
    uint8_t dbg_watching;

    /* Logging (frontend sets these). */
    unsigned log_mask;
    FILE *log;
    const struct log_filter *log_filter; /* NULL: every event */
    /* -d mode: the mode last logged (cpu/modelog.c). */
    uint32_t mode_logged;
    /* Called before each instruction when log_mask has LOG_EXEC, with its
     * bytes (the frontend disassembles them with Capstone). */
    void (*trace_insn)(void *opaque, struct cpu *cpu, const uint8_t *bytes, unsigned len);
    /* -d in_asm/out_asm: a run of code to disassemble, `bits` 16, 32 or
     * 64, at address `addr`, under a heading line. */
    void (*trace_code)(void *opaque, const char *heading, uint64_t addr, const uint8_t *bytes,
                       size_t len, unsigned bits);
    void *trace_opaque;
};

/* Builds a CPU in its power-on state (SDM Vol. 3A 9.1.1) on this bus. */
struct cpu *cpu_new(const struct cpu_bus *bus);
void cpu_free(struct cpu *cpu);
/* RESET: registers as at power-on; EDX holds the family/model/stepping. */
void cpu_reset(struct cpu *cpu);
/* Whether the host's x87 may run the guest's x87 arithmetic as it is,
 * under the guest's control word (the JIT's inline x87): an x86-64 host,
 * CR0.EM and TS clear (no #NM), every exception masked and none pending
 * (no #MF), a defined precision control, cpu->x87_soft clear. */
bool fpu_host_inline_ok(const struct cpu *cpu);

/* The x87 tag word as FSTENV stores it: 2 bits per physical register,
 * 11B for an empty one, else valid, zero or special by its contents. */
uint16_t fpu_tag_word(const struct fpu *f);
/* Loads a tag word as FLDENV does: a tag of 11B empties its register,
 * any other marks it in use (its tag then follows its contents). */
void fpu_set_tag_word(struct fpu *f, uint16_t tw);

/* INIT: as RESET but x87, MSRs and caches are kept (SDM Table 9-1). */
void cpu_init_signal(struct cpu *cpu);

/* The board's interrupt lines. */
void cpu_set_intr(struct cpu *cpu, bool level);
void cpu_raise_nmi(struct cpu *cpu);

/* Returns the full EFLAGS (lazy bits computed). */
uint32_t cpu_get_eflags(struct cpu *cpu);

/* The handler of an operation (for the decoder). */
insn_fn cpu_insn_handler(enum op op);

/*
 * Delivers the exception or interrupt that cpu_raise recorded (called by
 * the execution loop after cpu_raise unwound to it) and resolves #DF and
 * triple-fault rules. Returns false on a triple fault.
 */
bool cpu_deliver_pending(struct cpu *cpu);

/* Accepts a pending NMI or external interrupt if the CPU may take one
 * now; returns true if it delivered one. Call between instructions. */
bool cpu_service_interrupts(struct cpu *cpu);

/* Drops every cached translation: the board calls it when what a
 * physical address means changes (A20, PCI BARs, PAM), since TLB
 * entries hold host pointers. */
void cpu_tlb_flush(struct cpu *cpu);

/* The current paging inputs, for the walker. */
void cpu_paging_mode(const struct cpu *cpu, struct paging_mode *out);

/* Reads guest memory at a linear address for debuggers and the monitor:
 * no faults raised, no A/D bits written. Returns bytes copied. */
size_t cpu_debug_read(struct cpu *cpu, uint32_t lin, void *buf, size_t len);

/* Prints the register state the way `-d cpu` shows it. */
void cpu_dump_state(struct cpu *cpu, FILE *f);

/* ------------------------------------------------------------------ */
/* Debugger access (cpu/debugger.c)                                    */
/* ------------------------------------------------------------------ */

/* Breakpoints on a linear address (gdb's Z0 and Z1): 0, or -1 when the
 * list is full (insert) or holds no such address (remove). */
int cpu_dbg_break_insert(struct cpu *cpu, uint32_t lin);
int cpu_dbg_break_remove(struct cpu *cpu, uint32_t lin);
/* Watchpoints on [lin, lin+len), len 1 to 4096: 0 or -1 as above. */
int cpu_dbg_watch_insert(struct cpu *cpu, uint32_t lin, uint32_t len, enum cpu_watch_kind k);
int cpu_dbg_watch_remove(struct cpu *cpu, uint32_t lin, uint32_t len, enum cpu_watch_kind k);
/* Removes every breakpoint and watchpoint (a debugger detaches). */
void cpu_dbg_clear(struct cpu *cpu);
bool cpu_dbg_break_at(const struct cpu *cpu, uint32_t lin);
/* Whether a breakpoint lies in [lin, lin+len). */
bool cpu_dbg_break_in(const struct cpu *cpu, uint32_t lin, uint32_t len);
/* The next instruction will not stop at a breakpoint on its own address
 * (call when the debugger resumes the CPU). */
void cpu_dbg_resume(struct cpu *cpu);

/* Writes guest memory at a linear address for debuggers: no faults, no
 * A/D bits; through the physical address space, so translated code of
 * the bytes written is dropped. Returns bytes written (it stops at the
 * first page that is not mapped). */
size_t cpu_debug_write(struct cpu *cpu, uint32_t lin, const void *buf, size_t len);
/* The physical address of a linear one as the debugger sees it (no A/D
 * bits set); false if not mapped. */
bool cpu_debug_translate(struct cpu *cpu, uint32_t lin, uint64_t *paddr);
/* Loads a segment register as the current mode would: real mode base =
 * selector x 16 (every time), v86 mode likewise with v86 rights,
 * protected mode from the descriptor table (a null selector makes a
 * data register unusable). Returns 0, or -1 (registers unchanged) if the
 * descriptor cannot be loaded. */
int cpu_debug_set_seg(struct cpu *cpu, int seg, uint16_t sel);
/* Writes EFLAGS whole (reserved bits as the CPU keeps them); TF, IF, VM,
 * IOPL... take effect at the next instruction. */
void cpu_debug_set_eflags(struct cpu *cpu, uint32_t val);
/* Writes CR0, CR3 or CR4 (n) as a debugger: no checks, TLB flushed, the
 * PAE PDPTEs reloaded, the mode recomputed. Returns 0, or -1 for another
 * n. */
int cpu_debug_set_cr(struct cpu *cpu, int n, uint32_t val);

/* Whether -d's dfilter and window let an event at the current
 * instruction be logged (cpu/modelog.c). */
bool cpu_log_wanted(const struct cpu *cpu);
/* The same for an event at linear address `lin`. */
bool cpu_log_wanted_at(const struct cpu *cpu, uint32_t lin);

/* A probed walk (paging_probe), one line per level prefixed by
 * `prefix`: "PDE   @000101004 = 00102027 [P RW US A]" (cpu/eventlog.c). */
void cpu_walk_print(FILE *f, const char *prefix, const struct walk_report *r);
/* A page-fault error code in words: "not present, write, user". */
void cpu_pf_error_text(uint32_t err, char *buf, size_t len);

/* Name of an operation, for tracing. */
const char *op_name(enum op op);

#endif
