/*
 * cpu/stack.c — the stack primitives every family uses (cpu_push, cpu_pop,
 * cpu_stack_peek, cpu_sp, cpu_set_sp) and the stack instructions PUSH,
 * POP, PUSHA, POPA, PUSHF, POPF, ENTER, LEAVE.
 *
 * The stack is SS:ESP when SS.B is set, else SS:SP with the upper half of
 * ESP left alone (SDM Vol. 1 6.2.3 "Address-Size Attributes for Stack
 * Accesses"). Every handler reads or checks everything that can fault
 * first and moves ESP last, so a #SS or #PF leaves ESP unchanged and the
 * instruction can be restarted (SDM Vol. 3A 6.6).
 */
#include "cpu/internal.h"

/* ------------------------------------------------------------------ */
/* Primitives (contract in cpu/internal.h)                             */
/* ------------------------------------------------------------------ */

static inline uint32_t sp_mask(const struct cpu *cpu)
{
    return cpu->stack32 ? 0xffffffffu : 0xffffu;
}

uint32_t cpu_sp(const struct cpu *cpu)
{
    return cpu->regs[R_ESP] & sp_mask(cpu);
}

void cpu_set_sp(struct cpu *cpu, uint32_t sp)
{
    uint32_t m = sp_mask(cpu);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~m) | (sp & m);
}

void cpu_push(struct cpu *cpu, uint32_t val, unsigned width)
{
    uint32_t sp = (cpu_sp(cpu) - width) & sp_mask(cpu);
    cpu_write(cpu, SEG_SS, sp, val, width);
    cpu_set_sp(cpu, sp);
}

uint32_t cpu_pop(struct cpu *cpu, unsigned width)
{
    uint32_t sp = cpu_sp(cpu);
    uint32_t v = cpu_read(cpu, SEG_SS, sp, width);
    cpu_set_sp(cpu, sp + width);
    return v;
}

uint32_t cpu_stack_peek(struct cpu *cpu, uint32_t depth, unsigned width)
{
    return cpu_read(cpu, SEG_SS, (cpu_sp(cpu) + depth) & sp_mask(cpu), width);
}

/* ------------------------------------------------------------------ */
/* PUSH / POP                                                          */
/* ------------------------------------------------------------------ */

/*
 * PUSH r/m, reg, imm, sreg. The operand is read before ESP moves, which
 * gives both SDM notes for free: PUSH ESP pushes the value ESP had before
 * the instruction, and PUSH [ESP+n] computes its address with the old ESP.
 * An immediate is already sign-extended to opsize by the decoder.
 */
static void op_push(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t v = opnd_read(cpu, in, &in->dst);
    if (in->dst.kind == OPND_SREG && w == 4) {
        /* SDM PUSH: with a 32-bit operand size a segment register push
         * decrements ESP by 4, and P6-family processors write only the
         * low 16 bits, leaving the upper two bytes of the slot as they
         * were. */
        uint32_t sp = (cpu_sp(cpu) - 4) & sp_mask(cpu);
        cpu_check_write(cpu, SEG_SS, sp, 4);
        cpu_write(cpu, SEG_SS, sp, v, 2);
        cpu_set_sp(cpu, sp);
        return;
    }
    cpu_push(cpu, v, w);
}

/* The memory operand's offset computed with ESP replaced by `esp`. */
static uint32_t ea_with_esp(const struct cpu *cpu, const struct insn *in, uint32_t esp)
{
    uint32_t a = (uint32_t)in->disp;
    if (in->ea_base != EA_NO_REG)
        a += in->ea_base == R_ESP ? esp : cpu->regs[in->ea_base];
    if (in->ea_index != EA_NO_REG)
        a += (in->ea_index == R_ESP ? esp : cpu->regs[in->ea_index]) << in->ea_scale;
    return in->adsize == 2 ? a & 0xffff : a;
}

/*
 * POP reg / POP r/m. SDM POP: "If the ESP register is used as a base
 * register for addressing a destination operand in memory, the POP
 * instruction computes the effective address of the operand after it
 * increments the ESP register." POP ESP leaves the popped value in ESP
 * (the increment is overwritten).
 */
static void op_pop(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width;
    uint32_t sp = cpu_sp(cpu);
    uint32_t v = cpu_read(cpu, SEG_SS, sp, w);
    uint32_t new_sp = (sp + w) & sp_mask(cpu);
    if (in->dst.kind == OPND_MEM) {
        uint32_t m = sp_mask(cpu);
        uint32_t esp_after = (cpu->regs[R_ESP] & ~m) | new_sp;
        cpu_write(cpu, in->seg, ea_with_esp(cpu, in, esp_after), v, w);
        cpu_set_sp(cpu, new_sp);
        return;
    }
    cpu_set_sp(cpu, new_sp);
    opnd_write(cpu, in, &in->dst, v);
}

/* ------------------------------------------------------------------ */
/* PUSHA / POPA                                                        */
/* ------------------------------------------------------------------ */

/*
 * PUSHA: EAX ECX EDX EBX (original ESP) EBP ESI EDI (SDM PUSHA). The whole
 * 16- or 32-byte block is checked before the first write so that a fault
 * leaves memory and ESP untouched. A block that would wrap around offset
 * 0 of a 16-bit stack fails the limit check (#SS) rather than wrapping.
 */
static void op_pusha(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->opsize;
    uint32_t sp = cpu_sp(cpu);
    uint32_t base = (sp - 8 * w) & sp_mask(cpu);
    cpu_check_write(cpu, SEG_SS, base, 8 * w);
    uint32_t old_esp = cpu->regs[R_ESP];
    for (unsigned r = 0; r < 8; r++) {
        uint32_t v = r == R_ESP ? old_esp : cpu->regs[r];
        /* EAX lands highest: slot 7 - r above the new stack top. */
        cpu_write(cpu, SEG_SS, base + (7 - r) * w, v, w);
    }
    cpu_set_sp(cpu, base);
}

/* POPA: EDI ESI EBP (skip) EBX EDX ECX EAX; the ESP slot is discarded. */
static void op_popa(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->opsize;
    uint32_t sp = cpu_sp(cpu);
    cpu_check_read(cpu, SEG_SS, sp, 8 * w);
    uint32_t vals[8];
    for (unsigned r = 0; r < 8; r++)
        vals[r] = cpu_read(cpu, SEG_SS, sp + (7 - r) * w, w);
    for (unsigned r = 0; r < 8; r++)
        if (r != R_ESP)
            reg_write(cpu, r, w, vals[r]);
    cpu_set_sp(cpu, sp + 8 * w);
}

/* ------------------------------------------------------------------ */
/* PUSHF / POPF                                                        */
/* ------------------------------------------------------------------ */

static inline unsigned iopl(const struct cpu *cpu)
{
    return (cpu->eflags & FL_IOPL) >> FL_IOPL_SHIFT;
}

/*
 * PUSHF/PUSHFD (SDM Vol. 2 PUSHF): the image has VM and RF cleared
 * (EFLAGS AND 00FCFFFFH). In v86 mode with IOPL < 3 it is #GP(0), unless
 * CR4.VME is set and the operand size is 16, when the image carries VIF
 * in place of IF and IOPL reads as 3 (SDM Vol. 3A 20.4.3).
 */
static void op_pushf(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->opsize;
    uint32_t fl = cpu_get_eflags(cpu);
    if ((fl & FL_VM) && iopl(cpu) < 3) {
        if (!(cpu->cr4 & CR4_VME) || w != 2)
            cpu_raise(cpu, EXC_GP, 0);
        fl = (fl & ~FL_IF) | ((fl & FL_VIF) ? FL_IF : 0);
        fl |= FL_IOPL;
    }
    fl &= ~(FL_VM | FL_RF);
    cpu_push(cpu, fl & width_mask(w), w);
}

/*
 * POPF/POPFD (SDM Vol. 2 POPF pseudocode). Which bits the popped image
 * may change:
 *   VM=0, CPL 0:          all but VM, VIP, VIF (RF is cleared)
 *   VM=0, CPL <= IOPL:    also not IOPL
 *   VM=0, CPL > IOPL:     also not IOPL and not IF
 *   VM=1, IOPL 3:         not IOPL, VM, VIP, VIF (RF cleared)
 *   VM=1, IOPL < 3:       #GP(0), unless CR4.VME and 16-bit operand size:
 *                         then TF=1 or (VIP and popped IF) is #GP(0), else
 *                         the popped IF goes to VIF and IF/IOPL stay.
 * A 16-bit POPF only reaches bits 0-15. RF is in the mask with value 0
 * ("RF is cleared").
 */
static void op_popf(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->opsize;
    uint32_t img = cpu_stack_peek(cpu, 0, w);
    uint32_t fl = cpu_get_eflags(cpu);
    uint32_t mask = ~(FL_VM | FL_VIP | FL_VIF);

    if (fl & FL_VM) {
        if (iopl(cpu) < 3) {
            if (!(cpu->cr4 & CR4_VME) || w != 2)
                cpu_raise(cpu, EXC_GP, 0);
            if ((img & FL_TF) || ((fl & FL_VIP) && (img & FL_IF)))
                cpu_raise(cpu, EXC_GP, 0);
            /* SDM 20.4.4: the popped IF is written to VIF instead. */
            uint32_t vif = (img & FL_IF) ? FL_VIF : 0;
            cpu_set_sp(cpu, cpu_sp(cpu) + w);
            flags_write(cpu, (img & 0xffff) | vif, (0xffffu & ~(FL_IF | FL_IOPL)) | FL_VIF);
            return;
        }
        mask &= ~FL_IOPL;
    } else if (cpu->cpl > 0) {
        mask &= ~FL_IOPL;
        if (cpu->cpl > iopl(cpu))
            mask &= ~FL_IF;
    }
    if (w == 2)
        mask &= 0xffff;
    img &= ~FL_RF;
    cpu_set_sp(cpu, cpu_sp(cpu) + w);
    flags_write(cpu, img, mask);
}

/* ------------------------------------------------------------------ */
/* ENTER / LEAVE                                                       */
/* ------------------------------------------------------------------ */

/*
 * ENTER imm16, imm8 (SDM Vol. 2 ENTER pseudocode): push EBP, copy
 * level-1 frame pointers from the caller's display (read through EBP
 * walking down by the operand size), push the new frame pointer, then
 * EBP = frame and ESP -= imm16. The level is taken modulo 32.
 *
 * Operand size and stack size combine as the pseudocode says:
 * - FrameTemp is ESP after the push of EBP with a 32-bit operand size
 *   ("FrameTemp := ESP"), even on a 16-bit stack, where the push moved SP
 *   alone: the upper word of ESP is part of it, and it is what EBP gets
 *   and what the last display slot holds. With a 16-bit operand size it
 *   is SP, and only BP is written ("bits 16 and above ... unmodified").
 * - The display is read through BP (wrapping at 64 KiB) on a 16-bit
 *   stack and through EBP on a 32-bit one, in steps of the operand size
 *   ("BP := BP - 4; Push([BP])" for a 32-bit operand on a 16-bit stack,
 *   "EBP := EBP - 2; Push([EBP])" for a 16-bit operand on a 32-bit one).
 * - The stack pointer moves as the stack size says, SP or ESP, for the
 *   pushes and the allocation alike (SDM Vol. 1 6.2.3; the 80386
 *   manual's ENTER: "IF StackAddrSize = 16 THEN SP := SP - First
 *   operand").
 *
 * All reads happen first and the whole written block is checked before
 * the first write, so a fault leaves ESP, EBP and memory unchanged.
 *
 * The final stack pointer (after subtracting imm16) is probed too: the SDM
 * ENTER exception list gives #SS(0) "if the new value of the SP or ESP
 * register is outside the stack segment limit" and #PF "if a write using
 * the final value of the stack pointer (within the current stack segment)
 * would cause a page fault". So one operand-size write at the final SP is
 * checked (limit and paging) without writing it; the rest of the
 * allocated area is not probed (test386 POST 1A relies on this #PF).
 */
static void op_enter(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->opsize;
    uint32_t m = sp_mask(cpu);
    uint32_t alloc = in->imm & 0xffff;
    unsigned level = in->imm2 & 31;
    uint32_t sp = cpu_sp(cpu);
    uint32_t frame = (sp - w) & m; /* SP or ESP after pushing EBP */
    /* FrameTemp: with a 32-bit operand the whole ESP after that push,
     * whose upper word a 16-bit stack leaves as it was. */
    uint32_t frame_temp = w == 4 ? (cpu->regs[R_ESP] & ~m) | frame : frame;
    uint32_t display[32];
    unsigned npush = 1; /* EBP */

    if (level > 0) {
        uint32_t bp = cpu->regs[R_EBP] & m;
        for (unsigned i = 1; i < level; i++) {
            bp = (bp - w) & m;
            display[i] = cpu_read(cpu, SEG_SS, bp, w);
        }
        npush += level; /* level-1 display entries and FrameTemp */
    }
    uint32_t low = (sp - npush * w) & m;
    uint32_t final_sp = (low - alloc) & m;
    cpu_check_write(cpu, SEG_SS, low, npush * w);
    if (final_sp != low)
        cpu_check_write(cpu, SEG_SS, final_sp, w);

    cpu_write(cpu, SEG_SS, frame, cpu->regs[R_EBP], w);
    if (level > 0) {
        for (unsigned i = 1; i < level; i++)
            cpu_write(cpu, SEG_SS, (frame - i * w) & m, display[i], w);
        cpu_write(cpu, SEG_SS, (frame - level * w) & m, frame_temp, w);
    }
    /* EBP <- FrameTemp: BP only with a 16-bit operand size. */
    reg_write(cpu, R_EBP, w, frame_temp);
    cpu_set_sp(cpu, final_sp);
}

/* LEAVE: ESP = EBP (SP = BP on a 16-bit stack), then pop EBP (SDM LEAVE). */
static void op_leave(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->opsize;
    uint32_t sp = cpu->regs[R_EBP] & sp_mask(cpu);
    uint32_t v = cpu_read(cpu, SEG_SS, sp, w);
    cpu_set_sp(cpu, sp + w);
    reg_write(cpu, R_EBP, w, v);
}

const struct op_handler stack_handlers[] = {
    { OP_PUSH, op_push },   { OP_POP, op_pop },     { OP_PUSHA, op_pusha },
    { OP_POPA, op_popa },   { OP_PUSHF, op_pushf }, { OP_POPF, op_popf },
    { OP_ENTER, op_enter }, { OP_LEAVE, op_leave }, { OP_INVALID, NULL },
};
