/*
 * hw/pci.c — PCI bus 0: configuration mechanism #1 (PCI Local Bus
 * Specification 2.1, 3.7.4.1), the type 0 configuration header (PCI 3.0
 * chapter 6), BAR decoding and INTx delivery to an interrupt router.
 *
 * Each function keeps its 256 configuration bytes with a write mask and
 * a write-1-to-clear mask, so most of the header's semantics are data:
 * read-only registers are bytes with a zero mask, BAR sizing falls out of
 * the BAR's mask (the low address bits below the size are read-only 0,
 * PCI 3.0 6.2.5.1). After each write the bus recomputes what every BAR of
 * the function decodes and moves the mappings (see pci.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hw/pci.h"

struct pci_bus {
    struct phys_mem *pm;
    struct io_space *io;
    struct pci_device *dev[256];
    uint32_t config_address; /* CONFIG_ADDRESS (0xCF8) */
    void (*route)(void *opaque, struct pci_device *d, int pin, int level);
    void *route_opaque;
    const struct mem_ops *cf8_ops; /* byte/word cycles to 0xCF8-0xCFB */
    void *cf8_opaque;
};

/* CONFIG_ADDRESS: bit 31 enable, 23:16 bus, 15:11 device, 10:8 function,
 * 7:2 register; 30:24 reserved and 1:0 read as 0 (PCI 2.1 3.7.4.1). */
#define CFG_ADDR_ENABLE 0x80000000u
#define CFG_ADDR_MASK 0x80fffffcu

/* ------------------------------------------------------------------ */
/* Config space byte helpers                                           */
/* ------------------------------------------------------------------ */

void pci_set_byte(struct pci_device *d, unsigned o, uint8_t v)
{
    if (o < PCI_CONFIG_SIZE)
        d->config[o] = v;
}

void pci_set_word(struct pci_device *d, unsigned o, uint16_t v)
{
    pci_set_byte(d, o, (uint8_t)v);
    pci_set_byte(d, o + 1, (uint8_t)(v >> 8));
}

void pci_set_long(struct pci_device *d, unsigned o, uint32_t v)
{
    pci_set_word(d, o, (uint16_t)v);
    pci_set_word(d, o + 2, (uint16_t)(v >> 16));
}

uint8_t pci_get_byte(const struct pci_device *d, unsigned o)
{
    return o < PCI_CONFIG_SIZE ? d->config[o] : 0;
}

uint16_t pci_get_word(const struct pci_device *d, unsigned o)
{
    return (uint16_t)(pci_get_byte(d, o) | pci_get_byte(d, o + 1) << 8);
}

uint32_t pci_get_long(const struct pci_device *d, unsigned o)
{
    return (uint32_t)pci_get_word(d, o) | (uint32_t)pci_get_word(d, o + 2) << 16;
}

static void set_mask_word(uint8_t *m, unsigned o, uint16_t v)
{
    m[o] = (uint8_t)v;
    m[o + 1] = (uint8_t)(v >> 8);
}

static void set_mask_long(uint8_t *m, unsigned o, uint32_t v)
{
    set_mask_word(m, o, (uint16_t)v);
    set_mask_word(m, o + 2, (uint16_t)(v >> 16));
}

/* ------------------------------------------------------------------ */
/* BAR decoding                                                        */
/* ------------------------------------------------------------------ */

static unsigned bar_offset(int bar)
{
    return bar == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BAR0 + 4u * (unsigned)bar;
}

/* I/O BARs see port-relative offsets like memory BARs (pci.h). */
static uint64_t io_bar_read(void *opaque, uint64_t port, unsigned size)
{
    struct pci_bar *b = opaque;
    if (!b->ops || !b->ops->read)
        return ~0ull;
    return b->ops->read(b->opaque, port - b->mapped, size);
}

static void io_bar_write(void *opaque, uint64_t port, uint64_t val, unsigned size)
{
    struct pci_bar *b = opaque;
    if (b->ops && b->ops->write)
        b->ops->write(b->opaque, port - b->mapped, val, size);
}

static const struct mem_ops io_bar_ops = { .read = io_bar_read, .write = io_bar_write };

/* The address BAR `i` should decode now, or PCI_BAR_UNMAPPED. */
static uint32_t bar_target(const struct pci_device *d, int i)
{
    const struct pci_bar *b = &d->bars[i];
    if (!b->declared)
        return PCI_BAR_UNMAPPED;
    uint16_t cmd = pci_get_word(d, PCI_COMMAND);
    uint32_t reg = pci_get_long(d, bar_offset(i));
    if (b->type == PCI_BAR_IO) {
        uint32_t a = reg & ~3u;
        if (!(cmd & PCI_COMMAND_IO) || a == 0 || (uint64_t)a + b->size > 0x10000)
            return PCI_BAR_UNMAPPED;
        /* The host bridge answers 0xCF8-0xCFF before any device would. */
        if (a < 0xd00 && a + b->size > 0xcf8)
            return PCI_BAR_UNMAPPED;
        return a;
    }
    if (i == PCI_ROM_SLOT && !(reg & PCI_ROM_ENABLE))
        return PCI_BAR_UNMAPPED;
    uint32_t a = i == PCI_ROM_SLOT ? reg & ~0x7ffu : reg & ~0xfu;
    if (!(cmd & PCI_COMMAND_MEMORY) || a == 0 || (uint64_t)a + b->size > (1ull << 32))
        return PCI_BAR_UNMAPPED;
    return a;
}

static void bar_unmap(struct pci_device *d, int i)
{
    struct pci_bar *b = &d->bars[i];
    if (b->mapped == PCI_BAR_UNMAPPED)
        return;
    if (b->type == PCI_BAR_IO)
        io_unregister(d->bus->io, (uint16_t)b->mapped, b->size);
    else
        phys_unmap(d->bus->pm, b->mapped, b->size);
    b->mapped = PCI_BAR_UNMAPPED;
}

static void bar_map(struct pci_device *d, int i, uint32_t a)
{
    struct pci_bar *b = &d->bars[i];
    int r;
    if (b->type == PCI_BAR_IO)
        r = io_register(d->bus->io, (uint16_t)a, b->size, &io_bar_ops, b);
    else if (i == PCI_ROM_SLOT)
        r = phys_map_rom(d->bus->pm, a, b->size, b->host);
    else if (b->host)
        r = phys_map_ram(d->bus->pm, a, b->size, b->host);
    else
        r = phys_map_mmio(d->bus->pm, a, b->size, b->ops, b->opaque);
    b->mapped = r == 0 ? a : PCI_BAR_UNMAPPED;
}

/* Brings every BAR's mapping in line with the header. */
static void update_mappings(struct pci_device *d)
{
    for (int i = 0; i <= PCI_ROM_SLOT; i++) {
        uint32_t t = bar_target(d, i);
        if (t == d->bars[i].mapped)
            continue;
        bar_unmap(d, i);
        if (t != PCI_BAR_UNMAPPED)
            bar_map(d, i, t);
        if (d->bar_mapped)
            d->bar_mapped(d, i, d->bars[i].mapped);
    }
}

int pci_add_capability(struct pci_device *d, uint8_t cap_id, unsigned offset, unsigned len)
{
    if (!d || !d->registered || offset < 0x40 || (offset & 3) || len < 2 ||
        offset + len > PCI_CONFIG_SIZE)
        return -1;
    /* Refuse overlap with the capabilities already listed. Each one's
     * extent is unknown here, so only the two header bytes are checked,
     * and the walk is bounded against loops. */
    unsigned p = d->config[PCI_CAPABILITY_LIST];
    for (int n = 0; p && p < PCI_CONFIG_SIZE - 1 && n < 48; n++) {
        if (p + 2 > offset && p < offset + len)
            return -1;
        p = d->config[p + 1];
    }
    d->config[offset] = cap_id;
    d->config[offset + 1] = d->config[PCI_CAPABILITY_LIST];
    d->wmask[offset] = d->wmask[offset + 1] = 0;
    d->config[PCI_CAPABILITY_LIST] = (uint8_t)offset;
    d->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    return (int)offset;
}

uint32_t pci_bar_address(const struct pci_device *d, int bar)
{
    if (bar < 0 || bar > PCI_ROM_SLOT)
        return PCI_BAR_UNMAPPED;
    return d->bars[bar].mapped;
}

static bool pow2(uint32_t x)
{
    return x && !(x & (x - 1));
}

static int declare_bar(struct pci_device *d, int bar, enum pci_bar_type type, uint32_t size,
                       const struct mem_ops *ops, void *opaque, uint8_t *host)
{
    if (!d || !d->registered || bar < 0 || bar > PCI_ROM_SLOT || !pow2(size))
        return -1;
    if (type == PCI_BAR_IO) {
        if (bar == PCI_ROM_SLOT || size < 4 || size > 256)
            return -1;
    } else {
        if (type != PCI_BAR_MEM32 && type != PCI_BAR_MEM32_PREFETCH)
            return -1;
        if (size > 0x80000000u)
            return -1;
        if (size < 4096)
            size = 4096; /* page-granular physical map (pci.h) */
    }
    struct pci_bar *b = &d->bars[bar];
    bar_unmap(d, bar);
    *b = (struct pci_bar){ .size = size, .type = (uint8_t)type, .declared = true, .ops = ops,
                           .opaque = opaque, .host = host, .mapped = PCI_BAR_UNMAPPED,
                           .dev = d };
    unsigned o = bar_offset(bar);
    if (bar == PCI_ROM_SLOT) {
        set_mask_long(d->wmask, o, (~(size - 1) & ~0x7ffu) | PCI_ROM_ENABLE);
        pci_set_long(d, o, 0);
    } else if (type == PCI_BAR_IO) {
        set_mask_long(d->wmask, o, ~(size - 1) & ~3u);
        pci_set_long(d, o, PCI_BAR_SPACE_IO);
    } else {
        set_mask_long(d->wmask, o, ~(size - 1) & ~0xfu);
        pci_set_long(d, o, type == PCI_BAR_MEM32_PREFETCH ? PCI_BAR_MEM_PREFETCH : 0);
    }
    update_mappings(d);
    return 0;
}

int pci_register_bar(struct pci_device *d, int bar, enum pci_bar_type type, uint32_t size,
                     const struct mem_ops *ops, void *opaque)
{
    if (!ops || bar == PCI_ROM_SLOT)
        return -1;
    return declare_bar(d, bar, type, size, ops, opaque, NULL);
}

int pci_register_bar_ram(struct pci_device *d, int bar, enum pci_bar_type type, uint32_t size,
                         uint8_t *host)
{
    if (!host || type == PCI_BAR_IO || bar == PCI_ROM_SLOT)
        return -1;
    return declare_bar(d, bar, type, size, NULL, NULL, host);
}

int pci_register_rom(struct pci_device *d, uint32_t size, uint8_t *image)
{
    if (!image)
        return -1;
    return declare_bar(d, PCI_ROM_SLOT, PCI_BAR_MEM32, size, NULL, NULL, image);
}

/* ------------------------------------------------------------------ */
/* INTx                                                                */
/* ------------------------------------------------------------------ */

static int intx_effective(const struct pci_device *d)
{
    return d->irq_level && !(pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
}

/* Tells the router when the effective level changed. `was` is the level
 * before the change. */
static void intx_update(struct pci_device *d, int was)
{
    int now = intx_effective(d);
    uint8_t pin = d->config[PCI_INTERRUPT_PIN];
    if (now != was && pin >= 1 && pin <= 4 && d->bus->route)
        d->bus->route(d->bus->route_opaque, d, pin - 1, now);
}

void pci_set_irq(struct pci_device *d, int level)
{
    if (!d || !d->registered)
        return;
    int was = intx_effective(d);
    d->irq_level = level ? 1 : 0;
    /* Status bit 3 follows the device's INTx regardless of Interrupt
     * Disable (PCI 3.0 6.2.3). */
    if (d->irq_level)
        d->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    else
        d->config[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
    intx_update(d, was);
}

bool pci_bus_master_enabled(const struct pci_device *d)
{
    return (pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_MASTER) != 0;
}

/* ------------------------------------------------------------------ */
/* Config accesses                                                     */
/* ------------------------------------------------------------------ */

uint32_t pci_default_config_read(struct pci_device *d, unsigned offset, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size && offset + i < PCI_CONFIG_SIZE; i++)
        v |= (uint32_t)d->config[offset + i] << (8 * i);
    return v;
}

void pci_default_config_write(struct pci_device *d, unsigned offset, uint32_t val,
                              unsigned size)
{
    int was = intx_effective(d);
    bool bars = false;
    for (unsigned i = 0; i < size && offset + i < PCI_CONFIG_SIZE; i++) {
        unsigned o = offset + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint8_t m = d->wmask[o];
        d->config[o] = (uint8_t)((d->config[o] & ~m) | (b & m));
        d->config[o] &= (uint8_t)~(b & d->w1cmask[o]);
        if (o == PCI_COMMAND || o == PCI_COMMAND + 1 || (o >= PCI_BAR0 && o < PCI_CARDBUS_CIS) ||
            (o >= PCI_ROM_ADDRESS && o < PCI_ROM_ADDRESS + 4))
            bars = true;
    }
    if (bars)
        update_mappings(d);
    intx_update(d, was);
}

/* One access that stays within a dword of the function's space. */
static uint32_t dev_read(struct pci_device *d, unsigned offset, unsigned size)
{
    if (d->config_read)
        return d->config_read(d, offset, size);
    return pci_default_config_read(d, offset, size);
}

static void dev_write(struct pci_device *d, unsigned offset, uint32_t val, unsigned size)
{
    if (d->config_write)
        d->config_write(d, offset, val, size);
    else
        pci_default_config_write(d, offset, val, size);
}

static uint32_t ones(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static bool access_ok(int devfn, unsigned offset, unsigned size)
{
    return devfn >= 0 && devfn < 256 && (size == 1 || size == 2 || size == 4) &&
           offset < PCI_CONFIG_SIZE && (offset & 3) + size <= 4;
}

uint32_t pci_config_read(struct pci_bus *bus, int devfn, unsigned offset, unsigned size)
{
    if (!access_ok(devfn, offset, size) || !bus->dev[devfn])
        return ones(size); /* master abort: all ones (PCI 3.0 6.1) */
    return dev_read(bus->dev[devfn], offset, size) & ones(size);
}

void pci_config_write(struct pci_bus *bus, int devfn, unsigned offset, uint32_t val,
                      unsigned size)
{
    if (!access_ok(devfn, offset, size) || !bus->dev[devfn])
        return;
    dev_write(bus->dev[devfn], offset, val & ones(size), size);
}

/* ------------------------------------------------------------------ */
/* Ports 0xCF8-0xCFF                                                   */
/* ------------------------------------------------------------------ */

/* The function and register CONFIG_ADDRESS selects for data port byte
 * `port` (0xCFC..0xCFF); false when disabled or not bus 0. */
static bool data_target(const struct pci_bus *bus, unsigned port, int *devfn,
                        unsigned *offset)
{
    uint32_t a = bus->config_address;
    if (!(a & CFG_ADDR_ENABLE) || ((a >> 16) & 0xff) != 0)
        return false;
    *devfn = (int)((a >> 8) & 0xff);
    *offset = (a & 0xfc) + (port - PCI_CONFIG_DATA_PORT);
    return true;
}

static uint64_t cfg_port_read(void *opaque, uint64_t port, unsigned size)
{
    struct pci_bus *bus = opaque;
    if (port == PCI_CONFIG_ADDRESS_PORT && size == 4)
        return bus->config_address;
    if (port < PCI_CONFIG_DATA_PORT && port + size > PCI_CONFIG_DATA_PORT) {
        /* Straddles both registers: byte cycles, as the bus splits them. */
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= (cfg_port_read(opaque, port + i, 1) & 0xff) << (8 * i);
        return v;
    }
    if (port < PCI_CONFIG_DATA_PORT) {
        if (bus->cf8_ops && bus->cf8_ops->read)
            return bus->cf8_ops->read(bus->cf8_opaque, port, size);
        return ones(size);
    }
    int devfn;
    unsigned offset;
    if (!data_target(bus, (unsigned)port, &devfn, &offset))
        return ones(size);
    return pci_config_read(bus, devfn, offset, size);
}

static void cfg_port_write(void *opaque, uint64_t port, uint64_t val, unsigned size)
{
    struct pci_bus *bus = opaque;
    if (port == PCI_CONFIG_ADDRESS_PORT && size == 4) {
        bus->config_address = (uint32_t)val & CFG_ADDR_MASK;
        return;
    }
    if (port < PCI_CONFIG_DATA_PORT && port + size > PCI_CONFIG_DATA_PORT) {
        for (unsigned i = 0; i < size; i++)
            cfg_port_write(opaque, port + i, (val >> (8 * i)) & 0xff, 1);
        return;
    }
    if (port < PCI_CONFIG_DATA_PORT) {
        if (bus->cf8_ops && bus->cf8_ops->write)
            bus->cf8_ops->write(bus->cf8_opaque, port, val, size);
        return;
    }
    int devfn;
    unsigned offset;
    if (data_target(bus, (unsigned)port, &devfn, &offset))
        pci_config_write(bus, devfn, offset, (uint32_t)val, size);
}

static const struct mem_ops cfg_port_ops = { .read = cfg_port_read, .write = cfg_port_write };

/* ------------------------------------------------------------------ */
/* Bus and registration                                                */
/* ------------------------------------------------------------------ */

struct pci_bus *pci_bus_new(struct phys_mem *pm, struct io_space *io)
{
    struct pci_bus *bus = calloc(1, sizeof(*bus));
    if (!bus)
        return NULL;
    bus->pm = pm;
    bus->io = io;
    if (io_register(io, PCI_CONFIG_ADDRESS_PORT, 8, &cfg_port_ops, bus) != 0) {
        free(bus);
        return NULL;
    }
    return bus;
}

void pci_bus_free(struct pci_bus *bus)
{
    if (!bus)
        return;
    for (int i = 0; i < 256; i++)
        if (bus->dev[i])
            pci_device_unregister(bus->dev[i]);
    io_unregister(bus->io, PCI_CONFIG_ADDRESS_PORT, 8);
    free(bus);
}

struct pci_device *pci_bus_device(struct pci_bus *bus, int devfn)
{
    return devfn >= 0 && devfn < 256 ? bus->dev[devfn] : NULL;
}

void pci_bus_set_irq_router(struct pci_bus *bus,
                            void (*route)(void *opaque, struct pci_device *d, int pin, int level),
                            void *opaque)
{
    bus->route = route;
    bus->route_opaque = opaque;
}

void pci_bus_set_cf8_io(struct pci_bus *bus, const struct mem_ops *ops, void *opaque)
{
    bus->cf8_ops = ops;
    bus->cf8_opaque = opaque;
}

/* The header's power-on state for the registers the guest may change
 * (PCI 3.0 6.2: command 0 so that nothing decodes; BARs 0). */
static void header_reset(struct pci_device *d)
{
    int was = intx_effective(d);
    pci_set_word(d, PCI_COMMAND, 0);
    d->config[PCI_STATUS + 1] &= (uint8_t)~(PCI_STATUS_W1C >> 8);
    d->config[PCI_STATUS] &= (uint8_t)~(PCI_STATUS_W1C & 0xff);
    d->config[PCI_CACHE_LINE_SIZE] = 0;
    d->config[PCI_LATENCY_TIMER] = 0;
    for (int i = 0; i <= PCI_ROM_SLOT; i++) {
        unsigned o = bar_offset(i);
        /* Keep the read-only type bits, clear the address. */
        pci_set_long(d, o, pci_get_long(d, o) & ~(d->wmask[o] | (uint32_t)d->wmask[o + 1] << 8 |
                                                  (uint32_t)d->wmask[o + 2] << 16 |
                                                  (uint32_t)d->wmask[o + 3] << 24));
    }
    d->config[PCI_INTERRUPT_LINE] = 0xff;
    update_mappings(d);
    intx_update(d, was);
}

int pci_device_register(struct pci_bus *bus, struct pci_device *d, int devfn,
                        const struct pci_device_info *info, void *opaque)
{
    if (!bus || !d || !info || devfn < 0 || devfn > 255 || bus->dev[devfn] ||
        info->interrupt_pin > 4)
        return -1;
    memset(d, 0, sizeof(*d));
    d->bus = bus;
    d->devfn = (uint8_t)devfn;
    d->opaque = opaque;
    d->registered = true;
    for (int i = 0; i <= PCI_ROM_SLOT; i++)
        d->bars[i].mapped = PCI_BAR_UNMAPPED;
    pci_set_word(d, PCI_VENDOR_ID, info->vendor_id);
    pci_set_word(d, PCI_DEVICE_ID, info->device_id);
    pci_set_byte(d, PCI_REVISION_ID, info->revision);
    pci_set_byte(d, PCI_CLASS_PROG, info->class_prog);
    pci_set_byte(d, PCI_CLASS_SUB, info->class_sub);
    pci_set_byte(d, PCI_CLASS_BASE, info->class_base);
    pci_set_byte(d, PCI_HEADER_TYPE,
                 (uint8_t)((info->header_type & 0x7f) |
                           (info->multifunction ? PCI_HEADER_TYPE_MULTI : 0)));
    pci_set_word(d, PCI_SUBSYSTEM_VENDOR_ID, info->subsystem_vendor_id);
    pci_set_word(d, PCI_SUBSYSTEM_ID, info->subsystem_id);
    pci_set_byte(d, PCI_INTERRUPT_PIN, info->interrupt_pin);
    pci_set_word(d, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM);
    pci_set_byte(d, PCI_INTERRUPT_LINE, 0xff);
    set_mask_word(d->wmask, PCI_COMMAND,
                  PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                      PCI_COMMAND_SPECIAL | PCI_COMMAND_INVALIDATE | PCI_COMMAND_VGA_PALETTE |
                      PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_FAST_BACK |
                      PCI_COMMAND_INTX_DISABLE);
    set_mask_word(d->w1cmask, PCI_STATUS, PCI_STATUS_W1C);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_LATENCY_TIMER] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    bus->dev[devfn] = d;
    return 0;
}

void pci_device_unregister(struct pci_device *d)
{
    if (!d || !d->registered)
        return;
    for (int i = 0; i <= PCI_ROM_SLOT; i++)
        bar_unmap(d, i);
    pci_set_irq(d, 0);
    d->bus->dev[d->devfn] = NULL;
    d->registered = false;
}

void pci_bus_reset(struct pci_bus *bus)
{
    for (int i = 0; i < 256; i++) {
        struct pci_device *d = bus->dev[i];
        if (!d)
            continue;
        header_reset(d);
        if (d->reset)
            d->reset(d);
    }
    bus->config_address = 0;
}

void pci_device_post_load(struct pci_device *d)
{
    update_mappings(d);
}

static const struct dev_field pci_device_fields[] = {
    { "config", DEV_FIELD_BYTES, offsetof(struct pci_device, config), PCI_CONFIG_SIZE },
    { "irq_level", DEV_FIELD_U8, offsetof(struct pci_device, irq_level), 1 },
    { NULL, 0, 0, 0 },
};

const struct dev_state_desc pci_device_state_desc = { "pci-device", 1, pci_device_fields };

static const struct dev_field pci_bus_fields[] = {
    { "config_address", DEV_FIELD_U32, offsetof(struct pci_bus, config_address), 1 },
    { NULL, 0, 0, 0 },
};

const struct dev_state_desc pci_bus_state_desc = { "pci-bus", 1, pci_bus_fields };

void pci_bus_print_info(const struct pci_bus *bus, FILE *out)
{
    for (int devfn = 0; devfn < 256; devfn++) {
        const struct pci_device *d = bus->dev[devfn];
        if (!d || !d->registered)
            continue;
        const uint8_t *c = d->config;
        fprintf(out, "pci 00:%02x.%x %02x%02x:%02x%02x class %02x%02x%02x command %02x%02x",
                devfn >> 3, devfn & 7, c[PCI_VENDOR_ID + 1], c[PCI_VENDOR_ID],
                c[PCI_DEVICE_ID + 1], c[PCI_DEVICE_ID], c[PCI_CLASS_BASE], c[PCI_CLASS_SUB],
                c[PCI_CLASS_PROG], c[PCI_COMMAND + 1], c[PCI_COMMAND]);
        if (c[PCI_INTERRUPT_PIN])
            fprintf(out, " INT%c# line %u", 'A' + c[PCI_INTERRUPT_PIN] - 1,
                    c[PCI_INTERRUPT_LINE]);
        fputc('\n', out);
        for (int b = 0; b <= PCI_NUM_BARS; b++) {
            const struct pci_bar *bar = &d->bars[b];
            if (!bar->size)
                continue;
            char where[24] = "unmapped";
            if (bar->mapped != PCI_BAR_UNMAPPED)
                snprintf(where, sizeof(where), "at %08x", bar->mapped);
            fprintf(out, "    %s%d %s %u bytes %s\n", b == PCI_NUM_BARS ? "ROM" : "BAR",
                    b == PCI_NUM_BARS ? 0 : b, bar->type == PCI_BAR_IO ? "io " : "mem",
                    bar->size, where);
        }
    }
}
