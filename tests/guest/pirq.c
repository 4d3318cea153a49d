/*
 * pirq.c — PCI interrupt routing as firmware sets it up: the PIIX3's PIRQ
 * Route Control registers (config 60h-63h of 00:01.0, 82371SB 2.2.9) and
 * the edge/level control registers ELCR1/ELCR2 (4D0h/4D1h).
 *
 * No function on this board can raise an INTx: the i440FX, the PIIX3, its
 * IDE function (compatibility mode, ISA IRQ 14/15) and the VGA all have
 * Interrupt Pin 0, which this test checks. So an INTx delivered through a
 * PIRQ cannot be tested; what can be is the routing registers, that a
 * routed PIRQ with nothing on it stays quiet, and what the ELCR does to an
 * IRQ, with COM1's IRQ 4 as the level source (the 16550A holds its
 * interrupt output while THR-empty is pending, OUT2 gating it on a PC).
 */
#include "lib/guest.h"

#define ISA_DEV 1
#define COM1 0x3f8
#define ELCR1 0x4d0
#define ELCR2 0x4d1

static void test_pins(void)
{
    static const struct { unsigned dev, fn; } fns[] = { { 0, 0 }, { 1, 0 }, { 1, 1 }, { 2, 0 } };
    for (unsigned i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        CHECK(pci_read32(fns[i].dev, fns[i].fn, 0) != 0xffffffffu);
        CHECK_EQ(pci_read8(fns[i].dev, fns[i].fn, 0x3d), 0); /* Interrupt Pin: none */
    }
    puts("pirq: no function has an INTx pin: delivery through a PIRQ not testable\n");
}

static uint8_t slave_irr(void)
{
    outb(0xa0, 0x0a); /* OCW3: read IRR */
    return inb(0xa0);
}

static void test_route_registers(void)
{
#ifndef QEMU_VALIDATE
    /* A -kernel boot finds what PC firmware leaves: Glass's board routes
     * PIRQA#-D# to IRQ 10, 10, 11, 11 (as its BIOS and its ACPI _PRT
     * expect; QEMU's SeaBIOS routes them too, to other IRQs). */
    static const uint8_t routed[4] = { 10, 10, 11, 11 };
    for (unsigned r = 0; r < 4; r++)
        CHECK_EQ(pci_read8(ISA_DEV, 0, 0x60 + r), routed[r]);
#endif
    uint8_t saved[4];
    for (unsigned r = 0; r < 4; r++)
        saved[r] = pci_read8(ISA_DEV, 0, 0x60 + r);
    /* PIRQA# to IRQ 11 (SeaBIOS and Linux's pirq_piix_set do the same), B
     * to 10, C and D off. */
    pci_write8(ISA_DEV, 0, 0x60, 0x0b);
    pci_write8(ISA_DEV, 0, 0x61, 0x0a);
    pci_write8(ISA_DEV, 0, 0x62, 0x80);
    pci_write8(ISA_DEV, 0, 0x63, 0x8b);
    CHECK_EQ(pci_read8(ISA_DEV, 0, 0x60), 0x0b);
    CHECK_EQ(pci_read8(ISA_DEV, 0, 0x61), 0x0a);
    CHECK_EQ(pci_read8(ISA_DEV, 0, 0x62), 0x80);
    CHECK_EQ(pci_read8(ISA_DEV, 0, 0x63), 0x8b);
    /* A 32-bit read sees all four. */
    CHECK_EQ(pci_read32(ISA_DEV, 0, 0x60), 0x8b800a0bu);

    /* IRQ 11 level-triggered, as for a PCI interrupt. */
    outb(ELCR2, 0x08);
    CHECK_EQ(inb(ELCR2), 0x08);
    /* Nothing drives PIRQA#: IRQ 11 is not requested. */
    pic_remap();
    CHECK_EQ(slave_irr() & 0x08, 0);
    for (unsigned r = 0; r < 4; r++)
        pci_write8(ISA_DEV, 0, 0x60 + r, saved[r]);
    puts("pirq: route control registers ok\n");
}

static void test_elcr_bits(void)
{
    /* IRQ 0, 1, 2, 8 and 13 are edge-only on a PC: their ELCR bits read 0
     * (82371SB 4.x ELCR1/ELCR2). */
    uint8_t e1 = inb(ELCR1), e2 = inb(ELCR2);
    outb(ELCR1, 0xff);
    outb(ELCR2, 0xff);
    CHECK_EQ(inb(ELCR1), 0xf8);
    CHECK_EQ(inb(ELCR2), 0xde);
    outb(ELCR1, e1);
    outb(ELCR2, e2);
    puts("pirq: ELCR masks ok\n");
}

static volatile unsigned irq4_count;
static volatile unsigned irq4_clear_after;

static int on_irq(struct trapframe *tf)
{
    if (tf->vector != 0x24)
        return 0;
    irq4_count++;
    /* Leave the UART's interrupt pending until the count is reached:
     * level triggering then requests again right after the EOI. */
    if (irq4_count >= irq4_clear_after)
        inb(COM1 + 2); /* IIR read: clears the THR-empty interrupt */
    pic_eoi(4);
    return 1;
}

static unsigned run_thre(unsigned clear_after)
{
    irq4_count = 0;
    irq4_clear_after = clear_after;
    inb(COM1 + 2);
    outb(COM1 + 1, 0x00);
    outb(COM1 + 4, 0x08); /* OUT2: the PC's IRQ gate */
    pic_unmask(4);
    __asm__ volatile("sti");
    outb(COM1 + 1, 0x02); /* IER: THR empty, which it is: raises at once */
    for (volatile unsigned i = 0; i < 200000; i++)
        ;
    __asm__ volatile("cli");
    pic_mask(4);
    outb(COM1 + 1, 0x00);
    outb(COM1 + 4, 0x00);
    return irq4_count;
}

static void test_level_vs_edge(void)
{
    trap_hook = on_irq;
    idt_set_stub(0x24, 0x8e, 0);
    pic_remap();
    uint8_t e1 = inb(ELCR1);
    outb(COM1 + 3, 0x03);
    /* Edge: one interrupt, though the line stays high after the EOI. */
    outb(ELCR1, (uint8_t)(e1 & ~0x10));
    unsigned edge = run_thre(1000);
    /* Level: the still-high line requests again after each EOI until the
     * handler clears the source on the 5th. */
    outb(ELCR1, (uint8_t)(e1 | 0x10));
    CHECK_EQ(inb(ELCR1) & 0x10, 0x10);
    unsigned level = run_thre(5);
    outb(ELCR1, e1);
    printf("pirq: IRQ 4 edge-triggered %u interrupt(s), level-triggered %u\n", edge, level);
    CHECK_EQ(edge, 1);
    CHECK_EQ(level, 5);
}

void test_main(void)
{
    test_pins();
    test_route_registers();
    test_elcr_bits();
    test_level_vs_edge();
}
