/* bios/pci.c — PCI bus 0 enumeration through configuration mechanism #1
 * (PCI Local Bus Spec. 2.1 §3.7.4.1): BAR sizing and assignment, command
 * register, PIIX3 PIRQ routing and interrupt line registers; and the
 * real-mode PCI BIOS (PCI BIOS Specification 2.1, INT 1Ah AH=B1h). */
#include "bios.h"

#define PCI_IO_BASE   0xc000u
#define PCI_IO_END    0x10000u
#define PCI_MEM_BASE  0xe0000000u
#define PCI_MEM_END   0xfec00000u

/* PIRQA-D -> ISA IRQ (PIIX3 PIRQRC registers 0x60-0x63); matches the
 * exclusive-IRQ mask in the $PIR table (entry.asm). */
static const uint8_t pirq_irq[4] = { 10, 10, 11, 11 };

static uint32_t vga_lfb;

static void cfg_addr(uint8_t bus, uint8_t devfn, uint8_t reg)
{
    outl(0xcf8, 0x80000000u | (uint32_t)bus << 16 | (uint32_t)devfn << 8 | (reg & 0xfc));
}
uint32_t pci_cfg_read32(uint8_t bus, uint8_t devfn, uint8_t reg)
{ cfg_addr(bus, devfn, reg); return inl(0xcfc); }
uint16_t pci_cfg_read16(uint8_t bus, uint8_t devfn, uint8_t reg)
{ cfg_addr(bus, devfn, reg); return inw((uint16_t)(0xcfc + (reg & 2))); }
uint8_t pci_cfg_read8(uint8_t bus, uint8_t devfn, uint8_t reg)
{ cfg_addr(bus, devfn, reg); return inb((uint16_t)(0xcfc + (reg & 3))); }
void pci_cfg_write32(uint8_t bus, uint8_t devfn, uint8_t reg, uint32_t v)
{ cfg_addr(bus, devfn, reg); outl(0xcfc, v); }
void pci_cfg_write16(uint8_t bus, uint8_t devfn, uint8_t reg, uint16_t v)
{ cfg_addr(bus, devfn, reg); outw((uint16_t)(0xcfc + (reg & 2)), v); }
void pci_cfg_write8(uint8_t bus, uint8_t devfn, uint8_t reg, uint8_t v)
{ cfg_addr(bus, devfn, reg); outb((uint16_t)(0xcfc + (reg & 3)), v); }

uint32_t pci_vga_lfb(void) { return vga_lfb; }

struct bar {
    uint8_t devfn, reg;
    bool io, mem64, rom;
    uint32_t size;
};

static struct bar bars[96];
static int nbars;

static bool dev_exists(uint8_t devfn) { return pci_cfg_read16(0, devfn, 0) != 0xffff; }

/* Next function to look at: skip functions 1-7 of single-function devices. */
static int next_devfn(int devfn)
{
    if ((devfn & 7) == 0 && (!dev_exists((uint8_t)devfn) || !(pci_cfg_read8(0, (uint8_t)devfn, 0x0e) & 0x80)))
        return devfn + 8;
    return devfn + 1;
}

static void size_bars(uint8_t devfn)
{
    uint8_t htype = pci_cfg_read8(0, devfn, 0x0e) & 0x7f;
    if (htype != 0) return;             /* bridges: not assigned (README) */
    for (uint8_t reg = 0x10; reg <= 0x24 && nbars < 95; reg += 4) {
        uint32_t old = pci_cfg_read32(0, devfn, reg);
        pci_cfg_write32(0, devfn, reg, 0xffffffffu);
        uint32_t v = pci_cfg_read32(0, devfn, reg);
        pci_cfg_write32(0, devfn, reg, old);
        if (v == 0 || v == 0xffffffffu) continue;
        struct bar *b = &bars[nbars];
        b->devfn = devfn;
        b->reg = reg;
        b->rom = false;
        if (v & 1) {
            uint32_t mask = v & ~3u;
            if (!(mask & 0xffff0000u)) mask |= 0xffff0000u;
            b->io = true;
            b->mem64 = false;
            b->size = ~mask + 1;
        } else {
            b->io = false;
            b->mem64 = ((v >> 1) & 3) == 2;
            b->size = ~(v & ~0xfu) + 1;
            if (b->mem64) {
                uint8_t hi = (uint8_t)(reg + 4);
                uint32_t oldh = pci_cfg_read32(0, devfn, hi);
                pci_cfg_write32(0, devfn, hi, 0xffffffffu);
                uint32_t vh = pci_cfg_read32(0, devfn, hi);
                pci_cfg_write32(0, devfn, hi, oldh);
                reg += 4;
                if (vh != 0xffffffffu) continue;        /* > 4 GiB BAR: skip */
            }
        }
        if (b->size) nbars++;
    }
    /* Expansion ROM BAR (§6.2.5.2): assigned, left disabled. */
    pci_cfg_write32(0, devfn, 0x30, 0xfffff800u);
    uint32_t v = pci_cfg_read32(0, devfn, 0x30);
    pci_cfg_write32(0, devfn, 0x30, 0);
    if ((v & 0xfffff800u) && nbars < 95) {
        bars[nbars] = (struct bar){ devfn, 0x30, false, false, true, ~(v & 0xfffff800u) + 1 };
        nbars++;
    }
}

void pci_init(void)
{
    /* Mechanism #1 present? (config address register reads back) */
    outl(0xcf8, 0x80000000u);
    if (inl(0xcf8) != 0x80000000u) { printf("PCI: no configuration mechanism #1\n"); return; }

    for (int df = 0; df < 256; df = next_devfn(df))
        if (dev_exists((uint8_t)df)) size_bars((uint8_t)df);

    /* Largest first, natural alignment: no gaps except at the end. */
    for (int i = 1; i < nbars; i++)
        for (int j = i; j > 0 && bars[j].size > bars[j - 1].size; j--) {
            struct bar t = bars[j]; bars[j] = bars[j - 1]; bars[j - 1] = t;
        }
    uint32_t io = PCI_IO_BASE, mem = PCI_MEM_BASE;
    if (ram_below_4g > mem) mem = (ram_below_4g + 0xfffffu) & ~0xfffffu;
    for (int i = 0; i < nbars; i++) {
        struct bar *b = &bars[i];
        uint32_t *next = b->io ? &io : &mem;
        uint32_t a = (*next + b->size - 1) & ~(b->size - 1);
        uint32_t end = b->io ? PCI_IO_END : PCI_MEM_END;
        if (a < *next || a + b->size > end || a + b->size < a) {
            printf("PCI: no room for BAR %x of %x:%x\n", b->reg, (unsigned)(b->devfn >> 3),
                   (unsigned)(b->devfn & 7));
            continue;
        }
        *next = a + b->size;
        pci_cfg_write32(0, b->devfn, b->reg, a);
        if (b->mem64) pci_cfg_write32(0, b->devfn, (uint8_t)(b->reg + 4), 0);
    }

    for (int df = 0; df < 256; df = next_devfn(df)) {
        uint8_t devfn = (uint8_t)df;
        if (!dev_exists(devfn)) continue;
        uint16_t ven = pci_cfg_read16(0, devfn, 0), dev = pci_cfg_read16(0, devfn, 2);
        uint32_t cls = pci_cfg_read32(0, devfn, 0x08) >> 8;
        uint16_t cmd = pci_cfg_read16(0, devfn, 0x04);
        bool has_io = false, has_mem = false;
        for (int i = 0; i < nbars; i++)
            if (bars[i].devfn == devfn && !bars[i].rom) { if (bars[i].io) has_io = true; else has_mem = true; }
        if ((cls >> 8) == 0x0300) has_io = has_mem = true;      /* VGA legacy ranges */
        if ((cls >> 8) == 0x0101) has_io = true;                /* IDE legacy ports */
        cmd |= (has_io ? 1 : 0) | (has_mem ? 2 : 0) | 4;       /* + bus master */
        pci_cfg_write16(0, devfn, 0x04, cmd);

        uint8_t pin = pci_cfg_read8(0, devfn, 0x3d);
        if (pin >= 1 && pin <= 4) {
            /* i440FX board swizzle: device d, pin INTx -> PIRQ (x + d - 1) mod 4. */
            int pirq = (pin - 1 + (devfn >> 3) - 1) & 3;
            pci_cfg_write8(0, devfn, 0x3c, pirq_irq[pirq]);
        }
        if (ven == 0x8086 && dev == 0x7000) {           /* PIIX3 PCI-ISA bridge */
            for (int i = 0; i < 4; i++) pci_cfg_write8(0, devfn, (uint8_t)(0x60 + i), pirq_irq[i]);
            /* ELCR (PIIX3 datasheet §4.1.16, ports 4D0h/4D1h): PCI IRQs
             * are level triggered. */
            uint16_t elcr = inb(0x4d0) | (uint16_t)inb(0x4d1) << 8;
            for (int i = 0; i < 4; i++) elcr |= (uint16_t)(1u << pirq_irq[i]);
            outb(0x4d0, (uint8_t)elcr);
            outb(0x4d1, (uint8_t)(elcr >> 8));
        }
        if (ven == 0x8086 && dev == 0x7010) {           /* PIIX3 IDE: IDETIM decode enable */
            pci_cfg_write16(0, devfn, 0x40, pci_cfg_read16(0, devfn, 0x40) | 0x8000);
            pci_cfg_write16(0, devfn, 0x42, pci_cfg_read16(0, devfn, 0x42) | 0x8000);
        }
        if (ven == 0x1234 && dev == 0x1111)             /* Bochs/QEMU std VGA: BAR0 = LFB */
            vga_lfb = pci_cfg_read32(0, devfn, 0x10) & ~0xfu;
        printf("PCI %x:%x.%x %04x:%04x class %06x", 0u, (unsigned)(devfn >> 3),
               (unsigned)(devfn & 7), ven, dev, (unsigned)cls);
        if (pci_cfg_read8(0, devfn, 0x3d)) printf(" irq %u", pci_cfg_read8(0, devfn, 0x3c));
        printf("\n");
    }
}

/* ---------------------------------------------------------------- BIOS */

#define PCI_OK          0x00
#define PCI_BAD_FUNC    0x81
#define PCI_BAD_VENDOR  0x83
#define PCI_NOT_FOUND   0x86
#define PCI_BAD_REG     0x87
#define PCI_BUF_SMALL   0x89

void pci_bios(struct rm_frame *f)
{
    uint8_t bus = f->ebx.h, devfn = f->ebx.l;
    uint16_t reg = f->edi.x;
    switch (f->eax.l) {
    case 0x01:
        f->edx.e = 0x20494350;          /* "PCI " */
        f->eax.l = 0x01;                /* config mechanism #1 */
        f->ebx.x = 0x0210;
        f->ecx.l = 0;                   /* last bus */
        f->edi.e = 0;                   /* no protected-mode entry */
        ret_status(f, PCI_OK);
        return;
    case 0x02: {
        if (f->edx.x == 0xffff) { ret_status(f, PCI_BAD_VENDOR); return; }
        unsigned idx = f->esi.x;
        for (int df = 0; df < 256; df = next_devfn(df)) {
            if (pci_cfg_read16(0, (uint8_t)df, 0) == f->edx.x &&
                pci_cfg_read16(0, (uint8_t)df, 2) == f->ecx.x && idx-- == 0) {
                f->ebx.x = (uint16_t)df;
                ret_status(f, PCI_OK);
                return;
            }
        }
        ret_status(f, PCI_NOT_FOUND);
        return;
    }
    case 0x03: {
        unsigned idx = f->esi.x;
        for (int df = 0; df < 256; df = next_devfn(df)) {
            if (dev_exists((uint8_t)df) &&
                (pci_cfg_read32(0, (uint8_t)df, 0x08) >> 8) == (f->ecx.e & 0xffffff) && idx-- == 0) {
                f->ebx.x = (uint16_t)df;
                ret_status(f, PCI_OK);
                return;
            }
        }
        ret_status(f, PCI_NOT_FOUND);
        return;
    }
    case 0x08: case 0x0b:
        if (reg > 0xff) break;
        if (f->eax.l == 0x08) f->ecx.l = pci_cfg_read8(bus, devfn, (uint8_t)reg);
        else pci_cfg_write8(bus, devfn, (uint8_t)reg, f->ecx.l);
        ret_status(f, PCI_OK);
        return;
    case 0x09: case 0x0c:
        if (reg > 0xfe || (reg & 1)) break;
        if (f->eax.l == 0x09) f->ecx.x = pci_cfg_read16(bus, devfn, (uint8_t)reg);
        else pci_cfg_write16(bus, devfn, (uint8_t)reg, f->ecx.x);
        ret_status(f, PCI_OK);
        return;
    case 0x0a: case 0x0d:
        if (reg > 0xfc || (reg & 3)) break;
        if (f->eax.l == 0x0a) f->ecx.e = pci_cfg_read32(bus, devfn, (uint8_t)reg);
        else pci_cfg_write32(bus, devfn, (uint8_t)reg, f->ecx.e);
        ret_status(f, PCI_OK);
        return;
    case 0x0e: {
        /* Routing options: the slot entries of the $PIR table. ES:DI ->
         * { word buffer size; far pointer to buffer }. */
        uint8_t *opt = ptr(lin(f->es, f->edi.x));
        const uint8_t *pir = ptr(0xf0000 + F_OFF(pir_table));
        uint16_t len = (uint16_t)(*(const uint16_t *)(pir + 6) - 32);
        uint16_t have = *(uint16_t *)opt;
        *(uint16_t *)opt = len;
        f->ebx.x = 0x0c00;
        if (have < len) { ret_status(f, PCI_BUF_SMALL); return; }
        uint16_t off = *(uint16_t *)(opt + 2), seg = *(uint16_t *)(opt + 4);
        memcpy(ptr(lin(seg, off)), pir + 32, len);
        ret_status(f, PCI_OK);
        return;
    }
    default:
        ret_status(f, PCI_BAD_FUNC);
        return;
    }
    ret_status(f, PCI_BAD_REG);
}
