/*
 * cpu/bitops.c — bit test and modify (BT BTS BTR BTC) and bit scans
 * (BSF BSR).
 *
 * Flags: BT* set CF to the selected bit and leave ZF unchanged; OF SF AF
 * PF are undefined (SDM Vol. 2 BT). BSF/BSR set ZF (source zero); CF OF
 * SF AF PF are undefined (SDM Vol. 2 BSF, BSR). On an x86-64 host the
 * undefined ones are the host CPU's (cpu/host_flags.c), as they are under
 * the JIT, which runs these as the host's own instructions; elsewhere
 * Glass leaves them unchanged.
 */
#include "cpu/internal.h"

enum bit_action { BIT_TEST, BIT_SET, BIT_RESET, BIT_COMPLEMENT };

/*
 * Bit base and offset (SDM Vol. 1 3.5.3 "Bit Field and Bit Addressing";
 * Vol. 2 BT, Table 3-2). With a register offset and a memory operand the
 * offset is a signed operand-size integer: the operand actually accessed
 * is the word/dword at EA + size * floor(offset / bits), and the bit
 * within it is offset mod bits. An immediate offset, or a register
 * destination, uses the offset modulo the operand width. The address sum
 * wraps like any effective address to the address size.
 */
static void run_bit(struct cpu *cpu, const struct insn *in, enum bit_action act)
{
    unsigned w = in->dst.width, bits = w * 8;
    uint32_t off = in->src.kind == OPND_IMM ? in->imm : opnd_read(cpu, in, &in->src);
    unsigned bit = off & (bits - 1);
    uint32_t val, addr = 0;
    bool mem = in->dst.kind == OPND_MEM;
    if (mem) {
        addr = insn_ea(cpu, in);
        if (in->src.kind != OPND_IMM) {
            unsigned sh = 32 - bits;
            int32_t soff = (int32_t)(off << sh) >> sh;
            /* Arithmetic shift: floor division, so negative offsets
             * reach below EA. */
            int32_t units = soff >> (bits == 32 ? 5 : 4);
            addr += (uint32_t)units * w;
            if (in->adsize == 2)
                addr &= 0xffff;
        }
        val = cpu_read(cpu, in->seg, addr, w);
    } else {
        val = opnd_read(cpu, in, &in->dst);
    }
    uint32_t mask = 1u << bit;
    bool cf = (val & mask) != 0;
    if (act != BIT_TEST) {
        uint32_t nv = act == BIT_SET ? val | mask : act == BIT_RESET ? val & ~mask : val ^ mask;
        if (mem)
            cpu_write(cpu, in->seg, addr, nv, w);
        else
            opnd_write(cpu, in, &in->dst, nv);
    }
    uint32_t old = flags_arith(cpu);
    uint32_t f = (old & ~FL_CF) | (cf ? FL_CF : 0);
#if GLASS_HOST_FLAGS
    /* The host runs the same operation on the operand actually accessed,
     * with the bit number reduced to it (what the register form sees). */
    f = flags_merge(f, host_flags_bt((enum op)in->op, w, val, bit, old),
                    FL_OF | FL_SF | FL_AF | FL_PF);
#endif
    flags_set_arith(cpu, f);
}

static void op_bt(struct cpu *cpu, const struct insn *in) { run_bit(cpu, in, BIT_TEST); }
static void op_bts(struct cpu *cpu, const struct insn *in) { run_bit(cpu, in, BIT_SET); }
static void op_btr(struct cpu *cpu, const struct insn *in) { run_bit(cpu, in, BIT_RESET); }
static void op_btc(struct cpu *cpu, const struct insn *in) { run_bit(cpu, in, BIT_COMPLEMENT); }

/*
 * BSF/BSR (SDM Vol. 2 BSF/BSR): a zero source sets ZF and leaves the
 * destination undefined; P6-family parts leave it unchanged, and so does
 * Glass (no write at all, so not even the upper half of a 32-bit register
 * is touched).
 */
static void run_scan(struct cpu *cpu, const struct insn *in, bool reverse)
{
    unsigned w = in->dst.width;
    uint32_t v = opnd_read(cpu, in, &in->src) & width_mask(w);
    uint32_t old = flags_arith(cpu);
    uint32_t f = (old & ~FL_ZF) | (v == 0 ? FL_ZF : 0);
#if GLASS_HOST_FLAGS
    f = flags_merge(f, host_flags_bsx((enum op)in->op, w, opnd_read(cpu, in, &in->dst), v, old),
                    FL_CF | FL_OF | FL_SF | FL_AF | FL_PF);
#endif
    if (v != 0) {
        uint32_t idx = reverse ? 31u - (uint32_t)__builtin_clz(v) : (uint32_t)__builtin_ctz(v);
        opnd_write(cpu, in, &in->dst, idx);
    }
    flags_set_arith(cpu, f);
}

static void op_bsf(struct cpu *cpu, const struct insn *in) { run_scan(cpu, in, false); }
static void op_bsr(struct cpu *cpu, const struct insn *in) { run_scan(cpu, in, true); }

const struct op_handler bit_handlers[] = {
    { OP_BT, op_bt },   { OP_BTS, op_bts }, { OP_BTR, op_btr },     { OP_BTC, op_btc },
    { OP_BSF, op_bsf }, { OP_BSR, op_bsr }, { OP_INVALID, NULL },
};
