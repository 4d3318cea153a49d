/*
 * chipset.c — the PC chipset from inside a guest: the 8259A pair and the
 * 8254 deliver timer interrupts (IRQ 0 through a remapped PIC, EOI,
 * masking), the 16550A answers in loopback, the PCI configuration
 * mechanism #1 finds the i440FX, the PIIX3 and its IDE function; a
 * pending interrupt is taken right after the instruction that follows STI;
 * the i440FX's SMRAM register opens the DRAM under the VGA window.
 */
#include "lib/guest.h"

static volatile unsigned ticks;

static int on_trap(struct trapframe *tf)
{
    if (tf->vector != 32)
        return 0;
    ticks++;
    outb(0x20, 0x20); /* non-specific EOI */
    return 1;
}

/* IRQ 0 counted and left in service (no EOI): no second one can be taken
 * until the test sends the EOI itself, however long the host takes. */
static int on_trap_in_service(struct trapframe *tf)
{
    if (tf->vector != 32)
        return 0;
    ticks++;
    return 1;
}

static void pic_init(void)
{
    outb(0x20, 0x11); outb(0xa0, 0x11); /* ICW1: edge, cascade, ICW4 */
    outb(0x21, 0x20); outb(0xa1, 0x28); /* ICW2: vectors 20h, 28h */
    outb(0x21, 0x04); outb(0xa1, 0x02); /* ICW3: slave on IR2 */
    outb(0x21, 0x01); outb(0xa1, 0x01); /* ICW4: 8086 mode */
    outb(0x21, 0xfe); outb(0xa1, 0xff); /* only IRQ 0 */
}

static void test_timer(void)
{
    trap_hook = on_trap;
    idt_set_stub(32, 0x8e, 0);
    pic_init();
    CHECK_EQ(inb(0x21), 0xfe); /* OCW1 reads back */
    outb(0x43, 0x34);          /* channel 0, LSB then MSB, mode 2 */
    outb(0x40, 1193 & 0xff);   /* ~1 kHz */
    outb(0x40, 1193 >> 8);
    __asm__ volatile("sti");
    while (ticks < 20)
        __asm__ volatile("hlt");
    __asm__ volatile("cli");
    /* Masked: no more interrupts are taken. */
    outb(0x21, 0xff);
    unsigned seen = ticks;
    __asm__ volatile("sti");
    for (volatile int i = 0; i < 200000; i++)
        ;
    __asm__ volatile("cli");
    CHECK(ticks <= seen + 1);
    /* Counter latch: the count goes down between two reads. */
    outb(0x43, 0x00);
    unsigned a = inb(0x40);
    a |= inb(0x40) << 8;
    CHECK(a <= 1193);
    printf("timer: %u ticks\n", ticks);
}

static void test_uart(void)
{
    const uint16_t com1 = 0x3f8;
    outb(com1 + 7, 0x5a);
    CHECK_EQ(inb(com1 + 7), 0x5a);          /* scratch */
    outb(com1 + 3, 0x80);                    /* DLAB */
    outb(com1 + 0, 1);                       /* 115200 baud */
    outb(com1 + 1, 0);
    outb(com1 + 3, 0x03);                    /* 8N1 */
    outb(com1 + 2, 0x07);                    /* FIFO on, cleared */
    CHECK_EQ(inb(com1 + 2) & 0xc0, 0xc0);    /* 16550A FIFO present */
    outb(com1 + 4, 0x10);                    /* loopback */
    outb(com1 + 0, 'G');
    unsigned spins = 0;
    while (!(inb(com1 + 5) & 0x01) && spins < 1000000)
        spins++;
    CHECK(inb(com1 + 5) & 0x01);             /* data ready */
    CHECK_EQ(inb(com1 + 0), 'G');
    CHECK_EQ(inb(com1 + 5) & 0x01, 0);
    outb(com1 + 4, 0x00);
    puts("uart: loopback ok\n");
}

static uint32_t pci_read(unsigned dev, unsigned fn, unsigned reg)
{
    outl(0xcf8, 0x80000000u | (dev << 11) | (fn << 8) | reg);
    return inl(0xcfc);
}

static void test_pci(void)
{
    CHECK_EQ(pci_read(0, 0, 0), 0x12378086);  /* i440FX */
    CHECK_EQ(pci_read(1, 0, 0), 0x70008086);  /* PIIX3 ISA */
    CHECK_EQ(pci_read(1, 1, 0), 0x70108086);  /* PIIX3 IDE */
    CHECK_EQ(pci_read(1, 1, 8) >> 8, 0x010180);  /* IDE, bus-master capable */
    CHECK_EQ(pci_read(9, 0, 0), 0xffffffffu); /* nothing in slot 9 */
    puts("pci: ok\n");
}

/* Whether IRQ 0 waits in the master PIC's IRR (OCW3: read IRR). */
static int irq0_requested(void)
{
    outb(0x20, 0x0a);
    return inb(0x20) & 1;
}

static void wait_irq0_requested(void)
{
    for (unsigned n = 0; !irq0_requested() && n < 10000000; n++)
        ;
    CHECK(irq0_requested());
}

/*
 * The interrupt window after STI (SDM Vol. 2B STI, Vol. 3A 6.8.3): a
 * pending interrupt is recognised after the instruction that follows
 * STI, not before. With IRQ 0 waiting and IF = 0:
 *   sti ; cli         takes nothing (CLI runs inside the shadow)
 *   sti ; nop ; cli   takes it exactly once, between NOP and CLI.
 * An executor that checks for interrupts only between blocks of
 * instructions never sees the second window.
 */
static void test_irq_window(void)
{
    /* The EOI after CLI: with it in the handler, a next IRQ 0 requested
     * while the handler ran (the 1 ms period passing on a loaded host)
     * would be taken before CLI too. */
    trap_hook = on_trap_in_service;
    idt_set_stub(32, 0x8e, 0);
    pic_init();
    outb(0x43, 0x34);
    outb(0x40, 1193 & 0xff);
    outb(0x40, 1193 >> 8);
    for (int round = 0; round < 3; round++) {
        wait_irq0_requested();
        unsigned seen = ticks;
        __asm__ volatile("sti\n\tcli" ::: "memory");
        CHECK_EQ(ticks, seen);
        CHECK(irq0_requested());
        __asm__ volatile("sti\n\tnop\n\tcli" ::: "memory");
        CHECK_EQ(ticks, seen + 1);
        outb(0x20, 0x20); /* non-specific EOI */
    }
    outb(0x21, 0xff);
    puts("irq window: taken after the instruction that follows STI\n");
}

/*
 * SMRAM (82441FX register 72h): with G_SMRAME and D_OPEN set, the CPU's
 * accesses to A0000-BFFFF reach the DRAM there instead of the VGA; with
 * D_OPEN clear the VGA's text buffer (B8000) shows again, unchanged by
 * what went to DRAM.
 */
static void test_smram(void)
{
    volatile uint8_t *text = (volatile uint8_t *)0xb8000;
    volatile uint32_t *smram = (volatile uint32_t *)0xa0000;
    uint8_t smram_reg = pci_read8(0, 0, 0x72);
#ifdef QEMU_VALIDATE
    /* QEMU's firmware may lock SMRAM before it loads the kernel. */
    if (smram_reg & 0x10) {
        puts("smram: locked by the firmware, skipped\n");
        return;
    }
#endif
    CHECK_EQ(smram_reg & 0x17, 0x02); /* C_BASE_SEG 010, not locked */
    text[0] = 'G';
    CHECK_EQ(text[0], 'G');
    pci_write8(0, 0, 0x72, 0x4a); /* D_OPEN | G_SMRAME */
    smram[0] = 0x12345678;
    smram[0x7fff] = 0x9abcdef0; /* BFFFC */
    text[0] = 'D';
    CHECK_EQ(smram[0], 0x12345678);
    CHECK_EQ(smram[0x7fff], 0x9abcdef0);
    CHECK_EQ(text[0], 'D');
    pci_write8(0, 0, 0x72, 0x0a); /* closed: the VGA again */
    CHECK_EQ(text[0], 'G');
    CHECK(smram[0] != 0x12345678);
    pci_write8(0, 0, 0x72, 0x4a); /* what DRAM holds stayed there */
    CHECK_EQ(text[0], 'D');
    CHECK_EQ(smram[0x7fff], 0x9abcdef0);
    pci_write8(0, 0, 0x72, smram_reg);
    CHECK_EQ(text[0], 'G');
    puts("smram: D_OPEN shows the DRAM under the VGA window\n");
}

void test_main(void)
{
    test_smram();
    test_pci();
    test_uart();
    test_timer();
    test_irq_window();
}
