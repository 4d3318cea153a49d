/*
 * hw/acpi.h — the ACPI tables of the PC board (ACPI 3.0): what PC
 * firmware leaves in memory for the OS, built by Glass itself for
 * -kernel boots and by Glass's BIOS (which compiles hw/acpi.c) for
 * firmware boots; a -bios image builds its own.
 *
 *   RSDP (revision 0, "RSD PTR ", in the BIOS area E0000h-FFFFFh or the
 *         first KiB of the EBDA, where
 *         the OS scans for it on 16-byte boundaries, ACPI 3.0 5.2.5.1)
 *   RSDT -> FADT (revision 3: the PIIX4 PM blocks, SCI, SMI_CMD, reset
 *                 register 0xCF9 <- 6, FACS and DSDT)
 *   FACS (64-byte aligned)
 *   DSDT: AML assembled here: \_S0, \_S5 (the PIIX4's SUS_TYP values),
 *         \_PIC, \_SB.PCI0 (_HID PNP0A03 and no _ADR: a device has one or
 *         the other, ACPI 3.0 6.1; _BBN 0, _UID 0, _CRS bus
 *         and I/O/memory windows, _PRT for the PIRQ routing when given),
 *         and under it the ISA bridge (_ADR 00010000h) with the legacy
 *         devices Linux's PnP layer and drivers look for: RTC PNP0B00,
 *         keyboard PNP0303, mouse PNP0F13, COM1/COM2 PNP0501.
 * No MADT (no local APIC/IO-APIC: the OS uses the 8259 pair), no HPET.
 *
 * Default layout (acpi_config_pc): the tables in E0000h-EFFFFh (give the
 * OS that range as E820 type 3, "ACPI reclaimable"), the RSDP at F0000h
 * (E820 reserved, F0000h-FFFFFh). Both lie in the PAM-controlled range:
 * the board must have opened it as RAM (it does for -kernel boots).
 */
#ifndef GLASS_HW_ACPI_H
#define GLASS_HW_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_TABLES_ADDR 0xe0000u
#define ACPI_TABLES_SIZE 0x10000u
#define ACPI_RSDP_ADDR 0xf0000u
#define ACPI_RSDP_SIZE 20u /* revision 0 */

/* E820 type of the table area (ACPI 3.0 14.1, AddressRangeACPI). */
#define ACPI_E820_TYPE 3

/* What the tables describe. */
struct acpi_config {
    uint64_t ram_size;     /* RAM from 0: PCI memory starts above it */
    uint32_t rsdp_addr;    /* 16-byte aligned, in E0000h-FFFFFh or the EBDA's first KiB */
    uint32_t tables_addr;  /* 64-byte aligned */
    uint32_t tables_size;  /* room for FACS, DSDT, FADT, RSDT */
    uint16_t pm_base;      /* PM1a_EVT = base, PM1a_CNT = +4, PM_TMR = +8, GPE0 = +0Ch */
    uint8_t sci_irq;
    uint16_t smi_cmd;      /* 0: no SMI_CMD (then SCI_EN must already be set) */
    uint8_t acpi_enable, acpi_disable;
    uint16_t reset_port;   /* 0: no reset register */
    uint8_t reset_value;
    /* _PRT: with pirq_links, through link devices \_SB.LNKA-LNKD
     * (PNP0C0F) that read and steer the PIIX3's PIRQRC registers (the OS
     * picks IRQ 5, 10 or 11 with _SRS); else, if any pirq_irq[] is set,
     * straight to those ISA IRQs (the board must have steered PIRQA#..D#
     * so, and keep them); else no _PRT. */
    bool pirq_links;
    uint8_t pirq_irq[4];
    bool isa_devices;      /* describe RTC, 8042 (kbd+mouse), COM1, COM2 */
};

/* Where acpi_build put what (physical addresses; end exclusive). */
struct acpi_layout {
    uint32_t rsdp, rsdt, fadt, facs, dsdt;
    uint32_t tables_start, tables_end;
    uint32_t dsdt_len;
};

/*
 * The PC board's values: layout as above, PIIX4 PM at `pm_base`, SCI on
 * IRQ 9, SMI_CMD 0xB2 with 0xF1/0xF0, reset 0xCF9 <- 6, _PRT through
 * the link devices (the OS steers the PIRQs), ISA devices described.
 */
void acpi_config_pc(struct acpi_config *c, uint64_t ram_size, uint16_t pm_base);

/*
 * Writes the tables for `cfg` into `tables` (cfg->tables_size bytes that
 * the OS will find at cfg->tables_addr) and the RSDP into `rsdp`
 * (ACPI_RSDP_SIZE bytes at cfg->rsdp_addr). Returns 0, or -1 if the
 * addresses are misaligned or overlap or the tables do not fit (then
 * `tables` is left zeroed). Freestanding: the BIOS calls it too.
 */
int acpi_write(const struct acpi_config *cfg, uint8_t *tables, uint8_t *rsdp,
               struct acpi_layout *out);

/*
 * Writes the tables into `ram` (`ram_size` bytes from physical 0).
 * Returns 0, or -1 if a region lies outside RAM, overlaps, or the tables
 * do not fit (nothing useful is written then).
 */
int acpi_build(uint8_t *ram, uint64_t ram_size, const struct acpi_config *cfg,
               struct acpi_layout *out);

/* The sum of `len` bytes mod 256 (0 for a valid table). */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

#endif
