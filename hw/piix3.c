/*
 * hw/piix3.c — function 0 of the 82371SB PIIX3: the PCI-to-ISA bridge
 * (8086:7000, class 06/01/00, header type 0x80: multi-function).
 *
 * Implemented here (82371SB datasheet, section 2.2 "PCI to ISA bridge
 * configuration registers" and 4.1 "Reset Control Register"):
 *  - PIRQRC[A:D] at 0x60-0x63: steering of PCI interrupts to ISA IRQs;
 *  - the PCI interrupt router of the board (board swizzle, see piix3.h);
 *  - RC at I/O 0xCF9: system/CPU reset;
 *  - the other function-0 registers as plain storage with their reset
 *    values (IORT, XBCS, TOM, MSTAT, MBIRQ, MBDMA, PCSC, APIC base, the
 *    SMI/power management block): nothing in the emulator depends on
 *    their effects (no ISA wait states, no SMM).
 */
#include <stdlib.h>
#include <string.h>

#include "hw/piix3.h"

#define PIRQ_DISABLE 0x80
#define PIRQ_IRQ_MASK 0x0f
/* ISA IRQs a PIRQ may be steered to (datasheet 2.2.9: 0-2, 8 and 13
 * are reserved values). */
#define PIRQ_VALID_IRQS 0xdef8u

#define RCR_SRST 0x02 /* system (hard) reset when RCPU fires */
#define RCR_RCPU 0x04 /* 0->1: reset */

struct piix3 {
    struct pci_device pci;
    const struct irq_line *isa_irq; /* 16 lines, the board's */
    void (*reset_cb)(void *opaque, bool hard);
    void *reset_opaque;
    /* Which device pins assert each PIRQ: bit (devfn * 4 + pin). */
    uint32_t pirq_src[4][256 * 4 / 32];
    uint16_t isa_level; /* levels driven on isa_irq[] now */
    uint8_t rcr;        /* 0xCF9 */
};

static bool pirq_asserted(const struct piix3 *p, int k)
{
    for (unsigned i = 0; i < 256 * 4 / 32; i++)
        if (p->pirq_src[k][i])
            return true;
    return false;
}

/* Recomputes every ISA IRQ the PIRQs drive and tells the lines that
 * changed. An ISA IRQ is the OR of the PIRQs routed to it. */
static void update_isa(struct piix3 *p)
{
    uint16_t level = 0;
    for (int k = 0; k < 4; k++) {
        uint8_t r = p->pci.config[PIIX3_PIRQRC + k];
        unsigned irq = r & PIRQ_IRQ_MASK;
        if ((r & PIRQ_DISABLE) || !(PIRQ_VALID_IRQS & (1u << irq)))
            continue;
        if (pirq_asserted(p, k))
            level |= (uint16_t)(1u << irq);
    }
    uint16_t changed = level ^ p->isa_level;
    p->isa_level = level;
    for (unsigned n = 0; n < 16; n++)
        if (changed & (1u << n))
            irq_set(&p->isa_irq[n], (level >> n) & 1);
}

/* INTx pin `pin` (0 = INTA#) of device D to PIRQ[(D + pin - 1) & 3]. */
static void piix3_route(void *opaque, struct pci_device *d, int pin, int level)
{
    struct piix3 *p = opaque;
    int k = (PCI_SLOT(d->devfn) + pin - 1) & 3;
    unsigned bit = (unsigned)d->devfn * 4 + (unsigned)(pin & 3);
    if (level)
        p->pirq_src[k][bit / 32] |= 1u << (bit % 32);
    else
        p->pirq_src[k][bit / 32] &= ~(1u << (bit % 32));
    update_isa(p);
}

static void piix3_config_write(struct pci_device *d, unsigned offset, uint32_t val,
                               unsigned size)
{
    pci_default_config_write(d, offset, val, size);
    if (offset <= PIIX3_PIRQRC + 3 && offset + size > PIIX3_PIRQRC)
        update_isa(d->opaque);
}

/* ---- Reset Control Register, 0xCF9 (byte/word cycles to 0xCF8-0xCFB) ---- */

static uint64_t rcr_read(void *opaque, uint64_t port, unsigned size)
{
    struct piix3 *p = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)(port + i == PIIX3_RCR_PORT ? p->rcr : 0xff) << (8 * i);
    return v;
}

static void rcr_write(void *opaque, uint64_t port, uint64_t val, unsigned size)
{
    struct piix3 *p = opaque;
    for (unsigned i = 0; i < size; i++) {
        if (port + i != PIIX3_RCR_PORT)
            continue;
        uint8_t v = (uint8_t)(val >> (8 * i)) & (RCR_SRST | RCR_RCPU);
        bool fire = (v & RCR_RCPU) && !(p->rcr & RCR_RCPU);
        p->rcr = v;
        if (fire) {
            /* The reset itself clears the register (pci_bus_reset ->
             * piix3_reset); clear it here too in case the board defers. */
            p->rcr = v & RCR_SRST;
            if (p->reset_cb)
                p->reset_cb(p->reset_opaque, (v & RCR_SRST) != 0);
        }
    }
}

static const struct mem_ops rcr_ops = { .read = rcr_read, .write = rcr_write };

/* Power-on values (datasheet 2.2). */
static void piix3_reset(struct pci_device *d)
{
    struct piix3 *p = d->opaque;
    memset(&d->config[0x40], 0, PCI_CONFIG_SIZE - 0x40);
    d->config[0x4c] = 0x4d;                  /* IORT */
    pci_set_word(d, 0x4e, 0x0003);           /* XBCS */
    for (int k = 0; k < 4; k++)
        d->config[PIIX3_PIRQRC + k] = PIRQ_DISABLE;
    d->config[0x69] = 0x02;                  /* TOM */
    d->config[0x70] = 0x80;                  /* MBIRQ0 */
    d->config[0x71] = 0x80;                  /* MBIRQ1 */
    d->config[0x76] = 0x0c;                  /* MBDMA0 */
    d->config[0x77] = 0x0c;                  /* MBDMA1 */
    pci_set_word(d, 0x78, 0x0002);           /* PCSC */
    d->config[0xa8] = 0x0f;                  /* FTMR */
    pci_set_word(d, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    p->rcr = 0;
    update_isa(p);
}

struct pci_device *piix3_pci(struct piix3 *p)
{
    return &p->pci;
}

struct piix3 *piix3_new(struct pci_bus *bus, int devfn, const struct irq_line *isa_irq,
                        void (*reset)(void *opaque, bool hard), void *opaque)
{
    if (!bus || !isa_irq)
        return NULL;
    struct piix3 *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->isa_irq = isa_irq;
    p->reset_cb = reset;
    p->reset_opaque = opaque;
    static const struct pci_device_info info = {
        .vendor_id = 0x8086, .device_id = 0x7000, .revision = 0x00,
        .class_base = 0x06, .class_sub = 0x01, .class_prog = 0x00,
        .multifunction = true,
    };
    if (pci_device_register(bus, &p->pci, devfn, &info, p) != 0) {
        free(p);
        return NULL;
    }
    uint8_t *m = p->pci.wmask;
    m[0x4c] = 0x7f;                           /* IORT */
    m[0x4e] = 0xff; m[0x4f] = 0x03;           /* XBCS */
    for (int k = 0; k < 4; k++)
        m[PIIX3_PIRQRC + k] = PIRQ_DISABLE | PIRQ_IRQ_MASK;
    m[0x69] = 0xff;                           /* TOM */
    m[0x6a] = 0xff; m[0x6b] = 0x00;           /* MSTAT (low byte) */
    m[0x70] = 0xef; m[0x71] = 0xef;           /* MBIRQ0/1 */
    m[0x76] = 0x8f; m[0x77] = 0x8f;           /* MBDMA0/1 */
    m[0x78] = 0xff; m[0x79] = 0xff;           /* PCSC */
    m[0x80] = 0x3f;                           /* APICBASE */
    m[0xa0] = 0x1f;                           /* SMICNTL */
    m[0xa2] = 0xff; m[0xa3] = 0xff;           /* SMIEN */
    for (unsigned o = 0xa4; o < 0xa8; o++)
        m[o] = 0xff;                          /* SEE */
    m[0xa8] = 0xff;                           /* FTMR */
    m[0xaa] = 0xff; m[0xab] = 0xff;           /* SMIREQ */
    m[0xac] = 0xff; m[0xae] = 0xff;           /* CTLTMR, CTHTMR */
    p->pci.config_write = piix3_config_write;
    p->pci.reset = piix3_reset;
    pci_set_word(&p->pci, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM);
    pci_bus_set_irq_router(bus, piix3_route, p);
    pci_bus_set_cf8_io(bus, &rcr_ops, p);
    piix3_reset(&p->pci);
    return p;
}

void piix3_free(struct piix3 *p)
{
    if (!p)
        return;
    pci_bus_set_irq_router(p->pci.bus, NULL, NULL);
    pci_bus_set_cf8_io(p->pci.bus, NULL, NULL);
    pci_device_unregister(&p->pci);
    free(p);
}

static const struct dev_field piix3_fields[] = {
    { "config", DEV_FIELD_BYTES, offsetof(struct piix3, pci.config), PCI_CONFIG_SIZE },
    { "pirq_src", DEV_FIELD_U32, offsetof(struct piix3, pirq_src), 4 * 256 * 4 / 32 },
    { "isa_level", DEV_FIELD_U16, offsetof(struct piix3, isa_level), 1 },
    { "rcr", DEV_FIELD_U8, offsetof(struct piix3, rcr), 1 },
    { NULL, 0, 0, 0 },
};

const struct dev_state_desc piix3_state_desc = { "piix3", 1, piix3_fields };
