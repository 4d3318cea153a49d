/*
 * translate/decode_internal.h — private to the decoder: the opcode table
 * format shared by decode.c (the engine) and decode_tables.c (the data).
 *
 * Operands are written in the SDM's notation (Vol. 2, Appendix A.2):
 * E = ModRM r/m (register or memory), G = ModRM.reg, M = memory only,
 * R = ModRM r/m as a register whatever ModRM.mod says, S/C/D = segment,
 * control, debug register in ModRM.reg, I = immediate, J = relative
 * offset, A = far pointer, O = moffs; b/w/d = 1/2/4 bytes, v/z = operand
 * size. Z = register in the opcode's low 3 bits, X = string operand.
 */
#ifndef GLASS_TRANSLATE_DECODE_INTERNAL_H
#define GLASS_TRANSLATE_DECODE_INTERNAL_H

#include <stdint.h>

#include "cpu/cpu.h"

/* Operand specifications (one byte each in the tables). */
enum decode_arg {
    NONE = 0,
    Eb, Ew, Ed, Ev,
    Rv_Mw,      /* register of opsize, or a 16-bit memory word (MOV Ev,Sw, SLDT, STR, SMSW) */
    Gb, Gw, Gv,
    M,          /* memory only, width = opsize (LEA: only the address matters) */
    Mb,         /* memory only, byte (INVLPG) */
    Ms,         /* memory only, 6-byte pseudo-descriptor (SGDT...LIDT) */
    Ma,         /* memory only, two opsize words (BOUND) */
    Mp,         /* memory only, far pointer: offset + selector */
    Mq,         /* memory only, 8 bytes (CMPXCHG8B) */
    Mfpu,       /* x87: memory with width 0 when mod != 3, else no operand */
    Rd,         /* r/m as a 32-bit register, mod ignored (MOV CR/DR) */
    Cd, Dd,
    Sw,         /* segment register in ModRM.reg (reg > 5: #UD) */
    Sw_load,    /* same, as a MOV destination: CS is #UD too */
    Ib,         /* 8-bit immediate, zero-extended */
    sIb,        /* 8-bit immediate sign-extended, width opsize */
    Iw, Iz,
    Ib2,        /* 8-bit second immediate in imm2 (ENTER's level) */
    Jb, Jz, Ap,
    Ob, Ov,
    AL, eAX, CL, DX,
    One,        /* the constant 1 of D0/D1 */
    Zb, Zv,
    sES, sCS, sSS, sDS, sFS, sGS, /* segment register named by the opcode */
    Xb, Xv,     /* string operand: only its width is given */
    Mfx,        /* memory only, FXSAVE area: 512 bytes, recorded as width 0
                   (too wide for struct operand); the handler knows its size */
    DECODE_ARG_COUNT
};

/* Entry flags. */
enum {
    D_MODRM = 1 << 0,     /* a ModRM byte follows the opcode */
    D_GROUP = 1 << 1,     /* `group` names the table indexed by ModRM.reg */
    D_LOCK = 1 << 2,      /* LOCK allowed (with a memory destination) */
    D_COND = 1 << 3,      /* insn->cond = opcode & 15 */
    D_MODRM_REG = 1 << 4, /* ModRM.mod ignored: r/m is always a register */
};

struct decode_entry {
    uint8_t op;           /* enum op; OP_INVALID: #UD */
    uint8_t flags;
    uint8_t dst, src, src2; /* enum decode_arg */
    uint8_t group;        /* with D_GROUP: index into decode_groups */
};

/* Group tables (SDM Vol. 2 Table A-6), indexed by ModRM.reg. */
enum decode_group {
    GRP_80, GRP_81, GRP_83,          /* group 1 (82 uses GRP_80) */
    GRP_8F,                          /* group 1A */
    GRP_C0, GRP_C1, GRP_D0, GRP_D1, GRP_D2, GRP_D3, /* group 2 */
    GRP_F6, GRP_F7,                  /* group 3 */
    GRP_FE, GRP_FF,                  /* groups 4 and 5 */
    GRP_C6, GRP_C7,                  /* group 11 */
    GRP_0F00, GRP_0F01,              /* groups 6 and 7 */
    GRP_0FBA, GRP_0FC7,              /* groups 8 and 9 */
    GRP_0FAE,                        /* group 15: FXSAVE, FXRSTOR on P6 */
    DECODE_GROUP_COUNT
};

extern const struct decode_entry decode_map_1byte[256];
extern const struct decode_entry decode_map_0f[256];
extern const struct decode_entry decode_groups[DECODE_GROUP_COUNT][8];

#endif
