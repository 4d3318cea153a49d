/*
 * tasks.c — hardware task switching (SDM Vol. 3A 7.3): CALL through a task
 * gate and IRET back (NT and the back link), JMP to a TSS descriptor, an
 * interrupt through a task gate, and the busy-bit checks.
 */
#include "lib/guest.h"

#define SEL_TASK_A 0x30 /* slot 6: TSS of task A */
#define SEL_GATE_A 0x38 /* slot 7: task gate to task A */
#define SEL_TASK_B 0x40 /* slot 8: TSS of task B */

static uint32_t tss_a[26] __attribute__((aligned(16)));
static uint32_t tss_b[26] __attribute__((aligned(16)));
static uint8_t stack_a[4096] __attribute__((aligned(16)));
static uint8_t stack_b[4096] __attribute__((aligned(16)));

volatile uint32_t task_a_runs, task_a_eflags, task_a_backlink, task_b_runs;

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
        "  jmp task_b_entry\n");
extern char task_a_entry[], task_a_resume[], task_b_entry[];

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
    printf("task switches ok (A ran %u times, B %u)\n", task_a_runs, task_b_runs);
}
