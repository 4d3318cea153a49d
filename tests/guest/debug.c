/*
 * debug.c — debug exceptions around MOV SS and POP SS (SDM Vol. 3A 6.8.3,
 * "Masking Exceptions and Interrupts When Switching Stacks"): the
 * processor holds off debug exceptions and single-step traps after MOV
 * SS or POP SS until the boundary after the next instruction, so that
 * MOV SS; MOV ESP runs as a pair. A single-step trap on the MOV SS, or a
 * data breakpoint hit by its own memory operand, is therefore delivered
 * after the instruction that follows it: the saved EIP is past that
 * instruction, and DR6 says what happened (BS, B0).
 *
 * For contrast, the same traps after an ordinary instruction and after
 * STI (whose shadow holds interrupts only) come at once.
 */
#include "lib/guest.h"

#define EFL_TF 0x100u
#define DR6_B0 0x1u
#define DR6_BS 0x4000u
/* DR7: L0, R/W0 = 11 (read or write), LEN0 = 01 (two bytes). */
#define DR7_RW0_2BYTES (0x1u | (0x3u << 16) | (0x1u << 18))

static volatile uint32_t db_count, db_eip, db_dr6;
volatile uint16_t ss_value = SEL_KDATA;

static inline void write_dr0(uint32_t v) { __asm__ volatile("mov %0, %%dr0" : : "r"(v)); }
static inline void write_dr6(uint32_t v) { __asm__ volatile("mov %0, %%dr6" : : "r"(v)); }
static inline void write_dr7(uint32_t v) { __asm__ volatile("mov %0, %%dr7" : : "r"(v)); }
static inline uint32_t read_dr6(void)
{
    uint32_t v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    return v;
}

/* #DB: record where it came from and DR6, stop single-stepping, resume. */
static int on_db(struct trapframe *tf)
{
    if (tf->vector != 1)
        return 0;
    db_count++;
    db_eip = tf->eip;
    db_dr6 = read_dr6();
    tf->eflags &= ~EFL_TF;
    write_dr7(0);
    return 1;
}

static void reset_db(void)
{
    db_count = 0;
    db_eip = 0;
    db_dr6 = 0;
    write_dr6(0);
}

/* Each sequence below sets TF with POPF (the trap follows the instruction
 * after the POPF, which runs with TF set) or arms DR0, runs the
 * instruction under test, a NOP, and marks the addresses after the
 * instruction (…_next) and after the NOP (…_after). */
__asm__(".globl tf_movss, tf_movss_next, tf_movss_after\n"
        "tf_movss:\n"
        "  mov $0x10, %eax\n"
        "  pushf\n"
        "  orl $0x100, (%esp)\n"
        "  popf\n"
        "  mov %ax, %ss\n"
        "tf_movss_next:\n"
        "  nop\n"
        "tf_movss_after:\n"
        "  ret\n"
        ".globl tf_popss, tf_popss_next, tf_popss_after\n"
        "tf_popss:\n"
        "  push $0x10\n"
        "  pushf\n"
        "  orl $0x100, (%esp)\n"
        "  popf\n"
        "  pop %ss\n"
        "tf_popss_next:\n"
        "  nop\n"
        "tf_popss_after:\n"
        "  ret\n"
        ".globl tf_plain, tf_plain_next\n"
        "tf_plain:\n"
        "  mov $0x10, %eax\n"
        "  pushf\n"
        "  orl $0x100, (%esp)\n"
        "  popf\n"
        "  mov %ax, %ds\n"
        "tf_plain_next:\n"
        "  nop\n"
        "  ret\n"
        ".globl tf_sti, tf_sti_next\n"
        "tf_sti:\n"
        "  pushf\n"
        "  orl $0x100, (%esp)\n"
        "  popf\n"
        "  sti\n"
        "tf_sti_next:\n"
        "  cli\n"
        "  ret\n"
        /* DR0 on ss_value, armed by the caller. */
        ".globl bp_movss, bp_movss_next, bp_movss_after\n"
        "bp_movss:\n"
        "  mov ss_value, %ss\n"
        "bp_movss_next:\n"
        "  nop\n"
        "bp_movss_after:\n"
        "  ret\n"
        ".globl bp_movax, bp_movax_next\n"
        "bp_movax:\n"
        "  mov ss_value, %ax\n"
        "bp_movax_next:\n"
        "  nop\n"
        "  ret\n"
        /* DR0 on the stack slot POP SS reads: armed here (EAX = DR7).
         * The instruction after it moves ESP away, as a stack switch
         * does, so that the #DB frame is not written over the watched
         * slot (a second hit). */
        ".globl bp_popss, bp_popss_next, bp_popss_after\n"
        "bp_popss:\n"
        "  push $0x10\n"
        "  mov %esp, %edx\n"
        "  mov %edx, %dr0\n"
        "  mov %eax, %dr7\n"
        "  pop %ss\n"
        "bp_popss_next:\n"
        "  lea -64(%esp), %esp\n"
        "bp_popss_after:\n"
        "  lea 64(%esp), %esp\n"
        "  ret\n");
extern char tf_movss[], tf_movss_next[], tf_movss_after[];
extern char tf_popss[], tf_popss_next[], tf_popss_after[];
extern char tf_plain[], tf_plain_next[], tf_sti[], tf_sti_next[];
extern char bp_movss[], bp_movss_next[], bp_movss_after[];
extern char bp_movax[], bp_movax_next[];
extern char bp_popss[], bp_popss_next[], bp_popss_after[];

/* Calls one of the sequences with EAX = the DR7 value bp_popss arms. */
static void call(void *fn)
{
    uint32_t eax = DR7_RW0_2BYTES;
    __asm__ volatile("call *%1" : "+a"(eax) : "r"(fn) : "edx", "memory", "cc");
}

static void expect_db(const char *what, void *fn, const char *want_eip, uint32_t want_dr6)
{
    reset_db();
    call(fn);
    if (db_count != 1 || db_eip != (uint32_t)want_eip || (db_dr6 & 0xe00f) != want_dr6) {
        printf("FAIL %s: %u #DB, EIP %x (want %x), DR6 %x (want B0-B3/BD/BS/BT %x)\n", what,
               db_count, db_eip, (uint32_t)want_eip, db_dr6, want_dr6);
        guest_exit(1);
    }
    printf("%s: #DB, saved EIP %x, DR6 %x\n", what, db_eip, db_dr6 & 0xe00f);
}

void test_main(void)
{
    pic_remap(); /* every IRQ masked: the STI case takes no interrupt */
    trap_hook = on_db;

    /* Ordinary instructions and STI: the trap follows them at once. */
    expect_db("TF on MOV DS", tf_plain, tf_plain_next, DR6_BS);
#ifndef QEMU_VALIDATE
    /* QEMU 7.2 holds the single-step trap after STI as well; the SDM
     * holds debug exceptions after MOV SS and POP SS only (6.8.3), STI's
     * shadow delays interrupts (SDM Vol. 2 STI). */
    expect_db("TF on STI", tf_sti, tf_sti_next, DR6_BS);
#endif
    write_dr0((uint32_t)&ss_value);
    write_dr7(DR7_RW0_2BYTES);
    expect_db("DR0 on MOV AX,[m]", bp_movax, bp_movax_next, DR6_B0);

    /* MOV SS / POP SS: held over the next instruction. */
    expect_db("TF on MOV SS", tf_movss, tf_movss_after, DR6_BS);
    expect_db("TF on POP SS", tf_popss, tf_popss_after, DR6_BS);
#ifndef QEMU_VALIDATE
    /* QEMU 7.2 delivers a data breakpoint hit by MOV SS / POP SS at once;
     * the SDM holds every debug exception over the next instruction. */
    write_dr0((uint32_t)&ss_value);
    write_dr7(DR7_RW0_2BYTES);
    expect_db("DR0 on MOV SS,[m]", bp_movss, bp_movss_after, DR6_B0);
    expect_db("DR0 on POP SS", bp_popss, bp_popss_after, DR6_B0);
#endif
    (void)tf_movss_next;
    (void)tf_popss_next;
    (void)bp_movss_next;
    (void)bp_popss_next;
    trap_hook = 0;
}
