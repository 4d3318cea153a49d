/*
 * hw/piix4_pm_regs.h — register numbers and values of the 82371AB PIIX4
 * power management function (datasheet sections 3.4 and 3.5), without
 * anything of the emulated device: hw/acpi.c, which Glass's BIOS
 * (bios/) also compiles freestanding, describes this hardware with them.
 */
#ifndef GLASS_HW_PIIX4_PM_REGS_H
#define GLASS_HW_PIIX4_PM_REGS_H

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

#endif
