/*
 * hw/piix4_pm.c — 82371AB PIIX4 function 3, power management (see
 * piix4_pm.h for the register map and what is modelled).
 *
 * The I/O block is byte storage `io[64]` with, per byte, a mask of the
 * bits software may write and of the bits a written 1 clears (status
 * registers); the few registers with side effects (PMCNTRL's write-only
 * GBL_RLS and SUS_EN, the timer, GLBCTL's BIOS_RLS) are handled after the
 * generic byte write. Accesses of any size and alignment inside the block
 * are split into bytes, which is what the datasheet's byte-enable
 * decoding gives for these registers.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/piix4_pm.h"

/* I/O registers past the ACPI blocks (datasheet 3.5). */
#define PCNTRL 0x10 /* processor control: throttling duty/enable */
#define PLVL2 0x14  /* read: enter C2 */
#define PLVL3 0x15  /* read: enter C3 */
#define GLBSTS 0x18
#define DEVSTS 0x1c
#define GLBEN 0x20
#define GLBCTL 0x28
#define DEVCTL 0x2c
#define GPIREG 0x30
#define GPOREG 0x34

#define GLBCTL_BIOS_RLS 0x02 /* write 1: sets GBL_STS (BIOS releases the global lock) */

#define PM1_STS_W1C (PIIX4_PM1_TMR | PIIX4_PM1_BM | PIIX4_PM1_GBL | PIIX4_PM1_PWRBTN | \
                     PIIX4_PM1_RTC | PIIX4_PM1_PWRBTNOR | PIIX4_PM1_WAK)
#define PM1_EN_MASK (PIIX4_PM1_TMR | PIIX4_PM1_GBL | PIIX4_PM1_PWRBTN | PIIX4_PM1_RTC)
#define PM1_CNT_RW (PIIX4_PM1_CNT_SCI_EN | PIIX4_PM1_CNT_BRLD_EN_BM | PIIX4_PM1_CNT_SUS_TYP_MASK)
/* GPSTS/GPEN: THRM, USB, RI, GPI, LID and the bus-master/GPI wake bits
 * the datasheet defines in bits 0 and 7..11. */
#define GPE0_BITS 0x0f81

/* One register of the block: its writable bits and write-1-to-clear bits. */
struct pm_reg {
    uint8_t off, width;
    uint32_t wmask, w1c;
};

static const struct pm_reg pm_regs[] = {
    { PIIX4_PM1_STS, 2, 0, PM1_STS_W1C },
    { PIIX4_PM1_EN, 2, PM1_EN_MASK, 0 },
    { PIIX4_PM1_CNT, 2, PM1_CNT_RW, 0 },
    { PIIX4_PM_TMR, 4, 0, 0 },             /* read-only, computed */
    { PIIX4_GPE0_STS, 2, 0, GPE0_BITS },
    { PIIX4_GPE0_EN, 2, GPE0_BITS, 0 },
    { PCNTRL, 4, 0x0000021f, 0 },          /* THT_DTY 3:1, THT_EN 4, CC_EN 9 */
    { PLVL2, 1, 0, 0 },
    { PLVL3, 1, 0, 0 },
    { GLBSTS, 2, 0, 0x0d25 },
    { DEVSTS, 4, 0, 0x3fff0fff },
    { GLBEN, 2, 0x8d1f, 0 },
    { GLBCTL, 4, 0x0701ff07, 0 },
    { DEVCTL, 4, 0x3fffffff, 0 },
    { GPIREG, 4, 0, 0 },                   /* input pins: none driven */
    { GPOREG, 4, 0xffffffff, 0 },
};

struct piix4_pm {
    struct pci_device pci;
    struct io_space *io;
    struct vclock *clock;
    const struct irq_line *sci;
    void (*power_off)(void *opaque);
    void *opaque;
    struct vtimer *tmr_timer; /* next bit-23 toggle while TMROF_EN is set */

    uint8_t regs[PIIX4_PM_IO_SIZE];
    uint64_t tmr_epoch; /* timer value >> 23 when TMROF_STS was last brought up to date */
    uint16_t io_base;   /* decoded now, 0 = none (derived: not in the state table) */
    uint8_t apmc, apms;
    bool sci_level;

    /* Constant masks built from pm_regs (not state). */
    uint8_t wmask[PIIX4_PM_IO_SIZE];
    uint8_t w1c[PIIX4_PM_IO_SIZE];
};

static uint32_t reg_get(const struct piix4_pm *pm, unsigned off, unsigned width)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)pm->regs[off + i] << (8 * i);
    return v;
}

/* ---- the ACPI timer ---- */

/* Timer ticks since the machine was built: ns * 3.579545 MHz, split so
 * that the product never overflows 64 bits. */
static uint64_t tmr_ticks(const struct piix4_pm *pm)
{
    uint64_t ns = vclock_ns(pm->clock);
    return ns / NS_PER_SEC * PIIX4_PM_TMR_HZ + ns % NS_PER_SEC * PIIX4_PM_TMR_HZ / NS_PER_SEC;
}

/* First virtual time at which the tick count reaches `t`. */
static uint64_t tmr_ticks_to_ns(uint64_t t)
{
    uint64_t s = t / PIIX4_PM_TMR_HZ, r = t % PIIX4_PM_TMR_HZ;
    return s * NS_PER_SEC + (r * NS_PER_SEC + PIIX4_PM_TMR_HZ - 1) / PIIX4_PM_TMR_HZ;
}

/* TMROF_STS is set whenever bit 23 of the counter toggles (ACPI 3.0
 * 4.7.2.1): bring it up to date with the clock. */
static void tmr_sync(struct piix4_pm *pm)
{
    uint64_t epoch = tmr_ticks(pm) >> 23;
    if (epoch != pm->tmr_epoch) {
        pm->tmr_epoch = epoch;
        pm->regs[PIIX4_PM1_STS] |= PIIX4_PM1_TMR;
    }
}

static void update_sci(struct piix4_pm *pm)
{
    uint16_t sts = (uint16_t)reg_get(pm, PIIX4_PM1_STS, 2);
    uint16_t en = (uint16_t)reg_get(pm, PIIX4_PM1_EN, 2);
    uint16_t gsts = (uint16_t)reg_get(pm, PIIX4_GPE0_STS, 2);
    uint16_t gen = (uint16_t)reg_get(pm, PIIX4_GPE0_EN, 2);
    bool sci_en = reg_get(pm, PIIX4_PM1_CNT, 2) & PIIX4_PM1_CNT_SCI_EN;
    /* With SCI_EN clear these events would be SMIs: there is no SMM. */
    bool level = sci_en && ((sts & en & PM1_EN_MASK) || (gsts & gen & GPE0_BITS));
    if (level != pm->sci_level) {
        pm->sci_level = level;
        irq_set(pm->sci, level);
    }
}

/* While TMROF_EN is set, wake at the next bit-23 toggle to raise the SCI. */
static void tmr_rearm(struct piix4_pm *pm)
{
    if (reg_get(pm, PIIX4_PM1_EN, 2) & PIIX4_PM1_TMR)
        vtimer_arm(pm->tmr_timer, tmr_ticks_to_ns((pm->tmr_epoch + 1) << 23));
    else
        vtimer_cancel(pm->tmr_timer);
}

static void tmr_expired(void *opaque)
{
    struct piix4_pm *pm = opaque;
    tmr_sync(pm);
    update_sci(pm);
    tmr_rearm(pm);
}

/* ---- the I/O block ---- */

/* `tmr`: the timer value sampled once for the whole access, so that a
 * dword read never mixes bytes of two different counts. */
static uint8_t pm_read_byte(struct piix4_pm *pm, unsigned off, uint32_t tmr)
{
    if (off >= PIIX4_PM_TMR && off < PIIX4_PM_TMR + 4)
        return (uint8_t)(tmr >> (8 * (off - PIIX4_PM_TMR)));
    if (off == PIIX4_PM1_STS)
        tmr_sync(pm);
    return pm->regs[off];
}

static void pm_write_byte(struct piix4_pm *pm, unsigned off, uint8_t v)
{
    if (off == PIIX4_PM1_STS)
        tmr_sync(pm); /* a toggle before this write is cleared by it, not after */
    uint8_t old = pm->regs[off];
    uint8_t keep = (uint8_t)(old & ~pm->wmask[off] & ~(v & pm->w1c[off]));
    pm->regs[off] = (uint8_t)(keep | (v & pm->wmask[off]));

    /* GBL_RLS (write-only, not in wmask: reads 0) would raise an SMI for
     * the BIOS to see the global lock released: no SMM, nobody to tell. */
    if (off == PIIX4_PM1_CNT + 1 && (v & (PIIX4_PM1_CNT_SUS_EN >> 8))) {
        unsigned typ = (reg_get(pm, PIIX4_PM1_CNT, 2) & PIIX4_PM1_CNT_SUS_TYP_MASK) >>
                       PIIX4_PM1_CNT_SUS_TYP_SHIFT;
        /* Only soft off leaves the working state here: suspend to RAM
         * and power-on suspend would need a wake path (not modelled). */
        if (typ == PIIX4_SUS_TYP_SOFF && pm->power_off)
            pm->power_off(pm->opaque);
    }
    if (off == GLBCTL && (v & GLBCTL_BIOS_RLS)) {
        pm->regs[GLBCTL] &= (uint8_t)~GLBCTL_BIOS_RLS; /* write-only */
        pm->regs[PIIX4_PM1_STS] |= PIIX4_PM1_GBL;
    }
}

static uint64_t pm_io_read(void *opaque, uint64_t port, unsigned size)
{
    struct piix4_pm *pm = opaque;
    uint32_t tmr = (uint32_t)(tmr_ticks(pm) & PIIX4_PM_TMR_MASK);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t off = port - pm->io_base + i;
        uint8_t b = off < PIIX4_PM_IO_SIZE ? pm_read_byte(pm, (unsigned)off, tmr) : 0xff;
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void pm_io_write(void *opaque, uint64_t port, uint64_t val, unsigned size)
{
    struct piix4_pm *pm = opaque;
    for (unsigned i = 0; i < size; i++) {
        uint64_t off = port - pm->io_base + i;
        if (off < PIIX4_PM_IO_SIZE)
            pm_write_byte(pm, (unsigned)off, (uint8_t)(val >> (8 * i)));
    }
    update_sci(pm);
    tmr_rearm(pm);
}

static const struct mem_ops pm_io_ops = { .read = pm_io_read, .write = pm_io_write };

/* ---- APMC/APMS: the SMI command port ---- */

static uint64_t apm_read(void *opaque, uint64_t port, unsigned size)
{
    struct piix4_pm *pm = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t p = port + i;
        uint8_t b = p == PIIX4_APMC_PORT ? pm->apmc : p == PIIX4_APMS_PORT ? pm->apms : 0xff;
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void apm_write(void *opaque, uint64_t port, uint64_t val, unsigned size)
{
    struct piix4_pm *pm = opaque;
    for (unsigned i = 0; i < size; i++) {
        uint64_t p = port + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (p == PIIX4_APMS_PORT) {
            pm->apms = b;
        } else if (p == PIIX4_APMC_PORT) {
            /* What a PC BIOS's SMI handler does for the FADT's commands
             * (ACPI 3.0 4.7.2.5 "Legacy/ACPI select"): hand the events
             * to the OS (SCI) or take them back (SMI). */
            pm->apmc = b;
            if (b == PIIX4_ACPI_ENABLE)
                pm->regs[PIIX4_PM1_CNT] |= PIIX4_PM1_CNT_SCI_EN;
            else if (b == PIIX4_ACPI_DISABLE)
                pm->regs[PIIX4_PM1_CNT] &= (uint8_t)~PIIX4_PM1_CNT_SCI_EN;
        }
    }
    update_sci(pm);
}

static const struct mem_ops apm_ops = { .read = apm_read, .write = apm_write };

/* ---- configuration space ---- */

/* Decodes the block where PMBA and PMIOSE say. */
static void update_mapping(struct piix4_pm *pm)
{
    uint16_t base = 0;
    if (pm->pci.config[PIIX4_PM_PMREGMISC] & 1)
        base = (uint16_t)(pci_get_long(&pm->pci, PIIX4_PM_PMBA) & 0xffc0);
    if (base == pm->io_base)
        return;
    if (pm->io_base)
        io_unregister(pm->io, pm->io_base, PIIX4_PM_IO_SIZE);
    pm->io_base = 0;
    if (base && io_register(pm->io, base, PIIX4_PM_IO_SIZE, &pm_io_ops, pm) == 0)
        pm->io_base = base;
}

static void pm_config_write(struct pci_device *d, unsigned offset, uint32_t val, unsigned size)
{
    pci_default_config_write(d, offset, val, size);
    if ((offset < PIIX4_PM_PMBA + 4 && offset + size > PIIX4_PM_PMBA) ||
        (offset <= PIIX4_PM_PMREGMISC && offset + size > PIIX4_PM_PMREGMISC))
        update_mapping(d->opaque);
}

/* Power-on values: every PM register 0 (the PMBA and SMBBA I/O
 * indicators excepted), SCI_EN clear (legacy mode until the OS asks). */
static void pm_reset(struct pci_device *d)
{
    struct piix4_pm *pm = d->opaque;
    memset(&d->config[0x40], 0, PCI_CONFIG_SIZE - 0x40);
    pci_set_long(d, PIIX4_PM_PMBA, 1);
    pci_set_long(d, PIIX4_PM_SMBBA, 1);
    update_mapping(pm);
    memset(pm->regs, 0, sizeof(pm->regs));
    pm->tmr_epoch = tmr_ticks(pm) >> 23;
    pm->apmc = 0;
    pm->apms = 0;
    vtimer_cancel(pm->tmr_timer);
    update_sci(pm);
}

struct pci_device *piix4_pm_pci(struct piix4_pm *pm)
{
    return &pm->pci;
}

void piix4_pm_set_base(struct piix4_pm *pm, uint16_t base)
{
    pci_config_write(pm->pci.bus, pm->pci.devfn, PIIX4_PM_PMBA, base & 0xffc0u, 4);
    pci_config_write(pm->pci.bus, pm->pci.devfn, PIIX4_PM_PMREGMISC, base ? 1 : 0, 1);
}

uint16_t piix4_pm_io_base(const struct piix4_pm *pm)
{
    return pm->io_base;
}

void piix4_pm_power_button(struct piix4_pm *pm)
{
    pm->regs[PIIX4_PM1_STS + 1] |= PIIX4_PM1_PWRBTN >> 8;
    update_sci(pm);
}

void piix4_pm_post_load(struct piix4_pm *pm)
{
    /* io_base is not part of the state: it names the live mapping, which
     * update_mapping moves to where the restored header says. */
    update_mapping(pm);
    irq_set(pm->sci, pm->sci_level);
    tmr_rearm(pm);
}

struct piix4_pm *piix4_pm_new(struct pci_bus *bus, int devfn, struct io_space *io,
                              struct vclock *clock, const struct irq_line *sci,
                              void (*power_off)(void *opaque), void *opaque)
{
    if (!bus || !io || !clock || !sci)
        return NULL;
    struct piix4_pm *pm = calloc(1, sizeof(*pm));
    if (!pm)
        return NULL;
    pm->io = io;
    pm->clock = clock;
    pm->sci = sci;
    pm->power_off = power_off;
    pm->opaque = opaque;
    pm->tmr_timer = vtimer_new(clock, tmr_expired, pm);
    if (!pm->tmr_timer) {
        free(pm);
        return NULL;
    }
    for (size_t r = 0; r < sizeof(pm_regs) / sizeof(pm_regs[0]); r++)
        for (unsigned i = 0; i < pm_regs[r].width; i++) {
            pm->wmask[pm_regs[r].off + i] = (uint8_t)(pm_regs[r].wmask >> (8 * i));
            pm->w1c[pm_regs[r].off + i] = (uint8_t)(pm_regs[r].w1c >> (8 * i));
        }
    /* Revision 03h: the PIIX4E stepping QEMU and PC firmware expect. */
    static const struct pci_device_info info = {
        .vendor_id = 0x8086, .device_id = 0x7113, .revision = 0x03,
        .class_base = 0x06, .class_sub = 0x80, .class_prog = 0x00,
        .interrupt_pin = 1, /* INTA#: the SMBus interrupt (INTPN = 01h) */
    };
    if (pci_device_register(bus, &pm->pci, devfn, &info, pm) != 0) {
        vtimer_free(pm->tmr_timer);
        free(pm);
        return NULL;
    }
    if (io_register(io, PIIX4_APMC_PORT, 2, &apm_ops, pm) != 0) {
        pci_device_unregister(&pm->pci);
        vtimer_free(pm->tmr_timer);
        free(pm);
        return NULL;
    }
    uint8_t *m = pm->pci.wmask;
    m[0x40] = 0xc0; m[0x41] = 0xff;           /* PMBA 15:6 */
    for (unsigned o = 0x44; o < 0x80; o++)
        m[o] = 0xff;                          /* CNTA/B, GPICTL, DEVRESA-J, DEVACTA/B */
    m[PIIX4_PM_PMREGMISC] = 0x01;             /* PMIOSE */
    m[0x90] = 0xf0; m[0x91] = 0xff;           /* SMBBA 15:4 */
    m[0xd2] = 0x0f;                           /* SMBHSTCFG */
    m[0xd3] = 0xff; m[0xd4] = 0xff; m[0xd5] = 0xff; /* SMBSLVC, SMBSHDW1/2 */
    pm->pci.config_write = pm_config_write;
    pm->pci.reset = pm_reset;
    pci_set_word(&pm->pci, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_FAST_BACK);
    pm_reset(&pm->pci);
    return pm;
}

void piix4_pm_free(struct piix4_pm *pm)
{
    if (!pm)
        return;
    if (pm->io_base)
        io_unregister(pm->io, pm->io_base, PIIX4_PM_IO_SIZE);
    io_unregister(pm->io, PIIX4_APMC_PORT, 2);
    pci_device_unregister(&pm->pci);
    vtimer_free(pm->tmr_timer);
    free(pm);
}

static const struct dev_field piix4_pm_fields[] = {
    { "config", DEV_FIELD_BYTES, offsetof(struct piix4_pm, pci.config), PCI_CONFIG_SIZE },
    { "regs", DEV_FIELD_BYTES, offsetof(struct piix4_pm, regs), PIIX4_PM_IO_SIZE },
    { "tmr_epoch", DEV_FIELD_U64, offsetof(struct piix4_pm, tmr_epoch), 1 },
    { "apmc", DEV_FIELD_U8, offsetof(struct piix4_pm, apmc), 1 },
    { "apms", DEV_FIELD_U8, offsetof(struct piix4_pm, apms), 1 },
    { "sci_level", DEV_FIELD_BOOL, offsetof(struct piix4_pm, sci_level), 1 },
    { "tmr_timer", DEV_FIELD_TIMER, offsetof(struct piix4_pm, tmr_timer), 1 },
    { NULL, 0, 0, 0 },
};

const struct dev_state_desc piix4_pm_state_desc = { "piix4_pm", 1, piix4_pm_fields };
