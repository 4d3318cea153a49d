/*
 * test_fpu.c — the x87 handlers (cpu/fpu.c) on a bare real-mode CPU with
 * 64 KiB of RAM at 0: register stack, tags, stack faults, masked and
 * unmasked exceptions, #NM/#MF/FERR#, control and environment
 * instructions, FXSAVE/FXRSTOR, and the 0F AE decoding. Expected values
 * come from the SDM (Vol. 1 chapter 8 and the instruction pages) and
 * from IEEE 754 encodings, not from the code under test.
 */
#include <criterion/criterion.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/internal.h"
#include "translate/translate.h"

#define RAM_SIZE 0x10000u

struct fpu_rig {
    struct cpu *cpu;
    struct phys_mem *pm;
    uint8_t *ram;
    int ferr_calls;
    bool ferr_level;
};

static struct fpu_rig rig;

static void rig_ferr(void *opaque, bool asserted)
{
    struct fpu_rig *r = opaque;
    r->ferr_calls++;
    r->ferr_level = asserted;
}

static void rig_setup(void)
{
    memset(&rig, 0, sizeof(rig));
    rig.ram = calloc(1, RAM_SIZE);
    rig.pm = phys_new();
    cr_assert_eq(phys_map_ram(rig.pm, 0, RAM_SIZE, rig.ram), 0);
    struct cpu_bus bus = {.mem = rig.pm, .opaque = &rig, .ferr = rig_ferr};
    rig.cpu = cpu_new(&bus);
    /* Real mode after RESET: DS base 0, limit FFFFH. x87 as after FNINIT
     * with CR0.NE set (a modern kernel's setting). */
    rig.cpu->cr0 = (rig.cpu->cr0 | 0x20) & ~0xeu;
    rig.cpu->fpu.cw = 0x037f;
    rig.cpu->fpu.tag_empty = 0xff;
}

static void rig_teardown(void)
{
    cpu_free(rig.cpu);
    phys_free(rig.pm);
    free(rig.ram);
}

TestSuite(fpu, .init = rig_setup, .fini = rig_teardown);

static insn_fn fpu_fn(enum op op)
{
    for (const struct op_handler *h = fpu_handlers; h->fn; h++)
        if (h->op == op)
            return h->fn;
    return NULL;
}

/* Runs one instruction; returns the vector raised, or -1. */
static int run(const struct insn *in)
{
    jmp_buf jb;
    struct cpu *cpu = rig.cpu;
    insn_fn volatile fn = fpu_fn((enum op)in->op);
    cr_assert(fn, "no handler for op %u", in->op);
    cpu->fault_jmp = &jb;
    cpu->exc_vector = -1;
    if (setjmp(jb)) {
        cpu->fault_jmp = NULL;
        return cpu->exc_vector;
    }
    fn(cpu, in);
    cpu->fault_jmp = NULL;
    return -1;
}

static struct insn base_insn(enum op op, unsigned opcode)
{
    struct insn in;
    memset(&in, 0, sizeof(in));
    in.op = (uint16_t)op;
    in.opcode = (uint16_t)opcode;
    in.opsize = 2;
    in.adsize = 2;
    in.seg = SEG_DS;
    in.seg_override = SEG_NONE;
    in.ea_base = EA_NO_REG;
    in.ea_index = EA_NO_REG;
    in.has_modrm = 1;
    return in;
}

/* Register form: escape byte and ModRM (mod = 3). */
static int xr(unsigned esc, unsigned modrm)
{
    struct insn in = base_insn(OP_X87, esc);
    in.modrm = (uint8_t)modrm;
    in.mod = 3;
    in.reg = (uint8_t)((modrm >> 3) & 7);
    in.rm = (uint8_t)(modrm & 7);
    return run(&in);
}

/* Memory form: escape byte, /reg, DS:addr (disp16), operand size. */
static int xm_size(unsigned esc, unsigned reg, uint32_t addr, unsigned opsize)
{
    struct insn in = base_insn(OP_X87, esc);
    in.mod = 0;
    in.reg = (uint8_t)reg;
    in.rm = 6;
    in.modrm = (uint8_t)((reg << 3) | 6);
    in.disp = (int32_t)addr;
    in.opsize = (uint8_t)opsize;
    return run(&in);
}

static int xm(unsigned esc, unsigned reg, uint32_t addr)
{
    return xm_size(esc, reg, addr, 2);
}

static void put64(uint32_t a, uint64_t v)
{
    memcpy(rig.ram + a, &v, 8);
}
static uint64_t get64(uint32_t a)
{
    uint64_t v;
    memcpy(&v, rig.ram + a, 8);
    return v;
}
static uint32_t get32(uint32_t a)
{
    uint32_t v;
    memcpy(&v, rig.ram + a, 4);
    return v;
}
static uint16_t get16(uint32_t a)
{
    uint16_t v;
    memcpy(&v, rig.ram + a, 2);
    return v;
}
static void put16(uint32_t a, uint16_t v)
{
    memcpy(rig.ram + a, &v, 2);
}

static uint16_t fsw(void)
{
    struct insn in = base_insn(OP_X87, 0xdf);
    in.mod = 3;
    in.modrm = 0xe0; /* FNSTSW AX */
    in.reg = 4;
    cr_assert_eq(run(&in), -1);
    return (uint16_t)rig.cpu->regs[R_EAX];
}

/* IEEE 754 doubles used below. */
#define D_1_5 0x3ff8000000000000ull
#define D_2_25 0x4002000000000000ull
#define D_3_75 0x400e000000000000ull
#define D_2_0 0x4000000000000000ull
#define D_ZERO 0x0000000000000000ull
#define D_ONE 0x3ff0000000000000ull

Test(fpu, load_add_store_double)
{
    put64(0x100, D_1_5);
    put64(0x108, D_2_25);
    cr_assert_eq(xm(0xdd, 0, 0x100), -1); /* FLD m64 */
    cr_assert_eq(xm(0xdc, 0, 0x108), -1); /* FADD m64 */
    cr_assert_eq(xm(0xdd, 3, 0x110), -1); /* FSTP m64 */
    cr_assert_eq(get64(0x110), D_3_75);
    cr_assert_eq(fsw(), 0); /* TOP back to 0, no exception */
    cr_assert_eq(fpu_tag_word(&rig.cpu->fpu), 0xffff);
}

Test(fpu, register_arithmetic_and_tags)
{
    cr_assert_eq(xr(0xd9, 0xe8), -1); /* FLD1 */
    cr_assert_eq(xr(0xd8, 0xc0), -1); /* FADD ST0,ST0 -> 2.0 */
    cr_assert_eq((fsw() >> 11) & 7, 7);
    /* TOP = 7: physical R7 holds a valid number (tag 00), others empty. */
    cr_assert_eq(fpu_tag_word(&rig.cpu->fpu), 0x3fff);
    cr_assert_eq(xr(0xd9, 0xee), -1); /* FLDZ: R6 tag zero (01) */
    cr_assert_eq(fpu_tag_word(&rig.cpu->fpu), 0x1fff);
    cr_assert_eq(xr(0xde, 0xc1), -1); /* FADDP ST1,ST0 */
    cr_assert_eq(xm(0xdd, 3, 0x200), -1);
    cr_assert_eq(get64(0x200), D_2_0);
}

Test(fpu, reverse_forms_of_dc_and_de)
{
    put64(0x100, D_1_5);
    put64(0x108, D_2_25);
    cr_assert_eq(xm(0xdd, 0, 0x108), -1); /* ST1 = 2.25 after next load */
    cr_assert_eq(xm(0xdd, 0, 0x100), -1); /* ST0 = 1.5 */
    /* DE E9 = FSUBP ST(1),ST(0): ST1 = ST1 - ST0 = 0.75 */
    cr_assert_eq(xr(0xde, 0xe9), -1);
    cr_assert_eq(xm(0xdd, 3, 0x110), -1);
    cr_assert_eq(get64(0x110), 0x3fe8000000000000ull);
    cr_assert_eq(xm(0xdd, 0, 0x108), -1);
    cr_assert_eq(xm(0xdd, 0, 0x100), -1);
    /* DE E1 = FSUBRP ST(1),ST(0): ST1 = ST0 - ST1 = -0.75 */
    cr_assert_eq(xr(0xde, 0xe1), -1);
    cr_assert_eq(xm(0xdd, 3, 0x110), -1);
    cr_assert_eq(get64(0x110), 0xbfe8000000000000ull);
}

Test(fpu, stack_underflow_masked)
{
    cr_assert_eq(xr(0xd8, 0xc0), -1); /* FADD ST0,ST0 on an empty stack */
    uint16_t sw = fsw();
    cr_assert_eq(sw & 0x0241, 0x0041); /* IE, SF, C1 = 0 (underflow) */
    cr_assert_eq(sw & 0x8080, 0);      /* masked: no ES */
    /* Masked response: ST0 = real indefinite. */
    struct f80 v = rig.cpu->fpu.st[rig.cpu->fpu.top];
    cr_assert_eq(v.sign_exp, 0xffff);
    cr_assert_eq(v.sig, 0xc000000000000000ull);
}

Test(fpu, stack_overflow_masked_sets_c1)
{
    for (int i = 0; i < 8; i++)
        cr_assert_eq(xr(0xd9, 0xe8), -1);
    cr_assert_eq(fsw() & 0x0241, 0);
    cr_assert_eq(xr(0xd9, 0xe8), -1);
    cr_assert_eq(fsw() & 0x0241, 0x0241); /* IE, SF, C1 = 1 (overflow) */
}

Test(fpu, store_empty_unmasked_leaves_memory)
{
    put16(0x300, 0x037e); /* IM clear */
    cr_assert_eq(xm(0xd9, 5, 0x300), -1); /* FLDCW */
    put64(0x310, 0x1122334455667788ull);
    cr_assert_eq(xm(0xdd, 3, 0x310), -1); /* FSTP m64 of an empty ST0 */
    cr_assert_eq(get64(0x310), 0x1122334455667788ull);
    cr_assert_eq(fsw() & 0x80c1, 0x80c1); /* B, ES, SF, IE */
    cr_assert_eq((fsw() >> 11) & 7, 0);   /* not popped */
}

Test(fpu, fcomi_sets_eflags)
{
    put64(0x100, D_1_5);
    put64(0x108, D_2_25);
    cr_assert_eq(xm(0xdd, 0, 0x108), -1);
    cr_assert_eq(xm(0xdd, 0, 0x100), -1);
    flags_set_arith(rig.cpu, FL_OF | FL_SF | FL_AF);
    cr_assert_eq(xr(0xdf, 0xf1), -1); /* FCOMIP ST0,ST1: 1.5 < 2.25 */
    cr_assert_eq(flags_arith(rig.cpu), FL_CF);
    cr_assert_eq((fsw() >> 11) & 7, 7); /* popped once */
}

Test(fpu, fcom_condition_codes)
{
    put64(0x100, D_1_5);
    cr_assert_eq(xm(0xdd, 0, 0x100), -1);
    cr_assert_eq(xm(0xdc, 2, 0x100), -1); /* FCOM m64: equal -> C3 */
    cr_assert_eq(fsw() & 0x4700, 0x4000);
    put64(0x108, D_2_25);
    cr_assert_eq(xm(0xdc, 2, 0x108), -1); /* less -> C0 */
    cr_assert_eq(fsw() & 0x4700, 0x0100);
    cr_assert_eq(xr(0xd9, 0xe4), -1); /* FTST: 1.5 > 0 -> 000 */
    cr_assert_eq(fsw() & 0x4700, 0x0000);
}

Test(fpu, fxam_empty_and_negative)
{
    cr_assert_eq(xr(0xd9, 0xe5), -1);
    cr_assert_eq(fsw() & 0x4500, 0x4100); /* empty: C3 C0 */
    cr_assert_eq(xr(0xd9, 0xe8), -1);      /* FLD1 */
    cr_assert_eq(xr(0xd9, 0xe0), -1);      /* FCHS */
    cr_assert_eq(xr(0xd9, 0xe5), -1);
    cr_assert_eq(fsw() & 0x4700, 0x0600); /* normal (C2), negative (C1) */
}

Test(fpu, fldpi_rounds_per_rc)
{
    cr_assert_eq(xr(0xd9, 0xeb), -1);
    cr_assert_eq(rig.cpu->fpu.st[7].sig, 0xc90fdaa22168c235ull);
    cr_assert_eq(rig.cpu->fpu.st[7].sign_exp, 0x4000);
    put16(0x300, 0x077f); /* RC = down */
    cr_assert_eq(xm(0xd9, 5, 0x300), -1);
    cr_assert_eq(xr(0xd9, 0xeb), -1);
    cr_assert_eq(rig.cpu->fpu.st[6].sig, 0xc90fdaa22168c234ull);
}

Test(fpu, fist_rounding_control)
{
    static const struct {
        uint64_t in;
        unsigned rc;
        int32_t out;
    } cases[] = {
        {0x4004000000000000ull, 0, 2},  /* 2.5 nearest-even */
        {0x400c000000000000ull, 0, 4},  /* 3.5 */
        {0xc004000000000000ull, 1, -3}, /* -2.5 down */
        {0x4000cccccccccccdull, 2, 3},  /* 2.1 up */
        {0xc007333333333333ull, 3, -2}, /* -2.9 toward zero */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        put16(0x300, (uint16_t)(0x037f | (cases[k].rc << 10)));
        cr_assert_eq(xm(0xd9, 5, 0x300), -1);
        put64(0x100, cases[k].in);
        cr_assert_eq(xm(0xdd, 0, 0x100), -1);
        cr_assert_eq(xm(0xdb, 3, 0x120), -1); /* FISTP m32 */
        cr_assert_eq((int32_t)get32(0x120), cases[k].out, "case %zu", k);
    }
}

Test(fpu, fbstp_packs_bcd)
{
    put64(0x100, 0x4132d68700000000ull); /* 1234567.0 */
    cr_assert_eq(xm(0xdd, 0, 0x100), -1);
    cr_assert_eq(xm(0xdf, 6, 0x140), -1);
    static const uint8_t want[10] = {0x67, 0x45, 0x23, 0x01};
    cr_assert_arr_eq(rig.ram + 0x140, want, 10);
}

Test(fpu, unmasked_zero_divide_reports_at_next_insn)
{
    put64(0x100, D_ONE);
    put64(0x108, D_ZERO);
    put16(0x300, 0x037b); /* ZE unmasked */
    cr_assert_eq(xm(0xd9, 5, 0x300), -1);
    cr_assert_eq(xm(0xdd, 0, 0x100), -1);
    cr_assert_eq(xm(0xdc, 6, 0x108), -1); /* FDIV m64: no fault yet */
    cr_assert_eq(fsw() & 0x8084, 0x8084); /* B, ES, ZE */
    /* Operand unchanged: ST0 still 1.0. */
    cr_assert_eq(rig.cpu->fpu.st[7].sig, 0x8000000000000000ull);
    cr_assert_eq(rig.cpu->fpu.st[7].sign_exp, 0x3fff);
    /* The next waiting instruction faults with #MF (CR0.NE = 1)... */
    cr_assert_eq(xr(0xd9, 0xe8), EXC_MF);
    cr_assert_eq((fsw() >> 11) & 7, 7); /* ...before doing anything */
    /* ...and so does WAIT; control instructions do not. */
    struct insn w = base_insn(OP_WAIT, 0x9b);
    w.has_modrm = 0;
    cr_assert_eq(run(&w), EXC_MF);
    cr_assert_eq(xr(0xdb, 0xe2), -1); /* FNCLEX */
    cr_assert_eq(fsw() & 0x80ff, 0);
    cr_assert_eq(run(&w), -1);
}

Test(fpu, legacy_ferr_when_ne_clear)
{
    rig.cpu->cr0 &= ~0x20u;
    put64(0x108, D_ZERO);
    put16(0x300, 0x037b);
    cr_assert_eq(xm(0xd9, 5, 0x300), -1);
    cr_assert_eq(xr(0xd9, 0xe8), -1);
    cr_assert_eq(xm(0xdc, 6, 0x108), -1);
    cr_assert_eq(rig.ferr_calls, 0);
    cr_assert_eq(xr(0xd9, 0xe8), -1); /* proceeds, FERR# asserted */
    cr_assert_eq(rig.ferr_calls, 1);
    cr_assert(rig.ferr_level);
    cr_assert_eq(xr(0xdb, 0xe3), -1); /* FNINIT lowers it */
    cr_assert(!rig.ferr_level);
}

Test(fpu, fldcw_unmasking_pending_sets_es)
{
    put64(0x100, D_ONE);
    put64(0x108, D_ZERO);
    cr_assert_eq(xm(0xdd, 0, 0x100), -1);
    cr_assert_eq(xm(0xdc, 6, 0x108), -1); /* masked: ZE, result +inf */
    cr_assert_eq(fsw() & 0x80ff, 0x0004);
    cr_assert_eq(rig.cpu->fpu.st[7].sign_exp, 0x7fff);
    cr_assert_eq(rig.cpu->fpu.st[7].sig, 0x8000000000000000ull);
    put16(0x300, 0x037b);
    cr_assert_eq(xm(0xd9, 5, 0x300), -1);
    cr_assert_eq(fsw() & 0x8080, 0x8080);
}

Test(fpu, nm_rules)
{
    struct insn w = base_insn(OP_WAIT, 0x9b);
    w.has_modrm = 0;
    rig.cpu->cr0 |= 0x8; /* TS */
    cr_assert_eq(xr(0xd9, 0xe8), EXC_NM);
    cr_assert_eq(run(&w), -1); /* WAIT: #NM only with MP and TS */
    rig.cpu->cr0 |= 0x2;
    cr_assert_eq(run(&w), EXC_NM);
    rig.cpu->cr0 = (rig.cpu->cr0 & ~0xau) | 0x4; /* EM */
    cr_assert_eq(xr(0xd9, 0xe8), EXC_NM);
    cr_assert_eq(run(&w), -1);
}

Test(fpu, reserved_encodings_are_ud)
{
    cr_assert_eq(xr(0xd9, 0xd8), EXC_UD); /* FSTP1 alias */
    cr_assert_eq(xr(0xd9, 0xd1), EXC_UD);
    cr_assert_eq(xr(0xde, 0xd0), EXC_UD);
    cr_assert_eq(xr(0xdb, 0xe5), EXC_UD);
    cr_assert_eq(xm(0xdf, 1, 0x100), EXC_UD); /* FISTTP: SSE3 */
    cr_assert_eq(xm(0xdb, 4, 0x100), EXC_UD);
}

Test(fpu, fcmov_and_fxch)
{
    put64(0x100, D_1_5);
    put64(0x108, D_2_25);
    cr_assert_eq(xm(0xdd, 0, 0x108), -1);
    cr_assert_eq(xm(0xdd, 0, 0x100), -1);
    flags_set_arith(rig.cpu, 0);
    cr_assert_eq(xr(0xda, 0xc1), -1); /* FCMOVB: CF = 0, no move */
    cr_assert_eq(rig.cpu->fpu.st[6].sig, 0xc000000000000000ull);
    flags_set_arith(rig.cpu, FL_CF);
    cr_assert_eq(xr(0xda, 0xc1), -1); /* moves 2.25 */
    cr_assert_eq(rig.cpu->fpu.st[6].sig, 0x9000000000000000ull);
    cr_assert_eq(xr(0xd9, 0xe8), -1); /* FLD1 */
    cr_assert_eq(xr(0xd9, 0xc9), -1); /* FXCH ST1 */
    cr_assert_eq(rig.cpu->fpu.st[5].sig, 0x9000000000000000ull);
    cr_assert_eq(rig.cpu->fpu.st[6].sig, 0x8000000000000000ull);
}

Test(fpu, fptan_pushes_one)
{
    cr_assert_eq(xr(0xd9, 0xee), -1); /* FLDZ */
    cr_assert_eq(xr(0xd9, 0xf2), -1); /* FPTAN: tan 0 = 0, push 1.0 */
    cr_assert_eq((fsw() >> 11) & 7, 6);
    cr_assert_eq(rig.cpu->fpu.st[6].sig, 0x8000000000000000ull);
    cr_assert_eq(rig.cpu->fpu.st[6].sign_exp, 0x3fff);
    cr_assert_eq(rig.cpu->fpu.st[7].sig, 0);
    cr_assert_eq(fsw() & 0x0400, 0); /* C2 clear: in range */
}

Test(fpu, fsave_frstor_round_trip_real_mode)
{
    cr_assert_eq(xr(0xd9, 0xeb), -1); /* FLDPI */
    cr_assert_eq(xr(0xd9, 0xe8), -1); /* FLD1 */
    cr_assert_eq(xm_size(0xdd, 6, 0x400, 4), -1); /* FNSAVE, 32-bit: 108 bytes */
    cr_assert_eq(get16(0x400), 0x037f);
    cr_assert_eq((get16(0x404) >> 11) & 7, 6);
    cr_assert_eq(get16(0x408), 0x0fff); /* R6 valid, R7 valid, rest empty */
    cr_assert_eq(get64(0x400 + 28), 0x8000000000000000ull); /* ST0 = 1.0 */
    cr_assert_eq(get16(0x400 + 36), 0x3fff);
    /* FSAVE ran FNINIT. */
    cr_assert_eq(fsw(), 0);
    cr_assert_eq(fpu_tag_word(&rig.cpu->fpu), 0xffff);
    cr_assert_eq(xm_size(0xdd, 4, 0x400, 4), -1); /* FRSTOR */
    cr_assert_eq((fsw() >> 11) & 7, 6);
    cr_assert_eq(fpu_tag_word(&rig.cpu->fpu), 0x0fff);
    cr_assert_eq(xm(0xdd, 3, 0x500), -1);
    cr_assert_eq(get64(0x500), D_ONE);
    cr_assert_eq(xm(0xdd, 3, 0x500), -1);
    cr_assert_eq(get64(0x500), 0x400921fb54442d18ull); /* pi as double */
}

Test(fpu, fstenv_16bit_real_mode_layout)
{
    rig.cpu->seg[SEG_CS].sel = 0x1234;
    rig.cpu->eip = 0x0010;
    cr_assert_eq(xr(0xd9, 0xe8), -1); /* FLD1 at 1234:0010 -> linear 12350 */
    cr_assert_eq(xm(0xd9, 6, 0x600), -1); /* FNSTENV m14 */
    cr_assert_eq(get16(0x600), 0x037f);
    cr_assert_eq(get16(0x606), 0x2350);                 /* IP 15..0 */
    cr_assert_eq(get16(0x608), (0x1u << 12) | 0x1e8);   /* IP 19..16, FOP */
    /* FSTENV masks every exception afterwards. */
    cr_assert_eq(rig.cpu->fpu.cw & 0x3f, 0x3f);
}

Test(fpu, fxsave_fxrstor)
{
    struct insn in = base_insn(OP_FXSAVE, 0x1ae);
    in.mod = 0;
    in.rm = 6;
    in.modrm = 0x06;
    in.disp = 0x808; /* misaligned */
    cr_assert_eq(run(&in), EXC_GP);
    cr_assert_eq(xr(0xd9, 0xe8), -1); /* FLD1 */
    cr_assert_eq(xr(0xd9, 0xee), -1); /* FLDZ */
    memset(rig.ram + 0x800, 0xaa, 512);
    in.disp = 0x800;
    cr_assert_eq(run(&in), -1);
    cr_assert_eq(get16(0x800), 0x037f);
    cr_assert_eq((get16(0x802) >> 11) & 7, 6);
    cr_assert_eq(rig.ram[0x804], 0xc0); /* R6, R7 in use */
    cr_assert_eq(get32(0x818), 0x1f80);
    cr_assert_eq(get64(0x820 + 16), 0x8000000000000000ull); /* ST1 = 1.0 */
    cr_assert_eq(rig.ram[0x8a0], 0xaa); /* XMM area untouched */
    cr_assert_eq(xr(0xdb, 0xe3), -1);   /* FNINIT */
    struct insn rs = in;
    rs.op = OP_FXRSTOR;
    rs.reg = 1;
    rs.modrm = 0x0e;
    cr_assert_eq(run(&rs), -1);
    cr_assert_eq((fsw() >> 11) & 7, 6);
    cr_assert_eq(fpu_tag_word(&rig.cpu->fpu), 0x1fff); /* R6 zero (01), R7 valid (00) */
}

Test(fpu, decoder_group_15)
{
    struct insn in;
    cr_assert_eq(decode_insn(&in, (const uint8_t *)"\x0f\xae\x00", 3, true), 3);
    cr_assert_eq(in.op, OP_FXSAVE);
    cr_assert_eq(in.dst.kind, OPND_MEM);
    cr_assert_eq(decode_insn(&in, (const uint8_t *)"\x0f\xae\x08", 3, true), 3);
    cr_assert_eq(in.op, OP_FXRSTOR);
    cr_assert_eq(decode_insn(&in, (const uint8_t *)"\x0f\xae\xc0", 3, true), DECODE_UD);
    cr_assert_eq(decode_insn(&in, (const uint8_t *)"\x0f\xae\x10", 3, true), DECODE_UD);
    cr_assert_eq(decode_insn(&in, (const uint8_t *)"\x0f\xae\x38", 3, true), DECODE_UD);
}

Test(fpu, fstenv_fldenv_32bit_protected_layout)
{
    rig.cpu->cr0 |= 1; /* PE, with the real-mode segment caches kept */
    rig.cpu->seg[SEG_CS].sel = 0x0008;
    rig.cpu->eip = 0x1000;
    cr_assert_eq(xr(0xd9, 0xe8), -1); /* FLD1 */
    rig.cpu->eip = 0x1002;
    put64(0x100, D_1_5);
    cr_assert_eq(xm(0xdc, 0, 0x100), -1); /* FADD m64 at 0008:1002, operand DS:0100 */
    cr_assert_eq(xm_size(0xd9, 6, 0x700, 4), -1); /* FNSTENV m28 */
    cr_assert_eq(get32(0x700), 0xffff037f);
    cr_assert_eq(get32(0x708), 0xffff3fff);
    cr_assert_eq(get32(0x70c), 0x1002);                      /* FIP */
    cr_assert_eq(get32(0x710), 0x0008u | (0x406u << 16));    /* FCS, FOP = DC 06 */
    cr_assert_eq(get32(0x714), 0x100);                       /* FDP */
    cr_assert_eq(get16(0x718), rig.cpu->seg[SEG_DS].sel);    /* FDS */
    /* Reload with ZE flagged and unmasked: ES and B come back set. */
    put16(0x700, 0x037b);
    put16(0x704, (uint16_t)(get16(0x704) | 0x0004));
    cr_assert_eq(xm_size(0xd9, 4, 0x700, 4), -1); /* FLDENV */
    cr_assert_eq(rig.cpu->fpu.cw, 0x037b);
    cr_assert_eq(fsw() & 0x8084, 0x8084);
    cr_assert_eq(fpu_tag_word(&rig.cpu->fpu), 0x3fff); /* R7 valid, recomputed */
}

Test(fpu, fprem_quotient_bits)
{
    put64(0x100, 0x4008000000000000ull); /* 3.0 */
    put64(0x108, 0x401c000000000000ull); /* 7.0 */
    cr_assert_eq(xm(0xdd, 0, 0x100), -1); /* ST1 = 3 */
    cr_assert_eq(xm(0xdd, 0, 0x108), -1); /* ST0 = 7 */
    cr_assert_eq(xr(0xd9, 0xf8), -1);      /* FPREM: 7 = 2*3 + 1 */
    /* Quotient 2 = Q1 -> C3; complete -> C2 = 0; Q2 = Q0 = 0. */
    cr_assert_eq(fsw() & 0x4700, 0x4000);
    cr_assert_eq(xm(0xdd, 3, 0x110), -1);
    cr_assert_eq(get64(0x110), D_ONE);
}

/* A denormal memory operand's DE yields to a higher-priority condition
 * of the same instruction (SDM Vol. 1 4.9.2): a QNaN operand, or a
 * division by zero (both are above the denormal operand). The host's
 * x87 reports them so; the JIT, which runs such forms on it, must agree
 * with these handlers. */
Test(fpu, denormal_memory_operand_yields_to_qnan_and_zero_divide)
{
    put64(0x100, 0x7ff8000000000000ull); /* a QNaN double */
    memcpy(rig.ram + 0x108, &(uint32_t){ 0x00000001u }, 4); /* the least float denormal */
    cr_assert_eq(xm(0xdd, 0, 0x100), -1);               /* FLD m64: QNaN */
    cr_assert_eq(xm(0xd8, 0, 0x108), -1);               /* FADD m32 denormal */
    cr_assert_eq(fsw() & 0x3f, 0, "QNaN + denormal: %04x", fsw());
    cr_assert_eq(xm(0xdd, 3, 0x110), -1);               /* FSTP */
    put64(0x118, 0x0000000000000001ull);                /* the least double denormal */
    cr_assert_eq(xr(0xd9, 0xee), -1);                   /* FLDZ */
    cr_assert_eq(xm(0xdc, 7, 0x118), -1);               /* FDIVR m64: denormal / +0 */
    cr_assert_eq(fsw() & 0x3f, 0x04, "denormal / 0: %04x", fsw()); /* ZE alone */
    /* With nothing higher, the denormal is reported. */
    cr_assert_eq(xr(0xd9, 0xe8), -1);                   /* FLD1 */
    cr_assert_eq(xm(0xdc, 0, 0x118), -1);               /* FADD m64 denormal */
    cr_assert_eq(fsw() & 0x3f, 0x04 | 0x02 | 0x20, "1 + denormal: %04x", fsw());
}
