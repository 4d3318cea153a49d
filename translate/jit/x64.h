/*
 * translate/jit/x64.h — a small x86-64 assembler: the encodings the JIT
 * emits, written from the Intel SDM Vol. 2 (chapter 2, instruction format:
 * legacy prefixes, REX, opcode, ModR/M, SIB, displacement, immediate).
 *
 * Private to translate/jit/. Every function appends one host instruction
 * to a struct x64_asm; none of them fails on its own: running out of room
 * sets `full` and further bytes are dropped (the caller checks once per
 * block and retries after flushing the cache), and an impossible operand
 * combination sets `bad` (a bug in the caller, caught by the tests).
 *
 * Byte registers: register numbers 4-7 at operand size 1 always mean AH,
 * CH, DH, BH (the guest's high bytes, which the JIT maps to the same host
 * registers). Those cannot be encoded together with a REX prefix, so an
 * instruction that needs both sets `bad`; the translator avoids them.
 */
#ifndef GLASS_TRANSLATE_JIT_X64_H
#define GLASS_TRANSLATE_JIT_X64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum x64_reg {
    X_RAX, X_RCX, X_RDX, X_RBX, X_RSP, X_RBP, X_RSI, X_RDI,
    X_R8, X_R9, X_R10, X_R11, X_R12, X_R13, X_R14, X_R15,
    X_NONE = -1,
};

/* Condition codes in the encoding order of Jcc/SETcc/CMOVcc (tttn),
 * the same order as the guest's (enum in struct insn's cond). */
enum x64_cc {
    XCC_O, XCC_NO, XCC_B, XCC_AE, XCC_E, XCC_NE, XCC_BE, XCC_A,
    XCC_S, XCC_NS, XCC_P, XCC_NP, XCC_L, XCC_GE, XCC_LE, XCC_G,
};

/* Group-1 ALU operations in their /digit order (the guest's OP_ADD..). */
enum x64_alu { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };
/* Group-2 shifts in their /digit order. */
enum x64_shift { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL, SH_SAR };
/* Group-3 unary operations (F6/F7 /digit). */
enum x64_unary { UN_NOT = 2, UN_NEG = 3, UN_MUL = 4, UN_IMUL = 5, UN_DIV = 6, UN_IDIV = 7 };

/* [base + index * 2^scale + disp]; base and/or index may be X_NONE. */
struct x64_mem {
    int8_t base, index;
    uint8_t scale;
    int32_t disp;
};

/* An r/m operand: a register or memory. */
struct x64_rm {
    bool is_reg;
    uint8_t reg;
    struct x64_mem m;
};

static inline struct x64_mem x64_mem(int base, int32_t disp)
{
    return (struct x64_mem){ (int8_t)base, X_NONE, 0, disp };
}

static inline struct x64_mem x64_mem_idx(int base, int index, unsigned scale, int32_t disp)
{
    return (struct x64_mem){ (int8_t)base, (int8_t)index, (uint8_t)scale, disp };
}

static inline struct x64_rm x64_r(int reg)
{
    return (struct x64_rm){ .is_reg = true, .reg = (uint8_t)reg };
}

static inline struct x64_rm x64_m(struct x64_mem m)
{
    return (struct x64_rm){ .is_reg = false, .m = m };
}

struct x64_asm {
    uint8_t *buf;  /* where bytes are written (the cache's writable view) */
    size_t pos, cap;
    bool full;     /* ran out of room: the output is incomplete */
    bool bad;      /* an operand combination that cannot be encoded */
};

void x64_init(struct x64_asm *a, uint8_t *buf, size_t cap);

void x64_byte(struct x64_asm *a, uint8_t b);
void x64_bytes(struct x64_asm *a, const uint8_t *p, size_t n);
void x64_u32(struct x64_asm *a, uint32_t v);
void x64_u64(struct x64_asm *a, uint64_t v);
/* Overwrites a 32-bit field at `pos` (a displacement being patched). */
void x64_patch32(struct x64_asm *a, size_t pos, uint32_t v);

/* Generic: [66] [REX] opcode ModRM... for `reg` (or a /digit) and `rm`,
 * then `imm_size` bytes of `imm`. Sizes are 1, 2, 4 or 8 bytes. */
void x64_op(struct x64_asm *a, unsigned size, const uint8_t *opcode, unsigned oplen,
            unsigned reg, struct x64_rm rm, unsigned imm_size, uint32_t imm);

/* ALU: op rm, reg / op reg, rm / op rm, imm (imm8 form when it fits). */
void x64_alu_rm_reg(struct x64_asm *a, enum x64_alu op, unsigned size, struct x64_rm dst,
                    unsigned src);
void x64_alu_reg_rm(struct x64_asm *a, enum x64_alu op, unsigned size, unsigned dst,
                    struct x64_rm src);
void x64_alu_rm_imm(struct x64_asm *a, enum x64_alu op, unsigned size, struct x64_rm dst,
                    uint32_t imm);
void x64_test_rm_reg(struct x64_asm *a, unsigned size, struct x64_rm dst, unsigned src);
void x64_test_rm_imm(struct x64_asm *a, unsigned size, struct x64_rm dst, uint32_t imm);

void x64_mov_rm_reg(struct x64_asm *a, unsigned size, struct x64_rm dst, unsigned src);
void x64_mov_reg_rm(struct x64_asm *a, unsigned size, unsigned dst, struct x64_rm src);
void x64_mov_rm_imm(struct x64_asm *a, unsigned size, struct x64_rm dst, uint32_t imm);
/* mov r32, imm32 (zero-extends) / mov r64, imm64. */
void x64_mov_r32_imm(struct x64_asm *a, unsigned reg, uint32_t imm);
void x64_mov_r64_imm(struct x64_asm *a, unsigned reg, uint64_t imm);
/* movzx / movsx dst (size 2 or 4), from a src of src_size 1 or 2. */
void x64_movzx(struct x64_asm *a, unsigned size, unsigned dst, unsigned src_size,
               struct x64_rm src);
void x64_movsx(struct x64_asm *a, unsigned size, unsigned dst, unsigned src_size,
               struct x64_rm src);
void x64_lea(struct x64_asm *a, unsigned size, unsigned dst, struct x64_mem m);
void x64_xchg_rm_reg(struct x64_asm *a, unsigned size, struct x64_rm dst, unsigned src);

/* Shifts and rotates by an immediate (1 uses D0/D1) or by CL. */
void x64_shift_imm(struct x64_asm *a, enum x64_shift op, unsigned size, struct x64_rm dst,
                   uint8_t count);
void x64_shift_cl(struct x64_asm *a, enum x64_shift op, unsigned size, struct x64_rm dst);
/* SHLD/SHRD rm, reg, imm8 / CL. */
void x64_shxd_imm(struct x64_asm *a, bool right, unsigned size, struct x64_rm dst,
                  unsigned src, uint8_t count);
void x64_shxd_cl(struct x64_asm *a, bool right, unsigned size, struct x64_rm dst,
                 unsigned src);
void x64_unary(struct x64_asm *a, enum x64_unary op, unsigned size, struct x64_rm dst);
void x64_incdec(struct x64_asm *a, bool dec, unsigned size, struct x64_rm dst);
/* imul reg, rm / imul reg, rm, imm. */
void x64_imul_reg_rm(struct x64_asm *a, unsigned size, unsigned dst, struct x64_rm src);
void x64_imul_reg_rm_imm(struct x64_asm *a, unsigned size, unsigned dst, struct x64_rm src,
                         uint32_t imm);
/* BT/BTS/BTR/BTC (op 4-7 of group 8) rm, imm8 / rm, reg. */
void x64_bt_imm(struct x64_asm *a, unsigned op, unsigned size, struct x64_rm dst, uint8_t bit);
void x64_bt_reg(struct x64_asm *a, unsigned op, unsigned size, struct x64_rm dst, unsigned src);
/* BSF / BSR reg, rm. */
void x64_bsx(struct x64_asm *a, bool reverse, unsigned size, unsigned dst, struct x64_rm src);
void x64_bswap32(struct x64_asm *a, unsigned reg);
/* movsxd dst64, src32. */
void x64_movsxd(struct x64_asm *a, unsigned dst, struct x64_rm src);
/* cqo: RDX:RAX = sign-extended RAX. */
void x64_cqo(struct x64_asm *a);

/* x87 (SDM Vol. 2, escape opcodes D8-DF): a memory form `esc /digit m`,
 * and a register or operand-less form `esc modrm` (ModRM C0H-FFH). */
void x64_x87_mem(struct x64_asm *a, uint8_t esc, unsigned digit, struct x64_mem m);
void x64_x87(struct x64_asm *a, uint8_t esc, uint8_t modrm);

void x64_setcc(struct x64_asm *a, enum x64_cc cc, struct x64_rm dst);
void x64_cmovcc(struct x64_asm *a, enum x64_cc cc, unsigned size, unsigned dst,
                struct x64_rm src);

void x64_push(struct x64_asm *a, unsigned reg);
void x64_pop(struct x64_asm *a, unsigned reg);
void x64_push_mem(struct x64_asm *a, struct x64_mem m);
void x64_pushfq(struct x64_asm *a);
/* The six arithmetic flags into the field at `m` in CC_HOST's image
 * (cpu.h: SETO's byte at m, LAHF's at m + 1), the two instructions
 * themselves, which cost less than PUSHF: RAX is kept in `scratch`. */
void x64_store_flags(struct x64_asm *a, struct x64_mem m, unsigned scratch);
/* The host's six arithmetic flags from such an image (ADD AL, 7FH sets
 * OF from SETO's byte, then SAHF, both cheaper than POPFQ); RAX is kept
 * in `scratch`. */
void x64_load_flags(struct x64_asm *a, struct x64_mem m, unsigned scratch);
/* For tests: the two above in their forms for hosts without LAHF/SAHF
 * (use = 0), with them (1, the host must have them), or as CPUID says
 * (-1, the default). */
void x64_lahf_override(int use);
void x64_popfq(struct x64_asm *a);
void x64_ret(struct x64_asm *a);

/* Jumps with a 32-bit displacement. They return the position of the
 * displacement, for x64_patch_rel32; the target is given as a position
 * in the same buffer, or later with x64_patch_rel32. */
size_t x64_jcc32(struct x64_asm *a, enum x64_cc cc);
size_t x64_jmp32(struct x64_asm *a);
/* Makes the rel32 at `field` jump to buffer position `target`. */
void x64_patch_rel32(struct x64_asm *a, size_t field, size_t target);
/* Short jumps (rel8) to a position; returns the position of the byte. */
size_t x64_jcc8(struct x64_asm *a, enum x64_cc cc);
size_t x64_jmp8(struct x64_asm *a);
void x64_patch_rel8(struct x64_asm *a, size_t field, size_t target);
/* Indirect jump / call through a register or memory. */
void x64_jmp_rm(struct x64_asm *a, struct x64_rm rm);
void x64_call_rm(struct x64_asm *a, struct x64_rm rm);
/* Direct call / jump to an absolute host address: rel32 when `exec_base`
 * + pos can reach it (exec_base is where the buffer's bytes will execute
 * from), else through R11 (clobbered). */
void x64_call_abs(struct x64_asm *a, uintptr_t exec_base, const void *target);
void x64_jmp_abs(struct x64_asm *a, uintptr_t exec_base, const void *target);

#endif
