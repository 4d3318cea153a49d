/*
 * hw/piix_ide.h — the PIIX3 IDE function (PCI 8086:7010, class 0101,
 * prog-if 80h) with its bus-master DMA engine (Intel 82371SB datasheet,
 * "Bus Master IDE"). Both channels work in compatibility mode: legacy
 * ports 1F0-1F7/3F6 on ISA IRQ 14 and 170-177/376 on ISA IRQ 15.
 */
#ifndef GLASS_HW_PIIX_IDE_H
#define GLASS_HW_PIIX_IDE_H

#include "hw/dev.h"
#include "hw/ide.h"
#include "hw/pci.h"

struct piix_ide;

#define PIIX_IDE_DEVFN PCI_DEVFN(1, 1)

/*
 * Registers the function at 00:01.1 (PIIX_IDE_DEVFN) with BAR4
 * (16 bytes of bus-master registers), maps both channels' legacy ports in
 * `io`, and routes their INTRQs to `irq14` / `irq15`. `channels` (may be
 * NULL) receives the two channels, for ide_attach_disk/cdrom.
 */
struct piix_ide *piix_ide_new(struct pci_bus *bus, struct io_space *io,
                              struct phys_mem *pm, struct vclock *clk,
                              const struct irq_line *irq14, const struct irq_line *irq15,
                              struct ide_bus *channels[2]);
void piix_ide_free(struct piix_ide *p);
struct ide_bus *piix_ide_channel(struct piix_ide *p, int channel);
struct pci_device *piix_ide_pci(struct piix_ide *p);

extern const struct dev_state_desc piix_ide_state_desc;

#endif
