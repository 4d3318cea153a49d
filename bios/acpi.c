/* bios/acpi.c — minimal ACPI tables (ACPI 3.0 §5.2) for the PIIX4 power
 * management function (8086:7113) when the board has one: RSDP (in the
 * first KiB of the EBDA, §5.2.5.1), RSDT, a revision 1 FADT, FACS and a
 * DSDT that only names \_S5 (PIIX4 SUS_TYP 0 = soft off), so an OS can
 * power the machine off. The tables sit in the last 64 KiB of RAM below
 * 4 GiB, given to the OS as E820 type 3 (ACPI reclaimable). No MADT: the
 * OS runs the 8259 pair; no _PRT: PCI IRQs come from the $PIR table. */
#include "bios.h"

uint32_t acpi_tables_base, acpi_tables_size;

#define PM_BASE  0xb000         /* PIIX4 PMBA: PM1a_EVT +0, CNT +4, TMR +8, GPE0 +0Ch */
#define SCI_IRQ  9              /* PIIX4 SCI on IRQ 9 (PIIX4 datasheet §3.4.2) */

static uint8_t checksum(const void *p, uint32_t n)
{
    const uint8_t *b = p;
    uint8_t s = 0;
    while (n--) s = (uint8_t)(s + *b++);
    return (uint8_t)-s;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    memcpy(t + 4, &len, 4);
    t[8] = rev;
    memcpy(t + 10, "GLASS ", 6);
    memcpy(t + 16, "GLASSBIO", 8);
    uint32_t one = 1;
    memcpy(t + 24, &one, 4);
    memcpy(t + 28, "GLAS", 4);
    memcpy(t + 32, &one, 4);
    t[9] = 0;
    t[9] = checksum(t, len);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

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
    pci_cfg_write32(0, (uint8_t)pm, 0x40, PM_BASE | 1);
    pci_cfg_write8(0, (uint8_t)pm, 0x80, pci_cfg_read8(0, (uint8_t)pm, 0x80) | 1);
    pci_cfg_write8(0, (uint8_t)pm, 0x3c, SCI_IRQ);
    /* The SCI is a level-triggered, shareable ISA interrupt: ELCR bit. */
    outb(0x4d1, inb(0x4d1) | (1 << (SCI_IRQ - 8)));

    acpi_tables_size = 0x10000;
    acpi_tables_base = ram_below_4g - acpi_tables_size;
    uint8_t *base = ptr(acpi_tables_base);
    memset(base, 0, 0x1000);
    uint8_t *facs = base;                       /* 64-byte aligned */
    uint8_t *dsdt = base + 0x40;
    uint8_t *fadt = base + 0x100;
    uint8_t *rsdt = base + 0x200;

    memcpy(facs, "FACS", 4);
    put32(facs + 4, 64);

    static const uint8_t aml[] = {
        0x08, '\\', '_', 'S', '5', '_',         /* Name (\_S5, */
        0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 /* Package (4) { 0, 0, 0, 0 }) */
    };
    uint32_t dsdt_len = 36 + sizeof aml;
    memcpy(dsdt + 36, aml, sizeof aml);
    header(dsdt, "DSDT", dsdt_len, 1);

    put32(fadt + 36, (uint32_t)(uintptr_t)facs);
    put32(fadt + 40, (uint32_t)(uintptr_t)dsdt);
    put16(fadt + 46, SCI_IRQ);
    put32(fadt + 48, 0xb2);                     /* SMI_CMD (APM control port) */
    fadt[52] = 0xf1;                            /* ACPI_ENABLE */
    fadt[53] = 0xf0;                            /* ACPI_DISABLE */
    put32(fadt + 56, PM_BASE);                  /* PM1a_EVT_BLK */
    put32(fadt + 64, PM_BASE + 4);              /* PM1a_CNT_BLK */
    put32(fadt + 76, PM_BASE + 8);              /* PM_TMR_BLK */
    put32(fadt + 80, PM_BASE + 0x0c);           /* GPE0_BLK */
    fadt[88] = 4;                               /* PM1_EVT_LEN */
    fadt[89] = 2;                               /* PM1_CNT_LEN */
    fadt[91] = 4;                               /* PM_TMR_LEN */
    fadt[92] = 4;                               /* GPE0_BLK_LEN */
    put16(fadt + 96, 0x0fff);                   /* no C2 */
    put16(fadt + 98, 0x0fff);                   /* no C3 */
    fadt[108] = 0x32;                           /* RTC century register */
    /* WBINVD, C1 supported, power/sleep buttons not fixed features. */
    put32(fadt + 112, 0x00000035);
    header(fadt, "FACP", 116, 1);

    put32(rsdt + 36, (uint32_t)(uintptr_t)fadt);
    header(rsdt, "RSDT", 40, 1);

    uint8_t *rsdp = ptr(lin(EBDA_SEG, 0x100));
    memset(rsdp, 0, 20);
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "GLASS ", 6);
    rsdp[15] = 0;                               /* revision 0: ACPI 1.0 RSDP */
    put32(rsdp + 16, (uint32_t)(uintptr_t)rsdt);
    rsdp[8] = checksum(rsdp, 20);
    printf("ACPI tables at %x (PM base %x, SCI %u)\n", (unsigned)acpi_tables_base, PM_BASE, SCI_IRQ);
}
