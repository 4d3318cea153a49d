/*
 * smc.c — self-modifying code (SDM Vol. 3A 11.6): a store into code that
 * has already run must be seen by the next execution of that code, in
 * the same block, on the next call, and when the code is rewritten
 * through a second linear mapping of the same physical page. Glass caches
 * decoded blocks per physical page; this test fails if a stale block
 * survives a write.
 */
#include "lib/guest.h"

/* A function whose immediate operand the test rewrites:
 *   patch_fn: mov $imm32, %eax ; ret          (B8 imm32 C3) */
extern unsigned char patch_fn[], patch_imm[];
__asm__(".section .text\n"
        ".align 64\n"
        ".globl patch_fn, patch_imm\n"
        "patch_fn: .byte 0xb8\n"
        "patch_imm: .long 0x11111111\n"
        "ret\n");

/* A store that rewrites the very next instruction of the same block:
 *   movb $0x42, next+1 ; next: mov $0x00, %al
 * On a P6 the store is seen by the following fetch (the CPU detects the
 * write to an instruction already in its pipeline). */
static unsigned same_block(void)
{
    unsigned r;
    __asm__ volatile("movb $0x42, 1f+1\n"
                     "1: mov $0x00, %%al\n"
                     "movzbl %%al, %0"
                     : "=r"(r)
                     :
                     : "eax", "memory");
    return r;
}

static uint32_t call_patch(void)
{
    uint32_t v;
    __asm__ volatile("call patch_fn" : "=a"(v) : : "memory");
    return v;
}

void test_main(void)
{
    /* The kernel's code is writable (flat data segment over it). */
    CHECK_EQ(call_patch(), 0x11111111);
    for (uint32_t i = 0; i < 100; i++) {
        *(volatile uint32_t *)patch_imm = 0x22220000 + i;
        CHECK_EQ(call_patch(), 0x22220000 + i);
    }

    /* The same block patched in place, many times. */
    for (int i = 0; i < 5; i++) {
        *(volatile uint8_t *)((uintptr_t)same_block) += 0; /* touch the page */
        CHECK_EQ(same_block(), 0x42);
    }

    /* Through a second mapping: with paging, map the code page also at
     * 0x40000000 + its offset and write through that alias. */
    static uint32_t pd[1024] __attribute__((aligned(4096)));
    static uint32_t pt[1024] __attribute__((aligned(4096)));
    for (uint32_t i = 0; i < 1024; i++)
        pd[i] = (i << 22) | 0x83; /* 4 MiB identity pages, present, writable */
    uint32_t page = (uint32_t)patch_fn & ~0xfffu;
    pt[0] = page | 3;
    pd[0x40000000 >> 22] = (uint32_t)pt | 3;
    write_cr4(read_cr4() | 0x10); /* PSE */
    write_cr3((uint32_t)pd);
    write_cr0(read_cr0() | 0x80000000u);
    volatile uint32_t *alias = (volatile uint32_t *)(0x40000000 + ((uint32_t)patch_imm & 0xfff));
    for (uint32_t i = 0; i < 10; i++) {
        *alias = 0x33330000 + i;
        CHECK_EQ(call_patch(), 0x33330000 + i);
    }
    write_cr0(read_cr0() & ~0x80000000u);
    printf("smc ok\n");
}
