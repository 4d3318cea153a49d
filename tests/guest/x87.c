/*
 * x87.c — the FPU from a kernel's side: arithmetic and rounding control,
 * integer and BCD conversions, compares into EFLAGS and the status word,
 * the stack fault, masked responses, unmasked exceptions as #MF at the
 * next waiting instruction (CR0.NE = 1), #NM with CR0.TS, and
 * FSAVE/FRSTOR (SDM Vol. 1 chapter 8).
 */
#include "lib/guest.h"

static uint16_t fstsw(void)
{
    uint16_t sw;
    __asm__ volatile("fnstsw %0" : "=m"(sw));
    return sw;
}
static void fldcw(uint16_t cw)
{
    __asm__ volatile("fldcw %0" : : "m"(cw));
}

static int32_t fist_with_rc(double x, unsigned rc)
{
    int32_t r;
    fldcw((uint16_t)(0x037f | (rc << 10)));
    __asm__ volatile("fldl %1\n fistpl %0" : "=m"(r) : "m"(x));
    fldcw(0x037f);
    return r;
}

static void div_by_zero_unmasked(void *a)
{
    (void)a;
    double one = 1.0, zero = 0.0, out;
    fldcw(0x037f & ~0x4); /* unmask ZE */
    __asm__ volatile("fldl %1\n fdivl %2\n" : : "m"(out), "m"(one), "m"(zero));
    /* The next waiting instruction reports it (QEMU's TCG checks only at
     * FWAIT, so the QEMU_VALIDATE build uses one). */
#ifdef QEMU_VALIDATE
    __asm__ volatile(".globl mf_insn\n mf_insn: fwait\n fstpl %0" : "=m"(out));
#else
    __asm__ volatile(".globl mf_insn\n mf_insn: fstpl %0" : "=m"(out));
#endif
}
extern char mf_insn[];

static void fp_with_ts(void *a)
{
    (void)a;
    __asm__ volatile(".globl nm_insn\n nm_insn: fld1\n fstp %%st(0)" : : : "memory");
}
extern char nm_insn[];

void test_main(void)
{
    write_cr0((read_cr0() | 0x22) & ~0xcu); /* NE, MP; no EM, no TS */
    __asm__ volatile("fninit");
    CHECK_EQ(fstsw(), 0);

    /* Arithmetic in double extended, stored as double. */
    double a = 1.5, b = 2.25, r;
    __asm__ volatile("fldl %1\n faddl %2\n fstpl %0" : "=m"(r) : "m"(a), "m"(b));
    CHECK(r == 3.75);
    __asm__ volatile("fldl %1\n fmull %2\n fstpl %0" : "=m"(r) : "m"(a), "m"(b));
    CHECK(r == 3.375);
    double two = 2.0;
    __asm__ volatile("fldl %1\n fsqrt\n fstpl %0" : "=m"(r) : "m"(two));
    CHECK(r > 1.41421356 && r < 1.41421357);
    __asm__ volatile("fldpi\n fstpl %0" : "=m"(r));
    CHECK(r > 3.14159265 && r < 3.14159266);

    /* Rounding control on FIST: nearest-even, down, up, toward zero. */
    CHECK_EQ(fist_with_rc(2.5, 0), 2);
    CHECK_EQ(fist_with_rc(3.5, 0), 4);
    CHECK_EQ(fist_with_rc(-2.5, 1), (uint32_t)-3);
    CHECK_EQ(fist_with_rc(2.1, 2), 3);
    CHECK_EQ(fist_with_rc(-2.9, 3), (uint32_t)-2);

    /* Packed BCD store. */
    uint8_t bcd[10];
    double n = 1234567.0;
    __asm__ volatile("fldl %1\n fbstp %0" : "=m"(bcd) : "m"(n));
    CHECK_EQ(bcd[0], 0x67);
    CHECK_EQ(bcd[1], 0x45);
    CHECK_EQ(bcd[2], 0x23);
    CHECK_EQ(bcd[3], 0x01);
    CHECK_EQ(bcd[9], 0x00);

    /* FCOMI sets ZF/PF/CF: 1.5 < 2.25 -> CF. */
    uint32_t fl;
    __asm__ volatile("fldl %2\n fldl %1\n fcomip %%st(1), %%st\n fstp %%st(0)\n pushf\n pop %0"
                     : "=r"(fl) : "m"(a), "m"(b));
    CHECK_EQ(fl & 0x45, 0x01);
    /* FCOM into C3/C2/C0: equal -> C3. */
    __asm__ volatile("fldl %0\n fcoml %0\n fstp %%st(0)" : : "m"(a));
    CHECK_EQ(fstsw() & 0x4500, 0x4000);

    /* FXAM on an empty register: C3 and C0 set (empty). */
    __asm__ volatile("fninit\n fxam");
    CHECK_EQ(fstsw() & 0x4700, 0x4100);

#ifndef QEMU_VALIDATE
    /* Stack underflow, masked: IE and SF set, C1 clear (SDM 8.5.1.1).
     * QEMU's TCG does not model the stack fault. */
    __asm__ volatile("fninit\n fadd %%st(0), %%st(0)" : : : "memory");
    uint16_t sw = fstsw();
    CHECK_EQ(sw & 0x0241, 0x0041);
#endif
    __asm__ volatile("fninit");

    /* Masked divide by zero: ZE set, result +inf. */
    double one = 1.0, zero = 0.0;
    __asm__ volatile("fldl %1\n fdivl %2\n fstpl %0" : "=m"(r) : "m"(one), "m"(zero));
    CHECK((fstsw() & 0x04) != 0);
    CHECK(r > 1e308);
    __asm__ volatile("fnclex");

    /* Unmasked: #MF at the next waiting instruction. */
    int v = run_expect(div_by_zero_unmasked, 0);
    CHECK_EQ(v, 16);
    CHECK_EQ(last_trap.eip, (uint32_t)mf_insn);
    CHECK((fstsw() & 0x8084) == 0x8084); /* B, ES, ZE */
    __asm__ volatile("fnclex");
    fldcw(0x037f);

    /* #NM with CR0.TS; CLTS clears it. */
    write_cr0(read_cr0() | 0x8);
    v = run_expect(fp_with_ts, 0);
    CHECK_EQ(v, 7);
    CHECK_EQ(last_trap.eip, (uint32_t)nm_insn);
    __asm__ volatile("clts");

    /* FSAVE / FRSTOR round trip. */
    uint8_t area[108];
    double pi;
    __asm__ volatile("fninit\n fldpi\n fld1\n fsave %0" : "=m"(area));
    CHECK_EQ(*(uint16_t *)area, 0x037f);      /* FSAVE ran FNINIT afterwards... */
    CHECK_EQ(fstsw(), 0);                     /* ...so the stack is empty now */
    __asm__ volatile("frstor %1\n fstp %%st(0)\n fstpl %0" : "=m"(pi) : "m"(area));
    CHECK(pi > 3.14159265 && pi < 3.14159266);
    puts("x87 ok\n");
}
