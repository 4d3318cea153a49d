/*
 * cpu/cpuid.c — what CPUID tells the guest (SDM Vol. 2A, CPUID).
 *
 * The identity is honest: a family 6 model 1 ("Pentium Pro class") part
 * that claims only the features Glass implements. Software decides what
 * to use from these bits, so a bit set here for something Glass lacks
 * would be a bug the guest cannot work around.
 */
#include <string.h>

#include "cpu/system_internal.h"

/* Same value RESET leaves in EDX (cpu/state.c). */
#define CPUID_SIGNATURE 0x00000619u

#define BASIC_MAX 0x00000002u
#define EXT_BASE 0x80000000u
#define EXT_MAX 0x80000004u

/* CPUID.1:EDX feature bits (SDM Vol. 2A Table 3-11). */
#define FEAT_FPU (1u << 0)
#define FEAT_VME (1u << 1)
#define FEAT_DE (1u << 2)
#define FEAT_PSE (1u << 3)
#define FEAT_TSC (1u << 4)
#define FEAT_MSR (1u << 5)
#define FEAT_PAE (1u << 6)
#define FEAT_CX8 (1u << 8)
#define FEAT_SEP (1u << 11)
#define FEAT_MTRR (1u << 12)
#define FEAT_PGE (1u << 13)
#define FEAT_CMOV (1u << 15)
#define FEAT_PAT (1u << 16)
#define FEAT_PSE36 (1u << 17)
#define FEAT_FXSR (1u << 24)

/* Not claimed: MCE, APIC, MCA, MMX, SSE*, CLFSH, ACPI, DS, HTT — Glass
 * has none of them. */
#define LEAF1_EDX                                                                               \
    (FEAT_FPU | FEAT_VME | FEAT_DE | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_PAE | FEAT_CX8 |     \
     FEAT_SEP | FEAT_MTRR | FEAT_PGE | FEAT_CMOV | FEAT_PAT | FEAT_PSE36 | FEAT_FXSR)

/* CPUID.80000001H:EDX.NX (bit 20): execute-disable with PAE. */
#define EXT_FEAT_NX (1u << 20)

/* Leaf 2 descriptors of a Pentium Pro with 256 KiB L2 (SDM Vol. 2A
 * Table 3-12): AL = 01 (one CPUID 2 call needed), then 01H ITLB 4K,
 * 02H ITLB 4M, 03H DTLB 4K, 04H DTLB 4M, 06H L1I 8K, 0AH L1D 8K,
 * 42H L2 256K. Bit 31 clear in each register: descriptors valid. */
static const uint32_t leaf2[4] = { 0x03020101u, 0, 0, 0x0a060442u };

/* 48 bytes, NUL padded (CPUID 80000002H-80000004H). */
static const char brand[48] = "Glass virtual CPU";

/* Four ASCII bytes as a little-endian register value. */
static uint32_t ascii4(const char *s)
{
    return (uint32_t)(uint8_t)s[0] | (uint32_t)(uint8_t)s[1] << 8 |
           (uint32_t)(uint8_t)s[2] << 16 | (uint32_t)(uint8_t)s[3] << 24;
}

void cpuid_query(uint32_t leaf, uint32_t out[4])
{
    /* A leaf above the maximum of its range returns the data of the
     * highest basic leaf (SDM Vol. 2A CPUID, "If a value entered for
     * CPUID.EAX is higher than the maximum input value..."). */
    if ((leaf > BASIC_MAX && leaf < EXT_BASE) || leaf > EXT_MAX)
        leaf = BASIC_MAX;

    memset(out, 0, 4 * sizeof(out[0]));
    switch (leaf) {
    case 0:
        /* EBX, EDX, ECX spell the vendor. */
        out[0] = BASIC_MAX;
        out[1] = ascii4("Genu");
        out[3] = ascii4("ineI");
        out[2] = ascii4("ntel");
        break;
    case 1:
        out[0] = CPUID_SIGNATURE;
        out[3] = LEAF1_EDX;
        break;
    case 2:
        memcpy(out, leaf2, sizeof(leaf2));
        break;
    case EXT_BASE:
        out[0] = EXT_MAX;
        break;
    case EXT_BASE + 1:
        out[3] = EXT_FEAT_NX;
        break;
    default: { /* 80000002H-80000004H: 16 bytes of the brand each */
        const char *p = brand + (leaf - (EXT_BASE + 2)) * 16;
        for (int r = 0; r < 4; r++)
            out[r] = ascii4(p + 4 * r);
        break;
    }
    }
}
