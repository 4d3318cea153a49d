/*
 * cpu/shift.c — shifts and rotates: ROL ROR RCL RCR SHL/SAL SHR SAR
 * (group 2) and the double shifts SHLD SHRD.
 *
 * The count is masked to 5 bits (SDM Vol. 2 SAL/SAR/SHL/SHR "IA-32
 * Architecture Compatibility"); a masked count of 0 changes no flag.
 * Flags are computed eagerly (there is no lazy record for shifts).
 *
 * Undefined flags. The SDM leaves OF undefined for counts other than 1,
 * AF undefined for any non-zero shift count, CF undefined for SHL/SHR
 * when the count is >= the operand size (SDM Vol. 2 SAL/SAR/SHL/SHR,
 * RCL/RCR/ROL/ROR, SHLD, SHRD "Flags Affected"), and for SHLD/SHRD of
 * words by more than 16 the result and every flag.
 *
 * On an x86-64 host those come from the host CPU (cpu/host_flags.c): the
 * JIT runs these instructions as the host's own, and the two engines must
 * agree bit for bit whatever the host's vendor. The defined ones always
 * come from the code below. Elsewhere Glass's portable choices apply:
 *   - CF: the last bit shifted out of the operand zero-extended (SHL/SHR)
 *     or sign-extended (SAR) to 32 bits, i.e. the P6's 32-bit shifter:
 *     SHL/SHR of a byte by 9..31 leaves CF = 0, SAR leaves the sign.
 *   - OF: the count-1 formula applied to the final result: SHL and SHLD
 *     MSB(result) ^ CF; SHR and SHRD the XOR of the result's two top bits
 *     (= MSB of the original operand for count 1); SAR 0; ROL
 *     MSB(result) ^ CF; ROR and RCR the XOR of the two top bits of the
 *     result; RCL MSB(result) ^ CF.
 *   - AF: left unchanged.
 *   - SHLD/SHRD of words by 17..31: the P6 model below.
 * The difftest compares the defined flags in every run and, with
 * --all-flags, all of them against the host.
 */
#include "cpu/internal.h"

static inline uint32_t msb(uint32_t v, unsigned bits)
{
    return (v >> (bits - 1)) & 1;
}

/* SF, ZF, PF of a result already masked to its width. */
static inline uint32_t szp(uint32_t r, unsigned bits)
{
    return (msb(r, bits) ? FL_SF : 0) | (r == 0 ? FL_ZF : 0) | (parity8(r) ? FL_PF : 0);
}

static inline uint32_t cf_of(bool cf, bool of)
{
    return (cf ? FL_CF : 0) | (of ? FL_OF : 0);
}

/* The masked shift count: CL, an imm8 or 1. */
static inline unsigned shift_count(struct cpu *cpu, const struct insn *in, const struct operand *o)
{
    if (o->kind == OPND_IMM)
        return in->imm & 0x1f;
    return opnd_read(cpu, in, o) & 0x1f;
}

/*
 * Group-2 operations share one shape: read, compute result and flag bits
 * (`set` says which of the six arithmetic flags the operation writes),
 * write, then commit flags.
 */
struct shift_out {
    uint32_t res;
    uint32_t flags; /* values of the flags named in `set` */
    uint32_t set;
};

typedef struct shift_out (*shift_fn)(uint32_t a, unsigned count, unsigned bits, bool cf_in);

static struct shift_out do_shl(uint32_t a, unsigned c, unsigned bits, bool cf_in)
{
    (void)cf_in;
    uint64_t t = (uint64_t)a << c;
    uint32_t r = (uint32_t)t & width_mask(bits / 8);
    bool cf = (t >> bits) & 1;
    return (struct shift_out){ r, szp(r, bits) | cf_of(cf, msb(r, bits) ^ cf),
                               FL_ARITH & ~FL_AF };
}

static struct shift_out do_shr(uint32_t a, unsigned c, unsigned bits, bool cf_in)
{
    (void)cf_in;
    uint32_t r = a >> c;
    bool cf = (a >> (c - 1)) & 1;
    bool of = msb(r, bits) ^ msb(r, bits - 1);
    return (struct shift_out){ r, szp(r, bits) | cf_of(cf, of), FL_ARITH & ~FL_AF };
}

static struct shift_out do_sar(uint32_t a, unsigned c, unsigned bits, bool cf_in)
{
    (void)cf_in;
    unsigned sh = 32 - bits;
    int32_t s = (int32_t)(a << sh) >> sh;
    uint32_t r = (uint32_t)(s >> c) & width_mask(bits / 8);
    bool cf = (s >> (c - 1)) & 1;
    return (struct shift_out){ r, szp(r, bits) | cf_of(cf, false), FL_ARITH & ~FL_AF };
}

/* ROL/ROR rotate by count mod size, but CF is written whenever the
 * masked count is non-zero (SDM Vol. 2 RCL/RCR/ROL/ROR pseudocode). Only
 * CF and OF change. */
static struct shift_out do_rol(uint32_t a, unsigned c, unsigned bits, bool cf_in)
{
    (void)cf_in;
    unsigned t = c & (bits - 1);
    uint32_t r = t ? ((a << t) | (a >> (bits - t))) & width_mask(bits / 8) : a;
    bool cf = r & 1;
    return (struct shift_out){ r, cf_of(cf, msb(r, bits) ^ cf), FL_CF | FL_OF };
}

static struct shift_out do_ror(uint32_t a, unsigned c, unsigned bits, bool cf_in)
{
    (void)cf_in;
    unsigned t = c & (bits - 1);
    uint32_t r = t ? ((a >> t) | (a << (bits - t))) & width_mask(bits / 8) : a;
    bool cf = msb(r, bits);
    return (struct shift_out){ r, cf_of(cf, msb(r, bits) ^ msb(r, bits - 1)), FL_CF | FL_OF };
}

/*
 * RCL/RCR rotate the (bits+1)-bit value CF:operand; the count is taken
 * mod 9 / mod 17 for bytes / words (mod 33 is a no-op on the 5-bit count).
 * A right rotation by t is a left rotation by bits+1-t.
 */
static uint64_t rotate_through_carry_left(uint32_t a, bool cf, unsigned t, unsigned bits)
{
    uint64_t v = ((uint64_t)cf << bits) | a;
    uint64_t field = (2ull << bits) - 1; /* bits+1 ones */
    if (t == 0)
        return v;
    return ((v << t) | (v >> (bits + 1 - t))) & field;
}

static struct shift_out do_rcl(uint32_t a, unsigned c, unsigned bits, bool cf_in)
{
    unsigned t = c % (bits + 1);
    uint64_t v = rotate_through_carry_left(a, cf_in, t, bits);
    uint32_t r = (uint32_t)v & width_mask(bits / 8);
    bool cf = (v >> bits) & 1;
    return (struct shift_out){ r, cf_of(cf, msb(r, bits) ^ cf), FL_CF | FL_OF };
}

static struct shift_out do_rcr(uint32_t a, unsigned c, unsigned bits, bool cf_in)
{
    unsigned t = c % (bits + 1);
    uint64_t v = rotate_through_carry_left(a, cf_in, t ? bits + 1 - t : 0, bits);
    uint32_t r = (uint32_t)v & width_mask(bits / 8);
    bool cf = (v >> bits) & 1;
    return (struct shift_out){ r, cf_of(cf, msb(r, bits) ^ msb(r, bits - 1)), FL_CF | FL_OF };
}

/* The flags the SDM leaves undefined after a group-2 operation by a
 * non-zero masked count `c`: OF unless c is 1; for the shifts AF, and CF
 * once SHL/SHR shift the whole operand out (SAR's CF stays defined: the
 * sign). For rotates the masked count, not the count mod the size,
 * decides (SDM Vol. 2 RCL/RCR/ROL/ROR pseudocode, "IF (COUNT & COUNTMASK)
 * = 1"). */
uint32_t shift_undefined_flags(enum op op, unsigned c, unsigned bits)
{
    uint32_t u = c == 1 ? 0 : FL_OF;
    switch (op) {
    case OP_ROL: case OP_ROR: case OP_RCL: case OP_RCR:
        return u;
    case OP_SHL: case OP_SAL: case OP_SHR:
        return u | FL_AF | (c >= bits ? FL_CF : 0);
    default:
        return u | FL_AF;
    }
}

static void run_shift(struct cpu *cpu, const struct insn *in, shift_fn fn)
{
    unsigned w = in->dst.width, bits = w * 8;
    uint32_t a = opnd_read(cpu, in, &in->dst);
    unsigned c = shift_count(cpu, in, &in->src);
    if (c == 0)
        return; /* no flags, no write (the read above still faults) */
    uint32_t old = flags_arith(cpu);
    struct shift_out o = fn(a, c, bits, old & FL_CF);
    uint32_t f = (old & ~o.set) | (o.flags & o.set);
#if GLASS_HOST_FLAGS
    enum op op = (enum op)in->op;
    f = flags_merge(f, host_flags_shift(op, w, a, c, old), shift_undefined_flags(op, c, bits));
#endif
    opnd_write(cpu, in, &in->dst, o.res);
    flags_set_arith(cpu, f);
}

static void op_rol(struct cpu *cpu, const struct insn *in) { run_shift(cpu, in, do_rol); }
static void op_ror(struct cpu *cpu, const struct insn *in) { run_shift(cpu, in, do_ror); }
static void op_rcl(struct cpu *cpu, const struct insn *in) { run_shift(cpu, in, do_rcl); }
static void op_rcr(struct cpu *cpu, const struct insn *in) { run_shift(cpu, in, do_rcr); }
static void op_shl(struct cpu *cpu, const struct insn *in) { run_shift(cpu, in, do_shl); }
static void op_shr(struct cpu *cpu, const struct insn *in) { run_shift(cpu, in, do_shr); }
static void op_sar(struct cpu *cpu, const struct insn *in) { run_shift(cpu, in, do_sar); }

/*
 * SHLD/SHRD (SDM Vol. 2 SHLD/SHRD): dst, src (register), count (imm8 or
 * CL) in src2. Count mod 32; 0 changes nothing.
 *
 * 16-bit operands with a count of 17..31: the SDM leaves result and flags
 * undefined. On an x86-64 host both are the host's (see the top of the
 * file). The portable model: P6-family parts are reported to shift the
 * 48-bit string dst:src:dst, so bits of dst re-enter after those of src
 * (not verified on a P6 here; the AMD hosts we test on give other
 * values). Glass shifts that string for every 16-bit count (for counts
 * <= 16 it gives the architectural result), CF being the last bit
 * shifted out of it.
 */

/* Takes the undefined part of a double shift's outcome from the host:
 * AF, OF unless the count is 1, and for words by 17..31 everything. */
static void shiftd_host(const struct insn *in, unsigned w, uint32_t a, uint32_t b, unsigned c,
                        uint32_t old, uint32_t *r, uint32_t *f)
{
#if GLASS_HOST_FLAGS
    uint32_t hr = a;
    uint32_t hf = host_flags_shiftd((enum op)in->op, w, &hr, b, c, old);
    if (w == 2 && c > 16) {
        *r = hr & 0xffff;
        *f = hf;
    } else {
        *f = flags_merge(*f, hf, FL_AF | (c == 1 ? 0 : FL_OF));
    }
#else
    (void)in, (void)w, (void)a, (void)b, (void)c, (void)old, (void)r, (void)f;
#endif
}

/* The 16-bit string dst:src:dst (bits 47..0), the same for both directions. */
static inline uint64_t word_string(uint32_t dst, uint32_t src)
{
    return ((uint64_t)dst << 32) | ((uint64_t)src << 16) | dst;
}

static void op_shld(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width, bits = w * 8;
    uint32_t m = width_mask(w);
    uint32_t a = opnd_read(cpu, in, &in->dst);
    uint32_t b = opnd_read(cpu, in, &in->src) & m;
    unsigned c = shift_count(cpu, in, &in->src2);
    if (c == 0)
        return;
    /* 32-bit: the string dst:src (64 bits); 16-bit: dst:src:dst (48).
     * Shifted left by c, the result is the string's top field and the
     * last bit out is bit (top - c). */
    uint64_t s = bits == 32 ? ((uint64_t)a << 32) | b : word_string(a, b);
    unsigned top = bits == 32 ? 64 : 48;
    uint32_t r = (uint32_t)((s << c) >> (top - bits)) & m;
    bool cf = (s >> (top - c)) & 1;
    uint32_t old = flags_arith(cpu);
    uint32_t f = (old & FL_AF) | szp(r, bits) | cf_of(cf, msb(r, bits) ^ cf);
    shiftd_host(in, w, a, b, c, old, &r, &f);
    opnd_write(cpu, in, &in->dst, r);
    flags_set_arith(cpu, f);
}

static void op_shrd(struct cpu *cpu, const struct insn *in)
{
    unsigned w = in->dst.width, bits = w * 8;
    uint32_t m = width_mask(w);
    uint32_t a = opnd_read(cpu, in, &in->dst);
    uint32_t b = opnd_read(cpu, in, &in->src) & m;
    unsigned c = shift_count(cpu, in, &in->src2);
    if (c == 0)
        return;
    /* 32-bit: the string src:dst; 16-bit: dst:src:dst. Shifted right by
     * c, the result is the low field and the last bit out is bit c - 1. */
    uint64_t s = bits == 32 ? ((uint64_t)b << 32) | a : word_string(a, b);
    uint32_t r = (uint32_t)(s >> c) & m;
    bool cf = (s >> (c - 1)) & 1;
    uint32_t old = flags_arith(cpu);
    uint32_t f = (old & FL_AF) | szp(r, bits) | cf_of(cf, msb(r, bits) ^ msb(r, bits - 1));
    shiftd_host(in, w, a, b, c, old, &r, &f);
    opnd_write(cpu, in, &in->dst, r);
    flags_set_arith(cpu, f);
}

const struct op_handler shift_handlers[] = {
    { OP_ROL, op_rol },   { OP_ROR, op_ror },   { OP_RCL, op_rcl }, { OP_RCR, op_rcr },
    { OP_SHL, op_shl },   { OP_SAL, op_shl },   { OP_SHR, op_shr }, { OP_SAR, op_sar },
    { OP_SHLD, op_shld }, { OP_SHRD, op_shrd }, { OP_INVALID, NULL },
};
