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

#define PIIX4_PM_DEVFN PCI_DEVFN(1, 3)

/* Configuration registers. */
#define PIIX4_PM_PMBA 0x40      /* 32 bits: bits 15:6 base, bit 0 = 1 (I/O) */
#define PIIX4_PM_PMREGMISC 0x80 /* bit 0 PMIOSE: PM I/O space enable */
#define PIIX4_PM_SMBBA 0x90     /* 32 bits: bits 15:4 base, bit 0 = 1 */

/* The I/O block (offsets from PMBA). */
#define PIIX4_PM_IO_SIZE 64
#define PIIX4_PM1_STS 0x00
#define PIIX4_PM1_EN 0x02
#define PIIX4_PM1_CNT 0x04
#define PIIX4_PM_TMR 0x08
#define PIIX4_GPE0_STS 0x0c
#define PIIX4_GPE0_EN 0x0e
#define PIIX4_GPE0_LEN 4

/* PM1 status/enable bits (status and enable share positions). */
#define PIIX4_PM1_TMR 0x0001
#define PIIX4_PM1_BM 0x0010
#define PIIX4_PM1_GBL 0x0020
#define PIIX4_PM1_PWRBTN 0x0100
#define PIIX4_PM1_RTC 0x0400
#define PIIX4_PM1_PWRBTNOR 0x0800
#define PIIX4_PM1_WAK 0x8000

/* PM1 control. */
#define PIIX4_PM1_CNT_SCI_EN 0x0001
#define PIIX4_PM1_CNT_BRLD_EN_BM 0x0002
#define PIIX4_PM1_CNT_GBL_RLS 0x0004
#define PIIX4_PM1_CNT_SUS_TYP_SHIFT 10
#define PIIX4_PM1_CNT_SUS_TYP_MASK 0x1c00
#define PIIX4_PM1_CNT_SUS_EN 0x2000

/* SUS_TYP values (datasheet, PMCNTRL): what \_Sx packages must hold. */
#define PIIX4_SUS_TYP_SOFF 0    /* soft off / suspend to disk: S4, S5 */
#define PIIX4_SUS_TYP_STR 1     /* suspend to RAM: S3 */
#define PIIX4_SUS_TYP_POSCL 2   /* power-on suspend, context lost */
#define PIIX4_SUS_TYP_POS 3     /* power-on suspend, context kept: S1 */
#define PIIX4_SUS_TYP_WORKING 5 /* working: S0 */

/* The ACPI timer: 3.579545 MHz (the NTSC colour burst), 24 bits. */
#define PIIX4_PM_TMR_HZ 3579545ull
#define PIIX4_PM_TMR_MASK 0xffffffu

/* APM control port (SMI_CMD of the FADT) and the values the FADT names. */
#define PIIX4_APMC_PORT 0xb2
#define PIIX4_APMS_PORT 0xb3
#define PIIX4_ACPI_ENABLE 0xf1
#define PIIX4_ACPI_DISABLE 0xf0

/* Where PC firmware (and the board, for -kernel boots) puts PMBA, and
 * the SCI's ISA IRQ. */
#define PIIX4_PM_BASE_DEFAULT 0x600
#define PIIX4_PM_SCI_IRQ 9

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
