/*
 * test_pci.c — hw/pci.c, hw/i440fx.c and hw/piix3.c on a bare io_space
 * and phys_mem: configuration mechanism #1 through ports 0xCF8/0xCFC
 * (all sizes and offsets), absent functions, BAR sizing and moving,
 * command-register decode gating, INTx routing through the PIIX3's PIRQ
 * registers with sharing, the 0xCF9 reset register, the i440FX PAM and
 * its SMRAM window.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hw/pci.h"
#include "hw/piix3.h"

#define KIB 1024u

/* ---- a test function with one I/O BAR, one memory BAR and a ROM ---- */

struct tdev {
    struct pci_device pci;
    uint64_t last_addr, last_val;
    unsigned last_size;
    int reads, writes, bar;
    int mapped_calls;
    uint32_t mapped_addr[7];
};

static uint64_t tdev_read(void *opaque, uint64_t addr, unsigned size)
{
    struct tdev *t = opaque;
    t->reads++;
    t->last_addr = addr;
    t->last_size = size;
    return 0x5a00 | (addr & 0xff);
}

static void tdev_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct tdev *t = opaque;
    t->writes++;
    t->last_addr = addr;
    t->last_val = val;
    t->last_size = size;
}

static const struct mem_ops tdev_ops = { .read = tdev_read, .write = tdev_write };

static void tdev_mapped(struct pci_device *d, int bar, uint32_t addr)
{
    struct tdev *t = d->opaque;
    t->mapped_calls++;
    t->mapped_addr[bar] = addr;
}

static uint8_t rom_image[8 * KIB];

static void tdev_init(struct tdev *t, struct pci_bus *bus, int devfn, uint8_t pin)
{
    struct pci_device_info info = {
        .vendor_id = 0x1234, .device_id = 0x5678, .revision = 7,
        .class_base = 0x01, .class_sub = 0x01, .class_prog = 0x80,
        .subsystem_vendor_id = 0xaaaa, .subsystem_id = 0xbbbb, .interrupt_pin = pin,
    };
    memset(t, 0, sizeof(*t));
    cr_assert_eq(pci_device_register(bus, &t->pci, devfn, &info, t), 0);
    t->pci.bar_mapped = tdev_mapped;
    cr_assert_eq(pci_register_bar(&t->pci, 0, PCI_BAR_IO, 16, &tdev_ops, t), 0);
    cr_assert_eq(pci_register_bar(&t->pci, 1, PCI_BAR_MEM32, 1024, &tdev_ops, t), 0);
    for (unsigned i = 0; i < sizeof(rom_image); i++)
        rom_image[i] = (uint8_t)(i * 7);
    cr_assert_eq(pci_register_rom(&t->pci, sizeof(rom_image), rom_image), 0);
}

struct rig {
    struct phys_mem *pm;
    struct io_space *io;
    struct pci_bus *bus;
};

static struct rig rig_new(void)
{
    struct rig r;
    r.pm = phys_new();
    r.io = io_new();
    r.bus = pci_bus_new(r.pm, r.io);
    cr_assert_not_null(r.bus);
    return r;
}

static void rig_free(struct rig *r)
{
    pci_bus_free(r->bus);
    io_free(r->io);
    phys_free(r->pm);
}

static uint32_t cfg_addr(int dev, int fn, unsigned reg)
{
    return 0x80000000u | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (reg & 0xfc);
}

static uint32_t cfgr(struct rig *r, int dev, int fn, unsigned reg, unsigned size)
{
    io_write(r->io, 0xcf8, cfg_addr(dev, fn, reg), 4);
    return io_read(r->io, (uint16_t)(0xcfc + (reg & 3)), size);
}

static void cfgw(struct rig *r, int dev, int fn, unsigned reg, uint32_t val, unsigned size)
{
    io_write(r->io, 0xcf8, cfg_addr(dev, fn, reg), 4);
    io_write(r->io, (uint16_t)(0xcfc + (reg & 3)), val, size);
}

Test(pci, mechanism1_all_sizes_and_offsets)
{
    struct rig r = rig_new();
    struct tdev t;
    tdev_init(&t, r.bus, PCI_DEVFN(3, 0), 1);
    cr_assert_eq(cfgr(&r, 3, 0, 0, 4), 0x56781234u);
    cr_assert_eq(cfgr(&r, 3, 0, 0, 2), 0x1234);
    cr_assert_eq(cfgr(&r, 3, 0, 2, 2), 0x5678);
    cr_assert_eq(cfgr(&r, 3, 0, 1, 1), 0x12);
    cr_assert_eq(cfgr(&r, 3, 0, 3, 1), 0x56);
    cr_assert_eq(cfgr(&r, 3, 0, 1, 2), 0x7812); /* word at an odd offset */
    cr_assert_eq(cfgr(&r, 3, 0, 8, 4), 0x01018007u);
    cr_assert_eq(cfgr(&r, 3, 0, 0x2c, 4), 0xbbbbaaaau);
    cr_assert_eq(cfgr(&r, 3, 0, 0x3d, 1), 1);
    cr_assert_eq(cfgr(&r, 3, 0, 0x3c, 1), 0xff);
    /* Interrupt line: stored, nothing else. */
    cfgw(&r, 3, 0, 0x3c, 0x0b, 1);
    cr_assert_eq(cfgr(&r, 3, 0, 0x3c, 4) & 0xffff, 0x010b);
    /* Byte write into the middle of the command word. */
    cfgw(&r, 3, 0, 0x05, 0x04, 1);
    cr_assert_eq(cfgr(&r, 3, 0, 4, 2), 0x0400);
    /* Read-only ID bytes ignore writes. */
    cfgw(&r, 3, 0, 0, 0xffffffff, 4);
    cr_assert_eq(cfgr(&r, 3, 0, 0, 4), 0x56781234u);
    /* CONFIG_ADDRESS: bits 30:24 and 1:0 read as zero. */
    io_write(r.io, 0xcf8, 0xffffffffu, 4);
    cr_assert_eq(io_read(r.io, 0xcf8, 4), 0x80fffffcu);
    /* Byte cycles to 0xCF8-0xCFB do not touch CONFIG_ADDRESS. */
    io_write(r.io, 0xcf8, cfg_addr(3, 0, 0), 4);
    io_write(r.io, 0xcf8, 0x00, 1);
    io_write(r.io, 0xcfb, 0x00, 1);
    cr_assert_eq(io_read(r.io, 0xcf8, 4), cfg_addr(3, 0, 0));
    /* Accesses through the data port that run past 0xCFF: the bytes past
     * it are other ports (unclaimed here: all ones). */
    io_write(r.io, 0xcf8, cfg_addr(3, 0, 0), 4);
    cr_assert_eq(io_read(r.io, 0xcff, 2), 0xff56);
    cr_assert_eq(io_read(r.io, 0xcfe, 4), 0xffff5678u);
    /* A dword straddling CONFIG_ADDRESS and the data port: byte cycles,
     * the two bytes at 0xCFC-0xCFD are config data. */
    cr_assert_eq(io_read(r.io, 0xcfa, 4) >> 16, 0x1234);
    cr_assert_eq(io_read(r.io, 0xcf8, 4), cfg_addr(3, 0, 0));
    /* Enable bit clear: the data port is not a config cycle. */
    io_write(r.io, 0xcf8, cfg_addr(3, 0, 0) & 0x7fffffffu, 4);
    cr_assert_eq(io_read(r.io, 0xcfc, 4), 0xffffffffu);
    pci_device_unregister(&t.pci);
    rig_free(&r);
}

Test(pci, absent_functions_read_all_ones)
{
    struct rig r = rig_new();
    struct tdev t;
    tdev_init(&t, r.bus, PCI_DEVFN(3, 0), 1);
    cr_assert_eq(cfgr(&r, 4, 0, 0, 4), 0xffffffffu);
    cr_assert_eq(cfgr(&r, 3, 1, 0, 4), 0xffffffffu);
    cr_assert_eq(cfgr(&r, 31, 7, 0x3c, 2), 0xffff);
    cr_assert_eq(cfgr(&r, 4, 0, 2, 1), 0xff);
    /* Bus 1 does not exist (no bridges). */
    io_write(r.io, 0xcf8, cfg_addr(3, 0, 0) | 1u << 16, 4);
    cr_assert_eq(io_read(r.io, 0xcfc, 4), 0xffffffffu);
    cfgw(&r, 4, 0, 4, 0xffff, 2); /* dropped, no crash */
    /* Single-function device: header type bit 7 clear. */
    cr_assert_eq(cfgr(&r, 3, 0, 0x0e, 1), 0x00);
    pci_device_unregister(&t.pci);
    cr_assert_eq(cfgr(&r, 3, 0, 0, 4), 0xffffffffu);
    rig_free(&r);
}

Test(pci, bar_sizing)
{
    struct rig r = rig_new();
    struct tdev t;
    tdev_init(&t, r.bus, PCI_DEVFN(3, 0), 1);
    cr_assert_eq(cfgr(&r, 3, 0, 0x10, 4), 0x1); /* I/O BAR, address 0 */
    cfgw(&r, 3, 0, 0x10, 0xffffffffu, 4);
    cr_assert_eq(cfgr(&r, 3, 0, 0x10, 4), 0xfffffff1u); /* 16 bytes */
    cfgw(&r, 3, 0, 0x14, 0xffffffffu, 4);
    cr_assert_eq(cfgr(&r, 3, 0, 0x14, 4), 0xfffff000u); /* 4 KiB minimum */
    cfgw(&r, 3, 0, 0x30, 0xffffffffu, 4);
    cr_assert_eq(cfgr(&r, 3, 0, 0x30, 4), 0xffffe001u); /* 8 KiB ROM */
    /* Unimplemented BARs read 0 and stay 0. */
    cfgw(&r, 3, 0, 0x18, 0xffffffffu, 4);
    cr_assert_eq(cfgr(&r, 3, 0, 0x18, 4), 0);
    /* Prefetchable memory BAR shows bit 3. */
    cr_assert_eq(pci_register_bar(&t.pci, 2, PCI_BAR_MEM32_PREFETCH, 1u << 24, &tdev_ops, &t),
                 0);
    cfgw(&r, 3, 0, 0x18, 0xffffffffu, 4);
    cr_assert_eq(cfgr(&r, 3, 0, 0x18, 4), 0xff000008u);
    /* Bad declarations refused. */
    cr_assert_eq(pci_register_bar(&t.pci, 3, PCI_BAR_IO, 24, &tdev_ops, &t), -1);
    cr_assert_eq(pci_register_bar(&t.pci, 6, PCI_BAR_MEM32, 4096, &tdev_ops, &t), -1);
    cr_assert_eq(pci_register_bar(&t.pci, 3, PCI_BAR_IO, 512, &tdev_ops, &t), -1);
    pci_device_unregister(&t.pci);
    rig_free(&r);
}

Test(pci, bars_decode_only_with_command_bits_and_follow_moves)
{
    struct rig r = rig_new();
    uint8_t *ram = calloc(1, 1u << 20);
    ram[0x80000] = 0x42;
    cr_assert_eq(phys_map_ram(r.pm, 0, 1u << 20, ram), 0);
    struct tdev t;
    tdev_init(&t, r.bus, PCI_DEVFN(3, 0), 1);
    cfgw(&r, 3, 0, 0x10, 0xc000, 4);
    cfgw(&r, 3, 0, 0x14, 0xfebf0000u, 4);
    /* Command 0: nothing decodes. */
    cr_assert_eq(io_read(r.io, 0xc004, 1), 0xff);
    cr_assert_eq(phys_read(r.pm, 0xfebf0010u, 4), 0xffffffffu);
    cr_assert_eq(t.reads, 0);
    /* I/O space only. */
    cfgw(&r, 3, 0, 4, PCI_COMMAND_IO, 2);
    cr_assert_eq(io_read(r.io, 0xc004, 2), 0x5a04);
    cr_assert_eq(t.last_addr, 4); /* offset within the BAR */
    cr_assert_eq(t.last_size, 2);
    cr_assert_eq(phys_read(r.pm, 0xfebf0010u, 4), 0xffffffffu);
    cr_assert_eq(pci_bar_address(&t.pci, 0), 0xc000);
    cr_assert_eq(pci_bar_address(&t.pci, 1), PCI_BAR_UNMAPPED);
    /* Memory too. */
    cfgw(&r, 3, 0, 4, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    cr_assert_eq(phys_read(r.pm, 0xfebf0010u, 4) & 0xffff, 0x5a10);
    phys_write(r.pm, 0xfebf0020u, 0x99, 1);
    cr_assert_eq(t.last_addr, 0x20);
    cr_assert_eq(t.last_val, 0x99);
    cr_assert_eq(t.mapped_addr[1], 0xfebf0000u);
    /* Move the I/O BAR: the old ports are free again. */
    cfgw(&r, 3, 0, 0x10, 0xc100, 4);
    cr_assert_eq(io_read(r.io, 0xc004, 1), 0xff);
    cr_assert_eq(io_read(r.io, 0xc10f, 1), 0x0f);
    cr_assert_eq(t.last_addr, 0x0f);
    /* Move the memory BAR over RAM, then away: RAM shows again. */
    cfgw(&r, 3, 0, 0x14, 0x80000, 4);
    cr_assert_eq(phys_read(r.pm, 0x80000, 2), 0x5a00);
    cfgw(&r, 3, 0, 0x14, 0xfe000000u, 4);
    cr_assert_eq(phys_read(r.pm, 0x80000, 1), 0x42);
    cr_assert_eq(phys_read(r.pm, 0xfebf0000u, 4), 0xffffffffu);
    cr_assert_eq(phys_read(r.pm, 0xfe000004u, 1), 0x04);
    /* The ROM decodes only with its enable bit and memory space. */
    cfgw(&r, 3, 0, 0x30, 0xfeb00000u, 4);
    cr_assert_eq(phys_read(r.pm, 0xfeb00001u, 1), 0xff);
    cfgw(&r, 3, 0, 0x30, 0xfeb00001u, 4);
    cr_assert_eq(phys_read(r.pm, 0xfeb00001u, 1), 7);
    phys_write(r.pm, 0xfeb00001u, 0, 1); /* read-only */
    cr_assert_eq(rom_image[1], 7);
    /* Memory space off: the memory BAR and the ROM vanish. */
    cfgw(&r, 3, 0, 4, PCI_COMMAND_IO, 2);
    cr_assert_eq(phys_read(r.pm, 0xfeb00001u, 1), 0xff);
    cr_assert_eq(phys_read(r.pm, 0xfe000004u, 1), 0xff);
    cr_assert_eq(io_read(r.io, 0xc101, 1), 0x01);
    /* An I/O BAR over the config ports is never decoded. */
    cfgw(&r, 3, 0, 0x10, 0xcf0, 4);
    cr_assert_eq(pci_bar_address(&t.pci, 0), PCI_BAR_UNMAPPED);
    io_write(r.io, 0xcf8, cfg_addr(3, 0, 0), 4);
    cr_assert_eq(io_read(r.io, 0xcfc, 4), 0x56781234u);
    /* Bus reset: command 0, BARs 0, nothing decodes. */
    cfgw(&r, 3, 0, 0x10, 0xc000, 4);
    pci_bus_reset(r.bus);
    cr_assert_eq(cfgr(&r, 3, 0, 4, 2), 0);
    cr_assert_eq(cfgr(&r, 3, 0, 0x10, 4), 1);
    cr_assert_eq(io_read(r.io, 0xc004, 1), 0xff);
    pci_device_unregister(&t.pci);
    rig_free(&r);
    free(ram);
}

Test(pci, status_write_one_to_clear)
{
    struct rig r = rig_new();
    struct tdev t;
    tdev_init(&t, r.bus, PCI_DEVFN(3, 0), 1);
    t.pci.config[PCI_STATUS + 1] |= 0x20; /* received master abort */
    cr_assert_eq(cfgr(&r, 3, 0, 6, 2), 0x2200);
    cfgw(&r, 3, 0, 6, 0x0000, 2);
    cr_assert_eq(cfgr(&r, 3, 0, 6, 2), 0x2200);
    cfgw(&r, 3, 0, 6, 0x2000, 2);
    cr_assert_eq(cfgr(&r, 3, 0, 6, 2), 0x0200);
    cr_assert_eq(cfgr(&r, 3, 0, 6, 2) & PCI_STATUS_CAP_LIST, 0);
    cr_assert_eq(cfgr(&r, 3, 0, 0x34, 1), 0);
    /* Capabilities: linked from 0x34, newest first, status bit 4 on. */
    cr_assert_eq(pci_add_capability(&t.pci, 0x01, 0x50, 8), 0x50);
    cr_assert_eq(pci_add_capability(&t.pci, 0x05, 0x60, 16), 0x60);
    cr_assert_eq(pci_add_capability(&t.pci, 0x09, 0x51, 4), -1);
    cr_assert_eq(pci_add_capability(&t.pci, 0x09, 0x4c, 8), -1); /* over 0x50 */
    cr_assert_eq(pci_add_capability(&t.pci, 0x09, 0xfc, 8), -1);
    cr_assert(cfgr(&r, 3, 0, 6, 2) & PCI_STATUS_CAP_LIST);
    cr_assert_eq(cfgr(&r, 3, 0, 0x34, 1), 0x60);
    cr_assert_eq(cfgr(&r, 3, 0, 0x60, 2), 0x5005);
    cr_assert_eq(cfgr(&r, 3, 0, 0x50, 2), 0x0001);
    cfgw(&r, 3, 0, 0x60, 0xffff, 2); /* read-only */
    cr_assert_eq(cfgr(&r, 3, 0, 0x60, 2), 0x5005);
    pci_device_unregister(&t.pci);
    rig_free(&r);
}

/* ---- PIIX3 ---- */

struct irq_rec {
    int level[16];
    int calls;
};

static void irq_rec_fn(void *opaque, int n, int level)
{
    struct irq_rec *r = opaque;
    r->level[n] = level;
    r->calls++;
}

struct reset_rec {
    int count;
    bool hard;
};

static void reset_fn(void *opaque, bool hard)
{
    struct reset_rec *r = opaque;
    r->count++;
    r->hard = hard;
}

Test(pci, piix3_header_and_pirq_routing_with_sharing)
{
    struct rig r = rig_new();
    struct irq_rec rec = { 0 };
    struct irq_line lines[16];
    for (int i = 0; i < 16; i++)
        irq_connect(&lines[i], irq_rec_fn, &rec, i);
    struct reset_rec rr = { 0 };
    struct piix3 *p = piix3_new(r.bus, PIIX3_DEVFN, lines, reset_fn, &rr);
    cr_assert_not_null(p);
    cr_assert_eq(cfgr(&r, 1, 0, 0, 4), 0x70008086u);
    cr_assert_eq(cfgr(&r, 1, 0, 0x0a, 2), 0x0601);
    cr_assert_eq(cfgr(&r, 1, 0, 0x0e, 1), 0x80); /* multi-function */
    cr_assert_eq(cfgr(&r, 1, 0, 0x60, 4), 0x80808080u);

    /* 03.0 INTA# -> PIRQ[(3 + 0 - 1) & 3] = PIRQC; 02.0 INTB# -> PIRQC too;
     * 04.0 INTA# -> PIRQD. */
    struct tdev a, b, c;
    tdev_init(&a, r.bus, PCI_DEVFN(3, 0), 1);
    tdev_init(&b, r.bus, PCI_DEVFN(2, 0), 2);
    tdev_init(&c, r.bus, PCI_DEVFN(4, 0), 1);
    pci_set_irq(&a.pci, 1);
    cr_assert_eq(rec.calls, 0); /* PIRQC unrouted */
    cr_assert(cfgr(&r, 3, 0, 6, 1) & PCI_STATUS_INTERRUPT);
    cfgw(&r, 1, 0, 0x62, 11, 1);
    cr_assert_eq(rec.level[11], 1);
    pci_set_irq(&b.pci, 1);
    pci_set_irq(&a.pci, 0);
    cr_assert_eq(rec.level[11], 1); /* b still holds the shared PIRQ */
    cr_assert_eq(cfgr(&r, 3, 0, 6, 1) & PCI_STATUS_INTERRUPT, 0);
    pci_set_irq(&b.pci, 0);
    cr_assert_eq(rec.level[11], 0);
    /* PIRQD to the same IRQ 11 as PIRQC: the ISA IRQ is their OR. */
    cfgw(&r, 1, 0, 0x63, 11, 1);
    pci_set_irq(&c.pci, 1);
    pci_set_irq(&a.pci, 1);
    cr_assert_eq(rec.level[11], 1);
    pci_set_irq(&c.pci, 0);
    cr_assert_eq(rec.level[11], 1);
    pci_set_irq(&a.pci, 0);
    cr_assert_eq(rec.level[11], 0);
    /* Re-routing moves an asserted level. */
    pci_set_irq(&a.pci, 1);
    cfgw(&r, 1, 0, 0x62, 10, 1);
    cr_assert_eq(rec.level[11], 0);
    cr_assert_eq(rec.level[10], 1);
    /* Routing disabled (bit 7) and reserved IRQ values drop it. */
    cfgw(&r, 1, 0, 0x62, 0x8a, 1);
    cr_assert_eq(rec.level[10], 0);
    cfgw(&r, 1, 0, 0x62, 2, 1);
    cr_assert_eq(rec.level[2], 0);
    cfgw(&r, 1, 0, 0x62, 10, 1);
    cr_assert_eq(rec.level[10], 1);
    /* Interrupt Disable in the command register gates INTx, status
     * still shows it. */
    cfgw(&r, 3, 0, 4, PCI_COMMAND_INTX_DISABLE, 2);
    cr_assert_eq(rec.level[10], 0);
    cr_assert(cfgr(&r, 3, 0, 6, 1) & PCI_STATUS_INTERRUPT);
    cfgw(&r, 3, 0, 4, 0, 2);
    cr_assert_eq(rec.level[10], 1);
    /* Slot 1 INTA# -> PIRQA (the PIIX3's own IDE/USB slot). */
    struct tdev f;
    tdev_init(&f, r.bus, PCI_DEVFN(1, 2), 1);
    cfgw(&r, 1, 0, 0x60, 9, 1);
    pci_set_irq(&f.pci, 1);
    cr_assert_eq(rec.level[9], 1);
    pci_set_irq(&f.pci, 0);
    cr_assert_eq(rec.level[9], 0);
    pci_device_unregister(&f.pci);
    pci_device_unregister(&a.pci);
    pci_device_unregister(&b.pci);
    pci_device_unregister(&c.pci);
    piix3_free(p);
    rig_free(&r);
}

Test(pci, piix3_reset_control_register)
{
    struct rig r = rig_new();
    struct irq_line lines[16] = { 0 };
    struct reset_rec rr = { 0 };
    struct piix3 *p = piix3_new(r.bus, PIIX3_DEVFN, lines, reset_fn, &rr);
    cr_assert_eq(io_read(r.io, 0xcf9, 1), 0);
    io_write(r.io, 0xcf9, 0x02, 1);
    cr_assert_eq(rr.count, 0);
    cr_assert_eq(io_read(r.io, 0xcf9, 1), 0x02);
    io_write(r.io, 0xcf9, 0x06, 1);
    cr_assert_eq(rr.count, 1);
    cr_assert(rr.hard);
    io_write(r.io, 0xcf9, 0x00, 1);
    io_write(r.io, 0xcf9, 0x04, 1);
    cr_assert_eq(rr.count, 2);
    cr_assert(!rr.hard);
    /* A dword write to 0xCF8 is CONFIG_ADDRESS, not a reset. */
    io_write(r.io, 0xcf8, 0x80000000u | 0x0600u, 4);
    cr_assert_eq(rr.count, 2);
    /* A word write covering 0xCF9 is a reset register cycle. */
    io_write(r.io, 0xcf8, 0x0000, 2);
    io_write(r.io, 0xcf8, 0x0600, 2);
    cr_assert_eq(rr.count, 3);
    cr_assert(rr.hard);
    piix3_free(p);
    rig_free(&r);
}

/* ---- i440FX ---- */

Test(pci, i440fx_identity_and_pam)
{
    struct rig r = rig_new();
    uint8_t *ram = calloc(1, 2u << 20);
    uint8_t *bios = aligned_alloc(4096, 128 * KIB);
    memset(bios, 0xb1, 128 * KIB);
    for (unsigned i = 0; i < 1u << 20; i++)
        ram[i] = (uint8_t)(i >> 12);
    cr_assert_eq(phys_map_ram(r.pm, 0, 2u << 20, ram), 0);
    cr_assert_eq(phys_map_rom(r.pm, 0xe0000, 128 * KIB, bios), 0);
    struct i440fx *h = i440fx_new(r.bus, r.pm, ram, 2u << 20);
    cr_assert_not_null(h);
    cr_assert_eq(cfgr(&r, 0, 0, 0, 4), 0x12378086u);
    cr_assert_eq(cfgr(&r, 0, 0, 0x08, 4), 0x06000002u);
    cr_assert_eq(cfgr(&r, 0, 0, 0x0e, 1), 0);
    cr_assert_eq(cfgr(&r, 0, 0, 0x58, 4), 0x00000010u); /* DRAMT, PAM0-2 */
    cr_assert_eq(cfgr(&r, 0, 0, 0x5c, 4), 0);
    cr_assert_eq(cfgr(&r, 0, 0, 0x60, 1), 0); /* DRB: 2 MiB is < 8 MiB */
    cr_assert_eq(cfgr(&r, 0, 0, 0x72, 1), 0x02);
    /* PAM 00: the ROM at E0000-FFFFF, nothing at C0000-DFFFF. */
    cr_assert_eq(phys_read(r.pm, 0xf0000, 1), 0xb1);
    cr_assert_eq(phys_read(r.pm, 0xc8000, 4), 0xffffffffu);
    phys_write(r.pm, 0xf0000, 0x11, 1);
    cr_assert_eq(ram[0xf0000], 0xf0);
    /* F0000 write-only: reads the ROM, writes land in RAM (shadowing). */
    cfgw(&r, 0, 0, 0x59, 0x20, 1);
    phys_write(r.pm, 0xf0010, 0x77, 1);
    cr_assert_eq(phys_read(r.pm, 0xf0010, 1), 0xb1);
    cr_assert_eq(ram[0xf0010], 0x77);
    /* Read/write: RAM. */
    cfgw(&r, 0, 0, 0x59, 0x30, 1);
    cr_assert_eq(phys_read(r.pm, 0xf0010, 1), 0x77);
    cr_assert_eq(phys_read(r.pm, 0xff000, 1), 0xff);
    phys_write(r.pm, 0xf0020, 0x55, 1);
    cr_assert_eq(ram[0xf0020], 0x55);
    /* Read-only: RAM reads, writes dropped. */
    cfgw(&r, 0, 0, 0x59, 0x10, 1);
    phys_write(r.pm, 0xf0020, 0x66, 1);
    cr_assert_eq(ram[0xf0020], 0x55);
    cr_assert_eq(phys_read(r.pm, 0xf0020, 1), 0x55);
    /* Reserved low nibble of PAM0 stays 0. */
    cfgw(&r, 0, 0, 0x59, 0xff, 1);
    cr_assert_eq(cfgr(&r, 0, 0, 0x59, 1), 0x30);
    /* PAM1 low nibble = C0000-C3FFF, high = C4000-C7FFF, separately. */
    cfgw(&r, 0, 0, 0x5a, 0x03, 1);
    cr_assert_eq(phys_read(r.pm, 0xc1000, 1), 0xc1);
    cr_assert_eq(phys_read(r.pm, 0xc4000, 1), 0xff);
    cfgw(&r, 0, 0, 0x5a, 0x30, 1);
    cr_assert_eq(phys_read(r.pm, 0xc1000, 1), 0xff);
    cr_assert_eq(phys_read(r.pm, 0xc5000, 1), 0xc5);
    /* PAM6 high nibble = EC000-EFFFF: back to the ROM when cleared. */
    cfgw(&r, 0, 0, 0x5f, 0x30, 1);
    cr_assert_eq(phys_read(r.pm, 0xec000, 1), 0xec);
    cr_assert_eq(phys_read(r.pm, 0xe8000, 1), 0xb1);
    cfgw(&r, 0, 0, 0x5f, 0x00, 1);
    cr_assert_eq(phys_read(r.pm, 0xec000, 1), 0xb1);
    /* A dword write covering PAM3-PAM6. */
    cfgw(&r, 0, 0, 0x5c, 0x33333333u, 4);
    cr_assert_eq(phys_read(r.pm, 0xd0000, 1), 0xd0);
    cr_assert_eq(phys_read(r.pm, 0xef000, 1), 0xef);
    /* SMRAM: D_LCK locks it and forces D_OPEN off. */
    cfgw(&r, 0, 0, 0x72, 0x4a, 1);
    cr_assert_eq(cfgr(&r, 0, 0, 0x72, 1), 0x4a);
    cfgw(&r, 0, 0, 0x72, 0x1a, 1);
    cr_assert_eq(cfgr(&r, 0, 0, 0x72, 1), 0x1a);
    cfgw(&r, 0, 0, 0x72, 0x48, 1);
    cr_assert_eq(cfgr(&r, 0, 0, 0x72, 1), 0x1a);
    /* Reset: PAM back to 0, the ROM shows again. */
    pci_bus_reset(r.bus);
    cr_assert_eq(cfgr(&r, 0, 0, 0x5c, 4), 0);
    cr_assert_eq(phys_read(r.pm, 0xf0020, 1), 0xb1);
    cr_assert_eq(phys_read(r.pm, 0xd0000, 1), 0xff);
    cr_assert_eq(cfgr(&r, 0, 0, 0x72, 1), 0x02);
    i440fx_free(h);
    /* Freed: what lay beneath (RAM at C0000, ROM at E0000) shows. */
    cr_assert_eq(phys_read(r.pm, 0xd0000, 1), 0xd0);
    cr_assert_eq(phys_read(r.pm, 0xf0000, 1), 0xb1);
    rig_free(&r);
    free(ram);
    free(bios);
}

/*
 * i440FX SMRAM (82441FX datasheet, SMRAM register 72h): outside SMM (Glass
 * has none) a CPU cycle to A0000-BFFFF reaches DRAM when G_SMRAME and
 * D_OPEN are set (and D_CLS clear), else the VGA window; bus masters
 * always reach the VGA. D_LCK clears D_OPEN and locks it until reset.
 */
Test(pci, i440fx_smram_open_to_cpu_not_dma)
{
    struct rig r = rig_new();
    uint8_t *ram = calloc(1, 2u << 20);
    memset(ram + 0xa0000, 0xa5, 0x20000);
    cr_assert_eq(phys_map_ram(r.pm, 0, 2u << 20, ram), 0);
    struct i440fx *h = i440fx_new(r.bus, r.pm, ram, 2u << 20);
    cr_assert_not_null(h);
    struct tdev vga; /* the VGA window: reads give the low address byte */
    memset(&vga, 0, sizeof(vga));
    cr_assert_eq(phys_map_mmio(r.pm, 0xa0000, 0x20000, &tdev_ops, &vga), 0);
    uint8_t b;

    /* Power-on 02h: the VGA. */
    cr_assert_eq(phys_read(r.pm, 0xa0010, 1), 0x10);
    /* D_OPEN | G_SMRAME: the CPU reaches DRAM over all 128 KiB ... */
    cfgw(&r, 0, 0, 0x72, 0x4a, 1);
    cr_assert_eq(cfgr(&r, 0, 0, 0x72, 1), 0x4a);
    cr_assert_eq(phys_read(r.pm, 0xa0010, 1), 0xa5);
    cr_assert_eq(phys_read(r.pm, 0xbfff0, 4), 0xa5a5a5a5u);
    int vga_writes = vga.writes;
    phys_write(r.pm, 0xb8000, 0x77, 1);
    cr_assert_eq(ram[0xb8000], 0x77);
    cr_assert_eq(vga.writes, vga_writes);
    /* ... bus masters still the VGA, which keeps its window. */
    phys_dma_read_buf(r.pm, 0xa0020, &b, 1);
    cr_assert_eq(b, 0x20);
    b = 0x99;
    phys_dma_write_buf(r.pm, 0xb8000, &b, 1);
    cr_assert_eq(vga.writes, vga_writes + 1);
    cr_assert_eq(ram[0xb8000], 0x77);
    /* D_OPEN without G_SMRAME: the SMRAM functions are off. */
    cfgw(&r, 0, 0, 0x72, 0x42, 1);
    cr_assert_eq(phys_read(r.pm, 0xa0010, 1), 0x10);
    /* D_OPEN with D_CLS (undefined): D_CLS wins, the VGA. */
    cfgw(&r, 0, 0, 0x72, 0x6a, 1);
    cr_assert_eq(phys_read(r.pm, 0xa0010, 1), 0x10);
    /* D_CLS alone: outside SMM it changes nothing. */
    cfgw(&r, 0, 0, 0x72, 0x2a, 1);
    cr_assert_eq(phys_read(r.pm, 0xa0010, 1), 0x10);
    /* Open, then lock: D_OPEN clears, the VGA shows, nothing reopens it. */
    cfgw(&r, 0, 0, 0x72, 0x4a, 1);
    cr_assert_eq(phys_read(r.pm, 0xa0010, 1), 0xa5);
    cfgw(&r, 0, 0, 0x72, 0x5a, 1);
    cr_assert_eq(cfgr(&r, 0, 0, 0x72, 1), 0x1a);
    cr_assert_eq(phys_read(r.pm, 0xa0010, 1), 0x10);
    cfgw(&r, 0, 0, 0x72, 0x4a, 1);
    cr_assert_eq(cfgr(&r, 0, 0, 0x72, 1), 0x1a);
    cr_assert_eq(phys_read(r.pm, 0xa0010, 1), 0x10);
    cfgw(&r, 0, 0, 0x72, 0x02, 1); /* G_SMRAME is locked too */
    cr_assert_eq(cfgr(&r, 0, 0, 0x72, 1), 0x1a);
    /* Reset unlocks; open again, then free the bridge open: the VGA. */
    pci_bus_reset(r.bus);
    cr_assert_eq(cfgr(&r, 0, 0, 0x72, 1), 0x02);
    cfgw(&r, 0, 0, 0x72, 0x4a, 1);
    cr_assert_eq(phys_read(r.pm, 0xa0010, 1), 0xa5);
    pci_bus_reset(r.bus);
    cr_assert_eq(phys_read(r.pm, 0xa0010, 1), 0x10);
    cfgw(&r, 0, 0, 0x72, 0x4a, 1);
    i440fx_free(h);
    cr_assert_eq(phys_read(r.pm, 0xa0010, 1), 0x10);
    rig_free(&r);
    free(ram);
}
