/*
 * cpu/bcd.c — decimal adjust: DAA DAS AAA AAS AAM AAD, and SALC.
 *
 * Each follows the pseudocode of its SDM Vol. 2 page. Flags the SDM
 * leaves undefined (OF for DAA/DAS; OF SF ZF PF for AAA/AAS; OF AF CF for
 * AAM/AAD) are left unchanged: their P6 values are not known to us, and
 * the JIT must make the same choice.
 */
#include "cpu/internal.h"

#define R_AH 4 /* AH in byte-register numbering */

static inline uint32_t szp8(uint32_t al)
{
    return (al & 0x80 ? FL_SF : 0) | (al == 0 ? FL_ZF : 0) | (parity8(al) ? FL_PF : 0);
}

/* DAA (SDM Vol. 2 DAA): adjust AL after a packed-BCD addition. */
static void op_daa(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t f = flags_arith(cpu);
    uint32_t al = reg_read(cpu, R_EAX, 1), old_al = al;
    bool old_cf = f & FL_CF, cf = false, af = false;
    if ((al & 0xf) > 9 || (f & FL_AF)) {
        cf = old_cf || al + 6 > 0xff;
        al = (al + 6) & 0xff;
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al + 0x60) & 0xff;
        cf = true;
    } else {
        cf = false;
    }
    reg_write(cpu, R_EAX, 1, al);
    flags_set_arith(cpu, (f & FL_OF) | szp8(al) | (af ? FL_AF : 0) | (cf ? FL_CF : 0));
}

/* DAS (SDM Vol. 2 DAS): adjust AL after a packed-BCD subtraction. Unlike
 * DAA, the second step does not clear CF. */
static void op_das(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t f = flags_arith(cpu);
    uint32_t al = reg_read(cpu, R_EAX, 1), old_al = al;
    bool old_cf = f & FL_CF, cf = false, af = false;
    if ((al & 0xf) > 9 || (f & FL_AF)) {
        cf = old_cf || al < 6;
        al = (al - 6) & 0xff;
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al - 0x60) & 0xff;
        cf = true;
    }
    reg_write(cpu, R_EAX, 1, al);
    flags_set_arith(cpu, (f & FL_OF) | szp8(al) | (af ? FL_AF : 0) | (cf ? FL_CF : 0));
}

/* AAA (SDM Vol. 2 AAA): on an adjust, AX += 106H (the P6 form: the +6
 * carries into AH, unlike the 8086's AL-only add), then AL &= 0FH. */
static void op_aaa(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t f = flags_arith(cpu);
    uint32_t ax = reg_read(cpu, R_EAX, 2);
    bool adjust = (ax & 0xf) > 9 || (f & FL_AF);
    if (adjust)
        ax = (ax + 0x106) & 0xffff;
    reg_write(cpu, R_EAX, 2, ax & 0xff0f);
    f &= ~(FL_AF | FL_CF);
    flags_set_arith(cpu, f | (adjust ? FL_AF | FL_CF : 0));
}

/* AAS (SDM Vol. 2 AAS): on an adjust, AX -= 6 and AH -= 1, then AL &= 0FH. */
static void op_aas(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t f = flags_arith(cpu);
    uint32_t ax = reg_read(cpu, R_EAX, 2);
    bool adjust = (ax & 0xf) > 9 || (f & FL_AF);
    if (adjust)
        ax = (ax - 6 - 0x100) & 0xffff;
    reg_write(cpu, R_EAX, 2, ax & 0xff0f);
    f &= ~(FL_AF | FL_CF);
    flags_set_arith(cpu, f | (adjust ? FL_AF | FL_CF : 0));
}

/* AAM imm8 (SDM Vol. 2 AAM): AH = AL / imm8, AL = AL mod imm8; an imm8
 * of 0 raises #DE. */
static void op_aam(struct cpu *cpu, const struct insn *in)
{
    uint32_t base = in->imm & 0xff;
    if (base == 0)
        cpu_raise(cpu, EXC_DE, 0);
    uint32_t al = reg_read(cpu, R_EAX, 1);
    uint32_t q = al / base, r = al % base;
    reg_write(cpu, R_EAX, 2, (q << 8) | r);
    flags_set_arith(cpu, (flags_arith(cpu) & (FL_OF | FL_AF | FL_CF)) | szp8(r));
}

/* AAD imm8 (SDM Vol. 2 AAD): AL = (AL + AH * imm8) & FFH, AH = 0. */
static void op_aad(struct cpu *cpu, const struct insn *in)
{
    uint32_t base = in->imm & 0xff;
    uint32_t al = reg_read(cpu, R_EAX, 1), ah = reg_read(cpu, R_AH, 1);
    uint32_t r = (al + ah * base) & 0xff;
    reg_write(cpu, R_EAX, 2, r);
    flags_set_arith(cpu, (flags_arith(cpu) & (FL_OF | FL_AF | FL_CF)) | szp8(r));
}

/* SALC (opcode D6, undocumented but present on P6): AL = CF ? FFH : 00H,
 * flags unchanged. */
static void op_salc(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    reg_write(cpu, R_EAX, 1, flags_cf(cpu) ? 0xff : 0);
}

const struct op_handler bcd_handlers[] = {
    { OP_DAA, op_daa }, { OP_DAS, op_das }, { OP_AAA, op_aaa },   { OP_AAS, op_aas },
    { OP_AAM, op_aam }, { OP_AAD, op_aad }, { OP_SALC, op_salc }, { OP_INVALID, NULL },
};
