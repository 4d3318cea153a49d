/*
 * translate/decode_tables.c — the opcode maps of a P6-family CPU (integer
 * and x87; no MMX/SSE), transcribed from the SDM Vol. 2 Appendix A
 * (Tables A-2 one-byte map, A-3 two-byte map, A-6 groups), in the
 * manual's operand notation (see decode_internal.h).
 *
 * An entry left out is OP_INVALID: the CPU raises #UD for it. Prefix
 * bytes (26 2E 36 3E 64 65 66 67 F0 F2 F3) never reach these tables.
 */
#include "translate/decode_internal.h"

_Static_assert(OP_COUNT <= 256, "decode_entry.op is one byte");
_Static_assert(DECODE_ARG_COUNT <= 256, "operand specs are one byte");

/* Short names for the flags, so that a row reads like the manual. */
enum {
    MR = D_MODRM,
    LK = D_LOCK,
    CC = D_COND,
    RR = D_MODRM | D_MODRM_REG,
    GR = D_MODRM | D_GROUP,
};

/* The one-byte map (SDM Vol. 2 Table A-2). */
const struct decode_entry decode_map_1byte[256] = {
    /* 00-3F: ALU Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz, and the
     * segment push/pop and BCD adjust columns 6, 7, E, F. */
    [0x00] = {OP_ADD, MR | LK, Eb, Gb, NONE, 0},
    [0x01] = {OP_ADD, MR | LK, Ev, Gv, NONE, 0},
    [0x02] = {OP_ADD, MR, Gb, Eb, NONE, 0},
    [0x03] = {OP_ADD, MR, Gv, Ev, NONE, 0},
    [0x04] = {OP_ADD, 0, AL, Ib, NONE, 0},
    [0x05] = {OP_ADD, 0, eAX, Iz, NONE, 0},
    [0x06] = {OP_PUSH, 0, sES, NONE, NONE, 0},
    [0x07] = {OP_POP_SREG, 0, sES, NONE, NONE, 0},
    [0x08] = {OP_OR, MR | LK, Eb, Gb, NONE, 0},
    [0x09] = {OP_OR, MR | LK, Ev, Gv, NONE, 0},
    [0x0a] = {OP_OR, MR, Gb, Eb, NONE, 0},
    [0x0b] = {OP_OR, MR, Gv, Ev, NONE, 0},
    [0x0c] = {OP_OR, 0, AL, Ib, NONE, 0},
    [0x0d] = {OP_OR, 0, eAX, Iz, NONE, 0},
    [0x0e] = {OP_PUSH, 0, sCS, NONE, NONE, 0},
    /* 0x0f: escape to the two-byte map */
    [0x10] = {OP_ADC, MR | LK, Eb, Gb, NONE, 0},
    [0x11] = {OP_ADC, MR | LK, Ev, Gv, NONE, 0},
    [0x12] = {OP_ADC, MR, Gb, Eb, NONE, 0},
    [0x13] = {OP_ADC, MR, Gv, Ev, NONE, 0},
    [0x14] = {OP_ADC, 0, AL, Ib, NONE, 0},
    [0x15] = {OP_ADC, 0, eAX, Iz, NONE, 0},
    [0x16] = {OP_PUSH, 0, sSS, NONE, NONE, 0},
    [0x17] = {OP_POP_SREG, 0, sSS, NONE, NONE, 0},
    [0x18] = {OP_SBB, MR | LK, Eb, Gb, NONE, 0},
    [0x19] = {OP_SBB, MR | LK, Ev, Gv, NONE, 0},
    [0x1a] = {OP_SBB, MR, Gb, Eb, NONE, 0},
    [0x1b] = {OP_SBB, MR, Gv, Ev, NONE, 0},
    [0x1c] = {OP_SBB, 0, AL, Ib, NONE, 0},
    [0x1d] = {OP_SBB, 0, eAX, Iz, NONE, 0},
    [0x1e] = {OP_PUSH, 0, sDS, NONE, NONE, 0},
    [0x1f] = {OP_POP_SREG, 0, sDS, NONE, NONE, 0},
    [0x20] = {OP_AND, MR | LK, Eb, Gb, NONE, 0},
    [0x21] = {OP_AND, MR | LK, Ev, Gv, NONE, 0},
    [0x22] = {OP_AND, MR, Gb, Eb, NONE, 0},
    [0x23] = {OP_AND, MR, Gv, Ev, NONE, 0},
    [0x24] = {OP_AND, 0, AL, Ib, NONE, 0},
    [0x25] = {OP_AND, 0, eAX, Iz, NONE, 0},
    [0x27] = {OP_DAA, 0, NONE, NONE, NONE, 0},
    [0x28] = {OP_SUB, MR | LK, Eb, Gb, NONE, 0},
    [0x29] = {OP_SUB, MR | LK, Ev, Gv, NONE, 0},
    [0x2a] = {OP_SUB, MR, Gb, Eb, NONE, 0},
    [0x2b] = {OP_SUB, MR, Gv, Ev, NONE, 0},
    [0x2c] = {OP_SUB, 0, AL, Ib, NONE, 0},
    [0x2d] = {OP_SUB, 0, eAX, Iz, NONE, 0},
    [0x2f] = {OP_DAS, 0, NONE, NONE, NONE, 0},
    [0x30] = {OP_XOR, MR | LK, Eb, Gb, NONE, 0},
    [0x31] = {OP_XOR, MR | LK, Ev, Gv, NONE, 0},
    [0x32] = {OP_XOR, MR, Gb, Eb, NONE, 0},
    [0x33] = {OP_XOR, MR, Gv, Ev, NONE, 0},
    [0x34] = {OP_XOR, 0, AL, Ib, NONE, 0},
    [0x35] = {OP_XOR, 0, eAX, Iz, NONE, 0},
    [0x37] = {OP_AAA, 0, NONE, NONE, NONE, 0},
    [0x38] = {OP_CMP, MR, Eb, Gb, NONE, 0},
    [0x39] = {OP_CMP, MR, Ev, Gv, NONE, 0},
    [0x3a] = {OP_CMP, MR, Gb, Eb, NONE, 0},
    [0x3b] = {OP_CMP, MR, Gv, Ev, NONE, 0},
    [0x3c] = {OP_CMP, 0, AL, Ib, NONE, 0},
    [0x3d] = {OP_CMP, 0, eAX, Iz, NONE, 0},
    [0x3f] = {OP_AAS, 0, NONE, NONE, NONE, 0},

    /* 40-5F: INC/DEC/PUSH/POP with the register in the opcode. */
    [0x40] = {OP_INC, 0, Zv, NONE, NONE, 0}, [0x41] = {OP_INC, 0, Zv, NONE, NONE, 0},
    [0x42] = {OP_INC, 0, Zv, NONE, NONE, 0}, [0x43] = {OP_INC, 0, Zv, NONE, NONE, 0},
    [0x44] = {OP_INC, 0, Zv, NONE, NONE, 0}, [0x45] = {OP_INC, 0, Zv, NONE, NONE, 0},
    [0x46] = {OP_INC, 0, Zv, NONE, NONE, 0}, [0x47] = {OP_INC, 0, Zv, NONE, NONE, 0},
    [0x48] = {OP_DEC, 0, Zv, NONE, NONE, 0}, [0x49] = {OP_DEC, 0, Zv, NONE, NONE, 0},
    [0x4a] = {OP_DEC, 0, Zv, NONE, NONE, 0}, [0x4b] = {OP_DEC, 0, Zv, NONE, NONE, 0},
    [0x4c] = {OP_DEC, 0, Zv, NONE, NONE, 0}, [0x4d] = {OP_DEC, 0, Zv, NONE, NONE, 0},
    [0x4e] = {OP_DEC, 0, Zv, NONE, NONE, 0}, [0x4f] = {OP_DEC, 0, Zv, NONE, NONE, 0},
    [0x50] = {OP_PUSH, 0, Zv, NONE, NONE, 0}, [0x51] = {OP_PUSH, 0, Zv, NONE, NONE, 0},
    [0x52] = {OP_PUSH, 0, Zv, NONE, NONE, 0}, [0x53] = {OP_PUSH, 0, Zv, NONE, NONE, 0},
    [0x54] = {OP_PUSH, 0, Zv, NONE, NONE, 0}, [0x55] = {OP_PUSH, 0, Zv, NONE, NONE, 0},
    [0x56] = {OP_PUSH, 0, Zv, NONE, NONE, 0}, [0x57] = {OP_PUSH, 0, Zv, NONE, NONE, 0},
    [0x58] = {OP_POP, 0, Zv, NONE, NONE, 0}, [0x59] = {OP_POP, 0, Zv, NONE, NONE, 0},
    [0x5a] = {OP_POP, 0, Zv, NONE, NONE, 0}, [0x5b] = {OP_POP, 0, Zv, NONE, NONE, 0},
    [0x5c] = {OP_POP, 0, Zv, NONE, NONE, 0}, [0x5d] = {OP_POP, 0, Zv, NONE, NONE, 0},
    [0x5e] = {OP_POP, 0, Zv, NONE, NONE, 0}, [0x5f] = {OP_POP, 0, Zv, NONE, NONE, 0},

    /* 60-6F */
    [0x60] = {OP_PUSHA, 0, NONE, NONE, NONE, 0},
    [0x61] = {OP_POPA, 0, NONE, NONE, NONE, 0},
    [0x62] = {OP_BOUND, MR, Gv, Ma, NONE, 0},
    [0x63] = {OP_ARPL, MR, Ew, Gw, NONE, 0},
    [0x68] = {OP_PUSH, 0, Iz, NONE, NONE, 0},
    [0x69] = {OP_IMUL2, MR, Gv, Ev, Iz, 0},
    [0x6a] = {OP_PUSH, 0, sIb, NONE, NONE, 0},
    [0x6b] = {OP_IMUL2, MR, Gv, Ev, sIb, 0},
    [0x6c] = {OP_INS, 0, Xb, NONE, NONE, 0},
    [0x6d] = {OP_INS, 0, Xv, NONE, NONE, 0},
    [0x6e] = {OP_OUTS, 0, Xb, NONE, NONE, 0},
    [0x6f] = {OP_OUTS, 0, Xv, NONE, NONE, 0},

    /* 70-7F: Jcc Jb */
    [0x70] = {OP_JCC, CC, Jb, NONE, NONE, 0}, [0x71] = {OP_JCC, CC, Jb, NONE, NONE, 0},
    [0x72] = {OP_JCC, CC, Jb, NONE, NONE, 0}, [0x73] = {OP_JCC, CC, Jb, NONE, NONE, 0},
    [0x74] = {OP_JCC, CC, Jb, NONE, NONE, 0}, [0x75] = {OP_JCC, CC, Jb, NONE, NONE, 0},
    [0x76] = {OP_JCC, CC, Jb, NONE, NONE, 0}, [0x77] = {OP_JCC, CC, Jb, NONE, NONE, 0},
    [0x78] = {OP_JCC, CC, Jb, NONE, NONE, 0}, [0x79] = {OP_JCC, CC, Jb, NONE, NONE, 0},
    [0x7a] = {OP_JCC, CC, Jb, NONE, NONE, 0}, [0x7b] = {OP_JCC, CC, Jb, NONE, NONE, 0},
    [0x7c] = {OP_JCC, CC, Jb, NONE, NONE, 0}, [0x7d] = {OP_JCC, CC, Jb, NONE, NONE, 0},
    [0x7e] = {OP_JCC, CC, Jb, NONE, NONE, 0}, [0x7f] = {OP_JCC, CC, Jb, NONE, NONE, 0},

    /* 80-8F. 82 is an alias of 80 outside 64-bit mode (Table A-2 note). */
    [0x80] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_80},
    [0x81] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_81},
    [0x82] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_80},
    [0x83] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_83},
    [0x84] = {OP_TEST, MR, Eb, Gb, NONE, 0},
    [0x85] = {OP_TEST, MR, Ev, Gv, NONE, 0},
    [0x86] = {OP_XCHG, MR | LK, Eb, Gb, NONE, 0},
    [0x87] = {OP_XCHG, MR | LK, Ev, Gv, NONE, 0},
    [0x88] = {OP_MOV, MR, Eb, Gb, NONE, 0},
    [0x89] = {OP_MOV, MR, Ev, Gv, NONE, 0},
    [0x8a] = {OP_MOV, MR, Gb, Eb, NONE, 0},
    [0x8b] = {OP_MOV, MR, Gv, Ev, NONE, 0},
    [0x8c] = {OP_MOV, MR, Rv_Mw, Sw, NONE, 0},
    [0x8d] = {OP_LEA, MR, Gv, M, NONE, 0},
    [0x8e] = {OP_MOV_TO_SREG, MR, Sw_load, Ew, NONE, 0},
    [0x8f] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_8F},

    /* 90-9F. 90 is NOP (XCHG eAX,eAX would be a no-op anyway; F3 90 is
     * PAUSE, also a NOP on P6). */
    [0x90] = {OP_NOP, 0, NONE, NONE, NONE, 0},
    [0x91] = {OP_XCHG, 0, Zv, eAX, NONE, 0}, [0x92] = {OP_XCHG, 0, Zv, eAX, NONE, 0},
    [0x93] = {OP_XCHG, 0, Zv, eAX, NONE, 0}, [0x94] = {OP_XCHG, 0, Zv, eAX, NONE, 0},
    [0x95] = {OP_XCHG, 0, Zv, eAX, NONE, 0}, [0x96] = {OP_XCHG, 0, Zv, eAX, NONE, 0},
    [0x97] = {OP_XCHG, 0, Zv, eAX, NONE, 0},
    [0x98] = {OP_CBW, 0, NONE, NONE, NONE, 0},
    [0x99] = {OP_CWD, 0, NONE, NONE, NONE, 0},
    [0x9a] = {OP_CALLF, 0, Ap, NONE, NONE, 0},
    [0x9b] = {OP_WAIT, 0, NONE, NONE, NONE, 0},
    [0x9c] = {OP_PUSHF, 0, NONE, NONE, NONE, 0},
    [0x9d] = {OP_POPF, 0, NONE, NONE, NONE, 0},
    [0x9e] = {OP_SAHF, 0, NONE, NONE, NONE, 0},
    [0x9f] = {OP_LAHF, 0, NONE, NONE, NONE, 0},

    /* A0-AF: moffs moves, string instructions, TEST eAX. */
    [0xa0] = {OP_MOV, 0, AL, Ob, NONE, 0},
    [0xa1] = {OP_MOV, 0, eAX, Ov, NONE, 0},
    [0xa2] = {OP_MOV, 0, Ob, AL, NONE, 0},
    [0xa3] = {OP_MOV, 0, Ov, eAX, NONE, 0},
    [0xa4] = {OP_MOVS, 0, Xb, NONE, NONE, 0},
    [0xa5] = {OP_MOVS, 0, Xv, NONE, NONE, 0},
    [0xa6] = {OP_CMPS, 0, Xb, NONE, NONE, 0},
    [0xa7] = {OP_CMPS, 0, Xv, NONE, NONE, 0},
    [0xa8] = {OP_TEST, 0, AL, Ib, NONE, 0},
    [0xa9] = {OP_TEST, 0, eAX, Iz, NONE, 0},
    [0xaa] = {OP_STOS, 0, Xb, NONE, NONE, 0},
    [0xab] = {OP_STOS, 0, Xv, NONE, NONE, 0},
    [0xac] = {OP_LODS, 0, Xb, NONE, NONE, 0},
    [0xad] = {OP_LODS, 0, Xv, NONE, NONE, 0},
    [0xae] = {OP_SCAS, 0, Xb, NONE, NONE, 0},
    [0xaf] = {OP_SCAS, 0, Xv, NONE, NONE, 0},

    /* B0-BF: MOV reg, imm with the register in the opcode. */
    [0xb0] = {OP_MOV, 0, Zb, Ib, NONE, 0}, [0xb1] = {OP_MOV, 0, Zb, Ib, NONE, 0},
    [0xb2] = {OP_MOV, 0, Zb, Ib, NONE, 0}, [0xb3] = {OP_MOV, 0, Zb, Ib, NONE, 0},
    [0xb4] = {OP_MOV, 0, Zb, Ib, NONE, 0}, [0xb5] = {OP_MOV, 0, Zb, Ib, NONE, 0},
    [0xb6] = {OP_MOV, 0, Zb, Ib, NONE, 0}, [0xb7] = {OP_MOV, 0, Zb, Ib, NONE, 0},
    [0xb8] = {OP_MOV, 0, Zv, Iz, NONE, 0}, [0xb9] = {OP_MOV, 0, Zv, Iz, NONE, 0},
    [0xba] = {OP_MOV, 0, Zv, Iz, NONE, 0}, [0xbb] = {OP_MOV, 0, Zv, Iz, NONE, 0},
    [0xbc] = {OP_MOV, 0, Zv, Iz, NONE, 0}, [0xbd] = {OP_MOV, 0, Zv, Iz, NONE, 0},
    [0xbe] = {OP_MOV, 0, Zv, Iz, NONE, 0}, [0xbf] = {OP_MOV, 0, Zv, Iz, NONE, 0},

    /* C0-CF. C4/C5 are LES/LDS only (no VEX on P6). */
    [0xc0] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_C0},
    [0xc1] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_C1},
    [0xc2] = {OP_RET, 0, Iw, NONE, NONE, 0},
    [0xc3] = {OP_RET, 0, NONE, NONE, NONE, 0},
    [0xc4] = {OP_LES, MR, Gv, Mp, NONE, 0},
    [0xc5] = {OP_LDS, MR, Gv, Mp, NONE, 0},
    [0xc6] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_C6},
    [0xc7] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_C7},
    [0xc8] = {OP_ENTER, 0, Iw, Ib2, NONE, 0},
    [0xc9] = {OP_LEAVE, 0, NONE, NONE, NONE, 0},
    [0xca] = {OP_RETF, 0, Iw, NONE, NONE, 0},
    [0xcb] = {OP_RETF, 0, NONE, NONE, NONE, 0},
    [0xcc] = {OP_INT3, 0, NONE, NONE, NONE, 0},
    [0xcd] = {OP_INT, 0, Ib, NONE, NONE, 0},
    [0xce] = {OP_INTO, 0, NONE, NONE, NONE, 0},
    [0xcf] = {OP_IRET, 0, NONE, NONE, NONE, 0},

    /* D0-DF: group 2 by 1 / CL, BCD, SALC (undocumented, present on
     * every P6), XLAT, x87 escapes. */
    [0xd0] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_D0},
    [0xd1] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_D1},
    [0xd2] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_D2},
    [0xd3] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_D3},
    [0xd4] = {OP_AAM, 0, Ib, NONE, NONE, 0},
    [0xd5] = {OP_AAD, 0, Ib, NONE, NONE, 0},
    [0xd6] = {OP_SALC, 0, NONE, NONE, NONE, 0},
    [0xd7] = {OP_XLAT, 0, AL, NONE, NONE, 0},
    [0xd8] = {OP_X87, MR, Mfpu, NONE, NONE, 0}, [0xd9] = {OP_X87, MR, Mfpu, NONE, NONE, 0},
    [0xda] = {OP_X87, MR, Mfpu, NONE, NONE, 0}, [0xdb] = {OP_X87, MR, Mfpu, NONE, NONE, 0},
    [0xdc] = {OP_X87, MR, Mfpu, NONE, NONE, 0}, [0xdd] = {OP_X87, MR, Mfpu, NONE, NONE, 0},
    [0xde] = {OP_X87, MR, Mfpu, NONE, NONE, 0}, [0xdf] = {OP_X87, MR, Mfpu, NONE, NONE, 0},

    /* E0-EF: loops, I/O, near/far CALL/JMP. */
    [0xe0] = {OP_LOOPNE, 0, Jb, NONE, NONE, 0},
    [0xe1] = {OP_LOOPE, 0, Jb, NONE, NONE, 0},
    [0xe2] = {OP_LOOP, 0, Jb, NONE, NONE, 0},
    [0xe3] = {OP_JCXZ, 0, Jb, NONE, NONE, 0},
    [0xe4] = {OP_IN, 0, AL, Ib, NONE, 0},
    [0xe5] = {OP_IN, 0, eAX, Ib, NONE, 0},
    [0xe6] = {OP_OUT, 0, Ib, AL, NONE, 0},
    [0xe7] = {OP_OUT, 0, Ib, eAX, NONE, 0},
    [0xe8] = {OP_CALL, 0, Jz, NONE, NONE, 0},
    [0xe9] = {OP_JMP, 0, Jz, NONE, NONE, 0},
    [0xea] = {OP_JMPF, 0, Ap, NONE, NONE, 0},
    [0xeb] = {OP_JMP, 0, Jb, NONE, NONE, 0},
    [0xec] = {OP_IN, 0, AL, DX, NONE, 0},
    [0xed] = {OP_IN, 0, eAX, DX, NONE, 0},
    [0xee] = {OP_OUT, 0, DX, AL, NONE, 0},
    [0xef] = {OP_OUT, 0, DX, eAX, NONE, 0},

    /* F0-FF. F1 is INT1 (ICEBP), undocumented before the 2018 SDM but
     * present on every P6. */
    [0xf1] = {OP_INT1, 0, NONE, NONE, NONE, 0},
    [0xf4] = {OP_HLT, 0, NONE, NONE, NONE, 0},
    [0xf5] = {OP_CMC, 0, NONE, NONE, NONE, 0},
    [0xf6] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_F6},
    [0xf7] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_F7},
    [0xf8] = {OP_CLC, 0, NONE, NONE, NONE, 0},
    [0xf9] = {OP_STC, 0, NONE, NONE, NONE, 0},
    [0xfa] = {OP_CLI, 0, NONE, NONE, NONE, 0},
    [0xfb] = {OP_STI, 0, NONE, NONE, NONE, 0},
    [0xfc] = {OP_CLD, 0, NONE, NONE, NONE, 0},
    [0xfd] = {OP_STD, 0, NONE, NONE, NONE, 0},
    [0xfe] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_FE},
    [0xff] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_FF},
};

/* The two-byte map, 0F xx (SDM Vol. 2 Table A-3), as a P6 has it: MMX,
 * SSE and 3DNow! rows are absent (#UD); of group 15 only FXSAVE and
 * FXRSTOR are present. */
const struct decode_entry decode_map_0f[256] = {
    [0x00] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_0F00},
    [0x01] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_0F01},
    [0x02] = {OP_LAR, MR, Gv, Ew, NONE, 0},
    [0x03] = {OP_LSL, MR, Gv, Ew, NONE, 0},
    [0x06] = {OP_CLTS, 0, NONE, NONE, NONE, 0},
    [0x08] = {OP_INVD, 0, NONE, NONE, NONE, 0},
    [0x09] = {OP_WBINVD, 0, NONE, NONE, NONE, 0},
    [0x0b] = {OP_UD2, 0, NONE, NONE, NONE, 0},

    /* 0F 18-1F: reserved-NOP space with a full ModRM (prefetch hints on
     * later models; NOP Ev is 0F 1F /0). */
    [0x18] = {OP_NOP, MR, NONE, NONE, NONE, 0}, [0x19] = {OP_NOP, MR, NONE, NONE, NONE, 0},
    [0x1a] = {OP_NOP, MR, NONE, NONE, NONE, 0}, [0x1b] = {OP_NOP, MR, NONE, NONE, NONE, 0},
    [0x1c] = {OP_NOP, MR, NONE, NONE, NONE, 0}, [0x1d] = {OP_NOP, MR, NONE, NONE, NONE, 0},
    [0x1e] = {OP_NOP, MR, NONE, NONE, NONE, 0}, [0x1f] = {OP_NOP, MR, NONE, NONE, NONE, 0},

    /* 0F 20-23: MOV to/from control and debug registers. ModRM.mod is
     * ignored: the operand is always a register (SDM MOV CR/DR "the
     * mod field is ignored"). 0F 24/26 (test registers) are gone on P6. */
    [0x20] = {OP_MOV_FROM_CR, RR, Rd, Cd, NONE, 0},
    [0x21] = {OP_MOV_FROM_DR, RR, Rd, Dd, NONE, 0},
    [0x22] = {OP_MOV_TO_CR, RR, Cd, Rd, NONE, 0},
    [0x23] = {OP_MOV_TO_DR, RR, Dd, Rd, NONE, 0},

    [0x30] = {OP_WRMSR, 0, NONE, NONE, NONE, 0},
    [0x31] = {OP_RDTSC, 0, NONE, NONE, NONE, 0},
    [0x32] = {OP_RDMSR, 0, NONE, NONE, NONE, 0},
    [0x33] = {OP_RDPMC, 0, NONE, NONE, NONE, 0},
    [0x34] = {OP_SYSENTER, 0, NONE, NONE, NONE, 0},
    [0x35] = {OP_SYSEXIT, 0, NONE, NONE, NONE, 0},

    /* 0F 40-4F: CMOVcc Gv,Ev (P6). */
    [0x40] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0}, [0x41] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0},
    [0x42] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0}, [0x43] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0},
    [0x44] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0}, [0x45] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0},
    [0x46] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0}, [0x47] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0},
    [0x48] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0}, [0x49] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0},
    [0x4a] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0}, [0x4b] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0},
    [0x4c] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0}, [0x4d] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0},
    [0x4e] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0}, [0x4f] = {OP_CMOVCC, MR | CC, Gv, Ev, NONE, 0},

    /* 0F 80-8F: Jcc Jz. */
    [0x80] = {OP_JCC, CC, Jz, NONE, NONE, 0}, [0x81] = {OP_JCC, CC, Jz, NONE, NONE, 0},
    [0x82] = {OP_JCC, CC, Jz, NONE, NONE, 0}, [0x83] = {OP_JCC, CC, Jz, NONE, NONE, 0},
    [0x84] = {OP_JCC, CC, Jz, NONE, NONE, 0}, [0x85] = {OP_JCC, CC, Jz, NONE, NONE, 0},
    [0x86] = {OP_JCC, CC, Jz, NONE, NONE, 0}, [0x87] = {OP_JCC, CC, Jz, NONE, NONE, 0},
    [0x88] = {OP_JCC, CC, Jz, NONE, NONE, 0}, [0x89] = {OP_JCC, CC, Jz, NONE, NONE, 0},
    [0x8a] = {OP_JCC, CC, Jz, NONE, NONE, 0}, [0x8b] = {OP_JCC, CC, Jz, NONE, NONE, 0},
    [0x8c] = {OP_JCC, CC, Jz, NONE, NONE, 0}, [0x8d] = {OP_JCC, CC, Jz, NONE, NONE, 0},
    [0x8e] = {OP_JCC, CC, Jz, NONE, NONE, 0}, [0x8f] = {OP_JCC, CC, Jz, NONE, NONE, 0},

    /* 0F 90-9F: SETcc Eb (ModRM.reg is not used). */
    [0x90] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0}, [0x91] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0},
    [0x92] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0}, [0x93] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0},
    [0x94] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0}, [0x95] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0},
    [0x96] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0}, [0x97] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0},
    [0x98] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0}, [0x99] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0},
    [0x9a] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0}, [0x9b] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0},
    [0x9c] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0}, [0x9d] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0},
    [0x9e] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0}, [0x9f] = {OP_SETCC, MR | CC, Eb, NONE, NONE, 0},

    [0xa0] = {OP_PUSH, 0, sFS, NONE, NONE, 0},
    [0xa1] = {OP_POP_SREG, 0, sFS, NONE, NONE, 0},
    [0xa2] = {OP_CPUID, 0, NONE, NONE, NONE, 0},
    [0xa3] = {OP_BT, MR, Ev, Gv, NONE, 0},
    [0xa4] = {OP_SHLD, MR, Ev, Gv, Ib, 0},
    [0xa5] = {OP_SHLD, MR, Ev, Gv, CL, 0},
    [0xa8] = {OP_PUSH, 0, sGS, NONE, NONE, 0},
    [0xa9] = {OP_POP_SREG, 0, sGS, NONE, NONE, 0},
    [0xaa] = {OP_RSM, 0, NONE, NONE, NONE, 0},
    [0xab] = {OP_BTS, MR | LK, Ev, Gv, NONE, 0},
    [0xac] = {OP_SHRD, MR, Ev, Gv, Ib, 0},
    [0xad] = {OP_SHRD, MR, Ev, Gv, CL, 0},
    /* 0F AE: group 15; only FXSAVE and FXRSTOR exist on a P6 with FXSR. */
    [0xae] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_0FAE},
    /* IMUL Gv,Ev as dst = src * src2 with src the destination register. */
    [0xaf] = {OP_IMUL2, MR, Gv, Gv, Ev, 0},

    [0xb0] = {OP_CMPXCHG, MR | LK, Eb, Gb, NONE, 0},
    [0xb1] = {OP_CMPXCHG, MR | LK, Ev, Gv, NONE, 0},
    [0xb2] = {OP_LSS, MR, Gv, Mp, NONE, 0},
    [0xb3] = {OP_BTR, MR | LK, Ev, Gv, NONE, 0},
    [0xb4] = {OP_LFS, MR, Gv, Mp, NONE, 0},
    [0xb5] = {OP_LGS, MR, Gv, Mp, NONE, 0},
    [0xb6] = {OP_MOVZX, MR, Gv, Eb, NONE, 0},
    [0xb7] = {OP_MOVZX, MR, Gv, Ew, NONE, 0},
    [0xba] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_0FBA},
    [0xbb] = {OP_BTC, MR | LK, Ev, Gv, NONE, 0},
    [0xbc] = {OP_BSF, MR, Gv, Ev, NONE, 0},
    [0xbd] = {OP_BSR, MR, Gv, Ev, NONE, 0},
    [0xbe] = {OP_MOVSX, MR, Gv, Eb, NONE, 0},
    [0xbf] = {OP_MOVSX, MR, Gv, Ew, NONE, 0},

    [0xc0] = {OP_XADD, MR | LK, Eb, Gb, NONE, 0},
    [0xc1] = {OP_XADD, MR | LK, Ev, Gv, NONE, 0},
    [0xc7] = {OP_INVALID, GR, NONE, NONE, NONE, GRP_0FC7},
    /* BSWAP with a 16-bit operand is undefined (SDM BSWAP): decoded with
     * width 2 and left to the handler. */
    [0xc8] = {OP_BSWAP, 0, Zv, NONE, NONE, 0}, [0xc9] = {OP_BSWAP, 0, Zv, NONE, NONE, 0},
    [0xca] = {OP_BSWAP, 0, Zv, NONE, NONE, 0}, [0xcb] = {OP_BSWAP, 0, Zv, NONE, NONE, 0},
    [0xcc] = {OP_BSWAP, 0, Zv, NONE, NONE, 0}, [0xcd] = {OP_BSWAP, 0, Zv, NONE, NONE, 0},
    [0xce] = {OP_BSWAP, 0, Zv, NONE, NONE, 0}, [0xcf] = {OP_BSWAP, 0, Zv, NONE, NONE, 0},
};

/* The groups (SDM Vol. 2 Table A-6), one row per ModRM.reg. A missing
 * row is #UD. M-only operands make the register form (mod == 3) #UD. */
const struct decode_entry decode_groups[DECODE_GROUP_COUNT][8] = {
    [GRP_80] = {
        {OP_ADD, MR | LK, Eb, Ib, NONE, 0}, {OP_OR, MR | LK, Eb, Ib, NONE, 0},
        {OP_ADC, MR | LK, Eb, Ib, NONE, 0}, {OP_SBB, MR | LK, Eb, Ib, NONE, 0},
        {OP_AND, MR | LK, Eb, Ib, NONE, 0}, {OP_SUB, MR | LK, Eb, Ib, NONE, 0},
        {OP_XOR, MR | LK, Eb, Ib, NONE, 0}, {OP_CMP, MR, Eb, Ib, NONE, 0},
    },
    [GRP_81] = {
        {OP_ADD, MR | LK, Ev, Iz, NONE, 0}, {OP_OR, MR | LK, Ev, Iz, NONE, 0},
        {OP_ADC, MR | LK, Ev, Iz, NONE, 0}, {OP_SBB, MR | LK, Ev, Iz, NONE, 0},
        {OP_AND, MR | LK, Ev, Iz, NONE, 0}, {OP_SUB, MR | LK, Ev, Iz, NONE, 0},
        {OP_XOR, MR | LK, Ev, Iz, NONE, 0}, {OP_CMP, MR, Ev, Iz, NONE, 0},
    },
    [GRP_83] = {
        {OP_ADD, MR | LK, Ev, sIb, NONE, 0}, {OP_OR, MR | LK, Ev, sIb, NONE, 0},
        {OP_ADC, MR | LK, Ev, sIb, NONE, 0}, {OP_SBB, MR | LK, Ev, sIb, NONE, 0},
        {OP_AND, MR | LK, Ev, sIb, NONE, 0}, {OP_SUB, MR | LK, Ev, sIb, NONE, 0},
        {OP_XOR, MR | LK, Ev, sIb, NONE, 0}, {OP_CMP, MR, Ev, sIb, NONE, 0},
    },
    [GRP_8F] = {
        {OP_POP, MR, Ev, NONE, NONE, 0},
    },
    /* Group 2: /6 is the undocumented alias of SHL (OP_SAL, which the
     * handlers execute as SHL). */
    [GRP_C0] = {
        {OP_ROL, MR, Eb, Ib, NONE, 0}, {OP_ROR, MR, Eb, Ib, NONE, 0},
        {OP_RCL, MR, Eb, Ib, NONE, 0}, {OP_RCR, MR, Eb, Ib, NONE, 0},
        {OP_SHL, MR, Eb, Ib, NONE, 0}, {OP_SHR, MR, Eb, Ib, NONE, 0},
        {OP_SAL, MR, Eb, Ib, NONE, 0}, {OP_SAR, MR, Eb, Ib, NONE, 0},
    },
    [GRP_C1] = {
        {OP_ROL, MR, Ev, Ib, NONE, 0}, {OP_ROR, MR, Ev, Ib, NONE, 0},
        {OP_RCL, MR, Ev, Ib, NONE, 0}, {OP_RCR, MR, Ev, Ib, NONE, 0},
        {OP_SHL, MR, Ev, Ib, NONE, 0}, {OP_SHR, MR, Ev, Ib, NONE, 0},
        {OP_SAL, MR, Ev, Ib, NONE, 0}, {OP_SAR, MR, Ev, Ib, NONE, 0},
    },
    [GRP_D0] = {
        {OP_ROL, MR, Eb, One, NONE, 0}, {OP_ROR, MR, Eb, One, NONE, 0},
        {OP_RCL, MR, Eb, One, NONE, 0}, {OP_RCR, MR, Eb, One, NONE, 0},
        {OP_SHL, MR, Eb, One, NONE, 0}, {OP_SHR, MR, Eb, One, NONE, 0},
        {OP_SAL, MR, Eb, One, NONE, 0}, {OP_SAR, MR, Eb, One, NONE, 0},
    },
    [GRP_D1] = {
        {OP_ROL, MR, Ev, One, NONE, 0}, {OP_ROR, MR, Ev, One, NONE, 0},
        {OP_RCL, MR, Ev, One, NONE, 0}, {OP_RCR, MR, Ev, One, NONE, 0},
        {OP_SHL, MR, Ev, One, NONE, 0}, {OP_SHR, MR, Ev, One, NONE, 0},
        {OP_SAL, MR, Ev, One, NONE, 0}, {OP_SAR, MR, Ev, One, NONE, 0},
    },
    [GRP_D2] = {
        {OP_ROL, MR, Eb, CL, NONE, 0}, {OP_ROR, MR, Eb, CL, NONE, 0},
        {OP_RCL, MR, Eb, CL, NONE, 0}, {OP_RCR, MR, Eb, CL, NONE, 0},
        {OP_SHL, MR, Eb, CL, NONE, 0}, {OP_SHR, MR, Eb, CL, NONE, 0},
        {OP_SAL, MR, Eb, CL, NONE, 0}, {OP_SAR, MR, Eb, CL, NONE, 0},
    },
    [GRP_D3] = {
        {OP_ROL, MR, Ev, CL, NONE, 0}, {OP_ROR, MR, Ev, CL, NONE, 0},
        {OP_RCL, MR, Ev, CL, NONE, 0}, {OP_RCR, MR, Ev, CL, NONE, 0},
        {OP_SHL, MR, Ev, CL, NONE, 0}, {OP_SHR, MR, Ev, CL, NONE, 0},
        {OP_SAL, MR, Ev, CL, NONE, 0}, {OP_SAR, MR, Ev, CL, NONE, 0},
    },
    /* Group 3: /1 is the undocumented alias of TEST /0. */
    [GRP_F6] = {
        {OP_TEST, MR, Eb, Ib, NONE, 0}, {OP_TEST, MR, Eb, Ib, NONE, 0},
        {OP_NOT, MR | LK, Eb, NONE, NONE, 0}, {OP_NEG, MR | LK, Eb, NONE, NONE, 0},
        {OP_MUL, MR, Eb, NONE, NONE, 0}, {OP_IMUL1, MR, Eb, NONE, NONE, 0},
        {OP_DIV, MR, Eb, NONE, NONE, 0}, {OP_IDIV, MR, Eb, NONE, NONE, 0},
    },
    [GRP_F7] = {
        {OP_TEST, MR, Ev, Iz, NONE, 0}, {OP_TEST, MR, Ev, Iz, NONE, 0},
        {OP_NOT, MR | LK, Ev, NONE, NONE, 0}, {OP_NEG, MR | LK, Ev, NONE, NONE, 0},
        {OP_MUL, MR, Ev, NONE, NONE, 0}, {OP_IMUL1, MR, Ev, NONE, NONE, 0},
        {OP_DIV, MR, Ev, NONE, NONE, 0}, {OP_IDIV, MR, Ev, NONE, NONE, 0},
    },
    [GRP_FE] = {
        {OP_INC, MR | LK, Eb, NONE, NONE, 0}, {OP_DEC, MR | LK, Eb, NONE, NONE, 0},
    },
    [GRP_FF] = {
        {OP_INC, MR | LK, Ev, NONE, NONE, 0}, {OP_DEC, MR | LK, Ev, NONE, NONE, 0},
        {OP_CALL, MR, Ev, NONE, NONE, 0}, {OP_CALLF, MR, Mp, NONE, NONE, 0},
        {OP_JMP, MR, Ev, NONE, NONE, 0}, {OP_JMPF, MR, Mp, NONE, NONE, 0},
        {OP_PUSH, MR, Ev, NONE, NONE, 0},
    },
    [GRP_C6] = {
        {OP_MOV, MR, Eb, Ib, NONE, 0},
    },
    [GRP_C7] = {
        {OP_MOV, MR, Ev, Iz, NONE, 0},
    },
    /* Group 6: SLDT/STR store a register-sized value to a register, a
     * word to memory. */
    [GRP_0F00] = {
        {OP_SLDT, MR, Rv_Mw, NONE, NONE, 0}, {OP_STR, MR, Rv_Mw, NONE, NONE, 0},
        {OP_LLDT, MR, Ew, NONE, NONE, 0}, {OP_LTR, MR, Ew, NONE, NONE, 0},
        {OP_VERR, MR, Ew, NONE, NONE, 0}, {OP_VERW, MR, Ew, NONE, NONE, 0},
    },
    /* Group 7 on P6: the register forms of /0-/3 and /7 are #UD (later
     * CPUs put VMX, MONITOR, SWAPGS... there); SMSW and LMSW take a
     * register. */
    [GRP_0F01] = {
        {OP_SGDT, MR, Ms, NONE, NONE, 0}, {OP_SIDT, MR, Ms, NONE, NONE, 0},
        {OP_LGDT, MR, Ms, NONE, NONE, 0}, {OP_LIDT, MR, Ms, NONE, NONE, 0},
        {OP_SMSW, MR, Rv_Mw, NONE, NONE, 0}, {OP_INVALID, MR, NONE, NONE, NONE, 0},
        {OP_LMSW, MR, Ew, NONE, NONE, 0}, {OP_INVLPG, MR, Mb, NONE, NONE, 0},
    },
    /* Group 8: /0-/3 are #UD. */
    [GRP_0FBA] = {
        [4] = {OP_BT, MR, Ev, Ib, NONE, 0},
        [5] = {OP_BTS, MR | LK, Ev, Ib, NONE, 0},
        [6] = {OP_BTR, MR | LK, Ev, Ib, NONE, 0},
        [7] = {OP_BTC, MR | LK, Ev, Ib, NONE, 0},
    },
    /* Group 9: only CMPXCHG8B m64 exists on P6. */
    [GRP_0FC7] = {
        [1] = {OP_CMPXCHG8B, MR | LK, Mq, NONE, NONE, 0},
    },
    /* Group 15 on P6: FXSAVE m512 (/0) and FXRSTOR m512 (/1); the
     * register forms and /2-/7 (SSE/SSE2 and later) are #UD. */
    [GRP_0FAE] = {
        [0] = {OP_FXSAVE, MR, Mfx, NONE, NONE, 0},
        [1] = {OP_FXRSTOR, MR, Mfx, NONE, NONE, 0},
    },
};
