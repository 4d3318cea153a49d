/*
 * test_cpuid_msr.c — cpu/cpuid.c and cpu/msr.c through the CPUID, RDMSR
 * and WRMSR handlers: the identity Glass reports, MSR round trips and the
 * #GP cases (SDM Vol. 2A CPUID; Vol. 4 MSRs; Vol. 3A 11.11-11.12).
 */
#include <criterion/criterion.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/system_internal.h"
#include "tests/unit/handler_harness.h"

static struct cpu *cm_cpu(void)
{
    struct cpu_bus bus = { .mem = phys_new(), .io = io_new() };
    struct cpu *cpu = cpu_new(&bus);
    cr_assert_not_null(cpu);
    return cpu;
}

static void cm_free(struct cpu *cpu)
{
    phys_free(cpu->bus.mem);
    io_free(cpu->bus.io);
    cpu_free(cpu);
}

static int cm_run(struct cpu *cpu, enum op op)
{
    jmp_buf jb;
    insn_fn volatile fn = hh_find(system_handlers, op);
    cr_assert_not_null(fn);
    struct insn in;
    memset(&in, 0, sizeof(in));
    in.op = (uint16_t)op;
    in.opsize = in.adsize = 4;
    cpu->fault_jmp = &jb;
    cpu->exc_vector = -1;
    if (setjmp(jb)) {
        cpu->fault_jmp = NULL;
        return cpu->exc_vector;
    }
    fn(cpu, &in);
    cpu->fault_jmp = NULL;
    return -1;
}

static void cpuid(struct cpu *cpu, uint32_t leaf, uint32_t r[4])
{
    cpu->regs[R_EAX] = leaf;
    cpu->regs[R_ECX] = 0;
    cr_assert_eq(cm_run(cpu, OP_CPUID), -1);
    r[0] = cpu->regs[R_EAX];
    r[1] = cpu->regs[R_EBX];
    r[2] = cpu->regs[R_ECX];
    r[3] = cpu->regs[R_EDX];
}

static int rdmsr(struct cpu *cpu, uint32_t idx, uint64_t *v)
{
    cpu->regs[R_ECX] = idx;
    int r = cm_run(cpu, OP_RDMSR);
    *v = (uint64_t)cpu->regs[R_EDX] << 32 | cpu->regs[R_EAX];
    return r;
}

static int wrmsr(struct cpu *cpu, uint32_t idx, uint64_t v)
{
    cpu->regs[R_ECX] = idx;
    cpu->regs[R_EAX] = (uint32_t)v;
    cpu->regs[R_EDX] = (uint32_t)(v >> 32);
    return cm_run(cpu, OP_WRMSR);
}

/* Writes v, expects success and reads v back. */
static void roundtrip(struct cpu *cpu, uint32_t idx, uint64_t v)
{
    uint64_t got;
    cr_assert_eq(wrmsr(cpu, idx, v), -1, "wrmsr %x", idx);
    cr_assert_eq(rdmsr(cpu, idx, &got), -1, "rdmsr %x", idx);
    cr_assert_eq(got, v, "msr %x: %llx != %llx", idx, (unsigned long long)got,
                 (unsigned long long)v);
}

Test(cpuid, vendor_and_max_leaf)
{
    struct cpu *cpu = cm_cpu();
    uint32_t r[4];
    cpuid(cpu, 0, r);
    cr_assert_eq(r[0], 2u);
    char v[13] = { 0 };
    memcpy(v, &r[1], 4);
    memcpy(v + 4, &r[3], 4);
    memcpy(v + 8, &r[2], 4);
    cr_assert_str_eq(v, "GenuineIntel");
    cm_free(cpu);
}

Test(cpuid, leaf1_features)
{
    struct cpu *cpu = cm_cpu();
    uint32_t r[4];
    cpuid(cpu, 1, r);
    cr_assert_eq(r[0], 0x619u);
    cr_assert_eq(r[1], 0u);
    cr_assert_eq(r[2], 0u);
    /* FPU VME DE PSE TSC MSR PAE CX8 SEP MTRR PGE CMOV PAT PSE36 FXSR */
    cr_assert_eq(r[3], 0x0103b97fu);
    /* Absent: MCE 7, APIC 9, MCA 14, CLFSH 19, DS 21, ACPI 22, MMX 23,
     * SSE 25, SSE2 26, HTT 28. */
    uint32_t absent = (1u << 7) | (1u << 9) | (1u << 14) | (1u << 19) | (1u << 21) |
                      (1u << 22) | (1u << 23) | (1u << 25) | (1u << 26) | (1u << 28);
    cr_assert_eq(r[3] & absent, 0u);
    cm_free(cpu);
}

Test(cpuid, out_of_range_returns_highest_basic)
{
    struct cpu *cpu = cm_cpu();
    uint32_t leaf2[4], r[4];
    cpuid(cpu, 2, leaf2);
    cr_assert_eq(leaf2[0] & 0xff, 1u); /* AL: one call */
    cpuid(cpu, 3, r);
    cr_assert_arr_eq(r, leaf2, sizeof(r));
    cpuid(cpu, 0x40000000u, r);
    cr_assert_arr_eq(r, leaf2, sizeof(r));
    cpuid(cpu, 0x80000005u, r);
    cr_assert_arr_eq(r, leaf2, sizeof(r));
    cm_free(cpu);
}

Test(cpuid, extended_leaves)
{
    struct cpu *cpu = cm_cpu();
    uint32_t r[4];
    cpuid(cpu, 0x80000000u, r);
    cr_assert_eq(r[0], 0x80000004u);
    cpuid(cpu, 0x80000001u, r);
    cr_assert_eq(r[3], 1u << 20);
    cr_assert_eq(r[2], 0u);
    char brand[49] = { 0 };
    for (uint32_t l = 0; l < 3; l++) {
        cpuid(cpu, 0x80000002u + l, r);
        memcpy(brand + 16 * l, r, 16);
    }
    cr_assert_str_eq(brand, "Glass virtual CPU");
    cm_free(cpu);
}

Test(msr, privilege_and_unknown)
{
    struct cpu *cpu = cm_cpu();
    uint64_t v;
    cr_assert_eq(rdmsr(cpu, 0x12345678u, &v), EXC_GP);
    cr_assert_eq(wrmsr(cpu, 0x12345678u, 0), EXC_GP);
    cr_assert_eq(rdmsr(cpu, 0x1b, &v), -1);
    cpu->cr0 |= CR0_PE;
    cpu->cpl = 3;
    cr_assert_eq(rdmsr(cpu, 0x1b, &v), EXC_GP);
    cr_assert_eq(wrmsr(cpu, 0x174, 8), EXC_GP);
    cm_free(cpu);
}

Test(msr, tsc_write_reads_back)
{
    struct cpu *cpu = cm_cpu();
    uint64_t v;
    cpu->icount = 5000;
    cr_assert_eq(wrmsr(cpu, 0x10, 0x12345678u), -1);
    cr_assert_eq(rdmsr(cpu, 0x10, &v), -1);
    cr_assert_eq(v, 0x12345678u);
    cpu->icount += 10;
    cr_assert_eq(rdmsr(cpu, 0x10, &v), -1);
    cr_assert_eq(v, 0x12345682u);
    /* P6: the high half is cleared by a write. */
    cr_assert_eq(wrmsr(cpu, 0x10, 0x0000000500000007ull), -1);
    cr_assert_eq(rdmsr(cpu, 0x10, &v), -1);
    cr_assert_eq(v, 7u);
    cm_free(cpu);
}

Test(msr, read_only_and_constants)
{
    struct cpu *cpu = cm_cpu();
    uint64_t v;
    cr_assert_eq(rdmsr(cpu, 0x17, &v), -1);
    cr_assert_eq(v, 0u);
    cr_assert_eq(rdmsr(cpu, 0xfe, &v), -1);
    cr_assert_eq(v & 0xff, 8u); /* eight variable ranges */
    cr_assert_eq(wrmsr(cpu, 0xfe, v), EXC_GP);
    cr_assert_eq(wrmsr(cpu, 0x17, 0), EXC_GP);
    cr_assert_eq(rdmsr(cpu, 0x277, &v), -1);
    cr_assert_eq(v, 0x0007040600070406ull); /* PAT power-up value */
    cr_assert_eq(wrmsr(cpu, 0x8b, 0), -1);
    cm_free(cpu);
}

Test(msr, sysenter_misc_apic_roundtrip)
{
    struct cpu *cpu = cm_cpu();
    roundtrip(cpu, 0x174, 0x0008);
    roundtrip(cpu, 0x175, 0xc0ffee00u);
    roundtrip(cpu, 0x176, 0xc0100000u);
    roundtrip(cpu, 0x1a0, 0x1);
    roundtrip(cpu, 0x1b, 0xfee00900u);
    cr_assert_eq(cpu->msr.sysenter_cs, 8u);
    cr_assert_eq(wrmsr(cpu, 0x1b, 0xfee00001u), EXC_GP); /* reserved bit 0 */
    cm_free(cpu);
}

Test(msr, pat_types)
{
    struct cpu *cpu = cm_cpu();
    roundtrip(cpu, 0x277, 0x0007010600070106ull);
    cr_assert_eq(wrmsr(cpu, 0x277, 0x0007040600070402ull), EXC_GP); /* type 2 */
    cr_assert_eq(wrmsr(cpu, 0x277, 0x0307040600070406ull), EXC_GP); /* type 3 */
    cr_assert_eq(wrmsr(cpu, 0x277, 0x0008040600070406ull), EXC_GP); /* > 7 */
    uint64_t v;
    cr_assert_eq(rdmsr(cpu, 0x277, &v), -1);
    cr_assert_eq(v, 0x0007010600070106ull);
    cm_free(cpu);
}

Test(msr, mtrrs)
{
    struct cpu *cpu = cm_cpu();
    /* Variable pair 0: WB base at 0, 256 MiB mask, valid. */
    roundtrip(cpu, 0x200, 0x0000000000000006ull);
    roundtrip(cpu, 0x201, 0x0000000ff0000800ull);
    roundtrip(cpu, 0x20e, 0x0000000fe0000005ull);
    roundtrip(cpu, 0x20f, 0x0000000fe0000800ull);
    cr_assert_eq(wrmsr(cpu, 0x200, 0x2), EXC_GP);               /* type 2 */
    cr_assert_eq(wrmsr(cpu, 0x200, 0x7), EXC_GP);               /* type 7 */
    cr_assert_eq(wrmsr(cpu, 0x200, 0x106), EXC_GP);             /* bit 8 */
    cr_assert_eq(wrmsr(cpu, 0x200, 0x0000001000000006ull), EXC_GP); /* bit 36 */
    cr_assert_eq(wrmsr(cpu, 0x201, 0x0000000ff0000400ull), EXC_GP); /* bit 10 */
    /* Fixed ranges. */
    roundtrip(cpu, 0x250, 0x0606060606060606ull);
    roundtrip(cpu, 0x258, 0x0000000000000000ull);
    roundtrip(cpu, 0x259, 0x0101010101010101ull);
    roundtrip(cpu, 0x268, 0x0505050505050505ull);
    roundtrip(cpu, 0x26f, 0x0404040404040404ull);
    cr_assert_eq(wrmsr(cpu, 0x26f, 0x0404040404040403ull), EXC_GP);
    uint64_t v;
    cr_assert_eq(rdmsr(cpu, 0x260, &v), EXC_GP); /* not an MTRR */
    /* Default type: type, FE (10), E (11). */
    roundtrip(cpu, 0x2ff, 0xc06);
    cr_assert_eq(wrmsr(cpu, 0x2ff, 0x1006), EXC_GP);
    cr_assert_eq(wrmsr(cpu, 0x2ff, 0x002), EXC_GP);
    cm_free(cpu);
}

Test(msr, efer_only_nxe)
{
    struct cpu *cpu = cm_cpu();
    roundtrip(cpu, 0xc0000080u, 1u << 11);
    cr_assert_eq(wrmsr(cpu, 0xc0000080u, 1u << 8), EXC_GP); /* LME: no long mode */
    cr_assert_eq(wrmsr(cpu, 0xc0000080u, 1u << 0), EXC_GP); /* SCE */
    roundtrip(cpu, 0xc0000080u, 0);
    cm_free(cpu);
}
