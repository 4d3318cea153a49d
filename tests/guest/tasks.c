/*
 * tasks.c — hardware task switching (SDM Vol. 3A 7.3): CALL through a task
 * gate and IRET back (NT and the back link), JMP to a TSS descriptor, an
 * interrupt through a task gate, the busy-bit checks, and a switch into a
 * 16-bit (286) TSS.
 */
#include "lib/guest.h"

#define SEL_TASK_A 0x30 /* slot 6: TSS of task A */
#define SEL_GATE_A 0x38 /* slot 7: task gate to task A */
#define SEL_TASK_B 0x40 /* slot 8: TSS of task B */
#define SEL_TASK16 0x48 /* slot 9: 16-bit TSS of task C */
#define SEL_CODE16 0x50 /* slot 10: task C's code, based so that IP fits */
#define SEL_STACK16 0x58 /* slot 11: task C's 16-bit stack */

static uint32_t tss_a[26] __attribute__((aligned(16)));
static uint32_t tss_b[26] __attribute__((aligned(16)));
static uint8_t stack_a[4096] __attribute__((aligned(16)));
static uint8_t stack_b[4096] __attribute__((aligned(16)));

volatile uint32_t task_a_runs, task_a_eflags, task_a_backlink, task_b_runs;
/* What task C saw on entry: EAX..EDI, then FS, GS and EFLAGS. */
volatile uint32_t task_c_regs[11];
static uint16_t tss_c[22] __attribute__((aligned(16))); /* 44 bytes */
static uint8_t stack_c[256] __attribute__((aligned(16)));

static uint8_t tss_type(unsigned slot)
{
    return (uint8_t)((gdt_get(slot) >> 40) & 0xf);
}

/* Task A: records what it sees, returns with IRET (NT set), loops. */
__asm__(".globl task_a_entry\n"
        "task_a_entry:\n"
        "  incl task_a_runs\n"
        "  pushf\n"
        "  popl task_a_eflags\n"
        "  iret\n"
        ".globl task_a_resume\n"
        "task_a_resume:\n"
        "  jmp task_a_entry\n"
        /* Task B: entered by JMP, jumps back to the kernel task. */
        ".globl task_b_entry\n"
        "task_b_entry:\n"
        "  incl task_b_runs\n"
        "  ljmp $0x28, $0\n"
        "  jmp task_b_entry\n"
        /* Task C (16-bit TSS, 32-bit code): records its registers as it
         * finds them, jumps back to the kernel task. */
        ".globl task_c_entry\n"
        "task_c_entry:\n"
        "  movl %eax, task_c_regs + 0\n"
        "  movl %ecx, task_c_regs + 4\n"
        "  movl %edx, task_c_regs + 8\n"
        "  movl %ebx, task_c_regs + 12\n"
        "  movl %esp, task_c_regs + 16\n"
        "  movl %ebp, task_c_regs + 20\n"
        "  movl %esi, task_c_regs + 24\n"
        "  movl %edi, task_c_regs + 28\n"
        "  movl %fs, %eax\n"
        "  movl %eax, task_c_regs + 32\n"
        "  movl %gs, %eax\n"
        "  movl %eax, task_c_regs + 36\n"
        "  pushfl\n"
        "  popl %eax\n"
        "  movl %eax, task_c_regs + 40\n"
        "  ljmp $0x28, $0\n"
        "  jmp task_c_entry\n");
extern char task_a_entry[], task_a_resume[], task_b_entry[], task_c_entry[];

static void init_tss(uint32_t *t, void *entry, uint8_t *stack)
{
    for (int i = 0; i < 26; i++)
        t[i] = 0;
    t[8] = (uint32_t)entry;                 /* EIP */
    t[9] = 0x2;                             /* EFLAGS */
    t[14] = (uint32_t)(stack + 4096);       /* ESP */
    t[7] = read_cr3();                      /* CR3 */
    t[18] = SEL_KDATA;                      /* ES */
    t[19] = SEL_KCODE;                      /* CS */
    t[20] = SEL_KDATA;                      /* SS */
    t[21] = SEL_KDATA;                      /* DS */
    t[22] = SEL_KDATA;                      /* FS */
    t[23] = SEL_KDATA;                      /* GS */
    t[25] = 104u << 16;                     /* I/O map base beyond the limit */
}

static void call_busy(void *a)
{
    (void)a;
    /* The running (kernel) task is busy: a CALL to it is #GP(selector). */
    __asm__ volatile("lcall $0x28, $0");
}

/*
 * A switch into a 16-bit TSS loads only the low halves of the general
 * registers; the SDM leaves the upper halves "modified and not
 * maintained" (Vol. 3A 7.6), and Intel processors set them to FFFFh.
 * FS and GS, which a 16-bit TSS has no fields for, are loaded with null
 * selectors, and the upper half of EFLAGS is cleared ("the upper 16 bits
 * of the EFLAGS register ... are lost").
 */
static void task16_switch(void)
{
    uint32_t code = (uint32_t)task_c_entry, stack = (uint32_t)stack_c;
    /* Segments based at the 64 KiB windows that hold the entry point and
     * the stack: IP and SP are 16-bit. */
    gdt_set(10, code & 0xffff0000u, 0xffff, 0x9a, 0x4); /* 32-bit code */
    gdt_set(11, stack & 0xffff0000u, 0xffff, 0x92, 0x0); /* 16-bit stack */
    for (unsigned i = 0; i < 22; i++)
        tss_c[i] = 0;
    tss_c[7] = (uint16_t)code;                        /* IP */
    tss_c[8] = 0x0002;                                /* FLAGS */
    for (unsigned r = 0; r < 8; r++)                  /* AX..DI */
        tss_c[9 + r] = (uint16_t)(0x1100 * (r + 1));
    tss_c[13] = (uint16_t)(stack + sizeof(stack_c)); /* SP */
    tss_c[17] = SEL_KDATA;                            /* ES */
    tss_c[18] = SEL_CODE16;                           /* CS */
    tss_c[19] = SEL_STACK16;                          /* SS */
    tss_c[20] = SEL_KDATA;                            /* DS */
    gdt_set(9, (uint32_t)tss_c, sizeof(tss_c) - 1, 0x81, 0); /* 16-bit TSS */

    /* The kernel task's upper halves must not leak into task C. */
    __asm__ volatile("push %%ebp\n"
                     "mov $0x5a5a0000, %%eax\n"
                     "mov %%eax, %%ecx\n"
                     "mov %%eax, %%edx\n"
                     "mov %%eax, %%esi\n"
                     "mov %%eax, %%edi\n"
                     "mov %%eax, %%ebp\n"
                     "ljmp $0x48, $0\n"
                     "pop %%ebp\n"
                     : : : "eax", "ecx", "edx", "esi", "edi", "memory");
    for (unsigned r = 0; r < 8; r++) {
        uint32_t low = r == 4 ? (uint16_t)(stack + sizeof(stack_c)) : 0x1100 * (r + 1);
#ifndef QEMU_VALIDATE
        /* QEMU 7.2 keeps the old task's upper halves; Intel processors
         * set them to FFFFh. */
        CHECK_EQ(task_c_regs[r], 0xffff0000u | low);
#else
        CHECK_EQ(task_c_regs[r] & 0xffff, low);
#endif
    }
    CHECK_EQ(task_c_regs[8] & 0xffff, 0); /* FS null */
    CHECK_EQ(task_c_regs[9] & 0xffff, 0); /* GS null */
    CHECK_EQ(task_c_regs[10] & 0xffff0000u, 0);
    CHECK_EQ(tss_type(9), 0x1); /* idle again after its JMP back */
    /* Task C's state was saved in its 16-bit TSS at the JMP back. */
    CHECK_EQ(tss_c[12], 0x4400); /* BX */
}

void test_main(void)
{
    init_tss(tss_a, task_a_entry, stack_a);
    init_tss(tss_b, task_b_entry, stack_b);
    gdt_set(6, (uint32_t)tss_a, 103, 0x89, 0);
    gdt_set_raw(7, (uint32_t)SEL_TASK_A << 16, 0x8500); /* task gate, DPL 0 */
    gdt_set(8, (uint32_t)tss_b, 103, 0x89, 0);

    CHECK_EQ(tss_type(5), 0xb); /* the kernel's TSS is busy after LTR */

    /* CALL through the task gate: task A runs with NT set and a back link
     * to the kernel task, then IRETs back. */
    __asm__ volatile("lcall $0x38, $0" : : : "memory");
    CHECK_EQ(task_a_runs, 1);
    CHECK(task_a_eflags & 0x4000);             /* NT in task A */
    CHECK_EQ(tss_a[0] & 0xffff, SEL_TSS);      /* back link */
    CHECK_EQ(tss_type(6), 0x9);                /* A no longer busy after IRET */
    CHECK_EQ(tss_type(5), 0xb);
    CHECK(!(read_eflags() & 0x4000));
    /* Task A's state was saved at its IRET: EIP after the IRET. */
    CHECK_EQ(tss_a[8], (uint32_t)task_a_resume);

    /* Again: task A resumes where it left off (after the IRET). */
    __asm__ volatile("lcall $0x38, $0" : : : "memory");
    CHECK_EQ(task_a_runs, 2);

    /* JMP to task B's TSS: no NT, no back link; the kernel task is no
     * longer busy until B jumps back. */
    __asm__ volatile("ljmp $0x40, $0" : : : "memory");
    CHECK_EQ(task_b_runs, 1);
    CHECK_EQ(tss_type(8), 0x9);
    CHECK_EQ(tss_type(5), 0xb);

    /* An interrupt through a task gate. */
    idt_set(0x50, 0, SEL_TASK_A, 0x85, 0);
    __asm__ volatile("int $0x50" : : : "memory");
    CHECK_EQ(task_a_runs, 3);

    /* CALL to a busy TSS (our own): #GP(selector). */
    int v = run_expect(call_busy, 0);
    CHECK_EQ(v, 13);
    CHECK_EQ(last_trap.error, SEL_TSS);
    task16_switch();
    printf("task switches ok (A ran %u times, B %u)\n", task_a_runs, task_b_runs);
}
