/*
 * translate/jit/x64.c — the x86-64 encoder (translate/jit/x64.h).
 *
 * Instruction format (SDM Vol. 2, 2.1-2.2): [66] [REX] opcode [ModR/M]
 * [SIB] [disp8/disp32] [imm]. REX = 0100WRXB: W selects 64-bit operand
 * size, R extends ModR/M.reg, X SIB.index, B ModR/M.rm or SIB.base.
 * ModR/M.rm = 100 means "SIB follows"; mod = 00 with rm (or SIB.base) =
 * 101 means "disp32, no base", so RBP/R13 as a base always carry a
 * displacement and RSP/R12 as a base always need a SIB byte.
 */
#include <cpuid.h>
#include <string.h>

#include "translate/jit/x64.h"

void x64_init(struct x64_asm *a, uint8_t *buf, size_t cap)
{
    a->buf = buf;
    a->pos = 0;
    a->cap = cap;
    a->full = false;
    a->bad = false;
}

void x64_byte(struct x64_asm *a, uint8_t b)
{
    if (a->pos >= a->cap) {
        a->full = true;
        return;
    }
    a->buf[a->pos++] = b;
}

void x64_bytes(struct x64_asm *a, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x64_byte(a, p[i]);
}

void x64_u32(struct x64_asm *a, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        x64_byte(a, (uint8_t)(v >> (8 * i)));
}

void x64_u64(struct x64_asm *a, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        x64_byte(a, (uint8_t)(v >> (8 * i)));
}

void x64_patch32(struct x64_asm *a, size_t pos, uint32_t v)
{
    if (pos + 4 > a->pos)
        return; /* the field was never written (the buffer filled up) */
    memcpy(a->buf + pos, &v, 4);
}

static inline bool fits8(int64_t v)
{
    return v >= -128 && v <= 127;
}

/* The REX bits an operand pair needs (without the 0x40 marker). */
static unsigned rex_bits(unsigned size, unsigned reg, struct x64_rm rm)
{
    unsigned rex = 0;
    if (size == 8)
        rex |= 8;
    if (reg & 8)
        rex |= 4;
    if (rm.is_reg) {
        if (rm.reg & 8)
            rex |= 1;
    } else {
        if (rm.m.index != X_NONE && (rm.m.index & 8))
            rex |= 2;
        if (rm.m.base != X_NONE && (rm.m.base & 8))
            rex |= 1;
    }
    return rex;
}

static void emit_modrm(struct x64_asm *a, unsigned reg, struct x64_rm rm)
{
    unsigned r = (reg & 7) << 3;
    if (rm.is_reg) {
        x64_byte(a, (uint8_t)(0xc0 | r | (rm.reg & 7)));
        return;
    }
    struct x64_mem m = rm.m;
    if (m.index == X_RSP) {
        a->bad = true; /* RSP cannot be an index */
        return;
    }
    if (m.base == X_NONE) {
        /* disp32 with no base: SIB with base 101, mod 00. */
        x64_byte(a, (uint8_t)(0x04 | r));
        unsigned idx = m.index == X_NONE ? 4 : (unsigned)(m.index & 7);
        x64_byte(a, (uint8_t)((m.scale << 6) | (idx << 3) | 5));
        x64_u32(a, (uint32_t)m.disp);
        return;
    }
    unsigned base = (unsigned)m.base & 7;
    unsigned mod;
    if (m.disp == 0 && base != 5)
        mod = 0;
    else if (fits8(m.disp))
        mod = 1;
    else
        mod = 2;
    bool sib = m.index != X_NONE || base == 4;
    x64_byte(a, (uint8_t)((mod << 6) | r | (sib ? 4 : base)));
    if (sib) {
        unsigned idx = m.index == X_NONE ? 4 : (unsigned)(m.index & 7);
        x64_byte(a, (uint8_t)((m.scale << 6) | (idx << 3) | base));
    }
    if (mod == 1)
        x64_byte(a, (uint8_t)m.disp);
    else if (mod == 2)
        x64_u32(a, (uint32_t)m.disp);
}

/* `reg_is_reg`: ModR/M.reg names a register (else an opcode /digit,
 * which says nothing about AH..BH). */
static void encode(struct x64_asm *a, unsigned size, const uint8_t *opcode, unsigned oplen,
                   unsigned reg, bool reg_is_reg, struct x64_rm rm, unsigned imm_size,
                   uint32_t imm)
{
    unsigned rex = rex_bits(size, reg, rm);
    /* At byte size, register numbers 4-7 are AH..BH: no REX allowed. */
    if (size == 1 && rex) {
        bool high = (reg_is_reg && reg >= 4 && reg < 8) ||
                    (rm.is_reg && rm.reg >= 4 && rm.reg < 8);
        if (high)
            a->bad = true;
    }
    if (size == 2)
        x64_byte(a, 0x66);
    if (rex)
        x64_byte(a, (uint8_t)(0x40 | rex));
    x64_bytes(a, opcode, oplen);
    emit_modrm(a, reg, rm);
    for (unsigned i = 0; i < imm_size; i++)
        x64_byte(a, (uint8_t)(imm >> (8 * i)));
}

void x64_op(struct x64_asm *a, unsigned size, const uint8_t *opcode, unsigned oplen,
            unsigned reg, struct x64_rm rm, unsigned imm_size, uint32_t imm)
{
    encode(a, size, opcode, oplen, reg, true, rm, imm_size, imm);
}

/* The same with an opcode extension (/digit) in ModR/M.reg. */
static void op_digit(struct x64_asm *a, unsigned size, const uint8_t *opcode, unsigned oplen,
                     unsigned digit, struct x64_rm rm, unsigned imm_size, uint32_t imm)
{
    encode(a, size, opcode, oplen, digit, false, rm, imm_size, imm);
}

/* One-byte opcodes that come in a byte form (even) and a full-size form
 * (odd), as most of the original 8086 ALU and MOV encodings do. */
static void op_sized(struct x64_asm *a, unsigned size, uint8_t byte_op, unsigned reg,
                     struct x64_rm rm, unsigned imm_size, uint32_t imm)
{
    uint8_t op = size == 1 ? byte_op : (uint8_t)(byte_op + 1);
    x64_op(a, size, &op, 1, reg, rm, imm_size, imm);
}

static void digit_sized(struct x64_asm *a, unsigned size, uint8_t byte_op, unsigned digit,
                        struct x64_rm rm, unsigned imm_size, uint32_t imm)
{
    uint8_t op = size == 1 ? byte_op : (uint8_t)(byte_op + 1);
    op_digit(a, size, &op, 1, digit, rm, imm_size, imm);
}

static unsigned imm_size_of(unsigned size)
{
    return size == 1 ? 1 : size == 2 ? 2 : 4;
}

void x64_alu_rm_reg(struct x64_asm *a, enum x64_alu op, unsigned size, struct x64_rm dst,
                    unsigned src)
{
    op_sized(a, size, (uint8_t)(op * 8), src, dst, 0, 0);
}

void x64_alu_reg_rm(struct x64_asm *a, enum x64_alu op, unsigned size, unsigned dst,
                    struct x64_rm src)
{
    op_sized(a, size, (uint8_t)(op * 8 + 2), dst, src, 0, 0);
}

void x64_alu_rm_imm(struct x64_asm *a, enum x64_alu op, unsigned size, struct x64_rm dst,
                    uint32_t imm)
{
    if (size == 1) {
        uint8_t o = 0x80;
        op_digit(a, 1, &o, 1, op, dst, 1, imm);
    } else if (fits8(size == 2 ? (int16_t)imm : (int32_t)imm)) {
        uint8_t o = 0x83;
        op_digit(a, size, &o, 1, op, dst, 1, imm);
    } else {
        uint8_t o = 0x81;
        op_digit(a, size, &o, 1, op, dst, imm_size_of(size), imm);
    }
}

void x64_test_rm_reg(struct x64_asm *a, unsigned size, struct x64_rm dst, unsigned src)
{
    op_sized(a, size, 0x84, src, dst, 0, 0);
}

void x64_test_rm_imm(struct x64_asm *a, unsigned size, struct x64_rm dst, uint32_t imm)
{
    digit_sized(a, size, 0xf6, 0, dst, imm_size_of(size), imm);
}

void x64_mov_rm_reg(struct x64_asm *a, unsigned size, struct x64_rm dst, unsigned src)
{
    op_sized(a, size, 0x88, src, dst, 0, 0);
}

void x64_mov_reg_rm(struct x64_asm *a, unsigned size, unsigned dst, struct x64_rm src)
{
    op_sized(a, size, 0x8a, dst, src, 0, 0);
}

void x64_mov_rm_imm(struct x64_asm *a, unsigned size, struct x64_rm dst, uint32_t imm)
{
    digit_sized(a, size, 0xc6, 0, dst, imm_size_of(size), imm);
}

void x64_mov_r32_imm(struct x64_asm *a, unsigned reg, uint32_t imm)
{
    if (reg & 8)
        x64_byte(a, 0x41);
    x64_byte(a, (uint8_t)(0xb8 + (reg & 7)));
    x64_u32(a, imm);
}

void x64_mov_r64_imm(struct x64_asm *a, unsigned reg, uint64_t imm)
{
    if (imm <= 0xffffffffu) {
        x64_mov_r32_imm(a, reg, (uint32_t)imm);
        return;
    }
    x64_byte(a, (uint8_t)(0x48 | ((reg & 8) ? 1 : 0)));
    x64_byte(a, (uint8_t)(0xb8 + (reg & 7)));
    x64_u64(a, imm);
}

static void movx(struct x64_asm *a, uint8_t base_op, unsigned size, unsigned dst,
                 unsigned src_size, struct x64_rm src)
{
    uint8_t op[2] = { 0x0f, (uint8_t)(base_op + (src_size == 2 ? 1 : 0)) };
    /* A byte source 4-7 is AH..BH: the REX check looks at the operand
     * size, so ask for it with the source's size when the source is a
     * register; the destination register is never AH..BH. */
    if (src_size == 1 && src.is_reg && src.reg >= 4 && src.reg < 8 &&
        (rex_bits(size, dst, src) != 0))
        a->bad = true;
    x64_op(a, size, op, 2, dst, src, 0, 0);
}

void x64_movzx(struct x64_asm *a, unsigned size, unsigned dst, unsigned src_size,
               struct x64_rm src)
{
    movx(a, 0xb6, size, dst, src_size, src);
}

void x64_movsx(struct x64_asm *a, unsigned size, unsigned dst, unsigned src_size,
               struct x64_rm src)
{
    movx(a, 0xbe, size, dst, src_size, src);
}

void x64_lea(struct x64_asm *a, unsigned size, unsigned dst, struct x64_mem m)
{
    uint8_t op = 0x8d;
    x64_op(a, size, &op, 1, dst, x64_m(m), 0, 0);
}

void x64_xchg_rm_reg(struct x64_asm *a, unsigned size, struct x64_rm dst, unsigned src)
{
    op_sized(a, size, 0x86, src, dst, 0, 0);
}

void x64_shift_imm(struct x64_asm *a, enum x64_shift op, unsigned size, struct x64_rm dst,
                   uint8_t count)
{
    if (count == 1)
        digit_sized(a, size, 0xd0, op, dst, 0, 0);
    else
        digit_sized(a, size, 0xc0, op, dst, 1, count);
}

void x64_shift_cl(struct x64_asm *a, enum x64_shift op, unsigned size, struct x64_rm dst)
{
    digit_sized(a, size, 0xd2, op, dst, 0, 0);
}

void x64_shxd_imm(struct x64_asm *a, bool right, unsigned size, struct x64_rm dst,
                  unsigned src, uint8_t count)
{
    uint8_t op[2] = { 0x0f, right ? 0xac : 0xa4 };
    x64_op(a, size, op, 2, src, dst, 1, count);
}

void x64_shxd_cl(struct x64_asm *a, bool right, unsigned size, struct x64_rm dst,
                 unsigned src)
{
    uint8_t op[2] = { 0x0f, right ? 0xad : 0xa5 };
    x64_op(a, size, op, 2, src, dst, 0, 0);
}

void x64_unary(struct x64_asm *a, enum x64_unary op, unsigned size, struct x64_rm dst)
{
    digit_sized(a, size, 0xf6, op, dst, 0, 0);
}

void x64_incdec(struct x64_asm *a, bool dec, unsigned size, struct x64_rm dst)
{
    digit_sized(a, size, 0xfe, dec ? 1 : 0, dst, 0, 0);
}

void x64_imul_reg_rm(struct x64_asm *a, unsigned size, unsigned dst, struct x64_rm src)
{
    uint8_t op[2] = { 0x0f, 0xaf };
    x64_op(a, size, op, 2, dst, src, 0, 0);
}

void x64_imul_reg_rm_imm(struct x64_asm *a, unsigned size, unsigned dst, struct x64_rm src,
                         uint32_t imm)
{
    if (fits8(size == 2 ? (int16_t)imm : (int32_t)imm)) {
        uint8_t op = 0x6b;
        x64_op(a, size, &op, 1, dst, src, 1, imm);
    } else {
        uint8_t op = 0x69;
        x64_op(a, size, &op, 1, dst, src, imm_size_of(size), imm);
    }
}

void x64_bt_imm(struct x64_asm *a, unsigned op, unsigned size, struct x64_rm dst, uint8_t bit)
{
    uint8_t o[2] = { 0x0f, 0xba };
    op_digit(a, size, o, 2, op, dst, 1, bit);
}

void x64_bt_reg(struct x64_asm *a, unsigned op, unsigned size, struct x64_rm dst, unsigned src)
{
    /* BT 0F A3, BTS 0F AB, BTR 0F B3, BTC 0F BB: 0xa3 + 8 * (op - 4). */
    uint8_t o[2] = { 0x0f, (uint8_t)(0xa3 + 8 * (op - 4)) };
    x64_op(a, size, o, 2, src, dst, 0, 0);
}

void x64_bsx(struct x64_asm *a, bool reverse, unsigned size, unsigned dst, struct x64_rm src)
{
    uint8_t o[2] = { 0x0f, reverse ? 0xbd : 0xbc };
    x64_op(a, size, o, 2, dst, src, 0, 0);
}

void x64_bswap32(struct x64_asm *a, unsigned reg)
{
    if (reg & 8)
        x64_byte(a, 0x41);
    x64_byte(a, 0x0f);
    x64_byte(a, (uint8_t)(0xc8 + (reg & 7)));
}

void x64_movsxd(struct x64_asm *a, unsigned dst, struct x64_rm src)
{
    uint8_t op = 0x63;
    x64_op(a, 8, &op, 1, dst, src, 0, 0);
}

void x64_cqo(struct x64_asm *a)
{
    x64_byte(a, 0x48);
    x64_byte(a, 0x99);
}

void x64_setcc(struct x64_asm *a, enum x64_cc cc, struct x64_rm dst)
{
    uint8_t o[2] = { 0x0f, (uint8_t)(0x90 + cc) };
    op_digit(a, 1, o, 2, 0, dst, 0, 0);
}

void x64_cmovcc(struct x64_asm *a, enum x64_cc cc, unsigned size, unsigned dst,
                struct x64_rm src)
{
    uint8_t o[2] = { 0x0f, (uint8_t)(0x40 + cc) };
    x64_op(a, size, o, 2, dst, src, 0, 0);
}

void x64_push(struct x64_asm *a, unsigned reg)
{
    if (reg & 8)
        x64_byte(a, 0x41);
    x64_byte(a, (uint8_t)(0x50 + (reg & 7)));
}

void x64_pop(struct x64_asm *a, unsigned reg)
{
    if (reg & 8)
        x64_byte(a, 0x41);
    x64_byte(a, (uint8_t)(0x58 + (reg & 7)));
}

void x64_push_mem(struct x64_asm *a, struct x64_mem m)
{
    uint8_t op = 0xff;
    op_digit(a, 4, &op, 1, 6, x64_m(m), 0, 0); /* FF /6: 64-bit by default */
}

void x64_pushfq(struct x64_asm *a)
{
    x64_byte(a, 0x9c);
}

/* LAHF in 64-bit mode: CPUID 80000001H ECX bit 0 (SDM LAHF); the first
 * x86-64 processors lacked it. */
static int lahf_forced = -1;

void x64_lahf_override(int use)
{
    lahf_forced = use;
}

static bool host_has_lahf(void)
{
    static int has = -1;
    if (lahf_forced >= 0)
        return lahf_forced;
    if (has < 0) {
        unsigned a, b, c = 0, d;
        has = __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & 1);
    }
    return has;
}

void x64_store_flags(struct x64_asm *a, struct x64_mem m, unsigned scratch)
{
    struct x64_mem m1 = m;
    m1.disp += 1;
    if (!host_has_lahf()) {
        /* The low byte of RFLAGS is LAHF's byte. */
        x64_setcc(a, XCC_O, x64_m(m));
        x64_pushfq(a);
        x64_pop(a, scratch);
        x64_mov_rm_reg(a, 1, x64_m(m1), scratch);
        return;
    }
    static const uint8_t capture[] = {
        0x9f,             /* lahf: AH = SF ZF 0 AF 0 PF 1 CF */
        0x0f, 0x90, 0xc0, /* seto al */
    };
    x64_mov_rm_reg(a, 8, x64_r((int)scratch), X_RAX);
    x64_bytes(a, capture, sizeof(capture));
    /* All 32 bits (the upper 16 are the guest's EAX, which the image
     * leaves undefined): readers load the field as a dword, and a
     * narrower store would not forward to them. */
    x64_mov_rm_reg(a, 4, x64_m(m), X_RAX);
    x64_mov_rm_reg(a, 8, x64_r(X_RAX), scratch);
}

void x64_load_flags(struct x64_asm *a, struct x64_mem m, unsigned scratch)
{
    struct x64_mem m1 = m;
    m1.disp += 1;
    if (!host_has_lahf()) {
        /* RFLAGS from LAHF's byte, OF added; only the six arithmetic
         * bits (and the fixed bit 1) reach POPFQ. */
        x64_movzx(a, 4, scratch, 1, x64_m(m1));
        x64_alu_rm_imm(a, ALU_AND, 4, x64_r((int)scratch), 0xd5);
        x64_test_rm_imm(a, 1, x64_m(m), 1);
        size_t no_of = x64_jcc8(a, XCC_E);
        x64_alu_rm_imm(a, ALU_OR, 4, x64_r((int)scratch), 0x800);
        x64_patch_rel8(a, no_of, a->pos);
        x64_push(a, scratch);
        x64_popfq(a);
        return;
    }
    static const uint8_t restore[] = {
        0x04, 0x7f, /* add al, 7fh: OF set exactly when AL was 1 */
        0x9e,       /* sahf: SF ZF AF PF CF from AH, OF kept */
    };
    x64_mov_rm_reg(a, 8, x64_r((int)scratch), X_RAX);
    x64_movzx(a, 4, X_RAX, 2, x64_m(m));
    x64_bytes(a, restore, sizeof(restore));
    x64_mov_rm_reg(a, 8, x64_r(X_RAX), scratch);
}

void x64_popfq(struct x64_asm *a)
{
    x64_byte(a, 0x9d);
}

void x64_ret(struct x64_asm *a)
{
    x64_byte(a, 0xc3);
}

size_t x64_jcc32(struct x64_asm *a, enum x64_cc cc)
{
    x64_byte(a, 0x0f);
    x64_byte(a, (uint8_t)(0x80 + cc));
    size_t field = a->pos;
    x64_u32(a, 0);
    return field;
}

size_t x64_jmp32(struct x64_asm *a)
{
    x64_byte(a, 0xe9);
    size_t field = a->pos;
    x64_u32(a, 0);
    return field;
}

void x64_patch_rel32(struct x64_asm *a, size_t field, size_t target)
{
    x64_patch32(a, field, (uint32_t)((int64_t)target - (int64_t)(field + 4)));
}

size_t x64_jcc8(struct x64_asm *a, enum x64_cc cc)
{
    x64_byte(a, (uint8_t)(0x70 + cc));
    size_t field = a->pos;
    x64_byte(a, 0);
    return field;
}

size_t x64_jmp8(struct x64_asm *a)
{
    x64_byte(a, 0xeb);
    size_t field = a->pos;
    x64_byte(a, 0);
    return field;
}

void x64_patch_rel8(struct x64_asm *a, size_t field, size_t target)
{
    int64_t d = (int64_t)target - (int64_t)(field + 1);
    if (!fits8(d)) {
        a->bad = true;
        return;
    }
    if (field < a->pos)
        a->buf[field] = (uint8_t)d;
}

void x64_jmp_rm(struct x64_asm *a, struct x64_rm rm)
{
    uint8_t op = 0xff;
    op_digit(a, 4, &op, 1, 4, rm, 0, 0); /* FF /4: 64-bit target */
}

void x64_call_rm(struct x64_asm *a, struct x64_rm rm)
{
    uint8_t op = 0xff;
    op_digit(a, 4, &op, 1, 2, rm, 0, 0); /* FF /2 */
}

static void branch_abs(struct x64_asm *a, uintptr_t exec_base, const void *target,
                       uint8_t rel_op, unsigned digit)
{
    int64_t next = (int64_t)(exec_base + a->pos + 5);
    int64_t d = (int64_t)(uintptr_t)target - next;
    if (d >= INT32_MIN && d <= INT32_MAX) {
        x64_byte(a, rel_op);
        x64_u32(a, (uint32_t)d);
        return;
    }
    x64_mov_r64_imm(a, X_R11, (uint64_t)(uintptr_t)target);
    uint8_t op = 0xff;
    op_digit(a, 4, &op, 1, digit, x64_r(X_R11), 0, 0);
}

void x64_call_abs(struct x64_asm *a, uintptr_t exec_base, const void *target)
{
    branch_abs(a, exec_base, target, 0xe8, 2);
}

void x64_jmp_abs(struct x64_asm *a, uintptr_t exec_base, const void *target)
{
    branch_abs(a, exec_base, target, 0xe9, 4);
}

void x64_x87_mem(struct x64_asm *a, uint8_t esc, unsigned digit, struct x64_mem m)
{
    op_digit(a, 4, &esc, 1, digit, x64_m(m), 0, 0);
}

void x64_x87(struct x64_asm *a, uint8_t esc, uint8_t modrm)
{
    x64_byte(a, esc);
    x64_byte(a, modrm);
}
