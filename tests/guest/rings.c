/*
 * rings.c — privilege levels: IRET to ring 3 (and data segments nulled on
 * the way out), interrupt gates back to ring 0 with the stack switch from
 * the TSS, a 32-bit call gate with parameter copying and the far RET to
 * the outer level, and the #GP faults of privileged instructions at CPL 3
 * (SDM Vol. 3A 5.8, 6.12).
 */
#include "lib/guest.h"

static uint8_t user_stack[4096] __attribute__((aligned(16)));
uint32_t user_results[8];
uint32_t gate_frame[6];

/* User-mode code, entered by IRET with DS still holding the kernel's
 * DPL-0 data selector (which the IRET must null). */
__asm__(".globl user_main\n"
        "user_main:\n"
        "  mov %ds, %eax\n"
        "  mov %eax, %ebx\n"          /* DS after IRET: 0 */
        "  mov $0x23, %ax\n"
        "  mov %ax, %ds\n"
        "  mov %ax, %es\n"
        "  mov %ebx, user_results\n"
        "  mov %cs, %eax\n"
        "  mov %eax, user_results+4\n"
        "  push $0x2222\n"            /* second parameter */
        "  push $0x1111\n"            /* first parameter */
        "  lcall $0x33, $0\n"         /* call gate to ring 0 */
        "  mov %eax, user_results+8\n"
        "  mov %esp, user_results+12\n"
        "  mov %ds, %eax\n"
        "  mov %eax, user_results+16\n"
        "  int $0x80\n"               /* back to the kernel for good */
        ".globl user_hlt\n"
        "user_hlt:\n"
        "  hlt\n"
        ".globl user_cli\n"
        "user_cli:\n"
        "  mov $0x23, %ax\n"
        "  mov %ax, %ds\n"
        "  cli_insn: cli\n"
        ".globl user_int_dpl0\n"
        "user_int_dpl0:\n"
        "  int_dpl0_insn: int $0x41\n"
        ".globl user_kernel_data\n"
        "user_kernel_data:\n"
        "  kdata_insn: mov $0x10, %ax\n"
        "  mov %ax, %ds\n"
        /* Ring-0 end of the call gate: save the frame, return with RET 8. */
        ".globl gate_target\n"
        "gate_target:\n"
        "  push %ds\n"
        "  mov $0x10, %ax\n"
        "  mov %ax, %ds\n"
        "  mov 4(%esp), %eax\n  mov %eax, gate_frame\n"      /* EIP */
        "  mov 8(%esp), %eax\n  mov %eax, gate_frame+4\n"    /* CS */
        "  mov 12(%esp), %eax\n mov %eax, gate_frame+8\n"    /* param 1 */
        "  mov 16(%esp), %eax\n mov %eax, gate_frame+12\n"   /* param 2 */
        "  mov 20(%esp), %eax\n mov %eax, gate_frame+16\n"   /* ESP */
        "  mov 24(%esp), %eax\n mov %eax, gate_frame+20\n"   /* SS */
        "  pop %ds\n"
        "  mov $0xfeed, %eax\n"
        "  lret $8\n");

extern char user_main[], user_hlt[], user_cli[], user_int_dpl0[], user_kernel_data[],
    gate_target[], cli_insn[], int_dpl0_insn[], kdata_insn[];

static void enter_user(void *entry)
{
    uint32_t top = (uint32_t)(user_stack + sizeof(user_stack));
    __asm__ volatile("push $0x23\n push %0\n push $0x202\n push $0x1b\n push %1\n iret"
                     : : "r"(top), "r"(entry) : "memory");
}

static void expect_user_gp(const char *name, void *entry, uint32_t error, const void *eip)
{
    int v = run_expect(enter_user, entry);
    printf("%s: vector %u error %x at %x:%x\n", name, (uint32_t)v, last_trap.error,
           last_trap.cs, last_trap.eip);
    CHECK_EQ(v, 13);
    CHECK_EQ(last_trap.error, error);
    CHECK_EQ(last_trap.cs, SEL_UCODE);
    CHECK_EQ(last_trap.eip, (uint32_t)eip);
}

void test_main(void)
{
    idt_set_stub(0x80, 0x8e, 3); /* interrupt gate callable from ring 3 */
    idt_set(0x41, 0x1000, SEL_KCODE, 0x8e, 0);
    /* Slot 6 (0x30, used with RPL 3 as 0x33): 32-bit call gate, DPL 3, two
     * dword parameters, to ring-0 code. */
    uint32_t off = (uint32_t)gate_target;
    gdt_set_raw(6, (off & 0xffff) | (SEL_KCODE << 16), (off & 0xffff0000u) | 0xec00 | 2);

    int v = run_expect(enter_user, user_main);
    CHECK_EQ(v, 0x80);
    printf("user: ds after iret %x cs %x gate ret %x\n", user_results[0], user_results[1],
           user_results[2]);
    CHECK_EQ(user_results[0] & 0xffff, 0);          /* DS nulled by IRET */
    CHECK_EQ(user_results[1] & 0xffff, SEL_UCODE);
    CHECK_EQ(user_results[2], 0xfeed);
    uint32_t top = (uint32_t)(user_stack + sizeof(user_stack));
    CHECK_EQ(user_results[12 / 4], top);            /* RET 8 released the parameters */
    CHECK_EQ(user_results[16 / 4] & 0xffff, 0x23);  /* DPL-3 DS kept by the far RET */
    /* The call gate's ring-0 frame: EIP CS params ESP SS. */
    CHECK_EQ(gate_frame[1] & 0xffff, SEL_UCODE);
    CHECK_EQ(gate_frame[2], 0x1111);
    CHECK_EQ(gate_frame[3], 0x2222);
    CHECK_EQ(gate_frame[4], top - 8);
    CHECK_EQ(gate_frame[5] & 0xffff, 0x23);
    /* The frame of INT 0x80 from ring 3: SS:ESP of the user. */
    CHECK_EQ(last_trap.cs, SEL_UCODE);
    CHECK_EQ(last_trap.ss, 0x23);
    CHECK_EQ(last_trap.esp, top);

    expect_user_gp("hlt at cpl 3", user_hlt, 0, user_hlt);
    expect_user_gp("cli at cpl 3, iopl 0", user_cli, 0, cli_insn);
    expect_user_gp("int to a dpl-0 gate", user_int_dpl0, 0x41 * 8 + 2, int_dpl0_insn);
    expect_user_gp("load dpl-0 data", user_kernel_data, 0x10, kdata_insn + 4);
}
