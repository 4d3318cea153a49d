/*
 * translate/jit/gen_mem.c — guest memory operands in generated code:
 * the effective address, the segment, and the softmmu TLB lookup inline.
 *
 * The inline path is the common case only; it proves the access allowed
 * and leaves a host pointer, or jumps to the instruction's slow path:
 *   offset   the ModRM sum on the host registers that hold the guest's,
 *            wrapped to 16 bits for 16-bit addressing (SDM Vol. 1 3.7.5)
 *   segment  nothing for a flat segment (base 0, limit 4 GiB, the block
 *            key proves it); for other expand-up writable data segments
 *            the limit check of SDM Vol. 3A 5.3 (last byte <= limit, no
 *            wrap) and the base added, and the same for reads through CS
 *            in real-mode code (jit.h jit_jc_seg16: jump tables and
 *            constants in the code segment; a write through CS takes the
 *            slow path); anything else never comes here
 *   TLB      the entry of the linear page in the CPL's TLB; the page of
 *            the access's last byte must equal the entry's tag for this
 *            kind of access, so a page-crossing access, a missing or
 *            slow entry (MMIO, a page holding code) all miss; then the
 *            entry's addend turns the linear address into a host pointer
 *   window   before the TLB, for a read with paging off (JK_NOPG): a
 *            linear address in the TLB's direct window (memory.h: plain
 *            RAM from 1 MiB, kept by phys.c) becomes a host pointer with
 *            one add; any other goes on to the TLB lookup
 * The slow path runs the whole instruction through its handler, which
 * makes every check again and raises what the CPU raises.
 */
#include "translate/jit/gen.h"

/* The class of an access through `seg` in this block: the key's, and
 * for CS in real-mode code (a 64 KiB CS at a paragraph, which real and
 * virtual-8086 mode read and write as any segment) SEGK_RW. */
static enum jit_seg_class seg_class(const struct jit_ctx *c, int seg)
{
    if (seg == SEG_CS)
        return jit_jc_seg16(c->key, c->tb->cs_base, c->tb->cs_limit) ? SEGK_RW : SEGK_OTHER;
    return jk_seg(c->key, seg);
}

bool gen_mem_ok(const struct jit_ctx *c, const struct insn *in)
{
    if (c->key & JK_AC)
        return false;
    if (in->seg >= SEG_COUNT)
        return false;
    return seg_class(c, in->seg) != SEGK_OTHER;
}

bool gen_stack_ok(const struct jit_ctx *c)
{
    return !(c->key & JK_AC) && jk_seg(c->key, SEG_SS) != SEGK_OTHER;
}

void gen_ea(struct jit_ctx *c, const struct insn *in, unsigned reg)
{
    struct x64_mem m = x64_mem_idx(X_NONE, X_NONE, 0, in->disp);
    if (in->ea_base != EA_NO_REG)
        m.base = (int8_t)jit_host_reg(in->ea_base);
    if (in->ea_index != EA_NO_REG) {
        m.index = (int8_t)jit_host_reg(in->ea_index);
        m.scale = in->ea_scale;
    }
    if (m.base == X_NONE && m.index == X_NONE) {
        x64_mov_r32_imm(c->a, reg, (uint32_t)in->disp & (in->adsize == 2 ? 0xffffu : ~0u));
        return;
    }
    /* A 32-bit LEA computes the sum modulo 2^32, as the guest's 32-bit
     * address size does. */
    x64_lea(c->a, 4, reg, m);
    if (in->adsize == 2)
        x64_movzx(c->a, 4, reg, 2, x64_r(reg));
}

/* TLB entry field of the CPL's TLB, indexed by T_IDX (index * 32). */
static struct x64_rm tlb_field(const struct jit_ctx *c, size_t field)
{
    unsigned user = ((c->key >> JK_CPL_SHIFT) & 3) == 3;
    int32_t off = (int32_t)(offsetof(struct cpu, tlb) + offsetof(struct tlb, e) +
                            user * TLB_ENTRIES * sizeof(struct tlb_entry) + field);
    return x64_m(x64_mem_idx(JIT_CPU, T_IDX, 0, off));
}

static void emit_tlb_lookup(struct jit_ctx *c, unsigned size, bool write, unsigned reg,
                            struct stub *slow);

void gen_access_reg(struct jit_ctx *c, int seg, unsigned size, bool write, unsigned reg)
{
    struct x64_asm *a = c->a;
    /* Before any way to the slow path: the direct window's STUB_TLB
     * reaches it too, past where gen_slow_stub would sync. */
    gen_esp_sync(c);
    if (seg == SEG_CS && write)
        gen_jump_slow(c, -1); /* rare: its handler */
    if (seg_class(c, seg) == SEGK_RW) {
        /* Offset of the last byte: it must not wrap past 4 GiB and must
         * lie within the limit (expand-up, SDM Vol. 3A 5.3). */
        x64_lea(a, 4, T_TAG, x64_mem(reg, (int32_t)size - 1));
        if (size > 1) {
            x64_alu_reg_rm(a, ALU_CMP, 4, T_TAG, x64_r(reg));
            gen_jump_slow(c, XCC_B);
        }
        x64_alu_reg_rm(a, ALU_CMP, 4, T_TAG,
                       cpu_field(CPU_OFF(seg) + (int32_t)(seg * sizeof(struct seg) +
                                                          offsetof(struct seg, limit))));
        gen_jump_slow(c, XCC_A);
        x64_alu_reg_rm(a, ALU_ADD, 4, reg,
                       cpu_field(CPU_OFF(seg) + (int32_t)(seg * sizeof(struct seg) +
                                                          offsetof(struct seg, base))));
    }
    /* A read with paging off: the direct window first (memory.h), the
     * TLB lookup out of line (a STUB_TLB, which comes back): the
     * window's path runs straight on, no jump over the lookup. */
    if (!write && (c->key & JK_NOPG) && size <= TLB_DIRECT_MAX_ACCESS) {
        x64_lea(a, 4, T_TAG, x64_mem(reg, -(int32_t)TLB_DIRECT_BASE));
        x64_alu_reg_rm(a, ALU_CMP, 4, T_TAG, cpu_field(CPU_OFF(tlb.direct_span)));
        struct stub *lookup = gen_stub_new(c, STUB_TLB);
        gen_stub_jump(c, lookup, XCC_AE);
        x64_alu_reg_rm(a, ALU_ADD, 8, reg, cpu_field(CPU_OFF(tlb.direct_addend)));
        lookup->resume = a->pos;
        lookup->access_size = (uint8_t)size;
        lookup->access_reg = (uint8_t)reg;
        lookup->fail = gen_slow_stub(c);
        return;
    }
    emit_tlb_lookup(c, size, write, reg, gen_slow_stub(c));
}

void gen_tlb_lookup_stub(struct jit_ctx *c, const struct stub *s)
{
    emit_tlb_lookup(c, s->access_size, false, s->access_reg, s->fail);
    size_t back = x64_jmp32(c->a);
    x64_patch_rel32(c->a, back, s->resume);
}

/* The TLB lookup proper: linear address in `reg` -> host pointer, or
 * to `slow`. */
static void emit_tlb_lookup(struct jit_ctx *c, unsigned size, bool write, unsigned reg,
                            struct stub *slow)
{
    struct x64_asm *a = c->a;
    /* T_IDX = (lin >> 12) % TLB_ENTRIES * sizeof(entry) */
    x64_mov_rm_reg(a, 4, x64_r(T_IDX), reg);
    x64_shift_imm(a, SH_SHR, 4, x64_r(T_IDX), 12 - 5);
    x64_alu_rm_imm(a, ALU_AND, 4, x64_r(T_IDX), (TLB_ENTRIES - 1) << 5);
    /* T_TAG = the page of the last byte */
    if (size > 1)
        x64_lea(a, 4, T_TAG, x64_mem(reg, (int32_t)size - 1));
    else
        x64_mov_rm_reg(a, 4, x64_r(T_TAG), reg);
    x64_alu_rm_imm(a, ALU_AND, 4, x64_r(T_TAG), TLB_PAGE_MASK);
    x64_alu_reg_rm(a, ALU_CMP, 4, T_TAG,
                   tlb_field(c, write ? offsetof(struct tlb_entry, tag_write)
                                      : offsetof(struct tlb_entry, tag_read)));
    gen_stub_jump(c, slow, XCC_NE);
    x64_alu_reg_rm(a, ALU_ADD, 8, reg, tlb_field(c, offsetof(struct tlb_entry, addend)));
}

void gen_access(struct jit_ctx *c, int seg, unsigned size, bool write)
{
    gen_access_reg(c, seg, size, write, T_ADDR);
}

bool gen_mem_is_frame(const struct jit_ctx *c, const struct insn *in)
{
    return c->frame_reg >= 0 && (c->frame_insns >> c->idx & 1) && in->ea_base == c->frame_reg &&
           in->ea_index == EA_NO_REG &&
           in->adsize == 4 && in->seg < SEG_COUNT && jk_seg(c->key, in->seg) == SEGK_FLAT &&
           !(c->key & JK_AC);
}

struct x64_rm gen_mem_operand(struct jit_ctx *c, const struct insn *in, unsigned size,
                              bool write)
{
    if (gen_mem_is_frame(c, in)) {
        /* host = addend + frame register + disp: the prologue proved the
         * sum within one page, so it does not wrap. */
        uint32_t pending = in->ea_base == R_ESP ? (uint32_t)c->esp_pending : 0;
        c->mem_rm = x64_m(x64_mem_idx(T_FRAME, (int)jit_host_reg(in->ea_base), 0,
                                      (int32_t)((uint32_t)in->disp + pending)));
        return c->mem_rm;
    }
    gen_flags_to_cpu(c);
    gen_ea(c, in, T_ADDR);
    gen_access(c, in->seg, size, write);
    c->mem_rm = x64_m(x64_mem(T_ADDR, 0));
    return c->mem_rm;
}
