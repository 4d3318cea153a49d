/*
 * hw/piix_ide.c — PIIX3 IDE interface (82371SB datasheet, section 2.4 PCI
 * configuration of function 1, and "Bus Master IDE I/O registers").
 *
 * The function decodes the compatibility-mode ports of both channels and a
 * 16-byte I/O BAR (BAR4) with, per channel (primary at +0, secondary at
 * +8): Bus Master Command (+0), Status (+2) and the Descriptor Table
 * Pointer (+4). A transfer walks the Physical Region Descriptor table:
 * 8-byte entries of a 32-bit buffer address, a 16-bit byte count (0 means
 * 64 KiB) and EOT in bit 31 of the second dword.
 */
#include "hw/piix_ide.h"

#include <stdlib.h>
#include <string.h>

#define BM_CMD_START 0x01
#define BM_CMD_WRITE 0x08   /* bus master writes memory (device to memory) */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02
#define BM_ST_INTR 0x04
#define BM_ST_DMA_CAP 0x60  /* drive 0/1 DMA capable: software-owned bits */
#define PRD_EOT 0x80000000u

/* PCI configuration: IDE timing registers (IDETIM 40-41h primary, 42-43h
 * secondary; bit 15 = IDE decode enable) and slave timing SIDETIM (44h). */
#define PIIX_IDETIM_PRI 0x40
#define PIIX_IDETIM_SEC 0x42
#define PIIX_SIDETIM 0x44

struct bm_channel {
    uint8_t cmd;
    uint8_t status;
    uint32_t prd;       /* descriptor table pointer, dword aligned */
    uint32_t cur_prd;   /* next descriptor to fetch */
    uint32_t cur_addr;  /* where the current region continues */
    uint32_t cur_left;  /* bytes left in the current region */
    bool eot;           /* the current region is the table's last */
    struct piix_ide *p;
    struct ide_bus *bus;
    struct irq_line out; /* ISA IRQ 14 / 15 */
    struct irq_line in;  /* what the channel drives */
};

struct piix_ide {
    struct pci_device pci;
    struct bm_channel ch[2];
    struct phys_mem *pm;
};

/* ------------------------------------------------------------------ */
/* DMA engine, as the channel sees it                                  */
/* ------------------------------------------------------------------ */

static bool bm_started(void *opaque)
{
    struct bm_channel *c = opaque;
    return c->cmd & BM_CMD_START;
}

static uint32_t bm_rw(void *opaque, uint8_t *buf, uint32_t len, bool to_mem)
{
    struct bm_channel *c = opaque;
    struct piix_ide *p = c->p;
    if (!(c->cmd & BM_CMD_START) || !pci_bus_master_enabled(&p->pci))
        return 0;
    uint32_t done = 0;
    while (done < len) {
        if (c->cur_left == 0) {
            if (c->eot)
                break; /* table exhausted before the device finished */
            uint8_t e[8];
            phys_dma_read_buf(p->pm, c->cur_prd, e, sizeof(e));
            uint32_t addr = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 |
                            (uint32_t)e[3] << 24;
            uint32_t hi = (uint32_t)e[4] | (uint32_t)e[5] << 8 | (uint32_t)e[6] << 16 |
                          (uint32_t)e[7] << 24;
            uint32_t count = hi & 0xfffe; /* bit 0 is reserved: even counts */
            c->cur_addr = addr & ~1u;
            c->cur_left = count ? count : 0x10000;
            c->eot = hi & PRD_EOT;
            c->cur_prd += 8;
        }
        uint32_t n = len - done;
        if (n > c->cur_left)
            n = c->cur_left;
        if (to_mem)
            phys_dma_write_buf(p->pm, c->cur_addr, buf + done, n);
        else
            phys_dma_read_buf(p->pm, c->cur_addr, buf + done, n);
        c->cur_addr += n;
        c->cur_left -= n;
        done += n;
    }
    return done;
}

/* The datasheet's Interrupt/Active table: Active clears when the PRD table
 * was used up exactly; it stays set when the device moved less than the
 * table describes. */
static void bm_done(void *opaque)
{
    struct bm_channel *c = opaque;
    if (c->cur_left == 0 && c->eot)
        c->status &= (uint8_t)~BM_ST_ACTIVE;
}

static const struct ide_dma_ops bm_dma_ops = { bm_started, bm_rw, bm_done };

/* The channel's INTRQ passes through: its rising edge sets the status
 * register's Interrupt bit (cleared by writing 1). */
static void bm_irq(void *opaque, int n, int level)
{
    (void)n;
    struct bm_channel *c = opaque;
    if (level)
        c->status |= BM_ST_INTR;
    irq_set(&c->out, level);
}

/* ------------------------------------------------------------------ */
/* Bus-master registers (BAR4)                                          */
/* ------------------------------------------------------------------ */

static uint8_t bm_read_byte(struct piix_ide *p, unsigned off)
{
    struct bm_channel *c = &p->ch[(off >> 3) & 1];
    switch (off & 7) {
    case 0: return c->cmd;
    case 2: return c->status;
    case 4: case 5: case 6: case 7:
        return (uint8_t)(c->prd >> (8 * ((off & 7) - 4)));
    }
    return 0; /* reserved bytes (1 and 3) */
}

static void bm_write_byte(struct piix_ide *p, unsigned off, uint8_t v)
{
    struct bm_channel *c = &p->ch[(off >> 3) & 1];
    switch (off & 7) {
    case 0: {
        uint8_t old = c->cmd;
        c->cmd = v & (BM_CMD_START | BM_CMD_WRITE);
        if ((c->cmd & BM_CMD_START) && !(old & BM_CMD_START)) {
            /* Start: fetch from the table's beginning. */
            c->cur_prd = c->prd;
            c->cur_left = 0;
            c->eot = false;
            c->status |= BM_ST_ACTIVE;
            ide_bus_dma_kick(c->bus);
        } else if (!(c->cmd & BM_CMD_START) && (old & BM_CMD_START)) {
            /* Stop: the transfer is abandoned (or was already over). */
            c->status &= (uint8_t)~BM_ST_ACTIVE;
        }
        break;
    }
    case 2:
        c->status = (uint8_t)((c->status & ~(BM_ST_DMA_CAP | (v & (BM_ST_ERROR | BM_ST_INTR)))) |
                              (v & BM_ST_DMA_CAP));
        break;
    case 4: case 5: case 6: case 7: {
        unsigned sh = 8 * ((off & 7) - 4);
        c->prd = (c->prd & ~(0xffu << sh)) | ((uint32_t)v << sh);
        c->prd &= ~3u; /* dword aligned (bits 1:0 reserved) */
        break;
    }
    }
}

static uint64_t bm_read(void *opaque, uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)bm_read_byte(opaque, (unsigned)(addr + i) & 15) << (8 * i);
    return v;
}

static void bm_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        bm_write_byte(opaque, (unsigned)(addr + i) & 15, (uint8_t)(val >> (8 * i)));
}

static const struct mem_ops bm_ops = { .read = bm_read, .write = bm_write };

/* ------------------------------------------------------------------ */
/* Construction                                                        */
/* ------------------------------------------------------------------ */

static void set_config_defaults(struct piix_ide *p)
{
    struct pci_device *d = &p->pci;
    /* IDETIM, SIDETIM: software-programmed timings, all bits writable. */
    for (unsigned o = PIIX_IDETIM_PRI; o < PIIX_IDETIM_SEC + 2; o++)
        d->wmask[o] = 0xff;
    d->wmask[PIIX_SIDETIM] = 0xff;
    /* IDE decode enable (IDETIM bit 15) on both channels: the datasheet's
     * reset value is 0 and firmware sets it, but Linux's ata_piix refuses a
     * channel without it, and a direct kernel boot has no firmware. */
    pci_set_word(d, PIIX_IDETIM_PRI, 0x8000);
    pci_set_word(d, PIIX_IDETIM_SEC, 0x8000);
}

static void piix_ide_reset(struct pci_device *d)
{
    struct piix_ide *p = d->opaque;
    for (int i = 0; i < 2; i++) {
        struct bm_channel *c = &p->ch[i];
        c->cmd = 0;
        c->status = 0;
        c->prd = c->cur_prd = c->cur_addr = c->cur_left = 0;
        c->eot = false;
        ide_bus_reset(c->bus);
    }
    set_config_defaults(p);
}

struct piix_ide *piix_ide_new(struct pci_bus *bus, struct io_space *io,
                              struct phys_mem *pm, struct vclock *clk,
                              const struct irq_line *irq14, const struct irq_line *irq15,
                              struct ide_bus *channels[2])
{
    struct piix_ide *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->pm = pm;
    static const uint16_t cmd_base[2] = { 0x1f0, 0x170 }, ctl[2] = { 0x3f6, 0x376 };
    for (int i = 0; i < 2; i++) {
        struct bm_channel *c = &p->ch[i];
        c->p = p;
        if (i == 0 && irq14)
            c->out = *irq14;
        if (i == 1 && irq15)
            c->out = *irq15;
        irq_connect(&c->in, bm_irq, c, i);
        c->bus = ide_bus_new(clk, &c->in);
        if (!c->bus) {
            piix_ide_free(p);
            return NULL;
        }
        ide_bus_set_dma(c->bus, &bm_dma_ops, c);
        ide_bus_map_ports(c->bus, io, cmd_base[i], ctl[i]);
        if (channels)
            channels[i] = c->bus;
    }
    const struct pci_device_info info = {
        .vendor_id = 0x8086,
        .device_id = 0x7010,
        .class_base = 0x01,
        .class_sub = 0x01,
        .class_prog = 0x80, /* bus master; both channels fixed in compatibility mode */
        .revision = 0x00,
        .interrupt_pin = 0, /* compatibility mode: ISA IRQ 14/15, no INTx */
    };
    if (pci_device_register(bus, &p->pci, PIIX_IDE_DEVFN, &info, p) != 0 ||
        pci_register_bar(&p->pci, 4, PCI_BAR_IO, 16, &bm_ops, p) != 0) {
        for (int i = 0; i < 2; i++)
            ide_bus_free(p->ch[i].bus);
        free(p);
        return NULL;
    }
    p->pci.reset = piix_ide_reset;
    set_config_defaults(p);
    return p;
}

void piix_ide_free(struct piix_ide *p)
{
    if (!p)
        return;
    if (p->pci.registered)
        pci_device_unregister(&p->pci);
    for (int i = 0; i < 2; i++)
        ide_bus_free(p->ch[i].bus);
    free(p);
}

struct ide_bus *piix_ide_channel(struct piix_ide *p, int channel)
{
    return p->ch[channel & 1].bus;
}

struct pci_device *piix_ide_pci(struct piix_ide *p)
{
    return &p->pci;
}

#define F(name, type, member, count) \
    { name, type, (uint32_t)offsetof(struct piix_ide, member), count }
static const struct dev_field piix_ide_fields[] = {
    F("bm0.cmd", DEV_FIELD_U8, ch[0].cmd, 1),
    F("bm0.status", DEV_FIELD_U8, ch[0].status, 1),
    F("bm0.prd", DEV_FIELD_U32, ch[0].prd, 1),
    F("bm0.cur_prd", DEV_FIELD_U32, ch[0].cur_prd, 1),
    F("bm0.cur_addr", DEV_FIELD_U32, ch[0].cur_addr, 1),
    F("bm0.cur_left", DEV_FIELD_U32, ch[0].cur_left, 1),
    F("bm0.eot", DEV_FIELD_BOOL, ch[0].eot, 1),
    F("bm1.cmd", DEV_FIELD_U8, ch[1].cmd, 1),
    F("bm1.status", DEV_FIELD_U8, ch[1].status, 1),
    F("bm1.prd", DEV_FIELD_U32, ch[1].prd, 1),
    F("bm1.cur_prd", DEV_FIELD_U32, ch[1].cur_prd, 1),
    F("bm1.cur_addr", DEV_FIELD_U32, ch[1].cur_addr, 1),
    F("bm1.cur_left", DEV_FIELD_U32, ch[1].cur_left, 1),
    F("bm1.eot", DEV_FIELD_BOOL, ch[1].eot, 1),
    { NULL, 0, 0, 0 },
};

const struct dev_state_desc piix_ide_state_desc = { "piix-ide", 1, piix_ide_fields };
