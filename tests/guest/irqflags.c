/*
 * irqflags.c — the EFLAGS image an interrupt handler finds in its frame is
 * the interrupted code's: the processor pushes EFLAGS as they are at the
 * instruction boundary where it takes the interrupt (SDM Vol. 3A 6.12.1).
 *
 * A loop crosses a jump between two flag states: CMP leaves CF and SF set
 * and ZF and OF clear; the code after the jump starts with XOR, which
 * overwrites them all. IRQ 0 (the 8254 at about 10 kHz) interrupts the
 * loop a few thousand times; whenever the handler finds the interrupted
 * EIP at the XOR, the flags in its frame must be CMP's. (A JIT may enter
 * the XOR's block without storing the flags, since XOR overwrites them:
 * a run that stops there must still hand the interrupt exact ones.)
 */
#include "lib/guest.h"

#define TICKS 3000u

extern char after_jump[];
static volatile unsigned ticks, at_after_jump;
static volatile uint32_t bad_eflags;

/* CF, ZF, SF, OF: set by CMP of a small positive ECX with 7FFFFFFFh. */
#define FLAGS_SEEN 0x8c1u
#define FLAGS_OF_CMP 0x081u

static int on_trap(struct trapframe *tf)
{
    if (tf->vector != 32)
        return 0;
    ticks++;
    if (tf->eip == (uint32_t)after_jump) {
        at_after_jump++;
        if ((tf->eflags & FLAGS_SEEN) != FLAGS_OF_CMP && !bad_eflags)
            bad_eflags = tf->eflags | 0x2; /* bit 1 is always set: never 0 */
    }
    pic_eoi(0);
    return 1;
}

void test_main(void)
{
    trap_hook = on_trap;
    idt_set_stub(32, 0x8e, 0);
    pic_remap(); /* vectors 20h-2Fh */
    pic_unmask(0);
    outb(0x43, 0x34); /* channel 0, LSB then MSB, mode 2 */
    outb(0x40, 119);  /* 1193182 / 119: ~10 kHz */
    outb(0x40, 0);
    uint32_t loops;
    /* A short inner loop of 1-8 rounds varies where in the loop the
     * interrupts come (with a loop of fixed length they can keep coming
     * at the same place). */
    __asm__ volatile("xor %%ecx, %%ecx\n\t"
                     "sti\n"
                     "1:\n\t"
                     "inc %%ecx\n\t"
                     "mov %%ecx, %%edx\n\t"
                     "and $7, %%edx\n"
                     "2:\n\t"
                     "dec %%edx\n\t"
                     "jns 2b\n\t"
                     "cmp $0x7fffffff, %%ecx\n\t"
                     "jmp after_jump\n"
                     ".globl after_jump\n"
                     "after_jump:\n\t"
                     "xor %%eax, %%eax\n\t"
                     "cmpl %1, ticks\n\t"
                     "jb 1b\n\t"
                     "cli"
                     : "=c"(loops)
                     : "i"(TICKS)
                     : "eax", "edx", "cc", "memory");
    pic_mask(0);
    printf("irqflags: %u interrupts over %u loops, %u of them at the jump's target\n", ticks,
           loops, at_after_jump);
    CHECK_EQ(bad_eflags, 0);
    puts("irqflags: each frame holds the interrupted code's flags\n");
}
