/*
 * test_bitops.c — cpu/bitops.c: BT BTS BTR BTC with register and
 * immediate offsets on registers and memory (signed bit offsets that
 * reach outside the operand, SDM Vol. 2 BT), BSF and BSR incl. a zero
 * source, the flags each leaves alone, and on x86-64 every flag, the
 * undefined ones included, against the host CPU (cpu/host_flags.c).
 */
#include <criterion/criterion.h>

#include "memory/memory.h"
#include "tests/unit/arith_harness.h"

static bool bit_rr(struct cpu *cpu, enum op op, unsigned w, uint32_t v, uint32_t off)
{
    cpu->regs[R_EAX] = v;
    cpu->regs[R_ECX] = off;
    struct insn in = th_insn(op, th_reg(R_EAX, w), th_reg(R_ECX, w));
    cr_assert_eq(th_exec(cpu, &in), -1);
    return flags_cf(cpu);
}

Test(bitops, bt_register_offsets_wrap)
{
    struct cpu *cpu = th_cpu();
    th_set_flags(cpu, FL_ZF | FL_OF);
    cr_assert(bit_rr(cpu, OP_BT, 4, 0x80000000u, 31));
    cr_assert(bit_rr(cpu, OP_BT, 4, 0x80000000u, 63)); /* mod 32 */
    cr_assert(bit_rr(cpu, OP_BT, 4, 0x80000000u, 0xffffffffu));
    cr_assert(!bit_rr(cpu, OP_BT, 4, 0x80000000u, 30));
    cr_assert(bit_rr(cpu, OP_BT, 2, 0x00008000u, 31)); /* mod 16 */
    cr_assert(!bit_rr(cpu, OP_BT, 2, 0x80000000u, 31));
    /* ZF unchanged; OF SF AF PF undefined: the portable choice keeps
     * them (on x86-64 they are the host's: bitops_host). */
    cr_assert(flags_arith(cpu) & FL_ZF);
#if !GLASS_HOST_FLAGS
    cr_assert_eq(flags_arith(cpu) & ~FL_CF, FL_ZF | FL_OF);
#endif
    free(cpu);
}

Test(bitops, bts_btr_btc_registers)
{
    struct cpu *cpu = th_cpu();
    cr_assert(!bit_rr(cpu, OP_BTS, 2, 0xffff0000u, 17));
    cr_assert_eq(cpu->regs[R_EAX], 0xffff0002u);
    cr_assert(bit_rr(cpu, OP_BTR, 4, 0xffffffffu, 4));
    cr_assert_eq(cpu->regs[R_EAX], 0xffffffefu);
    cr_assert(!bit_rr(cpu, OP_BTC, 4, 0, 35));
    cr_assert_eq(cpu->regs[R_EAX], 8);
    cr_assert(bit_rr(cpu, OP_BTC, 4, 8, 3));
    cr_assert_eq(cpu->regs[R_EAX], 0);
    free(cpu);
}

Test(bitops, immediate_offset_masked)
{
    struct cpu *cpu = th_cpu();
    cpu->regs[R_EDX] = 0x00000100;
    struct insn in = th_insn(OP_BTS, th_reg(R_EDX, 2), th_imm(1));
    in.imm = 0x18; /* 24 mod 16 = 8 */
    th_exec(cpu, &in);
    cr_assert(flags_cf(cpu));
    in.imm = 0x19;
    th_exec(cpu, &in);
    cr_assert(!flags_cf(cpu));
    cr_assert_eq(cpu->regs[R_EDX], 0x00000300);
    free(cpu);
}

Test(bitops, bsf_bsr)
{
    struct cpu *cpu = th_cpu();
    static const struct {
        unsigned w;
        uint32_t v, f, r;
    } cases[] = {
        { 4, 0x80000000u, 31, 31 }, { 4, 1, 0, 0 },        { 4, 0x00f0f000u, 12, 23 },
        { 2, 0xffff8000u, 15, 15 }, { 2, 0x00010001u, 0, 0 }, { 4, 0xffffffffu, 0, 31 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct insn in = th_insn(OP_BSF, th_reg(R_EDI, cases[i].w), th_reg(R_ESI, cases[i].w));
        cpu->regs[R_ESI] = cases[i].v;
        cpu->regs[R_EDI] = 0xaaaaaaaau;
        th_set_flags(cpu, FL_ZF | FL_CF);
        th_exec(cpu, &in);
        cr_assert_eq(cpu->regs[R_EDI] & width_mask(cases[i].w), cases[i].f, "bsf %zu", i);
        cr_assert(!(flags_arith(cpu) & FL_ZF), "ZF cleared");
#if !GLASS_HOST_FLAGS
        cr_assert_eq(flags_arith(cpu), FL_CF, "others kept");
#endif
        in.op = OP_BSR;
        th_exec(cpu, &in);
        cr_assert_eq(cpu->regs[R_EDI] & width_mask(cases[i].w), cases[i].r, "bsr %zu", i);
        if (cases[i].w == 2) /* 16-bit forms write only DI */
            cr_assert_eq(cpu->regs[R_EDI] >> 16, 0xaaaa);
    }
    free(cpu);
}

Test(bitops, bsf_bsr_zero_source_keeps_destination)
{
    struct cpu *cpu = th_cpu();
    for (int rev = 0; rev < 2; rev++) {
        struct insn in = th_insn(rev ? OP_BSR : OP_BSF, th_reg(R_EDI, 4), th_reg(R_ESI, 2));
        in.src.width = 2;
        in.dst.width = 2;
        cpu->regs[R_ESI] = 0xffff0000u; /* low word zero */
        cpu->regs[R_EDI] = 0x12345678u;
        th_set_flags(cpu, FL_SF);
        th_exec(cpu, &in);
        cr_assert_eq(cpu->regs[R_EDI], 0x12345678u);
        cr_assert(flags_arith(cpu) & FL_ZF);
#if !GLASS_HOST_FLAGS
        cr_assert_eq(flags_arith(cpu), FL_SF | FL_ZF);
#endif
    }
    free(cpu);
}

/* ------------------------------------------------------------ memory */

#define BT_RAM_SIZE 0x10000u

struct bt_machine {
    struct phys_mem *pm;
    struct cpu *cpu;
    uint8_t *ram;
};

/* A real-mode CPU (DS base 0, limit FFFFH) over 64 KiB of RAM. */
static struct bt_machine bt_machine_new(void)
{
    struct bt_machine m;
    m.ram = calloc(1, BT_RAM_SIZE);
    m.pm = phys_new();
    cr_assert_not_null(m.pm);
    cr_assert_eq(phys_map_ram(m.pm, 0, BT_RAM_SIZE, m.ram), 0);
    struct cpu_bus bus = { .mem = m.pm };
    m.cpu = cpu_new(&bus);
    cr_assert_not_null(m.cpu);
    return m;
}

static void bt_machine_free(struct bt_machine *m)
{
    cpu_free(m->cpu);
    phys_free(m->pm);
    free(m->ram);
}

/* BTx [EBX] (or [BX]) with the offset in ECX/CX. */
static struct insn bt_mem_insn(enum op op, unsigned w, unsigned adsize)
{
    struct insn in = th_insn(op, th_mem(w), th_reg(R_ECX, w));
    in.opsize = (uint8_t)w;
    in.adsize = (uint8_t)adsize;
    in.ea_base = R_EBX;
    return in;
}

Test(bitops_mem, register_offset_reaches_beyond_operand)
{
    struct bt_machine m = bt_machine_new();
    struct insn in = bt_mem_insn(OP_BTS, 4, 4);
    m.cpu->regs[R_EBX] = 0x1000;
    m.cpu->regs[R_ECX] = 100; /* dword at 0x1000 + 4*3, bit 4 */
    cr_assert_eq(th_exec(m.cpu, &in), -1);
    cr_assert_eq(m.ram[0x100c], 0x10);
    cr_assert(!flags_cf(m.cpu));
    m.cpu->regs[R_ECX] = (uint32_t)-1; /* dword at 0x1000 - 4, bit 31 */
    cr_assert_eq(th_exec(m.cpu, &in), -1);
    cr_assert_eq(m.ram[0x0fff], 0x80);
    m.cpu->regs[R_ECX] = (uint32_t)-32; /* dword at 0x0ffc, bit 0 */
    in.op = OP_BTC;
    cr_assert_eq(th_exec(m.cpu, &in), -1);
    cr_assert_eq(m.ram[0x0ffc], 0x01);
    in.op = OP_BT;
    m.cpu->regs[R_ECX] = (uint32_t)-32 + 31;
    th_exec(m.cpu, &in);
    cr_assert(flags_cf(m.cpu));
    in.op = OP_BTR;
    th_exec(m.cpu, &in);
    cr_assert(flags_cf(m.cpu));
    cr_assert_eq(m.ram[0x0fff], 0x00);
    bt_machine_free(&m);
}

/* 16-bit operand size: the offset is a signed word; 16-bit addressing
 * wraps the bit base within 64 KiB. */
Test(bitops_mem, word_offsets_and_address_wrap)
{
    struct bt_machine m = bt_machine_new();
    struct insn in = bt_mem_insn(OP_BTS, 2, 2);
    m.cpu->regs[R_EBX] = 0x0002;
    m.cpu->regs[R_ECX] = 0x1234ffe0; /* CX = -32: word at 2 - 4 = FFFEH, bit 0 */
    cr_assert_eq(th_exec(m.cpu, &in), -1);
    cr_assert_eq(m.ram[0xfffe], 0x01);
    m.cpu->regs[R_ECX] = 0x7fff; /* word at 2 + 2*2047 = 1000H, bit 15 */
    cr_assert_eq(th_exec(m.cpu, &in), -1);
    cr_assert_eq(m.ram[0x1001], 0x80);
    bt_machine_free(&m);
}

Test(bitops_mem, immediate_offset_stays_in_operand)
{
    struct bt_machine m = bt_machine_new();
    struct insn in = bt_mem_insn(OP_BTS, 4, 4);
    in.src = th_imm(1);
    in.imm = 0x45; /* 69 mod 32 = 5 */
    m.cpu->regs[R_EBX] = 0x2000;
    cr_assert_eq(th_exec(m.cpu, &in), -1);
    cr_assert_eq(m.ram[0x2000], 0x20);
    cr_assert_eq(m.ram[0x2008], 0);
    bt_machine_free(&m);
}

/* ------------------------------------------------------------ host CPU */

#if defined(__x86_64__)

/* op src, dst on the host (BT* bit, value / BSF BSR source, dest). */
#define HOST_BITOP(name, insn, type, mod)                                                  \
    static uint32_t name(uint32_t d, uint32_t s, uint32_t *f)                              \
    {                                                                                      \
        type x = (type)d, y = (type)s;                                                     \
        uint64_t fl = *f;                                                                  \
        __asm__ volatile(TH_ASM_LOAD_FLAGS insn " %" mod "[y], %" mod "[x]"                \
                         TH_ASM_SAVE_FLAGS                                                 \
                         : [x] "+r"(x), [fl] "+r"(fl)                                      \
                         : [y] "r"(y)                                                      \
                         : "cc", "memory");                                                \
        *f = (uint32_t)fl & FL_ARITH;                                                      \
        return x;                                                                          \
    }

HOST_BITOP(host_bt16, "btw", uint16_t, "w")
HOST_BITOP(host_bt32, "btl", uint32_t, "k")
HOST_BITOP(host_bts16, "btsw", uint16_t, "w")
HOST_BITOP(host_bts32, "btsl", uint32_t, "k")
HOST_BITOP(host_btr16, "btrw", uint16_t, "w")
HOST_BITOP(host_btr32, "btrl", uint32_t, "k")
HOST_BITOP(host_btc16, "btcw", uint16_t, "w")
HOST_BITOP(host_btc32, "btcl", uint32_t, "k")
HOST_BITOP(host_bsf16, "bsfw", uint16_t, "w")
HOST_BITOP(host_bsf32, "bsfl", uint32_t, "k")
HOST_BITOP(host_bsr16, "bsrw", uint16_t, "w")
HOST_BITOP(host_bsr32, "bsrl", uint32_t, "k")

typedef uint32_t (*host_bitop)(uint32_t, uint32_t, uint32_t *);

Test(bitops_host, bt_bts_btr_btc_match_host)
{
    static const enum op ops[4] = { OP_BT, OP_BTS, OP_BTR, OP_BTC };
    static const host_bitop host[4][2] = {
        { host_bt16, host_bt32 }, { host_bts16, host_bts32 },
        { host_btr16, host_btr32 }, { host_btc16, host_btc32 },
    };
    struct cpu *cpu = th_cpu();
    uint64_t seed = 1979;
    for (int i = 0; i < 8000; i++) {
        th_host_flags_alternate(i);
        unsigned wi = i & 1, w = wi ? 4 : 2, k = (i >> 1) % 4;
        uint32_t v = th_rand_edge(&seed, w), off = th_rand(&seed) & (w * 8 - 1);
        uint32_t f0 = th_rand(&seed) & FL_ARITH, hf = f0;
        uint32_t want = host[k][wi](v, off, &hf);
        th_set_flags(cpu, f0);
        bool cf = bit_rr(cpu, ops[k], w, v, off);
        cr_assert_eq(cpu->regs[R_EAX] & width_mask(w), want);
        cr_assert_eq(cf, (hf & FL_CF) != 0);
        cr_assert_eq(flags_arith(cpu), hf, "op %d w %u v %x bit %u f0 %x: got %x host %x", ops[k],
                     w, v, off, f0, flags_arith(cpu), hf);
    }
    free(cpu);
}

Test(bitops_host, bsf_bsr_match_host)
{
    struct cpu *cpu = th_cpu();
    uint64_t seed = 2718;
    for (int i = 0; i < 8000; i++) {
        th_host_flags_alternate(i);
        unsigned wi = i & 1, w = wi ? 4 : 2;
        bool rev = (i >> 1) & 1;
        uint32_t src = (i % 7) == 0 ? 0 : th_rand_edge(&seed, w), old = th_rand(&seed);
        uint32_t f0 = th_rand(&seed) & FL_ARITH, hf = f0;
        uint32_t want = (rev ? (wi ? host_bsr32 : host_bsr16) : (wi ? host_bsf32 : host_bsf16))(
            old, src, &hf);
        th_set_flags(cpu, f0);
        cpu->regs[R_ESI] = src;
        cpu->regs[R_EDI] = old;
        struct insn in = th_insn(rev ? OP_BSR : OP_BSF, th_reg(R_EDI, w), th_reg(R_ESI, w));
        cr_assert_eq(th_exec(cpu, &in), -1);
        /* A zero source leaves the destination (the SDM: undefined). */
        cr_assert_eq(cpu->regs[R_EDI] & width_mask(w), src ? want : old & width_mask(w));
        cr_assert_eq(flags_arith(cpu), hf, "%s w %u src %x old %x f0 %x: got %x host %x",
                     rev ? "bsr" : "bsf", w, src, old, f0, flags_arith(cpu), hf);
    }
    free(cpu);
}

#endif
