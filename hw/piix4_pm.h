/*
 * hw/piix4_pm.h — the power management function of the 82371AB PIIX4,
 * PCI function 00:01.3 (8086:7113, class 06/80/00), as PC boards with the
 * i440FX carry it beside a PIIX3 ISA bridge: the ACPI fixed hardware the
 * FADT of hw/acpi.c describes.
 *
 * What it does (82371AB datasheet, sections 3.4 "Power management
 * configuration registers" and 3.5 "Power management I/O space"; ACPI 3.0
 * section 4.7 "ACPI hardware features"):
 *  - PMBA (config 0x40, bits 15:6) places a 64-byte I/O block, decoded
 *    while PMREGMISC (config 0x80) bit 0 PMIOSE is set:
 *      +00h PMSTS/PM1a_STS  TMROF, BM, GBL, PWRBTN, RTC, PWRBTNOR, WAK (W1C)
 *      +02h PMEN/PM1a_EN    TMROF_EN, GBL_EN, PWRBTN_EN, RTC_EN
 *      +04h PMCNTRL/PM1a_CNT SCI_EN, BRLD_EN_BM, GBL_RLS, SUS_TYP, SUS_EN
 *      +08h PMTMR           the 3.579545 MHz 24-bit ACPI timer
 *      +0Ch GPSTS, +0Eh GPEN the GPE0 block (4 bytes)
 *      +10h PCNTRL, +14h/15h PLVL2/3, +18h.. GLBSTS, DEVSTS, GLBEN,
 *      GLBCTL, DEVCTL, GPIREG, GPOREG (SMI plumbing: stored; no SMM here)
 *  - SUS_EN with SUS_TYP 000 (soft off, S5) calls the board's power_off;
 *    the other SUS_TYP values (STR, POS, working) change nothing here.
 *  - The SCI is a level on `sci` (ISA IRQ 9 on the PC): SCI_EN and any
 *    enabled PM1 or GPE0 status bit.
 *  - APMC/APMS, ports 0xB2/0xB3 (in the real chip they belong to function
 *    0 and raise an SMI): the BIOS's SMI handler's ACPI hand-over is done
 *    here: ACPI_ENABLE (0xF1) sets SCI_EN, ACPI_DISABLE (0xF0) clears it.
 * The SMBus host controller of this function (SMBBA at 0x90) is config
 * storage only.
 */
#ifndef GLASS_HW_PIIX4_PM_H
#define GLASS_HW_PIIX4_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/dev.h"
#include "hw/pci.h"
#include "hw/piix4_pm_regs.h"

#define PIIX4_PM_DEVFN PCI_DEVFN(1, 3)

struct piix4_pm;

/*
 * The function at `devfn` of `bus`; PM I/O in `io` (also 0xB2/0xB3, taken
 * at once), time from `clock`, the SCI on `sci` (outliving the device),
 * `power_off(opaque)` on a soft-off request (SUS_TYP 0 with SUS_EN): it
 * runs inside the guest's OUT, so it should only ask the board to stop.
 */
struct piix4_pm *piix4_pm_new(struct pci_bus *bus, int devfn, struct io_space *io,
                              struct vclock *clock, const struct irq_line *sci,
                              void (*power_off)(void *opaque), void *opaque);
void piix4_pm_free(struct piix4_pm *pm);
struct pci_device *piix4_pm_pci(struct piix4_pm *pm);

/*
 * What firmware does at POST: PMBA = `base` (64-byte aligned) and PMIOSE
 * on (base 0: PMIOSE off). The same as the config writes a BIOS makes;
 * for -kernel boots after every reset (reset clears both).
 */
void piix4_pm_set_base(struct piix4_pm *pm, uint16_t base);
/* The I/O base decoded now, or 0. */
uint16_t piix4_pm_io_base(const struct piix4_pm *pm);

/* The power button was pressed: PWRBTN_STS, and an SCI if enabled. */
void piix4_pm_power_button(struct piix4_pm *pm);

/* After a snapshot restored piix4_pm_state_desc: redo the I/O mapping
 * and the timer. */
void piix4_pm_post_load(struct piix4_pm *pm);

extern const struct dev_state_desc piix4_pm_state_desc;

#endif
