/*
 * hw/piix3.h — the PIIX3 PCI-to-ISA bridge (Intel 82371SB, function 0 of
 * device 1: 8086:7000, class 0601, multi-function so that IDE (01.1) and
 * others may sit beside it).
 *
 * What it does here:
 *  - PIRQ Route Control 0x60-0x63 (PIIX3 datasheet 2.2.9): PIRQA#..D#,
 *    bit 7 = routing disabled, bits 3:0 = ISA IRQ (3-7, 9-12, 14, 15 valid;
 *    others leave the PIRQ unrouted). Reset value 0x80.
 *  - The PCI interrupt router: INTx pin P (0 = INTA#) of device D drives
 *    PIRQ[(D + P - 1) & 3] (the i440FX board swizzle, as SeaBIOS and the
 *    $PIR/ACPI tables of PC firmware assume: 01.x INTA# -> PIRQA#). Each
 *    PIRQ is the OR of every device level on it, and each routed ISA IRQ
 *    the OR of the PIRQs routed to it; the result is driven as a level on
 *    isa_irq[n]. (The PIC's ELCR must mark those IRQs level-triggered.)
 *  - Reset Control Register, port 0xCF9 (datasheet 2.2.12 / 4.1.x):
 *    bit 1 = hard reset select, bit 2 = reset CPU (0->1 transition starts
 *    the reset). The board's callback gets hard = bit 1.
 */
#ifndef GLASS_HW_PIIX3_H
#define GLASS_HW_PIIX3_H

#include <stdbool.h>

#include "hw/dev.h"
#include "hw/pci.h"

#define PIIX3_DEVFN PCI_DEVFN(1, 0)
#define PIIX3_PIRQRC 0x60 /* 0x60..0x63 */
#define PIIX3_RCR_PORT 0xcf9

struct piix3;
/*
 * `isa_irq` points to 16 lines (the PIC's IRQ 0..15 inputs), owned by the
 * board and outliving the bridge. `reset(opaque, hard)` is called when
 * the guest writes the reset bit to 0xCF9. Installs itself as the bus's
 * interrupt router and 0xCF9 handler.
 */
struct piix3 *piix3_new(struct pci_bus *bus, int devfn, const struct irq_line *isa_irq,
                        void (*reset)(void *opaque, bool hard), void *opaque);
void piix3_free(struct piix3 *p);
struct pci_device *piix3_pci(struct piix3 *p);
extern const struct dev_state_desc piix3_state_desc;

#endif
