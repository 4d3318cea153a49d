/*
 * hw/i440fx.c — the 82441FX PCI and Memory Controller (PMC) of the
 * 440FX PCIset as host bridge 00:00.0 (8086:1237, class 06/00/00).
 *
 * Its one job that matters to software here is the Programmable
 * Attribute Map (82441FX datasheet 3.2.x, PAM0-PAM6 at 0x59-0x5F): for
 * each segment of 0xC0000-0xFFFFF it selects whether CPU reads and writes
 * go to DRAM or are forwarded to PCI/ISA (where the BIOS ROM answers).
 * Each 4-bit field: bit 0 RE (read enable), bit 1 WE (write enable):
 *   00 DRAM disabled: everything goes to PCI (ROM, or nothing)
 *   01 read only:     reads DRAM, writes go to PCI (ROM: dropped)
 *   10 write only:    reads PCI, writes DRAM (the BIOS shadowing step)
 *   11 read/write:    DRAM
 * PAM0 bits 7:4 cover F0000-FFFFF (its bits 3:0 are reserved); PAMn, n =
 * 1..6, covers two 16 KiB segments from C0000 + (n-1) * 32 KiB.
 *
 * The decode is done with page mappings in the physical map: one per 4
 * KiB page of 0xC0000-0xFFFFF, redone when the page's mode changes (the
 * page's old mapping is removed with phys_unmap first). What "PCI" shows
 * is the ROM page found there when the bridge was built, or all ones.
 *
 * SMRAM (0x72, 82441FX datasheet "SMRAM—System Management RAM Control
 * Register"): the 128 KiB of DRAM under A0000-BFFFF (C_BASE_SEG, bits
 * 2:0, hardwired to 010) serve as SMM memory. The decode of that range
 * for a CPU cycle, with G_SMRAME (bit 3) set (clear: always PCI, i.e.
 * the VGA window):
 *   in SMM (SMIACT# asserted): code fetches go to DRAM; data references
 *     to DRAM, or to PCI when D_CLS (bit 5) is set, so that SMM code can
 *     reach the frame buffer through its own space;
 *   outside SMM: DRAM if D_OPEN (bit 6) is set, else PCI. D_OPEN lets the
 *     BIOS fill SMM space before it locks it.
 * D_OPEN and D_CLS together are a combination software must not use
 * (the datasheet leaves it undefined); Glass lets D_CLS win and keeps
 * the VGA window. D_LCK (bit 4) clears D_OPEN and makes D_OPEN, D_LCK,
 * G_SMRAME read-only until reset; D_CLS stays writable. PCI masters
 * (bus-master DMA) never see SMRAM: their cycles go to PCI, so the VGA
 * keeps its window for them (phys_map_cpu_ram).
 * Glass has no SMM (no SMI#, SMIACT#, RSM save state), so only the
 * outside-SMM rules apply: DRAM exactly when G_SMRAME and D_OPEN are set
 * and D_CLS is clear (D_LCK has cleared D_OPEN).
 *
 * The other registers (PMCCFG, DRAM control and timing, DRB, error
 * command/status) are stored with their datasheet masks; DRB rows
 * report the RAM size in 8 MiB units.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/pci.h"

#define PAM_BASE 0xc0000u
#define PAM_END 0x100000u
#define PAM_PAGES ((PAM_END - PAM_BASE) >> 12) /* 64 */
#define PAGE 4096u

#define PAM_RE 0x1
#define PAM_WE 0x2

/* SMRAM (0x72) bits. */
#define SMRAM_D_OPEN 0x40
#define SMRAM_D_CLS 0x20
#define SMRAM_D_LCK 0x10
#define SMRAM_G_SMRAME 0x08
#define SMRAM_C_BASE_SEG 0x02 /* hardwired 010: A0000-BFFFF */
#define SMRAM_BASE 0xa0000u
#define SMRAM_PAGES (0x20000u / 4096u) /* 32 */

#define I440FX_DRB 0x60 /* DRB0..DRB7 at 0x60..0x67, cumulative 8 MiB units */
#define I440FX_ERRSTS 0x91

struct pam_page {
    struct i440fx *h;
    uint32_t base;      /* physical address of the page */
    const uint8_t *rom; /* what PCI/ISA shows there, or NULL (all ones) */
    uint8_t mode;       /* RE/WE applied now; 0xff: nothing mapped yet */
};

struct i440fx {
    struct pci_device pci;
    struct phys_mem *pm;
    uint8_t *ram;
    uint64_t ram_size;
    struct pam_page page[PAM_PAGES];
    bool smram_mapped; /* the CPU sees DRAM at A0000-BFFFF */
};

/* ------------------------------------------------------------------ */
/* PAM                                                                 */
/* ------------------------------------------------------------------ */

/* The 2-bit RE/WE field that governs physical address `a`. */
static uint8_t pam_mode(const struct i440fx *h, uint32_t a)
{
    if (a >= 0xf0000)
        return (h->pci.config[I440FX_PAM0] >> 4) & 3;
    unsigned seg = (a - PAM_BASE) >> 14; /* 16 KiB segments 0..11 */
    uint8_t reg = h->pci.config[I440FX_PAM0 + 1 + seg / 2];
    return (seg & 1 ? reg >> 4 : reg) & 3;
}

/* PCI side of a page: the ROM captured at construction, or nothing. */
static uint64_t pci_side_read(const struct pam_page *p, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t o = off + i;
        uint8_t b = p->rom && o < PAGE ? p->rom[o] : 0xff;
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static uint64_t pam_hole_read(void *opaque, uint64_t off, unsigned size)
{
    return pci_side_read(opaque, off, size);
}

static void pam_hole_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    (void)opaque; (void)off; (void)val; (void)size; /* nothing on PCI claims it */
}

static void pam_wo_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct pam_page *p = opaque;
    for (unsigned i = 0; i < size && off + i < PAGE; i++)
        p->h->ram[p->base + off + i] = (uint8_t)(val >> (8 * i));
}

static const struct mem_ops pam_hole_ops = { .read = pam_hole_read, .write = pam_hole_write };
static const struct mem_ops pam_wo_ops = { .read = pam_hole_read, .write = pam_wo_write };

static void pam_apply_page(struct i440fx *h, struct pam_page *p, uint8_t mode)
{
    if (p->mode == mode)
        return;
    if (p->mode != 0xff)
        phys_unmap(h->pm, p->base, PAGE);
    uint8_t *ram = h->ram + p->base;
    switch (mode) {
    case PAM_RE | PAM_WE:
        phys_map_ram(h->pm, p->base, PAGE, ram);
        break;
    case PAM_RE:
        phys_map_rom(h->pm, p->base, PAGE, ram);
        break;
    case PAM_WE:
        phys_map_mmio(h->pm, p->base, PAGE, &pam_wo_ops, p);
        break;
    default:
        if (p->rom) /* cast: phys keeps ROM pages read-only for the guest */
            phys_map_rom(h->pm, p->base, PAGE, (uint8_t *)(uintptr_t)p->rom);
        else
            phys_map_mmio(h->pm, p->base, PAGE, &pam_hole_ops, p);
        break;
    }
    p->mode = mode;
}

static void pam_update(struct i440fx *h)
{
    for (unsigned i = 0; i < PAM_PAGES; i++)
        pam_apply_page(h, &h->page[i], pam_mode(h, h->page[i].base));
}

/* ------------------------------------------------------------------ */
/* SMRAM                                                               */
/* ------------------------------------------------------------------ */

/* Does a CPU cycle outside SMM reach the DRAM under A0000-BFFFF? */
static bool smram_open_to_cpu(uint8_t smram)
{
    return (smram & (SMRAM_G_SMRAME | SMRAM_D_OPEN | SMRAM_D_CLS)) ==
           (SMRAM_G_SMRAME | SMRAM_D_OPEN);
}

/* One CPU-only mapping per 4 KiB page, so that none has the base and
 * size of the VGA's window mapping (phys_unmap removes by range). */
static void smram_update(struct i440fx *h)
{
    bool open = smram_open_to_cpu(h->pci.config[I440FX_SMRAM]);
    if (open == h->smram_mapped)
        return;
    for (unsigned i = 0; i < SMRAM_PAGES; i++) {
        uint32_t a = SMRAM_BASE + i * PAGE;
        if (open)
            phys_map_cpu_ram(h->pm, a, PAGE, h->ram + a);
        else
            phys_unmap(h->pm, a, PAGE);
    }
    h->smram_mapped = open;
}

/* ------------------------------------------------------------------ */
/* Configuration space                                                 */
/* ------------------------------------------------------------------ */

static void i440fx_config_write(struct pci_device *d, unsigned offset, uint32_t val,
                                unsigned size)
{
    struct i440fx *h = d->opaque;
    uint8_t smram = d->config[I440FX_SMRAM];
    pci_default_config_write(d, offset, val, size);
    if (offset <= I440FX_SMRAM && offset + size > I440FX_SMRAM) {
        uint8_t v = (uint8_t)(val >> (8 * (I440FX_SMRAM - offset)));
        uint8_t n;
        if (smram & SMRAM_D_LCK) {
            /* Locked until reset: only D_CLS still writes; D_OPEN is 0. */
            n = (uint8_t)((smram & ~SMRAM_D_CLS) | (v & SMRAM_D_CLS));
        } else {
            n = (uint8_t)((v & (SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME)) |
                          SMRAM_C_BASE_SEG);
        }
        if (n & SMRAM_D_LCK)
            n &= (uint8_t)~SMRAM_D_OPEN;
        d->config[I440FX_SMRAM] = n;
        smram_update(h);
    }
    if (offset <= I440FX_PAM0 + 6 && offset + size > I440FX_PAM0)
        pam_update(h);
}

static void i440fx_set_drb(struct i440fx *h)
{
    uint64_t units = h->ram_size >> 23; /* 8 MiB */
    if (units > 255)
        units = 255;
    for (unsigned i = 0; i < 8; i++)
        h->pci.config[I440FX_DRB + i] = (uint8_t)units;
}

static void i440fx_reset(struct pci_device *d)
{
    struct i440fx *h = d->opaque;
    /* Power-on values of the 82441FX device-specific registers. */
    memset(&d->config[0x40], 0, PCI_CONFIG_SIZE - 0x40);
    pci_set_word(d, 0x50, 0x0000);       /* PMCCFG */
    d->config[0x52] = 0x80;              /* DETURBO */
    d->config[0x57] = 0x01;              /* DRAMC */
    d->config[0x58] = 0x10;              /* DRAMT */
    d->config[0x71] = 0x10;              /* CLT */
    d->config[I440FX_SMRAM] = SMRAM_C_BASE_SEG;
    i440fx_set_drb(h);
    pci_set_word(d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pam_update(h);
    smram_update(h);
}

struct pci_device *i440fx_pci(struct i440fx *h)
{
    return &h->pci;
}

struct i440fx *i440fx_new(struct pci_bus *bus, struct phys_mem *pm, uint8_t *ram,
                          uint64_t ram_size)
{
    if (!bus || !pm || !ram || ram_size < PAM_END)
        return NULL;
    struct i440fx *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->pm = pm;
    h->ram = ram;
    h->ram_size = ram_size;
    static const struct pci_device_info info = {
        .vendor_id = 0x8086, .device_id = 0x1237, .revision = 0x02,
        .class_base = 0x06, .class_sub = 0x00, .class_prog = 0x00,
    };
    if (pci_device_register(bus, &h->pci, PCI_DEVFN(0, 0), &info, h) != 0) {
        free(h);
        return NULL;
    }
    /* Fast back-to-back capable, medium DEVSEL (82441FX PCISTS 0x0280). */
    pci_set_word(&h->pci, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_FAST_BACK);
    /* Device-specific masks (82441FX register summary). */
    uint8_t *m = h->pci.wmask;
    m[0x50] = 0xff; m[0x51] = 0xff;  /* PMCCFG */
    m[0x52] = 0xff; m[0x53] = 0xff;  /* DETURBO, DBC */
    m[0x54] = 0xff;                  /* AXC */
    m[0x55] = 0xff; m[0x56] = 0xff;  /* DRAMR */
    m[0x57] = 0xff; m[0x58] = 0xff;  /* DRAMC, DRAMT */
    m[I440FX_PAM0] = 0x30;           /* PAM0: only HIENABLE (F0000) */
    for (unsigned i = 1; i < 7; i++)
        m[I440FX_PAM0 + i] = 0x33;
    for (unsigned i = 0; i < 8; i++)
        m[I440FX_DRB + i] = 0xff;
    m[0x68] = 0xc0;                  /* FDHC */
    m[0x70] = 0xf8;                  /* MTT */
    m[0x71] = 0xf8;                  /* CLT */
    m[I440FX_SMRAM] = 0;             /* handled in the hook */
    m[0x90] = 0xff;                  /* ERRCMD */
    h->pci.w1cmask[I440FX_ERRSTS] = 0xff;
    h->pci.config_write = i440fx_config_write;
    h->pci.reset = i440fx_reset;
    /* What PCI/ISA answers in C0000-FFFFF: the ROM pages there now. */
    for (unsigned i = 0; i < PAM_PAGES; i++) {
        struct pam_page *p = &h->page[i];
        bool writable = true;
        p->h = h;
        p->base = PAM_BASE + i * PAGE;
        p->mode = 0xff;
        uint8_t *host = phys_page_ptr(pm, p->base, &writable);
        p->rom = host && !writable ? host : NULL;
    }
    i440fx_reset(&h->pci);
    return h;
}

void i440fx_free(struct i440fx *h)
{
    if (!h)
        return;
    for (unsigned i = 0; i < PAM_PAGES; i++)
        if (h->page[i].mode != 0xff)
            phys_unmap(h->pm, h->page[i].base, PAGE);
    for (unsigned i = 0; h->smram_mapped && i < SMRAM_PAGES; i++)
        phys_unmap(h->pm, SMRAM_BASE + i * PAGE, PAGE);
    pci_device_unregister(&h->pci);
    free(h);
}

static const struct dev_field i440fx_fields[] = {
    { "config", DEV_FIELD_BYTES, offsetof(struct i440fx, pci.config), PCI_CONFIG_SIZE },
    { NULL, 0, 0, 0 },
};

void i440fx_post_load(struct i440fx *h)
{
    pci_device_post_load(&h->pci);
    pam_update(h);
    smram_update(h);
}

const struct dev_state_desc i440fx_state_desc = { "i440fx", 1, i440fx_fields };
