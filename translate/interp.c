/*
 * translate/interp.c — the portable backend's careful path: fetch,
 * decode, execute one instruction, with the architectural rules that sit
 * around an instruction (breakpoints, single-step traps, RF). The loop
 * that calls it, and the rules between instructions, are cpu_exec's
 * (translate/exec.c), shared with the JIT; translate/tb.c runs whole
 * blocks of cached decoded instructions.
 *
 * Order of events around one instruction (SDM Vol. 3A 6.9, priorities):
 *   1. a pending NMI or INTR is taken unless the previous instruction
 *      opened an interrupt shadow (STI, MOV SS, POP SS);
 *   2. instruction breakpoints (faults, suppressed by RF);
 *   3. fetch and decode (#PF, #GP on CS limit or length, #UD);
 *   4. execute; faults unwind to the setjmp below and are delivered with
 *      EIP still at the instruction;
 *   5. commit EIP, then single-step and data breakpoint traps.
 */
#include "translate/translate.h"

#include <string.h>

#include "cpu/internal.h"
#include "translate/exec.h"
#include "translate/tb.h"

#define MAX_INSN_LEN 15

/*
 * Instructions decoded lately, by linear address: a decoding depends on
 * the instruction's bytes and the code size alone, so one whose bytes
 * (all of them fetched: within the page, no fault skipped) and code size
 * match is the same decoding. The careful path decodes every instruction
 * it runs, also in loops and on pages whose code keeps changing (make
 * bench smc). Per thread: nothing else shares it.
 */
#define DECODED_BITS 8

struct decoded {
    uint8_t len; /* 0: empty */
    uint8_t code32;
    uint8_t bytes[MAX_INSN_LEN];
    struct insn in;
};

static _Thread_local struct decoded decoded[1u << DECODED_BITS];

static struct decoded *decoded_slot(uint32_t lin)
{
    return &decoded[(lin ^ (lin >> DECODED_BITS)) & ((1u << DECODED_BITS) - 1)];
}

/* Fetches and decodes the instruction at CS:EIP. Raises what the CPU
 * raises for it. */
static void fetch_decode(struct cpu *cpu, struct insn *in, uint8_t *bytes)
{
    unsigned got = cpu_fetch(cpu, cpu->eip, bytes, MAX_INSN_LEN, false);
    struct decoded *d = decoded_slot(cpu->seg[SEG_CS].base + cpu->eip);
    if (d->len && d->len <= got && d->code32 == cpu->code32 &&
        memcmp(d->bytes, bytes, d->len) == 0) {
        *in = d->in;
        return;
    }
    int r;
    /* The decoder asks for bytes one at a time past a page (or limit)
     * boundary, so only bytes the instruction really has are fetched
     * with faults enabled. */
    while ((r = decode_insn(in, bytes, got, cpu->code32)) == DECODE_MORE)
        got = cpu_fetch(cpu, cpu->eip, bytes, got + 1, true);
    if (r == DECODE_UD)
        cpu_raise(cpu, EXC_UD, 0);
    if (r == DECODE_GP)
        cpu_raise(cpu, EXC_GP, 0);
    d->len = in->len;
    d->code32 = (uint8_t)cpu->code32;
    memcpy(d->bytes, bytes, in->len);
    d->in = *in;
}

static void trace_before(struct cpu *cpu, const struct insn *in, const uint8_t *bytes)
{
    if (!cpu_log_wanted(cpu))
        return; /* -d dfilter= or window= */
    if ((cpu->log_mask & LOG_CPU) && cpu->log)
        cpu_dump_state(cpu, cpu->log);
    if ((cpu->log_mask & LOG_EXEC) && cpu->trace_insn)
        cpu->trace_insn(cpu->trace_opaque, cpu, bytes, in->len);
}

/* An operation the decoder knows but no handler implements yet: the guest
 * gets #UD, and -d unimp says so. */
_Noreturn void interp_unimplemented(struct cpu *cpu, const struct insn *in)
{
    if ((cpu->log_mask & LOG_UNIMP) && cpu->log)
        fprintf(cpu->log, "glass: unimplemented %s (opcode %03x) at %04x:%08x\n",
                op_name((enum op)in->op), in->opcode, cpu->seg[SEG_CS].sel, cpu->eip);
    cpu_raise(cpu, EXC_UD, 0);
}

static void step(struct cpu *cpu)
{
    struct insn in;
    uint8_t bytes[MAX_INSN_LEN + 1];
    const uint16_t cs = cpu->seg[SEG_CS].sel;
    const uint32_t eip = cpu->eip, lin = cpu->seg[SEG_CS].base + eip;

    if (cpu->dr[7] & 0xff)
        cpu_debug_before_insn(cpu);
    fetch_decode(cpu, &in, bytes);
    if (cpu->log_mask & (LOG_CPU | LOG_EXEC))
        trace_before(cpu, &in, bytes);

    bool tf = cpu->eflags & FL_TF;
    bool rf = cpu->eflags & FL_RF;
    cpu->next_eip = cpu->eip + in.len;
    if (!cpu->code32)
        cpu->next_eip &= 0xffff;
    if (in.fn)
        in.fn(cpu, &in);
    else
        interp_unimplemented(cpu, &in);
    cpu->eip = cpu->next_eip;
    cpu->icount++;
    if (cpu->log_mask & LOG_MODE)
        cpu_mode_log_insn(cpu, cs, eip, lin, &in, bytes, cpu->icount - 1);
    if (rf)
        cpu->eflags &= ~FL_RF;
    /* Single-step and data breakpoint traps, including those a MOV SS /
     * POP SS held for this instruction (dr6_held); cpu/debug.c decides
     * whether they are due now (SDM Vol. 3A 6.8.3). */
    if (tf || cpu->dr6_pending || cpu->dr6_held)
        cpu_debug_after_insn(cpu, tf);
}

void interp_step(struct cpu *cpu)
{
    /* The interrupt shadow, and MOV SS's over debug traps, last exactly
     * one instruction. */
    cpu->inhibit_irq = 0;
    cpu->ss_shadow = 0;
    step(cpu);
}
