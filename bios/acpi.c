/* bios/acpi.c — the ACPI tables (ACPI 3.0 §5.2) of a firmware boot, when
 * the board has the PIIX4 power management function (8086:7113). The
 * tables are those of a -kernel boot (hw/acpi.c, compiled into the BIOS
 * too): FADT for the PIIX4 PM blocks, \_S0/\_S5, \_SB.PCI0 with its
 * windows, the _PRT through the PIRQ link devices LNKA-D, and the ISA
 * devices. Here they sit in the last 64 KiB of RAM below 4 GiB, given to
 * the OS as E820 type 3 (ACPI reclaimable), and the RSDP in the first KiB
 * of the EBDA (§5.2.5.1). No MADT: the OS runs the 8259 pair. */
#include "bios.h"
#include "hw/acpi.h"
#include "hw/piix4_pm_regs.h"

uint32_t acpi_tables_base, acpi_tables_size;

#define PM_BASE PIIX4_PM_BASE_DEFAULT
#define SCI_IRQ PIIX4_PM_SCI_IRQ   /* the board wires the SCI to ISA IRQ 9 */

void acpi_init(void)
{
    /* Find and enable the PIIX4 PM I/O space (PMBA 40h, PMIOSE 80h bit 0). */
    int pm = -1;
    for (int df = 0; df < 256; df++)
        if (pci_cfg_read16(0, (uint8_t)df, 0) == 0x8086 && pci_cfg_read16(0, (uint8_t)df, 2) == 0x7113) {
            pm = df;
            break;
        }
    if (pm < 0 || ram_below_4g < 0x1000000) return;
    pci_cfg_write32(0, (uint8_t)pm, PIIX4_PM_PMBA, PM_BASE | 1);
    pci_cfg_write8(0, (uint8_t)pm, PIIX4_PM_PMREGMISC, pci_cfg_read8(0, (uint8_t)pm, PIIX4_PM_PMREGMISC) | 1);
    pci_cfg_write8(0, (uint8_t)pm, 0x3c, SCI_IRQ);
    /* The SCI is a level-triggered, shareable ISA interrupt: ELCR bit. */
    outb(0x4d1, inb(0x4d1) | (1 << (SCI_IRQ - 8)));

    struct acpi_config cfg;
    acpi_config_pc(&cfg, ram_below_4g, PM_BASE);
    cfg.tables_size = 0x10000;
    cfg.tables_addr = ram_below_4g - cfg.tables_size;
    cfg.rsdp_addr = lin(EBDA_SEG, 0x100);
    struct acpi_layout layout;
    if (acpi_write(&cfg, ptr(cfg.tables_addr), ptr(cfg.rsdp_addr), &layout) != 0) {
        printf("ACPI tables: do not fit\n");
        return;
    }
    acpi_tables_base = cfg.tables_addr;
    acpi_tables_size = cfg.tables_size;
    printf("ACPI tables at %x (PM base %x, SCI %u)\n", (unsigned)acpi_tables_base, PM_BASE, SCI_IRQ);
}
