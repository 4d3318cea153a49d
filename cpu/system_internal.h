/*
 * cpu/system_internal.h — private to cpu/system.c, cpu/cpuid.c, cpu/msr.c,
 * cpu/io.c and cpu/debug.c: the pieces of the system family that live in
 * their own files.
 */
#ifndef GLASS_CPU_SYSTEM_INTERNAL_H
#define GLASS_CPU_SYSTEM_INTERNAL_H

#include "cpu/internal.h"

/* CPUID (cpu/cpuid.c): fills out[0..3] = EAX, EBX, ECX, EDX for `leaf`.
 * The identity is fixed: it does not depend on CPU state. */
void cpuid_query(uint32_t leaf, uint32_t out[4]);

/* Model-specific registers (cpu/msr.c). Both return 0, or -1 when the
 * access must raise #GP(0) (unknown MSR, read-only MSR, reserved bits). */
int msr_read(struct cpu *cpu, uint32_t index, uint64_t *val);
int msr_write(struct cpu *cpu, uint32_t index, uint64_t val);

/* MSR numbers (SDM Vol. 4, chapter 2). */
#define MSR_TSC 0x010u
#define MSR_PLATFORM_ID 0x017u
#define MSR_APIC_BASE 0x01bu
#define MSR_BIOS_SIGN_ID 0x08bu
#define MSR_MTRRCAP 0x0feu
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define MSR_MISC_ENABLE 0x1a0u
#define MSR_MTRR_PHYS_FIRST 0x200u /* base/mask pairs 0x200-0x20f */
#define MSR_MTRR_PHYS_LAST 0x20fu
#define MSR_MTRR_FIX64K_00000 0x250u
#define MSR_MTRR_FIX16K_80000 0x258u
#define MSR_MTRR_FIX16K_A0000 0x259u
#define MSR_MTRR_FIX4K_C0000 0x268u /* ... 0x26f */
#define MSR_PAT 0x277u
#define MSR_MTRR_DEF_TYPE 0x2ffu
#define MSR_EFER 0xc0000080u
#define EFER_NXE (1u << 11)

/* Debug registers (cpu/debug.c). */
#define DR6_B_MASK 0x0000000fu /* B0-B3 */
#define DR6_BD (1u << 13)
#define DR6_BS (1u << 14)
#define DR6_BT (1u << 15)
#define DR6_FIXED1 0xffff0ff0u /* bits 4-11 and 16-31 read as 1 on P6 */
#define DR6_WRITABLE (DR6_B_MASK | DR6_BD | DR6_BS | DR6_BT)
#define DR7_GD (1u << 13)
#define DR7_FIXED1 (1u << 10)
#define DR7_RESERVED0 ((1u << 11) | (1u << 12) | (1u << 14) | (1u << 15))
/* An I/O access to [port, port+size) just happened: records matching
 * I/O breakpoints (R/W = 10 with CR4.DE) in cpu->dr6_pending. */
void cpu_check_io_breakpoint(struct cpu *cpu, uint16_t port, unsigned size);

#endif
